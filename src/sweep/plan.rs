//! From a scenario with a `[sweep]` table to the list of runs: points in grid order, seeds
//! per point, each run's effective scenario. Every point is built (and so every field
//! checked) before anything runs.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use super::SweepError;
use crate::scenario::expect::Bound;
use crate::scenario::sweep::SweepSpec;
use crate::scenario::{self, Scenario, ScenarioError, Warning, overrides};

/// One grid point.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Index in grid order.
    pub index: usize,
    /// Field path and value, fields in name order.
    pub values: Vec<(String, toml::Value)>,
}

/// One run of the sweep.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// Index in run order (points in order, seeds within a point).
    pub index: usize,
    /// The point.
    pub point: usize,
    /// The seed.
    pub seed: u64,
    /// Folder relative to the sweep folder: `point-000/seed-1`.
    pub dir: String,
    /// The effective scenario of this run (no `[sweep]` table).
    pub scenario: Scenario,
}

/// Everything a sweep will run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The scenario as loaded, `[sweep]` included.
    pub base: Scenario,
    /// Its `[sweep]` table.
    pub spec: SweepSpec,
    /// SHA-1 of the base scenario (sweep included, seed 0): names the sweep.
    pub hash: String,
    /// Grid points.
    pub points: Vec<Point>,
    /// Runs, in run order.
    pub runs: Vec<RunSpec>,
    /// Warnings of the points' scenarios, each once, with the share of points it holds
    /// for when that is not all of them.
    pub warnings: Vec<Warning>,
}

/// Loads `path` with `sets` and expands its `[sweep]` table.
pub fn plan(path: &Path, sets: &[String]) -> Result<Plan, SweepError> {
    let base = scenario::load(path, sets)?;
    let source = path.display().to_string();
    let Some(spec) = base.sweep.clone() else {
        return Err(SweepError::Input(format!(
            "{source}: no [sweep] table: add one with a grid, e.g. [sweep.grid] \"peers.count\" = [64, 128]"
        )));
    };
    let fields: Vec<(&String, &Vec<toml::Value>)> = spec.grid.iter().collect();
    let mut points = Vec::new();
    let total: usize = fields.iter().map(|(_, v)| v.len()).product();
    for index in 0..total {
        let mut rest = index;
        let mut values = vec![(String::new(), toml::Value::Boolean(false)); fields.len()];
        for (k, (field, vals)) in fields.iter().enumerate().rev() {
            values[k] = ((*field).clone(), vals[rest % vals.len()].clone());
            rest /= vals.len();
        }
        points.push(Point { index, values });
    }
    let mut stripped = base.clone();
    stripped.sweep = None;
    let width = points.len().saturating_sub(1).to_string().len().max(3);
    let mut runs = Vec::new();
    let mut warned: Vec<((String, String), usize)> = Vec::new();
    for p in &points {
        let sets: Vec<String> = p.values.iter().map(|(f, v)| format!("{f}={v}")).collect();
        let mut at = overrides::apply(&stripped, &sets).map_err(|e| point_error(&source, p, e))?;
        at.validate().map_err(|(field, message)| {
            point_error(
                &source,
                p,
                ScenarioError {
                    source: source.clone(),
                    position: None,
                    field: Some(field),
                    message,
                },
            )
        })?;
        at.resolve("", &source)
            .map_err(|e| point_error(&source, p, e))?;
        for w in at.warnings() {
            match warned.iter_mut().find(|(seen, _)| *seen == w) {
                Some((_, n)) => *n += 1,
                None => warned.push((w, 1)),
            }
        }
        for k in 0..u64::from(spec.seeds) {
            let mut s = at.clone();
            s.scenario.seed = base.scenario.seed.wrapping_add(k);
            runs.push(RunSpec {
                index: runs.len(),
                point: p.index,
                seed: s.scenario.seed,
                dir: format!("point-{:0width$}/seed-{}", p.index, s.scenario.seed),
                scenario: s,
            });
        }
    }
    let extra: BTreeMap<String, Bound> = spec
        .metrics
        .iter()
        .map(|m| (m.clone(), Bound::default()))
        .collect();
    crate::expect::check_figures(&extra).map_err(|(field, message)| {
        SweepError::Input(format!(
            "{source}: field `sweep.metrics`: {}: {message}",
            field.trim_start_matches("expect.")
        ))
    })?;
    let hash = scenario::scenario_hash(&base);
    let warnings = warned
        .into_iter()
        .map(|((field, message), n)| Warning {
            source: source.clone(),
            position: None,
            field,
            message: if n == points.len() {
                message
            } else {
                format!("{message} (in {n} of {} sweep points)", points.len())
            },
        })
        .collect();
    Ok(Plan {
        base,
        spec,
        hash,
        points,
        runs,
        warnings,
    })
}

fn point_error(source: &str, p: &Point, e: ScenarioError) -> SweepError {
    let field = e.field.clone().unwrap_or_default();
    let value = p
        .values
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, v)| format!(" = {v}"))
        .unwrap_or_default();
    SweepError::Input(format!(
        "{source}: field `sweep.grid.{field}`{value}: {}",
        e.message
    ))
}

impl Plan {
    /// `sweep.json`: what the sweep is, identical for every shard and the merged whole.
    pub fn manifest(&self) -> Value {
        let points: Vec<Value> = self
            .points
            .iter()
            .map(|p| {
                let values: serde_json::Map<String, Value> = p
                    .values
                    .iter()
                    .map(|(f, v)| (f.clone(), serde_json::to_value(v).unwrap_or(Value::Null)))
                    .collect();
                let runs: Vec<&str> = self
                    .runs
                    .iter()
                    .filter(|r| r.point == p.index)
                    .map(|r| r.dir.as_str())
                    .collect();
                json!({ "point": p.index, "values": values, "runs": runs })
            })
            .collect();
        json!({
            "scenario": self.base.scenario.name,
            "scenario_hash": self.hash,
            "seed": self.base.scenario.seed,
            "fields": self.spec.grid.keys().collect::<Vec<_>>(),
            "seeds_per_point": self.spec.seeds,
            "metrics": super::aggregate::metric_names(&self.spec),
            "points": points,
            "crate_version": env!("CARGO_PKG_VERSION"),
        })
    }
}

//! Checking a run against its scenario's `[expect]` bounds, for CI regression: every bound
//! names a figure of `summary.json` by its dotted path.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::report::{Provenance, summary_json};
use crate::runner::simulate;
use crate::scenario::Scenario;
use crate::scenario::bound_expr::json_path;
use crate::scenario::expect::{Bound, Limits};

/// Exit status of `run` and `check` when a bound is violated.
pub const EXIT_VIOLATED: u8 = 3;

/// One bound checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The figure's dotted path in summary.json.
    pub figure: String,
    /// The bound, its expressions evaluated for the scenario as run.
    pub bound: Limits,
    /// The figure's value (`None`: undefined in this run, `null` in summary.json: a rate
    /// or distribution over nothing counted).
    pub measured: Option<f64>,
}

impl Verdict {
    /// True when the figure is defined and lies within the bound: a bound on an undefined
    /// figure does not hold.
    pub fn pass(&self) -> bool {
        self.measured.is_some_and(|v| self.bound.holds(v))
    }

    /// The bound as text: `≥ 0.99`, `≤ 5.5`, `0.9 ..= 1`.
    pub fn bound_text(&self) -> String {
        match (self.bound.min, self.bound.max) {
            (Some(lo), Some(hi)) => format!("{lo} ..= {hi}"),
            (Some(lo), None) => format!(">= {lo}"),
            (None, Some(hi)) => format!("<= {hi}"),
            (None, None) => "any".into(),
        }
    }
}

/// The number at dotted `path` in `summary`. Outcome counters absent from a run
/// (`calls.by_outcome.<label>`) are 0.
pub fn figure(summary: &Value, path: &str) -> Option<f64> {
    match json_path(summary, path) {
        Some(v) => v.as_f64(),
        // An outcome label absent from a run counts 0.
        None if path.starts_with("calls.by_outcome.") && path.split('.').count() == 3 => {
            json_path(summary, "calls.by_outcome").map(|_| 0.0)
        }
        None => None,
    }
}

/// Checks every bound of `expect` against `summary`, in figure order; `fields` is the
/// scenario as run, as JSON ([`Scenario::fields`]), for bounds given as expressions.
/// A bound that does not resolve (the scenario was validated, so only a caller's own
/// bounds can) never holds (its limits are NaN).
pub fn evaluate(summary: &Value, expect: &BTreeMap<String, Bound>, fields: &Value) -> Vec<Verdict> {
    expect
        .iter()
        .map(|(f, b)| Verdict {
            figure: f.clone(),
            bound: b.resolve(fields).unwrap_or(Limits {
                min: Some(f64::NAN),
                max: Some(f64::NAN),
            }),
            measured: figure(summary, f),
        })
        .collect()
}

/// Puts `verdicts` in the order of `figures` (the order the scenario file lists its bounds);
/// figures not in it keep their relative order, after the others.
pub fn in_file_order(verdicts: &mut [Verdict], figures: &[String]) {
    verdicts.sort_by_key(|v| {
        figures
            .iter()
            .position(|f| *f == v.figure)
            .unwrap_or(usize::MAX)
    });
}

/// Every figure path a summary has (numbers, and those that are `null` when undefined),
/// from the summary of a tiny run.
pub fn figure_paths() -> &'static [String] {
    static PATHS: OnceLock<Vec<String>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let mut s = Scenario::default();
        s.peers.count = 1;
        s.scenario.duration_s = 1.0;
        let summary = summary_json(&Provenance::default(), &simulate(&s));
        let mut out = Vec::new();
        flatten("", &summary, &mut out);
        out
    })
}

/// Provenance fields that can be `null` but are no figures.
const NOT_FIGURES: [&str; 2] = ["git_rev", "git_dirty"];

fn flatten(prefix: &str, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, v, out);
            }
        }
        Value::Number(_) => out.push(prefix.to_string()),
        Value::Null if !NOT_FIGURES.contains(&prefix) => out.push(prefix.to_string()),
        _ => {}
    }
}

/// True for `recovery.<event>.<column>`: a numeric column of events.csv for the
/// scheduled event at that position (undefined when the run has no such event).
fn recovery_figure(path: &str) -> bool {
    let parts: Vec<&str> = path.split('.').collect();
    matches!(parts.as_slice(), ["recovery", n, col]
        if n.parse::<usize>().is_ok()
            && crate::report::csv::EVENT_COLUMNS.contains(col)
            && !["action", "label", "recovered"].contains(col))
}

/// Checks that every bound names a known figure, before anything runs. The error names the
/// field (`expect.<path>`) and suggests known figures sharing its first part.
pub fn check_figures(expect: &BTreeMap<String, Bound>) -> Result<(), (String, String)> {
    let known = figure_paths();
    for f in expect.keys() {
        let dynamic =
            (f.starts_with("calls.by_outcome.") && f.split('.').count() == 3) || recovery_figure(f);
        if dynamic || known.iter().any(|k| k == f) {
            continue;
        }
        let head = f.split('.').next().unwrap_or("");
        let near: Vec<&str> = known
            .iter()
            .filter(|k| k.split('.').next() == Some(head))
            .map(String::as_str)
            .take(12)
            .collect();
        let hint = if near.is_empty() {
            "see summary.json for the figures".to_string()
        } else {
            format!("known under `{head}`: {}", near.join(", "))
        };
        return Err((
            format!("expect.{f}"),
            format!("no such figure in summary.json ({hint})"),
        ));
    }
    Ok(())
}

/// `expect.json`: every bound, its measured value and whether it held.
pub fn verdicts_json(verdicts: &[Verdict]) -> Value {
    let rows: Vec<Value> = verdicts
        .iter()
        .map(|v| {
            json!({
                "figure": v.figure,
                "min": v.bound.min,
                "max": v.bound.max,
                "measured": v.measured,
                "undefined": v.measured.is_none(),
                "pass": v.pass(),
            })
        })
        .collect();
    json!({ "pass": verdicts.iter().all(Verdict::pass), "bounds": rows })
}

/// One line per violated bound, for a person.
pub fn violations_text(verdicts: &[Verdict]) -> String {
    verdicts
        .iter()
        .filter(|v| !v.pass())
        .map(|v| {
            let got = v.measured.map_or(
                "undefined (null in summary.json: nothing was counted)".to_string(),
                |m| format!("{m}"),
            );
            format!(
                "expectation violated: {} = {got}, expected {}\n",
                v.figure,
                v.bound_text()
            )
        })
        .collect()
}

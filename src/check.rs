//! `reload-sim check`: run scenarios (in parallel) and hold each to its `[expect]` bounds.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::expect::Verdict;
use crate::runner::{self, RunRequest};

/// One scenario checked.
#[derive(Debug)]
pub struct ScenarioCheck {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Its bounds, checked; or why it could not run.
    pub outcome: Result<Vec<Verdict>, String>,
}

/// Totals of a check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Bounds checked.
    pub bounds: usize,
    /// Of those, violated.
    pub violated: usize,
    /// Scenarios that could not run.
    pub broken: usize,
}

/// Runs every scenario on `jobs` threads (0: one per core), results in `out/<file stem>`
/// or each scenario's own folder. The order of the result is the order of `scenarios`.
pub fn check_all(
    scenarios: &[PathBuf],
    out: Option<&Path>,
    jobs: usize,
    command_line: &[String],
) -> Vec<ScenarioCheck> {
    let one = |path: &PathBuf| {
        eprintln!("check: running {}", path.display());
        let out = out.map(|d| {
            let stem = path.file_stem().map(|s| s.to_string_lossy().to_string());
            d.join(stem.unwrap_or_default())
        });
        let req = RunRequest {
            scenario: path.clone(),
            out,
            command_line: command_line.to_vec(),
            ..Default::default()
        };
        ScenarioCheck {
            scenario: path.clone(),
            outcome: runner::run(&req)
                .map(|d| d.verdicts)
                .map_err(|e| e.to_string()),
        }
    };
    let mut pool = rayon::ThreadPoolBuilder::new();
    if jobs > 0 {
        pool = pool.num_threads(jobs);
    }
    match pool.build() {
        Ok(pool) => pool.install(|| scenarios.par_iter().map(one).collect()),
        Err(_) => scenarios.iter().map(one).collect(),
    }
}

/// The pass/fail table (one row per bound, aligned columns) and its totals.
pub fn table(checks: &[ScenarioCheck]) -> (String, Tally) {
    let mut rows: Vec<[String; 5]> = Vec::new();
    let mut t = Tally::default();
    for c in checks {
        let name = c.scenario.display().to_string();
        match &c.outcome {
            Err(e) => {
                t.broken += 1;
                let dash = || "-".to_string();
                rows.push([name, dash(), dash(), dash(), format!("ERROR {e}")]);
            }
            Ok(v) if v.is_empty() => {
                let empty = String::new;
                rows.push([name, "(no [expect])".into(), empty(), empty(), "-".into()]);
            }
            Ok(verdicts) => {
                for v in verdicts {
                    t.bounds += 1;
                    t.violated += usize::from(!v.pass());
                    let got = v.measured.map_or("undefined".into(), |m| format!("{m:.6}"));
                    let result = if v.pass() { "pass" } else { "FAIL" };
                    rows.push([
                        name.clone(),
                        v.figure.clone(),
                        v.bound_text(),
                        got,
                        result.into(),
                    ]);
                }
            }
        }
    }
    let head = ["scenario", "figure", "bound", "measured", "result"].map(String::from);
    let all = || std::iter::once(&head).chain(&rows);
    let widths: Vec<usize> = (0..4)
        .map(|c| all().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for r in all() {
        let mut line = String::new();
        for (c, w) in widths.iter().enumerate() {
            line += &format!("{:<w$}  ", r[c], w = *w);
        }
        line += &r[4];
        text += line.trim_end();
        text.push('\n');
    }
    text += &format!(
        "{} scenarios, {} bounds: {} violated, {} scenarios could not run\n",
        checks.len(),
        t.bounds,
        t.violated,
        t.broken
    );
    (text, t)
}

//! `reload-sim check`: run scenarios (in parallel) and hold each to its `[expect]` bounds.
//!
//! Scenarios without an `[expect]` table are skipped (not run). With `--out DIR` each
//! scenario's results go to `DIR/<file stem>`; scenarios sharing a stem go to
//! `DIR/<the folders that tell them apart>_<stem>` instead (see [`folder_names`]). Two
//! scenarios that would still write to one folder are refused before anything runs.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;

use crate::expect::Verdict;
use crate::outdir::{self, OutDirError};
use crate::runner::{self, RunRequest, safe_name};
use crate::scenario;

/// What checking one scenario gave.
#[derive(Debug)]
pub enum Outcome {
    /// It ran: its bounds, checked, in the order the file lists them.
    Ran(Vec<Verdict>),
    /// It has no `[expect]` table and was not run.
    Skipped,
    /// It could not be loaded or run.
    Broken(String),
}

/// One scenario checked.
#[derive(Debug)]
pub struct ScenarioCheck {
    /// The scenario file.
    pub scenario: PathBuf,
    /// What happened.
    pub outcome: Outcome,
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
    /// Scenarios skipped for having no `[expect]` table.
    pub skipped: usize,
}

/// A scenario before the runs start: to run into a folder, or already decided.
enum Planned {
    Run(PathBuf),
    Done(Outcome),
}

/// Why a check did not start.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// `--out` is unusable.
    #[error(transparent)]
    Folder(#[from] OutDirError),
    /// The same scenario file is given twice.
    #[error("{0} is given twice: its runs would share one results folder")]
    GivenTwice(PathBuf),
    /// Two scenarios would write to the same folder.
    #[error(
        "{} and {} would both write to {}: run them separately, or give one another name",
        a.display(),
        b.display(),
        folder.display()
    )]
    SameFolder {
        /// The first scenario.
        a: PathBuf,
        /// The second scenario.
        b: PathBuf,
        /// The folder both would use.
        folder: PathBuf,
    },
}

/// The folder name under `--out` of each scenario, in order: its file stem, or when several
/// scenarios share that stem, the folders of its path that differ from theirs (their
/// common leading folders dropped) and the stem, joined by `_` and made file-system safe:
/// `a/x.toml` and `b/x.toml` become `a_x` and `b_x`. Depends only on the paths given.
pub fn folder_names(scenarios: &[PathBuf]) -> Vec<String> {
    let stem = |p: &Path| {
        p.file_stem()
            .map_or(String::new(), |s| s.to_string_lossy().into_owned())
    };
    let parents = |p: &Path| -> Vec<String> {
        p.parent()
            .map(|d| {
                d.components()
                    .filter(|c| !matches!(c, Component::CurDir))
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut by_stem: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, p) in scenarios.iter().enumerate() {
        by_stem.entry(stem(p)).or_default().push(i);
    }
    let mut names: Vec<String> = scenarios.iter().map(|p| safe_name(&stem(p))).collect();
    for (st, group) in by_stem.into_iter().filter(|(_, g)| g.len() > 1) {
        let dirs: Vec<Vec<String>> = group.iter().map(|&i| parents(&scenarios[i])).collect();
        let common = (0..)
            .take_while(|&k| {
                dirs.iter()
                    .all(|d| d.get(k).is_some() && d.get(k) == dirs[0].get(k))
            })
            .count();
        for (&i, d) in group.iter().zip(&dirs) {
            let mut parts: Vec<String> = d[common..].to_vec();
            parts.push(st.clone());
            names[i] = safe_name(&parts.join("_"));
        }
    }
    names
}

/// Runs every scenario with an `[expect]` table on `jobs` threads (0: one per core),
/// results in `out/<folder name>` (see [`folder_names`]) or each scenario's own folder. The
/// order of the result is the order of `scenarios`. Fails before running anything when
/// `out` is a file or two scenarios would write to one folder.
pub fn check_all(
    scenarios: &[PathBuf],
    out: Option<&Path>,
    jobs: usize,
    command_line: &[String],
) -> Result<Vec<ScenarioCheck>, CheckError> {
    if let Some(out) = out {
        outdir::check_not_file(out)?;
    }
    let names = folder_names(scenarios);
    // Load every scenario first: skipped and broken ones never run.
    let mut plans: Vec<(&PathBuf, Planned)> = Vec::new();
    for (path, name) in scenarios.iter().zip(&names) {
        let planned = match scenario::load(path, &[]) {
            Err(e) => Planned::Done(Outcome::Broken(e.to_string())),
            Ok(s) if s.expect.is_empty() => Planned::Done(Outcome::Skipped),
            Ok(s) => Planned::Run(match out {
                Some(d) => d.join(name),
                None => runner::default_folder(&s),
            }),
        };
        plans.push((path, planned));
    }
    let mut taken: BTreeMap<&Path, &Path> = BTreeMap::new();
    for (path, planned) in &plans {
        let Planned::Run(folder) = planned else {
            continue;
        };
        if let Some(first) = taken.insert(folder, path) {
            return Err(if first == path.as_path() {
                CheckError::GivenTwice(path.to_path_buf())
            } else {
                CheckError::SameFolder {
                    a: first.to_path_buf(),
                    b: path.to_path_buf(),
                    folder: folder.clone(),
                }
            });
        }
    }
    let one = |(path, planned): &(&PathBuf, Planned)| {
        let outcome = match planned {
            Planned::Done(Outcome::Skipped) => Outcome::Skipped,
            Planned::Done(Outcome::Broken(e)) => Outcome::Broken(e.clone()),
            Planned::Done(Outcome::Ran(v)) => Outcome::Ran(v.clone()),
            Planned::Run(folder) => {
                eprintln!("check: running {}", path.display());
                let req = RunRequest {
                    scenario: path.to_path_buf(),
                    out: Some(folder.clone()),
                    command_line: command_line.to_vec(),
                    ..Default::default()
                };
                match runner::run(&req) {
                    Ok(d) => Outcome::Ran(d.verdicts),
                    Err(runner::RunError::Folder(OutDirError::Occupied { dir, what })) => {
                        Outcome::Broken(format!(
                            "{} {what}; check does not overwrite it: choose another --out or remove it",
                            dir.display()
                        ))
                    }
                    Err(e) => Outcome::Broken(e.to_string()),
                }
            }
        };
        ScenarioCheck {
            scenario: path.to_path_buf(),
            outcome,
        }
    };
    let mut pool = rayon::ThreadPoolBuilder::new();
    if jobs > 0 {
        pool = pool.num_threads(jobs);
    }
    Ok(match pool.build() {
        Ok(pool) => pool.install(|| plans.par_iter().map(one).collect()),
        Err(_) => plans.iter().map(one).collect(),
    })
}

/// The pass/fail table (one row per bound, aligned columns; scenarios in the order given,
/// bounds in the order their file lists them), the skipped scenarios, and the totals.
pub fn table(checks: &[ScenarioCheck]) -> (String, Tally) {
    let mut rows: Vec<[String; 5]> = Vec::new();
    let mut skipped = Vec::new();
    let mut t = Tally::default();
    for c in checks {
        let name = c.scenario.display().to_string();
        match &c.outcome {
            Outcome::Broken(e) => {
                t.broken += 1;
                let dash = || "-".to_string();
                rows.push([name, dash(), dash(), dash(), format!("ERROR {e}")]);
            }
            Outcome::Skipped => {
                t.skipped += 1;
                skipped.push(format!("{name}: no [expect] table, skipped\n"));
            }
            Outcome::Ran(verdicts) => {
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
    text.extend(skipped);
    text += &format!(
        "{} scenarios, {} bounds: {} violated, {} scenarios could not run, {} skipped (no [expect])\n",
        checks.len(),
        t.bounds,
        t.violated,
        t.broken,
        t.skipped
    );
    (text, t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_tell_shared_stems_apart() {
        let p = |s: &str| PathBuf::from(s);
        let names = folder_names(&[
            p("scenarios/quickstart.toml"),
            p("ci/a/x.toml"),
            p("ci/b/x.toml"),
            p("y.toml"),
            p("./sub/y.toml"),
        ]);
        assert_eq!(names, ["quickstart", "a_x", "b_x", "y", "sub_y"]);
        // The same path twice keeps one name: check_all refuses it.
        assert_eq!(folder_names(&[p("a/x.toml"), p("a/x.toml")]), ["x", "x"]);
    }
}

//! Output folders of `run`, `sweep` and `merge`: what a folder holds, whether a command may
//! write into it, and which files are reload-sim's result files (the only ones it ever
//! removes).
//!
//! A folder with `sweep.json` holds a sweep, one with `summary.json` (and no `sweep.json`)
//! holds a run; a folder with other entries and neither file is unrelated. A command writes
//! into an absent or empty folder, or one holding the same kind of result for the same
//! scenario (a run of the same scenario name, the same sweep); anything else is refused
//! unless `--force` is given.

use std::path::{Path, PathBuf};

/// The files of a run folder that reload-sim writes.
pub const RUN_FILES: [&str; 14] = [
    "summary.json",
    "churn-trace.csv",
    "topology.graphml",
    "topology.edges",
    "events.csv",
    "lookups.csv",
    "call_setups.csv",
    "timeseries.csv",
    "traffic.csv",
    "scenario.toml",
    "source.toml",
    "expect.json",
    "host.json",
    "report.html",
];

/// The files at the top of a sweep folder that reload-sim writes (besides `plots/` and the
/// `point-<p>/` run folders).
pub const SWEEP_FILES: [&str; 6] = [
    "sweep.json",
    "scenario.toml",
    "source.toml",
    "aggregate.csv",
    "host.json",
    "report.html",
];

/// The folder of plots; only its `*.png` and `*.svg` files are reload-sim's.
pub const PLOTS: &str = "plots";

/// Where `run` writes a new result set before moving it into place.
pub const STAGING: &str = ".reload-sim-partial";

/// Why an output folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OutDirError {
    /// `--out` names a regular file.
    #[error("--out {} is a file, not a folder", .0.display())]
    IsAFile(PathBuf),
    /// A folder on the way to `--out` is a regular file.
    #[error("--out {}: {} is a file, not a folder", out.display(), file.display())]
    UnderAFile {
        /// The folder asked for.
        out: PathBuf,
        /// The file in its path.
        file: PathBuf,
    },
    /// The folder holds something this command would overwrite.
    #[error("{} {what}; use --force to overwrite", dir.display())]
    Occupied {
        /// The folder.
        dir: PathBuf,
        /// What is there, e.g. `holds a sweep of scenario x (sweep.json)`.
        what: String,
    },
    /// Reading or changing the folder failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutDirError + '_ {
    move |source| OutDirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What a folder holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Contents {
    /// Absent, empty, or only a leftover [`STAGING`] folder.
    Nothing,
    /// `summary.json`: a run of this scenario (`None`: unreadable).
    Run(Option<String>),
    /// `sweep.json`: a sweep of this scenario with this hash (`None`: unreadable).
    Sweep(Option<(String, String)>),
    /// Other entries (the first few names, sorted) and neither marker file.
    Unrelated(Vec<String>),
}

/// What a command is about to write.
#[derive(Clone, Copy, Debug)]
pub enum Want<'a> {
    /// One run of the scenario with this name.
    Run(&'a str),
    /// A sweep: scenario name and the sweep's hash.
    Sweep(&'a str, &'a str),
}

/// The verdict on a folder that may be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Absent or empty.
    New,
    /// Holds the same kind of result for the same scenario: rerun, resume, merge again.
    Same,
    /// Holds something else and `--force` was given: reload-sim's files are to go.
    Overwrite,
}

/// Fails when `dir` or a folder on its path is a regular file.
pub fn check_not_file(dir: &Path) -> Result<(), OutDirError> {
    for a in dir.ancestors().filter(|a| !a.as_os_str().is_empty()) {
        if a.exists() && !a.is_dir() {
            return Err(if a == dir {
                OutDirError::IsAFile(dir.to_path_buf())
            } else {
                OutDirError::UnderAFile {
                    out: dir.to_path_buf(),
                    file: a.to_path_buf(),
                }
            });
        }
    }
    Ok(())
}

/// What `dir` holds.
pub fn contents(dir: &Path) -> Result<Contents, OutDirError> {
    check_not_file(dir)?;
    if !dir.exists() {
        return Ok(Contents::Nothing);
    }
    let read = |name: &str| -> Option<serde_json::Value> {
        let bytes = std::fs::read(dir.join(name)).ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().map(str::to_string);
    if dir.join("sweep.json").is_file() {
        let m = read("sweep.json");
        let id = m.and_then(|m| Some((text(&m, "scenario")?, text(&m, "scenario_hash")?)));
        return Ok(Contents::Sweep(id));
    }
    if dir.join("summary.json").is_file() {
        let name = read("summary.json").and_then(|s| text(&s, "scenario"));
        return Ok(Contents::Run(name));
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()
        .map_err(io(dir))?;
    names.retain(|n| n != STAGING);
    names.sort();
    Ok(if names.is_empty() {
        Contents::Nothing
    } else {
        Contents::Unrelated(names)
    })
}

/// Decides whether `want` may write into `dir`: yes when it is absent or empty or holds the
/// same kind of result for the same scenario; otherwise only with `force`.
pub fn claim(dir: &Path, want: Want<'_>, force: bool) -> Result<Claim, OutDirError> {
    let found = contents(dir)?;
    let same = match (&found, want) {
        (Contents::Nothing, _) => return Ok(Claim::New),
        (Contents::Run(Some(name)), Want::Run(want)) => name == want,
        (Contents::Sweep(Some((_, hash))), Want::Sweep(_, want)) => hash == want,
        _ => false,
    };
    if same {
        return Ok(Claim::Same);
    }
    if force {
        return Ok(Claim::Overwrite);
    }
    let what = match (&found, want) {
        (Contents::Run(Some(name)), _) => format!("holds a run of scenario {name} (summary.json)"),
        (Contents::Run(None), _) => "holds a run (summary.json, unreadable)".to_string(),
        (Contents::Sweep(Some((name, hash))), Want::Sweep(_, want)) => format!(
            "holds another sweep of scenario {name} (sweep.json: scenario hash {hash}, this sweep {want})"
        ),
        (Contents::Sweep(Some((name, _))), _) => {
            format!("holds a sweep of scenario {name} (sweep.json)")
        }
        (Contents::Sweep(None), _) => "holds a sweep (sweep.json, unreadable)".to_string(),
        (Contents::Unrelated(names), _) => {
            let shown: Vec<&str> = names.iter().take(3).map(String::as_str).collect();
            let more = match names.len().saturating_sub(3) {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            format!(
                "holds {}{more} and no summary.json or sweep.json (not a reload-sim result)",
                shown.join(", ")
            )
        }
        (Contents::Nothing, _) => unreachable!("handled above"),
    };
    Err(OutDirError::Occupied {
        dir: dir.to_path_buf(),
        what,
    })
}

/// Which result files [`result_set`] lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Set {
    /// A run's: [`RUN_FILES`] and the plots.
    Run,
    /// Everything reload-sim writes into a results folder: [`RUN_FILES`], [`SWEEP_FILES`],
    /// the plots, the `point-<digits>/` run folders of a sweep and [`STAGING`].
    All,
}

/// The result files present in `dir`, relative to it: files, and folders that are wholly
/// reload-sim's (`point-<digits>/`, [`STAGING`]), sorted.
pub fn result_set(dir: &Path, set: Set) -> Result<Vec<PathBuf>, OutDirError> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut files: Vec<&str> = RUN_FILES.to_vec();
    if set == Set::All {
        files.extend(SWEEP_FILES);
    }
    files.sort_unstable();
    files.dedup();
    out.extend(
        files
            .into_iter()
            .filter(|f| dir.join(f).is_file())
            .map(PathBuf::from),
    );
    let plots = dir.join(PLOTS);
    if plots.is_dir() {
        for e in std::fs::read_dir(&plots).map_err(io(&plots))? {
            let p = e.map_err(io(&plots))?.path();
            let drawn = p.extension().is_some_and(|x| x == "png" || x == "svg");
            if drawn && p.is_file() {
                out.push(Path::new(PLOTS).join(p.file_name().unwrap_or_default()));
            }
        }
    }
    if set == Set::All && dir.is_dir() {
        for e in std::fs::read_dir(dir).map_err(io(dir))? {
            let e = e.map_err(io(dir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let point = name
                .strip_prefix("point-")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if (point || name == STAGING) && e.path().is_dir() {
                out.push(PathBuf::from(name));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Removes `rel` (a file or a whole folder) under `dir`.
fn remove(dir: &Path, rel: &Path) -> Result<(), OutDirError> {
    let p = dir.join(rel);
    if p.is_dir() {
        std::fs::remove_dir_all(&p).map_err(io(&p))
    } else {
        std::fs::remove_file(&p).map_err(io(&p))
    }
}

/// Removes `plots/` when nothing is left in it.
fn remove_empty_plots(dir: &Path) {
    let plots = dir.join(PLOTS);
    if std::fs::read_dir(&plots).is_ok_and(|mut d| d.next().is_none()) {
        let _ = std::fs::remove_dir(&plots);
    }
}

/// Removes every result file of [`Set::All`] from `dir`, and nothing else.
pub fn clear(dir: &Path) -> Result<(), OutDirError> {
    for rel in result_set(dir, Set::All)? {
        remove(dir, &rel)?;
    }
    remove_empty_plots(dir);
    Ok(())
}

/// Every file under `root`, relative to it, sorted.
fn files_under(root: &Path) -> Result<Vec<PathBuf>, OutDirError> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<PathBuf>) -> Result<(), OutDirError> {
        for e in std::fs::read_dir(d).map_err(io(d))? {
            let p = e.map_err(io(d))?.path();
            if p.is_dir() {
                walk(root, &p, out)?;
            } else if let Ok(rel) = p.strip_prefix(root) {
                out.push(rel.to_path_buf());
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(root, root, &mut out)?;
    out.sort();
    Ok(out)
}

/// Replaces the result set in `dir` with the complete one in `staging` (a folder inside
/// `dir`): each new file is renamed over its old version, then the files only the previous
/// set had (of `previous`) are removed, then `staging`. Files reload-sim does not write
/// stay. Until this is called the previous set is untouched, so a run that fails or is
/// interrupted before it loses nothing.
pub fn replace_results(staging: &Path, dir: &Path, previous: Set) -> Result<(), OutDirError> {
    let old = result_set(dir, previous)?;
    let new = files_under(staging)?;
    for rel in &new {
        let (from, to) = (staging.join(rel), dir.join(rel));
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::rename(&from, &to).map_err(io(&to))?;
    }
    let staged = Path::new(STAGING);
    for rel in old
        .iter()
        .filter(|r| !new.contains(r) && r.as_path() != staged)
    {
        remove(dir, rel)?;
    }
    remove_empty_plots(dir);
    std::fs::remove_dir_all(staging).map_err(io(staging))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("reload-sim-outdir-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn kinds_by_marker_files() {
        let d = scratch("kinds");
        assert_eq!(contents(&d.join("absent")).unwrap(), Contents::Nothing);
        assert_eq!(contents(&d).unwrap(), Contents::Nothing);
        std::fs::create_dir_all(d.join(STAGING)).unwrap();
        assert_eq!(contents(&d).unwrap(), Contents::Nothing);
        std::fs::write(d.join("notes.txt"), "x").unwrap();
        assert_eq!(
            contents(&d).unwrap(),
            Contents::Unrelated(vec!["notes.txt".into()])
        );
        std::fs::write(d.join("summary.json"), r#"{"scenario":"a"}"#).unwrap();
        assert_eq!(contents(&d).unwrap(), Contents::Run(Some("a".into())));
        assert_eq!(claim(&d, Want::Run("a"), false).unwrap(), Claim::Same);
        assert!(claim(&d, Want::Run("b"), false).is_err());
        assert_eq!(claim(&d, Want::Run("b"), true).unwrap(), Claim::Overwrite);
        std::fs::write(
            d.join("sweep.json"),
            r#"{"scenario":"a","scenario_hash":"h"}"#,
        )
        .unwrap();
        assert_eq!(
            contents(&d).unwrap(),
            Contents::Sweep(Some(("a".into(), "h".into())))
        );
        assert_eq!(
            claim(&d, Want::Sweep("a", "h"), false).unwrap(),
            Claim::Same
        );
        assert!(claim(&d, Want::Sweep("a", "g"), false).is_err());
    }

    #[test]
    fn clear_removes_only_result_files() {
        let d = scratch("clear");
        for f in [
            "sweep.json",
            "aggregate.csv",
            "notes.txt",
            "plots/a.png",
            "plots/mine.txt",
        ] {
            let p = d.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        std::fs::create_dir_all(d.join("point-000/seed-1")).unwrap();
        std::fs::create_dir_all(d.join("point-x")).unwrap();
        clear(&d).unwrap();
        let left = files_under(&d).unwrap();
        assert_eq!(
            left,
            [PathBuf::from("notes.txt"), PathBuf::from("plots/mine.txt")]
        );
        assert!(d.join("point-x").is_dir() && !d.join("point-000").exists());
    }
}

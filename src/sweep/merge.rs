//! `reload-sim merge`: combine shard folders into the folder an unsharded sweep writes.

use std::path::{Path, PathBuf};

use super::SweepError;
use super::exec::{claim_folder, finish_folder, is_complete, write_json};
use super::plan::plan;

/// What a merge did.
#[derive(Debug)]
pub struct MergeDone {
    /// Runs of the sweep.
    pub total: usize,
    /// Runs copied from the shard folders.
    pub copied: usize,
}

/// Merges the sweep folders `dirs` (shards of one sweep) into `out`. Every shard must come
/// from the same scenario (same `sweep.json`); `out` must not be one of them. Fails, after
/// copying what exists, when runs are missing. `out` must be absent, empty or a folder of
/// the same sweep (a previous merge), unless `force` (see [`crate::outdir::claim`]).
pub fn merge(dirs: &[PathBuf], out: &Path, force: bool) -> Result<MergeDone, SweepError> {
    crate::outdir::check_not_file(out)?;
    if dirs.is_empty() {
        return Err(SweepError::Input(
            "merge needs at least one shard folder".into(),
        ));
    }
    let manifests: Vec<serde_json::Value> = dirs
        .iter()
        .map(|d| read_manifest(d))
        .collect::<Result<_, _>>()?;
    for (d, m) in dirs.iter().zip(&manifests).skip(1) {
        if *m != manifests[0] {
            return Err(SweepError::Input(format!(
                "{} and {} are not shards of one sweep (scenario {} hash {}, scenario {} hash {})",
                dirs[0].display(),
                d.display(),
                manifests[0]["scenario"],
                manifests[0]["scenario_hash"],
                m["scenario"],
                m["scenario_hash"],
            )));
        }
    }
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if let Some(d) = dirs.iter().find(|d| same(d, out)) {
        return Err(SweepError::Input(format!(
            "the output folder {} is one of the shards; merge into a new folder",
            d.display()
        )));
    }
    let plan = plan(&dirs[0].join("scenario.toml"), &[])?;
    if serde_json::json!(plan.hash) != manifests[0]["scenario_hash"] {
        return Err(SweepError::Input(format!(
            "{}: scenario.toml does not match sweep.json (edited?)",
            dirs[0].display()
        )));
    }
    claim_folder(out, &plan, force, &dirs[0].join("source.toml"))?;
    let mut copied = 0;
    let mut missing = Vec::new();
    for r in &plan.runs {
        if is_complete(out, r) {
            continue;
        }
        match dirs.iter().find(|d| is_complete(d, r)) {
            Some(d) => {
                copy_dir(&d.join(&r.dir), &out.join(&r.dir))?;
                copied += 1;
            }
            None => missing.push(r.dir.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(SweepError::Input(format!(
            "{} of {} runs are in none of the shards (first: {}); run the missing shards, or \
             `reload-sim sweep {}/scenario.toml --out {}` to run what is missing",
            missing.len(),
            plan.runs.len(),
            missing[0],
            out.display(),
            out.display()
        )));
    }
    finish_folder(out, &plan)?;
    write_json(
        &out.join("host.json"),
        &serde_json::json!({ "merged_from": dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>() }),
    )?;
    Ok(MergeDone {
        total: plan.runs.len(),
        copied,
    })
}

fn read_manifest(dir: &Path) -> Result<serde_json::Value, SweepError> {
    let p = dir.join("sweep.json");
    let bytes = std::fs::read(&p).map_err(|e| {
        SweepError::Input(format!(
            "{} is not a sweep folder ({}: {e})",
            dir.display(),
            p.display()
        ))
    })?;
    serde_json::from_slice(&bytes).map_err(|e| SweepError::Io(format!("{}: {e}", p.display())))
}

/// Copies a run folder with everything in it, appearing at `to` only once complete.
fn copy_dir(from: &Path, to: &Path) -> Result<(), SweepError> {
    let io = |p: &Path, e: std::io::Error| SweepError::Io(format!("{}: {e}", p.display()));
    let tmp = PathBuf::from(format!("{}.partial", to.display()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    }
    copy_tree(from, &tmp)?;
    if to.exists() {
        std::fs::remove_dir_all(to).map_err(|e| io(to, e))?;
    }
    std::fs::rename(&tmp, to).map_err(|e| io(to, e))
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), SweepError> {
    let io = |p: &Path, e: std::io::Error| SweepError::Io(format!("{}: {e}", p.display()));
    std::fs::create_dir_all(to).map_err(|e| io(to, e))?;
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .map_err(|e| io(from, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| io(from, e))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| io(&src, e))?;
        }
    }
    Ok(())
}

//! Running a sweep's runs (all, or one shard's) in parallel and finishing the folder.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde_json::json;

use super::SweepError;
use super::aggregate::{aggregate_csv, read_summary};
use super::plan::{Plan, RunSpec, plan};
use super::progress::Progress;
use super::shard::Shard;
use crate::outdir::{self, Claim};
use crate::report::Provenance;
use crate::runner::{Stop, git_rev, safe_name, simulate_into, write_host, write_results};
use crate::scenario;
use crate::sim::Sim;

/// What the user asked for.
#[derive(Clone, Debug, Default)]
pub struct SweepRequest {
    /// The scenario file, with a `[sweep]` table.
    pub scenario: PathBuf,
    /// `--set` overrides applied before the grid.
    pub sets: Vec<String>,
    /// Output folder; default `results/<name>/sweep`, or `results/<name>/shard-I-of-N`.
    pub out: Option<PathBuf>,
    /// Runs at once (threads); 0: one per core.
    pub jobs: usize,
    /// Only this shard's runs.
    pub shard: Option<Shard>,
    /// Show a progress bar (when stdout and stderr are terminals).
    pub progress: bool,
    /// The command line, for `host.json`.
    pub command_line: Vec<String>,
    /// `--force`: take over a folder holding a run, another sweep or unrelated files
    /// (reload-sim's result files there are removed first).
    pub force: bool,
    /// A request on it stops the runs in progress at the simulated time reached (each left
    /// as its `<dir>.partial` folder, `summary.json` marked partial) and starts no more:
    /// the sweep then fails with [`SweepError::Interrupted`].
    pub stop: Stop,
}

/// A finished sweep invocation.
#[derive(Debug)]
pub struct SweepDone {
    /// Where the files went.
    pub out_dir: PathBuf,
    /// Runs of the whole sweep.
    pub total: usize,
    /// Runs this invocation was to do (its shard).
    pub assigned: usize,
    /// Of those, already complete and skipped.
    pub skipped: usize,
    /// Of those, run now.
    pub ran: usize,
    /// True when every run of the sweep is in the folder and `aggregate.csv` was written.
    pub complete: bool,
    /// Wall-clock seconds.
    pub wall_clock_s: f64,
}

/// Runs a sweep (or one shard of it).
pub fn run_sweep(req: &SweepRequest) -> Result<SweepDone, SweepError> {
    let started = Instant::now();
    let plan = plan(&req.scenario, &req.sets)?;
    for w in &plan.warnings {
        eprintln!("{w}");
    }
    let out = req.out.clone().unwrap_or_else(|| {
        let base = PathBuf::from("results").join(safe_name(&plan.base.scenario.name));
        match req.shard {
            Some(s) => base.join(format!("shard-{}-of-{}", s.index, s.count)),
            None => base.join("sweep"),
        }
    });
    claim_folder(&out, &plan, req.force, &req.scenario)?;
    let todo: Vec<&RunSpec> = plan
        .runs
        .iter()
        .filter(|r| req.shard.is_none_or(|s| s.owns(r.index)))
        .collect();
    let assigned = todo.len();
    let todo: Vec<&RunSpec> = todo.into_iter().filter(|r| !is_complete(&out, r)).collect();
    let skipped = assigned - todo.len();
    let jobs = if req.jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        req.jobs
    };
    let progress = Progress::new(todo.len(), req.progress);
    if skipped > 0 {
        progress.println(&format!(
            "{skipped} of {assigned} runs already finished in {}; skipping them",
            out.display()
        ));
    }
    let rev = git_rev();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| SweepError::Io(format!("thread pool: {e}")))?;
    let ran = pool.install(|| {
        todo.par_iter()
            .try_for_each(|r| run_one(&out, r, rev, jobs, &progress, &req.stop))
    });
    progress.finish();
    ran?;
    let complete = plan.runs.iter().all(|r| is_complete(&out, r));
    if complete {
        finish_folder(&out, &plan)?;
    }
    let wall_clock_s = started.elapsed().as_secs_f64();
    write_json(
        &out.join("host.json"),
        &json!({
            "wall_clock_s": wall_clock_s,
            "threads": jobs,
            "shard": req.shard.map(|s| s.to_string()),
            "command_line": req.command_line,
        }),
    )?;
    Ok(SweepDone {
        out_dir: out,
        total: plan.runs.len(),
        assigned,
        skipped,
        ran: todo.len(),
        complete,
        wall_clock_s,
    })
}

/// Makes `out` this sweep's folder: refuses a folder holding anything else (unless
/// `force`: then reload-sim's result files there are removed), writes `sweep.json` and
/// `scenario.toml`, and copies `source` to `source.toml` unless the folder already is this
/// sweep's and has one (a resumed sweep keeps the file it was started from, so resuming
/// from `<out>/scenario.toml` leaves the folder as an uninterrupted sweep would).
pub(super) fn claim_folder(
    out: &Path,
    plan: &Plan,
    force: bool,
    source: &Path,
) -> Result<(), SweepError> {
    let want = outdir::Want::Sweep(&plan.base.scenario.name, &plan.hash);
    let claim = outdir::claim(out, want, force)?;
    if claim == Claim::Overwrite {
        outdir::clear(out)?;
    }
    std::fs::create_dir_all(out).map_err(|e| SweepError::Io(format!("{}: {e}", out.display())))?;
    write_json(&out.join("sweep.json"), &plan.manifest())?;
    let toml = scenario::to_toml(&plan.base);
    let p = out.join("scenario.toml");
    std::fs::write(&p, toml).map_err(|e| SweepError::Io(format!("{}: {e}", p.display())))?;
    if claim != Claim::Same || !out.join("source.toml").is_file() {
        crate::runner::copy_source(source, out).map_err(|e| SweepError::Io(e.to_string()))?;
    }
    Ok(())
}

/// True when `out/<run dir>` holds the finished results of exactly this run.
pub(super) fn is_complete(out: &Path, r: &RunSpec) -> bool {
    read_summary(&out.join(&r.dir)).is_ok_and(|s| {
        s["seed"] == json!(r.seed)
            && s["scenario_hash"] == json!(scenario::scenario_hash(&r.scenario))
    })
}

fn run_one(
    out: &Path,
    r: &RunSpec,
    rev: Option<&str>,
    threads: usize,
    progress: &Progress,
    stop: &Stop,
) -> Result<(), SweepError> {
    if let Some(v) = stop.requested() {
        return Err(SweepError::Interrupted(v));
    }
    let started = Instant::now();
    let label = format!("p{}/s{}", r.point, r.seed);
    let fin = out.join(&r.dir);
    let tmp = out.join(format!("{}.partial", r.dir));
    let io = |p: &Path, e: std::io::Error| SweepError::Io(format!("{}: {e}", p.display()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    }
    let sim = Sim::new(r.scenario.sim_config());
    let run = simulate_into(
        sim,
        &tmp,
        &mut |r| progress.advance(&label, r.now, r.end),
        stop,
    )
    .map_err(|e| SweepError::Io(e.to_string()))?;
    let wall = started.elapsed().as_secs_f64();
    let prov = Provenance {
        scenario: r.scenario.scenario.name.clone(),
        scenario_hash: scenario::scenario_hash(&r.scenario),
        git_rev: rev.map(str::to_string),
        command_line: ["reload-sim", "run", &format!("{}/scenario.toml", r.dir)]
            .map(String::from)
            .to_vec(),
    };
    write_results(&tmp, &r.scenario, &prov, &run).map_err(|e| SweepError::Io(e.to_string()))?;
    write_host(&tmp, wall, threads).map_err(|e| SweepError::Io(e.to_string()))?;
    if let Some(v) = run.stopped {
        return Err(SweepError::Interrupted(v));
    }
    crate::html::draw_folder(&tmp).map_err(|e| SweepError::Io(format!("plots: {e}")))?;
    if fin.exists() {
        std::fs::remove_dir_all(&fin).map_err(|e| io(&fin, e))?;
    }
    std::fs::rename(&tmp, &fin).map_err(|e| io(&fin, e))?;
    progress.finished(&label);
    Ok(())
}

/// Writes what a complete sweep folder has beyond its runs: `aggregate.csv`, the sweep
/// plots and `report.html`.
pub(super) fn finish_folder(out: &Path, plan: &Plan) -> Result<(), SweepError> {
    let csv = aggregate_csv(out, plan)?;
    let p = out.join("aggregate.csv");
    std::fs::write(&p, csv).map_err(|e| SweepError::Io(format!("{}: {e}", p.display())))?;
    crate::html::draw_folder(out).map_err(|e| SweepError::Io(format!("plots: {e}")))?;
    Ok(())
}

pub(super) fn write_json(p: &Path, v: &serde_json::Value) -> Result<(), SweepError> {
    crate::runner::write_json(p, v).map_err(|e| SweepError::Io(e.to_string()))
}

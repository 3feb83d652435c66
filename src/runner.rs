//! `reload-sim run`: load a scenario, run it, write `summary.json`, `lookups.csv`,
//! `call_setups.csv`, `timeseries.csv`, `traffic.csv` and the effective `scenario.toml`
//! into the output folder. The CSV files are streamed as the run goes
//! ([`crate::report::stream`]), so a run's memory does not grow with its length.
//!
//! A run's result files form a set: they are written (plots and `report.html` included)
//! into a staging folder inside the output folder and then replace the previous set as a
//! whole (see [`crate::outdir::replace_results`]), so no file of an earlier run stays beside
//! the new ones and nothing is lost when a run fails or is interrupted before that.
//!
//! The simulation is stepped in equal steps of simulated time ([`simulate_into`]): between
//! two it reports progress (the bar of [`RunProgress`]) and looks at a [`Stop`] request
//! (the CLI's SIGINT and SIGTERM), which ends it at the time reached with its result files
//! left in the staging folder, `summary.json` marked partial.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::Value;

use crate::expect::{self, Verdict};
use crate::outdir::{self, Claim, OutDirError, Want};
use crate::plot::PlotError;
use crate::report::stream::CsvFiles;
use crate::report::{self, Provenance};
use crate::scenario::topology::TopologySpec;
use crate::scenario::{self, Scenario, ScenarioError, Warning};
use crate::sim::capture::PcapOptions;
use crate::sim::{RunOutput, Sim};
use crate::time::Time;

mod progress;
pub use progress::RunProgress;
pub(crate) use progress::terminal_bar;

/// What the user asked for.
#[derive(Clone, Debug, Default)]
pub struct RunRequest {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Output folder; default `results/<scenario name>/seed-<seed>`.
    pub out: Option<PathBuf>,
    /// `--set path=value` overrides, in order.
    pub sets: Vec<String>,
    /// The command line, for the summary.
    pub command_line: Vec<String>,
    /// `--pcap FILE [--pcap-nodes SPEC]`: write the frames sent in the run to a pcap.
    pub pcap: Option<PcapOptions>,
    /// Draw `plots/` and `report.html` with the result files.
    pub plots: bool,
    /// `--force`: write even into a folder holding another scenario's run, a sweep or
    /// unrelated files (reload-sim's own result files there are removed).
    pub force: bool,
    /// Show a progress bar while the simulation runs (when stdout and stderr are
    /// terminals).
    pub progress: bool,
    /// A request on it stops the simulation at the simulated time reached: the result
    /// files of the run so far stay in the staging folder, marked partial (see [`run`]).
    pub stop: Stop,
}

/// The plots of a run, drawn.
#[derive(Clone, Copy, Debug)]
pub struct PlotsDone {
    /// Plot files written (PNG and SVG), `report.html` not counted.
    pub files: usize,
    /// Wall-clock seconds drawing took.
    pub wall_clock_s: f64,
}

/// A finished run.
#[derive(Debug)]
pub struct RunDone {
    /// The effective scenario.
    pub scenario: Scenario,
    /// Where the files went.
    pub out_dir: PathBuf,
    /// Engine results.
    pub output: RunOutput,
    /// The summary document as written.
    pub summary: Value,
    /// Wall-clock seconds the simulation took.
    pub wall_clock_s: f64,
    /// The scenario's `[expect]` bounds, checked, in the order the scenario file lists them.
    pub verdicts: Vec<Verdict>,
    /// The scenario's warnings, printed on stderr before the run.
    pub warnings: Vec<Warning>,
    /// The plots, when asked for: drawn, or why not (the result files are written anyway).
    pub plots: Option<Result<PlotsDone, PlotError>>,
    /// The value of the [`Stop`] request that ended the simulation early, if one did:
    /// then `out_dir` is the staging folder, holding the partial result files.
    pub stopped: Option<usize>,
}

/// Why a run did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scenario is malformed.
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// Writing results failed.
    #[error("{0}")]
    Io(String),
    /// The capture cannot be made (a slot out of range, the file cannot be created).
    #[error("{0}")]
    Capture(String),
    /// The output folder is a file or holds something a run must not overwrite.
    #[error(transparent)]
    Folder(#[from] OutDirError),
}

/// Runs a scenario in memory.
pub fn simulate(s: &Scenario) -> RunOutput {
    Sim::new(s.sim_config()).run()
}

/// How far a run has got, as told to the progress callback of [`simulate_into`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reached {
    /// Simulated time reached.
    pub now: Time,
    /// The configured end of the run.
    pub end: Time,
    /// Events processed so far.
    pub events: u64,
    /// Peer slots with a running node (any state), clients not counted.
    pub live_peers: u64,
}

/// A request to stop runs early, shared between threads and with signal handlers: 0 until
/// requested, then the nonzero value stored (the CLI stores the signal number, through
/// `signal_hook::flag::register_usize` on [`Stop::flag`]).
#[derive(Clone, Debug, Default)]
pub struct Stop(Arc<AtomicUsize>);

impl Stop {
    /// The flag itself, for a signal handler to store into.
    pub fn flag(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.0)
    }

    /// Asks the runs watching this flag to stop; `value` (nonzero) is handed back by
    /// [`Stop::requested`].
    pub fn request(&self, value: usize) {
        self.0.store(value.max(1), Ordering::SeqCst);
    }

    /// The value of the request, once one was made.
    pub fn requested(&self) -> Option<usize> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            v => Some(v),
        }
    }
}

/// A run driven to its end, or stopped early.
#[derive(Debug)]
pub struct Driven {
    /// The results. For a stopped run, those of the run up to `output.end`, the simulated
    /// time reached: the last sample is taken then and lookups and calls in flight then
    /// are `pending`.
    pub output: RunOutput,
    /// The value of the [`Stop`] request that ended the run early, if one did.
    pub stopped: Option<usize>,
}

/// Simulated-time steps a run is driven in: a stop request is seen between two steps.
const STEPS: u64 = 10_000;
/// Progress is reported every this many steps (200 times a run)...
const STEPS_PER_REPORT: u64 = 50;
/// ... and after any step that ends this long after the previous report.
const REPORT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Runs a scenario in memory, calling `progress` about 200 times along the way (see
/// [`simulate_into`]). The results are exactly those of [`simulate`].
pub fn simulate_with_progress(s: &Scenario, progress: &mut dyn FnMut(&Reached)) -> RunOutput {
    drive(Sim::new(s.sim_config()), progress, &Stop::default()).output
}

/// Runs `sim`, streaming its CSV files into `dir` (created if absent) as rows complete.
/// `progress` is called at every 1/200 of the simulated time and, when that takes long,
/// at least every quarter of a second of wall time; a request on `stop` ends the run at
/// the simulated time reached, within 1/10,000 of the simulated time. The run is exactly
/// that of [`simulate`] (or its beginning, when stopped); the output keeps no records or
/// samples, only their figures.
pub fn simulate_into(
    sim: Sim,
    dir: &Path,
    progress: &mut dyn FnMut(&Reached),
    stop: &Stop,
) -> Result<Driven, RunError> {
    std::fs::create_dir_all(dir).map_err(|e| RunError::Io(format!("{}: {e}", dir.display())))?;
    let files = CsvFiles::create(dir).map_err(RunError::Io)?;
    let run = drive(sim.with_records(Box::new(files)), progress, stop);
    match &run.output.records_error {
        Some(e) => Err(RunError::Io(e.clone())),
        None => Ok(run),
    }
}

/// Steps `sim` to its end in [`STEPS`] equal steps of simulated time (which gives the run
/// of one `run_until` to the end: events are processed in the same order whatever the
/// steps), reporting progress and watching `stop` between steps.
fn drive(mut sim: Sim, progress: &mut dyn FnMut(&Reached), stop: &Stop) -> Driven {
    let end = sim.end();
    let step = (end.0 / STEPS).max(1);
    let mut reported = Instant::now();
    let mut stopped = None;
    let (mut t, mut steps) = (sim.now().0, 0u64);
    while t < end.0 {
        if let Some(v) = stop.requested() {
            stopped = Some(v);
            break;
        }
        t = t.saturating_add(step).min(end.0);
        sim.run_until(Time(t));
        steps += 1;
        if steps % STEPS_PER_REPORT == 0 || t == end.0 || reported.elapsed() >= REPORT_EVERY {
            progress(&Reached {
                now: sim.now(),
                end,
                events: sim.events(),
                live_peers: sim.live_peers(),
            });
            reported = Instant::now();
        }
    }
    Driven {
        output: sim.finish(),
        stopped,
    }
}

/// The simulator's own git revision, recorded when it was built (`None` when built
/// outside a git checkout), whatever directory a run starts in.
pub fn git_rev() -> Option<&'static str> {
    Some(env!("RELOAD_SIM_GIT_REV")).filter(|r| !r.is_empty())
}

/// Whether the build had uncommitted changes to tracked files (`None` when unknown).
pub fn git_dirty() -> Option<bool> {
    match env!("RELOAD_SIM_GIT_DIRTY") {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// A file-system-safe version of a scenario name.
pub fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("_{s}")
    } else {
        s
    }
}

/// A run's folder when `--out` is not given: `results/<scenario name>/seed-<seed>`.
pub fn default_folder(s: &Scenario) -> PathBuf {
    PathBuf::from("results")
        .join(safe_name(&s.scenario.name))
        .join(format!("seed-{}", s.scenario.seed))
}

/// The copy of a replayed churn trace in a results folder.
pub const TRACE_COPY: &str = "churn-trace.csv";
/// The copy of a router graph file in a results folder: GraphML, or an edge list.
pub const GRAPH_COPIES: [&str; 2] = ["topology.graphml", "topology.edges"];

/// Writes `summary.json` and the effective `scenario.toml` of `run` into `dir`, beside the
/// CSV files [`simulate_into`] streamed there during the run. The summary of a stopped run
/// starts with `"complete": false` and `"reached_s"` ([`report::partial_summary`]).
pub fn write_results(
    dir: &Path,
    scenario: &Scenario,
    prov: &Provenance,
    run: &Driven,
) -> Result<Value, RunError> {
    let summary = report::summary_json(prov, &run.output);
    let summary = match run.stopped {
        None => summary,
        Some(_) => report::partial_summary(summary, run.output.end),
    };
    write_json(&dir.join("summary.json"), &summary)?;
    let p = dir.join("events.csv");
    let events = report::csv::events_csv(&run.output.timeline)
        .map_err(|e| RunError::Io(format!("{}: {e}", p.display())))?;
    std::fs::write(&p, events).map_err(|e| RunError::Io(format!("{}: {e}", p.display())))?;
    // A replayed trace is copied beside the effective scenario, which names the copy.
    let mut effective = scenario.clone();
    if let Some(r) = &scenario.churn.replay {
        let p = dir.join(TRACE_COPY);
        std::fs::write(&p, r.text.as_bytes())
            .map_err(|e| RunError::Io(format!("{}: {e}", p.display())))?;
        effective.churn.trace = Some(TRACE_COPY.into());
    }
    if let Some(TopologySpec::File {
        path,
        loaded: Some(l),
        ..
    }) = &mut effective.network.topology
    {
        let name = GRAPH_COPIES[usize::from(!l.text.trim_start().starts_with('<'))];
        let p = dir.join(name);
        std::fs::write(&p, l.text.as_bytes())
            .map_err(|e| RunError::Io(format!("{}: {e}", p.display())))?;
        *path = name.into();
    }
    let p = dir.join("scenario.toml");
    std::fs::write(&p, scenario::to_toml(&effective))
        .map_err(|e| RunError::Io(format!("{}: {e}", p.display())))?;
    Ok(summary)
}

/// Writes `v` as pretty JSON with a final newline (every JSON file of a results folder).
pub fn write_json(p: &Path, v: &Value) -> Result<(), RunError> {
    let mut json = serde_json::to_string_pretty(v).expect("json");
    json.push('\n');
    std::fs::write(p, json).map_err(|e| RunError::Io(format!("{}: {e}", p.display())))
}

/// Writes `host.json` (wall clock and threads: the only host-dependent output) into `dir`.
pub fn write_host(dir: &Path, wall_clock_s: f64, threads: usize) -> Result<(), RunError> {
    write_json(
        &dir.join("host.json"),
        &report::host_json(wall_clock_s, threads),
    )
}

/// Copies the scenario file as given to `dir/source.toml` (provenance, comments included).
pub fn copy_source(scenario: &Path, dir: &Path) -> Result<(), RunError> {
    let to = dir.join("source.toml");
    std::fs::copy(scenario, &to)
        .map(|_| ())
        .map_err(|e| RunError::Io(format!("{}: {e}", to.display())))
}

/// Loads, runs and writes a scenario as `reload-sim run` does. The scenario's warnings go
/// to stderr before the run starts.
///
/// When `req.stop` is requested before the simulated end, the simulation stops at the
/// time reached and its result files (the CSV files so far, `summary.json` marked
/// partial, `scenario.toml`, `source.toml`, `host.json`; no `expect.json`, plots or report)
/// stay in the staging folder `<out>/.reload-sim-partial/`: the results already in the
/// output folder are left as they were. A request after the simulated end changes
/// nothing: the complete result set is written as usual.
pub fn run(req: &RunRequest) -> Result<RunDone, RunError> {
    let scenario::Loaded {
        scenario: mut s,
        warnings,
    } = scenario::load_with_warnings(&req.scenario, &req.sets)?;
    if let Some(seed) = req.seed {
        s.scenario.seed = seed;
    }
    expect::check_figures(&s.expect).map_err(|(field, message)| ScenarioError {
        source: req.scenario.display().to_string(),
        position: None,
        field: Some(field),
        message,
    })?;
    let out_dir = req.out.clone().unwrap_or_else(|| default_folder(&s));
    let claim = outdir::claim(&out_dir, Want::Run(&s.scenario.name), req.force)?;
    for w in &warnings {
        eprintln!("{w}");
    }
    let staging = out_dir.join(outdir::STAGING);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .map_err(|e| RunError::Io(format!("{}: {e}", staging.display())))?;
    }
    let started = std::time::Instant::now();
    let cfg = s.sim_config();
    let sim = match &req.pcap {
        None => Sim::new(cfg),
        Some(p) => {
            let capture = p.open(&cfg).map_err(RunError::Capture)?;
            Sim::new(cfg).with_capture(Box::new(capture))
        }
    };
    let bar = RunProgress::new(req.progress);
    let driven = simulate_into(sim, &staging, &mut |r| bar.advance(r), &req.stop);
    bar.finish();
    let driven = driven?;
    let wall_clock_s = started.elapsed().as_secs_f64();
    let prov = Provenance {
        scenario: s.scenario.name.clone(),
        scenario_hash: scenario::scenario_hash(&s),
        git_rev: git_rev().map(str::to_string),
        command_line: req.command_line.clone(),
    };
    let summary = write_results(&staging, &s, &prov, &driven)?;
    write_host(&staging, wall_clock_s, 1)?;
    copy_source(&req.scenario, &staging)?;
    let Driven { output, stopped } = driven;
    if stopped.is_some() {
        return Ok(RunDone {
            scenario: s,
            out_dir: staging,
            output,
            summary,
            wall_clock_s,
            verdicts: Vec::new(),
            warnings,
            plots: None,
            stopped,
        });
    }
    let mut verdicts = expect::evaluate(&summary, &s.expect, &s.fields());
    if let Ok(text) = std::fs::read_to_string(&req.scenario) {
        expect::in_file_order(&mut verdicts, &scenario::expect_order(&text));
    }
    if !verdicts.is_empty() {
        write_json(
            &staging.join("expect.json"),
            &expect::verdicts_json(&verdicts),
        )?;
    }
    let plots = req.plots.then(|| {
        let started = std::time::Instant::now();
        crate::html::draw_folder(&staging).map(|files| PlotsDone {
            files: files.len().saturating_sub(1),
            wall_clock_s: started.elapsed().as_secs_f64(),
        })
    });
    let previous = match claim {
        Claim::Overwrite => outdir::Set::All,
        Claim::New | Claim::Same => outdir::Set::Run,
    };
    outdir::replace_results(&staging, &out_dir, previous)?;
    Ok(RunDone {
        scenario: s,
        out_dir,
        output,
        summary,
        wall_clock_s,
        verdicts,
        warnings,
        plots,
        stopped: None,
    })
}

/// `x` with `decimals`, or "undefined" (nothing was counted).
fn opt(x: Option<f64>, decimals: usize) -> String {
    x.map_or("undefined".into(), |v| format!("{v:.decimals$}"))
}

/// `x` as a percentage, or "undefined".
fn pct(x: Option<f64>) -> String {
    x.map_or("undefined".into(), |v| format!("{:.2}%", v * 100.0))
}

/// A few lines for a person.
pub fn human_summary(d: &RunDone) -> String {
    let out = &d.output;
    let f = out.lookups.figures();
    let last = out.last_sample();
    let mut s = format!(
        "scenario {} (seed {}), {} peers{}, {:.1} s simulated\n",
        d.scenario.scenario.name,
        d.scenario.scenario.seed,
        out.peers,
        if out.clients > 0 {
            format!(" and {} clients", out.clients)
        } else {
            String::new()
        },
        out.end.as_secs_f64()
    );
    let formed = d.summary["ring"]["formed_s"]
        .as_f64()
        .map_or("never formed".to_string(), |t| {
            format!("formed at {t:.1} s")
        });
    s += &format!(
        "peers at end: {} of {} joined ({} live), ring correct {} over the joined, {formed}\n",
        last.map_or(0, |l| l.joined_peers),
        out.peers,
        last.map_or(0, |l| l.live_peers),
        opt(last.and_then(|l| l.ring_correct_fraction), 3),
    );
    if out.clients > 0 {
        s += &format!(
            "clients at end: {} live of {}; {} connected over the run\n",
            last.map_or(0, |l| l.live_clients),
            out.clients,
            out.counters.clients_connected
        );
    }
    s += &format!(
        "lookups: {} issued, {} ok ({} of finished), {} correct; hops mean {} p99 {}; latency mean {} ms p99 {} ms\n",
        f.issued,
        f.completed,
        pct(f.success_rate),
        f.correct,
        opt(f.hops.mean, 2),
        opt(f.hops.p99, 0),
        opt(f.latency_ms.mean, 1),
        opt(f.latency_ms.p99, 1)
    );
    let c = out.calls.figures();
    if c.issued > 0 || d.scenario.sip.enabled {
        let a = &d.summary["availability"];
        s += &format!(
            "calls: {} placed, {} ok; to registered users {}/{} ok ({}), {} correct; to unregistered {}/{} not_registered; total p50 {} ms p99 {} ms; availability final {} (min {})\n",
            c.issued,
            c.ok,
            c.to_registered_ok,
            c.to_registered_finished,
            pct(c.success_rate),
            c.correct,
            c.to_unregistered_not_registered,
            c.to_unregistered_finished,
            opt(c.total_ms.p50, 1),
            opt(c.total_ms.p99, 1),
            opt(a["final"].as_f64(), 4),
            opt(a["min"].as_f64(), 4),
        );
    }
    s += &format!(
        "traffic: {} messages, {} acks, {} bytes; trace {:016x}\n",
        d.output.traffic.messages,
        d.output.traffic.acks,
        d.output.traffic.bytes,
        d.output.trace_digest
    );
    s += &format!(
        "wrote {}{} ({:.2} s wall clock)",
        if d.stopped.is_some() {
            "the partial results to "
        } else {
            ""
        },
        d.out_dir.display(),
        d.wall_clock_s
    );
    s
}

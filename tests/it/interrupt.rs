//! `reload-sim run` and `reload-sim sweep` stopped by SIGINT or SIGTERM, as real processes:
//! the simulation stops at the simulated time reached, its files stay in a staging folder
//! with `summary.json` marked `"complete": false`, the status is 128 + the signal number,
//! and no folder is left that looks complete (an earlier complete run stays as it was).
//!
//! Every wait is bounded, and the child is killed if the test fails on the way.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{TINY, bin, scratch};

/// Longest wait for the child to start its run, or to exit once signalled.
const LIMIT: Duration = Duration::from_secs(120);

/// A `reload-sim` process, killed (SIGKILL) when dropped so that a failing assertion does
/// not leave it running.
struct Running(Child);

impl Running {
    fn start(args: &[&str]) -> Running {
        let child = Command::new(env!("CARGO_BIN_EXE_reload-sim"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("binary starts");
        Running(child)
    }

    /// Waits until `ready()` holds, failing if the process exits first or `LIMIT` passes.
    fn wait_until(&mut self, what: &str, ready: impl Fn() -> bool) {
        let started = Instant::now();
        while !ready() {
            if let Some(status) = self.0.try_wait().unwrap() {
                panic!("reload-sim exited ({status}) before {what}");
            }
            assert!(started.elapsed() < LIMIT, "no {what} after {LIMIT:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `sig` (`INT`, `TERM`) with kill(1).
    fn signal(&self, sig: &str) {
        let sent = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.0.id().to_string())
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{sig} failed");
    }

    /// Waits for the process to exit (at most `LIMIT`); its status and standard error.
    fn exit(mut self) -> (ExitStatus, String) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < LIMIT,
                "still running {LIMIT:?} after the signal"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        if let Some(mut e) = self.0.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        (status, err)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `reload-sim ARGS`, waits until its run has begun writing `folder` (its
/// `timeseries.csv` exists), sends `sig` and waits for the exit: the status and stderr.
fn stopped_by(sig: &str, args: &[&str], folder: &Path) -> (ExitStatus, String) {
    let mut run = Running::start(args);
    run.wait_until("a run folder", || folder.join("timeseries.csv").is_file());
    run.signal(sig);
    run.exit()
}

fn json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// The scenario file of [`TINY`] (40 s) in `dir`.
fn tiny_file(dir: &Path) -> String {
    let p = dir.join("tiny.toml");
    std::fs::write(&p, TINY).unwrap();
    p.display().to_string()
}

/// `--set` making [`TINY`] last 100 simulated hours: far longer than any test waits.
const LONG: &str = "scenario.duration_s=360000";

/// Checks the staging folder of a stopped run: the CSV files so far, `summary.json`
/// marked partial at the simulated time reached, no plots, report or expect.json.
fn assert_partial(staging: &Path) {
    let s = json(&staging.join("summary.json"));
    assert_eq!(s["complete"], Value::Bool(false), "{s}");
    let reached = s["reached_s"].as_f64().unwrap();
    assert!((0.0..360000.0).contains(&reached), "{reached}");
    assert_eq!(s["duration_s"].as_f64(), Some(reached));
    let keys: Vec<&String> = s.as_object().unwrap().keys().take(2).collect();
    assert_eq!(keys, ["complete", "reached_s"]);
    for f in [
        "lookups.csv",
        "timeseries.csv",
        "traffic.csv",
        "call_setups.csv",
        "scenario.toml",
        "host.json",
    ] {
        assert!(staging.join(f).is_file(), "{f} missing");
    }
    for f in ["plots", "report.html", "expect.json"] {
        assert!(!staging.join(f).exists(), "{f} written");
    }
}

#[test]
fn sigint_stops_a_run_and_leaves_the_previous_results_as_they_were() {
    let dir = scratch("interrupt-run");
    let file = tiny_file(&dir);
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    let first = bin(&["run", &file, "--out", o, "--no-plots"]);
    assert!(first.status.success(), "{first:?}");
    let before = std::fs::read(out.join("summary.json")).unwrap();

    let staging = out.join(".reload-sim-partial");
    let args = ["run", &file, "--out", o, "--set", LONG];
    let (status, err) = stopped_by("INT", &args, &staging);
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("SIGINT: stopped at"), "{err}");
    assert!(err.contains(".reload-sim-partial"), "{err}");
    assert_partial(&staging);
    // The folder still holds the complete earlier run, untouched.
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), before);
    assert!(json(&out.join("summary.json")).get("complete").is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sigterm_stops_a_run_into_a_new_folder_and_the_next_run_removes_its_files() {
    let dir = scratch("interrupt-new");
    let file = tiny_file(&dir);
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    let staging = out.join(".reload-sim-partial");
    let args = ["run", &file, "--out", o, "--set", LONG];
    let (status, err) = stopped_by("TERM", &args, &staging);
    assert_eq!(status.code(), Some(143), "{err}");
    assert!(err.contains("SIGTERM"), "{err}");
    assert_partial(&staging);
    // Nothing outside the staging folder: the folder does not look like a run.
    let names: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(names, std::slice::from_ref(&staging));
    let again = bin(&["run", &file, "--out", o, "--no-plots"]);
    assert!(again.status.success(), "{again:?}");
    assert!(!staging.exists());
    assert!(json(&out.join("summary.json")).get("complete").is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sigterm_stops_a_sweep_keeping_its_run_partial() {
    let dir = scratch("interrupt-sweep");
    let p = dir.join("sweep.toml");
    let text = format!("{TINY}\n[sweep]\nseeds = 2\n[sweep.grid]\n\"peers.count\" = [10]\n");
    std::fs::write(&p, text).unwrap();
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    let partial = out.join("point-000/seed-7.partial");
    let file = p.to_str().unwrap();
    let args = [
        "sweep", file, "--out", o, "-j", "1", "--quiet", "--set", LONG,
    ];
    let (status, err) = stopped_by("TERM", &args, &partial);
    assert_eq!(status.code(), Some(143), "{err}");
    assert!(err.contains("sweep stopped"), "{err}");
    assert_partial(&partial);
    // No run looks finished, the second seed never started, nothing was aggregated.
    assert!(!out.join("point-000/seed-7").exists());
    assert!(!out.join("point-000/seed-8.partial").exists());
    assert!(!out.join("aggregate.csv").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// In process: a [`Stop`] request made from the progress callback ends the run at the
/// simulated time of that report, with the last sample taken then.
#[test]
fn a_stop_request_ends_the_run_at_the_time_reached() {
    use reload_sim::runner::{Stop, simulate_into};
    use reload_sim::sim::Sim;
    let dir = scratch("interrupt-lib");
    let s = reload_sim::scenario::parse(TINY, "tiny.toml", &[]).unwrap();
    let stop = Stop::default();
    let mut at = None;
    let mut progress = |r: &reload_sim::runner::Reached| {
        if at.is_none() && r.now.0 >= r.end.0 / 2 {
            at = Some(r.now);
            stop.request(7);
        }
    };
    let run = simulate_into(Sim::new(s.sim_config()), &dir, &mut progress, &stop).unwrap();
    let at = at.unwrap();
    assert_eq!(run.stopped, Some(7));
    assert!(at < Sim::new(s.sim_config()).end());
    assert_eq!(run.output.end, at);
    assert_eq!(run.output.last_sample().map(|l| l.time), Some(at));
    assert!(dir.join("lookups.csv").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

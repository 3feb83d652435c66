//! The figures a run publishes mean what they say: percentiles equal the data's, rates
//! over nothing are undefined (`null`), clients are not counted as peers, the ring is
//! "formed" only once the overlay the scenario asked for exists, and the recorded
//! revision is the simulator's own.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use reload_sim::report::{Provenance, summary_json};
use reload_sim::runner::simulate;
use reload_sim::scenario::parse;
use serde_json::Value;

use crate::common::{bin, scratch};

fn summary_of(text: &str, sets: &[&str]) -> Value {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let s = parse(text, "figures.toml", &sets).unwrap();
    summary_json(&Provenance::default(), &simulate(&s))
}

const ONLY: &str = "[scenario]\nname = \"only\"\n";

/// `reload-sim run` of `text` (written to a scratch folder named `name`) with `args`,
/// without plots; returns the output folder and what the command did.
fn run_cli(name: &str, text: &str, args: &[&str]) -> (PathBuf, Output) {
    let d = scratch(name);
    let scn = d.join("scenario.toml");
    std::fs::write(&scn, text).unwrap();
    let out = d.join("out");
    let mut all = vec![
        "run",
        scn.to_str().unwrap(),
        "--no-plots",
        "--out",
        out.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let o = bin(&all);
    (out, o)
}

fn succeeded(o: &Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Nearest-rank percentile of sorted values.
fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
    sorted[rank - 1]
}

#[test]
fn percentiles_of_zero_values_are_zero() {
    let v = summary_of(
        ONLY,
        &["peers.count=1", "workload.lookup_rate_per_peer_per_s=1"],
    );
    assert!(v["hops"]["count"].as_u64().unwrap() > 20, "{}", v["hops"]);
    for key in ["mean", "p50", "p90", "p99", "max"] {
        assert_eq!(v["hops"][key], 0.0, "hops.{key}: {}", v["hops"]);
        assert_eq!(v["latency_ms"][key], 0.0, "latency_ms.{key}");
    }
}

#[test]
fn hop_percentiles_equal_the_lookups_csv() {
    let sets = [
        "--set",
        "peers.count=2",
        "--set",
        "workload.lookup_rate_per_peer_per_s=1",
    ];
    let (out, o) = run_cli("figures-hops", ONLY, &sets);
    succeeded(&o);
    let mut r = csv::Reader::from_path(out.join("lookups.csv")).unwrap();
    let mut hops: Vec<f64> = r
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[5] == "ok" && !r[3].is_empty())
        .map(|r| r[3].parse().unwrap())
        .collect();
    hops.sort_by(f64::total_cmp);
    assert!(hops.contains(&0.0) && hops.contains(&1.0), "{hops:?}");
    let v = read_json(&out.join("summary.json"));
    for (key, q) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
        assert_eq!(
            v["hops"][key].as_f64(),
            Some(nearest_rank(&hops, q)),
            "hops.{key}"
        );
    }
    assert_eq!(v["hops"]["max"].as_f64(), hops.last().copied());
}

#[test]
fn rates_over_nothing_are_null() {
    // No SIP, no lookups: nothing to take a rate of.
    let v = summary_of(ONLY, &["peers.count=3", "scenario.duration_s=20"]);
    for path in [
        "/lookups/success_rate",
        "/lookups/correct_rate",
        "/calls/success_rate",
        "/calls/correct_rate",
        "/calls/not_registered_rate",
        "/availability/final",
        "/availability/mean",
        "/availability/min",
        "/hops/mean",
        "/hops/p99",
        "/calls/total_ms/p50",
    ] {
        assert_eq!(v.pointer(path), Some(&Value::Null), "{path}");
    }
    assert_eq!(v["hops"]["count"], 0);
    assert_eq!(v["calls"]["issued"], 0);
}

const SIP_WITH_CLIENTS: &str = r#"
[scenario]
name = "with-clients"
duration_s = 60
sample_interval_s = 5
[peers]
count = 12
arrival_window_s = 5
clients = 8
[sip]
enabled = true
call_rate_per_s = 1
call_start_s = 30
"#;

#[test]
fn clients_are_not_counted_as_peers() {
    let (out, o) = run_cli("figures-clients", SIP_WITH_CLIENTS, &[]);
    succeeded(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("12 peers and 8 clients"), "{text}");
    assert!(text.contains("12 of 12 joined (12 live)"), "{text}");
    let v = read_json(&out.join("summary.json"));
    assert_eq!(
        (v["peers"].as_u64(), v["clients"].as_u64()),
        (Some(12), Some(8))
    );
    assert_eq!(v["final"]["live_peers"], 12);
    assert_eq!(v["final"]["live_clients"], 8);
    assert_eq!(v["final"]["joined_peers"], 12);
    let mut r = csv::Reader::from_path(out.join("timeseries.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (lp, lc) = (col("live_peers"), col("live_clients"));
    let last = r.records().map(|r| r.unwrap()).last().unwrap();
    assert_eq!((&last[lp], &last[lc]), ("12", "8"));
}

#[test]
fn the_ring_forms_when_every_scheduled_peer_has_joined() {
    let v = summary_of(
        ONLY,
        &[
            "peers.count=60",
            "peers.arrival_window_s=30",
            "scenario.duration_s=90",
        ],
    );
    let formed = v["ring"]["formed_s"].as_f64().expect("formed");
    // The last of 60 peers arrives at 30·59/60 = 29.5 s and needs a round trip or more.
    assert!(formed >= 30.0, "formed at {formed}");
    assert_eq!(v["final"]["joined_peers"], 60);
    assert_eq!(v["ring"]["min_after_formed"], 1.0);
}

#[test]
fn a_ring_that_never_formed_says_so() {
    let sets = [
        "peers.count=50",
        "network.loss=1.0",
        "scenario.duration_s=30",
    ];
    let v = summary_of(ONLY, &sets);
    for k in [
        "formed_s",
        "longest_recovery_s",
        "mean_after_formed",
        "min_after_formed",
    ] {
        assert_eq!(v["ring"][k], Value::Null, "ring.{k}");
    }
    assert_eq!(v["final"]["joined_peers"], 1);
    let args: Vec<&str> = sets.iter().flat_map(|s| ["--set", s]).collect();
    let (_, o) = run_cli("figures-loss", ONLY, &args);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("1 of 50 joined") && text.contains("never formed"),
        "{text}"
    );
}

#[test]
fn a_bound_on_an_undefined_figure_says_so() {
    let text =
        format!("{ONLY}[peers]\ncount = 3\n[expect]\n\"calls.success_rate\" = {{ min = 0.5 }}\n");
    let (out, o) = run_cli("figures-expect", &text, &[]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("calls.success_rate = undefined"), "{err}");
    let v = read_json(&out.join("expect.json"));
    assert_eq!(v["bounds"][0]["undefined"], true);
    assert_eq!(v["bounds"][0]["pass"], false);
}

fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn the_recorded_revision_is_the_simulators_own() {
    let own = env!("RELOAD_SIM_GIT_REV");
    // Somebody else's repository, as the working directory of the run.
    let d = scratch("figures-rev");
    git(&d, &["init", "-q"]);
    std::fs::write(d.join("s.toml"), ONLY).unwrap();
    git(&d, &["add", "s.toml"]);
    git(&d, &["commit", "-q", "-m", "theirs"]);
    let theirs = git(&d, &["rev-parse", "HEAD"]);
    let o = Command::new(env!("CARGO_BIN_EXE_reload-sim"))
        .args([
            "run",
            "s.toml",
            "--no-plots",
            "--set",
            "peers.count=2",
            "--out",
            "out",
        ])
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = read_json(&d.join("out/summary.json"));
    assert_ne!(v["git_rev"].as_str(), Some(theirs.as_str()));
    if own.is_empty() {
        // Built outside a checkout: unknown, never somebody else's.
        assert_eq!(v["git_rev"], Value::Null);
    } else {
        assert_eq!(v["git_rev"].as_str(), Some(own));
        assert_eq!(own.len(), 40);
        assert!(v["git_dirty"].is_boolean());
    }
}

#[test]
fn sweeps_leave_undefined_figures_out_and_keep_intervals_in_range() {
    let d = scratch("figures-sweep");
    let scn = d.join("s.toml");
    let text = format!(
        "{}\n[sweep]\nseeds = 3\n[sweep.grid]\n\"network.loss\" = [0.0, 0.3]\n",
        crate::common::TINY
    );
    std::fs::write(&scn, text).unwrap();
    let out = d.join("out");
    let o = bin(&[
        "sweep",
        scn.to_str().unwrap(),
        "-j",
        "2",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    succeeded(&o);
    let mut r = csv::Reader::from_path(out.join("aggregate.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
    let mc = col("metric");
    let metric = |m: &'static str| rows.iter().filter(move |r| &r[mc] == m);
    // No calls in TINY: no row, rather than a mean of 0 over three zeros.
    assert_eq!(metric("calls.success_rate").count(), 0);
    assert_eq!(metric("availability.mean").count(), 0);
    assert_eq!(metric("hops.mean").count(), 2);
    for m in ["lookups.success_rate", "final.ring_correct_fraction"] {
        for row in metric(m) {
            let hi: f64 = row[col("ci95_high")].parse().unwrap();
            let lo: f64 = row[col("ci95_low")].parse().unwrap();
            assert!(
                (0.0..=1.0).contains(&lo) && (0.0..=1.0).contains(&hi),
                "{m}: {row:?}"
            );
        }
    }
    for row in metric("ring.longest_recovery_s").chain(metric("latency_ms.p99")) {
        let lo: f64 = row[col("ci95_low")].parse().unwrap();
        assert!(lo >= 0.0, "{row:?}");
    }
}

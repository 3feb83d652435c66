//! Reports: stable CSV headers, `reload-sim run` output files, and determinism of whole runs
//! through the scenario layer (same seed → same digest and same CSV bytes).

use std::process::Command;

use reload_sim::report::csv::{LOOKUP_COLUMNS, lookups_csv, timeseries_csv, timeseries_header};
use reload_sim::runner::simulate;
use reload_sim::scenario::parse;
use reload_sim::sim::metrics::Metrics;

#[test]
fn csv_headers_are_stable() {
    assert_eq!(
        LOOKUP_COLUMNS.join(","),
        "time_s,origin,key,hops,latency_ms,outcome,correct,responder"
    );
    let h = timeseries_header(Metrics::new().method_names()).join(",");
    assert!(
        h.starts_with(
            "time_s,live_peers,live_clients,joined_peers,ring_correct_fraction,lookups_issued,lookups_ok,\
             lookups_failed,messages,bytes,acks,msgs_probe_req,msgs_probe_ans,msgs_attach_req,"
        ),
        "{h}"
    );
    assert!(
        h.ends_with(
            ",msgs_path_track_req,msgs_path_track_ans,msgs_error,msgs_unknown,\
             registrations_live,registrations_available,availability,calls_issued,calls_ok,\
             calls_failed,stores_ok,stores_failed,call_fetches_ok,call_fetches_failed"
        ),
        "{h}"
    );
    assert_eq!(h.split(',').count(), 11 + 33 + 1 + 10);
}

const SMALL: &str = r#"
[scenario]
name = "small"
duration_s = 30
sample_interval_s = 5
[peers]
count = 40
arrival = "staggered"
arrival_window_s = 5
[overlay]
chord_update_interval_s = 10
chord_ping_interval_s = 20
[network]
latency = "coordinates"
latency_ms = 40
[churn]
enabled = true
mean_session_s = 20
mean_down_s = 5
start_s = 10
[workload]
lookup_rate_per_peer_per_s = 0.5
start_s = 8
"#;

fn run_small(seed: u64) -> (u64, Vec<u8>, Vec<u8>) {
    let mut s = parse(SMALL, "small.toml", &[]).unwrap();
    s.scenario.seed = seed;
    let out = simulate(&s);
    let l = lookups_csv(out.lookups.records()).unwrap();
    let t = timeseries_csv(&out).unwrap();
    (out.trace_digest, l, t)
}

#[test]
fn same_scenario_and_seed_give_identical_digest_and_csv_bytes() {
    let a = run_small(11);
    let b = run_small(11);
    let rows = String::from_utf8_lossy(&a.1).lines().count();
    assert!(
        rows > 10,
        "the run should look things up ({rows} lookup rows)"
    );
    assert_eq!(a.0, b.0);
    assert_eq!(a.1, b.1);
    assert_eq!(a.2, b.2);
}

#[test]
fn different_seeds_give_different_digests() {
    let a = run_small(1);
    let b = run_small(2);
    assert_ne!(a.0, b.0, "with real peers traffic depends on the seed");
}

#[test]
fn cli_run_writes_results_deterministically() {
    let dir = std::env::temp_dir().join(format!("reload-sim-run-{}", std::process::id()));
    let scn = dir.join("small.toml");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(&scn, SMALL).unwrap();
    let run = |out: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_reload-sim"))
            .args([
                "run",
                scn.to_str().unwrap(),
                "--seed",
                "5",
                "--set",
                "peers.count=30",
            ])
            .args(["--out", dir.join(out).to_str().unwrap()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let text = run("a");
    assert!(text.contains("scenario small (seed 5), 30 peers"), "{text}");
    run("b");
    for f in [
        "lookups.csv",
        "call_setups.csv",
        "timeseries.csv",
        "events.csv",
        "scenario.toml",
    ] {
        let a = std::fs::read(dir.join("a").join(f)).unwrap();
        let b = std::fs::read(dir.join("b").join(f)).unwrap();
        assert_eq!(a, b, "{f} differs between identical runs");
    }
    let summary = |d: &str| {
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(d).join("summary.json")).unwrap())
                .unwrap();
        let o = v.as_object_mut().unwrap();
        for k in ["host", "command_line", "git_rev"] {
            o.remove(k);
        }
        v
    };
    let (a, b) = (summary("a"), summary("b"));
    assert_eq!(a, b);
    assert_eq!(a["seed"], 5);
    assert_eq!(a["peers"], 30);
    assert_eq!(a["scenario"], "small");
    assert_eq!(a["scenario_hash"].as_str().unwrap().len(), 40);
    for key in [
        "lookups",
        "hops",
        "latency_ms",
        "final",
        "traffic",
        "trace_digest",
    ] {
        assert!(a.get(key).is_some(), "summary.json lacks {key}");
    }
    let effective = std::fs::read_to_string(dir.join("a").join("scenario.toml")).unwrap();
    let again = parse(&effective, "scenario.toml", &[]).unwrap();
    assert_eq!(again.peers.count, 30);
    assert_eq!(again.scenario.seed, 5);
}

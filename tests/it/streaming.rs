//! The CSV files `reload-sim run` streams while the run goes are byte for byte those the
//! in-memory formatters give from every record kept to the end, and its summary is the
//! in-memory run's: lookups and calls that finish out of order (loss, churn, timeouts,
//! callers gone) are still written in issue order, pending ones at the end.

use reload_sim::report::csv::{calls_csv, lookups_csv, timeseries_csv, traffic_csv};
use reload_sim::report::{Provenance, summary_json};
use reload_sim::runner::{self, RunRequest, simulate};
use reload_sim::scenario::{self, parse};
use reload_sim::sim::calls::CallOutcome;
use reload_sim::sim::lookups::Outcome;

use crate::common::scratch;

/// 40 peers and 10 clients with lookups and SIP calls, 2 % loss and churn (crashes and
/// leaves): lookups and calls time out, lose their origin, and are still in flight at the
/// end.
pub const MIXED: &str = r#"
[scenario]
name = "streaming-mixed"
seed = 4
duration_s = 150
sample_interval_s = 5
[peers]
count = 40
arrival = "staggered"
arrival_window_s = 10
clients = 10
[overlay]
chord_update_interval_s = 30
chord_ping_interval_s = 60
[network]
latency = "coordinates"
latency_ms = 60
loss = 0.02
[churn]
enabled = true
model = "exponential"
mean_session_s = 300
mean_down_s = 60
rejoin = true
crash_fraction = 0.5
[workload]
lookup_rate_per_peer_per_s = 0.5
start_s = 20
[sip]
enabled = true
registered_fraction = 0.8
register_start_s = 20
call_rate_per_s = 3
call_start_s = 30
unregistered_call_fraction = 0.1
"#;

#[test]
fn streamed_files_are_byte_identical_to_the_in_memory_ones() {
    let dir = scratch("streaming-mixed");
    let file = dir.join("mixed.toml");
    std::fs::write(&file, MIXED).unwrap();
    let out_dir = dir.join("out");
    let done = runner::run(&RunRequest {
        scenario: file.clone(),
        out: Some(out_dir.clone()),
        ..RunRequest::default()
    })
    .unwrap();
    // The streaming run kept nothing but figures.
    assert!(done.output.lookups.records().is_empty());
    assert!(done.output.calls.records().is_empty());
    assert!(done.output.samples.is_empty());

    let s = parse(MIXED, "mixed.toml", &[]).unwrap();
    let mem = simulate(&s);
    let lookups = mem.lookups.records();
    let calls = mem.calls.records();
    // The run exercises the reorder window: records finishing after a later one, origins
    // gone, and records still pending at the end.
    let later_first = |done: Vec<_>| done.windows(2).any(|w: &[_]| w[0] > w[1]);
    assert!(later_first(lookups.iter().map(|r| r.done).collect()));
    assert!(later_first(calls.iter().map(|r| r.done).collect()));
    for o in [Outcome::Timeout, Outcome::OriginGone, Outcome::Pending] {
        assert!(lookups.iter().any(|r| r.outcome == o), "no {o:?} lookup");
    }
    for o in [
        CallOutcome::Ok,
        CallOutcome::OriginGone,
        CallOutcome::Pending,
    ] {
        assert!(calls.iter().any(|r| r.outcome == o), "no {o:?} call");
    }

    let read = |name: &str| std::fs::read(out_dir.join(name)).unwrap();
    assert_eq!(read("lookups.csv"), lookups_csv(lookups).unwrap());
    assert_eq!(read("call_setups.csv"), calls_csv(calls).unwrap());
    assert_eq!(read("timeseries.csv"), timeseries_csv(&mem).unwrap());
    assert_eq!(read("traffic.csv"), traffic_csv(&mem).unwrap());

    let prov = Provenance {
        scenario: s.scenario.name.clone(),
        scenario_hash: scenario::scenario_hash(&s),
        git_rev: runner::git_rev().map(str::to_string),
        command_line: Vec::new(),
    };
    let mut json = serde_json::to_string_pretty(&summary_json(&prov, &mem)).unwrap();
    json.push('\n');
    assert_eq!(
        String::from_utf8(read("summary.json")).unwrap(),
        json,
        "summary.json"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn quickstart_streams_the_same_files() {
    let sets = [
        "peers.count=60",
        "scenario.duration_s=70",
        "workload.start_s=25",
    ];
    let dir = scratch("streaming-quickstart");
    let out_dir = dir.join("out");
    runner::run(&RunRequest {
        scenario: "scenarios/quickstart.toml".into(),
        out: Some(out_dir.clone()),
        sets: sets.iter().map(|s| s.to_string()).collect(),
        ..RunRequest::default()
    })
    .unwrap();
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let mem = simulate(
        &scenario::load(std::path::Path::new("scenarios/quickstart.toml"), &sets).unwrap(),
    );
    assert!(mem.lookups.figures().completed > 100);
    let read = |name: &str| std::fs::read(out_dir.join(name)).unwrap();
    assert_eq!(
        read("lookups.csv"),
        lookups_csv(mem.lookups.records()).unwrap()
    );
    assert_eq!(
        read("call_setups.csv"),
        calls_csv(mem.calls.records()).unwrap()
    );
    assert_eq!(read("timeseries.csv"), timeseries_csv(&mem).unwrap());
    assert_eq!(read("traffic.csv"), traffic_csv(&mem).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

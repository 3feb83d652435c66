//! Churn models: session and down times drawn from each distribution, trace replay, and
//! bad settings or traces refused before the run naming the file, line and field.

use std::path::PathBuf;

use reload_sim::runner::simulate;
use reload_sim::scenario::{load, parse, scenario_hash};

/// 30 peers, joined by 10 s, churning from 20 s, 600 s long, lookups throughout.
const BASE: &str = r#"
[scenario]
name = "churn-models"
seed = 5
duration_s = 600
sample_interval_s = 10
[peers]
count = 30
arrival_window_s = 10
[overlay]
chord_update_interval_s = 10
chord_ping_interval_s = 10
[workload]
lookup_rate_per_peer_per_s = 0.1
start_s = 20
[churn]
enabled = true
start_s = 20
crash_fraction = 0.5
"#;

fn with(churn: &str) -> reload_sim::scenario::Scenario {
    parse(&format!("{BASE}{churn}"), "churn.toml", &[]).unwrap()
}

fn err(churn: &str) -> String {
    crate::common::parse_error(&format!("{BASE}{churn}"), "churn.toml")
}

/// Departures (crashes and leaves) of a run.
fn departures(churn: &str) -> u64 {
    let out = simulate(&with(churn));
    out.counters.crashes + out.counters.leaves
}

#[test]
fn every_session_model_churns_at_the_rate_its_mean_says() {
    // 29 churning peers over 580 s, each cycle a session plus a 20 s down time: about
    // 29 × 580 / (mean + 20) departures, whatever the distribution.
    let models = [
        r#"session = { model = "exponential", mean_s = 60 }"#,
        r#"session = { model = "weibull", shape = 0.7, scale_s = 47.4 }"#, // mean 60.0
        r#"session = { model = "pareto", shape = 3.0, scale_s = 120 }"#,   // mean 60
        r#"session = { model = "lognormal", median_s = 50, sigma = 0.6 }"#, // mean 59.9
        r#"session = { model = "uniform", min_s = 30, max_s = 90 }"#,
        r#"session = { model = "fixed", value_s = 60 }"#,
    ];
    let expected = 29.0 * 580.0 / 80.0;
    for m in models {
        let n = departures(&format!(
            "{m}\ndown = {{ model = \"fixed\", value_s = 20 }}\n"
        )) as f64;
        assert!(
            (n - expected).abs() < 0.2 * expected,
            "{m}: {n} departures, about {expected} expected"
        );
    }
    // Longer sessions churn less: the mean is what matters.
    let down = "down = { model = \"fixed\", value_s = 20 }\n";
    let slow = departures(&format!(
        "session = {{ model = \"weibull\", shape = 0.7, scale_s = 237 }}\n{down}"
    ));
    let fast = departures(&format!(
        "session = {{ model = \"weibull\", shape = 0.7, scale_s = 47.4 }}\n{down}"
    ));
    assert!(slow * 3 < fast, "{slow} vs {fast}");
}

#[test]
fn the_mean_fields_stay_the_exponential_shorthand() {
    let short = "mean_session_s = 60\nmean_down_s = 20\n";
    let long = "session = { model = \"exponential\", mean_s = 60 }\ndown = { model = \"exponential\", mean_s = 20 }\n";
    let a = simulate(&with(short));
    let b = simulate(&with(long));
    assert_eq!(a.trace_digest, b.trace_digest);
    assert!(a.counters.crashes > 0);
}

#[test]
fn adding_a_model_leaves_the_other_streams_alone() {
    // The same run without churn and with a session model that never ends a session in
    // the run: identical traffic, as churn draws from its own stream.
    let quiet = parse(BASE, "churn.toml", &["churn.enabled=false".into()]).unwrap();
    let never = with("session = { model = \"fixed\", value_s = 100000 }\n");
    assert_eq!(simulate(&quiet).trace_digest, simulate(&never).trace_digest);
}

#[test]
fn bad_distributions_are_refused_naming_the_field() {
    let e = err("session = { model = \"weibull\", shape = 0, scale_s = 10 }\n");
    assert!(
        e.contains("field `churn.session.shape`") && e.contains("must be > 0"),
        "{e}"
    );
    let e = err("session = { model = \"weibull\", shape = 2 }\n");
    assert!(e.contains("churn.toml:") && e.contains("scale_s"), "{e}");
    let e = err("session = { model = \"gamma\", shape = 2 }\n");
    assert!(e.contains("gamma"), "{e}");
    let e = err("session = { model = \"fixed\", value_s = 3, mean_s = 4 }\n");
    assert!(e.contains("mean_s"), "{e}");
    let e = err("down = { model = \"uniform\", min_s = 9, max_s = 3 }\n");
    assert!(
        e.contains("field `churn.down.max_s`") && e.contains("≥ min_s"),
        "{e}"
    );
    let e = err("trace = \"t.csv\"\n");
    assert!(e.contains("field `churn.trace`"), "{e}");
    let e = err("model = \"trace\"\n");
    assert!(
        e.contains("field `churn.trace`") && e.contains("needs"),
        "{e}"
    );
    let e =
        err("model = \"trace\"\ntrace = \"t.csv\"\nsession = { model = \"fixed\", value_s = 3 }\n");
    assert!(e.contains("field `churn.session`"), "{e}");
}

/// A scenario file and its trace in a fresh folder.
fn files(name: &str, churn: &str, trace: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("reload-sim-trace-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("traces")).unwrap();
    let base = BASE.replace("crash_fraction = 0.5\n", "");
    std::fs::write(dir.join("traces/t.csv"), trace).unwrap();
    let path = dir.join("s.toml");
    std::fs::write(&path, format!("{base}{churn}")).unwrap();
    path
}

const TRACE: &str = "node,time_s,event
# peers 20..29 are away until they join
20,100,join
21,100,join
3,150,crash
4,150,leave
20,300,crash
3,350,join
";

#[test]
fn a_trace_is_replayed_row_by_row() {
    let mut trace = String::from(TRACE);
    for n in 22..30 {
        trace.push_str(&format!("{n},200,join\n"));
    }
    let path = files(
        "replay",
        "model = \"trace\"\ntrace = \"traces/t.csv\"\n",
        &trace,
    );
    let s = load(&path, &[]).unwrap();
    let out = simulate(&s);
    let c = &out.counters;
    assert_eq!((c.crashes, c.leaves), (2, 1), "{c:?}");
    // 20 at the start, 10 late joiners, node 3 back: 31 arrivals, one of them a return.
    assert_eq!((c.arrivals, c.rejoins), (31, 1), "{c:?}");
    let live = |t: u64| {
        out.samples
            .iter()
            .find(|x| x.time.0 == t * 1_000_000_000)
            .unwrap()
            .live_peers
    };
    assert_eq!(live(90), 20);
    assert_eq!(live(110), 22);
    assert_eq!(live(160), 20);
    assert_eq!(live(210), 28);
    assert_eq!(live(310), 27);
    assert_eq!(live(360), 28);
    // Every late joiner joined.
    assert!(out.join_time_s.count >= 31, "{:?}", out.join_time_s);
    // The same files, the same run; the trace's bytes are part of the scenario hash.
    assert_eq!(
        simulate(&load(&path, &[]).unwrap()).trace_digest,
        out.trace_digest
    );
    let before = scenario_hash(&s);
    std::fs::write(
        path.parent().unwrap().join("traces/t.csv"),
        TRACE.replace("150,crash", "151,crash"),
    )
    .unwrap();
    assert_ne!(scenario_hash(&load(&path, &[]).unwrap()), before);
}

#[test]
fn bad_traces_are_refused_naming_the_file_and_line() {
    let churn = "model = \"trace\"\ntrace = \"traces/t.csv\"\n";
    let path = files("bad", churn, "node,time_s,event\n5,10,crash\n30,20,crash\n");
    let e = load(&path, &[]).unwrap_err().to_string();
    assert!(
        e.contains("t.csv:3:1: field `churn.trace`: node 30 is not a peer of the scenario"),
        "{e}"
    );
    let path = files(
        "twice",
        churn,
        "node,time_s,event\n5,10,crash\n5,20,crash\n",
    );
    let e = load(&path, &[]).unwrap_err().to_string();
    assert!(
        e.contains("t.csv:3:1") && e.contains("is away since line 2"),
        "{e}"
    );
    let path = files(
        "missing",
        "model = \"trace\"\ntrace = \"traces/none.csv\"\n",
        "",
    );
    let e = load(&path, &[]).unwrap_err().to_string();
    assert!(
        e.contains("s.toml:") && e.contains("cannot read the trace"),
        "{e}"
    );
    let path = files("boot", churn, "node,time_s,event\n0,10,crash\n");
    let e = load(&path, &[]).unwrap_err().to_string();
    assert!(e.contains("bootstrap peer"), "{e}");
}

#[test]
fn join_times_count_only_joins_by_the_protocol() {
    // A prebuilt ring starts joined: its peers have no join time; peers coming back after
    // a crash join by the protocol and do.
    let sets = ["peers.arrival=\"prebuilt\"".to_string()];
    let quiet = parse(
        BASE,
        "churn.toml",
        &[sets[0].clone(), "churn.enabled=false".into()],
    )
    .unwrap();
    let out = simulate(&quiet);
    assert_eq!(out.counters.joins, 30);
    assert_eq!(out.join_time_s.count, 0);
    let churned = parse(
        &format!("{BASE}mean_session_s = 120\nmean_down_s = 10\n"),
        "churn.toml",
        &sets,
    )
    .unwrap();
    let out = simulate(&churned);
    assert!(out.counters.rejoins > 20, "{:?}", out.counters);
    assert_eq!(out.join_time_s.count, out.counters.joins - 30);
}

#[test]
fn a_results_folder_carries_its_trace_and_reruns_alone() {
    let path = files(
        "folder",
        "model = \"trace\"\ntrace = \"traces/t.csv\"\n",
        TRACE,
    );
    let out = crate::common::scratch("trace-folder");
    let (first, again) = (out.join("first"), out.join("again"));
    let run = crate::common::run_summary;
    let a = run(&path, &first);
    assert_eq!(
        std::fs::read_to_string(first.join("churn-trace.csv")).unwrap(),
        TRACE
    );
    let effective = std::fs::read_to_string(first.join("scenario.toml")).unwrap();
    assert!(
        effective.contains("trace = \"churn-trace.csv\""),
        "{effective}"
    );
    // The folder's own scenario.toml reruns the run: its copy of the trace is the trace.
    let b = run(&first.join("scenario.toml"), &again);
    for k in ["scenario_hash", "trace_digest"] {
        assert_eq!(a[k], b[k], "{k}");
    }
}

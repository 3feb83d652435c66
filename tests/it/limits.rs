//! Scenario limits: values that make a run meaningless are refused before it starts, naming
//! file, line and field; values at the documented limits are accepted; settings that are
//! legitimate but do nothing come out as warnings on stderr of `run`, `sweep` and `check`.

use reload_sim::runner::simulate;
use reload_sim::scenario::{Scenario, parse, parse_with_warnings};

use crate::common::{TINY, bin, scratch};

fn err(text: &str, sets: &[&str]) -> String {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    match parse(text, "test.toml", &sets) {
        Ok(_) => panic!("accepted: {text} {sets:?}"),
        Err(e) => e.to_string(),
    }
}

fn accepted(text: &str) -> Scenario {
    parse(text, "test.toml", &[]).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn nonsense_values_are_refused_naming_file_line_and_field() {
    // (section, line that sets the field, field, what the message says)
    let cases = [
        (
            "overlay",
            "successors = 0",
            "overlay.successors",
            "1..=4095",
        ),
        (
            "overlay",
            "predecessors = 0",
            "overlay.predecessors",
            "1..=4095",
        ),
        (
            "overlay",
            "successors = 5000",
            "overlay.successors",
            "1..=4095",
        ),
        ("overlay", "fingers = 100000", "overlay.fingers", "1..=128"),
        ("overlay", "fingers = 0", "overlay.fingers", "1..=128"),
        (
            "overlay",
            "max_message_size = 10",
            "overlay.max_message_size",
            "full Update",
        ),
        ("overlay", "link_window = 0", "overlay.link_window", "≥ 1"),
        // RFC 6940 §6.3.2: the overlay name is a DNS name.
        (
            "overlay",
            "name = \"under_score.example\"",
            "overlay.name",
            "character '_' is not allowed",
        ),
        (
            "overlay",
            "name = \"trailing.dot.\"",
            "overlay.name",
            "must be a DNS name",
        ),
        ("overlay", "name = \"\"", "overlay.name", "empty"),
        ("overlay", "initial_ttl = 0", "overlay.initial_ttl", "≥ 1"),
        (
            "overlay",
            "request_sends = 0",
            "overlay.request_sends",
            "≥ 1",
        ),
        ("overlay", "link_sends = 0", "overlay.link_sends", "≥ 1"),
        (
            "overlay",
            "max_connections = 21",
            "overlay.max_connections",
            "= 22",
        ),
        (
            "overlay",
            "chord_update_interval_s = 0",
            "overlay.chord_update_interval_s",
            "≥ 1 ms",
        ),
        (
            "overlay",
            "chord_ping_interval_s = 0.0001",
            "overlay.chord_ping_interval_s",
            "≥ 1 ms",
        ),
        (
            "overlay",
            "reliability_timer_ms = 0",
            "overlay.reliability_timer_ms",
            "≥ 1 ms",
        ),
        (
            "overlay",
            "link_rto_ms = 0",
            "overlay.link_rto_ms",
            "≥ 1 ms",
        ),
        (
            "overlay",
            "join_timeout_s = 0",
            "overlay.join_timeout_s",
            "≥ 1 ms",
        ),
        (
            "overlay",
            "duplicate_window_s = -1",
            "overlay.duplicate_window_s",
            "≥ 0",
        ),
        (
            "overlay",
            "duplicate_window_s = nan",
            "overlay.duplicate_window_s",
            "finite",
        ),
        (
            "scenario",
            "sample_interval_s = 0",
            "scenario.sample_interval_s",
            "1 ns",
        ),
        (
            "scenario",
            "sample_interval_s = 1e-12",
            "scenario.sample_interval_s",
            "1 ns",
        ),
        ("scenario", "duration_s = -5", "scenario.duration_s", "≥ 0"),
        (
            "scenario",
            "duration_s = 1e9",
            "scenario.duration_s",
            "10,000,000",
        ),
        (
            "scenario",
            "duration_s = inf",
            "scenario.duration_s",
            "finite",
        ),
        ("peers", "clients = 16777215", "peers.clients", "≤ 16777215"),
        ("network", "loss = nan", "network.loss", "0..=1"),
        ("network", "jitter_ms = -1", "network.jitter_ms", "≥ 0"),
        (
            "churn",
            "crash_fraction = 1.5",
            "churn.crash_fraction",
            "0..=1",
        ),
        (
            "churn",
            "mean_session_s = -1",
            "churn.mean_session_s",
            "≥ 0",
        ),
        (
            "workload",
            "lookup_rate_per_peer_per_s = nan",
            "workload.lookup_rate_per_peer_per_s",
            "finite",
        ),
        ("sip", "call_rate_per_s = -1", "sip.call_rate_per_s", "≥ 0"),
        (
            "sip",
            "registered_fraction = -0.1",
            "sip.registered_fraction",
            "0..=1",
        ),
    ];
    for (section, line, field, says) in cases {
        let text = format!("# a scenario\n[{section}]\n{line}\n");
        let col = line.find('=').unwrap() + 3;
        let e = err(&text, &[]);
        let head = format!("test.toml:3:{col}: field `{field}`: ");
        assert!(e.starts_with(&head), "{line}: {e}");
        assert!(e.contains(says), "{line}: {e}");
        // The same value given with --set names the override.
        let key = line.split(" = ").next().unwrap();
        let value = line.split(" = ").nth(1).unwrap();
        let spec = format!("{section}.{key}={value}");
        let e = err("", &[&spec]);
        assert!(
            e.starts_with(&format!("--set {spec}: field `{field}`: ")),
            "{spec}: {e}"
        );
    }
}

#[test]
fn a_sample_count_error_says_what_to_change() {
    let e = err("[scenario]\nduration_s = 1e9\nsample_interval_s = 1\n", &[]);
    assert!(
        e.contains("1000000000 time-series samples")
            && e.contains("raise scenario.sample_interval_s to at least 100"),
        "{e}"
    );
    let e = err(
        "[scenario]\nduration_s = 2e10\nsample_interval_s = 1e5\n",
        &[],
    );
    assert!(e.contains("longest run, 1e10 s"), "{e}");
    // At the limits: the longest run, and exactly 10^7 samples.
    accepted("[scenario]\nduration_s = 1e10\nsample_interval_s = 1000\n");
    accepted("[scenario]\nduration_s = 1e7\nsample_interval_s = 1\n");
}

#[test]
fn seeds_beyond_the_toml_range_state_the_real_range() {
    let range = "must be in 0..=9223372036854775807 (2^63 − 1";
    let e = err("", &["scenario.seed=9223372036854775808"]);
    assert!(e.contains(range), "{e}");
    assert!(!e.contains("expected u64"), "{e}");
    let e = err("[scenario]\nseed = -1\n", &[]);
    assert!(e.starts_with("test.toml:2:8: field `scenario.seed`"), "{e}");
    assert!(e.contains(range), "{e}");
    let e = err("", &["scenario.seed=abc"]);
    assert!(
        e.contains("expected an integer in 0..=9223372036854775807"),
        "{e}"
    );
    let s = accepted("[scenario]\nseed = 9223372036854775807\n");
    assert_eq!(s.scenario.seed, i64::MAX as u64);
}

#[test]
fn values_at_the_limits_are_accepted() {
    accepted("[overlay]\nsuccessors = 1\npredecessors = 1\nfingers = 1\nlink_window = 1\n");
    accepted("[overlay]\nfingers = 128\n");
    accepted("[overlay]\nmax_connections = 22\nduplicate_window_s = 0\n");
    accepted("[overlay]\nchord_update_interval_s = 0.001\nlink_rto_ms = 1\n");
    accepted("[network]\nloss = 1\n[churn]\ncrash_fraction = 0\n");
    // successors + predecessors + fingers bound the connections, whatever sets them.
    let e = err("[overlay]\nfingers = 128\nmax_connections = 100\n", &[]);
    assert!(
        e.starts_with("test.toml:3:19: field `overlay.max_connections`: must be ≥ successors + predecessors + fingers = 134"),
        "{e}"
    );
    let e = err(
        "[overlay]\nmax_connections = 100\n",
        &["overlay.fingers=128"],
    );
    assert!(
        e.starts_with("test.toml:2:19: field `overlay.max_connections`"),
        "{e}"
    );
}

#[test]
fn a_ring_forms_at_the_smallest_message_size() {
    let min = parse("", "t", &[])
        .unwrap()
        .overlay_config()
        .full_update_len()
        .unwrap();
    let below = format!("[overlay]\nmax_message_size = {}\n", min - 1);
    assert!(err(&below, &[]).contains(&format!("must be ≥ {min} bytes")));
    let s = parse(
        &format!("{TINY}[overlay]\nmax_message_size = {min}\n"),
        "t",
        &[],
    )
    .unwrap();
    let out = simulate(&s);
    let last = out.last_sample().unwrap();
    assert_eq!(last.joined_peers, 20);
    assert_eq!(last.ring_correct_fraction, Some(1.0));
}

#[test]
fn calls_with_sip_off_are_a_warning_with_file_line_and_field() {
    let text = "[scenario]\nduration_s = 30\n[sip]\ncall_rate_per_s = 2\n";
    let l = parse_with_warnings(text, "test.toml", &[]).unwrap();
    let shown: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(
        shown[0].starts_with("warning: test.toml:4:19: field `sip.call_rate_per_s`: 2 calls/s, but sip.enabled = false"),
        "{shown:?}"
    );
    let on = parse_with_warnings(text, "t", &["sip.enabled=true".into()]).unwrap();
    assert!(on.warnings.is_empty(), "{:?}", on.warnings);
    let late = parse_with_warnings(
        "[workload]\nlookup_rate_per_peer_per_s = 1\nstart_s = 60\n",
        "t",
        &[],
    )
    .unwrap();
    assert_eq!(late.warnings.len(), 1);
    assert_eq!(late.warnings[0].field, "workload.start_s");
    let tight = parse_with_warnings("[overlay]\nmax_message_size = 1000\n", "t", &[]).unwrap();
    assert_eq!(tight.warnings.len(), 1);
    assert_eq!(tight.warnings[0].field, "overlay.max_message_size");
    assert!(
        parse_with_warnings("", "t", &[])
            .unwrap()
            .warnings
            .is_empty()
    );
}

#[test]
fn run_sweep_and_check_print_warnings_and_go_ahead() {
    let d = scratch("limits-warn");
    let file = d.join("calls-off.toml");
    std::fs::write(&file, format!("{TINY}[sip]\ncall_rate_per_s = 1\n")).unwrap();
    let f = file.to_str().unwrap();
    let expected = format!("warning: {f}:");
    let o = bin(&[
        "run",
        f,
        "--out",
        d.join("run").to_str().unwrap(),
        "--no-plots",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&expected) && stderr.contains("field `sip.call_rate_per_s`"),
        "{stderr}"
    );
    // `check` skips scenarios without [expect]: give this one a bound so it runs.
    let checked = d.join("checked.toml");
    std::fs::write(
        &checked,
        format!("{TINY}[sip]\ncall_rate_per_s = 1\n[expect]\n\"hops.mean\" = {{ max = 100 }}\n"),
    )
    .unwrap();
    let o = bin(&[
        "check",
        checked.to_str().unwrap(),
        "--out",
        d.join("check").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("field `sip.call_rate_per_s`"), "{stderr}");
    // A sweep that switches SIP off at one of its two points warns once, saying where.
    let sweep = d.join("sweep.toml");
    std::fs::write(
        &sweep,
        format!("{TINY}[sip]\ncall_rate_per_s = 1\n[sweep]\n[sweep.grid]\n\"sip.enabled\" = [true, false]\n"),
    )
    .unwrap();
    let s = sweep.to_str().unwrap();
    let o = bin(&[
        "sweep",
        s,
        "--out",
        d.join("sweep").to_str().unwrap(),
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with(&format!("warning: {s}: field `sip.call_rate_per_s`"))
            && lines[0].ends_with("(in 1 of 2 sweep points)"),
        "{stderr}"
    );
}

#[test]
fn refused_values_exit_2_before_anything_runs() {
    let d = scratch("limits-exit");
    let out = d.join("o");
    for set in [
        "overlay.successors=0",
        "overlay.max_message_size=10",
        "overlay.fingers=100000",
        "scenario.seed=9223372036854775808",
        "scenario.duration_s=1e9",
    ] {
        let o = bin(&[
            "run",
            "scenarios/quickstart.toml",
            "--set",
            set,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{set}");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains(&format!("--set {set}: field `")),
            "{stderr}"
        );
        assert!(!out.exists(), "{set}: output written");
    }
}

#[test]
fn duplicate_grid_values_name_the_field_and_value() {
    let e = err("[sweep.grid]\n\"peers.count\" = [10, 10]\n", &[]);
    assert_eq!(
        e,
        "test.toml:2:17: field `sweep.grid.peers.count`: value 10 is listed twice: its points would run twice"
    );
    let e = err("[sweep.grid]\n\"network.loss\" = [0.1, 0.0, 0.1]\n", &[]);
    assert!(e.contains("value 0.1 is listed twice"), "{e}");
    let e = err("[sweep.grid]\n\"scenario.duration_s\" = [10, 10.0]\n", &[]);
    assert!(e.contains("listed twice"), "{e}");
    accepted(
        "[sweep.grid]\n\"peers.count\" = [10, 11]\n\"network.latency\" = [\"uniform\", \"constant\"]\n",
    );
}

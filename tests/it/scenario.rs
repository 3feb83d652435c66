//! Scenario files: defaults, errors that name file/line/field, unknown keys, `--set`
//! overrides, the scenario hash, the shipped scenarios (valid, no warnings), and
//! `reload-sim run` exit codes.

use std::process::Command;

use reload_sim::scenario::{self, Scenario, parse, scenario_hash};

fn err(text: &str, sets: &[&str]) -> String {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    parse(text, "test.toml", &sets).unwrap_err().to_string()
}

#[test]
fn empty_file_gives_documented_defaults() {
    let s = parse("", "empty.toml", &[]).unwrap();
    assert_eq!(s, Scenario::default());
    assert_eq!(s.scenario.name, "unnamed");
    assert_eq!(s.scenario.seed, 1);
    assert_eq!(s.peers.count, 100);
    assert_eq!(s.overlay.successors, 3);
    assert_eq!(s.overlay.reliability_timer_ms, 3000.0);
    assert_eq!(s.network.latency_ms, 50.0);
    assert!(!s.churn.enabled);
}

#[test]
fn type_error_names_file_line_and_field() {
    let e = err(
        "[scenario]\nname = \"x\"\n\n[peers]\ncount = \"many\"\n",
        &[],
    );
    assert!(e.starts_with("test.toml:5:9: field `peers.count`:"), "{e}");
    assert!(e.contains("expected u32"), "{e}");
}

#[test]
fn unknown_key_is_rejected_with_its_path() {
    let e = err("[network]\nlatency_ms = 20\nlattency = 3\n", &[]);
    assert!(
        e.starts_with("test.toml:3:1: field `network.lattency`:"),
        "{e}"
    );
    assert!(e.contains("unknown field `lattency`"), "{e}");
    let e = err("[netwrk]\nloss = 0.1\n", &[]);
    assert!(e.contains("unknown field `netwrk`"), "{e}");
}

#[test]
fn syntax_and_range_errors_name_the_line() {
    let e = err("[peers\ncount = 1\n", &[]);
    assert!(e.starts_with("test.toml:1:"), "{e}");
    let e = err("# loss\n[network]\nloss = 1.5\n", &[]);
    assert_eq!(e, "test.toml:3:8: field `network.loss`: must be in 0..=1");
    let e = err("[peers]\ncount = 0\n", &[]);
    assert!(e.starts_with("test.toml:2:9: field `peers.count`"), "{e}");
    let e = err("[peers]\narrival = \"sometimes\"\n", &[]);
    assert!(
        e.starts_with("test.toml:2:11: field `peers.arrival`"),
        "{e}"
    );
}

#[test]
fn overrides_set_any_field() {
    let sets: Vec<String> = [
        "peers.count=500",
        "network.latency=uniform",
        "network.loss=0.01",
        "scenario.name=renamed",
        "overlay.chord_reactive=false",
        "scenario.duration_s=30",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let s = parse("[peers]\ncount = 10\n", "t.toml", &sets).unwrap();
    assert_eq!(s.peers.count, 500);
    assert_eq!(s.network.latency, scenario::schema::LatencyKind::Uniform);
    assert_eq!(s.network.loss, 0.01);
    assert_eq!(s.scenario.name, "renamed");
    assert!(!s.overlay.chord_reactive);
    assert_eq!(s.scenario.duration_s, 30.0);
}

#[test]
fn bad_overrides_fail_naming_the_path() {
    let e = err("", &["peers.cont=3"]);
    assert_eq!(e, "--set peers.cont=3: field `peers.cont`: no such field");
    let e = err("", &["nosuch.key=1"]);
    assert!(e.contains("field `nosuch.key`: no such field"), "{e}");
    let e = err("", &["peers=3"]);
    assert!(e.contains("no such field"), "{e}");
    let e = err("", &["peers.count=abc"]);
    assert!(
        e.contains("field `peers.count`") && e.contains("expected u32"),
        "{e}"
    );
    let e = err("", &["peers.count"]);
    assert!(e.contains("expected path.to.key=value"), "{e}");
    let e = err("", &["network.loss=2"]);
    assert!(e.contains("field `network.loss`: must be in 0..=1"), "{e}");
}

#[test]
fn hash_ignores_seed_but_not_settings() {
    let a = parse("", "t", &[]).unwrap();
    let mut b = a.clone();
    b.scenario.seed = 99;
    assert_eq!(scenario_hash(&a), scenario_hash(&b));
    let c = parse("", "t", &["peers.count=7".to_string()]).unwrap();
    assert_ne!(scenario_hash(&a), scenario_hash(&c));
    assert_eq!(scenario_hash(&a).len(), 40);
    // A file that spells out a default hashes like one that leaves it out.
    let d = parse("[peers]\ncount = 100\n", "t", &[]).unwrap();
    assert_eq!(scenario_hash(&a), scenario_hash(&d));
}

#[test]
fn shipped_scenarios_parse_and_document_themselves() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let loaded = scenario::load_with_warnings(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let s = loaded.scenario;
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# "), "{}: header comment", path.display());
        assert!(s.overlay.chord_update_interval_s >= 10.0);
        names.push(s.scenario.name);
    }
    names.sort();
    assert_eq!(
        names,
        [
            "bamboo-churn",
            "burst-loss",
            "chord-churn-rate",
            "chord-mass-failure",
            "churn-basic",
            "churn-trace",
            "join-storm",
            "log-n-routing",
            "log-n-sweep",
            "million",
            "partition-halves",
            "quickstart",
            "replica-failover",
            "simgrid-chord",
            "sip-calls"
        ]
    );
}

#[test]
fn cli_run_rejects_a_bad_scenario_with_a_clear_message() {
    let dir = std::env::temp_dir().join(format!("reload-sim-scn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    // The second: an overlay name that is no DNS name (RFC 6940 §6.3.2).
    for (text, says) in [
        ("[peers]\ncount = -3\n", "bad.toml:2:9: field `peers.count`"),
        (
            "[overlay]\nname = \"my overlay\"\n",
            "bad.toml:2:8: field `overlay.name`: character ' ' is not allowed",
        ),
    ] {
        std::fs::write(&bad, text).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_reload-sim"))
            .args([
                "run",
                bad.to_str().unwrap(),
                "--out",
                dir.join("o").to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(!o.status.success());
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains(says), "{stderr}");
        assert!(!dir.join("o").exists());
    }
    let o = Command::new(env!("CARGO_BIN_EXE_reload-sim"))
        .args(["run", bad.to_str().unwrap(), "--set", "peers.cnt=3"])
        .output()
        .unwrap();
    assert!(!o.status.success());
}

//! Helpers shared by the tests that drive the `reload-sim` binary.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A scenario that runs in a fraction of a second: 20 peers, lookups from 20 s to 40 s.
pub const TINY: &str = r#"
[scenario]
name = "tiny"
seed = 7
duration_s = 40
sample_interval_s = 10
[peers]
count = 20
arrival_window_s = 5
[workload]
lookup_rate_per_peer_per_s = 0.2
start_s = 20
"#;

/// Runs `reload-sim` with `args`.
pub fn bin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reload-sim"))
        .args(args)
        .output()
        .expect("binary runs")
}

/// A fresh, empty folder under the temporary directory, unique per test process and name.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("reload-sim-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `reload-sim run <scenario> --out <to> --no-plots`, which must succeed, and returns
/// the folder's summary.json.
pub fn run_summary(scenario: &std::path::Path, to: &std::path::Path) -> serde_json::Value {
    let o = bin(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        to.to_str().unwrap(),
        "--no-plots",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = std::fs::read_to_string(to.join("summary.json")).unwrap();
    serde_json::from_str(&s).unwrap()
}

/// The error `parse` gives for a scenario text, as displayed.
pub fn parse_error(text: &str, source: &str) -> String {
    reload_sim::scenario::parse(text, source, &[])
        .unwrap_err()
        .to_string()
}

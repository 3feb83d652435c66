//! Golden summaries of the shipped fast scenarios: a change in protocol behaviour shows up
//! as a diff of `tests/golden/<scenario>.json` in review. To accept an intended change:
//!
//! ```sh
//! RELOAD_SIM_BLESS=1 cargo test --test it golden
//! ```

use std::path::PathBuf;

use reload_sim::report::{Provenance, summary_json};
use reload_sim::runner::simulate;
use reload_sim::scenario::{load, scenario_hash};

/// The summary of `scenarios/<name>.toml` without what depends on the checkout
/// (`git_rev`, `git_dirty`, `command_line`).
fn summary(name: &str) -> String {
    let s = load(&PathBuf::from(format!("scenarios/{name}.toml")), &[]).unwrap();
    let prov = Provenance {
        scenario: s.scenario.name.clone(),
        scenario_hash: scenario_hash(&s),
        ..Default::default()
    };
    let mut v = summary_json(&prov, &simulate(&s));
    let o = v.as_object_mut().unwrap();
    o.shift_remove("git_rev");
    o.shift_remove("git_dirty");
    o.shift_remove("command_line");
    let mut text = serde_json::to_string_pretty(&v).unwrap();
    text.push('\n');
    text
}

fn golden(name: &str) {
    let path = PathBuf::from(format!("tests/golden/{name}.json"));
    let now = summary(name);
    if std::env::var_os("RELOAD_SIM_BLESS").is_some() {
        std::fs::write(&path, &now).unwrap();
        return;
    }
    let before = std::fs::read_to_string(&path).unwrap_or_default();
    if before != now {
        let diff: Vec<String> = before
            .lines()
            .zip(now.lines())
            .filter(|(a, b)| a != b)
            .take(20)
            .map(|(a, b)| format!("- {a}\n+ {b}"))
            .collect();
        panic!(
            "{} changed ({} lines before, {} now); first differences:\n{}\n\
             If the change is intended: RELOAD_SIM_BLESS=1 cargo test --test it golden",
            path.display(),
            before.lines().count(),
            now.lines().count(),
            diff.join("\n")
        );
    }
}

#[test]
fn golden_quickstart() {
    golden("quickstart");
}

#[test]
fn golden_log_n_routing() {
    golden("log-n-routing");
}

#[test]
fn golden_replica_failover() {
    golden("replica-failover");
}

#[test]
fn golden_churn_basic() {
    golden("churn-basic");
}

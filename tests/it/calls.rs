//! The SIP workload through the whole simulator with real peers: registered users are
//! always reached on a quiet network, unregistered AoRs give `not_registered`, the
//! `call_setups.csv` header is stable, and the same seed gives the same bytes.

use reload_sim::report::csv::{CALL_COLUMNS, calls_csv, timeseries_csv};
use reload_sim::runner::simulate;
use reload_sim::scenario::{Scenario, parse};
use reload_sim::sim::calls::CallOutcome;

/// 50 peers join within 10 s on a lossless network without churn; users register once the
/// ring has formed, then calls run for 4 minutes.
const QUIET: &str = r#"
[scenario]
name = "calls-quiet"
duration_s = 300
sample_interval_s = 10
[peers]
count = 50
arrival = "staggered"
arrival_window_s = 10
[overlay]
chord_update_interval_s = 30
chord_ping_interval_s = 60
[network]
latency = "coordinates"
latency_ms = 60
[sip]
enabled = true
registered_fraction = 0.8
register_start_s = 30
call_rate_per_s = 2
call_start_s = 60
unregistered_call_fraction = 0.1
"#;

fn quiet(sets: &[&str]) -> Scenario {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    parse(QUIET, "quiet.toml", &sets).unwrap()
}

#[test]
fn call_setups_header_is_stable() {
    assert_eq!(
        CALL_COLUMNS.join(","),
        "time_s,caller,callee_aor,callee_expected,fetch_hops,fetch_ms,attach_ms,total_ms,\
         outcome,correct,callee"
    );
}

#[test]
fn without_churn_or_loss_every_registered_user_is_reached() {
    let out = simulate(&quiet(&[]));
    let calls = out.calls.records();
    // Calls still pending when the run ends are left out.
    let finished = |c: &&reload_sim::sim::calls::CallRecord| c.outcome != CallOutcome::Pending;
    let registered: Vec<_> = calls
        .iter()
        .filter(|c| c.expected.is_some())
        .filter(finished)
        .collect();
    assert!(
        registered.len() > 300,
        "{} calls to registered users",
        registered.len()
    );
    for c in &registered {
        assert_eq!(c.outcome, CallOutcome::Ok, "{c:?}");
        assert_eq!(c.correct(), Some(true), "{c:?}");
        let info = c.info.unwrap();
        assert_eq!(info.fetches, 1);
        assert_eq!(info.fetch + info.attach, c.done.unwrap() - c.issued);
    }
    // Calls to users that never register, and to AoRs nobody registers.
    let unregistered: Vec<_> = calls
        .iter()
        .filter(|c| c.expected.is_none())
        .filter(finished)
        .collect();
    assert!(calls.iter().filter(|c| !finished(c)).count() <= 2);
    assert!(
        unregistered
            .iter()
            .any(|c| c.callee_aor.starts_with("nobody"))
    );
    assert!(
        unregistered
            .iter()
            .any(|c| c.callee_aor.starts_with("user"))
    );
    for c in &unregistered {
        assert_eq!(c.outcome, CallOutcome::NotRegistered, "{c:?}");
        assert_eq!(c.correct(), None);
    }
    let f = out.calls.figures();
    assert_eq!(f.success_rate, Some(1.0));
    assert_eq!(f.correct_rate, Some(1.0));
    assert_eq!(f.not_registered_rate, Some(1.0));
    assert_eq!(f.issued, f.ok + f.failed + f.pending);
    assert!(f.total_ms.p50 > Some(0.0) && f.total_ms.p50 <= f.total_ms.p99);
    assert_eq!(out.counters.stores_failed, 0);
    // About 80 % of the 50 users register; with the default hour of lifetime no refresh
    // falls in the run, so each stores exactly once.
    let registering = out.last_sample().unwrap().registrations_live;
    assert!((30..=48).contains(&registering), "{registering}");
    assert_eq!(out.counters.stores_ok, registering);
    // Once stored, every registration sits on its responsible peer.
    for s in out.samples.iter().filter(|s| s.time.as_secs_f64() > 30.0) {
        assert_eq!(s.registrations_live, registering, "{s:?}");
        assert_eq!(s.availability, Some(1.0), "{s:?}");
    }
    // Every finished call's registration Fetch was answered.
    assert_eq!(out.counters.call_fetches_failed, 0);
    assert_eq!(out.counters.call_fetches_ok, f.ok + f.failed);
    let issued: u64 = out.samples.iter().map(|s| s.calls_issued).sum();
    let ok: u64 = out.samples.iter().map(|s| s.calls_ok).sum();
    assert_eq!((issued, ok), (f.issued, f.ok));
}

#[test]
fn calls_to_unregistered_aors_give_not_registered() {
    let out = simulate(&quiet(&[
        "sip.unregistered_call_fraction=1.0",
        "scenario.duration_s=120",
    ]));
    let calls = out.calls.records();
    assert!(calls.len() > 50, "{}", calls.len());
    for c in calls {
        assert!(c.callee_aor.starts_with("nobody"), "{c:?}");
        assert_eq!(c.outcome, CallOutcome::NotRegistered, "{c:?}");
        assert_eq!(c.outcome.label(), "not_registered");
    }
}

#[test]
fn same_seed_gives_identical_call_setups() {
    let run = |seed: u64| {
        let mut s = quiet(&["scenario.duration_s=150", "churn.enabled=true"]);
        s.churn.mean_session_s = 60.0;
        s.churn.mean_down_s = 20.0;
        s.churn.crash_fraction = 1.0;
        s.churn.start_s = 40.0;
        s.scenario.seed = seed;
        let out = simulate(&s);
        let f = out.calls.figures();
        assert_eq!(f.issued, f.ok + f.failed + f.origin_gone + f.pending);
        (
            calls_csv(out.calls.records()).unwrap(),
            timeseries_csv(&out).unwrap(),
        )
    };
    let (a, b, c) = (run(3), run(3), run(4));
    let rows = String::from_utf8_lossy(&a.0).lines().count();
    assert!(rows > 100, "{rows} rows");
    assert_eq!(a, b);
    assert_ne!(a.0, c.0);
}

#[test]
fn sip_table_has_defaults_and_checks_ranges() {
    let s = parse("", "empty.toml", &[]).unwrap();
    assert!(!s.sip.enabled);
    assert_eq!(s.sip.registered_fraction, 0.9);
    assert_eq!(s.sip.registration_lifetime_s, 3600);
    assert_eq!(s.sip.unregistered_call_fraction, 0.05);
    assert_eq!(s.sip.call_rate_per_s, 0.0);
    let e = parse("[sip]\nregistered_fraction = 1.5\n", "x.toml", &[]).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("sip.registered_fraction"));
    let e = parse("[sip]\ncalls_per_s = 1\n", "x.toml", &[]).unwrap_err();
    assert!(e.to_string().contains("calls_per_s"), "{e}");
    let e = parse("[sip]\nregistration_lifetime_s = 0\n", "x.toml", &[]).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("sip.registration_lifetime_s"));
}

#[test]
fn without_sip_nothing_registers_or_calls() {
    let out = simulate(&quiet(&["sip.enabled=false", "scenario.duration_s=60"]));
    assert!(out.calls.records().is_empty());
    assert_eq!(out.counters.stores_ok, 0);
    // Nothing registered: availability is undefined, not 1.0.
    assert!(out.samples.iter().all(|s| s.availability.is_none()));
}

#[test]
fn clients_register_and_are_called_through_their_peers() {
    let out = simulate(&quiet(&["peers.clients=20"]));
    assert_eq!(out.counters.clients_connected, 20);
    let calls = out.calls.records();
    // Slots 50.. are the clients, and with one user per node user j lives on slot j: calls
    // to their users reach them.
    let to_clients: Vec<_> = calls
        .iter()
        .filter(|c| {
            c.expected.is_some()
                && c.callee_aor
                    .strip_prefix("user")
                    .and_then(|r| r.split('@').next())
                    .and_then(|n| n.parse::<u32>().ok())
                    .is_some_and(|n| n >= 50)
        })
        .collect();
    assert!(
        to_clients.len() > 20,
        "{} calls to client users",
        to_clients.len()
    );
    for c in &to_clients {
        assert_eq!(c.outcome, CallOutcome::Ok, "{c:?}");
        assert_eq!(c.correct(), Some(true), "{c:?}");
    }
    assert_eq!(out.calls.figures().success_rate, Some(1.0));
}

#[test]
fn nodes_host_several_users_and_each_is_reached() {
    let out = simulate(&quiet(&["sip.users=125"]));
    // About 80 % of 125 users register: 2 or 3 per peer.
    let registering = out.last_sample().unwrap().registrations_live;
    assert!((85..=115).contains(&registering), "{registering}");
    assert_eq!(out.counters.stores_ok, registering);
    assert_eq!(out.counters.stores_failed, 0);
    for s in out.samples.iter().filter(|s| s.time.as_secs_f64() > 30.0) {
        assert_eq!(s.registrations_live, registering, "{s:?}");
        assert_eq!(s.availability, Some(1.0), "{s:?}");
    }
    let calls = out.calls.records();
    let user = |c: &&reload_sim::sim::calls::CallRecord| {
        c.callee_aor
            .strip_prefix("user")
            .and_then(|r| r.split('@').next())
            .and_then(|n| n.parse::<u32>().ok())
    };
    // Users 50.. share their node with a user below 50.
    let shared: Vec<_> = calls
        .iter()
        .filter(|c| c.expected.is_some() && user(c).is_some_and(|n| n >= 50))
        .collect();
    assert!(shared.len() > 100, "{} calls", shared.len());
    for c in &shared {
        assert_eq!(c.outcome, CallOutcome::Ok, "{c:?}");
        assert_eq!(c.correct(), Some(true), "{c:?}");
    }
    // Users of one node are reached at that node.
    let mut host = std::collections::BTreeMap::new();
    for c in calls.iter().filter(|c| c.outcome == CallOutcome::Ok) {
        let node = c.info.unwrap().callee;
        let prev = host.insert(user(&c).unwrap() % 50, node);
        assert!(prev.is_none_or(|p| p == node), "{c:?}");
    }
    let f = out.calls.figures();
    assert_eq!((f.success_rate, f.correct_rate), (Some(1.0), Some(1.0)));
}

//! `summary.json`: provenance (seed, scenario hash, versions, command line) and the run's
//! key figures, all deterministic; and `host.json`, the facts of the machine that ran it
//! (wall clock), which are not.

use serde_json::{Value, json};

use crate::proto::stats::NodeStats;
use crate::sim::RunOutput;
use crate::sim::dist::Spread;
use crate::time::Time;

/// Where a run came from.
#[derive(Clone, Debug, Default)]
pub struct Provenance {
    /// Scenario name.
    pub scenario: String,
    /// SHA-1 of the effective scenario (see `scenario::scenario_hash`).
    pub scenario_hash: String,
    /// The simulator's git revision at build time, if known.
    pub git_rev: Option<String>,
    /// The command line that reproduces the run: as typed for `run`, the equivalent `run`
    /// command for a run of a sweep.
    pub command_line: Vec<String>,
}

/// `host.json`: what depends on the machine and the moment, kept out of `summary.json`.
pub fn host_json(wall_clock_s: f64, threads: usize) -> Value {
    json!({ "wall_clock_s": wall_clock_s, "threads": threads })
}

fn node_stats_json(s: &NodeStats) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

pub use crate::sim::series::RING_RECOVERED;

/// Ring correctness over the run (see [`crate::sim::series::RingFigures`]), all undefined
/// if it never formed.
fn ring_json(out: &RunOutput) -> Value {
    match out.series.ring(out.end) {
        None => json!({
            "formed_s": null,
            "longest_recovery_s": null,
            "mean_after_formed": null,
            "min_after_formed": null,
        }),
        Some(r) => json!({
            "formed_s": r.formed_s,
            "longest_recovery_s": r.longest_recovery_s,
            "mean_after_formed": r.mean_after_formed,
            "min_after_formed": r.min_after_formed,
        }),
    }
}

/// `total` spread over the node slots (peers and clients) and the simulated time
/// (undefined for an empty run).
fn per_node_per_s(total: u64, out: &RunOutput) -> Option<f64> {
    let d = out.end.as_secs_f64() * f64::from(out.peers + out.clients);
    (d > 0.0).then(|| total as f64 / d)
}

/// The summary of a run stopped before its end: `"complete": false` and `"reached_s"`, the
/// simulated seconds reached, ahead of the figures of `summary` (the summary of the run up
/// to then). Complete runs' summaries have neither key.
pub fn partial_summary(summary: Value, reached: Time) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("complete".into(), Value::Bool(false));
    out.insert("reached_s".into(), json!(reached.as_secs_f64()));
    if let Value::Object(figures) = summary {
        out.extend(figures);
    }
    Value::Object(out)
}

/// The summary document.
pub fn summary_json(p: &Provenance, out: &RunOutput) -> Value {
    let f = out.lookups.figures();
    let last = out.last_sample();
    let c = out.calls.figures();
    let spread = |s: &Spread| serde_json::to_value(s).unwrap_or(Value::Null);
    let (avail_mean, avail_min) = out.series.availability();
    let by_method: serde_json::Map<String, Value> = out
        .method_names
        .iter()
        .map(|m| m.to_string())
        .chain(std::iter::once("unknown".to_string()))
        .zip(
            out.traffic
                .by_method
                .iter()
                .zip(&out.traffic.bytes_by_method),
        )
        .map(|(m, (c, b))| (m, json!({ "messages": c, "bytes": b })))
        .collect();
    let mut v = json!({
        "scenario": p.scenario,
        "scenario_hash": p.scenario_hash,
        "seed": out.seed,
        "crate_version": env!("CARGO_PKG_VERSION"),
        "git_rev": p.git_rev,
        "git_dirty": p.git_rev.as_ref().and(crate::runner::git_dirty()),
        "command_line": p.command_line,
        "peers": out.peers,
        "clients": out.clients,
        "duration_s": out.end.as_secs_f64(),
        "lookups": {
            "issued": f.issued,
            "completed": f.completed,
            "correct": f.correct,
            "failed": f.failed,
            "origin_gone": f.origin_gone,
            "pending": f.pending,
            "success_rate": f.success_rate,
            "correct_rate": f.correct_rate,
            "failed_fraction": f.failed_fraction,
        },
        "hops": spread(&f.hops),
        "latency_ms": spread(&f.latency_ms),
        "join_time_s": spread(&out.join_time_s),
        "connect_time_s": spread(&out.connect_time_s),
        "calls": {
            "issued": c.issued,
            "ok": c.ok,
            "failed": c.failed,
            "origin_gone": c.origin_gone,
            "pending": c.pending,
            "by_outcome": c.by_outcome,
            "to_registered": {
                "issued": c.to_registered,
                "finished": c.to_registered_finished,
                "ok": c.to_registered_ok,
            },
            "to_unregistered": {
                "issued": c.to_unregistered,
                "finished": c.to_unregistered_finished,
                "not_registered": c.to_unregistered_not_registered,
            },
            "success_rate": c.success_rate,
            "correct": c.correct,
            "correct_rate": c.correct_rate,
            "not_registered_rate": c.not_registered_rate,
            "total_ms": spread(&c.total_ms),
            "fetch_ms": spread(&c.fetch_ms),
            "attach_ms": spread(&c.attach_ms),
            "stores_ok": out.counters.stores_ok,
            "stores_failed": out.counters.stores_failed,
            "call_fetches_ok": out.counters.call_fetches_ok,
            "call_fetches_failed": out.counters.call_fetches_failed,
        },
        "availability": {
            "final": last.and_then(|s| s.availability),
            "final_live": last.map_or(0, |s| s.registrations_live),
            "final_available": last.map_or(0, |s| s.registrations_available),
            "mean": avail_mean,
            "min": avail_min,
        },
        "ring": ring_json(out),
        "final": {
            "live_peers": last.map_or(0, |s| s.live_peers),
            "live_clients": last.map_or(0, |s| s.live_clients),
            "joined_peers": last.map_or(0, |s| s.joined_peers),
            "ring_correct_fraction": last.and_then(|s| s.ring_correct_fraction),
        },
        "traffic": {
            "messages": out.traffic.messages,
            "bytes": out.traffic.bytes,
            "acks": out.traffic.acks,
            "bytes_per_peer_per_s": per_node_per_s(out.traffic.bytes, out),
            "messages_per_peer_per_s": per_node_per_s(out.traffic.messages, out),
            "by_method": by_method,
        },
        "engine": out.counters,
        "events": out.events,
        "node_stats": node_stats_json(&out.node_stats),
        "trace_digest": format!("{:016x}", out.trace_digest),
    });
    if !out.timeline.is_empty() {
        let recovery: Vec<Value> = out.timeline.iter().map(recovery_json).collect();
        if let Some(o) = v.as_object_mut() {
            o.insert("recovery".into(), Value::Array(recovery));
        }
    }
    v
}

/// One entry of `recovery`: the event, then how the overlay recovered from it.
fn recovery_json(e: &crate::sim::timeline::EventRecord) -> Value {
    let mut v = json!({
        "index": e.index,
        "at_s": e.at.as_secs_f64(),
        "action": e.action,
        "label": e.label,
        "targets": e.targets,
    });
    if let (Some(o), Ok(Value::Object(r))) = (v.as_object_mut(), serde_json::to_value(&e.recovery))
    {
        o.extend(r);
    }
    v
}

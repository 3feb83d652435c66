//! `summary.json`: provenance (seed, scenario hash, versions, command line) and the run's
//! key figures. Everything outside the `host` key is deterministic; `host` holds wall-clock
//! facts that tests must ignore.

use serde_json::{Value, json};

use crate::proto::stats::NodeStats;
use crate::sim::RunOutput;

/// Where a run came from.
#[derive(Clone, Debug, Default)]
pub struct Provenance {
    /// Scenario name.
    pub scenario: String,
    /// SHA-1 of the effective scenario (see `scenario::scenario_hash`).
    pub scenario_hash: String,
    /// `git rev-parse HEAD` of the working directory, if known.
    pub git_rev: Option<String>,
    /// The command line, when run from the CLI.
    pub command_line: Vec<String>,
    /// Wall-clock seconds of the run (goes under `host`).
    pub wall_clock_s: Option<f64>,
}

fn node_stats_json(s: &NodeStats) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

/// Mean and minimum availability over the samples with at least one live registration
/// (1.0 when there are none).
fn availability_over_run(out: &RunOutput) -> (f64, f64) {
    let with_regs: Vec<f64> = out
        .samples
        .iter()
        .filter(|s| s.registrations_live > 0)
        .map(|s| s.availability)
        .collect();
    if with_regs.is_empty() {
        return (1.0, 1.0);
    }
    let mean = with_regs.iter().sum::<f64>() / with_regs.len() as f64;
    let min = with_regs.iter().copied().fold(1.0, f64::min);
    (mean, min)
}

/// The summary document.
pub fn summary_json(p: &Provenance, out: &RunOutput) -> Value {
    let f = out.lookups.figures();
    let last = out.last_sample();
    let c = out.calls.figures();
    let spread = |s: &crate::sim::calls::Spread| json!({ "mean": s.mean, "p50": s.p50, "p90": s.p90, "p99": s.p99 });
    let (avail_mean, avail_min) = availability_over_run(out);
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
    json!({
        "scenario": p.scenario,
        "scenario_hash": p.scenario_hash,
        "seed": out.seed,
        "crate_version": env!("CARGO_PKG_VERSION"),
        "git_rev": p.git_rev,
        "command_line": p.command_line,
        "peers": out.peers,
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
        },
        "hops": { "mean": f.hops_mean, "p50": f.hops_p50, "p90": f.hops_p90, "p99": f.hops_p99 },
        "latency_ms": { "mean": f.latency_ms_mean, "p50": f.latency_ms_p50, "p99": f.latency_ms_p99 },
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
            "final": last.map_or(1.0, |s| s.availability),
            "final_live": last.map_or(0, |s| s.registrations_live),
            "final_available": last.map_or(0, |s| s.registrations_available),
            "mean": avail_mean,
            "min": avail_min,
        },
        "final": {
            "live_peers": last.map_or(0, |s| s.live_peers),
            "joined_peers": last.map_or(0, |s| s.joined_peers),
            "ring_correct_fraction": last.map_or(0.0, |s| s.ring_correct_fraction),
        },
        "traffic": {
            "messages": out.traffic.messages,
            "bytes": out.traffic.bytes,
            "acks": out.traffic.acks,
            "by_method": by_method,
        },
        "engine": out.counters,
        "events": out.events,
        "node_stats": node_stats_json(&out.node_stats),
        "trace_digest": format!("{:016x}", out.trace_digest),
        "host": { "wall_clock_s": p.wall_clock_s },
    })
}

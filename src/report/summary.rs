//! `summary.json`: provenance (seed, scenario hash, versions, command line) and the run's
//! key figures, all deterministic; and `host.json`, the facts of the machine that ran it
//! (wall clock), which are not.

use serde_json::{Value, json};

use crate::proto::stats::NodeStats;
use crate::sim::RunOutput;
use crate::sim::dist::Spread;

/// Where a run came from.
#[derive(Clone, Debug, Default)]
pub struct Provenance {
    /// Scenario name.
    pub scenario: String,
    /// SHA-1 of the effective scenario (see `scenario::scenario_hash`).
    pub scenario_hash: String,
    /// `git rev-parse HEAD` of the working directory, if known.
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

/// Ring correctness below this counts as broken for `ring.longest_recovery_s`.
pub const RING_RECOVERED: f64 = 0.99;

/// Ring correctness over the run: when the ring first formed (all joined peers' successors
/// right, s; null if never), the longest stretch after that with correctness below
/// [`RING_RECOVERED`] (from the first sample below to the first sample back at or above
/// it, or the end of the run, s), and the mean and minimum correctness after forming.
fn ring_json(out: &RunOutput) -> Value {
    let samples = &out.samples;
    let formed = samples
        .iter()
        .position(|s| s.joined_peers > 0 && s.ring_correct_fraction >= 1.0);
    let Some(first) = formed else {
        return json!({
            "first_correct_s": null,
            "longest_recovery_s": 0.0,
            "mean_after_formed": 0.0,
            "min_after_formed": 0.0,
        });
    };
    let after = &samples[first..];
    let (mut longest, mut since) = (0.0f64, None);
    for s in after {
        let t = s.time.as_secs_f64();
        match (since, s.ring_correct_fraction < RING_RECOVERED) {
            (None, true) => since = Some(t),
            (Some(t0), false) => {
                longest = longest.max(t - t0);
                since = None;
            }
            _ => {}
        }
    }
    if let Some(t0) = since {
        longest = longest.max(out.end.as_secs_f64() - t0);
    }
    let fr = after.iter().map(|s| s.ring_correct_fraction);
    let mean = fr.clone().sum::<f64>() / after.len() as f64;
    let min = fr.fold(1.0, f64::min);
    json!({
        "first_correct_s": samples[first].time.as_secs_f64(),
        "longest_recovery_s": longest,
        "mean_after_formed": mean,
        "min_after_formed": min,
    })
}

/// `total` spread over the node slots and the simulated time (0 for an empty run).
fn per_peer_per_s(total: u64, out: &RunOutput) -> f64 {
    let d = out.end.as_secs_f64() * f64::from(out.peers);
    if d > 0.0 { total as f64 / d } else { 0.0 }
}

/// The summary document.
pub fn summary_json(p: &Provenance, out: &RunOutput) -> Value {
    let f = out.lookups.figures();
    let last = out.last_sample();
    let c = out.calls.figures();
    let spread = |s: &Spread| serde_json::to_value(s).unwrap_or(Value::Null);
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
            "final": last.map_or(1.0, |s| s.availability),
            "final_live": last.map_or(0, |s| s.registrations_live),
            "final_available": last.map_or(0, |s| s.registrations_available),
            "mean": avail_mean,
            "min": avail_min,
        },
        "ring": ring_json(out),
        "ring": ring_json(out),
        "final": {
            "live_peers": last.map_or(0, |s| s.live_peers),
            "joined_peers": last.map_or(0, |s| s.joined_peers),
            "ring_correct_fraction": last.map_or(0.0, |s| s.ring_correct_fraction),
        },
        "traffic": {
            "messages": out.traffic.messages,
            "bytes": out.traffic.bytes,
            "acks": out.traffic.acks,
            "bytes_per_peer_per_s": per_peer_per_s(out.traffic.bytes, out),
            "messages_per_peer_per_s": per_peer_per_s(out.traffic.messages, out),
            "by_method": by_method,
        },
        "engine": out.counters,
        "events": out.events,
        "node_stats": node_stats_json(&out.node_stats),
        "trace_digest": format!("{:016x}", out.trace_digest),
    })
}

//! `summary.json`: provenance (seed, scenario hash, versions, command line) and the run's
//! key figures, all deterministic; and `host.json`, the facts of the machine that ran it
//! (wall clock), which are not.

use serde_json::{Value, json};

use crate::proto::stats::NodeStats;
use crate::sim::RunOutput;
use crate::sim::dist::Spread;
use crate::sim::metrics::Sample;

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

/// Mean and minimum availability over the samples with at least one live registration
/// (undefined when there are none).
fn availability_over_run(out: &RunOutput) -> (Option<f64>, Option<f64>) {
    let with_regs: Vec<f64> = out.samples.iter().filter_map(|s| s.availability).collect();
    if with_regs.is_empty() {
        return (None, None);
    }
    let mean = with_regs.iter().sum::<f64>() / with_regs.len() as f64;
    let min = with_regs.iter().copied().fold(1.0, f64::min);
    (Some(mean), Some(min))
}

/// Ring correctness below this counts as broken for `ring.longest_recovery_s`.
pub const RING_RECOVERED: f64 = 0.99;

/// The first sample at which the overlay the scenario asked for exists: every peer of the
/// initial arrival schedule has joined (or gone), and every joined peer's first successor
/// is the true one.
pub fn formed_at(samples: &[Sample]) -> Option<usize> {
    samples.iter().position(|s| {
        s.initial_unjoined == 0 && s.joined_peers > 0 && s.ring_correct_fraction >= Some(1.0)
    })
}

/// Ring correctness over the run: when the ring formed ([`formed_at`], s), the longest
/// stretch after that with correctness below [`RING_RECOVERED`] (from the first sample
/// below to the first sample back at or above it, or the end of the run, s), and the mean
/// and minimum correctness after forming (samples without a joined peer count 0). All
/// undefined if it never formed.
fn ring_json(out: &RunOutput) -> Value {
    let samples = &out.samples;
    let Some(first) = formed_at(samples) else {
        return json!({
            "formed_s": null,
            "longest_recovery_s": null,
            "mean_after_formed": null,
            "min_after_formed": null,
        });
    };
    let after = &samples[first..];
    let (mut longest, mut since) = (0.0f64, None);
    let fraction = |s: &Sample| s.ring_correct_fraction.unwrap_or(0.0);
    for s in after {
        let t = s.time.as_secs_f64();
        match (since, fraction(s) < RING_RECOVERED) {
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
    let fr = after.iter().map(fraction);
    let mean = fr.clone().sum::<f64>() / after.len() as f64;
    let min = fr.fold(1.0, f64::min);
    json!({
        "formed_s": samples[first].time.as_secs_f64(),
        "longest_recovery_s": longest,
        "mean_after_formed": mean,
        "min_after_formed": min,
    })
}

/// `total` spread over the node slots (peers and clients) and the simulated time
/// (undefined for an empty run).
fn per_node_per_s(total: u64, out: &RunOutput) -> Option<f64> {
    let d = out.end.as_secs_f64() * f64::from(out.peers + out.clients);
    (d > 0.0).then(|| total as f64 / d)
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
    })
}

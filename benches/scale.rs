//! Scale figures of the whole simulator with real peers (not a criterion bench: one run,
//! printed). `cargo bench --bench scale` runs 10,000 peers; `SCALE_PEERS=100000 cargo bench
//! --bench scale` runs 10^5.
//!
//! 1. Join: N peers join by the protocol (staggered over N/100 s) and the ring settles;
//!    prints the wall time, whether the ring is correct, and RSS per peer.
//! 2. Lookups: every peer looks up random keys (0.5 per peer per second) for 60 s of
//!    simulated time on the static ring; prints overlay hops (data frames received by
//!    peers) per wall-clock second.

use std::path::Path;
use std::time::Instant;

use reload_sim::proto::stats::NodeStats;
use reload_sim::sim::engine::{NodeIndex, Sim};
use reload_sim::time::{Duration, Time};

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn hops(sim: &Sim, n: u32) -> u64 {
    let mut sum = NodeStats::default();
    for i in 0..n {
        if let Some(node) = sim.node(NodeIndex(i)) {
            sum.add(node.stats());
        }
    }
    sum.forwarded + sum.delivered
}

fn main() {
    let n: u32 = std::env::var("SCALE_PEERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let window_s = (n / 100).max(10);
    let settle_s = window_s + 150;
    let lookup_s = 60;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let overrides = [
        format!("peers.count={n}"),
        format!("peers.arrival_window_s={window_s}"),
        format!("scenario.duration_s={}", settle_s + lookup_s),
        "workload.lookup_rate_per_peer_per_s=0.5".to_string(),
        format!("workload.start_s={settle_s}"),
    ];
    let scn = reload_sim::scenario::load(&root.join("scenarios/log-n-routing.toml"), &overrides)
        .expect("scenario");
    let rss0 = rss_kb();
    let mut sim = Sim::new(scn.sim_config());
    let t0 = Instant::now();
    sim.run_until(Time::ZERO + Duration::from_secs(u64::from(settle_s)));
    let join_wall = t0.elapsed();
    let rss1 = rss_kb();
    let ring = sim
        .oracle()
        .ring_correct_fraction(|slot| {
            sim.node(NodeIndex(slot))
                .and_then(|p| p.successors().first().copied())
        })
        .unwrap_or(0.0);
    let h0 = hops(&sim, n);
    let t1 = Instant::now();
    sim.run_until(Time::ZERO + Duration::from_secs(u64::from(settle_s + lookup_s)));
    let lookup_wall = t1.elapsed();
    let h1 = hops(&sim, n);
    println!("peers: {n}");
    println!(
        "join: {window_s} s of arrivals + settle, simulated {settle_s} s in {:.1} s wall; ring correct {ring:.3}",
        join_wall.as_secs_f64()
    );
    println!(
        "memory: RSS {} MiB after joining; {:.1} KiB per peer",
        rss1 / 1024,
        (rss1.saturating_sub(rss0)) as f64 / f64::from(n)
    );
    println!(
        "lookups: {} overlay hops in {lookup_s} s simulated, {:.2} s wall: {:.0} hops/s",
        h1 - h0,
        lookup_wall.as_secs_f64(),
        (h1 - h0) as f64 / lookup_wall.as_secs_f64()
    );
}

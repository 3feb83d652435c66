//! Scale figures of the whole simulator with real peers (not a criterion bench: one run,
//! printed).
//!
//! `cargo bench --bench scale` runs 10,000 peers; `SCALE_PEERS=100000 cargo bench --bench
//! scale` runs 10^5.
//!
//! 1. Join: N peers join by the protocol (100 arrivals/s) and the ring settles; prints the
//!    wall time, whether the ring is correct, and RSS per peer.
//! 2. Lookups: every peer looks up random keys (0.5 per peer per second) for 60 s of
//!    simulated time on the static ring; prints overlay hops (data frames received by
//!    peers) per wall-clock second.
//! 3. Memory: the per-peer breakdown in bytes (node, RNG, counters, links, routing tables,
//!    transactions, datastore, engine slot, network model, oracle, queue entries), then the
//!    marginal RSS per idle joined peer of prebuilt static rings: each size of
//!    `SCALE_STATIC` (default `20000,40000`; the figure is `500000,1000000`) runs
//!    30 s simulated without a workload in a child process, and the bench prints the RSS
//!    difference over the peer difference. `SCALE_STATIC=` (empty) skips it.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use reload_sim::proto::stats::NodeStats;
use reload_sim::sim::engine::{EngineFootprint, NodeIndex, Sim};
use reload_sim::sim::sink::DiscardSink;
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
            sum.add(&node.stats());
        }
    }
    sum.forwarded + sum.delivered
}

fn load(n: u32, extra: &[String]) -> reload_sim::scenario::Scenario {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sets = vec![format!("peers.count={n}")];
    sets.extend_from_slice(extra);
    reload_sim::scenario::load(&root.join("scenarios/log-n-routing.toml"), &sets).expect("scenario")
}

/// Prints the per-peer breakdown of `f` over `rss_kb` of measured growth.
fn print_breakdown(f: &EngineFootprint, rss_kb: u64) {
    let n = f.nodes.max(1) as f64;
    let per = |b: usize| b as f64 / n;
    let nf = &f.node;
    let rows = [
        ("node (inline, less RNG and counters)", nf.node),
        ("RNG", nf.rng),
        ("counters", nf.stats),
        ("links", nf.links),
        ("routing tables", nf.routing),
        ("transactions and answer cache", nf.transactions),
        ("datastore and reassembly", nf.datastore),
        ("output queues and small lists", nf.other),
        ("engine slot", f.slots),
        ("network model", f.network),
        ("oracle", f.oracle),
        ("SIP workload", f.sip),
        ("queue entries", f.queue),
    ];
    println!("memory breakdown, bytes per peer ({} peers):", f.nodes);
    let mut total = 0.0;
    for (name, b) in rows {
        println!("  {name:<40} {:>8.0}", per(b));
        total += per(b);
    }
    println!(
        "  {:<40} {:>8.0}   ({:.1} links per peer, {:.0} B per link)",
        "counted",
        total,
        nf.link_count as f64 / n,
        nf.links as f64 / (nf.link_count.max(1) as f64)
    );
    let measured = rss_kb as f64 * 1024.0 / n;
    println!(
        "  {:<40} {:>8.0}   (allocator overhead, temporaries and what is not counted: {:.0})",
        "measured RSS growth",
        measured,
        measured - total
    );
}

/// Child mode: a prebuilt ring of `n` peers, idle for 30 s simulated (`SCALE_STATIC_S`), or
/// with the lookup rate `SCALE_STATIC_LOOKUPS` (per peer per second); prints its RSS and
/// overlay hops per wall-clock second.
fn static_child(n: u32) {
    let rate = std::env::var("SCALE_STATIC_LOOKUPS").unwrap_or_else(|_| "0".to_string());
    let secs: u64 = std::env::var("SCALE_STATIC_S")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let scn = load(
        n,
        &[
            "peers.arrival=prebuilt".to_string(),
            format!("scenario.duration_s={secs}"),
            format!("workload.lookup_rate_per_peer_per_s={rate}"),
            "workload.start_s=0".to_string(),
        ],
    );
    let rss0 = rss_kb();
    let t0 = Instant::now();
    let mut sim = Sim::new(scn.sim_config()).with_records(Box::new(DiscardSink));
    sim.run_until(Time::ZERO + Duration::from_secs(secs));
    let wall = t0.elapsed().as_secs_f64();
    let rss1 = rss_kb();
    let f = sim.footprint();
    let h = hops(&sim, n);
    println!(
        "static {n} rss_kb {rss1} wall_s {wall:.1} hops {h} hops_per_s {:.0}",
        h as f64 / wall
    );
    print_breakdown(&f, rss1.saturating_sub(rss0));
}

fn main() {
    if let Some(n) = std::env::var("SCALE_STATIC_CHILD")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        static_child(n);
        return;
    }
    let n: u32 = std::env::var("SCALE_PEERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let window_s = (n / 100).max(10);
    let settle_s = window_s + 150;
    let lookup_s = 60;
    let scn = load(
        n,
        &[
            format!("peers.arrival_window_s={window_s}"),
            format!("scenario.duration_s={}", settle_s + lookup_s),
            "workload.lookup_rate_per_peer_per_s=0.5".to_string(),
            format!("workload.start_s={settle_s}"),
        ],
    );
    let rss0 = rss_kb();
    let mut sim = Sim::new(scn.sim_config()).with_records(Box::new(DiscardSink));
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
    let joined_fp = sim.footprint();
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
    print_breakdown(&joined_fp, rss1.saturating_sub(rss0));
    drop(sim);

    let sizes: Vec<u32> = std::env::var("SCALE_STATIC")
        .unwrap_or_else(|_| "20000,40000".to_string())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let exe = std::env::current_exe().expect("the bench binary");
    let mut points = Vec::new();
    for &size in &sizes {
        let out = Command::new(&exe)
            .env("SCALE_STATIC_CHILD", size.to_string())
            .output()
            .expect("child run");
        let text = String::from_utf8_lossy(&out.stdout);
        print!("{text}");
        let rss = text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("static {size} rss_kb ")))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(rss) = rss {
            points.push((size, rss));
        }
    }
    for w in points.windows(2) {
        let ((n0, r0), (n1, r1)) = (w[0], w[1]);
        println!(
            "static ring, idle: marginal RSS {:.0} B per peer between {n0} and {n1} peers",
            (r1.saturating_sub(r0)) as f64 * 1024.0 / f64::from(n1.saturating_sub(n0).max(1))
        );
    }
}

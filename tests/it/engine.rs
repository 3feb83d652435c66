//! The simulator engine: queue order, random streams, latency models, and whole runs driven
//! by the stand-in peer of `toy.rs` (and by the real `Node` type).

use reload_sim::proto::id::NodeId;
use reload_sim::report::csv::{lookups_csv, timeseries_csv};
use reload_sim::sim::churn::{ChurnModel, Lifetime};
use reload_sim::sim::network::{LatencyModel, LatencySpec, Loss};
use reload_sim::sim::queue::{EventQueue, HeapQueue, RadixQueue};
use reload_sim::sim::rng::{Seeds, purpose};
use reload_sim::sim::workload::Workload;
use reload_sim::sim::{Arrival, NodeIndex, RunOutput, Sim, SimConfig};
use reload_sim::time::{Duration, Time};

use rand::{Rng, RngExt};

use crate::toy::Toy;

#[test]
fn queue_orders_by_time_then_insertion() {
    let mut radix = RadixQueue::new();
    let mut heap = HeapQueue::new();
    let mut rng = Seeds::new(3).stream("test");
    let mut now = 0u64;
    let mut popped = Vec::new();
    // Interleave pushes (never before the current time) and pops, as the engine does.
    for round in 0..2_000u32 {
        for k in 0..3u32 {
            let t = Time(now + rng.random_range(0..5u64));
            radix.push(t, (round, k));
            heap.push(t, (round, k));
        }
        let (t, a) = radix.pop().unwrap();
        let (t2, b) = heap.pop().unwrap();
        assert_eq!((t, a), (t2, b));
        now = t.0;
        popped.push((t, a));
    }
    while let Some(x) = radix.pop() {
        assert_eq!(Some(x), heap.pop());
        popped.push(x);
    }
    assert!(heap.is_empty());
    for w in popped.windows(2) {
        assert!(w[0].0 <= w[1].0, "time order");
        if w[0].0 == w[1].0 {
            assert!(w[0].1 < w[1].1, "same time pops in insertion order: {w:?}");
        }
    }
}

#[test]
fn rng_streams_are_independent() {
    let seeds = Seeds::new(42);
    let mut net = seeds.stream(purpose::NETWORK);
    let alone: Vec<u64> = (0..16).map(|_| net.next_u64()).collect();

    let seeds = Seeds::new(42);
    let mut work = seeds.stream(purpose::WORKLOAD);
    for _ in 0..10_000 {
        work.next_u64();
    }
    let mut net = seeds.stream(purpose::NETWORK);
    let after: Vec<u64> = (0..16).map(|_| net.next_u64()).collect();
    assert_eq!(alone, after);
    assert_ne!(
        Seeds::new(42).stream(purpose::NETWORK).next_u64(),
        Seeds::new(43).stream(purpose::NETWORK).next_u64()
    );
}

#[test]
fn node_ids_do_not_depend_on_the_workload() {
    let ids = |rate: f64| {
        let mut cfg = SimConfig::new(20, 9);
        cfg.workload.lookup_rate_per_peer_per_s = rate;
        let mut sim: Sim<Toy> = Sim::with_peer(cfg);
        sim.run_until(Time::ZERO + Duration::from_secs(5));
        (0..20)
            .map(|i| sim.node(NodeIndex(i)).map(reload_sim::sim::Peer::node_id))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(0.0), ids(5.0));
}

#[test]
fn latency_models_are_deterministic_per_seed() {
    let spec = LatencySpec::Coordinates {
        latency_ms: 100.0,
        jitter_ms: 4.0,
        access_ms: 10.0,
    };
    let model =
        |seed: u64| LatencyModel::new(spec, 50, &mut Seeds::new(seed).stream(purpose::COORDINATES));
    let draws = |seed: u64| {
        let m = model(seed);
        let mut rng = Seeds::new(seed).stream(purpose::NETWORK);
        (0..50u32)
            .map(|i| m.sample(i, (i * 7) % 50, &mut rng).0)
            .collect::<Vec<_>>()
    };
    assert_eq!(draws(1), draws(1));
    assert_ne!(draws(1), draws(2));
    let m = model(1);
    assert_eq!(m.base_ns(3, 9), m.base_ns(9, 3), "symmetric");
    assert!(m.base_ns(3, 9) <= 20_000_000 + 141_422_000, "bounded");

    let mut rng = Seeds::new(1).stream(purpose::NETWORK);
    let c = LatencyModel::new(LatencySpec::Constant { latency_ms: 25.0 }, 2, &mut rng);
    assert_eq!(c.sample(0, 1, &mut rng), Duration::from_millis(25));
    let u = LatencyModel::new(
        LatencySpec::Uniform {
            latency_ms: 25.0,
            jitter_ms: 10.0,
        },
        2,
        &mut rng,
    );
    for _ in 0..100 {
        let d = u.sample(0, 1, &mut rng).0;
        assert!((25_000_000..35_000_000).contains(&d), "{d}");
    }
}

fn toy_config(seed: u64) -> SimConfig {
    let mut cfg = SimConfig::new(40, seed);
    cfg.duration = Duration::from_secs(30);
    cfg.arrival = Arrival::Staggered {
        window: Duration::from_secs(5),
    };
    cfg.latency = LatencySpec::Uniform {
        latency_ms: 20.0,
        jitter_ms: 10.0,
    };
    cfg.workload = Workload {
        lookup_rate_per_peer_per_s: 0.5,
        start: Time::ZERO + Duration::from_secs(6),
    };
    cfg
}

fn toy_run(cfg: SimConfig) -> RunOutput {
    Sim::<Toy>::with_peer(cfg).run()
}

#[test]
fn toy_runs_are_deterministic_and_seed_dependent() {
    let a = toy_run(toy_config(1));
    let b = toy_run(toy_config(1));
    assert!(a.counters.datagrams_delivered > 1000);
    assert_eq!(a.trace_digest, b.trace_digest);
    assert_eq!(a.counters, b.counters);
    assert_eq!(
        lookups_csv(a.lookups.records()).unwrap(),
        lookups_csv(b.lookups.records()).unwrap()
    );
    assert_eq!(timeseries_csv(&a).unwrap(), timeseries_csv(&b).unwrap());
    let c = toy_run(toy_config(2));
    assert_ne!(a.trace_digest, c.trace_digest);
}

#[test]
fn lookups_join_served_and_done_events() {
    let mut cfg = toy_config(5);
    cfg.latency = LatencySpec::Constant { latency_ms: 30.0 };
    let out = toy_run(cfg);
    let f = out.lookups.figures();
    assert!(f.issued > 100, "{f:?}");
    assert!(
        f.completed > 0 && f.completed + f.pending == f.issued,
        "{f:?}"
    );
    for r in out.lookups.records().iter().filter(|r| r.done.is_some()) {
        assert_eq!(r.hops, Some(1));
        assert_eq!(r.latency_ns(), Some(60_000_000), "one round trip");
        assert!(r.correct().is_some());
    }
    assert_eq!(f.hops.p50, Some(1.0));
    assert!((f.latency_ms.mean.unwrap() - 60.0).abs() < 1e-9);
    let issued: u64 = out.samples.iter().map(|s| s.lookups_issued).sum();
    assert_eq!(issued, f.issued);
}

#[test]
fn stale_timers_are_skipped() {
    let out = toy_run(toy_config(3));
    assert!(out.counters.timer_wakeups > 0);
    assert!(out.counters.timer_stale > 0, "{:?}", out.counters);
}

#[test]
fn loss_one_drops_everything() {
    let mut cfg = toy_config(1);
    cfg.loss = Loss::bernoulli(1.0);
    let out = toy_run(cfg);
    assert!(out.counters.datagrams_sent > 0);
    assert_eq!(out.counters.datagrams_delivered, 0);
    assert_eq!(out.counters.datagrams_lost, out.counters.datagrams_sent);
}

#[test]
fn churn_crashes_rejoins_and_drops_stale_deliveries() {
    let mut cfg = toy_config(4);
    cfg.duration = Duration::from_secs(120);
    cfg.churn = ChurnModel::Drawn {
        session: Lifetime::Exponential { mean_s: 10.0 },
        down: Some(Lifetime::Exponential { mean_s: 5.0 }),
        crash_fraction: 0.5,
    };
    cfg.workload.lookup_rate_per_peer_per_s = 5.0;
    let out = toy_run(cfg);
    let c = &out.counters;
    assert!(c.crashes > 10 && c.leaves > 10, "{c:?}");
    assert!(c.rejoins > 10, "{c:?}");
    assert!(c.datagrams_to_dead > 0, "{c:?}");
    let f = out.lookups.figures();
    assert!(f.origin_gone > 0, "{f:?}");
    assert_eq!(f.completed + f.pending + f.origin_gone + f.failed, f.issued);
    let last = out.last_sample().unwrap();
    assert!(last.live_peers < 40 && last.joined_peers <= last.live_peers);
    // Every sample sees at least the bootstrap peer, which never churns.
    assert!(out.samples.iter().all(|s| s.joined_peers >= 1));
}

#[test]
fn samples_cover_the_run() {
    let out = toy_run(toy_config(1));
    assert_eq!(out.samples.len(), 30);
    assert_eq!(out.samples[0].time, Time::ZERO + Duration::from_secs(1));
    assert_eq!(
        out.samples.last().unwrap().time,
        Time::ZERO + Duration::from_secs(30)
    );
    let total: u64 = out.samples.iter().map(|s| s.traffic.messages).sum();
    assert_eq!(total, out.traffic.messages);
}

#[test]
fn real_node_runs_are_repeatable() {
    let run = |seed| {
        let mut cfg = SimConfig::new(50, seed);
        cfg.workload.lookup_rate_per_peer_per_s = 1.0;
        Sim::new(cfg).run()
    };
    let (a, b) = (run(1), run(1));
    assert_eq!(a.trace_digest, b.trace_digest);
    assert_eq!(a.counters, b.counters);
    let first = Sim::new(SimConfig::new(3, 1));
    let id = first.node(NodeIndex(0)).map(|n| n.node_id());
    assert!(id.is_none(), "nodes arrive when the run starts");
    let _ = NodeId::ZERO;
}

/// Stepping `run_until` in any chunks gives the run of one `run_until` to the end (the
/// drive loop of `reload-sim run` steps in 10,000 chunks and may stop between any two):
/// chunks of 1 ns, of less than a millisecond, of exactly the sample interval (ending on
/// sample events) and of up to 2 s, over a run with loss, churn, clients and SIP calls.
#[test]
fn stepping_in_any_chunks_gives_the_same_run() {
    use reload_sim::report::{Provenance, summary_json};
    use reload_sim::runner::simulate_with_progress;
    let s = reload_sim::scenario::parse(crate::streaming::MIXED, "mixed.toml", &[]).unwrap();
    let whole = Sim::new(s.sim_config()).run();
    let mut sim = Sim::new(s.sim_config());
    let end = sim.end();
    let mut rng = Seeds::new(5).stream("chunks");
    let mut chunks = 0;
    while sim.now() < end {
        let dt = match rng.random_range(0..4u32) {
            0 => 1,
            1 => rng.random_range(1..1_000_000),
            2 => 5_000_000_000,
            _ => rng.random_range(1..2_000_000_000),
        };
        sim.run_until(Time((sim.now().0 + dt).min(end.0)));
        chunks += 1;
    }
    assert!(chunks > 50, "{chunks}");
    let stepped = sim.finish();
    let mut reports = 0;
    let driven = simulate_with_progress(&s, &mut |_| reports += 1);
    assert!(reports >= 200, "{reports}");
    let prov = Provenance::default();
    for out in [&stepped, &driven] {
        assert_eq!(out.trace_digest, whole.trace_digest);
        assert_eq!(out.events, whole.events);
        assert_eq!(out.samples, whole.samples);
        assert_eq!(out.lookups.records(), whole.lookups.records());
        assert_eq!(out.calls.records(), whole.calls.records());
        assert_eq!(summary_json(&prov, out), summary_json(&prov, &whole));
    }
}

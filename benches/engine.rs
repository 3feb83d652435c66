//! Event queue benchmark: one step = pop the earliest event, push one new event a random
//! span later, with 10^6 events pending (the engine's steady state). Compares the radix
//! heap used by the engine with `std::collections::BinaryHeap`. Then the latency of a
//! dependent cache-line load in a working set the size of 10^5 peers' state, the memory
//! bound on any per-hop cost (docs/performance.md).
//!
//! `cargo bench --bench engine`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::{Rng, RngExt};
use reload_sim::sim::queue::{EventQueue, HeapQueue, RadixQueue};
use reload_sim::sim::rng::Seeds;
use reload_sim::time::Time;

const PENDING: usize = 1_000_000;

/// Spans up to 2 s in ns, like timers and network delays.
fn span(rng: &mut impl Rng) -> u64 {
    rng.random_range(0..2_000_000_000u64)
}

fn bench_queue<Q: EventQueue<u64>>(c: &mut Criterion, name: &str, mut q: Q) {
    let mut rng = Seeds::new(1).stream("bench");
    for i in 0..PENDING as u64 {
        q.push(Time(span(&mut rng)), i);
    }
    c.bench_function(name, |b| {
        b.iter(|| {
            let (t, v) = q.pop().expect("pending events");
            q.push(Time(t.0 + span(&mut rng)), black_box(v));
        })
    });
}

fn queues(c: &mut Criterion) {
    bench_queue(c, "queue/radix pop+push, 1e6 pending", RadixQueue::new());
    bench_queue(
        c,
        "queue/binary-heap pop+push, 1e6 pending",
        HeapQueue::new(),
    );
}

/// Bytes of per-peer state at 10^5 peers, 4 KiB each (the memory target of the scale work).
const WORKING_SET: usize = 100_000 * 4096;

/// One step = one load whose address depends on the previous load, over a random cyclic
/// permutation of the cache lines of a `bytes`-sized array: the latency of a cache miss
/// when every hop lands on a random peer. This bounds a simulator that keeps per-peer
/// state: a datagram to a random peer at 10^5 peers costs at least one such miss for each
/// distinct cache line of the receiver it reads (docs/performance.md, "The memory bound").
fn bench_dependent_lines(c: &mut Criterion, name: &str, bytes: usize) {
    let lines = bytes / 64;
    let mut rng = Seeds::new(2).stream("bench");
    let mut order: Vec<u32> = (0..lines as u32).collect();
    // Sattolo's shuffle: one cycle through every line.
    for i in (1..lines).rev() {
        let j = rng.random_range(0..i);
        order.swap(i, j);
    }
    let mut next = vec![0u32; lines * 16];
    for i in 0..lines {
        next[order[i] as usize * 16] = order[(i + 1) % lines] * 16;
    }
    drop(order);
    let mut at = 0usize;
    c.bench_function(name, |b| {
        b.iter(|| {
            at = next[at] as usize;
        })
    });
    black_box(at);
}

fn memory(c: &mut Criterion) {
    bench_dependent_lines(
        c,
        "memory/dependent cache-line load, 400 MB (10^5 peers at 4 KiB)",
        WORKING_SET,
    );
    bench_dependent_lines(c, "memory/dependent cache-line load, 1 MB", 1 << 20);
}

criterion_group!(benches, queues, memory);
criterion_main!(benches);

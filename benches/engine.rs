//! Event queue benchmark: one step = pop the earliest event, push one new event a random
//! span later, with 10^6 events pending (the engine's steady state). Compares the radix
//! heap used by the engine with `std::collections::BinaryHeap`.
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

criterion_group!(benches, queues);
criterion_main!(benches);

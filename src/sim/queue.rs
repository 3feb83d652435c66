//! The hot event queue.
//!
//! Events are ordered by `(time, seq)`, where `seq` is a counter the queue assigns at every
//! push: events due at the same time pop in the order they were pushed. A simulation only
//! ever schedules at or after the time of the event being handled, so the queue may be
//! *monotone* (a push is never earlier than the last pop). That admits a radix heap, which
//! the benchmark in `benches/engine.rs` and DESIGN.md's measurements favour (≈ 4–7× faster
//! than `BinaryHeap` with 10^6 pending events).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use radix_heap::RadixHeapMap;

use crate::time::Time;

/// A priority queue of events keyed by `(time, insertion order)`.
pub trait EventQueue<T> {
    /// Schedules `item` at `at`. `at` must not be earlier than the last popped time.
    fn push(&mut self, at: Time, item: T);
    /// The earliest event, ties broken by insertion order.
    fn pop(&mut self) -> Option<(Time, T)>;
    /// Events pending.
    fn len(&self) -> usize;
    /// True when nothing is pending.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The `(time, seq)` key packed into one `u128`: time in the high 64 bits.
fn key(at: Time, seq: u64) -> u128 {
    (u128::from(at.0) << 64) | u128::from(seq)
}

/// Monotone radix heap (the `radix-heap` crate) over packed `(time, seq)` keys.
pub struct RadixQueue<T> {
    heap: RadixHeapMap<Reverse<u128>, T>,
    seq: u64,
    last: Time,
}

impl<T> Default for RadixQueue<T> {
    fn default() -> Self {
        RadixQueue {
            heap: RadixHeapMap::new(),
            seq: 0,
            last: Time::ZERO,
        }
    }
}

impl<T> RadixQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<T> EventQueue<T> for RadixQueue<T> {
    /// A push earlier than the last pop is moved up to the last popped time (it still runs
    /// after everything already due then); the engine never does this.
    fn push(&mut self, at: Time, item: T) {
        debug_assert!(at >= self.last, "event scheduled in the past");
        let at = at.max(self.last);
        self.heap.push(Reverse(key(at, self.seq)), item);
        self.seq += 1;
    }
    fn pop(&mut self) -> Option<(Time, T)> {
        let (Reverse(k), item) = self.heap.pop()?;
        self.last = Time((k >> 64) as u64);
        Some((self.last, item))
    }
    fn len(&self) -> usize {
        self.heap.len()
    }
}

impl<T> RadixQueue<T> {
    /// The pending items.
    pub fn items(&self) -> impl Iterator<Item = &T> {
        self.heap.values()
    }

    /// Heap bytes of the pending entries (the buckets' buffers are counted at their
    /// length).
    pub fn heap_bytes(&self) -> usize {
        self.heap.len() * std::mem::size_of::<(Reverse<u128>, T)>()
    }
}

/// `std::collections::BinaryHeap` over `(time, seq)`: the reference implementation (tests,
/// benchmarks). Not monotone: any push order works.
pub struct HeapQueue<T> {
    heap: BinaryHeap<Entry<T>>,
    seq: u64,
}

struct Entry<T>(Reverse<u128>, T);

impl<T> PartialEq for Entry<T> {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Entry<T> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.cmp(&o.0)
    }
}

impl<T> Default for HeapQueue<T> {
    fn default() -> Self {
        HeapQueue {
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }
}

impl<T> HeapQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<T> EventQueue<T> for HeapQueue<T> {
    fn push(&mut self, at: Time, item: T) {
        self.heap.push(Entry(Reverse(key(at, self.seq)), item));
        self.seq += 1;
    }
    fn pop(&mut self) -> Option<(Time, T)> {
        self.heap
            .pop()
            .map(|Entry(Reverse(k), item)| (Time((k >> 64) as u64), item))
    }
    fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain<Q: EventQueue<u32>>(mut q: Q) -> Vec<(u64, u32)> {
        for (i, t) in [5u64, 1, 5, 3, 1, 5, 0].iter().enumerate() {
            q.push(Time(*t), i as u32);
        }
        let mut out = Vec::new();
        while let Some((t, v)) = q.pop() {
            out.push((t.0, v));
        }
        out
    }

    #[test]
    fn both_queues_order_by_time_then_insertion() {
        let want = vec![(0, 6), (1, 1), (1, 4), (3, 3), (5, 0), (5, 2), (5, 5)];
        assert_eq!(drain(RadixQueue::new()), want);
        assert_eq!(drain(HeapQueue::new()), want);
    }
}

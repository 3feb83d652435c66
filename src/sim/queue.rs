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

/// An event's place in the order: its time, then the queue's push counter. Two `u64`s, so
/// an entry has 8-byte alignment (a `u128` key would pad every entry to 16).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    time: u64,
    seq: u64,
}

impl Key {
    /// The radix bucket of `self` relative to `top` (not above it): 0 when equal, else one
    /// more than the highest bit in which the packed `(time, seq)` values differ.
    fn bucket(self, top: Key) -> usize {
        let t = self.time ^ top.time;
        if t != 0 {
            128 - t.leading_zeros() as usize
        } else {
            64 - (self.seq ^ top.seq).leading_zeros() as usize
        }
    }
}

/// Buckets of a radix heap over 128-bit keys.
const BUCKETS: usize = 129;

/// A drained bucket keeps its room for reuse only below this many entries.
const KEEP_DRAINED: usize = 4096;

/// Pops between two trims of the buckets' spare room, at least.
const TRIM_MIN_POPS: usize = 1 << 16;

/// Monotone radix heap over `(time, seq)` keys (Ahuja, Mehlhorn, Orlin and Tarjan, 1990).
///
/// Bucket 0 holds the entry equal to the last popped key, bucket `b` the entries whose
/// highest bit differing from it is bit `b − 1`. A bit mask of the non-empty buckets
/// finds the next one in one instruction. Buckets keep their room between pops and give
/// back what they no longer use after as many pops as there were pending events, so the
/// queue's memory follows its length rather than its peak.
pub struct RadixQueue<T> {
    buckets: Vec<Vec<(Key, T)>>,
    /// Bit `b − 1` set when bucket `b` (1..=128) is non-empty.
    occupied: u128,
    top: Key,
    len: usize,
    seq: u64,
    /// Pops until the next trim.
    trim_in: usize,
}

impl<T> Default for RadixQueue<T> {
    fn default() -> Self {
        RadixQueue {
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            occupied: 0,
            top: Key { time: 0, seq: 0 },
            len: 0,
            seq: 0,
            trim_in: TRIM_MIN_POPS,
        }
    }
}

impl<T> RadixQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    fn place(&mut self, key: Key, item: T) {
        let b = key.bucket(self.top);
        self.buckets[b].push((key, item));
        if b > 0 {
            self.occupied |= 1 << (b - 1);
        }
    }

    /// Moves the entries of the lowest non-empty bucket below it, around their minimum,
    /// which becomes the top. False when the queue is empty.
    fn refill(&mut self) -> bool {
        if self.occupied == 0 {
            return false;
        }
        let b = self.occupied.trailing_zeros() as usize + 1;
        self.occupied &= !(1 << (b - 1));
        let mut entries = std::mem::take(&mut self.buckets[b]);
        self.top = entries.iter().map(|e| e.0).min().unwrap_or(self.top);
        for (key, item) in entries.drain(..) {
            self.place(key, item);
        }
        // A large batch is spread over the lower buckets once in a long while (a span of
        // simulated time): its emptied room is given back now rather than at the next trim.
        if entries.capacity() < KEEP_DRAINED {
            self.buckets[b] = entries;
        }
        true
    }

    /// Gives back the buckets' spare room once the queue has turned over.
    fn trim(&mut self) {
        self.trim_in = self.len.max(TRIM_MIN_POPS);
        for b in &mut self.buckets {
            b.shrink_to_fit();
        }
    }
}

impl<T> EventQueue<T> for RadixQueue<T> {
    /// A push earlier than the last pop is moved up to the last popped time (it still runs
    /// after everything already due then); the engine never does this.
    fn push(&mut self, at: Time, item: T) {
        debug_assert!(at.0 >= self.top.time, "event scheduled in the past");
        let key = Key {
            time: at.0.max(self.top.time),
            seq: self.seq,
        };
        self.seq += 1;
        self.len += 1;
        self.place(key, item);
    }
    fn pop(&mut self) -> Option<(Time, T)> {
        if self.buckets[0].is_empty() && !self.refill() {
            return None;
        }
        let (key, item) = self.buckets[0].pop()?;
        self.len -= 1;
        self.trim_in -= 1;
        if self.trim_in == 0 {
            self.trim();
        }
        Some((Time(key.time), item))
    }
    fn len(&self) -> usize {
        self.len
    }
}

impl<T> RadixQueue<T> {
    /// The pending items.
    pub fn items(&self) -> impl Iterator<Item = &T> {
        self.buckets.iter().flatten().map(|(_, item)| item)
    }

    /// Heap bytes the queue holds: its buckets' buffers at their capacity.
    pub fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<Vec<(Key, T)>>()
            + self
                .buckets
                .iter()
                .map(|b| b.capacity() * std::mem::size_of::<(Key, T)>())
                .sum::<usize>()
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

    /// A deterministic stream of spans, from a few ns to about 4 s, so keys spread over
    /// many buckets, with ties.
    fn spans(n: usize) -> impl Iterator<Item = u64> {
        let mut next = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15);
        (0..n).map(move |_| {
            let x = next();
            (x & 0xffff_ffff) >> (x >> 59)
        })
    }

    #[test]
    fn the_radix_queue_pops_as_the_binary_heap_under_interleaving() {
        let mut radix = RadixQueue::new();
        let mut heap = HeapQueue::new();
        let mut now = 0u64;
        let mut n = 0u32;
        for s in spans(400_000) {
            radix.push(Time(now + s), n);
            heap.push(Time(now + s), n);
            n += 1;
            // Two pushes per pop while filling, then one each: a queue that grows, then
            // turns over.
            if n % 2 == 0 || n > 200_000 {
                let a = radix.pop();
                assert_eq!(a, heap.pop());
                now = a.expect("pending").0.0;
            }
        }
        assert_eq!(radix.len(), heap.len());
        while let Some(a) = radix.pop() {
            assert_eq!(Some(a), heap.pop());
        }
        assert!(heap.is_empty() && radix.is_empty());
    }

    #[test]
    fn the_radix_queue_gives_back_its_room() {
        let mut q = RadixQueue::new();
        for (i, s) in spans(300_000).enumerate() {
            q.push(Time(s), i);
        }
        let full = q.heap_bytes();
        assert!(full >= 300_000 * std::mem::size_of::<(Key, usize)>());
        for _ in 0..299_000 {
            q.pop();
        }
        // Emptied buckets keep their room until the queue has turned over once more.
        for i in 0..2 * TRIM_MIN_POPS {
            q.push(Time(u64::MAX / 2), i);
            q.pop();
        }
        assert!(q.heap_bytes() < full / 10, "{} of {full}", q.heap_bytes());
    }

    #[test]
    fn an_entry_has_no_padding_for_the_key() {
        assert_eq!(std::mem::size_of::<(Key, [u64; 5])>(), 56);
    }
}

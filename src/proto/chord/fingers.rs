//! The Finger Table (§10.1, §10.7.4.2). Entry `i` (0-based here; the RFC counts from 1)
//! aims at `n + 2^(127-i)` and is valid for ids in `[n + 2^(127-i), n + 2^(128-i) - 1]`.

use crate::proto::id::NodeId;

/// Finger entries, each filled with a connected peer in its range or empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FingerTable {
    entries: Vec<Option<NodeId>>,
}

impl FingerTable {
    /// An empty table of `size` entries (16..=128).
    pub fn new(size: usize) -> FingerTable {
        FingerTable {
            entries: vec![None; size.clamp(1, 128)],
        }
    }

    /// Heap bytes of the entries.
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Option<NodeId>>()
    }

    /// Number of entries.
    pub fn size(&self) -> usize {
        self.entries.len()
    }

    /// Start of entry `i`'s range and its length, for a table owned by `me`.
    pub fn range(me: NodeId, i: usize) -> (NodeId, u128) {
        let len = 1u128 << (127 - i);
        (me.wrapping_add(len), len)
    }

    /// True if `id` lies in entry `i`'s range.
    pub fn in_range(me: NodeId, i: usize, id: NodeId) -> bool {
        let (start, len) = Self::range(me, i);
        start.distance_to(id) < len
    }

    /// The entry index whose range holds `id`, if any.
    pub fn slot_of(&self, me: NodeId, id: NodeId) -> Option<usize> {
        let d = me.distance_to(id);
        if d == 0 {
            return None;
        }
        let i = d.leading_zeros() as usize;
        (i < self.entries.len()).then_some(i)
    }

    /// Entry `i`.
    pub fn get(&self, i: usize) -> Option<NodeId> {
        self.entries.get(i).copied().flatten()
    }

    /// Sets entry `i`.
    pub fn set(&mut self, i: usize, id: Option<NodeId>) {
        if let Some(e) = self.entries.get_mut(i) {
            *e = id;
        }
    }

    /// Offers a connected peer: fills its entry if empty or if `id` is nearer the entry's
    /// start. Returns true if the table changed.
    pub fn offer(&mut self, me: NodeId, id: NodeId) -> bool {
        let Some(i) = self.slot_of(me, id) else {
            return false;
        };
        let (start, _) = Self::range(me, i);
        match self.entries[i] {
            Some(cur) if start.distance_to(cur) <= start.distance_to(id) => false,
            _ => {
                self.entries[i] = Some(id);
                true
            }
        }
    }

    /// Clears every entry holding `id`; returns true if any did.
    pub fn remove(&mut self, id: NodeId) -> bool {
        let mut hit = false;
        for e in &mut self.entries {
            if *e == Some(id) {
                *e = None;
                hit = true;
            }
        }
        hit
    }

    /// Filled entries, in entry order, without repeats.
    pub fn filled(&self) -> Vec<NodeId> {
        let mut v: Vec<NodeId> = Vec::new();
        for id in self.entries.iter().flatten() {
            if !v.contains(id) {
                v.push(*id);
            }
        }
        v
    }

    /// True if entry `i` is empty.
    pub fn is_empty_at(&self, i: usize) -> bool {
        self.entries.get(i).is_some_and(Option::is_none)
    }

    /// True if no entry holds a peer.
    pub fn is_empty(&self) -> bool {
        self.entries.iter().all(Option::is_none)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_halve() {
        let me = NodeId(0);
        let t = FingerTable::new(16);
        assert_eq!(t.slot_of(me, NodeId(1 << 127)), Some(0));
        assert_eq!(t.slot_of(me, NodeId(u128::MAX)), Some(0));
        assert_eq!(t.slot_of(me, NodeId(1 << 126)), Some(1));
        assert_eq!(t.slot_of(me, NodeId((1 << 127) - 1)), Some(1));
        assert_eq!(t.slot_of(me, NodeId(1 << 100)), None);
        assert!(FingerTable::in_range(me, 0, NodeId(1 << 127)));
        assert!(!FingerTable::in_range(me, 1, NodeId(1 << 127)));
        // Wrapping: owner near the top of the ring.
        let me = NodeId(u128::MAX - 5);
        assert_eq!(t.slot_of(me, me.wrapping_add(1 << 127)), Some(0));
        assert!(FingerTable::in_range(me, 0, me.wrapping_add(1 << 127)));
    }

    #[test]
    fn offer_prefers_the_start_of_the_range() {
        let me = NodeId(0);
        let mut t = FingerTable::new(16);
        assert!(t.offer(me, NodeId((1 << 127) + 50)));
        assert!(t.offer(me, NodeId((1 << 127) + 10)));
        assert!(!t.offer(me, NodeId((1 << 127) + 20)));
        assert_eq!(t.get(0), Some(NodeId((1 << 127) + 10)));
        assert!(t.remove(NodeId((1 << 127) + 10)));
        assert!(t.is_empty_at(0));
    }
}

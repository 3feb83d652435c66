//! The Finger Table (§10.1, §10.7.4.2). Entry `i` (0-based here; the RFC counts from 1)
//! aims at `n + 2^(127-i)` and is valid for ids in `[n + 2^(127-i), n + 2^(128-i) - 1]`.

use crate::proto::id::NodeId;

/// Finger entries, each filled with a connected peer in its range or empty. The
/// Node-IDs are kept bare (16 bytes an entry; an `Option<NodeId>` would take 32) beside a
/// bit mask of the filled ones.
#[derive(Clone, Debug, Default)]
pub struct FingerTable {
    ids: Vec<NodeId>,
    /// Bit `i % 64` of word `i / 64` set when entry `i` is filled.
    filled: [u64; 2],
}

impl PartialEq for FingerTable {
    fn eq(&self, o: &Self) -> bool {
        self.size() == o.size() && (0..self.size()).all(|i| self.get(i) == o.get(i))
    }
}
impl Eq for FingerTable {}

impl FingerTable {
    /// An empty table of `size` entries (16..=128).
    pub fn new(size: usize) -> FingerTable {
        FingerTable {
            ids: vec![NodeId(0); size.clamp(1, 128)],
            filled: [0; 2],
        }
    }

    /// Heap bytes of the entries.
    pub fn heap_bytes(&self) -> usize {
        self.ids.capacity() * std::mem::size_of::<NodeId>()
    }

    fn has(&self, i: usize) -> bool {
        i < self.ids.len() && self.filled[i / 64] >> (i % 64) & 1 == 1
    }

    fn fill(&mut self, i: usize, id: NodeId) {
        self.ids[i] = id;
        self.filled[i / 64] |= 1 << (i % 64);
    }

    fn clear(&mut self, i: usize) {
        self.filled[i / 64] &= !(1 << (i % 64));
    }

    /// Number of entries.
    pub fn size(&self) -> usize {
        self.ids.len()
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
        (i < self.ids.len()).then_some(i)
    }

    /// Entry `i`.
    pub fn get(&self, i: usize) -> Option<NodeId> {
        self.has(i).then(|| self.ids[i])
    }

    /// Sets entry `i`.
    pub fn set(&mut self, i: usize, id: Option<NodeId>) {
        if i < self.ids.len() {
            match id {
                Some(id) => self.fill(i, id),
                None => self.clear(i),
            }
        }
    }

    /// Offers a connected peer: fills its entry if empty or if `id` is nearer the entry's
    /// start. Returns true if the table changed.
    pub fn offer(&mut self, me: NodeId, id: NodeId) -> bool {
        let Some(i) = self.slot_of(me, id) else {
            return false;
        };
        let (start, _) = Self::range(me, i);
        match self.get(i) {
            Some(cur) if start.distance_to(cur) <= start.distance_to(id) => false,
            _ => {
                self.fill(i, id);
                true
            }
        }
    }

    /// Clears every entry holding `id`; returns true if any did.
    pub fn remove(&mut self, id: NodeId) -> bool {
        let mut hit = false;
        for i in 0..self.ids.len() {
            if self.has(i) && self.ids[i] == id {
                self.clear(i);
                hit = true;
            }
        }
        hit
    }

    /// Filled entries, in entry order, without repeats.
    pub fn filled(&self) -> Vec<NodeId> {
        let mut v: Vec<NodeId> = Vec::new();
        for id in (0..self.ids.len()).filter_map(|i| self.get(i)) {
            if !v.contains(&id) {
                v.push(id);
            }
        }
        v
    }

    /// True if entry `i` is empty.
    pub fn is_empty_at(&self, i: usize) -> bool {
        i < self.ids.len() && !self.has(i)
    }

    /// True if no entry holds a peer.
    pub fn is_empty(&self) -> bool {
        self.filled == [0; 2]
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

    #[test]
    fn entries_past_64_fill_and_clear_on_their_own() {
        let me = NodeId(0);
        let mut t = FingerTable::new(128);
        assert!(t.is_empty());
        for i in [0, 63, 64, 127] {
            let (start, _) = FingerTable::range(me, i);
            assert!(t.offer(me, start));
            assert_eq!(t.get(i), Some(start));
        }
        assert_eq!(t.filled().len(), 4);
        let (at64, _) = FingerTable::range(me, 64);
        assert!(t.remove(at64));
        assert!(t.is_empty_at(64) && !t.is_empty_at(63) && !t.is_empty_at(127));
        assert!(!t.is_empty_at(128), "no entry 128");
        let mut u = FingerTable::new(128);
        for i in [0, 63, 127] {
            u.set(i, t.get(i));
        }
        assert_eq!(
            t, u,
            "equal tables compare equal whatever their cleared ids"
        );
        for i in [0, 63, 127] {
            t.set(i, None);
        }
        assert!(t.is_empty());
    }
}

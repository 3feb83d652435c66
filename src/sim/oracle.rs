//! The oracle: the true ring of joined, alive peers. It answers "who owns this key" and
//! "who is this peer's true successor" for metrics only; nothing it knows ever reaches a
//! node.

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Unbounded};

use crate::proto::id::NodeId;

/// The global view of the ring: Node-ID → slot index of every joined, alive peer.
#[derive(Clone, Debug, Default)]
pub struct Oracle {
    ring: BTreeMap<NodeId, u32>,
}

impl Oracle {
    /// An empty ring.
    pub fn new() -> Oracle {
        Oracle::default()
    }

    /// A peer joined (or is alive and joined again).
    pub fn insert(&mut self, id: NodeId, slot: u32) {
        self.ring.insert(id, slot);
    }

    /// A peer left the ring (crash, leave, or lost its joined state).
    pub fn remove(&mut self, id: NodeId) {
        self.ring.remove(&id);
    }

    /// Joined, alive peers.
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// True when no peer is joined.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// True when `id` is a joined, alive peer.
    pub fn contains(&self, id: NodeId) -> bool {
        self.ring.contains_key(&id)
    }

    /// The peer responsible for `key`: the first Node-ID clockwise at or after it (CHORD:
    /// a peer owns `(predecessor, self]`).
    pub fn owner(&self, key: NodeId) -> Option<NodeId> {
        self.ring
            .range(key..)
            .next()
            .or_else(|| self.ring.iter().next())
            .map(|(id, _)| *id)
    }

    /// The peer responsible for `key` and its slot.
    pub fn owner_slot(&self, key: NodeId) -> Option<(NodeId, u32)> {
        self.ring
            .range(key..)
            .next()
            .or_else(|| self.ring.iter().next())
            .map(|(id, s)| (*id, *s))
    }

    /// The `k`-th joined peer in ring order (`k < len`), with its slot.
    pub fn nth(&self, k: usize) -> Option<(NodeId, u32)> {
        self.ring.iter().nth(k).map(|(id, s)| (*id, *s))
    }

    /// The true successor of `id`: the next joined peer clockwise after it (itself when it
    /// is alone).
    pub fn successor(&self, id: NodeId) -> Option<NodeId> {
        self.ring
            .range((Excluded(id), Unbounded))
            .next()
            .or_else(|| self.ring.iter().next())
            .map(|(id, _)| *id)
    }

    /// Joined peers in ring order, with their slots.
    pub fn peers(&self) -> impl Iterator<Item = (NodeId, u32)> + '_ {
        self.ring.iter().map(|(id, s)| (*id, *s))
    }

    /// Fraction of joined peers whose first successor is the true successor; `first_successor`
    /// gives each peer's own view (`None`: an empty successor list). A peer alone in the ring
    /// is correct with an empty list or itself. Undefined for an empty ring.
    pub fn ring_correct_fraction(
        &self,
        mut first_successor: impl FnMut(u32) -> Option<NodeId>,
    ) -> Option<f64> {
        if self.ring.is_empty() {
            return None;
        }
        // Each peer's true successor is the next one in ring order (the first for the last).
        let first = self.ring.keys().next().copied();
        let truths = self.ring.keys().skip(1).copied().map(Some).chain([first]);
        let correct = self
            .peers()
            .zip(truths)
            .filter(|&((id, slot), truth)| match first_successor(slot) {
                None => truth == Some(id),
                seen => seen == truth,
            })
            .count();
        Some(correct as f64 / self.ring.len() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_and_successor_wrap_around() {
        let mut o = Oracle::new();
        for (i, id) in [10u128, 20, 30].iter().enumerate() {
            o.insert(NodeId(*id), i as u32);
        }
        assert_eq!(o.owner(NodeId(15)), Some(NodeId(20)));
        assert_eq!(o.owner(NodeId(20)), Some(NodeId(20)));
        assert_eq!(o.owner(NodeId(31)), Some(NodeId(10)));
        assert_eq!(o.owner(NodeId(u128::MAX)), Some(NodeId(10)));
        assert_eq!(o.successor(NodeId(30)), Some(NodeId(10)));
        assert_eq!(o.successor(NodeId(10)), Some(NodeId(20)));
        let views = [Some(NodeId(20)), Some(NodeId(10)), Some(NodeId(10))];
        let f = o.ring_correct_fraction(|s| views[s as usize]).unwrap();
        assert!((f - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_lonely_peer_is_its_own_successor() {
        let mut o = Oracle::new();
        o.insert(NodeId(5), 0);
        assert_eq!(o.successor(NodeId(5)), Some(NodeId(5)));
        assert_eq!(o.ring_correct_fraction(|_| None), Some(1.0));
        assert_eq!(Oracle::new().ring_correct_fraction(|_| None), None);
        assert_eq!(o.owner(NodeId(99)), Some(NodeId(5)));
    }
}

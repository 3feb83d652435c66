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

    /// The peer responsible for `key` and those after it clockwise (each once), with
    /// their slots: the responsible peer, then its replica set.
    pub fn from_owner(&self, key: NodeId) -> impl Iterator<Item = (NodeId, u32)> + '_ {
        self.ring
            .range(key..)
            .chain(self.ring.range(..key))
            .map(|(id, s)| (*id, *s))
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

impl Oracle {
    /// Rings the joined peers' first successors form: the strongly connected components of
    /// the successor graph (an edge from each peer to its first successor when that is a
    /// joined peer) that hold a cycle. One correct ring gives 1; halves of a partition that
    /// closed on themselves give 2; a ring broken by a dead successor gives 0.
    pub fn rings(&self, mut first_successor: impl FnMut(u32) -> Option<NodeId>) -> usize {
        use petgraph::graph::{DiGraph, NodeIndex};
        if let Some((&id, &slot)) = self.ring.iter().next()
            && self.ring.len() == 1
        {
            // Alone: a ring with no successor or itself, as `ring_correct_fraction` says.
            return usize::from(first_successor(slot).is_none_or(|s| s == id));
        }
        let mut g: DiGraph<(), ()> = DiGraph::with_capacity(self.ring.len(), self.ring.len());
        let index: BTreeMap<NodeId, NodeIndex> =
            self.ring.keys().map(|&id| (id, g.add_node(()))).collect();
        for (id, slot) in self.peers() {
            if let Some(next) = first_successor(slot).and_then(|s| index.get(&s)) {
                g.add_edge(index[&id], *next, ());
            }
        }
        petgraph::algo::tarjan_scc(&g)
            .iter()
            .filter(|c| c.len() > 1 || g.contains_edge(c[0], c[0]))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_count_the_cycles_of_the_successor_graph() {
        let mut o = Oracle::new();
        for i in 0..6u32 {
            o.insert(NodeId(u128::from(i) * 10 + 10), i);
        }
        let id = |s: u32| NodeId(u128::from(s) * 10 + 10);
        // One ring.
        assert_eq!(o.rings(|s| Some(id((s + 1) % 6))), 1);
        // Two halves, each closed on itself.
        assert_eq!(
            o.rings(|s| Some(id(if s % 3 == 2 { s - 2 } else { s + 1 }))),
            2
        );
        // A dead successor (not in the ring) breaks the cycle.
        assert_eq!(
            o.rings(|s| if s == 5 {
                Some(NodeId(1))
            } else {
                Some(id(s + 1))
            }),
            0
        );
        // A lone peer is a ring unless it points at a peer that is gone.
        let mut one = Oracle::new();
        one.insert(NodeId(7), 0);
        assert_eq!(one.rings(|_| Some(NodeId(7))), 1);
        assert_eq!(one.rings(|_| None), 1);
        assert_eq!(one.rings(|_| Some(NodeId(8))), 0);
    }

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

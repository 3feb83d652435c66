//! The Neighbor Table (§10.1): the nearest predecessors and successors on the ring.

use crate::proto::id::NodeId;

/// Predecessors and successors, nearest first. Never contains the owner itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NeighborTable {
    /// Predecessors, nearest first.
    pub predecessors: Vec<NodeId>,
    /// Successors, nearest first.
    pub successors: Vec<NodeId>,
}

impl NeighborTable {
    /// The table `me` would have if `candidates` were all the peers it knows: the
    /// `n_pred` nearest counter-clockwise and the `n_succ` nearest clockwise. In a small
    /// ring one peer can be both.
    pub fn best(
        me: NodeId,
        candidates: impl IntoIterator<Item = NodeId>,
        n_pred: usize,
        n_succ: usize,
    ) -> NeighborTable {
        let mut all: Vec<NodeId> = candidates.into_iter().filter(|c| *c != me).collect();
        all.sort_unstable();
        all.dedup();
        // Exact-size lists: tables are long-lived, and per-peer memory matters at 10^6.
        all.sort_unstable_by_key(|c| me.distance_to(*c));
        let mut successors = Vec::with_capacity(n_succ.min(all.len()));
        successors.extend_from_slice(&all[..n_succ.min(all.len())]);
        all.sort_unstable_by_key(|c| c.distance_to(me));
        let mut predecessors = Vec::with_capacity(n_pred.min(all.len()));
        predecessors.extend_from_slice(&all[..n_pred.min(all.len())]);
        NeighborTable {
            predecessors,
            successors,
        }
    }

    /// Heap bytes of both lists.
    pub fn heap_bytes(&self) -> usize {
        (self.predecessors.capacity() + self.successors.capacity()) * std::mem::size_of::<NodeId>()
    }

    /// True if `id` is a predecessor or successor.
    pub fn contains(&self, id: NodeId) -> bool {
        self.predecessors.contains(&id) || self.successors.contains(&id)
    }

    /// Every neighbour once, predecessors first.
    pub fn all(&self) -> Vec<NodeId> {
        let mut v = self.predecessors.clone();
        for s in &self.successors {
            if !v.contains(s) {
                v.push(*s);
            }
        }
        v
    }

    /// True if `id` would enter the table of `me` (it is nearer than the farthest entry,
    /// or a side is not full).
    pub fn would_accept(&self, me: NodeId, id: NodeId, n_pred: usize, n_succ: usize) -> bool {
        if id == me || self.contains(id) {
            return false;
        }
        let succ_ok = self.successors.len() < n_succ
            || self
                .successors
                .last()
                .is_some_and(|far| me.distance_to(id) < me.distance_to(*far));
        let pred_ok = self.predecessors.len() < n_pred
            || self
                .predecessors
                .last()
                .is_some_and(|far| id.distance_to(me) < far.distance_to(me));
        succ_ok || pred_ok
    }

    /// Removes `id`; returns true if it was there.
    pub fn remove(&mut self, id: NodeId) -> bool {
        let before = self.predecessors.len() + self.successors.len();
        self.predecessors.retain(|p| *p != id);
        self.successors.retain(|s| *s != id);
        before != self.predecessors.len() + self.successors.len()
    }

    /// True if `me` is responsible for `k`: `k ∈ (predecessor, me]`; with no predecessor,
    /// for everything (§10.1).
    pub fn responsible(&self, me: NodeId, k: NodeId) -> bool {
        match self.predecessors.first() {
            Some(p) => k.in_half_open(*p, me),
            None => true,
        }
    }

    /// The peer responsible for `k` as far as this table knows (§10.1): `me`, or the
    /// predecessor whose range (from the next predecessor out, exclusive, to itself)
    /// holds `k`; `None` beyond the farthest known predecessor.
    pub fn owner_of(&self, me: NodeId, k: NodeId) -> Option<NodeId> {
        if self.responsible(me, k) {
            return Some(me);
        }
        self.predecessors
            .windows(2)
            .find(|w| k.in_half_open(w[1], w[0]))
            .map(|w| w[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_nearest_on_both_sides() {
        let me = NodeId(100);
        let t = NeighborTable::best(
            me,
            [10, 90, 95, 99, 101, 150, 200, 300, 100].map(NodeId),
            3,
            3,
        );
        assert_eq!(t.predecessors, vec![NodeId(99), NodeId(95), NodeId(90)]);
        assert_eq!(t.successors, vec![NodeId(101), NodeId(150), NodeId(200)]);
        assert!(t.responsible(me, NodeId(100)));
        assert!(!t.responsible(me, NodeId(96)));
        assert!(!t.responsible(me, NodeId(99)));
        assert_eq!(t.owner_of(me, NodeId(100)), Some(me));
        assert_eq!(t.owner_of(me, NodeId(97)), Some(NodeId(99)));
        assert_eq!(t.owner_of(me, NodeId(95)), Some(NodeId(95)));
        assert_eq!(t.owner_of(me, NodeId(91)), Some(NodeId(95)));
        assert_eq!(t.owner_of(me, NodeId(90)), None);
        assert!(t.would_accept(me, NodeId(97), 3, 3));
        assert!(!t.would_accept(me, NodeId(50), 3, 3));
    }

    #[test]
    fn wraps_around_and_handles_tiny_rings() {
        let me = NodeId(5);
        let t = NeighborTable::best(me, [NodeId(u128::MAX), NodeId(9)], 3, 3);
        assert_eq!(t.predecessors, vec![NodeId(u128::MAX), NodeId(9)]);
        assert_eq!(t.successors, vec![NodeId(9), NodeId(u128::MAX)]);
        assert!(t.responsible(me, NodeId(0)));
        assert!(!t.responsible(me, NodeId(7)));
        assert!(NeighborTable::default().responsible(me, NodeId(7)));
    }
}

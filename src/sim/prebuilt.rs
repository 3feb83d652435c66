//! Prebuilt rings (`[peers] arrival = "prebuilt"`): the links every peer of a static ring
//! has, computed from the true ring before t = 0, the way PeerSim and OverSim initialise
//! static overlays.
//!
//! Each peer links to its `predecessors` nearest predecessors and `successors` nearest
//! successors (§10.1), and to the finger of each useful Finger Table entry: the first peer
//! of the entry's range, if the range holds one. This is where a static protocol-built
//! ring's fingers converge: each finger search aims at a random point of the range
//! (§10.7.4.2) and finds the peer responsible for it, and a found peer replaces the entry
//! only if it is nearer the range's start (`FingerTable::offer`). The useful entries are
//! the first `log2(N)` rounded up, as a joined peer computes them from its estimate of
//! the overlay size. Every link is given to both ends, as an Attach would leave it. Each node then
//! builds its own tables from its links (`Node::join_prebuilt`).

use crate::proto::chord::FingerTable;
use crate::proto::id::NodeId;

/// Every peer's linked peers, as slot indices (compressed rows), and every peer's
/// Node-ID.
#[derive(Clone, Debug, Default)]
pub struct PrebuiltRing {
    ids: Vec<NodeId>,
    /// `offsets[s]..offsets[s + 1]` indexes slot `s`'s links in `targets`.
    offsets: Vec<u32>,
    targets: Vec<u32>,
}

impl PrebuiltRing {
    /// The links of a ring of the peers with Node-IDs `ids` (by slot), each with
    /// `predecessors` and `successors` neighbours and up to `fingers` Finger Table entries.
    pub fn build(ids: Vec<NodeId>, predecessors: usize, successors: usize, fingers: usize) -> Self {
        let n = ids.len();
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_unstable_by_key(|&s| ids[s as usize]);
        let sorted: Vec<NodeId> = order.iter().map(|&s| ids[s as usize]).collect();
        let useful = (usize::BITS - n.leading_zeros()) as usize;
        let useful = useful.clamp(1, fingers.max(1));
        // Directed pairs (from, to), both ways, packed into a u64 so one sort orders and
        // deduplicates them.
        let mut pairs: Vec<u64> = Vec::with_capacity(n * 2 * (predecessors + successors + useful));
        let mut push = |a: u32, b: u32| {
            if a != b {
                pairs.push((u64::from(a) << 32) | u64::from(b));
                pairs.push((u64::from(b) << 32) | u64::from(a));
            }
        };
        for (p, &me) in order.iter().enumerate() {
            for k in 1..=predecessors.min(n.saturating_sub(1)) {
                push(me, order[(p + n - k) % n]);
            }
            for k in 1..=successors.min(n.saturating_sub(1)) {
                push(me, order[(p + k) % n]);
            }
            for slot in 0..useful {
                let (start, len) = FingerTable::range(sorted[p], slot);
                let q = sorted.partition_point(|id| *id < start) % n;
                if start.distance_to(sorted[q]) < len {
                    push(me, order[q]);
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut offsets = Vec::with_capacity(n + 1);
        let mut targets = Vec::with_capacity(pairs.len());
        let mut next = 0usize;
        for s in 0..n as u64 {
            offsets.push(targets.len() as u32);
            while next < pairs.len() && pairs[next] >> 32 == s {
                targets.push(pairs[next] as u32);
                next += 1;
            }
        }
        offsets.push(targets.len() as u32);
        PrebuiltRing {
            ids,
            offsets,
            targets,
        }
    }

    /// The Node-ID of slot `s`'s peer.
    pub fn id(&self, s: u32) -> NodeId {
        self.ids[s as usize]
    }

    /// The slots that slot `s` links to, in slot order.
    pub fn links_of(&self, s: u32) -> &[u32] {
        let s = s as usize;
        match (self.offsets.get(s), self.offsets.get(s + 1)) {
            (Some(&a), Some(&b)) => &self.targets[a as usize..b as usize],
            _ => &[],
        }
    }

    /// Links counted at both ends.
    pub fn link_ends(&self) -> usize {
        self.targets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_symmetric_and_hold_the_neighbours() {
        let ids: Vec<NodeId> = (0..50u128)
            .map(|i| NodeId((i * 7919 + 13) << 100))
            .collect();
        let ring = PrebuiltRing::build(ids.clone(), 2, 3, 16);
        for s in 0..50u32 {
            for &t in ring.links_of(s) {
                assert!(ring.links_of(t).contains(&s), "{s} → {t} has no way back");
            }
        }
        let mut order: Vec<u32> = (0..50).collect();
        order.sort_by_key(|&s| ids[s as usize]);
        for p in 0..50usize {
            let me = order[p];
            for k in [1, 2, 3] {
                assert!(ring.links_of(me).contains(&order[(p + k) % 50]));
            }
            for k in [1, 2] {
                assert!(ring.links_of(me).contains(&order[(p + 50 - k) % 50]));
            }
        }
    }

    #[test]
    fn a_lonely_peer_has_no_links() {
        let ring = PrebuiltRing::build(vec![NodeId(5)], 3, 3, 16);
        assert!(ring.links_of(0).is_empty());
        assert!(ring.links_of(7).is_empty());
    }
}

//! The CHORD-RELOAD routing rule (§10.3).

use crate::proto::id::NodeId;

/// Chooses the next hop toward `k` from `candidates` (connected peers of the Routing
/// Table), by §10.3: the candidate whose Node-ID is `k` itself ("directly connected to a
/// node with Node-ID k": that node is responsible for `k`); else the largest Node-ID in
/// `(me, k)`; failing that, the smallest Node-ID greater than `k`. Returns `None` with no
/// candidates. The caller has already found that `me` is not responsible for `k`.
pub fn next_hop(
    me: NodeId,
    k: NodeId,
    candidates: impl IntoIterator<Item = NodeId>,
) -> Option<NodeId> {
    next_hop_by(me, k, candidates.into_iter().map(|c| (c, c)))
}

/// [`next_hop`] over `(Node-ID, tag)` pairs; returns the chosen candidate's tag (for
/// example its link index), so the caller needs no second lookup.
pub fn next_hop_by<T: Copy>(
    me: NodeId,
    k: NodeId,
    candidates: impl IntoIterator<Item = (NodeId, T)>,
) -> Option<T> {
    let mut preceding: Option<(u128, T)> = None;
    let mut after: Option<(u128, T)> = None;
    for (c, tag) in candidates {
        if c == me {
            continue;
        }
        if c == k {
            return Some(tag);
        }
        if c.in_open(me, k) {
            let d = c.distance_to(k);
            if preceding.is_none_or(|(p, _)| d < p) {
                preceding = Some((d, tag));
            }
        } else {
            let d = k.distance_to(c);
            if after.is_none_or(|(a, _)| d < a) {
                after = Some((d, tag));
            }
        }
    }
    preceding.or(after).map(|(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_closest_preceding() {
        let me = NodeId(0);
        let c = [10, 40, 60, 90].map(NodeId);
        assert_eq!(next_hop(me, NodeId(50), c), Some(NodeId(40)));
        // §10.3: connected to the node whose Node-ID is the key: straight to it, not to
        // the closest preceding peer (10).
        assert_eq!(next_hop(me, NodeId(40), c), Some(NodeId(40)));
        assert_eq!(next_hop(me, NodeId(39), c), Some(NodeId(10)));
        assert_eq!(next_hop(me, NodeId(5), c), Some(NodeId(10)));
        assert_eq!(next_hop(NodeId(95), NodeId(5), c), Some(NodeId(10)));
        assert_eq!(next_hop(me, NodeId(5), []), None);
    }
}

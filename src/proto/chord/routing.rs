//! The CHORD-RELOAD routing rule (§10.3).

use crate::proto::id::NodeId;

/// Chooses the next hop toward `k` from `candidates` (connected peers of the Routing
/// Table): the largest Node-ID in `(me, k)`; failing that, the smallest Node-ID greater
/// than `k`. Returns `None` with no candidates.
pub fn next_hop(
    me: NodeId,
    k: NodeId,
    candidates: impl IntoIterator<Item = NodeId>,
) -> Option<NodeId> {
    let mut preceding: Option<NodeId> = None;
    let mut after: Option<NodeId> = None;
    for c in candidates {
        if c == me {
            continue;
        }
        if c.in_open(me, k) {
            if preceding.is_none_or(|p| c.distance_to(k) < p.distance_to(k)) {
                preceding = Some(c);
            }
        } else if after.is_none_or(|a| k.distance_to(c) < k.distance_to(a)) {
            after = Some(c);
        }
    }
    preceding.or(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_closest_preceding() {
        let me = NodeId(0);
        let c = [10, 40, 60, 90].map(NodeId);
        assert_eq!(next_hop(me, NodeId(50), c), Some(NodeId(40)));
        assert_eq!(next_hop(me, NodeId(40), c), Some(NodeId(10)));
        assert_eq!(next_hop(me, NodeId(5), c), Some(NodeId(10)));
        assert_eq!(next_hop(NodeId(95), NodeId(5), c), Some(NodeId(10)));
        assert_eq!(next_hop(me, NodeId(5), []), None);
    }
}

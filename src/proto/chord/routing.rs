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
    next_hop_where(me, k, candidates, |_| true)
}

/// [`next_hop_by`] over the candidates that pass `usable`, asked only of a candidate that
/// would be chosen (the key itself, or one closer than the best so far): the same answer
/// as filtering first, for a caller whose test reads memory the Node-IDs are not in.
pub fn next_hop_where<T: Copy>(
    me: NodeId,
    k: NodeId,
    candidates: impl IntoIterator<Item = (NodeId, T)>,
    mut usable: impl FnMut(T) -> bool,
) -> Option<T> {
    let mut preceding: Option<(u128, T)> = None;
    let mut after: Option<(u128, T)> = None;
    for (c, tag) in candidates {
        if c == me {
            continue;
        }
        if c == k {
            if usable(tag) {
                return Some(tag);
            }
            continue;
        }
        if c.in_open(me, k) {
            let d = c.distance_to(k);
            if preceding.is_none_or(|(p, _)| d < p) && usable(tag) {
                preceding = Some((d, tag));
            }
        } else {
            let d = k.distance_to(c);
            if after.is_none_or(|(a, _)| d < a) && usable(tag) {
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
    fn asking_only_would_be_choices_gives_the_filtered_answer() {
        let mut next = crate::test_rng::xorshift(0x853c_49e6_748f_ea9bu64);
        for round in 0..5_000 {
            // Small ids so that equal ids, `me` and `k` among the candidates all occur.
            let small = round % 2 == 0;
            let mut ids: Vec<NodeId> = (0..14)
                .map(|_| {
                    let r = next();
                    NodeId(if small {
                        u128::from(r % 16)
                    } else {
                        (u128::from(r) << 64) | u128::from(r)
                    })
                })
                .collect();
            let (me, k) = (ids.pop().unwrap(), ids.pop().unwrap());
            let n = (next() % 12) as usize;
            let cands: Vec<(NodeId, usize)> = (0..n).map(|i| (ids[i], i)).collect();
            let usable: Vec<bool> = (0..n).map(|_| next() % 3 != 0).collect();
            let filtered = cands.iter().copied().filter(|(_, i)| usable[*i]);
            assert_eq!(
                next_hop_where(me, k, cands.iter().copied(), |i| usable[i]),
                next_hop_by(me, k, filtered),
                "round {round}"
            );
        }
    }

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

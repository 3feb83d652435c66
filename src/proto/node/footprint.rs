//! Where a node's bytes are: an estimate of its inline size and of the heap its tables
//! hold (lengths and capacities × element sizes), for the scale bench's per-peer
//! breakdown. Allocator overhead is not counted here; the bench sets the estimate beside
//! the measured RSS.

use std::mem::size_of;

use super::Node;
use crate::proto::stats::NodeCounters;

/// A node's bytes by part.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    /// The `Node` value itself, less its RNG and counters.
    pub node: usize,
    /// The RNG state (inline).
    pub rng: usize,
    /// The counters (inline).
    pub stats: usize,
    /// The Connection Table: link entries and their send buffers.
    pub links: usize,
    /// Link entries (for the per-link figure).
    pub link_count: usize,
    /// Neighbor and Finger Tables.
    pub routing: usize,
    /// Pending transactions with their encoded messages, and the answer cache.
    pub transactions: usize,
    /// Stored values, and reassembly buffers.
    pub datastore: usize,
    /// Output queues, join state and the smaller lists.
    pub other: usize,
}

impl Footprint {
    /// Every part summed.
    pub fn total(&self) -> usize {
        self.node
            + self.rng
            + self.stats
            + self.links
            + self.routing
            + self.transactions
            + self.datastore
            + self.other
    }

    /// Adds `other` part by part.
    pub fn add(&mut self, other: &Footprint) {
        self.node += other.node;
        self.rng += other.rng;
        self.stats += other.stats;
        self.links += other.links;
        self.link_count += other.link_count;
        self.routing += other.routing;
        self.transactions += other.transactions;
        self.datastore += other.datastore;
        self.other += other.other;
    }
}

impl Node {
    /// Estimated bytes this node holds, by part.
    pub fn footprint(&self) -> Footprint {
        let rng = size_of::<super::rng::NodeRng>();
        let stats = size_of::<NodeCounters>();
        let other = self.outbox.capacity() * size_of::<crate::proto::event::Transmit>()
            + self
                .outbox
                .iter()
                .map(|t| t.bytes.capacity())
                .sum::<usize>()
            + self.closes.capacity() * size_of::<crate::proto::config::Addr>()
            + self.events.capacity() * size_of::<crate::proto::event::Event>()
            + self.bootstrap.capacity() * size_of::<crate::proto::config::Addr>()
            + self.join.as_ref().map_or(0, |j| {
                j.bootstrap.capacity() * size_of::<crate::proto::config::Addr>()
                    + j.neighbors.capacity() * size_of::<crate::proto::id::NodeId>()
            })
            + self.rare.as_ref().map_or(0, |r| r.heap_bytes());
        Footprint {
            node: size_of::<Node>() - rng - stats,
            rng,
            stats,
            links: self.links.heap_bytes(),
            link_count: self.links.len(),
            routing: self.neighbors.heap_bytes() + self.fingers.heap_bytes(),
            transactions: self.txns.heap_bytes()
                + self.answers.as_ref().map_or(0, |a| {
                    size_of::<crate::proto::transaction::AnswerCache>() + a.heap_bytes()
                }),
            datastore: self.data.heap_bytes()
                + self.reassembly.as_ref().map_or(0, |r| {
                    size_of::<super::reassembly::Reassembly>() + r.heap_bytes()
                }),
            other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::config::Addr;
    use crate::proto::stats::NodeStats;

    #[test]
    fn a_node_value_stays_small() {
        // Rarely used state is boxed (rare.rs); this guards against inline growth.
        assert!(size_of::<Node>() <= 720, "{} bytes", size_of::<Node>());
        // The state read on every input and poll stays in the first six cache lines.
        assert!(std::mem::offset_of!(Node, stats) <= 384);
    }

    #[test]
    fn counters_are_taken_and_restart() {
        use std::sync::Arc;

        use crate::proto::config::OverlayConfig;
        use crate::proto::id::NodeId;
        use crate::proto::node::Identity;
        use crate::time::Time;

        let cfg = Arc::new(OverlayConfig::new("test"));
        let me = Identity::new(NodeId(7), "u");
        let mut n = Node::new(cfg, me, "10.0.0.1:6084".parse().unwrap(), Time::ZERO, 1);
        let junk: Addr = "10.0.0.2:6084".parse().unwrap();
        n.handle_datagram(Time::ZERO, junk, &[0xff; 3]);
        n.handle_datagram(Time::ZERO, junk, &[0x00]);
        let seen = n.stats();
        assert!(
            seen.malformed + seen.dropped + seen.unknown_link >= 2,
            "{seen:?}"
        );
        assert_eq!(n.take_stats(), seen);
        assert_eq!(n.stats(), NodeStats::default());
    }
}

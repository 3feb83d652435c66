//! Per-node counters. Every dropped input is counted here, by reason.

macro_rules! counters {
    ($(#[doc = $doc:literal] $name:ident),* $(,)?) => {
        /// Counters kept by a node.
        #[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
        pub struct NodeStats {
            $(#[doc = $doc] pub $name: u64,)*
        }

        impl NodeStats {
            /// Adds every counter of `other` to `self`.
            pub fn add(&mut self, other: &NodeStats) {
                $(self.$name += other.$name;)*
            }
        }

        /// The same counters as a node keeps them: 32 bits each, so 10^6 peers hold
        /// 88 bytes each rather than 176. They wrap after 2^32 counts; a driver that runs
        /// that long takes them with [`Node::take_stats`](crate::proto::node::Node::take_stats)
        /// and sums them in a [`NodeStats`].
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct NodeCounters {
            $(#[doc = $doc] pub $name: u32,)*
        }

        impl NodeCounters {
            /// The counters widened to 64 bits.
            pub fn widen(&self) -> NodeStats {
                NodeStats {
                    $($name: u64::from(self.$name),)*
                }
            }
        }
    };
}

counters! {
    /// Datagrams or messages that failed to decode, or broke a protocol rule.
    malformed,
    /// Messages dropped for another reason (wrong overlay or config sequence, oversized, address conflict …).
    dropped,
    /// Frames from a link this node does not know (or whose peer it cannot name).
    unknown_link,
    /// Frames refused because the Connection Table was full of needed links.
    table_full,
    /// Messages that could not be forwarded: no connected peer to send them to.
    no_route,
    /// Messages not forwarded because their TTL ran out, or refused for a TTL above initial_ttl.
    ttl_exceeded,
    /// Messages forwarded for other nodes.
    forwarded,
    /// Messages delivered to this node.
    delivered,
    /// Messages whose signature did not verify.
    bad_signature,
    /// Frames retransmitted by Simple Reliability (§6.6.3).
    link_retransmits,
    /// Links the other end closed (`handle_link_close`).
    links_closed_by_peer,
    /// Links declared failed after their last retransmission.
    link_failures,
    /// Requests retransmitted end to end (§6.2.1).
    request_retransmits,
    /// Duplicate requests answered from the answer cache.
    duplicate_requests,
    /// Answers that matched no pending request (late, duplicate, or signed by a node other than the one addressed, §6.3.4).
    unmatched_answers,
    /// Answers to a request for a Resource-ID from a node farther from it than a Neighbor Table entry (§6.3.4), dropped: the request waits and is retransmitted.
    distant_answers,
    /// Attach requests sent while joining (§10.5): to the admitting peer (Resource-ID own id + 1) and to the future neighbours.
    attaches_join,
    /// Attach requests sent, once joined, to a peer an Update, a Leave or a partition check named for the Neighbor Table (§10.7.3, §10.9, §10.7.4.4).
    attaches_neighbor,
    /// Attach requests sent for the Finger Table (§10.7.4.2): to a finger search's responder, or to a peer an Update named for an empty entry.
    attaches_finger,
    /// Attach requests sent straight over a link whose peer has sent no Update yet, asking whether it still holds (§6.5.1; node/maintain.rs::revalidate).
    attaches_recheck,
    /// Attach requests a client sent to the peer responsible for its Node-ID (§4.2).
    attaches_client,
    /// Attach answers from a peer this node already had a link to: no new link came of them.
    attach_answers_linked,
}

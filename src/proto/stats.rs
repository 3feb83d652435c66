//! Per-node counters. Every dropped input is counted here, by reason.

/// Counters kept by a node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// Datagrams or messages that failed to decode, or broke a protocol rule.
    pub malformed: u64,
    /// Messages dropped for another reason (no route, unknown link, wrong overlay …).
    pub dropped: u64,
    /// Messages not forwarded because their TTL ran out.
    pub ttl_exceeded: u64,
    /// Messages forwarded for other nodes.
    pub forwarded: u64,
    /// Messages delivered to this node.
    pub delivered: u64,
    /// Messages whose signature did not verify.
    pub bad_signature: u64,
    /// Frames retransmitted by Simple Reliability (§6.6.3).
    pub link_retransmits: u64,
    /// Links declared failed after their last retransmission.
    pub link_failures: u64,
    /// Requests retransmitted end to end (§6.2.1).
    pub request_retransmits: u64,
    /// Duplicate requests answered from the answer cache.
    pub duplicate_requests: u64,
    /// Answers that matched no pending request (late or duplicate).
    pub unmatched_answers: u64,
}

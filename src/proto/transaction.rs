//! Requests in flight and recent answers (RFC 6940 §6.2.1).
//!
//! The originator retransmits a request end to end every `overlay-reliability-timer`
//! (3000 ms) with the same transaction id, 5 sends in all; after the last timer the request
//! has failed. A responder keeps its answers for the duplicate window (15 s) and sends the
//! same answer again when a retransmitted request arrives.

use std::collections::VecDeque;

use crate::proto::config::Addr;
use crate::proto::id::{NodeId, ResourceId, TransactionId};
use crate::proto::wire::Destination;
use crate::time::Time;

/// Why this node sent a request, so the answer can be acted on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A lookup Ping started by the `ping` command.
    Command,
    /// The handshake Ping that brings a new link up.
    Handshake {
        /// Part of the join sequence.
        for_join: bool,
    },
    /// Attach to a peer wanted as a neighbour or finger.
    Attach {
        /// The peer, if addressed by Node-ID.
        target: Option<NodeId>,
        /// Part of the join sequence.
        for_join: bool,
    },
    /// The join Attach to own id + 1 (§10.5 step 2).
    JoinAttach,
    /// The Join request to the admitting peer.
    Join,
    /// An Update to a neighbour.
    Update,
    /// A finger-search Ping for entry `slot`.
    FingerPing {
        /// Finger entry index.
        slot: usize,
    },
    /// A Leave request.
    Leave,
    /// A replica Store to a successor (§10.4).
    Replicate,
    /// The partition check's Ping for own id + 1 routed through a bootstrap peer
    /// (§10.7.4.4).
    PartitionPing {
        /// The bootstrap peer it is routed through.
        via: NodeId,
    },
    /// A client's Attach to the peer responsible for its Node-ID.
    ClientAttach,
    /// A client's Ping checking that its peer is still responsible for it.
    ClientCheck,
    /// The Store of a SIP registration or its refresh (RFC 7904 §3).
    Register {
        /// H(AoR).
        aor: ResourceId,
    },
    /// The registration Fetch of call lookup `call` (RFC 7904 §4).
    CallFetch {
        /// The call.
        call: TransactionId,
    },
    /// The AppAttach of call lookup `call` to a route ending at `expected`.
    CallAttach {
        /// The call.
        call: TransactionId,
        /// The route's last Node-ID, which must answer (RFC 7904 §5).
        expected: Option<NodeId>,
    },
}

/// A request this node sent and has not yet had answered.
#[derive(Clone, Debug)]
pub struct Pending {
    /// Transaction id.
    pub id: TransactionId,
    /// What it is for.
    pub purpose: Purpose,
    /// The encoded message, for retransmission.
    pub message: Vec<u8>,
    /// The first Destination List entry (to re-route on retransmission).
    pub first: Destination,
    /// Send every copy straight over the link to this address rather than routing.
    pub direct: Option<Addr>,
    /// Sends so far.
    pub sends: u8,
    /// Next retransmission (or failure) time.
    pub deadline: Time,
    /// When it was first sent.
    pub started: Time,
}

/// Pending requests of one node.
#[derive(Debug, Default)]
pub struct Transactions {
    pending: Vec<Pending>,
}

impl Transactions {
    /// Starts tracking a request.
    pub fn insert(&mut self, p: Pending) {
        self.pending.push(p);
    }
    /// Stops tracking `id` and returns it.
    pub fn take(&mut self, id: TransactionId) -> Option<Pending> {
        let i = self.pending.iter().position(|p| p.id == id)?;
        Some(self.pending.swap_remove(i))
    }
    /// Stops tracking the first request whose purpose matches `f` (no more retransmissions)
    /// and returns it.
    pub fn cancel(&mut self, f: impl Fn(&Purpose) -> bool) -> Option<Pending> {
        let i = self.pending.iter().position(|p| f(&p.purpose))?;
        Some(self.pending.remove(i))
    }
    /// True if `id` is pending.
    pub fn contains(&self, id: TransactionId) -> bool {
        self.pending.iter().any(|p| p.id == id)
    }
    /// Removes and returns every request whose deadline has come.
    pub fn due(&mut self, now: Time) -> Vec<Pending> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.pending.len() {
            if self.pending[i].deadline <= now {
                out.push(self.pending.swap_remove(i));
            } else {
                i += 1;
            }
        }
        out.sort_by_key(|p| (p.started, p.id));
        out
    }
    /// Earliest deadline.
    pub fn next_deadline(&self) -> Option<Time> {
        self.pending.iter().map(|p| p.deadline).min()
    }
    /// True if a request is pending that goes straight to `addr`.
    pub fn has_direct(&self, addr: Addr) -> bool {
        self.pending.iter().any(|p| p.direct == Some(addr))
    }
    /// Number pending.
    pub fn len(&self) -> usize {
        self.pending.len()
    }
    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
    /// Pending requests with this purpose.
    pub fn count(&self, f: impl Fn(&Purpose) -> bool) -> usize {
        self.pending.iter().filter(|p| f(&p.purpose)).count()
    }
    /// Drops everything pending (the node is leaving or restarting its join).
    pub fn clear(&mut self) {
        self.pending.clear();
    }
}

/// Answers kept for duplicate requests, oldest first, bounded in number.
#[derive(Debug, Default)]
pub struct AnswerCache {
    entries: VecDeque<(TransactionId, NodeId, Time, Vec<u8>)>,
}

/// Answers kept at most.
const ANSWER_CACHE_MAX: usize = 64;

impl AnswerCache {
    /// Remembers the answer `message` to `origin`'s request `id` until `expires`.
    pub fn insert(&mut self, id: TransactionId, origin: NodeId, expires: Time, message: Vec<u8>) {
        if self.entries.len() == ANSWER_CACHE_MAX {
            self.entries.pop_front();
        }
        self.entries.push_back((id, origin, expires, message));
    }
    /// The cached answer to `origin`'s request `id`, if still fresh.
    pub fn get(&mut self, now: Time, id: TransactionId, origin: NodeId) -> Option<&[u8]> {
        while self.entries.front().is_some_and(|e| e.2 <= now) {
            self.entries.pop_front();
        }
        self.entries
            .iter()
            .find(|e| e.0 == id && e.1 == origin)
            .map(|e| e.3.as_slice())
    }
}

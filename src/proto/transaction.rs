//! Requests in flight and recent answers (RFC 6940 §6.2.1).
//!
//! The originator retransmits a request end to end every `overlay-reliability-timer`
//! (3000 ms) with the same transaction id, 5 sends in all; after the last timer the request
//! has failed. A responder keeps its answers for the duplicate window (15 s) and sends the
//! same answer again when a retransmitted request arrives.

use std::collections::{HashMap, VecDeque};

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
    /// A replica or handoff Store of `resource` (§10.4).
    Replicate {
        /// The Resource-ID copied.
        resource: ResourceId,
    },
    /// The Fetch of `resource` from a peer that refused our copy as older than its own
    /// (§7.4.1.1); the answer replaces our copy.
    Refresh {
        /// The Resource-ID refetched.
        resource: ResourceId,
    },
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
    /// A ConfigUpdate pushing our configuration or Kind definitions (§6.5.4).
    ConfigUpdate,
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
    /// The Node-ID the request is for (its last Destination List entry), which must sign
    /// the answer (§6.3.4); `None` for a Resource-ID or the wildcard, answered by any node.
    pub to: Option<NodeId>,
    /// The ring position of the Resource-ID the request is for (its last Destination List
    /// entry), whose answer must come from a node at least as close to it as any Neighbor
    /// Table entry (§6.3.4); `None` for a Node-ID.
    pub key: Option<NodeId>,
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
#[derive(Debug)]
pub struct Transactions {
    pending: Vec<Pending>,
    /// The earliest deadline of `pending` (`Time::NEVER` when empty), kept as entries
    /// come and go so the node's next timer reads one field rather than every entry.
    earliest: Time,
}

impl Default for Transactions {
    fn default() -> Self {
        Transactions {
            pending: Vec::new(),
            earliest: Time::NEVER,
        }
    }
}

impl Transactions {
    /// Starts tracking a request.
    pub fn insert(&mut self, p: Pending) {
        self.earliest = self.earliest.min(p.deadline);
        self.pending.push(p);
    }
    /// Stops tracking `id` and returns it.
    pub fn take(&mut self, id: TransactionId) -> Option<Pending> {
        let i = self.pending.iter().position(|p| p.id == id)?;
        let p = self.pending.swap_remove(i);
        self.trim();
        Some(p)
    }
    /// Gives back the room of answered requests (an entry is 256 bytes; a bootstrap peer
    /// admitting joiners can have hundreds pending at once): all of it when none is left,
    /// half when three quarters are unused. An idle peer then holds nothing here.
    fn trim(&mut self) {
        self.earliest = self
            .pending
            .iter()
            .map(|p| p.deadline)
            .min()
            .unwrap_or(Time::NEVER);
        let (len, cap) = (self.pending.len(), self.pending.capacity());
        if len == 0 {
            self.pending = Vec::new();
        } else if cap > 4 && len * 4 <= cap {
            self.pending.shrink_to(len * 2);
        }
    }
    /// Stops tracking the first request whose purpose matches `f` (no more retransmissions)
    /// and returns it.
    pub fn cancel(&mut self, f: impl Fn(&Purpose) -> bool) -> Option<Pending> {
        let i = self.pending.iter().position(|p| f(&p.purpose))?;
        let p = self.pending.remove(i);
        self.trim();
        Some(p)
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
        if !out.is_empty() {
            self.trim();
        }
        out
    }
    /// Earliest deadline.
    pub fn next_deadline(&self) -> Option<Time> {
        (self.earliest != Time::NEVER).then_some(self.earliest)
    }
    /// True if a request is pending that goes straight to `addr`.
    pub fn has_direct(&self, addr: Addr) -> bool {
        self.pending.iter().any(|p| p.direct == Some(addr))
    }
    /// Heap bytes: the entries and their encoded messages.
    pub fn heap_bytes(&self) -> usize {
        self.pending.capacity() * std::mem::size_of::<Pending>()
            + self
                .pending
                .iter()
                .map(|p| p.message.capacity())
                .sum::<usize>()
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
        self.trim();
    }
}

/// A kept answer: its expiry and its signed part.
type CachedAnswer = (Time, Box<[u8]>);

/// Answers kept for duplicate requests (§6.2.1), for as long as a duplicate can arrive.
///
/// Bounded by time, not count: an entry lives until its expiry (the duplicate window), so
/// a retransmission inside the window always finds its answer, however many other answers
/// were sent meanwhile. Only the answer's signed part (MessageContents ‖ SecurityBlock) is
/// kept; the Forwarding Header is rebuilt for the path each duplicate came by (§6.1.2).
#[derive(Debug, Default)]
pub struct AnswerCache {
    by_request: HashMap<(TransactionId, NodeId), CachedAnswer>,
    /// Expiry order: (expires, id, origin), oldest first.
    expiry: VecDeque<(Time, TransactionId, NodeId)>,
}

impl AnswerCache {
    /// Remembers the signed part `payload` of the answer to `origin`'s request `id` until
    /// `expires`, dropping entries expired at `now`.
    pub fn insert(
        &mut self,
        now: Time,
        id: TransactionId,
        origin: NodeId,
        expires: Time,
        payload: &[u8],
    ) {
        self.expire(now);
        self.by_request
            .insert((id, origin), (expires, payload.into()));
        self.expiry.push_back((expires, id, origin));
    }

    /// The signed part of the cached answer to `origin`'s request `id`, if still fresh.
    pub fn get(&mut self, now: Time, id: TransactionId, origin: NodeId) -> Option<&[u8]> {
        self.expire(now);
        self.by_request.get(&(id, origin)).map(|e| &*e.1)
    }

    /// Heap bytes: the table (about one control byte per bucket), the expiry queue and
    /// the kept answers.
    pub fn heap_bytes(&self) -> usize {
        let entry = std::mem::size_of::<((TransactionId, NodeId), CachedAnswer)>() + 1;
        self.by_request.capacity() * entry
            + self.expiry.capacity() * std::mem::size_of::<(Time, TransactionId, NodeId)>()
            + self.by_request.values().map(|e| e.1.len()).sum::<usize>()
    }

    /// Answers kept.
    pub fn len(&self) -> usize {
        self.by_request.len()
    }

    /// True when no answer is kept.
    pub fn is_empty(&self) -> bool {
        self.by_request.is_empty()
    }

    fn expire(&mut self, now: Time) {
        while let Some(&(at, id, origin)) = self.expiry.front() {
            if at > now {
                break;
            }
            self.expiry.pop_front();
            // A re-inserted entry has a later expiry of its own: keep it.
            if self
                .by_request
                .get(&(id, origin))
                .is_some_and(|e| e.0 <= now)
            {
                self.by_request.remove(&(id, origin));
            }
        }
        // An idle peer holds no answers: give the table's memory back.
        if self.by_request.is_empty() && self.by_request.capacity() > 0 {
            self.by_request = HashMap::new();
            self.expiry = VecDeque::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(id: u64) -> Pending {
        Pending {
            id: TransactionId(id),
            purpose: Purpose::Command,
            message: vec![0; 100],
            first: Destination::Node(NodeId(7)),
            to: Some(NodeId(7)),
            key: None,
            direct: None,
            sends: 1,
            deadline: Time(id),
            started: Time::ZERO,
        }
    }

    #[test]
    fn a_burst_of_requests_leaves_no_room_behind_once_answered() {
        let mut t = Transactions::default();
        for id in 0..300 {
            t.insert(pending(id));
        }
        assert!(t.heap_bytes() >= 300 * std::mem::size_of::<Pending>());
        for id in 0..290 {
            assert!(t.take(TransactionId(id)).is_some());
        }
        assert_eq!(t.len(), 10);
        assert!(t.heap_bytes() <= 40 * std::mem::size_of::<Pending>() + 10 * 100);
        assert_eq!(t.due(Time(1_000)).len(), 10);
        assert_eq!(t.heap_bytes(), 0);
    }
}

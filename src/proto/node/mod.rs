//! The sans-IO RELOAD peer: a state machine that takes time and datagrams in and gives
//! datagrams, timer deadlines and events out (quinn-proto style). Drivers use it through
//! [`crate::proto::peer::Peer`]: the simulator's engine and the real-socket peer alike.
//!
//! # Contract
//!
//! **(A) Getters** never change the node: [`Node::node_id`], [`Node::state`],
//! [`Node::successors`], [`Node::predecessors`], [`Node::fingers`],
//! [`Node::connections`], [`Node::datastore`], [`Node::stats`] and the like.
//!
//! **(B) Inputs** never fail: malformed or unexpected input is counted in [`NodeStats`]
//! and dropped, or answered with an Error message where RFC 6940 says so.
//! - [`Node::handle_datagram`]: one framed message (§6.6.2) from a transport address;
//! - [`Node::handle_timeout`]: the time [`Node::poll_timeout`] gave has come. A call
//!   before any deadline (a spurious wake-up) changes nothing;
//! - [`Node::handle_link_close`]: the transport says the other end closed its link.
//!
//! **(C) Commands** from the local application return `Result<_, CommandError>`: a
//! refused command changes nothing. [`Node::start_overlay`], [`Node::join`],
//! [`Node::connect_client`], [`Node::leave`], [`Node::ping`], [`Node::store`],
//! [`Node::fetch`], [`Node::register`], [`Node::lookup_aor`], [`Node::call`]. Requests
//! end with [`Event::RequestDone`] (or an error code in it) for the [`RequestId`] the
//! command returned.
//!
//! **(D) Outputs.** After every (B) or (C) the driver drains, in this order:
//! [`Node::poll_transmit`] until `None` (each [`Transmit`] is one datagram to send),
//! [`Node::poll_link_close`] until `None` (links to close at the transport, telling the
//! other end), [`Node::poll_event`] until `None`; then it reads [`Node::poll_timeout`]
//! and calls `handle_timeout` no later than at that time. `poll_timeout` only reads.
//!
//! **Time.** `now` is the first argument of every time-aware method, in nanoseconds of
//! the driver's clock ([`Time`]), and never goes backwards from one call to the next.
//! The node reads no clock, opens no socket and draws randomness only from its own seeded
//! stream, so the same inputs give the same outputs.
//!
//! The node's parts live in submodules: `receive` (frames, forwarding, delivery), `send`
//! (building, signing and routing messages), `answer` (answering requests), `join` (§10.5),
//! `maintain` (Updates, stabilization, failures, fingers, leave), `partition` (§10.7.4.4),
//! `config_update` (§6.5.4 ConfigUpdate: pushing and applying configurations) and
//! `timers`.

mod answer;
mod client;
mod config_update;
mod footprint;
mod inbound;
mod join;
mod local;
mod maintain;
mod options;
mod partition;
mod prebuilt;
mod rare;
mod reassembly;
mod receive;
mod refused;
mod rng;
mod send;
mod sip;
mod storage;
mod timers;

use std::collections::VecDeque;
use std::sync::Arc;

use crate::proto::chord::{FingerTable, NeighborTable};
use crate::proto::config::{Addr, OverlayConfig, check_overlay_name};
use crate::proto::event::{CommandError, Event, NodeState, RequestId, Transmit};
use crate::proto::id::{NodeId, ResourceId};
use crate::proto::identity::{Crypto, NodeSigner, SignerInfo, SimCrypto};
use crate::proto::link::{Link, LinkState, LinkTable};
use crate::proto::stats::{NodeCounters, NodeStats};
use crate::proto::store::DataStore;
use crate::proto::transaction::{AnswerCache, Purpose, Transactions};
use crate::proto::wire::Destination;
use crate::proto::wire::chord::ChordUpdate;
use crate::proto::wire::topology::PingReq;
use crate::proto::wire::{Body, message::code};
use crate::time::Time;

pub use footprint::Footprint;
pub use join::JoinPhase;

/// A node's identity, as its certificate states it (§11.3): its Node-ID and its user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The Node-ID.
    pub node_id: NodeId,
    /// H(user name) of the certificate's rfc822Name.
    pub user: ResourceId,
}

impl Identity {
    /// An identity with user name `user` (for example `alice@dht.example.com`).
    pub fn new(node_id: NodeId, user: &str) -> Identity {
        Identity {
            node_id,
            user: ResourceId::hash(user.as_bytes()),
        }
    }
}

/// Progress of a join (§10.5).
#[derive(Clone, Debug)]
struct JoinProgress {
    phase: JoinPhase,
    bootstrap: Vec<Addr>,
    attempt: usize,
    deadline: Time,
    admitting: Option<NodeId>,
    /// An Update that arrived before the Attach answer naming its sender as admitting peer.
    early_update: Option<(NodeId, ChordUpdate)>,
    /// The future neighbours being attached to (§10.5 step 4).
    neighbors: Vec<NodeId>,
}

/// A RELOAD peer with the CHORD-RELOAD topology plugin.
///
/// Laid out in declaration order (`repr(C)`), the state every datagram and every
/// `poll_*` round reads first: its first 384 bytes (six cache lines) hold the Connection
/// Table, the output queues, the timers and the tables `poll_timeout` reads, so a node
/// that was not in the cache costs few misses per input; the Routing Table, counters, RNG
/// and identity follow.
#[repr(C)]
pub struct Node {
    id: NodeId,
    config: Arc<OverlayConfig>,
    state: NodeState,
    /// Partition checks started: picks the bootstrap address of the next one.
    partition_round: u32,
    links: LinkTable,
    outbox: VecDeque<Transmit>,
    /// Links this node closed on purpose, for the driver to tell the other end.
    closes: VecDeque<Addr>,
    events: VecDeque<Event>,
    next_update: Time,
    next_finger: Time,
    /// When the next partition check is due (§10.7.4.4).
    next_partition_check: Time,
    /// When to re-replicate owned data after a successor loss (§10.7.1 hold-down).
    /// (`Time::NEVER` when none is due.)
    rereplicate_at: Time,
    join: Option<Box<JoinProgress>>,
    /// Injected crypto, SIP state, refused copies, rebinding Attaches, ConfigUpdate pushes,
    /// a client's peer and a leave deadline: allocated while any is used (rare.rs).
    rare: Option<Box<rare::Rare>>,
    /// Answers to Stores and ConfigUpdates kept for duplicates, while any is kept.
    answers: Option<Box<AnswerCache>>,
    /// Fragments of messages addressed to this node (§6.7).
    /// (Allocated only while a fragmented message waits.)
    reassembly: Option<Box<reassembly::Reassembly>>,
    /// The partition check under way, if any.
    partition: Option<Box<partition::PartitionCheck>>,
    txns: Transactions,
    data: DataStore,
    stats: NodeCounters,
    neighbors: NeighborTable,
    fingers: FingerTable,
    rng: rng::NodeRng,
    addr: Addr,
    started: Time,
    last_storage_time: u64,
    bootstrap: Vec<Addr>,
    /// H(user name) of this node's certificate (the signer's other half, with `id`).
    user: ResourceId,
}

impl Node {
    /// A new node at `local_addr`, in state Idle. `seed` seeds its private RNG.
    pub fn new(
        config: Arc<OverlayConfig>,
        identity: Identity,
        local_addr: Addr,
        now: Time,
        seed: u64,
    ) -> Node {
        let fingers = FingerTable::new(config.fingers);
        Node {
            id: identity.node_id,
            addr: local_addr,
            user: identity.user,
            state: NodeState::Idle,
            started: now,
            rng: rng::NodeRng::seed_from_u64(seed),
            links: LinkTable::default(),
            txns: Transactions::default(),
            answers: None,
            reassembly: None,
            neighbors: NeighborTable::default(),
            fingers,
            join: None,
            bootstrap: Vec::new(),
            outbox: VecDeque::new(),
            closes: VecDeque::new(),
            events: VecDeque::new(),
            next_update: Time::NEVER,
            next_finger: Time::NEVER,
            next_partition_check: Time::NEVER,
            partition: None,
            partition_round: 0,
            data: DataStore::new(),
            last_storage_time: 0,
            rereplicate_at: Time::NEVER,
            rare: None,
            stats: NodeCounters::default(),
            config,
        }
    }

    /// This node signing with `crypto` and verifying others with it, instead of the
    /// simulator's scheme. Its signer must be this node's identity.
    pub fn with_crypto(mut self, crypto: Arc<dyn Crypto>) -> Node {
        self.rare_mut().crypto = Some(rare::Injected(crypto));
        self
    }

    /// This node's Node-ID.
    pub fn node_id(&self) -> NodeId {
        self.id
    }
    /// The signer this node's messages and values carry.
    fn crypto(&self) -> NodeSigner {
        match rare::injected(&self.rare) {
            Some(c) => NodeSigner::Injected(Arc::clone(c)),
            None => NodeSigner::Sim(SimCrypto {
                signer: SignerInfo {
                    node_id: self.id,
                    user: self.user,
                },
            }),
        }
    }
    /// This node's transport address.
    pub fn local_addr(&self) -> Addr {
        self.addr
    }
    /// Life-cycle state.
    pub fn state(&self) -> NodeState {
        self.state
    }
    /// Where a join stands, while joining.
    pub fn join_phase(&self) -> Option<JoinPhase> {
        self.join.as_ref().map(|j| j.phase)
    }
    /// The overlay configuration: the one the node was made with, or the one a
    /// ConfigUpdate switched it to (§6.5.4.2).
    pub fn config(&self) -> &OverlayConfig {
        &self.config
    }
    /// Counters since the node was made or last taken ([`Node::take_stats`]).
    pub fn stats(&self) -> NodeStats {
        self.stats.widen()
    }
    /// The counters, which restart from zero: a long-running driver takes them from time
    /// to time, before a 32-bit counter could wrap ([`NodeCounters`]).
    pub fn take_stats(&mut self) -> NodeStats {
        std::mem::take(&mut self.stats).widen()
    }
    /// Predecessors, nearest first.
    pub fn predecessors(&self) -> &[NodeId] {
        &self.neighbors.predecessors
    }
    /// Successors, nearest first.
    pub fn successors(&self) -> &[NodeId] {
        &self.neighbors.successors
    }
    /// Filled finger entries, without repeats.
    pub fn fingers(&self) -> Vec<NodeId> {
        self.fingers.filled()
    }
    /// The filled Finger Table entries: (entry index, 0-based as in [`FingerTable`], peer).
    pub fn finger_entries(&self) -> Vec<(usize, NodeId)> {
        (0..self.fingers.size())
            .filter_map(|i| self.fingers.get(i).map(|f| (i, f)))
            .collect()
    }
    /// Links in the Connection Table.
    pub fn connection_count(&self) -> usize {
        self.links.len()
    }
    /// The Connection Table: (address, peer, state, ready, suspect) per link.
    pub fn connections(
        &self,
    ) -> Vec<(
        Addr,
        Option<NodeId>,
        crate::proto::link::LinkState,
        bool,
        bool,
    )> {
        self.links
            .entries()
            .map(|(a, p, l)| (a, p, l.state(), l.ready(), l.suspect()))
            .collect()
    }

    /// The data this peer stores (as responsible peer or replica).
    pub fn datastore(&self) -> &DataStore {
        &self.data
    }

    /// Requests this node is waiting on.
    pub fn pending_requests(&self) -> usize {
        self.txns.len()
    }
    /// True if this node may send requests of its own: a joined peer or a connected client.
    pub fn can_request(&self) -> bool {
        matches!(self.state, NodeState::Joined | NodeState::Client)
    }

    /// True if this node is responsible for `k` (§10.1).
    pub fn is_responsible(&self, k: NodeId) -> bool {
        self.state == NodeState::Joined && self.neighbors.responsible(self.id, k)
    }

    /// Whether this node may start taking part in an overlay: it is Idle, and its
    /// configuration's overlay name is a DNS name (§6.3.2: the name "MUST consist of a
    /// sequence of characters that would be allowable as a DNS name"). A node with a bad
    /// name refuses to start, join or connect, with [`CommandError::BadOverlayName`].
    pub(super) fn may_start(&self) -> Result<(), CommandError> {
        if self.state != NodeState::Idle {
            return Err(CommandError::InvalidState(self.state));
        }
        check_overlay_name(&self.config.overlay_name).map_err(|_| CommandError::BadOverlayName)
    }

    /// Starts a new overlay as its first peer (§6.4.2.1): joined at once, owning the ring.
    pub fn start_overlay(&mut self, now: Time) -> Result<(), CommandError> {
        self.may_start()?;
        self.become_joined(now);
        Ok(())
    }

    /// Joins through the given bootstrap peers (§10.5, §11.4).
    pub fn join(&mut self, now: Time, bootstrap: &[Addr]) -> Result<(), CommandError> {
        self.may_start()?;
        let bootstrap: Vec<Addr> = bootstrap
            .iter()
            .copied()
            .filter(|a| *a != self.addr)
            .collect();
        if bootstrap.is_empty() {
            return Err(CommandError::NoBootstrap);
        }
        self.bootstrap = bootstrap.clone();
        self.state = NodeState::Joining;
        self.join = Some(Box::new(JoinProgress {
            phase: JoinPhase::Bootstrapping,
            bootstrap,
            attempt: 0,
            deadline: now,
            admitting: None,
            early_update: None,
            neighbors: Vec::new(),
        }));
        self.start_join_attempt(now);
        Ok(())
    }

    /// Leaves gracefully (§10.9): Leave to every neighbour, then `Event::Left`.
    pub fn leave(&mut self, now: Time) {
        self.start_leave(now);
    }

    /// Sends a Ping routed to `dest`; with a Resource-ID this is a lookup of its owner.
    /// The answer arrives as `Event::RequestDone`.
    pub fn ping(&mut self, now: Time, dest: Destination) -> Result<RequestId, CommandError> {
        if self.state != NodeState::Joined {
            return Err(CommandError::InvalidState(self.state));
        }
        let local = match &dest {
            Destination::Resource(r) => r.ring_position().is_some_and(|k| self.is_responsible(k)),
            Destination::Node(n) => *n == self.id || *n == NodeId::WILDCARD,
            _ => false,
        };
        let txid = self.new_txid();
        if local {
            self.events.push_back(Event::RequestServed {
                origin: self.id,
                transaction: txid,
                hops: 0,
                code: code::PING_REQ,
            });
            let answer = crate::proto::event::Answer {
                responder: self.id,
                code: code::PING_ANS,
            };
            self.events.push_back(Event::RequestDone {
                request: txid,
                outcome: Ok(answer),
            });
            return Ok(txid);
        }
        let signer = self.crypto();
        self.start_request_as(
            now,
            &signer,
            txid,
            vec![dest],
            Body::PingReq(PingReq::default()),
            Purpose::Command,
            None,
        )
        .map_err(|_| CommandError::Encode)
    }

    /// Next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        // A drained outbox gives its room back: one allocation per input that sends,
        // against 224 bytes held by every idle peer.
        pop_or_release(&mut self.outbox, 0)
    }

    /// Next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        pop_or_release(&mut self.events, 0)
    }

    /// Next link this node closed on purpose (its bootstrap link after joining, an evicted
    /// link, a client's old peer, a link whose peer sent a forwarding header larger than
    /// `max_message_size`, §6.6). The transport tells the other end, as TLS/DTLS
    /// `close_notify` or a TCP FIN would (§6.6); the driver delivers it there with
    /// [`Node::handle_link_close`]. Not a RELOAD message.
    pub fn poll_link_close(&mut self) -> Option<Addr> {
        pop_or_release(&mut self.closes, 0)
    }

    /// The driver's handshake on the link to `addr` (TLS, RFC 6940 §6.6.5) authenticated
    /// its peer as `peer`, the Node-ID of its certificate. The link is bound to `peer`:
    /// a message straight from any other signer over it closes it (§6.5.1.11, §6.4.2.1).
    /// A link still being set up for another node (the one an Attach named) is closed at
    /// once and counted `dropped`; an up link to another node is replaced, as its peer
    /// restarted at that address. A driver without a handshake of its own (the
    /// simulator, clear-text links) never calls this: the first signed message binds the
    /// link instead.
    pub fn handle_link_up(&mut self, now: Time, addr: Addr, peer: NodeId) {
        if matches!(self.state, NodeState::Left) {
            self.closes.push_back(addr);
            return;
        }
        let li = match self.links.by_addr(addr) {
            Some(li) => match self.links.peer(li) {
                Some(p) if p != peer && self.links.get(li).state() != LinkState::Up => {
                    self.links.remove(li);
                    self.stats.dropped += 1;
                    self.closes.push_back(addr);
                    return;
                }
                Some(p) if p != peer => self.rebind_link(now, addr, p, peer),
                _ => {
                    self.links.set_peer(li, Some(peer));
                    li
                }
            },
            None => {
                if !self.make_room() {
                    self.stats.table_full += 1;
                    self.closes.push_back(addr);
                    return;
                }
                self.links
                    .insert(addr, Some(peer), Link::new(LinkState::Expecting, now))
            }
        };
        self.links.get_mut(li).set_authenticated();
    }

    /// The link to `addr` now belongs to `peer`, not `old` (a node restarted at that
    /// address): `old` is forgotten and a new link, not yet up, is bound to `peer`.
    pub(super) fn rebind_link(
        &mut self,
        now: Time,
        addr: Addr,
        old: NodeId,
        peer: NodeId,
    ) -> usize {
        self.forget(now, old);
        if let Some(li) = self.links.by_addr(addr) {
            self.links.remove(li);
        }
        self.links
            .insert(addr, Some(peer), Link::new(LinkState::Expecting, now))
    }

    /// The node at `from` closed its link to this node: drop this end and repair the
    /// tables without it, instead of sending into a link nobody reads until Simple
    /// Reliability gives up.
    pub fn handle_link_close(&mut self, now: Time, from: Addr) {
        let Some(li) = self.links.by_addr(from) else {
            return;
        };
        self.stats.links_closed_by_peer += 1;
        match self.links.peer(li) {
            Some(peer) => self.forget(now, peer),
            None => {
                self.links.remove(li);
            }
        }
    }

    /// Removes link `li` and, if it was up, asks the driver to tell the other end.
    pub(super) fn close_link(&mut self, li: usize) {
        let addr = self.links.addr(li);
        let link = self.links.remove(li);
        if link.is_up() {
            self.closes.push_back(addr);
        }
    }

    /// Closes link `li` because of what its peer sent (§6.6): the link goes as with
    /// [`Node::close_link`], and the peer is forgotten as if its link had failed, so the
    /// tables are rebuilt without it.
    pub(super) fn close_session(&mut self, now: Time, li: usize) {
        let peer = self.links.peer(li);
        self.close_link(li);
        if let Some(peer) = peer {
            self.forget(now, peer);
        }
    }
}

/// The queue's next item; once drained, a queue with room for more than `keep` items
/// gives its buffer back, so idle peers keep no burst-sized queues. (Events are few, so
/// their queue keeps nothing; every datagram's ack goes through the outbox, which keeps a
/// few slots.)
fn pop_or_release<T>(q: &mut VecDeque<T>, keep: usize) -> Option<T> {
    let item = q.pop_front();
    if item.is_none() && q.capacity() > keep {
        *q = VecDeque::new();
    }
    item
}

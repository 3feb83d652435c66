//! The whole surface a driver uses to run a peer: the simulator's engine (`crate::sim`)
//! and the real-socket peer drive a node only through this trait. The engine is generic
//! over it so tests can drive the engine with small stand-in peers; real runs use
//! [`Node`], whose module states the contract (inputs, commands, the order to drain
//! outputs).

use std::sync::Arc;

use crate::proto::config::{Addr, OverlayConfig};
use crate::proto::event::{CommandError, Event, NodeState, RequestId, Transmit};
use crate::proto::id::{NodeId, ResourceId};
use crate::proto::node::{Identity, Node};
use crate::proto::stats::NodeStats;
use crate::proto::store::DataStore;
use crate::proto::wire::Destination;
use crate::proto::wire::storage::{StoreKindData, StoredDataSpecifier};
use crate::time::Time;

/// A sans-IO peer the engine can drive.
pub trait Peer {
    /// A new peer (see `Node::new`).
    fn create(
        config: Arc<OverlayConfig>,
        identity: Identity,
        addr: Addr,
        now: Time,
        seed: u64,
    ) -> Self;
    /// Its Node-ID.
    fn node_id(&self) -> NodeId;
    /// Its life-cycle state.
    fn state(&self) -> NodeState;
    /// Successors, nearest first.
    fn successors(&self) -> &[NodeId];
    /// Its counters.
    fn stats(&self) -> NodeStats;
    /// Starts a new overlay.
    fn start_overlay(&mut self, now: Time) -> Result<(), CommandError>;
    /// Joins through bootstrap peers.
    fn join(&mut self, now: Time, bootstrap: &[Addr]) -> Result<(), CommandError>;
    /// Starts joined, linked to `peers` (see `Node::join_prebuilt`). Peers that cannot
    /// start prebuilt join through `bootstrap` instead.
    fn join_prebuilt(
        &mut self,
        now: Time,
        peers: &[(NodeId, Addr)],
        bootstrap: &[Addr],
    ) -> Result<(), CommandError> {
        let _ = peers;
        self.join(now, bootstrap)
    }
    /// Connects as a client (RFC 6940 §4.2) through bootstrap peers.
    fn connect_client(&mut self, now: Time, bootstrap: &[Addr]) -> Result<(), CommandError>;
    /// Leaves gracefully.
    fn leave(&mut self, now: Time);
    /// Sends a routed Ping (a lookup).
    fn ping(&mut self, now: Time, dest: Destination) -> Result<RequestId, CommandError>;
    /// Registers the SIP AoR `aor` to this peer, refreshed at 80 % of `lifetime_s`
    /// (see `Node::register`).
    fn register(
        &mut self,
        now: Time,
        aor: &str,
        lifetime_s: u32,
    ) -> Result<RequestId, CommandError>;
    /// Calls the SIP AoR `aor`; ends with `Event::CallDone` (see `Node::call`).
    fn call(&mut self, now: Time, aor: &str) -> Result<RequestId, CommandError>;
    /// Looks up the registrations of the SIP AoR `aor` (see `Node::lookup_aor`).
    fn lookup_aor(&mut self, now: Time, aor: &str) -> Result<RequestId, CommandError>;
    /// Stores `kind_data` at `resource` (see `Node::store`).
    fn store(
        &mut self,
        now: Time,
        resource: ResourceId,
        kind_data: Vec<StoreKindData>,
    ) -> Result<RequestId, CommandError>;
    /// Fetches from `resource` (see `Node::fetch`).
    fn fetch(
        &mut self,
        now: Time,
        resource: ResourceId,
        specifiers: Vec<StoredDataSpecifier>,
    ) -> Result<RequestId, CommandError>;
    /// The data this peer stores (as responsible peer or replica).
    fn datastore(&self) -> &DataStore;
    /// A datagram arrived.
    fn handle_datagram(&mut self, now: Time, from: Addr, bytes: &[u8]);
    /// The timer fired.
    fn handle_timeout(&mut self, now: Time);
    /// Next datagram to send.
    fn poll_transmit(&mut self) -> Option<Transmit>;
    /// Next timer.
    fn poll_timeout(&self) -> Option<Time>;
    /// Next event.
    fn poll_event(&mut self) -> Option<Event>;
    /// Next link this peer closed on purpose (see `Node::poll_link_close`).
    fn poll_link_close(&mut self) -> Option<Addr> {
        None
    }
    /// The peer at `from` closed its link to this one (see `Node::handle_link_close`).
    fn handle_link_close(&mut self, _now: Time, _from: Addr) {}
    /// The driver's handshake authenticated the peer at `addr` as `peer` (see
    /// `Node::handle_link_up`); drivers without a handshake never call it.
    fn handle_link_up(&mut self, _now: Time, _addr: Addr, _peer: NodeId) {}
}

impl Peer for Node {
    fn create(
        config: Arc<OverlayConfig>,
        identity: Identity,
        addr: Addr,
        now: Time,
        seed: u64,
    ) -> Self {
        Node::new(config, identity, addr, now, seed)
    }
    fn node_id(&self) -> NodeId {
        Node::node_id(self)
    }
    fn state(&self) -> NodeState {
        Node::state(self)
    }
    fn successors(&self) -> &[NodeId] {
        Node::successors(self)
    }
    fn stats(&self) -> NodeStats {
        Node::stats(self)
    }
    fn start_overlay(&mut self, now: Time) -> Result<(), CommandError> {
        Node::start_overlay(self, now)
    }
    fn join(&mut self, now: Time, bootstrap: &[Addr]) -> Result<(), CommandError> {
        Node::join(self, now, bootstrap)
    }
    fn join_prebuilt(
        &mut self,
        now: Time,
        peers: &[(NodeId, Addr)],
        bootstrap: &[Addr],
    ) -> Result<(), CommandError> {
        Node::join_prebuilt(self, now, peers, bootstrap)
    }
    fn connect_client(&mut self, now: Time, bootstrap: &[Addr]) -> Result<(), CommandError> {
        Node::connect_client(self, now, bootstrap)
    }
    fn leave(&mut self, now: Time) {
        Node::leave(self, now)
    }
    fn ping(&mut self, now: Time, dest: Destination) -> Result<RequestId, CommandError> {
        Node::ping(self, now, dest)
    }
    fn register(
        &mut self,
        now: Time,
        aor: &str,
        lifetime_s: u32,
    ) -> Result<RequestId, CommandError> {
        Node::register(self, now, aor, lifetime_s)
    }
    fn call(&mut self, now: Time, aor: &str) -> Result<RequestId, CommandError> {
        Node::call(self, now, aor)
    }
    fn lookup_aor(&mut self, now: Time, aor: &str) -> Result<RequestId, CommandError> {
        Node::lookup_aor(self, now, aor)
    }
    fn store(
        &mut self,
        now: Time,
        resource: ResourceId,
        kind_data: Vec<StoreKindData>,
    ) -> Result<RequestId, CommandError> {
        Node::store(self, now, resource, kind_data)
    }
    fn fetch(
        &mut self,
        now: Time,
        resource: ResourceId,
        specifiers: Vec<StoredDataSpecifier>,
    ) -> Result<RequestId, CommandError> {
        Node::fetch(self, now, resource, specifiers)
    }
    fn datastore(&self) -> &DataStore {
        Node::datastore(self)
    }
    fn handle_datagram(&mut self, now: Time, from: Addr, bytes: &[u8]) {
        Node::handle_datagram(self, now, from, bytes)
    }
    fn handle_timeout(&mut self, now: Time) {
        Node::handle_timeout(self, now)
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        Node::poll_transmit(self)
    }
    fn poll_timeout(&self) -> Option<Time> {
        Node::poll_timeout(self)
    }
    fn poll_event(&mut self) -> Option<Event> {
        Node::poll_event(self)
    }
    fn poll_link_close(&mut self) -> Option<Addr> {
        Node::poll_link_close(self)
    }
    fn handle_link_close(&mut self, now: Time, from: Addr) {
        Node::handle_link_close(self, now, from)
    }
    fn handle_link_up(&mut self, now: Time, addr: Addr, peer: NodeId) {
        Node::handle_link_up(self, now, addr, peer)
    }
}

//! The sans-IO RELOAD peer (API skeleton; the implementation lands separately).

use std::sync::Arc;

use crate::proto::config::{Addr, OverlayConfig};
use crate::proto::event::{CommandError, Event, NodeState, RequestId, Transmit};
use crate::proto::id::NodeId;
use crate::proto::stats::NodeStats;
use crate::proto::wire::Destination;
use crate::time::Time;

/// A node's identity: its Node-ID (from its certificate in a real deployment).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The Node-ID.
    pub node_id: NodeId,
}

/// A RELOAD peer as a state machine.
pub struct Node {
    config: Arc<OverlayConfig>,
    identity: Identity,
    addr: Addr,
    state: NodeState,
    stats: NodeStats,
}

impl Node {
    /// A new node at `local_addr`, in state Idle. `seed` seeds its private RNG.
    pub fn new(
        config: Arc<OverlayConfig>,
        identity: Identity,
        local_addr: Addr,
        _now: Time,
        _seed: u64,
    ) -> Node {
        Node {
            config,
            identity,
            addr: local_addr,
            state: NodeState::Idle,
            stats: NodeStats::default(),
        }
    }
    /// This node's Node-ID.
    pub fn node_id(&self) -> NodeId {
        self.identity.node_id
    }
    /// This node's transport address.
    pub fn local_addr(&self) -> Addr {
        self.addr
    }
    /// Life-cycle state.
    pub fn state(&self) -> NodeState {
        self.state
    }
    /// The overlay configuration.
    pub fn config(&self) -> &OverlayConfig {
        &self.config
    }
    /// Counters.
    pub fn stats(&self) -> &NodeStats {
        &self.stats
    }
    /// Predecessors, nearest first.
    pub fn predecessors(&self) -> &[NodeId] {
        &[]
    }
    /// Successors, nearest first.
    pub fn successors(&self) -> &[NodeId] {
        &[]
    }
    /// Filled finger entries.
    pub fn fingers(&self) -> Vec<NodeId> {
        Vec::new()
    }
    /// Links in the Connection Table.
    pub fn connection_count(&self) -> usize {
        0
    }
    /// Starts a new overlay as its first peer (§6.4.2.1): joined at once, owning the ring.
    pub fn start_overlay(&mut self, _now: Time) -> Result<(), CommandError> {
        self.state = NodeState::Joined;
        Ok(())
    }
    /// Joins through the given bootstrap peers (§10.5, §11.4).
    pub fn join(&mut self, _now: Time, _bootstrap: &[Addr]) -> Result<(), CommandError> {
        Err(CommandError::InvalidState(self.state))
    }
    /// Leaves gracefully (§10.9); `Event::Left` follows.
    pub fn leave(&mut self, _now: Time) {
        self.state = NodeState::Left;
    }
    /// Sends a Ping routed to `dest` (a lookup when `dest` is a Resource-ID).
    pub fn ping(&mut self, _now: Time, _dest: Destination) -> Result<RequestId, CommandError> {
        Err(CommandError::InvalidState(self.state))
    }
    /// A datagram arrived from `from`.
    pub fn handle_datagram(&mut self, _now: Time, _from: Addr, _bytes: &[u8]) {}
    /// The time returned by `poll_timeout` has come.
    pub fn handle_timeout(&mut self, _now: Time) {}
    /// Next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        None
    }
    /// When `handle_timeout` must next be called.
    pub fn poll_timeout(&self) -> Option<Time> {
        None
    }
    /// Next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        None
    }
}

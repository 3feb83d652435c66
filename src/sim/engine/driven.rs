//! The workloads the engine drives, each one module behind [`Driven`]: lookups
//! (`engine/lookups.rs`) and SIP registrations and calls (`engine/sip.rs`). The engine tells
//! every workload the same moments of a node's life, in one fixed order (lookups, calls),
//! and offers each the node events until one takes it. A workload's records go to its
//! ledger (`sim::book`), streamed to its CSV file.

use super::Sim;
use crate::proto::event::Event;
use crate::proto::id::NodeId;
use crate::proto::peer::Peer;

/// One workload as the engine sees it.
pub(super) trait Driven<P: Peer> {
    /// Slot `i`'s peer (incarnation `inc`) reached Joined.
    fn peer_joined(&self, sim: &mut Sim<P>, i: u32, inc: u32);
    /// Slot `i`'s client (incarnation `inc`) connected to its peer the first time.
    fn client_connected(&self, _sim: &mut Sim<P>, _i: u32, _inc: u32) {}
    /// Node `id` of slot `i` is gone (crash, leave or removal).
    fn removed(&self, sim: &mut Sim<P>, i: u32, id: NodeId);
    /// Node event `e` of slot `i` (node `id`): taken (`None`), or handed back.
    fn event(&self, sim: &mut Sim<P>, i: u32, id: NodeId, e: Event) -> Option<Event>;
}

/// The lookup workload (`[workload]`).
pub(super) struct Lookups;
/// The SIP workload (`[sip]`).
pub(super) struct Calls;

impl<P: Peer> Sim<P> {
    /// Tells every workload, lookups first, that slot `i`'s peer joined.
    pub(super) fn workloads_peer_joined(&mut self, i: u32, inc: u32) {
        Lookups.peer_joined(self, i, inc);
        Calls.peer_joined(self, i, inc);
    }

    /// Tells every workload that slot `i`'s client connected.
    pub(super) fn workloads_client_connected(&mut self, i: u32, inc: u32) {
        Lookups.client_connected(self, i, inc);
        Calls.client_connected(self, i, inc);
    }

    /// Tells every workload that node `id` of slot `i` is gone.
    pub(super) fn workloads_removed(&mut self, i: u32, id: NodeId) {
        Lookups.removed(self, i, id);
        Calls.removed(self, i, id);
    }

    /// Offers node event `e` to the workloads; hands it back if none takes it.
    pub(super) fn workloads_event(&mut self, i: u32, id: NodeId, e: Event) -> Option<Event> {
        let e = Lookups.event(self, i, id, e)?;
        Calls.event(self, i, id, e)
    }
}

//! The lookup workload inside the engine: each joined peer issues Pings to random
//! Resource-IDs as a Poisson process (`[workload]`), drawn from stream `workload`; the
//! ledger joins each `RequestDone` with the responder's `RequestServed` and judges the
//! answer against the oracle.

use super::driven::{Driven, Lookups};
use super::{Ev, Sim};
use crate::proto::event::{Answer, Event, RequestError, RequestId};
use crate::proto::id::{NodeId, TransactionId};
use crate::proto::peer::Peer;
use crate::proto::wire::Destination;
use crate::sim::lookups::Outcome;
use crate::sim::queue::EventQueue;
use crate::sim::workload::Workload;

impl<P: Peer> Driven<P> for Lookups {
    /// Its first lookup is scheduled.
    fn peer_joined(&self, sim: &mut Sim<P>, i: u32, inc: u32) {
        sim.lookups_joined(i, inc);
    }

    fn removed(&self, sim: &mut Sim<P>, _i: u32, id: NodeId) {
        sim.lookups_removed(id);
    }

    fn event(&self, sim: &mut Sim<P>, _i: u32, id: NodeId, e: Event) -> Option<Event> {
        match e {
            Event::RequestDone { request, outcome } => sim.lookup_done(id, request, outcome),
            Event::RequestServed {
                origin,
                transaction,
                hops,
                ..
            } => sim.lookup_served(origin, transaction, hops),
            e => return Some(e),
        }
        None
    }
}

impl<P: Peer> Sim<P> {
    /// Slot `i`'s peer (incarnation `inc`) has joined: its first lookup is scheduled.
    fn lookups_joined(&mut self, i: u32, inc: u32) {
        if self.cfg.workload.enabled() {
            let at = self.cfg.workload.first_at(self.now, &mut self.workload_rng);
            self.queue.push(at, Ev::Lookup { node: i, inc });
        }
    }

    /// Issues slot `i`'s next lookup, if it is still incarnation `inc` and joined, and
    /// schedules the one after.
    pub(super) fn lookup(&mut self, i: u32, inc: u32) {
        let now = self.now;
        let slot = &mut self.slots[i as usize];
        let joined = slot.joined;
        let Some(node) = slot.current(inc) else {
            return;
        };
        if joined {
            let key = Workload::key(&mut self.workload_rng);
            match node.ping(now, Destination::Resource(key)) {
                Ok(tx) => {
                    let pos = key.ring_position().unwrap_or(NodeId::ZERO);
                    self.ledger.issued(now, node.node_id(), tx, pos);
                    self.metrics.lookup_issued();
                }
                Err(_) => self.metrics.counters.lookups_refused += 1,
            }
            self.service(i);
        }
        let next = now + self.cfg.workload.next_gap(&mut self.workload_rng);
        self.queue.push(next, Ev::Lookup { node: i, inc });
    }

    /// Node `id` is gone: its lookups in flight end as `origin_gone`.
    fn lookups_removed(&mut self, id: NodeId) {
        self.ledger.origin_gone(self.now, id);
        self.ledger.flush(&mut *self.records);
    }

    /// Node `id`'s request `request` ended.
    fn lookup_done(
        &mut self,
        id: NodeId,
        request: RequestId,
        outcome: Result<Answer, RequestError>,
    ) {
        if let Some(r) = self
            .ledger
            .done(self.now, id, request, outcome, &self.oracle)
        {
            let ok = r.outcome == Outcome::Ok;
            self.faults
                .lookup_done(r.issued, ok, r.correct() == Some(true));
            self.metrics.lookup_finished(ok);
            self.ledger.flush(&mut *self.records);
        }
    }

    /// A responder served `origin`'s request `transaction` after `hops` hops.
    fn lookup_served(&mut self, origin: NodeId, transaction: TransactionId, hops: u32) {
        self.ledger.served(origin, transaction, hops, &self.oracle);
    }
}

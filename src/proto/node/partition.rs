//! Detecting and healing a partition (RFC 6940 §10.7.4.4).
//!
//! Every `partition_check_interval` (± 10 %, from the Node-ID so that no random draw is
//! spent) a joined peer P repeats the discovery of its join: it links to its next
//! bootstrap address B (or uses the link it has) and Pings the Resource-ID of its own
//! id + 1 routed through B. The RFC says "a Ping for its own Node-ID"; in a healed overlay
//! the owner of P's own id is P itself, which the RFC's test ("a response … from peer S',
//! which is not P's successor") would take for a partition, so the Ping aims one past P,
//! as the join's Attach does (§10.5), and is answered by P's successor. An answer from
//! anyone else is a partition: P Attaches to S' source-routed through B, then sends S' an
//! Update (type full) once linked. A peer that started the overlay has no bootstrap
//! addresses and does not check.

use super::Node;
use crate::proto::config::Addr;
use crate::proto::event::NodeState;
use crate::proto::id::NodeId;
use crate::proto::link::{Link, LinkState};
use crate::proto::transaction::Purpose;
use crate::proto::wire::topology::PingReq;
use crate::proto::wire::{Body, Destination};
use crate::time::{Duration, Time};

/// A partition check under way.
#[derive(Clone, Copy, Debug)]
pub(super) struct PartitionCheck {
    /// The bootstrap address tried.
    addr: Addr,
    /// The link to it was opened for the check (and is closed after it if unused).
    opened: bool,
    /// A peer of another partition, to Update once linked.
    heal: Option<NodeId>,
}

impl Node {
    /// Schedules the next partition check (none without bootstrap addresses).
    pub(super) fn schedule_partition_check(&mut self, now: Time) {
        let mut every = self.config.partition_check_interval;
        if self.state == NodeState::Joined && self.fingers.is_empty() {
            // Cut off from the rest of the network (§10.7.1, maintain.rs::fingers_lost).
            every = every.min(self.config.chord_update_interval);
        }
        self.next_partition_check = if self.bootstrap.is_empty() || every == Duration::ZERO {
            Time::NEVER
        } else {
            // ± 10 % from the Node-ID: no draw from the RNG, so a check that never comes
            // due changes nothing else.
            let permille = 900 + (self.id.0 % 201) as u64;
            now + Duration((every.as_nanos() / 1000).saturating_mul(permille))
        };
    }

    /// The partition check is due: link to the next bootstrap address, then Ping.
    pub(super) fn start_partition_check(&mut self, now: Time) {
        self.schedule_partition_check(now);
        if self.state != NodeState::Joined || self.bootstrap.is_empty() {
            return;
        }
        let addr = self.bootstrap[self.partition_round as usize % self.bootstrap.len()];
        self.partition_round = self.partition_round.wrapping_add(1);
        if addr == self.addr {
            return;
        }
        match self.links.by_addr(addr) {
            Some(li) if self.links.get(li).is_up() => {
                self.partition = Some(Box::new(PartitionCheck {
                    addr,
                    opened: false,
                    heal: None,
                }));
                if let Some(b) = self.links.peer(li) {
                    self.partition_ping(now, b);
                }
            }
            Some(_) => {}
            None => {
                if !self.make_room() {
                    return;
                }
                self.links
                    .insert(addr, None, Link::new(LinkState::Handshaking, now));
                self.partition = Some(Box::new(PartitionCheck {
                    addr,
                    opened: true,
                    heal: None,
                }));
                self.send_handshake(now, addr, None, false);
            }
        }
    }

    /// A link to `peer` came up: the bootstrap link of a check (then Ping), or the link to
    /// a peer of another partition (then Update it).
    pub(super) fn partition_link_up(&mut self, now: Time, peer: NodeId) {
        let Some(check) = self.partition.as_deref().copied() else {
            return;
        };
        if check.heal == Some(peer) {
            self.partition = None;
            self.send_update_full(now, peer);
            return;
        }
        let is_bootstrap = self
            .links
            .by_peer(peer)
            .is_some_and(|li| self.links.addr(li) == check.addr);
        if is_bootstrap
            && check.heal.is_none()
            && self
                .txns
                .count(|p| matches!(p, Purpose::PartitionPing { .. }))
                == 0
        {
            self.partition_ping(now, peer);
        }
    }

    fn partition_ping(&mut self, now: Time, via: NodeId) {
        let dest = vec![
            Destination::Node(via),
            Destination::Resource(self.id.wrapping_add(1).to_resource_id()),
        ];
        let body = Body::PingReq(PingReq::default());
        if self
            .start_request(now, dest, body, Purpose::PartitionPing { via }, None)
            .is_err()
        {
            self.partition_done();
        }
    }

    /// The check's Ping was answered by `responder`.
    pub(super) fn partition_answered(&mut self, now: Time, via: NodeId, responder: NodeId) {
        if self.state != NodeState::Joined || self.partition.is_none() {
            return;
        }
        if responder == self.id || self.neighbors.successors.first() == Some(&responder) {
            self.partition_done();
            return;
        }
        // Another partition (or a successor we did not know): link to it through B.
        if self.links.by_peer(responder).is_some() {
            self.partition = None;
            self.send_update_full(now, responder);
            return;
        }
        if let Some(c) = self.partition.as_mut() {
            c.heal = Some(responder);
        }
        self.attach(
            now,
            responder,
            Some(via),
            super::maintain::AttachFor::Neighbor,
        );
    }

    /// The check ended (answered as expected, or failed): close a link opened for it that
    /// nothing else uses.
    pub(super) fn partition_done(&mut self) {
        let Some(check) = self.partition.take() else {
            return;
        };
        if !check.opened {
            return;
        }
        if let Some(li) = self.links.by_addr(check.addr) {
            let l = self.links.get(li);
            if !l.routing() && !l.peer_uses() {
                self.close_link(li);
            }
        }
    }
}

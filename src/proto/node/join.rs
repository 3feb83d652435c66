//! Joining the overlay (RFC 6940 §10.5, §11.4).
//!
//! 1. Link to a bootstrap peer (handshake Ping to the wildcard Node-ID).
//! 2. Attach to Resource-ID (own id + 1) with send_update: this reaches the admitting peer
//!    (AP), the current owner of our id, which answers and, once our link to it is up,
//!    sends its Routing Table in an Update (type full).
//! 3. Attach to every peer that belongs in our Neighbor Table, source-routed through AP.
//! 4. Join to AP; on JoinAns we are a peer and Update our neighbours. No Update placing us
//!    in the ring is sent before step 3 is complete.

use super::{JoinProgress, Node};
use crate::proto::chord::NeighborTable;
use crate::proto::event::{Event, NodeState};
use crate::proto::id::NodeId;
use crate::proto::link::{Link, LinkState};
use crate::proto::transaction::Purpose;
use crate::proto::wire::chord::{ChordUpdate, ChordUpdateKind};
use crate::proto::wire::topology::JoinReq;
use crate::proto::wire::{Body, Destination};
use crate::time::Time;

/// Steps of a join.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinPhase {
    /// Bringing up the link to a bootstrap peer.
    Bootstrapping,
    /// Attach to own id + 1 sent; waiting for the admitting peer.
    AttachingAdmitting,
    /// Linked to the admitting peer; waiting for its Update.
    AwaitingUpdate,
    /// Attaching to the future neighbours.
    AttachingNeighbors,
    /// Join sent to the admitting peer.
    Joining,
}

impl Node {
    fn join_phase_is(&self, phase: JoinPhase) -> bool {
        self.join.as_ref().is_some_and(|j| j.phase == phase)
    }

    fn set_phase(&mut self, phase: JoinPhase) {
        if let Some(j) = self.join.as_mut() {
            j.phase = phase;
        }
    }

    /// Starts (or restarts) a join attempt with the next bootstrap address.
    pub(super) fn start_join_attempt(&mut self, now: Time) {
        let timeout = self.config.join_timeout;
        let Some(j) = self.join.as_mut() else { return };
        let addr = j.bootstrap[j.attempt % j.bootstrap.len()];
        j.attempt += 1;
        j.phase = JoinPhase::Bootstrapping;
        j.deadline = now + timeout;
        j.admitting = None;
        j.early_update = None;
        j.neighbors.clear();
        self.txns.clear();
        // Always a fresh handshake: the bootstrap peer may have dropped our old link.
        if let Some(li) = self.links.by_addr(addr) {
            self.links.remove(li);
        }
        if !self.make_room() {
            return;
        }
        self.links
            .insert(addr, None, Link::new(LinkState::Handshaking, now));
        self.send_handshake(now, addr, None, true);
    }

    fn send_join_attach(&mut self, now: Time) {
        self.set_phase(JoinPhase::AttachingAdmitting);
        let target = Destination::Resource(self.id.wrapping_add(1).to_resource_id());
        let body = Body::AttachReq(self.own_attach("passive", true));
        match self.start_request(now, vec![target], body, Purpose::JoinAttach, None) {
            Ok(_) => self.stats.attaches_join += 1,
            Err(_) => self.restart_join(now),
        }
    }

    /// The Attach to own id + 1 was answered by `ap`.
    pub(super) fn admitting_peer_found(&mut self, now: Time, ap: NodeId) {
        let Some(j) = self.join.as_mut() else { return };
        j.admitting = Some(ap);
        j.phase = JoinPhase::AwaitingUpdate;
        if let Some((from, u)) = j.early_update.take().filter(|(from, _)| *from == ap) {
            self.join_update(now, from, &u);
        }
    }

    /// The admitting peer of the join in progress, once known.
    pub(super) fn admitting(&self) -> Option<NodeId> {
        self.join.as_ref().and_then(|j| j.admitting)
    }

    /// A link to `peer` came up (handshake done, or it already was).
    pub(super) fn peer_connected(&mut self, now: Time, peer: NodeId, for_join: bool) {
        match self.state {
            NodeState::Joining if for_join => {
                if self.join_phase_is(JoinPhase::Bootstrapping) && self.admitting().is_none() {
                    self.send_join_attach(now);
                } else if self.join_phase_is(JoinPhase::AwaitingUpdate)
                    && self.admitting() == Some(peer)
                {
                    // The admitting peer's Update may have come before our link to it
                    // was up; its Attaches go through that link now.
                    let early = self.join.as_mut().and_then(|j| j.early_update.take());
                    if let Some((from, u)) = early {
                        self.join_update(now, from, &u);
                    }
                } else {
                    self.check_join_ready(now);
                }
            }
            NodeState::Joined => {
                self.refresh_tables(now);
                self.partition_link_up(now, peer);
            }
            NodeState::ClientConnecting | NodeState::Client => self.client_link_up(now, peer),
            _ => {}
        }
    }

    /// The admitting peer's Routing Table arrived: attach to our future neighbours.
    pub(super) fn join_update(&mut self, now: Time, ap: NodeId, u: &ChordUpdate) {
        if self.join_phase_is(JoinPhase::AttachingAdmitting) {
            if let Some(j) = self.join.as_mut() {
                j.early_update = Some((ap, u.clone()));
            }
            return;
        }
        if !self.join_phase_is(JoinPhase::AwaitingUpdate) || self.admitting() != Some(ap) {
            return;
        }
        if self.links.by_peer(ap).is_none() {
            // Not linked to the admitting peer yet: keep the Update until the link is up,
            // so the Attaches to the future neighbours are source-routed through it
            // (§10.5 step 4) rather than through the bootstrap peer.
            if let Some(j) = self.join.as_mut() {
                j.early_update = Some((ap, u.clone()));
            }
            return;
        }
        let mut known = vec![ap];
        known.extend(u.node_ids());
        let want = NeighborTable::best(
            self.id,
            known.iter().copied(),
            self.config.predecessors,
            self.config.successors,
        );
        self.set_phase(JoinPhase::AttachingNeighbors);
        if let Some(j) = self.join.as_mut() {
            j.neighbors = want.all();
        }
        for peer in want.all() {
            if peer == ap || self.links.by_peer(peer).is_some() {
                continue;
            }
            self.attach(now, peer, Some(ap), super::maintain::AttachFor::Join);
        }
        // Fingers of AP are worth knowing too; they are offered once we are joined.
        self.check_join_ready(now);
    }

    /// Sends Join once no join Attach or handshake is outstanding.
    pub(super) fn check_join_ready(&mut self, now: Time) {
        if !self.join_phase_is(JoinPhase::AttachingNeighbors) {
            return;
        }
        let outstanding = self.txns.count(|p| {
            matches!(
                p,
                Purpose::Attach { for_join: true, .. } | Purpose::Handshake { for_join: true }
            )
        });
        if outstanding > 0 {
            return;
        }
        // §6.5.1: the neighbours we linked to become routable with their peer_ready;
        // the Join waits for it, so the tables we start with hold them.
        let awaited = self.join.as_ref().map_or(&[][..], |j| &j.neighbors[..]);
        if awaited.iter().any(|p| {
            self.links
                .by_peer(*p)
                .is_some_and(|li| self.links.get(li).is_up() && !self.links.get(li).ready())
        }) {
            return;
        }
        let Some(ap) = self.admitting() else { return };
        let Some(li) = self.links.by_peer(ap) else {
            self.restart_join(now);
            return;
        };
        self.set_phase(JoinPhase::Joining);
        let addr = self.links.addr(li);
        let body = Body::JoinReq(JoinReq {
            joining_peer_id: self.id,
            overlay_specific_data: Vec::new(),
        });
        if self
            .start_request(
                now,
                vec![Destination::Node(ap)],
                body,
                Purpose::Join,
                Some(addr),
            )
            .is_err()
        {
            self.restart_join(now);
        }
    }

    /// JoinAns from `ap`.
    pub(super) fn joined_by(&mut self, now: Time, ap: NodeId) {
        if self.state == NodeState::Joining && self.admitting() == Some(ap) {
            self.become_joined(now);
        }
    }

    /// Becomes a full peer: tables from the peers we linked to, Updates to every neighbour.
    pub(super) fn become_joined(&mut self, now: Time) {
        self.state = NodeState::Joined;
        self.join = None;
        let first = self.refresh_tables_quietly(now);
        // The bootstrap link served the join. Unless the bootstrap peer is a neighbour,
        // close it, so that bootstrap peers do not collect a link from every peer that
        // ever joined. Finger search finds them again where they belong.
        let closing: Vec<usize> = (0..self.links.len())
            .filter(|&li| self.bootstrap.contains(&self.links.addr(li)))
            .filter(|&li| {
                self.links
                    .peer(li)
                    .is_none_or(|p| !self.neighbors.contains(p))
            })
            .filter(|&li| !self.links.get(li).peer_uses())
            .collect();
        for li in closing.into_iter().rev() {
            self.close_link(li);
        }
        let change = first | self.refresh_tables_quietly(now);
        self.update_all_neighbors(now);
        // Nodes that Attached to us while we were joining may route through us now
        // (§6.5.1, §10.7.3 peer_ready); neighbours just had their Update.
        for p in self.linked_non_neighbors() {
            self.send_update(now, p, ChordUpdateKind::PeerReady);
        }
        if change.range {
            // A range of our own now (§10.7.3): every other connection hears of it too.
            self.send_table_updates(
                now,
                super::maintain::TableChange {
                    neighbors: false,
                    range: true,
                },
            );
        }
        self.events.push_back(Event::Joined);
        self.next_update = now + self.jittered(self.config.chord_update_interval);
        self.next_finger = now + self.at_least(self.config.chord_ping_interval);
        self.start_finger_search(now);
        self.partition = None;
        self.schedule_partition_check(now);
    }

    /// Gives up on the current attempt, reports it (`Event::JoinAttemptFailed`, §6.4.2.1:
    /// a node that cannot form connections SHOULD report an error to the user), and
    /// starts the next one.
    pub(super) fn restart_join(&mut self, now: Time) {
        if self.state != NodeState::Joining {
            return;
        }
        if let Some(j) = &self.join
            && let Some(last) = j.attempt.checked_sub(1)
            && !j.bootstrap.is_empty()
        {
            self.events.push_back(Event::JoinAttemptFailed {
                attempt: u32::try_from(j.attempt).unwrap_or(u32::MAX),
                bootstrap: j.bootstrap[last % j.bootstrap.len()],
                phase: j.phase,
            });
        }
        self.start_join_attempt(now);
    }

    /// A join-related request failed.
    pub(super) fn join_request_failed(&mut self, now: Time, purpose: &Purpose) {
        match purpose {
            Purpose::Attach { for_join: true, .. } | Purpose::Handshake { for_join: true }
                if self.join_phase_is(JoinPhase::AttachingNeighbors) =>
            {
                self.check_join_ready(now)
            }
            Purpose::Handshake { for_join: true }
                if self.join_phase_is(JoinPhase::AwaitingUpdate) =>
            {
                self.restart_join(now)
            }
            Purpose::Handshake { for_join: true } | Purpose::JoinAttach | Purpose::Join => {
                self.restart_join(now)
            }
            _ => {}
        }
    }

    /// A joining peer was admitted by us: it becomes a routable peer, our tables change, and
    /// every neighbour (it included) gets an Update (§10.5 steps 7–8).
    pub(super) fn admit(&mut self, now: Time, li: usize, _peer: NodeId) {
        self.links.get_mut(li).set_ready();
        let change = self.refresh_tables_quietly(now);
        self.update_all_neighbors(now);
        // A new predecessor takes part of our range: every other connection (clients
        // among them, §6.4.1) hears of it at once (§10.7.3).
        self.send_table_updates(
            now,
            super::maintain::TableChange {
                neighbors: false,
                ..change
            },
        );
    }

    /// Restarts a join after this peer lost every other peer.
    pub(super) fn rejoin(&mut self, now: Time) {
        if self.bootstrap.is_empty() {
            return;
        }
        self.state = NodeState::Joining;
        self.join = Some(Box::new(JoinProgress {
            phase: JoinPhase::Bootstrapping,
            bootstrap: self.bootstrap.clone(),
            attempt: 0,
            deadline: now,
            admitting: None,
            early_update: None,
            neighbors: Vec::new(),
        }));
        self.start_join_attempt(now);
    }
}

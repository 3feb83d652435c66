//! Clients (RFC 6940 §4.2, RFC 7890 §2.2), option A: a node that never joins, routes
//! nothing and stores nothing. It links to the peer responsible for its own Node-ID (an
//! Attach to that Resource-ID), sends everything through it, and is reachable by Node-ID
//! through it (that peer delivers to directly connected nodes in its range, §6.1.1). Every
//! `chord_update_interval` it Pings its own Resource-ID through its peer; when someone else
//! answers, responsibility moved and the client attaches to the new peer.

use super::Node;
use crate::proto::config::Addr;
use crate::proto::event::{CommandError, Event, NodeState};
use crate::proto::id::NodeId;
use crate::proto::link::{Link, LinkState};
use crate::proto::transaction::Purpose;
use crate::proto::wire::chord::{ChordUpdate, ChordUpdateKind};
use crate::proto::wire::{Body, Destination};
use crate::time::Time;

impl Node {
    /// Connects as a client through the given bootstrap peers; `Event::Connected` follows.
    pub fn connect_client(&mut self, now: Time, bootstrap: &[Addr]) -> Result<(), CommandError> {
        self.may_start()?;
        let addr = bootstrap
            .iter()
            .copied()
            .find(|a| *a != self.addr)
            .ok_or(CommandError::NoBootstrap)?;
        self.bootstrap = bootstrap.to_vec();
        self.state = NodeState::ClientConnecting;
        self.links
            .insert(addr, None, Link::new(LinkState::Handshaking, now));
        self.send_handshake(now, addr, None, true);
        Ok(())
    }

    /// The peer this client goes through, once connected.
    pub fn client_peer(&self) -> Option<NodeId> {
        self.rare().client_peer
    }

    /// A client's link came up: the bootstrap peer (then find the responsible peer) or the
    /// responsible peer (then connected).
    pub(super) fn client_link_up(&mut self, now: Time, peer: NodeId) {
        if self.rare().client_target == Some(peer) {
            self.rare_mut().client_target = None;
            let first = self.rare().client_peer.is_none();
            self.rare_mut().client_peer = Some(peer);
            self.state = NodeState::Client;
            // Keep only the link to our peer.
            let others: Vec<usize> = (0..self.links.len())
                .filter(|&li| self.links.peer(li) != Some(peer))
                .collect();
            for li in others.into_iter().rev() {
                self.close_link(li);
            }
            if first {
                self.next_update = now + self.jittered(self.config.chord_update_interval);
                self.events.push_back(Event::Connected);
            }
            return;
        }
        if self.rare().client_peer.is_none() && self.rare().client_target.is_none() {
            self.attach_responsible(now);
        }
    }

    /// Attaches to whoever is responsible for our Node-ID.
    fn attach_responsible(&mut self, now: Time) {
        let body = Body::AttachReq(self.own_attach("passive", false));
        let dest = vec![Destination::Resource(self.id.to_resource_id())];
        if self
            .start_request(now, dest, body, Purpose::ClientAttach, None)
            .is_ok()
        {
            self.stats.attaches_client += 1;
        }
    }

    /// The Attach to our own Resource-ID was answered by `peer`.
    pub(super) fn client_attached(&mut self, peer: NodeId) {
        self.rare_mut().client_target = Some(peer);
    }

    /// Periodic check that our peer is still responsible for us.
    pub(super) fn client_check(&mut self, now: Time) {
        let body = Body::PingReq(Default::default());
        let dest = vec![Destination::Resource(self.id.to_resource_id())];
        let _ = self.start_request(now, dest, body, Purpose::ClientCheck, None);
    }

    /// Our check was answered by `responder`: move if it is not our peer.
    pub(super) fn client_checked(&mut self, now: Time, responder: NodeId) {
        if self.rare().client_peer != Some(responder) && self.rare().client_target.is_none() {
            self.attach_responsible(now);
        }
    }

    /// An Update arrived: when it comes from our peer and names a first predecessor, our
    /// Node-ID must lie in (predecessor, peer]; if not, responsibility moved (§10.7.3:
    /// a peer whose range changes Updates its whole Connection Table, clients included)
    /// and we attach to the new responsible peer now rather than at the next check.
    pub(super) fn client_update(&mut self, now: Time, signer: NodeId, u: &ChordUpdate) {
        let first_pred = match &u.kind {
            ChordUpdateKind::Neighbors { predecessors, .. }
            | ChordUpdateKind::Full { predecessors, .. } => predecessors.first().copied(),
            ChordUpdateKind::PeerReady => None,
        };
        let Some(pred) = first_pred else { return };
        if self.rare().client_peer == Some(signer)
            && self.rare().client_target.is_none()
            && !self.id.in_half_open(pred, signer)
        {
            self.attach_responsible(now);
        }
    }

    /// A client request failed: a lost peer means starting over through the bootstrap.
    pub(super) fn client_request_failed(&mut self, now: Time) {
        if self
            .rare()
            .client_peer
            .is_some_and(|p| self.links.by_peer(p).is_none())
            || self.state == NodeState::ClientConnecting
        {
            if let Some(r) = self.rare.as_mut() {
                r.client_peer = None;
                r.client_target = None;
            }
            self.links = Default::default();
            self.state = NodeState::Idle;
            let boot = self.bootstrap.clone();
            let _ = self.connect_client(now, &boot);
        }
    }
}

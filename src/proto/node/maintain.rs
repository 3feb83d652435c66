//! Keeping the ring: Updates (§10.7), failures (§10.7.1–2), fingers (§10.7.4.2), Leave
//! (§10.9) and the Connection Table bound.
//!
//! Reactive Updates go to the Neighbor Table (RFC 6940 §10.7.3 says the Connection Table,
//! §10.7.4.1 the Neighbor Table; reload-spec.md §15 item 19): that is where the change
//! matters, and it keeps Update traffic O(neighbours). A change of the range of
//! responsible IDs (a new first predecessor) is the exception the RFC makes a MUST
//! (§10.7.1, §10.7.3): that Update goes to every entry of the Connection Table, so
//! clients and fingers learn it at once.

use rand::RngExt;

use super::Node;
use crate::proto::chord::{FingerTable, NeighborTable};
use crate::proto::config::Addr;
use crate::proto::event::{Event, NodeState};
use crate::proto::id::NodeId;
use crate::proto::link::{LinkState, OwedUpdate};
use crate::proto::transaction::Purpose;
use crate::proto::wire::chord::{ChordLeaveData, ChordUpdate, ChordUpdateKind};
use crate::proto::wire::topology::LeaveReq;
use crate::proto::wire::{Body, Destination};
use crate::time::{Duration, Time};

/// Attaches in flight at most, outside a join.
const MAX_ATTACHES: usize = 8;

/// What an Attach outside the join's first step is for; it picks the counter
/// (`NodeStats::attaches_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AttachFor {
    /// A future neighbour of a joining node (§10.5).
    Join,
    /// The Neighbor Table of a joined peer (§10.7.3, §10.9, §10.7.4.4).
    Neighbor,
    /// The Finger Table (§10.7.4.2).
    Finger,
}

/// What a rebuild of the Routing Table changed.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct TableChange {
    /// The Neighbor Table changed.
    pub neighbors: bool,
    /// The first predecessor changed: the range of responsible IDs moved.
    pub range: bool,
}

impl std::ops::BitOr for TableChange {
    type Output = TableChange;
    fn bitor(self, o: TableChange) -> TableChange {
        TableChange {
            neighbors: self.neighbors | o.neighbors,
            range: self.range | o.range,
        }
    }
}

impl Node {
    /// `d` scaled by a random factor in [0.9, 1.1] (integer maths).
    pub(super) fn jittered(&mut self, d: Duration) -> Duration {
        let permille = self.rng.draw(|r| r.random_range(900u64..=1100));
        Duration((d.as_nanos() / 1000).saturating_mul(permille))
    }

    /// `d` stretched by up to 20 % at random, never shorter: the wait between finger
    /// searches, which §10.7.4.2 says SHOULD NOT come more often than chord-ping-interval.
    /// One draw, as [`Node::jittered`] takes.
    pub(super) fn at_least(&mut self, d: Duration) -> Duration {
        let permille = self.rng.draw(|r| r.random_range(1000u64..=1200));
        Duration((d.as_nanos() / 1000).saturating_mul(permille))
    }

    fn uptime_s(&self, now: Time) -> u32 {
        ((now - self.started).as_nanos() / 1_000_000_000) as u32
    }

    pub(super) fn send_update(&mut self, now: Time, peer: NodeId, kind: ChordUpdateKind) {
        let body = Body::UpdateReq(ChordUpdate {
            uptime: self.uptime_s(now),
            kind,
        });
        let direct = self.links.by_peer(peer).map(|li| self.links.addr(li));
        let _ = self.start_request(
            now,
            vec![Destination::Node(peer)],
            body,
            Purpose::Update,
            direct,
        );
    }

    /// Sends our whole Routing Table to `peer` (Update type full).
    pub(super) fn send_update_full(&mut self, now: Time, peer: NodeId) {
        let mut fingers = self.fingers.filled();
        fingers.sort_unstable();
        let kind = ChordUpdateKind::Full {
            predecessors: self.neighbors.predecessors.clone(),
            successors: self.neighbors.successors.clone(),
            fingers,
        };
        self.send_update(now, peer, kind);
    }

    /// Sends `peer` the Update owed once its link is up (`OwedUpdate`).
    pub(super) fn send_owed_update(&mut self, now: Time, peer: NodeId, owed: OwedUpdate) {
        match owed {
            OwedUpdate::Nothing => {}
            OwedUpdate::PeerReady => self.send_update(now, peer, ChordUpdateKind::PeerReady),
            OwedUpdate::Full => self.send_update_full(now, peer),
        }
    }

    /// Sends our Neighbor Table to every neighbour (Update type neighbors).
    pub(super) fn update_all_neighbors(&mut self, now: Time) {
        for peer in self.neighbors.all() {
            let kind = ChordUpdateKind::Neighbors {
                predecessors: self.neighbors.predecessors.clone(),
                successors: self.neighbors.successors.clone(),
            };
            self.send_update(now, peer, kind);
        }
    }

    /// Peers of up links that are not in the Neighbor Table.
    pub(super) fn linked_non_neighbors(&self) -> Vec<NodeId> {
        self.links
            .with_peers()
            .filter(|(_, l)| l.is_up())
            .filter_map(|(p, _)| p)
            .filter(|p| !self.neighbors.contains(*p))
            .collect()
    }

    /// Sends our Neighbor Table to every other entry of the Connection Table (clients
    /// included, §6.4.1), the neighbours having had theirs.
    fn update_connection_table(&mut self, now: Time) {
        let others = self.linked_non_neighbors();
        for peer in others {
            let kind = ChordUpdateKind::Neighbors {
                predecessors: self.neighbors.predecessors.clone(),
                successors: self.neighbors.successors.clone(),
            };
            self.send_update(now, peer, kind);
        }
    }

    /// The Updates a table rebuild calls for (§10.7.1, §10.7.3): a changed Neighbor Table
    /// goes to the neighbours when `chord_reactive`; a changed range of responsible IDs
    /// (a new first predecessor) goes to every entry of the Connection Table, reactive or
    /// not ("it MUST send an Update to all entries in its Connection Table"). Only the
    /// range change reaches non-neighbours, so a busy peer's clients and fingers hear of
    /// it when their view may be wrong, not on every neighbour change.
    pub(super) fn send_table_updates(&mut self, now: Time, change: TableChange) {
        if self.state != NodeState::Joined {
            return;
        }
        if change.neighbors && (self.config.chord_reactive || change.range) {
            self.update_all_neighbors(now);
        }
        if change.range {
            self.update_connection_table(now);
        }
    }

    /// Recomputes the Neighbor and Finger Tables from the connected, ready peers, and says
    /// what changed.
    pub(super) fn refresh_tables_quietly(&mut self, now: Time) -> TableChange {
        let ready: Vec<NodeId> = self.links.ready_peers().collect();
        let had_fingers = !self.fingers.is_empty();
        let best = NeighborTable::best(
            self.id,
            ready.iter().copied(),
            self.config.predecessors,
            self.config.successors,
        );
        for f in self.fingers.filled() {
            if !ready.contains(&f) {
                self.fingers.remove(f);
            }
        }
        for p in &ready {
            self.fingers.offer(self.id, *p);
        }
        let changed = best != self.neighbors;
        let old = std::mem::replace(&mut self.neighbors, best);
        let fingers = self.fingers.filled();
        for (peer, link) in self.links.iter_mut() {
            let routing = peer.is_some_and(|p| self.neighbors.contains(p) || fingers.contains(&p));
            link.set_routing(routing);
        }
        if had_fingers && fingers.is_empty() && !ready.is_empty() && self.state == NodeState::Joined
        {
            self.fingers_lost(now);
        }
        let range = old.predecessors.first() != self.neighbors.predecessors.first();
        if changed {
            if self.state == NodeState::Joined && !self.data.is_empty() {
                self.rebalance(now, &old);
            }
            self.events.push_back(Event::NeighborsChanged);
        }
        TableChange {
            neighbors: changed,
            range,
        }
    }

    /// Like [`Node::refresh_tables_quietly`], then the Updates the change calls for.
    pub(super) fn refresh_tables(&mut self, now: Time) {
        let change = self.refresh_tables_quietly(now);
        self.send_table_updates(now, change);
    }

    /// An Update arrived from `signer` (§10.7.3).
    pub(super) fn on_update(
        &mut self,
        now: Time,
        li: usize,
        signer: NodeId,
        direct: bool,
        u: &ChordUpdate,
    ) {
        if direct {
            self.links.get_mut(li).set_ready();
        }
        if self.state == NodeState::Joining {
            self.join_update(now, signer, u);
            // A future neighbour's peer_ready may be what the Join waits for.
            self.check_join_ready(now);
            return;
        }
        if matches!(self.state, NodeState::Client) {
            self.client_update(now, signer, u);
            return;
        }
        if self.state != NodeState::Joined {
            return;
        }
        let mut ids: Vec<NodeId> = Vec::new();
        ids.extend(u.node_ids());
        self.learn(now, signer, &ids);
        self.refresh_tables(now);
        // The sender counts us as a neighbour but we have nearer ones: its view is stale.
        // Our own table tells it where it really belongs.
        if ids.contains(&self.id)
            && !self.neighbors.contains(signer)
            && !matches!(u.kind, ChordUpdateKind::PeerReady)
        {
            let kind = ChordUpdateKind::Neighbors {
                predecessors: self.neighbors.predecessors.clone(),
                successors: self.neighbors.successors.clone(),
            };
            self.send_update(now, signer, kind);
        }
    }

    /// Peers named by `via`: mark connected ones ready, attach to useful new ones.
    fn learn(&mut self, now: Time, via: NodeId, ids: &[NodeId]) {
        for &id in ids {
            if id == self.id || id == NodeId::WILDCARD {
                continue;
            }
            let accept = self.neighbors.would_accept(
                self.id,
                id,
                self.config.predecessors,
                self.config.successors,
            );
            let useful = accept
                || self
                    .fingers
                    .slot_of(self.id, id)
                    .is_some_and(|i| self.fingers.is_empty_at(i));
            if !useful {
                continue;
            }
            match self.links.by_peer(id) {
                // A link the other side opened whose peer has not sent an Update: ask
                // whether it still holds, if its Update is overdue (revalidate).
                Some(li) if !self.links.get(li).ready() => self.revalidate(now, li),
                Some(_) => {}
                None => {
                    let why = if accept {
                        AttachFor::Neighbor
                    } else {
                        AttachFor::Finger
                    };
                    self.attach(now, id, Some(via), why);
                }
            }
        }
    }

    /// Asks the peer of a link it opened to us, and we have not routed over, whether it
    /// still holds and may be routed through: an Attach straight over the link. Its peer
    /// answers and owes us peer_ready, which makes the link routable (§6.5.1: not before
    /// the peer has sent an Update). Only a link whose Update is overdue is asked
    /// ([`Node::update_overdue`]).
    fn revalidate(&mut self, now: Time, li: usize) {
        if !self.update_overdue(now, li) {
            return;
        }
        let (addr, Some(peer)) = (self.links.addr(li), self.links.peer(li)) else {
            return;
        };
        let busy = self.txns.count(|p| matches!(p, Purpose::Attach { .. })) >= MAX_ATTACHES;
        if busy || self.txns.has_direct(addr) {
            return;
        }
        let body = Body::AttachReq(self.own_attach("passive", false));
        let sent = self.start_request(
            now,
            vec![Destination::Node(peer)],
            body,
            Purpose::Attach {
                target: Some(peer),
                for_join: false,
            },
            Some(addr),
        );
        if sent.is_ok() {
            self.stats.attaches_recheck += 1;
        }
    }

    /// True if link `li` is up, its peer has sent no Update (§6.5.1), and the link has
    /// been up for a `chord_update_interval` and silent for one.
    ///
    /// The peer of a link owes us an Update: a joined peer sends peer_ready once the link
    /// is up (§10.7.3: "a node which has Attached is a peer and can be routed through"),
    /// a joining one Updates its neighbours, and peer_ready's every other node it
    /// Attached, once admitted (§10.5 step 9; join.rs::become_joined). Until then the
    /// link is only not routable. The Update of a third party naming that peer is no sign
    /// the link failed: the admitting peer's, sent as it admits a joiner (§10.5 step 8),
    /// reaches the joiner's new neighbours a round trip before the joiner's own, and
    /// asking then cost each neighbour of every joiner an Attach, its answer and a
    /// second peer_ready (5 of the 22.5 Attach requests per peer of 10,000 peers in
    /// scenarios/simgrid-chord.toml). The RFC sets no time for the Update; a
    /// chord_update_interval, within which every neighbour hears from a live peer anyway
    /// (§10.7.4.1), is the wait.
    fn update_overdue(&self, now: Time, li: usize) -> bool {
        let settle = self.config.chord_update_interval;
        let l = self.links.get(li);
        // `last_heard` starts at the link's creation and only moves on, so it alone says
        // that both are `settle` ago.
        l.is_up() && !l.ready() && l.last_heard + settle <= now
    }

    /// Links whose peer would belong in our tables but whose Update is overdue
    /// ([`Node::update_overdue`]): ask again. A link we do not route over carries no
    /// traffic that would show it failed; an unanswered Attach does
    /// (internal_request_failed). A client, which never sends an Update but checks in
    /// with its peer, is not asked.
    pub(super) fn revalidate_unready(&mut self, now: Time) {
        let stale: Vec<usize> = (0..self.links.len())
            .filter(|&li| {
                self.update_overdue(now, li)
                    && self.links.peer(li).is_some_and(|p| {
                        self.neighbors.would_accept(
                            self.id,
                            p,
                            self.config.predecessors,
                            self.config.successors,
                        )
                    })
            })
            .collect();
        for li in stale {
            self.revalidate(now, li);
        }
    }

    /// Attaches to `peer`, source-routed through `via` when we have a link to it (§10.6).
    pub(super) fn attach(&mut self, now: Time, peer: NodeId, via: Option<NodeId>, why: AttachFor) {
        let for_join = why == AttachFor::Join;
        let busy = self
            .txns
            .count(|p| matches!(p, Purpose::Attach { target: Some(t), .. } if *t == peer));
        if busy > 0
            || self.links.any_by_peer(peer).is_some()
            || self.txns.count(|p| matches!(p, Purpose::Attach { .. })) >= MAX_ATTACHES
        {
            return;
        }
        let mut dest = Vec::with_capacity(2);
        if let Some(v) = via.filter(|v| *v != peer && self.links.by_peer(*v).is_some()) {
            dest.push(Destination::Node(v));
        }
        dest.push(Destination::Node(peer));
        let body = Body::AttachReq(self.own_attach("passive", false));
        let sent = self.start_request(
            now,
            dest,
            body,
            Purpose::Attach {
                target: Some(peer),
                for_join,
            },
            None,
        );
        if sent.is_ok() {
            let counter = match why {
                AttachFor::Join => &mut self.stats.attaches_join,
                AttachFor::Neighbor => &mut self.stats.attaches_neighbor,
                AttachFor::Finger => &mut self.stats.attaches_finger,
            };
            *counter += 1;
        }
    }

    /// A request this node made for its own upkeep failed.
    pub(super) fn internal_request_failed(&mut self, now: Time, purpose: Purpose) {
        match &purpose {
            // A push that failed is not retried (config_update.rs).
            Purpose::ConfigUpdate => {}
            Purpose::Leave => self.leave_answered(now),
            Purpose::PartitionPing { .. } => self.partition_done(),
            _ if matches!(self.state, NodeState::Client | NodeState::ClientConnecting) => {
                self.client_request_failed(now)
            }
            p if self.state == NodeState::Joining => self.join_request_failed(now, p),
            // An Attach to a peer we hold an unready link to went unanswered: the link
            // is dead (its peer crashed or restarted), though nothing else crossed it.
            Purpose::Attach {
                target: Some(t), ..
            } => {
                let dead = self
                    .links
                    .by_peer(*t)
                    .filter(|&li| !self.links.get(li).ready())
                    .map(|li| self.links.addr(li));
                if let Some(addr) = dead {
                    self.link_failed(now, addr);
                }
            }
            _ => {}
        }
    }

    /// The link to `addr` failed (Simple Reliability gave up, §6.6.3): forget the peer and
    /// repair the tables from what is left (§10.7.1–2).
    pub(super) fn link_failed(&mut self, now: Time, addr: Addr) {
        let Some(li) = self.links.by_addr(addr) else {
            return;
        };
        let peer = self.links.peer(li);
        self.links.remove(li);
        self.stats.link_failures += 1;
        if let Some(peer) = peer {
            self.forget(now, peer);
        }
    }

    /// Removes `peer` from every table and repairs them.
    pub(super) fn forget(&mut self, now: Time, peer: NodeId) {
        // The link goes; the tables are rebuilt from the links left (so the rebuild still
        // sees the old Neighbor Table and can tell which data changed hands).
        if let Some(li) = self.links.any_by_peer(peer) {
            self.links.remove(li);
        }
        let finger_slots: Vec<usize> = (0..self.fingers.size())
            .filter(|&i| self.fingers.get(i) == Some(peer))
            .collect();
        self.refresh_tables(now);
        if self.state == NodeState::Joined && self.config.chord_reactive {
            self.search_lost_fingers(now, &finger_slots);
        }
        // §10.7.1: "If connectivity is lost to all successor peers in the Neighbor Table,
        // then this peer SHOULD behave as if it is joining the network and MUST use Pings
        // to find a peer and send it a Join." The table is rebuilt from every connected
        // peer (the best match from the Routing Table), so it runs out of successors only
        // when no peer is left: then the join starts again through the bootstrap
        // addresses (handshake Ping, then the join of §10.5). Whatever peers are left
        // serve as successors meanwhile, and their Updates name the real ones (on_update).
        if self.state == NodeState::Joined && self.links.ready_peers().next().is_none() {
            self.rejoin(now);
        }
    }

    /// §10.7.1: "If connectivity is lost to all the peers in the Finger Table, this peer
    /// SHOULD assume that it has been disconnected from the rest of the network, and it
    /// SHOULD periodically try to join the DHT." The join's discovery through a bootstrap
    /// node is the partition check of §10.7.4.4 (partition.rs): it runs now, and while the
    /// Finger Table stays empty it repeats every `chord_update_interval` rather than every
    /// `partition_check_interval`; a check that finds the rest of the ring links to it.
    fn fingers_lost(&mut self, now: Time) {
        if self.partition.is_none() {
            self.start_partition_check(now);
        }
    }

    /// A neighbour left (§10.9): treated like its failure, then its replacements are learned.
    pub(super) fn on_leave(&mut self, now: Time, peer: NodeId, l: &LeaveReq) {
        self.forget(now, peer);
        let ids: Vec<NodeId> = match &l.chord {
            Some(ChordLeaveData::FromSuccessor(v)) | Some(ChordLeaveData::FromPredecessor(v)) => {
                v.clone()
            }
            None => Vec::new(),
        };
        if self.state == NodeState::Joined {
            for (i, &id) in ids.iter().enumerate() {
                if id != self.id
                    && self.links.by_peer(id).is_none()
                    && self.neighbors.would_accept(
                        self.id,
                        id,
                        self.config.predecessors,
                        self.config.successors,
                    )
                {
                    let via = self.leave_list_via(&ids, i);
                    self.attach(now, id, via, AttachFor::Neighbor);
                }
            }
        }
    }

    /// The peer to source-route an Attach to `ids[i]` through (§10.6: "through the peer
    /// from which it learned the new peer's Node-ID"). That peer, the leaver, is going
    /// away, so the Attach goes through the linked entry of the Leave's list nearest to
    /// `ids[i]`: the list is the leaver's successors (or predecessors) in ring order, so
    /// that entry is a neighbour of the new peer and keeps a link to it (§10.7). Nearer
    /// the leaver first on a tie. `None` (conventional routing) if no entry is linked.
    fn leave_list_via(&self, ids: &[NodeId], i: usize) -> Option<NodeId> {
        (1..ids.len())
            .flat_map(|d| [i.checked_sub(d), i.checked_add(d)])
            .flatten()
            .filter_map(|j| ids.get(j).copied())
            .find(|&v| {
                v != self.id
                    && self.links.by_peer(v).is_some_and(|li| {
                        self.links.get(li).ready() && !self.links.get(li).suspect()
                    })
            })
    }

    /// Estimated overlay size from the spacing of our successors.
    fn estimated_size(&self) -> u128 {
        let n = self.neighbors.successors.len() as u128;
        match self.neighbors.successors.last() {
            Some(far) if n > 0 => {
                let gap = (self.id.distance_to(*far) / n).max(1);
                u128::MAX / gap
            }
            _ => 1,
        }
    }

    /// Finger entries worth filling: about log2 of the overlay size.
    fn useful_fingers(&self) -> usize {
        let n = self.estimated_size();
        let log2 = 128 - n.leading_zeros() as usize;
        log2.clamp(1, self.fingers.size())
    }

    /// Searches every useful empty finger entry (after joining).
    pub(super) fn start_finger_search(&mut self, now: Time) {
        for slot in 0..self.useful_fingers() {
            if self.fingers.is_empty_at(slot) {
                self.finger_ping(now, slot);
            }
        }
    }

    /// One periodic finger refresh (§10.7.4.2: "A peer MUST periodically search for new
    /// peers to replace invalid entries in the Finger Table"): a search for the first
    /// empty entry worth filling (the lowest invalid entry: the limit of the RFC's
    /// exponential weighting toward lower i). An entry holding a connected peer of its
    /// range is valid and is not searched: when every entry worth filling is, nothing is
    /// sent. (A search of a valid entry found another peer of its range, which was then
    /// Attached to but did not replace the entry: 11,800 Attach requests, over 49,000
    /// Attach frames, and links for nothing at 10,000 peers in
    /// scenarios/simgrid-chord.toml.) A finger that fails leaves its entry invalid, and
    /// the search for it starts at once (§10.7.2).
    pub(super) fn refresh_one_finger(&mut self, now: Time) {
        let useful = self.useful_fingers();
        if let Some(slot) = (0..useful).find(|s| self.fingers.is_empty_at(*s)) {
            self.finger_ping(now, slot);
        }
    }

    /// Reactive recovery of a failed finger (§10.7.2: "the peer MUST initiate a search for
    /// a new Finger Table entry"): each of `slots` that the rebuild left empty and that is
    /// worth filling gets a finger-search Ping now, unless one is already out.
    fn search_lost_fingers(&mut self, now: Time, slots: &[usize]) {
        let useful = self.useful_fingers();
        for &slot in slots {
            let searching = self
                .txns
                .count(|p| matches!(p, Purpose::FingerPing { slot: s } if *s == slot));
            if slot < useful && self.fingers.is_empty_at(slot) && searching == 0 {
                self.finger_ping(now, slot);
            }
        }
    }

    fn finger_ping(&mut self, now: Time, slot: usize) {
        let (start, len) = FingerTable::range(self.id, slot);
        let target = start.wrapping_add(self.rng.draw(|r| r.random_range(0..len)));
        let body = Body::PingReq(Default::default());
        let _ = self.start_request(
            now,
            vec![Destination::Resource(target.to_resource_id())],
            body,
            Purpose::FingerPing { slot },
            None,
        );
    }

    /// A finger-search Ping was answered by `responder`: a peer of the entry's range fills
    /// it, if it is still invalid (§10.7.4.2: the search replaces invalid entries). An
    /// entry filled while the Ping was out (a peer of its range linked meanwhile: one an
    /// Update named, or one that Attached to us) is valid: an Attach to the responder
    /// would make a link the entry does not take (1,800 Attach requests at 10,000 peers
    /// in scenarios/simgrid-chord.toml).
    pub(super) fn finger_found(&mut self, now: Time, slot: usize, responder: NodeId) {
        if responder == self.id
            || !FingerTable::in_range(self.id, slot, responder)
            || !self.fingers.is_empty_at(slot)
        {
            return;
        }
        match self.links.by_peer(responder) {
            Some(li) if !self.links.get(li).ready() => self.revalidate(now, li),
            Some(_) => {}
            None => self.attach(now, responder, None, AttachFor::Finger),
        }
    }

    /// Starts a graceful leave (§10.9).
    pub(super) fn start_leave(&mut self, now: Time) {
        if self.state != NodeState::Joined {
            self.finish_leave();
            return;
        }
        self.state = NodeState::Leaving;
        self.txns.clear();
        let preds = self.neighbors.predecessors.clone();
        let succs = self.neighbors.successors.clone();
        for peer in self.neighbors.all() {
            let chord = if preds.contains(&peer) {
                ChordLeaveData::FromSuccessor(succs.clone())
            } else {
                ChordLeaveData::FromPredecessor(preds.clone())
            };
            let body = Body::LeaveReq(LeaveReq {
                leaving_peer_id: self.id,
                chord: Some(chord),
            });
            let direct = self.links.by_peer(peer).map(|li| self.links.addr(li));
            let _ = self.start_request(
                now,
                vec![Destination::Node(peer)],
                body,
                Purpose::Leave,
                direct,
            );
        }
        self.rare_mut().leave_deadline = Some(now + self.config.link_rto.saturating_mul(4));
        if self.txns.is_empty() {
            self.finish_leave();
        }
    }

    /// A Leave was answered (or failed); when none is left, the node is gone.
    pub(super) fn leave_answered(&mut self, _now: Time) {
        if self.state == NodeState::Leaving && self.txns.count(|p| matches!(p, Purpose::Leave)) == 0
        {
            self.finish_leave();
        }
    }

    pub(super) fn finish_leave(&mut self) {
        self.state = NodeState::Left;
        if let Some(r) = self.rare.as_mut() {
            r.leave_deadline = None;
        }
        self.txns.clear();
        self.join = None;
        self.events.push_back(Event::Left);
    }

    /// Makes room for one more link; false if the table is full of links still needed.
    pub(super) fn make_room(&mut self) -> bool {
        if self.links.len() < self.config.max_connections {
            return true;
        }
        let victim = self
            .links
            .iter()
            .enumerate()
            // Never a link of the Routing Table (kept current in `routing`) or one being set up.
            .filter(|(_, l)| l.state() != LinkState::Handshaking && !l.routing())
            .min_by_key(|(_, l)| l.last_heard)
            .map(|(i, _)| i);
        match victim {
            Some(i) => {
                self.close_link(i);
                true
            }
            None => false,
        }
    }
}

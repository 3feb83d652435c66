//! Answering requests addressed to this node, and acting on answers to its own requests.

use rand::RngExt;

use super::Node;
use crate::proto::event::{Answer, Event, NodeState, RequestError};
use crate::proto::id::NodeId;
use crate::proto::identity::SignerInfo;
use crate::proto::link::{Link, LinkState, LinkTransport, OwedUpdate};
use crate::proto::transaction::{Pending, Purpose};
use crate::proto::wire::attach::{
    AttachReqAns, CandType, IceCandidate, IceExtension, IpAddressPort, overlay_link,
};
use crate::proto::wire::chord::{ChordRouteQueryAns, ChordUpdateKind};
use crate::proto::wire::error_response::{ErrorResponse, error_code};
use crate::proto::wire::message::code;
use crate::proto::wire::storage::FetchAns;
use crate::proto::wire::topology::{JoinAns, PingAns, ProbeAns, ProbeInformation, probe_type};
use crate::proto::wire::{Body, Destination, Message};
use crate::time::Time;

impl Node {
    /// This node's own No-ICE candidate (§6.5.1.11): DTLS-UDP-SR-NO-ICE on datagram
    /// links; on stream links TLS-TCP-FH-NO-ICE, which §6.6.5 says MUST be a passive
    /// candidate (the ICE-TCP `tcptype passive` extension, RFC 6544 §4.5: the peer
    /// accepts connections there).
    pub(super) fn own_attach(&self, role: &str, send_update: bool) -> AttachReqAns {
        let (link, extensions) = match self.config.link_transport {
            LinkTransport::Datagram => (overlay_link::DTLS_UDP_SR_NO_ICE, Vec::new()),
            LinkTransport::Stream => (
                overlay_link::TLS_TCP_FH_NO_ICE,
                vec![IceExtension {
                    name: b"tcptype".to_vec(),
                    value: b"passive".to_vec(),
                }],
            ),
        };
        AttachReqAns {
            ufrag: Vec::new(),
            password: Vec::new(),
            role: role.as_bytes().to_vec(),
            candidates: vec![IceCandidate {
                addr_port: IpAddressPort::from(self.addr),
                overlay_link: link,
                foundation: Vec::new(),
                priority: 1,
                cand_type: CandType::Host,
                extensions,
            }],
            send_update,
        }
    }

    /// Dispatches a request addressed to this node.
    pub(super) fn handle_request(&mut self, now: Time, li: usize, msg: Message, who: SignerInfo) {
        let signer = who.node_id;
        let hops = msg.header.via_list.len() as u32 + 1;
        let code = msg.contents.body.code();
        self.events.push_back(Event::RequestServed {
            origin: signer,
            transaction: msg.header.transaction_id,
            hops,
            code,
        });
        if let Some(answer) = self.answer_storage(now, &msg, who) {
            self.send_answer(now, li, &msg, signer, answer);
            return;
        }
        let answer = match &msg.contents.body {
            Body::PingReq(_) => Body::PingAns(PingAns {
                response_id: self.rng.draw(|r| r.random()),
                time: now.as_millis(),
            }),
            Body::AttachReq(a) => match self.accept_attach(now, signer, a) {
                Ok(accepted) => {
                    let ans = Body::AttachAns(self.own_attach("active", false));
                    self.send_answer(now, li, &msg, signer, ans);
                    self.send_owed_update(now, signer, accepted.update_now);
                    if accepted.cancelled_join_attach {
                        // The join no longer waits on the Attach we gave up.
                        self.check_join_ready(now);
                    }
                    return;
                }
                Err(e) => Body::Error(e),
            },
            Body::JoinReq(j) => {
                if j.joining_peer_id != signer
                    || !msg.header.via_list.is_empty()
                    || self.state != NodeState::Joined
                {
                    Body::Error(ErrorResponse::new(
                        error_code::FORBIDDEN,
                        "join must come directly from the joining peer",
                    ))
                } else {
                    self.send_answer(now, li, &msg, signer, Body::JoinAns(JoinAns::default()));
                    self.admit(now, li, signer);
                    return;
                }
            }
            Body::UpdateReq(u) => {
                let u = u.clone();
                self.send_answer(now, li, &msg, signer, Body::UpdateAns);
                self.on_update(now, li, signer, msg.header.via_list.is_empty(), &u);
                return;
            }
            Body::LeaveReq(l) => {
                if !self.leave_is_direct(li, &msg, l.leaving_peer_id, signer) {
                    Body::Error(ErrorResponse::new(
                        error_code::FORBIDDEN,
                        "leave must come directly from the leaving peer",
                    ))
                } else {
                    let l = l.clone();
                    self.send_answer(now, li, &msg, signer, Body::LeaveAns);
                    self.on_leave(now, signer, &l);
                    return;
                }
            }
            Body::RouteQueryReq(q) => {
                let next = match &q.destination {
                    Destination::Node(n) if self.links.by_peer(*n).is_some() => *n,
                    Destination::Resource(r)
                        if r.ring_position().is_some_and(|k| self.is_responsible(k)) =>
                    {
                        self.id
                    }
                    d => self
                        .route_link(d)
                        .and_then(|l| self.links.peer(l))
                        .unwrap_or(self.id),
                };
                // §10.8: with send_update the Update (type full, reload-spec.md §15
                // item 17) follows the RouteQueryAns, it does not precede it.
                let ans = Body::RouteQueryAns(ChordRouteQueryAns { next_peer: next });
                self.send_answer(now, li, &msg, signer, ans);
                if q.send_update {
                    self.send_update_full(now, signer);
                }
                return;
            }
            Body::AppAttachReq(a) => self.answer_app_attach(a),
            Body::ConfigUpdateReq(r) => self.answer_config_update(r),
            Body::ProbeReq(p) => Body::ProbeAns(ProbeAns {
                probe_info: p
                    .requested_info
                    .iter()
                    .filter_map(|t| self.probe_value(now, *t))
                    .collect(),
            }),
            Body::Unknown { .. } => Body::Error(ErrorResponse::new(
                error_code::INVALID_MESSAGE,
                "unknown method",
            )),
            _ => Body::Error(ErrorResponse::new(
                error_code::FORBIDDEN,
                "method not offered by this peer",
            )),
        };
        self.send_answer(now, li, &msg, signer, answer);
    }

    /// §6.4.2.2: a LeaveReq is only acted on when it arrived over the connection bound to
    /// the leaving peer: an empty Via List, and link peer = leaving_peer_id = signer. A
    /// Leave signed by Q but relayed by another peer must not tear down the link to Q.
    fn leave_is_direct(&self, li: usize, msg: &Message, leaving: NodeId, signer: NodeId) -> bool {
        msg.header.via_list.is_empty() && leaving == signer && self.links.peer(li) == Some(signer)
    }

    fn probe_value(&self, now: Time, t: u8) -> Option<ProbeInformation> {
        Some(match t {
            probe_type::RESPONSIBLE_SET => {
                let share = match self.neighbors.predecessors.first() {
                    Some(p) => p.distance_to(self.id),
                    None => u128::MAX,
                };
                ProbeInformation::ResponsiblePpb((((share >> 64) * 1_000_000_000) >> 64) as u32)
            }
            probe_type::NUM_RESOURCES => {
                ProbeInformation::NumResources(self.data.num_resources() as u32)
            }
            probe_type::UPTIME => {
                ProbeInformation::Uptime(((now - self.started).as_nanos() / 1_000_000_000) as u32)
            }
            _ => return None,
        })
    }

    /// Accepts an Attach from `signer` (§6.5.1.2): record the link it offers and wait for
    /// its handshake. Attaches crossing one of ours follow the RFC's rules:
    /// - ours was answered and its handshake (the stand-in for ICE and (D)TLS) is under
    ///   way: Error_In_Progress;
    /// - ours is unanswered: the smaller Node-ID (big-endian unsigned, which is `NodeId`'s
    ///   order) cancels its own Attach and answers; the larger answers Error_In_Progress
    ///   and completes its own.
    ///
    /// Either way one link results, still keyed by address. Only an Attach aimed at the
    /// signer's Node-ID counts as crossing: the target of one aimed at a Resource-ID (the
    /// join's id + 1, a client's own id) is not known until it is answered.
    fn accept_attach(
        &mut self,
        now: Time,
        signer: NodeId,
        a: &AttachReqAns,
    ) -> Result<AttachAccepted, ErrorResponse> {
        if signer == self.id {
            return Err(ErrorResponse::new(error_code::FORBIDDEN, "attach to self"));
        }
        let addr = candidate_addr(a).ok_or_else(|| {
            ErrorResponse::new(error_code::INVALID_MESSAGE, "no usable candidate")
        })?;
        let in_progress = || {
            ErrorResponse::new(
                error_code::IN_PROGRESS,
                "an attach to this peer is in progress",
            )
        };
        let ours =
            |p: &Purpose| matches!(p, Purpose::Attach { target: Some(t), .. } if *t == signer);
        let mut accepted = AttachAccepted::default();
        if self.txns.count(ours) > 0 {
            if self.id > signer {
                return Err(in_progress());
            }
            let cancelled = self.txns.cancel(ours);
            accepted.cancelled_join_attach = cancelled
                .is_some_and(|p| matches!(p.purpose, Purpose::Attach { for_join: true, .. }));
        } else if self
            .links
            .any_by_peer(signer)
            .is_some_and(|li| self.links.get(li).state() == LinkState::Handshaking)
        {
            return Err(in_progress());
        }
        // The requester may route through us once we say so (§6.5.1): a full Update if it
        // asked for one, else peer_ready if we are a peer.
        let owed = if a.send_update {
            OwedUpdate::Full
        } else if self.state == NodeState::Joined {
            OwedUpdate::PeerReady
        } else {
            OwedUpdate::Nothing
        };
        match self.links.by_addr(addr) {
            Some(li) => {
                if self.links.peer(li).is_none() {
                    self.links.set_peer(li, Some(signer));
                }
                if self.links.peer(li) != Some(signer) {
                    // Another node at the address of one we are linked to: a node restarted
                    // there with a new Node-ID, or a forged candidate. The link stays bound
                    // to the old node until a handshake signed by the new one arrives over
                    // it (receive.rs: a new (D)TLS connection rebinds it), which a forged
                    // candidate cannot produce. The Update owed to the new node waits with it.
                    self.rare_mut().rebinding.retain(|(a, _, _)| *a != addr);
                    self.rare_mut().rebinding.truncate(MAX_REBINDING - 1);
                    self.rare_mut()
                        .rebinding
                        .insert(0, (addr, signer, a.send_update));
                    return Ok(accepted);
                }
                let link = self.links.get_mut(li);
                if link.state() == LinkState::Up {
                    accepted.update_now = owed;
                    return Ok(accepted);
                }
                link.update_when_up = owed;
            }
            None => {
                // §6.5.1.2 "overloaded … MAY generate an error": Error_In_Progress is
                // reserved for an Attach already in progress (§6.3.3.1) and the RFC names
                // no overload code, so a full table refuses with Error_Forbidden.
                if !self.make_room() {
                    return Err(ErrorResponse::new(
                        error_code::FORBIDDEN,
                        "connection table full",
                    ));
                }
                let mut link = Link::new(LinkState::Expecting, now);
                link.update_when_up = owed;
                self.links.insert(addr, Some(signer), link);
            }
        }
        Ok(accepted)
    }

    /// Acts on an answer (or error) to one of this node's requests, arrived on link `li`
    /// (`None`: answered by this node itself).
    pub(super) fn handle_answer(
        &mut self,
        now: Time,
        li: Option<usize>,
        msg: Message,
        signer: NodeId,
    ) {
        let Some(p) = self.txns.take(msg.header.transaction_id) else {
            self.stats.unmatched_answers += 1;
            return;
        };
        if !answered_by_destination(&p, signer) {
            // Not this request's answer: keep waiting for the node it was sent to.
            self.stats.unmatched_answers += 1;
            self.txns.insert(p);
            return;
        }
        if !self.close_enough(&p, signer) {
            // From a node that cannot be responsible: keep waiting, retransmit (§6.3.4).
            self.stats.distant_answers += 1;
            self.txns.insert(p);
            return;
        }
        let mut msg = msg;
        let discarded = match &mut msg.contents.body {
            Body::FetchAns(a) => self.verify_fetched(&p, a),
            _ => 0,
        };
        let code = msg.contents.body.code();
        if let Body::Error(e) = &msg.contents.body {
            if let Some(Ok(unknown)) = e.parse_unknown_kinds() {
                self.push_kinds(now, signer, &unknown);
            }
            if self.replica_refused(now, &p, e.code) {
                return;
            }
            self.request_failed(now, p.id, p.purpose, RequestError::ErrorResponse(e.code));
            return;
        }
        match p.purpose {
            Purpose::CallFetch { call } if code == code::FETCH_ANS => {
                return self.call_fetched(now, call, &msg);
            }
            Purpose::CallAttach { call, expected } if code == code::APP_ATTACH_ANS => {
                return self.call_attached(now, call, expected, signer);
            }
            _ => {}
        }
        match p.purpose {
            Purpose::Register { aor } => self.events.push_back(Event::Registered {
                aor,
                request: p.id,
                outcome: Ok(Answer {
                    responder: signer,
                    code,
                }),
            }),
            Purpose::Command => {
                self.fetched(p.id, &msg, discarded);
                self.events.push_back(Event::RequestDone {
                    request: p.id,
                    outcome: Ok(Answer {
                        responder: signer,
                        code,
                    }),
                });
            }
            Purpose::Replicate { resource } => self.copy_accepted(resource, p.to),
            Purpose::Refresh { resource } => {
                if let Body::FetchAns(a) = &msg.contents.body {
                    self.replace_copy(now, resource, a);
                }
            }
            Purpose::Handshake { for_join } if code == code::PING_ANS => {
                let Some(li) = li else { return };
                let client = matches!(self.state, NodeState::ClientConnecting | NodeState::Client);
                self.links.set_peer(li, Some(signer));
                let link = self.links.get_mut(li);
                // §6.5.1: over a link we Attached, only messages for its peer go until the
                // peer's first Update (on_update marks it ready; a peer owes us peer_ready).
                // A handshake to the wildcard opens the bootstrap link of a join or a
                // partition check, through which the join's Attach is routed (§10.5); a
                // client's only route is the peer responsible for it.
                if p.to.is_none() || client {
                    link.set_ready();
                } else if self.state == NodeState::Joined {
                    // §10.7.3 peer_ready: "a node which has Attached is a peer and can be
                    // routed through". The peer we Attached to tells us the same.
                    self.send_update(now, signer, ChordUpdateKind::PeerReady);
                }
                self.link_up(now, li);
                self.peer_connected(now, signer, for_join);
            }
            Purpose::JoinAttach if code == code::ATTACH_ANS => {
                let Body::AttachAns(a) = &msg.contents.body else {
                    return;
                };
                self.admitting_peer_found(now, signer);
                self.connect_to(now, signer, a, true);
            }
            Purpose::Attach { for_join, .. } if code == code::ATTACH_ANS => {
                let Body::AttachAns(a) = &msg.contents.body else {
                    return;
                };
                self.connect_to(now, signer, a, for_join);
            }
            Purpose::Join if code == code::JOIN_ANS => self.joined_by(now, signer),
            Purpose::ClientAttach if code == code::ATTACH_ANS => {
                let Body::AttachAns(a) = &msg.contents.body else {
                    return;
                };
                self.client_attached(signer);
                self.connect_to(now, signer, a, true);
            }
            Purpose::ClientCheck if code == code::PING_ANS => self.client_checked(now, signer),
            Purpose::FingerPing { slot } if code == code::PING_ANS => {
                self.finger_found(now, slot, signer)
            }
            Purpose::Leave => self.leave_answered(now),
            Purpose::PartitionPing { via } if code == code::PING_ANS => {
                self.partition_answered(now, via, signer)
            }
            Purpose::Update | Purpose::ConfigUpdate => {}
            other => self.internal_request_failed(now, other),
        }
    }

    /// Brings up a link to a peer that answered our Attach: handshake over the address it
    /// offered, unless a link to it is already up.
    fn connect_to(&mut self, now: Time, peer: NodeId, a: &AttachReqAns, for_join: bool) {
        if let Some(li) = self.links.by_peer(peer) {
            self.stats.attach_answers_linked += 1;
            // Linked already: the peer's Update (owed for this Attach) makes it routable.
            if matches!(self.state, NodeState::ClientConnecting | NodeState::Client) {
                self.links.get_mut(li).set_ready();
            }
            self.peer_connected(now, peer, for_join);
            return;
        }
        let failed = Purpose::Attach {
            target: Some(peer),
            for_join,
        };
        let Some(addr) = candidate_addr(a) else {
            self.internal_request_failed(now, failed);
            return;
        };
        if self.links.by_addr(addr).is_none() {
            if !self.make_room() {
                self.internal_request_failed(now, failed);
                return;
            }
            self.links
                .insert(addr, Some(peer), Link::new(LinkState::Handshaking, now));
        }
        self.send_handshake(now, addr, Some(peer), for_join);
    }

    /// Sends the handshake Ping over the link to `addr`.
    pub(super) fn send_handshake(
        &mut self,
        now: Time,
        addr: std::net::SocketAddr,
        peer: Option<NodeId>,
        for_join: bool,
    ) {
        let dest = Destination::Node(peer.unwrap_or(NodeId::WILDCARD));
        let body = Body::PingReq(Default::default());
        if self
            .start_request(
                now,
                vec![dest],
                body,
                Purpose::Handshake { for_join },
                Some(addr),
            )
            .is_err()
        {
            self.internal_request_failed(now, Purpose::Handshake { for_join });
        }
    }
}

/// Attaches accepted from nodes at the address of another linked node, remembered until
/// their handshake rebinds the link.
pub(super) const MAX_REBINDING: usize = 4;

/// What accepting an Attach calls for once the answer is sent.
#[derive(Clone, Copy, Debug, Default)]
struct AttachAccepted {
    /// The link is already up: the Update owed to the requester, to send now.
    update_now: OwedUpdate,
    /// The tie-break cancelled an Attach of our join (§6.5.1.2).
    cancelled_join_attach: bool,
}

impl Node {
    /// Discards the values of a FetchAns that fail verification (§7.4.2.2) and returns how
    /// many. The values were signed over the Resource-ID the Fetch was for: a request
    /// whose Resource-ID is not known here keeps none (it cannot be checked).
    fn verify_fetched(&mut self, p: &Pending, a: &mut FetchAns) -> u32 {
        match (&p.purpose, &p.first) {
            (Purpose::Refresh { resource }, _) | (_, Destination::Resource(resource)) => {
                self.discard_unverified(resource, a)
            }
            _ => a
                .kind_responses
                .iter_mut()
                .map(|k| u32::try_from(std::mem::take(&mut k.values).len()).unwrap_or(u32::MAX))
                .fold(0, u32::saturating_add),
        }
    }
}

impl Node {
    /// §6.3.4: "The response to a message sent to a Resource-ID MUST have been sent by a
    /// Node-ID which is at least as close to the target Resource-ID as any node in the
    /// requesting node's Neighbor Table."
    ///
    /// Closeness in CHORD-RELOAD: the peer responsible for k is the first one at or after
    /// k (§10.1), so a node is closer to k the shorter the way from k to it clockwise. An
    /// answer from a node farther than a Neighbor Table entry comes from a node that
    /// cannot be responsible, as this node sees the ring; the request keeps waiting and is
    /// retransmitted, as the RFC says happens when a closer neighbour appears while it is
    /// outstanding. Exempt:
    /// - answers this node gave itself (it is responsible);
    /// - the partition check's Ping (§10.7.4.4), whose point is to hear from a node of
    ///   another ring, which this node's Neighbor Table cannot vouch for.
    ///
    /// An empty Neighbor Table (joining, a lone peer, a client) accepts any node.
    fn close_enough(&self, p: &Pending, signer: NodeId) -> bool {
        let Some(k) = p.key else { return true };
        if signer == self.id || matches!(p.purpose, Purpose::PartitionPing { .. }) {
            return true;
        }
        let d = k.distance_to(signer);
        self.neighbors
            .predecessors
            .iter()
            .chain(&self.neighbors.successors)
            .all(|n| k.distance_to(*n) >= d)
    }
}

/// §6.3.4: an answer to a request for a Node-ID must be signed by that Node-ID. The
/// request's final destination is what the answer is matched to (a source-routed Attach
/// is answered by its last entry); a wildcard (the first handshake over a new link, whose
/// peer is not yet known) and a Resource-ID (answered by whichever peer is responsible)
/// accept any signer.
fn answered_by_destination(p: &Pending, signer: NodeId) -> bool {
    p.to.is_none_or(|to| to == signer)
}

/// The first usable transport address among an Attach's candidates.
fn candidate_addr(a: &AttachReqAns) -> Option<std::net::SocketAddr> {
    a.candidates.iter().find_map(|c| match c.addr_port {
        IpAddressPort::V4(ip, port) => Some(std::net::SocketAddr::from((ip, port))),
        IpAddressPort::V6(ip, port) => Some(std::net::SocketAddr::from((ip, port))),
        IpAddressPort::Unknown { .. } => None,
    })
}

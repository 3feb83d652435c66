//! The input path: frames, acks, forwarding (§6.1) and delivery to this node.

use super::Node;
use super::inbound::Decision;
use crate::proto::config::Addr;
use crate::proto::event::NodeState;
use crate::proto::id::NodeId;
use crate::proto::identity::{SignerInfo, verifier_of};
use crate::proto::link::{Link, LinkState};
use crate::proto::wire::error_response::{ErrorResponse, error_code};
use crate::proto::wire::framing::Frame;
use crate::proto::wire::message::is_request;
use crate::proto::wire::security::message_signature_input;
use crate::proto::wire::storage::KindId;
use crate::proto::wire::{
    Body, DecodeError, DecodeErrorKind, Destination, ForwardEdit, HeaderView, Message,
};
use crate::time::Time;

impl Node {
    /// A datagram (one FramedMessage frame) arrived from `from`.
    pub fn handle_datagram(&mut self, now: Time, from: Addr, bytes: &[u8]) {
        if matches!(self.state, NodeState::Left) {
            self.stats.dropped += 1;
            return;
        }
        let frame = match Frame::decode(bytes) {
            Ok(f) => f,
            Err(_) => {
                self.stats.malformed += 1;
                return;
            }
        };
        let li = self.links.by_addr(from);
        match frame {
            Frame::Ack {
                ack_sequence,
                received,
            } => match li {
                Some(li) => {
                    let Node {
                        links,
                        config,
                        outbox,
                        ..
                    } = self;
                    links
                        .get_mut(li)
                        .on_ack(now, from, ack_sequence, received, config, outbox);
                }
                None => self.stats.unknown_link += 1,
            },
            Frame::Data { sequence, message } => {
                let li = match li {
                    Some(li) => li,
                    None => {
                        // A frame from an unknown address opens a link only if it is a
                        // message straight to us (a handshake). Anything else belongs to a
                        // link we no longer have: staying silent (no ack) lets the sender's
                        // Simple Reliability declare that link failed and re-route.
                        if !self.opens_link(message) {
                            self.stats.unknown_link += 1;
                            return;
                        }
                        if !self.make_room() {
                            self.stats.table_full += 1;
                            return;
                        }
                        self.links
                            .insert(from, None, Link::new(LinkState::Expecting, now))
                    }
                };
                let link = self.links.get_mut(li);
                link.last_heard = now;
                let ack = link.on_data(from, sequence);
                self.outbox.push_back(ack);
                self.handle_message(now, li, message);
            }
        }
    }

    /// True if `message` is addressed to this node alone and came directly from its sender.
    fn opens_link(&self, message: &[u8]) -> bool {
        let Ok(view) = HeaderView::parse(message) else {
            return false;
        };
        view.via_count() == 0
            && view.destination_count() == 1
            && matches!(view.first_destination(), Ok(Some(Destination::Node(id))) if id == self.id || id == NodeId::WILDCARD)
    }

    /// Routes or delivers one message that arrived on link `li` (§6.1).
    fn handle_message(&mut self, now: Time, li: usize, bytes: &[u8]) {
        let view = match HeaderView::parse(bytes) {
            Ok(v) => v,
            Err(_) => {
                self.stats.malformed += 1;
                return;
            }
        };
        if view.overlay != self.config.overlay {
            self.stats.dropped += 1;
            return;
        }
        if !self.check_header(now, li, &view) {
            return;
        }
        match self.route_decision(&view) {
            Decision::Deliver => {
                if self.check_config_sequence(now, li, &view) {
                    self.deliver(now, li, bytes, view.header_len());
                }
            }
            Decision::Forward { pop } => self.forward(now, li, &view, pop),
            Decision::Malformed => self.stats.malformed += 1,
            Decision::NoRoute => self.stats.no_route += 1,
            Decision::Drop => self.stats.dropped += 1,
        }
    }

    /// Forwards a message toward its destination, popping `pop` entries first, appending
    /// the previous hop to the Via List and decrementing the TTL (§6.1.2, §6.3.2).
    fn forward(&mut self, now: Time, li: usize, view: &HeaderView<'_>, pop: usize) {
        let Some(prev) = self.links.peer(li) else {
            self.stats.unknown_link += 1;
            return;
        };
        if self.refuses_forwarding_options(now, li, view) {
            return;
        }
        if view.ttl == 0 {
            self.stats.ttl_exceeded += 1;
            self.answer_ttl_exceeded(now, li, view);
            return;
        }
        let target = if pop == 0 {
            view.first_destination().ok().flatten()
        } else {
            view.destination_list()
                .ok()
                .and_then(|l| l.into_iter().nth(pop))
        };
        let Some(target) = target else {
            self.stats.malformed += 1;
            return;
        };
        let Some(out) = self.route_link(&target) else {
            self.stats.no_route += 1;
            return;
        };
        let via = Destination::Node(prev);
        let mut message = Vec::with_capacity(view.bytes().len() + 18);
        if view
            .forward_into(
                ForwardEdit {
                    pop_destinations: pop,
                    push_via: Some(&via),
                    decrement_ttl: true,
                },
                &mut message,
            )
            .is_err()
        {
            self.stats.dropped += 1;
            return;
        }
        self.stats.forwarded += 1;
        self.send_on_link(now, out, message);
    }

    /// Answers a request that ran out of TTL with Error_TTL_Exceeded (§6.3.2).
    fn answer_ttl_exceeded(&mut self, now: Time, li: usize, view: &HeaderView<'_>) {
        self.answer_error(now, li, view, error_code::TTL_EXCEEDED, "TTL exceeded");
    }

    /// Decodes, verifies and dispatches a message addressed to this node.
    pub(super) fn deliver(&mut self, now: Time, li: usize, bytes: &[u8], header_len: usize) {
        if self.takes_fragment(now, li, bytes) {
            return;
        }
        let msg = match Message::decode_with(bytes, &self.config.kinds) {
            Ok(m) => m,
            Err(e) => {
                self.refuse_undecodable(now, li, bytes, e);
                return;
            }
        };
        let Some(who) = self.verify_signature(bytes, &msg, header_len) else {
            self.stats.bad_signature += 1;
            return;
        };
        let signer = who.node_id;
        let direct = msg.header.via_list.is_empty();
        let mut li = li;
        if direct {
            match self.links.peer(li) {
                None => self.links.set_peer(li, Some(signer)),
                // A link still being set up for the node an Attach named (§6.5.1.11: the
                // certificate "MUST match the node which sent the AttachReqAns, and if it
                // does not, the connection MUST be closed").
                Some(p) if p != signer && self.links.get(li).authenticated() => {
                    // The signer is not the node the link's certificate names.
                    let addr = self.links.addr(li);
                    self.links.remove(li);
                    self.forget(now, p);
                    self.stats.dropped += 1;
                    self.closes.push_back(addr);
                    return;
                }
                Some(p) if p != signer && self.links.get(li).state() != LinkState::Up => {
                    self.links.remove(li);
                    self.stats.dropped += 1;
                    return;
                }
                // An up link is bound to its peer's identity (§6.4.2.1 channel binding):
                // another signer's message over it is refused, except a new handshake,
                // which on a real transport is a new (D)TLS connection with its own
                // certificate (a node restarted at that address). Then the old peer is
                // forgotten and the new link is bound to the new signer.
                Some(p) if p != signer && is_handshake(&msg, self.id) => {
                    let addr = self.links.addr(li);
                    li = self.rebind_link(now, addr, p, signer);
                    // The Attach this node made before its handshake asked for an Update.
                    if let Some(i) = self
                        .rare()
                        .rebinding
                        .iter()
                        .position(|(a, s, _)| *a == addr && *s == signer)
                    {
                        let (_, _, send_update) = self.rare_mut().rebinding.remove(i);
                        self.links.get_mut(li).update_when_up = if send_update {
                            crate::proto::link::OwedUpdate::Full
                        } else if self.state == NodeState::Joined {
                            crate::proto::link::OwedUpdate::PeerReady
                        } else {
                            crate::proto::link::OwedUpdate::Nothing
                        };
                    }
                }
                Some(p) if p != signer => {
                    self.stats.dropped += 1;
                    return;
                }
                Some(_) => {}
            }
        }
        if self.refuses_contents(now, li, &msg, signer) {
            return;
        }
        self.stats.delivered += 1;
        let code = msg.contents.body.code();
        if is_request(code) {
            if direct {
                if self.links.get(li).state() == LinkState::Expecting {
                    self.link_up(now, li);
                } else {
                    self.links.get_mut(li).set_peer_uses();
                }
            }
            if self.answer_duplicate(now, li, &msg, signer) {
                return;
            }
            self.handle_request(now, li, msg, who);
        } else {
            self.handle_answer(now, Some(li), msg, signer);
        }
    }

    /// A message addressed here did not decode. A request naming a Kind whose data model
    /// we do not know (a StoreReq's values cannot be read without it) is answered with
    /// Error_Unknown_Kind listing that Kind (§7.4.1.2; decoding stops at the first one), so
    /// its sender can send us the definition (node/config_update.rs) and is counted as
    /// `dropped`; anything else is `malformed`. The answer is sent before the signature
    /// is checked, as the header checks' errors are (inbound.rs).
    fn refuse_undecodable(&mut self, now: Time, li: usize, bytes: &[u8], e: DecodeError) {
        let DecodeErrorKind::UnknownKind(kind) = e.kind else {
            self.stats.malformed += 1;
            return;
        };
        self.stats.dropped += 1;
        if let (Ok(view), Ok(error)) = (
            HeaderView::parse(bytes),
            ErrorResponse::unknown_kinds(&[KindId(kind)]),
        ) {
            self.answer_error_response(now, li, &view, error);
        }
    }

    /// The signer of `msg` (decoded from `bytes`, whose forwarding header is `header_len`
    /// bytes), if its signature verifies (§6.3.4: over overlay ‖ transaction id ‖
    /// MessageContents ‖ SignerIdentity).
    pub(super) fn verify_signature(
        &self,
        bytes: &[u8],
        msg: &Message,
        header_len: usize,
    ) -> Option<SignerInfo> {
        let contents_end = header_len + msg.contents.encoded_len();
        let input = message_signature_input(
            self.config.overlay,
            msg.header.transaction_id.0,
            bytes.get(header_len..contents_end)?,
            &msg.security.signature.identity,
        )
        .ok()?;
        if let Some(c) = super::rare::injected(&self.rare)
            && !msg.security.certificates.is_empty()
        {
            c.learn(&msg.security.certificates);
        }
        verifier_of(super::rare::injected(&self.rare)).verify(&msg.security.signature, &input)
    }

    /// A link finished its handshake.
    pub(super) fn link_up(&mut self, now: Time, li: usize) {
        let link = self.links.get_mut(li);
        link.mark_up();
        let owed = std::mem::take(&mut link.update_when_up);
        if let Some(peer) = self.links.peer(li) {
            self.send_owed_update(now, peer, owed);
        }
    }
}

/// True if `msg` is a link handshake to `me`: a Ping straight from its signer (no via
/// list) to `me` or the wildcard, the stand-in for a No-ICE link's (D)TLS handshake.
fn is_handshake(msg: &Message, me: NodeId) -> bool {
    matches!(msg.contents.body, Body::PingReq(_))
        && msg.header.via_list.is_empty()
        && matches!(
            msg.header.destination_list.as_slice(),
            [Destination::Node(id)] if *id == me || *id == NodeId::WILDCARD
        )
}

//! Building, signing and routing outgoing messages.

use rand::RngExt;

use super::Node;
use crate::proto::chord::routing::next_hop_where;
use crate::proto::config::Addr;
use crate::proto::event::{CallError, Event, RequestError};
use crate::proto::id::{NodeId, TransactionId};
use crate::proto::identity::{Signer, encode_signed};
use crate::proto::transaction::{Pending, Purpose};
use crate::proto::wire::codec::Wire;
use crate::proto::wire::header::ForwardingOption;
use crate::proto::wire::message::code;
use crate::proto::wire::{
    Body, Destination, ForwardingHeader, HeaderView, Message, MessageContents,
};
use crate::time::Time;

impl Node {
    /// A fresh, non-zero transaction id not in use by a pending request.
    pub(super) fn new_txid(&mut self) -> TransactionId {
        loop {
            let id = TransactionId(self.rng.draw(|r| r.random::<u64>()));
            if id.0 != 0 && !self.txns.contains(id) {
                return id;
            }
        }
    }

    /// Encodes and signs a message (§6.3.4): the signature covers overlay ‖ transaction id ‖
    /// MessageContents ‖ SignerIdentity.
    pub(super) fn build(
        &self,
        txid: TransactionId,
        destinations: Vec<Destination>,
        body: Body,
    ) -> Option<Vec<u8>> {
        self.build_as(&self.crypto(), txid, destinations, body)
    }

    /// [`Node::build`] for a response, carrying `options` (the request's RESPONSE_COPY
    /// options, flags cleared: §6.3.2.3).
    pub(super) fn build_response(
        &self,
        txid: TransactionId,
        destinations: Vec<Destination>,
        options: Vec<ForwardingOption>,
        body: Body,
    ) -> Option<Vec<u8>> {
        self.build_signed(&self.crypto(), txid, destinations, options, body)
    }

    /// [`Node::build`] signed by `signer`: one of this node's certificates.
    pub(super) fn build_as(
        &self,
        signer: &dyn Signer,
        txid: TransactionId,
        destinations: Vec<Destination>,
        body: Body,
    ) -> Option<Vec<u8>> {
        self.build_signed(signer, txid, destinations, Vec::new(), body)
    }

    /// The one message builder: initial TTL, this overlay's configuration sequence (65535
    /// on a ConfigUpdate request, which §6.3.2.1 makes every receiver accept whatever its
    /// own sequence: config_update.rs), forwarding `options`, signed by `signer`.
    fn build_signed(
        &self,
        signer: &dyn Signer,
        txid: TransactionId,
        destinations: Vec<Destination>,
        options: Vec<ForwardingOption>,
        body: Body,
    ) -> Option<Vec<u8>> {
        let sequence = match body {
            Body::ConfigUpdateReq(_) => u16::MAX,
            _ => self.config.configuration_sequence,
        };
        let mut header = ForwardingHeader::new(self.config.overlay, sequence, txid, destinations);
        header.ttl = self.config.initial_ttl;
        header.options = options;
        encode_signed(signer, &header, &MessageContents::new(body)).ok()
    }

    /// The link a message addressed to `first` leaves on: a direct link to a Node-ID
    /// destination, else the CHORD-RELOAD next hop (§10.3). A Resource-ID equal to the
    /// Node-ID of a connected, joined peer goes to that peer, which is responsible for it
    /// (§10.3: "directly connected to a node with Node-ID k … MUST route the message to
    /// that node"); a client is not, as it is responsible for nothing.
    pub(super) fn route_link(&self, first: &Destination) -> Option<usize> {
        let key = match first {
            Destination::Node(id) => {
                // Straight to a connected destination, unless that link is suspect: then
                // around it through the overlay.
                if let Some(li) = self
                    .links
                    .by_peer(*id)
                    .filter(|li| !self.links.get(*li).suspect())
                {
                    return Some(li);
                }
                *id
            }
            Destination::Resource(r) => {
                let k = r.ring_position()?;
                if let Some(li) = self.links.by_peer(k).filter(|li| {
                    let l = self.links.get(*li);
                    l.ready() && !l.suspect()
                }) {
                    return Some(li);
                }
                k
            }
            _ => return None,
        };
        let joined = self.state == crate::proto::event::NodeState::Joined;
        // A slot whose peer is unknown fails `is_up`, asked of any candidate it would pick.
        let candidates = self.links.peer_slots().map(|(li, p)| (p, li));
        next_hop_where(self.id, key, candidates, |li| {
            let l = self.links.get(li);
            l.is_up() && !l.suspect() && if joined { l.routing() } else { l.ready() }
        })
    }

    /// Sends `message` on link `li`.
    pub(super) fn send_on_link(&mut self, now: Time, li: usize, message: Vec<u8>) {
        let Node {
            links,
            config,
            outbox,
            ..
        } = self;
        let to = links.addr(li);
        if !links.get_mut(li).send(now, to, message, config, outbox) {
            self.stats.dropped += 1;
        }
    }

    /// Sends an originated message: straight to `direct`, or routed by its first entry.
    fn dispatch(
        &mut self,
        now: Time,
        message: Vec<u8>,
        first: &Destination,
        direct: Option<Addr>,
    ) -> bool {
        let li = match direct {
            Some(a) => self.links.by_addr(a),
            None => self.route_link(first),
        };
        match li {
            Some(li) => {
                self.send_on_link(now, li, message);
                true
            }
            None => false,
        }
    }

    /// Starts a request with a new transaction id.
    pub(super) fn start_request(
        &mut self,
        now: Time,
        destinations: Vec<Destination>,
        body: Body,
        purpose: Purpose,
        direct: Option<Addr>,
    ) -> Result<TransactionId, RequestError> {
        let txid = self.new_txid();
        let signer = self.crypto();
        self.start_request_as(now, &signer, txid, destinations, body, purpose, direct)
    }

    /// Starts request `txid` signed by `signer` (one of this node's certificates), tracked
    /// for end-to-end retransmission.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start_request_as(
        &mut self,
        now: Time,
        signer: &dyn Signer,
        txid: TransactionId,
        destinations: Vec<Destination>,
        body: Body,
        purpose: Purpose,
        direct: Option<Addr>,
    ) -> Result<TransactionId, RequestError> {
        let first = destinations.first().cloned().ok_or(RequestError::NoRoute)?;
        let (to, key) = match destinations.last() {
            Some(Destination::Node(n)) if *n != NodeId::WILDCARD => (Some(*n), None),
            Some(Destination::Resource(r)) => (None, r.ring_position()),
            _ => (None, None),
        };
        let destinations_len = destinations.len();
        let message = self
            .build_as(signer, txid, destinations, body)
            .ok_or(RequestError::NoRoute)?;
        let mut pending = Pending {
            id: txid,
            purpose,
            message: Vec::new(),
            first,
            to,
            key,
            direct,
            sends: 1,
            deadline: now + self.config.reliability_timer,
            started: now,
        };
        if direct.is_none()
            && destinations_len == 1
            && self.serves_locally(&pending.first, &pending.purpose)
        {
            self.txns.insert(pending);
            self.serve_local_request(now, &message);
            return Ok(txid);
        }
        let sent = self.dispatch(now, message.clone(), &pending.first, direct);
        if !sent && direct.is_some() {
            return Err(RequestError::NoRoute);
        }
        // Unsent (no route yet) requests are still tracked: the retransmission timer tries
        // again, which lets a request ride out a moment without routes.
        pending.message = message;
        self.txns.insert(pending);
        Ok(txid)
    }

    /// Retransmits or fails requests whose timer expired (§6.2.1).
    pub(super) fn retransmit_due(&mut self, now: Time) {
        for mut p in self.txns.due(now) {
            if p.sends >= self.config.request_sends {
                self.request_failed(now, p.id, p.purpose, RequestError::Timeout);
                continue;
            }
            p.sends += 1;
            p.deadline = now + self.config.reliability_timer;
            self.stats.request_retransmits += 1;
            self.dispatch(now, p.message.clone(), &p.first.clone(), p.direct);
            self.txns.insert(p);
        }
    }

    /// The Destination List of an answer to `request`, arrived on link `li`: the previous
    /// hop (the link's peer) ‖ reversed Via List (§6.2.2, §6.3.2.2).
    fn answer_route(&self, li: usize, request: &Message) -> Option<Vec<Destination>> {
        let prev = self.links.peer(li)?;
        let mut dest = Vec::with_capacity(request.header.via_list.len() + 1);
        dest.push(Destination::Node(prev));
        dest.extend(request.header.via_list.iter().rev().cloned());
        Some(dest)
    }

    /// Sends an answer to a request that arrived on link `li` from `prev` (the link's
    /// peer): Destination List = [prev] ‖ reversed Via List (§6.2.2). Cached for duplicates.
    pub(super) fn send_answer(
        &mut self,
        now: Time,
        li: usize,
        request: &Message,
        origin: NodeId,
        body: Body,
    ) {
        let Some(dest) = self.answer_route(li, request) else {
            self.stats.dropped += 1;
            return;
        };
        let txid = request.header.transaction_id;
        let copied = super::options::response_copies(&request.header.options);
        let Some(message) = self
            .build_response(txid, dest.clone(), copied, body)
            .and_then(|m| self.fit_response_length(request, &dest, m))
        else {
            return;
        };
        // Answers to idempotent requests are regenerated for duplicates (semantically
        // equivalent, §6.2.1); only those that change state (Store, ConfigUpdate) are kept
        // for the window.
        let code = request.contents.body.code();
        if matches!(code, code::STORE_REQ | code::CONFIG_UPDATE_REQ)
            && let Ok(view) = HeaderView::parse(&message)
        {
            self.answers.get_or_insert_with(Box::default).insert(
                now,
                txid,
                origin,
                now + self.config.duplicate_window,
                view.payload(),
            );
        }
        self.send_on_link(now, li, message);
    }

    /// Answers a duplicate of `request` from the answer cache, if the original was
    /// answered within the duplicate window (§6.2.1). The cached signed part is sent with
    /// a Forwarding Header for the duplicate's own path (§6.1.2): a retransmission that
    /// came another way (the first path failed) is answered back along the way it came.
    pub(super) fn answer_duplicate(
        &mut self,
        now: Time,
        li: usize,
        request: &Message,
        origin: NodeId,
    ) -> bool {
        let txid = request.header.transaction_id;
        let Some(dest) = self.answer_route(li, request) else {
            return false;
        };
        let Some(payload) = self.answers.as_mut().and_then(|a| a.get(now, txid, origin)) else {
            return false;
        };
        let mut header = ForwardingHeader::new(
            self.config.overlay,
            self.config.configuration_sequence,
            txid,
            dest,
        );
        header.ttl = self.config.initial_ttl;
        let mut message = Vec::with_capacity(header.encoded_len() + payload.len());
        if header
            .encode_with_body_len(payload.len(), &mut message)
            .is_err()
        {
            return false;
        }
        message.extend_from_slice(payload);
        self.stats.duplicate_requests += 1;
        self.send_on_link(now, li, message);
        true
    }

    /// A request finished without a usable answer.
    pub(super) fn request_failed(
        &mut self,
        now: Time,
        id: TransactionId,
        purpose: Purpose,
        why: RequestError,
    ) {
        match purpose {
            Purpose::Command => self.events.push_back(Event::RequestDone {
                request: id,
                outcome: Err(why),
            }),
            Purpose::Register { aor } => self.events.push_back(Event::Registered {
                aor,
                request: id,
                outcome: Err(why),
            }),
            Purpose::CallFetch { call } => {
                self.call_step_failed(now, call, CallError::Fetch(why));
            }
            Purpose::CallAttach { call, .. } => {
                self.call_step_failed(now, call, CallError::Attach(why));
            }
            other => self.internal_request_failed(now, other),
        }
    }
}

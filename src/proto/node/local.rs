//! Requests this node is itself responsible for: answered by the node without a hop.
//!
//! A request's first destination may be this node: a Resource-ID in its own range (a
//! one-peer overlay owns the whole ring; in a larger one about 1/N of the keys) or its own
//! Node-ID (a call to a user this node hosts). There is no link to send it on, and routing
//! it away would only bring it back: the node answers it the way it answers the same
//! request from another node, and takes the answer as if it had arrived (§6.1: a message
//! whose destination is this node is "delivered" here). Only requests of the local
//! application (commands, registrations, calls) take this path; the overlay's own
//! maintenance never addresses itself.

use super::Node;
use crate::proto::event::Event;
use crate::proto::transaction::Purpose;
use crate::proto::wire::codec::Wire;
use crate::proto::wire::error_response::{ErrorResponse, error_code};
use crate::proto::wire::topology::PingAns;
use crate::proto::wire::{Body, Destination, Message};
use crate::time::Time;

impl Node {
    /// True if a request for `first` started for `purpose` is answered by this node.
    pub(super) fn serves_locally(&self, first: &Destination, purpose: &Purpose) -> bool {
        let application = matches!(
            purpose,
            Purpose::Command
                | Purpose::Register { .. }
                | Purpose::CallFetch { .. }
                | Purpose::CallAttach { .. }
        );
        application
            && match first {
                Destination::Resource(r) => {
                    r.ring_position().is_some_and(|k| self.is_responsible(k))
                }
                Destination::Node(id) => *id == self.id,
                _ => false,
            }
    }

    /// Answers `request` (this node's own, signed bytes) here and acts on the answer as on
    /// one that arrived: the request is served with 0 hops.
    pub(super) fn serve_local_request(&mut self, now: Time, request: &[u8]) {
        let Some((msg, who)) = self.open_own(request) else {
            self.stats.dropped += 1;
            return;
        };
        let txid = msg.header.transaction_id;
        self.events.push_back(Event::RequestServed {
            origin: who.node_id,
            transaction: txid,
            hops: 0,
            code: msg.contents.body.code(),
        });
        let body =
            self.answer_storage(now, &msg, who)
                .unwrap_or_else(|| match &msg.contents.body {
                    Body::PingReq(_) => Body::PingAns(PingAns {
                        response_id: 0,
                        time: now.as_millis(),
                    }),
                    Body::AppAttachReq(a) => self.answer_app_attach(a),
                    _ => Body::Error(ErrorResponse::new(
                        error_code::FORBIDDEN,
                        "method not offered by this peer",
                    )),
                });
        let answer = self
            .build(txid, vec![Destination::Node(self.id)], body)
            .and_then(|bytes| self.open_own(&bytes));
        match answer {
            Some((msg, who)) => self.handle_answer(now, None, msg, who.node_id),
            None => self.stats.dropped += 1,
        }
    }

    /// Decodes and verifies a message this node signed.
    fn open_own(&self, bytes: &[u8]) -> Option<(Message, crate::proto::identity::SignerInfo)> {
        let msg = Message::decode_with(bytes, &self.config.kinds).ok()?;
        let who = self.verify_signature(bytes, &msg, msg.header.encoded_len())?;
        Some((msg, who))
    }
}

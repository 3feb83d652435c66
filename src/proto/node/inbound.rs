//! What a node does with a message that arrived, before it is forwarded or delivered: the
//! header checks of §6.3.2, §6.6 and §13.6.5, the routing decision of §6.1.1, and the
//! error answers they send.
//!
//! Only requests get error answers, back along the reversed Via List as any answer
//! (§6.2.2). A refused answer is dropped and counted in [`NodeStats`](crate::proto::stats::NodeStats).

use super::Node;
use crate::proto::id::NodeId;
use crate::proto::wire::error_response::{ErrorResponse, error_code};
use crate::proto::wire::message::is_request;
use crate::proto::wire::{Body, Destination, HeaderView};
use crate::time::Time;

/// The routing decision for a message that passed the header checks (§6.1).
#[derive(Debug)]
pub(super) enum Decision {
    /// This node is the destination.
    Deliver,
    /// Send it on toward the Destination List entry `pop` (after removing the `pop`
    /// entries before it, which name this node).
    Forward { pop: usize },
    /// The Destination List breaks a rule (empty, undecodable, a Resource-ID that is not
    /// the last entry): counted as `malformed`.
    Malformed,
    /// A Node-ID in this node's range that is not connected: counted as `no_route`.
    NoRoute,
    /// Nothing this node can route on (an opaque id, a Resource-ID off the ring): counted
    /// as `dropped`.
    Drop,
}

impl Node {
    /// Header checks at receipt, before the routing decision. Returns false when the
    /// message was refused: counted, and a request answered with an error.
    ///
    /// - §6.6: larger than `max-message-size` → Error_Message_Too_Large (counted as
    ///   `dropped`). The RFC also says to close the (D)TLS session; the link is kept.
    /// - §6.3.2: a TTL above `initial-ttl` → discarded with Error_TTL_Exceeded (counted as
    ///   `ttl_exceeded`).
    /// - §13.6.5: duplicate Destination List entries (a source-routed loop) →
    ///   Error_Invalid_Message (counted as `malformed`). Answers are checked too: an
    ///   answer retracing a request that looped is dropped rather than sent round the loop.
    pub(super) fn check_header(&mut self, now: Time, li: usize, view: &HeaderView<'_>) -> bool {
        let refused = if view.bytes().len() > self.config.max_message_size {
            self.stats.dropped += 1;
            Some((
                error_code::MESSAGE_TOO_LARGE,
                "message larger than max-message-size",
            ))
        } else if view.ttl > self.config.initial_ttl {
            self.stats.ttl_exceeded += 1;
            Some((error_code::TTL_EXCEEDED, "TTL above initial-ttl"))
        } else if view.has_duplicate_destinations() {
            self.stats.malformed += 1;
            Some((
                error_code::INVALID_MESSAGE,
                "duplicate Destination List entries",
            ))
        } else {
            None
        };
        match refused {
            Some((code, info)) => {
                self.answer_error(now, li, view, code, info);
                false
            }
            None => true,
        }
    }

    /// The routing decision of §6.1.1: leading entries that name this node (its Node-ID,
    /// or the wildcard Node-ID, which is consumed here and never forwarded) are popped,
    /// and the decision is repeated on the next entry. The message is delivered when the
    /// list runs out on such an entry, or ends on a Resource-ID this node is responsible
    /// for.
    pub(super) fn route_decision(&self, view: &HeaderView<'_>) -> Decision {
        let count = view.destination_count();
        for (i, entry) in view.destinations().enumerate() {
            let last = i + 1 == count;
            let Ok(entry) = entry else {
                return Decision::Malformed;
            };
            match entry {
                Destination::Node(id) if id == self.id || id == NodeId::WILDCARD => {
                    if last {
                        return Decision::Deliver;
                    }
                }
                Destination::Resource(r) => {
                    return match r.ring_position() {
                        // A Resource-ID must be the last entry (§6.3.2.2).
                        Some(k) if self.is_responsible(k) && last => Decision::Deliver,
                        Some(k) if self.is_responsible(k) => Decision::Malformed,
                        Some(_) => Decision::Forward { pop: i },
                        None => Decision::Drop,
                    };
                }
                // A Node-ID in our range that is not us: deliver only to a directly
                // connected node (a client); otherwise that node is gone and the message
                // is dropped (§6.1.1), rather than looping until its TTL runs out.
                Destination::Node(id)
                    if self.is_responsible(id) && self.links.by_peer(id).is_none() =>
                {
                    return Decision::NoRoute;
                }
                Destination::Node(_) => return Decision::Forward { pop: i },
                _ => return Decision::Drop,
            }
        }
        Decision::Malformed
    }

    /// Answers the request in `view`, which arrived on link `li`, with error `code`: to
    /// the previous hop, then the reversed Via List (§6.2.2). Sends nothing for answers, a
    /// later fragment, or a link whose peer is not known.
    pub(super) fn answer_error(
        &mut self,
        now: Time,
        li: usize,
        view: &HeaderView<'_>,
        code: u16,
        info: &str,
    ) {
        if !view.message_code().is_some_and(is_request) {
            return;
        }
        let (Some(prev), Ok(via)) = (self.links.get(li).peer, view.via_list()) else {
            return;
        };
        let mut dest = Vec::with_capacity(via.len() + 1);
        dest.push(Destination::Node(prev));
        dest.extend(via.into_iter().rev());
        let body = Body::Error(ErrorResponse::new(code, info));
        if let Some(m) = self.build(view.transaction_id, dest, body) {
            self.send_on_link(now, li, m);
        }
    }
}

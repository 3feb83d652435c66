//! What a node does with a message that arrived, before it is forwarded or delivered: the
//! header checks of §6.3.2, §6.3.2.1, §6.6 and §13.6.5, the routing decision of §6.1.1, the
//! error answers they send, and the §6.3.2 max_response_length limit on answers.
//!
//! Only requests get error answers, back along the reversed Via List as any answer
//! (§6.2.2). A refused answer is dropped and counted in [`NodeStats`](crate::proto::stats::NodeStats).

use super::Node;
use crate::proto::id::NodeId;
use crate::proto::wire::error_response::{ErrorResponse, error_code};
use crate::proto::wire::message::{code, is_request};
use crate::proto::wire::{Body, Destination, HeaderView, Message};
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
    /// - §6.6: a forwarding header alone larger than `max-message-size` → no error, the
    ///   session is closed ("the receiver SHOULD close the TLS or DTLS session without
    ///   sending an error"): the link goes, the driver is told to close it
    ///   (`poll_link_close`), and the tables are rebuilt without the peer (counted as
    ///   `dropped`). Link index `li` is no longer valid after that.
    /// - §6.6: otherwise larger than `max-message-size` → Error_Message_Too_Large (counted
    ///   as `dropped`). The RFC also says to close the (D)TLS session; the link is kept,
    ///   as the sender may have other, well-sized messages in flight on it.
    /// - §6.3.2: a TTL above `initial-ttl` → discarded with Error_TTL_Exceeded (counted as
    ///   `ttl_exceeded`).
    /// - §13.6.5: duplicate Destination List entries (a source-routed loop) →
    ///   Error_Invalid_Message (counted as `malformed`). Requests only: an answer's list
    ///   is the reversed Via List, the path its request took, which repeats an entry
    ///   whenever that route looped while the ring changed; dropping such answers turned
    ///   served requests into timeouts (quickstart join time p99 1.4 s → 4.0 s).
    pub(super) fn check_header(&mut self, now: Time, li: usize, view: &HeaderView<'_>) -> bool {
        if view.header_len() > self.config.max_message_size {
            self.stats.dropped += 1;
            self.close_session(now, li);
            return false;
        }
        let refused = if view.bytes().len() > self.config.max_message_size {
            self.stats.dropped += 1;
            Some((
                error_code::MESSAGE_TOO_LARGE,
                "message larger than max-message-size",
            ))
        } else if view.ttl > self.config.initial_ttl {
            self.stats.ttl_exceeded += 1;
            Some((error_code::TTL_EXCEEDED, "TTL above initial-ttl"))
        } else if is_request_view(view) && view.has_duplicate_destinations() {
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

    /// §6.3.2.1: a request delivered here must carry this node's configuration sequence;
    /// otherwise it is answered with Error_Config_Too_Old (the sender's is older) or
    /// Error_Config_Too_New (newer), and counted as `dropped`. 0 is an ordinary value, not
    /// a wildcard; 65535 is accepted only on a ConfigUpdate. Answers are not checked.
    ///
    /// A sender whose configuration is too old also gets a ConfigUpdate with our document
    /// (node/config_update.rs, bounded per sender). The request is refused before it is
    /// decoded (it may name Kinds of a configuration we do not know), so the sender is the
    /// one its header names: the first Via List entry, or the link's peer when the Via
    /// List is empty.
    pub(super) fn check_config_sequence(
        &mut self,
        now: Time,
        li: usize,
        view: &HeaderView<'_>,
    ) -> bool {
        // Later fragments carry no message code; the first fragment was checked.
        let Some(message_code) = view.message_code().filter(|c| is_request(*c)) else {
            return true;
        };
        let theirs = view.configuration_sequence;
        let ours = self.config.configuration_sequence;
        if theirs == ours || (theirs == u16::MAX && message_code == code::CONFIG_UPDATE_REQ) {
            return true;
        }
        self.stats.dropped += 1;
        if config_newer(theirs, ours) {
            let info = "configuration sequence too new";
            self.answer_error(now, li, view, error_code::CONFIG_TOO_NEW, info);
            return false;
        }
        let info = "configuration sequence too old";
        self.answer_error(now, li, view, error_code::CONFIG_TOO_OLD, info);
        let origin = match view.via_list().ok().and_then(|v| v.into_iter().next()) {
            Some(Destination::Node(id)) => Some((id, false)),
            Some(_) => None,
            None => self.links.peer(li).map(|id| (id, true)),
        };
        if let Some((origin, direct)) = origin {
            self.push_config(now, li, origin, direct);
        }
        false
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
        self.answer_error_response(now, li, view, ErrorResponse::new(code, info));
    }

    /// [`Node::answer_error`] with a whole ErrorResponse (a structured `error_info`).
    pub(super) fn answer_error_response(
        &mut self,
        now: Time,
        li: usize,
        view: &HeaderView<'_>,
        error: ErrorResponse,
    ) {
        if !is_request_view(view) {
            return;
        }
        let (Some(prev), Ok(via)) = (self.links.peer(li), view.via_list()) else {
            return;
        };
        let mut dest = Vec::with_capacity(via.len() + 1);
        dest.push(Destination::Node(prev));
        dest.extend(via.into_iter().rev());
        if let Some(m) = self.build(view.transaction_id, dest, Body::Error(error)) {
            self.send_on_link(now, li, m);
        }
    }

    /// §6.3.2: an answer longer than the request's nonzero `max_response_length` is
    /// replaced by Error_Response_Too_Large (reload-spec.md Ambiguities #5: the RFC text
    /// names Error_Incompatible_with_Overlay, but 0x0E is defined for exactly this). The
    /// error is sent even if it is itself longer than the limit: it is the shortest
    /// answer there is. `prev` is the hop the request came from.
    pub(super) fn fit_response_length(
        &self,
        request: &Message,
        dest: &[Destination],
        answer: Vec<u8>,
    ) -> Option<Vec<u8>> {
        let limit = request.header.max_response_length as usize;
        if limit == 0 || answer.len() <= limit {
            return Some(answer);
        }
        let body = Body::Error(ErrorResponse::new(
            error_code::RESPONSE_TOO_LARGE,
            "answer longer than max_response_length",
        ));
        self.build(request.header.transaction_id, dest.to_vec(), body)
    }
}

/// True if `view` starts a request (a whole message or its first fragment).
fn is_request_view(view: &HeaderView<'_>) -> bool {
    view.message_code().is_some_and(is_request)
}

/// True if configuration sequence `a` is newer than `b`. Both count modulo 65535 and
/// compare as TCP sequence numbers do (§6.3.2.1): `a` is newer when it lies 1..=32767
/// ahead of `b`. 65535, outside that space, counts as newer than any other value.
pub(super) fn config_newer(a: u16, b: u16) -> bool {
    const SPACE: u32 = 65535;
    match (a, b) {
        (u16::MAX, _) => a != b,
        (_, u16::MAX) => false,
        _ => {
            let ahead = (u32::from(a) + SPACE - u32::from(b)) % SPACE;
            (1..=SPACE / 2).contains(&ahead)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::config_newer;

    #[test]
    fn configuration_sequences_compare_modulo_65535() {
        assert!(config_newer(2, 1));
        assert!(!config_newer(1, 2));
        assert!(!config_newer(7, 7));
        // After 65534 comes 0 (§6.3.2.1).
        assert!(config_newer(0, 65534));
        assert!(!config_newer(65534, 0));
        assert!(config_newer(32768, 1));
        assert!(!config_newer(32769, 1));
        assert!(config_newer(u16::MAX, 3));
        assert!(!config_newer(3, u16::MAX));
    }
}

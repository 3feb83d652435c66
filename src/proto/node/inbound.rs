//! What a node does with a message that arrived, before it is forwarded or delivered: the
//! header checks of §6.3.2, §6.6 and §13.6.5, and the error answers they send.
//!
//! Only requests get error answers, back along the reversed Via List as any answer
//! (§6.2.2). A refused answer is dropped and counted in [`NodeStats`](crate::proto::stats::NodeStats).

use super::Node;
use crate::proto::wire::error_response::{ErrorResponse, error_code};
use crate::proto::wire::message::is_request;
use crate::proto::wire::{Body, Destination, HeaderView};
use crate::time::Time;

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

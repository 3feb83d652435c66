//! Forwarding options (RFC 6940 §6.3.2.3) and message extensions (§6.3.3) this peer does
//! not understand.
//!
//! This peer implements no forwarding option type, so every option is unknown to it:
//! - FORWARD_CRITICAL on a request it would forward, or DESTINATION_CRITICAL on a request
//!   it answers → Error_Unsupported_Forwarding_Option. The flags MUST NOT be set in a
//!   response; a response that carries FORWARD_CRITICAL cannot be refused with an error
//!   and is dropped (counted `malformed`).
//! - RESPONSE_COPY → the option is copied into every response this peer generates, with
//!   the three flags cleared.
//!
//! Message extensions: this peer "understands" an extension only if it acts on it, and it
//! acts on none. Diagnostic_Ping (RFC 7851) and self_tuning_data (RFC 7363) are decoded
//! by the codec but not acted on (no diagnostics are collected, no self-tuning estimates
//! are kept); both RFCs require their senders to mark them non-critical, so a conforming
//! sender is never refused. A request carrying any extension with `critical = True` gets
//! Error_Unknown_Extension; an answer carrying one cannot be processed as its sender
//! requires and is dropped (counted `malformed`). Non-critical extensions are ignored, as
//! §6.3.3 allows.

use super::Node;
use crate::proto::wire::error_response::{ErrorResponse, error_code};
use crate::proto::wire::header::{ForwardingOption, HeaderView, OptionRef, option_flags};
use crate::proto::wire::message::is_request;
use crate::proto::wire::{Body, Destination, Message};
use crate::time::Time;

/// The options a response carries for a request with `options`: those flagged
/// RESPONSE_COPY, with RESPONSE_COPY, FORWARD_CRITICAL and DESTINATION_CRITICAL cleared
/// (§6.3.2.3).
pub(super) fn response_copies(options: &[ForwardingOption]) -> Vec<ForwardingOption> {
    options
        .iter()
        .filter(|o| o.flags & option_flags::RESPONSE_COPY != 0)
        .map(|o| ForwardingOption {
            flags: o.flags & !ALL_FLAGS,
            ..o.clone()
        })
        .collect()
}

const ALL_FLAGS: u8 = option_flags::FORWARD_CRITICAL
    | option_flags::DESTINATION_CRITICAL
    | option_flags::RESPONSE_COPY;

/// What the options of a message hold for one flag.
enum Flagged {
    /// No option has the flag.
    No,
    /// An option with the flag: its type.
    Yes(u8),
    /// The options list does not parse.
    Malformed,
}

fn first_flagged(view: &HeaderView<'_>, flag: u8) -> Flagged {
    for o in view.option_refs() {
        match o {
            Ok(o) if o.has(flag) => return Flagged::Yes(o.option_type),
            Ok(_) => {}
            Err(_) => return Flagged::Malformed,
        }
    }
    Flagged::No
}

impl Node {
    /// At a forwarding peer (§6.3.2.3): refuses a message with a FORWARD_CRITICAL option,
    /// answering a request with Error_Unsupported_Forwarding_Option. True if refused. A
    /// message without options costs one length check.
    pub(super) fn refuses_forwarding_options(
        &mut self,
        now: Time,
        li: usize,
        view: &HeaderView<'_>,
    ) -> bool {
        let option_type = match first_flagged(view, option_flags::FORWARD_CRITICAL) {
            Flagged::No => return false,
            Flagged::Malformed => {
                self.stats.malformed += 1;
                return true;
            }
            Flagged::Yes(t) => t,
        };
        // Only a first (or only) fragment starts with the message code.
        let first_fragment = view.fragment & 0x00ff_ffff == 0;
        let code_at = view.header_len();
        let is_req = first_fragment
            && view
                .bytes()
                .get(code_at..code_at + 2)
                .is_some_and(|c| is_request(u16::from_be_bytes([c[0], c[1]])));
        let (true, Some(prev), Ok(via)) = (is_req, self.links.peer(li), view.via_list()) else {
            self.stats.malformed += 1;
            return true;
        };
        let mut dest = vec![Destination::Node(prev)];
        dest.extend(via.into_iter().rev());
        let options: Vec<ForwardingOption> = view
            .option_refs()
            .filter_map(Result::ok)
            .map(|o: OptionRef<'_>| o.to_option())
            .collect();
        let body = Body::Error(unsupported_option(option_type));
        let copied = response_copies(&options);
        if let Some(m) = self.build_response(view.transaction_id, dest, copied, body) {
            self.send_on_link(now, li, m);
        }
        true
    }

    /// At the destination, after the signature verified: refuses a request this peer
    /// cannot process as asked: a DESTINATION_CRITICAL forwarding option (§6.3.2.3) →
    /// Error_Unsupported_Forwarding_Option, a critical extension (§6.3.3) →
    /// Error_Unknown_Extension. Drops an answer with a critical extension. True if refused.
    pub(super) fn refuses_contents(
        &mut self,
        now: Time,
        li: usize,
        msg: &Message,
        signer: crate::proto::id::NodeId,
    ) -> bool {
        let request = is_request(msg.contents.body.code());
        let option = msg
            .header
            .options
            .iter()
            .find(|o| o.flags & option_flags::DESTINATION_CRITICAL != 0);
        let error = if let (true, Some(o)) = (request, option) {
            unsupported_option(o.option_type)
        } else if let Some(e) = msg.contents.extensions.iter().find(|e| e.critical) {
            if !request {
                self.stats.malformed += 1;
                return true;
            }
            ErrorResponse::new(
                error_code::UNKNOWN_EXTENSION,
                &format!("extension type {} is not supported", e.ext_type),
            )
        } else {
            return false;
        };
        self.send_answer(now, li, msg, signer, Body::Error(error));
        true
    }
}

fn unsupported_option(option_type: u8) -> ErrorResponse {
    ErrorResponse::new(
        error_code::UNSUPPORTED_FORWARDING_OPTION,
        &format!("forwarding option type {option_type} is not supported"),
    )
}

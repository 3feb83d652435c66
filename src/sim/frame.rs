//! Peeking at frame bytes without decoding them: the kind of frame and the RELOAD message
//! code (RFC 6940 §6.6.2, §6.3.2, §6.3.3), for per-message-type metrics.

use crate::proto::wire::framing::{DATA_HEADER_LEN, FRAME_ACK, FRAME_DATA};
use crate::proto::wire::header::FIXED_HEADER_LEN;
use crate::proto::wire::message::code_name;

/// What a datagram is, as far as metrics care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// A data frame whose message code could be read.
    Data(u16),
    /// A data frame too short or too odd to read a message code from.
    DataUnreadable,
    /// An ack frame.
    Ack,
    /// Anything else.
    Other,
}

/// Classifies one datagram (one frame).
pub fn classify(frame: &[u8]) -> FrameKind {
    match frame.first() {
        Some(&FRAME_ACK) => FrameKind::Ack,
        Some(&FRAME_DATA) => frame
            .get(DATA_HEADER_LEN..)
            .and_then(message_code)
            .map_or(FrameKind::DataUnreadable, FrameKind::Data),
        _ => FrameKind::Other,
    }
}

/// The message code of a RELOAD message: the u16 right after the forwarding header and its
/// via list, destination list and options, whose lengths sit at bytes 32..38.
pub fn message_code(msg: &[u8]) -> Option<u16> {
    let u16_at = |at: usize| -> Option<usize> {
        let b = msg.get(at..at + 2)?;
        Some(usize::from(u16::from_be_bytes([b[0], b[1]])))
    };
    let at = FIXED_HEADER_LEN + u16_at(32)? + u16_at(34)? + u16_at(36)?;
    u16_at(at).map(|c| c as u16)
}

/// Every message code with an RFC name, in code order: the fixed metric columns.
pub fn known_codes() -> Vec<u16> {
    (0..=0x00ffu16)
        .chain(std::iter::once(0xffff))
        .filter(|&c| code_name(c).is_some())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::wire::examples::all_messages;
    use crate::proto::wire::framing::Frame;

    #[test]
    fn reads_the_code_of_every_example_message() {
        for (name, m) in all_messages() {
            let bytes = m.to_bytes().unwrap();
            let mut framed = Vec::new();
            Frame::Data {
                sequence: 9,
                message: &bytes,
            }
            .encode(&mut framed)
            .unwrap();
            assert_eq!(
                classify(&framed),
                FrameKind::Data(m.contents.body.code()),
                "{name}"
            );
        }
        assert_eq!(classify(&[0x81, 0, 0, 0, 1, 0, 0, 0, 0]), FrameKind::Ack);
        assert_eq!(classify(&[0x80, 0, 0]), FrameKind::DataUnreadable);
    }

    #[test]
    fn known_codes_include_error() {
        let k = known_codes();
        assert!(k.contains(&0xffff) && k.contains(&0x17));
    }
}

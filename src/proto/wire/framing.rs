//! Per-hop framing (RFC 6940 §6.6.2): `FramedMessage` data and ack frames.

use super::codec::{Reader, put_len};
use super::error::{DecodeError, DecodeErrorKind, EncodeError};

/// `data(128)`.
pub const FRAME_DATA: u8 = 0x80;
/// `ack(129)`.
pub const FRAME_ACK: u8 = 0x81;
/// Bytes before the message in a data frame: type, sequence, 24-bit length.
pub const DATA_HEADER_LEN: usize = 8;
/// Bytes of an ack frame.
pub const ACK_LEN: usize = 9;

/// A decoded frame; a data frame borrows its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// `data`: `uint32 sequence; opaque message<0..2^24-1>`.
    Data {
        /// Per-connection sequence number; retransmissions get new ones.
        sequence: u32,
        /// The RELOAD message.
        message: &'a [u8],
    },
    /// `ack`: `uint32 ack_sequence; uint32 received`.
    Ack {
        /// The sequence number acknowledged.
        ack_sequence: u32,
        /// Bit 0x80000000 ↔ ack_sequence − 32 … bit 0x1 ↔ ack_sequence − 1 (Wireshark's
        /// reading of "the N−M bit", reload-spec.md §15 item 6).
        received: u32,
    },
}

impl<'a> Frame<'a> {
    /// Decodes exactly one frame filling `bytes`.
    pub fn decode(bytes: &'a [u8]) -> Result<Frame<'a>, DecodeError> {
        let mut r = Reader::new(bytes);
        let f = Self::decode_from(&mut r)?;
        r.finish("FramedMessage")?;
        Ok(f)
    }

    /// Decodes one frame from a stream, leaving the rest in `r`.
    pub fn decode_from(r: &mut Reader<'a>) -> Result<Frame<'a>, DecodeError> {
        let at = r.offset();
        match r.u8("FramedMessage.type")? {
            FRAME_DATA => Ok(Frame::Data {
                sequence: r.u32("FramedMessage.sequence")?,
                message: r.opaque(3, "FramedMessage.message")?,
            }),
            FRAME_ACK => Ok(Frame::Ack {
                ack_sequence: r.u32("FramedMessage.ack_sequence")?,
                received: r.u32("FramedMessage.received")?,
            }),
            t => Err(DecodeError {
                what: "FramedMessage.type",
                offset: at,
                kind: DecodeErrorKind::InvalidValue(t.into()),
            }),
        }
    }

    /// Encoded size.
    pub fn encoded_len(&self) -> usize {
        match self {
            Frame::Data { message, .. } => DATA_HEADER_LEN + message.len(),
            Frame::Ack { .. } => ACK_LEN,
        }
    }

    /// Appends the frame to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Frame::Data { sequence, message } => {
                out.push(FRAME_DATA);
                out.extend_from_slice(&sequence.to_be_bytes());
                put_len(out, 3, message.len(), "FramedMessage.message")?;
                out.extend_from_slice(message);
            }
            Frame::Ack {
                ack_sequence,
                received,
            } => {
                out.push(FRAME_ACK);
                out.extend_from_slice(&ack_sequence.to_be_bytes());
                out.extend_from_slice(&received.to_be_bytes());
            }
        }
        Ok(())
    }
}

/// The `received` mask for an ack of `ack_sequence`, given which of the 32 previous
/// sequence numbers were seen.
pub fn received_mask(ack_sequence: u32, seen: impl IntoIterator<Item = u32>) -> u32 {
    let mut mask = 0;
    for m in seen {
        let back = ack_sequence.wrapping_sub(m);
        if (1..=32).contains(&back) {
            mask |= 1u32 << (back - 1);
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let msg = [0xd2, 0x45, 0x4c, 0x4f];
        let f = Frame::Data {
            sequence: 7,
            message: &msg,
        };
        let mut out = Vec::new();
        f.encode(&mut out).unwrap();
        assert_eq!(out, [0x80, 0, 0, 0, 7, 0, 0, 4, 0xd2, 0x45, 0x4c, 0x4f]);
        assert_eq!(Frame::decode(&out).unwrap(), f);
        let a = Frame::Ack {
            ack_sequence: 9,
            received: received_mask(9, [8, 1]),
        };
        let mut out = Vec::new();
        a.encode(&mut out).unwrap();
        assert_eq!(out, [0x81, 0, 0, 0, 9, 0, 0, 0, 0x81]);
        assert_eq!(Frame::decode(&out).unwrap(), a);
        assert!(Frame::decode(&[0x82]).is_err());
        assert!(Frame::decode(&[0x80, 0, 0, 0, 0, 0, 0, 5, 1]).is_err());
    }
}

//! Cutting a stream transport's bytes into FramedMessage frames (RFC 6940 §6.6.2): over
//! TLS or TCP the framing header is what delimits messages. A data frame is its 8-byte
//! header (type 128, sequence, 24-bit length) and the message; an ack is 9 bytes.

use crate::proto::wire::framing::{ACK_LEN, DATA_HEADER_LEN, FRAME_ACK, FRAME_DATA};

/// Why a stream can no longer be read: the link is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// A frame type other than data (128) or ack (129): the stream is out of step.
    #[error("unknown frame type {0:#04x}")]
    FrameType(u8),
    /// A data frame longer than the configuration's max-message-size (§6.6: the session
    /// is closed).
    #[error("a {0}-byte message, more than max-message-size")]
    TooLarge(usize),
}

/// Bytes read from a stream that do not yet make a whole frame.
#[derive(Debug)]
pub struct FrameSplitter {
    buf: Vec<u8>,
    max_message: usize,
}

impl FrameSplitter {
    /// A splitter refusing messages longer than `max_message` bytes.
    pub fn new(max_message: usize) -> FrameSplitter {
        FrameSplitter {
            buf: Vec::new(),
            max_message,
        }
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, `Ok(None)` until more bytes arrive, or the error that ends
    /// the stream. A data frame's length is checked as soon as its header is in, so an
    /// oversized message is refused before it is read (§6.6).
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, StreamError> {
        let Some(&kind) = self.buf.first() else {
            return Ok(None);
        };
        let len = match kind {
            FRAME_ACK => ACK_LEN,
            FRAME_DATA => {
                if self.buf.len() < DATA_HEADER_LEN {
                    return Ok(None);
                }
                let body = usize::from(self.buf[5]) << 16
                    | usize::from(self.buf[6]) << 8
                    | usize::from(self.buf[7]);
                if body > self.max_message {
                    return Err(StreamError::TooLarge(body));
                }
                DATA_HEADER_LEN + body
            }
            other => return Err(StreamError::FrameType(other)),
        };
        if self.buf.len() < len {
            return Ok(None);
        }
        let rest = self.buf.split_off(len);
        Ok(Some(std::mem::replace(&mut self.buf, rest)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::wire::framing::Frame;

    fn data(seq: u32, message: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Frame::Data {
            sequence: seq,
            message,
        }
        .encode(&mut out)
        .unwrap();
        out
    }

    #[test]
    fn frames_are_cut_whatever_the_read_boundaries() {
        let mut stream = data(0, b"hello");
        Frame::Ack {
            ack_sequence: 7,
            received: 3,
        }
        .encode(&mut stream)
        .unwrap();
        stream.extend(data(1, &[9; 300]));
        for chunk in [1, 2, 5, 8, 9, 64, stream.len()] {
            let mut s = FrameSplitter::new(5000);
            let mut frames = Vec::new();
            for piece in stream.chunks(chunk) {
                s.push(piece);
                while let Some(f) = s.next_frame().unwrap() {
                    frames.push(f);
                }
            }
            assert_eq!(frames.concat(), stream, "chunks of {chunk}");
            assert_eq!(frames.len(), 3);
            assert!(matches!(
                Frame::decode(&frames[1]),
                Ok(Frame::Ack {
                    ack_sequence: 7,
                    ..
                })
            ));
        }
    }

    #[test]
    fn bad_streams_end_with_an_error() {
        let mut s = FrameSplitter::new(100);
        s.push(&data(0, &[0; 101])[..8]);
        assert_eq!(s.next_frame(), Err(StreamError::TooLarge(101)));
        let mut s = FrameSplitter::new(100);
        s.push(&[0x42, 0, 0]);
        assert_eq!(s.next_frame(), Err(StreamError::FrameType(0x42)));
    }
}

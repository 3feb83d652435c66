//! Splitting input into messages: bare messages, FramedMessage streams and pcap captures.

use std::net::SocketAddr;

use crate::pcap::{self, CaptureError, Transport};
use crate::proto::wire::codec::Reader;
use crate::proto::wire::framing::{FRAME_ACK, FRAME_DATA, Frame};
use crate::proto::wire::header::RELO_TOKEN;
use crate::proto::wire::storage::{DataModel, KindId, KindTable};
use crate::proto::wire::{DecodeError, ForwardingHeader, Message, Wire};

/// Why the input as a whole cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The capture file is unreadable.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The bytes are neither a RELOAD message nor FramedMessage frames.
    #[error(
        "input starts with {0:#04x}: neither a RELOAD message (d2454c4f…) nor a FramedMessage (0x80 data, 0x81 ack)"
    )]
    Unrecognized(u8),
    /// Nothing to decode.
    #[error("input is empty")]
    Empty,
}

/// Where a message came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// pcap packet number (1-based), if from a capture.
    pub packet: Option<usize>,
    /// Capture time, ns since the Unix epoch.
    pub time_ns: Option<u64>,
    /// Sender and receiver.
    pub addrs: Option<(SocketAddr, SocketAddr)>,
    /// `"udp"` or `"tcp"`.
    pub transport: Option<&'static str>,
}

/// One decoded unit: a message (possibly framed), a fragment, an ack, or an error.
#[derive(Clone, Debug)]
pub struct Item {
    /// Where it came from.
    pub origin: Origin,
    /// The FramedMessage around it, if any.
    pub frame: Option<FrameInfo>,
    /// Byte length of the RELOAD message (0 for acks).
    pub length: usize,
    /// What was found.
    pub content: Content,
}

/// The framing of an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameInfo {
    /// A data frame.
    Data {
        /// Sequence number.
        sequence: u32,
    },
    /// An ack frame.
    Ack {
        /// Acknowledged sequence number.
        ack_sequence: u32,
        /// Bitmask of the 32 previous sequence numbers.
        received: u32,
    },
}

/// The decoded content of an [`Item`].
#[derive(Clone, Debug)]
pub enum Content {
    /// A whole message.
    Message(Box<Message>),
    /// One fragment of a larger message (§6.7); only the header is decoded.
    Fragment(Box<ForwardingHeader>),
    /// An ack frame carries no message.
    Ack,
    /// The bytes do not decode.
    Error(DecodeError),
}

impl Item {
    /// True if this item failed to decode.
    pub fn is_error(&self) -> bool {
        matches!(self.content, Content::Error(_))
    }
}

/// Parses `ID=MODEL` (for example `0xf0000001=dictionary`) into a Kind table entry.
pub fn parse_kind_spec(spec: &str, table: &mut KindTable) -> Result<(), String> {
    let (id, model) = spec
        .split_once('=')
        .ok_or_else(|| format!("--kind {spec:?}: expected ID=MODEL, e.g. 0xf0000001=dictionary"))?;
    let id = id.trim();
    let parsed = match id.strip_prefix("0x") {
        Some(h) => u32::from_str_radix(h, 16),
        None => id.parse(),
    };
    let kind = parsed.map_err(|_| format!("--kind {spec:?}: {id:?} is not a 32-bit Kind-ID"))?;
    let model = match model.trim().to_ascii_lowercase().as_str() {
        "single" | "single_value" => DataModel::Single,
        "array" => DataModel::Array,
        "dictionary" | "dict" => DataModel::Dictionary,
        other => {
            return Err(format!(
                "--kind {spec:?}: unknown data model {other:?} (single, array or dictionary)"
            ));
        }
    };
    table.insert(KindId(kind), model);
    Ok(())
}

fn decode_message(bytes: &[u8], kinds: &KindTable) -> Content {
    let mut r = Reader::new(bytes);
    match ForwardingHeader::decode(&mut r) {
        Ok(h) if !h.is_whole() && h.length as usize == bytes.len() => {
            Content::Fragment(Box::new(h))
        }
        _ => match Message::decode_with(bytes, kinds) {
            Ok(m) => Content::Message(Box::new(m)),
            Err(e) => Content::Error(e),
        },
    }
}

/// Decodes raw input: one bare RELOAD message, or a stream of FramedMessage frames.
pub fn decode_bytes(bytes: &[u8], kinds: &KindTable) -> Result<Vec<Item>, InputError> {
    decode_payload(bytes, kinds, Origin::default())
}

fn decode_payload(
    bytes: &[u8],
    kinds: &KindTable,
    origin: Origin,
) -> Result<Vec<Item>, InputError> {
    let first = *bytes.first().ok_or(InputError::Empty)?;
    if bytes.len() >= 4
        && u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) == RELO_TOKEN
    {
        return Ok(vec![Item {
            origin,
            frame: None,
            length: bytes.len(),
            content: decode_message(bytes, kinds),
        }]);
    }
    if first != FRAME_DATA && first != FRAME_ACK {
        return Err(InputError::Unrecognized(first));
    }
    let mut items = Vec::new();
    let mut r = Reader::new(bytes);
    while !r.is_empty() {
        match Frame::decode_from(&mut r) {
            Ok(Frame::Data { sequence, message }) => items.push(Item {
                origin: origin.clone(),
                frame: Some(FrameInfo::Data { sequence }),
                length: message.len(),
                content: decode_message(message, kinds),
            }),
            Ok(Frame::Ack {
                ack_sequence,
                received,
            }) => items.push(Item {
                origin: origin.clone(),
                frame: Some(FrameInfo::Ack {
                    ack_sequence,
                    received,
                }),
                length: 0,
                content: Content::Ack,
            }),
            Err(e) => {
                items.push(Item {
                    origin: origin.clone(),
                    frame: None,
                    length: 0,
                    content: Content::Error(e),
                });
                break;
            }
        }
    }
    Ok(items)
}

/// Decodes every RELOAD frame in a classic pcap capture on `port` (UDP datagrams, and TCP
/// streams reassembled in capture order per direction). A capture that ends inside a
/// packet record gives the items of the complete packets before it and where it was cut.
pub fn decode_pcap(
    file: &[u8],
    port: u16,
    kinds: &KindTable,
) -> Result<(Vec<Item>, Option<pcap::Cut>), InputError> {
    let mut items = Vec::new();
    let mut streams: Vec<((SocketAddr, SocketAddr), Vec<u8>)> = Vec::new();
    let (packets, cut) = pcap::read_complete_packets(file, port)?;
    for p in packets {
        let origin = Origin {
            packet: Some(p.number),
            time_ns: Some(p.timestamp_ns),
            addrs: Some((p.src, p.dst)),
            transport: Some(match p.transport {
                Transport::Udp => "udp",
                Transport::Tcp => "tcp",
            }),
        };
        match p.transport {
            Transport::Udp => match decode_payload(&p.payload, kinds, origin.clone()) {
                Ok(found) => items.extend(found),
                Err(InputError::Empty) => {}
                Err(e) => items.push(Item {
                    origin,
                    frame: None,
                    length: 0,
                    content: Content::Error(unrecognized(e)),
                }),
            },
            Transport::Tcp => {
                let key = (p.src, p.dst);
                let idx = match streams.iter().position(|(k, _)| *k == key) {
                    Some(i) => i,
                    None => {
                        streams.push((key, Vec::new()));
                        streams.len() - 1
                    }
                };
                let buf = &mut streams[idx].1;
                buf.extend_from_slice(&p.payload);
                let used = drain_stream(buf, kinds, &origin, &mut items);
                buf.drain(..used);
            }
        }
    }
    Ok((items, cut))
}

fn unrecognized(e: InputError) -> DecodeError {
    let first = match e {
        InputError::Unrecognized(b) => b,
        _ => 0,
    };
    DecodeError {
        what: "FramedMessage.type",
        offset: 0,
        kind: crate::proto::wire::DecodeErrorKind::InvalidValue(first.into()),
    }
}

/// Decodes the complete frames at the front of a TCP byte stream; returns bytes consumed.
fn drain_stream(buf: &[u8], kinds: &KindTable, origin: &Origin, items: &mut Vec<Item>) -> usize {
    let mut at = 0;
    loop {
        let rest = &buf[at..];
        let need = match rest {
            [FRAME_DATA, _, _, _, _, a, b, c, ..] => {
                8 + u32::from_be_bytes([0, *a, *b, *c]) as usize
            }
            [FRAME_ACK, ..] => 9,
            [] => return at,
            [FRAME_DATA, ..] => return at,
            [other, ..] => {
                items.push(Item {
                    origin: origin.clone(),
                    frame: None,
                    length: 0,
                    content: Content::Error(unrecognized(InputError::Unrecognized(*other))),
                });
                return buf.len();
            }
        };
        if rest.len() < need {
            return at;
        }
        match decode_payload(&rest[..need], kinds, origin.clone()) {
            Ok(found) => items.extend(found),
            Err(e) => items.push(Item {
                origin: origin.clone(),
                frame: None,
                length: 0,
                content: Content::Error(unrecognized(e)),
            }),
        }
        at += need;
    }
}

//! The forwarding header (RFC 6940 §6.3.2) and the forwarding fast path.
//!
//! [`ForwardingHeader`] is the owned, typed header. [`HeaderView`] reads the same bytes
//! without allocating, and [`HeaderView::forward_into`] rewrites a message for the next hop
//! (TTL, popped destinations, one more Via entry) by copying the body once.

use serde::Serialize;
use std::ops::Range;

use crate::proto::id::TransactionId;

use super::codec::{Reader, Wire, decode_all, list_len, put_len};
use super::destination::{Destination, entry_len};
use super::error::{DecodeError, DecodeErrorKind, EncodeError};

/// `relo_token`: "RELO" with the high bit of the first byte set.
pub const RELO_TOKEN: u32 = 0xd245_4c4f;
/// Protocol version of RFC 6940 (×10).
pub const VERSION: u8 = 0x0a;
/// Version byte used by pre-RFC drafts; accepted when decoding.
pub const VERSION_DRAFT: u8 = 0x01;
/// Bytes in the fixed part of the forwarding header.
pub const FIXED_HEADER_LEN: usize = 38;
/// `fragment` bit 31: always set.
pub const FRAGMENT_FLAG: u32 = 0x8000_0000;
/// `fragment` bit 30: last fragment.
pub const LAST_FRAGMENT_FLAG: u32 = 0x4000_0000;
/// `fragment` of an unfragmented message.
pub const UNFRAGMENTED: u32 = FRAGMENT_FLAG | LAST_FRAGMENT_FLAG;
/// Default and maximum initial TTL (§6.3.2).
pub const DEFAULT_TTL: u8 = 100;

/// `ForwardingOption` flags (§6.3.2.3).
pub mod option_flags {
    /// Unknown at a forwarding peer → Error_Unsupported_Forwarding_Option.
    pub const FORWARD_CRITICAL: u8 = 0x01;
    /// Unknown at the responder → Error_Unsupported_Forwarding_Option.
    pub const DESTINATION_CRITICAL: u8 = 0x02;
    /// Copy the option into the response, flags cleared.
    pub const RESPONSE_COPY: u8 = 0x04;
}

/// `struct { uint8 type; uint8 flags; uint16 length; opaque value[length]; }` (§6.3.2.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ForwardingOption {
    /// Option type (0 invalid, 1 exp-forward).
    pub option_type: u8,
    /// See [`option_flags`].
    pub flags: u8,
    /// Option value.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
    pub value: Vec<u8>,
}

impl Wire for ForwardingOption {
    fn encoded_len(&self) -> usize {
        4 + self.value.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.option_type);
        out.push(self.flags);
        put_len(out, 2, self.value.len(), "ForwardingOption.value")?;
        out.extend_from_slice(&self.value);
        Ok(())
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let option_type = r.u8("ForwardingOption.type")?;
        let flags = r.u8("ForwardingOption.flags")?;
        let value = r.opaque(2, "ForwardingOption.value")?.to_vec();
        Ok(ForwardingOption {
            option_type,
            flags,
            value,
        })
    }
}

/// One forwarding option, borrowed from the message bytes (§6.3.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionRef<'a> {
    /// Option type.
    pub option_type: u8,
    /// See [`option_flags`].
    pub flags: u8,
    /// Option value.
    pub value: &'a [u8],
}

impl OptionRef<'_> {
    /// True if any of the `flags` bits is set.
    pub fn has(&self, flags: u8) -> bool {
        self.flags & flags != 0
    }

    /// The owned option.
    pub fn to_option(&self) -> ForwardingOption {
        ForwardingOption {
            option_type: self.option_type,
            flags: self.flags,
            value: self.value.to_vec(),
        }
    }
}

/// The forwarding options of a message, read in place: no allocation. Yields one
/// `Err` and stops if an option overruns the options list.
#[derive(Clone, Debug)]
pub struct OptionRefs<'a> {
    bytes: &'a [u8],
    at: usize,
    base: usize,
}

impl<'a> Iterator for OptionRefs<'a> {
    type Item = Result<OptionRef<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.bytes.get(self.at..).filter(|r| !r.is_empty())?;
        let value_len = rest
            .get(2..4)
            .map(|l| u16::from_be_bytes([l[0], l[1]]) as usize);
        let Some(value) = value_len.and_then(|n| rest.get(4..4 + n)) else {
            let offset = self.base + self.at;
            self.at = self.bytes.len();
            return Some(Err(DecodeError {
                what: "ForwardingOption",
                offset,
                kind: DecodeErrorKind::Invalid("option overruns the options list"),
            }));
        };
        self.at += 4 + value.len();
        Some(Ok(OptionRef {
            option_type: rest[0],
            flags: rest[1],
            value,
        }))
    }
}

/// The forwarding header (§6.3.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ForwardingHeader {
    /// Low 32 bits of SHA-1(overlay name).
    #[serde(serialize_with = "crate::proto::wire::codec::ser_hex32")]
    pub overlay: u32,
    /// Sequence number of the sender's configuration document (§6.3.2.1).
    pub configuration_sequence: u16,
    /// Protocol version ×10: [`VERSION`].
    pub version: u8,
    /// Hops left.
    pub ttl: u8,
    /// Bit 31 always set, bit 30 last fragment, bits 23..0 byte offset.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_hex32")]
    pub fragment: u32,
    /// Bytes of this message (or fragment), header included. Set by the encoder.
    pub length: u32,
    /// Transaction id.
    pub transaction_id: TransactionId,
    /// Largest answer the requester accepts, in bytes (0 = no limit).
    pub max_response_length: u32,
    /// Via List: the path so far.
    pub via_list: Vec<Destination>,
    /// Destination List: where to go.
    pub destination_list: Vec<Destination>,
    /// Forwarding options.
    pub options: Vec<ForwardingOption>,
}

impl ForwardingHeader {
    /// An unfragmented header with TTL 100, no via entries and no options.
    pub fn new(
        overlay: u32,
        configuration_sequence: u16,
        transaction_id: TransactionId,
        destination_list: Vec<Destination>,
    ) -> Self {
        ForwardingHeader {
            overlay,
            configuration_sequence,
            version: VERSION,
            ttl: DEFAULT_TTL,
            fragment: UNFRAGMENTED,
            length: 0,
            transaction_id,
            max_response_length: 0,
            via_list: Vec::new(),
            destination_list,
            options: Vec::new(),
        }
    }

    /// True unless this is one piece of a fragmented message (§6.7).
    pub fn is_whole(&self) -> bool {
        self.fragment & 0x00ff_ffff == 0 && self.fragment & LAST_FRAGMENT_FLAG != 0
    }

    /// Encodes the header with `length` set to `header + body_len`.
    pub fn encode_with_body_len(
        &self,
        body_len: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let total = self.encoded_len() + body_len;
        if total > u32::MAX as usize {
            return Err(EncodeError::TooLong {
                what: "Message",
                len: total,
                max: u32::MAX as usize,
            });
        }
        out.extend_from_slice(&RELO_TOKEN.to_be_bytes());
        out.extend_from_slice(&self.overlay.to_be_bytes());
        out.extend_from_slice(&self.configuration_sequence.to_be_bytes());
        out.push(self.version);
        out.push(self.ttl);
        out.extend_from_slice(&self.fragment.to_be_bytes());
        out.extend_from_slice(&(total as u32).to_be_bytes());
        out.extend_from_slice(&self.transaction_id.0.to_be_bytes());
        out.extend_from_slice(&self.max_response_length.to_be_bytes());
        put_len(
            out,
            2,
            list_len(&self.via_list),
            "ForwardingHeader.via_list",
        )?;
        put_len(
            out,
            2,
            list_len(&self.destination_list),
            "ForwardingHeader.destination_list",
        )?;
        put_len(out, 2, list_len(&self.options), "ForwardingHeader.options")?;
        for d in self.via_list.iter().chain(&self.destination_list) {
            d.encode(out)?;
        }
        for o in &self.options {
            o.encode(out)?;
        }
        Ok(())
    }
}

impl Wire for ForwardingHeader {
    fn encoded_len(&self) -> usize {
        FIXED_HEADER_LEN
            + list_len(&self.via_list)
            + list_len(&self.destination_list)
            + list_len(&self.options)
    }

    /// Encodes the header alone, keeping `length` as it is.
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        self.encode_with_body_len(0, out)?;
        out[start + 16..start + 20].copy_from_slice(&self.length.to_be_bytes());
        Ok(())
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let f = Fixed::decode(r)?;
        let via_list = decode_all(r.sub(f.via_len, "ForwardingHeader.via_list")?)?;
        let destination_list = decode_all(r.sub(f.dest_len, "ForwardingHeader.destination_list")?)?;
        let options = decode_all(r.sub(f.options_len, "ForwardingHeader.options")?)?;
        Ok(ForwardingHeader {
            overlay: f.overlay,
            configuration_sequence: f.configuration_sequence,
            version: f.version,
            ttl: f.ttl,
            fragment: f.fragment,
            length: f.length,
            transaction_id: f.transaction_id,
            max_response_length: f.max_response_length,
            via_list,
            destination_list,
            options,
        })
    }
}

/// The fixed 38 bytes, validated.
struct Fixed {
    overlay: u32,
    configuration_sequence: u16,
    version: u8,
    ttl: u8,
    fragment: u32,
    length: u32,
    transaction_id: TransactionId,
    max_response_length: u32,
    via_len: usize,
    dest_len: usize,
    options_len: usize,
}

impl Fixed {
    fn decode(r: &mut Reader<'_>) -> Result<Fixed, DecodeError> {
        let start = r.offset();
        let token = r.u32("ForwardingHeader.relo_token")?;
        if token != RELO_TOKEN {
            return Err(DecodeError {
                what: "ForwardingHeader.relo_token",
                offset: start,
                kind: DecodeErrorKind::InvalidValue(token.into()),
            });
        }
        let overlay = r.u32("ForwardingHeader.overlay")?;
        let configuration_sequence = r.u16("ForwardingHeader.configuration_sequence")?;
        let at = r.offset();
        let version = r.u8("ForwardingHeader.version")?;
        if version != VERSION && version != VERSION_DRAFT {
            return Err(DecodeError {
                what: "ForwardingHeader.version",
                offset: at,
                kind: DecodeErrorKind::InvalidValue(version.into()),
            });
        }
        let ttl = r.u8("ForwardingHeader.ttl")?;
        let at = r.offset();
        let fragment = r.u32("ForwardingHeader.fragment")?;
        if fragment & FRAGMENT_FLAG == 0 {
            return Err(DecodeError {
                what: "ForwardingHeader.fragment",
                offset: at,
                kind: DecodeErrorKind::Invalid("bit 31 must be set"),
            });
        }
        let at = r.offset();
        let length = r.u32("ForwardingHeader.length")?;
        let transaction_id = TransactionId(r.u64("ForwardingHeader.transaction_id")?);
        let max_response_length = r.u32("ForwardingHeader.max_response_length")?;
        let via_len = r.u16("ForwardingHeader.via_list_length")? as usize;
        let dest_len = r.u16("ForwardingHeader.destination_list_length")? as usize;
        let options_len = r.u16("ForwardingHeader.options_length")? as usize;
        if (length as usize) < FIXED_HEADER_LEN + via_len + dest_len + options_len {
            return Err(DecodeError {
                what: "ForwardingHeader.length",
                offset: at,
                kind: DecodeErrorKind::Invalid("shorter than the header it describes"),
            });
        }
        Ok(Fixed {
            overlay,
            configuration_sequence,
            version,
            ttl,
            fragment,
            length,
            transaction_id,
            max_response_length,
            via_len,
            dest_len,
            options_len,
        })
    }
}

/// A zero-copy view of a message's forwarding header, for routing decisions.
#[derive(Clone, Debug, Serialize)]
pub struct HeaderView<'a> {
    bytes: &'a [u8],
    /// Time to live.
    pub ttl: u8,
    /// `overlay` field.
    pub overlay: u32,
    /// `configuration_sequence` field.
    pub configuration_sequence: u16,
    /// `fragment` field.
    pub fragment: u32,
    /// Transaction id.
    pub transaction_id: TransactionId,
    /// Largest answer the requester accepts, in bytes (0 = no limit).
    pub max_response_length: u32,
    via: Range<usize>,
    dest: Range<usize>,
    options: Range<usize>,
}

/// What a forwarding peer changes in a message before sending it on.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ForwardEdit<'d> {
    /// Destination List entries to remove from the front (our own Node-ID, §6.1.1).
    pub pop_destinations: usize,
    /// Entry to append to the Via List (the previous hop, §6.1.2).
    pub push_via: Option<&'d Destination>,
    /// Decrement the TTL by one (done just before sending, §6.3.2).
    pub decrement_ttl: bool,
}

impl<'a> HeaderView<'a> {
    /// Parses the fixed header and locates the lists. `bytes` must be the whole message:
    /// `length` has to match it.
    pub fn parse(bytes: &'a [u8]) -> Result<HeaderView<'a>, DecodeError> {
        let mut r = Reader::new(bytes);
        let f = Fixed::decode(&mut r)?;
        if f.length as usize != bytes.len() {
            return Err(DecodeError {
                what: "ForwardingHeader.length",
                offset: 16,
                kind: DecodeErrorKind::Invalid("differs from the message size"),
            });
        }
        let via = FIXED_HEADER_LEN..FIXED_HEADER_LEN + f.via_len;
        let dest = via.end..via.end + f.dest_len;
        let options = dest.end..dest.end + f.options_len;
        for range in [&via, &dest] {
            let mut at = range.start;
            while at < range.end {
                match entry_len(&bytes[at..range.end]) {
                    Some(n) => at += n,
                    None => {
                        return Err(DecodeError {
                            what: "Destination",
                            offset: at,
                            kind: DecodeErrorKind::Invalid("entry overruns its list"),
                        });
                    }
                }
            }
        }
        Ok(HeaderView {
            bytes,
            ttl: f.ttl,
            overlay: f.overlay,
            configuration_sequence: f.configuration_sequence,
            fragment: f.fragment,
            transaction_id: f.transaction_id,
            max_response_length: f.max_response_length,
            via,
            dest,
            options,
        })
    }

    /// The whole message.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Encoded size of the header, lists included.
    pub fn header_len(&self) -> usize {
        self.options.end
    }

    /// The bytes after the header: MessageContents and SecurityBlock (or a fragment of them).
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[self.options.end..]
    }

    /// Raw Via List bytes.
    pub fn via_bytes(&self) -> &'a [u8] {
        &self.bytes[self.via.clone()]
    }

    /// Raw Destination List bytes.
    pub fn destination_bytes(&self) -> &'a [u8] {
        &self.bytes[self.dest.clone()]
    }

    /// Raw options bytes.
    pub fn options_bytes(&self) -> &'a [u8] {
        &self.bytes[self.options.clone()]
    }

    /// Number of Destination List entries.
    pub fn destination_count(&self) -> usize {
        count_entries(self.destination_bytes())
    }

    /// Number of Via List entries.
    pub fn via_count(&self) -> usize {
        count_entries(self.via_bytes())
    }

    /// The first Destination List entry, decoded.
    pub fn first_destination(&self) -> Result<Option<Destination>, DecodeError> {
        let mut r = Reader::with_base(self.destination_bytes(), self.dest.start);
        if r.is_empty() {
            Ok(None)
        } else {
            Destination::decode(&mut r).map(Some)
        }
    }

    /// The Destination List entries in order, decoded one at a time without collecting
    /// them; a bad entry ends the iteration with its error.
    pub fn destinations(&self) -> impl Iterator<Item = Result<Destination, DecodeError>> + 'a {
        let mut r = Reader::with_base(self.destination_bytes(), self.dest.start);
        let mut failed = false;
        std::iter::from_fn(move || {
            if failed || r.is_empty() {
                return None;
            }
            let d = Destination::decode(&mut r);
            failed = d.is_err();
            Some(d)
        })
    }

    /// True if two Destination List entries are the same bytes (§13.6.5 duplicate check).
    /// Short lists (the usual one or two entries) are compared pairwise without
    /// allocating; longer ones are sorted, so a crafted list costs O(n log n), not O(n²).
    pub fn has_duplicate_destinations(&self) -> bool {
        const PAIRWISE_MAX: usize = 8;
        let dest = self.destination_bytes();
        let entries = || {
            let mut at = 0;
            std::iter::from_fn(move || {
                let n = entry_len(&dest[at..])?;
                at += n;
                Some(&dest[at - n..at])
            })
        };
        if entries().nth(PAIRWISE_MAX).is_none() {
            return entries()
                .enumerate()
                .any(|(i, e)| entries().skip(i + 1).any(|later| later == e));
        }
        let mut sorted: Vec<&[u8]> = entries().collect();
        sorted.sort_unstable();
        sorted.windows(2).any(|w| w[0] == w[1])
    }

    /// The `message_code` of the MessageContents, when this message (or fragment) starts
    /// with it: whole messages and first fragments (§6.7). `None` for later fragments or
    /// a body too short to hold one.
    pub fn message_code(&self) -> Option<u16> {
        if self.fragment & 0x00ff_ffff != 0 {
            return None;
        }
        self.payload()
            .get(..2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
    }

    /// Decodes the Via List.
    pub fn via_list(&self) -> Result<Vec<Destination>, DecodeError> {
        decode_all(Reader::with_base(self.via_bytes(), self.via.start))
    }

    /// Decodes the Destination List.
    pub fn destination_list(&self) -> Result<Vec<Destination>, DecodeError> {
        decode_all(Reader::with_base(self.destination_bytes(), self.dest.start))
    }

    /// The forwarding options, read in place (no allocation; O(1) when there are none).
    pub fn option_refs(&self) -> OptionRefs<'a> {
        OptionRefs {
            bytes: self.options_bytes(),
            at: 0,
            base: self.options.start,
        }
    }

    /// Decodes the forwarding options.
    pub fn options(&self) -> Result<Vec<ForwardingOption>, DecodeError> {
        decode_all(Reader::with_base(self.options_bytes(), self.options.start))
    }

    /// Writes the message as it leaves this peer: TTL, Destination and Via Lists edited,
    /// everything else copied byte for byte. Appends to `out`.
    pub fn forward_into(
        &self,
        edit: ForwardEdit<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let dest = self.destination_bytes();
        let mut cut = 0;
        for _ in 0..edit.pop_destinations {
            cut += entry_len(&dest[cut..]).ok_or(EncodeError::Invalid(
                "cannot pop past the end of the destination list",
            ))?;
        }
        let via_extra = edit.push_via.map_or(0, Wire::encoded_len);
        let via_len = self.via.len() + via_extra;
        let dest_len = self.dest.len() - cut;
        if via_len > 0xffff {
            return Err(EncodeError::TooLong {
                what: "ForwardingHeader.via_list",
                len: via_len,
                max: 0xffff,
            });
        }
        let total = self.bytes.len() + via_extra - cut;
        if total > u32::MAX as usize {
            return Err(EncodeError::TooLong {
                what: "Message",
                len: total,
                max: u32::MAX as usize,
            });
        }
        out.reserve(total);
        let b = self.bytes;
        out.extend_from_slice(&b[..11]);
        out.push(if edit.decrement_ttl {
            self.ttl.saturating_sub(1)
        } else {
            self.ttl
        });
        out.extend_from_slice(&b[12..16]);
        out.extend_from_slice(&(total as u32).to_be_bytes());
        out.extend_from_slice(&b[20..32]);
        out.extend_from_slice(&(via_len as u16).to_be_bytes());
        out.extend_from_slice(&(dest_len as u16).to_be_bytes());
        out.extend_from_slice(&b[36..38]);
        out.extend_from_slice(self.via_bytes());
        if let Some(v) = edit.push_via {
            v.encode(out)?;
        }
        out.extend_from_slice(&dest[cut..]);
        out.extend_from_slice(&b[self.options.start..]);
        Ok(())
    }
}

fn count_entries(mut bytes: &[u8]) -> usize {
    let mut n = 0;
    while let Some(len) = entry_len(bytes) {
        bytes = &bytes[len..];
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::id::NodeId;
    use crate::proto::wire::codec::parse_hex;

    fn sample() -> ForwardingHeader {
        let mut h = ForwardingHeader::new(
            0x9aa3_2b8d,
            22,
            TransactionId(0x0102_0304_0506_0708),
            vec![Destination::Node(NodeId(0xaa))],
        );
        h.length = 56;
        h
    }

    /// The example of reload-spec.md §3.1, spelled out field by field.
    #[test]
    fn header_bytes_field_by_field() {
        let expected = parse_hex(concat!(
            "d2454c4f",                               // relo_token
            "9aa32b8d",         // overlay = low 32 bits of SHA-1("overlay.example.org")
            "0016",             // configuration_sequence = 22
            "0a",               // version 1.0
            "64",               // ttl = 100
            "c0000000",         // fragment: always-set bit + last fragment, offset 0
            "00000038",         // length = 56
            "0102030405060708", // transaction_id
            "00000000",         // max_response_length: unlimited
            "0000",             // via_list_length
            "0012",             // destination_list_length = 18
            "0000",             // options_length
            "01 10 000000000000000000000000000000aa", // node destination
        ))
        .unwrap();
        let h = sample();
        assert_eq!(h.to_bytes().unwrap(), expected);
        assert_eq!(ForwardingHeader::from_bytes(&expected).unwrap(), h);
        let v = HeaderView::parse(&expected).unwrap();
        assert_eq!(v.ttl, 100);
        assert_eq!(
            v.first_destination().unwrap(),
            Some(Destination::Node(NodeId(0xaa)))
        );
    }

    #[test]
    fn bad_fixed_fields_are_rejected() {
        let good = sample().to_bytes().unwrap();
        for (i, v) in [(0usize, 0x52u8), (10, 0x02), (12, 0x40)] {
            let mut bad = good.clone();
            bad[i] = v;
            let e = ForwardingHeader::from_bytes(&bad).unwrap_err();
            assert_eq!(e.offset, i, "{e}");
        }
        let mut short = good.clone();
        short[16..20].copy_from_slice(&10u32.to_be_bytes());
        assert!(ForwardingHeader::from_bytes(&short).is_err());
    }

    #[test]
    fn option_refs_read_in_place_and_stop_at_an_overrun() {
        let mut h = sample();
        h.options = vec![
            ForwardingOption {
                option_type: 7,
                flags: option_flags::RESPONSE_COPY,
                value: vec![1, 2, 3],
            },
            ForwardingOption {
                option_type: 8,
                flags: 0,
                value: vec![],
            },
        ];
        let mut msg = Vec::new();
        h.encode_with_body_len(0, &mut msg).unwrap();
        let view = HeaderView::parse(&msg).unwrap();
        let got: Vec<ForwardingOption> =
            view.option_refs().map(|o| o.unwrap().to_option()).collect();
        assert_eq!(got, h.options);
        // The second option claims 0x0100 value bytes that are not there.
        let at = msg.len() - 2;
        msg[at] = 1;
        let view = HeaderView::parse(&msg).unwrap();
        let got: Vec<_> = view.option_refs().collect();
        assert_eq!(got.len(), 2);
        assert!(got[0].is_ok());
        assert_eq!(got[1].as_ref().unwrap_err().offset, msg.len() - 4);
    }

    #[test]
    fn duplicate_destinations_are_found_in_short_and_long_lists() {
        let bytes = |h: &ForwardingHeader| {
            let mut v = Vec::new();
            h.encode_with_body_len(0, &mut v).unwrap();
            v
        };
        for n in [1u128, 2, 8, 9, 300] {
            let mut h = sample();
            h.destination_list = (0..n).map(|i| Destination::Node(NodeId(i))).collect();
            let distinct = bytes(&h);
            assert!(
                !HeaderView::parse(&distinct)
                    .unwrap()
                    .has_duplicate_destinations()
            );
            h.destination_list.push(Destination::Node(NodeId(0)));
            let repeated = bytes(&h);
            assert!(
                HeaderView::parse(&repeated)
                    .unwrap()
                    .has_duplicate_destinations(),
                "{n}"
            );
        }
    }

    #[test]
    fn forward_edit_pops_and_appends() {
        let mut h = sample();
        h.destination_list.insert(0, Destination::Node(NodeId(7)));
        h.via_list.push(Destination::Node(NodeId(1)));
        let body = [0xde, 0xad, 0xbe, 0xef];
        let mut msg = Vec::new();
        h.encode_with_body_len(body.len(), &mut msg).unwrap();
        msg.extend_from_slice(&body);
        let view = HeaderView::parse(&msg).unwrap();
        assert_eq!(view.destination_count(), 2);
        let prev = Destination::Node(NodeId(2));
        let mut out = Vec::new();
        view.forward_into(
            ForwardEdit {
                pop_destinations: 1,
                push_via: Some(&prev),
                decrement_ttl: true,
            },
            &mut out,
        )
        .unwrap();

        let mut want = h.clone();
        want.ttl = 99;
        want.destination_list.remove(0);
        want.via_list.push(prev);
        let mut expected = Vec::new();
        want.encode_with_body_len(body.len(), &mut expected)
            .unwrap();
        expected.extend_from_slice(&body);
        assert_eq!(out, expected);
        assert_eq!(HeaderView::parse(&out).unwrap().payload(), &body);
    }
}

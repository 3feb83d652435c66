//! `Destination` (RFC 6940 §6.3.2.2): one entry of a Via List or Destination List.

use crate::proto::id::{NODE_ID_LEN, NodeId, ResourceId};
use serde::Serialize;

use super::codec::{Reader, Wire, put_len};
use super::error::{DecodeError, DecodeErrorKind, EncodeError};

/// `DestinationType` codes.
pub mod dest_type {
    /// `invalidDestinationType(0)`.
    pub const INVALID: u8 = 0;
    /// `node(1)`.
    pub const NODE: u8 = 1;
    /// `resource(2)`.
    pub const RESOURCE: u8 = 2;
    /// `opaque_id_type(3)`.
    pub const OPAQUE_ID: u8 = 3;
}

/// One Via List or Destination List entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Destination {
    /// `node(1)`: a Node-ID, `01 10 <16 bytes>`.
    Node(NodeId),
    /// `resource(2)`: a Resource-ID with its own length byte, `02 11 10 <16 bytes>`. Only
    /// ever the last entry of a Destination List, never in a Via List.
    Resource(ResourceId),
    /// `opaque_id_type(3)`: `03 (n+1) n <n bytes>`.
    Opaque(#[serde(serialize_with = "crate::proto::wire::codec::ser_hex")] Vec<u8>),
    /// The 2-byte compressed opaque id: first byte has its top bit set (§6.3.2.2).
    Compressed(u16),
    /// A type this implementation does not know (4..=127). Its length lets it be skipped.
    Unknown {
        /// The type byte.
        dest_type: u8,
        /// The destination data.
        #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
        data: Vec<u8>,
    },
}

impl Destination {
    /// A node entry.
    pub fn node(id: NodeId) -> Destination {
        Destination::Node(id)
    }

    /// The Node-ID of a node entry.
    pub fn as_node(&self) -> Option<NodeId> {
        match self {
            Destination::Node(id) => Some(*id),
            _ => None,
        }
    }
}

/// Byte length of the Destination that starts `bytes`, read from its first two bytes only.
pub fn entry_len(bytes: &[u8]) -> Option<usize> {
    match bytes {
        [b, _, ..] if b & 0x80 != 0 => Some(2),
        [_, len, ..] if bytes.len() >= 2 + *len as usize => Some(2 + *len as usize),
        _ => None,
    }
}

impl Wire for Destination {
    fn encoded_len(&self) -> usize {
        match self {
            Destination::Node(_) => 2 + NODE_ID_LEN,
            Destination::Resource(r) => 2 + r.encoded_len(),
            Destination::Opaque(o) => 3 + o.len(),
            Destination::Compressed(_) => 2,
            Destination::Unknown { data, .. } => 2 + data.len(),
        }
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Destination::Node(id) => {
                out.extend_from_slice(&[dest_type::NODE, NODE_ID_LEN as u8]);
                out.extend_from_slice(&id.octets());
            }
            Destination::Resource(r) => {
                out.push(dest_type::RESOURCE);
                put_len(out, 1, r.encoded_len(), "Destination.resource")?;
                r.encode(out)?;
            }
            Destination::Opaque(o) => {
                out.push(dest_type::OPAQUE_ID);
                put_len(out, 1, o.len() + 1, "Destination.opaque_id")?;
                put_len(out, 1, o.len(), "Destination.opaque_id")?;
                out.extend_from_slice(o);
            }
            Destination::Compressed(v) => {
                if v & 0x8000 == 0 {
                    return Err(EncodeError::Invalid(
                        "compressed opaque id needs its top bit set",
                    ));
                }
                out.extend_from_slice(&v.to_be_bytes());
            }
            Destination::Unknown { dest_type, data } => {
                if *dest_type >= 0x80 || matches!(*dest_type, 0..=3) {
                    return Err(EncodeError::Invalid(
                        "unknown destination type must be 4..=127",
                    ));
                }
                out.push(*dest_type);
                put_len(out, 1, data.len(), "Destination.destination_data")?;
                out.extend_from_slice(data);
            }
        }
        Ok(())
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.offset();
        let first = r.peek_u8("Destination.type")?;
        if first & 0x80 != 0 {
            return Ok(Destination::Compressed(r.u16("Destination.opaque_id")?));
        }
        r.u8("Destination.type")?;
        let mut data = r.vector(1, "Destination.length")?;
        let err = |kind| DecodeError {
            what: "Destination",
            offset: at,
            kind,
        };
        let dest = match first {
            dest_type::NODE => {
                if data.remaining() != NODE_ID_LEN {
                    return Err(err(DecodeErrorKind::Unsupported(
                        "node-id-length other than 16",
                    )));
                }
                Destination::Node(NodeId::decode(&mut data)?)
            }
            dest_type::RESOURCE => Destination::Resource(ResourceId::decode(&mut data)?),
            dest_type::OPAQUE_ID => {
                Destination::Opaque(data.opaque(1, "Destination.opaque_id")?.to_vec())
            }
            dest_type::INVALID => return Err(err(DecodeErrorKind::InvalidValue(0))),
            t => {
                let bytes = data.rest().to_vec();
                data.bytes(bytes.len(), "Destination.destination_data")?;
                Destination::Unknown {
                    dest_type: t,
                    data: bytes,
                }
            }
        };
        data.finish("Destination.destination_data")?;
        Ok(dest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::wire::codec::parse_hex;

    #[test]
    fn encodings_match_the_rfc_layouts() {
        let id = NodeId(0x000102030405060708090a0b0c0d0e0f);
        let node = Destination::Node(id);
        assert_eq!(
            node.to_bytes().unwrap(),
            parse_hex("01 10 000102030405060708090a0b0c0d0e0f").unwrap()
        );
        let res = Destination::Resource(id.to_resource_id());
        assert_eq!(
            res.to_bytes().unwrap(),
            parse_hex("02 11 10 000102030405060708090a0b0c0d0e0f").unwrap()
        );
        let opaque = Destination::Opaque(vec![0xaa, 0xbb]);
        assert_eq!(
            opaque.to_bytes().unwrap(),
            parse_hex("03 03 02 aabb").unwrap()
        );
        let compressed = Destination::Compressed(0x8123);
        assert_eq!(compressed.to_bytes().unwrap(), parse_hex("8123").unwrap());
        for d in [node, res, opaque, compressed] {
            assert_eq!(Destination::from_bytes(&d.to_bytes().unwrap()).unwrap(), d);
            assert_eq!(entry_len(&d.to_bytes().unwrap()), Some(d.encoded_len()));
        }
    }

    #[test]
    fn unknown_types_are_skipped_and_bad_ones_rejected() {
        let d = Destination::from_bytes(&[0x07, 0x02, 0xde, 0xad]).unwrap();
        assert_eq!(
            d,
            Destination::Unknown {
                dest_type: 7,
                data: vec![0xde, 0xad]
            }
        );
        assert!(Destination::from_bytes(&[0x00, 0x00]).is_err());
        // A resource whose inner length disagrees with the TLV length.
        assert!(Destination::from_bytes(&[0x02, 0x03, 0x01, 0xaa, 0xbb]).is_err());
        // A node id of the wrong size.
        assert!(Destination::from_bytes(&[0x01, 0x02, 0xaa, 0xbb]).is_err());
    }
}

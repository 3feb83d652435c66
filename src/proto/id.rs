//! Identifiers and ring arithmetic (RFC 6940 §5.2, §6.3.2, §10.1–§10.2).
//!
//! CHORD-RELOAD uses 128-bit Node-IDs and Resource-IDs on a ring modulo 2^128. This crate
//! fixes `node-id-length` at 16 bytes, as CHORD-RELOAD requires (§10.2).

use std::fmt;

use sha1::{Digest, Sha1};

use super::wire::codec::{Reader, Wire, hex};
use super::wire::error::{DecodeError, DecodeErrorKind, EncodeError};

/// Bytes in a Node-ID (`node-id-length`, fixed at 16 for CHORD-RELOAD, §10.2).
pub const NODE_ID_LEN: usize = 16;

/// A 128-bit Node-ID, most significant byte first on the wire (§6.3.2.2).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NodeId(pub u128);

impl NodeId {
    /// All zeros: not a valid peer identity (Wireshark labels it `[Invalid]`).
    pub const ZERO: NodeId = NodeId(0);
    /// All ones: the wildcard Node-ID. A peer is always responsible for it (§6.1.1).
    pub const WILDCARD: NodeId = NodeId(u128::MAX);

    /// The Node-ID from its 16 wire bytes.
    pub fn from_octets(b: [u8; NODE_ID_LEN]) -> NodeId {
        NodeId(u128::from_be_bytes(b))
    }

    /// The 16 wire bytes.
    pub fn octets(self) -> [u8; NODE_ID_LEN] {
        self.0.to_be_bytes()
    }

    /// `self + k` modulo 2^128.
    pub fn wrapping_add(self, k: u128) -> NodeId {
        NodeId(self.0.wrapping_add(k))
    }

    /// Clockwise distance from `self` to `to`: `(to - self) mod 2^128`.
    pub fn distance_to(self, to: NodeId) -> u128 {
        to.0.wrapping_sub(self.0)
    }

    /// `self ∈ (a, b)` on the ring. When `a == b` this is every id but `a`.
    pub fn in_open(self, a: NodeId, b: NodeId) -> bool {
        if a == b {
            return self != a;
        }
        let d = a.distance_to(self);
        d != 0 && d < a.distance_to(b)
    }

    /// `self ∈ (a, b]` on the ring. When `a == b` this is the whole ring, so a peer that is
    /// its own predecessor owns everything (§10.1).
    pub fn in_half_open(self, a: NodeId, b: NodeId) -> bool {
        if a == b {
            return true;
        }
        let d = a.distance_to(self);
        d != 0 && d <= a.distance_to(b)
    }

    /// The Resource-ID with the same 16 bytes, for routing to this point of the ring.
    pub fn to_resource_id(self) -> ResourceId {
        ResourceId::from_ring(self)
    }

    /// Parses 32 hex digits.
    pub fn from_hex(s: &str) -> Option<NodeId> {
        let s = s.strip_prefix("0x").unwrap_or(s);
        if s.len() != 32 {
            return None;
        }
        u128::from_str_radix(s, 16).ok().map(NodeId)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({:032x})", self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl serde::Serialize for NodeId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl serde::Serialize for ResourceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl serde::Serialize for TransactionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Wire for NodeId {
    fn encoded_len(&self) -> usize {
        NODE_ID_LEN
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.octets());
        Ok(())
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(NodeId::from_octets(r.array("NodeId")?))
    }
}

/// Longest Resource-ID this implementation holds (the RFC allows up to 255 bytes; hash
/// functions used by overlays give at most 32).
pub const RESOURCE_ID_MAX: usize = 32;

/// A Resource-ID: `opaque ResourceId<0..2^8-1>` (§6.3.2.2). CHORD-RELOAD uses 16 bytes:
/// SHA-1 of the Resource Name truncated to 128 bits (§10.2). Stored inline, no allocation.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceId {
    len: u8,
    bytes: [u8; RESOURCE_ID_MAX],
}

impl ResourceId {
    /// A Resource-ID from raw bytes; `None` if longer than [`RESOURCE_ID_MAX`].
    pub fn from_slice(b: &[u8]) -> Option<ResourceId> {
        if b.len() > RESOURCE_ID_MAX {
            return None;
        }
        let mut bytes = [0u8; RESOURCE_ID_MAX];
        bytes[..b.len()].copy_from_slice(b);
        Some(ResourceId {
            len: b.len() as u8,
            bytes,
        })
    }

    /// The 16-byte Resource-ID at ring position `id`.
    pub fn from_ring(id: NodeId) -> ResourceId {
        let mut bytes = [0u8; RESOURCE_ID_MAX];
        bytes[..NODE_ID_LEN].copy_from_slice(&id.octets());
        ResourceId {
            len: NODE_ID_LEN as u8,
            bytes,
        }
    }

    /// CHORD-RELOAD's hash (§10.2): the first 16 bytes of SHA-1(`name`).
    pub fn hash(name: &[u8]) -> ResourceId {
        let digest = Sha1::digest(name);
        ResourceId::from_slice(&digest[..NODE_ID_LEN]).expect("16 bytes fit")
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The position on the 128-bit ring, if this is a 16-byte id.
    pub fn ring_position(&self) -> Option<NodeId> {
        (self.len as usize == NODE_ID_LEN)
            .then(|| NodeId::from_octets(self.bytes[..NODE_ID_LEN].try_into().expect("16 bytes")))
    }
}

impl fmt::Debug for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResourceId({})", hex(self.as_bytes()))
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(self.as_bytes()))
    }
}

impl Wire for ResourceId {
    fn encoded_len(&self) -> usize {
        1 + self.len as usize
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.len);
        out.extend_from_slice(self.as_bytes());
        Ok(())
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.offset();
        let b = r.opaque(1, "ResourceId")?;
        ResourceId::from_slice(b).ok_or(DecodeError {
            what: "ResourceId",
            offset: at,
            kind: DecodeErrorKind::Unsupported("Resource-ID longer than 32 bytes"),
        })
    }
}

/// The 64-bit transaction id of a request and its answers (§6.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TransactionId(pub u64);

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The forwarding header's `overlay` field: the low 32 bits of SHA-1(overlay name), that
/// is the last 4 digest bytes read big-endian (§6.3.2).
pub fn overlay_hash(overlay_name: &str) -> u32 {
    let d = Sha1::digest(overlay_name.as_bytes());
    u32::from_be_bytes([d[16], d[17], d[18], d[19]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_vectors_from_the_digest() {
        assert_eq!(
            ResourceId::hash(b"alice@dht.example.com").to_string(),
            "0c51a942f50c828aef82a5af83e8ed59"
        );
        assert_eq!(
            ResourceId::hash(b"sip:alice@dht.example.com").to_string(),
            "50498d8ab50a43b7844afd86106b3ff1"
        );
        assert_eq!(overlay_hash("overlay.example.org"), 0x9aa3_2b8d);
    }

    #[test]
    fn intervals_wrap_around() {
        let n = |x: u128| NodeId(x);
        assert!(n(5).in_open(n(1), n(10)));
        assert!(!n(10).in_open(n(1), n(10)));
        assert!(n(10).in_half_open(n(1), n(10)));
        assert!(!n(1).in_half_open(n(1), n(10)));
        // Wrapping interval (MAX-1, 3).
        assert!(n(u128::MAX).in_open(n(u128::MAX - 1), n(3)));
        assert!(n(0).in_open(n(u128::MAX - 1), n(3)));
        assert!(!n(3).in_open(n(u128::MAX - 1), n(3)));
        assert!(n(3).in_half_open(n(u128::MAX - 1), n(3)));
        assert!(!n(4).in_half_open(n(u128::MAX - 1), n(3)));
        // Degenerate intervals.
        assert!(n(7).in_half_open(n(3), n(3)));
        assert!(n(3).in_half_open(n(3), n(3)));
        assert!(!n(3).in_open(n(3), n(3)));
        assert!(n(4).in_open(n(3), n(3)));
        assert_eq!(n(10).distance_to(n(3)), u128::MAX - 6);
    }

    #[test]
    fn ids_round_trip() {
        let id = NodeId(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        assert_eq!(NodeId::from_octets(id.octets()), id);
        assert_eq!(NodeId::from_hex(&id.to_string()), Some(id));
        assert_eq!(id.to_resource_id().ring_position(), Some(id));
        let r = ResourceId::from_slice(&[1, 2, 3]).unwrap();
        assert_eq!(r.to_bytes().unwrap(), vec![3, 1, 2, 3]);
        assert_eq!(r.ring_position(), None);
        assert!(ResourceId::from_slice(&[0; 33]).is_none());
    }
}

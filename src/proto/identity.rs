//! Signing and verifying messages (RFC 6940 §6.3.4, §13) behind traits, so the simulator can
//! use a cheap deterministic scheme and the real-socket peer real certificates.
//!
//! [`SimCrypto`] gives real-sized results: a 32-byte SHA-256-sized `cert_hash` identity and a
//! 256-byte RSA-sized signature value. The certificate hash carries the signer's Node-ID in
//! its first 16 bytes (the simulated enrollment server's certificate store is that mapping),
//! and the signature is a keyed 64-bit digest of the signed bytes, so a forged or altered
//! message fails verification.

use crate::proto::id::NodeId;
use crate::proto::wire::security::{
    HASH_SHA256, Signature, SignatureAndHashAlgorithm, SignerIdentity,
};
use crate::proto::wire::security::{SecurityBlock, message_signature_input};
use crate::proto::wire::{EncodeError, ForwardingHeader, MessageContents, Wire};

/// Bytes of a simulated signature value (RSA-2048 size).
pub const SIM_SIGNATURE_LEN: usize = 256;

/// Produces signatures for one node.
pub trait Signer {
    /// The SignerIdentity that names this node.
    fn identity(&self) -> SignerIdentity;
    /// Signs `input` (the §6.3.4 or §7.1 signature input).
    fn sign(&self, input: &[u8]) -> Signature;
}

/// Checks signatures and maps them to Node-IDs.
pub trait Verifier {
    /// The Node-ID of the signer if the signature over `input` is valid, else `None`.
    fn verify(&self, signature: &Signature, input: &[u8]) -> Option<NodeId>;
}

/// Encodes a whole message signed by `signer` (§6.3.4): the signature covers overlay ‖
/// transaction id ‖ MessageContents ‖ SignerIdentity. The header's `length` is computed.
pub fn encode_signed(
    signer: &dyn Signer,
    header: &ForwardingHeader,
    contents: &MessageContents,
) -> Result<Vec<u8>, EncodeError> {
    let mut contents_bytes = Vec::with_capacity(contents.encoded_len());
    contents.encode(&mut contents_bytes)?;
    let identity = signer.identity();
    let input = message_signature_input(
        header.overlay,
        header.transaction_id.0,
        &contents_bytes,
        &identity,
    )?;
    let security = SecurityBlock {
        certificates: Vec::new(),
        signature: signer.sign(&input),
    };
    let mut out =
        Vec::with_capacity(header.encoded_len() + contents_bytes.len() + security.encoded_len());
    header.encode_with_body_len(contents_bytes.len() + security.encoded_len(), &mut out)?;
    out.extend_from_slice(&contents_bytes);
    security.encode(&mut out)?;
    Ok(out)
}

/// The simulator's deterministic scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimCrypto {
    /// The node that signs.
    pub node_id: NodeId,
}

fn cert_hash(id: NodeId) -> Vec<u8> {
    let mut h = Vec::with_capacity(32);
    h.extend_from_slice(&id.octets());
    h.extend_from_slice(&digest(id.0 as u64 ^ (id.0 >> 64) as u64, &id.octets()).to_be_bytes());
    h.extend_from_slice(&[0u8; 8]);
    h
}

/// A keyed 64-bit digest (FNV-1a over 8-byte words, then a final mix). Not cryptographic;
/// it only has to make altered bytes or a wrong signer detectable in simulation.
fn digest(key: u64, bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ key;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ w).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
    }
    for b in chunks.remainder() {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

fn signer_key(id: NodeId) -> u64 {
    (id.0 as u64).rotate_left(17) ^ (id.0 >> 64) as u64
}

impl Signer for SimCrypto {
    fn identity(&self) -> SignerIdentity {
        SignerIdentity::CertHash {
            hash_alg: HASH_SHA256,
            hash: cert_hash(self.node_id),
        }
    }

    fn sign(&self, input: &[u8]) -> Signature {
        let mut value = vec![0u8; SIM_SIGNATURE_LEN];
        value[..8].copy_from_slice(&digest(signer_key(self.node_id), input).to_be_bytes());
        Signature {
            algorithm: SignatureAndHashAlgorithm::RSA_SHA256,
            identity: self.identity(),
            value,
        }
    }
}

/// Verifies [`SimCrypto`] signatures.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimVerifier;

impl SimVerifier {
    /// The Node-ID named by a simulated certificate hash.
    pub fn signer_of(identity: &SignerIdentity) -> Option<NodeId> {
        match identity {
            SignerIdentity::CertHash { hash, .. } if hash.len() == 32 => {
                let id = NodeId::from_octets(hash[..16].try_into().ok()?);
                (cert_hash(id) == *hash).then_some(id)
            }
            _ => None,
        }
    }
}

impl Verifier for SimVerifier {
    fn verify(&self, signature: &Signature, input: &[u8]) -> Option<NodeId> {
        let id = Self::signer_of(&signature.identity)?;
        let ok = signature.algorithm == SignatureAndHashAlgorithm::RSA_SHA256
            && signature.value.len() == SIM_SIGNATURE_LEN
            && signature.value[..8] == digest(signer_key(id), input).to_be_bytes()
            && signature.value[8..].iter().all(|b| *b == 0);
        ok.then_some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_forgeries_fail() {
        let a = SimCrypto {
            node_id: NodeId(42),
        };
        let s = a.sign(b"hello");
        assert_eq!(SimVerifier.verify(&s, b"hello"), Some(NodeId(42)));
        assert_eq!(SimVerifier.verify(&s, b"hellp"), None);
        let mut forged = s.clone();
        forged.identity = SimCrypto {
            node_id: NodeId(43),
        }
        .identity();
        assert_eq!(SimVerifier.verify(&forged, b"hello"), None);
        assert_eq!(s.value.len(), 256);
    }
}

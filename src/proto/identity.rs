//! Signing and verifying messages (RFC 6940 §6.3.4, §13) behind traits, so the simulator can
//! use a cheap deterministic scheme and the real-socket peer real certificates.
//!
//! [`SimCrypto`] gives real-sized results: a 32-byte SHA-256-sized `cert_hash` identity and a
//! 256-byte RSA-sized signature value. The simulated enrollment server issues certificates
//! whose hash is the Node-ID (16 bytes) followed by H(user name) (16 bytes), so a verifier
//! learns both from the SignerIdentity alone; the signature is a 64-bit digest of the signed
//! bytes keyed by both, so a forged or altered message fails verification.
//!
//! A [`Crypto`] injected into the Node (`Node::with_crypto`) replaces both: the real peer's
//! RSA-2048 PKCS#1 v1.5 SHA-256 signatures over X.509 certificates (src/io/pki/sign.rs).

use std::sync::Arc;

use crate::proto::id::{NodeId, ResourceId};
use crate::proto::wire::Body;
use crate::proto::wire::security::{
    GenericCertificate, HASH_SHA256, Signature, SignatureAndHashAlgorithm, SignerIdentity,
};
use crate::proto::wire::security::{SecurityBlock, message_signature_input};
use crate::proto::wire::storage::StoredData;
use crate::proto::wire::{EncodeError, ForwardingHeader, MessageContents, Wire};

/// Bytes of a simulated signature value (RSA-2048 size).
pub const SIM_SIGNATURE_LEN: usize = 256;

/// Produces signatures for one node.
pub trait Signer {
    /// The SignerIdentity that names this node.
    fn identity(&self) -> SignerIdentity;
    /// Signs `input` (the §6.3.4 or §7.1 signature input).
    fn sign(&self, input: &[u8]) -> Signature;
    /// The certificates a message with `contents` carries in its SecurityBlock (§6.3.4:
    /// the signer's, and those of the StoredData signers in it, roots aside). None for
    /// the simulator's scheme, whose SignerIdentity says it all.
    fn certificates(&self, contents: &MessageContents) -> Vec<GenericCertificate> {
        let _ = contents;
        Vec::new()
    }
}

/// Who signed, as stated by the signer's certificate: the Node-ID named by the
/// SignerIdentity, and H(user name) of the certificate's rfc822Name. Access policies only
/// ever compare the user name's hash (§7.3), so that is what is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct SignerInfo {
    /// The Node-ID the SignerIdentity designates.
    pub node_id: NodeId,
    /// H(user name): the Resource-ID of the certificate's user, e.g. of
    /// `alice@dht.example.com` (no `sip:` scheme).
    pub user: ResourceId,
}

impl SignerInfo {
    /// A signer with user name `user`.
    pub fn new(node_id: NodeId, user: &str) -> SignerInfo {
        SignerInfo {
            node_id,
            user: ResourceId::hash(user.as_bytes()),
        }
    }
}

/// Checks signatures and says who made them.
pub trait Verifier {
    /// The signer if the signature over `input` is valid, else `None`.
    fn verify(&self, signature: &Signature, input: &[u8]) -> Option<SignerInfo>;
}

/// A node's own signer and its verifier of others, with certificates learned from the
/// SecurityBlocks it receives (§6.3.4: "storing peers keep certs"). Shared by reference
/// (`Arc`) so a node hands it to the messages it builds without copying keys.
pub trait Crypto: Signer + Verifier + Send + Sync {
    /// Keeps the certificates of a received SecurityBlock that chain to a trusted root,
    /// so later signatures naming them (stored values, replicas) verify.
    fn learn(&self, certificates: &[GenericCertificate]);
}

/// A node's signer: the simulator's scheme, or the [`Crypto`] the driver injected.
#[derive(Clone)]
pub enum NodeSigner {
    /// [`SimCrypto`].
    Sim(SimCrypto),
    /// An injected [`Crypto`] (the real peer's certificate and key).
    Injected(Arc<dyn Crypto>),
}

impl Signer for NodeSigner {
    fn identity(&self) -> SignerIdentity {
        match self {
            NodeSigner::Sim(s) => s.identity(),
            NodeSigner::Injected(c) => c.identity(),
        }
    }
    fn sign(&self, input: &[u8]) -> Signature {
        match self {
            NodeSigner::Sim(s) => s.sign(input),
            NodeSigner::Injected(c) => c.sign(input),
        }
    }
    fn certificates(&self, contents: &MessageContents) -> Vec<GenericCertificate> {
        match self {
            NodeSigner::Sim(_) => Vec::new(),
            NodeSigner::Injected(c) => c.certificates(contents),
        }
    }
}

/// The verifier of a node with injected `crypto`, or [`SimVerifier`].
pub fn verifier_of(crypto: Option<&Arc<dyn Crypto>>) -> &dyn Verifier {
    match crypto {
        Some(c) => c.as_ref(),
        None => &SimVerifier,
    }
}

/// The SignerIdentities of the StoredData values in `body` (a StoreReq's or a
/// FetchAns's), each once, in order of first appearance.
pub fn stored_signers(body: &Body) -> Vec<&SignerIdentity> {
    let values: Box<dyn Iterator<Item = &StoredData>> = match body {
        Body::StoreReq(r) => Box::new(r.kind_data.iter().flat_map(|k| k.values.iter())),
        Body::FetchAns(a) => Box::new(a.kind_responses.iter().flat_map(|k| k.values.iter())),
        _ => return Vec::new(),
    };
    let mut out: Vec<&SignerIdentity> = Vec::new();
    for v in values {
        let id = &v.signature.identity;
        if !matches!(id, SignerIdentity::None) && !out.contains(&id) {
            out.push(id);
        }
    }
    out
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
        certificates: signer.certificates(contents),
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
    /// The node that signs and its user.
    pub signer: SignerInfo,
}

fn cert_hash(signer: &SignerInfo) -> Vec<u8> {
    let mut h = Vec::with_capacity(32);
    h.extend_from_slice(&signer.node_id.octets());
    h.extend_from_slice(signer.user.as_bytes());
    h.resize(32, 0);
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

fn signer_key(signer: &SignerInfo) -> u64 {
    let id = signer.node_id.0;
    let user = signer.user.as_bytes();
    (id as u64).rotate_left(17) ^ (id >> 64) as u64 ^ digest(0x5eed, user)
}

impl Signer for SimCrypto {
    fn identity(&self) -> SignerIdentity {
        SignerIdentity::CertHash {
            hash_alg: HASH_SHA256,
            hash: cert_hash(&self.signer),
        }
    }

    fn sign(&self, input: &[u8]) -> Signature {
        let mut value = vec![0u8; SIM_SIGNATURE_LEN];
        value[..8].copy_from_slice(&digest(signer_key(&self.signer), input).to_be_bytes());
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
    /// The signer named by a simulated certificate hash.
    pub fn signer_of(identity: &SignerIdentity) -> Option<SignerInfo> {
        match identity {
            SignerIdentity::CertHash { hash, .. } if hash.len() == 32 => {
                let node_id = NodeId::from_octets(hash[..16].try_into().ok()?);
                let user = ResourceId::from_slice(&hash[16..])?;
                Some(SignerInfo { node_id, user })
            }
            _ => None,
        }
    }
}

impl Verifier for SimVerifier {
    fn verify(&self, signature: &Signature, input: &[u8]) -> Option<SignerInfo> {
        let signer = Self::signer_of(&signature.identity)?;
        let ok = signature.algorithm == SignatureAndHashAlgorithm::RSA_SHA256
            && signature.value.len() == SIM_SIGNATURE_LEN
            && signature.value[..8] == digest(signer_key(&signer), input).to_be_bytes()
            && signature.value[8..].iter().all(|b| *b == 0);
        ok.then_some(signer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_forgeries_fail() {
        let alice = SignerInfo::new(NodeId(42), "alice@example.com");
        let a = SimCrypto { signer: alice };
        let s = a.sign(b"hello");
        assert_eq!(SimVerifier.verify(&s, b"hello"), Some(alice));
        assert_eq!(SimVerifier.verify(&s, b"hellp"), None);
        let mut forged = s.clone();
        forged.identity = SimCrypto {
            signer: SignerInfo::new(NodeId(43), "alice@example.com"),
        }
        .identity();
        assert_eq!(SimVerifier.verify(&forged, b"hello"), None);
        let mut other_user = s.clone();
        other_user.identity = SimCrypto {
            signer: SignerInfo::new(NodeId(42), "mallory@example.com"),
        }
        .identity();
        assert_eq!(SimVerifier.verify(&other_user, b"hello"), None);
        assert_eq!(s.value.len(), 256);
    }
}

//! The real peer's message and stored-data signatures (RFC 6940 §6.3.4, §7.1):
//! RSASSA-PKCS1-v1_5 with SHA-256 (`04 01`) by the key of the node certificate, with ring.
//!
//! A signature names its certificate by `cert_hash`, SHA-256 of the DER certificate, or,
//! for a certificate with several Node-IDs, by `cert_hash_node_id`, SHA-256 of the Node-ID
//! and the certificate (§6.3.4). Every message carries the signer's certificate chain and
//! the certificates of the StoredData signers in it (the SecurityBlock's bucket, roots
//! aside). Certificates received are checked against the overlay's trust (root-cert,
//! self-signed-permitted, validity now) once, and kept by hash: a signature verifies when
//! the certificate it names is known, still valid, and its key checks the bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use ring::digest::{SHA256, digest};
use ring::rand::SystemRandom;
use ring::signature::{
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, SignatureVerificationAlgorithm, UnixTime};

use super::PkiError;
use super::tls::{Credentials, Trust};
use crate::proto::id::{NodeId, ResourceId};
use crate::proto::identity::{Crypto, Signer, SignerInfo, Verifier, stored_signers};
use crate::proto::wire::MessageContents;
use crate::proto::wire::security::{
    GenericCertificate, HASH_SHA256, Signature, SignatureAndHashAlgorithm, SignerIdentity,
    signer_identity_type,
};

/// `CertificateType` x509 (RFC 6091).
const X509: u8 = 0;

/// Certificates kept at most; the oldest-hashed is dropped past it (bounded memory).
pub const MAX_KNOWN_CERTIFICATES: usize = 4096;

/// A certificate this node has checked.
struct Known {
    der: Vec<u8>,
    signer: SignerInfo,
    /// RSAPublicKey, DER.
    public_key: Vec<u8>,
    not_after_s: i64,
}

/// A SignerIdentity's lookup key: its type and hash.
type Key = (u8, Vec<u8>);

/// The certificates checked so far.
#[derive(Default)]
struct Store {
    /// Trusted ones, by the SignerIdentities that name them.
    known: BTreeMap<Key, Known>,
    /// SHA-256 of every DER certificate checked, trusted or not (each is checked once).
    checked: BTreeSet<Vec<u8>>,
}

/// RSA-2048 signatures by one node, and verification of others' against checked
/// certificates.
pub struct RsaCrypto {
    key: RsaKeyPair,
    rng: SystemRandom,
    identity: SignerIdentity,
    /// The node certificate and its intermediates, as the SecurityBlock carries them.
    chain: Vec<GenericCertificate>,
    trust: Trust,
    algs: &'static [&'static dyn SignatureVerificationAlgorithm],
    store: Mutex<Store>,
}

impl RsaCrypto {
    /// Signs as `node_id` (one of the certificate's) with the credentials' key, and
    /// verifies against `trust`. The key must be an RSA key of at least 2048 bits
    /// matching the certificate.
    pub fn new(creds: &Credentials, node_id: NodeId, trust: Trust) -> Result<RsaCrypto, PkiError> {
        let bad = |why: String| PkiError::Certificate(why);
        let key = match &creds.key {
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            _ => return Err(bad("the key is not an RSA key (PKCS#8 or PKCS#1)".into())),
        }
        .map_err(|e| bad(format!("the key is not a usable RSA key: {e}")))?;
        if key.public().as_ref() != creds.cert.public_key.as_slice() {
            return Err(bad("the key does not belong to the certificate".into()));
        }
        if !creds.cert.node_ids.contains(&node_id) {
            return Err(bad(format!("Node-ID {node_id} is not in the certificate")));
        }
        let user = creds.cert.user.clone().unwrap_or_default();
        let signer = SignerInfo::new(node_id, &user);
        let der = creds.cert.der.clone();
        let (identity, key_of) = identity_of(&der, node_id, creds.cert.node_ids.len());
        let provider = rustls::crypto::ring::default_provider();
        let crypto = RsaCrypto {
            key,
            rng: SystemRandom::new(),
            identity,
            chain: creds
                .chain
                .iter()
                .map(|c| GenericCertificate {
                    cert_type: X509,
                    certificate: c.to_vec(),
                })
                .collect(),
            trust,
            algs: provider.signature_verification_algorithms.all,
            store: Mutex::new(Store::default()),
        };
        crypto.keep(
            key_of,
            Known {
                der,
                signer,
                public_key: creds.cert.public_key.clone(),
                not_after_s: creds.cert.not_after_s,
            },
        );
        Ok(crypto)
    }

    /// How many checked certificates are kept (this node's included).
    pub fn known_certificates(&self) -> usize {
        self.lock().known.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        // A panic elsewhere cannot leave the store half-changed: each change is one call.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn keep(&self, key: Key, known: Known) {
        let mut store = self.lock();
        let map = &mut store.known;
        if map.len() >= MAX_KNOWN_CERTIFICATES && !map.contains_key(&key) {
            let own = key_of_identity(&self.identity);
            if let Some(k) = map.keys().find(|k| Some(*k) != own.as_ref()).cloned() {
                map.remove(&k);
            }
        }
        map.insert(key, known);
    }

    /// Marks a DER certificate checked; false if it already was.
    fn first_check(&self, der: &[u8]) -> bool {
        let mut store = self.lock();
        if store.checked.len() >= MAX_KNOWN_CERTIFICATES {
            store.checked.clear();
        }
        store.checked.insert(digest(&SHA256, der).as_ref().to_vec())
    }
}

/// The SignerIdentity naming `der` as `node_id`, and its lookup key: `cert_hash` for a
/// single-Node-ID certificate, else `cert_hash_node_id` (§6.3.4).
fn identity_of(der: &[u8], node_id: NodeId, node_ids: usize) -> (SignerIdentity, Key) {
    if node_ids == 1 {
        let hash = digest(&SHA256, der).as_ref().to_vec();
        let key = (signer_identity_type::CERT_HASH, hash.clone());
        (
            SignerIdentity::CertHash {
                hash_alg: HASH_SHA256,
                hash,
            },
            key,
        )
    } else {
        let mut input = node_id.octets().to_vec();
        input.extend_from_slice(der);
        let hash = digest(&SHA256, &input).as_ref().to_vec();
        let key = (signer_identity_type::CERT_HASH_NODE_ID, hash.clone());
        (
            SignerIdentity::CertHashNodeId {
                hash_alg: HASH_SHA256,
                hash,
            },
            key,
        )
    }
}

fn key_of_identity(id: &SignerIdentity) -> Option<Key> {
    match id {
        SignerIdentity::CertHash { hash_alg, hash } if *hash_alg == HASH_SHA256 => {
            Some((signer_identity_type::CERT_HASH, hash.clone()))
        }
        SignerIdentity::CertHashNodeId { hash_alg, hash } if *hash_alg == HASH_SHA256 => {
            Some((signer_identity_type::CERT_HASH_NODE_ID, hash.clone()))
        }
        _ => None,
    }
}

fn now_s() -> i64 {
    UnixTime::now().as_secs() as i64
}

impl Signer for RsaCrypto {
    fn identity(&self) -> SignerIdentity {
        self.identity.clone()
    }

    fn sign(&self, input: &[u8]) -> Signature {
        let mut value = vec![0u8; self.key.public().modulus_len()];
        if self
            .key
            .sign(&RSA_PKCS1_SHA256, &self.rng, input, &mut value)
            .is_err()
        {
            // Only a failing system RNG (blinding) gets here; an empty value never verifies.
            value.clear();
        }
        Signature {
            algorithm: SignatureAndHashAlgorithm::RSA_SHA256,
            identity: self.identity.clone(),
            value,
        }
    }

    fn certificates(&self, contents: &MessageContents) -> Vec<GenericCertificate> {
        let mut out = self.chain.clone();
        let stored = stored_signers(&contents.body);
        if stored.is_empty() {
            return out;
        }
        let store = self.lock();
        for id in stored {
            if *id == self.identity {
                continue;
            }
            if let Some(k) = key_of_identity(id).and_then(|key| store.known.get(&key)) {
                let cert = GenericCertificate {
                    cert_type: X509,
                    certificate: k.der.clone(),
                };
                if !out.contains(&cert) {
                    out.push(cert);
                }
            }
        }
        out
    }
}

impl Verifier for RsaCrypto {
    fn verify(&self, signature: &Signature, input: &[u8]) -> Option<SignerInfo> {
        if signature.algorithm != SignatureAndHashAlgorithm::RSA_SHA256 {
            return None;
        }
        let key = key_of_identity(&signature.identity)?;
        let store = self.lock();
        let known = store.known.get(&key)?;
        if known.not_after_s < now_s() {
            return None;
        }
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &known.public_key)
            .verify(input, &signature.value)
            .ok()?;
        Some(known.signer)
    }
}

impl Crypto for RsaCrypto {
    fn learn(&self, certificates: &[GenericCertificate]) {
        let ders: Vec<CertificateDer<'_>> = certificates
            .iter()
            .filter(|c| c.cert_type == X509)
            .map(|c| CertificateDer::from(c.certificate.as_slice()))
            .collect();
        for (i, der) in ders.iter().enumerate() {
            if !self.first_check(der) {
                continue;
            }
            let others: Vec<CertificateDer<'_>> = ders
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, d)| d.clone())
                .collect();
            // An intermediate (no Node-ID) or an untrusted certificate is not kept.
            let Ok(cert) = self.trust.check(
                der,
                &others,
                UnixTime::now(),
                webpki::KeyUsage::client_auth(),
                self.algs,
            ) else {
                continue;
            };
            let user = cert.user.clone().unwrap_or_default();
            for node_id in &cert.node_ids {
                let (_, key) = identity_of(der, *node_id, cert.node_ids.len());
                self.keep(
                    key,
                    Known {
                        der: cert.der.clone(),
                        signer: SignerInfo {
                            node_id: *node_id,
                            user: ResourceId::hash(user.as_bytes()),
                        },
                        public_key: cert.public_key.clone(),
                        not_after_s: cert.not_after_s,
                    },
                );
            }
        }
    }
}

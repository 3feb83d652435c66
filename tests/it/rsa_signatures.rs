//! The real peer's RSA-2048 PKCS#1 v1.5 SHA-256 signatures (RFC 6940 §6.3.4, §7.1) with
//! certificates made by `reload-sim ca`: a signature names its certificate by
//! cert_hash = SHA-256(DER), verifies only once that certificate has been learned from a
//! SecurityBlock and chains to the overlay's root; a Node signing with them rejects a
//! stored value whose signature was made with another key (Error_Forbidden, nothing
//! changed).

use std::path::PathBuf;
use std::sync::Arc;

use reload_sim::io::pki::ca;
use reload_sim::io::pki::sign::RsaCrypto;
use reload_sim::io::pki::tls::{Credentials, Trust};
use reload_sim::proto::id::{ResourceId, TransactionId};
use reload_sim::proto::identity::{Crypto, Signer, Verifier, encode_signed};
use reload_sim::proto::node::{Identity, Node};
use reload_sim::proto::wire::error_response::error_code;
use reload_sim::proto::wire::framing::Frame;
use reload_sim::proto::wire::security::{
    GenericCertificate, HASH_SHA256, Signature, SignatureAndHashAlgorithm, SignerIdentity,
};
use reload_sim::proto::wire::storage::{DataValue, StoreKindData, StoreReq, StoredDataValue};
use reload_sim::proto::wire::{Body, Destination, ForwardingHeader, Message, MessageContents};
use reload_sim::time::Time;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

const OVERLAY: &str = "sig.test.example";

struct Pki {
    dir: PathBuf,
    root: Vec<u8>,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("reload-sim-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let files = ca::init(OVERLAY, &[], false, &dir.join("ca")).unwrap();
        let root = CertificateDer::from_pem_file(&files.cert).unwrap().to_vec();
        Pki { dir, root }
    }

    fn trust(&self) -> Trust {
        Trust::new(std::slice::from_ref(&self.root), false).unwrap()
    }

    fn node(&self, user: &str) -> (Credentials, RsaCrypto) {
        let f = ca::issue(&self.dir.join("ca"), user, None, &self.dir.join(user)).unwrap();
        let creds = Credentials::load(&f.cert, &f.key).unwrap();
        let crypto = RsaCrypto::new(&creds, f.node_id, self.trust()).unwrap();
        (creds, crypto)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn bucket(creds: &Credentials) -> Vec<GenericCertificate> {
    vec![GenericCertificate {
        cert_type: 0,
        certificate: creds.cert.der.clone(),
    }]
}

#[test]
fn a_signature_verifies_once_its_certificate_is_learned_and_only_over_its_bytes() {
    let pki = Pki::new("rsa-verify");
    let (alice_creds, alice) = pki.node("alice");
    let (_, bob) = pki.node("bob");
    let s = alice.sign(b"signed bytes");
    assert_eq!(s.algorithm, SignatureAndHashAlgorithm::RSA_SHA256);
    assert_eq!(s.value.len(), 256, "RSA-2048");
    let digest = ring::digest::digest(&ring::digest::SHA256, &alice_creds.cert.der);
    assert_eq!(
        s.identity,
        SignerIdentity::CertHash {
            hash_alg: HASH_SHA256,
            hash: digest.as_ref().to_vec()
        }
    );
    assert_eq!(
        bob.verify(&s, b"signed bytes"),
        None,
        "certificate not known yet"
    );
    bob.learn(&bucket(&alice_creds));
    let who = bob.verify(&s, b"signed bytes").expect("verifies");
    assert_eq!(Some(who.node_id), alice_creds.cert.node_id());
    assert_eq!(who.user, ResourceId::hash(b"alice@sig.test.example"));
    assert_eq!(bob.verify(&s, b"signed bytez"), None);
    let mut flipped = s.clone();
    flipped.value[100] ^= 1;
    assert_eq!(bob.verify(&flipped, b"signed bytes"), None);
}

#[test]
fn certificates_of_a_foreign_ca_are_not_learned_and_a_key_must_match_its_certificate() {
    let pki = Pki::new("rsa-foreign");
    let foreign = Pki::new("rsa-foreign-ca");
    let (_, bob) = pki.node("bob");
    let (mallory_creds, mallory) = foreign.node("mallory");
    bob.learn(&bucket(&mallory_creds));
    assert_eq!(bob.verify(&mallory.sign(b"x"), b"x"), None);
    assert_eq!(bob.known_certificates(), 1, "only its own");

    let (alice_creds, _) = pki.node("alice");
    let wrong = Credentials {
        chain: alice_creds.chain.clone(),
        key: mallory_creds.key.clone_key(),
        cert: alice_creds.cert.clone(),
    };
    let node_id = alice_creds.cert.node_id().unwrap();
    let e = RsaCrypto::new(&wrong, node_id, pki.trust())
        .err()
        .expect("refused");
    assert!(e.to_string().contains("does not belong"), "{e}");
}

/// Signs values with one key while naming another's certificate.
struct Forger<'a> {
    named: &'a RsaCrypto,
    key: &'a RsaCrypto,
}

impl Signer for Forger<'_> {
    fn identity(&self) -> SignerIdentity {
        self.named.identity()
    }
    fn sign(&self, input: &[u8]) -> Signature {
        Signature {
            identity: self.named.identity(),
            ..self.key.sign(input)
        }
    }
}

fn store_req(resource: ResourceId, value: &[u8], signer: &dyn Signer, time: u64) -> Body {
    let value = StoredDataValue::Dictionary {
        key: b"k".to_vec(),
        value: DataValue {
            exists: true,
            value: value.to_vec(),
        },
    };
    let input = reload_sim::proto::wire::storage::data_signature_input(
        &resource,
        ca::USER_VALUES,
        time,
        &value,
        &signer.identity(),
    )
    .unwrap();
    Body::StoreReq(StoreReq {
        resource,
        replica_number: 0,
        kind_data: vec![StoreKindData {
            kind: ca::USER_VALUES,
            generation_counter: 0,
            values: vec![reload_sim::proto::wire::storage::StoredData {
                storage_time: time,
                lifetime: 600,
                value,
                signature: signer.sign(&input),
            }],
        }],
    })
}

#[test]
fn a_value_signed_with_a_key_not_of_its_certificate_is_forbidden_and_changes_nothing() {
    let pki = Pki::new("rsa-store");
    let (peer_creds, peer) = pki.node("peer");
    let (bob_creds, bob) = pki.node("bob");
    let (_, mallory) = pki.node("mallory");
    let cfg = Arc::new(ca::overlay_config(OVERLAY, &[], &pki.root, false).unwrap());
    let me = peer_creds.cert.node_id().unwrap();
    let addr: std::net::SocketAddr = "127.0.0.1:6084".parse().unwrap();
    let mut node = Node::new(
        Arc::clone(&cfg),
        Identity::new(me, "peer@sig.test.example"),
        addr,
        Time::ZERO,
        1,
    )
    .with_crypto(Arc::new(peer));
    node.start_overlay(Time::ZERO).unwrap();
    let bob_id = bob_creds.cert.node_id().unwrap();
    let bob_addr: std::net::SocketAddr = "127.0.0.1:6085".parse().unwrap();
    node.handle_link_up(Time(1), bob_addr, bob_id);
    let resource = ResourceId::hash(b"bob@sig.test.example");
    let mut seq = 0u32;
    let mut send = |node: &mut Node, txid: u64, body: Body, t: u64| -> Message {
        let h = ForwardingHeader::new(
            cfg.overlay,
            cfg.configuration_sequence,
            TransactionId(txid),
            vec![Destination::Resource(resource)],
        );
        let msg = encode_signed(&bob, &h, &MessageContents::new(body)).unwrap();
        let mut f = Vec::new();
        Frame::Data {
            sequence: seq,
            message: &msg,
        }
        .encode(&mut f)
        .unwrap();
        seq += 1;
        node.handle_datagram(Time(t), bob_addr, &f);
        let mut answers = Vec::new();
        while let Some(t) = node.poll_transmit() {
            if let Ok(Frame::Data { message, .. }) = Frame::decode(&t.bytes) {
                answers.push(Message::decode_with(message, &cfg.kinds).unwrap());
            }
        }
        assert_eq!(answers.len(), 1, "one answer");
        answers.pop().unwrap()
    };
    let good = store_req(resource, b"v1", &bob, 1);
    let ans = send(&mut node, 1, good, 1_000_000);
    assert!(
        matches!(ans.contents.body, Body::StoreAns(_)),
        "{:?}",
        ans.contents.body
    );
    let before = node.datastore().export(Time(3_000_000), &resource);
    assert_eq!(before.len(), 1, "v1 stored");
    let forged = store_req(
        resource,
        b"v2",
        &Forger {
            named: &bob,
            key: &mallory,
        },
        2,
    );
    let ans = send(&mut node, 2, forged, 3_000_000);
    let Body::Error(e) = ans.contents.body else {
        panic!("not an error: {:?}", ans.contents.body)
    };
    assert_eq!(e.code, error_code::FORBIDDEN);
    assert_eq!(node.datastore().export(Time(3_000_000), &resource), before);
}

//! RFC 6940 conformance of ConfigUpdate (§6.3.2.1, §6.5.4, §7.4.1.2): pushing our
//! Configuration Document to a node with an older one, pushing Kind definitions to a node
//! that did not know a Kind of ours, and applying the updates others push. One node,
//! scripted peers, exact bytes.

use std::sync::Arc;

use reload_sim::proto::config::OverlayConfig;
use reload_sim::proto::config_doc::read_document;
use reload_sim::proto::event::{Event, RequestError};
use reload_sim::proto::id::{NodeId, ResourceId};
use reload_sim::proto::identity::SignerInfo;
use reload_sim::proto::node::Node;
use reload_sim::proto::store::access::node_resource;
use reload_sim::proto::store::{AccessPolicy, KindDef};
use reload_sim::proto::wire::error_response::{ErrorResponse, error_code};
use reload_sim::proto::wire::storage::{
    DataModel, DataValue, KindId, StoreKindData, StoreReq, StoredDataValue,
};
use reload_sim::proto::wire::topology::{ConfigUpdateReq, KindDescription, PingReq};
use reload_sim::proto::wire::{Body, Destination};
use reload_sim::time::Time;

use crate::scripted::{
    self, Peer, decode, first_node, from_first_node, link_peer, sent, signed_by_first_node,
};

/// The node of these tests.
const ME: u128 = 1 << 100;
/// A private Kind (§14.6), defined only in some configurations.
const PRIVATE: KindId = KindId(0xf000_0001);
const OVERLAY: &str = "scripted.example.org";

fn secs(s: u64) -> Time {
    Time(s * 1_000_000_000)
}

/// The overlay administrator: configuration and kind signer.
fn admin() -> SignerInfo {
    SignerInfo::new(NodeId(0xad), "admin@scripted.example.org")
}

fn mallory() -> SignerInfo {
    SignerInfo::new(NodeId(0x666), "mallory@scripted.example.org")
}

/// The test overlay at `sequence`, its document signed by the administrator, who is its
/// only configuration and kind signer.
fn overlay(sequence: u16) -> OverlayConfig {
    let mut c = OverlayConfig::new(OVERLAY);
    c.configuration_sequence = sequence;
    c.configuration_signers = vec![admin().node_id];
    c.kind_signers = vec![admin().node_id];
    c.document_signer = Some(admin());
    c
}

/// `c` with the private Kind: single value, NODE-MATCH, up to 64 bytes.
fn with_private(mut c: OverlayConfig) -> OverlayConfig {
    let def = KindDef::new(
        PRIVATE,
        "",
        DataModel::Single,
        AccessPolicy::NodeMatch,
        1,
        64,
    );
    c.kinds.insert(def).unwrap();
    c
}

/// The node with peer p1 linked as its neighbour.
fn node_and_peer(cfg: &Arc<OverlayConfig>) -> (Node, Peer) {
    let mut node = first_node(cfg, ME);
    let mut p1 = Peer::new(9u128 << 124, 2);
    link_peer(&mut node, cfg, &mut p1, 0x100);
    let _ = sent(&mut node);
    (node, p1)
}

fn to_me() -> Vec<Destination> {
    vec![Destination::Node(NodeId(ME))]
}

fn ping() -> Body {
    Body::PingReq(PingReq::default())
}

/// `body` from `p` to the node with configuration_sequence `seq` in its header.
fn frame_seq(
    p: &mut Peer,
    cfg: &OverlayConfig,
    seq: u16,
    txid: u64,
    via: Vec<Destination>,
    body: Body,
) -> Vec<u8> {
    let mut h = scripted::header(cfg, txid, to_me());
    h.configuration_sequence = seq;
    h.via_list = via;
    p.frame_header(&h, &reload_sim::proto::wire::MessageContents::new(body))
        .0
}

/// `body` from `p` straight to the node, under header sequence `seq`, at `t` seconds:
/// what the node sends.
fn ask(node: &mut Node, p: &mut Peer, seq: u16, txid: u64, t: u64, body: Body) -> Sent {
    let f = frame_seq(p, &OverlayConfig::new(OVERLAY), seq, txid, vec![], body);
    node.handle_datagram(secs(t), p.addr, &f);
    sent(node)
}

type Sent = Vec<(std::net::SocketAddr, Vec<u8>)>;

/// The exact ConfigUpdate the node sends as transaction `txid` to `dest`: header
/// configuration_sequence 65535, initial TTL, signed by the node.
fn config_update_from_node(
    cfg: &OverlayConfig,
    txid: u64,
    dest: Vec<Destination>,
    req: ConfigUpdateReq,
) -> Vec<u8> {
    let mut h = scripted::header(cfg, txid, dest);
    h.configuration_sequence = u16::MAX;
    h.ttl = cfg.initial_ttl;
    signed_by_first_node(ME, &h, Body::ConfigUpdateReq(req))
}

/// The exact answer the node (configuration `cfg`) sends p for transaction `txid`.
fn answer_to(cfg: &OverlayConfig, p: &Peer, txid: u64, body: Body) -> Vec<u8> {
    from_first_node(cfg, ME, txid, vec![Destination::Node(p.id)], vec![], body)
}

fn error(code: u16, info: &str) -> Body {
    Body::Error(ErrorResponse::new(code, info))
}

/// The ConfigUpdate requests among `out`.
fn pushes(out: &[(std::net::SocketAddr, Vec<u8>)]) -> Vec<reload_sim::proto::wire::Message> {
    out.iter()
        .map(|(_, m)| decode(m))
        .filter(|m| matches!(m.contents.body, Body::ConfigUpdateReq(_)))
        .collect()
}

/// §6.3.2.1: "if the configuration file in the request is too old, the node MUST generate
/// a ConfigUpdate message to update the requesting node" (§6.5.4: "Whenever a node
/// detects that another node has old configuration data, it MUST generate a ConfigUpdate
/// request"). The Error_Config_Too_Old answer is followed by a ConfigUpdate of type
/// config carrying our document, straight over the link for a direct neighbour, routed to
/// the Via List's first Node-ID for a relayed request. Nothing was sent before.
#[test]
fn an_old_request_gets_config_too_old_and_our_document() {
    let cfg = Arc::new(overlay(5));
    let (mut node, mut p1) = node_and_peer(&cfg);
    let out = ask(&mut node, &mut p1, 4, 0x900, 10, ping());
    assert_eq!(out.len(), 2, "{out:?}");
    let too_old = error(error_code::CONFIG_TOO_OLD, "configuration sequence too old");
    assert_eq!(
        out[0],
        (p1.addr, answer_to(&cfg, &p1, 0x900, too_old.clone()))
    );
    let txid = decode(&out[1].1).header.transaction_id.0;
    let doc = cfg.document().bytes().to_vec();
    let want = config_update_from_node(
        &cfg,
        txid,
        vec![Destination::Node(p1.id)],
        ConfigUpdateReq::Config(doc.clone()),
    );
    assert_eq!(out[1], (p1.addr, want));
    // The document is our configuration, signed by the administrator.
    let c = read_document(&doc, OVERLAY).unwrap();
    assert_eq!(c.sequence, 5);
    assert_eq!(c.signer(&doc), Some(admin()));

    // Relayed by p1 from a node further away: pushed to that node's Node-ID, routed.
    let far = NodeId(0xabc);
    let via = vec![Destination::Node(far)];
    let f = frame_seq(&mut p1, &cfg, 4, 0x901, via, ping());
    node.handle_datagram(secs(11), p1.addr, &f);
    let out = sent(&mut node);
    let err = decode(&out[0].1);
    assert_eq!(
        err.header.destination_list,
        vec![Destination::Node(p1.id), Destination::Node(far)]
    );
    let push = pushes(&out);
    assert_eq!(push.len(), 1);
    assert_eq!(
        push[0].header.destination_list,
        vec![Destination::Node(far)]
    );
    assert_eq!(push[0].header.configuration_sequence, u16::MAX);
    assert_eq!(
        push[0].contents.body,
        Body::ConfigUpdateReq(ConfigUpdateReq::Config(doc))
    );
}

/// The push bound (docs/peer.md): one ConfigUpdate per Node-ID per 30 s, and at most 16
/// Node-IDs per 30 s, whatever the number of old requests. The errors are all sent.
#[test]
fn config_pushes_are_bounded() {
    let cfg = Arc::new(overlay(5));
    let (mut node, mut p1) = node_and_peer(&cfg);
    let count = |node: &mut Node, p1: &mut Peer, t: u64, txid: u64, via: Vec<Destination>| {
        let f = frame_seq(p1, &cfg, 4, txid, via, ping());
        node.handle_datagram(secs(t), p1.addr, &f);
        let out = sent(node);
        assert!(
            matches!(decode(&out[0].1).contents.body, Body::Error(ref e) if e.code == error_code::CONFIG_TOO_OLD)
        );
        pushes(&out).len()
    };
    assert_eq!(count(&mut node, &mut p1, 10, 0x900, vec![]), 1);
    for i in 1..20 {
        assert_eq!(count(&mut node, &mut p1, 10 + i, 0x900 + i, vec![]), 0);
    }
    // 30 s after the first push, another.
    assert_eq!(count(&mut node, &mut p1, 40, 0x950, vec![]), 1);
    // Old requests relayed from 20 other nodes within 30 s: 15 more pushes (16 in all
    // with p1's).
    let relayed: usize = (0..20u32)
        .map(|i| {
            let via = vec![Destination::Node(NodeId(0x1000 + u128::from(i)))];
            count(&mut node, &mut p1, 41, 0x960 + u64::from(i), via)
        })
        .sum();
    assert_eq!(relayed, 15);
}

/// §6.5.4.2: a newer configuration signed by a configuration-signer is applied: "the node
/// MUST reconfigure itself to match the new information". The answer and every later
/// message carry the new sequence, requests with the old one now get
/// Error_Config_Too_Old and the received document (its exact bytes), and the document's
/// timers and Kinds are in force. It used to be refused with Error_Forbidden.
#[test]
fn a_newer_signed_config_is_applied() {
    let cfg = Arc::new(overlay(1));
    let (mut node, mut p1) = node_and_peer(&cfg);
    let mut newer = with_private(overlay(2));
    newer.chord_update_interval = reload_sim::time::Duration::from_secs(100);
    newer.chord_ping_interval = reload_sim::time::Duration::from_secs(40);
    let doc = newer.document().bytes().to_vec();
    let req = Body::ConfigUpdateReq(ConfigUpdateReq::Config(doc.clone()));
    let out = ask(&mut node, &mut p1, 1, 0x910, 10, req);
    assert_eq!(
        out,
        vec![(
            p1.addr,
            answer_to(&newer, &p1, 0x910, Body::ConfigUpdateAns)
        )]
    );
    let now = node.config();
    assert_eq!(now.configuration_sequence, 2);
    assert_eq!(now.chord_update_interval.as_millis(), 100_000);
    assert_eq!(now.chord_ping_interval.as_millis(), 40_000);
    assert_eq!(
        now.kinds.get(PRIVATE).unwrap().signer,
        Some(admin().node_id)
    );
    assert_eq!(now.document().bytes(), doc);

    // A request with the new sequence is served, under the new sequence.
    let out = ask(&mut node, &mut p1, 2, 0x911, 11, ping());
    let ans = decode(&out[0].1);
    assert!(matches!(ans.contents.body, Body::PingAns(_)));
    assert_eq!(ans.header.configuration_sequence, 2);
    // The old sequence is now too old, and p1 gets the document it sent.
    let out = ask(&mut node, &mut p1, 1, 0x912, 12, ping());
    let too_old = error(error_code::CONFIG_TOO_OLD, "configuration sequence too old");
    assert_eq!(out[0], (p1.addr, answer_to(&newer, &p1, 0x912, too_old)));
    let txid = decode(&out[1].1).header.transaction_id.0;
    let want = config_update_from_node(
        &newer,
        txid,
        vec![Destination::Node(p1.id)],
        ConfigUpdateReq::Config(doc),
    );
    assert_eq!(out[1], (p1.addr, want));
}

/// §6.3.2.1: "if the configuration_sequence field is equal to 65535 and the message type
/// is ConfigUpdate, then the message MUST be accepted regardless of the receiving node's
/// configuration sequence number", and "peers sending a new configuration when the
/// configuration sequence is currently 65534 MUST set the configuration sequence number
/// to 0": at 65534, a document with sequence 0 in a header with 65535 is applied.
#[test]
fn a_config_update_under_65535_is_accepted_and_0_follows_65534() {
    let cfg = Arc::new(overlay(65534));
    let (mut node, mut p1) = node_and_peer(&cfg);
    let newer = overlay(0);
    let req = Body::ConfigUpdateReq(ConfigUpdateReq::Config(newer.document().bytes().to_vec()));
    let out = ask(&mut node, &mut p1, u16::MAX, 0x920, 10, req);
    assert_eq!(
        out,
        vec![(
            p1.addr,
            answer_to(&newer, &p1, 0x920, Body::ConfigUpdateAns)
        )]
    );
    assert_eq!(node.config().configuration_sequence, 0);
}

/// §6.5.4.2: "The sequence number in the document is greater than the current
/// configuration sequence number ... Otherwise, appropriate errors MUST be generated": an
/// equal or older document gets Error_Config_Too_Old and changes nothing.
#[test]
fn an_equal_or_older_config_is_refused_as_too_old() {
    let cfg = Arc::new(overlay(5));
    let (mut node, mut p1) = node_and_peer(&cfg);
    for (txid, seq) in [(0x930u64, 5u16), (0x931, 4), (0x932, 40000)] {
        let doc = overlay(seq).document().bytes().to_vec();
        let req = Body::ConfigUpdateReq(ConfigUpdateReq::Config(doc));
        let out = ask(&mut node, &mut p1, u16::MAX, txid, 10, req);
        let want = error(
            error_code::CONFIG_TOO_OLD,
            "configuration not newer than ours",
        );
        assert_eq!(
            out,
            vec![(p1.addr, answer_to(&cfg, &p1, txid, want))],
            "sequence {seq}"
        );
    }
    assert_eq!(node.config().configuration_sequence, 5);
}

/// §6.5.4.2: only a document "correctly digitally signed" by a configuration-signer of the
/// current configuration (§11.1) is applied: one signed by another identity, an unsigned
/// one, or one altered after signing gets Error_Forbidden; one for another overlay gets
/// Error_Incompatible_with_Overlay; one that is not a document, Error_Invalid_Message.
#[test]
fn a_config_not_signed_by_a_configuration_signer_is_refused() {
    let cfg = Arc::new(overlay(1));
    let (mut node, mut p1) = node_and_peer(&cfg);
    let mut by_mallory = overlay(2);
    by_mallory.document_signer = Some(mallory());
    let mut unsigned = overlay(2);
    unsigned.document_signer = None;
    let altered = String::from_utf8(overlay(2).document().bytes().to_vec())
        .unwrap()
        .replace("ping-interval>3600<", "ping-interval>60<");
    let mut other = OverlayConfig::new("other.example.org");
    other.configuration_sequence = 2;
    other.document_signer = Some(admin());
    let forbidden = (
        error_code::FORBIDDEN,
        "configuration not signed by a configuration-signer",
    );
    let cases = [
        (by_mallory.document().bytes().to_vec(), forbidden),
        (unsigned.document().bytes().to_vec(), forbidden),
        (altered.into_bytes(), forbidden),
        (
            other.document().bytes().to_vec(),
            (
                error_code::INCOMPATIBLE_WITH_OVERLAY,
                "no configuration for this overlay",
            ),
        ),
        (
            b"<overlay>".to_vec(),
            (
                error_code::INVALID_MESSAGE,
                "XML syntax at byte 9: unclosed element",
            ),
        ),
    ];
    for (i, (doc, (code, info))) in cases.into_iter().enumerate() {
        let txid = 0x940 + i as u64;
        let req = Body::ConfigUpdateReq(ConfigUpdateReq::Config(doc));
        let out = ask(&mut node, &mut p1, u16::MAX, txid, 10, req);
        assert_eq!(
            out,
            vec![(p1.addr, answer_to(&cfg, &p1, txid, error(code, info)))],
            "case {i}"
        );
    }
    assert_eq!(node.config().configuration_sequence, 1);
}

/// A StoreReq of the private Kind from p (signed by p, NODE-MATCH: at H(p's Node-ID)).
fn private_store(p: &Peer) -> (ResourceId, Body) {
    let resource = node_resource(p.id);
    let value = StoredDataValue::Single(DataValue {
        exists: true,
        value: b"private".to_vec(),
    });
    let user = "scripted@scripted.example.org";
    let data = scripted::signed_value(&resource, PRIVATE, value, p.id, user, (1000, 600));
    let req = StoreReq {
        resource,
        replica_number: 0,
        kind_data: vec![StoreKindData {
            kind: PRIVATE,
            generation_counter: 0,
            values: vec![data],
        }],
    };
    (resource, Body::StoreReq(req))
}

/// §6.5.4.2: a ConfigUpdate of type kind "MUST be processed only if it is correctly
/// digitally signed by an acceptable Kind signer"; if it "conflicts with an existing
/// known Kind (i.e., it is signed by a different signer), then it should be rejected with
/// an Error_Forbidden error". The accepted Kind is then stored: a Store of it that got
/// Error_Unknown_Kind before now succeeds.
#[test]
fn a_kind_update_adds_a_kind_that_can_then_be_stored() {
    let other = SignerInfo::new(NodeId(0xbe), "other@scripted.example.org");
    let mut base = overlay(1);
    base.kind_signers.push(other.node_id);
    let cfg = Arc::new(base);
    let mut node = first_node(&cfg, ME);
    let mut p1 = Peer::new(9u128 << 124, 2);
    // Linked but not a neighbour: the node stays responsible for every key.
    scripted::handshake(&mut node, &cfg, &mut p1, 0x100);
    let (resource, store) = private_store(&p1);
    let (f, _) = p1.frame(
        &cfg,
        0x950,
        vec![],
        vec![Destination::Resource(resource)],
        store.clone(),
    );
    node.handle_datagram(secs(2), p1.addr, &f);
    let unknown = Body::Error(ErrorResponse::unknown_kinds(&[PRIVATE]).unwrap());
    assert_eq!(
        sent(&mut node),
        vec![(p1.addr, answer_to(&cfg, &p1, 0x950, unknown))]
    );

    let block_by = |signer: SignerInfo| {
        let mut c = with_private(overlay(1));
        c.document_signer = Some(signer);
        KindDescription(c.document().kind_block(PRIVATE).unwrap().to_vec())
    };
    let kinds =
        |blocks: Vec<KindDescription>| Body::ConfigUpdateReq(ConfigUpdateReq::Kinds(blocks));
    // Signed by someone who is not a kind-signer: refused.
    let out = ask(
        &mut node,
        &mut p1,
        1,
        0x951,
        3,
        kinds(vec![block_by(mallory())]),
    );
    let forbidden = error(error_code::FORBIDDEN, "kind not signed by a kind-signer");
    assert_eq!(out, vec![(p1.addr, answer_to(&cfg, &p1, 0x951, forbidden))]);
    // Signed by the administrator: accepted, the sequence unchanged.
    let out = ask(
        &mut node,
        &mut p1,
        1,
        0x952,
        4,
        kinds(vec![block_by(admin())]),
    );
    assert_eq!(
        out,
        vec![(p1.addr, answer_to(&cfg, &p1, 0x952, Body::ConfigUpdateAns))]
    );
    let def = node.config().kinds.get(PRIVATE).unwrap().clone();
    assert_eq!(
        (def.model, def.max_size, def.signer),
        (DataModel::Single, 64, Some(admin().node_id))
    );
    assert_eq!(node.config().configuration_sequence, 1);
    assert_eq!(node.config().document().bytes(), cfg.document().bytes());
    // The other kind-signer may not redefine it.
    let out = ask(
        &mut node,
        &mut p1,
        1,
        0x953,
        5,
        kinds(vec![block_by(other)]),
    );
    let conflict = error(error_code::FORBIDDEN, "kind known from another signer");
    assert_eq!(out, vec![(p1.addr, answer_to(&cfg, &p1, 0x953, conflict))]);
    // The Store now succeeds.
    let (f, _) = p1.frame(
        &cfg,
        0x954,
        vec![],
        vec![Destination::Resource(resource)],
        store,
    );
    node.handle_datagram(secs(6), p1.addr, &f);
    let out = sent(&mut node);
    assert!(
        matches!(decode(&out[0].1).contents.body, Body::StoreAns(_)),
        "{out:?}"
    );
    assert_eq!(node.datastore().generation(&resource, PRIVATE), 1);
}

/// §7.4.1.2: "A node which receives this error [Error_Unknown_Kind] MUST generate a
/// ConfigUpdate message which contains the appropriate Kind definition": our Store of the
/// private Kind, refused by p1, is followed by a ConfigUpdate of type kind with that
/// Kind's kind-block from our document. The Store still fails to the application.
#[test]
fn error_unknown_kind_on_our_store_sends_the_kind_definition() {
    let cfg = Arc::new(with_private(overlay(1)));
    let (mut node, mut p1) = node_and_peer(&cfg);
    // A Resource-ID p1 is responsible for: (ME, p1].
    let resource = NodeId(4u128 << 124).to_resource_id();
    let value = node.sign_value(
        &resource,
        PRIVATE,
        1000,
        600,
        StoredDataValue::Single(DataValue {
            exists: true,
            value: b"x".to_vec(),
        }),
    );
    let kind_data = vec![StoreKindData {
        kind: PRIVATE,
        generation_counter: 0,
        values: vec![value],
    }];
    let request = node.store(secs(10), resource, kind_data).unwrap();
    let out = sent(&mut node);
    let store = reload_sim::proto::wire::Message::decode_with(&out[0].1, &cfg.kinds).unwrap();
    assert!(matches!(store.contents.body, Body::StoreReq(_)));
    assert_eq!(out[0].0, p1.addr);
    let unknown = Body::Error(ErrorResponse::unknown_kinds(&[PRIVATE]).unwrap());
    let (f, _) = p1.frame(
        &cfg,
        store.header.transaction_id.0,
        vec![],
        to_me(),
        unknown,
    );
    node.handle_datagram(secs(11), p1.addr, &f);
    let out = sent(&mut node);
    assert_eq!(out.len(), 1, "{out:?}");
    let txid = decode(&out[0].1).header.transaction_id.0;
    let block = cfg.document().kind_block(PRIVATE).unwrap().to_vec();
    let want = config_update_from_node(
        &cfg,
        txid,
        vec![Destination::Node(p1.id)],
        ConfigUpdateReq::Kinds(vec![KindDescription(block)]),
    );
    assert_eq!(out[0], (p1.addr, want));
    let mut done = None;
    while let Some(e) = node.poll_event() {
        if let Event::RequestDone {
            request: r,
            outcome,
        } = e
            && r == request
        {
            done = Some(outcome);
        }
    }
    assert_eq!(
        done,
        Some(Err(RequestError::ErrorResponse(error_code::UNKNOWN_KIND)))
    );
}

use super::*;
use crate::proto::config::OverlayConfig;
use crate::proto::id::NodeId;
use crate::proto::store::{AccessPolicy, KindDef};
use crate::proto::wire::storage::DataModel;
use crate::time::Duration;

/// §11.1's example document as printed in RFC 6940 (page breaks removed).
const RFC_EXAMPLE: &[u8] = include_bytes!("rfc6940_example.xml");

fn admin() -> SignerInfo {
    SignerInfo::new(NodeId(0xad), "admin@overlay.example.org")
}

fn signed_config() -> OverlayConfig {
    let mut c = OverlayConfig::new("overlay.example.org");
    c.configuration_sequence = 22;
    c.chord_update_interval = Duration::from_secs(400);
    c.chord_ping_interval = Duration::from_secs(30);
    c.chord_reactive = false;
    c.max_message_size = 4000;
    c.initial_ttl = 30;
    c.configuration_signers = vec![admin().node_id];
    c.kind_signers = vec![admin().node_id, NodeId(0x6eba45d31a900c06)];
    c.document_signer = Some(admin());
    let private = KindDef::new(
        KindId(0xf000_0001),
        "",
        DataModel::Array,
        AccessPolicy::NodeMultiple { max: 3 },
        22,
        4,
    );
    c.kinds.insert(private).unwrap();
    c
}

/// The writer's document reads back as the configuration it was written from, with
/// every signature verifying as the document signer's.
#[test]
fn written_documents_read_back() {
    let cfg = signed_config();
    let doc = cfg.document();
    let bytes = doc.bytes();
    let c = read_document(bytes, "overlay.example.org").unwrap();
    assert_eq!(c.instance_name, "overlay.example.org");
    assert_eq!(c.sequence, 22);
    assert_eq!(c.topology_plugin, CHORD_RELOAD);
    assert_eq!(c.node_id_length, 16);
    assert_eq!(c.chord_update_interval_s, Some(400));
    assert_eq!(c.chord_ping_interval_s, Some(30));
    assert_eq!(c.chord_reactive, Some(false));
    assert_eq!(c.max_message_size, Some(4000));
    assert_eq!(c.initial_ttl, Some(30));
    assert_eq!(c.reliability_timer_ms, Some(3000));
    assert_eq!(c.configuration_signers, cfg.configuration_signers);
    assert_eq!(c.kind_signers, cfg.kind_signers);
    assert_eq!(c.signer(bytes), Some(admin()));
    let defs: Vec<KindDef> = c.kinds.iter().map(|k| k.def.clone()).collect();
    assert_eq!(defs, cfg.kinds.iter().cloned().collect::<Vec<_>>());
    for k in &c.kinds {
        assert_eq!(k.signer(bytes), Some(admin()));
        // Each kind-block on its own, as a ConfigUpdate of type kind carries it.
        let block = doc.kind_block(k.def.id).unwrap();
        assert_eq!(block, &bytes[k.block_span.clone()]);
        let alone = read_kind_block(block).unwrap();
        assert_eq!(alone.def, k.def);
        assert_eq!(alone.signer(block), Some(admin()));
    }
    // The same configuration always writes the same bytes.
    assert_eq!(write(&cfg).bytes(), bytes);
    // A received document keeps its bytes and kind-blocks.
    let again = ConfigDocument::received(bytes.to_vec(), &c);
    assert_eq!(&again, &**doc);
    // An altered document no longer verifies.
    let text = std::str::from_utf8(bytes)
        .unwrap()
        .replace("<max-size>4<", "<max-size>5<");
    let altered = read_document(text.as_bytes(), "overlay.example.org").unwrap();
    assert_eq!(altered.signer(text.as_bytes()), None);
    // Unsigned without a document signer.
    let mut unsigned = signed_config();
    unsigned.document_signer = None;
    let doc = write(&unsigned);
    let c = read_document(doc.bytes(), "overlay.example.org").unwrap();
    assert!(c.signatures.is_empty() && c.kinds.iter().all(|k| k.signatures.is_empty()));
}

/// §11.1's own example reads: its two kind-blocks (the registered SIP-REGISTRATION with
/// its IANA data model and access policy, and Kind 2000), its 16-digit signers, the
/// foreign `ext:` elements skipped. Its signatures are placeholder text, so none verifies.
#[test]
fn the_rfc_example_document_reads() {
    let c = read_document(RFC_EXAMPLE, "overlay.example.org").unwrap();
    assert_eq!(c.sequence, 22);
    assert_eq!(c.topology_plugin, CHORD_RELOAD);
    assert_eq!(c.chord_update_interval_s, Some(400));
    assert_eq!(c.chord_ping_interval_s, Some(30));
    assert_eq!(c.chord_reactive, Some(true));
    assert_eq!(c.max_message_size, Some(4000));
    assert_eq!(c.initial_ttl, Some(30));
    assert_eq!(c.reliability_timer_ms, Some(3000));
    assert_eq!(c.configuration_signers, vec![NodeId(0x47112162e84c69ba)]);
    let addrs: Vec<String> = c.bootstrap_nodes.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        addrs,
        ["192.0.0.1:6084", "192.0.2.2:6084", "[2001:db8::1]:6084"]
    );
    assert_eq!(c.root_certs.len(), 2);
    // The first is a DER certificate (a SEQUENCE); the second is the example's "bad cert".
    assert_eq!(&c.root_certs[0][..2], &[0x30, 0x82]);
    assert_eq!(c.root_certs[1], b"bad cert\n");
    assert_eq!(
        c.enrollment_servers,
        ["https://example.org", "https://example.net"]
    );
    assert!(!c.self_signed_permitted);
    assert_eq!(
        c.kind_signers,
        vec![NodeId(0x47112162e84c69ba), NodeId(0x6eba45d31a900c06)]
    );
    let sip = &c.kinds[0].def;
    assert_eq!(
        (sip.id, sip.model, sip.access, sip.max_count, sip.max_size),
        (
            KindId::SIP_REGISTRATION,
            DataModel::Dictionary,
            AccessPolicy::UserNodeMatch,
            1,
            100
        )
    );
    let k = &c.kinds[1].def;
    assert_eq!(
        (k.id, k.model, k.access, k.max_count, k.max_size),
        (
            KindId(2000),
            DataModel::Array,
            AccessPolicy::NodeMultiple { max: 3 },
            22,
            4
        )
    );
    assert_eq!(c.signer(RFC_EXAMPLE), None);
    assert!(c.kinds.iter().all(|k| k.signer(RFC_EXAMPLE).is_none()));
    // The first kind-block alone, as a ConfigUpdate would carry it, reads the same. The
    // second uses the `ext:` prefix declared on the document's root, which a lone
    // kind-block does not have.
    let first = &RFC_EXAMPLE[c.kinds[0].block_span.clone()];
    assert_eq!(read_kind_block(first).unwrap().def, *sip);
    let second = &RFC_EXAMPLE[c.kinds[1].block_span.clone()];
    assert!(matches!(
        read_kind_block(second),
        Err(ConfigDocError::UnboundPrefix { .. })
    ));
    // The other overlay's configuration has no sequence.
    assert_eq!(
        read_document(RFC_EXAMPLE, "other.example.net"),
        Err(ConfigDocError::Missing("configuration sequence"))
    );
    assert_eq!(
        read_document(RFC_EXAMPLE, "elsewhere.example.com"),
        Err(ConfigDocError::NoConfiguration)
    );
}

#[test]
fn bad_values_are_typed_errors() {
    let block = |inner: &str| format!("<kind-block><kind id=\"9\">{inner}</kind></kind-block>");
    let full = "<data-model>SINGLE</data-model><access-control>NODE-MATCH</access-control>\
                <max-count>1</max-count><max-size>10</max-size>";
    assert!(read_kind_block(block(full).as_bytes()).is_ok());
    for (inner, what) in [
        (full.replace("SINGLE", "GRAPH"), "data-model"),
        (full.replace("NODE-MATCH", "ANYONE"), "access-control"),
        (full.replace("<max-size>10", "<max-size>-1"), "max-size"),
    ] {
        match read_kind_block(block(&inner).as_bytes()) {
            Err(ConfigDocError::Invalid { what: w, .. }) => assert_eq!(w, what),
            other => panic!("{what}: {other:?}"),
        }
    }
    assert_eq!(
        read_kind_block(block(&full.replace("<max-count>1</max-count>", "")).as_bytes()),
        Err(ConfigDocError::Missing("max-count"))
    );
    assert!(matches!(
        read_kind_block(block(&full.replace("<max-count>1", "<max-count>2")).as_bytes()),
        Err(ConfigDocError::Kind(_))
    ));
    assert_eq!(
        read_kind_block(b"<kind-block><kind name=\"NO-SUCH\"/></kind-block>"),
        Err(ConfigDocError::Missing("max-count"))
    );
    assert!(matches!(
        read_kind_block(
            format!("<kind-block><kind name=\"NO-SUCH\">{full}</kind></kind-block>").as_bytes()
        ),
        Err(ConfigDocError::UnknownKindName(_))
    ));
    assert_eq!(
        read_kind_block(b"<kind/>"),
        Err(ConfigDocError::Missing("kind-block root element"))
    );
    let cfg = signed_config();
    let text = std::str::from_utf8(cfg.document().bytes()).unwrap();
    for (from, to) in [
        ("sequence=\"22\"", "sequence=\"65535\""),
        ("<initial-ttl>30<", "<initial-ttl>300<"),
        (
            "<overlay-reliability-timer>3000<",
            "<overlay-reliability-timer>199<",
        ),
        (
            "<chord:chord-reactive>false<",
            "<chord:chord-reactive>maybe<",
        ),
        ("<kind-signer>", "<kind-signer>xyz"),
    ] {
        let bad = text.replacen(from, to, 1);
        assert!(
            matches!(
                read_document(bad.as_bytes(), "overlay.example.org"),
                Err(ConfigDocError::Invalid { .. })
            ),
            "{to}"
        );
    }
}

/// Truncated, bit-flipped and spliced documents never panic the reader.
#[test]
fn mangled_documents_never_panic() {
    let cfg = signed_config();
    let doc = cfg.document().bytes().to_vec();
    let mut raw = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15);
    let mut next = move || raw() as usize;
    for i in 0..3000 {
        let mut bytes = doc.clone();
        match i % 3 {
            0 => bytes.truncate(next() % doc.len()),
            1 => {
                for _ in 0..1 + next() % 4 {
                    let at = next() % bytes.len();
                    bytes[at] = b"<>/&;=\"' ax:\xff"[next() % 13];
                }
            }
            _ => {
                let (a, b) = (next() % doc.len(), next() % doc.len());
                bytes.splice(a..a, doc[b.min(a)..b.max(a)].iter().copied());
            }
        }
        let _ = read_document(&bytes, "overlay.example.org");
        let _ = read_kind_block(&bytes);
    }
}

#[test]
fn a_configuration_file_gives_the_overlay_config_it_was_written_from() {
    let mut cfg = OverlayConfig::new("files.example.org");
    cfg.chord_update_interval = crate::time::Duration::from_secs(7);
    cfg.bootstrap_nodes = vec![
        "127.0.0.1:6084".parse().unwrap(),
        "[2001:db8::1]:7000".parse().unwrap(),
    ];
    cfg.root_certs = vec![vec![0x30, 0x82, 1, 2, 3]];
    cfg.self_signed_permitted = true;
    let bytes = write(&cfg).bytes().to_vec();
    let read = OverlayConfig::from_document(&bytes, None).unwrap();
    assert_eq!(read.overlay_name, "files.example.org");
    assert_eq!(read.chord_update_interval, cfg.chord_update_interval);
    assert_eq!(read.bootstrap_nodes, cfg.bootstrap_nodes);
    assert_eq!(read.root_certs, cfg.root_certs);
    assert!(read.self_signed_permitted);
    assert_eq!(read.kinds, cfg.kinds);
    // The file's bytes are the document the peer holds and sends on.
    assert_eq!(read.document().bytes(), &bytes[..]);
    // A document for another topology is refused, naming it.
    let other = String::from_utf8(bytes)
        .unwrap()
        .replace(">CHORD-RELOAD<", ">KADEMLIA<");
    let e = OverlayConfig::from_document(other.as_bytes(), None).unwrap_err();
    assert!(e.to_string().contains("KADEMLIA"), "{e}");
}

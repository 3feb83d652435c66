//! RFC 6940 conformance of the message path: per-hop acks (§6.6.2), header checks at
//! receipt (§6.3.2, §6.3.2.1, §6.6, §13.6.5) and the routing decision (§6.1.1). One node,
//! scripted peers, exact bytes.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use proptest::prelude::*;

use reload_sim::proto::config::OverlayConfig;
use reload_sim::proto::id::{NodeId, TransactionId};
use reload_sim::proto::link::{Link, LinkState};
use reload_sim::proto::node::Node;
use reload_sim::proto::wire::error_response::{ErrorResponse, error_code};
use reload_sim::proto::wire::framing::Frame;
use reload_sim::proto::wire::topology::{ConfigUpdateReq, PingAns, PingReq};
use reload_sim::proto::wire::{Body, Destination, ForwardingHeader, MessageContents};
use reload_sim::time::Time;

use crate::scripted::{self, Peer, config, decode, first_node, link_peer, sent};

/// The node of these tests.
const ME: u128 = 1 << 100;

/// A node with two linked peers: p1 (far side of the ring, the node's predecessor) and
/// p2 (its successor). The node owns (p1, ME].
fn node_with_peers(cfg: &Arc<OverlayConfig>) -> (Node, Peer, Peer) {
    let mut node = first_node(cfg, ME);
    let mut p1 = Peer::new(9u128 << 124, 2);
    let mut p2 = Peer::new(3u128 << 124, 3);
    link_peer(&mut node, cfg, &mut p1, 0x100);
    link_peer(&mut node, cfg, &mut p2, 0x200);
    let _ = sent(&mut node);
    (node, p1, p2)
}

/// A message signed by `p`, with its header edited by `edit`, framed: (frame, message).
fn frame_with(
    p: &mut Peer,
    cfg: &OverlayConfig,
    txid: u64,
    via: Vec<Destination>,
    dest: Vec<Destination>,
    body: Body,
    edit: impl FnOnce(&mut ForwardingHeader),
) -> (Vec<u8>, Vec<u8>) {
    let mut h = scripted::header(cfg, txid, dest);
    h.via_list = via;
    edit(&mut h);
    p.frame_header(&h, &MessageContents::new(body))
}

/// The exact bytes of the error answer the node (ME) sends for transaction `txid`.
fn error_from_node(
    cfg: &OverlayConfig,
    txid: u64,
    dest: Vec<Destination>,
    code: u16,
    info: &str,
) -> Vec<u8> {
    let body = Body::Error(ErrorResponse::new(code, info));
    scripted::from_first_node(cfg, ME, txid, dest, vec![], body)
}

/// A Resource-ID in the node's own range (p1, ME].
fn own_key() -> Destination {
    Destination::Resource(NodeId(ME >> 1).to_resource_id())
}

/// A Resource-ID owned beyond p2: the node forwards to p2.
fn far_key() -> Destination {
    Destination::Resource(NodeId(4u128 << 124).to_resource_id())
}

/// The `(ack_sequence, received)` of an ack frame.
fn ack_fields(bytes: &[u8]) -> (u32, u32) {
    match Frame::decode(bytes).unwrap() {
        Frame::Ack {
            ack_sequence,
            received,
        } => (ack_sequence, received),
        f => panic!("not an ack: {f:?}"),
    }
}

fn ping() -> Body {
    Body::PingReq(PingReq::default())
}

/// §6.6.2: after frames 0, 1 and 33 the ack for 33 names 1 (32 before it, bit 31) and
/// nothing else: frame 32 never arrived. The 32-frame gap used to wrap the mask shift
/// (claiming 32, so it was never retransmitted) and panicked in debug builds.
#[test]
fn ack_after_a_gap_of_32_claims_only_frames_that_arrived() {
    let cfg = config();
    let me = 1u128 << 100;
    let mut node = first_node(&cfg, me);
    let mut p = Peer::new(9u128 << 124, 2);
    let wildcard = vec![Destination::Node(NodeId::WILDCARD)];
    let mut acks = Vec::new();
    for (txid, seq) in [(0x10u64, 0u32), (0x11, 1), (0x12, 33)] {
        p.seq = seq;
        let (f, _) = p.frame(&cfg, txid, vec![], wildcard.clone(), ping());
        node.handle_datagram(Time(1 + u64::from(seq)), p.addr, &f);
        // The ack is the node's first transmit for the frame.
        let ack = node.poll_transmit().unwrap();
        assert_eq!(ack.to, p.addr);
        acks.push(ack.bytes);
        while node.poll_transmit().is_some() {}
    }
    assert_eq!(acks[0], [0x81, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(acks[1], [0x81, 0, 0, 0, 1, 0, 0, 0, 1]);
    assert_eq!(acks[2], [0x81, 0, 0, 0, 33, 0x80, 0, 0, 0]);
}

fn test_link() -> Link {
    let a: SocketAddr = "10.0.0.9:6084".parse().unwrap();
    Link::new(a, None, LinkState::Up, Time::ZERO)
}

/// One received frame in a generated stream: a step forward from the highest so far, or a
/// late frame some way behind it.
#[derive(Clone, Debug)]
enum Step {
    Ahead(u64),
    Late(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        prop_oneof![
            Just(1u64),
            Just(2),
            Just(31),
            Just(32),
            Just(33),
            Just(64),
            1u64..40,
            1u64..0x8000_0000,
        ]
        .prop_map(Step::Ahead),
        (0u64..40).prop_map(Step::Late),
    ]
}

proptest! {
    /// §6.6.2 for any gaps (0, 1, 31, 32, 33, huge) and across the 2^32 wrap of sequence
    /// numbers: an ack never claims a frame that did not arrive, and an ack for the highest
    /// frame so far claims every frame of the 32 before it that did.
    #[test]
    fn acks_claim_exactly_the_frames_received(
        start in prop_oneof![Just(0u32), Just(u32::MAX - 40), Just(u32::MAX), any::<u32>()],
        steps in proptest::collection::vec(step(), 1..60),
    ) {
        let mut link = test_link();
        // Positions are unwrapped (u64): sequence number = position mod 2^32.
        let base = u64::from(start) + (1 << 40);
        let mut high = base;
        let mut got = BTreeSet::new();
        let mut first = true;
        for s in steps {
            let pos = if first {
                first = false;
                base
            } else {
                match s {
                    Step::Ahead(n) => high + n,
                    Step::Late(n) => high - n,
                }
            };
            high = high.max(pos);
            got.insert(pos);
            let (n, received) = ack_fields(&link.on_data(pos as u32).bytes);
            prop_assert_eq!(n, pos as u32);
            for k in 1..=32u64 {
                let claimed = received & (1 << (k - 1)) != 0;
                let arrived = got.contains(&(pos - k));
                prop_assert!(!claimed || arrived, "ack {} claims {} back", n, k);
                if pos == high {
                    prop_assert_eq!(claimed, arrived, "ack {} at {} back", n, k);
                }
            }
        }
    }
}

/// §6.3.2: "Implementations which receive messages with a TTL greater than the current
/// value of initial-ttl ... MUST discard the message and send an Error_TTL_Exceeded
/// error." A TTL-255 Ping used to be forwarded with TTL 254. An answer with such a TTL is
/// dropped without an error.
#[test]
fn a_ttl_above_initial_ttl_is_refused_with_ttl_exceeded() {
    let cfg = config();
    let (mut node, mut p1, _p2) = node_with_peers(&cfg);
    let upstream = Destination::Node(NodeId(0xabc));
    let (f, _) = frame_with(
        &mut p1,
        &cfg,
        0x700,
        vec![upstream.clone()],
        vec![far_key()],
        ping(),
        |h| h.ttl = 255,
    );
    node.handle_datagram(Time(3), p1.addr, &f);
    let want = error_from_node(
        &cfg,
        0x700,
        vec![Destination::Node(p1.id), upstream],
        error_code::TTL_EXCEEDED,
        "TTL above initial-ttl",
    );
    assert_eq!(sent(&mut node), vec![(p1.addr, want)]);
    assert_eq!((node.stats().ttl_exceeded, node.stats().forwarded), (1, 0));

    // One above initial-ttl on an answer: dropped, counted, nothing sent.
    let (f, _) = frame_with(
        &mut p1,
        &cfg,
        0x701,
        vec![],
        vec![Destination::Node(NodeId(ME))],
        Body::PingAns(PingAns {
            response_id: 1,
            time: 2,
        }),
        |h| h.ttl = cfg.initial_ttl + 1,
    );
    node.handle_datagram(Time(4), p1.addr, &f);
    assert_eq!(sent(&mut node), vec![]);
    assert_eq!(node.stats().ttl_exceeded, 2);
}

/// §6.6: "If a peer receives a message that is larger than the value of max-message-size
/// ..., the peer SHOULD send an Error_Message_Too_Large error". It used to be dropped
/// silently.
#[test]
fn a_message_over_max_message_size_gets_message_too_large() {
    let cfg = config();
    let (mut node, mut p1, _p2) = node_with_peers(&cfg);
    let big = Body::PingReq(PingReq {
        padding: vec![0; cfg.max_message_size],
    });
    let to_me = vec![Destination::Node(NodeId(ME))];
    let delivered = node.stats().delivered;
    let (f, _) = frame_with(&mut p1, &cfg, 0xa00, vec![], to_me.clone(), big, |_| {});
    node.handle_datagram(Time(3), p1.addr, &f);
    let want = error_from_node(
        &cfg,
        0xa00,
        vec![Destination::Node(p1.id)],
        error_code::MESSAGE_TOO_LARGE,
        "message larger than max-message-size",
    );
    assert_eq!(sent(&mut node), vec![(p1.addr, want)]);
    assert_eq!(
        (node.stats().dropped, node.stats().delivered),
        (1, delivered)
    );

    // An over-sized answer is dropped without an error.
    let info = "x".repeat(cfg.max_message_size);
    let big_answer = Body::Error(ErrorResponse::new(error_code::NOT_FOUND, &info));
    let (f, _) = frame_with(&mut p1, &cfg, 0xa01, vec![], to_me, big_answer, |_| {});
    node.handle_datagram(Time(4), p1.addr, &f);
    assert_eq!(sent(&mut node), vec![]);
    assert_eq!(node.stats().dropped, 2);
    // Either way the link stays.
    assert_eq!(node.poll_link_close(), None);
    assert_eq!(node.connection_count(), 2);
}

/// §6.6: "If the forwarding header is larger than the max-message-size, the receiver
/// SHOULD close the TLS or DTLS session without sending an error." A request from p1 and
/// an answer from p2 whose Via Lists alone exceed max-message-size get only the ack of
/// their frame (the link layer's, byte for byte), and each link is closed: the driver is
/// told (`poll_link_close`) and the peer leaves the tables. The request used to be
/// answered with Error_Message_Too_Large over a link that stayed open.
#[test]
fn a_forwarding_header_over_max_message_size_closes_the_link_without_an_error() {
    let cfg = config();
    let (mut node, mut p1, mut p2) = node_with_peers(&cfg);
    let to_me = vec![Destination::Node(NodeId(ME))];
    let huge_via = vec![Destination::Node(NodeId(7)); cfg.max_message_size / 18 + 1];
    let answer = Body::PingAns(PingAns {
        response_id: 1,
        time: 2,
    });
    for (i, (p, body)) in [(&mut p1, ping()), (&mut p2, answer)]
        .into_iter()
        .enumerate()
    {
        let seq = p.seq;
        let (f, _) = frame_with(
            p,
            &cfg,
            0xd00,
            huge_via.clone(),
            to_me.clone(),
            body,
            |_| {},
        );
        node.handle_datagram(Time(3), p.addr, &f);
        let mut ack = Vec::new();
        Frame::Ack {
            ack_sequence: seq,
            received: 0b11,
        }
        .encode(&mut ack)
        .unwrap();
        // To p only the ack; the others hear the node's reactive Update (its Neighbor
        // Table lost p), no error.
        let (to_p, others): (Vec<_>, Vec<_>) = std::iter::from_fn(|| node.poll_transmit())
            .map(|t| (t.to, t.bytes))
            .partition(|(to, _)| *to == p.addr);
        assert_eq!(to_p, vec![(p.addr, ack)], "only the ack");
        for (_, f) in others {
            let Frame::Data { message, .. } = Frame::decode(&f).unwrap() else {
                continue;
            };
            assert!(matches!(decode(message).contents.body, Body::UpdateReq(_)));
        }
        assert_eq!(node.poll_link_close(), Some(p.addr));
        assert_eq!(node.poll_link_close(), None);
        assert!(!node.connections().iter().any(|c| c.0 == p.addr));
        assert!(!node.predecessors().contains(&p.id));
        assert_eq!(node.stats().dropped, i as u64 + 1);
    }
    assert_eq!(node.connection_count(), 0);
}

/// §13.6.5: "implementations SHOULD check the Destination List for duplicate entries and
/// discard such records with an Error_Invalid_Message error". [ME, p2, ME, p2] used to be
/// forwarded to p2. Answers are exempt (see `Node::check_header`).
#[test]
fn duplicate_destination_entries_get_invalid_message() {
    let cfg = config();
    let (mut node, mut p1, p2) = node_with_peers(&cfg);
    let me = Destination::Node(NodeId(ME));
    let q = Destination::Node(p2.id);
    let looped = vec![me.clone(), q.clone(), me.clone(), q.clone()];
    let (f, _) = frame_with(&mut p1, &cfg, 0xb00, vec![], looped, ping(), |_| {});
    node.handle_datagram(Time(3), p1.addr, &f);
    let want = error_from_node(
        &cfg,
        0xb00,
        vec![Destination::Node(p1.id)],
        error_code::INVALID_MESSAGE,
        "duplicate Destination List entries",
    );
    assert_eq!(sent(&mut node), vec![(p1.addr, want)]);
    assert_eq!((node.stats().forwarded, node.stats().malformed), (0, 1));

    // An answer retracing a request whose route looped (p2 twice) is passed on.
    let retrace = vec![me, q.clone(), Destination::Node(NodeId(0xabc)), q];
    let answer = Body::PingAns(PingAns {
        response_id: 1,
        time: 2,
    });
    let (f, _) = frame_with(&mut p1, &cfg, 0xb01, vec![], retrace, answer, |_| {});
    node.handle_datagram(Time(4), p1.addr, &f);
    let out = sent(&mut node);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, p2.addr);
    assert_eq!((node.stats().forwarded, node.stats().malformed), (1, 1));
}

/// §6.1.1: after removing its own entry the node repeats the routing decision on the next
/// one: [ME, Resource in ME's range] is delivered here (it used to go to a neighbour), a
/// leading wildcard Node-ID is consumed here like the node's own (it used to be dropped
/// as malformed), and [ME, p2] still goes to p2 without the popped entry.
#[test]
fn the_routing_decision_is_repeated_after_popping_own_entries() {
    let cfg = config();
    let (mut node, mut p1, p2) = node_with_peers(&cfg);
    let me = Destination::Node(NodeId(ME));
    let wildcard = Destination::Node(NodeId::WILDCARD);
    for (txid, dest) in [
        (0xc00u64, vec![me.clone(), own_key()]),
        (0xc01, vec![wildcard.clone(), own_key()]),
        (0xc02, vec![wildcard.clone(), me.clone()]),
    ] {
        let (f, _) = frame_with(&mut p1, &cfg, txid, vec![], dest.clone(), ping(), |_| {});
        node.handle_datagram(Time(3), p1.addr, &f);
        let out = sent(&mut node);
        assert_eq!(out.len(), 1, "{dest:?}");
        assert_eq!(out[0].0, p1.addr, "{dest:?}");
        let ans = decode(&out[0].1);
        assert!(matches!(ans.contents.body, Body::PingAns(_)), "{dest:?}");
        assert_eq!(ans.header.transaction_id, TransactionId(txid));
    }
    assert_eq!(node.stats().forwarded, 0);

    // [wildcard, p2]: consumed here, forwarded to p2 with p1 on the via list.
    let (f, original) = frame_with(
        &mut p1,
        &cfg,
        0xc03,
        vec![],
        vec![wildcard, Destination::Node(p2.id)],
        ping(),
        |_| {},
    );
    node.handle_datagram(Time(4), p1.addr, &f);
    let out = sent(&mut node);
    let mut want = decode(&original);
    want.header.destination_list.remove(0);
    want.header.via_list.push(Destination::Node(p1.id));
    want.header.ttl -= 1;
    assert_eq!(out, vec![(p2.addr, want.to_bytes().unwrap())]);
}

/// §6.3.2.1: a request delivered here with another configuration_sequence gets
/// Error_Config_Too_Old (older than ours; 0 is not a wildcard) or Error_Config_Too_New
/// (newer); 65535 is accepted on a ConfigUpdate. The field used to be ignored.
#[test]
fn a_configuration_sequence_mismatch_is_answered_too_old_or_too_new() {
    let cfg = config();
    assert_eq!(cfg.configuration_sequence, 1);
    let (mut node, mut p1, _p2) = node_with_peers(&cfg);
    let to_me = vec![Destination::Node(NodeId(ME))];
    for (txid, seq, code, info) in [
        (
            0x800u64,
            2u16,
            error_code::CONFIG_TOO_NEW,
            "configuration sequence too new",
        ),
        (
            0x801,
            0,
            error_code::CONFIG_TOO_OLD,
            "configuration sequence too old",
        ),
        (
            0x802,
            0xffff,
            error_code::CONFIG_TOO_NEW,
            "configuration sequence too new",
        ),
    ] {
        let (f, _) = frame_with(&mut p1, &cfg, txid, vec![], to_me.clone(), ping(), |h| {
            h.configuration_sequence = seq
        });
        node.handle_datagram(Time(3), p1.addr, &f);
        let want = error_from_node(&cfg, txid, vec![Destination::Node(p1.id)], code, info);
        assert_eq!(sent(&mut node), vec![(p1.addr, want)], "sequence {seq}");
    }
    assert_eq!(node.stats().dropped, 3);

    // 65535 on a ConfigUpdate passes the check (this peer then refuses the method).
    let (f, _) = frame_with(
        &mut p1,
        &cfg,
        0x803,
        vec![],
        to_me.clone(),
        Body::ConfigUpdateReq(ConfigUpdateReq::Kinds(vec![])),
        |h| h.configuration_sequence = 0xffff,
    );
    node.handle_datagram(Time(4), p1.addr, &f);
    let out = sent(&mut node);
    assert!(
        matches!(decode(&out[0].1).contents.body, Body::Error(ref e) if e.code == error_code::FORBIDDEN),
        "{out:?}"
    );
    // A matching sequence is served.
    let (f, _) = frame_with(&mut p1, &cfg, 0x804, vec![], to_me, ping(), |_| {});
    node.handle_datagram(Time(5), p1.addr, &f);
    let out = sent(&mut node);
    assert!(matches!(decode(&out[0].1).contents.body, Body::PingAns(_)));
    // Messages passing through are not checked: only the destination node checks.
    let (f, _) = frame_with(&mut p1, &cfg, 0x805, vec![], vec![far_key()], ping(), |h| {
        h.configuration_sequence = 9
    });
    node.handle_datagram(Time(6), p1.addr, &f);
    assert_eq!(node.stats().forwarded, 1);
}

/// §6.3.2: "If this value is non-zero, responding peers MUST check that any response
/// would not exceed it" (max_response_length), answered with Error_Response_Too_Large
/// (reload-spec.md Ambiguities #5). A 20-byte limit used to get the whole PingAns.
#[test]
fn an_answer_over_max_response_length_becomes_response_too_large() {
    let cfg = config();
    let (mut node, mut p1, _p2) = node_with_peers(&cfg);
    let upstream = Destination::Node(NodeId(0xabc));
    let (f, _) = frame_with(
        &mut p1,
        &cfg,
        0x900,
        vec![upstream.clone()],
        vec![Destination::Node(NodeId(ME))],
        ping(),
        |h| h.max_response_length = 20,
    );
    node.handle_datagram(Time(3), p1.addr, &f);
    let want = error_from_node(
        &cfg,
        0x900,
        vec![Destination::Node(p1.id), upstream],
        error_code::RESPONSE_TOO_LARGE,
        "answer longer than max_response_length",
    );
    assert_eq!(sent(&mut node), vec![(p1.addr, want)]);

    // A limit the answer fits in, and no limit, get the PingAns.
    for (txid, limit) in [(0x901u64, 5000u32), (0x902, 0)] {
        let to_me = vec![Destination::Node(NodeId(ME))];
        let (f, _) = frame_with(&mut p1, &cfg, txid, vec![], to_me, ping(), |h| {
            h.max_response_length = limit
        });
        node.handle_datagram(Time(4), p1.addr, &f);
        let out = sent(&mut node);
        assert!(out[0].1.len() <= 5000);
        assert!(matches!(decode(&out[0].1).contents.body, Body::PingAns(_)));
    }
}

/// §6.3.2: "The overlay name MUST consist of a sequence of characters that would be
/// allowable as a DNS name". A node configured with another name refuses to start an
/// overlay, join or connect as a client, and sends nothing; `OverlayConfig::try_new`
/// refuses the name too. With a DNS name the same join sends its handshake Ping to the
/// wildcard, byte for byte. Any name used to be taken.
#[test]
fn a_node_whose_overlay_name_is_no_dns_name_refuses_to_start() {
    use reload_sim::proto::event::{CommandError, NodeState};
    use reload_sim::proto::node::Identity;
    let node_on = |cfg: &Arc<OverlayConfig>| {
        let me = Identity::new(NodeId(ME), "first@scripted.example.org");
        Node::new(cfg.clone(), me, scripted::addr(1), Time::ZERO, 7)
    };
    let bootstrap = [scripted::addr(2)];
    for name in [
        "my overlay",
        "under_score.example",
        "trailing.dot.",
        "-x",
        "",
    ] {
        assert!(OverlayConfig::try_new(name).is_err(), "{name:?}");
        let mut node = node_on(&Arc::new(OverlayConfig::new(name)));
        let refused = Err(CommandError::BadOverlayName);
        assert_eq!(node.start_overlay(Time::ZERO), refused, "{name:?}");
        assert_eq!(node.join(Time::ZERO, &bootstrap), refused, "{name:?}");
        assert_eq!(node.connect_client(Time::ZERO, &bootstrap), refused);
        assert_eq!(node.state(), NodeState::Idle);
        assert_eq!(node.poll_transmit(), None, "{name:?}");
    }
    let cfg = config();
    let mut node = node_on(&cfg);
    node.join(Time::ZERO, &bootstrap).unwrap();
    let out = sent(&mut node);
    let txid = decode(&out[0].1).header.transaction_id.0;
    let hs = vec![Destination::Node(NodeId::WILDCARD)];
    let want = scripted::from_first_node(&cfg, ME, txid, hs, vec![], ping());
    assert_eq!(out, vec![(bootstrap[0], want)]);
}

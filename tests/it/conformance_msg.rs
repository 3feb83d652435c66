//! RFC 6940 conformance of the message path: per-hop acks (§6.6.2), header checks at
//! receipt (§6.3.2, §6.3.2.1, §6.6, §13.6.5) and the routing decision (§6.1.1). One node,
//! scripted peers, exact bytes.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use proptest::prelude::*;

use reload_sim::proto::config::OverlayConfig;
use reload_sim::proto::event::{Event, RequestError};
use reload_sim::proto::id::{NodeId, TransactionId};
use reload_sim::proto::link::{Link, LinkState};
use reload_sim::proto::node::Node;
use reload_sim::proto::wire::error_response::{ErrorResponse, error_code};
use reload_sim::proto::wire::framing::Frame;
use reload_sim::proto::wire::topology::{ConfigUpdateReq, PingAns, PingReq};
use reload_sim::proto::wire::{Body, Destination, ForwardingHeader, MessageContents};
use reload_sim::time::{Duration, Time};

use crate::scripted::{self, Peer, config, decode, first_node, link_peer, sent, sent_acked};

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

fn test_addr() -> SocketAddr {
    "10.0.0.9:6084".parse().unwrap()
}

fn test_link() -> Link {
    Link::new(LinkState::Up, Time::ZERO)
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
            let (n, received) = ack_fields(&link.on_data(test_addr(), pos as u32).bytes);
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
        let out = sent(&mut node);
        assert_eq!(out[0], (p1.addr, want), "sequence {seq}");
        // Too old: a ConfigUpdate follows (conformance_config.rs has its bytes).
        let pushed = out
            .get(1)
            .map(|(_, m)| matches!(decode(m).contents.body, Body::ConfigUpdateReq(_)));
        let too_old = code == error_code::CONFIG_TOO_OLD;
        assert_eq!(pushed, too_old.then_some(true), "sequence {seq}");
    }
    assert_eq!(node.stats().dropped, 3);

    // 65535 on a ConfigUpdate passes the check (this empty one is then refused).
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
        matches!(decode(&out[0].1).contents.body, Body::Error(ref e) if e.code == error_code::INVALID_MESSAGE),
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

/// §6.1.1: a Resource-ID the node is responsible for "MUST be the only entry on the
/// Destination List. If there are other entries, the message MUST be silently dropped."
/// Whatever follows it (a Node-ID, another Resource-ID) and whether or not the node's own
/// Node-ID came first, nothing is sent (no answer, no error, no forwarding). Alone, the
/// same entry is delivered here.
#[test]
fn an_own_resource_id_before_other_entries_is_dropped_silently() {
    let cfg = config();
    let (mut node, mut p1, p2) = node_with_peers(&cfg);
    let delivered = node.stats().delivered;
    let me = Destination::Node(NodeId(ME));
    for (txid, dest) in [
        (0xd00u64, vec![own_key(), Destination::Node(p2.id)]),
        (0xd01, vec![own_key(), far_key()]),
        (0xd02, vec![me, own_key(), Destination::Node(p2.id)]),
    ] {
        let (f, _) = frame_with(&mut p1, &cfg, txid, vec![], dest.clone(), ping(), |_| {});
        node.handle_datagram(Time(3), p1.addr, &f);
        assert_eq!(sent(&mut node), vec![], "{dest:?}");
    }
    let s = node.stats();
    assert_eq!((s.malformed, s.forwarded, s.delivered), (3, 0, delivered));

    let (f, _) = frame_with(
        &mut p1,
        &cfg,
        0xd03,
        vec![],
        vec![own_key()],
        ping(),
        |_| {},
    );
    node.handle_datagram(Time(4), p1.addr, &f);
    let out = sent(&mut node);
    assert_eq!(out.len(), 1);
    assert!(matches!(decode(&out[0].1).contents.body, Body::PingAns(_)));
}

/// §6.1.1: "If the entry is a Node-ID which is not equal to this node, then the node MUST
/// drop the message silently unless the Node-ID corresponds to a node which is directly
/// connected to this node (i.e., a client)." A Ping for an unconnected Node-ID in the
/// node's range gets no answer and goes nowhere; once a client with that Node-ID has
/// linked, the same Ping is forwarded to it.
#[test]
fn a_node_id_in_range_is_dropped_unless_directly_connected() {
    let cfg = config();
    let (mut node, mut p1, _p2) = node_with_peers(&cfg);
    let mut client = Peer::new(12u128 << 124, 4);
    assert!(node.is_responsible(client.id));
    let to_client = vec![Destination::Node(client.id)];
    let (f, _) = frame_with(
        &mut p1,
        &cfg,
        0xd10,
        vec![],
        to_client.clone(),
        ping(),
        |_| {},
    );
    node.handle_datagram(Time(3), p1.addr, &f);
    assert_eq!(sent(&mut node), vec![], "silently: no answer, no error");
    assert_eq!((node.stats().no_route, node.stats().forwarded), (1, 0));

    scripted::handshake_only(&mut node, &cfg, &mut client, 0xd11);
    let (f, original) = frame_with(&mut p1, &cfg, 0xd12, vec![], to_client, ping(), |_| {});
    node.handle_datagram(Time(6), p1.addr, &f);
    let mut want = decode(&original);
    want.header.via_list.push(Destination::Node(p1.id));
    want.header.ttl -= 1;
    assert_eq!(
        sent(&mut node),
        vec![(client.addr, want.to_bytes().unwrap())]
    );
    assert_eq!(node.stats().no_route, 1);
}

/// §6.2.1: "When an originating node transmits a request, it MUST set a timer to the
/// current overlay-reliability-timer. If a response has not been received when the timer
/// fires, the request MUST be retransmitted with the same transaction identifier. ... After
/// the timer for the fifth transmission fires, the message MUST be considered to have
/// failed." Sends at 0, 3, 6, 9 and 12 s, byte for byte the same; a timeout before a timer
/// is due sends nothing; at 15 s the request fails with `Timeout`.
#[test]
fn an_unanswered_request_is_sent_five_times_then_fails() {
    let cfg = config();
    let (mut node, _p1, p2) = node_with_peers(&cfg);
    let t0 = Time::ZERO + Duration::from_secs(20);
    let _ = scripted::run_timers(&mut node, t0);
    assert_eq!(node.pending_requests(), 0, "the set-up's Updates are done");
    while node.poll_event().is_some() {}
    let retransmits = node.stats().request_retransmits;

    let req = node.ping(t0, Destination::Node(p2.id)).unwrap();
    let first = sent_acked(&mut node, t0);
    assert_eq!(first.len(), 1);
    let (to, message) = first[0].clone();
    assert_eq!(to, p2.addr);
    assert_eq!(decode(&message).header.transaction_id, req);
    let timer = cfg.reliability_timer;
    assert_eq!(timer, Duration::from_millis(3000));
    let mut due = t0 + timer;
    for send in 2..=6 {
        assert_eq!(node.poll_timeout(), Some(due), "timer of send {}", send - 1);
        node.handle_timeout(Time(due.0 - 1));
        assert_eq!(sent_acked(&mut node, due), vec![], "early: nothing");
        assert_eq!(node.poll_event(), None);
        node.handle_timeout(due);
        let out = sent_acked(&mut node, due);
        if send == 6 {
            assert_eq!(out, vec![], "no sixth send");
            break;
        }
        assert_eq!(out, vec![(p2.addr, message.clone())], "send {send}");
        due += timer;
    }
    assert_eq!(
        node.poll_event(),
        Some(Event::RequestDone {
            request: req,
            outcome: Err(RequestError::Timeout)
        })
    );
    assert_eq!(node.stats().request_retransmits, retransmits + 4);
    assert_eq!(node.pending_requests(), 0);
}

/// The transaction ids of 2,000 requests `ping`ed by a node seeded with `seed`; those the
/// link's window lets out at once are checked against the ids on the wire.
fn txids(seed: u64) -> Vec<u64> {
    let cfg = config();
    let mut node = scripted::first_node_seeded(&cfg, ME, seed);
    let mut p = Peer::new(9u128 << 124, 2);
    link_peer(&mut node, &cfg, &mut p, 0x100);
    let _ = sent(&mut node);
    let ids: Vec<u64> = (0..2000)
        .map(|_| node.ping(Time(3), Destination::Node(p.id)).unwrap().0)
        .collect();
    let wire: Vec<u64> = sent(&mut node)
        .iter()
        .map(|(_, m)| decode(m).header.transaction_id.0)
        .collect();
    assert!(wire.len() > 50);
    assert_eq!(wire, ids[..wire.len()]);
    ids
}

/// §6.3.2: "The transaction ID ... MUST be randomly generated by the originating peer."
/// 2,000 requests of one node carry 2,000 distinct nonzero ids, every one of the 64 bits is
/// set in 45–55 % of them, the same seed gives the same ids (a run can be replayed), and
/// another seed gives others.
#[test]
fn transaction_ids_are_random_distinct_and_seeded() {
    let ids = txids(7);
    assert!(ids.iter().all(|&id| id != 0));
    let distinct: BTreeSet<u64> = ids.iter().copied().collect();
    assert_eq!(distinct.len(), ids.len());
    for bit in 0..64 {
        let set = ids.iter().filter(|&&id| id & (1 << bit) != 0).count();
        assert!(
            (900..=1100).contains(&set),
            "bit {bit} set in {set} of 2000"
        );
    }
    assert_eq!(txids(7), ids, "deterministic for a seed");
    let other: BTreeSet<u64> = txids(8).into_iter().collect();
    assert!(other.is_disjoint(&distinct), "another seed, other ids");
}

/// A Resource-ID of the node's own range, by which [`own_key`] routes.
fn own_resource() -> reload_sim::proto::id::ResourceId {
    NodeId(ME >> 1).to_resource_id()
}

/// Requests the node refuses, each with the error it must answer: (body, code, error_info).
fn refused_requests() -> Vec<(Body, u16, &'static str)> {
    use reload_sim::proto::wire::attach::AttachReqAns;
    use reload_sim::proto::wire::storage::{
        ArrayRange, FetchReq, FindReq, KindId, SpecifierIndices, StoreKindData, StoreReq,
        StoredDataSpecifier,
    };
    use reload_sim::proto::wire::topology::LeaveReq;
    let resource = own_resource();
    let kind_data = |kind, generation_counter, values| StoreKindData {
        kind,
        generation_counter,
        values,
    };
    let store = |replica_number, kind_data| {
        Body::StoreReq(StoreReq {
            resource,
            replica_number,
            kind_data,
        })
    };
    let fetch = |kind, indices| {
        Body::FetchReq(FetchReq {
            resource,
            specifiers: vec![StoredDataSpecifier {
                kind,
                generation: 0,
                indices,
            }],
        })
    };
    let turn = KindId::TURN_SERVICE;
    let invalid = error_code::INVALID_MESSAGE;
    vec![
        (
            Body::Unknown {
                code: 0x101,
                body: vec![],
            },
            invalid,
            "unknown method",
        ),
        (
            Body::AttachReq(AttachReqAns {
                ufrag: vec![],
                password: vec![],
                role: b"passive".to_vec(),
                candidates: vec![],
                send_update: false,
            }),
            invalid,
            "no usable candidate",
        ),
        (
            store(
                0,
                vec![kind_data(turn, 0, vec![]), kind_data(turn, 0, vec![])],
            ),
            invalid,
            "Kind-ID appears twice in StoreReq",
        ),
        (
            fetch(
                KindId::CERTIFICATE_BY_USER,
                SpecifierIndices::Array(vec![ArrayRange { first: 5, last: 2 }]),
            ),
            invalid,
            "bad ArrayRange",
        ),
        (
            store(1, vec![kind_data(KindId::SIP_REGISTRATION, 0, vec![])]),
            invalid,
            "replica store with generation counter 0",
        ),
        (
            Body::FindReq(FindReq {
                resource,
                kinds: vec![turn, turn],
            }),
            invalid,
            "Kind-ID appears twice in FindReq",
        ),
        (
            fetch(KindId(0x7777), SpecifierIndices::Unknown(vec![])),
            error_code::UNKNOWN_KIND,
            "",
        ),
        (
            Body::LeaveReq(LeaveReq {
                leaving_peer_id: NodeId(42),
                chord: None,
            }),
            error_code::FORBIDDEN,
            "leave must come directly from the leaving peer",
        ),
        (
            Body::ConfigUpdateReq(ConfigUpdateReq::Kinds(vec![])),
            error_code::INVALID_MESSAGE,
            "no kind-block",
        ),
    ]
}

/// §6.3.3.1: Error_Invalid_Message "SHOULD be accompanied by a meaningful error_info
/// describing the error", and Error_Exp_A and Error_Exp_B "MUST NOT be used in operational
/// deployments". Every request the node can refuse as invalid (an unknown method, an
/// Attach without a usable candidate, a Kind twice in a Store or a Find, a value or
/// specifier of the wrong data model, an ArrayRange with first > last; the duplicate
/// Destination List entries of [`duplicate_destination_entries_get_invalid_message`]) is
/// answered with exactly its code and a text naming the fault, and the other refusals
/// with their own codes, never an experimental one. Error_Unknown_Kind carries the unknown
/// Kinds, not text (§6.3.3.1). (The data-model checks of the store are unit-tested: over
/// the wire a value or specifier of the wrong model does not decode.)
#[test]
fn every_refusal_names_its_code_and_cause() {
    use reload_sim::proto::wire::storage::KindId;
    let cfg = config();
    let (mut node, mut p1, _p2) = node_with_peers(&cfg);
    let to_me = vec![Destination::Node(NodeId(ME))];
    for (i, (body, code, info)) in refused_requests().into_iter().enumerate() {
        let txid = 0xf00 + i as u64;
        let (f, _) = frame_with(&mut p1, &cfg, txid, vec![], to_me.clone(), body, |_| {});
        node.handle_datagram(Time(10 + i as u64), p1.addr, &f);
        let error = if code == error_code::UNKNOWN_KIND {
            ErrorResponse::unknown_kinds(&[KindId(0x7777)]).unwrap()
        } else {
            ErrorResponse::new(code, info)
        };
        assert_ne!(error.code, error_code::EXP_A);
        assert_ne!(error.code, error_code::EXP_B);
        let want = scripted::from_first_node(
            &cfg,
            ME,
            txid,
            vec![Destination::Node(p1.id)],
            vec![],
            Body::Error(error),
        );
        assert_eq!(sent(&mut node), vec![(p1.addr, want)], "{info}");
    }
}

/// §7.4.4.2: "If the processing peer is not responsible for the specified Resource-ID, it
/// SHOULD return an Error_Not_Found error code." A Find addressed to the node for a
/// Resource-ID beyond its range is refused byte for byte; one for a Resource-ID of its own
/// range gets a FindAns.
#[test]
fn a_find_for_a_resource_id_not_ours_is_not_found() {
    use reload_sim::proto::wire::storage::{FindReq, KindId};
    let cfg = config();
    let (mut node, mut p1, _p2) = node_with_peers(&cfg);
    let to_me = vec![Destination::Node(NodeId(ME))];
    let find = |resource| {
        Body::FindReq(FindReq {
            resource,
            kinds: vec![KindId::SIP_REGISTRATION],
        })
    };
    let elsewhere = NodeId(4u128 << 124).to_resource_id();
    assert!(!node.is_responsible(NodeId(4u128 << 124)));
    let (f, _) = frame_with(
        &mut p1,
        &cfg,
        0xe10,
        vec![],
        to_me.clone(),
        find(elsewhere),
        |_| {},
    );
    node.handle_datagram(Time(3), p1.addr, &f);
    let want = error_from_node(
        &cfg,
        0xe10,
        vec![Destination::Node(p1.id)],
        error_code::NOT_FOUND,
        "not responsible for this Resource-ID",
    );
    assert_eq!(sent(&mut node), vec![(p1.addr, want)]);

    let (f, _) = frame_with(
        &mut p1,
        &cfg,
        0xe11,
        vec![],
        to_me,
        find(own_resource()),
        |_| {},
    );
    node.handle_datagram(Time(4), p1.addr, &f);
    let out = sent(&mut node);
    assert_eq!(out.len(), 1);
    assert!(matches!(decode(&out[0].1).contents.body, Body::FindAns(_)));
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

//! RFC 6940 conformance of the peer, one scripted node with exact bytes: forwarding options
//! (§6.3.2.3), message extensions (§6.3.3), fragment reassembly (§6.7), and a bounded
//! robustness property over random frames.

use reload_sim::proto::config::OverlayConfig;
use reload_sim::proto::id::NodeId;
use reload_sim::proto::node::Node;
use reload_sim::proto::wire::error_response::{ErrorResponse, error_code};
use reload_sim::proto::wire::header::{ForwardingOption, option_flags};
use reload_sim::proto::wire::message::extension_type;
use reload_sim::proto::wire::topology::{PingAns, PingReq};
use reload_sim::proto::wire::{
    Body, Destination, ForwardingHeader, MessageContents, MessageExtension,
};
use reload_sim::time::Time;

use crate::scripted::{self, Peer, config, decode, node_linked_to, sent};

const ME: u128 = 1u128 << 100;

fn header(
    cfg: &OverlayConfig,
    txid: u64,
    via: Vec<Destination>,
    dest: Vec<Destination>,
) -> ForwardingHeader {
    let mut h = scripted::header(cfg, txid, dest);
    h.via_list = via;
    h
}

/// The exact bytes the node sends as a response: TTL 100, signed by the node.
fn node_response(
    cfg: &OverlayConfig,
    txid: u64,
    dest: Vec<Destination>,
    options: Vec<ForwardingOption>,
    body: Body,
) -> Vec<u8> {
    scripted::from_first_node(cfg, ME, txid, dest, options, body)
}

fn option(option_type: u8, flags: u8, value: &[u8]) -> ForwardingOption {
    ForwardingOption {
        option_type,
        flags,
        value: value.to_vec(),
    }
}

/// The node with p1 (far side of the ring) and p2 (between the node and the key of
/// [`key_beyond_p2`]) linked.
fn forwarding_setup() -> (std::sync::Arc<OverlayConfig>, Node, Peer, Peer) {
    let cfg = config();
    let (node, [p1, p2]) = node_linked_to(&cfg, ME, [(9 << 124, 2), (3 << 124, 3)]);
    (cfg, node, p1, p2)
}

fn key_beyond_p2() -> Destination {
    Destination::Resource(NodeId(4u128 << 124).to_resource_id())
}

fn ping() -> MessageContents {
    MessageContents::new(Body::PingReq(PingReq::default()))
}

/// §6.3.2.3: "If the FORWARD_CRITICAL flag is set, any peer that would forward the message
/// but does not understand this option MUST reject the request with an
/// Error_Unsupported_Forwarding_Option error response." The error goes back on the reversed
/// Via List and carries the RESPONSE_COPY option with its flags cleared.
#[test]
fn forward_critical_option_is_refused_by_a_forwarding_peer() {
    let (cfg, mut node, mut p1, _p2) = forwarding_setup();
    let upstream = Destination::Node(NodeId(0xabc));
    let mut h = header(&cfg, 0x300, vec![upstream.clone()], vec![key_beyond_p2()]);
    h.options = vec![option(
        0x7f,
        option_flags::FORWARD_CRITICAL | option_flags::RESPONSE_COPY,
        &[1, 2],
    )];
    let (f, _) = p1.frame_header(&h, &ping());
    node.handle_datagram(Time(3), p1.addr, &f);
    let out = sent(&mut node);
    let expected = node_response(
        &cfg,
        0x300,
        vec![Destination::Node(p1.id), upstream],
        vec![option(0x7f, 0, &[1, 2])],
        Body::Error(ErrorResponse::new(
            error_code::UNSUPPORTED_FORWARDING_OPTION,
            "forwarding option type 127 is not supported",
        )),
    );
    assert_eq!(out, vec![(p1.addr, expected)]);
    assert_eq!(node.stats().forwarded, 0);
}

/// A DESTINATION_CRITICAL option is no business of a forwarding peer: forwarded as is.
#[test]
fn destination_critical_option_is_forwarded_unchanged() {
    let (cfg, mut node, mut p1, p2) = forwarding_setup();
    let mut h = header(&cfg, 0x301, vec![], vec![key_beyond_p2()]);
    h.options = vec![option(0x7f, option_flags::DESTINATION_CRITICAL, b"x")];
    let (f, original) = p1.frame_header(&h, &ping());
    node.handle_datagram(Time(3), p1.addr, &f);
    let out = sent(&mut node);
    let mut want = decode(&original);
    want.header.via_list.push(Destination::Node(p1.id));
    want.header.ttl -= 1;
    assert_eq!(out, vec![(p2.addr, want.to_bytes().unwrap())]);
}

/// §6.3.2.3: "If the DESTINATION_CRITICAL flag is set, any node that generates a response
/// to the message but does not understand the forwarding option MUST reject the request
/// with an Error_Unsupported_Forwarding_Option error response."
#[test]
fn destination_critical_option_is_refused_by_the_destination() {
    let cfg = config();
    let (mut node, [mut p]) = node_linked_to(&cfg, ME, [(9 << 124, 2)]);
    let mut h = header(&cfg, 0x400, vec![], vec![Destination::Node(NodeId(ME))]);
    h.options = vec![option(0x21, option_flags::DESTINATION_CRITICAL, &[])];
    let (f, _) = p.frame_header(&h, &ping());
    node.handle_datagram(Time(3), p.addr, &f);
    let expected = node_response(
        &cfg,
        0x400,
        vec![Destination::Node(p.id)],
        vec![],
        Body::Error(ErrorResponse::new(
            error_code::UNSUPPORTED_FORWARDING_OPTION,
            "forwarding option type 33 is not supported",
        )),
    );
    assert_eq!(sent(&mut node), vec![(p.addr, expected)]);
}

/// §6.3.2.3: "If the RESPONSE_COPY flag is set, any node generating a response MUST copy
/// the option from the request to the response except that the RESPONSE_COPY,
/// FORWARD_CRITICAL, and DESTINATION_CRITICAL flags MUST be cleared." Options without the
/// flag are not copied; FORWARD_CRITICAL means nothing at the destination.
#[test]
fn response_copy_option_is_copied_into_the_answer() {
    let cfg = config();
    let (mut node, [mut p]) = node_linked_to(&cfg, ME, [(9 << 124, 2)]);
    let mut h = header(&cfg, 0x500, vec![], vec![Destination::Node(NodeId(ME))]);
    h.options = vec![
        option(
            9,
            option_flags::RESPONSE_COPY | option_flags::FORWARD_CRITICAL | 0x80,
            b"abc",
        ),
        option(10, 0, b"not copied"),
    ];
    let (f, _) = p.frame_header(&h, &ping());
    node.handle_datagram(Time(3), p.addr, &f);
    let out = sent(&mut node);
    assert_eq!(out.len(), 1);
    let ans = decode(&out[0].1);
    assert!(matches!(ans.contents.body, Body::PingAns(_)), "{ans:?}");
    // Rebuilt from the (random) PingAns it carries: every other byte is fixed.
    let expected = node_response(
        &cfg,
        0x500,
        vec![Destination::Node(p.id)],
        vec![option(9, 0x80, b"abc")],
        ans.contents.body.clone(),
    );
    assert_eq!(out[0], (p.addr, expected));
}

fn ping_with_extension(ext_type: u16, critical: bool) -> MessageContents {
    let mut c = ping();
    c.extensions = vec![MessageExtension {
        ext_type,
        critical,
        contents: vec![0, 0, 0, 0],
    }];
    c
}

/// §6.3.3: "If critical = True and the recipient does not understand the message, it MUST
/// generate an Error_Unknown_Extension error."
#[test]
fn critical_unknown_extension_gets_error_unknown_extension() {
    let cfg = config();
    let (mut node, [mut p]) = node_linked_to(&cfg, ME, [(9 << 124, 2)]);
    let h = header(&cfg, 0x600, vec![], vec![Destination::Node(NodeId(ME))]);
    let (f, _) = p.frame_header(&h, &ping_with_extension(0x1234, true));
    node.handle_datagram(Time(3), p.addr, &f);
    let expected = node_response(
        &cfg,
        0x600,
        vec![Destination::Node(p.id)],
        vec![],
        Body::Error(ErrorResponse::new(
            error_code::UNKNOWN_EXTENSION,
            "extension type 4660 is not supported",
        )),
    );
    assert_eq!(sent(&mut node), vec![(p.addr, expected)]);
}

/// Diagnostic_Ping (RFC 7851) is decoded but not acted on, so this peer does not
/// understand it: marked critical (which RFC 7851 forbids its senders) it is refused;
/// non-critical (as RFC 7851 requires) it is ignored and the Ping answered.
#[test]
fn diagnostic_ping_extension_is_ignored_unless_critical() {
    let cfg = config();
    let (mut node, [mut p]) = node_linked_to(&cfg, ME, [(9 << 124, 2)]);
    let to_me = vec![Destination::Node(NodeId(ME))];
    let h = header(&cfg, 0x700, vec![], to_me.clone());
    let ext = extension_type::DIAGNOSTIC_PING;
    let (f, _) = p.frame_header(&h, &ping_with_extension(ext, true));
    node.handle_datagram(Time(3), p.addr, &f);
    let out = sent(&mut node);
    assert_eq!(out.len(), 1);
    match decode(&out[0].1).contents.body {
        Body::Error(e) => assert_eq!(e.code, error_code::UNKNOWN_EXTENSION),
        other => panic!("{other:?}"),
    }
    let h = header(&cfg, 0x701, vec![], to_me);
    let (f, _) = p.frame_header(&h, &ping_with_extension(ext, false));
    node.handle_datagram(Time(4), p.addr, &f);
    let out = sent(&mut node);
    assert_eq!(out.len(), 1);
    assert!(matches!(decode(&out[0].1).contents.body, Body::PingAns(_)));
}

/// An answer with a critical extension cannot be processed as its sender requires: it is
/// dropped, and the request stays pending (to be retransmitted).
#[test]
fn answer_with_a_critical_extension_is_dropped() {
    let cfg = config();
    let (mut node, [mut p]) = node_linked_to(&cfg, ME, [(9 << 124, 2)]);
    let req = node.ping(Time(3), Destination::Node(p.id)).unwrap();
    let out = sent(&mut node);
    let txid = decode(&out[0].1).header.transaction_id;
    assert_eq!(txid, req);
    let h = header(&cfg, txid.0, vec![], vec![Destination::Node(NodeId(ME))]);
    let mut c = MessageContents::new(Body::PingAns(PingAns {
        response_id: 1,
        time: 0,
    }));
    c.extensions = vec![MessageExtension {
        ext_type: 0x4321,
        critical: true,
        contents: vec![],
    }];
    let (f, _) = p.frame_header(&h, &c);
    while node.poll_event().is_some() {}
    let (malformed, pending) = (node.stats().malformed, node.pending_requests());
    node.handle_datagram(Time(4), p.addr, &f);
    assert_eq!(node.stats().malformed, malformed + 1);
    assert_eq!(node.pending_requests(), pending);
    assert!(node.poll_event().is_none());
}

#[path = "../../fuzz/node_driver.rs"]
mod node_driver;

/// One input to the node in [`a_joined_node_survives_random_and_mutated_frames`].
#[derive(Clone, Debug)]
enum Input {
    /// A datagram, as is.
    Datagram(u8, Vec<u8>),
    /// Any bytes as the message of a well-formed data frame from a linked peer.
    Framed(u8, Vec<u8>),
    /// A valid message with some bytes flipped and maybe cut short.
    Mutated(u8, usize, Vec<(u16, u8)>, Option<u16>),
    /// Time moves on (ms), due timers run.
    Advance(u32),
}

fn input() -> impl proptest::strategy::Strategy<Value = Input> {
    use proptest::collection::vec;
    use proptest::prelude::*;
    prop_oneof![
        1 => (any::<u8>(), vec(any::<u8>(), 0..200)).prop_map(|(f, b)| Input::Datagram(f, b)),
        1 => (any::<u8>(), vec(any::<u8>(), 0..200)).prop_map(|(f, b)| Input::Framed(f, b)),
        4 => (
            any::<u8>(),
            any::<usize>(),
            vec((any::<u16>(), 1..=255u8), 1..6),
            proptest::option::of(0..600u16),
        )
            .prop_map(|(f, t, e, c)| Input::Mutated(f, t, e, c)),
        1 => (0..20_000u32).prop_map(Input::Advance),
    ]
}

/// No input makes a joined node panic, leave, or send a datagram that is not a frame:
/// random bytes from linked, unknown and its own addresses, random messages in valid
/// frames, single-byte mutations and truncations of valid messages (Ping, forwarded Ping,
/// Update, PingAns, options and extensions), and timeouts. 1,000 cases of up to 12 inputs;
/// the `node_inputs` fuzz target runs the same driver without bounds.
#[test]
fn a_joined_node_survives_random_and_mutated_frames() {
    use proptest::collection::vec;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let config = Config {
        cases: 1000,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut runner = TestRunner::new_with_rng(config, rng);
    runner
        .run(&vec(input(), 1..12), |inputs| {
            let mut h = node_driver::Harness::new();
            for i in inputs {
                match i {
                    Input::Datagram(f, b) => h.datagram(f, &b),
                    Input::Framed(f, b) => h.framed(f, &b),
                    Input::Mutated(f, t, e, c) => h.mutated(f, t, &e, c),
                    Input::Advance(ms) => h.advance(ms),
                }
            }
            Ok(())
        })
        .unwrap();
    // The driver's byte interpreter (the fuzz target's entry point) on a fixed input:
    // a datagram, a framed message, a mutation and a timeout.
    let mut h = node_driver::Harness::new();
    assert!(h.template_count() >= 6);
    h.run_bytes(&[
        0, 2, 0, 3, 1, 2, 3, 1, 0, 0, 2, 0xff, 0xff, 2, 0, 1, 0, 0x80, 3, 0, 0x9c, 3,
    ]);
    assert!(h.node().stats().malformed > 0, "{:?}", h.node().stats());
}

/// `msg` cut into fragments at `cuts` (offsets into the data after the header), each with
/// a full copy of the header, `length` and `fragment` set (§6.7).
fn fragments(msg: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let view = reload_sim::proto::wire::HeaderView::parse(msg).unwrap();
    let (header, data) = msg.split_at(view.header_len());
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(data.len());
    bounds
        .windows(2)
        .map(|w| {
            let last = w[1] == data.len();
            let mut f = header.to_vec();
            let word = 0x8000_0000u32 | if last { 0x4000_0000 } else { 0 } | w[0] as u32;
            f[12..16].copy_from_slice(&word.to_be_bytes());
            f[16..20].copy_from_slice(&((header.len() + w[1] - w[0]) as u32).to_be_bytes());
            f.extend_from_slice(&data[w[0]..w[1]]);
            f
        })
        .collect()
}

fn padded_ping(cfg: &OverlayConfig, p: &mut Peer, txid: u64, padding: usize) -> Vec<u8> {
    let h = header(cfg, txid, vec![], vec![Destination::Node(NodeId(ME))]);
    let c = MessageContents::new(Body::PingReq(PingReq {
        padding: vec![0x5a; padding],
    }));
    p.frame_header(&h, &c).1
}

fn linked_node() -> (std::sync::Arc<OverlayConfig>, Node, Peer) {
    let cfg = config();
    let (node, [p]) = node_linked_to(&cfg, ME, [(9 << 124, 2)]);
    (cfg, node, p)
}

/// §6.7: "Upon receipt of a fragmented message by the intended peer, the peer holds the
/// fragments in a holding buffer until the entire message has been received. The message
/// is then reassembled into a single message and processed." Out of order, with a
/// duplicate, it is answered once, when the last missing fragment arrives.
#[test]
fn fragments_out_of_order_and_duplicated_are_reassembled() {
    let (cfg, mut node, mut p) = linked_node();
    let msg = padded_ping(&cfg, &mut p, 0x800, 900);
    let parts = fragments(&msg, &[400, 800]);
    for i in [2, 0, 0] {
        let f = p.frame_raw(&parts[i]);
        node.handle_datagram(Time(5), p.addr, &f);
        assert_eq!(sent(&mut node), vec![], "fragment {i} alone");
    }
    let f = p.frame_raw(&parts[1]);
    node.handle_datagram(Time(6), p.addr, &f);
    let out = sent(&mut node);
    assert_eq!(out.len(), 1);
    let ans = decode(&out[0].1);
    assert!(matches!(ans.contents.body, Body::PingAns(_)), "{ans:?}");
    let expected = node_response(
        &cfg,
        0x800,
        vec![Destination::Node(p.id)],
        vec![],
        ans.contents.body.clone(),
    );
    assert_eq!(out[0], (p.addr, expected));
    // A late duplicate starts nothing new: it waits alone and is never answered.
    let f = p.frame_raw(&parts[1]);
    node.handle_datagram(Time(7), p.addr, &f);
    assert_eq!(sent(&mut node), vec![]);
}

/// A message whose reassembled size exceeds max-message-size (5000) is refused with
/// Error_Message_Too_Large (§6.6, §6.3.3.1), though each fragment is small enough.
#[test]
fn a_reassembled_message_over_max_message_size_gets_error_message_too_large() {
    let (cfg, mut node, mut p) = linked_node();
    let msg = padded_ping(&cfg, &mut p, 0x900, 6000);
    let parts = fragments(&msg, &[3000]);
    let f = p.frame_raw(&parts[0]);
    node.handle_datagram(Time(5), p.addr, &f);
    assert_eq!(sent(&mut node), vec![]);
    let f = p.frame_raw(&parts[1]);
    node.handle_datagram(Time(6), p.addr, &f);
    let expected = node_response(
        &cfg,
        0x900,
        vec![Destination::Node(p.id)],
        vec![],
        Body::Error(ErrorResponse::new(
            error_code::MESSAGE_TOO_LARGE,
            "reassembled message exceeds max-message-size 5000",
        )),
    );
    assert_eq!(sent(&mut node), vec![(p.addr, expected)]);
}

/// Incomplete messages are dropped 15 s after their first fragment (§6.7), and one sender
/// may hold at most 2 × max-message-size bytes: a fragment beyond that drops its message,
/// the messages already held still complete.
#[test]
fn fragments_time_out_and_buffers_are_bounded_per_sender() {
    let (cfg, mut node, mut p) = linked_node();
    let msg = padded_ping(&cfg, &mut p, 0xa00, 900);
    let parts = fragments(&msg, &[400, 800]);
    for i in [0, 1] {
        let f = p.frame_raw(&parts[i]);
        node.handle_datagram(Time(5), p.addr, &f);
    }
    let late = Time(5) + reload_sim::time::Duration::from_secs(15);
    let f = p.frame_raw(&parts[2]);
    node.handle_datagram(late, p.addr, &f);
    assert_eq!(sent(&mut node), vec![], "the first two fragments expired");

    // Four messages of about 4,300 bytes, first fragments of about 2,460 bytes each.
    let msgs: Vec<Vec<u8>> = (0..4)
        .map(|i| padded_ping(&cfg, &mut p, 0xb00 + i, 4000))
        .collect();
    let parts: Vec<Vec<Vec<u8>>> = msgs.iter().map(|m| fragments(m, &[2400])).collect();
    let dropped = node.stats().dropped;
    for m in &parts {
        let f = p.frame_raw(&m[0]);
        node.handle_datagram(late, p.addr, &f);
    }
    // With the expired message's last fragment (about 410 bytes), three fit in 10,000
    // bytes, and each one's second fragment (about 1,950) too; the fourth does not.
    assert_eq!(node.stats().dropped, dropped + 1);
    for m in &parts {
        let f = p.frame_raw(&m[1]);
        node.handle_datagram(late, p.addr, &f);
    }
    let answered: Vec<u64> = sent(&mut node)
        .iter()
        .map(|(_, m)| decode(m).header.transaction_id.0)
        .collect();
    assert_eq!(answered, vec![0xb00, 0xb01, 0xb02], "{:?}", node.stats());
}

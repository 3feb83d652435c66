//! RFC 6940 conformance of the message path: per-hop acks (§6.6.2), header checks at
//! receipt (§6.3.2, §6.3.2.1, §6.6, §13.6.5) and the routing decision (§6.1.1). One node,
//! scripted peers, exact bytes.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use proptest::prelude::*;

use reload_sim::proto::id::NodeId;
use reload_sim::proto::link::{Link, LinkState};
use reload_sim::proto::wire::framing::Frame;
use reload_sim::proto::wire::topology::PingReq;
use reload_sim::proto::wire::{Body, Destination};
use reload_sim::time::Time;

use crate::scripted::{Peer, config, first_node};

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

//! RFC 6940 §6.5.1 and §10 (CHORD-RELOAD) conformance: scripted single-node tests with exact
//! messages in and out, plus multi-node checks on the in-memory harness where a behaviour
//! needs several nodes.

use reload_sim::proto::config::OverlayConfig;
use reload_sim::proto::id::NodeId;
use reload_sim::proto::wire::chord::ChordRouteQueryAns;
use reload_sim::proto::wire::error_response::error_code;
use reload_sim::proto::wire::topology::RouteQueryReq;
use reload_sim::proto::wire::{Body, Destination};
use reload_sim::time::Time;

use crate::scripted::{
    Peer, addr, attach_body, config, decode, first_node, handshake_only, link_peer, node_linked_to,
    sent,
};

/// §10.8: "the responder SHOULD initiate an Update immediately after sending the
/// RouteQueryAns": the answer leaves first, then the Update (type full).
#[test]
fn route_query_update_follows_the_answer() {
    let cfg = config();
    let me = 1u128 << 100;
    let (mut node, [mut p1, p2]) = node_linked_to(&cfg, me, [(9 << 124, 2), (3 << 124, 3)]);
    let rq = RouteQueryReq {
        send_update: true,
        destination: Destination::Resource(NodeId(4u128 << 124).to_resource_id()),
        overlay_specific_data: vec![],
    };
    let (f, _) = p1.frame(
        &cfg,
        0x400,
        vec![],
        vec![Destination::Node(NodeId(me))],
        Body::RouteQueryReq(rq),
    );
    node.handle_datagram(Time(4), p1.addr, &f);
    let out = sent(&mut node);
    assert_eq!(out.len(), 2, "an answer and an Update");
    assert_eq!(out[0].0, p1.addr);
    assert_eq!(
        decode(&out[0].1).contents.body,
        Body::RouteQueryAns(ChordRouteQueryAns { next_peer: p2.id })
    );
    assert_eq!(out[1].0, p1.addr);
    let Body::UpdateReq(u) = decode(&out[1].1).contents.body else {
        panic!("second message is not an Update")
    };
    assert!(matches!(
        u.kind,
        reload_sim::proto::wire::chord::ChordUpdateKind::Full { .. }
    ));
}

/// §6.5.1.2: Error_In_Progress means "an Attach to this peer is already in progress"; an
/// Attach refused because the Connection Table is full of needed links is answered with
/// Error_Forbidden instead ("overloaded … MAY generate an error").
#[test]
fn a_full_connection_table_refuses_an_attach_with_forbidden() {
    let mut c = OverlayConfig::new("scripted.example.org");
    c.max_connections = 2;
    let cfg = std::sync::Arc::new(c);
    let me = 1u128 << 100;
    let (mut node, [mut p1, _p2]) = node_linked_to(&cfg, me, [(9 << 124, 2), (3 << 124, 3)]);
    // p3 Attaches through p1 (its frame travels on p1's link).
    let mut p3 = Peer::new(5u128 << 124, 4);
    p3.seq = p1.seq;
    let (f, _) = p3.frame(
        &cfg,
        0x500,
        vec![Destination::Node(p3.id)],
        vec![Destination::Node(NodeId(me))],
        attach_body(addr(4), "passive", false),
    );
    p1.seq += 1;
    node.handle_datagram(Time(5), p1.addr, &f);
    let out = sent(&mut node);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, p1.addr);
    let ans = decode(&out[0].1);
    let Body::Error(e) = ans.contents.body else {
        panic!("not an error: {:?}", ans.contents.body)
    };
    assert_eq!(e.code, error_code::FORBIDDEN);
    assert_eq!(node.connection_count(), 2);
}

/// §10.6: an Attach to a new neighbour is source-routed through the peer from which its
/// Node-ID was learned. A Leave names the leaver's successors (or predecessors) in ring
/// order; the leaver itself is gone, so the Attach goes through the entry of that list next
/// to the new peer (its neighbour, hence linked to it), not through an unrelated first
/// Routing Table entry.
#[test]
fn an_attach_learned_from_a_leave_is_source_routed_through_the_leave_list() {
    use reload_sim::proto::wire::chord::ChordLeaveData;
    use reload_sim::proto::wire::topology::LeaveReq;
    let cfg = config();
    let me = 8u128 << 124;
    let mut node = first_node(&cfg, me);
    let mut pred = Peer::new(7u128 << 124, 2);
    let mut leaver = Peer::new(9u128 << 124, 3);
    let mut next = Peer::new(10u128 << 124, 4);
    let new = NodeId(11u128 << 124);
    link_peer(&mut node, &cfg, &mut pred, 0x100);
    link_peer(&mut node, &cfg, &mut leaver, 0x200);
    link_peer(&mut node, &cfg, &mut next, 0x300);
    assert_eq!(node.predecessors().first(), Some(&pred.id));
    let _ = sent(&mut node);
    let leave = LeaveReq {
        leaving_peer_id: leaver.id,
        chord: Some(ChordLeaveData::FromSuccessor(vec![next.id, new])),
    };
    let (f, _) = leaver.frame(
        &cfg,
        0x600,
        vec![],
        vec![Destination::Node(NodeId(me))],
        Body::LeaveReq(leave),
    );
    node.handle_datagram(Time(6), leaver.addr, &f);
    let attaches: Vec<_> = sent(&mut node)
        .into_iter()
        .filter(|(_, m)| matches!(decode(m).contents.body, Body::AttachReq(_)))
        .collect();
    assert_eq!(attaches.len(), 1, "one Attach, to the new successor");
    assert_eq!(attaches[0].0, next.addr);
    assert_eq!(
        decode(&attaches[0].1).header.destination_list,
        vec![Destination::Node(next.id), Destination::Node(new)]
    );
}

/// The Updates among `out` and where they went.
fn updates(out: &[(std::net::SocketAddr, Vec<u8>)]) -> Vec<std::net::SocketAddr> {
    out.iter()
        .filter(|(_, m)| matches!(decode(m).contents.body, Body::UpdateReq(_)))
        .map(|(a, _)| *a)
        .collect()
}

/// §10.7.3 "When a peer discovers that its range of responsible IDs has changed, it MUST
/// send an Update to all entries in its Connection Table" (and §10.7.1, §6.4.1: clients
/// included). A neighbour change that leaves the range alone stays among the neighbours.
#[test]
fn a_range_change_updates_the_whole_connection_table() {
    let cfg = config();
    let me = 8u128 << 124;
    let mut node = first_node(&cfg, me);
    let mut p1 = Peer::new(2u128 << 124, 2);
    let mut client = Peer::new(5u128 << 124, 3);
    link_peer(&mut node, &cfg, &mut p1, 0x100);
    handshake_only(&mut node, &cfg, &mut client, 0x900);
    let _ = sent(&mut node);

    // A nearer predecessor: our range shrinks to (6 << 124, me].
    let mut p2 = Peer::new(6u128 << 124, 4);
    link_peer(&mut node, &cfg, &mut p2, 0x200);
    assert_eq!(node.predecessors().first(), Some(&p2.id));
    let to = updates(&sent(&mut node));
    assert!(to.contains(&p1.addr) && to.contains(&p2.addr), "{to:?}");
    assert!(
        to.contains(&client.addr),
        "the client hears of the range change"
    );

    // A new successor only: the first predecessor stays, the client hears nothing.
    let mut p3 = Peer::new(12u128 << 124, 5);
    link_peer(&mut node, &cfg, &mut p3, 0x300);
    assert_eq!(node.predecessors().first(), Some(&p2.id));
    let to = updates(&sent(&mut node));
    assert!(to.contains(&p3.addr), "{to:?}");
    assert!(!to.contains(&client.addr), "{to:?}");
}

/// A client whose peer's Update shows the client's Node-ID outside the peer's range
/// attaches to the new responsible peer at once, not at its next periodic check.
#[test]
fn a_client_follows_an_update_showing_its_peer_no_longer_responsible() {
    use reload_sim::proto::event::NodeState;
    use reload_sim::proto::node::{Identity, Node};
    use reload_sim::proto::wire::chord::{ChordUpdate, ChordUpdateKind};
    use reload_sim::proto::wire::topology::PingAns;
    let cfg = config();
    let me = 5u128 << 124;
    let mut node = Node::new(
        cfg.clone(),
        Identity::new(NodeId(me), "client@scripted.example.org"),
        addr(1),
        Time::ZERO,
        3,
    );
    let mut peer = Peer::new(8u128 << 124, 2);
    node.connect_client(Time(1), &[peer.addr]).unwrap();
    let hs = decode(&sent(&mut node)[0].1);
    let (f, _) = peer.frame(
        &cfg,
        hs.header.transaction_id.0,
        vec![],
        vec![Destination::Node(NodeId(me))],
        Body::PingAns(PingAns {
            response_id: 1,
            time: 0,
        }),
    );
    node.handle_datagram(Time(2), peer.addr, &f);
    let attach = decode(&sent(&mut node)[0].1);
    assert!(matches!(attach.contents.body, Body::AttachReq(_)));
    let (f, _) = peer.frame(
        &cfg,
        attach.header.transaction_id.0,
        vec![],
        vec![Destination::Node(NodeId(me))],
        attach_body(peer.addr, "active", false),
    );
    node.handle_datagram(Time(3), peer.addr, &f);
    let _ = sent(&mut node);
    assert_eq!(node.state(), NodeState::Client);
    assert_eq!(node.client_peer(), Some(peer.id));

    // The peer's range shrank to (6 << 124, 8 << 124]: our id 5 << 124 went elsewhere.
    let up = ChordUpdate {
        uptime: 9,
        kind: ChordUpdateKind::Neighbors {
            predecessors: vec![NodeId(6u128 << 124)],
            successors: vec![],
        },
    };
    let (f, _) = peer.frame(
        &cfg,
        0x700,
        vec![],
        vec![Destination::Node(NodeId(me))],
        Body::UpdateReq(up),
    );
    node.handle_datagram(Time(4), peer.addr, &f);
    let msgs: Vec<_> = sent(&mut node).iter().map(|(_, m)| decode(m)).collect();
    assert!(matches!(msgs[0].contents.body, Body::UpdateAns));
    let again = msgs
        .iter()
        .find(|m| matches!(m.contents.body, Body::AttachReq(_)))
        .expect("an Attach to the new responsible peer");
    assert_eq!(
        again.header.destination_list,
        vec![Destination::Resource(NodeId(me).to_resource_id())]
    );
}

/// With the default `chord_update_interval` (600 s), a client moves to a peer that joined
/// between it and its old peer within seconds: the old peer's range changed and it Updated
/// its whole Connection Table (§10.7.3).
#[test]
fn a_client_moves_within_seconds_of_a_join_taking_its_id() {
    use crate::harness::{Net, addr as net_addr};
    use reload_sim::proto::event::NodeState;
    use reload_sim::time::Duration;
    let mut net = Net::ring(
        8,
        Duration::from_millis(300),
        OverlayConfig::new("test.example.org"),
    );
    net.run_for(Duration::from_secs(20));
    let ids = net.ring_ids();
    let (lo, hi) = (ids[2], ids[3]);
    let x = NodeId(lo.0 + lo.distance_to(hi) / 4);
    let c = net.add_with_id(x);
    let now = net.now;
    net.node_mut(c).connect_client(now, &[net_addr(0)]).unwrap();
    net.service(c);
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.node(c).state(), NodeState::Client);
    assert_eq!(net.node(c).client_peer(), Some(hi));

    let p = net.add_with_id(NodeId(x.0 + x.distance_to(hi) / 2));
    let now = net.now;
    net.node_mut(p).join(now, &[net_addr(0)]).unwrap();
    net.service(p);
    net.run_for(Duration::from_secs(10));
    assert_eq!(net.node(p).state(), NodeState::Joined);
    assert_eq!(net.node(c).client_peer(), Some(net.node(p).node_id()));
}

/// §10.7.2 "If using reactive recovery, the peer MUST initiate a search for a new Finger
/// Table entry": a finger whose link goes sends a finger-search Ping into its entry's range
/// at once, not at the next `chord_ping_interval`.
#[test]
fn a_failed_finger_starts_a_search_for_a_new_one() {
    use reload_sim::proto::wire::Destination;
    let cfg = config();
    let me = 1u128 << 100;
    let mut node = first_node(&cfg, me);
    // Entry 1 covers [me + 2^126, me + 2^127): `far` holds it; `pred` (entry 0) owns it
    // once `far` is gone, and `near` is the closest preceding hop toward it.
    let mut far = Peer::new(5u128 << 124, 2);
    let mut near = Peer::new(1u128 << 124, 3);
    let mut pred = Peer::new(14u128 << 124, 4);
    link_peer(&mut node, &cfg, &mut far, 0x100);
    link_peer(&mut node, &cfg, &mut near, 0x200);
    link_peer(&mut node, &cfg, &mut pred, 0x300);
    assert!(node.fingers().contains(&far.id));
    let _ = sent(&mut node);
    node.handle_link_close(Time(10), far.addr);
    assert!(!node.fingers().contains(&far.id));
    let out = sent(&mut node);
    let searches: Vec<NodeId> = out
        .iter()
        .filter(|(a, _)| *a == near.addr)
        .map(|(_, m)| decode(m))
        .filter(|m| matches!(m.contents.body, Body::PingReq(_)))
        .filter_map(|m| match m.header.destination_list.first() {
            Some(Destination::Resource(r)) => r.ring_position(),
            _ => None,
        })
        .collect();
    assert_eq!(searches.len(), 1, "{searches:?}");
    let (start, len) = reload_sim::proto::chord::FingerTable::range(NodeId(me), 1);
    assert!(start.distance_to(searches[0]) < len);
}

/// The Attaches `node` sends after `p1`'s Update (transaction `txid`) names `x` as a nearer
/// neighbour.
fn attaches_after_update_naming(
    node: &mut reload_sim::proto::node::Node,
    cfg: &OverlayConfig,
    p1: &mut Peer,
    x: NodeId,
    txid: u64,
) -> Vec<reload_sim::proto::wire::Message> {
    use reload_sim::proto::wire::chord::{ChordUpdate, ChordUpdateKind};
    let up = ChordUpdate {
        uptime: 9,
        kind: ChordUpdateKind::Neighbors {
            predecessors: vec![x],
            successors: vec![],
        },
    };
    let (f, _) = p1.frame(
        cfg,
        txid,
        vec![],
        vec![Destination::Node(node.node_id())],
        Body::UpdateReq(up),
    );
    node.handle_datagram(Time(20), p1.addr, &f);
    sent(node)
        .iter()
        .map(|(_, m)| decode(m))
        .filter(|m| matches!(m.contents.body, Body::AttachReq(_)))
        .collect()
}

/// Makes `node` (linked to `p1`) Attach to `x`: `p1`'s Update names `x` as a nearer
/// neighbour. Returns the Attach sent, source-routed through `p1`.
fn provoke_attach(
    node: &mut reload_sim::proto::node::Node,
    cfg: &OverlayConfig,
    p1: &mut Peer,
    x: NodeId,
) -> reload_sim::proto::wire::Message {
    let mut attaches = attaches_after_update_naming(node, cfg, p1, x, 0x800);
    assert_eq!(attaches.len(), 1, "an Attach to x");
    let attach = attaches.remove(0);
    assert_eq!(
        attach.header.destination_list,
        vec![Destination::Node(p1.id), Destination::Node(x)]
    );
    attach
}

/// `x`'s Attach to `node`, forwarded by `p1`; returns `node`'s answer body.
fn crossing_attach(
    node: &mut reload_sim::proto::node::Node,
    cfg: &OverlayConfig,
    p1: &mut Peer,
    x: &mut Peer,
    at: Time,
) -> Body {
    x.seq = p1.seq;
    let (f, _) = x.frame(
        cfg,
        0x801,
        vec![Destination::Node(x.id)],
        vec![Destination::Node(node.node_id())],
        attach_body(x.addr, "passive", false),
    );
    p1.seq += 1;
    node.handle_datagram(at, p1.addr, &f);
    let out = sent(node);
    out.iter()
        .map(|(_, m)| decode(m))
        .find(|m| m.header.transaction_id.0 == 0x801)
        .expect("an answer to x's Attach")
        .contents
        .body
}

/// §6.5.1.2 tie-breaker for crossing Attaches: with our own Attach to the sender still
/// unanswered, the larger Node-ID answers Error_In_Progress and keeps its own; the smaller
/// cancels its own (no retransmission) and answers with an AttachReqAns.
#[test]
fn crossing_attaches_follow_the_tie_breaker() {
    let cfg = config();
    for (me, larger) in [(8u128 << 124, true), (6u128 << 124, false)] {
        let (mut node, [mut p1]) = node_linked_to(&cfg, me, [(2 << 124, 2)]);
        let mut x = Peer::new(7u128 << 124, 5);
        let ours = provoke_attach(&mut node, &cfg, &mut p1, x.id);
        let pending = node.pending_requests();
        let ans = crossing_attach(&mut node, &cfg, &mut p1, &mut x, Time(21));
        if larger {
            assert!(
                matches!(ans, Body::Error(ref e) if e.code == error_code::IN_PROGRESS),
                "{ans:?}"
            );
            assert_eq!(node.pending_requests(), pending, "ours is kept");
        } else {
            assert!(matches!(ans, Body::AttachAns(_)), "{ans:?}");
            assert_eq!(node.pending_requests(), pending - 1, "ours is cancelled");
            // Its late answer matches nothing.
            let unmatched = node.stats().unmatched_answers;
            x.seq = p1.seq;
            let (f, _) = x.frame(
                &cfg,
                ours.header.transaction_id.0,
                vec![Destination::Node(x.id)],
                vec![Destination::Node(NodeId(me))],
                attach_body(x.addr, "active", false),
            );
            p1.seq += 1;
            node.handle_datagram(Time(22), p1.addr, &f);
            assert_eq!(node.stats().unmatched_answers, unmatched + 1);
        }
    }
}

/// A node at 6 << 124 linked to p1 (2 << 124) whose Attach to x (7 << 124), source-routed
/// through p1, x has answered: the node's handshake to x's address is out. (node, p1, x,
/// the handshake Ping, the Attach).
fn handshaking_with_x() -> (
    reload_sim::proto::node::Node,
    Peer,
    Peer,
    reload_sim::proto::wire::Message,
    reload_sim::proto::wire::Message,
) {
    let cfg = config();
    let me = 6u128 << 124;
    let (mut node, [mut p1]) = node_linked_to(&cfg, me, [(2 << 124, 2)]);
    let x = Peer::new(7u128 << 124, 5);
    let ours = provoke_attach(&mut node, &cfg, &mut p1, x.id);
    let to_me = vec![Destination::Node(NodeId(me))];
    let answer = attach_body(x.addr, "active", false);
    let f = p1.relay(&cfg, x.id, ours.header.transaction_id.0, to_me, answer);
    node.handle_datagram(Time(21), p1.addr, &f);
    let (_, hs) = sent(&mut node)
        .into_iter()
        .find(|(a, _)| *a == x.addr)
        .expect("the handshake to x");
    (node, p1, x, decode(&hs), ours)
}

/// §6.5.1.2: our Attach to the sender was answered and the handshake over the link (the
/// stand-in for ICE and (D)TLS) is under way: a crossing Attach gets Error_In_Progress.
#[test]
fn an_attach_during_our_handshake_is_in_progress() {
    let cfg = config();
    let (mut node, mut p1, mut x, _, _) = handshaking_with_x();
    let ans = crossing_attach(&mut node, &cfg, &mut p1, &mut x, Time(22));
    assert!(
        matches!(ans, Body::Error(ref e) if e.code == error_code::IN_PROGRESS),
        "{ans:?}"
    );
}

/// §6.4.2.1, §6.5.1.11 channel binding: a link is bound to the identity that set it up.
/// Over an up link, another signer's request is refused; only a new handshake (a new
/// (D)TLS connection from a node restarted at that address) binds a new link to it.
#[test]
fn an_up_link_is_bound_to_its_peer() {
    use reload_sim::proto::wire::chord::{ChordUpdate, ChordUpdateKind};
    use reload_sim::proto::wire::topology::PingReq;
    let cfg = config();
    let me = 8u128 << 124;
    let (mut node, [p1]) = node_linked_to(&cfg, me, [(2 << 124, 2)]);
    // Another Node-ID speaks from p1's address, not as a handshake: refused.
    let mut other = Peer::new(5u128 << 124, 2);
    other.seq = p1.seq;
    let up = ChordUpdate {
        uptime: 1,
        kind: ChordUpdateKind::PeerReady,
    };
    let (f, _) = other.frame(
        &cfg,
        0xa00,
        vec![],
        vec![Destination::Node(NodeId(me))],
        Body::UpdateReq(up),
    );
    node.handle_datagram(Time(30), p1.addr, &f);
    let out = sent(&mut node);
    assert!(
        !out.iter()
            .any(|(_, m)| decode(m).header.transaction_id.0 == 0xa00),
        "no answer to a message that does not match the link's identity"
    );
    assert_eq!(node.successors().first(), Some(&p1.id));
    assert_eq!(node.connections()[0].1, Some(p1.id));

    // A new handshake from that address: the old peer is gone, a new link is bound.
    let (f, _) = other.frame(
        &cfg,
        0xa01,
        vec![],
        vec![Destination::Node(NodeId::WILDCARD)],
        Body::PingReq(PingReq::default()),
    );
    node.handle_datagram(Time(31), p1.addr, &f);
    let out = sent(&mut node);
    let ans = out
        .iter()
        .map(|(_, m)| decode(m))
        .find(|m| m.header.transaction_id.0 == 0xa01)
        .expect("the handshake is answered");
    assert!(matches!(ans.contents.body, Body::PingAns(_)));
    assert_eq!(
        ans.header.destination_list,
        vec![Destination::Node(other.id)]
    );
    assert!(node.successors().is_empty());
    assert_eq!(node.connections().len(), 1);
    assert_eq!(node.connections()[0].1, Some(other.id));
}

/// §6.5.1.11: "The certificate exchanged during the TLS or DTLS handshake MUST match the
/// node which sent the AttachReqAns, and if it does not, the connection MUST be closed."
#[test]
fn a_handshake_from_the_wrong_node_closes_the_link() {
    use reload_sim::proto::wire::topology::PingReq;
    let cfg = config();
    let me = 8u128 << 124;
    let (mut node, [mut p1]) = node_linked_to(&cfg, me, [(2 << 124, 2)]);
    // x Attaches through p1, offering address 10.0.0.5.
    let mut x = Peer::new(5u128 << 124, 5);
    let ans = crossing_attach(&mut node, &cfg, &mut p1, &mut x, Time(40));
    assert!(matches!(ans, Body::AttachAns(_)), "{ans:?}");
    assert_eq!(node.connections().len(), 2);
    // The handshake from x's address is signed by someone else.
    let mut y = Peer::new(6u128 << 124, 5);
    let (f, _) = y.frame(
        &cfg,
        0xb00,
        vec![],
        vec![Destination::Node(NodeId(me))],
        Body::PingReq(PingReq::default()),
    );
    node.handle_datagram(Time(41), x.addr, &f);
    let out = sent(&mut node);
    assert!(
        !out.iter()
            .any(|(_, m)| decode(m).header.transaction_id.0 == 0xb00),
        "not answered"
    );
    assert_eq!(
        node.connections().len(),
        1,
        "the link to x's address is closed"
    );
    assert_eq!(node.connections()[0].1, Some(p1.id));
}

/// Two overlays formed apart: nodes 0–4 in one, nodes 5–7 in another whose joiners also
/// know node 0 as a bootstrap peer; a partition check every `interval` (zero: none).
fn two_overlays(interval: reload_sim::time::Duration) -> crate::harness::Net {
    use crate::harness::{Net, addr as net_addr};
    use reload_sim::time::Duration;
    let mut cfg = Net::fast_config();
    cfg.partition_check_interval = interval;
    let mut net = Net::start(cfg);
    for _ in 0..4 {
        net.run_for(Duration::from_millis(300));
        net.join_new();
    }
    let b = net.add();
    let now = net.now;
    net.node_mut(b).start_overlay(now).unwrap();
    net.service(b);
    for _ in 0..2 {
        net.run_for(Duration::from_millis(300));
        let i = net.add();
        let now = net.now;
        net.node_mut(i)
            .join(now, &[net_addr(b), net_addr(0)])
            .unwrap();
        net.service(i);
    }
    net
}

/// §10.7.4.4: a peer periodically Pings its own id + 1 through a bootstrap peer; an answer
/// from someone other than its successor reveals a partition, healed by an Attach through
/// the bootstrap peer and an Update. Two overlays formed apart merge into one ring.
#[test]
fn partitioned_overlays_merge_through_the_partition_check() {
    use reload_sim::time::Duration;
    let mut net = two_overlays(Duration::from_secs(30));
    net.run_for(Duration::from_secs(5));
    assert!(
        !net.ring_errors().is_empty(),
        "two rings before any partition check"
    );
    net.run_for(Duration::from_secs(240));
    assert_eq!(net.ring_errors(), Vec::<String>::new());
}

/// Without the check (interval zero) the two overlays stay apart: the merge above is the
/// partition check's doing.
#[test]
fn partitioned_overlays_stay_apart_without_the_check() {
    use reload_sim::time::Duration;
    let mut net = two_overlays(Duration::ZERO);
    net.run_for(Duration::from_secs(245));
    assert!(!net.ring_errors().is_empty());
}

/// §10.7.1: "If connectivity is lost to all the peers in the Finger Table, this peer
/// SHOULD assume that it has been disconnected from the rest of the network, and it
/// SHOULD periodically try to join the DHT." Peer A keeps only a peer closer than its
/// nearest finger interval when the far peer (also the bootstrap peer) crashes: A starts
/// the join's discovery through its bootstrap address at once (a new link to it), though
/// the regular partition check is an hour away.
#[test]
fn losing_every_finger_starts_discovery_through_the_bootstrap() {
    use crate::harness::{Net, addr as net_addr};
    use reload_sim::proto::link::LinkState;
    use reload_sim::time::Duration;
    let mut cfg = Net::fast_config();
    cfg.partition_check_interval = Duration::from_secs(3600);
    let mut net = Net::new(cfg);
    let z = net.add_with_id(NodeId(1 << 127));
    let now = net.now;
    net.node_mut(z).start_overlay(now).unwrap();
    net.service(z);
    let join = |net: &mut Net, id: u128| {
        let i = net.add_with_id(NodeId(id));
        let now = net.now;
        net.node_mut(i).join(now, &[net_addr(z)]).unwrap();
        net.service(i);
        net.run_for(Duration::from_secs(2));
        i
    };
    let a = join(&mut net, 1 << 100);
    let b = join(&mut net, (1 << 100) + (1 << 90));
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.node(a).fingers(), vec![NodeId(1 << 127)]);
    assert!(
        net.node(a)
            .successors()
            .contains(&NodeId((1 << 100) + (1 << 90)))
    );
    net.crash(z);
    let bootstrap_link = |net: &Net| {
        net.node(a)
            .connections()
            .into_iter()
            .find(|c| c.0 == net_addr(z))
            .map(|c| c.2)
    };
    // Steps of 100 ms: when the finger table empties, when the old link to the
    // bootstrap address is gone, and when a new one (the discovery) is being set up.
    let (mut cut_off, mut gone, mut rediscovered) = (None, None, None);
    for step in 0..600 {
        net.run_for(Duration::from_millis(100));
        if cut_off.is_none() && net.node(a).fingers().is_empty() {
            cut_off = Some(step);
        }
        match bootstrap_link(&net) {
            None if gone.is_none() => gone = Some(step),
            Some(LinkState::Handshaking) if gone.is_some() => {
                rediscovered = Some(step);
                break;
            }
            _ => {}
        }
    }
    let cut_off = cut_off.expect("A noticed the crash");
    let rediscovered = rediscovered.expect("a new discovery through the bootstrap address");
    // Within chord_update_interval (20 s) ± 10 % of losing the last finger.
    assert!(rediscovered - cut_off <= 230, "{cut_off} → {rediscovered}");
    assert!(net.node(b).state() == reload_sim::proto::event::NodeState::Joined);
}

/// §10.7.1: "If connectivity is lost to all successor peers in the Neighbor Table, then
/// this peer SHOULD behave as if it is joining the network and MUST use Pings to find a
/// peer and send it a Join." Peer 7 of the second overlay loses every other peer of it (5
/// and 6 crash); it joins again through its bootstrap addresses: 5 is gone, so after the
/// join timeout it links to 0 (a handshake Ping) and joins the first overlay's ring.
#[test]
fn a_peer_left_alone_joins_again_through_its_bootstrap_addresses() {
    use reload_sim::proto::event::NodeState;
    use reload_sim::time::Duration;
    let mut net = two_overlays(Duration::from_secs(3600));
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.node(7).state(), NodeState::Joined);
    assert!(!net.ring_errors().is_empty(), "two rings");
    net.crash(5);
    net.crash(6);
    net.run_for(Duration::from_secs(120));
    assert_eq!(net.node(7).state(), NodeState::Joined);
    assert_eq!(
        net.ring_errors(),
        Vec::<String>::new(),
        "one ring of 0–4 and 7"
    );
    assert!(
        net.node(7)
            .successors()
            .iter()
            .all(|s| net.ring_ids().contains(s))
    );
}

/// §6.5.1.12: "An agent MUST NOT send a subsequent offer or answer." The node offers x one
/// Attach: an Update naming x again while that Attach is unanswered, while the handshake it
/// led to is under way, and once the link to x is up, sends no other Attach.
#[test]
fn a_peer_is_offered_one_attach() {
    use reload_sim::proto::wire::topology::PingAns;
    let cfg = config();
    let x_id = NodeId(7u128 << 124);
    let again = |node: &mut _, p1: &mut Peer, txid| {
        attaches_after_update_naming(node, &cfg, p1, x_id, txid).len()
    };
    // Before x answers: the Attach of `handshaking_with_x`, then an Update naming x again.
    let mut node = first_node(&cfg, 6u128 << 124);
    let mut p1 = Peer::new(2u128 << 124, 2);
    link_peer(&mut node, &cfg, &mut p1, 0x100);
    let _ = sent(&mut node);
    let _ = provoke_attach(&mut node, &cfg, &mut p1, x_id);
    assert_eq!(
        again(&mut node, &mut p1, 0x810),
        0,
        "while ours is unanswered"
    );

    let (mut node, mut p1, mut x, hs, _) = handshaking_with_x();
    assert_eq!(
        again(&mut node, &mut p1, 0x811),
        0,
        "while the handshake is on"
    );
    let pong = Body::PingAns(PingAns {
        response_id: 1,
        time: 0,
    });
    let to_me = vec![Destination::Node(node.node_id())];
    let (f, _) = x.frame(
        &cfg,
        hs.header.transaction_id.0,
        vec![],
        to_me.clone(),
        pong,
    );
    node.handle_datagram(Time(22), x.addr, &f);
    // x's peer_ready makes the link routable (§6.5.1).
    let ready = Body::UpdateReq(reload_sim::proto::wire::chord::ChordUpdate {
        uptime: 1,
        kind: reload_sim::proto::wire::chord::ChordUpdateKind::PeerReady,
    });
    let (f, _) = x.frame(&cfg, 0x7ff, vec![], to_me, ready);
    node.handle_datagram(Time(23), x.addr, &f);
    assert_eq!(node.successors().first(), Some(&x.id), "linked");
    assert_eq!(again(&mut node, &mut p1, 0x812), 0, "once linked");
}

/// §10.7.2: "all references to the failed peer MUST be removed from the Finger Table and
/// replaced with the closest preceding peer from the Finger Table or Neighbor Table." `far`
/// holds entry 1; when its link goes, no entry names it, and the entry is refilled at once
/// from the Neighbor Table with `g`, the remaining peer valid for it (nearest the entry's
/// start), so no search for it is sent.
#[test]
fn a_failed_finger_is_replaced_from_the_neighbor_table() {
    use reload_sim::proto::chord::FingerTable;
    let cfg = config();
    let me = NodeId(1u128 << 100);
    let mut node = first_node(&cfg, me.0);
    let mut far = Peer::new(5u128 << 124, 2);
    let mut g = Peer::new(6u128 << 124, 3);
    let mut near = Peer::new(1u128 << 124, 4);
    let mut pred = Peer::new(14u128 << 124, 5);
    for (i, p) in [&mut far, &mut g, &mut near, &mut pred]
        .into_iter()
        .enumerate()
    {
        link_peer(&mut node, &cfg, p, 0x100 * (i as u64 + 1));
    }
    let _ = sent(&mut node);
    assert!(FingerTable::in_range(me, 1, far.id) && FingerTable::in_range(me, 1, g.id));
    assert!(node.fingers().contains(&far.id));
    assert!(
        !node.fingers().contains(&g.id),
        "far is nearer the start of entry 1"
    );
    assert!(node.successors().contains(&g.id));

    node.handle_link_close(Time(10), far.addr);
    assert!(
        !node.fingers().contains(&far.id),
        "no reference to far is left"
    );
    assert!(node.fingers().contains(&g.id), "entry 1 holds g");
    let searches = sent(&mut node)
        .iter()
        .map(|(_, m)| decode(m))
        .filter(|m| matches!(m.contents.body, Body::PingReq(_)))
        .filter(|m| match m.header.destination_list.first() {
            Some(Destination::Resource(r)) => r
                .ring_position()
                .is_some_and(|k| FingerTable::in_range(me, 1, k)),
            _ => false,
        })
        .count();
    assert_eq!(searches, 0, "entry 1 is filled: nothing to search");
}

/// §10.7.3: "A peer MUST NOT enter itself in its successor or predecessor table and instead
/// should leave the entries empty." An Update naming the node in every list (and as a
/// finger), and a peer with the node's own Node-ID linking from another address, leave the
/// node out of its own tables, and it sends no Attach to itself.
#[test]
fn the_node_never_enters_itself_in_its_tables() {
    use reload_sim::proto::wire::chord::{ChordUpdate, ChordUpdateKind};
    let cfg = config();
    let me = NodeId(8u128 << 124);
    let mut node = first_node(&cfg, me.0);
    let mut p1 = Peer::new(2u128 << 124, 2);
    link_peer(&mut node, &cfg, &mut p1, 0x100);
    let _ = sent(&mut node);
    let absent = |node: &reload_sim::proto::node::Node| {
        !node.predecessors().contains(&me)
            && !node.successors().contains(&me)
            && !node.fingers().contains(&me)
    };
    let full = ChordUpdate {
        uptime: 9,
        kind: ChordUpdateKind::Full {
            predecessors: vec![me, p1.id],
            successors: vec![me],
            fingers: vec![me],
        },
    };
    let (f, _) = p1.frame(
        &cfg,
        0x900,
        vec![],
        vec![Destination::Node(me)],
        Body::UpdateReq(full),
    );
    node.handle_datagram(Time(10), p1.addr, &f);
    let out = sent(&mut node);
    assert!(
        !out.iter()
            .any(|(_, m)| matches!(decode(m).contents.body, Body::AttachReq(_))),
        "no Attach to itself"
    );
    assert!(
        absent(&node),
        "{:?} {:?}",
        node.predecessors(),
        node.successors()
    );
    assert_eq!(node.successors(), &[p1.id]);

    // A peer claiming the node's Node-ID links and says it is ready.
    let mut twin = Peer::new(me.0, 6);
    link_peer(&mut node, &cfg, &mut twin, 0x910);
    assert!(
        absent(&node),
        "{:?} {:?}",
        node.predecessors(),
        node.successors()
    );
    assert_eq!(
        (node.predecessors(), node.successors()),
        (&[p1.id][..], &[p1.id][..])
    );
}

/// §10.3: "If a peer is not responsible for a Resource-ID k, but is directly connected to
/// a node with Node-ID k, then it MUST route the message to that node." The node (owning
/// (p1, me]) is linked to p2 and p3; a request for the Resource-ID equal to p3's Node-ID
/// goes straight to p3. It used to go to p2, the closest peer preceding k in (me, k). One
/// below p3's Node-ID still goes to p2.
#[test]
fn a_resource_id_equal_to_a_connected_node_id_goes_to_that_node() {
    use reload_sim::proto::wire::topology::PingReq;
    let cfg = config();
    let (mut node, [mut p1, p2, p3]) = node_linked_to(
        &cfg,
        1 << 100,
        [(9 << 124, 2), (3 << 124, 3), (5 << 124, 4)],
    );
    assert_eq!(node.successors(), &[p2.id, p3.id, p1.id]);
    for (txid, key, next) in [(0x400, p3.id.0, p3.addr), (0x401, p3.id.0 - 1, p2.addr)] {
        let (f, original) = p1.frame(
            &cfg,
            txid,
            vec![],
            vec![Destination::Resource(NodeId(key).to_resource_id())],
            Body::PingReq(PingReq::default()),
        );
        node.handle_datagram(Time(4), p1.addr, &f);
        // Forwarded unchanged but for p1 appended to the Via List and the TTL.
        let mut want = decode(&original);
        want.header.via_list.push(Destination::Node(p1.id));
        want.header.ttl -= 1;
        assert_eq!(sent(&mut node), vec![(next, want.to_bytes().unwrap())]);
    }
}

/// §6.4.2.1: "nodes which cannot form connections SHOULD report an error to the user." A
/// join through two bootstrap addresses that never answer reports each failed attempt
/// (`Event::JoinAttemptFailed`: attempt, address, how far it got) and starts the next
/// with the other address, its handshake byte for byte. A failed attempt used to restart
/// silently.
#[test]
fn a_failed_join_attempt_is_reported_and_the_next_address_tried() {
    use reload_sim::proto::event::Event;
    use reload_sim::proto::node::{Identity, JoinPhase, Node};
    use reload_sim::proto::wire::topology::PingReq;
    let cfg = config();
    let me = 1u128 << 100;
    let id = Identity::new(NodeId(me), "first@scripted.example.org");
    let mut node = Node::new(cfg.clone(), id, addr(1), Time::ZERO, 7);
    let bootstrap = [addr(2), addr(3)];
    node.join(Time::ZERO, &bootstrap).unwrap();
    // Handshakes (distinct messages; retransmissions repeat one) and failures, in order.
    let mut handshakes: Vec<(std::net::SocketAddr, Vec<u8>)> = Vec::new();
    let mut failed = Vec::new();
    let mut now = Time::ZERO;
    loop {
        for (to, m) in sent(&mut node) {
            if !handshakes.iter().any(|(_, h)| *h == m) {
                handshakes.push((to, m));
            }
        }
        while let Some(e) = node.poll_event() {
            if let Event::JoinAttemptFailed {
                attempt,
                bootstrap,
                phase,
            } = e
            {
                failed.push((attempt, bootstrap, phase));
            }
        }
        if failed.len() == 2 {
            break;
        }
        now = node.poll_timeout().expect("a join deadline").max(now);
        assert!(now < Time(200_000_000_000), "no attempt failed");
        node.handle_timeout(now);
    }
    let bootstrapping = JoinPhase::Bootstrapping;
    assert_eq!(
        failed,
        vec![
            (1, bootstrap[0], bootstrapping),
            (2, bootstrap[1], bootstrapping)
        ]
    );
    let to: Vec<_> = handshakes.iter().map(|(to, _)| *to).collect();
    assert_eq!(to, vec![bootstrap[0], bootstrap[1], bootstrap[0]]);
    for (_, m) in handshakes {
        let txid = decode(&m).header.transaction_id.0;
        let wildcard = vec![Destination::Node(NodeId::WILDCARD)];
        let ping = Body::PingReq(PingReq::default());
        let want = crate::scripted::from_first_node(&cfg, me, txid, wildcard, vec![], ping);
        assert_eq!(m, want);
    }
}

/// A node restarted with a new Node-ID at the address of a linked peer (§6.4.2.1 channel
/// binding). Its Attach, relayed by another peer, is answered, not refused with
/// "address belongs to another node" (which made such a node retry its join without end);
/// the link stays bound to the old peer until the new node's handshake arrives over it,
/// then it is rebound, the old peer forgotten, and the Update the Attach asked for sent.
#[test]
fn a_node_restarted_at_a_linked_address_is_attached_and_rebinds_the_link() {
    use reload_sim::proto::wire::chord::{ChordUpdate, ChordUpdateKind};
    let cfg = config();
    let me = 1u128 << 100;
    let (mut node, [old, mut r]) = node_linked_to(&cfg, me, [(9 << 124, 2), (3 << 124, 3)]);
    assert!(node.successors().contains(&old.id));
    let mut q = Peer::new(5 << 124, 2);
    assert_eq!(q.addr, old.addr);
    // Q's Attach reaches us relayed by r.
    let to_me = vec![Destination::Node(NodeId(me))];
    let attach = attach_body(q.addr, "passive", true);
    let f = r.relay(&cfg, q.id, 0x700, to_me.clone(), attach);
    node.handle_datagram(Time(10), r.addr, &f);
    let out = sent(&mut node);
    let answer = out
        .iter()
        .map(|(_, m)| decode(m))
        .find(|m| m.header.transaction_id.0 == 0x700)
        .expect("an answer");
    assert!(
        matches!(answer.contents.body, Body::AttachAns(_)),
        "{:?}",
        answer.contents.body
    );
    assert!(
        node.successors().contains(&old.id),
        "still bound to the old peer"
    );
    // Q's handshake over the address rebinds the link; the owed Update follows.
    let wildcard = vec![Destination::Node(NodeId::WILDCARD)];
    let ping = Body::PingReq(Default::default());
    let (f, _) = q.frame(&cfg, 0x701, vec![], wildcard, ping);
    node.handle_datagram(Time(20), q.addr, &f);
    let to_q: Vec<_> = sent(&mut node)
        .into_iter()
        .filter(|(to, _)| *to == q.addr)
        .map(|(_, m)| decode(&m).contents.body)
        .collect();
    assert!(
        to_q.iter().any(|b| matches!(b, Body::PingAns(_))),
        "{to_q:?}"
    );
    assert!(
        to_q.iter().any(|b| matches!(
            b,
            Body::UpdateReq(ChordUpdate {
                kind: ChordUpdateKind::Full { .. },
                ..
            })
        )),
        "{to_q:?}"
    );
    assert!(
        !node.successors().contains(&old.id),
        "the old peer is forgotten"
    );
    assert!(!node.predecessors().contains(&old.id));
}

/// §6.5.1: "If node A has Attached to node B, but has not received any Updates from B, it
/// MAY route messages which are directly addressed to B through that channel, but it MUST
/// NOT route messages through B to other peers via that channel." The node learns of B
/// from p's Update, Attaches to B through p and brings the link up: a Ping for the
/// Resource-ID just past B does not go through B (it used to, as soon as the handshake was
/// answered). B's peer_ready Update (§10.7.3) makes the link routable: the next such Ping
/// goes to B.
#[test]
fn a_new_link_carries_no_transit_before_its_peer_update() {
    use reload_sim::proto::wire::chord::{ChordUpdate, ChordUpdateKind};
    use reload_sim::proto::wire::topology::PingAns;
    let cfg = config();
    let me = 1u128 << 100;
    let (mut node, [mut p]) = node_linked_to(&cfg, me, [(9 << 124, 2)]);
    let mut b = Peer::new(3 << 124, 3);
    let to_me = vec![Destination::Node(NodeId(me))];
    let learn = ChordUpdate {
        uptime: 5,
        kind: ChordUpdateKind::Neighbors {
            predecessors: vec![b.id],
            successors: vec![],
        },
    };
    let (f, _) = p.frame(&cfg, 0x600, vec![], to_me.clone(), Body::UpdateReq(learn));
    node.handle_datagram(Time(10), p.addr, &f);
    let attach = sent(&mut node)
        .into_iter()
        .map(|(_, m)| decode(&m))
        .find(|m| matches!(m.contents.body, Body::AttachReq(_)))
        .expect("an Attach to B");
    assert_eq!(
        attach.header.destination_list,
        vec![Destination::Node(p.id), Destination::Node(b.id)]
    );
    // B's answer comes back through p.
    let ans = attach_body(b.addr, "active", false);
    let txid = attach.header.transaction_id.0;
    let f = p.relay(&cfg, b.id, txid, to_me.clone(), ans);
    node.handle_datagram(Time(20), p.addr, &f);
    let hs = sent(&mut node)
        .into_iter()
        .find(|(to, _)| *to == b.addr)
        .map(|(_, m)| decode(&m))
        .expect("the handshake to B");
    assert!(matches!(hs.contents.body, Body::PingReq(_)));
    let pong = Body::PingAns(PingAns {
        response_id: 1,
        time: 0,
    });
    let (f, _) = b.frame(
        &cfg,
        hs.header.transaction_id.0,
        vec![],
        to_me.clone(),
        pong,
    );
    node.handle_datagram(Time(30), b.addr, &f);
    let _ = sent(&mut node);
    let past_b = Destination::Resource(NodeId((3 << 124) + 1).to_resource_id());
    let first_hop = |node: &mut reload_sim::proto::node::Node, t: u64| {
        node.ping(Time(t), past_b.clone()).unwrap();
        sent(node)
            .into_iter()
            .find(|(_, m)| matches!(decode(m).contents.body, Body::PingReq(_)))
            .map(|(to, _)| to)
    };
    assert_ne!(
        first_hop(&mut node, 40),
        Some(b.addr),
        "no transit before B's Update"
    );
    let ready = ChordUpdate {
        uptime: 5,
        kind: ChordUpdateKind::PeerReady,
    };
    let (f, _) = b.frame(&cfg, 0x601, vec![], to_me, Body::UpdateReq(ready));
    node.handle_datagram(Time(50), b.addr, &f);
    let _ = sent(&mut node);
    assert_eq!(
        first_hop(&mut node, 60),
        Some(b.addr),
        "routable after peer_ready"
    );
}

/// The AttachReqs `node` sent straight to `to` (no Via List, `to`'s Node-ID alone on the
/// Destination List) among `out`.
fn attaches_straight_to(out: &[(std::net::SocketAddr, Vec<u8>)], to: &Peer) -> usize {
    out.iter()
        .filter(|(a, _)| *a == to.addr)
        .map(|(_, m)| decode(m))
        .filter(|m| matches!(m.contents.body, Body::AttachReq(_)))
        .filter(|m| m.header.destination_list == vec![Destination::Node(to.id)])
        .count()
}

/// §6.5.1, §10.5 steps 8–9: a joiner j Attached to the node (its future neighbour) and the
/// link is up; the admitting peer p names j in the Update it sends as it admits j, before
/// j's own Update comes. The node does not ask j whether the link holds (an Attach
/// straight over it, which j would answer with a second peer_ready): j's Update is due
/// and makes the link routable. A link whose peer stays silent for a
/// chord_update_interval without an Update still is asked, once.
#[test]
fn an_update_naming_a_joiner_does_not_recheck_its_new_link() {
    use reload_sim::proto::wire::chord::{ChordUpdate, ChordUpdateKind};
    let cfg = config();
    let me = 1u128 << 100;
    let (mut node, [mut p]) = node_linked_to(&cfg, me, [(9 << 124, 2)]);
    let mut j = Peer::new(3 << 124, 3);
    handshake_only(&mut node, &cfg, &mut j, 0x700);
    let to_me = vec![Destination::Node(NodeId(me))];
    let admitted = ChordUpdate {
        uptime: 5,
        kind: ChordUpdateKind::Neighbors {
            predecessors: vec![j.id, NodeId(me)],
            successors: vec![],
        },
    };
    let (f, _) = p.frame(
        &cfg,
        0x701,
        vec![],
        to_me.clone(),
        Body::UpdateReq(admitted),
    );
    node.handle_datagram(Time(10), p.addr, &f);
    let out = sent(&mut node);
    assert_eq!(
        attaches_straight_to(&out, &j),
        0,
        "j's Update is on its way"
    );
    assert!(!node.successors().contains(&j.id), "not routable before it");
    let own = ChordUpdate {
        uptime: 0,
        kind: ChordUpdateKind::Neighbors {
            predecessors: vec![NodeId(me)],
            successors: vec![p.id],
        },
    };
    let (f, _) = j.frame(&cfg, 0x702, vec![], to_me, Body::UpdateReq(own));
    node.handle_datagram(Time(20), j.addr, &f);
    let out = sent(&mut node);
    assert_eq!(attaches_straight_to(&out, &j), 0);
    assert_eq!(node.successors().first(), Some(&j.id));

    // A peer that linked and never sends an Update is asked after a silent interval; the
    // Attach goes unanswered and the link with it.
    let mut quiet = Peer::new(5 << 124, 4);
    handshake_only(&mut node, &cfg, &mut quiet, 0x800);
    let interval = cfg.chord_update_interval;
    let until = Time::ZERO + interval.saturating_mul(3);
    let asked: std::collections::BTreeMap<u64, Time> =
        crate::scripted::run_timers(&mut node, until)
            .into_iter()
            .filter(|(_, a, m)| attaches_straight_to(&[(*a, m.clone())], &quiet) == 1)
            .map(|(t, _, m)| (decode(&m).header.transaction_id.0, t))
            .collect();
    assert_eq!(asked.len(), 1, "one Attach, retransmitted: {asked:?}");
    assert!(
        asked.values().all(|t| *t >= Time::ZERO + interval),
        "{asked:?}"
    );
    assert!(node.connections().iter().all(|c| c.0 != quiet.addr));
    assert!(node.connections().iter().any(|c| c.0 == j.addr));
}

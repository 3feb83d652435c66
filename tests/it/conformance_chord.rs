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

use crate::scripted::{Peer, addr, attach_body, config, decode, first_node, link_peer, sent};

/// §10.8: "the responder SHOULD initiate an Update immediately after sending the
/// RouteQueryAns": the answer leaves first, then the Update (type full).
#[test]
fn route_query_update_follows_the_answer() {
    let cfg = config();
    let me = 1u128 << 100;
    let mut node = first_node(&cfg, me);
    let mut p1 = Peer::new(9u128 << 124, 2);
    let mut p2 = Peer::new(3u128 << 124, 3);
    link_peer(&mut node, &cfg, &mut p1, 0x100);
    link_peer(&mut node, &cfg, &mut p2, 0x200);
    let _ = sent(&mut node);
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
    let mut node = first_node(&cfg, me);
    let mut p1 = Peer::new(9u128 << 124, 2);
    let mut p2 = Peer::new(3u128 << 124, 3);
    link_peer(&mut node, &cfg, &mut p1, 0x100);
    link_peer(&mut node, &cfg, &mut p2, 0x200);
    let _ = sent(&mut node);
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

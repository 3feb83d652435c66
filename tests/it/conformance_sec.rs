//! RFC 6940 security and reliability rules, one scripted node at a time: answers come
//! from the node addressed (§6.3.4), fetched values are verified (§7.4.2.2), a Leave comes
//! over the leaving peer's own link (§6.4.2.2), replica Stores come from the replica set
//! (§7.4.1.1, §10.4), refused copies are refreshed (§7.4.1.1), and duplicates get the
//! same answer along their own path for the whole window (§6.1.2, §6.2.1).

use std::net::SocketAddr;
use std::sync::Arc;

use reload_sim::proto::config::OverlayConfig;
use reload_sim::proto::event::{CallError, Event, NodeState};
use reload_sim::proto::id::{NodeId, ResourceId};
use reload_sim::proto::node::{Identity, JoinPhase, Node};
use reload_sim::proto::wire::chord::{ChordUpdate, ChordUpdateKind};
use reload_sim::proto::wire::error_response::{ErrorResponse, error_code};
use reload_sim::proto::wire::security::Signature;
use reload_sim::proto::wire::storage::{
    DataValue, FetchAns, FetchKindResponse, FetchReq, KindId, SpecifierIndices, StoreAns,
    StoreKindData, StoreReq, StoredData, StoredDataSpecifier, StoredDataValue,
};
use reload_sim::proto::wire::topology::{JoinAns, JoinReq, LeaveReq, PingAns};
use reload_sim::proto::wire::{Body, Destination, Message};
use reload_sim::time::Time;

use crate::scripted::{
    Peer, USER, addr, attach_body, config, decode, fetch_ans, first_node, from_first_node,
    handshake_only, link_peer, node_beside_owner, node_linked_to, registration_value, route_value,
    sent, sent_acked,
};

fn store_req(resource: ResourceId, node: NodeId, t: u64) -> StoreReq {
    store_req_living(resource, node, t, 60)
}

/// [`store_req`] of a registration that lives `lifetime_s`.
fn store_req_living(resource: ResourceId, node: NodeId, t: u64, lifetime_s: u32) -> StoreReq {
    StoreReq {
        resource,
        replica_number: 0,
        kind_data: vec![StoreKindData {
            kind: KindId::SIP_REGISTRATION,
            generation_counter: 0,
            values: vec![registration_value(&resource, node, USER, t, lifetime_s)],
        }],
    }
}

fn store_ans(out: &[(SocketAddr, Vec<u8>)]) -> Vec<u8> {
    out.iter()
        .find(|(_, m)| matches!(decode(m).contents.body, Body::StoreAns(_)))
        .map(|(_, m)| m.clone())
        .unwrap_or_else(|| panic!("a StoreAns in {out:?}"))
}

/// §6.2.1: a retransmitted Store inside the duplicate window gets the first answer, even
/// after 64 other Stores were answered in between (the cache is bounded by time).
#[test]
fn a_duplicate_after_many_other_stores_still_gets_its_answer() {
    let cfg = config();
    let mut node = first_node(&cfg, 1u128 << 100);
    let mut p = Peer::new(9u128 << 124, 2);
    link_peer(&mut node, &cfg, &mut p, 0x100);
    let _ = sent(&mut node);
    let resource = ResourceId::hash(USER.as_bytes());
    let to = vec![Destination::Resource(resource)];
    let (f, _) = p.frame(
        &cfg,
        0x500,
        vec![],
        to.clone(),
        Body::StoreReq(store_req(resource, p.id, 77)),
    );
    node.handle_datagram(Time(10), p.addr, &f);
    let first = store_ans(&sent_acked(&mut node, Time(10)));
    for i in 0..64u64 {
        let req = store_req(resource, p.id, 78 + i);
        let (f, _) = p.frame(&cfg, 0x1000 + i, vec![], to.clone(), Body::StoreReq(req));
        node.handle_datagram(Time(20 + i), p.addr, &f);
        let _ = sent_acked(&mut node, Time(20 + i));
    }
    let (f, _) = p.frame(
        &cfg,
        0x500,
        vec![],
        to,
        Body::StoreReq(store_req(resource, p.id, 77)),
    );
    node.handle_datagram(Time(1_000), p.addr, &f);
    assert_eq!(
        store_ans(&sent(&mut node)),
        first,
        "the first answer, byte for byte"
    );
    assert_eq!(node.stats().duplicate_requests, 1);
}

/// §6.1.2: the answer to a duplicate that came by another path goes back along that path:
/// Destination List = its previous hop ‖ its reversed Via List, with the same signed
/// contents as the first answer.
#[test]
fn a_duplicate_by_another_path_is_answered_along_that_path() {
    let cfg = config();
    let mut node = first_node(&cfg, 1u128 << 100);
    let mut hop1 = Peer::new(9u128 << 124, 2);
    let mut hop2 = Peer::new(10u128 << 124, 3);
    link_peer(&mut node, &cfg, &mut hop1, 0x100);
    link_peer(&mut node, &cfg, &mut hop2, 0x200);
    let _ = sent(&mut node);
    // The origin is two hops away; its Store arrives through hop1, then through hop2.
    let mut origin = Peer::new(11u128 << 124, 9);
    let resource = ResourceId::hash(USER.as_bytes());
    let to = vec![Destination::Resource(resource)];
    let via = vec![Destination::Node(origin.id)];
    let req = Body::StoreReq(store_req(resource, origin.id, 77));
    let (f, _) = origin.frame(&cfg, 0x500, via.clone(), to.clone(), req.clone());
    node.handle_datagram(Time(10), hop1.addr, &f);
    let first = decode(&store_ans(&sent(&mut node)));
    assert_eq!(
        first.header.destination_list,
        vec![Destination::Node(hop1.id), Destination::Node(origin.id)]
    );
    let (f, _) = origin.frame(&cfg, 0x500, via, to, req);
    node.handle_datagram(Time(500), hop2.addr, &f);
    let out = sent(&mut node);
    let (to_addr, bytes) = out
        .iter()
        .find(|(_, m)| matches!(decode(m).contents.body, Body::StoreAns(_)))
        .expect("an answer to the duplicate");
    assert_eq!(*to_addr, hop2.addr);
    let second = decode(bytes);
    assert_eq!(
        second.header.destination_list,
        vec![Destination::Node(hop2.id), Destination::Node(origin.id)]
    );
    assert_eq!(second.contents, first.contents, "the same answer");
    assert_eq!(second.security, first.security, "the same signature");
    assert_eq!(node.stats().duplicate_requests, 1);
}

/// Two ready peers linked to a fresh first node: (node, p, q).
fn node_with_two_peers() -> (Node, Peer, Peer, std::sync::Arc<OverlayConfig>) {
    let cfg = config();
    let mut node = first_node(&cfg, 1u128 << 100);
    let mut p = Peer::new(9u128 << 124, 2);
    let mut q = Peer::new(10u128 << 124, 3);
    link_peer(&mut node, &cfg, &mut p, 0x100);
    link_peer(&mut node, &cfg, &mut q, 0x200);
    let _ = sent_acked(&mut node, Time(3));
    (node, p, q, cfg)
}

fn links_to(node: &Node, id: NodeId) -> usize {
    node.connections()
        .iter()
        .filter(|c| c.1 == Some(id))
        .count()
}

/// A LeaveReq saying `leaving` leaves, without CHORD-RELOAD data.
fn leave_of(leaving: NodeId) -> Body {
    Body::LeaveReq(LeaveReq {
        leaving_peer_id: leaving,
        chord: None,
    })
}

/// §6.4.2.2: a Leave signed by Q but relayed by P (non-empty Via List, P's link) is refused
/// with Error_Forbidden and the link to Q stays; the same Leave straight from Q is obeyed.
#[test]
fn a_relayed_leave_is_refused_and_a_direct_one_obeyed() {
    let (mut node, p, mut q, cfg) = node_with_two_peers();
    let leave = leave_of(q.id);
    let me = vec![Destination::Node(node.node_id())];
    let (f, _) = q.frame(
        &cfg,
        0x700,
        vec![Destination::Node(q.id)],
        me.clone(),
        leave.clone(),
    );
    node.handle_datagram(Time(10), p.addr, &f);
    let out = sent_acked(&mut node, Time(10));
    let ans = out
        .iter()
        .map(|(to, m)| (*to, decode(m)))
        .find(|(_, m)| m.header.transaction_id.0 == 0x700)
        .expect("an answer");
    assert_eq!(ans.0, p.addr, "back along the path it came");
    match ans.1.contents.body {
        Body::Error(e) => assert_eq!(e.code, error_code::FORBIDDEN),
        other => panic!("expected Error_Forbidden, got {other:?}"),
    }
    assert_eq!(links_to(&node, q.id), 1, "the link to Q stays");
    assert!(node.successors().contains(&q.id));

    let (f, _) = q.frame(&cfg, 0x701, vec![], me, leave);
    node.handle_datagram(Time(20), q.addr, &f);
    let out = sent_acked(&mut node, Time(20));
    assert!(
        out.iter()
            .any(|(to, m)| *to == q.addr && matches!(decode(m).contents.body, Body::LeaveAns)),
        "LeaveAns to Q"
    );
    assert_eq!(links_to(&node, q.id), 0, "Q is forgotten");
}

/// §6.3.4: an answer to a Ping for Q signed by P is not Q's answer: it is dropped and
/// counted, and the request still completes when Q itself answers.
#[test]
fn an_answer_for_a_node_id_must_come_from_that_node() {
    let (mut node, mut p, mut q, cfg) = node_with_two_peers();
    while node.poll_event().is_some() {}
    let req = node.ping(Time(10), Destination::Node(q.id)).unwrap();
    let out = sent_acked(&mut node, Time(10));
    let (to, bytes) = out.first().expect("the ping");
    assert_eq!(*to, q.addr);
    let txid = decode(bytes).header.transaction_id.0;
    let me = vec![Destination::Node(node.node_id())];
    let ans = Body::PingAns(PingAns {
        response_id: 1,
        time: 0,
    });
    let before = node.stats().unmatched_answers;
    let (f, _) = p.frame(&cfg, txid, vec![], me.clone(), ans.clone());
    node.handle_datagram(Time(20), p.addr, &f);
    let _ = sent_acked(&mut node, Time(20));
    assert_eq!(node.stats().unmatched_answers, before + 1);
    assert!(
        std::iter::from_fn(|| node.poll_event()).all(|e| !matches!(e, Event::RequestDone { .. })),
        "P's answer does not complete the Ping to Q"
    );
    let (f, _) = q.frame(&cfg, txid, vec![], me, ans);
    node.handle_datagram(Time(30), q.addr, &f);
    let done: Vec<Event> = std::iter::from_fn(|| node.poll_event())
        .filter(|e| matches!(e, Event::RequestDone { .. }))
        .collect();
    match done.as_slice() {
        [
            Event::RequestDone {
                request,
                outcome: Ok(a),
            },
        ] => {
            assert_eq!(*request, req);
            assert_eq!(a.responder, q.id);
        }
        other => panic!("expected Q's answer, got {other:?}"),
    }
}

/// §6.3.4: "The response to a message sent to a Resource-ID MUST have been sent by a
/// Node-ID which is at least as close to the target Resource-ID as any node in the
/// requesting node's Neighbor Table." The node (ME, owning (p1, ME]) knows p2 and p3; the
/// owner of k = 4 << 124 is p3, the first of them at or after k. Answers from p2 (before
/// k) and p1 (after p3) are dropped and counted, and the Ping waits for p3's. Either used
/// to complete it.
#[test]
fn an_answer_for_a_resource_id_must_come_from_a_node_as_close_as_any_neighbour() {
    let cfg = config();
    let me = 1u128 << 100;
    let (mut node, [p1, mut p2, p3]) =
        node_linked_to(&cfg, me, [(9 << 124, 2), (3 << 124, 3), (5 << 124, 4)]);
    while node.poll_event().is_some() {}
    let k = Destination::Resource(NodeId(4u128 << 124).to_resource_id());
    let req = node.ping(Time(10), k.clone()).unwrap();
    let ping = Body::PingReq(Default::default());
    let want = from_first_node(&cfg, me, req.0, vec![k], vec![], ping);
    assert_eq!(sent_acked(&mut node, Time(10)), vec![(p2.addr, want)]);
    // Each answer arrives over p2's link: p2's own, or relayed by p2 (via [signer]).
    let p2_id = p2.id;
    let mut answer_from = |node: &mut Node, signer: NodeId| {
        let ans = Body::PingAns(PingAns {
            response_id: 1,
            time: 0,
        });
        let to_me = vec![Destination::Node(NodeId(me))];
        let f = if signer == p2_id {
            p2.frame(&cfg, req.0, vec![], to_me, ans).0
        } else {
            p2.relay(&cfg, signer, req.0, to_me, ans)
        };
        node.handle_datagram(Time(20), p2.addr, &f);
        let _ = sent_acked(node, Time(20));
        std::iter::from_fn(|| node.poll_event())
            .filter_map(|e| match e {
                Event::RequestDone { request, outcome } if request == req => Some(outcome),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(answer_from(&mut node, p2_id), vec![], "p2 precedes k");
    assert_eq!(answer_from(&mut node, p1.id), vec![], "p1 is beyond p3");
    assert_eq!(node.stats().distant_answers, 2);
    let done = answer_from(&mut node, p3.id);
    assert!(
        matches!(done.as_slice(), [Ok(a)] if a.responder == p3.id),
        "{done:?}"
    );
    assert_eq!(node.stats().distant_answers, 2);
}

/// §7.4.2.2: values of a FetchAns are verified; a value whose signature fails, or whose
/// signer the Kind's policy refuses (USER-NODE-MATCH: another user), is discarded.
/// A synthetic nonexistent value (anonymous signature) is kept. "Implementations MAY
/// return the subset of values with valid signatures, but in that case, they SHOULD
/// somehow signal to the application that a partial response was received":
/// `Event::Fetched` counts the values discarded (2), and 0 for a whole answer. The event
/// used to carry no such count.
#[test]
fn fetched_values_with_bad_signatures_are_discarded() {
    let (mut node, mut p, resource, cfg) = node_beside_owner();
    let spec = StoredDataSpecifier {
        kind: KindId::SIP_REGISTRATION,
        generation: 0,
        indices: SpecifierIndices::Dictionary(Vec::new()),
    };
    let good = route_value(&resource, (p.id, p.id, USER), b"", p.id);
    let mut altered = route_value(&resource, (NodeId(5), NodeId(5), USER), b"", NodeId(5));
    if let StoredDataValue::Dictionary { value, .. } = &mut altered.value {
        value.value.push(0);
    }
    let other = (NodeId(6), NodeId(6), "other@scripted.example.org");
    let other_user = route_value(&resource, other, b"", NodeId(6));
    let missing = StoredData {
        storage_time: 0,
        lifetime: 0,
        value: StoredDataValue::Dictionary {
            key: NodeId(7).octets().to_vec(),
            value: DataValue {
                exists: false,
                value: Vec::new(),
            },
        },
        signature: Signature::anonymous(),
    };
    let whole = vec![good.clone(), missing.clone()];
    let partial = vec![good.clone(), altered, other_user, missing.clone()];
    for (t, values, discarded) in [(10, partial, 2), (30, whole, 0)] {
        let req = node.fetch(Time(t), resource, vec![spec.clone()]).unwrap();
        let out = sent_acked(&mut node, Time(t));
        let fetch = Body::FetchReq(FetchReq {
            resource,
            specifiers: vec![spec.clone()],
        });
        let dest = vec![Destination::Resource(resource)];
        let me = node.node_id().0;
        let want = from_first_node(&cfg, me, req.0, dest, vec![], fetch);
        assert_eq!(out, vec![(p.addr, want)]);
        let to_me = vec![Destination::Node(node.node_id())];
        let (f, _) = p.frame(&cfg, req.0, vec![], to_me, fetch_ans(values));
        node.handle_datagram(Time(t + 10), p.addr, &f);
        let fetched: Vec<(FetchAns, u32)> = std::iter::from_fn(|| node.poll_event())
            .filter_map(|e| match e {
                Event::Fetched {
                    request,
                    answer,
                    discarded,
                } if request == req => Some((answer, discarded)),
                _ => None,
            })
            .collect();
        assert_eq!(fetched.len(), 1);
        assert_eq!(
            fetched[0].0.kind_responses[0].values,
            vec![good.clone(), missing.clone()]
        );
        assert_eq!(fetched[0].1, discarded);
    }
    assert_eq!(node.stats().bad_signature, 2);
}

/// §7.4.2.2: a call does not follow a registration whose signature fails: no AppAttach to
/// the Node-ID it names, and the call ends `not registered`.
#[test]
fn a_call_ignores_a_badly_signed_registration() {
    let (mut node, mut p, resource, cfg) = node_beside_owner();
    let call = node.call(Time(10), USER).unwrap();
    let out = sent_acked(&mut node, Time(10));
    let (_, bytes) = out.first().expect("the registration fetch");
    let fetch = decode(bytes);
    assert!(matches!(fetch.contents.body, Body::FetchReq(_)));
    let victim = NodeId(42u128 << 100);
    let mut forged = route_value(&resource, (victim, victim, USER), b"", victim);
    forged.storage_time += 1;
    let (f, _) = p.frame(
        &cfg,
        fetch.header.transaction_id.0,
        vec![],
        vec![Destination::Node(node.node_id())],
        fetch_ans(vec![forged]),
    );
    node.handle_datagram(Time(20), p.addr, &f);
    let out = sent_acked(&mut node, Time(20));
    assert!(
        !out.iter()
            .any(|(_, m)| matches!(decode(m).contents.body, Body::AppAttachReq(_))),
        "no AppAttach for a forged registration"
    );
    let done: Vec<Event> = std::iter::from_fn(|| node.poll_event())
        .filter(|e| matches!(e, Event::CallDone { .. }))
        .collect();
    match done.as_slice() {
        [
            Event::CallDone {
                call: c,
                outcome: Err(CallError::NotRegistered),
            },
        ] => assert_eq!(*c, call),
        other => panic!("expected not registered, got {other:?}"),
    }
}

/// A node at `k + at` with three predecessors, two successors (a successor table of two)
/// and one more linked peer that is no neighbour, all placed relative to `k` = H(USER)'s
/// ring position by offset: (node, [p1, p2, p3, s1, s2, x]).
fn small_ring(at: u128, peers: [u128; 6]) -> (Node, Vec<Peer>, std::sync::Arc<OverlayConfig>) {
    let mut c = OverlayConfig::new("scripted.example.org");
    c.successors = 2;
    let cfg = std::sync::Arc::new(c);
    let k = ResourceId::hash(USER.as_bytes()).ring_position().unwrap().0;
    let mut node = first_node(&cfg, k.wrapping_add(at));
    let mut out = Vec::new();
    for (i, off) in peers.into_iter().enumerate() {
        let mut p = Peer::new(k.wrapping_add(off), 2 + i as u8);
        link_peer(&mut node, &cfg, &mut p, 0x100 * (i as u64 + 1));
        out.push(p);
    }
    let _ = sent_acked(&mut node, Time(3));
    let ids: Vec<NodeId> = out.iter().map(|p| p.id).collect();
    assert_eq!(node.predecessors(), &ids[0..3]);
    assert_eq!(node.successors(), &ids[3..5]);
    (node, out, cfg)
}

/// Sends a replica Store (replica_number 1, generation 1000) of H(USER) from `from`; the
/// answer's code.
fn replica_store(node: &mut Node, cfg: &OverlayConfig, from: &mut Peer, txid: u64) -> Body {
    let resource = ResourceId::hash(USER.as_bytes());
    let req = StoreReq {
        resource,
        replica_number: 1,
        kind_data: vec![StoreKindData {
            kind: KindId::SIP_REGISTRATION,
            generation_counter: 1000,
            values: vec![registration_value(&resource, from.id, USER, 77, 600)],
        }],
    };
    let me = vec![Destination::Node(node.node_id())];
    let (f, _) = from.frame(cfg, txid, vec![], me, Body::StoreReq(req));
    node.handle_datagram(Time(10), from.addr, &f);
    sent_acked(node, Time(10))
        .into_iter()
        .map(|(_, m)| decode(&m))
        .find(|m| m.header.transaction_id.0 == txid)
        .expect("an answer")
        .contents
        .body
}

fn forbidden(b: &Body) -> bool {
    matches!(b, Body::Error(e) if e.code == error_code::FORBIDDEN)
}

const FAR: u128 = 1 << 127;

/// §7.4.1.1, §10.4: replica Stores are accepted only from the replica set's view of the
/// data: the owner (a predecessor whose range holds the key) or, for data this node owns
/// or knows a predecessor owns, a neighbour handing it over. A connected non-neighbour is
/// refused and nothing is stored.
#[test]
fn replica_stores_come_only_from_plausible_peers() {
    let resource = ResourceId::hash(USER.as_bytes());
    let m = u128::MAX;
    // The node owns the key: a non-neighbour is refused, a successor's handoff accepted.
    let (mut node, mut peers, cfg) = small_ring(10, [m - 9, m - 19, m - 29, 20, 30, FAR]);
    let b = replica_store(&mut node, &cfg, &mut peers[5], 0x900);
    assert!(forbidden(&b), "a non-neighbour's replica: {b:?}");
    assert_eq!(
        node.datastore()
            .generation(&resource, KindId::SIP_REGISTRATION),
        0
    );
    let b = replica_store(&mut node, &cfg, &mut peers[3], 0x901);
    assert!(
        matches!(b, Body::StoreAns(_)),
        "a successor's handoff: {b:?}"
    );
    assert_eq!(
        node.datastore()
            .generation(&resource, KindId::SIP_REGISTRATION),
        1000
    );

    // The key is the first predecessor's: it replicates to us.
    let (mut node, mut peers, cfg) = small_ring(20, [10, m - 9, m - 19, 30, 40, FAR]);
    let b = replica_store(&mut node, &cfg, &mut peers[0], 0x900);
    assert!(matches!(b, Body::StoreAns(_)), "the owner's replica: {b:?}");

    // The key is beyond every predecessor this node knows: nobody here may place it.
    let (mut node, mut peers, cfg) = small_ring(40, [30, 20, 10, 50, 60, FAR]);
    for (i, p) in peers.iter_mut().enumerate() {
        let b = replica_store(&mut node, &cfg, p, 0x900 + i as u64);
        assert!(forbidden(&b), "peer {i}: {b:?}");
    }
    assert_eq!(
        node.datastore()
            .generation(&resource, KindId::SIP_REGISTRATION),
        0
    );
}

/// A node owning H(USER), with one linked successor `s` that has just stored an original
/// there, and the node's replica Store (replica_number 1) to `s`.
fn owner_with_a_replica() -> (
    Node,
    Peer,
    reload_sim::proto::wire::Message,
    std::sync::Arc<OverlayConfig>,
) {
    owner_with_a_replica_of(60)
}

/// [`owner_with_a_replica`] with a registration that lives `lifetime_s`.
fn owner_with_a_replica_of(
    lifetime_s: u32,
) -> (
    Node,
    Peer,
    reload_sim::proto::wire::Message,
    std::sync::Arc<OverlayConfig>,
) {
    let cfg = config();
    let resource = ResourceId::hash(USER.as_bytes());
    let k = resource.ring_position().unwrap().0;
    let mut node = first_node(&cfg, k.wrapping_add(10));
    let mut s = Peer::new(k.wrapping_add(20), 2);
    link_peer(&mut node, &cfg, &mut s, 0x100);
    let _ = sent_acked(&mut node, Time(3));
    let to = vec![Destination::Resource(resource)];
    let store = Body::StoreReq(store_req_living(resource, s.id, 77, lifetime_s));
    let (f, _) = s.frame(&cfg, 0x500, vec![], to, store);
    node.handle_datagram(Time(10), s.addr, &f);
    let replica = replica_to(s.addr, sent_acked(&mut node, Time(10))).expect("a replica Store");
    (node, s, replica, cfg)
}

/// The first replica Store (replica_number 1) in `out` sent to `to`.
fn replica_to(
    to: SocketAddr,
    out: Vec<(SocketAddr, Vec<u8>)>,
) -> Option<reload_sim::proto::wire::Message> {
    out.into_iter()
        .filter(|(a, _)| *a == to)
        .map(|(_, m)| decode(&m))
        .find(|m| matches!(&m.contents.body, Body::StoreReq(r) if r.replica_number == 1))
}

/// §7.4.1.1: a replica Store this node sent that is refused with Error_Data_Too_Old makes
/// it Fetch the newer data from the refusing peer (by Node-ID, every Kind it holds there)
/// and replace its copy with the answer, generation counter included.
#[test]
fn a_refused_replica_is_replaced_by_the_newer_copy() {
    let (mut node, mut s, replica, cfg) = owner_with_a_replica();
    let resource = ResourceId::hash(USER.as_bytes());
    let me = vec![Destination::Node(node.node_id())];
    let too_old = Body::Error(ErrorResponse::new(error_code::DATA_TOO_OLD, "newer here"));
    let (f, _) = s.frame(
        &cfg,
        replica.header.transaction_id.0,
        vec![],
        me.clone(),
        too_old,
    );
    node.handle_datagram(Time(20), s.addr, &f);
    let out = sent_acked(&mut node, Time(20));
    let fetch = out
        .iter()
        .filter(|(to, _)| *to == s.addr)
        .map(|(_, m)| decode(m))
        .find(|m| matches!(m.contents.body, Body::FetchReq(_)))
        .expect("a Fetch of the newer data");
    assert_eq!(fetch.header.destination_list, vec![Destination::Node(s.id)]);
    let Body::FetchReq(req) = &fetch.contents.body else {
        unreachable!()
    };
    assert_eq!(req.resource, resource);
    assert_eq!(
        req.specifiers,
        vec![StoredDataSpecifier {
            kind: KindId::SIP_REGISTRATION,
            generation: 0,
            indices: SpecifierIndices::Dictionary(Vec::new()),
        }]
    );
    let newer = registration_value(&resource, s.id, USER, 99, 600);
    // A forged value in the answer is discarded (§7.4.2.2), not stored.
    let mut forged = registration_value(&resource, NodeId(5), USER, 99, 600);
    forged.storage_time += 1;
    let ans = Body::FetchAns(FetchAns {
        kind_responses: vec![FetchKindResponse {
            kind: KindId::SIP_REGISTRATION,
            generation: 5,
            values: vec![newer, forged],
        }],
    });
    let (f, _) = s.frame(&cfg, fetch.header.transaction_id.0, vec![], me, ans);
    node.handle_datagram(Time(30), s.addr, &f);
    let store = node.datastore();
    assert_eq!(store.generation(&resource, KindId::SIP_REGISTRATION), 5);
    let held = store.export(Time(30), &resource);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].values.len(), 1);
    assert_eq!(
        held[0].values[0].storage_time, 99,
        "the newer copy replaced ours"
    );
}

/// A peer answers a Fetch addressed to its Node-ID from the copies it holds, also for a
/// key it is not responsible for (the Fetch of §7.4.1.1 goes to a replica).
#[test]
fn a_fetch_by_node_id_is_answered_from_a_replica_copy() {
    let (mut node, mut peers, cfg) =
        small_ring(20, [10, u128::MAX - 9, u128::MAX - 19, 30, 40, FAR]);
    let resource = ResourceId::hash(USER.as_bytes());
    let b = replica_store(&mut node, &cfg, &mut peers[0], 0x900);
    assert!(matches!(b, Body::StoreAns(_)));
    let spec = StoredDataSpecifier {
        kind: KindId::SIP_REGISTRATION,
        generation: 0,
        indices: SpecifierIndices::Dictionary(Vec::new()),
    };
    let req = Body::FetchReq(FetchReq {
        resource,
        specifiers: vec![spec],
    });
    let me = vec![Destination::Node(node.node_id())];
    let (f, _) = peers[3].frame(&cfg, 0x950, vec![], me, req);
    node.handle_datagram(Time(20), peers[3].addr, &f);
    let ans = sent_acked(&mut node, Time(20))
        .into_iter()
        .map(|(_, m)| decode(&m))
        .find(|m| m.header.transaction_id.0 == 0x950)
        .expect("an answer");
    match ans.contents.body {
        Body::FetchAns(a) => assert_eq!(a.kind_responses[0].values.len(), 1),
        other => panic!("expected the replica's copy, got {other:?}"),
    }
}

/// §7.4.1.1: a replica Store is accepted when "the request sender is consistent with being
/// the responsible node (i.e., that the receiving peer does not know of a better node)".
/// A peer that has just linked to this one and belongs in its Neighbor Table hands over the
/// data it held for this node's range; its Store may arrive before its Update, and is
/// accepted. A peer linked the same way that would not enter the table is refused.
#[test]
fn a_handoff_over_a_new_link_before_its_update_is_accepted() {
    let resource = ResourceId::hash(USER.as_bytes());
    let k = resource.ring_position().unwrap().0;
    let m = u128::MAX;
    let (mut node, _peers, cfg) = small_ring(10, [m - 9, m - 19, m - 29, 20, 30, FAR]);
    let mut far = Peer::new(k.wrapping_add(1 << 126), 10);
    handshake_only(&mut node, &cfg, &mut far, 0x700);
    let b = replica_store(&mut node, &cfg, &mut far, 0x900);
    assert!(forbidden(&b), "a linked peer outside the table: {b:?}");
    // Between this node (k + 10) and its first successor (k + 20).
    let mut newcomer = Peer::new(k.wrapping_add(15), 9);
    handshake_only(&mut node, &cfg, &mut newcomer, 0x800);
    assert!(!node.successors().contains(&newcomer.id), "no Update yet");
    let b = replica_store(&mut node, &cfg, &mut newcomer, 0x901);
    assert!(
        matches!(b, Body::StoreAns(_)),
        "the newcomer's handoff: {b:?}"
    );
    assert_eq!(
        node.datastore()
            .generation(&resource, KindId::SIP_REGISTRATION),
        1000
    );
}

/// A replica Store refused with Error_Forbidden (the replica's view of the ring is stale,
/// or ours) is sent again 2 s later, then after 4, 8, 16, 32 and 64 s (six resends, 126 s:
/// longer than a failure takes to be detected at a 60 s chord-ping-interval), and the
/// copy is kept meanwhile.
#[test]
fn a_copy_refused_as_forbidden_is_sent_again() {
    let (mut node, mut s, mut replica, cfg) = owner_with_a_replica_of(600);
    let resource = ResourceId::hash(USER.as_bytes());
    let me = vec![Destination::Node(node.node_id())];
    let mut now = Time(10);
    let second = reload_sim::time::Duration::from_secs(1);
    for resend in 1..=7u32 {
        let refusal = Body::Error(ErrorResponse::new(error_code::FORBIDDEN, "not a replica"));
        let txid = replica.header.transaction_id.0;
        let (f, _) = s.frame(&cfg, txid, vec![], me.clone(), refusal);
        node.handle_datagram(now, s.addr, &f);
        let _ = sent_acked(&mut node, now);
        let wait = 2u64 << (resend - 1);
        now += reload_sim::time::Duration::from_secs(wait - 1);
        node.handle_timeout(now);
        assert!(
            replica_to(s.addr, sent_acked(&mut node, now)).is_none(),
            "resend {resend}: not before {wait} s"
        );
        now += second;
        node.handle_timeout(now);
        let again = replica_to(s.addr, sent_acked(&mut node, now));
        if resend == 7 {
            assert!(again.is_none(), "given up after six resends");
            break;
        }
        replica = again.unwrap_or_else(|| panic!("resend {resend}"));
        assert_ne!(replica.header.transaction_id.0, txid, "a new request");
        assert!(node.datastore().export(now, &resource).len() == 1);
    }
}

/// A refusal is kept per peer: when one replica refuses its copy and the other accepts
/// its own, the refused copy is still sent again to the peer that refused it.
#[test]
fn a_copy_one_replica_refused_is_sent_again_though_the_other_accepted() {
    let m = u128::MAX;
    let (mut node, mut peers, cfg) = small_ring(10, [m - 9, m - 19, m - 29, 20, 30, FAR]);
    let resource = ResourceId::hash(USER.as_bytes());
    let me = vec![Destination::Node(node.node_id())];
    let to = vec![Destination::Resource(resource)];
    let store = Body::StoreReq(store_req_living(resource, peers[0].id, 77, 600));
    let (f, _) = peers[0].frame(&cfg, 0x500, vec![], to, store);
    node.handle_datagram(Time(10), peers[0].addr, &f);
    let copies: Vec<(SocketAddr, reload_sim::proto::wire::Message)> =
        sent_acked(&mut node, Time(10))
            .into_iter()
            .map(|(a, m)| (a, decode(&m)))
            .filter(|(_, m)| matches!(&m.contents.body, Body::StoreReq(r) if r.replica_number > 0))
            .collect();
    let (r1, r2) = (peers[3].addr, peers[4].addr);
    assert_eq!(copies.iter().map(|(a, _)| *a).collect::<Vec<_>>(), [r1, r2]);
    // The second replica's acceptance arrives after the first's refusal.
    let refusal = Body::Error(ErrorResponse::new(error_code::FORBIDDEN, "not a replica"));
    let txid = copies[0].1.header.transaction_id.0;
    let (f, _) = peers[3].frame(&cfg, txid, vec![], me.clone(), refusal);
    node.handle_datagram(Time(10), r1, &f);
    let ok = Body::StoreAns(StoreAns {
        kind_responses: vec![],
    });
    let txid = copies[1].1.header.transaction_id.0;
    let (f, _) = peers[4].frame(&cfg, txid, vec![], me, ok);
    node.handle_datagram(Time(10), r2, &f);
    let _ = sent_acked(&mut node, Time(10));
    let later = Time(10) + reload_sim::time::Duration::from_secs(2);
    node.handle_timeout(later);
    let again: Vec<SocketAddr> = sent_acked(&mut node, later)
        .into_iter()
        .filter(
            |(_, m)| matches!(&decode(m).contents.body, Body::StoreReq(r) if r.replica_number > 0),
        )
        .map(|(a, _)| a)
        .collect();
    assert_eq!(
        again,
        [r1],
        "only the refused copy, to the peer that refused it"
    );
}

/// Sends `body` from `from` straight to the node at `now` and checks the answer: exactly
/// Error_Forbidden saying `info`, and nothing else.
fn assert_forbidden(
    node: &mut Node,
    cfg: &OverlayConfig,
    from: &mut Peer,
    txid: u64,
    body: Body,
    info: &str,
) {
    let me = vec![Destination::Node(node.node_id())];
    let (f, _) = from.frame(cfg, txid, vec![], me, body);
    node.handle_datagram(Time(10), from.addr, &f);
    let error = Body::Error(ErrorResponse::new(error_code::FORBIDDEN, info));
    let dest = vec![Destination::Node(from.id)];
    let want = from_first_node(cfg, node.node_id().0, txid, dest, vec![], error);
    assert_eq!(sent_acked(node, Time(10)), vec![(from.addr, want)]);
}

/// §6.4.2.1: "Receivers of the JoinReq MUST verify that the joining_peer_id field matches
/// the Node-ID used to sign the message and, if not, the message MUST be rejected with an
/// Error_Forbidden error." A linked joiner whose JoinReq names another Node-ID is refused,
/// byte for byte, and not admitted; its JoinReq for its own Node-ID is.
#[test]
fn a_join_for_another_node_id_is_forbidden() {
    let (mut node, p, _q, cfg) = node_with_two_peers();
    let mut joiner = Peer::new(12u128 << 124, 9);
    handshake_only(&mut node, &cfg, &mut joiner, 0x710);
    let join = |id| {
        Body::JoinReq(JoinReq {
            joining_peer_id: id,
            overlay_specific_data: vec![],
        })
    };
    let info = "join must come directly from the joining peer";
    assert_forbidden(&mut node, &cfg, &mut joiner, 0x711, join(p.id), info);
    assert!(!node.successors().contains(&joiner.id));
    assert!(!node.predecessors().contains(&joiner.id));

    let me = vec![Destination::Node(node.node_id())];
    let (f, _) = joiner.frame(&cfg, 0x712, vec![], me, join(joiner.id));
    node.handle_datagram(Time(20), joiner.addr, &f);
    let out = sent_acked(&mut node, Time(20));
    assert!(
        out.iter()
            .any(|(a, m)| *a == joiner.addr && matches!(decode(m).contents.body, Body::JoinAns(_))),
        "the joiner's own Join is admitted"
    );
    assert!(node.predecessors().contains(&joiner.id));
}

/// A node joining through `ap`, the only peer of its overlay (bootstrap and admitting peer),
/// driven to the point where its JoinReq is out: (node, JoinReq).
fn joining_through(cfg: &Arc<OverlayConfig>, ap: &mut Peer) -> (Node, Message) {
    let j = NodeId(8u128 << 120);
    let mut node = Node::new(
        cfg.clone(),
        Identity::new(j, "joiner@scripted.example.org"),
        addr(1),
        Time::ZERO,
        3,
    );
    let t = Time(1_000);
    node.join(t, &[ap.addr]).unwrap();
    let to_j = vec![Destination::Node(j)];
    let ap_addr = ap.addr;
    let mut answer = |node: &mut Node, txid: u64, body: Body| {
        let (f, _) = ap.frame(cfg, txid, vec![], to_j.clone(), body);
        node.handle_datagram(t, ap.addr, &f);
        sent(node)
            .into_iter()
            .map(|(_, m)| decode(&m))
            .collect::<Vec<_>>()
    };
    let handshake = decode(&sent(&mut node)[0].1).header.transaction_id.0;
    let pong = Body::PingAns(PingAns {
        response_id: 1,
        time: 0,
    });
    let attach = answer(&mut node, handshake, pong).remove(0);
    assert!(matches!(attach.contents.body, Body::AttachReq(_)));
    let txid = attach.header.transaction_id.0;
    answer(&mut node, txid, attach_body(ap_addr, "active", false));
    assert_eq!(node.join_phase(), Some(JoinPhase::AwaitingUpdate));
    let alone = ChordUpdate {
        uptime: 100,
        kind: ChordUpdateKind::Full {
            predecessors: vec![],
            successors: vec![],
            fingers: vec![],
        },
    };
    let join = answer(&mut node, 0x5000, Body::UpdateReq(alone))
        .into_iter()
        .find(|m| matches!(m.contents.body, Body::JoinReq(_)))
        .expect("the JoinReq");
    assert_eq!(join.header.destination_list, vec![Destination::Node(ap.id)]);
    assert_eq!(node.join_phase(), Some(JoinPhase::Joining));
    (node, join)
}

/// §6.4.2.1: "Joining Nodes MUST verify that the signature on the JoinAns message matches
/// the expected target (i.e., the adjacency over which they are joining). If not, they
/// MUST discard the message." A JoinAns signed by another node, relayed over the
/// admitting peer's link or sent straight over it, leaves the node joining; the admitting
/// peer's own JoinAns then completes the join.
#[test]
fn a_join_answer_from_another_node_is_discarded() {
    let cfg = config();
    let mut ap = Peer::new(9u128 << 120, 2);
    let (mut node, join) = joining_through(&cfg, &mut ap);
    let txid = join.header.transaction_id.0;
    let me = vec![Destination::Node(node.node_id())];
    let ans = Body::JoinAns(JoinAns::default());
    let mut other = Peer::new(10u128 << 120, 2);
    let (unmatched, dropped) = (node.stats().unmatched_answers, node.stats().dropped);
    for via in [vec![Destination::Node(other.id)], vec![]] {
        other.seq = ap.seq;
        let (f, _) = other.frame(&cfg, txid, via, me.clone(), ans.clone());
        ap.seq += 1;
        node.handle_datagram(Time(2_000), ap.addr, &f);
        assert_eq!(node.state(), NodeState::Joining);
        assert_eq!(node.join_phase(), Some(JoinPhase::Joining));
    }
    assert_eq!(node.stats().unmatched_answers, unmatched + 1, "relayed");
    assert_eq!(node.stats().dropped, dropped + 1, "over a link bound to ap");
    assert!(std::iter::from_fn(|| node.poll_event()).all(|e| e != Event::Joined));
    let (f, _) = ap.frame(&cfg, txid, vec![], me, ans);
    node.handle_datagram(Time(3_000), ap.addr, &f);
    assert_eq!(node.state(), NodeState::Joined);
}

/// §6.4.2.2: "Receivers of the LeaveReq MUST verify that the leaving_peer_id field matches
/// the Node-ID used to sign the message and, if not, the message MUST be rejected with an
/// Error_Forbidden error." Q, over its own link, says P is leaving: refused, and both
/// stay.
#[test]
fn a_leave_naming_another_peer_is_forbidden() {
    let (mut node, p, mut q, cfg) = node_with_two_peers();
    let info = "leave must come directly from the leaving peer";
    assert_forbidden(&mut node, &cfg, &mut q, 0x720, leave_of(p.id), info);
    assert_eq!((links_to(&node, p.id), links_to(&node, q.id)), (1, 1));
    assert!(node.successors().contains(&p.id) && node.successors().contains(&q.id));
}

//! RFC 6940 security and reliability rules, one scripted node at a time: answers come
//! from the node addressed (§6.3.4), fetched values are verified (§7.4.2.2), a Leave comes
//! over the leaving peer's own link (§6.4.2.2), replica Stores come from the replica set
//! (§7.4.1.1, §10.4), refused copies are refreshed (§7.4.1.1), and duplicates get the
//! same answer along their own path for the whole window (§6.1.2, §6.2.1).

use std::net::SocketAddr;

use reload_sim::proto::id::ResourceId;
use reload_sim::proto::node::Node;
use reload_sim::proto::wire::framing::Frame;
use reload_sim::proto::wire::storage::{KindId, StoreKindData, StoreReq};
use reload_sim::proto::wire::{Body, Destination};
use reload_sim::time::Time;

use crate::scripted::{Peer, config, decode, first_node, link_peer, registration_value, sent};

/// The user every scripted peer's certificate names.
const USER: &str = "scripted@scripted.example.org";

fn store_req(resource: ResourceId, node: reload_sim::proto::id::NodeId, t: u64) -> StoreReq {
    StoreReq {
        resource,
        replica_number: 0,
        kind_data: vec![StoreKindData {
            kind: KindId::SIP_REGISTRATION,
            generation_counter: 0,
            values: vec![registration_value(&resource, node, USER, t, 60)],
        }],
    }
}

/// Like [`sent`], but every data frame is acknowledged by its receiver at `now`, so the
/// node's links never stall on Simple Reliability's window.
fn sent_acked(node: &mut Node, now: Time) -> Vec<(SocketAddr, Vec<u8>)> {
    let mut out = Vec::new();
    let mut acks = Vec::new();
    while let Some(t) = node.poll_transmit() {
        if let Frame::Data { sequence, message } = Frame::decode(&t.bytes).unwrap() {
            out.push((t.to, message.to_vec()));
            let mut ack = Vec::new();
            Frame::Ack {
                ack_sequence: sequence,
                received: 0,
            }
            .encode(&mut ack)
            .unwrap();
            acks.push((t.to, ack));
        }
    }
    for (from, ack) in acks {
        node.handle_datagram(now, from, &ack);
    }
    out
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

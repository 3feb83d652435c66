//! Conformance of the SIP usage on the peer, one scripted node with exact bytes: RFC 7904
//! (registrations, calls) and the RFC 6940 §7 storage rules as the usage applies them
//! (tombstones, §7.4.1.3).

use std::net::SocketAddr;

use reload_sim::proto::id::{NodeId, ResourceId};
use reload_sim::proto::wire::storage::{DataValue, KindId, StoreKindData, StoreReq};
use reload_sim::proto::wire::{Body, Destination};
use reload_sim::time::Time;

use crate::scripted::{
    self, USER, cert, config, decode, fetch_ans, from_first_node, node_beside_owner,
    node_linked_to, request_as, route_value, sent_acked, signed_entry,
};

/// The node of these tests, and its one peer just before it, which owns every other
/// Resource-ID: every Store the node sends goes out to that peer.
const ME: u128 = 1 << 100;

/// The StoreReqs among `out`: (message bytes, request).
fn stores(out: &[(SocketAddr, Vec<u8>)]) -> Vec<(Vec<u8>, StoreReq)> {
    out.iter()
        .filter_map(|(_, m)| match decode(m).contents.body {
            Body::StoreReq(r) => Some((m.clone(), r)),
            _ => None,
        })
        .collect()
}

/// The lifetime of the one value of a one-value StoreReq.
fn lifetime(r: &StoreReq) -> u32 {
    r.kind_data[0].values[0].lifetime
}

/// §7.4.1.3: "The owner SHOULD use a lifetime for the nonexistent value that is at least
/// as long as the remainder of the lifetime of the value it is replacing." Unregistering
/// a route registered for 3600 s stores a tombstone for 3600 s (byte for byte), an alias
/// stored for 7200 s gets 7200 s, and an AoR the node never stored gets 600 s. Every
/// tombstone used to get 600 s.
#[test]
fn a_tombstone_lives_as_long_as_the_value_it_replaces() {
    let cfg = config();
    let (mut node, [p]) = node_linked_to(&cfg, ME, [(ME - 1, 2)]);
    let (route, alias, never) = ("alice@x.example", "bob@x.example", "carol@x.example");
    node.register(Time(1_000_000_000), route, 3600).unwrap();
    node.register_alias(Time(1_000_000_000), alias, route, 7200)
        .unwrap();
    let out = sent_acked(&mut node, Time(1_000_000_000));
    let lifetimes: Vec<u32> = stores(&out).iter().map(|(_, r)| lifetime(r)).collect();
    assert_eq!(lifetimes, vec![3600, 7200]);

    let t = Time(2_000_000_000);
    node.unregister(t, route).unwrap();
    let out = sent_acked(&mut node, t);
    assert!(out.iter().all(|(to, _)| *to == p.addr));
    let [(bytes, _)] = &stores(&out)[..] else {
        panic!("one tombstone: {out:?}")
    };
    // storage_time: the clock in ms, + 1 past the last store (1001, 1002 at 1 s).
    let resource = ResourceId::hash(route.as_bytes());
    let user = cert(NodeId(ME), route);
    let tombstone = DataValue {
        exists: false,
        value: Vec::new(),
    };
    let body = Body::StoreReq(StoreReq {
        resource,
        replica_number: 0,
        kind_data: vec![StoreKindData {
            kind: KindId::SIP_REGISTRATION,
            generation_counter: 0,
            values: vec![signed_entry(
                &resource,
                &user,
                NodeId(ME),
                2001,
                3600,
                tombstone,
            )],
        }],
    });
    let txid = decode(bytes).header.transaction_id.0;
    let dest = vec![Destination::Resource(resource)];
    assert_eq!(*bytes, request_as(&cfg, &user, txid, dest, body));

    node.unregister(t, alias).unwrap();
    node.unregister(t, never).unwrap();
    let out = sent_acked(&mut node, t);
    let lifetimes: Vec<u32> = stores(&out).iter().map(|(_, r)| lifetime(r)).collect();
    assert_eq!(lifetimes, vec![7200, 600]);
    assert_eq!(node.registered_count(), 0);
}

/// RFC 7904 §5.1: "A caller MAY choose to contact the callee using SIP or SIPS, but
/// SHOULD follow a preference indicated by the callee in its contact_prefs attribute."
/// A call finds two registrations: one whose contact_prefs is `(sip.schemes=SIPS)` gets
/// an AppAttach for application 5061, one with empty contact_prefs 5060 (byte for byte).
/// Both used to get 5060.
#[test]
fn a_call_follows_the_callees_contact_prefs() {
    use reload_sim::proto::wire::attach::{AppAttachReqAns, CandType, IceCandidate, overlay_link};
    let (mut node, mut p, resource, cfg) = node_beside_owner();
    node.call(Time(10), USER).unwrap();
    let out = sent_acked(&mut node, Time(10));
    let fetch = decode(&out[0].1);
    assert!(matches!(fetch.contents.body, Body::FetchReq(_)));
    let other = NodeId(5 << 100);
    let sips_only = route_value(&resource, (p.id, p.id, USER), b"(sip.schemes=SIPS)", p.id);
    let no_prefs = route_value(&resource, (other, other, USER), b"", other);
    let to_me = vec![Destination::Node(node.node_id())];
    let txid = fetch.header.transaction_id.0;
    let (f, _) = p.frame(
        &cfg,
        txid,
        vec![],
        to_me,
        fetch_ans(vec![sips_only, no_prefs]),
    );
    node.handle_datagram(Time(20), p.addr, &f);
    let out = sent_acked(&mut node, Time(20));
    let app_attach = |application: u16| {
        Body::AppAttachReq(AppAttachReqAns {
            ufrag: vec![],
            password: vec![],
            application,
            role: b"passive".to_vec(),
            candidates: vec![IceCandidate {
                addr_port: scripted::addr(1).into(),
                overlay_link: overlay_link::DTLS_UDP_SR_NO_ICE,
                foundation: vec![],
                priority: 1,
                cand_type: CandType::Host,
                extensions: vec![],
            }],
        })
    };
    let me = node.node_id().0;
    let want: Vec<(SocketAddr, Vec<u8>)> = [(p.id, 5061), (other, 5060)]
        .into_iter()
        .zip(&out)
        .map(|((to, app), (_, m))| {
            let txid = decode(m).header.transaction_id.0;
            let dest = vec![Destination::Node(to)];
            (
                p.addr,
                from_first_node(&cfg, me, txid, dest, vec![], app_attach(app)),
            )
        })
        .collect();
    assert_eq!(out, want);
}

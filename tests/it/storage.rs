//! Store and Fetch through the overlay: signed values at the responsible peer, two
//! replicas on its successors, access control, and a fetch after the owner crashed.

use reload_sim::proto::event::{Event, RequestError};
use reload_sim::proto::id::{NodeId, ResourceId, TransactionId};
use reload_sim::proto::wire::Destination;
use reload_sim::proto::wire::Wire;
use reload_sim::proto::wire::error_response::error_code;
use reload_sim::proto::wire::message::code;
use reload_sim::proto::wire::sip::SipRegistration;
use reload_sim::proto::wire::storage::{
    DataValue, KindId, SpecifierIndices, StoreKindData, StoredDataSpecifier, StoredDataValue,
};
use reload_sim::time::Duration;

use crate::harness::Net;

fn user(i: usize) -> String {
    format!("node{i}@test.example.org")
}

/// Node `i` registers its own user under its Node-ID (USER-NODE-MATCH) via node `from`.
fn register(net: &mut Net, from: usize, owner: usize) -> TransactionId {
    let resource = ResourceId::hash(user(owner).as_bytes());
    let me = net.node(owner).node_id();
    let reg = SipRegistration::Route {
        contact_prefs: vec![],
        destination_list: vec![Destination::Node(me)],
    };
    let value = StoredDataValue::Dictionary {
        key: me.octets().to_vec(),
        value: DataValue {
            exists: true,
            value: reg.to_bytes().unwrap(),
        },
    };
    // The value is signed by the storing node `from` (which is `owner` unless forging).
    let storage_time = 1_000 + net.now.as_millis();
    let signed = net.node(from).sign_value(
        &resource,
        KindId::SIP_REGISTRATION,
        storage_time,
        600,
        value,
    );
    let kd = StoreKindData {
        kind: KindId::SIP_REGISTRATION,
        generation_counter: 0,
        values: vec![signed],
    };
    let now = net.now;
    let req = net.node_mut(from).store(now, resource, vec![kd]).unwrap();
    net.service(from);
    req
}

fn fetch(net: &mut Net, from: usize, owner: usize) -> TransactionId {
    let resource = ResourceId::hash(user(owner).as_bytes());
    let spec = StoredDataSpecifier {
        kind: KindId::SIP_REGISTRATION,
        generation: 0,
        indices: SpecifierIndices::Dictionary(vec![]),
    };
    let now = net.now;
    let req = net.node_mut(from).fetch(now, resource, vec![spec]).unwrap();
    net.service(from);
    req
}

fn done(net: &Net, req: TransactionId) -> Option<Result<u16, RequestError>> {
    net.events.iter().find_map(|(_, e)| match e {
        Event::RequestDone { request, outcome } if *request == req => Some(outcome.map(|a| a.code)),
        _ => None,
    })
}

fn fetched_values(net: &Net, req: TransactionId) -> usize {
    net.events
        .iter()
        .find_map(|(_, e)| match e {
            Event::Fetched {
                request,
                answer,
                discarded,
            } if *request == req => {
                assert_eq!(*discarded, 0, "every value fetched verifies");
                Some(
                    answer
                        .kind_responses
                        .iter()
                        .map(|k| k.values.iter().filter(|v| v.value.data().exists).count())
                        .sum(),
                )
            }
            _ => None,
        })
        .unwrap_or(0)
}

/// Indices of the live nodes holding `resource`.
fn holders(net: &Net, resource: &ResourceId) -> Vec<NodeId> {
    let mut v: Vec<NodeId> = net
        .live()
        .filter(|(_, n)| n.datastore().resource_ids().any(|r| r == resource))
        .map(|(_, n)| n.node_id())
        .collect();
    v.sort();
    v
}

#[test]
fn store_fetch_replicate_and_survive_the_owner_crash() {
    let mut net = Net::ring(16, Duration::from_millis(300), Net::fast_config());
    net.run_for(Duration::from_secs(40));
    assert!(net.ring_errors().is_empty(), "{:#?}", net.ring_errors());

    let req = register(&mut net, 3, 3);
    net.run_for(Duration::from_secs(5));
    assert_eq!(done(&net, req), Some(Ok(code::STORE_ANS)));

    // The responsible peer and its next two successors hold it.
    let resource = ResourceId::hash(user(3).as_bytes());
    let ring = net.ring_ids();
    let owner = net.owner(resource.ring_position().unwrap());
    let pos = ring.iter().position(|x| *x == owner).unwrap();
    let mut want = vec![
        owner,
        ring[(pos + 1) % ring.len()],
        ring[(pos + 2) % ring.len()],
    ];
    want.sort();
    assert_eq!(holders(&net, &resource), want);

    // Any peer can fetch it.
    let f = fetch(&mut net, 9, 3);
    net.run_for(Duration::from_secs(5));
    assert_eq!(done(&net, f), Some(Ok(code::FETCH_ANS)));
    assert_eq!(fetched_values(&net, f), 1);

    // Crash the responsible peer: after the ring repairs, its first replica answers.
    let owner_index = net
        .live()
        .find(|(_, n)| n.node_id() == owner)
        .map(|(i, _)| i)
        .unwrap();
    net.crash(owner_index);
    net.run_for(Duration::from_secs(60));
    assert!(net.ring_errors().is_empty(), "{:#?}", net.ring_errors());
    let from = if owner_index == 9 { 10 } else { 9 };
    let f = fetch(&mut net, from, 3);
    net.run_for(Duration::from_secs(10));
    assert_eq!(done(&net, f), Some(Ok(code::FETCH_ANS)));
    assert_eq!(fetched_values(&net, f), 1);
}

#[test]
fn another_node_cannot_register_someone_elses_user() {
    let mut net = Net::ring(8, Duration::from_millis(300), Net::fast_config());
    net.run_for(Duration::from_secs(30));
    // Node 5 signs a registration for node 3's user: USER-NODE-MATCH refuses it.
    let req = register(&mut net, 5, 3);
    net.run_for(Duration::from_secs(5));
    assert_eq!(
        done(&net, req),
        Some(Err(RequestError::ErrorResponse(error_code::FORBIDDEN)))
    );
    let resource = ResourceId::hash(user(3).as_bytes());
    assert!(holders(&net, &resource).is_empty());
}

#[test]
fn a_joining_owner_receives_the_data_and_it_stays_fetchable() {
    let mut net = Net::ring(12, Duration::from_millis(300), Net::fast_config());
    net.run_for(Duration::from_secs(30));
    let req = register(&mut net, 2, 2);
    net.run_for(Duration::from_secs(5));
    assert_eq!(done(&net, req), Some(Ok(code::STORE_ANS)));
    let resource = ResourceId::hash(user(2).as_bytes());
    let k = resource.ring_position().unwrap();
    let old_owner = net.owner(k);

    // A new peer whose id lands just at the key becomes its owner.
    let j = net.add_with_id(k);
    let now = net.now;
    net.node_mut(j)
        .join(now, &[crate::harness::addr(0)])
        .unwrap();
    net.service(j);
    let mut fetches = Vec::new();
    for step in 0..20 {
        net.run_for(Duration::from_secs(1));
        fetches.push(fetch(&mut net, 7 + step % 3, 2));
    }
    net.run_for(Duration::from_secs(20));
    assert_eq!(net.owner(k), k, "the new peer owns the key");
    assert!(net.ring_errors().is_empty(), "{:#?}", net.ring_errors());
    assert!(
        holders(&net, &resource).contains(&k),
        "handed over to the new owner"
    );
    assert!(
        holders(&net, &resource).contains(&old_owner),
        "the old owner keeps a replica"
    );
    assert_eq!(
        holders(&net, &resource).len(),
        3,
        "three copies: owner and two replicas"
    );
    for f in fetches {
        assert_eq!(fetched_values(&net, f), 1, "fetchable throughout the join");
    }
}

fn index_of(net: &Net, id: NodeId) -> usize {
    net.live()
        .find(|(_, n)| n.node_id() == id)
        .map(|(i, _)| i)
        .unwrap()
}

#[test]
fn a_leave_hands_data_over_and_three_copies_remain() {
    let mut net = Net::ring(12, Duration::from_millis(300), Net::fast_config());
    net.run_for(Duration::from_secs(30));
    let req = register(&mut net, 4, 4);
    net.run_for(Duration::from_secs(5));
    assert_eq!(done(&net, req), Some(Ok(code::STORE_ANS)));
    let resource = ResourceId::hash(user(4).as_bytes());
    let owner = net.owner(resource.ring_position().unwrap());
    let oi = index_of(&net, owner);
    let now = net.now;
    net.node_mut(oi).leave(now);
    net.service(oi);
    net.run_for(Duration::from_secs(3));
    net.crash(oi);
    net.run_for(Duration::from_secs(10));
    assert!(net.ring_errors().is_empty(), "{:#?}", net.ring_errors());
    let from = if oi == 8 { 9 } else { 8 };
    let f = fetch(&mut net, from, 4);
    net.run_for(Duration::from_secs(5));
    assert_eq!(fetched_values(&net, f), 1);
    assert_eq!(
        holders(&net, &resource).len(),
        3,
        "the new owner restored three copies"
    );
}

#[test]
fn a_lost_replica_is_replaced_after_the_hold_down() {
    let mut net = Net::ring(12, Duration::from_millis(300), Net::fast_config());
    net.run_for(Duration::from_secs(30));
    let req = register(&mut net, 6, 6);
    net.run_for(Duration::from_secs(5));
    assert_eq!(done(&net, req), Some(Ok(code::STORE_ANS)));
    let resource = ResourceId::hash(user(6).as_bytes());
    let ring = net.ring_ids();
    let owner = net.owner(resource.ring_position().unwrap());
    let pos = ring.iter().position(|x| *x == owner).unwrap();
    let first_replica = ring[(pos + 1) % ring.len()];
    net.crash(index_of(&net, first_replica));
    // The failure is noticed within seconds, but no new replica before 30 s.
    net.run_for(Duration::from_secs(20));
    assert_eq!(
        holders(&net, &resource).len(),
        2,
        "hold-down: no new replica yet"
    );
    net.run_for(Duration::from_secs(40));
    assert_eq!(
        holders(&net, &resource).len(),
        3,
        "replaced after the hold-down"
    );
}

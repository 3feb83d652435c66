//! The SIP usage end to end in an in-memory overlay: register, look up and AppAttach;
//! GRUUs; indirections and their loop bound; unregistered users.

use reload_sim::proto::event::{CallError, CallInfo, Event};
use reload_sim::proto::id::{ResourceId, TransactionId};
use reload_sim::proto::wire::Destination;
use reload_sim::proto::wire::message::code;
use reload_sim::proto::wire::sip::encode_gruu;
use reload_sim::time::Duration;

use crate::harness::Net;

fn aor(i: usize) -> String {
    format!("node{i}@test.example.org")
}

fn call(net: &mut Net, from: usize, to: &str) -> TransactionId {
    let now = net.now;
    let id = net.node_mut(from).call(now, to).unwrap();
    net.service(from);
    id
}

fn outcome(net: &Net, id: TransactionId) -> Option<Result<CallInfo, CallError>> {
    net.events.iter().find_map(|(_, e)| match e {
        Event::CallDone { call, outcome } if *call == id => Some(*outcome),
        _ => None,
    })
}

fn overlay(n: usize) -> Net {
    let mut net = Net::ring(n, Duration::from_millis(200), Net::fast_config());
    net.run_for(Duration::from_secs(40));
    assert!(net.ring_errors().is_empty(), "{:#?}", net.ring_errors());
    net
}

fn register(net: &mut Net, i: usize) {
    let now = net.now;
    net.node_mut(i).register(now, &aor(i), 3600).unwrap();
    net.service(i);
}

#[test]
fn every_call_to_a_registered_user_succeeds() {
    let mut net = overlay(50);
    for i in 0..50 {
        register(&mut net, i);
    }
    net.run_for(Duration::from_secs(10));
    let mut calls = Vec::new();
    for k in 0..100 {
        let (from, to) = (k % 50, (k * 7 + 3) % 50);
        calls.push((call(&mut net, from, &aor(to)), to));
        net.run_for(Duration::from_millis(100));
    }
    net.run_for(Duration::from_secs(20));
    let failed: Vec<_> = calls
        .iter()
        .filter(|(id, _)| !matches!(outcome(&net, *id), Some(Ok(_))))
        .map(|(id, to)| (to, outcome(&net, *id)))
        .collect();
    assert!(failed.is_empty(), "{} failed: {failed:?}", failed.len());
    for (id, to) in calls {
        let info = outcome(&net, id).expect("finished").expect("reached");
        assert_eq!(info.callee, net.node(to).node_id());
        assert_eq!(info.fetches, 1);
    }
}

#[test]
fn unregistered_users_gruus_and_indirection_loops() {
    let mut net = overlay(20);
    register(&mut net, 3);
    let now = net.now;
    // 4 -> 5 -> 4: a loop; 6 -> 3: an alias that resolves.
    net.node_mut(4)
        .register_alias(now, &aor(4), &aor(5), 600)
        .unwrap();
    net.node_mut(5)
        .register_alias(now, &aor(5), &format!("sip:{}", aor(4)), 600)
        .unwrap();
    net.node_mut(6)
        .register_alias(now, &aor(6), &aor(3), 600)
        .unwrap();
    for i in [4, 5, 6] {
        net.service(i);
    }
    net.run_for(Duration::from_secs(10));

    let missing = call(&mut net, 10, "nobody@test.example.org");
    let looped = call(&mut net, 10, &aor(4));
    let alias = call(&mut net, 10, &aor(6));
    let gruu = encode_gruu(&aor(3), &[Destination::Node(net.node(3).node_id())]).unwrap();
    let direct = call(&mut net, 11, &gruu);
    net.run_for(Duration::from_secs(20));

    assert_eq!(outcome(&net, missing), Some(Err(CallError::NotRegistered)));
    assert_eq!(outcome(&net, looped), Some(Err(CallError::IndirectionLoop)));
    let a = outcome(&net, alias).unwrap().unwrap();
    assert_eq!((a.callee, a.fetches), (net.node(3).node_id(), 2));
    let g = outcome(&net, direct).unwrap().unwrap();
    assert_eq!(
        (g.callee, g.fetches, g.fetch),
        (net.node(3).node_id(), 0, Duration::ZERO)
    );
}

#[test]
fn one_node_hosts_several_users_and_refreshes_each() {
    let mut net = overlay(20);
    let users = ["alice", "bob", "carol"].map(|u| format!("{u}@test.example.org"));
    let now = net.now;
    for u in &users {
        net.node_mut(7).register(now, u, 10).unwrap();
    }
    net.service(7);
    assert_eq!(net.node(7).registered_count(), 3);
    // Refreshed at 80 % of 10 s: stores at 0, 8 and 16 s.
    net.run_for(Duration::from_secs(20));
    for u in &users {
        let aor = ResourceId::hash(u.as_bytes());
        let stores: Vec<_> = net
            .events
            .iter()
            .filter_map(|(i, e)| match e {
                Event::Registered {
                    aor: a, outcome, ..
                } if *i == 7 && *a == aor => Some(*outcome),
                _ => None,
            })
            .collect();
        assert_eq!(stores.len(), 3, "{u}: {stores:?}");
        assert!(
            stores
                .iter()
                .all(|o| o.is_ok_and(|a| a.code == code::STORE_ANS)),
            "{u}: {stores:?}"
        );
    }
    let calls: Vec<_> = users.iter().map(|u| call(&mut net, 12, u)).collect();
    net.run_for(Duration::from_secs(10));
    for id in calls {
        let info = outcome(&net, id).expect("finished").expect("reached");
        assert_eq!(info.callee, net.node(7).node_id());
    }
    // Unregistering one user leaves the others reachable.
    let now = net.now;
    net.node_mut(7).unregister(now, &users[1]).unwrap();
    net.service(7);
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.node(7).registered_count(), 2);
    let gone = call(&mut net, 12, &users[1]);
    let kept = call(&mut net, 12, &users[2]);
    net.run_for(Duration::from_secs(10));
    assert_eq!(outcome(&net, gone), Some(Err(CallError::NotRegistered)));
    assert!(matches!(outcome(&net, kept), Some(Ok(_))));
}

#[test]
fn lookup_aor_reports_routes_without_connecting() {
    let mut net = overlay(20);
    register(&mut net, 3);
    let now = net.now;
    net.node_mut(6)
        .register_alias(now, &aor(6), &aor(3), 600)
        .unwrap();
    net.service(6);
    net.run_for(Duration::from_secs(10));
    let lookup = |net: &mut Net, to: &str| {
        let now = net.now;
        let id = net.node_mut(10).lookup_aor(now, to).unwrap();
        net.service(10);
        id
    };
    let direct = lookup(&mut net, &aor(3));
    let alias = lookup(&mut net, &aor(6));
    let missing = lookup(&mut net, "nobody@test.example.org");
    let route = vec![Destination::Node(net.node(3).node_id())];
    let gruu = lookup(&mut net, &encode_gruu(&aor(3), &route).unwrap());
    net.run_for(Duration::from_secs(20));
    let result = |id| {
        net.events.iter().find_map(|(_, e)| match e {
            Event::AorLookedUp { lookup, outcome } if *lookup == id => Some(outcome.clone()),
            _ => None,
        })
    };
    assert_eq!(result(direct), Some(Ok(vec![route.clone()])));
    assert_eq!(result(alias), Some(Ok(vec![route.clone()])));
    assert_eq!(result(missing), Some(Err(CallError::NotRegistered)));
    assert_eq!(result(gruu), Some(Ok(vec![route])));
    // Nobody was called.
    let app_attach =
        |e: &Event| matches!(e, Event::RequestServed { code: c, .. } if *c == code::APP_ATTACH_REQ);
    assert!(!net.events.iter().any(|(_, e)| app_attach(e)));
    assert!(
        !net.events
            .iter()
            .any(|(_, e)| matches!(e, Event::CallDone { .. }))
    );
}

/// A request whose responsible peer is its origin is answered by the origin itself: in a
/// one-peer overlay the peer registers, finds and calls its own users, and a call to an
/// AoR nobody registered ends `NotRegistered` instead of timing out.
#[test]
fn a_lone_peer_answers_its_own_requests() {
    let mut net = Net::start(Net::fast_config());
    let me = net.node(0).node_id();
    register(&mut net, 0);
    net.run_for(Duration::from_secs(1));
    let stored = net.events.iter().any(|(i, e)| {
        *i == 0 && matches!(e, Event::Registered { outcome: Ok(a), .. } if a.responder == me)
    });
    assert!(
        stored,
        "registration not answered locally: {:?}",
        net.events
    );
    let to_self = call(&mut net, 0, &aor(0));
    let to_nobody = call(&mut net, 0, "nobody@test.example.org");
    net.run_for(Duration::from_secs(1));
    let info = outcome(&net, to_self).expect("finished").expect("reached");
    assert_eq!((info.callee, info.fetches), (me, 1));
    assert_eq!(
        outcome(&net, to_nobody),
        Some(Err(CallError::NotRegistered))
    );
}

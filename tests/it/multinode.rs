//! The peer in an in-memory network of 2 to 64 nodes: joins, ring correctness, lookups,
//! crash and leave repair.

use reload_sim::proto::event::{Event, NodeState};
use reload_sim::proto::id::NodeId;
use reload_sim::proto::wire::Destination;
use reload_sim::time::Duration;

use crate::harness::Net;

fn settle(net: &mut Net, secs: u64) {
    net.run_for(Duration::from_secs(secs));
}

#[test]
fn two_peers_form_a_ring() {
    let mut net = Net::ring(2, Duration::from_millis(100), Net::fast_config());
    settle(&mut net, 10);
    assert!(net.ring_errors().is_empty(), "{:?}", net.ring_errors());
    assert!(
        net.events
            .iter()
            .any(|(i, e)| *i == 1 && *e == Event::Joined)
    );
}

#[test]
fn sixteen_peers_join_and_agree_with_the_oracle() {
    let mut net = Net::ring(16, Duration::from_millis(500), Net::fast_config());
    settle(&mut net, 30);
    assert!(net.ring_errors().is_empty(), "{:#?}", net.ring_errors());
}

/// Runs `count` lookups from random live peers to random keys; returns (answered, correct).
fn lookups(net: &mut Net, count: usize) -> (usize, usize, Vec<u32>) {
    let mut x = 0x1234_5678_9abc_def0_u128;
    let mut issued = Vec::new();
    let live: Vec<usize> = net
        .live()
        .filter(|(_, n)| n.state() == NodeState::Joined)
        .map(|(i, _)| i)
        .collect();
    for k in 0..count {
        x = x
            .wrapping_mul(0x2545_f491_4f6c_dd1d_0000_0000_0000_0001 | 1)
            .wrapping_add(0x9e37);
        let key = NodeId(x);
        let from = live[k % live.len()];
        let now = net.now;
        let req = net
            .node_mut(from)
            .ping(now, Destination::Resource(key.to_resource_id()))
            .unwrap();
        net.service(from);
        issued.push((from, req, key));
        net.run_for(Duration::from_millis(50));
    }
    settle(net, 20);
    let mut answered = 0;
    let mut correct = 0;
    let mut hops = Vec::new();
    for (from, req, key) in issued {
        let done = net.events.iter().find_map(|(i, e)| match e {
            Event::RequestDone { request, outcome } if *i == from && *request == req => {
                Some(*outcome)
            }
            _ => None,
        });
        if !matches!(done, Some(Ok(_))) && std::env::var("SHOW_FAILS").is_ok() {
            eprintln!("lookup from {from} key {key:?}: {done:?}");
        }
        if let Some(Ok(a)) = done {
            answered += 1;
            if a.responder == net.owner(key) {
                correct += 1;
            }
            let served = net.events.iter().find_map(|(_, e)| match e {
                Event::RequestServed {
                    origin,
                    transaction,
                    hops,
                    ..
                } if *transaction == req && *origin == net.node(from).node_id() => Some(*hops),
                _ => None,
            });
            hops.push(served.unwrap_or(0));
        }
    }
    (answered, correct, hops)
}

#[test]
fn every_lookup_reaches_the_responsible_peer() {
    let mut net = Net::ring(32, Duration::from_millis(300), Net::fast_config());
    settle(&mut net, 60);
    assert!(net.ring_errors().is_empty(), "{:#?}", net.ring_errors());
    let (answered, correct, hops) = lookups(&mut net, 200);
    assert_eq!((answered, correct), (200, 200));
    let mean = hops.iter().sum::<u32>() as f64 / hops.len() as f64;
    assert!(mean < 5.0, "mean hops {mean}");
}

#[test]
fn sixty_four_peers_joining_at_once_converge() {
    let mut net = Net::ring(64, Duration::from_millis(20), Net::fast_config());
    settle(&mut net, 120);
    assert!(net.ring_errors().is_empty(), "{:#?}", net.ring_errors());
    let (answered, correct, _) = lookups(&mut net, 100);
    assert_eq!((answered, correct), (100, 100));
}

#[test]
fn a_crash_is_repaired() {
    let mut net = Net::ring(16, Duration::from_millis(300), Net::fast_config());
    settle(&mut net, 30);
    assert!(net.ring_errors().is_empty(), "{:#?}", net.ring_errors());
    net.crash(5);
    net.crash(9);
    settle(&mut net, 120);
    assert!(net.ring_errors().is_empty(), "{:#?}", net.ring_errors());
    let (answered, correct, _) = lookups(&mut net, 50);
    assert_eq!((answered, correct), (50, 50));
}

#[test]
fn a_leave_is_repaired() {
    let mut net = Net::ring(16, Duration::from_millis(300), Net::fast_config());
    settle(&mut net, 30);
    let now = net.now;
    net.node_mut(7).leave(now);
    net.service(7);
    settle(&mut net, 5);
    assert_eq!(net.node(7).state(), NodeState::Left);
    assert!(net.events.iter().any(|(i, e)| *i == 7 && *e == Event::Left));
    net.crash(7);
    settle(&mut net, 5);
    assert!(net.ring_errors().is_empty(), "{:#?}", net.ring_errors());
}

#[test]
fn joins_survive_reordering() {
    let mut config = Net::fast_config();
    config.chord_update_interval = Duration::from_secs(20);
    let mut net = Net::start(config);
    net.latency = Duration::from_millis(20);
    net.jitter = Duration::from_millis(40);
    for _ in 1..64 {
        net.run_for(Duration::from_millis(10));
        net.join_new();
    }
    settle(&mut net, 120);
    assert!(net.ring_errors().is_empty(), "{:#?}", net.ring_errors());
}

#[test]
fn joins_survive_packet_loss() {
    let mut net = Net::start(Net::fast_config());
    net.loss_permille = 50;
    for _ in 1..12 {
        net.run_for(Duration::from_millis(400));
        net.join_new();
    }
    settle(&mut net, 120);
    assert!(net.ring_errors().is_empty(), "{:#?}", net.ring_errors());
}

#[test]
#[ignore = "scale probe: cargo test --release --test it scale_probe -- --ignored --nocapture"]
fn scale_probe() {
    let n: usize = std::env::var("PEERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let t0 = std::time::Instant::now();
    let mut net = Net::ring(n, Duration::from_millis(20), Net::fast_config());
    settle(&mut net, 120);
    let join_wall = t0.elapsed();
    let errs = net.ring_errors().len();
    let joining = net
        .live()
        .filter(|(_, n)| n.state() != NodeState::Joined)
        .count();
    for (i, n) in net
        .live()
        .filter(|(_, n)| n.state() != NodeState::Joined)
        .take(5)
    {
        eprintln!(
            "stuck {i}: {:?} {:?} links={} pending={} {:?}",
            n.state(),
            n.join_phase(),
            n.connection_count(),
            n.pending_requests(),
            n.stats()
        );
    }
    eprintln!(
        "node0: links={} {:?}",
        net.node(0).connection_count(),
        net.node(0).stats()
    );
    eprintln!(
        "not joined: {joining}; first errors: {:?}",
        net.ring_errors().iter().take(5).collect::<Vec<_>>()
    );
    let d0 = net.delivered;
    let t1 = std::time::Instant::now();
    let (answered, correct, hops) = lookups(&mut net, 2000);
    let mean = hops.iter().sum::<u32>() as f64 / hops.len().max(1) as f64;
    eprintln!(
        "n={n} join+settle wall={join_wall:?} ring_errors={errs} lookups answered={answered} correct={correct} mean_hops={mean:.2} lookup phase wall={:?} datagrams={}",
        t1.elapsed(),
        net.delivered - d0
    );
    let mut tot = reload_sim::proto::stats::NodeStats::default();
    for (_, n) in net.live() {
        let s = n.stats();
        tot.dropped += s.dropped;
        tot.unknown_link += s.unknown_link;
        tot.table_full += s.table_full;
        tot.no_route += s.no_route;
        tot.malformed += s.malformed;
        tot.ttl_exceeded += s.ttl_exceeded;
        tot.forwarded += s.forwarded;
        tot.link_failures += s.link_failures;
        tot.link_retransmits += s.link_retransmits;
        tot.request_retransmits += s.request_retransmits;
        tot.unmatched_answers += s.unmatched_answers;
        tot.bad_signature += s.bad_signature;
    }
    eprintln!("totals {tot:?}");
    let conns: Vec<usize> = net.live().map(|(_, n)| n.connection_count()).collect();
    eprintln!(
        "max conns {}, mean {}",
        conns.iter().max().unwrap(),
        conns.iter().sum::<usize>() / conns.len()
    );
    eprintln!(
        "size_of Node = {}",
        std::mem::size_of::<reload_sim::proto::node::Node>()
    );
}

/// A link a node closes on purpose (its bootstrap link once joined) is closed at the other
/// end too: no up link is left that only one side knows, so nothing is sent into a link
/// nobody reads, and every peer joins within a few round trips.
#[test]
fn closed_links_are_closed_at_both_ends() {
    let mut net = Net::ring(32, Duration::from_millis(300), Net::fast_config());
    settle(&mut net, 20);
    assert!(net.ring_errors().is_empty(), "{:#?}", net.ring_errors());
    let closed: u64 = net
        .live()
        .map(|(_, n)| n.stats().links_closed_by_peer)
        .sum();
    assert!(closed > 0, "no bootstrap link was closed");
    let up = |n: &reload_sim::proto::node::Node| -> Vec<std::net::SocketAddr> {
        n.connections()
            .into_iter()
            .filter(|c| c.2 == reload_sim::proto::link::LinkState::Up)
            .map(|c| c.0)
            .collect()
    };
    let by_addr: std::collections::BTreeMap<_, _> =
        net.live().map(|(_, n)| (n.local_addr(), up(n))).collect();
    for (a, links) in &by_addr {
        for b in links {
            assert!(
                by_addr.get(b).is_some_and(|l| l.contains(a)),
                "{a} has a link to {b} that {b} does not have"
            );
        }
    }
    // Joins took a handful of round trips, none waited on a dead link's retransmissions.
    let joined = net
        .events
        .iter()
        .filter(|(_, e)| *e == Event::Joined)
        .count();
    assert_eq!(joined, 32);
}

/// The Attach requests each node sent in `net`'s tap: distinct transactions of AttachReq
/// frames with an empty Via List (the origin's own first hop), by sender address.
fn attaches_sent(net: &Net) -> std::collections::BTreeMap<std::net::SocketAddr, usize> {
    use reload_sim::proto::wire::Body;
    use reload_sim::proto::wire::framing::Frame;
    let mut txids = std::collections::BTreeSet::new();
    for (from, _, bytes) in net.tap.as_deref().unwrap_or_default() {
        let Ok(Frame::Data { message, .. }) = Frame::decode(bytes) else {
            continue;
        };
        let m = reload_sim::proto::wire::Message::decode(message).unwrap();
        if matches!(m.contents.body, Body::AttachReq(_)) && m.header.via_list.is_empty() {
            txids.insert((*from, m.header.transaction_id));
        }
    }
    let mut by = std::collections::BTreeMap::new();
    for (from, _) in txids {
        *by.entry(from).or_insert(0) += 1;
    }
    by
}

/// Every Attach request a node sends is counted under one reason in its NodeStats
/// (`attaches_join`, `_neighbor`, `_finger`, `_recheck`, `_client`): 16 peers join with
/// fast maintenance and a client connects. Each joiner's first Attach is its join's (to
/// its own Node-ID + 1, §10.5), and the client's is its only one.
#[test]
fn attach_requests_are_counted_by_reason() {
    let mut net = Net::start(Net::fast_config());
    net.tap = Some(Vec::new());
    for _ in 1..16 {
        net.run_for(Duration::from_millis(300));
        net.join_new();
    }
    settle(&mut net, 30);
    assert!(net.ring_errors().is_empty(), "{:#?}", net.ring_errors());
    let client = net.add();
    let now = net.now;
    net.node_mut(client)
        .connect_client(now, &[crate::harness::addr(0)])
        .unwrap();
    net.service(client);
    settle(&mut net, 30);
    let sent = attaches_sent(&net);
    let mut reasons = [0u64; 5];
    for (i, n) in net.live() {
        let s = n.stats();
        let by_reason = [
            s.attaches_join,
            s.attaches_neighbor,
            s.attaches_finger,
            s.attaches_recheck,
            s.attaches_client,
        ];
        let counted: u64 = by_reason.iter().sum();
        let seen = sent.get(&n.local_addr()).copied().unwrap_or(0) as u64;
        assert_eq!(counted, seen, "node {i}: {s:?}");
        for (r, c) in reasons.iter_mut().zip(by_reason) {
            *r += c;
        }
        match i {
            0 => assert_eq!(s.attaches_join, 0, "the first peer never joined"),
            _ if i == client => assert_eq!(by_reason, [0, 0, 0, 0, 1]),
            _ => assert!(s.attaches_join >= 1, "node {i}: {s:?}"),
        }
    }
    assert!(reasons[0] > 15 && reasons[2] > 0, "{reasons:?}");
}

/// §6.6.5 on stream links (the real peer's TCP links): a ring forms, every Attach offers a
/// passive TLS-TCP-FH-NO-ICE candidate, and no frame is ever sent twice, even when one
/// peer vanishes without closing its links: its neighbours take it out of routing at the
/// RTO and forget it after the 30 s retention, and the ring is correct again.
#[test]
fn stream_links_offer_passive_tcp_candidates_and_never_resend() {
    use reload_sim::proto::link::LinkTransport;
    use reload_sim::proto::wire::attach::overlay_link;
    use reload_sim::proto::wire::framing::Frame;
    use reload_sim::proto::wire::{Body, Message};
    let mut config = Net::fast_config();
    config.link_transport = LinkTransport::Stream;
    let mut net = Net::ring(8, Duration::from_millis(500), config);
    net.tap = Some(Vec::new());
    net.run_for(Duration::from_secs(30));
    assert!(net.ring_errors().is_empty(), "{:?}", net.ring_errors());
    let mut attaches = 0;
    for (_, _, bytes) in net.tap.as_ref().unwrap() {
        let Ok(Frame::Data { message, .. }) = Frame::decode(bytes) else {
            continue;
        };
        let Ok(m) = Message::decode(message) else {
            continue;
        };
        if let Body::AttachReq(a) | Body::AttachAns(a) = &m.contents.body {
            attaches += 1;
            for c in &a.candidates {
                assert_eq!(c.overlay_link, overlay_link::TLS_TCP_FH_NO_ICE);
                assert!(
                    c.extensions
                        .iter()
                        .any(|e| e.name == b"tcptype" && e.value == b"passive")
                );
            }
        }
    }
    assert!(attaches > 0);
    // One peer vanishes: nothing is resent, and the ring repairs without it.
    net.crash(3);
    net.run_for(Duration::from_secs(90));
    assert!(net.ring_errors().is_empty(), "{:?}", net.ring_errors());
    let resent: u64 = net.live().map(|(_, n)| n.stats().link_retransmits).sum();
    assert_eq!(resent, 0);
}

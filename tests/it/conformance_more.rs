//! More RFC 6940 and RFC 7904 conformance, one scripted node at a time with exact bytes:
//! the SIP usage's callee check and AppAttach applications (RFC 7904 §5.1, RFC 6940
//! §6.5.2.2), storage times (§7, §13.5.3), Simple Reliability's failure signal (§6.6,
//! §6.6.3.1), and, on the in-memory network, rules that hold for every message sent.

use std::net::SocketAddr;
use std::sync::Arc;

use reload_sim::proto::config::OverlayConfig;
use reload_sim::proto::event::{CallError, Event};
use reload_sim::proto::id::NodeId;
use reload_sim::proto::node::Node;
use reload_sim::proto::wire::attach::application;
use reload_sim::proto::wire::error_response::{ErrorResponse, error_code};
use reload_sim::proto::wire::storage::StoreReq;
use reload_sim::proto::wire::topology::PingReq;
use reload_sim::proto::wire::{Body, Destination};
use reload_sim::time::{Duration, Time};

use crate::conformance_sec::{USER, fetch_ans, node_beside_owner, route_value};
use crate::scripted::{
    self, Peer, ack_frame, addr, app_attach_body, decode, first_node, link_peer, run_timers,
    sent_acked, sent_acked_but,
};

/// The CallDone events waiting in `node`.
fn calls_done(node: &mut Node) -> Vec<Event> {
    std::iter::from_fn(|| node.poll_event())
        .filter(|e| matches!(e, Event::CallDone { .. }))
        .collect()
}

/// RFC 7904 §5.1: "the Node-ID in the certificate received from the callee MUST match the
/// Node-ID in the Destination List ... If not, the caller MUST NOT use the connection and
/// MUST close it." The registration routes to `callee`; an AppAttachAns signed by another
/// node completes nothing and opens no connection to the address it offers (RFC 6940
/// §6.3.4: it is not the answer of the node the request is for); the callee's own answer
/// completes the call. A route ending in the wildcard Node-ID, which no certificate
/// carries, ends in `WrongCallee` whoever answers.
#[test]
fn only_the_registered_callee_completes_a_call() {
    let (mut node, mut p, resource, cfg) = node_beside_owner();
    let callee = NodeId(42u128 << 100);
    let impostor = NodeId(43u128 << 100);
    let me = vec![Destination::Node(node.node_id())];
    for (dest, wrong) in [(callee, false), (NodeId::WILDCARD, true)] {
        let call = node.call(Time(10), USER).unwrap();
        let fetch = decode(&sent_acked(&mut node, Time(10))[0].1);
        let route = route_value(&resource, p.id, p.id, USER, dest);
        let (f, _) = p.frame(
            &cfg,
            fetch.header.transaction_id.0,
            vec![],
            me.clone(),
            fetch_ans(vec![route]),
        );
        node.handle_datagram(Time(20), p.addr, &f);
        let out = sent_acked(&mut node, Time(20));
        assert_eq!(out.len(), 1);
        let attach = decode(&out[0].1);
        assert_eq!(out[0].0, p.addr);
        assert_eq!(
            attach.header.destination_list,
            vec![Destination::Node(dest)]
        );
        assert!(matches!(attach.contents.body, Body::AppAttachReq(_)));
        let txid = attach.header.transaction_id.0;
        let links = node.connection_count();
        if wrong {
            let (f, _) = p.frame(
                &cfg,
                txid,
                vec![],
                me.clone(),
                app_attach_body(p.addr, application::SIP, true),
            );
            node.handle_datagram(Time(30), p.addr, &f);
            match calls_done(&mut node).as_slice() {
                [
                    Event::CallDone {
                        call: c,
                        outcome: Err(CallError::WrongCallee),
                    },
                ] => assert_eq!(*c, call),
                other => panic!("expected WrongCallee, got {other:?}"),
            }
            continue;
        }
        let offered = addr(7);
        let forged = p.relay(
            &cfg,
            impostor,
            txid,
            me.clone(),
            app_attach_body(offered, application::SIP, true),
        );
        node.handle_datagram(Time(30), p.addr, &forged);
        assert_eq!(
            calls_done(&mut node),
            vec![],
            "another node's answer is not used"
        );
        assert!(
            sent_acked(&mut node, Time(30))
                .iter()
                .all(|(to, _)| *to != offered)
        );
        assert_eq!(node.connection_count(), links);
        let real = p.relay(
            &cfg,
            callee,
            txid,
            me.clone(),
            app_attach_body(addr(8), application::SIP, true),
        );
        node.handle_datagram(Time(40), p.addr, &real);
        match calls_done(&mut node).as_slice() {
            [
                Event::CallDone {
                    call: c,
                    outcome: Ok(info),
                },
            ] => {
                assert_eq!((*c, info.callee), (call, callee))
            }
            other => panic!("expected the callee, got {other:?}"),
        }
    }
}

/// RFC 6940 §6.5.2.2: "If the application ID is not supported, the peer MUST respond with
/// an Error_Not_Found error". An AppAttach for application 9999 is refused byte for byte;
/// SIP (5060) and SIPS (5061), the applications of RFC 7904 §5.1, are answered with the
/// node's No-ICE candidate.
#[test]
fn an_app_attach_for_an_unknown_application_is_not_found() {
    let (mut node, mut p, _resource, cfg) = node_beside_owner();
    let me = vec![Destination::Node(node.node_id())];
    let not_found = Body::Error(ErrorResponse::new(
        error_code::NOT_FOUND,
        "application not offered",
    ));
    for (txid, app, answer) in [
        (0x600u64, 9999u16, not_found),
        (
            0x601,
            application::SIP,
            app_attach_body(addr(1), application::SIP, true),
        ),
        (
            0x602,
            application::SIPS,
            app_attach_body(addr(1), application::SIPS, true),
        ),
    ] {
        let (f, _) = p.frame(
            &cfg,
            txid,
            vec![],
            me.clone(),
            app_attach_body(p.addr, app, false),
        );
        node.handle_datagram(Time(10), p.addr, &f);
        let dest = vec![Destination::Node(p.id)];
        let want = scripted::from_first_node(&cfg, node.node_id().0, txid, dest, vec![], answer);
        assert_eq!(
            sent_acked(&mut node, Time(10)),
            vec![(p.addr, want)],
            "application {app}"
        );
    }
}

/// The storage_time of the one value of each StoreReq in `out`.
fn storage_times<'a>(out: impl IntoIterator<Item = &'a Vec<u8>>) -> Vec<u64> {
    out.into_iter()
        .filter_map(|m| match decode(m).contents.body {
            Body::StoreReq(StoreReq { kind_data, .. }) => Some(kind_data[0].values[0].storage_time),
            _ => None,
        })
        .collect()
}

/// §7: storage_time is the time of the store in milliseconds, and "the node SHOULD make a
/// best-effort attempt to use a correct clock"; §13.5.3: "it is REQUIRED that storage
/// times be monotonically increasing." The node's clock (the simulated one, which every
/// node shares) gives the time: a registration at 10 s is stored at 10,001 ms, the alias
/// and the deletion in the same instant and another store 0.5 ms later each 1 ms later
/// still, a store at 20 s at 20,001 ms, and its automatic refresh at 80 % of the 60 s
/// lifetime at 68,001 ms.
#[test]
fn storage_times_follow_the_clock_and_always_increase() {
    let (mut node, _p, _resource, _cfg) = node_beside_owner();
    let t = Time::ZERO + Duration::from_secs(10);
    let mut stored = Vec::new();
    node.register(t, USER, 60).unwrap();
    node.register_alias(t, USER, "other@scripted.example.org", 60)
        .unwrap();
    node.unregister(t, USER).unwrap();
    stored.extend(sent_acked(&mut node, t));
    let soon = t + Duration::from_micros(500);
    node.register(soon, USER, 60).unwrap();
    stored.extend(sent_acked(&mut node, soon));
    let later = Time::ZERO + Duration::from_secs(20);
    node.register(later, USER, 60).unwrap();
    stored.extend(sent_acked(&mut node, later));
    // The stores go unanswered: their retransmissions (same transaction id) are left out.
    let end = Time::ZERO + Duration::from_secs(69);
    stored.extend(
        run_timers(&mut node, end)
            .into_iter()
            .map(|(_, to, m)| (to, m)),
    );
    let mut once = std::collections::BTreeSet::new();
    let times = storage_times(
        stored
            .iter()
            .map(|(_, m)| m)
            .filter(|m| once.insert(decode(m).header.transaction_id)),
    );
    assert_eq!(times, vec![10_001, 10_002, 10_003, 10_004, 20_001, 68_001]);
}

/// The node of the link tests.
const ME: u128 = 1 << 100;

/// The suspect flag of the node's link to `a`.
fn suspect(node: &Node, a: SocketAddr) -> bool {
    node.connections()
        .iter()
        .find(|c| c.0 == a)
        .is_some_and(|c| c.4)
}

/// Where the node sends `from`'s Ping for `key`: the next hop it forwards to.
fn next_hop(
    node: &mut Node,
    cfg: &OverlayConfig,
    from: &mut Peer,
    txid: u64,
    key: Destination,
    now: Time,
) -> SocketAddr {
    let (f, _) = from.frame(
        cfg,
        txid,
        vec![],
        vec![key],
        Body::PingReq(PingReq::default()),
    );
    node.handle_datagram(now, from.addr, &f);
    let out = sent_acked(node, now);
    assert_eq!(out.len(), 1, "forwarded once");
    out[0].0
}

/// §6.6: "The RELOAD mechanism requires that failed links be quickly removed ... an overlay
/// link protocol ... quickly signals a likely failure, and implementations SHOULD quickly
/// act to remove a failed link from the Routing Table"; §6.6.3.1: "observe when no ACKs
/// have been received for an entire RTO interval, and then wait for three retransmissions
/// to occur beyond that point. If no ACKs have been received by the time the third
/// retransmission occurs, it is RECOMMENDED that the link be removed from the Routing
/// Table", and a larger default RTO "is RECOMMENDED if it is known in advance ... that the
/// RTT is larger". With RTO r (the default 500 ms, then 2 s from the configuration) a
/// frame nobody acknowledges goes at 0, r, 3r, 7r and 15r; from the fifth send the link is
/// suspect: its peer leaves the Neighbor Table and a message routed past it goes to
/// another peer. An ack clears the mark (the link "MAY be restored").
#[test]
fn an_unacknowledged_link_is_suspect_after_an_rto_and_three_retransmissions() {
    for rto_ms in [500u64, 2000] {
        let mut c = OverlayConfig::new("scripted.example.org");
        c.link_rto = Duration::from_millis(rto_ms);
        // No end-to-end resend of the request meanwhile: only Simple Reliability sends.
        c.reliability_timer = Duration::from_secs(120);
        let cfg = Arc::new(c);
        let mut node = first_node(&cfg, ME);
        // a is the successor and the next hop toward `key`; b and p follow it.
        let mut a = Peer::new(3u128 << 124, 2);
        let mut b = Peer::new(5u128 << 124, 3);
        let mut p = Peer::new(9u128 << 124, 4);
        for (i, peer) in [&mut a, &mut b, &mut p].into_iter().enumerate() {
            link_peer(&mut node, &cfg, peer, 0x100 * (i as u64 + 1));
        }
        let t0 = Time::ZERO + Duration::from_secs(20);
        let _ = run_timers(&mut node, t0);
        let key = Destination::Resource(NodeId(4u128 << 124).to_resource_id());
        assert_eq!(
            next_hop(&mut node, &cfg, &mut p, 0x500, key.clone(), t0),
            a.addr
        );

        node.ping(t0, Destination::Node(a.id)).unwrap();
        let r = Duration::from_millis(rto_ms);
        let mut sends = Vec::new();
        let mut last_seq = 0;
        let mut now = t0;
        loop {
            for (to, seq, _) in sent_acked_but(&mut node, now, Some(a.addr)) {
                if to == a.addr {
                    sends.push(now);
                    last_seq = seq;
                    assert_eq!(
                        suspect(&node, a.addr),
                        sends.len() == 5,
                        "after send {}",
                        sends.len()
                    );
                }
            }
            match node.poll_timeout() {
                Some(t) if t <= t0 + r.saturating_mul(15) => {
                    now = t;
                    node.handle_timeout(t);
                }
                _ => break,
            }
        }
        let want: Vec<Time> = [0, 1, 3, 7, 15]
            .iter()
            .map(|&k| t0 + r.saturating_mul(k))
            .collect();
        assert_eq!(sends, want, "RTO {rto_ms} ms");
        assert!(!node.successors().contains(&a.id) && !node.predecessors().contains(&a.id));
        assert_eq!(
            next_hop(&mut node, &cfg, &mut p, 0x501, key.clone(), now),
            b.addr
        );

        node.handle_datagram(now, a.addr, &ack_frame(last_seq));
        assert!(!suspect(&node, a.addr), "acks resumed");
    }
}

//! More RFC 6940 and RFC 7904 conformance, one scripted node at a time with exact bytes:
//! the SIP usage's callee check and AppAttach applications (RFC 7904 §5.1, RFC 6940
//! §6.5.2.2), storage times (§7, §13.5.3), Simple Reliability's failure signal (§6.6,
//! §6.6.3.1), stabilization over time (periodic Updates and finger searches, §10.7.4.1–2),
//! replica-set changes (§10.7.3), and, on the in-memory network, rules that hold for every
//! message sent.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;

use reload_sim::proto::chord::FingerTable;
use reload_sim::proto::config::OverlayConfig;
use reload_sim::proto::event::{CallError, Event};
use reload_sim::proto::id::NodeId;
use reload_sim::proto::node::Node;
use reload_sim::proto::wire::attach::application;
use reload_sim::proto::wire::error_response::{ErrorResponse, error_code};
use reload_sim::proto::wire::framing::Frame;
use reload_sim::proto::wire::storage::StoreReq;
use reload_sim::proto::wire::topology::PingReq;
use reload_sim::proto::wire::{Body, Destination, Message};
use reload_sim::time::{Duration, Time};

use crate::scripted::{
    self, Peer, ack_frame, addr, app_attach_body, decode, first_node, link_peer, run_timers,
    sent_acked, sent_acked_but,
};
use crate::scripted::{USER, fetch_ans, node_beside_owner, route_value};

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
        let route = route_value(&resource, (p.id, p.id, USER), b"", dest);
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

/// Messages seen on the network: (from, to, message).
type Tapped = Vec<(SocketAddr, SocketAddr, Message)>;

/// Every message sent in a busy in-memory overlay, decoded, with its (from, to): 12 peers
/// joining, a client, registrations and calls between the users, a Fetch of an unknown
/// Kind and a Store of another user's registration (refused), a crash, a graceful leave
/// and two late joins (which move replica sets), with fast maintenance (finger searches
/// every 5 s, Updates every 20 s) and an initial-ttl of 40 from the configuration. Also
/// the Node-ID of every node, by address.
fn every_message_of_a_busy_overlay() -> (Tapped, BTreeMap<SocketAddr, NodeId>) {
    use crate::harness::{Net, addr as net_addr};
    use reload_sim::proto::id::ResourceId;
    use reload_sim::proto::wire::storage::{
        DataValue, KindId, SpecifierIndices, StoreKindData, StoredDataSpecifier, StoredDataValue,
    };
    let mut cfg = Net::fast_config();
    cfg.initial_ttl = 40;
    let mut net = Net::start(cfg);
    net.tap = Some(Vec::new());
    let aor = |i: usize| format!("node{i}@test.example.org");
    let step = |net: &mut Net, secs: u64| net.run_for(Duration::from_secs(secs));
    for _ in 1..12 {
        net.run_for(Duration::from_millis(300));
        net.join_new();
    }
    step(&mut net, 30);
    let client = net.add();
    let now = net.now;
    net.node_mut(client)
        .connect_client(now, &[net_addr(0)])
        .unwrap();
    net.service(client);
    for i in 0..12 {
        let now = net.now;
        net.node_mut(i).register(now, &aor(i), 3600).unwrap();
        net.service(i);
    }
    step(&mut net, 5);
    for k in 0..24 {
        let (from, to) = (k % 12, (k * 5 + 3) % 12);
        let now = net.now;
        net.node_mut(from).call(now, &aor(to)).unwrap();
        net.service(from);
    }
    let now = net.now;
    let unknown = StoredDataSpecifier {
        kind: KindId(0x7777),
        generation: 0,
        indices: SpecifierIndices::Unknown(Vec::new()),
    };
    let victim = ResourceId::hash(aor(2).as_bytes());
    net.node_mut(1).fetch(now, victim, vec![unknown]).unwrap();
    let own = net.node(1).node_id();
    let value = StoredDataValue::Dictionary {
        key: own.octets().to_vec(),
        value: DataValue {
            exists: true,
            value: b"not mine".to_vec(),
        },
    };
    let signed = net
        .node(1)
        .sign_value(&victim, KindId::SIP_REGISTRATION, 1, 60, value);
    let kind_data = vec![StoreKindData {
        kind: KindId::SIP_REGISTRATION,
        generation_counter: 0,
        values: vec![signed],
    }];
    net.node_mut(1).store(now, victim, kind_data).unwrap();
    net.service(1);
    step(&mut net, 10);
    net.crash(4);
    step(&mut net, 30);
    let now = net.now;
    net.node_mut(5).leave(now);
    net.service(5);
    step(&mut net, 10);
    net.join_new();
    step(&mut net, 2);
    net.join_new();
    step(&mut net, 40);
    let ids = (0..net.nodes.len())
        .map(|i| (net_addr(i), crate::harness::node_id(i)))
        .collect();
    let messages = net
        .tap
        .take()
        .unwrap()
        .into_iter()
        .filter_map(|(from, to, bytes)| match Frame::decode(&bytes).unwrap() {
            Frame::Data { message, .. } => Some((from, to, decode(message))),
            Frame::Ack { .. } => None,
        })
        .collect();
    (messages, ids)
}

/// Rules every message must keep, checked on each of the ~4,000 messages of
/// [`every_message_of_a_busy_overlay`]:
/// - §6.3.2: "the initial TTL MUST NOT exceed 100 unless the configuration says so": the
///   TTL is the configured initial-ttl (40) less one per hop (TTL + Via List = 40).
/// - §6.3.2.2: a Resource-ID only as the last Destination List entry and never on a Via
///   List.
/// - §6.3.3.1: Error_Exp_A and Error_Exp_B "MUST NOT be used": errors were sent (the
///   refused Store, the unknown Kind), none experimental.
/// - §6.5.1.1, §6.5.1.5: no AttachReqAns mixes ICE and No-ICE candidates, and the overlay is
///   all No-ICE: every candidate of every Attach and AppAttach is DTLS-UDP-SR-NO-ICE.
/// - §10.7.3: "A peer MUST NOT enter itself in its successor or predecessor table": no
///   Update lists its sender.
/// - §10.7.3: "It SHOULD NOT delete data from peers which have left the replica set": no
///   Store deletes a value (nobody unregistered), though replica sets moved.
/// - §6.3.2: no transaction id is zero.
#[test]
fn every_message_of_a_busy_overlay_keeps_the_rules() {
    use reload_sim::proto::wire::attach::overlay_link;
    let (messages, ids) = every_message_of_a_busy_overlay();
    assert!(messages.len() > 3_000, "{}", messages.len());
    let mut errors = BTreeSet::new();
    let (mut attaches, mut app_attaches, mut replicas, mut updates) = (0, 0, 0, 0);
    for (from, to, m) in &messages {
        let h = &m.header;
        let at = format!("{from} -> {to}: {:?}", m.contents.body);
        assert_eq!(usize::from(h.ttl) + h.via_list.len(), 40, "{at}");
        assert_ne!(h.transaction_id.0, 0, "{at}");
        assert!(
            !h.via_list
                .iter()
                .any(|d| matches!(d, Destination::Resource(_))),
            "{at}"
        );
        let n = h.destination_list.len();
        assert!(
            h.destination_list[..n - 1]
                .iter()
                .all(|d| !matches!(d, Destination::Resource(_))),
            "{at}"
        );
        let no_ice = |c: &[reload_sim::proto::wire::attach::IceCandidate]| {
            !c.is_empty()
                && c.iter()
                    .all(|c| c.overlay_link == overlay_link::DTLS_UDP_SR_NO_ICE)
        };
        match &m.contents.body {
            Body::Error(e) => {
                errors.insert(e.code);
            }
            Body::AttachReq(a) | Body::AttachAns(a) => {
                attaches += 1;
                assert!(no_ice(&a.candidates), "{at}");
            }
            Body::AppAttachReq(a) | Body::AppAttachAns(a) => {
                app_attaches += 1;
                assert!(no_ice(&a.candidates), "{at}");
            }
            Body::StoreReq(r) => {
                replicas += usize::from(r.replica_number > 0);
                for v in r.kind_data.iter().flat_map(|k| &k.values) {
                    assert!(v.value.data().exists && v.lifetime > 0, "{at}");
                }
            }
            Body::UpdateReq(u) if h.via_list.is_empty() => {
                updates += 1;
                assert!(!u.node_ids().contains(&ids[from]), "{at}");
            }
            _ => {}
        }
    }
    assert!(!errors.contains(&error_code::EXP_A) && !errors.contains(&error_code::EXP_B));
    assert!(
        errors.contains(&error_code::FORBIDDEN) && errors.contains(&error_code::UNKNOWN_KIND),
        "{errors:?}"
    );
    assert!(attaches > 50 && app_attaches >= 48 && replicas > 20 && updates > 200);
}

/// The first send of each request among `out` (retransmissions share its transaction id),
/// decoded, from `after` on.
fn first_sends(
    out: Vec<(Time, SocketAddr, Vec<u8>)>,
    after: Time,
) -> Vec<(Time, SocketAddr, Message)> {
    let mut seen = BTreeSet::new();
    out.into_iter()
        .map(|(t, to, m)| (t, to, decode(&m)))
        .filter(|(_, _, m)| seen.insert(m.header.transaction_id))
        .filter(|(t, _, _)| *t >= after)
        .collect()
}

/// A first node seeded with `seed` and linked to scripted peers at `ids` (high 4 bits
/// of the ring), with `cfg`; the set-up's frames are drained.
fn node_with(cfg: &Arc<OverlayConfig>, seed: u64, ids: &[u128]) -> (Node, Vec<Peer>) {
    let mut node = scripted::first_node_seeded(cfg, ME, seed);
    let mut peers = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let mut p = Peer::new(id << 124, 2 + i as u8);
        link_peer(&mut node, cfg, &mut p, 0x100 * (i as u64 + 1));
        peers.push(p);
    }
    let _ = scripted::sent(&mut node);
    (node, peers)
}

/// The times of the periodic Update rounds of `node` up to `until` (from 100 s, after the
/// set-up's Updates), each round checked to reach exactly `to`.
fn update_rounds(node: &mut Node, until: Time, to: &BTreeSet<SocketAddr>) -> Vec<Time> {
    let after = Time::ZERO + Duration::from_secs(100);
    let mut rounds: BTreeMap<Time, BTreeSet<SocketAddr>> = BTreeMap::new();
    for (t, a, m) in first_sends(run_timers(node, until), after) {
        if matches!(m.contents.body, Body::UpdateReq(_)) {
            assert!(
                rounds.entry(t).or_default().insert(a),
                "one Update per neighbour"
            );
        }
    }
    for (t, reached) in &rounds {
        assert_eq!(reached, to, "round at {t:?}");
    }
    rounds.into_keys().collect()
}

/// §10.7.4.1: "A peer MUST periodically send an Update request to every peer in its
/// Neighbor Table", by default "about every ten minutes" (`chord-update-interval`, 600 s):
/// over 2,000 s every neighbour gets one Update a round, rounds 540–660 s apart.
#[test]
fn every_neighbour_gets_a_periodic_update() {
    let cfg = scripted::config();
    let (mut node, peers) = node_with(&cfg, 7, &[3, 5, 9]);
    let all: BTreeSet<SocketAddr> = peers.iter().map(|p| p.addr).collect();
    let rounds = update_rounds(&mut node, Time::ZERO + Duration::from_secs(2000), &all);
    assert_eq!(rounds.len(), 3, "{rounds:?}");
    let (lo, hi) = (Duration::from_secs(540), Duration::from_secs(660));
    for w in rounds.windows(2) {
        assert!((lo..=hi).contains(&(w[1] - w[0])), "{rounds:?}");
    }
}

/// §10.7.4.1: "A peer SHOULD randomly offset these Update requests so they do not occur
/// all at once." Forty nodes (seeds) that joined at the same instant send their first
/// periodic Update spread over 540–660 s (600 s ± 10 %, in 201 steps of 0.6 s, so a few
/// of forty coincide), and their second one 540–660 s later; a node's times are the same
/// in a second run.
#[test]
fn periodic_updates_are_offset_at_random() {
    let cfg = scripted::config();
    let first_two = |seed: u64| {
        let (mut node, peers) = node_with(&cfg, seed, &[3]);
        let to = BTreeSet::from([peers[0].addr]);
        update_rounds(&mut node, Time::ZERO + Duration::from_secs(1400), &to)[..2].to_vec()
    };
    let (lo, hi) = (Duration::from_secs(540), Duration::from_secs(660));
    let mut firsts = BTreeSet::new();
    for seed in 0..40 {
        let t = first_two(seed);
        assert!(
            (lo..=hi).contains(&(t[0] - Time::ZERO)),
            "seed {seed}: {t:?}"
        );
        assert!((lo..=hi).contains(&(t[1] - t[0])), "seed {seed}: {t:?}");
        firsts.insert(t[0]);
    }
    assert!(firsts.len() >= 34, "{} different times", firsts.len());
    let (min, max) = (*firsts.first().unwrap(), *firsts.last().unwrap());
    assert!(
        min - Time::ZERO < Duration::from_secs(560) && max - Time::ZERO > Duration::from_secs(640),
        "{min:?}..{max:?}"
    );
    assert_eq!(first_two(11), first_two(11), "deterministic for a seed");
}

/// The finger-search Pings among `sent`: (time, entry, target Node-ID) of each Ping to a
/// Resource-ID, by the entry of `me`'s Finger Table whose range holds it.
fn finger_searches(sent: &[(Time, SocketAddr, Message)], me: NodeId) -> Vec<(Time, usize, NodeId)> {
    sent.iter()
        .filter(|(_, _, m)| matches!(m.contents.body, Body::PingReq(_)))
        .filter_map(|(t, _, m)| match m.header.destination_list.as_slice() {
            [Destination::Resource(r)] => {
                let k = r.ring_position()?;
                let entry = (0..16).find(|&i| FingerTable::in_range(me, i, k))?;
                Some((*t, entry, k))
            }
            _ => None,
        })
        .collect()
}

/// The scripted overlay's configuration with a chord-ping-interval of 60 s.
fn searching_every_minute() -> Arc<OverlayConfig> {
    let mut c = OverlayConfig::new("scripted.example.org");
    c.chord_ping_interval = Duration::from_secs(60);
    Arc::new(c)
}

/// Checks the searches of one stretch of [`fingers_are_searched_once_per_chord_ping_interval`]:
/// at least `min` of them, all for `entry`, 60–72 s apart (66 s on average), at distinct
/// random Node-IDs spread over the entry's range.
fn check_searches(searches: &[(Time, usize, NodeId)], entry: usize, min: usize) {
    let me = NodeId(ME);
    assert!(searches.len() >= min, "{searches:?}");
    assert!(searches.iter().all(|s| s.1 == entry), "{searches:?}");
    let gaps: Vec<Duration> = searches.windows(2).map(|w| w[1].0 - w[0].0).collect();
    let (lo, hi) = (Duration::from_secs(60), Duration::from_secs(72));
    assert!(gaps.iter().all(|g| (lo..=hi).contains(g)), "{gaps:?}");
    let mean = gaps.iter().map(|g| g.0).sum::<u64>() / gaps.len() as u64;
    assert!((63_000_000_000..=69_000_000_000).contains(&mean), "{mean}");
    let (start, len) = FingerTable::range(me, entry);
    let offsets: BTreeSet<u128> = searches.iter().map(|s| start.distance_to(s.2)).collect();
    assert_eq!(offsets.len(), searches.len(), "distinct targets");
    let spread = offsets.last().unwrap() - offsets.first().unwrap();
    assert!(spread > len / 2, "targets spread over the range");
}

/// §10.7.4.2: "A peer MUST periodically search for new peers to replace invalid entries in
/// the Finger Table"; the entry is chosen among the invalid ones, "exponentially weighted
/// to attempt to replace earlier (lower i) entries"; "the peer SHOULD send the Ping to a
/// Node-ID selected randomly from that range"; and it "SHOULD NOT send Ping requests
/// looking for new finger table entries more often than ... chord-ping-interval" (60 s
/// here). Of the three entries worth filling, entry 1 holds a peer and entries 0 and 2 are
/// invalid: every search is for entry 0 (the weight of the lowest invalid entry is 1),
/// one per 60–72 s (never sooner than the interval), at a random Node-ID of its range;
/// once a peer fills entry 0, the searches move to entry 2. (The searches after joining
/// and after a finger fails are not counted here.)
#[test]
fn fingers_are_searched_once_per_chord_ping_interval() {
    let cfg = searching_every_minute();
    let me = NodeId(ME);
    let (mut node, _peers) = node_with(&cfg, 7, &[5, 6, 7]);
    assert_eq!(node.fingers(), vec![NodeId(5u128 << 124)]);
    assert!(FingerTable::in_range(me, 1, NodeId(5u128 << 124)));
    // After 30 s: the search the node started when it was alone is over.
    let until = Time::ZERO + Duration::from_secs(1300);
    let sent = first_sends(
        run_timers(&mut node, until),
        Time::ZERO + Duration::from_secs(30),
    );
    check_searches(&finger_searches(&sent, me), 0, 19);

    let mut f0 = Peer::new(12u128 << 124, 9);
    scripted::link_peer_at(&mut node, &cfg, &mut f0, 0x900, until);
    assert!(node.fingers().contains(&f0.id) && FingerTable::in_range(me, 0, f0.id));
    let after = until + Duration::from_secs(1);
    let sent = first_sends(
        run_timers(&mut node, until + Duration::from_secs(1300)),
        after,
    );
    check_searches(&finger_searches(&sent, me), 2, 19);
}

/// §10.7.4.2: the periodic search is "for new peers to replace invalid entries": a valid
/// entry (a connected peer of its range) is not searched. The three entries worth filling
/// here (0, 1 and 2, by the spacing of the successors) each hold a peer: in 1,300 s,
/// about twenty chord-ping-intervals of 60 s, the node sends no finger search. It used to
/// search a random valid entry each time and Attach to whichever other peer of the range
/// answered, for a link the entry did not take.
#[test]
fn valid_fingers_are_not_searched() {
    let cfg = searching_every_minute();
    let me = NodeId(ME);
    let (mut node, _peers) = node_with(&cfg, 7, &[3, 5, 9]);
    for (entry, id) in [(0, 9u128), (1, 5), (2, 3)] {
        assert!(FingerTable::in_range(me, entry, NodeId(id << 124)));
        assert!(node.fingers().contains(&NodeId(id << 124)));
    }
    let sent = first_sends(
        run_timers(&mut node, Time::ZERO + Duration::from_secs(1300)),
        Time::ZERO + Duration::from_secs(30),
    );
    assert_eq!(finger_searches(&sent, me), vec![]);
}

/// A finger search whose entry was filled while its Ping was out (another connected peer
/// of the range was offered to the table) ends with its answer: the entry is valid, and
/// the peer that answered gets no Attach (§10.7.4.2: the search replaces invalid
/// entries; the Attach made a link the entry did not take).
#[test]
fn a_search_answered_after_its_entry_was_filled_attaches_to_nobody() {
    use reload_sim::proto::wire::topology::PingAns;
    let cfg = searching_every_minute();
    let me = NodeId(ME);
    let (mut node, mut peers) = node_with(&cfg, 7, &[5, 6, 7]);
    // Up to the first periodic search (after the one the node started alone).
    let mut now = Time::ZERO + Duration::from_secs(30);
    let _ = run_timers(&mut node, now);
    let (sent, (t, entry, k)) = loop {
        now += Duration::from_secs(1);
        let sent = first_sends(run_timers(&mut node, now), Time::ZERO);
        if let Some(s) = finger_searches(&sent, me).first().copied() {
            break (sent, s);
        }
    };
    assert_eq!(entry, 0, "entry 0 is empty");
    let (_, hop, ping) = sent
        .iter()
        .find(|(at, _, m)| {
            *at == t && m.header.destination_list == vec![Destination::Resource(k.to_resource_id())]
        })
        .unwrap();
    let mut f0 = Peer::new(12u128 << 124, 9);
    scripted::link_peer_at(&mut node, &cfg, &mut f0, 0x900, t);
    assert!(node.fingers().contains(&f0.id) && FingerTable::in_range(me, 0, f0.id));
    let _ = sent_acked(&mut node, t);
    // The peer responsible for k answers, through the hop the Ping went to.
    let responder = NodeId(k.0 + 1);
    assert!(FingerTable::in_range(me, 0, responder));
    let next = peers.iter_mut().find(|p| p.addr == *hop).unwrap();
    let pong = Body::PingAns(PingAns {
        response_id: 1,
        time: 0,
    });
    let txid = ping.header.transaction_id.0;
    let f = next.relay(&cfg, responder, txid, vec![Destination::Node(me)], pong);
    let at = t + Duration::from_millis(200);
    node.handle_datagram(at, *hop, &f);
    let out = sent_acked(&mut node, at);
    assert!(
        !out.iter()
            .any(|(_, m)| matches!(decode(m).contents.body, Body::AttachReq(_))),
        "no Attach to the responder"
    );
    assert!(node.fingers().contains(&f0.id));
    assert_eq!(node.stats().attaches_finger, 0);
}

/// §10.7.3: "If peer x is responsible for a Resource-ID R and x discovers that the replica
/// set for R (the next two nodes in its successor set) has changed, it MUST send a Store
/// for any data associated with R to any new node in the replica set. It SHOULD NOT delete
/// data from peers which have left the replica set." The node owns H(USER) with replicas
/// on s1 and s2; a peer n joins between it and s1, so s2 leaves the replica set: n gets a
/// copy, and in the minute after (the hold-down included) s2 gets no Store at all and no
/// Store anywhere deletes a value.
#[test]
fn a_peer_that_left_the_replica_set_keeps_its_copy() {
    use reload_sim::proto::id::ResourceId;
    use reload_sim::proto::wire::storage::{KindId, StoreAns, StoreKindData};
    let cfg = scripted::config();
    let resource = ResourceId::hash(USER.as_bytes());
    let k = resource.ring_position().unwrap().0;
    let mut node = first_node(&cfg, k.wrapping_add(10));
    let at = |off: u128, a: u8| Peer::new(k.wrapping_add(off), a);
    let (mut pred, mut s1, mut s2) = (at(u128::MAX - 99, 2), at(20, 3), at(30, 4));
    for (i, p) in [&mut pred, &mut s1, &mut s2].into_iter().enumerate() {
        link_peer(&mut node, &cfg, p, 0x100 * (i as u64 + 1));
    }
    let _ = sent_acked(&mut node, Time(3));
    let store = Body::StoreReq(StoreReq {
        resource,
        replica_number: 0,
        kind_data: vec![StoreKindData {
            kind: KindId::SIP_REGISTRATION,
            generation_counter: 0,
            values: vec![scripted::registration_value(
                &resource, s1.id, USER, 77, 600,
            )],
        }],
    });
    let to = vec![Destination::Resource(resource)];
    let (f, _) = s1.frame(&cfg, 0x500, vec![], to, store);
    let t = Time::ZERO + Duration::from_secs(1);
    node.handle_datagram(t, s1.addr, &f);
    let me = vec![Destination::Node(node.node_id())];
    let mut replicated = BTreeSet::new();
    for (a, m) in sent_acked(&mut node, t) {
        let m = decode(&m);
        if let Body::StoreReq(r) = &m.contents.body {
            replicated.insert((a, r.replica_number));
            let peer = if a == s1.addr { &mut s1 } else { &mut s2 };
            let done = Body::StoreAns(StoreAns {
                kind_responses: vec![],
            });
            let (f, _) = peer.frame(&cfg, m.header.transaction_id.0, vec![], me.clone(), done);
            node.handle_datagram(t, a, &f);
        }
    }
    assert_eq!(replicated, BTreeSet::from([(s1.addr, 1), (s2.addr, 2)]));
    let _ = sent_acked(&mut node, t);

    let mut n = at(15, 5);
    let joined = Time::ZERO + Duration::from_secs(20);
    scripted::link_peer_at(&mut node, &cfg, &mut n, 0x400, joined);
    assert_eq!(node.successors(), &[n.id, s1.id, s2.id]);
    let mut out: Vec<(Time, SocketAddr, Vec<u8>)> = sent_acked(&mut node, joined)
        .into_iter()
        .map(|(a, m)| (joined, a, m))
        .collect();
    out.extend(run_timers(&mut node, joined + Duration::from_secs(60)));
    let stores: Vec<(SocketAddr, StoreReq)> = out
        .into_iter()
        .filter_map(|(_, a, m)| match decode(&m).contents.body {
            Body::StoreReq(r) => Some((a, r)),
            _ => None,
        })
        .collect();
    assert!(
        stores
            .iter()
            .any(|(a, r)| *a == n.addr && r.resource == resource),
        "a copy for n"
    );
    assert!(stores.iter().all(|(a, _)| *a != s2.addr), "nothing for s2");
    for (_, r) in &stores {
        assert!(
            r.kind_data
                .iter()
                .flat_map(|k| &k.values)
                .all(|v| v.value.data().exists)
        );
    }
}

//! One node, scripted peers: the exact messages in and out of the sans-IO peer.

use std::net::SocketAddr;
use std::sync::Arc;

use reload_sim::proto::config::OverlayConfig;
use reload_sim::proto::event::{Event, NodeState};
use reload_sim::proto::id::{NodeId, TransactionId};
use reload_sim::proto::identity::{SignerInfo, SimCrypto, encode_signed};
use reload_sim::proto::node::{Identity, JoinPhase, Node};
use reload_sim::proto::wire::attach::{
    AppAttachReqAns, AttachReqAns, CandType, IceCandidate, IpAddressPort, overlay_link,
};
use reload_sim::proto::wire::chord::{ChordUpdate, ChordUpdateKind};
use reload_sim::proto::wire::framing::Frame;
use reload_sim::proto::wire::topology::{JoinAns, PingAns, PingReq};
use reload_sim::proto::wire::{
    Body, Destination, ForwardingHeader, HeaderView, Message, MessageContents,
};
use reload_sim::time::Time;

pub(crate) fn addr(i: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, i], 6084))
}

/// A scripted peer: an id, an address and a frame sequence counter.
pub(crate) struct Peer {
    pub(crate) id: NodeId,
    pub(crate) addr: SocketAddr,
    pub(crate) seq: u32,
}

impl Peer {
    pub(crate) fn new(id: u128, a: u8) -> Peer {
        Peer {
            id: NodeId(id),
            addr: addr(a),
            seq: 0,
        }
    }

    /// A signed message from this peer, framed.
    pub(crate) fn frame(
        &mut self,
        cfg: &OverlayConfig,
        txid: u64,
        via: Vec<Destination>,
        dest: Vec<Destination>,
        body: Body,
    ) -> (Vec<u8>, Vec<u8>) {
        let mut h = header(cfg, txid, dest);
        h.via_list = via;
        self.frame_header(&h, &MessageContents::new(body))
    }

    /// `header` and `contents` signed by this peer, framed: (frame, message).
    pub(crate) fn frame_header(
        &mut self,
        header: &ForwardingHeader,
        contents: &MessageContents,
    ) -> (Vec<u8>, Vec<u8>) {
        let signer = SimCrypto {
            signer: SignerInfo::new(self.id, "scripted@scripted.example.org"),
        };
        let msg = encode_signed(&signer, header, contents).unwrap();
        (self.frame_raw(&msg), msg)
    }

    /// A message signed by `origin` and forwarded by this peer to the node: `origin` on the
    /// Via List, framed on this peer's link.
    pub(crate) fn relay(
        &mut self,
        cfg: &OverlayConfig,
        origin: NodeId,
        txid: u64,
        dest: Vec<Destination>,
        body: Body,
    ) -> Vec<u8> {
        let mut o = Peer {
            id: origin,
            addr: self.addr,
            seq: self.seq,
        };
        let (f, _) = o.frame(cfg, txid, vec![Destination::Node(origin)], dest, body);
        self.seq = o.seq;
        f
    }

    /// `message` in this peer's next data frame.
    pub(crate) fn frame_raw(&mut self, message: &[u8]) -> Vec<u8> {
        let mut f = Vec::new();
        Frame::Data {
            sequence: self.seq,
            message,
        }
        .encode(&mut f)
        .unwrap();
        self.seq += 1;
        f
    }
}

/// A forwarding header of the overlay `cfg` for `txid` to `dest` (default TTL, no via).
pub(crate) fn header(cfg: &OverlayConfig, txid: u64, dest: Vec<Destination>) -> ForwardingHeader {
    ForwardingHeader::new(
        cfg.overlay,
        cfg.configuration_sequence,
        TransactionId(txid),
        dest,
    )
}

/// The exact message [`first_node`] with id `me` sends: `body` to `dest`, initial TTL,
/// `options`, signed by the node.
pub(crate) fn from_first_node(
    cfg: &OverlayConfig,
    me: u128,
    txid: u64,
    dest: Vec<Destination>,
    options: Vec<reload_sim::proto::wire::header::ForwardingOption>,
    body: Body,
) -> Vec<u8> {
    let mut h = header(cfg, txid, dest);
    h.ttl = cfg.initial_ttl;
    h.options = options;
    signed_by_first_node(me, &h, body)
}

/// `body` under header `h`, signed as [`first_node`] with id `me` signs.
pub(crate) fn signed_by_first_node(me: u128, h: &ForwardingHeader, body: Body) -> Vec<u8> {
    let signer = SimCrypto {
        signer: SignerInfo::new(NodeId(me), "first@scripted.example.org"),
    };
    encode_signed(&signer, h, &MessageContents::new(body)).unwrap()
}

pub(crate) fn attach_body(a: SocketAddr, role: &str, send_update: bool) -> Body {
    let SocketAddr::V4(v4) = a else { panic!() };
    let ans = AttachReqAns {
        ufrag: vec![],
        password: vec![],
        role: role.as_bytes().to_vec(),
        candidates: vec![IceCandidate {
            addr_port: IpAddressPort::V4(*v4.ip(), v4.port()),
            overlay_link: overlay_link::DTLS_UDP_SR_NO_ICE,
            foundation: vec![],
            priority: 1,
            cand_type: CandType::Host,
            extensions: vec![],
        }],
        send_update,
    };
    if role == "active" {
        Body::AttachAns(ans)
    } else {
        Body::AttachReq(ans)
    }
}

/// An AppAttachReq (`answer` false) or AppAttachAns for `application`, offering the one
/// No-ICE candidate of [`attach_body`] at `a`.
pub(crate) fn app_attach_body(a: SocketAddr, application: u16, answer: bool) -> Body {
    let role = if answer { "active" } else { "passive" };
    let (Body::AttachAns(x) | Body::AttachReq(x)) = attach_body(a, role, false) else {
        unreachable!()
    };
    let app = AppAttachReqAns {
        ufrag: x.ufrag,
        password: x.password,
        application,
        role: x.role,
        candidates: x.candidates,
    };
    if answer {
        Body::AppAttachAns(app)
    } else {
        Body::AppAttachReq(app)
    }
}

/// The node's data-frame transmits since the last call: (to, message bytes).
pub(crate) fn sent(node: &mut Node) -> Vec<(SocketAddr, Vec<u8>)> {
    let mut v = Vec::new();
    while let Some(t) = node.poll_transmit() {
        if let Frame::Data { message, .. } = Frame::decode(&t.bytes).unwrap() {
            v.push((t.to, message.to_vec()));
        }
    }
    v
}

/// Like [`sent`], but every data frame is acknowledged by its receiver at `now`, so the
/// node's links never stall on Simple Reliability's window.
pub(crate) fn sent_acked(node: &mut Node, now: Time) -> Vec<(SocketAddr, Vec<u8>)> {
    sent_acked_but(node, now, None)
        .into_iter()
        .map(|(to, _, m)| (to, m))
        .collect()
}

/// Like [`sent_acked`], but frames to `silent` are not acknowledged (that peer has gone
/// quiet): (to, sequence number, message) of every data frame.
pub(crate) fn sent_acked_but(
    node: &mut Node,
    now: Time,
    silent: Option<SocketAddr>,
) -> Vec<(SocketAddr, u32, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some(t) = node.poll_transmit() {
        if let Frame::Data { sequence, message } = Frame::decode(&t.bytes).unwrap() {
            out.push((t.to, sequence, message.to_vec()));
        }
    }
    for (to, sequence, _) in &out {
        if Some(*to) != silent {
            node.handle_datagram(now, *to, &ack_frame(*sequence));
        }
    }
    out
}

/// An ack frame for data frame `sequence` alone.
pub(crate) fn ack_frame(sequence: u32) -> Vec<u8> {
    let mut ack = Vec::new();
    Frame::Ack {
        ack_sequence: sequence,
        received: 0,
    }
    .encode(&mut ack)
    .unwrap();
    ack
}

/// Runs `node`'s timers up to `until`, each data frame acknowledged by its receiver: the
/// (time, to, message) of every data frame sent meanwhile.
pub(crate) fn run_timers(node: &mut Node, until: Time) -> Vec<(Time, SocketAddr, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some(t) = node.poll_timeout().filter(|t| *t <= until) {
        node.handle_timeout(t);
        out.extend(sent_acked(node, t).into_iter().map(|(to, m)| (t, to, m)));
    }
    out
}

pub(crate) fn decode(bytes: &[u8]) -> Message {
    Message::decode(bytes).unwrap()
}

pub(crate) fn config() -> Arc<OverlayConfig> {
    Arc::new(OverlayConfig::new("scripted.example.org"))
}

pub(crate) fn first_node(cfg: &Arc<OverlayConfig>, id: u128) -> Node {
    first_node_seeded(cfg, id, 7)
}

/// [`first_node`] with its RNG seeded by `seed`.
pub(crate) fn first_node_seeded(cfg: &Arc<OverlayConfig>, id: u128, seed: u64) -> Node {
    let mut n = Node::new(
        cfg.clone(),
        Identity::new(NodeId(id), "first@scripted.example.org"),
        addr(1),
        Time::ZERO,
        seed,
    );
    n.start_overlay(Time::ZERO).unwrap();
    n
}

/// Brings up a link from a scripted peer (handshake Ping to the wildcard) and makes it a
/// ready peer (an Update from it).
pub(crate) fn link_peer(node: &mut Node, cfg: &OverlayConfig, p: &mut Peer, txid: u64) {
    link_peer_at(node, cfg, p, txid, Time(1));
}

/// [`link_peer`] at time `at` (the Update comes 1 ns later).
pub(crate) fn link_peer_at(
    node: &mut Node,
    cfg: &OverlayConfig,
    p: &mut Peer,
    txid: u64,
    at: Time,
) {
    handshake_at(node, cfg, p, txid, at);
    let up = ChordUpdate {
        uptime: 5,
        kind: ChordUpdateKind::PeerReady,
    };
    let (f, _) = p.frame(
        cfg,
        txid + 1,
        vec![],
        vec![Destination::Node(node.node_id())],
        Body::UpdateReq(up),
    );
    node.handle_datagram(Time(at.0 + 1), p.addr, &f);
}

/// Brings up a link from a scripted peer (handshake Ping to the wildcard, answered); the
/// peer is linked but not yet a neighbour.
pub(crate) fn handshake(node: &mut Node, cfg: &OverlayConfig, p: &mut Peer, txid: u64) {
    handshake_at(node, cfg, p, txid, Time(1));
}

/// [`handshake`] at time `at`.
fn handshake_at(node: &mut Node, cfg: &OverlayConfig, p: &mut Peer, txid: u64, at: Time) {
    let (f, _) = p.frame(
        cfg,
        txid,
        vec![],
        vec![Destination::Node(NodeId::WILDCARD)],
        Body::PingReq(PingReq::default()),
    );
    let _ = sent(node);
    node.handle_datagram(at, p.addr, &f);
    let out = sent(node);
    assert_eq!(out.len(), 1);
    let ans = decode(&out[0].1);
    assert_eq!(out[0].0, p.addr);
    assert!(matches!(ans.contents.body, Body::PingAns(_)));
    assert_eq!(ans.header.destination_list, vec![Destination::Node(p.id)]);
}

/// Brings up a link from `p` (its handshake Ping) without the Update that makes it a
/// ready peer: a client (§6.4.1), or a peer whose Update has not come yet.
pub(crate) fn handshake_only(node: &mut Node, cfg: &OverlayConfig, p: &mut Peer, txid: u64) {
    let wildcard = vec![Destination::Node(NodeId::WILDCARD)];
    let (f, _) = p.frame(
        cfg,
        txid,
        vec![],
        wildcard,
        Body::PingReq(Default::default()),
    );
    node.handle_datagram(Time(5), p.addr, &f);
    let out = sent_acked(node, Time(5));
    assert!(
        out.iter()
            .any(|(to, m)| *to == p.addr && matches!(decode(m).contents.body, Body::PingAns(_)))
    );
}

/// A SIP registration value under `node`'s dictionary key, signed by `user` on `node`
/// (USER-NODE-MATCH), stored at `storage_time`.
pub(crate) fn registration_value(
    resource: &reload_sim::proto::id::ResourceId,
    node: NodeId,
    user: &str,
    storage_time: u64,
    lifetime: u32,
) -> reload_sim::proto::wire::storage::StoredData {
    use reload_sim::proto::wire::storage::{DataValue, KindId, StoredDataValue};
    let value = StoredDataValue::Dictionary {
        key: node.octets().to_vec(),
        value: DataValue {
            exists: true,
            value: b"route".to_vec(),
        },
    };
    let at = (storage_time, lifetime);
    signed_value(resource, KindId::SIP_REGISTRATION, value, node, user, at)
}

/// `value` of `kind` at `resource`, signed by `user` on `node`, with (storage_time,
/// lifetime) `at` (§7.1).
pub(crate) fn signed_value(
    resource: &reload_sim::proto::id::ResourceId,
    kind: reload_sim::proto::wire::storage::KindId,
    value: reload_sim::proto::wire::storage::StoredDataValue,
    node: NodeId,
    user: &str,
    (storage_time, lifetime): (u64, u32),
) -> reload_sim::proto::wire::storage::StoredData {
    use reload_sim::proto::identity::Signer;
    use reload_sim::proto::wire::storage::{StoredData, data_signature_input};
    let signer = SimCrypto {
        signer: SignerInfo::new(node, user),
    };
    let input =
        data_signature_input(resource, kind, storage_time, &value, &signer.identity()).unwrap();
    StoredData {
        storage_time,
        lifetime,
        value,
        signature: signer.sign(&input),
    }
}

/// The user every scripted peer's certificate names.
pub(crate) const USER: &str = "scripted@scripted.example.org";

/// The certificate of `user` on node `node`.
pub(crate) fn cert(node: NodeId, user: &str) -> SimCrypto {
    SimCrypto {
        signer: SignerInfo::new(node, user),
    }
}

/// A SIP-REGISTRATION dictionary entry `data` under `key`, stored at `resource` at
/// `storage_time`, signed by `signer` (a user's certificate on a node).
pub(crate) fn signed_entry(
    resource: &reload_sim::proto::id::ResourceId,
    signer: &SimCrypto,
    key: NodeId,
    storage_time: u64,
    lifetime: u32,
    data: reload_sim::proto::wire::storage::DataValue,
) -> reload_sim::proto::wire::storage::StoredData {
    use reload_sim::proto::identity::Signer;
    use reload_sim::proto::wire::storage::{
        KindId, StoredData, StoredDataValue, data_signature_input,
    };
    let value = StoredDataValue::Dictionary {
        key: key.octets().to_vec(),
        value: data,
    };
    let input = data_signature_input(
        resource,
        KindId::SIP_REGISTRATION,
        storage_time,
        &value,
        &signer.identity(),
    )
    .unwrap();
    StoredData {
        storage_time,
        lifetime,
        value,
        signature: signer.sign(&input),
    }
}

/// A SIP registration route to `dest` with `contact_prefs` under `key`'s dictionary
/// entry, signed by `signer` on `user` at `resource` (storage time 77, lifetime 600).
pub(crate) fn route_value(
    resource: &reload_sim::proto::id::ResourceId,
    (key, signer, user): (NodeId, NodeId, &str),
    contact_prefs: &[u8],
    dest: NodeId,
) -> reload_sim::proto::wire::storage::StoredData {
    use reload_sim::proto::wire::Wire;
    use reload_sim::proto::wire::sip::SipRegistration;
    let reg = SipRegistration::Route {
        contact_prefs: contact_prefs.to_vec(),
        destination_list: vec![Destination::Node(dest)],
    };
    let data = reload_sim::proto::wire::storage::DataValue {
        exists: true,
        value: reg.to_bytes().unwrap(),
    };
    signed_entry(resource, &cert(signer, user), key, 77, 600, data)
}

/// A FetchAns with `values` for SIP-REGISTRATION (generation 1).
pub(crate) fn fetch_ans(values: Vec<reload_sim::proto::wire::storage::StoredData>) -> Body {
    use reload_sim::proto::wire::storage::{FetchAns, FetchKindResponse, KindId};
    Body::FetchAns(FetchAns {
        kind_responses: vec![FetchKindResponse {
            kind: KindId::SIP_REGISTRATION,
            generation: 1,
            values,
        }],
    })
}

/// A [`first_node`] with id `me`, linked to scripted peers `(id, address byte)` in that
/// order (handshake txids 0x100, 0x200, …), its transmits drained.
pub(crate) fn node_linked_to<const N: usize>(
    cfg: &Arc<OverlayConfig>,
    me: u128,
    peers: [(u128, u8); N],
) -> (Node, [Peer; N]) {
    let mut node = first_node(cfg, me);
    let mut peers = peers.map(|(id, a)| Peer::new(id, a));
    for (i, p) in peers.iter_mut().enumerate() {
        link_peer(&mut node, cfg, p, 0x100 * (i as u64 + 1));
    }
    let _ = sent(&mut node);
    (node, peers)
}

/// A node whose range excludes H(USER), and the peer p that owns it: (node, p, resource).
pub(crate) fn node_beside_owner() -> (
    Node,
    Peer,
    reload_sim::proto::id::ResourceId,
    Arc<OverlayConfig>,
) {
    let cfg = config();
    let resource = reload_sim::proto::id::ResourceId::hash(USER.as_bytes());
    let k = resource.ring_position().unwrap().0;
    let mut node = first_node(&cfg, k.wrapping_sub(1000));
    let mut p = Peer::new(k.wrapping_add(1), 2);
    link_peer(&mut node, &cfg, &mut p, 0x100);
    let _ = sent_acked(&mut node, Time(3));
    while node.poll_event().is_some() {}
    (node, p, resource, cfg)
}

/// The exact request a node sends under `signer` (one of its certificates): `body` to
/// `dest`, initial TTL, no options.
pub(crate) fn request_as(
    cfg: &OverlayConfig,
    signer: &SimCrypto,
    txid: u64,
    dest: Vec<Destination>,
    body: Body,
) -> Vec<u8> {
    let mut h = header(cfg, txid, dest);
    h.ttl = cfg.initial_ttl;
    encode_signed(signer, &h, &MessageContents::new(body)).unwrap()
}

#[test]
fn answers_an_update_with_exact_bytes() {
    let cfg = config();
    let me = 1u128 << 100;
    let mut node = first_node(&cfg, me);
    let mut p = Peer::new(5u128 << 120, 2);
    let (f, _) = p.frame(
        &cfg,
        0x10,
        vec![],
        vec![Destination::Node(NodeId::WILDCARD)],
        Body::PingReq(PingReq::default()),
    );
    node.handle_datagram(Time(1), p.addr, &f);
    // The ack for the Ping's data frame comes first: ack_sequence 0, nothing before it.
    let ack = node.poll_transmit().unwrap();
    assert_eq!(ack.bytes, vec![0x81, 0, 0, 0, 0, 0, 0, 0, 0]);
    let _ = sent(&mut node);

    let update = ChordUpdate {
        uptime: 30,
        kind: ChordUpdateKind::Neighbors {
            predecessors: vec![],
            successors: vec![NodeId(me)],
        },
    };
    let (f, _) = p.frame(
        &cfg,
        0x22,
        vec![],
        vec![Destination::Node(NodeId(me))],
        Body::UpdateReq(update),
    );
    node.handle_datagram(Time(2), p.addr, &f);
    let out = sent(&mut node);
    // The UpdateAns, byte for byte: to the sender, same transaction id, TTL 100, signed by
    // the node; then the node's own reactive Update (its Neighbor Table changed).
    let expected = from_first_node(
        &cfg,
        me,
        0x22,
        vec![Destination::Node(p.id)],
        vec![],
        Body::UpdateAns,
    );
    assert_eq!(out[0], (p.addr, expected));
    let reactive = decode(&out[1].1);
    match reactive.contents.body {
        Body::UpdateReq(ChordUpdate {
            kind:
                ChordUpdateKind::Neighbors {
                    predecessors,
                    successors,
                },
            ..
        }) => {
            assert_eq!(predecessors, vec![p.id]);
            assert_eq!(successors, vec![p.id]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(node.successors(), &[p.id]);
}

#[test]
fn forwards_with_the_previous_hop_appended_to_the_via_list() {
    let cfg = config();
    let me = 1u128 << 100;
    let mut node = first_node(&cfg, me);
    let mut p1 = Peer::new(9u128 << 124, 2); // far side of the ring
    let mut p2 = Peer::new(3u128 << 124, 3); // between me and the key
    link_peer(&mut node, &cfg, &mut p1, 0x100);
    link_peer(&mut node, &cfg, &mut p2, 0x200);
    let _ = sent(&mut node);
    assert!(node.successors().contains(&p2.id));

    // p1 routes a lookup for a key owned beyond p2; the node is not responsible and must
    // forward it to p2 with p1 appended to the via list and the TTL decremented.
    let key = NodeId(4u128 << 124).to_resource_id();
    let upstream = vec![Destination::Node(NodeId(0xabc))];
    let (f, original) = p1.frame(
        &cfg,
        0x300,
        upstream.clone(),
        vec![Destination::Resource(key)],
        Body::PingReq(PingReq::default()),
    );
    node.handle_datagram(Time(3), p1.addr, &f);
    let out = sent(&mut node);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, p2.addr);
    let mut want = decode(&original);
    want.header.via_list.push(Destination::Node(p1.id));
    want.header.ttl -= 1;
    assert_eq!(out[0].1, want.to_bytes().unwrap());
    assert_eq!(node.stats().forwarded, 1);
    // The body and signature are untouched.
    let fwd = HeaderView::parse(&out[0].1).unwrap();
    let orig = HeaderView::parse(&original).unwrap();
    assert_eq!(fwd.payload(), orig.payload());
}

#[test]
fn joins_against_scripted_peers() {
    let cfg = config();
    let j = 8u128 << 120;
    let mut node = Node::new(
        cfg.clone(),
        Identity::new(NodeId(j), "joiner@scripted.example.org"),
        addr(1),
        Time::ZERO,
        3,
    );
    let mut ap = Peer::new(9u128 << 120, 2); // admitting peer: owns j (its predecessor p is below j)
    let p = Peer::new(6u128 << 120, 3); // AP's predecessor: will be our predecessor
    let s = Peer::new(11u128 << 120, 4); // AP's successor
    let t = Time(1_000);

    node.join(t, &[ap.addr]).unwrap();
    assert_eq!(node.join_phase(), Some(JoinPhase::Bootstrapping));
    let out = sent(&mut node);
    let hs = decode(&out[0].1);
    assert_eq!(
        (out[0].0, hs.header.destination_list.clone()),
        (ap.addr, vec![Destination::Node(NodeId::WILDCARD)])
    );

    // 1. The bootstrap peer (here also the admitting peer) answers the handshake.
    let (f, _) = ap.frame(
        &cfg,
        hs.header.transaction_id.0,
        vec![],
        vec![Destination::Node(NodeId(j))],
        Body::PingAns(PingAns {
            response_id: 1,
            time: 0,
        }),
    );
    node.handle_datagram(t, ap.addr, &f);
    let out = sent(&mut node);
    let attach = decode(&out[0].1);
    assert_eq!(
        attach.header.destination_list,
        vec![Destination::Resource(NodeId(j + 1).to_resource_id())]
    );
    let Body::AttachReq(a) = &attach.contents.body else {
        panic!("{:?}", attach.contents.body)
    };
    assert!(a.send_update);
    assert_eq!(a.role, b"passive");

    // 2. AP answers the Attach, then sends its Routing Table (Update full).
    let (f, _) = ap.frame(
        &cfg,
        attach.header.transaction_id.0,
        vec![],
        vec![Destination::Node(NodeId(j))],
        attach_body(ap.addr, "active", false),
    );
    node.handle_datagram(t, ap.addr, &f);
    assert_eq!(node.join_phase(), Some(JoinPhase::AwaitingUpdate));
    let full = ChordUpdate {
        uptime: 100,
        kind: ChordUpdateKind::Full {
            predecessors: vec![p.id],
            successors: vec![s.id],
            fingers: vec![],
        },
    };
    let (f, _) = ap.frame(
        &cfg,
        0x5000,
        vec![],
        vec![Destination::Node(NodeId(j))],
        Body::UpdateReq(full),
    );
    node.handle_datagram(t, ap.addr, &f);
    let out = sent(&mut node);
    // UpdateAns, then Attaches to p and s source-routed through AP (§10.6). No Update
    // placing us in the ring yet.
    let msgs: Vec<Message> = out.iter().map(|(_, m)| decode(m)).collect();
    assert!(matches!(msgs[0].contents.body, Body::UpdateAns));
    let attaches: Vec<&Message> = msgs
        .iter()
        .filter(|m| matches!(m.contents.body, Body::AttachReq(_)))
        .collect();
    let mut targets: Vec<Vec<Destination>> = attaches
        .iter()
        .map(|m| m.header.destination_list.clone())
        .collect();
    targets.sort();
    let mut want = vec![
        vec![Destination::Node(ap.id), Destination::Node(p.id)],
        vec![Destination::Node(ap.id), Destination::Node(s.id)],
    ];
    want.sort();
    assert_eq!(targets, want);
    assert!(
        !msgs
            .iter()
            .any(|m| matches!(m.contents.body, Body::UpdateReq(_)))
    );
    assert!(out.iter().all(|(to, _)| *to == ap.addr));

    // 3. p and s answer (relayed by AP: their answers arrive on AP's link), then the
    //    handshakes to their own addresses complete.
    let mut handshakes = Vec::new();
    for (peer, m) in [
        (
            &p,
            attaches
                .iter()
                .find(|m| m.header.destination_list[1] == Destination::Node(p.id))
                .unwrap(),
        ),
        (
            &s,
            attaches
                .iter()
                .find(|m| m.header.destination_list[1] == Destination::Node(s.id))
                .unwrap(),
        ),
    ] {
        let mut relay = Peer {
            id: peer.id,
            addr: ap.addr,
            seq: ap.seq,
        };
        let (f, _) = relay.frame(
            &cfg,
            m.header.transaction_id.0,
            vec![Destination::Node(peer.id)],
            vec![Destination::Node(ap.id), Destination::Node(NodeId(j))],
            attach_body(peer.addr, "active", false),
        );
        // The answer is addressed [AP, j] as AP would forward it after popping itself: build it
        // as AP's forwarded copy.
        let view = HeaderView::parse(&f[8..]).unwrap();
        let mut popped = Vec::new();
        view.forward_into(
            reload_sim::proto::wire::ForwardEdit {
                pop_destinations: 1,
                push_via: None,
                decrement_ttl: true,
            },
            &mut popped,
        )
        .unwrap();
        let frame = ap.frame_raw(&popped);
        node.handle_datagram(t, ap.addr, &frame);
        let out = sent(&mut node);
        assert_eq!(out.len(), 1, "a handshake to {:?}", peer.addr);
        assert_eq!(out[0].0, peer.addr);
        handshakes.push((peer.id, peer.addr, decode(&out[0].1)));
    }
    for (id, a, hs) in handshakes {
        let mut pp = Peer {
            id,
            addr: a,
            seq: 0,
        };
        assert_eq!(hs.header.destination_list, vec![Destination::Node(id)]);
        let (f, _) = pp.frame(
            &cfg,
            hs.header.transaction_id.0,
            vec![],
            vec![Destination::Node(NodeId(j))],
            Body::PingAns(PingAns {
                response_id: 2,
                time: 0,
            }),
        );
        node.handle_datagram(t, a, &f);
        // Each neighbour says it may be routed through (peer_ready, §6.5.1).
        let ready = Body::UpdateReq(ChordUpdate {
            uptime: 1,
            kind: ChordUpdateKind::PeerReady,
        });
        let (f, _) = pp.frame(
            &cfg,
            0x7000,
            vec![],
            vec![Destination::Node(NodeId(j))],
            ready,
        );
        node.handle_datagram(t, a, &f);
    }
    // 4. With every neighbour attached and ready, Join goes to AP.
    let out = sent(&mut node);
    let join = decode(&out.last().unwrap().1);
    assert!(matches!(join.contents.body, Body::JoinReq(ref r) if r.joining_peer_id == NodeId(j)));
    assert_eq!(join.header.destination_list, vec![Destination::Node(ap.id)]);
    let (f, _) = ap.frame(
        &cfg,
        join.header.transaction_id.0,
        vec![],
        vec![Destination::Node(NodeId(j))],
        Body::JoinAns(JoinAns::default()),
    );
    node.handle_datagram(t, ap.addr, &f);
    assert_eq!(node.state(), NodeState::Joined);
    assert_eq!(node.predecessors(), &[p.id, s.id, ap.id]);
    assert_eq!(node.successors(), &[ap.id, s.id, p.id]);
    let mut joined = false;
    while let Some(e) = node.poll_event() {
        joined |= e == Event::Joined;
    }
    assert!(joined);
    // 5. Now it announces itself: an Update to each neighbour.
    let out = sent(&mut node);
    let updates: Vec<SocketAddr> = out
        .iter()
        .filter(|(_, m)| matches!(decode(m).contents.body, Body::UpdateReq(_)))
        .map(|(a, _)| *a)
        .collect();
    for a in [ap.addr, p.addr, s.addr] {
        assert!(updates.contains(&a), "no Update to {a}");
    }
}

#[test]
fn answers_route_query_probe_and_ttl_exhaustion() {
    use reload_sim::proto::wire::chord::ChordRouteQueryAns;
    use reload_sim::proto::wire::error_response::error_code;
    use reload_sim::proto::wire::topology::{
        ProbeInformation, ProbeReq, RouteQueryReq, probe_type,
    };
    let cfg = config();
    let me = 1u128 << 100;
    let mut node = first_node(&cfg, me);
    let mut p1 = Peer::new(9u128 << 124, 2);
    let mut p2 = Peer::new(3u128 << 124, 3);
    link_peer(&mut node, &cfg, &mut p1, 0x100);
    link_peer(&mut node, &cfg, &mut p2, 0x200);
    let _ = sent(&mut node);

    // RouteQuery for a key beyond p2: the next hop is p2.
    let key = NodeId(4u128 << 124);
    let rq = RouteQueryReq {
        send_update: false,
        destination: Destination::Resource(key.to_resource_id()),
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
    assert_eq!(
        decode(&out[0].1).contents.body,
        Body::RouteQueryAns(ChordRouteQueryAns { next_peer: p2.id })
    );

    // Probe: responsible share (from p1, its predecessor, to me), resources, uptime.
    let probe = ProbeReq {
        requested_info: vec![
            probe_type::RESPONSIBLE_SET,
            probe_type::NUM_RESOURCES,
            probe_type::UPTIME,
            77,
        ],
    };
    let (f, _) = p1.frame(
        &cfg,
        0x401,
        vec![],
        vec![Destination::Node(NodeId(me))],
        Body::ProbeReq(probe),
    );
    node.handle_datagram(Time(2_000_000_000), p1.addr, &f);
    let out = sent(&mut node);
    let Body::ProbeAns(ans) = decode(&out[0].1).contents.body else {
        panic!()
    };
    let share = NodeId(9u128 << 124).distance_to(NodeId(me));
    let ppb = (((share >> 64) * 1_000_000_000) >> 64) as u32;
    assert_eq!(
        ans.probe_info,
        vec![
            ProbeInformation::ResponsiblePpb(ppb),
            ProbeInformation::NumResources(0),
            ProbeInformation::Uptime(2)
        ]
    );

    // A request that must be forwarded but has TTL 0 is answered with Error_TTL_Exceeded.
    let mut h = header(
        &cfg,
        0x402,
        vec![Destination::Resource(key.to_resource_id())],
    );
    h.ttl = 0;
    p1.seq = 50;
    let (f, _) = p1.frame_header(&h, &MessageContents::new(Body::PingReq(PingReq::default())));
    node.handle_datagram(Time(3_000_000_000), p1.addr, &f);
    let out = sent(&mut node);
    let err = decode(&out[0].1);
    assert_eq!(out[0].0, p1.addr);
    assert!(matches!(err.contents.body, Body::Error(ref e) if e.code == error_code::TTL_EXCEEDED));
    assert_eq!(node.stats().ttl_exceeded, 1);
}

#[test]
fn garbage_is_counted_and_dropped_never_fatal() {
    let cfg = config();
    let mut node = first_node(&cfg, 1u128 << 100);
    let mut p = Peer::new(9u128 << 124, 2);
    link_peer(&mut node, &cfg, &mut p, 0x100);
    let (valid, _) = p.frame(
        &cfg,
        0x999,
        vec![],
        vec![Destination::Node(NodeId(1u128 << 100))],
        Body::PingReq(PingReq::default()),
    );
    let mut x = 0x243f_6a88_85a3_08d3u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..20_000u32 {
        let mut bytes = valid.clone();
        match i % 4 {
            0 => bytes.truncate((next() as usize) % valid.len()),
            1 => {
                let at = (next() as usize) % bytes.len();
                bytes[at] ^= (next() as u8) | 1;
            }
            2 => bytes = (0..(next() % 300)).map(|_| next() as u8).collect(),
            _ => {
                bytes[0] = 0x80;
                let at = 8 + (next() as usize) % (bytes.len() - 8);
                bytes[at] = next() as u8;
            }
        }
        node.handle_datagram(Time(10 + u64::from(i)), p.addr, &bytes);
        while node.poll_transmit().is_some() {}
        while node.poll_event().is_some() {}
    }
    let s = node.stats();
    assert!(s.malformed + s.bad_signature + s.dropped > 10_000, "{s:?}");
    assert_eq!(node.state(), NodeState::Joined);
}

#[test]
fn a_duplicate_store_gets_the_same_answer_from_the_cache() {
    use reload_sim::proto::id::ResourceId;
    use reload_sim::proto::wire::storage::{KindId, StoreKindData, StoreReq};
    let cfg = config();
    let mut node = first_node(&cfg, 1u128 << 100);
    let mut p = Peer::new(9u128 << 124, 2);
    link_peer(&mut node, &cfg, &mut p, 0x100);
    let _ = sent(&mut node);
    let user = "scripted@scripted.example.org";
    let resource = ResourceId::hash(user.as_bytes());
    let sd = registration_value(&resource, p.id, user, 77, 60);
    let req = StoreReq {
        resource,
        replica_number: 0,
        kind_data: vec![StoreKindData {
            kind: KindId::SIP_REGISTRATION,
            generation_counter: 0,
            values: vec![sd],
        }],
    };
    let (f1, _) = p.frame(
        &cfg,
        0x500,
        vec![],
        vec![Destination::Resource(resource)],
        Body::StoreReq(req.clone()),
    );
    let (f2, _) = p.frame(
        &cfg,
        0x500,
        vec![],
        vec![Destination::Resource(resource)],
        Body::StoreReq(req),
    );
    node.handle_datagram(Time(10), p.addr, &f1);
    let first = sent(&mut node);
    node.handle_datagram(Time(20), p.addr, &f2);
    let second = sent(&mut node);
    let ans = |out: &[(SocketAddr, Vec<u8>)]| {
        out.iter()
            .find(|(_, m)| matches!(decode(m).contents.body, Body::StoreAns(_)))
            .map(|(_, m)| m.clone())
            .expect("a StoreAns")
    };
    assert_eq!(ans(&first), ans(&second), "the same answer, byte for byte");
    assert_eq!(node.stats().duplicate_requests, 1);
    assert_eq!(
        node.datastore()
            .generation(&resource, KindId::SIP_REGISTRATION),
        1,
        "stored once"
    );
}

/// A replica copy that arrives from a successor, for a key this node's own table says a
/// predecessor owns, is passed on to that predecessor: the sender placed it while its view
/// was stale (it had not yet learnt of a concurrent joiner), and the owner may never have
/// had it.
#[test]
fn a_copy_for_another_owner_is_passed_on_to_it() {
    use reload_sim::proto::id::ResourceId;
    use reload_sim::proto::wire::storage::{KindId, StoreKindData, StoreReq};
    let cfg = config();
    let user = "late@scripted.example.org";
    let resource = ResourceId::hash(user.as_bytes());
    let k = resource.ring_position().unwrap().0;
    // Ring order: far < k <= owner < node < sender.
    let mut node = first_node(&cfg, k.wrapping_add(1 << 100));
    let mut owner = Peer::new(k.wrapping_add(1), 2);
    let mut far = Peer::new(k.wrapping_sub(1000), 3);
    let mut sender = Peer::new(k.wrapping_add(1 << 101), 4);
    link_peer(&mut node, &cfg, &mut owner, 0x100);
    link_peer(&mut node, &cfg, &mut far, 0x200);
    link_peer(&mut node, &cfg, &mut sender, 0x300);
    assert_eq!(node.predecessors().first(), Some(&owner.id));
    let _ = sent(&mut node);
    let req = StoreReq {
        resource,
        replica_number: 1,
        kind_data: vec![StoreKindData {
            kind: KindId::SIP_REGISTRATION,
            generation_counter: 1,
            values: vec![registration_value(&resource, far.id, user, 77, 600)],
        }],
    };
    let (f, _) = sender.frame(
        &cfg,
        0x500,
        vec![],
        vec![Destination::Node(node.node_id())],
        Body::StoreReq(req),
    );
    node.handle_datagram(Time(10), sender.addr, &f);
    let out = sent(&mut node);
    assert!(
        out.iter()
            .any(|(to, m)| *to == sender.addr
                && matches!(decode(m).contents.body, Body::StoreAns(_))),
        "the copy is kept and answered"
    );
    let passed: Vec<StoreReq> = out
        .iter()
        .filter(|(to, _)| *to == owner.addr)
        .filter_map(|(_, m)| match decode(m).contents.body {
            Body::StoreReq(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(passed.len(), 1, "one copy to the owner: {out:?}");
    assert_eq!(
        (passed[0].resource, passed[0].replica_number),
        (resource, 1)
    );
    // The same copy again is no news: nothing more is passed on.
    let (f, _) = sender.frame(
        &cfg,
        0x501,
        vec![],
        vec![Destination::Node(node.node_id())],
        Body::StoreReq(StoreReq {
            resource,
            replica_number: 1,
            kind_data: passed[0].kind_data.clone(),
        }),
    );
    node.handle_datagram(Time(20), sender.addr, &f);
    assert!(!sent(&mut node).iter().any(|(to, _)| *to == owner.addr));
}

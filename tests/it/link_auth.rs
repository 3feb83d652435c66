//! `Node::handle_link_up`: a link whose peer the driver authenticated (the Node-ID of its
//! TLS certificate) is bound to that Node-ID. A handshake from that node is answered; one
//! signed by any other node closes the link (RFC 6940 §6.5.1.11, §6.4.2.1); a second
//! authenticated connection from a restarted node at the same address replaces the link.

use reload_sim::proto::id::NodeId;
use reload_sim::proto::wire::topology::PingReq;
use reload_sim::proto::wire::{Body, Destination};
use reload_sim::time::Time;

use crate::scripted::{Peer, config, decode, first_node, handshake, sent};

fn hello(p: &mut Peer, cfg: &reload_sim::proto::config::OverlayConfig, txid: u64) -> Vec<u8> {
    p.frame(
        cfg,
        txid,
        vec![],
        vec![Destination::Node(NodeId::WILDCARD)],
        Body::PingReq(PingReq::default()),
    )
    .0
}

#[test]
fn an_authenticated_link_answers_its_certificates_node() {
    let cfg = config();
    let mut node = first_node(&cfg, 1 << 120);
    let mut p = Peer::new(5 << 120, 2);
    node.handle_link_up(Time(1), p.addr, p.id);
    assert_eq!(node.poll_link_close(), None);
    let f = hello(&mut p, &cfg, 0x10);
    node.handle_datagram(Time(2), p.addr, &f);
    let out = sent(&mut node);
    assert_eq!(out.len(), 1, "the handshake is answered");
    assert!(matches!(decode(&out[0].1).contents.body, Body::PingAns(_)));
    assert_eq!(node.poll_link_close(), None);
    let (addr, peer, ..) = node.connections()[0];
    assert_eq!((addr, peer), (p.addr, Some(p.id)));
}

#[test]
fn a_message_from_another_signer_closes_the_authenticated_link() {
    let cfg = config();
    let mut node = first_node(&cfg, 1 << 120);
    let certified = Peer::new(5 << 120, 2);
    // The connection's certificate names `certified`; its messages are signed as `liar`.
    let mut liar = Peer::new(9 << 120, 2);
    node.handle_link_up(Time(1), certified.addr, certified.id);
    let dropped = node.stats().dropped;
    let f = hello(&mut liar, &cfg, 0x11);
    node.handle_datagram(Time(2), liar.addr, &f);
    let answers: Vec<_> = sent(&mut node)
        .into_iter()
        .filter(|(_, m)| matches!(decode(m).contents.body, Body::PingAns(_)))
        .collect();
    assert!(answers.is_empty(), "the liar's handshake is not answered");
    assert_eq!(node.poll_link_close(), Some(certified.addr));
    assert_eq!(node.stats().dropped, dropped + 1);
    assert!(node.connections().is_empty());
}

#[test]
fn a_restarted_node_replaces_an_up_link_and_a_link_being_set_up_refuses_another() {
    let cfg = config();
    let mut node = first_node(&cfg, 1 << 120);
    let mut p = Peer::new(5 << 120, 2);
    // An up link: a new connection at its address with another certificate is the node
    // restarted there, and replaces it.
    handshake(&mut node, &cfg, &mut p, 0x12);
    let restarted = NodeId(7 << 120);
    node.handle_link_up(Time(3), p.addr, restarted);
    let (addr, peer, ..) = node.connections()[0];
    assert_eq!((addr, peer), (p.addr, Some(restarted)), "replaced");
    // That new link is not up yet: a certificate of yet another node closes it.
    node.handle_link_up(Time(4), p.addr, NodeId(8 << 120));
    assert_eq!(node.poll_link_close(), Some(p.addr));
    assert!(node.connections().is_empty());
}

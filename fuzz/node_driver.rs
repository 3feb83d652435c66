//! A joined node fed arbitrary datagrams from arbitrary addresses, and timeouts: it must
//! never panic, and everything it sends must be a well-formed frame.
//!
//! Shared by the `node_inputs` fuzz target (`fuzz/fuzz_targets/node_inputs.rs`) and the
//! bounded property test in `tests/it/conformance_ext.rs`, so CI compiles and runs it on
//! stable.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use reload_sim::proto::config::OverlayConfig;
use reload_sim::proto::event::NodeState;
use reload_sim::proto::id::{NodeId, TransactionId};
use reload_sim::proto::identity::{SignerInfo, SimCrypto, encode_signed};
use reload_sim::proto::node::{Identity, Node};
use reload_sim::proto::wire::chord::{ChordUpdate, ChordUpdateKind};
use reload_sim::proto::wire::framing::Frame;
use reload_sim::proto::wire::header::{ForwardingOption, option_flags};
use reload_sim::proto::wire::topology::{PingAns, PingReq};
use reload_sim::proto::wire::{
    Body, Destination, ForwardingHeader, MessageContents, MessageExtension,
};
use reload_sim::time::{Duration, Time};

/// The node's Node-ID.
pub const NODE: u128 = 1u128 << 100;

fn addr(i: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, i], 6084))
}

/// A scripted peer: Node-ID, address, next frame sequence number.
struct ScriptedPeer {
    id: NodeId,
    addr: SocketAddr,
    seq: u32,
}

/// One joined node (it started the overlay) with two scripted peers linked to it.
pub struct Harness {
    cfg: Arc<OverlayConfig>,
    node: Node,
    peers: [ScriptedPeer; 2],
    /// Valid messages signed by the peers, to mutate.
    templates: Vec<Vec<u8>>,
    now: Time,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// The node, with peers at 10.0.0.2 (far side of the ring) and 10.0.0.3 (just after
    /// the node) linked: handshake Ping, then an Update (peer ready) from each.
    pub fn new() -> Harness {
        let cfg = Arc::new(OverlayConfig::new("scripted.example.org"));
        let mut node = Node::new(
            cfg.clone(),
            Identity::new(NodeId(NODE), "first@scripted.example.org"),
            addr(1),
            Time::ZERO,
            7,
        );
        node.start_overlay(Time::ZERO)
            .expect("an idle node starts an overlay");
        let peers = [
            ScriptedPeer {
                id: NodeId(9u128 << 124),
                addr: addr(2),
                seq: 0,
            },
            ScriptedPeer {
                id: NodeId(3u128 << 124),
                addr: addr(3),
                seq: 0,
            },
        ];
        let mut h = Harness {
            cfg,
            node,
            peers,
            templates: Vec::new(),
            now: Time(1),
        };
        for p in 0..2 {
            let txid = 0x100 * (p as u64 + 1);
            let hs = h.message(p, txid, wildcard(), Body::PingReq(PingReq::default()));
            h.send_message(p, &hs);
            let ready = Body::UpdateReq(ChordUpdate {
                uptime: 5,
                kind: ChordUpdateKind::PeerReady,
            });
            let up = h.message(p, txid + 1, to_node(), ready);
            h.send_message(p, &up);
        }
        assert_eq!(h.node.state(), NodeState::Joined);
        h.templates = h.make_templates();
        h
    }

    /// The node under test.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Valid messages to mutate.
    pub fn template_count(&self) -> usize {
        self.templates.len()
    }

    fn make_templates(&self) -> Vec<Vec<u8>> {
        let key = Destination::Resource(NodeId(4u128 << 124).to_resource_id());
        let mut t = vec![
            self.message(0, 0x1000, to_node(), Body::PingReq(PingReq::default())),
            self.message(
                0,
                0x1001,
                vec![key.clone()],
                Body::PingReq(PingReq::default()),
            ),
            self.message(
                1,
                0x1002,
                to_node(),
                Body::UpdateReq(ChordUpdate {
                    uptime: 9,
                    kind: ChordUpdateKind::Neighbors {
                        predecessors: vec![NodeId(NODE)],
                        successors: vec![self.peers[0].id],
                    },
                }),
            ),
            self.message(
                1,
                0x1003,
                to_node(),
                Body::PingAns(PingAns {
                    response_id: 1,
                    time: 2,
                }),
            ),
        ];
        // Options and an extension, forwarded and delivered.
        for (i, dest) in [vec![key], to_node()].into_iter().enumerate() {
            let mut h = self.header(0x1100 + i as u64, dest);
            h.via_list = vec![Destination::Node(NodeId(0xabc))];
            h.options = vec![ForwardingOption {
                option_type: 0x7f,
                flags: option_flags::RESPONSE_COPY | (i as u8 + 1),
                value: vec![1, 2],
            }];
            let mut c = MessageContents::new(Body::PingReq(PingReq::default()));
            c.extensions = vec![MessageExtension {
                ext_type: 0x2,
                critical: i == 1,
                contents: vec![0; 4],
            }];
            t.push(self.signed(0, &h, &c));
        }
        t
    }

    fn header(&self, txid: u64, dest: Vec<Destination>) -> ForwardingHeader {
        ForwardingHeader::new(
            self.cfg.overlay,
            self.cfg.configuration_sequence,
            TransactionId(txid),
            dest,
        )
    }

    fn signed(&self, p: usize, h: &ForwardingHeader, c: &MessageContents) -> Vec<u8> {
        let signer = SimCrypto {
            signer: SignerInfo::new(self.peers[p].id, "scripted@scripted.example.org"),
        };
        encode_signed(&signer, h, c).expect("a scripted message encodes")
    }

    fn message(&self, p: usize, txid: u64, dest: Vec<Destination>, body: Body) -> Vec<u8> {
        self.signed(p, &self.header(txid, dest), &MessageContents::new(body))
    }

    /// The address of sender `from`: a linked peer, an unknown address or the node's own.
    fn sender(&self, from: u8) -> SocketAddr {
        match from % 4 {
            0 | 1 => self.peers[usize::from(from % 2)].addr,
            2 => addr(9),
            _ => addr(1),
        }
    }

    /// `message` in a data frame from peer `p`, with its next sequence number.
    fn send_message(&mut self, p: usize, message: &[u8]) {
        let mut f = Vec::new();
        let seq = self.peers[p].seq;
        self.peers[p].seq = seq.wrapping_add(1);
        if (Frame::Data {
            sequence: seq,
            message,
        })
        .encode(&mut f)
        .is_err()
        {
            return;
        }
        let to = self.peers[p].addr;
        self.node.handle_datagram(self.now, to, &f);
        self.drain();
    }

    /// A datagram, as is, from sender `from`.
    pub fn datagram(&mut self, from: u8, bytes: &[u8]) {
        let a = self.sender(from);
        self.node.handle_datagram(self.now, a, bytes);
        self.drain();
    }

    /// `message` (any bytes) framed as the next data frame of linked peer `from % 2`.
    pub fn framed(&mut self, from: u8, message: &[u8]) {
        self.send_message(usize::from(from % 2), message);
    }

    /// Template `template` with bytes XORed (`(position, mask)`, position taken modulo the
    /// length) and cut to `cut` bytes, framed from linked peer `from % 2`.
    pub fn mutated(&mut self, from: u8, template: usize, edits: &[(u16, u8)], cut: Option<u16>) {
        let mut m = self.templates[template % self.templates.len()].clone();
        for &(at, mask) in edits {
            let i = usize::from(at) % m.len();
            m[i] ^= mask;
        }
        if let Some(c) = cut {
            m.truncate(usize::from(c));
        }
        self.framed(from, &m);
    }

    /// Moves time on by `ms` and runs the node's due timers.
    pub fn advance(&mut self, ms: u32) {
        self.now += Duration::from_millis(u64::from(ms));
        // Each call may schedule the next deadline in the past only a bounded number of times.
        for _ in 0..8 {
            match self.node.poll_timeout() {
                Some(t) if t <= self.now => self.node.handle_timeout(self.now),
                _ => break,
            }
            self.drain();
        }
    }

    /// Drains the node's outputs; every datagram it sends must decode as a frame.
    fn drain(&mut self) {
        while let Some(t) = self.node.poll_transmit() {
            assert!(
                Frame::decode(&t.bytes).is_ok(),
                "the node sent a datagram that is not a frame: {:02x?}",
                t.bytes
            );
        }
        while self.node.poll_event().is_some() {}
        while self.node.poll_link_close().is_some() {}
        assert_ne!(
            self.node.state(),
            NodeState::Left,
            "no input makes a node leave"
        );
    }

    /// Runs a fuzzer's input: a sequence of operations, each an opcode byte and its
    /// arguments. Too few bytes for an argument end the input.
    pub fn run_bytes(&mut self, mut data: &[u8]) {
        fn take<'a>(d: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
            if d.len() < n {
                return None;
            }
            let (a, b) = d.split_at(n);
            *d = b;
            Some(a)
        }
        fn u16_at(d: &mut &[u8]) -> Option<u16> {
            take(d, 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
        }
        while let Some(&[op, from]) = take(&mut data, 2) {
            match op % 4 {
                0 => {
                    let Some(n) = u16_at(&mut data) else { return };
                    let n = usize::from(n).min(data.len());
                    let Some(bytes) = take(&mut data, n) else {
                        return;
                    };
                    self.datagram(from, bytes);
                }
                1 => {
                    let Some(n) = u16_at(&mut data) else { return };
                    let n = usize::from(n).min(data.len());
                    let Some(bytes) = take(&mut data, n) else {
                        return;
                    };
                    self.framed(from, bytes);
                }
                2 => {
                    let Some(&[template, edits, cut]) = take(&mut data, 3) else {
                        return;
                    };
                    let mut e = Vec::new();
                    for _ in 0..edits % 8 {
                        let Some(b) = take(&mut data, 3) else { return };
                        e.push((u16::from_be_bytes([b[0], b[1]]), b[2]));
                    }
                    let cut = (cut & 0x80 != 0).then(|| u16::from(cut & 0x7f) * 8);
                    self.mutated(from, usize::from(template), &e, cut);
                }
                _ => {
                    let Some(ms) = u16_at(&mut data) else { return };
                    self.advance(u32::from(ms) * u32::from(from % 16 + 1));
                }
            }
        }
    }
}

fn wildcard() -> Vec<Destination> {
    vec![Destination::Node(NodeId::WILDCARD)]
}

fn to_node() -> Vec<Destination> {
    vec![Destination::Node(NodeId(NODE))]
}

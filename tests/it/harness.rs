//! A small in-memory network for multi-node tests of the sans-IO peer: constant latency,
//! optional loss, deterministic order. Independent of the simulator in `src/sim`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use reload_sim::proto::config::OverlayConfig;
use reload_sim::proto::event::{Event, NodeState};
use reload_sim::proto::id::NodeId;
use reload_sim::proto::node::{Identity, Node};
use reload_sim::time::{Duration, Time};

pub fn addr(i: usize) -> SocketAddr {
    let n = i + 1;
    SocketAddr::from(([10, (n >> 16) as u8, (n >> 8) as u8, n as u8], 6084))
}

fn index(a: SocketAddr) -> usize {
    match a {
        SocketAddr::V4(v) => {
            let o = v.ip().octets();
            ((o[1] as usize) << 16 | (o[2] as usize) << 8 | o[3] as usize) - 1
        }
        SocketAddr::V6(_) => usize::MAX,
    }
}

pub struct Net {
    pub now: Time,
    pub nodes: Vec<Option<Node>>,
    pub events: Vec<(usize, Event)>,
    queue: BTreeMap<(Time, u64), Item>,
    seq: u64,
    pub latency: Duration,
    pub loss_permille: u64,
    pub jitter: Duration,
    lcg: u64,
    pub config: Arc<OverlayConfig>,
    pub delivered: u64,
    /// When set, every datagram a node sends is recorded here: (from, to, bytes).
    pub tap: Option<Vec<(SocketAddr, SocketAddr, Vec<u8>)>>,
}

enum Item {
    Datagram {
        to: usize,
        from: SocketAddr,
        bytes: Vec<u8>,
    },
    Wake {
        node: usize,
    },
    /// The node at `from` closed its link to `to` (a transport close).
    Close {
        to: usize,
        from: SocketAddr,
    },
}

/// A deterministic spread of Node-IDs.
pub fn node_id(i: usize) -> NodeId {
    let mut x = (i as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
    x ^= x >> 61;
    NodeId(x.wrapping_mul(0x2545_f491_4f6c_dd1d_0000_0000_0000_0001 | 1))
}

impl Net {
    pub fn new(config: OverlayConfig) -> Net {
        Net {
            now: Time::ZERO,
            nodes: Vec::new(),
            events: Vec::new(),
            queue: BTreeMap::new(),
            seq: 0,
            latency: Duration::from_millis(10),
            loss_permille: 0,
            jitter: Duration::ZERO,
            lcg: 1,
            config: Arc::new(config),
            delivered: 0,
            tap: None,
        }
    }

    /// A config with short maintenance intervals, as a test wants.
    pub fn fast_config() -> OverlayConfig {
        let mut c = OverlayConfig::new("test.example.org");
        c.chord_update_interval = Duration::from_secs(20);
        c.chord_ping_interval = Duration::from_secs(5);
        c
    }

    pub fn add(&mut self) -> usize {
        let i = self.nodes.len();
        self.add_with_id(node_id(i))
    }

    /// Adds a node with a chosen Node-ID.
    pub fn add_with_id(&mut self, id: NodeId) -> usize {
        let i = self.nodes.len();
        let node = Node::new(
            self.config.clone(),
            Identity::new(id, &format!("node{i}@test.example.org")),
            addr(i),
            self.now,
            1000 + i as u64,
        );
        self.nodes.push(Some(node));
        i
    }

    pub fn node(&self, i: usize) -> &Node {
        self.nodes[i].as_ref().expect("live node")
    }

    pub fn node_mut(&mut self, i: usize) -> &mut Node {
        self.nodes[i].as_mut().expect("live node")
    }

    fn push(&mut self, at: Time, item: Item) {
        self.seq += 1;
        self.queue.insert((at, self.seq), item);
    }

    fn lost(&mut self) -> bool {
        if self.loss_permille == 0 {
            return false;
        }
        self.lcg = self
            .lcg
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.lcg >> 33) % 1000 < self.loss_permille
    }

    /// Drains a node's outputs into the network.
    pub fn service(&mut self, i: usize) {
        let Some(node) = self.nodes[i].as_mut() else {
            return;
        };
        let from = node.local_addr();
        let mut out = Vec::new();
        while let Some(t) = node.poll_transmit() {
            out.push(t);
        }
        let mut evs = Vec::new();
        while let Some(e) = node.poll_event() {
            evs.push(e);
        }
        let mut closes = Vec::new();
        while let Some(a) = node.poll_link_close() {
            closes.push(a);
        }
        let wake = node.poll_timeout();
        for a in closes {
            let at = self.now + self.latency;
            self.push(at, Item::Close { to: index(a), from });
        }
        for t in out {
            if let Some(tap) = self.tap.as_mut() {
                tap.push((from, t.to, t.bytes.clone()));
            }
            if self.lost() {
                continue;
            }
            let extra = if self.jitter.as_nanos() > 0 {
                self.lcg = self
                    .lcg
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                Duration((self.lcg >> 11) % self.jitter.as_nanos())
            } else {
                Duration::ZERO
            };
            let at = self.now + self.latency + extra;
            self.push(
                at,
                Item::Datagram {
                    to: index(t.to),
                    from,
                    bytes: t.bytes,
                },
            );
        }
        for e in evs {
            self.events.push((i, e));
        }
        if let Some(w) = wake {
            self.push(w.max(self.now), Item::Wake { node: i });
        }
    }

    pub fn run_until(&mut self, until: Time) {
        while let Some(entry) = self.queue.first_entry() {
            let (at, _) = *entry.key();
            if at > until {
                break;
            }
            let item = entry.remove();
            self.now = at;
            match item {
                Item::Datagram { to, from, bytes } => {
                    if let Some(Some(n)) = self.nodes.get_mut(to) {
                        self.delivered += 1;
                        n.handle_datagram(at, from, &bytes);
                        self.service(to);
                    }
                }
                Item::Close { to, from } => {
                    if let Some(Some(n)) = self.nodes.get_mut(to) {
                        n.handle_link_close(at, from);
                        self.service(to);
                    }
                }
                Item::Wake { node } => {
                    if let Some(Some(n)) = self.nodes.get_mut(node) {
                        if n.poll_timeout().is_some_and(|t| t <= at) {
                            n.handle_timeout(at);
                            self.service(node);
                        }
                    }
                }
            }
        }
        self.now = until;
    }

    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// A network whose node 0 has started the overlay.
    pub fn start(config: OverlayConfig) -> Net {
        let mut net = Net::new(config);
        let first = net.add();
        let now = net.now;
        net.node_mut(first).start_overlay(now).unwrap();
        net.service(first);
        net
    }

    /// Adds a node and joins it through node 0.
    pub fn join_new(&mut self) -> usize {
        let i = self.add();
        let now = self.now;
        self.node_mut(i).join(now, &[addr(0)]).unwrap();
        self.service(i);
        i
    }

    /// Starts node 0 as the first peer and joins `n - 1` more, `gap` apart.
    pub fn ring(n: usize, gap: Duration, config: OverlayConfig) -> Net {
        let mut net = Net::start(config);
        for _ in 1..n {
            net.run_for(gap);
            net.join_new();
        }
        net
    }

    pub fn live(&self) -> impl Iterator<Item = (usize, &Node)> {
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.as_ref().map(|n| (i, n)))
    }

    /// The true ring: ids of live joined nodes, sorted.
    pub fn ring_ids(&self) -> Vec<NodeId> {
        let mut v: Vec<NodeId> = self
            .live()
            .filter(|(_, n)| n.state() == NodeState::Joined)
            .map(|(_, n)| n.node_id())
            .collect();
        v.sort();
        v
    }

    /// The true owner of `k`.
    pub fn owner(&self, k: NodeId) -> NodeId {
        let ids = self.ring_ids();
        *ids.iter().find(|id| **id >= k).unwrap_or(&ids[0])
    }

    /// Nodes whose first successor and predecessor are not the true ones.
    pub fn ring_errors(&self) -> Vec<String> {
        let ids = self.ring_ids();
        let n = ids.len();
        let mut errs = Vec::new();
        for (i, node) in self.live() {
            if node.state() != NodeState::Joined {
                errs.push(format!("node {i} is {:?}", node.state()));
                continue;
            }
            let pos = ids.iter().position(|x| *x == node.node_id()).unwrap();
            if n > 1 {
                let succ = ids[(pos + 1) % n];
                let pred = ids[(pos + n - 1) % n];
                if node.successors().first() != Some(&succ) {
                    errs.push(format!(
                        "node {i}: successor {:?}, want {succ:?}",
                        node.successors().first()
                    ));
                }
                if node.predecessors().first() != Some(&pred) {
                    errs.push(format!(
                        "node {i}: predecessor {:?}, want {pred:?}",
                        node.predecessors().first()
                    ));
                }
            }
        }
        errs
    }

    /// Removes a node without a word (a crash).
    pub fn crash(&mut self, i: usize) {
        self.nodes[i] = None;
    }
}

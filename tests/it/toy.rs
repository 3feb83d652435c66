//! A stand-in peer for engine tests: it gossips small data frames with the peers it has
//! heard of, answers "pings" directly, and reports them as `RequestServed`/`RequestDone`,
//! so the engine's delivery, timer, churn and lookup paths run without the real protocol.

use std::collections::VecDeque;
use std::sync::Arc;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reload_sim::proto::config::{Addr, OverlayConfig};
use reload_sim::proto::event::{Answer, CommandError, Event, NodeState, RequestId, Transmit};
use reload_sim::proto::id::{NodeId, ResourceId, TransactionId};
use reload_sim::proto::node::Identity;
use reload_sim::proto::stats::NodeStats;
use reload_sim::proto::store::DataStore;
use reload_sim::proto::wire::Destination;
use reload_sim::proto::wire::storage::{StoreKindData, StoredDataSpecifier};
use reload_sim::sim::Peer;
use reload_sim::time::{Duration, Time};

const HELLO: u8 = 1;
const PING: u8 = 3;
const PONG: u8 = 4;

/// The gossiping stand-in peer.
pub struct Toy {
    id: NodeId,
    rng: ChaCha8Rng,
    state: NodeState,
    known: Vec<Addr>,
    out: VecDeque<Transmit>,
    events: VecDeque<Event>,
    timer: Option<Time>,
    stats: NodeStats,
    data: DataStore,
}

fn frame(kind: u8, tx: u64, id: NodeId) -> Vec<u8> {
    let mut b = vec![0x80, kind];
    b.extend_from_slice(&tx.to_be_bytes());
    b.extend_from_slice(&id.0.to_be_bytes());
    b
}

impl Toy {
    fn send(&mut self, to: Addr, kind: u8, tx: u64) {
        self.out.push_back(Transmit {
            to,
            bytes: frame(kind, tx, self.id),
        });
    }
    fn learn(&mut self, a: Addr) {
        if let Err(i) = self.known.binary_search(&a) {
            self.known.insert(i, a);
        }
    }
    fn pick(&mut self) -> Option<Addr> {
        if self.known.is_empty() {
            return None;
        }
        let i = self.rng.random_range(0..self.known.len());
        Some(self.known[i])
    }
    fn rearm(&mut self, now: Time) {
        let ms = self.rng.random_range(500..1500u64);
        self.timer = Some(now + Duration::from_millis(ms));
    }
}

impl Peer for Toy {
    fn create(_: Arc<OverlayConfig>, identity: Identity, _: Addr, _: Time, seed: u64) -> Self {
        Toy {
            id: identity.node_id,
            rng: ChaCha8Rng::seed_from_u64(seed),
            state: NodeState::Idle,
            known: Vec::new(),
            out: VecDeque::new(),
            events: VecDeque::new(),
            timer: None,
            stats: NodeStats::default(),
            data: DataStore::new(),
        }
    }
    fn node_id(&self) -> NodeId {
        self.id
    }
    fn state(&self) -> NodeState {
        self.state
    }
    fn successors(&self) -> &[NodeId] {
        &[]
    }
    fn stats(&self) -> NodeStats {
        self.stats.clone()
    }
    fn start_overlay(&mut self, now: Time) -> Result<(), CommandError> {
        self.state = NodeState::Joined;
        self.rearm(now);
        Ok(())
    }
    fn connect_client(&mut self, _now: Time, _bootstrap: &[Addr]) -> Result<(), CommandError> {
        Err(CommandError::InvalidState(self.state))
    }
    fn join(&mut self, now: Time, bootstrap: &[Addr]) -> Result<(), CommandError> {
        let first = *bootstrap.first().ok_or(CommandError::NoBootstrap)?;
        self.state = NodeState::Joining;
        bootstrap.iter().for_each(|a| self.learn(*a));
        self.send(first, HELLO, 0);
        self.rearm(now);
        Ok(())
    }
    fn leave(&mut self, _: Time) {
        self.state = NodeState::Leaving;
        if let Some(a) = self.pick() {
            self.send(a, HELLO, 0);
        }
        self.events.push_back(Event::Left);
    }
    fn ping(&mut self, _: Time, _: Destination) -> Result<RequestId, CommandError> {
        let to = self.pick().ok_or(CommandError::InvalidState(self.state))?;
        let tx = self.rng.random::<u64>();
        self.send(to, PING, tx);
        Ok(TransactionId(tx))
    }
    /// The toy has no SIP usage.
    fn register(&mut self, _: Time, _: &str, _: u32) -> Result<RequestId, CommandError> {
        Err(CommandError::InvalidState(self.state))
    }
    fn call(&mut self, _: Time, _: &str) -> Result<RequestId, CommandError> {
        Err(CommandError::InvalidState(self.state))
    }
    fn lookup_aor(&mut self, _: Time, _: &str) -> Result<RequestId, CommandError> {
        Err(CommandError::InvalidState(self.state))
    }
    /// Nor a datastore of its own.
    fn store(
        &mut self,
        _: Time,
        _: ResourceId,
        _: Vec<StoreKindData>,
    ) -> Result<RequestId, CommandError> {
        Err(CommandError::InvalidState(self.state))
    }
    fn fetch(
        &mut self,
        _: Time,
        _: ResourceId,
        _: Vec<StoredDataSpecifier>,
    ) -> Result<RequestId, CommandError> {
        Err(CommandError::InvalidState(self.state))
    }
    fn datastore(&self) -> &DataStore {
        &self.data
    }
    fn handle_datagram(&mut self, now: Time, from: Addr, bytes: &[u8]) {
        self.stats.delivered += 1;
        self.learn(from);
        if self.state == NodeState::Joining {
            self.state = NodeState::Joined;
        }
        let tx = u64::from_be_bytes(bytes[2..10].try_into().unwrap());
        let peer = NodeId(u128::from_be_bytes(bytes[10..26].try_into().unwrap()));
        match bytes[1] {
            PING => {
                self.events.push_back(Event::RequestServed {
                    origin: peer,
                    transaction: TransactionId(tx),
                    hops: 1,
                    code: 0x17,
                });
                self.send(from, PONG, tx);
            }
            PONG => self.events.push_back(Event::RequestDone {
                request: TransactionId(tx),
                outcome: Ok(Answer {
                    responder: peer,
                    code: 0x18,
                }),
            }),
            _ => {}
        }
        // Every datagram pushes the timer back: earlier wake-ups become tombstones.
        self.rearm(now);
    }
    fn handle_timeout(&mut self, now: Time) {
        if let Some(a) = self.pick() {
            self.send(a, HELLO, 0);
        }
        self.rearm(now);
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }
    fn poll_timeout(&self) -> Option<Time> {
        self.timer
    }
    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}

//! The SIP workload inside the engine: users register once their peer has joined, calls
//! between random users arrive as one Poisson process, and every sample measures data
//! availability against the oracle.
//!
//! # Registrations
//! User `i` is `node{i}@{overlay}`, the user of slot `i`'s certificate. If it is one of the
//! registering users (drawn once per slot from stream `sip-users`), each incarnation of the
//! slot registers it when it first reaches Joined (not before `register_start`); the peer
//! refreshes it itself. A registration is *live* from the first store_ans until
//! `lifetime` after the last one (every store answer of the slot's node that is not a
//! lookup is a store of its registration: the first store or a refresh), and only while its
//! node is alive. It is *available* when the peer that the oracle says is responsible for
//! H(aor) holds a live value under the registering node's dictionary key.
//!
//! # Calls
//! Stream `calls` draws the gaps, the caller (a joined peer) and the callee: an AoR nobody
//! registers (`nobody{k}@{overlay}`) with probability `unregistered_call_fraction`, else
//! another slot's user, registered or not.

use std::collections::BTreeMap;

use rand::RngExt;

use super::{Ev, Sim};
use crate::proto::event::{Answer, CallError, CallInfo, RequestError, RequestId};
use crate::proto::id::{NodeId, ResourceId};
use crate::proto::wire::message::code;
use crate::proto::wire::storage::{KindId, StoredDataValue};
use crate::sim::calls::{CallLedger, CallOutcome};
use crate::sim::peer::Peer;
use crate::sim::queue::EventQueue;
use crate::sim::rng::{Seeds, SimRng, purpose};
use crate::sim::workload::SipWorkload;
use crate::time::{Duration, Time};

/// A registration of the current incarnation of a slot.
#[derive(Clone, Debug)]
struct Reg {
    node_id: NodeId,
    resource: ResourceId,
    /// Ring position of `resource`.
    position: NodeId,
    /// Expiry after the last acknowledged store; `None` before the first.
    live_until: Option<Time>,
}

/// The SIP workload's state.
pub(super) struct SipState {
    cfg: SipWorkload,
    /// `users[i]`: slot `i`'s user registers.
    users: Vec<bool>,
    regs: BTreeMap<u32, Reg>,
    rng: SimRng,
    pub(super) ledger: CallLedger,
}

impl SipState {
    pub(super) fn new(cfg: SipWorkload, peers: u32, seeds: &Seeds) -> SipState {
        let mut users_rng = seeds.stream(purpose::SIP_USERS);
        let users = if cfg.enabled {
            (0..peers)
                .map(|_| users_rng.random::<f64>() < cfg.registered_fraction)
                .collect()
        } else {
            Vec::new()
        };
        SipState {
            cfg,
            users,
            regs: BTreeMap::new(),
            rng: seeds.stream(purpose::CALLS),
            ledger: CallLedger::new(),
        }
    }

    fn lifetime(&self) -> Duration {
        Duration::from_secs(u64::from(self.cfg.registration_lifetime_s))
    }

    fn expected(&self, slot: u32, now: Time) -> Option<NodeId> {
        live_registration(&self.regs, slot, now)
    }
}

/// The Node-ID holding `slot`'s live registration, if any.
fn live_registration(regs: &BTreeMap<u32, Reg>, slot: u32, now: Time) -> Option<NodeId> {
    regs.get(&slot)
        .filter(|r| r.live_until.is_some_and(|t| t > now))
        .map(|r| r.node_id)
}

/// The user name on slot `i`'s certificate: `node<i>@<overlay>`.
pub(super) fn user_of(i: u32, overlay: &str) -> String {
    aor("node", i, overlay)
}

fn aor(prefix: &str, i: u32, overlay: &str) -> String {
    format!("{prefix}{i}@{overlay}")
}

impl<P: Peer> Sim<P> {
    /// Schedules the first call, if calls are on.
    pub(super) fn schedule_first_call(&mut self) {
        if self.sip.cfg.calls_enabled() {
            let at =
                Time::ZERO.max(self.sip.cfg.call_start) + self.sip.cfg.next_gap(&mut self.sip.rng);
            if at < self.end {
                self.queue.push(at, Ev::Call);
            }
        }
    }

    /// Slot `i` joined for the first time in this incarnation: schedule its registration.
    pub(super) fn sip_joined(&mut self, i: u32, inc: u32) {
        if self.sip.users.get(i as usize).copied().unwrap_or(false) {
            let at = self.now.max(self.sip.cfg.register_start);
            self.queue.push(at, Ev::Register { node: i, inc });
        }
    }

    /// The registration of slot `i` is due.
    pub(super) fn register(&mut self, i: u32, inc: u32) {
        let now = self.now;
        let slot = &mut self.slots[i as usize];
        if slot.incarnation != inc || slot.leaving {
            return;
        }
        let Some(node) = slot.node.as_mut() else {
            return;
        };
        let user = user_of(i, &self.cfg.overlay.overlay_name);
        match node.register(now, &user, self.sip.cfg.registration_lifetime_s) {
            Ok(_) => {
                let resource = ResourceId::hash(user.as_bytes());
                let reg = Reg {
                    node_id: node.node_id(),
                    resource,
                    position: resource.ring_position().unwrap_or(NodeId::ZERO),
                    live_until: None,
                };
                self.sip.regs.insert(i, reg);
            }
            Err(_) => self.metrics.counters.registers_refused += 1,
        }
        self.service(i);
    }

    /// A request of slot `i` that is no lookup finished: a store of its registration.
    pub(super) fn sip_store_done(
        &mut self,
        i: u32,
        id: NodeId,
        _request: RequestId,
        outcome: Result<Answer, RequestError>,
    ) {
        let lifetime = self.sip.lifetime();
        let Some(reg) = self.sip.regs.get_mut(&i).filter(|r| r.node_id == id) else {
            return;
        };
        let ok = matches!(outcome, Ok(a) if a.code == code::STORE_ANS);
        if ok {
            reg.live_until = Some(self.now + lifetime);
        }
        self.metrics.store_finished(ok);
    }

    /// Slot `i`'s node (Node-ID `id`) is gone: its registration is no longer live and its
    /// calls in progress end as `origin_gone`.
    pub(super) fn sip_removed(&mut self, i: u32, id: NodeId) {
        self.sip.regs.remove(&i);
        self.sip.ledger.origin_gone(self.now, id);
    }

    /// A call of slot `i`'s node finished.
    pub(super) fn call_done(
        &mut self,
        id: NodeId,
        call: RequestId,
        outcome: Result<CallInfo, CallError>,
    ) {
        let (sip, now) = (&mut self.sip, self.now);
        let regs = &sip.regs;
        let registered_now = |slot: u32| live_registration(regs, slot, now);
        if let Some(r) = sip.ledger.done(now, id, call, outcome, registered_now) {
            let ok = r.outcome == CallOutcome::Ok;
            self.metrics.call_finished(ok);
        }
    }

    /// A random joined peer, from the calls stream: a few uniform draws over the slots,
    /// then a uniform draw over the oracle's ring.
    fn pick_caller(&mut self) -> Option<u32> {
        let n = self.slots.len() as u32;
        for _ in 0..8 {
            let i = self.sip.rng.random_range(0..n);
            let s = &self.slots[i as usize];
            if (s.joined || s.connected) && !s.leaving && s.node.is_some() {
                return Some(i);
            }
        }
        let len = self.oracle.len();
        if len == 0 {
            return None;
        }
        let k = self.sip.rng.random_range(0..len);
        self.oracle.nth(k).map(|(_, s)| s)
    }

    /// A call is due: place it and schedule the next.
    pub(super) fn place_call(&mut self) {
        let now = self.now;
        let next = now + self.sip.cfg.next_gap(&mut self.sip.rng);
        if next < self.end {
            self.queue.push(next, Ev::Call);
        }
        let Some(caller) = self.pick_caller() else {
            self.metrics.counters.calls_skipped += 1;
            return;
        };
        let n = self.slots.len() as u32;
        let overlay = &self.cfg.overlay.overlay_name;
        let (callee, callee_slot, expected) =
            if self.sip.rng.random::<f64>() < self.sip.cfg.unregistered_call_fraction {
                let k = self.sip.rng.random_range(0..n);
                (aor("nobody", k, overlay), None, None)
            } else {
                let j = if n > 1 {
                    let j = self.sip.rng.random_range(0..n - 1);
                    if j >= caller { j + 1 } else { j }
                } else {
                    caller
                };
                (user_of(j, overlay), Some(j), self.sip.expected(j, now))
            };
        let slot = &mut self.slots[caller as usize];
        let Some(node) = slot.node.as_mut() else {
            return;
        };
        match node.call(now, &callee) {
            Ok(call) => {
                let id = node.node_id();
                self.sip
                    .ledger
                    .issued(now, id, call, callee, callee_slot, expected);
                self.metrics.call_issued();
            }
            Err(_) => self.metrics.counters.calls_refused += 1,
        }
        self.service(caller);
    }

    /// Live registrations and, of those, how many the true responsible peer holds.
    pub(super) fn availability(&self) -> (u64, u64) {
        let now = self.now;
        let (mut live, mut available) = (0, 0);
        for reg in self.sip.regs.values() {
            if reg.live_until.is_none_or(|t| t <= now) {
                continue;
            }
            live += 1;
            let holds = self
                .oracle
                .owner_slot(reg.position)
                .and_then(|(_, s)| self.slots[s as usize].node.as_deref())
                .is_some_and(|owner| holds_registration(owner, reg, now));
            available += u64::from(holds);
        }
        (live, available)
    }
}

/// True when `peer` holds a live SIP registration value at `reg.resource` under the
/// registering node's dictionary key: what a Fetch answered by `peer` would find.
fn holds_registration<P: Peer>(peer: &P, reg: &Reg, now: Time) -> bool {
    let key = reg.node_id.octets();
    peer.datastore()
        .export(now, &reg.resource)
        .iter()
        .filter(|kd| kd.kind == KindId::SIP_REGISTRATION)
        .flat_map(|kd| &kd.values)
        .any(|v| match &v.value {
            StoredDataValue::Dictionary { key: k, value } => value.exists && k[..] == key[..],
            _ => false,
        })
}

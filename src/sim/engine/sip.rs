//! The SIP workload inside the engine: users register once their node has joined, calls
//! between random users arrive as one Poisson process, and every sample measures data
//! availability against the oracle.
//!
//! # Users
//! `[sip] users` AoRs `user<j>@<overlay>` (default: one per slot) live round-robin on the
//! slots: user `j` on slot `j mod slots`, so a node hosts several users when there are more
//! users than nodes. Whether a user registers is drawn once per user from stream
//! `sip-users`.
//!
//! # Registrations
//! Each incarnation of a slot registers its registering users when it first reaches Joined
//! or Connected (not before `register_start`), with the enrollment certificate of each user
//! on that node; the node refreshes them itself. A registration is *live* from its first
//! acknowledged store (`Event::Registered`) until `lifetime` after the last one, and only
//! while its node is alive. It is *available* when the peer that the oracle says is
//! responsible for H(aor) holds a live value under the registering node's dictionary key.
//!
//! # Calls
//! Stream `calls` draws the gaps, the caller (a joined peer or connected client) and the
//! callee: an AoR nobody registers (`nobody<k>@<overlay>`) with probability
//! `unregistered_call_fraction`, else a user on another node, registered or not.

use std::collections::BTreeMap;

use rand::RngExt;

use super::driven::{Calls, Driven};
use super::{Ev, Sim};
use crate::proto::event::{Answer, CallError, CallInfo, Event, RequestError, RequestId};
use crate::proto::id::{NodeId, ResourceId};
use crate::proto::peer::Peer;
use crate::proto::wire::message::code;
use crate::proto::wire::storage::{KindId, StoredDataValue};
use crate::sim::calls::{CallLedger, CallOutcome};
use crate::sim::queue::EventQueue;
use crate::sim::rng::{Seeds, SimRng, purpose};
use crate::sim::workload::SipWorkload;
use crate::time::{Duration, Time};

/// A registration of a user by the current incarnation of its slot.
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
    /// Nodes (slots) the users live on.
    slots: u32,
    /// `registers[j]`: user `j` registers.
    registers: Vec<bool>,
    /// Registrations by user.
    regs: BTreeMap<u32, Reg>,
    rng: SimRng,
    pub(super) ledger: CallLedger,
}

impl SipState {
    /// Heap bytes of the users' flags and registrations (tree entries about 1.5×).
    pub(super) fn heap_bytes(&self) -> usize {
        self.registers.capacity() + self.regs.len() * std::mem::size_of::<(u32, Reg)>() * 3 / 2
    }

    pub(super) fn new(cfg: SipWorkload, slots: u32, seeds: &Seeds) -> SipState {
        let mut users_rng = seeds.stream(purpose::SIP_USERS);
        let users = if cfg.users == 0 { slots } else { cfg.users };
        let registers = if cfg.enabled {
            (0..users)
                .map(|_| users_rng.random::<f64>() < cfg.registered_fraction)
                .collect()
        } else {
            Vec::new()
        };
        SipState {
            cfg,
            slots,
            registers,
            regs: BTreeMap::new(),
            rng: seeds.stream(purpose::CALLS),
            ledger: CallLedger::new(),
        }
    }

    fn lifetime(&self) -> Duration {
        Duration::from_secs(u64::from(self.cfg.registration_lifetime_s))
    }

    fn users(&self) -> u32 {
        self.registers.len() as u32
    }

    /// The slot user `j` lives on.
    fn host(&self, user: u32) -> u32 {
        user % self.slots.max(1)
    }

    /// The users living on `slot`.
    fn users_of(&self, slot: u32) -> impl Iterator<Item = u32> + use<> {
        let step = self.slots.max(1) as usize;
        (slot..self.users()).step_by(step)
    }

    fn expected(&self, user: u32, now: Time) -> Option<NodeId> {
        live_registration(&self.regs, user, now)
    }
}

/// The Node-ID holding `user`'s live registration, if any.
fn live_registration(regs: &BTreeMap<u32, Reg>, user: u32, now: Time) -> Option<NodeId> {
    regs.get(&user)
        .filter(|r| r.live_until.is_some_and(|t| t > now))
        .map(|r| r.node_id)
}

/// The AoR of user `j`: `user<j>@<overlay>`.
fn user_aor(j: u32, overlay: &str) -> String {
    aor("user", j, overlay)
}

/// The user name on slot `i`'s certificate: `node<i>@<overlay>`.
pub(super) fn user_of(i: u32, overlay: &str) -> String {
    aor("node", i, overlay)
}

fn aor(prefix: &str, i: u32, overlay: &str) -> String {
    format!("{prefix}{i}@{overlay}")
}

impl<P: Peer> Driven<P> for Calls {
    fn peer_joined(&self, sim: &mut Sim<P>, i: u32, inc: u32) {
        if sim.cfg.sip.enabled {
            sim.sip_joined(i, inc);
        }
    }

    fn client_connected(&self, sim: &mut Sim<P>, i: u32, inc: u32) {
        self.peer_joined(sim, i, inc);
    }

    fn removed(&self, sim: &mut Sim<P>, i: u32, id: NodeId) {
        sim.sip_removed(i, id);
    }

    fn event(&self, sim: &mut Sim<P>, i: u32, id: NodeId, e: Event) -> Option<Event> {
        match e {
            Event::CallDone { call, outcome } => sim.call_done(id, call, outcome),
            Event::Registered { aor, outcome, .. } => sim.registered(i, id, aor, outcome),
            e => return Some(e),
        }
        None
    }
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

    /// Slot `i` joined (or connected) for the first time in this incarnation: schedule
    /// the registration of its users.
    fn sip_joined(&mut self, i: u32, inc: u32) {
        let registers = &self.sip.registers;
        if self.sip.users_of(i).any(|j| registers[j as usize]) {
            let at = self.now.max(self.sip.cfg.register_start);
            self.queue.push(at, Ev::Register { node: i, inc });
        }
    }

    /// The registrations of slot `i`'s users are due.
    pub(super) fn register(&mut self, i: u32, inc: u32) {
        let now = self.now;
        let Some(node) = self.slots[i as usize].current(inc) else {
            return;
        };
        let overlay = &self.cfg.overlay.overlay_name;
        let lifetime_s = self.sip.cfg.registration_lifetime_s;
        for j in self.sip.users_of(i) {
            if !self.sip.registers[j as usize] {
                continue;
            }
            let user = user_aor(j, overlay);
            match node.register(now, &user, lifetime_s) {
                Ok(_) => {
                    let resource = ResourceId::hash(user.as_bytes());
                    let reg = Reg {
                        node_id: node.node_id(),
                        resource,
                        position: resource.ring_position().unwrap_or(NodeId::ZERO),
                        live_until: None,
                    };
                    self.sip.regs.insert(j, reg);
                }
                Err(_) => self.metrics.counters.registers_refused += 1,
            }
        }
        self.service(i);
    }

    /// A Store of the registration of AoR `aor` by slot `i`'s node `id` finished.
    fn registered(
        &mut self,
        i: u32,
        id: NodeId,
        aor: ResourceId,
        outcome: Result<Answer, RequestError>,
    ) {
        let lifetime = self.sip.lifetime();
        let ok = matches!(outcome, Ok(a) if a.code == code::STORE_ANS);
        self.metrics.store_finished(ok);
        let Some(j) = self
            .sip
            .users_of(i)
            .find(|j| self.sip.regs.get(j).is_some_and(|r| r.resource == aor))
        else {
            return;
        };
        if let Some(reg) = self.sip.regs.get_mut(&j).filter(|r| r.node_id == id)
            && ok
        {
            reg.live_until = Some(self.now + lifetime);
        }
    }

    /// Slot `i`'s node (Node-ID `id`) is gone: its users' registrations are no longer live
    /// and its calls in progress end as `origin_gone`.
    fn sip_removed(&mut self, i: u32, id: NodeId) {
        for j in self.sip.users_of(i) {
            self.sip.regs.remove(&j);
        }
        self.sip.ledger.origin_gone(self.now, id);
        self.sip.ledger.flush(&mut *self.records);
    }

    /// A call of slot `i`'s node finished.
    fn call_done(&mut self, id: NodeId, call: RequestId, outcome: Result<CallInfo, CallError>) {
        let (sip, now) = (&mut self.sip, self.now);
        let regs = &sip.regs;
        let registered_now = |user: u32| live_registration(regs, user, now);
        if let Some(r) = sip.ledger.done(now, id, call, outcome, registered_now) {
            let ok = r.outcome == CallOutcome::Ok;
            let fetch_answered = r.fetch_answered == Some(true);
            self.metrics.call_finished(ok, fetch_answered);
            sip.ledger.flush(&mut *self.records);
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

    /// A random user living on another node than `caller`, from the calls stream.
    fn pick_callee(&mut self, caller: u32) -> Option<u32> {
        let users = self.sip.users();
        if users == 0 {
            return None;
        }
        for _ in 0..16 {
            let j = self.sip.rng.random_range(0..users);
            if self.sip.host(j) != caller {
                return Some(j);
            }
        }
        None
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
        let overlay = self.cfg.overlay.overlay_name.clone();
        let overlay = overlay.as_str();
        let (callee, callee_user, expected) =
            if self.sip.rng.random::<f64>() < self.sip.cfg.unregistered_call_fraction {
                let k = self.sip.rng.random_range(0..self.sip.users().max(1));
                (aor("nobody", k, overlay), None, None)
            } else {
                let Some(j) = self.pick_callee(caller) else {
                    self.metrics.counters.calls_skipped += 1;
                    return;
                };
                (user_aor(j, overlay), Some(j), self.sip.expected(j, now))
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
                    .issued(now, id, call, callee, callee_user, expected);
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

impl<P: Peer> Sim<P> {
    /// Users whose registration is live and held by its responsible peer.
    pub(super) fn held_registrations(&self) -> Vec<u32> {
        let now = self.now;
        self.sip
            .regs
            .iter()
            .filter(|(_, reg)| reg.live_until.is_some_and(|t| t > now))
            .filter(|(_, reg)| {
                self.oracle
                    .owner_slot(reg.position)
                    .and_then(|(_, s)| self.slots[s as usize].node.as_deref())
                    .is_some_and(|owner| holds_registration(owner, reg, now))
            })
            .map(|(&j, _)| j)
            .collect()
    }

    /// Of user `j`'s registration (`None` when its registering node is gone or it
    /// expired): how many of the responsible peer and its `copies - 1` successors hold it,
    /// and whether any of the first `copies + 2` peers from the responsible one does.
    pub(super) fn registration_copies(&self, j: u32, copies: usize) -> Option<(usize, bool)> {
        let now = self.now;
        let reg = self.sip.regs.get(&j)?;
        if reg.live_until.is_none_or(|t| t <= now) {
            return None;
        }
        let (mut full, mut any) = (0, false);
        for (k, (_, s)) in self
            .oracle
            .from_owner(reg.position)
            .take(copies + 2)
            .enumerate()
        {
            let held = self.slots[s as usize]
                .node
                .as_deref()
                .is_some_and(|n| holds_registration(n, reg, now));
            any |= held;
            full += usize::from(held && k < copies);
        }
        Some((full, any))
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

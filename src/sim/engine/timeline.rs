//! The engine's side of scheduled events (`[[events]]`, see [`crate::sim::timeline`]):
//! choosing the slots, crashing, leaving, bouncing, flash crowds, partitions, holds and
//! loss or latency changes.

use std::collections::BTreeMap;

use super::{Ev, Sim};
use crate::proto::peer::Peer;
use crate::sim::queue::EventQueue;
use crate::sim::recovery::{COPIES, Observation, PROBE_INTERVAL, Recovery, Tracker};
use crate::sim::rng::{Seeds, SimRng, purpose};
use crate::sim::timeline::{Action, Degradation, EventRecord, Split, Targets};
use crate::time::{Duration, Time};

/// What becomes of a slot once its node is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum After {
    /// What the churn model says (a down time, or never back).
    Churn,
    /// Never back (crashed or left by an event).
    Never,
    /// Back at this time with the same Node-ID (bounced).
    Restart(Time),
}

/// A datagram (or link close, `bytes: None`) kept by a hold.
pub(super) struct Held {
    pub from: u32,
    pub to: u32,
    pub inc: u32,
    pub bytes: Option<Vec<u8>>,
}

/// Scheduled-event state of a run.
pub(super) struct Faults {
    rng: SimRng,
    /// Next free flash-crowd slot.
    next_flash: u32,
    /// Slots whose removal an event decided, until the removal.
    after: BTreeMap<u32, After>,
    /// Slots restarted by a bounce, with the node life whose Node-ID they keep.
    identity: BTreeMap<u32, u32>,
    /// Traffic kept by a hold, in send order.
    pub held: Vec<Held>,
    /// Events that happened.
    pub records: Vec<EventRecord>,
    /// Their recoveries, one per record.
    trackers: Vec<Tracker>,
    /// A probe is queued.
    probing: bool,
    /// The last two samples' (time, bytes sent so far), for the pre-event byte rate.
    samples: [(Time, u64); 2],
}

impl Faults {
    pub(super) fn new(seeds: &Seeds, first_flash_slot: u32) -> Faults {
        Faults {
            rng: seeds.stream(purpose::EVENTS),
            next_flash: first_flash_slot,
            after: BTreeMap::new(),
            identity: BTreeMap::new(),
            held: Vec::new(),
            records: Vec::new(),
            trackers: Vec::new(),
            probing: false,
            samples: [(Time::ZERO, 0); 2],
        }
    }

    /// A sample was taken at `now`, the run having sent `bytes` so far.
    pub(super) fn sampled(&mut self, now: Time, bytes: u64) {
        self.samples = [self.samples[1], (now, bytes)];
    }

    /// Bytes per second over the last sample interval, if one has passed.
    fn baseline(&self) -> Option<f64> {
        let [(t0, b0), (t1, b1)] = self.samples;
        (t1 > t0).then(|| (b1 - b0) as f64 / t1.saturating_since(t0).as_secs_f64())
    }

    /// A lookup issued at `issued` finished: it counts for every event tracked then.
    pub(super) fn lookup_done(&mut self, issued: Time, ok: bool, correct: bool) {
        for (k, r) in self.trackers.iter().zip(self.records.iter_mut()) {
            if k.covers(issued) {
                let r = &mut r.recovery;
                r.lookups += 1;
                r.lookups_failed += u64::from(!ok);
                r.lookups_wrong += u64::from(ok && !correct);
            }
        }
    }

    /// The node life whose Node-ID slot `i`'s next node takes, if it was bounced.
    pub(super) fn identity_of(&self, i: u32) -> Option<u32> {
        self.identity.get(&i).copied()
    }

    /// What follows the removal of slot `i`'s node; forgets a kept Node-ID unless the
    /// node restarts.
    pub(super) fn after_removal(&mut self, i: u32) -> After {
        let after = self.after.remove(&i).unwrap_or(After::Churn);
        if !matches!(after, After::Restart(_)) {
            self.identity.remove(&i);
        }
        after
    }
}

impl<P: Peer> Sim<P> {
    /// Queues every event of the configuration due before the end.
    pub(super) fn schedule_timeline(&mut self) {
        for (k, e) in self.cfg.events.iter().enumerate() {
            if e.at <= self.end {
                self.queue.push(e.at, Ev::Timeline(k as u32));
            }
        }
    }

    /// Live slots an event may choose: peers only unless `slots` are named, bootstrap
    /// peers left out when the event exempts them (never when slots are named).
    fn eligible(&self, targets: &Targets, exempt_bootstrap: bool) -> Vec<u32> {
        let named = matches!(targets, Targets::Slots(_));
        let bootstrap = self.cfg.bootstrap_count;
        (0..self.slots.len() as u32)
            .filter(|&i| {
                let s = &self.slots[i as usize];
                s.node.is_some()
                    && !s.leaving
                    && (named || i < self.cfg.peers)
                    && (named || !exempt_bootstrap || i >= bootstrap)
            })
            .collect()
    }

    fn choose(&mut self, targets: &Targets, eligible: &[u32]) -> Vec<u32> {
        let latency = self.network.latency();
        targets.choose(eligible, |s| latency.position(s), &mut self.faults.rng)
    }

    /// Each slot's group: group `k + 1` is the `k`-th set (drawn from the slots no earlier
    /// set took), group 0 the rest.
    fn groups(&mut self, groups: &[Targets]) -> Split {
        let n = self.slots.len() as u32;
        let mut group = vec![0u8; n as usize];
        for (k, g) in groups.iter().enumerate() {
            let free: Vec<u32> = (0..n).filter(|&i| group[i as usize] == 0).collect();
            for s in self.choose(g, &free) {
                group[s as usize] = (k + 1) as u8;
            }
        }
        Split { group, hold: false }
    }

    /// The overlay as a tracker sees it; `users`: the registrations at risk to count.
    fn observation(&self, ring: (Option<f64>, usize), users: Option<&[u32]>) -> Observation {
        let records = users.map(|users| {
            let (mut at_risk, mut lost, mut full) = (0, 0, true);
            for &j in users {
                if let Some((copies, any)) = self.registration_copies(j, COPIES) {
                    at_risk += 1;
                    if !any {
                        lost += 1;
                    } else if copies < COPIES {
                        full = false;
                    }
                }
            }
            (at_risk, lost, full)
        });
        Observation {
            ring: ring.0,
            rings: ring.1,
            bytes: self.metrics.total.bytes,
            records,
        }
    }

    /// Ring correctness and the number of rings, now.
    fn ring_now(&self) -> (Option<f64>, usize) {
        (
            self.oracle
                .ring_correct_fraction(|s| self.first_successor(s)),
            self.oracle.rings(|s| self.first_successor(s)),
        )
    }

    /// Probes every event still recovering; queues the next probe while one is and none
    /// is queued. `queued`: this is the queued probe.
    pub(super) fn probe(&mut self, queued: bool) {
        if queued {
            self.faults.probing = false;
        }
        if self.observe_recoveries(false) && !self.faults.probing {
            self.faults.probing = true;
            self.queue.push(self.now + PROBE_INTERVAL, Ev::Probe);
        }
    }

    /// Ends the tracking of every event still recovering at the end of the run.
    pub(super) fn end_recoveries(&mut self) {
        if self.faults.trackers.iter().any(|k| k.closed.is_none()) {
            self.observe_recoveries(true);
        }
    }

    /// Shows the overlay as it is now to every event still recovering; at the `last`
    /// probe (the end of the run) those still open end unrecovered. Returns whether any
    /// is still open.
    fn observe_recoveries(&mut self, last: bool) -> bool {
        let now = self.now;
        let ring = self.ring_now();
        let mut open = false;
        for i in 0..self.faults.trackers.len() {
            if self.faults.trackers[i].closed.is_some() {
                continue;
            }
            let o = self.observation(ring, self.faults.trackers[i].users.as_deref());
            let f = &mut self.faults;
            let (tracker, record) = (&mut f.trackers[i], &mut f.records[i].recovery);
            if !tracker.observe(now, &o, record) {
                if last {
                    tracker.end(now, &o, record, false);
                }
                open = true;
            }
        }
        open
    }

    /// Carries out timeline event `k`, and starts tracking the overlay's recovery.
    pub(super) fn apply_event(&mut self, k: u32) {
        let e = self.cfg.events[k as usize].clone();
        let removes = matches!(
            e.action,
            Action::Crash(_) | Action::Leave(_) | Action::Bounce { .. }
        );
        let users = (removes && self.cfg.sip.enabled).then(|| self.held_registrations());
        let before = self.observation(self.ring_now(), None);
        let baseline = self.faults.baseline();
        let targets = match &e.action {
            Action::Crash(t) | Action::Leave(t) | Action::Bounce { targets: t, .. } => {
                let eligible = self.eligible(t, e.exempt_bootstrap);
                let chosen = self.choose(t, &eligible);
                for &i in &chosen {
                    match &e.action {
                        Action::Crash(_) => {
                            self.faults.after.insert(i, After::Never);
                            self.crash(i);
                        }
                        Action::Leave(_) => {
                            self.faults.after.insert(i, After::Never);
                            self.start_leave(i);
                        }
                        Action::Bounce { down, .. } => {
                            let slot = &self.slots[i as usize];
                            let life = self.faults.identity_of(i).unwrap_or(slot.incarnation);
                            self.faults.identity.insert(i, life);
                            self.faults
                                .after
                                .insert(i, After::Restart(self.now + *down));
                            self.crash(i);
                        }
                        _ => unreachable!("matched above"),
                    }
                }
                chosen.len() as u64
            }
            Action::Join { count, window } => {
                let last = self.cfg.peers;
                let first = self.faults.next_flash;
                let count = (*count).min(last.saturating_sub(first));
                for j in 0..count {
                    let at = self.now
                        + Duration(
                            (u128::from(window.0) * u128::from(j) / u128::from(count)) as u64,
                        );
                    self.queue.push(at, Ev::Arrive(first + j));
                }
                self.faults.next_flash = first + count;
                u64::from(count)
            }
            Action::Partition { groups } | Action::Hold { groups } => {
                self.network.set_split(None);
                self.release_held();
                let mut split = self.groups(groups);
                split.hold = matches!(e.action, Action::Hold { .. });
                let moved = split.group.iter().filter(|g| **g != 0).count() as u64;
                self.network.set_split(Some(split));
                moved
            }
            Action::Repair | Action::Release => {
                self.network.set_split(None);
                self.release_held()
            }
            Action::Degrade {
                targets,
                loss,
                factor,
                extra,
                until,
            } => {
                let n = self.slots.len();
                let (mask, count) = if *targets == Targets::All {
                    (None, n as u64)
                } else {
                    let all: Vec<u32> = (0..n as u32).collect();
                    let chosen = self.choose(targets, &all);
                    let mut mask = vec![false; n];
                    for &s in &chosen {
                        mask[s as usize] = true;
                    }
                    (Some(mask), chosen.len() as u64)
                };
                self.network.degrade(Degradation {
                    event: k,
                    targets: mask,
                    loss: *loss,
                    factor: *factor,
                    extra_ns: extra.0,
                });
                if let Some(until) = until {
                    self.queue.push((*until).max(self.now), Ev::Restore(k));
                }
                count
            }
        };
        if matches!(e.action, Action::Repair | Action::Release) {
            for t in &mut self.faults.trackers {
                t.split_open = false;
            }
        }
        let mut recovery = Recovery::default();
        let split = matches!(e.action, Action::Partition { .. } | Action::Hold { .. });
        let tracker = Tracker::start(self.now, &before, baseline, users, split, &mut recovery);
        self.faults.records.push(EventRecord {
            index: k,
            at: self.now,
            action: e.action.verb(),
            label: e.label.clone(),
            targets,
            recovery,
        });
        self.faults.trackers.push(tracker);
        self.probe(false);
    }

    /// Sends on what a hold kept, in the order it was sent, through the network as it is
    /// now (loss and latency drawn at the release). Returns how many.
    fn release_held(&mut self) -> u64 {
        let held = std::mem::take(&mut self.faults.held);
        let count = held.len() as u64;
        for h in held {
            // To the incarnation it was sent to: a node restarted since does not get its
            // predecessor's datagrams.
            self.send(h.from, h.to, h.inc, h.bytes);
        }
        count
    }
}

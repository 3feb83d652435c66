//! Scheduled events of a run (`[[events]]`): mass failures, flash crowds, partitions and
//! their repair, held traffic, and loss or latency changed for a time. The verbs are
//! turmoil's where one fits (crash, bounce, partition, repair, hold, release).
//!
//! Which slots an event touches is drawn from the run's own events stream, so adding an
//! event never changes the network's, the churn's or the workload's draws before it.

use std::ops::Range;

use rand::RngExt;

use crate::sim::recovery::Recovery;
use crate::sim::rng::SimRng;
use crate::time::{Duration, Time};

/// A set of node slots an event applies to.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// Every eligible slot.
    All,
    /// This fraction (0..=1) of the eligible slots, rounded to the nearest count, drawn
    /// uniformly.
    Fraction(f64),
    /// This many eligible slots (all of them if fewer), drawn uniformly.
    Count(u32),
    /// The eligible slots in these half-open ranges.
    Slots(Vec<Range<u32>>),
    /// The eligible slots whose coordinates (latency model `coordinates`) lie in
    /// `[x0, x1] × [y0, y1]` of the unit square.
    Region {
        /// Left and right edges.
        x: (f64, f64),
        /// Bottom and top edges.
        y: (f64, f64),
    },
}

impl Targets {
    /// The members of `eligible` (slots in increasing order) this set names; `place` gives
    /// a slot's coordinates. Random sets draw from `rng`; the result is in slot order.
    pub fn choose(
        &self,
        eligible: &[u32],
        place: impl Fn(u32) -> Option<(f64, f64)>,
        rng: &mut SimRng,
    ) -> Vec<u32> {
        match self {
            Targets::All => eligible.to_vec(),
            Targets::Fraction(f) => {
                let n = (f.clamp(0.0, 1.0) * eligible.len() as f64).round() as usize;
                sample(eligible, n, rng)
            }
            Targets::Count(n) => sample(eligible, *n as usize, rng),
            Targets::Slots(ranges) => eligible
                .iter()
                .copied()
                .filter(|s| ranges.iter().any(|r| r.contains(s)))
                .collect(),
            Targets::Region { x, y } => eligible
                .iter()
                .copied()
                .filter(|&s| {
                    place(s).is_some_and(|(px, py)| {
                        (x.0..=x.1).contains(&px) && (y.0..=y.1).contains(&py)
                    })
                })
                .collect(),
        }
    }
}

/// `n` members of `from` drawn uniformly without replacement (a partial Fisher–Yates
/// shuffle), returned in slot order.
fn sample(from: &[u32], n: usize, rng: &mut SimRng) -> Vec<u32> {
    let n = n.min(from.len());
    let mut pool = from.to_vec();
    for k in 0..n {
        let j = rng.random_range(k..pool.len());
        pool.swap(k, j);
    }
    pool.truncate(n);
    pool.sort_unstable();
    pool
}

/// What an event does.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// The targets stop at once, sending nothing (a mass failure). They do not return.
    Crash(Targets),
    /// The targets leave gracefully (RFC 6940 §5.4.2 Leave). They do not return.
    Leave(Targets),
    /// The targets crash and restart after `down` with the same Node-ID and address (a
    /// reboot); state is lost.
    Bounce {
        /// Which peers.
        targets: Targets,
        /// Time between the crash and the restart.
        down: Duration,
    },
    /// A flash crowd: `count` new peers arrive, evenly spread over `window`, in peer slots
    /// kept free for them.
    Join {
        /// New peers.
        count: u32,
        /// Span over which they arrive.
        window: Duration,
    },
    /// Datagrams between different groups are dropped until [`Action::Repair`]. Group `k`
    /// is `groups[k]`; the slots in none of them form one more group.
    Partition {
        /// The groups, each a set over every slot.
        groups: Vec<Targets>,
    },
    /// Ends the partition.
    Repair,
    /// Datagrams between different groups are held, not dropped, until
    /// [`Action::Release`], which sends them on in the order they were sent.
    Hold {
        /// The groups, as for a partition.
        groups: Vec<Targets>,
    },
    /// Ends a hold and sends the held datagrams on.
    Release,
    /// Datagrams from or to the targets see more loss and latency until `until`.
    Degrade {
        /// Whose datagrams.
        targets: Targets,
        /// Extra loss probability per datagram, 0..=1, on top of the network's.
        loss: f64,
        /// Latency multiplier (1: unchanged).
        factor: f64,
        /// Latency added after the multiplier.
        extra: Duration,
        /// When the change ends (`None`: at the end of the run).
        until: Option<Time>,
    },
}

impl Action {
    /// The verb, as a scenario file names it.
    pub fn verb(&self) -> &'static str {
        match self {
            Action::Crash(_) => "crash",
            Action::Leave(_) => "leave",
            Action::Bounce { .. } => "bounce",
            Action::Join { .. } => "join",
            Action::Partition { .. } => "partition",
            Action::Repair => "repair",
            Action::Hold { .. } => "hold",
            Action::Release => "release",
            Action::Degrade { loss, .. } if *loss > 0.0 => "loss",
            Action::Degrade { .. } => "latency",
        }
    }
}

/// One scheduled event.
#[derive(Clone, Debug, PartialEq)]
pub struct TimedEvent {
    /// When it happens.
    pub at: Time,
    /// What it does.
    pub action: Action,
    /// Bootstrap peers are never chosen by a fraction, count, region or `All` (explicit
    /// slot ranges always apply).
    pub exempt_bootstrap: bool,
    /// A name for reports (`events.csv`); the verb when the scenario gives none.
    pub label: String,
}

/// One scheduled event as it happened.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRecord {
    /// Position in the scenario's `[[events]]` list.
    pub index: u32,
    /// When it happened.
    pub at: Time,
    /// The verb (`crash`, `partition`, ...).
    pub action: &'static str,
    /// The scenario's label, or the verb.
    pub label: String,
    /// Slots it touched: nodes crashed, left, bounced or added; slots outside group 0 of a
    /// partition or hold; slots whose traffic a loss or latency change affects (all: every
    /// slot); datagrams sent on by a release; 0 for a repair.
    pub targets: u64,
    /// How the overlay recovered from it.
    pub recovery: Recovery,
}

/// A partition or hold in force: each slot's group.
#[derive(Clone, Debug, Default)]
pub struct Split {
    /// Group of each slot (0: the slots named by no group).
    pub group: Vec<u8>,
    /// Hold (datagrams kept) rather than partition (datagrams dropped).
    pub hold: bool,
}

impl Split {
    /// True when a datagram from slot `a` to slot `b` crosses the split.
    pub fn separates(&self, a: u32, b: u32) -> bool {
        self.group.get(a as usize) != self.group.get(b as usize)
    }
}

/// A loss or latency change in force.
#[derive(Clone, Debug)]
pub struct Degradation {
    /// Index of the event that made it.
    pub event: u32,
    /// Whose datagrams (`None`: everyone's), indexed by slot.
    pub targets: Option<Vec<bool>>,
    /// Extra loss probability.
    pub loss: f64,
    /// Latency multiplier.
    pub factor: f64,
    /// Latency added, ns.
    pub extra_ns: u64,
}

impl Degradation {
    /// True when the datagram from `a` to `b` is affected.
    pub fn applies(&self, a: u32, b: u32) -> bool {
        self.targets.as_ref().is_none_or(|t| {
            t.get(a as usize).copied().unwrap_or(false)
                || t.get(b as usize).copied().unwrap_or(false)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Seeds, purpose};

    #[test]
    fn random_sets_are_uniform_deterministic_and_in_slot_order() {
        let eligible: Vec<u32> = (1..101).collect();
        let mut a = Seeds::new(3).stream(purpose::EVENTS);
        let mut b = Seeds::new(3).stream(purpose::EVENTS);
        let x = Targets::Fraction(0.25).choose(&eligible, |_| None, &mut a);
        let y = Targets::Fraction(0.25).choose(&eligible, |_| None, &mut b);
        assert_eq!(x, y);
        assert_eq!(x.len(), 25);
        assert!(x.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            Targets::Count(500)
                .choose(&eligible, |_| None, &mut a)
                .len(),
            100
        );
        // Each slot is chosen about a quarter of the time.
        let mut hits = vec![0u32; 101];
        for _ in 0..4000 {
            for s in Targets::Fraction(0.25).choose(&eligible, |_| None, &mut a) {
                hits[s as usize] += 1;
            }
        }
        assert!(
            hits[1..].iter().all(|&h| (800..1200).contains(&h)),
            "{hits:?}"
        );
    }

    #[test]
    fn slot_ranges_and_regions_pick_what_they_name() {
        let eligible: Vec<u32> = (0..10).collect();
        let mut r = Seeds::new(1).stream(purpose::EVENTS);
        let s = Targets::Slots(vec![2..4, 8..20]).choose(&eligible, |_| None, &mut r);
        assert_eq!(s, vec![2, 3, 8, 9]);
        let place = |s: u32| Some((f64::from(s) / 10.0, 0.5));
        let region = Targets::Region {
            x: (0.0, 0.35),
            y: (0.0, 1.0),
        };
        assert_eq!(region.choose(&eligible, place, &mut r), vec![0, 1, 2, 3]);
        assert!(region.choose(&eligible, |_| None, &mut r).is_empty());
    }

    #[test]
    fn a_split_separates_groups_and_a_degradation_its_targets() {
        let s = Split {
            group: vec![0, 0, 1, 1, 2],
            hold: false,
        };
        assert!(!s.separates(0, 1) && s.separates(1, 2) && s.separates(3, 4));
        let d = Degradation {
            event: 0,
            targets: Some(vec![false, true, false]),
            loss: 0.5,
            factor: 1.0,
            extra_ns: 0,
        };
        assert!(d.applies(1, 0) && d.applies(2, 1) && !d.applies(0, 2));
    }
}

//! The simulated underlay between peers: one-way latency and loss per datagram.
//! Every draw comes from the run's network stream, in event order.

pub mod latency;
pub mod loss;
pub mod topology;

pub use latency::{LatencyModel, LatencySpec};
pub use loss::{GilbertElliott, Loss, PathStates};
pub use topology::{RouterGraph, Topology, TopologyError};

use rand::RngExt;

use crate::sim::rng::SimRng;
use crate::sim::timeline::{Degradation, Split};
use crate::time::Duration;

/// What becomes of one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transit {
    /// It arrives after this one-way time.
    Arrives(Duration),
    /// The loss model (or a loss change in force) dropped it.
    Lost,
    /// A partition dropped it.
    Partitioned,
    /// A hold keeps it until the release.
    Held,
}

/// Latency plus loss, with the network stream, and the scheduled faults in force.
pub struct Network {
    latency: LatencyModel,
    loss: Loss,
    paths: PathStates,
    rng: SimRng,
    split: Option<Split>,
    degraded: Vec<Degradation>,
}

impl Network {
    /// The underlay of a run with `slots` node slots.
    pub fn new(latency: LatencyModel, loss: Loss, rng: SimRng) -> Network {
        Network {
            latency,
            loss,
            paths: PathStates::default(),
            rng,
            split: None,
            degraded: Vec::new(),
        }
    }

    /// What becomes of a datagram from slot `from` to slot `to`. A datagram across a
    /// partition or hold draws nothing; without loss or latency changes in force the draws
    /// are the loss model's, then the latency model's.
    pub fn transit(&mut self, from: u32, to: u32) -> Transit {
        if let Some(s) = &self.split
            && s.separates(from, to)
        {
            return if s.hold {
                Transit::Held
            } else {
                Transit::Partitioned
            };
        }
        if self.loss.drops(&mut self.paths, from, to, &mut self.rng) {
            return Transit::Lost;
        }
        let mut d = self.latency.sample(from, to, &mut self.rng);
        for g in &self.degraded {
            if !g.applies(from, to) {
                continue;
            }
            if g.loss >= 1.0 || (g.loss > 0.0 && self.rng.random_bool(g.loss)) {
                return Transit::Lost;
            }
            let scaled = (d.0 as f64 * g.factor).round();
            d = Duration((scaled.min(u64::MAX as f64 / 2.0) as u64).saturating_add(g.extra_ns));
        }
        Transit::Arrives(d)
    }

    /// Puts a partition or hold in force (replacing any other), or ends it (`None`).
    pub fn set_split(&mut self, split: Option<Split>) {
        self.split = split;
    }

    /// The partition or hold in force.
    pub fn split(&self) -> Option<&Split> {
        self.split.as_ref()
    }

    /// Puts a loss or latency change in force.
    pub fn degrade(&mut self, d: Degradation) {
        self.degraded.push(d);
    }

    /// Ends the changes event `event` made.
    pub fn restore(&mut self, event: u32) {
        self.degraded.retain(|d| d.event != event);
    }

    /// Heap bytes of the per-path loss states.
    pub fn heap_bytes(&self) -> usize {
        self.latency.heap_bytes() + self.paths.bad_paths() * 2 * std::mem::size_of::<u64>()
    }

    /// The latency model.
    pub fn latency(&self) -> &LatencyModel {
        &self.latency
    }
}

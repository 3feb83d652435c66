//! The simulated underlay between peers: one-way latency and loss per datagram.
//! Every draw comes from the run's network stream, in event order.

pub mod latency;
pub mod loss;

pub use latency::{LatencyModel, LatencySpec};
pub use loss::Loss;

use crate::sim::rng::SimRng;
use crate::time::Duration;

/// Latency plus loss, with the network stream.
pub struct Network {
    latency: LatencyModel,
    loss: Loss,
    rng: SimRng,
}

impl Network {
    /// The underlay of a run with `slots` node slots.
    pub fn new(latency: LatencyModel, loss: Loss, rng: SimRng) -> Network {
        Network { latency, loss, rng }
    }

    /// The one-way transit time of a datagram from slot `from` to slot `to`, or `None`
    /// when it is lost.
    pub fn transit(&mut self, from: u32, to: u32) -> Option<Duration> {
        if self.loss.drops(&mut self.rng) {
            return None;
        }
        Some(self.latency.sample(from, to, &mut self.rng))
    }

    /// The latency model.
    pub fn latency(&self) -> &LatencyModel {
        &self.latency
    }
}

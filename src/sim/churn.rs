//! Churn: how long peers stay, how they go, and how long they stay away. An enum so richer
//! models (Weibull or Pareto sessions, trace-driven churn) slot in as new variants.

use rand::RngExt;

use crate::sim::rng::{SimRng, exponential_ns};
use crate::time::Duration;

/// How a session ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Silent removal: the node stops, nothing is sent.
    Crash,
    /// Graceful departure: `Node::leave`, then removal on `Event::Left` (or a cap).
    Leave,
}

/// A churn model. All draws come from the run's churn stream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ChurnModel {
    /// Peers never leave.
    None,
    /// Exponential session and down times.
    Exponential {
        /// Mean session length, s.
        mean_session_s: f64,
        /// Mean down time before the peer returns, s; `None`: churned-out peers never return.
        mean_down_s: Option<f64>,
        /// Fraction of departures that are crashes (the rest leave gracefully), 0.0..=1.0.
        crash_fraction: f64,
    },
}

impl ChurnModel {
    /// True unless this is [`ChurnModel::None`].
    pub fn enabled(&self) -> bool {
        !matches!(self, ChurnModel::None)
    }

    /// Length of a session starting now, or `None` if it never ends.
    pub fn session(&self, rng: &mut SimRng) -> Option<Duration> {
        match *self {
            ChurnModel::None => None,
            ChurnModel::Exponential { mean_session_s, .. } => {
                Some(Duration(exponential_ns(rng, mean_session_s)))
            }
        }
    }

    /// How the ending session ends.
    pub fn fate(&self, rng: &mut SimRng) -> Fate {
        match *self {
            ChurnModel::None => Fate::Leave,
            ChurnModel::Exponential { crash_fraction, .. } => {
                if crash_fraction >= 1.0
                    || (crash_fraction > 0.0 && rng.random_bool(crash_fraction))
                {
                    Fate::Crash
                } else {
                    Fate::Leave
                }
            }
        }
    }

    /// How long a departed peer stays away, or `None` if it never returns.
    pub fn down_time(&self, rng: &mut SimRng) -> Option<Duration> {
        match *self {
            ChurnModel::None => None,
            ChurnModel::Exponential { mean_down_s, .. } => {
                mean_down_s.map(|m| Duration(exponential_ns(rng, m)))
            }
        }
    }
}

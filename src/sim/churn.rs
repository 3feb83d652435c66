//! Churn: how long peers stay, how they go, and how long they stay away: drawn from
//! [`Lifetime`] distributions, or replayed from a [`ChurnTrace`].

pub mod lifetime;
pub mod trace;

use std::sync::Arc;

use rand::RngExt;

pub use lifetime::Lifetime;
pub use trace::{Change, ChurnTrace};

use crate::sim::rng::SimRng;
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
#[derive(Clone, Debug, PartialEq)]
pub enum ChurnModel {
    /// Peers never leave.
    None,
    /// Session and down times drawn from distributions.
    Drawn {
        /// Session length.
        session: Lifetime,
        /// Down time before the peer returns; `None`: churned-out peers never return.
        down: Option<Lifetime>,
        /// Fraction of departures that are crashes (the rest leave gracefully), 0.0..=1.0.
        crash_fraction: f64,
    },
    /// Joins, leaves and crashes replayed from a trace; nothing is drawn.
    Trace(Arc<ChurnTrace>),
}

impl ChurnModel {
    /// True unless this is [`ChurnModel::None`].
    pub fn enabled(&self) -> bool {
        !matches!(self, ChurnModel::None)
    }

    /// The replayed trace, if this is one.
    pub fn trace(&self) -> Option<&ChurnTrace> {
        match self {
            ChurnModel::Trace(t) => Some(t),
            _ => None,
        }
    }

    /// Length of a session starting now, or `None` if it never ends (or a trace ends it).
    pub fn session(&self, rng: &mut SimRng) -> Option<Duration> {
        match self {
            ChurnModel::Drawn { session, .. } => Some(session.sample(rng)),
            ChurnModel::None | ChurnModel::Trace(_) => None,
        }
    }

    /// How the ending session ends.
    pub fn fate(&self, rng: &mut SimRng) -> Fate {
        match *self {
            ChurnModel::Drawn { crash_fraction, .. } => {
                if crash_fraction >= 1.0
                    || (crash_fraction > 0.0 && rng.random_bool(crash_fraction))
                {
                    Fate::Crash
                } else {
                    Fate::Leave
                }
            }
            ChurnModel::None | ChurnModel::Trace(_) => Fate::Leave,
        }
    }

    /// How long a departed peer stays away, or `None` if it never returns (by itself: a
    /// trace brings it back with a join row).
    pub fn down_time(&self, rng: &mut SimRng) -> Option<Duration> {
        match self {
            ChurnModel::Drawn { down, .. } => down.map(|d| d.sample(rng)),
            ChurnModel::None | ChurnModel::Trace(_) => None,
        }
    }
}

//! The lookup workload: every joined peer issues lookups (routed Pings to a Resource-ID) as a
//! Poisson process of a given rate, to keys drawn uniformly from the ring.

use rand::RngExt;

use crate::proto::id::{NodeId, ResourceId};
use crate::sim::rng::{SimRng, exponential_ns};
use crate::time::{Duration, Time};

/// Lookup workload parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Workload {
    /// Lookups per joined peer per second; 0 disables the workload.
    pub lookup_rate_per_peer_per_s: f64,
    /// No lookup is issued before this time.
    pub start: Time,
}

impl Workload {
    /// No lookups.
    pub const NONE: Workload = Workload {
        lookup_rate_per_peer_per_s: 0.0,
        start: Time::ZERO,
    };

    /// True when peers issue lookups.
    pub fn enabled(&self) -> bool {
        self.lookup_rate_per_peer_per_s > 0.0
    }

    /// The gap before a peer's next lookup (exponential, mean 1/rate).
    pub fn next_gap(&self, rng: &mut SimRng) -> Duration {
        Duration(exponential_ns(rng, 1.0 / self.lookup_rate_per_peer_per_s).max(1))
    }

    /// When a peer that became ready at `now` issues its first lookup.
    pub fn first_at(&self, now: Time, rng: &mut SimRng) -> Time {
        now.max(self.start) + self.next_gap(rng)
    }

    /// A key uniform on the ring.
    pub fn key(rng: &mut SimRng) -> ResourceId {
        ResourceId::from_ring(NodeId(rng.random::<u128>()))
    }
}

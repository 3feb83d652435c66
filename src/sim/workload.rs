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

/// The SIP workload: users register their AoR once their peer has joined, and calls
/// between random users arrive as one Poisson process over the whole overlay.
///
/// User `i` is `node{i}@{overlay}`, the user name of slot `i`'s certificate, so only the
/// peer in slot `i` may register it. Whether a user registers at all is drawn once per slot
/// (stream `sip-users`); callers and callees come from stream `calls`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SipWorkload {
    /// Turns registrations and calls on.
    pub enabled: bool,
    /// Users (AoRs `user<j>@<overlay>`); user `j` lives on slot `j mod slots`. 0: one per
    /// slot.
    pub users: u32,
    /// Fraction of users that register when their node has joined or connected.
    pub registered_fraction: f64,
    /// Lifetime of a registration, s; the peer refreshes it at 80 %.
    pub registration_lifetime_s: u32,
    /// No registration before this time.
    pub register_start: Time,
    /// Calls per second over the whole overlay; 0: no calls.
    pub call_rate_per_s: f64,
    /// No call before this time.
    pub call_start: Time,
    /// Share of calls aimed at AoRs nobody registers (`nobody{k}@{overlay}`).
    pub unregistered_call_fraction: f64,
}

impl SipWorkload {
    /// No SIP workload.
    pub const NONE: SipWorkload = SipWorkload {
        enabled: false,
        users: 0,
        registered_fraction: 0.9,
        registration_lifetime_s: 3600,
        register_start: Time::ZERO,
        call_rate_per_s: 0.0,
        call_start: Time::ZERO,
        unregistered_call_fraction: 0.05,
    };

    /// True when calls are placed.
    pub fn calls_enabled(&self) -> bool {
        self.enabled && self.call_rate_per_s > 0.0
    }

    /// The gap before the next call (exponential, mean 1/rate).
    pub fn next_gap(&self, rng: &mut SimRng) -> Duration {
        Duration(exponential_ns(rng, 1.0 / self.call_rate_per_s).max(1))
    }
}

//! The typed configuration of one run, in engine units (nanoseconds, counts). Scenario
//! files (`crate::scenario`) are one way to build it; tests build it directly.

use std::sync::Arc;

use crate::proto::config::OverlayConfig;
use crate::sim::churn::ChurnModel;
use crate::sim::network::{LatencySpec, Loss, Topology};
use crate::sim::timeline::TimedEvent;
use crate::sim::workload::{SipWorkload, Workload};
use crate::time::{Duration, Time};

/// How the initial peers arrive. Node 0 always arrives at time 0 and starts the overlay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Arrival {
    /// Everyone at time 0, in slot order.
    All,
    /// Evenly spread: node `i` arrives at `window × i / count`.
    Staggered {
        /// Span over which peers arrive.
        window: Duration,
    },
    /// A Poisson process: exponential gaps of mean `1 / rate_per_s` seconds.
    Poisson {
        /// Arrivals per second.
        rate_per_s: f64,
    },
    /// Every peer at time 0, already joined: its tables and links are built from the true
    /// ring first (see [`crate::sim::prebuilt`]).
    Prebuilt,
}

/// Everything a run needs.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Master seed of every random stream.
    pub seed: u64,
    /// Simulated time to run.
    pub duration: Duration,
    /// Period of time-series samples.
    pub sample_interval: Duration,
    /// Node slots of peers; slots `peers..peers + clients` are clients.
    pub peers: u32,
    /// The last `flash_slots` peer slots arrive only by `join` events (flash crowds); the
    /// initial peers are the `peers - flash_slots` before them.
    pub flash_slots: u32,
    /// Clients (RFC 6940 §4.2): arrive after the peers, connect through the peer
    /// responsible for their Node-ID, never join.
    pub clients: u32,
    /// Arrival pattern of the initial peers.
    pub arrival: Arrival,
    /// Nodes `0..bootstrap_count` are the bootstrap peers every joiner is given.
    pub bootstrap_count: u32,
    /// The overlay parameters every node shares.
    pub overlay: Arc<OverlayConfig>,
    /// Latency model.
    pub latency: LatencySpec,
    /// The router graph of [`LatencySpec::Routers`] (without one, every node shares one
    /// router: only access delays and jitter remain).
    pub topology: Option<Arc<Topology>>,
    /// Loss model.
    pub loss: Loss,
    /// Churn model.
    pub churn: ChurnModel,
    /// Sessions of peers present earlier start counting at this time.
    pub churn_start: Time,
    /// Bootstrap peers never churn.
    pub churn_exempt_bootstrap: bool,
    /// Lookup workload.
    pub workload: Workload,
    /// SIP registrations and calls.
    pub sip: SipWorkload,
    /// Longest a graceful leave may take before the node is removed anyway.
    pub leave_cap: Duration,
    /// Scheduled events, in time order (ties in list order).
    pub events: Vec<TimedEvent>,
}

impl SimConfig {
    /// `peers` peers arriving at once on a 50 ms constant-latency lossless network, no churn,
    /// no workload, RFC-default overlay parameters, 60 s run sampled every second.
    pub fn new(peers: u32, seed: u64) -> SimConfig {
        SimConfig {
            seed,
            duration: Duration::from_secs(60),
            sample_interval: Duration::from_secs(1),
            peers,
            flash_slots: 0,
            clients: 0,
            arrival: Arrival::All,
            bootstrap_count: 1,
            overlay: Arc::new(OverlayConfig::new("reload-sim.example")),
            latency: LatencySpec::Constant { latency_ms: 50.0 },
            topology: None,
            loss: Loss::NONE,
            churn: ChurnModel::None,
            churn_start: Time::ZERO,
            churn_exempt_bootstrap: true,
            workload: Workload::NONE,
            sip: SipWorkload::NONE,
            leave_cap: Duration::from_secs(5),
            events: Vec::new(),
        }
    }

    /// Peers present from the start (every peer slot but the flash crowds').
    pub fn initial_peers(&self) -> u32 {
        self.peers - self.flash_slots.min(self.peers)
    }
}

//! The scenario file format: one table per section, every field optional with a documented
//! default, units in the names. Unknown fields are errors.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::events::EventSpec;
use super::expect::Bound;
use super::sweep::SweepSpec;
use super::topology::TopologySpec;
use crate::proto::config::OverlayConfig;
use crate::sim::churn::{ChurnModel, ChurnTrace, Lifetime};
use crate::sim::config::{Arrival, SimConfig};
use crate::sim::network::{GilbertElliott, LatencySpec, Loss};
use crate::sim::rng::secs_to_ns;
use crate::sim::workload::{SipWorkload, Workload};
use crate::time::{Duration, Time};

/// A whole scenario file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// `[scenario]`: name, seed, run length.
    pub scenario: Meta,
    /// `[peers]`: how many and how they arrive.
    pub peers: Peers,
    /// `[overlay]`: the overlay configuration every peer shares.
    pub overlay: Overlay,
    /// `[network]`: latency and loss.
    pub network: Network,
    /// `[churn]`: sessions and departures.
    pub churn: Churn,
    /// `[workload]`: lookups.
    pub workload: WorkloadSection,
    /// `[sip]`: registrations and calls (RFC 7904).
    pub sip: Sip,
    /// `[[events]]`: scheduled failures, flash crowds, partitions and network changes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventSpec>,
    /// `[sweep]`: a grid over fields, for `reload-sim sweep`; `run` ignores it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepSpec>,
    /// `[expect]`: bounds on summary figures, checked after the run.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub expect: BTreeMap<String, Bound>,
    /// The directory of the scenario file: files it names (a churn trace) are relative to
    /// it. Empty for a scenario parsed from text without a file.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// `[scenario]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Meta {
    /// Name; also the results folder. Default `"unnamed"`.
    pub name: String,
    /// Master seed, 0..=2^63 − 1 (the largest TOML integer; `--seed` takes any u64).
    /// Default 1.
    #[serde(deserialize_with = "seed_from_toml")]
    pub seed: u64,
    /// Simulated time, s. Default 60.
    pub duration_s: f64,
    /// Time-series sample period, s. Default 1.
    pub sample_interval_s: f64,
}

impl Default for Meta {
    fn default() -> Self {
        Meta {
            name: "unnamed".into(),
            seed: 1,
            duration_s: 60.0,
            sample_interval_s: 1.0,
        }
    }
}

/// The range of `[scenario] seed` in a file or `--set`, stated in errors.
const SEED_RANGE: &str = "must be in 0..=9223372036854775807 (2^63 − 1, the largest TOML integer; `--seed` takes any u64)";

/// Reads `[scenario] seed`: a TOML integer ≥ 0. `--set` hands an integer too large for
/// TOML over as a string, which gets the same range message.
fn seed_from_toml<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct Seed;
    impl serde::de::Visitor<'_> for Seed {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an integer in 0..=9223372036854775807")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("{v}: {SEED_RANGE}")))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u64, E> {
            match i64::try_from(v) {
                Ok(_) => Ok(v),
                Err(_) => Err(E::custom(format!("{v}: {SEED_RANGE}"))),
            }
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<u64, E> {
            let digits = v.strip_prefix(['-', '+']).unwrap_or(v).replace('_', "");
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                Err(E::custom(format!("{v}: {SEED_RANGE}")))
            } else {
                Err(E::invalid_type(serde::de::Unexpected::Str(v), &self))
            }
        }
    }
    d.deserialize_any(Seed)
}

/// Arrival patterns of `[peers] arrival`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArrivalKind {
    /// Everyone at time 0.
    All,
    /// Evenly spread over `arrival_window_s`.
    Staggered,
    /// Poisson arrivals at `arrival_rate_per_s`.
    Poisson,
    /// A ring built from the true ring before t = 0: every peer joined at t = 0 with its
    /// Neighbor Table, Finger Table and links in place.
    Prebuilt,
}

/// `[peers]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Peers {
    /// Number of peers (node slots), 1..=16,777,215. Default 100.
    pub count: u32,
    /// `"all"`, `"staggered"`, `"poisson"` or `"prebuilt"`. Default `"staggered"`.
    pub arrival: ArrivalKind,
    /// Window of staggered arrivals, s. Default 10.
    pub arrival_window_s: f64,
    /// Rate of Poisson arrivals, peers/s. Default 10.
    pub arrival_rate_per_s: f64,
    /// Peers `0..bootstrap_count` are the bootstrap peers given to every joiner. Default 1.
    pub bootstrap_count: u32,
    /// Clients (RFC 6940 §4.2) besides the peers: they arrive 1 s after the last peer,
    /// 10 ms apart, connect through the peer responsible for their Node-ID and never join.
    /// Their users register and call like the peers'. Default 0.
    pub clients: u32,
}

impl Default for Peers {
    fn default() -> Self {
        Peers {
            count: 100,
            arrival: ArrivalKind::Staggered,
            arrival_window_s: 10.0,
            arrival_rate_per_s: 10.0,
            bootstrap_count: 1,
            clients: 0,
        }
    }
}

/// `[overlay]`: maps onto [`OverlayConfig`]; defaults are `OverlayConfig::new`'s (RFC 6940).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Overlay {
    /// Overlay instance name. Default `"reload-sim.example"`.
    pub name: String,
    /// Successors kept, 1..=4095. Default 3.
    pub successors: u32,
    /// Predecessors kept, 1..=4095. Default 3.
    pub predecessors: u32,
    /// Finger table size, 1..=128. Default 16.
    pub fingers: u32,
    /// `chord-update-interval`, s. Default 600.
    pub chord_update_interval_s: f64,
    /// `chord-ping-interval`, s. Default 3600.
    pub chord_ping_interval_s: f64,
    /// `chord-reactive`. Default true.
    pub chord_reactive: bool,
    /// End-to-end retransmission timer, ms. Default 3000.
    pub reliability_timer_ms: f64,
    /// End-to-end sends of a request. Default 5.
    pub request_sends: u8,
    /// Link retransmission timeout (doubled per retry), ms. Default 500.
    pub link_rto_ms: f64,
    /// Link sends of a frame before the link fails. Default 5.
    pub link_sends: u8,
    /// Frames in flight per link, ≥ 1. Default 64.
    pub link_window: u32,
    /// Initial TTL. Default 100.
    pub initial_ttl: u8,
    /// Largest message accepted, bytes; at least the full Update (see
    /// `OverlayConfig::full_update_len`). Default 5000.
    pub max_message_size: u32,
    /// Connection table bound, ≥ successors + predecessors + fingers. Default 1024.
    pub max_connections: u32,
    /// Answer cache lifetime for duplicate requests, s. Default 15.
    pub duplicate_window_s: f64,
    /// Join attempt timeout, s. Default 60.
    pub join_timeout_s: f64,
}

/// Default overlay name.
pub const DEFAULT_OVERLAY: &str = "reload-sim.example";

impl Default for Overlay {
    fn default() -> Self {
        let c = OverlayConfig::new(DEFAULT_OVERLAY);
        let ms = |d: Duration| d.0 as f64 / 1e6;
        Overlay {
            name: c.overlay_name.clone(),
            successors: c.successors as u32,
            predecessors: c.predecessors as u32,
            fingers: c.fingers as u32,
            chord_update_interval_s: c.chord_update_interval.as_secs_f64(),
            chord_ping_interval_s: c.chord_ping_interval.as_secs_f64(),
            chord_reactive: c.chord_reactive,
            reliability_timer_ms: ms(c.reliability_timer),
            request_sends: c.request_sends,
            link_rto_ms: ms(c.link_rto),
            link_sends: c.link_sends,
            link_window: c.link_window as u32,
            initial_ttl: c.initial_ttl,
            max_message_size: c.max_message_size as u32,
            max_connections: c.max_connections as u32,
            duplicate_window_s: c.duplicate_window.as_secs_f64(),
            join_timeout_s: c.join_timeout.as_secs_f64(),
        }
    }
}

/// Latency models of `[network] latency`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LatencyKind {
    /// `latency_ms` for every datagram.
    Constant,
    /// `latency_ms` + uniform jitter in `[0, jitter_ms)`.
    Uniform,
    /// Random 2-D coordinates: access delays + `latency_ms` × distance + jitter.
    Coordinates,
    /// A router graph (`topology`): access delays + shortest path + jitter.
    Routers,
}

impl LatencyKind {
    /// The name scenario files use.
    pub fn name(self) -> &'static str {
        match self {
            LatencyKind::Constant => "constant",
            LatencyKind::Uniform => "uniform",
            LatencyKind::Coordinates => "coordinates",
            LatencyKind::Routers => "routers",
        }
    }
}

/// `[network]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Network {
    /// `"constant"`, `"uniform"`, `"coordinates"` or `"routers"`. Default `"constant"`.
    pub latency: LatencyKind,
    /// One-way latency (constant, uniform) or delay per unit of distance (coordinates), ms.
    /// Default 50.
    pub latency_ms: f64,
    /// Uniform jitter width (uniform, coordinates, routers), ms. Default 10.
    pub jitter_ms: f64,
    /// Upper bound of the per-node access delay (coordinates, routers), ms. Default 5.
    pub access_ms: f64,
    /// Loss probability per datagram, 0..=1. Default 0.
    pub loss: f64,
    /// Burst loss per path, after `loss`. Default none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gilbert_elliott: Option<GilbertElliott>,
    /// The router graph of `latency = "routers"`. Default none: the transit-stub graph
    /// with its defaults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topology: Option<TopologySpec>,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            latency: LatencyKind::Constant,
            latency_ms: 50.0,
            jitter_ms: 10.0,
            access_ms: 5.0,
            loss: 0.0,
            gilbert_elliott: None,
            topology: None,
        }
    }
}

/// Churn models of `[churn] model`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChurnKind {
    /// Drawn session and down times: exponential with `mean_session_s` and `mean_down_s`
    /// unless `session` or `down` name another distribution.
    Exponential,
    /// Joins, leaves and crashes replayed from the `trace` file.
    Trace,
}

/// A churn trace as loaded by [`Scenario::resolve`].
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    /// The checked rows.
    pub trace: Arc<ChurnTrace>,
    /// SHA-1 (hex) of the file, part of the scenario hash.
    pub sha1: String,
    /// The file as read, copied into results folders.
    pub text: Arc<str>,
}

/// `[churn]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Churn {
    /// Turns churn on. Default false.
    pub enabled: bool,
    /// `"exponential"` (drawn times) or `"trace"`. Default `"exponential"`.
    pub model: ChurnKind,
    /// Mean session length, s. Default 1800.
    pub mean_session_s: f64,
    /// Mean down time before a churned-out peer returns as a new node, s. Default 600.
    pub mean_down_s: f64,
    /// Churned-out peers return after their down time. Default true.
    pub rejoin: bool,
    /// Fraction of departures that are crashes; the rest leave gracefully. Default 0.5.
    pub crash_fraction: f64,
    /// Sessions of peers already present start counting here, s. Default 0.
    pub start_s: f64,
    /// Bootstrap peers never churn. Default true.
    pub exempt_bootstrap: bool,
    /// Session times; replaces the exponential of `mean_session_s`. Default none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<Lifetime>,
    /// Down times; replaces the exponential of `mean_down_s`. Default none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub down: Option<Lifetime>,
    /// The trace file of `model = "trace"`, relative to the scenario file. Default none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    /// The trace, once loaded.
    #[serde(skip)]
    pub replay: Option<Replay>,
}

impl Default for Churn {
    fn default() -> Self {
        Churn {
            enabled: false,
            model: ChurnKind::Exponential,
            mean_session_s: 1800.0,
            mean_down_s: 600.0,
            rejoin: true,
            crash_fraction: 0.5,
            start_s: 0.0,
            exempt_bootstrap: true,
            session: None,
            down: None,
            trace: None,
            replay: None,
        }
    }
}

/// `[workload]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadSection {
    /// Lookups per joined peer per second (Poisson); 0 turns lookups off. Default 0.
    pub lookup_rate_per_peer_per_s: f64,
    /// No lookup before this time, s. Default 0.
    pub start_s: f64,
}

impl Default for WorkloadSection {
    fn default() -> Self {
        WorkloadSection {
            lookup_rate_per_peer_per_s: 0.0,
            start_s: 0.0,
        }
    }
}

/// `[sip]`: users register their AoR once their peer has joined; calls between random users
/// arrive as a Poisson process over the whole overlay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sip {
    /// Turns registrations and calls on. Default false.
    pub enabled: bool,
    /// Users (AoRs `user<j>@<overlay>`), spread round-robin over peers and clients: user
    /// `j` lives on node `j mod (count + clients)`. 0 (the default): one per node.
    pub users: u32,
    /// Fraction of users that register when their node has joined or connected, 0..=1.
    /// Default 0.9.
    pub registered_fraction: f64,
    /// Registration lifetime, s (refreshed by the peer at 80 %), ≥ 1. Default 3600.
    pub registration_lifetime_s: u32,
    /// No registration before this time, s. Default 0.
    pub register_start_s: f64,
    /// Calls per second over the whole overlay (Poisson); 0 turns calls off. Default 0.
    pub call_rate_per_s: f64,
    /// No call before this time, s. Default 0.
    pub call_start_s: f64,
    /// Share of calls aimed at AoRs nobody registers (`nobody<k>@<overlay>`), 0..=1.
    /// Default 0.05.
    pub unregistered_call_fraction: f64,
}

impl Default for Sip {
    fn default() -> Self {
        let w = SipWorkload::NONE;
        Sip {
            enabled: w.enabled,
            users: w.users,
            registered_fraction: w.registered_fraction,
            registration_lifetime_s: w.registration_lifetime_s,
            register_start_s: 0.0,
            call_rate_per_s: w.call_rate_per_s,
            call_start_s: 0.0,
            unregistered_call_fraction: w.unregistered_call_fraction,
        }
    }
}

fn dur_s(s: f64) -> Duration {
    Duration(secs_to_ns(s))
}

fn dur_ms(ms: f64) -> Duration {
    Duration(secs_to_ns(ms / 1e3))
}

impl Scenario {
    /// The overlay configuration of this scenario.
    pub fn overlay_config(&self) -> OverlayConfig {
        let o = &self.overlay;
        let mut c = OverlayConfig::new(&o.name);
        c.successors = o.successors as usize;
        c.predecessors = o.predecessors as usize;
        c.fingers = o.fingers as usize;
        c.chord_update_interval = dur_s(o.chord_update_interval_s);
        c.chord_ping_interval = dur_s(o.chord_ping_interval_s);
        c.chord_reactive = o.chord_reactive;
        c.reliability_timer = dur_ms(o.reliability_timer_ms);
        c.request_sends = o.request_sends;
        c.link_rto = dur_ms(o.link_rto_ms);
        c.link_sends = o.link_sends;
        c.link_window = o.link_window as usize;
        c.initial_ttl = o.initial_ttl;
        c.max_message_size = o.max_message_size as usize;
        c.max_connections = o.max_connections as usize;
        c.duplicate_window = dur_s(o.duplicate_window_s);
        c.join_timeout = dur_s(o.join_timeout_s);
        c
    }

    /// The engine configuration of this scenario.
    pub fn sim_config(&self) -> SimConfig {
        let flash = self.flash_slots() as u32;
        let mut c = SimConfig::new(self.peers.count.saturating_add(flash), self.scenario.seed);
        c.flash_slots = flash;
        c.events = self.timeline();
        c.duration = dur_s(self.scenario.duration_s);
        c.sample_interval = dur_s(self.scenario.sample_interval_s);
        c.arrival = match self.peers.arrival {
            ArrivalKind::All => Arrival::All,
            ArrivalKind::Staggered => Arrival::Staggered {
                window: dur_s(self.peers.arrival_window_s),
            },
            ArrivalKind::Poisson => Arrival::Poisson {
                rate_per_s: self.peers.arrival_rate_per_s,
            },
            ArrivalKind::Prebuilt => Arrival::Prebuilt,
        };
        c.bootstrap_count = self.peers.bootstrap_count;
        c.clients = self.peers.clients;
        c.overlay = Arc::new(self.overlay_config());
        let n = &self.network;
        c.latency = match n.latency {
            LatencyKind::Constant => LatencySpec::Constant {
                latency_ms: n.latency_ms,
            },
            LatencyKind::Uniform => LatencySpec::Uniform {
                latency_ms: n.latency_ms,
                jitter_ms: n.jitter_ms,
            },
            LatencyKind::Coordinates => LatencySpec::Coordinates {
                latency_ms: n.latency_ms,
                jitter_ms: n.jitter_ms,
                access_ms: n.access_ms,
            },
            LatencyKind::Routers => LatencySpec::Routers {
                jitter_ms: n.jitter_ms,
                access_ms: n.access_ms,
            },
        };
        if n.latency == LatencyKind::Routers {
            c.topology = n
                .topology
                .clone()
                .unwrap_or_default()
                .topology(self.scenario.seed);
        }
        c.loss = Loss {
            p: n.loss,
            burst: n.gilbert_elliott,
        };
        let ch = &self.churn;
        c.churn = if ch.enabled {
            match ch.model {
                ChurnKind::Exponential => ChurnModel::Drawn {
                    session: ch.session.unwrap_or(Lifetime::Exponential {
                        mean_s: ch.mean_session_s,
                    }),
                    down: ch
                        .rejoin
                        .then_some(ch.down.unwrap_or(Lifetime::Exponential {
                            mean_s: ch.mean_down_s,
                        })),
                    crash_fraction: ch.crash_fraction,
                },
                // A scenario not loaded through `scenario::load` has no trace: nothing moves.
                ChurnKind::Trace => ChurnModel::Trace(
                    ch.replay
                        .as_ref()
                        .map(|r| r.trace.clone())
                        .unwrap_or_default(),
                ),
            }
        } else {
            ChurnModel::None
        };
        c.churn_start = Time::ZERO + dur_s(ch.start_s);
        c.churn_exempt_bootstrap = ch.exempt_bootstrap;
        c.workload = Workload {
            lookup_rate_per_peer_per_s: self.workload.lookup_rate_per_peer_per_s,
            start: Time::ZERO + dur_s(self.workload.start_s),
        };
        let sip = &self.sip;
        c.sip = SipWorkload {
            enabled: sip.enabled,
            users: sip.users,
            registered_fraction: sip.registered_fraction,
            registration_lifetime_s: sip.registration_lifetime_s,
            register_start: Time::ZERO + dur_s(sip.register_start_s),
            call_rate_per_s: sip.call_rate_per_s,
            call_start: Time::ZERO + dur_s(sip.call_start_s),
            unregistered_call_fraction: sip.unregistered_call_fraction,
        };
        c
    }
}

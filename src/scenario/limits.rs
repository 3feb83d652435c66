//! What a scenario may ask for: value ranges (errors, the run does not start) and settings
//! that are legitimate but probably not meant (warnings, the run goes ahead). Every limit
//! here is listed in docs/scenarios.md next to its field.

use super::schema::{ArrivalKind, ChurnKind, LatencyKind, Scenario};
use super::topology::TopologySpec;
use crate::proto::config::{MAX_FINGERS, MAX_UPDATE_LIST, VIA_ENTRY_LEN, check_overlay_name};
use crate::sim::NodeIndex;
use crate::sim::network::topology::MAX_ATTACH_ROUTERS;
use crate::sim::rng::secs_to_ns;

/// Longest run, s: 10^10 s (317 years). Time counts u64 nanoseconds, which hold
/// 1.8 × 10^10 s; the rest is headroom for timers set near the end.
pub const MAX_DURATION_S: f64 = 1e10;

/// Most time-series samples a run may hold (`duration_s / sample_interval_s`): each is a
/// row of `timeseries.csv` and rows of `traffic.csv`, streamed as taken but kept by
/// in-memory runs and read back whole when the plots are drawn.
pub const MAX_SAMPLES: u64 = 10_000_000;

/// Shortest protocol timer, ms. Timers re-arm: at 0 a run never advances past the first
/// firing, and below a millisecond a timer fires thousands of times per network round trip.
pub const MIN_TIMER_MS: f64 = 1.0;

/// A value range check that failed: the field (`section.key`) and what is wrong.
pub type Violation = (String, String);

fn violation(field: &str, message: impl Into<String>) -> Result<(), Violation> {
    Err((field.to_string(), message.into()))
}

impl Scenario {
    /// Checks value ranges. The error names the field (`section.key`) and what is wrong.
    pub fn validate(&self) -> Result<(), Violation> {
        self.check_numbers()?;
        self.check_run_length()?;
        self.check_peers()?;
        self.check_overlay()?;
        self.check_fractions()?;
        self.check_churn()?;
        self.check_network()?;
        self.check_events()?;
        if let Some(sweep) = &self.sweep {
            sweep.validate()?;
        }
        if !self.expect.is_empty() {
            let fields = self.fields();
            for (figure, bound) in &self.expect {
                bound
                    .resolve(&fields)
                    .map_err(|m| (format!("expect.{figure}"), m))?;
            }
        }
        Ok(())
    }

    /// Fields that must be finite and ≥ 0 whatever else is set.
    fn check_numbers(&self) -> Result<(), Violation> {
        let (s, p, o, n, c, w, sip) = (
            &self.scenario,
            &self.peers,
            &self.overlay,
            &self.network,
            &self.churn,
            &self.workload,
            &self.sip,
        );
        let non_neg = [
            ("scenario.duration_s", s.duration_s),
            ("scenario.sample_interval_s", s.sample_interval_s),
            ("peers.arrival_window_s", p.arrival_window_s),
            ("peers.arrival_rate_per_s", p.arrival_rate_per_s),
            ("overlay.chord_update_interval_s", o.chord_update_interval_s),
            ("overlay.chord_ping_interval_s", o.chord_ping_interval_s),
            ("overlay.reliability_timer_ms", o.reliability_timer_ms),
            ("overlay.link_rto_ms", o.link_rto_ms),
            ("overlay.duplicate_window_s", o.duplicate_window_s),
            ("overlay.join_timeout_s", o.join_timeout_s),
            ("network.latency_ms", n.latency_ms),
            ("network.jitter_ms", n.jitter_ms),
            ("network.access_ms", n.access_ms),
            ("churn.mean_session_s", c.mean_session_s),
            ("churn.mean_down_s", c.mean_down_s),
            ("churn.start_s", c.start_s),
            (
                "workload.lookup_rate_per_peer_per_s",
                w.lookup_rate_per_peer_per_s,
            ),
            ("workload.start_s", w.start_s),
            ("sip.register_start_s", sip.register_start_s),
            ("sip.call_rate_per_s", sip.call_rate_per_s),
            ("sip.call_start_s", sip.call_start_s),
        ];
        for (f, v) in non_neg {
            if !v.is_finite() || v < 0.0 {
                return violation(f, "must be a finite number ≥ 0");
            }
        }
        if p.arrival == ArrivalKind::Poisson && p.arrival_rate_per_s <= 0.0 {
            return violation(
                "peers.arrival_rate_per_s",
                "must be > 0 for poisson arrivals",
            );
        }
        Ok(())
    }

    /// The churn model's parameters and the fields it does not use.
    fn check_churn(&self) -> Result<(), Violation> {
        let c = &self.churn;
        for (name, l) in [("session", &c.session), ("down", &c.down)] {
            if let Some(l) = l {
                l.check()
                    .or_else(|(param, m)| violation(&format!("churn.{name}.{param}"), m))?;
            }
        }
        match c.model {
            ChurnKind::Exponential => {
                if c.trace.is_some() {
                    return violation(
                        "churn.trace",
                        "a trace is replayed only with churn.model = \"trace\"",
                    );
                }
                if !c.enabled {
                    return Ok(());
                }
                let drawn = [
                    (
                        "churn.mean_session_s",
                        c.mean_session_s,
                        c.session.is_none(),
                    ),
                    (
                        "churn.mean_down_s",
                        c.mean_down_s,
                        c.down.is_none() && c.rejoin,
                    ),
                ];
                for (f, v, used) in drawn {
                    if used && v <= 0.0 {
                        return violation(f, "must be > 0 when churn is enabled");
                    }
                }
            }
            ChurnKind::Trace => {
                for (f, set) in [
                    ("churn.session", c.session.is_some()),
                    ("churn.down", c.down.is_some()),
                ] {
                    if set {
                        return violation(
                            f,
                            "a trace says when peers come and go: remove this table or set churn.model = \"exponential\"",
                        );
                    }
                }
                if c.trace.is_none() {
                    return violation(
                        "churn.trace",
                        "churn.model = \"trace\" needs the trace file (a CSV with columns node,time_s,event)",
                    );
                }
                if c.enabled && self.peers.arrival == ArrivalKind::Prebuilt {
                    return violation(
                        "peers.arrival",
                        "\"prebuilt\" builds the ring of every peer at time 0 and cannot be used with a churn trace",
                    );
                }
            }
        }
        Ok(())
    }

    /// Burst loss and the router graph.
    fn check_network(&self) -> Result<(), Violation> {
        let n = &self.network;
        if let Some(g) = &n.gilbert_elliott {
            for (f, v) in [
                ("p_good_bad", g.p_good_bad),
                ("p_bad_good", g.p_bad_good),
                ("loss_good", g.loss_good),
                ("loss_bad", g.loss_bad),
            ] {
                if !(0.0..=1.0).contains(&v) {
                    return violation(&format!("network.gilbert_elliott.{f}"), "must be in 0..=1");
                }
            }
            if g.p_good_bad > 0.0 && g.p_bad_good == 0.0 {
                return violation(
                    "network.gilbert_elliott.p_bad_good",
                    "must be > 0: a path that turns bad would stay bad for the rest of the run (crash or partition events model that)",
                );
            }
        }
        let Some(t) = &n.topology else {
            return Ok(());
        };
        let f = |k: &str| format!("network.topology.{k}");
        let positive = |k: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                violation(&f(k), "must be a finite number > 0")
            }
        };
        let non_neg = |k: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                violation(&f(k), "must be a finite number ≥ 0")
            }
        };
        match t {
            TopologySpec::Waxman {
                routers,
                alpha,
                beta,
                ms_per_unit,
            } => {
                if !(1..=MAX_ATTACH_ROUTERS as u32).contains(routers) {
                    return violation(
                        &f("routers"),
                        format!("must be in 1..={MAX_ATTACH_ROUTERS}"),
                    );
                }
                positive("alpha", *alpha)?;
                if !(*beta > 0.0 && *beta <= 1.0) {
                    return violation(&f("beta"), "must be in (0, 1]");
                }
                non_neg("ms_per_unit", *ms_per_unit)?;
            }
            TopologySpec::TransitStub(ts) => {
                for (k, v) in [
                    ("transit_domains", ts.transit_domains),
                    ("transit_routers", ts.transit_routers),
                    ("stubs_per_transit", ts.stubs_per_transit),
                    ("stub_routers", ts.stub_routers),
                ] {
                    if v == 0 {
                        return violation(&f(k), "must be ≥ 1");
                    }
                }
                if ts.stub_routers_total() > MAX_ATTACH_ROUTERS as u64 {
                    return violation(
                        &f("stub_routers"),
                        format!(
                            "{} stub routers (transit_domains × transit_routers × stubs_per_transit × stub_routers): at most {MAX_ATTACH_ROUTERS}",
                            ts.stub_routers_total()
                        ),
                    );
                }
                if !(0.0..=1.0).contains(&ts.edge_p) {
                    return violation(&f("edge_p"), "must be in 0..=1");
                }
                for (k, v) in [
                    ("backbone_ms", ts.backbone_ms),
                    ("transit_ms", ts.transit_ms),
                    ("uplink_ms", ts.uplink_ms),
                    ("stub_ms", ts.stub_ms),
                ] {
                    non_neg(k, v)?;
                }
            }
            TopologySpec::File { hop_ms, .. } => non_neg("hop_ms", *hop_ms)?,
        }
        if n.latency == LatencyKind::Routers
            && let Some(Err(e)) = t.build(self.scenario.seed)
        {
            return violation("network.topology", e.to_string());
        }
        Ok(())
    }

    /// The run's length and the number of samples it holds.
    fn check_run_length(&self) -> Result<(), Violation> {
        let s = &self.scenario;
        if s.duration_s <= 0.0 {
            return violation("scenario.duration_s", "must be > 0");
        }
        if s.duration_s > MAX_DURATION_S {
            return violation(
                "scenario.duration_s",
                format!(
                    "{} s is longer than the longest run, 1e10 s (317 years; times are u64 nanoseconds)",
                    s.duration_s
                ),
            );
        }
        let interval_ns = secs_to_ns(s.sample_interval_s);
        if interval_ns == 0 {
            return violation("scenario.sample_interval_s", "must be ≥ 1 ns (1e-9)");
        }
        let samples = secs_to_ns(s.duration_s).div_ceil(interval_ns);
        if samples > MAX_SAMPLES {
            return violation(
                "scenario.duration_s",
                format!(
                    "{} s sampled every {} s is {samples} time-series samples, above the limit of 10,000,000: \
                     raise scenario.sample_interval_s to at least {} or shorten the run",
                    s.duration_s,
                    s.sample_interval_s,
                    s.duration_s / MAX_SAMPLES as f64
                ),
            );
        }
        Ok(())
    }

    /// Node counts.
    fn check_peers(&self) -> Result<(), Violation> {
        let p = &self.peers;
        if p.count == 0 || p.count > NodeIndex::MAX_SLOTS {
            return violation("peers.count", "must be in 1..=16777215");
        }
        if p.bootstrap_count == 0 || p.bootstrap_count > p.count {
            return violation("peers.bootstrap_count", "must be in 1..=peers.count");
        }
        if u64::from(p.count) + u64::from(p.clients) > u64::from(NodeIndex::MAX_SLOTS) {
            return violation(
                "peers.clients",
                format!(
                    "peers.count + peers.clients must be ≤ 16777215 (one 10.x.y.z address per node); \
                     at most {} clients with {} peers",
                    NodeIndex::MAX_SLOTS - p.count,
                    p.count
                ),
            );
        }
        let flash = self.flash_slots();
        if u64::from(p.count) + u64::from(p.clients) + flash > u64::from(NodeIndex::MAX_SLOTS) {
            return violation(
                "events",
                format!(
                    "peers.count + peers.clients + the join events' {flash} flash-crowd peers \
                     must be ≤ 16777215 (one 10.x.y.z address per node)"
                ),
            );
        }
        Ok(())
    }

    /// `[overlay]`: table sizes, timers, counts and the message size.
    fn check_overlay(&self) -> Result<(), Violation> {
        let o = &self.overlay;
        if let Err(e) = check_overlay_name(&o.name) {
            return violation(
                "overlay.name",
                format!("{e}; the overlay name must be a DNS name (RFC 6940 §6.3.2)"),
            );
        }
        for (f, v) in [
            ("overlay.successors", o.successors),
            ("overlay.predecessors", o.predecessors),
        ] {
            if v == 0 || v as usize > MAX_UPDATE_LIST {
                return violation(
                    f,
                    "must be in 1..=4095 (a ChordUpdate list holds at most 4,095 Node-IDs)",
                );
            }
        }
        if o.fingers == 0 || o.fingers as usize > MAX_FINGERS {
            return violation(
                "overlay.fingers",
                "must be in 1..=128 (one finger per bit of a 128-bit Node-ID)",
            );
        }
        for (f, ms) in [
            (
                "overlay.chord_update_interval_s",
                o.chord_update_interval_s * 1e3,
            ),
            (
                "overlay.chord_ping_interval_s",
                o.chord_ping_interval_s * 1e3,
            ),
            ("overlay.reliability_timer_ms", o.reliability_timer_ms),
            ("overlay.link_rto_ms", o.link_rto_ms),
            ("overlay.join_timeout_s", o.join_timeout_s * 1e3),
        ] {
            if ms < MIN_TIMER_MS {
                return violation(
                    f,
                    "must be ≥ 1 ms (a timer of 0 never lets the run advance)",
                );
            }
        }
        for (f, v) in [
            ("overlay.request_sends", o.request_sends),
            ("overlay.link_sends", o.link_sends),
            ("overlay.initial_ttl", o.initial_ttl),
        ] {
            if v == 0 {
                return violation(f, "must be ≥ 1");
            }
        }
        if o.link_window == 0 {
            return violation("overlay.link_window", "must be ≥ 1");
        }
        let routing = o.successors + o.predecessors + o.fingers;
        if o.max_connections < routing {
            return violation(
                "overlay.max_connections",
                format!(
                    "must be ≥ successors + predecessors + fingers = {routing}: \
                     links of the Routing Table are never closed to make room"
                ),
            );
        }
        let update = self
            .overlay_config()
            .full_update_len()
            .unwrap_or(usize::MAX);
        if (o.max_message_size as usize) < update {
            return violation(
                "overlay.max_message_size",
                format!(
                    "must be ≥ {update} bytes: the signed full Update a peer sends with its \
                     {} predecessors, {} successors and {} fingers is that long",
                    o.predecessors, o.successors, o.fingers
                ),
            );
        }
        Ok(())
    }

    /// Probabilities and shares.
    fn check_fractions(&self) -> Result<(), Violation> {
        for (f, v) in [
            ("network.loss", self.network.loss),
            ("churn.crash_fraction", self.churn.crash_fraction),
            ("sip.registered_fraction", self.sip.registered_fraction),
            (
                "sip.unregistered_call_fraction",
                self.sip.unregistered_call_fraction,
            ),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return violation(f, "must be in 0..=1");
            }
        }
        if self.sip.registration_lifetime_s == 0 {
            return violation("sip.registration_lifetime_s", "must be ≥ 1");
        }
        Ok(())
    }

    /// Settings that are valid, and may be meant (a sweep can switch a feature off on
    /// purpose), but make part of the scenario do nothing: `(field, what happens)`, in a
    /// fixed order.
    pub fn warnings(&self) -> Vec<Violation> {
        let mut out = Vec::new();
        let mut warn = |f: &str, m: String| out.push((f.to_string(), m));
        let (s, w, sip, o) = (&self.scenario, &self.workload, &self.sip, &self.overlay);
        if self.network.topology.is_some() && self.network.latency != LatencyKind::Routers {
            warn(
                "network.topology",
                format!(
                    "a router graph, but network.latency = \"{}\": the graph is used only with \"routers\"",
                    self.network.latency.name()
                ),
            );
        }
        if sip.call_rate_per_s > 0.0 && !sip.enabled {
            warn(
                "sip.call_rate_per_s",
                format!(
                    "{} calls/s, but sip.enabled = false: no user registers and no call is placed",
                    sip.call_rate_per_s
                ),
            );
        }
        if sip.enabled && sip.call_rate_per_s > 0.0 && sip.call_start_s >= s.duration_s {
            warn(
                "sip.call_start_s",
                format!(
                    "{} s is not before the end of the run ({} s): no call is placed",
                    sip.call_start_s, s.duration_s
                ),
            );
        }
        if w.lookup_rate_per_peer_per_s > 0.0 && w.start_s >= s.duration_s {
            warn(
                "workload.start_s",
                format!(
                    "{} s is not before the end of the run ({} s): no lookup is issued",
                    w.start_s, s.duration_s
                ),
            );
        }
        if let Some(update) = self.overlay_config().full_update_len() {
            let routed = update + VIA_ENTRY_LEN * usize::from(o.initial_ttl);
            if (o.max_message_size as usize) < routed {
                warn(
                    "overlay.max_message_size",
                    format!(
                        "{} bytes: messages grow by {VIA_ENTRY_LEN} bytes per hop, so one the size \
                         of a full Update ({update} bytes) that travels initial_ttl = {} hops \
                         ({routed} bytes) is dropped for its size",
                        o.max_message_size, o.initial_ttl
                    ),
                );
            }
        }
        out
    }
}

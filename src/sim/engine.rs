//! The event loop.
//!
//! # Ordering guarantee
//! Every event carries `(time, seq)`, where `seq` is a run-wide counter incremented at each
//! insertion into the queue. Events run in increasing `time`; events due at the same time
//! run in the order they were scheduled. Nothing else (no hash order, no wall clock, no
//! thread) influences the order, so one seed gives one history.
//!
//! # Nodes and addresses
//! Nodes live in a `Vec<Slot>` indexed by [`NodeIndex`]. Slot `i` owns the address
//! `10.a.b.c:6084` where `a.b.c` is `i + 1` in base 256, so address → slot is O(1). A slot
//! holds at most one node at a time; each life of a slot is an *incarnation*. Crashes and
//! departures bump the incarnation, and datagrams, timers and workload events addressed to
//! an older incarnation are dropped (and counted).
//!
//! # Servicing
//! After every input or command given to a node, [`Sim`] calls `service(index)`, the only
//! code that reads a node's outputs: it drains `poll_transmit` (→ network model → a
//! delivery event), `poll_event` (→ metrics, the workloads in `engine/lookups.rs` and
//! `engine/sip.rs`, life cycle), then reads `poll_timeout` (→ a wake-up). A slot remembers
//! its one valid wake time; superseded timer entries stay in the queue as tombstones and
//! are skipped when popped.

mod driven;
mod lookups;
mod sip;
mod timeline;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::proto::event::{Event, NodeState, Transmit};
use crate::proto::id::NodeId;
use crate::proto::node::{Identity, Node};
use crate::proto::peer::Peer;
use crate::proto::stats::NodeStats;
use crate::sim::calls::{CallFigures, CallRecord};
use crate::sim::capture::{CaptureReport, FrameSink};
use crate::sim::churn::{Change, Fate};
use crate::sim::config::{Arrival, SimConfig};
use crate::sim::dist::Spread;
use crate::sim::lookups::{Ledger, LookupFigures, LookupRecord};
use crate::sim::metrics::{Counters, Metrics, Population, Sample, Traffic};
use crate::sim::network::{LatencyModel, LatencySpec, Network, Transit};
use crate::sim::oracle::Oracle;
use crate::sim::prebuilt::PrebuiltRing;
use crate::sim::queue::{EventQueue, RadixQueue};
use crate::sim::rng::{Seeds, SimRng, exponential_ns, purpose};
use crate::sim::series::Series;
use crate::sim::sink::{MemorySink, RecordSink, Results};
use crate::sim::trace::Trace;
use crate::time::{Duration, Time};

/// The RELOAD port every simulated node listens on.
pub const SIM_PORT: u16 = 6084;

/// Index of a node slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeIndex(pub u32);

impl NodeIndex {
    /// Largest slot count: `i + 1` must fit in three address bytes.
    pub const MAX_SLOTS: u32 = (1 << 24) - 1;

    /// The slot's address, `10.a.b.c:6084` with `a.b.c` = `i + 1`.
    pub fn addr(self) -> SocketAddr {
        let [_, a, b, c] = (self.0 + 1).to_be_bytes();
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, a, b, c)), SIM_PORT)
    }

    /// The slot owning `addr`, if it is a simulated address.
    pub fn from_addr(addr: SocketAddr) -> Option<NodeIndex> {
        match addr {
            SocketAddr::V4(v4) if v4.port() == SIM_PORT => {
                let [ten, a, b, c] = v4.ip().octets();
                let n = u32::from_be_bytes([0, a, b, c]);
                (ten == 10 && n > 0).then(|| NodeIndex(n - 1))
            }
            _ => None,
        }
    }
}

/// What happens at a point in time.
enum Ev {
    /// A node life starts in this slot (first arrival or rejoin).
    Arrive(u32),
    /// A datagram reaches a slot; `inc` is the incarnation it was sent to.
    Deliver {
        to: u32,
        inc: u32,
        from: u32,
        bytes: Vec<u8>,
    },
    /// A node's timer, valid only if it is still the slot's wake time.
    Wake { node: u32, inc: u32 },
    /// The session of this incarnation ends.
    Depart { node: u32, inc: u32 },
    /// A graceful leave ran out of time.
    LeaveCap { node: u32, inc: u32 },
    /// The node's next lookup is due.
    Lookup { node: u32, inc: u32 },
    /// The node registers its user's AoR.
    Register { node: u32, inc: u32 },
    /// The next call of the SIP workload is due.
    Call,
    /// A time-series sample is due.
    Sample,
    /// Slot `from` closed its link to slot `to` (a transport close, not a datagram).
    LinkClose { to: u32, inc: u32, from: u32 },
    /// Scheduled event `k` of the timeline happens.
    Timeline(u32),
    /// The loss or latency change of timeline event `k` ends.
    Restore(u32),
    /// Events still recovering are probed.
    Probe,
    /// Row `k` of the churn trace applies.
    Churn(u32),
}

/// One node slot.
struct Slot<P> {
    /// Boxed so dead slots cost a pointer, whatever the size of a node.
    node: Option<Box<P>>,
    incarnation: u32,
    wake: Option<Time>,
    joined: bool,
    leaving: bool,
    lookups_started: bool,
    /// A client connected to its peer.
    connected: bool,
    /// When this incarnation arrived.
    arrived: Time,
}

impl<P> Slot<P> {
    /// The node of incarnation `inc`, unless it is gone or leaving.
    fn current(&mut self, inc: u32) -> Option<&mut P> {
        if self.incarnation != inc || self.leaving {
            return None;
        }
        self.node.as_deref_mut()
    }
}

/// What a finished run hands to the reports.
#[derive(Debug)]
pub struct RunOutput {
    /// The master seed.
    pub seed: u64,
    /// Simulated end time.
    pub end: Time,
    /// Peer slots.
    pub peers: u32,
    /// Client slots (after the peers).
    pub clients: u32,
    /// Digest of every delivered datagram (see [`crate::sim::trace`]).
    pub trace_digest: u64,
    /// Engine counters.
    pub counters: Counters,
    /// Traffic of the whole run.
    pub traffic: Traffic,
    /// Names of the per-message-type columns.
    pub method_names: Vec<&'static str>,
    /// The time series, when the run kept it in memory (the default [`MemorySink`]);
    /// empty when it was streamed ([`Sim::with_records`]).
    pub samples: Vec<Sample>,
    /// Figures over the time series, whether kept or streamed.
    pub series: Series,
    /// The lookups' figures, and the records when kept in memory.
    pub lookups: Results<LookupRecord, LookupFigures>,
    /// The SIP workload's calls' figures, and the records when kept in memory.
    pub calls: Results<CallRecord, CallFigures>,
    /// The first error the record sink met writing the records (a file it could not
    /// write), if any.
    pub records_error: Option<String>,
    /// Node counters summed over every node life of the run.
    pub node_stats: NodeStats,
    /// Events processed.
    pub events: u64,
    /// Peers' join times (arrival to Joined), s.
    pub join_time_s: Spread,
    /// Clients' connect times (arrival to connected), s.
    pub connect_time_s: Spread,
    /// What the capture sink wrote, if one was set ([`Sim::with_capture`]).
    pub capture: Option<CaptureReport>,
    /// The scheduled events that happened, in order.
    pub timeline: Vec<crate::sim::timeline::EventRecord>,
}

impl RunOutput {
    /// The last sample (taken at the end of the run).
    pub fn last_sample(&self) -> Option<&Sample> {
        self.series.last()
    }
}

/// A simulation run, generic over the peer type (real runs use [`Node`]).
pub struct Sim<P: Peer = Node> {
    cfg: SimConfig,
    now: Time,
    end: Time,
    queue: RadixQueue<Ev>,
    stash: Option<(Time, Ev)>,
    slots: Vec<Slot<P>>,
    live: u64,
    live_clients: u64,
    initial_unjoined: u64,
    seeds: Seeds,
    network: Network,
    churn_rng: SimRng,
    workload_rng: SimRng,
    oracle: Oracle,
    ledger: Ledger,
    sip: sip::SipState,
    metrics: Metrics,
    series: Series,
    records: Box<dyn RecordSink + Send>,
    trace: Trace,
    bootstrap: Vec<SocketAddr>,
    node_stats: NodeStats,
    events: u64,
    last_sample: Option<Time>,
    tx_buf: Vec<Transmit>,
    close_buf: Vec<SocketAddr>,
    ev_buf: Vec<Event>,
    capture: Option<Box<dyn FrameSink + Send>>,
    /// The links of a prebuilt ring, until its last peer has arrived.
    prebuilt: Option<PrebuiltRing>,
    /// Scheduled events: their stream, what became of slots they removed, held traffic.
    faults: timeline::Faults,
}

fn add_stats(sum: &mut NodeStats, s: &NodeStats) {
    sum.add(s);
}

impl Sim<Node> {
    /// A run of `cfg` with real RELOAD peers.
    pub fn new(cfg: SimConfig) -> Sim<Node> {
        Sim::with_peer(cfg)
    }
}

/// The simulator's bytes per node slot, beside the nodes' own ([`Sim::footprint`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct EngineFootprint {
    /// Live nodes.
    pub nodes: usize,
    /// The nodes' own bytes, summed.
    pub node: crate::proto::node::Footprint,
    /// Slot entries and the boxes' headers of the nodes.
    pub slots: usize,
    /// Latency-model places.
    pub network: usize,
    /// The oracle's ring (tree entries, about 1.5× the key and value).
    pub oracle: usize,
    /// Pending events, with the datagrams in flight.
    pub queue: usize,
    /// SIP workload state.
    pub sip: usize,
}

impl Sim<Node> {
    /// Bytes held per part, summed over every live node and the engine.
    pub fn footprint(&self) -> EngineFootprint {
        let mut f = EngineFootprint {
            slots: self.slots.capacity() * std::mem::size_of::<Slot<Node>>(),
            network: self.network.heap_bytes(),
            oracle: self.oracle.len() * std::mem::size_of::<(NodeId, u32)>() * 3 / 2,
            queue: self.queue.heap_bytes()
                + self
                    .queue
                    .items()
                    .map(|e| match e {
                        Ev::Deliver { bytes, .. } => bytes.capacity(),
                        _ => 0,
                    })
                    .sum::<usize>(),
            sip: self.sip.heap_bytes(),
            ..EngineFootprint::default()
        };
        for n in self.slots.iter().filter_map(|s| s.node.as_deref()) {
            f.nodes += 1;
            f.node.add(&n.footprint());
        }
        f
    }
}

impl<P: Peer> Sim<P> {
    /// A run of `cfg` with peers of type `P`, every initial arrival and the first sample
    /// scheduled.
    pub fn with_peer(cfg: SimConfig) -> Sim<P> {
        let peers = cfg
            .peers
            .saturating_add(cfg.clients)
            .min(NodeIndex::MAX_SLOTS);
        let seeds = Seeds::new(cfg.seed);
        let places = &mut seeds.stream(purpose::COORDINATES);
        let latency = match (cfg.latency, &cfg.topology) {
            (
                LatencySpec::Routers {
                    jitter_ms,
                    access_ms,
                },
                Some(t),
            ) => LatencyModel::routers(t.clone(), jitter_ms, access_ms, peers, places),
            (spec, _) => LatencyModel::new(spec, peers, places),
        };
        let network = Network::new(latency, cfg.loss, seeds.stream(purpose::NETWORK));
        let bootstrap = (0..cfg.bootstrap_count.clamp(1, peers.max(1)))
            .map(|i| NodeIndex(i).addr())
            .collect();
        let slots = (0..peers)
            .map(|_| Slot {
                node: None,
                incarnation: 0,
                wake: None,
                joined: false,
                leaving: false,
                lookups_started: false,
                connected: false,
                arrived: Time::ZERO,
            })
            .collect();
        let mut sim = Sim {
            now: Time::ZERO,
            end: Time::ZERO + cfg.duration,
            queue: RadixQueue::new(),
            stash: None,
            slots,
            live: 0,
            live_clients: 0,
            initial_unjoined: u64::from(cfg.initial_peers().min(peers))
                .saturating_sub(cfg.churn.trace().map_or(0, |t| t.late_count() as u64)),
            seeds,
            network,
            churn_rng: seeds.stream(purpose::CHURN),
            workload_rng: seeds.stream(purpose::WORKLOAD),
            oracle: Oracle::new(),
            ledger: Ledger::new(),
            sip: sip::SipState::new(cfg.sip, peers, &seeds),
            metrics: Metrics::new(),
            series: Series::default(),
            records: Box::new(MemorySink::default()),
            trace: Trace::default(),
            bootstrap,
            node_stats: NodeStats::default(),
            events: 0,
            last_sample: None,
            tx_buf: Vec::new(),
            close_buf: Vec::new(),
            ev_buf: Vec::new(),
            capture: None,
            prebuilt: None,
            faults: timeline::Faults::new(&seeds, cfg.initial_peers()),
            cfg,
        };
        if sim.cfg.arrival == Arrival::Prebuilt {
            let ids: Vec<NodeId> = (0..sim.cfg.initial_peers().min(peers))
                .map(|i| seeds.node_id(i, 0))
                .collect();
            let o = &sim.cfg.overlay;
            sim.prebuilt = Some(PrebuiltRing::build(
                ids,
                o.predecessors,
                o.successors,
                o.fingers,
            ));
        }
        sim.schedule_arrivals(peers);
        sim.schedule_first_call();
        sim.schedule_timeline();
        sim.schedule_trace_row(0);
        if sim.cfg.sample_interval > Duration::ZERO {
            let first = Time::ZERO + sim.cfg.sample_interval;
            if first < sim.end {
                sim.queue.push(first, Ev::Sample);
            }
        }
        sim
    }

    fn schedule_arrivals(&mut self, slots: u32) {
        let mut arrival_rng = self.seeds.stream(purpose::ARRIVAL);
        let mut at = Time::ZERO;
        let peers = self.cfg.initial_peers().min(slots);
        let mut last = Time::ZERO;
        for i in 0..peers {
            let t = match self.cfg.arrival {
                Arrival::All | Arrival::Prebuilt => Time::ZERO,
                Arrival::Staggered { window } => {
                    Time((u128::from(window.0) * u128::from(i) / u128::from(peers)) as u64)
                }
                Arrival::Poisson { rate_per_s } => {
                    if i > 0 && rate_per_s > 0.0 {
                        at += Duration(exponential_ns(&mut arrival_rng, 1.0 / rate_per_s));
                    }
                    at
                }
            };
            last = last.max(t);
            if !self.starts_away(i) {
                self.queue.push(t, Ev::Arrive(i));
            }
        }
        // Clients come once the peers are there, 10 ms apart.
        for (k, i) in (self.cfg.peers.min(slots)..slots).enumerate() {
            let t = last + Duration::from_millis(1000 + 10 * k as u64);
            self.queue.push(t, Ev::Arrive(i));
        }
    }

    /// Hands every frame a node sends from now on to `sink` (see [`crate::sim::capture`]).
    pub fn with_capture(mut self, sink: Box<dyn FrameSink + Send>) -> Self {
        self.capture = Some(sink);
        self
    }

    /// Hands every lookup and call record, in issue order once it and every earlier one
    /// are final, and every sample as it is taken, to `sink` rather than keeping them (the
    /// default [`MemorySink`] keeps them for [`RunOutput`]). Set it before the run starts.
    pub fn with_records(mut self, sink: Box<dyn RecordSink + Send>) -> Self {
        self.records = sink;
        self
    }

    /// Current simulated time.
    pub fn now(&self) -> Time {
        self.now
    }

    /// The configured end of the run.
    pub fn end(&self) -> Time {
        self.end
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Peer slots with a running node (any state), clients not counted.
    pub fn live_peers(&self) -> u64 {
        self.live - self.live_clients
    }

    /// The node in slot `i`, if alive.
    pub fn node(&self, i: NodeIndex) -> Option<&P> {
        self.slots.get(i.0 as usize)?.node.as_deref()
    }

    /// The oracle's view of the ring.
    pub fn oracle(&self) -> &Oracle {
        &self.oracle
    }

    /// The digest of deliveries so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Processes every event due at or before `until`.
    pub fn run_until(&mut self, until: Time) {
        while let Some((t, ev)) = self.stash.take().or_else(|| self.queue.pop()) {
            if t > until {
                self.stash = Some((t, ev));
                break;
            }
            self.now = t;
            self.events += 1;
            self.dispatch(ev);
        }
        self.now = self.now.max(until);
    }

    /// Runs to the configured end and returns the results.
    pub fn run(mut self) -> RunOutput {
        let end = self.end;
        self.run_until(end);
        self.finish()
    }

    /// Takes the final sample and hands the results over.
    pub fn finish(mut self) -> RunOutput {
        if self.last_sample != Some(self.now) {
            self.take_sample();
        }
        self.end_recoveries();
        let mut node_stats = self.node_stats.clone();
        for n in self.slots.iter().filter_map(|s| s.node.as_ref()) {
            add_stats(&mut node_stats, &n.stats());
        }
        let lookups = self.ledger.finish(&mut *self.records);
        let calls = self.sip.ledger.finish(&mut *self.records);
        let kept = self.records.finish();
        RunOutput {
            seed: self.cfg.seed,
            end: self.now,
            peers: self.cfg.peers.min(self.slots.len() as u32),
            clients: self.slots.len() as u32 - self.cfg.peers.min(self.slots.len() as u32),
            trace_digest: self.trace.digest(),
            counters: self.metrics.counters.clone(),
            traffic: self.metrics.total.clone(),
            method_names: self.metrics.method_names().to_vec(),
            samples: kept.samples,
            series: self.series,
            lookups: Results::new(kept.lookups, lookups),
            calls: Results::new(kept.calls, calls),
            records_error: kept.error,
            node_stats,
            events: self.events,
            join_time_s: self.metrics.join_time.spread(1e9),
            connect_time_s: self.metrics.connect_time.spread(1e9),
            capture: self.capture.map(|c| c.finish()),
            timeline: self.faults.records,
        }
    }

    fn dispatch(&mut self, ev: Ev) {
        match ev {
            Ev::Arrive(i) => self.arrive(i),
            Ev::Deliver {
                to,
                inc,
                from,
                bytes,
            } => self.deliver(to, inc, from, bytes),
            Ev::Wake { node, inc } => self.wake(node, inc),
            Ev::LinkClose { to, inc, from } => {
                if self.is_live(to, inc) {
                    let now = self.now;
                    if let Some(n) = self.slots[to as usize].node.as_mut() {
                        n.handle_link_close(now, NodeIndex(from).addr());
                    }
                    self.service(to);
                }
            }
            Ev::Depart { node, inc } => self.depart(node, inc),
            Ev::LeaveCap { node, inc } => {
                if self.is_live(node, inc) {
                    self.metrics.counters.leave_cap_hits += 1;
                    self.remove(node);
                }
            }
            Ev::Lookup { node, inc } => self.lookup(node, inc),
            Ev::Register { node, inc } => self.register(node, inc),
            Ev::Call => self.place_call(),
            Ev::Timeline(k) => self.apply_event(k),
            Ev::Restore(k) => self.network.restore(k),
            Ev::Probe => self.probe(true),
            Ev::Churn(k) => self.apply_trace_row(k),
            Ev::Sample => {
                self.take_sample();
                let next = self.now + self.cfg.sample_interval;
                if next < self.end {
                    self.queue.push(next, Ev::Sample);
                }
            }
        }
    }

    /// True if slot `i` waits for its first join row of the churn trace.
    fn starts_away(&self, i: u32) -> bool {
        self.cfg.churn.trace().is_some_and(|t| t.starts_away(i))
    }

    /// True if slot `i` holds one of the peers present from the start.
    fn is_initial(&self, i: u32) -> bool {
        i < self.cfg.initial_peers() && !self.starts_away(i)
    }

    /// Queues row `k` of the churn trace, if there is one before the end.
    fn schedule_trace_row(&mut self, k: u32) {
        let at = self
            .cfg
            .churn
            .trace()
            .and_then(|t| t.rows().get(k as usize))
            .map(|r| r.at);
        if let Some(at) = at.filter(|&at| at < self.end) {
            self.queue.push(at, Ev::Churn(k));
        }
    }

    /// Applies row `k` of the churn trace. A row that does not fit the slot's state (its
    /// node crashed by a scheduled event, say) changes nothing; a join while the node's
    /// graceful leave is still going on ends that leave first.
    fn apply_trace_row(&mut self, k: u32) {
        let Some(row) = self
            .cfg
            .churn
            .trace()
            .and_then(|t| t.rows().get(k as usize).copied())
        else {
            return;
        };
        let i = row.node;
        let slot = &self.slots[i as usize];
        let (live, leaving) = (slot.node.is_some(), slot.leaving);
        match row.change {
            Change::Join => {
                if live && leaving {
                    self.remove(i);
                }
                self.arrive(i);
            }
            Change::Leave if live && !leaving => self.start_leave(i),
            Change::Crash if live => self.crash(i),
            Change::Leave | Change::Crash => {}
        }
        self.schedule_trace_row(k + 1);
    }

    fn is_live(&self, i: u32, inc: u32) -> bool {
        let s = &self.slots[i as usize];
        s.incarnation == inc && s.node.is_some()
    }

    /// Slot `s`'s first successor, as its node sees it.
    fn first_successor(&self, s: u32) -> Option<NodeId> {
        self.slots[s as usize]
            .node
            .as_ref()
            .and_then(|n| n.successors().first().copied())
    }

    fn take_sample(&mut self) {
        let rcf = self
            .oracle
            .ring_correct_fraction(|s| self.first_successor(s));
        self.faults.sampled(self.now, self.metrics.total.bytes);
        let pop = Population {
            live_peers: self.live_peers(),
            live_clients: self.live_clients,
            joined_peers: self.oracle.len() as u64,
            initial_unjoined: self.initial_unjoined,
        };
        let (live, available) = self.availability();
        self.metrics.registrations(live, available);
        let sample = self.metrics.sample(self.now, pop, rcf);
        self.series.add(&sample);
        self.records.sample(sample);
        self.last_sample = Some(self.now);
    }

    fn arrive(&mut self, i: u32) {
        let now = self.now;
        let slot = &mut self.slots[i as usize];
        if slot.node.is_some() {
            return;
        }
        let inc = slot.incarnation;
        // Slot i is one device; its certificate names the user `node<i>@<overlay>`. A
        // bounced node restarts with the Node-ID it had.
        let user = sip::user_of(i, &self.cfg.overlay.overlay_name);
        let id_life = self.faults.identity_of(i).unwrap_or(inc);
        let identity = Identity::new(self.seeds.node_id(i, id_life), &user);
        let seed = self.seeds.node_seed(i, inc);
        let addr = NodeIndex(i).addr();
        let mut node = P::create(self.cfg.overlay.clone(), identity, addr, now, seed);
        let boot: Vec<SocketAddr> = self
            .bootstrap
            .iter()
            .copied()
            .filter(|a| *a != addr)
            .collect();
        let prebuilt = self
            .prebuilt
            .as_ref()
            .filter(|_| inc == 0 && i < self.cfg.initial_peers());
        let started = if let Some(ring) = prebuilt {
            let links: Vec<(NodeId, SocketAddr)> = ring
                .links_of(i)
                .iter()
                .map(|&j| (ring.id(j), NodeIndex(j).addr()))
                .collect();
            let r = node.join_prebuilt(now, &links, &boot);
            if i + 1 == self.cfg.initial_peers() {
                self.prebuilt = None;
            }
            r
        } else if i >= self.cfg.peers {
            node.connect_client(now, &boot)
        } else if i == 0 && inc == 0 {
            node.start_overlay(now)
        } else {
            node.join(now, &boot)
        };
        if started.is_err() {
            self.metrics.counters.join_refused += 1;
        }
        *slot = Slot {
            node: Some(Box::new(node)),
            incarnation: inc,
            wake: None,
            joined: false,
            leaving: false,
            lookups_started: false,
            connected: false,
            arrived: now,
        };
        self.live += 1;
        if i >= self.cfg.peers {
            self.live_clients += 1;
        }
        self.metrics.counters.arrivals += 1;
        if inc > 0 {
            self.metrics.counters.rejoins += 1;
        }
        let exempt = self.cfg.churn_exempt_bootstrap && i < self.cfg.bootstrap_count;
        let session = if exempt {
            None
        } else {
            self.cfg.churn.session(&mut self.churn_rng)
        };
        if let Some(session) = session {
            let at = now.max(self.cfg.churn_start) + session;
            self.queue.push(at, Ev::Depart { node: i, inc });
        }
        self.service(i);
    }

    fn deliver(&mut self, to: u32, inc: u32, from: u32, bytes: Vec<u8>) {
        let now = self.now;
        let slot = &mut self.slots[to as usize];
        match slot.node.as_mut() {
            Some(node) if slot.incarnation == inc => {
                self.trace.delivered(now.0, to, &bytes);
                self.metrics.counters.datagrams_delivered += 1;
                node.handle_datagram(now, NodeIndex(from).addr(), &bytes);
                self.service(to);
            }
            _ => self.metrics.counters.datagrams_to_dead += 1,
        }
    }

    fn wake(&mut self, i: u32, inc: u32) {
        let now = self.now;
        let slot = &mut self.slots[i as usize];
        match slot.node.as_mut() {
            Some(node) if slot.incarnation == inc && slot.wake == Some(now) => {
                slot.wake = None;
                if node.poll_timeout().is_some_and(|t| t <= now) {
                    self.metrics.counters.timer_wakeups += 1;
                    node.handle_timeout(now);
                }
                self.service(i);
            }
            _ => self.metrics.counters.timer_stale += 1,
        }
    }

    fn depart(&mut self, i: u32, inc: u32) {
        if !self.is_live(i, inc) {
            return;
        }
        match self.cfg.churn.fate(&mut self.churn_rng) {
            Fate::Crash => self.crash(i),
            Fate::Leave => self.start_leave(i),
        }
    }

    /// The node in slot `i` stops at once, sending nothing.
    fn crash(&mut self, i: u32) {
        self.metrics.counters.crashes += 1;
        self.remove(i);
    }

    /// The node in slot `i` leaves gracefully; it is removed on `Event::Left` or at the cap.
    fn start_leave(&mut self, i: u32) {
        let now = self.now;
        let slot = &mut self.slots[i as usize];
        let inc = slot.incarnation;
        slot.leaving = true;
        if let Some(node) = slot.node.as_mut() {
            node.leave(now);
        }
        self.metrics.counters.leaves += 1;
        self.queue
            .push(now + self.cfg.leave_cap, Ev::LeaveCap { node: i, inc });
        self.service(i);
    }

    /// Ends the node life in slot `i` (crash, finished leave, or leave cap) and schedules
    /// its return if the churn model has a down time.
    fn remove(&mut self, i: u32) {
        let initial = self.is_initial(i);
        let slot = &mut self.slots[i as usize];
        let Some(node) = slot.node.take() else {
            return;
        };
        let id = node.node_id();
        if slot.joined {
            self.oracle.remove(id);
        }
        if slot.incarnation == 0 && !slot.lookups_started && initial {
            self.initial_unjoined -= 1;
        }
        if i >= self.cfg.peers {
            self.live_clients -= 1;
        }
        slot.joined = false;
        slot.leaving = false;
        slot.wake = None;
        slot.incarnation += 1;
        self.live -= 1;
        add_stats(&mut self.node_stats, &node.stats());
        self.workloads_removed(i, id);
        match self.faults.after_removal(i) {
            timeline::After::Churn => {
                if let Some(down) = self.cfg.churn.down_time(&mut self.churn_rng) {
                    self.queue.push(self.now + down, Ev::Arrive(i));
                }
            }
            timeline::After::Never => {}
            timeline::After::Restart(at) => self.queue.push(at, Ev::Arrive(i)),
        }
    }

    /// Drains the outputs of the node in slot `i`: transmits, then events, then its timer.
    fn service(&mut self, i: u32) {
        let slot = &mut self.slots[i as usize];
        let inc = slot.incarnation;
        let Some(node) = slot.node.as_mut() else {
            return;
        };
        let mut tx = std::mem::take(&mut self.tx_buf);
        let mut evs = std::mem::take(&mut self.ev_buf);
        while let Some(t) = node.poll_transmit() {
            tx.push(t);
        }
        while let Some(e) = node.poll_event() {
            evs.push(e);
        }
        while let Some(a) = node.poll_link_close() {
            self.close_buf.push(a);
        }
        let timeout = node.poll_timeout();
        let joined = node.state() == NodeState::Joined;
        let id = node.node_id();
        for t in tx.drain(..) {
            self.transmit(i, t);
        }
        while let Some(a) = self.close_buf.pop() {
            self.close(i, a);
        }
        self.sync_joined(i, id, joined);
        for e in evs.drain(..) {
            self.on_event(i, id, e);
        }
        self.tx_buf = tx;
        self.ev_buf = evs;
        if self.is_live(i, inc) {
            let slot = &mut self.slots[i as usize];
            match timeout {
                None => slot.wake = None,
                Some(t) => {
                    // Only an earlier deadline needs a new queue entry; a later one is
                    // picked up when the earlier wake fires (see `wake`). This keeps
                    // superseded timer entries from piling up in the queue.
                    let t = t.max(self.now);
                    if slot.wake.is_none_or(|w| t < w) {
                        slot.wake = Some(t);
                        self.queue.push(t, Ev::Wake { node: i, inc });
                    }
                }
            }
        }
    }

    /// Slot `from` closed its link to `to`: the other end hears of it after the network's
    /// latency (and may miss it, as a lost DTLS alert), like a datagram.
    fn close(&mut self, from: u32, to: SocketAddr) {
        self.metrics.counters.link_closes += 1;
        let Some(NodeIndex(to)) = NodeIndex::from_addr(to) else {
            return;
        };
        if (to as usize) >= self.slots.len() {
            return;
        }
        let inc = self.slots[to as usize].incarnation;
        self.send(from, to, inc, None);
    }

    fn transmit(&mut self, from: u32, t: Transmit) {
        self.metrics.sent(&t.bytes);
        if let Some(c) = self.capture.as_mut() {
            c.sent(self.now, NodeIndex(from), t.to, &t.bytes);
        }
        let to = match NodeIndex::from_addr(t.to) {
            Some(NodeIndex(to)) if (to as usize) < self.slots.len() => to,
            _ => {
                self.metrics.counters.datagrams_unroutable += 1;
                return;
            }
        };
        let inc = self.slots[to as usize].incarnation;
        self.send(from, to, inc, Some(t.bytes));
    }

    /// Hands a datagram (`bytes`) or a link close (`None`) from slot `from` to the network
    /// towards incarnation `inc` of slot `to`. A lost close is not counted: a close is no
    /// datagram.
    fn send(&mut self, from: u32, to: u32, inc: u32, bytes: Option<Vec<u8>>) {
        match self.network.transit(from, to) {
            Transit::Arrives(d) => {
                let ev = match bytes {
                    Some(bytes) => Ev::Deliver {
                        to,
                        inc,
                        from,
                        bytes,
                    },
                    None => Ev::LinkClose { to, inc, from },
                };
                self.queue.push(self.now + d, ev);
            }
            Transit::Lost => {
                if bytes.is_some() {
                    self.metrics.counters.datagrams_lost += 1;
                }
            }
            Transit::Partitioned => self.metrics.counters.datagrams_partitioned += 1,
            Transit::Held => {
                self.metrics.counters.datagrams_held += 1;
                self.faults.held.push(timeline::Held {
                    from,
                    to,
                    inc,
                    bytes,
                });
            }
        }
    }

    /// Mirrors the node's Joined state into the oracle; starts its lookups on its first join.
    fn sync_joined(&mut self, i: u32, id: NodeId, joined: bool) {
        let initial = self.is_initial(i);
        let slot = &mut self.slots[i as usize];
        if slot.joined == joined {
            return;
        }
        slot.joined = joined;
        if !joined {
            self.oracle.remove(id);
            return;
        }
        self.oracle.insert(id, i);
        if !slot.lookups_started {
            slot.lookups_started = true;
            if slot.incarnation == 0 && initial {
                self.initial_unjoined -= 1;
            }
            self.metrics.counters.joins += 1;
            // Peers of a prebuilt ring start joined: no join to time.
            let prebuilt =
                initial && slot.incarnation == 0 && self.cfg.arrival == Arrival::Prebuilt;
            if !prebuilt {
                self.metrics.join_time.record((self.now - slot.arrived).0);
            }
            let inc = slot.incarnation;
            self.workloads_peer_joined(i, inc);
        }
    }

    fn on_event(&mut self, i: u32, id: NodeId, e: Event) {
        let Some(e) = self.workloads_event(i, id, e) else {
            return;
        };
        match e {
            Event::Joined
            | Event::NeighborsChanged
            | Event::Fetched { .. }
            | Event::AorLookedUp { .. } => {}
            Event::Connected => {
                let slot = &mut self.slots[i as usize];
                if !slot.connected {
                    slot.connected = true;
                    self.metrics.counters.clients_connected += 1;
                    self.metrics
                        .connect_time
                        .record((self.now - slot.arrived).0);
                    let inc = slot.incarnation;
                    self.workloads_client_connected(i, inc);
                }
            }
            Event::JoinAttemptFailed { .. } => self.metrics.counters.join_attempts_failed += 1,
            Event::Left => self.remove(i),
            // Taken by the workloads above.
            Event::CallDone { .. }
            | Event::RequestDone { .. }
            | Event::Registered { .. }
            | Event::RequestServed { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_map_to_slots_and_back() {
        for i in [
            0u32,
            1,
            254,
            255,
            256,
            65_535,
            1_000_000,
            NodeIndex::MAX_SLOTS - 1,
        ] {
            let a = NodeIndex(i).addr();
            assert_eq!(NodeIndex::from_addr(a), Some(NodeIndex(i)), "{a}");
        }
        assert_eq!(NodeIndex(0).addr().to_string(), "10.0.0.1:6084");
        assert_eq!(NodeIndex(255).addr().to_string(), "10.0.1.0:6084");
        assert_eq!(NodeIndex::from_addr("10.0.0.0:6084".parse().unwrap()), None);
        assert_eq!(NodeIndex::from_addr("10.0.0.1:5060".parse().unwrap()), None);
        assert_eq!(NodeIndex::from_addr("11.0.0.1:6084".parse().unwrap()), None);
    }
}

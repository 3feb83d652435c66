//! The deterministic discrete-event engine: one run is one thread, driven by one master
//! seed, and the same scenario and seed give the same bytes on the wire, the same trace
//! digest and the same CSV files.
//!
//! - [`engine`]: [`Sim`], the event loop, node slots and `service()`; ordering rules.
//! - [`queue`]: the hot event queue (a radix heap), ordered by `(time, seq)`.
//! - [`rng`]: independent ChaCha streams per purpose and per node.
//! - [`network`]: latency and loss models of the simulated underlay.
//! - [`churn`], [`workload`]: when peers come and go; when they look keys up, register
//!   and call.
//! - [`timeline`]: scheduled events (`[[events]]`): mass failures, flash crowds,
//!   partitions, held traffic, loss and latency changes.
//! - [`oracle`]: the true ring, for correctness metrics only.
//! - [`recovery`]: how the overlay recovers from each scheduled event.
//! - [`lookups`]: the ledger of lookups (one CSV row each).
//! - [`calls`]: the ledger of SIP calls (one CSV row each).
//! - [`book`]: the reorder window both ledgers hold their recent records in.
//! - [`sink`]: where finished records and samples go ([`sink::RecordSink`]).
//! - [`metrics`], [`trace`]: counters, per-interval samples, and the run digest.
//! - [`series`]: figures over the time series, sample by sample.
//! - [`frame`]: reading a frame's kind and message code without decoding it.
//! - [`config`]: the typed run configuration ([`SimConfig`]).
//! - [`capture`]: the optional sink of every frame sent; pcap export (`run --pcap`).

pub mod book;
pub mod calls;
pub mod capture;
pub mod churn;
pub mod config;
pub mod dist;
pub mod engine;
pub mod frame;
pub mod lookups;
pub mod metrics;
pub mod network;
pub mod oracle;
pub mod prebuilt;
pub mod queue;
pub mod recovery;
pub mod rng;
pub mod series;
pub mod sink;
pub mod timeline;
pub mod trace;
pub mod workload;

pub use crate::proto::peer::Peer;
pub use config::{Arrival, SimConfig};
pub use engine::{NodeIndex, RunOutput, Sim};

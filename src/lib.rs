//! # reload-sim
//!
//! A deterministic discrete-event simulator of P2PSIP overlays built on RELOAD (RFC 6940)
//! with its CHORD-RELOAD topology plugin and the SIP usage (RFC 7904).
//!
//! ## Module map
//! - [`time`]: `Time` and `Duration` in nanoseconds; the only notion of time in the core.
//! - [`proto`]: the sans-IO RELOAD peer. [`proto::node::Node`] is the peer (CHORD-RELOAD);
//!   [`proto::link`], [`proto::transaction`] and [`proto::chord`] are its parts;
//!   [`proto::id`] holds identifiers and ring maths; [`proto::wire`] is the complete RFC 6940
//!   codec.
//! - [`pcap`]: classic pcap reading and writing (Ethernet/IPv4/UDP/TCP) for captures.
//! - [`inspect`]: rendering decoded messages as text and JSON (`reload-sim decode`).
//! - [`sim`]: the deterministic discrete-event engine (queue, slots, network, churn,
//!   workload, oracle, metrics, trace digest).
//! - [`scenario`]: TOML scenario files, `--set` overrides, the scenario hash.
//! - [`report`]: `lookups.csv`, `call_setups.csv`, `timeseries.csv`, `traffic.csv`,
//!   `summary.json`.
//! - [`plot`]: PNG/SVG plots of run and sweep folders (plotters, embedded font).
//! - [`html`]: `report.html` of run and sweep folders, above [`plot`] and [`report`].
//! - [`runner`]: `reload-sim run` as a library call.
//! - [`outdir`]: output folders: what they hold, refusing to overwrite, result sets.
//!
//! ## Determinism
//! Protocol code takes time and randomness from its caller and never iterates a `HashMap`
//! into output, so the same inputs give the same bytes. The simulator adds one master seed
//! split into independent streams and an event order fixed by `(time, insertion counter)`:
//! one scenario and seed give the same trace digest and byte-identical CSV files.

#![warn(missing_docs)]

pub mod check;
pub mod expect;
pub mod html;
pub mod inspect;
pub mod io;
pub mod outdir;
pub mod pcap;
pub mod plot;
pub mod proto;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sim;
pub mod sweep;
#[cfg(test)]
mod test_rng;
pub mod time;

//! # reload-sim
//!
//! A deterministic discrete-event simulator of P2PSIP overlays built on RELOAD (RFC 6940)
//! with its CHORD-RELOAD topology plugin and the SIP usage (RFC 7904).
//!
//! ## Module map
//! - [`time`]: `Time` and `Duration` in nanoseconds; the only notion of time in the core.
//! - [`proto`]: the sans-IO RELOAD peer. [`proto::id`] holds identifiers and ring maths;
//!   [`proto::wire`] is the complete RFC 6940 codec.
//! - [`pcap`]: classic pcap reading and writing (Ethernet/IPv4/UDP/TCP) for captures.
//! - [`inspect`]: rendering decoded messages as text and JSON (`reload-sim decode`).
//!
//! ## Determinism
//! Protocol code takes time and randomness from its caller and never iterates a `HashMap`
//! into output, so the same inputs give the same bytes.

#![warn(missing_docs)]

pub mod inspect;
pub mod pcap;
pub mod proto;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sim;
pub mod time;

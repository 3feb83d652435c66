//! The RELOAD datastore (RFC 6940 §7, RFC 7904 §3): what a storing peer holds and how it
//! answers Store, Fetch, Stat and Find.
//!
//! - [`kinds`]: Kind definitions (data model, access policy, `max-count`, `max-size`) and
//!   the overlay's [`KindConfig`].
//! - [`access`]: the §7.3 access control policies and [`SignerInfo`].
//! - [`datastore`]: [`DataStore`], per (Resource-ID, Kind) values with generation
//!   counters, expiry, tombstones, and the export used to replicate and hand off data.
//! - [`query`]: Fetch, Stat and Find on a [`DataStore`].
//!
//! Sans-IO like the rest of [`crate::proto`]: time comes in as [`crate::time::Time`],
//! signature verification is a caller-supplied function, and all outputs are ordered.

pub mod access;
pub mod datastore;
pub mod kinds;
pub mod query;

#[cfg(test)]
mod tests;

pub use access::{AccessPolicy, SignerInfo};
pub use datastore::{DataStore, StoreContext};
pub use kinds::{KindConfig, KindDef, KindError};

//! Run outputs: CSV files in tidy form (one row per lookup, one row per sample interval) and
//! `summary.json`. CSV bytes depend only on the scenario and seed; `report.html` is
//! [`crate::html`]'s.

pub mod csv;
pub mod stream;
pub mod summary;

pub use summary::{Provenance, host_json, partial_summary, summary_json};

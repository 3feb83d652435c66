//! Run outputs: CSV files in tidy form (one row per lookup, one row per sample interval) and
//! `summary.json`, and the self-contained `report.html`. CSV bytes depend only on the
//! scenario and seed.

pub mod csv;
pub mod html;
pub mod summary;

pub use summary::{Provenance, host_json, summary_json};

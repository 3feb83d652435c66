//! `reload-sim sweep`, `--shard` and `reload-sim merge`: run a scenario's `[sweep]` grid in
//! parallel (rayon), one results folder per run, then aggregate.
//!
//! A sweep folder holds `sweep.json` (the plan), `scenario.toml` (the scenario as loaded,
//! `[sweep]` included), `point-<p>/seed-<s>/` (a full run folder each), `aggregate.csv`
//! and `host.json`. Every file except the `host.json` files is byte-identical whatever the
//! thread count, sharding or merging. A run's folder appears only once complete (it is
//! written as `<dir>.partial` and renamed), so an interrupted sweep keeps what it finished
//! and a rerun skips those runs.

pub mod aggregate;
mod exec;
mod merge;
pub mod plan;
pub mod progress;
pub mod shard;

pub use exec::{SweepDone, SweepRequest, run_sweep};
pub use merge::{MergeDone, merge};
pub use plan::{Plan, plan};
pub use shard::Shard;

use crate::scenario::ScenarioError;

/// Why a sweep or merge did not happen or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The scenario is malformed.
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// The request cannot be carried out (bad grid, shard spec, mismatched shards …).
    #[error("{0}")]
    Input(String),
    /// Reading or writing results failed.
    #[error("{0}")]
    Io(String),
    /// The output folder is a file or holds something a sweep must not overwrite.
    #[error(transparent)]
    Folder(#[from] crate::outdir::OutDirError),
    /// A [`crate::runner::Stop`] request (its value) ended the sweep before its runs were
    /// done: the finished runs are kept, the runs in progress left as `<dir>.partial`.
    #[error("stopped before the sweep's runs were done")]
    Interrupted(usize),
}

//! `[expect]`: bounds on the figures of `summary.json`, checked after a run.
//!
//! ```toml
//! [expect]
//! "lookups.success_rate" = { min = 0.99 }
//! "hops.mean" = { max = 5.5 }
//! "calls.total_ms.p99" = { max = 2500 }
//! ```
//!
//! A key is a dotted path into summary.json; its value must be a number.

use serde::{Deserialize, Serialize};

/// Bounds on one figure (inclusive).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bound {
    /// The figure must be at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The figure must be at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl Bound {
    /// Checks that the bound says something and makes sense.
    pub fn validate(&self) -> Result<(), String> {
        match (self.min, self.max) {
            (None, None) => Err("give `min`, `max` or both".into()),
            (Some(a), _) | (_, Some(a)) if !a.is_finite() => Err("bounds must be finite".into()),
            (Some(lo), Some(hi)) if lo > hi => Err(format!("min {lo} is above max {hi}")),
            _ => Ok(()),
        }
    }

    /// True when `v` lies within the bounds.
    pub fn holds(&self, v: f64) -> bool {
        self.min.is_none_or(|lo| v >= lo) && self.max.is_none_or(|hi| v <= hi)
    }
}

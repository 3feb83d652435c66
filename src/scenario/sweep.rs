//! `[sweep]`: a grid over scenario fields and the seeds per point.
//!
//! ```toml
//! [sweep]
//! seeds = 3                       # seeds per point: [scenario] seed, seed + 1, …
//! metrics = ["calls.success_rate"] # summary figures aggregated besides the default set
//! [sweep.grid]
//! "peers.count" = [64, 128, 256]
//! "overlay.chord_update_interval_s" = [30, 60]
//! ```
//!
//! Points are every combination of the grid's values, fields in name order, the last
//! field varying fastest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The `[sweep]` table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// Seeds per point, ≥ 1. Default 1.
    #[serde(default = "one")]
    pub seeds: u32,
    /// Field path (`section.key`) → the values it takes.
    #[serde(default)]
    pub grid: BTreeMap<String, Vec<toml::Value>>,
    /// Extra figures (paths into summary.json) to aggregate per point.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<String>,
}

fn one() -> u32 {
    1
}

impl SweepSpec {
    /// Checks the shape: at least one field, no empty value list, seeds ≥ 1. Whether the
    /// fields exist is checked by applying each point (see `sweep::plan`).
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.seeds == 0 {
            return Err(("sweep.seeds".into(), "must be ≥ 1".into()));
        }
        if self.grid.is_empty() {
            return Err((
                "sweep.grid".into(),
                "the grid is empty: give at least one field and its values".into(),
            ));
        }
        for (field, values) in &self.grid {
            if values.is_empty() {
                return Err((format!("sweep.grid.{field}"), "has no values".into()));
            }
            for (i, v) in values.iter().enumerate() {
                if values[..i].iter().any(|w| same_value(v, w)) {
                    return Err((
                        format!("sweep.grid.{field}"),
                        format!("value {v} is listed twice: its points would run twice"),
                    ));
                }
            }
            if field == "scenario.seed" {
                return Err((
                    format!("sweep.grid.{field}"),
                    "seeds are not a grid field: set `[sweep] seeds` (runs use [scenario] seed, seed + 1, …)"
                        .into(),
                ));
            }
            if field.starts_with("sweep.") || field == "sweep" {
                return Err((
                    format!("sweep.grid.{field}"),
                    "a sweep cannot sweep itself".into(),
                ));
            }
        }
        Ok(())
    }
}

/// True when two grid values set a field alike: equal, or the same number written as an
/// integer and as a float (`10` and `10.0`).
fn same_value(a: &toml::Value, b: &toml::Value) -> bool {
    use toml::Value::{Float, Integer};
    match (a, b) {
        (Integer(i), Float(f)) | (Float(f), Integer(i)) => *i as f64 == *f,
        _ => a == b,
    }
}

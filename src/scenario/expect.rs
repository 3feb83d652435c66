//! `[expect]`: bounds on the figures of `summary.json`, checked after a run.
//!
//! ```toml
//! [expect]
//! "lookups.success_rate" = { min = 0.99 }
//! "hops.mean" = { max = 5.5 }
//! "calls.total_ms.p99" = { max = 2500 }
//! ```
//!
//! A key is a dotted path into summary.json; its value must be a number. A limit is a number
//! or an expression of the scenario's fields (see [`super::bound_expr`]), evaluated with the
//! scenario as run (after `--set` and sweep overrides), so a bound can scale with N:
//!
//! ```toml
//! "hops.mean" = { max = "0.5 * log2(peers.count) + 1.2" }
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::bound_expr;

/// One limit of a bound: a number, or an expression of scenario fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Limit {
    /// A fixed number.
    Number(f64),
    /// An expression such as `"0.5 * log2(peers.count) + 1.2"`.
    Expr(String),
}

impl Limit {
    /// The limit's value for a scenario whose fields are `fields` (the scenario as JSON).
    pub fn value(&self, fields: &Value) -> Result<f64, String> {
        match self {
            Limit::Number(v) => Ok(*v),
            Limit::Expr(e) => bound_expr::evaluate(e, fields),
        }
    }
}

/// Bounds on one figure (inclusive), as the scenario file gives them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bound {
    /// The figure must be at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Limit>,
    /// The figure must be at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Limit>,
}

impl Bound {
    /// The bound's numbers for a scenario whose fields are `fields`; checks that the bound
    /// says something and makes sense.
    pub fn resolve(&self, fields: &Value) -> Result<Limits, String> {
        let value = |l: &Option<Limit>, which: &str| {
            l.as_ref()
                .map(|l| l.value(fields).map_err(|e| format!("`{which}`: {e}")))
                .transpose()
        };
        let limits = Limits {
            min: value(&self.min, "min")?,
            max: value(&self.max, "max")?,
        };
        limits.validate()?;
        Ok(limits)
    }
}

/// Bounds on one figure (inclusive), as numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limits {
    /// The figure must be at least this.
    pub min: Option<f64>,
    /// The figure must be at most this.
    pub max: Option<f64>,
}

impl Limits {
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

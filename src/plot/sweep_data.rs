//! A sweep folder: `sweep.json` (what was swept) and `aggregate.csv` (one row per point
//! per metric: mean and 95 % confidence interval over the seeds of the point).

use std::path::Path;

use serde_json::Value;

use super::PlotError;
use super::data::{json_text, read_csv, read_json};

/// The sweep's description.
pub const SWEEP_JSON: &str = "sweep.json";
/// The sweep's results, tidy: `point,<fields…>,metric,runs,mean,ci95_low,ci95_high`.
pub const AGGREGATE_CSV: &str = "aggregate.csv";

/// The value of a swept field at a point.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    /// A number (as written, and parsed).
    Number(f64),
    /// `true` or `false`.
    Bool(bool),
    /// Anything else.
    Text(String),
}

impl FieldValue {
    /// Reads a CSV cell: a finite number, a boolean, or text.
    pub fn parse(s: &str) -> Self {
        let s = s.trim();
        match s {
            "true" => return FieldValue::Bool(true),
            "false" => return FieldValue::Bool(false),
            _ => {}
        }
        match s.parse::<f64>() {
            Ok(x) if x.is_finite() => FieldValue::Number(x),
            _ => FieldValue::Text(s.to_string()),
        }
    }

    /// The number, if this is one.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            FieldValue::Number(x) => Some(*x),
            _ => None,
        }
    }
}

impl std::fmt::Display for FieldValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldValue::Number(x) => f.write_str(&super::style::num(*x, 6)),
            FieldValue::Bool(b) => write!(f, "{b}"),
            FieldValue::Text(s) => f.write_str(s),
        }
    }
}

/// `sweep.json`, the parts the plots use.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepMeta {
    /// Scenario name.
    pub scenario: String,
    /// Base seed, as written.
    pub seed: String,
    /// Swept fields (`section.key`), in order.
    pub fields: Vec<String>,
    /// Runs (seeds) per point, when given.
    pub seeds_per_point: Option<u64>,
}

impl SweepMeta {
    /// The seeds every point ran, for titles: `seed 1` for one, `seeds 1–3` for
    /// `seeds_per_point` = 3 from base seed 1 (a point's seeds are the base seed and the
    /// ones after it). `seed <base>` when `seeds_per_point` is unknown; `<n> seeds from
    /// <base>` when the range wraps past 2^64 − 1 or the base is not an integer.
    pub fn seeds_label(&self) -> String {
        let n = match self.seeds_per_point {
            None | Some(0 | 1) => return format!("seed {}", self.seed),
            Some(n) => n,
        };
        let last = self
            .seed
            .parse::<u64>()
            .ok()
            .and_then(|first| first.checked_add(n - 1));
        match last {
            Some(last) => format!("seeds {}–{last}", self.seed),
            None => format!("{n} seeds from {}", self.seed),
        }
    }
}

/// One row of `aggregate.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct AggregateRow {
    /// Point number.
    pub point: u64,
    /// Values of the swept fields at the point, in [`Sweep::fields`] order.
    pub values: Vec<FieldValue>,
    /// Metric name (its unit is part of the name, e.g. `latency_ms_p99`).
    pub metric: String,
    /// Runs that gave this metric.
    pub runs: u64,
    /// Mean over the runs; `None` when empty or not a number.
    pub mean: Option<f64>,
    /// Lower end of the 95 % confidence interval of the mean, when known.
    pub ci95_low: Option<f64>,
    /// Upper end of the 95 % confidence interval of the mean, when known.
    pub ci95_high: Option<f64>,
}

/// A loaded sweep folder.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    /// From `sweep.json`.
    pub meta: SweepMeta,
    /// Field columns of `aggregate.csv` (between `point` and `metric`).
    pub fields: Vec<String>,
    /// Metric names in order of first appearance.
    pub metrics: Vec<String>,
    /// Rows sorted by (point, metric order).
    pub rows: Vec<AggregateRow>,
}

impl Sweep {
    /// The point numbers, ascending, each with its field values.
    pub fn points(&self) -> Vec<(u64, &[FieldValue])> {
        let mut out: Vec<(u64, &[FieldValue])> = Vec::new();
        for r in &self.rows {
            if out.last().is_none_or(|(p, _)| *p != r.point) {
                out.push((r.point, &r.values));
            }
        }
        out
    }

    /// The row of `metric` at `point`.
    pub fn get(&self, point: u64, metric: &str) -> Option<&AggregateRow> {
        self.rows
            .iter()
            .find(|r| r.point == point && r.metric == metric)
    }

    /// Whether every value of field `i` is a number.
    pub fn is_numeric(&self, i: usize) -> bool {
        !self.rows.is_empty() && self.rows.iter().all(|r| r.values[i].as_number().is_some())
    }
}

/// Reads `sweep.json` and `aggregate.csv` of `dir`.
pub fn load_sweep(dir: &Path) -> Result<Sweep, PlotError> {
    let meta = load_meta(dir)?;
    let path = dir.join(AGGREGATE_CSV);
    let header = read_header(&path)?;
    let point_at = header.iter().position(|h| h == "point");
    let metric_at = header.iter().position(|h| h == "metric");
    let (Some(0), Some(m)) = (point_at, metric_at) else {
        return Err(PlotError::malformed(
            &path,
            Some(1),
            "the header must start with `point` and have a `metric` column",
        ));
    };
    let fields: Vec<String> = header[1..m].to_vec();
    let mut rows = read_csv(&path, |c, r| {
        let values = (1..m)
            .map(|i| r.get(i).map(FieldValue::parse).ok_or("short row"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AggregateRow {
            point: c.parse(r, "point")?,
            values,
            metric: c.text(r, "metric")?.trim().to_string(),
            runs: c.parse(r, "runs")?,
            mean: loose(c.text(r, "mean")?),
            ci95_low: loose(c.text(r, "ci95_low")?),
            ci95_high: loose(c.text(r, "ci95_high")?),
        })
    })?
    .ok_or_else(|| PlotError::Missing {
        path: path.clone(),
        what: "a sweep's aggregated results",
    })?;
    let mut metrics: Vec<String> = Vec::new();
    for r in &rows {
        if !metrics.contains(&r.metric) {
            metrics.push(r.metric.clone());
        }
    }
    let rank = |m: &str| metrics.iter().position(|x| x == m).unwrap_or(usize::MAX);
    rows.sort_by_key(|r| (r.point, rank(&r.metric)));
    Ok(Sweep {
        meta,
        fields,
        metrics,
        rows,
    })
}

/// A number, or `None` for an empty cell, `NaN` or anything else that is not a finite
/// number (a metric without data at a point).
fn loose(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

fn read_header(path: &Path) -> Result<Vec<String>, PlotError> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(PlotError::Missing {
                path: path.to_path_buf(),
                what: "a sweep's aggregated results",
            });
        }
        Err(e) => return Err(PlotError::io(path, e)),
    };
    let mut r = csv::Reader::from_reader(std::io::BufReader::new(file));
    let h = r
        .headers()
        .map_err(|e| PlotError::malformed(path, Some(1), e.to_string()))?;
    Ok(h.iter().map(|s| s.trim().to_string()).collect())
}

fn load_meta(dir: &Path) -> Result<SweepMeta, PlotError> {
    let path = dir.join(SWEEP_JSON);
    let v = read_json(&path)?;
    let bad = |m: &str| PlotError::malformed(&path, None, m.to_string());
    let text = |k: &str| match v.get(k) {
        Some(x @ (Value::String(_) | Value::Number(_))) => Ok(json_text(x)),
        _ => Err(bad(&format!("`{k}` is missing or not a string or number"))),
    };
    let fields = match v.get("fields") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|f| f.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("`fields` must be a list of strings"))?,
        None => Vec::new(),
        Some(_) => return Err(bad("`fields` must be a list of strings")),
    };
    Ok(SweepMeta {
        scenario: text("scenario")?,
        seed: text("seed")?,
        fields,
        seeds_per_point: v.get("seeds_per_point").and_then(Value::as_u64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_values_parse_numbers_booleans_and_text() {
        assert_eq!(FieldValue::parse("64"), FieldValue::Number(64.0));
        assert_eq!(FieldValue::parse(" 0.5 "), FieldValue::Number(0.5));
        assert_eq!(FieldValue::parse("true"), FieldValue::Bool(true));
        assert_eq!(
            FieldValue::parse("uniform"),
            FieldValue::Text("uniform".into())
        );
        assert_eq!(FieldValue::parse("NaN"), FieldValue::Text("NaN".into()));
        assert_eq!(FieldValue::Number(64.0).to_string(), "64");
    }

    #[test]
    fn seed_labels_name_the_range_of_seeds() {
        let meta = |seed: &str, n: Option<u64>| SweepMeta {
            scenario: "s".into(),
            seed: seed.into(),
            fields: Vec::new(),
            seeds_per_point: n,
        };
        assert_eq!(meta("1", Some(3)).seeds_label(), "seeds 1–3");
        assert_eq!(meta("7", Some(1)).seeds_label(), "seed 7");
        assert_eq!(meta("7", None).seeds_label(), "seed 7");
        assert_eq!(
            meta("18446744073709551615", Some(2)).seeds_label(),
            "2 seeds from 18446744073709551615"
        );
        assert_eq!(meta("x", Some(2)).seeds_label(), "2 seeds from x");
    }

    #[test]
    fn loose_numbers() {
        assert_eq!(loose(""), None);
        assert_eq!(loose("NaN"), None);
        assert_eq!(loose("1.5"), Some(1.5));
    }
}

//! `aggregate.csv`: per point and figure, the mean over the point's seeds and its 95 %
//! confidence interval (Student's t, clamped into the figure's possible range), read back
//! from every run's `summary.json`, so a merged sweep aggregates exactly as an unsharded
//! one. Runs where a figure is undefined (`null`) are left out of its mean.

use std::path::Path;

use serde_json::Value;

use super::SweepError;
use super::plan::Plan;
use crate::expect::figure;
use crate::scenario::sweep::SweepSpec;

/// Figures aggregated for every sweep (paths into summary.json); `[sweep] metrics` adds
/// more.
pub const DEFAULT_METRICS: [&str; 16] = [
    "lookups.success_rate",
    "hops.mean",
    "hops.p50",
    "hops.p99",
    "latency_ms.mean",
    "latency_ms.p99",
    "join_time_s.mean",
    "join_time_s.p99",
    "final.ring_correct_fraction",
    "ring.mean_after_formed",
    "ring.longest_recovery_s",
    "traffic.bytes_per_peer_per_s",
    "traffic.messages_per_peer_per_s",
    "calls.success_rate",
    "calls.total_ms.p99",
    "availability.mean",
];

/// The figures a sweep aggregates, in column order.
pub fn metric_names(spec: &SweepSpec) -> Vec<String> {
    let mut m: Vec<String> = DEFAULT_METRICS.iter().map(|s| s.to_string()).collect();
    for extra in &spec.metrics {
        if !m.contains(extra) {
            m.push(extra.clone());
        }
    }
    m
}

/// Two-sided 97.5 % quantiles of Student's t for 1..=30 degrees of freedom.
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// Mean and 95 % confidence interval of `xs` (the interval is the mean itself for one
/// value; the normal 1.96 beyond 31 values).
pub fn mean_ci(xs: &[f64]) -> (f64, f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (mean, mean, mean);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = T_975.get(n - 2).copied().unwrap_or(1.96);
    let half = t * (var / n as f64).sqrt();
    (mean, mean - half, mean + half)
}

/// The range a figure's values can take: every summary figure is non-negative (counts,
/// times, hops, rates), and rates and fractions are at most 1.
pub fn figure_range(path: &str) -> (f64, f64) {
    let last = path.rsplit('.').next().unwrap_or(path);
    let fraction = last.ends_with("_rate")
        || last.ends_with("_fraction")
        || path.ends_with("_after_formed")
        || matches!(
            path,
            "availability.final" | "availability.mean" | "availability.min"
        );
    (0.0, if fraction { 1.0 } else { f64::INFINITY })
}

/// [`mean_ci`] with the interval clamped into the figure's possible range
/// ([`figure_range`]): a fraction's interval never passes 1, a time's never 0.
pub fn mean_ci_in_range(path: &str, xs: &[f64]) -> (f64, f64, f64) {
    let (mean, lo, hi) = mean_ci(xs);
    let (min, max) = figure_range(path);
    (mean, lo.clamp(min, max), hi.clamp(min, max))
}

/// A point's value of a field as a CSV cell: numbers and booleans as TOML writes them,
/// strings bare.
fn cell(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Builds `aggregate.csv` from the runs' summaries under `dir`.
pub fn aggregate_csv(dir: &Path, plan: &Plan) -> Result<Vec<u8>, SweepError> {
    let metrics = metric_names(&plan.spec);
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["point".to_string()];
    header.extend(plan.spec.grid.keys().cloned());
    header.extend(["metric", "runs", "mean", "ci95_low", "ci95_high"].map(String::from));
    let csv_err = |e: csv::Error| SweepError::Io(format!("aggregate.csv: {e}"));
    w.write_record(&header).map_err(csv_err)?;
    for p in &plan.points {
        let mut summaries = Vec::new();
        for r in plan.runs.iter().filter(|r| r.point == p.index) {
            summaries.push(read_summary(&dir.join(&r.dir))?);
        }
        for m in &metrics {
            // Runs where the figure is undefined (null) are left out; a point where no run
            // defines it has no row.
            let xs: Vec<f64> = summaries.iter().filter_map(|s| figure(s, m)).collect();
            if xs.is_empty() {
                continue;
            }
            let (mean, lo, hi) = mean_ci_in_range(m, &xs);
            let mut row = vec![p.index.to_string()];
            row.extend(p.values.iter().map(|(_, v)| cell(v)));
            let num = |x: f64| {
                if x.is_finite() {
                    x.to_string()
                } else {
                    String::new()
                }
            };
            row.extend([m.clone(), xs.len().to_string(), num(mean), num(lo), num(hi)]);
            w.write_record(&row).map_err(csv_err)?;
        }
    }
    w.into_inner()
        .map_err(|e| SweepError::Io(format!("aggregate.csv: {e}")))
}

/// A run folder's summary.json.
pub fn read_summary(run_dir: &Path) -> Result<Value, SweepError> {
    let p = run_dir.join("summary.json");
    let bytes = std::fs::read(&p).map_err(|e| SweepError::Io(format!("{}: {e}", p.display())))?;
    serde_json::from_slice(&bytes).map_err(|e| SweepError::Io(format!("{}: {e}", p.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_interval_of_known_samples() {
        let (m, lo, hi) = mean_ci(&[1.0, 2.0, 3.0]);
        assert_eq!(m, 2.0);
        // s = 1, t(2) = 4.303, half = 4.303 / sqrt(3).
        assert!((hi - m - 4.303 / 3f64.sqrt()).abs() < 1e-12);
        assert!((m - lo - (hi - m)).abs() < 1e-12);
        assert_eq!(mean_ci(&[5.0]), (5.0, 5.0, 5.0));
        assert!(mean_ci(&[]).0.is_nan());
    }

    #[test]
    fn intervals_stay_in_the_possible_range() {
        let (m, lo, hi) = mean_ci_in_range("lookups.success_rate", &[1.0, 0.9, 1.0]);
        assert!(m < 1.0 && lo < m);
        assert_eq!(hi, 1.0);
        let (_, lo, hi) = mean_ci_in_range("ring.longest_recovery_s", &[0.0, 0.0, 30.0]);
        assert_eq!(lo, 0.0);
        assert!(hi > 30.0);
        let (_, _, hi) = mean_ci_in_range("availability.min", &[0.99, 1.0]);
        assert_eq!(hi, 1.0);
        assert_eq!(figure_range("availability.final_live").1, f64::INFINITY);
        assert_eq!(figure_range("final.ring_correct_fraction").1, 1.0);
        assert_eq!(figure_range("hops.mean").1, f64::INFINITY);
    }
}

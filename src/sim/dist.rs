//! Distributions of run figures (hops, latencies, join and call-setup times) in HDR
//! histograms: 3 significant digits for percentiles, an exact sum for the mean.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Recorded values (any integer unit: hops, ns …).
#[derive(Clone, Debug)]
pub struct Dist {
    hist: Histogram<u64>,
    sum: u128,
}

impl Default for Dist {
    fn default() -> Self {
        Dist::new()
    }
}

impl Dist {
    /// Empty; values up to 2^50 (13 simulated days in ns) are kept exactly to 3 digits.
    pub fn new() -> Dist {
        Dist {
            hist: Histogram::<u64>::new_with_bounds(1, 1 << 50, 3).expect("valid bounds"),
            sum: 0,
        }
    }

    /// Adds one value. Zero is kept as 1 in the histogram (its lowest bucket), exactly in
    /// the mean.
    pub fn record(&mut self, v: u64) {
        self.sum += u128::from(v);
        self.hist.saturating_record(v.max(1));
    }

    /// The summary with every value divided by `unit` (1 for counts, 1e6 for ns → ms).
    pub fn spread(&self, unit: f64) -> Spread {
        if self.hist.is_empty() {
            return Spread::default();
        }
        let q = |q: f64| self.hist.value_at_quantile(q) as f64 / unit;
        Spread {
            count: self.hist.len(),
            mean: self.sum as f64 / self.hist.len() as f64 / unit,
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            max: self.hist.max() as f64 / unit,
        }
    }
}

/// Mean, percentiles and maximum of a distribution, in the unit its name states. All zero
/// when empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Spread {
    /// Values recorded.
    pub count: u64,
    /// Exact mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_of_known_values() {
        let mut d = Dist::new();
        assert_eq!(d.spread(1.0), Spread::default());
        for v in 1..=100u64 {
            d.record(v * 1_000_000);
        }
        let s = d.spread(1e6);
        assert_eq!(s.count, 100);
        assert!((s.mean - 50.5).abs() < 1e-12);
        assert!((s.p50 - 50.0).abs() < 0.1, "{s:?}");
        assert!((s.p90 - 90.0).abs() < 0.1, "{s:?}");
        assert!((s.p99 - 99.0).abs() < 0.1, "{s:?}");
        assert!((s.max - 100.0).abs() < 0.1, "{s:?}");
    }
}

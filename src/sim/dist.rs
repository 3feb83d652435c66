//! Distributions of run figures (hops, latencies, join and call-setup times) in HDR
//! histograms: an exact count, mean, minimum and maximum, and percentiles to 3
//! significant digits.
//!
//! A percentile is the nearest-rank value (the smallest recorded value with at least
//! q·count values at or below it) as the histogram holds it: exact for integers below
//! 2,048 (hop counts) and for 0, otherwise the top of the histogram bucket holding it,
//! which is at most 1/1,024 (≈ 0.1 %) above the true value, and never beyond the exact
//! minimum and maximum. So a run whose values are all equal reports that value at every
//! percentile.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Recorded values (any integer unit: hops, ns …).
#[derive(Clone, Debug)]
pub struct Dist {
    hist: Histogram<u64>,
    sum: u128,
    min: u64,
    max: u64,
}

impl Default for Dist {
    fn default() -> Self {
        Dist::new()
    }
}

impl Dist {
    /// Empty; values up to 2^50 (13 simulated days in ns) are kept to 3 digits.
    pub fn new() -> Dist {
        Dist {
            hist: Histogram::<u64>::new_with_bounds(1, 1 << 50, 3).expect("valid bounds"),
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }

    /// Adds one value (0 included, exactly).
    pub fn record(&mut self, v: u64) {
        self.sum += u128::from(v);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.hist.saturating_record(v);
    }

    /// The summary with every value divided by `unit` (1 for counts, 1e6 for ns → ms).
    pub fn spread(&self, unit: f64) -> Spread {
        let count = self.hist.len();
        if count == 0 {
            return Spread::default();
        }
        let q = |q: f64| {
            let v = self.hist.value_at_quantile(q).clamp(self.min, self.max);
            Some(v as f64 / unit)
        };
        Spread {
            count,
            mean: Some(self.sum as f64 / count as f64 / unit),
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            max: Some(self.max as f64 / unit),
        }
    }
}

/// Count, mean, percentiles and maximum of a distribution, in the unit its name states.
/// Everything but the count is undefined (`None`, `null` in JSON) when nothing was
/// recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Spread {
    /// Values recorded.
    pub count: u64,
    /// Exact mean.
    pub mean: Option<f64>,
    /// Median (nearest rank).
    pub p50: Option<f64>,
    /// 90th percentile (nearest rank).
    pub p90: Option<f64>,
    /// 99th percentile (nearest rank).
    pub p99: Option<f64>,
    /// Exact maximum.
    pub max: Option<f64>,
}

/// `num / den`, undefined when nothing was counted.
pub fn rate(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread_of(values: &[u64], unit: f64) -> Spread {
        let mut d = Dist::new();
        for v in values {
            d.record(*v);
        }
        d.spread(unit)
    }

    #[test]
    fn spread_of_known_values() {
        let s = spread_of(
            &(1..=100u64).map(|v| v * 1_000_000).collect::<Vec<_>>(),
            1e6,
        );
        assert_eq!(s.count, 100);
        assert!((s.mean.unwrap() - 50.5).abs() < 1e-12);
        for (p, want) in [(s.p50, 50.0), (s.p90, 90.0), (s.p99, 99.0)] {
            let p = p.unwrap();
            assert!(p >= want && p <= want * (1.0 + 1.0 / 1024.0), "{s:?}");
        }
        assert_eq!(s.max, Some(100.0));
    }

    #[test]
    fn empty_is_undefined() {
        let s = Dist::new().spread(1.0);
        assert_eq!(s.count, 0);
        assert_eq!((s.mean, s.p50, s.p99, s.max), (None, None, None, None));
    }

    #[test]
    fn zeros_are_zero() {
        let s = spread_of(&[0; 10], 1e6);
        assert_eq!(
            (s.mean, s.p50, s.p90, s.p99, s.max),
            (Some(0.0), Some(0.0), Some(0.0), Some(0.0), Some(0.0))
        );
        // 63 of 114 lookups with 0 hops: the median is 0.
        let mut hops = vec![0u64; 63];
        hops.extend([1u64; 40]);
        hops.extend([2u64; 11]);
        let s = spread_of(&hops, 1.0);
        assert_eq!(
            (s.p50, s.p90, s.p99, s.max),
            (Some(0.0), Some(1.0), Some(2.0), Some(2.0))
        );
    }

    #[test]
    fn equal_values_are_exact_at_every_percentile() {
        let v = 10_217_345_678u64; // 10,217.345678 ms
        let s = spread_of(&[v; 7], 1e6);
        let ms = v as f64 / 1e6;
        assert_eq!((s.p50, s.p99, s.max), (Some(ms), Some(ms), Some(ms)));
    }

    #[test]
    fn percentiles_never_exceed_the_maximum() {
        let s = spread_of(&[1_000_000_007, 2_000_000_011, 3_000_000_013], 1.0);
        assert_eq!(s.max, Some(3_000_000_013.0));
        assert!(s.p99.unwrap() <= 3_000_000_013.0);
        assert!(s.p50.unwrap() >= 2_000_000_011.0);
    }

    #[test]
    fn rates_over_nothing_are_undefined() {
        assert_eq!(rate(0, 0), None);
        assert_eq!(rate(1, 4), Some(0.25));
    }
}

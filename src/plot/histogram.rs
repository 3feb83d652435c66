//! [`Histogram`]: the values of a CSV column counted for a CDF and its quantiles, in memory
//! that does not grow with the number of rows.
//!
//! Values are counted per distinct value, which is exact, while at most [`MAX_BINS`]
//! distinct values are held; past that, neighbouring values share bins (values whose
//! order-preserving bit patterns agree but for their last `shift` bits, a relative width
//! of about 2^(shift − 52)), `shift` being the least that keeps [`MAX_BINS`] bins or
//! fewer. A bin keeps its count and its largest value, so every point drawn is a value of
//! the column and the curve is exact at every point where a bin ends.

use std::collections::BTreeMap;

/// At most this many bins are held (65,536: about 2.5 MB).
pub const MAX_BINS: usize = 1 << 16;

/// At most this many steps are drawn per CDF; larger samples are thinned evenly (the
/// curve stays exact at every drawn step).
pub const CDF_MAX_STEPS: u64 = 2000;

/// Counts of finite values (NaN and infinities are left out; −0 counts as 0).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    /// Bin key ([`ordered`] bits shifted right by `shift`) → (values, largest value).
    bins: BTreeMap<u64, (u64, f64)>,
    /// Low bits of [`ordered`] ignored in the bin key: 0 while exact.
    shift: u32,
    /// Values counted.
    count: u64,
    /// Smallest value counted (meaningless while `count` is 0).
    min: f64,
}

/// The bits of `x` as an unsigned number in the order of the values.
fn ordered(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 0 { b | 1 << 63 } else { !b }
}

impl Histogram {
    /// Counts `x`.
    pub fn add(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        let x = if x == 0.0 { 0.0 } else { x };
        if self.count == 0 || x < self.min {
            self.min = x;
        }
        self.count += 1;
        let bin = self.bins.entry(ordered(x) >> self.shift).or_insert((0, x));
        bin.0 += 1;
        bin.1 = bin.1.max(x);
        while self.bins.len() > MAX_BINS {
            self.coarsen();
        }
    }

    /// Halves the bins' resolution: bins whose keys differ only in the last bit merge.
    fn coarsen(&mut self) {
        self.shift += 1;
        for (k, (n, max)) in std::mem::take(&mut self.bins) {
            let bin = self.bins.entry(k >> 1).or_insert((0, max));
            bin.0 += n;
            bin.1 = bin.1.max(max);
        }
    }

    /// Values counted.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether every value is counted apart (no bin holds two different values).
    pub fn is_exact(&self) -> bool {
        self.shift == 0
    }

    /// The largest value counted.
    pub fn max(&self) -> Option<f64> {
        self.bins.values().next_back().map(|b| b.1)
    }

    /// The q-quantile (0..=1), nearest rank: the value of rank ⌈q·n⌉ (at least 1), or,
    /// when bins are shared, the largest value of the bin holding that rank.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut below = 0;
        self.bins.values().find_map(|&(n, max)| {
            below += n;
            (below >= rank).then_some(max)
        })
    }

    /// The empirical CDF as a step line: points `(x, F(x))` from `(min, 0)` to `(max, 1)`,
    /// thinned to about [`CDF_MAX_STEPS`] steps. A step of `stride` = ⌈n / 2000⌉ values
    /// (and whatever more its last bin holds) ends at the largest value of its last bin,
    /// rising to the share of values at or below it.
    pub fn cdf_steps(&self) -> Vec<(f64, f64)> {
        let n = self.count;
        if n == 0 {
            return Vec::new();
        }
        let stride = n.div_ceil(CDF_MAX_STEPS).max(1);
        let mut pts = Vec::with_capacity(2 * (n / stride) as usize + 4);
        pts.push((self.min, 0.0));
        let mut bins = self.bins.values();
        let (mut start, mut upto, mut below) = (0u64, 0u64, 0.0);
        while start < n {
            // The step of values start.. ends in the bin holding value start + stride - 1.
            let last = (start + stride - 1).min(n - 1);
            let mut x = self.min;
            while upto <= last {
                let Some(&(count, max)) = bins.next() else {
                    break;
                };
                upto += count;
                x = max;
            }
            let f = upto as f64 / n as f64;
            pts.push((x, below));
            pts.push((x, f));
            below = f;
            start = upto;
        }
        pts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::stats::{quantile, sorted};

    fn of(values: impl IntoIterator<Item = f64>) -> Histogram {
        let mut h = Histogram::default();
        for v in values {
            h.add(v);
        }
        h
    }

    /// The CDF of sorted values, as drawn before the histogram (every value kept).
    fn cdf_of_sorted(sorted: &[f64]) -> Vec<(f64, f64)> {
        let n = sorted.len();
        if n == 0 {
            return Vec::new();
        }
        let stride = n.div_ceil(CDF_MAX_STEPS as usize).max(1);
        let mut pts = vec![(sorted[0], 0.0)];
        let (mut below, mut i) = (0.0, 0);
        while i < n {
            let mut j = (i + stride - 1).min(n - 1);
            while j + 1 < n && sorted[j + 1] == sorted[j] {
                j += 1;
            }
            let f = (j + 1) as f64 / n as f64;
            pts.push((sorted[j], below));
            pts.push((sorted[j], f));
            below = f;
            i = j + 1;
        }
        pts
    }

    #[test]
    fn cdf_of_a_small_sample_is_exact() {
        let h = of([3.0, 1.0, 2.0, 2.0]);
        let c = h.cdf_steps();
        assert_eq!(c.first(), Some(&(1.0, 0.0)));
        assert_eq!(c.last(), Some(&(3.0, 1.0)));
        assert!(c.contains(&(2.0, 0.75)), "{c:?}");
        assert!(Histogram::default().cdf_steps().is_empty());
        let zero = of([f64::NAN, -0.0, f64::INFINITY]);
        assert_eq!(zero.cdf_steps(), [(0.0, 0.0), (0.0, 0.0), (0.0, 1.0)]);
    }

    #[test]
    fn while_exact_the_cdf_and_quantiles_are_those_of_every_value_kept() {
        // Ties, thinning (n > 2000) and a few thousand distinct values.
        for n in [1u32, 7, 1999, 2000, 2001, 50_000] {
            let values: Vec<f64> = (0..n)
                .map(|i| f64::from(i.wrapping_mul(2_654_435_761) % 3_001) / 7.0)
                .collect();
            let h = of(values.iter().copied());
            assert!(h.is_exact());
            let v = sorted(values);
            assert_eq!(h.cdf_steps(), cdf_of_sorted(&v), "n = {n}");
            for q in [0.0, 0.1, 0.5, 0.9, 0.99, 1.0] {
                assert_eq!(h.quantile(q), quantile(&v, q), "n = {n}, q = {q}");
            }
            assert_eq!(h.max(), v.last().copied());
        }
    }

    #[test]
    fn past_the_bin_limit_memory_stays_bounded_and_the_curve_close() {
        // 400,000 distinct latencies between 20 and 1,000 ms.
        let n = 400_000u64;
        let value = |i: u64| 20.0 + (i.wrapping_mul(2_654_435_761) % n) as f64 * 980.0 / n as f64;
        let h = of((0..n).map(value));
        assert!(!h.is_exact());
        assert!(h.bins.len() <= MAX_BINS);
        let v = sorted((0..n).map(value));
        assert_eq!((h.len(), h.max()), (n, v.last().copied()));
        let c = h.cdf_steps();
        assert!(c.len() <= 2 * CDF_MAX_STEPS as usize + 2, "{}", c.len());
        assert!(c.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
        assert_eq!(
            (c[0], *c.last().unwrap()),
            ((20.0, 0.0), (v[v.len() - 1], 1.0))
        );
        // Every step is at a value of the sample, within 0.1 % of the exact quantile.
        for &(x, f) in c.iter().skip(2).step_by(2) {
            let exact = quantile(&v, f).unwrap();
            assert!(v.binary_search_by(|y| y.total_cmp(&x)).is_ok(), "{x}");
            assert!((x - exact).abs() <= exact * 1e-3, "{x} vs {exact}");
        }
        for q in [0.5, 0.99] {
            let (a, b) = (h.quantile(q).unwrap(), quantile(&v, q).unwrap());
            assert!(a >= b && a - b <= b * 1e-3, "{a} vs {b}");
        }
    }
}

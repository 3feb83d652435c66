//! Small numeric helpers for the plots: empirical CDFs, quantiles, least-squares lines.

/// At most this many steps are drawn per CDF; larger samples are thinned evenly (the
/// curve stays exact at every drawn step).
pub const CDF_MAX_STEPS: usize = 2000;

/// Sorts finite values ascending (NaN and infinities are dropped).
pub fn sorted(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// The empirical CDF of sorted values as a step line: points `(x, F(x))`, starting at
/// `(first, 0)` and ending at `(last, 1)`. Thinned to about [`CDF_MAX_STEPS`] steps.
pub fn cdf_steps(sorted: &[f64]) -> Vec<(f64, f64)> {
    let n = sorted.len();
    if n == 0 {
        return Vec::new();
    }
    let stride = n.div_ceil(CDF_MAX_STEPS).max(1);
    let mut pts = Vec::with_capacity(2 * (n / stride) + 4);
    let mut below = 0.0;
    pts.push((sorted[0], 0.0));
    let mut i = 0;
    while i < n {
        // Jump at sorted[j] to the share of values <= sorted[j], j the last index of this
        // step (and of any ties with it).
        let mut j = (i + stride - 1).min(n - 1);
        while j + 1 < n && sorted[j + 1] == sorted[j] {
            j += 1;
        }
        let x = sorted[j];
        let f = (j + 1) as f64 / n as f64;
        pts.push((x, below));
        pts.push((x, f));
        below = f;
        i = j + 1;
    }
    pts
}

/// The q-quantile (0..=1) of sorted values, nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Arithmetic mean.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// A least-squares line `y = slope·x + intercept`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    /// Slope (y units per x unit).
    pub slope: f64,
    /// Value at x = 0.
    pub intercept: f64,
}

impl Fit {
    /// y on the line at x.
    pub fn at(&self, x: f64) -> f64 {
        self.slope * x + self.intercept
    }
}

/// Ordinary least squares through the points; `None` with fewer than two distinct x.
pub fn least_squares(points: &[(f64, f64)]) -> Option<Fit> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if pts.len() < 2 || !matches!(sxx.partial_cmp(&0.0), Some(std::cmp::Ordering::Greater)) {
        return None;
    }
    let slope = sxy / sxx;
    Some(Fit {
        slope,
        intercept: my - slope * mx,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_of_a_small_sample_is_exact() {
        let v = sorted([3.0, 1.0, 2.0, 2.0]);
        let c = cdf_steps(&v);
        assert_eq!(c.first(), Some(&(1.0, 0.0)));
        assert_eq!(c.last(), Some(&(3.0, 1.0)));
        assert!(c.contains(&(2.0, 0.75)), "{c:?}");
        assert!(cdf_steps(&[]).is_empty());
    }

    #[test]
    fn cdf_of_a_large_sample_is_thinned_and_monotone() {
        let v = sorted((0..100_000).map(|i| f64::from(i % 977)));
        let c = cdf_steps(&v);
        assert!(c.len() <= 2 * CDF_MAX_STEPS + 2, "{}", c.len());
        assert!(c.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
        assert_eq!(c.last().unwrap().1, 1.0);
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let v = sorted((1..=100).map(f64::from));
        assert_eq!(quantile(&v, 0.5), Some(50.0));
        assert_eq!(quantile(&v, 0.99), Some(99.0));
        assert_eq!(quantile(&v, 0.0), Some(1.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn least_squares_recovers_a_line() {
        let pts: Vec<(f64, f64)> = (6..14)
            .map(|x| (f64::from(x), 0.5 * f64::from(x) + 0.6))
            .collect();
        let f = least_squares(&pts).unwrap();
        assert!((f.slope - 0.5).abs() < 1e-12 && (f.intercept - 0.6).abs() < 1e-12);
        assert_eq!(least_squares(&[(1.0, 2.0)]), None);
        assert_eq!(least_squares(&[(1.0, 2.0), (1.0, 3.0)]), None);
        assert_eq!(least_squares(&[]), None);
    }
}

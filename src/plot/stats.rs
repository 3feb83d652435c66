//! Small numeric helpers for the plots: sorting, quantiles and means of a few values,
//! least-squares lines. (CDFs of a CSV column are drawn from a
//! [`Histogram`](super::histogram::Histogram).)

/// Sorts finite values ascending (NaN and infinities are dropped).
pub fn sorted(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
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

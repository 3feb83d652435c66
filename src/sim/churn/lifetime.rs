//! Distributions of session and down times (`[churn] session`, `[churn] down`).
//!
//! Every model draws by inverting its distribution function at one uniform draw (two for
//! the log-normal), so a run's churn stream advances the same way whatever the
//! parameters. Means (what the docs' table states):
//!
//! | model | parameters | mean |
//! |---|---|---|
//! | exponential | `mean_s` | `mean_s` |
//! | weibull | `shape` k, `scale_s` λ | λ·Γ(1 + 1/k) |
//! | pareto (shifted, Lomax) | `shape` α, `scale_s` β | β/(α − 1) for α > 1, else infinite |
//! | lognormal | `median_s` m, `sigma` σ | m·e^(σ²/2) |
//! | uniform | `min_s` a, `max_s` b | (a + b)/2 |
//! | fixed | `value_s` | `value_s` |

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::sim::rng::{SimRng, exponential_ns, secs_to_ns};
use crate::time::Duration;

/// A distribution of durations, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "lowercase", deny_unknown_fields)]
pub enum Lifetime {
    /// P(X > x) = e^(−x/mean).
    Exponential {
        /// Mean, s.
        mean_s: f64,
    },
    /// P(X > x) = e^(−(x/λ)^k).
    Weibull {
        /// k > 0 (below 1: many short sessions and a long tail).
        shape: f64,
        /// λ > 0, s.
        scale_s: f64,
    },
    /// The shifted Pareto (Lomax) of measured P2P sessions: P(X > x) = (1 + x/β)^(−α).
    Pareto {
        /// α > 0.
        shape: f64,
        /// β > 0, s.
        scale_s: f64,
    },
    /// ln X normal with median `median_s` and standard deviation `sigma`.
    Lognormal {
        /// e^μ > 0, s.
        median_s: f64,
        /// σ ≥ 0.
        sigma: f64,
    },
    /// Uniform on [`min_s`, `max_s`].
    Uniform {
        /// Least value, s.
        min_s: f64,
        /// Greatest value, s.
        max_s: f64,
    },
    /// Always `value_s`.
    Fixed {
        /// The value, s.
        value_s: f64,
    },
}

/// A uniform draw in (0, 1].
fn open_unit(rng: &mut SimRng) -> f64 {
    1.0 - rng.random::<f64>()
}

impl Lifetime {
    /// One draw, whole ns (saturating).
    pub fn sample(&self, rng: &mut SimRng) -> Duration {
        let s = match *self {
            Lifetime::Exponential { mean_s } => return Duration(exponential_ns(rng, mean_s)),
            Lifetime::Weibull { shape, scale_s } => {
                scale_s * (-open_unit(rng).ln()).powf(1.0 / shape)
            }
            Lifetime::Pareto { shape, scale_s } => {
                scale_s * (open_unit(rng).powf(-1.0 / shape) - 1.0)
            }
            Lifetime::Lognormal { median_s, sigma } => {
                // Box–Muller, the cosine half.
                let r = (-2.0 * open_unit(rng).ln()).sqrt();
                let theta = std::f64::consts::TAU * rng.random::<f64>();
                median_s * (sigma * r * theta.cos()).exp()
            }
            Lifetime::Uniform { min_s, max_s } => min_s + (max_s - min_s) * rng.random::<f64>(),
            Lifetime::Fixed { value_s } => value_s,
        };
        Duration(secs_to_ns(s))
    }

    /// The mean, s (infinite for a Pareto with α ≤ 1).
    pub fn mean_s(&self) -> f64 {
        match *self {
            Lifetime::Exponential { mean_s } => mean_s,
            Lifetime::Weibull { shape, scale_s } => scale_s * gamma(1.0 + 1.0 / shape),
            Lifetime::Pareto { shape, scale_s } => {
                if shape > 1.0 {
                    scale_s / (shape - 1.0)
                } else {
                    f64::INFINITY
                }
            }
            Lifetime::Lognormal { median_s, sigma } => median_s * (sigma * sigma / 2.0).exp(),
            Lifetime::Uniform { min_s, max_s } => (min_s + max_s) / 2.0,
            Lifetime::Fixed { value_s } => value_s,
        }
    }

    /// The median, s.
    pub fn median_s(&self) -> f64 {
        let ln2 = std::f64::consts::LN_2;
        match *self {
            Lifetime::Exponential { mean_s } => mean_s * ln2,
            Lifetime::Weibull { shape, scale_s } => scale_s * ln2.powf(1.0 / shape),
            Lifetime::Pareto { shape, scale_s } => scale_s * (2f64.powf(1.0 / shape) - 1.0),
            Lifetime::Lognormal { median_s, .. } => median_s,
            Lifetime::Uniform { min_s, max_s } => (min_s + max_s) / 2.0,
            Lifetime::Fixed { value_s } => value_s,
        }
    }

    /// The first parameter out of range, as (parameter, what it must be).
    pub fn check(&self) -> Result<(), (&'static str, &'static str)> {
        let finite = |name, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                Err((name, "must be a finite number"))
            }
        };
        let above_zero = |name, v: f64| {
            finite(name, v)?;
            if v > 0.0 {
                Ok(())
            } else {
                Err((name, "must be > 0"))
            }
        };
        let non_neg = |name, v: f64| {
            finite(name, v)?;
            if v >= 0.0 {
                Ok(())
            } else {
                Err((name, "must be ≥ 0"))
            }
        };
        match *self {
            Lifetime::Exponential { mean_s } => above_zero("mean_s", mean_s),
            Lifetime::Weibull { shape, scale_s } | Lifetime::Pareto { shape, scale_s } => {
                above_zero("shape", shape)?;
                above_zero("scale_s", scale_s)
            }
            Lifetime::Lognormal { median_s, sigma } => {
                above_zero("median_s", median_s)?;
                non_neg("sigma", sigma)
            }
            Lifetime::Uniform { min_s, max_s } => {
                non_neg("min_s", min_s)?;
                non_neg("max_s", max_s)?;
                if max_s < min_s {
                    return Err(("max_s", "must be ≥ min_s"));
                }
                above_zero("max_s", max_s)
            }
            Lifetime::Fixed { value_s } => above_zero("value_s", value_s),
        }
    }
}

/// Γ(x) for x > 0 (Lanczos, g = 7, nine terms; relative error below 1e-13).
pub fn gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)·Γ(1 − x) = π / sin(πx).
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma(1.0 - x));
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    (std::f64::consts::TAU).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Seeds;

    fn sample_mean(l: Lifetime, n: usize) -> (f64, f64) {
        let mut rng = Seeds::new(7).stream("lifetime-test");
        let mut xs: Vec<f64> = (0..n).map(|_| l.sample(&mut rng).0 as f64 / 1e9).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        xs.sort_by(f64::total_cmp);
        (mean, xs[n / 2])
    }

    #[test]
    fn gamma_matches_known_values() {
        assert!((gamma(1.0) - 1.0).abs() < 1e-12);
        assert!((gamma(5.0) - 24.0).abs() < 1e-9);
        assert!((gamma(0.5) - std::f64::consts::PI.sqrt()).abs() < 1e-12);
        assert!((gamma(3.0) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn sample_means_and_medians_match_the_formulas() {
        let models = [
            Lifetime::Exponential { mean_s: 600.0 },
            Lifetime::Weibull {
                shape: 0.6,
                scale_s: 300.0,
            },
            Lifetime::Weibull {
                shape: 2.0,
                scale_s: 300.0,
            },
            Lifetime::Pareto {
                shape: 3.0,
                scale_s: 1200.0,
            },
            Lifetime::Lognormal {
                median_s: 400.0,
                sigma: 0.8,
            },
            Lifetime::Uniform {
                min_s: 60.0,
                max_s: 180.0,
            },
            Lifetime::Fixed { value_s: 42.0 },
        ];
        for l in models {
            let (mean, median) = sample_mean(l, 200_000);
            let rel = (mean - l.mean_s()).abs() / l.mean_s();
            assert!(rel < 0.02, "{l:?}: sample mean {mean} vs {}", l.mean_s());
            let rel = (median - l.median_s()).abs() / l.median_s();
            assert!(
                rel < 0.02,
                "{l:?}: sample median {median} vs {}",
                l.median_s()
            );
        }
    }

    #[test]
    fn exponential_draws_are_the_historic_ones() {
        let mut a = Seeds::new(3).stream("x");
        let mut b = Seeds::new(3).stream("x");
        for _ in 0..100 {
            let l = Lifetime::Exponential { mean_s: 90.0 }.sample(&mut a);
            assert_eq!(l.0, exponential_ns(&mut b, 90.0));
        }
    }

    #[test]
    fn heavy_tails_saturate_instead_of_overflowing() {
        let l = Lifetime::Pareto {
            shape: 0.01,
            scale_s: 1e9,
        };
        let mut rng = Seeds::new(1).stream("x");
        for _ in 0..1000 {
            let _ = l.sample(&mut rng);
        }
        assert_eq!(l.mean_s(), f64::INFINITY);
    }

    #[test]
    fn out_of_range_parameters_are_named() {
        assert_eq!(
            Lifetime::Weibull {
                shape: 0.0,
                scale_s: 1.0
            }
            .check(),
            Err(("shape", "must be > 0"))
        );
        assert_eq!(
            Lifetime::Uniform {
                min_s: 5.0,
                max_s: 1.0
            }
            .check(),
            Err(("max_s", "must be ≥ min_s"))
        );
        assert!(Lifetime::Fixed { value_s: 1.0 }.check().is_ok());
    }
}

//! Datagram loss models: independent (Bernoulli) loss and Gilbert–Elliott bursts per path.

use std::collections::HashSet;

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::sim::rng::SimRng;

/// The two-state Gilbert–Elliott channel (Gilbert 1960, Elliott 1963): each path is in a
/// good or a bad state; before each datagram it moves good → bad with `p_good_bad` or bad →
/// good with `p_bad_good`, then the datagram is lost with the state's loss probability.
/// Every path (ordered pair of slots) has its own state and starts good.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GilbertElliott {
    /// Probability per datagram of moving from good to bad, 0..=1.
    pub p_good_bad: f64,
    /// Probability per datagram of moving from bad to good, 0..=1.
    pub p_bad_good: f64,
    /// Loss probability per datagram in the good state, 0..=1. Default 0.
    #[serde(default)]
    pub loss_good: f64,
    /// Loss probability per datagram in the bad state, 0..=1. Default 1.
    #[serde(default = "one")]
    pub loss_bad: f64,
}

fn one() -> f64 {
    1.0
}

impl GilbertElliott {
    /// Long-run share of datagrams sent in the bad state: `p_good_bad / (p_good_bad +
    /// p_bad_good)` (0 when neither moves).
    pub fn bad_share(&self) -> f64 {
        let s = self.p_good_bad + self.p_bad_good;
        if s == 0.0 { 0.0 } else { self.p_good_bad / s }
    }

    /// Long-run loss per datagram on a path.
    pub fn mean_loss(&self) -> f64 {
        let b = self.bad_share();
        b * self.loss_bad + (1.0 - b) * self.loss_good
    }

    /// Mean number of datagrams a bad period lasts: `1 / p_bad_good` (infinite at 0).
    pub fn mean_bad_run(&self) -> f64 {
        1.0 / self.p_bad_good
    }
}

/// A loss model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Loss {
    /// Independent loss probability per datagram, 0.0..=1.0.
    pub p: f64,
    /// Burst loss per path, applied after the independent draw.
    pub burst: Option<GilbertElliott>,
}

/// One Bernoulli draw that draws nothing at 0 or 1.
fn chance(rng: &mut SimRng, p: f64) -> bool {
    if p <= 0.0 {
        false
    } else if p >= 1.0 {
        true
    } else {
        rng.random_bool(p)
    }
}

impl Loss {
    /// No loss.
    pub const NONE: Loss = Loss {
        p: 0.0,
        burst: None,
    };

    /// Independent loss with probability `p`.
    pub fn bernoulli(p: f64) -> Loss {
        Loss { p, burst: None }
    }

    /// Draws whether the next datagram on path `from → to` is lost, moving the path's
    /// Gilbert–Elliott state first. Draws nothing for probabilities of 0 or 1, so a lossless
    /// run's other network draws do not depend on the loss model.
    pub fn drops(&self, paths: &mut PathStates, from: u32, to: u32, rng: &mut SimRng) -> bool {
        if chance(rng, self.p) {
            return true;
        }
        let Some(ge) = &self.burst else {
            return false;
        };
        let path = (u64::from(from) << 32) | u64::from(to);
        let bad = if paths.bad.contains(&path) {
            !chance(rng, ge.p_bad_good) || {
                paths.bad.remove(&path);
                false
            }
        } else {
            chance(rng, ge.p_good_bad) && {
                paths.bad.insert(path);
                true
            }
        };
        chance(rng, if bad { ge.loss_bad } else { ge.loss_good })
    }
}

/// The Gilbert–Elliott state of every path: the set of paths in the bad state (a path not
/// in it is good). Looked up by key, never iterated.
#[derive(Clone, Debug, Default)]
pub struct PathStates {
    bad: HashSet<u64>,
}

impl PathStates {
    /// Paths in the bad state now.
    pub fn bad_paths(&self) -> usize {
        self.bad.len()
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn ge(p_good_bad: f64, p_bad_good: f64) -> Loss {
        Loss {
            p: 0.0,
            burst: Some(GilbertElliott {
                p_good_bad,
                p_bad_good,
                loss_good: 0.0,
                loss_bad: 1.0,
            }),
        }
    }

    /// Loss share and mean run of consecutive losses on one path over `n` datagrams.
    fn measure(loss: &Loss, n: u32) -> (f64, f64) {
        let mut rng = SimRng::seed_from_u64(9);
        let mut paths = PathStates::default();
        let (mut lost, mut runs, mut prev) = (0u32, 0u32, false);
        for _ in 0..n {
            let l = loss.drops(&mut paths, 1, 2, &mut rng);
            lost += u32::from(l);
            runs += u32::from(l && !prev);
            prev = l;
        }
        (
            f64::from(lost) / f64::from(n),
            f64::from(lost) / f64::from(runs),
        )
    }

    #[test]
    fn losses_come_in_bursts_of_the_mean_length() {
        let l = ge(0.01, 0.25);
        let (share, run) = measure(&l, 400_000);
        let want = l.burst.unwrap().mean_loss();
        assert!((want - 0.0385).abs() < 1e-3, "{want}");
        assert!((share - want).abs() < 0.004, "{share} vs {want}");
        assert!((run - 4.0).abs() < 0.2, "{run}");
        // Independent loss of the same share has runs of about 1 / (1 - p).
        let (share, run) = measure(&Loss::bernoulli(want), 400_000);
        assert!((share - want).abs() < 0.002, "{share}");
        assert!(run < 1.1, "{run}");
    }

    #[test]
    fn each_path_has_its_own_state() {
        let l = ge(1.0, 0.0);
        let mut rng = SimRng::seed_from_u64(1);
        let mut paths = PathStates::default();
        assert!(l.drops(&mut paths, 1, 2, &mut rng));
        assert_eq!(paths.bad_paths(), 1);
        assert!(l.drops(&mut paths, 2, 1, &mut rng));
        assert_eq!(paths.bad_paths(), 2);
        let never = ge(0.0, 1.0);
        assert!(!never.drops(&mut PathStates::default(), 1, 2, &mut rng));
    }

    #[test]
    fn no_loss_draws_nothing() {
        let mut a = SimRng::seed_from_u64(3);
        let b = a.clone();
        let mut paths = PathStates::default();
        assert!(!Loss::NONE.drops(&mut paths, 0, 1, &mut a));
        assert!(!ge(0.0, 0.5).drops(&mut paths, 0, 1, &mut a));
        assert_eq!(a, b);
    }
}

//! Datagram loss models.

use rand::RngExt;

use crate::sim::rng::SimRng;

/// Independent (Bernoulli) loss: each datagram is lost with probability `p`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Loss {
    /// Loss probability per datagram, 0.0..=1.0.
    pub p: f64,
}

impl Loss {
    /// No loss.
    pub const NONE: Loss = Loss { p: 0.0 };

    /// Draws whether the next datagram is lost. Draws nothing when `p` is 0, so a lossless
    /// run's other network draws do not depend on the loss model.
    pub fn drops(&self, rng: &mut SimRng) -> bool {
        if self.p <= 0.0 {
            return false;
        }
        if self.p >= 1.0 {
            return true;
        }
        rng.random_bool(self.p)
    }
}

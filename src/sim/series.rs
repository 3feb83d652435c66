//! Figures over the time series, computed sample by sample as the samples are taken, so a
//! run need not keep its samples: the last sample, availability over the run, and when the
//! ring formed and how it held up after.

use crate::sim::metrics::Sample;
use crate::time::Time;

/// Ring correctness below this counts as broken for the longest recovery.
pub const RING_RECOVERED: f64 = 0.99;

/// Whether the overlay the scenario asked for exists at `s`: every peer of the initial
/// arrival schedule has joined (or gone), and every joined peer's first successor is the
/// true one.
pub fn formed(s: &Sample) -> bool {
    s.initial_unjoined == 0 && s.joined_peers > 0 && s.ring_correct_fraction >= Some(1.0)
}

/// Ring correctness after the ring formed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RingFigures {
    /// When it first formed ([`formed`]), s.
    pub formed_s: f64,
    /// The longest stretch after forming with correctness below [`RING_RECOVERED`]: from
    /// the first sample below to the first sample back at or above it, or the end of the
    /// run, s.
    pub longest_recovery_s: f64,
    /// Mean correctness from forming on (samples without a joined peer count 0).
    pub mean_after_formed: f64,
    /// Minimum correctness from forming on.
    pub min_after_formed: f64,
}

/// The running figures of a time series.
#[derive(Clone, Debug, Default)]
pub struct Series {
    last: Option<Sample>,
    availability: Running,
    formed_s: Option<f64>,
    after: Running,
    longest: f64,
    broken_since: Option<f64>,
}

/// Sum, count and minimum (from 1) of a sequence of fractions, in order.
#[derive(Clone, Copy, Debug, Default)]
struct Running {
    sum: f64,
    count: u64,
    min: Option<f64>,
}

impl Running {
    fn add(&mut self, x: f64) {
        self.sum += x;
        self.count += 1;
        self.min = Some(self.min.unwrap_or(1.0).min(x));
    }

    fn mean_min(&self) -> Option<(f64, f64)> {
        (self.count > 0).then(|| (self.sum / self.count as f64, self.min.unwrap_or(1.0)))
    }
}

impl Series {
    /// Adds the next sample.
    pub fn add(&mut self, s: &Sample) {
        if let Some(a) = s.availability {
            self.availability.add(a);
        }
        if self.formed_s.is_none() && formed(s) {
            self.formed_s = Some(s.time.as_secs_f64());
        }
        if self.formed_s.is_some() {
            let fraction = s.ring_correct_fraction.unwrap_or(0.0);
            self.after.add(fraction);
            let t = s.time.as_secs_f64();
            match (self.broken_since, fraction < RING_RECOVERED) {
                (None, true) => self.broken_since = Some(t),
                (Some(t0), false) => {
                    self.longest = self.longest.max(t - t0);
                    self.broken_since = None;
                }
                _ => {}
            }
        }
        self.last = Some(s.clone());
    }

    /// The last sample.
    pub fn last(&self) -> Option<&Sample> {
        self.last.as_ref()
    }

    /// Mean and minimum availability over the samples with at least one live registration
    /// (undefined when there are none).
    pub fn availability(&self) -> (Option<f64>, Option<f64>) {
        self.availability
            .mean_min()
            .map_or((None, None), |(mean, min)| (Some(mean), Some(min)))
    }

    /// Ring correctness over a run that ended at `end` (`None` if the ring never formed).
    pub fn ring(&self, end: Time) -> Option<RingFigures> {
        let formed_s = self.formed_s?;
        let (mean, min) = self.after.mean_min()?;
        let open = self.broken_since.map_or(0.0, |t0| end.as_secs_f64() - t0);
        Some(RingFigures {
            formed_s,
            longest_recovery_s: self.longest.max(open),
            mean_after_formed: mean,
            min_after_formed: min,
        })
    }
}

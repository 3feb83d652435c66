//! The retransmission timeout of a stream link (RFC 6940 §6.6.5): measured from the
//! framing header's acks as RFC 6298 §2 computes it. On TLS/TCP the RTO does not resend
//! anything; an unacknowledged frame older than it takes the link out of routing.

use crate::time::Duration;

/// Lower bound of the RTO (RFC 6298 §2.4: "SHOULD be rounded up to 1 second").
pub const MIN_RTO: Duration = Duration::from_secs(1);
/// Upper bound of the RTO (RFC 6298 §2.5: at least 60 seconds).
pub const MAX_RTO: Duration = Duration::from_secs(60);
/// Clock granularity G of RFC 6298 §2: the node's clock is in nanoseconds, so the
/// estimator's own rounding is taken as 1 ms.
const GRANULARITY: Duration = Duration::from_millis(1);

/// SRTT and RTTVAR of one link (RFC 6298 §2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RttEstimator {
    srtt: Duration,
    rttvar: Duration,
    measured: bool,
}

impl RttEstimator {
    /// Takes one round-trip sample `r` (RFC 6298 §2.2–2.3, α = 1/8, β = 1/4).
    pub fn sample(&mut self, r: Duration) {
        if self.measured {
            let diff = Duration(self.srtt.0.abs_diff(r.0));
            self.rttvar = Duration((3 * self.rttvar.0 + diff.0) / 4);
            self.srtt = Duration((7 * self.srtt.0 + r.0) / 8);
        } else {
            self.srtt = r;
            self.rttvar = Duration(r.0 / 2);
            self.measured = true;
        }
    }

    /// The RTO: 1 s before the first sample (RFC 6298 §2.1), then SRTT + max(G,
    /// 4·RTTVAR), within [`MIN_RTO`]..=[`MAX_RTO`].
    pub fn rto(&self) -> Duration {
        if !self.measured {
            return MIN_RTO;
        }
        let var = Duration(self.rttvar.0.saturating_mul(4)).max(GRANULARITY);
        Duration(self.srtt.0.saturating_add(var.0)).clamp(MIN_RTO, MAX_RTO)
    }

    /// The smoothed round-trip time, once measured.
    pub fn srtt(&self) -> Option<Duration> {
        self.measured.then_some(self.srtt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_rfc_6298() {
        let mut e = RttEstimator::default();
        assert_eq!(e.rto(), MIN_RTO);
        e.sample(Duration::from_millis(400));
        // SRTT 400 ms, RTTVAR 200 ms: 400 + 800 = 1.2 s.
        assert_eq!(e.rto(), Duration::from_millis(1200));
        e.sample(Duration::from_millis(800));
        // RTTVAR = 3/4·200 + 1/4·400 = 250; SRTT = 7/8·400 + 1/8·800 = 450; 450 + 1000.
        assert_eq!(e.srtt(), Some(Duration::from_millis(450)));
        assert_eq!(e.rto(), Duration::from_millis(1450));
        // Fast loopback samples stay at the 1 s floor; a huge one at the 60 s ceiling.
        let mut f = RttEstimator::default();
        f.sample(Duration::from_micros(100));
        assert_eq!(f.rto(), MIN_RTO);
        f.sample(Duration::from_secs(600));
        assert_eq!(f.rto(), MAX_RTO);
    }
}

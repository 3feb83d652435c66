//! Recovery after each scheduled event, measured the way papers report it: how long until
//! ring correctness is back to 0.99 and to 1.0, how many rings the successor pointers
//! form, the lookups that failed or reached the wrong peer meanwhile, the stored records
//! lost (every copy gone) and the time to re-replicate the rest, and the bytes it cost.
//!
//! An event is tracked from the moment it happens, probed every [`PROBE_INTERVAL`] of
//! simulated time, until the ring is correct (1.0), forms one ring, every surviving record
//! has its copies again and, for a partition or hold, the split has ended; or until the
//! run ends. Probes read the oracle and the nodes' tables and stores only: they change no
//! node and draw nothing, so a run's trace does not depend on them.

use serde::Serialize;

use crate::time::{Duration, Time};

/// Simulated time between two probes of an event's recovery.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// Copies of a stored record: the responsible peer's and two replicas' (RFC 6940 §10.4).
pub const COPIES: usize = 3;

/// How the overlay recovered from one event (`summary.json` `recovery`, `events.csv`).
/// Times are seconds from the event; `None` (empty, `null`) when it did not happen before
/// the run ended.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Recovery {
    /// Ring correctness just before the event.
    pub ring_before: Option<f64>,
    /// The lowest ring correctness while tracked.
    pub ring_min: Option<f64>,
    /// Until ring correctness was back to ≥ 0.99 for good (while tracked).
    pub ring_099_s: Option<f64>,
    /// Until ring correctness was back to 1.0 for good (while tracked).
    pub ring_100_s: Option<f64>,
    /// Rings of the successor graph just before the event.
    pub rings_before: u64,
    /// The most rings seen while tracked (2 for a partition whose halves closed on
    /// themselves).
    pub rings_max: u64,
    /// Rings when tracking ended (at recovery or at the end of the run).
    pub rings_after: u64,
    /// Until the successor pointers formed one ring for good; for a `repair`, the time to
    /// merge the rings of the partition.
    pub one_ring_s: Option<f64>,
    /// Lookups issued while tracked, finished by the end of the run.
    pub lookups: u64,
    /// Of those, failed (timeout, error, no route).
    pub lookups_failed: u64,
    /// Of those, answered by a peer that was not the key's true owner.
    pub lookups_wrong: u64,
    /// Registrations held by their responsible peer just before the event whose
    /// registering node was still there when tracking ended; `None` without `[sip]` or for
    /// events that remove no node.
    pub records_at_risk: Option<u64>,
    /// Of those, held by no peer among the responsible one and the four after it when
    /// tracking ended: every copy was gone.
    pub records_lost: Option<u64>,
    /// Until every other record at risk was held by its responsible peer and both replicas
    /// (3 copies, RFC 6940 §10.4) for good.
    pub rereplicated_s: Option<f64>,
    /// Bytes every node sent while tracked (messages and acks).
    pub bytes: u64,
    /// `bytes` less what the run sent at its rate of the sample interval before the
    /// event, over as long: the cost of recovering (negative when the run sent less).
    pub extra_bytes: Option<i64>,
    /// How long the event was tracked, s.
    pub tracked_s: f64,
    /// Whether every condition above was met before the run ended.
    pub recovered: bool,
}

/// One probe's view of the overlay, as far as an event's tracker needs it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Observation {
    /// Ring correctness (`None`: nobody joined).
    pub ring: Option<f64>,
    /// Rings of the successor graph.
    pub rings: usize,
    /// Bytes sent in the run so far.
    pub bytes: u64,
    /// For this event's records at risk: survivors, lost, and whether every survivor not
    /// lost has all its copies.
    pub records: Option<(u64, u64, bool)>,
}

/// The recovery of one event, while it is being tracked.
#[derive(Clone, Debug)]
pub struct Tracker {
    /// When the event happened.
    pub at: Time,
    /// A partition or hold this event started is still in force.
    pub split_open: bool,
    /// Users whose registrations were at risk (held by their responsible peer just
    /// before the event).
    pub users: Option<Vec<u32>>,
    /// When tracking ended.
    pub closed: Option<Time>,
    bytes_start: u64,
    baseline_bytes_per_s: Option<f64>,
    ring_099_at: Option<Time>,
    ring_100_at: Option<Time>,
    one_ring_at: Option<Time>,
    rereplicated_at: Option<Time>,
}

/// `since` when `holds`, the earliest time it has held without a break.
fn for_good(since: &mut Option<Time>, holds: bool, now: Time) {
    if !holds {
        *since = None;
    } else if since.is_none() {
        *since = Some(now);
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl Tracker {
    /// Starts tracking an event at `at`; `before` is the view just before it, `baseline`
    /// the run's bytes per second of the sample interval before.
    pub fn start(
        at: Time,
        before: &Observation,
        baseline: Option<f64>,
        users: Option<Vec<u32>>,
        split: bool,
        r: &mut Recovery,
    ) -> Tracker {
        r.ring_before = before.ring;
        r.rings_before = before.rings as u64;
        Tracker {
            at,
            split_open: split,
            users,
            closed: None,
            bytes_start: before.bytes,
            baseline_bytes_per_s: baseline,
            ring_099_at: None,
            ring_100_at: None,
            one_ring_at: None,
            rereplicated_at: None,
        }
    }

    /// Takes in a probe at `now`; returns true when the event has recovered (tracking ends).
    pub fn observe(&mut self, now: Time, o: &Observation, r: &mut Recovery) -> bool {
        let ring = o.ring.unwrap_or(0.0);
        r.ring_min = Some(r.ring_min.map_or(ring, |m: f64| m.min(ring)));
        r.rings_max = r.rings_max.max(o.rings as u64);
        for_good(&mut self.ring_099_at, ring >= 0.99, now);
        for_good(&mut self.ring_100_at, ring >= 1.0, now);
        for_good(&mut self.one_ring_at, o.rings == 1, now);
        let copies_back = o.records.is_none_or(|(_, _, full)| full);
        for_good(&mut self.rereplicated_at, copies_back, now);
        let done = !self.split_open
            && self.ring_100_at.is_some()
            && self.one_ring_at.is_some()
            && self.rereplicated_at.is_some();
        if done {
            self.end(now, o, r, true);
        }
        done
    }

    /// Ends tracking at `now` (recovered, or the run's end) with the last probe `o`.
    pub fn end(&mut self, now: Time, o: &Observation, r: &mut Recovery, recovered: bool) {
        let from = |t: Option<Time>| t.map(|t| secs(t.saturating_since(self.at)));
        r.ring_099_s = from(self.ring_099_at);
        r.ring_100_s = from(self.ring_100_at);
        r.one_ring_s = from(self.one_ring_at);
        r.rings_after = o.rings as u64;
        if let Some((at_risk, lost, _)) = o.records {
            r.records_at_risk = Some(at_risk);
            r.records_lost = Some(lost);
            r.rereplicated_s = from(self.rereplicated_at);
        }
        let span = secs(now.saturating_since(self.at));
        r.bytes = o.bytes.saturating_sub(self.bytes_start);
        r.extra_bytes = self
            .baseline_bytes_per_s
            .map(|b| (r.bytes as f64 - b * span).round() as i64);
        r.tracked_s = span;
        r.recovered = recovered;
        self.closed = Some(now);
    }

    /// Whether a lookup issued at `issued` counts for this event: issued while tracked.
    pub fn covers(&self, issued: Time) -> bool {
        issued >= self.at && self.closed.is_none_or(|c| issued < c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> Time {
        Time::ZERO + Duration::from_secs(s)
    }

    fn view(ring: f64, rings: usize, bytes: u64) -> Observation {
        Observation {
            ring: Some(ring),
            rings,
            bytes,
            records: None,
        }
    }

    #[test]
    fn recovery_times_count_from_the_event_to_the_state_that_lasts() {
        let mut r = Recovery::default();
        let mut k = Tracker::start(t(10), &view(1.0, 1, 1000), Some(100.0), None, false, &mut r);
        assert!(!k.observe(t(10), &view(0.7, 0, 1000), &mut r));
        assert!(!k.observe(t(11), &view(0.995, 1, 1500), &mut r));
        // Back below 0.99: the earlier crossing does not count.
        assert!(!k.observe(t(12), &view(0.98, 1, 1800), &mut r));
        assert!(!k.observe(t(13), &view(0.995, 1, 2000), &mut r));
        assert!(k.observe(t(15), &view(1.0, 1, 2600), &mut r));
        assert_eq!(r.ring_before, Some(1.0));
        assert_eq!(r.ring_min, Some(0.7));
        assert_eq!(r.ring_099_s, Some(3.0));
        assert_eq!(r.ring_100_s, Some(5.0));
        assert_eq!(r.one_ring_s, Some(1.0));
        assert_eq!((r.rings_before, r.rings_max, r.rings_after), (1, 1, 1));
        assert_eq!(r.bytes, 1600);
        assert_eq!(r.extra_bytes, Some(1100));
        assert!(r.recovered && k.closed == Some(t(15)));
        assert!(k.covers(t(14)) && !k.covers(t(15)) && !k.covers(t(9)));
    }

    #[test]
    fn a_partition_is_tracked_until_its_split_ends_and_records_until_copied_back() {
        let mut r = Recovery::default();
        let mut k = Tracker::start(t(0), &view(1.0, 1, 0), None, Some(vec![1, 2]), true, &mut r);
        let mut o = view(1.0, 2, 0);
        o.records = Some((2, 0, true));
        assert!(!k.observe(t(1), &o, &mut r), "the split is in force");
        k.split_open = false;
        o.rings = 1;
        o.records = Some((2, 1, false));
        assert!(!k.observe(t(2), &o, &mut r));
        o.records = Some((2, 1, true));
        assert!(k.observe(t(3), &o, &mut r));
        assert_eq!(r.rings_max, 2);
        assert_eq!((r.records_at_risk, r.records_lost), (Some(2), Some(1)));
        assert_eq!(r.rereplicated_s, Some(3.0));
        assert_eq!(r.extra_bytes, None);
    }
}

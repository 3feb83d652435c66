//! The call ledger: one record per call set up by the SIP workload, completed from the
//! caller's `CallDone` (joined by caller Node-ID and call id) and judged against the
//! registration the engine knew of when the call was placed.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::proto::event::{CallError, CallInfo, RequestError};
use crate::proto::id::{NodeId, TransactionId};
use crate::sim::book::{self, Book};
use crate::sim::dist::{Dist, Spread, rate};
use crate::sim::sink::RecordSink;
use crate::time::Time;

/// How a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CallOutcome {
    /// Still in progress when the run ended.
    Pending,
    /// The callee answered the AppAttach.
    Ok,
    /// The AoR had no live registration.
    NotRegistered,
    /// `uri` indirections looped or exceeded the bound.
    IndirectionLoop,
    /// The AppAttach was answered by a node other than the route's last entry.
    WrongCallee,
    /// A Fetch or AppAttach got no answer after every retransmission.
    Timeout,
    /// A Fetch or AppAttach was answered with this error code.
    Error(u16),
    /// The caller had no route.
    NoRoute,
    /// The caller crashed or left before the call finished.
    OriginGone,
}

impl CallOutcome {
    /// The CSV label: `ok`, `not_registered`, `indirection_loop`, `wrong_callee`,
    /// `timeout`, `error_0x<code>` (4 hex digits), `no_route`, `origin_gone`, `pending`.
    pub fn label(&self) -> String {
        match self {
            CallOutcome::Pending => "pending".into(),
            CallOutcome::Ok => "ok".into(),
            CallOutcome::NotRegistered => "not_registered".into(),
            CallOutcome::IndirectionLoop => "indirection_loop".into(),
            CallOutcome::WrongCallee => "wrong_callee".into(),
            CallOutcome::Timeout => "timeout".into(),
            CallOutcome::Error(c) => format!("error_0x{c:04x}"),
            CallOutcome::NoRoute => "no_route".into(),
            CallOutcome::OriginGone => "origin_gone".into(),
        }
    }

    fn from_error(e: CallError) -> CallOutcome {
        match e {
            CallError::NotRegistered => CallOutcome::NotRegistered,
            CallError::IndirectionLoop => CallOutcome::IndirectionLoop,
            CallError::WrongCallee => CallOutcome::WrongCallee,
            CallError::Fetch(r) | CallError::Attach(r) => match r {
                RequestError::Timeout => CallOutcome::Timeout,
                RequestError::ErrorResponse(c) => CallOutcome::Error(c),
                RequestError::NoRoute => CallOutcome::NoRoute,
            },
        }
    }
}

/// One call.
#[derive(Clone, Debug, PartialEq)]
pub struct CallRecord {
    /// When it was placed.
    pub issued: Time,
    /// When it finished (`None` while pending).
    pub done: Option<Time>,
    /// The caller's Node-ID.
    pub caller: NodeId,
    /// The AoR called (no scheme).
    pub callee_aor: String,
    /// The user the AoR names (`None` for AoRs nobody registers).
    pub callee_user: Option<u32>,
    /// The Node-ID holding a live registration of the AoR when the call was placed.
    pub expected: Option<NodeId>,
    /// For an ok call placed while the AoR had no live registration: the Node-ID holding
    /// one when it finished (its first store was answered while the call was under way).
    pub registered_at_done: Option<NodeId>,
    /// What the peer reported for an answered call.
    pub info: Option<CallInfo>,
    /// Whether the registration Fetches were answered (`None` while pending or when the
    /// caller went away).
    pub fetch_answered: Option<bool>,
    /// How it ended.
    pub outcome: CallOutcome,
}

impl CallRecord {
    /// Whether the callee reached is the registered node (ok calls only).
    pub fn correct(&self) -> Option<bool> {
        match self.outcome {
            CallOutcome::Ok => {
                let registered = self.expected.or(self.registered_at_done);
                Some(registered.is_some() && self.info.map(|i| i.callee) == registered)
            }
            _ => None,
        }
    }

    /// Call to finish, ns (finished calls only).
    pub fn total_ns(&self) -> Option<u64> {
        self.done.map(|d| d.0 - self.issued.0)
    }
}

/// Key figures over all calls of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CallFigures {
    /// Calls placed.
    pub issued: u64,
    /// Calls that reached a callee.
    pub ok: u64,
    /// Calls that finished without reaching a callee (origin_gone and pending excluded).
    pub failed: u64,
    /// Caller gone before the end of the call.
    pub origin_gone: u64,
    /// Still in progress at the end.
    pub pending: u64,
    /// Calls per outcome label (every label that occurred).
    pub by_outcome: BTreeMap<String, u64>,
    /// Calls to an AoR with a live registration when placed.
    pub to_registered: u64,
    /// Of those, finished (neither pending nor origin_gone).
    pub to_registered_finished: u64,
    /// Of those, ok.
    pub to_registered_ok: u64,
    /// Calls to an AoR without a live registration when placed.
    pub to_unregistered: u64,
    /// Of those, finished.
    pub to_unregistered_finished: u64,
    /// Of those, answered `not_registered`.
    pub to_unregistered_not_registered: u64,
    /// to_registered_ok / to_registered_finished; undefined when none finished.
    pub success_rate: Option<f64>,
    /// Ok calls whose callee is the registered node.
    pub correct: u64,
    /// correct / ok; undefined when none.
    pub correct_rate: Option<f64>,
    /// to_unregistered_not_registered / to_unregistered_finished; undefined when none
    /// finished.
    pub not_registered_rate: Option<f64>,
    /// Call to CallDone of ok calls, ms.
    pub total_ms: Spread,
    /// Call to the last registration Fetch answer of ok calls, ms.
    pub fetch_ms: Spread,
    /// Last Fetch answer to the AppAttach answer of ok calls, ms.
    pub attach_ms: Spread,
}

/// Counts and distributions of the calls finalised so far.
#[derive(Clone, Debug, Default)]
struct Tally {
    counts: CallFigures,
    total: Dist,
    fetch: Dist,
    attach: Dist,
}

impl book::Tally<CallRecord> for Tally {
    type Figures = CallFigures;

    fn add(&mut self, r: &CallRecord) {
        let f = &mut self.counts;
        f.issued += 1;
        *f.by_outcome.entry(r.outcome.label()).or_default() += 1;
        let finished = !matches!(r.outcome, CallOutcome::Pending | CallOutcome::OriginGone);
        if r.expected.is_some() {
            f.to_registered += 1;
            f.to_registered_finished += u64::from(finished);
            f.to_registered_ok += u64::from(r.outcome == CallOutcome::Ok);
        } else {
            f.to_unregistered += 1;
            f.to_unregistered_finished += u64::from(finished);
            f.to_unregistered_not_registered += u64::from(r.outcome == CallOutcome::NotRegistered);
        }
        match r.outcome {
            CallOutcome::Pending => f.pending += 1,
            CallOutcome::OriginGone => f.origin_gone += 1,
            CallOutcome::Ok => {
                f.ok += 1;
                f.correct += u64::from(r.correct() == Some(true));
                self.total.record(r.total_ns().unwrap_or(0));
                if let Some(i) = r.info {
                    self.fetch.record(i.fetch.0);
                    self.attach.record(i.attach.0);
                }
            }
            _ => f.failed += 1,
        }
    }

    fn figures(&self) -> CallFigures {
        let mut f = self.counts.clone();
        f.success_rate = rate(f.to_registered_ok, f.to_registered_finished);
        f.correct_rate = rate(f.correct, f.ok);
        f.not_registered_rate = rate(f.to_unregistered_not_registered, f.to_unregistered_finished);
        f.total_ms = self.total.spread(1e6);
        f.fetch_ms = self.fetch.spread(1e6);
        f.attach_ms = self.attach.spread(1e6);
        f
    }
}

/// The calls of a run: those in progress and the recent ones behind them (see
/// [`crate::sim::book`]); the others have been handed to the run's [`RecordSink`] in the
/// order placed and counted in the figures.
#[derive(Clone, Debug, Default)]
pub struct CallLedger {
    book: Book<CallRecord, Tally>,
}

impl CallLedger {
    /// An empty ledger.
    pub fn new() -> CallLedger {
        CallLedger::default()
    }

    /// `caller` placed call `id` to `aor`, user `callee_user`; `expected` holds its
    /// live registration.
    pub fn issued(
        &mut self,
        now: Time,
        caller: NodeId,
        id: TransactionId,
        aor: String,
        callee_user: Option<u32>,
        expected: Option<NodeId>,
    ) {
        self.book.issue(
            caller,
            id,
            CallRecord {
                issued: now,
                done: None,
                caller,
                callee_aor: aor,
                callee_user,
                expected,
                registered_at_done: None,
                info: None,
                fetch_answered: None,
                outcome: CallOutcome::Pending,
            },
        );
    }

    /// The caller's call finished; `registered_now` gives the Node-ID holding a live
    /// registration of the callee user now, asked only for an ok call placed while none did.
    /// Returns the record if it was one of the workload's.
    pub fn done(
        &mut self,
        now: Time,
        caller: NodeId,
        id: TransactionId,
        outcome: Result<CallInfo, CallError>,
        registered_now: impl FnOnce(u32) -> Option<NodeId>,
    ) -> Option<&CallRecord> {
        let r = self.book.settle(caller, id)?;
        r.done = Some(now);
        match outcome {
            Ok(info) => {
                if r.expected.is_none() {
                    r.registered_at_done = r.callee_user.and_then(registered_now);
                }
                r.outcome = CallOutcome::Ok;
                r.info = Some(info);
            }
            Err(e) => r.outcome = CallOutcome::from_error(e),
        }
        r.fetch_answered = Some(!matches!(outcome, Err(CallError::Fetch(_))));
        Some(r)
    }

    /// `caller` is gone: its calls in progress end as [`CallOutcome::OriginGone`].
    pub fn origin_gone(&mut self, now: Time, caller: NodeId) {
        self.book.settle_all_of(caller, |r| {
            r.outcome = CallOutcome::OriginGone;
            r.done = Some(now);
        });
    }

    /// Calls in progress.
    pub fn in_flight(&self) -> usize {
        self.book.in_flight()
    }

    /// Hands every finished call not preceded by one in progress to `sink`.
    pub fn flush(&mut self, sink: &mut dyn RecordSink) {
        self.book.flush(|r| sink.call(r));
    }

    /// The run is over: hands every call still held to `sink` (those in progress as
    /// pending) and returns the figures of the run.
    pub fn finish(self, sink: &mut dyn RecordSink) -> CallFigures {
        self.book.finish(|r| sink.call(r))
    }

    /// Key figures over every call so far, those held included.
    pub fn figures(&self) -> CallFigures {
        self.book.figures()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;

    #[test]
    fn records_outcomes_and_figures() {
        let mut l = CallLedger::new();
        let (a, b) = (NodeId(1), NodeId(2));
        l.issued(
            Time(0),
            a,
            TransactionId(7),
            "node2@x".into(),
            Some(2),
            None,
        );
        l.issued(Time(0), a, TransactionId(8), "nobody1@x".into(), None, None);
        l.issued(
            Time(0),
            b,
            TransactionId(9),
            "node1@x".into(),
            Some(1),
            Some(a),
        );
        let info = CallInfo {
            callee: b,
            fetch: Duration::from_millis(100),
            attach: Duration::from_millis(50),
            fetches: 1,
        };
        // Node 2's registration became live while the call was under way.
        let now = |s: u32| (s == 2).then_some(b);
        let r = l
            .done(Time(150_000_000), a, TransactionId(7), Ok(info), now)
            .unwrap();
        assert_eq!(r.correct(), Some(true));
        assert_eq!(r.expected, None);
        let r = l
            .done(
                Time(1),
                a,
                TransactionId(8),
                Err(CallError::NotRegistered),
                now,
            )
            .unwrap();
        assert_eq!(r.outcome.label(), "not_registered");
        assert_eq!(r.expected, None);
        assert!(
            l.done(Time(1), a, TransactionId(8), Ok(info), now)
                .is_none()
        );
        l.origin_gone(Time(2), b);
        let f = l.figures();
        assert_eq!((f.issued, f.ok, f.failed, f.origin_gone), (3, 1, 1, 1));
        // Call 7 counts as a call to an unregistered AoR (none was live when placed).
        assert_eq!((f.to_registered, f.to_registered_finished), (1, 0));
        assert_eq!(f.success_rate, None);
        assert_eq!(f.correct_rate, Some(1.0));
        assert_eq!(f.not_registered_rate, Some(0.5));
        assert_eq!(f.by_outcome["origin_gone"], 1);
        assert!(
            (f.total_ms.p50.unwrap() - 150.0).abs() < 0.2,
            "{:?}",
            f.total_ms
        );
        assert_eq!(CallOutcome::Error(0x12).label(), "error_0x0012");
    }
}

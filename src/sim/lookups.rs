//! The lookup ledger: one record per lookup issued by the workload, completed from the
//! origin's `RequestDone` and the responder's `RequestServed` (joined by origin Node-ID and
//! transaction id), and judged against the oracle.

use crate::sim::book::{self, Book};
use crate::sim::dist::{Dist, Spread, rate};
use crate::sim::sink::RecordSink;
use serde::Serialize;

use crate::proto::event::{Answer, RequestError};
use crate::proto::id::{NodeId, TransactionId};
use crate::sim::oracle::Oracle;
use crate::time::Time;

/// How a lookup ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Still in flight when the run ended.
    Pending,
    /// Answered.
    Ok,
    /// No answer after every end-to-end retransmission.
    Timeout,
    /// Answered with an Error message carrying this error code.
    Error(u16),
    /// The origin had no route.
    NoRoute,
    /// The origin crashed or left before the answer.
    OriginGone,
}

impl Outcome {
    /// The CSV label: `ok`, `timeout`, `error_<code>` (decimal), `no_route`, `pending`,
    /// `origin_gone`.
    pub fn label(&self) -> String {
        match self {
            Outcome::Pending => "pending".into(),
            Outcome::Ok => "ok".into(),
            Outcome::Timeout => "timeout".into(),
            Outcome::Error(c) => format!("error_{c}"),
            Outcome::NoRoute => "no_route".into(),
            Outcome::OriginGone => "origin_gone".into(),
        }
    }
}

/// One lookup.
#[derive(Clone, Debug, PartialEq)]
pub struct LookupRecord {
    /// When it was issued.
    pub issued: Time,
    /// When it finished (`None` while pending).
    pub done: Option<Time>,
    /// The origin's Node-ID.
    pub origin: NodeId,
    /// The key's ring position.
    pub key: NodeId,
    /// Overlay transmissions from origin to responder, from `RequestServed`.
    pub hops: Option<u32>,
    /// How it ended.
    pub outcome: Outcome,
    /// Who answered (ok only).
    pub responder: Option<NodeId>,
    /// The true owner of the key when the request was served (or when it completed, if the
    /// serving was not seen).
    pub expected: Option<NodeId>,
}

impl LookupRecord {
    /// Whether the responder is the true owner (ok lookups only).
    pub fn correct(&self) -> Option<bool> {
        match self.outcome {
            Outcome::Ok => Some(self.responder.is_some() && self.responder == self.expected),
            _ => None,
        }
    }

    /// Issue-to-answer time, ns (finished lookups only).
    pub fn latency_ns(&self) -> Option<u64> {
        self.done.map(|d| d.0 - self.issued.0)
    }
}

/// Key figures over all lookups of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LookupFigures {
    /// Lookups issued.
    pub issued: u64,
    /// Lookups answered.
    pub completed: u64,
    /// Answered by the true owner.
    pub correct: u64,
    /// Failed (timeout, error, no route).
    pub failed: u64,
    /// Origin gone before the answer.
    pub origin_gone: u64,
    /// Still in flight at the end.
    pub pending: u64,
    /// completed / (issued − pending − origin_gone); undefined when nothing finished.
    pub success_rate: Option<f64>,
    /// correct / completed; undefined when nothing completed.
    pub correct_rate: Option<f64>,
    /// (failed + answered by a peer that is not the key's owner) / (completed + failed):
    /// the "failed lookups" of Chord (SIGCOMM 2001) §6.5; undefined when nothing finished.
    pub failed_fraction: Option<f64>,
    /// Hops of answered lookups whose hops are known (transmissions, origin included).
    pub hops: Spread,
    /// Latency of answered lookups, ms.
    pub latency_ms: Spread,
}

/// Counts and distributions of the lookups finalised so far.
#[derive(Clone, Debug, Default)]
struct Tally {
    counts: LookupFigures,
    hops: Dist,
    latency: Dist,
}

impl book::Tally<LookupRecord> for Tally {
    type Figures = LookupFigures;

    fn add(&mut self, r: &LookupRecord) {
        let f = &mut self.counts;
        f.issued += 1;
        match r.outcome {
            Outcome::Pending => f.pending += 1,
            Outcome::OriginGone => f.origin_gone += 1,
            Outcome::Ok => {
                f.completed += 1;
                f.correct += u64::from(r.correct() == Some(true));
                if let Some(h) = r.hops {
                    self.hops.record(u64::from(h));
                }
                self.latency.record(r.latency_ns().unwrap_or(0));
            }
            _ => f.failed += 1,
        }
    }

    fn figures(&self) -> LookupFigures {
        let mut f = self.counts.clone();
        f.success_rate = rate(f.completed, f.completed + f.failed);
        f.correct_rate = rate(f.correct, f.completed);
        f.failed_fraction = rate(f.completed + f.failed - f.correct, f.completed + f.failed);
        f.hops = self.hops.spread(1.0);
        f.latency_ms = self.latency.spread(1e6);
        f
    }
}

/// The lookups of a run: those in flight and the recent ones behind them (see
/// [`crate::sim::book`]); the others have been handed to the run's
/// [`RecordSink`] in issue order and counted in the figures.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    book: Book<LookupRecord, Tally>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// A lookup of `key` left `origin` as transaction `tx`.
    pub fn issued(&mut self, now: Time, origin: NodeId, tx: TransactionId, key: NodeId) {
        self.book.issue(
            origin,
            tx,
            LookupRecord {
                issued: now,
                done: None,
                origin,
                key,
                hops: None,
                outcome: Outcome::Pending,
                responder: None,
                expected: None,
            },
        );
    }

    /// A node served a request; if it is a pending lookup, note its hops and the true owner
    /// now (the first serving counts).
    pub fn served(&mut self, origin: NodeId, tx: TransactionId, hops: u32, oracle: &Oracle) {
        if let Some(r) = self.book.pending_mut(origin, tx)
            && r.hops.is_none()
        {
            r.hops = Some(hops);
            r.expected = oracle.owner(r.key);
        }
    }

    /// The origin's request finished. Returns the record if it was a lookup.
    pub fn done(
        &mut self,
        now: Time,
        origin: NodeId,
        tx: TransactionId,
        outcome: Result<Answer, RequestError>,
        oracle: &Oracle,
    ) -> Option<&LookupRecord> {
        let r = self.book.settle(origin, tx)?;
        r.done = Some(now);
        match outcome {
            Ok(a) => {
                r.outcome = Outcome::Ok;
                r.responder = Some(a.responder);
                if r.expected.is_none() {
                    r.expected = oracle.owner(r.key);
                }
            }
            Err(RequestError::Timeout) => r.outcome = Outcome::Timeout,
            Err(RequestError::ErrorResponse(c)) => r.outcome = Outcome::Error(c),
            Err(RequestError::NoRoute) => r.outcome = Outcome::NoRoute,
        }
        Some(r)
    }

    /// `origin` is gone: its pending lookups end as [`Outcome::OriginGone`].
    pub fn origin_gone(&mut self, now: Time, origin: NodeId) {
        self.book.settle_all_of(origin, |r| {
            r.outcome = Outcome::OriginGone;
            r.done = Some(now);
        });
    }

    /// Lookups in flight.
    pub fn in_flight(&self) -> usize {
        self.book.in_flight()
    }

    /// Hands every finished lookup not preceded by one in flight to `sink`.
    pub fn flush(&mut self, sink: &mut dyn RecordSink) {
        self.book.flush(|r| sink.lookup(r));
    }

    /// The run is over: hands every lookup still held to `sink` (those in flight as
    /// pending) and returns the figures of the run.
    pub fn finish(self, sink: &mut dyn RecordSink) -> LookupFigures {
        self.book.finish(|r| sink.lookup(r))
    }

    /// Key figures over every lookup so far, those held included.
    pub fn figures(&self) -> LookupFigures {
        self.book.figures()
    }
}

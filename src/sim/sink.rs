//! Where a run's records go as they become final. The engine hands a [`RecordSink`] each
//! lookup and call record in issue order, once it and every earlier one are final (records
//! still pending when the run ends follow at the end), and each time-series sample as it is
//! taken. The engine knows nothing of files: [`MemorySink`] keeps everything (the default,
//! for tests and in-memory runs), [`DiscardSink`] nothing; the CSV writer behind `reload-sim run` and `sweep` is
//! [`crate::report::stream::CsvFiles`].

use crate::sim::calls::CallRecord;
use crate::sim::lookups::LookupRecord;
use crate::sim::metrics::Sample;

/// Receives a run's records and samples in file order.
pub trait RecordSink {
    /// The next lookup in issue order; final unless the run ended first.
    fn lookup(&mut self, r: LookupRecord);

    /// The next call in the order placed; final unless the run ended first.
    fn call(&mut self, r: CallRecord);

    /// The next time-series sample.
    fn sample(&mut self, s: Sample);

    /// The run is over: flush, and hand back whatever was kept.
    fn finish(self: Box<Self>) -> Kept;
}

/// What a sink hands back at the end of a run.
#[derive(Clone, Debug, Default)]
pub struct Kept {
    /// Lookups kept in memory, in issue order (none when streamed).
    pub lookups: Vec<LookupRecord>,
    /// Calls kept in memory, in the order placed (none when streamed).
    pub calls: Vec<CallRecord>,
    /// Samples kept in memory (none when streamed).
    pub samples: Vec<Sample>,
    /// The first error writing the records, naming the file; nothing was written to that
    /// file after it.
    pub error: Option<String>,
}

/// Keeps every record and sample in memory.
#[derive(Debug, Default)]
pub struct MemorySink(Kept);

impl RecordSink for MemorySink {
    fn lookup(&mut self, r: LookupRecord) {
        self.0.lookups.push(r);
    }

    fn call(&mut self, r: CallRecord) {
        self.0.calls.push(r);
    }

    fn sample(&mut self, s: Sample) {
        self.0.samples.push(s);
    }

    fn finish(self: Box<Self>) -> Kept {
        self.0
    }
}

/// Drops every record and sample (benchmarks and runs that need only the figures, which
/// the ledgers tally as records go).
#[derive(Debug, Default)]
pub struct DiscardSink;

impl RecordSink for DiscardSink {
    fn lookup(&mut self, _: LookupRecord) {}

    fn call(&mut self, _: CallRecord) {}

    fn sample(&mut self, _: Sample) {}

    fn finish(self: Box<Self>) -> Kept {
        Kept::default()
    }
}

/// The records of one kind of a finished run and their figures, computed as the records
/// were finalised.
#[derive(Clone, Debug, Default)]
pub struct Results<R, F> {
    records: Vec<R>,
    figures: F,
}

impl<R, F: Clone> Results<R, F> {
    /// Records (possibly none) and the figures over all of the run's records.
    pub fn new(records: Vec<R>, figures: F) -> Self {
        Results { records, figures }
    }

    /// Every record in issue order when the run kept them in memory ([`MemorySink`]);
    /// empty when they were streamed to files.
    pub fn records(&self) -> &[R] {
        &self.records
    }

    /// Key figures over every record of the run, kept or streamed.
    pub fn figures(&self) -> F {
        self.figures.clone()
    }
}

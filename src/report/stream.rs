//! The CSV files of a run written as the run goes: [`CsvFiles`] is the
//! [`RecordSink`] behind `reload-sim run` and `sweep`. It writes `lookups.csv`,
//! `call_setups.csv`, `timeseries.csv` and `traffic.csv` row by row in the order the
//! engine hands the records over (issue order, see [`crate::sim::sink`]), with the row
//! formatters of [`crate::report::csv`], so the files are byte for byte those the
//! in-memory formatters give for the same run.

use std::fs::File;
use std::path::Path;

use crate::report::csv::{
    CALL_COLUMNS, LOOKUP_COLUMNS, TRAFFIC_COLUMNS, call_row, lookup_row, timeseries_header,
    timeseries_row, traffic_names, traffic_rows,
};
use crate::sim::calls::CallRecord;
use crate::sim::lookups::LookupRecord;
use crate::sim::metrics::{Sample, method_names};
use crate::sim::sink::{Kept, RecordSink};

/// One CSV file being written.
struct Stream {
    name: &'static str,
    w: Option<csv::Writer<File>>,
}

impl Stream {
    fn create(dir: &Path, name: &'static str) -> Result<Stream, String> {
        let p = dir.join(name);
        let w = csv::Writer::from_path(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok(Stream { name, w: Some(w) })
    }

    /// Writes `rows`; on the first error keeps it in `error` and stops writing this file.
    fn write<I, R>(&mut self, rows: I, error: &mut Option<String>)
    where
        I: IntoIterator<Item = R>,
        R: IntoIterator,
        R::Item: AsRef<[u8]>,
    {
        let Some(w) = self.w.as_mut() else {
            return;
        };
        for row in rows {
            if let Err(e) = w.write_record(row) {
                error.get_or_insert_with(|| format!("{}: {e}", self.name));
                self.w = None;
                return;
            }
        }
    }

    fn flush(&mut self, error: &mut Option<String>) {
        if let Some(mut w) = self.w.take()
            && let Err(e) = w.flush()
        {
            error.get_or_insert_with(|| format!("{}: {e}", self.name));
        }
    }
}

/// Streams a run's records and samples to the four CSV files in a folder.
pub struct CsvFiles {
    lookups: Stream,
    calls: Stream,
    timeseries: Stream,
    traffic: Stream,
    names: Vec<&'static str>,
    error: Option<String>,
}

impl CsvFiles {
    /// Creates (or truncates) the four files in `dir`, an existing folder, and writes
    /// their headers.
    pub fn create(dir: &Path) -> Result<CsvFiles, String> {
        let methods = method_names();
        let mut f = CsvFiles {
            lookups: Stream::create(dir, "lookups.csv")?,
            calls: Stream::create(dir, "call_setups.csv")?,
            timeseries: Stream::create(dir, "timeseries.csv")?,
            traffic: Stream::create(dir, "traffic.csv")?,
            names: traffic_names(&methods),
            error: None,
        };
        f.lookups.write([LOOKUP_COLUMNS], &mut f.error);
        f.calls.write([CALL_COLUMNS], &mut f.error);
        f.timeseries
            .write([timeseries_header(&methods)], &mut f.error);
        f.traffic.write([TRAFFIC_COLUMNS], &mut f.error);
        match f.error.take() {
            Some(e) => Err(e),
            None => Ok(f),
        }
    }
}

impl RecordSink for CsvFiles {
    fn lookup(&mut self, r: LookupRecord) {
        self.lookups.write([lookup_row(&r)], &mut self.error);
    }

    fn call(&mut self, r: CallRecord) {
        self.calls.write([call_row(&r)], &mut self.error);
    }

    fn sample(&mut self, s: Sample) {
        self.timeseries.write([timeseries_row(&s)], &mut self.error);
        self.traffic
            .write(traffic_rows(&s, &self.names), &mut self.error);
    }

    fn finish(mut self: Box<Self>) -> Kept {
        let e = &mut self.error;
        for s in [
            &mut self.lookups,
            &mut self.calls,
            &mut self.timeseries,
            &mut self.traffic,
        ] {
            s.flush(e);
        }
        Kept {
            error: self.error,
            ..Kept::default()
        }
    }
}

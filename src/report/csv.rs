//! `lookups.csv`, `call_setups.csv`, `timeseries.csv` and `traffic.csv`. Column sets are fixed (they never depend on the run);
//! times and latencies are printed exactly from integer nanoseconds.

use crate::sim::RunOutput;
use crate::sim::calls::CallRecord;
use crate::sim::lookups::LookupRecord;
use crate::sim::metrics::Sample;
use crate::sim::timeline::EventRecord;

/// Columns of `lookups.csv`.
pub const LOOKUP_COLUMNS: [&str; 8] = [
    "time_s",
    "origin",
    "key",
    "hops",
    "latency_ms",
    "outcome",
    "correct",
    "responder",
];

/// Columns of `call_setups.csv`.
pub const CALL_COLUMNS: [&str; 11] = [
    "time_s",
    "caller",
    "callee_aor",
    "callee_expected",
    "fetch_hops",
    "fetch_ms",
    "attach_ms",
    "total_ms",
    "outcome",
    "correct",
    "callee",
];

/// Leading columns of `timeseries.csv`; `msgs_<method>` columns for every known message
/// type (code order), `msgs_unknown` and then [`TIMESERIES_SIP_COLUMNS`] follow.
pub const TIMESERIES_COLUMNS: [&str; 11] = [
    "time_s",
    "live_peers",
    "live_clients",
    "joined_peers",
    "ring_correct_fraction",
    "lookups_issued",
    "lookups_ok",
    "lookups_failed",
    "messages",
    "bytes",
    "acks",
];

/// The last columns of `timeseries.csv`: registrations, availability, calls and stores.
pub const TIMESERIES_SIP_COLUMNS: [&str; 10] = [
    "registrations_live",
    "registrations_available",
    "availability",
    "calls_issued",
    "calls_ok",
    "calls_failed",
    "stores_ok",
    "stores_failed",
    "call_fetches_ok",
    "call_fetches_failed",
];

/// Columns of `events.csv`.
pub const EVENT_COLUMNS: [&str; 23] = [
    "index",
    "at_s",
    "action",
    "label",
    "targets",
    "ring_before",
    "ring_min",
    "ring_099_s",
    "ring_100_s",
    "rings_before",
    "rings_max",
    "rings_after",
    "one_ring_s",
    "lookups",
    "lookups_failed",
    "lookups_wrong",
    "records_at_risk",
    "records_lost",
    "rereplicated_s",
    "bytes",
    "extra_bytes",
    "tracked_s",
    "recovered",
];

/// `events.csv`: one row per scheduled event that happened, in time order (header only
/// when the scenario has none).
pub fn events_csv(events: &[EventRecord]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(EVENT_COLUMNS)?;
    let s = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.9}"));
    let f = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
    let n = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
    for e in events {
        let r = &e.recovery;
        w.write_record([
            e.index.to_string(),
            secs(e.at.0),
            e.action.to_string(),
            e.label.clone(),
            e.targets.to_string(),
            f(r.ring_before),
            f(r.ring_min),
            s(r.ring_099_s),
            s(r.ring_100_s),
            r.rings_before.to_string(),
            r.rings_max.to_string(),
            r.rings_after.to_string(),
            s(r.one_ring_s),
            r.lookups.to_string(),
            r.lookups_failed.to_string(),
            r.lookups_wrong.to_string(),
            n(r.records_at_risk),
            n(r.records_lost),
            s(r.rereplicated_s),
            r.bytes.to_string(),
            r.extra_bytes.map_or(String::new(), |b| b.to_string()),
            s(Some(r.tracked_s)),
            r.recovered.to_string(),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// Nanoseconds as seconds with 9 decimals.
pub fn secs(ns: u64) -> String {
    format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000)
}

/// Nanoseconds as milliseconds with 6 decimals.
pub fn millis(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000, ns % 1_000_000)
}

/// One row of `lookups.csv`.
pub(crate) fn lookup_row(r: &LookupRecord) -> [String; 8] {
    let opt = |o: Option<String>| o.unwrap_or_default();
    [
        secs(r.issued.0),
        r.origin.to_string(),
        r.key.to_string(),
        opt(r.hops.map(|h| h.to_string())),
        opt(r.latency_ns().map(millis)),
        r.outcome.label(),
        opt(r.correct().map(|c| c.to_string())),
        opt(r.responder.map(|n| n.to_string())),
    ]
}

/// One row of `call_setups.csv`.
pub(crate) fn call_row(r: &CallRecord) -> [String; 11] {
    let opt = |o: Option<String>| o.unwrap_or_default();
    [
        secs(r.issued.0),
        r.caller.to_string(),
        r.callee_aor.clone(),
        opt(r.expected.map(|n| n.to_string())),
        opt(r.info.map(|i| i.fetches.to_string())),
        opt(r.info.map(|i| millis(i.fetch.0))),
        opt(r.info.map(|i| millis(i.attach.0))),
        opt(r.total_ns().map(millis)),
        r.outcome.label(),
        opt(r.correct().map(|c| c.to_string())),
        opt(r.info.map(|i| i.callee.to_string())),
    ]
}

/// `call_setups.csv`: one row per call, in the order placed.
pub fn calls_csv(records: &[CallRecord]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CALL_COLUMNS)?;
    for r in records {
        w.write_record(call_row(r))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// `lookups.csv`: one row per lookup, in issue order.
pub fn lookups_csv(records: &[LookupRecord]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(LOOKUP_COLUMNS)?;
    for r in records {
        w.write_record(lookup_row(r))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// The full header of `timeseries.csv` for these method names.
pub fn timeseries_header(method_names: &[&str]) -> Vec<String> {
    TIMESERIES_COLUMNS
        .iter()
        .map(|c| c.to_string())
        .chain(method_names.iter().map(|m| format!("msgs_{m}")))
        .chain(std::iter::once("msgs_unknown".to_string()))
        .chain(TIMESERIES_SIP_COLUMNS.iter().map(|c| c.to_string()))
        .collect()
}

/// One row of `timeseries.csv`.
pub(crate) fn timeseries_row(s: &Sample) -> Vec<String> {
    let mut row = vec![
        secs(s.time.0),
        s.live_peers.to_string(),
        s.live_clients.to_string(),
        s.joined_peers.to_string(),
        s.ring_correct_fraction
            .map_or(String::new(), |f| format!("{f:.6}")),
        s.lookups_issued.to_string(),
        s.lookups_ok.to_string(),
        s.lookups_failed.to_string(),
        s.traffic.messages.to_string(),
        s.traffic.bytes.to_string(),
        s.traffic.acks.to_string(),
    ];
    row.extend(s.traffic.by_method.iter().map(|c| c.to_string()));
    row.extend([
        s.registrations_live.to_string(),
        s.registrations_available.to_string(),
        s.availability.map_or(String::new(), |a| format!("{a:.6}")),
        s.calls_issued.to_string(),
        s.calls_ok.to_string(),
        s.calls_failed.to_string(),
        s.stores_ok.to_string(),
        s.stores_failed.to_string(),
        s.call_fetches_ok.to_string(),
        s.call_fetches_failed.to_string(),
    ]);
    row
}

/// `timeseries.csv`: one row per sample interval.
pub fn timeseries_csv(out: &RunOutput) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(timeseries_header(&out.method_names))?;
    for s in &out.samples {
        w.write_record(timeseries_row(s))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// Columns of `traffic.csv`.
pub const TRAFFIC_COLUMNS: [&str; 6] = [
    "time_s",
    "method",
    "messages",
    "bytes",
    "live_peers",
    "live_clients",
];

/// `traffic.csv`, long form: per sample interval, one row per message type sent in it
/// (`unknown` for unassigned codes), with data frames and their bytes, and the live peers
/// at the interval's end (to get per-peer figures). Types with no traffic in an interval
/// have no row.
pub fn traffic_csv(out: &RunOutput) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(TRAFFIC_COLUMNS)?;
    let names = traffic_names(&out.method_names);
    for s in &out.samples {
        for row in traffic_rows(s, &names) {
            w.write_record(row)?;
        }
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// The `method` values of `traffic.csv`, in column order: these method names, then
/// `unknown`.
pub(crate) fn traffic_names<'a>(method_names: &[&'a str]) -> Vec<&'a str> {
    let unknown = std::iter::once("unknown");
    method_names.iter().copied().chain(unknown).collect()
}

/// The rows of `traffic.csv` for one sample: one per message type sent in the interval.
pub(crate) fn traffic_rows<'a>(
    s: &'a Sample,
    names: &'a [&str],
) -> impl Iterator<Item = [String; 6]> + 'a {
    let t = &s.traffic;
    names.iter().enumerate().filter_map(move |(k, name)| {
        let (m, b) = (t.by_method[k], t.bytes_by_method[k]);
        (m > 0).then(|| {
            [
                secs(s.time.0),
                name.to_string(),
                m.to_string(),
                b.to_string(),
                s.live_peers.to_string(),
                s.live_clients.to_string(),
            ]
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_time_formatting() {
        assert_eq!(secs(1_500_000_000), "1.500000000");
        assert_eq!(secs(7), "0.000000007");
        assert_eq!(millis(12_345_678), "12.345678");
    }
}

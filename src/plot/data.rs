//! The files of a run folder read for the plots: only the columns they use, found by name in
//! each header, row by row. `lookups.csv` and `call_setups.csv` (a row per lookup or call)
//! are counted as they are read, into hop counts and [`Histogram`]s, so their size does not
//! matter; `timeseries.csv` and `traffic.csv` (rows per sample interval) are kept as typed
//! rows. A CSV file that is absent reads as `None`; a malformed one is an error naming the
//! file and line.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::str::FromStr;

use serde_json::Value;

use super::PlotError;
use super::histogram::Histogram;

/// The run's summary (scenario name, seed, key figures).
pub const SUMMARY_JSON: &str = "summary.json";
/// The effective scenario (for `[scenario] sample_interval_s`).
pub const SCENARIO_TOML: &str = "scenario.toml";
/// One row per lookup.
pub const LOOKUPS_CSV: &str = "lookups.csv";
/// One row per SIP call.
pub const CALLS_CSV: &str = "call_setups.csv";
/// One row per sample interval.
pub const TIMESERIES_CSV: &str = "timeseries.csv";
/// Per sample interval, one row per message type with traffic.
pub const TRAFFIC_CSV: &str = "traffic.csv";
/// The scheduled events and their recovery.
pub const EVENTS_CSV: &str = "events.csv";

/// What the plots need of `lookups.csv`: its completed (`ok`) lookups, counted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lookups {
    /// Completed lookups per hop count (those with one: overlay transmissions from origin
    /// to responder, at most the TTL).
    pub hops: BTreeMap<u16, u64>,
    /// Issue to answer of completed lookups, ms.
    pub latency_ms: Histogram,
}

impl Lookups {
    /// Counts a lookup: completed (`ok`) or not, its hop count and latency when known.
    pub fn add(&mut self, ok: bool, hops: Option<u16>, latency_ms: Option<f64>) {
        if !ok {
            return;
        }
        if let Some(h) = hops {
            *self.hops.entry(h).or_default() += 1;
        }
        if let Some(l) = latency_ms {
            self.latency_ms.add(l);
        }
    }
}

/// What the plots need of `call_setups.csv`: its `ok` calls' setup times, counted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Calls {
    /// Call to the AppAttach answer of `ok` calls, ms.
    pub total_ms: Histogram,
}

/// One row of `timeseries.csv` (the ring columns).
#[derive(Clone, Debug, PartialEq)]
pub struct SampleRow {
    /// End of the interval, s.
    pub time_s: f64,
    /// Slots with a running node (peers only, once `live_clients` is written).
    pub live_peers: u64,
    /// Clients with a running node, when the file has the `live_clients` column (folders
    /// written before it have not).
    pub live_clients: Option<u64>,
    /// Peers in state Joined.
    pub joined_peers: u64,
    /// Share of joined peers whose first successor is the true one, 0..=1; `None` (an
    /// empty cell) while no peer is joined.
    pub ring_correct_fraction: Option<f64>,
}

/// One row of `events.csv` (what the ring plot marks).
#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    /// When it happened, s.
    pub at_s: f64,
    /// Its label.
    pub label: String,
    /// How long its recovery was tracked, s.
    pub tracked_s: f64,
}

/// One row of `traffic.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct TrafficRow {
    /// End of the interval, s.
    pub time_s: f64,
    /// Message type (RFC name, or `unknown`).
    pub method: String,
    /// Data frames of this type sent in the interval.
    pub messages: u64,
    /// Bytes of those frames.
    pub bytes: u64,
    /// Live peers at the interval's end.
    pub live_peers: u64,
    /// Live clients at the interval's end (0 for folders written before the column).
    pub live_clients: u64,
}

/// The median and 99th percentile of a distribution, in its unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantiles {
    /// 50th percentile.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// What names a run, and the figures of `summary.json` the plots quote.
#[derive(Clone, Debug, PartialEq)]
pub struct RunMeta {
    /// `summary.json` `scenario`.
    pub scenario: String,
    /// `summary.json` `seed`, as written.
    pub seed: String,
    /// `[scenario] sample_interval_s` of `scenario.toml`, s, when readable.
    pub sample_interval_s: Option<f64>,
    /// `summary.json` `latency_ms.p50` and `.p99`, ms, when both are numbers.
    pub lookup_latency_ms: Option<Quantiles>,
    /// `summary.json` `calls.total_ms.p50` and `.p99`, ms, when both are numbers.
    pub call_setup_ms: Option<Quantiles>,
}

/// Everything the run plots need.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunData {
    /// `lookups.csv`, if present.
    pub lookups: Option<Lookups>,
    /// `call_setups.csv`, if present.
    pub calls: Option<Calls>,
    /// `timeseries.csv`, if present.
    pub samples: Option<Vec<SampleRow>>,
    /// `traffic.csv`, if present.
    pub traffic: Option<Vec<TrafficRow>>,
    /// `events.csv`, if present.
    pub events: Option<Vec<EventRow>>,
}

/// Reads `summary.json` (required) and whichever CSV files exist.
pub fn load_run(dir: &Path) -> Result<(RunMeta, RunData), PlotError> {
    let meta = load_meta(dir)?;
    let data = RunData {
        lookups: fold_csv(&dir.join(LOOKUPS_CSV), Lookups::default(), add_lookup)?,
        calls: fold_csv(&dir.join(CALLS_CSV), Calls::default(), add_call)?,
        samples: read_csv(&dir.join(TIMESERIES_CSV), sample_row)?,
        traffic: read_csv(&dir.join(TRAFFIC_CSV), traffic_row)?,
        events: read_csv(&dir.join(EVENTS_CSV), event_row)?,
    };
    Ok((meta, data))
}

/// Reads a JSON document.
pub fn read_json(path: &Path) -> Result<Value, PlotError> {
    let text = std::fs::read_to_string(path).map_err(|e| PlotError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| {
        PlotError::malformed(path, Some(e.line() as u64), format!("invalid JSON: {e}"))
    })
}

/// A JSON scalar as text (strings without quotes).
pub fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Scenario name and seed from `summary.json`, the sample interval from `scenario.toml`.
pub fn load_meta(dir: &Path) -> Result<RunMeta, PlotError> {
    let path = dir.join(SUMMARY_JSON);
    if !path.is_file() {
        return Err(PlotError::Missing {
            path,
            what: "a run folder's summary",
        });
    }
    let summary = read_json(&path)?;
    let field = |k: &str| match summary.get(k) {
        Some(v @ (Value::String(_) | Value::Number(_))) => Ok(json_text(v)),
        _ => Err(PlotError::malformed(
            &path,
            None,
            format!("`{k}` is missing or not a string or number"),
        )),
    };
    let scenario = field("scenario")?;
    let seed = field("seed")?;
    let toml_path = dir.join(SCENARIO_TOML);
    let sample_interval_s = match std::fs::read_to_string(&toml_path) {
        Ok(text) => {
            let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
                PlotError::malformed(&toml_path, None, e.message().to_string())
            })?;
            doc.get("scenario")
                .and_then(|s| s.get("sample_interval_s"))
                .and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
                .filter(|v| v.is_finite() && *v > 0.0)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(PlotError::io(&toml_path, e)),
    };
    Ok(RunMeta {
        scenario,
        seed,
        sample_interval_s,
        lookup_latency_ms: quantiles(&summary, &["latency_ms"]),
        call_setup_ms: quantiles(&summary, &["calls", "total_ms"]),
    })
}

/// `p50` and `p99` of the object at `path` in `summary`, when both are finite numbers
/// (absent, `null` or another type: `None`).
fn quantiles(summary: &Value, path: &[&str]) -> Option<Quantiles> {
    let dist = path.iter().try_fold(summary, |v, k| v.get(k))?;
    let q = |k: &str| dist.get(k)?.as_f64().filter(|x| x.is_finite());
    Some(Quantiles {
        p50: q("p50")?,
        p99: q("p99")?,
    })
}

/// The columns of a CSV header by name.
pub struct Columns {
    index: HashMap<String, usize>,
}

impl Columns {
    /// Index of column `name`, or an error naming it.
    pub fn get(&self, name: &str) -> Result<usize, String> {
        self.index
            .get(name)
            .copied()
            .ok_or_else(|| format!("no column `{name}` in the header"))
    }

    /// Whether the header has column `name`.
    pub fn has(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Field `name` of `rec`: its text.
    pub fn text<'r>(&self, rec: &'r csv::StringRecord, name: &str) -> Result<&'r str, String> {
        let i = self.get(name)?;
        rec.get(i)
            .ok_or_else(|| format!("column `{name}` is absent"))
    }

    /// Field `name` of `rec` parsed as `T`.
    pub fn parse<T: FromStr>(&self, rec: &csv::StringRecord, name: &str) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        let s = self.text(rec, name)?;
        s.trim()
            .parse()
            .map_err(|e| format!("column `{name}`: {s:?}: {e}"))
    }

    /// Field `name` of `rec` parsed as `T`, `None` when empty.
    pub fn opt<T: FromStr>(&self, rec: &csv::StringRecord, name: &str) -> Result<Option<T>, String>
    where
        T::Err: std::fmt::Display,
    {
        let s = self.text(rec, name)?.trim();
        if s.is_empty() {
            return Ok(None);
        }
        s.parse()
            .map(Some)
            .map_err(|e| format!("column `{name}`: {s:?}: {e}"))
    }

    /// A finite number in column `name`.
    pub fn finite(&self, rec: &csv::StringRecord, name: &str) -> Result<f64, String> {
        let x: f64 = self.parse(rec, name)?;
        finite(x, name)
    }

    /// A finite number in column `name`, `None` when empty.
    pub fn opt_finite(&self, rec: &csv::StringRecord, name: &str) -> Result<Option<f64>, String> {
        self.opt::<f64>(rec, name)?
            .map(|x| finite(x, name))
            .transpose()
    }
}

fn finite(x: f64, name: &str) -> Result<f64, String> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(format!("column `{name}`: {x} is not a finite number"))
    }
}

/// Reads a CSV file with a header, one `T` per record. `Ok(None)` when the file does not
/// exist.
pub fn read_csv<T>(
    path: &Path,
    row: impl Fn(&Columns, &csv::StringRecord) -> Result<T, String>,
) -> Result<Option<Vec<T>>, PlotError> {
    fold_csv(path, Vec::new(), |rows, c, r| {
        rows.push(row(c, r)?);
        Ok(())
    })
}

/// Reads a CSV file with a header record by record, handing each to `add` with `acc`;
/// returns `acc` at the end. `Ok(None)` when the file does not exist. One record is held
/// at a time.
pub fn fold_csv<A>(
    path: &Path,
    mut acc: A,
    mut add: impl FnMut(&mut A, &Columns, &csv::StringRecord) -> Result<(), String>,
) -> Result<Option<A>, PlotError> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(PlotError::io(path, e)),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(std::io::BufReader::new(file));
    let csv_err = |e: csv::Error| {
        let line = e.position().map(|p| p.line());
        match e.into_kind() {
            csv::ErrorKind::Io(io) => PlotError::io(path, io),
            kind => PlotError::malformed(path, line, csv_kind_message(&kind)),
        }
    };
    let header = reader.headers().map_err(csv_err)?.clone();
    let cols = Columns {
        index: header
            .iter()
            .enumerate()
            .map(|(i, name)| (name.trim().to_string(), i))
            .collect(),
    };
    let mut rec = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_err(e)),
        }
        add(&mut acc, &cols, &rec).map_err(|m| {
            let line = rec.position().map(|p| p.line());
            PlotError::malformed(path, line, m)
        })?;
    }
    Ok(Some(acc))
}

fn csv_kind_message(kind: &csv::ErrorKind) -> String {
    match kind {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { err, .. } => format!("not UTF-8: {err}"),
        other => format!("{other:?}"),
    }
}

/// Counts a row of `lookups.csv` (every column read is checked, `time_s` too, though no
/// plot draws it).
fn add_lookup(l: &mut Lookups, c: &Columns, r: &csv::StringRecord) -> Result<(), String> {
    c.finite(r, "time_s")?;
    let hops = c.opt(r, "hops")?;
    let latency_ms = c.opt_finite(r, "latency_ms")?;
    let ok = c.text(r, "outcome")?.trim() == "ok";
    l.add(ok, hops, latency_ms);
    Ok(())
}

/// Counts a row of `call_setups.csv`.
fn add_call(calls: &mut Calls, c: &Columns, r: &csv::StringRecord) -> Result<(), String> {
    c.finite(r, "time_s")?;
    let total_ms = c.opt_finite(r, "total_ms")?;
    if c.text(r, "outcome")?.trim() == "ok" {
        if let Some(t) = total_ms {
            calls.total_ms.add(t);
        }
    }
    Ok(())
}

fn sample_row(c: &Columns, r: &csv::StringRecord) -> Result<SampleRow, String> {
    Ok(SampleRow {
        time_s: c.finite(r, "time_s")?,
        live_peers: c.parse(r, "live_peers")?,
        live_clients: if c.has("live_clients") {
            Some(c.parse(r, "live_clients")?)
        } else {
            None
        },
        joined_peers: c.parse(r, "joined_peers")?,
        ring_correct_fraction: c.opt_finite(r, "ring_correct_fraction")?,
    })
}

fn event_row(c: &Columns, r: &csv::StringRecord) -> Result<EventRow, String> {
    Ok(EventRow {
        at_s: c.finite(r, "at_s")?,
        label: c.text(r, "label")?.to_string(),
        tracked_s: c.finite(r, "tracked_s")?,
    })
}

fn traffic_row(c: &Columns, r: &csv::StringRecord) -> Result<TrafficRow, String> {
    Ok(TrafficRow {
        time_s: c.finite(r, "time_s")?,
        method: c.text(r, "method")?.trim().to_string(),
        messages: c.parse(r, "messages")?,
        bytes: c.parse(r, "bytes")?,
        live_peers: c.parse(r, "live_peers")?,
        live_clients: if c.has("live_clients") {
            c.opt(r, "live_clients")?.unwrap_or(0)
        } else {
            0
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("reload-sim-plotdata-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_rows_by_column_name() {
        let p = tmp(
            "l.csv",
            "time_s,origin,key,hops,latency_ms,outcome,correct,responder\n\
             1.5,a,b,4,12.5,ok,true,c\n2.0,a,b,,,timeout,,\n",
        );
        let l = fold_csv(&p, Lookups::default(), add_lookup)
            .unwrap()
            .unwrap();
        assert_eq!(l.hops, BTreeMap::from([(4, 1)]));
        assert_eq!((l.latency_ms.len(), l.latency_ms.max()), (1, Some(12.5)));
        let p = tmp(
            "c.csv",
            "outcome,time_s,total_ms\nok,1.5,40.25\ntimeout,2,30\nok,3,\n",
        );
        let c = fold_csv(&p, Calls::default(), add_call).unwrap().unwrap();
        assert_eq!((c.total_ms.len(), c.total_ms.max()), (1, Some(40.25)));
    }

    #[test]
    fn bad_values_name_file_and_line() {
        let p = tmp(
            "bad.csv",
            "time_s,origin,key,hops,latency_ms,outcome,correct,responder\n\
             1.5,a,b,4,12.5,ok,true,c\n2.0,a,b,x,,timeout,,\n",
        );
        let e = fold_csv(&p, Lookups::default(), add_lookup)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.csv:3:"), "{e}");
        assert!(e.contains("hops"), "{e}");
        let p = tmp(
            "short.csv",
            "time_s,origin,key,hops,latency_ms,outcome,correct,responder\n\
             1.5,a,b,4,12.5,ok,true,c\n2\n",
        );
        let e = fold_csv(&p, Lookups::default(), add_lookup)
            .unwrap_err()
            .to_string();
        assert!(e.contains("short.csv:3:"), "{e}");
        let p = tmp("nocol.csv", "time_s,outcome\n1,ok\n");
        let e = fold_csv(&p, Lookups::default(), add_lookup)
            .unwrap_err()
            .to_string();
        assert!(e.contains("nocol.csv:2:") && e.contains("hops"), "{e}");
        let p = tmp(
            "nan.csv",
            "time_s,method,messages,bytes,live_peers\nNaN,x,1,1,1\n",
        );
        let e = read_csv(&p, traffic_row).unwrap_err().to_string();
        assert!(e.contains("finite"), "{e}");
    }

    #[test]
    fn timeseries_columns_are_found_by_name_with_or_without_live_clients() {
        let p = tmp(
            "ts-old.csv",
            "time_s,live_peers,joined_peers,ring_correct_fraction,lookups_issued\n5,10,9,0.5,3\n",
        );
        let rows = read_csv(&p, sample_row).unwrap().unwrap();
        assert_eq!(rows[0].live_peers, 10);
        assert_eq!(rows[0].live_clients, None);
        let p = tmp(
            "ts-new.csv",
            "time_s,live_peers,live_clients,joined_peers,ring_correct_fraction,lookups_issued\n\
             5,10,4,9,0.5,3\n",
        );
        let rows = read_csv(&p, sample_row).unwrap().unwrap();
        assert_eq!(
            (
                rows[0].live_peers,
                rows[0].live_clients,
                rows[0].joined_peers
            ),
            (10, Some(4), 9)
        );
        assert_eq!(rows[0].ring_correct_fraction, Some(0.5));
        let p = tmp(
            "ts-bad.csv",
            "time_s,live_peers,live_clients,joined_peers,ring_correct_fraction\n5,10,x,9,0.5\n",
        );
        let e = read_csv(&p, sample_row).unwrap_err().to_string();
        assert!(
            e.contains("ts-bad.csv:2:") && e.contains("live_clients"),
            "{e}"
        );
    }

    #[test]
    fn absent_files_read_as_none() {
        let p = std::env::temp_dir().join("reload-sim-no-such-file.csv");
        assert!(
            fold_csv(&p, Lookups::default(), add_lookup)
                .unwrap()
                .is_none()
        );
    }
}

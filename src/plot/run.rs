//! The plots of one run folder: hop counts, lookup latency CDF, ring membership and
//! correctness, bandwidth per peer by message type, call setup CDF. A plot whose data is
//! absent (no CSV file, no completed lookups, no calls) is left out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::data::{
    self, Calls, EventRow, Lookups, Quantiles, RunData, RunMeta, SampleRow, TrafficRow,
};
use super::figure::{self, Band, Bars, Body, Figure, Legend, Line, Secondary, Series, Xy};
use super::histogram::Histogram;
use super::stats;
use super::style::{num, title};
use super::{PLOTS_DIR, PlotError};

/// File stems of the run plots, in report order.
pub const RUN_PLOTS: [&str; 5] = [
    "hops",
    "lookup_latency_cdf",
    "ring",
    "maintenance_bandwidth",
    "call_setup_cdf",
];

/// Reads the run folder `dir` and draws its plots into `<dir>/plots/` as PNG and SVG.
/// Returns the files written (PNG then SVG per plot, in [`RUN_PLOTS`] order).
pub fn draw_run(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let (_, figs) = run_figures(dir)?;
    write_figures(dir, &figs)
}

/// Writes figures into `<dir>/plots/` (created if needed); returns the files written.
pub fn write_figures(dir: &Path, figs: &[Figure]) -> Result<Vec<PathBuf>, PlotError> {
    let out = dir.join(PLOTS_DIR);
    std::fs::create_dir_all(&out).map_err(|e| PlotError::io(&out, e))?;
    let mut files = Vec::with_capacity(2 * figs.len());
    for fig in figs {
        files.extend(figure::write_figure(fig, &out)?);
    }
    Ok(files)
}

/// The figures of the run folder `dir`, without drawing them.
pub fn run_figures(dir: &Path) -> Result<(RunMeta, Vec<Figure>), PlotError> {
    let (meta, data) = data::load_run(dir)?;
    let figs = figures(&meta, &data);
    Ok((meta, figs))
}

/// The figures for loaded run data, in [`RUN_PLOTS`] order.
pub fn figures(meta: &RunMeta, d: &RunData) -> Vec<Figure> {
    let seed = format!("seed {}", meta.seed);
    let t = |what: &str| title(&meta.scenario, &seed, what);
    let none = Lookups::default();
    let lookups = d.lookups.as_ref().unwrap_or(&none);
    [
        hops(&lookups.hops, t("hop counts of completed lookups")),
        lookup_latency_cdf(
            &lookups.latency_ms,
            meta.lookup_latency_ms,
            t("lookup latency CDF"),
        ),
        d.samples.as_deref().and_then(|s| {
            ring(
                s,
                d.events.as_deref().unwrap_or_default(),
                t("peers and ring correctness"),
            )
        }),
        d.traffic.as_deref().and_then(|tr| {
            maintenance_bandwidth(
                tr,
                d.samples.as_deref(),
                meta.sample_interval_s,
                t("bandwidth per live node by message type"),
            )
        }),
        d.calls.as_ref().and_then(|c| {
            call_setup_cdf(c, meta.call_setup_ms, t("call setup time CDF (ok calls)"))
        }),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Hop counts of completed lookups, the rare long tail folded into one last bar: with
/// `body` the largest hop count once the top 0.1 % of lookups (at least the single
/// longest) are left out, and `k = body + 1`, lookups of `k` hops or more form one bar
/// labelled `≥ k` when the longest has at least `2·k` hops (so a few outliers do not
/// stretch the axis to squeeze the rest into its left part). `counts` holds the lookups
/// per hop count. Returns the bars (category, count) and `k` when folded.
pub fn hop_bars(counts: &BTreeMap<u16, u64>) -> (Vec<(u16, u64)>, Option<u16>) {
    let n: u64 = counts.values().sum();
    let left_out = (n / 1000).max(1);
    // The hop count of rank `rank` (1-based) in ascending order.
    let at_rank = |rank: u64| {
        let mut below = 0;
        counts.iter().find_map(|(&h, &c)| {
            below += c;
            (below >= rank).then_some(h)
        })
    };
    let fold = match (n.checked_sub(left_out), counts.keys().next_back()) {
        (Some(rank), Some(&max)) if rank > 0 => at_rank(rank).and_then(|body| {
            let k = body.saturating_add(1);
            (u32::from(max) >= 2 * u32::from(k)).then_some(k)
        }),
        _ => None,
    };
    let mut bars: BTreeMap<u16, u64> = BTreeMap::new();
    for (&h, &c) in counts {
        *bars.entry(fold.map_or(h, |k| h.min(k))).or_default() += c;
    }
    (bars.into_iter().collect(), fold)
}

fn hops(counts: &BTreeMap<u16, u64>, title: String) -> Option<Figure> {
    let n: u64 = counts.values().sum();
    if n == 0 {
        return None;
    }
    let sum: u64 = counts.iter().map(|(&h, &c)| u64::from(h) * c).sum();
    let mean = sum as f64 / n as f64;
    let max = counts.keys().next_back().copied().unwrap_or(0);
    let (bars, overflow) = hop_bars(counts);
    let max_text = match overflow {
        Some(_) => format!(", max {max}"),
        None => String::new(),
    };
    Some(Figure {
        name: "hops".into(),
        title,
        x_label: "hops (overlay transmissions, origin to responder)".into(),
        y_label: "completed lookups (count)".into(),
        body: Body::Bars(Bars {
            bars,
            label: format!(
                "{n} completed lookups, mean {} hops{max_text}",
                num(mean, 2)
            ),
            overflow,
        }),
    })
}

/// A CDF of the values `v` with their count, p50 and p99 in the legend: the quantiles
/// `given` (from `summary.json`) when known, else computed from `v` (nearest rank).
fn cdf_figure(
    name: &str,
    title: String,
    x_label: &str,
    y_label: &str,
    v: &Histogram,
    what: &str,
    given: Option<Quantiles>,
) -> Option<Figure> {
    if v.is_empty() {
        return None;
    }
    let computed = || v.quantile(0.5).zip(v.quantile(0.99));
    let (p50, p99) = given.map(|q| (q.p50, q.p99)).or_else(computed)?;
    // From 0 to a little past the largest value; 0..1 when every value is 0.
    let top = v.max().filter(|&t| t > 0.0).unwrap_or(1.0 / 1.02);
    let label = format!(
        "{} {what}: p50 {} ms, p99 {} ms",
        v.len(),
        num(p50, 1),
        num(p99, 1)
    );
    Some(Figure {
        name: name.into(),
        title,
        x_label: x_label.into(),
        y_label: y_label.into(),
        body: Body::Xy(Xy {
            series: vec![Series::line(label, 0, v.cdf_steps())],
            x_range: Some((0.0, top * 1.02)),
            y_range: Some((0.0, 1.02)),
            log_x: false,
            log_y: false,
            secondary: None,
            bands: Vec::new(),
            legend: Legend::LowerRight,
        }),
    })
}

fn lookup_latency_cdf(
    latency_ms: &Histogram,
    given: Option<Quantiles>,
    title: String,
) -> Option<Figure> {
    cdf_figure(
        "lookup_latency_cdf",
        title,
        "lookup latency, issue to answer (ms)",
        "fraction of completed lookups",
        latency_ms,
        "completed lookups",
        given,
    )
}

fn call_setup_cdf(calls: &Calls, given: Option<Quantiles>, title: String) -> Option<Figure> {
    cdf_figure(
        "call_setup_cdf",
        title,
        "call setup time, call to AppAttach answer (ms)",
        "fraction of ok calls",
        &calls.total_ms,
        "ok calls",
        given,
    )
}

/// Live and joined peers and ring correctness over time; each scheduled event is a line
/// with its label, its recovery (while tracked) shaded.
fn ring(samples: &[SampleRow], events: &[EventRow], title: String) -> Option<Figure> {
    if samples.is_empty() {
        return None;
    }
    let pts = |f: fn(&SampleRow) -> f64| samples.iter().map(|s| (s.time_s, f(s))).collect();
    let clients = |s: &SampleRow| s.live_clients.unwrap_or(0);
    let top = samples
        .iter()
        .map(|s| s.live_peers.max(s.joined_peers).max(clients(s)))
        .max()
        .unwrap_or(0) as f64;
    let mut series = vec![
        Series::line("live peers", 0, pts(|s| s.live_peers as f64)),
        Series::line("joined peers", 1, pts(|s| s.joined_peers as f64)),
    ];
    // Clients only where the file counts them and some ran.
    let with_clients = samples.iter().any(|s| clients(s) > 0);
    if with_clients {
        let live = pts(|s| s.live_clients.unwrap_or(0) as f64);
        series.push(Series::line("live clients", 3, live));
    }
    Some(Figure {
        name: "ring".into(),
        title,
        x_label: "time (s)".into(),
        y_label: if with_clients {
            "peers and clients (count)"
        } else {
            "peers (count)"
        }
        .into(),
        body: Body::Xy(Xy {
            series,
            x_range: None,
            y_range: Some((0.0, (top * 1.2).max(1.0))),
            log_x: false,
            log_y: false,
            bands: events
                .iter()
                .map(|e| Band {
                    from: e.at_s,
                    to: e.at_s + e.tracked_s,
                    label: e.label.clone(),
                })
                .collect(),
            secondary: Some(Secondary {
                y_label: "ring correct fraction (0..1)".into(),
                y_range: (0.0, 1.05),
                series: vec![Series::line(
                    "ring correct fraction (right axis)",
                    2,
                    samples
                        .iter()
                        .filter_map(|s| Some((s.time_s, s.ring_correct_fraction?)))
                        .collect(),
                )],
            }),
            legend: Legend::LowerRight,
        }),
    })
}

/// Interval lengths, s, by interval end time: differences of consecutive sample times
/// (the first interval starts at 0), at most `interval_s` when that is known (so a gap in
/// the times does not stretch an interval).
fn interval_lengths(times: &[f64], interval_s: Option<f64>) -> BTreeMap<u64, f64> {
    let mut sorted = stats::sorted(times.iter().copied());
    sorted.dedup();
    let mut prev = 0.0;
    let mut out = BTreeMap::new();
    for t in sorted {
        let mut dt = t - prev;
        if let Some(i) = interval_s {
            dt = dt.min(i);
        }
        out.insert(t.to_bits(), dt);
        prev = t;
    }
    out
}

fn maintenance_bandwidth(
    traffic: &[TrafficRow],
    samples: Option<&[SampleRow]>,
    interval_s: Option<f64>,
    title: String,
) -> Option<Figure> {
    let times: Vec<f64> = match samples {
        Some(s) if !s.is_empty() => s.iter().map(|s| s.time_s).collect(),
        _ => traffic.iter().map(|r| r.time_s).collect(),
    };
    let mut dts = interval_lengths(&times, interval_s);
    for r in traffic {
        // Rows at times the time series lacks still count, with the nominal interval.
        if let (false, Some(i)) = (dts.contains_key(&r.time_s.to_bits()), interval_s) {
            dts.insert(r.time_s.to_bits(), i);
        }
    }
    // Bytes per live node (peer or client) per second, by method, by time.
    let mut by_method: BTreeMap<&str, BTreeMap<u64, f64>> = BTreeMap::new();
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    for r in traffic {
        let Some(&dt) = dts.get(&r.time_s.to_bits()) else {
            continue;
        };
        let live = r.live_peers + r.live_clients;
        if live == 0 || dt <= 0.0 || r.messages == 0 {
            continue;
        }
        let rate = r.bytes as f64 / live as f64 / dt;
        *by_method
            .entry(&r.method)
            .or_default()
            .entry(r.time_s.to_bits())
            .or_default() += rate;
        *totals.entry(&r.method).or_default() += r.bytes;
    }
    if by_method.is_empty() {
        return None;
    }
    let mut order: Vec<(&str, u64)> = totals.into_iter().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let series = order
        .iter()
        .enumerate()
        .map(|(i, (method, _))| {
            let rates = &by_method[method];
            let pts = dts
                .keys()
                .map(|&t| (f64::from_bits(t), rates.get(&t).copied().unwrap_or(0.0)))
                .collect();
            // Colour and line style by rank: no two message types look alike.
            Series {
                line: Line::nth(i),
                ..Series::line(*method, i, pts)
            }
        })
        .collect();
    Some(Figure {
        name: "maintenance_bandwidth".into(),
        title,
        x_label: "time (s)".into(),
        y_label: "bytes per live node per second (B/s, log scale)".into(),
        body: Body::Xy(Xy {
            series,
            x_range: None,
            y_range: None,
            log_x: false,
            log_y: true,
            secondary: None,
            bands: Vec::new(),
            legend: Legend::Right,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(t: f64, m: &str, bytes: u64, live: u64) -> TrafficRow {
        TrafficRow {
            time_s: t,
            method: m.into(),
            messages: 1,
            bytes,
            live_peers: live,
            live_clients: 0,
        }
    }

    #[test]
    fn bandwidth_is_bytes_per_live_node_per_second() {
        let rows = [
            tr(5.0, "update_req", 1000, 10),
            tr(10.0, "update_req", 500, 10),
            tr(10.0, "ping_req", 5000, 10),
            tr(12.0, "ping_req", 200, 10),
        ];
        let f = maintenance_bandwidth(&rows, None, Some(5.0), "t".into()).unwrap();
        let Body::Xy(xy) = f.body else { panic!() };
        // Ordered by total bytes: ping_req first.
        assert_eq!(xy.series[0].label, "ping_req");
        assert_eq!(
            xy.series[0].points,
            vec![(5.0, 0.0), (10.0, 100.0), (12.0, 10.0)]
        );
        assert_eq!(
            xy.series[1].points,
            vec![(5.0, 20.0), (10.0, 10.0), (12.0, 0.0)]
        );
        // Clients count as live nodes too: 10 peers and 10 clients halve the rate.
        let mut with_clients = rows.clone();
        for r in &mut with_clients {
            r.live_clients = 10;
        }
        let f = maintenance_bandwidth(&with_clients, None, Some(5.0), "t".into()).unwrap();
        let Body::Xy(xy) = f.body else { panic!() };
        assert_eq!(xy.series[0].points[1], (10.0, 50.0));
    }

    fn counts(hops: impl IntoIterator<Item = u16>) -> BTreeMap<u16, u64> {
        let mut c = BTreeMap::new();
        for h in hops {
            *c.entry(h).or_default() += 1;
        }
        c
    }

    #[test]
    fn a_far_hop_tail_folds_into_one_bar() {
        // 0..=10 hops and one lookup of 101: bars 0..=10 and `≥ 11` holding the one.
        let mut hops: Vec<u16> = (0..200).map(|i| i % 11).collect();
        hops.push(101);
        let (bars, k) = hop_bars(&counts(hops.clone()));
        assert_eq!(k, Some(11));
        assert_eq!(bars.len(), 12);
        assert_eq!(bars.last(), Some(&(11, 1)));
        // A tail shorter than twice the body stays as it is.
        hops.pop();
        hops.push(21);
        let (bars, k) = hop_bars(&counts(hops));
        assert_eq!((k, bars.last()), (None, Some(&(21, 1))));
        // One value, or all equal: nothing to fold.
        assert_eq!(hop_bars(&counts([7])), (vec![(7, 1)], None));
        assert_eq!(hop_bars(&counts([0, 0, 0])), (vec![(0, 3)], None));
        assert_eq!(hop_bars(&counts([])), (vec![], None));
        // In large samples the top 0.1 % fold: 2,000 lookups, the two longest far out.
        let mut hops: Vec<u16> = (0..1998).map(|i| 3 + i % 3).collect();
        hops.extend([40, u16::MAX]);
        let (bars, k) = hop_bars(&counts(hops));
        assert_eq!(k, Some(6));
        assert_eq!(bars, [(3, 666), (4, 666), (5, 666), (6, 2)]);
    }

    #[test]
    fn no_data_no_figure() {
        let meta = RunMeta {
            scenario: "s".into(),
            seed: "1".into(),
            sample_interval_s: None,
            lookup_latency_ms: None,
            call_setup_ms: None,
        };
        assert!(figures(&meta, &RunData::default()).is_empty());
        let mut pending = Lookups::default();
        pending.add(false, None, None);
        let d = RunData {
            lookups: Some(pending),
            calls: Some(Calls::default()),
            ..RunData::default()
        };
        assert!(figures(&meta, &d).is_empty());
    }

    #[test]
    fn the_ring_plot_marks_each_event_and_shades_its_recovery() {
        let row = |t: f64| SampleRow {
            time_s: t,
            live_peers: 10,
            live_clients: None,
            joined_peers: 10,
            ring_correct_fraction: Some(1.0),
        };
        let events = [EventRow {
            at_s: 20.0,
            label: "half crash".into(),
            tracked_s: 12.5,
        }];
        let fig = ring(&[row(10.0), row(40.0)], &events, "t".into()).unwrap();
        let Body::Xy(xy) = &fig.body else {
            panic!("an x/y plot")
        };
        assert_eq!(
            xy.bands,
            [Band {
                from: 20.0,
                to: 32.5,
                label: "half crash".into()
            }]
        );
        // Drawn into both formats.
        assert!(
            figure::svg_string(&fig, Path::new("ring.svg"))
                .unwrap()
                .contains("half crash")
        );
        assert!(figure::png_bytes(&fig, Path::new("ring.png")).is_ok());
        let plain = ring(&[row(10.0), row(40.0)], &[], "t".into()).unwrap();
        let Body::Xy(xy) = &plain.body else {
            panic!("an x/y plot")
        };
        assert!(xy.bands.is_empty());
    }
}

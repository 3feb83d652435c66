//! The plots of a sweep folder: every metric against every numeric swept field (mean with
//! 95 % confidence interval bars, one series per combination of the other fields), and,
//! when `peers.count` is swept and `hops.mean` measured, mean hops against log2 N with a
//! least-squares line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::PlotError;
use super::figure::{Body, Figure, Legend, Line, Series, Xy};
use super::run::write_figures;
use super::stats::{self, Fit};
use super::style::{num, title};
use super::sweep_data::{self, Sweep};

/// The swept field that holds the overlay size N.
pub const PEERS_FIELD: &str = "peers.count";
/// The metric plotted against log2 N.
pub const HOPS_METRIC: &str = "hops.mean";
/// File stem of the mean hops vs log2 N plot.
pub const LOG2N_PLOT: &str = "hops_vs_log2n";

/// Reads the sweep folder `dir` and draws its plots into `<dir>/plots/` as PNG and SVG.
/// Returns the files written.
pub fn draw_sweep(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let (_, figs) = sweep_figures(dir)?;
    write_figures(dir, &figs)
}

/// The loaded sweep and its figures, without drawing them.
pub fn sweep_figures(dir: &Path) -> Result<(Sweep, Vec<Figure>), PlotError> {
    let s = sweep_data::load_sweep(dir)?;
    let figs = figures(&s);
    Ok((s, figs))
}

/// A file-name-safe stem.
fn stem(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// One series: the points of a sweep that share the values of every field but `x_field`.
struct Group {
    /// `field=value, …` of the other fields; empty when there are none.
    label: String,
    /// Point numbers, ascending by x then point.
    points: Vec<(f64, u64)>,
}

fn groups(s: &Sweep, x_field: usize) -> Vec<Group> {
    let mut out: Vec<(Vec<String>, Group)> = Vec::new();
    for (point, values) in s.points() {
        let Some(x) = values[x_field].as_number() else {
            continue;
        };
        let key: Vec<String> = s
            .fields
            .iter()
            .zip(values)
            .enumerate()
            .filter(|&(i, _)| i != x_field)
            .map(|(_, (f, v))| format!("{f}={v}"))
            .collect();
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.points.push((x, point)),
            None => out.push((
                key.clone(),
                Group {
                    label: key.join(", "),
                    points: vec![(x, point)],
                },
            )),
        }
    }
    for (_, g) in &mut out {
        g.points
            .sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    }
    out.into_iter().map(|(_, g)| g).collect()
}

/// (x, mean, 95 % CI) of a metric at one point.
type Mean = (f64, f64, Option<(f64, f64)>);

/// (x, mean, ci low, ci high) of `metric` over a group, x mapped by `fx`.
fn group_points(s: &Sweep, g: &Group, metric: &str, fx: fn(f64) -> f64) -> Vec<Mean> {
    g.points
        .iter()
        .filter_map(|&(x, p)| {
            let r = s.get(p, metric)?;
            let mean = r.mean?;
            let ci = r.ci95_low.zip(r.ci95_high);
            Some((fx(x), mean, ci))
        })
        .filter(|(x, _, _)| x.is_finite())
        .collect()
}

fn series(label: String, color: usize, pts: &[Mean], line: Line) -> Series {
    Series {
        label,
        color,
        points: pts.iter().map(|&(x, m, _)| (x, m)).collect(),
        line,
        markers: true,
        errors: pts
            .iter()
            .filter_map(|&(x, m, ci)| ci.map(|(lo, hi)| (x, lo, m, hi)))
            .collect(),
    }
}

/// The figures of a loaded sweep: the log2 N plot first (when it applies), then each
/// metric against each numeric field.
pub fn figures(s: &Sweep) -> Vec<Figure> {
    let mut figs = Vec::new();
    if let Some(f) = log2n_figure(s) {
        figs.push(f);
    }
    let mut names: BTreeSet<String> = figs.iter().map(|f| f.name.clone()).collect();
    for (fi, field) in s.fields.iter().enumerate() {
        if !s.is_numeric(fi) {
            continue;
        }
        let groups = groups(s, fi);
        let log_x = wide_positive(s.rows.iter().filter_map(|r| r.values[fi].as_number()));
        let x_label = if log_x {
            format!("{field} (log scale)")
        } else {
            field.clone()
        };
        for metric in &s.metrics {
            let series: Vec<Series> = groups
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    let pts = group_points(s, g, metric, |x| x);
                    let label = if g.label.is_empty() {
                        "mean, 95 % CI".to_string()
                    } else {
                        g.label.clone()
                    };
                    series(label, i, &pts, Line::nth(i))
                })
                .filter(|se| !se.points.is_empty())
                .collect();
            if series.is_empty() {
                continue;
            }
            let mut name = format!("{}_vs_{}", stem(metric), stem(field));
            while !names.insert(name.clone()) {
                name.push('_');
            }
            figs.push(Figure {
                name,
                title: title(
                    &s.meta.scenario,
                    &s.meta.seeds_label(),
                    &format!("{metric} vs {field}"),
                ),
                x_label: x_label.clone(),
                y_label: format!("{metric} (mean, 95 % CI)"),
                body: Body::Xy(Xy {
                    series,
                    x_range: None,
                    y_range: None,
                    log_x,
                    log_y: false,
                    secondary: None,
                    bands: Vec::new(),
                    legend: Legend::LowerRight,
                }),
            });
        }
    }
    figs
}

/// Whether positive values span a factor of 16 or more (then a log x axis reads better).
fn wide_positive(values: impl Iterator<Item = f64>) -> bool {
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for v in values {
        if v <= 0.0 {
            return false;
        }
        lo = lo.min(v);
        hi = hi.max(v);
    }
    hi >= 16.0 * lo
}

/// `hops ≈ a·log2 N + b` with the fitted numbers.
pub fn fit_label(f: &Fit) -> String {
    let sign = if f.intercept < 0.0 { '−' } else { '+' };
    format!(
        "hops ≈ {}·log2 N {sign} {}",
        num(f.slope, 3),
        num(f.intercept.abs(), 3)
    )
}

fn log2n_figure(s: &Sweep) -> Option<Figure> {
    let fi = s.fields.iter().position(|f| f == PEERS_FIELD)?;
    if !s.is_numeric(fi) || !s.metrics.iter().any(|m| m == HOPS_METRIC) {
        return None;
    }
    let groups = groups(s, fi);
    let several = groups.len() > 1;
    let mut series_out = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let pts = group_points(
            s,
            g,
            HOPS_METRIC,
            |n| if n > 0.0 { n.log2() } else { f64::NAN },
        );
        if pts.is_empty() {
            continue;
        }
        let suffix = if several {
            format!(" ({})", g.label)
        } else {
            String::new()
        };
        series_out.push(series(
            format!("mean hops, 95 % CI{suffix}"),
            i,
            &pts,
            Line::None,
        ));
        let xy: Vec<(f64, f64)> = pts.iter().map(|&(x, m, _)| (x, m)).collect();
        if let Some(fit) = stats::least_squares(&xy) {
            let lo = xy.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
            let hi = xy.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
            let pad = (hi - lo) * 0.04;
            let (a, b) = (lo - pad, hi + pad);
            series_out.push(Series {
                label: format!("{}{suffix}", fit_label(&fit)),
                color: i,
                points: vec![(a, fit.at(a)), (b, fit.at(b))],
                line: Line::Dashed,
                markers: false,
                errors: Vec::new(),
            });
        }
    }
    if series_out.is_empty() {
        return None;
    }
    Some(Figure {
        name: LOG2N_PLOT.into(),
        title: title(
            &s.meta.scenario,
            &s.meta.seeds_label(),
            "mean lookup hops vs log2 N",
        ),
        x_label: format!("log2 N (N = {PEERS_FIELD}, peers)"),
        y_label: "mean hops per lookup (overlay transmissions)".into(),
        body: Body::Xy(Xy {
            series: series_out,
            x_range: None,
            y_range: None,
            log_x: false,
            log_y: false,
            secondary: None,
            bands: Vec::new(),
            legend: Legend::LowerRight,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::sweep_data::FieldValue;

    #[test]
    fn fit_labels_show_the_numbers() {
        let f = Fit {
            slope: 0.5012,
            intercept: 0.6,
        };
        assert_eq!(fit_label(&f), "hops ≈ 0.501·log2 N + 0.6");
        let f = Fit {
            slope: 1.0,
            intercept: -2.25,
        };
        assert_eq!(fit_label(&f), "hops ≈ 1·log2 N − 2.25");
    }

    #[test]
    fn stems_are_file_safe() {
        assert_eq!(stem("peers.count"), "peers_count");
        assert_eq!(stem("../x y"), "___x_y");
    }

    fn sweep(rows: &[(u64, f64, &str, &str, f64)]) -> Sweep {
        let rows: Vec<_> = rows
            .iter()
            .map(|&(point, n, lat, metric, mean)| sweep_data::AggregateRow {
                point,
                values: vec![FieldValue::Number(n), FieldValue::parse(lat)],
                metric: metric.into(),
                runs: 3,
                mean: Some(mean),
                ci95_low: Some(mean - 0.1),
                ci95_high: Some(mean + 0.1),
            })
            .collect();
        Sweep {
            meta: sweep_data::SweepMeta {
                scenario: "grid".into(),
                seed: "1".into(),
                fields: vec!["peers.count".into(), "network.latency".into()],
                seeds_per_point: Some(3),
            },
            fields: vec!["peers.count".into(), "network.latency".into()],
            metrics: vec!["hops.mean".into()],
            rows,
        }
    }

    #[test]
    fn a_grid_gives_one_series_and_one_fit_per_combination_of_the_other_fields() {
        let s = sweep(&[
            (0, 64.0, "constant", "hops.mean", 3.0),
            (1, 256.0, "constant", "hops.mean", 4.0),
            (2, 64.0, "uniform", "hops.mean", 3.5),
            (3, 256.0, "uniform", "hops.mean", 4.5),
        ]);
        let figs = figures(&s);
        let names: Vec<&str> = figs.iter().map(|f| f.name.as_str()).collect();
        // network.latency is not numeric: no plot against it.
        assert_eq!(names, ["hops_vs_log2n", "hops_mean_vs_peers_count"]);
        let Body::Xy(xy) = &figs[0].body else {
            panic!()
        };
        let labels: Vec<&str> = xy.series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "mean hops, 95 % CI (network.latency=constant)",
                "hops ≈ 0.5·log2 N + 0 (network.latency=constant)",
                "mean hops, 95 % CI (network.latency=uniform)",
                "hops ≈ 0.5·log2 N + 0.5 (network.latency=uniform)",
            ]
        );
        assert_eq!(xy.series[0].points, vec![(6.0, 3.0), (8.0, 4.0)]);
        assert_eq!(xy.series[0].errors[0], (6.0, 2.9, 3.0, 3.1));
    }
}

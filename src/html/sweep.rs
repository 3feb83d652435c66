//! The sweep report: the sweep's fields, a table of points × metrics (mean and 95 %
//! confidence interval) and every sweep plot.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::summary::fmt_float;
use super::{UNDEFINED, esc, plots_section, write_page};
use crate::plot::PlotError;
use crate::plot::figure::Figure;
use crate::plot::sweep::sweep_figures;
use crate::plot::sweep_data::Sweep;

/// Writes `<dir>/report.html` for the sweep folder `dir`: the sweep's fields, a table of
/// points × metrics (mean and 95 % confidence interval) and every sweep plot inline.
pub fn write_sweep_report(dir: &Path) -> Result<PathBuf, PlotError> {
    let (sweep, figs) = sweep_figures(dir)?;
    write_sweep_report_for(dir, &sweep, &figs)
}

/// [`write_sweep_report`] with the figures already built.
pub fn write_sweep_report_for(
    dir: &Path,
    s: &Sweep,
    figs: &[Figure],
) -> Result<PathBuf, PlotError> {
    let heading = format!("{} (sweep, {})", s.meta.scenario, s.meta.seeds_label());
    let points = s.points();
    let mut body = String::new();
    let per_point = s
        .meta
        .seeds_per_point
        .map(|n| format!(", {n} seeds per point"))
        .unwrap_or_default();
    let _ = writeln!(
        body,
        "<header><h1>{}</h1><p>reload-sim sweep report: {} points over {}{}; \
         each cell is the mean over the point's runs with its 95&nbsp;% confidence interval \
         below.</p></header>",
        esc(&heading),
        points.len(),
        if s.fields.is_empty() {
            "no fields".to_string()
        } else {
            s.fields
                .iter()
                .map(|f| format!("<code>{}</code>", esc(f)))
                .collect::<Vec<_>>()
                .join(", ")
        },
        per_point
    );
    body += "<nav><a href=\"#results\">Results</a>";
    if !figs.is_empty() {
        body += " · <a href=\"#plots\">Plots</a>";
    }
    body += "</nav>\n<section id=\"results\"><h2>Results</h2>\n<div class=\"wide\"><table class=\"grid\">\n<thead><tr><th>point</th>";
    for f in &s.fields {
        let _ = write!(body, "<th>{}</th>", esc(f));
    }
    for m in &s.metrics {
        let _ = write!(body, "<th>{}</th>", esc(m));
    }
    body += "</tr></thead>\n<tbody>\n";
    for (p, values) in &points {
        let _ = write!(body, "<tr><td>{p}</td>");
        for v in values.iter() {
            let _ = write!(body, "<td>{}</td>", esc(&v.to_string()));
        }
        for m in &s.metrics {
            match s.get(*p, m) {
                Some(r) => {
                    let mean = r.mean.map_or(UNDEFINED.to_string(), fmt_float);
                    let ci = match (r.ci95_low, r.ci95_high) {
                        (Some(lo), Some(hi)) => {
                            format!("<small>{} – {}</small>", fmt_float(lo), fmt_float(hi))
                        }
                        _ => String::new(),
                    };
                    let _ = write!(
                        body,
                        "<td class=\"num\" title=\"{} runs\">{mean}{ci}</td>",
                        r.runs
                    );
                }
                // No row: no run of the point defines the figure.
                None => {
                    let _ = write!(
                        body,
                        "<td class=\"num\" title=\"no run defines it\">{UNDEFINED}</td>"
                    );
                }
            }
        }
        body += "</tr>\n";
    }
    body += "</tbody></table></div></section>\n";
    body += &plots_section(dir, figs)?;
    write_page(dir, &format!("reload-sim: {heading}"), &body)
}

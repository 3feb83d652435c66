//! `report.html`: one self-contained page per run or sweep folder (inline CSS, plots as
//! inline SVG, no external resources). The bytes depend only on the folder's files.
//!
//! This module sits above [`crate::plot`] and [`crate::report`]: it reads a result folder
//! through `plot`, draws its figures and writes the page; neither of them depends on it
//! (`tests/it/layering.rs` enforces it).
//!
//! - [`summary`]: the run report's `summary.json` tables and number formats.
//! - [`sweep`]: the sweep report's points × metrics table.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::plot::data::{self, RunMeta};
use crate::plot::figure::{self, Figure};
use crate::plot::run::{self as run_plots, run_figures};
use crate::plot::{FolderKind, PLOTS_DIR, PlotError, folder_kind, sweep as sweep_plots};

pub mod summary;
pub mod sweep;

pub use summary::fmt_float;
pub use sweep::{write_sweep_report, write_sweep_report_for};

/// The report's file name.
pub const REPORT_HTML: &str = "report.html";

/// The text of a figure that has no value: `null` in `summary.json` (a rate without any
/// case, such as `calls.success_rate` when no call finished), or a sweep point without a
/// row (or without a mean) for a metric in `aggregate.csv`.
pub const UNDEFINED: &str = "undefined";

/// Draws the plots of `dir` (a run or a sweep folder) and writes its `report.html`.
/// Returns every file written, the report last.
pub fn draw_folder(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let (mut files, report) = match folder_kind(dir)? {
        FolderKind::Sweep => {
            let (sweep, figs) = sweep_plots::sweep_figures(dir)?;
            let files = run_plots::write_figures(dir, &figs)?;
            (files, write_sweep_report_for(dir, &sweep, &figs)?)
        }
        FolderKind::Run => {
            let (meta, figs) = run_figures(dir)?;
            let files = run_plots::write_figures(dir, &figs)?;
            (files, write_run_report_for(dir, &meta, &figs)?)
        }
    };
    files.push(report);
    Ok(files)
}

/// Writes `<dir>/report.html` for the run folder `dir`: scenario and seed, every
/// `summary.json` figure in tables by section, and every run plot inline.
pub fn write_run_report(dir: &Path) -> Result<PathBuf, PlotError> {
    let (meta, figs) = run_figures(dir)?;
    write_run_report_for(dir, &meta, &figs)
}

/// [`write_run_report`] with the figures already built.
pub fn write_run_report_for(
    dir: &Path,
    meta: &RunMeta,
    figs: &[Figure],
) -> Result<PathBuf, PlotError> {
    let summary = data::read_json(&dir.join(data::SUMMARY_JSON))?;
    let mut body = String::new();
    let heading = format!("{} (seed {})", meta.scenario, meta.seed);
    let _ = writeln!(
        body,
        "<header><h1>{}</h1><p>reload-sim run report: <code>summary.json</code> in tables by \
         section, then the plots (also in <code>{PLOTS_DIR}/</code> as PNG and SVG).</p></header>",
        esc(&heading)
    );
    body += &nav(&summary, figs);
    body += "<section id=\"summary\"><h2>Summary</h2>\n<div class=\"tables\">\n";
    body += &summary::summary_tables(&summary);
    body += "</div></section>\n";
    body += &plots_section(dir, figs)?;
    write_page(dir, &format!("reload-sim: {heading}"), &body)
}

fn nav(summary: &Value, figs: &[Figure]) -> String {
    let mut s = String::from("<nav><a href=\"#summary\">Summary</a>");
    if let Some(o) = summary.as_object() {
        for (k, v) in o {
            if v.is_object() {
                let _ = write!(s, " · <a href=\"#s-{0}\">{0}</a>", esc(k));
            }
        }
    }
    if !figs.is_empty() {
        s += " · <a href=\"#plots\">Plots</a>";
    }
    s += "</nav>\n";
    s
}

pub(crate) fn plots_section(dir: &Path, figs: &[Figure]) -> Result<String, PlotError> {
    if figs.is_empty() {
        return Ok(
            "<section id=\"plots\"><h2>Plots</h2><p>No data to plot.</p></section>\n".into(),
        );
    }
    let mut s = String::from("<section id=\"plots\"><h2>Plots</h2>\n");
    for f in figs {
        let path = dir.join(PLOTS_DIR).join(format!("{}.svg", f.name));
        let svg = figure::svg_string(f, &path)?;
        let _ = write!(
            s,
            "<figure id=\"plot-{0}\">\n{1}<figcaption><code>{0}</code>: {2} \
             (<a href=\"{PLOTS_DIR}/{0}.png\">PNG</a>, <a href=\"{PLOTS_DIR}/{0}.svg\">SVG</a>)</figcaption>\n</figure>\n",
            esc(&f.name),
            svg,
            esc(&f.title)
        );
    }
    s += "</section>\n";
    Ok(s)
}

const CSS: &str = "\
:root{--ink:#222;--muted:#666;--line:#ddd;--head:#f3f5f8;--accent:#4e79a7}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1120px;padding:24px 28px 48px;color:var(--ink);
font:15px/1.45 \"DejaVu Sans\",system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;background:#fff}
header h1{margin:0 0 4px;font-size:26px}
header p{margin:0 0 12px;color:var(--muted)}
nav{padding:8px 0 14px;border-bottom:1px solid var(--line);margin-bottom:18px;font-size:14px}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
h2{font-size:20px;margin:26px 0 12px;border-left:4px solid var(--accent);padding-left:8px}
code{font:13px/1.3 \"DejaVu Sans Mono\",ui-monospace,Menlo,Consolas,monospace}
.tables{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
table{border-collapse:collapse;font-size:13.5px}
.tables table{flex:1 1 320px;max-width:100%}
caption{text-align:left;font-weight:bold;padding:4px 0}
th,td{border:1px solid var(--line);padding:3px 8px;vertical-align:top}
th{background:var(--head);text-align:left;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td{overflow-wrap:anywhere}
td.key{font-family:\"DejaVu Sans Mono\",ui-monospace,monospace;font-size:12.5px;white-space:nowrap}
tbody tr:nth-child(even){background:#fafbfc}
td small{display:block;color:var(--muted);font-size:11.5px}
p.note{color:var(--muted);font-size:12.5px;margin:2px 0 0}
.wide{overflow-x:auto;max-width:100%}
figure{margin:0 0 22px;padding:10px;border:1px solid var(--line);border-radius:6px}
figure svg{display:block;width:100%;height:auto}
figcaption{font-size:13px;color:var(--muted);padding-top:6px}
footer{margin-top:30px;color:var(--muted);font-size:12px}
";

pub(crate) fn write_page(dir: &Path, title: &str, body: &str) -> Result<PathBuf, PlotError> {
    let mut page = String::with_capacity(body.len() + 4096);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n{body}\
         <footer>Written by reload-sim {} (<code>reload-sim plot</code> redraws it).</footer>\n\
         </body>\n</html>\n",
        esc(title),
        env!("CARGO_PKG_VERSION")
    );
    let path = dir.join(REPORT_HTML);
    std::fs::write(&path, page).map_err(|e| PlotError::io(&path, e))?;
    Ok(path)
}

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

//! `report.html`: one self-contained page per run or sweep folder (inline CSS, plots as
//! inline SVG, no external resources). The bytes depend only on the folder's files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::plot::data::{self, RunMeta};
use crate::plot::figure::{self, Figure};
use crate::plot::run::run_figures;
use crate::plot::style::num;
use crate::plot::sweep::sweep_figures;
use crate::plot::sweep_data::Sweep;
use crate::plot::{PLOTS_DIR, PlotError};

/// The report's file name.
pub const REPORT_HTML: &str = "report.html";

/// A flat map with more entries than this shows only its non-zero ones.
const LONG_MAP: usize = 12;

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
    body += &summary_tables(&summary);
    body += "</div></section>\n";
    body += &plots_section(dir, figs)?;
    write_page(dir, &format!("reload-sim: {heading}"), &body)
}

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
    let heading = format!("{} (sweep, seed {})", s.meta.scenario, s.meta.seed);
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
                    let mean = r.mean.map_or("–".to_string(), fmt_float);
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
                None => body += "<td class=\"num\">–</td>",
            }
        }
        body += "</tr>\n";
    }
    body += "</tbody></table></div></section>\n";
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

fn plots_section(dir: &Path, figs: &[Figure]) -> Result<String, PlotError> {
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

fn write_page(dir: &Path, title: &str, body: &str) -> Result<PathBuf, PlotError> {
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

/// A float with about six significant digits, no trailing zeros.
pub fn fmt_float(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-4..1e15).contains(&a) {
        return format!("{x:e}");
    }
    let magnitude = if a == 0.0 {
        0
    } else {
        a.log10().floor() as i32
    };
    let decimals = (5 - magnitude).clamp(0, 6) as usize;
    num(x, decimals)
}

/// An integer with thin-space thousands separators.
fn fmt_int(digits: &str) -> String {
    let (sign, digits) = digits.strip_prefix('-').map_or(("", digits), |d| ("-", d));
    let mut out = String::from(sign);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// A JSON value as table text (escaped).
fn cell(v: &Value) -> (String, bool) {
    match v {
        Value::Null => ("–".into(), false),
        Value::Bool(b) => (b.to_string(), false),
        Value::Number(n) => {
            let s = if n.is_f64() {
                n.as_f64().map_or(n.to_string(), fmt_float)
            } else {
                fmt_int(&n.to_string())
            };
            (s, true)
        }
        Value::String(s) => (esc(s), false),
        Value::Array(a) if a.iter().all(Value::is_string) => (
            esc(&a
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ")),
            false,
        ),
        other => (esc(&other.to_string()), false),
    }
}

fn is_zero(v: &Value) -> bool {
    v.as_f64() == Some(0.0)
}

/// Scalars of `v` flattened to `prefix.key` rows; nested tables (objects of objects) are
/// collected separately.
fn flatten<'a>(
    prefix: &str,
    v: &'a Map<String, Value>,
    rows: &mut Vec<(String, &'a Value)>,
    tables: &mut Vec<(String, &'a Map<String, Value>)>,
) {
    for (k, x) in v {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match x {
            Value::Object(o) if is_table(o) => tables.push((key, o)),
            Value::Object(o) => flatten(&key, o, rows, tables),
            other => rows.push((key, other)),
        }
    }
}

/// An object whose values are all objects of scalars, at least two of them: drawn as a
/// table with a row per key (e.g. `traffic.by_method`).
fn is_table(o: &Map<String, Value>) -> bool {
    o.len() >= 2
        && o.values().all(|v| {
            v.as_object().is_some_and(|i| {
                !i.is_empty() && i.values().all(|x| !x.is_object() && !x.is_array())
            })
        })
}

fn summary_tables(summary: &Value) -> String {
    let Some(top) = summary.as_object() else {
        let (text, _) = cell(summary);
        return format!("<p>{text}</p>\n");
    };
    let mut out = String::new();
    let run: Vec<(String, &Value)> = top
        .iter()
        .filter(|(_, v)| !v.is_object())
        .map(|(k, v)| (k.clone(), v))
        .collect();
    if !run.is_empty() {
        out += &key_value_table("run", "run", &run);
    }
    for (section, v) in top {
        let Some(o) = v.as_object() else { continue };
        let mut rows = Vec::new();
        let mut tables = Vec::new();
        if is_table(o) {
            tables.push((section.clone(), o));
        } else {
            flatten(section, o, &mut rows, &mut tables);
        }
        let mut html = String::new();
        if !rows.is_empty() {
            html += &key_value_table(section, section, &rows);
        }
        for (name, t) in tables {
            html += &map_table(&name, t);
        }
        let _ = writeln!(
            out,
            "<div id=\"s-{}\" class=\"section\">{html}</div>",
            esc(section)
        );
    }
    out
}

fn key_value_table(id: &str, caption: &str, rows: &[(String, &Value)]) -> String {
    let head = format!(
        "<table data-section=\"{}\"><caption>{}</caption>\n<tbody>\n",
        esc(id),
        esc(caption)
    );
    if rows.len() > 3 && rows.iter().all(|(_, v)| is_zero(v)) {
        return format!(
            "<p class=\"note\"><b>{}</b>: all {} entries are 0.</p>\n",
            esc(caption),
            rows.len()
        );
    }
    // Long lists of counters (engine, node_stats) show only the counters that moved.
    let counters = rows.len() > LONG_MAP && rows.iter().all(|(_, v)| v.is_u64() || v.is_i64());
    let shown: Vec<&(String, &Value)> = rows
        .iter()
        .filter(|(_, v)| !(counters && is_zero(v)))
        .collect();
    let mut s = head;
    for (k, v) in &shown {
        let (text, numeric) = cell(v);
        let class = if numeric { " class=\"num\"" } else { "" };
        let _ = writeln!(
            s,
            "<tr><td class=\"key\">{}</td><td{class}>{text}</td></tr>",
            esc(k)
        );
    }
    s += "</tbody></table>\n";
    let hidden = rows.len() - shown.len();
    if hidden > 0 {
        let _ = writeln!(
            s,
            "<p class=\"note\">{}: {hidden} counters equal to 0 not shown.</p>",
            esc(caption)
        );
    }
    s
}

fn map_table(name: &str, t: &Map<String, Value>) -> String {
    let mut cols: Vec<&str> = Vec::new();
    for v in t.values() {
        for k in v.as_object().into_iter().flat_map(|o| o.keys()) {
            if !cols.contains(&k.as_str()) {
                cols.push(k);
            }
        }
    }
    let mut s = format!(
        "<table><caption>{}</caption>\n<thead><tr><th></th>",
        esc(name)
    );
    for c in &cols {
        let _ = write!(s, "<th>{}</th>", esc(c));
    }
    s += "</tr></thead>\n<tbody>\n";
    let mut hidden = 0;
    for (k, v) in t {
        let Some(o) = v.as_object() else { continue };
        if o.values().all(is_zero) {
            hidden += 1;
            continue;
        }
        let _ = write!(s, "<tr><td class=\"key\">{}</td>", esc(k));
        for c in &cols {
            let (text, numeric) = o.get(*c).map_or(("".into(), false), cell);
            let class = if numeric { " class=\"num\"" } else { "" };
            let _ = write!(s, "<td{class}>{text}</td>");
        }
        s += "</tr>\n";
    }
    s += "</tbody></table>\n";
    if hidden > 0 {
        let _ = writeln!(
            s,
            "<p class=\"note\">{}: {hidden} rows with only zeros not shown.</p>",
            esc(name)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_and_integers_read_well() {
        assert_eq!(fmt_float(0.996_812_345), "0.996812");
        assert_eq!(fmt_float(418.412_345), "418.412");
        assert_eq!(fmt_float(1.0), "1");
        assert_eq!(fmt_float(0.0), "0");
        assert_eq!(fmt_float(1e-7), "1e-7");
        assert_eq!(fmt_int("45841217"), "45\u{2009}841\u{2009}217");
        assert_eq!(fmt_int("-1000"), "-1\u{2009}000");
        assert_eq!(fmt_int("999"), "999");
    }

    #[test]
    fn summary_sections_flatten_and_maps_become_tables() {
        let v = json!({
            "scenario": "q<x>",
            "seed": 1,
            "lookups": {"issued": 10, "success_rate": 0.5},
            "calls": {"total_ms": {"p50": 1.5}},
            "traffic": {"messages": 3, "by_method": {
                "ping_req": {"messages": 2, "bytes": 100},
                "join_req": {"messages": 0, "bytes": 0}
            }},
        });
        let html = summary_tables(&v);
        assert!(html.contains("q&lt;x&gt;"), "{html}");
        assert!(html.contains(">lookups.success_rate<"), "{html}");
        assert!(html.contains(">calls.total_ms.p50<"), "{html}");
        assert!(
            html.contains("<caption>traffic.by_method</caption>"),
            "{html}"
        );
        assert!(html.contains(">ping_req<"), "{html}");
        assert!(!html.contains(">join_req<"), "{html}");
        assert!(html.contains("1 rows with only zeros not shown"), "{html}");
    }

    #[test]
    fn long_flat_maps_hide_zero_entries() {
        let counters: Map<String, Value> =
            (0..20).map(|i| (format!("c{i}"), json!(i % 2))).collect();
        let v = json!({ "engine": counters });
        let html = summary_tables(&v);
        assert!(
            html.contains(">engine.c1<") && !html.contains(">engine.c0<"),
            "{html}"
        );
        assert!(html.contains("10 counters equal to 0 not shown"), "{html}");
        let zeros: Map<String, Value> = (0..5).map(|i| (format!("c{i}"), json!(0))).collect();
        let html = summary_tables(&json!({ "calls": zeros }));
        assert!(
            html.contains("all 5 entries are 0") && !html.contains("calls.c0"),
            "{html}"
        );
        // Sections with rates show their zeros.
        let mut mixed: Map<String, Value> = (0..20).map(|i| (format!("c{i}"), json!(0))).collect();
        mixed.insert("rate".into(), json!(0.5));
        let html = summary_tables(&json!({ "calls": mixed }));
        assert!(html.contains(">calls.c0<"), "{html}");
    }
}

//! The run report's tables: `summary.json` flattened per top-level section, maps such as
//! `traffic.by_method` as their own tables, and the number formats the report uses.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::{UNDEFINED, esc};
use crate::plot::style::num;

/// A flat map with more entries than this shows only its non-zero ones.
const LONG_MAP: usize = 12;

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
        Value::Null => (UNDEFINED.into(), false),
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

pub(super) fn summary_tables(summary: &Value) -> String {
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

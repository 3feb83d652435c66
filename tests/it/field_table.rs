//! docs/scenarios.md's field table stays true: every `default` cell equals the effective
//! default scenario (`scenario::to_toml` of the defaults), every field has a row, and every
//! row names a real field.

use reload_sim::scenario::{Scenario, to_toml};
use toml::{Table, Value};

/// One row of the table: `(section, key, default cell as written)`, one per field named.
/// An optional field without a default (cell `none`) has the default cell `none`.
type Row = (String, String, String);

/// The default cell of an optional field that is unset by default.
const UNSET: &str = "none";

/// The backticked pieces of a table cell, in order.
fn code_spans(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// Parses the field table: a row may open a section (`[peers] count`) and name several
/// fields with as many defaults (`` `successors`, `predecessors` | `3`, `3` ``).
fn field_table(doc: &str) -> Vec<Row> {
    let mut lines = doc
        .lines()
        .skip_while(|l| !l.starts_with("| field | default |"))
        .skip(2);
    let mut rows = Vec::new();
    let mut section = String::new();
    for line in lines.by_ref().take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let names = code_spans(cells[0]);
        let defaults = match cells[1] {
            UNSET => vec![UNSET; names.len()],
            cell => code_spans(cell),
        };
        assert_eq!(names.len(), defaults.len(), "one default per field: {line}");
        for (i, (name, default)) in names.iter().zip(defaults).enumerate() {
            let key = match name.strip_prefix('[').and_then(|n| n.split_once("] ")) {
                Some((s, key)) if i == 0 => {
                    section = s.to_string();
                    key
                }
                _ => name,
            };
            assert!(!section.is_empty(), "a row before any section: {line}");
            rows.push((section.clone(), key.to_string(), default.to_string()));
        }
    }
    rows
}

/// A default cell as a TOML value.
fn cell_value(cell: &str) -> Value {
    toml::from_str::<Table>(&format!("v = {cell}"))
        .unwrap_or_else(|e| panic!("default `{cell}` is not a TOML value: {e}"))
        .remove("v")
        .unwrap()
}

/// Equal as scenario values: `60` in the docs is the float 60.0 of the schema.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Integer(i), Value::Float(f)) | (Value::Float(f), Value::Integer(i)) => {
            *i as f64 == *f
        }
        _ => a == b,
    }
}

/// Whether the schema knows `[section] key`: a wrong value is refused as a wrong value,
/// an unknown key as unknown.
fn is_field(section: &str, key: &str) -> bool {
    let text = format!("[{section}]\n{key} = -1\n");
    match toml::from_str::<Scenario>(&text) {
        Ok(_) => true,
        Err(e) => !e.to_string().contains("unknown field"),
    }
}

#[test]
fn scenarios_md_field_table_matches_the_effective_defaults() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenarios.md"),
    )
    .unwrap();
    let rows = field_table(&doc);
    assert!(rows.len() > 40, "table not found: {} rows", rows.len());
    let defaults: Table = toml::from_str(&to_toml(&Scenario::default())).unwrap();
    let mut wrong = Vec::new();
    for (section, key, cell) in &rows {
        match defaults
            .get(section)
            .and_then(Value::as_table)
            .and_then(|t| t.get(key))
        {
            None if cell == UNSET => {
                if !is_field(section, key) {
                    wrong.push(format!("row `{section}.{key}` names no field"));
                }
            }
            None => wrong.push(format!("row `{section}.{key}` names no field")),
            Some(v) if cell == UNSET => wrong.push(format!(
                "`{section}.{key}`: the table says unset, the default is {v}"
            )),
            Some(v) if !same(v, &cell_value(cell)) => wrong.push(format!(
                "`{section}.{key}`: the table says {cell}, the default is {v}"
            )),
            Some(_) => {}
        }
    }
    for (section, fields) in &defaults {
        for key in fields.as_table().unwrap().keys() {
            let n = rows
                .iter()
                .filter(|(s, k, _)| s == section && k == key)
                .count();
            if n != 1 {
                wrong.push(format!("`{section}.{key}` has {n} rows"));
            }
        }
    }
    assert!(wrong.is_empty(), "docs/scenarios.md:\n{}", wrong.join("\n"));
}

#[test]
fn the_table_parser_reads_sections_and_paired_fields() {
    let doc = "x\n| field | default | limits | meaning |\n|---|---|---|---|\n\
               | `[a] one` | `\"s\"` | – | m |\n| `two`, `three` | `3`, `0.5` | – | m |\n\
               | `[b] one` | `true` | – | m |\n| `opt` | none | – | m |\n\nafter\n";
    let rows = field_table(doc);
    let row = |s: &str, k: &str, d: &str| (s.to_string(), k.to_string(), d.to_string());
    assert_eq!(
        rows,
        [
            row("a", "one", "\"s\""),
            row("a", "two", "3"),
            row("a", "three", "0.5"),
            row("b", "one", "true"),
            row("b", "opt", "none"),
        ]
    );
    assert!(same(&cell_value("60"), &Value::Float(60.0)));
    assert!(!same(&cell_value("8"), &Value::Integer(64)));
    assert!(is_field("churn", "session"));
    assert!(!is_field("churn", "sesion"));
}

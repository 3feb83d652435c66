//! docs/conformance.md stays true to itself: its Summary (counts by level and status, and
//! the lists of rows not yet done, without a test, or covered only indirectly) is what its
//! rows say. `RELOAD_SIM_BLESS=1 cargo test --test it conformance_doc` rewrites the
//! Summary from the rows.

use std::fmt::Write as _;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/conformance.md");
const STATUSES: [&str; 4] = ["implemented", "choice", "n/a", "not yet"];
const LEVELS: [&str; 10] = [
    "MUST",
    "MUST NOT",
    "SHALL",
    "REQUIRED",
    "SHOULD",
    "SHOULD NOT",
    "RECOMMENDED",
    "MUST / MUST NOT",
    "MUST NOT / MUST",
    "(none)",
];

/// One requirement row: id, level, status, and the location/test column.
struct Row<'a> {
    id: &'a str,
    level: &'a str,
    status: &'a str,
    evidence: &'a str,
}

fn rows(doc: &str) -> Vec<Row<'_>> {
    doc.lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            // "| id | section | level | requirement | status | evidence |"
            if cells.len() < 8 || !cells[1].starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            Some(Row {
                id: cells[1],
                level: cells[3],
                status: cells[5],
                evidence: cells[6],
            })
        })
        .collect()
}

fn summary(rows: &[Row<'_>]) -> String {
    let rfc7904 = rows.iter().filter(|r| r.id.starts_with("7904-")).count();
    let mut s = String::from("## Summary\n\n");
    let _ = writeln!(
        s,
        "{} rows: {} for RFC 6940 and {} for RFC 7904. One row (6.1.1-5) has no RFC 2119 keyword.\n",
        rows.len(),
        rows.len() - rfc7904,
        rfc7904
    );
    s.push_str(
        "| level | implemented | choice | n/a | not yet | total |\n|---|---|---|---|---|---|\n",
    );
    let count = |level: Option<&str>, status: Option<&str>| {
        rows.iter()
            .filter(|r| level.is_none_or(|l| r.level == l))
            .filter(|r| status.is_none_or(|st| r.status == st))
            .count()
    };
    let mut levels: Vec<&str> = LEVELS.to_vec();
    for r in rows {
        if !levels.contains(&r.level) {
            levels.push(r.level);
        }
    }
    for level in levels {
        let _ = write!(s, "| {level} |");
        for st in STATUSES {
            let _ = write!(s, " {} |", count(Some(level), Some(st)));
        }
        let _ = writeln!(s, " {} |", count(Some(level), None));
    }
    s.push_str("| **total** |");
    for st in STATUSES {
        let _ = write!(s, " **{}** |", count(None, Some(st)));
    }
    let _ = writeln!(s, " **{}** |", rows.len());
    let list = |s: &mut String, title: &str, pick: &dyn Fn(&Row<'_>) -> bool| {
        let ids: Vec<&str> = rows.iter().filter(|r| pick(r)).map(|r| r.id).collect();
        if ids.is_empty() {
            let _ = writeln!(s, "\n{title} (0): none.");
        } else {
            let _ = writeln!(s, "\n{title} ({}): {}.", ids.len(), ids.join(", "));
        }
    };
    list(&mut s, "`not yet`", &|r| r.status == "not yet");
    list(
        &mut s,
        "`implemented` with \"no test\" for all or part of the row",
        &|r| r.status == "implemented" && r.evidence.contains("no test"),
    );
    list(
        &mut s,
        "`implemented` rows covered only indirectly, by a multi-node scenario in which the behaviour is one step",
        &|r| r.status == "implemented" && r.evidence.contains("(indirect)"),
    );
    s
}

#[test]
fn the_summary_matches_the_rows() {
    let doc = std::fs::read_to_string(PATH).unwrap();
    let at = doc.find("## Summary").expect("a Summary section");
    let rows = rows(&doc[..at]);
    assert!(rows.len() > 300, "{} rows parsed", rows.len());
    for r in &rows {
        assert!(
            STATUSES.contains(&r.status),
            "row {}: status {:?}",
            r.id,
            r.status
        );
    }
    let want = summary(&rows);
    let have = &doc[at..];
    if have != want {
        if std::env::var_os("RELOAD_SIM_BLESS").is_some() {
            std::fs::write(PATH, format!("{}{}", &doc[..at], want)).unwrap();
            return;
        }
        panic!(
            "docs/conformance.md's Summary is out of date; rerun with RELOAD_SIM_BLESS=1. Expected:\n{want}"
        );
    }
}

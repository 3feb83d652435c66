//! Churn replayed from a trace file (`[churn] model = "trace"`): a tidy CSV with the
//! header `node,time_s,event`, one row per change, `event` one of `join`, `leave`,
//! `crash`.
//!
//! `node` is a peer slot, `0..peers.count`. A node whose first row is `join` is absent
//! until then; every other peer arrives as `[peers] arrival` says. Rows of one node must
//! alternate: a `join` only while it is away, a `leave` or `crash` only while it is in.
//! Rows are applied in time order (rows of equal time in file order); a node that joins
//! again is a new node life with a new Node-ID, as a churned peer's return is. Rows past
//! the run's end are never reached.

use std::fmt;

use crate::sim::rng::secs_to_ns;
use crate::time::Time;

/// What a trace row does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The node starts (joins the overlay).
    Join,
    /// The node leaves gracefully.
    Leave,
    /// The node stops at once.
    Crash,
}

/// One trace row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// When, ns since the start of the run.
    pub at: Time,
    /// The peer slot.
    pub node: u32,
    /// What happens.
    pub change: Change,
}

/// A parsed, checked trace: rows in the order they apply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChurnTrace {
    rows: Vec<Row>,
    /// Slots absent at the start (their first row is a join), ascending.
    late: Vec<u32>,
}

/// A trace that cannot be used, with its 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    /// The line of the file, when one is at fault.
    pub line: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

fn at_line(line: u64, message: impl Into<String>) -> TraceError {
    TraceError {
        line: Some(line),
        message: message.into(),
    }
}

/// What a trace may name.
#[derive(Clone, Copy, Debug)]
pub struct Slots {
    /// Peer slots (`peers.count`); nodes are `0..peers`.
    pub peers: u32,
    /// Slots the trace may not move (bootstrap peers exempt from churn): `0..fixed`.
    pub fixed: u32,
}

impl ChurnTrace {
    /// Parses and checks `text`.
    pub fn parse(text: &str, slots: Slots) -> Result<ChurnTrace, TraceError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        let header = reader.headers().map_err(|e| TraceError {
            line: Some(1),
            message: format!("unreadable header: {e}"),
        })?;
        let col = |name: &str| header.iter().position(|h| h == name);
        let (Some(node_col), Some(time_col), Some(event_col)) =
            (col("node"), col("time_s"), col("event"))
        else {
            return Err(at_line(
                1,
                format!(
                    "the header must name the columns node, time_s and event (found: {})",
                    header.iter().collect::<Vec<_>>().join(",")
                ),
            ));
        };
        // (row, line), checked per row, then ordered by time.
        let mut rows: Vec<(Row, u64)> = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| TraceError {
                line: e.position().map(|p| p.line()),
                message: e.to_string(),
            })?;
            let line = record.position().map_or(0, |p| p.line());
            let field = |k: usize| record.get(k).unwrap_or("");
            let node: u32 = field(node_col).parse().map_err(|_| {
                at_line(
                    line,
                    format!("node `{}` is not a slot number", field(node_col)),
                )
            })?;
            if node >= slots.peers {
                return Err(at_line(
                    line,
                    format!(
                        "node {node} is not a peer of the scenario (peers.count = {}, slots 0..{})",
                        slots.peers,
                        slots.peers.saturating_sub(1)
                    ),
                ));
            }
            if node < slots.fixed {
                return Err(at_line(
                    line,
                    format!(
                        "node {node} is a bootstrap peer, exempt from churn (set churn.exempt_bootstrap = false to let the trace move it)"
                    ),
                ));
            }
            let time: f64 = field(time_col).parse().map_err(|_| {
                at_line(
                    line,
                    format!("time_s `{}` is not a number", field(time_col)),
                )
            })?;
            if !time.is_finite() || time < 0.0 {
                return Err(at_line(
                    line,
                    format!("time_s {time} must be a finite number ≥ 0"),
                ));
            }
            let change = match field(event_col) {
                "join" => Change::Join,
                "leave" => Change::Leave,
                "crash" => Change::Crash,
                other => {
                    return Err(at_line(
                        line,
                        format!("event `{other}` is not join, leave or crash"),
                    ));
                }
            };
            rows.push((
                Row {
                    at: Time(secs_to_ns(time)),
                    node,
                    change,
                },
                line,
            ));
        }
        rows.sort_by_key(|(r, line)| (r.at, *line));
        // Each node's state: None until its first row, then in (true) or away (false).
        let mut state: std::collections::BTreeMap<u32, (bool, u64)> = Default::default();
        let mut late = Vec::new();
        for (r, line) in &rows {
            let joins = r.change == Change::Join;
            match state.get(&r.node) {
                None => {
                    if joins {
                        if r.node == 0 {
                            return Err(at_line(
                                *line,
                                "node 0 starts the overlay at time 0 and cannot first join later",
                            ));
                        }
                        late.push(r.node);
                    }
                }
                Some(&(inside, since)) if inside == joins => {
                    let what = if inside {
                        "is in the overlay"
                    } else {
                        "is away"
                    };
                    let verb = match r.change {
                        Change::Join => "joins",
                        Change::Leave => "leaves",
                        Change::Crash => "crashes",
                    };
                    return Err(at_line(
                        *line,
                        format!(
                            "node {} {verb} at {} s but {what} since line {since}",
                            r.node,
                            r.at.0 as f64 / 1e9
                        ),
                    ));
                }
                Some(_) => {}
            }
            state.insert(r.node, (joins, *line));
        }
        late.sort_unstable();
        Ok(ChurnTrace {
            rows: rows.into_iter().map(|(r, _)| r).collect(),
            late,
        })
    }

    /// The rows, in the order they apply.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// True if slot `node` is absent until its first row (a join).
    pub fn starts_away(&self, node: u32) -> bool {
        self.late.binary_search(&node).is_ok()
    }

    /// How many slots start away.
    pub fn late_count(&self) -> usize {
        self.late.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLOTS: Slots = Slots {
        peers: 10,
        fixed: 1,
    };

    #[test]
    fn rows_are_ordered_by_time_then_line() {
        let t = ChurnTrace::parse(
            "node,time_s,event\n3,20,leave\n4,5,join\n# a comment\n5,5,crash\n4,30.5,crash\n",
            SLOTS,
        )
        .unwrap();
        let order: Vec<(u32, Change)> = t.rows().iter().map(|r| (r.node, r.change)).collect();
        assert_eq!(
            order,
            [
                (4, Change::Join),
                (5, Change::Crash),
                (3, Change::Leave),
                (4, Change::Crash)
            ]
        );
        assert_eq!(t.rows()[3].at, Time(30_500_000_000));
        assert!(t.starts_away(4));
        assert!(!t.starts_away(3));
        assert_eq!(t.late_count(), 1);
    }

    #[test]
    fn columns_may_come_in_any_order() {
        let t = ChurnTrace::parse("event,node,time_s\njoin,2,1\n", SLOTS).unwrap();
        assert_eq!(t.rows()[0].node, 2);
    }

    fn error(text: &str) -> String {
        ChurnTrace::parse(text, SLOTS).unwrap_err().to_string()
    }

    #[test]
    fn bad_rows_name_their_line() {
        assert!(error("node,time,event\n").starts_with("line 1: the header must name"));
        assert_eq!(
            error("node,time_s,event\n2,1,join\n12,3,crash\n"),
            "line 3: node 12 is not a peer of the scenario (peers.count = 10, slots 0..9)"
        );
        assert!(
            error("node,time_s,event\n0,3,crash\n")
                .starts_with("line 2: node 0 is a bootstrap peer")
        );
        assert_eq!(
            error("node,time_s,event\nx,3,crash\n"),
            "line 2: node `x` is not a slot number"
        );
        assert_eq!(
            error("node,time_s,event\n2,-1,crash\n"),
            "line 2: time_s -1 must be a finite number ≥ 0"
        );
        assert_eq!(
            error("node,time_s,event\n2,1,vanish\n"),
            "line 2: event `vanish` is not join, leave or crash"
        );
        assert_eq!(
            error("node,time_s,event\n2,1,join\n2,4,join\n"),
            "line 3: node 2 joins at 4 s but is in the overlay since line 2"
        );
        assert_eq!(
            error("node,time_s,event\n2,1,crash\n2,4,leave\n"),
            "line 3: node 2 leaves at 4 s but is away since line 2"
        );
        assert!(error("node,time_s,event\n2,1\n").starts_with("line 2:"));
    }

    #[test]
    fn node_zero_may_not_start_away() {
        let slots = Slots {
            peers: 10,
            fixed: 0,
        };
        let e = ChurnTrace::parse("node,time_s,event\n0,5,join\n", slots).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(ChurnTrace::parse("node,time_s,event\n0,5,crash\n0,9,join\n", slots).is_ok());
    }
}

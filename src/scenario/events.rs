//! `[[events]]`: the scenario's timeline of scheduled events.
//!
//! ```toml
//! [[events]]
//! at_s = 300
//! action = "crash"        # crash leave bounce join partition repair hold release loss latency
//! fraction = 0.5          # which peers: fraction, count, slots or region
//!
//! [[events]]
//! at_s = 400
//! action = "partition"
//! region = [0.0, 0.0, 0.5, 1.0]   # the left half of the coordinate square against the rest
//!
//! [[events]]
//! at_s = 700
//! action = "repair"
//! ```
//!
//! Every check names the field as `events[k].name` (k from 0, in file order).

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::limits::Violation;
use super::schema::{LatencyKind, Scenario};
use crate::sim::rng::secs_to_ns;
use crate::sim::timeline::{Action, Targets, TimedEvent};
use crate::time::{Duration, Time};

/// The verbs of `action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    /// The chosen peers stop at once (a mass failure) and do not return.
    Crash,
    /// The chosen peers leave gracefully and do not return.
    Leave,
    /// The chosen peers crash and restart after `down_s` with the same Node-ID.
    Bounce,
    /// A flash crowd: `count` new peers arrive over `window_s`.
    Join,
    /// Traffic between the chosen slots and the rest (or between `groups`) is dropped.
    Partition,
    /// Ends a partition.
    Repair,
    /// Traffic between the chosen slots and the rest (or between `groups`) is held.
    Hold,
    /// Ends a hold: held traffic is sent on.
    Release,
    /// Extra loss on the chosen slots' traffic for `duration_s`.
    Loss,
    /// Extra latency (`factor`, `extra_ms`) on the chosen slots' traffic for `duration_s`.
    Latency,
}

impl Verb {
    fn name(self) -> &'static str {
        match self {
            Verb::Crash => "crash",
            Verb::Leave => "leave",
            Verb::Bounce => "bounce",
            Verb::Join => "join",
            Verb::Partition => "partition",
            Verb::Repair => "repair",
            Verb::Hold => "hold",
            Verb::Release => "release",
            Verb::Loss => "loss",
            Verb::Latency => "latency",
        }
    }
}

/// One `[[events]]` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// When, s from the start of the run; within `0..=duration_s`.
    pub at_s: f64,
    /// What happens.
    pub action: Verb,
    /// A name for `events.csv` and the plots; the verb when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Which: this fraction (0..=1) of the eligible slots, drawn uniformly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<f64>,
    /// Which: this many eligible slots, drawn uniformly; for `join`, how many new peers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Which: slot numbers and half-open ranges, `"0..100, 250, 300..310"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots: Option<String>,
    /// Which: slots whose point of the coordinate square lies in `[x0, y0, x1, y1]`
    /// (latency model `coordinates`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<[f64; 4]>,
    /// `partition`, `hold`: several groups, each a slot list as in `slots`; the slots in
    /// none of them form one more group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// Bootstrap peers are never chosen by `fraction`, `count` or `region` (crash, leave,
    /// bounce). Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exempt_bootstrap: Option<bool>,
    /// `bounce`: time down before the restart, s. Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down_s: Option<f64>,
    /// `join`: the new peers arrive evenly over this span, s. Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_s: Option<f64>,
    /// `loss`: extra loss probability per datagram, 0..=1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<f64>,
    /// `latency`: multiplier of the one-way latency, > 0. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// `latency`: one-way latency added, ms. Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_ms: Option<f64>,
    /// `loss`, `latency`: how long the change lasts, s; to the end of the run when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
}

/// Parses a slot list: numbers and half-open ranges `a..b`, separated by commas.
pub fn parse_slots(text: &str) -> Result<Vec<Range<u32>>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim) {
        let num = |s: &str| {
            s.trim()
                .replace('_', "")
                .parse::<u32>()
                .map_err(|_| format!("`{s}` in `{text}` is not a slot number"))
        };
        let r = match part.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a >= b {
                    return Err(format!("`{part}` is empty (a range a..b needs a < b)"));
                }
                a..b
            }
            None => {
                let a = num(part)?;
                a..a + 1
            }
        };
        out.push(r);
    }
    Ok(out)
}

fn given(fields: &[(&'static str, bool)]) -> Vec<&'static str> {
    fields
        .iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| *n)
        .collect()
}

fn is_frac(v: f64) -> bool {
    (0.0..=1.0).contains(&v)
}

impl EventSpec {
    /// The selector fields given, by name.
    fn selectors(&self) -> Vec<&'static str> {
        given(&[
            ("fraction", self.fraction.is_some()),
            ("count", self.count.is_some()),
            ("slots", self.slots.is_some()),
            ("region", self.region.is_some()),
            ("groups", self.groups.is_some()),
        ])
    }

    /// The parameter fields given, by name.
    fn parameters(&self) -> Vec<&'static str> {
        given(&[
            ("down_s", self.down_s.is_some()),
            ("window_s", self.window_s.is_some()),
            ("loss", self.loss.is_some()),
            ("factor", self.factor.is_some()),
            ("extra_ms", self.extra_ms.is_some()),
            ("duration_s", self.duration_s.is_some()),
            ("exempt_bootstrap", self.exempt_bootstrap.is_some()),
        ])
    }

    fn targets(&self) -> Targets {
        if let Some(f) = self.fraction {
            Targets::Fraction(f)
        } else if let Some(c) = self.count {
            Targets::Count(c)
        } else if let Some(s) = &self.slots {
            Targets::Slots(parse_slots(s).unwrap_or_default())
        } else if let Some([x0, y0, x1, y1]) = self.region {
            Targets::Region {
                x: (x0, x1),
                y: (y0, y1),
            }
        } else {
            Targets::All
        }
    }

    /// The engine's form of this event.
    pub fn timed(&self) -> TimedEvent {
        let s = |v: Option<f64>| Duration(secs_to_ns(v.unwrap_or(0.0)));
        let at = Time(secs_to_ns(self.at_s));
        let action = match self.action {
            Verb::Crash => Action::Crash(self.targets()),
            Verb::Leave => Action::Leave(self.targets()),
            Verb::Bounce => Action::Bounce {
                targets: self.targets(),
                down: s(self.down_s),
            },
            Verb::Join => Action::Join {
                count: self.count.unwrap_or(0),
                window: s(self.window_s),
            },
            Verb::Partition | Verb::Hold => {
                let groups = match &self.groups {
                    Some(g) => g
                        .iter()
                        .map(|t| Targets::Slots(parse_slots(t).unwrap_or_default()))
                        .collect(),
                    None => vec![self.targets()],
                };
                if self.action == Verb::Hold {
                    Action::Hold { groups }
                } else {
                    Action::Partition { groups }
                }
            }
            Verb::Repair => Action::Repair,
            Verb::Release => Action::Release,
            Verb::Loss | Verb::Latency => Action::Degrade {
                targets: self.targets(),
                loss: self.loss.unwrap_or(0.0),
                factor: self.factor.unwrap_or(1.0),
                extra: Duration(secs_to_ns(self.extra_ms.unwrap_or(0.0) / 1e3)),
                until: self.duration_s.map(|d| at + Duration(secs_to_ns(d))),
            },
        };
        TimedEvent {
            at,
            action,
            exempt_bootstrap: self.exempt_bootstrap.unwrap_or(true),
            label: self
                .label
                .clone()
                .unwrap_or_else(|| self.action.name().to_string()),
        }
    }
}

impl Scenario {
    /// Peer slots kept for flash crowds: the `count`s of every `join` event.
    pub fn flash_slots(&self) -> u64 {
        self.events
            .iter()
            .filter(|e| e.action == Verb::Join)
            .map(|e| u64::from(e.count.unwrap_or(0)))
            .sum()
    }

    /// Positions of the events in time order (ties in file order).
    fn event_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.events.len()).collect();
        order.sort_by(|&a, &b| self.events[a].at_s.total_cmp(&self.events[b].at_s));
        order
    }

    /// The timeline in time order (ties in file order).
    pub fn timeline(&self) -> Vec<TimedEvent> {
        self.event_order()
            .into_iter()
            .map(|k| self.events[k].timed())
            .collect()
    }

    /// Checks every event, then the timeline as a whole (partitions do not overlap; a
    /// repair ends a partition, a release a hold).
    pub fn check_events(&self) -> Result<(), Violation> {
        let slots =
            u64::from(self.peers.count) + self.flash_slots() + u64::from(self.peers.clients);
        for (k, e) in self.events.iter().enumerate() {
            e.check(k, self, slots)?;
        }
        let mut open: Option<usize> = None;
        for k in self.event_order() {
            let e = &self.events[k];
            let field = format!("events[{k}].action");
            match (e.action, open) {
                (Verb::Partition | Verb::Hold, Some(o)) => {
                    let how = self.events[o].action.name();
                    return Err((
                        field,
                        format!(
                            "overlapping partitions: events[{o}] put a {how} in force at {} s \
                             that is still in force at {} s; end it first ({})",
                            self.events[o].at_s,
                            e.at_s,
                            if how == "hold" { "release" } else { "repair" }
                        ),
                    ));
                }
                (Verb::Partition | Verb::Hold, None) => open = Some(k),
                (Verb::Repair | Verb::Release, None) => {
                    return Err((
                        field,
                        format!(
                            "nothing to {} at {} s: no partition or hold is in force",
                            e.action.name(),
                            e.at_s
                        ),
                    ));
                }
                (Verb::Repair | Verb::Release, Some(o)) => {
                    let want = match self.events[o].action {
                        Verb::Hold => Verb::Release,
                        _ => Verb::Repair,
                    };
                    if e.action != want {
                        return Err((
                            field,
                            format!(
                                "events[{o}] put a {} in force: end it with `{}`",
                                self.events[o].action.name(),
                                want.name()
                            ),
                        ));
                    }
                    open = None;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl EventSpec {
    fn check(&self, k: usize, s: &Scenario, slots: u64) -> Result<(), Violation> {
        let f = |name: &str| format!("events[{k}].{name}");
        let verb = self.action.name();
        let fail = |name: &str, m: String| Err((f(name), m));
        if !self.at_s.is_finite() || self.at_s < 0.0 || self.at_s > s.scenario.duration_s {
            return fail(
                "at_s",
                format!(
                    "{} s is outside the run (0..={} s, scenario.duration_s)",
                    self.at_s, s.scenario.duration_s
                ),
            );
        }
        let selectors = self.selectors();
        let (allowed_sel, needs_sel): (&[&str], bool) = match self.action {
            Verb::Crash | Verb::Leave | Verb::Bounce => {
                (&["fraction", "count", "slots", "region"], true)
            }
            Verb::Join => (&["count"], true),
            Verb::Partition | Verb::Hold => {
                (&["fraction", "count", "slots", "region", "groups"], true)
            }
            Verb::Repair | Verb::Release => (&[], false),
            Verb::Loss | Verb::Latency => (&["fraction", "count", "slots", "region"], false),
        };
        for sel in &selectors {
            if !allowed_sel.contains(sel) {
                return fail(sel, format!("`{sel}` is not used by `{verb}`"));
            }
        }
        if selectors.len() > 1 {
            return fail(
                selectors[1],
                format!(
                    "give one of {}, not both `{}` and `{}`",
                    allowed_sel.join(", "),
                    selectors[0],
                    selectors[1]
                ),
            );
        }
        if needs_sel && selectors.is_empty() {
            return fail(
                "action",
                format!("`{verb}` needs one of: {}", allowed_sel.join(", ")),
            );
        }
        let allowed_par: &[&str] = match self.action {
            Verb::Crash | Verb::Leave => &["exempt_bootstrap"],
            Verb::Bounce => &["exempt_bootstrap", "down_s"],
            Verb::Join => &["window_s"],
            Verb::Partition | Verb::Hold | Verb::Repair | Verb::Release => &[],
            Verb::Loss => &["loss", "duration_s"],
            Verb::Latency => &["factor", "extra_ms", "duration_s"],
        };
        for p in self.parameters() {
            if !allowed_par.contains(&p) {
                return fail(p, format!("`{p}` is not used by `{verb}`"));
            }
        }
        if let Some(v) = self.fraction
            && !is_frac(v)
        {
            return fail("fraction", format!("{v} is not a fraction in 0..=1"));
        }
        if let Some(c) = self.count {
            if c == 0 {
                return fail("count", "must be ≥ 1".into());
            }
            if self.action != Verb::Join && u64::from(c) > slots {
                return fail("count", format!("{c} is more than the run's {slots} slots"));
            }
        }
        if let Some(text) = &self.slots {
            check_slot_list(text, slots).map_err(|m| (f("slots"), m))?;
        }
        if let Some(r) = self.region {
            let [x0, y0, x1, y1] = r;
            if !r.iter().all(|v| is_frac(*v)) || x0 > x1 || y0 > y1 {
                return fail(
                    "region",
                    format!(
                        "{r:?} is not [x0, y0, x1, y1] with 0 <= x0 <= x1 <= 1 and 0 <= y0 <= y1 <= 1"
                    ),
                );
            }
            let placed = match s.network.latency {
                LatencyKind::Coordinates => true,
                LatencyKind::Routers => s
                    .network
                    .topology
                    .as_ref()
                    .is_some_and(|t| t.places_routers()),
                _ => false,
            };
            if !placed {
                return fail(
                    "region",
                    "a region needs network.latency = \"coordinates\", or \"routers\" over a waxman topology (nodes have no place otherwise)".into(),
                );
            }
        }
        if let Some(groups) = &self.groups {
            if groups.is_empty() || groups.len() > 254 {
                return fail(
                    "groups",
                    format!("give 1 to 254 groups, not {}", groups.len()),
                );
            }
            let mut seen: Vec<(Range<u32>, usize)> = Vec::new();
            for (g, text) in groups.iter().enumerate() {
                for r in check_slot_list(text, slots)
                    .map_err(|m| (f("groups"), format!("group {g}: {m}")))?
                {
                    if let Some((o, h)) = seen
                        .iter()
                        .find(|(o, _)| o.start < r.end && r.start < o.end)
                    {
                        let slot = r.start.max(o.start);
                        return fail(
                            "groups",
                            format!(
                                "overlapping partitions: slot {slot} is in group {h} and group {g}"
                            ),
                        );
                    }
                    seen.push((r, g));
                }
            }
        }
        for (name, v) in [
            ("down_s", self.down_s),
            ("window_s", self.window_s),
            ("extra_ms", self.extra_ms),
        ] {
            if let Some(v) = v
                && (!v.is_finite() || v < 0.0)
            {
                return fail(name, format!("{v} must be a finite number ≥ 0"));
            }
        }
        if let Some(d) = self.duration_s
            && (!d.is_finite() || d <= 0.0)
        {
            return fail("duration_s", format!("{d} must be a finite number > 0"));
        }
        match self.action {
            Verb::Loss => match self.loss {
                None => {
                    return fail(
                        "action",
                        "`loss` needs `loss` (extra loss probability, 0..=1)".into(),
                    );
                }
                Some(p) if !is_frac(p) => {
                    return fail("loss", format!("{p} is not a probability in 0..=1"));
                }
                _ => {}
            },
            Verb::Latency => {
                if self.factor.is_none() && self.extra_ms.is_none() {
                    return fail(
                        "action",
                        "`latency` needs `factor`, `extra_ms` or both".into(),
                    );
                }
                if let Some(x) = self.factor
                    && (!x.is_finite() || x <= 0.0 || x > 1000.0)
                {
                    return fail("factor", format!("{x} must be in (0, 1000]"));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Parses a slot list and checks every slot exists.
fn check_slot_list(text: &str, slots: u64) -> Result<Vec<Range<u32>>, String> {
    let ranges = parse_slots(text)?;
    if let Some(r) = ranges.iter().find(|r| u64::from(r.end) > slots) {
        return Err(format!(
            "slot {} is beyond the run's slots 0..{slots} (peers, flash-crowd peers, clients)",
            r.end - 1
        ));
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_lists_parse_numbers_and_ranges() {
        assert_eq!(parse_slots("0..3, 7,10..12"), Ok(vec![0..3, 7..8, 10..12]));
        assert_eq!(parse_slots("1_000..2_000").unwrap()[0], 1000..2000);
        assert!(parse_slots("5..5").unwrap_err().contains("empty"));
        assert!(
            parse_slots("a..4")
                .unwrap_err()
                .contains("not a slot number")
        );
        assert!(parse_slots("").is_err());
    }
}

//! `[[events]]`: mass failures, flash crowds, bounces, partitions and holds, loss and
//! latency changes; their effect on a run, their determinism, and bad timelines refused
//! before the run with the file, line and field named.

use reload_sim::proto::id::NodeId;
use reload_sim::runner::simulate;
use reload_sim::scenario::parse;
use reload_sim::sim::{NodeIndex, Sim};
use reload_sim::time::{Duration, Time};

fn secs(s: u64) -> Time {
    Time::ZERO + Duration::from_secs(s)
}

/// 60 peers on the coordinates model, joined by 20 s, lookups from 30 s, 120 s long.
const BASE: &str = r#"
[scenario]
name = "events"
seed = 3
duration_s = 120
sample_interval_s = 5
[peers]
count = 60
arrival_window_s = 10
[overlay]
chord_update_interval_s = 10
chord_ping_interval_s = 10
[network]
latency = "coordinates"
latency_ms = 40
jitter_ms = 2
access_ms = 5
[workload]
lookup_rate_per_peer_per_s = 0.2
start_s = 30
"#;

fn with(events: &str) -> reload_sim::scenario::Scenario {
    parse(&format!("{BASE}\n{events}"), "events.toml", &[]).unwrap()
}

fn err(events: &str) -> String {
    parse(&format!("{BASE}\n{events}"), "events.toml", &[])
        .unwrap_err()
        .to_string()
}

/// The sample at `t` seconds.
fn at(out: &reload_sim::sim::RunOutput, t: u64) -> &reload_sim::sim::metrics::Sample {
    out.samples.iter().find(|s| s.time == secs(t)).unwrap()
}

#[test]
fn a_mass_failure_removes_the_fraction_at_once_and_they_stay_gone() {
    let s = with("[[events]]\nat_s = 40\naction = \"crash\"\nfraction = 0.25\n");
    let out = simulate(&s);
    // 59 eligible peers (the bootstrap peer is exempt): round(0.25 × 59) = 15.
    assert_eq!(out.timeline.len(), 1);
    assert_eq!(out.timeline[0].targets, 15);
    assert_eq!(out.timeline[0].action, "crash");
    assert_eq!(out.counters.crashes, 15);
    assert_eq!(at(&out, 35).live_peers, 60);
    assert_eq!(at(&out, 45).live_peers, 45);
    assert_eq!(out.last_sample().unwrap().live_peers, 45);
    assert_eq!(out.counters.arrivals, 60, "nobody returns");
    // The ring heals over the survivors, and the recovery says how fast.
    assert_eq!(out.last_sample().unwrap().ring_correct_fraction, Some(1.0));
    let r = &out.timeline[0].recovery;
    assert_eq!(r.ring_before, Some(1.0));
    assert!(r.ring_min.unwrap() < 0.9, "{r:?}");
    let (r99, r100) = (r.ring_099_s.unwrap(), r.ring_100_s.unwrap());
    assert!(0.0 < r99 && r99 <= r100 && r100 < 80.0, "{r:?}");
    assert_eq!(r.tracked_s, r100.max(r.one_ring_s.unwrap()));
    assert!(r.recovered && r.rings_after == 1);
    assert!(
        r.lookups > 0 && r.lookups >= r.lookups_failed + r.lookups_wrong,
        "{r:?}"
    );
    assert!(r.bytes > 0 && r.extra_bytes.is_some());
    assert_eq!(r.records_at_risk, None, "no [sip]: no records");
    // One seed, one history.
    assert_eq!(simulate(&s).trace_digest, out.trace_digest);
}

#[test]
fn a_flash_crowd_joins_new_peers_in_slots_kept_for_it() {
    let s = with("[[events]]\nat_s = 40\naction = \"join\"\ncount = 30\nwindow_s = 6\n");
    let out = simulate(&s);
    assert_eq!(out.peers, 90);
    assert_eq!(at(&out, 35).live_peers, 60);
    assert_eq!(out.counters.arrivals, 90);
    let end = out.last_sample().unwrap();
    assert_eq!((end.live_peers, end.joined_peers), (90, 90));
    assert_eq!(end.ring_correct_fraction, Some(1.0));
    assert_eq!(out.timeline[0].targets, 30);
}

#[test]
fn a_bounced_peer_restarts_with_its_node_id() {
    let s = with("[[events]]\nat_s = 40\naction = \"bounce\"\nslots = \"5..8\"\ndown_s = 2\n");
    let cfg = s.sim_config();
    let mut sim = Sim::new(cfg);
    sim.run_until(secs(39));
    let before: Vec<NodeId> = (5..8)
        .map(|i| sim.node(NodeIndex(i)).unwrap().node_id())
        .collect();
    sim.run_until(secs(41));
    assert!((5..8).all(|i| sim.node(NodeIndex(i)).is_none()));
    sim.run_until(secs(90));
    let after: Vec<NodeId> = (5..8)
        .map(|i| sim.node(NodeIndex(i)).unwrap().node_id())
        .collect();
    assert_eq!(before, after);
    let out = sim.run();
    assert_eq!(out.counters.crashes, 3);
    assert_eq!(out.counters.arrivals, 63);
    assert_eq!(out.last_sample().unwrap().joined_peers, 60);
}

#[test]
fn a_partition_drops_crossing_traffic_until_the_repair() {
    let s = with(
        "[[events]]\nat_s = 40\naction = \"partition\"\nregion = [0.0, 0.0, 0.5, 1.0]\n\
         [[events]]\nat_s = 70\naction = \"repair\"\n",
    );
    let out = simulate(&s);
    assert!(
        out.counters.datagrams_partitioned > 100,
        "{:?}",
        out.counters
    );
    let during = at(&out, 65).ring_correct_fraction.unwrap();
    assert!(during < 0.9, "{during}");
    assert_eq!(out.timeline.len(), 2);
    assert!(out.timeline[0].targets > 10 && out.timeline[0].targets < 50);
    assert_eq!(out.timeline[1].action, "repair");
    // Each half closed on itself: two rings, one again after the repair.
    let (p, r) = (&out.timeline[0].recovery, &out.timeline[1].recovery);
    assert_eq!((p.rings_before, p.rings_max), (1, 2), "{p:?}");
    assert_eq!(r.rings_before, 2, "{r:?}");
    assert!(r.one_ring_s.is_some() && r.recovered, "{r:?}");
    assert!(p.tracked_s >= 30.0, "tracked through the repair: {p:?}");
    assert!(p.lookups_failed + p.lookups_wrong > 0, "{p:?}");
    // The same run without the events never drops a datagram that way.
    let plain = simulate(&with(""));
    assert_eq!(plain.counters.datagrams_partitioned, 0);
    assert_ne!(plain.trace_digest, out.trace_digest);
}

#[test]
fn a_hold_keeps_crossing_traffic_and_the_release_sends_it_on() {
    let s = with(
        "[[events]]\nat_s = 40\naction = \"hold\"\nslots = \"0..30\"\n\
         [[events]]\nat_s = 43\naction = \"release\"\n",
    );
    let out = simulate(&s);
    let held = out.counters.datagrams_held;
    assert!(held > 10, "{:?}", out.counters);
    assert_eq!(out.counters.datagrams_partitioned, 0);
    assert_eq!(out.timeline[0].targets, 30);
    assert_eq!(
        out.timeline[1].targets, held,
        "the release sends on every held datagram"
    );
    assert_eq!(out.last_sample().unwrap().ring_correct_fraction, Some(1.0));
}

#[test]
fn loss_and_latency_change_for_a_time_and_a_no_op_change_draws_nothing() {
    let plain = simulate(&with(""));
    // Latency × 1 + 0 ms on everyone: not one draw more, the same history.
    let noop = simulate(&with(
        "[[events]]\nat_s = 40\naction = \"latency\"\nfactor = 1.0\nduration_s = 20\n",
    ));
    assert_eq!(noop.trace_digest, plain.trace_digest);
    let lossy = simulate(&with(
        "[[events]]\nat_s = 40\naction = \"loss\"\nloss = 0.5\nduration_s = 20\n",
    ));
    assert!(
        lossy.counters.datagrams_lost > plain.counters.datagrams_lost + 500,
        "{} vs {}",
        lossy.counters.datagrams_lost,
        plain.counters.datagrams_lost
    );
    let slow = simulate(&with(
        "[[events]]\nat_s = 40\naction = \"latency\"\nextra_ms = 300\nduration_s = 20\n",
    ));
    assert!(slow.lookups.figures().latency_ms.mean > plain.lookups.figures().latency_ms.mean);
}

#[test]
fn bad_timelines_are_refused_naming_the_line_and_field() {
    for (events, says) in [
        (
            "[[events]]\nat_s = 500\naction = \"crash\"\nfraction = 0.1\n",
            "events.toml:23:8: field `events[0].at_s`: 500 s is outside the run",
        ),
        (
            "[[events]]\nat_s = 50\naction = \"crash\"\nfraction = 1.5\n",
            "field `events[0].fraction`: 1.5 is not a fraction in 0..=1",
        ),
        (
            "[[events]]\nat_s = 50\naction = \"crash\"\n",
            "`crash` needs one of: fraction, count, slots, region",
        ),
        (
            "[[events]]\nat_s = 50\naction = \"crash\"\nfraction = 0.1\ncount = 3\n",
            "not both `fraction` and `count`",
        ),
        (
            "[[events]]\nat_s = 50\naction = \"crash\"\ncount = 3\nloss = 0.1\n",
            "field `events[0].loss`: `loss` is not used by `crash`",
        ),
        (
            "[[events]]\nat_s = 50\naction = \"partition\"\nfraction = 0.5\n\
             [[events]]\nat_s = 60\naction = \"partition\"\nfraction = 0.2\n",
            "field `events[1].action`: overlapping partitions: events[0]",
        ),
        (
            "[[events]]\nat_s = 50\naction = \"partition\"\ngroups = [\"0..20\", \"10..30\"]\n",
            "overlapping partitions: slot 10 is in group 0 and group 1",
        ),
        (
            "[[events]]\nat_s = 50\naction = \"repair\"\n",
            "nothing to repair at 50 s",
        ),
        (
            "[[events]]\nat_s = 50\naction = \"hold\"\nslots = \"0..5\"\n\
             [[events]]\nat_s = 60\naction = \"repair\"\n",
            "end it with `release`",
        ),
        (
            "[[events]]\nat_s = 50\naction = \"crash\"\nslots = \"0..70\"\n",
            "slot 69 is beyond the run's slots 0..60",
        ),
        (
            "[[events]]\nat_s = 50\naction = \"crash\"\nslots = \"ten\"\n",
            "`ten` in `ten` is not a slot number",
        ),
        (
            "[[events]]\nat_s = 50\naction = \"loss\"\nloss = 2\n",
            "2 is not a probability in 0..=1",
        ),
        (
            "[[events]]\nat_s = 50\naction = \"explode\"\ncount = 1\n",
            "unknown variant `explode`",
        ),
        (
            "[[events]]\nat_s = 50\naction = \"crash\"\nregion = [0.5, 0.0, 0.2, 1.0]\n",
            "is not [x0, y0, x1, y1]",
        ),
    ] {
        let e = err(events);
        assert!(e.contains(says), "{events}\n→ {e}");
        assert!(e.starts_with("events.toml:"), "{e}");
    }
    let no_places = parse(
        "[[events]]\nat_s = 5\naction = \"crash\"\nregion = [0.0, 0.0, 0.5, 0.5]\n",
        "x.toml",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        no_places.contains("needs network.latency = \"coordinates\""),
        "{no_places}"
    );
}

#[test]
fn an_event_field_can_be_set_and_swept_by_its_index() {
    let text = format!("{BASE}\n[[events]]\nat_s = 40\naction = \"crash\"\nfraction = 0.1\n");
    let s = parse(&text, "x.toml", &["events.0.fraction=0.5".to_string()]).unwrap();
    assert_eq!(s.events[0].fraction, Some(0.5));
    let e = parse(&text, "x.toml", &["events.1.fraction=0.5".to_string()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("no such field"), "{e}");
    let e = parse(&text, "x.toml", &["events.0.fraction=2".to_string()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a fraction"), "{e}");
}

#[test]
fn records_lost_in_a_mass_failure_are_those_whose_every_copy_failed() {
    // A prebuilt ring: every registration is stored once the ring stands, on exactly the
    // responsible peer and its two successors.
    let text = format!(
        "{BASE}\n[sip]\nenabled = true\nusers = 600\nregistered_fraction = 1.0\n\
         [[events]]\nat_s = 60\naction = \"crash\"\nfraction = 0.5\n"
    );
    let sets = ["peers.arrival=\"prebuilt\"", "peers.count=200"].map(String::from);
    let s = parse(&text, "events.toml", &sets).unwrap();
    let out = simulate(&s);
    let r = &out.timeline[0].recovery;
    let (at_risk, lost) = (r.records_at_risk.unwrap(), r.records_lost.unwrap());
    // About half the users' nodes survive, with their registrations; of those, about
    // p^3 = 1/8 lose all three copies (the count varies with the runs of three crashed
    // neighbours the draw makes).
    assert!((250..350).contains(&at_risk), "{r:?}");
    let f = lost as f64 / at_risk as f64;
    assert!((0.03..0.3).contains(&f), "{f} {r:?}");
}

#[test]
fn run_writes_events_csv_and_the_summary_its_recovery_entries() {
    use crate::common::{bin, scratch};
    let d = scratch("events-files");
    let file = d.join("x.toml");
    std::fs::write(
        &file,
        format!("{BASE}\n[[events]]\nat_s = 40\naction = \"crash\"\ncount = 5\nlabel = \"five\"\n"),
    )
    .unwrap();
    let out = d.join("out");
    let o = bin(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let csv = std::fs::read_to_string(out.join("events.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("index,at_s,action,label,targets,ring_before")
    );
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&row[..5], ["0", "40.000000000", "crash", "five", "5"]);
    assert!(lines.next().is_none());
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let rec = v["recovery"].as_array().unwrap();
    assert_eq!(rec.len(), 1);
    assert_eq!(rec[0]["label"], "five");
    assert_eq!(rec[0]["targets"], 5);
    assert!(rec[0]["ring_100_s"].as_f64().is_some());
    // A scenario without events: a header-only events.csv and no `recovery`.
    std::fs::write(&file, BASE).unwrap();
    let o = bin(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(out.join("events.csv"))
            .unwrap()
            .lines()
            .count(),
        1
    );
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert!(v.get("recovery").is_none());
}

#[test]
fn recovery_columns_are_figures_for_expect_and_sweeps() {
    use reload_sim::expect::{check_figures, figure};
    use reload_sim::scenario::expect::{Bound, Limit};
    let bound = Bound {
        min: None,
        max: Some(Limit::Number(1.0)),
    };
    let ok = [("recovery.0.ring_100_s".to_string(), bound.clone())].into();
    assert!(check_figures(&ok).is_ok());
    for bad in [
        "recovery.0.label",
        "recovery.x.ring_100_s",
        "recovery.0.nope",
    ] {
        let e = [(bad.to_string(), bound.clone())].into();
        assert!(check_figures(&e).is_err(), "{bad}");
    }
    let v = serde_json::json!({ "recovery": [{ "ring_100_s": 12.0 }, { "ring_100_s": null }] });
    assert_eq!(figure(&v, "recovery.0.ring_100_s"), Some(12.0));
    assert_eq!(figure(&v, "recovery.1.ring_100_s"), None);
    assert_eq!(figure(&v, "recovery.2.ring_100_s"), None);
}

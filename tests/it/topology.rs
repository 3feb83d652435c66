//! Router-level underlays and burst loss: graphs generated or read from files, latency as
//! shortest paths, Gilbert–Elliott loss per path, and bad settings or files refused before
//! the run naming the file, line and field.

use std::path::PathBuf;
use std::sync::Arc;

use rand::SeedableRng;
use reload_sim::runner::simulate;
use reload_sim::scenario::{load, parse, scenario_hash};
use reload_sim::sim::network::{LatencyModel, RouterGraph, Topology};
use reload_sim::sim::rng::SimRng;

/// 60 peers joined by 10 s, lookups from 30 s, 120 s long.
const BASE: &str = r#"
[scenario]
name = "routers"
seed = 4
duration_s = 120
sample_interval_s = 10
[peers]
count = 60
arrival_window_s = 10
[workload]
lookup_rate_per_peer_per_s = 0.2
start_s = 30
"#;

fn with(network: &str) -> reload_sim::scenario::Scenario {
    parse(&format!("{BASE}[network]\n{network}"), "routers.toml", &[]).unwrap()
}

fn err(network: &str) -> String {
    crate::common::parse_error(&format!("{BASE}[network]\n{network}"), "routers.toml")
}

#[test]
fn latency_is_the_shortest_path_plus_both_access_delays() {
    // a - b - c with a shortcut a - c slower than the two hops.
    let g = RouterGraph {
        names: vec!["a".into(), "b".into(), "c".into()],
        positions: None,
        links: vec![(0, 1, 4_000_000), (1, 2, 6_000_000), (0, 2, 15_000_000)],
        attach: vec![0, 1, 2],
    };
    let t = Arc::new(Topology::new(g).unwrap());
    let m = LatencyModel::routers(t.clone(), 0.0, 0.0, 40, &mut SimRng::seed_from_u64(1));
    let mut seen = std::collections::BTreeSet::new();
    for a in 0..40 {
        for b in 0..40 {
            seen.insert(m.base_ns(a, b));
        }
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [0, 4_000_000, 6_000_000, 10_000_000]
    );
    // Access delays add at both ends.
    let m = LatencyModel::routers(t, 0.0, 3.0, 40, &mut SimRng::seed_from_u64(1));
    assert!((0..40).all(|a| m.base_ns(a, a) < 6_000_000));
    assert!((0..40).any(|a| m.base_ns(a, a) > 0));
}

#[test]
fn generated_graphs_carry_a_run_and_follow_the_seed() {
    for topology in [
        "{ model = \"transit-stub\", transit_domains = 2, transit_routers = 3, stubs_per_transit = 2, stub_routers = 4 }",
        "{ model = \"waxman\", routers = 50 }",
    ] {
        let s = with(&format!("latency = \"routers\"\ntopology = {topology}\n"));
        let t = s.sim_config().topology.expect("a topology");
        assert!(t.links() >= t.routers() - 1);
        let a = simulate(&s);
        let f = &a.lookups.figures();
        assert_eq!(f.correct_rate, Some(1.0), "{topology}: {f:?}");
        assert!(f.success_rate.unwrap() > 0.99, "{topology}: {f:?}");
        assert_eq!(simulate(&s).trace_digest, a.trace_digest);
        let mut other = s.clone();
        other.scenario.seed += 1;
        let row = |t: &Topology| {
            (0..t.attach_routers())
                .map(|j| t.distance_ns(0, j))
                .collect::<Vec<_>>()
        };
        assert_ne!(row(&other.sim_config().topology.unwrap()), row(&t));
    }
    // Without a table, latency = "routers" is the transit-stub graph with its defaults.
    let t = with("latency = \"routers\"\n")
        .sim_config()
        .topology
        .unwrap();
    assert_eq!((t.routers(), t.attach_routers()), (800, 768));
}

#[test]
fn burst_loss_loses_what_its_mean_says_in_runs() {
    let ge = "gilbert_elliott = { p_good_bad = 0.02, p_bad_good = 0.25 }\n";
    let out = simulate(&with(ge));
    let c = &out.counters;
    let share = c.datagrams_lost as f64 / c.datagrams_sent as f64;
    // 0.02 / 0.27 of datagrams go out in the bad state and are lost.
    assert!((share - 0.074).abs() < 0.015, "{share}");
    // The overlay still answers every lookup that finishes, correctly.
    assert_eq!(out.lookups.figures().correct_rate, Some(1.0));
    // Independent loss leaves the run as it was: adding burst loss is a new model, not a
    // new draw order for the old ones.
    let plain = simulate(&with("loss = 0.01\n"));
    let both = simulate(&with(&format!("loss = 0.01\n{ge}")));
    assert_ne!(plain.trace_digest, both.trace_digest);
    assert_eq!(
        simulate(&with("loss = 0.01\n")).trace_digest,
        plain.trace_digest
    );
}

#[test]
fn bad_network_settings_are_refused_naming_the_field() {
    let e = err("latency = \"routers\"\ntopology = { model = \"waxman\", routers = 5000 }\n");
    assert!(
        e.contains("network.topology.routers") && e.contains("2048"),
        "{e}"
    );
    let e = err(
        "latency = \"routers\"\ntopology = { model = \"waxman\", routers = 30, ms_per_unit = 1e7 }\n",
    );
    assert!(
        e.contains("network.topology") && e.contains("4,294 ms"),
        "{e}"
    );
    let e = err("latency = \"routers\"\ntopology = { model = \"waxman\", beta = 0 }\n");
    assert!(e.contains("network.topology.beta"), "{e}");
    let e =
        err("latency = \"routers\"\ntopology = { model = \"transit-stub\", stub_routers = 0 }\n");
    assert!(e.contains("network.topology.stub_routers"), "{e}");
    let e = err("latency = \"routers\"\ntopology = { model = \"transit-stub\", routers = 5 }\n");
    assert!(
        e.contains("network.topology") && e.contains("routers"),
        "{e}"
    );
    let e = err("latency = \"routers\"\ntopology = { model = \"mesh\" }\n");
    assert!(e.contains("mesh"), "{e}");
    let e = err("gilbert_elliott = { p_good_bad = 0.1, p_bad_good = 0 }\n");
    assert!(e.contains("network.gilbert_elliott.p_bad_good"), "{e}");
    let e = err("gilbert_elliott = { p_good_bad = 1.5, p_bad_good = 0.5 }\n");
    assert!(e.contains("network.gilbert_elliott.p_good_bad"), "{e}");
    let e = err("gilbert_elliott = { p_bad_good = 0.5 }\n");
    assert!(e.contains("p_good_bad"), "{e}");
}

#[test]
fn a_region_needs_placed_routers() {
    let event = "[[events]]\nat_s = 50\naction = \"crash\"\nregion = [0, 0, 0.5, 0.5]\n";
    let text = |network: &str| format!("{BASE}[network]\n{network}{event}");
    let s = parse(
        &text("latency = \"routers\"\ntopology = { model = \"waxman\", routers = 40 }\n"),
        "r.toml",
        &[],
    )
    .unwrap();
    let out = simulate(&s);
    assert!(out.counters.crashes > 5, "{:?}", out.counters);
    let e = parse(&text("latency = \"routers\"\n"), "r.toml", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("waxman"), "{e}");
}

/// A scenario file and its router graph in a fresh folder.
fn files(name: &str, graph_name: &str, graph: &str) -> PathBuf {
    let dir = crate::common::scratch(&format!("topology-{name}"));
    std::fs::create_dir_all(dir.join("graphs")).unwrap();
    std::fs::write(dir.join("graphs").join(graph_name), graph).unwrap();
    let path = dir.join("s.toml");
    std::fs::write(
        &path,
        format!(
            "{BASE}[network]\nlatency = \"routers\"\naccess_ms = 1\ntopology = {{ model = \"file\", path = \"graphs/{graph_name}\" }}\n"
        ),
    )
    .unwrap();
    path
}

/// A ring of eight routers, 3 ms a link, with one chord.
fn ring_edges() -> String {
    let mut s = String::from("# eight routers\nsource target delay_ms\n");
    for i in 0..8 {
        s.push_str(&format!("r{i} r{} 3\n", (i + 1) % 8));
    }
    s.push_str("r0 r4\n");
    s
}

#[test]
fn a_graph_file_is_read_relative_to_the_scenario_and_hashed_by_content() {
    let path = files("edges", "ring.txt", &ring_edges());
    let s = load(&path, &[]).unwrap();
    let t = s.sim_config().topology.unwrap();
    assert_eq!((t.routers(), t.links()), (8, 9));
    // r0 to r4 over the chord takes the default hop delay, 5 ms.
    assert_eq!(t.distance_ns(0, 4), 5_000_000);
    assert_eq!(t.distance_ns(0, 3), 8_000_000);
    let out = simulate(&s);
    assert_eq!(out.lookups.figures().correct_rate, Some(1.0));
    let before = scenario_hash(&s);
    std::fs::write(
        path.parent().unwrap().join("graphs/ring.txt"),
        ring_edges().replace("r0 r4\n", "r0 r4 2\n"),
    )
    .unwrap();
    assert_ne!(scenario_hash(&load(&path, &[]).unwrap()), before);
}

#[test]
fn a_results_folder_carries_its_graph_and_reruns_alone() {
    let graphml = r#"<?xml version="1.0"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key attr.name="delay_ms" attr.type="double" for="edge" id="d0"/>
  <graph edgedefault="undirected">
    <node id="a"/><node id="b"/><node id="c"/>
    <edge source="a" target="b"><data key="d0">4</data></edge>
    <edge source="b" target="c"><data key="d0">6</data></edge>
  </graph>
</graphml>
"#;
    let path = files("folder", "g.graphml", graphml);
    let out = crate::common::scratch("topology-folder-out");
    let run = crate::common::run_summary;
    let (first, again) = (out.join("first"), out.join("again"));
    let a = run(&path, &first);
    assert_eq!(
        std::fs::read_to_string(first.join("topology.graphml")).unwrap(),
        graphml
    );
    let b = run(&first.join("scenario.toml"), &again);
    for k in ["scenario_hash", "trace_digest"] {
        assert_eq!(a[k], b[k], "{k}");
    }
}

#[test]
fn bad_graph_files_are_refused_naming_the_file_and_line() {
    let path = files("bad-line", "g.txt", "a b 1\nb c 1\nc d fast\n");
    let e = load(&path, &[]).unwrap_err();
    assert!(e.source.ends_with("g.txt"), "{e}");
    assert_eq!(e.position, Some((3, 1)), "{e}");
    assert_eq!(e.field.as_deref(), Some("network.topology.path"));
    let path = files("split", "g.txt", "a b 1\nb c 1\nx y 1\n");
    let e = load(&path, &[]).unwrap_err().to_string();
    assert!(e.contains("disconnected") && e.contains("`x`"), "{e}");
    let dir = files("missing", "g.txt", "a b 1\n");
    std::fs::remove_file(dir.parent().unwrap().join("graphs/g.txt")).unwrap();
    let e = load(&dir, &[]).unwrap_err();
    assert!(e.source.ends_with("s.toml"), "{e}");
    assert!(e.position.is_some(), "{e}");
    assert!(
        e.to_string().contains("cannot read the router graph"),
        "{e}"
    );
}

/// Text that looks like the files: names, numbers, separators, tags, attributes.
fn file_like() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let token = prop_oneof![
        Just("<graphml>".to_string()),
        Just("<graph>".to_string()),
        Just("</graph>".to_string()),
        Just("<node id=\"a\"/>".to_string()),
        Just("<node id=\"b\">".to_string()),
        Just("</node>".to_string()),
        Just("<edge source=\"a\" target=\"b\">".to_string()),
        Just("<data key=\"k\">".to_string()),
        Just("</data>".to_string()),
        Just("<key id=\"k\" attr.name=\"delay_ms\"/>".to_string()),
        Just("node,time_s,event\n".to_string()),
        Just("join".to_string()),
        Just("crash".to_string()),
        Just(",".to_string()),
        Just(" ".to_string()),
        Just("\n".to_string()),
        Just("#".to_string()),
        "[a-c0-9.-]{1,6}",
        any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(token, 0..40).prop_map(|t| t.concat())
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config {
        failure_persistence: None,
        ..proptest::test_runner::Config::with_cases(512)
    })]

    /// The readers of the files a scenario names give a value or an error naming a line of
    /// the input, never a panic (the `scenario_files` fuzz target checks the same).
    #[test]
    fn graph_and_trace_readers_never_panic(text in file_like()) {
        use reload_sim::sim::churn::ChurnTrace;
        use reload_sim::sim::churn::trace::Slots;
        use reload_sim::sim::network::topology::load;
        let lines = text.lines().count() as u64 + 1;
        if let Err(e) = ChurnTrace::parse(&text, Slots { peers: 50, fixed: 1 }) {
            proptest::prop_assert!(e.line.is_none_or(|l| l <= lines));
        }
        match load::parse(&text, 5.0) {
            Ok(g) => {
                let _ = Topology::new(g);
            }
            Err(e) => proptest::prop_assert!(e.line.is_none_or(|l| l <= lines), "{:?}", e),
        }
    }
}

#[test]
fn an_inline_table_sets_a_whole_table() {
    let set = |s: &str| {
        reload_sim::scenario::parse(BASE, "routers.toml", &[s.to_string()])
            .map(|s| s.network)
            .map_err(|e| e.to_string())
    };
    let n = set("network.gilbert_elliott={ p_good_bad = 0.01, p_bad_good = 0.25 }").unwrap();
    let g = n.gilbert_elliott.unwrap();
    assert_eq!((g.p_good_bad, g.p_bad_good, g.loss_bad), (0.01, 0.25, 1.0));
    // A table can replace one the file has, and is checked like one written there.
    let e = set("network.gilbert_elliott={ p_good_bad = 2, p_bad_good = 0.25 }").unwrap_err();
    assert!(e.contains("network.gilbert_elliott.p_good_bad"), "{e}");
    let e = set("network.nonsense={ a = 1 }").unwrap_err();
    assert!(e.contains("nonsense"), "{e}");
    // A plain value still needs a field that exists.
    let e = set("network.gilbert_elliott.p_good_bad=0.1").unwrap_err();
    assert!(e.contains("no such field"), "{e}");
}

//! Prebuilt rings (`[peers] arrival = "prebuilt"`): the same invariants as a ring the
//! protocol built, and the same lookup hop distribution.

use std::path::Path;

use reload_sim::proto::chord::FingerTable;
use reload_sim::proto::link::LinkState;
use reload_sim::sim::engine::{NodeIndex, RunOutput, Sim};
use reload_sim::time::{Duration, Time};

const PEERS: u32 = 2_000;

/// 2,000 peers of quickstart with arrival `arrival`, looking up keys from 60 s to 90 s
/// (about 3,000 lookups): the ring at 60 s and the run's output.
fn ring(arrival: &str) -> RunOutput {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sets = [
        format!("peers.count={PEERS}"),
        format!("peers.arrival={arrival}"),
        "workload.start_s=60".to_string(),
        "workload.lookup_rate_per_peer_per_s=0.05".to_string(),
        "scenario.duration_s=90".to_string(),
    ];
    let scn = reload_sim::scenario::load(&root.join("scenarios/quickstart.toml"), &sets)
        .expect("scenario");
    let mut sim = Sim::new(scn.sim_config());
    if arrival == "prebuilt" {
        sim.run_until(Time::ZERO);
        assert_eq!(check_invariants(&sim, "prebuilt at 0 s"), 0);
    }
    sim.run_until(Time::ZERO + Duration::from_secs(60));
    let one_sided = check_invariants(&sim, arrival);
    if arrival == "prebuilt" {
        assert_eq!(one_sided, 0, "prebuilt: every link known at both ends");
    } else {
        // Known defect of protocol-built rings: after Attaches that cross between the
        // bootstrap peer and a peer that just joined, a few links stay known at the
        // joiner's end only (8 to 10 of about 62,000 here, all to the bootstrap peer).
        assert!(
            one_sided <= 16,
            "protocol-built: {one_sided} one-sided links"
        );
    }
    sim.run()
}

/// Checks ring correct 1.000, every up link naming its peer, every finger in its
/// interval; returns the up links not known at the other end.
fn check_invariants(sim: &Sim, arrival: &str) -> usize {
    let ring = sim
        .oracle()
        .ring_correct_fraction(|s| {
            sim.node(NodeIndex(s))
                .and_then(|n| n.successors().first().copied())
        })
        .expect("a ring");
    assert_eq!(ring, 1.0, "{arrival}: ring correct");
    assert_eq!(sim.oracle().len(), PEERS as usize, "{arrival}: all joined");
    let mut links = 0;
    let mut one_sided = 0;
    for i in 0..PEERS {
        let node = sim.node(NodeIndex(i)).expect("alive");
        for (addr, peer, state, _, _) in node.connections() {
            if state != LinkState::Up {
                continue;
            }
            links += 1;
            let other = NodeIndex::from_addr(addr)
                .and_then(|j| sim.node(j))
                .expect("a link to a live peer");
            assert_eq!(
                peer,
                Some(other.node_id()),
                "{arrival}: link names its peer"
            );
            let known = other
                .connections()
                .iter()
                .any(|c| c.0 == node.local_addr() && c.1 == Some(node.node_id()));
            one_sided += usize::from(!known);
        }
        for (slot, f) in node.finger_entries() {
            assert!(
                FingerTable::in_range(node.node_id(), slot, f),
                "{arrival}: slot {i}'s finger {slot} out of its interval"
            );
        }
        assert!(
            !node.fingers().is_empty(),
            "{arrival}: slot {i} has fingers"
        );
    }
    assert!(links > PEERS as usize * 10, "{arrival}: {links} links");
    one_sided
}

fn hops(out: &RunOutput) -> Vec<f64> {
    out.lookups
        .records()
        .iter()
        .filter_map(|r| r.hops)
        .map(f64::from)
        .collect()
}

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let v = x.iter().map(|h| (h - m) * (h - m)).sum::<f64>() / (n - 1.0);
    (m, v)
}

#[test]
fn a_prebuilt_ring_holds_the_invariants_and_routes_like_a_protocol_built_one() {
    let built = ring("staggered");
    let pre = ring("prebuilt");
    let (a, b) = (hops(&built), hops(&pre));
    assert!(
        a.len() > 2_500 && b.len() > 2_500,
        "{} and {} lookups",
        a.len(),
        b.len()
    );
    let ((ma, va), (mb, vb)) = (mean_var(&a), mean_var(&b));
    // The difference of the means lies within its 95 % confidence interval around 0.
    let half = 1.96 * (va / a.len() as f64 + vb / b.len() as f64).sqrt();
    assert!(
        (ma - mb).abs() <= half,
        "mean hops: protocol-built {ma:.3}, prebuilt {mb:.3}, 95 % half-width {half:.3}"
    );
    // And hop by hop: the share of lookups taking h hops differs by less than 3 points.
    for h in 0..=12 {
        let share =
            |x: &[f64]| x.iter().filter(|v| **v == f64::from(h)).count() as f64 / x.len() as f64;
        let (sa, sb) = (share(&a), share(&b));
        assert!((sa - sb).abs() < 0.03, "{h} hops: {sa:.3} vs {sb:.3}");
    }
    let fa = built.lookups.figures();
    let fb = pre.lookups.figures();
    assert_eq!(fa.issued, fb.issued, "the same workload");
}

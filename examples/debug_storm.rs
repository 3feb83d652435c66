use reload_sim::proto::event::NodeState;
use reload_sim::sim::engine::{NodeIndex, Sim};
use reload_sim::time::Time;

fn main() {
    let path = std::path::Path::new("scenarios/join-storm.toml");
    let scn = reload_sim::scenario::load(path, &[]).unwrap();
    let cfg = scn.sim_config();
    let mut sim = Sim::new(cfg);
    sim.run_until(Time(100_000_000_000));
    let mut phases = std::collections::BTreeMap::new();
    for i in 0..5000u32 {
        if let Some(n) = sim.node(NodeIndex(i)) {
            if n.state() != NodeState::Joined {
                *phases.entry(format!("{:?}", n.join_phase())).or_insert(0) += 1;
                if phases.values().sum::<i32>() < 4 {
                    println!(
                        "{i}: id={} {:?} {:?} links={} pending={} {:?}",
                        n.node_id(),
                        n.state(),
                        n.join_phase(),
                        n.connection_count(),
                        n.pending_requests(),
                        n.stats()
                    );
                    println!("   {:?}", n.connections());
                    // who owns id+1 per the oracle? find joined node with smallest id >= id+1
                    let k = n.node_id().wrapping_add(1);
                    let mut best: Option<(u128, u32)> = None;
                    for j in 0..5000u32 {
                        if let Some(m) = sim.node(NodeIndex(j)) {
                            if m.state() == NodeState::Joined {
                                let d = k.distance_to(m.node_id());
                                if best.is_none_or(|b| d < b.0) {
                                    best = Some((d, j));
                                }
                            }
                        }
                    }
                    let (_, j) = best.unwrap();
                    let m = sim.node(NodeIndex(j)).unwrap();
                    println!(
                        "   owner {j} id={} links={} preds={:?} stats={:?}",
                        m.node_id(),
                        m.connection_count(),
                        m.predecessors(),
                        m.stats()
                    );
                }
            }
        }
    }
    println!("{phases:?}");
    let n0 = sim.node(NodeIndex(0)).unwrap();
    println!("node0 links={} {:?}", n0.connection_count(), n0.stats());
}

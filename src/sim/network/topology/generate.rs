//! Generated router graphs: Waxman's random graph and GT-ITM's transit-stub hierarchy.
//! Both draw from the run's topology stream only, in a fixed order.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::RouterGraph;
use crate::sim::rng::{SimRng, secs_to_ns};

fn ms_ns(ms: f64) -> u64 {
    secs_to_ns(ms / 1e3)
}

/// Waxman (1988): `routers` routers at uniform points of the unit square; each pair is
/// linked with probability `beta · exp(−d / (alpha · √2))`, d their distance, with a delay
/// of `ms_per_unit · d`. A component left apart is linked to the rest by its closest pair
/// of routers (components in order of their lowest router), so the graph is connected.
/// Nodes attach to every router.
pub fn waxman(
    routers: u32,
    alpha: f64,
    beta: f64,
    ms_per_unit: f64,
    rng: &mut SimRng,
) -> RouterGraph {
    let n = routers as usize;
    let pos: Vec<(f64, f64)> = (0..n).map(|_| (rng.random(), rng.random())).collect();
    let dist =
        |a: usize, b: usize| ((pos[a].0 - pos[b].0).powi(2) + (pos[a].1 - pos[b].1).powi(2)).sqrt();
    let delay = |a: usize, b: usize| ms_ns(ms_per_unit * dist(a, b));
    let scale = alpha * std::f64::consts::SQRT_2;
    let mut links = Vec::new();
    for a in 0..n {
        for b in a + 1..n {
            let p = (beta * (-dist(a, b) / scale).exp()).clamp(0.0, 1.0);
            if rng.random_bool(p) {
                links.push((a as u32, b as u32, delay(a, b)));
            }
        }
    }
    // Union-find over the links, then join every other component to router 0's.
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for &(a, b, _) in &links {
        let (ra, rb) = (root(&mut parent, a as usize), root(&mut parent, b as usize));
        parent[ra.max(rb)] = ra.min(rb);
    }
    for r in 1..n {
        if root(&mut parent, r) != r {
            continue;
        }
        // r is the lowest router of a component apart from router 0's: link its closest
        // pair to router 0's component.
        let roots: Vec<usize> = (0..n).map(|x| root(&mut parent, x)).collect();
        let inside: Vec<usize> = (0..n).filter(|&x| roots[x] == r).collect();
        let main: Vec<usize> = (0..n).filter(|&x| roots[x] == 0).collect();
        let mut best = (f64::INFINITY, 0, 0);
        for &a in &inside {
            for &b in &main {
                let d = dist(a, b);
                if d < best.0 {
                    best = (d, a, b);
                }
            }
        }
        let (_, a, b) = best;
        links.push((a.min(b) as u32, a.max(b) as u32, delay(a, b)));
        parent[r] = 0;
    }
    RouterGraph {
        names: (0..n).map(|i| i.to_string()).collect(),
        positions: Some(pos),
        links,
        attach: (0..routers).collect(),
    }
}

/// The parameters of a transit-stub graph (`[network] topology = { model =
/// "transit-stub", ... }`; every field has a default).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransitStub {
    /// Transit (backbone) domains, linked to each other pairwise. Default 4.
    pub transit_domains: u32,
    /// Routers per transit domain. Default 8.
    pub transit_routers: u32,
    /// Stub domains hanging off each transit router. Default 3.
    pub stubs_per_transit: u32,
    /// Routers per stub domain. Default 8.
    pub stub_routers: u32,
    /// Within a domain, the chance of a link beyond the spanning tree, per pair. Default 0.3.
    pub edge_p: f64,
    /// Delay of a link between transit domains, ms. Default 20.
    pub backbone_ms: f64,
    /// Delay of a link within a transit domain, ms. Default 5.
    pub transit_ms: f64,
    /// Delay of a stub domain's uplink to its transit router, ms. Default 3.
    pub uplink_ms: f64,
    /// Delay of a link within a stub domain, ms. Default 1.
    pub stub_ms: f64,
}

impl Default for TransitStub {
    fn default() -> Self {
        TransitStub {
            transit_domains: 4,
            transit_routers: 8,
            stubs_per_transit: 3,
            stub_routers: 8,
            edge_p: 0.3,
            backbone_ms: 20.0,
            transit_ms: 5.0,
            uplink_ms: 3.0,
            stub_ms: 1.0,
        }
    }
}

impl TransitStub {
    /// Routers of the graph.
    pub fn routers(&self) -> u64 {
        let t = u64::from(self.transit_domains) * u64::from(self.transit_routers);
        t + t * u64::from(self.stubs_per_transit) * u64::from(self.stub_routers)
    }

    /// Stub routers, which nodes attach to.
    pub fn stub_routers_total(&self) -> u64 {
        u64::from(self.transit_domains)
            * u64::from(self.transit_routers)
            * u64::from(self.stubs_per_transit)
            * u64::from(self.stub_routers)
    }
}

/// Links routers `first..first + n` into a connected random graph: each router after the
/// first links to a uniform earlier one (a random tree), and every other pair links with
/// probability `p`.
fn domain(
    first: u32,
    n: u32,
    p: f64,
    delay: u64,
    rng: &mut SimRng,
    links: &mut Vec<(u32, u32, u64)>,
) {
    let mut tree = vec![u32::MAX; n as usize];
    for k in 1..n {
        let up = rng.random_range(0..k);
        tree[k as usize] = up;
        links.push((first + up, first + k, delay));
    }
    for a in 0..n {
        for b in a + 1..n {
            if tree[b as usize] != a && rng.random_bool(p.clamp(0.0, 1.0)) {
                links.push((first + a, first + b, delay));
            }
        }
    }
}

/// GT-ITM's transit-stub model (Zegura, Calvert and Bhattacharjee 1996): transit domains
/// of random connected graphs, one link between every two of them (between random
/// routers), and at each transit router `stubs_per_transit` stub domains, each a random
/// connected graph whose random router links up to it. Transit routers come first, domain
/// by domain, then the stub routers; nodes attach to stub routers only.
pub fn transit_stub(t: &TransitStub, rng: &mut SimRng) -> RouterGraph {
    let mut links = Vec::new();
    let tr = t.transit_routers;
    for d in 0..t.transit_domains {
        domain(d * tr, tr, t.edge_p, ms_ns(t.transit_ms), rng, &mut links);
    }
    for a in 0..t.transit_domains {
        for b in a + 1..t.transit_domains {
            let (x, y) = (rng.random_range(0..tr), rng.random_range(0..tr));
            links.push((a * tr + x, b * tr + y, ms_ns(t.backbone_ms)));
        }
    }
    let transit = t.transit_domains * tr;
    let mut next = transit;
    let mut names: Vec<String> = (0..transit).map(|i| format!("t{i}")).collect();
    for up in 0..transit {
        for _ in 0..t.stubs_per_transit {
            domain(
                next,
                t.stub_routers,
                t.edge_p,
                ms_ns(t.stub_ms),
                rng,
                &mut links,
            );
            let gate = next + rng.random_range(0..t.stub_routers);
            links.push((up, gate, ms_ns(t.uplink_ms)));
            names.extend((next..next + t.stub_routers).map(|i| format!("s{i}")));
            next += t.stub_routers;
        }
    }
    RouterGraph {
        names,
        positions: None,
        links,
        attach: (transit..next).collect(),
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::super::Topology;
    use super::*;

    #[test]
    fn sparse_waxman_graphs_are_joined_into_one() {
        for seed in 0..20 {
            let g = waxman(60, 0.05, 0.05, 100.0, &mut SimRng::seed_from_u64(seed));
            Topology::new(g).unwrap();
        }
    }

    #[test]
    fn waxman_graphs_are_connected_and_denser_with_beta() {
        let mut rng = SimRng::seed_from_u64(5);
        let sparse = waxman(200, 0.1, 0.1, 100.0, &mut rng);
        let dense = waxman(200, 0.1, 0.6, 100.0, &mut rng);
        assert!(
            dense.links.len() > 3 * sparse.links.len(),
            "{} {}",
            dense.links.len(),
            sparse.links.len()
        );
        for g in [sparse, dense] {
            let t = Topology::new(g).unwrap();
            assert_eq!(t.attach_routers(), 200);
            // No path is shorter than the straight line.
            assert!(t.diameter_ns() >= 100_000_000 / 2);
        }
    }

    #[test]
    fn a_transit_stub_graph_has_its_counts_and_hierarchy() {
        let p = TransitStub {
            transit_domains: 3,
            transit_routers: 4,
            stubs_per_transit: 2,
            stub_routers: 5,
            edge_p: 0.3,
            backbone_ms: 20.0,
            transit_ms: 5.0,
            uplink_ms: 3.0,
            stub_ms: 1.0,
        };
        let g = transit_stub(&p, &mut SimRng::seed_from_u64(2));
        assert_eq!(g.names.len() as u64, p.routers());
        assert_eq!(g.attach.len() as u64, p.stub_routers_total());
        let t = Topology::new(g).unwrap();
        // Two stubs of one transit router: at least two uplinks apart.
        assert!(t.distance_ns(0, 5) >= 6_000_000);
        // Stubs under different transit domains cross the backbone.
        let far = t.distance_ns(0, t.attach_routers() - 1);
        assert!(far >= 2 * 3_000_000 + 20_000_000, "{far}");
    }
}

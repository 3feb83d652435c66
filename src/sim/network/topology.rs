//! Router-level underlays (`[network] latency = "routers"`): a graph of routers and links
//! with one-way delays, generated (Waxman, transit-stub) or loaded from a file. Nodes
//! attach to routers; the latency between two nodes is the shortest path between their
//! routers plus both access delays. Shortest paths are computed once (Dijkstra from every
//! router nodes attach to), so each datagram costs one table read.

pub mod generate;
pub mod load;

use petgraph::graph::{NodeIndex, UnGraph};
use thiserror::Error;

/// Routers nodes may attach to, at most: the distance table holds the square of it (4 B
/// each, 16 MiB at the limit).
pub const MAX_ATTACH_ROUTERS: usize = 2048;
/// Routers of a graph, at most.
pub const MAX_ROUTERS: usize = 65_536;

/// A router graph as built or read, before its distances are known.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RouterGraph {
    /// Router names (the file's node ids; generated routers are numbered), for errors.
    pub names: Vec<String>,
    /// Each router's point of the unit square, when the model places routers.
    pub positions: Option<Vec<(f64, f64)>>,
    /// Undirected links: `(router, router, one-way delay in ns)`.
    pub links: Vec<(u32, u32, u64)>,
    /// Routers nodes attach to, ascending.
    pub attach: Vec<u32>,
}

/// Why a router graph cannot carry a run.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum TopologyError {
    /// No router to attach nodes to.
    #[error("the graph has no router")]
    Empty,
    /// More routers than [`MAX_ROUTERS`] or attach routers than [`MAX_ATTACH_ROUTERS`].
    #[error("{what} routers: {n}, at most {max}")]
    TooLarge {
        /// Which routers.
        what: &'static str,
        /// How many there are.
        n: usize,
        /// The limit.
        max: usize,
    },
    /// A shortest path longer than the table holds (2^32 ns, 4.29 s).
    #[error("the shortest path from router `{from}` to `{to}` takes {ms} ms: at most 4,294 ms")]
    TooLong {
        /// One end.
        from: String,
        /// The other end.
        to: String,
        /// Its delay, ms.
        ms: f64,
    },
    /// Some router cannot be reached from the first one.
    #[error(
        "the graph is disconnected: {components} components; router `{unreachable}` cannot reach router `{first}`"
    )]
    Disconnected {
        /// Connected components.
        components: usize,
        /// The first router.
        first: String,
        /// The first router it cannot reach.
        unreachable: String,
    },
}

impl RouterGraph {
    /// Refuses an empty, too large or disconnected graph.
    pub fn check(&self) -> Result<(), TopologyError> {
        let n = self.names.len();
        if n == 0 || self.attach.is_empty() {
            return Err(TopologyError::Empty);
        }
        if n > MAX_ROUTERS {
            return Err(TopologyError::TooLarge {
                what: "graph",
                n,
                max: MAX_ROUTERS,
            });
        }
        if self.attach.len() > MAX_ATTACH_ROUTERS {
            return Err(TopologyError::TooLarge {
                what: "attach",
                n: self.attach.len(),
                max: MAX_ATTACH_ROUTERS,
            });
        }
        let g = self.graph();
        let components = petgraph::algo::connected_components(&g);
        if components > 1 {
            let reached = petgraph::algo::dijkstra(&g, NodeIndex::new(0), None, |e| *e.weight());
            let unreachable = (0..n).find(|i| !reached.contains_key(&NodeIndex::new(*i)));
            return Err(TopologyError::Disconnected {
                components,
                first: self.names[0].clone(),
                unreachable: self.names[unreachable.unwrap_or(0)].clone(),
            });
        }
        Ok(())
    }

    fn graph(&self) -> UnGraph<(), u64> {
        let mut g = UnGraph::with_capacity(self.names.len(), self.links.len());
        for _ in &self.names {
            g.add_node(());
        }
        for &(a, b, d) in &self.links {
            g.add_edge(NodeIndex::new(a as usize), NodeIndex::new(b as usize), d);
        }
        g
    }
}

/// A checked router graph with its shortest paths between attach routers.
#[derive(Clone, Debug, PartialEq)]
pub struct Topology {
    graph: RouterGraph,
    /// `dist[i * attach + j]`: shortest one-way delay from attach router i to j, ns (32 bits
    /// halve the table, which a datagram reads at a random place).
    dist: Vec<u32>,
}

impl Topology {
    /// Checks `graph` and computes its distance table.
    pub fn new(graph: RouterGraph) -> Result<Topology, TopologyError> {
        graph.check()?;
        let g = graph.graph();
        let a = graph.attach.len();
        let mut dist = vec![0u32; a * a];
        for (i, &r) in graph.attach.iter().enumerate() {
            let d = petgraph::algo::dijkstra(&g, NodeIndex::new(r as usize), None, |e| *e.weight());
            for (j, &s) in graph.attach.iter().enumerate() {
                let ns = d[&NodeIndex::new(s as usize)];
                dist[i * a + j] = u32::try_from(ns).map_err(|_| TopologyError::TooLong {
                    from: graph.names[r as usize].clone(),
                    to: graph.names[s as usize].clone(),
                    ms: ns as f64 / 1e6,
                })?;
            }
        }
        Ok(Topology { graph, dist })
    }

    /// Routers nodes attach to.
    pub fn attach_routers(&self) -> u32 {
        self.graph.attach.len() as u32
    }

    /// Routers of the graph.
    pub fn routers(&self) -> usize {
        self.graph.names.len()
    }

    /// Links of the graph.
    pub fn links(&self) -> usize {
        self.graph.links.len()
    }

    /// Shortest one-way delay between attach routers `i` and `j` (indices into the attach
    /// list), ns.
    pub fn distance_ns(&self, i: u32, j: u32) -> u64 {
        let a = self.graph.attach.len();
        u64::from(self.dist[i as usize * a + j as usize])
    }

    /// The point of attach router `i`, when the model places routers.
    pub fn position(&self, i: u32) -> Option<(f64, f64)> {
        let r = *self.graph.attach.get(i as usize)?;
        self.graph.positions.as_ref()?.get(r as usize).copied()
    }

    /// Heap bytes of the distance table.
    pub fn heap_bytes(&self) -> usize {
        self.dist.capacity() * std::mem::size_of::<u32>()
    }

    /// The largest shortest-path delay between attach routers, ns.
    pub fn diameter_ns(&self) -> u64 {
        self.dist.iter().copied().max().map_or(0, u64::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: u32) -> RouterGraph {
        RouterGraph {
            names: (0..n).map(|i| format!("r{i}")).collect(),
            positions: None,
            links: (1..n).map(|i| (i - 1, i, 1_000)).collect(),
            attach: (0..n).collect(),
        }
    }

    #[test]
    fn distances_are_shortest_paths() {
        let mut g = line(5);
        g.links.push((0, 4, 2_500));
        let t = Topology::new(g).unwrap();
        assert_eq!(t.distance_ns(0, 3), 3_000);
        assert_eq!(t.distance_ns(0, 4), 2_500);
        assert_eq!(t.distance_ns(1, 4), 3_000);
        assert_eq!(t.distance_ns(2, 2), 0);
        assert_eq!(t.diameter_ns(), 3_000);
    }

    #[test]
    fn a_disconnected_graph_names_a_router_it_cannot_reach() {
        let mut g = line(6);
        g.links.retain(|l| l.0 != 3);
        let e = Topology::new(g).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the graph is disconnected: 2 components; router `r4` cannot reach router `r0`"
        );
        assert_eq!(
            Topology::new(RouterGraph::default()).unwrap_err(),
            TopologyError::Empty
        );
        let mut far = line(3);
        far.links[1].2 = 5_000_000_000;
        assert!(matches!(
            Topology::new(far).unwrap_err(),
            TopologyError::TooLong { .. }
        ));
    }
}

//! `[network] topology`: the router graph of `latency = "routers"`, generated from the
//! run's seed (Waxman, transit-stub) or read from a file relative to the scenario.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::sim::network::topology::generate::{self, TransitStub};
use crate::sim::network::{Topology, TopologyError};
use crate::sim::rng::{Seeds, purpose};

/// A router graph model, tagged by `model`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TopologySpec {
    /// Waxman's random graph on the unit square ([`generate::waxman`]).
    Waxman {
        /// Routers, 1..=2048. Default 200.
        #[serde(default = "count::<200>")]
        routers: u32,
        /// α > 0: larger, more long links. Default 0.15.
        #[serde(default = "d_alpha")]
        alpha: f64,
        /// β in (0, 1]: larger, more links. Default 0.4.
        #[serde(default = "d_beta")]
        beta: f64,
        /// Link delay per unit of distance (the square's side), ms. Default 100.
        #[serde(default = "d_ms_per_unit")]
        ms_per_unit: f64,
    },
    /// GT-ITM's transit-stub hierarchy ([`generate::transit_stub`]).
    TransitStub(TransitStub),
    /// An edge list or GraphML file ([`crate::sim::network::topology::load`]).
    File {
        /// The file, relative to the scenario file.
        path: String,
        /// Delay of a link the file gives no delay or coordinates for, ms. Default 5.
        #[serde(default = "d_hop")]
        hop_ms: f64,
        /// The graph read by `Scenario::resolve`.
        #[serde(skip)]
        loaded: Option<LoadedGraph>,
    },
}

/// A router graph read from a file.
#[derive(Clone, Debug)]
pub struct LoadedGraph {
    /// The checked graph with its distances.
    pub topology: Arc<Topology>,
    /// SHA-1 (hex) of the file: the scenario hash counts the file by it.
    pub sha1: String,
    /// The file as read, copied into results folders.
    pub text: Arc<str>,
}

impl PartialEq for LoadedGraph {
    fn eq(&self, other: &Self) -> bool {
        self.sha1 == other.sha1
    }
}

fn d_alpha() -> f64 {
    0.15
}
fn d_beta() -> f64 {
    0.4
}
fn d_ms_per_unit() -> f64 {
    100.0
}
fn count<const N: u32>() -> u32 {
    N
}
fn d_hop() -> f64 {
    5.0
}

impl Default for TopologySpec {
    /// The transit-stub graph with its defaults: 32 transit and 768 stub routers.
    fn default() -> Self {
        TopologySpec::TransitStub(TransitStub::default())
    }
}

impl TopologySpec {
    /// The topology (graph and distances) for the run seeded `seed`: generated, or the
    /// file's as loaded (`None` before `Scenario::resolve` loads it). Validation builds a
    /// generated one once to refuse it before the run.
    pub fn build(&self, seed: u64) -> Option<Result<Arc<Topology>, TopologyError>> {
        let rng = &mut Seeds::new(seed).stream(purpose::TOPOLOGY);
        let graph = match self {
            TopologySpec::Waxman {
                routers,
                alpha,
                beta,
                ms_per_unit,
            } => generate::waxman(*routers, *alpha, *beta, *ms_per_unit, rng),
            TopologySpec::TransitStub(t) => generate::transit_stub(t, rng),
            TopologySpec::File { loaded, .. } => {
                return loaded.as_ref().map(|l| Ok(l.topology.clone()));
            }
        };
        Some(Topology::new(graph).map(Arc::new))
    }

    /// [`TopologySpec::build`] of a valid scenario.
    pub fn topology(&self, seed: u64) -> Option<Arc<Topology>> {
        self.build(seed)?.ok()
    }

    /// Whether routers have a place (a region of `[[events]]` needs one).
    pub fn places_routers(&self) -> bool {
        matches!(self, TopologySpec::Waxman { .. })
    }
}

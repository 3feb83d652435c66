//! One-way latency models. All produce whole nanoseconds; floats are used only to place
//! nodes and compute distances, identically on every run.

use rand::RngExt;

use std::sync::Arc;

use super::Topology;
use crate::sim::rng::{SimRng, secs_to_ns};
use crate::time::Duration;

/// Which latency model, with its parameters in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LatencySpec {
    /// Every datagram takes `latency_ms`.
    Constant {
        /// One-way latency, ms.
        latency_ms: f64,
    },
    /// `latency_ms` plus a uniform draw in `[0, jitter_ms)`.
    Uniform {
        /// Base one-way latency, ms.
        latency_ms: f64,
        /// Width of the uniform jitter, ms.
        jitter_ms: f64,
    },
    /// Nodes sit at random points of the unit square and have a random access delay in
    /// `[0, access_ms)`. One-way latency = access(a) + access(b) + `latency_ms` × distance
    /// + a uniform jitter in `[0, jitter_ms)`.
    Coordinates {
        /// Delay per unit of distance (the square's side), ms.
        latency_ms: f64,
        /// Width of the uniform jitter, ms.
        jitter_ms: f64,
        /// Upper bound of the per-node access delay, ms.
        access_ms: f64,
    },
    /// Nodes attach to uniformly drawn routers of a [`Topology`] and have a random access
    /// delay in `[0, access_ms)`. One-way latency = access(a) + access(b) + the shortest
    /// path between their routers + a uniform jitter in `[0, jitter_ms)`.
    Routers {
        /// Width of the uniform jitter, ms.
        jitter_ms: f64,
        /// Upper bound of the per-node access delay, ms.
        access_ms: f64,
    },
}

/// A node's place in the coordinates model.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Place {
    x: f64,
    y: f64,
    access_ns: u64,
}

/// A node's router in the routers model.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Attachment {
    router: u32,
    access_ns: u64,
}

/// A latency model ready to sample.
#[derive(Clone, Debug)]
pub struct LatencyModel {
    spec: LatencySpec,
    places: Vec<Place>,
    topology: Option<Arc<Topology>>,
    attached: Vec<Attachment>,
}

fn ms_to_ns(ms: f64) -> u64 {
    secs_to_ns(ms / 1e3)
}

fn jitter(rng: &mut SimRng, jitter_ms: f64) -> u64 {
    let j = ms_to_ns(jitter_ms);
    if j == 0 { 0 } else { rng.random_range(0..j) }
}

impl LatencyModel {
    /// Heap bytes of the per-slot places.
    pub fn heap_bytes(&self) -> usize {
        self.places.capacity() * std::mem::size_of::<Place>()
            + self.attached.capacity() * std::mem::size_of::<Attachment>()
    }

    /// The model for `slots` node slots; `places` (coordinates model only) draws each slot's
    /// position and access delay, in slot order.
    pub fn new(spec: LatencySpec, slots: u32, places: &mut SimRng) -> LatencyModel {
        let places = match spec {
            LatencySpec::Coordinates { access_ms, .. } => (0..slots)
                .map(|_| {
                    let x = places.random::<f64>();
                    let y = places.random::<f64>();
                    let a = ms_to_ns(access_ms);
                    let access_ns = if a == 0 { 0 } else { places.random_range(0..a) };
                    Place { x, y, access_ns }
                })
                .collect(),
            _ => Vec::new(),
        };
        LatencyModel {
            spec,
            places,
            topology: None,
            attached: Vec::new(),
        }
    }

    /// The routers model over `topology` for `slots` node slots; `places` draws each slot's
    /// router and access delay, in slot order.
    pub fn routers(
        topology: Arc<Topology>,
        jitter_ms: f64,
        access_ms: f64,
        slots: u32,
        places: &mut SimRng,
    ) -> LatencyModel {
        let a = ms_to_ns(access_ms);
        let attached = (0..slots)
            .map(|_| Attachment {
                router: places.random_range(0..topology.attach_routers()),
                access_ns: if a == 0 { 0 } else { places.random_range(0..a) },
            })
            .collect();
        LatencyModel {
            spec: LatencySpec::Routers {
                jitter_ms,
                access_ms,
            },
            places: Vec::new(),
            topology: Some(topology),
            attached,
        }
    }

    /// Slot `slot`'s point of the unit square: its own (coordinates model) or its router's
    /// (routers model over a graph that places routers).
    pub fn position(&self, slot: u32) -> Option<(f64, f64)> {
        if let Some(t) = &self.topology {
            return t.position(self.attached.get(slot as usize)?.router);
        }
        self.places.get(slot as usize).map(|p| (p.x, p.y))
    }

    /// The router graph of the routers model.
    pub fn topology(&self) -> Option<&Topology> {
        self.topology.as_deref()
    }

    /// The model's parameters.
    pub fn spec(&self) -> LatencySpec {
        self.spec
    }

    /// The latency without jitter from slot `a` to slot `b`, ns.
    pub fn base_ns(&self, a: u32, b: u32) -> u64 {
        match self.spec {
            LatencySpec::Constant { latency_ms } | LatencySpec::Uniform { latency_ms, .. } => {
                ms_to_ns(latency_ms)
            }
            LatencySpec::Coordinates { latency_ms, .. } => {
                let (Some(p), Some(q)) = (self.places.get(a as usize), self.places.get(b as usize))
                else {
                    return ms_to_ns(latency_ms);
                };
                let d = ((p.x - q.x).powi(2) + (p.y - q.y).powi(2)).sqrt();
                p.access_ns + q.access_ns + ms_to_ns(latency_ms * d)
            }
            LatencySpec::Routers { .. } => {
                let (Some(t), Some(p), Some(q)) = (
                    &self.topology,
                    self.attached.get(a as usize),
                    self.attached.get(b as usize),
                ) else {
                    return 0;
                };
                p.access_ns + q.access_ns + t.distance_ns(p.router, q.router)
            }
        }
    }

    /// Draws the one-way latency of one datagram from slot `a` to slot `b`.
    pub fn sample(&self, a: u32, b: u32, rng: &mut SimRng) -> Duration {
        let extra = match self.spec {
            LatencySpec::Constant { .. } => 0,
            LatencySpec::Uniform { jitter_ms, .. }
            | LatencySpec::Coordinates { jitter_ms, .. }
            | LatencySpec::Routers { jitter_ms, .. } => jitter(rng, jitter_ms),
        };
        Duration(self.base_ns(a, b) + extra)
    }
}

//! One-way latency models. All produce whole nanoseconds; floats are used only to place
//! nodes and compute distances, identically on every run.

use rand::RngExt;

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
}

/// A node's place in the coordinates model.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Place {
    x: f64,
    y: f64,
    access_ns: u64,
}

/// A latency model ready to sample.
#[derive(Clone, Debug)]
pub struct LatencyModel {
    spec: LatencySpec,
    places: Vec<Place>,
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
        LatencyModel { spec, places }
    }

    /// Slot `slot`'s point of the unit square (coordinates model only).
    pub fn position(&self, slot: u32) -> Option<(f64, f64)> {
        self.places.get(slot as usize).map(|p| (p.x, p.y))
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
        }
    }

    /// Draws the one-way latency of one datagram from slot `a` to slot `b`.
    pub fn sample(&self, a: u32, b: u32, rng: &mut SimRng) -> Duration {
        let extra = match self.spec {
            LatencySpec::Constant { .. } => 0,
            LatencySpec::Uniform { jitter_ms, .. } | LatencySpec::Coordinates { jitter_ms, .. } => {
                jitter(rng, jitter_ms)
            }
        };
        Duration(self.base_ns(a, b) + extra)
    }
}

//! Randomness: one master seed, independent ChaCha8 streams per purpose and per node.
//!
//! Every stream is seeded from `(master seed, purpose label, index)` through a 64-bit mix, so
//! drawing more from one stream (say, a new workload item) never changes what another stream
//! (say, the network's jitter and loss) produces.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::proto::id::NodeId;

/// The generator of every simulator stream.
pub type SimRng = ChaCha8Rng;

/// Stream labels. Changing one changes every run that uses it.
pub mod purpose {
    /// Latency jitter and loss draws.
    pub const NETWORK: &str = "network";
    /// Session and down times, crash-or-leave draws.
    pub const CHURN: &str = "churn";
    /// Lookup inter-arrival times and keys.
    pub const WORKLOAD: &str = "workload";
    /// Call inter-arrival times, callers and callees of the SIP workload.
    pub const CALLS: &str = "calls";
    /// Which users register (one draw per slot, in slot order).
    pub const SIP_USERS: &str = "sip-users";
    /// Poisson arrival gaps.
    pub const ARRIVAL: &str = "arrival";
    /// Node coordinates and access delays of the coordinates latency model.
    pub const COORDINATES: &str = "coordinates";
    /// The generated router graph of the routers latency model.
    pub const TOPOLOGY: &str = "topology";
    /// The seed handed to `Node::new`, per (slot, incarnation).
    pub const NODE: &str = "node";
    /// The Node-ID of a (slot, incarnation).
    pub const NODE_ID: &str = "node-id";
    /// Which slots the scheduled events (`[[events]]`) touch.
    pub const EVENTS: &str = "events";
}

/// SplitMix64's finaliser: a bijective 64-bit mix.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a 64 of a label.
fn label_hash(label: &str) -> u64 {
    label.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Derives every stream of a run from its master seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seeds {
    master: u64,
}

impl Seeds {
    /// Streams of the run with this master seed.
    pub fn new(master: u64) -> Seeds {
        Seeds { master }
    }

    /// The master seed.
    pub fn master(&self) -> u64 {
        self.master
    }

    /// A 64-bit seed for `(purpose, index)`.
    pub fn derive(&self, purpose: &str, index: u64) -> u64 {
        mix(mix(self.master ^ mix(label_hash(purpose))) ^ mix(index))
    }

    /// The stream of a run-wide purpose (see [`purpose`]).
    pub fn stream(&self, purpose: &str) -> SimRng {
        ChaCha8Rng::seed_from_u64(self.derive(purpose, 0))
    }

    /// The stream of `(purpose, index)`.
    pub fn indexed_stream(&self, purpose: &str, index: u64) -> SimRng {
        ChaCha8Rng::seed_from_u64(self.derive(purpose, index))
    }

    /// The seed given to the node in slot `slot` for its `incarnation`-th life.
    pub fn node_seed(&self, slot: u32, incarnation: u32) -> u64 {
        self.derive(purpose::NODE, slot_key(slot, incarnation))
    }

    /// The Node-ID of slot `slot` in its `incarnation`-th life: uniform on the ring, never
    /// zero or the wildcard.
    pub fn node_id(&self, slot: u32, incarnation: u32) -> NodeId {
        let mut rng = self.indexed_stream(purpose::NODE_ID, slot_key(slot, incarnation));
        loop {
            let id = NodeId(rand::RngExt::random::<u128>(&mut rng));
            if id != NodeId::ZERO && id != NodeId::WILDCARD {
                return id;
            }
        }
    }
}

fn slot_key(slot: u32, incarnation: u32) -> u64 {
    (u64::from(slot) << 32) | u64::from(incarnation)
}

/// An exponentially distributed span with the given mean, in nanoseconds (inverse CDF).
pub fn exponential_ns(rng: &mut SimRng, mean_s: f64) -> u64 {
    let u: f64 = rand::RngExt::random(rng); // [0, 1)
    let x = -mean_s * (1.0 - u).ln();
    secs_to_ns(x)
}

/// Seconds as whole nanoseconds, saturating; negative and NaN become zero.
pub fn secs_to_ns(s: f64) -> u64 {
    let ns = (s * 1e9).round();
    if ns.is_nan() || ns <= 0.0 {
        0
    } else if ns >= u64::MAX as f64 {
        u64::MAX
    } else {
        ns as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_differ_by_purpose_and_index() {
        let s = Seeds::new(7);
        let a = s.stream(purpose::NETWORK).next_u64();
        let b = s.stream(purpose::CHURN).next_u64();
        assert_ne!(a, b);
        assert_ne!(s.node_seed(1, 0), s.node_seed(1, 1));
        assert_ne!(s.node_id(1, 0), s.node_id(2, 0));
        assert_eq!(s.node_id(3, 4), Seeds::new(7).node_id(3, 4));
    }

    #[test]
    fn exponential_mean_is_close() {
        let mut rng = Seeds::new(1).stream(purpose::CHURN);
        let n = 20_000;
        let sum: u64 = (0..n).map(|_| exponential_ns(&mut rng, 2.0)).sum();
        let mean = sum as f64 / n as f64 / 1e9;
        assert!((mean - 2.0).abs() < 0.1, "{mean}");
    }
}

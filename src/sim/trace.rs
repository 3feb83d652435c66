//! The run digest: FNV-1a 64 over every datagram delivered to a live node, as
//! `(time ns, destination slot, length, bytes)`. Two runs with equal digests saw the same
//! traffic at the same instants; tests compare digests to check determinism.

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0100_0000_01b3;

/// A running FNV-1a 64 digest of delivered datagrams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trace {
    digest: u64,
    delivered: u64,
}

impl Default for Trace {
    fn default() -> Self {
        Trace {
            digest: OFFSET,
            delivered: 0,
        }
    }
}

impl Trace {
    fn feed(&mut self, bytes: &[u8]) {
        let mut h = self.digest;
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(PRIME);
        }
        self.digest = h;
    }

    /// Records one delivery at `time_ns` to slot `to`.
    pub fn delivered(&mut self, time_ns: u64, to: u32, bytes: &[u8]) {
        self.feed(&time_ns.to_be_bytes());
        self.feed(&to.to_be_bytes());
        self.feed(&(bytes.len() as u64).to_be_bytes());
        self.feed(bytes);
        self.delivered += 1;
    }

    /// The digest so far.
    pub fn digest(&self) -> u64 {
        self.digest
    }

    /// Datagrams recorded.
    pub fn count(&self) -> u64 {
        self.delivered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_depends_on_time_destination_and_bytes() {
        let run = |t, to, b: &[u8]| {
            let mut tr = Trace::default();
            tr.delivered(t, to, b);
            tr.digest()
        };
        let base = run(1, 2, b"abc");
        assert_eq!(base, run(1, 2, b"abc"));
        assert_ne!(base, run(2, 2, b"abc"));
        assert_ne!(base, run(1, 3, b"abc"));
        assert_ne!(base, run(1, 2, b"abd"));
    }
}

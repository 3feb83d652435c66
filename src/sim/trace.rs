//! The run digest: a 64-bit FNV-1a-style hash, taken 8 bytes at a time, over every datagram
//! delivered to a live node, as `(time ns, destination slot, length, bytes)`. Two runs with equal digests saw the same
//! traffic at the same instants; tests compare digests to check determinism.

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0100_0000_01b3;

/// A running 64-bit digest of delivered datagrams.
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
    fn word(&mut self, w: u64) {
        self.digest = (self.digest ^ w).wrapping_mul(PRIME).rotate_left(31);
    }

    fn feed(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.word(u64::from_le_bytes([
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            ]));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.word(u64::from_le_bytes(tail) ^ ((rest.len() as u64) << 59));
    }

    /// Records one delivery at `time_ns` to slot `to`.
    pub fn delivered(&mut self, time_ns: u64, to: u32, bytes: &[u8]) {
        self.word(time_ns);
        self.word(u64::from(to));
        self.word(bytes.len() as u64);
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

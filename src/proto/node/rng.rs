//! The node's random stream, kept small: the ChaCha8 seed and the word position in its
//! stream (48 bytes) instead of a live generator with its 256-byte output buffer. Each use
//! rebuilds the generator at the saved position, so the draws are exactly those of one
//! `ChaCha8Rng` used throughout; a rebuild costs one 4-block refill (a few hundred ns),
//! and a node draws only when it starts a request, answers an Attach or sets a timer.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A ChaCha8 stream, stored as its seed and position.
#[derive(Clone, Debug)]
pub(super) struct NodeRng {
    seed: [u8; 32],
    /// Offset in the stream, in 32-bit words (`ChaCha8Rng::get_word_pos`).
    word_pos: u128,
}

impl NodeRng {
    /// The stream `ChaCha8Rng::seed_from_u64(seed)` gives.
    pub(super) fn seed_from_u64(seed: u64) -> NodeRng {
        NodeRng {
            seed: ChaCha8Rng::seed_from_u64(seed).get_seed(),
            word_pos: 0,
        }
    }

    /// Runs `f` with the generator at the stream's current position, then keeps the
    /// position `f` left it at.
    pub(super) fn draw<R>(&mut self, f: impl FnOnce(&mut ChaCha8Rng) -> R) -> R {
        let mut rng = ChaCha8Rng::from_seed(self.seed);
        rng.set_word_pos(self.word_pos);
        let r = f(&mut rng);
        self.word_pos = rng.get_word_pos();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, RngExt};

    #[test]
    fn draws_are_those_of_one_live_generator() {
        let mut live = ChaCha8Rng::seed_from_u64(42);
        let mut stored = NodeRng::seed_from_u64(42);
        for i in 0..500u64 {
            match i % 4 {
                0 => assert_eq!(live.random::<u64>(), stored.draw(|r| r.random::<u64>())),
                1 => assert_eq!(
                    live.random_range(900u64..=1100),
                    stored.draw(|r| r.random_range(900u64..=1100))
                ),
                2 => assert_eq!(
                    live.random_range(0..(1u128 << 120)),
                    stored.draw(|r| r.random_range(0..(1u128 << 120)))
                ),
                _ => assert_eq!(live.next_u32(), stored.draw(|r| r.next_u32())),
            }
        }
    }
}

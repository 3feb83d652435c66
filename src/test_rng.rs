//! A small deterministic stream for unit tests (xorshift64): fixed inputs that look
//! random. Simulation draws never use it; they come from seeded ChaCha streams.

/// The xorshift64 stream (13, 7, 17) from `seed` (non-zero).
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

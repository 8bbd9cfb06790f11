//! The one place where random generators are made. Every run draws from a
//! ChaCha8 generator seeded from the scenario's seed, so the same seed gives
//! the same stream on every machine and with every build of moai that locks
//! the same `rand_chacha` version.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator type every simulation draws from.
pub type SimRng = ChaCha8Rng;

/// The generator for one run with the given seed.
pub fn generator(seed: u64) -> SimRng {
    ChaCha8Rng::seed_from_u64(seed)
}

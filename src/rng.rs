//! The one place where random generators are made. Every run draws from a
//! ChaCha8 generator seeded from the scenario's seed, so the same seed gives
//! the same stream on every machine and with every build of moai that locks
//! the same `rand_chacha` version.

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The version of moai's results for a given scenario and seed, recorded as
/// `stream` in JSON output. It goes up whenever a change gives different
/// results for the same scenario and seed (a new random stream or a changed
/// rule); the README's Determinism section and the changelog list each step.
/// 1: the first release; 2: gossip rounds drawn in blocks of 4096 agents;
/// 3: gossip agreement counts only live agents; min_participation;
/// 4: gossip loss drawn as a count per agent, graph peers from subset
/// tables, and faster graph builds; 5: gossip trials' mean final agreement
/// summed exactly (so sharded trials merge to the same bytes).
pub const STREAM_VERSION: u32 = 5;

/// The generator type every simulation draws from.
pub type SimRng = ChaCha8Rng;

/// The generator for one run with the given seed (the same as trial 0).
pub fn generator(seed: u64) -> SimRng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// The generator for Monte Carlo trial `trial`: the seed's ChaCha stream
/// number `trial`. Streams are independent, and a trial's numbers depend only
/// on (seed, trial), never on which thread runs it or in what order.
pub fn trial_generator(seed: u64, trial: u64) -> SimRng {
    let mut rng = generator(seed);
    rng.set_stream(trial);
    rng
}

/// Words a [`ReadAhead`] holds: 1 KiB, a few ChaCha8 blocks.
pub const READ_AHEAD_WORDS: usize = 256;

/// A generator read through a buffer of words in the caller's frame, for
/// hot loops: the stream it gives is exactly the generator's, word by word,
/// but the position can live in a register rather than behind the
/// generator's pointer, and several words can be looked at before they are
/// taken ([`ReadAhead::peek`]). It reads ahead, so the generator is left
/// past words never handed out: read the stream through the `ReadAhead`
/// alone from its creation on.
pub struct ReadAhead<'a> {
    rng: &'a mut SimRng,
    words: &'a mut [u32; READ_AHEAD_WORDS],
    next: usize,
}

impl<'a> ReadAhead<'a> {
    /// Reads `rng` from its current position, buffering in `words`.
    pub fn new(rng: &'a mut SimRng, words: &'a mut [u32; READ_AHEAD_WORDS]) -> Self {
        ReadAhead {
            rng,
            words,
            next: READ_AHEAD_WORDS,
        }
    }

    /// The next `K` words (at most [`READ_AHEAD_WORDS`]), without taking
    /// them. When the buffer holds fewer, the words left are moved to its
    /// front and the rest of it read from the generator, so the stream is
    /// unchanged.
    #[inline(always)]
    pub fn peek<const K: usize>(&mut self) -> [u32; K] {
        if self.next + K > READ_AHEAD_WORDS {
            top_up(self.rng, self.words, self.next);
            self.next = 0;
        }
        self.words[self.next..self.next + K]
            .try_into()
            .expect("K words")
    }

    /// Takes `count` words, at most as many as `peek` gave.
    #[inline(always)]
    pub fn skip(&mut self, count: usize) {
        debug_assert!(self.next + count <= READ_AHEAD_WORDS);
        self.next += count;
    }
}

/// Moves the words from `next` on to the front of the buffer and reads the
/// rest of it from the generator; out of line, like [`refill`].
#[cold]
#[inline(never)]
fn top_up(rng: &mut SimRng, words: &mut [u32; READ_AHEAD_WORDS], next: usize) {
    words.copy_within(next.., 0);
    rng.fill(&mut words[READ_AHEAD_WORDS - next..]);
}

/// Refills the buffer; kept out of line so the hot loop holds no call that
/// could see the position.
#[cold]
#[inline(never)]
fn refill(rng: &mut SimRng, words: &mut [u32; READ_AHEAD_WORDS]) {
    rng.fill(&mut words[..]);
}

impl RngCore for ReadAhead<'_> {
    #[inline(always)]
    fn next_u32(&mut self) -> u32 {
        if self.next == READ_AHEAD_WORDS {
            refill(self.rng, self.words);
            self.next = 0;
        }
        let word = self.words[self.next];
        self.next += 1;
        word
    }

    /// Two words, the first the low half, as the generator gives them.
    #[inline(always)]
    fn next_u64(&mut self) -> u64 {
        let low = u64::from(self.next_u32());
        (u64::from(self.next_u32()) << 32) | low
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        rand::rand_core::impls::fill_bytes_via_next(self, dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn read_ahead_gives_what_the_generator_gives_call_for_call() {
        let mut direct = generator(7);
        let mut rng = generator(7);
        let mut words = [0; READ_AHEAD_WORDS];
        let mut read = ReadAhead::new(&mut rng, &mut words);
        // Mixed reads of 1, 2 and 1 words cross refills at every offset.
        for _ in 0..3 * READ_AHEAD_WORDS {
            assert_eq!(read.next_u32(), direct.next_u32());
            assert_eq!(read.next_u64(), direct.next_u64());
            let (mut a, mut b) = ([0u8; 3], [0u8; 3]);
            read.fill_bytes(&mut a);
            direct.fill_bytes(&mut b);
            assert_eq!(a, b);
        }
    }

    #[test]
    fn peeked_words_are_the_next_ones_and_stay_until_skipped() {
        let mut direct = generator(9);
        let mut rng = generator(9);
        let mut words = [0; READ_AHEAD_WORDS];
        let mut read = ReadAhead::new(&mut rng, &mut words);
        assert_eq!(read.next_u32(), direct.next_u32());
        // Peeks of 3 and 7 words cross the buffer's end at many offsets.
        for round in 0..5 * READ_AHEAD_WORDS {
            let three = read.peek::<3>();
            assert_eq!(read.peek::<3>(), three, "peeking takes nothing");
            read.skip(3);
            assert_eq!(three, std::array::from_fn(|_| direct.next_u32()));
            if round % 3 == 0 {
                let seven = read.peek::<7>();
                read.skip(7);
                assert_eq!(seven, std::array::from_fn(|_| direct.next_u32()));
            }
            assert_eq!(read.next_u32(), direct.next_u32());
        }
    }

    #[test]
    fn trial_zero_is_the_single_run_and_other_trials_differ() {
        let first = |mut r: SimRng| r.next_u64();
        assert_eq!(first(trial_generator(42, 0)), first(generator(42)));
        assert_ne!(first(trial_generator(42, 1)), first(generator(42)));
        assert_ne!(first(trial_generator(42, 1)), first(trial_generator(42, 2)));
    }
}

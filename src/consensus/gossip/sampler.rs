//! How an agent's peers and lost exchanges of a round are drawn.
//!
//! Per honest agent with `k = min(fanout, candidates)` exchanges, in order:
//!
//! 1. when `loss > 0`, how many of the `k` exchanges are lost, `L`, from
//!    Binomial(`k`, `loss`) by inversion of one word ([`LossTable`]);
//! 2. its `m = k - L` peers: `m` distinct candidates, uniformly
//!    ([`PeerSampler::choose`]).
//!
//! Losing `L` of `k` uniformly drawn distinct peers, each independently,
//! leaves a uniform set of `k - L` of them, so drawing only the peers that
//! are heard gives the same law as drawing `k` peers and then one coin per
//! exchange, with fewer draws: at loss 0.5 half of them.

use std::collections::BTreeSet;

use rand::distr::{Distribution, Uniform};
use rand::{Rng, RngCore};

use super::topology::Graph;
use crate::pmf;
use crate::rng::ReadAhead;

/// Whom each agent may sample as peers: its candidates.
pub(super) trait Candidates {
    /// How many candidates agent `me` has, and which agent its candidate
    /// number `c` is.
    fn of(&self, me: u32) -> (u32, impl Fn(u32) -> u32);

    /// Whether some agents may draw their peers from a [`SubsetTable`]:
    /// known at compile time, so a complete network's loop never looks.
    const TABLED: bool = true;

    /// The fewest and the most candidates any agent has, and the candidate
    /// counts up to [`MAX_TABLE_DEGREE`] that some agent has (none for a
    /// complete network, whose agents choose among everyone).
    fn sizes(&self, agents: u32) -> Sizes;
}

/// What [`Candidates::sizes`] gives.
pub(super) struct Sizes {
    pub fewest: u32,
    pub most: u32,
    pub tabled: BTreeSet<u32>,
}

/// Every other agent of a complete network of this many agents, never
/// materialised: candidate `c` of agent `me` is agent `c`, or `c+1` at and
/// after `me`.
pub(super) struct Everyone(pub u32);

impl Candidates for Everyone {
    const TABLED: bool = false;

    #[inline(always)]
    fn of(&self, me: u32) -> (u32, impl Fn(u32) -> u32) {
        (self.0 - 1, move |c| if c < me { c } else { c + 1 })
    }

    fn sizes(&self, _agents: u32) -> Sizes {
        let count = self.0.saturating_sub(1);
        Sizes {
            fewest: count,
            most: count,
            tabled: BTreeSet::new(),
        }
    }
}

/// The ring of `agents` agents where each is linked to the `half` nearest on
/// each side, never materialised: candidate `c` of agent `me` is
/// `me - half + c` below `half`, else `me - half + c + 1`, modulo the agents
/// (so its neighbours from the farthest behind to the farthest ahead).
/// Needs `2 * half < agents`.
pub(super) struct Ring {
    pub agents: u32,
    pub half: u32,
}

impl Candidates for Ring {
    #[inline(always)]
    fn of(&self, me: u32) -> (u32, impl Fn(u32) -> u32) {
        let (n, half) = (self.agents, self.half);
        // Below 2n, and a candidate adds less than n.
        let start = me + n - half;
        (2 * half, move |c| {
            let a = start + c + u32::from(c >= half);
            if a >= 2 * n {
                a - 2 * n
            } else if a >= n {
                a - n
            } else {
                a
            }
        })
    }

    fn sizes(&self, _agents: u32) -> Sizes {
        let degree = 2 * self.half;
        Sizes {
            fewest: degree,
            most: degree,
            tabled: BTreeSet::from_iter((degree <= MAX_TABLE_DEGREE).then_some(degree)),
        }
    }
}

/// An agent's neighbours, in the graph's order.
impl Candidates for Graph {
    #[inline(always)]
    fn of(&self, me: u32) -> (u32, impl Fn(u32) -> u32) {
        let neighbours = self.neighbours(me);
        (neighbours.len() as u32, |c| neighbours[c as usize])
    }

    fn sizes(&self, agents: u32) -> Sizes {
        let (mut fewest, mut most) = (u32::MAX, 0);
        let mut seen = [false; MAX_TABLE_DEGREE as usize + 1];
        for degree in (0..agents).map(|a| self.neighbours(a).len() as u32) {
            fewest = fewest.min(degree);
            most = most.max(degree);
            if let Some(seen) = seen.get_mut(degree as usize) {
                *seen = true;
            }
        }
        Sizes {
            fewest: fewest.min(most),
            most,
            tabled: (0..)
                .zip(seen)
                .filter(|&(_, seen)| seen)
                .map(|(d, _)| d)
                .collect(),
        }
    }
}

/// The tables a run's peer draws read, made once per run.
pub(super) struct Tables {
    /// The law of lost exchanges, when the run loses any.
    pub losses: Option<LossTable>,
    subsets: SubsetTables,
}

impl Tables {
    /// The tables for agents choosing among `candidates` with this fanout
    /// and loss.
    pub fn new(sizes: &Sizes, fanout: u32, loss: f64) -> Self {
        let exchanges = fanout.min(sizes.fewest)..=fanout.min(sizes.most);
        Tables {
            losses: (loss > 0.0).then(|| LossTable::new(loss, exchanges)),
            subsets: SubsetTables::new(&sizes.tabled, fanout),
        }
    }
}

/// The law of how many of an agent's `k` exchanges a round loses,
/// Binomial(`k`, loss), for every `k` an agent of the run has: thresholds
/// `C_j = 2^64 · P(L <= j)`, rounded, for `j < k`, so that a uniform 64-bit
/// `x` loses `L = #{j : x >= C_j}` exchanges. The high word of `x` is drawn
/// first and decides alone unless it equals the high half of some `C_j`
/// (probability at most `k · 2^-32`), when the low word is drawn too. Each
/// count's probability is thus exact to within `2^-64`.
pub(super) struct LossTable {
    fewest: u32,
    /// By `k - fewest`.
    by_exchanges: Vec<Thresholds>,
}

/// The `C_j` of one `k`, split in high and low halves, and a guide to them.
struct Thresholds {
    high: Vec<u32>,
    low: Vec<u32>,
    /// By the top [`GUIDE_BITS`] of the high word: the count `L` when every
    /// word with those bits gives the same one, else [`SEARCH`].
    guide: Box<[u8; GUIDE]>,
}

/// Bits of the high word that index a guide, and its entries.
const GUIDE_BITS: u32 = 10;
const GUIDE: usize = 1 << GUIDE_BITS;

/// A guide entry whose words need the thresholds.
const SEARCH: u8 = u8::MAX;

impl Thresholds {
    fn new(k: u32, loss: f64) -> Self {
        let terms = pmf::binomial(u64::from(k), loss, 1.0 - loss);
        // P(L > j) summed from the top, so small tails keep their digits.
        let mut tails = vec![0.0; k as usize];
        let mut tail = 0.0;
        for j in (0..k as usize).rev() {
            tail += terms[j + 1];
            tails[j] = tail;
        }
        let scale = |p: f64| (p * 2f64.powi(64)).round() as u128;
        let (mut high, mut low) = (Vec::new(), Vec::new());
        let (mut head, mut previous) = (0.0, 0u64);
        for j in 0..k as usize {
            head += terms[j];
            let c = if head <= 0.5 {
                scale(head)
            } else {
                (1u128 << 64).saturating_sub(scale(tails[j]))
            };
            let c = (c.min(u128::from(u64::MAX)) as u64).max(previous);
            previous = c;
            high.push((c >> 32) as u32);
            low.push(c as u32);
        }
        // Words from `b << shift` to `((b + 1) << shift) - 1` share guide
        // entry `b`: one count if no threshold's high half is among them.
        let shift = 32 - GUIDE_BITS;
        let mut guide = Box::new([SEARCH; GUIDE]);
        for (b, entry) in guide.iter_mut().enumerate() {
            let first = (b as u32) << shift;
            let last = first | ((1 << shift) - 1);
            let below = high.partition_point(|&h| h < first);
            let inside = high[below..].first().is_some_and(|&h| h <= last);
            if !inside && below < usize::from(SEARCH) {
                *entry = below as u8;
            }
        }
        Thresholds { high, low, guide }
    }

    /// How many exchanges are lost, given the high word `high` already
    /// drawn: from the guide, or from the thresholds.
    #[inline(always)]
    fn lost(&self, high: u32, rng: &mut impl RngCore) -> u32 {
        match self.guide[(high >> (32 - GUIDE_BITS)) as usize] {
            SEARCH => self.search(high, rng),
            lost => u32::from(lost),
        }
    }

    /// [`Self::lost`] for a word the guide leaves to the thresholds; when
    /// the word equals the high half of some, the low word decides.
    #[cold]
    #[inline(never)]
    fn search(&self, high: u32, rng: &mut impl RngCore) -> u32 {
        let below = self.high.partition_point(|&h| h < high);
        let ties = self.high[below..]
            .iter()
            .take_while(|&&h| h == high)
            .count();
        if ties == 0 {
            return below as u32;
        }
        let low = rng.next_u32();
        let reached = self.low[below..below + ties]
            .iter()
            .filter(|&&l| l <= low)
            .count();
        (below + reached) as u32
    }
}

impl LossTable {
    pub fn new(loss: f64, exchanges: std::ops::RangeInclusive<u32>) -> Self {
        LossTable {
            fewest: *exchanges.start(),
            by_exchanges: exchanges.map(|k| Thresholds::new(k, loss)).collect(),
        }
    }

    /// How many of `k` exchanges are lost (`k` must be one the table was
    /// made for).
    #[inline(always)]
    pub fn lost(&self, k: u32, rng: &mut impl RngCore) -> u32 {
        let high = rng.next_u32();
        self.by_exchanges[(k - self.fewest) as usize].lost(high, rng)
    }
}

/// Most candidates an agent may have for its peers to be drawn from a
/// [`SubsetTable`] (candidate numbers are held as bytes).
pub const MAX_TABLE_DEGREE: u32 = 255;

/// Most ways to choose that a [`SubsetTable`] lists: choosing 5 of 15
/// neighbours (3,003 ways) is tabled, 5 of 16 (4,368) is not.
pub const MAX_TABLE_WAYS: u64 = 4096;

/// Every way to choose `m` of `d` candidates, for one `(d, m)`: one uniform
/// draw among them picks an agent's peers.
struct SubsetTable {
    m: usize,
    ways: UniformCandidate,
    /// Way `w` is candidates `picks[w*m..(w+1)*m]`, in lexicographic order
    /// of ways.
    picks: Vec<u8>,
}

impl SubsetTable {
    fn new(d: u32, m: usize, ways: u64) -> Self {
        let mut picks = Vec::with_capacity(ways as usize * m);
        let mut way: Vec<u8> = (0..m as u8).collect();
        loop {
            picks.extend_from_slice(&way);
            // The last entry that can still grow, then the smallest after it.
            let Some(i) = (0..m)
                .rev()
                .find(|&i| u32::from(way[i]) < d - (m - i) as u32)
            else {
                break;
            };
            way[i] += 1;
            for j in i + 1..m {
                way[j] = way[j - 1] + 1;
            }
        }
        debug_assert_eq!(picks.len() as u64, ways * m as u64);
        SubsetTable {
            m,
            ways: UniformCandidate::new(ways as u32),
            picks,
        }
    }

    /// Draws one way, uniformly.
    #[inline(always)]
    fn draw(&self, rng: &mut impl Rng) -> &[u8] {
        let w = self.ways.draw(rng) as usize;
        &self.picks[w * self.m..(w + 1) * self.m]
    }
}

/// The [`SubsetTable`]s of a graph: for each neighbour count `d` up to
/// [`MAX_TABLE_DEGREE`] some agent has, and each `m` from 1 to
/// `min(fanout, d - 1)`, when there are at most [`MAX_TABLE_WAYS`] ways.
#[derive(Default)]
struct SubsetTables {
    /// By `d`, then by `m`.
    by_degree: Vec<Vec<Option<SubsetTable>>>,
}

impl SubsetTables {
    fn new(degrees: &BTreeSet<u32>, fanout: u32) -> Self {
        let Some(&largest) = degrees.last() else {
            return SubsetTables::default();
        };
        let mut by_degree: Vec<Vec<Option<SubsetTable>>> =
            (0..=largest).map(|_| Vec::new()).collect();
        for &d in degrees {
            let most = fanout.min(d.saturating_sub(1)) as usize;
            by_degree[d as usize] = (0..=most)
                .map(|m| {
                    let ways = ways_to_choose(d, m as u32)?;
                    (m > 0).then(|| SubsetTable::new(d, m, ways))
                })
                .collect();
        }
        SubsetTables { by_degree }
    }

    /// The table for choosing `m` of `d`, if there is one.
    #[inline(always)]
    fn get(&self, d: u32, m: usize) -> Option<&SubsetTable> {
        self.by_degree.get(d as usize)?.get(m)?.as_ref()
    }
}

/// `C(d, m)`, when it is at most [`MAX_TABLE_WAYS`].
fn ways_to_choose(d: u32, m: u32) -> Option<u64> {
    let m = m.min(d - m);
    let mut ways = 1u64;
    for i in 0..u64::from(m) {
        // Exact at every step: C(d, i+1) = C(d, i) · (d - i) / (i + 1).
        ways = ways * (u64::from(d) - i) / (i + 1);
        if ways > MAX_TABLE_WAYS {
            return None;
        }
    }
    Some(ways)
}

/// Draws each round's peers of an agent: `k = min(fanout, candidates)`
/// exchanges, less those lost, with distinct candidates chosen uniformly.
pub(super) struct PeerSampler<'a, C> {
    candidates: &'a C,
    fanout: u32,
    tables: &'a Tables,
    /// The uniform draw over the last candidate count (rebuilt only when the
    /// count changes, which it never does on a complete network).
    uniform: Option<UniformCandidate>,
    /// The agent number that stands for no peer.
    nobody: u32,
}

impl<'a, C: Candidates> PeerSampler<'a, C> {
    pub fn new(candidates: &'a C, fanout: u32, tables: &'a Tables, nobody: u32) -> Self {
        PeerSampler {
            nobody,
            candidates,
            fanout,
            tables,
            uniform: None,
        }
    }

    /// Draws agent `me`'s exchanges for one round: how many are lost, and
    /// the peers of the others, written to the start of `peers` (at least
    /// `min(fanout, most candidates)` long, filled up with nobody) and
    /// counted. Returns (lost,
    /// peers). `LOSSY` must say whether the run loses exchanges: known at
    /// compile time, the usual run without loss draws a fixed number of
    /// peers, and its loop is made for that.
    // Inlined into the round loop: measurably faster with 10^6 agents.
    #[inline(always)]
    pub fn sample<const LOSSY: bool>(
        &mut self,
        me: u32,
        rng: &mut ReadAhead,
        peers: &mut [u32],
    ) -> (u32, usize) {
        let (count, agent) = self.candidates.of(me);
        let k = self.fanout.min(count);
        if k == 0 {
            peers.fill(self.nobody);
            return (0, 0);
        }
        let lost = match &self.tables.losses {
            Some(losses) if LOSSY => losses.lost(k, rng),
            _ => 0,
        };
        let m = (k - lost) as usize;
        let k = k as usize;
        self.choose(count, k, m, agent, rng, peers);
        peers[k..].fill(self.nobody);
        (lost, m)
    }

    /// Writes `agent(c)` for `m` distinct candidates `c` in `0..count`,
    /// uniformly, to the start of `peers` (`m <= k = min(fanout, count)`),
    /// and `nobody` in the next `k - m` slots:
    /// - by one draw among the ways of a [`SubsetTable`] when the network
    ///   has one for `(count, m)`;
    /// - else, when `2k <= count`, by drawing `k` distinct candidates,
    ///   redrawing repeats, and keeping the first `m` (the order of the
    ///   draws favours none, so that is a uniform choice of `m`);
    /// - else in order with no draw when every candidate is wanted;
    /// - else by Floyd's algorithm.
    #[inline(always)]
    fn choose(
        &mut self,
        count: u32,
        k: usize,
        m: usize,
        agent: impl Fn(u32) -> u32,
        rng: &mut ReadAhead,
        peers: &mut [u32],
    ) {
        let table = if C::TABLED {
            self.tables.subsets.get(count, m)
        } else {
            None
        };
        if let Some(table) = table {
            for (slot, &c) in peers.iter_mut().zip(table.draw(rng)) {
                *slot = agent(u32::from(c));
            }
            peers[m..k].fill(self.nobody);
        } else if 2 * k <= count as usize {
            let uniform = match self.uniform {
                Some(u) if u.count == count => u,
                _ => {
                    let u = UniformCandidate::new(count);
                    self.uniform = Some(u);
                    u
                }
            };
            // All `k` peers are drawn, in an order that favours none, and
            // the first `m` heard. A number of exchanges known at compile
            // time unrolls the draws, the repeat check and the cut.
            macro_rules! unrolled {
                ($k:literal) => {{ draw_distinct::<$k>(peers, m, self.nobody, rng, &uniform, agent) }};
            }
            match k {
                1 => unrolled!(1),
                2 => unrolled!(2),
                3 => unrolled!(3),
                4 => unrolled!(4),
                5 => unrolled!(5),
                6 => unrolled!(6),
                7 => unrolled!(7),
                8 => unrolled!(8),
                _ => {
                    draw_distinct_any(&mut peers[..k], || agent(uniform.draw(rng)));
                    peers[m..k].fill(self.nobody);
                }
            }
        } else if m == count as usize {
            for (c, slot) in peers[..m].iter_mut().enumerate() {
                *slot = agent(c as u32);
            }
        } else {
            let count = count as usize;
            for (chosen, j) in (count - m..count).enumerate() {
                let t = agent(rng.random_range(0..=j as u32));
                peers[chosen] = if peers[..chosen].contains(&t) {
                    agent(j as u32)
                } else {
                    t
                };
            }
            peers[m..k].fill(self.nobody);
        }
    }
}

/// A uniform draw of one of `count` candidates, exactly as `rand`'s
/// `Uniform` makes it, which can also turn several words of the stream
/// into draws at once.
#[derive(Clone, Copy)]
struct UniformCandidate {
    count: u32,
    uniform: Uniform<u32>,
    /// `Uniform`'s rejection zone (rand 0.9, Lemire's method): a word `w`
    /// gives candidate `(w·count) >> 32` unless the low half of `w·count`
    /// is below this, when `Uniform` takes the next word instead.
    reject_below: u32,
}

impl UniformCandidate {
    fn new(count: u32) -> Self {
        UniformCandidate {
            count,
            uniform: Uniform::new(0, count).expect("count > 0"),
            reject_below: count.wrapping_neg() % count,
        }
    }

    /// One draw.
    #[inline(always)]
    fn draw(&self, rng: &mut impl Rng) -> u32 {
        self.uniform.sample(rng)
    }

    /// The draws these words give, when `Uniform` would take each of them:
    /// the same values, in order, as `K` calls of [`Self::draw`] reading
    /// them. `None` if any word is rejected.
    #[inline(always)]
    fn draws_from<const K: usize>(&self, words: [u32; K]) -> Option<[u32; K]> {
        let mut taken = true;
        let drawn = words.map(|word| {
            let product = u64::from(word) * u64::from(self.count);
            taken &= product as u32 >= self.reject_below;
            (product >> 32) as u32
        });
        taken.then_some(drawn)
    }
}

/// Draws `K` distinct candidates `agent(c)`, `c` drawn by `uniform`,
/// redrawing each repeat, and writes the first `heard` of them to `peers`
/// (at least `K` long) and `nobody` to the next `K - heard` slots. The usual
/// case among many candidates, `K` words in the buffer that give `K`
/// distinct candidates, is drawn and written in one go without branches;
/// otherwise the draws are made one by one. Both read the same words and
/// give the same peers.
#[inline(always)]
fn draw_distinct<const K: usize>(
    peers: &mut [u32],
    heard: usize,
    nobody: u32,
    rng: &mut ReadAhead,
    uniform: &UniformCandidate,
    agent: impl Fn(u32) -> u32,
) {
    let peers: &mut [u32; K] = (&mut peers[..K]).try_into().expect("K peers");
    // Among fewer candidates repeats are common, and drawing one by one
    // from the start again would cost more than the batch saves.
    let repeats_rare = uniform.count as usize >= 8 * K * K;
    if let Some(drawn) = Some(())
        .filter(|_| repeats_rare)
        .and_then(|()| uniform.draws_from(rng.peek::<K>()))
    {
        let drawn = drawn.map(&agent);
        let mut repeat = false;
        for j in 1..K {
            for i in 0..j {
                repeat |= drawn[i] == drawn[j];
            }
        }
        if !repeat {
            // Cut in registers, before the one store of the row.
            *peers = std::array::from_fn(|i| hear(i < heard, drawn[i], nobody));
            rng.skip(K);
            return;
        }
    }
    draw_distinct_any(peers, || agent(uniform.draw(rng)));
    peers[heard..].fill(nobody);
}

/// `peer` if `heard`, else `nobody`, without a branch.
#[inline(always)]
fn hear(heard: bool, peer: u32, nobody: u32) -> u32 {
    let keep = u32::from(heard).wrapping_neg();
    (peer & keep) | (nobody & !keep)
}

/// Fills `peers` with distinct values from `draw`, one by one, redrawing
/// each repeat.
fn draw_distinct_any(peers: &mut [u32], mut draw: impl FnMut() -> u32) {
    let mut chosen = 0;
    while chosen < peers.len() {
        let peer = draw();
        if !peers[..chosen].contains(&peer) {
            peers[chosen] = peer;
            chosen += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::RngCore;

    use super::*;
    use crate::consensus::topology;
    use crate::rng::{READ_AHEAD_WORDS, SimRng, generator};

    use crate::consensus::gossip::chi_square::chi_square_p;

    /// What stands for no peer in these tests.
    const NOBODY: u32 = u32::MAX;

    /// The tables of a run on `candidates` of `agents` agents.
    fn tables(candidates: &impl Candidates, agents: u32, fanout: u32, loss: f64) -> Tables {
        Tables::new(&candidates.sizes(agents), fanout, loss)
    }

    /// Agent `me`'s peers for one round, without loss.
    fn peers_of(
        sampler: &mut PeerSampler<impl Candidates>,
        me: u32,
        rng: &mut ReadAhead,
    ) -> Vec<u32> {
        let mut row = vec![0; 64];
        let (lost, k) = sampler.sample::<false>(me, rng, &mut row);
        assert_eq!(lost, 0);
        assert!(row[k..].iter().all(|&p| p == NOBODY), "{row:?}");
        row.truncate(k);
        row
    }

    /// Agent `me`'s exchanges for one round: lost, and the peers heard.
    fn exchanges_of(
        sampler: &mut PeerSampler<impl Candidates>,
        me: u32,
        rng: &mut ReadAhead,
    ) -> (u32, Vec<u32>) {
        let mut row = vec![0; 64];
        let (lost, heard) = sampler.sample::<true>(me, rng, &mut row);
        assert!(row[heard..].iter().all(|&p| p == NOBODY), "{row:?}");
        row.truncate(heard);
        (lost, row)
    }

    #[test]
    fn words_give_the_candidates_uniform_draws_from_them() {
        // Counts near 2^31 reject about half the words.
        for count in [
            1,
            2,
            3,
            7,
            1000,
            999_983,
            (1 << 31) + 1,
            u32::MAX - 1,
            u32::MAX,
        ] {
            let uniform = UniformCandidate::new(count);
            let (mut taken, mut rejected) = (0, 0);
            for seed in 0..200 {
                let mut words = generator(seed);
                let batch: [u32; 4] = std::array::from_fn(|_| words.next_u32());
                let mut one_by_one = generator(seed);
                let drawn: Vec<u32> = (0..4).map(|_| uniform.draw(&mut one_by_one)).collect();
                assert!(drawn.iter().all(|&c| c < count));
                match uniform.draws_from(batch) {
                    Some(batch_drawn) => {
                        taken += 1;
                        assert_eq!(batch_drawn.to_vec(), drawn, "count {count} seed {seed}");
                        // Uniform read exactly these four words.
                        assert_eq!(one_by_one.next_u32(), words.next_u32());
                    }
                    None => rejected += 1,
                }
            }
            assert!(taken > 0, "count {count}");
            if count == (1 << 31) + 1 {
                assert!(rejected > 100, "{rejected} of 200 batches rejected");
            }
        }
    }

    #[test]
    fn batch_draws_give_the_one_by_one_peers() {
        // The batch is tried from 128 candidates for 4 peers; there a
        // repeat spoils about 1 batch in 40, and near 2^31 candidates a
        // rejected word about 15 in 16. 9 candidates: one by one only.
        for count in [9, 128, 200, 1 << 20, (1 << 31) + 1] {
            let uniform = UniformCandidate::new(count);
            let agent = |c: u32| c + 7;
            let (mut fast_generator, mut fast_words) = (generator(3), [0; READ_AHEAD_WORDS]);
            let mut fast = ReadAhead::new(&mut fast_generator, &mut fast_words);
            let (mut slow_generator, mut slow_words) = (generator(3), [0; READ_AHEAD_WORDS]);
            let mut slow = ReadAhead::new(&mut slow_generator, &mut slow_words);
            for _ in 0..2_000 {
                let (mut a, mut b) = ([0; 4], [0; 4]);
                draw_distinct::<4>(&mut a, 4, NOBODY, &mut fast, &uniform, agent);
                draw_distinct_any(&mut b, || agent(uniform.draw(&mut slow)));
                assert_eq!(a, b, "count {count}");
                let mut distinct = a.to_vec();
                distinct.sort_unstable();
                distinct.dedup();
                assert_eq!(distinct.len(), 4);
            }
            assert_eq!(fast.next_u64(), slow.next_u64(), "same words read");
        }
    }

    #[test]
    fn every_fanout_samples_the_peers_of_one_by_one_draws() {
        // The reference: one `Uniform` draw per peer, a repeat drawn again,
        // read straight from the generator.
        for fanout in 1..=10u32 {
            // From the fewest candidates that redraw (2·fanout) to many.
            for n in [
                2 * fanout + 1,
                8 * fanout * fanout + 1,
                1000,
                1 << 20,
                (1 << 31) + 2,
            ] {
                let everyone = Everyone(n);
                let no_loss = tables(&everyone, n, fanout, 0.0);
                let mut sampler = PeerSampler::new(&everyone, fanout, &no_loss, NOBODY);
                let (mut generator13, mut words) = (generator(13), [0; READ_AHEAD_WORDS]);
                let mut rng = ReadAhead::new(&mut generator13, &mut words);
                let mut reference = generator(13);
                let uniform = Uniform::new(0, n - 1).unwrap();
                for me in (0..300).map(|i| (u64::from(n) * i / 300) as u32) {
                    let mut expected = Vec::new();
                    while expected.len() < fanout as usize {
                        let c = uniform.sample(&mut reference);
                        let peer = if c < me { c } else { c + 1 };
                        if !expected.contains(&peer) {
                            expected.push(peer);
                        }
                    }
                    let peers = peers_of(&mut sampler, me, &mut rng);
                    assert_eq!(peers, expected, "fanout {fanout}, {n} agents, agent {me}");
                }
            }
        }
    }

    #[test]
    fn peers_are_distinct_and_never_the_agent_itself() {
        let (mut generator, mut words) = (generator(5), [0; READ_AHEAD_WORDS]);
        let mut rng = ReadAhead::new(&mut generator, &mut words);
        for (n, fanout) in [(20, 5), (6, 5), (6, 9), (2, 1), (1000, 40), (1000, 8)] {
            let everyone = Everyone(n);
            let no_loss = tables(&everyone, n, fanout, 0.0);
            let mut sampler = PeerSampler::new(&everyone, fanout, &no_loss, NOBODY);
            for me in 0..n {
                let mut peers = peers_of(&mut sampler, me, &mut rng);
                assert_eq!(peers.len() as u32, fanout.min(n - 1));
                assert!(peers.iter().all(|&p| p != me && p < n));
                peers.sort_unstable();
                peers.dedup();
                assert_eq!(peers.len() as u32, fanout.min(n - 1));
            }
        }
    }

    #[test]
    fn peer_sampling_is_uniform() {
        // 10 agents, fanout 3: each of the 9 candidates of agent 0 is chosen
        // with probability 1/3; over 30,000 draws expect 10,000 each.
        let (mut generator, mut words) = (generator(11), [0; READ_AHEAD_WORDS]);
        let mut rng = ReadAhead::new(&mut generator, &mut words);
        let no_loss = tables(&Everyone(10), 10, 3, 0.0);
        let mut sampler = PeerSampler::new(&Everyone(10), 3, &no_loss, NOBODY);
        let mut hits = [0u32; 10];
        for _ in 0..30_000 {
            for p in peers_of(&mut sampler, 0, &mut rng) {
                hits[p as usize] += 1;
            }
        }
        assert_eq!(hits[0], 0);
        for &h in &hits[1..] {
            // Standard deviation is about 82; allow 5 of them.
            assert!((9_590..=10_410).contains(&h), "{hits:?}");
        }
    }

    #[test]
    fn the_implicit_ring_has_the_ring_graphs_neighbours() {
        for n in [3, 4, 5, 8, 11, 100] {
            for degree in (2..n).step_by(2) {
                let ring = Ring {
                    agents: n,
                    half: degree / 2,
                };
                let graph = topology::ring(n, degree);
                for me in 0..n {
                    let (count, agent) = ring.of(me);
                    let mut neighbours: Vec<u32> = (0..count).map(agent).collect();
                    neighbours.sort_unstable();
                    let mut expected = graph.neighbours(me).to_vec();
                    expected.sort_unstable();
                    assert_eq!(
                        neighbours, expected,
                        "{n} agents, degree {degree}, agent {me}"
                    );
                }
            }
        }
    }

    #[test]
    fn peers_come_from_the_neighbours_only() {
        for (ring, neighbours) in [
            (
                Ring {
                    agents: 12,
                    half: 2,
                },
                [10, 11, 1, 2],
            ),
            (
                Ring {
                    agents: 12,
                    half: 2,
                },
                [3, 4, 6, 7],
            ),
        ] {
            let me = if neighbours[0] == 10 { 0 } else { 5 };
            let no_loss = tables(&ring, 12, 3, 0.0);
            let mut sampler = PeerSampler::new(&ring, 3, &no_loss, NOBODY);
            let (mut generator6, mut words) = (generator(6), [0; READ_AHEAD_WORDS]);
            let mut rng = ReadAhead::new(&mut generator6, &mut words);
            for _ in 0..100 {
                let mut peers = peers_of(&mut sampler, me, &mut rng);
                peers.sort_unstable();
                peers.dedup();
                assert_eq!(peers.len(), 3);
                assert!(peers.iter().all(|p| neighbours.contains(p)), "{peers:?}");
            }
            // Fanout at least the degree: every neighbour, in order, no draw.
            let no_loss = tables(&ring, 12, 9, 0.0);
            let mut sampler = PeerSampler::new(&ring, 9, &no_loss, NOBODY);
            let mut generator6 = generator(6);
            let mut rng = ReadAhead::new(&mut generator6, &mut words);
            assert_eq!(peers_of(&mut sampler, me, &mut rng), neighbours);
            assert_eq!(generator6.next_u64(), generator(6).next_u64());
        }
    }

    #[test]
    fn neighbour_sampling_is_uniform() {
        // Each of agent 0's 6 ring neighbours is chosen with probability
        // 2/6; over 30,000 draws expect 10,000 each (deviation ~82).
        let ring = Ring {
            agents: 20,
            half: 3,
        };
        let no_loss = tables(&ring, 20, 2, 0.0);
        let mut sampler = PeerSampler::new(&ring, 2, &no_loss, NOBODY);
        let (mut generator, mut words) = (generator(12), [0; READ_AHEAD_WORDS]);
        let mut rng = ReadAhead::new(&mut generator, &mut words);
        let mut hits = [0u32; 20];
        for _ in 0..30_000 {
            for p in peers_of(&mut sampler, 0, &mut rng) {
                hits[p as usize] += 1;
            }
        }
        for (agent, &h) in hits.iter().enumerate() {
            if [1, 2, 3, 17, 18, 19].contains(&agent) {
                assert!((9_590..=10_410).contains(&h), "{hits:?}");
            } else {
                assert_eq!(h, 0, "{hits:?}");
            }
        }
    }

    /// A generator that gives these words, then panics.
    struct Words(Vec<u32>);

    impl RngCore for Words {
        fn next_u32(&mut self) -> u32 {
            self.0.remove(0)
        }
        fn next_u64(&mut self) -> u64 {
            unreachable!("losses are drawn a word at a time")
        }
        fn fill_bytes(&mut self, _: &mut [u8]) {
            unreachable!("losses are drawn a word at a time")
        }
    }

    #[test]
    fn loss_thresholds_are_the_binomial_law_scaled_to_64_bits() {
        // Two exchanges at loss 1/2: P(L <= 0) = 1/4, P(L <= 1) = 3/4.
        let t = Thresholds::new(2, 0.5);
        assert_eq!(
            (t.high.as_slice(), t.low.as_slice()),
            (&[1 << 30, 3 << 30][..], &[0, 0][..])
        );
        // Words below, at and above each threshold; a word equal to a
        // threshold's high half draws the low word too.
        let lost = |words: &[u32]| {
            let mut rng = Words(words.to_vec());
            let high = rng.next_u32();
            let lost = t.lost(high, &mut rng);
            assert!(rng.0.is_empty(), "every word given was drawn: {words:?}");
            lost
        };
        assert_eq!(lost(&[0]), 0);
        assert_eq!(lost(&[(1 << 30) - 1]), 0);
        assert_eq!(lost(&[1 << 30, 0]), 1, "x = C_0 is not below C_0");
        assert_eq!(lost(&[(1 << 30) + 1]), 1);
        assert_eq!(lost(&[(3 << 30) - 1]), 1);
        assert_eq!(lost(&[3 << 30, 0]), 2);
        assert_eq!(lost(&[u32::MAX]), 2);
        // A threshold with a low half: one exchange at loss 0.3 has
        // C_0 = (1 - 0.3) · 2^64 (0.3 as the f64 given), to the rounding of
        // the terms (a few units in the 53rd bit); the low word decides at
        // its high half.
        let t = Thresholds::new(1, 0.3);
        let exact = (1u128 << 64) - (0.3 * 2f64.powi(64)) as u128;
        let c = (u128::from(t.high[0]) << 32) | u128::from(t.low[0]);
        assert!(c.abs_diff(exact) < 1 << 14, "{c} against {exact}");
        let mut rng = Words(vec![t.low[0] - 1]);
        assert_eq!(t.lost(t.high[0], &mut rng), 0);
        let mut rng = Words(vec![t.low[0]]);
        assert_eq!(t.lost(t.high[0], &mut rng), 1);
        // No loss can be drawn at loss 0 but one in 2^64; every exchange is
        // lost at loss 1.
        assert_eq!(Thresholds::new(3, 0.0).high, [u32::MAX; 3]);
        assert_eq!(Thresholds::new(3, 1.0).high, [0; 3]);
    }

    /// Numbers of exchanges and losses the loss law is tested at: one
    /// exchange, the usual fanout, past the unrolled widths, near 0 and 1.
    const LOSS_CASES: [(u32, f64); 7] = [
        (1, 0.3),
        (5, 0.1),
        (5, 0.5),
        (8, 0.9),
        (20, 0.25),
        (300, 0.5),
        (3, 1e-6),
    ];

    #[test]
    fn the_guide_gives_what_the_thresholds_give() {
        for (k, loss) in LOSS_CASES {
            let t = Thresholds::new(k, loss);
            let searched = t.guide.iter().filter(|&&g| g == SEARCH).count();
            assert!(
                searched <= k as usize,
                "{searched} of {GUIDE} entries search"
            );
            for b in 0..GUIDE as u32 {
                // The first and last words of the entry, and one between.
                for high in [b << 22, (b << 22) | 0x1f_ffff, (b << 22) | 0x3f_ffff] {
                    let below = t.high.partition_point(|&h| h < high) as u32;
                    let mut rng = Words(vec![u32::MAX; 2]);
                    let lost = t.lost(high, &mut rng);
                    if !t.high.contains(&high) {
                        assert_eq!(lost, below, "k {k}, loss {loss}, word {high:#x}");
                    }
                }
            }
        }
    }

    /// Draws `count` losses of `k` exchanges and tests them against
    /// Binomial(`k`, `loss`): the chi-square p-value.
    fn loss_law_p(k: u32, loss: f64, count: u64, seed: u64) -> f64 {
        let table = LossTable::new(loss, k..=k);
        let mut rng: SimRng = generator(seed);
        let mut observed = vec![0u64; k as usize + 1];
        for _ in 0..count {
            observed[table.lost(k, &mut rng) as usize] += 1;
        }
        let expected: Vec<f64> = pmf::binomial(u64::from(k), loss, 1.0 - loss)
            .iter()
            .map(|p| p * count as f64)
            .collect();
        chi_square_p(&observed, &expected)
    }

    #[test]
    fn lost_exchanges_follow_the_binomial_law() {
        for (k, loss) in LOSS_CASES {
            let p = loss_law_p(k, loss, 200_000, 7);
            assert!(p > 0.001, "k {k}, loss {loss}: chi-square p = {p}");
        }
    }

    /// Draws agent 0's exchanges `rounds` times with loss and returns, for
    /// each number heard, how often each set of peers was heard.
    fn heard_sets(
        candidates: &impl Candidates,
        agents: u32,
        fanout: u32,
        loss: f64,
        rounds: usize,
    ) -> Vec<std::collections::BTreeMap<Vec<u32>, u64>> {
        let lossy = tables(candidates, agents, fanout, loss);
        let mut sampler = PeerSampler::new(candidates, fanout, &lossy, NOBODY);
        let (mut generator, mut words) = (generator(21), [0; READ_AHEAD_WORDS]);
        let mut rng = ReadAhead::new(&mut generator, &mut words);
        let mut sets = vec![std::collections::BTreeMap::new(); fanout as usize + 1];
        for _ in 0..rounds {
            let (lost, mut heard) = exchanges_of(&mut sampler, 0, &mut rng);
            assert_eq!(lost as usize + heard.len(), fanout as usize);
            heard.sort_unstable();
            let before = heard.len();
            heard.dedup();
            assert_eq!(heard.len(), before, "distinct peers");
            *sets[heard.len()].entry(heard).or_insert(0) += 1;
        }
        sets
    }

    /// Tests heard sets against the one-by-one law: `k` distinct peers drawn
    /// uniformly among `candidates`, each exchange then lost independently,
    /// so `m` are heard with probability Binomial(`k`, 1 - loss) and each
    /// of the `C(candidates, m)` sets of `m` as likely as any other.
    fn assert_one_by_one_law(
        sets: &[std::collections::BTreeMap<Vec<u32>, u64>],
        candidates: u32,
        loss: f64,
        what: &str,
    ) {
        let k = sets.len() - 1;
        let rounds: u64 = sets.iter().flat_map(|s| s.values()).sum();
        let heard_law = pmf::binomial(k as u64, 1.0 - loss, loss);
        let observed: Vec<u64> = sets.iter().map(|s| s.values().sum()).collect();
        let expected: Vec<f64> = heard_law.iter().map(|p| p * rounds as f64).collect();
        let p = chi_square_p(&observed, &expected);
        assert!(p > 0.001, "{what}: how many heard, p = {p}");
        for (m, set) in sets.iter().enumerate() {
            let ways = (0..m as u64).fold(1, |w, i| w * (u64::from(candidates) - i) / (i + 1));
            let ways = ways as usize;
            let total: u64 = set.values().sum();
            if total as f64 / ways as f64 > 30.0 {
                assert_eq!(set.len(), ways, "{what}: every set of {m} seen");
            }
            // Sets never seen count as seen 0 times.
            let mut observed: Vec<u64> = set.values().copied().collect();
            observed.resize(ways, 0);
            let expected = vec![total as f64 / ways as f64; ways];
            let p = chi_square_p(&observed, &expected);
            assert!(p > 0.001, "{what}: sets of {m}, p = {p}");
        }
    }

    #[test]
    fn heard_peers_follow_the_one_by_one_law_on_every_path() {
        // Redraws, keeping the first drawn: 2 of 40 candidates in batches,
        // 3 of 20 one by one.
        let sets = heard_sets(&Everyone(41), 41, 2, 0.4, 100_000);
        assert_one_by_one_law(&sets, 40, 0.4, "complete, 40 candidates");
        let sets = heard_sets(&Everyone(21), 21, 3, 0.4, 100_000);
        assert_one_by_one_law(&sets, 20, 0.4, "complete, 20 candidates");
        // A subset table: 3 of a ring's 6 neighbours.
        let ring = Ring {
            agents: 20,
            half: 3,
        };
        let sets = heard_sets(&ring, 20, 3, 0.3, 100_000);
        assert_one_by_one_law(&sets, 6, 0.3, "ring, 6 neighbours");
        // Floyd's algorithm: 4 of 5 candidates; and every candidate.
        let sets = heard_sets(&Everyone(6), 6, 4, 0.5, 100_000);
        assert_one_by_one_law(&sets, 5, 0.5, "complete, 5 candidates");
        let sets = heard_sets(&Everyone(6), 6, 5, 0.2, 100_000);
        assert_one_by_one_law(&sets, 5, 0.2, "complete, every candidate");
    }

    #[test]
    fn subset_tables_list_every_way_once() {
        for (d, m) in [(6, 1), (6, 3), (10, 5), (15, 5), (255, 1), (91, 2)] {
            let ways = ways_to_choose(d, m).unwrap();
            let table = SubsetTable::new(d, m as usize, ways);
            let mut seen = BTreeSet::new();
            for way in table.picks.chunks_exact(m as usize) {
                assert!(way.windows(2).all(|w| w[0] < w[1]), "{way:?}");
                assert!(way.iter().all(|&c| u32::from(c) < d));
                assert!(seen.insert(way.to_vec()), "{way:?} twice");
            }
            assert_eq!(seen.len() as u64, ways);
        }
        assert_eq!(ways_to_choose(15, 5), Some(3003));
        assert_eq!(ways_to_choose(16, 5), None, "4,368 ways are not listed");
        assert_eq!(ways_to_choose(100, 99), Some(100));
        // A complete network has no tables; a ring of degree 10 has one per
        // number of peers from 1 to the fanout.
        let complete = tables(&Everyone(1000), 1000, 5, 0.1);
        assert!(complete.subsets.by_degree.is_empty());
        let ring = Ring {
            agents: 1000,
            half: 5,
        };
        let ring_tables = tables(&ring, 1000, 5, 0.1);
        let listed: Vec<usize> = (0..=5)
            .filter(|&m| ring_tables.subsets.get(10, m).is_some())
            .collect();
        assert_eq!(listed, [1, 2, 3, 4, 5]);
    }
}

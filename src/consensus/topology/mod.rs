//! Network topologies for gossip: which agents can reach which.
//!
//! On the complete network any agent may ask any other; real swarms talk over
//! sparser networks, and how those are wired changes how fast (and whether)
//! a majority spreads. This module builds such networks as undirected simple
//! graphs (no self loops, no duplicate edges) on agents `0..n`, once per run,
//! drawing from the run's generator. The complete network and the ring are
//! never built: the gossip engine computes an agent's candidates from its
//! number (the ring is built here only for tests to check that against).
//!
//! - **ring** (degree `k`, even): agent `i` is linked to the `k/2` nearest
//!   agents on each side, `i±1` … `i±k/2` modulo `n`. No draws.
//! - **small-world** (Watts–Strogatz, degree `k` even, rewiring probability
//!   `p`): the ring of degree `k`, then for each offset `j = 1..=k/2` and, in
//!   that loop, each agent `u = 0..n`, the ring edge `u — u+j` is rewired with
//!   probability `p` to `u — w`, `w` uniform among the agents that are not `u`
//!   and not yet linked to `u` (drawn by rejection among the `n-1` others; an
//!   agent already linked to everyone keeps its edge). The edges are taken in
//!   that order, numbered `e = (j-1)*n + u`, and the rewired ones are found
//!   by drawing the gap to the next one: a geometric number of edges kept,
//!   `⌊ln U / ln(1-p)⌋` with `U = 1 - x` for one `f64` draw `x` (so `U` is in
//!   `(0, 1]`), which is `g` with probability `(1-p)^g p`, exactly the law of
//!   flipping a `p`-coin per edge up to the `f64` resolution. Draws, in
//!   order: one `f64` per edge taken and one more for the gap that runs past
//!   the last edge, each taken edge's gap followed by the draws for its `w`
//!   (none when its agent is already linked to everyone); no gap draws when
//!   `p` is 1 (every edge is taken) and nothing at all when `p` is 0, which
//!   gives the ring. The graph keeps `n*k/2` edges; degrees vary but stay
//!   at least `k/2`.
//! - **random-regular** (degree `k`, `n*k` even): every agent has exactly `k`
//!   neighbours. Built with the pairing (configuration) model: `k` slots per
//!   agent, `N = n*k` in all, are matched uniformly at random: going through
//!   the slots `s = 0..N` in order, each slot not yet matched is matched to
//!   slot `t`, drawn uniformly in `s+1..N` again and again until it is one
//!   not yet matched (about `N` draws in all), which gives every one of the
//!   `(N-1)!!` perfect matchings the same chance; the slots of agent `a` are
//!   `a*k..(a+1)*k`, and each holds the agent at the other end of its pair
//!   (which slots are matched is kept in a bit per slot when `k <= 32`, so
//!   within 4 bytes per agent, else read from the slots: the same draws).
//!   Conditioned on having no self loop and no repeated pair, that graph is
//!   exactly uniform over the simple `k`-regular graphs on `n` labelled
//!   agents, but for `k >= 4` most pairings have a few defects (about
//!   `(k²-1)/4` on average for large `n`), and restarting until none is left
//!   grows exponentially in `k²`. So instead the defective edges (each
//!   loop once, each copy of a repeated edge) are listed, put in a uniformly
//!   random order (Fisher–Yates, one draw per defect but the first), and
//!   each in turn, while it is still defective, is switched with a partner
//!   edge drawn uniformly (one draw below `N` per proposal: a slot, which
//!   also picks the partner's orientation, from its agent to its entry):
//!   `a — b` and `c — d` become `a — d` and `c — b` when neither is a loop
//!   nor already present, which removes one defect and creates none. The
//!   result is close to uniform for sparse graphs, where only a few pairings
//!   change (over 400 graphs of 1,000 agents, the mean number of triangles
//!   is 4.53 for degree 4 and 58.0 for degree 8, 0.7% and 1.5% above the
//!   uniform model's `(k-1)³/6`, 4.5 and 57.2), but not exactly uniform:
//!   tiny graphs show a clear bias (6 agents of degree 2 come out as two
//!   triangles 9.4% of the time over 200,000 seeds, against 1 in 7 under
//!   uniform). If the repair needs more than
//!   [`SWITCH_PROPOSALS_PER_EDGE`]` × n*k/2` proposals (seen only in small
//!   or dense graphs, where few partners fit), the build starts over from
//!   the circulant graph linking `i` to `i±1` … `i±⌊k/2⌋` (and, for odd `k`,
//!   to `i+n/2`) and runs the switch chain for as many proposals, each
//!   drawing a uniform first edge (a slot, as for the partner), then its
//!   partner as above. That chain's stationary distribution is uniform over
//!   simple `k`-regular graphs, and every step keeps the graph simple and
//!   `k`-regular; no mixing bound is claimed. Either way the build always
//!   ends, within a bounded number of draws, with a simple `k`-regular graph.
//!
//! Graphs are stored as rows of neighbours, so the engine reads them without
//! per-agent allocations: in compressed sparse row form (`u32` offsets, one
//! per agent and one more, and `u32` neighbours), or, when every agent has
//! the same degree, as rows of that width with no offsets at all. Each
//! build holds at most the graph itself at its peak: 4 bytes per neighbour
//! entry and 4 per agent. A ring or small-world graph is built in its own
//! buffer: the far ends of each agent's ring edges packed at its start while
//! they are rewired, the degrees kept where the offsets go, then each
//! agent's far ends moved to the front of its row (last agent first, so none
//! is overwritten unread) and each agent written into its far ends' rows
//! from their ends down. Rows are not sorted. A ring or small-world row
//! lists the agent's own edges first, `u+1` … `u+k/2` or what each was
//! rewired to, then the agents whose own edges reach it, in descending order;
//! a random-regular row lists the agent's slots in order (after the switches
//! that changed some of them).
//!
//! The build buffers are asked for in huge pages, and the rewiring and the
//! filling of rows fetch the rows of rewired ends ahead (`hints`): both
//! change how fast a graph is built, never which graph.

mod hints;

use rand::Rng;
use rayon::prelude::*;

use crate::rng::SimRng;

/// Random-regular builds: the most switch proposals per edge the repair of
/// a pairing may use, and the proposals per edge of the fallback switch chain.
pub const SWITCH_PROPOSALS_PER_EDGE: u64 = 10;

/// An undirected simple graph on agents `0..n`, as rows of neighbours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    /// Agent `a`'s neighbours are `neighbours[offsets[a]..offsets[a + 1]]`;
    /// empty when every agent has `degree` neighbours, at
    /// `neighbours[a * degree..(a + 1) * degree]`.
    offsets: Vec<u32>,
    /// The largest number of neighbours any agent has.
    degree: u32,
    /// Every agent's neighbours, row after row.
    neighbours: Vec<u32>,
}

impl Graph {
    /// The neighbours of `agent`, in the order of its row (see the module
    /// documentation).
    #[inline(always)]
    pub fn neighbours(&self, agent: u32) -> &[u32] {
        let a = agent as usize;
        let (start, end) = if self.offsets.is_empty() {
            let k = self.degree as usize;
            (a * k, a * k + k)
        } else {
            (self.offsets[a] as usize, self.offsets[a + 1] as usize)
        };
        &self.neighbours[start..end]
    }

    /// The largest number of neighbours any agent has.
    pub fn max_degree(&self) -> u32 {
        self.degree
    }

    /// Builds the graph in which agent `u` owns the `half` edges to
    /// `neighbours[u*half..(u+1)*half]` (its far ends), in the buffer that
    /// holds them, `n * 2 * half` long: `degrees[a]` is agent `a`'s degree
    /// for `a < n` (`degrees` is `n + 1` long and becomes the offsets). Each
    /// row gets its own far ends first, then the agents whose far end it is.
    fn from_far_ends(n: u32, half: u32, mut neighbours: Vec<u32>, mut degrees: Vec<u32>) -> Self {
        let (n, h) = (n as usize, half as usize);
        let mut most = 0;
        let mut start = 0;
        for d in &mut degrees[..n] {
            most = most.max(*d);
            start += std::mem::replace(d, start);
        }
        degrees[n] = start;
        let offsets = degrees;
        // Far ends to the front of their rows, last agent first: a row never
        // starts before its agent's far ends (every agent has at least
        // `half` edges), so no far end is overwritten before it is moved.
        // Each row's first slot past its far ends holds the next slot to
        // fill with an agent reaching it, from the row's end down.
        for a in (0..n).rev() {
            let (start, end) = (offsets[a] as usize, offsets[a + 1] as usize);
            // Last far end first, as the row may overlap the far ends.
            for i in (0..h).rev() {
                neighbours[start + i] = neighbours[a * h + i];
            }
            if end > start + h {
                neighbours[start + h] = end as u32 - 1;
            }
        }
        // A rewired far end's row is anywhere in the buffer: the offsets of
        // the far ends of the agent `2 * AHEAD` on are fetched, then, once
        // those have arrived, the cursors of the agent `AHEAD` on, so the
        // misses overlap.
        const AHEAD: usize = 48;
        let far_ends_of = |a: usize| offsets[a] as usize..offsets[a] as usize + h;
        for a in 0..n {
            if a + 2 * AHEAD < n {
                for i in far_ends_of(a + 2 * AHEAD) {
                    hints::prefetch(&offsets[neighbours[i] as usize]);
                }
            }
            if a + AHEAD < n {
                for i in far_ends_of(a + AHEAD) {
                    hints::prefetch(&neighbours[offsets[neighbours[i] as usize] as usize + h]);
                }
            }
            for i in far_ends_of(a) {
                let first = offsets[neighbours[i] as usize] as usize + h;
                let at = neighbours[first];
                // The cursor moves down; the last agent placed overwrites it.
                neighbours[first] = at - 1;
                neighbours[at as usize] = a as u32;
            }
        }
        Graph {
            // Every degree is `2 * half` when none is more.
            offsets: if most as usize == 2 * h {
                Vec::new()
            } else {
                offsets
            },
            degree: most,
            neighbours,
        }
    }
}

/// The ring's far ends, `u+1` … `u+half` for each agent `u` (in a buffer
/// `n * 2 * half` long), and its degrees (see [`Graph::from_far_ends`]).
fn ring_far_ends(n: u32, half: u32) -> (Vec<u32>, Vec<u32>) {
    let mut neighbours = hints::filled(n as usize * 2 * half as usize, 0u32);
    for (u, row) in neighbours[..(n * half) as usize]
        .chunks_exact_mut(half as usize)
        .enumerate()
    {
        for (j, far) in (1..=half).zip(row) {
            let v = u as u32 + j;
            *far = if v >= n { v - n } else { v };
        }
    }
    (neighbours, hints::filled(n as usize + 1, 2 * half))
}

/// The ring of `n` agents where each is linked to the `degree / 2` nearest on
/// each side, built: the gossip engine computes a ring's neighbours instead,
/// and tests check it against this. Needs an even `degree` with
/// `2 <= degree < n`.
#[cfg(test)]
pub(crate) fn ring(n: u32, degree: u32) -> Graph {
    let (far_ends, degrees) = ring_far_ends(n, degree / 2);
    Graph::from_far_ends(n, degree / 2, far_ends, degrees)
}

/// A Watts–Strogatz small-world graph: the ring of `degree`, each edge
/// rewired with probability `rewire` (see the module documentation for the
/// draws). Needs an even `degree` with `2 <= degree < n`, `rewire` in [0, 1].
pub fn small_world(n: u32, degree: u32, rewire: f64, rng: &mut SimRng) -> Graph {
    let half = degree / 2;
    // Ring edge `u — u+j` is agent `u`'s: `far_ends[u*half + j-1]` is its
    // other end.
    let (mut far_ends, mut degrees) = ring_far_ends(n, half);
    if rewire > 0.0 {
        Rewiring {
            n,
            half,
            log_keep: (rewire < 1.0).then(|| (-rewire).ln_1p()),
            far_ends: &mut far_ends,
            degrees: &mut degrees,
        }
        .run(rng);
    }
    Graph::from_far_ends(n, half, far_ends, degrees)
}

/// The rewiring of a small-world graph's ring edges (see the module
/// documentation for the draws), in the far ends and degrees of
/// [`Graph::from_far_ends`].
struct Rewiring<'a> {
    n: u32,
    half: u32,
    /// `ln(1 - p)`, for the gaps between rewired edges; none when `p` is 1
    /// and every edge is rewired, with no gaps drawn.
    log_keep: Option<f64>,
    far_ends: &'a mut [u32],
    degrees: &'a mut [u32],
}

/// An edge to rewire and its first candidate new end, drawn ahead (see
/// [`Rewiring::run`]).
#[derive(Clone, Copy)]
struct Drawn {
    edge: u64,
    /// The agent that owns the edge, and the edge's slot in `far_ends`.
    agent: u32,
    slot: usize,
    /// The first `w` drawn, if the agent was not linked to everyone then.
    first: Option<u32>,
    /// Where the stream stood before that draw.
    at: u128,
}

impl Rewiring<'_> {
    /// Edges drawn ahead at a time.
    const AHEAD: usize = 64;

    /// Rewires the edges. Each new end `w` is anywhere, and checking that it
    /// is not linked yet reads `w`'s far ends: so the next edges and their
    /// first candidates are drawn [`Self::AHEAD`] at a time, their far ends
    /// fetched together, then each edge is rewired in turn. When a drawn
    /// candidate is refused (already linked), or the agent's degree has
    /// changed whether it may rewire, the stream goes back to where that
    /// edge's draws began and goes on one edge at a time from there: the
    /// draws and the graph are exactly those of rewiring one by one.
    fn run(mut self, rng: &mut SimRng) {
        let edges = u64::from(self.n) * u64::from(self.half);
        let mut ahead = Vec::with_capacity(Self::AHEAD);
        let mut edge = self.gap(rng);
        while edge < edges {
            ahead.clear();
            let mut next = edge;
            while next < edges && ahead.len() < Self::AHEAD {
                let (offset, u) = (next / u64::from(self.n), (next % u64::from(self.n)) as u32);
                let at = rng.get_word_pos();
                let first = self.may_rewire(u).then(|| self.candidate(u, rng));
                ahead.push(Drawn {
                    edge: next,
                    agent: u,
                    slot: (u64::from(u * self.half) + offset) as usize,
                    first,
                    at,
                });
                next = next.saturating_add(1).saturating_add(self.gap(rng));
            }
            for drawn in &ahead {
                hints::prefetch(&self.far_ends[drawn.slot]);
                if let Some(w) = drawn.first {
                    hints::prefetch(&self.far_ends[self.row(w).start]);
                    hints::prefetch(&self.degrees[w as usize]);
                }
            }
            for drawn in &ahead {
                let u = drawn.agent;
                let w = match drawn.first {
                    Some(w) if self.may_rewire(u) && !self.linked(u, w) => Some(w),
                    None if !self.may_rewire(u) => None,
                    _ => {
                        // Back to this edge's draws, and one by one after it.
                        rng.set_word_pos(drawn.at);
                        if self.may_rewire(u) {
                            let w = self.new_end(u, rng);
                            self.rewire(drawn.slot, w);
                        }
                        next = drawn.edge.saturating_add(1).saturating_add(self.gap(rng));
                        break;
                    }
                };
                if let Some(w) = w {
                    self.rewire(drawn.slot, w);
                }
            }
            edge = next;
        }
    }

    /// Edges kept before the next rewired one: geometric, `(1-p)^g p`.
    fn gap(&self, rng: &mut SimRng) -> u64 {
        match self.log_keep {
            Some(log_keep) => ((1.0 - rng.random::<f64>()).ln() / log_keep) as u64,
            None => 0,
        }
    }

    /// Agent `x`'s far ends in `far_ends`.
    #[inline(always)]
    fn row(&self, x: u32) -> std::ops::Range<usize> {
        (x * self.half) as usize..((x + 1) * self.half) as usize
    }

    /// Whether agent `u` is linked to fewer than everyone, so it may rewire.
    #[inline(always)]
    fn may_rewire(&self, u: u32) -> bool {
        self.degrees[u as usize] < self.n - 1
    }

    #[inline(always)]
    fn linked(&self, u: u32, w: u32) -> bool {
        self.far_ends[self.row(u)].contains(&w) || self.far_ends[self.row(w)].contains(&u)
    }

    /// One draw of a new end for `u`: uniform among the others.
    #[inline(always)]
    fn candidate(&self, u: u32, rng: &mut SimRng) -> u32 {
        let c = rng.random_range(0..self.n - 1);
        if c < u { c } else { c + 1 }
    }

    /// A new end for `u`: candidates drawn until one is not linked to `u`.
    fn new_end(&self, u: u32, rng: &mut SimRng) -> u32 {
        loop {
            let w = self.candidate(u, rng);
            if !self.linked(u, w) {
                return w;
            }
        }
    }

    /// Rewires the edge in `far_ends[slot]` to end at `w`.
    fn rewire(&mut self, slot: usize, w: u32) {
        self.degrees[self.far_ends[slot] as usize] -= 1;
        self.degrees[w as usize] += 1;
        self.far_ends[slot] = w;
    }
}

/// A random `degree`-regular simple graph: the pairing model with its defects
/// switched away, or the switch chain from a circulant graph when that
/// repair takes too long (see the module documentation). Needs
/// `1 <= degree < n` and `n * degree` even. With `parallel`, the defects
/// are looked for on the pool's threads: the same graph.
pub fn random_regular(n: u32, degree: u32, rng: &mut SimRng, parallel: bool) -> Graph {
    let mut pairing = RegularMultigraph::pairing(n, degree, rng);
    if pairing.repair(rng, parallel) {
        return pairing.into_graph();
    }
    // Freed before the circulant is built: never two multigraphs at once.
    drop(pairing);
    let mut circulant = RegularMultigraph::circulant(n, degree);
    circulant.mix(rng);
    circulant.into_graph()
}

/// Whether `row` holds some entry twice.
fn repeats(row: &[u32]) -> bool {
    // Rows seldom do, so every pair is compared without a branch; rows up
    // to 16 wide at their exact width, which unrolls the comparisons.
    macro_rules! by_width {
        ($($k:literal)*) => {
            match row.len() {
                $($k => repeats_in::<$k>(row.try_into().expect("the width matched")),)*
                _ => (1..row.len()).any(|i| row[..i].contains(&row[i])),
            }
        };
    }
    by_width!(2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
}

/// [`repeats`] for rows `K` wide.
fn repeats_in<const K: usize>(row: &[u32; K]) -> bool {
    let mut seen = false;
    for i in 1..K {
        for j in 0..i {
            seen |= row[i] == row[j];
        }
    }
    seen
}

/// A slot of the pairing not matched yet.
const UNMATCHED: u32 = u32::MAX;

/// Which slots of a pairing are matched; a slot is asked about only after
/// every slot before it is matched, and only the later slot of a pair is
/// added.
trait Matched {
    /// Whether `slot` is matched, given the rows filled so far.
    fn has(&self, rows: &[u32], slot: u32) -> bool;
    /// Marks `slot` matched.
    fn add(&mut self, slot: u32);
    /// The first slot from `from` on not matched, if any.
    fn next(&self, rows: &[u32], from: u32) -> Option<u32>;
}

/// A bit per slot, set when it is matched.
struct Bits(Vec<u64>);

impl Matched for Bits {
    #[inline(always)]
    fn has(&self, _: &[u32], slot: u32) -> bool {
        self.0[slot as usize / 64] >> (slot % 64) & 1 != 0
    }

    #[inline(always)]
    fn add(&mut self, slot: u32) {
        self.0[slot as usize / 64] |= 1 << (slot % 64);
    }

    #[inline(always)]
    fn next(&self, rows: &[u32], from: u32) -> Option<u32> {
        let mut word = from as usize / 64;
        // The bits past the slots count as matched.
        let mut free = !self.0.get(word)? & (u64::MAX << (from % 64));
        while free == 0 {
            word += 1;
            free = !*self.0.get(word)?;
        }
        let slot = word as u32 * 64 + free.trailing_zeros();
        (slot < rows.len() as u32).then_some(slot)
    }
}

/// The rows themselves: a slot is matched once its entry is not
/// [`UNMATCHED`].
struct Entries;

impl Matched for Entries {
    #[inline(always)]
    fn has(&self, rows: &[u32], slot: u32) -> bool {
        rows[slot as usize] != UNMATCHED
    }

    #[inline(always)]
    fn add(&mut self, _: u32) {}

    #[inline(always)]
    fn next(&self, rows: &[u32], from: u32) -> Option<u32> {
        let after = rows.get(from as usize..)?;
        let at = after.iter().position(|&x| x == UNMATCHED)?;
        Some(from + at as u32)
    }
}

/// A `degree`-regular multigraph on agents `0..n` (self loops count twice in
/// their agent's row) that switches keep regular.
#[derive(Debug)]
struct RegularMultigraph {
    degree: u32,
    /// Agent `a`'s neighbours, with repeats, are `rows[a*degree..(a+1)*degree]`
    /// (its slots).
    rows: Vec<u32>,
}

impl RegularMultigraph {
    /// The pairing (configuration) model: `degree` slots per agent matched
    /// uniformly, each slot not matched yet to a later one drawn until it
    /// is not matched yet either. Which slots are matched is kept in a bit
    /// per slot when that takes at most 4 bytes per agent (degree 32 or
    /// less), else in the rows themselves: the same draws either way.
    fn pairing(n: u32, degree: u32, rng: &mut SimRng) -> Self {
        let slots = n as usize * degree as usize;
        if degree <= 32 {
            Self::pair(
                degree,
                hints::filled(slots, 0),
                Bits(hints::filled(slots.div_ceil(64), 0)),
                rng,
            )
        } else {
            Self::pair(degree, hints::filled(slots, UNMATCHED), Entries, rng)
        }
    }

    /// The pairing into `rows`, with `matched` telling the slots matched.
    fn pair(degree: u32, mut rows: Vec<u32>, mut matched: impl Matched, rng: &mut SimRng) -> Self {
        let slots = rows.len() as u32;
        let mut from = 0;
        while let Some(s) = matched.next(&rows, from) {
            from = s + 1;
            let t = loop {
                let t = rng.random_range(s + 1..slots);
                if !matched.has(&rows, t) {
                    break t;
                }
            };
            matched.add(t);
            rows[s as usize] = t / degree;
            rows[t as usize] = s / degree;
        }
        RegularMultigraph { degree, rows }
    }

    /// The simple circulant graph linking `a` to `a±1` … `a±⌊degree/2⌋` and,
    /// for odd `degree` (so `n` is even), to `a+n/2`.
    fn circulant(n: u32, degree: u32) -> Self {
        let mut rows = Vec::with_capacity(n as usize * degree as usize);
        for a in 0..n {
            rows.extend((1..=degree / 2).flat_map(|j| [(a + j) % n, (a + n - j) % n]));
            if degree % 2 == 1 {
                rows.push((a + n / 2) % n);
            }
        }
        RegularMultigraph { degree, rows }
    }

    fn row(&self, a: u32) -> &[u32] {
        let k = self.degree as usize;
        &self.rows[a as usize * k..(a as usize + 1) * k]
    }

    fn linked(&self, a: u32, b: u32) -> bool {
        self.row(a).contains(&b)
    }

    /// Whether `a — b` is a self loop or one of several edges between `a`
    /// and `b`.
    fn is_defective(&self, a: u32, b: u32) -> bool {
        if a == b {
            self.linked(a, a)
        } else {
            self.row(a).iter().filter(|&&x| x == b).count() > 1
        }
    }

    /// The defective edges `a — b`, `a <= b`: each self loop once and each
    /// copy of a repeated edge, by agent `a`, then by first place in its row.
    /// The rows are read in chunks, on the pool's threads when `parallel`:
    /// the same list either way.
    fn defects(&self, parallel: bool) -> Vec<(u32, u32)> {
        const AGENTS_PER_CHUNK: usize = 1 << 14;
        let k = self.degree as usize;
        let defects_in = |(chunk, rows): (usize, &[u32])| {
            let mut defects = Vec::new();
            for (i, row) in rows.chunks_exact(k).enumerate() {
                let a = (chunk * AGENTS_PER_CHUNK + i) as u32;
                // Loops and repeated edges alike repeat an entry.
                if !repeats(row) {
                    continue;
                }
                for (i, &b) in row.iter().enumerate() {
                    if b < a || row[..i].contains(&b) {
                        continue;
                    }
                    let copies = row.iter().filter(|&&x| x == b).count();
                    let edges = if b == a { copies / 2 } else { copies };
                    if b == a || copies > 1 {
                        defects.extend(std::iter::repeat_n((a, b), edges));
                    }
                }
            }
            defects
        };
        let chunk = k * AGENTS_PER_CHUNK;
        if parallel {
            let chunks = self.rows.par_chunks(chunk).enumerate();
            chunks.flat_map_iter(defects_in).collect()
        } else {
            self.rows
                .chunks(chunk)
                .enumerate()
                .flat_map(defects_in)
                .collect()
        }
    }

    /// The edge from slot `slot`'s agent to its entry.
    fn edge_at(&self, slot: u32) -> (u32, u32) {
        (slot / self.degree, self.rows[slot as usize])
    }

    /// Proposes replacing `a — b` and the edge at slot `slot`, `c — d`, with
    /// `a — d` and `c — b`. Switches only when both new edges are new,
    /// distinct and not loops, so no defect appears; returns whether it
    /// switched.
    fn switch(&mut self, (a, b): (u32, u32), slot: u32) -> bool {
        let (c, d) = self.edge_at(slot);
        let same_pair = (a == c && d == b) || (a == b && c == d);
        if a == d || c == b || same_pair || self.linked(a, d) || self.linked(c, b) {
            return false;
        }
        self.replace(a, b, d);
        self.replace(b, a, c);
        self.replace(c, d, b);
        self.replace(d, c, a);
        true
    }

    /// Replaces one `old` in agent `a`'s row with `new`.
    fn replace(&mut self, a: u32, old: u32, new: u32) {
        let k = self.degree as usize;
        let at = self
            .row(a)
            .iter()
            .position(|&x| x == old)
            .expect("both ends of a switched edge list each other");
        self.rows[a as usize * k + at] = new;
    }

    /// Switches every defective edge, in a uniformly random order, with
    /// partners drawn uniformly (one draw per proposal), until the graph is
    /// simple; gives up (returns false) after [`SWITCH_PROPOSALS_PER_EDGE`]
    /// proposals per edge.
    fn repair(&mut self, rng: &mut SimRng, parallel: bool) -> bool {
        let mut defects = self.defects(parallel);
        for i in (1..defects.len() as u32).rev() {
            let j = rng.random_range(0..=i);
            defects.swap(i as usize, j as usize);
        }
        let slots = self.rows.len() as u32;
        let mut budget = SWITCH_PROPOSALS_PER_EDGE * u64::from(slots / 2);
        for (a, b) in defects {
            while self.is_defective(a, b) {
                if budget == 0 {
                    return false;
                }
                budget -= 1;
                let slot = rng.random_range(0..slots);
                self.switch((a, b), slot);
            }
        }
        true
    }

    /// Runs the switch chain: [`SWITCH_PROPOSALS_PER_EDGE`] proposals per
    /// edge, each drawing a slot for its first edge and then one for its
    /// second.
    fn mix(&mut self, rng: &mut SimRng) {
        let slots = self.rows.len() as u32;
        for _ in 0..SWITCH_PROPOSALS_PER_EDGE * u64::from(slots / 2) {
            let first = self.edge_at(rng.random_range(0..slots));
            let slot = rng.random_range(0..slots);
            self.switch(first, slot);
        }
    }

    fn into_graph(self) -> Graph {
        Graph {
            offsets: Vec::new(),
            degree: self.degree,
            neighbours: self.rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use rand::RngCore;

    use super::*;
    use crate::rng::generator;

    /// Checks the graph is undirected and simple and its representation
    /// consistent, and returns its edge count.
    fn edge_count_of_simple_graph(graph: &Graph, n: u32) -> u64 {
        if graph.offsets.is_empty() {
            assert_eq!(graph.neighbours.len() as u64, u64::from(n * graph.degree));
        } else {
            assert_eq!(graph.offsets.len() as u32, n + 1);
            assert_eq!(graph.offsets[n as usize] as usize, graph.neighbours.len());
        }
        let mut most = 0;
        for a in 0..n {
            let row = graph.neighbours(a);
            most = most.max(row.len() as u32);
            let mut sorted = row.to_vec();
            sorted.sort_unstable();
            assert!(
                sorted.windows(2).all(|w| w[0] < w[1]),
                "duplicate edge at {a}: {row:?}"
            );
            assert!(!row.contains(&a), "self loop at {a}");
            for &b in row {
                assert!(b < n);
                assert!(graph.neighbours(b).contains(&a), "{a}—{b} one-way");
            }
        }
        assert_eq!(graph.max_degree(), most);
        let regular = (0..n).all(|a| graph.neighbours(a).len() as u32 == most);
        assert_eq!(graph.offsets.is_empty(), regular, "rows without offsets");
        graph.neighbours.len() as u64 / 2
    }

    fn degrees(graph: &Graph, n: u32) -> Vec<u32> {
        (0..n).map(|a| graph.neighbours(a).len() as u32).collect()
    }

    #[test]
    fn ring_links_exactly_the_nearest_agents() {
        for n in [3, 4, 5, 8, 11, 100] {
            for k in (2..n).step_by(2) {
                let graph = ring(n, k);
                assert_eq!(edge_count_of_simple_graph(&graph, n), u64::from(n * k / 2));
                for a in 0..n {
                    let mut nearest: Vec<u32> = (1..=k / 2)
                        .flat_map(|j| [(a + j) % n, (a + n - j) % n])
                        .collect();
                    nearest.sort_unstable();
                    let row = graph.neighbours(a);
                    let own: Vec<u32> = (1..=k / 2).map(|j| (a + j) % n).collect();
                    assert_eq!(row[..own.len()], own, "own edges first");
                    assert!(row[own.len()..].windows(2).all(|w| w[0] > w[1]));
                    let mut sorted = row.to_vec();
                    sorted.sort_unstable();
                    assert_eq!(sorted, nearest, "n={n} k={k} agent {a}");
                }
                assert_eq!(graph.max_degree(), k);
            }
        }
    }

    #[test]
    fn random_regular_is_simple_and_regular() {
        let cases = [
            (2, 1),
            (4, 2),
            (4, 3),
            (5, 4),
            (6, 5),
            (7, 4),
            (10, 3),
            (10, 9),
            (100, 4),
            (101, 6),
            (1000, 7),
            (500, 20),
            (200, 40),
        ];
        for (n, k) in cases {
            for seed in 0..8 {
                let graph = random_regular(n, k, &mut generator(seed), false);
                assert_eq!(edge_count_of_simple_graph(&graph, n), u64::from(n * k / 2));
                assert!(degrees(&graph, n).iter().all(|&d| d == k), "n={n} k={k}");
            }
        }
    }

    /// Every perfect matching of `slots` slots, as each slot's partner.
    fn matchings(slots: u32) -> Vec<Vec<u32>> {
        fn extend(partner: &mut Vec<u32>, all: &mut Vec<Vec<u32>>) {
            let Some(s) = partner.iter().position(|&p| p == UNMATCHED) else {
                all.push(partner.clone());
                return;
            };
            for t in s + 1..partner.len() {
                if partner[t] == UNMATCHED {
                    (partner[s], partner[t]) = (t as u32, s as u32);
                    extend(partner, all);
                    (partner[s], partner[t]) = (UNMATCHED, UNMATCHED);
                }
            }
        }
        let mut all = Vec::new();
        extend(&mut vec![UNMATCHED; slots as usize], &mut all);
        all
    }

    #[test]
    fn the_pairing_is_a_uniform_perfect_matching() {
        // With degree 1 a slot is its agent, so the rows are the matching
        // itself: each of the 7!! = 105 matchings of 8 slots must come up
        // equally often. With more slots per agent, each row content comes
        // up as often as the matchings giving it.
        for (n, k) in [(8, 1), (4, 2), (2, 3)] {
            let all = matchings(n * k);
            let mut expected: BTreeMap<Vec<u32>, f64> = BTreeMap::new();
            for partner in &all {
                let rows: Vec<u32> = partner.iter().map(|&t| t / k).collect();
                *expected.entry(rows).or_default() += 1.0 / all.len() as f64;
            }
            let runs = 400 * all.len() as u32;
            let mut seen: BTreeMap<Vec<u32>, u32> = BTreeMap::new();
            let mut rng = generator(u64::from(n));
            for _ in 0..runs {
                let pairing = RegularMultigraph::pairing(n, k, &mut rng);
                *seen.entry(pairing.rows).or_default() += 1;
            }
            assert!(seen.keys().all(|rows| expected.contains_key(rows)));
            // Chi-square with (cells - 1) degrees of freedom: its mean plus
            // six standard deviations.
            let chi2: f64 = expected
                .iter()
                .map(|(rows, q)| {
                    let e = q * f64::from(runs);
                    (f64::from(seen.get(rows).copied().unwrap_or(0)) - e).powi(2) / e
                })
                .sum();
            let df = (expected.len() - 1) as f64;
            assert!(
                chi2 < df + 6.0 * (2.0 * df).sqrt(),
                "n={n} k={k}: chi-square {chi2:.1} with {df} degrees of freedom"
            );
        }
    }

    #[test]
    fn the_pairing_draws_the_same_with_bits_or_entries() {
        for (n, k) in [(8, 1), (4, 2), (50, 6), (101, 10), (40, 33)] {
            let slots = n as usize * k as usize;
            let bits = |seed| {
                let matched = Bits(vec![0; slots.div_ceil(64)]);
                RegularMultigraph::pair(k, vec![0; slots], matched, &mut generator(seed)).rows
            };
            let entries = |seed| {
                let rows = vec![UNMATCHED; slots];
                RegularMultigraph::pair(k, rows, Entries, &mut generator(seed)).rows
            };
            for seed in 0..4 {
                assert_eq!(bits(seed), entries(seed), "n={n} k={k} seed {seed}");
            }
        }
    }

    #[test]
    fn repeated_entries_are_found_at_every_width() {
        let mut rng = generator(5);
        for width in 0..40u32 {
            for _ in 0..200 {
                let row: Vec<u32> = (0..width).map(|_| rng.random_range(0..3 * width)).collect();
                let naive = (0..row.len()).any(|i| (0..i).any(|j| row[i] == row[j]));
                assert_eq!(repeats(&row), naive, "{row:?}");
            }
        }
    }

    #[test]
    fn repair_switches_loops_and_repeated_edges_away() {
        // Two loops and a doubled edge on 4 agents of degree 2: the only
        // simple results are the three 4-cycles.
        let mut multigraph = RegularMultigraph {
            degree: 2,
            rows: vec![0, 0, 1, 1, 3, 3, 2, 2],
        };
        assert_eq!(
            multigraph.defects(false),
            [(0, 0), (1, 1), (2, 3), (2, 3)],
            "both loops and both copies of 2—3 are defects"
        );
        assert!(multigraph.repair(&mut generator(3), false));
        let graph = multigraph.into_graph();
        assert_eq!(edge_count_of_simple_graph(&graph, 4), 4);
        assert!(degrees(&graph, 4).iter().all(|&d| d == 2));
    }

    #[test]
    fn the_fallback_switch_chain_keeps_circulants_simple_and_regular() {
        for (n, k) in [(2, 1), (5, 2), (6, 3), (6, 5), (9, 8), (50, 7), (64, 10)] {
            let circulant = RegularMultigraph::circulant(n, k);
            assert_eq!(circulant.defects(false), []);
            let start = circulant.into_graph();
            assert_eq!(edge_count_of_simple_graph(&start, n), u64::from(n * k / 2));
            let mut mixed = RegularMultigraph::circulant(n, k);
            mixed.mix(&mut generator(u64::from(n)));
            let graph = mixed.into_graph();
            assert_eq!(edge_count_of_simple_graph(&graph, n), u64::from(n * k / 2));
            assert!(degrees(&graph, n).iter().all(|&d| d == k), "n={n} k={k}");
            if n >= 50 {
                assert_ne!(graph, start, "the chain moved away from the circulant");
            }
        }
    }

    #[test]
    fn random_regular_reaches_every_small_graph() {
        // 4 agents of degree 2: each of the three 4-cycles must come up.
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..60 {
            let graph = random_regular(4, 2, &mut generator(seed), false);
            let mut row = graph.neighbours(0).to_vec();
            row.sort_unstable();
            seen.insert(row);
        }
        assert_eq!(seen.len(), 3, "{seen:?}");
    }

    #[test]
    fn small_world_without_rewiring_is_the_ring_and_draws_nothing() {
        for (n, k) in [(3, 2), (10, 4), (101, 6)] {
            let mut rng = generator(9);
            assert_eq!(small_world(n, k, 0.0, &mut rng), ring(n, k));
            assert_eq!(rng.next_u64(), generator(9).next_u64());
        }
    }

    /// The exact law of the one-by-one rule on a small ring of `n` agents of
    /// degree `k`: the probability of each final list of far ends.
    fn one_by_one_law(n: u32, k: u32, p: f64) -> BTreeMap<Vec<u32>, f64> {
        struct Walk {
            n: u32,
            half: u32,
            p: f64,
            far: Vec<u32>,
            degrees: Vec<u32>,
            law: BTreeMap<Vec<u32>, f64>,
        }
        impl Walk {
            fn linked(&self, u: u32, w: u32) -> bool {
                let h = self.half as usize;
                self.far[u as usize * h..][..h].contains(&w)
                    || self.far[w as usize * h..][..h].contains(&u)
            }
            fn step(&mut self, e: u32, chance: f64) {
                if e == self.n * self.half {
                    *self.law.entry(self.far.clone()).or_default() += chance;
                    return;
                }
                let (j, u) = (e / self.n + 1, e % self.n);
                if self.degrees[u as usize] >= self.n - 1 {
                    return self.step(e + 1, chance);
                }
                self.step(e + 1, chance * (1.0 - self.p));
                let free: Vec<u32> = (0..self.n)
                    .filter(|&w| w != u && !self.linked(u, w))
                    .collect();
                let slot = (u * self.half + j - 1) as usize;
                let old = self.far[slot];
                for &w in &free {
                    self.far[slot] = w;
                    self.degrees[old as usize] -= 1;
                    self.degrees[w as usize] += 1;
                    self.step(e + 1, chance * self.p / free.len() as f64);
                    self.degrees[w as usize] -= 1;
                    self.degrees[old as usize] += 1;
                }
                self.far[slot] = old;
            }
        }
        let half = k / 2;
        let mut walk = Walk {
            n,
            half,
            p,
            far: (0..n)
                .flat_map(|u| (1..=half).map(move |j| (u + j) % n))
                .collect(),
            degrees: vec![k; n as usize],
            law: BTreeMap::new(),
        };
        walk.step(0, 1.0);
        walk.law
    }

    #[test]
    fn small_world_gaps_rewire_by_the_one_by_one_law() {
        // The number of rewired edges, and each edge's far end, counted
        // over many builds against their exact probabilities under the
        // one-by-one rule (a p-coin per edge, in edge order).
        for (n, k, p) in [(7, 2, 0.3), (6, 4, 0.5), (5, 2, 1.0), (6, 2, 0.1)] {
            let half = k / 2;
            let ring_far: Vec<u32> = (0..n)
                .flat_map(|u| (1..=half).map(move |j| (u + j) % n))
                .collect();
            let rewired = |far: &[u32]| far.iter().zip(&ring_far).filter(|(a, b)| a != b).count();
            let mut exact_count = vec![0.0; ring_far.len() + 1];
            let mut exact_end = vec![vec![0.0; n as usize]; ring_far.len()];
            for (far, q) in one_by_one_law(n, k, p) {
                exact_count[rewired(&far)] += q;
                for (slot, &w) in far.iter().enumerate() {
                    exact_end[slot][w as usize] += q;
                }
            }
            let runs = 20_000u32;
            let mut count = vec![0u32; ring_far.len() + 1];
            let mut end = vec![vec![0u32; n as usize]; ring_far.len()];
            let mut rng = generator(u64::from(n * k));
            for _ in 0..runs {
                let graph = small_world(n, k, p, &mut rng);
                let far: Vec<u32> = (0..n)
                    .flat_map(|u| graph.neighbours(u)[..half as usize].to_vec())
                    .collect();
                count[rewired(&far)] += 1;
                for (slot, &w) in far.iter().enumerate() {
                    end[slot][w as usize] += 1;
                }
            }
            // Within five standard deviations of each exact count.
            let close = |seen: u32, q: f64| {
                let e = q * f64::from(runs);
                (f64::from(seen) - e).abs() <= 5.0 * (e * (1.0 - q)).sqrt() + 1e-9
            };
            for (r, (&seen, &q)) in count.iter().zip(&exact_count).enumerate() {
                assert!(
                    close(seen, q),
                    "n={n} k={k} p={p}: {r} rewired {seen} times, p={q}"
                );
            }
            for (slot, (seen, exact)) in end.iter().zip(&exact_end).enumerate() {
                for (w, (&seen, &q)) in seen.iter().zip(exact).enumerate() {
                    assert!(
                        close(seen, q),
                        "n={n} k={k} p={p}: slot {slot} to {w} {seen} times, p={q}"
                    );
                }
            }
        }
    }

    /// The rewiring as the module documentation states it, one edge at a
    /// time: the far ends and degrees it leaves.
    fn rewired_one_by_one(n: u32, k: u32, p: f64, rng: &mut SimRng) -> (Vec<u32>, Vec<u32>) {
        let half = k / 2;
        let (mut far, mut degrees) = ring_far_ends(n, half);
        far.truncate((n * half) as usize);
        let row = |x: u32| (x * half) as usize..((x + 1) * half) as usize;
        let gap = |rng: &mut SimRng| {
            if p >= 1.0 {
                0
            } else {
                ((1.0 - rng.random::<f64>()).ln() / (-p).ln_1p()) as u64
            }
        };
        let edges = u64::from(n * half);
        let mut e = gap(rng);
        while e < edges {
            let (j, u) = ((e / u64::from(n)) as u32 + 1, (e % u64::from(n)) as u32);
            if degrees[u as usize] < n - 1 {
                let w = loop {
                    let c = rng.random_range(0..n - 1);
                    let w = if c < u { c } else { c + 1 };
                    if !far[row(u)].contains(&w) && !far[row(w)].contains(&u) {
                        break w;
                    }
                };
                let slot = (u * half + j - 1) as usize;
                degrees[far[slot] as usize] -= 1;
                degrees[w as usize] += 1;
                far[slot] = w;
            }
            e = e.saturating_add(1).saturating_add(gap(rng));
        }
        degrees.truncate(n as usize);
        (far, degrees)
    }

    #[test]
    fn rewiring_ahead_draws_and_rewires_as_one_by_one() {
        // Dense graphs refuse many candidates and have agents linked to
        // everyone; big ones fill whole batches.
        let cases = [
            (5, 4, 1.0),
            (6, 4, 0.5),
            (9, 6, 0.9),
            (12, 10, 0.7),
            (40, 8, 1.0),
            (300, 6, 0.3),
            (5000, 10, 0.1),
            (20_000, 4, 0.02),
        ];
        for (n, k, p) in cases {
            for seed in 0..6 {
                let (mut one, mut ahead) = (generator(seed), generator(seed));
                let (far, degrees) = rewired_one_by_one(n, k, p, &mut one);
                let half = k / 2;
                let (mut far_ahead, mut degrees_ahead) = ring_far_ends(n, half);
                Rewiring {
                    n,
                    half,
                    log_keep: (p < 1.0).then(|| (-p).ln_1p()),
                    far_ends: &mut far_ahead,
                    degrees: &mut degrees_ahead,
                }
                .run(&mut ahead);
                let context = format!("n={n} k={k} p={p} seed={seed}");
                assert_eq!(far_ahead[..far.len()], far[..], "{context}");
                assert_eq!(degrees_ahead[..n as usize], degrees[..], "{context}");
                assert_eq!(ahead.get_word_pos(), one.get_word_pos(), "{context}");
                if k < n - 1 {
                    assert_ne!(far, ring_far_ends(n, half).0[..far.len()], "{context}");
                }
            }
        }
    }

    #[test]
    fn small_world_keeps_its_edges_and_stays_simple() {
        for (n, k) in [(5, 4), (7, 4), (20, 2), (100, 6), (1000, 10)] {
            for rewire in [0.1, 0.5, 1.0] {
                for seed in 0..4 {
                    let graph = small_world(n, k, rewire, &mut generator(seed));
                    assert_eq!(edge_count_of_simple_graph(&graph, n), u64::from(n * k / 2));
                    assert!(degrees(&graph, n).iter().all(|&d| d >= k / 2));
                }
            }
        }
        // With every edge rewired something must change in a sparse ring.
        assert_ne!(small_world(100, 4, 1.0, &mut generator(1)), ring(100, 4));
        // 5 agents of degree 4 are all linked: nothing can be rewired.
        assert_eq!(small_world(5, 4, 1.0, &mut generator(1)), ring(5, 4));
    }

    #[test]
    fn defects_are_found_alike_on_one_thread_and_many() {
        // Several chunks of agents, and enough defects to be in several.
        for (n, k, seed) in [(50_000, 6, 1), (40_000, 9, 2), (60_000, 12, 3)] {
            let pairing = RegularMultigraph::pairing(n, k, &mut generator(seed));
            let defects = pairing.defects(false);
            let chunks: BTreeSet<u32> = defects.iter().map(|&(a, _)| a >> 14).collect();
            assert!(chunks.len() > 1, "n={n} k={k}: defects in {chunks:?}");
            assert!(defects.is_sorted_by_key(|&(a, _)| a), "n={n} k={k}");
            for &(a, b) in &defects {
                assert!(a <= b && pairing.is_defective(a, b), "n={n} k={k}: {a}—{b}");
            }
            assert_eq!(pairing.defects(true), defects, "n={n} k={k}");
            let build = |parallel| random_regular(n, k, &mut generator(seed), parallel);
            assert_eq!(build(true), build(false), "n={n} k={k}");
        }
    }

    #[test]
    fn builds_are_reproducible_per_seed() {
        let regular = |seed| random_regular(200, 5, &mut generator(seed), false);
        let small = |seed| small_world(200, 6, 0.3, &mut generator(seed));
        assert_eq!(regular(4), regular(4));
        assert_eq!(small(4), small(4));
        assert_ne!(regular(4), regular(5));
        assert_ne!(small(4), small(5));
    }
}

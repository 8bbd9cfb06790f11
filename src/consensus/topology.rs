//! Network topologies for gossip: which agents can reach which.
//!
//! On the complete network any agent may ask any other; real swarms talk over
//! sparser networks, and how those are wired changes how fast (and whether)
//! a majority spreads. This module builds such networks as undirected simple
//! graphs (no self loops, no duplicate edges) on agents `0..n`, once per run,
//! drawing from the run's generator. The complete network is never built: the
//! gossip engine samples it directly.
//!
//! - **ring** (degree `k`, even): agent `i` is linked to the `k/2` nearest
//!   agents on each side, `i±1` … `i±k/2` modulo `n`. No draws.
//! - **small-world** (Watts–Strogatz, degree `k` even, rewiring probability
//!   `p`): the ring of degree `k`, then for each offset `j = 1..=k/2` and, in
//!   that loop, each agent `u = 0..n`, the ring edge `u — u+j` is rewired with
//!   probability `p` to `u — w`, `w` uniform among the agents that are not `u`
//!   and not yet linked to `u` (drawn by rejection among the `n-1` others; an
//!   agent already linked to everyone keeps its edge). Draws, in that order:
//!   one `f64` per ring edge, each followed, when the edge is rewired, by the
//!   draws for `w`; nothing at all when `p` is 0, which gives the ring. The
//!   graph keeps `n*k/2` edges; degrees vary but stay at least `k/2`.
//! - **random-regular** (degree `k`, `n*k` even): every agent has exactly `k`
//!   neighbours. Built with the pairing (configuration) model: `k` points
//!   per agent are shuffled (Fisher–Yates, `n*k - 1` draws) and paired in
//!   order. Conditioned on having no self loop and no repeated pair, that
//!   graph is exactly uniform over the simple `k`-regular graphs on `n`
//!   labelled agents, but for `k >= 4` most pairings have a few defects
//!   (about `(k²-1)/4` on average for large `n`), and restarting until none
//!   is left grows exponentially in `k²`. So instead each defective edge, in
//!   edge order, is switched with a partner edge drawn uniformly (one draw
//!   below `n*k` per proposal, which also picks the partner's orientation):
//!   `a — b` and `c — d` become `a — d` and `c — b` when neither is a loop
//!   nor already present, which removes one defect and creates none. The
//!   result is close to uniform for sparse graphs, where only a few pairings
//!   change (with 1,000 agents of degree 4 or 8, the mean number of
//!   triangles is within 2% of the uniform model's `(k-1)³/6`), but not
//!   exactly uniform: tiny graphs show a clear bias (6 agents of degree 2
//!   come out as two triangles about 9% of the time, against 1 in 7 under
//!   uniform). If the repair needs more than
//!   [`SWITCH_PROPOSALS_PER_EDGE`]` × n*k/2` proposals (seen only in small
//!   or dense graphs, where few partners fit), the build starts over from
//!   the circulant graph linking `i` to `i±1` … `i±⌊k/2⌋` (and, for odd `k`,
//!   to `i+n/2`) and runs the switch chain for as many proposals, each
//!   drawing a uniform first edge, then its partner as above. That chain's
//!   stationary distribution is uniform over simple `k`-regular graphs, and
//!   every step keeps the graph simple and `k`-regular; no mixing bound is
//!   claimed. Either way the build always ends, within a bounded number of
//!   draws, with a simple `k`-regular graph.
//!
//! Graphs are stored in compressed sparse row form, each agent's neighbours
//! in ascending order, so the engine reads them without per-agent
//! allocations.

use rand::Rng;

use crate::rng::SimRng;

/// Random-regular builds: the most switch proposals per edge the repair of
/// a pairing may use, and the proposals per edge of the fallback switch chain.
pub const SWITCH_PROPOSALS_PER_EDGE: u64 = 10;

/// An undirected simple graph on agents `0..n` in compressed sparse row form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    /// Agent `a`'s neighbours are `neighbours[offsets[a]..offsets[a + 1]]`.
    offsets: Vec<u32>,
    /// Every agent's neighbours, ascending within each agent.
    neighbours: Vec<u32>,
}

impl Graph {
    /// The neighbours of `agent`, in ascending order.
    pub fn neighbours(&self, agent: u32) -> &[u32] {
        let a = agent as usize;
        &self.neighbours[self.offsets[a] as usize..self.offsets[a + 1] as usize]
    }

    /// The largest number of neighbours any agent has.
    pub fn max_degree(&self) -> u32 {
        self.offsets
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or(0)
    }

    /// Builds the graph with the given undirected edges, each listed once.
    /// `edges` is walked twice: to count degrees, then to place neighbours.
    fn from_edges(n: u32, edges: impl Iterator<Item = (u32, u32)> + Clone) -> Self {
        let mut offsets = vec![0u32; n as usize + 1];
        for (a, b) in edges.clone() {
            offsets[a as usize + 1] += 1;
            offsets[b as usize + 1] += 1;
        }
        for i in 1..offsets.len() {
            offsets[i] += offsets[i - 1];
        }
        let mut next = offsets.clone();
        let mut neighbours = vec![0u32; offsets[n as usize] as usize];
        for (a, b) in edges {
            for (from, to) in [(a, b), (b, a)] {
                neighbours[next[from as usize] as usize] = to;
                next[from as usize] += 1;
            }
        }
        let mut graph = Graph {
            offsets,
            neighbours,
        };
        graph.sort_rows();
        graph
    }

    fn sort_rows(&mut self) {
        for w in self.offsets.windows(2) {
            self.neighbours[w[0] as usize..w[1] as usize].sort_unstable();
        }
    }
}

/// The ring of `n` agents where each is linked to the `degree / 2` nearest on
/// each side. Needs an even `degree` with `2 <= degree < n`.
pub fn ring(n: u32, degree: u32) -> Graph {
    let half = degree / 2;
    Graph::from_edges(
        n,
        (1..=half).flat_map(move |j| (0..n).map(move |u| (u, (u + j) % n))),
    )
}

/// A Watts–Strogatz small-world graph: the ring of `degree`, each edge
/// rewired with probability `rewire` (see the module documentation for the
/// draws). Needs an even `degree` with `2 <= degree < n`, `rewire` in [0, 1].
pub fn small_world(n: u32, degree: u32, rewire: f64, rng: &mut SimRng) -> Graph {
    let half = degree / 2;
    // Each edge belongs to the agent `u` whose ring edge `u — u+j` it was:
    // `far_ends[u * half + j - 1]` is its other end.
    let mut far_ends: Vec<u32> = (0..n)
        .flat_map(|u| (1..=half).map(move |j| (u + j) % n))
        .collect();
    if rewire > 0.0 {
        let mut degrees = vec![degree; n as usize];
        let linked = |far_ends: &[u32], u: u32, w: u32| {
            let row = |x: u32| &far_ends[(x * half) as usize..((x + 1) * half) as usize];
            row(u).contains(&w) || row(w).contains(&u)
        };
        for j in 1..=half {
            for u in 0..n {
                if rng.random::<f64>() >= rewire || degrees[u as usize] >= n - 1 {
                    continue;
                }
                let w = loop {
                    let c = rng.random_range(0..n - 1);
                    let w = if c < u { c } else { c + 1 };
                    if !linked(&far_ends, u, w) {
                        break w;
                    }
                };
                let slot = (u * half + j - 1) as usize;
                degrees[far_ends[slot] as usize] -= 1;
                degrees[w as usize] += 1;
                far_ends[slot] = w;
            }
        }
    }
    Graph::from_edges(
        n,
        far_ends
            .iter()
            .enumerate()
            .map(|(slot, &w)| (slot as u32 / half, w)),
    )
}

/// A random `degree`-regular simple graph: the pairing model with its defects
/// switched away, or the switch chain from a circulant graph when that
/// repair takes too long (see the module documentation). Needs
/// `1 <= degree < n` and `n * degree` even.
pub fn random_regular(n: u32, degree: u32, rng: &mut SimRng) -> Graph {
    let mut pairing = RegularMultigraph::pairing(n, degree, rng);
    if pairing.repair(rng) {
        return pairing.into_graph();
    }
    // Freed before the circulant is built: never two multigraphs at once.
    drop(pairing);
    let mut circulant = RegularMultigraph::circulant(n, degree);
    circulant.mix(rng);
    circulant.into_graph()
}

/// A `degree`-regular multigraph on agents `0..n` (self loops count twice in
/// their agent's row) that switches keep regular.
struct RegularMultigraph {
    n: u32,
    degree: u32,
    /// Every edge once, in the order switches draw them.
    edges: Vec<[u32; 2]>,
    /// Agent `a`'s neighbours, with repeats, are `rows[a*degree..(a+1)*degree]`.
    rows: Vec<u32>,
}

impl RegularMultigraph {
    fn new(n: u32, degree: u32, edges: Vec<[u32; 2]>) -> Self {
        let k = degree as usize;
        let mut rows = vec![0u32; n as usize * k];
        let mut filled = vec![0u32; n as usize];
        for &[a, b] in &edges {
            for (from, to) in [(a, b), (b, a)] {
                rows[from as usize * k + filled[from as usize] as usize] = to;
                filled[from as usize] += 1;
            }
        }
        RegularMultigraph {
            n,
            degree,
            edges,
            rows,
        }
    }

    /// The pairing (configuration) model: `degree` points per agent,
    /// shuffled (Fisher–Yates, one draw per point but the first), paired in
    /// order.
    fn pairing(n: u32, degree: u32, rng: &mut SimRng) -> Self {
        let mut points: Vec<u32> = (0..n)
            .flat_map(|a| std::iter::repeat_n(a, degree as usize))
            .collect();
        for i in (1..points.len() as u32).rev() {
            let j = rng.random_range(0..=i);
            points.swap(i as usize, j as usize);
        }
        let edges = points.chunks_exact(2).map(|p| [p[0], p[1]]).collect();
        // Freed before the rows are built: the peak is the edges and rows.
        drop(points);
        RegularMultigraph::new(n, degree, edges)
    }

    /// The simple circulant graph linking `a` to `a±1` … `a±⌊degree/2⌋` and,
    /// for odd `degree` (so `n` is even), to `a+n/2`.
    fn circulant(n: u32, degree: u32) -> Self {
        let mut edges: Vec<[u32; 2]> = (1..=degree / 2)
            .flat_map(|j| (0..n).map(move |a| [a, (a + j) % n]))
            .collect();
        if degree % 2 == 1 {
            edges.extend((0..n / 2).map(|a| [a, a + n / 2]));
        }
        RegularMultigraph::new(n, degree, edges)
    }

    fn row(&self, a: u32) -> &[u32] {
        let k = self.degree as usize;
        &self.rows[a as usize * k..(a as usize + 1) * k]
    }

    fn linked(&self, a: u32, b: u32) -> bool {
        self.row(a).contains(&b)
    }

    /// Whether edge `e` is a self loop or one of several between its ends.
    fn is_defective(&self, e: u32) -> bool {
        let [a, b] = self.edges[e as usize];
        a == b || self.row(a).iter().filter(|&&x| x == b).count() > 1
    }

    /// Proposes replacing edge `first` (`a — b`) and edge `pick / 2`, taken
    /// as `c — d` or, for odd `pick`, as `d — c`, with `a — d` and `c — b`.
    /// Switches only when both new edges are new, distinct and not loops, so
    /// no defect appears; returns whether it switched.
    fn switch(&mut self, first: u32, pick: u32) -> bool {
        let second = pick / 2;
        let [a, b] = self.edges[first as usize];
        let [c, d] = match self.edges[second as usize] {
            [c, d] if pick.is_multiple_of(2) => [c, d],
            [c, d] => [d, c],
        };
        let same_pair = (a == c && d == b) || (a == b && c == d);
        if a == d || c == b || same_pair || self.linked(a, d) || self.linked(c, b) {
            return false;
        }
        self.replace(a, b, d);
        self.replace(b, a, c);
        self.replace(c, d, b);
        self.replace(d, c, a);
        self.edges[first as usize] = [a, d];
        self.edges[second as usize] = [c, b];
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

    /// Switches every defective edge, in edge order, with partners drawn
    /// uniformly (one draw per proposal), until the graph is simple; gives
    /// up (returns false) after [`SWITCH_PROPOSALS_PER_EDGE`] proposals per
    /// edge.
    fn repair(&mut self, rng: &mut SimRng) -> bool {
        let edge_count = self.edges.len() as u32;
        let suspects: Vec<u32> = (0..edge_count).filter(|&e| self.is_defective(e)).collect();
        let mut budget = SWITCH_PROPOSALS_PER_EDGE * u64::from(edge_count);
        for e in suspects {
            while self.is_defective(e) {
                if budget == 0 {
                    return false;
                }
                budget -= 1;
                let pick = rng.random_range(0..2 * edge_count);
                self.switch(e, pick);
            }
        }
        true
    }

    /// Runs the switch chain: [`SWITCH_PROPOSALS_PER_EDGE`] proposals per
    /// edge, each drawing its first edge and then its second with an
    /// orientation.
    fn mix(&mut self, rng: &mut SimRng) {
        let edge_count = self.edges.len() as u32;
        for _ in 0..SWITCH_PROPOSALS_PER_EDGE * u64::from(edge_count) {
            let first = rng.random_range(0..edge_count);
            let pick = rng.random_range(0..2 * edge_count);
            self.switch(first, pick);
        }
    }

    fn into_graph(self) -> Graph {
        let RegularMultigraph {
            n,
            degree,
            rows,
            edges,
        } = self;
        drop(edges);
        let mut graph = Graph {
            offsets: (0..=n).map(|a| a * degree).collect(),
            neighbours: rows,
        };
        graph.sort_rows();
        graph
    }
}

#[cfg(test)]
mod tests {
    use rand::RngCore;

    use super::*;
    use crate::rng::generator;

    /// Checks the graph is undirected and simple, and returns its edge count.
    fn edge_count_of_simple_graph(graph: &Graph, n: u32) -> u64 {
        assert_eq!(graph.offsets.len() as u32, n + 1);
        for a in 0..n {
            let row = graph.neighbours(a);
            assert!(
                row.windows(2).all(|w| w[0] < w[1]),
                "duplicate edge at {a}: {row:?}"
            );
            assert!(!row.contains(&a), "self loop at {a}");
            for &b in row {
                assert!(b < n);
                assert!(
                    graph.neighbours(b).binary_search(&a).is_ok(),
                    "{a}—{b} one-way"
                );
            }
        }
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
                    assert_eq!(graph.neighbours(a), nearest, "n={n} k={k} agent {a}");
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
        ];
        for (n, k) in cases {
            for seed in 0..8 {
                let graph = random_regular(n, k, &mut generator(seed));
                assert_eq!(edge_count_of_simple_graph(&graph, n), u64::from(n * k / 2));
                assert!(degrees(&graph, n).iter().all(|&d| d == k), "n={n} k={k}");
            }
        }
    }

    #[test]
    fn repair_switches_loops_and_repeated_edges_away() {
        // Two loops and a doubled edge on 4 agents of degree 2: the only
        // simple results are the three 4-cycles.
        let mut multigraph = RegularMultigraph::new(4, 2, vec![[0, 0], [1, 1], [2, 3], [2, 3]]);
        assert_eq!(
            (0..4).filter(|&e| multigraph.is_defective(e)).count(),
            4,
            "both loops and both copies of 2—3 are suspects"
        );
        assert!(multigraph.repair(&mut generator(3)));
        let graph = multigraph.into_graph();
        assert_eq!(edge_count_of_simple_graph(&graph, 4), 4);
        assert!(degrees(&graph, 4).iter().all(|&d| d == 2));
    }

    #[test]
    fn the_fallback_switch_chain_keeps_circulants_simple_and_regular() {
        for (n, k) in [(2, 1), (5, 2), (6, 3), (6, 5), (9, 8), (50, 7), (64, 10)] {
            let circulant = RegularMultigraph::circulant(n, k);
            assert!((0..n * k / 2).all(|e| !circulant.is_defective(e)));
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
            let graph = random_regular(4, 2, &mut generator(seed));
            seen.insert(graph.neighbours(0).to_vec());
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
    fn builds_are_reproducible_per_seed() {
        let regular = |seed| random_regular(200, 5, &mut generator(seed));
        let small = |seed| small_world(200, 6, 0.3, &mut generator(seed));
        assert_eq!(regular(4), regular(4));
        assert_eq!(small(4), small(4));
        assert_ne!(regular(4), regular(5));
        assert_ne!(small(4), small(5));
    }
}

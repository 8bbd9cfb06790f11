//! The exact law of a gossip run on the complete network.
//!
//! On the complete network honest agents are exchangeable: given how many
//! honest agents vote for, against and abstain, each one updates
//! independently of the others, with a law that depends only on its own
//! vote. So those counts form a Markov chain, and its law is carried round by
//! round over every reachable state.
//!
//! One honest agent's round: its `k = min(fanout, n-1)` peers are `k`
//! distinct agents drawn uniformly among the `n-1` others; each exchange is
//! kept with probability `1 - loss`, independently, and an exchange with a
//! silent peer never counts. Kept exchanges are a uniform subset of the
//! peers, so the number kept is `Binomial(k, 1-loss)` and, given it, the
//! peers heard are a uniform draw of that many among the others: the votes
//! heard for is hypergeometric, and given it the votes heard against is
//! hypergeometric among the rest. The agent adopts the strict majority of
//! its own vote and those it heard (a tie keeps its vote), so an agent for
//! switches when it hears at least two more against than for, an agent
//! against when it hears two more for, and an abstainer follows any lead.
//!
//! The next state: `X` of the `a` agents for switch (`Binomial(a, p_for)`),
//! `Y` of the `b` against switch (`Binomial(b, p_against)`), and of the `c`
//! abstainers `R` take a side (`Binomial(c, p_resolve)`), of whom `F` for
//! (`Binomial(R, p_side)`). So `a' = a - X + Y + F` and `c' = c - R`: the law
//! of `Y - X` is a convolution, combined with the abstainers' law. Each
//! transition is computed from the state's own counts; terms whose
//! probability, weighted by the state's, is below [`DROP_BELOW`] are dropped
//! and counted.
//!
//! States: `(a, c)` with `c` at most the initial honest abstainers (an
//! abstainer who takes a side never abstains again), so a swarm without
//! honest abstainers has `h+1` states for `h` honest agents, and one with
//! `c0` abstainers at most `(h+1)(c0+1)`. Without early stop each state also
//! carries whether the run has converged yet.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;

use super::{DROP_BELOW, DecisionProbabilities};
use crate::consensus::VoteCounts;
use crate::consensus::gossip::decide;
use crate::pmf::{binomial, hypergeometric, window};
use crate::scenario::{Behavior, Decision, GossipConfig, Swarm, Topology};

/// One round of the exact law.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExactRound {
    /// Round number, from 1.
    pub round: u32,
    /// P(the round runs): the run has not stopped at an earlier convergence.
    pub running: f64,
    /// P(the run converges for the first time in this round).
    pub converged_in: f64,
    /// P(the run has converged by this round).
    pub converged_by: f64,
    /// Expected agreement ratio after this round (a run that stopped
    /// earlier keeps its final votes).
    pub expected_agreement: f64,
    /// Expected exchanges that fail this round (none in a run that stopped).
    pub expected_lost_exchanges: f64,
    /// The law's total mass after this round, dropped mass included: 1 up
    /// to rounding (for tests).
    #[serde(skip)]
    pub mass: f64,
}

/// One possible end of a run: the final votes of the counted agents and
/// their probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinalState {
    /// Votes for.
    pub votes_for: u64,
    /// Votes against.
    pub votes_against: u64,
    /// Abstentions.
    pub abstain: u64,
    /// P(the run ends with these votes).
    pub probability: f64,
}

/// The exact law of a gossip run: the figures of
/// [`crate::montecarlo::GossipTrialsSummary`] as probabilities and exact
/// quantiles, and per-round figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GossipExactSummary {
    /// P(some round converges).
    pub convergence_rate: f64,
    /// E[first converged round | converged].
    pub rounds_mean: Option<f64>,
    /// Standard deviation of the first converged round, given convergence.
    pub rounds_sd: Option<f64>,
    /// Nearest-rank median of the first converged round, given convergence.
    pub rounds_p50: Option<u32>,
    /// 90th percentile.
    pub rounds_p90: Option<u32>,
    /// 99th percentile.
    pub rounds_p99: Option<u32>,
    /// The latest round with a positive probability of first convergence.
    pub rounds_max: Option<u32>,
    /// Each decision's probability (approved, rejected).
    pub decisions: DecisionProbabilities,
    /// What the initial votes decide under the same threshold: a decision
    /// other than this one is wrong.
    pub reference_decision: &'static str,
    /// P(the final decision differs from `reference_decision`).
    pub wrong_decision_probability: f64,
    /// E[agreement ratio after the last round].
    pub mean_final_agreement: f64,
    /// Standard deviation of the final agreement ratio.
    pub final_agreement_sd: f64,
    /// Round by round.
    pub rounds: Vec<ExactRound>,
    /// The law of the final votes: every final state with a positive
    /// probability, most votes for first.
    pub final_law: Vec<FinalState>,
    /// The most states the law held in one round.
    pub states: u64,
    /// Probability mass dropped below [`super::DROP_BELOW`].
    pub dropped_mass: f64,
}

/// Most states `(honest + 1) × (honest abstainers + 1)` the law may have:
/// its arrays (the law, the runs that stopped or converged, the next
/// round's partial laws: 7 of this many `f64`s at most) and the kept
/// transitions stay within 256 MiB.
pub const MAX_STATES: u64 = 2_000_000;

/// Most elementary steps (a term of a transition, a term of a heard-vote
/// law) one law may take. The steps of the transitions of the states a
/// round reaches are counted before they are made, so a law that would run
/// for minutes is refused within seconds (a few seconds of a release build
/// on one core at the limit).
pub const MAX_STEPS: u64 = 5_000_000_000;

/// Most numbers (`f64`s) one law holds: 224 MiB. The state arrays come
/// first; what is left keeps the per-state transitions from round to round
/// (states beyond it are recomputed every round).
const MAX_NUMBERS: usize = 28 << 20;

/// Most chunks of states a round is cut into, for threads.
const CHUNKS: usize = 8;

/// Fewest states worth a chunk of their own.
const MIN_CHUNK_STATES: usize = 1024;

/// Most numbers the chunks' partial laws of one round may hold together
/// (64 MiB); fewer chunks when the states are many.
const MAX_PARTIAL_NUMBERS: usize = 8 << 20;

/// Why the law of a setting cannot be computed, one line for `--exact`.
fn refusal(reason: String) -> String {
    format!("{reason}; use --trials to sample it instead")
}

/// The exact law of a gossip run of `agents` under `config` (which must be
/// valid), or why it is refused: a topology other than complete, a
/// partition, or a state space or a computation beyond [`MAX_STATES`] or
/// [`MAX_STEPS`] (the message names `--trials`).
pub fn law(agents: &Swarm, config: &GossipConfig) -> Result<GossipExactSummary, String> {
    if config.topology != Topology::Complete {
        return Err(refusal(format!(
            "the exact law covers the complete topology only: on a {} network who \
             neighbours whom matters, so the run is not a chain over vote counts",
            config.topology.name()
        )));
    }
    if !config.partitions.is_empty() {
        return Err(refusal(
            "the exact law does not cover partitions: which group an agent is in matters, \
             so the run is not a chain over vote counts"
                .to_string(),
        ));
    }
    let chain = Chain::of(agents, config);
    let states = (chain.honest + 1) * chain.width as u64;
    if states > MAX_STATES {
        return Err(refusal(format!(
            "the exact law of {} honest agents, {} of them abstaining, has up to {states} \
             states, more than the limit of {MAX_STATES}",
            chain.honest,
            chain.width - 1
        )));
    }
    chain.run()
}

/// What one honest agent does in a round, by its own vote: each a
/// probability computed directly (never as one minus another).
#[derive(Debug, Clone, Copy)]
struct Kernel {
    /// An agent for switches to against; stays.
    for_switch: f64,
    for_stay: f64,
    /// An agent against switches to for; stays.
    against_switch: f64,
    against_stay: f64,
    /// An abstainer takes for; takes against; keeps abstaining.
    abstain_for: f64,
    abstain_against: f64,
    abstain_stay: f64,
}

/// What one state does in a round, the same every round.
struct Moves {
    kernel: Kernel,
    /// Whether the state never changes.
    still: bool,
    /// `net[i]`: P(the voters change the for-count by `lowest + i`), its
    /// terms of at least [`DROP_BELOW`] (a unimodal law: a convolution of
    /// two binomials).
    net: Vec<f64>,
    lowest: i64,
    /// The index of `net`'s largest term.
    peak: usize,
    /// The share of the law left out of `net`.
    left_out: f64,
}

impl Moves {
    fn new(kernel: Kernel, still: bool, net: Vec<f64>, lowest: i64, left_out: f64) -> Self {
        let peak = net
            .iter()
            .enumerate()
            .fold(0, |best, (i, &p)| if p > net[best] { i } else { best });
        Moves {
            kernel,
            still,
            net,
            lowest,
            peak,
            left_out,
        }
    }

    /// The run of `net` whose terms, weighted by `weight`, are at least
    /// [`DROP_BELOW`], and the weighted mass of the others (the law is
    /// unimodal, so they are its two ends, summed from the small end).
    fn kept(&self, weight: f64) -> (std::ops::Range<usize>, f64) {
        let heavy = |p: &f64| weight * p >= DROP_BELOW;
        let start = self.net[..self.peak].partition_point(|p| !heavy(p));
        let end = (self.peak + self.net[self.peak..].partition_point(heavy)).max(start);
        let light: f64 =
            self.net[..start].iter().sum::<f64>() + self.net[end..].iter().rev().sum::<f64>();
        (start..end, weight * light)
    }

    /// How many numbers it holds.
    fn size(&self) -> usize {
        self.net.len()
    }
}

/// States whose transitions one thread computes, and those transitions
/// kept for later rounds.
struct Chunk {
    states: std::ops::Range<usize>,
    cache: HashMap<usize, Moves>,
    cached: usize,
    /// The kernels of the states this round meets for the first time.
    kernels: HashMap<usize, Kernel>,
}

/// A round's laws from one chunk of states, or from all.
struct Advance {
    next: [Vec<f64>; 2],
    dropped: f64,
    steps: u64,
    live: u64,
    still: bool,
    /// Whether a chunk stopped: the round would pass [`MAX_STEPS`].
    over: bool,
}

/// The laws of how many of a state's voters switch away and toward.
struct Switching {
    away: Vec<f64>,
    toward: Vec<f64>,
    away_run: std::ops::Range<usize>,
    toward_run: std::ops::Range<usize>,
    left_out: f64,
}

impl Switching {
    /// The steps their convolution takes.
    fn cost(&self) -> u64 {
        (self.away_run.len() * self.toward_run.len() + self.away.len() + self.toward.len()) as u64
    }
}

/// The chain of one swarm and setting.
struct Chain<'a> {
    config: &'a GossipConfig,
    /// Honest agents, and their initial counts.
    honest: u64,
    start: (u64, u64),
    /// The initial honest abstainers + 1: the rows of the state arrays.
    width: usize,
    /// Stubborn agents' votes, which never change.
    stubborn: VoteCounts,
    /// The agents an honest agent may draw: every other one.
    others: u64,
    /// P(j of the k exchanges are kept), j in 0..=k.
    kept: Vec<f64>,
    /// Expected failed exchanges of one honest agent in one round.
    failures: f64,
}

impl<'a> Chain<'a> {
    fn of(agents: &Swarm, config: &'a GossipConfig) -> Self {
        let mut honest = VoteCounts::default();
        let mut stubborn = VoteCounts::default();
        let mut silent = 0u64;
        for (&vote, &behavior) in agents.votes().iter().zip(agents.behaviors()) {
            match behavior {
                Behavior::Honest => honest.add(vote),
                Behavior::Stubborn => stubborn.add(vote),
                _ => silent += 1,
            }
        }
        let n = agents.len() as u64;
        let others = n.saturating_sub(1);
        let k = u64::from(config.fanout).min(others);
        let keep = 1.0 - config.loss;
        // A peer is silent with probability silent / others; an exchange
        // fails when lost or, kept, with a silent peer.
        let silent_share = if others == 0 {
            0.0
        } else {
            silent as f64 / others as f64
        };
        let failures = k as f64 * (config.loss + keep * silent_share);
        Chain {
            config,
            honest: honest.total(),
            start: (honest.votes_for, honest.abstain),
            width: honest.abstain as usize + 1,
            stubborn,
            others,
            kept: binomial(k, keep, config.loss),
            failures,
        }
    }

    /// The counted agents' votes in state `(a, c)`.
    fn counts(&self, a: u64, c: u64) -> VoteCounts {
        VoteCounts {
            votes_for: a + self.stubborn.votes_for,
            votes_against: self.honest - a - c + self.stubborn.votes_against,
            abstain: c + self.stubborn.abstain,
        }
    }

    /// Whether state `(a, c)` has converged, exactly as a run decides it.
    fn converged(&self, counts: &VoteCounts) -> bool {
        counts.agreement_ratio() >= self.config.convergence_threshold
            && counts.participation() >= self.config.min_participation
    }

    /// The state at `index`: rows of equal abstainers, by for-count.
    fn state(&self, index: usize) -> (u64, u64) {
        let row = self.honest as usize + 1;
        ((index % row) as u64, (index / row) as u64)
    }

    /// Where state `(a, c)` is.
    fn index(&self, a: u64, c: u64) -> usize {
        c as usize * (self.honest as usize + 1) + a as usize
    }

    /// The law of the lead `D` = votes heard for − votes heard against of an
    /// honest agent whose others include `for_peers` voting for and
    /// `against_peers` against: P(D ≤ −2), P(D = −1), P(D = 0), P(D = 1),
    /// P(D ≥ 2). Each a sum of positive terms; `steps` counts them.
    fn lead_law(&self, for_peers: u64, against_peers: u64, steps: &mut u64) -> [f64; 5] {
        let population = self.others;
        let rest = population - for_peers - against_peers;
        let mut buckets = [0.0; 5];
        for (heard, &w) in self.kept.iter().enumerate() {
            if w == 0.0 {
                continue;
            }
            let heard = heard as u64;
            let for_law = hypergeometric(heard, for_peers, population);
            *steps += for_law.len() as u64;
            for (x, &px) in for_law.iter().enumerate() {
                if px == 0.0 {
                    continue;
                }
                let against_law =
                    hypergeometric(heard - x as u64, against_peers, against_peers + rest);
                *steps += against_law.len() as u64;
                for (y, &py) in against_law.iter().enumerate() {
                    if py > 0.0 {
                        let lead = (x as i64 - y as i64).clamp(-2, 2);
                        buckets[(lead + 2) as usize] += w * px * py;
                    }
                }
            }
        }
        buckets
    }

    /// The kernel of state `(a, c)`.
    fn kernel(&self, a: u64, c: u64, steps: &mut u64) -> Kernel {
        let b = self.honest - a - c;
        let (sf, sa) = (self.stubborn.votes_for, self.stubborn.votes_against);
        let mut kernel = Kernel {
            for_switch: 0.0,
            for_stay: 1.0,
            against_switch: 0.0,
            against_stay: 1.0,
            abstain_for: 0.0,
            abstain_against: 0.0,
            abstain_stay: 1.0,
        };
        if a > 0 {
            let [l2, l1, z, r1, r2] = self.lead_law(a - 1 + sf, b + sa, steps);
            kernel.for_switch = l2;
            kernel.for_stay = l1 + z + r1 + r2;
        }
        if b > 0 {
            let [l2, l1, z, r1, r2] = self.lead_law(a + sf, b - 1 + sa, steps);
            kernel.against_switch = r2;
            kernel.against_stay = l2 + l1 + z + r1;
        }
        if c > 0 {
            let [l2, l1, z, r1, r2] = self.lead_law(a + sf, b + sa, steps);
            kernel.abstain_for = r1 + r2;
            kernel.abstain_against = l2 + l1;
            kernel.abstain_stay = z;
        }
        kernel
    }

    /// Whether state `(a, c)` never changes under `kernel`.
    fn still(&self, a: u64, c: u64, kernel: &Kernel) -> bool {
        let b = self.honest - a - c;
        (a == 0 || kernel.for_switch == 0.0)
            && (b == 0 || kernel.against_switch == 0.0)
            && (c == 0 || kernel.abstain_stay == 1.0)
    }

    /// The voters' switching laws of state `(a, c)` under `kernel`
    /// (`Binomial(a, p_for)` away, `Binomial(b, p_against)` toward), the
    /// runs of each kept, and the share of the law left out.
    fn switching(&self, a: u64, c: u64, kernel: &Kernel) -> Switching {
        let b = self.honest - a - c;
        let away = binomial(a, kernel.for_switch, kernel.for_stay);
        let toward = binomial(b, kernel.against_switch, kernel.against_stay);
        let (away_run, away_left) = window(&away, 1.0, DROP_BELOW);
        let (toward_run, toward_left) = window(&toward, 1.0, DROP_BELOW);
        Switching {
            away,
            toward,
            away_run,
            toward_run,
            left_out: away_left + toward_left,
        }
    }

    /// What state `(a, c)` does in a round under `kernel`, computed once for
    /// every round: the law of the net change of the for-count from the
    /// agents who voted, `Binomial(b, p_against) − Binomial(a, p_for)`.
    fn moves(&self, a: u64, c: u64, kernel: Kernel, steps: &mut u64) -> Moves {
        let Switching {
            away,
            toward,
            away_run,
            toward_run,
            left_out,
        } = self.switching(a, c, &kernel);
        *steps += a + (self.honest - a - c) + 2;
        // From the fewest switching toward and the most away, up.
        let lowest = toward_run.start as i64 - (away_run.end as i64 - 1);
        let mut net = vec![0.0; (away_run.len() + toward_run.len()).saturating_sub(1)];
        let toward_kept = &toward[toward_run.clone()];
        for x in away_run.clone() {
            // Each x adds its row: one contiguous stretch of `net`.
            let from = (toward_run.start as i64 - x as i64 - lowest) as usize;
            for (slot, &t) in net[from..from + toward_kept.len()]
                .iter_mut()
                .zip(toward_kept)
            {
                *slot += away[x] * t;
            }
        }
        *steps += (away_run.len() * toward_run.len()) as u64;
        Moves::new(kernel, self.still(a, c, &kernel), net, lowest, left_out)
    }

    /// Adds to `next` the law after one round of state `(a, c)`, of
    /// probability `mass`, which moves as `moves` says; returns the mass
    /// dropped.
    fn step(
        &self,
        (a, c): (u64, u64),
        mass: f64,
        moves: &Moves,
        next: &mut [f64],
        steps: &mut u64,
    ) -> f64 {
        let row = self.honest as usize + 1;
        let mut dropped = mass * moves.left_out;
        // Adds `weight` × the net law, shifted by `sided_for`, to row `c - resolved`.
        let mut add = |weight: f64, sided_for: u64, resolved: u64| -> f64 {
            let first = (a as i64 + moves.lowest) as usize + sided_for as usize;
            let target = &mut next[(c - resolved) as usize * row + first..];
            let (kept, left) = moves.kept(weight);
            let from = &moves.net[kept.clone()];
            for (slot, &p) in target[kept.start..kept.end].iter_mut().zip(from) {
                *slot += weight * p;
            }
            *steps += from.len() as u64 + 1;
            left
        };
        if c == 0 {
            return dropped + add(mass, 0, 0);
        }
        // `r` of the `c` abstainers take a side, and of those `f` for: the
        // row of `c - r` abstainers gets P(r) × (net ⊛ Binomial(r, side)).
        // Binomial(r, side) is Binomial(r - 1, side) ⊛ Binomial(1, side),
        // so each r's row is the previous one's, one step further.
        let kernel = &moves.kernel;
        let sides = kernel.abstain_for + kernel.abstain_against;
        let resolving = binomial(c, sides, kernel.abstain_stay);
        let (resolved_run, dropped_resolving) = window(&resolving, mass, DROP_BELOW);
        dropped += dropped_resolving;
        let (side_for, side_against) = if sides > 0.0 {
            (kernel.abstain_for / sides, kernel.abstain_against / sides)
        } else {
            (0.0, 1.0)
        };
        let first = (a as i64 + moves.lowest) as usize;
        let end = resolved_run.end;
        // `reach[r]`: the largest P(R = r') of the rows still to come, and
        // `ahead[r]`: their sum. A term of the law at r that weighs less
        // than DROP_BELOW even at `reach[r]` adds less than that to every
        // later row, so it is dropped, and `ahead[r]` says how much it held.
        let mut reach = vec![0.0f64; end + 1];
        let mut ahead = vec![0.0; end + 1];
        for r in (resolved_run.start..end).rev() {
            reach[r] = reach[r + 1].max(resolving[r]);
            ahead[r] = ahead[r + 1] + resolving[r];
        }
        for r in 0..resolved_run.start {
            (reach[r], ahead[r]) = (reach[resolved_run.start], ahead[resolved_run.start]);
        }
        let (mut law, mut spare) = (Vec::new(), Vec::new());
        // Where `law[0]` is, from `first`.
        let mut offset = 0;
        let mut work = c + 1;
        for r in 0..end {
            let whole: &[f64] = if r == 0 {
                &moves.net
            } else {
                spare.clear();
                spare.push(side_against * law[0]);
                spare.extend(
                    law.windows(2)
                        .map(|pair| side_against * pair[1] + side_for * pair[0]),
                );
                spare.push(side_for * law[law.len() - 1]);
                &spare
            };
            let heavy = |p: &f64| mass * reach[r] * p >= DROP_BELOW;
            let low = whole.iter().position(heavy).unwrap_or(whole.len());
            let high = whole.iter().rposition(heavy).map_or(low, |i| i + 1);
            let light: f64 = whole[..low].iter().chain(&whole[high..]).sum();
            dropped += mass * ahead[r] * light;
            let kept = whole[low..high].to_vec();
            work += 2 * whole.len() as u64;
            law = kept;
            offset += low;
            if law.is_empty() {
                break;
            }
            if resolved_run.contains(&r) {
                let weight = mass * resolving[r];
                let target = &mut next[(c as usize - r) * row + first + offset..];
                for (slot, &p) in target[..law.len()].iter_mut().zip(&law) {
                    *slot += weight * p;
                }
            }
        }
        *steps += work;
        dropped
    }

    /// The chunks the states are cut into, by index: a number fixed by the
    /// size alone, so the sums are the same on any number of threads.
    fn chunks(&self, size: usize) -> Vec<Chunk> {
        // Small laws on one thread: starting threads would cost more.
        let count = (size / MIN_CHUNK_STATES)
            .min(MAX_PARTIAL_NUMBERS / (2 * size))
            .clamp(1, CHUNKS);
        let span = size.div_ceil(count);
        (0..count)
            .map(|i| Chunk {
                states: i * span..((i + 1) * span).min(size),
                cache: HashMap::new(),
                cached: 0,
                kernels: HashMap::new(),
            })
            .collect()
    }

    /// One round of the laws `laws` (runs not converged, and without early
    /// stop runs converged before), each chunk of states on a thread of its
    /// own, their results summed in chunk order.
    fn advance(&self, laws: [&[f64]; 2], chunks: &mut [Chunk], allowance: u64) -> Advance {
        let size = laws[0].len();
        let arrays = 5 * size + 2 * size * chunks.len();
        let budget = MAX_NUMBERS.saturating_sub(arrays) / chunks.len();
        let live = |index: &usize| laws.iter().any(|law| law.get(*index) > Some(&0.0));
        // First the states met for the first time: their kernels, and what
        // their transitions will cost, so a law too large is refused before
        // the work.
        let planned: u64 = chunks
            .par_iter_mut()
            .map(|chunk| {
                let mut steps = 0;
                for index in chunk.states.clone().filter(live) {
                    if !chunk.cache.contains_key(&index) {
                        let (a, c) = self.state(index);
                        let kernel = self.kernel(a, c, &mut steps);
                        steps += self.switching(a, c, &kernel).cost();
                        chunk.kernels.insert(index, kernel);
                    }
                }
                steps
            })
            .sum();
        if planned > allowance {
            return Advance {
                next: [Vec::new(), Vec::new()],
                dropped: 0.0,
                steps: planned,
                live: 0,
                still: false,
                over: true,
            };
        }
        let parts: Vec<Advance> = chunks
            .par_iter_mut()
            .map(|chunk| {
                let mut part = Advance {
                    next: laws.map(|law| vec![0.0; law.len()]),
                    dropped: 0.0,
                    steps: 0,
                    live: 0,
                    still: true,
                    over: false,
                };
                let kernels = std::mem::take(&mut chunk.kernels);
                for (law, next) in laws.iter().zip(part.next.iter_mut()) {
                    // Without early stop only; empty otherwise.
                    if law.is_empty() {
                        continue;
                    }
                    for index in chunk.states.clone() {
                        let mass = law[index];
                        if mass == 0.0 {
                            continue;
                        }
                        part.live += 1;
                        let (a, c) = self.state(index);
                        let made;
                        let moves = match chunk.cache.get(&index) {
                            Some(moves) => moves,
                            None => {
                                let kernel = kernels[&index];
                                let moves = self.moves(a, c, kernel, &mut part.steps);
                                if chunk.cached + moves.size() <= budget {
                                    chunk.cached += moves.size();
                                    chunk.cache.entry(index).or_insert(moves)
                                } else {
                                    made = moves;
                                    &made
                                }
                            }
                        };
                        part.still &= moves.still;
                        part.dropped += self.step((a, c), mass, moves, next, &mut part.steps);
                    }
                }
                part
            })
            .collect();
        let mut parts = parts.into_iter();
        let mut total = parts.next().expect("one chunk at least");
        total.steps += planned;
        for part in parts {
            for (sum, next) in total.next.iter_mut().zip(&part.next) {
                for (s, &p) in sum.iter_mut().zip(next) {
                    *s += p;
                }
            }
            total.dropped += part.dropped;
            total.steps += part.steps;
            total.live += part.live;
            total.still &= part.still;
            total.over |= part.over;
        }
        total
    }

    /// Carries the law round by round and sums it up.
    fn run(&self) -> Result<GossipExactSummary, String> {
        let size = (self.honest as usize + 1) * self.width;
        let early_stop = self.config.early_stop;
        // Runs still going: not converged yet, and (without early stop)
        // converged in an earlier round.
        let mut fresh = vec![0.0; size];
        let mut done = vec![0.0; if early_stop { 0 } else { size }];
        // Runs that stopped at convergence, by final state.
        let mut stopped = vec![0.0; if early_stop { size } else { 0 }];
        fresh[self.index(self.start.0, self.start.1)] = 1.0;
        let mut chunks = self.chunks(size);
        let (mut steps, mut dropped, mut most_states) = (0u64, 0.0, 0u64);
        let mut rounds: Vec<ExactRound> = Vec::new();
        let mut stopped_agreement = 0.0;
        let (mut stopped_mass, mut converged_by) = (0.0, 0.0);
        for round in 1..=self.config.max_rounds {
            let running: f64 = fresh.iter().chain(&done).sum();
            if running == 0.0 {
                break;
            }
            let allowance = MAX_STEPS - steps;
            let advanced = self.advance([&fresh, &done], &mut chunks, allowance);
            steps = steps.saturating_add(advanced.steps);
            dropped += advanced.dropped;
            let [mut next_fresh, mut next_done] = advanced.next;
            let (still, live_states) = (advanced.still, advanced.live);
            if advanced.over || steps > MAX_STEPS {
                return Err(refusal(format!(
                    "the exact law needs more than {MAX_STEPS} steps by round {round} \
                     ({} honest agents, fanout {}, {} rounds at most)",
                    self.honest, self.config.fanout, self.config.max_rounds
                )));
            }
            most_states = most_states.max(live_states);
            for mass in next_fresh.iter_mut().chain(next_done.iter_mut()) {
                if *mass < DROP_BELOW {
                    dropped += *mass;
                    *mass = 0.0;
                }
            }
            let mut converged_in = 0.0;
            let mut expected_agreement = stopped_agreement;
            for index in 0..size {
                let mass = next_fresh[index];
                let also_done = next_done.get(index).copied().unwrap_or(0.0);
                if mass == 0.0 && also_done == 0.0 {
                    continue;
                }
                let (a, c) = self.state(index);
                let counts = self.counts(a, c);
                let agreement = counts.agreement_ratio();
                expected_agreement += (mass + also_done) * agreement;
                if mass > 0.0 && self.converged(&counts) {
                    converged_in += mass;
                    next_fresh[index] = 0.0;
                    if early_stop {
                        stopped[index] += mass;
                        stopped_agreement += mass * agreement;
                        stopped_mass += mass;
                    } else {
                        next_done[index] += mass;
                    }
                }
            }
            converged_by += converged_in;
            let live: f64 = next_fresh.iter().chain(&next_done).sum();
            rounds.push(ExactRound {
                round,
                running: running.min(1.0),
                converged_in,
                converged_by: converged_by.min(1.0),
                expected_agreement,
                expected_lost_exchanges: running * self.honest as f64 * self.failures,
                mass: live + stopped_mass + dropped,
            });
            fresh = next_fresh;
            done = next_done;
            // Nothing can change any more: every later round repeats this one.
            if still && converged_in == 0.0 {
                let last = rounds.last().expect("a round ran").clone();
                for later in round + 1..=self.config.max_rounds {
                    rounds.push(ExactRound {
                        round: later,
                        ..last.clone()
                    });
                }
                break;
            }
        }
        // The final law: the runs that stopped, and those still going.
        let mut finals = stopped;
        for (index, &mass) in fresh.iter().chain(&done).enumerate() {
            if mass > 0.0 {
                if finals.is_empty() {
                    finals = vec![0.0; size];
                }
                finals[index % size] += mass;
            }
        }
        Ok(self.summary(&finals, rounds, most_states, dropped))
    }

    /// The summary of a law whose final states have probabilities `finals`.
    fn summary(
        &self,
        finals: &[f64],
        rounds: Vec<ExactRound>,
        states: u64,
        dropped_mass: f64,
    ) -> GossipExactSummary {
        let (start_for, start_abstain) = self.start;
        let reference = decide(
            &self.counts(start_for, start_abstain),
            self.config.threshold,
        );
        let mut decisions: DecisionProbabilities = [Decision::Approved, Decision::Rejected]
            .iter()
            .map(|d| (d.name(), 0.0))
            .collect();
        let (mut wrong, mut mean_agreement) = (0.0, 0.0);
        let mut final_law = Vec::new();
        let mut ends = Vec::new();
        for (index, &mass) in finals.iter().enumerate() {
            if mass == 0.0 {
                continue;
            }
            let (a, c) = self.state(index);
            let counts = self.counts(a, c);
            let decision = decide(&counts, self.config.threshold);
            *decisions.entry(decision.name()).or_insert(0.0) += mass;
            if decision != reference {
                wrong += mass;
            }
            let agreement = counts.agreement_ratio();
            mean_agreement += mass * agreement;
            ends.push((mass, agreement));
            final_law.push(FinalState {
                votes_for: counts.votes_for,
                votes_against: counts.votes_against,
                abstain: counts.abstain,
                probability: mass,
            });
        }
        final_law.sort_by_key(|s| std::cmp::Reverse((s.votes_for, s.votes_against)));
        // Moments over the law's own mass (1 up to rounding), so an
        // agreement every run shares has exactly that mean and no spread.
        let total: f64 = ends.iter().map(|(mass, _)| mass).sum();
        if total > 0.0 {
            mean_agreement /= total;
        }
        let spread = ends
            .iter()
            .map(|(mass, agreement)| mass * (agreement - mean_agreement).powi(2))
            .sum::<f64>()
            / total.max(f64::MIN_POSITIVE);
        let converged: f64 = rounds.iter().map(|r| r.converged_in).sum();
        let (rounds_mean, rounds_sd) = if converged > 0.0 {
            let mean = rounds
                .iter()
                .map(|r| r.converged_in * f64::from(r.round))
                .sum::<f64>()
                / converged;
            let variance = rounds
                .iter()
                .map(|r| r.converged_in * (f64::from(r.round) - mean).powi(2))
                .sum::<f64>()
                / converged;
            (Some(mean), Some(variance.sqrt()))
        } else {
            (None, None)
        };
        let percentile = |percent: f64| -> Option<u32> {
            if converged == 0.0 {
                return None;
            }
            // Nearest rank: the first round by which this share of the
            // converged runs has converged (up to rounding of the sums).
            let wanted = percent / 100.0 * converged * (1.0 - 1e-12);
            let mut seen = 0.0;
            rounds.iter().find_map(|r| {
                seen += r.converged_in;
                (r.converged_in > 0.0 && seen >= wanted).then_some(r.round)
            })
        };
        GossipExactSummary {
            // Sums of many terms may pass 1 by a rounding error or two.
            convergence_rate: converged.min(1.0),
            rounds_mean,
            rounds_sd,
            rounds_p50: percentile(50.0),
            rounds_p90: percentile(90.0),
            rounds_p99: percentile(99.0),
            rounds_max: rounds
                .iter()
                .rev()
                .find(|r| r.converged_in > 0.0)
                .map(|r| r.round),
            decisions: decisions
                .into_iter()
                .map(|(d, p)| (d, p.min(1.0)))
                .collect(),
            reference_decision: reference.name(),
            wrong_decision_probability: wrong.min(1.0),
            mean_final_agreement: mean_agreement,
            final_agreement_sd: spread.max(0.0).sqrt(),
            rounds,
            final_law,
            states,
            dropped_mass,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Vote;

    fn crowd(parts: &[(Vote, Behavior, usize)]) -> Swarm {
        let groups: Vec<_> = parts.iter().map(|&(v, b, n)| (n as u64, v, b)).collect();
        Swarm::of_groups(&groups)
    }

    fn honest(parts: &[(Vote, usize)]) -> Swarm {
        let parts: Vec<_> = parts
            .iter()
            .map(|&(v, n)| (v, Behavior::Honest, n))
            .collect();
        crowd(&parts)
    }

    fn config(fanout: u32, max_rounds: u32) -> GossipConfig {
        GossipConfig {
            fanout,
            max_rounds,
            ..GossipConfig::default()
        }
    }

    /// Every round's law sums to 1, and what was dropped is negligible.
    fn sound(law: &GossipExactSummary) {
        for r in &law.rounds {
            assert!(
                (r.mass - 1.0).abs() <= 1e-12,
                "round {}: {}",
                r.round,
                r.mass
            );
        }
        assert!(law.dropped_mass <= 1e-12, "{}", law.dropped_mass);
        let decided: f64 = law.decisions.values().sum();
        assert!((decided - 1.0).abs() <= 1e-12, "{decided}");
        let ends: f64 = law.final_law.iter().map(|s| s.probability).sum();
        assert!((ends - 1.0).abs() <= 1e-12, "{ends}");
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1e-300)
    }

    #[test]
    fn example_two_converges_in_round_one_as_derived_by_hand() {
        // 15 for, 5 against, fanout 5, convergence at 95%: 19 of 20 agree.
        // A rejecter hears 5 of the 19 others (15 for, 4 against) and
        // switches when it hears at least 4 for: [C(15,4)C(4,1) + C(15,5)]
        // / C(19,5) = (5460 + 3003) / 11628 = 2821/3876. An approver hears
        // 5 of 14 for and 5 against and defects on at least 4 against:
        // [C(5,4)C(14,1) + C(5,5)] / 11628 = 71/11628. Round 1 converges
        // when at most one of the 20 ends against: no defector and 4 or 5
        // switchers, or one defector and 5 switchers (19 against would need
        // 14 defectors, about 1e-31, below the 1e-12 asked).
        let s: f64 = 2821.0 / 3876.0;
        let d: f64 = 71.0 / 11628.0;
        let q = 1.0 - d;
        let by_hand = q.powi(15) * (s.powi(5) + 5.0 * s.powi(4) * (1.0 - s))
            + 15.0 * d * q.powi(14) * s.powi(5);
        assert!(close(by_hand, 0.5518121268626385), "{by_hand}");
        let c = GossipConfig {
            convergence_threshold: 0.95,
            threshold: 0.66,
            ..config(5, 7)
        };
        let law = law(&honest(&[(Vote::For, 15), (Vote::Against, 5)]), &c).unwrap();
        sound(&law);
        assert!(
            close(law.rounds[0].converged_in, 0.5518121268626385),
            "{}",
            law.rounds[0].converged_in
        );
        assert_eq!(law.rounds[0].running, 1.0);
        assert_eq!(law.reference_decision, "approved");
    }

    #[test]
    fn two_for_one_against_with_fanout_one_never_moves() {
        // Each agent hears its own vote and one other: never a strict
        // majority against it. Agreement stays 2/3, below any threshold.
        let law = law(
            &honest(&[(Vote::For, 2), (Vote::Against, 1)]),
            &config(1, 6),
        )
        .unwrap();
        sound(&law);
        assert_eq!(law.convergence_rate, 0.0);
        assert_eq!(law.rounds_mean, None);
        assert_eq!(law.rounds.len(), 6);
        assert!(
            law.rounds
                .iter()
                .all(|r| r.running == 1.0 && r.converged_by == 0.0)
        );
        assert_eq!(law.final_law.len(), 1);
        assert_eq!(
            (law.final_law[0].votes_for, law.final_law[0].votes_against),
            (2, 1)
        );
        assert!(close(law.mean_final_agreement, 2.0 / 3.0));
    }

    #[test]
    fn total_loss_never_changes_a_vote() {
        let c = GossipConfig {
            loss: 1.0,
            ..config(4, 5)
        };
        let law = law(
            &honest(&[(Vote::For, 7), (Vote::Against, 5), (Vote::Abstain, 3)]),
            &c,
        )
        .unwrap();
        sound(&law);
        assert_eq!(law.final_law.len(), 1);
        let end = &law.final_law[0];
        assert_eq!((end.votes_for, end.votes_against, end.abstain), (7, 5, 3));
        // Every one of the 15 × 4 exchanges of every round fails.
        assert!(law.rounds.iter().all(|r| r.expected_lost_exchanges == 60.0));
    }

    #[test]
    fn a_unanimous_start_converges_in_round_one() {
        let law = law(&honest(&[(Vote::Against, 9)]), &config(3, 10)).unwrap();
        sound(&law);
        assert_eq!(law.convergence_rate, 1.0);
        assert_eq!(law.rounds.len(), 1);
        assert_eq!(
            (law.rounds_p50, law.rounds_p99, law.rounds_max),
            (Some(1), Some(1), Some(1))
        );
        assert_eq!(law.decisions["rejected"], 1.0);
        assert_eq!(law.wrong_decision_probability, 0.0);
    }

    #[test]
    fn silent_peers_fail_and_stubborn_ones_pull() {
        // One honest agent against, 2 stubborn for, 1 silent; fanout 3 on
        // 4 agents: it hears the 3 others, the silent one fails, and the
        // two stubborn votes for outvote its own: it switches in round 1.
        let agents = crowd(&[
            (Vote::Against, Behavior::Honest, 1),
            (Vote::For, Behavior::Stubborn, 2),
            (Vote::Against, Behavior::Silent, 1),
        ]);
        let law = law(&agents, &config(3, 4)).unwrap();
        sound(&law);
        assert_eq!(law.rounds[0].converged_in, 1.0);
        assert_eq!(law.rounds[0].expected_lost_exchanges, 1.0);
        assert_eq!(law.final_law[0].votes_for, 3);
    }

    #[test]
    fn without_early_stop_the_run_goes_on_and_counts_first_convergence() {
        let c = GossipConfig {
            early_stop: false,
            convergence_threshold: 0.8,
            ..config(3, 6)
        };
        let law = law(&honest(&[(Vote::For, 6), (Vote::Against, 4)]), &c).unwrap();
        sound(&law);
        assert!(law.rounds.iter().all(|r| (r.running - 1.0).abs() < 1e-12));
        let firsts: f64 = law.rounds.iter().map(|r| r.converged_in).sum();
        assert!(close(firsts, law.convergence_rate));
        assert!(close(
            law.rounds.last().unwrap().converged_by,
            law.convergence_rate
        ));
    }

    #[test]
    fn abstainers_follow_any_lead() {
        // One abstainer among 2 for: fanout 2 hears both, leans for.
        let law = law(
            &honest(&[(Vote::For, 2), (Vote::Abstain, 1)]),
            &config(2, 3),
        )
        .unwrap();
        sound(&law);
        assert_eq!(law.convergence_rate, 1.0);
        assert_eq!(law.final_law[0].votes_for, 3);
        // With fanout 1 it hears one peer, always for.
        let law = law_of(
            &honest(&[(Vote::For, 1), (Vote::Against, 1), (Vote::Abstain, 1)]),
            1,
        );
        // The abstainer hears for or against with 1/2 each; the voters hear
        // one other: never outvoted. Round 1 ends 2-1 either way, and the
        // agreement 2/3 never reaches 0.95.
        let ends: Vec<_> = law
            .final_law
            .iter()
            .map(|s| (s.votes_for, s.votes_against, s.abstain, s.probability))
            .collect();
        assert_eq!(ends, [(2, 1, 0, 0.5), (1, 2, 0, 0.5)]);
    }

    fn law_of(agents: &Swarm, fanout: u32) -> GossipExactSummary {
        let c = GossipConfig {
            convergence_threshold: 0.95,
            ..config(fanout, 4)
        };
        let out = law(agents, &c).unwrap();
        sound(&out);
        out
    }

    #[test]
    fn other_topologies_and_partitions_are_refused() {
        let agents = honest(&[(Vote::For, 6)]);
        let ring = GossipConfig {
            topology: Topology::Ring,
            degree: 2,
            ..config(2, 3)
        };
        let err = law(&agents, &ring).unwrap_err();
        assert!(
            err.contains("ring network") && err.ends_with("use --trials to sample it instead"),
            "{err}"
        );
    }
}

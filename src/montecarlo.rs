//! Monte Carlo trials and parameter sweeps: run a scenario many times and
//! summarise how often it converges, how fast, and how detection fares.
//!
//! Trial `i` draws from the seed's ChaCha stream `i` ([`crate::rng::trial_generator`]),
//! so results are the same whatever the number of threads or their schedule,
//! and trial 0 is exactly the single run.

use std::str::FromStr;

use indexmap::IndexMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::consensus::byzantine::ByzantineOutcome;
use crate::consensus::gossip::GossipOutcome;
use crate::scenario::Decision;

/// Most worker threads `--threads` may ask for. The pool starts them all at
/// once, so an absurd count would exhaust the process before any trial ran.
pub const MAX_THREADS: usize = 1_024;
/// Most values one sweep may have.
pub const MAX_SWEEP_VALUES: usize = 1_000;
/// 2^64, the unit of exact agreement sums.
const TWO_TO_64: f64 = 18_446_744_073_709_551_616.0;

/// Runs `work` on a pool of `threads` worker threads: everything it runs in
/// parallel (trials, blocks of a round) uses that many threads.
pub fn in_pool<T: Send>(threads: usize, work: impl FnOnce() -> T + Send) -> Result<T, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| format!("cannot start {threads} worker threads: {e}"))?;
    Ok(pool.install(work))
}

/// Most rows a per-round history (`--format csv`, `--history`) of trials may
/// have: trials × rounds × swept values, counting every round a trial may
/// run. Every row is held in memory until the CSV is written.
pub const MAX_HISTORY_ROWS: u64 = 20_000_000;

/// Drops what trial summaries and the CSV history never read: the lists of
/// agents (of `missed` and `false_positives` only whether they are empty
/// counts, so at most one entry stays) and, unless `keep_history`, the round
/// history. Outcomes are kept until every trial has run, so with millions of
/// trials this is the difference between megabytes and exhausted memory.
pub fn slim_byzantine(outcome: &mut ByzantineOutcome, keep_history: bool) {
    let m = &mut outcome.metadata;
    for list in [
        &mut m.malicious_agents,
        &mut m.vote_changers,
        &mut m.equivocators,
        &mut m.silent_agents,
        &mut m.blacklist,
        &mut m.healthy_agents,
    ] {
        *list = Vec::new();
    }
    m.detection_rounds = Vec::new();
    m.reason = None;
    for list in [&mut m.detection.missed, &mut m.detection.false_positives] {
        list.truncate(1);
        list.shrink_to_fit();
    }
    if !keep_history {
        m.round_history = Vec::new();
    }
}

/// The gossip counterpart of [`slim_byzantine`]: drops the
/// partition summaries and, unless `keep_history`, the round history.
pub fn slim_gossip(outcome: &mut GossipOutcome, keep_history: bool) {
    outcome.metadata.partitions = Vec::new();
    if keep_history {
        outcome.metadata.round_history.shrink_to_fit();
    } else {
        outcome.metadata.round_history = Vec::new();
    }
}

/// Trials run at once between two in-order folds of their outcomes: what
/// trials hold while they wait to be summed, whatever `--trials` is.
pub const CHUNK: usize = 4096;

/// Runs `run(0)`, ..., `run(trials - 1)` on `threads` worker threads,
/// [`CHUNK`] trials at a time, and hands each result to `fold` in trial
/// order, so a summary sums in the same order on any number of threads and
/// holds at most one chunk of results. `done` is called after each trial.
pub fn fold_trials<T: Send>(
    trials: u64,
    threads: usize,
    run: impl Fn(u64) -> T + Sync,
    done: impl Fn() + Sync,
    mut fold: impl FnMut(T) + Send,
) -> Result<(), String> {
    in_pool(threads, || {
        let mut first = 0;
        while first < trials {
            let end = trials.min(first + CHUNK as u64);
            let results: Vec<T> = (first..end)
                .into_par_iter()
                .map(|trial| {
                    let result = run(trial);
                    done();
                    result
                })
                .collect();
            results.into_iter().for_each(&mut fold);
            first = end;
        }
    })
}

/// Runs `run(0)`, ..., `run(trials - 1)` on `threads` worker threads and
/// returns the results in trial order. `done` is called after each trial.
pub fn run_trials<T: Send>(
    trials: u64,
    threads: usize,
    run: impl Fn(u64) -> T + Sync,
    done: impl Fn() + Sync,
) -> Result<Vec<T>, String> {
    let mut all = Vec::new();
    fold_trials(trials, threads, run, done, |result| all.push(result))?;
    Ok(all)
}

/// Converged rounds counted by value: exact nearest-rank percentiles, a
/// mean and a maximum in memory that does not grow with the trials (rounds
/// are bounded integers).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundHistogram {
    /// `counts[r]`: how many trials converged in round `r`.
    counts: Vec<u64>,
    /// Trials counted.
    total: u64,
    /// The sum of their rounds.
    sum: u64,
}

impl RoundHistogram {
    /// Counts one trial that converged in `round`.
    pub fn add(&mut self, round: u32) {
        let r = round as usize;
        if self.counts.len() <= r {
            self.counts.resize(r + 1, 0);
        }
        self.counts[r] += 1;
        self.total += 1;
        self.sum += u64::from(round);
    }

    /// Adds the rounds another histogram counted.
    pub fn merge(&mut self, other: &RoundHistogram) {
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (count, more) in self.counts.iter_mut().zip(&other.counts) {
            *count += more;
        }
        self.total += other.total;
        self.sum += other.sum;
    }

    /// The nearest-rank `percent` percentile (`None` if empty), as
    /// [`percentile`] gives it for the sorted rounds.
    pub fn percentile(&self, percent: usize) -> Option<u32> {
        if self.total == 0 {
            return None;
        }
        let rank = (percent as u64 * self.total).div_ceil(100).max(1);
        let mut seen = 0;
        self.counts
            .iter()
            .position(|&c| {
                seen += c;
                seen >= rank
            })
            .map(|r| r as u32)
    }

    /// The mean round (`None` if empty). Rounds are whole numbers far
    /// below 2^53 in total, so this is exactly the mean of the sorted list.
    pub fn mean(&self) -> Option<f64> {
        (self.total > 0).then(|| self.sum as f64 / self.total as f64)
    }

    /// The largest round counted.
    pub fn max(&self) -> Option<u32> {
        self.counts.iter().rposition(|&c| c > 0).map(|r| r as u32)
    }

    /// Trials per round from round 1 to the largest round counted (empty
    /// when none).
    pub fn from_round_one(&self) -> &[u64] {
        let end = self.max().map_or(0, |m| m as usize + 1);
        self.counts.get(1..end).unwrap_or(&[])
    }
}

/// Most bins an [`AgreementBands`] gives each round: enough for every
/// possible agreement ratio of up to [`EXACT_AGREEMENT_AGENTS`] counted
/// agents to have its own bin.
pub const MAX_AGREEMENT_BINS: usize = 1_024;
/// Fewest bins an [`AgreementBands`] gives each round, however many rounds:
/// exactly 0, exactly 1, and eight bins of width 1/16 between 1/2 and 1.
pub const MIN_AGREEMENT_BINS: usize = 10;
/// Most cells (rounds × bins) an [`AgreementBands`] holds: 8 MiB of counts.
/// The bins per round are `MAX_AGREEMENT_BINS`, or fewer when
/// `max_rounds × MAX_AGREEMENT_BINS` would pass this (never fewer than
/// `MIN_AGREEMENT_BINS`, and `MIN_AGREEMENT_BINS × MAX_ROUNDS` is below it).
pub const MAX_AGREEMENT_CELLS: usize = 1 << 20;
/// The largest count of agents whose every possible agreement ratio has its
/// own bin when all [`MAX_AGREEMENT_BINS`] are given (1,012 values).
pub const EXACT_AGREEMENT_AGENTS: u64 = 81;

/// The agreement ratio across trials after one round.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RoundBand {
    /// Round number, from 1.
    pub round: u32,
    /// 10th percentile (nearest rank) of the trials' agreement.
    pub p10: f64,
    /// Median (nearest rank).
    pub p50: f64,
    /// 90th percentile (nearest rank).
    pub p90: f64,
    /// Mean agreement.
    pub mean: f64,
}

/// How agreement ratios are binned: each possible ratio in its own bin, or
/// fixed-width bins.
#[derive(Debug, Clone, PartialEq)]
enum Bins {
    /// Every possible ratio `max/decided` of up to N counted agents, as a
    /// reduced fraction `(numerator, denominator)`, in increasing order
    /// (`0/1` first).
    Exact(Vec<(u64, u64)>),
    /// `count` bins: exactly 0, then `count - 2` bins of equal width over
    /// `[1/2, 1)`, then exactly 1.
    Width(usize),
}

impl Bins {
    /// The bins for `agents` counted agents given room for `room` bins.
    fn new(agents: u64, room: usize) -> Bins {
        let mut values = vec![(0, 1)];
        for decided in 1..=agents {
            for most in decided.div_ceil(2)..=decided {
                if gcd(most, decided) == 1 {
                    values.push((most, decided));
                }
            }
            if values.len() > room {
                return Bins::Width(room);
            }
        }
        values.sort_by(|&(a, b), &(c, d)| {
            (u128::from(a) * u128::from(d)).cmp(&(u128::from(c) * u128::from(b)))
        });
        Bins::Exact(values)
    }

    fn count(&self) -> usize {
        match self {
            Bins::Exact(values) => values.len(),
            Bins::Width(count) => *count,
        }
    }

    /// The bin of the ratio `most / decided` (0 when nobody decided).
    fn index(&self, most: u64, decided: u64) -> usize {
        match self {
            Bins::Exact(values) => {
                if decided == 0 {
                    return 0;
                }
                let g = gcd(most, decided);
                let key = (most / g, decided / g);
                values
                    .binary_search_by(|&(a, b)| {
                        (u128::from(a) * u128::from(key.1))
                            .cmp(&(u128::from(key.0) * u128::from(b)))
                    })
                    .expect("every ratio of the counted agents has a bin")
            }
            Bins::Width(count) => {
                if decided == 0 || most == 0 {
                    0
                } else if most == decided {
                    count - 1
                } else {
                    // (2·most − decided) / decided is in [0, 1).
                    let middle = (*count - 2) as u128;
                    let over = u128::from(2 * most - decided) * middle / u128::from(decided);
                    1 + over as usize
                }
            }
        }
    }

    /// The value a bin stands for: its ratio when exact, else its midpoint.
    fn value(&self, bin: usize) -> f64 {
        match self {
            Bins::Exact(values) => {
                let (most, decided) = values[bin];
                most as f64 / decided as f64
            }
            Bins::Width(_) if bin == 0 => 0.0,
            Bins::Width(count) if bin == count - 1 => 1.0,
            Bins::Width(count) => 0.5 + (bin as f64 - 0.5) / (2 * (count - 2)) as f64,
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The bins per round for runs of at most `max_rounds` rounds.
fn agreement_room(max_rounds: u32) -> usize {
    (MAX_AGREEMENT_CELLS / (max_rounds.max(1) as usize))
        .clamp(MIN_AGREEMENT_BINS, MAX_AGREEMENT_BINS)
}

/// The bytes an [`AgreementBands`] holds for runs of at most `max_rounds`
/// rounds, at most: its counts, its sums and its exact ratios.
pub fn agreement_bands_bytes(max_rounds: u32) -> u64 {
    let rounds = u64::from(max_rounds);
    let bins = agreement_room(max_rounds) as u64;
    rounds * bins * 8 + rounds * 16 + bins * 16
}

/// Per round, a fixed-bin histogram of the agreement ratio across trials,
/// in memory that does not grow with the trials: at most `max_rounds ×`
/// bins counts (see [`MAX_AGREEMENT_CELLS`]). A run that stopped early
/// keeps its final agreement in later rounds, as the exact law's
/// `expected_agreement` does. Bins are exact (every possible ratio its own)
/// when the counted agents' ratios fit, else of fixed width.
///
/// Trials may be recorded from any thread in any order: everything held is
/// an integer (counts, and agreement sums in units of 2^-64), so the result
/// is the same on any number of threads.
#[derive(Debug, Default)]
pub struct AgreementBands {
    inner: std::sync::Mutex<Option<BandCounts>>,
}

/// What an [`AgreementBands`] holds once the first trial set its bins.
#[derive(Debug)]
struct BandCounts {
    bins: Bins,
    totals: BandTotals,
}

/// The counts of an [`AgreementBands`], as a partial result of a sharded
/// run carries them: adding two gives the counts of both sets of trials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandTotals {
    /// The counted agents and the room for bins, which set the bins.
    agents: u64,
    room: usize,
    trials: u64,
    /// Row `r` (round `r + 1`), bin `b`: the change, from round `r` to round
    /// `r + 1`, of the trials whose agreement is in bin `b` (a trial enters
    /// its first bin in round 1 and moves when its bin changes).
    moves: Vec<i64>,
    /// Per round, the change of the sum of the trials' agreement, in units
    /// of 2^-64.
    sums: Vec<i128>,
}

impl BandCounts {
    fn new(totals: BandTotals) -> Self {
        BandCounts {
            bins: Bins::new(totals.agents, totals.room),
            totals,
        }
    }
}

impl BandTotals {
    /// Makes room for `rounds` rounds of `width` bins.
    fn grow(&mut self, rounds: usize, width: usize) {
        if self.sums.len() < rounds {
            self.sums.resize(rounds, 0);
            self.moves.resize(rounds * width, 0);
        }
    }

    /// Adds the counts of `other`, recorded of other trials of the same runs
    /// (so with the same bins); an error when the bins differ.
    pub fn merge(&mut self, other: &BandTotals) -> Result<(), String> {
        if (self.agents, self.room) != (other.agents, other.room) {
            return Err("the parts bin agreement differently".to_string());
        }
        let width = self.moves.len().checked_div(self.sums.len()).unwrap_or(0);
        let other_width = other.moves.len().checked_div(other.sums.len()).unwrap_or(0);
        if self.sums.is_empty() || other.sums.is_empty() || width == other_width {
            let width = width.max(other_width);
            self.grow(other.sums.len(), width);
            for (sum, more) in self.sums.iter_mut().zip(&other.sums) {
                *sum += more;
            }
            for (count, more) in self.moves.iter_mut().zip(&other.moves) {
                *count += more;
            }
            self.trials += other.trials;
            Ok(())
        } else {
            Err("the parts bin agreement differently".to_string())
        }
    }
}

impl AgreementBands {
    /// Records one trial's per-round agreement (its `round_history`, which
    /// must be whole: record before [`slim_gossip`]; an outcome without
    /// history is not counted).
    pub fn record(&self, outcome: &GossipOutcome) {
        let history = &outcome.metadata.round_history;
        if history.is_empty() {
            return;
        }
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let counts = guard.get_or_insert_with(|| {
            BandCounts::new(BandTotals {
                agents: outcome.metadata.initial_distribution.total(),
                room: agreement_room(outcome.metadata.max_rounds),
                trials: 0,
                moves: Vec::new(),
                sums: Vec::new(),
            })
        });
        let width = counts.bins.count();
        counts.totals.grow(history.len(), width);
        let BandCounts { bins, totals } = counts;
        totals.trials += 1;
        let (mut bin, mut fixed) = (None, 0i128);
        for (r, round) in history.iter().enumerate() {
            let c = &round.counts;
            let decided = c.votes_for + c.votes_against;
            let most = c.votes_for.max(c.votes_against);
            let now = bins.index(most, decided);
            if bin != Some(now) {
                if let Some(before) = bin {
                    totals.moves[r * width + before] -= 1;
                }
                totals.moves[r * width + now] += 1;
                bin = Some(now);
            }
            let value = if decided == 0 {
                0
            } else {
                ((u128::from(most) << 64) / u128::from(decided)) as i128
            };
            totals.sums[r] += value - fixed;
            fixed = value;
        }
    }

    /// The counts recorded (none before the first trial), for a partial
    /// result.
    pub fn totals(&self) -> Option<BandTotals> {
        let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().map(|c| c.totals.clone())
    }

    /// Bands holding `totals`, the sum of partial results' counts.
    pub fn of_totals(totals: Option<BandTotals>) -> Self {
        AgreementBands {
            inner: std::sync::Mutex::new(totals.map(BandCounts::new)),
        }
    }

    /// Whether every possible ratio has its own bin, so the percentiles are
    /// exact (else each is its bin's midpoint, within half a bin width).
    pub fn exact(&self) -> bool {
        let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .is_none_or(|c| matches!(c.bins, Bins::Exact(_)))
    }

    /// Per round, from 1 to the last round any trial ran, the percentiles
    /// and the mean of the trials' agreement.
    pub fn bands(&self) -> Vec<RoundBand> {
        let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Some(counts) = guard.as_ref() else {
            return Vec::new();
        };
        let width = counts.bins.count();
        let trials = counts.totals.trials;
        let mut histogram = vec![0i64; width];
        let mut sum = 0i128;
        let rank = |percent: u64| (percent * trials).div_ceil(100).max(1);
        let ranks = [rank(10), rank(50), rank(90)];
        counts
            .totals
            .sums
            .iter()
            .enumerate()
            .map(|(r, delta)| {
                sum += delta;
                for (slot, change) in histogram.iter_mut().zip(&counts.totals.moves[r * width..]) {
                    *slot += change;
                }
                let [p10, p50, p90] = ranks.map(|rank| {
                    let mut seen = 0u64;
                    let bin = histogram
                        .iter()
                        .position(|&c| {
                            seen += c as u64;
                            seen >= rank
                        })
                        .unwrap_or(width - 1);
                    counts.bins.value(bin)
                });
                RoundBand {
                    round: r as u32 + 1,
                    p10,
                    p50,
                    p90,
                    mean: sum as f64 / trials as f64 / TWO_TO_64,
                }
            })
            .collect()
    }
}

/// The 95% Wilson score interval of a proportion.
pub fn wilson_interval(successes: u64, trials: u64) -> [f64; 2] {
    if trials == 0 {
        return [0.0, 1.0];
    }
    let z = 1.959_963_984_540_054_f64;
    let n = trials as f64;
    let p = successes as f64 / n;
    let denominator = 1.0 + z * z / n;
    let center = (p + z * z / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denominator;
    // At the ends the interval reaches 0 or 1 exactly, free of rounding.
    let lo = if successes == 0 {
        0.0
    } else {
        (center - half).max(0.0)
    };
    let hi = if successes == trials {
        1.0
    } else {
        (center + half).min(1.0)
    };
    [lo, hi]
}

/// Zero trials of each possible decision, in order.
fn decision_counts(possible: &[Decision]) -> IndexMap<&'static str, u64> {
    possible.iter().map(|d| (d.name(), 0)).collect()
}

/// How many trials reached each decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct DecisionCounts {
    approved: u64,
    rejected: u64,
    timeout: u64,
}

impl DecisionCounts {
    fn add(&mut self, decision: Decision) {
        *self.count(decision) += 1;
    }

    fn count(&mut self, decision: Decision) -> &mut u64 {
        match decision {
            Decision::Approved => &mut self.approved,
            Decision::Rejected => &mut self.rejected,
            Decision::Timeout => &mut self.timeout,
        }
    }

    fn merge(&mut self, other: &DecisionCounts) {
        self.approved += other.approved;
        self.rejected += other.rejected;
        self.timeout += other.timeout;
    }

    /// The counts of the `listed` decisions, then of any other reached.
    fn listed(mut self, listed: &[Decision]) -> IndexMap<&'static str, u64> {
        let mut counts = decision_counts(listed);
        for decision in [Decision::Approved, Decision::Rejected, Decision::Timeout] {
            let count = *self.count(decision);
            if count > 0 || listed.contains(&decision) {
                counts.insert(decision.name(), count);
            }
        }
        counts
    }
}

fn rate(count: u64, trials: u64) -> f64 {
    if trials == 0 {
        0.0
    } else {
        count as f64 / trials as f64
    }
}

/// What many gossip trials did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GossipTrialsSummary {
    /// Trials run.
    pub trials: u64,
    /// Trials that converged.
    pub converged_trials: u64,
    /// Share of trials that converged.
    pub convergence_rate: f64,
    /// 95% Wilson interval of the convergence rate.
    pub convergence_rate_ci95: [f64; 2],
    /// Mean rounds to converge, over converged trials.
    pub rounds_mean: Option<f64>,
    /// Rounds to converge, over converged trials: median (nearest rank).
    pub rounds_p50: Option<u32>,
    /// 90th percentile of rounds to converge.
    pub rounds_p90: Option<u32>,
    /// 99th percentile of rounds to converge.
    pub rounds_p99: Option<u32>,
    /// Most rounds any converged trial took.
    pub rounds_max: Option<u32>,
    /// Trials that converged in each round, from round 1 to `rounds_max`
    /// (`rounds_histogram[i]`: in round `i + 1`; empty when none converged).
    pub rounds_histogram: Vec<u64>,
    /// How often each decision was reached.
    pub decisions: IndexMap<&'static str, u64>,
    /// Mean agreement ratio after the last round.
    pub mean_final_agreement: f64,
    /// The agreement ratio across trials per round, from round 1 to the last
    /// round any trial ran (a trial that stopped keeps its final agreement
    /// in later rounds): nearest-rank p10, p50, p90 and the mean.
    pub agreement_by_round: Vec<RoundBand>,
    /// Whether the percentiles of `agreement_by_round` are exact (every
    /// possible ratio had its own bin); else each is its bin's midpoint.
    pub agreement_by_round_exact: bool,
}

impl GossipTrialsSummary {
    /// Summarises trial outcomes.
    pub fn of(outcomes: &[GossipOutcome]) -> Self {
        let mut trials = GossipTrials::default();
        let bands = AgreementBands::default();
        for outcome in outcomes {
            trials.add(outcome);
            bands.record(outcome);
        }
        trials.summary(&bands)
    }
}

/// Gossip trial outcomes summed as they come: what a
/// [`GossipTrialsSummary`] needs, in memory that does not grow with the
/// trials. Every sum is of integers, so trials added in any order, or split
/// between parts and merged, give the same summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GossipTrials {
    trials: u64,
    rounds: RoundHistogram,
    decisions: DecisionCounts,
    /// The sum of the final agreement ratios, in units of 2^-64: exact, as
    /// a ratio is 0 or at least 1/2.
    agreement: u128,
}

impl GossipTrials {
    /// Adds the next trial's outcome.
    pub fn add(&mut self, outcome: &GossipOutcome) {
        self.trials += 1;
        if let Some(round) = outcome.metadata.converged_round {
            self.rounds.add(round);
        }
        self.decisions.add(outcome.decision);
        self.agreement += (outcome.metadata.agreement_ratio * TWO_TO_64) as u128;
    }

    /// Adds the trials another part summed.
    pub fn merge(&mut self, other: &GossipTrials) {
        self.trials += other.trials;
        self.rounds.merge(&other.rounds);
        self.decisions.merge(&other.decisions);
        self.agreement += other.agreement;
    }

    /// The summary of the outcomes added, with the agreement per round
    /// `bands` recorded of the same outcomes.
    pub fn summary(&self, bands: &AgreementBands) -> GossipTrialsSummary {
        let trials = self.trials;
        let converged = self.rounds.total;
        GossipTrialsSummary {
            trials,
            converged_trials: converged,
            convergence_rate: rate(converged, trials),
            convergence_rate_ci95: wilson_interval(converged, trials),
            rounds_mean: self.rounds.mean(),
            rounds_p50: self.rounds.percentile(50),
            rounds_p90: self.rounds.percentile(90),
            rounds_p99: self.rounds.percentile(99),
            rounds_max: self.rounds.max(),
            rounds_histogram: self.rounds.from_round_one().to_vec(),
            decisions: self
                .decisions
                .listed(&[Decision::Approved, Decision::Rejected]),
            mean_final_agreement: if trials == 0 {
                0.0
            } else {
                self.agreement as f64 / TWO_TO_64 / trials as f64
            },
            agreement_by_round: bands.bands(),
            agreement_by_round_exact: bands.exact(),
        }
    }
}

/// What many Byzantine trials did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ByzantineTrialsSummary {
    /// Trials run.
    pub trials: u64,
    /// How often each decision was reached.
    pub decisions: IndexMap<&'static str, u64>,
    /// Share of trials in which some faulty agent voted undetected.
    pub missed_rate: f64,
    /// Share of trials in which a non-faulty agent was accused.
    pub false_positive_rate: f64,
    /// Share of trials in which the protocol could not claim safety
    /// (`byzantine_safe = false`: fewer than 2f+1 tallied votes for the
    /// decision, or more than f agents detected).
    pub byzantine_unsafe_rate: f64,
    /// 95% Wilson interval of the Byzantine-unsafe rate.
    pub byzantine_unsafe_rate_ci95: [f64; 2],
    /// Share of trials whose decision went against the majority of the
    /// agents declared honest (`against_honest_majority = true`).
    pub against_honest_majority_rate: f64,
    /// 95% Wilson interval of the against-honest-majority rate.
    pub against_honest_majority_rate_ci95: [f64; 2],
    /// Mean number of agents detected.
    pub mean_malicious_detected: f64,
    /// Whether the declared faulty agents stay within f.
    pub safety_guaranteed: bool,
}

impl ByzantineTrialsSummary {
    /// Summarises trial outcomes.
    pub fn of(outcomes: &[ByzantineOutcome]) -> Self {
        let mut trials = ByzantineTrials::default();
        outcomes.iter().for_each(|o| trials.add(o));
        trials.summary()
    }
}

/// Byzantine trial outcomes counted as they come: what a
/// [`ByzantineTrialsSummary`] needs, in memory that does not grow with the
/// trials. Counts only, so parts of the trials merge exactly.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ByzantineTrials {
    trials: u64,
    decisions: DecisionCounts,
    missed: u64,
    false_positives: u64,
    unsafe_trials: u64,
    against: u64,
    detected: u64,
    /// Trials whose declared faulty agents exceeded f.
    unguaranteed: u64,
}

impl ByzantineTrials {
    /// Adds the next trial's outcome.
    pub fn add(&mut self, outcome: &ByzantineOutcome) {
        let m = &outcome.metadata;
        self.trials += 1;
        self.decisions.add(outcome.decision);
        let any = |list: &[String], unlisted: u64| !list.is_empty() || unlisted > 0;
        self.missed += u64::from(any(&m.detection.missed, m.unlisted.missed));
        self.false_positives += u64::from(any(
            &m.detection.false_positives,
            m.unlisted.false_positives,
        ));
        self.unsafe_trials += u64::from(!m.byzantine_safe);
        self.against += u64::from(m.against_honest_majority);
        self.detected += m.malicious_detected;
        self.unguaranteed += u64::from(!m.detection.safety_guaranteed);
    }

    /// Adds the trials another part counted.
    pub fn merge(&mut self, other: &ByzantineTrials) {
        self.trials += other.trials;
        self.decisions.merge(&other.decisions);
        self.missed += other.missed;
        self.false_positives += other.false_positives;
        self.unsafe_trials += other.unsafe_trials;
        self.against += other.against;
        self.detected += other.detected;
        self.unguaranteed += other.unguaranteed;
    }

    /// The summary of the outcomes added.
    pub fn summary(&self) -> ByzantineTrialsSummary {
        let n = self.trials;
        ByzantineTrialsSummary {
            trials: n,
            decisions: self.decisions.listed(&[
                Decision::Approved,
                Decision::Rejected,
                Decision::Timeout,
            ]),
            missed_rate: rate(self.missed, n),
            false_positive_rate: rate(self.false_positives, n),
            byzantine_unsafe_rate: rate(self.unsafe_trials, n),
            byzantine_unsafe_rate_ci95: wilson_interval(self.unsafe_trials, n),
            against_honest_majority_rate: rate(self.against, n),
            against_honest_majority_rate_ci95: wilson_interval(self.against, n),
            mean_malicious_detected: if n == 0 {
                0.0
            } else {
                self.detected as f64 / n as f64
            },
            safety_guaranteed: self.unguaranteed == 0,
        }
    }
}

/// `--sweep PARAM=V1,V2,...` or `PARAM=LO..HI[:STEP]`: a setting and the
/// values to try, each kept as text until the setting parses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sweep {
    /// The setting, such as `fanout` or `loss`.
    pub param: String,
    /// The values, in order.
    pub values: Vec<String>,
}

impl FromStr for Sweep {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (param, spec) = text
            .split_once('=')
            .ok_or_else(|| format!("'{text}' is not PARAM=V1,V2,... or PARAM=LO..HI[:STEP]"))?;
        let param = param.trim().replace('-', "_");
        if param.is_empty() {
            return Err("the sweep needs a parameter name before '='".to_string());
        }
        let values = match spec.split_once("..") {
            Some((lo, rest)) => {
                let (hi, step) = match rest.split_once(':') {
                    Some((hi, step)) => (hi, Some(step)),
                    None => (rest, None),
                };
                expand_range(lo.trim(), hi.trim(), step.map(str::trim))?
            }
            None => spec.split(',').map(|v| list_value(v.trim())).collect(),
        };
        if values.iter().any(String::is_empty) {
            return Err(format!("'{text}' has an empty value"));
        }
        if values.len() > MAX_SWEEP_VALUES {
            return Err(format!(
                "{} values is more than the limit of {MAX_SWEEP_VALUES}",
                values.len()
            ));
        }
        Ok(Sweep { param, values })
    }
}

/// The values of `LO..HI[:STEP]`, both ends included. Every value is
/// computed exactly from its index, in decimal: `0..0.3:0.01` gives `0.29`,
/// never `0.2900000000000001`.
fn expand_range(lo: &str, hi: &str, step: Option<&str>) -> Result<Vec<String>, String> {
    let number = |s: &str| {
        s.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("'{s}' is not a number"))
    };
    // Whole numbers of any size: a range past `i64` is too large, not decimal.
    let integers = [Some(lo), Some(hi), step].iter().flatten().all(|s| {
        let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    });
    let step = match step {
        Some(step) => step,
        None if integers => "1",
        None => return Err("a range of decimals needs a step: LO..HI:STEP".to_string()),
    };
    let (lo_f, hi_f, step_f) = (number(lo)?, number(hi)?, number(step)?);
    if step_f <= 0.0 || lo_f > hi_f {
        return Err(format!(
            "the range {lo}..{hi}:{step} needs LO <= HI and a step > 0"
        ));
    }
    // Checked as a float first: a huge range over a tiny step is too many
    // values (or infinitely many) for any integer.
    if ((hi_f - lo_f) / step_f).floor() >= MAX_SWEEP_VALUES as f64 {
        return Err(format!(
            "{lo}..{hi}:{step} has more values than the limit of {MAX_SWEEP_VALUES}"
        ));
    }
    let too_fine =
        || format!("{lo}..{hi}:{step} has more digits than a sweep steps through exactly");
    let [lo, hi, step] = Decimal::aligned([lo, hi, step]).ok_or_else(too_fine)?;
    if hi.mantissa < lo.mantissa {
        return Err(format!(
            "the range {lo}..{hi}:{step} needs LO <= HI and a step > 0"
        ));
    }
    let count = (hi.mantissa - lo.mantissa) / step.mantissa + 1;
    (0..count)
        .map(|k| {
            let mantissa = step
                .mantissa
                .checked_mul(k)
                .and_then(|d| d.checked_add(lo.mantissa))
                .ok_or_else(too_fine)?;
            Ok(Decimal { mantissa, ..lo }.to_string())
        })
        .collect()
}

/// A value of a sweep list as text: a number in its shortest exact decimal
/// form (`-0` is `0`, `0.50` is `0.5`), anything else as given.
fn list_value(text: &str) -> String {
    match Decimal::parse(text) {
        Some(d) => d.to_string(),
        None => text.to_string(),
    }
}

/// A decimal number exactly as written: `mantissa × 10^exponent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decimal {
    mantissa: i128,
    exponent: i32,
}

impl Decimal {
    /// Most digits of exponent a sweep value may have; 10^9999 is beyond
    /// any setting and far beyond `f64`.
    const MAX_EXPONENT: i32 = 9_999;

    /// `[+-]digits[.digits][e[+-]digits]`, or `None` for other text or a
    /// number with more significant digits than `i128` holds.
    fn parse(text: &str) -> Option<Decimal> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (number, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], rest[at + 1..].parse::<i32>().ok()?),
            None => (rest, 0),
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        let mut mantissa: i128 = 0;
        for b in whole.bytes().chain(fraction.bytes()) {
            if !b.is_ascii_digit() {
                return None;
            }
            mantissa = mantissa
                .checked_mul(10)?
                .checked_add(i128::from(b - b'0'))?;
        }
        let exponent = exponent.checked_sub(i32::try_from(fraction.len()).ok()?)?;
        if exponent.abs() > Self::MAX_EXPONENT {
            return None;
        }
        let mantissa = if negative { -mantissa } else { mantissa };
        Some(Decimal { mantissa, exponent })
    }

    /// The numbers of `texts` written over one exponent, the smallest, so
    /// their mantissas add and divide exactly; `None` if one is not a
    /// number or would overflow.
    fn aligned<const N: usize>(texts: [&str; N]) -> Option<[Decimal; N]> {
        let parsed: Vec<Decimal> = texts
            .iter()
            .map(|t| Decimal::parse(t))
            .collect::<Option<_>>()?;
        let exponent = parsed.iter().map(|d| d.exponent).min()?;
        let mut out = [Decimal {
            mantissa: 0,
            exponent,
        }; N];
        for (slot, d) in out.iter_mut().zip(parsed) {
            let scale = 10i128.checked_pow(u32::try_from(d.exponent - exponent).ok()?)?;
            slot.mantissa = d.mantissa.checked_mul(scale)?;
        }
        Some(out)
    }
}

impl std::fmt::Display for Decimal {
    /// The shortest exact decimal text, without an exponent: no trailing
    /// zeros after the point, and `0` for zero whatever its sign.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let digits = self.mantissa.unsigned_abs().to_string();
        if self.exponent >= 0 {
            if self.mantissa == 0 {
                return f.write_str("0");
            }
            let zeros = "0".repeat(self.exponent as usize);
            return write!(f, "{sign}{digits}{zeros}");
        }
        let places = self.exponent.unsigned_abs() as usize;
        let padded = format!("{digits:0>width$}", width = places + 1);
        let (whole, fraction) = padded.split_at(padded.len() - places);
        let fraction = fraction.trim_end_matches('0');
        let sign = if whole.bytes().all(|b| b == b'0') && fraction.is_empty() {
            ""
        } else {
            sign
        };
        if fraction.is_empty() {
            write!(f, "{sign}{whole}")
        } else {
            write!(f, "{sign}{whole}.{fraction}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nearest-rank `percent` percentile of sorted `values` (`None` if empty).
    fn percentile(sorted: &[u32], percent: usize) -> Option<u32> {
        if sorted.is_empty() {
            return None;
        }
        let rank = (percent * sorted.len()).div_ceil(100).max(1);
        Some(sorted[rank - 1])
    }

    #[test]
    fn histogram_percentiles_are_the_nearest_ranks_of_the_sorted_rounds() {
        let mut rng = crate::rng::generator(5);
        for len in [0usize, 1, 2, 3, 10, 99, 100, 101, 1000] {
            let mut rounds: Vec<u32> = (0..len)
                .map(|_| rand::Rng::random_range(&mut rng, 1..40u32))
                .collect();
            let mut histogram = RoundHistogram::default();
            rounds.iter().for_each(|&r| histogram.add(r));
            rounds.sort_unstable();
            for p in [0, 1, 50, 90, 99, 100] {
                assert_eq!(histogram.percentile(p), percentile(&rounds, p), "{len} {p}");
            }
            assert_eq!(histogram.max(), rounds.last().copied());
            let mean = (!rounds.is_empty())
                .then(|| rounds.iter().map(|&r| f64::from(r)).sum::<f64>() / rounds.len() as f64);
            assert_eq!(histogram.mean(), mean);
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u32> = (1..=10).collect();
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&v, 99), Some(10));
        assert_eq!(percentile(&[7], 50), Some(7));
        assert_eq!(percentile(&[], 50), None);
        let v: Vec<u32> = (1..=200).collect();
        assert_eq!(percentile(&v, 99), Some(198));
    }

    #[test]
    fn wilson_interval_matches_known_values() {
        // 50 of 100: 0.4038 to 0.5962.
        let [lo, hi] = wilson_interval(50, 100);
        assert!(
            (lo - 0.4038).abs() < 1e-4 && (hi - 0.5962).abs() < 1e-4,
            "{lo} {hi}"
        );
        // All successes: the upper end is 1, the lower end below it.
        let [lo, hi] = wilson_interval(20, 20);
        assert_eq!(hi, 1.0);
        assert!((lo - 0.8389).abs() < 1e-4, "{lo}");
        assert_eq!(wilson_interval(0, 0), [0.0, 1.0]);
    }

    #[test]
    fn sweeps_parse_lists_and_ranges() {
        let s: Sweep = "fanout=1,2, 5".parse().unwrap();
        assert_eq!(s.param, "fanout");
        assert_eq!(s.values, ["1", "2", "5"]);
        let s: Sweep = "agents=10..30:10".parse().unwrap();
        assert_eq!(s.values, ["10", "20", "30"]);
        let s: Sweep = "fanout=2..4".parse().unwrap();
        assert_eq!(s.values, ["2", "3", "4"]);
        let s: Sweep = "loss=0..0.3:0.1".parse().unwrap();
        assert_eq!(s.values, ["0", "0.1", "0.2", "0.3"]);
        let s: Sweep = "loss=0..0.3:0.01".parse().unwrap();
        assert_eq!(s.values.len(), 31);
        assert_eq!(s.values[29], "0.29");
        assert_eq!(s.values[7], "0.07");
        let s: Sweep = "loss=0.05..0.35:0.1".parse().unwrap();
        assert_eq!(s.values, ["0.05", "0.15", "0.25", "0.35"]);
        let s: Sweep = "x=-0.3..0.1:0.1".parse().unwrap();
        assert_eq!(s.values, ["-0.3", "-0.2", "-0.1", "0", "0.1"]);
        let s: Sweep = "x=1e3..3e3:1e3".parse().unwrap();
        assert_eq!(s.values, ["1000", "2000", "3000"]);
        let s: Sweep = "x=0..1e-12:2.5e-13".parse().unwrap();
        assert_eq!(
            s.values,
            [
                "0",
                "0.00000000000025",
                "0.0000000000005",
                "0.00000000000075",
                "0.000000000001"
            ]
        );
        let err = "x=1e-40..1:1".parse::<Sweep>().unwrap_err();
        assert!(err.contains("more digits than"), "{err}");
        let s: Sweep = "loss=-0,0.50, +1,-0.0e3,fast".parse().unwrap();
        assert_eq!(s.values, ["0", "0.5", "1", "0", "fast"]);
        let s: Sweep = "convergence-threshold=0.9,0.95".parse().unwrap();
        assert_eq!(s.param, "convergence_threshold");
        assert!("fanout".parse::<Sweep>().is_err());
        assert!("loss=0..0.5".parse::<Sweep>().unwrap_err().contains("step"));
        assert!("fanout=5..1".parse::<Sweep>().is_err());
        assert!(
            "fanout=1..100000"
                .parse::<Sweep>()
                .unwrap_err()
                .contains("limit")
        );
        assert!("fanout=1,,2".parse::<Sweep>().is_err());
    }

    #[test]
    fn ranges_at_the_ends_of_the_number_types_are_refused_not_overflowed() {
        for text in [
            "fanout=-9223372036854775808..9223372036854775807",
            "loss=0..1e300:1e-300",
            "loss=-1e308..1e308:1e-308",
        ] {
            let err = text.parse::<Sweep>().unwrap_err();
            assert!(err.contains("limit"), "{text}: {err}");
        }
        let s: Sweep = "f=-9223372036854775808..9223372036854775807:9223372036854775807"
            .parse()
            .unwrap();
        assert_eq!(
            s.values,
            ["-9223372036854775808", "-1", "9223372036854775806"]
        );
        for text in [
            "fanout=1..18446744073709551615",
            "fanout=0..99999999999999999999999999999999999999999",
        ] {
            let err = text.parse::<Sweep>().unwrap_err();
            assert!(
                err.contains("more values than the limit of 1000"),
                "{text}: {err}"
            );
        }
        let s: Sweep = "seed=9223372036854775806..9223372036854775807"
            .parse()
            .unwrap();
        assert_eq!(s.values, ["9223372036854775806", "9223372036854775807"]);
    }

    #[test]
    fn slimmed_outcomes_summarise_like_full_ones() {
        use crate::consensus::{byzantine, gossip};
        use crate::rng::trial_generator;
        use crate::scenario::{Agent, AgentOrigin, Behavior, Vote};
        use crate::scenario::{ByzantineConfig, GossipConfig};
        let behaviors = [
            Behavior::Honest,
            Behavior::Flip,
            Behavior::Random,
            Behavior::Equivocate,
            Behavior::Silent,
        ];
        let agents: Vec<Agent> = (0..13)
            .map(|i| Agent {
                id: format!("a{i}"),
                vote: if i % 3 == 0 { Vote::Against } else { Vote::For },
                behavior: if i < 8 {
                    Behavior::Honest
                } else {
                    behaviors[i % 5]
                },
                origin: AgentOrigin::Flags,
            })
            .collect();
        let config = ByzantineConfig {
            fault_tolerance: 2,
            num_rounds: 4,
            timeout_reached: false,
        };
        let full: Vec<_> = (0..300)
            .map(|t| byzantine::run(&agents.clone().into(), &config, &mut trial_generator(7, t)))
            .collect();
        for keep in [false, true] {
            let mut slim = full.clone();
            slim.iter_mut().for_each(|o| slim_byzantine(o, keep));
            assert_eq!(
                ByzantineTrialsSummary::of(&slim),
                ByzantineTrialsSummary::of(&full)
            );
            for (s, f) in slim.iter().zip(&full) {
                let kept = s.metadata.round_history == f.metadata.round_history;
                assert_eq!(kept, keep);
            }
        }
        let swarm: Vec<Agent> = agents
            .iter()
            .map(|a| Agent {
                behavior: Behavior::Honest,
                ..a.clone()
            })
            .collect();
        let config = GossipConfig {
            loss: 0.2,
            ..GossipConfig::default()
        };
        let full: Vec<_> = (0..300)
            .map(|t| gossip::run(&swarm.clone().into(), &config, &mut trial_generator(7, t)))
            .collect();
        for keep in [false, true] {
            let mut slim = full.clone();
            slim.iter_mut().for_each(|o| slim_gossip(o, keep));
            // Agreement per round needs the history: it is recorded before
            // slimming.
            let mut slimmed = GossipTrialsSummary::of(&slim);
            let whole = GossipTrialsSummary::of(&full);
            assert_eq!(slimmed.agreement_by_round.is_empty(), !keep);
            slimmed.agreement_by_round = whole.agreement_by_round.clone();
            assert_eq!(slimmed, whole);
            for (s, f) in slim.iter().zip(&full) {
                let kept = s.metadata.round_history == f.metadata.round_history;
                assert_eq!(kept, keep || f.metadata.round_history.is_empty());
            }
        }
    }

    /// Gossip trials of a swarm of `size` honest agents (a third against,
    /// every seventh abstaining) with message loss, early stop on or off.
    fn lossy_trials(size: usize, early_stop: bool, trials: u64) -> Vec<GossipOutcome> {
        use crate::consensus::gossip;
        use crate::scenario::{Agent, AgentOrigin, Behavior, GossipConfig, Vote};
        let agents: Vec<Agent> = (0..size)
            .map(|i| Agent {
                id: format!("a{i}"),
                vote: match i % 7 {
                    0 => Vote::Abstain,
                    1 | 4 => Vote::Against,
                    _ => Vote::For,
                },
                behavior: Behavior::Honest,
                origin: AgentOrigin::Flags,
            })
            .collect();
        let config = GossipConfig {
            loss: 0.3,
            fanout: 2,
            max_rounds: 12,
            convergence_threshold: 0.8,
            early_stop,
            ..GossipConfig::default()
        };
        let swarm = agents.into();
        (0..trials)
            .map(|t| gossip::run(&swarm, &config, &mut crate::rng::trial_generator(3, t)))
            .collect()
    }

    /// Per round, every trial's agreement (its last round's after it stopped).
    fn agreement_columns(outcomes: &[GossipOutcome]) -> Vec<Vec<f64>> {
        let rounds = outcomes
            .iter()
            .map(|o| o.metadata.round_history.len())
            .max()
            .unwrap_or(0);
        (0..rounds)
            .map(|r| {
                outcomes
                    .iter()
                    .map(|o| {
                        let h = &o.metadata.round_history;
                        h[r.min(h.len() - 1)].agreement_ratio
                    })
                    .collect()
            })
            .collect()
    }

    /// The nearest-rank `percent` percentile of unsorted `values`.
    fn nearest_rank(values: &[f64], percent: usize) -> f64 {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted[(percent * sorted.len()).div_ceil(100).max(1) - 1]
    }

    #[test]
    fn agreement_bands_of_a_small_swarm_are_the_exact_percentiles_of_the_kept_outcomes() {
        for early_stop in [true, false] {
            let outcomes = lossy_trials(13, early_stop, 301);
            let summary = GossipTrialsSummary::of(&outcomes);
            assert!(summary.agreement_by_round_exact);
            let columns = agreement_columns(&outcomes);
            assert_eq!(summary.agreement_by_round.len(), columns.len());
            if early_stop {
                // Some trials stopped before others: the tail rule is exercised.
                let lengths: Vec<usize> = outcomes
                    .iter()
                    .map(|o| o.metadata.round_history.len())
                    .collect();
                assert!(lengths.iter().min() < lengths.iter().max(), "{lengths:?}");
            }
            for (band, column) in summary.agreement_by_round.iter().zip(&columns) {
                let at = band.round;
                assert_eq!(band.p10, nearest_rank(column, 10), "round {at}");
                assert_eq!(band.p50, nearest_rank(column, 50), "round {at}");
                assert_eq!(band.p90, nearest_rank(column, 90), "round {at}");
                let mean = column.iter().sum::<f64>() / column.len() as f64;
                assert!((band.mean - mean).abs() < 1e-12, "round {at}");
            }
            let last = summary.agreement_by_round.last().unwrap();
            assert!((last.mean - summary.mean_final_agreement).abs() < 1e-12);
        }
    }

    #[test]
    fn agreement_bands_of_a_large_swarm_are_within_half_a_bin() {
        let outcomes = lossy_trials(300, true, 101);
        let summary = GossipTrialsSummary::of(&outcomes);
        assert!(!summary.agreement_by_round_exact);
        let half_bin = 0.5 / (2 * (MAX_AGREEMENT_BINS - 2)) as f64;
        for (band, column) in summary
            .agreement_by_round
            .iter()
            .zip(&agreement_columns(&outcomes))
        {
            for (got, percent) in [(band.p10, 10), (band.p50, 50), (band.p90, 90)] {
                let want = nearest_rank(column, percent);
                assert!((got - want).abs() <= half_bin, "{got} {want}");
            }
            let mean = column.iter().sum::<f64>() / column.len() as f64;
            assert!((band.mean - mean).abs() < 1e-12);
        }
    }

    #[test]
    fn every_ratio_of_up_to_81_agents_has_its_own_bin() {
        let Bins::Exact(values) = Bins::new(EXACT_AGREEMENT_AGENTS, MAX_AGREEMENT_BINS) else {
            panic!("81 agents fit");
        };
        assert_eq!(values.len(), 1_012);
        assert!(values.windows(2).all(|w| w[0].0 * w[1].1 < w[1].0 * w[0].1));
        let bins = Bins::Exact(values);
        for decided in 1..=EXACT_AGREEMENT_AGENTS {
            for most in decided.div_ceil(2)..=decided {
                let bin = bins.index(most, decided);
                assert_eq!(bins.value(bin), most as f64 / decided as f64);
            }
        }
        assert_eq!(
            Bins::new(EXACT_AGREEMENT_AGENTS + 1, MAX_AGREEMENT_BINS),
            Bins::Width(MAX_AGREEMENT_BINS)
        );
        // Fewer bins for many rounds, never past the cells' bound.
        for rounds in [1, 5, 1_024, 1_025, 10_000, crate::scenario::MAX_ROUNDS] {
            let room = agreement_room(rounds);
            assert!(room * rounds as usize <= MAX_AGREEMENT_CELLS, "{rounds}");
            assert!((MIN_AGREEMENT_BINS..=MAX_AGREEMENT_BINS).contains(&room));
        }
        assert_eq!(agreement_room(1_024), MAX_AGREEMENT_BINS);
    }

    #[test]
    fn fixed_width_bins_keep_0_and_1_apart_and_split_the_half_evenly() {
        let bins = Bins::Width(10);
        assert_eq!((bins.index(0, 0), bins.value(0)), (0, 0.0));
        assert_eq!((bins.index(7, 7), bins.value(9)), (9, 1.0));
        assert_eq!(bins.index(1, 2), 1);
        assert_eq!(bins.index(999_999, 1_000_000), 8);
        assert_eq!(bins.value(1), 0.5 + 1.0 / 32.0);
        assert_eq!(bins.value(8), 1.0 - 1.0 / 32.0);
    }

    #[test]
    fn agreement_bands_hold_the_same_memory_whatever_the_trials() {
        let outcomes = lossy_trials(13, false, 3);
        let size = |trials: usize| {
            let bands = AgreementBands::default();
            for outcome in outcomes.iter().cycle().take(trials) {
                bands.record(outcome);
            }
            let guard = bands.inner.lock().unwrap();
            let counts = guard.as_ref().unwrap();
            assert_eq!(counts.totals.trials, trials as u64);
            (
                counts.totals.moves.len(),
                counts.totals.sums.len(),
                counts.bins.count(),
            )
        };
        assert_eq!(size(3), size(30_000));
        assert_eq!(size(3).0, 12 * size(3).2);
    }

    #[test]
    fn agreement_bands_do_not_depend_on_the_order_trials_are_recorded_in() {
        let outcomes = lossy_trials(13, true, 200);
        let (forward, backward) = (AgreementBands::default(), AgreementBands::default());
        outcomes.iter().for_each(|o| forward.record(o));
        outcomes.iter().rev().for_each(|o| backward.record(o));
        assert_eq!(forward.bands(), backward.bands());
        assert!(AgreementBands::default().bands().is_empty());
    }

    #[test]
    fn the_rounds_histogram_counts_trials_per_round_from_round_one() {
        let mut histogram = RoundHistogram::default();
        assert!(histogram.from_round_one().is_empty());
        [2, 2, 4, 1].iter().for_each(|&r| histogram.add(r));
        assert_eq!(histogram.from_round_one(), [1, 2, 0, 1]);
    }

    #[test]
    fn trials_come_back_in_order_whatever_the_thread_count() {
        let square = |i: u64| i * i;
        // Past two chunks, so outcomes are folded across chunk boundaries.
        let trials = 2 * CHUNK as u64 + 7;
        let one = run_trials(trials, 1, square, || ()).unwrap();
        let two = run_trials(trials, 2, square, || ()).unwrap();
        assert_eq!(one, two);
        assert_eq!(one, (0..trials).map(square).collect::<Vec<_>>());
    }
}

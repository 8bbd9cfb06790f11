//! Monte Carlo trials and parameter sweeps: run a scenario many times and
//! summarise how often it converges, how fast, and how detection fares.
//!
//! Trial `i` draws from the seed's ChaCha stream `i` ([`crate::rng::trial_generator`]),
//! so results are the same whatever the number of threads or their schedule,
//! and trial 0 is exactly the single run.

use std::str::FromStr;

use indexmap::IndexMap;
use rayon::prelude::*;
use serde::Serialize;

use crate::consensus::byzantine::ByzantineOutcome;
use crate::consensus::gossip::GossipOutcome;
use crate::scenario::Decision;

/// Most worker threads `--threads` may ask for. The pool starts them all at
/// once, so an absurd count would exhaust the process before any trial ran.
pub const MAX_THREADS: usize = 1_024;
/// Most values one sweep may have.
pub const MAX_SWEEP_VALUES: usize = 1_000;

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
#[derive(Debug, Clone, Default, PartialEq)]
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
    /// How often each decision was reached.
    pub decisions: IndexMap<&'static str, u64>,
    /// Mean agreement ratio after the last round.
    pub mean_final_agreement: f64,
}

impl GossipTrialsSummary {
    /// Summarises trial outcomes.
    pub fn of(outcomes: &[GossipOutcome]) -> Self {
        let mut trials = GossipTrials::default();
        outcomes.iter().for_each(|o| trials.add(o));
        trials.summary()
    }
}

/// Gossip trial outcomes summed as they come, in trial order: what a
/// [`GossipTrialsSummary`] needs, in memory that does not grow with the trials.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GossipTrials {
    trials: u64,
    rounds: RoundHistogram,
    decisions: IndexMap<&'static str, u64>,
    agreement: f64,
}

impl GossipTrials {
    /// Adds the next trial's outcome.
    pub fn add(&mut self, outcome: &GossipOutcome) {
        self.trials += 1;
        if let Some(round) = outcome.metadata.converged_round {
            self.rounds.add(round);
        }
        if self.decisions.is_empty() {
            self.decisions = decision_counts(&[Decision::Approved, Decision::Rejected]);
        }
        *self.decisions.entry(outcome.decision.name()).or_insert(0) += 1;
        self.agreement += outcome.metadata.agreement_ratio;
    }

    /// The summary of the outcomes added.
    pub fn summary(&self) -> GossipTrialsSummary {
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
            decisions: if self.decisions.is_empty() {
                decision_counts(&[Decision::Approved, Decision::Rejected])
            } else {
                self.decisions.clone()
            },
            mean_final_agreement: if trials == 0 {
                0.0
            } else {
                self.agreement / trials as f64
            },
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
/// trials.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ByzantineTrials {
    trials: u64,
    decisions: IndexMap<&'static str, u64>,
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
        if self.decisions.is_empty() {
            self.decisions = Self::no_decisions();
        }
        *self.decisions.entry(outcome.decision.name()).or_insert(0) += 1;
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

    fn no_decisions() -> IndexMap<&'static str, u64> {
        decision_counts(&[Decision::Approved, Decision::Rejected, Decision::Timeout])
    }

    /// The summary of the outcomes added.
    pub fn summary(&self) -> ByzantineTrialsSummary {
        let n = self.trials;
        ByzantineTrialsSummary {
            trials: n,
            decisions: if self.decisions.is_empty() {
                Self::no_decisions()
            } else {
                self.decisions.clone()
            },
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
            assert_eq!(
                GossipTrialsSummary::of(&slim),
                GossipTrialsSummary::of(&full)
            );
            for (s, f) in slim.iter().zip(&full) {
                let kept = s.metadata.round_history == f.metadata.round_history;
                assert_eq!(kept, keep || f.metadata.round_history.is_empty());
            }
        }
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

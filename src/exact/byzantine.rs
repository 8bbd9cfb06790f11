//! The exact law of a Byzantine vote.
//!
//! Agents draw independently ([`crate::consensus::byzantine::run`]), and
//! what an agent contributes follows from its behaviour alone:
//! - honest and stubborn agents cast their declared vote every round: always
//!   tallied, never detected;
//! - silent agents cast nothing: never tallied, never detected, not missed;
//! - a flip agent casts the other vote in its sure-change round (one of
//!   rounds 1 to R-1) and its declared vote in round R: always detected,
//!   never tallied;
//! - a random voter casts a coin vote every round and escapes detection iff
//!   all R agree: for with probability 2^-R, against with 2^-R;
//! - an equivocator with r >= 2 relayers (honest and stubborn agents) shows
//!   all of them one vote in a round with probability 2^(1-r), for or
//!   against evenly, and equivocates otherwise; with r <= 1 it casts a coin
//!   vote. It escapes iff it showed the same vote every round: for with
//!   probability 2^(-R max(r, 1)), against with the same.
//!
//! So the tally and the number detected depend only on U, the number of
//! random voters and equivocators that escape, and on how many of those
//! vote for: U is the sum of two independent binomials, and given U = u the
//! escaped for votes are Binomial(u, 1/2). The law enumerates the states
//! (u, for votes) whose probability is at least [`super::DROP_BELOW`] and
//! sums each figure directly over the states where it holds.
//!
//! Cost: for each count u in U's kept support (some 32 sqrt(N) counts for
//! N random voters and equivocators escaping with probability 1/4, 3
//! rounds, the worst case) the law builds Binomial(u, 1/2), u + 1 terms with
//! u about N/4: some 8 N^1.5 steps in all, and memory for a few vectors of
//! N + 1 numbers. [`MAX_UNCERTAIN_AGENTS`] caps N.

use serde::Serialize;

use super::{DROP_BELOW, DecisionProbabilities};
use crate::consensus::VoteCounts;
use crate::consensus::byzantine::is_faulty;
use crate::pmf::{binomial, window};
use crate::scenario::{Behavior, ByzantineConfig, Decision, Swarm};

/// The most random voters and equivocators (together) the exact law takes.
/// Measured with a release build, 3 rounds (their likeliest escape, so the
/// widest law), half of them beside as many honest agents: 10,000 take
/// 0.15 s, 50,000 take 0.52 s and 100,000 take 4.1 s, each with under
/// 4 MiB resident, on a 2-core machine under load.
pub const MAX_UNCERTAIN_AGENTS: u64 = 50_000;

/// The exact law of a Byzantine vote: the figures of
/// [`crate::montecarlo::ByzantineTrialsSummary`] as probabilities and
/// expectations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ByzantineExactSummary {
    /// Each decision's probability (approved, rejected, timeout).
    pub decisions: DecisionProbabilities,
    /// P(some faulty agent voted undetected).
    pub missed_rate: f64,
    /// P(a non-faulty agent was accused).
    pub false_positive_rate: f64,
    /// P(`byzantine_safe = false`).
    pub byzantine_unsafe_rate: f64,
    /// P(the decision went against the honest agents' declared majority).
    pub against_honest_majority_rate: f64,
    /// The same probability, named as gossip names it, for
    /// `max_wrong_decision_probability`.
    pub wrong_decision_probability: f64,
    /// Expected number of agents detected.
    pub mean_malicious_detected: f64,
    /// Standard deviation of the number of agents detected.
    pub malicious_detected_sd: f64,
    /// Whether the declared faulty agents stay within f.
    pub safety_guaranteed: bool,
    /// Probability mass dropped below [`super::DROP_BELOW`].
    pub dropped_mass: f64,
}

/// The agents of a vote, grouped by what the law needs of them.
struct Classes {
    /// Declared votes of the honest and stubborn agents: always tallied.
    tallied: VoteCounts,
    /// Flip agents: always detected.
    flips: u64,
    /// Agents declared faulty (flip, random, equivocate, silent).
    faulty: u64,
    /// Random voters, and each one's probability to escape detection.
    random: (u64, f64),
    /// Equivocators, and each one's probability to escape detection.
    equivocators: (u64, f64),
}

impl Classes {
    /// Groups `agents` voting over `rounds` rounds.
    fn of(agents: &Swarm, rounds: u32) -> Classes {
        let mut tallied = VoteCounts::default();
        let (mut flips, mut faulty, mut random, mut equivocators) = (0, 0, 0, 0);
        for (&vote, &behavior) in agents.votes().iter().zip(agents.behaviors()) {
            match behavior {
                Behavior::Honest | Behavior::Stubborn => tallied.add(vote),
                Behavior::Silent => {}
                Behavior::Flip => flips += 1,
                Behavior::Random => random += 1,
                Behavior::Equivocate => equivocators += 1,
            }
            faulty += u64::from(is_faulty(behavior));
        }
        let relayers = agents.len() as u64 - faulty;
        let rounds = u64::from(rounds);
        Classes {
            tallied,
            flips,
            faulty,
            // Escapes with probability 2 * 2^-R.
            random: (random, half_to_the(rounds.saturating_sub(1))),
            // Escapes with probability 2 * (2^-max(r, 1))^R.
            equivocators: (
                equivocators,
                half_to_the((rounds * relayers.max(1)).saturating_sub(1)),
            ),
        }
    }

    /// Random voters and equivocators: the agents that may escape.
    fn uncertain(&self) -> u64 {
        self.random.0 + self.equivocators.0
    }

    /// The agents that are detected unless they escape.
    fn detectable(&self) -> u64 {
        self.flips + self.uncertain()
    }

    /// The law of the number of random voters and equivocators that escape
    /// detection (entry `u` is P(U = u)), and the mass dropped from it.
    fn escaped_law(&self) -> (Vec<f64>, f64) {
        let mut law = vec![1.0];
        let mut dropped = 0.0;
        for (count, escape) in [self.random, self.equivocators] {
            if count == 0 {
                continue;
            }
            if escape == 0.0 {
                // 2^-k underflowed: each agent escapes with probability
                // below 2^-1074, so P(any escapes) < count * 2^-1074,
                // counted as dropped.
                dropped += count as f64 * f64::from_bits(1);
                continue;
            }
            // A detection probability of 1 - escape loses nothing: escape
            // is at most 1/4 (3 rounds or more).
            let terms = binomial(count, escape, 1.0 - escape);
            let (kept, lost) = window(&terms, 1.0, DROP_BELOW);
            dropped += lost;
            let mut next = vec![0.0; law.len() + count as usize];
            for (a, &mass) in law.iter().enumerate().filter(|(_, m)| **m > 0.0) {
                for b in kept.clone() {
                    let term = mass * terms[b];
                    if term >= DROP_BELOW {
                        next[a + b] += term;
                    } else {
                        dropped += term;
                    }
                }
            }
            law = next;
        }
        (law, dropped)
    }
}

/// 2^-k, exact (a power of two) down to f64's smallest subnormal, 2^-1074,
/// and 0 below.
fn half_to_the(k: u64) -> f64 {
    // Every partial product of the repeated squaring is a power of two no
    // smaller than the result, so none rounds.
    0.5f64.powi(k.min(1100) as i32)
}

/// Refuses a vote beyond [`MAX_UNCERTAIN_AGENTS`].
fn check_size(classes: &Classes) -> Result<(), String> {
    let n = classes.uncertain();
    if n > MAX_UNCERTAIN_AGENTS {
        return Err(format!(
            "the exact Byzantine law takes at most {MAX_UNCERTAIN_AGENTS} random and equivocating agents, this vote has {n}: use --trials for a Monte Carlo estimate"
        ));
    }
    Ok(())
}

/// The exact law of a vote of `agents` under `config` (which must be
/// valid), or why it is refused (too large: the message names `--trials`).
pub fn law(agents: &Swarm, config: &ByzantineConfig) -> Result<ByzantineExactSummary, String> {
    let classes = Classes::of(agents, config.num_rounds);
    check_size(&classes)?;
    let (escaped, mut dropped) = classes.escaped_law();
    let tallied = classes.tallied;
    let threshold = config.agreement_threshold();
    let f = u64::from(config.fault_tolerance);
    // Escaped votes each side needs to reach 2f+1.
    let need_for = threshold.saturating_sub(tallied.votes_for);
    let need_against = threshold.saturating_sub(tallied.votes_against);
    // The decision that goes against the honest agents' declared majority.
    let against_majority = match tallied.votes_for.cmp(&tallied.votes_against) {
        std::cmp::Ordering::Less => Some(Decision::Approved),
        std::cmp::Ordering::Greater => Some(Decision::Rejected),
        std::cmp::Ordering::Equal => None,
    };
    let (mut approved, mut rejected, mut timeout) = (0.0, 0.0, 0.0);
    let (mut missed, mut unsafe_rate, mut against) = (0.0, 0.0, 0.0);
    for (u, &mass) in escaped.iter().enumerate().filter(|(_, m)| **m > 0.0) {
        if u > 0 {
            missed += mass;
        }
        let detected = classes.detectable() - u as u64;
        // Given u escaped, each votes for or against evenly: x for, u - x
        // against. Each figure sums, over the kept x where it holds, the
        // probability of x given u; the sums are then weighted by P(U = u).
        let split = binomial(u as u64, 0.5, 0.5);
        let (kept, lost) = window(&split, mass, DROP_BELOW);
        dropped += lost;
        let (mut kept_mass, mut approves, mut rejects, mut no_single_quorum) = (0.0, 0.0, 0.0, 0.0);
        for x in kept {
            let p = split[x];
            kept_mass += p;
            let for_reached = x as u64 >= need_for;
            let against_reached = (u - x) as u64 >= need_against;
            if for_reached {
                approves += p;
            } else {
                rejects += p;
            }
            if for_reached == against_reached {
                no_single_quorum += p;
            }
        }
        if config.timeout_reached {
            // A timeout is never safe, and never against the honest majority.
            timeout += mass * kept_mass;
            unsafe_rate += mass * kept_mass;
            continue;
        }
        approved += mass * approves;
        rejected += mass * rejects;
        // Safe iff exactly one side reached 2f+1 and at most f are detected.
        unsafe_rate += mass
            * if detected > f {
                kept_mass
            } else {
                no_single_quorum
            };
        against += mass
            * match against_majority {
                Some(Decision::Approved) => approves,
                Some(_) => rejects,
                None => 0.0,
            };
    }
    let (mean, variance) = [classes.random, classes.equivocators].iter().fold(
        (classes.flips as f64, 0.0),
        |(mean, variance), &(count, escape)| {
            let n = count as f64;
            (
                mean + n * (1.0 - escape),
                variance + n * escape * (1.0 - escape),
            )
        },
    );
    let decisions = [
        (Decision::Approved, approved),
        (Decision::Rejected, rejected),
        (Decision::Timeout, timeout),
    ]
    .into_iter()
    .map(|(d, p)| (d.name(), p))
    .collect();
    Ok(ByzantineExactSummary {
        decisions,
        missed_rate: missed,
        // Honest and stubborn agents cast their declared vote every round
        // (see `cast`): they neither change their vote nor equivocate, so
        // no state of the law accuses one.
        false_positive_rate: 0.0,
        byzantine_unsafe_rate: unsafe_rate,
        against_honest_majority_rate: against,
        wrong_decision_probability: against,
        mean_malicious_detected: mean,
        malicious_detected_sd: variance.sqrt(),
        safety_guaranteed: classes.faulty <= f,
        dropped_mass: dropped,
    })
}

/// The law of the number of agents detected in a vote of `agents` under
/// `config` (which must be valid): entry `d` is P(d agents detected), mass
/// below [`super::DROP_BELOW`] left out; or why it is refused, as [`law`].
pub fn detected_law(agents: &Swarm, config: &ByzantineConfig) -> Result<Vec<f64>, String> {
    let classes = Classes::of(agents, config.num_rounds);
    check_size(&classes)?;
    let (escaped, _) = classes.escaped_law();
    let mut law = vec![0.0; classes.detectable() as usize + 1];
    for (u, &mass) in escaped.iter().enumerate() {
        law[classes.detectable() as usize - u] = mass;
    }
    Ok(law)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Vote;

    fn agents(spec: &[(u64, Vote, Behavior)]) -> Swarm {
        Swarm::of_groups(spec)
    }

    fn config(f: u32, rounds: u32) -> ByzantineConfig {
        ByzantineConfig {
            fault_tolerance: f,
            num_rounds: rounds,
            timeout_reached: false,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs()
    }

    fn assert_close(what: &str, a: f64, b: f64) {
        assert!(close(a, b), "{what}: {a} vs {b}");
    }

    /// The decisions' probabilities and the mass dropped add up to 1.
    fn assert_sums_to_one(law: &ByzantineExactSummary) {
        let total: f64 = law.decisions.values().sum();
        assert!(law.dropped_mass <= 1e-12, "{}", law.dropped_mass);
        assert!((total - 1.0).abs() <= 1e-12, "{law:?}");
        assert!((total + law.dropped_mass - 1.0).abs() <= 1e-12, "{law:?}");
    }

    use Behavior::{Equivocate, Flip, Honest, Random, Silent, Stubborn};
    use Vote::{Abstain, Against, For};

    #[test]
    fn a_random_voter_escapes_with_probability_two_to_the_one_minus_r() {
        // Its R coin votes all agree with probability 2 * 2^-R; it is then
        // tallied (missed), else detected.
        for (rounds, escape) in [(3, 0.25), (5, 1.0 / 16.0), (10, 1.0 / 512.0)] {
            let swarm = agents(&[(3, For, Honest), (1, Against, Random)]);
            let law = law(&swarm, &config(1, rounds)).unwrap();
            assert_close("missed", law.missed_rate, escape);
            assert_close("mean", law.mean_malicious_detected, 1.0 - escape);
            assert_close(
                "sd",
                law.malicious_detected_sd,
                (escape * (1.0 - escape)).sqrt(),
            );
            assert_eq!(law.false_positive_rate, 0.0);
            assert_sums_to_one(&law);
        }
    }

    #[test]
    fn example_one_approves_surely_and_detects_exactly_the_three_flips() {
        // 7 honest for, 3 flips against, f = 3, 5 rounds: the flips are
        // always detected and never tallied, so the tally is 7 for of the 7
        // needed, with 3 = f detected: approved and safe in every run.
        let swarm = agents(&[(7, For, Honest), (3, Against, Flip)]);
        let law = law(&swarm, &config(3, 5)).unwrap();
        assert_eq!(law.decisions["approved"], 1.0);
        assert_eq!(law.decisions["rejected"], 0.0);
        assert_eq!(law.decisions["timeout"], 0.0);
        assert_eq!(law.mean_malicious_detected, 3.0);
        assert_eq!(law.malicious_detected_sd, 0.0);
        assert_eq!(law.byzantine_unsafe_rate, 0.0);
        assert_eq!(law.missed_rate, 0.0);
        assert_eq!(law.against_honest_majority_rate, 0.0);
        assert_eq!(law.dropped_mass, 0.0);
        assert!(law.safety_guaranteed);
        assert_eq!(
            detected_law(&swarm, &config(3, 5)).unwrap(),
            [0.0, 0.0, 0.0, 1.0]
        );
    }

    #[test]
    fn two_random_voters_approve_when_one_escapes_voting_for() {
        // f = 1, threshold 3; two honest for and two random voters over 3
        // rounds. Each random voter escapes voting for with 1/8, against
        // with 1/8, and is detected with 3/4. Approved iff at least one
        // escapes voting for: 2 (1/8)(7/8) + (1/8)^2 = 15/64; against never
        // reaches 3. Every approval is safe (detected <= 1 whenever one
        // escaped), every rejection unsafe (no quorum) and against the
        // honest for-majority: 49/64. Missed: 1 - (3/4)^2 = 7/16.
        let swarm = agents(&[(2, For, Honest), (2, Against, Random)]);
        let law = law(&swarm, &config(1, 3)).unwrap();
        assert_close("approved", law.decisions["approved"], 15.0 / 64.0);
        assert_close("rejected", law.decisions["rejected"], 49.0 / 64.0);
        assert_close("unsafe", law.byzantine_unsafe_rate, 49.0 / 64.0);
        assert_close("against", law.against_honest_majority_rate, 49.0 / 64.0);
        assert_eq!(
            law.wrong_decision_probability,
            law.against_honest_majority_rate
        );
        assert_close("missed", law.missed_rate, 7.0 / 16.0);
        // Detected ~ Binomial(2, 3/4): mean 3/2, variance 2 (3/4)(1/4).
        assert_close("mean", law.mean_malicious_detected, 1.5);
        assert_close("sd", law.malicious_detected_sd, (3.0f64 / 8.0).sqrt());
        assert!(!law.safety_guaranteed, "2 faulty agents, f = 1");
        assert_sums_to_one(&law);
        // P(0, 1, 2 detected) = (1/4)^2, 2 (1/4)(3/4), (3/4)^2.
        let detected = detected_law(&swarm, &config(1, 3)).unwrap();
        for (d, p) in [1.0 / 16.0, 6.0 / 16.0, 9.0 / 16.0].into_iter().enumerate() {
            assert_close("detected law", detected[d], p);
        }
    }

    #[test]
    fn more_than_f_detected_is_unsafe_even_when_approved() {
        // f = 1: three honest for always approve (threshold 3; against has
        // at most 1 + 1). A flip is always detected, so the vote is unsafe
        // iff the random voter (4 rounds) is detected too: 1 - 2^-3 = 7/8.
        let swarm = agents(&[
            (3, For, Honest),
            (1, Against, Stubborn),
            (1, For, Flip),
            (1, Against, Random),
        ]);
        let law = law(&swarm, &config(1, 4)).unwrap();
        assert_eq!(law.decisions["approved"], 1.0);
        assert_close("unsafe", law.byzantine_unsafe_rate, 7.0 / 8.0);
        assert_close("mean", law.mean_malicious_detected, 1.0 + 7.0 / 8.0);
        assert_eq!(law.against_honest_majority_rate, 0.0);
        assert_sums_to_one(&law);
    }

    #[test]
    fn an_equivocator_with_three_relayers_escapes_with_two_to_the_minus_eight() {
        // Three relayers: a round shows one vote to all three with
        // probability 2 * 2^-3, for with 2^-3. Over 3 rounds the same vote
        // every time: for with 2^-9, against with 2^-9. f = 1, threshold 3,
        // honest 2 for and 1 against: approved (safely) iff it escapes
        // voting for; otherwise rejected without a quorum, unsafe and
        // against the honest for-majority.
        let swarm = agents(&[(2, For, Honest), (1, Against, Honest), (1, For, Equivocate)]);
        let law = law(&swarm, &config(1, 3)).unwrap();
        let for_escape = 2f64.powi(-9);
        assert_close("approved", law.decisions["approved"], for_escape);
        assert_close("rejected", law.decisions["rejected"], 1.0 - for_escape);
        assert_close("unsafe", law.byzantine_unsafe_rate, 1.0 - for_escape);
        assert_close("missed", law.missed_rate, 2.0 * for_escape);
        assert_close("mean", law.mean_malicious_detected, 1.0 - 2.0 * for_escape);
        assert_sums_to_one(&law);
        // Over 30 rounds the approval is 2^-90, a rare event the law keeps
        // to full relative precision.
        let law = super::law(&swarm, &config(1, 30)).unwrap();
        assert_close("approved", law.decisions["approved"], 2f64.powi(-90));
        assert_close("missed", law.missed_rate, 2f64.powi(-89));
        assert_sums_to_one(&law);
    }

    #[test]
    fn an_equivocator_with_one_relayer_is_a_coin_voter() {
        // One relayer cannot show an equivocation: like a random voter, it
        // escapes over 3 rounds with 2 * 2^-3.
        let swarm = agents(&[(1, For, Honest), (3, Against, Equivocate)]);
        let law = law(&swarm, &config(1, 3)).unwrap();
        // Missed iff at least one of three escapes: directly,
        // 3 (1/4)(3/4)^2 + 3 (1/4)^2 (3/4) + (1/4)^3 = 37/64.
        assert_close("missed", law.missed_rate, 37.0 / 64.0);
        assert_sums_to_one(&law);
    }

    #[test]
    fn an_escape_too_rare_for_f64_is_dropped_and_counted() {
        // Three relayers, 400 rounds: an escape has probability 2^-1199,
        // below f64's range; 334 rounds: 2^-1001, below the drop floor.
        let swarm = agents(&[(3, For, Honest), (1, For, Equivocate)]);
        for rounds in [400, 334] {
            let law = law(&swarm, &config(1, rounds)).unwrap();
            assert_eq!(law.missed_rate, 0.0);
            assert!(law.dropped_mass > 0.0 && law.dropped_mass < 1e-300);
            assert_eq!(law.decisions["approved"], 1.0);
        }
    }

    #[test]
    fn a_timeout_is_never_safe_nor_against_the_majority() {
        // Detection still runs: the flips are detected.
        let swarm = agents(&[(7, For, Honest), (3, Against, Flip), (2, Abstain, Random)]);
        let cfg = ByzantineConfig {
            timeout_reached: true,
            ..config(3, 5)
        };
        let law = law(&swarm, &cfg).unwrap();
        assert_close("timeout", law.decisions["timeout"], 1.0);
        assert_eq!(law.decisions["approved"], 0.0);
        assert_eq!(law.decisions["rejected"], 0.0);
        assert_close("unsafe", law.byzantine_unsafe_rate, 1.0);
        assert_eq!(law.against_honest_majority_rate, 0.0);
        assert_close("mean", law.mean_malicious_detected, 3.0 + 2.0 * 15.0 / 16.0);
        assert_sums_to_one(&law);
    }

    #[test]
    fn silent_agents_are_neither_tallied_detected_nor_missed() {
        // 3 for and a silent against: approved surely, nobody detected.
        let swarm = agents(&[(3, For, Honest), (1, Against, Silent)]);
        let law = law(&swarm, &config(1, 3)).unwrap();
        assert_eq!(law.decisions["approved"], 1.0);
        assert_eq!(law.missed_rate, 0.0);
        assert_eq!(law.mean_malicious_detected, 0.0);
        assert_eq!(law.byzantine_unsafe_rate, 0.0);
        assert!(law.safety_guaranteed);
    }

    #[test]
    fn the_law_sums_to_one_and_its_moments_match_the_detected_law() {
        for (spec, f, rounds) in [
            (
                vec![
                    (20, For, Honest),
                    (15, Against, Honest),
                    (25, Abstain, Random),
                ],
                19,
                3,
            ),
            (
                vec![
                    (4, For, Honest),
                    (3, Against, Honest),
                    (9, For, Equivocate),
                    (4, Against, Flip),
                ],
                5,
                4,
            ),
            (
                vec![
                    (300, For, Honest),
                    (400, Against, Random),
                    (200, For, Equivocate),
                ],
                299,
                3,
            ),
        ] {
            let swarm = agents(&spec);
            let cfg = config(f, rounds);
            cfg.validate(&swarm).unwrap();
            let law = law(&swarm, &cfg).unwrap();
            assert_sums_to_one(&law);
            let detected = detected_law(&swarm, &cfg).unwrap();
            let mean: f64 = detected.iter().enumerate().map(|(d, p)| d as f64 * p).sum();
            let second: f64 = detected
                .iter()
                .enumerate()
                .map(|(d, p)| (d * d) as f64 * p)
                .sum();
            assert!((mean - law.mean_malicious_detected).abs() <= 1e-9 * mean);
            let sd = (second - mean * mean).sqrt();
            assert!((sd - law.malicious_detected_sd).abs() <= 1e-6 * sd, "{sd}");
        }
    }

    #[test]
    fn too_many_uncertain_agents_are_refused_naming_trials() {
        let swarm = Swarm::generated(
            MAX_UNCERTAIN_AGENTS + 1,
            0,
            MAX_UNCERTAIN_AGENTS + 1,
            Random,
        );
        let err = law(&swarm, &config(1, 3)).unwrap_err();
        assert!(err.contains("--trials") && !err.contains('\n'), "{err}");
        assert!(
            err.contains(&format!("{}", MAX_UNCERTAIN_AGENTS + 1)),
            "{err}"
        );
        assert_eq!(detected_law(&swarm, &config(1, 3)).unwrap_err(), err);
    }
}

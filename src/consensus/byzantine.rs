//! Byzantine fault-tolerant voting with detection of vote-changing agents.
//!
//! With at most `f` faulty agents among `n >= 3f+1`, a decision backed by
//! `2f+1` honest votes is safe. Agents vote over several rounds; an agent whose
//! vote differs between rounds is detected as malicious, blacklisted and left
//! out of the tally, which counts the remaining agents' final-round votes.

use std::num::NonZeroU32;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{VoteCounts, require_agents};
use crate::error::InvalidSetting;
use crate::rng::SimRng;
use crate::scenario::{
    Behavior, ByzantineConfig, Decision, MAX_ROUNDS, MIN_BYZANTINE_ROUNDS, Swarm, Vote,
};

impl ByzantineConfig {
    /// `3f+1`: the fewest participants that can tolerate `f` faults.
    pub fn min_participants(&self) -> u64 {
        3 * u64::from(self.fault_tolerance) + 1
    }

    /// `2f+1`: the votes one side needs for a safe decision.
    pub fn agreement_threshold(&self) -> u64 {
        2 * u64::from(self.fault_tolerance) + 1
    }

    /// Checks these settings against the participants.
    pub fn validate(&self, agents: &Swarm) -> Result<(), InvalidSetting> {
        require_agents(agents)?;
        let invalid = |key: &str, flag, message: String| InvalidSetting {
            key: key.to_string(),
            flag: Some(flag),
            message,
        };
        if !(MIN_BYZANTINE_ROUNDS..=MAX_ROUNDS).contains(&self.num_rounds) {
            return Err(invalid(
                "byzantine.num_rounds",
                "--rounds",
                format!(
                    "num_rounds must be between {MIN_BYZANTINE_ROUNDS} and {MAX_ROUNDS}, got {}",
                    self.num_rounds
                ),
            ));
        }
        let n = agents.len() as u64;
        if n < self.min_participants() {
            return Err(invalid(
                "byzantine.fault_tolerance",
                "--fault-tolerance",
                format!(
                    "fault tolerance f={} needs at least {} participants (3f+1), the scenario has {n}",
                    self.fault_tolerance,
                    self.min_participants()
                ),
            ));
        }
        Ok(())
    }
}

/// Votes cast in one round, as the honest agents saw them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ByzantineRound {
    /// Round number, from 1.
    pub round: u32,
    /// Consistent votes cast this round.
    #[serde(flatten)]
    pub counts: VoteCounts,
    /// Agents that cast nothing (crashed).
    pub silent: u64,
    /// Agents shown this round to have sent different votes to different agents.
    pub equivocations: u64,
    /// Agents detected for the first time this round (changed vote or
    /// equivocated). Not in the JSON or CSV output.
    #[serde(skip)]
    pub detected: u64,
}

/// How well detection matched the behaviours the scenario declared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectionQuality {
    /// Agents declared faulty (flip, random, equivocate, silent).
    pub faulty_agents: u64,
    /// Whether faulty agents stay within `f`, the bound the 3f+1 guarantee needs.
    pub safety_guaranteed: bool,
    /// Detected agents that are faulty.
    pub detected_correctly: u64,
    /// Detected agents that are not faulty.
    pub false_positives: Vec<String>,
    /// Faulty agents that voted and were not detected: their votes were tallied.
    pub missed: Vec<String>,
}

/// Everything a Byzantine run found besides the decision and counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ByzantineMetadata {
    /// `f`.
    pub fault_tolerance: u32,
    /// `3f+1`.
    pub min_participants: u64,
    /// `2f+1`.
    pub agreement_threshold: u64,
    /// Everyone who took part.
    pub total_participants: u64,
    /// Participants whose votes were tallied: not detected, not silent.
    pub honest_participants: u64,
    /// How many agents were detected.
    pub malicious_detected: u64,
    /// The detected agents, in scenario order.
    pub malicious_agents: Vec<String>,
    /// The round each agent of `malicious_agents` was detected in (same
    /// order): the first round its vote differed from its first cast or
    /// that relays showed it equivocating, whichever came first. Not in the
    /// JSON output.
    #[serde(skip)]
    pub detection_rounds: Vec<u32>,
    /// Detected because their votes differed between rounds.
    pub vote_changers: Vec<String>,
    /// Detected because relays showed them sending different votes in one round.
    pub equivocators: Vec<String>,
    /// Agents that cast no vote (crashed); not counted, not accused.
    pub silent_agents: Vec<String>,
    /// Voting rounds run.
    pub num_rounds: u32,
    /// Whether the vote timed out.
    pub timeout_reached: bool,
    /// Whether the decision is backed by `2f+1` tallied votes with at most `f`
    /// agents detected as malicious.
    pub byzantine_safe: bool,
    /// Why the run is not safe, when it is not.
    pub reason: Option<String>,
    /// Whether the decision went against the majority of the agents declared
    /// honest (`approved` while they lean against, or `rejected` while they
    /// lean for); false on a timeout or an honest tie.
    pub against_honest_majority: bool,
    /// Detection measured against the declared behaviours.
    pub detection: DetectionQuality,
    /// Agents to exclude from future proposals.
    pub blacklist: Vec<String>,
    /// Agents that may take part in the next proposal, in scenario order.
    pub healthy_agents: Vec<String>,
    /// What every round's votes were.
    pub round_history: Vec<ByzantineRound>,
    /// How many ids each list left out, when the run made at most a
    /// number of ids per list ([`run_listing`]).
    #[serde(skip)]
    pub unlisted: Unlisted,
}

/// How many ids each list of a [`ByzantineMetadata`] left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unlisted {
    /// Of `malicious_agents` (and of `blacklist`, the same agents).
    pub malicious_agents: u64,
    /// Of `vote_changers`.
    pub vote_changers: u64,
    /// Of `equivocators`.
    pub equivocators: u64,
    /// Of `silent_agents`.
    pub silent_agents: u64,
    /// Of `healthy_agents`.
    pub healthy_agents: u64,
    /// Of `detection.false_positives`.
    pub false_positives: u64,
    /// Of `detection.missed`.
    pub missed: u64,
}

/// The result of a Byzantine vote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ByzantineOutcome {
    /// The decision.
    pub decision: Decision,
    /// The tally: final-round votes of agents neither detected nor silent.
    #[serde(flatten)]
    pub counts: VoteCounts,
    /// Detection, thresholds and history.
    pub metadata: ByzantineMetadata,
}

/// One proposal of a sequence.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum ProposalResult {
    /// The proposal was voted on.
    Decided(Box<ByzantineOutcome>),
    /// Too few healthy agents were left to vote safely.
    Skipped {
        /// Why it did not run.
        reason: String,
        /// Agents not blacklisted by earlier proposals.
        healthy_agents: Vec<String>,
    },
}

/// Votes on several proposals in order. Agents detected in one proposal are
/// blacklisted and left out of every later one; a proposal for which fewer
/// than 3f+1 healthy agents remain is skipped with the reason. Returns each
/// proposal's result and the final blacklist.
pub fn run_sequence(
    agents: &Swarm,
    proposals: usize,
    config: &ByzantineConfig,
    rng: &mut SimRng,
) -> (Vec<ProposalResult>, Vec<String>) {
    let mut blacklist: Vec<String> = Vec::new();
    let mut results = Vec::with_capacity(proposals);
    let mut healthy = agents.clone();
    for _ in 0..proposals {
        if (healthy.len() as u64) < config.min_participants() {
            results.push(ProposalResult::Skipped {
                reason: format!(
                    "{} healthy agents left, fewer than 3f+1 = {}",
                    healthy.len(),
                    config.min_participants()
                ),
                healthy_agents: healthy.ids().collect(),
            });
            continue;
        }
        let outcome = run(&healthy, config, rng);
        if !outcome.metadata.blacklist.is_empty() {
            let caught: std::collections::HashSet<&str> = outcome
                .metadata
                .blacklist
                .iter()
                .map(String::as_str)
                .collect();
            healthy = healthy.select(|i| !caught.contains(healthy.id(i).as_str()));
            blacklist.extend(outcome.metadata.blacklist.iter().cloned());
        }
        results.push(ProposalResult::Decided(Box::new(outcome)));
    }
    (results, blacklist)
}

/// What honest agents saw of one agent in one round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cast {
    /// Nothing: the agent is crashed.
    Silent,
    /// One vote, the same to everyone.
    Vote(Vote),
    /// Different votes to different honest agents.
    Equivocated,
}

/// Whether a behaviour is a fault the simulation injects.
pub fn is_faulty(behavior: Behavior) -> bool {
    !matches!(behavior, Behavior::Honest | Behavior::Stubborn)
}

/// Runs a Byzantine vote. `config` must have passed [`ByzantineConfig::validate`].
///
/// Random draws, in order: first each vote changer's sure-change round (in
/// scenario order); then, round by round and agent by agent in scenario
/// order, whatever that agent's behaviour draws (see [`cast`]).
pub fn run(agents: &Swarm, config: &ByzantineConfig, rng: &mut SimRng) -> ByzantineOutcome {
    run_listing(agents, config, rng, usize::MAX)
}

/// [`run`], making at most `list_limit` ids per list of agents (the rest
/// are counted in `metadata.unlisted`), so a huge swarm never spells out
/// ids no one prints. Everything else is the same.
pub fn run_listing(
    agents: &Swarm,
    config: &ByzantineConfig,
    rng: &mut SimRng,
    list_limit: usize,
) -> ByzantineOutcome {
    let rounds = config.num_rounds;
    let (votes, behaviors) = (agents.votes(), agents.behaviors());
    let forced_change: Vec<Option<u32>> = behaviors
        .iter()
        .map(|&behavior| (behavior == Behavior::Flip).then(|| rng.random_range(1..rounds)))
        .collect();
    // Every agent sends its vote to every other agent, and honest agents relay
    // what they received, so what an agent sent to honest agents is known to
    // all of them. Messages are signed: relays cannot be forged.
    let relayers = behaviors.iter().filter(|&&b| !is_faulty(b)).count() as u32;

    let mut first_vote: Vec<Option<Vote>> = vec![None; agents.len()];
    let mut final_cast: Vec<Cast> = vec![Cast::Silent; agents.len()];
    let mut changed = vec![false; agents.len()];
    let mut equivocated = vec![false; agents.len()];
    let mut detected_in: Vec<Option<NonZeroU32>> = vec![None; agents.len()];
    let mut round_history = Vec::with_capacity(rounds as usize);
    for round in 1..=rounds {
        let mut entry = ByzantineRound {
            round,
            counts: VoteCounts::default(),
            silent: 0,
            equivocations: 0,
            detected: 0,
        };
        for i in 0..agents.len() {
            let cast = cast(
                votes[i],
                behaviors[i],
                round,
                rounds,
                forced_change[i],
                relayers,
                rng,
            );
            match cast {
                Cast::Silent => entry.silent += 1,
                Cast::Equivocated => {
                    entry.equivocations += 1;
                    equivocated[i] = true;
                }
                Cast::Vote(vote) => {
                    entry.counts.add(vote);
                    match first_vote[i] {
                        None => first_vote[i] = Some(vote),
                        Some(first) => changed[i] |= first != vote,
                    }
                }
            }
            final_cast[i] = cast;
            if detected_in[i].is_none() && (changed[i] || equivocated[i]) {
                detected_in[i] = NonZeroU32::new(round);
                entry.detected += 1;
            }
        }
        round_history.push(entry);
    }

    let detected: Vec<bool> = detected_in.iter().map(Option::is_some).collect();
    // The first `list_limit` ids of the agents `keep` picks, and how many
    // more it picks.
    let ids_where = |keep: &dyn Fn(usize) -> bool| -> (Vec<String>, u64) {
        let mut ids = Vec::new();
        let mut left_out = 0;
        for i in (0..agents.len()).filter(|&i| keep(i)) {
            if ids.len() < list_limit {
                ids.push(agents.id(i));
            } else {
                left_out += 1;
            }
        }
        (ids, left_out)
    };
    let silent = |i: usize| behaviors[i] == Behavior::Silent;
    let (malicious_agents, unlisted_malicious) = ids_where(&|i| detected[i]);
    let detection_rounds: Vec<u32> = detected_in
        .iter()
        .filter_map(|round| round.map(NonZeroU32::get))
        .take(malicious_agents.len())
        .collect();
    let malicious_detected = malicious_agents.len() as u64 + unlisted_malicious;
    let (false_positives, unlisted_false_positives) =
        ids_where(&|i| detected[i] && !is_faulty(behaviors[i]));
    let (missed, unlisted_missed) =
        ids_where(&|i| !detected[i] && !silent(i) && is_faulty(behaviors[i]));
    let counts =
        VoteCounts::of((0..agents.len()).filter(|&i| !detected[i]).filter_map(
            |i| match final_cast[i] {
                Cast::Vote(vote) => Some(vote),
                Cast::Silent | Cast::Equivocated => None,
            },
        ));
    let faulty_agents = behaviors.iter().filter(|&&b| is_faulty(b)).count() as u64;
    let detection = DetectionQuality {
        faulty_agents,
        safety_guaranteed: faulty_agents <= u64::from(config.fault_tolerance),
        detected_correctly: (0..agents.len())
            .filter(|&i| detected[i] && is_faulty(behaviors[i]))
            .count() as u64,
        false_positives,
        missed,
    };
    let (decision, byzantine_safe, reason) = decide(config, &counts, malicious_detected);
    let honest_lean = VoteCounts::of(
        (0..agents.len())
            .filter(|&i| !is_faulty(behaviors[i]))
            .map(|i| votes[i]),
    );
    let against_honest_majority = match decision {
        Decision::Timeout => false,
        Decision::Approved => honest_lean.votes_against > honest_lean.votes_for,
        Decision::Rejected => honest_lean.votes_for > honest_lean.votes_against,
    };
    let (healthy_agents, unlisted_healthy) = ids_where(&|i| !detected[i]);
    let (vote_changers, unlisted_vote_changers) = ids_where(&|i| changed[i] && !equivocated[i]);
    let (equivocators, unlisted_equivocators) = ids_where(&|i| equivocated[i]);
    let (silent_agents, unlisted_silent) = ids_where(&silent);

    ByzantineOutcome {
        decision,
        counts,
        metadata: ByzantineMetadata {
            fault_tolerance: config.fault_tolerance,
            min_participants: config.min_participants(),
            agreement_threshold: config.agreement_threshold(),
            total_participants: agents.len() as u64,
            honest_participants: (0..agents.len())
                .filter(|&i| !detected[i] && !silent(i))
                .count() as u64,
            malicious_detected,
            vote_changers,
            equivocators,
            silent_agents,
            blacklist: malicious_agents.clone(),
            malicious_agents,
            detection_rounds,
            num_rounds: rounds,
            timeout_reached: config.timeout_reached,
            byzantine_safe,
            reason,
            against_honest_majority,
            detection,
            healthy_agents,
            round_history,
            unlisted: Unlisted {
                malicious_agents: unlisted_malicious,
                vote_changers: unlisted_vote_changers,
                equivocators: unlisted_equivocators,
                silent_agents: unlisted_silent,
                healthy_agents: unlisted_healthy,
                false_positives: unlisted_false_positives,
                missed: unlisted_missed,
            },
        },
    }
}

/// What `agent` sends in `round` of `rounds`:
/// - honest and stubborn: its declared vote;
/// - silent: nothing;
/// - flip: its declared vote in the last round; in its sure-change round the
///   other vote; in other earlier rounds the other vote with probability 1/2;
/// - random: for or against, uniformly;
/// - equivocate: to each honest agent, for or against uniformly. Drawn one
///   honest recipient at a time until two differ (the rest cannot change what
///   the relays show), so a round costs a few draws, not one per agent. With
///   fewer than two honest agents nobody can show the difference.
fn cast(
    vote: Vote,
    behavior: Behavior,
    round: u32,
    rounds: u32,
    forced_change: Option<u32>,
    relayers: u32,
    rng: &mut SimRng,
) -> Cast {
    match behavior {
        Behavior::Honest | Behavior::Stubborn => Cast::Vote(vote),
        Behavior::Silent => Cast::Silent,
        Behavior::Flip if round == rounds => Cast::Vote(vote),
        Behavior::Flip if forced_change == Some(round) => Cast::Vote(other_vote(vote, rng)),
        Behavior::Flip => {
            if rng.random_range(0..2u32) == 0 {
                Cast::Vote(vote)
            } else {
                Cast::Vote(other_vote(vote, rng))
            }
        }
        Behavior::Random => Cast::Vote(coin_vote(rng)),
        Behavior::Equivocate => {
            let first = coin_vote(rng);
            for _ in 1..relayers {
                if coin_vote(rng) != first {
                    return Cast::Equivocated;
                }
            }
            Cast::Vote(first)
        }
    }
}

/// For or against, each with probability 1/2.
fn coin_vote(rng: &mut SimRng) -> Vote {
    if rng.random_range(0..2u32) == 0 {
        Vote::For
    } else {
        Vote::Against
    }
}

/// The opposite vote; an abstainer picks a side at random.
fn other_vote(vote: Vote, rng: &mut SimRng) -> Vote {
    match vote {
        Vote::For => Vote::Against,
        Vote::Against => Vote::For,
        Vote::Abstain => coin_vote(rng),
    }
}

/// The decision, whether it is safe, and why not.
fn decide(
    config: &ByzantineConfig,
    counts: &VoteCounts,
    detected: u64,
) -> (Decision, bool, Option<String>) {
    let threshold = config.agreement_threshold();
    let f = config.fault_tolerance;
    if config.timeout_reached {
        return (
            Decision::Timeout,
            false,
            Some("timeout reached before a decision".to_string()),
        );
    }
    let for_reached = counts.votes_for >= threshold;
    let against_reached = counts.votes_against >= threshold;
    let decision = if for_reached {
        Decision::Approved
    } else {
        Decision::Rejected
    };
    let reason = if !for_reached && !against_reached {
        Some(format!(
            "neither FOR ({}) nor AGAINST ({}) reached the agreement threshold 2f+1 = {threshold}",
            counts.votes_for, counts.votes_against
        ))
    } else if for_reached && against_reached {
        Some(format!(
            "both FOR ({}) and AGAINST ({}) reached 2f+1 = {threshold}: with n well above 3f+1, f is set too low for these quorums to exclude each other",
            counts.votes_for, counts.votes_against
        ))
    } else if detected > u64::from(f) {
        Some(format!(
            "{detected} agents detected as malicious, more than f = {f}"
        ))
    } else {
        None
    };
    (decision, reason.is_none(), reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::generator;
    use crate::scenario::{Agent, AgentOrigin};

    fn agents(spec: &[(Vote, Behavior)]) -> Swarm {
        spec.iter()
            .enumerate()
            .map(|(i, (vote, behavior))| Agent {
                id: format!("agent-{}", i + 1),
                vote: *vote,
                behavior: *behavior,
                origin: AgentOrigin::Flags,
            })
            .collect()
    }

    fn config(f: u32, rounds: u32) -> ByzantineConfig {
        ByzantineConfig {
            fault_tolerance: f,
            num_rounds: rounds,
            timeout_reached: false,
        }
    }

    fn example_one() -> Swarm {
        let mut spec = vec![(Vote::For, Behavior::Honest); 7];
        spec.extend([(Vote::Against, Behavior::Flip); 3]);
        agents(&spec)
    }

    #[test]
    fn example_one_detects_the_three_vote_changers_and_approves() {
        let out = run(&example_one(), &config(3, 5), &mut generator(42));
        assert_eq!(out.decision, Decision::Approved);
        assert_eq!(
            out.counts,
            VoteCounts {
                votes_for: 7,
                votes_against: 0,
                abstain: 0
            }
        );
        assert_eq!(
            out.metadata.malicious_agents,
            ["agent-8", "agent-9", "agent-10"]
        );
        assert_eq!(out.metadata.blacklist, out.metadata.malicious_agents);
        assert_eq!(out.metadata.honest_participants, 7);
        assert_eq!(out.metadata.agreement_threshold, 7);
        assert_eq!(out.metadata.min_participants, 10);
        assert!(out.metadata.byzantine_safe);
        assert_eq!(out.metadata.healthy_agents.len(), 7);
        assert_eq!(out.metadata.round_history.len(), 5);
    }

    #[test]
    fn flip_agents_vote_differently_before_and_declared_in_the_final_round() {
        for seed in 0..50 {
            let out = run(&example_one(), &config(3, 3), &mut generator(seed));
            let history = &out.metadata.round_history;
            // The final round shows every declared vote.
            assert_eq!(
                history[2].counts,
                VoteCounts {
                    votes_for: 7,
                    votes_against: 3,
                    abstain: 0
                }
            );
            // Each of the three changers voted FOR in at least one earlier round.
            let extra_for: u64 = history[..2].iter().map(|r| r.counts.votes_for - 7).sum();
            assert!(extra_for >= 3, "seed {seed}: {history:?}");
            assert_eq!(out.metadata.malicious_detected, 3);
        }
    }

    #[test]
    fn example_one_detects_each_flip_between_round_two_and_the_last() {
        // A flip casts the other vote in its sure-change round and its
        // declared vote in the last, so its casts differ by the last round;
        // a change needs two rounds, so never in round 1.
        for seed in 0..50 {
            let out = run(&example_one(), &config(3, 5), &mut generator(seed));
            let m = &out.metadata;
            assert_eq!(m.detection_rounds.len(), 3, "seed {seed}");
            assert!(
                m.detection_rounds.iter().all(|r| (2..=5).contains(r)),
                "seed {seed}: {:?}",
                m.detection_rounds
            );
            // The per-round counts are the same detections, counted.
            for entry in &m.round_history {
                let listed = m.detection_rounds.iter().filter(|&&r| r == entry.round);
                assert_eq!(entry.detected, listed.count() as u64, "seed {seed}");
            }
        }
    }

    #[test]
    fn a_flip_is_detected_in_the_first_round_its_cast_differs_from_its_first() {
        // One flip among honest FOR voters: the history shows its cast each
        // round (the FOR count above 4 is its vote).
        let mut spec = vec![(Vote::For, Behavior::Honest); 4];
        spec.push((Vote::Against, Behavior::Flip));
        let rounds = 6;
        for seed in 0..100 {
            let out = run(&agents(&spec), &config(1, rounds), &mut generator(seed));
            let history = &out.metadata.round_history;
            let cast_for: Vec<bool> = history.iter().map(|r| r.counts.votes_for == 5).collect();
            let expected = (1..rounds as usize)
                .find(|&k| cast_for[k] != cast_for[0])
                .map(|k| k as u32 + 1)
                .expect("the sure-change round and the last differ");
            assert_eq!(out.metadata.detection_rounds, [expected], "seed {seed}");
            // The sure-change round is the run's first draw: when round 1
            // cast the declared vote, the change is seen by that round.
            let sure_change = generator(seed).random_range(1..rounds);
            if !cast_for[0] {
                assert!(expected <= sure_change, "seed {seed}");
            }
        }
    }

    #[test]
    fn detection_rounds_are_listed_like_the_detected_agents() {
        let swarm = Swarm::generated(40, 25, 12, Behavior::Random);
        let full = run(&swarm, &config(12, 5), &mut generator(3));
        let listed = run_listing(&swarm, &config(12, 5), &mut generator(3), 2);
        let all = &full.metadata.detection_rounds;
        assert_eq!(all.len(), full.metadata.malicious_agents.len());
        assert_eq!(listed.metadata.detection_rounds, all[..2]);
        let counted: u64 = full.metadata.round_history.iter().map(|r| r.detected).sum();
        assert_eq!(counted, full.metadata.malicious_detected);
        let json = serde_json::to_string(&full).unwrap();
        assert!(!json.contains("detection_rounds") && !json.contains("\"detected\""));
    }

    #[test]
    fn exactly_two_f_plus_one_approves() {
        let mut spec = vec![(Vote::For, Behavior::Honest); 3];
        spec.push((Vote::Against, Behavior::Honest));
        let out = run(&agents(&spec), &config(1, 3), &mut generator(1));
        assert_eq!(out.decision, Decision::Approved);
        assert!(out.metadata.byzantine_safe);
    }

    #[test]
    fn against_quorum_rejects_safely() {
        let mut spec = vec![(Vote::Against, Behavior::Honest); 3];
        spec.push((Vote::For, Behavior::Flip));
        let out = run(&agents(&spec), &config(1, 3), &mut generator(1));
        assert_eq!(out.decision, Decision::Rejected);
        assert!(out.metadata.byzantine_safe);
        assert_eq!(out.metadata.reason, None);
    }

    #[test]
    fn one_short_of_threshold_rejects_as_unsafe_with_a_reason() {
        // f = 1, threshold 3: two honest FOR, one honest abstain, one flipper.
        let spec = [
            (Vote::For, Behavior::Honest),
            (Vote::For, Behavior::Honest),
            (Vote::Abstain, Behavior::Honest),
            (Vote::For, Behavior::Flip),
        ];
        let out = run(&agents(&spec), &config(1, 3), &mut generator(7));
        assert_eq!(out.decision, Decision::Rejected);
        assert!(!out.metadata.byzantine_safe);
        assert_eq!(
            out.counts,
            VoteCounts {
                votes_for: 2,
                votes_against: 0,
                abstain: 1
            }
        );
        let reason = out.metadata.reason.unwrap();
        assert!(reason.contains("threshold 2f+1 = 3"), "{reason}");
    }

    #[test]
    fn more_detected_than_f_is_not_safe() {
        let mut spec = vec![(Vote::For, Behavior::Honest); 3];
        spec.extend([(Vote::Against, Behavior::Flip); 2]);
        let out = run(&agents(&spec), &config(1, 4), &mut generator(3));
        assert_eq!(out.decision, Decision::Approved);
        assert!(!out.metadata.byzantine_safe);
        assert!(out.metadata.reason.unwrap().contains("more than f = 1"));
    }

    #[test]
    fn timeout_decides_timeout_but_still_detects() {
        let cfg = ByzantineConfig {
            timeout_reached: true,
            ..config(3, 5)
        };
        let out = run(&example_one(), &cfg, &mut generator(42));
        assert_eq!(out.decision, Decision::Timeout);
        assert!(!out.metadata.byzantine_safe);
        assert_eq!(out.metadata.malicious_detected, 3);
    }

    #[test]
    fn validation_enforces_three_f_plus_one_and_round_bounds() {
        let nine = example_one().select(|i| i < 9);
        let err = config(3, 5).validate(&nine).unwrap_err();
        assert_eq!(err.key, "byzantine.fault_tolerance");
        assert!(
            err.message.contains("at least 10 participants"),
            "{}",
            err.message
        );
        assert!(config(3, 5).validate(&example_one()).is_ok());
        assert_eq!(
            config(3, 2).validate(&example_one()).unwrap_err().key,
            "byzantine.num_rounds"
        );
        assert_eq!(
            config(0, 3).validate(&Swarm::new()).unwrap_err().key,
            "agents"
        );
    }

    #[test]
    fn silent_agents_cast_nothing_and_are_not_accused() {
        let mut spec = vec![(Vote::For, Behavior::Honest); 4];
        spec.push((Vote::Against, Behavior::Silent));
        let out = run(&agents(&spec), &config(1, 3), &mut generator(1));
        assert_eq!(
            out.counts,
            VoteCounts {
                votes_for: 4,
                votes_against: 0,
                abstain: 0
            }
        );
        assert!(out.metadata.round_history.iter().all(|r| r.silent == 1));
        assert_eq!(out.metadata.silent_agents, ["agent-5"]);
        assert!(out.metadata.malicious_agents.is_empty());
        assert_eq!(out.metadata.honest_participants, 4);
        assert_eq!(out.metadata.detection.faulty_agents, 1);
        assert!(
            out.metadata.detection.missed.is_empty(),
            "a silent agent is known, not missed"
        );
        assert_eq!(out.metadata.healthy_agents.len(), 5);
    }

    #[test]
    fn random_agents_slip_through_when_their_votes_happen_to_agree() {
        // With 3 rounds a random agent casts the same vote every round with
        // probability 2 * (1/2)^3 = 1/4; it is then undetected and tallied.
        let mut spec = vec![(Vote::For, Behavior::Honest); 4];
        spec.push((Vote::For, Behavior::Random));
        let (mut slipped, trials) = (0, 400);
        for seed in 0..trials {
            let out = run(&agents(&spec), &config(1, 3), &mut generator(seed));
            let m = &out.metadata;
            if m.detection.missed == ["agent-5"] {
                slipped += 1;
                assert!(m.malicious_agents.is_empty());
                assert_eq!(
                    out.counts.votes_for + out.counts.votes_against,
                    5,
                    "its vote was tallied"
                );
            } else {
                assert_eq!(m.vote_changers, ["agent-5"]);
                assert_eq!(m.detection.detected_correctly, 1);
            }
        }
        // Binomial(400, 1/4): mean 100, standard deviation about 8.7.
        assert!(
            (65..=135).contains(&slipped),
            "{slipped} of {trials} slipped"
        );
    }

    #[test]
    fn equivocators_are_caught_by_relays_and_reported_apart() {
        // Ten honest relayers: an equivocator escapes a round only if all ten
        // get the same vote (probability 2^-9), so it is caught in round 1.
        let mut spec = vec![(Vote::For, Behavior::Honest); 10];
        spec.push((Vote::For, Behavior::Equivocate));
        spec.push((Vote::Against, Behavior::Flip));
        for seed in 0..20 {
            let out = run(&agents(&spec), &config(3, 3), &mut generator(seed));
            let m = &out.metadata;
            assert_eq!(m.equivocators, ["agent-11"], "seed {seed}");
            assert_eq!(m.vote_changers, ["agent-12"]);
            assert_eq!(m.malicious_agents, ["agent-11", "agent-12"]);
            assert!(m.detection.missed.is_empty());
            assert!(m.detection.false_positives.is_empty());
            assert_eq!(m.detection.detected_correctly, 2);
        }
    }

    #[test]
    fn equivocation_cannot_be_shown_with_a_single_honest_relayer() {
        let spec = [
            (Vote::For, Behavior::Honest),
            (Vote::For, Behavior::Equivocate),
            (Vote::For, Behavior::Equivocate),
            (Vote::For, Behavior::Equivocate),
        ];
        for seed in 0..50 {
            let out = run(&agents(&spec), &config(1, 3), &mut generator(seed));
            assert!(out.metadata.equivocators.is_empty(), "seed {seed}");
            assert!(
                out.metadata
                    .round_history
                    .iter()
                    .all(|r| r.equivocations == 0)
            );
        }
    }

    #[test]
    fn faulty_agents_beyond_f_void_the_guarantee() {
        // f = 1 but three equivocators and one honest relayer: nobody can show
        // an equivocation, and an equivocator whose coin gives the same vote
        // in all three rounds (probability 1/4) is tallied and missed.
        let spec = [
            (Vote::Against, Behavior::Honest),
            (Vote::For, Behavior::Equivocate),
            (Vote::For, Behavior::Equivocate),
            (Vote::For, Behavior::Equivocate),
        ];
        let mut missed = 0;
        for seed in 0..200 {
            let out = run(&agents(&spec), &config(1, 3), &mut generator(seed));
            let d = &out.metadata.detection;
            assert_eq!(d.faulty_agents, 3);
            assert!(!d.safety_guaranteed);
            assert_eq!(d.detected_correctly as usize + d.missed.len(), 3);
            missed += d.missed.len();
        }
        // 600 equivocators, each missed with probability 1/4: mean 150, sd 10.6.
        assert!((110..=190).contains(&missed), "{missed}");
    }

    #[test]
    fn against_honest_majority_is_set_when_a_byzantine_quorum_wins() {
        // f = 1, threshold 3: three undetectable random agents out of four.
        let spec = [
            (Vote::Against, Behavior::Honest),
            (Vote::Against, Behavior::Random),
            (Vote::Against, Behavior::Random),
            (Vote::Against, Behavior::Random),
        ];
        let hits: Vec<u64> = (0..2000)
            .filter(|&seed| {
                run(&agents(&spec), &config(1, 3), &mut generator(seed))
                    .metadata
                    .against_honest_majority
            })
            .collect();
        assert!(!hits.is_empty());
        for seed in hits {
            let out = run(&agents(&spec), &config(1, 3), &mut generator(seed));
            assert_eq!(out.decision, Decision::Approved, "seed {seed}");
            assert_eq!(out.counts.votes_for, 3);
        }
    }

    #[test]
    fn sequences_carry_the_blacklist_forward_and_skip_when_too_few_remain() {
        // f = 1: five agents, two vote changers. The first proposal detects
        // both (unsafe: more than f); three healthy agents are fewer than
        // 3f+1 = 4, so the second proposal is skipped.
        let mut spec = vec![(Vote::For, Behavior::Honest); 3];
        spec.extend([(Vote::Against, Behavior::Flip); 2]);
        let (results, blacklist) =
            run_sequence(&agents(&spec), 2, &config(1, 3), &mut generator(5));
        assert_eq!(blacklist, ["agent-4", "agent-5"]);
        let ProposalResult::Decided(first) = &results[0] else {
            panic!("first must run")
        };
        assert_eq!(first.metadata.malicious_agents, ["agent-4", "agent-5"]);
        let ProposalResult::Skipped {
            reason,
            healthy_agents,
        } = &results[1]
        else {
            panic!("second must be skipped")
        };
        assert!(
            reason.contains("3 healthy agents left, fewer than 3f+1 = 4"),
            "{reason}"
        );
        assert_eq!(healthy_agents, &["agent-1", "agent-2", "agent-3"]);
    }

    #[test]
    fn later_proposals_run_only_with_healthy_agents() {
        let mut spec = vec![(Vote::For, Behavior::Honest); 7];
        spec.extend([(Vote::Against, Behavior::Flip); 3]);
        let (results, _) = run_sequence(&agents(&spec), 3, &config(2, 3), &mut generator(5));
        let ProposalResult::Decided(second) = &results[1] else {
            panic!()
        };
        assert_eq!(second.metadata.total_participants, 7);
        assert!(second.metadata.malicious_agents.is_empty());
        assert!(second.metadata.byzantine_safe);
        assert!(matches!(results[2], ProposalResult::Decided(_)));
    }

    #[test]
    fn same_seed_same_history() {
        let a = run(&example_one(), &config(3, 5), &mut generator(9));
        let b = run(&example_one(), &config(3, 5), &mut generator(9));
        assert_eq!(a, b);
    }

    #[test]
    fn listing_makes_the_first_ids_of_each_list_and_counts_the_rest() {
        let swarm = Swarm::generated(40, 25, 12, Behavior::Random);
        let full = run(&swarm, &config(12, 5), &mut generator(3));
        assert!(full.metadata.malicious_agents.len() > 2);
        for limit in [0, 1, 2, 1000] {
            let listed = run_listing(&swarm, &config(12, 5), &mut generator(3), limit);
            let (f, l) = (&full.metadata, &listed.metadata);
            let cut = |list: &[String]| list[..list.len().min(limit)].to_vec();
            let left = |list: &[String]| list.len().saturating_sub(limit) as u64;
            assert_eq!(l.healthy_agents, cut(&f.healthy_agents));
            assert_eq!(l.unlisted.healthy_agents, left(&f.healthy_agents));
            assert_eq!(l.malicious_agents, cut(&f.malicious_agents));
            assert_eq!(l.blacklist, cut(&f.blacklist));
            assert_eq!(l.unlisted.malicious_agents, left(&f.malicious_agents));
            assert_eq!(l.vote_changers, cut(&f.vote_changers));
            assert_eq!(l.unlisted.vote_changers, left(&f.vote_changers));
            assert_eq!(l.detection.missed, cut(&f.detection.missed));
            assert_eq!(l.unlisted.missed, left(&f.detection.missed));
            assert_eq!(l.malicious_detected, f.malicious_detected);
            assert_eq!(
                (
                    listed.decision,
                    listed.counts,
                    l.byzantine_safe,
                    &l.round_history
                ),
                (
                    full.decision,
                    full.counts,
                    f.byzantine_safe,
                    &f.round_history
                )
            );
        }
    }
}

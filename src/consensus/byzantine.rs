//! Byzantine fault-tolerant voting with detection of vote-changing agents.
//!
//! With at most `f` faulty agents among `n >= 3f+1`, a decision backed by
//! `2f+1` honest votes is safe. Agents vote over several rounds; an agent whose
//! vote differs between rounds is detected as malicious, blacklisted and left
//! out of the tally, which counts the remaining agents' final-round votes.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{Decision, VoteCounts, require_agents};
use crate::error::InvalidSetting;
use crate::rng::SimRng;
use crate::scenario::{Agent, Behavior, Vote};

/// Fewest voting rounds: one to vote, one to change, one to confirm.
pub const MIN_ROUNDS: u32 = 3;
/// Most voting rounds a run may ask for.
pub const MAX_ROUNDS: u32 = 100_000;

/// `[byzantine]` settings.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ByzantineConfig {
    /// `f`: how many faulty agents the vote must tolerate.
    pub fault_tolerance: u32,
    /// How many voting rounds to run (at least 3).
    pub num_rounds: u32,
    /// When true the vote timed out: the decision is `timeout`.
    pub timeout_reached: bool,
}

impl Default for ByzantineConfig {
    fn default() -> Self {
        ByzantineConfig {
            fault_tolerance: 1,
            num_rounds: 3,
            timeout_reached: false,
        }
    }
}

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
    pub fn validate(&self, agents: &[Agent]) -> Result<(), InvalidSetting> {
        require_agents(agents)?;
        let invalid = |key: &str, flag, message: String| InvalidSetting {
            key: key.to_string(),
            flag: Some(flag),
            message,
        };
        if !(MIN_ROUNDS..=MAX_ROUNDS).contains(&self.num_rounds) {
            return Err(invalid(
                "byzantine.num_rounds",
                "--rounds",
                format!(
                    "num_rounds must be between {MIN_ROUNDS} and {MAX_ROUNDS}, got {}",
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

/// Votes cast in one round by all participants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ByzantineRound {
    /// Round number, from 1.
    pub round: u32,
    /// What was cast this round.
    #[serde(flatten)]
    pub counts: VoteCounts,
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
    /// Participants not detected as malicious.
    pub honest_participants: u64,
    /// How many agents were detected.
    pub malicious_detected: u64,
    /// The detected agents, in scenario order.
    pub malicious_agents: Vec<String>,
    /// Voting rounds run.
    pub num_rounds: u32,
    /// Whether the vote timed out.
    pub timeout_reached: bool,
    /// Whether the decision is backed by `2f+1` honest votes with at most `f`
    /// agents detected as malicious.
    pub byzantine_safe: bool,
    /// Why the run is not safe, when it is not.
    pub reason: Option<String>,
    /// Agents to exclude from future proposals.
    pub blacklist: Vec<String>,
    /// Agents that may take part in the next proposal, in scenario order.
    pub healthy_agents: Vec<String>,
    /// What every round's votes were.
    pub round_history: Vec<ByzantineRound>,
}

/// The result of a Byzantine vote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ByzantineOutcome {
    /// The decision.
    pub decision: Decision,
    /// The tally: final-round votes of agents not detected as malicious.
    #[serde(flatten)]
    pub counts: VoteCounts,
    /// Everyone who took part, in scenario order.
    pub participants: Vec<String>,
    /// Detection, thresholds and history.
    pub metadata: ByzantineMetadata,
}

/// Runs a Byzantine vote. `config` must have passed [`ByzantineConfig::validate`].
pub fn run(agents: &[Agent], config: &ByzantineConfig, rng: &mut SimRng) -> ByzantineOutcome {
    let rounds = config.num_rounds;
    // Each vote changer is planned first, in scenario order: the earlier round
    // in which it is sure to cast a different vote.
    let forced_change: Vec<Option<u32>> = agents
        .iter()
        .map(|agent| match agent.behavior {
            Behavior::Flip => Some(rng.random_range(1..rounds)),
            _ => None,
        })
        .collect();

    let mut first_vote: Vec<Option<Vote>> = vec![None; agents.len()];
    let mut final_vote: Vec<Vote> = agents.iter().map(|a| a.vote).collect();
    let mut changed = vec![false; agents.len()];
    let mut round_history = Vec::with_capacity(rounds as usize);
    for round in 1..=rounds {
        let mut counts = VoteCounts::default();
        for (i, agent) in agents.iter().enumerate() {
            let vote = cast(agent, round, rounds, forced_change[i], rng);
            counts.add(vote);
            match first_vote[i] {
                None => first_vote[i] = Some(vote),
                Some(first) => changed[i] |= first != vote,
            }
            final_vote[i] = vote;
        }
        round_history.push(ByzantineRound { round, counts });
    }

    let malicious_agents: Vec<String> = agents
        .iter()
        .zip(&changed)
        .filter(|(_, changed)| **changed)
        .map(|(agent, _)| agent.id.clone())
        .collect();
    let healthy_agents: Vec<String> = agents
        .iter()
        .zip(&changed)
        .filter(|(_, changed)| !**changed)
        .map(|(agent, _)| agent.id.clone())
        .collect();
    let counts = VoteCounts::of(
        final_vote
            .iter()
            .zip(&changed)
            .filter(|(_, changed)| !**changed)
            .map(|(vote, _)| *vote),
    );
    let (decision, byzantine_safe, reason) = decide(config, &counts, malicious_agents.len() as u64);

    ByzantineOutcome {
        decision,
        counts,
        participants: agents.iter().map(|a| a.id.clone()).collect(),
        metadata: ByzantineMetadata {
            fault_tolerance: config.fault_tolerance,
            min_participants: config.min_participants(),
            agreement_threshold: config.agreement_threshold(),
            total_participants: agents.len() as u64,
            honest_participants: healthy_agents.len() as u64,
            malicious_detected: malicious_agents.len() as u64,
            blacklist: malicious_agents.clone(),
            malicious_agents,
            num_rounds: rounds,
            timeout_reached: config.timeout_reached,
            byzantine_safe,
            reason,
            healthy_agents,
            round_history,
        },
    }
}

/// The vote `agent` casts in `round` of `rounds`.
fn cast(
    agent: &Agent,
    round: u32,
    rounds: u32,
    forced_change: Option<u32>,
    rng: &mut SimRng,
) -> Vote {
    match agent.behavior {
        Behavior::Honest
        | Behavior::Stubborn
        | Behavior::Silent
        | Behavior::Random
        | Behavior::Equivocate => agent.vote,
        Behavior::Flip if round == rounds => agent.vote,
        Behavior::Flip if forced_change == Some(round) => other_vote(agent.vote, rng),
        Behavior::Flip => {
            if rng.random_range(0..2u32) == 0 {
                agent.vote
            } else {
                other_vote(agent.vote, rng)
            }
        }
    }
}

/// The opposite vote; an abstainer picks a side at random.
fn other_vote(vote: Vote, rng: &mut SimRng) -> Vote {
    match vote {
        Vote::For => Vote::Against,
        Vote::Against => Vote::For,
        Vote::Abstain if rng.random_range(0..2u32) == 0 => Vote::For,
        Vote::Abstain => Vote::Against,
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
    use crate::scenario::AgentOrigin;

    fn agents(spec: &[(Vote, Behavior)]) -> Vec<Agent> {
        spec.iter()
            .enumerate()
            .map(|(i, (vote, behavior))| Agent {
                id: format!("agent-{}", i + 1),
                vote: *vote,
                behavior: *behavior,
                weight: 1.0,
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

    fn example_one() -> Vec<Agent> {
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
        let nine = &example_one()[..9];
        let err = config(3, 5).validate(nine).unwrap_err();
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
        assert_eq!(config(0, 3).validate(&[]).unwrap_err().key, "agents");
    }

    #[test]
    fn same_seed_same_history() {
        let a = run(&example_one(), &config(3, 5), &mut generator(9));
        let b = run(&example_one(), &config(3, 5), &mut generator(9));
        assert_eq!(a, b);
    }
}

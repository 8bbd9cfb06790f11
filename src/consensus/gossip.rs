//! Gossip (epidemic) majority consensus.
//!
//! Every round each agent asks `fanout` distinct random peers for their votes
//! and adopts the strict majority of its own vote and theirs (abstentions not
//! counted; with no strict majority it keeps its vote). Rounds are
//! synchronous: round `r` reads only the votes after round `r-1`. The run
//! stops when the agreement ratio reaches the convergence threshold, or after
//! `max_rounds`.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{Decision, VoteCounts, require_agents};
use crate::error::InvalidSetting;
use crate::rng::SimRng;
use crate::scenario::{Agent, Behavior, Vote};

/// Most gossip rounds a run may ask for.
pub const MAX_ROUNDS: u32 = 100_000;

/// `[gossip]` settings.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GossipConfig {
    /// Peers each agent contacts per round.
    pub fanout: u32,
    /// Rounds to run at most.
    pub max_rounds: u32,
    /// Agreement ratio at which the swarm has converged, in (0.5, 1].
    pub convergence_threshold: f64,
    /// Share of approvals (among approvals and rejections) needed to approve, in (0, 1].
    pub threshold: f64,
}

impl Default for GossipConfig {
    fn default() -> Self {
        GossipConfig {
            fanout: 3,
            max_rounds: 5,
            convergence_threshold: 0.95,
            threshold: 0.66,
        }
    }
}

impl GossipConfig {
    /// Checks these settings against the participants.
    pub fn validate(&self, agents: &[Agent]) -> Result<(), InvalidSetting> {
        require_agents(agents)?;
        let invalid = |key: &str, flag, message: String| InvalidSetting {
            key: key.to_string(),
            flag,
            message,
        };
        if self.fanout == 0 {
            return Err(invalid(
                "gossip.fanout",
                Some("--fanout"),
                "fanout must be at least 1".into(),
            ));
        }
        if !(1..=MAX_ROUNDS).contains(&self.max_rounds) {
            return Err(invalid(
                "gossip.max_rounds",
                Some("--rounds"),
                format!(
                    "max_rounds must be between 1 and {MAX_ROUNDS}, got {}",
                    self.max_rounds
                ),
            ));
        }
        let c = self.convergence_threshold;
        if !(c > 0.5 && c <= 1.0) {
            return Err(invalid(
                "gossip.convergence_threshold",
                Some("--convergence-threshold"),
                format!("convergence_threshold must be in (0.5, 1], got {c}"),
            ));
        }
        let t = self.threshold;
        if !(t > 0.0 && t <= 1.0) {
            return Err(invalid(
                "gossip.threshold",
                Some("--threshold"),
                format!("threshold must be in (0, 1], got {t}"),
            ));
        }
        if let Some(agent) = agents.iter().find(|a| a.behavior != Behavior::Honest) {
            return Err(invalid(
                &agent.origin.key("behavior"),
                None,
                format!(
                    "agent '{}': behavior '{}' has no meaning in gossip, which supports: honest",
                    agent.id,
                    agent.behavior.name()
                ),
            ));
        }
        Ok(())
    }
}

/// The state of the swarm after one round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GossipRound {
    /// Round number, from 1.
    pub round: u32,
    /// Share of the most common non-abstaining vote.
    pub agreement_ratio: f64,
    /// Whether the ratio reached the convergence threshold.
    pub converged: bool,
    /// Votes held after the round.
    #[serde(flatten)]
    pub counts: VoteCounts,
}

/// Settings and convergence of a gossip run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GossipMetadata {
    /// Peers contacted per agent per round.
    pub fanout: u32,
    /// Round limit.
    pub max_rounds: u32,
    /// Agreement needed to stop.
    pub convergence_threshold: f64,
    /// Approval share needed to approve.
    pub threshold: f64,
    /// Rounds run.
    pub rounds_completed: u32,
    /// Whether the swarm converged.
    pub converged: bool,
    /// Agreement after the last round.
    pub agreement_ratio: f64,
    /// Votes before the first round.
    pub initial_distribution: VoteCounts,
    /// One entry per round run.
    pub round_history: Vec<GossipRound>,
}

/// The result of a gossip run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GossipOutcome {
    /// The decision on the final votes.
    pub decision: Decision,
    /// Final votes.
    #[serde(flatten)]
    pub counts: VoteCounts,
    /// Everyone who took part, in scenario order.
    pub participants: Vec<String>,
    /// Settings, convergence and history.
    pub metadata: GossipMetadata,
}

/// Runs gossip consensus. `config` must have passed [`GossipConfig::validate`].
pub fn run(agents: &[Agent], config: &GossipConfig, rng: &mut SimRng) -> GossipOutcome {
    let n = agents.len() as u32;
    let mut current: Vec<Vote> = agents.iter().map(|a| a.vote).collect();
    let mut next = current.clone();
    let initial_distribution = VoteCounts::of(current.iter().copied());
    let mut sampler = PeerSampler::new(n, config.fanout);
    let mut round_history = Vec::new();

    for round in 1..=config.max_rounds {
        for me in 0..n {
            let mut counts = VoteCounts::default();
            counts.add(current[me as usize]);
            for &peer in sampler.sample(me, rng) {
                counts.add(current[peer as usize]);
            }
            next[me as usize] = majority(&counts).unwrap_or(current[me as usize]);
        }
        std::mem::swap(&mut current, &mut next);
        let counts = VoteCounts::of(current.iter().copied());
        let agreement_ratio = counts.agreement_ratio();
        let converged = agreement_ratio >= config.convergence_threshold;
        round_history.push(GossipRound {
            round,
            agreement_ratio,
            converged,
            counts,
        });
        if converged {
            break;
        }
    }

    let last = round_history.last().expect("max_rounds is at least 1");
    let counts = last.counts;
    GossipOutcome {
        decision: decide(&counts, config.threshold),
        counts,
        participants: agents.iter().map(|a| a.id.clone()).collect(),
        metadata: GossipMetadata {
            fanout: config.fanout,
            max_rounds: config.max_rounds,
            convergence_threshold: config.convergence_threshold,
            threshold: config.threshold,
            rounds_completed: last.round,
            converged: last.converged,
            agreement_ratio: last.agreement_ratio,
            initial_distribution,
            round_history,
        },
    }
}

/// The strict majority of the non-abstaining votes, if there is one.
fn majority(counts: &VoteCounts) -> Option<Vote> {
    use std::cmp::Ordering::*;
    match counts.votes_for.cmp(&counts.votes_against) {
        Greater => Some(Vote::For),
        Less => Some(Vote::Against),
        Equal => None,
    }
}

/// `approved` when approvals reach `threshold` of the decided votes and
/// outnumber rejections.
fn decide(counts: &VoteCounts, threshold: f64) -> Decision {
    let decided = counts.votes_for + counts.votes_against;
    if decided > 0
        && counts.votes_for > counts.votes_against
        && counts.votes_for as f64 / decided as f64 >= threshold
    {
        Decision::Approved
    } else {
        Decision::Rejected
    }
}

/// Draws `k = min(fanout, n-1)` distinct peers other than the asking agent,
/// uniformly, with Floyd's algorithm: exactly `k` bounded draws, no retries.
/// When `k = n-1` every other agent is a peer and nothing is drawn.
struct PeerSampler {
    n: u32,
    k: u32,
    /// `marks[c] == stamp` when candidate `c` is already chosen this draw.
    marks: Vec<u32>,
    stamp: u32,
    peers: Vec<u32>,
}

impl PeerSampler {
    fn new(n: u32, fanout: u32) -> Self {
        let k = fanout.min(n.saturating_sub(1));
        let sampling = k < n.saturating_sub(1);
        PeerSampler {
            n,
            k,
            marks: if sampling {
                vec![0; n as usize]
            } else {
                Vec::new()
            },
            stamp: 0,
            peers: Vec::with_capacity(k as usize),
        }
    }

    /// The peers of agent `me` for one round.
    fn sample(&mut self, me: u32, rng: &mut SimRng) -> &[u32] {
        self.peers.clear();
        let candidates = self.n - 1;
        // Candidate c stands for agent c, or c+1 at and after `me`.
        let agent = |c: u32| if c < me { c } else { c + 1 };
        if self.k == candidates {
            self.peers.extend((0..candidates).map(agent));
            return &self.peers;
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.marks.fill(0);
            self.stamp = 1;
        }
        for j in (candidates - self.k)..candidates {
            let t = rng.random_range(0..=j);
            let chosen = if self.marks[t as usize] == self.stamp {
                j
            } else {
                t
            };
            self.marks[chosen as usize] = self.stamp;
            self.peers.push(agent(chosen));
        }
        &self.peers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::generator;
    use crate::scenario::AgentOrigin;

    fn swarm(votes: &[(Vote, usize)]) -> Vec<Agent> {
        votes
            .iter()
            .flat_map(|(vote, count)| std::iter::repeat_n(*vote, *count))
            .enumerate()
            .map(|(i, vote)| Agent {
                id: format!("agent-{}", i + 1),
                vote,
                behavior: Behavior::Honest,
                weight: 1.0,
                origin: AgentOrigin::Flags,
            })
            .collect()
    }

    fn config(fanout: u32, max_rounds: u32) -> GossipConfig {
        GossipConfig {
            fanout,
            max_rounds,
            ..GossipConfig::default()
        }
    }

    #[test]
    fn majority_is_strict_and_ignores_abstentions() {
        let c = |f, a, ab| VoteCounts {
            votes_for: f,
            votes_against: a,
            abstain: ab,
        };
        assert_eq!(majority(&c(2, 1, 5)), Some(Vote::For));
        assert_eq!(majority(&c(1, 2, 0)), Some(Vote::Against));
        assert_eq!(majority(&c(2, 2, 1)), None);
        assert_eq!(majority(&c(0, 0, 3)), None);
    }

    #[test]
    fn peers_are_distinct_and_never_the_agent_itself() {
        let mut rng = generator(5);
        for (n, fanout) in [(20, 5), (6, 5), (6, 9), (2, 1), (1000, 40)] {
            let mut sampler = PeerSampler::new(n, fanout);
            for me in 0..n {
                let mut peers = sampler.sample(me, &mut rng).to_vec();
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
        let mut rng = generator(11);
        let mut sampler = PeerSampler::new(10, 3);
        let mut hits = [0u32; 10];
        for _ in 0..30_000 {
            for &p in sampler.sample(0, &mut rng) {
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
    fn unanimous_start_converges_in_round_one() {
        let out = run(&swarm(&[(Vote::For, 8)]), &config(3, 5), &mut generator(1));
        assert_eq!(out.metadata.rounds_completed, 1);
        assert!(out.metadata.converged);
        assert_eq!(out.metadata.agreement_ratio, 1.0);
        assert_eq!(out.decision, Decision::Approved);
    }

    #[test]
    fn full_fanout_reaches_the_global_majority_in_one_round() {
        // Everyone hears everyone: 15 FOR vs 5 AGAINST wins everywhere at once.
        let agents = swarm(&[(Vote::For, 15), (Vote::Against, 5)]);
        let out = run(&agents, &config(19, 7), &mut generator(3));
        assert_eq!(out.metadata.rounds_completed, 1);
        assert_eq!(
            out.counts,
            VoteCounts {
                votes_for: 20,
                votes_against: 0,
                abstain: 0
            }
        );
    }

    #[test]
    fn a_tie_everywhere_never_moves() {
        // Two agents, one each way: each sees a 1-1 tie and keeps its vote.
        let agents = swarm(&[(Vote::For, 1), (Vote::Against, 1)]);
        let out = run(&agents, &config(1, 4), &mut generator(3));
        assert_eq!(out.metadata.rounds_completed, 4);
        assert!(!out.metadata.converged);
        assert!(
            out.metadata
                .round_history
                .iter()
                .all(|r| r.agreement_ratio == 0.5)
        );
        assert_eq!(out.decision, Decision::Rejected);
    }

    #[test]
    fn abstainers_adopt_the_majority_they_hear() {
        let agents = swarm(&[(Vote::For, 10), (Vote::Abstain, 2)]);
        let out = run(&agents, &config(11, 3), &mut generator(3));
        assert_eq!(
            out.counts,
            VoteCounts {
                votes_for: 12,
                votes_against: 0,
                abstain: 0
            }
        );
    }

    #[test]
    fn stops_at_convergence_and_records_every_round() {
        let agents = swarm(&[(Vote::For, 15), (Vote::Against, 5)]);
        let out = run(&agents, &config(5, 7), &mut generator(42));
        let history = &out.metadata.round_history;
        assert_eq!(history.len() as u32, out.metadata.rounds_completed);
        let last = history.last().unwrap();
        assert!(last.converged && out.metadata.converged);
        assert!(history[..history.len() - 1].iter().all(|r| !r.converged));
        for r in history {
            assert_eq!(
                r.counts.votes_for + r.counts.votes_against + r.counts.abstain,
                20
            );
        }
        assert_eq!(out.decision, Decision::Approved);
    }

    #[test]
    fn decision_needs_threshold_and_a_lead() {
        let c = |f, a| VoteCounts {
            votes_for: f,
            votes_against: a,
            abstain: 0,
        };
        assert_eq!(decide(&c(66, 34), 0.66), Decision::Approved);
        assert_eq!(decide(&c(65, 35), 0.66), Decision::Rejected);
        assert_eq!(decide(&c(5, 5), 0.5), Decision::Rejected);
        assert_eq!(decide(&c(0, 0), 0.5), Decision::Rejected);
    }

    #[test]
    fn same_seed_same_run_different_seed_different_history() {
        let agents = swarm(&[(Vote::For, 60), (Vote::Against, 40)]);
        let a = run(&agents, &config(2, 10), &mut generator(8));
        let b = run(&agents, &config(2, 10), &mut generator(8));
        assert_eq!(a, b);
        let differs = (0..20).any(|s| run(&agents, &config(2, 10), &mut generator(s)) != a);
        assert!(differs);
    }

    #[test]
    fn validation_names_keys_and_flags() {
        let agents = swarm(&[(Vote::For, 3)]);
        let bad = |c: GossipConfig| c.validate(&agents).unwrap_err();
        assert_eq!(bad(config(0, 5)).flag, Some("--fanout"));
        assert_eq!(bad(config(3, 0)).key, "gossip.max_rounds");
        let c = GossipConfig {
            convergence_threshold: 0.5,
            ..config(3, 5)
        };
        assert_eq!(bad(c).key, "gossip.convergence_threshold");
        let c = GossipConfig {
            threshold: 1.5,
            ..config(3, 5)
        };
        assert_eq!(bad(c).key, "gossip.threshold");
        let mut flipper = agents.clone();
        flipper[1].behavior = Behavior::Flip;
        flipper[1].origin = AgentOrigin::Listed(1);
        let err = config(3, 5).validate(&flipper).unwrap_err();
        assert_eq!(err.key, "agents[1].behavior");
        assert_eq!(err.flag, None);
    }
}

//! The exact law of a gossip run on the complete network.

use serde::Serialize;

use super::DecisionProbabilities;
use crate::scenario::{GossipConfig, Swarm};

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

/// The exact law of a gossip run of `agents` under `config` (which must be
/// valid), or why it is refused: a topology other than complete, a
/// partition, or a state space beyond the documented limit (the message
/// names `--trials`).
pub fn law(agents: &Swarm, config: &GossipConfig) -> Result<GossipExactSummary, String> {
    let _ = (agents, config);
    todo!("exact gossip law")
}

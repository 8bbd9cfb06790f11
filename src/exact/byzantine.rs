//! The exact law of a Byzantine vote.

use serde::Serialize;

use super::DecisionProbabilities;
use crate::scenario::{ByzantineConfig, Swarm};

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

/// The exact law of a vote of `agents` under `config` (which must be
/// valid), or why it is refused (too large: the message names `--trials`).
pub fn law(agents: &Swarm, config: &ByzantineConfig) -> Result<ByzantineExactSummary, String> {
    let _ = (agents, config);
    todo!("exact Byzantine law")
}

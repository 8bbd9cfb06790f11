//! The parsed `[expect]` table: what a scenario says its outcome must be.
//! Plain data; `crate::expect` compares reports against it.

use indexmap::IndexMap;
use serde::Deserialize;

use super::Decision;

/// A list of agent ids, or just how many there must be.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum AgentsExpectation {
    /// Exactly this many agents.
    Count(u64),
    /// Exactly these agents, in scenario order.
    Ids(Vec<String>),
}

/// The `[expect]` table: what `moai check` requires of the outcome.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// Consensus: the decision.
    pub decision: Option<Decision>,
    /// Gossip: whether the swarm converged.
    pub converged: Option<bool>,
    /// Gossip: the most rounds the run may take.
    pub max_rounds_completed: Option<u32>,
    /// Byzantine: the agents detected as malicious.
    pub malicious_agents: Option<AgentsExpectation>,
    /// Byzantine: whether the decision is Byzantine safe.
    pub byzantine_safe: Option<bool>,
    /// Byzantine: the agents left healthy.
    pub healthy_agents: Option<AgentsExpectation>,
    /// Resolve: key -> expected resolved value (arrays compared as sets).
    #[schemars(with = "Option<crate::scenario::SchemaTable>")]
    pub values: Option<super::JsonTable>,
    /// Resolve: key -> expected `resolution_strategy`.
    pub strategies: Option<IndexMap<String, String>>,
    /// Resolve: strategy (`lww`, `vector`, `crdt`, `hybrid`) -> the most
    /// writes it may lose over every key (`moai resolve --compare`).
    pub lost_writes: Option<IndexMap<String, u64>>,
    /// Trials: how many trials the statistics below are checked over.
    #[schemars(range(min = 1, max = super::MAX_TRIALS))]
    pub trials: Option<u64>,
    /// Consensus: also compute the exact law (`--exact`) and check the
    /// statistics below against it.
    pub exact: Option<bool>,
    /// Gossip trials or exact law: the lowest acceptable convergence rate.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub min_convergence_rate: Option<f64>,
    /// Gossip trials or exact law: the most rounds the 99th percentile may take.
    pub max_rounds_p99: Option<u32>,
    /// Trials: decision -> exact count.
    pub decision_counts: Option<IndexMap<String, u64>>,
    /// Exact law: the highest acceptable `wrong_decision_probability`.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub max_wrong_decision_probability: Option<f64>,
}

impl Expectations {
    /// Whether any expectation is about statistics (of trials or of the
    /// exact law).
    pub fn wants_trials(&self) -> bool {
        self.min_convergence_rate.is_some()
            || self.max_rounds_p99.is_some()
            || self.decision_counts.is_some()
            || self.max_wrong_decision_probability.is_some()
    }

    /// Whether the exact law is asked for (`exact = true`).
    pub fn wants_exact(&self) -> bool {
        self.exact == Some(true)
    }

    /// Whether any expectation is about a single run.
    pub fn wants_single_run(&self) -> bool {
        self.decision.is_some()
            || self.converged.is_some()
            || self.max_rounds_completed.is_some()
            || self.malicious_agents.is_some()
            || self.byzantine_safe.is_some()
            || self.healthy_agents.is_some()
            || self.values.is_some()
            || self.strategies.is_some()
    }
}

//! The algorithms' settings, as the `[byzantine]` and `[gossip]` tables of a
//! scenario and the command line's flags give them: plain data that the
//! algorithms validate and read (`consensus::byzantine`, `consensus::gossip`)
//! and that reports echo. Nothing here runs anything.

use serde::{Deserialize, Serialize};

/// Fewest Byzantine voting rounds: one to vote, one to change, one to confirm.
pub const MIN_BYZANTINE_ROUNDS: u32 = 3;
/// Most rounds a Byzantine vote or a gossip run may ask for.
pub const MAX_ROUNDS: u32 = 100_000;

/// `[byzantine]` settings.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ByzantineConfig {
    /// `f`: how many faulty agents the vote must tolerate (needs at least 3f+1 agents).
    pub fault_tolerance: u32,
    /// How many voting rounds to run (at least 3).
    #[schemars(range(min = MIN_BYZANTINE_ROUNDS, max = MAX_ROUNDS))]
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

/// `[gossip]` settings.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct GossipConfig {
    /// Peers each agent contacts per round.
    #[schemars(range(min = 1))]
    pub fanout: u32,
    /// Rounds to run at most.
    #[schemars(range(min = 1, max = MAX_ROUNDS))]
    pub max_rounds: u32,
    /// Agreement ratio at which the swarm has converged, in (0.5, 1].
    #[schemars(range(max = 1.0), extend("exclusiveMinimum" = 0.5))]
    pub convergence_threshold: f64,
    /// Share of the counted (non-silent) agents that must hold a
    /// non-abstaining vote for a round to count as converged, in [0, 1].
    #[schemars(range(min = 0.0, max = 1.0))]
    pub min_participation: f64,
    /// Share of approvals (among approvals and rejections) needed to approve, in (0, 1].
    #[schemars(range(max = 1.0), extend("exclusiveMinimum" = 0.0))]
    pub threshold: f64,
    /// Probability that one exchange with a peer is lost, in [0, 1].
    #[schemars(range(min = 0.0, max = 1.0))]
    pub loss: f64,
    /// How agents are connected.
    pub topology: Topology,
    /// Neighbours per agent for `ring` (even), `random-regular` and `small-world` (even); fewer than the agents.
    pub degree: u32,
    /// Probability that a `small-world` ring edge is rewired, in [0, 1].
    #[schemars(range(min = 0.0, max = 1.0))]
    pub rewire: f64,
    /// Network partitions, each in force during a range of rounds.
    pub partitions: Vec<PartitionConfig>,
    /// Stop at the first round that reaches the convergence threshold
    /// (default); false runs all `max_rounds`, for fixed-work benchmarks and
    /// for studying stability after convergence.
    pub early_stop: bool,
}

impl Default for GossipConfig {
    fn default() -> Self {
        GossipConfig {
            fanout: 3,
            max_rounds: 5,
            convergence_threshold: 0.95,
            min_participation: 0.5,
            threshold: 0.66,
            loss: 0.0,
            topology: Topology::Complete,
            degree: 4,
            rewire: 0.1,
            partitions: Vec::new(),
            early_stop: true,
        }
    }
}

/// One `[[gossip.partitions]]` entry: agents split into groups that cannot
/// reach each other during rounds `from..=until`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartitionConfig {
    /// Agent ids per group; agents in no group form one more group.
    pub groups: Vec<Vec<String>>,
    /// First round of the partition, from 1.
    #[schemars(range(min = 1))]
    pub from: u32,
    /// Last round of the partition, inclusive (at least `from`).
    #[schemars(range(min = 1))]
    pub until: u32,
}

/// How the agents of a gossip run are connected.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Deserialize,
    Serialize,
    clap::ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Topology {
    /// Everyone can reach everyone.
    #[default]
    Complete,
    /// Each agent is linked to its `degree` nearest agents on a circle.
    Ring,
    /// Every agent has exactly `degree` neighbours, chosen at random.
    RandomRegular,
    /// Watts–Strogatz: a ring whose edges are rewired at random.
    SmallWorld,
}

impl Topology {
    /// The name used in scenario files and output.
    pub fn name(self) -> &'static str {
        match self {
            Topology::Complete => "complete",
            Topology::Ring => "ring",
            Topology::RandomRegular => "random-regular",
            Topology::SmallWorld => "small-world",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topology_names_match_the_scenario_spelling() {
        for topology in [
            Topology::Complete,
            Topology::Ring,
            Topology::RandomRegular,
            Topology::SmallWorld,
        ] {
            let json = serde_json::to_value(topology).unwrap();
            assert_eq!(json, topology.name());
        }
        assert_eq!(Topology::default(), Topology::Complete);
    }
}

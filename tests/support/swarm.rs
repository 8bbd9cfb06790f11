//! Swarms built in code for the tests that run the library directly.

use moai::scenario::{Agent, AgentOrigin, Behavior, Swarm, Vote};

/// A swarm of `count` agents per (count, vote, behaviour), in that order,
/// with ids `agent-1`, `agent-2`, ...
pub fn swarm(spec: &[(u64, Vote, Behavior)]) -> Swarm {
    spec.iter()
        .flat_map(|&(count, vote, behavior)| (0..count).map(move |_| (vote, behavior)))
        .enumerate()
        .map(|(i, (vote, behavior))| Agent {
            id: format!("agent-{}", i + 1),
            vote,
            behavior,
            origin: AgentOrigin::Flags,
        })
        .collect()
}

//! Last-write-wins: the greatest version by (timestamp, version, agent) wins.

use std::sync::Arc;

use super::{Resolution, ResolutionMetadata, Role, pick};
use crate::scenario::{State, Strategy, Version};

/// The index of the last write among `versions` (which must not be empty).
pub fn winner(versions: &[Arc<Version>]) -> usize {
    (0..versions.len())
        .max_by(|&a, &b| versions[a].lww_key().cmp(&versions[b].lww_key()))
        .expect("a state has at least one version")
}

/// Resolves `state` by last write wins.
pub fn resolve(state: &State) -> Resolution {
    let metadata = ResolutionMetadata {
        resolution_strategy: "lww",
        discarded_versions: Some(state.versions.len() as u64 - 1),
        ..ResolutionMetadata::default()
    };
    pick(
        state,
        winner(&state.versions),
        Strategy::Lww,
        metadata,
        |_| Role::Discarded,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::testing::*;
    use serde_json::json;

    #[test]
    fn newest_timestamp_wins_over_higher_version() {
        let s = state(
            "max_workers",
            None,
            vec![
                version("agent-1", json!(10), 5, Some(0)),
                version("agent-2", json!(15), 2, Some(1)),
            ],
        );
        let r = resolve(&s);
        assert_eq!(r.value, json!(15));
        assert_eq!(r.agent, "agent-2");
        assert_eq!(r.version, 2);
        assert_eq!(r.metadata.resolution_strategy, "lww");
        assert_eq!(r.metadata.discarded_versions, Some(1));
        assert_eq!(r.versions[0].role, Role::Discarded);
        assert_eq!(r.versions[1].role, Role::Winner);
    }

    #[test]
    fn without_timestamps_version_then_agent_decide() {
        let s = state(
            "k",
            None,
            vec![
                version("b", json!("b1"), 1, None),
                version("a", json!("a2"), 2, None),
                version("c", json!("c2"), 2, None),
            ],
        );
        assert_eq!(resolve(&s).value, json!("c2"));
    }

    #[test]
    fn result_does_not_depend_on_input_order() {
        let s = state(
            "k",
            None,
            vec![
                version("a", json!(1), 3, None),
                version("b", json!(2), 1, Some(4)),
                version("c", json!(3), 1, Some(4)),
                version("d", json!(4), 9, Some(2)),
            ],
        );
        for reordered in reorderings(&s) {
            assert_eq!(resolve(&reordered).value, json!(3));
        }
    }
}

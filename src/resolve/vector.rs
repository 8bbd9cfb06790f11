//! Vector-clock causality. A version whose clock dominates every other clock
//! wins (`vector_causal`). Otherwise some versions are concurrent: only the
//! maximal ones (dominated by no other) are kept as siblings, and the last
//! write among them wins (`vector_concurrent_lww`). A dominated version never
//! wins, whatever its timestamp.

use indexmap::IndexMap;

use super::{Resolution, ResolutionMetadata, Role, State, Strategy, pick};

/// Every version's clock as counters over one shared list of agents; a
/// version without a clock has `{agent: version}`.
fn dense_clocks(state: &State) -> Vec<Vec<u64>> {
    let mut agents: IndexMap<&str, usize> = IndexMap::new();
    let clocks: Vec<Vec<(usize, u64)>> = state
        .versions
        .iter()
        .map(|v| {
            let entries: Vec<(&str, u64)> = match &v.vector_clock {
                Some(clock) => clock.iter().map(|(a, c)| (a.as_str(), *c)).collect(),
                None => vec![(v.agent.as_str(), v.version)],
            };
            entries
                .into_iter()
                .map(|(agent, count)| {
                    let next = agents.len();
                    (*agents.entry(agent).or_insert(next), count)
                })
                .collect()
        })
        .collect();
    clocks
        .into_iter()
        .map(|entries| {
            let mut dense = vec![0; agents.len()];
            for (slot, count) in entries {
                dense[slot] = count;
            }
            dense
        })
        .collect()
}

/// Whether clock `a` dominates `b`: at least as large everywhere, larger somewhere.
pub fn dominates(a: &[u64], b: &[u64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x >= y) && a.iter().zip(b).any(|(x, y)| x > y)
}

/// Indices of the clocks no other clock dominates. A dominating clock has a
/// strictly larger sum, so visiting clocks by decreasing sum, each one is
/// maximal exactly when no maximal clock found before it dominates it.
pub fn maximal(clocks: &[Vec<u64>]) -> Vec<usize> {
    let sum = |i: usize| clocks[i].iter().map(|&c| u128::from(c)).sum::<u128>();
    let mut order: Vec<usize> = (0..clocks.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sum(i)));
    let mut maxima: Vec<usize> = Vec::new();
    for i in order {
        if !maxima.iter().any(|&m| dominates(&clocks[m], &clocks[i])) {
            maxima.push(i);
        }
    }
    maxima
}

/// Resolves `state` by vector-clock causality.
pub fn resolve(state: &State) -> Resolution {
    let clocks = dense_clocks(state);
    let mut maxima = maximal(&clocks);
    // Siblings are listed winner first, then by decreasing last-write order.
    maxima.sort_by(|&a, &b| {
        state.versions[b]
            .lww_key()
            .cmp(&state.versions[a].lww_key())
    });
    let winner = maxima[0];
    let metadata = ResolutionMetadata {
        resolution_strategy: if maxima.len() == 1 {
            "vector_causal"
        } else {
            "vector_concurrent_lww"
        },
        siblings: Some(
            maxima
                .iter()
                .map(|&i| state.versions[i].agent.clone())
                .collect(),
        ),
        ..ResolutionMetadata::default()
    };
    pick(state, winner, Strategy::Vector, metadata, |i| {
        if maxima.contains(&i) {
            Role::Sibling
        } else {
            Role::Dominated
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::testing::*;
    use crate::resolve::{State, Version};
    use serde_json::json;

    fn clocked(agent: &str, value: &str, second: Option<i64>, clock: &[(&str, u64)]) -> Version {
        let mut v = version(agent, json!(value), 0, second);
        v.vector_clock = Some(clock.iter().map(|(a, c)| (a.to_string(), *c)).collect());
        v
    }

    fn resolve_all_orders(s: &State) -> Resolution {
        let first = resolve(s);
        for reordered in reorderings(s) {
            let r = resolve(&reordered);
            assert_eq!(
                (&r.value, &r.metadata),
                (&first.value, &first.metadata),
                "order changed the result"
            );
        }
        first
    }

    #[test]
    fn dominance_needs_greater_or_equal_everywhere_and_greater_somewhere() {
        assert!(dominates(&[6, 4], &[5, 3]));
        assert!(dominates(&[5, 4], &[5, 3]));
        assert!(!dominates(&[5, 3], &[5, 3]));
        assert!(!dominates(&[5, 2], &[3, 6]));
    }

    #[test]
    fn causal_dominance_picks_the_later_version() {
        let s = state(
            "document",
            None,
            vec![
                clocked(
                    "agent-1",
                    "Version A",
                    None,
                    &[("agent-1", 5), ("agent-2", 3)],
                ),
                clocked(
                    "agent-2",
                    "Version B",
                    None,
                    &[("agent-1", 6), ("agent-2", 4)],
                ),
            ],
        );
        let r = resolve_all_orders(&s);
        assert_eq!(r.value, json!("Version B"));
        assert_eq!(r.metadata.resolution_strategy, "vector_causal");
        assert_eq!(r.metadata.siblings, Some(vec!["agent-2".to_string()]));
    }

    #[test]
    fn concurrent_updates_fall_back_to_last_write() {
        let s = state(
            "state",
            None,
            vec![
                clocked(
                    "agent-1",
                    "Update from Agent-1",
                    Some(1),
                    &[("agent-1", 5), ("agent-2", 2)],
                ),
                clocked(
                    "agent-2",
                    "Update from Agent-2",
                    Some(0),
                    &[("agent-1", 3), ("agent-2", 6)],
                ),
            ],
        );
        let r = resolve_all_orders(&s);
        assert_eq!(r.value, json!("Update from Agent-1"));
        assert_eq!(r.metadata.resolution_strategy, "vector_concurrent_lww");
        assert_eq!(
            r.metadata.siblings,
            Some(vec!["agent-1".to_string(), "agent-2".to_string()])
        );
    }

    #[test]
    fn three_way_concurrency_picks_config_a() {
        let s = state(
            "config",
            None,
            vec![
                clocked(
                    "agent-1",
                    "Config A",
                    Some(2),
                    &[("agent-1", 5), ("agent-2", 2), ("agent-3", 1)],
                ),
                clocked(
                    "agent-2",
                    "Config B",
                    Some(1),
                    &[("agent-1", 2), ("agent-2", 6), ("agent-3", 1)],
                ),
                clocked(
                    "agent-3",
                    "Config C",
                    Some(0),
                    &[("agent-1", 1), ("agent-2", 2), ("agent-3", 5)],
                ),
            ],
        );
        let r = resolve_all_orders(&s);
        assert_eq!(r.value, json!("Config A"));
        assert_eq!(r.metadata.siblings.as_ref().unwrap().len(), 3);
    }

    #[test]
    fn a_dominated_version_loses_even_with_the_latest_timestamp() {
        let s = state(
            "doc",
            None,
            vec![
                clocked("old", "stale", Some(50), &[("a", 1), ("b", 1)]),
                clocked("new", "fresh", Some(0), &[("a", 2), ("b", 1)]),
                clocked("other", "concurrent", Some(10), &[("a", 0), ("b", 3)]),
            ],
        );
        let r = resolve_all_orders(&s);
        // "stale" has the latest timestamp but "fresh" dominates it; among the
        // two maximal versions "concurrent" is the later write.
        assert_eq!(r.value, json!("concurrent"));
        assert_eq!(
            r.metadata.siblings,
            Some(vec!["other".to_string(), "new".to_string()])
        );
        let roles: Vec<Role> = r.versions.iter().map(|v| v.role).collect();
        assert_eq!(roles, [Role::Dominated, Role::Sibling, Role::Winner]);
    }

    #[test]
    fn missing_clock_defaults_to_agent_and_version() {
        let s = state(
            "k",
            None,
            vec![version("a", json!("a3"), 3, None), {
                let mut v = version("b", json!("b"), 1, None);
                v.vector_clock = Some([("a".to_string(), 3), ("b".to_string(), 1)].into());
                v
            }],
        );
        // {a:3} is dominated by {a:3, b:1}.
        let r = resolve_all_orders(&s);
        assert_eq!(r.value, json!("b"));
        assert_eq!(r.metadata.resolution_strategy, "vector_causal");
    }

    #[test]
    fn identical_clocks_are_concurrent_siblings() {
        let s = state(
            "k",
            None,
            vec![
                clocked("a", "x", Some(0), &[("a", 1)]),
                clocked("b", "y", Some(1), &[("a", 1)]),
            ],
        );
        let r = resolve_all_orders(&s);
        assert_eq!(r.value, json!("y"));
        assert_eq!(r.metadata.resolution_strategy, "vector_concurrent_lww");
    }

    #[test]
    fn maximal_set_matches_the_pairwise_definition() {
        // Exhaustive check on small clocks against the O(n^2) definition.
        let values = [0u64, 1, 2];
        let mut clocks = Vec::new();
        for a in values {
            for b in values {
                for c in values {
                    clocks.push(vec![a, b, c]);
                }
            }
        }
        for window in clocks.windows(7).step_by(3) {
            let mut expected: Vec<usize> = (0..window.len())
                .filter(|&i| !(0..window.len()).any(|j| dominates(&window[j], &window[i])))
                .collect();
            let mut got = maximal(window);
            expected.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, expected, "{window:?}");
        }
    }
}

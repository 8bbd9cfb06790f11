//! Vector-clock causality. A version whose clock dominates every other clock
//! wins (`vector_causal`). Otherwise some versions are concurrent: only the
//! maximal ones (dominated by no other) are kept as siblings, and the last
//! write among them wins (`vector_concurrent_lww`). A dominated version never
//! wins, whatever its timestamp.

use std::collections::HashMap;

use super::{Resolution, ResolutionMetadata, Role, pick};
use crate::scenario::{State, Strategy};

/// Most versions one state may have under vector-clock resolution, which
/// compares versions pairwise: with every version concurrent that is about
/// 5 × 10^7 comparisons at the limit.
pub const MAX_VERSIONS: usize = 10_000;

/// A vector clock as `(agent, counter)` pairs, agents numbered in order of
/// first appearance in the state, ascending by agent, counters of 0 left
/// out (a missing entry counts as 0). Sparse, so a state whose versions name
/// many different agents costs memory for the entries written, not for
/// versions × agents.
pub type Clock = Vec<(usize, u64)>;

/// Every version's clock; a version without a clock has `{agent: version}`.
fn clocks(state: &State) -> Vec<Clock> {
    fn number<'a>(agents: &mut HashMap<&'a str, usize>, agent: &'a str) -> usize {
        let next = agents.len();
        *agents.entry(agent).or_insert(next)
    }
    let mut agents: HashMap<&str, usize> = HashMap::new();
    state
        .versions
        .iter()
        .map(|v| {
            let mut clock: Clock = match &v.vector_clock {
                Some(clock) => clock
                    .iter()
                    .map(|(a, c)| (number(&mut agents, a), *c))
                    .collect(),
                None => vec![(number(&mut agents, &v.agent), v.version)],
            };
            clock.retain(|&(_, count)| count > 0);
            clock.sort_unstable();
            clock
        })
        .collect()
}

/// Whether clock `a` dominates `b`: at least as large everywhere, larger somewhere.
pub fn dominates(a: &[(usize, u64)], b: &[(usize, u64)]) -> bool {
    let mut larger = false;
    let mut i = 0;
    for &(agent, count) in b {
        // Entries of `a` for agents `b` lacks: larger there.
        while i < a.len() && a[i].0 < agent {
            larger = true;
            i += 1;
        }
        match a.get(i) {
            Some(&(other, mine)) if other == agent && mine >= count => {
                larger |= mine > count;
                i += 1;
            }
            // `a` is smaller here, or lacks an agent `b` counted above 0.
            _ => return false,
        }
    }
    larger || i < a.len()
}

/// Indices of the clocks no other clock dominates. A dominating clock has a
/// strictly larger sum, so visiting clocks by decreasing sum, each one is
/// maximal exactly when no maximal clock found before it dominates it.
///
/// A clock can only be dominated by one that counts every agent it counts,
/// so maximal clocks are grouped by a 64-bit signature of their agents
/// (agent number mod 64) and only groups whose signature covers the
/// candidate's are searched: concurrent versions written by different agents
/// are told apart without comparing them entry by entry.
pub fn maximal(clocks: &[Clock]) -> Vec<usize> {
    let sum = |i: usize| clocks[i].iter().map(|&(_, c)| u128::from(c)).sum::<u128>();
    let signature = |i: usize| {
        clocks[i]
            .iter()
            .fold(0u64, |s, &(agent, _)| s | 1 << (agent % 64))
    };
    let mut order: Vec<usize> = (0..clocks.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sum(i)));
    let mut groups: Vec<(u64, Vec<usize>)> = Vec::new();
    let mut group_of: HashMap<u64, usize> = HashMap::new();
    let mut maxima: Vec<usize> = Vec::new();
    for i in order {
        let mine = signature(i);
        let dominated = groups.iter().any(|(theirs, members)| {
            mine & !theirs == 0 && members.iter().any(|&m| dominates(&clocks[m], &clocks[i]))
        });
        if !dominated {
            let next = groups.len();
            let g = *group_of.entry(mine).or_insert(next);
            if g == next {
                groups.push((mine, Vec::new()));
            }
            groups[g].1.push(i);
            maxima.push(i);
        }
    }
    maxima
}

/// Resolves `state` by vector-clock causality.
pub fn resolve(state: &State) -> Resolution {
    let clocks = clocks(state);
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
    let mut is_maximal = vec![false; state.versions.len()];
    maxima.iter().for_each(|&i| is_maximal[i] = true);
    pick(state, winner, Strategy::Vector, metadata, |i| {
        if is_maximal[i] {
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
        let d = |a: &[u64], b: &[u64]| dominates(&sparse(a), &sparse(b));
        assert!(d(&[6, 4], &[5, 3]));
        assert!(d(&[5, 4], &[5, 3]));
        assert!(!d(&[5, 3], &[5, 3]));
        assert!(!d(&[5, 2], &[3, 6]));
        // Missing entries count as 0.
        assert!(d(&[0, 1], &[0, 0]));
        assert!(d(&[1, 0, 2], &[0, 0, 2]));
        assert!(!d(&[1, 0, 2], &[0, 1, 2]));
        assert!(!d(&[0, 0], &[0, 0]));
    }

    /// A dense clock written sparsely.
    fn sparse(dense: &[u64]) -> Clock {
        dense
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c > 0)
            .map(|(i, &c)| (i, c))
            .collect()
    }

    #[test]
    fn sparse_dominance_matches_the_dense_definition() {
        let dense_dominates = |a: &[u64], b: &[u64]| {
            a.iter().zip(b).all(|(x, y)| x >= y) && a.iter().zip(b).any(|(x, y)| x > y)
        };
        let mut clocks = Vec::new();
        for n in 0..81u64 {
            clocks.push(vec![n % 3, n / 3 % 3, n / 9 % 3, n / 27 % 3]);
        }
        for a in &clocks {
            for b in &clocks {
                assert_eq!(
                    dominates(&sparse(a), &sparse(b)),
                    dense_dominates(a, b),
                    "{a:?} {b:?}"
                );
            }
        }
    }

    #[test]
    fn many_agents_writing_once_resolve_quickly_with_every_version_a_sibling() {
        let versions = (0..MAX_VERSIONS)
            .map(|i| version(&format!("agent-{i}"), json!(i), 1, Some(i as i64)))
            .collect();
        let r = resolve(&state("k", None, versions));
        assert_eq!(r.value, json!(MAX_VERSIONS - 1));
        assert_eq!(r.metadata.siblings.unwrap().len(), MAX_VERSIONS);
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
                    clocks.push(sparse(&[a, b, c]));
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

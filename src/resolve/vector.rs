//! Vector-clock causality. A version whose clock dominates every other clock
//! wins (`vector_causal`). Otherwise some versions are concurrent: only the
//! maximal ones (dominated by no other) are kept as siblings, and the last
//! write among them wins (`vector_concurrent_lww`). A dominated version never
//! wins, whatever its timestamp.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Resolution, ResolutionMetadata, Role, pick};
use crate::scenario::{ClockAgents, State, Strategy};

/// Most versions one state may have under vector-clock resolution, which
/// compares versions pairwise: with every version concurrent that is about
/// 5 × 10^7 comparisons at the limit.
pub const MAX_VERSIONS: usize = 10_000;

/// Most `versions × clock entries` (the state's versions times all the
/// entries of their clocks, a version without a clock counting one) one
/// state may have under vector-clock resolution: comparing each version's
/// clock with every maximal one reads at most that many entries.
pub const MAX_CLOCK_WORK: u64 = 1_000_000_000;

/// The entries a state's clocks hold, as [`MAX_CLOCK_WORK`] counts them.
pub fn clock_entries(state: &State) -> u64 {
    state
        .versions
        .iter()
        .map(|v| v.vector_clock.as_ref().map_or(1, |c| c.len() as u64))
        .sum()
}

/// Every version's clock, sparse and compact: agents as `u32` numbers (the
/// scenario's own, see [`super::clock`]), each clock's entries
/// ascending by agent with counters of 0 left out (a missing entry counts as
/// 0). A state whose versions name many agents costs 12 bytes per entry
/// written, not a string, and nothing for versions × agents.
pub struct Clocks {
    /// Where each version's entries start in `agents` and `counts`; one more
    /// than the versions.
    starts: Vec<usize>,
    agents: Vec<u32>,
    counts: Vec<u64>,
}

impl Clocks {
    /// The clocks of `state`'s versions; a version without a clock has
    /// `{agent: version}`.
    pub fn of(state: &State) -> Self {
        let mut numbering = Numbering::of(state);
        let entries = clock_entries(state) as usize;
        let mut clocks = Clocks {
            starts: Vec::with_capacity(state.versions.len() + 1),
            agents: Vec::with_capacity(entries),
            counts: Vec::with_capacity(entries),
        };
        let mut clock: Vec<(u32, u64)> = Vec::new();
        clocks.starts.push(0);
        for v in &state.versions {
            clock.clear();
            match &v.vector_clock {
                Some(given) if numbering.table.is_some() => clock.extend(given.numbered()),
                Some(given) => clock.extend(given.iter().map(|(a, c)| (numbering.number(a), c))),
                None => clock.push((numbering.number(&v.agent), v.version)),
            }
            clock.retain(|&(_, count)| count > 0);
            clock.sort_unstable();
            clocks.agents.extend(clock.iter().map(|&(a, _)| a));
            clocks.counts.extend(clock.iter().map(|&(_, c)| c));
            clocks.starts.push(clocks.agents.len());
        }
        clocks
    }

    /// How many clocks there are.
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Clock `i`: its agents and their counters.
    fn get(&self, i: usize) -> (&[u32], &[u64]) {
        let range = self.starts[i]..self.starts[i + 1];
        (&self.agents[range.clone()], &self.counts[range])
    }

    /// The sum of clock `i`'s counters: a clock that dominates another has
    /// a strictly larger sum.
    pub fn sum(&self, i: usize) -> u128 {
        self.get(i).1.iter().map(|&c| u128::from(c)).sum()
    }

    /// Whether clock `a` dominates clock `b`.
    pub fn dominates(&self, a: usize, b: usize) -> bool {
        dominates(self.get(a), self.get(b))
    }
}

/// The numbers of a state's agents: those of the table its clocks share (as
/// the clocks of one scenario do), else numbers given here by id.
struct Numbering<'a> {
    /// The table every clock of the state numbers its agents by, if one.
    table: Option<&'a ClockAgents>,
    /// Numbers by id, for agents met outside a clock of `table`; filled
    /// from `table` first when there is one.
    numbers: HashMap<&'a str, u32>,
    /// Whether `numbers` holds the table's.
    seeded: bool,
}

impl<'a> Numbering<'a> {
    fn of(state: &'a State) -> Self {
        let mut clocks = state
            .versions
            .iter()
            .filter_map(|v| v.vector_clock.as_ref());
        let table = clocks.next().map(|c| c.agents());
        let shared = table.filter(|&t| clocks.all(|c| Arc::ptr_eq(c.agents(), t)));
        Numbering {
            table: shared.map(|t| &**t),
            numbers: HashMap::new(),
            seeded: false,
        }
    }

    /// The number of agent `id`.
    fn number(&mut self, id: &'a str) -> u32 {
        if let (Some(table), false) = (self.table, self.seeded) {
            self.numbers
                .extend((0..table.len() as u32).map(|n| (table.name(n), n)));
            self.seeded = true;
        }
        let next = self.numbers.len() as u32;
        *self.numbers.entry(id).or_insert(next)
    }
}

/// Whether clock `a` dominates `b` (each given as its agents, ascending, and
/// their counters): at least as large everywhere, larger somewhere.
fn dominates(
    (a_agents, a_counts): (&[u32], &[u64]),
    (b_agents, b_counts): (&[u32], &[u64]),
) -> bool {
    // `a` must count every agent `b` counts.
    if a_agents.len() < b_agents.len() {
        return false;
    }
    let mut larger = false;
    let mut i = 0;
    for (&agent, &count) in b_agents.iter().zip(b_counts) {
        // Entries of `a` for agents `b` lacks: larger there.
        while i < a_agents.len() && a_agents[i] < agent {
            larger = true;
            i += 1;
        }
        match a_agents.get(i) {
            Some(&other) if other == agent && a_counts[i] >= count => {
                larger |= a_counts[i] > count;
                i += 1;
            }
            // `a` is smaller here, or lacks an agent `b` counted above 0.
            _ => return false,
        }
    }
    larger || i < a_agents.len()
}

/// Indices of the clocks no other clock dominates. A dominating clock has a
/// strictly larger sum, so visiting clocks by decreasing sum, each one is
/// maximal exactly when no maximal clock of a larger sum found before it
/// dominates it.
///
/// A clock can only be dominated by one that counts every agent it counts,
/// so maximal clocks are grouped by a 64-bit signature of their agents
/// (agent number mod 64) and only groups whose signature covers the
/// candidate's are searched: concurrent versions written by different agents
/// are told apart without comparing them entry by entry.
pub fn maximal(clocks: &Clocks) -> Vec<usize> {
    let sums: Vec<u128> = (0..clocks.len()).map(|i| clocks.sum(i)).collect();
    let signature = |i: usize| {
        clocks
            .get(i)
            .0
            .iter()
            .fold(0u64, |s, &agent| s | 1 << (agent % 64))
    };
    let mut order: Vec<usize> = (0..clocks.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sums[i]));
    let mut groups: Vec<(u64, Vec<usize>)> = Vec::new();
    let mut group_of: HashMap<u64, usize> = HashMap::new();
    let mut maxima: Vec<usize> = Vec::new();
    for i in order {
        let mine = signature(i);
        let dominated = groups.iter().any(|(theirs, members)| {
            mine & !theirs == 0
                && members
                    .iter()
                    .any(|&m| sums[m] > sums[i] && clocks.dominates(m, i))
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
    let mut maxima = maximal(&Clocks::of(state));
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
    use crate::scenario::ClockInterner;
    use crate::scenario::{State, Version};
    use serde_json::json;

    fn clocked(agent: &str, value: &str, second: Option<i64>, clock: &[(&str, u64)]) -> Version {
        with_clock(version(agent, json!(value), 0, second), clock)
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

    /// A state whose versions have these dense clocks (agent `a{j}`
    /// counting `dense[j]`), each clock numbering its agents on its own, or
    /// all of them sharing one table as the clocks of a scenario do.
    fn dense_state(dense: &[Vec<u64>], shared: bool) -> State {
        let mut interner = ClockInterner::default();
        let versions = dense
            .iter()
            .enumerate()
            .map(|(i, counts)| {
                let mut v = version(&format!("v{i}"), json!(i), 0, None);
                let entries = counts
                    .iter()
                    .enumerate()
                    .map(|(j, &c)| (format!("a{j}"), c));
                v.vector_clock = Some(if shared {
                    let entries: Vec<(String, u64)> = entries.collect();
                    interner.clock(entries.iter().map(|(a, c)| (a.as_str(), *c)))
                } else {
                    entries.collect()
                });
                v
            })
            .collect();
        interner.finish();
        state("k", None, versions)
    }

    /// The clocks of [`dense_state`], numbered clock by clock.
    fn clocks_of(dense: &[Vec<u64>]) -> Clocks {
        Clocks::of(&dense_state(dense, false))
    }

    #[test]
    fn dominance_needs_greater_or_equal_everywhere_and_greater_somewhere() {
        let d = |a: &[u64], b: &[u64]| clocks_of(&[a.to_vec(), b.to_vec()]).dominates(0, 1);
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

    #[test]
    fn sparse_dominance_matches_the_dense_definition() {
        let dense_dominates = |a: &[u64], b: &[u64]| {
            a.iter().zip(b).all(|(x, y)| x >= y) && a.iter().zip(b).any(|(x, y)| x > y)
        };
        let dense: Vec<Vec<u64>> = (0..81u64)
            .map(|n| vec![n % 3, n / 3 % 3, n / 9 % 3, n / 27 % 3])
            .collect();
        let clocks = clocks_of(&dense);
        for (i, a) in dense.iter().enumerate() {
            for (j, b) in dense.iter().enumerate() {
                assert_eq!(clocks.dominates(i, j), dense_dominates(a, b), "{a:?} {b:?}");
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
        let s = three_way_concurrency();
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
        let mut dense = Vec::new();
        for a in values {
            for b in values {
                for c in values {
                    dense.push(vec![a, b, c]);
                }
            }
        }
        for window in dense.windows(7).step_by(3) {
            let clocks = clocks_of(window);
            let mut expected: Vec<usize> = (0..window.len())
                .filter(|&i| !(0..window.len()).any(|j| clocks.dominates(j, i)))
                .collect();
            let mut got = maximal(&clocks);
            // The scenario's shared numbering finds the same, in the same order.
            let shared = Clocks::of(&dense_state(window, true));
            assert!(Numbering::of(&dense_state(window, true)).table.is_some());
            assert_eq!(maximal(&shared), got, "{window:?}");
            expected.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, expected, "{window:?}");
        }
    }

    #[test]
    fn clock_entries_count_what_versions_write() {
        let clocks = clocks_of(&[vec![1, 0, 2], vec![3]]);
        // Zero counters are left out of the compact clocks.
        assert_eq!(clocks.agents.len(), 3);
        let mut s = state("k", None, vec![version("a", json!(1), 1, None)]);
        assert_eq!(clock_entries(&s), 1);
        let mut v = version("b", json!(2), 1, None);
        v.vector_clock = Some([("a".to_string(), 0), ("b".to_string(), 1)].into());
        s.versions.push(std::sync::Arc::new(v));
        assert_eq!(clock_entries(&s), 3);
    }
}

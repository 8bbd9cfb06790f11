//! Why the value that stands for one key stands: the comparisons the
//! resolution made, as plain data. The key is resolved exactly as
//! [`super::resolve`] resolves it, and every reason is read off that
//! resolution (its winner, roles, siblings and key sources):
//!
//! - last-write-wins (and a CRDT register): for each losing version, the
//!   field of the order (timestamp, version, agent) that put the winner
//!   ahead of it;
//! - vector clocks: for each dominated version, a maximal version whose clock
//!   dominates it and the entries where it is behind; for each concurrent
//!   sibling, the entries where each of it and the winner is ahead, then the
//!   last-write-wins field that chose the winner;
//! - CRDT merges: which version contributed which part of the merged value.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::crdt::{self, KeyRule};
use super::vector::Clocks;
use super::{Resolution, Role, lww, resolve_state};
use crate::scenario::{CrdtType, ResolveConfig, State, Strategy, Version};

/// Why one key resolved as it did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The key.
    pub key: String,
    /// The strategy that decided it (`lww`, `vector` or `crdt`).
    pub strategy: Strategy,
    /// hybrid: the route prefix that chose the strategy, or `default`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// As in the resolution: `lww`, `vector_causal`, `vector_concurrent_lww` or `crdt`.
    pub resolution_strategy: &'static str,
    /// crdt: the type merged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crdt_type: Option<CrdtType>,
    /// The resolved value.
    pub value: Value,
    /// The version whose value stands; none for a merge (other than a register).
    pub winner: Option<VersionRef>,
    /// The comparisons that decided, by strategy.
    #[serde(flatten)]
    pub reasons: Reasons,
}

/// A version, by what identifies it (agent and version) and orders it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRef {
    /// The agent holding it.
    pub agent: String,
    /// Its version number.
    pub version: u64,
    /// When it was written (RFC 3339), if known.
    pub timestamp: Option<String>,
}

impl VersionRef {
    /// The reference to `version`.
    pub fn of(version: &Version) -> Self {
        VersionRef {
            agent: version.agent.clone(),
            version: version.version,
            timestamp: version.timestamp.map(|t| t.to_string()),
        }
    }
}

/// The comparisons that decided a key, by the strategy that decided it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Reasons {
    /// lww, or a CRDT register: each loser against the winner.
    LastWrite {
        /// Every other version, in file order.
        losers: Vec<LwwLoss>,
    },
    /// Vector clocks.
    Causal {
        /// The versions some other version's clock dominates, in file order.
        dominated: Vec<Dominated>,
        /// The maximal versions other than the winner, in file order.
        concurrent: Vec<Concurrent>,
    },
    /// A G-Counter merge.
    Counter {
        /// One entry per agent, in first-appearance order.
        entries: Vec<CounterEntry>,
    },
    /// A G-Set merge.
    Set {
        /// Each element of the merged set, in its order.
        elements: Vec<ElementSource>,
    },
    /// A LWW-Map merge.
    Map {
        /// Each key of the merged map, in its order.
        keys: Vec<MapKey>,
    },
    /// A map-of-sets merge.
    MapOfSets {
        /// Each key of the merged map, in its order.
        keys: Vec<SetKey>,
    },
}

/// The field of the last-write-wins order that tells two versions apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LwwField {
    /// Their timestamps differ (a version without one is older).
    Timestamp,
    /// Same timestamp (or none on either), different version numbers.
    Version,
    /// Same timestamp and version, different agents.
    Agent,
    /// Nothing tells them apart.
    Tie,
}

impl LwwField {
    /// The field of the last-write-wins order that decides between `a` and `b`.
    pub fn between(a: &Version, b: &Version) -> Self {
        let (a, b) = (a.lww_key(), b.lww_key());
        if a.0 != b.0 {
            LwwField::Timestamp
        } else if a.1 != b.1 {
            LwwField::Version
        } else if a.2 != b.2 {
            LwwField::Agent
        } else {
            LwwField::Tie
        }
    }
}

/// A version that lost the last-write-wins order to the winner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LwwLoss {
    /// The losing version.
    pub version: VersionRef,
    /// The field that put the winner ahead of it.
    pub decided_by: LwwField,
    /// Whether its vector clock dominates the winner's: causally later, it
    /// lost to a later timestamp (clock skew), which last-write-wins does
    /// not see.
    pub causally_later: bool,
}

/// One clock entry where one version is behind another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryGap {
    /// The agent of the entry.
    pub agent: String,
    /// The smaller counter (0 when the clock has no entry for the agent).
    pub lower: u64,
    /// The larger counter.
    pub higher: u64,
}

/// A version whose clock another version's dominates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dominated {
    /// The dominated version.
    pub version: VersionRef,
    /// A maximal version whose clock dominates it: the winner when the
    /// winner's does.
    pub by: VersionRef,
    /// The entries where it is behind `by`, by agent id.
    pub behind: Vec<EntryGap>,
    /// The agents whose entries (above 0) are equal in both clocks: with
    /// `behind`, every entry either has.
    pub equal: Vec<String>,
    /// When it is later than `by` in the last-write-wins order, the field
    /// that makes it so (a timestamp newer than its clock: clock skew);
    /// causality decides regardless.
    pub later_by: Option<LwwField>,
}

/// A maximal version concurrent with the winner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Concurrent {
    /// The sibling.
    pub version: VersionRef,
    /// Entries where the winner is ahead of it.
    pub winner_ahead: Vec<EntryGap>,
    /// Entries where it is ahead of the winner (both lists empty: the same clock).
    pub sibling_ahead: Vec<EntryGap>,
    /// The field of the last-write-wins order that chose the winner.
    pub decided_by: LwwField,
}

/// A G-Counter entry and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterEntry {
    /// The agent.
    pub agent: String,
    /// Its entry: the largest value it reported.
    pub value: u64,
    /// The (oldest) version that reported it.
    pub from: VersionRef,
    /// How many versions the agent reported.
    pub reports: u64,
}

/// An element of a merged set and the version that added it first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ElementSource {
    /// The element.
    pub element: Value,
    /// The version it first appears in, reading versions oldest first.
    pub from: VersionRef,
}

/// One key of a merged LWW-Map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapKey {
    /// The key.
    pub key: String,
    /// Its merged value.
    pub value: Value,
    /// The latest version that has the key, whose value stands.
    pub from: VersionRef,
    /// `newest` or `only_one`, as in the resolution's `key_sources`.
    pub rule: KeyRule,
    /// The other versions that have the key, each against `from`.
    pub over: Vec<LwwLoss>,
}

/// One key of a merged map of sets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetKey {
    /// The key.
    pub key: String,
    /// `union` or `only_one`, as in the resolution's `key_sources`.
    pub rule: KeyRule,
    /// Each element of the key's merged set with the version that added it first.
    pub elements: Vec<ElementSource>,
}

/// Explains how `key` resolves under `strategy`, or `None` when no state
/// has the key. `config` must have passed [`ResolveConfig::validate`].
pub fn explain(config: &ResolveConfig, strategy: Strategy, key: &str) -> Option<Explanation> {
    let state = config.states.iter().find(|s| s.key == key)?;
    let resolution = resolve_state(config, state, strategy);
    Some(of(state, &resolution))
}

/// Explains `resolution`, which resolved `state`.
pub fn of(state: &State, resolution: &Resolution) -> Explanation {
    let versions = &state.versions;
    let winner = resolution
        .versions
        .iter()
        .position(|v| v.role == Role::Winner);
    let crdt_type = resolution.metadata.crdt_type;
    let (winner, reasons) = match (resolution.strategy, crdt_type) {
        (Strategy::Vector, _) => {
            let w = winner.expect("a vector resolution has a winner");
            (Some(w), causal(state, resolution, w))
        }
        (Strategy::Crdt, Some(CrdtType::Counter)) => (None, counter(state, resolution)),
        (Strategy::Crdt, Some(CrdtType::Set)) => (None, set(state)),
        (Strategy::Crdt, Some(CrdtType::Map)) => (None, map(state, resolution)),
        (Strategy::Crdt, Some(CrdtType::MapOfSets)) => (None, map_of_sets(state, resolution)),
        (Strategy::Crdt, _) => {
            // A register keeps the last write, as lww does.
            let w = lww::winner(versions);
            (Some(w), last_write(state, w))
        }
        _ => {
            let w = winner.expect("an lww resolution has a winner");
            (Some(w), last_write(state, w))
        }
    };
    Explanation {
        key: state.key.clone(),
        strategy: resolution.strategy,
        route: resolution.metadata.route.clone(),
        resolution_strategy: resolution.metadata.resolution_strategy,
        crdt_type,
        value: resolution.value.clone(),
        winner: winner.map(|w| VersionRef::of(&versions[w])),
        reasons,
    }
}

/// Each version but the winner `w` against the winner.
fn last_write(state: &State, w: usize) -> Reasons {
    let clocks = Clocks::of(state);
    let losers = (0..state.versions.len())
        .filter(|&i| i != w)
        .map(|i| loss(state, &clocks, w, i))
        .collect();
    Reasons::LastWrite { losers }
}

/// Version `i` of `state` against `w`, which beat it by last write.
fn loss(state: &State, clocks: &Clocks, w: usize, i: usize) -> LwwLoss {
    let versions = &state.versions;
    LwwLoss {
        version: VersionRef::of(&versions[i]),
        decided_by: LwwField::between(&versions[w], &versions[i]),
        causally_later: clocks.dominates(i, w),
    }
}

/// A version's clock by agent id, entries of 0 left out: the clock given,
/// else `{agent: version}`, as [`Clocks::of`] reads it.
fn named_clock(version: &Version) -> BTreeMap<&str, u64> {
    let entries: Vec<(&str, u64)> = match &version.vector_clock {
        Some(clock) => clock.iter().collect(),
        None => vec![(version.agent.as_str(), version.version)],
    };
    entries.into_iter().filter(|&(_, n)| n > 0).collect()
}

/// The entries where clock `low` is smaller than clock `high`, by agent id.
fn gaps(low: &BTreeMap<&str, u64>, high: &BTreeMap<&str, u64>) -> Vec<EntryGap> {
    let agents: BTreeSet<&str> = low.keys().chain(high.keys()).copied().collect();
    agents
        .into_iter()
        .filter_map(|agent| {
            let (l, h) = (
                low.get(agent).copied().unwrap_or(0),
                high.get(agent).copied().unwrap_or(0),
            );
            (l < h).then(|| EntryGap {
                agent: agent.to_string(),
                lower: l,
                higher: h,
            })
        })
        .collect()
}

/// The vector-clock reasons: each dominated version with a maximal
/// dominator, each sibling with its conflicting entries and the
/// last-write-wins field.
fn causal(state: &State, resolution: &Resolution, w: usize) -> Reasons {
    let versions = &state.versions;
    let clocks = Clocks::of(state);
    let roles: Vec<Role> = resolution.versions.iter().map(|v| v.role).collect();
    // The maximal versions, winner first, then latest first as the
    // resolution lists its siblings.
    let mut maxima: Vec<usize> = (0..versions.len())
        .filter(|&i| roles[i] == Role::Sibling)
        .collect();
    maxima.sort_by(|&a, &b| versions[b].lww_key().cmp(&versions[a].lww_key()));
    maxima.insert(0, w);
    let winner_clock = named_clock(&versions[w]);
    let mut dominated = Vec::new();
    let mut concurrent = Vec::new();
    for (i, version) in versions.iter().enumerate() {
        let clock = named_clock(version);
        match roles[i] {
            Role::Dominated => {
                // Every dominated version is below a maximal one.
                let by = *maxima
                    .iter()
                    .find(|&&m| clocks.dominates(m, i))
                    .expect("a dominated version is below a maximal one");
                let later = version.lww_key() > versions[by].lww_key();
                let by_clock = named_clock(&versions[by]);
                dominated.push(Dominated {
                    version: VersionRef::of(version),
                    by: VersionRef::of(&versions[by]),
                    behind: gaps(&clock, &by_clock),
                    equal: clock
                        .iter()
                        .filter(|&(agent, n)| by_clock.get(agent) == Some(n))
                        .map(|(agent, _)| agent.to_string())
                        .collect(),
                    later_by: later.then(|| LwwField::between(version, &versions[by])),
                });
            }
            Role::Sibling => concurrent.push(Concurrent {
                version: VersionRef::of(version),
                winner_ahead: gaps(&clock, &winner_clock),
                sibling_ahead: gaps(&winner_clock, &clock),
                decided_by: LwwField::between(&versions[w], version),
            }),
            _ => {}
        }
    }
    Reasons::Causal {
        dominated,
        concurrent,
    }
}

/// Each agent's counter entry: its largest value and the oldest version
/// reporting it, agents in the merge's order.
fn counter(state: &State, resolution: &Resolution) -> Reasons {
    let mut best: HashMap<&str, (u64, &Version, u64)> = HashMap::new();
    for version in &state.versions {
        let value = version.value.as_u64().unwrap_or(0);
        best.entry(version.agent.as_str())
            .and_modify(|(top, from, reports)| {
                *reports += 1;
                if (value, std::cmp::Reverse(version.lww_key()))
                    > (*top, std::cmp::Reverse(from.lww_key()))
                {
                    (*top, *from) = (value, version);
                }
            })
            .or_insert((value, version, 1));
    }
    let entries = resolution
        .metadata
        .merged_from_agents
        .iter()
        .flatten()
        .filter_map(|agent| {
            let &(value, from, reports) = best.get(agent.as_str())?;
            Some(CounterEntry {
                agent: agent.clone(),
                value,
                from: VersionRef::of(from),
                reports,
            })
        })
        .collect();
    Reasons::Counter { entries }
}

/// Each element of the union with the version that added it first.
fn set(state: &State) -> Reasons {
    let elements = sources(state.versions.iter().map(|v| (v.as_ref(), &v.value)));
    Reasons::Set { elements }
}

/// The elements of the union of `arrays`, each with its first contributor.
fn sources<'a>(arrays: impl Iterator<Item = (&'a Version, &'a Value)>) -> Vec<ElementSource> {
    crdt::union_sources(arrays)
        .into_iter()
        .map(|(element, from)| ElementSource {
            element: element.clone(),
            from: VersionRef::of(from),
        })
        .collect()
}

/// The versions of `state` that have map key `name`.
fn holding<'a>(state: &'a State, name: &'a str) -> impl Iterator<Item = usize> + 'a {
    (0..state.versions.len()).filter(move |&i| state.versions[i].value.get(name).is_some())
}

/// Each key of the merged map: the latest version that has it, over the others.
fn map(state: &State, resolution: &Resolution) -> Reasons {
    let clocks = Clocks::of(state);
    let keys = resolution
        .metadata
        .key_sources
        .iter()
        .flatten()
        .map(|source| {
            let having: Vec<usize> = holding(state, &source.key).collect();
            let arcs: Vec<Arc<Version>> =
                having.iter().map(|&i| state.versions[i].clone()).collect();
            let w = having[lww::winner(&arcs)];
            MapKey {
                key: source.key.clone(),
                value: resolution
                    .value
                    .get(&source.key)
                    .cloned()
                    .unwrap_or(Value::Null),
                from: VersionRef::of(&state.versions[w]),
                rule: source.rule,
                over: having
                    .iter()
                    .filter(|&&i| i != w)
                    .map(|&i| loss(state, &clocks, w, i))
                    .collect(),
            }
        })
        .collect();
    Reasons::Map { keys }
}

/// Each key of the merged map of sets, each element with its first contributor.
fn map_of_sets(state: &State, resolution: &Resolution) -> Reasons {
    let keys = resolution
        .metadata
        .key_sources
        .iter()
        .flatten()
        .map(|source| SetKey {
            key: source.key.clone(),
            rule: source.rule,
            elements: sources(holding(state, &source.key).filter_map(|i| {
                let v = state.versions[i].as_ref();
                Some((v, v.value.get(&source.key)?))
            })),
        })
        .collect();
    Reasons::MapOfSets { keys }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::testing::*;
    use crate::resolve::{Resolution, resolve};
    use serde_json::json;

    fn clocked(
        agent: &str,
        version_number: u64,
        second: Option<i64>,
        clock: &[(&str, u64)],
    ) -> Version {
        let value = json!(format!("{agent}{version_number}"));
        with_clock(version(agent, value, version_number, second), clock)
    }

    fn config(states: Vec<State>) -> ResolveConfig {
        ResolveConfig {
            states,
            ..ResolveConfig::default()
        }
    }

    /// The explanation of `state` under `strategy`, after checking that it
    /// explains the resolution's own value and winner, in every order of
    /// the versions.
    fn explained(state: State, strategy: Strategy) -> Explanation {
        let mut first = None;
        for reordered in std::iter::once(state.clone()).chain(reorderings(&state)) {
            let config = config(vec![reordered]);
            config.validate(strategy).unwrap();
            let resolution: Resolution = resolve(&config, strategy).remove(0);
            let e = explain(&config, strategy, &state.key).unwrap();
            assert_eq!(e.value, resolution.value);
            assert_eq!(e.strategy, resolution.strategy);
            if resolution.agent != crdt::COORDINATOR {
                let w = e.winner.as_ref().unwrap();
                assert_eq!(
                    (w.agent.as_str(), w.version),
                    (resolution.agent.as_str(), resolution.version)
                );
            }
            first.get_or_insert(e);
        }
        first.unwrap()
    }

    /// A map key: name, value, source agent, rule, and each loser's agent and field.
    type MapRow<'a> = (&'a str, Value, &'a str, KeyRule, Vec<(String, LwwField)>);
    /// A map-of-sets key: name, rule, and each element with its first agent.
    type SetRow<'a> = (&'a str, KeyRule, Vec<(Value, String)>);

    fn refer(agent: &str, version: u64) -> VersionRef {
        VersionRef {
            agent: agent.to_string(),
            version,
            timestamp: None,
        }
    }

    fn gap(agent: &str, lower: u64, higher: u64) -> EntryGap {
        EntryGap {
            agent: agent.to_string(),
            lower,
            higher,
        }
    }

    #[test]
    fn a_causal_chain_names_each_dominated_versions_dominator_and_smaller_entries() {
        let s = state(
            "doc",
            None,
            vec![
                clocked("a", 1, None, &[("a", 1)]),
                clocked("a", 2, None, &[("a", 2)]),
                clocked("b", 1, None, &[("a", 2), ("b", 1)]),
            ],
        );
        let e = explained(s, Strategy::Vector);
        assert_eq!(e.resolution_strategy, "vector_causal");
        assert_eq!(e.winner, Some(refer("b", 1)));
        let Reasons::Causal {
            dominated,
            concurrent,
        } = e.reasons
        else {
            panic!("{:?}", e.reasons)
        };
        assert!(concurrent.is_empty());
        let rows: Vec<(VersionRef, VersionRef, Vec<EntryGap>, Vec<String>)> = dominated
            .into_iter()
            .map(|d| (d.version, d.by, d.behind, d.equal))
            .collect();
        assert_eq!(
            rows,
            [
                (
                    refer("a", 1),
                    refer("b", 1),
                    vec![gap("a", 1, 2), gap("b", 0, 1)],
                    vec![]
                ),
                (
                    refer("a", 2),
                    refer("b", 1),
                    vec![gap("b", 0, 1)],
                    vec!["a".to_string()]
                ),
            ]
        );
    }

    #[test]
    fn a_version_below_a_losing_sibling_names_that_sibling_and_the_winner_when_it_can() {
        let s = state(
            "doc",
            None,
            vec![
                clocked("x", 1, None, &[("x", 1)]),
                clocked("x", 2, None, &[("x", 2)]),
                clocked("x", 3, Some(1), &[("x", 3)]),
                clocked("y", 2, Some(9), &[("x", 1), ("y", 2)]),
            ],
        );
        let e = explained(s, Strategy::Vector);
        assert_eq!(
            e.winner,
            Some(VersionRef {
                timestamp: Some("2025-01-01T10:00:09Z".into()),
                ..refer("y", 2)
            })
        );
        let Reasons::Causal {
            dominated,
            concurrent,
        } = e.reasons
        else {
            panic!()
        };
        let by: Vec<(u64, String, u64)> = dominated
            .iter()
            .map(|d| (d.version.version, d.by.agent.clone(), d.by.version))
            .collect();
        // x1 is below both maxima: the winner y2 is named; x2 only below x3.
        assert_eq!(by, [(1, "y".into(), 2), (2, "x".into(), 3)]);
        assert_eq!(concurrent.len(), 1);
        assert_eq!(concurrent[0].version.agent, "x");
        assert_eq!(concurrent[0].winner_ahead, [gap("y", 0, 2)]);
        assert_eq!(concurrent[0].sibling_ahead, [gap("x", 1, 3)]);
    }

    #[test]
    fn three_way_concurrency_names_the_conflicting_entries_then_the_last_write() {
        let s = three_way_concurrency();
        let e = explained(s, Strategy::Vector);
        assert_eq!(e.resolution_strategy, "vector_concurrent_lww");
        let Reasons::Causal {
            dominated,
            concurrent,
        } = e.reasons
        else {
            panic!()
        };
        assert!(dominated.is_empty());
        let rows: Vec<(String, Vec<EntryGap>, Vec<EntryGap>, LwwField)> = concurrent
            .into_iter()
            .map(|c| {
                (
                    c.version.agent,
                    c.winner_ahead,
                    c.sibling_ahead,
                    c.decided_by,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "agent-2".to_string(),
                    vec![gap("agent-1", 2, 5)],
                    vec![gap("agent-2", 2, 6)],
                    LwwField::Timestamp
                ),
                (
                    "agent-3".to_string(),
                    vec![gap("agent-1", 1, 5)],
                    vec![gap("agent-3", 1, 5)],
                    LwwField::Timestamp
                ),
            ]
        );
    }

    #[test]
    fn clock_skew_loses_by_causality_under_vector_and_wins_by_timestamp_under_lww() {
        let s = state(
            "doc",
            None,
            vec![
                clocked("old", 1, Some(50), &[("a", 1), ("b", 1)]),
                clocked("new", 1, Some(0), &[("a", 2), ("b", 1)]),
            ],
        );
        let e = explained(s.clone(), Strategy::Vector);
        let Reasons::Causal { dominated, .. } = e.reasons else {
            panic!()
        };
        assert_eq!(dominated.len(), 1);
        let d = &dominated[0];
        assert_eq!(
            (d.version.agent.as_str(), d.by.agent.as_str()),
            ("old", "new")
        );
        assert_eq!(d.behind, [gap("a", 1, 2)]);
        assert_eq!(d.equal, ["b"]);
        assert_eq!(d.later_by, Some(LwwField::Timestamp));
        let e = explained(s, Strategy::Lww);
        assert_eq!(e.winner.unwrap().agent, "old");
        let Reasons::LastWrite { losers } = e.reasons else {
            panic!()
        };
        assert_eq!(losers.len(), 1);
        assert_eq!(losers[0].decided_by, LwwField::Timestamp);
        assert!(losers[0].causally_later);
    }

    #[test]
    fn lww_names_the_field_that_decided_each_loser() {
        let s = state(
            "k",
            None,
            vec![
                version("w", json!(0), 2, Some(5)),
                version("a", json!(1), 9, Some(4)),
                version("b", json!(2), 1, Some(5)),
                version("v", json!(3), 2, Some(5)),
                version("z", json!(4), 99, None),
            ],
        );
        let e = explained(s, Strategy::Lww);
        assert_eq!(e.winner.as_ref().unwrap().agent, "w");
        let Reasons::LastWrite { losers } = e.reasons else {
            panic!()
        };
        let fields: Vec<(&str, LwwField, bool)> = losers
            .iter()
            .map(|l| (l.version.agent.as_str(), l.decided_by, l.causally_later))
            .collect();
        assert_eq!(
            fields,
            [
                ("a", LwwField::Timestamp, false),
                ("b", LwwField::Version, false),
                ("v", LwwField::Agent, false),
                ("z", LwwField::Timestamp, false),
            ]
        );
    }

    #[test]
    fn a_counter_names_each_agents_largest_report_and_its_version() {
        let s = state(
            "hits",
            Some(CrdtType::Counter),
            vec![
                version("agent-1", json!(42), 1, None),
                version("agent-2", json!(38), 2, None),
                version("agent-1", json!(50), 3, None),
                version("agent-3", json!(7), 4, None),
                version("agent-3", json!(7), 5, None),
            ],
        );
        let e = explained(s, Strategy::Crdt);
        assert_eq!(e.value, json!(95));
        assert_eq!(e.winner, None);
        let Reasons::Counter { entries } = e.reasons else {
            panic!()
        };
        let rows: Vec<(&str, u64, u64, u64)> = entries
            .iter()
            .map(|x| (x.agent.as_str(), x.value, x.from.version, x.reports))
            .collect();
        assert_eq!(
            rows,
            [
                ("agent-1", 50, 3, 2),
                ("agent-2", 38, 2, 1),
                ("agent-3", 7, 4, 2)
            ]
        );
    }

    #[test]
    fn a_set_names_each_elements_first_contributor() {
        let s = state(
            "tags",
            Some(CrdtType::Set),
            vec![
                version("agent-3", json!(["python", "api"]), 3, None),
                version("agent-1", json!(["python", "fastapi"]), 1, None),
                version("agent-2", json!(["fastapi", "async"]), 2, None),
            ],
        );
        let e = explained(s, Strategy::Crdt);
        let Reasons::Set { elements } = e.reasons else {
            panic!()
        };
        let rows: Vec<(Value, &str)> = elements
            .iter()
            .map(|x| (x.element.clone(), x.from.agent.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                (json!("python"), "agent-1"),
                (json!("fastapi"), "agent-1"),
                (json!("async"), "agent-2"),
                (json!("api"), "agent-3"),
            ]
        );
    }

    #[test]
    fn a_map_names_each_keys_source_and_the_versions_it_won_over() {
        let s = state(
            "config",
            Some(CrdtType::Map),
            vec![
                version(
                    "agent-1",
                    json!({"max_workers": 10, "timeout": 30}),
                    1,
                    Some(0),
                ),
                version(
                    "agent-2",
                    json!({"max_workers": 15, "batch_size": 100}),
                    2,
                    Some(1),
                ),
                version("agent-3", json!({"timeout": 60}), 3, None),
            ],
        );
        let e = explained(s, Strategy::Crdt);
        let Reasons::Map { keys } = e.reasons else {
            panic!()
        };
        let rows: Vec<MapRow> = keys
            .iter()
            .map(|k| {
                (
                    k.key.as_str(),
                    k.value.clone(),
                    k.from.agent.as_str(),
                    k.rule,
                    k.over
                        .iter()
                        .map(|l| (l.version.agent.clone(), l.decided_by))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "timeout",
                    json!(30),
                    "agent-1",
                    KeyRule::Newest,
                    vec![("agent-3".to_string(), LwwField::Timestamp)]
                ),
                (
                    "max_workers",
                    json!(15),
                    "agent-2",
                    KeyRule::Newest,
                    vec![("agent-1".to_string(), LwwField::Timestamp)]
                ),
                (
                    "batch_size",
                    json!(100),
                    "agent-2",
                    KeyRule::OnlyOne,
                    vec![]
                ),
            ]
        );
    }

    #[test]
    fn a_map_of_sets_names_each_keys_elements_first_contributors() {
        let s = state(
            "flags",
            Some(CrdtType::MapOfSets),
            vec![
                version(
                    "agent-1",
                    json!({"auth": ["enabled", "sso"], "api": ["v2"]}),
                    1,
                    Some(0),
                ),
                version("agent-2", json!({"auth": ["enabled", "oauth"]}), 2, Some(1)),
            ],
        );
        let e = explained(s, Strategy::Crdt);
        let Reasons::MapOfSets { keys } = e.reasons else {
            panic!()
        };
        let rows: Vec<SetRow> = keys
            .iter()
            .map(|k| {
                (
                    k.key.as_str(),
                    k.rule,
                    k.elements
                        .iter()
                        .map(|x| (x.element.clone(), x.from.agent.clone()))
                        .collect(),
                )
            })
            .collect();
        let one = |v: &str, a: &str| (json!(v), a.to_string());
        assert_eq!(
            rows,
            [
                (
                    "auth",
                    KeyRule::Union,
                    vec![
                        one("enabled", "agent-1"),
                        one("sso", "agent-1"),
                        one("oauth", "agent-2")
                    ]
                ),
                ("api", KeyRule::OnlyOne, vec![one("v2", "agent-1")]),
            ]
        );
    }

    #[test]
    fn a_register_is_explained_as_last_write_and_unknown_keys_have_none() {
        let s = state(
            "leader",
            Some(CrdtType::Register),
            vec![
                version("a", json!("x"), 1, Some(9)),
                version("b", json!("y"), 5, Some(1)),
            ],
        );
        let e = explained(s.clone(), Strategy::Crdt);
        assert_eq!(e.winner.as_ref().unwrap().agent, "a");
        assert_eq!(e.crdt_type, Some(CrdtType::Register));
        assert!(
            matches!(e.reasons, Reasons::LastWrite { ref losers } if losers[0].decided_by == LwwField::Timestamp)
        );
        assert_eq!(explain(&config(vec![s]), Strategy::Crdt, "nope"), None);
    }

    #[test]
    fn hybrid_explains_each_key_with_its_route() {
        let mut c = config(vec![
            state("counter_x", None, vec![version("a", json!(1), 1, None)]),
            state("causal_y", None, vec![version("a", json!("v"), 1, None)]),
            state("z", None, vec![version("a", json!("v"), 1, None)]),
        ]);
        c.strategy = Some(Strategy::Hybrid);
        let routes: Vec<(Strategy, Option<String>)> = ["counter_x", "causal_y", "z"]
            .iter()
            .map(|k| {
                let e = explain(&c, Strategy::Hybrid, k).unwrap();
                (e.strategy, e.route)
            })
            .collect();
        assert_eq!(
            routes,
            [
                (Strategy::Crdt, Some("counter_".into())),
                (Strategy::Vector, Some("causal_".into())),
                (Strategy::Lww, Some("default".into())),
            ]
        );
        // --strategy overrides the route.
        assert_eq!(explain(&c, Strategy::Lww, "counter_x").unwrap().route, None);
    }
}

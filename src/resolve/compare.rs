//! Every strategy side by side on each key, with the writes each one loses.
//!
//! One rule decides what a result loses. A result **reflects** a part of a
//! version (the whole value, or one key of a map) when that part's
//! contribution is contained in the result:
//!
//! - a picked value (lww, vector, a CRDT register): the result equals it;
//! - a counter: the merged entry of the version's agent is at least its value;
//! - a set: every element of the version is in the result;
//! - a map (LWW-Map), per key: the result's value for the key equals it;
//! - a map of sets, per key: the version's elements are in the result's set
//!   for the key.
//!
//! A part is **lost** when the result reflects neither it nor the same part
//! of a version that causally supersedes it (whose vector clock dominates
//! its clock, `{agent: version}` by default). A lost part whose version
//! dominates a version the result reflects for that part was lost to clock
//! skew: the result kept a causally older write. Like the strategies, these
//! are pure functions returning plain data.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use super::crdt::{self, Element};
use super::vector::{self, Clocks};
use super::{Resolution, Role, lww};
use crate::scenario::{CrdtType, ResolveConfig, State, Strategy};

/// A version, named by its agent and version number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionId {
    /// The agent that wrote it.
    pub agent: String,
    /// Its version number.
    pub version: u64,
}

/// A write a result loses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LostWrite {
    /// The version.
    #[serde(flatten)]
    pub id: VersionId,
    /// Map and map-of-sets results: the keys of the version that are lost
    /// (its other keys are reflected or superseded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
    /// The write causally supersedes one the result reflects instead: it
    /// was lost to timestamps, not to concurrency.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub clock_skew: bool,
}

/// What one strategy makes of one key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrategyResult {
    /// `lww`, `vector`, `crdt` or `hybrid`.
    pub strategy: Strategy,
    /// Hybrid: the route prefix that chose the strategy, or `default`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Hybrid: the strategy the route chose (the row repeats its result).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routed_to: Option<Strategy>,
    /// A CRDT merge: the type merged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crdt_type: Option<CrdtType>,
    /// The resolved value.
    pub value: Value,
    /// The versions the result reflects whole, in file order.
    pub kept: Vec<VersionId>,
    /// The writes the result loses, in file order.
    pub lost: Vec<LostWrite>,
    /// Vector clocks with concurrent versions: the siblings the result
    /// surfaces (its value still picks one), in file order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub siblings: Vec<VersionId>,
}

/// The strategy one key should use, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The strategy.
    pub strategy: Strategy,
    /// `crdt`: the type to merge as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crdt_type: Option<CrdtType>,
    /// Why, in words.
    pub reason: String,
}

/// Every strategy's result on one key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyComparison {
    /// The state key.
    pub key: String,
    /// Whether more than one version is maximal (dominated by no other).
    pub concurrent_versions: bool,
    /// How many versions are maximal.
    pub maximal_versions: u64,
    /// One row per strategy that applies, in [`Strategy::ALL`] order.
    pub strategies: Vec<StrategyResult>,
    /// The strategy the key should use.
    pub recommendation: Recommendation,
}

/// A lost write and the key it was written to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyedLostWrite {
    /// The state key.
    pub key: String,
    /// The write.
    #[serde(flatten)]
    pub write: LostWrite,
}

/// One strategy over every key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrategySummary {
    /// The strategy.
    pub strategy: Strategy,
    /// Keys it resolves (crdt: those whose values fit a CRDT type).
    pub keys_resolved: u64,
    /// Writes it loses over all those keys.
    pub writes_lost: u64,
    /// Which, key by key.
    pub lost: Vec<KeyedLostWrite>,
    /// How many of the keys it resolves have concurrent versions.
    pub keys_with_concurrent_versions: u64,
}

/// Compares every strategy on every state of `config`, which must have
/// passed [`ResolveConfig::validate`] for [`Strategy::Vector`] (every key
/// is resolved by vector clocks here).
pub fn compare(config: &ResolveConfig) -> Vec<KeyComparison> {
    config
        .states
        .iter()
        .map(|state| compare_key(config, state))
        .collect()
}

/// Every strategy's result on one state, with its lost writes.
pub fn compare_key(config: &ResolveConfig, state: &State) -> KeyComparison {
    let clocks = Clocks::of(state);
    let maximal = vector::maximal(&clocks).len() as u64;
    let mut rows = vec![
        row(state, &clocks, &lww::resolve(state)),
        row(state, &clocks, &vector::resolve(state)),
    ];
    if crdt::check(state).is_ok() {
        rows.push(row(state, &clocks, &crdt::resolve(state)));
    }
    let (decider, route) = config.route(&state.key, Strategy::Hybrid);
    if let Some(routed) = rows.iter().find(|r| r.strategy == decider) {
        rows.push(StrategyResult {
            strategy: Strategy::Hybrid,
            route,
            routed_to: Some(decider),
            ..routed.clone()
        });
    }
    let recommendation = recommend(&rows, maximal, state.crdt_type.is_none());
    KeyComparison {
        key: state.key.clone(),
        concurrent_versions: maximal > 1,
        maximal_versions: maximal,
        strategies: rows,
        recommendation,
    }
}

/// Totals per strategy over the keys compared.
pub fn summarize(keys: &[KeyComparison]) -> Vec<StrategySummary> {
    Strategy::ALL
        .iter()
        .map(|&strategy| {
            let mut summary = StrategySummary {
                strategy,
                keys_resolved: 0,
                writes_lost: 0,
                lost: Vec::new(),
                keys_with_concurrent_versions: 0,
            };
            for key in keys {
                let Some(row) = key.strategies.iter().find(|r| r.strategy == strategy) else {
                    continue;
                };
                summary.keys_resolved += 1;
                summary.keys_with_concurrent_versions += u64::from(key.concurrent_versions);
                summary.writes_lost += row.lost.len() as u64;
                summary
                    .lost
                    .extend(row.lost.iter().map(|write| KeyedLostWrite {
                        key: key.key.clone(),
                        write: write.clone(),
                    }));
            }
            summary
        })
        .collect()
}

/// What a result holds, as the writes are tested against it.
enum Holds<'a> {
    /// One version's value, picked.
    Picked(&'a Value),
    /// A G-Counter's entries by agent.
    Counter(HashMap<&'a str, u64>),
    /// A G-Set's elements.
    Set(HashSet<Element<'a>>),
    /// An LWW-Map.
    Map(&'a Value),
    /// A map of sets: each key's elements.
    MapOfSets(HashMap<&'a str, HashSet<Element<'a>>>),
}

impl<'a> Holds<'a> {
    fn of(state: &'a State, resolution: &'a Resolution) -> Self {
        let elements = |value: &'a Value| -> HashSet<Element<'a>> {
            value
                .as_array()
                .into_iter()
                .flatten()
                .map(Element)
                .collect()
        };
        match resolution.metadata.crdt_type {
            None | Some(CrdtType::Register) => Holds::Picked(&resolution.value),
            Some(CrdtType::Counter) => {
                Holds::Counter(crdt::counter_entries(state).expect("checked before merging"))
            }
            Some(CrdtType::Set) => Holds::Set(elements(&resolution.value)),
            Some(CrdtType::Map) => Holds::Map(&resolution.value),
            Some(CrdtType::MapOfSets) => Holds::MapOfSets(
                resolution
                    .value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.as_str(), elements(v)))
                    .collect(),
            ),
        }
    }

    /// Whether the parts of a version are its map keys.
    fn by_key(&self) -> bool {
        matches!(self, Holds::Map(_) | Holds::MapOfSets(_))
    }

    /// The parts of `value`: its keys for a map result, else the whole
    /// value (`None`).
    fn parts<'v>(&self, value: &'v Value) -> Vec<Option<&'v str>> {
        if self.by_key() {
            value
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| Some(k.as_str()))
                .collect()
        } else {
            vec![None]
        }
    }

    /// Whether the result reflects `part` of the version by `agent` holding `value`.
    fn reflects(&self, agent: &str, value: &Value, part: Option<&str>) -> bool {
        let mine = part.and_then(|k| value.get(k));
        match self {
            Holds::Picked(result) => *result == value,
            Holds::Counter(entries) => value
                .as_u64()
                .is_some_and(|x| entries.get(agent).is_some_and(|&e| e >= x)),
            Holds::Set(elements) => value
                .as_array()
                .into_iter()
                .flatten()
                .all(|e| elements.contains(&Element(e))),
            Holds::Map(result) => match (part.and_then(|k| result.get(k)), mine) {
                (Some(theirs), Some(mine)) => theirs == mine,
                _ => false,
            },
            Holds::MapOfSets(keys) => match (part.and_then(|k| keys.get(k)), mine) {
                (Some(elements), Some(mine)) => mine
                    .as_array()
                    .into_iter()
                    .flatten()
                    .all(|e| elements.contains(&Element(e))),
                _ => false,
            },
        }
    }
}

/// One strategy's row: its value, and the versions it keeps and loses.
fn row(state: &State, clocks: &Clocks, resolution: &Resolution) -> StrategyResult {
    let holds = Holds::of(state, resolution);
    let versions = &state.versions;
    let parts: Vec<Vec<Option<&str>>> = versions.iter().map(|v| holds.parts(&v.value)).collect();
    let reflected: Vec<Vec<bool>> = versions
        .iter()
        .zip(&parts)
        .map(|(v, parts)| {
            parts
                .iter()
                .map(|&p| holds.reflects(&v.agent, &v.value, p))
                .collect()
        })
        .collect();
    // For each part, the versions whose same part the result reflects.
    let mut reflecting: HashMap<Option<&str>, Vec<usize>> = HashMap::new();
    for (i, (parts, reflected)) in parts.iter().zip(&reflected).enumerate() {
        for (&part, _) in parts.iter().zip(reflected).filter(|(_, r)| **r) {
            reflecting.entry(part).or_default().push(i);
        }
    }
    // A dominating clock has a larger sum: most pairs are told apart by it.
    let sums: Vec<u128> = (0..versions.len()).map(|i| clocks.sum(i)).collect();
    let dominates = |a: usize, b: usize| sums[a] > sums[b] && clocks.dominates(a, b);
    let mut kept = Vec::new();
    let mut lost = Vec::new();
    for (i, version) in versions.iter().enumerate() {
        let id = VersionId {
            agent: version.agent.clone(),
            version: version.version,
        };
        let mut lost_parts = Vec::new();
        let mut clock_skew = false;
        for (&part, _) in parts[i].iter().zip(&reflected[i]).filter(|(_, r)| !**r) {
            let others = reflecting.get(&part).map_or(&[][..], Vec::as_slice);
            if others.iter().any(|&w| dominates(w, i)) {
                continue; // superseded
            }
            clock_skew |= others.iter().any(|&w| dominates(i, w));
            lost_parts.push(part);
        }
        if reflected[i].iter().all(|&r| r) {
            kept.push(id);
        } else if !lost_parts.is_empty() {
            lost.push(LostWrite {
                id,
                keys: holds
                    .by_key()
                    .then(|| lost_parts.iter().flatten().map(|k| k.to_string()).collect()),
                clock_skew,
            });
        }
    }
    StrategyResult {
        strategy: resolution.strategy,
        route: None,
        routed_to: None,
        crdt_type: resolution.metadata.crdt_type,
        value: resolution.value.clone(),
        kept,
        lost,
        siblings: siblings(resolution),
    }
}

/// The versions a resolution surfaces as concurrent siblings (the winner
/// among them), when it has any.
fn siblings(resolution: &Resolution) -> Vec<VersionId> {
    if !resolution.versions.iter().any(|v| v.role == Role::Sibling) {
        return Vec::new();
    }
    resolution
        .versions
        .iter()
        .filter(|v| matches!(v.role, Role::Winner | Role::Sibling))
        .map(|v| VersionId {
            agent: v.version.agent.clone(),
            version: v.version.version,
        })
        .collect()
}

/// The recommendation rule: lww when it loses no write; else the key's CRDT
/// type when its merge loses none; else vector, which surfaces the
/// concurrent siblings (or orders writes a skewed clock misordered).
/// `inferred`: the key declares no CRDT type, so the reason says its type
/// was inferred from the values.
fn recommend(rows: &[StrategyResult], maximal: u64, inferred: bool) -> Recommendation {
    let find = |s: Strategy| rows.iter().find(|r| r.strategy == s);
    let lww = find(Strategy::Lww).expect("lww applies to every key");
    let agree = rows.iter().all(|r| r.value == lww.value);
    if lww.lost.is_empty() {
        let reason = match (maximal > 1, agree) {
            (false, true) => "no concurrent versions: every strategy agrees",
            (true, true) => "the concurrent versions hold one value: every strategy agrees",
            (_, false) => "lww loses no write",
        };
        return Recommendation {
            strategy: Strategy::Lww,
            crdt_type: None,
            reason: reason.to_string(),
        };
    }
    if let Some(merge) = find(Strategy::Crdt).filter(|r| r.lost.is_empty()) {
        let noun = match merge.crdt_type {
            Some(CrdtType::Counter) => "increment",
            Some(CrdtType::Set | CrdtType::MapOfSets) => "addition",
            Some(CrdtType::Map) => "map write",
            Some(CrdtType::Register) | None => "write",
        };
        let mut reason = losses(lww, noun);
        if let (true, Some(crdt_type)) = (inferred, merge.crdt_type) {
            reason.push_str(&format!("; {} inferred from the values", crdt_type.name()));
        }
        return Recommendation {
            strategy: Strategy::Crdt,
            crdt_type: merge.crdt_type,
            reason,
        };
    }
    let reason = if maximal > 1 {
        format!("{maximal} concurrent siblings: surface them, don't pick")
    } else {
        format!("{}: vector clocks order them", losses(lww, "write"))
    };
    Recommendation {
        strategy: Strategy::Vector,
        crdt_type: None,
        reason,
    }
}

/// `lww loses N concurrent increments`, or `... N writes to clock skew`.
fn losses(lww: &StrategyResult, noun: &str) -> String {
    let n = lww.lost.len();
    let skewed = lww.lost.iter().filter(|w| w.clock_skew).count();
    let plural = if n == 1 { "" } else { "s" };
    match skewed {
        0 => format!("lww loses {n} concurrent {noun}{plural}"),
        s if s == n => format!("lww loses {n} {noun}{plural} to clock skew"),
        s => format!("lww loses {n} {noun}{plural} ({s} to clock skew)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::testing::*;
    use crate::scenario::Version;
    use proptest::prelude::{Just, Strategy as _, prop_assert, prop_assert_eq, proptest};
    use serde_json::json;

    fn clocked(agent: &str, value: Value, second: Option<i64>, clock: &[(&str, u64)]) -> Version {
        with_clock(version(agent, value, 1, second), clock)
    }

    fn config_of(states: Vec<State>) -> ResolveConfig {
        ResolveConfig {
            states,
            ..ResolveConfig::default()
        }
    }

    fn one(state: State) -> KeyComparison {
        let config = config_of(vec![state]);
        config.validate(Strategy::Vector).unwrap();
        compare(&config).remove(0)
    }

    fn row_of(key: &KeyComparison, strategy: Strategy) -> &StrategyResult {
        key.strategies
            .iter()
            .find(|r| r.strategy == strategy)
            .unwrap()
    }

    /// The lost writes of a row as `agent/version` strings.
    fn lost(key: &KeyComparison, strategy: Strategy) -> Vec<String> {
        row_of(key, strategy)
            .lost
            .iter()
            .map(|w| format!("{}/{}", w.id.agent, w.id.version))
            .collect()
    }

    #[test]
    fn a_counter_incremented_by_three_agents_loses_two_under_lww_and_none_merged() {
        let key = one(state(
            "hits",
            Some(CrdtType::Counter),
            vec![
                version("agent-1", json!(42), 1, None),
                version("agent-2", json!(38), 2, None),
                version("agent-3", json!(25), 3, None),
            ],
        ));
        assert!(key.concurrent_versions);
        assert_eq!(key.maximal_versions, 3);
        assert_eq!(lost(&key, Strategy::Lww), ["agent-1/1", "agent-2/2"]);
        assert_eq!(lost(&key, Strategy::Vector), ["agent-1/1", "agent-2/2"]);
        assert!(lost(&key, Strategy::Crdt).is_empty());
        assert_eq!(row_of(&key, Strategy::Crdt).value, json!(105));
        assert_eq!(row_of(&key, Strategy::Crdt).kept.len(), 3);
        // No route matches `hits`: hybrid repeats lww.
        let hybrid = row_of(&key, Strategy::Hybrid);
        assert_eq!(hybrid.route.as_deref(), Some("default"));
        assert_eq!(hybrid.routed_to, Some(Strategy::Lww));
        assert_eq!(lost(&key, Strategy::Hybrid), lost(&key, Strategy::Lww));
        assert_eq!(
            key.recommendation,
            Recommendation {
                strategy: Strategy::Crdt,
                crdt_type: Some(CrdtType::Counter),
                reason: "lww loses 2 concurrent increments".into()
            }
        );
    }

    #[test]
    fn a_causal_chain_loses_nothing_and_every_strategy_agrees() {
        let key = one(state(
            "config",
            None,
            vec![
                version("a", json!("x"), 1, None),
                version("a", json!("y"), 2, None),
                version("a", json!("z"), 3, None),
            ],
        ));
        assert!(!key.concurrent_versions);
        for strategy in Strategy::ALL {
            assert!(lost(&key, strategy).is_empty(), "{strategy:?}");
        }
        assert_eq!(row_of(&key, Strategy::Lww).kept.len(), 1);
        assert_eq!(key.recommendation.strategy, Strategy::Lww);
        assert_eq!(
            key.recommendation.reason,
            "no concurrent versions: every strategy agrees"
        );
    }

    #[test]
    fn three_way_concurrency_loses_two_siblings_under_vector_and_lww() {
        let key = one(three_way_concurrency());
        assert_eq!(key.maximal_versions, 3);
        assert_eq!(lost(&key, Strategy::Vector), ["agent-2/1", "agent-3/1"]);
        assert_eq!(lost(&key, Strategy::Lww), ["agent-2/1", "agent-3/1"]);
        assert_eq!(row_of(&key, Strategy::Vector).kept.len(), 1);
        assert_eq!(key.recommendation.strategy, Strategy::Vector);
        assert_eq!(
            key.recommendation.reason,
            "3 concurrent siblings: surface them, don't pick"
        );
    }

    #[test]
    fn an_lww_map_loses_the_keys_a_concurrent_write_overwrote() {
        let maps = |clock1: &[(&str, u64)], clock2: &[(&str, u64)]| {
            one(state(
                "config",
                Some(CrdtType::Map),
                vec![
                    clocked(
                        "agent-1",
                        json!({"max_workers": 10, "timeout": 30, "retry": 3}),
                        Some(0),
                        clock1,
                    ),
                    clocked(
                        "agent-2",
                        json!({"max_workers": 15, "batch_size": 100}),
                        Some(1),
                        clock2,
                    ),
                    clocked(
                        "agent-3",
                        json!({"timeout": 60, "retry": 5, "queue_size": 1000}),
                        Some(2),
                        &[("agent-3", 1)],
                    ),
                ],
            ))
        };
        // All concurrent: agent-1's three keys were overwritten.
        let key = maps(&[("agent-1", 1)], &[("agent-2", 1)]);
        let merged = row_of(&key, Strategy::Crdt);
        assert_eq!(merged.lost.len(), 1);
        assert_eq!(
            merged.lost[0].keys.as_deref().unwrap(),
            ["max_workers", "timeout", "retry"]
        );
        assert_eq!(merged.kept.len(), 2);
        // agent-2 saw agent-1's write: max_workers was superseded, not lost.
        let key = maps(&[("agent-1", 1)], &[("agent-1", 1), ("agent-2", 1)]);
        let merged = row_of(&key, Strategy::Crdt);
        assert_eq!(
            merged.lost[0].keys.as_deref().unwrap(),
            ["timeout", "retry"]
        );
        // lww keeps agent-3's whole table and loses the other two.
        assert_eq!(lost(&key, Strategy::Lww), ["agent-1/1", "agent-2/1"]);
    }

    #[test]
    fn clock_skew_loses_the_causally_latest_write_under_lww() {
        let key = one(state(
            "doc",
            None,
            vec![
                clocked("old", json!("stale"), Some(50), &[("a", 1)]),
                clocked("new", json!("fresh"), Some(0), &[("a", 1), ("b", 1)]),
            ],
        ));
        assert!(!key.concurrent_versions);
        let lww = row_of(&key, Strategy::Lww);
        assert_eq!(lww.value, json!("stale"));
        assert_eq!(lww.lost.len(), 1);
        assert_eq!(lww.lost[0].id.agent, "new");
        assert!(lww.lost[0].clock_skew);
        assert!(lost(&key, Strategy::Vector).is_empty());
        assert_eq!(key.recommendation.strategy, Strategy::Vector);
        assert_eq!(
            key.recommendation.reason,
            "lww loses 1 write to clock skew: vector clocks order them"
        );
        let json = serde_json::to_value(&lww.lost).unwrap();
        assert_eq!(
            json,
            json!([{"agent": "new", "version": 1, "clock_skew": true}])
        );
    }

    #[test]
    fn sets_and_maps_of_sets_lose_nothing_and_no_crdt_row_without_a_type() {
        let key = one(state(
            "flags",
            Some(CrdtType::MapOfSets),
            vec![
                version("a", json!({"auth": ["sso"], "api": ["v2"]}), 1, Some(0)),
                version("b", json!({"auth": ["oauth"]}), 1, Some(1)),
            ],
        ));
        assert!(lost(&key, Strategy::Crdt).is_empty());
        assert_eq!(lost(&key, Strategy::Lww), ["a/1"]);
        assert_eq!(key.recommendation.crdt_type, Some(CrdtType::MapOfSets));
        assert_eq!(key.recommendation.reason, "lww loses 1 concurrent addition");
        // Negative integers fit no CRDT type: no crdt row, and hybrid
        // routes `counter_` keys to crdt, so no hybrid row either.
        let key = one(state(
            "counter_n",
            None,
            vec![version("a", json!(-1), 1, None)],
        ));
        let names: Vec<Strategy> = key.strategies.iter().map(|r| r.strategy).collect();
        assert_eq!(names, [Strategy::Lww, Strategy::Vector]);
    }

    #[test]
    fn the_summary_counts_each_strategys_lost_writes_and_concurrent_keys() {
        let config = config_of(vec![
            state(
                "hits",
                None,
                vec![
                    version("a", json!(1), 1, None),
                    version("b", json!(2), 1, None),
                ],
            ),
            state("name", None, vec![version("a", json!("x"), 1, None)]),
        ]);
        let summary = summarize(&compare(&config));
        let lww = &summary[0];
        assert_eq!(lww.strategy, Strategy::Lww);
        assert_eq!(
            (
                lww.keys_resolved,
                lww.writes_lost,
                lww.keys_with_concurrent_versions
            ),
            (2, 1, 1)
        );
        assert_eq!(
            serde_json::to_value(&lww.lost).unwrap(),
            json!([{"key": "hits", "agent": "a", "version": 1}])
        );
        assert_eq!(summary[2].writes_lost, 0);
        assert_eq!(summary[2].keys_resolved, 2);
    }

    // -----------------------------------------------------------------------
    // Properties over generated histories
    // -----------------------------------------------------------------------

    const AGENTS: [&str; 3] = ["a", "b", "c"];

    /// Up to 6 versions with distinct dots, each value `json!(i)` (distinct)
    /// unless `value` replaces it, some with timestamps and some with clocks
    /// over three agents.
    fn history(crdt_type: Option<CrdtType>) -> impl proptest::strategy::Strategy<Value = State> {
        let dots: Vec<(usize, u64)> = (0..AGENTS.len())
            .flat_map(|a| (1..4u64).map(move |v| (a, v)))
            .collect();
        proptest::sample::subsequence(dots, 1..=6)
            .prop_flat_map(|dots| {
                let n = dots.len();
                (
                    Just(dots),
                    proptest::collection::vec(proptest::option::of(0i64..3), n),
                    proptest::collection::vec(
                        proptest::option::of(proptest::collection::vec(0u64..3, 3)),
                        n,
                    ),
                    proptest::collection::vec(proptest::collection::vec(0u64..6, 0..3), n),
                )
            })
            .prop_map(move |(dots, seconds, clocks, items)| {
                let versions = dots
                    .iter()
                    .enumerate()
                    .map(|(i, &(a, number))| {
                        let value = match crdt_type {
                            Some(CrdtType::Counter) => json!(items[i].iter().sum::<u64>()),
                            Some(CrdtType::Set) => json!(items[i]),
                            Some(CrdtType::MapOfSets) => json!({
                                AGENTS[i % 3]: items[i],
                                "shared": items[i].iter().rev().collect::<Vec<_>>()
                            }),
                            _ => json!(i),
                        };
                        let mut v = version(AGENTS[a], value, number, seconds[i]);
                        if let Some(counts) = &clocks[i] {
                            v.vector_clock = Some(
                                AGENTS
                                    .iter()
                                    .zip(counts)
                                    .map(|(a, c)| (a.to_string(), *c))
                                    .collect(),
                            );
                        }
                        v
                    })
                    .collect();
                state("k", crdt_type, versions)
            })
    }

    proptest! {
        #[test]
        fn counter_set_and_map_of_sets_merges_lose_nothing(
            counter in history(Some(CrdtType::Counter)),
            set in history(Some(CrdtType::Set)),
            map_of_sets in history(Some(CrdtType::MapOfSets)),
        ) {
            for s in [counter, set, map_of_sets] {
                let key = one(s);
                prop_assert!(row_of(&key, Strategy::Crdt).lost.is_empty());
            }
        }

        #[test]
        fn vector_loses_nothing_exactly_when_one_version_dominates_all(s in history(None)) {
            let clocks = Clocks::of(&s);
            let n = s.versions.len();
            let dominator = (0..n).find(|&i| (0..n).all(|j| j == i || clocks.dominates(i, j)));
            let key = one(s.clone());
            prop_assert_eq!(row_of(&key, Strategy::Vector).lost.is_empty(), dominator.is_some());
            // lww loses nothing when the dominating version is also the last write.
            if dominator == Some(lww::winner(&s.versions)) {
                prop_assert!(row_of(&key, Strategy::Lww).lost.is_empty());
            }
            // ... and loses at least one write whenever two versions are
            // maximal (their values differ here: two concurrent writes of
            // one value are both reflected by either).
            if key.maximal_versions >= 2 {
                prop_assert!(!row_of(&key, Strategy::Lww).lost.is_empty());
            }
        }
    }
}

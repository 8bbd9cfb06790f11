//! CRDT merges: instead of picking one version, merge them all by data type.
//!
//! Every merge is deterministic and independent of the order of versions in
//! the file: versions are read oldest first by the last-write-wins order, and
//! "first appearance" means first in that reading.
//!
//! - `counter` (G-Counter): each agent's entry is the largest value it
//!   reported; the value is the sum of the entries;
//! - `set` (G-Set): the union of the arrays;
//! - `map` (LWW-Map): each key takes its value from the latest version that has it;
//! - `register`: the last write;
//! - `map-of-sets`: each key's value is the union of that key's arrays.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Resolution, ResolutionMetadata, Role, lww, ranked};
use crate::scenario::{CrdtType, State, Strategy, Version};

/// The agent a merged result is attributed to.
pub const COORDINATOR: &str = "coordinator";

impl CrdtType {
    /// The type values suggest: integers a counter, arrays a set, tables a
    /// map, anything else (or a mix) a register.
    pub fn infer<'a>(values: impl IntoIterator<Item = &'a Value>) -> Self {
        let mut kinds = values.into_iter().map(|v| match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => CrdtType::Counter,
            Value::Array(_) => CrdtType::Set,
            Value::Object(_) => CrdtType::Map,
            _ => CrdtType::Register,
        });
        let first = kinds.next().unwrap_or(CrdtType::Register);
        if kinds.all(|k| k == first) {
            first
        } else {
            CrdtType::Register
        }
    }
}

/// Where one key of a merged map took its value from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeySource {
    /// The key.
    pub key: String,
    /// `map`: the agent whose version won the key; `map-of-sets`: every
    /// agent whose set was united into it, oldest first.
    pub agents: Vec<String>,
    /// How the key was decided.
    pub rule: KeyRule,
}

/// How one key of a merged map was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyRule {
    /// `map`: several versions had the key and the newest won.
    Newest,
    /// Only one version had the key.
    OnlyOne,
    /// `map-of-sets`: several versions had the key and their sets were united.
    Union,
}

impl KeyRule {
    /// The words used in tables.
    pub fn name(self) -> &'static str {
        match self {
            KeyRule::Newest => "newest",
            KeyRule::OnlyOne => "only one",
            KeyRule::Union => "union",
        }
    }
}

/// The type a state merges as: declared, or inferred from its values.
pub fn effective_type(state: &State) -> CrdtType {
    state
        .crdt_type
        .unwrap_or_else(|| CrdtType::infer(state.versions.iter().map(|v| &v.value)))
}

/// Checks that every value fits the state's type. On failure, returns the
/// index of the first version that does not fit and why.
pub fn check(state: &State) -> Result<(), (usize, String)> {
    let crdt_type = effective_type(state);
    let fits = |value: &Value| match crdt_type {
        CrdtType::Counter => value.as_u64().is_some(),
        CrdtType::Set => value.is_array(),
        CrdtType::Map => value.is_object(),
        CrdtType::MapOfSets => value
            .as_object()
            .is_some_and(|m| m.values().all(Value::is_array)),
        CrdtType::Register => true,
    };
    if let Some(i) = state.versions.iter().position(|v| !fits(&v.value)) {
        let value = &state.versions[i].value;
        let wanted = match crdt_type {
            CrdtType::Counter => "whole numbers >= 0",
            CrdtType::Set => "arrays",
            CrdtType::Map => "tables",
            CrdtType::MapOfSets => "tables whose values are arrays",
            CrdtType::Register => unreachable!("a register takes any value"),
        };
        return Err((
            i,
            format!(
                "a {} takes {wanted}, got {value}; {}",
                crdt_type.name(),
                suggestion(crdt_type, value)
            ),
        ));
    }
    if crdt_type == CrdtType::Counter && counter_sum(state).is_none() {
        return Err((
            0,
            "the counter's sum is larger than 18446744073709551615".to_string(),
        ));
    }
    Ok(())
}

/// The type that fits `value`, which does not fit `crdt_type`.
fn suggestion(crdt_type: CrdtType, value: &Value) -> &'static str {
    match value {
        Value::Number(n) if n.is_i64() && crdt_type == CrdtType::Counter => {
            "a counter only grows: for values that can go down use crdt_type = \"register\""
        }
        Value::Number(n) if n.is_u64() => "for whole numbers use crdt_type = \"counter\"",
        Value::Array(_) => "for arrays use crdt_type = \"set\"",
        Value::Object(m) if m.values().all(Value::is_array) => {
            "for tables of arrays use crdt_type = \"map-of-sets\" or \"map\""
        }
        Value::Object(_) => "for tables use crdt_type = \"map\"",
        _ => "for single values use crdt_type = \"register\"",
    }
}

/// Merges all versions of `state`. The state must have passed [`check`].
pub fn resolve(state: &State) -> Resolution {
    let crdt_type = effective_type(state);
    let versions = &state.versions;
    let (value, key_sources) = match crdt_type {
        CrdtType::Counter => (Value::from(counter_sum(state).expect("checked")), None),
        CrdtType::Set => (
            Value::Array(union(versions.iter().map(|v| (v.as_ref(), &v.value)))),
            None,
        ),
        CrdtType::Map => {
            let (map, sources) = lww_map(versions);
            (Value::Object(map), Some(sources))
        }
        CrdtType::Register => (versions[lww::winner(versions)].value.clone(), None),
        CrdtType::MapOfSets => {
            let (map, sources) = map_of_sets(versions);
            (Value::Object(map), Some(sources))
        }
    };
    let mut agents: HashMap<&str, LwwKey<'_>> = HashMap::new();
    for v in versions {
        let key = v.lww_key();
        agents
            .entry(v.agent.as_str())
            .and_modify(|k| *k = (*k).min(key))
            .or_insert(key);
    }
    let merged_from_agents = in_order(
        agents
            .into_iter()
            .map(|(agent, key)| (key, agent.to_string())),
    );
    let newest = versions
        .iter()
        .map(|v| v.version)
        .max()
        .expect("at least one version");
    Resolution {
        key: state.key.clone(),
        strategy: Strategy::Crdt,
        value,
        agent: COORDINATOR.to_string(),
        version: newest.saturating_add(1),
        metadata: ResolutionMetadata {
            resolution_strategy: "crdt",
            crdt_type: Some(crdt_type),
            merged_from_agents: Some(merged_from_agents),
            key_sources,
            ..ResolutionMetadata::default()
        },
        versions: ranked(state, |_| Role::Merged),
    }
}

/// A version's place in the last-write-wins order.
type LwwKey<'a> = (Option<jiff::Timestamp>, u64, &'a str);

/// Where something first appears when versions are read oldest first: the
/// version's place in the last-write-wins order, then the position inside it.
/// Merges find it in one pass instead of sorting every version.
type Appearance<'a> = (LwwKey<'a>, usize);

/// The items sorted by where they first appear.
fn in_order<K: Ord, T>(items: impl Iterator<Item = (K, T)>) -> Vec<T> {
    let mut items: Vec<(K, T)> = items.collect();
    items.sort_by(|a, b| a.0.cmp(&b.0));
    items.into_iter().map(|(_, item)| item).collect()
}

/// Keeps the earlier of two appearances.
fn earliest<'a>(entry: &mut Appearance<'a>, at: Appearance<'a>) {
    if at < *entry {
        *entry = at;
    }
}

/// G-Counter entries: each agent's largest value; `None` when a value is
/// not a whole number >= 0.
pub fn counter_entries(state: &State) -> Option<HashMap<&str, u64>> {
    let mut entries: HashMap<&str, u64> = HashMap::new();
    for v in &state.versions {
        let value = v.value.as_u64()?;
        let entry = entries.entry(v.agent.as_str()).or_insert(0);
        *entry = (*entry).max(value);
    }
    Some(entries)
}

/// G-Counter: the sum over agents of each agent's largest value; `None` on overflow.
fn counter_sum(state: &State) -> Option<u64> {
    counter_entries(state)?
        .values()
        .try_fold(0u64, |sum, &x| sum.checked_add(x))
}

/// The union of the arrays, each element where it first appears.
fn union<'a>(arrays: impl Iterator<Item = (&'a Version, &'a Value)>) -> Vec<Value> {
    union_sources(arrays)
        .into_iter()
        .map(|(item, _)| item.clone())
        .collect()
}

/// The union of the arrays, each element where it first appears (when
/// versions are read oldest first), with the version it first appears in.
pub fn union_sources<'a>(
    arrays: impl Iterator<Item = (&'a Version, &'a Value)>,
) -> Vec<(&'a Value, &'a Version)> {
    // Equal elements may be spelled differently (table keys in another
    // order): the one that appears first is kept.
    type First<'a> = (Appearance<'a>, &'a Value, &'a Version);
    let mut first: HashMap<Element<'a>, First<'a>> = HashMap::new();
    for (version, array) in arrays {
        let key = version.lww_key();
        for (position, item) in array.as_array().into_iter().flatten().enumerate() {
            let at = (key, position);
            first
                .entry(Element(item))
                .and_modify(|(seen, spelling, source)| {
                    if at < *seen {
                        (*seen, *spelling, *source) = (at, item, version);
                    }
                })
                .or_insert((at, item, version));
        }
    }
    in_order(
        first
            .into_values()
            .map(|(at, item, version)| (at, (item, version))),
    )
}

/// LWW-Map: each key takes its value from the latest version that has it,
/// and stands where it first appears; with, for each key, who won it.
fn lww_map(versions: &[Arc<Version>]) -> (Map<String, Value>, Vec<KeySource>) {
    /// A key: where it first appears, its latest version, how many have it.
    type Entry<'a> = (Appearance<'a>, &'a Version, &'a Value, usize);
    let mut keys: HashMap<&str, Entry<'_>> = HashMap::new();
    for version in versions {
        let key = version.lww_key();
        for (position, (name, value)) in version.value.as_object().into_iter().flatten().enumerate()
        {
            let at = (key, position);
            keys.entry(name.as_str())
                .and_modify(|(first, latest, held, count)| {
                    earliest(first, at);
                    if key > latest.lww_key() {
                        (*latest, *held) = (version, value);
                    }
                    *count += 1;
                })
                .or_insert((at, version, value, 1));
        }
    }
    in_order(
        keys.into_iter()
            .map(|(name, (at, latest, value, count))| (at, (name, latest, value, count))),
    )
    .into_iter()
    .map(|(name, latest, value, count)| {
        let source = KeySource {
            key: name.to_string(),
            agents: vec![latest.agent.clone()],
            rule: if count > 1 {
                KeyRule::Newest
            } else {
                KeyRule::OnlyOne
            },
        };
        ((name.to_string(), value.clone()), source)
    })
    .unzip()
}

/// Arrays to unite, each with the version it came from.
type Arrays<'a> = Vec<(&'a Version, &'a Value)>;

/// Map of G-Sets: each key's arrays united; each key where it first appears;
/// with, for each key, the agents whose sets were united.
fn map_of_sets(versions: &[Arc<Version>]) -> (Map<String, Value>, Vec<KeySource>) {
    let mut keys: HashMap<&str, (Appearance<'_>, Arrays<'_>)> = HashMap::new();
    for version in versions {
        let key = version.lww_key();
        for (position, (name, value)) in version.value.as_object().into_iter().flatten().enumerate()
        {
            let at = (key, position);
            let entry = keys
                .entry(name.as_str())
                .or_insert_with(|| (at, Vec::new()));
            earliest(&mut entry.0, at);
            entry.1.push((version.as_ref(), value));
        }
    }
    in_order(
        keys.into_iter()
            .map(|(name, (at, arrays))| (at, (name, arrays))),
    )
    .into_iter()
    .map(|(name, mut arrays)| {
        arrays.sort_by(|a, b| a.0.lww_key().cmp(&b.0.lww_key()));
        let mut seen = std::collections::HashSet::new();
        let agents: Vec<String> = arrays
            .iter()
            .filter(|(version, _)| seen.insert(version.agent.as_str()))
            .map(|(version, _)| version.agent.clone())
            .collect();
        let rule = if arrays.len() > 1 {
            KeyRule::Union
        } else {
            KeyRule::OnlyOne
        };
        let value = Value::Array(union(arrays.into_iter()));
        (
            (name.to_string(), value),
            KeySource {
                key: name.to_string(),
                agents,
                rule,
            },
        )
    })
    .unzip()
}

/// A JSON value as a set element: equal when the values are equal (tables
/// whatever their key order), hashed without being spelled out.
pub(crate) struct Element<'a>(pub(crate) &'a Value);

impl PartialEq for Element<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Element<'_> {}

impl Hash for Element<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_value(self.0, state);
    }
}

fn hash_value<H: Hasher>(value: &Value, state: &mut H) {
    match value {
        Value::Null => 0u8.hash(state),
        Value::Bool(b) => (1u8, b).hash(state),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => (2u8, u).hash(state),
            (None, Some(i)) => (3u8, i).hash(state),
            _ => (4u8, n.as_f64().map(f64::to_bits)).hash(state),
        },
        Value::String(s) => (5u8, s).hash(state),
        Value::Array(items) => {
            (6u8, items.len()).hash(state);
            for item in items {
                hash_value(item, state);
            }
        }
        Value::Object(map) => {
            // Key order does not matter to equality, so entries are hashed
            // apart and combined with an order-free sum.
            let sum = map.iter().fold(0u64, |sum, (key, item)| {
                let mut entry = std::hash::DefaultHasher::new();
                key.hash(&mut entry);
                hash_value(item, &mut entry);
                sum.wrapping_add(entry.finish())
            });
            (7u8, map.len(), sum).hash(state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::testing::*;
    use serde_json::json;

    fn distinct(value: &Value) -> usize {
        let items = value.as_array().unwrap();
        items
            .iter()
            .map(Element)
            .collect::<std::collections::HashSet<_>>()
            .len()
    }

    #[test]
    fn set_elements_are_equal_whatever_the_key_order() {
        use std::hash::BuildHasher;
        let (a, b) = (
            json!({"x": 1, "y": [2, {"z": 3}]}),
            json!({"y": [2, {"z": 3}], "x": 1}),
        );
        let hasher = std::hash::RandomState::new();
        assert!(Element(&a) == Element(&b));
        assert_eq!(hasher.hash_one(Element(&a)), hasher.hash_one(Element(&b)));
        assert!(Element(&json!(1)) != Element(&json!(1.0)));
        assert!(Element(&json!([1, 2])) != Element(&json!([2, 1])));
    }

    fn counter(values: &[(&str, u64)]) -> State {
        let versions = values
            .iter()
            .enumerate()
            .map(|(i, (agent, v))| version(agent, json!(v), i as u64 + 1, None))
            .collect();
        state("task_count", Some(CrdtType::Counter), versions)
    }

    #[test]
    fn g_counter_sums_example_three() {
        let r = resolve(&counter(&[
            ("agent-1", 42),
            ("agent-2", 38),
            ("agent-3", 25),
        ]));
        assert_eq!(r.value, json!(105));
        assert_eq!(r.agent, COORDINATOR);
        assert_eq!(r.version, 4);
        assert_eq!(r.metadata.resolution_strategy, "crdt");
        assert_eq!(r.metadata.crdt_type, Some(CrdtType::Counter));
        assert_eq!(
            r.metadata.merged_from_agents.as_ref().unwrap(),
            &["agent-1", "agent-2", "agent-3"]
        );
        assert!(r.versions.iter().all(|v| v.role == Role::Merged));
    }

    #[test]
    fn g_counter_counts_an_agent_once_with_its_largest_value() {
        let r = resolve(&counter(&[
            ("agent-1", 42),
            ("agent-1", 50),
            ("agent-2", 38),
        ]));
        assert_eq!(r.value, json!(88));
        // Merging a version twice changes nothing (idempotence).
        let r = resolve(&counter(&[
            ("agent-1", 42),
            ("agent-1", 42),
            ("agent-2", 38),
        ]));
        assert_eq!(r.value, json!(80));
    }

    #[test]
    fn g_set_is_the_union_in_first_appearance_order() {
        let s = state(
            "tags",
            Some(CrdtType::Set),
            vec![
                version("agent-1", json!(["python", "fastapi"]), 1, None),
                version("agent-2", json!(["fastapi", "async"]), 2, None),
                version("agent-3", json!(["python", "api"]), 3, None),
            ],
        );
        assert_eq!(
            resolve(&s).value,
            json!(["python", "fastapi", "async", "api"])
        );
    }

    #[test]
    fn lww_map_takes_each_key_from_its_latest_writer() {
        let s = state(
            "config",
            Some(CrdtType::Map),
            vec![
                version(
                    "agent-1",
                    json!({"max_workers": 10, "timeout": 30, "retry": 3}),
                    1,
                    Some(0),
                ),
                version(
                    "agent-2",
                    json!({"max_workers": 15, "batch_size": 100}),
                    2,
                    Some(1),
                ),
                version(
                    "agent-3",
                    json!({"timeout": 60, "retry": 5, "queue_size": 1000}),
                    3,
                    Some(2),
                ),
            ],
        );
        let r = resolve(&s);
        assert_eq!(
            serde_json::to_string(&r.value).unwrap(),
            r#"{"max_workers":15,"timeout":60,"retry":5,"batch_size":100,"queue_size":1000}"#
        );
        let sources: Vec<(&str, Vec<String>, KeyRule)> = r
            .metadata
            .key_sources
            .iter()
            .flatten()
            .map(|k| (k.key.as_str(), k.agents.clone(), k.rule))
            .collect();
        let one = |a: &str| vec![a.to_string()];
        assert_eq!(
            sources,
            [
                ("max_workers", one("agent-2"), KeyRule::Newest),
                ("timeout", one("agent-3"), KeyRule::Newest),
                ("retry", one("agent-3"), KeyRule::Newest),
                ("batch_size", one("agent-2"), KeyRule::OnlyOne),
                ("queue_size", one("agent-3"), KeyRule::OnlyOne),
            ]
        );
    }

    #[test]
    fn map_of_sets_unites_each_key_and_keeps_keys_only_one_side_has() {
        let s = state(
            "feature_flags",
            Some(CrdtType::MapOfSets),
            vec![
                version(
                    "agent-1",
                    json!({"auth": ["enabled", "sso", "mfa"], "api": ["v2", "graphql"]}),
                    1,
                    Some(0),
                ),
                version(
                    "agent-2",
                    json!({"auth": ["enabled", "oauth"], "cache": ["redis", "memcached"]}),
                    2,
                    Some(1),
                ),
            ],
        );
        let r = resolve(&s);
        assert_eq!(
            r.value,
            json!({
                "auth": ["enabled", "sso", "mfa", "oauth"],
                "api": ["v2", "graphql"],
                "cache": ["redis", "memcached"]
            })
        );
        assert_eq!(
            serde_json::to_value(&r.metadata.key_sources).unwrap(),
            json!([
                {"key": "auth", "agents": ["agent-1", "agent-2"], "rule": "union"},
                {"key": "api", "agents": ["agent-1"], "rule": "only_one"},
                {"key": "cache", "agents": ["agent-2"], "rule": "only_one"}
            ])
        );
        // Other types carry no per-key sources.
        assert_eq!(resolve(&counter(&[("a", 1)])).metadata.key_sources, None);
    }

    #[test]
    fn register_is_last_write_wins() {
        let s = state(
            "leader",
            Some(CrdtType::Register),
            vec![
                version("a", json!("x"), 1, Some(9)),
                version("b", json!("y"), 5, Some(1)),
            ],
        );
        assert_eq!(resolve(&s).value, json!("x"));
    }

    #[test]
    fn merges_do_not_depend_on_version_order() {
        let states = [
            counter(&[("a", 4), ("b", 7), ("a", 9), ("c", 1)]),
            state(
                "s",
                Some(CrdtType::Set),
                vec![
                    version("a", json!([1, 2]), 1, Some(3)),
                    version("b", json!([2, 3]), 2, None),
                    version("c", json!([{"x": 1, "y": 2}]), 3, Some(1)),
                    version("d", json!([{"y": 2, "x": 1}, 4]), 4, Some(2)),
                ],
            ),
            state(
                "m",
                Some(CrdtType::MapOfSets),
                vec![
                    version("a", json!({"k": [1], "j": [2]}), 1, Some(5)),
                    version("b", json!({"k": [3]}), 2, Some(1)),
                    version("c", json!({"z": [1, 1]}), 3, None),
                    version("b", json!({"k": [4], "z": [2]}), 4, Some(0)),
                ],
            ),
            state(
                "map",
                Some(CrdtType::Map),
                vec![
                    version("a", json!({"k": 1, "j": 2}), 1, Some(5)),
                    version("b", json!({"k": 3}), 2, Some(1)),
                ],
            ),
        ];
        for s in &states {
            let expected = resolve(s);
            for reordered in reorderings(s) {
                let r = resolve(&reordered);
                assert_eq!(
                    serde_json::to_string(&r.value).unwrap(),
                    serde_json::to_string(&expected.value).unwrap()
                );
                assert_eq!(r.metadata, expected.metadata);
            }
        }
        // Tables equal up to key order are one set element.
        assert_eq!(distinct(&resolve(&states[1]).value), 5);
    }

    #[test]
    fn types_are_inferred_from_values() {
        assert_eq!(CrdtType::infer(&[json!(1), json!(2)]), CrdtType::Counter);
        assert_eq!(CrdtType::infer(&[json!([1]), json!([])]), CrdtType::Set);
        assert_eq!(CrdtType::infer(&[json!({"a": 1})]), CrdtType::Map);
        assert_eq!(CrdtType::infer(&[json!("x")]), CrdtType::Register);
        assert_eq!(CrdtType::infer(&[json!(1), json!([1])]), CrdtType::Register);
        assert_eq!(CrdtType::infer(&[json!(1.5)]), CrdtType::Register);
    }

    #[test]
    fn check_rejects_values_that_do_not_fit_and_suggests_a_type() {
        let err = check(&counter(&[("a", 1)]).clone()).map(|_| ());
        assert!(err.is_ok());
        let mut negative = counter(&[("a", 1), ("b", 2)]);
        Arc::make_mut(&mut negative.versions[1]).value = json!(-2);
        let (i, message) = check(&negative).unwrap_err();
        assert_eq!(i, 1);
        assert!(message.contains("register"), "{message}");
        let mut float = counter(&[("a", 1)]);
        Arc::make_mut(&mut float.versions[0]).value = json!(1.5);
        assert!(check(&float).unwrap_err().1.contains("whole numbers"));
        let not_array = state(
            "s",
            Some(CrdtType::Set),
            vec![version("a", json!("x"), 0, None)],
        );
        assert!(
            check(&not_array)
                .unwrap_err()
                .1
                .contains("a set takes arrays")
        );
        let not_sets = state(
            "m",
            Some(CrdtType::MapOfSets),
            vec![version("a", json!({"k": 1}), 0, None)],
        );
        assert!(check(&not_sets).is_err());
        let overflow = counter(&[("a", u64::MAX), ("b", 1)]);
        assert!(check(&overflow).unwrap_err().1.contains("larger than"));
    }
}

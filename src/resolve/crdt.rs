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

use std::collections::HashSet;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Resolution, ResolutionMetadata, Role, State, Strategy, Version, lww, ranked};

/// The agent a merged result is attributed to.
pub const COORDINATOR: &str = "coordinator";

/// The data type a CRDT merge treats values as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CrdtType {
    /// Grow-only counter of whole numbers >= 0.
    Counter,
    /// Grow-only set of array elements.
    Set,
    /// Last-write-wins map of tables.
    Map,
    /// Last-write-wins single value.
    Register,
    /// Map whose values are grow-only sets.
    MapOfSets,
}

impl CrdtType {
    /// The name used in scenario files and output.
    pub fn name(self) -> &'static str {
        match self {
            CrdtType::Counter => "counter",
            CrdtType::Set => "set",
            CrdtType::Map => "map",
            CrdtType::Register => "register",
            CrdtType::MapOfSets => "map-of-sets",
        }
    }

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
                suggestion(value)
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

fn suggestion(value: &Value) -> &'static str {
    match value {
        Value::Number(n) if n.is_i64() => {
            "a counter only grows: for values that can go down use crdt_type = \"register\""
        }
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
    let oldest_first = oldest_first(&state.versions);
    let value = match crdt_type {
        CrdtType::Counter => Value::from(counter_sum(state).expect("checked")),
        CrdtType::Set => Value::Array(union(oldest_first.iter().map(|v| &v.value))),
        CrdtType::Map => Value::Object(lww_map(&oldest_first)),
        CrdtType::Register => state.versions[lww::winner(&state.versions)].value.clone(),
        CrdtType::MapOfSets => Value::Object(map_of_sets(&oldest_first)),
    };
    let mut merged_from_agents: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for v in &oldest_first {
        if seen.insert(v.agent.as_str()) {
            merged_from_agents.push(v.agent.clone());
        }
    }
    let newest = state
        .versions
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
            ..ResolutionMetadata::default()
        },
        versions: ranked(state, |_| Role::Merged),
    }
}

/// The versions sorted by the last-write-wins order, oldest first.
fn oldest_first(versions: &[Version]) -> Vec<&Version> {
    let mut sorted: Vec<&Version> = versions.iter().collect();
    sorted.sort_by(|a, b| a.lww_key().cmp(&b.lww_key()));
    sorted
}

/// G-Counter: the sum over agents of each agent's largest value; `None` on overflow.
fn counter_sum(state: &State) -> Option<u64> {
    let mut entries: IndexMap<&str, u64> = IndexMap::new();
    for v in &state.versions {
        let value = v.value.as_u64()?;
        let entry = entries.entry(v.agent.as_str()).or_insert(0);
        *entry = (*entry).max(value);
    }
    entries
        .values()
        .try_fold(0u64, |sum, &x| sum.checked_add(x))
}

/// The union of arrays, elements in first-appearance order.
fn union<'a>(arrays: impl Iterator<Item = &'a Value>) -> Vec<Value> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for element in arrays.filter_map(Value::as_array).flatten() {
        if seen.insert(canonical(element)) {
            out.push(element.clone());
        }
    }
    out
}

/// LWW-Map: reading oldest first, later writes overwrite a key's value but
/// the key keeps its first position.
fn lww_map(oldest_first: &[&Version]) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in oldest_first
        .iter()
        .filter_map(|v| v.value.as_object())
        .flatten()
    {
        out.insert(key.clone(), value.clone());
    }
    out
}

/// Map of G-Sets: each key's arrays united.
fn map_of_sets(oldest_first: &[&Version]) -> Map<String, Value> {
    let mut keys: IndexMap<&str, Vec<&Value>> = IndexMap::new();
    for (key, value) in oldest_first
        .iter()
        .filter_map(|v| v.value.as_object())
        .flatten()
    {
        keys.entry(key.as_str()).or_default().push(value);
    }
    keys.into_iter()
        .map(|(key, arrays)| (key.to_string(), Value::Array(union(arrays.into_iter()))))
        .collect()
}

/// A text form equal for equal values, whatever the order of table keys.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, String)> =
                map.iter().map(|(k, v)| (k, canonical(v))).collect();
            entries.sort();
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::testing::*;
    use serde_json::json;

    fn as_set(value: &Value) -> Vec<String> {
        let mut items: Vec<String> = value.as_array().unwrap().iter().map(canonical).collect();
        items.sort();
        items
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
        let value = resolve(&s).value;
        assert_eq!(
            serde_json::to_string(&value).unwrap(),
            r#"{"max_workers":15,"timeout":60,"retry":5,"batch_size":100,"queue_size":1000}"#
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
        let value = resolve(&s).value;
        assert_eq!(
            value,
            json!({
                "auth": ["enabled", "sso", "mfa", "oauth"],
                "api": ["v2", "graphql"],
                "cache": ["redis", "memcached"]
            })
        );
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
        assert_eq!(as_set(&resolve(&states[1]).value).len(), 5);
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
        negative.versions[1].value = json!(-2);
        let (i, message) = check(&negative).unwrap_err();
        assert_eq!(i, 1);
        assert!(message.contains("register"), "{message}");
        let mut float = counter(&[("a", 1)]);
        float.versions[0].value = json!(1.5);
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

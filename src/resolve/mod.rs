//! Conflict resolution: several agents hold different versions of one state
//! key, and a strategy picks or merges the value that stands.
//!
//! - [`lww`]: last-write-wins by (timestamp, version, agent);
//! - [`vector`]: vector-clock causality, last-write-wins among concurrent versions;
//! - [`crdt`]: merges by data type (G-Counter, G-Set, LWW-Map, register, map of sets);
//! - hybrid: each key routed to one of the above by prefix.
//!
//! [`compare`] resolves every key under every strategy side by side and
//! counts the writes each loses.
//!
//! Like the consensus algorithms, these are pure functions returning plain data.

pub mod compare;
pub mod crdt;
pub mod explain;
pub mod lww;
pub mod vector;

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::error::InvalidSetting;
use crate::scenario::{CrdtType, ResolveConfig, State, Strategy, Version, default_routes};

impl Version {
    /// The last-write-wins order: timestamp (a version without one is older
    /// than any with one), then version number, then agent id.
    pub fn lww_key(&self) -> (Option<jiff::Timestamp>, u64, &str) {
        (self.timestamp, self.version, &self.agent)
    }
}

impl ResolveConfig {
    /// The strategy that decides `key` under `strategy`, and for hybrid the
    /// route that chose it (a prefix, or `default`).
    pub fn route(&self, key: &str, strategy: Strategy) -> (Strategy, Option<String>) {
        if strategy != Strategy::Hybrid {
            return (strategy, None);
        }
        let defaults;
        let routes = if self.routes.is_empty() {
            defaults = default_routes();
            &defaults
        } else {
            &self.routes
        };
        match routes.iter().find(|r| key.starts_with(&r.prefix)) {
            Some(route) => (route.strategy, Some(route.prefix.clone())),
            None => (
                self.default_strategy.unwrap_or(Strategy::Lww),
                Some("default".to_string()),
            ),
        }
    }

    /// Checks that every state can be resolved under `strategy`: there is at
    /// least one state, states resolved by vector clocks have at most
    /// [`vector::MAX_VERSIONS`] versions and at most
    /// [`vector::MAX_CLOCK_WORK`] versions × clock entries, and values fit the CRDT type
    /// wherever one is declared or a CRDT merge will run.
    pub fn validate(&self, strategy: Strategy) -> Result<(), InvalidSetting> {
        if self.states.is_empty() {
            return Err(InvalidSetting {
                key: "states".to_string(),
                flag: None,
                message: "the scenario has no states to resolve: add [[states]]".to_string(),
            });
        }
        for (i, state) in self.states.iter().enumerate() {
            let (decider, _) = self.route(&state.key, strategy);
            if decider == Strategy::Vector && state.versions.len() > vector::MAX_VERSIONS {
                return Err(InvalidSetting {
                    key: format!("states[{i}].versions"),
                    flag: None,
                    message: format!(
                        "state '{}' has {} versions; vector-clock resolution compares \
                         versions pairwise and takes at most {}",
                        state.key,
                        state.versions.len(),
                        vector::MAX_VERSIONS
                    ),
                });
            }
            if decider == Strategy::Vector {
                let entries = vector::clock_entries(state);
                let work = u128::from(entries) * state.versions.len() as u128;
                if work > u128::from(vector::MAX_CLOCK_WORK) {
                    return Err(InvalidSetting {
                        key: format!("states[{i}].versions"),
                        flag: None,
                        message: format!(
                            "state '{}' has {} versions with {entries} vector clock entries in \
                             all; vector-clock resolution compares each version's clock with \
                             the others', and versions × clock entries ({work}) is more than \
                             the limit of {}",
                            state.key,
                            state.versions.len(),
                            vector::MAX_CLOCK_WORK
                        ),
                    });
                }
            }
            if decider == Strategy::Crdt || state.crdt_type.is_some() {
                crdt::check(state).map_err(|(j, message)| InvalidSetting {
                    key: format!("states[{i}].versions[{j}].value"),
                    flag: None,
                    message: format!("state '{}': {message}", state.key),
                })?;
            }
        }
        Ok(())
    }
}

/// What a version became in a resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Its value stands.
    Winner,
    /// Concurrent with the winner, not dominated, lost the last-write-wins pick.
    Sibling,
    /// Causally before another version.
    Dominated,
    /// Lost to a later write.
    Discarded,
    /// Folded into a CRDT merge.
    Merged,
}

impl Role {
    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Role::Winner => "winner",
            Role::Sibling => "sibling",
            Role::Dominated => "dominated",
            Role::Discarded => "discarded",
            Role::Merged => "merged",
        }
    }
}

/// A competing version and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankedVersion {
    /// The version.
    #[serde(flatten)]
    pub version: Arc<Version>,
    /// What became of it.
    pub role: Role,
}

/// How a resolution was reached.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ResolutionMetadata {
    /// `lww`, `vector_causal`, `vector_concurrent_lww` or `crdt`.
    pub resolution_strategy: &'static str,
    /// lww: how many versions lost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discarded_versions: Option<u64>,
    /// vector: agents of the maximal (non-dominated) versions, winner first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub siblings: Option<Vec<String>>,
    /// crdt: the type merged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crdt_type: Option<CrdtType>,
    /// crdt: the agents whose versions were merged, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_from_agents: Option<Vec<String>>,
    /// crdt `map` and `map-of-sets`: for each key of the merged value, in
    /// its order, the agents its value came from and how.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_sources: Option<Vec<crdt::KeySource>>,
    /// hybrid: the route prefix that chose the strategy, or `default`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
}

/// The value that stands for one key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolution {
    /// The key.
    pub key: String,
    /// The strategy that decided it.
    pub strategy: Strategy,
    /// The resolved value.
    pub value: Value,
    /// The winning agent, or `coordinator` for a CRDT merge.
    pub agent: String,
    /// The winning version number, or the highest plus one for a merge.
    pub version: u64,
    /// How it was decided.
    pub metadata: ResolutionMetadata,
    /// The competing versions in file order, with their roles.
    pub versions: Vec<RankedVersion>,
}

/// Resolves every state under `strategy`. `config` must have passed
/// [`ResolveConfig::validate`] for the same strategy.
pub fn resolve(config: &ResolveConfig, strategy: Strategy) -> Vec<Resolution> {
    config
        .states
        .iter()
        .map(|state| resolve_state(config, state, strategy))
        .collect()
}

/// Resolves one of `config`'s states under `strategy`, with the strategy
/// its route chooses.
pub fn resolve_state(config: &ResolveConfig, state: &State, strategy: Strategy) -> Resolution {
    let (decider, route) = config.route(&state.key, strategy);
    let mut resolution = match decider {
        Strategy::Vector => vector::resolve(state),
        Strategy::Crdt => crdt::resolve(state),
        Strategy::Lww | Strategy::Hybrid => lww::resolve(state),
    };
    resolution.metadata.route = route;
    resolution
}

/// A resolution that keeps one version's value.
fn pick(
    state: &State,
    winner: usize,
    decider: Strategy,
    metadata: ResolutionMetadata,
    role_of: impl Fn(usize) -> Role,
) -> Resolution {
    let won = &state.versions[winner];
    Resolution {
        key: state.key.clone(),
        strategy: decider,
        value: won.value.clone(),
        agent: won.agent.clone(),
        version: won.version,
        metadata,
        versions: ranked(state, |i| {
            if i == winner {
                Role::Winner
            } else {
                role_of(i)
            }
        }),
    }
}

/// The versions of `state` with the role `role_of` gives each.
fn ranked(state: &State, role_of: impl Fn(usize) -> Role) -> Vec<RankedVersion> {
    state
        .versions
        .iter()
        .enumerate()
        .map(|(i, version)| RankedVersion {
            version: version.clone(),
            role: role_of(i),
        })
        .collect()
}

/// Test helpers shared by the strategy modules.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A version written at second `second` of 2025-01-01 10:00 UTC (or with
    /// no timestamp when `second` is `None`).
    pub fn version(agent: &str, value: Value, version: u64, second: Option<i64>) -> Version {
        Version {
            agent: agent.to_string(),
            value,
            version,
            timestamp: second.map(|s| jiff::Timestamp::from_second(1_735_725_600 + s).unwrap()),
            vector_clock: None,
        }
    }

    /// `version` with this vector clock.
    pub fn with_clock(mut version: Version, clock: &[(&str, u64)]) -> Version {
        version.vector_clock = Some(clock.iter().map(|(a, c)| (a.to_string(), *c)).collect());
        version
    }

    /// Example 4's three concurrent writes of `config`: "Config A" by
    /// agent-1 (the latest, second 2), "Config B" by agent-2 and "Config C"
    /// by agent-3, each ahead on its own clock entry, all version 1.
    pub fn three_way_concurrency() -> State {
        let write = |agent, value, second, clock: &[(&str, u64)]| {
            with_clock(version(agent, Value::from(value), 1, Some(second)), clock)
        };
        state(
            "config",
            None,
            vec![
                write(
                    "agent-1",
                    "Config A",
                    2,
                    &[("agent-1", 5), ("agent-2", 2), ("agent-3", 1)],
                ),
                write(
                    "agent-2",
                    "Config B",
                    1,
                    &[("agent-1", 2), ("agent-2", 6), ("agent-3", 1)],
                ),
                write(
                    "agent-3",
                    "Config C",
                    0,
                    &[("agent-1", 1), ("agent-2", 2), ("agent-3", 5)],
                ),
            ],
        )
    }

    /// A state with the given versions.
    pub fn state(key: &str, crdt_type: Option<CrdtType>, versions: Vec<Version>) -> State {
        State {
            key: key.to_string(),
            crdt_type,
            versions: versions.into_iter().map(Arc::new).collect(),
        }
    }

    /// The same state with its versions in every rotation, reversed, and
    /// in 20 seeded shuffles.
    pub fn reorderings(state: &State) -> Vec<State> {
        use rand::seq::SliceRandom;
        let n = state.versions.len();
        let mut out = Vec::new();
        for shift in 0..n {
            let mut s = state.clone();
            s.versions.rotate_left(shift);
            out.push(s.clone());
            s.versions.reverse();
            out.push(s);
        }
        let mut rng = crate::rng::generator(17);
        for _ in 0..20 {
            let mut s = state.clone();
            s.versions.shuffle(&mut rng);
            out.push(s);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::scenario::Route;
    use serde_json::json;

    #[test]
    fn lww_order_puts_missing_timestamps_first_then_version_then_agent() {
        let untimed_high = version("z", json!(1), 99, None);
        let timed_low = version("a", json!(2), 0, Some(0));
        assert!(timed_low.lww_key() > untimed_high.lww_key());
        let v1 = version("a", json!(1), 1, Some(5));
        let v2 = version("a", json!(1), 2, Some(5));
        assert!(v2.lww_key() > v1.lww_key());
        let b = version("b", json!(1), 2, Some(5));
        assert!(b.lww_key() > v2.lww_key());
    }

    #[test]
    fn hybrid_routes_by_first_matching_prefix_then_default() {
        let config = ResolveConfig::default();
        assert_eq!(
            config.route("counter_tasks", Strategy::Hybrid).0,
            Strategy::Crdt
        );
        assert_eq!(
            config.route("causal_doc", Strategy::Hybrid).0,
            Strategy::Vector
        );
        assert_eq!(
            config.route("max_workers", Strategy::Hybrid),
            (Strategy::Lww, Some("default".to_string()))
        );
        assert_eq!(
            config.route("counter_tasks", Strategy::Lww),
            (Strategy::Lww, None)
        );
        let config = ResolveConfig {
            routes: vec![
                Route {
                    prefix: "a".into(),
                    strategy: Strategy::Vector,
                },
                Route {
                    prefix: "ab".into(),
                    strategy: Strategy::Crdt,
                },
            ],
            default_strategy: Some(Strategy::Crdt),
            ..ResolveConfig::default()
        };
        assert_eq!(config.route("abc", Strategy::Hybrid).0, Strategy::Vector);
        assert_eq!(
            config.route("counter_x", Strategy::Hybrid).0,
            Strategy::Crdt
        );
    }

    #[test]
    fn hybrid_example_five_gives_80_b_and_15() {
        let mut causal_a = version("agent-1", json!("A"), 1, None);
        causal_a.vector_clock = Some([("agent-1", 5), ("agent-2", 3)].into());
        let mut causal_b = version("agent-2", json!("B"), 2, None);
        causal_b.vector_clock = Some([("agent-1", 6), ("agent-2", 4)].into());
        let config = ResolveConfig {
            strategy: Some(Strategy::Hybrid),
            states: vec![
                state(
                    "counter_tasks",
                    Some(CrdtType::Counter),
                    vec![
                        version("agent-1", json!(42), 1, None),
                        version("agent-2", json!(38), 2, None),
                    ],
                ),
                state("causal_document", None, vec![causal_a, causal_b]),
                state(
                    "max_workers",
                    None,
                    vec![
                        version("agent-1", json!(10), 1, Some(0)),
                        version("agent-2", json!(15), 2, Some(1)),
                    ],
                ),
            ],
            ..ResolveConfig::default()
        };
        config.validate(Strategy::Hybrid).unwrap();
        let out = resolve(&config, Strategy::Hybrid);
        assert_eq!(out[0].value, json!(80));
        assert_eq!(out[0].strategy, Strategy::Crdt);
        assert_eq!(out[0].metadata.route.as_deref(), Some("counter_"));
        assert_eq!(out[1].value, json!("B"));
        assert_eq!(out[1].metadata.resolution_strategy, "vector_causal");
        assert_eq!(out[2].value, json!(15));
        assert_eq!(out[2].metadata.resolution_strategy, "lww");
        assert_eq!(out[2].metadata.route.as_deref(), Some("default"));
    }

    #[test]
    fn validation_checks_values_where_a_crdt_merge_runs() {
        let bad = state(
            "tags",
            Some(CrdtType::Set),
            vec![version("a", json!("x"), 0, None)],
        );
        let config = ResolveConfig {
            states: vec![bad],
            ..ResolveConfig::default()
        };
        let err = config.validate(Strategy::Lww).unwrap_err();
        assert_eq!(err.key, "states[0].versions[0].value");
        // An inferred type is only checked when a merge runs.
        let negative = state("n", None, vec![version("a", json!(-3), 0, None)]);
        let config = ResolveConfig {
            states: vec![negative],
            ..ResolveConfig::default()
        };
        assert!(config.validate(Strategy::Lww).is_ok());
        assert!(config.validate(Strategy::Crdt).is_err());
        let empty = ResolveConfig::default();
        assert_eq!(empty.validate(Strategy::Lww).unwrap_err().key, "states");
    }
}

//! The `resolve` part of a scenario: the states to resolve, each agent's
//! version of them, the strategy and hybrid routes. Plain data; the
//! strategies in `crate::resolve` read it.

use std::sync::Arc;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use super::VectorClock;

/// How conflicting versions are resolved.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Last write wins.
    Lww,
    /// Vector-clock causality, last write wins among concurrent versions.
    Vector,
    /// Merge by CRDT type.
    Crdt,
    /// Route each key to a strategy by its prefix.
    Hybrid,
}

impl Strategy {
    /// Every strategy, in the order `moai resolve --compare` lists them.
    pub const ALL: [Strategy; 4] = [
        Strategy::Lww,
        Strategy::Vector,
        Strategy::Crdt,
        Strategy::Hybrid,
    ];

    /// The name used in scenario files and output.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Lww => "lww",
            Strategy::Vector => "vector",
            Strategy::Crdt => "crdt",
            Strategy::Hybrid => "hybrid",
        }
    }
}

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
}

/// One agent's version of a state key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Version {
    /// The agent holding this version.
    pub agent: String,
    /// The value it holds.
    pub value: Value,
    /// Its version number.
    pub version: u64,
    /// When it was written, if known.
    #[serde(serialize_with = "rfc3339")]
    pub timestamp: Option<jiff::Timestamp>,
    /// Its vector clock, if given (agent -> counter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_clock: Option<VectorClock>,
}

fn rfc3339<S: Serializer>(timestamp: &Option<jiff::Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match timestamp {
        Some(t) => s.collect_str(t),
        None => s.serialize_none(),
    }
}

/// A state key and its competing versions.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The key.
    pub key: String,
    /// The declared CRDT type, if any.
    pub crdt_type: Option<CrdtType>,
    /// The competing versions, at least one. Shared, so a resolution lists
    /// them without copying a million values.
    pub versions: Vec<Arc<Version>>,
}

/// A hybrid route: keys starting with `prefix` use `strategy`.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Key prefix.
    pub prefix: String,
    /// Strategy for matching keys (never hybrid).
    pub strategy: Strategy,
}

/// Everything a resolve scenario says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResolveConfig {
    /// The file's `strategy`, if given.
    pub strategy: Option<Strategy>,
    /// The states to resolve, in file order.
    pub states: Vec<State>,
    /// Hybrid routes in file order; empty means the default routes.
    pub routes: Vec<Route>,
    /// Hybrid strategy for keys no route matches.
    pub default_strategy: Option<Strategy>,
}

/// The routes hybrid uses when a scenario gives none (the design note's
/// Example 5).
pub fn default_routes() -> Vec<Route> {
    vec![
        Route {
            prefix: "counter_".to_string(),
            strategy: Strategy::Crdt,
        },
        Route {
            prefix: "causal_".to_string(),
            strategy: Strategy::Vector,
        },
    ]
}

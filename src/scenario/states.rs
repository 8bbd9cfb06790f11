//! The `resolve` part of the file format: `strategy`, `[[states]]` with their
//! versions, and hybrid `[[routes]]`, checked into a [`ResolveConfig`].

use std::collections::HashMap;

use indexmap::IndexMap;
use serde::Deserialize;

use super::clock::ClockInterner;
use super::{CrdtType, Document, KeyPath, ResolveConfig, Route, State, Strategy, Version};
use crate::error::Error;

/// One `[[states]]` entry: a key of shared state and its versions.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StateSpec {
    /// Unique state key.
    key: String,
    /// The data type a CRDT merge treats the values as (default: inferred
    /// from the values: all integers a counter, all arrays a set, all tables
    /// a map, anything else a register).
    crdt_type: Option<CrdtType>,
    /// The agents' versions of this key, at least one.
    #[schemars(length(min = 1))]
    versions: Vec<VersionSpec>,
}

/// One agent's version of a state key; an agent and a version number
/// identify it.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct VersionSpec {
    /// The agent that wrote this version, not blank.
    #[schemars(pattern(r"\S"))]
    agent: String,
    /// The value: any TOML value but nan and inf.
    #[schemars(with = "serde_json::Value")]
    value: super::Json<true>,
    /// Version number, for last-write-wins order after the timestamp.
    #[serde(default)]
    version: u64,
    /// When it was written: an RFC 3339 string or a TOML datetime with a UTC
    /// offset. A version without one is older than any with one.
    #[schemars(with = "Option<super::schema::Timestamp>")]
    timestamp: Option<toml::Value>,
    /// Vector clock: agent ids to counters (default: `{agent = version}`;
    /// missing entries count as 0).
    vector_clock: Option<IndexMap<String, u64>>,
}

/// One hybrid `[[routes]]` entry.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RouteSpec {
    /// Keys starting with this prefix take this route.
    prefix: String,
    /// The strategy for those keys (not hybrid).
    strategy: Strategy,
}

/// Checks the resolve sections of a scenario.
pub(super) fn build(
    doc: &Document,
    strategy: Option<Strategy>,
    states: Vec<StateSpec>,
    routes: Vec<RouteSpec>,
    default_strategy: Option<Strategy>,
) -> Result<ResolveConfig, Error> {
    let at = |key: String, message: String| doc.error_at_key(&KeyPath::parse(&key), message);
    if default_strategy == Some(Strategy::Hybrid) {
        return Err(at(
            "default_strategy".into(),
            "default_strategy cannot be hybrid".into(),
        ));
    }
    for (i, route) in routes.iter().enumerate() {
        if route.strategy == Strategy::Hybrid {
            return Err(at(
                format!("routes[{i}].strategy"),
                "a route cannot lead to hybrid".into(),
            ));
        }
    }
    let mut keys: HashMap<&str, usize> = HashMap::new();
    for (i, spec) in states.iter().enumerate() {
        if let Some(first) = keys.insert(spec.key.as_str(), i) {
            return Err(at(
                format!("states[{i}].key"),
                format!(
                    "duplicate state key '{}' (first at states[{first}])",
                    spec.key
                ),
            ));
        }
        if spec.versions.is_empty() {
            return Err(at(
                format!("states[{i}].versions"),
                format!("state '{}' has no versions", spec.key),
            ));
        }
    }
    let mut clocks = ClockInterner::default();
    let states = states
        .into_iter()
        .enumerate()
        .map(|(i, spec)| build_state(doc, i, spec, &mut clocks))
        .collect::<Result<_, _>>()?;
    clocks.finish();
    let routes = routes
        .into_iter()
        .map(|r| Route {
            prefix: r.prefix,
            strategy: r.strategy,
        })
        .collect();
    Ok(ResolveConfig {
        strategy,
        states,
        routes,
        default_strategy,
    })
}

fn build_state(
    doc: &Document,
    i: usize,
    spec: StateSpec,
    clocks: &mut ClockInterner,
) -> Result<State, Error> {
    let key = spec.key;
    let mut versions: Vec<Version> = Vec::with_capacity(spec.versions.len());
    // Agent and version number identify a version, as a dot does in CRDTs:
    // the first entry of each, and its place in `versions`.
    let mut dots: HashMap<(String, u64), (usize, usize)> = HashMap::new();
    for (j, v) in spec.versions.into_iter().enumerate() {
        let path = |field: &str| KeyPath::parse(&format!("states[{i}].versions[{j}].{field}"));
        if v.agent.trim().is_empty() {
            return Err(doc.error_at_key(&path("agent"), "an agent id cannot be empty"));
        }
        let timestamp = match &v.timestamp {
            None => None,
            Some(t) => Some(parse_timestamp(t).map_err(|m| {
                doc.error_at_key(&path("timestamp"), format!("state '{key}': {m}"))
            })?),
        };
        let version = Version {
            agent: v.agent,
            value: v.value.0,
            version: v.version,
            timestamp,
            vector_clock: v
                .vector_clock
                .map(|c| clocks.clock(c.iter().map(|(a, &n)| (a.as_str(), n)))),
        };
        match dots.get(&(version.agent.clone(), version.version)) {
            // The same version delivered twice is one version.
            Some(&(first, at)) => match differs(&versions[at], &version) {
                None => continue,
                Some(what) => {
                    return Err(doc.error_at_key(
                        &KeyPath::parse(&format!("states[{i}].versions[{j}]")),
                        format!(
                            "state '{key}': agent '{}' version {} appears twice with different {what} (versions[{first}] and versions[{j}]); agent and version identify a version",
                            version.agent, version.version
                        ),
                    ));
                }
            },
            None => {
                dots.insert(
                    (version.agent.clone(), version.version),
                    (j, versions.len()),
                );
            }
        }
        versions.push(version);
    }
    Ok(State {
        key,
        crdt_type: spec.crdt_type,
        versions: versions.into_iter().map(std::sync::Arc::new).collect(),
    })
}

/// What differs between two versions with the same agent and version
/// number, if anything: their values, timestamps or vector clocks (a clock
/// entry of 0 is the same as none, and no clock is `{agent = version}`).
fn differs(a: &Version, b: &Version) -> Option<&'static str> {
    let clock = |v: &Version| -> Vec<(String, u64)> {
        let mut entries: Vec<(String, u64)> = match &v.vector_clock {
            Some(clock) => clock.iter().map(|(a, c)| (a.to_string(), c)).collect(),
            None => vec![(v.agent.clone(), v.version)],
        };
        entries.retain(|&(_, c)| c > 0);
        entries.sort_unstable();
        entries
    };
    if a.value != b.value {
        Some("values")
    } else if a.timestamp != b.timestamp {
        Some("timestamps")
    } else if clock(a) != clock(b) {
        Some("vector clocks")
    } else {
        None
    }
}

/// An RFC 3339 timestamp from a string or a TOML offset datetime.
fn parse_timestamp(value: &toml::Value) -> Result<jiff::Timestamp, String> {
    let text = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) if d.offset.is_some() && d.date.is_some() && d.time.is_some() => {
            d.to_string()
        }
        toml::Value::Datetime(d) => {
            return Err(format!(
                "timestamp {d} needs a date, a time and a UTC offset (such as 2025-01-01T10:00:00Z)"
            ));
        }
        other => {
            return Err(format!(
                "timestamp must be an RFC 3339 string or a TOML datetime, got {}",
                serde_json::to_string(other).unwrap_or_default()
            ));
        }
    };
    text.parse::<jiff::Timestamp>().map_err(|e| {
        // Well-formed RFC 3339 that jiff cannot hold is out of its range.
        let well_formed = text
            .parse::<toml::value::Datetime>()
            .is_ok_and(|d| d.date.is_some() && d.time.is_some() && d.offset.is_some());
        if well_formed {
            format!(
                "timestamp '{text}' is out of range: moai takes timestamps from {} to {}",
                jiff::Timestamp::MIN,
                jiff::Timestamp::MAX
            )
        } else {
            format!("timestamp '{text}' is not RFC 3339 (such as 2025-01-01T10:00:00Z): {e}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_accept_rfc3339_strings_and_toml_datetimes() {
        let s = parse_timestamp(&toml::Value::String("2025-01-01T11:00:00+01:00".into())).unwrap();
        let d: toml::value::Datetime = "2025-01-01T10:00:00Z".parse().unwrap();
        assert_eq!(parse_timestamp(&toml::Value::Datetime(d)).unwrap(), s);
        let local: toml::value::Datetime = "2025-01-01T10:00:00".parse().unwrap();
        assert!(
            parse_timestamp(&toml::Value::Datetime(local))
                .unwrap_err()
                .contains("UTC offset")
        );
        assert!(parse_timestamp(&toml::Value::String("yesterday".into())).is_err());
        assert!(parse_timestamp(&toml::Value::Integer(3)).is_err());
    }
}

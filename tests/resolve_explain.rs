//! `moai resolve FILE --explain KEY`: why the value that stands for one key
//! won, on the bundled Examples 3-5 and hand-made histories, as table lines
//! and as JSON; a key the file lacks is refused in one line.

use std::path::PathBuf;

use serde_json::{Value, json};

#[path = "support/run.rs"]
mod run;
use run::{json_of, moai, stdout_of};

/// Writes a scenario into the test's scratch folder and returns its path.
fn scenario_file(name: &str, text: &str) -> String {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// The `Why:` lines of a table explanation, without their indent.
fn why(args: &[&str]) -> Vec<String> {
    let out = stdout_of(args);
    let (_, lines) = out.split_once("Why:\n").expect("a Why: section");
    lines.lines().map(|l| l[2..].to_string()).collect()
}

/// The `explanation` of a JSON explanation.
fn explanation(args: &[&str]) -> Value {
    json_of(args)["explanation"].clone()
}

/// A resolve scenario of one state `doc`, with the given versions.
fn history(name: &str, strategy: &str, versions: &str) -> String {
    scenario_file(
        name,
        &format!(
            "algorithm = \"resolve\"\nstrategy = \"{strategy}\"\n\n[[states]]\nkey = \"doc\"\nversions = [\n{versions}]\n"
        ),
    )
}

#[test]
fn example_four_causal_dominance_names_the_dominator_and_smaller_entries() {
    let out = stdout_of(&[
        "resolve",
        "scenarios/vector-clocks.toml",
        "--explain",
        "document",
    ]);
    assert_eq!(
        out,
        "=== Explanation: document (vector) ===\n\
         Scenario: vector-clocks\n\
         Description: Vector clocks: causal dominance, two-way and three-way concurrency\n\
         Resolved: Version B (agent-2 v2, vector_causal)\n\
         Why:\n  \
         agent-1 v1 is dominated by agent-2 v2: agent-1's 5 < 6, agent-2's 3 < 4\n"
    );
}

#[test]
fn example_four_three_way_concurrency_names_conflicting_entries_then_the_last_write() {
    assert_eq!(
        why(&[
            "resolve",
            "scenarios/vector-clocks.toml",
            "--explain",
            "config"
        ]),
        [
            "agent-2 v2 is concurrent with agent-1 v1: agent-1 v1 is ahead on agent-1 (5 > 2), \
             agent-2 v2 on agent-2 (6 > 2); last write wins: timestamp 2025-01-01T10:00:02Z > \
             2025-01-01T10:00:01Z",
            "agent-3 v3 is concurrent with agent-1 v1: agent-1 v1 is ahead on agent-1 (5 > 1), \
             agent-3 v3 on agent-3 (5 > 1); last write wins: timestamp 2025-01-01T10:00:02Z > \
             2025-01-01T10:00:00Z",
        ]
    );
    let e = explanation(&[
        "resolve",
        "scenarios/vector-clocks.toml",
        "--explain",
        "config",
    ]);
    assert_eq!(e["resolution_strategy"], "vector_concurrent_lww");
    assert_eq!(e["value"], "Config A");
    assert_eq!(e["dominated"], json!([]));
    assert_eq!(
        e["concurrent"][0],
        json!({
            "version": {"agent": "agent-2", "version": 2, "timestamp": "2025-01-01T10:00:01Z"},
            "winner_ahead": [{"agent": "agent-1", "lower": 2, "higher": 5}],
            "sibling_ahead": [{"agent": "agent-2", "lower": 2, "higher": 6}],
            "decided_by": "timestamp"
        })
    );
}

#[test]
fn example_three_names_the_sources_of_each_merge() {
    let args = |key| ["resolve", "scenarios/crdt-patterns.toml", "--explain", key];
    assert_eq!(
        why(&args("task_count")),
        [
            "agent-1's entry: 42, from agent-1 v1",
            "agent-2's entry: 38, from agent-2 v2",
            "agent-3's entry: 25, from agent-3 v3",
            "sum: 42 + 38 + 25 = 105",
        ]
    );
    assert_eq!(
        why(&args("tags")),
        [
            "python: first added by agent-1 v1",
            "fastapi: first added by agent-1 v1",
            "async: first added by agent-2 v2",
            "api: first added by agent-3 v3",
        ]
    );
    let config = why(&args("config"));
    assert_eq!(
        config[0],
        "max_workers = 15 from agent-2 v2, newest: over agent-1 v1 (timestamp \
         2025-01-01T10:00:01Z > 2025-01-01T10:00:00Z)"
    );
    assert_eq!(config[3], "batch_size = 100 from agent-2 v2, only one");
    assert_eq!(why(&args("feature_flags"))[5], "api (only one):");
    let e = explanation(&args("task_count"));
    assert_eq!(e["crdt_type"], "counter");
    assert_eq!(e["winner"], Value::Null);
    assert_eq!(
        e["entries"][0],
        json!({"agent": "agent-1", "value": 42, "from": {"agent": "agent-1", "version": 1, "timestamp": null}, "reports": 1})
    );
    let e = explanation(&args("tags"));
    assert_eq!(e["elements"][2]["element"], "async");
    assert_eq!(e["elements"][2]["from"]["agent"], "agent-2");
    let e = explanation(&args("config"));
    assert_eq!(e["keys"][0]["key"], "max_workers");
    assert_eq!(e["keys"][0]["rule"], "newest");
    assert_eq!(e["keys"][0]["from"]["agent"], "agent-2");
    assert_eq!(e["keys"][0]["over"][0]["decided_by"], "timestamp");
    assert_eq!(e["keys"][0]["over"][0]["causally_later"], false);
    let e = explanation(&args("feature_flags"));
    assert_eq!(e["keys"][0]["rule"], "union");
    assert_eq!(
        e["keys"][0]["elements"][3],
        json!({"element": "oauth", "from": {"agent": "agent-2", "version": 2, "timestamp": "2025-01-01T10:00:01Z"}})
    );
}

#[test]
fn example_five_explains_each_key_under_its_route() {
    let args = |key| ["resolve", "scenarios/hybrid.toml", "--explain", key];
    let out = stdout_of(&args("max_workers"));
    assert!(out.contains("Route: default → lww\n"), "{out}");
    assert!(
        out.ends_with(
            "Why:\n  agent-2 v2 beats agent-1 v1: timestamp 2025-01-01T10:00:01Z > 2025-01-01T10:00:00Z\n"
        ),
        "{out}"
    );
    let doc = json_of(&args("causal_document"));
    assert_eq!(doc["strategy"], "hybrid");
    assert_eq!(doc["algorithm"], "resolve");
    let e = &doc["explanation"];
    let fields: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        [
            "key",
            "strategy",
            "route",
            "resolution_strategy",
            "value",
            "winner",
            "dominated",
            "concurrent"
        ]
    );
    assert_eq!(e["strategy"], "vector");
    assert_eq!(e["route"], "causal_");
    assert_eq!(
        e["dominated"],
        json!([{
            "version": {"agent": "agent-1", "version": 1, "timestamp": null},
            "by": {"agent": "agent-2", "version": 2, "timestamp": null},
            "behind": [
                {"agent": "agent-1", "lower": 5, "higher": 6},
                {"agent": "agent-2", "lower": 3, "higher": 4}
            ],
            "equal": [],
            "later_by": null
        }])
    );
    let e = explanation(&args("counter_tasks"));
    assert_eq!(
        (&e["strategy"], &e["route"], &e["value"]),
        (&json!("crdt"), &json!("counter_"), &json!(80))
    );
    // --strategy overrides the route, as for a resolve.
    let e = explanation(&[
        "resolve",
        "scenarios/hybrid.toml",
        "--explain",
        "counter_tasks",
        "--strategy",
        "lww",
    ]);
    assert_eq!(e["strategy"], "lww");
    assert_eq!(e.get("route"), None);
    assert_eq!(e["value"], 38);
    assert_eq!(e["losers"][0]["decided_by"], "version");
}

#[test]
fn a_causal_chain_names_each_dominated_version() {
    let file = history(
        "explain-chain.toml",
        "vector",
        r#"  { agent = "a", value = "first", version = 1, vector_clock = { a = 1 } },
  { agent = "a", value = "second", version = 2, vector_clock = { a = 2, c = 4 } },
  { agent = "b", value = "third", version = 1, vector_clock = { a = 2, b = 1, c = 4 } },
"#,
    );
    assert_eq!(
        why(&["resolve", &file, "--explain", "doc"]),
        [
            "a v1 is dominated by b v1: a's 1 < 2, b's 0 < 1, c's 0 < 4",
            "a v2 is dominated by b v1: b's 0 < 1; equal on a, c; last-write-wins would put it \
             later (no timestamp on either; version 2 > 1), but causality decides: it is older",
        ]
    );
}

#[test]
fn clock_skew_loses_by_causality_under_vector_and_wins_by_timestamp_under_lww() {
    let file = history(
        "explain-skew.toml",
        "vector",
        r#"  { agent = "old", value = "stale", version = 1, timestamp = 2025-01-01T10:00:50Z, vector_clock = { a = 1, b = 1 } },
  { agent = "new", value = "fresh", version = 1, timestamp = 2025-01-01T10:00:00Z, vector_clock = { a = 2, b = 1 } },
"#,
    );
    assert_eq!(
        why(&["resolve", &file, "--explain", "doc"]),
        [
            "old v1 is dominated by new v1: a's 1 < 2; equal on b; last-write-wins would put it \
             later (timestamp 2025-01-01T10:00:50Z > 2025-01-01T10:00:00Z), but causality \
             decides: it is older"
        ]
    );
    let e = explanation(&["resolve", &file, "--explain", "doc"]);
    assert_eq!(e["dominated"][0]["later_by"], "timestamp");
    let lww = ["resolve", &file, "--explain", "doc", "--strategy", "lww"];
    assert_eq!(
        why(&lww),
        [
            "old v1 beats new v1: timestamp 2025-01-01T10:00:50Z > 2025-01-01T10:00:00Z; yet new \
          v1's clock dominates old v1's: it is causally later, and last-write-wins does not read \
          clocks (clock skew)"
        ]
    );
    let e = explanation(&lww);
    assert_eq!(e["value"], "stale");
    assert_eq!(
        e["losers"],
        json!([{
            "version": {"agent": "new", "version": 1, "timestamp": "2025-01-01T10:00:00Z"},
            "decided_by": "timestamp",
            "causally_later": true
        }])
    );
}

#[test]
fn lww_says_whether_timestamp_version_or_agent_decided() {
    let file = history(
        "explain-lww.toml",
        "lww",
        r#"  { agent = "b", value = 1, version = 2 },
  { agent = "a", value = 2, version = 1 },
  { agent = "a", value = 3, version = 2 },
"#,
    );
    assert_eq!(
        why(&["resolve", &file, "--explain", "doc"]),
        [
            "b v2 beats a v1: no timestamp on either; version 2 > 1",
            "b v2 beats a v2: no timestamp on either, same version 2; agent b > a",
        ]
    );
    let timed = history(
        "explain-lww-timed.toml",
        "lww",
        r#"  { agent = "b", value = 1, version = 2, timestamp = 2025-01-01T10:00:00Z },
  { agent = "a", value = 2, version = 1, timestamp = 2025-01-01T10:00:00Z },
  { agent = "c", value = 3, version = 9 },
"#,
    );
    let e = explanation(&["resolve", &timed, "--explain", "doc"]);
    let fields: Vec<&Value> = e["losers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["decided_by"])
        .collect();
    assert_eq!(fields, [&json!("version"), &json!("timestamp")]);
    assert_eq!(
        why(&["resolve", &timed, "--explain", "doc"]),
        [
            "b v2 beats a v1: same timestamp 2025-01-01T10:00:00Z; version 2 > 1",
            "b v2 beats c v9: timestamp 2025-01-01T10:00:00Z > none",
        ]
    );
}

#[test]
fn a_counter_reported_twice_names_its_largest_report() {
    let file = history(
        "explain-counter.toml",
        "crdt",
        r#"  { agent = "agent-1", value = 42, version = 1 },
  { agent = "agent-2", value = 38, version = 2 },
  { agent = "agent-1", value = 50, version = 3 },
"#,
    );
    assert_eq!(
        why(&["resolve", &file, "--explain", "doc"]),
        [
            "agent-1's entry: 50, from agent-1 v3 (largest of 2 reports)",
            "agent-2's entry: 38, from agent-2 v2",
            "sum: 50 + 38 = 88",
        ]
    );
}

#[test]
fn an_unknown_key_is_refused_in_one_line_naming_it_and_the_keys() {
    let out = moai()
        .args(["resolve", "scenarios/hybrid.toml", "--explain", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "moai: --explain: 'scenarios/hybrid.toml' has no state with key 'nope'; its keys are \
         'counter_tasks', 'causal_document', 'max_workers'\n"
    );
    let many: String = (0..12)
        .map(|i| format!("[[states]]\nkey = \"k{i}\"\nversions = [{{ agent = \"a\", value = 1, version = 1 }}]\n"))
        .collect();
    let file = scenario_file(
        "explain-many.toml",
        &format!("algorithm = \"resolve\"\nstrategy = \"lww\"\n{many}"),
    );
    let out = moai()
        .args(["resolve", &file, "--explain", "k"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1);
    assert!(stderr.ends_with("'k8', 'k9', and 2 more\n"), "{stderr}");
}

#[test]
fn the_explained_value_and_winner_are_the_resolutions_on_every_bundled_key_and_strategy() {
    for file in [
        "scenarios/crdt-patterns.toml",
        "scenarios/vector-clocks.toml",
        "scenarios/hybrid.toml",
    ] {
        for strategy in [
            None,
            Some("lww"),
            Some("vector"),
            Some("crdt"),
            Some("hybrid"),
        ] {
            let mut args = vec!["resolve", file];
            args.extend(strategy.iter().flat_map(|s| ["--strategy", *s]));
            let mut json = args.clone();
            json.extend(["--format", "json"]);
            let out = moai().args(&json).output().unwrap();
            if out.status.code() == Some(2) {
                // A strategy the file's values cannot take (crdt on text).
                continue;
            }
            let resolved: Value = serde_json::from_slice(&out.stdout).unwrap();
            for r in resolved["resolutions"].as_array().unwrap() {
                let key = r["key"].as_str().unwrap();
                let mut explain = args.clone();
                explain.extend(["--explain", key]);
                let e = explanation(&explain);
                assert_eq!(e["value"], r["value"], "{explain:?}");
                assert_eq!(e["strategy"], r["strategy"], "{explain:?}");
                if r["agent"] != "coordinator" {
                    assert_eq!(e["winner"]["agent"], r["agent"], "{explain:?}");
                    assert_eq!(e["winner"]["version"], r["version"], "{explain:?}");
                }
                // The same bytes every run.
                explain.extend(["--format", "json"]);
                assert_eq!(stdout_of(&explain), stdout_of(&explain));
            }
        }
    }
}

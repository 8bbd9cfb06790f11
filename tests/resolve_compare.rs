//! `moai resolve --compare`: every strategy side by side, the writes each
//! loses on the design note's Examples 3-5 and on hand-made histories, and
//! `[expect.lost_writes]` in `moai run` and `moai check`.

#[path = "support/run.rs"]
mod support;

use serde_json::{Value, json};
use support::{json_of, moai, stdout_of};

/// A scenario file in a fresh temporary directory.
fn scenario(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("moai-compare-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Exit code, stdout and stderr of moai with these arguments.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = moai().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `strategy -> (writes_lost, [key agent/version ...])` from a comparison's summary.
fn lost_by_strategy(report: &Value) -> Vec<(String, u64, Vec<String>)> {
    report["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let lost = s["lost"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| {
                    format!(
                        "{} {}/{}",
                        w["key"].as_str().unwrap(),
                        w["agent"].as_str().unwrap(),
                        w["version"]
                    )
                })
                .collect();
            (
                s["strategy"].as_str().unwrap().to_string(),
                s["writes_lost"].as_u64().unwrap(),
                lost,
            )
        })
        .collect()
}

fn strs(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn example_3_crdt_merges_lose_only_the_lww_map_keys_overwritten_concurrently() {
    let report = json_of(&["resolve", "scenarios/crdt-patterns.toml", "--compare"]);
    let picked = strs(&[
        "task_count agent-1/1",
        "task_count agent-2/2",
        "tags agent-1/1",
        "tags agent-2/2",
        "config agent-1/1",
        "config agent-2/2",
        "feature_flags agent-1/1",
    ]);
    assert_eq!(
        lost_by_strategy(&report),
        [
            ("lww".to_string(), 7, picked.clone()),
            ("vector".to_string(), 7, picked.clone()),
            ("crdt".to_string(), 1, strs(&["config agent-1/1"])),
            ("hybrid".to_string(), 7, picked),
        ]
    );
    let config = &report["comparison"][2];
    let crdt = &config["strategies"][2];
    assert_eq!(crdt["crdt_type"], "map");
    assert_eq!(
        crdt["lost"],
        json!([{"agent": "agent-1", "version": 1, "keys": ["max_workers", "timeout", "retry"]}])
    );
    let recommended: Vec<(&str, &str)> = report["comparison"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["recommendation"]["strategy"].as_str().unwrap(),
                k["recommendation"]["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        recommended,
        [
            ("crdt", "lww loses 2 concurrent increments"),
            ("crdt", "lww loses 2 concurrent additions"),
            ("vector", "3 concurrent siblings: surface them, don't pick"),
            ("crdt", "lww loses 1 concurrent addition"),
        ]
    );
}

#[test]
fn example_4_vector_clocks_lose_the_siblings_not_chosen() {
    let report = json_of(&["resolve", "scenarios/vector-clocks.toml", "--compare"]);
    let siblings = strs(&["state agent-2/2", "config agent-2/2", "config agent-3/3"]);
    for (strategy, lost, list) in lost_by_strategy(&report) {
        assert_eq!((lost, &list), (3, &siblings), "{strategy}");
    }
    let keys = report["comparison"].as_array().unwrap();
    let maximal: Vec<u64> = keys
        .iter()
        .map(|k| k["maximal_versions"].as_u64().unwrap())
        .collect();
    assert_eq!(maximal, [1, 2, 3]);
    // Three-way concurrency: vector surfaces the 3 siblings (its value
    // still picks one, so it loses 2); no other strategy lists siblings.
    let config = &keys[2]["strategies"];
    let vector = config
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["strategy"] == "vector")
        .unwrap();
    assert_eq!(
        vector["siblings"],
        json!([
            {"agent": "agent-1", "version": 1},
            {"agent": "agent-2", "version": 2},
            {"agent": "agent-3", "version": 3}
        ])
    );
    assert_eq!(vector["lost"].as_array().unwrap().len(), 2);
    assert_eq!(config[0]["strategy"], "lww");
    assert!(config[0].get("siblings").is_none());
    // The causal chain: every strategy keeps B, and A is superseded, not lost.
    assert_eq!(keys[0]["concurrent_versions"], false);
    assert_eq!(
        keys[0]["recommendation"],
        json!({"strategy": "lww", "reason": "no concurrent versions: every strategy agrees"})
    );
}

#[test]
fn example_5_hybrid_loses_one_write_where_its_default_route_picks() {
    let report = json_of(&["resolve", "scenarios/hybrid.toml", "--compare"]);
    let both = strs(&["counter_tasks agent-1/1", "max_workers agent-1/1"]);
    assert_eq!(
        lost_by_strategy(&report),
        [
            ("lww".to_string(), 2, both.clone()),
            ("vector".to_string(), 2, both),
            ("crdt".to_string(), 0, vec![]),
            ("hybrid".to_string(), 1, strs(&["max_workers agent-1/1"])),
        ]
    );
    let hybrid = &report["comparison"][0]["strategies"][3];
    assert_eq!(hybrid["strategy"], "hybrid");
    assert_eq!(hybrid["route"], "counter_");
    assert_eq!(hybrid["routed_to"], "crdt");
    assert_eq!(hybrid["value"], 80);
    assert_eq!(report["summary"][0]["keys_resolved"], 3);
    assert_eq!(report["summary"][0]["keys_with_concurrent_versions"], 2);
    assert_eq!(report["scenario"], "hybrid");
    assert!(report["description"].is_string());
}

#[test]
fn the_table_shows_rows_recommendations_and_the_summary() {
    let out = stdout_of(&["resolve", "scenarios/hybrid.toml", "--compare"]);
    for line in [
        "=== Conflict Resolution: strategies compared ===",
        "counter_tasks (2 concurrent versions)",
        "│ crdt counter                     ┆ 80                                    ┆ agent-1 v1, agent-2 v2 ┆ none       │",
        "│ hybrid (counter_ → crdt counter) ┆ 80                                    ┆ agent-1 v1, agent-2 v2 ┆ none       │",
        "  Recommended: crdt counter (lww loses 1 concurrent increment)",
        "causal_document (no concurrent versions)",
        "  Recommended: lww (no concurrent versions: every strategy agrees)",
        "  Recommended: crdt counter (lww loses 1 concurrent increment; counter inferred from the values)",
        "│ hybrid   ┆ 3    ┆ 2               ┆ 1           ┆ max_workers: agent-1 v1                            │",
    ] {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
    }
}

const HAND_MADE: &str = r#"algorithm = "resolve"
strategy = "lww"

# Three agents increment one counter concurrently.
[[states]]
key = "hits"
crdt_type = "counter"
versions = [
  { agent = "a", value = 4, version = 1 },
  { agent = "b", value = 2, version = 1 },
  { agent = "c", value = 7, version = 1 },
]

# One agent's causal chain.
[[states]]
key = "mode"
versions = [
  { agent = "a", value = "x", version = 1 },
  { agent = "a", value = "y", version = 2 },
  { agent = "a", value = "z", version = 3 },
]

# Clock skew: the causally later write carries the older timestamp.
[[states]]
key = "doc"
versions = [
  { agent = "old", value = "stale", version = 1, timestamp = 2025-01-01T10:00:50Z, vector_clock = { a = 1 } },
  { agent = "new", value = "fresh", version = 1, timestamp = 2025-01-01T10:00:00Z, vector_clock = { a = 1, b = 1 } },
]

# An LWW-Map whose writers overlap on "timeout"; b saw a's write.
[[states]]
key = "settings"
crdt_type = "map"
versions = [
  { agent = "a", value = { timeout = 30, retry = 3 }, version = 1, timestamp = 2025-01-01T10:00:00Z },
  { agent = "b", value = { timeout = 60 }, version = 1, timestamp = 2025-01-01T10:00:01Z, vector_clock = { a = 1, b = 1 } },
  { agent = "c", value = { retry = 5 }, version = 1, timestamp = 2025-01-01T10:00:02Z },
]
"#;

#[test]
fn hand_made_histories_count_what_each_strategy_loses() {
    let path = scenario("hand-made", HAND_MADE);
    let report = json_of(&["resolve", path.to_str().unwrap(), "--compare"]);
    let rows = |key: usize| -> Vec<(String, Value)> {
        report["comparison"][key]["strategies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["strategy"].as_str().unwrap().to_string(),
                    r["lost"].clone(),
                )
            })
            .collect()
    };
    let ids = |items: &[(&str, u64)]| -> Value {
        items
            .iter()
            .map(|(a, v)| json!({"agent": a, "version": v}))
            .collect()
    };
    // hits: lww loses 2 of 3 concurrent increments, the counter none.
    let hits = rows(0);
    assert_eq!(hits[0].1, ids(&[("a", 1), ("b", 1)]));
    assert_eq!(hits[2], ("crdt".to_string(), json!([])));
    // mode: a causal chain loses nothing anywhere.
    assert!(rows(1).iter().all(|(_, lost)| lost == &json!([])));
    // doc: lww keeps the stale write and loses the causally later one.
    let doc = rows(2);
    assert_eq!(
        doc[0].1,
        json!([{"agent": "new", "version": 1, "clock_skew": true}])
    );
    assert_eq!(doc[1], ("vector".to_string(), json!([])));
    assert_eq!(report["comparison"][2]["concurrent_versions"], false);
    // settings: a's timeout was superseded by b, its retry overwritten by
    // the concurrent c.
    let settings = rows(3);
    assert_eq!(
        settings[2].1,
        json!([{"agent": "a", "version": 1, "keys": ["retry"]}])
    );
    // The table says which write clock skew lost, and what that means.
    let table = stdout_of(&["resolve", path.to_str().unwrap(), "--compare"]);
    assert!(table.contains("┆ new v1 (clock skew) │"), "{table}");
    assert!(
        table.contains(
            "  Recommended: vector (lww loses 1 write to clock skew: vector clocks order them)"
        ),
        "{table}"
    );
    assert!(table.contains(
        "clock skew: the lost write's vector clock dominates the one kept, so it is the later \
         write; only its timestamp says otherwise"
    ));
}

/// The hybrid example with this `[expect.lost_writes]` body.
fn hybrid_expecting(body: &str) -> String {
    let text = std::fs::read_to_string("scenarios/hybrid.toml").unwrap();
    let text = text.replace("#:schema ../schema/scenario.schema.json\n", "");
    // The bundled file's own bounds give way to this body.
    let text = text.split("\n# What each policy may lose").next().unwrap();
    format!("{text}\n[expect.lost_writes]\n{body}\n")
}

#[test]
fn expect_lost_writes_passes_within_the_bounds_and_fails_past_them() {
    let ok = scenario(
        "bounds-ok",
        &hybrid_expecting("crdt = 0\nhybrid = 1\nlww = 2"),
    );
    let (code, stdout, stderr) = run(&["run", ok.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("=== Conflict Resolution (hybrid) ==="));
    assert_eq!(stderr, "moai: all [expect] expectations met\n");
    let (code, _, _) = run(&["check", ok.to_str().unwrap()]);
    assert_eq!(code, Some(0));

    let bad = scenario(
        "bounds-bad",
        &hybrid_expecting("lww = 0\nvector = 1\ncrdt = 0"),
    );
    let (code, _, stderr) = run(&["run", bad.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        "moai: expectation failed: lost_writes.lww: expected <= 0, got 2; \
         lost_writes.vector: expected <= 1, got 2\n"
    );
    let (code, stdout, _) = run(&["check", bad.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, Some(1));
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report["results"][0]["mismatches"],
        json!([
            {"key": "lost_writes.lww", "expected": "<= 0", "actual": "2"},
            {"key": "lost_writes.vector", "expected": "<= 1", "actual": "2"}
        ])
    );
}

#[test]
fn expect_lost_writes_is_refused_for_unknown_strategies_and_other_algorithms() {
    let typo = scenario("typo", &hybrid_expecting("lwww = 0"));
    let (code, _, stderr) = run(&["run", typo.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert_eq!(
        stderr,
        format!(
            "moai: {}:50:8: key 'expect.lost_writes.lwww': 'lwww' is not a strategy: use lww, \
             vector, crdt or hybrid\n",
            typo.display()
        )
    );
    let gossip = std::fs::read_to_string("scenarios/gossip-swarm.toml").unwrap();
    let gossip = scenario(
        "gossip",
        &format!("{gossip}\n[expect.lost_writes]\nlww = 0\n"),
    );
    let (code, _, stderr) = run(&["check", gossip.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, Some(2));
    assert!(stderr.is_empty());
    let (code, _, stderr) = run(&["validate", gossip.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    let (code, _, stderr) = run(&["run", gossip.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.ends_with(
            "key 'expect.lost_writes': 'lost_writes' does not apply to a gossip scenario\n"
        ),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
}

#[test]
fn compare_refuses_strategy_and_says_so_in_one_line() {
    let (code, stdout, stderr) = run(&[
        "resolve",
        "scenarios/hybrid.toml",
        "--compare",
        "--strategy",
        "lww",
    ]);
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty());
    assert_eq!(
        stderr,
        "moai: --strategy: --compare resolves every key under every strategy; leave out --strategy\n"
    );
}

#[test]
fn compare_output_is_the_same_on_every_run() {
    let args = [
        "resolve",
        "scenarios/crdt-patterns.toml",
        "--compare",
        "--format",
        "json",
    ];
    assert_eq!(stdout_of(&args), stdout_of(&args));
}

#[test]
fn list_limit_cuts_kept_and_lost_lists_and_counts_what_it_left_out() {
    let args = [
        "resolve",
        "scenarios/crdt-patterns.toml",
        "--compare",
        "--list-limit",
        "1",
    ];
    let report = json_of(&args);
    assert_eq!(
        report["comparison"][0]["strategies"][0]["lost"],
        json!([{"agent": "agent-1", "version": 1}])
    );
    assert_eq!(report["omitted"]["comparison[0].strategies[0].lost"], 1);
    assert_eq!(report["omitted"]["comparison[0].strategies[2].kept"], 2);
    assert_eq!(report["omitted"]["summary[0].lost"], 6);
    // Counts are of the whole lists.
    assert_eq!(report["summary"][0]["writes_lost"], 7);
    let table = stdout_of(&args);
    assert!(table.contains("┆ agent-1 v1 (+2 more) ┆"), "{table}");
    assert!(
        table.contains("┆ task_count: agent-1 v1 (+6 more) "),
        "{table}"
    );
}

//! End-to-end tests of the `moai` binary: bundled scenarios, flags, output
//! formats, determinism and every kind of bad input.

use std::path::PathBuf;

use serde_json::Value;

#[path = "support/run.rs"]
mod run;
use run::{json_of, moai, stdout_of};

/// Runs moai with `--format json` appended, expecting success with the one
/// warning line `warning` on stderr; parses the whole of stdout.
fn json_warned(args: &[&str], warning: &str) -> Value {
    let mut args = args.to_vec();
    args.extend(["--format", "json"]);
    let out = moai().args(&args).output().unwrap();
    assert!(out.status.success(), "moai {args:?} failed");
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!("moai: warning: {warning}\n")
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON document")
}

/// Writes a scenario into the test's scratch folder and returns its path.
fn scenario_file(name: &str, text: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs moai on a scenario file expected to be rejected; returns stderr.
fn rejected(name: &str, text: &str, command: &str) -> String {
    let path = scenario_file(name, text);
    rejected_args(&[command, path.to_str().unwrap()])
}

/// Runs moai expecting exit code 2, empty stdout and one line on stderr.
fn rejected_args(args: &[&str]) -> String {
    let out = moai().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "moai {args:?} should exit 2");
    assert!(out.stdout.is_empty(), "stdout must stay empty on errors");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line on stderr, got: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn ids(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

const AGENTS_4: &str = "[[groups]]\ncount = 4\nvote = \"for\"\n";

#[test]
fn byzantine_example_one_gives_the_documents_facts() {
    let v = json_of(&["byzantine", "scenarios/infra.toml"]);
    assert_eq!(v["scenario"], "infra");
    assert_eq!(v["algorithm"], "byzantine");
    assert_eq!(v["decision"], "approved");
    assert_eq!(v["votes_for"], 7);
    assert_eq!(v["votes_against"], 0);
    assert_eq!(v["abstain"], 0);
    assert_eq!(v["participants"].as_array().unwrap().len(), 10);
    assert_eq!(v["proposal"]["action"], "upgrade_database");
    let m = &v["metadata"];
    assert_eq!(m["fault_tolerance"], 3);
    assert_eq!(m["min_participants"], 10);
    assert_eq!(m["agreement_threshold"], 7);
    assert_eq!(m["total_participants"], 10);
    assert_eq!(m["honest_participants"], 7);
    assert_eq!(m["malicious_detected"], 3);
    assert_eq!(
        ids(&m["malicious_agents"]),
        ["agent-8", "agent-9", "agent-10"]
    );
    assert_eq!(ids(&m["blacklist"]), ["agent-8", "agent-9", "agent-10"]);
    assert_eq!(m["byzantine_safe"], true);
    assert_eq!(m["num_rounds"], 5);
    assert_eq!(
        ids(&m["healthy_agents"]),
        [
            "agent-1", "agent-2", "agent-3", "agent-4", "agent-5", "agent-6", "agent-7"
        ]
    );
    let history = m["round_history"].as_array().unwrap();
    assert_eq!(history.len(), 5);
    assert_eq!(
        history[4]["votes_against"], 3,
        "the final round shows declared votes"
    );
}

#[test]
fn byzantine_table_shows_the_documents_labels() {
    let text = stdout_of(&["byzantine"]);
    let has_row = |label: &str, value: &str| {
        text.lines()
            .any(|l| l.contains(&format!("│ {label} ")) && l.contains(&format!("┆ {value} ")))
    };
    for (label, value) in [
        ("Decision", "approved"),
        ("Fault tolerance", "f=3"),
        ("Agreement threshold", "7 (2f+1)"),
        ("Malicious agents", "agent-8, agent-9, agent-10"),
        ("Byzantine safe", "true"),
    ] {
        assert!(
            has_row(label, value),
            "missing row {label} = {value} in:\n{text}"
        );
    }
    for line in [
        "Blacklist: agent-8, agent-9, agent-10",
        "Healthy agents for next proposal: agent-1, agent-2, agent-3, agent-4, agent-5, agent-6, agent-7",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

#[test]
fn bundled_default_equals_the_file_in_scenarios() {
    assert_eq!(
        stdout_of(&["byzantine"]),
        stdout_of(&["byzantine", "scenarios/infra.toml"])
    );
    assert_eq!(
        stdout_of(&["gossip"]),
        stdout_of(&["gossip", "scenarios/gossip-swarm.toml"])
    );
}

#[test]
fn bundled_scenarios_work_from_any_directory() {
    let out = moai()
        .arg("byzantine")
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Malicious detected"));
}

#[test]
fn gossip_example_two_converges_to_approval() {
    let v = json_of(&["gossip", "--fanout", "5", "--seed", "42"]);
    assert_eq!(v["algorithm"], "gossip");
    assert_eq!(v["seed"], 42);
    assert_eq!(v["decision"], "approved");
    let m = &v["metadata"];
    assert_eq!(m["fanout"], 5);
    assert_eq!(m["max_rounds"], 7);
    assert_eq!(m["convergence_threshold"], 0.95);
    assert_eq!(m["threshold"], 0.66);
    assert_eq!(m["converged"], true);
    assert_eq!(m["initial_distribution"]["votes_for"], 15);
    assert_eq!(m["initial_distribution"]["votes_against"], 5);
    let history = m["round_history"].as_array().unwrap();
    assert_eq!(
        history.len() as u64,
        m["rounds_completed"].as_u64().unwrap()
    );
    let last = history.last().unwrap();
    assert_eq!(last["converged"], true);
    assert!(last["agreement_ratio"].as_f64().unwrap() >= 0.95);
    assert_eq!(m["agreement_ratio"], last["agreement_ratio"]);
    for round in history {
        let sum = ["votes_for", "votes_against", "abstain"].map(|k| round[k].as_u64().unwrap());
        assert_eq!(sum.iter().sum::<u64>(), 20);
    }
}

#[test]
fn gossip_table_marks_the_converged_round() {
    let text = stdout_of(&["gossip", "--fanout", "5", "--seed", "42"]);
    assert!(text.contains("=== Round-by-Round Convergence ==="));
    assert!(
        text.lines()
            .any(|l| l.contains("│ Converged ") && l.contains("┆ true ")),
        "{text}"
    );
    let round =
        json_of(&["gossip", "--fanout", "5", "--seed", "42"])["metadata"]["converged_round"]
            .to_string();
    assert!(
        text.lines()
            .any(|l| l.contains("│ Converged in round ") && l.contains(&format!("┆ {round} "))),
        "{text}"
    );
    assert_eq!(text.matches("→ Converged!").count(), 1);
}

#[test]
fn gossip_flags_override_the_scenario() {
    let v = json_of(&[
        "gossip",
        "--agents",
        "50",
        "--approve",
        "10",
        "--fanout",
        "3",
        "--rounds",
        "2",
        "--convergence-threshold",
        "1.0",
        "--threshold",
        "0.9",
    ]);
    let m = &v["metadata"];
    assert_eq!(v["participants"].as_array().unwrap().len(), 50);
    assert_eq!(m["initial_distribution"]["votes_for"], 10);
    assert_eq!(m["initial_distribution"]["votes_against"], 40);
    assert_eq!(m["fanout"], 3);
    assert_eq!(m["max_rounds"], 2);
    assert_eq!(m["convergence_threshold"], 1.0);
    assert_eq!(m["threshold"], 0.9);
    assert!(m["rounds_completed"].as_u64().unwrap() <= 2);
    assert_eq!(v["decision"], "rejected", "a 20% minority cannot win");
}

#[test]
fn agents_alone_keeps_the_scenarios_approving_share() {
    let v = json_of(&["gossip", "--agents", "100"]);
    assert_eq!(v["metadata"]["initial_distribution"]["votes_for"], 75);
    assert_eq!(v["metadata"]["initial_distribution"]["votes_against"], 25);
}

#[test]
fn byzantine_flags_override_the_scenario() {
    let v = json_of(&["byzantine", "--fault-tolerance", "2", "--rounds", "4"]);
    let m = &v["metadata"];
    assert_eq!(m["fault_tolerance"], 2);
    assert_eq!(m["agreement_threshold"], 5);
    assert_eq!(m["num_rounds"], 4);
    assert_eq!(m["round_history"].as_array().unwrap().len(), 4);
    // Three detected with f = 2: approved, but not safe.
    assert_eq!(v["decision"], "approved");
    assert_eq!(m["byzantine_safe"], false);
    assert!(m["reason"].as_str().unwrap().contains("more than f = 2"));
}

#[test]
fn run_uses_the_algorithm_the_file_names() {
    assert_eq!(
        json_of(&["run", "scenarios/infra.toml"]),
        json_of(&["byzantine", "scenarios/infra.toml"])
    );
    assert_eq!(
        json_of(&["run", "scenarios/gossip-swarm.toml"]),
        json_of(&["gossip"])
    );
    assert_eq!(
        json_of(&["run", "scenarios/gossip-swarm.toml", "--seed", "7"])["seed"],
        7
    );
}

#[test]
fn scenarios_lists_every_bundled_scenario() {
    let v = json_of(&["scenarios"]);
    let entries = v.as_array().unwrap();
    let mut listed: Vec<String> = entries
        .iter()
        .map(|e| e["file"].as_str().unwrap().to_string())
        .collect();
    let mut on_disk: Vec<String> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| format!("scenarios/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|f| f.ends_with(".toml"))
        .collect();
    listed.sort();
    on_disk.sort();
    assert_eq!(
        listed, on_disk,
        "every file in scenarios/ is bundled, and only those"
    );
    assert_eq!(entries[0]["name"], "infra");
    let text = stdout_of(&["scenarios"]);
    for entry in entries {
        assert!(!entry["description"].as_str().unwrap().is_empty());
        assert!(text.contains(entry["file"].as_str().unwrap()), "{text}");
    }
}

#[test]
fn same_seed_gives_byte_identical_output_and_the_seed_matters() {
    let args = [
        "gossip",
        "--agents",
        "300",
        "--approve",
        "170",
        "--fanout",
        "2",
        "--rounds",
        "30",
    ];
    let with_seed = |seed: &str| {
        let mut a = args.to_vec();
        a.extend(["--seed", seed, "--format", "json"]);
        stdout_of(&a)
    };
    assert_eq!(with_seed("5"), with_seed("5"));
    assert_ne!(with_seed("5"), with_seed("6"));
    assert_eq!(stdout_of(&["byzantine"]), stdout_of(&["byzantine"]));
}

#[test]
fn seed_flag_beats_the_file_and_the_default_applies_without_either() {
    assert_eq!(json_of(&["byzantine", "--seed", "9"])["seed"], 9);
    let path = scenario_file(
        "no-seed.toml",
        &format!("algorithm = \"byzantine\"\n{AGENTS_4}"),
    );
    let v = json_of(&["run", path.to_str().unwrap()]);
    assert_eq!(v["seed"], 42);
    assert_eq!(
        v["scenario"], "no-seed",
        "the name defaults to the file stem"
    );
}

#[test]
fn byzantine_on_a_gossip_scenario_uses_its_agents_and_default_settings() {
    let v = json_of(&["byzantine", "scenarios/gossip-swarm.toml"]);
    assert_eq!(v["metadata"]["fault_tolerance"], 1);
    assert_eq!(v["metadata"]["num_rounds"], 3);
    assert_eq!(v["votes_for"], 15);
    assert_eq!(v["decision"], "approved");
}

// ---- bad input: one line on stderr naming the place, exit code 2 ----

#[test]
fn malformed_toml_names_file_line_and_column() {
    let err = rejected(
        "malformed.toml",
        "algorithm = \"gossip\"\nfanout = = 3\n",
        "run",
    );
    assert!(err.contains("malformed.toml:2:"), "{err}");
}

#[test]
fn unknown_keys_are_errors() {
    let err = rejected(
        "unknown-key.toml",
        "algorithm = \"gossip\"\n[gossip]\nfanot = 3\n",
        "run",
    );
    assert!(err.contains("unknown-key.toml:3:1: key 'gossip"), "{err}");
    assert!(err.contains("unknown field `fanot`"), "{err}");
    let err = rejected(
        "unknown-top.toml",
        "algorithm = \"gossip\"\nagentz = 3\n",
        "run",
    );
    assert!(
        err.contains("unknown-top.toml:2:1") && err.contains("agentz"),
        "{err}"
    );
}

#[test]
fn unknown_algorithm_vote_and_behavior_are_errors() {
    let err = rejected("algo.toml", "algorithm = \"paxos\"\n", "run");
    assert!(
        err.contains("algo.toml:1:13: key 'algorithm'") && err.contains("paxos"),
        "{err}"
    );
    let err = rejected(
        "vote.toml",
        "algorithm = \"gossip\"\n[[agents]]\nid = \"a\"\nvote = \"maybe\"\n",
        "run",
    );
    assert!(
        err.contains("vote.toml:4:8: key 'agents[0].vote'") && err.contains("maybe"),
        "{err}"
    );
    let err = rejected(
        "behavior.toml",
        "algorithm = \"byzantine\"\n[[groups]]\ncount = 4\nvote = \"for\"\nbehavior = \"sneaky\"\n",
        "run",
    );
    assert!(
        err.contains("behavior.toml:5:12: key 'groups[0].behavior'"),
        "{err}"
    );
}

#[test]
fn behaviours_gossip_cannot_simulate_are_errors() {
    let err = rejected(
        "gossip-flip.toml",
        "algorithm = \"gossip\"\n[[agents]]\nid = \"a\"\nvote = \"for\"\nbehavior = \"flip\"\n",
        "run",
    );
    assert!(
        err.contains("gossip-flip.toml:5:12: key 'agents[0].behavior'"),
        "{err}"
    );
}

#[test]
fn duplicate_agent_ids_are_errors() {
    let err = rejected(
        "dup.toml",
        "algorithm = \"byzantine\"\n[[agents]]\nid = \"agent-1\"\nvote = \"for\"\n\
         [[groups]]\ncount = 3\nvote = \"for\"\n",
        "run",
    );
    assert!(
        err.contains("dup.toml:5:1: key 'groups[0].id': duplicate agent id 'agent-1'"),
        "{err}"
    );
}

#[test]
fn too_few_participants_for_f_is_an_error() {
    let text = format!("algorithm = \"byzantine\"\n[byzantine]\nfault_tolerance = 2\n{AGENTS_4}");
    let err = rejected("few.toml", &text, "run");
    assert!(
        err.contains("few.toml:3:19: key 'byzantine.fault_tolerance'"),
        "{err}"
    );
    assert!(
        err.contains("needs at least 7 participants (3f+1), the scenario has 4"),
        "{err}"
    );
}

#[test]
fn too_few_rounds_is_an_error() {
    let text = format!("algorithm = \"byzantine\"\n[byzantine]\nnum_rounds = 2\n{AGENTS_4}");
    let err = rejected("rounds.toml", &text, "run");
    assert!(
        err.contains("rounds.toml:3:14: key 'byzantine.num_rounds'"),
        "{err}"
    );
}

#[test]
fn fanout_zero_and_thresholds_out_of_range_are_errors() {
    let gossip =
        |settings: &str| format!("algorithm = \"gossip\"\n[gossip]\n{settings}\n{AGENTS_4}");
    let err = rejected("fanout.toml", &gossip("fanout = 0"), "run");
    assert!(
        err.contains("fanout.toml:3:10: key 'gossip.fanout': fanout must be at least 1"),
        "{err}"
    );
    let err = rejected("conv.toml", &gossip("convergence_threshold = 0.5"), "run");
    assert!(
        err.contains("conv.toml:3:25: key 'gossip.convergence_threshold'"),
        "{err}"
    );
    let err = rejected("thr.toml", &gossip("threshold = 1.2"), "run");
    assert!(
        err.contains("thr.toml:3:13: key 'gossip.threshold'"),
        "{err}"
    );
    let err = rejected("nan.toml", &gossip("threshold = nan"), "run");
    assert!(
        err.contains("nan.toml:3:13: key 'gossip.threshold'"),
        "{err}"
    );
    let err = rejected("neg.toml", &gossip("fanout = -1"), "run");
    assert!(err.contains("neg.toml:3:10: key 'gossip.fanout'"), "{err}");
    assert!(
        err.contains("expected a whole number"),
        "no Rust type names: {err}"
    );
}

#[test]
fn zero_agents_is_an_error() {
    let err = rejected("empty-swarm.toml", "algorithm = \"gossip\"\n", "run");
    assert!(
        err.contains("empty-swarm.toml: key 'agents': the scenario has no agents"),
        "{err}"
    );
    let err = rejected(
        "zero-group.toml",
        "algorithm = \"gossip\"\n[[groups]]\ncount = 0\nvote = \"for\"\n",
        "run",
    );
    assert!(
        err.contains("zero-group.toml:3:9: key 'groups[0].count'"),
        "{err}"
    );
}

#[test]
fn missing_file_is_an_error() {
    let err = rejected_args(&["run", "does/not/exist.toml"]);
    assert!(
        err.contains("cannot read scenario 'does/not/exist.toml': no such file"),
        "{err}"
    );
}

#[test]
fn empty_and_non_utf8_files_are_errors() {
    let err = rejected("empty.toml", "", "run");
    assert!(
        err.contains("empty.toml") && err.contains("missing field `algorithm`"),
        "{err}"
    );
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("latin1.toml");
    std::fs::write(&path, b"algorithm = \"gossip\"\nname = \"caf\xe9\"\n").unwrap();
    let err = rejected_args(&["run", path.to_str().unwrap()]);
    assert!(
        err.contains("latin1.toml:2:12: the file is not valid UTF-8"),
        "{err}"
    );
}

#[test]
fn huge_group_counts_are_refused_before_allocating() {
    let err = rejected(
        "huge.toml",
        "algorithm = \"gossip\"\n[[groups]]\ncount = 9000000000000\nvote = \"for\"\n",
        "run",
    );
    assert!(
        err.contains("huge.toml:3:9: key 'groups[0].count'") && err.contains("limit"),
        "{err}"
    );
    let err = rejected_args(&["gossip", "--agents", "99999999999"]);
    assert!(err.starts_with("moai: --agents:"), "{err}");
}

#[test]
fn bad_flag_values_name_the_flag() {
    let err = rejected_args(&["gossip", "--fanout", "0"]);
    assert_eq!(err, "moai: --fanout: fanout must be at least 1\n");
    let err = rejected_args(&["gossip", "--approve", "21"]);
    assert!(err.starts_with("moai: --approve:"), "{err}");
    let err = rejected_args(&["byzantine", "--fault-tolerance", "4"]);
    assert!(
        err.starts_with("moai: --fault-tolerance:") && err.contains("at least 13"),
        "{err}"
    );
    let err = rejected_args(&["byzantine", "--rounds", "2"]);
    assert!(err.starts_with("moai: --rounds:"), "{err}");
    let err = rejected_args(&["gossip", "--threshold", "0"]);
    assert!(err.starts_with("moai: --threshold:"), "{err}");
}

/// Runs moai expecting a usage error from clap: exit code 2, empty stdout,
/// clap's whole message on stderr; returns stderr.
fn usage_error(args: &[&str]) -> String {
    let out = moai().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "moai {args:?} should exit 2");
    assert!(out.stdout.is_empty(), "stdout must stay empty on errors");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn usage_errors_exit_with_code_2() {
    let err = usage_error(&["gossip", "--fanout", "many"]);
    assert!(
        err.contains("invalid value 'many' for '--fanout <K>'"),
        "{err}"
    );
    assert!(usage_error(&["frobnicate"]).contains("unrecognized subcommand 'frobnicate'"));
    assert!(usage_error(&["run"]).contains("<SCENARIO>"));
    assert!(
        usage_error(&["gossip", "--format", "xml"]).contains("[possible values: table, json, csv]")
    );
}

#[test]
fn help_and_version_succeed() {
    assert!(stdout_of(&["--help"]).contains("byzantine"));
    assert!(stdout_of(&["gossip", "--help"]).contains("--convergence-threshold"));
    assert!(stdout_of(&["--version"]).starts_with("moai "));
}

// ---- resolve ----

fn resolution<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["resolutions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no resolution for {key}"))
}

fn sorted_strings(value: &Value) -> Vec<&str> {
    let mut items = ids(value);
    items.sort_unstable();
    items
}

#[test]
fn crdt_patterns_gives_the_documents_merges() {
    let v = json_of(&["resolve", "scenarios/crdt-patterns.toml"]);
    assert_eq!(v["algorithm"], "resolve");
    assert_eq!(v["strategy"], "crdt");
    let counter = resolution(&v, "task_count");
    assert_eq!(counter["value"], 105);
    assert_eq!(counter["agent"], "coordinator");
    assert_eq!(counter["version"], 4);
    assert_eq!(counter["metadata"]["resolution_strategy"], "crdt");
    assert_eq!(counter["metadata"]["crdt_type"], "counter");
    assert_eq!(
        ids(&counter["metadata"]["merged_from_agents"]),
        ["agent-1", "agent-2", "agent-3"]
    );
    let tags = resolution(&v, "tags");
    assert_eq!(
        sorted_strings(&tags["value"]),
        ["api", "async", "fastapi", "python"]
    );
    let config = resolution(&v, "config");
    assert_eq!(
        serde_json::to_string(&config["value"]).unwrap(),
        r#"{"max_workers":15,"timeout":60,"retry":5,"batch_size":100,"queue_size":1000}"#
    );
    let flags = resolution(&v, "feature_flags");
    assert_eq!(flags["metadata"]["crdt_type"], "map-of-sets");
    assert_eq!(
        sorted_strings(&flags["value"]["auth"]),
        ["enabled", "mfa", "oauth", "sso"]
    );
    assert_eq!(
        sorted_strings(&flags["value"]["api"]),
        ["graphql", "v2"],
        "agent-1's api key stands"
    );
    assert_eq!(
        sorted_strings(&flags["value"]["cache"]),
        ["memcached", "redis"]
    );
}

#[test]
fn vector_clocks_gives_the_documents_winners() {
    let v = json_of(&["resolve", "scenarios/vector-clocks.toml"]);
    let document = resolution(&v, "document");
    assert_eq!(document["value"], "Version B");
    assert_eq!(document["metadata"]["resolution_strategy"], "vector_causal");
    assert_eq!(ids(&document["metadata"]["siblings"]), ["agent-2"]);
    let state = resolution(&v, "state");
    assert_eq!(state["value"], "Update from Agent-1");
    assert_eq!(
        state["metadata"]["resolution_strategy"],
        "vector_concurrent_lww"
    );
    assert_eq!(ids(&state["metadata"]["siblings"]), ["agent-1", "agent-2"]);
    let config = resolution(&v, "config");
    assert_eq!(config["value"], "Config A");
    assert_eq!(
        config["metadata"]["resolution_strategy"],
        "vector_concurrent_lww"
    );
    assert_eq!(config["versions"][0]["vector_clock"]["agent-1"], 5);
    assert_eq!(config["versions"][0]["timestamp"], "2025-01-01T10:00:02Z");
    assert_eq!(config["versions"][0]["role"], "winner");
}

#[test]
fn hybrid_routes_each_key_and_gives_80_b_15() {
    let v = json_of(&["resolve", "scenarios/hybrid.toml"]);
    assert_eq!(v["strategy"], "hybrid");
    let counter = resolution(&v, "counter_tasks");
    assert_eq!(
        (&counter["value"], &counter["strategy"]),
        (&Value::from(80), &Value::from("crdt"))
    );
    assert_eq!(counter["metadata"]["route"], "counter_");
    let causal = resolution(&v, "causal_document");
    assert_eq!(
        (&causal["value"], &causal["strategy"]),
        (&Value::from("B"), &Value::from("vector"))
    );
    assert_eq!(causal["metadata"]["resolution_strategy"], "vector_causal");
    let workers = resolution(&v, "max_workers");
    assert_eq!(
        (&workers["value"], &workers["strategy"]),
        (&Value::from(15), &Value::from("lww"))
    );
    assert_eq!(workers["metadata"]["resolution_strategy"], "lww");
    assert_eq!(workers["metadata"]["discarded_versions"], 1);
    assert_eq!(workers["metadata"]["route"], "default");
}

#[test]
fn resolve_tables_show_versions_winner_and_strategy() {
    let text = stdout_of(&["resolve", "scenarios/vector-clocks.toml"]);
    assert!(
        text.contains("│ agent-1 ┆ Version A ┆ 1       ┆ {agent-1=5, agent-2=3} ┆ dominated │"),
        "{text}"
    );
    assert!(
        text.contains("Resolved: Version B (agent agent-2, version 2)"),
        "{text}"
    );
    assert!(text.contains("Strategy: vector_causal"), "{text}");
    assert!(text.contains("2025-01-01T10:00:02Z"), "{text}");
    let text = stdout_of(&["resolve", "scenarios/hybrid.toml"]);
    assert!(text.contains("Route: counter_ → crdt"), "{text}");
    assert!(
        text.contains("│ max_workers     ┆ lww      ┆ lww           ┆ 15    │"),
        "{text}"
    );
    let text = stdout_of(&["resolve"]);
    assert!(
        text.contains("Resolved: 105 (agent coordinator, version 4)"),
        "{text}"
    );
}

#[test]
fn run_and_resolve_agree_on_every_resolve_scenario() {
    for file in [
        "scenarios/crdt-patterns.toml",
        "scenarios/vector-clocks.toml",
        "scenarios/hybrid.toml",
    ] {
        assert_eq!(json_of(&["run", file]), json_of(&["resolve", file]));
        assert_eq!(stdout_of(&["run", file]), stdout_of(&["resolve", file]));
    }
    assert_eq!(
        stdout_of(&["resolve"]),
        stdout_of(&["resolve", "scenarios/crdt-patterns.toml"])
    );
}

#[test]
fn strategy_flag_overrides_the_file() {
    let v = json_of(&[
        "resolve",
        "scenarios/crdt-patterns.toml",
        "--strategy",
        "lww",
    ]);
    assert_eq!(v["strategy"], "lww");
    let counter = resolution(&v, "task_count");
    assert_eq!(counter["value"], 25, "the newest version, not the sum");
    assert_eq!(counter["metadata"]["resolution_strategy"], "lww");
    let v = json_of(&[
        "resolve",
        "scenarios/vector-clocks.toml",
        "--strategy",
        "lww",
    ]);
    // Without causality, "Version B" still wins on version number.
    assert_eq!(resolution(&v, "document")["value"], "Version B");
    let v = json_of(&["resolve", "scenarios/hybrid.toml", "--strategy", "crdt"]);
    assert_eq!(
        resolution(&v, "max_workers")["value"],
        25,
        "inferred counter: 10 + 15"
    );
}

#[test]
fn missing_strategy_is_an_error_unless_the_flag_gives_one() {
    let text = "algorithm = \"resolve\"\n[[states]]\nkey = \"k\"\nversions = [{ agent = \"a\", value = 1 }]\n";
    let err = rejected("no-strategy.toml", text, "resolve");
    assert!(
        err.contains("no-strategy.toml: key 'strategy': no strategy"),
        "{err}"
    );
    let path = scenario_file("no-strategy-ok.toml", text);
    let v = json_of(&["resolve", path.to_str().unwrap(), "--strategy", "crdt"]);
    assert_eq!(resolution(&v, "k")["value"], 1);
}

/// A resolve scenario with one state whose versions are `versions`.
fn one_state(crdt_type: &str, versions: &str) -> String {
    format!(
        "algorithm = \"resolve\"\nstrategy = \"crdt\"\n[[states]]\nkey = \"k\"\n{crdt_type}versions = [\n{versions}\n]\n"
    )
}

#[test]
fn resolve_bad_input_is_located() {
    let cases: &[(&str, String, &str)] = &[
        (
            "r-empty.toml",
            one_state("", ""),
            "r-empty.toml:5:12: key 'states[0].versions': state 'k' has no versions",
        ),
        (
            "r-dupkey.toml",
            format!(
                "{}[[states]]\nkey = \"k\"\nversions = [{{ agent = \"a\", value = 1 }}]\n",
                one_state("", "{ agent = \"a\", value = 1 }")
            ),
            "r-dupkey.toml:9:7: key 'states[1].key': duplicate state key 'k'",
        ),
        (
            "r-noagent.toml",
            one_state("", "{ value = 1 }"),
            "missing field `agent`",
        ),
        (
            "r-novalue.toml",
            one_state("", "{ agent = \"a\" }"),
            "missing field `value`",
        ),
        (
            "r-negver.toml",
            one_state("", "{ agent = \"a\", value = 1, version = -1 }"),
            "r-negver.toml:6:37: key 'states[0].versions[0].version'",
        ),
        (
            "r-dot.toml",
            one_state(
                "",
                "{ agent = \"a\", value = 1, version = 2 },\n{ agent = \"a\", value = 5, version = 2 }",
            ),
            "r-dot.toml:7:1: key 'states[0].versions[1]': state 'k': agent 'a' version 2 appears twice with different values",
        ),
        (
            "r-time.toml",
            one_state(
                "",
                "{ agent = \"a\", value = 1, timestamp = \"yesterday\" }",
            ),
            "r-time.toml:6:39: key 'states[0].versions[0].timestamp': state 'k': timestamp 'yesterday' is not RFC 3339",
        ),
        (
            "r-clockneg.toml",
            one_state(
                "",
                "{ agent = \"a\", value = 1, vector_clock = { a = -1 } }",
            ),
            "r-clockneg.toml:6:48: key 'states[0].versions[0].vector_clock.a'",
        ),
        (
            "r-clockfloat.toml",
            one_state(
                "",
                "{ agent = \"a\", value = 1, vector_clock = { a = 1.5 } }",
            ),
            "key 'states[0].versions[0].vector_clock.a'",
        ),
        (
            "r-counter.toml",
            one_state(
                "crdt_type = \"counter\"\n",
                "{ agent = \"a\", value = 1 },\n{ agent = \"b\", value = \"many\" }",
            ),
            "r-counter.toml:8:24: key 'states[0].versions[1].value': state 'k': a counter takes whole numbers >= 0, got \"many\"",
        ),
        (
            "r-set.toml",
            one_state("crdt_type = \"set\"\n", "{ agent = \"a\", value = 3 }"),
            "r-set.toml:7:24: key 'states[0].versions[0].value': state 'k': a set takes arrays, got 3",
        ),
        (
            "r-crdttype.toml",
            one_state("crdt_type = \"bag\"\n", "{ agent = \"a\", value = 3 }"),
            "r-crdttype.toml:5:13: key 'states[0].crdt_type': unknown variant `bag`",
        ),
        (
            "r-strategy.toml",
            "algorithm = \"resolve\"\nstrategy = \"newest\"\n".to_string(),
            "r-strategy.toml:2:12: key 'strategy': unknown variant `newest`",
        ),
        (
            "r-route.toml",
            format!(
                "{}[[routes]]\nprefix = \"x\"\nstrategy = \"random\"\n",
                one_state("", "{ agent = \"a\", value = 1 }")
            ),
            "r-route.toml:10:12: key 'routes[0].strategy': unknown variant `random`",
        ),
        (
            "r-route-hybrid.toml",
            format!(
                "{}[[routes]]\nprefix = \"x\"\nstrategy = \"hybrid\"\n",
                one_state("", "{ agent = \"a\", value = 1 }")
            ),
            "r-route-hybrid.toml:10:12: key 'routes[0].strategy': a route cannot lead to hybrid",
        ),
        (
            "r-unknown.toml",
            one_state("", "{ agent = \"a\", value = 1, clock = 3 }"),
            "unknown field `clock`",
        ),
    ];
    for (name, text, expected) in cases {
        let err = rejected(name, text, "resolve");
        assert!(
            err.contains(expected),
            "{name}: expected {expected:?} in {err}"
        );
    }
}

#[test]
fn negative_counter_value_suggests_a_register() {
    let err = rejected(
        "r-negcounter.toml",
        &one_state(
            "",
            "{ agent = \"a\", value = 4 },\n{ agent = \"b\", value = -2 }",
        ),
        "resolve",
    );
    assert!(
        err.contains("key 'states[0].versions[1].value'")
            && err.contains("crdt_type = \"register\""),
        "{err}"
    );
}

#[test]
fn resolve_on_a_consensus_scenario_says_there_is_nothing_to_resolve() {
    let err = rejected_args(&["resolve", "scenarios/infra.toml", "--strategy", "lww"]);
    assert!(
        err.contains("key 'states': the scenario has no states to resolve"),
        "{err}"
    );
}

// ---- faults, proposals, Monte Carlo trials and sweeps ----

#[test]
fn rolling_upgrade_blacklists_then_skips_when_too_few_remain() {
    let v = json_of(&["run", "scenarios/rolling-upgrade.toml"]);
    let proposals = v["proposals"].as_array().unwrap();
    assert_eq!(proposals.len(), 3);
    let first = &proposals[0];
    assert_eq!(first["status"], "decided");
    assert_eq!(first["proposal"]["proposal_id"], "upgrade-db");
    let m = &first["metadata"];
    assert_eq!(ids(&m["vote_changers"]), ["mallory", "dice"]);
    assert_eq!(ids(&m["equivocators"]), ["eve"]);
    assert_eq!(ids(&m["silent_agents"]), ["crashed"]);
    assert_eq!(m["detection"]["faulty_agents"], 4);
    assert_eq!(m["detection"]["safety_guaranteed"], true);
    assert_eq!(m["detection"]["detected_correctly"], 3);
    assert_eq!(
        first["votes_for"], 9,
        "nine honest FOR votes; the crashed agent casts none"
    );
    // 13 - 3 blacklisted = 10 healthy < 3f+1 = 13: later proposals are skipped.
    for later in &proposals[1..] {
        assert_eq!(later["status"], "skipped");
        assert!(
            later["reason"]
                .as_str()
                .unwrap()
                .contains("10 healthy agents left, fewer than 3f+1 = 13")
        );
        assert_eq!(later["healthy_agents"].as_array().unwrap().len(), 10);
    }
    assert_eq!(ids(&v["blacklist"]), ["mallory", "eve", "dice"]);
}

#[test]
fn faults_beyond_f_warn_in_the_table_and_in_json() {
    let text = format!(
        "algorithm = \"byzantine\"\n{AGENTS_4}[[agents]]\nid = \"x\"\nvote = \"against\"\nbehavior = \"random\"\n\
         [[agents]]\nid = \"y\"\nvote = \"against\"\nbehavior = \"silent\"\n"
    );
    let path = scenario_file("beyond-f.toml", &text);
    let v = json_of(&["run", path.to_str().unwrap()]);
    assert_eq!(v["metadata"]["detection"]["faulty_agents"], 2);
    assert_eq!(v["metadata"]["detection"]["safety_guaranteed"], false);
    let table = stdout_of(&["run", path.to_str().unwrap()]);
    assert!(
        table.contains("WARNING: 2 faulty agents exceed f = 1"),
        "{table}"
    );
}

#[test]
fn gossip_trials_report_the_documented_summary() {
    let v = json_of(&["gossip", "--trials", "200"]);
    let s = &v["trials_summary"];
    assert_eq!(s["trials"], 200);
    for key in [
        "convergence_rate",
        "convergence_rate_ci95",
        "rounds_mean",
        "rounds_p50",
        "rounds_p90",
        "rounds_p99",
        "rounds_max",
        "decisions",
        "mean_final_agreement",
    ] {
        assert!(!s[key].is_null(), "{key} missing in {s}");
    }
    let (p50, p90, p99, max) = (
        s["rounds_p50"].as_u64(),
        s["rounds_p90"].as_u64(),
        s["rounds_p99"].as_u64(),
        s["rounds_max"].as_u64(),
    );
    assert!(p50 <= p90 && p90 <= p99 && p99 <= max, "{s}");
    let decided: u64 = s["decisions"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(decided, 200);
    assert_eq!(v["settings"]["fanout"], 5);
    assert_eq!(v["agents"], 20);
}

/// Example 2's swarm (n = 20, fanout 5, 15 approve / 5 reject), 4000 trials.
///
/// Round 1, given the start, each agent draws its 5 peers independently:
/// - a rejecting agent sees 15 approvers among its 19 others and switches
///   when at least 4 of its 5 peers approve (4 vs 1+1 or 5 vs 1; 3 vs 3 is a
///   tie): p_switch = [C(15,4)C(4,1) + C(15,5)] / C(19,5);
/// - an approving agent sees 5 rejecters among its 19 others and switches
///   when at least 4 peers reject: p_defect = [C(5,4)C(14,1) + C(5,5)] / C(19,5).
///
/// The swarm converges (agreement >= 95%, so at most 1 rejecter) in round 1
/// with probability P(B1 + B2 <= 1), B1 ~ Bin(5, 1 - p_switch) rejecters
/// left and B2 ~ Bin(15, p_defect) defectors: about 0.552. If not, at most a
/// few rejecters remain, each of which then meets at least 4 approvers among
/// 5 peers almost surely, so nearly every trial converges by round 2 and the
/// mean is 1 + (1 - p1) plus a small tail.
#[test]
fn convergence_statistics_match_the_derivation() {
    fn choose(n: u64, k: u64) -> f64 {
        (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
    }
    fn binomial(n: u64, p: f64, k: u64) -> f64 {
        choose(n, k) * p.powi(k as i32) * (1.0 - p).powi((n - k) as i32)
    }
    let all = choose(19, 5);
    let p_switch = (choose(15, 4) * 4.0 + choose(15, 5)) / all;
    let p_defect = (5.0 * 14.0 + 1.0) / all;
    let stay = 1.0 - p_switch;
    let p1 = binomial(5, stay, 0) * (binomial(15, p_defect, 0) + binomial(15, p_defect, 1))
        + binomial(5, stay, 1) * binomial(15, p_defect, 0);
    assert!((p1 - 0.552).abs() < 0.001, "derivation: p1 = {p1}");

    let trials = 4000.0;
    let v = json_of(&["gossip", "--trials", "4000", "--seed", "1"]);
    let s = &v["trials_summary"];
    assert!(s["convergence_rate"].as_f64().unwrap() >= 0.995, "{s}");
    // The mean of R (1 or 2, rarely more) has a standard deviation near 0.5:
    // its standard error over 4000 trials is about 0.008; allow 5 of them,
    // plus 0.03 for the tail beyond round 2.
    let mean = s["rounds_mean"].as_f64().unwrap();
    let expected = 1.0 + (1.0 - p1);
    assert!(
        mean > expected - 0.04 && mean < expected + 0.03 + 0.04,
        "mean {mean}, expected about {expected}"
    );
    // The share converging in round 1, from the CSV history, within 5
    // standard errors (sqrt(p1 (1 - p1) / 4000), about 0.008) of p1.
    let csv = stdout_of(&[
        "gossip", "--trials", "4000", "--seed", "1", "--format", "csv",
    ]);
    let first_round = csv.lines().skip(1).filter(|l| {
        let f: Vec<&str> = l.split(',').collect();
        f[1] == "1" && f[3] == "true"
    });
    let share = first_round.count() as f64 / trials;
    let se = (p1 * (1.0 - p1) / trials).sqrt();
    assert!(
        (share - p1).abs() < 5.0 * se,
        "round-1 share {share}, expected {p1} +- {}",
        5.0 * se
    );
}

#[test]
fn trials_give_identical_bytes_on_one_and_two_threads() {
    for args in [
        &[
            "gossip",
            "--trials",
            "300",
            "--agents",
            "200",
            "--approve",
            "110",
            "--fanout",
            "2",
            "--rounds",
            "30",
        ][..],
        &[
            "byzantine",
            "scenarios/rolling-upgrade.toml",
            "--trials",
            "300",
        ][..],
        &["gossip", "--sweep", "fanout=2..5", "--trials", "100"][..],
    ] {
        let mut one = args.to_vec();
        one.extend(["--threads", "1", "--format", "json"]);
        let mut two = args.to_vec();
        two.extend(["--threads", "2", "--format", "json"]);
        if args[1] == "scenarios/rolling-upgrade.toml" {
            // Trials take a single proposal: run this one with the bundled infra instead.
            for a in [&mut one, &mut two] {
                a[1] = "scenarios/infra.toml";
            }
        }
        assert_eq!(stdout_of(&one), stdout_of(&two), "{args:?}");
    }
    let csv1 = stdout_of(&[
        "gossip",
        "--trials",
        "50",
        "--threads",
        "1",
        "--format",
        "csv",
    ]);
    let csv2 = stdout_of(&[
        "gossip",
        "--trials",
        "50",
        "--threads",
        "2",
        "--format",
        "csv",
    ]);
    assert_eq!(csv1, csv2);
}

#[test]
fn trial_zero_is_the_single_run() {
    let single = json_of(&[
        "gossip",
        "--agents",
        "60",
        "--approve",
        "35",
        "--fanout",
        "2",
    ]);
    let csv = stdout_of(&[
        "gossip",
        "--agents",
        "60",
        "--approve",
        "35",
        "--fanout",
        "2",
        "--trials",
        "3",
        "--format",
        "csv",
    ]);
    let trial0: Vec<&str> = csv
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("0,"))
        .collect();
    let history = single["metadata"]["round_history"].as_array().unwrap();
    assert_eq!(trial0.len(), history.len());
    for (line, round) in trial0.iter().zip(history) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[4], round["votes_for"].to_string());
        assert_eq!(f[5], round["votes_against"].to_string());
    }
}

#[test]
fn byzantine_trials_measure_missed_detection() {
    // One random voter among 4 honest ones, 3 rounds: it slips through with
    // probability 1/4 (same vote three times), so missed_rate is near 0.25.
    let text = "algorithm = \"byzantine\"\n[[groups]]\ncount = 4\nvote = \"for\"\n\
                [[groups]]\ncount = 1\nvote = \"for\"\nbehavior = \"random\"\n";
    let path = scenario_file("one-random.toml", text);
    let v = json_of(&["run", path.to_str().unwrap(), "--trials", "2000"]);
    let s = &v["trials_summary"];
    let missed = s["missed_rate"].as_f64().unwrap();
    // Standard error sqrt(0.25 * 0.75 / 2000) is about 0.0097.
    assert!((missed - 0.25).abs() < 0.05, "{s}");
    assert_eq!(s["false_positive_rate"], 0.0);
    for key in ["byzantine_unsafe_rate", "against_honest_majority_rate"] {
        assert_eq!(s[key], 0.0, "four honest FOR votes always carry the vote");
    }
    assert_eq!(s["decisions"]["approved"], 2000);
}

#[test]
fn sweeps_give_one_row_per_value() {
    let v = json_warned(
        &["gossip", "--sweep", "fanout=1,3,5", "--trials", "200"],
        "--fanout: with fanout 1 an agent hears its own vote and one peer's, which never \
         outvote it, and no honest agent abstains, so no vote can change",
    );
    let rows = v["sweep"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["param"], "fanout");
    assert_eq!(
        rows.iter()
            .map(|r| r["value"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["1", "3", "5"]
    );
    // Fanout 1: an agent and one peer only agree or tie, so nobody ever changes.
    assert_eq!(rows[0]["trials_summary"]["convergence_rate"], 0.0);
    assert_eq!(rows[2]["trials_summary"]["convergence_rate"], 1.0);
    let v = json_of(&["gossip", "--sweep", "agents=20..60:20", "--trials", "10"]);
    let agents: Vec<u64> = v["sweep"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["agents"].as_u64().unwrap())
        .collect();
    assert_eq!(agents, [20, 40, 60]);
    let v = json_of(&[
        "byzantine",
        "--sweep",
        "fault_tolerance=1..3",
        "--trials",
        "10",
    ]);
    assert_eq!(v["sweep"].as_array().unwrap().len(), 3);
    let table = stdout_of(&["gossip", "--sweep", "fanout=2,4", "--trials", "50"]);
    assert!(
        table.contains("Sweep of fanout: 50 trials per value"),
        "{table}"
    );
}

#[test]
fn history_file_holds_one_row_per_trial_and_round() {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("history.csv");
    let _ = std::fs::remove_file(&path);
    let out = stdout_of(&[
        "gossip",
        "--trials",
        "5",
        "--history",
        path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let csv = std::fs::read_to_string(&path).unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("# moai "));
    assert_eq!(
        lines.next(),
        Some(
            "trial,round,agreement_ratio,converged,votes_for,votes_against,abstain,lost_exchanges,partitioned"
        )
    );
    let rows: Vec<&str> = lines.collect();
    let trials: std::collections::BTreeSet<&str> =
        rows.iter().map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(trials.len(), 5);
    assert!(rows.len() as u64 >= 5 && v["trials_summary"]["trials"] == 5);
    let sweep = stdout_of(&[
        "byzantine",
        "--sweep",
        "rounds=3,4",
        "--trials",
        "2",
        "--format",
        "csv",
    ]);
    assert_eq!(
        sweep.lines().nth(1),
        Some("param,value,trial,round,votes_for,votes_against,abstain,silent,equivocations")
    );
    assert_eq!(sweep.lines().count(), 2 + 2 * 3 + 2 * 4);
}

#[test]
fn bad_monte_carlo_flags_are_one_line_errors() {
    assert!(rejected_args(&["gossip", "--trials", "0"]).starts_with("moai: --trials:"));
    assert!(
        rejected_args(&["gossip", "--trials", "5", "--threads", "0"])
            .starts_with("moai: --threads:")
    );
    let err = rejected_args(&["gossip", "--sweep", "colour=1,2"]);
    assert!(
        err.contains("cannot sweep 'colour'") && err.contains("fanout"),
        "{err}"
    );
    let err = rejected_args(&["gossip", "--sweep", "fanout=0,1"]);
    assert_eq!(err, "moai: --sweep: fanout=0: fanout must be at least 1\n");
    let err = rejected_args(&["gossip", "--sweep", "fanout=two"]);
    assert!(err.starts_with("moai: --sweep:"), "{err}");
    let err = usage_error(&["gossip", "--sweep", "threshold=0.5..0.9"]);
    assert!(err.contains("step"), "{err}");
    let err = rejected_args(&["run", "scenarios/rolling-upgrade.toml", "--trials", "3"]);
    assert!(err.contains("[[proposals]]"), "{err}");
    let err = rejected_args(&["resolve", "--format", "csv"]);
    assert!(err.starts_with("moai: --format: csv"), "{err}");
    let err = rejected_args(&["run", "scenarios/hybrid.toml", "--trials", "3"]);
    assert!(err.contains("draws no random numbers"), "{err}");
}

#[test]
fn total_message_loss_freezes_the_swarm() {
    let v = json_warned(
        &["gossip", "--loss", "1.0", "--rounds", "4"],
        "--loss: every exchange is lost (loss = 1), so no vote can change",
    );
    let m = &v["metadata"];
    assert_eq!(m["loss"], 1.0);
    assert_eq!(m["rounds_completed"], 4);
    for round in m["round_history"].as_array().unwrap() {
        assert_eq!(
            (round["votes_for"].as_u64(), round["votes_against"].as_u64()),
            (Some(15), Some(5))
        );
        // Every agent's 5 exchanges were lost: 20 x 5.
        assert_eq!(round["lost_exchanges"], 100);
    }
}

#[test]
fn a_partition_holds_the_split_until_it_heals() {
    let v = json_of(&["run", "scenarios/partitioned-swarm.toml"]);
    let history = v["metadata"]["round_history"].as_array().unwrap();
    for round in &history[..4] {
        assert_eq!(round["partitioned"], true);
        assert_eq!(
            round["votes_for"], 7,
            "each side is unanimous and hears only itself"
        );
        assert_eq!(round["converged"], false);
    }
    assert_eq!(history[4]["partitioned"], false);
    assert_eq!(
        v["metadata"]["partitions"][0]["group_sizes"],
        serde_json::json!([7, 5])
    );
    assert_eq!(v["metadata"]["converged"], true);
    assert_eq!(v["decision"], "approved");
    let table = stdout_of(&["run", "scenarios/partitioned-swarm.toml"]);
    assert!(
        table.contains("rounds 1-4: groups of 7, 5 (+0 ungrouped)"),
        "{table}"
    );
    assert_eq!(table.matches("┆ partitioned").count(), 4, "{table}");
}

#[test]
fn stubborn_agents_cap_agreement_at_what_they_report() {
    // Two stubborn rejecters among 50: agreement can never pass 48/50.
    let v = json_of(&["run", "scenarios/stubborn-lossy.toml", "--trials", "300"]);
    let s = &v["trials_summary"];
    // Trials won by approval end at most 48/50; the rare trials where the
    // rejecters take over (stubborn ones included) end unanimous.
    let agreement = s["mean_final_agreement"].as_f64().unwrap();
    let approved = s["decisions"]["approved"].as_f64().unwrap();
    let rejected = s["decisions"]["rejected"].as_f64().unwrap();
    assert!(
        agreement <= (approved * 0.96 + rejected) / 300.0 + 1e-12,
        "{s}"
    );
    assert_eq!(v["settings"]["loss"], 0.1);
    // A stubborn majority always wins: 6 stubborn FOR against 4 honest AGAINST.
    let text = "algorithm = \"gossip\"\n[gossip]\nfanout = 9\nmax_rounds = 3\n\
                [[groups]]\ncount = 6\nvote = \"for\"\nbehavior = \"stubborn\"\n\
                [[groups]]\ncount = 4\nvote = \"against\"\n";
    let path = scenario_file("stubborn-majority.toml", text);
    let v = json_of(&["run", path.to_str().unwrap()]);
    assert_eq!(v["votes_for"], 10);
    assert_eq!(v["metadata"]["rounds_completed"], 1);
}

#[test]
fn topologies_are_chosen_by_flag_and_validated() {
    for topology in ["ring", "random-regular", "small-world"] {
        let v = json_of(&[
            "gossip",
            "--agents",
            "100",
            "--approve",
            "80",
            "--topology",
            topology,
            "--degree",
            "4",
        ]);
        assert_eq!(v["metadata"]["topology"], topology);
        assert_eq!(v["metadata"]["degree"], 4);
    }
    let err = rejected_args(&["gossip", "--topology", "ring", "--degree", "3"]);
    assert!(err.starts_with("moai: --degree:"), "{err}");
    let err = rejected_args(&["gossip", "--loss", "1.5"]);
    assert!(
        err.starts_with("moai: --loss:") && err.contains("[0, 1]"),
        "{err}"
    );
    let err = rejected_args(&["gossip", "--topology", "small-world", "--rewire", "1.5"]);
    assert!(err.starts_with("moai: --rewire:"), "{err}");
    let text =
        "algorithm = \"gossip\"\n[gossip]\nloss = 2.0\n[[groups]]\ncount = 3\nvote = \"for\"\n";
    let err = rejected("loss.toml", text, "run");
    assert!(err.contains("loss.toml:3:8: key 'gossip.loss'"), "{err}");
    let text = "algorithm = \"gossip\"\n[[gossip.partitions]]\nfrom = 1\nuntil = 2\ngroups = [[\"ghost\"]]\n\
                [[groups]]\ncount = 3\nvote = \"for\"\n";
    let err = rejected("ghost.toml", text, "run");
    assert!(
        err.contains("ghost.toml:")
            && err.contains("gossip.partitions[0].groups")
            && err.contains("ghost"),
        "{err}"
    );
}

#[test]
fn loss_sweeps_show_slower_convergence() {
    let v = json_of(&[
        "gossip",
        "scenarios/stubborn-lossy.toml",
        "--sweep",
        "loss=0..0.6:0.3",
        "--trials",
        "400",
    ]);
    let rows = v["sweep"].as_array().unwrap();
    let values: Vec<&str> = rows.iter().map(|r| r["value"].as_str().unwrap()).collect();
    assert_eq!(values, ["0", "0.3", "0.6"]);
    let means: Vec<f64> = rows
        .iter()
        .map(|r| r["trials_summary"]["rounds_mean"].as_f64().unwrap())
        .collect();
    assert!(
        means[0] < means[1] && means[1] < means[2],
        "more loss, more rounds: {means:?}"
    );
}

#[test]
fn missed_detection_of_random_voters_matches_the_formula() {
    // A random voter escapes when its R votes all agree: 2 * (1/2)^R. With 4
    // of them, some escapes with probability 1 - (1 - 2^(1-R))^4.
    let v = json_of(&[
        "byzantine",
        "scenarios/random-voters.toml",
        "--trials",
        "4000",
        "--sweep",
        "rounds=3,5",
    ]);
    for row in v["sweep"].as_array().unwrap() {
        let rounds: i32 = row["value"].as_str().unwrap().parse().unwrap();
        let expected = 1.0 - (1.0 - 2f64.powi(1 - rounds)).powi(4);
        let missed = row["trials_summary"]["missed_rate"].as_f64().unwrap();
        let se = (expected * (1.0 - expected) / 4000.0).sqrt();
        assert!(
            (missed - expected).abs() < 5.0 * se,
            "R={rounds}: {missed} vs {expected}"
        );
        // Nine honest FOR votes always reach 2f+1 = 9: never unsafe.
        for key in ["byzantine_unsafe_rate", "against_honest_majority_rate"] {
            assert_eq!(row["trials_summary"][key], 0.0);
        }
    }
}

// ---- moai check, expectations, exit codes, stdin, colour ----

#[test]
fn every_bundled_scenario_meets_its_expectations() {
    let out = moai().args(["check", "scenarios/"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    let files = std::fs::read_dir("scenarios").unwrap().count();
    assert_eq!(
        text.lines().last().unwrap(),
        format!("{files} passed, 0 failed")
    );
    assert!(
        !text.contains("no [expect] table"),
        "every bundled scenario carries [expect]:\n{text}"
    );
}

fn expect_file(name: &str, expect: &str) -> PathBuf {
    scenario_file(
        name,
        &format!("algorithm = \"byzantine\"\n{AGENTS_4}[expect]\n{expect}\n"),
    )
}

#[test]
fn a_failed_expectation_exits_1_and_shows_expected_and_actual() {
    let good = expect_file(
        "exp-good.toml",
        "decision = \"approved\"\nhealthy_agents = 4",
    );
    let bad = expect_file(
        "exp-bad.toml",
        "decision = \"rejected\"\nmalicious_agents = [\"agent-2\"]",
    );
    let out = moai()
        .args(["check", good.to_str().unwrap(), bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("decision: expected rejected, got approved"),
        "{text}"
    );
    assert!(
        text.contains("malicious_agents: expected [agent-2], got []"),
        "{text}"
    );
    assert_eq!(text.lines().last().unwrap(), "1 passed, 1 failed");
    let v: Value = serde_json::from_slice(
        &moai()
            .args(["check", bad.to_str().unwrap(), "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(v["results"][0]["status"], "fail");
    assert_eq!(v["results"][0]["mismatches"][0]["key"], "decision");
    assert_eq!(
        (v["passed"].as_u64(), v["failed"].as_u64()),
        (Some(0), Some(1))
    );
}

#[test]
fn bad_input_among_checked_files_exits_2_after_reporting_all() {
    let good = expect_file("exp-ok.toml", "decision = \"approved\"");
    let broken = scenario_file("exp-broken.toml", "algorithm = \"byzantine\"\nfanout = 3\n");
    let out = moai()
        .args(["check", good.to_str().unwrap(), broken.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("┆ error ") && text.contains("unknown field `fanout`"),
        "{text}"
    );
    assert_eq!(text.lines().last().unwrap(), "1 passed, 0 failed, 1 error");
}

#[test]
fn scenarios_without_expectations_pass_when_they_run_and_say_so() {
    let plain = scenario_file(
        "no-expect.toml",
        &format!("algorithm = \"gossip\"\n{AGENTS_4}"),
    );
    let text = stdout_of(&["check", plain.to_str().unwrap()]);
    assert!(text.contains("ran; no [expect] table"), "{text}");
}

#[test]
fn trial_expectations_are_checked_over_the_given_trials() {
    let text = format!(
        "algorithm = \"gossip\"\n[gossip]\nfanout = 1\n{AGENTS_4}[[groups]]\ncount = 4\nvote = \"against\"\n\
         [expect]\ntrials = 50\nmin_convergence_rate = 0.5\ndecision_counts = {{ approved = 50 }}\n"
    );
    let path = scenario_file("exp-trials.toml", &text);
    let out = moai()
        .args(["check", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    // Fanout 1 never moves a 4/4 split: no trial converges, all are rejected.
    assert!(
        text.contains("min_convergence_rate: expected >= 0.5, got 0"),
        "{text}"
    );
    assert!(
        text.contains("decision_counts: expected approved 50, got rejected 50"),
        "{text}"
    );
    let err = rejected(
        "exp-no-trials.toml",
        &format!("algorithm = \"gossip\"\n{AGENTS_4}[expect]\nmax_rounds_p99 = 3\n"),
        "run",
    );
    assert!(
        err.contains("key 'expect.trials'") && err.contains("statistics need trials"),
        "{err}"
    );
    let err = rejected(
        "exp-wrong-algo.toml",
        &format!("algorithm = \"gossip\"\n{AGENTS_4}[expect]\nbyzantine_safe = true\n"),
        "run",
    );
    assert!(
        err.contains("key 'expect.byzantine_safe'")
            && err.contains("does not apply to a gossip scenario"),
        "{err}"
    );
}

#[test]
fn junit_report_has_one_testcase_per_scenario() {
    let good = expect_file("junit-good.toml", "decision = \"approved\"");
    let bad = expect_file("junit-bad.toml", "decision = \"timeout\"");
    let xml_path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("check.xml");
    let out = moai()
        .args([
            "check",
            good.to_str().unwrap(),
            bad.to_str().unwrap(),
            "--junit",
            xml_path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = std::fs::read_to_string(&xml_path).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 2, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    assert!(
        xml.contains("decision: expected timeout, got approved"),
        "{xml}"
    );
    assert!(
        xml.contains("tests=\"2\"") && xml.contains("failures=\"1\""),
        "{xml}"
    );
}

#[test]
fn expect_decision_exits_1_on_a_mismatch_after_printing() {
    let out = moai()
        .args([
            "byzantine",
            "--expect-decision",
            "approved",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = moai()
        .args([
            "byzantine",
            "--expect-decision",
            "rejected",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("the result is still printed");
    assert_eq!(v["decision"], "approved");
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "moai: expectation failed: decision is approved, expected rejected\n"
    );
    let out = moai()
        .args([
            "run",
            "scenarios/gossip-swarm.toml",
            "--expect-decision",
            "rejected",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = rejected_args(&["gossip", "--trials", "3", "--expect-decision", "approved"]);
    assert!(err.starts_with("moai: --expect-decision:"), "{err}");
}

#[test]
fn a_dash_reads_the_scenario_from_stdin() {
    let text = std::fs::read_to_string("scenarios/infra.toml").unwrap();
    let out = moai()
        .args(["run", "-", "--format", "json"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["scenario"], "infra");
    let out = moai()
        .args(["run", "-"])
        .write_stdin("algorithm = 3\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("moai: <stdin>:1:13: key 'algorithm'"),
        "{err}"
    );
}

#[test]
fn validate_checks_files_without_running_them() {
    let text = stdout_of(&["validate", "scenarios/"]);
    assert!(text.trim_end().ends_with("0 invalid"), "{text}");
    let bad = scenario_file(
        "invalid-f.toml",
        &format!("algorithm = \"byzantine\"\n[byzantine]\nfault_tolerance = 5\n{AGENTS_4}"),
    );
    let out = moai()
        .args(["validate", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("needs at least 16 participants"), "{text}");
    assert_eq!(text.lines().last().unwrap(), "0 valid, 1 invalid");
}

#[test]
fn colour_follows_the_flag_no_color_and_the_terminal() {
    let escape = "\u{1b}[";
    // Not a terminal: auto means no colour.
    assert!(!stdout_of(&["byzantine"]).contains(escape));
    let always = stdout_of(&["byzantine", "--color", "always"]);
    assert!(always.contains(escape), "--color always colours");
    let out = moai()
        .args(["byzantine", "--color", "always"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        String::from_utf8(out.stdout).unwrap().contains(escape),
        "an explicit flag beats NO_COLOR"
    );
    assert!(!stdout_of(&["byzantine", "--color", "never"]).contains(escape));
    // JSON is never coloured.
    let json = stdout_of(&["byzantine", "--color", "always", "--format", "json"]);
    assert!(!json.contains(escape));
    // Colour never changes the text itself: without the escape codes it is
    // exactly the uncoloured output.
    let mut stripped = String::new();
    let mut rest = always.as_str();
    while let Some(start) = rest.find(escape) {
        stripped.push_str(&rest[..start]);
        let after = &rest[start..];
        rest = &after[after.find('m').unwrap() + 1..];
    }
    stripped.push_str(rest);
    assert_eq!(stripped, stdout_of(&["byzantine", "--color", "never"]));
}

#[test]
fn no_early_stop_runs_every_round_and_remembers_the_first_converged_one() {
    let early = json_of(&["gossip"]);
    let fixed = json_of(&["gossip", "--no-early-stop"]);
    let (e, f) = (&early["metadata"], &fixed["metadata"]);
    assert_eq!(f["early_stop"], false);
    assert_eq!(f["rounds_completed"], 7, "all max_rounds run");
    assert_eq!(f["round_history"].as_array().unwrap().len(), 7);
    assert_eq!(
        f["converged_round"], e["rounds_completed"],
        "the same stream up to convergence"
    );
    assert_eq!(f["round_history"][0], e["round_history"][0]);
    assert_eq!(f["converged"], true);
    let table = stdout_of(&["gossip", "--no-early-stop"]);
    assert_eq!(table.matches("→ Converged!").count(), 1, "{table}");
    // Trials count rounds to the first convergence, with or without early stop.
    let a = json_of(&["gossip", "--trials", "200"]);
    let b = json_of(&["gossip", "--trials", "200", "--no-early-stop"]);
    assert_eq!(
        a["trials_summary"]["rounds_p99"],
        b["trials_summary"]["rounds_p99"]
    );
    assert_eq!(
        a["trials_summary"]["rounds_mean"],
        b["trials_summary"]["rounds_mean"]
    );
}

#[test]
fn agent_lists_are_cut_at_the_list_limit_and_say_how_many_were_left_out() {
    let v = json_of(&["gossip", "--agents", "1500", "--approve", "1000"]);
    assert_eq!(
        v["participants"].as_array().unwrap().len(),
        1000,
        "default limit 1000"
    );
    assert_eq!(v["omitted"]["participants"], 500);
    let v = json_of(&[
        "gossip",
        "--agents",
        "1500",
        "--approve",
        "1000",
        "--list-limit",
        "2000",
    ]);
    assert_eq!(v["participants"].as_array().unwrap().len(), 1500);
    assert!(v.get("omitted").is_none(), "nothing cut, nothing said");
    let v = json_of(&["byzantine", "--list-limit", "2"]);
    assert_eq!(
        ids(&v["metadata"]["healthy_agents"]),
        ["agent-1", "agent-2"]
    );
    assert_eq!(v["omitted"]["metadata.healthy_agents"], 5);
    assert_eq!(
        v["metadata"]["honest_participants"], 7,
        "counts are not cut"
    );
    let table = stdout_of(&["byzantine", "--list-limit", "2"]);
    assert!(
        table.contains("Healthy agents for next proposal: agent-1, agent-2 (+5 more)"),
        "{table}"
    );
    let v = json_of(&["run", "scenarios/rolling-upgrade.toml", "--list-limit", "1"]);
    assert_eq!(v["omitted"]["proposals[1].healthy_agents"], 9);
    assert_eq!(v["omitted"]["healthy_agents"], 9);
    let v = json_of(&["resolve", "--list-limit", "1"]);
    assert_eq!(
        v["omitted"]["resolutions[0].metadata.merged_from_agents"],
        2
    );
    // Expectations are checked on the whole lists, whatever the limit.
    let out = moai()
        .args([
            "byzantine",
            "--list-limit",
            "0",
            "--expect-decision",
            "approved",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
}

#[test]
fn the_memory_guard_refuses_runs_larger_than_the_limit() {
    let out = moai()
        .args([
            "gossip",
            "--agents",
            "1000000",
            "--approve",
            "600000",
            "--threads",
            "1",
        ])
        .env("MOAI_MAX_MEMORY", "20M")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1);
    assert!(
        err.contains(
            "needs about 20.3 MiB of memory, more than 20.0 MiB (MOAI_MAX_MEMORY): lower --agents"
        ),
        "{err}"
    );
    let out = moai()
        .args(["byzantine", "scenarios/infra.toml"])
        .env("MOAI_MAX_MEMORY", "100")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Under the limit the run goes ahead.
    let out = moai()
        .args(["gossip", "--agents", "1000", "--format", "json"])
        .env("MOAI_MAX_MEMORY", "32M")
        .output()
        .unwrap();
    assert!(out.status.success());
}

#[test]
fn a_large_single_run_gives_identical_bytes_on_one_and_two_threads() {
    // 20,000 agents: five blocks of 4096, each drawing from its own window.
    let run = |threads: &str| {
        stdout_of(&[
            "gossip",
            "--agents",
            "20000",
            "--approve",
            "11000",
            "--fanout",
            "3",
            "--loss",
            "0.1",
            "--rounds",
            "8",
            "--no-early-stop",
            "--threads",
            threads,
            "--format",
            "json",
        ])
    };
    assert_eq!(run("1"), run("2"));
}

//! What a new user meets first: usage errors that keep clap's help, bundled
//! scenarios by name, `moai new`, the overrides a run was made with, the
//! provenance every result records, and `--trial I`.

use std::path::PathBuf;

use serde_json::Value;

#[path = "support/run.rs"]
mod run;
use run::{json_of, moai, stdout_of};

/// Runs moai expecting exit code 2 and an empty stdout; returns stderr.
fn exit_2(args: &[&str]) -> String {
    let out = moai().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "moai {args:?} should exit 2");
    assert!(out.stdout.is_empty(), "stdout must stay empty on errors");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// Like [`exit_2`], for moai's own errors: exactly one line.
fn one_line_error(args: &[&str]) -> String {
    let stderr = exit_2(args);
    assert_eq!(stderr.lines().count(), 1, "one line, got: {stderr}");
    stderr
}

/// A scratch folder of the test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// Command-line errors keep their useful part.

#[test]
fn a_misspelt_flag_keeps_clap_tip_and_usage() {
    let err = exit_2(&["gossip", "--fanot", "5"]);
    assert!(
        err.starts_with("error: unexpected argument '--fanot' found"),
        "{err}"
    );
    assert!(
        err.contains("tip: a similar argument exists: '--fanout'"),
        "{err}"
    );
    assert!(err.contains("Usage: moai gossip"), "{err}");
}

#[test]
fn a_bad_value_keeps_the_possible_values() {
    let err = exit_2(&["gossip", "--topology", "star"]);
    assert!(
        err.contains("invalid value 'star' for '--topology <TOPOLOGY>'"),
        "{err}"
    );
    assert!(
        err.contains("[possible values: complete, ring, random-regular, small-world]"),
        "{err}"
    );
}

#[test]
fn a_missing_argument_is_named() {
    let err = exit_2(&["run"]);
    assert!(
        err.contains("the following required arguments were not provided:\n  <SCENARIO>"),
        "{err}"
    );
    assert!(err.contains("Usage: moai run <SCENARIO>"), "{err}");
}

#[test]
fn bare_moai_prints_the_help_on_stderr() {
    let err = exit_2(&[]);
    assert!(err.contains("Usage: moai [OPTIONS] <COMMAND>"), "{err}");
    assert!(err.contains("Commands:"), "{err}");
    for command in ["byzantine", "gossip", "resolve", "run", "new", "check"] {
        assert!(err.contains(&format!("\n  {command} ")), "{command}: {err}");
    }
}

#[test]
fn a_negative_seed_says_what_a_seed_is() {
    let err = exit_2(&["gossip", "--seed", "-1"]);
    assert!(
        err.starts_with(
            "error: invalid value '-1' for '--seed <U64>': the seed must be a whole number \
             from 0 to 2^64-1 (18446744073709551615)"
        ),
        "{err}"
    );
    let err = exit_2(&["byzantine", "--seed", "2.5"]);
    assert!(err.contains("the seed must be a whole number"), "{err}");
    let top = json_of(&["gossip", "--seed", "18446744073709551615"]);
    assert_eq!(top["seed"], 18446744073709551615u64);
}

#[test]
fn generated_agents_that_break_the_file_blame_the_flag() {
    let err = one_line_error(&[
        "gossip",
        "scenarios/partitioned-swarm.toml",
        "--approve",
        "3",
    ]);
    assert_eq!(
        err,
        "moai: --approve: the generated agents (agent-1, agent-2, ...) replace the \
         scenario's, which it still refers to: scenarios/partitioned-swarm.toml:20:4: key \
         'gossip.partitions[0].groups[0][0]': unknown agent id 'east-1'\n"
    );
    let err = one_line_error(&[
        "gossip",
        "scenarios/partitioned-swarm.toml",
        "--agents",
        "12",
        "--approve",
        "3",
    ]);
    assert!(err.starts_with("moai: --agents: "), "{err}");
}

#[test]
fn a_file_broken_anyway_is_still_blamed_with_generated_agents() {
    let dir = scratch("broken-anyway");
    let file = dir.join("p.toml");
    std::fs::write(
        &file,
        "algorithm = \"gossip\"\n[[groups]]\ncount = 4\nvote = \"approve\"\n\
         [[gossip.partitions]]\nfrom = 1\nuntil = 2\ngroups = [[\"nobody\"]]\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let err = one_line_error(&["gossip", path, "--agents", "6"]);
    assert!(
        err.starts_with(&format!("moai: {path}:8:")) && err.contains("unknown agent id 'nobody'"),
        "{err}"
    );
}

// Bundled scenarios reach users wherever they are.

#[test]
fn every_scenario_command_takes_a_bundled_name() {
    for (command, name) in [
        ("byzantine", "random-voters"),
        ("gossip", "stubborn-lossy"),
        ("resolve", "vector-clocks"),
        ("run", "rolling-upgrade"),
        ("run", "hybrid"),
    ] {
        let by_path = format!("scenarios/{name}.toml");
        assert_eq!(
            stdout_of(&[command, name]),
            stdout_of(&[command, &by_path]),
            "{command} {name}"
        );
    }
    // The name may carry `.toml`, and runs from any directory.
    let dir = scratch("anywhere");
    let out = moai()
        .current_dir(&dir)
        .args(["run", "infra.toml", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["scenario"], "infra");
}

#[test]
fn a_file_that_exists_wins_over_a_bundled_name() {
    let dir = scratch("file-wins");
    std::fs::write(
        dir.join("infra"),
        "algorithm = \"gossip\"\nname = \"mine\"\n[[groups]]\ncount = 3\nvote = \"approve\"\n",
    )
    .unwrap();
    let out = moai()
        .current_dir(&dir)
        .args(["run", "infra", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (json["scenario"].as_str(), json["algorithm"].as_str()),
        (Some("mine"), Some("gossip"))
    );
}

#[test]
fn an_unknown_name_lists_the_bundled_names() {
    for command in ["run", "byzantine", "gossip", "resolve"] {
        let err = one_line_error(&[command, "rolling-upgrades"]);
        assert_eq!(
            err,
            "moai: cannot read scenario 'rolling-upgrades': no such file, and no bundled \
             scenario of that name (bundled: infra, rolling-upgrade, random-voters, \
             gossip-swarm, stubborn-lossy, partitioned-swarm, crdt-patterns, vector-clocks, \
             hybrid)\n"
        );
    }
}

#[test]
fn help_says_a_scenario_may_be_a_bundled_name() {
    for command in ["byzantine", "gossip", "resolve", "run"] {
        let help = stdout_of(&[command, "--help"]);
        assert!(
            help.contains("Scenario file, or a bundled scenario's name"),
            "{command}: {help}"
        );
    }
}

/// The JSON of `moai run FILE` without the scenario's name.
fn run_json_without_name(path: &str) -> Value {
    let mut json = json_of(&["run", path]);
    json.as_object_mut().unwrap().remove("scenario");
    json
}

#[test]
fn moai_new_prints_a_template_that_parses_and_runs() {
    let dir = scratch("new");
    let templates = [
        ("byzantine", "infra"),
        ("gossip", "gossip-swarm"),
        ("resolve", "crdt-patterns"),
        ("infra", "infra"),
        ("rolling-upgrade", "rolling-upgrade"),
        ("random-voters", "random-voters"),
        ("stubborn-lossy", "stubborn-lossy"),
        ("partitioned-swarm", "partitioned-swarm"),
        ("vector-clocks", "vector-clocks"),
        ("hybrid", "hybrid"),
    ];
    for (template, bundled) in templates {
        let text = stdout_of(&["new", "my-first", "--from", template]);
        assert!(
            text.starts_with(&format!(
                "# my-first: a moai scenario, started from the bundled scenario '{bundled}'\n"
            )),
            "{text}"
        );
        assert!(text.contains("\nname = \"my-first\"\n"), "{text}");
        assert!(text.contains("#   algorithm "), "{text}");
        let file = dir.join(format!("{template}.toml"));
        std::fs::write(&file, &text).unwrap();
        let path = file.to_str().unwrap();
        stdout_of(&["validate", path]);
        let ran = json_of(&["run", path]);
        assert_eq!(ran["scenario"], "my-first");
        assert_eq!(
            run_json_without_name(path),
            run_json_without_name(bundled),
            "{template}"
        );
    }
}

#[test]
fn moai_new_takes_its_template_from_the_name_or_from() {
    let text = stdout_of(&["new", "gossip"]);
    assert!(
        text.contains("(`moai new gossip --from gossip-swarm`)"),
        "{text}"
    );
    assert!(text.contains("\nname = \"gossip\"\n"), "{text}");
    assert!(text.contains("#   [gossip]       fanout: peers"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("#:schema")), "{text}");
    // Quotes in the name are escaped: the file still parses.
    let dir = scratch("new-quoted");
    let file = dir.join("q.toml");
    std::fs::write(
        &file,
        stdout_of(&["new", "say \"hi\"", "--from", "resolve"]),
    )
    .unwrap();
    assert_eq!(
        json_of(&["run", file.to_str().unwrap()])["scenario"],
        "say \"hi\""
    );
    let err = one_line_error(&["new", "my-vote"]);
    assert_eq!(
        err,
        "moai: --from: no template named 'my-vote'; start from an algorithm (byzantine, \
         gossip, resolve) or a bundled scenario (infra, rolling-upgrade, random-voters, \
         gossip-swarm, stubborn-lossy, partitioned-swarm, crdt-patterns, vector-clocks, \
         hybrid)\n"
    );
}

#[test]
fn the_header_shows_what_flags_changed() {
    let out = stdout_of(&[
        "gossip",
        "--agents",
        "1000",
        "--approve",
        "750",
        "--list-limit",
        "3",
    ]);
    let lines: Vec<&str> = out.lines().take(4).collect();
    assert_eq!(
        lines,
        [
            "=== Gossip Protocol Consensus ===",
            "Scenario: gossip-swarm (seed 42)",
            "Description: 20-agent swarm, 15 approve / 5 reject, fanout 5, up to 7 rounds",
            "Overrides: agents = 1000, approve = 750",
        ]
    );
    let out = stdout_of(&["byzantine", "--fault-tolerance", "2", "--seed", "7"]);
    assert!(
        out.contains("\nOverrides: fault_tolerance = 2, seed = 7\n"),
        "{out}"
    );
    let out = stdout_of(&[
        "gossip",
        "--topology",
        "ring",
        "--loss",
        "0.1",
        "--no-early-stop",
    ]);
    assert!(
        out.contains("\nOverrides: loss = 0.1, topology = ring, no_early_stop = true\n"),
        "{out}"
    );
    assert!(!stdout_of(&["gossip"]).contains("Overrides:"));
    let out = stdout_of(&["gossip", "--trials", "3", "--fanout", "2"]);
    assert!(out.contains("stream i)\nOverrides: fanout = 2\n"), "{out}");
}

#[test]
fn json_records_the_overrides() {
    let json = json_of(&["byzantine", "--fault-tolerance", "2"]);
    assert_eq!(json["overrides"], serde_json::json!({"fault_tolerance": 2}));
    assert_eq!(json_of(&["gossip"])["overrides"], serde_json::json!({}));
    let json = json_of(&[
        "gossip",
        "--trials",
        "3",
        "--agents",
        "30",
        "--topology",
        "ring",
    ]);
    assert_eq!(
        json["overrides"],
        serde_json::json!({"agents": 30, "topology": "ring"})
    );
    // A sweep records the other flags; the swept one is per row.
    let json = json_of(&[
        "gossip",
        "--sweep",
        "fanout=2,3",
        "--trials",
        "2",
        "--rounds",
        "9",
    ]);
    assert_eq!(json["overrides"], serde_json::json!({"rounds": 9}));
    assert_eq!(json["sweep"][1]["settings"]["fanout"], 3);
    assert_eq!(json["sweep"][1]["settings"]["max_rounds"], 9);
}

// Every JSON result says what made it.

#[test]
fn every_json_result_records_version_stream_and_settings() {
    let version = env!("CARGO_PKG_VERSION");
    let stream = moai::rng::STREAM_VERSION;
    for args in [
        &["byzantine"][..],
        &["gossip"],
        &["run", "rolling-upgrade"],
        &["gossip", "--trials", "2"],
        &["byzantine", "--sweep", "rounds=3,4", "--trials", "2"],
        &["resolve"],
        &["check", "infra"],
        &["validate", "infra"],
    ] {
        let json = json_of(args);
        assert_eq!(json["moai_version"], version, "{args:?}");
        assert_eq!(json["stream"], stream, "{args:?}");
        let keys: Vec<&String> = json.as_object().unwrap().keys().take(2).collect();
        assert_eq!(keys, ["moai_version", "stream"], "{args:?}");
    }
    let json = json_of(&["byzantine", "--rounds", "4"]);
    assert_eq!(
        json["settings"],
        serde_json::json!({"fault_tolerance": 3, "num_rounds": 4, "timeout_reached": false})
    );
    let json = json_of(&["gossip", "--fanout", "2"]);
    assert_eq!(json["settings"]["fanout"], 2);
    assert_eq!(json["settings"]["max_rounds"], 7);
}

/// The flags that redo a run from its JSON `overrides`.
fn flags_of(overrides: &Value) -> Vec<String> {
    let mut flags = Vec::new();
    for (name, value) in overrides.as_object().unwrap() {
        flags.push(format!("--{}", name.replace('_', "-")));
        match value {
            Value::Bool(true) => {}
            Value::String(s) => flags.push(s.clone()),
            other => flags.push(other.to_string()),
        }
    }
    flags
}

#[test]
fn a_json_result_is_enough_to_run_it_again() {
    let first = json_of(&[
        "gossip",
        "stubborn-lossy",
        "--agents",
        "40",
        "--approve",
        "25",
        "--fanout",
        "2",
        "--loss",
        "0.2",
        "--no-early-stop",
        "--seed",
        "9",
    ]);
    assert_eq!(first["stream"], moai::rng::STREAM_VERSION);
    let mut args = vec![
        "gossip".to_string(),
        first["scenario"].as_str().unwrap().to_string(),
    ];
    args.extend(flags_of(&first["overrides"]));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(json_of(&args), first);
}

#[test]
fn csv_history_starts_with_what_made_it() {
    let csv = stdout_of(&["gossip", "--format", "csv", "--fanout", "4"]);
    let first = csv.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "# moai {}, stream {}, scenario gossip-swarm, seed 42, overrides {{\"fanout\":4}}, \
             settings {{\"fanout\":4,\"max_rounds\":7,\"convergence_threshold\":0.95,\
             \"min_participation\":0.5,\"threshold\":0.66,\"loss\":0.0,\"topology\":\"complete\",\"degree\":4,\
             \"rewire\":0.1,\"partitions\":[],\"early_stop\":true}}",
            env!("CARGO_PKG_VERSION"),
            moai::rng::STREAM_VERSION
        )
    );
    assert!(csv.lines().nth(1).unwrap().starts_with("trial,round,"));
    let csv = stdout_of(&["byzantine", "--trials", "3", "--format", "csv"]);
    let expected = format!(
        "# moai {}, stream {}, scenario infra, seed 42, trials 3, overrides {{}}",
        env!("CARGO_PKG_VERSION"),
        moai::rng::STREAM_VERSION
    );
    assert!(csv.starts_with(&expected), "{csv}");
    let csv = stdout_of(&[
        "gossip",
        "--sweep",
        "fanout=2,3",
        "--trials",
        "2",
        "--format",
        "csv",
    ]);
    let first = csv.lines().next().unwrap();
    assert!(
        first.contains(
            ", trials 2, sweep fanout=2,3, overrides {}, settings at fanout=2 {\"fanout\":2,"
        ),
        "{first}"
    );
}

// Inspect one trial.

#[test]
fn trial_0_is_the_plain_run_byte_for_byte() {
    for command in ["byzantine", "gossip"] {
        for format in ["table", "json", "csv"] {
            assert_eq!(
                stdout_of(&[
                    command, "--trials", "50", "--trial", "0", "--format", format
                ]),
                stdout_of(&[command, "--format", format]),
                "{command} {format}"
            );
        }
    }
}

/// The CSV rows of trial `trial`, without the comment line and header.
fn rows_of_trial(csv: &str, trial: u64) -> Vec<String> {
    csv.lines()
        .skip(2)
        .filter(|line| line.split(',').next() == Some(&trial.to_string()))
        .map(str::to_string)
        .collect()
}

#[test]
fn trial_i_is_the_ith_trial_of_the_trials() {
    for (command, scenario) in [("gossip", "stubborn-lossy"), ("byzantine", "random-voters")] {
        let all = stdout_of(&[command, scenario, "--trials", "8", "--format", "csv"]);
        let mut differs = false;
        for trial in [3u64, 7] {
            let i = trial.to_string();
            let one = stdout_of(&[
                command, scenario, "--trials", "8", "--trial", &i, "--format", "csv",
            ]);
            assert!(
                one.lines()
                    .next()
                    .unwrap()
                    .contains(&format!(", seed 42, trial {trial}, "))
            );
            let rows = rows_of_trial(&one, trial);
            assert!(!rows.is_empty());
            assert_eq!(
                rows.len(),
                one.lines().count() - 2,
                "every row is trial {trial}"
            );
            assert_eq!(rows, rows_of_trial(&all, trial), "{command} trial {trial}");
            differs |= rows != rows_of_trial(&all, 0);
        }
        assert!(differs, "{command}: trials draw from different streams");
    }
}

#[test]
fn trial_i_prints_a_whole_single_run() {
    let table = stdout_of(&["gossip", "stubborn-lossy", "--trials", "10", "--trial", "4"]);
    assert!(table.starts_with(
        "=== Gossip Protocol Consensus ===\nScenario: stubborn-lossy (seed 42, trial 4: the seed's stream 4)\n"
    ));
    assert!(
        table.contains("=== Round-by-Round Convergence ==="),
        "{table}"
    );
    let json = json_of(&["gossip", "stubborn-lossy", "--trials", "10", "--trial", "4"]);
    assert_eq!(json["trial"], 4);
    assert!(json["metadata"]["round_history"].as_array().unwrap().len() > 1);
    assert!(
        json_of(&["gossip", "stubborn-lossy"])
            .get("trial")
            .is_none()
    );
    // Its decision and rounds agree with the trials' history of trial 4.
    let all = stdout_of(&[
        "gossip",
        "stubborn-lossy",
        "--trials",
        "10",
        "--format",
        "csv",
    ]);
    assert_eq!(
        rows_of_trial(&all, 4).len() as u64,
        json["metadata"]["rounds_completed"].as_u64().unwrap()
    );
}

#[test]
fn a_trial_out_of_range_names_the_flag() {
    assert_eq!(
        one_line_error(&["gossip", "--trials", "5", "--trial", "5"]),
        "moai: --trial: trials are numbered 0 to 4 with --trials 5, got 5\n"
    );
    assert_eq!(
        one_line_error(&["byzantine", "--trials", "1", "--trial", "9"]),
        "moai: --trial: trials are numbered 0 to 0 with --trials 1, got 9\n"
    );
    let err = exit_2(&["gossip", "--trial", "2"]);
    assert!(
        err.contains("the following required arguments were not provided:\n  --trials <N>"),
        "{err}"
    );
    let err = exit_2(&[
        "gossip",
        "--trials",
        "4",
        "--trial",
        "2",
        "--sweep",
        "fanout=1,2",
    ]);
    assert!(
        err.contains("'--trial <I>' cannot be used with '--sweep <PARAM=VALUES>'"),
        "{err}"
    );
}

#[test]
fn moai_new_explains_every_setting_of_its_algorithm() {
    // The header's key list cannot fall behind the scenario format: every
    // key the schema gives the algorithm's settings table is explained.
    let schema: Value = serde_json::from_str(&stdout_of(&["schema"])).unwrap();
    for (template, table) in [("gossip", "gossip"), ("byzantine", "byzantine")] {
        let text = stdout_of(&["new", "mine", "--from", template]);
        let header: String = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let keys = schema["properties"][table]["properties"]
            .as_object()
            .unwrap();
        assert!(!keys.is_empty());
        for key in keys.keys() {
            assert!(
                header.contains(key.as_str()),
                "{template}: {key} not explained:\n{header}"
            );
        }
    }
}

//! Numbers people read (issue 10): percentages near the bounds, exact sweep
//! values, both meanings of "unsafe" in Byzantine summaries, which agent won
//! each key of a map merge, and Byzantine swarms generated from flags.

use std::path::PathBuf;

use serde_json::Value;

#[path = "support/run.rs"]
mod run;
use run::{json_of, moai, stdout_of};

/// Runs moai expecting exit code 2, empty stdout and one line on stderr.
fn rejected(args: &[&str]) -> String {
    let out = moai().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "moai {args:?} should exit 2");
    assert!(out.stdout.is_empty(), "stdout must stay empty on errors");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line on stderr: {stderr}");
    stderr
}

/// Writes a scenario into the test's scratch folder and returns its path.
fn scenario_file(name: &str, text: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The value of the row labelled `label` in a two-column table.
fn row<'a>(table: &'a str, label: &str) -> &'a str {
    let line = table
        .lines()
        .find(|l| l.starts_with(&format!("│ {label} ")))
        .unwrap_or_else(|| panic!("no row {label:?} in\n{table}"));
    line.split('┆').nth(1).unwrap().trim_end_matches('│').trim()
}

#[test]
fn percentages_near_the_bounds_keep_the_digits_that_differ() {
    // 100,000 trials, none unsafe: the Wilson upper bound is 0.0038%,
    // below 0.01%, so in scientific notation.
    let out = stdout_of(&["byzantine", "--trials", "100000"]);
    assert_eq!(row(&out, "Not Byzantine safe"), "0%");
    assert_eq!(row(&out, "Not Byzantine safe 95% CI"), "0% to 3.8e-5");
    // Every gossip trial converges: exactly 100% prints as 100%.
    let out = stdout_of(&["gossip", "--trials", "300"]);
    assert_eq!(row(&out, "Converged"), "300 of 300 (100%)");
    assert_eq!(row(&out, "Convergence rate 95% CI"), "98.74% to 100%");
    assert_eq!(row(&out, "Message loss"), "0%");
    assert_eq!(row(&out, "Convergence threshold"), "95.00%");
    assert!(!out.contains("100.00%"), "{out}");
}

#[test]
fn byzantine_summaries_report_both_meanings_of_unsafe() {
    // f = 2 with three vote changers: every run detects more than f agents,
    // so no run can claim safety, yet the honest majority always wins.
    let args = ["byzantine", "--fault-tolerance", "2", "--trials", "100"];
    let s = &json_of(&args)["trials_summary"];
    assert_eq!(s["byzantine_unsafe_rate"], 1.0, "{s}");
    assert_eq!(s["against_honest_majority_rate"], 0.0, "{s}");
    assert!(s.get("unsafe_rate").is_none(), "the ambiguous name is gone");
    assert_eq!(s["byzantine_unsafe_rate_ci95"][1], 1.0);
    assert_eq!(s["against_honest_majority_rate_ci95"][0], 0.0);
    let out = stdout_of(&args);
    assert_eq!(
        row(&out, "Not Byzantine safe (byzantine_safe = false)"),
        "100%"
    );
    assert_eq!(row(&out, "Against honest majority"), "0%");

    // Two honest FOR, one honest AGAINST and a crashed agent, f = 1: two
    // FOR votes miss 2f+1 = 3, so every run rejects, both without safety
    // and against the honest majority.
    let text = "algorithm = \"byzantine\"\n\
                [[groups]]\ncount = 2\nvote = \"for\"\n\
                [[groups]]\ncount = 1\nvote = \"against\"\n\
                [[groups]]\ncount = 1\nvote = \"for\"\nbehavior = \"silent\"\n";
    let path = scenario_file("crashed-fourth.toml", text);
    let s = &json_of(&["run", path.to_str().unwrap(), "--trials", "50"])["trials_summary"];
    assert_eq!(s["decisions"]["rejected"], 50, "{s}");
    assert_eq!(s["byzantine_unsafe_rate"], 1.0, "{s}");
    assert_eq!(s["against_honest_majority_rate"], 1.0, "{s}");
}

#[test]
fn decimal_sweep_values_are_exact_in_every_format() {
    let args = ["gossip", "--sweep", "loss=0..0.3:0.01", "--trials", "2"];
    let out = stdout_of(&args);
    assert!(out.contains("│ 0.29 "), "{out}");
    assert!(!out.contains("0000000"), "{out}");
    let v = json_of(&args);
    let values: Vec<&str> = v["sweep"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    assert_eq!(values.len(), 31);
    assert_eq!(values[29], "0.29");
    assert_eq!(values[30], "0.3");
    // Tiny steps keep their digits; -0 is 0, in the table and the CSV.
    let v = json_of(&[
        "gossip",
        "--sweep",
        "loss=0..1e-12:2.5e-13",
        "--trials",
        "1",
    ]);
    assert_eq!(v["sweep"][1]["value"], "0.00000000000025");
    let out = stdout_of(&["gossip", "--sweep", "loss=-0,0.10", "--trials", "1"]);
    assert!(
        out.contains("│ 0    ┆") && out.contains("│ 0.1  ┆"),
        "{out}"
    );
    assert!(!out.contains("-0"), "{out}");
    let csv = stdout_of(&[
        "gossip", "--sweep", "loss=-0", "--trials", "1", "--format", "csv",
    ]);
    // Line 0 is the `# moai ...` comment, line 1 the header.
    assert!(csv.lines().nth(2).unwrap().starts_with("loss,0,"), "{csv}");
    // A flag's -0 is 0 too, in JSON as in the table.
    let json = stdout_of(&["gossip", "--loss=-0", "--format", "json"]);
    assert!(json.contains("\"loss\": 0.0,"), "{json}");
    assert!(!json.contains("-0"), "{json}");
    let out = stdout_of(&["gossip", "--loss=-0"]);
    assert_eq!(row(&out, "Message loss"), "0%");
}

/// Agent ids of a JSON list.
fn ids(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

#[test]
fn flags_generate_the_infra_swarm_exactly() {
    // Example 1 is 7 honest agents for, then 3 vote changers against: the
    // flags say the same, with the faulty agents last.
    let flags = json_of(&[
        "byzantine",
        "--agents",
        "10",
        "--approve",
        "7",
        "--faulty",
        "3",
        "--behavior",
        "flip",
    ]);
    let file = json_of(&["byzantine"]);
    assert_eq!(flags["decision"], "approved");
    assert_eq!(
        ids(&flags["metadata"]["malicious_agents"]),
        ["agent-8", "agent-9", "agent-10"]
    );
    for key in ["decision", "votes_for", "votes_against", "metadata"] {
        assert_eq!(flags[key], file[key], "{key}");
    }
}

#[test]
fn a_ten_thousand_agent_byzantine_vote_needs_no_file() {
    let base = [
        "byzantine",
        "--agents",
        "10000",
        "--approve",
        "9000",
        "--faulty",
        "100",
        "--fault-tolerance",
        "3333",
        "--list-limit",
        "2",
    ];
    let run = |behavior: &str| {
        let mut args = base.to_vec();
        args.extend(["--behavior", behavior]);
        json_of(&args)
    };
    // Vote changers: every one caught, nobody else accused.
    let v = run("flip");
    let m = &v["metadata"];
    assert_eq!(v["decision"], "approved");
    assert_eq!(m["total_participants"], 10000);
    assert_eq!(m["malicious_detected"], 100);
    assert_eq!(ids(&m["malicious_agents"]), ["agent-9901", "agent-9902"]);
    assert_eq!(m["detection"]["faulty_agents"], 100);
    assert_eq!(m["detection"]["detected_correctly"], 100);
    assert_eq!(m["detection"]["safety_guaranteed"], true);
    assert_eq!(m["detection"]["false_positives"], serde_json::json!([]));
    assert_eq!(m["detection"]["missed"], serde_json::json!([]));
    assert_eq!(m["byzantine_safe"], true);
    assert_eq!(v["votes_for"], 9000);
    assert_eq!(v["votes_against"], 900);
    // Equivocators: 9,900 honest relays show every one of them.
    let m = &run("equivocate")["metadata"];
    assert_eq!(m["malicious_detected"], 100);
    assert_eq!(m["equivocators"].as_array().unwrap().len(), 2);
    assert_eq!(v["omitted"]["metadata.malicious_agents"], 98);
    // Crashed agents: counted apart, never accused.
    let v = run("silent");
    let m = &v["metadata"];
    assert_eq!(m["malicious_detected"], 0);
    assert_eq!(ids(&m["silent_agents"]), ["agent-9901", "agent-9902"]);
    assert_eq!(v["omitted"]["metadata.silent_agents"], 98);
    assert_eq!(m["honest_participants"], 9900);
    // Random voters: five rounds catch most, some slip into the tally.
    let v = run("random");
    let m = &v["metadata"];
    let caught = m["malicious_detected"].as_u64().unwrap();
    let missed = m["detection"]["missed"].as_array().unwrap().len() as u64
        + v["omitted"]["metadata.detection.missed"]
            .as_u64()
            .unwrap_or(0);
    assert_eq!(caught + missed, 100, "{m}");
    assert!((80..100).contains(&caught), "{m}");
    assert_eq!(m["detection"]["detected_correctly"], caught);
    assert!(missed > 0, "{m}");
}

#[test]
fn faulty_alone_keeps_the_scenarios_agents_and_votes() {
    // Infra has 10 agents, 7 approving: the last 2 crash, the rest are honest.
    let v = json_of(&["byzantine", "--faulty", "2", "--behavior", "silent"]);
    let m = &v["metadata"];
    assert_eq!(m["total_participants"], 10);
    assert_eq!(ids(&m["silent_agents"]), ["agent-9", "agent-10"]);
    assert_eq!(m["malicious_detected"], 0);
    assert_eq!(
        (v["votes_for"].as_u64(), v["votes_against"].as_u64()),
        (Some(7), Some(1))
    );
    // Without --behavior they change their votes.
    let v = json_of(&["byzantine", "--faulty", "2"]);
    assert_eq!(
        ids(&v["metadata"]["vote_changers"]),
        ["agent-9", "agent-10"]
    );
}

#[test]
fn agents_and_faulty_are_sweepable() {
    let v = json_of(&[
        "byzantine",
        "--agents",
        "100",
        "--approve",
        "100",
        "--fault-tolerance",
        "33",
        "--trials",
        "20",
        "--sweep",
        "faulty=0..40:20",
    ]);
    let rows = v["sweep"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for (row, faulty) in rows.iter().zip([0.0, 20.0, 40.0]) {
        let s = &row["trials_summary"];
        assert_eq!(s["mean_malicious_detected"], faulty, "{row}");
        // 40 caught leave 60 FOR votes, short of 2f+1 = 67: every trial
        // rejects, without safety and against the honest majority.
        let bad = if faulty > 33.0 { 1.0 } else { 0.0 };
        assert_eq!(s["byzantine_unsafe_rate"], bad, "{row}");
        assert_eq!(s["against_honest_majority_rate"], bad, "{row}");
    }
    let v = json_of(&[
        "byzantine",
        "--faulty",
        "3",
        "--trials",
        "5",
        "--sweep",
        "agents=10,40",
    ]);
    let agents: Vec<u64> = v["sweep"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["agents"].as_u64().unwrap())
        .collect();
    assert_eq!(agents, [10, 40]);
    let err = rejected(&["byzantine", "--sweep", "faulty=0,11", "--trials", "2"]);
    assert!(
        err.contains("--sweep: faulty=11: 11 faulty agents is more than the 10 agents"),
        "{err}"
    );
}

#[test]
fn generated_byzantine_swarms_refuse_impossible_counts_at_the_flag() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["byzantine", "--faulty", "11"],
            "--faulty: 11 faulty agents is more than the 10 agents",
        ),
        (
            &["byzantine", "--agents", "20", "--approve", "21"],
            "--approve: 21 approving agents is more than the 20 agents",
        ),
        (
            &["byzantine", "--behavior", "random"],
            "--behavior: it says how the --faulty agents behave: give --faulty K too",
        ),
        (
            &["byzantine", "--agents", "5"],
            "--agents: fault tolerance f=3 needs at least 10 participants (3f+1)",
        ),
    ];
    for (args, message) in cases {
        let err = rejected(args);
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(!err.contains("infra.toml"), "the flag is to blame: {err}");
    }
}

#[test]
fn map_merges_show_which_agent_won_each_key() {
    let out = stdout_of(&["resolve", "scenarios/crdt-patterns.toml"]);
    for line in [
        "    max_workers: 15 (agent-2, newest)\n",
        "    timeout: 60 (agent-3, newest)\n",
        "    retry: 5 (agent-3, newest)\n",
        "    batch_size: 100 (agent-2, only one)\n",
        "    queue_size: 1000 (agent-3, only one)\n",
        "    auth: [\"enabled\",\"sso\",\"mfa\",\"oauth\"] (union of agent-1, agent-2)\n",
        "    api: [\"v2\",\"graphql\"] (agent-1, only one)\n",
    ] {
        assert!(out.contains(line), "{line:?} missing from\n{out}");
    }
    let v = json_of(&["resolve", "scenarios/crdt-patterns.toml"]);
    let config = &v["resolutions"][2];
    assert_eq!(config["key"], "config");
    assert_eq!(
        config["metadata"]["key_sources"][0],
        serde_json::json!({"key": "max_workers", "agents": ["agent-2"], "rule": "newest"})
    );
    assert_eq!(
        config["metadata"]["key_sources"][3],
        serde_json::json!({"key": "batch_size", "agents": ["agent-2"], "rule": "only_one"})
    );
    assert_eq!(
        v["resolutions"][3]["metadata"]["key_sources"][0]["rule"],
        "union"
    );
    // Counters and sets have no keys to attribute.
    assert!(v["resolutions"][0]["metadata"].get("key_sources").is_none());

    // Five agents add to one key: --list-limit cuts its list of agents.
    let versions: Vec<String> = (1..=5)
        .map(|i| format!("{{ agent = \"a{i}\", value = {{ k = [{i}] }}, version = {i} }}"))
        .collect();
    let text = format!(
        "algorithm = \"resolve\"\nstrategy = \"crdt\"\n[[states]]\nkey = \"m\"\n\
         crdt_type = \"map-of-sets\"\nversions = [{}]\n",
        versions.join(", ")
    );
    let path = scenario_file("five-writers.toml", &text);
    let path = path.to_str().unwrap();
    let out = stdout_of(&["resolve", path, "--list-limit", "2"]);
    assert!(
        out.contains("    k: [1,2,3,4,5] (union of a1, a2 (+3 more))\n"),
        "{out}"
    );
    let v = json_of(&["resolve", path, "--list-limit", "2"]);
    assert_eq!(
        v["omitted"]["resolutions[0].metadata.key_sources[0].agents"],
        3
    );
}

//! Gossip semantics that used to mislead: crashed agents counted with their
//! initial vote, a swarm of abstainers "converged" around one voter,
//! settings that silently change nothing, and an agent `weight` accepted and
//! ignored.

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

/// What one run of moai gave.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn moai(args: &[&str]) -> Ran {
    let out = Command::cargo_bin("moai")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    Ran {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Writes a scenario into the test's scratch folder and returns its path.
fn scenario(name: &str, text: &str) -> String {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// Runs moai expecting success and no warning; returns stdout.
fn quiet(args: &[&str]) -> String {
    let ran = moai(args);
    assert_eq!(ran.code, Some(0), "moai {args:?}: {}", ran.stderr);
    assert_eq!(ran.stderr, "", "moai {args:?}");
    ran.stdout
}

/// Runs moai expecting success; returns stdout and stderr's lines.
fn warned(args: &[&str]) -> (String, Vec<String>) {
    let ran = moai(args);
    assert_eq!(ran.code, Some(0), "moai {args:?}: {}", ran.stderr);
    (ran.stdout, ran.stderr.lines().map(String::from).collect())
}

/// Runs moai expecting exit 2, nothing on stdout and one line on stderr.
fn refused(args: &[&str]) -> String {
    let ran = moai(args);
    assert_eq!(ran.code, Some(2), "moai {args:?}: {}", ran.stderr);
    assert_eq!(ran.stdout, "");
    assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    ran.stderr
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).expect("stdout is one JSON document")
}

/// 18 live approvers and 2 crashed (silent) rejecters.
const CRASHED: &str = "algorithm = \"gossip\"\n\
    [gossip]\nfanout = 5\nmax_rounds = 7\n\
    [[groups]]\ncount = 18\nvote = \"for\"\n\
    [[groups]]\ncount = 2\nvote = \"against\"\nbehavior = \"silent\"\nprefix = \"down-\"\n";

/// 999 abstainers around 1 approver.
const ABSTAINERS: &str = "algorithm = \"gossip\"\n\
    [gossip]\nfanout = 3\nmax_rounds = 3\n\
    [[groups]]\ncount = 999\nvote = \"abstain\"\n\
    [[groups]]\ncount = 1\nvote = \"for\"\n";

#[test]
fn silent_agents_are_not_counted_in_agreement() {
    let file = scenario("crashed.toml", CRASHED);
    let v = json(&quiet(&["gossip", &file, "--format", "json"]));
    let m = &v["metadata"];
    // Counted with their votes they held agreement at 90% for ever.
    assert_eq!(m["agreement_ratio"], 1.0);
    assert_eq!(m["converged"], true);
    assert_eq!(m["converged_round"], 1);
    assert_eq!(m["silent"], 2);
    assert_eq!(
        (&v["votes_for"], &v["votes_against"], &v["decision"]),
        (&Value::from(18), &Value::from(0), &Value::from("approved"))
    );
    assert_eq!(m["initial_distribution"]["votes_against"], 0);
    assert_eq!(m["round_history"][0]["votes_against"], 0);

    let table = quiet(&["gossip", &file]);
    assert!(
        table.contains("│ Silent agents         ┆ 2 silent, not counted │"),
        "{table}"
    );
    assert!(table.contains("│ Final agreement     ┆ 100% "), "{table}");
}

#[test]
fn a_swarm_of_abstainers_does_not_converge_and_says_why() {
    let file = scenario("abstainers.toml", ABSTAINERS);
    let v = json(&quiet(&["gossip", &file, "--format", "json"]));
    let m = &v["metadata"];
    assert_eq!(m["converged"], false);
    assert_eq!(m["converged_round"], Value::Null);
    assert_eq!(m["min_participation"], 0.5);
    assert_eq!(m["rounds_held_back_by_participation"], 3);
    assert!(m["participation"].as_f64().unwrap() < 0.5, "{m}");
    for round in m["round_history"].as_array().unwrap() {
        assert_eq!(round["agreement_ratio"], 1.0);
        assert_eq!(round["converged"], false);
        assert!(round["participation"].as_f64().unwrap() < 0.5);
    }

    let table = quiet(&["gossip", &file]);
    assert!(
        table.contains(
            "\nWARNING: not converged: agreement reached 95.00% in 3 rounds, but fewer than \
             50.00% of the counted agents held a vote (min participation)\n"
        ),
        "{table}"
    );
    assert!(
        table.contains("│ Min participation     ┆ 50.00%   │"),
        "{table}"
    );
    assert!(table.contains("│ Converged           ┆ false "), "{table}");
    assert_eq!(table.matches("participation below minimum").count(), 3);
}

#[test]
fn min_participation_zero_restores_the_old_rule() {
    let file = scenario("abstainers-zero.toml", ABSTAINERS);
    let v = json(&quiet(&[
        "gossip",
        &file,
        "--min-participation",
        "0",
        "--format",
        "json",
    ]));
    let m = &v["metadata"];
    assert_eq!(m["converged"], true);
    assert_eq!(m["converged_round"], 1);
    assert_eq!(m["rounds_held_back_by_participation"], 0);
    assert_eq!(v["decision"], "approved");
    // The same from the scenario file.
    let text = ABSTAINERS.replace("[gossip]\n", "[gossip]\nmin_participation = 0.0\n");
    let file = scenario("abstainers-zero-key.toml", &text);
    let table = quiet(&["gossip", &file]);
    assert!(table.contains("│ Converged in round  ┆ 1 "), "{table}");
    assert!(!table.contains("participation below minimum"), "{table}");
}

#[test]
fn a_round_held_back_before_converging_is_said() {
    // With more rounds the approval spreads until enough agents vote.
    let file = scenario("abstainers-spread.toml", ABSTAINERS);
    let v = json(&quiet(&[
        "gossip", &file, "--rounds", "30", "--format", "json",
    ]));
    let m = &v["metadata"];
    assert_eq!(m["converged"], true);
    let held = m["rounds_held_back_by_participation"].as_u64().unwrap();
    assert!(held >= 1);
    assert_eq!(m["converged_round"].as_u64(), Some(held + 1));
    let table = quiet(&["gossip", &file, "--rounds", "30"]);
    assert!(
        table.contains(&format!(
            "\nMin participation held back convergence in {held} rounds: agreement reached \
             95.00% while fewer than 50.00% of the counted agents held a vote\n"
        )),
        "{table}"
    );
}

#[test]
fn min_participation_is_validated_and_located() {
    let err = refused(&["gossip", "--min-participation", "1.5"]);
    assert_eq!(
        err,
        "moai: --min-participation: min_participation must be in [0, 1], got 1.5\n"
    );
    let text = ABSTAINERS.replace("[gossip]\n", "[gossip]\nmin_participation = -0.25\n");
    let file = scenario("participation-bad.toml", &text);
    let err = refused(&["gossip", &file]);
    assert_eq!(
        err,
        format!(
            "moai: {file}:3:21: key 'gossip.min_participation': min_participation must be in \
             [0, 1], got -0.25\n"
        )
    );
    let err = refused(&[
        "gossip",
        "--sweep",
        "min_participation=0.5,2",
        "--trials",
        "2",
    ]);
    assert_eq!(
        err,
        "moai: --sweep: min_participation=2: min_participation must be in [0, 1], got 2\n"
    );
}

#[test]
fn min_participation_is_sweepable_and_in_trial_settings() {
    let file = scenario("abstainers-sweep.toml", ABSTAINERS);
    let v = json(&quiet(&[
        "gossip",
        &file,
        "--sweep",
        "min_participation=0,0.5",
        "--trials",
        "20",
        "--format",
        "json",
    ]));
    let rows = v["sweep"].as_array().unwrap();
    assert_eq!(rows[0]["trials_summary"]["convergence_rate"], 1.0);
    assert_eq!(rows[1]["trials_summary"]["convergence_rate"], 0.0);
    let v = json(&quiet(&[
        "gossip",
        "--trials",
        "3",
        "--min-participation",
        "0.8",
        "--format",
        "json",
    ]));
    assert_eq!(v["settings"]["min_participation"], 0.8);
    let table = quiet(&["gossip", "--trials", "3"]);
    assert!(
        table.contains("│ Min participation     ┆ 50.00%"),
        "{table}"
    );
}

#[test]
fn a_run_that_can_change_no_vote_is_warned_about() {
    let fanout_1 = "moai: warning: --fanout: with fanout 1 an agent hears its own vote and one \
                    peer's, which never outvote it, and no honest agent abstains, so no vote \
                    can change";
    let (_, lines) = warned(&["gossip", "--fanout", "1"]);
    assert_eq!(lines, [fanout_1]);
    let (_, lines) = warned(&["gossip", "--loss", "1"]);
    assert_eq!(
        lines,
        ["moai: warning: --loss: every exchange is lost (loss = 1), so no vote can change"]
    );
    // From the file, the warning points at the key.
    let file = scenario(
        "fanout-1.toml",
        "algorithm = \"gossip\"\n[gossip]\nfanout = 1\n\
         [[groups]]\ncount = 3\nvote = \"for\"\n[[groups]]\ncount = 2\nvote = \"against\"\n",
    );
    let (_, lines) = warned(&["run", &file]);
    assert_eq!(
        lines,
        [format!(
            "moai: warning: {file}:3:10: key 'gossip.fanout': with fanout 1 an agent hears its \
             own vote and one peer's, which never outvote it, and no honest agent abstains, so \
             no vote can change"
        )]
    );
    // With an honest abstainer, fanout 1 can still move a vote.
    let file = scenario("abstainers-fanout-1.toml", ABSTAINERS);
    quiet(&["gossip", &file, "--fanout", "1"]);
    // The JSON on stdout stays one clean document.
    let (stdout, lines) = warned(&["gossip", "--fanout", "1", "--format", "json"]);
    assert_eq!(json(&stdout)["metadata"]["fanout"], 1);
    assert_eq!(lines, [fanout_1]);
}

#[test]
fn settings_without_effect_are_warned_about() {
    let (_, lines) = warned(&["gossip", "--degree", "6"]);
    assert_eq!(
        lines,
        ["moai: warning: --degree: has no effect on the complete topology"]
    );
    let (_, lines) = warned(&[
        "gossip",
        "--topology",
        "ring",
        "--degree",
        "4",
        "--rewire",
        "0.3",
    ]);
    assert_eq!(
        lines,
        ["moai: warning: --rewire: has no effect on the ring topology; only small-world rewires"]
    );
    let file = scenario(
        "unused-keys.toml",
        "algorithm = \"gossip\"\n[gossip]\ntopology = \"random-regular\"\ndegree = 2\n\
         rewire = 0.2\n[[groups]]\ncount = 6\nvote = \"for\"\n",
    );
    let (_, lines) = warned(&["run", &file]);
    assert_eq!(
        lines,
        [format!(
            "moai: warning: {file}:5:10: key 'gossip.rewire': has no effect on the \
             random-regular topology; only small-world rewires"
        )]
    );
    let (_, lines) = warned(&["gossip", &file, "--topology", "complete"]);
    assert_eq!(
        lines,
        [
            format!(
                "moai: warning: {file}:4:10: key 'gossip.degree': has no effect on the complete \
                 topology"
            ),
            format!(
                "moai: warning: {file}:5:10: key 'gossip.rewire': has no effect on the complete \
                 topology; only small-world rewires"
            ),
        ]
    );
    // Small-world uses both; defaults left alone are never warned about.
    quiet(&["gossip", &file, "--topology", "small-world"]);
    quiet(&["gossip"]);
    quiet(&["gossip", "--topology", "ring"]);
}

#[test]
fn a_sweep_warns_once_per_warning() {
    let (_, lines) = warned(&[
        "gossip",
        "--degree",
        "4",
        "--sweep",
        "fanout=1..3",
        "--trials",
        "2",
    ]);
    assert_eq!(
        lines,
        [
            "moai: warning: --fanout: with fanout 1 an agent hears its own vote and one peer's, \
             which never outvote it, and no honest agent abstains, so no vote can change",
            "moai: warning: --degree: has no effect on the complete topology",
        ]
    );
}

#[test]
fn an_agent_weight_is_refused_where_it_is_written() {
    let file = scenario(
        "weighted.toml",
        "algorithm = \"byzantine\"\n\
         [[agents]]\nid = \"a\"\nvote = \"for\"\n\
         [[agents]]\nid = \"b\"\nvote = \"for\"\nweight = 2.0\n",
    );
    let ran = moai(&["validate", &file]);
    assert_eq!(ran.code, Some(2));
    assert!(
        ran.stdout
            .contains(":8:10: key 'agents[1].weight': weight is not supported"),
        "{}",
        ran.stdout
    );
    let err = refused(&["run", &file]);
    assert_eq!(
        err,
        format!(
            "moai: {file}:8:10: key 'agents[1].weight': weight is not supported: no algorithm \
             weighs votes yet; remove the key\n"
        )
    );
    // Nothing bundled carries one, and the schema no longer offers it.
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains("weight"));
    }
    let schema = quiet(&["schema"]);
    assert!(!schema.contains("\"weight\""));
}

//! `--exact` from the command line: the exact law's JSON and tables, beside
//! trials with z-scores, per value of a sweep, its refusals, and `[expect]`
//! tables that check it (`exact = true`, `max_wrong_decision_probability`).

use std::path::PathBuf;

use serde_json::Value;

#[path = "support/run.rs"]
mod run;
use run::{json_of, moai, stdout_of};

/// Runs moai and expects exit 2 with exactly `message` (one line) on stderr
/// and nothing on stdout.
fn refused(args: &[&str], message: &str) {
    let out = moai().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "moai {args:?}");
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!("{message}\n")
    );
    assert!(out.stdout.is_empty(), "moai {args:?} printed a result");
}

/// The value cell of the table row labelled `label`.
fn row<'a>(table: &'a str, label: &str) -> &'a str {
    let line = table
        .lines()
        .find(|l| l.starts_with(&format!("│ {label} ")))
        .unwrap_or_else(|| panic!("no row {label} in\n{table}"));
    line.split('┆')
        .nth(1)
        .unwrap()
        .trim()
        .trim_end_matches('│')
        .trim()
}

/// Writes `text` to a new file in a directory of this test process.
fn scenario_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("moai-exact-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Example 2 (the bundled gossip-swarm) with this `[expect]` body.
fn example_2(expect: &str) -> String {
    format!(
        "algorithm = \"gossip\"\nname = \"example-2\"\n[gossip]\nfanout = 5\nmax_rounds = 7\n\
         convergence_threshold = 0.95\nthreshold = 0.66\n\
         [[groups]]\ncount = 15\nvote = \"approve\"\n\
         [[groups]]\ncount = 5\nvote = \"reject\"\n[expect]\n{expect}\n"
    )
}

/// Checks that `v` has a z-score for exactly these figures, in this order,
/// each within 4 standard errors.
fn assert_z_scores(v: &Value, figures: &[&str]) {
    let z = v["z_scores"].as_object().unwrap();
    assert_eq!(z.keys().collect::<Vec<_>>(), figures);
    for (key, z) in z {
        let z = z.as_f64().unwrap_or_else(|| panic!("{key}: {z}"));
        assert!(z.abs() < 4.0, "{key}: z = {z}");
    }
}

fn is_f64(v: &Value) -> bool {
    v.is_f64() || v.is_u64()
}

#[test]
fn exact_json_names_every_field_with_its_type() {
    let v = json_of(&["gossip", "--exact"]);
    assert!(v.get("trials_summary").is_none() && v.get("z_scores").is_none());
    // Recorded as trials reports record them, though the law draws nothing.
    assert_eq!(v["seed"], 42);
    assert_eq!(v["moai_version"], env!("CARGO_PKG_VERSION"));
    assert!(v["stream"].is_u64() && v["overrides"].is_object());
    assert_eq!(v["agents"], 20);
    assert_eq!(v["settings"]["fanout"], 5);
    let e = &v["exact_summary"];
    let fields: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        [
            "convergence_rate",
            "rounds_mean",
            "rounds_sd",
            "rounds_p50",
            "rounds_p90",
            "rounds_p99",
            "rounds_max",
            "decisions",
            "reference_decision",
            "wrong_decision_probability",
            "mean_final_agreement",
            "final_agreement_sd",
            "rounds",
            "final_law",
            "states",
            "dropped_mass",
        ]
    );
    for key in [
        "convergence_rate",
        "rounds_mean",
        "rounds_sd",
        "wrong_decision_probability",
        "mean_final_agreement",
        "final_agreement_sd",
        "dropped_mass",
    ] {
        assert!(is_f64(&e[key]), "{key}: {}", e[key]);
    }
    for key in [
        "rounds_p50",
        "rounds_p90",
        "rounds_p99",
        "rounds_max",
        "states",
    ] {
        assert!(e[key].is_u64(), "{key}: {}", e[key]);
    }
    assert_eq!(e["reference_decision"], "approved");
    let decisions = e["decisions"].as_object().unwrap();
    assert_eq!(
        decisions.keys().collect::<Vec<_>>(),
        ["approved", "rejected"]
    );
    assert!(decisions.values().all(is_f64));
    // The rare wrong decision is a plain, tiny, non-zero number.
    let wrong = e["wrong_decision_probability"].as_f64().unwrap();
    assert!(wrong > 0.0 && wrong < 1e-6, "{wrong}");
    assert_eq!(e["decisions"]["rejected"].as_f64().unwrap(), wrong);
    let rounds = e["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 7);
    for (i, r) in rounds.iter().enumerate() {
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "round",
                "running",
                "converged_in",
                "converged_by",
                "expected_agreement",
                "expected_lost_exchanges"
            ]
        );
        assert_eq!(r["round"], i as u64 + 1);
        assert!(keys[1..].iter().all(|k| is_f64(&r[k])));
    }
    // Round 1 of Example 2, derived by hand in the engine's tests.
    let first = rounds[0]["converged_in"].as_f64().unwrap();
    assert!((first - 0.5518121268626385).abs() < 1e-12, "{first}");
    let law = e["final_law"].as_array().unwrap();
    let mut total = 0.0;
    for state in law {
        let keys: Vec<&str> = state
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["votes_for", "votes_against", "abstain", "probability"]
        );
        assert!(state["votes_for"].is_u64() && state["abstain"].is_u64());
        total += state["probability"].as_f64().unwrap();
    }
    assert!((total - 1.0).abs() < 1e-12, "{total}");
    assert!(e["dropped_mass"].as_f64().unwrap() <= 1e-12);
}

#[test]
fn the_exact_law_does_not_depend_on_the_seed_but_records_it() {
    let a = json_of(&["gossip", "--exact", "--seed", "1"]);
    let b = json_of(&["gossip", "--exact", "--seed", "2"]);
    assert_eq!(a["exact_summary"], b["exact_summary"]);
    assert_eq!(a["seed"], 1);
    assert_eq!(a["overrides"]["seed"], 1);
    // Same flags, same bytes.
    let args = ["gossip", "--exact", "--loss", "0.2"];
    assert_eq!(stdout_of(&args), stdout_of(&args));
}

#[test]
fn exact_table_writes_rare_probabilities_in_scientific_notation() {
    let out = stdout_of(&["gossip", "--exact"]);
    assert!(out.starts_with("=== Gossip exact law ===\n"), "{out}");
    assert!(out.contains("(seed 42; the exact law draws no random numbers)"));
    assert!(out.contains("\n=== Exact law ===\n"));
    assert_eq!(row(&out, "P(rejected)"), "9.6e-9");
    assert_eq!(row(&out, "Wrong decision probability"), "9.6e-9");
    assert_eq!(
        row(&out, "Reference decision (of the initial votes)"),
        "approved"
    );
    // Just below 1: never 100%.
    assert_eq!(row(&out, "Convergence probability"), "99.999999%");
    assert_eq!(row(&out, "Rounds to converge, mean"), "1.4547");
    assert_eq!(row(&out, "Rounds to converge p99"), "2");
    assert_eq!(row(&out, "Dropped mass"), "0%");
    assert!(!out.contains(" 0.00%"), "{out}");
    // The law round by round.
    assert!(out.contains(
        "│ Round ┆ P(runs) ┆ P(converged in) ┆ P(converged by) ┆ E[agreement] ┆ E[lost exchanges] │"
    ));
    assert!(out.contains("│ 1     ┆ 100%    ┆ 55.18%          ┆ 55.18%          ┆"));
    assert!(out.contains("│ 4     ┆ 4.5e-5  ┆ 4.4e-5          ┆ 99.9999%        ┆"));
}

#[test]
fn exact_with_trials_has_a_z_score_for_every_figure() {
    let v = json_of(&["gossip", "--exact", "--trials", "2000", "--loss", "0.3"]);
    assert_eq!(v["trials_summary"]["trials"], 2000);
    assert!(v["exact_summary"]["convergence_rate"].is_f64());
    assert_z_scores(
        &v,
        &[
            "convergence_rate",
            "rounds_mean",
            "decisions.approved",
            "decisions.rejected",
            "mean_final_agreement",
        ],
    );
    let out = stdout_of(&["gossip", "--exact", "--trials", "2000", "--loss", "0.3"]);
    assert!(out.starts_with("=== Gossip Monte Carlo: 2000 trials, and the exact law ===\n"));
    assert!(out.contains("\n=== Monte Carlo against the exact law ===\n"));
    assert!(out.contains("│ Figure "));
    assert!(out.contains("┆ Monte Carlo "));
    assert!(out.contains("┆ Exact "));
    for label in [
        "Convergence rate",
        "Rounds to converge, mean",
        "Decision approved",
        "Decision rejected",
        "Mean final agreement",
    ] {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("│ {label} ")))
            .unwrap();
        let z = line.split('┆').nth(3).unwrap().trim().trim_end_matches('│');
        let z: f64 = z.trim().parse().unwrap_or_else(|_| panic!("{line}"));
        assert!(z.abs() < 4.0, "{line}");
    }
    // Quantiles have no z-score.
    let p99 = out
        .lines()
        .find(|l| l.starts_with("│ Rounds to converge p99 "))
        .unwrap();
    let z = p99.split('┆').nth(3).unwrap();
    assert_eq!(z.trim_end_matches('│').trim(), "—", "{p99}");
    assert!(out.contains("\n=== Exact law by round ===\n"));
}

#[test]
fn exact_with_trials_still_writes_the_trials_history() {
    let out = stdout_of(&["gossip", "--exact", "--trials", "3", "--format", "csv"]);
    assert!(out.starts_with("# moai "), "{out}");
    assert!(out.lines().nth(1).unwrap().starts_with("trial,"));
}

#[test]
fn exact_sweeps_give_each_value_its_law() {
    let v = json_of(&["gossip", "--exact", "--sweep", "fanout=2,5"]);
    assert!(v.get("trials").is_none());
    let rows = v["sweep"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert!(row.get("trials_summary").is_none() && row.get("z_scores").is_none());
        assert!(row["exact_summary"]["convergence_rate"].is_f64());
    }
    assert_eq!(
        rows[1]["exact_summary"],
        json_of(&["gossip", "--exact"])["exact_summary"]
    );
    assert_ne!(rows[0]["exact_summary"], rows[1]["exact_summary"]);
    let out = stdout_of(&["gossip", "--exact", "--sweep", "fanout=2,5"]);
    assert!(
        out.starts_with("=== Sweep of fanout: the exact law per value ===\n"),
        "{out}"
    );
    assert!(out.contains("┆ Wrong decision "), "{out}");
    assert!(out.contains("9.6e-9 (not approved)"), "{out}");
    assert!(!out.contains("Worst |z|"));

    let v = json_of(&[
        "gossip",
        "--exact",
        "--trials",
        "500",
        "--sweep",
        "loss=0,0.3",
    ]);
    assert_eq!(v["trials"], 500);
    for row in v["sweep"].as_array().unwrap() {
        assert_eq!(row["trials_summary"]["trials"], 500);
        assert!(row["exact_summary"].is_object());
        assert_eq!(row["z_scores"].as_object().unwrap().len(), 5);
    }
    let out = stdout_of(&[
        "gossip",
        "--exact",
        "--trials",
        "500",
        "--sweep",
        "loss=0,0.3",
    ]);
    assert!(out.starts_with("=== Sweep of loss: 500 trials and the exact law per value ===\n"));
    assert!(out.contains("┆ Law "), "{out}");
    assert!(out.contains("┆ Worst |z| "), "{out}");
    assert_eq!(out.matches("┆ exact ").count(), 2, "{out}");
    assert_eq!(out.matches("┆ Monte Carlo ").count(), 2, "{out}");
}

#[test]
fn exact_refuses_what_it_cannot_compute_in_one_line() {
    refused(
        &["run", "hybrid", "--exact"],
        "moai: --exact: conflict resolution draws no random numbers: its result is already \
         certain",
    );
    refused(
        &["gossip", "--exact", "--topology", "ring"],
        "moai: --exact: the exact law covers the complete topology only: on a ring network \
         who neighbours whom matters, so the run is not a chain over vote counts; use --trials \
         to sample it instead",
    );
    refused(
        &["gossip", "partitioned-swarm", "--exact"],
        "moai: --exact: the exact law does not cover partitions: which group an agent is in \
         matters, so the run is not a chain over vote counts; use --trials to sample it instead",
    );
    refused(
        &["byzantine", "rolling-upgrade", "--exact"],
        "moai: --exact: a scenario with [[proposals]] runs once; the exact law, like trials, \
         takes a single proposal",
    );
    refused(
        &["run", "rolling-upgrade", "--exact", "--trials", "5"],
        "moai: --exact: a scenario with [[proposals]] runs once; the exact law, like trials, \
         takes a single proposal",
    );
    refused(
        &["gossip", "--exact", "--format", "csv"],
        "moai: --format: csv writes the per-round history of trials, and --exact alone runs \
         none; add --trials N, or use table or json",
    );
    refused(
        &["gossip", "--exact", "--history", "never-written.csv"],
        "moai: --history: the per-round history is of trials, and --exact alone runs none; \
         add --trials N, or drop --history",
    );
    assert!(!std::path::Path::new("never-written.csv").exists());
    // In a sweep, the value the law refuses is named.
    refused(
        &[
            "gossip",
            "--exact",
            "--sweep",
            "degree=2,4",
            "--topology",
            "ring",
        ],
        "moai: --sweep: degree=2: the exact law covers the complete topology only: on a ring \
         network who neighbours whom matters, so the run is not a chain over vote counts; use \
         --trials to sample it instead",
    );
    refused(
        &["gossip", "--exact", "--expect-decision", "approved"],
        "moai: --expect-decision: needs a single run with a decision (not trials, sweeps, the \
         exact law or resolve)",
    );
    let big = scenario_file(
        "big.toml",
        "algorithm = \"gossip\"\n[[groups]]\ncount = 3000\nvote = \"approve\"\n\
         [[groups]]\ncount = 3000\nvote = \"abstain\"\n",
    );
    refused(
        &["gossip", big.to_str().unwrap(), "--exact", "--trials", "10"],
        &format!(
            "moai: --exact: the exact law of 6000 honest agents, 3000 of them abstaining, has \
             up to 18009001 states, more than the limit of {}; use --trials to sample it instead",
            moai::exact::gossip::MAX_STATES
        ),
    );
    refused(
        &[
            "byzantine",
            "--exact",
            "--agents",
            "60000",
            "--faulty",
            "60000",
            "--behavior",
            "random",
            "--fault-tolerance",
            "1",
        ],
        &format!(
            "moai: --exact: the exact Byzantine law takes at most {} random and equivocating \
             agents, this vote has 60000: use --trials for a Monte Carlo estimate",
            moai::exact::byzantine::MAX_UNCERTAIN_AGENTS
        ),
    );
    let out = moai()
        .args(["gossip", "--exact", "--trials", "3", "--trial", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .starts_with("error: the argument '--exact' cannot be used with '--trial <I>'")
    );
}

/// `moai check FILE --format json`, which must fail (exit 1): its report.
fn failed_check(file: &std::path::Path) -> Value {
    let out = moai()
        .args(["check", file.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn check_holds_the_exact_wrong_decision_probability_to_its_bound() {
    let pass = scenario_file(
        "pass.toml",
        &example_2(
            "exact = true\nmax_wrong_decision_probability = 1e-8\nmin_convergence_rate = 0.99\nmax_rounds_p99 = 2",
        ),
    );
    let out = moai()
        .args(["check", pass.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("all expectations met"), "{text}");

    let fail = scenario_file(
        "fail.toml",
        &example_2("exact = true\nmax_wrong_decision_probability = 1e-9"),
    );
    let v = failed_check(&fail);
    let m = &v["results"][0]["mismatches"][0];
    assert_eq!(m["key"], "max_wrong_decision_probability");
    assert_eq!(m["expected"], "<= 1e-9");
    assert_eq!(m["actual"], "9.636790745554638e-9");

    // `moai run` evaluates the same table, after the report.
    let out = moai()
        .args(["run", fail.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "moai: expectation failed: max_wrong_decision_probability: expected <= 1e-9, got \
         9.636790745554638e-9\n"
    );
}

#[test]
fn statistics_are_checked_against_every_summary_asked_for() {
    // The exact p99 is 2; trials of 1000 runs see 2 too: a bound of 1 fails both.
    let both = scenario_file(
        "both.toml",
        &example_2("trials = 1000\nexact = true\nmax_rounds_p99 = 1"),
    );
    let v = failed_check(&both);
    let actual: Vec<&str> = v["results"][0]["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["actual"].as_str().unwrap())
        .collect();
    assert_eq!(actual, ["2", "2 (exact law)"]);
    // The exact law alone answers it: no trials needed.
    let exact = scenario_file(
        "exact-only.toml",
        &example_2("exact = true\nmin_convergence_rate = 1.0"),
    );
    let v = failed_check(&exact);
    assert_eq!(
        v["results"][0]["mismatches"][0]["actual"],
        "0.9999999918387891 (exact law)"
    );
}

#[test]
fn expectations_the_exact_law_cannot_meet_are_refused_at_load() {
    let cases = [
        (
            "no-exact.toml",
            example_2("max_wrong_decision_probability = 1e-9"),
            "key 'expect.max_wrong_decision_probability'",
            "the wrong-decision probability is a figure of the exact law: set exact = true",
        ),
        (
            "exact-false.toml",
            example_2("exact = false\nmax_wrong_decision_probability = 1e-9"),
            "key 'expect.max_wrong_decision_probability'",
            "the wrong-decision probability is a figure of the exact law: set exact = true",
        ),
        (
            "range.toml",
            example_2("exact = true\nmax_wrong_decision_probability = 2.0"),
            "key 'expect.max_wrong_decision_probability'",
            "a probability is from 0 to 1 (1e-9 for one in a billion), got 2",
        ),
        (
            "resolve.toml",
            "algorithm = \"resolve\"\nstrategy = \"lww\"\n[expect]\nexact = true\n".to_string(),
            "key 'expect.exact'",
            "'exact' does not apply to a resolve scenario",
        ),
        (
            "counts.toml",
            example_2("exact = true\ndecision_counts = { approved = 10 }"),
            "key 'expect.trials'",
            "statistics need trials: set trials = N to check them over N trials",
        ),
        (
            "neither.toml",
            example_2("min_convergence_rate = 0.9"),
            "key 'expect.trials'",
            "statistics need trials: set trials = N to check them over N trials, or exact = \
             true to check them against the exact law",
        ),
    ];
    for (name, text, at, message) in cases {
        let path = scenario_file(name, &text);
        let out = moai()
            .args(["validate", path.to_str().unwrap(), "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let error = v["results"][0]["error"].as_str().unwrap();
        assert!(
            error.contains(at) && error.ends_with(message),
            "{name}: {error}"
        );
        let out = moai()
            .args(["run", path.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(
            stderr.ends_with(&format!("{message}\n")),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn byzantine_exact_json_and_its_z_scores() {
    let v = json_of(&["byzantine", "random-voters", "--exact"]);
    assert!(v.get("trials_summary").is_none());
    let e = &v["exact_summary"];
    let fields: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        [
            "decisions",
            "missed_rate",
            "false_positive_rate",
            "byzantine_unsafe_rate",
            "against_honest_majority_rate",
            "wrong_decision_probability",
            "mean_malicious_detected",
            "malicious_detected_sd",
            "safety_guaranteed",
            "dropped_mass",
        ]
    );
    for key in &fields[1..8] {
        assert!(is_f64(&e[key]), "{key}: {}", e[key]);
    }
    assert!(e["safety_guaranteed"].is_boolean());
    // 4 random voters over 3 rounds: each escapes with 2^(1-3) = 1/4, so
    // some one escapes with 1 - (3/4)^4 = 175/256.
    assert_eq!(e["missed_rate"], 175.0 / 256.0);
    let v = json_of(&["byzantine", "random-voters", "--exact", "--trials", "2000"]);
    assert_z_scores(
        &v,
        &[
            "decisions.approved",
            "decisions.rejected",
            "decisions.timeout",
            "missed_rate",
            "false_positive_rate",
            "byzantine_unsafe_rate",
            "against_honest_majority_rate",
            "mean_malicious_detected",
        ],
    );
    let out = stdout_of(&["byzantine", "random-voters", "--exact"]);
    assert!(out.starts_with("=== Byzantine exact law ===\n"), "{out}");
    assert_eq!(row(&out, "Missed rate (a faulty agent tallied)"), "68.36%");
    assert_eq!(row(&out, "P(timeout)"), "0%");
    assert!(!out.contains("=== Exact law by round ==="));
    let out = stdout_of(&["byzantine", "--exact", "--sweep", "faulty=0,1"]);
    assert!(
        out.starts_with("=== Sweep of faulty: the exact law per value ===\n"),
        "{out}"
    );
    assert!(out.contains("┆ Missed "), "{out}");
}

#[test]
fn check_holds_a_byzantine_wrong_decision_probability_to_its_bound() {
    // 10 agents, f = 3: 6 honest for, 1 honest against, 3 random voters.
    let text = |bound: &str| {
        format!(
            "algorithm = \"byzantine\"\n[byzantine]\nfault_tolerance = 3\n\
             [[groups]]\ncount = 6\nvote = \"for\"\n[[groups]]\ncount = 1\nvote = \"against\"\n\
             [[groups]]\ncount = 3\nvote = \"against\"\nbehavior = \"random\"\n\
             [expect]\nexact = true\nmax_wrong_decision_probability = {bound}\n"
        )
    };
    let pass = scenario_file("byz-pass.toml", &text("0.95"));
    let out = moai()
        .args(["check", pass.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let fail = scenario_file("byz-fail.toml", &text("0.5"));
    let out = moai()
        .args(["run", fail.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "moai: expectation failed: max_wrong_decision_probability: expected <= 0.5, got \
         0.6699218749999999\n"
    );
}

#[test]
fn the_exact_law_is_the_same_bytes_on_any_number_of_threads() {
    // 61 × 41 = 2,501 states (for-counts × abstainer counts): enough to be
    // cut into chunks, summed in a fixed order whatever the threads.
    let file = scenario_file(
        "threads.toml",
        "algorithm = \"gossip\"\n[gossip]\nfanout = 3\nmax_rounds = 4\n\
         [[groups]]\ncount = 12\nvote = \"for\"\n\
         [[groups]]\ncount = 8\nvote = \"against\"\n\
         [[groups]]\ncount = 40\nvote = \"abstain\"\n",
    );
    let file = file.to_str().unwrap();
    let args = |threads| [file, "--exact", "--threads", threads, "--format", "json"];
    let one = stdout_of(&[&["gossip"][..], &args("1")].concat());
    assert_eq!(one, stdout_of(&[&["gossip"][..], &args("2")].concat()));
    let v: Value = serde_json::from_str(&one).unwrap();
    assert!(v["exact_summary"]["states"].as_u64().unwrap() > 1024);
}

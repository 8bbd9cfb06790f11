//! Numbers people read (issue 10): percentages near the bounds, exact sweep
//! values, both meanings of "unsafe" in Byzantine summaries, which agent won
//! each key of a map merge, and Byzantine swarms generated from flags.

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

fn moai() -> Command {
    Command::cargo_bin("moai").unwrap()
}

/// Runs moai, expects success with nothing on stderr, returns stdout.
fn stdout_of(args: &[&str]) -> String {
    let out = moai().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "moai {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs moai with `--format json` appended and parses the whole of stdout.
fn json_of(args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.extend(["--format", "json"]);
    serde_json::from_str(&stdout_of(&args)).expect("stdout is one JSON document")
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
    // 100,000 trials, none unsafe: the Wilson upper bound is 0.0038%.
    let out = stdout_of(&["byzantine", "--trials", "100000"]);
    assert_eq!(row(&out, "Not Byzantine safe"), "0%");
    assert_eq!(row(&out, "Not Byzantine safe 95% CI"), "0% to 0.004%");
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
    assert!(csv.lines().nth(1).unwrap().starts_with("loss,0,"), "{csv}");
}

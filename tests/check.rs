//! `moai check` in CI cannot be green by accident: what it searches, how it
//! counts, where it writes, and that `moai run` agrees with it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

fn moai() -> Command {
    let mut cmd = Command::cargo_bin("moai").unwrap();
    // A search that hangs (a FIFO, a symlink loop) fails instead of blocking.
    cmd.timeout(Duration::from_secs(300));
    cmd
}

/// A new empty directory outside the repository (whose .gitignore would
/// otherwise apply to it).
fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("moai-check-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(path: &Path, text: &str) -> PathBuf {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

const AGENTS_4: &str = "[[groups]]\ncount = 4\nvote = \"for\"\n";

/// A Byzantine scenario of 4 approving agents with this `[expect]` body.
fn byzantine(expect: &str) -> String {
    format!("algorithm = \"byzantine\"\n{AGENTS_4}[expect]\n{expect}\n")
}

/// A copy of the bundled gossip swarm (converges in round 1 with seed 42,
/// round 2 with seed 1) with this `[expect]` body.
fn swarm(expect: &str) -> String {
    let text = std::fs::read_to_string("scenarios/gossip-swarm.toml").unwrap();
    let head = &text[..text.find("[expect]").unwrap()];
    format!("{head}[expect]\n{expect}\n")
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Out {
    let out = moai().args(args).output().unwrap();
    Out {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Expects exit 2, nothing on stdout and exactly `line` on stderr.
fn refused(args: &[&str], line: &str) {
    let out = run(args);
    assert_eq!(out.code, Some(2), "moai {args:?}: {}", out.stderr);
    assert_eq!(out.stdout, "", "moai {args:?}");
    assert_eq!(out.stderr, format!("{line}\n"), "moai {args:?}");
}

// ---- 1. A path that yields no scenario ----

#[test]
fn a_path_that_yields_no_scenario_is_an_error() {
    let empty = fresh_dir("empty");
    refused(
        &["check", s(&empty)],
        &format!(
            "moai: no scenario files found under '{}': no *.toml files",
            empty.display()
        ),
    );
    refused(
        &["validate", s(&empty)],
        &format!(
            "moai: no scenario files found under '{}': no *.toml files",
            empty.display()
        ),
    );
    let configs = fresh_dir("configs");
    write(&configs.join("Cargo.toml"), "[package]\nname = \"x\"\n");
    refused(
        &["check", s(&configs)],
        &format!(
            "moai: no scenario files found under '{}': only *.toml files without an algorithm key (1 skipped)",
            configs.display()
        ),
    );
    // A typo, or an empty directory next to a good one, fails the run.
    let out = run(&["check", "scenarios/infra.toml", "scenaros/"]);
    assert_eq!(out.code, Some(2));
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .starts_with("moai: no scenario files found under 'scenaros/': no such file"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("(bundled: infra, "), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1);
}

#[test]
fn a_bundled_scenario_name_is_checked_when_no_such_file_exists() {
    let out = run(&["check", "infra", "--format", "json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["file"], "scenarios/infra.toml (bundled)");
    assert_eq!(v["results"][0]["status"], "pass");
    assert_eq!(v["results"][0]["expectations"], true);
}

// ---- 2. Directory search ----

#[test]
fn directory_search_skips_hidden_ignored_and_special_files_and_visits_each_once() {
    let d = fresh_dir("search");
    write(&d.join("good.toml"), &byzantine("decision = \"approved\""));
    write(&d.join("Cargo.toml"), "[package]\nname = \"x\"\n");
    write(&d.join("notes.txt"), "algorithm = 3\n");
    let broken = "algorithm = \"byzantine\"\nfanout = 3\n";
    write(&d.join(".hidden/broken.toml"), broken);
    write(&d.join("ignored/broken.toml"), broken);
    write(&d.join("moai-only/broken.toml"), broken);
    write(&d.join(".gitignore"), "ignored/\n");
    write(&d.join(".moaiignore"), "moai-only/\n");
    let status = std::process::Command::new("mkfifo")
        .arg(d.join("pipe.toml"))
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(".", d.join("s1")).unwrap();
        std::os::unix::fs::symlink(".", d.join("s2")).unwrap();
        // Two links to one directory: searched once.
        write(
            &d.join("shared/other.toml"),
            &byzantine("healthy_agents = 4"),
        );
        std::os::unix::fs::symlink("shared", d.join("link-a")).unwrap();
        std::os::unix::fs::symlink("shared", d.join("link-b")).unwrap();
    }

    let out = run(&["check", s(&d)]);
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stderr, "");
    assert!(!out.stdout.contains("broken"), "{}", out.stdout);
    assert!(!out.stdout.contains("pipe"), "{}", out.stdout);
    assert_eq!(out.stdout.matches("good.toml").count(), 1, "{}", out.stdout);
    assert_eq!(
        out.stdout.matches("other.toml").count(),
        1,
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("┆ skip   ┆ not a scenario (no algorithm key)"),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stdout.lines().last().unwrap(),
        "2 passed, 0 failed, 1 skipped"
    );
    assert!(out.stdout.starts_with("=== moai check: 2 scenarios ==="));

    let v: Value =
        serde_json::from_str(&run(&["check", s(&d), "--format", "json"]).stdout).unwrap();
    let rows: Vec<(&str, &str)> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let file = r["file"].as_str().unwrap();
            let name = Path::new(file).file_name().unwrap().to_str().unwrap();
            (name, r["status"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("Cargo.toml", "skipped"),
            ("good.toml", "pass"),
            ("other.toml", "pass")
        ]
    );
    assert_eq!(v["skipped"], 1);
    assert_eq!(
        v["results"][0]["error"],
        "not a scenario (no algorithm key)"
    );

    // Named on the command line, a file is a scenario whatever it holds, and
    // a file named twice is checked once.
    let cargo = d.join("Cargo.toml");
    let out = run(&["check", s(&cargo), s(&cargo)]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stdout.contains("unknown field `package`"),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stdout.lines().last().unwrap(),
        "0 passed, 0 failed, 1 error"
    );
}

#[test]
fn check_dot_at_the_repository_root_skips_cargo_toml_and_passes() {
    let scenarios = std::fs::read_dir("scenarios").unwrap().count();
    let out = run(&["check", "."]);
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("./Cargo.toml ")
            && out
                .stdout
                .lines()
                .any(|l| l.contains("./Cargo.toml ") && l.contains("┆ skip ")),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("┆ error "), "{}", out.stdout);
    let last = out.stdout.lines().last().unwrap();
    assert!(
        last.starts_with(&format!("{scenarios} passed, 0 failed, ")) && last.ends_with(" skipped"),
        "{last}"
    );
}

// ---- 3. Failures and errors apart ----

#[test]
fn failures_and_errors_are_counted_apart_in_the_table_json_and_junit() {
    let d = fresh_dir("apart");
    let good = write(
        &d.join("a-good.toml"),
        &byzantine("decision = \"approved\""),
    );
    let bad = write(&d.join("b-bad.toml"), &byzantine("decision = \"rejected\""));
    let broken = write(
        &d.join("c-broken.toml"),
        "algorithm = \"byzantine\"\nfanout = 3\n",
    );
    let xml = d.join("report.xml");
    let out = run(&["check", s(&good), s(&bad), s(&broken), "--junit", s(&xml)]);
    assert_eq!(out.code, Some(2), "errors outrank failures");
    assert_eq!(
        out.stdout.lines().last().unwrap(),
        "1 passed, 1 failed, 1 error"
    );
    let out = run(&["check", s(&good), s(&bad)]);
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stdout.lines().last().unwrap(), "1 passed, 1 failed");

    let v: Value = serde_json::from_str(
        &run(&["check", s(&good), s(&bad), s(&broken), "--format", "json"]).stdout,
    )
    .unwrap();
    assert_eq!(
        (&v["passed"], &v["failed"], &v["errors"], &v["skipped"]),
        (
            &Value::from(1),
            &Value::from(1),
            &Value::from(1),
            &Value::from(0)
        )
    );
    let statuses: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["pass", "fail", "error"]);

    let xml = std::fs::read_to_string(&xml).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 3, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    assert_eq!(xml.matches("<error ").count(), 1, "{xml}");
    assert!(
        xml.contains("failures=\"1\"") && xml.contains("errors=\"1\""),
        "{xml}"
    );
    assert!(
        xml.contains("decision: expected rejected, got approved"),
        "{xml}"
    );
    assert!(xml.contains("unknown field `fanout`"), "{xml}");
    // Every testcase carries the time it took, in seconds.
    for case in xml.split("<testcase ").skip(1) {
        let head = &case[..case.find('>').unwrap()];
        let time = head
            .split("time=\"")
            .nth(1)
            .and_then(|t| t.split('"').next())
            .unwrap_or_else(|| panic!("no time in <testcase {head}>"));
        assert!(time.parse::<f64>().is_ok_and(|t| t >= 0.0), "{head}");
    }
}

// ---- 4. `-` outputs and the overwrite guard ----

#[test]
fn junit_dash_writes_xml_to_stdout_and_the_table_to_stderr() {
    let out = run(&["check", "infra", "--junit", "-"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.starts_with("<?xml"), "{}", out.stdout);
    assert!(
        out.stdout.contains("<testcase name=\"infra\""),
        "{}",
        out.stdout
    );
    assert!(out.stderr.starts_with("=== moai check: 1 scenarios ==="));
    assert!(
        out.stderr.ends_with("1 passed, 0 failed\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn history_dash_writes_csv_to_stdout_and_the_report_to_stderr() {
    for args in [
        &["gossip", "--history", "-"][..],
        &["byzantine", "--trials", "2", "--history", "-"],
        &["run", "scenarios/gossip-swarm.toml", "--history", "-"],
    ] {
        let out = run(args);
        assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
        // The CSV's first line is the `# moai ...` comment saying what made it.
        let mut lines = out.stdout.lines();
        assert!(
            lines.next().is_some_and(|l| l.starts_with("# moai "))
                && lines.next().is_some_and(|l| l.starts_with("trial,round,")),
            "{args:?}: {}",
            out.stdout
        );
        assert!(!out.stdout.contains("==="), "{args:?}");
        assert!(out.stderr.contains("==="), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn an_output_file_that_is_an_input_scenario_is_refused() {
    let d = fresh_dir("overwrite");
    let text = byzantine("decision = \"approved\"");
    let scenario = write(&d.join("s.toml"), &text);
    let config = write(&d.join("Cargo.toml"), "[package]\n");
    for (args, flag) in [
        (vec!["check", s(&d), "--junit", s(&scenario)], "--junit"),
        (vec!["check", s(&d), "--junit", s(&config)], "--junit"),
        (
            vec!["run", s(&scenario), "--history", s(&scenario)],
            "--history",
        ),
        (
            vec!["byzantine", s(&scenario), "--history", s(&scenario)],
            "--history",
        ),
    ] {
        let out = run(&args);
        assert_eq!(out.code, Some(2), "{args:?}");
        assert_eq!(out.stdout, "", "{args:?}");
        assert!(
            out.stderr.starts_with(&format!("moai: {flag}: '")),
            "{args:?}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains("refusing to overwrite it"),
            "{}",
            out.stderr
        );
        assert_eq!(out.stderr.lines().count(), 1);
    }
    assert_eq!(std::fs::read_to_string(&scenario).unwrap(), text);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "[package]\n");
    // Through another spelling of the same path, too.
    let dotted = d.join(".").join("s.toml");
    let out = run(&["gossip", s(&scenario), "--history", s(&dotted)]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.starts_with("moai: --history: "),
        "{}",
        out.stderr
    );
}

// ---- 5. --seed and --threads ----

#[test]
fn check_seed_overrides_every_scenarios_seed_and_run_agrees() {
    let d = fresh_dir("seed");
    let file = write(
        &d.join("round-one.toml"),
        &swarm("converged = true\nmax_rounds_completed = 1"),
    );
    let out = run(&["check", s(&file)]);
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    let out = run(&["check", s(&file), "--seed", "1"]);
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("max_rounds_completed: expected <= 1, got 2"),
        "{}",
        out.stdout
    );
    let out = run(&["run", s(&file), "--seed", "1"]);
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr,
        "moai: expectation failed: max_rounds_completed: expected <= 1, got 2\n"
    );
}

#[test]
fn check_threads_is_validated_and_does_not_change_results() {
    refused(
        &["check", "gossip-swarm", "--threads", "0"],
        "moai: --threads: threads must be at least 1",
    );
    let one = run(&[
        "check",
        "gossip-swarm",
        "--threads",
        "1",
        "--format",
        "json",
    ]);
    let two = run(&[
        "check",
        "gossip-swarm",
        "--threads",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(one.code, Some(0));
    assert_eq!(one.stdout, two.stdout);
}

// ---- 6. Expectations no run can meet or miss ----

#[test]
fn impossible_expectations_are_refused_at_load_with_their_place() {
    let d = fresh_dir("impossible");
    let gossip = |expect: &str| {
        format!("algorithm = \"gossip\"\n[gossip]\nmax_rounds = 5\n{AGENTS_4}[expect]\n{expect}\n")
    };
    let cases = [
        (
            "trials = 10\nmin_convergence_rate = 90",
            "9:24: key 'expect.min_convergence_rate': a rate is a share from 0 to 1 (0.9 for 90%), got 90",
        ),
        (
            "trials = 10\nmin_convergence_rate = nan",
            "9:24: key 'expect.min_convergence_rate': a rate is a share from 0 to 1 (0.9 for 90%), got NaN",
        ),
        (
            "trials = 10\nmin_convergence_rate = -0.5",
            "9:24: key 'expect.min_convergence_rate': a rate is a share from 0 to 1 (0.9 for 90%), got -0.5",
        ),
        (
            "max_rounds_completed = 6",
            "8:24: key 'expect.max_rounds_completed': 6 is more than the 5 rounds the scenario can \
             run (gossip.max_rounds), so it can never fail; use a bound below 5",
        ),
        (
            "max_rounds_completed = 0",
            "8:24: key 'expect.max_rounds_completed': every run takes at least 1 round, so a bound \
             of 0 can never be met",
        ),
        (
            "trials = 10\nmax_rounds_p99 = 0",
            "9:18: key 'expect.max_rounds_p99': every run takes at least 1 round, so a bound of 0 \
             can never be met",
        ),
        (
            "trials = 10\nmax_rounds_p99 = 9",
            "9:18: key 'expect.max_rounds_p99': 9 is more than the 5 rounds the scenario can run \
             (gossip.max_rounds), so it can never fail; use a bound below 5",
        ),
        (
            "trials = 10\ndecision_counts = { aproved = 10 }",
            "9:31: key 'expect.decision_counts.aproved': 'aproved' is not a decision: use \
             approved, rejected or timeout",
        ),
        (
            "trials = 10\ndecision_counts = { approved = 9 }",
            "9:19: key 'expect.decision_counts': the counts add up to 9, but 10 trials run \
             (expect.trials)",
        ),
    ];
    for (i, (expect, message)) in cases.iter().enumerate() {
        let file = write(&d.join(format!("case-{i}.toml")), &gossip(expect));
        let line = format!("{}:{message}", file.display());
        refused(&["run", s(&file)], &format!("moai: {line}"));
        let out = run(&["check", s(&file)]);
        assert_eq!(
            out.code,
            Some(2),
            "{expect}: not a failure (1) but bad input"
        );
        assert!(out.stdout.contains(&line), "{}", out.stdout);
        assert_eq!(
            out.stdout.lines().last().unwrap(),
            "0 passed, 0 failed, 1 error"
        );
    }
}

// ---- 7. `moai run` evaluates [expect] ----

#[test]
fn run_evaluates_the_files_expectations_as_check_does() {
    let d = fresh_dir("run");
    let good = write(&d.join("good.toml"), &byzantine("decision = \"approved\""));
    let out = run(&["run", s(&good), "--format", "json"]);
    assert_eq!(out.code, Some(0));
    let v: Value = serde_json::from_str(&out.stdout).expect("stdout stays pure JSON");
    assert_eq!(v["decision"], "approved");
    assert_eq!(out.stderr, "moai: all [expect] expectations met\n");

    let bad = write(
        &d.join("bad.toml"),
        &byzantine("decision = \"rejected\"\nhealthy_agents = 3"),
    );
    let out = run(&["run", s(&bad), "--format", "json"]);
    assert_eq!(out.code, Some(1));
    let v: Value = serde_json::from_str(&out.stdout).expect("the result is still printed");
    assert_eq!(v["decision"], "approved");
    assert_eq!(
        out.stderr,
        "moai: expectation failed: decision: expected rejected, got approved; \
         healthy_agents: expected 3, got 4\n"
    );
    assert_eq!(run(&["check", s(&bad)]).code, Some(1));

    // Trial statistics are evaluated over the file's trials, also when the
    // command line asks for other trials.
    let trials = write(
        &d.join("trials.toml"),
        &swarm("trials = 20\ndecision_counts = { rejected = 20 }"),
    );
    for args in [
        vec!["run", s(&trials)],
        vec!["run", s(&trials), "--trials", "3"],
    ] {
        let out = run(&args);
        assert_eq!(out.code, Some(1), "{args:?}");
        assert_eq!(
            out.stderr,
            "moai: expectation failed: decision_counts: expected rejected 20, got approved 20\n"
        );
    }
    assert_eq!(run(&["check", s(&trials)]).code, Some(1));

    // With --expect-decision, both verdicts are said.
    let out = run(&["run", s(&bad), "--expect-decision", "rejected"]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.starts_with(
            "moai: expectation failed: decision is approved, expected rejected; expectation failed: decision: "
        ),
        "{}",
        out.stderr
    );
}

// ---- 8. Bundled bounds that could fail ----

#[test]
fn bundled_round_bounds_are_below_what_the_scenario_can_run() {
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        let doc: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        let Some(bound) = doc
            .get("expect")
            .and_then(|e| e.get("max_rounds_completed"))
            .and_then(toml::Value::as_integer)
        else {
            continue;
        };
        let max_rounds = doc["gossip"]["max_rounds"].as_integer().unwrap();
        assert!(
            bound < max_rounds,
            "{}: max_rounds_completed = {bound} can never fail with max_rounds = {max_rounds}",
            path.display()
        );
        let out = run(&["run", s(&path), "--format", "json"]);
        let v: Value = serde_json::from_str(&out.stdout).unwrap();
        let rounds = v["metadata"]["rounds_completed"].as_i64().unwrap();
        assert!(
            rounds < bound,
            "{}: {rounds} rounds leave no margin below {bound}",
            path.display()
        );
    }
}

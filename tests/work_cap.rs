//! The total-work cap and the checks made before anything runs: a run, a
//! plan of trials or a sweep whose work passes a cap is refused naming the
//! product and the limit (and `--allow-long` lifts the cap); every value of
//! a sweep is checked before the first runs; `--threads` is checked on every
//! command before a thread starts; vector-clock resolution is bounded by
//! versions × clock entries. Each refusal is exit 2 with one line on stderr
//! and nothing on stdout. No timing is asserted; memory is (peak RSS).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use assert_cmd::Command;

#[path = "support/peak.rs"]
mod peak;

fn moai() -> Command {
    Command::cargo_bin("moai").unwrap()
}

/// Writes a scenario into the test's scratch folder and returns its path.
fn scenario_file(name: &str, text: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs moai expecting exit code 2, nothing on stdout and exactly `stderr`
/// (one line) on stderr.
fn refused(args: &[&str], stderr: &str) {
    let out = moai()
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("{stderr}\n"),
        "moai {args:?}"
    );
    assert_eq!(out.status.code(), Some(2), "moai {args:?}");
    assert!(out.stdout.is_empty(), "moai {args:?} printed on stdout");
}

const LIFT: &str = "lower one of them, or pass --allow-long to run it anyway";

#[test]
fn a_run_of_hours_within_every_limit_is_refused_naming_the_product_and_the_limit() {
    refused(
        &[
            "gossip",
            "--agents",
            "10000000",
            "--rounds",
            "100000",
            "--no-early-stop",
        ],
        &format!(
            "moai: this run could take 1000000000000 agent-rounds (agents × rounds), more than \
             the limit of 10000000000; {LIFT}"
        ),
    );
    refused(
        &["byzantine", "--agents", "10000000", "--rounds", "100000"],
        &format!(
            "moai: this run could take 1000000000000 agent-rounds (agents × rounds), more than \
             the limit of 10000000000; {LIFT}"
        ),
    );
}

#[test]
fn a_refused_run_warns_of_nothing_and_a_run_still_warns() {
    // Fanout 1 warns that no vote can change, but only for a run that runs.
    refused(
        &[
            "gossip", "--agents", "10000000", "--rounds", "100000", "--fanout", "1",
        ],
        &format!(
            "moai: this run could take 1000000000000 agent-rounds (agents × rounds), more than \
             the limit of 10000000000; {LIFT}"
        ),
    );
    let out = moai()
        .args(["gossip", "--fanout", "1", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("moai: warning: --fanout: with fanout 1") && stderr.lines().count() == 1,
        "{stderr}"
    );
}

#[test]
fn a_wide_fanout_is_capped_by_its_peer_contacts() {
    // 10^10 agent-rounds is within its cap; × fanout 20 is not.
    refused(
        &[
            "gossip", "--agents", "10000000", "--rounds", "1000", "--fanout", "20",
        ],
        &format!(
            "moai: this run could take 200000000000 peer contacts (agents × rounds × fanout), \
             more than the limit of 50000000000; {LIFT}"
        ),
    );
}

#[test]
fn proposals_trials_and_sweeps_count_all_their_runs() {
    // Three proposals in a row, each a vote of every agent in every round.
    refused(
        &[
            "byzantine",
            "rolling-upgrade",
            "--agents",
            "1000000",
            "--rounds",
            "5000",
        ],
        &format!(
            "moai: this run could take 15000000000 agent-rounds (proposals × agents × rounds), \
             more than the limit of 10000000000; {LIFT}"
        ),
    );
    refused(
        &[
            "byzantine",
            "--trials",
            "10000000",
            "--agents",
            "1000",
            "--rounds",
            "100",
        ],
        &format!(
            "moai: 10000000 trials could take 1000000000000 agent-rounds (trials × agents × \
             rounds), more than the limit of 10000000000; {LIFT}"
        ),
    );
    // Each value alone is within the cap (6 × 10^9); the plan is not.
    refused(
        &[
            "gossip",
            "--agents",
            "1000000",
            "--trials",
            "100",
            "--sweep",
            "rounds=50,60",
        ],
        &format!(
            "moai: this sweep of 2 values × 100 trials could take 11000000000 agent-rounds \
             (trials × agents × rounds, summed over the values), more than the limit of \
             10000000000; {LIFT}"
        ),
    );
    // The values are added up as they are checked: a plan past the cap is
    // refused once the values so far pass it, without checking the rest.
    refused(
        &[
            "gossip",
            "--agents",
            "10000000",
            "--sweep",
            "rounds=1..1000",
        ],
        &format!(
            "moai: this sweep of 1000 values × 1 trial could take 10350000000 agent-rounds \
             (trials × agents × rounds, summed over the first 45 values), more than the limit \
             of 10000000000; {LIFT}"
        ),
    );
    // Trials of a tiny swarm still cost a setup each.
    refused(
        &["gossip", "--trials", "100000", "--sweep", "fanout=1..101"],
        "moai: this sweep of 101 values × 100000 trials would be 10100000 trial runs (trials × \
         swept values), more than the limit of 10000000; run fewer trials or values, or pass \
         --allow-long to run them anyway",
    );
}

#[test]
fn allow_long_lifts_the_cap_for_a_run_that_means_it() {
    // Up to 100,000 rounds of 100,001 agents is past the cap, though early
    // stop ends this run within a few rounds.
    let args = ["gossip", "--agents", "100001", "--rounds", "100000"];
    refused(
        &args,
        &format!(
            "moai: this run could take 10000100000 agent-rounds (agents × rounds), more than the \
             limit of 10000000000; {LIFT}"
        ),
    );
    let out = moai()
        .args(args)
        .args(["--allow-long", "--format", "json"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let metadata = &json["metadata"];
    assert_eq!(metadata["converged"], true, "{metadata}");
    assert!(
        metadata["rounds_completed"].as_u64().unwrap() < 20,
        "{metadata}"
    );
    // The same holds for trials, and for the scenarios `moai check` runs.
    let trials = [
        "gossip", "--trials", "2", "--agents", "100001", "--rounds", "100000",
    ];
    let out = moai().args(trials).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    moai()
        .args(trials)
        .arg("--allow-long")
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
}

#[test]
fn moai_check_caps_each_scenario_and_allow_long_lifts_it() {
    let file = scenario_file(
        "work-cap-check.toml",
        "algorithm = \"gossip\"\n\
         [gossip]\nmax_rounds = 100000\n\
         [[groups]]\ncount = 100001\nvote = \"approve\"\n\
         [expect]\ndecision = \"approved\"\n",
    );
    let path = file.to_str().unwrap();
    let out = moai()
        .args(["check", path, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = json["results"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("10000100000 agent-rounds") && error.contains("--allow-long"),
        "{json}"
    );
    moai()
        .args(["check", path, "--allow-long"])
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
}

#[test]
fn a_sweep_is_checked_whole_before_its_first_value_runs() {
    // The case: the first value used to run in full first.
    refused(
        &["gossip", "--trials", "20", "--sweep", "rounds=2000,100001"],
        "moai: --sweep: rounds=100001: max_rounds must be between 1 and 100000, got 100001",
    );
    // A first value that runs warns as it runs (loss 1 changes nothing);
    // nothing ran, so the refusal is the only line.
    let history = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sweep-never-run.csv");
    refused(
        &[
            "gossip",
            "--trials",
            "2",
            "--sweep",
            "loss=1,2",
            "--history",
            history.to_str().unwrap(),
        ],
        "moai: --sweep: loss=2: loss must be in [0, 1], got 2",
    );
    assert!(!history.exists());
    // The value that would take hours is never started: the refusal of the
    // last value comes first.
    refused(
        &[
            "gossip",
            "--agents",
            "10000000",
            "--no-early-stop",
            "--allow-long",
            "--sweep",
            "rounds=100000,0",
        ],
        "moai: --sweep: rounds=0: max_rounds must be between 1 and 100000, got 0",
    );
    // The warning still comes when the plan does run.
    let out = moai()
        .args(["gossip", "--trials", "2", "--sweep", "loss=1,0.5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.matches("every exchange is lost").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn a_huge_integer_range_is_too_large_not_decimal() {
    let out = moai()
        .args(["gossip", "--sweep", "fanout=1..18446744073709551615"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("1..18446744073709551615:1 has more values than the limit of 1000"),
        "{stderr}"
    );
    assert!(!stderr.contains("decimals"), "{stderr}");
}

#[test]
fn threads_past_the_limit_are_refused_on_every_command() {
    let too_many = "moai: --threads: threads must be at most 1024, got 1025";
    for args in [
        &["gossip", "--threads", "1025"][..],
        &["byzantine", "--threads", "1025"],
        &["run", "gossip-swarm", "--threads", "1025"],
        &["run", "infra", "--threads", "1025"],
        &["run", "vector-clocks", "--threads", "1025"],
        &["check", "gossip-swarm", "--threads", "1025"],
        &[
            "gossip",
            "--trials",
            "3",
            "--trial",
            "1",
            "--threads",
            "1025",
        ],
    ] {
        refused(args, too_many);
    }
    for args in [
        &["byzantine", "--threads", "0"][..],
        &["run", "vector-clocks", "--threads", "0"],
    ] {
        refused(args, "moai: --threads: threads must be at least 1");
    }
}

#[test]
fn threads_past_the_limit_are_refused_before_any_starts() {
    // A pool of 1,024 threads takes the process to about 50 MiB in a debug
    // build (27 MiB in release); a refusal that started none stays at the
    // 12 MiB of any small run.
    let refused = peak::run_measured(&["gossip", "--threads", "1025"], &[]);
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(refused.stdout.is_empty());
    let bound = 24 << 20;
    assert!(
        refused.peak_bytes < bound,
        "peak {} bytes, bound {bound}",
        refused.peak_bytes
    );
}

/// A vector scenario of `versions` versions, all concurrent, each with a
/// clock of `entries` agents (the last two entries telling them apart).
fn concurrent_clocks(versions: usize, entries: usize) -> String {
    let mut toml = String::from(
        "algorithm = \"resolve\"\nstrategy = \"vector\"\n[[states]]\nkey = \"k\"\nversions = [\n",
    );
    for i in 0..versions {
        let _ = write!(
            toml,
            "{{ agent = \"a{}\", value = {i}, version = {i}, vector_clock = {{ ",
            i % entries
        );
        for a in 0..entries - 2 {
            let _ = write!(toml, "a{a} = 5, ");
        }
        let _ = writeln!(
            toml,
            "a{} = {}, a{} = {} }} }},",
            entries - 2,
            i + 1,
            entries - 1,
            3 * versions - 2 * i
        );
    }
    toml.push_str("]\n");
    toml
}

#[test]
fn vector_resolution_past_versions_times_clock_entries_is_refused_at_the_state() {
    // 10,000 versions × 110,000 entries: 1.1 × 10^9, past the limit of 10^9.
    let file = scenario_file("vector-too-much.toml", &concurrent_clocks(10_000, 11));
    let path = file.to_str().unwrap();
    refused(
        &["resolve", path],
        &format!(
            "moai: {path}:5:12: key 'states[0].versions': state 'k' has 10000 versions with \
             110000 vector clock entries in all; vector-clock resolution compares each \
             version's clock with the others', and versions × clock entries (1100000000) is \
             more than the limit of 1000000000"
        ),
    );
    // lww reads no clock: the same state resolves.
    let lww = std::process::Command::new(env!("CARGO_BIN_EXE_moai"))
        .args(["resolve", path, "--strategy", "lww", "--format", "json"])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(lww.success());
}

#[test]
fn vector_resolution_within_the_bound_stays_within_its_memory() {
    // 1,000 concurrent versions with 100-entry clocks (10^5 entries, a 1 MB
    // file): the resolution keeps 12 bytes per entry beside the parsed
    // scenario, so it peaks within a few MiB of lww, which reads no clock.
    let file = scenario_file("vector-concurrent.toml", &concurrent_clocks(1_000, 100));
    let path = file.to_str().unwrap();
    let vector = peak::run_measured(&["resolve", path, "--format", "json"], &[]);
    assert_eq!(vector.code, Some(0), "{}", vector.stderr);
    let json: serde_json::Value = serde_json::from_str(&vector.stdout).unwrap();
    let metadata = &json["resolutions"][0]["metadata"];
    assert_eq!(metadata["resolution_strategy"], "vector_concurrent_lww");
    assert_eq!(metadata["siblings"].as_array().unwrap().len(), 1000);
    let lww = peak::run_measured(
        &["resolve", path, "--strategy", "lww", "--format", "json"],
        &[],
    );
    assert_eq!(lww.code, Some(0), "{}", lww.stderr);
    assert!(
        vector.peak_bytes < lww.peak_bytes + (8 << 20) && vector.peak_bytes < 96 << 20,
        "vector {} MiB, lww {} MiB",
        vector.peak_bytes >> 20,
        lww.peak_bytes >> 20
    );
}

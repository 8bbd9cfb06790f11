//! The memory guard counts everything a run holds: each run here is either
//! refused up front (exit 2, one line saying what it needs and what to
//! lower) or stays under the limit `MOAI_MAX_MEMORY` sets, measured as the
//! child's own peak resident memory. Each case used more than its limit
//! before the guard counted it.

#[path = "support/peak.rs"]
mod peak;

use std::path::PathBuf;

/// Runs moai under `MOAI_MAX_MEMORY=limit`.
fn under(limit: &str, args: &[&str]) -> peak::Measured {
    peak::run_measured(args, &[("MOAI_MAX_MEMORY", limit)])
}

/// `limit` (`24M`, `100M`) in bytes.
fn bytes(limit: &str) -> u64 {
    limit.trim_end_matches('M').parse::<u64>().unwrap() << 20
}

/// Asserts the run finished and stayed under `limit`.
fn stays_under(limit: &str, args: &[&str]) -> peak::Measured {
    let run = under(limit, args);
    assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
    assert!(
        run.peak_bytes < bytes(limit),
        "{args:?} under {limit}: peak {} bytes",
        run.peak_bytes
    );
    run
}

/// Asserts the run was refused up front with one line containing every
/// part of `expected`, and returns that line.
fn refused(limit: &str, args: &[&str], expected: &[&str]) -> String {
    let run = under(limit, args);
    assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    for part in expected {
        assert!(run.stderr.contains(part), "{args:?}: {}", run.stderr);
    }
    // Refused before anything was allocated for the swarm.
    assert!(run.peak_bytes < bytes(limit), "{}", run.peak_bytes);
    run.stderr
}

#[test]
fn a_random_regular_network_is_counted_at_the_peak_of_its_build() {
    // 100,000 agents of degree 100 hold 4 bytes per neighbour entry while
    // the graph is built (40 MB): over 48M with the program itself.
    let args = [
        "gossip",
        "--agents",
        "100000",
        "--topology",
        "random-regular",
        "--degree",
        "100",
        "--rounds",
        "1",
        "--threads",
        "1",
        "--format",
        "json",
    ];
    stays_under("64M", &args);
    let err = refused(
        "48M",
        &args,
        &[
            "moai: this run needs about ",
            "more than 48.0 MiB (MOAI_MAX_MEMORY): the network takes ",
            "lower --degree or --agents",
        ],
    );
    assert!(err.contains("needs about 5"), "{err}");
}

#[test]
fn every_trial_in_flight_is_counted_once_per_thread() {
    // Six trials at once, each with a small-world network of 2,000,000
    // neighbour entries (8 MB): the old estimate counted one.
    let args = |threads: &'static str, trials: &'static str| {
        [
            "gossip",
            "--agents",
            "20000",
            "--topology",
            "small-world",
            "--degree",
            "100",
            "--rounds",
            "1",
            "--trials",
            trials,
            "--threads",
            threads,
            "--format",
            "json",
        ]
    };
    refused(
        "48M",
        &args("6", "6"),
        &[
            "more than 48.0 MiB (MOAI_MAX_MEMORY): 6 trials run at once and each holds ",
            "lower --threads",
        ],
    );
    // As many trials as there are threads on the machine or more: one per
    // thread, whatever the trials.
    let one = stays_under("48M", &args("1", "2"));
    let two = stays_under("48M", &args("2", "2"));
    assert_eq!(one.stdout, two.stdout);
}

#[test]
fn trial_results_do_not_grow_with_the_trials() {
    // About 350 bytes per Byzantine trial were kept until the end: 100,000
    // trials took 35 MB more.
    let args = ["byzantine", "--trials", "100000", "--threads", "2"];
    let run = stays_under("24M", &args);
    assert!(run.stdout.contains("100000"), "{}", run.stdout);
}

#[test]
fn a_kept_history_is_counted_and_refused_naming_it() {
    // 200,000 trials of up to 40 rounds: 8,000,000 CSV rows, within the row
    // limit, kept in memory until written.
    refused(
        "64M",
        &[
            "gossip", "--agents", "20", "--trials", "200000", "--rounds", "40", "--format", "csv",
        ],
        &[
            "the per-round history of every trial takes ",
            "run fewer --trials or --rounds, or drop --format csv and --history",
        ],
    );
}

#[test]
fn only_the_ids_printed_are_made() {
    // 400,000 healthy agents were all named in the outcome, 1,000 printed.
    let args = [
        "byzantine",
        "--agents",
        "400000",
        "--faulty",
        "1000",
        "--fault-tolerance",
        "1000",
        "--rounds",
        "3",
        "--format",
        "json",
    ];
    let run = stays_under("32M", &args);
    assert!(
        run.stdout.contains("\"metadata.healthy_agents\": 398000"),
        "{}",
        &run.stdout[run.stdout.len().saturating_sub(2000)..]
    );
    let mut all = args.to_vec();
    all.extend(["--list-limit", "100000000"]);
    refused(
        "32M",
        &all,
        &[
            "the agent ids shown take ",
            "lower --list-limit or --agents",
        ],
    );
}

#[test]
fn partitions_index_only_the_ids_they_name() {
    // Every id of 400,000 agents was indexed to find the three named here.
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("memory-wide-partition.toml");
    std::fs::write(
        &path,
        r#"algorithm = "gossip"
name = "wide-partition"

[gossip]
max_rounds = 2

[[gossip.partitions]]
from = 1
until = 2
groups = [["a-1", "a-2"], ["a-3"]]

[[groups]]
count = 400000
vote = "approve"
prefix = "a-"
"#,
    )
    .unwrap();
    stays_under("24M", &["gossip", path.to_str().unwrap(), "--threads", "1"]);
}

#[test]
fn max_memory_takes_bytes_and_binary_units_and_refuses_anything_else() {
    for good in ["536870912", "512M", "512MiB", "1G", "1g", "1.5GiB"] {
        let run = under(good, &["gossip", "--threads", "1"]);
        assert_eq!(run.code, Some(0), "{good}: {}", run.stderr);
    }
    // A valid size, too small for any run.
    let run = under("64k", &["gossip", "--threads", "1"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains(
            "more than 65536 bytes (MOAI_MAX_MEMORY): moai itself takes about 16.1 MiB; \
             raise MOAI_MAX_MEMORY"
        ),
        "{}",
        run.stderr
    );
    for (bad, why) in [
        ("abc", "is not a size"),
        ("-1", "is not a size"),
        ("1MB", "is not a size"),
        ("1.5", "is not a size (a fraction needs a unit, as in 1.5G)"),
        ("0", "is no memory at all"),
        ("99999999999999999999", "is too large"),
    ] {
        let run = under(bad, &["gossip", "--threads", "1"]);
        assert_eq!(run.code, Some(2), "{bad}: {}", run.stderr);
        assert_eq!(
            run.stderr,
            format!(
                "moai: MOAI_MAX_MEMORY: '{bad}' {why}; give bytes (1000000) or a size such as \
                 512M, 512MiB, 1G or 1.5GiB\n"
            ),
            "{bad}"
        );
    }
}

#[test]
fn a_sequence_of_proposals_counts_every_outcome_it_keeps() {
    // Three proposals over 200,000 agents keep three outcomes naming every
    // healthy agent (55 MB); the old estimate was 13 MB.
    let args = |agents: &'static str| {
        [
            "byzantine",
            "scenarios/rolling-upgrade.toml",
            "--agents",
            agents,
            "--fault-tolerance",
            "1",
            "--format",
            "json",
        ]
    };
    refused(
        "48M",
        &args("200000"),
        &["more than 48.0 MiB (MOAI_MAX_MEMORY): lower --agents"],
    );
    stays_under("48M", &args("50000"));
}

#[test]
fn a_printed_round_history_is_counted_in_its_format() {
    // A table of 20,000 rounds took 38 MB to lay out. (Kept small: the
    // JSON this process reads raises its own peak, where children start.)
    refused(
        "48M",
        &["byzantine", "--rounds", "20000"],
        &[
            "more than 48.0 MiB (MOAI_MAX_MEMORY): printing the round history takes ",
            "lower --rounds, or use --format json or csv",
        ],
    );
    let run = stays_under(
        "48M",
        &["byzantine", "--rounds", "20000", "--format", "json"],
    );
    assert!(run.stdout.contains("\"round\": 20000"));
}

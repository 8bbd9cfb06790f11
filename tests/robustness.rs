//! Hostile and oversized input: every case must end with exit code 2 and one
//! line on stderr naming the file (or the flag), never a panic, an abort, an
//! exhausted memory or a hang. Also the regression inputs found by fuzzing
//! (`fuzz/`, target `scenario`). The generous timeouts only keep a hang from
//! stalling CI; speed is measured by the benchmarks, never asserted here.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use assert_cmd::Command;

#[path = "support/peak.rs"]
mod peak;

fn moai() -> Command {
    Command::cargo_bin("moai").unwrap()
}

/// Writes a scenario into the test's scratch folder and returns its path.
fn scenario_file(name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs moai expecting exit code 2, empty stdout and one line on stderr that
/// starts with `moai: ` and names nothing Rust-internal; returns stderr.
fn rejected_args(args: &[&str]) -> String {
    let out = moai()
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "moai {args:?} should exit 2; stderr: {}",
        &stderr[..stderr.len().min(500)]
    );
    assert!(out.stdout.is_empty(), "stdout must stay empty on errors");
    assert_one_line(&stderr);
    stderr
}

/// Runs moai expecting a usage error from clap: exit code 2, empty stdout,
/// clap's whole message on stderr; returns stderr.
fn usage_error(args: &[&str]) -> String {
    let out = moai()
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "moai {args:?} should exit 2");
    assert!(out.stdout.is_empty(), "stdout must stay empty on errors");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn assert_one_line(stderr: &str) {
    assert!(stderr.starts_with("moai: "), "{stderr}");
    assert!(stderr.ends_with('\n'), "{stderr}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line on stderr, got: {stderr}"
    );
    for debug_dump in ["panicked", "RUST_BACKTRACE", "overflow", "Error {", "Some("] {
        assert!(!stderr.contains(debug_dump), "{stderr}");
    }
}

/// Writes `bytes` to a scenario file, runs `command` on it and expects it
/// to be rejected; returns stderr, which must name the file.
fn rejected_file(name: &str, bytes: impl AsRef<[u8]>, command: &str) -> String {
    let path = scenario_file(name, bytes);
    let err = rejected_args(&[command, path.to_str().unwrap()]);
    assert!(err.contains(name), "the error must name the file: {err}");
    err
}

/// `algorithm = "byzantine"`, then `extra` from line 2, then four agents.
fn byzantine_with(extra: &str) -> String {
    format!("algorithm = \"byzantine\"\n{extra}[[groups]]\ncount = 4\nvote = \"for\"\n")
}

/// A resolve scenario with one state whose only version has `value`.
fn resolve_with_value(value: &str) -> String {
    format!(
        "algorithm = \"resolve\"\nstrategy = \"crdt\"\n[[states]]\nkey = \"k\"\n\
         versions = [ {{ agent = \"a\", value = {value} }} ]\n"
    )
}

/// A dotted key of `parts` parts, each `a`.
fn dotted(parts: usize) -> String {
    vec!["a"; parts].join(".")
}

/// Inline tables nested `levels` deep, each opened by a dotted key of 78
/// parts: about 79 × `levels` tables, more than any one bracket limit.
fn dotted_inline_tables(levels: usize) -> String {
    let key = dotted(78);
    let mut value = "1".to_string();
    for _ in 0..levels {
        value = format!("{{ {key} = {value} }}");
    }
    value
}

// ---------------------------------------------------------------------------
// Inputs that crashed the fuzz target (fuzz/seeds/regression-*)
// ---------------------------------------------------------------------------

#[test]
fn fuzz_crash_a_carriage_return_in_a_quoted_value_stays_on_one_line() {
    // Found by the fuzzer (crash-2b58bc7b): a multi-line string holding "\r" became part of
    // serde's "unknown variant" message, which printed on two lines.
    let bytes = include_bytes!("../fuzz/seeds/regression-multiline-error.toml");
    let err = rejected_file("fuzz-multiline-error.toml", bytes, "run");
    assert!(
        err.contains("fuzz-multiline-error.toml:1:13: key 'algorithm': unknown variant"),
        "{err}"
    );
    assert!(err.contains("10\\r convers"), "{err}");
}

#[test]
fn fuzz_crash_deep_dotted_nesting_is_refused() {
    // Written by hand, too long for the fuzzer to reach: a 78-part header,
    // key and 79 inline tables, over 6,000 levels, which overflowed the
    // stack (the fuzz target reported an ASan stack-overflow in toml's
    // deserializer).
    let bytes = include_bytes!("../fuzz/seeds/regression-deep-dotted-nesting.toml");
    let err = rejected_file("fuzz-deep-nesting.toml", bytes, "run");
    assert!(
        err.contains("fuzz-deep-nesting.toml:6:")
            && err.contains("key 'proposal': tables and arrays nest more than 80 levels deep"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------
// Nesting depth
// ---------------------------------------------------------------------------

#[test]
fn deep_nesting_built_from_dotted_keys_is_refused_not_a_stack_overflow() {
    // A header of 78 parts, a dotted key of 78 parts, then 79 inline tables
    // of 78 parts each: over 6,000 levels, which used to overflow the stack
    // while the file was converted.
    let text = byzantine_with(&format!(
        "[proposal.{key}]\n{key} = {value}\n",
        key = dotted(78),
        value = dotted_inline_tables(79)
    ));
    let err = rejected_file("deep-proposal.toml", &text, "run");
    assert!(
        err.contains("deep-proposal.toml:3:") && err.contains("key 'proposal'"),
        "{err}"
    );
    assert!(
        err.contains("tables and arrays nest more than 80 levels deep"),
        "{err}"
    );
    let err = rejected_file(
        "deep-value.toml",
        resolve_with_value(&dotted_inline_tables(77)),
        "resolve",
    );
    assert!(
        err.contains("deep-value.toml:5:") && err.contains("key 'states'"),
        "{err}"
    );
    assert!(err.contains("more than 80 levels deep"), "{err}");
}

#[test]
fn nesting_up_to_the_limit_is_accepted() {
    // 2 dotted tables under [proposal] of 39 parts each: 1 + 78 levels.
    let key = dotted(39);
    let text = byzantine_with(&format!("[proposal]\n{key} = {{ {key} = 1 }}\n"));
    let path = scenario_file("nesting-79.toml", &text);
    moai()
        .args(["run", path.to_str().unwrap(), "--format", "json"])
        .assert()
        .success();
    let text = byzantine_with(&format!("[proposal]\n{key} = {{ {key} = [[1]] }}\n"));
    let err = rejected_file("nesting-81.toml", &text, "run");
    assert!(err.contains("more than 80 levels deep"), "{err}");
}

#[test]
fn a_hundred_thousand_brackets_are_refused_at_their_position() {
    let deep =
        |open: &str, close: &str| format!("{}{}", open.repeat(100_000), close.repeat(100_000));
    for (name, text) in [
        (
            "deep-arrays-value.toml",
            resolve_with_value(&deep("[", "]")),
        ),
        (
            "deep-arrays-proposal.toml",
            byzantine_with(&format!("[proposal]\nx = {}\n", deep("[", "]"))),
        ),
        (
            "deep-tables-proposal.toml",
            byzantine_with(&format!("[proposal]\nx = {}\n", deep("{a = ", "}"))),
        ),
    ] {
        let err = rejected_file(name, &text, "run");
        assert!(err.contains(&format!("{name}:")), "{err}");
        assert!(err.contains("more than 80 levels deep"), "{err}");
    }
}

#[test]
fn a_key_of_a_hundred_thousand_parts_is_refused() {
    for (name, text) in [
        (
            "long-dotted-key.toml",
            byzantine_with(&format!("[proposal]\n{} = 1\n", dotted(100_000))),
        ),
        (
            "long-header.toml",
            byzantine_with(&format!("[proposal.{}]\nx = 1\n", dotted(100_000))),
        ),
    ] {
        let err = rejected_file(name, &text, "run");
        assert!(
            err.contains("a dotted key or table header has more than 80 parts"),
            "{err}"
        );
    }
}

// ---------------------------------------------------------------------------
// Sizes: agents, rounds, trials, degree, history
// ---------------------------------------------------------------------------

#[test]
fn agent_counts_past_the_limit_are_refused_naming_it() {
    let err = rejected_file(
        "one-huge-group.toml",
        "algorithm = \"gossip\"\n[[groups]]\ncount = 10000001\nvote = \"for\"\n",
        "run",
    );
    assert!(
        err.contains("one-huge-group.toml:3:9: key 'groups[0].count'")
            && err.contains("the limit is 10000000"),
        "{err}"
    );
    // Groups that fit alone but not together: reported at the group that
    // crosses the limit, with no overflow of the running total.
    let err = rejected_file(
        "summed-groups.toml",
        "algorithm = \"gossip\"\n\
         [[groups]]\ncount = 6000000\nvote = \"for\"\n\
         [[groups]]\ncount = 18446744073709551615\nvote = \"for\"\n",
        "run",
    );
    assert!(
        err.contains("key 'groups[1].count'") && err.contains("the limit is 10000000"),
        "{err}"
    );
    let err = rejected_args(&["gossip", "--agents", "10000001"]);
    assert!(
        err.starts_with("moai: --agents:") && err.contains("limit of 10000000"),
        "{err}"
    );
    let err = rejected_args(&["gossip", "--agents", "18446744073709551615"]);
    assert!(err.starts_with("moai: --agents:"), "{err}");
}

#[test]
fn round_counts_past_the_limit_are_refused_naming_it() {
    let err = rejected_file(
        "max-rounds.toml",
        "algorithm = \"gossip\"\n[gossip]\nmax_rounds = 100001\n\
         [[groups]]\ncount = 3\nvote = \"for\"\n",
        "run",
    );
    assert!(
        err.contains("max-rounds.toml:3:14: key 'gossip.max_rounds'")
            && err.contains("between 1 and 100000"),
        "{err}"
    );
    let err = rejected_file(
        "num-rounds.toml",
        byzantine_with("[byzantine]\nnum_rounds = 4294967295\n"),
        "run",
    );
    assert!(
        err.contains("key 'byzantine.num_rounds'") && err.contains("between 3 and 100000"),
        "{err}"
    );
    let err = rejected_args(&["byzantine", "--rounds", "100001"]);
    assert!(
        err.starts_with("moai: --rounds:") && err.contains("100000"),
        "{err}"
    );
    let err = rejected_args(&["gossip", "--rounds", "4294967295"]);
    assert!(
        err.starts_with("moai: --rounds:") && err.contains("100000"),
        "{err}"
    );
    // Past u32: clap refuses the number itself.
    let err = usage_error(&["gossip", "--rounds", "4294967296"]);
    assert!(err.contains("--rounds"), "{err}");
}

#[test]
fn trial_counts_past_the_limit_are_refused_naming_it() {
    let err = rejected_args(&["gossip", "--trials", "10000001"]);
    assert!(
        err.starts_with("moai: --trials:") && err.contains("10000000"),
        "{err}"
    );
    let err = rejected_args(&["byzantine", "--trials", "0"]);
    assert!(err.starts_with("moai: --trials:"), "{err}");
    // clap reads a negative number as an unknown flag.
    let err = usage_error(&["byzantine", "--trials", "-1"]);
    assert!(err.contains("'-1'"), "{err}");
}

#[test]
fn thread_counts_past_the_limit_are_refused_before_starting_any() {
    for threads in ["1025", "18446744073709551615"] {
        let err = rejected_args(&["gossip", "--trials", "2", "--threads", threads]);
        assert_eq!(
            err,
            format!("moai: --threads: threads must be at most 1024, got {threads}\n")
        );
    }
}

#[test]
fn a_history_too_large_to_hold_is_refused_before_running() {
    let err = rejected_args(&["gossip", "--trials", "10000000", "--format", "csv"]);
    assert!(
        err.starts_with("moai: --trials:") && err.contains("limit of 20000000"),
        "{err}"
    );
    let history = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("never-written.csv");
    let err = rejected_args(&[
        "byzantine",
        "--trials",
        "100000",
        "--sweep",
        "rounds=3..102",
        "--history",
        history.to_str().unwrap(),
    ]);
    assert!(
        err.starts_with("moai: --sweep: rounds=3: a per-round history")
            && err.contains("for each of 100 values"),
        "{err}"
    );
    assert!(!history.exists());
}

#[test]
fn networks_too_large_to_build_are_refused_naming_the_limit() {
    let err = rejected_args(&[
        "gossip",
        "--agents",
        "10000000",
        "--topology",
        "small-world",
        "--degree",
        "20",
    ]);
    assert!(
        err.starts_with("moai: --degree:")
            && err.contains("200000000 neighbour entries")
            && err.contains("limit of 100000000"),
        "{err}"
    );
    // A degree the agents cannot have, from the file.
    let err = rejected_file(
        "degree-vs-n.toml",
        "algorithm = \"gossip\"\n[gossip]\ntopology = \"random-regular\"\ndegree = 4294967295\n\
         [[groups]]\ncount = 5\nvote = \"for\"\n",
        "run",
    );
    assert!(
        err.contains("degree-vs-n.toml:4:10: key 'gossip.degree'") && err.contains("[1, 4]"),
        "{err}"
    );
    let err = rejected_args(&["gossip", "--topology", "ring", "--degree", "20"]);
    assert!(
        err.starts_with("moai: --degree:") && err.contains("[2, 18]"),
        "{err}"
    );
}

#[test]
fn proposal_sequences_too_large_to_hold_are_refused() {
    // 1,000 agents × 10,001 proposals: a 140 KB file asking for more than
    // 10^7 votes, each proposal's result listing every agent.
    let text = format!(
        "algorithm = \"byzantine\"\n{}[[groups]]\ncount = 1000\nvote = \"for\"\n",
        "[[proposals]]\n".repeat(10_001)
    );
    let err = rejected_file("many-proposals.toml", &text, "run");
    assert!(
        err.contains("many-proposals.toml:2:")
            && err.contains("key 'proposals'")
            && err.contains("10001 proposals of 1000 agents each is 10001000 votes")
            && err.contains("limit of 10000000"),
        "{err}"
    );
}

#[test]
fn a_long_sequence_blacklisting_many_agents_runs_in_linear_time() {
    // 100,000 vote changers caught by the first proposal: the later ones
    // filter 200,000 agents against that blacklist (a scan of the list per
    // agent took minutes).
    let text = "algorithm = \"byzantine\"\n[byzantine]\nfault_tolerance = 1\n\
                [[proposals]]\nid = 1\n[[proposals]]\nid = 2\n[[proposals]]\nid = 3\n\
                [[groups]]\ncount = 100000\nvote = \"for\"\nbehavior = \"flip\"\n\
                [[groups]]\ncount = 100000\nvote = \"for\"\n";
    let path = scenario_file("long-blacklist.toml", text);
    let out = moai()
        .args([
            "run",
            path.to_str().unwrap(),
            "--format",
            "json",
            "--list-limit",
            "200000",
        ])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["blacklist"].as_array().unwrap().len(), 100_000);
    assert_eq!(v["healthy_agents"].as_array().unwrap().len(), 100_000);
    assert_eq!(v["proposals"][2]["status"], "decided");
}

#[test]
fn partitions_too_large_to_label_are_refused() {
    let mut text =
        String::from("algorithm = \"gossip\"\n[[groups]]\ncount = 10000000\nvote = \"for\"\n");
    text.push_str(&"[[gossip.partitions]]\nfrom = 1\nuntil = 2\ngroups = []\n".repeat(11));
    let err = rejected_file("many-partitions.toml", &text, "run");
    assert!(
        err.contains("many-partitions.toml:5:1:")
            && err.contains("key 'gossip.partitions'")
            && err.contains("11 partitions of 10000000 agents need 110000000 group labels")
            && err.contains("limit of 100000000"),
        "{err}"
    );
}

#[test]
fn sweep_ranges_at_the_ends_of_the_number_types_are_refused() {
    for sweep in [
        "fanout=-9223372036854775808..9223372036854775807",
        "loss=0..1e300:1e-300",
        "loss=-1e308..1e308:1e-308",
    ] {
        let err = usage_error(&["gossip", "--sweep", sweep]);
        assert!(err.contains("--sweep") && err.contains("limit"), "{err}");
    }
}

#[test]
fn vector_resolution_of_too_many_versions_is_refused_and_many_agents_are_cheap() {
    let versions = |n: usize| {
        (0..n)
            .map(|i| format!("{{ agent = \"a{i}\", value = {i}, version = 1 }}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = |n: usize, strategy: &str| {
        format!(
            "algorithm = \"resolve\"\nstrategy = \"{strategy}\"\n[[states]]\n\
             key = \"causal_k\"\nversions = [{}]\n",
            versions(n)
        )
    };
    for strategy in ["vector", "hybrid"] {
        let err = rejected_file("many-versions.toml", text(10_001, strategy), "run");
        assert!(
            err.contains("many-versions.toml:5:12: key 'states[0].versions'")
                && err.contains("has 10001 versions")
                && err.contains("at most 10000"),
            "{err}"
        );
    }
    // 10,000 agents writing once: every version concurrent, resolved in
    // moments (a dense clock matrix took minutes and gigabytes).
    let path = scenario_file("ten-thousand-versions.toml", text(10_000, "vector"));
    let out = moai()
        .args([
            "run",
            path.to_str().unwrap(),
            "--format",
            "json",
            "--list-limit",
            "20000",
        ])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v["resolutions"][0];
    assert_eq!(
        r["metadata"]["resolution_strategy"],
        "vector_concurrent_lww"
    );
    assert_eq!(r["metadata"]["siblings"].as_array().unwrap().len(), 10_000);
    // Every version 1 with no timestamp: the greatest agent id wins.
    assert_eq!(r["agent"], "a9999");
    // Other strategies take any number of versions.
    let path = scenario_file("many-versions-lww.toml", text(20_000, "lww"));
    moai()
        .args(["run", path.to_str().unwrap()])
        .assert()
        .success();
}

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

#[test]
fn integers_beyond_i64_are_refused_at_their_position() {
    for (name, text, at) in [
        (
            "count-beyond-i64.toml",
            "algorithm = \"gossip\"\n[[groups]]\ncount = 99999999999999999999\nvote = \"for\"\n"
                .to_string(),
            ":3:9:",
        ),
        (
            "seed-beyond-i64.toml",
            byzantine_with("seed = 18446744073709551616\n"),
            ":2:8:",
        ),
        (
            "value-beyond-i64.toml",
            resolve_with_value("123456789012345678901234567890"),
            ":5:",
        ),
        (
            "proposal-beyond-i64.toml",
            byzantine_with("[proposal]\nn = -99999999999999999999\n"),
            ":3:5:",
        ),
    ] {
        let err = rejected_file(name, &text, "run");
        assert!(err.contains(&format!("{name}{at}")), "{err}");
    }
}

#[test]
fn negative_numbers_where_counts_are_expected_are_refused() {
    for (name, text, key) in [
        (
            "negative-count.toml",
            "algorithm = \"gossip\"\n[[groups]]\ncount = -1\nvote = \"for\"\n".to_string(),
            "groups[0].count",
        ),
        ("negative-seed.toml", byzantine_with("seed = -42\n"), "seed"),
        (
            "negative-f.toml",
            byzantine_with("[byzantine]\nfault_tolerance = -1\n"),
            "byzantine.fault_tolerance",
        ),
        (
            "negative-fanout.toml",
            "algorithm = \"gossip\"\n[gossip]\nfanout = -9223372036854775808\n\
             [[groups]]\ncount = 3\nvote = \"for\"\n"
                .to_string(),
            "gossip.fanout",
        ),
        (
            "negative-version.toml",
            "algorithm = \"resolve\"\nstrategy = \"lww\"\n[[states]]\nkey = \"k\"\n\
             versions = [ { agent = \"a\", value = 1, version = -3 } ]\n"
                .to_string(),
            "states[0].versions[0].version",
        ),
        (
            "negative-clock.toml",
            "algorithm = \"resolve\"\nstrategy = \"vector\"\n[[states]]\nkey = \"k\"\n\
             versions = [ { agent = \"a\", value = 1, vector_clock = { a = -1 } } ]\n"
                .to_string(),
            "states[0].versions[0].vector_clock",
        ),
        (
            "negative-counter.toml",
            resolve_with_value("-5"),
            "states[0].versions[0].value",
        ),
    ] {
        let err = rejected_file(name, &text, "run");
        assert!(err.contains(&format!("key '{key}")), "{name}: {err}");
    }
}

#[test]
fn counters_at_the_top_of_u64_are_refused_when_they_cannot_sum() {
    let err = rejected_file(
        "counter-sum.toml",
        "algorithm = \"resolve\"\nstrategy = \"crdt\"\n[[states]]\nkey = \"k\"\n\
         crdt_type = \"counter\"\nversions = [ { agent = \"a\", value = 9223372036854775807 }, \
         { agent = \"b\", value = 9223372036854775807 }, { agent = \"c\", value = 2 } ]\n",
        "run",
    );
    assert!(err.contains("larger than 18446744073709551615"), "{err}");
}

#[test]
fn non_finite_and_huge_floats_are_refused_where_a_ratio_is_expected() {
    for (setting, value) in [
        ("loss", "nan"),
        ("loss", "inf"),
        ("threshold", "-inf"),
        ("convergence_threshold", "1e308"),
        ("rewire", "-0.0000001"),
    ] {
        let text = format!(
            "algorithm = \"gossip\"\n[gossip]\n{setting} = {value}\n\
             [[groups]]\ncount = 3\nvote = \"for\"\n"
        );
        let err = rejected_file(&format!("float-{setting}.toml"), &text, "run");
        assert!(err.contains(&format!("key 'gossip.{setting}'")), "{err}");
    }
    let err = rejected_file(
        "weight-nan.toml",
        "algorithm = \"byzantine\"\n[[agents]]\nid = \"a\"\nvote = \"for\"\nweight = nan\n",
        "run",
    );
    assert!(err.contains("key 'agents[0].weight'"), "{err}");
}

// ---------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------

#[test]
fn control_characters_in_ids_cannot_split_the_error_line() {
    let text = "algorithm = \"byzantine\"\n\
                [[agents]]\nid = \"evil\\nmoai: forged line\\u001b[2J\"\nvote = \"for\"\n\
                [[agents]]\nid = \"evil\\nmoai: forged line\\u001b[2J\"\nvote = \"for\"\n";
    let err = rejected_file("newline-id.toml", text, "run");
    assert!(
        err.contains("duplicate agent id 'evil\\nmoai: forged line\\u{1b}[2J'"),
        "{err}"
    );
    let err = rejected_args(&["gossip", "--sweep", "fan\nout=1"]);
    assert!(err.contains("fan\\nout"), "{err}");
}

#[test]
fn ten_megabyte_strings_run_or_fail_cleanly_and_quickly() {
    let big = "x".repeat(10_000_000);
    let cases = [
        (
            "long-id.toml",
            format!(
                "algorithm = \"byzantine\"\n[[agents]]\nid = \"{big}\"\nvote = \"for\"\n\
                 [[groups]]\ncount = 3\nvote = \"for\"\n"
            ),
        ),
        (
            "long-value.toml",
            format!(
                "algorithm = \"resolve\"\nstrategy = \"crdt\"\n[[states]]\nkey = \"k\"\n\
                 versions = [ {{ agent = \"a\", value = [\"{big}\"] }}, \
                 {{ agent = \"b\", value = [\"{big}\", \"y\"] }} ]\n"
            ),
        ),
        (
            "long-key.toml",
            byzantine_with(&format!("[proposal]\n\"{big}\" = \"{big}\"\n")),
        ),
        (
            "long-description.toml",
            format!(
                "algorithm = \"gossip\"\ndescription = \"{big}\"\n\
                 [[groups]]\ncount = 20\nvote = \"for\"\n"
            ),
        ),
    ];
    for (name, text) in &cases {
        let path = scenario_file(name, text);
        for format in ["table", "json", "csv"] {
            let out = moai()
                .args(["run", path.to_str().unwrap(), "--format", format])
                .timeout(Duration::from_secs(60))
                .output()
                .unwrap();
            match out.status.code() {
                Some(0) => assert!(out.stdout.len() >= 10_000_000 || format == "csv"),
                Some(2) => assert_one_line(&String::from_utf8(out.stderr).unwrap()),
                other => panic!("{name} {format}: exit {other:?}"),
            }
            if *name == "long-value.toml" && format == "table" {
                // Table cells are cut; the resolved value is printed whole.
                let text = String::from_utf8(out.stdout).unwrap();
                assert!(
                    text.contains("… (9940004 more characters; --format json shows all)"),
                    "{}",
                    &text[..2000]
                );
            }
        }
    }
    // A duplicated 10 MB id: one (long) line naming the file and the key.
    let text = format!(
        "algorithm = \"byzantine\"\n[[agents]]\nid = \"{big}\"\nvote = \"for\"\n\
         [[agents]]\nid = \"{big}\"\nvote = \"for\"\n"
    );
    let err = rejected_file("long-duplicate.toml", &text, "run");
    assert!(err.contains("long-duplicate.toml:6:6: key 'agents[1].id'"));
}

// ---------------------------------------------------------------------------
// Bytes, files and standard input
// ---------------------------------------------------------------------------

#[test]
fn non_utf8_bytes_are_located() {
    for (name, bytes, at) in [
        (
            "latin1-middle.toml",
            b"algorithm = \"gossip\"\n# caf\xe9\n".to_vec(),
            ":2:6: the file is not valid UTF-8 (byte 26)",
        ),
        (
            "utf16.toml",
            b"\xff\xfea\x00l\x00g\x00".to_vec(),
            ":1:1: the file is not valid UTF-8 (byte 0)",
        ),
        (
            "truncated-utf8.toml",
            b"algorithm = \"gossip\"\nname = \"\xe2\x82\"\n".to_vec(),
            ":2:9: the file is not valid UTF-8 (byte 29)",
        ),
        (
            "binary.toml",
            (0u8..=255).cycle().take(100_000).collect(),
            ":2:118: the file is not valid UTF-8 (byte 128)",
        ),
    ] {
        let err = rejected_file(name, &bytes, "run");
        assert!(err.contains(&format!("{name}{at}")), "{err}");
    }
}

#[test]
fn nul_bytes_are_toml_errors_and_a_byte_order_mark_is_fine() {
    let err = rejected_file("nul.toml", b"algorithm = \"gossip\"\x00\n", "run");
    assert!(err.contains("nul.toml:1:"), "{err}");
    let path = scenario_file(
        "bom.toml",
        "\u{feff}algorithm = \"gossip\"\n[[groups]]\ncount = 3\nvote = \"for\"\n",
    );
    moai()
        .args(["run", path.to_str().unwrap()])
        .assert()
        .success();
}

#[test]
fn empty_and_blank_files_are_missing_the_algorithm() {
    for (name, text) in [
        ("empty.toml", ""),
        ("blank.toml", "\n\n   \n# only a comment\n"),
    ] {
        for command in ["run", "byzantine", "gossip", "resolve"] {
            let err = rejected_file(name, text, command);
            assert!(err.contains("missing field `algorithm`"), "{err}");
        }
    }
}

#[test]
fn endless_and_oversized_input_is_refused_at_64_mib() {
    let err = rejected_args(&["run", "/dev/zero"]);
    assert_eq!(
        err,
        "moai: cannot read scenario '/dev/zero': it is larger than the limit of 67108864 bytes \
         (64 MiB)\n"
    );
    // A comment of 64 MiB and one byte: valid TOML, but too large.
    let mut big = b"# ".to_vec();
    big.resize(64 * 1024 * 1024 + 1, b'x');
    let err = rejected_file("oversized.toml", &big, "run");
    assert!(
        err.contains("oversized.toml': it is larger than the limit"),
        "{err}"
    );
    let (code, stderr) = with_stdin(&["gossip", "-"], &big);
    assert_eq!(code, Some(2));
    assert_eq!(
        stderr,
        "moai: cannot read scenario '-': it is larger than the limit of 67108864 bytes (64 MiB)\n"
    );
}

#[test]
fn a_directory_is_not_a_scenario() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("a-directory.toml");
    std::fs::create_dir_all(&dir).unwrap();
    for command in ["run", "byzantine", "gossip", "resolve"] {
        let err = rejected_args(&[command, dir.to_str().unwrap()]);
        assert!(
            err.contains("cannot read scenario '")
                && err.contains("a-directory.toml': it is a directory"),
            "{err}"
        );
    }
}

/// Runs moai with `input` on standard input; returns (exit code, stderr).
fn with_stdin(args: &[&str], input: &[u8]) -> (Option<i32>, String) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("moai"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // moai may stop reading early; a broken pipe here is its right.
    let _ = stdin.write_all(input);
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.stdout.is_empty(), "stdout must stay empty on errors");
    (out.status.code(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn garbage_on_standard_input_is_reported_as_stdin() {
    let garbage: Vec<u8> = (0..1_000_000u64).map(|i| (i * 7919 % 251) as u8).collect();
    for (input, expected) in [
        (&b""[..], "<stdin>:1:1: missing field `algorithm`"),
        (&b"[[[[ nonsense"[..], "<stdin>:1:"),
        (
            &b"algorithm = \"gossip\"\n\xc3\x28"[..],
            "<stdin>:2:1: the file is not valid UTF-8",
        ),
        (&garbage[..], "<stdin>:"),
    ] {
        for command in ["run", "gossip"] {
            let (code, stderr) = with_stdin(&[command, "-"], input);
            assert_eq!(code, Some(2), "{stderr}");
            assert_one_line(&stderr);
            assert!(stderr.contains(expected), "{stderr}");
        }
    }
}

// ---------------------------------------------------------------------------
// Peak memory
// ---------------------------------------------------------------------------

#[test]
fn a_small_run_stays_small_and_a_large_one_is_measured_larger() {
    // The measurement itself: the child's own peak, which grows with the run.
    let small = peak::run_measured(&["gossip", "--format", "json"], &[]);
    assert_eq!(small.code, Some(0), "{}", small.stderr);
    assert!(small.stdout.starts_with('{'), "{}", small.stdout);
    let large = peak::run_measured(
        &[
            "gossip",
            "--agents",
            "2000000",
            "--rounds",
            "1",
            "--threads",
            "1",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(large.code, Some(0), "{}", large.stderr);
    assert!(
        small.peak_bytes > 0 && small.peak_bytes < 64 << 20,
        "{small:?}"
    );
    assert!(
        large.peak_bytes > small.peak_bytes,
        "{} vs {}",
        large.peak_bytes,
        small.peak_bytes
    );
}

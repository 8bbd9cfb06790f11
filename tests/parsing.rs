//! What parsing a scenario costs and what it says (issue 11): files within
//! the 64 MiB limit cost at most the guard's estimate (a fixed cost per
//! token, see README "Reliability"), or are refused before the parser
//! allocates; proposals are counted before anything is built for them; the
//! same version delivered twice is one version; refusals say what is wrong.
//! Memory bounds are asserted on the child's own peak RSS; nothing is timed.

use std::io::Write;
use std::path::PathBuf;

#[path = "support/peak.rs"]
mod peak;

const MIB: u64 = 1 << 20;

/// What any process of moai holds before it parses anything (binary,
/// libraries, allocator), generously rounded up for a debug build.
const BASE: u64 = 16 * MIB;

/// The guard's estimate of a parse, per token (see `src/scenario/shape.rs`):
/// whitespace, comments and line ends; keys given a value; tables and
/// arrays opened; the rest.
const PER_TRIVIA: u64 = 56;
const PER_KEY: u64 = 400;
const PER_CONTAINER: u64 = 768;
const PER_TOKEN: u64 = 200;

/// Writes a scenario into the test's scratch folder and returns its path.
fn scenario_file(name: &str, text: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Streams a scenario into the test's scratch folder with `write`, and
/// returns its path and size. Large files are never held in the test's own
/// memory: a child's peak RSS starts from its parent's at the spawn.
fn streamed_file(name: &str, write: impl FnOnce(&mut dyn Write)) -> (PathBuf, u64) {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    write(&mut file);
    file.flush().unwrap();
    drop(file);
    let size = std::fs::metadata(&path).unwrap().len();
    (path, size)
}

/// Asserts a refusal: exit code 2, nothing on stdout, one line on stderr
/// starting with `moai: `; returns the line without its prefix.
fn refused(out: &peak::Measured) -> &str {
    assert_eq!(out.code, Some(2), "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    let dir = concat!(env!("CARGO_TARGET_TMPDIR"), "/");
    out.stderr
        .trim_end()
        .strip_prefix("moai: ")
        .map(|m| m.strip_prefix(dir).unwrap_or(m))
        .unwrap_or_else(|| panic!("{}", out.stderr))
}

/// Runs `moai run FILE` with `env`, measured.
fn run(path: &std::path::Path, env: &[(&str, &str)]) -> peak::Measured {
    peak::run_measured(&["run", path.to_str().unwrap()], env)
}

/// Writes a gossip scenario whose `[proposal]` holds one array of `n`
/// integers `1234567` (8 bytes each with the comma); returns its path, its
/// size and the guard's estimate of parsing it beyond the file's bytes.
fn integer_array(name: &str, n: usize) -> (PathBuf, u64, u64) {
    let (path, size) = streamed_file(name, |w| {
        w.write_all(
            b"algorithm = \"gossip\"\n[[agents]]\nid = \"a\"\nvote = \"for\"\n[proposal]\nx = [",
        )
        .unwrap();
        for _ in 1..n {
            w.write_all(b"1234567,").unwrap();
        }
        w.write_all(b"1234567]\n").unwrap();
    });
    // Each element is a number and a comma; the header lines add 40 tokens
    // at most, counted here at the highest rate.
    let estimate = 2 * n as u64 * PER_TOKEN + 40 * PER_CONTAINER;
    (path, size, estimate)
}

/// Writes a gossip scenario of `n` `[[agents]]` tables; returns its path,
/// its size and the guard's estimate.
fn agent_tables(name: &str, n: usize) -> (PathBuf, u64, u64) {
    let (path, size) = streamed_file(name, |w| {
        w.write_all(b"algorithm = \"gossip\"\n").unwrap();
        for i in 0..n {
            write!(w, "[[agents]]\nid = \"agent-{i}\"\nvote = \"for\"\n").unwrap();
        }
    });
    // Per agent: one header table, its `[`, key and two `]`, two lines of
    // key, `=` and value, four spaces and three line ends.
    let per_agent = PER_CONTAINER + 4 * PER_TOKEN + 2 * PER_KEY + 4 * PER_TOKEN + 7 * PER_TRIVIA;
    (path, size, n as u64 * per_agent + 10 * PER_CONTAINER)
}

#[test]
fn an_integer_array_in_the_proposal_costs_at_most_the_guards_estimate() {
    // 8 MiB of integers: the 64 MiB file at an eighth of the size.
    let (path, size, estimate) = integer_array("integer-array.toml", 1 << 20);
    let out = run(&path, &[]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let bound = BASE + size + estimate;
    assert!(
        out.peak_bytes <= bound,
        "peak {} MiB, bound {} MiB",
        out.peak_bytes / MIB,
        bound / MIB
    );
}

#[test]
fn an_integer_array_past_the_guard_is_refused_before_it_is_parsed() {
    let (path, _, _) = integer_array("integer-array-guarded.toml", 1 << 20);
    let out = run(&path, &[("MOAI_MAX_MEMORY", "64M")]);
    let message = refused(&out);
    assert!(
        message.starts_with(
            "integer-array-guarded.toml: parsing the file: parsing this file needs about "
        ),
        "{message}"
    );
    assert!(
        message.contains("more than 64.0 MiB (MOAI_MAX_MEMORY)"),
        "{message}"
    );
    // Nothing was built: the process held the text and little more.
    assert!(
        out.peak_bytes < 64 * MIB,
        "peak {} MiB",
        out.peak_bytes / MIB
    );
}

#[test]
fn a_long_list_of_agents_costs_at_most_the_guards_estimate() {
    // About 8 MiB of [[agents]]: the 53 MB file of 1.5 M agents at
    // a sixth of the size.
    let (path, size, estimate) = agent_tables("agent-tables.toml", 230_000);
    let out = peak::run_measured(&["validate", path.to_str().unwrap()], &[]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let bound = BASE + size + estimate;
    assert!(
        out.peak_bytes <= bound,
        "peak {} MiB, bound {} MiB",
        out.peak_bytes / MIB,
        bound / MIB
    );
}

#[test]
fn a_long_list_of_agents_past_the_guard_is_refused_before_it_is_parsed() {
    let (path, _, _) = agent_tables("agent-tables-guarded.toml", 230_000);
    let out = run(&path, &[("MOAI_MAX_MEMORY", "64M")]);
    let message = refused(&out);
    assert!(
        message.starts_with(
            "agent-tables-guarded.toml: parsing the file: parsing this file needs about "
        ),
        "{message}"
    );
    assert!(
        out.peak_bytes < 64 * MIB,
        "peak {} MiB",
        out.peak_bytes / MIB
    );
}

#[test]
fn ten_million_empty_proposals_are_refused_before_anything_is_built() {
    // The 30 MB file: 10 M proposals of one agent, within the limit
    // of 10 M agent votes, used to abort at 7.8 GB.
    let (path, size) = streamed_file("ten-million-proposals.toml", |w| {
        w.write_all(b"algorithm = \"byzantine\"\nproposals = [{}")
            .unwrap();
        for _ in 1..10_000_000 {
            w.write_all(b",{}").unwrap();
        }
        w.write_all(b"]\n[[agents]]\nid = \"a\"\nvote = \"for\"\n")
            .unwrap();
    });
    let out = run(&path, &[]);
    assert_eq!(
        refused(&out),
        "ten-million-proposals.toml:2:300014: key 'proposals': the file has 10000000 \
         proposals, more than the limit of 100000"
    );
    assert!(
        out.peak_bytes < BASE + 2 * size,
        "peak {} MiB",
        out.peak_bytes / MIB
    );
}

#[test]
fn proposals_in_headers_are_counted_too() {
    let text = format!(
        "algorithm = \"byzantine\"\n[[agents]]\nid = \"a\"\nvote = \"for\"\n{}",
        "[[proposals]]\n".repeat(100_001)
    );
    let path = scenario_file("proposal-headers.toml", &text);
    let out = run(&path, &[]);
    assert_eq!(
        refused(&out),
        "proposal-headers.toml:100005:1: key 'proposals': the file has 100001 proposals, \
         more than the limit of 100000"
    );
}

/// A resolve scenario of `n` states `k0`, `k1`, ... with value `i`, and an
/// `[expect.values]` entry for each: `k{wrong}` expects the wrong value.
fn expected_values(n: usize, wrong: usize) -> String {
    let mut text = String::from("algorithm = \"resolve\"\nstrategy = \"lww\"\n");
    for i in 0..n {
        text.push_str(&format!(
            "[[states]]\nkey = \"k{i}\"\nversions = [{{agent = \"a\", value = {i}}}]\n"
        ));
    }
    text.push_str("[expect.values]\n");
    for i in 0..n {
        let value = if i == wrong { i + 1 } else { i };
        text.push_str(&format!("k{i} = {value}\n"));
    }
    text
}

#[test]
fn many_expected_values_are_checked_each_against_its_key() {
    // 40,000 entries took 6.1 s in a release build when each key was looked
    // up by a scan of every resolution; it is one lookup per key now.
    let n = 40_000;
    let path = scenario_file("expect-values.toml", &expected_values(n, 39_999));
    let out = peak::run_measured(&["check", path.to_str().unwrap(), "--format", "json"], &[]);
    assert_eq!(out.code, Some(1), "stderr: {}", out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mismatches = &report["results"][0]["mismatches"];
    assert_eq!(
        mismatches,
        &serde_json::json!([{"key": "values.k39999", "expected": "40000", "actual": "39999"}])
    );
}

/// A resolve scenario with one state `k` of the given versions.
fn one_state(strategy: &str, versions: &str) -> String {
    format!(
        "algorithm = \"resolve\"\nstrategy = \"{strategy}\"\n[[states]]\nkey = \"k\"\n\
         versions = [{versions}]\n"
    )
}

/// The first resolution of `moai run FILE --format json`.
fn resolution(name: &str, text: &str) -> serde_json::Value {
    let path = scenario_file(name, text);
    let out = peak::run_measured(&["run", path.to_str().unwrap(), "--format", "json"], &[]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    report["resolutions"][0].clone()
}

const DELIVERED_TWICE: &str = "{agent = \"a\", version = 2, value = \"x\", vector_clock = {a = 2}}, \
     {agent = \"b\", version = 3, value = \"y\", vector_clock = {b = 3}}, \
     {agent = \"a\", version = 2, value = \"x\", vector_clock = {a = 2}}";

#[test]
fn the_same_version_delivered_twice_is_not_a_concurrent_sibling_under_vector() {
    let r = resolution("twice-vector.toml", &one_state("vector", DELIVERED_TWICE));
    assert_eq!(r["value"], "y");
    assert_eq!(
        r["metadata"]["resolution_strategy"],
        "vector_concurrent_lww"
    );
    assert_eq!(r["metadata"]["siblings"], serde_json::json!(["b", "a"]));
    assert_eq!(r["versions"].as_array().unwrap().len(), 2);
    // Without clocks too: a's version 1, twice, is one maximal version.
    let r = resolution(
        "twice-vector-plain.toml",
        &one_state(
            "vector",
            "{agent = \"a\", version = 1, value = 1}, {agent = \"a\", version = 1, value = 1}",
        ),
    );
    assert_eq!(r["metadata"]["resolution_strategy"], "vector_causal");
}

#[test]
fn the_same_version_delivered_twice_is_not_discarded_under_lww() {
    let r = resolution("twice-lww.toml", &one_state("lww", DELIVERED_TWICE));
    assert_eq!(r["value"], "y");
    assert_eq!(r["metadata"]["discarded_versions"], 1);
    let r = resolution(
        "twice-lww-alone.toml",
        &one_state(
            "lww",
            "{agent = \"a\", version = 1, value = 1}, {agent = \"a\", version = 1, value = 1}",
        ),
    );
    assert_eq!(r["metadata"]["discarded_versions"], 0);
}

#[test]
fn one_agent_and_version_with_two_clocks_is_refused() {
    let path = scenario_file(
        "twice-clocks.toml",
        &one_state(
            "vector",
            "{agent = \"a\", version = 1, value = 1, vector_clock = {a = 1}},\n\
             {agent = \"a\", version = 1, value = 1, vector_clock = {a = 1, b = 1}}",
        ),
    );
    assert_eq!(
        refused(&run(&path, &[])),
        "twice-clocks.toml:6:1: key 'states[0].versions[1]': state 'k': agent 'a' version 1 \
         appears twice with different vector clocks (versions[0] and versions[1]); agent and \
         version identify a version"
    );
}

/// `moai run` on `text` refused; the message.
fn refusal(name: &str, text: &str) -> String {
    let path = scenario_file(name, text);
    refused(&run(&path, &[])).to_string()
}

#[test]
fn a_nan_counter_says_nan() {
    let text = "algorithm = \"resolve\"\nstrategy = \"crdt\"\n[[states]]\nkey = \"k\"\n\
                crdt_type = \"counter\"\nversions = [{agent = \"a\", value = nan}]\n";
    assert_eq!(
        refusal("nan-counter.toml", text),
        "nan-counter.toml:6:35: key 'states[0].versions[0].value': nan is not a value moai \
         can resolve: results are JSON, which has no nan or inf"
    );
}

#[test]
fn a_set_given_a_number_says_so_without_a_counter_hint() {
    let text = "algorithm = \"resolve\"\nstrategy = \"crdt\"\n[[states]]\nkey = \"k\"\n\
                crdt_type = \"set\"\nversions = [{agent = \"a\", value = -5}]\n";
    assert_eq!(
        refusal("set-number.toml", text),
        "set-number.toml:6:35: key 'states[0].versions[0].value': state 'k': a set takes \
         arrays, got -5; for single values use crdt_type = \"register\""
    );
}

#[test]
fn a_timestamp_past_the_supported_range_is_out_of_range() {
    for (name, timestamp) in [
        ("late-string.toml", "\"9999-12-31T23:59:59Z\""),
        ("late-datetime.toml", "9999-12-31T23:59:59Z"),
    ] {
        let text = one_state(
            "lww",
            &format!("{{agent = \"a\", value = 1, timestamp = {timestamp}}}"),
        );
        let message = refusal(name, &text);
        assert!(
            message.ends_with(
                "state 'k': timestamp '9999-12-31T23:59:59Z' is out of range: moai takes \
                 timestamps from -009999-01-02T01:59:59Z to 9999-12-30T22:00:00.999999999Z"
            ),
            "{message}"
        );
    }
    // What is not RFC 3339 still says so.
    let text = one_state("lww", "{agent = \"a\", value = 1, timestamp = \"noon\"}");
    assert!(refusal("noon.toml", &text).contains("'noon' is not RFC 3339"));
}

#[test]
fn a_duplicate_key_is_named() {
    let text =
        "algorithm = \"gossip\"\n[[agents]]\nid = \"a\"\nvote = \"for\"\nvote = \"against\"\n";
    assert_eq!(
        refusal("duplicate-key.toml", text),
        "duplicate-key.toml:5:1: duplicate key 'vote'"
    );
    let text = "algorithm = \"gossip\"\n[gossip]\nfanout = 1\n[gossip]\n";
    assert_eq!(
        refusal("duplicate-table.toml", text),
        "duplicate-table.toml:4:2: duplicate key 'gossip'"
    );
}

/// The nesting limit the README's table of limits states.
fn readme_nesting_limit() -> String {
    let readme = include_str!("../README.md");
    let row = readme
        .lines()
        .find(|l| l.starts_with("| nesting of tables and arrays"))
        .expect("the README states the nesting limit");
    let cell = row.trim_end_matches('|').rsplit('|').next().unwrap().trim();
    cell.strip_suffix(" levels").expect(cell).to_string()
}

#[test]
fn ten_thousand_brackets_are_refused_at_the_readmes_nesting_limit() {
    let limit = readme_nesting_limit();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let in_proposal = format!(
        "algorithm = \"gossip\"\n[[agents]]\nid = \"a\"\nvote = \"for\"\n[proposal]\nx = {deep}\n"
    );
    let in_state = one_state("lww", &format!("{{agent = \"a\", value = {deep}}}"));
    for (name, text, at) in [
        (
            "deep-proposal.toml",
            in_proposal,
            "deep-proposal.toml:6:85: ",
        ),
        ("deep-state.toml", in_state, "deep-state.toml:5:113: "),
    ] {
        assert_eq!(
            refusal(name, &text),
            format!("{at}tables and arrays nest more than {limit} levels deep")
        );
    }
}

#[test]
fn a_directory_search_does_not_parse_a_file_past_the_guard() {
    // `moai check DIR` tells scenarios from other TOML files; it used to
    // parse each file whole for that, before any estimate.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("guarded-dir");
    std::fs::create_dir_all(&dir).unwrap();
    let (path, _, _) = integer_array("guarded-dir/no-algorithm.toml", 1 << 20);
    // The same file without its first line names no algorithm.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.split_once('\n').unwrap().1).unwrap();
    drop(text);
    let out = peak::run_measured(
        &["check", dir.to_str().unwrap(), "--format", "json"],
        &[("MOAI_MAX_MEMORY", "64M")],
    );
    assert_eq!(out.code, Some(2), "stderr: {}", out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let error = report["results"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("parsing the file: parsing this file needs about"),
        "{error}"
    );
    assert!(
        out.peak_bytes < 64 * MIB,
        "peak {} MiB",
        out.peak_bytes / MIB
    );
}

#[test]
fn a_run_that_warns_does_not_parse_the_file_again() {
    // A gossip run on the complete topology looks up `gossip.degree` and
    // `gossip.rewire` to decide its warnings; it read them from a second
    // parse of the whole file, held beside the scenario (270 MB against
    // validate's 200 MB for this file in a release build).
    let (path, _, _) = integer_array("integer-array-run.toml", 1 << 20);
    let validated = peak::run_measured(&["validate", path.to_str().unwrap()], &[]);
    assert_eq!(validated.code, Some(0), "stderr: {}", validated.stderr);
    let ran = run(&path, &[]);
    assert_eq!(ran.code, Some(0), "stderr: {}", ran.stderr);
    assert!(
        ran.peak_bytes <= validated.peak_bytes + validated.peak_bytes / 10 + 4 * MIB,
        "run {} MiB, validate {} MiB",
        ran.peak_bytes / MIB,
        validated.peak_bytes / MIB
    );
}

#[test]
fn a_large_expected_set_is_compared_as_a_set() {
    // Arrays compare as sets: each side is sorted once rather than searched
    // for each element of the other (80,000 elements: 6.4 × 10^9 comparisons).
    let n = 80_000;
    let forward: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let mut backward = forward.clone();
    backward.reverse();
    backward.push("0".to_string());
    let text = format!(
        "{}[expect.values]\nk = [{}]\n",
        one_state(
            "lww",
            &format!("{{agent = \"a\", value = [{}]}}", forward.join(","))
        ),
        backward.join(",")
    );
    let path = scenario_file("large-set.toml", &text);
    let out = peak::run_measured(&["check", path.to_str().unwrap()], &[]);
    assert_eq!(
        out.code,
        Some(0),
        "stdout: {}\nstderr: {}",
        out.stdout,
        out.stderr
    );
    // One element less is a mismatch.
    backward.retain(|v| v != "7");
    let text = format!(
        "{}[expect.values]\nk = [{}]\n",
        one_state(
            "lww",
            &format!("{{agent = \"a\", value = [{}]}}", forward.join(","))
        ),
        backward.join(",")
    );
    let path = scenario_file("large-set-missing.toml", &text);
    let out = peak::run_measured(&["check", path.to_str().unwrap()], &[]);
    assert_eq!(out.code, Some(1), "stderr: {}", out.stderr);
}

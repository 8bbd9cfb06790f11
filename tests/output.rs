//! Output a terminal or a CI system can trust: text from a scenario cannot
//! drive the terminal or forge a line in any format, JUnit XML parses
//! whatever the scenarios hold, and a full, closed or broken stdout or stderr
//! never turns moai's own exit code (0, 1 or 2) into a panic's 101.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const MOAI: &str = env!("CARGO_BIN_EXE_moai");

/// An id that retitles the terminal (OSC 0 ... BEL), then forges a line, a
/// carriage return, a C1 CSI clearing the screen and a DEL, as TOML writes it.
const EVIL_TOML: &str = r"x\u001b]0;pwned\u0007\r\n\u009b2J\u007fy";
/// The same id as it is: what JSON must give back.
const EVIL: &str = "x\u{1b}]0;pwned\u{7}\r\n\u{9b}2J\u{7f}y";
/// The same id as tables and errors show it: one line, every control
/// character escaped.
const SHOWN: &str = r"x\u{1b}]0;pwned\u{7}\r\n\u{9b}2J\u{7f}y";

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn finish(output: std::process::Output) -> Out {
    Out {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn moai(args: &[&str]) -> Out {
    finish(Command::new(MOAI).args(args).output().unwrap())
}

/// moai with its stdout and stderr as given (stderr captured when `None`).
fn moai_with(args: &[&str], stdout: Stdio, stderr: Option<Stdio>) -> Out {
    let mut cmd = Command::new(MOAI);
    cmd.args(args).stdout(stdout);
    cmd.stderr(stderr.unwrap_or_else(Stdio::piped));
    finish(cmd.spawn().unwrap().wait_with_output().unwrap())
}

/// moai through `sh -c 'exec moai ARGS REDIRECT'`, so that a stream can be
/// closed (`>&-`, `2>&-`) before moai starts.
fn moai_sh(args: &[&str], redirect: &str) -> Out {
    let script = format!("exec \"$0\" \"$@\" {redirect}");
    finish(
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(MOAI)
            .args(args)
            .output()
            .unwrap(),
    )
}

fn dev_full() -> Stdio {
    Stdio::from(OpenOptions::new().write(true).open("/dev/full").unwrap())
}

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("moai-output-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// No character of `text` but the newline is a control character: nothing
/// in it moves the cursor, retitles the terminal or starts an escape.
fn assert_inert(text: &str) {
    let found: Vec<char> = text
        .chars()
        .filter(|&c| c.is_control() && c != '\n')
        .collect();
    assert!(found.is_empty(), "control characters {found:?} in:\n{text}");
}

/// Every line showing the id shows all of it: the newline inside it forged
/// no line of its own.
fn assert_no_forged_line(text: &str) {
    for line in text.lines() {
        if line.contains("pwned") || line.contains("2J") {
            assert!(line.contains(SHOWN), "line cut in two: {line:?}\n{text}");
        }
    }
}

/// A consensus run's output is inert, forges no line, and its header shows
/// the hostile name and description escaped, then `overrides`.
fn assert_escaped_header(stdout: &str, overrides: &str) {
    assert_inert(stdout);
    assert_no_forged_line(stdout);
    assert_eq!(
        line_starting(stdout, "Scenario: "),
        format!("Scenario: {SHOWN} (seed 42)")
    );
    assert_eq!(
        line_starting(stdout, "Description: "),
        format!("Description: {SHOWN}")
    );
    assert_eq!(line_starting(stdout, "Overrides: "), overrides);
}

fn line_starting<'a>(text: &'a str, start: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting {start:?} in:\n{text}"))
}

/// A Byzantine scenario whose name, description, proposal key and value and
/// one faulty agent's id all hold the hostile id.
fn byzantine_scenario() -> String {
    format!(
        "algorithm = \"byzantine\"\nname = \"{EVIL_TOML}\"\ndescription = \"{EVIL_TOML}\"\n\
         [proposal]\n\"{EVIL_TOML}\" = \"{EVIL_TOML}\"\n\
         [[groups]]\ncount = 3\nvote = \"for\"\n\
         [[agents]]\nid = \"{EVIL_TOML}\"\nvote = \"against\"\nbehavior = \"flip\"\n"
    )
}

#[test]
fn byzantine_tables_escape_names_descriptions_proposals_and_ids() {
    let d = dir("byzantine");
    let file = write(&d, "evil.toml", &byzantine_scenario());
    let out = moai(&["byzantine", &file, "--fault-tolerance", "1"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_escaped_header(&out.stdout, "Overrides: fault_tolerance = 1");
    // Keys bare, values as JSON (whose own escapes keep them one line).
    assert_eq!(
        line_starting(&out.stdout, "Proposal: "),
        format!(r#"Proposal: {SHOWN} = "x\u001b]0;pwned\u0007\r\n\u{{9b}}2J\u{{7f}}y""#)
    );
    // The flipping agent is caught: its id is in a table cell and a list.
    let malicious = line_starting(&out.stdout, "│ Malicious agents");
    assert!(malicious.contains(SHOWN), "{malicious}");
    assert!(line_starting(&out.stdout, "Blacklist: ").contains(SHOWN));
}

#[test]
fn proposal_sequence_titles_and_lists_escape_keys_values_and_ids() {
    let d = dir("sequence");
    let text = format!(
        "algorithm = \"byzantine\"\nname = \"{EVIL_TOML}\"\n[byzantine]\nfault_tolerance = 1\n\
         [[proposals]]\n\"{EVIL_TOML}\" = \"{EVIL_TOML}\"\n[[proposals]]\nid = 2\n\
         [[groups]]\ncount = 3\nvote = \"for\"\n\
         [[agents]]\nid = \"{EVIL_TOML}\"\nvote = \"against\"\nbehavior = \"flip\"\n"
    );
    let file = write(&d, "evil.toml", &text);
    let out = moai(&["run", &file]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_inert(&out.stdout);
    assert_no_forged_line(&out.stdout);
    assert_eq!(
        line_starting(&out.stdout, "=== Proposal 1: "),
        format!(r#"=== Proposal 1: {SHOWN} = "x\u001b]0;pwned\u0007\r\n\u{{9b}}2J\u{{7f}}y" ==="#)
    );
    assert_eq!(
        line_starting(&out.stdout, "Blacklist: "),
        format!("Blacklist: {SHOWN}")
    );
}

#[test]
fn json_gives_the_id_back_whole_with_every_control_character_escaped() {
    let d = dir("json");
    let file = write(&d, "evil.toml", &byzantine_scenario());
    let out = moai(&["run", &file, "--format", "json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // serde_json escapes C0; DEL and C1 are escaped too.
    assert_inert(&out.stdout);
    assert!(
        out.stdout
            .contains(r"\u001b]0;pwned\u0007\r\n\u009b2J\u007fy")
    );
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["scenario"], EVIL);
    assert_eq!(v["description"], EVIL);
    assert_eq!(v["proposal"][EVIL], EVIL);
    assert_eq!(v["metadata"]["malicious_agents"][0], EVIL);
}

#[test]
fn csv_comment_and_rows_stay_one_line_each() {
    let d = dir("csv");
    let file = write(&d, "evil.toml", &byzantine_scenario());
    let out = moai(&["run", &file, "--format", "csv"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_inert(&out.stdout);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("# moai "), "{}", lines[0]);
    assert!(
        lines[0].contains(&format!(", scenario {SHOWN}, seed 42")),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        "trial,round,votes_for,votes_against,abstain,silent,equivocations"
    );
    // One comment, one header, then only rows of numbers.
    for row in &lines[2..] {
        assert!(
            row.split(',').all(|f| f.parse::<u64>().is_ok()),
            "not a row of numbers: {row:?}"
        );
    }
}

#[test]
fn gossip_header_lines_escape_name_description_and_proposal() {
    let d = dir("gossip");
    let text = format!(
        "algorithm = \"gossip\"\nname = \"{EVIL_TOML}\"\ndescription = \"{EVIL_TOML}\"\n\
         [proposal]\n\"{EVIL_TOML}\" = 1\n\
         [[groups]]\ncount = 3\nvote = \"approve\"\n\
         [[agents]]\nid = \"{EVIL_TOML}\"\nvote = \"approve\"\n"
    );
    let file = write(&d, "evil.toml", &text);
    let out = moai(&["gossip", &file, "--fanout", "2"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_escaped_header(&out.stdout, "Overrides: fanout = 2");
    assert_eq!(
        line_starting(&out.stdout, "Proposal: "),
        format!("Proposal: {SHOWN} = 1")
    );
    // Trials and sweeps have the same header lines.
    let trials = moai(&["gossip", &file, "--trials", "3"]);
    assert_eq!(trials.code, Some(0), "{}", trials.stderr);
    assert_inert(&trials.stdout);
    assert!(line_starting(&trials.stdout, "Scenario: ").contains(SHOWN));
    let sweep = moai(&["gossip", &file, "--trials", "2", "--sweep", "fanout=1,2"]);
    assert_eq!(sweep.code, Some(0), "{}", sweep.stderr);
    assert_inert(&sweep.stdout);
    assert!(line_starting(&sweep.stdout, "Scenario: ").contains(SHOWN));
}

#[test]
fn resolve_tables_escape_keys_agents_and_values() {
    let d = dir("resolve");
    let text = format!(
        "algorithm = \"resolve\"\nname = \"{EVIL_TOML}\"\ndescription = \"{EVIL_TOML}\"\n\
         [[states]]\nkey = \"{EVIL_TOML}\"\nversions = [\n\
         {{ agent = \"{EVIL_TOML}\", value = \"{EVIL_TOML}\", version = 1 }},\n\
         {{ agent = \"b\", value = {{ \"{EVIL_TOML}\" = \"{EVIL_TOML}\" }}, version = 2 }},\n]\n\
         [[states]]\nkey = \"map\"\ncrdt_type = \"map\"\nversions = [\n\
         {{ agent = \"{EVIL_TOML}\", value = {{ \"{EVIL_TOML}\" = \"{EVIL_TOML}\" }}, version = 1 }},\n]\n"
    );
    let file = write(&d, "evil.toml", &text);
    for strategy in ["lww", "hybrid"] {
        let out = moai(&["resolve", &file, "--strategy", strategy]);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        assert_inert(&out.stdout);
        assert_eq!(
            line_starting(&out.stdout, "Scenario: "),
            format!("Scenario: {SHOWN}")
        );
        assert_eq!(
            line_starting(&out.stdout, "Description: "),
            format!("Description: {SHOWN}")
        );
        // The key's own title line, the versions table and the summary.
        assert!(
            out.stdout.contains(&format!("\n\n{SHOWN}\n")),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout
                .lines()
                .any(|l| l.starts_with(&format!("│ {SHOWN} ┆ {SHOWN} "))),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout
                .lines()
                .any(|l| l.starts_with(&format!("│ {SHOWN} ┆ lww "))),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout.lines().any(|l| l.starts_with("  Resolved: ")
                && l.ends_with(&format!("(agent {SHOWN}, version 1)"))),
            "{}",
            out.stdout
        );
    }
    // A map merged by key names each key on its own line: the key escaped.
    let crdt = moai(&["resolve", &file, "--strategy", "crdt"]);
    assert_eq!(crdt.code, Some(0), "{}", crdt.stderr);
    assert_inert(&crdt.stdout);
    assert!(
        crdt.stdout
            .lines()
            .any(|l| l.starts_with(&format!("    {SHOWN}: {SHOWN} ("))),
        "{}",
        crdt.stdout
    );
}

#[test]
fn check_table_and_run_stderr_cannot_forge_a_line() {
    let d = dir("check");
    let evil_expect = format!(
        "{}[expect]\nmalicious_agents = [\"{EVIL_TOML}\", \"z\"]\n",
        byzantine_scenario()
    );
    // A file name with the same characters, which Linux allows.
    let file = write(
        &d,
        "x\u{1b}]0;pwned\u{7}\r\n\u{9b}2J\u{7f}y.toml",
        &evil_expect,
    );
    let out = moai(&["check", &file]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_inert(&out.stdout);
    assert_no_forged_line(&out.stdout);
    let row = out
        .stdout
        .lines()
        .find(|l| l.contains("FAIL"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(
        row.starts_with(&format!("│ {SHOWN} ┆ byzantine ┆ ")),
        "{row}"
    );
    assert!(row.contains(&format!("{SHOWN}.toml ┆ FAIL")), "{row}");
    assert!(
        row.contains(&format!(
            "malicious_agents: expected [{SHOWN}, z], got [{SHOWN}]"
        )),
        "{row}"
    );
    // The closing line is the table's own, not one a name forged.
    assert_eq!(out.stdout.lines().last(), Some("0 passed, 1 failed"));

    // `moai run` says the same mismatch on stderr, as one line.
    let run = moai(&["run", &file]);
    assert_eq!(run.code, Some(1));
    assert_inert(&run.stderr);
    assert_eq!(
        run.stderr,
        format!(
            "moai: expectation failed: malicious_agents: expected [{SHOWN}, z], got [{SHOWN}]\n"
        )
    );
}

/// Characters XML 1.0 forbids, with the hostile id: names, files and
/// messages of every kind of testcase.
#[test]
fn junit_is_well_formed_xml_whatever_the_scenarios_hold() {
    let d = dir("junit");
    let scenarios = d.join("scenarios");
    std::fs::create_dir_all(&scenarios).unwrap();
    let forbidden = r"\u0001\u001b\u000b\u000c\uFFFE\uFFFF";
    let name = format!("{EVIL_TOML}{forbidden}");
    write(
        &scenarios,
        "pass\u{1}\u{fffe}.toml",
        &format!(
            "algorithm = \"byzantine\"\nname = \"{name}\"\n[[groups]]\ncount = 4\nvote = \"for\"\n"
        ),
    );
    write(
        &scenarios,
        "fail\u{ffff}\u{1b}.toml",
        &format!(
            "{}[expect]\nmalicious_agents = [\"{name}\"]\n",
            byzantine_scenario()
        ),
    );
    write(
        &scenarios,
        "broken\u{2}.toml",
        &format!("algorithm = \"byzantine\"\nname = \"{name}\"\nbogus = 1\n"),
    );
    write(
        &scenarios,
        "notes\u{3}.toml",
        &format!("title = \"{name}\"\n"),
    );
    let xml_path = d.join("junit.xml");
    let out = moai(&[
        "check",
        scenarios.to_str().unwrap(),
        "--junit",
        xml_path.to_str().unwrap(),
    ]);
    // One file is broken: exit 2, and the report is still written.
    assert_eq!(out.code, Some(2), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .ends_with("1 passed, 1 failed, 1 error, 1 skipped\n")
    );
    let xml = std::fs::read_to_string(&xml_path).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}:\n{xml}"));
    // Nothing in the file is a control character but line breaks.
    assert_inert(&xml);
    let case = |file: &str| {
        doc.descendants()
            .find(|n| {
                n.has_tag_name("testcase")
                    && n.attribute("classname").is_some_and(|c| c.ends_with(file))
            })
            .unwrap_or_else(|| panic!("no testcase of {file}:\n{xml}"))
    };
    let shown_name = format!(r"{SHOWN}\u{{1}}\u{{1b}}\u{{b}}\u{{c}}\u{{fffe}}\u{{ffff}}");
    let passed = case(r"pass\u{1}\u{fffe}.toml");
    assert_eq!(passed.attribute("name"), Some(shown_name.as_str()));
    assert!(passed.children().all(|n| !n.is_element()), "{xml}");
    let failed = case(r"fail\u{ffff}\u{1b}.toml");
    assert_eq!(failed.attribute("name"), Some(SHOWN));
    let failure = failed
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(
        failure.attribute("message"),
        Some(format!("malicious_agents: expected [{shown_name}], got [{SHOWN}]").as_str())
    );
    let broken = case(r"broken\u{2}.toml");
    let error = broken.children().find(|n| n.has_tag_name("error")).unwrap();
    assert!(
        error
            .attribute("message")
            .unwrap()
            .contains(r"broken\u{2}.toml:3:1: key 'bogus': unknown field"),
        "{xml}"
    );
    let skipped = case(r"notes\u{3}.toml");
    assert!(
        skipped.children().any(|n| n.has_tag_name("skipped")),
        "{xml}"
    );
}

// ---- streams: full, closed, broken ----

#[test]
fn full_or_closed_stderr_keeps_moai_exit_codes() {
    // A bad flag value: exit 2, its message lost to the full stderr.
    let out = moai_with(
        &["gossip", "--agents", "0"],
        Stdio::null(),
        Some(dev_full()),
    );
    assert_eq!(out.code, Some(2));
    let out = moai_sh(&["gossip", "--agents", "0"], "2>&-");
    assert_eq!(out.code, Some(2));
    // clap's own errors.
    let out = moai_with(&["--bogus"], Stdio::null(), Some(dev_full()));
    assert_eq!(out.code, Some(2));
    let out = moai_sh(&["--bogus"], "2>&-");
    assert_eq!(out.code, Some(2));
    // A failed expectation: exit 1, and a success stays 0.
    let expect = ["byzantine", "--expect-decision", "rejected"];
    let out = moai_with(&expect, Stdio::null(), Some(dev_full()));
    assert_eq!(out.code, Some(1));
    let out = moai_sh(&expect, ">/dev/null 2>&-");
    assert_eq!(out.code, Some(1));
    let infra = ["check", "scenarios/infra.toml"];
    let out = moai_with(&infra, Stdio::null(), Some(dev_full()));
    assert_eq!(out.code, Some(0));
    // The report goes to stderr when `--history -` takes stdout.
    let history = ["byzantine", "--history", "-"];
    let out = moai_with(&history, Stdio::null(), Some(dev_full()));
    assert_eq!(out.code, Some(0));
    let out = moai_sh(&history, ">/dev/null 2>&-");
    assert_eq!(out.code, Some(0));
}

const CANNOT_WRITE_FULL: &str =
    "moai: cannot write output: No space left on device (os error 28)\n";
const CANNOT_WRITE_CLOSED: &str = "moai: cannot write output: standard output is closed\n";

#[test]
fn help_and_version_to_a_full_or_closed_stdout_fail_with_a_message() {
    for args in [
        &["--help"][..],
        &["--version"],
        &["help", "gossip"],
        &["gossip", "-h"],
    ] {
        let out = moai_with(args, dev_full(), None);
        assert_eq!(out.code, Some(2), "{args:?}");
        assert_eq!(out.stderr, CANNOT_WRITE_FULL, "{args:?}");
        let out = moai_sh(args, ">&-");
        assert_eq!(out.code, Some(2), "{args:?}");
        assert_eq!(out.stderr, CANNOT_WRITE_CLOSED, "{args:?}");
    }
    // Help still goes to stdout, whole, with success.
    let out = moai(&["--help"]);
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.contains("Usage: moai [OPTIONS] <COMMAND>"));
    assert_eq!(out.stderr, "");
}

#[test]
fn results_to_a_full_or_closed_stdout_fail_with_one_line() {
    for args in [
        &["gossip"][..],
        &["byzantine", "--format", "json"],
        &["resolve"],
        &["scenarios"],
        &["schema"],
        &["gossip", "--format", "csv"],
        &["byzantine", "--history", "-"],
        &["check", "scenarios/infra.toml", "--junit", "-"],
    ] {
        let out = moai_with(args, dev_full(), None);
        assert_eq!(out.code, Some(2), "{args:?}");
        // `--history -` and `--junit -` put the report on stderr first.
        assert!(
            out.stderr.ends_with(CANNOT_WRITE_FULL),
            "{args:?}: {}",
            out.stderr
        );
        let out = moai_sh(args, ">&-");
        assert_eq!(out.code, Some(2), "{args:?}");
        assert!(
            out.stderr.ends_with(CANNOT_WRITE_CLOSED),
            "{args:?}: {}",
            out.stderr
        );
    }
    // Discarding output on purpose is not an error.
    let out = moai_with(&["gossip"], Stdio::null(), None);
    assert_eq!(out.code, Some(0));
    assert_eq!(out.stderr, "");
}

#[test]
fn failed_expectation_to_a_full_stdout_says_one_line() {
    let out = moai_with(
        &["byzantine", "--expect-decision", "rejected"],
        dev_full(),
        None,
    );
    assert_eq!(out.code, Some(2));
    assert_eq!(out.stderr, CANNOT_WRITE_FULL);
}

#[test]
fn a_closed_pipe_is_a_quiet_success() {
    for args in [&["gossip"][..], &["--help"], &["schema"]] {
        // A pipe whose reading end is already closed: every write fails
        // with EPIPE, as when `| head -c 10` has read its fill.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = moai_with(args, Stdio::from(writer), None);
        assert_eq!(out.code, Some(0), "{args:?}");
        assert_eq!(out.stderr, "", "{args:?}");
    }
    let out = finish(
        Command::new("sh")
            .arg("-c")
            .arg("\"$0\" schema | head -c 10")
            .arg(MOAI)
            .output()
            .unwrap(),
    );
    assert_eq!(out.code, Some(0));
    assert_eq!(out.stdout.len(), 10);
    assert_eq!(out.stderr, "");
}

/// Comments and doc comments of `text` removed, line by line (a `//` inside
/// a string cuts the line short, which can only hide code, not invent it).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// `println!`, `eprintln!` and their kin panic when the stream fails; moai
/// writes with `writeln!` and decides what a failed write means.
#[test]
fn no_printing_macro_that_can_panic_in_src() {
    let mut files = Vec::new();
    rust_files(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut files,
    );
    assert!(files.len() > 10, "{files:?}");
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (i, line) in code_of(&text).lines().enumerate() {
            for banned in ["println!", "print!(", "eprint!(", "eprintln!", "dbg!("] {
                if line.contains(banned) {
                    found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "printing macros that panic on a failed write:\n{}",
        found.join("\n")
    );
    // The check itself sees a banned macro.
    assert!(code_of("    eprintln!(\"x\"); // a comment").contains("eprintln!"));
    assert!(!code_of("    /// eprintln!(\"x\")").contains("eprintln!"));
}

#[test]
fn dev_full_refuses_writes() {
    // The tests above rely on /dev/full refusing writes with ENOSPC.
    use std::io::Write;
    let mut full = File::options().write(true).open("/dev/full").unwrap();
    let err = full
        .write_all(b"x")
        .and_then(|()| full.flush())
        .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(28));
}

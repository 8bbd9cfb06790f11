//! The HTML report tests' shared helpers: running moai with `--report
//! FILE.html` and reading the page, its charts' labels and its causality
//! graphs, and the runs several of those files (and the browser) check.
//! Each test file uses a part of them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

/// A report's size bound, whatever the swarm, the trials or the values
/// (README, "Reports").
pub const MAX_REPORT_BYTES: usize = 1 << 20;

/// Two equivocators among seven agents that tolerate two faults.
pub const EQUIVOCATORS: &[&str] = &[
    "byzantine",
    "--agents",
    "7",
    "--faulty",
    "2",
    "--behavior",
    "equivocate",
    "--fault-tolerance",
    "2",
];

/// A gossip run long enough (5,000 rounds) to be drawn in bins of rounds.
pub const LONG_RUN: &[&str] = &[
    "gossip",
    "--agents",
    "20",
    "--rounds",
    "5000",
    "--no-early-stop",
];

/// A sweep of gossip trials over the fanout.
pub const GOSSIP_SWEEP: &[&str] = &[
    "gossip",
    "stubborn-lossy",
    "--trials",
    "200",
    "--sweep",
    "fanout=2..6",
];

/// A sweep of Byzantine trials and the exact law over the rounds.
pub const BYZANTINE_SWEEP: &[&str] = &[
    "byzantine",
    "random-voters",
    "--trials",
    "300",
    "--exact",
    "--sweep",
    "rounds=3..6",
];

/// The moai binary, ready for arguments; a hung run fails after ten minutes.
pub fn moai() -> Command {
    let mut cmd = Command::cargo_bin("moai").unwrap();
    cmd.timeout(Duration::from_secs(600));
    cmd
}

/// A new empty directory outside the repository, named after the test file
/// and `name`.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "moai-{}-{name}-{}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `path` as an argument.
pub fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// What a run with `--report` printed, and its page.
pub struct Reported {
    pub stdout: String,
    pub stderr: String,
    pub page: String,
}

/// Runs `moai ARGS` with and without `--report FILE.html`, checks that both
/// exit with `code` and print the same stdout and stderr, and that the page
/// is built, self-contained and under [`MAX_REPORT_BYTES`].
pub fn reported(name: &str, args: &[&str], code: i32) -> Reported {
    let dir = fresh_dir(name);
    let file = dir.join("report.html");
    let plain = moai().args(args).output().unwrap();
    let with = moai()
        .args(args)
        .args(["--report", s(&file)])
        .output()
        .unwrap();
    let stderr = String::from_utf8(with.stderr).unwrap();
    assert_eq!(plain.status.code(), Some(code), "{args:?}: {stderr}");
    assert_eq!(with.status.code(), Some(code), "{args:?}: {stderr}");
    assert_eq!(with.stdout, plain.stdout, "{args:?}");
    assert_eq!(stderr.as_bytes(), plain.stderr, "{args:?}");
    let page = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{args:?}: {e}: {stderr}"));
    let _ = std::fs::remove_dir_all(&dir);
    assert_self_contained(&page, args);
    assert!(!page.contains("not built yet"), "{args:?}");
    assert!(
        page.len() < MAX_REPORT_BYTES,
        "{args:?}: {} bytes",
        page.len()
    );
    Reported {
        stdout: String::from_utf8(with.stdout).unwrap(),
        stderr,
        page,
    }
}

/// The page of a run that exits 0 ([`reported`]).
pub fn report(name: &str, args: &[&str]) -> String {
    reported(name, args, 0).page
}

/// Runs `moai ARGS --report FILE.html` once (no run without it to compare
/// with), expects exit 0, and returns the page.
pub fn report_once(name: &str, args: &[&str]) -> String {
    let dir = fresh_dir(name);
    let file = dir.join("report.html");
    let out = moai()
        .args(args)
        .args(["--report", s(&file)])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&file).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    page
}

/// Asserts that `args` give the same page twice ([`report`]).
pub fn assert_same_report(args: &[&str]) {
    assert_eq!(report("same-a", args), report("same-b", args), "{args:?}");
}

/// Asserts that a report of `bytes` for `what` stays under
/// [`MAX_REPORT_BYTES`] and under twice `small`, the bytes of a small run's.
pub fn assert_as_small(what: &str, bytes: usize, small: usize) {
    assert!(bytes < MAX_REPORT_BYTES, "{what}: {bytes} bytes");
    assert!(
        bytes < small * 2,
        "{small} bytes for a small run, {bytes} for {what}"
    );
}

/// An HTML page with no script and no reference to anything outside it.
fn assert_self_contained(page: &str, args: &[&str]) {
    assert!(page.starts_with("<!DOCTYPE html>"), "{args:?}");
    for external in [
        "http:", "https:", "src=", "href", "@import", "url(", "<script", "<link",
    ] {
        assert!(
            !page.contains(external),
            "{external} in the page of {args:?}"
        );
    }
}

/// Every `<svg>...</svg>` of the page (charts and graphs), in order.
pub fn svgs(page: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find("<svg") {
        let end = start + rest[start..].find("</svg>").unwrap() + "</svg>".len();
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

/// How plotters writes a text element's content.
pub fn label(text: &str) -> String {
    format!(">\n{text}\n</text>")
}

/// Asserts every text of `labels` is a label in `html` (a page or a chart).
pub fn assert_labels(html: &str, labels: &[&str]) {
    for text in labels {
        assert!(html.contains(&label(text)), "label {text} missing");
    }
}

/// Asserts no text of `labels` is a label in `html` (a page or a chart).
pub fn assert_no_labels(html: &str, labels: &[&str]) {
    for text in labels {
        assert!(!html.contains(&label(text)), "label {text} present");
    }
}

/// One causality graph: its boxes' roles in file order and its arrows
/// (the legend's sample arrow left out).
pub fn causality(svg: &str) -> (Vec<String>, usize) {
    let doc = roxmltree::Document::parse(svg).expect("the graph parses as XML");
    assert_eq!(doc.root_element().attribute("class"), Some("causality"));
    let roles = doc
        .descendants()
        .filter_map(|n| n.attribute("class"))
        .filter_map(|c| c.strip_prefix("version "))
        .map(str::to_string)
        .collect();
    let arrows = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("arrow"))
        .filter(|n| {
            n.ancestors()
                .all(|a| a.attribute("class") != Some("legend"))
        })
        .count();
    (roles, arrows)
}

/// `list` as owned strings, to compare with [`causality`]'s roles.
pub fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

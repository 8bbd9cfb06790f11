//! `--report FILE.html` of trials (`--trials N`), of the exact law
//! (`--exact`) and of both: the charts each page has, checked from its HTML
//! text (tests/browser.rs renders them).

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

/// A report's size bound, whatever the swarm or the trial count (README,
/// "Reports").
const MAX_REPORT_BYTES: usize = 1 << 20;

fn moai() -> Command {
    let mut cmd = Command::cargo_bin("moai").unwrap();
    cmd.timeout(Duration::from_secs(600));
    cmd
}

/// A new empty directory outside the repository.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("moai-html-trials-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs `args` with `--report` and returns the page, after checking that
/// stdout is what the same run prints without it and that the page is
/// self-contained.
fn report(name: &str, args: &[&str]) -> String {
    let file = fresh_dir(name).join("report.html");
    let plain = moai().args(args).output().unwrap();
    let reported = moai()
        .args(args)
        .args(["--report", s(&file)])
        .output()
        .unwrap();
    assert_eq!(reported.status.code(), Some(0), "{args:?}");
    assert_eq!(reported.stdout, plain.stdout, "{args:?}");
    assert_eq!(reported.stderr, plain.stderr, "{args:?}");
    let page = std::fs::read_to_string(&file).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    for external in [
        "http://", "https://", "src=", "href=", "@import", "url(", "<script", "<link",
    ] {
        assert!(
            !page.contains(external),
            "{external} in the page of {args:?}"
        );
    }
    assert!(!page.contains("not built yet"), "{args:?}");
    page
}

/// How plotters writes a text element's content.
fn label(text: &str) -> String {
    format!(">\n{text}\n</text>")
}

fn charts(page: &str) -> usize {
    page.matches("<svg").count()
}

fn assert_labels(page: &str, labels: &[&str]) {
    for text in labels {
        assert!(page.contains(&label(text)), "label {text} missing");
    }
}

fn assert_no_labels(page: &str, labels: &[&str]) {
    for text in labels {
        assert!(!page.contains(&label(text)), "label {text} present");
    }
}

#[test]
fn gossip_trials_show_the_converged_round_the_agreement_fan_and_decisions() {
    let page = report("gossip", &["gossip", "--trials", "200"]);
    assert_eq!(charts(&page), 3);
    assert_labels(
        &page,
        &[
            "Converged round across trials",
            "round of first convergence",
            "trials",
            "p50: round 1",
            "p90: round 2",
            "p99: round 2",
            "Agreement per round across trials",
            "round",
            "agreement (share of votes)",
            "trials p10–p90",
            "trials median",
            "convergence threshold 0.95",
            "Decision shares",
            "source (1: trials)",
            "share of runs",
            "approved",
            "rejected",
        ],
    );
    assert!(page.contains("<polygon"), "the p10–p90 band");
    assert!(page.contains("200 of 200 trials converged"));
    assert_no_labels(
        &page,
        &[
            "exact: expected agreement",
            "exact: P(converged by the round)",
        ],
    );
    assert!(!page.contains("Trials against the exact law"));
}

#[test]
fn gossip_trials_with_the_exact_law_overlay_it_and_list_the_z_scores() {
    let page = report("gossip-exact", &["gossip", "--trials", "200", "--exact"]);
    assert_eq!(charts(&page), 4);
    assert_labels(
        &page,
        &[
            "Converged by round: trials against the exact law",
            "trials: share converged by the round",
            "exact: P(converged by the round)",
            "share of runs converged",
            "trials median",
            "exact: expected agreement",
            "source (1: trials, 2: exact law)",
        ],
    );
    assert!(page.contains("Trials against the exact law"));
    assert!(page.contains("<td>convergence_rate</td>"));
    assert!(page.contains("<td>decisions.approved</td>"));
}

#[test]
fn the_gossip_exact_law_alone_is_drawn_without_trials() {
    let page = report("gossip-exact-alone", &["gossip", "--exact"]);
    assert_eq!(charts(&page), 3);
    assert_labels(
        &page,
        &[
            "Exact law: P(first converged in the round)",
            "P(converged in the round)",
            "probability",
            "Exact law per round",
            "P(converged by the round)",
            "expected agreement",
            "convergence threshold 0.95",
            "source (1: exact law)",
        ],
    );
    assert_no_labels(&page, &["trials median", "trials p10–p90"]);
    assert!(!page.contains("Trials against the exact law"));
}

#[test]
fn byzantine_trials_show_the_rates_with_intervals_and_decisions() {
    let page = report(
        "byzantine",
        &["byzantine", "random-voters", "--trials", "300"],
    );
    assert_eq!(charts(&page), 2);
    assert_labels(
        &page,
        &[
            "Rates",
            "rate (1: missed, 2: false positive, 3: not safe, 4: against honest majority)",
            "share of runs",
            "Decision shares",
            "source (1: trials)",
            "approved",
            "rejected",
            "timeout",
        ],
    );
    // One series: no legend, so its name is no label.
    assert_no_labels(&page, &["exact law", "trials (95% interval where known)"]);

    let page = report(
        "byzantine-exact",
        &["byzantine", "random-voters", "--trials", "300", "--exact"],
    );
    assert_eq!(charts(&page), 2);
    assert_labels(
        &page,
        &[
            "trials (95% interval where known)",
            "exact law",
            "source (1: trials, 2: exact law)",
        ],
    );
    assert!(page.contains("<td>missed_rate</td>"));
    assert!(page.contains("<td>against_honest_majority_rate</td>"));

    let page = report(
        "byzantine-exact-alone",
        &["byzantine", "random-voters", "--exact"],
    );
    assert_eq!(charts(&page), 2);
    assert_labels(&page, &["source (1: exact law)"]);
    assert!(!page.contains("Trials against the exact law"));
}

#[test]
fn long_trials_are_drawn_in_bins_of_rounds() {
    let page = report(
        "long",
        &[
            "gossip",
            "--agents",
            "20",
            "--rounds",
            "5000",
            "--no-early-stop",
            "--trials",
            "3",
        ],
    );
    assert!(page.len() < MAX_REPORT_BYTES, "{} bytes", page.len());
    assert_labels(&page, &["agreement (share of votes) (mean of 42 rounds)"]);
}

/// The size of the report of `gossip ARGS`.
fn size(dir: &Path, name: &str, args: &[&str]) -> usize {
    let file = dir.join(format!("{name}.html"));
    let out = moai()
        .arg("gossip")
        .args(args)
        .args(["--report", s(&file)])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&file).unwrap().len()
}

#[test]
fn a_million_agents_or_a_million_trials_give_a_report_as_small_as_twenty() {
    let dir = fresh_dir("size");
    let small = size(
        &dir,
        "small",
        &["--agents", "20", "--trials", "3", "--rounds", "3"],
    );
    let agents = size(
        &dir,
        "agents",
        &["--agents", "1000000", "--trials", "3", "--rounds", "3"],
    );
    let trials = size(
        &dir,
        "trials",
        &["--agents", "5", "--trials", "1000000", "--rounds", "3"],
    );
    for (what, bytes) in [("a million agents", agents), ("a million trials", trials)] {
        assert!(bytes < MAX_REPORT_BYTES, "{what}: {bytes} bytes");
        assert!(
            bytes < small * 2,
            "{small} bytes for 20 agents and 3 trials, {bytes} for {what}"
        );
    }
}

#[test]
fn the_same_trials_give_the_same_report() {
    let dir = fresh_dir("same");
    let (a, b) = (dir.join("a.html"), dir.join("b.html"));
    for file in [&a, &b] {
        let out = moai()
            .args(["gossip", "--trials", "50", "--exact", "--report", s(file)])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn trials_that_never_converge_have_no_converged_round_chart() {
    let page = report(
        "never",
        &[
            "gossip",
            "stubborn-lossy",
            "--trials",
            "20",
            "--rounds",
            "1",
        ],
    );
    assert!(page.contains("0 of 20 trials converged (0.00%, 95% interval 0.00%–16.11%)."));
    assert_no_labels(&page, &["Converged round across trials"]);
    assert_eq!(charts(&page), 2);
    assert_labels(
        &page,
        &["Agreement per round across trials", "Decision shares"],
    );
}

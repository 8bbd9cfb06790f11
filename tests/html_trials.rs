//! `--report FILE.html` of trials (`--trials N`), of the exact law
//! (`--exact`) and of both: the charts each page has, checked from its HTML
//! text (tests/browser.rs renders them).

#[path = "support/html.rs"]
mod html;

use html::{
    LONG_RUN, MAX_REPORT_BYTES, assert_as_small, assert_labels, assert_no_labels,
    assert_same_report, report, report_once, svgs,
};

#[test]
fn gossip_trials_show_the_converged_round_the_agreement_fan_and_decisions() {
    let page = report("gossip", &["gossip", "--trials", "200"]);
    assert_eq!(svgs(&page).len(), 3);
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
    assert_eq!(svgs(&page).len(), 4);
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
    assert_eq!(svgs(&page).len(), 3);
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
    assert_eq!(svgs(&page).len(), 2);
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
    assert_eq!(svgs(&page).len(), 2);
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
    assert_eq!(svgs(&page).len(), 2);
    assert_labels(&page, &["source (1: exact law)"]);
    assert!(!page.contains("Trials against the exact law"));
}

#[test]
fn long_trials_are_drawn_in_bins_of_rounds() {
    let page = report("long", &[LONG_RUN, &["--trials", "3"]].concat());
    assert!(page.len() < MAX_REPORT_BYTES, "{} bytes", page.len());
    assert_labels(&page, &["agreement (share of votes) (mean of 42 rounds)"]);
}

/// The size of the report of `gossip ARGS`.
fn size(name: &str, args: &[&str]) -> usize {
    report_once(&format!("size-{name}"), &[&["gossip"], args].concat()).len()
}

#[test]
fn a_million_agents_or_a_million_trials_give_a_report_as_small_as_twenty() {
    let small = size(
        "small",
        &["--agents", "20", "--trials", "3", "--rounds", "3"],
    );
    let agents = size(
        "agents",
        &["--agents", "1000000", "--trials", "3", "--rounds", "3"],
    );
    let trials = size(
        "trials",
        &["--agents", "5", "--trials", "1000000", "--rounds", "3"],
    );
    assert_as_small("a million agents", agents, small);
    assert_as_small("a million trials", trials, small);
}

#[test]
fn the_same_trials_give_the_same_report() {
    assert_same_report(&["gossip", "--trials", "50", "--exact"]);
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
    assert_eq!(svgs(&page).len(), 2);
    assert_labels(
        &page,
        &["Agreement per round across trials", "Decision shares"],
    );
}

//! `--sweep --report FILE.html`: each summary figure against the swept
//! value, checked from the page's HTML text (tests/browser.rs renders it).

#[path = "support/html.rs"]
mod html;

use html::{
    BYZANTINE_SWEEP, GOSSIP_SWEEP, MAX_REPORT_BYTES, assert_labels, assert_no_labels,
    assert_same_report, report, svgs,
};

/// Error bars: plotters draws each as three `<line>`s (the bar and its two
/// caps); grid lines are `<line>`s too, so this counts the caps' shape.
fn error_bars(chart: &str) -> usize {
    chart
        .matches("<line opacity=\"1\" stroke=\"#1B4F72\" stroke-width=\"2\"")
        .count()
        / 3
}

#[test]
fn a_gossip_sweep_draws_rate_with_intervals_rounds_percentiles_and_agreement() {
    let page = report("gossip", GOSSIP_SWEEP);
    assert!(!page.contains("are not built yet"));
    let charts = svgs(&page);
    assert_eq!(charts.len(), 3);
    let x = "fanout (peers per round)";
    assert_labels(
        charts[0],
        &[
            "Convergence rate by fanout",
            x,
            "convergence rate (share of runs)",
            "2",
            "6",
        ],
    );
    // One error bar per value, and no legend for the one series.
    assert_eq!(error_bars(charts[0]), 5);
    assert_no_labels(charts[0], &["convergence rate (trials)"]);
    assert_labels(
        charts[1],
        &[
            "Rounds to converge by fanout",
            x,
            "rounds to converge (rounds)",
            "p50",
            "p90",
            "p99",
        ],
    );
    assert_labels(
        charts[2],
        &[
            "Mean final agreement by fanout",
            x,
            "agreement after the last round (share of votes)",
        ],
    );
    assert!(page.contains("200 trials per value, each rate with its 95% Wilson interval"));
    assert!(page.contains("<h2>Convergence</h2>") && page.contains("<h2>Agreement</h2>"));
}

#[test]
fn exact_and_trials_share_each_chart() {
    let page = report(
        "exact",
        &[
            "gossip",
            "--trials",
            "100",
            "--exact",
            "--sweep",
            "fanout=3,5",
        ],
    );
    let charts = svgs(&page);
    assert_eq!(charts.len(), 4);
    assert_labels(
        charts[0],
        &["convergence rate (trials)", "P(converged), exact"],
    );
    assert_eq!(error_bars(charts[0]), 2);
    assert_labels(charts[1], &["p50", "p90", "p99"]);
    assert_labels(
        charts[2],
        &[
            "Rounds to converge by fanout, exact law",
            "p50, exact",
            "p90, exact",
            "p99, exact",
        ],
    );
    assert_labels(
        charts[3],
        &[
            "mean final agreement (trials)",
            "expected final agreement, exact",
        ],
    );
    assert!(page.contains("and the exact law (no interval)"));
}

#[test]
fn the_exact_law_alone_draws_its_figures_alone() {
    let page = report(
        "exact-alone",
        &["gossip", "--exact", "--sweep", "loss=0..0.2:0.1"],
    );
    let charts = svgs(&page);
    assert_eq!(charts.len(), 3);
    assert_labels(
        charts[0],
        &["Convergence rate by loss", "loss (probability)", "0.1"],
    );
    assert_eq!(error_bars(charts[0]), 0);
    assert_labels(charts[1], &["Rounds to converge by loss", "p50, exact"]);
    assert!(!page.contains("(trials)"));
    assert!(page.contains("One point per value of loss: the exact law."));
}

#[test]
fn a_byzantine_sweep_draws_detection_and_safety_rates_with_the_exact_law() {
    let page = report("byzantine", BYZANTINE_SWEEP);
    let charts = svgs(&page);
    assert_eq!(charts.len(), 2);
    let x = "rounds (rounds per run)";
    assert_labels(
        charts[0],
        &[
            "Detection errors by rounds",
            x,
            "rate (share of runs)",
            "missed (trials)",
            "false positive (trials)",
            "missed, exact",
            "false positive, exact",
        ],
    );
    // The trials' missed rate has an error bar at each of the 4 values.
    assert_eq!(error_bars(charts[0]), 4);
    assert_labels(
        charts[1],
        &[
            "Safety by rounds",
            x,
            "not safe (trials)",
            "against honest majority (trials)",
            "not safe, exact",
            "against honest majority, exact",
        ],
    );
    assert!(page.contains("<h2>Detection</h2>") && page.contains("<h2>Safety</h2>"));
}

#[test]
fn a_byzantine_sweep_of_trials_alone_has_no_exact_series() {
    let page = report(
        "byzantine-trials",
        &[
            "byzantine",
            "--trials",
            "50",
            "--sweep",
            "fault_tolerance=1,2,3",
        ],
    );
    let charts = svgs(&page);
    assert_eq!(charts.len(), 2);
    assert_labels(
        charts[0],
        &["fault_tolerance (f, agents)", "missed (trials)"],
    );
    assert!(!page.contains(", exact\n"));
}

#[test]
fn many_values_draw_interval_bands_and_stay_small() {
    // 1,000 values (the sweep's limit) of one noisy trial each: the rates are
    // lines in bands, not 1,000 error bars.
    let page = report(
        "many",
        &[
            "byzantine",
            "random-voters",
            "--trials",
            "1",
            "--exact",
            "--sweep",
            "rounds=3..1002",
        ],
    );
    let charts = svgs(&page);
    assert_eq!(charts.len(), 2);
    assert_eq!(error_bars(charts[0]), 0);
    assert_labels(
        charts[0],
        &["missed (trials), 95% interval", "missed, exact"],
    );
    assert!(charts[0].contains("<polygon"));
    assert!(page.len() < MAX_REPORT_BYTES / 4, "{} bytes", page.len());
}

#[test]
fn more_trials_give_a_report_as_small() {
    let size = |trials: &str| {
        report(
            &format!("trials-{trials}"),
            &["gossip", "--trials", trials, "--sweep", "fanout=2..4"],
        )
        .len()
    };
    let (few, many) = (size("20"), size("20000"));
    assert!(
        many < few + few / 10,
        "{few} bytes for 20 trials, {many} for 20,000"
    );
}

#[test]
fn the_same_sweep_gives_the_same_report() {
    assert_same_report(&["gossip", "--trials", "50", "--sweep", "loss=0,0.1"]);
}

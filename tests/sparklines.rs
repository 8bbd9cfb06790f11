//! Trials per round, end to end: the agreement of gossip trials per round
//! (`agreement_by_round`) and the converged rounds (`rounds_histogram`) in
//! JSON, and the one-line block-character charts tables draw of them, in
//! table output only and the same with and without colour.

#[path = "support/run.rs"]
mod run;
use run::{json_of, stdout_of};

/// The block characters the charts use.
const BLOCKS: &[char] = &['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// `text` without its ANSI escape sequences (`ESC [ ... m`).
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn trial_summaries_draw_the_converged_rounds_as_a_histogram() {
    let table = stdout_of(&["gossip", "--trials", "1000"]);
    assert!(
        table.contains("│ Rounds to converge histogram ┆ 1 █▇▁ 3 "),
        "{table}"
    );
    let json = json_of(&["gossip", "--trials", "1000"]);
    let s = &json["trials_summary"];
    let counts: Vec<u64> = s["rounds_histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .collect();
    assert_eq!(counts.len() as u64, s["rounds_max"].as_u64().unwrap());
    assert_eq!(counts.iter().sum::<u64>(), s["converged_trials"]);
    // The same trials beside the exact law: both histograms.
    let both = stdout_of(&["gossip", "--trials", "1000", "--exact"]);
    assert!(
        both.contains(
            "│ Rounds to converge histogram ┆ 1 █▇▁ 3             ┆ 1 █▇▁▁▁▁▁ 7 ┆ —    │"
        ),
        "{both}"
    );
    // None converged: a dash.
    let none = stdout_of(&["gossip", "--trials", "20", "--rounds", "1", "--loss", "0.9"]);
    assert!(
        none.contains("│ Rounds to converge histogram ┆ - "),
        "{none}"
    );
}

#[test]
fn single_gossip_runs_draw_agreement_per_round_as_a_sparkline() {
    let table = stdout_of(&["gossip"]);
    assert!(
        table.contains("│ Agreement by round  ┆ 1 ▇ 1 (▁ 50% to █ 100%) │"),
        "{table}"
    );
    let long = stdout_of(&[
        "gossip",
        "--agents",
        "300",
        "--approve",
        "160",
        "--fanout",
        "2",
        "--loss",
        "0.5",
        "--rounds",
        "200",
        "--convergence-threshold",
        "0.99",
    ]);
    let line = long
        .lines()
        .find(|l| l.contains("Agreement by round"))
        .unwrap();
    let blocks = line.chars().filter(|c| BLOCKS.contains(c)).count();
    // 47 rounds in 47 characters (and two in the legend), from ▂ (about
    // 55%) down to ▁ and up to █ (converged).
    assert_eq!(blocks, 47 + 2, "{line}");
    assert!(
        line.contains("┆ 1 ▂▂▂▁") && line.contains("█ 47 (▁ 50% to █ 100%)"),
        "{line}"
    );
}

#[test]
fn charts_are_for_tables_only_and_the_same_with_and_without_colour() {
    for args in [&["gossip"][..], &["gossip", "--trials", "300"]] {
        let never = stdout_of(&[args, &["--color", "never"]].concat());
        let always = stdout_of(&[args, &["--color", "always"]].concat());
        assert_ne!(never, always, "{args:?}: colour is on");
        assert_eq!(plain(&always), never, "{args:?}");
        assert!(never.contains(BLOCKS), "{args:?}");
        for format in ["json", "csv"] {
            let text = stdout_of(&[args, &["--format", format]].concat());
            assert!(!text.contains(BLOCKS), "{args:?} {format}: {text}");
        }
    }
}

#[test]
fn agreement_by_round_summarises_every_round_the_trials_ran() {
    let args = [
        "gossip",
        "--agents",
        "13",
        "--approve",
        "8",
        "--fanout",
        "3",
        "--loss",
        "0.3",
        "--rounds",
        "12",
        "--convergence-threshold",
        "0.8",
        "--trials",
        "500",
    ];
    let one = json_of(&[&args[..], &["--threads", "1"]].concat());
    let two = json_of(&[&args[..], &["--threads", "2"]].concat());
    let s = &one["trials_summary"];
    assert_eq!(s, &two["trials_summary"]);
    assert_eq!(s["agreement_by_round_exact"], true);
    let bands = s["agreement_by_round"].as_array().unwrap();
    // Early stop: rounds up to the last one any trial ran, numbered from 1.
    let last_round = bands.len() as u64;
    assert!((2..=12).contains(&last_round), "{last_round}");
    for (i, band) in bands.iter().enumerate() {
        assert_eq!(band["round"], i as u64 + 1);
        let [p10, p50, p90, mean] =
            ["p10", "p50", "p90", "mean"].map(|k| band[k].as_f64().unwrap());
        assert!(
            0.5 <= p10 && p10 <= p50 && p50 <= p90 && p90 <= 1.0,
            "{band}"
        );
        assert!((0.5..=1.0).contains(&mean), "{band}");
        // Exact bins: each percentile is a ratio k/d of at most 13 agents
        // (up to the last digit JSON parsing may round).
        for p in [p10, p50, p90] {
            assert!(
                (1..=13).any(|d| (0..=d).any(|k| (f64::from(k) / f64::from(d) - p).abs() < 1e-15)),
                "{p}"
            );
        }
    }
    let last = bands.last().unwrap()["mean"].as_f64().unwrap();
    let final_mean = s["mean_final_agreement"].as_f64().unwrap();
    assert!((last - final_mean).abs() < 1e-12, "{last} {final_mean}");
    // Past 81 counted agents the bins have a fixed width.
    let wide = json_of(&["gossip", "--agents", "100", "--trials", "20"]);
    assert_eq!(wide["trials_summary"]["agreement_by_round_exact"], false);
}

#[test]
fn the_memory_guard_counts_every_swept_values_agreement_per_round() {
    let out = run::moai()
        .args([
            "gossip",
            "--trials",
            "2",
            "--rounds",
            "100000",
            "--no-early-stop",
            "--sweep",
            "loss=0..0.999:0.001",
            "--format",
            "json",
        ])
        .env("MOAI_MAX_MEMORY", "1G")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "moai: this run needs about 15.7 GiB of memory, more than 1.0 GiB (MOAI_MAX_MEMORY): \
         the agreement per round of the trial summaries takes 15.7 GiB; lower --rounds, or \
         sweep fewer values\n"
    );
}

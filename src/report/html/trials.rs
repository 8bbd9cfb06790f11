//! The sections of a batch of trials (`--trials N`), of the exact law
//! (`--exact`), or of both side by side. Gossip: the converged round's
//! distribution with p50/p90/p99 marked, the agreement-per-round fan chart
//! (median, p10–p90 band, the exact expected agreement), P(converged by
//! round) exact against the trials' cumulative share, decision shares and
//! the z-scores. Byzantine: decision shares and the rates with their 95%
//! intervals beside the exact values. Every chart plots aggregates (a bin of
//! rounds, a decision, a rate), so its size does not grow with the trials or
//! the agents; long runs are drawn in bins of rounds as single runs are.

use maud::html;

use super::Section;
use super::charts::{self, ErrorSeries, Frame, Layer, LegendAt, Line, Mark, Rule};
use super::single::{bar_width, binned, per_round, rounds_range, top};
use crate::error::Error;
use crate::exact::{ByzantineExactSummary, ExactSummary, GossipExactSummary};
use crate::montecarlo::{ByzantineTrialsSummary, GossipTrialsSummary};
use crate::report::table::z_text;
use crate::report::{Settings, Statistics, TrialsReport, TrialsSummary};

/// The sections of a trials report, by algorithm and by what was computed.
pub(super) fn sections(report: &TrialsReport) -> Result<Vec<Section>, Error> {
    let stats = &report.statistics;
    let mut sections = match (&stats.trials_summary, &stats.exact_summary) {
        (Some(TrialsSummary::Gossip(t)), exact) => {
            let exact = match exact {
                Some(ExactSummary::Gossip(e)) => Some(e),
                _ => None,
            };
            gossip(t, exact, threshold(&report.settings))?
        }
        (None, Some(ExactSummary::Gossip(e))) => gossip_exact(e, threshold(&report.settings))?,
        (Some(TrialsSummary::Byzantine(t)), exact) => {
            let exact = match exact {
                Some(ExactSummary::Byzantine(e)) => Some(e),
                _ => None,
            };
            byzantine(Some(t), exact)?
        }
        (None, Some(ExactSummary::Byzantine(e))) => byzantine(None, Some(e))?,
        (None, None) => Vec::new(),
    };
    sections.extend(z_scores(stats));
    Ok(sections)
}

/// The gossip convergence threshold (1 for a Byzantine batch, never drawn).
fn threshold(settings: &Settings) -> f64 {
    match settings {
        Settings::Gossip(c) => c.convergence_threshold,
        Settings::Byzantine(_) => 1.0,
    }
}

/// Vertical marks at the p50, p90 and p99 rounds that exist.
fn percentile_marks(p50: Option<u32>, p90: Option<u32>, p99: Option<u32>) -> Vec<Mark> {
    [("p50", p50), ("p90", p90), ("p99", p99)]
        .into_iter()
        .filter_map(|(name, round)| {
            round.map(|r| Mark {
                name: format!("{name}: round {r}"),
                x: f64::from(r),
            })
        })
        .collect()
}

/// The agreement-per-round frame: share of votes from 0 to 1 against the
/// convergence threshold.
fn agreement_frame(title: &str, rounds: usize, threshold: f64) -> Frame {
    let mut frame = Frame::new(
        title,
        "round",
        "agreement (share of votes)",
        rounds_range(rounds),
        0.0..1.05,
    );
    frame.rules.push(Rule {
        name: format!("convergence threshold {threshold}"),
        y: threshold,
    });
    frame.legend = LegendAt::LowerRight;
    frame.whole_x = true;
    frame
}

/// `values` cumulated: the running sum divided by `total`.
fn cumulative(values: impl Iterator<Item = f64>, total: f64) -> Vec<f64> {
    let total = if total > 0.0 { total } else { 1.0 };
    values
        .scan(0.0, |sum, v| {
            *sum += v;
            Some(*sum / total)
        })
        .collect()
}

/// Gossip trials, with the exact law overlaid when there is one.
fn gossip(
    t: &GossipTrialsSummary,
    exact: Option<&GossipExactSummary>,
    threshold: f64,
) -> Result<Vec<Section>, Error> {
    let hist = &t.rounds_histogram;
    let mut convergence = Section::new("Convergence");
    let share = format!(
        "{} of {} trials converged ({:.2}%, 95% interval {:.2}%–{:.2}%)",
        t.converged_trials,
        t.trials,
        100.0 * t.convergence_rate,
        100.0 * t.convergence_rate_ci95[0],
        100.0 * t.convergence_rate_ci95[1],
    );
    if hist.is_empty() {
        // No trial converged: no distribution to draw.
        convergence.intro = Some(format!("{share}."));
    } else {
        convergence.intro = Some(format!(
            "{share}; the bars count the trials by the round they first converged in."
        ));
        let mut frame = Frame::new(
            "Converged round across trials",
            "round of first convergence",
            per_round("trials", hist.len()),
            rounds_range(hist.len()),
            0.0..top(hist.iter().map(|&c| c as f64), 4),
        );
        frame.marks = percentile_marks(t.rounds_p50, t.rounds_p90, t.rounds_p99);
        frame.whole_x = true;
        let layer = Layer {
            name: "trials converged in the round".to_string(),
            bars: binned(hist, |&c| c as f64),
        };
        convergence
            .charts
            .push(charts::bars(&frame, bar_width(hist.len()), &layer)?);
    }
    if let Some(e) = exact {
        let rounds = e.rounds.len().max(hist.len());
        let counts: Vec<f64> = (0..rounds)
            .map(|i| hist.get(i).copied().unwrap_or(0) as f64)
            .collect();
        let by = cumulative(counts.into_iter(), t.trials as f64);
        let mut frame = Frame::new(
            "Converged by round: trials against the exact law",
            "round",
            per_round("share of runs converged", rounds),
            rounds_range(rounds),
            0.0..1.3,
        );
        frame.legend = LegendAt::UpperLeft;
        frame.whole_x = true;
        let lines = [
            Line {
                name: "trials: share converged by the round".to_string(),
                points: binned(&by, |&v| v),
            },
            Line {
                name: "exact: P(converged by the round)".to_string(),
                points: binned(&e.rounds, |r| r.converged_by),
            },
        ];
        convergence
            .charts
            .push(charts::line_chart(&frame, &lines, &[])?);
    }

    let bands = &t.agreement_by_round;
    let rounds = exact.map_or(0, |e| e.rounds.len()).max(bands.len());
    let mut frame = agreement_frame("Agreement per round across trials", rounds, threshold);
    frame.y_label = per_round("agreement (share of votes)", rounds);
    let p10 = binned(bands, |b| b.p10);
    let p90 = binned(bands, |b| b.p90);
    let band = charts::Band {
        name: "trials p10–p90".to_string(),
        points: p10
            .iter()
            .zip(&p90)
            .map(|(&(x, low), &(_, high))| (x, low, high))
            .collect(),
    };
    let mut lines = vec![Line {
        name: "trials median".to_string(),
        points: binned(bands, |b| b.p50),
    }];
    if let Some(e) = exact {
        lines.push(Line {
            name: "exact: expected agreement".to_string(),
            points: binned(&e.rounds, |r| r.expected_agreement),
        });
    }
    let mut agreement = Section::new("Agreement");
    agreement.intro = Some(format!(
        "The agreement of every trial after each round (a trial that stopped keeps its final \
         agreement): median and 10th–90th percentiles across trials{}.",
        if t.agreement_by_round_exact {
            ""
        } else {
            ", each percentile its histogram bin's midpoint"
        }
    ));
    agreement
        .charts
        .push(charts::line_chart(&frame, &lines, &[band])?);

    let mut decisions = Section::new("Decisions");
    decisions.intro = Some(format!(
        "The share of trials reaching each decision{}.",
        if exact.is_some() {
            ", beside each decision's exact probability"
        } else {
            ""
        }
    ));
    decisions.charts.push(decision_shares(
        Some((&t.decisions, t.trials)),
        exact.map(|e| &e.decisions),
    )?);
    Ok(vec![convergence, agreement, decisions])
}

/// Gossip `--exact` alone: the law of the converged round and the expected
/// agreement.
fn gossip_exact(e: &GossipExactSummary, threshold: f64) -> Result<Vec<Section>, Error> {
    let shown = e
        .rounds_max
        .map_or(e.rounds.len(), |m| (m as usize).min(e.rounds.len()));
    let rounds = &e.rounds[..shown];
    let mut frame = Frame::new(
        "Exact law: P(first converged in the round)",
        "round of first convergence",
        per_round("probability", rounds.len()),
        rounds_range(rounds.len()),
        0.0..top(rounds.iter().map(|r| r.converged_in), 4).min(1.6),
    );
    frame.marks = percentile_marks(e.rounds_p50, e.rounds_p90, e.rounds_p99);
    frame.whole_x = true;
    let layer = Layer {
        name: "P(converged in the round)".to_string(),
        bars: binned(rounds, |r| r.converged_in),
    };
    let mut convergence = Section::new("Convergence");
    convergence.intro = Some(format!(
        "The exact law: a run converges with probability {:.4}; the bars give the probability \
         that it first converges in each round.",
        e.convergence_rate
    ));
    convergence
        .charts
        .push(charts::bars(&frame, bar_width(rounds.len()), &layer)?);

    let n = e.rounds.len();
    let mut frame = agreement_frame("Exact law per round", n, threshold);
    frame.y_label = per_round("probability, agreement (share)", n);
    let lines = [
        Line {
            name: "P(converged by the round)".to_string(),
            points: binned(&e.rounds, |r| r.converged_by),
        },
        Line {
            name: "expected agreement".to_string(),
            points: binned(&e.rounds, |r| r.expected_agreement),
        },
    ];
    convergence
        .charts
        .push(charts::line_chart(&frame, &lines, &[])?);

    let mut decisions = Section::new("Decisions");
    decisions.intro = Some("Each decision's exact probability.".to_string());
    decisions
        .charts
        .push(decision_shares(None, Some(&e.decisions))?);
    Ok(vec![convergence, decisions])
}

/// Decision shares as stacked bars: the trials' at x = 1, the exact law's
/// at x = 2 (or at x = 1 when there are no trials), a layer per decision;
/// room above the bars for the legend.
fn decision_shares(
    trials: Option<(&indexmap::IndexMap<&'static str, u64>, u64)>,
    exact: Option<&indexmap::IndexMap<&'static str, f64>>,
) -> Result<super::Chart, Error> {
    let mut columns: Vec<(&str, Vec<(&'static str, f64)>)> = Vec::new();
    if let Some((counts, n)) = trials {
        let n = n.max(1) as f64;
        columns.push((
            "trials",
            counts.iter().map(|(d, &c)| (*d, c as f64 / n)).collect(),
        ));
    }
    if let Some(exact) = exact {
        columns.push(("exact law", exact.iter().map(|(d, &p)| (*d, p)).collect()));
    }
    let mut names: Vec<&'static str> = Vec::new();
    for (_, shares) in &columns {
        for (d, _) in shares {
            if !names.contains(d) {
                names.push(d);
            }
        }
    }
    let layers: Vec<Layer> = names
        .iter()
        .map(|d| Layer {
            name: d.to_string(),
            bars: columns
                .iter()
                .enumerate()
                .map(|(i, (_, shares))| {
                    let share = shares.iter().find(|(n, _)| n == d).map_or(0.0, |s| s.1);
                    ((i + 1) as f64, share)
                })
                .collect(),
        })
        .collect();
    let x_label = columns
        .iter()
        .enumerate()
        .map(|(i, (name, _))| format!("{}: {name}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let mut frame = Frame::new(
        "Decision shares",
        format!("source ({x_label})"),
        "share of runs",
        0.5..columns.len() as f64 + 0.5,
        0.0..1.45,
    );
    frame.whole_x = true;
    charts::stacked_bars(&frame, 0.6, &layers)
}

/// The Byzantine rates: name, trials' value with its interval when the
/// summary has one, and the exact value.
type Rate = (&'static str, Option<(f64, Option<[f64; 2]>)>, Option<f64>);

/// Byzantine trials and/or the exact law: decision shares and rates.
fn byzantine(
    t: Option<&ByzantineTrialsSummary>,
    e: Option<&ByzantineExactSummary>,
) -> Result<Vec<Section>, Error> {
    let rates: [Rate; 4] = [
        (
            "missed",
            t.map(|t| (t.missed_rate, None)),
            e.map(|e| e.missed_rate),
        ),
        (
            "false positive",
            t.map(|t| (t.false_positive_rate, None)),
            e.map(|e| e.false_positive_rate),
        ),
        (
            "not safe",
            t.map(|t| (t.byzantine_unsafe_rate, Some(t.byzantine_unsafe_rate_ci95))),
            e.map(|e| e.byzantine_unsafe_rate),
        ),
        (
            "against honest majority",
            t.map(|t| {
                (
                    t.against_honest_majority_rate,
                    Some(t.against_honest_majority_rate_ci95),
                )
            }),
            e.map(|e| e.against_honest_majority_rate),
        ),
    ];
    // The exact values sit just right of the trials' so neither hides the other.
    let mut series = Vec::new();
    if t.is_some() {
        series.push(ErrorSeries {
            name: "trials (95% interval where known)".to_string(),
            points: rates
                .iter()
                .enumerate()
                .filter_map(|(i, (_, mc, _))| {
                    mc.map(|(v, ci)| {
                        let [low, high] = ci.unwrap_or([v, v]);
                        ((i + 1) as f64, low, v, high)
                    })
                })
                .collect(),
        });
    }
    if e.is_some() {
        series.push(ErrorSeries {
            name: "exact law".to_string(),
            points: rates
                .iter()
                .enumerate()
                .filter_map(|(i, (_, _, exact))| exact.map(|v| (i as f64 + 1.15, v, v, v)))
                .collect(),
        });
    }
    let x_label = rates
        .iter()
        .enumerate()
        .map(|(i, (name, _, _))| format!("{}: {name}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let mut frame = Frame::new(
        "Rates",
        format!("rate ({x_label})"),
        "share of runs",
        0.5..4.5,
        0.0..1.3,
    );
    frame.whole_x = true;
    frame.legend = LegendAt::UpperLeft;
    let mut section = Section::new("Rates and decisions");
    section.intro = Some(
        "Missed: some faulty agent voted undetected; false positive: a non-faulty agent was \
         accused; not safe: byzantine_safe = false; against honest majority: the decision went \
         against the agents declared honest. Error bars are 95% Wilson intervals (the summary \
         has them for the last two rates)."
            .to_string(),
    );
    section.charts.push(charts::error_bars(&frame, &series)?);
    section.charts.push(decision_shares(
        t.map(|t| (&t.decisions, t.trials)),
        e.map(|e| &e.decisions),
    )?);
    Ok(vec![section])
}

/// `--exact --trials N`: each figure's z-score against the exact law.
fn z_scores(stats: &Statistics) -> Option<Section> {
    let z = stats.z_scores.as_ref()?;
    let mut section = Section::new("Trials against the exact law");
    section.intro = Some(
        "Each trial figure's z-score against the exact law: (observed − exact) / standard \
         error; |z| above 3 is unlikely by chance alone."
            .to_string(),
    );
    section.body = html! {
        table {
            thead { tr { th { "figure" } th { "z" } } }
            tbody {
                @for (key, value) in z {
                    tr {
                        td { (key) }
                        td { (z_text(*value)) }
                    }
                }
            }
        }
    };
    Some(section)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_shares_run_to_the_converged_share() {
        let by = cumulative([2.0, 0.0, 1.0].into_iter(), 4.0);
        assert_eq!(by, [0.5, 0.5, 0.75]);
        assert_eq!(cumulative([0.0].into_iter(), 0.0), [0.0]);
    }

    #[test]
    fn percentile_marks_skip_the_missing_ones() {
        let marks = percentile_marks(Some(2), Some(5), None);
        let names: Vec<&str> = marks.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["p50: round 2", "p90: round 5"]);
        assert_eq!(marks[1].x, 5.0);
    }
}

//! `--sweep --report`: each summary figure against the swept value, one
//! point per value. Gossip: the convergence rate with its 95% interval,
//! the p50/p90/p99 rounds to converge and the mean final agreement.
//! Byzantine: the missed and false-positive rates, and the not-safe and
//! against-honest-majority rates, each with its 95% interval. With
//! `--exact` the exact law's figures are a series of their own on the same
//! chart (a point without an interval); with `--exact` alone they are the
//! only series.

use std::ops::Range;

use super::charts::{self, Band, ErrorSeries, Frame, LegendAt, Line};
use super::{Chart, Section};
use crate::error::Error;
use crate::exact::{ByzantineExactSummary, ExactSummary, GossipExactSummary};
use crate::montecarlo::{ByzantineTrialsSummary, GossipTrialsSummary, wilson_interval};
use crate::report::{Settings, SweepReport, SweepRow, TrialsSummary};

/// Room above the data for each legend entry, as a share of the y range.
const LEGEND_ROOM: f64 = 0.12;

/// Most values a rate chart draws with an error bar each; a longer sweep
/// draws each rate as a line in a shaded band of its interval, so the page
/// stays small whatever the number of values.
const MAX_ERROR_BARS: usize = 60;

/// The top of a rate's y axis: a little over 1, so points at 1 show whole.
const RATE_TOP: f64 = 1.05;

/// The x axis of a sweep: each row's position and the axis's label.
#[derive(Debug, Clone, PartialEq)]
struct Axis {
    /// The label: the parameter's name and unit.
    label: String,
    /// Each row's x, in row order.
    xs: Vec<f64>,
    /// The range shown, padded around the values.
    range: Range<f64>,
    /// Whether every x is a whole number.
    whole: bool,
}

/// The unit of a sweepable setting, for the x axis label.
fn unit(param: &str) -> Option<&'static str> {
    Some(match param {
        "agents" => "agents",
        "approve" => "agents approving",
        "faulty" => "faulty agents",
        "fault_tolerance" => "f, agents",
        "rounds" => "rounds per run",
        "fanout" => "peers per round",
        "degree" => "neighbours",
        "loss" | "rewire" => "probability",
        "convergence_threshold" => "share of votes",
        "min_participation" => "share of live agents",
        "threshold" => "approval share",
        _ => return None,
    })
}

/// The x axis of `rows`: each value parsed as a number (every sweepable
/// setting is one); should one not parse, the rows are placed 1, 2, 3…
/// in order instead and the label says so.
fn axis(rows: &[SweepRow]) -> Axis {
    let param = rows.first().map_or("value", |r| r.param.as_str());
    let parsed: Option<Vec<f64>> = rows
        .iter()
        .map(|r| r.value.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect();
    let (label, xs) = match parsed {
        Some(xs) => (
            match unit(param) {
                Some(unit) => format!("{param} ({unit})"),
                None => param.to_string(),
            },
            xs,
        ),
        None => (
            format!("{param} (value number, in sweep order)"),
            (1..=rows.len()).map(|i| i as f64).collect(),
        ),
    };
    let whole = xs.iter().all(|x| x.fract() == 0.0);
    let low = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let high = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = high - low;
    let pad = if span > 0.0 {
        (span * 0.05).max(if whole { 0.5 } else { 0.0 })
    } else if whole {
        0.5
    } else {
        (low.abs() * 0.1).max(0.05)
    };
    Axis {
        label,
        xs,
        range: low - pad..high + pad,
        whole,
    }
}

/// A frame over the sweep's axis, `y` from `low` to `high`, for `points`
/// drawn with a legend of `entries` lines. The legend goes where the points
/// on the right half leave room: the upper right when they stay in the
/// lower 60% of the range, the lower right when they stay in the upper 60%;
/// else the range grows upward to make room for it.
fn frame(
    axis: &Axis,
    title: String,
    y_label: &str,
    (low, high): (f64, f64),
    points: &[(f64, f64)],
    entries: usize,
) -> Frame {
    let middle = (axis.range.start + axis.range.end) / 2.0;
    let span = high - low;
    let right = || {
        points
            .iter()
            .filter(|&&(x, _)| x >= middle)
            .map(|&(_, y)| y)
    };
    let (legend, top) = if entries < 2 || right().all(|y| y <= low + 0.6 * span) {
        (LegendAt::UpperRight, high)
    } else if right().all(|y| y >= low + 0.4 * span) {
        (LegendAt::LowerRight, high)
    } else {
        (
            LegendAt::UpperRight,
            high + span * LEGEND_ROOM * entries as f64,
        )
    };
    let mut frame = Frame::new(title, &axis.label, y_label, axis.range.clone(), low..top);
    frame.whole_x = axis.whole;
    frame.legend = legend;
    frame
}

/// Every point of `lines`.
fn points_of(lines: &[Line]) -> Vec<(f64, f64)> {
    lines
        .iter()
        .flat_map(|l| l.points.iter().copied())
        .collect()
}

/// Every point of `series`, with the ends of its intervals.
fn points_with_intervals(series: &[ErrorSeries]) -> Vec<(f64, f64)> {
    series
        .iter()
        .flat_map(|s| &s.points)
        .flat_map(|&(x, low, _, high)| [(x, low), (x, high)])
        .collect()
}

/// A rate with its 95% interval at each x.
fn with_interval(name: &str, points: Vec<(f64, f64, [f64; 2])>) -> ErrorSeries {
    ErrorSeries {
        name: name.to_string(),
        points: points
            .into_iter()
            .map(|(x, rate, [low, high])| (x, low, rate, high))
            .collect(),
    }
}

/// Exact values at each x: points without an interval.
fn exact_points(name: &str, points: Vec<(f64, f64)>) -> ErrorSeries {
    ErrorSeries {
        name: name.to_string(),
        points: points.into_iter().map(|(x, p)| (x, p, p, p)).collect(),
    }
}

/// A sweep's sections.
pub(super) fn sections(report: &SweepReport) -> Result<Vec<Section>, Error> {
    let axis = axis(&report.sweep);
    let byzantine = matches!(
        report.sweep.first().map(|r| &r.settings),
        Some(Settings::Byzantine(_))
    );
    let what = match report.trials {
        Some(n) => format!(
            "{n} trials per value, each rate with its 95% Wilson interval (error bars, or a \
             shaded band past {MAX_ERROR_BARS} values){}",
            if report
                .sweep
                .iter()
                .any(|r| r.statistics.exact_summary.is_some())
            {
                ", and the exact law (no interval)"
            } else {
                ""
            }
        ),
        None => "the exact law".to_string(),
    };
    if byzantine {
        byzantine_sections(report, &axis, &what)
    } else {
        gossip_sections(report, &axis, &what)
    }
}

/// Each row's x with its gossip trials summary and exact law, where present.
type GossipRows<'a> = (
    Vec<(f64, &'a GossipTrialsSummary)>,
    Vec<(f64, &'a GossipExactSummary)>,
);

fn gossip_rows<'a>(report: &'a SweepReport, axis: &Axis) -> GossipRows<'a> {
    let mut trials = Vec::new();
    let mut exact = Vec::new();
    for (row, &x) in report.sweep.iter().zip(&axis.xs) {
        if let Some(TrialsSummary::Gossip(s)) = &row.statistics.trials_summary {
            trials.push((x, s));
        }
        if let Some(ExactSummary::Gossip(e)) = &row.statistics.exact_summary {
            exact.push((x, e));
        }
    }
    (trials, exact)
}

/// The p50, p90 and p99 lines of rounds to converge, named with `suffix`;
/// a value at which nothing converged has no point.
fn percentile_lines<T>(
    rows: &[(f64, &T)],
    suffix: &str,
    pick: impl Fn(&T) -> [Option<u32>; 3],
) -> Vec<Line> {
    ["p50", "p90", "p99"]
        .iter()
        .enumerate()
        .map(|(i, name)| Line {
            name: format!("{name}{suffix}"),
            points: rows
                .iter()
                .filter_map(|&(x, s)| pick(s)[i].map(|r| (x, f64::from(r))))
                .collect(),
        })
        .collect()
}

/// A chart of rounds to converge: three percentile lines.
fn rounds_chart(axis: &Axis, title: String, lines: &[Line]) -> Result<Chart, Error> {
    let high = lines
        .iter()
        .flat_map(|l| &l.points)
        .map(|&(_, y)| y)
        .fold(1.0_f64, f64::max);
    let frame = frame(
        axis,
        title,
        "rounds to converge (rounds)",
        (0.0, high * 1.05),
        &points_of(lines),
        lines.len(),
    );
    charts::line_chart(&frame, lines, &[])
}

/// Rates against the swept value: points with error bars, or for more than
/// [`MAX_ERROR_BARS`] values, lines in bands of their intervals (a series
/// without intervals, the exact law's, is a line alone).
fn rates(frame: &Frame, series: &[ErrorSeries]) -> Result<Chart, Error> {
    if series.iter().all(|s| s.points.len() <= MAX_ERROR_BARS) {
        return charts::error_bars(frame, series);
    }
    let lines: Vec<Line> = series
        .iter()
        .map(|s| Line {
            name: s.name.clone(),
            points: s.points.iter().map(|&(x, _, y, _)| (x, y)).collect(),
        })
        .collect();
    let bands: Vec<Band> = series
        .iter()
        .filter(|s| s.points.iter().any(|&(_, low, _, high)| high > low))
        .map(|s| Band {
            name: format!("{}, 95% interval", s.name),
            points: s
                .points
                .iter()
                .map(|&(x, low, _, high)| (x, low, high))
                .collect(),
        })
        .collect();
    charts::line_chart(frame, &lines, &bands)
}

/// A gossip sweep's sections.
fn gossip_sections(report: &SweepReport, axis: &Axis, what: &str) -> Result<Vec<Section>, Error> {
    let param = report.sweep.first().map_or("", |r| r.param.as_str());
    let (trials, exact) = gossip_rows(report, axis);

    let mut rate_series = Vec::new();
    if !trials.is_empty() {
        rate_series.push(with_interval(
            "convergence rate (trials)",
            trials
                .iter()
                .map(|&(x, s)| (x, s.convergence_rate, s.convergence_rate_ci95))
                .collect(),
        ));
    }
    if !exact.is_empty() {
        rate_series.push(exact_points(
            "P(converged), exact",
            exact
                .iter()
                .map(|&(x, e)| (x, e.convergence_rate))
                .collect(),
        ));
    }
    let rate_frame = frame(
        axis,
        format!("Convergence rate by {param}"),
        "convergence rate (share of runs)",
        (0.0, RATE_TOP),
        &points_with_intervals(&rate_series),
        rate_series.len(),
    );
    let mut convergence = Section::new("Convergence");
    convergence.intro = Some(format!(
        "One point per value of {param}: {what}. Rounds to converge count only the runs \
         that converged; a value at which none did has no point."
    ));
    convergence.charts.push(rates(&rate_frame, &rate_series)?);
    if !trials.is_empty() {
        let lines = percentile_lines(&trials, "", |s| [s.rounds_p50, s.rounds_p90, s.rounds_p99]);
        let title = format!("Rounds to converge by {param}");
        convergence.charts.push(rounds_chart(axis, title, &lines)?);
    }
    if !exact.is_empty() {
        let lines = percentile_lines(&exact, ", exact", |e| {
            [e.rounds_p50, e.rounds_p90, e.rounds_p99]
        });
        let title = if trials.is_empty() {
            format!("Rounds to converge by {param}")
        } else {
            format!("Rounds to converge by {param}, exact law")
        };
        convergence.charts.push(rounds_chart(axis, title, &lines)?);
    }

    let mut lines = Vec::new();
    if !trials.is_empty() {
        lines.push(Line {
            name: "mean final agreement (trials)".to_string(),
            points: trials
                .iter()
                .map(|&(x, s)| (x, s.mean_final_agreement))
                .collect(),
        });
    }
    if !exact.is_empty() {
        lines.push(Line {
            name: "expected final agreement, exact".to_string(),
            points: exact
                .iter()
                .map(|&(x, e)| (x, e.mean_final_agreement))
                .collect(),
        });
    }
    let low = lines
        .iter()
        .flat_map(|l| &l.points)
        .map(|&(_, y)| y)
        .fold(0.5_f64, f64::min);
    let agreement_frame = frame(
        axis,
        format!("Mean final agreement by {param}"),
        "agreement after the last round (share of votes)",
        (if low >= 0.5 { 0.5 } else { 0.0 }, RATE_TOP),
        &points_of(&lines),
        lines.len(),
    );
    let mut agreement = Section::new("Agreement");
    agreement.intro = Some(format!(
        "The agreement ratio after the last round (the share of the most common vote among \
         the votes held), averaged over the runs, per value of {param}."
    ));
    agreement
        .charts
        .push(charts::line_chart(&agreement_frame, &lines, &[])?);
    Ok(vec![convergence, agreement])
}

/// Each row's x with its Byzantine trials summary and exact law, where
/// present.
type ByzantineRows<'a> = (
    Vec<(f64, &'a ByzantineTrialsSummary)>,
    Vec<(f64, &'a ByzantineExactSummary)>,
);

fn byzantine_rows<'a>(report: &'a SweepReport, axis: &Axis) -> ByzantineRows<'a> {
    let mut trials = Vec::new();
    let mut exact = Vec::new();
    for (row, &x) in report.sweep.iter().zip(&axis.xs) {
        if let Some(TrialsSummary::Byzantine(s)) = &row.statistics.trials_summary {
            trials.push((x, s));
        }
        if let Some(ExactSummary::Byzantine(e)) = &row.statistics.exact_summary {
            exact.push((x, e));
        }
    }
    (trials, exact)
}

/// The 95% Wilson interval of a rate over `trials` (the count is the rate
/// times the trials, a whole number up to rounding).
fn interval_of(rate: f64, trials: u64) -> [f64; 2] {
    wilson_interval((rate * trials as f64).round() as u64, trials)
}

/// Two rates (`names`) of each row with their intervals, then the same
/// two of the exact law, on one chart.
fn rates_chart(
    axis: &Axis,
    title: String,
    trials: &[(f64, &ByzantineTrialsSummary)],
    exact: &[(f64, &ByzantineExactSummary)],
    names: [&str; 2],
    of_trials: impl Fn(&ByzantineTrialsSummary) -> [(f64, [f64; 2]); 2],
    of_exact: impl Fn(&ByzantineExactSummary) -> [f64; 2],
) -> Result<Chart, Error> {
    let mut series = Vec::new();
    if !trials.is_empty() {
        for (i, name) in names.iter().enumerate() {
            series.push(with_interval(
                &format!("{name} (trials)"),
                trials
                    .iter()
                    .map(|&(x, s)| {
                        let (rate, ci) = of_trials(s)[i];
                        (x, rate, ci)
                    })
                    .collect(),
            ));
        }
    }
    if !exact.is_empty() {
        for (i, name) in names.iter().enumerate() {
            series.push(exact_points(
                &format!("{name}, exact"),
                exact.iter().map(|&(x, e)| (x, of_exact(e)[i])).collect(),
            ));
        }
    }
    let frame = frame(
        axis,
        title,
        "rate (share of runs)",
        (0.0, RATE_TOP),
        &points_with_intervals(&series),
        series.len(),
    );
    rates(&frame, &series)
}

/// A Byzantine sweep's sections.
fn byzantine_sections(
    report: &SweepReport,
    axis: &Axis,
    what: &str,
) -> Result<Vec<Section>, Error> {
    let param = report.sweep.first().map_or("", |r| r.param.as_str());
    let (trials, exact) = byzantine_rows(report, axis);
    let detection_chart = rates_chart(
        axis,
        format!("Detection errors by {param}"),
        &trials,
        &exact,
        ["missed", "false positive"],
        |s| {
            [
                (s.missed_rate, interval_of(s.missed_rate, s.trials)),
                (
                    s.false_positive_rate,
                    interval_of(s.false_positive_rate, s.trials),
                ),
            ]
        },
        |e| [e.missed_rate, e.false_positive_rate],
    )?;
    let safety_chart = rates_chart(
        axis,
        format!("Safety by {param}"),
        &trials,
        &exact,
        ["not safe", "against honest majority"],
        |s| {
            [
                (s.byzantine_unsafe_rate, s.byzantine_unsafe_rate_ci95),
                (
                    s.against_honest_majority_rate,
                    s.against_honest_majority_rate_ci95,
                ),
            ]
        },
        |e| [e.byzantine_unsafe_rate, e.against_honest_majority_rate],
    )?;
    let mut detection = Section::new("Detection");
    detection.intro = Some(format!(
        "One point per value of {param}: {what}. Missed: some faulty agent voted undetected; \
         false positive: an agent not faulty was accused."
    ));
    detection.charts.push(detection_chart);
    let mut safety = Section::new("Safety");
    safety.intro = Some(
        "Not safe: the protocol could not claim safety (fewer than 2f+1 tallied votes for the \
         decision, or more than f agents detected). Against honest majority: the decision went \
         against the majority of the agents declared honest."
            .to_string(),
    );
    safety.charts.push(safety_chart);
    Ok(vec![detection, safety])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Statistics;
    use crate::scenario::GossipConfig;

    fn rows(param: &str, values: &[&str]) -> Vec<SweepRow> {
        values
            .iter()
            .map(|v| SweepRow {
                param: param.to_string(),
                value: v.to_string(),
                agents: 20,
                settings: Settings::Gossip(GossipConfig::default()),
                statistics: Statistics::default(),
            })
            .collect()
    }

    #[test]
    fn the_axis_is_the_values_as_numbers_with_the_unit() {
        let a = axis(&rows("fanout", &["2", "3", "6"]));
        assert_eq!(a.label, "fanout (peers per round)");
        assert_eq!(a.xs, [2.0, 3.0, 6.0]);
        assert!(a.whole);
        assert_eq!(a.range, 1.5..6.5);
        let loss = axis(&rows("loss", &["0", "0.1", "0.3"]));
        assert_eq!(loss.label, "loss (probability)");
        assert!(!loss.whole);
        assert!(loss.range.start < 0.0 && loss.range.end > 0.3);
        let one = axis(&rows("loss", &["0.2"]));
        assert!(one.range.start < 0.2 && one.range.end > 0.2);
    }

    #[test]
    fn values_that_are_not_numbers_are_placed_in_order() {
        let a = axis(&rows("mode", &["fast", "slow"]));
        assert_eq!(a.label, "mode (value number, in sweep order)");
        assert_eq!(a.xs, [1.0, 2.0]);
    }

    #[test]
    fn missed_and_false_positive_intervals_come_from_their_counts() {
        assert_eq!(interval_of(0.25, 100), wilson_interval(25, 100));
        assert_eq!(interval_of(0.0, 10), [0.0, wilson_interval(0, 10)[1]]);
    }
}

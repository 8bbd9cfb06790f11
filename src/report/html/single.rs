//! The sections of a single consensus run: gossip (agreement against the
//! convergence threshold, votes, lost exchanges, partitions shaded) and
//! Byzantine (votes per round, the counts against the 2f+1 line, the
//! detected agents, the round each was detected in and why, detections per
//! round). Long runs are drawn in bins of rounds, so a
//! chart has at most [`MAX_BARS`] bars or points whatever the round count.

use std::ops::Range;

use maud::html;

use super::Section;
use super::charts::{self, Frame, Layer, LegendAt, Line, Mark, Rule, Span};
use crate::consensus::VoteCounts;
use crate::consensus::byzantine::{ByzantineOutcome, ProposalResult};
use crate::consensus::gossip::GossipOutcome;
use crate::error::Error;
use crate::report::ProposalSequence;

/// Most bars (or line points) a per-round chart draws; longer runs are
/// drawn in equal bins of rounds, each the bin's mean.
const MAX_BARS: usize = 120;

/// Room above the highest bar for each legend entry, as a share of it.
const LEGEND_ROOM: f64 = 0.15;

/// Rounds `1..=rounds` cut into at most [`MAX_BARS`] equal bins (the last
/// may be shorter), as index ranges into a per-round history.
fn bins(rounds: usize) -> Vec<Range<usize>> {
    let width = rounds.div_ceil(MAX_BARS).max(1);
    (0..rounds)
        .step_by(width)
        .map(|start| start..(start + width).min(rounds))
        .collect()
}

/// The x of a bin (its middle round, rounds counted from 1) and the mean
/// of `value` over it.
pub(super) fn binned<T>(history: &[T], value: impl Fn(&T) -> f64) -> Vec<(f64, f64)> {
    bins(history.len())
        .into_iter()
        .map(|bin| {
            let x = (bin.start + 1 + bin.end) as f64 / 2.0;
            let mean = history[bin.clone()].iter().map(&value).sum::<f64>() / bin.len() as f64;
            (x, mean)
        })
        .collect()
}

/// The y axis label of a per-round count, saying when bars are bin means.
pub(super) fn per_round(unit: &str, history: usize) -> String {
    let width = history.div_ceil(MAX_BARS).max(1);
    if width == 1 {
        unit.to_string()
    } else {
        format!("{unit} (mean of {width} rounds)")
    }
}

/// The bar width of a per-round chart, in rounds.
pub(super) fn bar_width(history: usize) -> f64 {
    history.div_ceil(MAX_BARS).max(1) as f64 * 0.8
}

/// The x range of a per-round chart.
pub(super) fn rounds_range(rounds: usize) -> Range<f64> {
    0.5..rounds.max(1) as f64 + 0.5
}

/// The highest of `values` (at least 1), with room above for a legend of
/// `entries` lines.
pub(super) fn top(values: impl Iterator<Item = f64>, entries: usize) -> f64 {
    values.fold(1.0_f64, f64::max) * (1.0 + LEGEND_ROOM * entries as f64)
}

/// The agreement of a vote count (the share of the most common vote among
/// non-abstaining ones), as the run computes it for rounds.
fn agreement(counts: &VoteCounts) -> f64 {
    let voting = counts.votes_for + counts.votes_against;
    if voting == 0 {
        0.0
    } else {
        counts.votes_for.max(counts.votes_against) as f64 / voting as f64
    }
}

/// A gossip single run's sections.
pub(super) fn gossip(outcome: &GossipOutcome) -> Result<Vec<Section>, Error> {
    let meta = &outcome.metadata;
    let history = &meta.round_history;
    let n = history.len();
    let spans: Vec<Span> = meta
        .partitions
        .iter()
        .map(|p| Span {
            name: "partitioned".to_string(),
            from: f64::from(p.from) - 0.5,
            until: f64::from(p.until.min(meta.rounds_completed)) + 0.5,
        })
        .filter(|s| s.from < s.until)
        .collect();

    let mut frame = Frame::new(
        "Agreement per round",
        "round",
        "agreement (share of votes)",
        0.0..n.max(1) as f64 + 0.5,
        0.0..1.05,
    );
    frame.rules.push(Rule {
        name: format!("convergence threshold {}", meta.convergence_threshold),
        y: meta.convergence_threshold,
    });
    if let Some(round) = meta.converged_round {
        frame.marks.push(Mark {
            name: format!("converged: round {round}"),
            x: f64::from(round),
        });
    }
    frame.spans = spans.clone();
    frame.legend = LegendAt::LowerRight;
    frame.whole_x = true;
    let mut points = vec![(0.0, agreement(&meta.initial_distribution))];
    points.extend(binned(history, |r| r.agreement_ratio));
    let agreement_chart = charts::line_chart(
        &frame,
        &[Line {
            name: "agreement".to_string(),
            points,
        }],
        &[],
    )?;

    let counts = |pick: fn(&VoteCounts) -> u64| binned(history, move |r| pick(&r.counts) as f64);
    let layers = [
        Layer {
            name: "approve".to_string(),
            bars: counts(|c| c.votes_for),
        },
        Layer {
            name: "reject".to_string(),
            bars: counts(|c| c.votes_against),
        },
        Layer {
            name: "abstain".to_string(),
            bars: counts(|c| c.abstain),
        },
    ];
    let shaded = usize::from(!spans.is_empty());
    let total = top(
        history
            .iter()
            .map(|r| (r.counts.votes_for + r.counts.votes_against + r.counts.abstain) as f64),
        layers.len() + shaded,
    );
    let mut frame = Frame::new(
        "Votes held per round",
        "round",
        per_round("agents", n),
        rounds_range(n),
        0.0..total,
    );
    frame.spans = spans.clone();
    frame.whole_x = true;
    let votes_chart = charts::stacked_bars(&frame, bar_width(n), &layers)?;

    let mut frame = Frame::new(
        "Lost exchanges per round",
        "round",
        per_round("exchanges", n),
        rounds_range(n),
        0.0..top(history.iter().map(|r| r.lost_exchanges as f64), 1 + shaded),
    );
    frame.spans = spans;
    frame.whole_x = true;
    let lost = Layer {
        name: "lost exchanges".to_string(),
        bars: binned(history, |r| r.lost_exchanges as f64),
    };
    let lost_chart = charts::bars(&frame, bar_width(n), &lost)?;

    let mut convergence = Section::new("Convergence");
    convergence.intro = Some(match meta.converged_round {
        Some(round) => format!(
            "Decision: {}. Converged in round {round} of {} (agreement {:.3}, threshold {}).",
            outcome.decision.name(),
            meta.max_rounds,
            meta.agreement_ratio,
            meta.convergence_threshold
        ),
        None => format!(
            "Decision: {}. Did not converge in {} rounds (agreement {:.3}, threshold {}).",
            outcome.decision.name(),
            meta.rounds_completed,
            meta.agreement_ratio,
            meta.convergence_threshold
        ),
    });
    convergence.charts = vec![agreement_chart, votes_chart];
    let mut network = Section::new("Network");
    network.intro = Some(format!(
        "Exchanges that failed: lost (loss {}), with a silent peer, or across a partition{}.",
        meta.loss,
        if meta.partitions.is_empty() {
            ""
        } else {
            " (partitioned rounds shaded)"
        }
    ));
    network.charts = vec![lost_chart];
    Ok(vec![convergence, network])
}

/// A Byzantine single run's sections; `prefix` starts each heading (a
/// proposal's number in a sequence).
fn byzantine_sections(outcome: &ByzantineOutcome, prefix: &str) -> Result<Vec<Section>, Error> {
    let meta = &outcome.metadata;
    let history = &meta.round_history;
    let n = history.len();
    let counts = |pick: fn(&crate::consensus::byzantine::ByzantineRound) -> u64| {
        binned(history, move |r| pick(r) as f64)
    };
    let layers = [
        Layer {
            name: "for".to_string(),
            bars: counts(|r| r.counts.votes_for),
        },
        Layer {
            name: "against".to_string(),
            bars: counts(|r| r.counts.votes_against),
        },
        Layer {
            name: "abstain".to_string(),
            bars: counts(|r| r.counts.abstain),
        },
        Layer {
            name: "equivocated".to_string(),
            bars: counts(|r| r.equivocations),
        },
        Layer {
            name: "silent".to_string(),
            bars: counts(|r| r.silent),
        },
    ];
    let total = top(
        std::iter::once(meta.total_participants as f64),
        layers.len(),
    );
    let mut frame = Frame::new(
        format!("{prefix}Votes cast per round"),
        "round",
        per_round("agents", n),
        rounds_range(n),
        0.0..total,
    );
    frame.whole_x = true;
    let votes_chart = charts::stacked_bars(&frame, bar_width(n), &layers)?;

    let threshold = meta.agreement_threshold as f64;
    let mut frame = Frame::new(
        format!("{prefix}Votes for and against per round, against 2f+1"),
        "round",
        per_round("votes", n),
        rounds_range(n),
        0.0..top(
            std::iter::once(threshold).chain(
                history
                    .iter()
                    .map(|r| r.counts.votes_for.max(r.counts.votes_against) as f64),
            ),
            3,
        ),
    );
    frame.whole_x = true;
    frame.rules.push(Rule {
        name: format!("2f+1 = {}", meta.agreement_threshold),
        y: threshold,
    });
    let lines = [
        Line {
            name: "for".to_string(),
            points: counts(|r| r.counts.votes_for),
        },
        Line {
            name: "against".to_string(),
            points: counts(|r| r.counts.votes_against),
        },
    ];
    let tally_chart = charts::line_chart(&frame, &lines, &[])?;

    let mut votes = Section::new(format!("{prefix}Votes"));
    votes.intro = Some(format!(
        "Decision: {}. Tally (final-round votes of agents neither detected nor silent): {} for, \
         {} against, {} abstaining; 2f+1 = {} of {} agents (f = {}).{}",
        outcome.decision.name(),
        outcome.counts.votes_for,
        outcome.counts.votes_against,
        outcome.counts.abstain,
        meta.agreement_threshold,
        meta.total_participants,
        meta.fault_tolerance,
        meta.reason
            .as_deref()
            .map_or(String::new(), |r| format!(" Not safe: {r}."))
    ));
    votes.charts = vec![votes_chart, tally_chart];

    let mut detected = Section::new(format!("{prefix}Detected agents"));
    detected.intro = Some(format!(
        "{} agents detected after {} rounds: an agent is detected in the first round its vote \
         differs from its first one (changed vote) or relays show it sent different votes \
         (equivocated).",
        meta.malicious_detected, meta.num_rounds
    ));
    let why = |id: &String| match (
        meta.vote_changers.contains(id),
        meta.equivocators.contains(id),
    ) {
        (true, true) => "changed vote, equivocated",
        (true, false) => "changed vote",
        _ => "equivocated",
    };
    let mut frame = Frame::new(
        format!("{prefix}Agents detected per round"),
        "round",
        per_round("agents first detected", n),
        rounds_range(n),
        0.0..top(history.iter().map(|r| r.detected as f64), 1),
    );
    frame.whole_x = true;
    let detections = Layer {
        name: "detected".to_string(),
        bars: counts(|r| r.detected),
    };
    detected.charts = vec![charts::bars(&frame, bar_width(n), &detections)?];
    let equivocation_rounds: Vec<u32> = history
        .iter()
        .filter(|r| r.equivocations > 0)
        .map(|r| r.round)
        .collect();
    detected.body = html! {
        @if !meta.malicious_agents.is_empty() {
            table {
                thead { tr { th { "agent" } th { "round" } th { "why" } } }
                tbody {
                    @for (id, round) in meta.malicious_agents.iter().zip(&meta.detection_rounds) {
                        tr { td { (id) } td { (round) } td { (why(id)) } }
                    }
                }
            }
        }
        @if meta.malicious_agents.len() as u64 != meta.malicious_detected {
            p { (meta.malicious_detected - meta.malicious_agents.len() as u64) " more not listed (--list-limit)." }
        }
        @if !equivocation_rounds.is_empty() {
            p { "Rounds with equivocations: " (rounds_text(&equivocation_rounds)) "." }
        }
    };
    Ok(vec![votes, detected])
}

/// Round numbers as a short list (`1, 2, 5`), cut after 20.
fn rounds_text(rounds: &[u32]) -> String {
    let shown: Vec<String> = rounds.iter().take(20).map(u32::to_string).collect();
    let more = rounds.len().saturating_sub(20);
    if more == 0 {
        shown.join(", ")
    } else {
        format!("{} and {more} more", shown.join(", "))
    }
}

/// A Byzantine single run's sections.
pub(super) fn byzantine(outcome: &ByzantineOutcome) -> Result<Vec<Section>, Error> {
    byzantine_sections(outcome, "")
}

/// A proposal sequence's sections: each decided proposal's, in order, and a
/// line for each skipped one.
pub(super) fn sequence(seq: &ProposalSequence) -> Result<Vec<Section>, Error> {
    let mut sections = Vec::new();
    for (i, entry) in seq.proposals.iter().enumerate() {
        let prefix = format!("Proposal {}: ", i + 1);
        match &entry.result {
            ProposalResult::Decided(outcome) => {
                sections.extend(byzantine_sections(outcome, &prefix)?);
            }
            ProposalResult::Skipped { reason, .. } => {
                let mut skipped = Section::new(format!("{prefix}skipped"));
                skipped.intro = Some(format!("Not voted on: {reason}."));
                sections.push(skipped);
            }
        }
    }
    Ok(sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_runs_are_drawn_in_at_most_max_bars_bins() {
        assert_eq!(bins(3), vec![0..1, 1..2, 2..3]);
        let many = bins(100_000);
        assert!(many.len() <= MAX_BARS);
        assert_eq!(many.last().unwrap().end, 100_000);
        let values: Vec<f64> = (1..=240).map(f64::from).collect();
        let means = binned(&values, |v| *v);
        assert_eq!(means.len(), 120);
        assert_eq!(means[0], (1.5, 1.5));
        assert_eq!(per_round("agents", 240), "agents (mean of 2 rounds)");
        assert_eq!(per_round("agents", 5), "agents");
    }
}

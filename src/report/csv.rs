//! The per-round history as CSV: one row per trial and round, with the swept
//! value first when there is one, for plotting elsewhere.

use super::{Report, TrialRuns};
use crate::consensus::byzantine::ByzantineOutcome;
use crate::consensus::gossip::GossipOutcome;

const GOSSIP_COLUMNS: [&str; 9] = [
    "trial",
    "round",
    "agreement_ratio",
    "converged",
    "votes_for",
    "votes_against",
    "abstain",
    "lost_exchanges",
    "partitioned",
];
const BYZANTINE_COLUMNS: [&str; 7] = [
    "trial",
    "round",
    "votes_for",
    "votes_against",
    "abstain",
    "silent",
    "equivocations",
];

/// The CSV text, or `None` for reports without a per-round history (or
/// whose trial outcomes were not kept).
pub(super) fn render(report: &Report) -> Option<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    match report {
        Report::Byzantine(r) => {
            out.write_record(BYZANTINE_COLUMNS).ok()?;
            byzantine_rows(&mut out, &[], 0, &r.outcome)?;
        }
        Report::Gossip(r) => {
            out.write_record(GOSSIP_COLUMNS).ok()?;
            gossip_rows(&mut out, &[], 0, &r.outcome)?;
        }
        Report::Trials(r) => {
            write_header(&mut out, &[], r.runs.as_ref()?)?;
            trial_rows(&mut out, &[], r.runs.as_ref()?)?;
        }
        Report::Sweep(r) => {
            let first = r.sweep.first()?;
            write_header(&mut out, &["param", "value"], first.runs.as_ref()?)?;
            for row in &r.sweep {
                trial_rows(&mut out, &[&row.param, &row.value], row.runs.as_ref()?)?;
            }
        }
        Report::ByzantineSequence(_)
        | Report::Resolve(_)
        | Report::Scenarios(_)
        | Report::Check(_)
        | Report::Text(_) => return None,
    }
    String::from_utf8(out.into_inner().ok()?).ok()
}

type Out = csv::Writer<Vec<u8>>;

fn write_header(out: &mut Out, prefix: &[&str], runs: &TrialRuns) -> Option<()> {
    let columns: &[&str] = match runs {
        TrialRuns::Byzantine(_) => &BYZANTINE_COLUMNS,
        TrialRuns::Gossip(_) => &GOSSIP_COLUMNS,
    };
    out.write_record(prefix.iter().chain(columns)).ok()
}

fn trial_rows(out: &mut Out, prefix: &[&str], runs: &TrialRuns) -> Option<()> {
    match runs {
        TrialRuns::Byzantine(outcomes) => {
            for (trial, outcome) in outcomes.iter().enumerate() {
                byzantine_rows(out, prefix, trial, outcome)?;
            }
        }
        TrialRuns::Gossip(outcomes) => {
            for (trial, outcome) in outcomes.iter().enumerate() {
                gossip_rows(out, prefix, trial, outcome)?;
            }
        }
    }
    Some(())
}

fn gossip_rows(
    out: &mut Out,
    prefix: &[&str],
    trial: usize,
    outcome: &GossipOutcome,
) -> Option<()> {
    for r in &outcome.metadata.round_history {
        let fields = [
            trial.to_string(),
            r.round.to_string(),
            r.agreement_ratio.to_string(),
            r.converged.to_string(),
            r.counts.votes_for.to_string(),
            r.counts.votes_against.to_string(),
            r.counts.abstain.to_string(),
            r.lost_exchanges.to_string(),
            r.partitioned.to_string(),
        ];
        out.write_record(prefix.iter().map(|p| p.to_string()).chain(fields))
            .ok()?;
    }
    Some(())
}

fn byzantine_rows(
    out: &mut Out,
    prefix: &[&str],
    trial: usize,
    outcome: &ByzantineOutcome,
) -> Option<()> {
    for r in &outcome.metadata.round_history {
        let fields = [
            trial.to_string(),
            r.round.to_string(),
            r.counts.votes_for.to_string(),
            r.counts.votes_against.to_string(),
            r.counts.abstain.to_string(),
            r.silent.to_string(),
            r.equivocations.to_string(),
        ];
        out.write_record(prefix.iter().map(|p| p.to_string()).chain(fields))
            .ok()?;
    }
    Some(())
}

//! The per-round history as CSV: one row per trial and round, with the swept
//! value first when there is one, for plotting elsewhere. The first line is a
//! `#` comment saying what made the rows (moai version, stream, scenario,
//! seed, overrides and settings), as the JSON output records them.

use super::{ConsensusReport, MadeBy, Overrides, Report, Settings, TrialRuns};
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
    let mut out;
    match report {
        Report::Byzantine(r) => {
            let trial = r.trial.unwrap_or(0);
            out = single_writer(r);
            out.write_record(BYZANTINE_COLUMNS).ok()?;
            byzantine_rows(&mut out, &[], trial as usize, &r.outcome)?;
        }
        Report::Gossip(r) => {
            let trial = r.trial.unwrap_or(0);
            out = single_writer(r);
            out.write_record(GOSSIP_COLUMNS).ok()?;
            gossip_rows(&mut out, &[], trial as usize, &r.outcome)?;
        }
        Report::Trials(r) => {
            let trials = match r.statistics.trials_summary.as_ref()? {
                super::TrialsSummary::Byzantine(s) => s.trials,
                super::TrialsSummary::Gossip(s) => s.trials,
            };
            let note = format!(", trials {trials}");
            out = writer(
                r.made_by,
                &r.scenario,
                r.seed,
                &note,
                &r.overrides,
                ("", &r.settings),
            );
            write_header(&mut out, &[], r.statistics.runs.as_ref()?)?;
            trial_rows(&mut out, &[], r.statistics.runs.as_ref()?)?;
        }
        Report::Sweep(r) => {
            let first = r.sweep.first()?;
            let values: Vec<&str> = r.sweep.iter().map(|row| row.value.as_str()).collect();
            let note = format!(
                ", trials {}, sweep {}={}",
                r.trials?,
                first.param,
                values.join(",")
            );
            let at = format!(" at {}={}", first.param, first.value);
            out = writer(
                r.made_by,
                &r.scenario,
                r.seed,
                &note,
                &r.overrides,
                (&at, &first.settings),
            );
            write_header(
                &mut out,
                &["param", "value"],
                first.statistics.runs.as_ref()?,
            )?;
            for row in &r.sweep {
                trial_rows(
                    &mut out,
                    &[&row.param, &row.value],
                    row.statistics.runs.as_ref()?,
                )?;
            }
        }
        Report::ByzantineSequence(_)
        | Report::Resolve(_)
        | Report::Comparison(_)
        | Report::Scenarios(_)
        | Report::Check(_)
        | Report::Text(_)
        | Report::Partial(_)
        | Report::Explanation(_) => return None,
    }
    String::from_utf8(out.into_inner().ok()?).ok()
}

type Out = csv::Writer<Vec<u8>>;

/// The writer of one run's history, [`writer`] for its report.
fn single_writer<O>(r: &ConsensusReport<O>) -> Out {
    writer(
        r.made_by,
        &r.scenario,
        r.seed,
        &trial_note(r.trial),
        &r.overrides,
        ("", &r.settings),
    )
}

/// A CSV writer whose text starts with the comment line
/// `# moai VERSION, stream N, scenario NAME, seed S{note}, overrides {JSON},
/// settings{at} {JSON}` (`at` says which sweep value the settings are of).
fn writer(
    made_by: MadeBy,
    scenario: &str,
    seed: u64,
    note: &str,
    overrides: &Overrides,
    (at, settings): (&str, &Settings),
) -> Out {
    let line = format!(
        "# moai {}, stream {}, scenario {}, seed {seed}{note}, overrides {}, settings{at} {}\n",
        made_by.moai_version,
        made_by.stream,
        crate::error::one_line(scenario),
        compact(overrides),
        compact(settings),
    );
    csv::Writer::from_writer(line.into_bytes())
}

/// `value` as JSON on one line.
fn compact<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("settings and overrides are plain data")
}

/// `, trial I` for `--trial I` (trial 0 is the plain run and says nothing).
fn trial_note(trial: Option<u64>) -> String {
    trial.map_or_else(String::new, |t| format!(", trial {t}"))
}

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

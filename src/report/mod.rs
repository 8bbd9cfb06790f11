//! One result model for every command, rendered as tables or as JSON.
//!
//! The report types are plain data and are the JSON wire format: field names
//! and order here are what scripts read. Rendering never computes results.

mod csv;
pub mod html;
mod junit;
mod limit;
mod sparkline;
mod table;

pub use limit::limit_lists;

pub use html::render_html;
pub use junit::junit;

use std::collections::HashSet;

use indexmap::IndexMap;
use serde::Serialize;

use crate::consensus::byzantine::{ByzantineOutcome, ProposalResult};
use crate::consensus::gossip::GossipOutcome;
use crate::error::Error;
use crate::exact::ExactSummary;
use crate::exact::compare::{self, ZScores};
use crate::montecarlo::{ByzantineTrialsSummary, GossipTrialsSummary};
use crate::resolve::Resolution;
use crate::resolve::compare::{KeyComparison, StrategySummary};
use crate::resolve::explain::Explanation;
use crate::scenario::{Algorithm, ByzantineConfig, Decision, GossipConfig, State, Strategy, Swarm};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Human-readable tables.
    #[default]
    Table,
    /// One JSON document.
    Json,
    /// The per-round history as CSV, one row per trial and round.
    Csv,
}

/// The moai that made a result: with the scenario, the seed and the
/// overrides, what it takes to make the same result again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MadeBy {
    /// moai's version.
    pub moai_version: &'static str,
    /// The version of results for a scenario and seed ([`crate::rng::STREAM_VERSION`]).
    pub stream: u32,
}

impl MadeBy {
    /// This build of moai.
    pub const CURRENT: MadeBy = MadeBy {
        moai_version: env!("CARGO_PKG_VERSION"),
        stream: crate::rng::STREAM_VERSION,
    };
}

impl Default for MadeBy {
    fn default() -> Self {
        MadeBy::CURRENT
    }
}

/// The settings flags changed, by name (the flag without `--`, with `_` for
/// `-`, as `--sweep` names them) with the value each set, in order.
pub type Overrides = IndexMap<String, serde_json::Value>;

/// A consensus run: which scenario, seed and proposal, and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct ConsensusReport<O> {
    /// The moai that ran it.
    #[serde(flatten)]
    pub made_by: MadeBy,
    /// Scenario name.
    pub scenario: String,
    /// Algorithm that ran.
    pub algorithm: Algorithm,
    /// Seed the generator was made from.
    pub seed: u64,
    /// `--trial I`: the run is trial I of the seed's trials (its stream I).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial: Option<u64>,
    /// The scenario's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The settings flags changed, with their values.
    pub overrides: Overrides,
    /// The algorithm's settings after flags.
    pub settings: Settings,
    /// The scenario's `[proposal]` table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposal: Option<serde_json::Map<String, serde_json::Value>>,
    /// Everyone who took part, in scenario order (cut at `--list-limit`).
    pub participants: Vec<String>,
    /// What the algorithm decided and found.
    #[serde(flatten)]
    pub outcome: O,
    /// Lists of agent ids cut by `--list-limit`: JSON path -> ids left out.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub omitted: IndexMap<String, u64>,
}

/// Several Byzantine proposals voted on in order.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalSequence {
    /// Each proposal with its result, in order.
    pub proposals: Vec<ProposalEntry>,
    /// Every agent detected by any proposal.
    pub blacklist: Vec<String>,
    /// The agents left for a next proposal, in scenario order.
    pub healthy_agents: Vec<String>,
}

impl ProposalSequence {
    /// Pairs each proposal with its result; the healthy agents are those of
    /// `agents` that no proposal blacklisted.
    pub fn new(
        proposals: &[serde_json::Map<String, serde_json::Value>],
        results: Vec<ProposalResult>,
        blacklist: Vec<String>,
        agents: &Swarm,
    ) -> Self {
        let blacklisted: HashSet<&str> = blacklist.iter().map(String::as_str).collect();
        let healthy_agents = agents
            .ids()
            .filter(|id| !blacklisted.contains(id.as_str()))
            .collect();
        ProposalSequence {
            proposals: proposals
                .iter()
                .cloned()
                .zip(results)
                .map(|(proposal, result)| ProposalEntry { proposal, result })
                .collect(),
            blacklist,
            healthy_agents,
        }
    }
}

/// One proposal of a sequence and its result.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalEntry {
    /// The proposal's table from `[[proposals]]`.
    pub proposal: serde_json::Map<String, serde_json::Value>,
    /// Decided (with the full outcome) or skipped (with the reason).
    #[serde(flatten)]
    pub result: ProposalResult,
}

/// The settings a batch of trials ran with.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Settings {
    /// `[byzantine]` after flags.
    Byzantine(ByzantineConfig),
    /// `[gossip]` after flags.
    Gossip(GossipConfig),
}

/// The statistics of a batch of trials.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum TrialsSummary {
    /// Byzantine trials.
    Byzantine(ByzantineTrialsSummary),
    /// Gossip trials.
    Gossip(GossipTrialsSummary),
}

/// The outcome of every trial, kept only when the history is written as CSV.
#[derive(Debug, Clone)]
pub enum TrialRuns {
    /// Byzantine trials in order.
    Byzantine(Vec<ByzantineOutcome>),
    /// Gossip trials in order.
    Gossip(Vec<GossipOutcome>),
}

/// What a batch found: its trials' statistics and outcomes (`--trials`),
/// its exact law (`--exact`) and, with both, the trials' z-scores against
/// the law.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Statistics {
    /// The statistics of the trials (none with `--exact` alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trials_summary: Option<TrialsSummary>,
    /// `--exact`: the exact law.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact_summary: Option<ExactSummary>,
    /// `--exact` with `--trials`: each trial figure's z-score against the exact law.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub z_scores: Option<ZScores>,
    /// Every trial's outcome, for the CSV history.
    #[serde(skip)]
    pub runs: Option<TrialRuns>,
}

impl Statistics {
    /// What `trials` (their summary and kept outcomes) and `exact` found
    /// together.
    pub fn of(
        trials: Option<(TrialsSummary, Option<TrialRuns>)>,
        exact: Option<ExactSummary>,
    ) -> Self {
        let z_scores = match (&trials, &exact) {
            (Some((TrialsSummary::Gossip(t), _)), Some(ExactSummary::Gossip(e))) => {
                Some(compare::gossip(t, e))
            }
            (Some((TrialsSummary::Byzantine(t), _)), Some(ExactSummary::Byzantine(e))) => {
                Some(compare::byzantine(t, e))
            }
            _ => None,
        };
        let (trials_summary, runs) = trials.map_or((None, None), |(s, r)| (Some(s), r));
        Statistics {
            trials_summary,
            exact_summary: exact,
            z_scores,
            runs,
        }
    }
}

/// `--trials N`: statistics over N independent runs.
#[derive(Debug, Clone, Serialize)]
pub struct TrialsReport {
    /// The moai that ran them.
    #[serde(flatten)]
    pub made_by: MadeBy,
    /// Scenario name.
    pub scenario: String,
    /// Algorithm that ran.
    pub algorithm: Algorithm,
    /// Seed; trial i used the seed's random stream i.
    pub seed: u64,
    /// The scenario's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The settings flags changed, with their values.
    pub overrides: Overrides,
    /// Participants per trial.
    pub agents: u64,
    /// The algorithm's settings after flags.
    pub settings: Settings,
    /// What the trials and the exact law found.
    #[serde(flatten)]
    pub statistics: Statistics,
}

/// One value of a sweep and its statistics.
#[derive(Debug, Clone, Serialize)]
pub struct SweepRow {
    /// The setting swept.
    pub param: String,
    /// This row's value, as given.
    pub value: String,
    /// Participants per trial at this value.
    pub agents: u64,
    /// The algorithm's settings at this value.
    pub settings: Settings,
    /// What the trials and the exact law found at this value.
    #[serde(flatten)]
    pub statistics: Statistics,
}

/// `--sweep`: one batch of trials per value of a setting.
#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    /// The moai that ran them.
    #[serde(flatten)]
    pub made_by: MadeBy,
    /// Scenario name.
    pub scenario: String,
    /// Algorithm that ran.
    pub algorithm: Algorithm,
    /// Seed; every value reuses the same streams (common random numbers).
    pub seed: u64,
    /// The scenario's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The settings flags other than the swept one changed, with their values.
    pub overrides: Overrides,
    /// Trials per value (none with `--exact` alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trials: Option<u64>,
    /// One row per value.
    pub sweep: Vec<SweepRow>,
}

/// Whether scenarios were run against expectations or only checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckMode {
    /// `moai check`: run and compare with `[expect]`.
    Check,
    /// `moai validate`: parse and validate only.
    Validate,
}

/// How one scenario fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// Ran (or validated) and met every expectation.
    Pass,
    /// Ran, but an expectation failed.
    Fail,
    /// Could not be read, parsed, validated or run.
    Error,
    /// Found in a directory but not a scenario (a `*.toml` file without an
    /// `algorithm` key); not run.
    Skipped,
}

/// One scenario file's result.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The file, as found.
    pub file: String,
    /// Scenario name, when it parsed.
    pub scenario: Option<String>,
    /// Algorithm, when it parsed.
    pub algorithm: Option<Algorithm>,
    /// Pass, fail or error.
    pub status: CheckStatus,
    /// Whether the scenario has an `[expect]` table.
    pub expectations: bool,
    /// Expectations that did not hold.
    pub mismatches: Vec<Mismatch>,
    /// Why it could not run, or why it was skipped.
    pub error: Option<String>,
    /// How long reading and running it took (JUnit only: JSON and tables stay
    /// the same from run to run).
    #[serde(skip)]
    pub time: std::time::Duration,
}

/// `moai check` or `moai validate` over many files.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The moai that checked.
    #[serde(flatten)]
    pub made_by: MadeBy,
    /// Check or validate.
    pub mode: CheckMode,
    /// Scenarios that passed.
    pub passed: u64,
    /// Scenarios that ran but missed an expectation.
    pub failed: u64,
    /// Scenarios that could not be read, parsed, validated or run.
    pub errors: u64,
    /// `*.toml` files found in directories that are not scenarios.
    pub skipped: u64,
    /// One entry per file, in the order found.
    pub results: Vec<CheckResult>,
}

/// A conflict-resolution run.
#[derive(Debug, Clone, Serialize)]
pub struct ResolveReport {
    /// The moai that ran it.
    #[serde(flatten)]
    pub made_by: MadeBy,
    /// Scenario name.
    pub scenario: String,
    /// Always `resolve`.
    pub algorithm: Algorithm,
    /// The strategy asked for (a resolution may name the one hybrid routed it to).
    pub strategy: Strategy,
    /// The scenario's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// One resolution per state, in file order.
    pub resolutions: Vec<Resolution>,
    /// Lists of agent ids cut by `--list-limit`: JSON path -> ids left out.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub omitted: IndexMap<String, u64>,
}

/// `moai resolve --explain KEY`: why one key resolved as it did.
#[derive(Debug, Clone, Serialize)]
pub struct ExplanationReport {
    /// The moai that ran it.
    #[serde(flatten)]
    pub made_by: MadeBy,
    /// Scenario name.
    pub scenario: String,
    /// Always `resolve`.
    pub algorithm: Algorithm,
    /// The strategy asked for (the explanation names the one that decided).
    pub strategy: Strategy,
    /// The scenario's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The key's explanation.
    pub explanation: Explanation,
    /// The key's resolution, which the explanation reads (for the HTML
    /// report's causality graph; not printed).
    #[serde(skip)]
    pub resolution: Resolution,
}

/// `moai resolve --compare`: every strategy on every key, with the writes
/// each loses.
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonReport {
    /// The moai that ran it.
    #[serde(flatten)]
    pub made_by: MadeBy,
    /// Scenario name.
    pub scenario: String,
    /// Always `resolve`.
    pub algorithm: Algorithm,
    /// The scenario's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// One entry per state, in file order.
    pub comparison: Vec<KeyComparison>,
    /// One entry per strategy.
    pub summary: Vec<StrategySummary>,
    /// The states compared, in file order (for the HTML report's causality
    /// graphs; not printed).
    #[serde(skip)]
    pub states: Vec<State>,
    /// Lists of versions cut by `--list-limit`: JSON path -> versions left out.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub omitted: IndexMap<String, u64>,
}

/// One line of `moai scenarios`.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioEntry {
    /// Scenario name.
    pub name: String,
    /// Algorithm the scenario names.
    pub algorithm: Algorithm,
    /// Where the same file lives in the repository.
    pub file: String,
    /// What the scenario shows.
    pub description: String,
}

/// Everything moai can print.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Report {
    /// A Byzantine vote.
    Byzantine(Box<ConsensusReport<ByzantineOutcome>>),
    /// Several Byzantine proposals in order.
    ByzantineSequence(Box<ConsensusReport<ProposalSequence>>),
    /// A gossip run.
    Gossip(Box<ConsensusReport<GossipOutcome>>),
    /// Statistics over many trials.
    Trials(Box<TrialsReport>),
    /// Statistics per value of a setting.
    Sweep(Box<SweepReport>),
    /// A conflict resolution.
    Resolve(ResolveReport),
    /// Why one key resolved as it did.
    Explanation(Box<ExplanationReport>),
    /// Every conflict-resolution strategy side by side (`--compare`).
    Comparison(ComparisonReport),
    /// Scenarios checked against their expectations.
    Check(CheckReport),
    /// The bundled scenarios.
    Scenarios(Vec<ScenarioEntry>),
    /// Generated text printed as it is by the table format: the scenario
    /// schema, a completion script, the man page.
    Text(String),
    /// A shard's partial result (`--shard K/N`), printed only as JSON.
    Partial(Box<crate::shard::Partial>),
}

impl Report {
    /// The decision of a single consensus run (for a proposal sequence, the
    /// last decided proposal's).
    pub fn decision(&self) -> Option<Decision> {
        match self {
            Report::Byzantine(r) => Some(r.outcome.decision),
            Report::Gossip(r) => Some(r.outcome.decision),
            Report::ByzantineSequence(r) => r.outcome.proposals.iter().rev().find_map(|p| match &p
                .result
            {
                ProposalResult::Decided(o) => Some(o.decision),
                ProposalResult::Skipped { .. } => None,
            }),
            _ => None,
        }
    }
}

/// Renders a report; the text ends with a newline. Tables use colour when
/// `color` is set. Only consensus runs have a per-round history to write as CSV.
pub fn render(report: &Report, format: Format, color: bool) -> Result<String, Error> {
    match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(report)
                .expect("reports hold only strings, numbers, booleans and maps with string keys");
            text.push('\n');
            Ok(json_controls_escaped(text))
        }
        Format::Table => Ok(table::render(report, color)),
        Format::Csv => csv::render(report).ok_or_else(|| Error::Flag {
            flag: "--format",
            message:
                "csv writes the per-round history of single-proposal byzantine and gossip runs; \
                      use table or json here"
                    .to_string(),
        }),
    }
}

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Mismatch {
    /// The `[expect]` key.
    pub key: String,
    /// What the scenario expected.
    pub expected: String,
    /// What the run gave.
    pub actual: String,
}

impl std::fmt::Display for Mismatch {
    /// `key: expected E, got A`, as tables, JUnit and `moai run` say it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected {}, got {}",
            self.key, self.expected, self.actual
        )
    }
}

/// JSON text with DEL and the C1 controls, which serde_json leaves raw (it
/// escapes only those below U+0020), written as `\u00XX` escapes, so no
/// terminal acts on them. Outside strings JSON text is plain ASCII, and
/// inside one an escape stands for the same character: the data is the same.
fn json_controls_escaped(text: String) -> String {
    let raw = |c: char| ('\u{7f}'..='\u{9f}').contains(&c);
    if !text.chars().any(raw) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if raw(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_del_and_c1_and_keeps_the_data() {
        let value = serde_json::json!({"k\u{9b}": "a\u{7f}b\u{1b}c\u{85}é\u{a0}"});
        let text = json_controls_escaped(serde_json::to_string(&value).unwrap());
        assert_eq!(
            text,
            r#"{"k\u009b":"a\u007fb\u001bc\u0085é "}"#.replace(' ', "\u{a0}")
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
        assert_eq!(json_controls_escaped("[1]".into()), "[1]");
    }
}

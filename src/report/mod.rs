//! One result model for every command, rendered as tables or as JSON.
//!
//! The report types are plain data and are the JSON wire format: field names
//! and order here are what scripts read. Rendering never computes results.

mod table;

use serde::Serialize;

use crate::consensus::byzantine::{ByzantineOutcome, ProposalResult};
use crate::consensus::gossip::GossipOutcome;
use crate::resolve::{Resolution, Strategy};
use crate::scenario::Algorithm;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Human-readable tables.
    #[default]
    Table,
    /// One JSON document.
    Json,
}

/// A consensus run: which scenario, seed and proposal, and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct ConsensusReport<O> {
    /// Scenario name.
    pub scenario: String,
    /// Algorithm that ran.
    pub algorithm: Algorithm,
    /// Seed the generator was made from.
    pub seed: u64,
    /// The scenario's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The scenario's `[proposal]` table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposal: Option<serde_json::Map<String, serde_json::Value>>,
    /// What the algorithm decided and found.
    #[serde(flatten)]
    pub outcome: O,
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

/// One proposal of a sequence and its result.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalEntry {
    /// The proposal's table from `[[proposals]]`.
    pub proposal: serde_json::Map<String, serde_json::Value>,
    /// Decided (with the full outcome) or skipped (with the reason).
    #[serde(flatten)]
    pub result: ProposalResult,
}

/// A conflict-resolution run.
#[derive(Debug, Clone, Serialize)]
pub struct ResolveReport {
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
    /// A conflict resolution.
    Resolve(ResolveReport),
    /// The bundled scenarios.
    Scenarios(Vec<ScenarioEntry>),
}

/// Renders a report; the text ends with a newline.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(report)
                .expect("reports hold only strings, numbers, booleans and maps with string keys");
            text.push('\n');
            text
        }
        Format::Table => table::render(report),
    }
}

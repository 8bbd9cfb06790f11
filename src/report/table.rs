//! Human-readable rendering: titled comfy-table tables, laid out like the
//! printed output of the design note's examples. Text from a scenario
//! or a flag (names, descriptions, ids, keys, values, paths) has its control
//! characters escaped as errors do ([`one_line`]): every cell through
//! [`cell`], every line through the helper that writes it, so no input
//! can move the cursor, retitle the terminal or forge a line.

use std::fmt::Write;

use comfy_table::{Table, presets};

use super::sparkline;
use super::{
    CheckMode, CheckReport, CheckStatus, ComparisonReport, ConsensusReport, ExplanationReport,
    Overrides, ProposalSequence, Report, ResolveReport, ScenarioEntry, Settings, SweepReport,
    TrialsReport, TrialsSummary,
};
use crate::consensus::byzantine::ByzantineOutcome;
use crate::consensus::byzantine::ProposalResult;
use crate::consensus::gossip::GossipOutcome;
use crate::error::one_line;
use crate::exact::compare::ZScores;
use crate::exact::{ExactSummary, GossipExactSummary};
use crate::montecarlo::{ByzantineTrialsSummary, GossipTrialsSummary};
use crate::resolve::crdt::KeyRule;
use crate::resolve::explain::{EntryGap, Explanation, LwwField, LwwLoss, Reasons, VersionRef};
use crate::resolve::{Resolution, ResolutionMetadata};
use crate::scenario::Topology;
use indexmap::IndexMap;

/// Renders any report as tables, coloured when `color` is set.
pub(super) fn render(report: &Report, color: bool) -> String {
    let text = match report {
        Report::Byzantine(r) => byzantine(r),
        Report::ByzantineSequence(r) => byzantine_sequence(r),
        Report::Gossip(r) => gossip(r),
        Report::Trials(r) => trials(r),
        Report::Sweep(r) => sweep(r),
        Report::Resolve(r) => resolve(r),
        Report::Explanation(r) => explanation(r),
        Report::Comparison(r) => comparison(r),
        Report::Check(r) => check(r),
        Report::Scenarios(entries) => scenarios(entries),
        // Generated text (schema, completions, man page) is printed as it is.
        Report::Text(text) => return text.clone(),
        // A shard's partial result is data for `moai merge`: JSON only.
        Report::Partial(partial) => {
            return serde_json::to_string_pretty(partial).unwrap_or_default() + "\n";
        }
    };
    if color { paint(&text) } else { text }
}

/// Colours finished text: titles, warnings and verdicts. ANSI codes take no
/// room on screen, so adding them after layout keeps every table aligned.
fn paint(text: &str) -> String {
    use anstyle::{AnsiColor, Style};
    let title = Style::new().bold().fg_color(Some(AnsiColor::Cyan.into()));
    let warn = Style::new().bold().fg_color(Some(AnsiColor::Yellow.into()));
    let good = Style::new().fg_color(Some(AnsiColor::Green.into()));
    let bad = Style::new().bold().fg_color(Some(AnsiColor::Red.into()));
    let whole = |style: Style, line: &str| format!("{style}{line}{style:#}");
    let mut out = String::with_capacity(text.len() + 256);
    for line in text.lines() {
        let painted = if line.starts_with("===") {
            whole(title, line)
        } else if line.starts_with("WARNING") || line.starts_with("Skipped:") {
            whole(warn, line)
        } else if let Some(failed) = summary_failures(line) {
            whole(if failed == 0 { good } else { bad }, line)
        } else {
            line.replace("→ Converged!", &whole(good, "→ Converged!"))
                .replace("┆ pass ", &format!("┆ {} ", whole(good, "pass")))
                .replace("┆ FAIL ", &format!("┆ {} ", whole(bad, "FAIL")))
                .replace("┆ error ", &format!("┆ {} ", whole(bad, "error")))
                .replace("┆ skip ", &format!("┆ {} ", whole(warn, "skip")))
        };
        out.push_str(&painted);
        out.push('\n');
    }
    out
}

/// The count of failures and errors of a closing `N passed, N failed[, N
/// errors][, N skipped]` (or `N valid, N invalid[, N skipped]`) line.
fn summary_failures(line: &str) -> Option<u64> {
    let mut parts = line.split(", ");
    let (passed, label) = parts.next()?.split_once(' ')?;
    let (failed, label2) = parts.next()?.split_once(' ')?;
    let labels = matches!((label, label2), ("passed", "failed") | ("valid", "invalid"));
    (labels && passed.parse::<u64>().is_ok()).then_some(())?;
    let mut bad: u64 = failed.parse().ok()?;
    for part in parts {
        let (n, label) = part.split_once(' ')?;
        let n: u64 = n.parse().ok()?;
        match label {
            "error" | "errors" => bad += n,
            "skipped" => {}
            _ => return None,
        }
    }
    Some(bad)
}

/// The closing line of `moai check` or `moai validate`: `N passed, N failed`
/// (`N valid, N invalid`), then the errors and skipped files when there are
/// any.
fn check_summary(report: &CheckReport) -> String {
    let mut line = match report.mode {
        CheckMode::Check => format!("{} passed, {} failed", report.passed, report.failed),
        // Validation has no expectations to fail: an invalid file is an error.
        CheckMode::Validate => format!(
            "{} valid, {} invalid",
            report.passed,
            report.failed + report.errors
        ),
    };
    if report.mode == CheckMode::Check && report.errors > 0 {
        let noun = if report.errors == 1 {
            "error"
        } else {
            "errors"
        };
        let _ = write!(line, ", {} {noun}", report.errors);
    }
    if report.skipped > 0 {
        let _ = write!(line, ", {} skipped", report.skipped);
    }
    line
}

fn check(report: &CheckReport) -> String {
    let mut out = String::new();
    let verb = match report.mode {
        CheckMode::Check => "check",
        CheckMode::Validate => "validate",
    };
    let _ = writeln!(
        out,
        "=== moai {verb}: {} scenarios ===",
        report.results.len() as u64 - report.skipped
    );
    let mut table = new_table();
    table.set_header(vec!["Scenario", "Algorithm", "File", "Result", "Details"]);
    for r in &report.results {
        let (status, details) = match r.status {
            CheckStatus::Pass if report.mode == CheckMode::Validate => {
                ("pass", "valid".to_string())
            }
            CheckStatus::Pass if r.expectations => ("pass", "all expectations met".to_string()),
            CheckStatus::Pass => ("pass", "ran; no [expect] table".to_string()),
            CheckStatus::Fail => {
                let parts: Vec<String> = r.mismatches.iter().map(ToString::to_string).collect();
                ("FAIL", parts.join("; "))
            }
            CheckStatus::Error => ("error", r.error.clone().unwrap_or_default()),
            CheckStatus::Skipped => ("skip", r.error.clone().unwrap_or_default()),
        };
        add_row(
            &mut table,
            [
                r.scenario.clone().unwrap_or_else(|| "-".to_string()),
                r.algorithm.map_or("-", |a| a.name()).to_string(),
                r.file.clone(),
                status.to_string(),
                details,
            ],
        );
    }
    let _ = writeln!(out, "{table}");
    let _ = writeln!(out, "{}", check_summary(report));
    out
}

fn new_table() -> Table {
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED);
    table
}

/// The most characters a table cell shows. comfy-table measures columns in
/// `u16` and re-splits a longer cell in time quadratic in its length (minutes
/// for a 10 MB value), so longer text is cut, saying how much was left out;
/// `--format json` has it whole.
pub const MAX_CELL_CHARS: usize = 60_000;

/// `text` for a table cell: control characters escaped ([`one_line`]),
/// then cut to [`MAX_CELL_CHARS`] characters with a note of the rest.
fn cell(text: String) -> String {
    let text = if text.chars().any(char::is_control) {
        one_line(&text)
    } else {
        text
    };
    match text.char_indices().nth(MAX_CELL_CHARS) {
        None => text,
        Some((end, _)) => {
            let rest = text[end..].chars().count();
            format!(
                "{}… ({rest} more characters; --format json shows all)",
                &text[..end]
            )
        }
    }
}

/// A two-column table of labels and values.
fn key_values(rows: &[(&str, String)]) -> Table {
    let mut table = new_table();
    for (label, value) in rows {
        add_row(&mut table, [label.to_string(), value.clone()]);
    }
    table
}

/// Adds a row to `table`, every cell through [`cell`].
fn add_row(table: &mut Table, cells: impl IntoIterator<Item = String>) {
    table.add_row(cells.into_iter().map(cell).collect::<Vec<_>>());
}

/// Most decimals a percentage shows: beyond, `f64` carries only noise.
const MAX_PERCENT_DECIMALS: usize = 12;

/// Below this (0.01%), a ratio is written in scientific notation.
const SCIENTIFIC_BELOW: f64 = 1e-4;

/// A ratio as a percentage: exactly 0 and 1 as `0%` and `100%`; below
/// 0.01% as the ratio itself in scientific notation with two significant
/// digits (`3.2e-11`), never `0.00%`; anything else with two decimals, or
/// as many more as it takes not to read as 100% (a Wilson bound of
/// 0.99999616 is `99.9996%`, never `100.00%`), and closer to 1 than
/// decimals can tell as `1 - 1.1e-16` (a hair over 1, which only rounding
/// gives, is `100%`). Every percentage a table shows goes through here.
fn percent(ratio: f64) -> String {
    if ratio == 0.0 {
        return "0%".to_string();
    }
    if ratio == 1.0 {
        return "100%".to_string();
    }
    if ratio.abs() < SCIENTIFIC_BELOW {
        return format!("{ratio:.1e}");
    }
    let value = ratio * 100.0;
    let mut decimals = 2;
    loop {
        let text = format!("{value:.decimals$}");
        let bound = text.trim_start_matches('-').trim_end_matches('0');
        if bound != "100." {
            return format!("{text}%");
        }
        if decimals == MAX_PERCENT_DECIMALS {
            // Above 1 is rounding: a sum of probabilities a hair over 1.
            return if ratio < 1.0 {
                format!("1 - {:.1e}", 1.0 - ratio)
            } else {
                "100%".to_string()
            };
        }
        decimals += 1;
    }
}

/// A list of ids, saying how many `--list-limit` left out (found in
/// `omitted` under `path`).
fn list_at(ids: &[String], omitted: &IndexMap<String, u64>, path: &str) -> String {
    match omitted.get(path) {
        Some(more) => format!("{} (+{more} more)", list(ids)),
        None => list(ids),
    }
}

/// Ids joined by commas, each with its control characters escaped.
fn list(ids: &[String]) -> String {
    if ids.is_empty() {
        "none".to_string()
    } else {
        let ids: Vec<String> = ids.iter().map(|id| one_line(id)).collect();
        ids.join(", ")
    }
}

/// The title, scenario line and proposal shared by consensus reports.
fn header<O>(out: &mut String, title: &str, report: &ConsensusReport<O>) {
    let _ = writeln!(out, "=== {title} ===");
    let _ = match report.trial {
        Some(trial) => writeln!(
            out,
            "Scenario: {} (seed {}, trial {trial}: the seed's stream {trial})",
            one_line(&report.scenario),
            report.seed
        ),
        None => writeln!(
            out,
            "Scenario: {} (seed {})",
            one_line(&report.scenario),
            report.seed
        ),
    };
    description_line(out, report.description.as_deref());
    overrides_line(out, &report.overrides);
    if let Some(proposal) = &report.proposal {
        let _ = writeln!(out, "Proposal: {}", fields(proposal));
    }
}

/// `Description: ...`, when there is one.
fn description_line(out: &mut String, description: Option<&str>) {
    if let Some(description) = description {
        let _ = writeln!(out, "Description: {}", one_line(description));
    }
}

/// A proposal's fields as `key = value, ...`, escaped to one line.
fn fields(proposal: &serde_json::Map<String, serde_json::Value>) -> String {
    let fields: Vec<String> = proposal
        .iter()
        .map(|(k, v)| format!("{} = {}", one_line(k), one_line(&v.to_string())))
        .collect();
    fields.join(", ")
}

/// `Overrides: agents = 1000, fanout = 3`: the settings flags changed,
/// so a description written for the file is not taken for the run's.
fn overrides_line(out: &mut String, overrides: &Overrides) {
    if overrides.is_empty() {
        return;
    }
    let fields: Vec<String> = overrides
        .iter()
        .map(|(name, value)| format!("{} = {}", one_line(name), value_text(value)))
        .collect();
    let _ = writeln!(out, "Overrides: {}", fields.join(", "));
}

fn byzantine(report: &ConsensusReport<ByzantineOutcome>) -> String {
    let mut out = String::new();
    header(&mut out, "Byzantine Consensus Result", report);
    byzantine_outcome(&mut out, &report.outcome, &report.omitted, "");
    out
}

fn byzantine_sequence(report: &ConsensusReport<ProposalSequence>) -> String {
    let mut out = String::new();
    header(&mut out, "Byzantine Consensus: Proposal Sequence", report);
    for (i, entry) in report.outcome.proposals.iter().enumerate() {
        let _ = writeln!(
            out,
            "\n=== Proposal {}: {} ===",
            i + 1,
            fields(&entry.proposal)
        );
        match &entry.result {
            ProposalResult::Decided(outcome) => {
                byzantine_outcome(
                    &mut out,
                    outcome,
                    &report.omitted,
                    &format!("proposals[{i}]."),
                );
            }
            ProposalResult::Skipped { reason, .. } => {
                let _ = writeln!(out, "Skipped: {}", one_line(reason));
            }
        }
    }
    let _ = writeln!(out, "\n=== After all proposals ===");
    let _ = writeln!(
        out,
        "Blacklist: {}",
        list_at(&report.outcome.blacklist, &report.omitted, "blacklist")
    );
    let _ = writeln!(
        out,
        "Healthy agents: {}",
        list_at(
            &report.outcome.healthy_agents,
            &report.omitted,
            "healthy_agents"
        )
    );
    out
}

/// The tables of one Byzantine vote.
fn byzantine_outcome(
    out: &mut String,
    outcome: &ByzantineOutcome,
    omitted: &IndexMap<String, u64>,
    prefix: &str,
) {
    let meta = &outcome.metadata;
    let list =
        |ids: &[String], path: &str| list_at(ids, omitted, &format!("{prefix}metadata.{path}"));
    let mut rows = vec![
        ("Decision", outcome.decision.name().to_string()),
        ("Fault tolerance", format!("f={}", meta.fault_tolerance)),
        (
            "Agreement threshold",
            format!("{} (2f+1)", meta.agreement_threshold),
        ),
        (
            "Minimum participants",
            format!("{} (3f+1)", meta.min_participants),
        ),
        ("Total participants", meta.total_participants.to_string()),
        ("Honest participants", meta.honest_participants.to_string()),
        ("Malicious detected", meta.malicious_detected.to_string()),
        (
            "Malicious agents",
            list(&meta.malicious_agents, "malicious_agents"),
        ),
        (
            "  vote changers",
            list(&meta.vote_changers, "vote_changers"),
        ),
        ("  equivocators", list(&meta.equivocators, "equivocators")),
        ("Silent agents", list(&meta.silent_agents, "silent_agents")),
        ("Voting rounds", meta.num_rounds.to_string()),
        ("Byzantine safe", meta.byzantine_safe.to_string()),
    ];
    if let Some(reason) = &meta.reason {
        rows.push(("Reason", reason.clone()));
    }
    let detection = &meta.detection;
    rows.extend([
        (
            "Faulty agents (declared)",
            format!("{} (f={})", detection.faulty_agents, meta.fault_tolerance),
        ),
        (
            "Detected correctly",
            detection.detected_correctly.to_string(),
        ),
        (
            "False positives",
            list(&detection.false_positives, "detection.false_positives"),
        ),
        (
            "Missed (tallied)",
            list(&detection.missed, "detection.missed"),
        ),
        (
            "Against honest majority",
            meta.against_honest_majority.to_string(),
        ),
    ]);
    let _ = writeln!(out, "{}", key_values(&rows));
    if !detection.safety_guaranteed {
        let _ = writeln!(
            out,
            "WARNING: {} faulty agents exceed f = {}: the 3f+1 safety guarantee does not hold",
            detection.faulty_agents, meta.fault_tolerance
        );
    }

    let _ = writeln!(
        out,
        "\nVote counts (final round, detected and silent agents excluded):"
    );
    let mut counts = new_table();
    counts.set_header(vec!["FOR", "AGAINST", "ABSTAIN", "Threshold"]);
    add_row(
        &mut counts,
        [
            outcome.counts.votes_for.to_string(),
            outcome.counts.votes_against.to_string(),
            outcome.counts.abstain.to_string(),
            meta.agreement_threshold.to_string(),
        ],
    );
    let _ = writeln!(out, "{counts}");

    let _ = writeln!(out, "\nRound history (all participants):");
    let mut history = new_table();
    history.set_header(vec![
        "Round",
        "FOR",
        "AGAINST",
        "ABSTAIN",
        "Silent",
        "Equivocating",
    ]);
    for round in &meta.round_history {
        add_row(
            &mut history,
            vec![
                round.round.to_string(),
                round.counts.votes_for.to_string(),
                round.counts.votes_against.to_string(),
                round.counts.abstain.to_string(),
                round.silent.to_string(),
                round.equivocations.to_string(),
            ],
        );
    }
    let _ = writeln!(out, "{history}");

    let _ = writeln!(out, "\nBlacklist: {}", list(&meta.blacklist, "blacklist"));
    let _ = writeln!(
        out,
        "Healthy agents for next proposal: {}",
        list(&meta.healthy_agents, "healthy_agents")
    );
}

fn gossip(report: &ConsensusReport<GossipOutcome>) -> String {
    let outcome = &report.outcome;
    let meta = &outcome.metadata;
    let initial = &meta.initial_distribution;
    let mut out = String::new();
    header(&mut out, "Gossip Protocol Consensus", report);
    let mut rows = vec![
        ("Initial approve", initial.votes_for.to_string()),
        ("Initial reject", initial.votes_against.to_string()),
        ("Initial abstain", initial.abstain.to_string()),
    ];
    if meta.silent > 0 {
        rows.push((
            "Silent agents",
            format!("{} silent, not counted", meta.silent),
        ));
    }
    rows.extend([
        ("Fanout", meta.fanout.to_string()),
        ("Max rounds", meta.max_rounds.to_string()),
        ("Convergence threshold", percent(meta.convergence_threshold)),
        ("Min participation", percent(meta.min_participation)),
        ("Approval threshold", percent(meta.threshold)),
        (
            "Topology",
            topology_text(meta.topology, meta.degree, meta.rewire),
        ),
        ("Message loss", percent(meta.loss)),
    ]);
    for p in &meta.partitions {
        let sizes: Vec<String> = p.group_sizes.iter().map(u64::to_string).collect();
        rows.push((
            "Partition",
            format!(
                "rounds {}-{}: groups of {} (+{} ungrouped)",
                p.from,
                p.until,
                sizes.join(", "),
                p.ungrouped
            ),
        ));
    }
    let _ = writeln!(out, "{}", key_values(&rows));

    let _ = writeln!(out, "\n=== Convergence Result ===");
    let rows = [
        ("Decision", outcome.decision.name().to_string()),
        ("Rounds completed", meta.rounds_completed.to_string()),
        ("Converged", meta.converged.to_string()),
        ("Converged in round", optional(meta.converged_round)),
        ("Final agreement", percent(meta.agreement_ratio)),
        (
            "Agreement by round",
            agreement_sparkline(&meta.round_history),
        ),
        ("Final participation", percent(meta.participation)),
        ("Approve", outcome.counts.votes_for.to_string()),
        ("Reject", outcome.counts.votes_against.to_string()),
        ("Abstain", outcome.counts.abstain.to_string()),
    ];
    let _ = writeln!(out, "{}", key_values(&rows));
    let held_back = meta.rounds_held_back_by_participation;
    if held_back > 0 {
        let (threshold, minimum) = (
            percent(meta.convergence_threshold),
            percent(meta.min_participation),
        );
        let rounds = if held_back == 1 { "round" } else { "rounds" };
        if meta.converged {
            let _ = writeln!(
                out,
                "Min participation held back convergence in {held_back} {rounds}: agreement \
                 reached {threshold} while fewer than {minimum} of the counted agents held a vote"
            );
        } else {
            let _ = writeln!(
                out,
                "WARNING: not converged: agreement reached {threshold} in {held_back} {rounds}, \
                 but fewer than {minimum} of the counted agents held a vote (min participation)"
            );
        }
    }

    let _ = writeln!(out, "\n=== Round-by-Round Convergence ===");
    let mut history = new_table();
    history.set_header(vec![
        "Round",
        "Agreement",
        "Approve",
        "Reject",
        "Abstain",
        "Lost exchanges",
        "",
    ]);
    for round in &meta.round_history {
        let mut notes = Vec::new();
        if round.partitioned {
            notes.push("partitioned");
        }
        if round.agreement_ratio >= meta.convergence_threshold && !round.converged {
            notes.push("participation below minimum");
        }
        if meta.converged_round == Some(round.round) {
            notes.push("→ Converged!");
        }
        add_row(
            &mut history,
            vec![
                round.round.to_string(),
                percent(round.agreement_ratio),
                round.counts.votes_for.to_string(),
                round.counts.votes_against.to_string(),
                round.counts.abstain.to_string(),
                round.lost_exchanges.to_string(),
                notes.join(" "),
            ],
        );
    }
    let _ = writeln!(out, "{history}");
    out
}

fn topology_text(topology: Topology, degree: u32, rewire: f64) -> String {
    match topology {
        Topology::Complete => "complete".to_string(),
        Topology::SmallWorld => format!("small-world, degree {degree}, rewire {}", percent(rewire)),
        other => format!("{}, degree {degree}", other.name()),
    }
}

fn optional(value: Option<u32>) -> String {
    value.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn interval([lo, hi]: [f64; 2]) -> String {
    format!("{} to {}", percent(lo), percent(hi))
}

fn decisions(counts: &indexmap::IndexMap<&'static str, u64>) -> String {
    let parts: Vec<String> = counts.iter().map(|(d, n)| format!("{d} {n}")).collect();
    parts.join(", ")
}

fn trials(report: &TrialsReport) -> String {
    let mut out = String::new();
    let title = match report.settings {
        Settings::Gossip(_) => "Gossip",
        Settings::Byzantine(_) => "Byzantine",
    };
    let count = report.statistics.trials_summary.as_ref().map(|s| match s {
        TrialsSummary::Gossip(s) => s.trials,
        TrialsSummary::Byzantine(s) => s.trials,
    });
    let (heading, seed_note) = match (count, &report.statistics.exact_summary) {
        (Some(n), None) => (
            format!("Monte Carlo: {n} trials"),
            "trial i draws from the seed's stream i",
        ),
        (Some(n), Some(_)) => (
            format!("Monte Carlo: {n} trials, and the exact law"),
            "trial i draws from the seed's stream i; the exact law draws none",
        ),
        (None, _) => (
            "exact law".to_string(),
            "the exact law draws no random numbers",
        ),
    };
    let _ = writeln!(out, "=== {title} {heading} ===");
    let _ = writeln!(
        out,
        "Scenario: {} (seed {}; {seed_note})",
        one_line(&report.scenario),
        report.seed
    );
    overrides_line(&mut out, &report.overrides);
    let mut rows = vec![("Agents", report.agents.to_string())];
    rows.extend(settings_rows(&report.settings));
    let _ = writeln!(out, "{}", key_values(&rows));
    match (
        &report.statistics.trials_summary,
        &report.statistics.exact_summary,
    ) {
        (Some(summary), None) => {
            let _ = writeln!(out, "\n=== Summary ===");
            let rows = match summary {
                TrialsSummary::Gossip(s) => gossip_summary_rows(s),
                TrialsSummary::Byzantine(s) => byzantine_summary_rows(s),
            };
            let _ = writeln!(out, "{}", key_values(&rows));
        }
        (None, Some(exact)) => {
            let _ = writeln!(out, "\n=== Exact law ===");
            let rows = exact_rows(exact);
            let rows: Vec<(&str, String)> =
                rows.iter().map(|(l, v)| (l.as_str(), v.clone())).collect();
            let _ = writeln!(out, "{}", key_values(&rows));
        }
        (Some(summary), Some(exact)) => {
            let _ = writeln!(out, "\n=== Monte Carlo against the exact law ===");
            let z = report.statistics.z_scores.clone().unwrap_or_default();
            let _ = writeln!(out, "{}", side_by_side(summary, exact, &z));
        }
        (None, None) => {}
    }
    if let Some(ExactSummary::Gossip(exact)) = &report.statistics.exact_summary {
        let _ = writeln!(out, "\n=== Exact law by round ===");
        let _ = writeln!(out, "{}", exact_rounds(exact));
    }
    out
}

/// A mean or a standard deviation of the exact law, to 4 decimals.
fn moment(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |m| format!("{m:.4}"))
}

/// The rows of the "Exact law" table.
fn exact_rows(exact: &ExactSummary) -> Vec<(String, String)> {
    let row = |label: &str, value: String| (label.to_string(), value);
    match exact {
        ExactSummary::Gossip(e) => {
            let mut rows = vec![
                row("Convergence probability", percent(e.convergence_rate)),
                row("Rounds to converge, mean", moment(e.rounds_mean)),
                row("Rounds to converge, sd", moment(e.rounds_sd)),
                row("Rounds to converge p50", optional(e.rounds_p50)),
                row("Rounds to converge p90", optional(e.rounds_p90)),
                row("Rounds to converge p99", optional(e.rounds_p99)),
                row("Rounds to converge max", optional(e.rounds_max)),
            ];
            rows.extend(decision_rows(&e.decisions));
            rows.extend([
                row(
                    "Reference decision (of the initial votes)",
                    e.reference_decision.to_string(),
                ),
                row(
                    "Wrong decision probability",
                    percent(e.wrong_decision_probability),
                ),
                row("Mean final agreement", percent(e.mean_final_agreement)),
                row("Final agreement sd", percent(e.final_agreement_sd)),
                row("States (most in one round)", e.states.to_string()),
                row("Dropped mass", percent(e.dropped_mass)),
            ]);
            rows
        }
        ExactSummary::Byzantine(e) => {
            let mut rows = decision_rows(&e.decisions);
            rows.extend([
                row(
                    "Missed rate (a faulty agent tallied)",
                    percent(e.missed_rate),
                ),
                row("False positive rate", percent(e.false_positive_rate)),
                row(
                    "Not Byzantine safe (byzantine_safe = false)",
                    percent(e.byzantine_unsafe_rate),
                ),
                row(
                    "Against honest majority",
                    percent(e.against_honest_majority_rate),
                ),
                row(
                    "Wrong decision probability",
                    percent(e.wrong_decision_probability),
                ),
                row(
                    "Mean agents detected",
                    moment(Some(e.mean_malicious_detected)),
                ),
                row("Agents detected sd", moment(Some(e.malicious_detected_sd))),
                row(
                    "Safety guaranteed (faulty <= f)",
                    e.safety_guaranteed.to_string(),
                ),
                row("Dropped mass", percent(e.dropped_mass)),
            ]);
            rows
        }
    }
}

/// `P(approved)`, `P(rejected)`, ...: each decision's probability.
fn decision_rows(decisions: &IndexMap<&'static str, f64>) -> Vec<(String, String)> {
    decisions
        .iter()
        .map(|(d, p)| (format!("P({d})"), percent(*p)))
        .collect()
}

/// The exact gossip law round by round.
fn exact_rounds(exact: &GossipExactSummary) -> Table {
    let mut table = new_table();
    table.set_header(vec![
        "Round",
        "P(runs)",
        "P(converged in)",
        "P(converged by)",
        "E[agreement]",
        "E[lost exchanges]",
    ]);
    for r in &exact.rounds {
        add_row(
            &mut table,
            [
                r.round.to_string(),
                percent(r.running),
                percent(r.converged_in),
                percent(r.converged_by),
                percent(r.expected_agreement),
                format!("{:.2}", r.expected_lost_exchanges),
            ],
        );
    }
    table
}

/// A z-score with 2 decimals, `—` where there is none.
pub(super) fn z_text(z: Option<f64>) -> String {
    match z {
        // A z that rounds to 0 prints as 0.00, never -0.00.
        Some(z) if z.abs() < 0.005 => "0.00".to_string(),
        Some(z) => format!("{z:.2}"),
        None => "—".to_string(),
    }
}

/// A count of trials as a share: `99.87% (9987 of 10000)`.
fn share(count: u64, trials: u64) -> String {
    let ratio = if trials == 0 {
        0.0
    } else {
        count as f64 / trials as f64
    };
    format!("{} ({count} of {trials})", percent(ratio))
}

/// One line of the side-by-side table: label, Monte Carlo, exact, and the
/// key of its z-score, if it has one.
type Compared = (String, String, String, Option<String>);

/// Monte Carlo figures beside the exact law's, with each one's z-score.
fn side_by_side(trials: &TrialsSummary, exact: &ExactSummary, z: &ZScores) -> Table {
    let line = |label: &str, mc: String, exact: String, key: Option<&str>| -> Compared {
        (label.to_string(), mc, exact, key.map(str::to_string))
    };
    let decisions =
        |counts: &IndexMap<&'static str, u64>, n: u64, exact: &IndexMap<&'static str, f64>| {
            exact
                .iter()
                .map(|(d, p)| {
                    let key = format!("decisions.{d}");
                    let seen = counts.get(d).copied().unwrap_or(0);
                    (
                        format!("Decision {d}"),
                        share(seen, n),
                        percent(*p),
                        Some(key),
                    )
                })
                .collect::<Vec<Compared>>()
        };
    let mut lines = Vec::new();
    match (trials, exact) {
        (TrialsSummary::Gossip(t), ExactSummary::Gossip(e)) => {
            lines.push(line(
                "Convergence rate",
                share(t.converged_trials, t.trials),
                percent(e.convergence_rate),
                Some("convergence_rate"),
            ));
            lines.push(line(
                "Rounds to converge, mean",
                moment(t.rounds_mean),
                moment(e.rounds_mean),
                Some("rounds_mean"),
            ));
            for (label, mc, exact) in [
                ("Rounds to converge p50", t.rounds_p50, e.rounds_p50),
                ("Rounds to converge p90", t.rounds_p90, e.rounds_p90),
                ("Rounds to converge p99", t.rounds_p99, e.rounds_p99),
                ("Rounds to converge max", t.rounds_max, e.rounds_max),
            ] {
                lines.push(line(label, optional(mc), optional(exact), None));
            }
            let exact_in = e.rounds_max.map_or(&[][..], |max| {
                &e.rounds[..(max as usize).min(e.rounds.len())]
            });
            let exact_in: Vec<f64> = exact_in.iter().map(|r| r.converged_in).collect();
            lines.push(line(
                "Rounds to converge histogram",
                rounds_histogram(&t.rounds_histogram),
                or_dash(sparkline::histogram(1, &exact_in)),
                None,
            ));
            lines.extend(decisions(&t.decisions, t.trials, &e.decisions));
            lines.push(line(
                "Mean final agreement",
                percent(t.mean_final_agreement),
                percent(e.mean_final_agreement),
                Some("mean_final_agreement"),
            ));
        }
        (TrialsSummary::Byzantine(t), ExactSummary::Byzantine(e)) => {
            lines.extend(decisions(&t.decisions, t.trials, &e.decisions));
            for (label, mc, exact, key) in [
                ("Missed rate", t.missed_rate, e.missed_rate, "missed_rate"),
                (
                    "False positive rate",
                    t.false_positive_rate,
                    e.false_positive_rate,
                    "false_positive_rate",
                ),
                (
                    "Not Byzantine safe",
                    t.byzantine_unsafe_rate,
                    e.byzantine_unsafe_rate,
                    "byzantine_unsafe_rate",
                ),
                (
                    "Against honest majority",
                    t.against_honest_majority_rate,
                    e.against_honest_majority_rate,
                    "against_honest_majority_rate",
                ),
            ] {
                lines.push(line(label, percent(mc), percent(exact), Some(key)));
            }
            lines.push(line(
                "Mean agents detected",
                moment(Some(t.mean_malicious_detected)),
                moment(Some(e.mean_malicious_detected)),
                Some("mean_malicious_detected"),
            ));
        }
        _ => {}
    }
    let mut table = new_table();
    table.set_header(vec!["Figure", "Monte Carlo", "Exact", "z"]);
    for (label, mc, exact, key) in lines {
        let z = key.and_then(|k| z.get(&k).copied().flatten());
        add_row(&mut table, [label, mc, exact, z_text(z)]);
    }
    table
}

fn settings_rows(settings: &Settings) -> Vec<(&'static str, String)> {
    match settings {
        Settings::Gossip(c) => vec![
            ("Fanout", c.fanout.to_string()),
            ("Max rounds", c.max_rounds.to_string()),
            ("Convergence threshold", percent(c.convergence_threshold)),
            ("Min participation", percent(c.min_participation)),
            ("Approval threshold", percent(c.threshold)),
            ("Topology", topology_text(c.topology, c.degree, c.rewire)),
            ("Message loss", percent(c.loss)),
            ("Partitions", c.partitions.len().to_string()),
        ],
        Settings::Byzantine(c) => vec![
            ("Fault tolerance", format!("f={}", c.fault_tolerance)),
            ("Voting rounds", c.num_rounds.to_string()),
            ("Timeout reached", c.timeout_reached.to_string()),
        ],
    }
}

/// Trials per converged round, from round 1, as a one-line histogram
/// (`-` when none converged).
fn rounds_histogram(counts: &[u64]) -> String {
    let counts: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
    or_dash(sparkline::histogram(1, &counts))
}

/// A single run's agreement per round as a sparkline from 50% to 100%.
fn agreement_sparkline(rounds: &[crate::consensus::gossip::GossipRound]) -> String {
    let values: Vec<f64> = rounds.iter().map(|r| r.agreement_ratio).collect();
    let first = rounds.first().map_or(1, |r| r.round);
    match sparkline::sparkline(first, &values, 0.5, 1.0) {
        line if line.is_empty() => "-".to_string(),
        line => format!("{line} (▁ 50% to █ 100%)"),
    }
}

/// `text`, or `-` when it is empty.
fn or_dash(text: String) -> String {
    if text.is_empty() {
        "-".to_string()
    } else {
        text
    }
}

fn gossip_summary_rows(s: &GossipTrialsSummary) -> Vec<(&'static str, String)> {
    vec![
        (
            "Converged",
            format!(
                "{} of {} ({})",
                s.converged_trials,
                s.trials,
                percent(s.convergence_rate)
            ),
        ),
        ("Convergence rate 95% CI", interval(s.convergence_rate_ci95)),
        (
            "Rounds to converge, mean",
            s.rounds_mean
                .map_or_else(|| "-".to_string(), |m| format!("{m:.2}")),
        ),
        ("Rounds to converge p50", optional(s.rounds_p50)),
        ("Rounds to converge p90", optional(s.rounds_p90)),
        ("Rounds to converge p99", optional(s.rounds_p99)),
        ("Rounds to converge max", optional(s.rounds_max)),
        (
            "Rounds to converge histogram",
            rounds_histogram(&s.rounds_histogram),
        ),
        ("Decisions", decisions(&s.decisions)),
        ("Mean final agreement", percent(s.mean_final_agreement)),
    ]
}

fn byzantine_summary_rows(s: &ByzantineTrialsSummary) -> Vec<(&'static str, String)> {
    vec![
        ("Decisions", decisions(&s.decisions)),
        (
            "Missed rate (a faulty agent tallied)",
            percent(s.missed_rate),
        ),
        ("False positive rate", percent(s.false_positive_rate)),
        (
            "Not Byzantine safe (byzantine_safe = false)",
            percent(s.byzantine_unsafe_rate),
        ),
        (
            "Not Byzantine safe 95% CI",
            interval(s.byzantine_unsafe_rate_ci95),
        ),
        (
            "Against honest majority",
            percent(s.against_honest_majority_rate),
        ),
        (
            "Against honest majority 95% CI",
            interval(s.against_honest_majority_rate_ci95),
        ),
        (
            "Mean agents detected",
            format!("{:.2}", s.mean_malicious_detected),
        ),
        (
            "Safety guaranteed (faulty <= f)",
            s.safety_guaranteed.to_string(),
        ),
    ]
}

fn sweep(report: &SweepReport) -> String {
    let mut out = String::new();
    let param = report.sweep.first().map_or("", |r| r.param.as_str());
    let exact = report
        .sweep
        .iter()
        .any(|r| r.statistics.exact_summary.is_some());
    let (what, seed_note) = match (report.trials, exact) {
        (Some(n), false) => (
            format!("{n} trials"),
            "every value reuses the same random streams",
        ),
        (Some(n), true) => (
            format!("{n} trials and the exact law"),
            "every value reuses the same random streams; the exact law draws none",
        ),
        (None, _) => (
            "the exact law".to_string(),
            "the exact law draws no random numbers",
        ),
    };
    let _ = writeln!(out, "=== Sweep of {param}: {what} per value ===");
    let _ = writeln!(
        out,
        "Scenario: {} (seed {}; {seed_note})",
        one_line(&report.scenario),
        report.seed
    );
    overrides_line(&mut out, &report.overrides);
    let table = if exact {
        exact_sweep_table(report, param)
    } else {
        trials_sweep_table(report, param)
    };
    let _ = writeln!(out, "{table}");
    out
}

/// A sweep of trials alone: one row per value.
fn trials_sweep_table(report: &SweepReport, param: &str) -> Table {
    let mut table = new_table();
    let byzantine = matches!(
        report.sweep.first().map(|r| &r.settings),
        Some(Settings::Byzantine(_))
    );
    if byzantine {
        table.set_header(vec![
            param,
            "Agents",
            "Decisions",
            "Missed",
            "False positives",
            "Not safe",
            "Against honest",
            "Mean detected",
        ]);
    } else {
        table.set_header(vec![
            param,
            "Agents",
            "Converged",
            "95% CI",
            "p50",
            "p90",
            "p99",
            "max",
            "Decisions",
            "Mean agreement",
        ]);
    }
    for row in &report.sweep {
        let mut cells = vec![row.value.clone(), row.agents.to_string()];
        cells.extend(match &row.statistics.trials_summary {
            Some(TrialsSummary::Gossip(s)) => vec![
                percent(s.convergence_rate),
                interval(s.convergence_rate_ci95),
                optional(s.rounds_p50),
                optional(s.rounds_p90),
                optional(s.rounds_p99),
                optional(s.rounds_max),
                decisions(&s.decisions),
                percent(s.mean_final_agreement),
            ],
            Some(TrialsSummary::Byzantine(s)) => vec![
                decisions(&s.decisions),
                percent(s.missed_rate),
                percent(s.false_positive_rate),
                percent(s.byzantine_unsafe_rate),
                percent(s.against_honest_majority_rate),
                format!("{:.2}", s.mean_malicious_detected),
            ],
            None => Vec::new(),
        });
        add_row(&mut table, cells);
    }
    table
}

/// Each decision's share of trials: `approved 99.87%, rejected 0.13%`.
fn decision_shares(counts: &IndexMap<&'static str, u64>, trials: u64) -> String {
    let parts: Vec<String> = counts
        .iter()
        .map(|(d, &n)| {
            let ratio = if trials == 0 {
                0.0
            } else {
                n as f64 / trials as f64
            };
            format!("{d} {}", percent(ratio))
        })
        .collect();
    parts.join(", ")
}

/// Each decision's probability: `approved 99.87%, rejected 0.13%`.
fn decision_probabilities(probabilities: &IndexMap<&'static str, f64>) -> String {
    let parts: Vec<String> = probabilities
        .iter()
        .map(|(d, &p)| format!("{d} {}", percent(p)))
        .collect();
    parts.join(", ")
}

/// The largest |z| of a batch, with the figure it belongs to.
fn worst_z(z: Option<&ZScores>) -> String {
    let worst = z
        .into_iter()
        .flatten()
        .filter_map(|(key, z)| z.map(|z| (key, z.abs())))
        .fold(
            None,
            |worst: Option<(&String, f64)>, (key, z)| match worst {
                Some((_, w)) if w >= z => worst,
                _ => Some((key, z)),
            },
        );
    match worst {
        Some((key, z)) => format!("{} ({key})", z_text(Some(z))),
        None => "—".to_string(),
    }
}

/// A sweep with the exact law: one row of exact figures per value and,
/// with trials too, a Monte Carlo row under it with the worst |z|.
fn exact_sweep_table(report: &SweepReport, param: &str) -> Table {
    let with_trials = report.trials.is_some();
    let byzantine = matches!(
        report.sweep.first().map(|r| &r.settings),
        Some(Settings::Byzantine(_))
    );
    let mut header = vec![param, "Agents"];
    if with_trials {
        header.push("Law");
    }
    if byzantine {
        header.extend([
            "Decisions",
            "Missed",
            "False positives",
            "Not safe",
            "Against honest",
            "Mean detected",
        ]);
    } else {
        header.extend([
            "Converged",
            "p50",
            "p90",
            "p99",
            "max",
            "Decisions",
            "Wrong decision",
            "Mean agreement",
        ]);
    }
    if with_trials {
        header.push("Worst |z|");
    }
    let mut table = new_table();
    table.set_header(header);
    for row in &report.sweep {
        let mut exact_cells = vec![row.value.clone(), row.agents.to_string()];
        if with_trials {
            exact_cells.push("exact".to_string());
        }
        let mut reference = "";
        match &row.statistics.exact_summary {
            Some(ExactSummary::Gossip(e)) => {
                reference = e.reference_decision;
                exact_cells.extend([
                    percent(e.convergence_rate),
                    optional(e.rounds_p50),
                    optional(e.rounds_p90),
                    optional(e.rounds_p99),
                    optional(e.rounds_max),
                    decision_probabilities(&e.decisions),
                    format!(
                        "{} (not {reference})",
                        percent(e.wrong_decision_probability)
                    ),
                    percent(e.mean_final_agreement),
                ]);
            }
            Some(ExactSummary::Byzantine(e)) => exact_cells.extend([
                decision_probabilities(&e.decisions),
                percent(e.missed_rate),
                percent(e.false_positive_rate),
                percent(e.byzantine_unsafe_rate),
                percent(e.against_honest_majority_rate),
                moment(Some(e.mean_malicious_detected)),
            ]),
            None => {}
        }
        if with_trials {
            exact_cells.push(String::new());
        }
        add_row(&mut table, exact_cells);
        let Some(summary) = row
            .statistics
            .trials_summary
            .as_ref()
            .filter(|_| with_trials)
        else {
            continue;
        };
        let mut cells = vec![String::new(), String::new(), "Monte Carlo".to_string()];
        match summary {
            TrialsSummary::Gossip(s) => {
                let right = s.decisions.get(reference).copied().unwrap_or(0);
                let wrong = s.trials - right.min(s.trials);
                cells.extend([
                    percent(s.convergence_rate),
                    optional(s.rounds_p50),
                    optional(s.rounds_p90),
                    optional(s.rounds_p99),
                    optional(s.rounds_max),
                    decision_shares(&s.decisions, s.trials),
                    share(wrong, s.trials),
                    percent(s.mean_final_agreement),
                ]);
            }
            TrialsSummary::Byzantine(s) => cells.extend([
                decision_shares(&s.decisions, s.trials),
                percent(s.missed_rate),
                percent(s.false_positive_rate),
                percent(s.byzantine_unsafe_rate),
                percent(s.against_honest_majority_rate),
                moment(Some(s.mean_malicious_detected)),
            ]),
        }
        cells.push(worst_z(row.statistics.z_scores.as_ref()));
        add_row(&mut table, cells);
    }
    table
}

/// A value as a person reads it: strings bare, anything else as JSON; its
/// control characters escaped.
/// A value on one line: strings bare, the rest as JSON.
pub(crate) fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => one_line(s),
        other => one_line(&other.to_string()),
    }
}

fn resolve(report: &ResolveReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "=== Conflict Resolution ({}) ===",
        report.strategy.name()
    );
    let _ = writeln!(out, "Scenario: {}", one_line(&report.scenario));
    description_line(&mut out, report.description.as_deref());
    for (i, resolution) in report.resolutions.iter().enumerate() {
        let _ = writeln!(out, "\n{}", one_line(&resolution.key));
        let _ = writeln!(out, "{}", versions_table(resolution));
        let _ = writeln!(
            out,
            "  Resolved: {} (agent {}, version {})",
            value_text(&resolution.value),
            one_line(&resolution.agent),
            resolution.version
        );
        let _ = writeln!(
            out,
            "  Strategy: {}",
            how(&resolution.metadata, |ids, name| {
                list_at(
                    ids,
                    &report.omitted,
                    &format!("resolutions[{i}].metadata.{name}"),
                )
            })
        );
        for (j, source) in resolution.metadata.key_sources.iter().flatten().enumerate() {
            let agents = list_at(
                &source.agents,
                &report.omitted,
                &format!("resolutions[{i}].metadata.key_sources[{j}].agents"),
            );
            let how = match source.rule {
                KeyRule::Union => format!("union of {agents}"),
                rule => format!("{agents}, {}", rule.name()),
            };
            let value = resolution
                .value
                .get(&source.key)
                .map_or_else(String::new, value_text);
            let _ = writeln!(out, "    {}: {value} ({how})", one_line(&source.key));
        }
        if let Some(route) = &resolution.metadata.route {
            let _ = writeln!(
                out,
                "  Route: {} → {}",
                one_line(route),
                resolution.strategy.name()
            );
        }
    }
    let _ = writeln!(out, "\n=== Summary ===");
    let mut summary = new_table();
    summary.set_header(vec!["Key", "Strategy", "Resolution", "Value"]);
    for r in &report.resolutions {
        add_row(
            &mut summary,
            vec![
                r.key.clone(),
                r.strategy.name().to_string(),
                r.metadata.resolution_strategy.to_string(),
                value_text(&r.value),
            ],
        );
    }
    let _ = writeln!(out, "{summary}");
    out
}

/// The competing versions of one key; timestamp and clock columns only when
/// some version has one.
fn versions_table(resolution: &Resolution) -> Table {
    let versions = &resolution.versions;
    let timestamps = versions.iter().any(|v| v.version.timestamp.is_some());
    let clocks = versions.iter().any(|v| v.version.vector_clock.is_some());
    let mut header = vec!["Agent", "Value", "Version"];
    header.extend(timestamps.then_some("Timestamp"));
    header.extend(clocks.then_some("Vector clock"));
    header.push("Role");
    let mut table = new_table();
    table.set_header(header);
    for ranked in versions {
        let v = &ranked.version;
        let mut row = vec![v.agent.clone(), value_text(&v.value), v.version.to_string()];
        if timestamps {
            row.push(v.timestamp.map(|t| t.to_string()).unwrap_or_default());
        }
        if clocks {
            let clock = v.vector_clock.as_ref().map(|c| {
                let entries: Vec<String> = c.iter().map(|(a, n)| format!("{a}={n}")).collect();
                format!("{{{}}}", entries.join(", "))
            });
            row.push(clock.unwrap_or_default());
        }
        row.push(ranked.role.name().to_string());
        add_row(&mut table, row);
    }
    table
}

/// How a resolution was reached, in words.
fn how(meta: &ResolutionMetadata, list: impl Fn(&[String], &str) -> String) -> String {
    let mut text = meta.resolution_strategy.to_string();
    if let Some(discarded) = meta.discarded_versions {
        text.push_str(&format!(" ({discarded} discarded)"));
    }
    if let Some(siblings) = &meta.siblings {
        text.push_str(&format!(
            " (maximal versions: {})",
            list(siblings, "siblings")
        ));
    }
    if let (Some(crdt_type), Some(agents)) = (meta.crdt_type, &meta.merged_from_agents) {
        text.push_str(&format!(
            " ({} merged from {})",
            crdt_type.name(),
            list(agents, "merged_from_agents")
        ));
    }
    text
}

/// `--explain KEY`: the resolved value, then one line per comparison that
/// decided it (or per part of a merge and where it came from).
fn explanation(report: &ExplanationReport) -> String {
    let e = &report.explanation;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "=== Explanation: {} ({}) ===",
        one_line(&e.key),
        e.strategy.name()
    );
    let _ = writeln!(out, "Scenario: {}", one_line(&report.scenario));
    description_line(&mut out, report.description.as_deref());
    let how = match (&e.winner, e.crdt_type) {
        (Some(w), Some(t)) => format!("{}, crdt {}", version_name(w), t.name()),
        (Some(w), None) => format!("{}, {}", version_name(w), e.resolution_strategy),
        (None, Some(t)) => format!("crdt {} merge", t.name()),
        (None, None) => e.resolution_strategy.to_string(),
    };
    let _ = writeln!(out, "Resolved: {} ({how})", value_text(&e.value));
    if let Some(route) = &e.route {
        let _ = writeln!(out, "Route: {} → {}", one_line(route), e.strategy.name());
    }
    let _ = writeln!(out, "Why:");
    for line in explanation_lines(e) {
        let _ = writeln!(out, "  {line}");
    }
    out
}

/// The lines of an explanation's "Why:": one per comparison that decided
/// the key (or per part of a merge and where it came from).
pub(crate) fn explanation_lines(e: &Explanation) -> Vec<String> {
    let mut lines = Vec::new();
    let winner = e.winner.as_ref();
    match &e.reasons {
        Reasons::LastWrite { losers } => {
            let w = winner.expect("last write has a winner");
            lines.extend(losers.iter().map(|l| {
                format!(
                    "{} beats {}: {}",
                    version_name(w),
                    version_name(&l.version),
                    lww_text(w, l)
                )
            }));
        }
        Reasons::Causal {
            dominated,
            concurrent,
        } => {
            let w = winner.expect("vector clocks have a winner");
            for d in dominated {
                let mut line = format!(
                    "{} is dominated by {}: {}",
                    version_name(&d.version),
                    version_name(&d.by),
                    gaps_text(&d.behind, |g| format!(
                        "{}'s {} < {}",
                        one_line(&g.agent),
                        g.lower,
                        g.higher
                    ))
                );
                if !d.equal.is_empty() {
                    line.push_str(&format!("; equal on {}", list(&d.equal)));
                }
                if let Some(field) = d.later_by {
                    line.push_str(&format!(
                        "; last-write-wins would put it later ({}), but causality decides: it is older",
                        order_text(field, &d.version, &d.by)
                    ));
                }
                lines.push(line);
            }
            for c in concurrent {
                let sibling = version_name(&c.version);
                let conflict = if c.winner_ahead.is_empty() && c.sibling_ahead.is_empty() {
                    format!("{sibling} has the same clock as {}", version_name(w))
                } else {
                    let ahead = |gaps: &[EntryGap]| {
                        gaps_text(gaps, |g| {
                            format!("{} ({} > {})", one_line(&g.agent), g.higher, g.lower)
                        })
                    };
                    format!(
                        "{sibling} is concurrent with {}: {} is ahead on {}, {sibling} on {}",
                        version_name(w),
                        version_name(w),
                        ahead(&c.winner_ahead),
                        ahead(&c.sibling_ahead)
                    )
                };
                lines.push(format!(
                    "{conflict}; last write wins: {}",
                    order_text(c.decided_by, w, &c.version)
                ));
            }
        }
        Reasons::Counter { entries } => {
            for entry in entries {
                let reports = if entry.reports > 1 {
                    format!(" (largest of {} reports)", entry.reports)
                } else {
                    String::new()
                };
                lines.push(format!(
                    "{}'s entry: {}, from {}{reports}",
                    one_line(&entry.agent),
                    entry.value,
                    version_name(&entry.from)
                ));
            }
            let parts: Vec<String> = entries.iter().map(|x| x.value.to_string()).collect();
            lines.push(format!(
                "sum: {} = {}",
                parts.join(" + "),
                value_text(&e.value)
            ));
        }
        Reasons::Set { elements } => {
            lines.extend(elements.iter().map(|x| {
                format!(
                    "{}: first added by {}",
                    value_text(&x.element),
                    version_name(&x.from)
                )
            }));
        }
        Reasons::Map { keys } => {
            for key in keys {
                let mut line = format!(
                    "{} = {} from {}, {}",
                    one_line(&key.key),
                    value_text(&key.value),
                    version_name(&key.from),
                    key.rule.name()
                );
                if !key.over.is_empty() {
                    let over: Vec<String> = key
                        .over
                        .iter()
                        .map(|l| {
                            format!("{} ({})", version_name(&l.version), lww_text(&key.from, l))
                        })
                        .collect();
                    line.push_str(&format!(": over {}", over.join(", ")));
                }
                lines.push(line);
            }
        }
        Reasons::MapOfSets { keys } => {
            for key in keys {
                lines.push(format!("{} ({}):", one_line(&key.key), key.rule.name()));
                lines.extend(key.elements.iter().map(|x| {
                    format!(
                        "  {}: first added by {}",
                        value_text(&x.element),
                        version_name(&x.from)
                    )
                }));
            }
        }
    }
    if lines.is_empty() {
        lines.push("it is the only version".to_string());
    }
    lines
}

/// A version as the explanation names it: `agent v3`.
fn version_name(v: &VersionRef) -> String {
    format!("{} v{}", one_line(&v.agent), v.version)
}

/// Clock entries, each as `text` gives it, joined by commas.
fn gaps_text(gaps: &[EntryGap], text: impl Fn(&EntryGap) -> String) -> String {
    let parts: Vec<String> = gaps.iter().map(text).collect();
    parts.join(", ")
}

/// Why `winner` beat `loss`'s version by last write, and whether the
/// loser was causally later.
fn lww_text(winner: &VersionRef, loss: &LwwLoss) -> String {
    let mut text = order_text(loss.decided_by, winner, &loss.version);
    if loss.causally_later {
        text.push_str(&format!(
            "; yet {}'s clock dominates {}'s: it is causally later, and last-write-wins \
             does not read clocks (clock skew)",
            version_name(&loss.version),
            version_name(winner)
        ));
    }
    text
}

/// How the last-write-wins order puts `later` ahead of `earlier`, by `field`.
fn order_text(field: LwwField, later: &VersionRef, earlier: &VersionRef) -> String {
    let stamp = |v: &VersionRef| v.timestamp.clone().unwrap_or_else(|| "none".to_string());
    let same_time = || match &later.timestamp {
        Some(t) => format!("same timestamp {t}"),
        None => "no timestamp on either".to_string(),
    };
    match field {
        LwwField::Timestamp => format!("timestamp {} > {}", stamp(later), stamp(earlier)),
        LwwField::Version => format!(
            "{}; version {} > {}",
            same_time(),
            later.version,
            earlier.version
        ),
        LwwField::Agent => format!(
            "{}, same version {}; agent {} > {}",
            same_time(),
            later.version,
            one_line(&later.agent),
            one_line(&earlier.agent)
        ),
        LwwField::Tie => "same timestamp, version and agent: a tie".to_string(),
    }
}

/// `moai resolve --compare`: per key, one row per strategy (value, versions
/// kept, writes lost) and the recommendation; then the totals per strategy.
fn comparison(report: &ComparisonReport) -> String {
    use crate::resolve::compare::{LostWrite, VersionId};
    let id = |v: &VersionId| format!("{} v{}", one_line(&v.agent), v.version);
    let lost_text = |w: &LostWrite| {
        let mut notes: Vec<String> = w.keys.iter().flatten().map(|k| one_line(k)).collect();
        if w.clock_skew {
            notes.push("clock skew".to_string());
        }
        match notes.is_empty() {
            true => id(&w.id),
            false => format!("{} ({})", id(&w.id), notes.join(", ")),
        }
    };
    // Items joined by commas, `(+K more)` when `--list-limit` cut the list at `path`.
    let joined = |items: Vec<String>, path: String| {
        let text = match items.is_empty() {
            true => "none".to_string(),
            false => items.join(", "),
        };
        match report.omitted.get(&path) {
            Some(more) => format!("{text} (+{more} more)"),
            None => text,
        }
    };
    let mut out = String::new();
    let _ = writeln!(out, "=== Conflict Resolution: strategies compared ===");
    let _ = writeln!(out, "Scenario: {}", one_line(&report.scenario));
    description_line(&mut out, report.description.as_deref());
    let mut skew = false;
    for (i, key) in report.comparison.iter().enumerate() {
        let concurrency = match key.concurrent_versions {
            true => format!("{} concurrent versions", key.maximal_versions),
            false => "no concurrent versions".to_string(),
        };
        let _ = writeln!(out, "\n{} ({concurrency})", one_line(&key.key));
        let mut table = new_table();
        table.set_header(vec!["Strategy", "Value", "Kept", "Lost"]);
        for (j, row) in key.strategies.iter().enumerate() {
            let at = format!("comparison[{i}].strategies[{j}]");
            let mut name = row.routed_to.unwrap_or(row.strategy).name().to_string();
            if let Some(crdt_type) = row.crdt_type {
                name = format!("{name} {}", crdt_type.name());
            }
            if let Some(route) = &row.route {
                name = format!("{} ({} → {name})", row.strategy.name(), one_line(route));
            }
            skew |= row.lost.iter().any(|w| w.clock_skew);
            add_row(
                &mut table,
                vec![
                    name,
                    if row.siblings.is_empty() {
                        value_text(&row.value)
                    } else {
                        format!(
                            "{} (siblings: {})",
                            value_text(&row.value),
                            joined(
                                row.siblings.iter().map(id).collect(),
                                format!("{at}.siblings")
                            )
                        )
                    },
                    joined(row.kept.iter().map(id).collect(), format!("{at}.kept")),
                    joined(
                        row.lost.iter().map(lost_text).collect(),
                        format!("{at}.lost"),
                    ),
                ],
            );
        }
        let _ = writeln!(out, "{table}");
        let r = &key.recommendation;
        let type_name = r.crdt_type.map(|t| format!(" {}", t.name()));
        let _ = writeln!(
            out,
            "  Recommended: {}{} ({})",
            r.strategy.name(),
            type_name.unwrap_or_default(),
            one_line(&r.reason)
        );
    }
    let _ = writeln!(out, "\n=== Summary ===");
    let mut table = new_table();
    table.set_header(vec![
        "Strategy",
        "Keys",
        "Concurrent keys",
        "Writes lost",
        "Lost",
    ]);
    for (i, s) in report.summary.iter().enumerate() {
        // Grouped by key: `key: write, write; key: write`.
        let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
        for w in &s.lost {
            match groups.last_mut() {
                Some((key, writes)) if *key == w.key => writes.push(lost_text(&w.write)),
                _ => groups.push((&w.key, vec![lost_text(&w.write)])),
            }
        }
        let lost: Vec<String> = groups
            .iter()
            .map(|(key, writes)| format!("{}: {}", one_line(key), writes.join(", ")))
            .collect();
        add_row(
            &mut table,
            vec![
                s.strategy.name().to_string(),
                s.keys_resolved.to_string(),
                s.keys_with_concurrent_versions.to_string(),
                s.writes_lost.to_string(),
                match (
                    lost.is_empty(),
                    report.omitted.get(&format!("summary[{i}].lost")),
                ) {
                    (true, _) => "none".to_string(),
                    (false, None) => lost.join("; "),
                    (false, Some(more)) => format!("{} (+{more} more)", lost.join("; ")),
                },
            ],
        );
    }
    let _ = writeln!(out, "{table}");
    if skew {
        let _ = writeln!(
            out,
            "clock skew: the lost write's vector clock dominates the one kept, so it is the \
             later write; only its timestamp says otherwise"
        );
    }
    out
}

fn scenarios(entries: &[ScenarioEntry]) -> String {
    let mut table = new_table();
    table.set_header(vec!["Name", "Algorithm", "File", "Description"]);
    for entry in entries {
        add_row(
            &mut table,
            vec![
                entry.name.clone(),
                entry.algorithm.name().to_string(),
                entry.file.clone(),
                entry.description.clone(),
            ],
        );
    }
    format!("{table}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_differ_from_the_bounds_they_are_not() {
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(-0.0), "0%");
        assert_eq!(percent(0.95), "95.00%");
        assert_eq!(percent(0.5), "50.00%");
        assert_eq!(percent(0.999_996_16), "99.9996%");
        assert_eq!(percent(0.999_96), "99.996%");
        assert_eq!(percent(0.999_94), "99.99%");
        assert_eq!(percent(0.9999), "99.99%");
        assert_eq!(percent(0.0001), "0.01%");
        let [lo, hi] = crate::montecarlo::wilson_interval(1_000_000, 1_000_000);
        assert_eq!(interval([lo, hi]), "99.9996% to 100%");
    }

    #[test]
    fn rare_probabilities_are_in_scientific_notation_and_never_read_as_bounds() {
        // Below 0.01%: the ratio itself, two significant digits.
        assert_eq!(percent(3.2e-11), "3.2e-11");
        assert_eq!(percent(9.636_790_745_554_638e-9), "9.6e-9");
        assert_eq!(percent(0.000_04), "4.0e-5");
        assert_eq!(percent(0.000_099_99), "1.0e-4");
        assert_eq!(percent(1e-300), "1.0e-300");
        assert_eq!(percent(f64::MIN_POSITIVE / 4.0), "5.6e-309");
        // Just below 1: as many decimals as it takes, then the gap to 1.
        assert_eq!(percent(0.999_999_990_363_679), "99.999999%");
        assert_eq!(percent(1.0 - 3.2e-11), "99.999999997%");
        assert_eq!(percent(1.0 - 2.6e-15), "1 - 2.6e-15");
        assert_eq!(percent(1.0 - f64::EPSILON / 2.0), "1 - 1.1e-16");
        // A sum of probabilities a rounding error over 1 is 100%.
        assert_eq!(percent(1.0 + 1.8e-15), "100%");
    }

    #[test]
    fn z_scores_have_two_decimals_and_a_dash_for_none() {
        assert_eq!(z_text(Some(1.234)), "1.23");
        assert_eq!(z_text(Some(-2.0)), "-2.00");
        assert_eq!(z_text(Some(-0.001)), "0.00");
        assert_eq!(z_text(None), "—");
        let mut z = ZScores::new();
        assert_eq!(worst_z(Some(&z)), "—");
        z.insert("a".into(), Some(-3.5));
        z.insert("b".into(), None);
        z.insert("c".into(), Some(1.0));
        assert_eq!(worst_z(Some(&z)), "3.50 (a)");
        assert_eq!(worst_z(None), "—");
    }

    #[test]
    fn long_cells_are_cut_with_a_note_and_short_ones_kept() {
        assert_eq!(cell("é".repeat(10)), "é".repeat(10));
        let exact = "é".repeat(MAX_CELL_CHARS);
        assert_eq!(cell(exact.clone()), exact);
        let long = cell("é".repeat(MAX_CELL_CHARS + 5));
        assert!(long.starts_with(&exact));
        assert!(long.ends_with("é… (5 more characters; --format json shows all)"));
    }

    #[test]
    fn header_lines_and_cells_escape_control_characters() {
        let mut out = String::new();
        let mut overrides = Overrides::new();
        overrides.insert("na\nme".into(), serde_json::json!("a\u{1b}]0;t\u{7}b"));
        overrides.insert("agents".into(), serde_json::json!(4));
        overrides.insert("map".into(), serde_json::json!({"k\u{9b}": "\r"}));
        overrides_line(&mut out, &overrides);
        description_line(&mut out, Some("two\nlines\u{85}"));
        assert_eq!(
            out,
            "Overrides: na\\nme = a\\u{1b}]0;t\\u{7}b, agents = 4, map = {\"k\\u{9b}\":\"\\r\"}\n\
             Description: two\\nlines\\u{85}\n"
        );
        assert_eq!(list(&["a\tb".into(), "c".into()]), "a\\tb, c");
        // Escaped first, then cut: the cut counts the characters shown.
        let long = cell("\u{1b}".repeat(MAX_CELL_CHARS));
        assert!(long.starts_with(&"\\u{1b}".repeat(10)));
        assert!(long.ends_with(" more characters; --format json shows all)"));
    }

    #[test]
    fn closing_lines_count_failures_and_errors_but_not_skips() {
        assert_eq!(summary_failures("3 passed, 0 failed"), Some(0));
        assert_eq!(summary_failures("3 passed, 0 failed, 2 skipped"), Some(0));
        assert_eq!(summary_failures("1 passed, 1 failed, 1 error"), Some(2));
        assert_eq!(
            summary_failures("0 passed, 0 failed, 2 errors, 1 skipped"),
            Some(2)
        );
        assert_eq!(summary_failures("2 valid, 1 invalid"), Some(1));
        assert_eq!(summary_failures("Converged, 2 rounds"), None);
        assert_eq!(summary_failures("1 passed, 0 failed, 3 apples"), None);
    }
}

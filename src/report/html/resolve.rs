//! The `--report` pages of conflict resolution: `moai resolve` (per key the
//! causality graph, [`graph::causality_svg`], with the winner highlighted,
//! and a table of value, strategy and route), `--compare` (writes lost per
//! strategy as bars, then per key the strategies side by side, the
//! recommendation and the graph) and `--explain KEY` (the graph, then the
//! explanation's lines as a list).
//!
//! The graph needs the key's [`State`]: a resolution lists every version in
//! file order ([`Resolution::versions`], never cut by `--list-limit`), so
//! the state is rebuilt from it; `--compare` carries its states and draws
//! each graph with the roles vector-clock resolution gives (winner,
//! concurrent siblings, dominated versions: the causality every strategy
//! is compared against).

use indexmap::IndexMap;
use maud::{Markup, html};

use super::charts::{self, Frame, Layer};
use super::{Chart, Section, graph, page};
use crate::error::Error;
use crate::report::table::{explanation_lines, value_text};
use crate::report::{ComparisonReport, ExplanationReport, ResolveReport};
use crate::resolve::compare::{KeyComparison, LostWrite, StrategySummary, VersionId};
use crate::resolve::{Resolution, vector};
use crate::scenario::{State, Strategy};

/// Most keys that get a section of their own (graph and table); a page
/// with more lists the next ones in one table, so a large scenario's page
/// stays small (each graph is at most [`graph::MAX_NODES`] boxes).
pub const MAX_KEYS_DRAWN: usize = 20;

/// Most keys listed in the table of keys without a section; the others are
/// counted (the terminal and JSON output list every key).
pub const MAX_KEYS_LISTED: usize = 500;

/// The section listing the keys after the first [`MAX_KEYS_DRAWN`]: one
/// row per key (`row` gives its cells, under `head`), at most
/// [`MAX_KEYS_LISTED`] rows, and how many more there are.
fn other_keys<T>(keys: &[T], head: &[&str], row: impl Fn(&T) -> Vec<String>) -> Option<Section> {
    let rest = keys.get(MAX_KEYS_DRAWN..).filter(|r| !r.is_empty())?;
    let listed = &rest[..rest.len().min(MAX_KEYS_LISTED)];
    let mut section = Section::new("Other keys");
    let unlisted = rest.len() - listed.len();
    section.intro = Some(format!(
        "Only the first {MAX_KEYS_DRAWN} keys are drawn; the next {} are listed here{}.",
        listed.len(),
        if unlisted > 0 {
            format!(
                " and {unlisted} more are left out (the terminal and JSON output list every key)"
            )
        } else {
            String::new()
        }
    ));
    section.body = html! {
        table.keys {
            thead { tr { @for h in head { th { (h) } } } }
            tbody {
                @for key in listed {
                    tr { @for cell in row(key) { td { (cell) } } }
                }
            }
        }
    };
    Some(section)
}

/// The state a resolution resolved, rebuilt from its versions.
fn state_of(resolution: &Resolution) -> State {
    State {
        key: resolution.key.clone(),
        crdt_type: resolution.metadata.crdt_type,
        versions: resolution
            .versions
            .iter()
            .map(|v| v.version.clone())
            .collect(),
    }
}

/// The causality graph of `state` with the roles of `resolution`.
fn graph_chart(state: &State, resolution: &Resolution, whose: &str) -> Chart {
    Chart::new(
        &format!(
            "Causality of the versions of key {} ({whose})",
            shown(&serde_json::Value::String(state.key.clone()))
        ),
        &graph::causality_svg(state, resolution),
    )
}

/// Who won a resolution: `agent v3`, or the merge.
fn winner_text(resolution: &Resolution) -> String {
    if resolution.strategy == Strategy::Crdt {
        let merged = resolution
            .metadata
            .crdt_type
            .map_or(String::new(), |t| format!(" ({})", t.name()));
        format!("merge{merged} of {} versions", resolution.versions.len())
    } else {
        format!("{} v{}", resolution.agent, resolution.version)
    }
}

/// `moai resolve --report`: one section per key.
pub(super) fn resolve(report: &ResolveReport) -> Vec<Section> {
    let mut sections: Vec<Section> = report
        .resolutions
        .iter()
        .take(MAX_KEYS_DRAWN)
        .map(|resolution| {
            let state = state_of(resolution);
            let mut section = Section::new(format!("Key {}", page::cut(&resolution.key)));
            section.intro = Some(format!("{} versions.", resolution.versions.len()));
            section.charts.push(graph_chart(
                &state,
                resolution,
                &format!("roles under {}", resolution.strategy.name()),
            ));
            section.body = html! {
                table.resolution {
                    tr { th scope="row" { "value" } td { (shown(&resolution.value)) } }
                    tr { th scope="row" { "winner" } td { (winner_text(resolution)) } }
                    tr {
                        th scope="row" { "strategy" }
                        td { (resolution.strategy.name()) " (" (resolution.metadata.resolution_strategy) ")" }
                    }
                    tr {
                        th scope="row" { "route" }
                        td { (resolution.metadata.route.as_deref().unwrap_or("none (not hybrid)")) }
                    }
                }
            };
            section
        })
        .collect();
    sections.extend(other_keys(
        &report.resolutions,
        &["key", "value", "winner", "strategy"],
        |r| {
            vec![
                r.key.clone(),
                shown(&r.value),
                winner_text(r),
                r.strategy.name().to_string(),
            ]
        },
    ));
    sections
}

/// `moai resolve --explain KEY --report`: the key's graph and why.
pub(super) fn explanation(report: &ExplanationReport) -> Vec<Section> {
    let e = &report.explanation;
    let resolution = &report.resolution;
    let mut section = Section::new(format!("Key {}", page::cut(&e.key)));
    let how = match (&e.winner, e.crdt_type) {
        (Some(w), Some(t)) => format!("{} v{}, crdt {}", w.agent, w.version, t.name()),
        (Some(w), None) => format!("{} v{}, {}", w.agent, w.version, e.resolution_strategy),
        (None, Some(t)) => format!("crdt {} merge", t.name()),
        (None, None) => e.resolution_strategy.to_string(),
    };
    let route = e.route.as_ref().map_or(String::new(), |r| {
        format!("; route {r} → {}", e.strategy.name())
    });
    section.intro = Some(format!("Resolved: {} ({how}){route}.", shown(&e.value)));
    section.charts.push(graph_chart(
        &state_of(resolution),
        resolution,
        &format!("roles under {}", e.strategy.name()),
    ));
    let lines = explanation_lines(e);
    section.body = html! {
        h3 { "Why" }
        ul.explanation {
            @for line in &lines { li { (line.trim_start()) } }
        }
    };
    vec![section]
}

/// `moai resolve --compare --report`: the totals per strategy (a bar chart
/// of writes lost and a table), then one section per key.
pub(super) fn comparison(report: &ComparisonReport) -> Result<Vec<Section>, Error> {
    let mut sections = vec![summary(&report.summary, &report.omitted)?];
    for (i, key) in report.comparison.iter().enumerate().take(MAX_KEYS_DRAWN) {
        let mut section = Section::new(format!("Key {}", page::cut(&key.key)));
        let state = report.states.get(i).filter(|s| s.key == key.key);
        section.intro = Some(format!(
            "{} of {} versions maximal ({}). Recommended: {}{}: {}",
            key.maximal_versions,
            state.map_or(0, |s| s.versions.len()),
            if key.concurrent_versions {
                "concurrent writes"
            } else {
                "no concurrent writes"
            },
            key.recommendation.strategy.name(),
            key.recommendation
                .crdt_type
                .map_or(String::new(), |t| format!(" ({})", t.name())),
            key.recommendation.reason
        ));
        if let Some(state) = state {
            let resolution = vector::resolve(state);
            section
                .charts
                .push(graph_chart(state, &resolution, "roles under vector clocks"));
        }
        section.body = strategies_table(i, key, &report.omitted);
        sections.push(section);
    }
    sections.extend(other_keys(
        &report.comparison,
        &["key", "recommended", "concurrent writes"],
        |k| {
            vec![
                k.key.clone(),
                k.recommendation.strategy.name().to_string(),
                if k.concurrent_versions { "yes" } else { "no" }.to_string(),
            ]
        },
    ));
    Ok(sections)
}

/// The totals per strategy: writes lost as bars, then a table.
fn summary(summary: &[StrategySummary], omitted: &IndexMap<String, u64>) -> Result<Section, Error> {
    let most = summary.iter().map(|s| s.writes_lost).max().unwrap_or(0) as f64;
    let names: Vec<String> = summary
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{} {}", i + 1, s.strategy.name()))
        .collect();
    let mut frame = Frame::new(
        "Writes lost per strategy, over every key",
        format!("strategy ({})", names.join(", ")),
        "writes lost (versions)",
        0.5..summary.len() as f64 + 0.5,
        0.0..(most * 1.4).max(1.0).ceil(),
    );
    frame.whole_x = true;
    let layers: Vec<Layer> = summary
        .iter()
        .enumerate()
        .map(|(i, s)| Layer {
            name: s.strategy.name().to_string(),
            bars: vec![((i + 1) as f64, s.writes_lost as f64)],
        })
        .collect();
    let chart = charts::stacked_bars(&frame, 0.6, &layers)?;
    let mut section = Section::new("Strategies over every key");
    section.intro = Some(
        "A write is lost when the result reflects neither it nor a version that causally \
         supersedes it."
            .to_string(),
    );
    section.charts.push(chart);
    section.body = html! {
        table.summary {
            thead { tr { th { "strategy" } th { "keys resolved" } th { "writes lost" } th { "keys with concurrent versions" } th { "lost writes" } } }
            tbody {
                @for (i, s) in summary.iter().enumerate() {
                    tr {
                        th scope="row" { (s.strategy.name()) }
                        td { (s.keys_resolved) }
                        td { (s.writes_lost) }
                        td { (s.keys_with_concurrent_versions) }
                        td {
                            (listed(s.lost.iter().map(|l| format!("{}: {}", l.key, lost_text(&l.write))), "; ", omitted, &format!("summary[{i}].lost")))
                        }
                    }
                }
            }
        }
    };
    Ok(section)
}

/// One key's strategies side by side.
fn strategies_table(i: usize, key: &KeyComparison, omitted: &IndexMap<String, u64>) -> Markup {
    html! {
        table.comparison {
            thead { tr { th { "strategy" } th { "value" } th { "kept" } th { "lost writes" } th { "siblings" } } }
            tbody {
                @for (j, row) in key.strategies.iter().enumerate() {
                    @let at = format!("comparison[{i}].strategies[{j}]");
                    @let recommended = row.strategy == key.recommendation.strategy;
                    tr class=[recommended.then_some("recommended")] {
                        th scope="row" {
                            (row.strategy.name())
                            @if let (Some(route), Some(to)) = (&row.route, row.routed_to) {
                                " (route " (route) " → " (to.name()) ")"
                            }
                            @if let Some(t) = row.crdt_type { " (" (t.name()) ")" }
                            @if recommended { " ★ recommended" }
                        }
                        td { (shown(&row.value)) }
                        td { (listed(row.kept.iter().map(id), ", ", omitted, &format!("{at}.kept"))) }
                        td {
                            (listed(row.lost.iter().map(lost_text), ", ", omitted, &format!("{at}.lost")))
                        }
                        td { (listed(row.siblings.iter().map(id), ", ", omitted, &format!("{at}.siblings"))) }
                    }
                }
            }
        }
    }
}

/// A lost write: `agent v3`, with its lost keys and clock skew if any.
fn lost_text(write: &LostWrite) -> String {
    let mut text = format!("{} v{}", write.id.agent, write.id.version);
    if let Some(keys) = &write.keys {
        text.push_str(&format!(" (keys {})", keys.join(", ")));
    }
    if write.clock_skew {
        text.push_str(" (clock skew)");
    }
    text
}

/// Most items a table cell lists; the others are counted.
const MAX_CELL_ITEMS: usize = 50;

/// A version as the tables name it: `agent v3`.
fn id(v: &VersionId) -> String {
    format!("{} v{}", v.agent, v.version)
}

/// A value on one line, cut to the length the page header allows.
fn shown(value: &serde_json::Value) -> String {
    page::cut(&value_text(value))
}

/// The first [`MAX_CELL_ITEMS`] of `items` joined by `sep`, then
/// ` … and N more` counting the rest and what `--list-limit` cut at `path`.
fn listed(
    items: impl ExactSizeIterator<Item = String>,
    sep: &str,
    omitted: &IndexMap<String, u64>,
    path: &str,
) -> String {
    let total = items.len();
    let shown: Vec<String> = items.take(MAX_CELL_ITEMS).collect();
    let more = (total - shown.len()) as u64 + omitted.get(path).copied().unwrap_or(0);
    let mut text = shown.join(sep);
    if more > 0 {
        text.push_str(&format!(" … and {more} more"));
    }
    text
}

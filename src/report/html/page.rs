//! The HTML document around the sections: inline CSS, the scenario header
//! (name, description, effective settings, seed, moai version and results
//! stream), then each section. No script, no external reference.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Serialize;

use super::Section;
use crate::report::{
    CheckMode, CheckReport, ConsensusReport, MadeBy, Overrides, Settings, SweepReport, TrialsReport,
};

/// Longest text a settings value shows; longer ones (a partition's list of
/// agents) are cut with `…`, so a header stays small whatever the swarm.
const MAX_VALUE_CHARS: usize = 160;

/// The page's styles: system fonts only, nothing fetched.
const CSS: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:960px;\
padding:1rem 1.5rem;color:#1a1a1a;background:#fff;line-height:1.45}\
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ccc}\
.kind{color:#555;margin:0}\
table{border-collapse:collapse;margin:.5rem 0}th,td{text-align:left;padding:.2rem .6rem;\
border-bottom:1px solid #e2e2e2;vertical-align:top}th{background:#f3f3f3}\
table.settings th{background:none;font-weight:600}\
figure{margin:1rem 0}figure svg{max-width:100%;height:auto;border:1px solid #e2e2e2}\
figcaption{font-size:.9rem;color:#555}\
.pass{color:#1b5e20;font-weight:600}.fail{color:#b2182b;font-weight:600}.error{color:#8a4b00;font-weight:600}\
.skipped{color:#555}\
footer{margin-top:2rem;color:#666;font-size:.85rem}";

/// What the top of a page says about the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The scenario's name (or the command's, for `check`).
    pub name: String,
    /// What kind of report this is (`gossip, single run`).
    pub kind: String,
    /// The scenario's description.
    pub description: Option<String>,
    /// Labelled facts (seed, trial, agents, each setting, each flag
    /// changed), in order.
    pub facts: Vec<(String, String)>,
    /// The moai that made it.
    pub made_by: MadeBy,
}

impl Header {
    /// A header with a name and kind only.
    pub fn plain(name: &str, kind: &str) -> Self {
        Header {
            name: name.to_string(),
            kind: kind.to_string(),
            description: None,
            facts: Vec::new(),
            made_by: MadeBy::CURRENT,
        }
    }

    /// A single consensus run's header.
    pub fn of_consensus<O>(r: &ConsensusReport<O>, kind: &str) -> Self {
        let mut facts = vec![("seed".to_string(), r.seed.to_string())];
        if let Some(trial) = r.trial {
            facts.push(("trial".to_string(), trial.to_string()));
        }
        let agents = r.participants.len() as u64 + r.omitted.get("participants").unwrap_or(&0);
        facts.push(("agents".to_string(), agents.to_string()));
        facts.extend(settings(&r.settings));
        facts.extend(overrides(&r.overrides));
        Header {
            name: r.scenario.clone(),
            kind: kind.to_string(),
            description: r.description.clone(),
            facts,
            made_by: r.made_by,
        }
    }

    /// A batch of trials' header.
    pub fn of_trials(r: &TrialsReport) -> Self {
        let mut facts = vec![
            ("seed".to_string(), r.seed.to_string()),
            ("agents".to_string(), r.agents.to_string()),
        ];
        facts.extend(settings(&r.settings));
        facts.extend(overrides(&r.overrides));
        Header {
            name: r.scenario.clone(),
            kind: format!("{}, trials", r.algorithm.name()),
            description: r.description.clone(),
            facts,
            made_by: r.made_by,
        }
    }

    /// A sweep's header.
    pub fn of_sweep(r: &SweepReport) -> Self {
        let mut facts = vec![("seed".to_string(), r.seed.to_string())];
        if let Some(trials) = r.trials {
            facts.push(("trials per value".to_string(), trials.to_string()));
        }
        if let Some(row) = r.sweep.first() {
            let values: Vec<&str> = r.sweep.iter().map(|row| row.value.as_str()).collect();
            facts.push((format!("swept {}", row.param), cut(&values.join(", "))));
        }
        facts.extend(overrides(&r.overrides));
        Header {
            name: r.scenario.clone(),
            kind: format!("{}, sweep", r.algorithm.name()),
            description: r.description.clone(),
            facts,
            made_by: r.made_by,
        }
    }

    /// A conflict resolution's header (`kind` names the command).
    pub fn of_resolve(
        made_by: &MadeBy,
        scenario: &str,
        description: Option<&str>,
        kind: &str,
    ) -> Self {
        Header {
            name: scenario.to_string(),
            kind: kind.to_string(),
            description: description.map(str::to_string),
            facts: Vec::new(),
            made_by: *made_by,
        }
    }

    /// `moai check`'s header: the totals.
    pub fn of_check(r: &CheckReport) -> Self {
        let mode = match r.mode {
            CheckMode::Check => "check",
            CheckMode::Validate => "validate",
        };
        let facts = [
            ("passed", r.passed),
            ("failed", r.failed),
            ("errors", r.errors),
            ("skipped", r.skipped),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Header {
            name: format!("moai {mode}"),
            kind: format!("{} scenario files", r.results.len()),
            description: None,
            facts,
            made_by: r.made_by,
        }
    }
}

/// Each setting as `(key, value)`.
fn settings(settings: &Settings) -> Vec<(String, String)> {
    match settings {
        Settings::Byzantine(c) => pairs(c),
        Settings::Gossip(c) => pairs(c),
    }
}

/// Each flag changed, as `(--flag, value)`.
fn overrides(overrides: &Overrides) -> Vec<(String, String)> {
    overrides
        .iter()
        .map(|(k, v)| (format!("--{}", k.replace('_', "-")), value_text(v)))
        .collect()
}

/// The fields of a plain-data struct as `(key, value)` pairs.
fn pairs(value: &impl Serialize) -> Vec<(String, String)> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(map)) => map
            .iter()
            .map(|(k, v)| (k.clone(), value_text(v)))
            .collect(),
        _ => Vec::new(),
    }
}

/// A JSON value as the header shows it: strings bare, the rest as JSON.
fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => cut(s),
        other => cut(&other.to_string()),
    }
}

/// `text`, cut to [`MAX_VALUE_CHARS`] characters with `…`.
pub(super) fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_VALUE_CHARS {
        return text.to_string();
    }
    let mut short: String = text.chars().take(MAX_VALUE_CHARS).collect();
    short.push('…');
    short
}

/// The whole page.
pub fn document(header: &Header, sections: &[Section]) -> String {
    let page: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "moai report: " (header.name) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { (header.name) }
                    p.kind { (header.kind) }
                    @if let Some(description) = &header.description {
                        p.description { (description) }
                    }
                    table.settings {
                        @for (key, value) in &header.facts {
                            tr { th scope="row" { (key) } td { (value) } }
                        }
                        tr {
                            th scope="row" { "moai" }
                            td { (header.made_by.moai_version) ", results stream " (header.made_by.stream) }
                        }
                    }
                }
                main {
                    @for section in sections {
                        section {
                            h2 { (section.title) }
                            @if let Some(intro) = &section.intro {
                                p { (intro) }
                            }
                            @for chart in &section.charts {
                                figure aria-label=(chart.title) {
                                    (PreEscaped(&chart.svg))
                                    figcaption { (chart.title) }
                                }
                            }
                            (section.body)
                        }
                    }
                }
                footer {
                    "Made by moai " (header.made_by.moai_version)
                    " (results stream " (header.made_by.stream) "): the same scenario, seed and flags give the same report."
                }
            }
        }
    };
    let mut text = page.into_string();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_text_and_names_no_url() {
        let mut header = Header::plain("<b>x</b>", "gossip, single run");
        header.facts.push(("seed".into(), "7".into()));
        let mut section = Section::new("Agreement & more");
        section.intro = Some("a < b".into());
        let page = document(&header, &[section]);
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<title>moai report: &lt;b&gt;x&lt;/b&gt;</title>"));
        assert!(page.contains("Agreement &amp; more") && page.contains("a &lt; b"));
        assert!(page.contains("<th scope=\"row\">seed</th><td>7</td>"));
        for external in ["http:", "https:", "url(", "@import", "<script", "src="] {
            assert!(!page.contains(external), "{external}");
        }
    }

    #[test]
    fn long_values_are_cut() {
        let long = "a".repeat(1000);
        assert_eq!(cut(&long).chars().count(), MAX_VALUE_CHARS + 1);
        assert_eq!(cut("short"), "short");
    }
}

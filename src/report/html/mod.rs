//! `--report FILE.html`: one self-contained HTML page per report, with
//! inline SVG charts (drawn by plotters, [`charts`]) and inline CSS, made
//! from maud templates that escape every text by default. The page needs
//! no JavaScript and names no external resource, so it opens offline.
//!
//! Each kind of report becomes a [`page::Header`] and a list of
//! [`Section`]s; [`page::document`] lays them out. A new kind adds a module
//! that returns `Vec<Section>` (charts from [`charts`]: `line_chart` with
//! lines, bands, rules, marks and shaded spans; `stacked_bars`; `bars` for a
//! histogram with marked percentiles; `error_bars`) and one arm in
//! [`render_html`].

pub mod charts;
mod check;
pub mod graph;
pub mod page;
mod resolve;
mod single;
mod sweep;
mod trials;

use maud::{Markup, html};

use super::Report;
use crate::error::Error;
use page::Header;

/// One chart, drawn: its title and its `<svg>` element, ready to inline.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// What the chart shows (also its caption and accessible name).
    pub title: String,
    /// The `<svg>` element, without an XML namespace URL (HTML does not
    /// need one, and the page names no URL).
    pub svg: String,
}

impl Chart {
    /// A chart from plotters' SVG text.
    pub fn new(title: &str, svg: &str) -> Self {
        Chart {
            title: title.to_string(),
            svg: svg.replacen(r#" xmlns="http://www.w3.org/2000/svg""#, "", 1),
        }
    }
}

/// One part of a page: a heading, a line of text, charts, then any other
/// markup (tables).
#[derive(Debug, Clone)]
pub struct Section {
    /// The heading.
    pub title: String,
    /// A sentence under the heading, when there is one.
    pub intro: Option<String>,
    /// Charts, in order.
    pub charts: Vec<Chart>,
    /// Markup after the charts (tables, lists); empty when there is none.
    pub body: Markup,
}

impl Section {
    /// A section with a heading only; fill the other fields as needed.
    pub fn new(title: impl Into<String>) -> Self {
        Section {
            title: title.into(),
            intro: None,
            charts: Vec::new(),
            body: html! {},
        }
    }
}

/// The report as one self-contained HTML page.
pub fn render_html(report: &Report) -> Result<String, Error> {
    let (header, sections) = match report {
        Report::Gossip(r) => (
            Header::of_consensus(r, "gossip, single run"),
            single::gossip(&r.outcome)?,
        ),
        Report::Byzantine(r) => (
            Header::of_consensus(r, "byzantine, single run"),
            single::byzantine(&r.outcome)?,
        ),
        Report::ByzantineSequence(r) => (
            Header::of_consensus(r, "byzantine, proposal sequence"),
            single::sequence(&r.outcome)?,
        ),
        Report::Check(r) => (Header::of_check(r), vec![check::results(r)]),
        Report::Trials(r) => (Header::of_trials(r), trials::sections(r)?),
        Report::Sweep(r) => (Header::of_sweep(r), sweep::sections(r)?),
        Report::Resolve(r) => (
            Header::of_resolve(&r.made_by, &r.scenario, r.description.as_deref(), "resolve"),
            resolve::resolve(r),
        ),
        Report::Explanation(r) => (
            Header::of_resolve(
                &r.made_by,
                &r.scenario,
                r.description.as_deref(),
                "resolve --explain",
            ),
            resolve::explanation(r),
        ),
        Report::Comparison(r) => (
            Header::of_resolve(
                &r.made_by,
                &r.scenario,
                r.description.as_deref(),
                "resolve --compare",
            ),
            resolve::comparison(r)?,
        ),
        Report::Scenarios(_) | Report::Text(_) | Report::Partial(_) => (
            Header::plain("moai", "listing"),
            not_built("this command", "charts"),
        ),
    };
    Ok(page::document(&header, &sections))
}

/// The one section of a kind whose charts are not built yet.
fn not_built(kind: &str, what: &str) -> Vec<Section> {
    let mut section = Section::new("Charts");
    section.intro = Some(format!(
        "The charts of {kind} reports ({what}) are not built yet; the terminal and JSON output \
         hold the full results."
    ));
    vec![section]
}

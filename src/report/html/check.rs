//! `moai check --report`: one row per scenario, failures and errors first,
//! each failed expectation with what was expected and what the run gave.

use maud::html;

use super::Section;
use crate::report::{CheckReport, CheckResult, CheckStatus};

/// Where a status sorts: failures, then errors, then passes, then skipped.
fn rank(status: CheckStatus) -> u8 {
    match status {
        CheckStatus::Fail => 0,
        CheckStatus::Error => 1,
        CheckStatus::Pass => 2,
        CheckStatus::Skipped => 3,
    }
}

/// A status's word and CSS class.
fn word(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pass => "pass",
        CheckStatus::Fail => "fail",
        CheckStatus::Error => "error",
        CheckStatus::Skipped => "skipped",
    }
}

/// The table of results, failures first (files keep their order within a
/// status).
pub(super) fn results(report: &CheckReport) -> Section {
    let mut rows: Vec<&CheckResult> = report.results.iter().collect();
    rows.sort_by_key(|r| rank(r.status));
    let mut section = Section::new("Scenarios");
    section.intro = Some(format!(
        "{} passed, {} failed, {} errors, {} skipped.",
        report.passed, report.failed, report.errors, report.skipped
    ));
    section.body = html! {
        table.check {
            thead { tr { th { "status" } th { "scenario" } th { "file" } th { "expectation" } th { "expected" } th { "actual" } } }
            tbody {
                @for r in &rows {
                    @let span = r.mismatches.len().max(1);
                    tr {
                        td rowspan=(span) class=(word(r.status)) { (word(r.status)) }
                        td rowspan=(span) { (r.scenario.as_deref().unwrap_or("")) }
                        td rowspan=(span) { (r.file) }
                        @match r.mismatches.first() {
                            Some(m) => { td { (m.key) } td { (m.expected) } td { (m.actual) } },
                            None => { td colspan="3" { (summary(r)) } },
                        }
                    }
                    @for m in r.mismatches.iter().skip(1) {
                        tr { td { (m.key) } td { (m.expected) } td { (m.actual) } }
                    }
                }
            }
        }
    };
    section
}

/// What a row without mismatches says.
fn summary(r: &CheckResult) -> String {
    match (r.status, &r.error) {
        (_, Some(error)) => error.clone(),
        (CheckStatus::Pass, None) if r.expectations => "every expectation met".to_string(),
        (CheckStatus::Pass, None) => "no [expect] table; ran without error".to_string(),
        _ => String::new(),
    }
}

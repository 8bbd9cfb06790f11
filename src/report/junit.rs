//! `moai check --junit FILE`: the check results as JUnit XML, one testcase
//! per scenario with the time it took, which CI systems display: a
//! `<failure>` for a missed expectation, an `<error>` for a scenario that
//! could not run, `<skipped>` for a file that is not a scenario. Every
//! name and message is one line of characters XML 1.0 allows: control
//! characters and U+FFFE/U+FFFF are written as escapes (`\u{1b}`), so the
//! file parses whatever the scenarios hold.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{CheckReport, CheckStatus};

/// The JUnit XML for a check report.
pub fn junit(check: &CheckReport) -> String {
    let mut suite = TestSuite::new("moai check");
    let mut total = std::time::Duration::ZERO;
    for result in &check.results {
        let status = match result.status {
            CheckStatus::Pass => TestCaseStatus::success(),
            CheckStatus::Fail => {
                let lines: Vec<String> =
                    result.mismatches.iter().map(ToString::to_string).collect();
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status
                    .set_message(xml_text(&lines.join("; ")))
                    .set_type("expectation");
                status
            }
            CheckStatus::Error => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status
                    .set_message(xml_text(result.error.as_deref().unwrap_or_default()))
                    .set_type("bad input");
                status
            }
            CheckStatus::Skipped => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(xml_text(result.error.as_deref().unwrap_or_default()));
                status
            }
        };
        let name = result.scenario.as_deref().unwrap_or(&result.file);
        let mut case = TestCase::new(xml_text(name), status);
        case.set_classname(xml_text(&result.file));
        case.set_time(result.time);
        total += result.time;
        suite.add_test_case(case);
    }
    suite.set_time(total);
    let mut report = Report::new("moai");
    report.set_time(total);
    report.add_test_suite(suite);
    report
        .to_string()
        .expect("JUnit XML of strings always serializes")
}

/// `text` as one line that XML 1.0 can hold: control characters (which
/// include every character XML forbids below U+0020) and the non-characters
/// U+FFFE and U+FFFF, which XML forbids too, written as escapes.
fn xml_text(text: &str) -> String {
    crate::error::escape_chars(text, |c| {
        c.is_control() || c == '\u{fffe}' || c == '\u{ffff}'
    })
}

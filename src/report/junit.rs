//! `moai check --junit FILE`: the check results as JUnit XML, one testcase
//! per scenario, which CI systems display.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{CheckReport, CheckStatus};

/// The JUnit XML for a check report.
pub fn junit(check: &CheckReport) -> String {
    let mut suite = TestSuite::new("moai check");
    for result in &check.results {
        let status = match result.status {
            CheckStatus::Pass => TestCaseStatus::success(),
            CheckStatus::Fail => {
                let lines: Vec<String> = result
                    .mismatches
                    .iter()
                    .map(|m| format!("{}: expected {}, got {}", m.key, m.expected, m.actual))
                    .collect();
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(lines.join("; ")).set_type("expectation");
                status
            }
            CheckStatus::Error => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status
                    .set_message(result.error.clone().unwrap_or_default())
                    .set_type("bad input");
                status
            }
        };
        let name = result
            .scenario
            .clone()
            .unwrap_or_else(|| result.file.clone());
        let mut case = TestCase::new(name, status);
        case.set_classname(result.file.clone());
        suite.add_test_case(case);
    }
    let mut report = Report::new("moai");
    report.add_test_suite(suite);
    report
        .to_string()
        .expect("JUnit XML of strings always serializes")
}

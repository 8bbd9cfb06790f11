//! `moai check` and `moai validate`: many scenario files at once, one result
//! row each, for CI.

use std::path::{Path, PathBuf};

use super::{Verdict, run_scenario};
use crate::cli::{CommonArgs, TrialArgs};
use crate::error::Error;
use crate::expect::{self, Expectations, Mismatch};
use crate::report::{CheckMode, CheckReport, CheckResult, CheckStatus, Report};
use crate::scenario::{Algorithm, Document, KeyPath, Scenario};

/// Runs every scenario under `paths` and compares it with its `[expect]`.
pub(super) fn check(paths: &[PathBuf]) -> (Report, Verdict) {
    summarize(CheckMode::Check, paths, |file| {
        let (doc, scenario) = load(file)?;
        let mismatches = match &scenario.expect {
            None => {
                run_scenario(
                    &doc,
                    &scenario,
                    &TrialArgs::default(),
                    &CommonArgs::default(),
                )?;
                None
            }
            Some(expect) => Some(expectations(&doc, &scenario, expect)?),
        };
        Ok((scenario, mismatches))
    })
}

/// Checks every scenario under `paths` without running it.
pub(super) fn validate(paths: &[PathBuf]) -> (Report, Verdict) {
    summarize(CheckMode::Validate, paths, |file| {
        let (doc, scenario) = load(file)?;
        let invalid = match scenario.algorithm {
            Algorithm::Byzantine => scenario.byzantine.validate(&scenario.agents),
            Algorithm::Gossip => scenario.gossip.validate(&scenario.agents),
            Algorithm::Resolve => match scenario.resolve.strategy {
                Some(strategy) => scenario.resolve.validate(strategy),
                None => Ok(()),
            },
        };
        invalid.map_err(|e| doc.error_at_key(&KeyPath::parse(&e.key), e.message))?;
        Ok((scenario, None))
    })
}

fn load(file: &Path) -> Result<(Document, Scenario), Error> {
    let doc = Document::read(file)?;
    let scenario = Scenario::parse(&doc)?;
    Ok((doc, scenario))
}

/// The mismatches of a single run and, when the scenario asks for
/// statistics, of its trials.
fn expectations(
    doc: &Document,
    scenario: &Scenario,
    expect: &Expectations,
) -> Result<Vec<Mismatch>, Error> {
    let mut mismatches = Vec::new();
    if expect.wants_single_run() || !expect.wants_trials() {
        let report = run_scenario(doc, scenario, &TrialArgs::default(), &CommonArgs::default())?;
        mismatches.extend(expect::check_run(expect, &report));
    }
    if let Some(trials) = expect.trials {
        let args = TrialArgs {
            trials: Some(trials),
            ..TrialArgs::default()
        };
        if let Report::Trials(report) = run_scenario(doc, scenario, &args, &CommonArgs::default())?
        {
            mismatches.extend(expect::check_trials(expect, &report.trials_summary));
        }
    }
    Ok(mismatches)
}

/// Runs `one` on every scenario file under `paths` and tallies the results.
fn summarize(
    mode: CheckMode,
    paths: &[PathBuf],
    one: impl Fn(&Path) -> Result<(Scenario, Option<Vec<Mismatch>>), Error>,
) -> (Report, Verdict) {
    let mut results = Vec::new();
    for file in scenario_files(paths) {
        let name = file.path.display().to_string();
        let outcome = match file.listed {
            Ok(()) => one(&file.path),
            Err(error) => Err(error),
        };
        let result = match outcome {
            Ok((scenario, mismatches)) => CheckResult {
                file: name,
                scenario: Some(scenario.name),
                algorithm: Some(scenario.algorithm),
                status: match &mismatches {
                    Some(m) if !m.is_empty() => CheckStatus::Fail,
                    _ => CheckStatus::Pass,
                },
                expectations: mismatches.is_some(),
                mismatches: mismatches.unwrap_or_default(),
                error: None,
            },
            Err(error) => CheckResult {
                file: name,
                scenario: None,
                algorithm: None,
                status: CheckStatus::Error,
                expectations: false,
                mismatches: Vec::new(),
                error: Some(error.to_string()),
            },
        };
        results.push(result);
    }
    let count = |status: CheckStatus| results.iter().filter(|r| r.status == status).count() as u64;
    let (passed, errors) = (count(CheckStatus::Pass), count(CheckStatus::Error));
    let failed = results.len() as u64 - passed;
    let verdict = if errors > 0 {
        Verdict::BadInput
    } else if failed > 0 {
        Verdict::Failed(None)
    } else {
        Verdict::Pass
    };
    (
        Report::Check(CheckReport {
            mode,
            passed,
            failed,
            results,
        }),
        verdict,
    )
}

/// The files to check, in a stable order: each path as given, directories
/// walked recursively for `*.toml` in name order. A directory that cannot be
/// listed becomes an error entry.
fn scenario_files(paths: &[PathBuf]) -> Vec<FileEntry> {
    let mut out = Vec::new();
    for path in paths {
        collect(path, &mut out);
    }
    out
}

/// A file to check, or why a path could not be listed.
struct FileEntry {
    path: PathBuf,
    listed: Result<(), Error>,
}

fn collect(path: &Path, out: &mut Vec<FileEntry>) {
    if !path.is_dir() {
        out.push(FileEntry {
            path: path.to_path_buf(),
            listed: Ok(()),
        });
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) => {
            let listed = Err(Error::Read {
                path: path.display().to_string(),
                reason: e.to_string(),
            });
            out.push(FileEntry {
                path: path.to_path_buf(),
                listed,
            });
            return;
        }
    };
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    for child in children {
        if child.is_dir() || child.extension().is_some_and(|e| e == "toml") {
            collect(&child, out);
        }
    }
}

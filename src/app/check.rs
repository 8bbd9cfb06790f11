//! `moai check` and `moai validate`: many scenario files at once, one result
//! row each, for CI.
//!
//! Directories are searched as ripgrep searches them (the `ignore` crate):
//! hidden entries and what `.gitignore`, `.ignore` and `.moaiignore` files ignore are
//! skipped, symbolic links are followed but every directory and file is
//! visited once, and only regular `*.toml` files are read. A `*.toml` file
//! without an `algorithm` key is not a scenario: it is listed as skipped. A
//! path that yields no scenario at all is an error, so CI cannot pass by
//! checking nothing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ignore::WalkBuilder;

use super::consensus::check_threads;
use super::{Verdict, refuse_overwrite, run_scenario};
use crate::cli::{CommonArgs, TrialArgs};
use crate::error::Error;
use crate::expect;
use crate::report::{CheckMode, CheckReport, CheckResult, CheckStatus, MadeBy, Mismatch, Report};
use crate::scenario::bundled::Bundled;
use crate::scenario::{Algorithm, Document, Expectations, KeyPath, Scenario};

/// What every scenario runs with: `--seed` and `--threads`.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct RunWith {
    /// Overrides every scenario's seed.
    pub seed: Option<u64>,
    /// Worker threads for trials.
    pub threads: Option<usize>,
    /// `--allow-long`: lifts the total-work cap.
    pub allow_long: bool,
}

/// Runs every scenario under `paths` and compares it with its `[expect]`.
/// `junit` and `report` (`--report`) are refused when they name one of the
/// files found.
pub(super) fn check(
    paths: &[PathBuf],
    with: RunWith,
    junit: Option<&Path>,
    report: Option<&Path>,
) -> Result<(Report, Verdict), Error> {
    check_threads(with.threads)?;
    let entries = scenario_files(paths)?;
    refuse_overwrite("--junit", junit, entries.iter().filter_map(Entry::path))?;
    refuse_overwrite("--report", report, entries.iter().filter_map(Entry::path))?;
    Ok(summarize(
        CheckMode::Check,
        entries,
        |doc, scenario| match &scenario.expect {
            None => {
                run_scenario(doc, scenario, &trial_args(with, None), &common_args(with))?;
                Ok(None)
            }
            Some(expect) => expectations(doc, scenario, expect, with, None).map(Some),
        },
    ))
}

/// Checks every scenario under `paths` without running it.
pub(super) fn validate(paths: &[PathBuf]) -> Result<(Report, Verdict), Error> {
    let entries = scenario_files(paths)?;
    Ok(summarize(CheckMode::Validate, entries, |doc, scenario| {
        let invalid = match scenario.algorithm {
            Algorithm::Byzantine => scenario.byzantine.validate(&scenario.agents),
            Algorithm::Gossip => scenario.gossip.validate(&scenario.agents),
            Algorithm::Resolve => match scenario.resolve.strategy {
                Some(strategy) => scenario.resolve.validate(strategy),
                None => Ok(()),
            },
        };
        invalid.map_err(|e| doc.error_at_key(&KeyPath::parse(&e.key), e.message))?;
        Ok(None)
    }))
}

fn common_args(with: RunWith) -> CommonArgs {
    CommonArgs {
        seed: with.seed,
        ..CommonArgs::default()
    }
}

fn trial_args(with: RunWith, trials: Option<u64>) -> TrialArgs {
    TrialArgs {
        trials,
        threads: with.threads,
        allow_long: with.allow_long,
        ..TrialArgs::default()
    }
}

/// The mismatches between a scenario's outcome and its `[expect]`: of a
/// single run (`single` when it already ran, so `moai run` does not run it
/// twice) and, when the scenario asks for them, of its trials
/// (`trials = N`) and its exact law (`exact = true`).
pub(super) fn expectations(
    doc: &Document,
    scenario: &Scenario,
    expect: &Expectations,
    with: RunWith,
    single: Option<&Report>,
) -> Result<Vec<Mismatch>, Error> {
    let mut mismatches = Vec::new();
    if expect.wants_single_run() || !(expect.wants_trials() || expect.wants_exact()) {
        let ran;
        let report = match single {
            Some(report) => report,
            None => {
                ran = run_scenario(doc, scenario, &trial_args(with, None), &common_args(with))?;
                &ran
            }
        };
        mismatches.extend(expect::check_run(expect, report));
    }
    if expect.lost_writes.is_some()
        && let Report::Comparison(report) = super::compare::run(doc, scenario, None)?
    {
        mismatches.extend(expect::check_lost_writes(expect, &report.summary));
    }
    if expect.trials.is_some() || expect.wants_exact() {
        // Trials and the exact law in one run, as `--trials N --exact` makes them.
        let args = TrialArgs {
            exact: expect.wants_exact(),
            ..trial_args(with, expect.trials)
        };
        if let Report::Trials(report) = run_scenario(doc, scenario, &args, &common_args(with))? {
            if let Some(summary) = &report.statistics.trials_summary {
                mismatches.extend(expect::check_trials(expect, summary));
            }
            if let Some(summary) = &report.statistics.exact_summary {
                mismatches.extend(expect::check_exact(expect, summary));
            }
        }
    }
    Ok(mismatches)
}

/// Runs `one` on every scenario found and tallies the results.
fn summarize(
    mode: CheckMode,
    entries: Vec<Entry>,
    one: impl Fn(&Document, &Scenario) -> Result<Option<Vec<Mismatch>>, Error>,
) -> (Report, Verdict) {
    let mut results = Vec::new();
    for entry in entries {
        let start = Instant::now();
        let mut result = match entry {
            Entry::Skipped(path) => CheckResult {
                status: CheckStatus::Skipped,
                error: Some("not a scenario (no algorithm key)".to_string()),
                ..row(path.display().to_string())
            },
            Entry::Unlisted { name, error } => errored(name, &error),
            Entry::Scenario(source) => match source.load() {
                Err(error) => errored(source.name(), &error),
                Ok((doc, scenario)) => match one(&doc, &scenario) {
                    Err(error) => errored(doc.name, &error),
                    Ok(mismatches) => CheckResult {
                        scenario: Some(scenario.name),
                        algorithm: Some(scenario.algorithm),
                        status: match &mismatches {
                            Some(m) if !m.is_empty() => CheckStatus::Fail,
                            _ => CheckStatus::Pass,
                        },
                        expectations: mismatches.is_some(),
                        mismatches: mismatches.unwrap_or_default(),
                        ..row(doc.name)
                    },
                },
            },
        };
        result.time = start.elapsed();
        results.push(result);
    }
    let count = |status: CheckStatus| results.iter().filter(|r| r.status == status).count() as u64;
    let (passed, failed) = (count(CheckStatus::Pass), count(CheckStatus::Fail));
    let (errors, skipped) = (count(CheckStatus::Error), count(CheckStatus::Skipped));
    let verdict = if errors > 0 {
        Verdict::BadInput
    } else if failed > 0 {
        Verdict::Failed(None)
    } else {
        Verdict::Pass
    };
    (
        Report::Check(CheckReport {
            made_by: MadeBy::CURRENT,
            mode,
            passed,
            failed,
            errors,
            skipped,
            results,
        }),
        verdict,
    )
}

/// A passing row for `file`, to fill in.
fn row(file: String) -> CheckResult {
    CheckResult {
        file,
        scenario: None,
        algorithm: None,
        status: CheckStatus::Pass,
        expectations: false,
        mismatches: Vec::new(),
        error: None,
        time: Duration::ZERO,
    }
}

fn errored(file: String, error: &Error) -> CheckResult {
    CheckResult {
        status: CheckStatus::Error,
        error: Some(error.to_string()),
        ..row(file)
    }
}

/// Where a scenario's text comes from.
enum Source {
    /// A file, named on the command line or found in a directory.
    File(PathBuf),
    /// `-`: standard input.
    Stdin,
    /// A bundled scenario's name, where no file of that name exists.
    Bundled(Bundled),
}

impl Source {
    /// The name a row shows when the scenario cannot be read.
    fn name(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Stdin => "<stdin>".to_string(),
            Source::Bundled(bundled) => bundled.document().name,
        }
    }

    fn load(&self) -> Result<(Document, Scenario), Error> {
        let doc = match self {
            Source::File(path) => Document::read(path)?,
            Source::Stdin => Document::read(Path::new("-"))?,
            Source::Bundled(bundled) => bundled.document(),
        };
        let scenario = Scenario::parse(&doc)?;
        Ok((doc, scenario))
    }
}

/// One row to come: a scenario, a file that is not one, or a part of a
/// directory that could not be listed.
enum Entry {
    Scenario(Source),
    Skipped(PathBuf),
    Unlisted { name: String, error: Error },
}

impl Entry {
    /// The file on disk this entry reads, if any.
    fn path(&self) -> Option<&Path> {
        match self {
            Entry::Scenario(Source::File(path)) | Entry::Skipped(path) => Some(path),
            _ => None,
        }
    }
}

/// The canonical paths of the directories and files already visited.
type Visited = Arc<Mutex<HashSet<PathBuf>>>;

/// Whether `path` is seen for the first time (a path that cannot be
/// resolved, such as a pipe, always is).
fn first_visit(visited: &Visited, path: &Path) -> bool {
    match std::fs::canonicalize(path) {
        Ok(canonical) => visited
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(canonical),
        Err(_) => true,
    }
}

/// The files to check, in a stable order: each path as given (a bundled
/// scenario's name when no such file exists), directories searched
/// recursively for `*.toml` in name order. A path that yields no scenario is
/// an error.
fn scenario_files(paths: &[PathBuf]) -> Result<Vec<Entry>, Error> {
    let visited = Visited::default();
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            out.push(Entry::Scenario(Source::Stdin));
            continue;
        }
        if std::fs::symlink_metadata(path).is_err() {
            let bundled = path.to_str().and_then(Bundled::named);
            let Some(bundled) = bundled else {
                let reason = match Document::open(path) {
                    Err(Error::Read { reason, .. }) => reason,
                    _ => "no such file".to_string(),
                };
                return Err(no_scenarios(path, &reason));
            };
            out.push(Entry::Scenario(Source::Bundled(bundled)));
            continue;
        }
        if !path.is_dir() {
            if first_visit(&visited, path) {
                out.push(Entry::Scenario(Source::File(path.clone())));
            }
            continue;
        }
        // A directory named twice is searched once, and not reported empty
        // the second time.
        if !first_visit(&visited, path) {
            continue;
        }
        let start = out.len();
        walk(path, &visited, &mut out);
        let found = &out[start..];
        if found.iter().all(|e| matches!(e, Entry::Skipped(_))) {
            let reason = match found.len() {
                0 => "no *.toml files".to_string(),
                n => format!("only *.toml files without an algorithm key ({n} skipped)"),
            };
            return Err(no_scenarios(path, &reason));
        }
    }
    Ok(out)
}

fn no_scenarios(path: &Path, reason: &str) -> Error {
    Error::Usage(format!(
        "no scenario files found under '{}': {reason}",
        path.display()
    ))
}

/// Adds the `*.toml` files under the directory `root` to `out`.
fn walk(root: &Path, visited: &Visited, out: &mut Vec<Entry>) {
    let seen = Arc::clone(visited);
    let walker = WalkBuilder::new(root)
        .hidden(true)
        .ignore(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        // Like ripgrep's `.rgignore`: what only moai should skip.
        .add_custom_ignore_filename(".moaiignore")
        // .gitignore applies outside a git repository too (a CI checkout
        // without .git, a copied tree).
        .require_git(false)
        .follow_links(true)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(move |entry| {
            !entry.file_type().is_some_and(|t| t.is_dir()) || first_visit(&seen, entry.path())
        })
        .build();
    for found in walker {
        match found {
            Ok(entry) => {
                // Directories, FIFOs, sockets and devices are not read.
                let regular = entry.file_type().is_some_and(|t| t.is_file());
                if regular && is_toml(entry.path()) && first_visit(visited, entry.path()) {
                    out.push(classify(entry.path()));
                }
            }
            Err(error) => out.extend(walk_error(root, &error)),
        }
    }
}

fn is_toml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "toml")
}

/// A found `*.toml` file: a scenario, unless it is TOML without an
/// `algorithm` key. A file that cannot be read or parsed is kept as a
/// scenario, so its error is reported.
fn classify(path: &Path) -> Entry {
    if let Ok(doc) = Document::read(path)
        && doc.is_other_toml()
    {
        return Entry::Skipped(path.to_path_buf());
    }
    Entry::Scenario(Source::File(path.to_path_buf()))
}

/// The row for an error met while searching `root`: none for a symbolic
/// link back to a directory already searched, or for an unreadable entry
/// that is neither a directory nor a `*.toml` file (a dangling link).
fn walk_error(root: &Path, error: &ignore::Error) -> Option<Entry> {
    let mut inner = error;
    let mut path = None;
    loop {
        match inner {
            ignore::Error::Loop { .. } => return None,
            ignore::Error::WithPath { path: p, err } => {
                path = Some(p.as_path());
                inner = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                inner = err;
            }
            _ => break,
        }
    }
    let path = path.unwrap_or(root);
    if !path.is_dir() && !is_toml(path) {
        return None;
    }
    let reason = match error.io_error() {
        Some(io) => io.to_string(),
        None => inner.to_string(),
    };
    Some(Entry::Unlisted {
        name: path.display().to_string(),
        error: Error::Read {
            path: path.display().to_string(),
            reason,
        },
    })
}

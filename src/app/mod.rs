//! The pipeline behind the binary: parse arguments, load the scenario, merge
//! flags over it, validate, run, render. Errors are turned into one line on
//! stderr and an exit code here, and nowhere else. Nothing here panics on a
//! failed write: stdout failing is an error (exit 2) unless it is a closed
//! pipe, and a failed write to stderr is ignored, so the exit code stays
//! moai's own (0, 1 or 2) whatever the streams are. `consensus` holds the
//! Byzantine and gossip runs with their trials and sweeps; `check` runs
//! scenarios against their expectations.

mod check;
mod compare;
mod consensus;
mod explain;
mod generate;
mod merge;

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;

use crate::cli::{
    ByzantineArgs, Cli, ColorChoice, Command, CommonArgs, ExpectArgs, GossipArgs, RunArgs,
    TrialArgs,
};
use crate::error::{Error, one_line};
use crate::report::{self, Format, Report, ResolveReport, ScenarioEntry};
use crate::resolve;
use crate::scenario::bundled::{self, Bundled};
use crate::scenario::{Algorithm, Document, KeyPath, Scenario, Strategy};
use crate::shard::TrialSource;

/// Exit code when an expectation failed.
pub const EXIT_EXPECTATION_FAILED: u8 = 1;
/// Exit code for bad input or usage.
pub const EXIT_BAD_INPUT: u8 = 2;

/// Set by the binary before `main` when the process started with standard
/// output closed (`moai gossip >&-`): the Rust runtime then opens /dev/null
/// in its place, where results would vanish unseen, so writing them fails.
pub static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether a command's results met what was asked of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing failed.
    Pass,
    /// An expectation failed; the message says which (printed on stderr
    /// unless the report already shows it).
    Failed(Option<String>),
    /// Some input was bad (the report shows which).
    BadInput,
}

/// What a command produced and where it goes.
pub struct Output {
    /// The results.
    pub report: Report,
    /// How to print them on stdout.
    pub format: Format,
    /// Where to also write the per-round history as CSV (`-`: stdout, and
    /// the report to stderr).
    pub history: Option<PathBuf>,
    /// Where to also write a JUnit XML report (`-`: stdout, and the report
    /// to stderr).
    pub junit: Option<PathBuf>,
    /// Where to also write the HTML report (`--report`).
    pub html: Option<PathBuf>,
    /// Whether the results met what was asked of them.
    pub verdict: Verdict,
    /// A line for stderr after the report when the verdict passed (that the
    /// scenario's `[expect]` held).
    pub passed: Option<String>,
}

impl Output {
    fn of(report: Report, format: Format) -> Self {
        Output {
            report,
            format,
            history: None,
            junit: None,
            html: None,
            verdict: Verdict::Pass,
            passed: None,
        }
    }

    /// The output of a simulation: in `common`'s format, with its `--report`.
    fn of_common(report: Report, common: &CommonArgs) -> Self {
        Output {
            html: common.report.clone(),
            ..Output::of(report, common.format)
        }
    }
}

/// Runs moai with the given arguments (the first is the program name) and
/// returns the process exit code.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    let mut cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) => return clap_exit(error),
    };
    if let Some(trials) = trial_args(&mut cli.command).filter(|t| t.shard.is_some()) {
        trials.source = TrialSource::Shard {
            command: merge::unsharded_command(&args[1..]),
        };
    }
    match execute(cli.command).and_then(|output| emit(&output, cli.color).map(|()| output)) {
        Ok(Output {
            verdict: Verdict::Pass,
            passed,
            ..
        }) => {
            if let Some(line) = passed {
                let _ = writeln!(std::io::stderr(), "moai: {line}");
            }
            ExitCode::SUCCESS
        }
        Ok(Output {
            verdict: Verdict::Failed(message),
            ..
        }) => {
            if let Some(message) = message {
                let _ = writeln!(std::io::stderr(), "moai: {}", one_line(&message));
            }
            ExitCode::from(EXIT_EXPECTATION_FAILED)
        }
        Ok(Output {
            verdict: Verdict::BadInput,
            ..
        }) => ExitCode::from(EXIT_BAD_INPUT),
        Err(error) => fail(&error),
    }
}

/// The Monte Carlo options of a command that runs trials.
fn trial_args(command: &mut Command) -> Option<&mut TrialArgs> {
    match command {
        Command::Byzantine(args) => Some(&mut args.trials),
        Command::Gossip(args) => Some(&mut args.trials),
        Command::Run(args) => Some(&mut args.trials),
        _ => None,
    }
}

/// Colour only when asked, or by default when the report goes to a
/// terminal (`terminal`) with `NO_COLOR` unset (or empty) and `TERM` not
/// `dumb`.
fn use_color(choice: ColorChoice, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            terminal
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

/// Writes the history, JUnit and HTML report files, if asked for, then the report on
/// stdout. A history or JUnit report written to stdout (`-`) takes stdout,
/// and the report goes to stderr.
fn emit(output: &Output, color: ColorChoice) -> Result<(), Error> {
    let mut data = None;
    if let Some(path) = &output.history {
        let csv = report::render(&output.report, Format::Csv, false).map_err(|_| Error::Flag {
            flag: "--history",
            message: "only single-proposal byzantine and gossip runs have a per-round history"
                .to_string(),
        })?;
        if is_stdout(path) {
            data = Some(csv);
        } else {
            write_file("--history", path, &csv)?;
        }
    }
    if let (Some(path), Report::Check(check)) = (&output.junit, &output.report) {
        let xml = report::junit(check);
        if is_stdout(path) {
            data = Some(xml);
        } else {
            write_file("--junit", path, &xml)?;
        }
    }
    if let Some(path) = &output.html {
        if is_stdout(path) {
            return Err(Error::Flag {
                flag: "--report",
                message: "the HTML report is written to a file, not to standard output ('-')"
                    .to_string(),
            });
        }
        write_file("--report", path, &report::render_html(&output.report)?)?;
    }
    let Some(data) = data else {
        let color = use_color(color, std::io::stdout().is_terminal());
        return write_stdout(&report::render(&output.report, output.format, color)?);
    };
    let color = use_color(color, std::io::stderr().is_terminal());
    let text = report::render(&output.report, output.format, color)?;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
    write_stdout(&data)
}

/// Whether an output path is `-`, standard output.
fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Writes `text` on stdout. A full or closed stdout is an error; a closed
/// pipe (`moai ... | head`) is not.
fn write_stdout(text: &str) -> Result<(), Error> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Err(Error::Usage(
            "cannot write output: standard output is closed".to_string(),
        ));
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A closed pipe (`moai ... | head`) is not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Usage(format!("cannot write output: {e}")))
        }
        _ => Ok(()),
    }
}

/// Refuses a `--report` path that is the scenario file read.
fn refuse_report(common: &CommonArgs, scenario: Option<&Path>) -> Result<(), Error> {
    refuse_overwrite("--report", common.report.as_deref(), scenario)
}

/// Refuses an output file (`flag`'s) that is one of the scenario files
/// read, which writing it would destroy.
pub(super) fn refuse_overwrite<'a>(
    flag: &'static str,
    output: Option<&Path>,
    inputs: impl IntoIterator<Item = &'a Path>,
) -> Result<(), Error> {
    // An output that does not exist yet cannot be an input.
    let Some((output, canonical)) = output
        .filter(|p| !is_stdout(p))
        .and_then(|p| Some((p, std::fs::canonicalize(p).ok()?)))
    else {
        return Ok(());
    };
    for input in inputs {
        if std::fs::canonicalize(input).is_ok_and(|c| c == canonical) {
            return Err(Error::Flag {
                flag,
                message: format!(
                    "'{}' is the scenario file '{}' read as input; refusing to overwrite it",
                    output.display(),
                    input.display()
                ),
            });
        }
    }
    Ok(())
}

fn write_file(flag: &'static str, path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|e| Error::Flag {
        flag,
        message: format!("cannot write '{}': {e}", path.display()),
    })
}

fn fail(error: &Error) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "moai: {error}");
    ExitCode::from(EXIT_BAD_INPUT)
}
/// Help and version go to stdout with success (exit 2 when stdout cannot
/// take them, as for results); every other clap error (bare `moai`
/// included, which shows the help) goes whole to stderr (the message,
/// clap's tip or possible values, and the usage line) with exit 2.
fn clap_exit(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let text = error.render().to_string();
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => match write_stdout(&text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => fail(&error),
        },
        _ => {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

/// Runs one command.
pub fn execute(command: Command) -> Result<Output, Error> {
    execute_with(command, None)
}

/// Executes `command`, with the scenario `preloaded` instead of the one its
/// arguments name when given (`moai merge` runs a part's command again with
/// the scenario the part carries).
fn execute_with(command: Command, preloaded: Option<Document>) -> Result<Output, Error> {
    let load = |path: Option<&Path>, default: Bundled| match preloaded.clone() {
        Some(doc) => Scenario::parse(&doc).map(|scenario| (doc, scenario)),
        None => load(path, default),
    };
    match command {
        Command::Merge(args) => merge::run(&args),
        Command::Byzantine(args) => {
            refuse_overwrite(
                "--history",
                args.trials.history.as_deref(),
                args.scenario.as_deref(),
            )?;
            refuse_report(&args.common, args.scenario.as_deref())?;
            let (doc, scenario) = load(args.scenario.as_deref(), bundled::INFRA)?;
            let report = consensus::run_byzantine(&doc, &scenario, &args)?;
            consensus_output(report, &args.common, &args.trials, &args.expect)
        }
        Command::Gossip(args) => {
            refuse_overwrite(
                "--history",
                args.trials.history.as_deref(),
                args.scenario.as_deref(),
            )?;
            refuse_report(&args.common, args.scenario.as_deref())?;
            let (doc, scenario) = load(args.scenario.as_deref(), bundled::GOSSIP_SWARM)?;
            let report = consensus::run_gossip(&doc, &scenario, &args)?;
            consensus_output(report, &args.common, &args.trials, &args.expect)
        }
        Command::Resolve(args) if args.compare => {
            refuse_report(&args.common, args.scenario.as_deref())?;
            let (doc, scenario) = load(args.scenario.as_deref(), bundled::CRDT_PATTERNS)?;
            let mut report = compare::run(&doc, &scenario, args.strategy)?;
            report::limit_lists(&mut report, args.common.list_limit);
            Ok(Output::of_common(report, &args.common))
        }
        Command::Resolve(args) => {
            refuse_report(&args.common, args.scenario.as_deref())?;
            let (doc, scenario) = load(args.scenario.as_deref(), bundled::CRDT_PATTERNS)?;
            if let Some(key) = &args.explain {
                let report = explain::run(&doc, &scenario, args.strategy, key)?;
                return Ok(Output::of_common(report, &args.common));
            }
            let mut report = run_resolve(&doc, &scenario, args.strategy)?;
            report::limit_lists(&mut report, args.common.list_limit);
            Ok(Output::of_common(report, &args.common))
        }
        Command::Run(RunArgs {
            scenario: path,
            trials,
            expect,
            common,
        }) => {
            refuse_overwrite("--history", trials.history.as_deref(), [path.as_path()])?;
            refuse_report(&common, Some(path.as_path()))?;
            let (doc, scenario) = load(Some(path.as_path()), bundled::INFRA)?;
            let report = run_scenario(&doc, &scenario, &trials, &common)?;
            let mismatches = match &scenario.expect {
                None => None,
                Some(file_expect) => {
                    // The single run shown is the one `moai check` compares;
                    // trials and sweeps shown are not, so it runs its own.
                    let single =
                        (trials.trials.is_none() && trials.sweep.is_none() && !trials.exact)
                            .then_some(&report);
                    let with = check::RunWith {
                        seed: common.seed,
                        threads: trials.threads,
                        allow_long: trials.allow_long,
                    };
                    Some(check::expectations(
                        &doc,
                        &scenario,
                        file_expect,
                        with,
                        single,
                    )?)
                }
            };
            let output = consensus_output(report, &common, &trials, &expect)?;
            Ok(match mismatches {
                None => output,
                Some(mismatches) => with_expect_verdict(output, &mismatches),
            })
        }
        Command::Scenarios(args) => Ok(Output::of(Report::Scenarios(list_bundled()?), args.format)),
        Command::Check(args) => {
            let with = check::RunWith {
                seed: args.seed,
                threads: args.threads,
                allow_long: args.allow_long,
            };
            let (report, verdict) = check::check(
                &args.files.paths,
                with,
                args.junit.as_deref(),
                args.report.as_deref(),
            )?;
            Ok(Output {
                junit: args.junit,
                html: args.report,
                verdict,
                ..Output::of(report, args.files.format)
            })
        }
        Command::Validate(args) => {
            let (report, verdict) = check::validate(&args.paths)?;
            Ok(Output {
                verdict,
                ..Output::of(report, args.format)
            })
        }
        Command::New(args) => Ok(Output::of(
            Report::Text(generate::new_scenario(&args.name, args.from.as_deref())?),
            Format::Table,
        )),
        Command::Schema => Ok(Output::of(Report::Text(generate::schema()), Format::Table)),
        Command::Completions(args) => Ok(Output::of(
            Report::Text(generate::completions(args.shell)),
            Format::Table,
        )),
        Command::Man(args) => Ok(Output::of(
            Report::Text(generate::man_page(args.command.as_deref())?),
            Format::Table,
        )),
    }
}

/// Runs a scenario with the algorithm it names, as `moai run` does.
pub fn run_scenario(
    doc: &Document,
    scenario: &Scenario,
    trials: &TrialArgs,
    common: &CommonArgs,
) -> Result<Report, Error> {
    match scenario.algorithm {
        Algorithm::Byzantine => {
            let args = ByzantineArgs {
                trials: trials.clone(),
                common: common.clone(),
                ..ByzantineArgs::default()
            };
            consensus::run_byzantine(doc, scenario, &args)
        }
        Algorithm::Gossip => {
            let args = GossipArgs {
                trials: trials.clone(),
                common: common.clone(),
                ..GossipArgs::default()
            };
            consensus::run_gossip(doc, scenario, &args)
        }
        Algorithm::Resolve => {
            consensus::check_threads(trials.threads)?;
            if trials.trials.is_some() || trials.sweep.is_some() {
                return Err(Error::Flag {
                    flag: "--trials",
                    message:
                        "conflict resolution draws no random numbers: every trial would be the same"
                            .into(),
                });
            }
            if trials.exact {
                return Err(Error::Flag {
                    flag: "--exact",
                    message:
                        "conflict resolution draws no random numbers: its result is already certain"
                            .into(),
                });
            }
            run_resolve(doc, scenario, None)
        }
    }
}

/// The output of a consensus command, with `--expect-decision` applied and
/// agent lists cut to `--list-limit`.
fn consensus_output(
    mut report: Report,
    common: &CommonArgs,
    trials: &TrialArgs,
    expect: &ExpectArgs,
) -> Result<Output, Error> {
    let verdict = match expect.expect_decision {
        None => Verdict::Pass,
        Some(expected) => {
            let actual = report.decision().ok_or_else(|| Error::Flag {
                flag: "--expect-decision",
                message: "needs a single run with a decision (not trials, sweeps, the exact \
                          law or resolve)"
                    .into(),
            })?;
            if actual == expected {
                Verdict::Pass
            } else {
                Verdict::Failed(Some(format!(
                    "expectation failed: decision is {}, expected {}",
                    actual.name(),
                    expected.name()
                )))
            }
        }
    };
    report::limit_lists(&mut report, common.list_limit);
    Ok(Output {
        history: trials.history.clone(),
        verdict,
        ..Output::of_common(report, common)
    })
}

/// `output` with the verdict of the scenario's `[expect]` added, as `moai
/// run` gives it: a failed expectation fails the command (after the report
/// is printed), as `moai check` would fail the file.
fn with_expect_verdict(mut output: Output, mismatches: &[report::Mismatch]) -> Output {
    if mismatches.is_empty() {
        if output.verdict == Verdict::Pass {
            output.passed = Some("all [expect] expectations met".to_string());
        }
        return output;
    }
    let parts: Vec<String> = mismatches.iter().map(ToString::to_string).collect();
    let message = format!("expectation failed: {}", parts.join("; "));
    output.verdict = match output.verdict {
        Verdict::Failed(Some(first)) => Verdict::Failed(Some(format!("{first}; {message}"))),
        _ => Verdict::Failed(Some(message)),
    };
    output
}

/// Reads the scenario at `path`, or the bundled default when there is none.
fn load(path: Option<&Path>, default: Bundled) -> Result<(Document, Scenario), Error> {
    let doc = match path {
        Some(path) => Document::open(path)?,
        None => default.document(),
    };
    let scenario = Scenario::parse(&doc)?;
    Ok((doc, scenario))
}

fn run_resolve(
    doc: &Document,
    scenario: &Scenario,
    strategy: Option<Strategy>,
) -> Result<Report, Error> {
    let config = &scenario.resolve;
    let strategy = resolve_strategy(doc, scenario, strategy)?;
    Ok(Report::Resolve(ResolveReport {
        made_by: report::MadeBy::CURRENT,
        scenario: scenario.name.clone(),
        algorithm: Algorithm::Resolve,
        strategy,
        description: scenario.description.clone(),
        resolutions: resolve::resolve(config, strategy),
        omitted: Default::default(),
    }))
}

/// The strategy a resolve run uses (`--strategy`, else the file's), once
/// the file's states are checked to resolve under it.
fn resolve_strategy(
    doc: &Document,
    scenario: &Scenario,
    strategy: Option<Strategy>,
) -> Result<Strategy, Error> {
    let config = &scenario.resolve;
    let strategy = strategy.or(config.strategy).ok_or_else(|| {
        doc.error_at_key(
            &KeyPath::parse("strategy"),
            "no strategy: set strategy = \"lww\", \"vector\", \"crdt\" or \"hybrid\", or pass --strategy",
        )
    })?;
    config
        .validate(strategy)
        .map_err(|e| doc.error_at_key(&KeyPath::parse(&e.key), e.message))?;
    Ok(strategy)
}

/// Summaries of the bundled scenarios.
fn list_bundled() -> Result<Vec<ScenarioEntry>, Error> {
    bundled::ALL
        .iter()
        .map(|b| {
            let scenario = Scenario::parse(&b.document())?;
            Ok(ScenarioEntry {
                name: scenario.name,
                algorithm: scenario.algorithm,
                file: format!("scenarios/{}", b.file),
                description: scenario.description.unwrap_or_default(),
            })
        })
        .collect()
}

//! The pipeline behind the binary: parse arguments, load the scenario, merge
//! flags over it, validate, run, render. Errors are turned into one line on
//! stderr and exit code 2 here, and nowhere else. `consensus` holds the
//! Byzantine and gossip runs with their trials and sweeps.

mod consensus;
mod generate;

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{ByzantineArgs, Cli, Command, GossipArgs, RunArgs};
use crate::error::Error;
use crate::report::{self, Format, Report, ResolveReport, ScenarioEntry};
use crate::resolve::{self, Strategy};
use crate::scenario::bundled::{self, Bundled};
use crate::scenario::{Algorithm, Document, KeyPath, Scenario};

/// Exit code for bad input or usage.
pub const EXIT_BAD_INPUT: u8 = 2;

/// What a command produced and where it goes.
pub struct Output {
    /// The results.
    pub report: Report,
    /// How to print them on stdout.
    pub format: Format,
    /// Where to also write the per-round history as CSV.
    pub history: Option<PathBuf>,
}

/// Runs moai with the given arguments (the first is the program name) and
/// returns the process exit code.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => return clap_exit(error),
    };
    match execute(cli.command).and_then(|output| emit(&output)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

/// Writes the history file, if asked for, then the report on stdout.
fn emit(output: &Output) -> Result<(), Error> {
    if let Some(path) = &output.history {
        let csv = report::render(&output.report, Format::Csv).map_err(|_| Error::Flag {
            flag: "--history",
            message: "only single-proposal byzantine and gossip runs have a per-round history"
                .to_string(),
        })?;
        std::fs::write(path, csv).map_err(|e| Error::Flag {
            flag: "--history",
            message: format!("cannot write '{}': {e}", path.display()),
        })?;
    }
    let text = report::render(&output.report, output.format)?;
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

fn fail(error: &Error) -> ExitCode {
    eprintln!("moai: {error}");
    ExitCode::from(EXIT_BAD_INPUT)
}

/// Help and version go to stdout with code 0; usage errors become one line.
fn clap_exit(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            ExitCode::SUCCESS
        }
        _ => {
            let rendered = error.render().to_string();
            let first = rendered
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid usage");
            let first = first.trim_start_matches("error: ");
            fail(&Error::Usage(format!("{first} (see 'moai --help')")))
        }
    }
}

/// Runs one command.
pub fn execute(command: Command) -> Result<Output, Error> {
    let output = |report, format, history: Option<PathBuf>| Output {
        report,
        format,
        history,
    };
    match command {
        Command::Byzantine(args) => {
            let (doc, scenario) = load(args.scenario.as_deref(), bundled::INFRA)?;
            let report = consensus::run_byzantine(&doc, &scenario, &args)?;
            Ok(output(report, args.common.format, args.trials.history))
        }
        Command::Gossip(args) => {
            let (doc, scenario) = load(args.scenario.as_deref(), bundled::GOSSIP_SWARM)?;
            let report = consensus::run_gossip(&doc, &scenario, &args)?;
            Ok(output(report, args.common.format, args.trials.history))
        }
        Command::Resolve(args) => {
            let (doc, scenario) = load(args.scenario.as_deref(), bundled::CRDT_PATTERNS)?;
            Ok(output(
                run_resolve(&doc, &scenario, args.strategy)?,
                args.common.format,
                None,
            ))
        }
        Command::Run(RunArgs {
            scenario: path,
            trials,
            common,
        }) => {
            let (doc, scenario) = load(Some(&path), bundled::INFRA)?;
            let (format, history) = (common.format, trials.history.clone());
            let report = match scenario.algorithm {
                Algorithm::Byzantine => {
                    let args = ByzantineArgs {
                        trials,
                        common,
                        ..ByzantineArgs::default()
                    };
                    consensus::run_byzantine(&doc, &scenario, &args)?
                }
                Algorithm::Gossip => {
                    let args = GossipArgs {
                        trials,
                        common,
                        ..GossipArgs::default()
                    };
                    consensus::run_gossip(&doc, &scenario, &args)?
                }
                Algorithm::Resolve => {
                    if trials.trials.is_some() || trials.sweep.is_some() {
                        return Err(Error::Flag {
                            flag: "--trials",
                            message: "conflict resolution draws no random numbers: every trial would be the same".into(),
                        });
                    }
                    run_resolve(&doc, &scenario, None)?
                }
            };
            Ok(output(report, format, history))
        }
        Command::Scenarios(args) => Ok(output(
            Report::Scenarios(list_bundled()?),
            args.format,
            None,
        )),
        Command::Schema => Ok(output(
            Report::Text(generate::schema()),
            Format::Table,
            None,
        )),
        Command::Completions(args) => Ok(output(
            Report::Text(generate::completions(args.shell)),
            Format::Table,
            None,
        )),
        Command::Man(args) => Ok(output(
            Report::Text(generate::man_page(args.command.as_deref())?),
            Format::Table,
            None,
        )),
    }
}

/// Reads the scenario at `path`, or the bundled default when there is none.
fn load(path: Option<&Path>, default: Bundled) -> Result<(Document, Scenario), Error> {
    let doc = match path {
        Some(path) => Document::read(path)?,
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
    let strategy = strategy.or(config.strategy).ok_or_else(|| {
        doc.error_at_key(
            &KeyPath::parse("strategy"),
            "no strategy: set strategy = \"lww\", \"vector\", \"crdt\" or \"hybrid\", or pass --strategy",
        )
    })?;
    config
        .validate(strategy)
        .map_err(|e| doc.error_at_key(&KeyPath::parse(&e.key), e.message))?;
    Ok(Report::Resolve(ResolveReport {
        scenario: scenario.name.clone(),
        algorithm: Algorithm::Resolve,
        strategy,
        description: scenario.description.clone(),
        resolutions: resolve::resolve(config, strategy),
    }))
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

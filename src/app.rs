//! The pipeline behind the binary: parse arguments, load the scenario, merge
//! flags over it, validate, run, render. Errors are turned into one line on
//! stderr and exit code 2 here, and nowhere else.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{ByzantineArgs, Cli, Command, CommonArgs, GossipArgs, RunArgs};
use crate::consensus::{byzantine, gossip};
use crate::error::{Error, InvalidSetting};
use crate::report::{
    self, ConsensusReport, Format, ProposalEntry, ProposalSequence, Report, ResolveReport,
    ScenarioEntry,
};
use crate::resolve::{self, Strategy};
use crate::rng;
use crate::scenario::bundled::{self, Bundled};
use crate::scenario::{self, Algorithm, Document, KeyPath, Scenario, Vote};

/// Exit code for bad input or usage.
pub const EXIT_BAD_INPUT: u8 = 2;

/// Runs moai with the given arguments (the first is the program name) and
/// returns the process exit code.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => return clap_exit(error),
    };
    match execute(cli.command) {
        Ok((report, format)) => {
            let text = report::render(&report, format);
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                // A closed pipe (`moai ... | head`) is not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => fail(&Error::Usage(format!("cannot write output: {e}"))),
            }
        }
        Err(error) => fail(&error),
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

/// Runs one command and returns its report and the format to print it in.
pub fn execute(command: Command) -> Result<(Report, Format), Error> {
    match command {
        Command::Byzantine(args) => {
            let (doc, scenario) = load(args.scenario.as_deref(), bundled::INFRA)?;
            let format = args.common.format;
            Ok((run_byzantine(&doc, &scenario, &args)?, format))
        }
        Command::Gossip(args) => {
            let (doc, scenario) = load(args.scenario.as_deref(), bundled::GOSSIP_SWARM)?;
            let format = args.common.format;
            Ok((run_gossip(&doc, scenario, &args)?, format))
        }
        Command::Resolve(args) => {
            let (doc, scenario) = load(args.scenario.as_deref(), bundled::CRDT_PATTERNS)?;
            Ok((
                run_resolve(&doc, &scenario, args.strategy)?,
                args.common.format,
            ))
        }
        Command::Run(RunArgs {
            scenario: path,
            common,
        }) => {
            let doc = Document::read(&path)?;
            let scenario = Scenario::parse(&doc)?;
            let format = common.format;
            let report = match scenario.algorithm {
                Algorithm::Byzantine => {
                    let args = ByzantineArgs {
                        common,
                        ..ByzantineArgs::default()
                    };
                    run_byzantine(&doc, &scenario, &args)?
                }
                Algorithm::Gossip => {
                    let args = GossipArgs {
                        common,
                        ..GossipArgs::default()
                    };
                    run_gossip(&doc, scenario, &args)?
                }
                Algorithm::Resolve => run_resolve(&doc, &scenario, None)?,
            };
            Ok((report, format))
        }
        Command::Scenarios(args) => Ok((Report::Scenarios(list_bundled()?), args.format)),
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

/// Records which settings flags changed, so a setting that fails validation
/// is reported at the flag that set it rather than at the file.
#[derive(Default)]
struct Overrides(Vec<&'static str>);

impl Overrides {
    fn set<T>(&mut self, target: &mut T, value: Option<T>, flag: &'static str) {
        if let Some(value) = value {
            *target = value;
            self.0.push(flag);
        }
    }

    fn locate(&self, doc: &Document, invalid: InvalidSetting) -> Error {
        match invalid.flag {
            Some(flag) if self.0.contains(&flag) => Error::Flag {
                flag,
                message: invalid.message,
            },
            _ => doc.error_at_key(&KeyPath::parse(&invalid.key), invalid.message),
        }
    }
}

fn consensus_report<O>(
    scenario: &Scenario,
    seed: u64,
    algorithm: Algorithm,
    outcome: O,
) -> ConsensusReport<O> {
    ConsensusReport {
        scenario: scenario.name.clone(),
        algorithm,
        seed,
        description: scenario.description.clone(),
        proposal: scenario.proposal.clone(),
        outcome,
    }
}

fn seed(common: &CommonArgs, scenario: &Scenario) -> u64 {
    common
        .seed
        .or(scenario.seed)
        .unwrap_or(scenario::DEFAULT_SEED)
}

fn run_byzantine(
    doc: &Document,
    scenario: &Scenario,
    args: &ByzantineArgs,
) -> Result<Report, Error> {
    let mut config = scenario.byzantine.clone();
    let mut overrides = Overrides::default();
    overrides.set(
        &mut config.fault_tolerance,
        args.fault_tolerance,
        "--fault-tolerance",
    );
    overrides.set(&mut config.num_rounds, args.rounds, "--rounds");
    config
        .validate(&scenario.agents)
        .map_err(|e| overrides.locate(doc, e))?;
    let seed = seed(&args.common, scenario);
    let mut rng = rng::generator(seed);
    if scenario.proposals.is_empty() {
        let outcome = byzantine::run(&scenario.agents, &config, &mut rng);
        return Ok(Report::Byzantine(Box::new(consensus_report(
            scenario,
            seed,
            Algorithm::Byzantine,
            outcome,
        ))));
    }
    let (results, blacklist) = byzantine::run_sequence(
        &scenario.agents,
        scenario.proposals.len(),
        &config,
        &mut rng,
    );
    let sequence = ProposalSequence {
        proposals: scenario
            .proposals
            .iter()
            .cloned()
            .zip(results)
            .map(|(proposal, result)| ProposalEntry { proposal, result })
            .collect(),
        healthy_agents: scenario
            .agents
            .iter()
            .filter(|a| !blacklist.contains(&a.id))
            .map(|a| a.id.clone())
            .collect(),
        blacklist,
    };
    Ok(Report::ByzantineSequence(Box::new(consensus_report(
        scenario,
        seed,
        Algorithm::Byzantine,
        sequence,
    ))))
}

fn run_gossip(doc: &Document, mut scenario: Scenario, args: &GossipArgs) -> Result<Report, Error> {
    let mut overrides = Overrides::default();
    if args.agents.is_some() || args.approve.is_some() {
        scenario.agents = generated_swarm(&scenario, args.agents, args.approve)?;
        overrides.0.push("--agents");
    }
    let mut config = scenario.gossip.clone();
    overrides.set(&mut config.fanout, args.fanout, "--fanout");
    overrides.set(&mut config.max_rounds, args.rounds, "--rounds");
    overrides.set(
        &mut config.convergence_threshold,
        args.convergence_threshold,
        "--convergence-threshold",
    );
    overrides.set(&mut config.threshold, args.threshold, "--threshold");
    config
        .validate(&scenario.agents)
        .map_err(|e| overrides.locate(doc, e))?;
    let seed = seed(&args.common, &scenario);
    let outcome = gossip::run(&scenario.agents, &config, &mut rng::generator(seed));
    Ok(Report::Gossip(Box::new(consensus_report(
        &scenario,
        seed,
        Algorithm::Gossip,
        outcome,
    ))))
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
        .map_err(|e| Overrides::default().locate(doc, e))?;
    Ok(Report::Resolve(ResolveReport {
        scenario: scenario.name.clone(),
        algorithm: Algorithm::Resolve,
        strategy,
        description: scenario.description.clone(),
        resolutions: resolve::resolve(config, strategy),
    }))
}

/// The swarm `--agents N --approve K` asks for. A missing `--agents` keeps
/// the scenario's agent count; a missing `--approve` keeps its approving share
/// (rounded down).
fn generated_swarm(
    scenario: &Scenario,
    agents: Option<u64>,
    approve: Option<u64>,
) -> Result<Vec<scenario::Agent>, Error> {
    let current = scenario.agents.len() as u64;
    let count = agents.unwrap_or(current);
    if count > scenario::MAX_AGENTS {
        return Err(Error::Flag {
            flag: "--agents",
            message: format!(
                "{count} agents is more than the limit of {}",
                scenario::MAX_AGENTS
            ),
        });
    }
    let approving = match approve {
        Some(k) => k,
        None if current == 0 => count,
        None => {
            let share = scenario
                .agents
                .iter()
                .filter(|a| a.vote == Vote::For)
                .count() as u128;
            (u128::from(count) * share / u128::from(current)) as u64
        }
    };
    if approving > count {
        return Err(Error::Flag {
            flag: "--approve",
            message: format!("{approving} approving agents is more than the {count} agents"),
        });
    }
    Ok(scenario::swarm(count, approving))
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

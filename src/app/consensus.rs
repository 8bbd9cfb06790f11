//! Byzantine and gossip runs from the command line: flags merged over the
//! scenario, then one run, N trials (`--trials`) or N trials per value of a
//! setting (`--sweep`).

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::ops::Range;

use indexmap::IndexMap;
use indicatif::ProgressBar;
use serde::Serialize;

use crate::cli::{ByzantineArgs, CommonArgs, GossipArgs, TrialArgs};
use crate::consensus::byzantine;
use crate::consensus::gossip::{self, SettingWarning};
use crate::error::{Error, InvalidSetting};
use crate::exact::{self, ExactSummary};
use crate::memory;
use crate::montecarlo::{self, AgreementBands, ByzantineTrials, GossipTrials, Sweep};
use crate::report::{
    self, ConsensusReport, Format, MadeBy, ProposalSequence, Report, Settings, Statistics,
    SweepReport, SweepRow, TrialRuns, TrialsReport, TrialsSummary,
};
use crate::rng::{self, SimRng};
use crate::scenario::{
    self, Algorithm, Behavior, ByzantineConfig, Document, GossipConfig, KeyPath, Scenario, Swarm,
    Vote,
};
use crate::shard::{self, PartBatch, Shard, Sums, TrialSource};
use crate::work::Work;

/// The settings flags changed, with the value each set: the output shows
/// them, and a setting that fails validation is reported at the flag that
/// set it rather than at the file.
#[derive(Default)]
pub(super) struct Overrides {
    /// Flag -> the value it set, in the order they apply.
    values: IndexMap<&'static str, serde_json::Value>,
    /// The flag that replaced the scenario's agents with generated ones.
    swarm: Option<&'static str>,
}

impl Overrides {
    /// Sets `target` to `value` when the flag was given, and records it.
    fn set<T: Serialize>(&mut self, target: &mut T, value: Option<T>, flag: &'static str) {
        if let Some(value) = value {
            self.record(flag, &value);
            *target = value;
        }
    }

    /// Records that `flag` was given with `value`.
    fn record<T: Serialize>(&mut self, flag: &'static str, value: &T) {
        let value =
            serde_json::to_value(value).expect("flag values are numbers, strings or booleans");
        self.values.insert(flag, value);
    }

    /// Records that `flag` replaced the scenario's agents: a setting that
    /// then fails only because the file's agents are gone is blamed on it.
    fn replace_swarm(&mut self, flag: &'static str) {
        self.swarm = Some(flag);
    }

    /// The error for an invalid setting: at its flag when a flag set it; at
    /// the agents' flag when generated agents broke a setting that holds
    /// with the file's agents (`file_agents_valid`); else at the file's key.
    fn locate(
        &self,
        doc: &Document,
        invalid: InvalidSetting,
        file_agents_valid: impl FnOnce() -> bool,
    ) -> Error {
        if let Some(flag) = invalid.flag.filter(|f| self.values.contains_key(f)) {
            return Error::Flag {
                flag,
                message: invalid.message,
            };
        }
        let in_file = doc.error_at_key(&KeyPath::parse(&invalid.key), invalid.message);
        match self.swarm {
            Some(flag) if file_agents_valid() => Error::Flag {
                flag,
                message: format!(
                    "the generated agents (agent-1, agent-2, ...) replace the scenario's, \
                     which it still refers to: {in_file}"
                ),
            },
            _ => in_file,
        }
    }

    /// The overrides as the report records them, by setting name.
    fn report(&self) -> report::Overrides {
        self.values
            .iter()
            .map(|(flag, value)| (setting_name(flag), value.clone()))
            .collect()
    }

    /// The warning about a setting, said at the flag when a flag set it,
    /// else at the key when the file sets it, else on its own; `None` for a
    /// setting left at a default that only matters when set.
    fn warning(&self, doc: &Document, warning: SettingWarning) -> Option<String> {
        if self.values.contains_key(warning.flag) {
            return Some(format!("{}: {}", warning.flag, warning.message));
        }
        let key = KeyPath::parse(warning.key);
        if doc.has_key(&key) {
            return Some(doc.error_at_key(&key, warning.message).to_string());
        }
        (!warning.only_when_set).then_some(warning.message)
    }
}

/// Warnings written to stderr as they come, each once however many
/// batches of a sweep raise it.
#[derive(Default)]
struct Warnings {
    given: RefCell<Vec<String>>,
    /// Whether to hold them until [`Warnings::release`]: settings are
    /// checked before a run, and a run refused then warns of nothing.
    held: bool,
}

impl Warnings {
    /// Warnings kept until released (and dropped if never released).
    fn held() -> Self {
        Warnings {
            held: true,
            ..Warnings::default()
        }
    }

    fn warn(&self, line: String) {
        let mut given = self.given.borrow_mut();
        if !given.contains(&line) {
            if !self.held {
                let _ = writeln!(
                    std::io::stderr(),
                    "moai: warning: {}",
                    crate::error::one_line(&line)
                );
            }
            given.push(line);
        }
    }

    /// Writes the warnings held so far.
    fn release(&self) {
        for line in self.given.borrow().iter() {
            let _ = writeln!(std::io::stderr(), "moai: warning: {line}");
        }
    }
}

/// The name a flag's setting goes by in reports and `--sweep`:
/// `--fault-tolerance` -> `fault_tolerance`.
fn setting_name(flag: &str) -> String {
    flag.trim_start_matches("--").replace('-', "_")
}

/// A consensus algorithm ready to run: participants, validated settings,
/// seed, and the overrides that made them.
struct Prepared<C> {
    agents: Swarm,
    config: C,
    seed: u64,
    overrides: report::Overrides,
}

/// What the total-work cap, the history limit and `--exact` need to know
/// of a run.
trait Planned {
    /// The settings, as reports record them.
    fn settings(&self) -> Settings;
    /// The exact law of the run, or why it cannot be computed.
    fn exact(&self) -> Result<ExactSummary, String>;
    /// The most rounds one run may take.
    fn rounds(&self) -> u32;
    /// The most work one run (one trial) may do.
    fn work(&self) -> Work;
    /// The memory a batch of trials laid out as `layout` holds.
    fn need(&self, layout: &memory::Layout) -> memory::Need;
}

impl Planned for Prepared<ByzantineConfig> {
    fn settings(&self) -> Settings {
        Settings::Byzantine(self.config.clone())
    }

    fn exact(&self) -> Result<ExactSummary, String> {
        exact::byzantine::law(&self.agents, &self.config).map(ExactSummary::Byzantine)
    }

    fn rounds(&self) -> u32 {
        self.config.num_rounds
    }

    fn work(&self) -> Work {
        Work::byzantine(self.agents.len() as u64, self.config.num_rounds, 1)
    }

    fn need(&self, layout: &memory::Layout) -> memory::Need {
        memory::byzantine(&self.agents, &self.config, 0, layout)
    }
}

impl Planned for Prepared<GossipConfig> {
    fn settings(&self) -> Settings {
        Settings::Gossip(self.config.clone())
    }

    fn exact(&self) -> Result<ExactSummary, String> {
        exact::gossip::law(&self.agents, &self.config).map(ExactSummary::Gossip)
    }

    fn rounds(&self) -> u32 {
        self.config.max_rounds
    }

    fn work(&self) -> Work {
        Work::gossip(
            self.agents.len() as u64,
            self.config.max_rounds,
            self.config.fanout,
        )
    }

    fn need(&self, layout: &memory::Layout) -> memory::Need {
        memory::gossip(&self.agents, &self.config, layout)
    }
}

/// `1 trial`, `2 trials`.
fn trials_text(trials: u64) -> String {
    format!("{trials} trial{}", if trials == 1 { "" } else { "s" })
}

/// Refuses a single run whose `work` passes the total-work cap, unless
/// `allow_long`; `factors` says what was multiplied.
fn check_single(work: Work, allow_long: bool, factors: &str) -> Result<(), Error> {
    work.check(allow_long, "this run", factors, "")
        .map_err(Error::Usage)
}

/// The seed: `--seed`, else the scenario's, else the default.
fn seed(common: &CommonArgs, scenario: &Scenario, overrides: &mut Overrides) -> u64 {
    let mut seed = scenario.seed.unwrap_or(scenario::DEFAULT_SEED);
    overrides.set(&mut seed, common.seed, "--seed");
    seed
}

/// The report of one run (`trial` for `--trial`); `participants` is made
/// from the swarm only up to `list_limit` ids, so a huge swarm never spells
/// out every id.
fn consensus_report<C, O>(
    scenario: &Scenario,
    p: &Prepared<C>,
    trial: Option<u64>,
    settings: Settings,
    outcome: O,
    list_limit: usize,
) -> Box<ConsensusReport<O>> {
    let agents = &p.agents;
    let mut omitted = IndexMap::new();
    if agents.len() > list_limit {
        omitted.insert(
            "participants".to_string(),
            (agents.len() - list_limit) as u64,
        );
    }
    Box::new(ConsensusReport {
        made_by: MadeBy::CURRENT,
        scenario: scenario.name.clone(),
        algorithm: match settings {
            Settings::Byzantine(_) => Algorithm::Byzantine,
            Settings::Gossip(_) => Algorithm::Gossip,
        },
        seed: p.seed,
        trial,
        description: scenario.description.clone(),
        overrides: p.overrides.clone(),
        settings,
        proposal: scenario.proposal.clone(),
        participants: agents.ids().take(list_limit).collect(),
        outcome,
        omitted,
    })
}

fn prepare_byzantine(
    doc: &Document,
    scenario: &Scenario,
    args: &ByzantineArgs,
) -> Result<Prepared<ByzantineConfig>, Error> {
    let mut config = scenario.byzantine.clone();
    let mut overrides = Overrides::default();
    let flags = SwarmFlags {
        agents: args.agents,
        approve: args.approve,
        faulty: args.faulty,
        behavior: args.behavior.map(Behavior::from),
    };
    let agents = generated_swarm(scenario, &flags, &mut overrides)?
        .unwrap_or_else(|| scenario.agents.clone());
    overrides.set(
        &mut config.fault_tolerance,
        args.fault_tolerance,
        "--fault-tolerance",
    );
    overrides.set(&mut config.num_rounds, args.rounds, "--rounds");
    let seed = seed(&args.common, scenario, &mut overrides);
    config.validate(&agents).map_err(|e| {
        // Too few generated agents for the file's f: --agents set the count.
        if e.key == "byzantine.fault_tolerance"
            && args.agents.is_some()
            && args.fault_tolerance.is_none()
        {
            Error::Flag {
                flag: "--agents",
                message: e.message,
            }
        } else {
            overrides.locate(doc, e, || config.validate(&scenario.agents).is_ok())
        }
    })?;
    Ok(Prepared {
        agents,
        config,
        seed,
        overrides: overrides.report(),
    })
}

fn prepare_gossip(
    doc: &Document,
    scenario: &Scenario,
    args: &GossipArgs,
    warnings: &Warnings,
) -> Result<Prepared<GossipConfig>, Error> {
    let mut overrides = Overrides::default();
    let flags = SwarmFlags {
        agents: args.agents,
        approve: args.approve,
        faulty: None,
        behavior: None,
    };
    let agents = generated_swarm(scenario, &flags, &mut overrides)?
        .unwrap_or_else(|| scenario.agents.clone());
    let mut config = scenario.gossip.clone();
    overrides.set(&mut config.fanout, args.fanout, "--fanout");
    overrides.set(&mut config.max_rounds, args.rounds, "--rounds");
    overrides.set(
        &mut config.convergence_threshold,
        args.convergence_threshold,
        "--convergence-threshold",
    );
    overrides.set(
        &mut config.min_participation,
        args.min_participation,
        "--min-participation",
    );
    overrides.set(&mut config.threshold, args.threshold, "--threshold");
    overrides.set(&mut config.loss, args.loss, "--loss");
    overrides.set(&mut config.topology, args.topology, "--topology");
    overrides.set(&mut config.degree, args.degree, "--degree");
    overrides.set(&mut config.rewire, args.rewire, "--rewire");
    if args.no_early_stop {
        config.early_stop = false;
        overrides.record("--no-early-stop", &true);
    }
    let seed = seed(&args.common, scenario, &mut overrides);
    config
        .validate(&agents)
        .map_err(|e| overrides.locate(doc, e, || config.validate(&scenario.agents).is_ok()))?;
    for warning in config.warnings(&agents) {
        if let Some(line) = overrides.warning(doc, warning) {
            warnings.warn(line);
        }
    }
    Ok(Prepared {
        agents,
        config,
        seed,
        overrides: overrides.report(),
    })
}

/// A Byzantine vote: one run, a sequence of proposals, trials or a sweep.
pub(super) fn run_byzantine(
    doc: &Document,
    scenario: &Scenario,
    args: &ByzantineArgs,
) -> Result<Report, Error> {
    check_threads(args.trials.threads)?;
    let plan = TrialPlan::of(&args.trials, &args.common)?;
    if !scenario.proposals.is_empty() && plan.is_some() {
        return Err(if args.trials.exact {
            Error::Flag {
                flag: "--exact",
                message: "a scenario with [[proposals]] runs once; the exact law, like trials, \
                          takes a single proposal"
                    .into(),
            }
        } else {
            Error::Flag {
                flag: if args.trials.sweep.is_some() {
                    "--sweep"
                } else {
                    "--trials"
                },
                message: "a scenario with [[proposals]] runs once; trials and sweeps take a \
                          single proposal"
                    .into(),
            }
        });
    }
    let trial = single_trial(&args.trials)?;
    let Some(plan) = plan.filter(|_| trial.is_none()) else {
        let p = prepare_byzantine(doc, scenario, args)?;
        let proposals = scenario.proposals.len() as u64;
        check_single(
            Work::byzantine(p.agents.len() as u64, p.config.num_rounds, proposals),
            args.trials.allow_long,
            if proposals > 0 {
                "proposals × agents × rounds"
            } else {
                "agents × rounds"
            },
        )?;
        let layout = memory::Layout::single(1, args.common.list_limit as u64, args.common.format);
        let need = memory::byzantine(&p.agents, &p.config, scenario.proposals.len(), &layout);
        memory::check(&need).map_err(too_big)?;
        return Ok(single_byzantine(
            scenario,
            &p,
            trial,
            args.common.list_limit,
        ));
    };
    let prepare = |args: &ByzantineArgs, _: &Warnings| prepare_byzantine(doc, scenario, args);
    let batch = |p: &Prepared<ByzantineConfig>,
                 progress: &ProgressBar,
                 range: Range<u64>|
     -> Result<Batch, Error> {
        let mut trials = ByzantineTrials::default();
        let kept = plan.run(
            p.seed,
            range,
            progress,
            |rng| {
                // Trial summaries only ask whether a list is empty.
                let mut outcome = byzantine::run_listing(&p.agents, &p.config, rng, 1);
                montecarlo::slim_byzantine(&mut outcome, plan.keep_runs);
                outcome
            },
            |outcome| trials.add(outcome),
        )?;
        Ok((Sums::Byzantine(trials), kept.map(TrialRuns::Byzantine)))
    };
    plan.report(
        doc,
        scenario,
        Algorithm::Byzantine,
        args,
        BYZANTINE_SWEEPABLE,
        prepare,
        batch,
    )
}

/// One Byzantine vote, or a sequence of proposals; `trial` is `--trial`.
fn single_byzantine(
    scenario: &Scenario,
    p: &Prepared<ByzantineConfig>,
    trial: Option<u64>,
    list_limit: usize,
) -> Report {
    let mut rng = single_generator(p.seed, trial);
    let settings = Settings::Byzantine(p.config.clone());
    let trial = trial.filter(|&t| t > 0);
    if scenario.proposals.is_empty() {
        let outcome = byzantine::run_listing(&p.agents, &p.config, &mut rng, list_limit);
        return Report::Byzantine(consensus_report(
            scenario, p, trial, settings, outcome, list_limit,
        ));
    }
    let (results, blacklist) =
        byzantine::run_sequence(&p.agents, scenario.proposals.len(), &p.config, &mut rng);
    let sequence = ProposalSequence::new(&scenario.proposals, results, blacklist, &p.agents);
    Report::ByzantineSequence(consensus_report(
        scenario, p, trial, settings, sequence, list_limit,
    ))
}

/// `--trial I`, checked against `--trials N` (clap makes sure both are there).
fn single_trial(args: &TrialArgs) -> Result<Option<u64>, Error> {
    match (args.trial, args.trials) {
        (Some(trial), Some(trials)) if trial >= trials => Err(Error::Flag {
            flag: "--trial",
            message: format!(
                "trials are numbered 0 to {} with --trials {trials}, got {trial}",
                trials - 1
            ),
        }),
        (trial, _) => Ok(trial),
    }
}

/// The generator of a single run: the seed's, or with `--trial I` the
/// seed's stream I, which trial I of `--trials` draws from (stream 0 is the
/// seed's own generator, so trial 0 is the plain run).
fn single_generator(seed: u64, trial: Option<u64>) -> SimRng {
    match trial {
        None => rng::generator(seed),
        Some(trial) => rng::trial_generator(seed, trial),
    }
}

/// Gossip consensus: one run, trials or a sweep.
pub(super) fn run_gossip(
    doc: &Document,
    scenario: &Scenario,
    args: &GossipArgs,
) -> Result<Report, Error> {
    check_threads(args.trials.threads)?;
    let plan = TrialPlan::of(&args.trials, &args.common)?;
    let trial = single_trial(&args.trials)?;
    let Some(plan) = plan.filter(|_| trial.is_none()) else {
        let warnings = Warnings::held();
        let p = prepare_gossip(doc, scenario, args, &warnings)?;
        check_single(p.work(), args.trials.allow_long, "agents × rounds")?;
        let threads = args.trials.threads.unwrap_or_else(default_threads);
        let layout = memory::Layout::single(
            threads as u64,
            args.common.list_limit as u64,
            args.common.format,
        );
        memory::check(&memory::gossip(&p.agents, &p.config, &layout)).map_err(too_big)?;
        warnings.release();
        let run = || gossip::run(&p.agents, &p.config, &mut single_generator(p.seed, trial));
        let outcome = match args.trials.threads {
            None => run(),
            Some(threads) => montecarlo::in_pool(threads, run).map_err(|message| Error::Flag {
                flag: "--threads",
                message,
            })?,
        };
        return Ok(Report::Gossip(consensus_report(
            scenario,
            &p,
            trial.filter(|&t| t > 0),
            Settings::Gossip(p.config.clone()),
            outcome,
            args.common.list_limit,
        )));
    };
    let prepare =
        |args: &GossipArgs, warnings: &Warnings| prepare_gossip(doc, scenario, args, warnings);
    let batch = |p: &Prepared<GossipConfig>,
                 progress: &ProgressBar,
                 range: Range<u64>|
     -> Result<Batch, Error> {
        // With a trial on every thread, a trial's blocks run on its own
        // thread: one waiting for a block never starts another trial.
        let parallel_blocks = range.end - range.start < plan.threads as u64;
        let mut trials = GossipTrials::default();
        let bands = AgreementBands::default();
        let kept = plan.run(
            p.seed,
            range,
            progress,
            |rng| {
                let mut outcome = gossip::run_blocks(&p.agents, &p.config, rng, parallel_blocks);
                bands.record(&outcome);
                montecarlo::slim_gossip(&mut outcome, plan.keep_runs);
                outcome
            },
            |outcome| trials.add(outcome),
        )?;
        let sums = Sums::Gossip {
            trials,
            agreement_by_round: bands.totals(),
        };
        Ok((sums, kept.map(TrialRuns::Gossip)))
    };
    plan.report(
        doc,
        scenario,
        Algorithm::Gossip,
        args,
        GOSSIP_SWEEPABLE,
        prepare,
        batch,
    )
}

/// A run refused by the memory guard.
fn too_big(message: String) -> Error {
    Error::Usage(message)
}

fn parse_value<T: std::str::FromStr>(value: &str) -> Result<T, Error> {
    value.parse().map_err(|_| Error::Flag {
        flag: "--sweep",
        message: format!("'{value}' is not a valid value for this setting"),
    })
}

/// A setting `--sweep` can vary: its name and how a value sets it.
type Sweepable<A> = (&'static str, fn(&mut A, &str) -> Result<(), Error>);

/// What `moai byzantine --sweep` can vary.
const BYZANTINE_SWEEPABLE: &[Sweepable<ByzantineArgs>] = &[
    ("fault_tolerance", |a, v| set(&mut a.fault_tolerance, v)),
    ("rounds", |a, v| set(&mut a.rounds, v)),
    ("agents", |a, v| set(&mut a.agents, v)),
    ("approve", |a, v| set(&mut a.approve, v)),
    ("faulty", |a, v| set(&mut a.faulty, v)),
];

/// What `moai gossip --sweep` can vary.
const GOSSIP_SWEEPABLE: &[Sweepable<GossipArgs>] = &[
    ("agents", |a, v| set(&mut a.agents, v)),
    ("approve", |a, v| set(&mut a.approve, v)),
    ("fanout", |a, v| set(&mut a.fanout, v)),
    ("rounds", |a, v| set(&mut a.rounds, v)),
    ("convergence_threshold", |a, v| {
        set(&mut a.convergence_threshold, v)
    }),
    ("min_participation", |a, v| set(&mut a.min_participation, v)),
    ("threshold", |a, v| set(&mut a.threshold, v)),
    ("loss", |a, v| set(&mut a.loss, v)),
    ("degree", |a, v| set(&mut a.degree, v)),
    ("rewire", |a, v| set(&mut a.rewire, v)),
];

/// Sets a flag's value from a swept value.
fn set<T: std::str::FromStr>(flag: &mut Option<T>, value: &str) -> Result<(), Error> {
    *flag = Some(parse_value(value)?);
    Ok(())
}

/// `args` with the swept setting `param` set to `value`.
fn swept<A: Clone>(
    args: &A,
    sweepable: &[Sweepable<A>],
    param: &str,
    value: &str,
) -> Result<A, Error> {
    let Some((_, set)) = sweepable.iter().find(|(name, _)| *name == param) else {
        let names: Vec<&str> = sweepable.iter().map(|(name, _)| *name).collect();
        return Err(Error::Flag {
            flag: "--sweep",
            message: format!(
                "cannot sweep '{param}'; this command sweeps: {}",
                names.join(", ")
            ),
        });
    };
    let mut args = args.clone();
    set(&mut args, value)?;
    Ok(args)
}

/// An error met while running one value of a sweep, said as the sweep's.
fn in_sweep(error: Error, sweep: &Sweep, value: &str) -> Error {
    match error {
        Error::Flag { message, .. } => Error::Flag {
            flag: "--sweep",
            message: format!("{}={value}: {message}", sweep.param),
        },
        other => other,
    }
}

/// One batch of trials: their sums, and their outcomes when kept.
type Batch = (Sums, Option<TrialRuns>);

/// The statistics of trials from their sums.
fn summary_of(sums: &Sums) -> TrialsSummary {
    match sums {
        Sums::Gossip {
            trials,
            agreement_by_round,
        } => TrialsSummary::Gossip(
            trials.summary(&AgreementBands::of_totals(agreement_by_round.clone())),
        ),
        Sums::Byzantine(trials) => TrialsSummary::Byzantine(trials.summary()),
    }
}

/// The exact law of a prepared run; a law refused is an error at `--exact`.
fn exact_law<C>(p: &Prepared<C>, threads: usize) -> Result<ExactSummary, Error>
where
    Prepared<C>: Planned + Sync,
{
    let flag = |flag, message| Error::Flag { flag, message };
    montecarlo::in_pool(threads, || p.exact())
        .map_err(|message| flag("--threads", message))?
        .map_err(|message| flag("--exact", message))
}

/// Refuses a `--threads` outside 1 to [`montecarlo::MAX_THREADS`], on every
/// command that takes it, before any thread starts.
pub(super) fn check_threads(threads: Option<usize>) -> Result<(), Error> {
    threads.map_or(Ok(()), |n| thread_count(Some(n)).map(drop))
}

/// The worker threads `--threads` asks for (default: all cores).
fn thread_count(threads: Option<usize>) -> Result<usize, Error> {
    match threads {
        Some(0) => Err(Error::Flag {
            flag: "--threads",
            message: "threads must be at least 1".into(),
        }),
        Some(n) if n > montecarlo::MAX_THREADS => Err(Error::Flag {
            flag: "--threads",
            message: format!(
                "threads must be at most {}, got {n}",
                montecarlo::MAX_THREADS
            ),
        }),
        Some(n) => Ok(n),
        None => Ok(default_threads()),
    }
}

/// The worker threads when `--threads` is not given: all cores.
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Refuses `--format csv` and `--history` with `--exact` alone: a law has
/// no per-round history of trials to write.
fn no_history(format: Format, history: bool) -> Result<(), Error> {
    let (flag, message) = if format == Format::Csv {
        (
            "--format",
            "csv writes the per-round history of trials, and --exact alone runs none; \
             add --trials N, or use table or json",
        )
    } else if history {
        (
            "--history",
            "the per-round history is of trials, and --exact alone runs none; \
             add --trials N, or drop --history",
        )
    } else {
        return Ok(());
    };
    Err(Error::Flag {
        flag,
        message: message.to_string(),
    })
}

/// Checks `--shard` against the other flags and finds its slice (from the
/// scheduler's variables for `auto`).
fn check_shard(
    spec: shard::ShardSpec,
    args: &TrialArgs,
    common: &CommonArgs,
) -> Result<Shard, Error> {
    let refuse = |message: &str| Error::Flag {
        flag: "--shard",
        message: message.to_string(),
    };
    if args.trials.is_none() && args.sweep.is_none() {
        return Err(refuse(
            "a shard runs a slice of the trials: give --trials N or --sweep",
        ));
    }
    if common.format != Format::Json {
        return Err(refuse(
            "a shard prints a partial result as JSON, for `moai merge`: add --format json",
        ));
    }
    if args.history.is_some() {
        return Err(refuse(
            "shards keep sums, not every trial: drop --history (no per-round CSV from a merge)",
        ));
    }
    if common.report.is_some() {
        return Err(refuse(
            "the HTML report is written by the merge: move --report to `moai merge`",
        ));
    }
    spec.resolve(|name| std::env::var(name).ok())
        .map_err(|message| refuse(&message))
}

/// How many trials to run, on how many threads, whether to keep every
/// outcome, and whether to compute the exact law.
struct TrialPlan {
    /// Trials per batch; 0 with `--exact` alone, which runs none.
    trials: u64,
    /// `--exact`: compute each batch's exact law.
    exact: bool,
    threads: usize,
    keep_runs: bool,
    /// The setting and values to sweep, one batch of trials per value.
    sweep: Option<Sweep>,
    /// `--allow-long`: lifts the total-work cap.
    allow_long: bool,
    /// `--list-limit`: ids shown in each list of agents.
    list_limit: u64,
    /// `--format`: how the results print.
    format: Format,
    /// Where the trials' sums come from.
    source: TrialSource,
    /// `--shard`: the slice of the plan to run.
    shard: Option<Shard>,
}

impl TrialPlan {
    /// The plan the flags ask for, or `None` for a single run.
    fn of(args: &TrialArgs, common: &CommonArgs) -> Result<Option<Self>, Error> {
        let shard = args
            .shard
            .map(|spec| check_shard(spec, args, common))
            .transpose()?;
        if args.trials.is_none() && args.sweep.is_none() && !args.exact {
            return Ok(None);
        }
        if args.exact && args.trials.is_none() {
            no_history(common.format, args.history.is_some())?;
        }
        let trials = match args.trials {
            None if args.exact => 0,
            trials => trials.unwrap_or(1),
        };
        if args.trials.is_some() && !(1..=scenario::MAX_TRIALS).contains(&trials) {
            return Err(Error::Flag {
                flag: "--trials",
                message: format!(
                    "trials must be between 1 and {}, got {trials}",
                    scenario::MAX_TRIALS
                ),
            });
        }
        let threads = thread_count(args.threads)?;
        let keep_runs = common.format == Format::Csv || args.history.is_some();
        Ok(Some(TrialPlan {
            trials,
            exact: args.exact,
            threads,
            keep_runs,
            sweep: args.sweep.clone(),
            allow_long: args.allow_long,
            list_limit: common.list_limit as u64,
            format: common.format,
            source: args.source.clone(),
            shard,
        }))
    }

    /// Batches of trials: the sweep's values, or 1.
    fn batches(&self) -> u64 {
        self.sweep.as_ref().map_or(1, |s| s.values.len() as u64)
    }

    /// How this plan lays out its runs, for the memory guard.
    fn layout(&self) -> memory::Layout {
        memory::Layout {
            trials: self.trials,
            batches: self.batches(),
            threads: self.threads as u64,
            keep_runs: self.keep_runs,
            list_limit: self.list_limit,
            printed_round: memory::printed_round(self.format),
        }
    }

    /// Refuses a kept history of batches of trials of up to `rounds` rounds
    /// that could pass [`montecarlo::MAX_HISTORY_ROWS`].
    fn check_history(&self, rounds: u32) -> Result<(), Error> {
        let batches = self.batches();
        let rows = u128::from(self.trials) * u128::from(rounds) * u128::from(batches);
        if self.keep_runs && rows > u128::from(montecarlo::MAX_HISTORY_ROWS) {
            return Err(Error::Flag {
                flag: "--trials",
                message: format!(
                    "a per-round history of {} trials of up to {rounds} rounds{} could have \
                     {rows} rows, more than the limit of {}; run fewer trials or rounds, or \
                     drop --format csv and --history",
                    self.trials,
                    if batches > 1 {
                        format!(" for each of {batches} values")
                    } else {
                        String::new()
                    },
                    montecarlo::MAX_HISTORY_ROWS
                ),
            });
        }
        Ok(())
    }

    /// Runs the trials `range` of one batch; trial i draws from the seed's
    /// stream i. Each outcome goes to `add` in trial order, and is kept
    /// (returned) only when the plan keeps runs. [`Self::check_all`] has
    /// checked the history limit and the memory it needs.
    fn run<O: Send>(
        &self,
        seed: u64,
        range: Range<u64>,
        progress: &ProgressBar,
        run: impl Fn(&mut SimRng) -> O + Sync,
        mut add: impl FnMut(&O) + Send,
    ) -> Result<Option<Vec<O>>, Error> {
        let mut kept = self.keep_runs.then(Vec::new);
        montecarlo::fold_trials(
            range.end - range.start,
            self.threads,
            |trial| run(&mut rng::trial_generator(seed, range.start + trial)),
            || progress.inc(1),
            |outcome| {
                add(&outcome);
                if let Some(kept) = &mut kept {
                    kept.push(outcome);
                }
            },
        )
        .map_err(|message| Error::Flag {
            flag: "--threads",
            message,
        })?;
        Ok(kept)
    }

    /// A progress bar on stderr for every batch, drawn only on a terminal
    /// and only for enough trials to take a moment.
    fn progress(&self) -> ProgressBar {
        let total = self.trials.saturating_mul(self.batches());
        if total >= 1_000 && std::io::stderr().is_terminal() {
            ProgressBar::new(total)
        } else {
            ProgressBar::hidden()
        }
    }

    /// Checks the whole plan before anything runs: every swept value's
    /// settings (prepared with `prepare`, then dropped), the history limit,
    /// the memory each value's batch needs, and the total work of all the
    /// trials of all the values.
    fn check_all<A: Clone, C>(
        &self,
        args: &A,
        sweepable: &[Sweepable<A>],
        prepare: &impl Fn(&A, &Warnings) -> Result<Prepared<C>, Error>,
    ) -> Result<(), Error>
    where
        Prepared<C>: Planned,
    {
        // Warnings come when the values run, not before a refusal.
        let quiet = Warnings::held();
        if self.trials == 0 {
            // The exact law alone: its engine enforces its own limits.
            for value in self.sweep.iter().flat_map(|s| &s.values) {
                let sweep = self.sweep.as_ref().expect("values come from the sweep");
                let located = |e| in_sweep(e, sweep, value);
                let args = swept(args, sweepable, &sweep.param, value).map_err(located)?;
                prepare(&args, &quiet).map_err(located)?;
            }
            if self.sweep.is_none() {
                prepare(args, &quiet)?;
            }
            return Ok(());
        }
        let mut work = Work::default();
        let Some(sweep) = &self.sweep else {
            let p = prepare(args, &quiet)?;
            self.check_history(p.rounds())?;
            memory::check(&p.need(&self.layout())).map_err(too_big)?;
            let what = trials_text(self.trials);
            return p
                .work()
                .times(self.trials)
                .check(self.allow_long, &what, "trials × agents × rounds", "")
                .map_err(Error::Usage);
        };
        let count = sweep.values.len();
        let what = format!(
            "this sweep of {count} values × {}",
            trials_text(self.trials)
        );
        let factors = "trials × agents × rounds";
        // Trial runs are known at once; the work of the values is added up
        // as they are checked, and refused as soon as it passes a cap.
        let runs = Work {
            runs: u128::from(self.trials) * count as u128,
            ..Work::default()
        };
        runs.check(self.allow_long, &what, factors, "")
            .map_err(Error::Usage)?;
        for (i, value) in sweep.values.iter().enumerate() {
            let located = |e| in_sweep(e, sweep, value);
            let args = swept(args, sweepable, &sweep.param, value).map_err(located)?;
            let p = prepare(&args, &quiet).map_err(located)?;
            self.check_history(p.rounds()).map_err(located)?;
            memory::check(&p.need(&self.layout()))
                .map_err(too_big)
                .map_err(located)?;
            work = work.plus(p.work().times(self.trials));
            let scope = if i + 1 == count {
                ", summed over the values".to_string()
            } else {
                format!(", summed over the first {} values", i + 1)
            };
            work.check(self.allow_long, &what, factors, &scope)
                .map_err(Error::Usage)?;
        }
        Ok(())
    }

    /// Runs one batch (`--trials`, `--exact` or both) with `args`, or one
    /// per value of the sweep of a setting in `sweepable`, and builds the
    /// report. Every value is prepared and checked ([`Self::check_all`])
    /// before any runs, and every exact law is computed before any trial,
    /// so a law refused costs no trials.
    #[allow(clippy::too_many_arguments)]
    fn report<A: Clone, C>(
        &self,
        doc: &Document,
        scenario: &Scenario,
        algorithm: Algorithm,
        args: &A,
        sweepable: &[Sweepable<A>],
        prepare: impl Fn(&A, &Warnings) -> Result<Prepared<C>, Error>,
        batch: impl Fn(&Prepared<C>, &ProgressBar, Range<u64>) -> Result<Batch, Error>,
    ) -> Result<Report, Error>
    where
        Prepared<C>: Planned + Sync,
    {
        self.check_all(args, sweepable, &prepare)?;
        if let Some(shard) = self.shard {
            return self.partial(shard, doc, args, sweepable, &prepare, &batch);
        }
        let warnings = Warnings::default();
        // Batch `b`'s statistics: its trials run here, or their sums merged.
        let run_trials = |b: usize, p: &Prepared<C>, progress: &ProgressBar| {
            if self.trials == 0 {
                return Ok(None);
            }
            let (sums, kept) = match &self.source {
                TrialSource::Merged(merged) => {
                    let sums = merged.sums.get(b).ok_or_else(|| {
                        Error::Usage("the parts have fewer batches than their command".into())
                    })?;
                    (sums.clone(), None)
                }
                _ => batch(p, progress, 0..self.trials)?,
            };
            Ok::<_, Error>(Some((summary_of(&sums), kept)))
        };
        let Some(sweep) = &self.sweep else {
            let p = prepare(args, &warnings)?;
            let exact = self
                .exact
                .then(|| exact_law(&p, self.threads))
                .transpose()?;
            let progress = self.progress();
            let statistics = Statistics::of(run_trials(0, &p, &progress)?, exact);
            progress.finish_and_clear();
            return Ok(Report::Trials(Box::new(TrialsReport {
                made_by: MadeBy::CURRENT,
                scenario: scenario.name.clone(),
                algorithm,
                seed: p.seed,
                description: scenario.description.clone(),
                agents: p.agents.len() as u64,
                settings: p.settings(),
                overrides: p.overrides,
                statistics,
            })));
        };
        let mut laws = Vec::new();
        for value in sweep.values.iter().filter(|_| self.exact) {
            let located = |e| in_sweep(e, sweep, value);
            let args = swept(args, sweepable, &sweep.param, value).map_err(located)?;
            let p = prepare(&args, &warnings).map_err(located)?;
            laws.push(exact_law(&p, self.threads).map_err(located)?);
        }
        let mut laws = laws.into_iter();
        let progress = self.progress();
        let mut rows = Vec::with_capacity(sweep.values.len());
        let mut seed = None;
        let mut overrides = None;
        for (b, value) in sweep.values.iter().enumerate() {
            let located = |e| in_sweep(e, sweep, value);
            let args = swept(args, sweepable, &sweep.param, value).map_err(located)?;
            let p = prepare(&args, &warnings).map_err(located)?;
            let statistics =
                Statistics::of(run_trials(b, &p, &progress).map_err(located)?, laws.next());
            seed = Some(p.seed);
            overrides.get_or_insert_with(|| {
                let mut others = p.overrides.clone();
                others.shift_remove(&sweep.param);
                others
            });
            rows.push(SweepRow {
                param: sweep.param.clone(),
                value: value.clone(),
                agents: p.agents.len() as u64,
                settings: p.settings(),
                statistics,
            });
        }
        progress.finish_and_clear();
        Ok(Report::Sweep(Box::new(SweepReport {
            made_by: MadeBy::CURRENT,
            scenario: scenario.name.clone(),
            algorithm,
            seed: seed.expect("a sweep has at least one value"),
            description: scenario.description.clone(),
            overrides: overrides.unwrap_or_default(),
            trials: (self.trials > 0).then_some(self.trials),
            sweep: rows,
        })))
    }

    /// `--shard`: runs the shard's slice of every batch's trials, balanced
    /// by work, and returns the partial result. The exact law is left to
    /// the merge. Each value is prepared once to weigh its work and again to
    /// run, so no more than one swarm is held at a time.
    fn partial<A: Clone, C>(
        &self,
        shard: Shard,
        doc: &Document,
        args: &A,
        sweepable: &[Sweepable<A>],
        prepare: &impl Fn(&A, &Warnings) -> Result<Prepared<C>, Error>,
        batch: &impl Fn(&Prepared<C>, &ProgressBar, Range<u64>) -> Result<Batch, Error>,
    ) -> Result<Report, Error>
    where
        Prepared<C>: Planned,
    {
        let values: Vec<Option<&String>> = match &self.sweep {
            Some(sweep) => sweep.values.iter().map(Some).collect(),
            None => vec![None],
        };
        let prepared = |value: Option<&String>, warnings: &Warnings| match (value, &self.sweep) {
            (Some(value), Some(sweep)) => {
                let located = |e| in_sweep(e, sweep, value);
                let args = swept(args, sweepable, &sweep.param, value).map_err(located)?;
                prepare(&args, warnings).map_err(located)
            }
            _ => prepare(args, warnings),
        };
        let quiet = Warnings::held();
        let mut weights = Vec::with_capacity(values.len());
        for &value in &values {
            let work = prepared(value, &quiet)?.work();
            weights.push(work.peer_contacts.max(work.agent_rounds));
        }
        let slices = shard::slices(&weights, self.trials, shard);
        let warnings = Warnings::default();
        let progress = self.progress();
        let (mut batches, mut settings, mut seed) = (Vec::new(), Vec::new(), 0);
        for (&value, range) in values.iter().zip(slices) {
            let p = prepared(value, &warnings)?;
            let (sums, _) = batch(&p, &progress, range.clone())?;
            seed = p.seed;
            settings.push(serde_json::to_value(p.settings()).unwrap_or_default());
            batches.push(PartBatch {
                value: value.cloned(),
                trials: [range.start, range.end],
                sums,
            });
        }
        progress.finish_and_clear();
        let command = match &self.source {
            TrialSource::Shard { command } => command.clone(),
            _ => Vec::new(),
        };
        let mut plan = shard::Plan {
            fingerprint: String::new(),
            moai_version: MadeBy::CURRENT.moai_version.to_string(),
            stream: MadeBy::CURRENT.stream,
            seed,
            command,
            scenario_hash: shard::scenario_hash(&doc.text),
            scenario: shard::ScenarioText {
                name: doc.name.clone(),
                stem: doc.stem.clone(),
                text: doc.text.clone(),
            },
            trials: self.trials,
            settings,
            shards: shard.count,
        };
        plan.fingerprint = plan.fingerprint_of();
        Ok(Report::Partial(Box::new(shard::Partial {
            partial: shard::Part {
                shard: shard.index,
                plan,
                batches,
            },
        })))
    }
}

/// The flags that generate a swarm instead of the scenario's agents.
struct SwarmFlags {
    /// `--agents N`.
    agents: Option<u64>,
    /// `--approve K`.
    approve: Option<u64>,
    /// `--faulty K` (Byzantine only).
    faulty: Option<u64>,
    /// `--behavior` (Byzantine only; needs `--faulty`).
    behavior: Option<Behavior>,
}

/// The swarm the flags ask for, or `None` when none is given and the
/// scenario's agents stand: `--agents N` generated agents (default: as many
/// as the scenario has), the first `--approve K` voting for and the rest
/// against (default: the scenario's approving share, rounded down), the last
/// `--faulty K` behaving as `--behavior` (default flip) and the rest honest
/// (default: none faulty).
fn generated_swarm(
    scenario: &Scenario,
    flags: &SwarmFlags,
    overrides: &mut Overrides,
) -> Result<Option<Swarm>, Error> {
    if flags.behavior.is_some() && flags.faulty.is_none() {
        return Err(Error::Flag {
            flag: "--behavior",
            message: "it says how the --faulty agents behave: give --faulty K too".into(),
        });
    }
    let Some(replacing) = [
        ("--agents", flags.agents),
        ("--approve", flags.approve),
        ("--faulty", flags.faulty),
    ]
    .into_iter()
    .find_map(|(flag, value)| value.map(|_| flag)) else {
        return Ok(None);
    };
    overrides.replace_swarm(replacing);
    let current = scenario.agents.len() as u64;
    let mut count = current;
    overrides.set(&mut count, flags.agents, "--agents");
    if count > scenario::MAX_AGENTS {
        return Err(Error::Flag {
            flag: "--agents",
            message: format!(
                "{count} agents is more than the limit of {}",
                scenario::MAX_AGENTS
            ),
        });
    }
    let mut approving = if current == 0 {
        count
    } else {
        let share = scenario
            .agents
            .votes()
            .iter()
            .filter(|&&v| v == Vote::For)
            .count() as u128;
        (u128::from(count) * share / u128::from(current)) as u64
    };
    overrides.set(&mut approving, flags.approve, "--approve");
    if approving > count {
        return Err(Error::Flag {
            flag: "--approve",
            message: format!("{approving} approving agents is more than the {count} agents"),
        });
    }
    let mut faulty = 0;
    overrides.set(&mut faulty, flags.faulty, "--faulty");
    if faulty > count {
        return Err(Error::Flag {
            flag: "--faulty",
            message: format!("{faulty} faulty agents is more than the {count} agents"),
        });
    }
    let mut behavior = Behavior::Flip;
    overrides.set(&mut behavior, flags.behavior, "--behavior");
    Ok(Some(Swarm::generated(count, approving, faulty, behavior)))
}

//! The command line, as clap parses it. Nothing here does I/O; `app` turns
//! these arguments into a run.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::montecarlo::Sweep;
use crate::report::Format;
use crate::scenario::{Behavior, Decision, Strategy, Topology};
use crate::shard::{ShardSpec, TrialSource};

/// Simulate multi-agent coordination: Byzantine and gossip consensus, and
/// conflict resolution between versions of shared state.
///
/// A TOML scenario describes the agents, their votes and behaviours; moai runs
/// the algorithm under a seeded generator and prints tables or JSON.
///
/// Exit codes: 0 success; 1 an expectation failed (`moai check`,
/// `--expect-decision`); 2 bad input or usage.
#[derive(Debug, Parser)]
#[command(
    name = "moai",
    version,
    about,
    long_about,
    arg_required_else_help = true
)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
    /// When to colour output: auto (a terminal, NO_COLOR unset, TERM not dumb), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal, `NO_COLOR` is unset or empty and `TERM` is not `dumb`.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Byzantine fault-tolerant voting with detection of vote-changing agents.
    Byzantine(ByzantineArgs),
    /// Gossip (epidemic) consensus with round-by-round convergence.
    Gossip(GossipArgs),
    /// Resolve conflicting versions of state: lww, vector clocks, CRDT merges, hybrid.
    Resolve(ResolveArgs),
    /// Run a scenario with the algorithm it names.
    Run(RunArgs),
    /// List the bundled scenarios.
    Scenarios(ListArgs),
    /// Print a new scenario, started from a bundled one, with a header explaining its keys.
    New(NewArgs),
    /// Run scenarios and compare them with their [expect] tables (for CI).
    Check(CheckArgs),
    /// Merge the partial results of `--shard K/N` runs into what the
    /// unsharded run prints.
    Merge(MergeArgs),
    /// Check scenario files without running them.
    Validate(FilesArgs),
    /// Print the JSON Schema of scenario files, for editors and validators.
    Schema,
    /// Print the completion script for a shell.
    Completions(CompletionsArgs),
    /// Print the man page (roff) of moai or of one of its commands.
    Man(ManArgs),
}

/// Options every simulation takes.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Seed of the random generator, a whole number from 0 to 2^64-1
    /// (overrides the scenario's `seed`; `resolve` draws no random numbers).
    #[arg(long, value_name = "U64", allow_negative_numbers = true, value_parser = parse_seed)]
    pub seed: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Show at most N ids in each list of agents; the output says how many were left out.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_LIST_LIMIT)]
    pub list_limit: usize,
    /// Also write a self-contained HTML report (inline SVG charts, no
    /// script, no network reference) to FILE; the usual output is unchanged.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// Parses `--seed`: a whole number from 0 to 2^64-1.
pub fn parse_seed(text: &str) -> Result<u64, String> {
    text.parse().map_err(|_| {
        format!(
            "the seed must be a whole number from 0 to 2^64-1 ({})",
            u64::MAX
        )
    })
}

/// How many agent ids each list shows unless `--list-limit` says otherwise.
pub const DEFAULT_LIST_LIMIT: usize = 1000;

impl Default for CommonArgs {
    fn default() -> Self {
        CommonArgs {
            seed: None,
            format: Format::Table,
            list_limit: DEFAULT_LIST_LIMIT,
            report: None,
        }
    }
}

/// Monte Carlo options of the consensus commands.
#[derive(Debug, Default, Clone, Args)]
pub struct TrialArgs {
    /// Run N independent trials (trial i uses the seed's random stream i) and
    /// print their statistics.
    #[arg(long, value_name = "N")]
    pub trials: Option<u64>,
    /// With --trials N: print trial I (0 to N-1) alone, exactly as a single
    /// run (its table, round history and JSON); it draws from stream I.
    #[arg(long, value_name = "I", requires = "trials", conflicts_with = "sweep")]
    pub trial: Option<u64>,
    /// Compute the exact probability law of the run instead of sampling it
    /// (with --trials: both, side by side with z-scores).
    #[arg(long, conflicts_with = "trial")]
    pub exact: bool,
    /// Run the trials once per value of a setting: PARAM=V1,V2,... or
    /// PARAM=LO..HI[:STEP] (one row per value).
    #[arg(long, value_name = "PARAM=VALUES")]
    pub sweep: Option<Sweep>,
    /// Worker threads for trials (default: all cores); results do not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Also write the per-round history (one row per trial and round) as CSV
    /// to FILE; `-` writes it to stdout and the report to stderr.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Run even when the total work (agent-rounds, peer contacts or trial
    /// runs of the whole run, trials and sweep) passes its cap.
    #[arg(long)]
    pub allow_long: bool,
    /// Run only slice K of N of the trials (of every swept value), balanced
    /// by work, and print a partial result as JSON for `moai merge`; `auto`
    /// takes the slice from a Slurm job array, `auto/N` from a Kubernetes
    /// Indexed Job's completion index.
    #[arg(long, value_name = "K/N|auto|auto/N", conflicts_with = "trial")]
    pub shard: Option<ShardSpec>,
    /// Where the trials' sums come from: run here, or given by `moai merge`.
    #[arg(skip)]
    pub source: TrialSource,
}

/// `--expect-decision`.
#[derive(Debug, Default, Clone, Args)]
pub struct ExpectArgs {
    /// Exit with code 1 unless the decision is VALUE (after printing the result).
    #[arg(long, value_enum, value_name = "VALUE")]
    pub expect_decision: Option<Decision>,
}

/// `moai merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The parts: JSON files printed by `--shard K/N --format json`, in any
    /// order, or directories of them (every *.json file inside).
    #[arg(required = true, value_name = "PART")]
    pub parts: Vec<PathBuf>,
    /// Output format (table or json).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also write the self-contained HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// The scenario files `moai check` and `moai validate` take.
#[derive(Debug, Args)]
pub struct FilesArgs {
    /// Scenario files, bundled scenario names, or directories searched
    /// recursively for *.toml (skipping hidden and .gitignored ones); `-`
    /// reads standard input.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format (table or json).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `moai check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub files: FilesArgs,
    /// Also write a JUnit XML report (one testcase per scenario) to FILE; `-`
    /// writes it to stdout and the table to stderr.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write a self-contained HTML report (inline SVG charts, no
    /// script, no network reference) to FILE; the usual output is unchanged.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Seed of the random generator for every scenario (overrides each
    /// scenario's `seed`).
    #[arg(long, value_name = "U64")]
    pub seed: Option<u64>,
    /// Worker threads for trials (default: all cores); results do not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Run every scenario even when its total work (agent-rounds, peer
    /// contacts or trial runs) passes its cap.
    #[arg(long)]
    pub allow_long: bool,
}

/// `moai byzantine`.
#[derive(Debug, Default, Clone, Args)]
pub struct ByzantineArgs {
    /// Scenario file, or a bundled scenario's name (default: infra).
    pub scenario: Option<PathBuf>,
    /// f, the number of faulty agents to tolerate (needs n >= 3f+1).
    #[arg(long, value_name = "F")]
    pub fault_tolerance: Option<u32>,
    /// Number of voting rounds (at least 3).
    #[arg(long, value_name = "N")]
    pub rounds: Option<u32>,
    /// Replace the agents with N generated ones (`agent-1` ... `agent-N`).
    #[arg(long, value_name = "N")]
    pub agents: Option<u64>,
    /// With generated agents: the first K vote for and the rest against.
    #[arg(long, value_name = "K")]
    pub approve: Option<u64>,
    /// With generated agents: the last K are faulty, behaving as --behavior
    /// (the rest are honest).
    #[arg(long, value_name = "K")]
    pub faulty: Option<u64>,
    /// How the --faulty agents behave (default: flip; needs --faulty).
    #[arg(long, value_enum)]
    pub behavior: Option<FaultyBehavior>,
    #[command(flatten)]
    pub trials: TrialArgs,
    #[command(flatten)]
    pub expect: ExpectArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `--behavior`: the faulty behaviours a generated Byzantine swarm can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FaultyBehavior {
    /// Changes its vote between rounds, casting its declared vote last.
    Flip,
    /// Votes for or against at random every round.
    Random,
    /// Sends different votes to different agents in one round.
    Equivocate,
    /// Crashed: casts nothing.
    Silent,
}

impl From<FaultyBehavior> for Behavior {
    fn from(behavior: FaultyBehavior) -> Self {
        match behavior {
            FaultyBehavior::Flip => Behavior::Flip,
            FaultyBehavior::Random => Behavior::Random,
            FaultyBehavior::Equivocate => Behavior::Equivocate,
            FaultyBehavior::Silent => Behavior::Silent,
        }
    }
}

/// `moai gossip`.
#[derive(Debug, Default, Clone, Args)]
pub struct GossipArgs {
    /// Scenario file, or a bundled scenario's name (default: gossip-swarm).
    pub scenario: Option<PathBuf>,
    /// Replace the agents with N generated ones (`agent-1` ... `agent-N`).
    #[arg(long, value_name = "N")]
    pub agents: Option<u64>,
    /// With generated agents: the first K approve and the rest reject.
    #[arg(long, value_name = "K")]
    pub approve: Option<u64>,
    /// Peers each agent contacts per round.
    #[arg(long, value_name = "K")]
    pub fanout: Option<u32>,
    /// Maximum number of rounds.
    #[arg(long, value_name = "N")]
    pub rounds: Option<u32>,
    /// Agreement ratio that counts as converged, in (0.5, 1].
    #[arg(long, value_name = "RATIO", value_parser = number)]
    pub convergence_threshold: Option<f64>,
    /// Share of the counted (non-silent) agents that must hold a vote (not
    /// abstain) for the run to count as converged, in [0, 1].
    #[arg(long, value_name = "RATIO")]
    pub min_participation: Option<f64>,
    /// Approval share needed to approve, in (0, 1].
    #[arg(long, value_name = "RATIO", value_parser = number)]
    pub threshold: Option<f64>,
    /// Probability that one exchange with a peer is lost, in [0, 1].
    #[arg(long, value_name = "P", value_parser = number)]
    pub loss: Option<f64>,
    /// How agents are connected.
    #[arg(long, value_enum)]
    pub topology: Option<Topology>,
    /// Neighbours per agent for ring, random-regular and small-world.
    #[arg(long, value_name = "K")]
    pub degree: Option<u32>,
    /// Rewiring probability for small-world, in [0, 1].
    #[arg(long, value_name = "P", value_parser = number)]
    pub rewire: Option<f64>,
    /// Run all rounds even after convergence (fixed work).
    #[arg(long)]
    pub no_early_stop: bool,
    #[command(flatten)]
    pub trials: TrialArgs,
    #[command(flatten)]
    pub expect: ExpectArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// A decimal flag's value; `-0` is read as 0, so it never prints as `-0`.
fn number(text: &str) -> Result<f64, String> {
    let x: f64 = text.parse().map_err(|e| format!("{e}"))?;
    Ok(x + 0.0)
}

/// `moai resolve`.
#[derive(Debug, Default, Args)]
pub struct ResolveArgs {
    /// Scenario file, or a bundled scenario's name (default: crdt-patterns).
    pub scenario: Option<PathBuf>,
    /// Strategy to use instead of the file's `strategy`.
    #[arg(long, value_enum)]
    pub strategy: Option<Strategy>,
    /// Explain why the value that stands for state KEY won: the comparisons
    /// that decided it, or which versions each part of a merge came from.
    #[arg(long, value_name = "KEY", conflicts_with = "compare")]
    pub explain: Option<String>,
    /// Resolve every key under every strategy (lww, vector, crdt, hybrid)
    /// side by side, with the writes each loses and a recommendation per key.
    #[arg(long)]
    pub compare: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `moai run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file, or a bundled scenario's name; its `algorithm` key chooses what runs.
    pub scenario: PathBuf,
    #[command(flatten)]
    pub trials: TrialArgs,
    #[command(flatten)]
    pub expect: ExpectArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `moai scenarios`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `moai new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The new scenario's name; without --from, also the template to start from.
    pub name: String,
    /// The template: an algorithm (byzantine, gossip, resolve) or a bundled scenario's name.
    #[arg(long, value_name = "TEMPLATE")]
    pub from: Option<String>,
}

/// `moai completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `moai man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Print the page of this command (`moai-COMMAND(1)`) instead of moai(1).
    pub command: Option<String>,
}

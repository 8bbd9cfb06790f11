//! The scenario model: what a TOML scenario file says (agents, votes,
//! behaviours, algorithm settings), how it is parsed and checked, and the
//! validated [`Scenario`] the algorithms run on.
//!
//! Parsing is strict: unknown keys are errors, and every error names the file,
//! the line and column, and the key.

pub mod bundled;
mod clock;
mod conflicts;
mod document;
mod expectations;
mod json;
mod schema;
mod settings;
mod shape;
mod states;
mod swarm;

use serde::{Deserialize, Serialize};
use toml::de::DeTable;

pub use clock::{ClockAgents, ClockInterner, VectorClock};
pub use conflicts::{CrdtType, ResolveConfig, Route, State, Strategy, Version, default_routes};
pub use document::{Document, KeyPath, MAX_SCENARIO_BYTES, Segment};
pub use expectations::{AgentsExpectation, Expectations};
pub use json::{Json, JsonTable};
pub(crate) use schema::Table as SchemaTable;
pub use schema::json_schema;
pub use settings::{
    ByzantineConfig, GossipConfig, MAX_ROUNDS, MIN_BYZANTINE_ROUNDS, PartitionConfig, Topology,
};
pub use swarm::Swarm;

use crate::error::Error;

/// The seed used when neither the scenario nor `--seed` gives one.
pub const DEFAULT_SEED: u64 = 42;

/// The most agents a scenario may describe, listed and generated together.
pub const MAX_AGENTS: u64 = 10_000_000;

/// The most Monte Carlo trials a run (`--trials`) or `[expect]` may ask for.
pub const MAX_TRIALS: u64 = 10_000_000;

/// The most agent votes a `[[proposals]]` sequence may ask for: proposals ×
/// agents. Each proposal's result lists every agent, so a sequence is held
/// (and printed) at a cost of about a kilobyte per proposal and agent.
pub const MAX_PROPOSAL_VOTES: u64 = 10_000_000;

/// The most proposals a `[[proposals]]` sequence may hold, whatever the
/// number of agents: each proposal's result costs memory of its own (about
/// 3.5 KB with one agent, table output included: 350 MB at the limit), so
/// proposals are counted themselves, not only as votes. Counted while the
/// file is first read, before anything is built for them.
pub const MAX_PROPOSALS: u64 = 100_000;

/// The deepest tables and arrays may nest inside each other, counted from
/// the top of the file (`[proposal]` is level 1, a table in it level 2). The
/// TOML parser allows 80 levels of brackets in one value and 80 parts in one
/// dotted key, but headers, dotted keys and inline tables together can still
/// build thousands of levels; converting those would exhaust the stack, so
/// deeper files are refused first, at the parser's own number.
pub const MAX_NESTING: usize = 80;

/// What the TOML parser says when brackets nest deeper than it allows.
const PARSER_DEPTH_MESSAGE: &str = "cannot recurse further; max recursion depth met";

/// Which algorithm a scenario is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// Byzantine fault-tolerant voting with detection of vote changers.
    Byzantine,
    /// Gossip (epidemic) majority consensus.
    Gossip,
    /// Conflict resolution between versions of state.
    Resolve,
}

impl Algorithm {
    /// The name used in scenario files and output.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Byzantine => "byzantine",
            Algorithm::Gossip => "gossip",
            Algorithm::Resolve => "resolve",
        }
    }
}

/// The outcome of a vote.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The proposal passed.
    Approved,
    /// The proposal failed, or no safe decision was reached.
    Rejected,
    /// The timeout was reached before a decision.
    Timeout,
}

impl Decision {
    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Rejected => "rejected",
            Decision::Timeout => "timeout",
        }
    }
}

/// An agent's vote. `approve` and `reject` are accepted for `for` and `against`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(transform = schema::add_vote_aliases)]
// Each vote's number is what it adds to a majority's lead of `for` over
// `against`, so gossip's hot loop can sum votes as numbers.
#[repr(i8)]
pub enum Vote {
    /// In favour of the proposal.
    #[serde(alias = "approve")]
    For = 1,
    /// Against the proposal.
    #[serde(alias = "reject")]
    Against = -1,
    /// No opinion; not counted in majorities.
    Abstain = 0,
}

impl Vote {
    /// The name used in scenario files and output.
    pub fn name(self) -> &'static str {
        match self {
            Vote::For => "for",
            Vote::Against => "against",
            Vote::Abstain => "abstain",
        }
    }
}

/// How an agent behaves during a run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Behavior {
    /// Casts its declared vote every round.
    #[default]
    Honest,
    /// Byzantine: casts a different vote in at least one earlier round and its
    /// declared vote in the final round.
    Flip,
    /// Crashed: casts no vote, answers no one, never updates.
    Silent,
    /// Byzantine: votes for or against at random each round.
    Random,
    /// Byzantine: sends different votes to different agents in one round.
    Equivocate,
    /// Gossip: always reports its initial vote and never changes it.
    Stubborn,
}

impl Behavior {
    /// The name used in scenario files and output.
    pub fn name(self) -> &'static str {
        match self {
            Behavior::Honest => "honest",
            Behavior::Flip => "flip",
            Behavior::Silent => "silent",
            Behavior::Random => "random",
            Behavior::Equivocate => "equivocate",
            Behavior::Stubborn => "stubborn",
        }
    }
}

/// Where an agent was declared, so errors about it can point there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentOrigin {
    /// The `i`-th `[[agents]]` entry.
    Listed(usize),
    /// Generated by the `i`-th `[[groups]]` entry.
    Group(usize),
    /// Generated from command-line flags.
    Flags,
}

impl AgentOrigin {
    /// The key path of `field` on this agent's declaration.
    pub fn key(self, field: &str) -> String {
        match self {
            AgentOrigin::Listed(i) => format!("agents[{i}].{field}"),
            AgentOrigin::Group(i) => format!("groups[{i}].{field}"),
            AgentOrigin::Flags => field.to_string(),
        }
    }
}

/// One participant, in the order every output keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    /// Unique id.
    pub id: String,
    /// Declared vote.
    pub vote: Vote,
    /// Behaviour during the run.
    pub behavior: Behavior,
    /// Where the agent was declared.
    pub origin: AgentOrigin,
}

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Name shown in output (the file stem unless `name` is set).
    pub name: String,
    /// Free text from the file.
    pub description: Option<String>,
    /// The algorithm `moai run` uses.
    pub algorithm: Algorithm,
    /// The file's seed, if it has one.
    pub seed: Option<u64>,
    /// The free-form `[proposal]` table, echoed in the output.
    pub proposal: Option<serde_json::Map<String, serde_json::Value>>,
    /// `[[proposals]]`: several proposals voted on in order (Byzantine).
    pub proposals: Vec<serde_json::Map<String, serde_json::Value>>,
    /// The participants, listed agents first, then generated ones.
    pub agents: Swarm,
    /// `[byzantine]` settings (defaults when absent).
    pub byzantine: ByzantineConfig,
    /// `[gossip]` settings (defaults when absent).
    pub gossip: GossipConfig,
    /// `strategy`, `[[states]]` and `[[routes]]` for conflict resolution.
    pub resolve: ResolveConfig,
    /// `[expect]`: what `moai check` requires of the outcome.
    pub expect: Option<Expectations>,
}

/// A moai scenario: the agents with their votes and behaviours, or the
/// agents' versions of shared state, and the settings of the algorithms.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "moai scenario")]
struct ScenarioFile {
    /// The algorithm `moai run` uses.
    algorithm: Algorithm,
    /// Name shown in the output (default: the file name without `.toml`).
    name: Option<String>,
    /// Free text shown in the output.
    description: Option<String>,
    /// Seed of the random generator (default 42; `--seed` overrides it).
    seed: Option<u64>,
    /// The proposal voted on: a free-form table, echoed in the output.
    /// Give either `[proposal]` or `[[proposals]]`.
    #[schemars(with = "Option<schema::Table>")]
    proposal: Option<JsonTable>,
    /// Byzantine: several proposals voted on in order, each a free-form
    /// table; agents detected in one are blacklisted for the rest.
    #[serde(default)]
    #[schemars(with = "Vec<schema::Table>")]
    #[schemars(extend("default" = []))]
    proposals: Vec<JsonTable>,
    /// Agents listed one by one; they come before the agents of `[[groups]]`.
    #[serde(default)]
    #[schemars(extend("default" = []))]
    agents: Vec<AgentSpec>,
    /// Generated agents `PREFIX1`, `PREFIX2`, ..., numbered across groups in
    /// file order.
    #[serde(default)]
    #[schemars(extend("default" = []))]
    groups: Vec<GroupSpec>,
    /// `[byzantine]` settings.
    #[serde(default)]
    byzantine: ByzantineConfig,
    /// `[gossip]` settings.
    #[serde(default)]
    gossip: GossipConfig,
    /// Conflict resolution strategy (`--strategy` overrides it).
    strategy: Option<Strategy>,
    /// Conflict resolution: the state keys and the agents' versions of them.
    #[serde(default)]
    #[schemars(extend("default" = []))]
    states: Vec<states::StateSpec>,
    /// Hybrid: routes from key prefixes to strategies, first match in file
    /// order wins. Without routes, `counter_` keys go to crdt, `causal_` keys
    /// to vector and the rest to `default_strategy`.
    #[serde(default)]
    #[schemars(extend("default" = []))]
    routes: Vec<states::RouteSpec>,
    /// Hybrid: the strategy of keys no route matches (default lww; not hybrid).
    default_strategy: Option<Strategy>,
    /// What `moai check` requires of the outcome.
    expect: Option<Expectations>,
}

/// One `[[agents]]` entry.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct AgentSpec {
    /// Unique agent id, not blank.
    #[schemars(pattern(r"\S"))]
    id: String,
    /// Declared vote: for, against or abstain (approve and reject are
    /// accepted for for and against).
    vote: Vote,
    /// Behaviour during the run: Byzantine takes honest, flip, random,
    /// equivocate and silent; gossip takes honest, silent and stubborn.
    #[serde(default)]
    behavior: Behavior,
    /// Refused: no algorithm weighs votes, and a weight silently ignored
    /// would mislead. Read only to say so at its place in the file.
    #[serde(default)]
    #[schemars(skip)]
    weight: Option<serde::de::IgnoredAny>,
}

/// One `[[groups]]` entry: `count` generated agents alike.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct GroupSpec {
    /// How many agents to generate.
    #[schemars(range(min = 1))]
    count: u64,
    /// Every generated agent's vote: for, against or abstain (approve and
    /// reject are accepted for for and against).
    vote: Vote,
    /// Every generated agent's behaviour (see `[[agents]]`).
    #[serde(default)]
    behavior: Behavior,
    /// Start of the generated ids, followed by a number.
    #[serde(default = "default_prefix")]
    prefix: String,
}

fn default_prefix() -> String {
    "agent-".to_string()
}

impl Scenario {
    /// Parses and checks a scenario document. A first pass over the tokens
    /// measures the file, so a file whose parse would need more memory than
    /// the guard allows, or that holds more than [`MAX_PROPOSALS`]
    /// proposals, is refused before the parser allocates for it.
    pub fn parse(doc: &Document) -> Result<Self, Error> {
        let shape = shape::scan(&doc.text, MAX_PROPOSALS);
        if let Some(offset) = shape.proposal_beyond {
            return Err(doc.error_at_offset(
                Some(offset),
                Some("proposals".to_string()),
                format!(
                    "the file has {} proposals, more than the limit of {MAX_PROPOSALS}",
                    shape.proposals
                ),
            ));
        }
        // A MOAI_MAX_MEMORY that cannot be read is its own error, not the file's.
        crate::budget::limit().map_err(Error::Usage)?;
        crate::budget::check_parse(shape::parse_bytes(doc.text.len(), &shape)).map_err(
            |message| doc.error_at_offset(None, None, format!("parsing the file: {message}")),
        )?;
        let root = DeTable::parse(&doc.text).map_err(|e| toml_error(doc, None, &e))?;
        if let Some((offset, top)) = document::too_deep(&root, MAX_NESTING) {
            return Err(doc.error_at_offset(Some(offset), Some(top), nesting_message()));
        }
        let file: ScenarioFile = serde_path_to_error::deserialize(toml::Deserializer::from(root))
            .map_err(|e| {
            let key = e.path().to_string();
            toml_error(doc, Some(key), e.inner())
        })?;
        if file.proposal.is_some() && !file.proposals.is_empty() {
            return Err(doc.error_at_key(
                &KeyPath::parse("proposals"),
                "give either [proposal] or [[proposals]], not both",
            ));
        }
        if let Some(expect) = &file.expect {
            check_expectations(doc, file.algorithm, &file.gossip, expect)?;
        }
        let agents = build_agents(doc, file.agents, &file.groups)?;
        let votes = (file.proposals.len() as u64).saturating_mul(agents.len() as u64);
        if votes > MAX_PROPOSAL_VOTES {
            return Err(doc.error_at_key(
                &KeyPath::parse("proposals"),
                format!(
                    "{} proposals of {} agents each is {votes} votes, more than the limit of \
                     {MAX_PROPOSAL_VOTES}",
                    file.proposals.len(),
                    agents.len()
                ),
            ));
        }
        let resolve = states::build(
            doc,
            file.strategy,
            file.states,
            file.routes,
            file.default_strategy,
        )?;
        Ok(Scenario {
            name: file.name.unwrap_or_else(|| doc.stem.clone()),
            description: file.description,
            algorithm: file.algorithm,
            seed: file.seed,
            proposal: file.proposal.map(|t| t.0),
            proposals: file.proposals.into_iter().map(|t| t.0).collect(),
            agents,
            byzantine: file.byzantine,
            gossip: file.gossip,
            resolve,
            expect: file.expect,
        })
    }
}

fn nesting_message() -> String {
    format!("tables and arrays nest more than {MAX_NESTING} levels deep")
}

fn toml_error(doc: &Document, key: Option<String>, error: &toml::de::Error) -> Error {
    let key = key.filter(|k| k != ".");
    let message = error.message().trim();
    let span = error.span();
    let message = if message == PARSER_DEPTH_MESSAGE {
        nesting_message()
    } else if let Some(key) = span
        .as_ref()
        .filter(|_| message == "duplicate key")
        .and_then(|s| doc.text.get(s.clone()))
    {
        format!("duplicate key '{}'", key.trim())
    } else {
        plain_types(&message.replace('\n', " "))
    };
    doc.error_at_offset(span.map(|s| s.start), key, message)
}

/// Rejects `[expect]` keys that cannot apply to the scenario's algorithm,
/// and bounds no run could meet or miss: a rate outside [0, 1], a round
/// bound below 1 or above the rounds the scenario can run (`gossip`'s
/// `max_rounds`), decision counts that are not the decisions of `trials`.
fn check_expectations(
    doc: &Document,
    algorithm: Algorithm,
    gossip: &GossipConfig,
    expect: &Expectations,
) -> Result<(), Error> {
    let at = |key: &str, message: String| {
        doc.error_at_key(&KeyPath::parse(&format!("expect.{key}")), message)
    };
    let present = [
        ("decision", expect.decision.is_some()),
        ("converged", expect.converged.is_some()),
        (
            "max_rounds_completed",
            expect.max_rounds_completed.is_some(),
        ),
        ("malicious_agents", expect.malicious_agents.is_some()),
        ("byzantine_safe", expect.byzantine_safe.is_some()),
        ("healthy_agents", expect.healthy_agents.is_some()),
        ("values", expect.values.is_some()),
        ("strategies", expect.strategies.is_some()),
        ("lost_writes", expect.lost_writes.is_some()),
        (
            "min_convergence_rate",
            expect.min_convergence_rate.is_some(),
        ),
        ("max_rounds_p99", expect.max_rounds_p99.is_some()),
        ("decision_counts", expect.decision_counts.is_some()),
        ("trials", expect.trials.is_some()),
        ("exact", expect.exact.is_some()),
        (
            "max_wrong_decision_probability",
            expect.max_wrong_decision_probability.is_some(),
        ),
    ];
    let applies = |key: &str| match key {
        "decision" | "decision_counts" | "trials" | "exact" | "max_wrong_decision_probability" => {
            algorithm != Algorithm::Resolve
        }
        "converged" | "max_rounds_completed" | "min_convergence_rate" | "max_rounds_p99" => {
            algorithm == Algorithm::Gossip
        }
        "malicious_agents" | "byzantine_safe" | "healthy_agents" => {
            algorithm == Algorithm::Byzantine
        }
        _ => algorithm == Algorithm::Resolve,
    };
    if let Some((key, _)) = present.iter().find(|(key, set)| *set && !applies(key)) {
        return Err(at(
            key,
            format!("'{key}' does not apply to a {} scenario", algorithm.name()),
        ));
    }
    if let Some(name) = expect
        .lost_writes
        .iter()
        .flat_map(|bounds| bounds.keys())
        .find(|k| !Strategy::ALL.iter().any(|s| s.name() == k.as_str()))
    {
        return Err(at(
            &format!("lost_writes.{name}"),
            format!("'{name}' is not a strategy: use lww, vector, crdt or hybrid"),
        ));
    }
    if let Some(bound) = expect.max_wrong_decision_probability {
        if !expect.wants_exact() {
            return Err(at(
                "max_wrong_decision_probability",
                "the wrong-decision probability is a figure of the exact law: set exact = true"
                    .to_string(),
            ));
        }
        if !(0.0..=1.0).contains(&bound) {
            return Err(at(
                "max_wrong_decision_probability",
                format!("a probability is from 0 to 1 (1e-9 for one in a billion), got {bound}"),
            ));
        }
    }
    // The exact law answers every statistic but decision counts.
    let needs_trials =
        expect.decision_counts.is_some() || (expect.wants_trials() && !expect.wants_exact());
    match expect.trials {
        None if needs_trials => {
            let or_exact = if expect.decision_counts.is_some() {
                ""
            } else {
                ", or exact = true to check them against the exact law"
            };
            return Err(at(
                "trials",
                format!(
                    "statistics need trials: set trials = N to check them over N trials{or_exact}"
                ),
            ));
        }
        Some(n) if !(1..=MAX_TRIALS).contains(&n) => {
            return Err(at(
                "trials",
                format!("trials must be between 1 and {}, got {n}", MAX_TRIALS),
            ));
        }
        _ => {}
    }
    if let Some(rate) = expect.min_convergence_rate
        && !(0.0..=1.0).contains(&rate)
    {
        return Err(at(
            "min_convergence_rate",
            format!("a rate is a share from 0 to 1 (0.9 for 90%), got {rate}"),
        ));
    }
    let rounds = [
        ("max_rounds_completed", expect.max_rounds_completed),
        ("max_rounds_p99", expect.max_rounds_p99),
    ];
    for (key, bound) in rounds {
        match bound {
            Some(0) => {
                return Err(at(
                    key,
                    "every run takes at least 1 round, so a bound of 0 can never be met"
                        .to_string(),
                ));
            }
            Some(n) if n > gossip.max_rounds => {
                return Err(at(
                    key,
                    format!(
                        "{n} is more than the {} rounds the scenario can run (gossip.max_rounds), \
                         so it can never fail; use a bound below {}",
                        gossip.max_rounds, gossip.max_rounds
                    ),
                ));
            }
            _ => {}
        }
    }
    if let (Some(counts), Some(trials)) = (&expect.decision_counts, expect.trials) {
        let decisions = ["approved", "rejected", "timeout"];
        if let Some(name) = counts.keys().find(|k| !decisions.contains(&k.as_str())) {
            return Err(at(
                &format!("decision_counts.{name}"),
                format!("'{name}' is not a decision: use approved, rejected or timeout"),
            ));
        }
        let total = counts.values().fold(0u64, |sum, n| sum.saturating_add(*n));
        if total != trials {
            return Err(at(
                "decision_counts",
                format!("the counts add up to {total}, but {trials} trials run (expect.trials)"),
            ));
        }
    }
    Ok(())
}

/// Serde names Rust types in its messages; users know TOML's.
fn plain_types(message: &str) -> String {
    [
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        ("expected u64", "expected a whole number >= 0"),
        ("expected f64", "expected a number"),
        ("expected usize", "expected a whole number >= 0"),
        // `invalid type: integer `N` as i128`: the number is out of range
        // (beyond i64), not of the wrong type.
        ("invalid type: integer", "invalid value: integer"),
        (" as i128", ""),
        // The TOML parser's limit on dotted keys, reported without a position.
        (
            "recursion limit",
            "a dotted key or table header has more than 80 parts",
        ),
    ]
    .iter()
    .filter(|(rust, _)| !rust.starts_with("invalid type") || message.contains(" as i128"))
    .fold(message.to_string(), |m, (rust, plain)| {
        m.replace(rust, plain)
    })
}

fn build_agents(
    doc: &Document,
    listed: Vec<AgentSpec>,
    groups: &[GroupSpec],
) -> Result<Swarm, Error> {
    let mut total = listed.len() as u64;
    for (i, group) in groups.iter().enumerate() {
        let key = KeyPath::parse(&AgentOrigin::Group(i).key("count"));
        if group.count == 0 {
            return Err(doc.error_at_key(&key, "a group needs at least 1 agent"));
        }
        total = total.saturating_add(group.count);
        if total > MAX_AGENTS {
            return Err(doc.error_at_key(
                &key,
                format!(
                    "the scenario would have {total} agents or more; the limit is {MAX_AGENTS}"
                ),
            ));
        }
    }
    let mut agents = Swarm::new();
    for (i, spec) in listed.into_iter().enumerate() {
        let origin = AgentOrigin::Listed(i);
        if spec.id.trim().is_empty() {
            return Err(doc.error_at_key(
                &KeyPath::parse(&origin.key("id")),
                "an agent id cannot be empty",
            ));
        }
        if spec.weight.is_some() {
            return Err(doc.error_at_key(
                &KeyPath::parse(&origin.key("weight")),
                "weight is not supported: no algorithm weighs votes yet; remove the key",
            ));
        }
        agents.push_listed(spec.id, spec.vote, spec.behavior, origin);
    }
    let mut number = 1u64;
    for (i, group) in groups.iter().enumerate() {
        agents.push_run(
            &group.prefix,
            number,
            group.count,
            group.vote,
            group.behavior,
            AgentOrigin::Group(i),
        );
        number += group.count;
    }
    if let Some((id, index)) = agents.duplicate() {
        return Err(doc.error_at_key(
            &KeyPath::parse(&agents.origin(index).key("id")),
            format!("duplicate agent id '{id}'"),
        ));
    }
    Ok(agents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Scenario, String> {
        Scenario::parse(&Document::from_text("t.toml", "t", text)).map_err(|e| e.to_string())
    }

    #[test]
    fn groups_number_agents_across_groups_in_file_order() {
        let s = parse(
            "algorithm = \"gossip\"\n\
             [[groups]]\ncount = 2\nvote = \"approve\"\n\
             [[groups]]\ncount = 1\nvote = \"reject\"\nprefix = \"node-\"\n",
        )
        .unwrap();
        let ids: Vec<_> = s.agents.ids().collect();
        assert_eq!(ids, ["agent-1", "agent-2", "node-3"]);
        assert_eq!(s.agents.votes()[0], Vote::For);
        assert_eq!(s.agents.votes()[2], Vote::Against);
        assert_eq!(s.name, "t");
    }

    #[test]
    fn listed_agents_come_before_generated_ones() {
        let s = parse(
            "algorithm = \"byzantine\"\n\
             [[groups]]\ncount = 1\nvote = \"for\"\n\
             [[agents]]\nid = \"leader\"\nvote = \"abstain\"\nbehavior = \"flip\"\n",
        )
        .unwrap();
        assert_eq!(s.agents.id(0), "leader");
        assert_eq!(s.agents.behaviors()[0], Behavior::Flip);
        assert_eq!(s.agents.id(1), "agent-1");
    }

    #[test]
    fn unknown_key_is_an_error_with_line_and_column() {
        let err = parse("algorithm = \"gossip\"\n[gossip]\nfanot = 3\n").unwrap_err();
        assert!(err.starts_with("t.toml:3:1: key 'gossip"), "{err}");
        assert!(err.contains("unknown field `fanot`"), "{err}");
    }

    #[test]
    fn duplicate_ids_are_reported_at_the_second_agent() {
        let err = parse(
            "algorithm = \"byzantine\"\n\
             [[agents]]\nid = \"a\"\nvote = \"for\"\n\
             [[agents]]\nid = \"a\"\nvote = \"for\"\n",
        )
        .unwrap_err();
        assert_eq!(
            err,
            "t.toml:6:6: key 'agents[1].id': duplicate agent id 'a'"
        );
    }

    #[test]
    fn datetimes_in_the_proposal_become_strings() {
        let s = parse("algorithm = \"gossip\"\n[proposal]\nat = 2025-01-01T10:00:00Z\nn = 3\n")
            .unwrap();
        let proposal = serde_json::Value::Object(s.proposal.unwrap());
        assert_eq!(
            proposal,
            serde_json::json!({"at": "2025-01-01T10:00:00Z", "n": 3})
        );
    }
}

//! Gossip (epidemic) majority consensus, with faults and network topologies.
//!
//! Every round each agent asks `fanout` distinct random peers for their votes
//! and adopts the strict majority of its own vote and theirs (abstentions not
//! counted; with no strict majority it keeps its vote). Rounds are
//! synchronous: round `r` reads only the votes after round `r-1`. The run
//! stops when the swarm has converged, or after `max_rounds`.
//!
//! Agreement is measured over the agents that are alive, honest and
//! stubborn: the share of the most common non-abstaining vote among their
//! non-abstaining votes. A round has converged when that share reaches the
//! convergence threshold and at least `min_participation` of the live agents
//! hold a non-abstaining vote, so a swarm of abstainers around one voter has
//! not agreed on anything.
//!
//! Real swarms gossip over imperfect networks, so a run can also model:
//!
//! - a **topology** ([`Topology`]): peers are drawn among an agent's
//!   neighbours (`min(fanout, neighbours)` of them) instead of among all
//!   other agents;
//! - **loss**: each exchange with a sampled peer is lost with probability
//!   `loss`, independently;
//! - **partitions**: during rounds `from..=until` an agent reaches only the
//!   agents of its own group (agents listed in no group form one more group).
//!   Agents do not know about partitions: they still sample peers across it,
//!   and those exchanges fail. Overlapping partitions all apply;
//! - **behaviours**: a `silent` agent has crashed: it asks no one, answers no
//!   one (an exchange with it fails), keeps its vote and is left out of
//!   every count (agreement, participation, tally and decision); a
//!   `stubborn` agent asks no one, always answers its initial vote and keeps
//!   it, and counts with that vote. Silent agents never change, so each
//!   round's counts are corrected by theirs once, outside the per-agent loop.
//!
//! A failed exchange (lost, silent peer, or across a partition) counts no
//! vote and is reported in the round's `lost_exchanges`.
//!
//! Draws: the graph first, from the run's generator (see [`topology`]; none
//! for `complete` and `ring`, which are never built). Then each round is
//! cut into blocks of [`BLOCK`] agents, and block `b` of round `r` draws
//! from its own window of the run's ChaCha stream (word position
//! `(1 + (r-1)·blocks + b)·2^36`), so blocks can run on any number of
//! threads and give the same bytes. Within a block, per honest agent in
//! order, with `k = min(fanout, candidates)` exchanges (see `sampler.rs`):
//!
//! - when `loss > 0`, how many are lost, `L` ~ Binomial(`k`, `loss`), by
//!   inversion of one 32-bit word (two in fewer than `k` of 2^32 draws);
//! - then its `m = k - L` peers, distinct and uniform among its candidates:
//!   on a graph or ring whose agent has at most 255 neighbours and at most
//!   4,096 ways to choose `m` of them, one `Uniform` draw among those ways
//!   (listed in lexicographic order); otherwise, when `2k` is at most the
//!   candidates, `k` candidates drawn with `rand`'s `Uniform`, each repeat
//!   drawn again, of which the first `m` are heard; otherwise every
//!   candidate in order when all are wanted (no draw), else Floyd's
//!   algorithm for `m`.
//!
//! Losing each of `k` uniformly drawn distinct peers independently leaves a
//! uniform set of `k - L` of them, so this is the law of one coin per
//! exchange with far fewer draws. moai 0.1 drew every round from one
//! sequential stream with Floyd's algorithm, and until stream 4 one `f64`
//! per exchange for loss and peers by redraws on every network; runs of the
//! same seed differ from those.

use std::collections::HashMap;

use rand::SeedableRng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

mod sampler;

/// The integration tests' chi-square test, for the sampler's laws.
#[cfg(test)]
#[path = "../../../tests/support/chi_square.rs"]
mod chi_square;

use self::sampler::{Candidates, Everyone, PeerSampler, Ring, Tables};
use super::topology::{self, Graph};
use super::{VoteCounts, require_agents};
use crate::error::InvalidSetting;
use crate::rng::{READ_AHEAD_WORDS, ReadAhead, SimRng};
use crate::scenario::{
    Behavior, Decision, GossipConfig, MAX_ROUNDS, PartitionConfig, Swarm, Topology, Vote,
};

/// Most neighbours per agent of the random topologies (`random-regular`,
/// `small-world`). Building them scans neighbour lists, in time growing with
/// agents × degree²: about 15 s at this degree and the largest network, while
/// a dense small-world graph (degree near the agent count) never finished.
/// The ring, built without draws, takes any degree below the agent count.
pub const MAX_RANDOM_DEGREE: u32 = 100;

/// Most group labels (partitions × agents) a run may hold: each partition
/// labels every agent with its group, 4 bytes apiece (400 MB at the limit).
pub const MAX_PARTITION_LABELS: u64 = 100_000_000;

/// Most neighbour entries (agents × degree) a random-regular or small-world
/// network may have. Building one holds a few words per entry (about
/// 1.5 GB at the limit), so larger networks are refused up front. A ring
/// is never built, so it has no such limit.
pub const MAX_NEIGHBOUR_ENTRIES: u64 = 100_000_000;

impl PartitionConfig {
    /// What the output echoes of this partition, among `agents` agents.
    /// The partition must have been validated (no agent in two groups).
    fn summary(&self, agents: u64) -> PartitionSummary {
        let group_sizes: Vec<u64> = self.groups.iter().map(|g| g.len() as u64).collect();
        PartitionSummary {
            from: self.from,
            until: self.until,
            ungrouped: agents - group_sizes.iter().sum::<u64>(),
            group_sizes,
        }
    }
}

impl GossipConfig {
    /// Checks these settings against the participants.
    pub fn validate(&self, agents: &Swarm) -> Result<(), InvalidSetting> {
        require_agents(agents)?;
        if self.fanout == 0 {
            return Err(invalid(
                "gossip.fanout",
                Some("--fanout"),
                "fanout must be at least 1".into(),
            ));
        }
        if !(1..=MAX_ROUNDS).contains(&self.max_rounds) {
            return Err(invalid(
                "gossip.max_rounds",
                Some("--rounds"),
                format!(
                    "max_rounds must be between 1 and {MAX_ROUNDS}, got {}",
                    self.max_rounds
                ),
            ));
        }
        let c = self.convergence_threshold;
        if !(c > 0.5 && c <= 1.0) {
            return Err(invalid(
                "gossip.convergence_threshold",
                Some("--convergence-threshold"),
                format!("convergence_threshold must be in (0.5, 1], got {c}"),
            ));
        }
        if !(0.0..=1.0).contains(&self.min_participation) {
            return Err(invalid(
                "gossip.min_participation",
                Some("--min-participation"),
                format!(
                    "min_participation must be in [0, 1], got {}",
                    self.min_participation
                ),
            ));
        }
        let t = self.threshold;
        if !(t > 0.0 && t <= 1.0) {
            return Err(invalid(
                "gossip.threshold",
                Some("--threshold"),
                format!("threshold must be in (0, 1], got {t}"),
            ));
        }
        if !(0.0..=1.0).contains(&self.loss) {
            return Err(invalid(
                "gossip.loss",
                Some("--loss"),
                format!("loss must be in [0, 1], got {}", self.loss),
            ));
        }
        if !(0.0..=1.0).contains(&self.rewire) {
            return Err(invalid(
                "gossip.rewire",
                Some("--rewire"),
                format!("rewire must be in [0, 1], got {}", self.rewire),
            ));
        }
        self.validate_topology(agents.len() as u64)?;
        let labels = (self.partitions.len() as u64).saturating_mul(agents.len() as u64);
        if labels > MAX_PARTITION_LABELS {
            return Err(invalid(
                "gossip.partitions",
                None,
                format!(
                    "{} partitions of {} agents need {labels} group labels, more than the \
                     limit of {MAX_PARTITION_LABELS}",
                    self.partitions.len(),
                    agents.len()
                ),
            ));
        }
        resolve_partitions(&self.partitions, agents)?;
        if let Some(i) = agents
            .behaviors()
            .iter()
            .position(|b| !matches!(b, Behavior::Honest | Behavior::Silent | Behavior::Stubborn))
        {
            return Err(invalid(
                &agents.origin(i).key("behavior"),
                None,
                format!(
                    "agent '{}': behavior '{}' has no meaning in gossip, which supports: \
                     honest, silent, stubborn",
                    agents.id(i),
                    agents.behaviors()[i].name()
                ),
            ));
        }
        Ok(())
    }

    /// Checks that `topology` and `degree` describe a graph on `n` agents
    /// that fits the compact representation.
    fn validate_topology(&self, n: u64) -> Result<(), InvalidSetting> {
        let name = self.topology.name();
        let k = u64::from(self.degree);
        let degree_error = |message: String| invalid("gossip.degree", Some("--degree"), message);
        let fewest_agents = match self.topology {
            Topology::Complete => return Ok(()),
            Topology::Ring | Topology::SmallWorld => 3,
            Topology::RandomRegular => 2,
        };
        if n < fewest_agents {
            return Err(invalid(
                "gossip.topology",
                Some("--topology"),
                format!(
                    "the {name} topology needs at least {fewest_agents} agents, the scenario has {n}"
                ),
            ));
        }
        match self.topology {
            Topology::Complete => {}
            Topology::Ring | Topology::SmallWorld => {
                let largest = (n - 1) & !1;
                if k % 2 == 1 || !(2..=largest).contains(&k) {
                    return Err(degree_error(format!(
                        "degree must be even and in [2, {largest}] for the {name} topology \
                         with {n} agents, got {k}"
                    )));
                }
            }
            Topology::RandomRegular => {
                if !(1..n).contains(&k) {
                    return Err(degree_error(format!(
                        "degree must be in [1, {}] for the {name} topology with {n} agents, \
                         got {k}",
                        n - 1
                    )));
                }
                if (n * k) % 2 == 1 {
                    return Err(degree_error(format!(
                        "the {name} topology needs agents × degree to be even, \
                         got {n} × {k}; use an even degree"
                    )));
                }
            }
        }
        if self.topology != Topology::Ring && k > u64::from(MAX_RANDOM_DEGREE) {
            return Err(degree_error(format!(
                "degree must be at most {MAX_RANDOM_DEGREE} for the {name} topology, got {k}"
            )));
        }
        if self.topology != Topology::Ring && n * k > MAX_NEIGHBOUR_ENTRIES {
            return Err(degree_error(format!(
                "degree {k} with {n} agents needs {} neighbour entries, more than the \
                 limit of {MAX_NEIGHBOUR_ENTRIES}",
                n * k
            )));
        }
        Ok(())
    }
}

/// A valid setting worth a warning: one with no effect on the run, or one
/// that leaves every vote as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingWarning {
    /// The scenario key, as a dotted path (`gossip.degree`).
    pub key: &'static str,
    /// The flag that sets the same value.
    pub flag: &'static str,
    /// What is wrong with it.
    pub message: String,
    /// Whether the warning is only worth giving when the scenario or a flag
    /// sets the key: a default without effect is no one's mistake.
    pub only_when_set: bool,
}

impl GossipConfig {
    /// What these settings, which must be valid for `agents`, do not do.
    pub fn warnings(&self, agents: &Swarm) -> Vec<SettingWarning> {
        let mut warnings = Vec::new();
        let mut warn = |key, flag, message: String, only_when_set| {
            warnings.push(SettingWarning {
                key,
                flag,
                message,
                only_when_set,
            });
        };
        let cannot_change = "so no vote can change";
        // The most peers an agent hears: with one, its own vote and the
        // peer's never outvote it, and only an abstainer can move.
        let reach = match self.topology {
            Topology::Complete => agents.len() as u64 - 1,
            _ => u64::from(self.degree),
        };
        let one_peer = "an agent hears its own vote and one peer's, which never outvote it, \
                        and no honest agent abstains";
        if self.loss == 1.0 {
            warn(
                "gossip.loss",
                "--loss",
                format!("every exchange is lost (loss = 1), {cannot_change}"),
                false,
            );
        } else if u64::from(self.fanout).min(reach) == 1
            && !agents
                .votes()
                .iter()
                .zip(agents.behaviors())
                .any(|(&v, &b)| v == Vote::Abstain && b == Behavior::Honest)
        {
            let (key, flag, limit) = if self.fanout == 1 {
                ("gossip.fanout", "--fanout", "fanout 1".to_string())
            } else if self.topology == Topology::Complete {
                ("agents", "--agents", "2 agents".to_string())
            } else {
                ("gossip.degree", "--degree", "degree 1".to_string())
            };
            warn(
                key,
                flag,
                format!("with {limit} {one_peer}, {cannot_change}"),
                false,
            );
        }
        if self.topology == Topology::Complete {
            warn(
                "gossip.degree",
                "--degree",
                "has no effect on the complete topology".to_string(),
                true,
            );
        }
        if self.topology != Topology::SmallWorld {
            warn(
                "gossip.rewire",
                "--rewire",
                format!(
                    "has no effect on the {} topology; only small-world rewires",
                    self.topology.name()
                ),
                true,
            );
        }
        warnings
    }
}

/// A setting error at `key`, which `flag` also sets.
fn invalid(key: &str, flag: Option<&'static str>, message: String) -> InvalidSetting {
    InvalidSetting {
        key: key.to_string(),
        flag,
        message,
    }
}

/// A partition resolved to agent indices.
struct Partition {
    from: u32,
    until: u32,
    /// The group of each agent, by agent index; agents listed in no group
    /// share the label `groups.len()`.
    labels: Vec<u32>,
}

impl Partition {
    /// Whether agents `a` and `b` are cut off from each other.
    fn separates(&self, a: u32, b: u32) -> bool {
        self.labels[a as usize] != self.labels[b as usize]
    }
}

/// Resolves agent ids to indices, checking rounds, ids and overlaps.
fn resolve_partitions(
    partitions: &[PartitionConfig],
    agents: &Swarm,
) -> Result<Vec<Partition>, InvalidSetting> {
    if partitions.is_empty() {
        return Ok(Vec::new());
    }
    // Only the ids the groups name are indexed: each agent's id is made,
    // looked up and dropped, never all held at once.
    let mut index: HashMap<&str, u32> = partitions
        .iter()
        .flat_map(|p| p.groups.iter().flatten())
        .map(|id| (id.as_str(), u32::MAX))
        .collect();
    for (i, id) in agents.ids().enumerate() {
        if let Some(slot) = index.get_mut(id.as_str()) {
            *slot = i as u32;
        }
    }
    index.retain(|_, i| *i != u32::MAX);
    partitions
        .iter()
        .enumerate()
        .map(|(p, partition)| {
            let key = |field: &str| format!("gossip.partitions[{p}].{field}");
            if partition.from == 0 {
                return Err(invalid(
                    &key("from"),
                    None,
                    "from must be at least 1 (rounds are numbered from 1), got 0".into(),
                ));
            }
            if partition.from > partition.until {
                return Err(invalid(
                    &key("until"),
                    None,
                    format!(
                        "until must be at least from ({}), got {}",
                        partition.from, partition.until
                    ),
                ));
            }
            let ungrouped = partition.groups.len() as u32;
            let mut labels = vec![ungrouped; agents.len()];
            for (g, group) in partition.groups.iter().enumerate() {
                for (m, id) in group.iter().enumerate() {
                    let at = || key(&format!("groups[{g}][{m}]"));
                    let Some(&agent) = index.get(id.as_str()) else {
                        return Err(invalid(&at(), None, format!("unknown agent id '{id}'")));
                    };
                    let label = &mut labels[agent as usize];
                    if *label != ungrouped {
                        return Err(invalid(
                            &at(),
                            None,
                            format!(
                                "agent '{id}' is already in group {} of this partition; \
                                 an agent can be in one group only",
                                *label
                            ),
                        ));
                    }
                    *label = g as u32;
                }
            }
            Ok(Partition {
                from: partition.from,
                until: partition.until,
                labels,
            })
        })
        .collect()
}

/// The state of the swarm after one round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GossipRound {
    /// Round number, from 1.
    pub round: u32,
    /// Share of the most common non-abstaining vote among the counted
    /// agents' non-abstaining votes.
    pub agreement_ratio: f64,
    /// Share of the counted agents holding a non-abstaining vote.
    pub participation: f64,
    /// Whether the round has converged: the agreement reached the
    /// convergence threshold and the participation the minimum.
    pub converged: bool,
    /// Votes the counted (non-silent) agents hold after the round.
    #[serde(flatten)]
    pub counts: VoteCounts,
    /// Exchanges that failed this round: lost, with a silent peer, or
    /// across a partition.
    pub lost_exchanges: u64,
    /// Whether a partition was in force this round.
    pub partitioned: bool,
}

/// A partition as the output echoes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartitionSummary {
    /// First round in force.
    pub from: u32,
    /// Last round in force, inclusive.
    pub until: u32,
    /// Agents in each listed group, in order.
    pub group_sizes: Vec<u64>,
    /// Agents listed in no group, who form one more group.
    pub ungrouped: u64,
}

/// Settings and convergence of a gossip run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GossipMetadata {
    /// Peers contacted per agent per round.
    pub fanout: u32,
    /// Round limit.
    pub max_rounds: u32,
    /// Agreement needed to stop.
    pub convergence_threshold: f64,
    /// Participation needed to stop.
    pub min_participation: f64,
    /// Approval share needed to approve.
    pub threshold: f64,
    /// Probability that one exchange is lost.
    pub loss: f64,
    /// How agents are connected.
    pub topology: Topology,
    /// Neighbours per agent (not used by the complete topology).
    pub degree: u32,
    /// Rewiring probability (used by the small-world topology only).
    pub rewire: f64,
    /// Partitions, in scenario order.
    pub partitions: Vec<PartitionSummary>,
    /// Silent (crashed) agents, left out of every count.
    pub silent: u64,
    /// Rounds run.
    pub rounds_completed: u32,
    /// Whether some round converged.
    pub converged: bool,
    /// The first round that reached it.
    pub converged_round: Option<u32>,
    /// Whether the run stopped at convergence (false: all `max_rounds` ran).
    pub early_stop: bool,
    /// Agreement after the last round.
    pub agreement_ratio: f64,
    /// Participation after the last round.
    pub participation: f64,
    /// Rounds whose agreement reached the convergence threshold but whose
    /// participation was below `min_participation`, so they did not converge.
    pub rounds_held_back_by_participation: u32,
    /// Votes of the counted agents before the first round.
    pub initial_distribution: VoteCounts,
    /// One entry per round run.
    pub round_history: Vec<GossipRound>,
}

/// The result of a gossip run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GossipOutcome {
    /// The decision on the final votes.
    pub decision: Decision,
    /// Final votes of the counted (non-silent) agents.
    #[serde(flatten)]
    pub counts: VoteCounts,
    /// Settings, convergence and history.
    pub metadata: GossipMetadata,
}

/// Runs gossip consensus. `config` must have passed [`GossipConfig::validate`].
pub fn run(agents: &Swarm, config: &GossipConfig, rng: &mut SimRng) -> GossipOutcome {
    run_blocks(agents, config, rng, true)
}

/// [`run`], with the blocks of each round on the pool's threads when
/// `parallel`, else one after the other on the calling thread (for trials
/// that already run one per thread, so that a thread waiting for a block
/// never starts another trial). Both give the same outcome.
pub fn run_blocks(
    agents: &Swarm,
    config: &GossipConfig,
    rng: &mut SimRng,
    parallel: bool,
) -> GossipOutcome {
    let n = agents.len() as u32;
    let partitions =
        resolve_partitions(&config.partitions, agents).expect("partitions were validated");
    let network = match config.topology {
        Topology::Complete => Network::Complete(Everyone(n)),
        Topology::Ring => Network::Ring(Ring {
            agents: n,
            half: config.degree / 2,
        }),
        Topology::RandomRegular => {
            Network::Graph(topology::random_regular(n, config.degree, rng, parallel))
        }
        Topology::SmallWorld => {
            Network::Graph(topology::small_world(n, config.degree, config.rewire, rng))
        }
    };
    let behaviors = agents.behaviors();
    let anyone_silent = behaviors.contains(&Behavior::Silent);
    let sizes = match &network {
        Network::Complete(everyone) => everyone.sizes(n),
        Network::Ring(ring) => ring.sizes(n),
        Network::Graph(graph) => graph.sizes(n),
    };
    let width = config.fanout.min(sizes.most) as usize;
    let tables = Tables::new(&sizes, config.fanout, config.loss);
    // One abstaining slot past the last agent: "nobody" (see Blocks::play).
    let mut current: Vec<Vote> = agents.votes().to_vec();
    current.push(Vote::Abstain);
    let mut next = current.clone();
    // Silent agents keep their votes: their counts, taken from every round's.
    let silent = if anyone_silent {
        VoteCounts::of(
            agents
                .votes()
                .iter()
                .zip(behaviors)
                .filter(|&(_, &b)| b == Behavior::Silent)
                .map(|(&v, _)| v),
        )
    } else {
        VoteCounts::default()
    };
    let initial_distribution = VoteCounts::of(agents.votes().iter().copied()).minus(&silent);
    let base = rng.clone();
    let blocks = (n as usize).div_ceil(BLOCK);
    let mut active: Vec<&Partition> = Vec::with_capacity(partitions.len());
    let mut round_history = Vec::new();
    let mut converged_round = None;
    let mut held_back = 0;

    for round in 1..=config.max_rounds {
        active.clear();
        active.extend(
            partitions
                .iter()
                .filter(|p| (p.from..=p.until).contains(&round)),
        );
        let blocks_of_round = Blocks {
            current: &current,
            behaviors,
            fanout: config.fanout,
            width,
            tables: &tables,
            base: &base,
            round,
            blocks,
        };
        // Exchanges that fail for want of a peer, not of the network; None
        // when none can.
        let fails = (anyone_silent || !active.is_empty()).then_some(|me: u32, peer: u32| {
            behaviors[peer as usize] == Behavior::Silent
                || active.iter().any(|p| p.separates(me, peer))
        });
        // A copy of the block loop per network, with and without loss, and
        // for the usual run without silent agents or partitions, which
        // checks no exchange.
        let lossy = tables.losses.is_some();
        let play = |heard: &mut Vec<u32>, (block, out): (usize, &mut [Vote])| {
            let blocks = &blocks_of_round;
            match &network {
                Network::Complete(all) => blocks.play_any(all, block, out, heard, lossy, fails),
                Network::Ring(ring) => blocks.play_any(ring, block, out, heard, lossy, fails),
                Network::Graph(graph) => blocks.play_any(graph, block, out, heard, lossy, fails),
            }
        };
        let agents_next = &mut next[..n as usize];
        let (lost_exchanges, counts) = if blocks == 1 {
            play(&mut Vec::new(), (0, agents_next))
        } else if !parallel {
            let mut heard = Vec::new();
            agents_next
                .chunks_mut(BLOCK)
                .enumerate()
                .map(|block| play(&mut heard, block))
                .fold((0, VoteCounts::default()), |a, b| {
                    (a.0 + b.0, a.1.plus(&b.1))
                })
        } else {
            agents_next
                .par_chunks_mut(BLOCK)
                .enumerate()
                .map_init(Vec::new, play)
                .reduce(
                    || (0, VoteCounts::default()),
                    |a, b| (a.0 + b.0, a.1.plus(&b.1)),
                )
        };
        std::mem::swap(&mut current, &mut next);
        let counts = counts.minus(&silent);
        let agreement_ratio = counts.agreement_ratio();
        let participation = counts.participation();
        let agreed = agreement_ratio >= config.convergence_threshold;
        let converged = agreed && participation >= config.min_participation;
        held_back += u32::from(agreed && !converged);
        round_history.push(GossipRound {
            round,
            agreement_ratio,
            participation,
            converged,
            counts,
            lost_exchanges,
            partitioned: !active.is_empty(),
        });
        if converged {
            converged_round.get_or_insert(round);
            if config.early_stop {
                break;
            }
        }
    }

    let last = round_history.last().expect("max_rounds is at least 1");
    let counts = last.counts;
    GossipOutcome {
        decision: decide(&counts, config.threshold),
        counts,
        metadata: GossipMetadata {
            fanout: config.fanout,
            max_rounds: config.max_rounds,
            convergence_threshold: config.convergence_threshold,
            min_participation: config.min_participation,
            threshold: config.threshold,
            loss: config.loss,
            topology: config.topology,
            degree: config.degree,
            rewire: config.rewire,
            partitions: config
                .partitions
                .iter()
                .map(|p| p.summary(u64::from(n)))
                .collect(),
            silent: silent.total(),
            rounds_completed: last.round,
            converged: converged_round.is_some(),
            converged_round,
            early_stop: config.early_stop,
            agreement_ratio: last.agreement_ratio,
            participation: last.participation,
            rounds_held_back_by_participation: held_back,
            initial_distribution,
            round_history,
        },
    }
}

/// Agents per block of a round (see the module doc).
pub const BLOCK: usize = 4096;

/// log2 of the random words reserved for one block of one round: far more
/// than a block can draw, so windows never overlap.
const WINDOW_BITS: u32 = 36;

/// Most peer slots one pass over a block holds: 256 KiB of agent numbers,
/// which stay in the core's cache between drawing and tallying.
const PASS_SLOTS: usize = 1 << 16;

/// What every block of one round reads.
struct Blocks<'a> {
    /// The votes after the previous round, then one abstaining slot past the
    /// last agent: "nobody".
    current: &'a [Vote],
    behaviors: &'a [Behavior],
    fanout: u32,
    /// The most peers any agent gets.
    width: usize,
    /// The tables the peer draws read.
    tables: &'a Tables,
    /// The run's generator, where the round's draws start.
    base: &'a SimRng,
    round: u32,
    /// How many blocks the round has.
    blocks: usize,
}

impl Blocks<'_> {
    /// [`Self::play`], with the loop made for this run: with or without
    /// loss, and checking each exchange with `fails` if there is one.
    fn play_any(
        &self,
        candidates: &impl Candidates,
        block: usize,
        next: &mut [Vote],
        heard: &mut Vec<u32>,
        lossy: bool,
        fails: Option<impl Fn(u32, u32) -> bool>,
    ) -> (u64, VoteCounts) {
        let never = |_, _| false;
        match (lossy, fails) {
            (false, None) => self.play::<false>(candidates, block, next, heard, never),
            (true, None) => self.play::<true>(candidates, block, next, heard, never),
            (false, Some(f)) => self.play::<false>(candidates, block, next, heard, f),
            (true, Some(f)) => self.play::<true>(candidates, block, next, heard, f),
        }
    }

    /// Plays block `block` of the round into `next` (the block's slice):
    /// each honest agent hears its peers and adopts the majority; the others
    /// keep their votes. The sampler draws how many of an agent's exchanges
    /// are lost and the peers of the others; `fails(me, peer)` then says
    /// whether an exchange fails for another reason. Returns how many
    /// exchanges failed and the block's votes after the round.
    ///
    /// Each pass first draws the peers of a run of agents into `heard`, one
    /// row of `width` slots per agent with nobody in the unused and failed
    /// slots, then tallies the rows. The tally's reads of the peers' votes
    /// depend on nothing drawn meanwhile, so the memory system serves many
    /// at once.
    fn play<const LOSSY: bool>(
        &self,
        candidates: &impl Candidates,
        block: usize,
        next: &mut [Vote],
        heard: &mut Vec<u32>,
        fails: impl Fn(u32, u32) -> bool,
    ) -> (u64, VoteCounts) {
        let current = self.current;
        let nobody = (current.len() - 1) as u32;
        let mut sampler = PeerSampler::new(candidates, self.fanout, self.tables, nobody);
        let width = self.width.max(1);
        let pass = (PASS_SLOTS / width).clamp(1, next.len());
        // The block's window of the run's stream (window 0 is the graph's).
        let mut block_rng = SimRng::from_seed(self.base.get_seed());
        block_rng.set_stream(self.base.get_stream());
        let window = 1 + u128::from(self.round - 1) * self.blocks as u128 + block as u128;
        block_rng.set_word_pos(window << WINDOW_BITS);
        let mut words = [0; READ_AHEAD_WORDS];
        let rng = &mut ReadAhead::new(&mut block_rng, &mut words);
        let mut failed = 0u64;
        let mut counts = VoteCounts::default();
        for (index, next) in next.chunks_mut(pass).enumerate() {
            let first = block * BLOCK + index * pass;
            heard.resize(next.len() * width, nobody);
            for (offset, row) in heard.chunks_exact_mut(width).enumerate() {
                let me = (first + offset) as u32;
                if self.behaviors[me as usize] == Behavior::Honest {
                    let (lost, drawn) = sampler.sample::<LOSSY>(me, rng, row);
                    failed += u64::from(lost);
                    for slot in &mut row[..drawn] {
                        if fails(me, *slot) {
                            *slot = nobody;
                            failed += 1;
                        }
                    }
                } else {
                    row.fill(nobody);
                }
            }
            let votes = &current[first..first + next.len()];
            // A width known at compile time unrolls the tally.
            macro_rules! rows {
                ($w:literal) => {
                    tally(
                        current,
                        votes,
                        heard.as_chunks::<$w>().0.iter().map(|r| &r[..]),
                        next,
                        &mut counts,
                    )
                };
            }
            match width {
                1 => rows!(1),
                2 => rows!(2),
                3 => rows!(3),
                4 => rows!(4),
                5 => rows!(5),
                6 => rows!(6),
                7 => rows!(7),
                8 => rows!(8),
                _ => tally(current, votes, heard.chunks_exact(width), next, &mut counts),
            }
        }
        (failed, counts)
    }
}

/// The votes after a round of agents whose own votes are `votes` and who
/// heard the agents in `rows`, one row per agent, whose votes are in
/// `current`: each adopts the majority, into `next`, counted in `counts`.
/// An agent that heard no one keeps its vote: `adopt(v, lean(v)) = v`.
#[inline(always)]
fn tally<'a>(
    current: &[Vote],
    votes: &[Vote],
    rows: impl Iterator<Item = &'a [u32]>,
    next: &mut [Vote],
    counts: &mut VoteCounts,
) {
    for ((slot, &own), row) in next.iter_mut().zip(votes).zip(rows) {
        let lead = row
            .iter()
            .fold(lean(own), |lead, &peer| lead + lean(current[peer as usize]));
        *slot = adopt(own, lead);
        counts.add(*slot);
    }
}

/// What a vote adds to the lead of `for` over `against`.
#[inline(always)]
fn lean(vote: Vote) -> i32 {
    i32::from(vote as i8)
}

/// The vote an agent holding `own` adopts when the votes it heard (its own
/// included) lead `for` over `against` by `lead`: the strict majority,
/// abstentions not counted; on a tie it keeps its vote.
#[inline(always)]
fn adopt(own: Vote, lead: i32) -> Vote {
    match lead.cmp(&0) {
        std::cmp::Ordering::Greater => Vote::For,
        std::cmp::Ordering::Less => Vote::Against,
        std::cmp::Ordering::Equal => own,
    }
}

/// `approved` when approvals reach `threshold` of the decided votes and
/// outnumber rejections.
pub fn decide(counts: &VoteCounts, threshold: f64) -> Decision {
    let decided = counts.votes_for + counts.votes_against;
    if decided > 0
        && counts.votes_for > counts.votes_against
        && counts.votes_for as f64 / decided as f64 >= threshold
    {
        Decision::Approved
    } else {
        Decision::Rejected
    }
}

/// Whom an agent may sample as peers.
enum Network {
    /// Every other agent.
    Complete(Everyone),
    /// The ring's nearest agents.
    Ring(Ring),
    /// The agent's neighbours in a built graph.
    Graph(Graph),
}

#[cfg(test)]
mod tests {
    use rand::RngCore;

    use super::*;
    use crate::rng::generator;
    use crate::scenario::{Agent, AgentOrigin};

    fn swarm(votes: &[(Vote, usize)]) -> Swarm {
        votes
            .iter()
            .flat_map(|(vote, count)| std::iter::repeat_n(*vote, *count))
            .enumerate()
            .map(|(i, vote)| Agent {
                id: format!("agent-{}", i + 1),
                vote,
                behavior: Behavior::Honest,
                origin: AgentOrigin::Flags,
            })
            .collect()
    }

    fn config(fanout: u32, max_rounds: u32) -> GossipConfig {
        GossipConfig {
            fanout,
            max_rounds,
            ..GossipConfig::default()
        }
    }

    #[test]
    fn majority_is_strict_and_ignores_abstentions() {
        // Heard: own vote plus peers; abstentions add nothing to the lead.
        let heard = |votes: &[Vote]| votes.iter().map(|&v| lean(v)).sum::<i32>();
        use Vote::*;
        assert_eq!(
            adopt(Abstain, heard(&[For, For, Against, Abstain, Abstain])),
            For
        );
        assert_eq!(adopt(For, heard(&[For, Against, Against])), Against);
        assert_eq!(
            adopt(Against, heard(&[For, For, Against, Against, Abstain])),
            Against,
            "a tie keeps the vote"
        );
        assert_eq!(
            adopt(Abstain, heard(&[Abstain, Abstain])),
            Abstain,
            "all abstaining keeps the vote"
        );
    }

    #[test]
    fn unanimous_start_converges_in_round_one() {
        let out = run(&swarm(&[(Vote::For, 8)]), &config(3, 5), &mut generator(1));
        assert_eq!(out.metadata.rounds_completed, 1);
        assert!(out.metadata.converged);
        assert_eq!(out.metadata.agreement_ratio, 1.0);
        assert_eq!(out.decision, Decision::Approved);
    }

    #[test]
    fn full_fanout_reaches_the_global_majority_in_one_round() {
        // Everyone hears everyone: 15 FOR vs 5 AGAINST wins everywhere at once.
        let agents = swarm(&[(Vote::For, 15), (Vote::Against, 5)]);
        let out = run(&agents, &config(19, 7), &mut generator(3));
        assert_eq!(out.metadata.rounds_completed, 1);
        assert_eq!(
            out.counts,
            VoteCounts {
                votes_for: 20,
                votes_against: 0,
                abstain: 0
            }
        );
    }

    #[test]
    fn a_tie_everywhere_never_moves() {
        // Two agents, one each way: each sees a 1-1 tie and keeps its vote.
        let agents = swarm(&[(Vote::For, 1), (Vote::Against, 1)]);
        let out = run(&agents, &config(1, 4), &mut generator(3));
        assert_eq!(out.metadata.rounds_completed, 4);
        assert!(!out.metadata.converged);
        assert!(
            out.metadata
                .round_history
                .iter()
                .all(|r| r.agreement_ratio == 0.5)
        );
        assert_eq!(out.decision, Decision::Rejected);
    }

    #[test]
    fn abstainers_adopt_the_majority_they_hear() {
        let agents = swarm(&[(Vote::For, 10), (Vote::Abstain, 2)]);
        let out = run(&agents, &config(11, 3), &mut generator(3));
        assert_eq!(
            out.counts,
            VoteCounts {
                votes_for: 12,
                votes_against: 0,
                abstain: 0
            }
        );
    }

    #[test]
    fn stops_at_convergence_and_records_every_round() {
        let agents = swarm(&[(Vote::For, 15), (Vote::Against, 5)]);
        let out = run(&agents, &config(5, 7), &mut generator(42));
        let history = &out.metadata.round_history;
        assert_eq!(history.len() as u32, out.metadata.rounds_completed);
        let last = history.last().unwrap();
        assert!(last.converged && out.metadata.converged);
        assert!(history[..history.len() - 1].iter().all(|r| !r.converged));
        for r in history {
            assert_eq!(
                r.counts.votes_for + r.counts.votes_against + r.counts.abstain,
                20
            );
        }
        assert_eq!(out.decision, Decision::Approved);
    }

    #[test]
    fn decision_needs_threshold_and_a_lead() {
        let c = |f, a| VoteCounts {
            votes_for: f,
            votes_against: a,
            abstain: 0,
        };
        assert_eq!(decide(&c(66, 34), 0.66), Decision::Approved);
        assert_eq!(decide(&c(65, 35), 0.66), Decision::Rejected);
        assert_eq!(decide(&c(5, 5), 0.5), Decision::Rejected);
        assert_eq!(decide(&c(0, 0), 0.5), Decision::Rejected);
    }

    #[test]
    fn same_seed_same_run_different_seed_different_history() {
        let agents = swarm(&[(Vote::For, 60), (Vote::Against, 40)]);
        let a = run(&agents, &config(2, 10), &mut generator(8));
        let b = run(&agents, &config(2, 10), &mut generator(8));
        assert_eq!(a, b);
        let differs = (0..20).any(|s| run(&agents, &config(2, 10), &mut generator(s)) != a);
        assert!(differs);
    }

    #[test]
    fn validation_names_keys_and_flags() {
        let agents = swarm(&[(Vote::For, 3)]);
        let bad = |c: GossipConfig| c.validate(&agents).unwrap_err();
        assert_eq!(bad(config(0, 5)).flag, Some("--fanout"));
        assert_eq!(bad(config(3, 0)).key, "gossip.max_rounds");
        let c = GossipConfig {
            convergence_threshold: 0.5,
            ..config(3, 5)
        };
        assert_eq!(bad(c).key, "gossip.convergence_threshold");
        let c = GossipConfig {
            threshold: 1.5,
            ..config(3, 5)
        };
        assert_eq!(bad(c).key, "gossip.threshold");
        let mut flipper: Vec<Agent> = (0..agents.len()).map(|i| agents.agent(i)).collect();
        flipper[1].behavior = Behavior::Flip;
        flipper[1].origin = AgentOrigin::Listed(1);
        let err = config(3, 5).validate(&flipper.into()).unwrap_err();
        assert_eq!(err.key, "agents[1].behavior");
        assert_eq!(err.flag, None);
    }

    /// Agents `agent-1` … in order, with the given vote and behaviour counts.
    fn crowd(parts: &[(Vote, Behavior, usize)]) -> Swarm {
        parts
            .iter()
            .flat_map(|&(vote, behavior, count)| std::iter::repeat_n((vote, behavior), count))
            .enumerate()
            .map(|(i, (vote, behavior))| Agent {
                id: format!("agent-{}", i + 1),
                vote,
                behavior,
                origin: AgentOrigin::Flags,
            })
            .collect()
    }

    fn ids(range: std::ops::RangeInclusive<usize>) -> Vec<String> {
        range.map(|i| format!("agent-{i}")).collect()
    }

    fn history(out: &GossipOutcome) -> Vec<(u32, u64, u64, u64)> {
        out.metadata
            .round_history
            .iter()
            .map(|r| {
                (
                    r.round,
                    r.counts.votes_for,
                    r.counts.votes_against,
                    r.counts.abstain,
                )
            })
            .collect()
    }

    /// Each round's lost exchanges.
    fn lost(out: &GossipOutcome) -> Vec<u64> {
        out.metadata
            .round_history
            .iter()
            .map(|r| r.lost_exchanges)
            .collect()
    }

    #[test]
    fn a_seed_gives_the_run_recorded_for_it() {
        // Pins the documented random stream: a change here changes every
        // user's results for a given seed, and must be said in the README.
        let agents = swarm(&[(Vote::For, 60), (Vote::Against, 40)]);
        let out = run(&agents, &config(2, 10), &mut generator(8));
        assert_eq!(
            history(&out),
            [
                (1, 66, 34, 0),
                (2, 76, 24, 0),
                (3, 85, 15, 0),
                (4, 95, 5, 0)
            ]
        );
        assert!(
            out.metadata
                .round_history
                .iter()
                .all(|r| r.lost_exchanges == 0 && !r.partitioned)
        );

        let agents = swarm(&[(Vote::For, 1000), (Vote::Against, 999), (Vote::Abstain, 1)]);
        let out = run(&agents, &config(4, 30), &mut generator(7));
        assert_eq!(
            history(&out),
            [
                (1, 1037, 962, 1),
                (2, 1049, 951, 0),
                (3, 1074, 926, 0),
                (4, 1131, 869, 0),
                (5, 1211, 789, 0),
                (6, 1387, 613, 0),
                (7, 1699, 301, 0),
                (8, 1949, 51, 0)
            ]
        );

        // Stream 4: loss drawn as a count per agent, and a ring's peers
        // from a table of the ways to choose them.
        let agents = swarm(&[(Vote::For, 60), (Vote::Against, 40)]);
        let lossy = GossipConfig {
            loss: 0.3,
            ..config(3, 10)
        };
        let out = run(&agents, &lossy, &mut generator(8));
        assert_eq!(
            history(&out),
            [
                (1, 66, 34, 0),
                (2, 77, 23, 0),
                (3, 82, 18, 0),
                (4, 91, 9, 0),
                (5, 96, 4, 0)
            ]
        );
        assert_eq!(lost(&out), [89, 96, 80, 80, 88]);
        let ring = GossipConfig {
            topology: Topology::Ring,
            degree: 6,
            loss: 0.2,
            ..config(3, 4)
        };
        let out = run(&agents, &ring, &mut generator(8));
        assert_eq!(
            history(&out),
            [
                (1, 60, 40, 0),
                (2, 60, 40, 0),
                (3, 61, 39, 0),
                (4, 61, 39, 0)
            ]
        );
        assert_eq!(lost(&out), [67, 51, 58, 49]);
    }

    #[test]
    fn blocks_give_the_same_run_on_one_thread_or_two() {
        // 20,000 agents: five blocks, each with its own random window; the
        // fault-free loop, the one with faults, a ring's and a graph's.
        let agents = swarm(&[(Vote::For, 11_000), (Vote::Against, 9_000)]);
        let lossy = GossipConfig {
            loss: 0.1,
            ..config(3, 6)
        };
        let ring = GossipConfig {
            topology: Topology::Ring,
            degree: 40,
            ..config(5, 6)
        };
        // Its defects are looked for on the pool's threads.
        let regular = GossipConfig {
            topology: Topology::RandomRegular,
            degree: 12,
            ..config(5, 6)
        };
        for cfg in [config(5, 6), lossy, ring, regular] {
            let on = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                pool.install(|| run(&agents, &cfg, &mut generator(4)))
            };
            let one = on(1);
            assert_eq!(one, on(2));
            assert_eq!(one, on(3));
            let history = &one.metadata.round_history;
            assert_eq!(history.iter().all(|r| r.lost_exchanges > 0), cfg.loss > 0.0);
        }
    }

    #[test]
    fn total_loss_freezes_every_vote() {
        let agents = swarm(&[(Vote::For, 60), (Vote::Against, 40), (Vote::Abstain, 5)]);
        let c = GossipConfig {
            loss: 1.0,
            ..config(2, 6)
        };
        let out = run(&agents, &c, &mut generator(8));
        assert_eq!(out.metadata.rounds_completed, 6);
        for r in &out.metadata.round_history {
            assert_eq!(r.counts, out.metadata.initial_distribution);
            assert_eq!(r.lost_exchanges, 105 * 2);
            assert!(!r.partitioned);
        }
    }

    #[test]
    fn loss_drops_each_exchange_independently() {
        // 1,000 agents x 4 peers, half lost: 2,000 expected, deviation ~32.
        let agents = swarm(&[(Vote::For, 500), (Vote::Against, 500)]);
        let c = GossipConfig {
            loss: 0.5,
            ..config(4, 1)
        };
        let lost = run(&agents, &c, &mut generator(2)).metadata.round_history[0].lost_exchanges;
        assert!((1_840..=2_160).contains(&lost), "{lost}");
    }

    #[test]
    fn a_partition_between_unanimous_halves_holds_while_it_lasts() {
        let agents = swarm(&[(Vote::For, 10), (Vote::Against, 10)]);
        let halves = vec![ids(1..=10), ids(11..=20)];
        // The second half is also the implicit group of the unlisted agents.
        for groups in [halves.clone(), vec![halves[0].clone()]] {
            let c = GossipConfig {
                partitions: vec![PartitionConfig {
                    groups,
                    from: 1,
                    until: 5,
                }],
                ..config(5, 8)
            };
            let out = run(&agents, &c, &mut generator(4));
            let rounds = &out.metadata.round_history;
            for r in &rounds[..5] {
                assert!(r.partitioned);
                assert_eq!(r.agreement_ratio, 0.5);
                assert!(!r.converged);
                assert!(r.lost_exchanges > 0);
            }
            assert!(rounds[5..].iter().all(|r| !r.partitioned));
        }

        // Everyone asks all 19 others, 10 of them across the cut.
        let c = GossipConfig {
            partitions: vec![PartitionConfig {
                groups: halves,
                from: 2,
                until: 3,
            }],
            ..config(19, 4)
        };
        let out = run(&agents, &c, &mut generator(4));
        let lost: Vec<u64> = out
            .metadata
            .round_history
            .iter()
            .map(|r| r.lost_exchanges)
            .collect();
        assert_eq!(lost, [0, 200, 200, 0]);
    }

    #[test]
    fn overlapping_partitions_all_apply() {
        // Agents 1-4 for, 5-8 against. One partition cuts {1,2,5,6} from
        // the rest; a second, at the same time, cuts {1,3,5,7} from the rest:
        // each agent reaches only the one agent in both of its groups.
        let agents = swarm(&[(Vote::For, 4), (Vote::Against, 4)]);
        let names = |list: &[usize]| list.iter().map(|i| format!("agent-{i}")).collect();
        let c = GossipConfig {
            partitions: vec![
                PartitionConfig {
                    groups: vec![names(&[1, 2, 5, 6])],
                    from: 1,
                    until: 1,
                },
                PartitionConfig {
                    groups: vec![names(&[1, 3, 5, 7])],
                    from: 1,
                    until: 1,
                },
            ],
            ..config(7, 1)
        };
        let out = run(&agents, &c, &mut generator(1));
        assert_eq!(out.metadata.round_history[0].lost_exchanges, 8 * 6);
    }

    #[test]
    fn a_stubborn_majority_wins_and_a_stubborn_minority_never_yields() {
        let agents = crowd(&[
            (Vote::For, Behavior::Stubborn, 6),
            (Vote::Against, Behavior::Honest, 4),
        ]);
        let out = run(&agents, &config(9, 5), &mut generator(1));
        assert_eq!(history(&out), [(1, 10, 0, 0)]);
        assert!(out.metadata.converged);

        let agents = crowd(&[
            (Vote::Against, Behavior::Stubborn, 3),
            (Vote::For, Behavior::Honest, 7),
        ]);
        let out = run(&agents, &config(9, 5), &mut generator(1));
        assert!(history(&out).iter().all(|&(_, f, a, _)| (f, a) == (7, 3)));
        assert!(!out.metadata.converged);
        assert!(
            out.metadata
                .round_history
                .iter()
                .all(|r| r.agreement_ratio == 0.7)
        );
    }

    #[test]
    fn silent_agents_never_change_and_are_never_heard() {
        // Were the 4 silent AGAINST agents heard, every honest agent would
        // see 6 against 4 and vote against; unheard, the honest agents see
        // 4 for against 2 and all vote for.
        let agents = crowd(&[
            (Vote::Against, Behavior::Silent, 4),
            (Vote::For, Behavior::Honest, 4),
            (Vote::Against, Behavior::Honest, 2),
        ]);
        let out = run(&agents, &config(9, 3), &mut generator(1));
        // The silent agents are not counted: the 6 live agents all vote for.
        assert_eq!(out.metadata.silent, 4);
        assert_eq!(history(&out), [(1, 6, 0, 0)]);
        assert_eq!(out.metadata.round_history[0].lost_exchanges, 6 * 4);
        assert_eq!(
            out.metadata.initial_distribution,
            VoteCounts {
                votes_for: 4,
                votes_against: 2,
                abstain: 0
            }
        );
    }

    #[test]
    fn silent_agents_are_left_out_of_agreement_and_decision() {
        // 18 live agents unanimous and 2 crashed dissenters: 100%, converged
        // in round 1 (counted with their votes, 90% for ever).
        let agents = crowd(&[
            (Vote::For, Behavior::Honest, 18),
            (Vote::Against, Behavior::Silent, 2),
        ]);
        let out = run(&agents, &config(5, 7), &mut generator(42));
        assert_eq!(out.metadata.agreement_ratio, 1.0);
        assert!(out.metadata.converged);
        assert_eq!(out.metadata.converged_round, Some(1));
        assert_eq!(out.metadata.silent, 2);
        assert_eq!(history(&out), [(1, 18, 0, 0)]);
        assert_eq!(out.decision, Decision::Approved);
        // Silent approvers cannot carry a decision the live agents reject.
        let agents = crowd(&[
            (Vote::For, Behavior::Silent, 8),
            (Vote::Against, Behavior::Honest, 4),
        ]);
        let out = run(&agents, &config(3, 2), &mut generator(1));
        assert_eq!(out.counts.votes_for, 0);
        assert_eq!(out.decision, Decision::Rejected);
        // Every agent silent: nothing is counted and nothing converges.
        let agents = crowd(&[(Vote::For, Behavior::Silent, 3)]);
        let out = run(&agents, &config(2, 2), &mut generator(1));
        assert_eq!(out.counts, VoteCounts::default());
        assert!(!out.metadata.converged);
    }

    #[test]
    fn stubborn_agents_are_counted_and_silent_ones_are_not() {
        let agents = crowd(&[
            (Vote::For, Behavior::Honest, 17),
            (Vote::Against, Behavior::Stubborn, 1),
            (Vote::Against, Behavior::Silent, 2),
        ]);
        let out = run(&agents, &config(5, 3), &mut generator(3));
        assert_eq!(out.metadata.silent, 2);
        for r in &out.metadata.round_history {
            assert_eq!((r.counts.votes_for, r.counts.votes_against), (17, 1));
            assert_eq!(r.agreement_ratio, 17.0 / 18.0);
        }
    }

    #[test]
    fn convergence_needs_the_minimum_participation() {
        // 999 abstainers and 1 approver: agreement is 100% from round 1,
        // but almost no one holds a vote.
        let agents = swarm(&[(Vote::Abstain, 999), (Vote::For, 1)]);
        let out = run(&agents, &config(3, 3), &mut generator(42));
        assert!(!out.metadata.converged);
        assert_eq!(out.metadata.converged_round, None);
        assert_eq!(out.metadata.rounds_completed, 3);
        assert_eq!(out.metadata.rounds_held_back_by_participation, 3);
        for r in &out.metadata.round_history {
            assert_eq!(r.agreement_ratio, 1.0);
            assert!(r.participation < 0.5, "{r:?}");
            assert!(!r.converged);
        }
        assert_eq!(out.metadata.min_participation, 0.5);
        assert_eq!(
            out.metadata.participation,
            out.metadata.round_history[2].participation
        );
        // min_participation = 0 is the rule without it: converged at once.
        let none = GossipConfig {
            min_participation: 0.0,
            ..config(3, 3)
        };
        let out = run(&agents, &none, &mut generator(42));
        assert!(out.metadata.converged);
        assert_eq!(out.metadata.converged_round, Some(1));
        assert_eq!(out.metadata.rounds_held_back_by_participation, 0);
        // The bound is inclusive: 2 voters of 4 (stubborn, so nothing
        // moves) are enough, 2 of 5 are not.
        for (abstainers, converged) in [(2, true), (3, false)] {
            let agents = crowd(&[
                (Vote::For, Behavior::Stubborn, 2),
                (Vote::Abstain, Behavior::Stubborn, abstainers),
            ]);
            let out = run(&agents, &config(2, 2), &mut generator(5));
            assert_eq!(out.metadata.converged, converged, "{abstainers}");
        }
    }

    #[test]
    fn min_participation_is_validated_in_zero_to_one() {
        let agents = swarm(&[(Vote::For, 3)]);
        for bad in [-0.1, 1.01, f64::NAN] {
            let err = GossipConfig {
                min_participation: bad,
                ..config(3, 5)
            }
            .validate(&agents)
            .unwrap_err();
            assert_eq!(
                (err.key.as_str(), err.flag),
                ("gossip.min_participation", Some("--min-participation"))
            );
            assert_eq!(
                err.message,
                format!("min_participation must be in [0, 1], got {bad}")
            );
        }
        for ok in [0.0, 1.0] {
            let c = GossipConfig {
                min_participation: ok,
                ..config(3, 5)
            };
            assert_eq!(c.validate(&agents), Ok(()));
        }
    }

    /// The messages of the warnings `c` gives for `agents`, and whether
    /// each needs its key set.
    fn warned(c: &GossipConfig, agents: &Swarm) -> Vec<(&'static str, String, bool)> {
        c.validate(agents).unwrap();
        c.warnings(agents)
            .into_iter()
            .map(|w| (w.key, w.message, w.only_when_set))
            .collect()
    }

    #[test]
    fn warnings_name_settings_that_change_nothing() {
        let split = swarm(&[(Vote::For, 6), (Vote::Against, 4)]);
        let frozen = "so no vote can change";
        // The defaults: a complete network, where degree and rewire are
        // unused (worth saying only when set).
        let defaults = warned(&config(3, 5), &split);
        assert_eq!(
            defaults,
            [
                (
                    "gossip.degree",
                    "has no effect on the complete topology".to_string(),
                    true
                ),
                (
                    "gossip.rewire",
                    "has no effect on the complete topology; only small-world rewires".to_string(),
                    true
                ),
            ]
        );
        let fanout_1 = warned(&config(1, 5), &split);
        assert_eq!(
            fanout_1[0],
            (
                "gossip.fanout",
                format!(
                    "with fanout 1 an agent hears its own vote and one peer's, which never \
                     outvote it, and no honest agent abstains, {frozen}"
                ),
                false
            )
        );
        // An honest abstainer can still adopt a vote.
        let with_abstainer = swarm(&[(Vote::For, 6), (Vote::Abstain, 1)]);
        assert_eq!(warned(&config(1, 5), &with_abstainer).len(), 2);
        let lossless = GossipConfig {
            loss: 1.0,
            ..config(3, 5)
        };
        assert_eq!(
            warned(&lossless, &split)[0],
            (
                "gossip.loss",
                format!("every exchange is lost (loss = 1), {frozen}"),
                false
            )
        );
        let ring = GossipConfig {
            topology: Topology::Ring,
            degree: 2,
            ..config(3, 5)
        };
        assert_eq!(
            warned(&ring, &split),
            [(
                "gossip.rewire",
                "has no effect on the ring topology; only small-world rewires".to_string(),
                true
            )]
        );
        let pairs = GossipConfig {
            topology: Topology::RandomRegular,
            degree: 1,
            ..config(3, 5)
        };
        assert_eq!(warned(&pairs, &split)[0].0, "gossip.degree");
        assert!(warned(&pairs, &split)[0].1.starts_with("with degree 1 "));
        let small_world = GossipConfig {
            topology: Topology::SmallWorld,
            degree: 4,
            ..config(3, 5)
        };
        assert_eq!(warned(&small_world, &split), []);
        // Two agents on a complete network hear one peer each.
        let two = swarm(&[(Vote::For, 1), (Vote::Against, 1)]);
        assert_eq!(warned(&config(3, 5), &two)[0].0, "agents");
    }

    #[test]
    fn a_ring_with_full_fanout_and_no_loss_draws_nothing() {
        let agents = swarm(&[(Vote::For, 30), (Vote::Against, 20)]);
        let c = GossipConfig {
            topology: Topology::Ring,
            degree: 4,
            ..config(4, 5)
        };
        let mut rng = generator(3);
        run(&agents, &c, &mut rng);
        assert_eq!(rng.next_u64(), generator(3).next_u64());
    }

    #[test]
    fn a_partition_changes_which_exchanges_fail_not_the_draws() {
        let agents = swarm(&[(Vote::For, 50), (Vote::Against, 50)]);
        let lossy = GossipConfig {
            loss: 0.3,
            ..config(3, 2)
        };
        let partitioned = |groups| GossipConfig {
            partitions: vec![PartitionConfig {
                groups,
                from: 1,
                until: 2,
            }],
            ..lossy.clone()
        };
        let plain = run(&agents, &lossy, &mut generator(5));
        // One group of everyone cuts nothing: the same draws, the same run.
        let whole = run(&agents, &partitioned(vec![ids(1..=100)]), &mut generator(5));
        assert_eq!(history(&whole), history(&plain));
        for (w, p) in whole
            .metadata
            .round_history
            .iter()
            .zip(&plain.metadata.round_history)
        {
            assert_eq!((w.lost_exchanges, w.partitioned), (p.lost_exchanges, true));
        }
        // A real cut fails more exchanges.
        let cut = run(&agents, &partitioned(vec![ids(1..=30)]), &mut generator(5));
        assert_eq!(cut.metadata.rounds_completed, 2);
        assert!(
            cut.metadata.round_history[0].lost_exchanges
                > plain.metadata.round_history[0].lost_exchanges
        );
    }

    #[test]
    fn every_topology_is_reproducible_per_seed() {
        let agents = swarm(&[(Vote::For, 110), (Vote::Against, 90)]);
        for topology in [
            Topology::Complete,
            Topology::Ring,
            Topology::RandomRegular,
            Topology::SmallWorld,
        ] {
            let c = GossipConfig {
                topology,
                degree: 6,
                rewire: 0.2,
                loss: 0.1,
                ..config(3, 12)
            };
            c.validate(&agents).unwrap();
            let a = run(&agents, &c, &mut generator(8));
            assert_eq!(a, run(&agents, &c, &mut generator(8)), "{topology:?}");
            assert_eq!(a.metadata.topology, topology);
            let differs = (0..20).any(|s| run(&agents, &c, &mut generator(s)) != a);
            assert!(differs, "{topology:?}");
        }
    }

    #[test]
    fn a_ring_heard_in_full_follows_its_neighbourhoods() {
        // Degree 2 and fanout 2: each agent hears both neighbours, no draws.
        let ring = |fanout| GossipConfig {
            topology: Topology::Ring,
            degree: 2,
            ..config(fanout, 6)
        };
        // An isolated dissenter hears two others and gives in at once.
        let agents = swarm(&[
            (Vote::For, 4),
            (Vote::Against, 1),
            (Vote::For, 6),
            (Vote::Against, 1),
            (Vote::For, 8),
        ]);
        let out = run(&agents, &ring(2), &mut generator(1));
        assert_eq!(history(&out), [(1, 20, 0, 0)]);
        // Two contiguous halves: every agent hears at least its own side
        // twice out of three, so nothing ever moves.
        let agents = swarm(&[(Vote::For, 10), (Vote::Against, 10)]);
        let out = run(&agents, &ring(2), &mut generator(1));
        assert_eq!(out.metadata.rounds_completed, 6);
        assert!(history(&out).iter().all(|&(_, f, a, _)| (f, a) == (10, 10)));
        // On the complete network the same start does move.
        let out = run(&agents, &config(2, 6), &mut generator(1));
        assert!(history(&out).iter().any(|&(_, f, _, _)| f != 10));
    }

    #[test]
    fn a_random_regular_network_reaches_the_majority() {
        let agents = swarm(&[(Vote::For, 700), (Vote::Against, 300)]);
        let c = GossipConfig {
            topology: Topology::RandomRegular,
            degree: 8,
            ..config(4, 20)
        };
        let out = run(&agents, &c, &mut generator(1));
        assert!(out.metadata.converged);
        assert_eq!(out.decision, Decision::Approved);
    }

    #[test]
    fn metadata_echoes_the_fault_settings() {
        let agents = swarm(&[(Vote::For, 6), (Vote::Against, 4)]);
        let c = GossipConfig {
            loss: 0.25,
            topology: Topology::SmallWorld,
            degree: 2,
            rewire: 0.5,
            partitions: vec![PartitionConfig {
                groups: vec![ids(1..=3), ids(4..=5)],
                from: 2,
                until: 4,
            }],
            ..config(2, 3)
        };
        c.validate(&agents).unwrap();
        let out = run(&agents, &c, &mut generator(1));
        let json = serde_json::to_value(&out.metadata).unwrap();
        assert_eq!(json["loss"], 0.25);
        assert_eq!(json["topology"], "small-world");
        assert_eq!(json["degree"], 2);
        assert_eq!(json["rewire"], 0.5);
        assert_eq!(
            json["partitions"],
            serde_json::json!([{"from": 2, "until": 4, "group_sizes": [3, 2], "ungrouped": 5}])
        );
        let first = &json["round_history"][0];
        assert_eq!(first["partitioned"], false);
        assert!(first["lost_exchanges"].is_u64());
        assert_eq!(json["round_history"][1]["partitioned"], true);
    }

    #[test]
    fn new_keys_have_defaults_and_parse_from_toml() {
        let old: GossipConfig = toml::from_str(
            "fanout = 5
",
        )
        .unwrap();
        assert_eq!(
            old,
            GossipConfig {
                fanout: 5,
                ..GossipConfig::default()
            }
        );
        assert_eq!(old.loss, 0.0);
        assert_eq!(old.topology, Topology::Complete);
        assert!(old.partitions.is_empty());
        let new: GossipConfig = toml::from_str(
            "loss = 0.2
topology = \"random-regular\"
degree = 6
rewire = 0.3
\
             [[partitions]]
groups = [[\"a\", \"b\"], [\"c\"]]
from = 2
until = 9
",
        )
        .unwrap();
        assert_eq!(new.topology, Topology::RandomRegular);
        assert_eq!((new.loss, new.degree, new.rewire), (0.2, 6, 0.3));
        assert_eq!(new.partitions[0].groups, [vec!["a", "b"], vec!["c"]]);
        assert_eq!((new.partitions[0].from, new.partitions[0].until), (2, 9));
        assert!(
            toml::from_str::<GossipConfig>(
                "topology = \"star\"
"
            )
            .is_err()
        );
        let unknown = "[[partitions]]
groups = []
from = 1
until = 1
to = 3
";
        assert!(toml::from_str::<GossipConfig>(unknown).is_err());
    }

    #[test]
    fn validation_of_loss_and_rewire_gives_the_range() {
        let agents = swarm(&[(Vote::For, 3)]);
        for loss in [-0.1, 1.5, f64::NAN] {
            let err = GossipConfig {
                loss,
                ..config(3, 5)
            }
            .validate(&agents)
            .unwrap_err();
            assert_eq!(
                (err.key.as_str(), err.flag),
                ("gossip.loss", Some("--loss"))
            );
            assert_eq!(err.message, format!("loss must be in [0, 1], got {loss}"));
        }
        for rewire in [-1.0, 1.01] {
            let err = GossipConfig {
                rewire,
                ..config(3, 5)
            }
            .validate(&agents)
            .unwrap_err();
            assert_eq!(
                (err.key.as_str(), err.flag),
                ("gossip.rewire", Some("--rewire"))
            );
            assert_eq!(
                err.message,
                format!("rewire must be in [0, 1], got {rewire}")
            );
        }
        for ok in [0.0, 1.0] {
            let c = GossipConfig {
                loss: ok,
                rewire: ok,
                ..config(3, 5)
            };
            assert_eq!(c.validate(&agents), Ok(()));
        }
    }

    #[test]
    fn validation_of_topology_and_degree() {
        let check = |n: usize, topology, degree| {
            let c = GossipConfig {
                topology,
                degree,
                ..config(3, 5)
            };
            c.validate(&swarm(&[(Vote::For, n)]))
        };
        let fails = |n, topology, degree, key: &str, flag, message: &str| {
            let err = check(n, topology, degree).unwrap_err();
            assert_eq!((err.key.as_str(), err.flag), (key, Some(flag)));
            assert_eq!(err.message, message);
        };
        // The complete topology ignores the degree.
        assert_eq!(check(2, Topology::Complete, 0), Ok(()));
        assert_eq!(check(5, Topology::Ring, 4), Ok(()));
        assert_eq!(check(5, Topology::SmallWorld, 2), Ok(()));
        assert_eq!(check(5, Topology::RandomRegular, 4), Ok(()));
        assert_eq!(check(6, Topology::RandomRegular, 3), Ok(()));
        let degree = "gossip.degree";
        fails(
            10,
            Topology::Ring,
            3,
            degree,
            "--degree",
            "degree must be even and in [2, 8] for the ring topology with 10 agents, got 3",
        );
        fails(
            6,
            Topology::SmallWorld,
            6,
            degree,
            "--degree",
            "degree must be even and in [2, 4] for the small-world topology with 6 agents, got 6",
        );
        fails(
            6,
            Topology::Ring,
            0,
            degree,
            "--degree",
            "degree must be even and in [2, 4] for the ring topology with 6 agents, got 0",
        );
        fails(
            5,
            Topology::RandomRegular,
            3,
            degree,
            "--degree",
            "the random-regular topology needs agents × degree to be even, got 5 × 3; \
             use an even degree",
        );
        fails(
            4,
            Topology::RandomRegular,
            4,
            degree,
            "--degree",
            "degree must be in [1, 3] for the random-regular topology with 4 agents, got 4",
        );
        fails(
            2,
            Topology::Ring,
            2,
            "gossip.topology",
            "--topology",
            "the ring topology needs at least 3 agents, the scenario has 2",
        );
        fails(
            1,
            Topology::RandomRegular,
            1,
            "gossip.topology",
            "--topology",
            "the random-regular topology needs at least 2 agents, the scenario has 1",
        );
        let err = check(2_000_000, Topology::SmallWorld, 100).unwrap_err();
        assert_eq!(err.key, degree);
        assert_eq!(
            err.message,
            "degree 100 with 2000000 agents needs 200000000 neighbour entries, more than \
             the limit of 100000000"
        );
        // A ring is never built: any even degree below the agents.
        assert_eq!(check(100_000, Topology::Ring, 50_000), Ok(()));
        assert_eq!(check(1_000, Topology::Ring, 998), Ok(()));
        for topology in [Topology::RandomRegular, Topology::SmallWorld] {
            assert_eq!(check(1_000, topology, MAX_RANDOM_DEGREE), Ok(()));
            let err = check(1_000, topology, MAX_RANDOM_DEGREE + 2).unwrap_err();
            assert_eq!(err.key, degree);
            assert_eq!(
                err.message,
                format!(
                    "degree must be at most 100 for the {} topology, got 102",
                    topology.name()
                )
            );
        }
    }

    #[test]
    fn validation_of_partitions_points_at_the_entry() {
        let agents = swarm(&[(Vote::For, 4)]);
        let check = |groups: Vec<Vec<&str>>, from, until| {
            let c = GossipConfig {
                partitions: vec![
                    PartitionConfig {
                        groups: vec![vec!["agent-1".to_string()]],
                        from: 1,
                        until: 1,
                    },
                    PartitionConfig {
                        groups: groups
                            .into_iter()
                            .map(|g| g.into_iter().map(String::from).collect())
                            .collect(),
                        from,
                        until,
                    },
                ],
                ..config(3, 5)
            };
            c.validate(&agents)
        };
        assert_eq!(
            check(vec![vec!["agent-1", "agent-2"], vec![]], 2, 9),
            Ok(())
        );
        let err = check(vec![vec!["agent-1"], vec!["agent-9"]], 1, 2).unwrap_err();
        assert_eq!(err.key, "gossip.partitions[1].groups[1][0]");
        assert_eq!(err.flag, None);
        assert_eq!(err.message, "unknown agent id 'agent-9'");
        let err = check(
            vec![vec!["agent-1", "agent-2"], vec!["agent-3", "agent-2"]],
            1,
            2,
        )
        .unwrap_err();
        assert_eq!(err.key, "gossip.partitions[1].groups[1][1]");
        assert!(
            err.message.contains("'agent-2' is already in group 0"),
            "{}",
            err.message
        );
        let err = check(vec![vec!["agent-1", "agent-1"]], 1, 2).unwrap_err();
        assert_eq!(err.key, "gossip.partitions[1].groups[0][1]");
        let err = check(vec![vec!["agent-1"]], 0, 2).unwrap_err();
        assert_eq!(
            (err.key.as_str(), err.flag),
            ("gossip.partitions[1].from", None)
        );
        assert!(err.message.contains("at least 1"), "{}", err.message);
        let err = check(vec![vec!["agent-1"]], 3, 2).unwrap_err();
        assert_eq!(
            (err.key.as_str(), err.flag),
            ("gossip.partitions[1].until", None)
        );
        assert_eq!(err.message, "until must be at least from (3), got 2");
    }

    #[test]
    fn silent_and_stubborn_are_accepted_other_behaviours_are_not() {
        let mut agents = crowd(&[
            (Vote::For, Behavior::Silent, 1),
            (Vote::For, Behavior::Stubborn, 1),
            (Vote::For, Behavior::Honest, 1),
        ]);
        assert_eq!(config(3, 5).validate(&agents), Ok(()));
        let mut listed: Vec<Agent> = (0..agents.len()).map(|i| agents.agent(i)).collect();
        listed[2].behavior = Behavior::Random;
        listed[2].origin = AgentOrigin::Group(1);
        agents = listed.into();
        let err = config(3, 5).validate(&agents).unwrap_err();
        assert_eq!(err.key, "groups[1].behavior");
        assert_eq!(
            err.message,
            "agent 'agent-3': behavior 'random' has no meaning in gossip, which supports: \
             honest, silent, stubborn"
        );
    }
}

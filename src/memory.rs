//! The memory guard: before a run allocates anything for its swarm, one
//! model estimates everything the run will hold (the agents and the ids made
//! for output, the network while it is built, every trial in flight on the
//! worker threads and their buffers, the results kept until the end) and the
//! run is refused, with the estimate, the limit and the setting to lower,
//! when that is more than [`crate::budget`] allows.
//!
//! The model follows the allocations of the code it describes; each figure
//! is the peak of its part, so the sum is an upper bound of the peak.

use crate::budget::{self, human};
use crate::consensus::byzantine::{self, ByzantineOutcome, ByzantineRound};
use crate::consensus::gossip::{GossipOutcome, GossipRound};
use crate::report::Format;
use crate::scenario::{ByzantineConfig, GossipConfig, Swarm, Topology};

/// What the program takes before any run: code, libraries, the scenario.
pub const BASE: u64 = 16 << 20;

/// What each worker thread holds besides its trial and buffers: the pages
/// of its stack and allocator arena it touches (about 21 KiB measured).
pub const PER_THREAD: u64 = 64 << 10;

/// Bytes of one line of a CSV history, at most.
const CSV_ROW: u64 = 96;

/// How a run is laid out: what multiplies the memory of a single run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Trials per batch (1 for a single run).
    pub trials: u64,
    /// Batches of trials: the values of a sweep, else 1.
    pub batches: u64,
    /// Worker threads.
    pub threads: u64,
    /// Whether every trial's outcome and round history is kept until the
    /// end (`--format csv`, `--history`).
    pub keep_runs: bool,
    /// Ids shown in each list of agents (`--list-limit`).
    pub list_limit: u64,
    /// Bytes the output takes per round of history it prints (see
    /// [`printed_round`]).
    pub printed_round: u64,
}

/// The bytes `format` takes to print one round of a single run's history,
/// at most: a table's row cells with their layout, or its JSON or CSV text.
pub fn printed_round(format: Format) -> u64 {
    match format {
        Format::Table => 2560,
        Format::Json => 384,
        Format::Csv => CSV_ROW,
    }
}

impl Layout {
    /// A single run on `threads` threads, printed as `format` with
    /// `list_limit` ids per list.
    pub fn single(threads: u64, list_limit: u64, format: Format) -> Self {
        Layout {
            trials: 1,
            batches: 1,
            threads,
            keep_runs: false,
            list_limit,
            printed_round: printed_round(format),
        }
    }

    /// The output of a single run of `rounds` rounds (trials print
    /// summaries only, and a kept history is counted apart).
    fn printed(&self, rounds: u64) -> u64 {
        if self.trials > 1 || self.keep_runs {
            0
        } else {
            rounds.saturating_mul(self.printed_round)
        }
    }

    /// Runs in flight at once: one per thread running trials.
    fn in_flight(&self) -> u64 {
        self.trials.min(self.threads).max(1)
    }

    /// Trials whose results are kept until the end.
    fn kept_trials(&self) -> u64 {
        if self.keep_runs {
            self.trials.saturating_mul(self.batches)
        } else {
            0
        }
    }
}

/// What a run will hold, part by part, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Need {
    /// Held once for the whole run: the agents, the ids made for output,
    /// the printed history and the trial summaries.
    pub shared: u64,
    /// The part of `shared` and `per_run` that is ids made for output.
    pub ids: u64,
    /// The part of `shared` that is the printed round history.
    pub printed: u64,
    /// The part of `shared` that is the gossip trials' agreement per round.
    pub bands: u64,
    /// Held by one run (one trial) while it runs.
    pub per_run: u64,
    /// The part of `per_run` that builds and holds the network.
    pub network: u64,
    /// Runs in flight at once.
    pub in_flight: u64,
    /// Worker threads.
    pub threads: u64,
    /// What each worker thread holds besides its trial: [`PER_THREAD`] and
    /// its buffers.
    pub per_thread: u64,
    /// Results kept until the end: every trial's outcome and rounds.
    pub kept: u64,
}

impl Need {
    /// The whole estimate, the program itself included.
    pub fn total(&self) -> u64 {
        BASE.saturating_add(self.shared)
            .saturating_add(self.per_run.saturating_mul(self.in_flight))
            .saturating_add(self.threads.saturating_mul(self.per_thread))
            .saturating_add(self.kept)
    }

    /// What to lower to fit in `limit`: the setting behind the largest part.
    fn advice(&self, limit: u64) -> String {
        let threads = self.threads.saturating_mul(self.per_thread);
        if BASE.saturating_add(threads) >= limit {
            return if threads > BASE {
                format!(
                    "{} worker threads take {}; lower --threads",
                    self.threads,
                    human(threads)
                )
            } else {
                format!(
                    "moai itself takes about {}; raise MOAI_MAX_MEMORY",
                    human(BASE.saturating_add(threads))
                )
            };
        }
        let runs = self.per_run.saturating_mul(self.in_flight);
        if self.kept > runs && self.kept > self.shared {
            return format!(
                "the per-round history of every trial takes {}; run fewer --trials or --rounds, \
                 or drop --format csv and --history",
                human(self.kept)
            );
        }
        if self.in_flight > 1 && runs > self.shared {
            return format!(
                "{} trials run at once and each holds {}; lower --threads",
                self.in_flight,
                human(self.per_run)
            );
        }
        if self.network > self.per_run / 2 && runs > self.shared {
            return format!(
                "the network takes {}; lower --degree or --agents",
                human(self.network)
            );
        }
        if self.printed > (self.shared + runs) / 2 {
            return format!(
                "printing the round history takes {}; lower --rounds, or use --format json or csv",
                human(self.printed)
            );
        }
        if self.bands > (self.shared + runs) / 2 {
            return format!(
                "the agreement per round of the trial summaries takes {}; lower --rounds, \
                 or sweep fewer values",
                human(self.bands)
            );
        }
        if self.ids > (self.shared + runs) / 2 {
            return format!(
                "the agent ids shown take {}; lower --list-limit or --agents",
                human(self.ids)
            );
        }
        "lower --agents".to_string()
    }
}

/// The bytes one id string takes once made: the `String` and its heap
/// block (glibc rounds a block to 16 bytes, with 8 of overhead, 32 at least).
fn id_bytes(longest_id: u64) -> u64 {
    24 + (longest_id + 8).next_multiple_of(16).max(32)
}

/// The bytes `ids` id strings take, for a swarm whose longest id is `longest`.
fn ids(count: u64, longest: u64) -> u64 {
    count.saturating_mul(id_bytes(longest))
}

/// The swarm (a vote and a behaviour byte per agent), which every run holds.
fn swarm(agents: &Swarm) -> u64 {
    2 * agents.len() as u64
}

/// The participants made for output, and the output text of those ids.
fn participants(agents: &Swarm, layout: &Layout) -> u64 {
    let shown = (agents.len() as u64).min(layout.list_limit);
    2 * ids(shown, agents.longest_id() as u64)
}

/// The peak bytes of building the network of `n` agents and holding it.
fn network_bytes(n: u64, config: &GossipConfig) -> u64 {
    let nk = n.saturating_mul(u64::from(config.degree));
    match config.topology {
        // Never built: neighbours are computed.
        Topology::Complete | Topology::Ring => 0,
        // The rows, a neighbour per entry, built in place, and 4 bytes per
        // agent: a small-world graph's degrees, then offsets; a
        // random-regular pairing's bit per slot (for degree 32 at most),
        // then the list of its few defects.
        Topology::SmallWorld | Topology::RandomRegular => nk * 4 + (n + 1) * 4,
    }
}

/// Everything a gossip run (`layout.trials` trials, or one run) holds.
pub fn gossip(agents: &Swarm, config: &GossipConfig, layout: &Layout) -> Need {
    let n = agents.len() as u64;
    let rounds = u64::from(config.max_rounds);
    let network = network_bytes(n, config);
    let history = rounds * size_of::<GossipRound>() as u64;
    let partitions = n * 4 * config.partitions.len() as u64;
    // Two vote buffers with a slot for nobody.
    let per_run = network + partitions + 2 * (n + 1) + history + size_of::<GossipOutcome>() as u64;
    // A thread's buffer of drawn peers: a pass over up to 65,536 slots, or
    // one agent's row when that is wider, and never more than the agents'.
    let width = u64::from(config.fanout).min(n).max(1);
    let heard = 4 * (n * width).min((1 << 16).max(width));
    let kept_each = size_of::<GossipOutcome>() as u64 + rounds * (history_row::<GossipRound>());
    let bands = agreement_bands(config.max_rounds, layout);
    Need {
        shared: swarm(agents)
            + participants(agents, layout)
            + summaries(rounds, layout)
            + bands
            + layout.printed(rounds),
        ids: participants(agents, layout),
        printed: layout.printed(rounds),
        bands,
        per_run,
        network,
        in_flight: layout.in_flight(),
        threads: layout.threads,
        per_thread: PER_THREAD + heard,
        kept: layout.kept_trials().saturating_mul(kept_each),
    }
}

/// Everything a Byzantine run holds: a single vote, a sequence of
/// `proposals` (0 for a single proposal), or `layout.trials` trials.
pub fn byzantine(
    agents: &Swarm,
    config: &ByzantineConfig,
    proposals: usize,
    layout: &Layout,
) -> Need {
    let n = agents.len() as u64;
    let longest = agents.longest_id() as u64;
    let faulty = agents
        .behaviors()
        .iter()
        .filter(|&&b| byzantine::is_faulty(b))
        .count() as u64;
    let rounds = u64::from(config.num_rounds);
    // Per agent: a sure-change round (8), the round it was detected in (4),
    // first vote, last cast, changed, equivocated, detected (1 each), with
    // room to spare.
    let working = 20 * n + rounds * size_of::<ByzantineRound>() as u64;
    let outcome = size_of::<ByzantineOutcome>() as u64;
    // The lists of an outcome: the healthy agents, and seven lists of
    // faulty agents at most (only faulty agents are detected, missed or
    // silent), each made up to `shown` ids, and the detected agents'
    // detection rounds (4 bytes each).
    let lists =
        |shown: u64| ids(n.min(shown) + 7 * faulty.min(shown), longest) + 4 * faulty.min(shown);
    let shown = participants(agents, layout);
    let (shared, per_run, ids_made) = if proposals > 0 {
        // Every proposal keeps its whole outcome; the healthy agents are
        // copied as listed agents, then named once more in the summary.
        let outcomes = (proposals as u64).saturating_mul(lists(u64::MAX));
        let each = working + outcome;
        let healthy = n * (id_bytes(longest) + 32);
        let summary = ids(n + faulty, longest);
        let made = outcomes + healthy + summary;
        // All of them, whatever `--list-limit` says: ids made here are
        // `--agents`' to lower, not `--list-limit`'s.
        (
            swarm(agents) + shown + (proposals as u64).saturating_mul(each) + made,
            0,
            shown,
        )
    } else if layout.trials > 1 || layout.keep_runs {
        // Trials keep emptiness of the lists only: one id each.
        (
            swarm(agents) + shown + summaries(rounds, layout),
            working + outcome + lists(1),
            shown,
        )
    } else {
        let made = lists(layout.list_limit);
        (
            swarm(agents) + shown,
            working + outcome + made,
            shown + made,
        )
    };
    // A kept trial: its outcome, two ids (one missed, one false positive)
    // and its rounds.
    let kept_each = outcome + 2 * id_bytes(longest) + rounds * history_row::<ByzantineRound>();
    // Every proposal of a sequence prints its rounds.
    let printed = layout.printed(rounds.saturating_mul(proposals.max(1) as u64));
    Need {
        shared: shared + printed,
        ids: ids_made,
        printed,
        bands: 0,
        per_run,
        network: 0,
        in_flight: layout.in_flight(),
        threads: layout.threads,
        per_thread: PER_THREAD,
        kept: layout.kept_trials().saturating_mul(kept_each),
    }
}

/// The bytes a kept round takes: the round itself and its CSV line.
fn history_row<R>() -> u64 {
    size_of::<R>() as u64 + CSV_ROW
}

/// The trial summaries: a histogram of rounds per batch, and a chunk of
/// outcomes waiting to be summed in order.
fn summaries(rounds: u64, layout: &Layout) -> u64 {
    if layout.trials <= 1 && !layout.keep_runs {
        return 0;
    }
    (rounds + 1) * 8 + crate::montecarlo::CHUNK as u64 * 1024
}

/// What gossip trials add to [`summaries`]: the agreement histograms of the
/// batch running, and every batch's agreement per round with its JSON text.
fn agreement_bands(max_rounds: u32, layout: &Layout) -> u64 {
    if layout.trials <= 1 && !layout.keep_runs {
        return 0;
    }
    let band = size_of::<crate::montecarlo::RoundBand>() as u64 + 128;
    crate::montecarlo::agreement_bands_bytes(max_rounds)
        .saturating_add(layout.batches.saturating_mul(u64::from(max_rounds) * band))
}

/// Checks what a run needs against the limit; the error says both and
/// the setting to lower.
pub fn check(need: &Need) -> Result<(), String> {
    let (limit, source) = budget::limit()?;
    let total = need.total();
    if total > limit {
        return Err(format!(
            "this run needs about {} of memory, more than {} ({source}): {}",
            human(total),
            human(limit),
            need.advice(limit)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_cost_what_their_builds_hold_at_peak() {
        let config = |topology, degree| GossipConfig {
            topology,
            degree,
            ..GossipConfig::default()
        };
        assert_eq!(network_bytes(1000, &config(Topology::Complete, 8)), 0);
        assert_eq!(network_bytes(1000, &config(Topology::Ring, 8)), 0);
        assert_eq!(
            network_bytes(1000, &config(Topology::SmallWorld, 10)),
            44_004
        );
        assert_eq!(
            network_bytes(1_000_000, &config(Topology::RandomRegular, 100)),
            404_000_004
        );
    }

    #[test]
    fn trials_in_flight_multiply_a_run_and_kept_histories_add() {
        let agents = Swarm::generated(1000, 600, 0, crate::scenario::Behavior::Flip);
        let config = GossipConfig::default();
        let one = gossip(&agents, &config, &Layout::single(1, 1000, Format::Json));
        let layout = Layout {
            trials: 100,
            batches: 1,
            threads: 8,
            keep_runs: false,
            list_limit: 1000,
            printed_round: 0,
        };
        let many = gossip(&agents, &config, &layout);
        assert_eq!(many.in_flight, 8);
        assert_eq!(many.per_run, one.per_run);
        assert_eq!(many.kept, 0);
        let kept = gossip(
            &agents,
            &config,
            &Layout {
                keep_runs: true,
                ..layout
            },
        );
        assert!(kept.kept >= 100 * u64::from(config.max_rounds) * CSV_ROW);
        assert!(kept.total() > many.total());
    }
}

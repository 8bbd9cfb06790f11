//! Scenarios compiled into the binary, so `moai byzantine` works anywhere.
//! The same files live in the repository's `scenarios/` folder.

use super::Document;

/// A scenario file embedded in the binary.
#[derive(Debug, Clone, Copy)]
pub struct Bundled {
    /// File name under `scenarios/`.
    pub file: &'static str,
    /// The file's text.
    pub text: &'static str,
}

impl Bundled {
    /// The bundled scenario called `name` (its file name, with or without
    /// `.toml`).
    pub fn named(name: &str) -> Option<Bundled> {
        ALL.iter()
            .copied()
            .find(|b| b.file == name || b.name() == name)
    }

    /// The scenario's name: its file name without `.toml`.
    pub fn name(&self) -> &'static str {
        self.file.trim_end_matches(".toml")
    }

    /// The scenario as a document named `scenarios/FILE (bundled)`.
    pub fn document(&self) -> Document {
        Document::from_text(
            &format!("scenarios/{} (bundled)", self.file),
            self.name(),
            self.text,
        )
    }
}

/// A bundled scenario read from `scenarios/FILE` at compile time.
macro_rules! bundled {
    ($file:literal) => {
        Bundled {
            file: $file,
            text: include_str!(concat!("../../scenarios/", $file)),
        }
    };
}

/// Example 1 of the source document: 10 agents, f = 3, three vote changers.
pub const INFRA: Bundled = bundled!("infra.toml");

/// Example 2 of the source document: 20 agents gossiping, 15 approve.
pub const GOSSIP_SWARM: Bundled = bundled!("gossip-swarm.toml");

/// Several proposals in a row with every Byzantine behaviour.
pub const ROLLING_UPGRADE: Bundled = bundled!("rolling-upgrade.toml");

/// Byzantine detection against agents that vote at random.
pub const RANDOM_VOTERS: Bundled = bundled!("random-voters.toml");

/// Gossip under faults: message loss and stubborn dissenters.
pub const STUBBORN_LOSSY: Bundled = bundled!("stubborn-lossy.toml");

/// Gossip across a network partition that heals.
pub const PARTITIONED_SWARM: Bundled = bundled!("partitioned-swarm.toml");

/// Example 3: CRDT merges of a counter, a set, a map and a map of sets.
pub const CRDT_PATTERNS: Bundled = bundled!("crdt-patterns.toml");

/// Example 4: causal dominance and concurrent updates by vector clocks.
pub const VECTOR_CLOCKS: Bundled = bundled!("vector-clocks.toml");

/// Example 5: each key routed to a strategy by its prefix.
pub const HYBRID: Bundled = bundled!("hybrid.toml");

/// Every bundled scenario, in the order `moai scenarios` lists them.
pub const ALL: &[Bundled] = &[
    INFRA,
    ROLLING_UPGRADE,
    RANDOM_VOTERS,
    GOSSIP_SWARM,
    STUBBORN_LOSSY,
    PARTITIONED_SWARM,
    CRDT_PATTERNS,
    VECTOR_CLOCKS,
    HYBRID,
];

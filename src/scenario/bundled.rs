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
    /// The scenario as a document named `scenarios/FILE (bundled)`.
    pub fn document(&self) -> Document {
        let stem = self.file.trim_end_matches(".toml");
        Document::from_text(
            &format!("scenarios/{} (bundled)", self.file),
            stem,
            self.text,
        )
    }
}

/// Example 1 of the source document: 10 agents, f = 3, three vote changers.
pub const INFRA: Bundled = Bundled {
    file: "infra.toml",
    text: include_str!("../../scenarios/infra.toml"),
};

/// Example 2 of the source document: 20 agents gossiping, 15 approve.
pub const GOSSIP_SWARM: Bundled = Bundled {
    file: "gossip-swarm.toml",
    text: include_str!("../../scenarios/gossip-swarm.toml"),
};

/// Every bundled scenario, in the order `moai scenarios` lists them.
pub const ALL: &[Bundled] = &[INFRA, GOSSIP_SWARM];

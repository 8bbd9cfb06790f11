//! Exact answers: the probability law of a run, computed instead of sampled.
//!
//! Where moai's model allows it, a run's law follows from the model itself:
//! gossip on the complete network is a Markov chain over the honest agents'
//! vote counts ([`gossip`]), and a Byzantine vote is a product of
//! independent per-agent laws ([`byzantine`]). The summaries here answer the
//! questions `--trials` answers, with probabilities instead of frequencies,
//! and keep the relative accuracy of rare events: a one-in-a-billion wrong
//! decision is computed as such, never as `1 - (1 - 1e-9)`.
//!
//! Mass below [`DROP_BELOW`] is dropped and counted in `dropped_mass`.

pub mod byzantine;
pub mod compare;
pub mod gossip;

use indexmap::IndexMap;
use serde::Serialize;

pub use byzantine::ByzantineExactSummary;
pub use gossip::GossipExactSummary;

/// A state (or a term of a transition) whose probability is below this is
/// dropped; the mass dropped is reported.
pub const DROP_BELOW: f64 = 1e-300;

/// The exact law of a batch: what `--exact` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ExactSummary {
    /// A Byzantine vote's law.
    Byzantine(ByzantineExactSummary),
    /// A gossip run's law.
    Gossip(GossipExactSummary),
}

/// Each decision's probability, in the order trials list their counts.
pub type DecisionProbabilities = IndexMap<&'static str, f64>;

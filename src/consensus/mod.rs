//! Consensus algorithms: agents vote on a proposal and the swarm decides.
//!
//! Each algorithm is a pure function of the agents, its settings and a seeded
//! generator, returning plain data; nothing here prints.

pub mod byzantine;
pub mod gossip;
pub mod topology;

use serde::{Deserialize, Serialize};

use crate::error::InvalidSetting;
use crate::scenario::{Swarm, Vote};

/// How many votes of each kind a set of agents cast.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteCounts {
    /// Votes for the proposal.
    pub votes_for: u64,
    /// Votes against the proposal.
    pub votes_against: u64,
    /// Abstentions.
    pub abstain: u64,
}

impl VoteCounts {
    /// Counts the given votes.
    pub fn of(votes: impl IntoIterator<Item = Vote>) -> Self {
        let mut counts = VoteCounts::default();
        for vote in votes {
            counts.add(vote);
        }
        counts
    }

    /// Adds one vote.
    pub fn add(&mut self, vote: Vote) {
        match vote {
            Vote::For => self.votes_for += 1,
            Vote::Against => self.votes_against += 1,
            Vote::Abstain => self.abstain += 1,
        }
    }

    /// Both tallies together.
    pub fn plus(&self, other: &VoteCounts) -> VoteCounts {
        VoteCounts {
            votes_for: self.votes_for + other.votes_for,
            votes_against: self.votes_against + other.votes_against,
            abstain: self.abstain + other.abstain,
        }
    }

    /// These counts without `other`'s, which they must include.
    pub fn minus(&self, other: &VoteCounts) -> VoteCounts {
        VoteCounts {
            votes_for: self.votes_for - other.votes_for,
            votes_against: self.votes_against - other.votes_against,
            abstain: self.abstain - other.abstain,
        }
    }

    /// How many votes there are, abstentions included.
    pub fn total(&self) -> u64 {
        self.votes_for + self.votes_against + self.abstain
    }

    /// The share of votes that do not abstain; 0 when there are none.
    pub fn participation(&self) -> f64 {
        let all = self.total();
        if all == 0 {
            return 0.0;
        }
        (self.votes_for + self.votes_against) as f64 / all as f64
    }

    /// The share of the most common non-abstaining vote among non-abstaining
    /// votes; 0 when every vote abstains.
    pub fn agreement_ratio(&self) -> f64 {
        let decided = self.votes_for + self.votes_against;
        if decided == 0 {
            return 0.0;
        }
        self.votes_for.max(self.votes_against) as f64 / decided as f64
    }
}

/// Fails when there is no one to vote.
pub(crate) fn require_agents(agents: &Swarm) -> Result<(), InvalidSetting> {
    if agents.is_empty() {
        return Err(InvalidSetting {
            key: "agents".to_string(),
            flag: Some("--agents"),
            message: "the scenario has no agents: add [[agents]] or [[groups]]".to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_ratio_ignores_abstentions() {
        let counts = VoteCounts::of([Vote::For, Vote::For, Vote::Against, Vote::Abstain]);
        assert_eq!(
            counts,
            VoteCounts {
                votes_for: 2,
                votes_against: 1,
                abstain: 1
            }
        );
        assert!((counts.agreement_ratio() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(VoteCounts::of([Vote::Abstain]).agreement_ratio(), 0.0);
    }

    #[test]
    fn participation_is_the_share_that_does_not_abstain() {
        let counts = VoteCounts::of([Vote::For, Vote::Against, Vote::Abstain, Vote::Abstain]);
        assert_eq!(counts.participation(), 0.5);
        assert_eq!(VoteCounts::default().participation(), 0.0);
        let silent = VoteCounts::of([Vote::Against, Vote::Abstain]);
        assert_eq!(
            counts.minus(&silent),
            VoteCounts::of([Vote::For, Vote::Abstain])
        );
    }
}

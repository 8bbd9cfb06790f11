//! The total-work cap: every factor of a run has its own limit (agents,
//! rounds, trials, sweep values), but their product can still be hours of
//! work. Before anything runs, a run or a whole plan of trials × sweep values
//! counts the most work it may do and is refused, naming the product and its
//! limit, when that passes a cap; `--allow-long` lifts the caps.

/// Most agent-rounds (agents × rounds, summed over every trial, swept value
/// and proposal) one command may run: under a minute and a half of gossip
/// at fanout 5 or of a Byzantine vote on the development machine.
pub const MAX_AGENT_ROUNDS: u128 = 10_000_000_000;
/// Most gossip peer contacts (agent-rounds × fanout, the fanout at most the
/// other agents) one command may run: about 85 s at the 6×10^8 contacts/s
/// of the development machine's two cores.
pub const MAX_PEER_CONTACTS: u128 = 50_000_000_000;
/// Most trial runs (trials × swept values) one command may run: each trial
/// costs a setup of its own however small the swarm.
pub const MAX_TRIAL_RUNS: u128 = 10_000_000;

/// The most work a run or a plan of runs may do, added up run by run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Agents × rounds, counting every round a run may take (an early stop
    /// may end it sooner, but nothing guarantees it).
    pub agent_rounds: u128,
    /// Gossip peer contacts: agent-rounds × the peers each agent asks.
    pub peer_contacts: u128,
    /// Runs (trials) counted.
    pub runs: u128,
}

impl Work {
    /// One gossip run of `agents` agents, up to `rounds` rounds, each agent
    /// asking `fanout` peers (at most the other agents).
    pub fn gossip(agents: u64, rounds: u32, fanout: u32) -> Self {
        let agent_rounds = u128::from(agents) * u128::from(rounds);
        let peers = u64::from(fanout).min(agents.saturating_sub(1));
        Work {
            agent_rounds,
            peer_contacts: agent_rounds * u128::from(peers),
            runs: 1,
        }
    }

    /// One Byzantine vote of `agents` agents over `rounds` rounds, on each of
    /// `proposals` proposals.
    pub fn byzantine(agents: u64, rounds: u32, proposals: u64) -> Self {
        Work {
            agent_rounds: u128::from(agents) * u128::from(rounds) * u128::from(proposals.max(1)),
            peer_contacts: 0,
            runs: 1,
        }
    }

    /// This work done `times` times (trials).
    pub fn times(self, times: u64) -> Self {
        let times = u128::from(times);
        Work {
            agent_rounds: self.agent_rounds * times,
            peer_contacts: self.peer_contacts * times,
            runs: self.runs * times,
        }
    }

    /// This work and `other`'s.
    pub fn plus(self, other: Work) -> Self {
        Work {
            agent_rounds: self.agent_rounds + other.agent_rounds,
            peer_contacts: self.peer_contacts + other.peer_contacts,
            runs: self.runs + other.runs,
        }
    }

    /// Checks this work against the caps, unless `allow_long`. `what` names
    /// the work in the message (`this run`, `100 trials`, ...), `factors`
    /// says what was multiplied (`agents × rounds`) and `scope` how the
    /// products were added up (empty, or `, summed over the swept values`).
    pub fn check(
        &self,
        allow_long: bool,
        what: &str,
        factors: &str,
        scope: &str,
    ) -> Result<(), String> {
        if allow_long {
            return Ok(());
        }
        let refuse = |count: u128, unit: &str, factors: &str, limit: u128| {
            Err(format!(
                "{what} could take {count} {unit} ({factors}{scope}), more than the limit of \
                 {limit}; lower one of them, or pass --allow-long to run it anyway"
            ))
        };
        if self.runs > MAX_TRIAL_RUNS {
            return Err(format!(
                "{what} would be {} trial runs (trials × swept values), more than the limit of \
                 {MAX_TRIAL_RUNS}; run fewer trials or values, or pass --allow-long to run them \
                 anyway",
                self.runs
            ));
        }
        if self.agent_rounds > MAX_AGENT_ROUNDS {
            return refuse(self.agent_rounds, "agent-rounds", factors, MAX_AGENT_ROUNDS);
        }
        if self.peer_contacts > MAX_PEER_CONTACTS {
            let factors = format!("{factors} × fanout");
            return refuse(
                self.peer_contacts,
                "peer contacts",
                &factors,
                MAX_PEER_CONTACTS,
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_multiplies_the_factors_and_caps_the_products() {
        let run = Work::gossip(10_000_000, 100_000, 5);
        assert_eq!(run.agent_rounds, 1_000_000_000_000);
        assert_eq!(run.peer_contacts, 5_000_000_000_000);
        let err = run
            .check(false, "this run", "agents × rounds", "")
            .unwrap_err();
        assert!(
            err.starts_with(
                "this run could take 1000000000000 agent-rounds (agents × rounds), \
                 more than the limit of 10000000000"
            ),
            "{err}"
        );
        assert!(run.check(true, "this run", "agents × rounds", "").is_ok());
        // The fanout counts at most the other agents.
        assert_eq!(Work::gossip(3, 10, 50).peer_contacts, 60);
        assert_eq!(Work::gossip(1, 10, 5).peer_contacts, 0);
        // A large fanout passes the contacts cap before the agent-rounds one.
        let wide = Work::gossip(1_000_000, 10_000, 10);
        let err = wide
            .check(false, "this run", "agents × rounds", "")
            .unwrap_err();
        assert!(
            err.contains("100000000000 peer contacts (agents × rounds × fanout)"),
            "{err}"
        );
        let byz = Work::byzantine(1_000, 100, 3).times(10);
        assert_eq!(byz.agent_rounds, 3_000_000);
        assert_eq!(byz.runs, 10);
        let plan = Work::default().plus(Work::gossip(20, 7, 5).times(10_000_001));
        let err = plan.check(false, "a sweep", "x", "").unwrap_err();
        assert!(
            err.starts_with("a sweep would be 10000001 trial runs (trials × swept values)"),
            "{err}"
        );
        // The bench's largest single run stays within the caps.
        assert!(
            Work::gossip(10_000_000, 20, 5)
                .check(false, "", "", "")
                .is_ok()
        );
    }
}

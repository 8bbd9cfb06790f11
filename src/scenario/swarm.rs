//! The participants of a run in compact form. Agents are stored as one vote
//! and one behaviour each; ids and declaration sites are derived on demand
//! from the listed agents and the runs of generated ones, so a million
//! generated agents cost two bytes each, not a string.

use std::collections::HashSet;

use super::{Agent, AgentOrigin, Behavior, Vote};

/// Agents declared one by one.
#[derive(Debug, Clone, PartialEq)]
struct Listed {
    id: String,
    origin: AgentOrigin,
}

/// A run of generated agents `PREFIX{first}`, `PREFIX{first + 1}`, ...
#[derive(Debug, Clone, PartialEq)]
struct Run {
    prefix: String,
    first_number: u64,
    count: u64,
    /// Index of the run's first agent in the swarm.
    start: usize,
    origin: AgentOrigin,
}

impl Run {
    fn numbers(&self) -> std::ops::RangeInclusive<u64> {
        self.first_number..=self.first_number + self.count - 1
    }

    /// The number of `id` in this run, if `id` is one of its agents.
    fn number_of(&self, id: &str) -> Option<u64> {
        let digits = id.strip_prefix(self.prefix.as_str())?;
        let canonical = !digits.is_empty()
            && !digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit());
        let number: u64 = digits.parse().ok().filter(|_| canonical)?;
        self.numbers().contains(&number).then_some(number)
    }
}

/// The participants: listed agents first, then generated runs, in the order
/// every output keeps.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Swarm {
    votes: Vec<Vote>,
    behaviors: Vec<Behavior>,
    listed: Vec<Listed>,
    runs: Vec<Run>,
}

impl Swarm {
    /// An empty swarm.
    pub fn new() -> Self {
        Swarm::default()
    }

    /// Appends an agent declared by id.
    pub fn push_listed(&mut self, id: String, vote: Vote, behavior: Behavior, origin: AgentOrigin) {
        assert!(
            self.runs.is_empty(),
            "listed agents come before generated ones"
        );
        self.votes.push(vote);
        self.behaviors.push(behavior);
        self.listed.push(Listed { id, origin });
    }

    /// Appends `count` generated agents `PREFIX{first_number}`, ... all with
    /// the same vote and behaviour.
    pub fn push_run(
        &mut self,
        prefix: &str,
        first_number: u64,
        count: u64,
        vote: Vote,
        behavior: Behavior,
        origin: AgentOrigin,
    ) {
        if count == 0 {
            return;
        }
        let start = self.votes.len();
        self.votes.resize(start + count as usize, vote);
        self.behaviors.resize(start + count as usize, behavior);
        self.runs.push(Run {
            prefix: prefix.to_string(),
            first_number,
            count,
            start,
            origin,
        });
    }

    /// `count` generated agents `agent-1` ... `agent-N`: the first
    /// `approving` vote for and the rest against; the last `faulty` behave as
    /// `behavior` and the rest are honest (`--agents`, `--approve`,
    /// `--faulty`, `--behavior`).
    pub fn generated(count: u64, approving: u64, faulty: u64, behavior: Behavior) -> Self {
        let approving = approving.min(count);
        let honest = count - faulty.min(count);
        let mut cuts = [0, approving, honest, count];
        cuts.sort_unstable();
        let mut swarm = Swarm::new();
        for pair in cuts.windows(2) {
            let (from, to) = (pair[0], pair[1]);
            swarm.push_run(
                "agent-",
                from + 1,
                to - from,
                if from < approving {
                    Vote::For
                } else {
                    Vote::Against
                },
                if from < honest {
                    Behavior::Honest
                } else {
                    behavior
                },
                AgentOrigin::Flags,
            );
        }
        swarm
    }

    /// Agents `agent-1`, `agent-2`, ...: `count` agents per `(count, vote,
    /// behavior)`, in order (as `[[groups]]` would list them).
    pub fn of_groups(groups: &[(u64, Vote, Behavior)]) -> Self {
        let mut swarm = Swarm::new();
        let mut next = 1;
        for &(count, vote, behavior) in groups {
            swarm.push_run("agent-", next, count, vote, behavior, AgentOrigin::Flags);
            next += count;
        }
        swarm
    }

    /// How many agents there are.
    pub fn len(&self) -> usize {
        self.votes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.votes.is_empty()
    }

    /// The length in bytes of the longest id, spelled out or not.
    pub fn longest_id(&self) -> usize {
        let listed = self.listed.iter().map(|l| l.id.len());
        let runs = self.runs.iter().map(|r| {
            let last = r.first_number + (r.count - 1);
            r.prefix.len() + last.to_string().len()
        });
        listed.chain(runs).max().unwrap_or(0)
    }

    /// Every agent's declared vote, by index.
    pub fn votes(&self) -> &[Vote] {
        &self.votes
    }

    /// Every agent's behaviour, by index.
    pub fn behaviors(&self) -> &[Behavior] {
        &self.behaviors
    }

    fn run_of(&self, index: usize) -> Option<&Run> {
        if index < self.listed.len() {
            return None;
        }
        let at = self.runs.partition_point(|r| r.start <= index);
        self.runs.get(at.checked_sub(1)?)
    }

    /// The id of agent `index`.
    pub fn id(&self, index: usize) -> String {
        match self.run_of(index) {
            None => self.listed[index].id.clone(),
            Some(run) => format!(
                "{}{}",
                run.prefix,
                run.first_number + (index - run.start) as u64
            ),
        }
    }

    /// Every id, in order, made as they are read.
    pub fn ids(&self) -> impl Iterator<Item = String> + '_ {
        (0..self.len()).map(|i| self.id(i))
    }

    /// Where agent `index` was declared.
    pub fn origin(&self, index: usize) -> AgentOrigin {
        match self.run_of(index) {
            None => self.listed[index].origin,
            Some(run) => run.origin,
        }
    }

    /// Agent `index` as a whole.
    pub fn agent(&self, index: usize) -> Agent {
        Agent {
            id: self.id(index),
            vote: self.votes[index],
            behavior: self.behaviors[index],
            origin: self.origin(index),
        }
    }

    /// The agents for which `keep` holds, in order (as listed agents).
    pub fn select(&self, keep: impl Fn(usize) -> bool) -> Swarm {
        (0..self.len())
            .filter(|&i| keep(i))
            .map(|i| self.agent(i))
            .collect()
    }

    /// The first id that appears twice, with the index of its second
    /// appearance. Generated runs are compared arithmetically, never spelled out.
    pub fn duplicate(&self) -> Option<(String, usize)> {
        let mut seen = HashSet::with_capacity(self.listed.len());
        for (i, listed) in self.listed.iter().enumerate() {
            if !seen.insert(listed.id.as_str()) {
                return Some((listed.id.clone(), i));
            }
        }
        for (r, run) in self.runs.iter().enumerate() {
            for listed in &self.listed {
                if let Some(number) = run.number_of(&listed.id) {
                    return Some((
                        listed.id.clone(),
                        run.start + (number - run.first_number) as usize,
                    ));
                }
            }
            for earlier in &self.runs[..r] {
                if let Some(number) = shared_number(earlier, run) {
                    let id = format!("{}{number}", run.prefix);
                    return Some((id, run.start + (number - run.first_number) as usize));
                }
            }
        }
        None
    }
}

/// A number `n` of run `b` whose id `b.prefix + n` is also an id of run `a`.
fn shared_number(a: &Run, b: &Run) -> Option<u64> {
    if a.prefix == b.prefix {
        let (lo, hi) = (
            *b.numbers().start().max(a.numbers().start()),
            *b.numbers().end().min(a.numbers().end()),
        );
        return (lo <= hi).then_some(lo);
    }
    // One prefix extends the other by digits s: ids match when
    // longer.prefix + n == shorter.prefix + (s followed by n's digits).
    let (short, long, b_is_long) = if b.prefix.starts_with(&a.prefix) {
        (a, b, true)
    } else if a.prefix.starts_with(&b.prefix) {
        (b, a, false)
    } else {
        return None;
    };
    let extra = &long.prefix[short.prefix.len()..];
    if extra.starts_with('0') || !extra.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let s: u128 = extra.parse().ok()?;
    for digits in 1..=20u32 {
        let scale = 10u128.pow(digits);
        // n has exactly `digits` digits: in [10^(digits-1), 10^digits - 1].
        let lo = u128::from(*long.numbers().start()).max(scale / 10);
        let hi = u128::from(*long.numbers().end()).min(scale - 1);
        // and s * 10^digits + n must be a number of the short run.
        let lo = lo.max(u128::from(*short.numbers().start()).saturating_sub(s * scale));
        let hi = hi.min(u128::from(*short.numbers().end()).saturating_sub(s * scale));
        if lo <= hi && s * scale + lo >= u128::from(*short.numbers().start()) {
            let n_long = lo as u64;
            return Some(if b_is_long {
                n_long
            } else {
                (s * scale + lo) as u64
            });
        }
    }
    None
}

impl FromIterator<Agent> for Swarm {
    fn from_iter<I: IntoIterator<Item = Agent>>(agents: I) -> Self {
        let mut swarm = Swarm::new();
        for a in agents {
            swarm.push_listed(a.id, a.vote, a.behavior, a.origin);
        }
        swarm
    }
}

impl From<Vec<Agent>> for Swarm {
    fn from(agents: Vec<Agent>) -> Self {
        agents.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_swarm(runs: &[(&str, u64, u64)]) -> Swarm {
        let mut s = Swarm::new();
        for (i, (prefix, first, count)) in runs.iter().enumerate() {
            s.push_run(
                prefix,
                *first,
                *count,
                Vote::For,
                Behavior::Honest,
                AgentOrigin::Group(i),
            );
        }
        s
    }

    #[test]
    fn ids_and_origins_follow_listed_then_runs() {
        let mut s = Swarm::new();
        s.push_listed(
            "leader".into(),
            Vote::Abstain,
            Behavior::Flip,
            AgentOrigin::Listed(0),
        );
        s.push_run(
            "agent-",
            1,
            2,
            Vote::For,
            Behavior::Honest,
            AgentOrigin::Group(0),
        );
        s.push_run(
            "node-",
            3,
            1,
            Vote::Against,
            Behavior::Silent,
            AgentOrigin::Group(1),
        );
        assert_eq!(
            s.ids().collect::<Vec<_>>(),
            ["leader", "agent-1", "agent-2", "node-3"]
        );
        assert_eq!(s.origin(3), AgentOrigin::Group(1));
        assert_eq!(
            s.votes(),
            [Vote::Abstain, Vote::For, Vote::For, Vote::Against]
        );
        assert_eq!(s.agent(0).behavior, Behavior::Flip);
        assert_eq!(s.agent(3).behavior, Behavior::Silent);
        assert_eq!(
            s.select(|i| i % 2 == 1).ids().collect::<Vec<_>>(),
            ["agent-1", "node-3"]
        );
    }

    #[test]
    fn generated_swarms_vote_by_position_and_fault_at_the_end() {
        let s = Swarm::generated(6, 4, 3, Behavior::Random);
        assert_eq!(
            s.ids().collect::<Vec<_>>(),
            [
                "agent-1", "agent-2", "agent-3", "agent-4", "agent-5", "agent-6"
            ]
        );
        use Behavior::{Honest, Random};
        use Vote::{Against, For};
        assert_eq!(s.votes(), [For, For, For, For, Against, Against]);
        assert_eq!(
            s.behaviors(),
            [Honest, Honest, Honest, Random, Random, Random]
        );
        assert_eq!(s.duplicate(), None);
        assert_eq!(s.longest_id(), "agent-6".len());
        assert_eq!(
            Swarm::generated(10_000_000, 0, 0, Behavior::Flip).longest_id(),
            "agent-10000000".len()
        );
        assert_eq!(Swarm::new().longest_id(), 0);
        let s = Swarm::generated(3, 3, 0, Behavior::Flip);
        assert_eq!(s.behaviors(), [Honest; 3]);
        assert_eq!(s.votes(), [For; 3]);
        assert!(Swarm::generated(0, 0, 0, Behavior::Flip).is_empty());
    }

    #[test]
    fn duplicates_are_found_without_spelling_out_runs() {
        assert_eq!(run_swarm(&[("a-", 1, 5), ("b-", 6, 5)]).duplicate(), None);
        // "a" + 11 == "a1" + 1.
        let s = run_swarm(&[("a", 1, 20), ("a1", 21, 0), ("a1", 1, 1)]);
        assert_eq!(s.duplicate().map(|(id, _)| id), Some("a11".to_string()));
        assert_eq!(
            run_swarm(&[("a", 1, 9), ("a1", 10, 5)]).duplicate(),
            None,
            "a1..a9 and a110..a114 differ"
        );
        let s = run_swarm(&[("x", 1, 1000), ("x1", 1001, 1)]);
        assert_eq!(
            s.duplicate().map(|(id, _)| id),
            None,
            "x11001 is beyond x1000"
        );
        // A listed agent, then a run of agent-1 to agent-3.
        let listed_then_run = |id: &str| {
            let mut s = Swarm::new();
            s.push_listed(
                id.into(),
                Vote::For,
                Behavior::Honest,
                AgentOrigin::Listed(0),
            );
            s.push_run(
                "agent-",
                1,
                3,
                Vote::For,
                Behavior::Honest,
                AgentOrigin::Group(0),
            );
            s
        };
        let s = listed_then_run("agent-2");
        assert_eq!(s.duplicate(), Some(("agent-2".to_string(), 2)));
        let s: Swarm = vec![s.agent(0), s.agent(0)].into();
        assert_eq!(s.duplicate(), Some(("agent-2".to_string(), 1)));
        // Leading zeros never match a generated number.
        assert_eq!(listed_then_run("agent-01").duplicate(), None);
    }

    #[test]
    fn duplicate_search_agrees_with_spelling_everything_out() {
        let prefixes = ["a", "a1", "a12", "b", "a2"];
        for x in 0..prefixes.len() {
            for y in 0..prefixes.len() {
                for (first_b, count_b) in [(1, 30), (5, 3), (100, 50), (12, 1)] {
                    let s = run_swarm(&[(prefixes[x], 1, 150), (prefixes[y], first_b, count_b)]);
                    let all: Vec<String> = s.ids().collect();
                    let brute = all.iter().collect::<HashSet<_>>().len() != all.len();
                    assert_eq!(
                        s.duplicate().is_some(),
                        brute,
                        "{:?} / {:?} {first_b} {count_b}",
                        prefixes[x],
                        prefixes[y]
                    );
                }
            }
        }
    }
}

//! Vector clocks as a scenario holds them: agent ids interned once per
//! scenario and each clock's entries stored as a `u32` agent number and a
//! counter (12 bytes an entry), in the order the file wrote them: a state of
//! 10,000 versions with 400-entry clocks keeps 48 MB of clocks, where a map
//! per version kept a string, a hash and a counter for every entry.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::ser::{Serialize, SerializeMap, Serializer};

/// The agent ids the clocks of one scenario name, by number. Clocks made
/// while a scenario is read share it before it is complete; it is filled
/// once they are all read ([`ClockInterner::finish`]).
#[derive(Debug, Default)]
pub struct ClockAgents(OnceLock<Box<[Box<str>]>>);

impl ClockAgents {
    /// The id of agent number `agent` (empty before the names are filled).
    pub fn name(&self, agent: u32) -> &str {
        self.0
            .get()
            .and_then(|names| names.get(agent as usize))
            .map_or("", |name| name)
    }

    /// How many agents are named (0 before the names are filled).
    pub fn len(&self) -> usize {
        self.0.get().map_or(0, |names| names.len())
    }

    /// Whether no agent is named.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Numbers agent ids as clocks are read, for one scenario.
#[derive(Debug, Default)]
pub struct ClockInterner {
    numbers: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    agents: Arc<ClockAgents>,
}

impl ClockInterner {
    /// The number of agent `id`, given it on first sight.
    pub fn number(&mut self, id: &str) -> u32 {
        if let Some(&n) = self.numbers.get(id) {
            return n;
        }
        let n = self.names.len() as u32;
        self.names.push(id.into());
        self.numbers.insert(id.into(), n);
        n
    }

    /// A clock of `(agent id, counter)` entries, in order.
    pub fn clock<'a>(&mut self, entries: impl IntoIterator<Item = (&'a str, u64)>) -> VectorClock {
        let (agents, counts): (Vec<u32>, Vec<u64>) = entries
            .into_iter()
            .map(|(id, count)| (self.number(id), count))
            .unzip();
        VectorClock {
            names: Arc::clone(&self.agents),
            agents: agents.into_boxed_slice(),
            counts: counts.into_boxed_slice(),
        }
    }

    /// Fills in the names every clock made here reads.
    pub fn finish(self) {
        let _ = self.agents.0.set(self.names.into_boxed_slice());
    }
}

/// A vector clock: agent ids to counters, in the order they were written.
#[derive(Clone)]
pub struct VectorClock {
    names: Arc<ClockAgents>,
    agents: Box<[u32]>,
    counts: Box<[u64]>,
}

impl VectorClock {
    /// The entries, as agent id and counter, in the order they were written.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.agents
            .iter()
            .zip(self.counts.iter())
            .map(|(&agent, &count)| (self.names.name(agent), count))
    }

    /// The entries as agent number and counter.
    pub fn numbered(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.agents.iter().copied().zip(self.counts.iter().copied())
    }

    /// The table of agent ids its numbers refer to.
    pub fn agents(&self) -> &Arc<ClockAgents> {
        &self.names
    }

    /// How many entries it has.
    pub fn len(&self) -> usize {
        self.agents.len()
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.agents.is_empty()
    }

    /// Its entries sorted by agent number (by id when `by_name`).
    fn sorted(&self, by_name: bool) -> Vec<(&str, u32, u64)> {
        let mut entries: Vec<(&str, u32, u64)> = self
            .numbered()
            .map(|(a, c)| (if by_name { self.names.name(a) } else { "" }, a, c))
            .collect();
        if by_name {
            entries.sort_unstable_by(|x, y| (x.0, x.2).cmp(&(y.0, y.2)));
            entries.iter_mut().for_each(|e| e.1 = 0);
        } else {
            entries.sort_unstable();
        }
        entries
    }
}

impl PartialEq for VectorClock {
    /// The same entries, in any order (as maps are equal).
    fn eq(&self, other: &Self) -> bool {
        let same_table = Arc::ptr_eq(&self.names, &other.names);
        self.len() == other.len() && self.sorted(!same_table) == other.sorted(!same_table)
    }
}

impl fmt::Debug for VectorClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for VectorClock {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (agent, count) in self.iter() {
            map.serialize_entry(agent, &count)?;
        }
        map.end()
    }
}

impl<K: AsRef<str>> FromIterator<(K, u64)> for VectorClock {
    /// A clock of its own, outside any scenario.
    fn from_iter<I: IntoIterator<Item = (K, u64)>>(entries: I) -> Self {
        let entries: Vec<(K, u64)> = entries.into_iter().collect();
        let mut interner = ClockInterner::default();
        let clock = interner.clock(entries.iter().map(|(k, c)| (k.as_ref(), *c)));
        interner.finish();
        clock
    }
}

impl<K: AsRef<str>, const N: usize> From<[(K, u64); N]> for VectorClock {
    fn from(entries: [(K, u64); N]) -> Self {
        entries.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_keep_file_order_and_compare_as_maps() {
        let mut interner = ClockInterner::default();
        let a = interner.clock([("b", 2), ("a", 1)]);
        let b = interner.clock([("a", 1), ("b", 2)]);
        let c = interner.clock([("a", 1), ("b", 3)]);
        interner.finish();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"b":2,"a":1}"#);
        assert_eq!(a.iter().collect::<Vec<_>>(), [("b", 2), ("a", 1)]);
        // Clocks of different scenarios compare by agent id.
        let own: VectorClock = [("a", 1), ("b", 2)].into();
        assert_eq!(own, a);
        assert_ne!(own, c);
        let other: VectorClock = [("a", 1), ("c", 2)].into();
        assert_ne!(own, other);
        assert_eq!(format!("{own:?}"), r#"{"a": 1, "b": 2}"#);
    }
}

//! Properties of the algorithms over generated inputs (proptest): CRDT merge
//! laws, vector-clock and last-write-wins choices, gossip and Byzantine
//! accounting, and determinism of rendered output and trial summaries.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use moai::consensus::{byzantine, gossip};
use moai::montecarlo::{self, ByzantineTrialsSummary, GossipTrialsSummary};
use moai::report::{self, ConsensusReport, Format, MadeBy, Report, Settings};
use moai::resolve::{self, crdt, lww, vector};
use moai::rng::{generator, trial_generator};
use moai::scenario::{
    Agent, AgentOrigin, Algorithm, Behavior, ByzantineConfig, CrdtType, Document, GossipConfig,
    PartitionConfig, ResolveConfig, Scenario, State, Swarm, Topology, VectorClock, Version, Vote,
};
use proptest::prelude::*;
use proptest::sample::subsequence;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

const AGENTS: [&str; 5] = ["a", "b", "c", "d", "e"];

/// Versions with distinct (agent, version) dots, as the file format demands:
/// the dot identifies a version, so no two versions tie in the
/// last-write-wins order. Timestamps are few, so ties on them are common.
fn versions_with(
    value: impl Strategy<Value = Value> + Clone,
) -> impl Strategy<Value = Vec<Version>> {
    let dots: Vec<(usize, u64)> = (0..AGENTS.len())
        .flat_map(|a| (0..4u64).map(move |v| (a, v)))
        .collect();
    subsequence(dots, 1..=8)
        .prop_flat_map(move |dots| {
            let n = dots.len();
            (
                Just(dots),
                prop::collection::vec(value.clone(), n),
                prop::collection::vec(prop::option::of(0i64..4), n),
            )
        })
        .prop_map(|(dots, values, seconds)| {
            dots.into_iter()
                .zip(values)
                .zip(seconds)
                .map(|(((agent, version), value), second)| Version {
                    agent: AGENTS[agent].to_string(),
                    value,
                    version,
                    timestamp: second
                        .map(|s| jiff::Timestamp::from_second(1_735_725_600 + s).unwrap()),
                    vector_clock: None,
                })
                .collect()
        })
        .prop_shuffle()
}

/// Small scalars and nested values, as set elements.
fn element() -> BoxedStrategy<Value> {
    let scalar = prop_oneof![
        (0i64..6).prop_map(Value::from),
        "[xyz]{1,2}".prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
    ];
    scalar
        .prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                prop::collection::btree_map("[pq]", inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
        .boxed()
}

fn array() -> impl Strategy<Value = Value> + Clone {
    prop::collection::vec(element(), 0..5).prop_map(Value::from)
}

fn table() -> impl Strategy<Value = Value> + Clone {
    prop::collection::btree_map("[klmn]", element(), 0..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn table_of_arrays() -> impl Strategy<Value = Value> + Clone {
    prop::collection::btree_map("[klmn]", array(), 0..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn state(crdt_type: CrdtType, versions: Vec<Version>) -> State {
    State {
        key: "k".to_string(),
        crdt_type: Some(crdt_type),
        versions: versions.into_iter().map(Arc::new).collect(),
    }
}

/// Every CRDT type with versions whose values fit it.
fn crdt_state() -> impl Strategy<Value = State> {
    prop_oneof![
        versions_with((0u64..1000).prop_map(Value::from)).prop_map(|v| state(CrdtType::Counter, v)),
        versions_with(array()).prop_map(|v| state(CrdtType::Set, v)),
        versions_with(table()).prop_map(|v| state(CrdtType::Map, v)),
        versions_with(element()).prop_map(|v| state(CrdtType::Register, v)),
        versions_with(table_of_arrays()).prop_map(|v| state(CrdtType::MapOfSets, v)),
    ]
}

/// A state whose versions may carry vector clocks over a few agents.
fn clocked_state() -> impl Strategy<Value = State> {
    versions_with((0i64..100).prop_map(Value::from))
        .prop_flat_map(|versions| {
            let n = versions.len();
            let clock = prop::option::weighted(
                0.8,
                prop::collection::btree_map(
                    prop::sample::select(AGENTS[..3].to_vec()),
                    0u64..4,
                    0..4,
                ),
            );
            (Just(versions), prop::collection::vec(clock, n))
        })
        .prop_map(|(mut versions, clocks)| {
            for (v, clock) in versions.iter_mut().zip(clocks) {
                v.vector_clock = clock.map(|c| {
                    c.into_iter()
                        .map(|(a, n)| (a.to_string(), n))
                        .collect::<VectorClock>()
                });
            }
            State {
                key: "k".to_string(),
                crdt_type: None,
                versions: versions.into_iter().map(Arc::new).collect(),
            }
        })
}

/// The same versions in another order.
fn with_shuffled_versions(state: State) -> impl Strategy<Value = (State, State)> {
    let versions = state.versions.clone();
    (Just(state), Just(versions).prop_shuffle()).prop_map(|(state, versions)| {
        let shuffled = State {
            versions,
            ..state.clone()
        };
        (state, shuffled)
    })
}

/// Agents `agent-1` … with the given votes and behaviours.
fn agents(spec: &[(Vote, Behavior)]) -> Vec<Agent> {
    spec.iter()
        .enumerate()
        .map(|(i, &(vote, behavior))| Agent {
            id: format!("agent-{}", i + 1),
            vote,
            behavior,
            origin: AgentOrigin::Flags,
        })
        .collect()
}

fn vote() -> impl Strategy<Value = Vote> {
    prop_oneof![Just(Vote::For), Just(Vote::Against), Just(Vote::Abstain)]
}

// ---------------------------------------------------------------------------
// CRDT merges
// ---------------------------------------------------------------------------

/// A text form equal for equal JSON values (object key order aside).
fn canon(value: &Value) -> String {
    match value {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, String> = m.iter().map(|(k, v)| (k, canon(v))).collect();
            format!("{sorted:?}")
        }
        Value::Array(items) => format!("{:?}", items.iter().map(canon).collect::<Vec<_>>()),
        other => other.to_string(),
    }
}

fn elements(value: &Value) -> BTreeSet<String> {
    value.as_array().unwrap().iter().map(canon).collect()
}

fn merged_agents(r: &resolve::Resolution) -> &[String] {
    r.metadata.merged_from_agents.as_deref().unwrap()
}

/// The versions in last-write-wins order, oldest first.
fn oldest_first(versions: &[Arc<Version>]) -> Vec<Version> {
    let mut sorted: Vec<Version> = versions.iter().map(|v| Version::clone(v)).collect();
    sorted.sort_by(|a, b| a.lww_key().cmp(&b.lww_key()));
    sorted
}

/// Replaces `prefix` (the oldest versions) by what merging them gives, as
/// state-based CRDTs exchange merged state: for a counter, each agent's
/// entry; otherwise one version holding the merged value, written when the
/// newest version of the prefix was.
fn merged_prefix(crdt_type: CrdtType, prefix: &[Version]) -> Vec<Version> {
    if crdt_type == CrdtType::Counter {
        let mut entries: BTreeMap<&str, u64> = BTreeMap::new();
        for v in prefix {
            let entry = entries.entry(&v.agent).or_insert(0);
            *entry = (*entry).max(v.value.as_u64().unwrap());
        }
        // Version numbers above any generated one keep the dots distinct.
        return entries
            .into_iter()
            .map(|(agent, count)| Version {
                agent: agent.to_string(),
                value: json!(count),
                version: 100,
                timestamp: None,
                vector_clock: None,
            })
            .collect();
    }
    let newest = prefix.last().unwrap();
    let merged = crdt::resolve(&state(crdt_type, prefix.to_vec()));
    vec![Version {
        value: merged.value,
        ..newest.clone()
    }]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn crdt_merges_are_commutative((s, shuffled) in crdt_state().prop_flat_map(with_shuffled_versions)) {
        let a = crdt::resolve(&s);
        let b = crdt::resolve(&shuffled);
        prop_assert_eq!(&a.value, &b.value);
        prop_assert_eq!(&a.metadata, &b.metadata);
        prop_assert_eq!(a.version, b.version);
    }

    #[test]
    fn crdt_merges_are_idempotent(
        s in crdt_state(),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..5),
    ) {
        let mut doubled = s.clone();
        for pick in picks {
            doubled.versions.push(pick.get(&s.versions).clone());
        }
        let a = crdt::resolve(&s);
        let b = crdt::resolve(&doubled);
        prop_assert_eq!(&a.value, &b.value);
        prop_assert_eq!(merged_agents(&a), merged_agents(&b));
    }

    #[test]
    fn crdt_merges_are_associative(s in crdt_state(), split in any::<prop::sample::Index>()) {
        let crdt_type = s.crdt_type.unwrap();
        let sorted = oldest_first(&s.versions);
        let k = split.index(sorted.len()) + 1;
        let mut regrouped = merged_prefix(crdt_type, &sorted[..k]);
        regrouped.extend_from_slice(&sorted[k..]);
        let all = crdt::resolve(&s);
        let grouped = crdt::resolve(&state(crdt_type, regrouped));
        prop_assert_eq!(&all.value, &grouped.value);
    }

    #[test]
    fn set_unions_group_any_way(
        versions in versions_with(array()),
        mask in prop::collection::vec(any::<bool>(), 8),
    ) {
        // A union does not care which versions were merged first, nor when
        // the merged part was written: compare as sets.
        let (left, right): (Vec<_>, Vec<_>) = versions
            .iter()
            .cloned()
            .enumerate()
            .partition(|(i, _)| mask[*i]);
        let part = |vs: Vec<(usize, Version)>| vs.into_iter().map(|(_, v)| v).collect::<Vec<_>>();
        let (left, mut right) = (part(left), part(right));
        prop_assume!(!left.is_empty());
        let merged = crdt::resolve(&state(CrdtType::Set, left));
        right.push(Version {
            agent: "z".into(),
            value: merged.value,
            version: 0,
            timestamp: None,
            vector_clock: None,
        });
        let all = crdt::resolve(&state(CrdtType::Set, versions));
        let grouped = crdt::resolve(&state(CrdtType::Set, right));
        prop_assert_eq!(elements(&all.value), elements(&grouped.value));
    }

    #[test]
    fn crdt_merges_lose_no_element_key_or_agent(s in crdt_state()) {
        let r = crdt::resolve(&s);
        let agents: BTreeSet<&str> = s.versions.iter().map(|v| v.agent.as_str()).collect();
        let merged: Vec<&str> = merged_agents(&r).iter().map(String::as_str).collect();
        prop_assert_eq!(merged.len(), agents.len(), "each agent once");
        prop_assert_eq!(merged.into_iter().collect::<BTreeSet<_>>(), agents);
        prop_assert_eq!(r.agent.as_str(), crdt::COORDINATOR);
        prop_assert_eq!(r.version, s.versions.iter().map(|v| v.version).max().unwrap() + 1);
        match s.crdt_type.unwrap() {
            CrdtType::Counter => {
                let mut maxima: BTreeMap<&str, u64> = BTreeMap::new();
                for v in &s.versions {
                    let m = maxima.entry(&v.agent).or_insert(0);
                    *m = (*m).max(v.value.as_u64().unwrap());
                }
                let total = r.value.as_u64().unwrap();
                prop_assert!(maxima.values().all(|&m| total >= m));
                prop_assert_eq!(total, maxima.values().sum::<u64>());
            }
            CrdtType::Set => {
                let union = elements(&r.value);
                prop_assert_eq!(union.len(), r.value.as_array().unwrap().len(), "no duplicates");
                for v in &s.versions {
                    prop_assert!(elements(&v.value).is_subset(&union));
                }
            }
            CrdtType::Map => {
                let merged = r.value.as_object().unwrap();
                for v in &s.versions {
                    for key in v.value.as_object().unwrap().keys() {
                        prop_assert!(merged.contains_key(key));
                    }
                }
                // Each key's value is the one of the latest version holding it.
                for (key, value) in merged {
                    let latest = s
                        .versions
                        .iter()
                        .filter(|v| v.value.as_object().unwrap().contains_key(key))
                        .max_by(|a, b| a.lww_key().cmp(&b.lww_key()))
                        .unwrap();
                    prop_assert_eq!(value, &latest.value[key]);
                }
            }
            CrdtType::MapOfSets => {
                let merged = r.value.as_object().unwrap();
                for v in &s.versions {
                    for (key, array) in v.value.as_object().unwrap() {
                        prop_assert!(elements(array).is_subset(&elements(&merged[key])));
                    }
                }
            }
            CrdtType::Register => {
                let winner = &s.versions[lww::winner(&s.versions)];
                prop_assert_eq!(&r.value, &winner.value);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Vector clocks and last-write-wins
// ---------------------------------------------------------------------------

/// A version's clock as the README defines it: its `vector_clock`, or
/// `{agent: version}`; missing entries count as 0.
fn clock_of(v: &Version) -> BTreeMap<String, u64> {
    match &v.vector_clock {
        Some(c) => c.iter().map(|(a, n)| (a.to_string(), n)).collect(),
        None => BTreeMap::from([(v.agent.clone(), v.version)]),
    }
}

fn dominates(a: &BTreeMap<String, u64>, b: &BTreeMap<String, u64>) -> bool {
    let agents: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let get = |c: &BTreeMap<String, u64>, k: &String| c.get(k).copied().unwrap_or(0);
    agents.iter().all(|k| get(a, k) >= get(b, k)) && agents.iter().any(|k| get(a, k) > get(b, k))
}

fn winner_index(state: &State, r: &resolve::Resolution) -> usize {
    r.versions
        .iter()
        .position(|v| v.role == resolve::Role::Winner)
        .filter(|&i| state.versions[i].agent == r.agent && state.versions[i].version == r.version)
        .expect("exactly the winner is marked")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn vector_never_picks_a_dominated_version(s in clocked_state()) {
        let r = vector::resolve(&s);
        let clocks: Vec<_> = s.versions.iter().map(|v| clock_of(v)).collect();
        let winner = winner_index(&s, &r);
        prop_assert!(!clocks.iter().any(|c| dominates(c, &clocks[winner])));
        // The siblings are exactly the maximal versions, the winner first.
        let maximal: Vec<usize> = (0..clocks.len())
            .filter(|&i| !clocks.iter().any(|c| dominates(c, &clocks[i])))
            .collect();
        let siblings = r.metadata.siblings.as_ref().unwrap();
        prop_assert_eq!(siblings.len(), maximal.len());
        prop_assert_eq!(&siblings[0], &r.agent);
        for (i, ranked) in r.versions.iter().enumerate() {
            let expected = if i == winner {
                resolve::Role::Winner
            } else if maximal.contains(&i) {
                resolve::Role::Sibling
            } else {
                resolve::Role::Dominated
            };
            prop_assert_eq!(ranked.role, expected);
        }
        // Among the maximal versions, the last write wins.
        let latest = maximal
            .iter()
            .copied()
            .max_by(|&a, &b| s.versions[a].lww_key().cmp(&s.versions[b].lww_key()))
            .unwrap();
        prop_assert_eq!(latest, winner);
        let expected = if maximal.len() == 1 { "vector_causal" } else { "vector_concurrent_lww" };
        prop_assert_eq!(r.metadata.resolution_strategy, expected);
    }

    #[test]
    fn vector_results_do_not_depend_on_input_order(
        (s, shuffled) in clocked_state().prop_flat_map(with_shuffled_versions)
    ) {
        let a = vector::resolve(&s);
        let b = vector::resolve(&shuffled);
        prop_assert_eq!(&a.value, &b.value);
        prop_assert_eq!((&a.agent, a.version), (&b.agent, b.version));
        prop_assert_eq!(a.metadata.resolution_strategy, b.metadata.resolution_strategy);
        prop_assert_eq!(&a.metadata.siblings, &b.metadata.siblings);
    }

    #[test]
    fn lww_picks_the_greatest_timestamp_version_agent(
        (s, shuffled) in clocked_state().prop_flat_map(with_shuffled_versions)
    ) {
        let best = s
            .versions
            .iter()
            .max_by_key(|v| (v.timestamp, v.version, v.agent.clone()))
            .unwrap();
        for state in [&s, &shuffled] {
            let r = lww::resolve(state);
            prop_assert_eq!((&r.agent, r.version, &r.value), (&best.agent, best.version, &best.value));
            prop_assert_eq!(r.metadata.discarded_versions, Some(state.versions.len() as u64 - 1));
        }
    }

    #[test]
    fn hybrid_routes_every_key_to_the_strategy_it_names(
        s in clocked_state(),
        prefix in prop::sample::select(vec!["counter_", "causal_", "other_"]),
    ) {
        let s = State { key: format!("{prefix}k"), ..s };
        let config = ResolveConfig { strategy: Some(moai::scenario::Strategy::Hybrid), states: vec![s.clone()], ..ResolveConfig::default() };
        let resolved = if config.validate(moai::scenario::Strategy::Hybrid).is_ok() {
            resolve::resolve(&config, moai::scenario::Strategy::Hybrid)
        } else {
            // Only a counter route can refuse these values.
            prop_assert_eq!(prefix, "counter_");
            return Ok(());
        };
        let r = &resolved[0];
        let direct = match prefix {
            "counter_" => crdt::resolve(&s),
            "causal_" => vector::resolve(&s),
            _ => lww::resolve(&s),
        };
        prop_assert_eq!(&r.value, &direct.value);
        prop_assert_eq!(r.strategy, direct.strategy);
    }
}

// ---------------------------------------------------------------------------
// Gossip
// ---------------------------------------------------------------------------

/// A swarm, settings that pass validation, and a seed.
fn gossip_case() -> impl Strategy<Value = (Vec<Agent>, GossipConfig, u64)> {
    let behavior = prop::sample::select(vec![
        Behavior::Honest,
        Behavior::Honest,
        Behavior::Honest,
        Behavior::Silent,
        Behavior::Stubborn,
    ]);
    let topology = prop::sample::select(vec![
        Topology::Complete,
        Topology::Ring,
        Topology::RandomRegular,
        Topology::SmallWorld,
    ]);
    (
        prop::collection::vec((vote(), behavior), 1..50),
        1u32..8,
        1u32..15,
        prop_oneof![Just(0.0), 0.0..=1.0f64],
        topology,
        1u32..10,
        0.0..=1.0f64,
        prop::option::of((1u32..6, 0u32..6, any::<prop::sample::Index>())),
        any::<u64>(),
        prop_oneof![Just(0.5), 0.0..=1.0f64],
    )
        .prop_map(
            |(
                spec,
                fanout,
                max_rounds,
                loss,
                topology,
                degree,
                rewire,
                partition,
                seed,
                min_participation,
            )| {
                let agents = agents(&spec);
                let n = agents.len() as u32;
                // Bring the degree into range for the topology and n.
                let degree = match topology {
                    Topology::Ring | Topology::SmallWorld if n >= 3 => {
                        (2 * degree).min((n - 1) & !1)
                    }
                    Topology::RandomRegular if n >= 2 => {
                        let d = degree.min(n - 1);
                        // An odd n needs an even degree (0 is filtered out below).
                        if (n * d) % 2 == 1 { d - 1 } else { d }
                    }
                    _ => degree,
                };
                let partitions = partition
                    .map(|(from, length, cut)| PartitionConfig {
                        groups: vec![
                            agents[..cut.index(agents.len())]
                                .iter()
                                .map(|a| a.id.clone())
                                .collect(),
                        ],
                        from,
                        until: from + length,
                    })
                    .into_iter()
                    .collect();
                let config = GossipConfig {
                    fanout,
                    max_rounds,
                    loss,
                    topology,
                    degree,
                    rewire,
                    partitions,
                    min_participation,
                    ..GossipConfig::default()
                };
                (agents, config, seed)
            },
        )
        .prop_filter("settings gossip accepts", |(agents, config, _)| {
            config.validate(&Swarm::from(agents.clone())).is_ok()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn gossip_rounds_account_for_every_agent((agents, config, seed) in gossip_case()) {
        let out = gossip::run(&Swarm::from(agents.clone()), &config, &mut generator(seed));
        // Silent agents are not counted: every round accounts for the rest.
        let silent = agents.iter().filter(|a| a.behavior == Behavior::Silent).count() as u64;
        let n = agents.len() as u64 - silent;
        let m = &out.metadata;
        prop_assert_eq!(m.silent, silent);
        let initial = m.initial_distribution;
        prop_assert_eq!(initial.votes_for + initial.votes_against + initial.abstain, n);
        prop_assert!(!m.round_history.is_empty());
        prop_assert!(m.round_history.len() <= config.max_rounds as usize);
        prop_assert_eq!(m.rounds_completed as usize, m.round_history.len());
        for (i, round) in m.round_history.iter().enumerate() {
            let c = round.counts;
            prop_assert_eq!(round.round as usize, i + 1);
            prop_assert_eq!(c.votes_for + c.votes_against + c.abstain, n);
            prop_assert!((0.0..=1.0).contains(&round.agreement_ratio), "{}", round.agreement_ratio);
            prop_assert_eq!(round.agreement_ratio, c.agreement_ratio());
            prop_assert_eq!(round.participation, c.participation());
            prop_assert_eq!(
                round.converged,
                round.agreement_ratio >= config.convergence_threshold
                    && round.participation >= config.min_participation
            );
            // Only the last round may have converged: the run stops there.
            prop_assert!(!round.converged || i + 1 == m.round_history.len());
            // Abstainers never gain: a vote only moves to a majority side.
            prop_assert!(c.abstain <= initial.abstain);
        }
        prop_assert_eq!(out.counts, m.round_history.last().unwrap().counts);
        // Stubborn agents keep their votes, so their side never drops below
        // what they hold.
        let frozen = |vote| agents.iter().filter(|a| a.behavior == Behavior::Stubborn && a.vote == vote).count() as u64;
        prop_assert!(out.counts.votes_for >= frozen(Vote::For));
        prop_assert!(out.counts.votes_against >= frozen(Vote::Against));
        prop_assert!(out.counts.abstain >= frozen(Vote::Abstain));
    }
}

// ---------------------------------------------------------------------------
// Byzantine
// ---------------------------------------------------------------------------

fn byzantine_case() -> impl Strategy<Value = (Vec<Agent>, ByzantineConfig, u64)> {
    let behavior = prop::sample::select(vec![
        Behavior::Honest,
        Behavior::Honest,
        Behavior::Stubborn,
        Behavior::Flip,
        Behavior::Random,
        Behavior::Equivocate,
        Behavior::Silent,
    ]);
    (
        prop::collection::vec((vote(), behavior), 1..40),
        any::<prop::sample::Index>(),
        3u32..9,
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(spec, f, num_rounds, timeout_reached, seed)| {
            let agents = agents(&spec);
            let most_f = (agents.len() as u32 - 1) / 3;
            let config = ByzantineConfig {
                fault_tolerance: f.index(most_f as usize + 1) as u32,
                num_rounds,
                timeout_reached,
            };
            (agents, config, seed)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn byzantine_detection_matches_behaviours((agents, config, seed) in byzantine_case()) {
        prop_assert!(config.validate(&Swarm::from(agents.clone())).is_ok());
        let out = byzantine::run(&Swarm::from(agents.clone()), &config, &mut generator(seed));
        let m = &out.metadata;
        let with = |behaviors: &[Behavior]| -> HashSet<&str> {
            agents.iter().filter(|a| behaviors.contains(&a.behavior)).map(|a| a.id.as_str()).collect()
        };
        let detected: HashSet<&str> = m.malicious_agents.iter().map(String::as_str).collect();
        // Honest agents are never detected; every vote changer is.
        prop_assert!(detected.is_disjoint(&with(&[Behavior::Honest, Behavior::Stubborn, Behavior::Silent])));
        prop_assert!(with(&[Behavior::Flip]).is_subset(&detected));
        // Detected = vote changers ∪ equivocators, each list in scenario order.
        let changers: HashSet<&str> = m.vote_changers.iter().map(String::as_str).collect();
        let equivocators: HashSet<&str> = m.equivocators.iter().map(String::as_str).collect();
        prop_assert_eq!(&changers.union(&equivocators).copied().collect::<HashSet<_>>(), &detected);
        prop_assert!(equivocators.is_subset(&with(&[Behavior::Equivocate])));
        prop_assert!(changers.is_subset(&with(&[Behavior::Flip, Behavior::Random, Behavior::Equivocate])));
        prop_assert_eq!(&m.blacklist, &m.malicious_agents);
        // Equivocation can only be shown by two honest relayers.
        let relayers = agents.iter().filter(|a| !byzantine::is_faulty(a.behavior)).count();
        if relayers < 2 {
            prop_assert!(equivocators.is_empty());
        }
        // Accounting: tallied + detected + silent = everyone.
        let n = agents.len() as u64;
        prop_assert_eq!(m.total_participants, n);
        prop_assert_eq!(m.malicious_detected, detected.len() as u64);
        prop_assert_eq!(m.honest_participants + m.malicious_detected + m.silent_agents.len() as u64, n);
        prop_assert_eq!(out.counts.votes_for + out.counts.votes_against + out.counts.abstain, m.honest_participants);
        prop_assert_eq!(m.healthy_agents.len() as u64 + m.malicious_detected, n);
        // Detection quality against the truth.
        let d = &m.detection;
        prop_assert!(d.false_positives.is_empty());
        prop_assert_eq!(d.detected_correctly, m.malicious_detected);
        let faulty = agents.iter().filter(|a| byzantine::is_faulty(a.behavior)).count() as u64;
        prop_assert_eq!(d.faulty_agents, faulty);
        let silent = with(&[Behavior::Silent]).len() as u64;
        prop_assert_eq!(d.detected_correctly + d.missed.len() as u64 + silent, faulty);
        // Every round: cast + silent + equivocations = everyone.
        prop_assert_eq!(m.round_history.len(), config.num_rounds as usize);
        for r in &m.round_history {
            let c = r.counts;
            prop_assert_eq!(c.votes_for + c.votes_against + c.abstain + r.silent + r.equivocations, n);
            prop_assert_eq!(r.silent, silent);
        }
        if config.timeout_reached {
            prop_assert_eq!(out.decision, moai::scenario::Decision::Timeout);
        }
    }
}

// ---------------------------------------------------------------------------
// Determinism
// ---------------------------------------------------------------------------

/// A random scenario file of either consensus algorithm.
fn scenario_text() -> impl Strategy<Value = String> {
    let group = (
        1u32..12,
        prop::sample::select(vec!["for", "against", "abstain"]),
        prop::sample::select(vec![
            "honest",
            "flip",
            "random",
            "equivocate",
            "silent",
            "stubborn",
        ]),
    );
    (
        prop::sample::select(vec!["byzantine", "gossip"]),
        prop::collection::vec(group, 1..5),
        any::<u64>(),
        1u32..6,
        0.0..0.5f64,
        prop::sample::select(vec!["complete", "ring", "small-world"]),
    )
        .prop_map(|(algorithm, groups, seed, fanout, loss, topology)| {
            let mut text = format!(
                "algorithm = \"{algorithm}\"\nseed = {seed}\n\
                 [proposal]\nid = \"p\"\n\
                 [byzantine]\nfault_tolerance = 1\nnum_rounds = 4\n\
                 [gossip]\nfanout = {fanout}\nmax_rounds = 8\nloss = {loss}\n\
                 topology = \"{topology}\"\ndegree = 2\n"
            );
            for (count, vote, behavior) in groups {
                let behavior = match (algorithm, behavior) {
                    ("gossip", "flip" | "random" | "equivocate") => "honest",
                    _ => behavior,
                };
                text.push_str(&format!(
                    "[[groups]]\ncount = {count}\nvote = \"{vote}\"\nbehavior = \"{behavior}\"\n"
                ));
            }
            text
        })
}

/// Parses, validates and runs a scenario as `moai run` would; renders it.
fn run_and_render(text: &str, format: Format) -> Option<String> {
    let scenario = Scenario::parse(&Document::from_text("p.toml", "p", text)).unwrap();
    let seed = scenario.seed.unwrap();
    fn wrap<O>(
        scenario: &Scenario,
        seed: u64,
        algorithm: Algorithm,
        outcome: O,
    ) -> ConsensusReport<O> {
        ConsensusReport {
            made_by: MadeBy::CURRENT,
            scenario: scenario.name.clone(),
            algorithm,
            seed,
            trial: None,
            description: None,
            overrides: Default::default(),
            settings: match algorithm {
                Algorithm::Byzantine => Settings::Byzantine(scenario.byzantine.clone()),
                _ => Settings::Gossip(scenario.gossip.clone()),
            },
            proposal: scenario.proposal.clone(),
            participants: scenario.agents.ids().collect(),
            outcome,
            omitted: Default::default(),
        }
    }
    let report = match scenario.algorithm {
        Algorithm::Byzantine => {
            scenario.byzantine.validate(&scenario.agents).ok()?;
            let out = byzantine::run(&scenario.agents, &scenario.byzantine, &mut generator(seed));
            Report::Byzantine(Box::new(wrap(&scenario, seed, Algorithm::Byzantine, out)))
        }
        _ => {
            scenario.gossip.validate(&scenario.agents).ok()?;
            let out = gossip::run(&scenario.agents, &scenario.gossip, &mut generator(seed));
            Report::Gossip(Box::new(wrap(&scenario, seed, Algorithm::Gossip, out)))
        }
    };
    Some(report::render(&report, format, false).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_same_seed_renders_the_same_bytes(text in scenario_text()) {
        for format in [Format::Json, Format::Table, Format::Csv] {
            let first = run_and_render(&text, format);
            prop_assume!(first.is_some());
            prop_assert_eq!(&first, &run_and_render(&text, format));
        }
    }

    #[test]
    fn a_different_seed_changes_the_history_of_random_agents(seed in any::<u64>()) {
        // Sanity for the property above: the output does depend on the seed.
        let spec = [(Vote::For, Behavior::Random); 10];
        let config = ByzantineConfig { fault_tolerance: 3, num_rounds: 30, timeout_reached: false };
        let a = byzantine::run(&agents(&spec).into(), &config, &mut generator(seed));
        let b = byzantine::run(&agents(&spec).into(), &config, &mut generator(seed.wrapping_add(1)));
        prop_assert_ne!(a.metadata.round_history, b.metadata.round_history);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn trial_summaries_do_not_depend_on_the_thread_count(
        (agents, config, seed) in gossip_case(),
        (byz_agents, byz_config, _) in byzantine_case(),
        trials in 1u64..40,
    ) {
        let swarm = Swarm::from(agents.clone());
        let byz_swarm = Swarm::from(byz_agents.clone());
        let gossip_on = |threads| {
            montecarlo::run_trials(trials, threads, |t| gossip::run(&swarm, &config, &mut trial_generator(seed, t)), || ()).unwrap()
        };
        let one = gossip_on(1);
        let two = gossip_on(2);
        prop_assert_eq!(GossipTrialsSummary::of(&one), GossipTrialsSummary::of(&two));
        prop_assert_eq!(&one, &two);
        let byzantine_on = |threads| {
            montecarlo::run_trials(trials, threads, |t| byzantine::run(&byz_swarm, &byz_config, &mut trial_generator(seed, t)), || ()).unwrap()
        };
        let one = byzantine_on(1);
        let two = byzantine_on(2);
        prop_assert_eq!(ByzantineTrialsSummary::of(&one), ByzantineTrialsSummary::of(&two));
        prop_assert_eq!(&one, &two);
        // Trial 0 is the single run.
        prop_assert_eq!(&one[0], &byzantine::run(&byz_swarm, &byz_config, &mut generator(seed)));
    }
}

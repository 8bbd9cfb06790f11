//! Library benchmarks (`cargo bench`): the workloads of the performance
//! targets that run inside the library. Whole-process workloads (peak
//! memory, threads) are timed by `bench/run.sh`.

use std::sync::Arc;

use divan::{Bencher, black_box};
use moai::consensus::{byzantine, gossip, topology};
use moai::exact;
use moai::resolve::{crdt, vector};
use moai::rng::generator;
use moai::scenario::{
    Agent, AgentOrigin, Behavior, ByzantineConfig, CrdtType, GossipConfig, State, Swarm, Topology,
    Version, Vote,
};
use rand::seq::SliceRandom;
use serde_json::json;

fn main() {
    divan::main();
}

const CLOCK_AGENTS: usize = 10;
const VERSIONS: usize = 10_000;

fn clocked(i: usize, clock: Vec<u64>) -> Version {
    Version {
        agent: format!("agent-{}", i % CLOCK_AGENTS),
        value: json!(i),
        version: i as u64,
        timestamp: None,
        vector_clock: Some(
            clock
                .into_iter()
                .enumerate()
                .map(|(a, c)| (format!("agent-{a}"), c))
                .collect(),
        ),
    }
}

/// 10,000 versions with 10-agent clocks: a causal chain in order, the same
/// chain shuffled, or all pairwise concurrent.
fn vector_state(ordering: &str) -> State {
    let n = VERSIONS;
    let mut versions: Vec<Version> = match ordering {
        "concurrent" => (0..n)
            .map(|i| {
                let mut clock = vec![0; CLOCK_AGENTS];
                clock[i % CLOCK_AGENTS] = i as u64 + 1;
                clock[(i + 1) % CLOCK_AGENTS] = (n - i) as u64;
                clocked(i, clock)
            })
            .collect(),
        _ => (0..n)
            .map(|i| clocked(i, vec![i as u64 + 1; CLOCK_AGENTS]))
            .collect(),
    };
    if ordering == "shuffled" {
        versions.shuffle(&mut generator(1));
    }
    State {
        key: "k".into(),
        crdt_type: None,
        versions: versions.into_iter().map(Arc::new).collect(),
    }
}

#[divan::bench(args = ["chain", "shuffled", "concurrent"], sample_count = 10)]
fn vector_resolve_10k(bencher: Bencher, ordering: &str) {
    let state = vector_state(ordering);
    bencher.bench(|| vector::resolve(black_box(&state)));
}

/// 1,000,000 versions from 1,000 agents.
fn crdt_state(crdt_type: CrdtType) -> State {
    let versions = (0..1_000_000u64)
        .map(|i| {
            let value = match crdt_type {
                CrdtType::Counter => json!(i % 997),
                CrdtType::Set => json!([format!("tag-{}", i % 5000), format!("tag-{}", i % 7)]),
                _ => json!({ format!("k{}", i % 50): [i % 300] }),
            };
            Arc::new(Version {
                agent: format!("agent-{}", i % 1000),
                value,
                version: i,
                timestamp: None,
                vector_clock: None,
            })
        })
        .collect();
    State {
        key: "k".into(),
        crdt_type: Some(crdt_type),
        versions,
    }
}

#[divan::bench(args = [CrdtType::Counter, CrdtType::Set, CrdtType::MapOfSets], sample_count = 5)]
fn crdt_merge_1m(bencher: Bencher, crdt_type: CrdtType) {
    let state = crdt_state(crdt_type);
    bencher.bench(|| crdt::resolve(black_box(&state)));
}

/// Fanout 5 for `rounds` rounds, every one run.
fn fanout_5_without_early_stop(rounds: u32) -> GossipConfig {
    GossipConfig {
        fanout: 5,
        max_rounds: rounds,
        early_stop: false,
        ..GossipConfig::default()
    }
}

#[divan::bench(sample_count = 5)]
fn gossip_100k_fanout5_20_rounds(bencher: Bencher) {
    let agents = Swarm::generated(100_000, 75_000, 0, Behavior::Honest);
    let config = fanout_5_without_early_stop(20);
    bencher.bench(|| gossip::run(black_box(&agents), &config, &mut generator(42)));
}

/// The faults and networks of the 1M-agent comparison: 750,000 approving,
/// fanout 5, 20 rounds without early stop.
const FAULTS: [&str; 6] = [
    "fault-free",
    "loss 0.1",
    "loss 0.5",
    "ring 10",
    "small-world 10",
    "random-regular 10",
];

fn faulty_config(run: &str) -> GossipConfig {
    let base = fanout_5_without_early_stop(20);
    let on = |topology| GossipConfig {
        topology,
        degree: 10,
        rewire: 0.1,
        ..base.clone()
    };
    match run {
        "loss 0.1" => GossipConfig { loss: 0.1, ..base },
        "loss 0.5" => GossipConfig { loss: 0.5, ..base },
        "ring 10" => on(Topology::Ring),
        "small-world 10" => on(Topology::SmallWorld),
        "random-regular 10" => on(Topology::RandomRegular),
        _ => base,
    }
}

/// One thread (the blocks of each round in turn), graph building included.
#[divan::bench(args = FAULTS, sample_count = 5)]
fn gossip_1m_fanout5_20_rounds_one_thread(bencher: Bencher, run: &str) {
    let agents = Swarm::generated(1_000_000, 750_000, 0, Behavior::Honest);
    let config = faulty_config(run);
    bencher.bench(|| gossip::run_blocks(black_box(&agents), &config, &mut generator(42), false));
}

/// Building a graph of 1M agents, degree 10 (small-world rewired at 0.1).
#[divan::bench(args = ["small-world", "random-regular"], sample_count = 5)]
fn graph_build_1m_degree_10(bencher: Bencher, topology: &str) {
    bencher.bench(|| match topology {
        "small-world" => topology::small_world(1_000_000, 10, 0.1, &mut generator(42)),
        _ => topology::random_regular(1_000_000, 10, &mut generator(42), false),
    });
}

#[divan::bench(sample_count = 5)]
fn byzantine_100k_flip_and_equivocate_5_rounds(bencher: Bencher) {
    let agents: Swarm = (0..100_000u64)
        .map(|i| Agent {
            id: format!("agent-{}", i + 1),
            vote: Vote::For,
            behavior: match i % 20 {
                0 => Behavior::Flip,
                1 => Behavior::Equivocate,
                _ => Behavior::Honest,
            },
            origin: AgentOrigin::Flags,
        })
        .collect();
    let config = ByzantineConfig {
        fault_tolerance: 33_333,
        num_rounds: 5,
        timeout_reached: false,
    };
    bencher.bench(|| byzantine::run(black_box(&agents), &config, &mut generator(42)));
}

/// Example 2's swarm: 15 approving, 5 rejecting, fanout 5, 7 rounds.
fn example_two() -> (Swarm, GossipConfig) {
    let config = GossipConfig {
        fanout: 5,
        max_rounds: 7,
        convergence_threshold: 0.95,
        threshold: 0.66,
        ..GossipConfig::default()
    };
    (Swarm::generated(20, 15, 0, Behavior::Honest), config)
}

#[divan::bench(sample_count = 20)]
fn exact_gossip_example_two(bencher: Bencher) {
    let (agents, config) = example_two();
    bencher.bench(|| exact::gossip::law(black_box(&agents), &config).unwrap());
}

#[divan::bench(sample_count = 10)]
fn exact_gossip_example_two_fanout_sweep_1_to_10(bencher: Bencher) {
    let (agents, config) = example_two();
    bencher.bench(|| {
        for fanout in 1..=10 {
            let config = GossipConfig {
                fanout,
                ..config.clone()
            };
            black_box(exact::gossip::law(&agents, &config).unwrap());
        }
    });
}

#[divan::bench(sample_count = 5)]
fn exact_gossip_1000_agents_30_rounds(bencher: Bencher) {
    // 520 for and 480 against: the hardest start for the chain, every one
    // of the 30 rounds computed (no early stop).
    let agents = Swarm::generated(1_000, 520, 0, Behavior::Honest);
    let config = fanout_5_without_early_stop(30);
    bencher.bench(|| exact::gossip::law(black_box(&agents), &config).unwrap());
}

#[divan::bench(sample_count = 5)]
fn exact_gossip_200_agents_with_abstainers(bencher: Bencher) {
    // 70 for, 60 against, 70 abstaining, fanout 5, 30 rounds, no early stop.
    let agents = Swarm::of_groups(&[
        (70, Vote::For, Behavior::Honest),
        (60, Vote::Against, Behavior::Honest),
        (70, Vote::Abstain, Behavior::Honest),
    ]);
    let config = GossipConfig {
        fanout: 5,
        max_rounds: 30,
        early_stop: false,
        ..GossipConfig::default()
    };
    bencher.bench(|| exact::gossip::law(black_box(&agents), &config).unwrap());
}

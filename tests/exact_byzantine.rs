//! The exact law of a Byzantine vote against the simulator: 20,000 seeded
//! trials of each of four configurations, every summary figure within 4
//! standard errors of the exact value, and the number of agents detected
//! passing a chi-square test against its exact law.

use moai::consensus::byzantine::run;
use moai::exact::{byzantine, compare};
use moai::montecarlo::ByzantineTrials;
use moai::rng::trial_generator;
use moai::scenario::{Behavior, ByzantineConfig, Swarm, Vote};

#[path = "support/chi_square.rs"]
mod chi_square;
use Behavior::{Equivocate, Flip, Honest, Random, Silent, Stubborn};
use Vote::{Abstain, Against, For};
use chi_square::chi_square_p;

const TRIALS: u64 = 20_000;

/// Runs `TRIALS` seeded trials and checks them against the exact law.
fn check(name: &str, agents: Swarm, config: ByzantineConfig, seed: u64) {
    config.validate(&agents).unwrap();
    let exact = byzantine::law(&agents, &config).unwrap();
    assert!(
        exact.dropped_mass <= 1e-12,
        "{name}: {}",
        exact.dropped_mass
    );
    let total: f64 = exact.decisions.values().sum();
    assert!((total - 1.0).abs() <= 1e-12, "{name}: {total}");
    let detected_law = byzantine::detected_law(&agents, &config).unwrap();
    let mut trials = ByzantineTrials::default();
    let mut detected = vec![0u64; detected_law.len()];
    for i in 0..TRIALS {
        let outcome = run(&agents, &config, &mut trial_generator(seed, i));
        detected[outcome.metadata.malicious_detected as usize] += 1;
        trials.add(&outcome);
    }
    let summary = trials.summary();
    for (figure, z) in compare::byzantine(&summary, &exact) {
        let z =
            z.unwrap_or_else(|| panic!("{name}: {figure} has no z-score: {summary:?} {exact:?}"));
        assert!(
            z.abs() <= 4.0,
            "{name}: {figure} z = {z}: {summary:?} {exact:?}"
        );
    }
    let expected: Vec<f64> = detected_law.iter().map(|p| p * TRIALS as f64).collect();
    let p = chi_square_p(&detected, &expected);
    assert!(
        p > 0.001,
        "{name}: detected {detected:?} vs {expected:?}: p = {p}"
    );
}

fn config(f: u32, rounds: u32) -> ByzantineConfig {
    ByzantineConfig {
        fault_tolerance: f,
        num_rounds: rounds,
        timeout_reached: false,
    }
}

#[test]
fn random_voters_near_the_quorum_edge() {
    // f = 2, threshold 5: one escaped for vote approves; two escaped
    // against votes reach the other quorum too.
    let agents = Swarm::of_groups(&[(4, For, Honest), (3, Against, Honest), (3, Abstain, Random)]);
    check("random", agents, config(2, 3), 1);
}

#[test]
fn equivocators_with_two_relayers_sometimes_escape() {
    // Two relayers: an equivocator escapes 3 rounds with 2 (1/4)^3 = 1/32.
    let agents = Swarm::of_groups(&[
        (1, For, Honest),
        (1, For, Stubborn),
        (2, Against, Equivocate),
        (1, Abstain, Random),
        (1, Against, Flip),
    ]);
    check("equivocate", agents, config(1, 3), 2);
}

#[test]
fn abstaining_flips_silent_agents_and_random_voters() {
    let agents = Swarm::of_groups(&[
        (5, For, Honest),
        (4, Against, Honest),
        (2, Abstain, Flip),
        (1, Against, Silent),
        (3, For, Random),
    ]);
    check("flip", agents, config(3, 4), 3);
}

#[test]
fn coin_equivocators_outvote_a_lone_honest_agent() {
    // One relayer: equivocators are coin voters, and an approval goes
    // against the lone honest agent's vote.
    let agents = Swarm::of_groups(&[(1, Against, Honest), (3, For, Random), (2, For, Equivocate)]);
    check("against", agents, config(1, 3), 4);
}

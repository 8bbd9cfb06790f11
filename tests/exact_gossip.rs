//! The exact law of a gossip run against the simulator: 20,000 seeded
//! trials of each of eight configurations on the complete network (3 to
//! 2,000 agents, fanout 1 to 8, loss 0 to 0.5, stubborn, silent and
//! abstaining agents, early stop on and off), every summary figure within 4
//! standard errors of the exact value, the first converged round passing a
//! chi-square test against its exact law, and every round's mean agreement
//! and lost exchanges within 4 standard errors of the exact expectations.

use moai::consensus::gossip::run;
use moai::exact::compare::{self, ZScores};
use moai::exact::{GossipExactSummary, gossip};
use moai::montecarlo::{AgreementBands, GossipTrials};
use moai::rng::trial_generator;
use moai::scenario::{Behavior, GossipConfig, Swarm, Vote};

#[path = "support/chi_square.rs"]
mod chi_square;
use Behavior::{Honest, Silent, Stubborn};
use Vote::{Abstain, Against, For};
use chi_square::chi_square_p;

const TRIALS: u64 = 20_000;

/// Sums of one per-round figure over the trials, and of its squares.
#[derive(Default, Clone)]
struct Moments {
    sum: f64,
    squares: f64,
}

impl Moments {
    fn add(&mut self, x: f64) {
        self.sum += x;
        self.squares += x * x;
    }

    /// Asserts that the sample mean is within 4 standard errors (from the
    /// sample's own standard deviation) of `exact`; a sample without spread
    /// must equal it.
    fn agrees(&self, exact: f64, what: &str) {
        let n = TRIALS as f64;
        let mean = self.sum / n;
        let variance = ((self.squares - n * mean * mean) / (n - 1.0)).max(0.0);
        let error = (variance / n).sqrt();
        let gap = (mean - exact).abs();
        if error == 0.0 {
            assert!(
                gap <= 1e-9 * exact.abs().max(1.0),
                "{what}: {mean} vs {exact}"
            );
        } else {
            assert!(
                gap <= 4.0 * error,
                "{what}: {mean} vs {exact}, {} standard errors",
                gap / error
            );
        }
    }
}

/// Runs `TRIALS` trials of `seed` and checks them against the exact law;
/// returns the law and the z-scores for checks of the caller's own.
fn check(
    name: &str,
    agents: &Swarm,
    config: &GossipConfig,
    seed: u64,
) -> (GossipExactSummary, ZScores) {
    config.validate(agents).unwrap();
    let exact = gossip::law(agents, config).unwrap();
    assert!(
        exact.dropped_mass <= 1e-12,
        "{name}: {}",
        exact.dropped_mass
    );
    for r in &exact.rounds {
        assert!(
            (r.mass - 1.0).abs() <= 1e-12,
            "{name} round {}: {}",
            r.round,
            r.mass
        );
    }
    let rounds = config.max_rounds as usize;
    let mut trials = GossipTrials::default();
    let bands = AgreementBands::default();
    // First converged round, from 1; the last slot counts runs that never
    // converged.
    let mut first = vec![0u64; rounds + 1];
    let mut agreement = vec![Moments::default(); rounds];
    let mut lost = vec![Moments::default(); rounds];
    for i in 0..TRIALS {
        let outcome = run(agents, config, &mut trial_generator(seed, i));
        let m = &outcome.metadata;
        first[m.converged_round.map_or(rounds, |r| r as usize - 1)] += 1;
        // A run that stopped keeps its final agreement and loses nothing.
        for r in 0..rounds {
            let ran = m.round_history.get(r);
            let last = m.round_history.last().expect("a round ran");
            agreement[r].add(ran.unwrap_or(last).agreement_ratio);
            lost[r].add(ran.map_or(0, |g| g.lost_exchanges) as f64);
        }
        trials.add(&outcome);
        bands.record(&outcome);
    }
    let summary = trials.summary(&bands);
    // The summary's agreement per round is the same mean as the one held
    // to the law here (its last round standing for the rounds after).
    let by_round = &summary.agreement_by_round;
    for (r, moments) in agreement.iter().enumerate() {
        let band = by_round.get(r).or(by_round.last()).expect("a round");
        let mean = moments.sum / TRIALS as f64;
        assert!((band.mean - mean).abs() <= 1e-12, "{name} round {}", r + 1);
    }
    let z = compare::gossip(&summary, &exact);
    let mut worst = 0.0f64;
    for (figure, score) in &z {
        let score = score
            .unwrap_or_else(|| panic!("{name}: {figure} has no z-score: {summary:?} {exact:?}"));
        assert!(
            score.abs() <= 4.0,
            "{name}: {figure} z = {score}: {summary:?} {exact:?}"
        );
        worst = worst.max(score.abs());
    }
    // The law of the first converged round; a law that ended early (every
    // run stopped) gives later rounds nothing.
    let mut expected: Vec<f64> = (0..rounds)
        .map(|r| exact.rounds.get(r).map_or(0.0, |e| e.converged_in) * TRIALS as f64)
        .collect();
    expected.push((1.0 - exact.convergence_rate) * TRIALS as f64);
    let p = chi_square_p(&first, &expected);
    assert!(
        p > 0.001,
        "{name}: first converged rounds {first:?} vs {expected:?}: p = {p}"
    );
    // Per round: a law that ended early keeps its last agreement and loses
    // no exchange after.
    let last = exact.rounds.last().expect("a round");
    for r in 0..rounds {
        let (expected_agreement, expected_lost) = exact
            .rounds
            .get(r)
            .map_or((last.expected_agreement, 0.0), |e| {
                (e.expected_agreement, e.expected_lost_exchanges)
            });
        agreement[r].agrees(
            expected_agreement,
            &format!("{name}: round {} agreement", r + 1),
        );
        lost[r].agrees(expected_lost, &format!("{name}: round {} lost", r + 1));
    }
    println!(
        "{name}: convergence {:.4} exact, {:.4} trials; worst |z| {worst:.2}; chi-square p {p:.3}",
        exact.convergence_rate, summary.convergence_rate
    );
    (exact, z)
}

fn config(fanout: u32, loss: f64, convergence_threshold: f64, max_rounds: u32) -> GossipConfig {
    GossipConfig {
        fanout,
        loss,
        convergence_threshold,
        max_rounds,
        ..GossipConfig::default()
    }
}

#[test]
fn three_agents_over_a_lossy_network() {
    // The lone rejecter switches when it hears both others: (1/2)^2 per
    // round; the approvers never hear two against. A geometric first round.
    let agents = Swarm::of_groups(&[(2, For, Honest), (1, Against, Honest)]);
    let (exact, z) = check("three", &agents, &config(2, 0.5, 0.95, 6), 1);
    assert!((exact.rounds[0].converged_in - 0.25).abs() < 1e-15);
    // 2 of 3 approving already reaches 0.66: always approved.
    assert_eq!(z["decisions.approved"], Some(0.0));
    assert_eq!(z["decisions.rejected"], Some(0.0));
}

#[test]
fn abstainers_with_fanout_one_join_stubborn_voters() {
    // Only votes for exist, so agreement is always 1 and every run approves;
    // the run converges once every abstainer has heard a vote.
    let agents = Swarm::of_groups(&[(2, For, Stubborn), (10, Abstain, Honest)]);
    let c = GossipConfig {
        min_participation: 1.0,
        ..config(1, 0.0, 0.95, 5)
    };
    let (exact, z) = check("abstainers", &agents, &c, 2);
    assert!(exact.convergence_rate > 0.05 && exact.convergence_rate < 0.95);
    assert_eq!(z["decisions.approved"], Some(0.0));
    assert_eq!(z["mean_final_agreement"], Some(0.0));
}

#[test]
fn example_two_on_a_lossy_network_without_early_stop() {
    let agents = Swarm::of_groups(&[(15, For, Honest), (5, Against, Honest)]);
    let c = GossipConfig {
        early_stop: false,
        ..config(5, 0.3, 1.0, 4)
    };
    let (exact, _) = check("no-early-stop", &agents, &c, 3);
    assert!(exact.rounds.iter().all(|r| (r.running - 1.0).abs() < 1e-12));
}

#[test]
fn stubborn_and_silent_agents_with_loss() {
    let agents = Swarm::of_groups(&[
        (12, For, Honest),
        (10, Against, Honest),
        (2, For, Stubborn),
        (3, Against, Stubborn),
        (2, For, Silent),
        (1, Against, Silent),
    ]);
    let (exact, _) = check("stubborn-silent", &agents, &config(3, 0.2, 0.9, 10), 4);
    assert!(exact.convergence_rate > 0.05 && exact.convergence_rate < 0.95);
}

#[test]
fn honest_abstainers_held_back_by_participation() {
    let agents = Swarm::of_groups(&[
        (10, For, Honest),
        (8, Against, Honest),
        (14, Abstain, Honest),
    ]);
    let c = GossipConfig {
        min_participation: 0.9,
        ..config(2, 0.1, 0.8, 6)
    };
    let (exact, _) = check("participation", &agents, &c, 5);
    assert!(exact.convergence_rate > 0.05 && exact.convergence_rate < 0.95);
}

#[test]
fn fanout_eight_against_a_stubborn_pair() {
    let agents = Swarm::of_groups(&[
        (12, For, Honest),
        (10, Against, Honest),
        (2, Against, Stubborn),
    ]);
    let (exact, _) = check("fanout-8", &agents, &config(8, 0.05, 0.9, 3), 6);
    assert!(exact.convergence_rate > 0.05 && exact.convergence_rate < 0.95);
}

#[test]
fn four_hundred_agents_among_stubborn_camps_without_early_stop() {
    // Honest agents mostly hear the two stubborn camps; agreement and the
    // approval share hover near the thresholds.
    let agents = Swarm::of_groups(&[
        (25, For, Honest),
        (20, Against, Honest),
        (10, Abstain, Honest),
        (180, For, Stubborn),
        (165, Against, Stubborn),
    ]);
    let c = GossipConfig {
        early_stop: false,
        threshold: 0.527,
        ..config(4, 0.3, 0.53, 3)
    };
    let (exact, _) = check("400-agents", &agents, &c, 7);
    assert!(exact.convergence_rate > 0.05 && exact.convergence_rate < 0.95);
    let approved = exact.decisions["approved"];
    assert!(approved > 0.05 && approved < 0.95, "{approved}");
}

#[test]
fn two_thousand_agents_in_two_rounds() {
    let agents = Swarm::of_groups(&[
        (60, For, Honest),
        (40, Against, Honest),
        (20, Abstain, Honest),
        (1000, For, Stubborn),
        (880, Against, Stubborn),
    ]);
    let c = GossipConfig {
        threshold: 0.535,
        ..config(2, 0.1, 0.535, 2)
    };
    let (exact, _) = check("2000-agents", &agents, &c, 8);
    assert!(exact.convergence_rate > 0.05 && exact.convergence_rate < 0.95);
    let approved = exact.decisions["approved"];
    assert!(approved > 0.05 && approved < 0.95, "{approved}");
}

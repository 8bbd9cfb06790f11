//! The exact law of a Byzantine vote against the simulator: 20,000 seeded
//! trials of each of four configurations, every summary figure within 4
//! standard errors of the exact value, and the number of agents detected
//! passing a chi-square test against its exact law.

use moai::consensus::byzantine::run;
use moai::exact::{byzantine, compare};
use moai::montecarlo::ByzantineTrials;
use moai::rng::trial_generator;
use moai::scenario::{Agent, AgentOrigin, Behavior, ByzantineConfig, Swarm, Vote};

use Behavior::{Equivocate, Flip, Honest, Random, Silent, Stubborn};
use Vote::{Abstain, Against, For};

const TRIALS: u64 = 20_000;

/// A swarm of `count` agents per (vote, behaviour).
fn swarm(spec: &[(u64, Vote, Behavior)]) -> Swarm {
    spec.iter()
        .flat_map(|&(count, vote, behavior)| (0..count).map(move |_| (vote, behavior)))
        .enumerate()
        .map(|(i, (vote, behavior))| Agent {
            id: format!("agent-{}", i + 1),
            vote,
            behavior,
            origin: AgentOrigin::Flags,
        })
        .collect()
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: about 15 digits).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let x = x - 1.0;
    let t = x + 7.5;
    let series = C[1..]
        .iter()
        .enumerate()
        .fold(C[0], |s, (i, c)| s + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

/// Q(a, x) = Γ(a, x) / Γ(a), the regularised upper incomplete gamma
/// function: the series below a + 1, Lentz's continued fraction above.
fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let front = (-x + a * x.ln() - ln_gamma(a)).exp();
    if x < a + 1.0 {
        let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
        while term.abs() > sum.abs() * 1e-15 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
        }
        return 1.0 - sum * front;
    }
    let tiny = 1e-300;
    let mut b = x + 1.0 - a;
    let (mut c, mut d) = (1.0 / tiny, 1.0 / b);
    let mut h = d;
    for i in 1..1000 {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = an * d + b;
        d = if d.abs() < tiny { tiny } else { d };
        c = b + an / c;
        c = if c.abs() < tiny { tiny } else { c };
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-15 {
            break;
        }
    }
    front * h
}

/// The chi-square p-value of `observed` counts against `expected` ones,
/// adjacent bins merged until each expects at least 5.
fn chi_square_p(observed: &[u64], expected: &[f64]) -> f64 {
    let mut bins: Vec<(f64, f64)> = Vec::new();
    let mut open = (0.0, 0.0);
    for (&o, &e) in observed.iter().zip(expected) {
        open = (open.0 + o as f64, open.1 + e);
        if open.1 >= 5.0 {
            bins.push(open);
            open = (0.0, 0.0);
        }
    }
    match bins.last_mut() {
        Some(last) => *last = (last.0 + open.0, last.1 + open.1),
        None => bins.push(open),
    }
    if bins.len() < 2 {
        return 1.0;
    }
    let chi2: f64 = bins.iter().map(|(o, e)| (o - e).powi(2) / e).sum();
    gamma_q((bins.len() - 1) as f64 / 2.0, chi2 / 2.0)
}

#[test]
fn the_chi_square_p_value_matches_tables() {
    // chi2 = 3.841 with 1 degree of freedom and 11.07 with 5 are the 5%
    // points; 16.27 with 3 the 0.1% point.
    assert!((gamma_q(0.5, 3.841 / 2.0) - 0.05).abs() < 1e-4);
    assert!((gamma_q(2.5, 11.07 / 2.0) - 0.05).abs() < 1e-4);
    assert!((gamma_q(1.5, 16.27 / 2.0) - 0.001).abs() < 1e-5);
    assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-13);
}

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
    let agents = swarm(&[(4, For, Honest), (3, Against, Honest), (3, Abstain, Random)]);
    check("random", agents, config(2, 3), 1);
}

#[test]
fn equivocators_with_two_relayers_sometimes_escape() {
    // Two relayers: an equivocator escapes 3 rounds with 2 (1/4)^3 = 1/32.
    let agents = swarm(&[
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
    let agents = swarm(&[
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
    let agents = swarm(&[(1, Against, Honest), (3, For, Random), (2, For, Equivocate)]);
    check("against", agents, config(1, 3), 4);
}

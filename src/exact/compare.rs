//! How far Monte Carlo figures stray from the exact law: each figure's
//! z-score, the difference in standard errors of the estimate (computed
//! from the exact law, so it does not depend on the sample's own spread).

use indexmap::IndexMap;

use super::{ByzantineExactSummary, DecisionProbabilities, GossipExactSummary};
use crate::montecarlo::{ByzantineTrialsSummary, GossipTrialsSummary};

/// Figure name -> z-score. `None` where the exact law gives the figure no
/// spread and the Monte Carlo differs from it: no number of standard
/// errors measures that.
pub type ZScores = IndexMap<String, Option<f64>>;

/// The z-score of a sample mean `observed` over `count` draws of a law
/// with mean `mean` and standard deviation `sd`; `None` when `count` is 0.
pub fn z_mean(observed: f64, count: u64, mean: f64, sd: f64) -> Option<f64> {
    if count == 0 {
        return None;
    }
    let error = sd / (count as f64).sqrt();
    if error > 0.0 {
        return Some((observed - mean) / error);
    }
    // No spread: the sample must be exactly the mean (up to rounding).
    ((observed - mean).abs() <= 1e-12 * mean.abs().max(1.0)).then_some(0.0)
}

/// The z-score of an observed share `observed` of `trials` trials when the
/// exact probability is `p`.
pub fn z_rate(observed: f64, trials: u64, p: f64) -> Option<f64> {
    z_mean(observed, trials, p, (p * (1.0 - p)).max(0.0).sqrt())
}

/// Adds the z-score of every decision's share.
fn decisions(
    z: &mut ZScores,
    counts: &IndexMap<&'static str, u64>,
    trials: u64,
    exact: &DecisionProbabilities,
) {
    for (name, &p) in exact {
        let seen = counts.get(name).copied().unwrap_or(0);
        let share = if trials == 0 {
            0.0
        } else {
            seen as f64 / trials as f64
        };
        z.insert(format!("decisions.{name}"), z_rate(share, trials, p));
    }
}

/// The z-scores of gossip trials against the exact law: the convergence
/// rate, the mean converged round, each decision's share and the mean final
/// agreement.
pub fn gossip(trials: &GossipTrialsSummary, exact: &GossipExactSummary) -> ZScores {
    let n = trials.trials;
    let mut z = ZScores::new();
    z.insert(
        "convergence_rate".into(),
        z_rate(trials.convergence_rate, n, exact.convergence_rate),
    );
    let rounds = match (trials.rounds_mean, exact.rounds_mean, exact.rounds_sd) {
        (Some(seen), Some(mean), Some(sd)) => z_mean(seen, trials.converged_trials, mean, sd),
        _ => None,
    };
    z.insert("rounds_mean".into(), rounds);
    decisions(&mut z, &trials.decisions, n, &exact.decisions);
    z.insert(
        "mean_final_agreement".into(),
        z_mean(
            trials.mean_final_agreement,
            n,
            exact.mean_final_agreement,
            exact.final_agreement_sd,
        ),
    );
    z
}

/// The z-scores of Byzantine trials against the exact law: each decision's
/// share, the rates, and the mean number detected.
pub fn byzantine(trials: &ByzantineTrialsSummary, exact: &ByzantineExactSummary) -> ZScores {
    let n = trials.trials;
    let mut z = ZScores::new();
    decisions(&mut z, &trials.decisions, n, &exact.decisions);
    for (name, seen, p) in [
        ("missed_rate", trials.missed_rate, exact.missed_rate),
        (
            "false_positive_rate",
            trials.false_positive_rate,
            exact.false_positive_rate,
        ),
        (
            "byzantine_unsafe_rate",
            trials.byzantine_unsafe_rate,
            exact.byzantine_unsafe_rate,
        ),
        (
            "against_honest_majority_rate",
            trials.against_honest_majority_rate,
            exact.against_honest_majority_rate,
        ),
    ] {
        z.insert(name.into(), z_rate(seen, n, p));
    }
    z.insert(
        "mean_malicious_detected".into(),
        z_mean(
            trials.mean_malicious_detected,
            n,
            exact.mean_malicious_detected,
            exact.malicious_detected_sd,
        ),
    );
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_scores_count_standard_errors_from_the_exact_law() {
        // 10,000 trials of p = 0.5: one standard error is 0.005.
        assert!((z_rate(0.51, 10_000, 0.5).unwrap() - 2.0).abs() < 1e-9);
        assert!((z_mean(3.1, 100, 3.0, 0.5).unwrap() - 2.0).abs() < 1e-9);
        // Certain events: equal is 0 standard errors, anything else has none.
        assert_eq!(z_rate(1.0, 100, 1.0), Some(0.0));
        assert_eq!(z_rate(0.99, 100, 1.0), None);
        assert_eq!(z_mean(1.0, 0, 1.0, 0.1), None);
    }
}

//! Probability mass functions computed with relative accuracy: every term
//! is built from its neighbour by the exact ratio of consecutive terms,
//! starting from 1 at the mode, and the whole vector is then divided by its
//! sum. No term is ever formed as `1 - (1 - tiny)`, no factorial or gamma
//! function is evaluated, and terms far in a tail keep their relative
//! precision (about `j` rounding errors for the term `j` steps from the
//! mode) until they underflow below `f64`'s smallest normal number, some
//! 10^-308 of the mode's, where they are zero.

/// The law of `Binomial(n, p)`, where `p` is the chance of one success and
/// `q` the chance of a failure, each given directly (not as `1 - p`) so a
/// tiny one keeps its precision; `p + q` must be 1 up to rounding. Entry
/// `j` is P(j successes), for `j` in `0..=n`.
pub fn binomial(n: u64, p: f64, q: f64) -> Vec<f64> {
    let n_us = n as usize;
    let mut terms = vec![0.0; n_us + 1];
    if p <= 0.0 {
        terms[0] = 1.0;
        return terms;
    }
    if q <= 0.0 {
        terms[n_us] = 1.0;
        return terms;
    }
    let odds = p / q;
    // The mode, floor((n + 1) p), from the smaller of p and q so it is exact
    // enough near either end.
    let mode = if p <= q {
        (((n + 1) as f64) * p).floor() as u64
    } else {
        n.saturating_sub((((n + 1) as f64) * q).floor() as u64)
    }
    .min(n);
    terms[mode as usize] = 1.0;
    for j in mode..n {
        let next = terms[j as usize] * ((n - j) as f64 / (j + 1) as f64) * odds;
        if next == 0.0 {
            break;
        }
        terms[j as usize + 1] = next;
    }
    for j in (1..=mode).rev() {
        let next = terms[j as usize] * (j as f64 / (n - j + 1) as f64) / odds;
        if next == 0.0 {
            break;
        }
        terms[j as usize - 1] = next;
    }
    normalised(terms)
}

/// The law of the successes in `draws` draws without replacement from
/// `population` items of which `successes` are successes: entry `x` is
/// P(x successes), for `x` in `0..=draws` (zero where impossible). Needs
/// `successes <= population` and `draws <= population`.
pub fn hypergeometric(draws: u64, successes: u64, population: u64) -> Vec<f64> {
    debug_assert!(successes <= population && draws <= population);
    let mut terms = vec![0.0; draws as usize + 1];
    let failures = population - successes;
    let low = draws.saturating_sub(failures);
    let high = draws.min(successes);
    // The mode, floor((draws + 1)(successes + 1) / (population + 2)), kept
    // within the support.
    let mode = (((draws + 1) as u128 * (successes + 1) as u128) / (population + 2) as u128) as u64;
    let mode = mode.clamp(low, high);
    terms[mode as usize] = 1.0;
    for x in mode..high {
        let ratio = ((successes - x) as f64 * (draws - x) as f64)
            / ((x + 1) as f64 * (failures + x + 1 - draws) as f64);
        let next = terms[x as usize] * ratio;
        if next == 0.0 {
            break;
        }
        terms[x as usize + 1] = next;
    }
    for x in (low + 1..=mode).rev() {
        let ratio = (x as f64 * (failures + x - draws) as f64)
            / ((successes - x + 1) as f64 * (draws - x + 1) as f64);
        let next = terms[x as usize] * ratio;
        if next == 0.0 {
            break;
        }
        terms[x as usize - 1] = next;
    }
    normalised(terms)
}

/// `terms` divided by their sum.
fn normalised(mut terms: Vec<f64>) -> Vec<f64> {
    let total: f64 = terms.iter().sum();
    for t in &mut terms {
        *t /= total;
    }
    terms
}

/// The contiguous run of `terms` (a unimodal law) whose terms, weighted by
/// `mass`, are at least `floor`: its first index, and the weighted mass of
/// the terms outside it, which the caller drops.
pub fn window(terms: &[f64], mass: f64, floor: f64) -> (std::ops::Range<usize>, f64) {
    let keep = |t: f64| t * mass >= floor;
    let Some(first) = terms.iter().position(|&t| keep(t)) else {
        return (0..0, mass * terms.iter().sum::<f64>());
    };
    let last = terms
        .iter()
        .rposition(|&t| keep(t))
        .expect("one term is kept");
    let dropped: f64 = terms[..first].iter().chain(&terms[last + 1..]).sum();
    (first..last + 1, mass * dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, relative: f64) -> bool {
        (a - b).abs() <= relative * b.abs()
    }

    #[test]
    fn binomial_terms_match_the_formula_in_both_tails() {
        // Bin(10, 0.3): C(10, j) 0.3^j 0.7^(10-j).
        let law = binomial(10, 0.3, 0.7);
        let choose = [
            1.0, 10.0, 45.0, 120.0, 210.0, 252.0, 210.0, 120.0, 45.0, 10.0, 1.0,
        ];
        for (j, &c) in choose.iter().enumerate() {
            let exact = c * 0.3f64.powi(j as i32) * 0.7f64.powi(10 - j as i32);
            assert!(close(law[j], exact, 1e-14), "{j}: {} vs {exact}", law[j]);
        }
        // A tiny success chance keeps its relative precision: P(3) of
        // Bin(1000, 1e-40) is C(1000, 3) 1e-120 (1 - 1e-40)^997.
        let law = binomial(1000, 1e-40, 1.0);
        assert!(close(law[3], 166_167_000.0 * 1e-120, 1e-13), "{}", law[3]);
        assert_eq!(law[0], 1.0);
        assert_eq!(binomial(5, 0.0, 1.0), [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(binomial(2, 1.0, 0.0), [0.0, 0.0, 1.0]);
        assert_eq!(binomial(0, 0.5, 0.5), [1.0]);
    }

    #[test]
    fn hypergeometric_terms_match_the_formula() {
        // 3 draws from 5 successes among 12: C(5,x) C(7,3-x) / C(12,3).
        let law = hypergeometric(3, 5, 12);
        let exact = [35.0, 105.0, 70.0, 10.0].map(|c| c / 220.0);
        for x in 0..4 {
            assert!(close(law[x], exact[x], 1e-14), "{x}: {:?}", law);
        }
        // Impossible counts are zero: 4 draws from 2 successes among 5.
        let law = hypergeometric(4, 2, 5);
        assert_eq!(law[0], 0.0);
        assert!(close(law[1], 2.0 / 5.0, 1e-14) && close(law[2], 3.0 / 5.0, 1e-14));
        assert_eq!((law[3], law[4]), (0.0, 0.0));
        assert_eq!(hypergeometric(0, 3, 7), [1.0]);
        assert_eq!(hypergeometric(2, 0, 7), [1.0, 0.0, 0.0]);
        assert_eq!(hypergeometric(2, 7, 7), [0.0, 0.0, 1.0]);
    }

    #[test]
    fn a_window_keeps_what_weighs_at_least_the_floor() {
        let terms = [1e-11, 0.25, 0.5, 0.25 - 2e-11, 1e-11];
        let (kept, dropped) = window(&terms, 1e-290, 1e-300);
        assert_eq!(kept, 1..4);
        assert!(close(dropped, 2e-301, 1e-12));
        let (kept, dropped) = window(&terms, 1e-310, 1e-300);
        assert!(kept.is_empty());
        assert!(dropped > 0.0);
    }
}

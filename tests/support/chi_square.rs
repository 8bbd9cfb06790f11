//! Pearson's chi-square test of observed counts against expected ones, for
//! the tests that check Monte Carlo trials against an exact law: the
//! p-value from the regularised upper incomplete gamma function.

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: about 15 digits).
pub fn ln_gamma(x: f64) -> f64 {
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
pub fn gamma_q(a: f64, x: f64) -> f64 {
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
pub fn chi_square_p(observed: &[u64], expected: &[f64]) -> f64 {
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

//! The replication check of the evidence: a hypothesis only beats another with the
//! confidence that its advantage shows *day after day*.
//!
//! The engine's likelihood treats a fit's residuals as independent Gaussian noise with
//! an effective count of points. On grids unlike the generator's (a house near the
//! busbar, several feeders in one street, a feeder of three houses next to one of forty)
//! a small systematic misfit summed over 1,440 steps gives a log-likelihood ratio of
//! tens, and a tempered p of 1.00 for a difference that one evening's washing machine
//! made. Splitting the read into days (see [`super::refs::time_blocks`]) gives one
//! log-likelihood difference per day; their mean over their standard error is a
//! Student t with (days - 1) degrees of freedom, and the log-odds that the better
//! hypothesis is better on average is the most the evidence can say. Where physics
//! cannot tell two feeders apart the daily differences change sign, and the probability
//! itself spreads over them.

/// Per hypothesis, the log-odds that the best hypothesis (by the summed log-likelihood)
/// is better than it, from the per-block log-likelihoods `ll[h][b]`: 0 for the best
/// itself, `f64::INFINITY` when there are fewer than 3 blocks (no check possible) or
/// the difference is the same on every block.
pub fn log_odds_vs_best(ll: &[Vec<f64>]) -> Vec<f64> {
    let Some(blocks) = ll.first().map(Vec::len) else { return Vec::new() };
    let total = |h: &Vec<f64>| h.iter().sum::<f64>();
    let best = (0..ll.len()).max_by(|&a, &b| total(&ll[a]).total_cmp(&total(&ll[b]))).unwrap_or(0);
    ll.iter()
        .enumerate()
        .map(|(h, l)| {
            if h == best {
                return 0.0;
            }
            if blocks < 3 {
                return f64::INFINITY;
            }
            let d: Vec<f64> = ll[best].iter().zip(l).map(|(a, b)| a - b).collect();
            let n = d.len() as f64;
            let mean = d.iter().sum::<f64>() / n;
            let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
            if !mean.is_finite() {
                return f64::INFINITY;
            }
            if var <= 1e-18 * mean.abs().max(1e-300) {
                return if mean > 0.0 { f64::INFINITY } else { 0.0 };
            }
            let t = mean / (var / n).sqrt();
            t_log_odds(t, n - 1.0)
        })
        .collect()
}

/// `ln(P(T <= t) / P(T > t))` for Student's t with `nu` degrees of freedom.
pub fn t_log_odds(t: f64, nu: f64) -> f64 {
    // P(T > |t|) = I_x(nu/2, 1/2) / 2 with x = nu / (nu + t^2).
    let x = nu / (nu + t * t);
    let tail = 0.5 * incomplete_beta(0.5 * nu, 0.5, x);
    let (lower, upper) = if t >= 0.0 { (1.0 - tail, tail) } else { (tail, 1.0 - tail) };
    (lower.max(1e-300)).ln() - (upper.max(1e-300)).ln()
}

/// Regularised incomplete beta function I_x(a, b) (continued fraction, Lentz).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    // The continued fraction converges fast for x < (a + 1) / (a + b + 2).
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_cf(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_cf(b, a, 1.0 - x) / b
    }
}

fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-14 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
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
    if x < 0.5 {
        return std::f64::consts::PI.ln() - (std::f64::consts::PI * x).sin().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_t_matches_tables() {
        // Two-sided 95% and 99% points of t with 9 degrees of freedom: 2.262, 3.250.
        let p = |t: f64, nu: f64| 1.0 / (1.0 + (-t_log_odds(t, nu)).exp());
        assert!((p(2.262, 9.0) - 0.975).abs() < 1e-3, "{}", p(2.262, 9.0));
        assert!((p(3.250, 9.0) - 0.995).abs() < 1e-4, "{}", p(3.250, 9.0));
        assert!((p(0.0, 5.0) - 0.5).abs() < 1e-12);
        assert!((p(-2.571, 5.0) - 0.025).abs() < 1e-3);
        // Far in the tail it stays finite and grows.
        assert!(t_log_odds(50.0, 9.0) > t_log_odds(20.0, 9.0));
    }

    #[test]
    fn a_difference_seen_every_day_is_certain_one_that_flips_is_not() {
        let steady = vec![vec![0.0; 10], vec![-5.0, -4.0, -6.0, -5.0, -5.5, -4.5, -5.0, -6.0, -4.0, -5.0]];
        let lo = log_odds_vs_best(&steady);
        assert_eq!(lo[0], 0.0);
        assert!(lo[1] > 15.0, "{lo:?}");
        // The same total advantage from one evening: not replicated.
        let one_day = vec![vec![0.0; 10], vec![-50.0, 0.5, -0.5, 0.2, 0.3, -0.2, 0.1, -0.1, 0.4, -0.7]];
        let lo = log_odds_vs_best(&one_day);
        assert!(lo[1] < 2.0, "{lo:?}");
        // Too few blocks: no cap.
        assert_eq!(log_odds_vs_best(&[vec![0.0, 0.0], vec![-1.0, -2.0]])[1], f64::INFINITY);
    }
}

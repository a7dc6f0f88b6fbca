//! Small statistics used by the quality analyses: quantiles over series with
//! gaps (NaN) and the Mann–Whitney rank test for before/after comparisons.

/// Quantile `q` in [0, 1] of the finite values (linear interpolation); `None` if there are none.
pub fn quantile(values: impl IntoIterator<Item = f64>, q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    quantile(values, 0.5)
}

/// Standard normal cumulative distribution (Abramowitz–Stegun 7.1.26 for erf, |error| < 1.5e-7).
pub fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.3275911 * x);
    let y =
        1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * (-x * x).exp();
    if z >= 0.0 { 0.5 * (1.0 + y) } else { 0.5 * (1.0 - y) }
}

/// Result of a two-sided Mann–Whitney U (Wilcoxon rank-sum) test.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RankTest {
    /// Probability that a value from `after` exceeds one from `before` (ties count half):
    /// 0.5 = no shift, near 0 = after is lower, near 1 = after is higher.
    pub prob_after_higher: f64,
    /// Two-sided p-value (normal approximation with tie and continuity correction).
    pub p_value: f64,
}

/// Mann–Whitney U test of `before` vs `after` (NaNs ignored). `None` with fewer
/// than 3 values on either side: too few days to say anything.
pub fn mann_whitney(before: &[f64], after: &[f64]) -> Option<RankTest> {
    let a: Vec<f64> = before.iter().copied().filter(|x| x.is_finite()).collect();
    let b: Vec<f64> = after.iter().copied().filter(|x| x.is_finite()).collect();
    let (n1, n2) = (a.len(), b.len());
    if n1 < 3 || n2 < 3 {
        return None;
    }
    let mut all: Vec<(f64, bool)> = a.iter().map(|&x| (x, false)).chain(b.iter().map(|&x| (x, true))).collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let n = all.len();
    let mut rank_sum_after = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        let t = (j - i + 1) as f64;
        tie_term += t * t * t - t;
        for item in &all[i..=j] {
            if item.1 {
                rank_sum_after += avg_rank;
            }
        }
        i = j + 1;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let u_after = rank_sum_after - n2f * (n2f + 1.0) / 2.0;
    let mean = n1f * n2f / 2.0;
    let nf = n as f64;
    let var = n1f * n2f / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)));
    let p_value = if var <= 0.0 {
        1.0
    } else {
        let z = ((u_after - mean).abs() - 0.5).max(0.0) / var.sqrt();
        (2.0 * (1.0 - normal_cdf(z))).min(1.0)
    };
    Some(RankTest { prob_after_higher: u_after / (n1f * n2f), p_value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_skip_gaps() {
        assert_eq!(median([3.0, f64::NAN, 1.0, 2.0]), Some(2.0));
        assert_eq!(quantile([0.0, 10.0], 0.25), Some(2.5));
        assert_eq!(quantile([f64::NAN], 0.5), None);
    }

    #[test]
    fn normal_cdf_known_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959964) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-1.0) - 0.158655).abs() < 1e-6);
    }

    #[test]
    fn rank_test_separates_shifted_samples() {
        let before: Vec<f64> = (0..10).map(|i| 250.0 + i as f64 * 0.3).collect();
        let after: Vec<f64> = before.iter().map(|x| x - 5.0).collect();
        let r = mann_whitney(&before, &after).unwrap();
        assert!(r.p_value < 0.001 && r.prob_after_higher < 0.05, "{r:?}");
        let same = mann_whitney(&before, &before).unwrap();
        assert!(same.p_value > 0.9 && (same.prob_after_higher - 0.5).abs() < 1e-9);
        assert!(mann_whitney(&before[..2], &after).is_none());
        // All ties: no evidence either way.
        assert_eq!(mann_whitney(&[0.0; 5], &[0.0; 5]).unwrap().p_value, 1.0);
    }
}

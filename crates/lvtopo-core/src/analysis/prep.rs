//! Preprocessing of one meter channel: implausible values out, gaps filled,
//! rounding detected, clock shift applied, mean (and optionally slow trend)
//! removed, time weights applied. Everything downstream works on the result.

/// Readings outside this range are meter errors or outages, not voltages.
pub const PLAUSIBLE_V: (f32, f32) = (100.0, 300.0);

/// What preprocessing found out about one channel.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ChannelStats {
    /// Valid (plausible, present) points.
    pub valid: usize,
    /// Points removed as implausible (zero during an outage, spikes).
    pub implausible: usize,
    /// Resolution the readings are rounded to (V): 1.0, 0.1 or 0.0 when finer / unknown.
    pub resolution_v: f32,
    /// Standard deviation of the raw valid readings (V).
    pub std_v: f32,
}

/// Detects the rounding of a series: 1 V, 0.1 V, or finer (0).
pub fn detect_resolution(raw: &[f32]) -> f32 {
    let mut n = 0usize;
    let (mut on_1, mut on_01) = (0usize, 0usize);
    // Branch-free counts (non-finite values give NaN distances, which count nowhere).
    for &v in raw {
        let v = v as f64;
        n += v.is_finite() as usize;
        on_1 += (dist_to_integer(v) < 1e-3) as usize;
        on_01 += (dist_to_integer(v * 10.0) < 1e-2) as usize;
    }
    if n == 0 {
        return 0.0;
    }
    // A handful of off-grid values (e.g. averaged duplicates) do not change the picture.
    if on_1 as f64 >= 0.98 * n as f64 {
        1.0
    } else if on_01 as f64 >= 0.98 * n as f64 {
        0.1
    } else {
        0.0
    }
}

/// `|x - x.round()|` for `x` made from an `f32` (NaN for non-finite `x`), without a
/// call to libm's `round`: the baseline x86-64 target has no rounding instruction, and
/// this runs for every reading. Branch-free, so the loop above vectorises.
#[inline]
fn dist_to_integer(x: f64) -> f64 {
    // Adding and removing 1.5 * 2^52 rounds to the nearest integer for |x| < 2^51
    // (ties to even instead of away from zero: the distance is 0.5 either way).
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    let d = (x - ((x + MAGIC) - MAGIC)).abs();
    // Beyond 2^51 an f32 (even times 10) is an integer; `x * 0.0` keeps NaN for inf/NaN.
    if x.abs() < 2_251_799_813_685_248.0 { d } else { x * 0.0 }
}

/// Cleans a raw channel into `out` (same length): implausible values and NaN become
/// gaps, gaps are filled by linear interpolation (ends by the nearest valid value),
/// then the series is shifted by `shift` steps (positive: later) to repair a clock
/// that stamps interval start. Returns the stats; `valid == 0` leaves `out` zeroed.
pub fn clean(raw: &[f32], shift: i32, out: &mut [f32]) -> ChannelStats {
    clean_with_resolution(raw, shift, out, detect_resolution(raw))
}

/// [`clean`] with the series' [`detect_resolution`] already known (it does not
/// depend on the clock shift, and the engine cleans each series several times).
pub fn clean_with_resolution(raw: &[f32], shift: i32, out: &mut [f32], resolution_v: f32) -> ChannelStats {
    let n = raw.len();
    debug_assert_eq!(out.len(), n);
    let mut st = ChannelStats { resolution_v, ..Default::default() };
    // Shifted read: out[k] = raw[k - shift]; steps read from outside `raw` are gaps.
    let s = (shift.unsigned_abs() as usize).min(n);
    let (dst, src) = if shift >= 0 { (s..n, 0..n - s) } else { (0..n - s, s..n) };
    out[..dst.start].iter_mut().for_each(|o| *o = f32::NAN);
    out[dst.end..].iter_mut().for_each(|o| *o = f32::NAN);
    // Four lanes so the loop vectorises (the sum of f32 values in f64 is exact in any
    // order; the sum of squares only moves in the last bits).
    let (mut sum, mut sum2, mut valid, mut implausible) = ([0f64; 4], [0f64; 4], [0usize; 4], [0usize; 4]);
    let (o_all, r_all) = (&mut out[dst], &raw[src]);
    let mut oc = o_all.chunks_exact_mut(4);
    let mut rc = r_all.chunks_exact(4);
    let mut lane = |l: usize, o: &mut f32, v: f32| {
        let ok = v >= PLAUSIBLE_V.0 && v <= PLAUSIBLE_V.1;
        let x = if ok { v as f64 } else { 0.0 };
        *o = if ok { v } else { f32::NAN };
        valid[l] += ok as usize;
        implausible[l] += (!ok && v.is_finite()) as usize;
        sum[l] += x;
        sum2[l] += x * x;
    };
    for (o, r) in (&mut oc).zip(&mut rc) {
        for l in 0..4 {
            lane(l, &mut o[l], r[l]);
        }
    }
    for (o, &v) in oc.into_remainder().iter_mut().zip(rc.remainder()) {
        lane(0, o, v);
    }
    st.valid = valid.iter().sum();
    st.implausible = implausible.iter().sum();
    let (sum, sum2) = (sum.iter().sum::<f64>(), sum2.iter().sum::<f64>());
    if st.valid == 0 {
        out.iter_mut().for_each(|o| *o = 0.0);
        return st;
    }
    let mean = sum / st.valid as f64;
    st.std_v = ((sum2 / st.valid as f64 - mean * mean).max(0.0)).sqrt() as f32;
    if st.valid < n {
        fill_gaps(out);
    }
    st
}

/// Linear interpolation over NaN runs; leading/trailing runs take the nearest value.
pub fn fill_gaps(x: &mut [f32]) {
    let n = x.len();
    let mut last: Option<usize> = None;
    let mut k = 0;
    while k < n {
        if x[k].is_finite() {
            last = Some(k);
            k += 1;
            continue;
        }
        let start = k;
        while k < n && !x[k].is_finite() {
            k += 1;
        }
        match (last, (k < n).then_some(k)) {
            (Some(a), Some(b)) => {
                let (va, vb) = (x[a], x[b]);
                for j in start..k {
                    let u = (j - a) as f32 / (b - a) as f32;
                    x[j] = va + u * (vb - va);
                }
            }
            (Some(a), None) => {
                let va = x[a];
                x[start..k].iter_mut().for_each(|v| *v = va);
            }
            (None, Some(b)) => {
                let vb = x[b];
                x[start..k].iter_mut().for_each(|v| *v = vb);
            }
            (None, None) => {}
        }
    }
}

/// Removes the mean, or with `window > 1` a centred moving average of that many
/// steps (a high-pass that keeps the 10-minute to few-hour load fluctuations
/// that carry the phase, and drops the slow drift every phase shares), then
/// multiplies by the square root of the time weights (weighted least squares).
pub fn detrend_and_weight(x: &mut [f32], window: usize, sqrt_w: &[f32]) {
    let n = x.len();
    if n == 0 {
        return;
    }
    if window > 1 && window < n {
        let half = window / 2;
        let mut prefix = Vec::with_capacity(n + 1);
        prefix.push(0f64);
        for &v in x.iter() {
            prefix.push(prefix.last().unwrap() + v as f64);
        }
        let orig: Vec<f32> = x.to_vec();
        for k in 0..n {
            let a = k.saturating_sub(half);
            let b = (k + half + 1).min(n);
            let ma = (prefix[b] - prefix[a]) / (b - a) as f64;
            x[k] = orig[k] - ma as f32;
        }
    } else {
        let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        x.iter_mut().for_each(|v| *v -= mean as f32);
    }
    if !sqrt_w.is_empty() {
        for (v, w) in x.iter_mut().zip(sqrt_w) {
            *v *= *w;
        }
    }
}

/// AR(1) prewhitening in place: `x_t - rho x_(t-1)`, the first point scaled by
/// `sqrt(1 - rho^2)` (Prais-Winsten), so a series with lag-1 autocorrelation `rho`
/// becomes white and least squares on it is generalised least squares.
pub fn prewhiten(x: &mut [f32], rho: f32) {
    if rho <= 0.0 || x.is_empty() {
        return;
    }
    for t in (1..x.len()).rev() {
        x[t] -= rho * x[t - 1];
    }
    x[0] *= (1.0 - rho * rho).max(0.0).sqrt();
}

/// Most series of the read are rounded to 1 V (or coarser), by [`detect_resolution`].
pub fn mostly_coarse(resolution: &[f32]) -> bool {
    2 * resolution.iter().filter(|r| **r >= 0.5).count() > resolution.len()
}

pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    // Chunked f32 accumulation (vectorises) with an f64 total per chunk.
    let mut total = 0f64;
    for (ca, cb) in a.chunks(256).zip(b.chunks(256)) {
        let mut acc = [0f32; 8];
        let mut ia = ca.chunks_exact(8);
        let mut ib = cb.chunks_exact(8);
        for (x, y) in (&mut ia).zip(&mut ib) {
            for j in 0..8 {
                acc[j] += x[j] * y[j];
            }
        }
        let mut s: f32 = acc.iter().sum();
        for (x, y) in ia.remainder().iter().zip(ib.remainder()) {
            s += x * y;
        }
        total += s as f64;
    }
    total
}

/// Lag-1 autocorrelation of a series (for the effective number of independent points).
pub fn lag1_autocorr(e: &[f32]) -> f64 {
    if e.len() < 3 {
        return 0.0;
    }
    let d0 = dot(e, e);
    if d0 <= 0.0 {
        return 0.0;
    }
    (dot(&e[1..], &e[..e.len() - 1]) / d0).clamp(-0.99, 0.99)
}

/// Correlation of the first differences of `y` (shifted by `lag` steps: y[k-lag])
/// with those of `r`. Used to detect a clock that stamps interval start.
pub fn diff_corr_at_lag(y: &[f32], r: &[f32], lag: i32) -> f64 {
    let n = y.len().min(r.len());
    let (mut sxy, mut sxx, mut syy) = (0f64, 0f64, 0f64);
    for k in 2..n.saturating_sub(2) {
        let j = k as i64 - lag as i64;
        if j < 1 || j as usize >= n {
            continue;
        }
        let j = j as usize;
        let dy = (y[j] - y[j - 1]) as f64;
        let dr = (r[k] - r[k - 1]) as f64;
        sxy += dy * dr;
        sxx += dy * dy;
        syy += dr * dr;
    }
    if sxx <= 0.0 || syy <= 0.0 { 0.0 } else { sxy / (sxx * syy).sqrt() }
}

/// First differences `x[k] - x[k-1]` (length `n - 1`).
pub fn diffs(x: &[f32]) -> Vec<f32> {
    x.windows(2).map(|w| w[1] - w[0]).collect()
}

/// [`diff_corr_at_lag`] for lags -1, 0 and 1 at once, from first differences
/// (`dy` of the meter, `dr` of the reference, both from [`diffs`]) with `dr_dr`
/// the reference's sum of squares over the compared range ([`diff_range`]).
pub fn diff_corrs(dy: &[f32], dr: &[f32], dr_dr: f64, dy_dy: &[f64; 3]) -> [f64; 3] {
    let mut out = [0f64; 3];
    let n = dy.len().min(dr.len()) + 1;
    let (a, b) = diff_range(n);
    if a >= b {
        return out;
    }
    for (li, lag) in [-1i64, 0, 1].into_iter().enumerate() {
        // Differences are indexed by their later point minus one: dy[j - 1] = y[j] - y[j-1].
        let ys = &dy[(a as i64 - lag - 1) as usize..(b as i64 - lag - 1) as usize];
        let sxy = dot(ys, &dr[a - 1..b - 1]);
        out[li] = if dy_dy[li] <= 0.0 || dr_dr <= 0.0 { 0.0 } else { sxy / (dy_dy[li] * dr_dr).sqrt() };
    }
    out
}

/// Sums of squares of the meter's differences in the range compared at lags -1, 0, 1.
pub fn diff_self(dy: &[f32]) -> [f64; 3] {
    let n = dy.len() + 1;
    let (a, b) = diff_range(n);
    let mut out = [0f64; 3];
    if a >= b {
        return out;
    }
    for (li, lag) in [-1i64, 0, 1].into_iter().enumerate() {
        let ys = &dy[(a as i64 - lag - 1) as usize..(b as i64 - lag - 1) as usize];
        out[li] = dot(ys, ys);
    }
    out
}

/// The time steps `a..b` compared by the lag check: every step whose own difference
/// and the meter's difference one step either side exist (as [`diff_corr_at_lag`]).
pub fn diff_range(n: usize) -> (usize, usize) {
    (2, n.saturating_sub(2))
}

/// Sum of squares of a reference's differences over [`diff_range`].
pub fn diff_norm(dr: &[f32]) -> f64 {
    let (a, b) = diff_range(dr.len() + 1);
    if a >= b { 0.0 } else { dot(&dr[a - 1..b - 1], &dr[a - 1..b - 1]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prewhitening_makes_an_ar1_series_white() {
        // x_t = 0.8 x_(t-1) + e_t with a deterministic pseudo-random e.
        let mut state = 12345u64;
        let mut e = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let mut x = vec![0f32; 5000];
        for t in 1..x.len() {
            x[t] = 0.8 * x[t - 1] + e();
        }
        assert!(lag1_autocorr(&x) > 0.75);
        prewhiten(&mut x, 0.8);
        assert!(lag1_autocorr(&x).abs() < 0.05, "{}", lag1_autocorr(&x));
        let mut y = [1.0f32, 2.0];
        prewhiten(&mut y, 0.0);
        assert_eq!(y, [1.0, 2.0]);
    }

    #[test]
    fn a_read_is_coarse_when_most_series_are_rounded_to_1_v() {
        assert!(mostly_coarse(&[1.0, 1.0, 0.1]));
        assert!(!mostly_coarse(&[1.0, 0.1, 0.0, 0.1]));
        assert!(!mostly_coarse(&[]));
    }

    #[test]
    fn resolution_is_detected() {
        assert_eq!(detect_resolution(&[230.0, 231.0, f32::NAN, 229.0]), 1.0);
        assert_eq!(detect_resolution(&[230.1, 231.0, 229.7]), 0.1);
        assert_eq!(detect_resolution(&[230.123, 231.0, 229.77]), 0.0);
    }

    #[test]
    fn clean_drops_implausible_and_fills_gaps() {
        let raw = [f32::NAN, 230.0, 0.0, 234.0, 1e6, f32::NAN, 238.0, f32::NAN];
        let mut out = [0f32; 8];
        let st = clean(&raw, 0, &mut out);
        assert_eq!(st.valid, 3);
        assert_eq!(st.implausible, 2);
        let want = [230.0, 230.0, 232.0, 234.0, 235.333_33, 236.666_66, 238.0, 238.0];
        assert!(out.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-3), "{out:?}");
    }

    #[test]
    fn clean_applies_clock_shift() {
        let raw = [1.0f32, 2.0, 3.0, 4.0].map(|v| 230.0 + v);
        let mut out = [0f32; 4];
        clean(&raw, 1, &mut out);
        assert_eq!(out, [231.0, 231.0, 232.0, 233.0]);
        clean(&raw, -1, &mut out);
        assert_eq!(out, [232.0, 233.0, 234.0, 234.0]);
        assert_eq!(clean(&raw, 9, &mut out).valid, 0);
    }

    #[test]
    fn detrend_removes_mean_and_moving_average() {
        let mut x = [1.0f32, 2.0, 3.0, 4.0, 5.0];
        detrend_and_weight(&mut x, 0, &[]);
        assert!((x.iter().sum::<f32>()).abs() < 1e-5);
        let mut lin: Vec<f32> = (0..50).map(|k| k as f32).collect();
        detrend_and_weight(&mut lin, 5, &[]);
        assert!(lin[10..40].iter().all(|v| v.abs() < 1e-4), "a linear trend is removed by a centred average");
    }

    #[test]
    fn distance_to_integer_matches_round() {
        for &x in &[0.0, 0.4, 0.5, 0.6, 229.999, 230.0004, -3.7, -0.5, 1e17, -3e15, 2302.9999999, 2303.01, -1e300] {
            let want = (x - f64::round(x)).abs();
            assert!((dist_to_integer(x) - want).abs() < 1e-12, "{x}: {} vs {want}", dist_to_integer(x));
        }
    }

    #[test]
    fn dot_matches_naive() {
        let a: Vec<f32> = (0..1000).map(|k| (k as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..1000).map(|k| (k as f32 * 0.11).cos()).collect();
        let naive: f64 = a.iter().zip(&b).map(|(x, y)| (*x as f64) * (*y as f64)).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-3);
    }

    #[test]
    fn lag_correlations_from_differences_match_the_direct_ones() {
        let r: Vec<f32> = (0..300).map(|k| ((k * 7919) % 101) as f32 * 0.1).collect();
        let y: Vec<f32> = (0..300).map(|k| r[(k + 1).min(299)] + ((k * 31) % 7) as f32 * 0.05).collect();
        let (dy, dr) = (diffs(&y), diffs(&r));
        let got = diff_corrs(&dy, &dr, diff_norm(&dr), &diff_self(&dy));
        for (li, lag) in [-1, 0, 1].into_iter().enumerate() {
            let want = diff_corr_at_lag(&y, &r, lag);
            assert!((got[li] - want).abs() < 1e-5, "lag {lag}: {} vs {want}", got[li]);
        }
    }

    #[test]
    fn lag_detection_finds_a_one_step_lead() {
        let r: Vec<f32> = (0..500).map(|k| ((k * 7919) % 101) as f32).collect();
        // The meter stamps interval start: its value at k is the true value at k+1.
        let y: Vec<f32> = (0..500).map(|k| r[(k + 1).min(499)]).collect();
        assert!(diff_corr_at_lag(&y, &r, 1) > 0.99);
        assert!(diff_corr_at_lag(&y, &r, 0) < 0.5);
    }
}

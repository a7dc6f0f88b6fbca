//! Voltage references of a station, built from its meters' own series:
//! the station common mode `C` (every channel), one reference per transformer
//! phase `S_p` (all feeders: the transformer's phases are common to them) and one
//! per feeder and phase `F_fp`. Stored as weighted *sums* of standardised series
//! with their total weight, so one meter's own share can be taken out exactly
//! (leave-one-out) when that meter is scored against them.

use super::prep::dot;

pub const C: usize = 0;
pub fn s_idx(p: usize) -> usize {
    1 + p
}
pub fn f_idx(local_feeder: usize, p: usize) -> usize {
    4 + 3 * local_feeder + p
}
pub fn ref_count(n_feeders: usize) -> usize {
    4 + 3 * n_feeders
}

/// One meter channel's share in a reference: `weight * z` with `z` its standardised series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Contribution {
    pub station: u32,
    pub reference: u16,
    /// Index into the meter's channel list.
    pub channel: u8,
    pub weight: f32,
}

#[derive(Clone, Debug, Default)]
pub struct StationRefs {
    /// Weighted sums U_r (empty vector: no member yet).
    pub sums: Vec<Vec<f32>>,
    /// Total weight W_r.
    pub weights: Vec<f64>,
    /// dot(U_r, U_q), row-major `len x len`.
    pub gram: Vec<f64>,
    /// The same per time block (see [`time_blocks`]): `block_gram[b]` is `len x len`.
    /// The sum over the blocks is `gram`.
    pub block_gram: Vec<Vec<f64>>,
}

/// The read's time steps cut into ten blocks (a day each in a 10-day read, never shorter
/// than six hours) for the replication check of the evidence: a difference between two
/// hypotheses that the grid really makes shows in every block, one that a house's own
/// load or one evening's event makes does not. Fewer than three blocks: no check.
pub fn time_blocks(steps: usize) -> Vec<std::ops::Range<usize>> {
    const BLOCKS: usize = 10;
    const MIN_LEN: usize = 36;
    let n = (steps / MIN_LEN).min(BLOCKS);
    (0..n).map(|b| b * steps / n..(b + 1) * steps / n).collect()
}

impl StationRefs {
    pub fn empty(n_refs: usize) -> Self {
        StationRefs { sums: vec![Vec::new(); n_refs], weights: vec![0.0; n_refs], gram: Vec::new(), block_gram: Vec::new() }
    }
    pub fn len(&self) -> usize {
        self.sums.len()
    }
    pub fn is_empty(&self) -> bool {
        self.sums.is_empty()
    }
    pub fn add(&mut self, r: usize, z: &[f32], w: f32) {
        let s = &mut self.sums[r];
        if s.is_empty() {
            s.resize(z.len(), 0.0);
        }
        for (a, b) in s.iter_mut().zip(z) {
            *a += w * b;
        }
        self.weights[r] += w as f64;
    }
    pub fn merge(&mut self, other: StationRefs) {
        for (r, (s, w)) in other.sums.into_iter().zip(other.weights).enumerate() {
            if s.is_empty() {
                continue;
            }
            if self.sums[r].is_empty() {
                self.sums[r] = s;
            } else {
                for (a, b) in self.sums[r].iter_mut().zip(&s) {
                    *a += b;
                }
            }
            self.weights[r] += w;
        }
    }
    /// Computes the Gram matrices, in total and per block of `blocks`.
    pub fn finish(&mut self, blocks: &[std::ops::Range<usize>]) {
        let m = self.len();
        self.gram = vec![0.0; m * m];
        self.block_gram = vec![vec![0.0; m * m]; blocks.len()];
        for r in 0..m {
            for q in r..m {
                if self.sums[r].is_empty() || self.sums[q].is_empty() {
                    continue;
                }
                let (a, b) = (&self.sums[r], &self.sums[q]);
                let mut g = 0.0;
                for (bi, blk) in blocks.iter().enumerate() {
                    let gb = dot(&a[blk.clone()], &b[blk.clone()]);
                    self.block_gram[bi][r * m + q] = gb;
                    self.block_gram[bi][q * m + r] = gb;
                    g += gb;
                }
                self.gram[r * m + q] = g;
                self.gram[q * m + r] = g;
            }
        }
    }
    pub fn block_gram(&self, block: usize, r: usize, q: usize) -> f64 {
        self.block_gram[block][r * self.len() + q]
    }
    pub fn gram(&self, r: usize, q: usize) -> f64 {
        self.gram[r * self.len() + q]
    }
    /// The reference as a mean series (for lag detection and plots).
    pub fn mean(&self, r: usize) -> Option<Vec<f32>> {
        let w = self.weights[r];
        (w > 0.0 && !self.sums[r].is_empty()).then(|| self.sums[r].iter().map(|v| (*v as f64 / w) as f32).collect())
    }
}

/// Solves the normal equations of a small least-squares fit (with a tiny ridge for
/// collinear references) and returns the coefficients; regressors with `xx[i][i] == 0`
/// are left out (coefficient 0).
pub fn solve_small(xx: &[[f64; 3]; 3], xy: &[f64; 3], k: usize) -> [f64; 3] {
    let mut a = [[0f64; 4]; 3];
    let tr: f64 = (0..k).map(|i| xx[i][i]).sum::<f64>().max(1e-30);
    for i in 0..k {
        for j in 0..k {
            a[i][j] = xx[i][j];
        }
        if xx[i][i] <= 0.0 {
            for j in 0..k {
                a[i][j] = 0.0;
                a[j][i] = 0.0;
            }
            a[i][i] = 1.0;
            a[i][3] = 0.0;
        } else {
            a[i][i] += 1e-6 * tr;
            a[i][3] = xy[i];
        }
    }
    // Gaussian elimination with partial pivoting.
    for col in 0..k {
        let piv = (col..k).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs())).unwrap();
        a.swap(col, piv);
        let d = a[col][col];
        if d.abs() < 1e-300 {
            continue;
        }
        for row in 0..k {
            if row != col {
                let f = a[row][col] / d;
                for j in col..4 {
                    a[row][j] -= f * a[col][j];
                }
            }
        }
    }
    let mut b = [0f64; 3];
    for i in 0..k {
        if a[i][i].abs() > 1e-300 {
            b[i] = a[i][3] / a[i][i];
        }
    }
    b
}

/// Least squares with the coefficients flagged in `nonneg` kept >= 0 (exact, by
/// trying every subset of the three regressors). Physics: a meter on phase `p` of
/// feeder `f` follows the loading of transformer phase `p` and of that feeder with a
/// positive sign; a negative weight would let a fit "subtract" another feeder's drop
/// and pass for a meter that is on neither.
pub fn solve_nonneg(xx: &[[f64; 3]; 3], xy: &[f64; 3], nonneg: [bool; 3]) -> [f64; 3] {
    let mut best: Option<([f64; 3], f64)> = None;
    for mask in (0..8u8).rev() {
        let mut gx = [[0f64; 3]; 3];
        let mut gy = [0f64; 3];
        for i in 0..3 {
            if mask & (1 << i) == 0 {
                continue;
            }
            gy[i] = xy[i];
            for j in 0..3 {
                if mask & (1 << j) != 0 {
                    gx[i][j] = xx[i][j];
                }
            }
        }
        let b = solve_small(&gx, &gy, 3);
        if (0..3).any(|i| nonneg[i] && b[i] < 0.0) {
            continue;
        }
        let fit: f64 = (0..3).map(|i| b[i] * gy[i]).sum();
        if best.is_none_or(|(_, f)| fit > f) {
            best = Some((b, fit));
        }
    }
    best.map(|b| b.0).unwrap_or([0.0; 3])
}

#[cfg(test)]
mod tests {
    #[test]
    fn nonneg_solver_drops_a_negative_coefficient() {
        // y = x0 - 0.5 x1 with orthonormal regressors: with x1 >= 0 the fit keeps only x0.
        let xx = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        let b = solve_nonneg(&xx, &[1.0, -0.5, 0.0], [false, true, true]);
        assert!((b[0] - 1.0).abs() < 1e-5 && b[1] == 0.0 && b[2] == 0.0, "{b:?}");
    }

    use super::*;

    #[test]
    fn small_solver_recovers_coefficients_and_skips_empty_columns() {
        // y = 2 x0 - x1 with orthogonal regressors of norm 1.
        let xx = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]];
        let b = solve_small(&xx, &[2.0, -1.0, 0.0], 3);
        assert!((b[0] - 2.0).abs() < 1e-5 && (b[1] + 1.0).abs() < 1e-5 && b[2] == 0.0);
    }

    #[test]
    fn sums_merge_and_mean() {
        let mut a = StationRefs::empty(4);
        a.add(1, &[1.0, 2.0], 1.0);
        let mut b = StationRefs::empty(4);
        b.add(1, &[3.0, 4.0], 1.0);
        a.merge(b);
        a.finish(&[0..2]);
        assert_eq!(a.mean(1).unwrap(), vec![2.0, 3.0]);
        assert!(a.mean(0).is_none());
        assert_eq!(a.gram(1, 1), 16.0 + 36.0);
        assert_eq!(a.block_gram(0, 1, 1), 16.0 + 36.0);
    }

    #[test]
    fn time_blocks_are_ten_of_at_least_six_hours_and_cover_the_read() {
        let b = time_blocks(1440);
        assert_eq!(b.len(), 10);
        assert!(b.iter().all(|r| r.len() == 144));
        let b = time_blocks(432);
        assert_eq!(b.len(), 10);
        assert!(b.iter().all(|r| r.len() >= 43));
        let b = time_blocks(100);
        assert_eq!((b.len(), b.last().unwrap().end), (2, 100));
        assert_eq!(time_blocks(0).len(), 0);
    }
}

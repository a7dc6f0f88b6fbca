//! Clock check of a meter: one whose clock stamps the interval start instead of its
//! end (or ten minutes late) has 10-minute changes that line up with its station's
//! references one step off.

use super::engine::{Channels, Engine, Meter};
use super::prep;
use super::refs::StationRefs;
use rayon::prelude::*;

/// Per station: first differences of a reference and their sum of squares.
pub(super) type LagRefs = Vec<(Vec<f32>, f64)>;

impl Engine<'_> {
    /// Clock check: do the meter's 10-minute changes line up with its station's
    /// references one step later or earlier than stamped?
    pub(super) fn detect_lag(&self, m: &Meter, ch: &Channels, lag_refs: &[LagRefs]) -> i32 {
        let Some(&f) = m.cands.first() else { return 0 };
        let rs = &lag_refs[self.station_of(f)];
        if rs.is_empty() {
            return 0;
        }
        let mut score = [0f64; 3];
        let mut used = 0;
        for (c, y) in ch.ys.iter().enumerate() {
            if !ch.usable[c] {
                continue;
            }
            used += 1;
            let dy = prep::diffs(y);
            let dy_dy = prep::diff_self(&dy);
            let mut best = [f64::MIN; 3];
            for (dr, dr_dr) in rs {
                let v = prep::diff_corrs(&dy, dr, *dr_dr, &dy_dy);
                for li in 0..3 {
                    best[li] = best[li].max(v[li]);
                }
            }
            for li in 0..3 {
                score[li] += best[li];
            }
        }
        if used == 0 {
            return 0;
        }
        let s: Vec<f64> = score.iter().map(|v| v / used as f64).collect();
        let (best, bv) = s.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, v)| (i, *v)).unwrap();
        if best != 1 && bv > 0.25 && bv > s[1] + self.opts.clock_shift_margin { [-1, 0, 1][best] } else { 0 }
    }

    /// First differences of each station's common-mode and transformer-phase
    /// references (their means), with their sums of squares, for the clock check.
    pub(super) fn lag_refs(&self, refs: &[StationRefs]) -> Vec<LagRefs> {
        refs.par_iter()
            .map(|st| {
                (0..4.min(st.len()))
                    .filter_map(|r| st.mean(r))
                    .map(|r| {
                        let d = prep::diffs(&r);
                        let n = prep::diff_norm(&d);
                        (d, n)
                    })
                    .collect()
            })
            .collect()
    }
}

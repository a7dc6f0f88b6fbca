//! The inference engine: scores every meter against the phase references of
//! each candidate feeder and turns the fits into a joint posterior over
//! (feeder, phase) or (feeder, rotation). References are re-estimated from the
//! posteriors a few times (soft EM), starting from the GIS registration.
//!
//! Model for one channel `y` (preprocessed voltage) on candidate feeder `f`
//! of station `s` and grid phase `p`:
//!   y = a C_s + b S_sp + c F_fp + e
//! `C_s` is the station's common mode (MV-side variation, shared PV swings),
//! given a free gain so a meter far out on a feeder is not penalised for
//! swinging more; `S_sp` carries the transformer's phase `p` (common to all
//! feeders of the station); `F_fp` the cable drop of feeder `f` on phase `p`.
//! References never contain the scored meter itself (leave-one-out), so a
//! meter cannot vote for its own registration.

use super::AnalysisOptions;
use super::candidates::NetworkIndex;
use super::prep::{self, ChannelStats, dot};
use super::refs::{self, Contribution, StationRefs};
use crate::model::{Network, Phase, Rotation, VoltageTable};
use crate::progress::{Cancelled, Progress};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A connection that has voltage data, as the engine sees it.
#[derive(Clone, Debug)]
pub struct Meter {
    pub conn: usize,
    /// (series index in the voltage table, terminal label).
    pub channels: Vec<(usize, Phase)>,
    /// Candidate feeders, GIS feeder first when known.
    pub cands: Vec<usize>,
    /// Distance from the connection to each candidate's nearest cable (m).
    pub cand_dist: Vec<f64>,
    pub gis_feeder: Option<usize>,
    /// GIS phase of a single-phase registration.
    pub gis_phase: Option<Phase>,
    /// Phase the clustering gives a meter whose phase the GIS does not know: it seeds the
    /// references, never the prior ([`super::cluster`]).
    pub seed_phase: Option<Phase>,
    /// How the seeded phase's group was named (`None`: not filled in).
    pub fill: Option<super::cluster::PhaseFill>,
    /// Clock correction in steps (1: the meter stamps interval start).
    pub shift: i32,
    /// Previous iteration's shares in the references.
    pub contribs: Vec<Contribution>,
    /// Weight of the meter in its station's phase references `S_p`, from its distance
    /// to the station along the GIS cables (see [`super::meters::busbar_weight`]).
    pub s_weight: f32,
}

impl Meter {
    /// Hypotheses per feeder: 3 phases for one channel, 6 rotations for more.
    pub fn hypotheses(&self) -> usize {
        if self.channels.len() > 1 { 6 } else { 3 }
    }
    /// Grid phase of channel `c` under hypothesis `k`.
    pub fn phase_of(&self, c: usize, k: usize) -> usize {
        if self.channels.len() > 1 { Rotation::all()[k].grid_phase(self.channels[c].1).index() } else { k }
    }
}

/// What the engine found for one meter.
#[derive(Clone, Debug, Default)]
pub struct MeterResult {
    /// Joint posterior, `cands.len() x hypotheses`, row-major.
    pub posterior: Vec<f64>,
    pub hypotheses: usize,
    /// Partial correlation of each channel with the references of each grid phase,
    /// on the MAP feeder (per grid phase: best channel for three-phase meters).
    pub phase_corr: [f64; 3],
    pub points_used: usize,
    pub stats: Vec<ChannelStats>,
    /// `None`: the meter could be scored. `Some(reason)`: it could not.
    pub unusable: Option<String>,
    pub n_eff: f64,
    /// Effective independent points per channel.
    pub n_eff_channels: Vec<f64>,
    /// Per candidate feeder and grid phase: the weight (meters, scored one left out) of
    /// the references phase p was judged against; infinite with the busbar references,
    /// 0 when p had none of its own. A phase without one only gets the common-mode fit,
    /// so it always loses to a phase that has one, whatever the truth.
    pub phase_ref_weight: Vec<[f64; 3]>,
    /// Per hypothesis (as `posterior`): the log-odds that the most likely hypothesis is
    /// better than it, from how steadily its advantage shows day by day
    /// ([`super::replicate`]); 0 for the most likely one. Empty: no check was made.
    pub replicated_log_odds: Vec<f64>,
}

pub struct Engine<'a> {
    pub net: &'a Network,
    pub voltage: &'a VoltageTable,
    pub opts: &'a AnalysisOptions,
    pub index: &'a NetworkIndex,
    /// Local index of each feeder within its station.
    pub feeder_local: Vec<usize>,
    pub sqrt_w: Vec<f32>,
    /// Rounding of each voltage series (does not change with the clock shift).
    resolution: Vec<f32>,
    /// Prewhitening of every series of this read: one value for all, because the
    /// references are sums of the meters' transformed series.
    whiten_rho: f32,
    /// Time blocks (days) of the replication check.
    blocks: Vec<std::ops::Range<usize>>,
}

/// A meter's preprocessed channels (see [`Engine::transform`]).
pub(super) struct Channels {
    pub(super) ys: Vec<Vec<f32>>,
    pub(super) sigma: Vec<f64>,
    pub(super) stats: Vec<ChannelStats>,
    pub(super) usable: Vec<bool>,
}

impl<'a> Engine<'a> {
    pub fn new(net: &'a Network, voltage: &'a VoltageTable, opts: &'a AnalysisOptions, index: &'a NetworkIndex) -> Self {
        let mut feeder_local = vec![0; index.feeders.len()];
        for fs in &index.station_feeders {
            for (l, &f) in fs.iter().enumerate() {
                feeder_local[f] = l;
            }
        }
        let sqrt_w = (0..voltage.grid.len).map(|k| opts.time_weight(voltage.grid.time(k)).sqrt() as f32).collect();
        let resolution: Vec<f32> =
            (0..voltage.keys.len()).into_par_iter().map(|i| prep::detect_resolution(voltage.series(i))).collect();
        let whiten_rho = if prep::mostly_coarse(&resolution) { 0.0 } else { opts.prewhiten_rho as f32 };
        let blocks = super::refs::time_blocks(voltage.grid.len);
        Engine { net, voltage, opts, index, feeder_local, sqrt_w, resolution, whiten_rho, blocks }
    }

    pub(super) fn station_of(&self, f: usize) -> usize {
        self.index.feeders[f].station
    }

    fn transform(&self, m: &Meter) -> Channels {
        let n = self.voltage.grid.len;
        let mut ch = Channels { ys: Vec::new(), sigma: Vec::new(), stats: Vec::new(), usable: Vec::new() };
        for &(si, _) in &m.channels {
            let mut y = vec![0f32; n];
            let st = prep::clean_with_resolution(self.voltage.series(si), m.shift, &mut y, self.resolution[si]);
            let mut ok = st.valid >= self.opts.min_points;
            if ok {
                prep::detrend_and_weight(&mut y, self.opts.highpass_steps, &self.sqrt_w);
                prep::prewhiten(&mut y, self.whiten_rho);
            }
            let yy = dot(&y, &y);
            let sigma = (yy / n as f64).sqrt();
            if sigma < 1e-4 {
                ok = false;
            }
            ch.ys.push(y);
            ch.sigma.push(sigma.max(1e-4));
            ch.stats.push(st);
            ch.usable.push(ok);
        }
        ch
    }

    /// Standardised usable channels (`None`: unusable).
    pub fn standardised(&self, m: &Meter) -> Vec<Option<Vec<f32>>> {
        let ch = self.transform(m);
        ch.ys
            .into_iter()
            .enumerate()
            .map(|(c, y)| {
                ch.usable[c].then(|| {
                    let inv = (1.0 / ch.sigma[c]) as f32;
                    y.into_iter().map(|v| v * inv).collect()
                })
            })
            .collect()
    }

    /// Initial shares from the GIS registration (three-phase channels only in `C`).
    pub fn gis_contribs(&self, m: &Meter) -> Vec<Contribution> {
        let Some(f) = super::cluster::home_feeder(m) else { return Vec::new() };
        let s = self.station_of(f) as u32;
        let mut out = Vec::new();
        for c in 0..m.channels.len() {
            out.push(Contribution { station: s, reference: refs::C as u16, channel: c as u8, weight: 1.0 });
        }
        if let (Some(p), 1) = (m.gis_phase.or(m.seed_phase), m.channels.len()) {
            let lf = self.feeder_local[f];
            out.push(Contribution { station: s, reference: refs::s_idx(p.index()) as u16, channel: 0, weight: m.s_weight });
            out.push(Contribution { station: s, reference: refs::f_idx(lf, p.index()) as u16, channel: 0, weight: 1.0 });
        }
        out
    }

    /// Builds references from the meters' current shares.
    pub fn build_refs(&self, buckets: &[Vec<Meter>]) -> Vec<StationRefs> {
        let parts = buckets
            .par_iter()
            .map(|bucket| {
                let mut acc: HashMap<usize, StationRefs> = HashMap::new();
                for m in bucket {
                    self.accumulate(m, &self.transform(m), &mut acc);
                }
                acc
            })
            .collect();
        self.merge_refs(parts)
    }

    /// Sums the per-bucket partial references into one [`StationRefs`] per station.
    fn merge_refs(&self, parts: Vec<HashMap<usize, StationRefs>>) -> Vec<StationRefs> {
        let n_st = self.net.stations.len();
        let mut out: Vec<StationRefs> =
            (0..n_st).map(|s| StationRefs::empty(refs::ref_count(self.index.station_feeders[s].len()))).collect();
        let mut filled = vec![false; n_st];
        for part in parts {
            for (s, r) in part {
                if filled[s] {
                    out[s].merge(r);
                } else {
                    out[s] = r;
                    filled[s] = true;
                }
            }
        }
        out.par_iter_mut().for_each(|r| r.finish(&self.blocks));
        out
    }

    fn accumulate(&self, m: &Meter, ch: &Channels, acc: &mut HashMap<usize, StationRefs>) {
        // Standardised channels, made once per channel (a meter has several shares).
        let mut zs: [Option<Vec<f32>>; 3] = [None, None, None];
        for c in &m.contribs {
            let ci = c.channel as usize;
            if !ch.usable[ci] {
                continue;
            }
            let s = c.station as usize;
            let r = acc.entry(s).or_insert_with(|| StationRefs::empty(refs::ref_count(self.index.station_feeders[s].len())));
            let z = zs[ci].get_or_insert_with(|| {
                let inv = (1.0 / ch.sigma[ci]) as f32;
                ch.ys[ci].iter().map(|v| v * inv).collect()
            });
            r.add(c.reference as usize, z, c.weight);
        }
    }

    /// One EM pass: scores every meter against `refs` and returns its result, its new
    /// shares and (with `detect_shift`) an updated clock correction. With `next_refs`
    /// it also returns the references built from the new shares (what
    /// [`Engine::build_refs`] would give after the pass, without preprocessing every
    /// channel once more).
    #[allow(clippy::too_many_arguments)]
    pub fn pass(
        &self,
        buckets: &mut [Vec<Meter>],
        refs: &[StationRefs],
        detect_shift: bool,
        next_refs: bool,
        progress: &dyn Progress,
        stage: &str,
        done: &AtomicUsize,
        total: usize,
    ) -> Result<(Vec<Vec<MeterResult>>, Option<Vec<StationRefs>>), Cancelled> {
        let lag_refs = if detect_shift { self.lag_refs(refs) } else { Vec::new() };
        let out: Vec<Option<(Vec<MeterResult>, HashMap<usize, StationRefs>)>> = buckets
            .par_iter_mut()
            .map(|bucket| {
                if progress.is_cancelled() {
                    return None;
                }
                let mut res = Vec::with_capacity(bucket.len());
                let mut acc: HashMap<usize, StationRefs> = HashMap::new();
                for m in bucket.iter_mut() {
                    let mut ch = self.transform(m);
                    if detect_shift {
                        let lag = self.detect_lag(m, &ch, &lag_refs);
                        if lag != 0 {
                            m.shift = lag;
                            ch = self.transform(m);
                        }
                    }
                    let r = self.score(m, &ch, refs);
                    m.contribs = self.contribs_from(m, &r);
                    if next_refs {
                        self.accumulate(m, &ch, &mut acc);
                    }
                    res.push(r);
                }
                let d = done.fetch_add(bucket.len(), Ordering::Relaxed) + bucket.len();
                progress.set(d as f32 / total.max(1) as f32, stage);
                Some((res, acc))
            })
            .collect();
        let mut results = Vec::with_capacity(out.len());
        let mut parts = Vec::with_capacity(out.len());
        for o in out {
            let (r, a) = o.ok_or(Cancelled)?;
            results.push(r);
            parts.push(a);
        }
        Ok((results, next_refs.then(|| self.merge_refs(parts))))
    }

    fn score(&self, m: &Meter, ch: &Channels, refs: &[StationRefs]) -> MeterResult {
        let n = self.voltage.grid.len as f64;
        let nc = m.channels.len();
        let k_h = m.hypotheses();
        let mut res = MeterResult { hypotheses: k_h, stats: ch.stats.clone(), ..Default::default() };
        res.points_used = ch.stats.iter().zip(&ch.usable).filter(|(_, u)| **u).map(|(s, _)| s.valid).max().unwrap_or(0);
        if m.cands.is_empty() {
            res.unusable =
                Some(format!("no cable of any feeder within {:.0} m and no valid GIS feeder", self.opts.search_radius_m));
            return res;
        }
        if !ch.usable.iter().any(|u| *u) {
            let st = ch.stats.iter().map(|s| s.valid).max().unwrap_or(0);
            res.unusable = Some(if st == 0 {
                "no plausible voltage readings".to_string()
            } else if st < self.opts.min_points {
                format!("only {st} valid 10-minute points (at least {} needed)", self.opts.min_points)
            } else {
                "voltage does not vary (frozen meter?)".to_string()
            });
            return res;
        }
        // Own channel Gram, in total and per time block.
        let nb = self.blocks.len();
        let mut gy = [[0f64; 3]; 3];
        let mut gy_b = vec![[[0f64; 3]; 3]; nb];
        for a in 0..nc {
            for b in a..nc {
                for (bi, blk) in self.blocks.iter().enumerate() {
                    let g = dot(&ch.ys[a][blk.clone()], &ch.ys[b][blk.clone()]);
                    gy_b[bi][a][b] = g;
                    gy_b[bi][b][a] = g;
                    gy[a][b] += g;
                }
                gy[b][a] = gy[a][b];
            }
        }
        let nf = m.cands.len();
        // rss[f][c][p], rss_c[f][c]
        let mut rss = vec![[[f64::NAN; 3]; 3]; nf];
        let mut rss_common = vec![[f64::NAN; 3]; nf];
        let mut ref_weight = vec![[0f64; 3]; nf];
        let mut fits: Vec<[[([f64; 3], [usize; 3]); 3]; 3]> = vec![[[([0.0; 3], [0; 3]); 3]; 3]; nf];
        // Residual sum of squares of each fit per time block, `[((fi * 3 + c) * 3 + p) * nb + b]`.
        let mut rss_blocks = vec![f64::NAN; nf * 9 * nb];
        // Group candidates by station.
        let mut stations: Vec<usize> = m.cands.iter().map(|&f| self.station_of(f)).collect();
        stations.sort_unstable();
        stations.dedup();
        for &s in &stations {
            let st = &refs[s];
            if st.gram.is_empty() {
                continue;
            }
            let feeders: Vec<(usize, usize)> = m
                .cands
                .iter()
                .enumerate()
                .filter(|(_, f)| self.station_of(**f) == s)
                .map(|(i, &f)| (i, self.feeder_local[f]))
                .collect();
            let mut needed: Vec<usize> = vec![refs::C, refs::s_idx(0), refs::s_idx(1), refs::s_idx(2)];
            for &(_, lf) in &feeders {
                needed.extend((0..3).map(|p| refs::f_idx(lf, p)));
            }
            // Own shares in this station's references, per reference and channel.
            let nr = st.len();
            let mut a = vec![[0f64; 3]; nr];
            for c in m.contribs.iter().filter(|c| c.station as usize == s) {
                a[c.reference as usize][c.channel as usize] += c.weight as f64;
            }
            let a_of = |r: usize| a[r];
            // d[r][c] = dot(U_r, y_c): the only O(T) work per reference (per block, summed).
            let mut d = vec![[0f64; 3]; nr];
            let mut d_b = vec![vec![[0f64; 3]; nr]; nb];
            for &r in &needed {
                if !st.sums[r].is_empty() {
                    for c in 0..nc {
                        for (bi, blk) in self.blocks.iter().enumerate() {
                            let v = dot(&st.sums[r][blk.clone()], &ch.ys[c][blk.clone()]);
                            d_b[bi][r][c] = v;
                            d[r][c] += v;
                        }
                    }
                }
            }
            let w_loo_v: Vec<f64> = (0..nr).map(|r| st.weights[r] - a[r].iter().sum::<f64>()).collect();
            let w_loo = |r: usize| w_loo_v[r];
            // A phase reference is used for all three phases or for none: with the busbar
            // weights a small station may have enough weight near the station on one phase
            // and not on another, and a fit with `S_p` on one phase only would favour it.
            let is_s = |r: usize| (refs::s_idx(0)..=refs::s_idx(2)).contains(&r);
            let enough = |r: usize| !st.sums[r].is_empty() && w_loo_v[r] >= self.opts.min_ref_weight;
            let all_s = (0..3).all(|p| enough(refs::s_idx(p)));
            let present_v: Vec<bool> = (0..nr).map(|r| if is_s(r) { all_s } else { enough(r) }).collect();
            let present = |r: usize| present_v[r];
            // dot(R'_r, y_c)
            let xy = |r: usize, c: usize| -> f64 {
                let ar = a_of(r);
                let own: f64 = (0..nc).map(|c2| ar[c2] * gy[c2][c] / ch.sigma[c2]).sum();
                (d[r][c] - own) / w_loo(r)
            };
            // dot(R'_r, R'_q)
            let xx = |r: usize, q: usize| -> f64 {
                let (ar, aq) = (a_of(r), a_of(q));
                let mut v = st.gram(r, q);
                for c2 in 0..nc {
                    v -= aq[c2] * d[r][c2] / ch.sigma[c2];
                    v -= ar[c2] * d[q][c2] / ch.sigma[c2];
                    for c3 in 0..nc {
                        v += ar[c2] * aq[c3] * gy[c2][c3] / (ch.sigma[c2] * ch.sigma[c3]);
                    }
                }
                v / (w_loo(r) * w_loo(q))
            };
            // The same two on time block `bi` (the leave-one-out algebra per block).
            let xy_b = |bi: usize, r: usize, c: usize| -> f64 {
                let ar = a_of(r);
                let own: f64 = (0..nc).map(|c2| ar[c2] * gy_b[bi][c2][c] / ch.sigma[c2]).sum();
                (d_b[bi][r][c] - own) / w_loo(r)
            };
            let xx_b = |bi: usize, r: usize, q: usize| -> f64 {
                let (ar, aq) = (a_of(r), a_of(q));
                let mut v = st.block_gram(bi, r, q);
                for c2 in 0..nc {
                    v -= aq[c2] * d_b[bi][r][c2] / ch.sigma[c2];
                    v -= ar[c2] * d_b[bi][q][c2] / ch.sigma[c2];
                    for c3 in 0..nc {
                        v += ar[c2] * aq[c3] * gy_b[bi][c2][c3] / (ch.sigma[c2] * ch.sigma[c3]);
                    }
                }
                v / (w_loo(r) * w_loo(q))
            };
            // What each grid phase is judged against on each feeder (the same for every channel).
            for &(fi, lf) in &feeders {
                for p in 0..3 {
                    ref_weight[fi][p] = if present(refs::s_idx(p)) {
                        f64::INFINITY
                    } else if present(refs::f_idx(lf, p)) {
                        w_loo(refs::f_idx(lf, p))
                    } else {
                        0.0
                    };
                }
            }
            for c in 0..nc {
                if !ch.usable[c] {
                    continue;
                }
                let yy = gy[c][c];
                let rss_c = if present(refs::C) {
                    let g = xx(refs::C, refs::C);
                    let b = xy(refs::C, c);
                    if g > 0.0 { yy - b * b / g } else { yy }
                } else {
                    yy
                };
                for &(fi, lf) in &feeders {
                    rss_common[fi][c] = rss_c;
                    for p in 0..3 {
                        let regs = [refs::C, refs::s_idx(p), refs::f_idx(lf, p)];
                        let mut gx = [[0f64; 3]; 3];
                        let mut gxy = [0f64; 3];
                        for i in 0..3 {
                            if !present(regs[i]) {
                                continue;
                            }
                            gxy[i] = xy(regs[i], c);
                            for j in i..3 {
                                if present(regs[j]) {
                                    gx[i][j] = xx(regs[i], regs[j]);
                                    gx[j][i] = gx[i][j];
                                }
                            }
                        }
                        let b = refs::solve_nonneg(&gx, &gxy, [false, true, true]);
                        let fit: f64 = (0..3).map(|i| b[i] * gxy[i]).sum();
                        rss[fi][c][p] = (yy - fit).max(yy * 1e-6).max(1e-12);
                        fits[fi][c][p] = (b, regs);
                        // The same coefficients' residual on each block.
                        for bi in 0..nb {
                            let yy_b = gy_b[bi][c][c];
                            let mut r_b = yy_b;
                            for i in 0..3 {
                                if b[i] == 0.0 || !present(regs[i]) {
                                    continue;
                                }
                                r_b -= 2.0 * b[i] * xy_b(bi, regs[i], c);
                                for j in 0..3 {
                                    if b[j] != 0.0 && present(regs[j]) {
                                        r_b += b[i] * b[j] * xx_b(bi, regs[i], regs[j]);
                                    }
                                }
                            }
                            rss_blocks[((fi * 3 + c) * 3 + p) * nb + bi] = r_b.max(yy_b * 1e-6).max(1e-12);
                        }
                    }
                }
            }
        }
        // Effective points per channel from the residual of its best fit (AR(1)).
        let mut n_eff = [0f64; 3];
        for c in 0..nc {
            if !ch.usable[c] {
                continue;
            }
            let mut best: Option<(usize, usize, f64)> = None;
            for fi in 0..nf {
                for p in 0..3 {
                    let v = rss[fi][c][p];
                    if v.is_finite() && best.is_none_or(|b| v < b.2) {
                        best = Some((fi, p, v));
                    }
                }
            }
            let Some((fi, p, _)) = best else { continue };
            let s = self.station_of(m.cands[fi]);
            let (b, regs) = fits[fi][c][p];
            let mut e = ch.ys[c].clone();
            for i in 0..3 {
                if b[i] == 0.0 {
                    continue;
                }
                let st = &refs[s];
                let r = regs[i];
                // e -= b_i R'_r with R'_r = (U_r - own share) / (W_r - own weight).
                let own: Vec<_> = m.contribs.iter().filter(|x| x.station as usize == s && x.reference as usize == r).collect();
                let w = st.weights[r] - own.iter().map(|cb| cb.weight as f64).sum::<f64>();
                let scale = (b[i] / w) as f32;
                for (ev, u) in e.iter_mut().zip(&st.sums[r]) {
                    *ev -= scale * u;
                }
                for cb in own {
                    let k = (b[i] / w * cb.weight as f64 / ch.sigma[cb.channel as usize]) as f32;
                    for (ev, y) in e.iter_mut().zip(&ch.ys[cb.channel as usize]) {
                        *ev += k * y;
                    }
                }
            }
            let rho = prep::lag1_autocorr(&e).max(0.0);
            let valid_share = ch.stats[c].valid as f64 / n;
            n_eff[c] = (n * valid_share * (1.0 - rho) / (1.0 + rho)).max(2.0);
        }
        res.n_eff = n_eff.iter().cloned().fold(0.0, f64::max);
        res.n_eff_channels = n_eff[..nc].to_vec();
        // Joint posterior over (feeder, hypothesis).
        let mut logp = vec![f64::NEG_INFINITY; nf * k_h];
        let priors_f = self.opts.feeder_priors(m.gis_feeder, &m.cands, &m.cand_dist);
        for fi in 0..nf {
            let prior_f = priors_f[fi];
            for k in 0..k_h {
                let prior_k = if k_h == 3 {
                    match m.gis_phase {
                        Some(g) if g.index() == k => self.opts.gis_phase_prior,
                        Some(_) => (1.0 - self.opts.gis_phase_prior) / 2.0,
                        None => 1.0 / 3.0,
                    }
                } else {
                    1.0 / 6.0
                };
                let mut ll = 0.0;
                let mut any = false;
                for c in 0..nc {
                    let v = rss[fi][c][m.phase_of(c, k)];
                    if ch.usable[c] && v.is_finite() {
                        ll += -0.5 * n_eff[c] * v.ln();
                        any = true;
                    }
                }
                if any {
                    logp[fi * k_h + k] = ll / self.opts.temperature + prior_f.ln() + prior_k.ln();
                }
            }
        }
        res.replicated_log_odds = self.replication(m, ch, &n_eff, &rss_blocks, &logp);
        let mx = logp.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        if !mx.is_finite() {
            res.unusable = Some("no reference of any candidate feeder has enough meters".into());
            return res;
        }
        let mut post: Vec<f64> = logp.iter().map(|l| (l - mx).exp()).collect();
        let tot: f64 = post.iter().sum();
        post.iter_mut().for_each(|p| *p /= tot);
        // Evidence: partial correlation with each grid phase on the MAP feeder.
        let (map_i, _) = post.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap();
        let fi = map_i / k_h;
        for p in 0..3 {
            let mut best = 0f64;
            for c in 0..nc {
                let (r, r0) = (rss[fi][c][p], rss_common[fi][c]);
                if ch.usable[c] && r.is_finite() && r0 > 0.0 {
                    best = best.max((1.0 - r / r0).max(0.0).sqrt());
                }
            }
            res.phase_corr[p] = best;
        }
        res.posterior = post;
        res.phase_ref_weight = ref_weight;
        res
    }

    /// Per hypothesis, the replication log-odds ([`super::replicate::log_odds_vs_best`])
    /// from the per-block residuals; hypotheses without a score (`logp` = -inf) get 0
    /// and are left out of the comparison.
    fn replication(&self, m: &Meter, ch: &Channels, n_eff: &[f64; 3], rss_blocks: &[f64], logp: &[f64]) -> Vec<f64> {
        let nb = self.blocks.len();
        let n = self.voltage.grid.len as f64;
        let k_h = m.hypotheses();
        let scored: Vec<usize> = (0..logp.len()).filter(|&i| logp[i].is_finite()).collect();
        if nb < 3 || scored.is_empty() {
            return Vec::new();
        }
        let ll: Vec<Vec<f64>> = scored
            .iter()
            .map(|&i| {
                let (fi, k) = (i / k_h, i % k_h);
                (0..nb)
                    .map(|bi| {
                        let share = self.blocks[bi].len() as f64 / n;
                        (0..m.channels.len())
                            .filter(|&c| ch.usable[c])
                            .map(|c| {
                                let v = rss_blocks[((fi * 3 + c) * 3 + m.phase_of(c, k)) * nb + bi];
                                if v.is_finite() { -0.5 * n_eff[c] * share * v.ln() } else { 0.0 }
                            })
                            .sum()
                    })
                    .collect()
            })
            .collect();
        let odds = super::replicate::log_odds_vs_best(&ll);
        let mut out = vec![0.0; logp.len()];
        for (j, &i) in scored.iter().enumerate() {
            out[i] = odds[j];
        }
        out
    }

    /// New shares from a posterior. The phase of each channel follows the posterior,
    /// but a meter only ever joins the references of its *GIS* feeder, and leaves them
    /// when the data say it is elsewhere: letting meters join the feeder they seem to
    /// be on makes a group of neighbours pull one another across (EM collapse).
    fn contribs_from(&self, m: &Meter, r: &MeterResult) -> Vec<Contribution> {
        if r.posterior.is_empty() {
            return m.contribs.clone();
        }
        let Some(g) = super::cluster::home_feeder(m) else { return Vec::new() };
        let Some(gi) = m.cands.iter().position(|&f| f == g) else { return Vec::new() };
        let k_h = r.hypotheses;
        let p_gis: f64 = r.posterior[gi * k_h..(gi + 1) * k_h].iter().sum();
        if p_gis < 0.5 {
            return Vec::new();
        }
        let nc = m.channels.len();
        let mut cw = [[0f64; 3]; 3];
        for fi in 0..m.cands.len() {
            for k in 0..k_h {
                let p_ = r.posterior[fi * k_h + k];
                for (c, row) in cw.iter_mut().enumerate().take(nc) {
                    row[m.phase_of(c, k)] += p_;
                }
            }
        }
        let s = self.station_of(g) as u32;
        let lf = self.feeder_local[g];
        let mut out = Vec::new();
        for (c, row) in cw.iter().enumerate().take(nc) {
            out.push(Contribution { station: s, reference: refs::C as u16, channel: c as u8, weight: 1.0 });
            for (p, &w) in row.iter().enumerate() {
                if w >= 0.02 {
                    let weight = w as f32;
                    out.push(Contribution {
                        station: s,
                        reference: refs::s_idx(p) as u16,
                        channel: c as u8,
                        weight: weight * m.s_weight,
                    });
                    out.push(Contribution { station: s, reference: refs::f_idx(lf, p) as u16, channel: c as u8, weight });
                }
            }
        }
        out
    }
}

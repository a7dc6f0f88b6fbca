//! Cable section within the inferred feeder. Geography gives the candidates
//! (sections within reach) and a prior (GIS registration, distance); the voltage
//! decides between them where it can: a meter on section `c` and phase `p`
//! follows the other meters on `c` and `p` more closely than those on a sibling
//! branch, because it shares their cable drop. Sections in series along one
//! street differ little, so there the prior (GIS) stays.

use super::AnalysisOptions;
use super::candidates::NetworkIndex;
use super::engine::{Engine, Meter, MeterResult};
use super::prep::dot;
use super::refs::{self, StationRefs};
use crate::model::{Network, Topology};
use crate::progress::{Cancelled, Progress};
use rayon::prelude::*;
use std::collections::HashMap;

/// MAP feeder and per-channel grid phase of a scored meter.
pub fn map_of(m: &Meter, r: &MeterResult) -> Option<(usize, Vec<usize>)> {
    if r.posterior.is_empty() {
        return None;
    }
    let k_h = r.hypotheses;
    let nf = m.cands.len();
    let pf: Vec<f64> = (0..nf).map(|i| r.posterior[i * k_h..(i + 1) * k_h].iter().sum()).collect();
    let pk: Vec<f64> = (0..k_h).map(|k| (0..nf).map(|i| r.posterior[i * k_h + k]).sum()).collect();
    let fi = (0..nf).max_by(|a, b| pf[*a].total_cmp(&pf[*b]))?;
    let k = (0..k_h).max_by(|a, b| pk[*a].total_cmp(&pk[*b]))?;
    Some((m.cands[fi], (0..m.channels.len()).map(|c| m.phase_of(c, k)).collect()))
}

/// Cable posterior per connection (`None`: not scored), best first.
#[allow(clippy::too_many_arguments)]
pub fn infer_cables(
    net: &Network,
    topo: &Topology,
    index: &NetworkIndex,
    opts: &AnalysisOptions,
    engine: &Engine,
    buckets: &[Vec<Meter>],
    results: &[Vec<MeterResult>],
    refs: &[StationRefs],
    progress: &dyn Progress,
) -> Result<Vec<Option<Vec<(usize, f64)>>>, Cancelled> {
    // Members per station of their MAP feeder.
    let mut members: Vec<Vec<(usize, usize, usize, Vec<usize>)>> = vec![Vec::new(); net.stations.len()];
    for (b, bucket) in buckets.iter().enumerate() {
        for (j, m) in bucket.iter().enumerate() {
            if let Some((f, phases)) = map_of(m, &results[b][j]) {
                members[index.feeders[f].station].push((b, j, f, phases));
            }
        }
    }
    let per_station: Vec<Option<Vec<(usize, Vec<(usize, f64)>)>>> = members
        .par_iter()
        .enumerate()
        .map(|(s, mem)| {
            if progress.is_cancelled() {
                return None;
            }
            Some(station_cables(net, topo, index, opts, engine, buckets, results, &refs[s], mem))
        })
        .collect();
    let mut out = vec![None; net.connections.len()];
    for st in per_station {
        for (conn, post) in st.ok_or(Cancelled)? {
            out[conn] = Some(post);
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn station_cables(
    net: &Network,
    topo: &Topology,
    index: &NetworkIndex,
    opts: &AnalysisOptions,
    engine: &Engine,
    buckets: &[Vec<Meter>],
    results: &[Vec<MeterResult>],
    st: &StationRefs,
    mem: &[(usize, usize, usize, Vec<usize>)],
) -> Vec<(usize, Vec<(usize, f64)>)> {
    // Geographic prior per member (best first).
    let prior: Vec<Vec<(usize, f64)>> =
        mem.iter().map(|(b, j, f, _)| index.cable_candidates(net, topo, buckets[*b][*j].conn, *f, opts)).collect();
    // Geography only (the default): the voltage work below would be thrown away.
    if opts.cable_voltage_temperature <= 0.0 {
        return mem.iter().zip(prior).map(|((b, j, _, _), p)| (buckets[*b][*j].conn, p)).collect();
    }
    // Standardised channels per member, and their sums per (cable, phase).
    let mut zs: Vec<Vec<Option<Vec<f32>>>> = Vec::with_capacity(mem.len());
    let mut local: HashMap<(usize, usize), (Vec<f32>, f64)> = HashMap::new();
    for ((b, j, _, phases), cands) in mem.iter().zip(&prior) {
        let ch = engine.standardised(&buckets[*b][*j]);
        if let Some(&(c0, _)) = cands.first() {
            for (c, z) in ch.iter().enumerate() {
                if let Some(z) = z {
                    let e = local.entry((c0, phases[c])).or_insert_with(|| (vec![0f32; z.len()], 0.0));
                    e.0.iter_mut().zip(z).for_each(|(a, v)| *a += v);
                    e.1 += 1.0;
                }
            }
        }
        zs.push(ch);
    }
    let mut out = Vec::with_capacity(mem.len());
    for (i, (b, j, f, phases)) in mem.iter().enumerate() {
        let m = &buckets[*b][*j];
        let r = &results[*b][*j];
        let cands: Vec<(usize, f64)> = prior[i].iter().copied().filter(|(_, p)| *p >= 1e-3).collect();
        if cands.len() < 2 {
            out.push((m.conn, prior[i].clone()));
            continue;
        }
        let own_cable = prior[i][0].0;
        let lf = engine.feeder_local[*f];
        let mut ll = vec![0f64; cands.len()];
        for (c, z) in zs[i].iter().enumerate() {
            let Some(z) = z else { continue };
            let p = phases[c];
            let (Some(sref), Some(fref)) = (st.mean(refs::s_idx(p)), st.mean(refs::f_idx(lf, p))) else { continue };
            let n_eff = r.n_eff_channels.get(c).copied().unwrap_or(r.n_eff);
            for (ci, &(cab, _)) in cands.iter().enumerate() {
                // Local reference of section `cab` on phase `p`, without this meter.
                let loc = local.get(&(cab, p)).and_then(|(sum, w)| {
                    let (mut v, mut w) = (sum.clone(), *w);
                    if cab == own_cable {
                        v.iter_mut().zip(z).for_each(|(a, x)| *a -= x);
                        w -= 1.0;
                    }
                    (w >= 1.0).then(|| v.into_iter().map(|a| a / w as f32).collect::<Vec<f32>>())
                });
                let rss = fit_rss(z, &[Some(&sref), Some(&fref), loc.as_deref()]);
                ll[ci] += -0.5 * n_eff * rss.ln() / opts.cable_voltage_temperature;
            }
        }
        let mx = ll.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let mut post: Vec<(usize, f64)> = cands.iter().zip(&ll).map(|(&(c, p), l)| (c, p * (l - mx).exp())).collect();
        let tot: f64 = post.iter().map(|x| x.1).sum();
        post.iter_mut().for_each(|x| x.1 /= tot);
        post.sort_by(|a, b| b.1.total_cmp(&a.1));
        out.push((m.conn, post));
    }
    out
}

/// Residual sum of squares of `y` regressed on the present regressors.
fn fit_rss(y: &[f32], xs: &[Option<&[f32]>; 3]) -> f64 {
    let yy = dot(y, y);
    let mut gx = [[0f64; 3]; 3];
    let mut gxy = [0f64; 3];
    for i in 0..3 {
        let Some(xi) = xs[i] else { continue };
        gxy[i] = dot(xi, y);
        for j in i..3 {
            if let Some(xj) = xs[j] {
                gx[i][j] = dot(xi, xj);
                gx[j][i] = gx[i][j];
            }
        }
    }
    let b = refs::solve_small(&gx, &gxy, 3);
    let fit: f64 = (0..3).map(|i| b[i] * gxy[i]).sum();
    (yy - fit).max(yy * 1e-6).max(1e-12)
}

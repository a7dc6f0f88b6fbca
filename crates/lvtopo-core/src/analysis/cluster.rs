//! Phase from scratch: where the GIS never registered the phase of single-phase
//! connections, the meters are grouped by voltage correlation and the groups named
//! L1/L2/L3 from whatever anchors exist. The groups only *seed* the engine's phase
//! references (`Meter::seed_phase`); the engine's leave-one-out fits then decide each
//! meter's phase as they do for registered ones, and [`name_fill_in`] states how sure
//! the naming of the group is.
//!
//! Per station:
//! 1. Every usable channel (single-phase meters, and each channel of three-phase meters)
//!    is preprocessed like the engine's (prewhitened, standardised), and the station's
//!    common mode (the mean of all channels: MV-side variation) is projected out.
//! 2. Per feeder, the channels are clustered into three groups with k-means (`linfa`)
//!    on their correlation embedding (row i = correlations of channel i with every
//!    channel of the feeder): channels on the same phase of one feeder share its
//!    phase conductor's drop, so their rows look alike.
//! 3. The feeders' groups are matched to three station groups: the same phase of two
//!    feeders shares the transformer's phase voltage, so each feeder's groups are
//!    permuted to correlate best with the groups gathered so far (largest feeder first).
//!    Channels of feeders too small to cluster join the group they correlate with most.
//! 4. Naming: each of the 6 ways to call the groups L1/L2/L3 gets a likelihood from the
//!    anchors: registered single-phase connections (right with `gis_phase_prior`) and
//!    three-phase meters, whose three channels are three groups in a known relation
//!    (the meter's rotation; wired L1L2L3 with `three_phase_identity_prior`). The
//!    posterior of the best naming is the naming confidence; with no anchor at all the
//!    groups stay unnamed ("group A/B/C").

use super::AnalysisOptions;
use super::InferredPhase;
use super::engine::{Engine, Meter};
use super::prep::dot;
use crate::model::{Connection, Phase, Rotation};
use linfa::DatasetBase;
use linfa::traits::{Fit, Predict};
use linfa_clustering::KMeans;
use ndarray::Array2;
use rayon::prelude::*;

/// How a filled-in phase's group was named.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhaseFill {
    /// `false`: no anchor named the station's groups; the seeded phase `Lk` stands for group k.
    pub named: bool,
    /// Posterior of the naming (1 when unnamed: the group itself is what is stated).
    pub naming_confidence: f64,
}

/// A feeder with fewer usable channels than this is not clustered on its own.
const MIN_FEEDER_CHANNELS: usize = 6;

/// One channel taking part in the clustering.
struct Item {
    /// Index of the meter in its bucket.
    meter: usize,
    /// Terminal of a three-phase meter; `None` for a single-phase meter.
    terminal: Option<Phase>,
    feeder: usize,
    z: Vec<f32>,
}

/// Seeds the phase of every single-phase meter whose phase the GIS does not know.
/// Returns the number of stations whose groups no anchor could name.
pub fn seed_phases(engine: &Engine, buckets: &mut [Vec<Meter>], opts: &AnalysisOptions) -> usize {
    buckets.par_iter_mut().map(|bucket| seed_bucket(engine, bucket, opts)).sum()
}

/// The feeder a meter's references belong to: its GIS feeder, else the one geometry proposes.
pub fn home_feeder(m: &Meter) -> Option<usize> {
    m.gis_feeder.or_else(|| m.cands.first().copied())
}

fn seed_bucket(engine: &Engine, bucket: &mut [Meter], opts: &AnalysisOptions) -> usize {
    if !bucket.iter().any(|m| m.channels.len() == 1 && m.gis_phase.is_none()) {
        return 0;
    }
    let mut items = Vec::new();
    for (j, m) in bucket.iter().enumerate() {
        let Some(f) = home_feeder(m) else { continue };
        let three = m.channels.len() > 1;
        for (c, z) in engine.standardised(m).into_iter().enumerate() {
            if let Some(z) = z {
                items.push(Item { meter: j, terminal: three.then_some(m.channels[c].1), feeder: f, z });
            }
        }
    }
    if items.len() < 3 {
        return 0;
    }
    remove_common_mode(&mut items);
    let group = station_groups(&items);
    let naming = name_groups(bucket, &items, &group, opts);
    let (perm, confidence, named) = match naming {
        Some((perm, conf)) => (perm, conf, true),
        None => ([Phase::L1, Phase::L2, Phase::L3], 1.0, false),
    };
    // A feeder whose own anchors name its groups otherwise, and surely, is named by them:
    // matching a feeder's groups to the station's by correlation can permute them.
    let mut feeders: Vec<usize> = items.iter().map(|i| i.feeder).collect();
    feeders.sort_unstable();
    feeders.dedup();
    let mut own: Vec<(usize, [Phase; 3], f64)> = Vec::new();
    for &f in &feeders {
        let idx: Vec<usize> = (0..items.len()).filter(|&i| items[i].feeder == f).collect();
        let sub: Vec<&Item> = idx.iter().map(|&i| &items[i]).collect();
        let sub_group: Vec<usize> = idx.iter().map(|&i| group[i]).collect();
        if let Some((p, c)) = name_groups_of(bucket, &sub, &sub_group, opts).filter(|x| x.1 >= opts.suggest_threshold) {
            own.push((f, p, c));
        }
    }
    for (it, &g) in items.iter().zip(&group) {
        let m = &mut bucket[it.meter];
        if it.terminal.is_none() && m.gis_phase.is_none() {
            let (p, named, conf) = match own.iter().find(|o| o.0 == it.feeder) {
                Some(o) if !named || o.1 != perm => (o.1, true, o.2),
                _ => (perm, named, confidence),
            };
            m.seed_phase = Some(p[g]);
            m.fill = Some(PhaseFill { named, naming_confidence: conf });
        }
    }
    // Three-phase meters whose phase the GIS does not know either: same naming confidence.
    for m in bucket.iter_mut().filter(|m| m.channels.len() > 1 && m.fill.is_none()) {
        m.fill = Some(PhaseFill { named, naming_confidence: confidence });
    }
    usize::from(!named)
}

/// Projects the station's common mode (mean of all channels) out of every channel and
/// scales each to unit norm, so that dot products are correlations.
fn remove_common_mode(items: &mut [Item]) {
    let n = items[0].z.len();
    let mut c = vec![0f32; n];
    for it in items.iter() {
        for (a, v) in c.iter_mut().zip(&it.z) {
            *a += v;
        }
    }
    let cc = dot(&c, &c);
    for it in items.iter_mut() {
        if cc > 0.0 {
            let k = (dot(&it.z, &c) / cc) as f32;
            for (v, a) in it.z.iter_mut().zip(&c) {
                *v -= k * a;
            }
        }
        let norm = dot(&it.z, &it.z).sqrt();
        if norm > 0.0 {
            let inv = (1.0 / norm) as f32;
            it.z.iter_mut().for_each(|v| *v *= inv);
        }
    }
}

/// Station group (0, 1, 2) of every item.
fn station_groups(items: &[Item]) -> Vec<usize> {
    let mut feeders: Vec<usize> = items.iter().map(|i| i.feeder).collect();
    feeders.sort_unstable();
    feeders.dedup();
    let members = |f: usize| -> Vec<usize> { (0..items.len()).filter(|&i| items[i].feeder == f).collect() };
    // Largest feeder first: it sets the station groups the others are matched to.
    let mut by_size: Vec<(usize, Vec<usize>)> = feeders.iter().map(|&f| (f, members(f))).collect();
    by_size.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    let n = items[0].z.len();
    let mut station: [Vec<f32>; 3] = [vec![0f32; n], vec![0f32; n], vec![0f32; n]];
    let mut group = vec![usize::MAX; items.len()];
    let mut small = Vec::new();
    for (_, idx) in &by_size {
        if idx.len() < MIN_FEEDER_CHANNELS {
            small.extend(idx.iter().copied());
            continue;
        }
        let labels = kmeans_on_correlation(items, idx);
        let sums: Vec<Vec<f32>> =
            (0..3).map(|g| sum_of(items, idx.iter().zip(&labels).filter(|x| *x.1 == g).map(|x| *x.0))).collect();
        let first = station.iter().all(|s| s.iter().all(|v| *v == 0.0));
        let perm = if first { [0, 1, 2] } else { best_permutation(&sums, &station) };
        for (&i, &l) in idx.iter().zip(&labels) {
            group[i] = perm[l];
        }
        for (l, s) in sums.iter().enumerate() {
            for (a, v) in station[perm[l]].iter_mut().zip(s) {
                *a += v;
            }
        }
    }
    // Channels of small feeders (or all of them, when no feeder is large enough): the
    // station group they correlate with most; with no groups yet, clustered together.
    if station.iter().all(|s| s.iter().all(|v| *v == 0.0)) {
        if small.len() >= 3 {
            let labels = kmeans_on_correlation(items, &small);
            for (&i, &l) in small.iter().zip(&labels) {
                group[i] = l;
            }
        } else {
            for (k, &i) in small.iter().enumerate() {
                group[i] = k % 3;
            }
        }
        return group;
    }
    for &i in &small {
        group[i] = (0..3).max_by(|&a, &b| dot(&items[i].z, &station[a]).total_cmp(&dot(&items[i].z, &station[b]))).unwrap_or(0);
    }
    group
}

fn sum_of(items: &[Item], idx: impl Iterator<Item = usize>) -> Vec<f32> {
    let mut s = vec![0f32; items[0].z.len()];
    for i in idx {
        for (a, v) in s.iter_mut().zip(&items[i].z) {
            *a += v;
        }
    }
    s
}

/// k-means (k = 3) on the correlation embedding of the given items: row i holds the
/// correlation of item i with each of them. Deterministic (linfa's seeded generator).
fn kmeans_on_correlation(items: &[Item], idx: &[usize]) -> Vec<usize> {
    let n = idx.len();
    let mut x = Array2::<f64>::zeros((n, n));
    for a in 0..n {
        for b in a..n {
            let r = dot(&items[idx[a]].z, &items[idx[b]].z);
            x[[a, b]] = r;
            x[[b, a]] = r;
        }
    }
    let data = DatasetBase::from(x.clone());
    match KMeans::params(3).n_runs(8).max_n_iterations(200).tolerance(1e-6).fit(&data) {
        Ok(model) => model.predict(&x).to_vec(),
        // k-means refuses degenerate input (fewer distinct rows than groups): one group.
        Err(_) => vec![0; n],
    }
}

/// The permutation (feeder group l -> station group perm[l]) with the largest summed
/// correlation between matched groups.
fn best_permutation(sums: &[Vec<f32>], station: &[Vec<f32>; 3]) -> [usize; 3] {
    let norm = |v: &[f32]| dot(v, v).sqrt().max(1e-12);
    let corr: Vec<[f64; 3]> = sums
        .iter()
        .map(|s| {
            let ns = norm(s);
            [0, 1, 2].map(|g| dot(s, &station[g]) / (ns * norm(&station[g])))
        })
        .collect();
    Rotation::all()
        .iter()
        .map(|r| [r.0[0].index(), r.0[1].index(), r.0[2].index()])
        .max_by(|a, b| {
            let score = |p: &[usize; 3]| (0..3).map(|l| corr[l][p[l]]).sum::<f64>();
            score(a).total_cmp(&score(b))
        })
        .expect("six permutations")
}

/// The naming (station group g -> grid phase perm[g]) with its posterior over the six
/// namings, from the anchors; `None` when there is no anchor.
fn name_groups(bucket: &[Meter], items: &[Item], group: &[usize], opts: &AnalysisOptions) -> Option<([Phase; 3], f64)> {
    let refs: Vec<&Item> = items.iter().collect();
    name_groups_of(bucket, &refs, group, opts)
}

fn name_groups_of(bucket: &[Meter], items: &[&Item], group: &[usize], opts: &AnalysisOptions) -> Option<([Phase; 3], f64)> {
    let perms: Vec<[Phase; 3]> = Rotation::all().iter().map(|r| r.0).collect();
    let mut loglik = vec![0f64; perms.len()];
    let mut anchors = 0usize;
    let q = opts.gis_phase_prior.clamp(0.34, 0.999);
    // Registered single-phase meters.
    for (it, &g) in items.iter().zip(group) {
        let Some(p) = bucket[it.meter].gis_phase.filter(|_| it.terminal.is_none()) else { continue };
        anchors += 1;
        for (k, perm) in perms.iter().enumerate() {
            loglik[k] += if perm[g] == p { q.ln() } else { ((1.0 - q) / 2.0).ln() };
        }
    }
    // Three-phase meters whose channels fell in three different groups.
    let qi = opts.three_phase_identity_prior.clamp(1.0 / 6.0, 0.999);
    let mut terminals: std::collections::BTreeMap<usize, [Option<usize>; 3]> = Default::default();
    for (it, &g) in items.iter().zip(group) {
        if let Some(t) = it.terminal {
            terminals.entry(it.meter).or_default()[t.index()] = Some(g);
        }
    }
    for tg in terminals.values() {
        let [Some(a), Some(b), Some(c)] = *tg else { continue };
        if a == b || b == c || a == c {
            continue;
        }
        anchors += 1;
        for (k, perm) in perms.iter().enumerate() {
            // Under this naming the meter's terminals sit on grid phases perm[a], perm[b], perm[c].
            let identity = perm[a] == Phase::L1 && perm[b] == Phase::L2 && perm[c] == Phase::L3;
            loglik[k] += if identity { qi.ln() } else { ((1.0 - qi) / 5.0).ln() };
        }
    }
    if anchors == 0 {
        return None;
    }
    let mx = loglik.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = loglik.iter().map(|l| (l - mx).exp()).collect();
    let tot: f64 = w.iter().sum();
    let (best, wb) = w.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).expect("six namings");
    Some((perms[best], wb / tot))
}

/// The phase the decision states for a meter whose phase was filled in: a named group's
/// phase with the naming's doubt folded into its confidence, or the unnamed group.
pub fn name_fill_in(m: &Meter, inferred: InferredPhase, confidence: f64) -> (InferredPhase, f64) {
    match (m.fill, inferred) {
        (Some(f), InferredPhase::Single(p)) if !f.named => (InferredPhase::Group(p.index() as u8), confidence),
        (Some(f), _) => (inferred, confidence * f.naming_confidence),
        (None, _) => (inferred, confidence),
    }
}

/// The values the GIS did not know and the inference fills in, as "field value" texts.
pub fn filled_values(conn: &Connection, feeder: &str, cable: Option<&str>, phase: InferredPhase) -> Vec<String> {
    let mut out = Vec::new();
    if conn.phase.is_none() {
        out.push(format!("phase {phase}"));
    }
    if conn.feeder_id.is_none() {
        out.push(format!("feeder {feeder}"));
    }
    if conn.cable_id.is_none()
        && let Some(c) = cable
    {
        out.push(format!("cable {c}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_permutation_matches_correlated_groups() {
        let a = vec![1.0f32, 0.0, 0.0, 0.5];
        let b = vec![0.0f32, 1.0, 0.0, -0.5];
        let c = vec![0.0f32, 0.0, 1.0, 0.0];
        let station = [a.clone(), b.clone(), c.clone()];
        // Feeder groups in the order c, a, b.
        assert_eq!(best_permutation(&[c, a, b], &station), [2, 0, 1]);
    }

    #[test]
    fn unnamed_groups_are_stated_as_groups() {
        let m = Meter {
            conn: 0,
            channels: vec![(0, Phase::L1)],
            cands: vec![0],
            cand_dist: vec![0.0],
            gis_feeder: Some(0),
            gis_phase: None,
            seed_phase: Some(Phase::L2),
            fill: Some(PhaseFill { named: false, naming_confidence: 1.0 }),
            shift: 0,
            contribs: Vec::new(),
            s_weight: 1.0,
        };
        assert_eq!(name_fill_in(&m, InferredPhase::Single(Phase::L2), 0.97), (InferredPhase::Group(1), 0.97));
        let named = Meter { fill: Some(PhaseFill { named: true, naming_confidence: 0.5 }), ..m };
        assert_eq!(name_fill_in(&named, InferredPhase::Single(Phase::L3), 0.9), (InferredPhase::Single(Phase::L3), 0.45));
    }
}

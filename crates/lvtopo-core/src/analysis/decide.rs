//! From posteriors to the row a GIS engineer sees: inferred values, their
//! confidence, and a status that only says `suggest_change` when the data
//! leave no reasonable doubt (a wrong suggestion costs trust; a missed one little).

use super::candidates::NetworkIndex;
use super::engine::{Meter, MeterResult};
use super::{AnalysisOptions, Assignment, Evidence, InferredPhase, Status};
use crate::model::{MeterKind, Network, Phase, PhaseConnection, Rotation, Topology};

/// A connection without any voltage series.
pub fn no_data(net: &Network, conn: usize) -> Assignment {
    let c = &net.connections[conn];
    let reason = if c.meter == MeterKind::Conventional {
        "conventional meter: no voltage data"
    } else {
        "no voltage series for this EAN in the read"
    };
    Assignment {
        connection: conn,
        inferred_feeder: None,
        feeder_confidence: 0.0,
        inferred_cable: None,
        cable_confidence: 0.0,
        inferred_phase: None,
        phase_confidence: 0.0,
        status: Status::InsufficientData,
        reason: Some(reason.into()),
        evidence: Evidence::default(),
    }
}

pub fn decide(
    net: &Network,
    topo: &Topology,
    index: &NetworkIndex,
    opts: &AnalysisOptions,
    m: &Meter,
    r: &MeterResult,
    cable_posterior: Option<&[(usize, f64)]>,
) -> Assignment {
    let conn = &net.connections[m.conn];
    let mut ev = Evidence { points_used: r.points_used, ..Default::default() };
    if m.shift != 0 {
        ev.notes.push(format!(
            "meter clock stamps interval {}: readings shifted {} min",
            if m.shift > 0 { "start" } else { "end + 10 min" },
            m.shift.abs() * 10
        ));
    }
    if let Some(res) = r.stats.iter().map(|s| s.resolution_v).find(|v| *v > 0.0) {
        ev.notes.push(format!("readings rounded to {res} V"));
    }
    let implausible: usize = r.stats.iter().map(|s| s.implausible).sum();
    if implausible > 0 {
        ev.notes.push(format!("{implausible} implausible reading(s) (outage or meter error) left out"));
    }
    if let Some(reason) = &r.unusable {
        return Assignment {
            connection: m.conn,
            inferred_feeder: None,
            feeder_confidence: 0.0,
            inferred_cable: None,
            cable_confidence: 0.0,
            inferred_phase: None,
            phase_confidence: 0.0,
            status: Status::InsufficientData,
            reason: Some(reason.clone()),
            evidence: ev,
        };
    }
    let k_h = r.hypotheses;
    let nf = m.cands.len();
    // The engine's posterior treats the fit residuals as independent Gaussian noise; the
    // model is simpler than the grid, so its margins are too sharp. Tempering
    // (p^(1/T), renormalised = softmax(log-likelihood / T)) with temperatures measured on
    // generated networks (`lvtopo bench accuracy`) turns it into a calibrated probability.
    // Only the likelihood is tempered, never the prior (GIS registration, geography).
    let prior_f = opts.feeder_priors(m.gis_feeder, &m.cands, &m.cand_dist);
    let prior: Vec<f64> = (0..nf * k_h)
        .map(|i| {
            let k = i % k_h;
            let pk = match (k_h, m.gis_phase) {
                (3, Some(g)) if g.index() == k => opts.gis_phase_prior,
                (3, Some(_)) => (1.0 - opts.gis_phase_prior) / 2.0,
                _ => 1.0 / k_h as f64,
            };
            prior_f[i / k_h] * pk
        })
        .collect();
    // Readings rounded to 1 V: the rounding noise is as large as the phase signal and,
    // with meter calibration errors, correlated between meters whose levels share the
    // same fraction of a volt; such evidence is worth less (own temperatures).
    let coarse = r.stats.iter().any(|s| s.resolution_v >= 0.5);
    let (t_feeder, t_phase) = if coarse {
        (opts.coarse_feeder_decision_temperature, opts.coarse_phase_decision_temperature)
    } else {
        (opts.feeder_decision_temperature, opts.phase_decision_temperature)
    };
    // Street evidence (neighbours' registrations, the street's cable) weighs on the feeder
    // like a second prior factor, within limits: it is not tempered.
    let street = index.feeder_street_evidence(net, m.conn, &m.cands, opts);
    let replication: &[f64] = if opts.replication_check { &r.replicated_log_odds } else { &[] };
    let post_f = {
        let t = cap_by_replication(&temper_likelihood(&r.posterior, &prior, t_feeder), &prior, replication);
        let w: Vec<f64> = t.iter().enumerate().map(|(i, p)| p * street[i / k_h]).collect();
        let tot: f64 = w.iter().sum();
        if tot > 0.0 { w.iter().map(|v| v / tot).collect::<Vec<f64>>() } else { t }
    };
    let post_k = cap_by_replication(&temper_likelihood(&r.posterior, &prior, t_phase), &prior, replication);
    let pf: Vec<f64> = (0..nf).map(|i| post_f[i * k_h..(i + 1) * k_h].iter().sum()).collect();
    let pf = if opts.feeder_identifiable_m > 0.0 {
        let prior_marginal: Vec<f64> = (0..nf).map(|i| prior_f[i] * street[i]).collect();
        let d = index.station_distances(net, topo, m.conn, &m.cands, opts.search_radius_m);
        shrink_near_station(&pf, &prior_marginal, &d, opts.feeder_identifiable_m)
    } else {
        pf
    };
    let pk: Vec<f64> = (0..k_h).map(|k| (0..nf).map(|i| post_k[i * k_h + k]).sum()).collect();
    let (fi, f_conf) = argmax(&pf);
    // A phase without a reference of its own on the feeder (no busbar references, no
    // meters on its feeder reference) only got the common-mode fit: the data could not
    // test it, so nothing speaks against it. It keeps the likelihood of the best tested
    // phase; the probability then says "untested" instead of 1.00 for another phase.
    let pk = if k_h == 3 { untested_phases_kept(&pk, r.phase_ref_weight.get(argmax(&pf).0), m.gis_phase, opts) } else { pk };
    let (k, k_conf) = argmax(&pk);
    let feeder = m.cands[fi];
    let mut order: Vec<usize> = (0..nf).collect();
    order.sort_by(|a, b| pf[*b].total_cmp(&pf[*a]));
    ev.feeder_scores = order.iter().map(|&i| (index.feeders[m.cands[i]].id.clone(), pf[i])).collect();
    ev.phase_correlation = r.phase_corr;

    let inferred_phase =
        if k_h == 6 { InferredPhase::Rotation(Rotation::all()[k]) } else { InferredPhase::Single(Phase::from_index(k)) };
    // A phase filled in from scratch: its group's name is only as sure as the anchors
    // that named it (`cluster`), and an unnamed group is reported as such.
    let (inferred_phase, k_conf) = super::cluster::name_fill_in(m, inferred_phase, k_conf);
    // Cable: prior from GIS and distance within the inferred feeder.
    // The cable step ran on the engine's most likely feeder; the tempered decision may
    // pick another one, and the cable must belong to the feeder reported with it.
    let on_feeder: Option<Vec<(usize, f64)>> = cable_posterior
        .map(|c| c.iter().copied().filter(|(ci, _)| index.cable_feeder[*ci] == Some(feeder)).collect::<Vec<_>>())
        .filter(|c| !c.is_empty());
    let mut cables = match on_feeder {
        Some(c) => {
            let total: f64 = c.iter().map(|x| x.1).sum();
            c.into_iter().map(|(ci, p)| (ci, if total > 0.0 { p / total } else { p })).collect()
        }
        None => index.cable_candidates(net, topo, m.conn, feeder, opts),
    };
    // Only the geometry is tempered, never the GIS registration's prior odds (the same
    // rule as for feeder and phase): tempering the whole posterior shrank the registration
    // from 9:1 to 2:1 and let an uncertain geometry overrule a right registration.
    let gis_odds = opts.gis_cable_prior / (1.0 - opts.gis_cable_prior).max(1e-9);
    let cable_prior: Vec<f64> = cables
        .iter()
        .map(|(ci, _)| if Some(net.cables[*ci].id.as_str()) == conn.cable_id.as_deref() { gis_odds } else { 1.0 })
        .collect();
    let tempered =
        temper_likelihood(&cables.iter().map(|c| c.1).collect::<Vec<_>>(), &cable_prior, opts.cable_decision_temperature);
    for (c, p) in cables.iter_mut().zip(tempered) {
        c.1 = p;
    }
    cables.sort_by(|a, b| b.1.total_cmp(&a.1));
    ev.cable_scores = cables.iter().map(|(ci, p)| (net.cables[*ci].id.clone(), p * f_conf)).collect();
    let (cable, c_prob) = cables.first().copied().unwrap_or((usize::MAX, 0.0));
    let cable_id = (cable != usize::MAX).then(|| net.cables[cable].id.clone());
    let cable_conf = c_prob * f_conf;

    // A value the GIS does not know is filled in, not changed.
    let feeder_changed = m.gis_feeder.is_some() && m.gis_feeder != Some(feeder);
    let cable_changed = conn.cable_id.is_some() && cable_id.as_deref() != conn.cable_id.as_deref();
    let mut filled = super::cluster::filled_values(conn, &index.feeders[feeder].id, cable_id.as_deref(), inferred_phase);
    filled.iter_mut().for_each(|f| {
        let p = if f.starts_with("phase") {
            k_conf
        } else if f.starts_with("feeder") {
            f_conf
        } else {
            cable_conf
        };
        f.push_str(&format!(" (p={p:.2})"));
    });
    let mut confident = Vec::new();
    let mut doubtful = Vec::new();
    let mut weak = Vec::new();
    match (conn.phase, inferred_phase) {
        (None, _) | (_, InferredPhase::Group(_)) => {}
        (Some(PhaseConnection::Single(g)), InferredPhase::Single(p)) => {
            // Weight of the references each phase was judged against on this feeder (0: the
            // phase had none of its own, so the data never tested it).
            let ref_weight = |q: Phase| r.phase_ref_weight.get(fi).map_or(f64::INFINITY, |w| w[q.index()]);
            if g != p {
                if k_conf < opts.suggest_threshold {
                    doubtful.push(format!("phase: data point to {p} (p={k_conf:.2}) instead of {g}"));
                } else if ref_weight(g) <= 0.0 {
                    doubtful.push(format!(
                        "phase: data point to {p} (p={k_conf:.4}) instead of {g}, but {g} has no reference on {} (too few meters with data on it), so the registered phase could not be tested",
                        index.feeders[feeder].id
                    ));
                } else if ref_weight(p) < opts.phase_change_min_ref_weight {
                    doubtful.push(format!(
                        "phase: data point to {p} (p={k_conf:.4}) instead of {g}, but the {p} reference on {} rests on fewer than {} other meters and there is no busbar reference",
                        index.feeders[feeder].id, opts.phase_change_min_ref_weight
                    ));
                } else if f_conf < opts.phase_change_min_feeder_confidence {
                    doubtful.push(format!(
                        "phase: data point to {p} (p={k_conf:.4}) instead of {g}, but the feeder is uncertain (p={f_conf:.2}), and with it the references the phase was judged against"
                    ));
                } else {
                    confident.push(format!("phase {g} -> {p}"));
                }
            } else if ref_weight(g) <= 0.0 {
                weak.push(format!(
                    "phase {g} could not be tested: it has no reference on {} (too few meters with data on it) and there is no busbar reference",
                    index.feeders[feeder].id
                ));
            } else if k_conf < opts.ok_threshold {
                weak.push(format!("phase {g} only weakly confirmed (p={k_conf:.2})"));
            }
        }
        (Some(PhaseConnection::Single(g)), InferredPhase::Rotation(rot)) => {
            ev.notes.push("registered single-phase, but the meter reports three phases".into());
            if k_conf >= opts.ok_threshold {
                confident.push(format!("phase {g} -> three-phase {rot}"));
            } else {
                doubtful.push("three-phase meter registered single-phase; rotation ambiguous".into());
            }
        }
        (Some(PhaseConnection::Three), InferredPhase::Single(_)) => {
            doubtful.push("registered three-phase, but the meter reports one channel".into());
        }
        (Some(PhaseConnection::Three), InferredPhase::Rotation(rot)) => {
            if k_conf < opts.ok_threshold {
                weak.push(format!("rotation ambiguous (best {rot}, p={k_conf:.2})"));
            }
        }
    }
    let mut feeder_change_confident = false;
    if feeder_changed {
        let gis = conn.feeder_id.as_deref().unwrap_or("(none)");
        let to = &index.feeders[feeder].id;
        // Close to the station every feeder carries almost the busbar voltage: there the
        // feeders' own drops are small next to the house's own load, whatever the
        // posterior says.
        let near_station_m = opts.feeder_min_station_distance_m;
        let near = |d: Option<f64>| d.is_some_and(|d| d < near_station_m);
        let d_gis = topo.attachments.get(m.conn).copied().flatten().and_then(|a| a.station_distance_m);
        let d_new = (cable != usize::MAX).then(|| topo.attach(net, cable, &conn.pos).station_distance_m).flatten();
        // There the street must agree: the neighbours' registrations and the street's cable
        // point to the new feeder clearly more than to the registered one.
        let gis_street = m.gis_feeder.and_then(|g| m.cands.iter().position(|&f| f == g)).map_or(0.0, |i| street[i]);
        let street_agrees = opts.near_station_street_ratio > 0.0 && street[fi] >= opts.near_station_street_ratio * gis_street;
        if near(d_gis) && near(d_new) && !street_agrees {
            doubtful.push(format!(
                "feeder: data point to {to} (p={f_conf:.2}) instead of {gis}, but the connection is within {near_station_m:.0} m of the station on both, where feeders are hard to tell apart, and its street and neighbours do not point to {to}"
            ));
        } else if f_conf >= opts.suggest_threshold {
            confident.push(format!("feeder {gis} -> {to}"));
            feeder_change_confident = true;
        } else {
            doubtful.push(format!("feeder: data point to {to} (p={f_conf:.2}) instead of {gis}"));
        }
    } else if f_conf < opts.ok_threshold {
        weak.push(format!("feeder only weakly confirmed (p={f_conf:.2})"));
    }
    // A feeder change moves the connection to a cable of the new feeder. The registered
    // section is then certainly wrong, so the replacement needs only
    // `new_feeder_cable_threshold` and is stated with its own confidence.
    if cable_changed {
        let to = cable_id.clone().unwrap_or_default();
        // The lower threshold trusts the street model's choice among the new feeder's
        // sections; a nearer section without any registration is a choice it cannot make.
        let relaxed = feeder_change_confident
            && cable != usize::MAX
            && !index.unregistered_section_nearer(net, m.conn, feeder, cable, opts.search_radius_m);
        let needed = if relaxed { opts.new_feeder_cable_threshold.min(opts.suggest_threshold) } else { opts.suggest_threshold };
        if cable_conf >= opts.suggest_threshold {
            confident.push(format!("cable {} -> {to}", conn.cable()));
        } else if cable_conf >= needed {
            confident.push(format!(
                "cable {} -> {to} (p={cable_conf:.3}: the most likely section of the new feeder; check it on the map)",
                conn.cable()
            ));
        } else {
            doubtful.push(format!("cable: {to} (p={cable_conf:.2}) instead of {}", conn.cable()));
        }
    }

    let (status, reason) = if !doubtful.is_empty() {
        (Status::InsufficientData, Some(format!("not certain enough to suggest a change: {}", doubtful.join("; "))))
    } else if !confident.is_empty() {
        confident.extend(filled);
        (Status::SuggestChange, Some(confident.join("; ")))
    } else if !filled.is_empty() {
        (Status::FillIn, Some(format!("filled in: {}", filled.join("; "))))
    } else if !weak.is_empty() {
        (Status::InsufficientData, Some(weak.join("; ")))
    } else {
        (Status::Ok, None)
    };
    Assignment {
        connection: m.conn,
        inferred_feeder: Some(index.feeders[feeder].id.clone()),
        // Summed posteriors can exceed 1 by a rounding ulp; the contract says [0, 1].
        feeder_confidence: f_conf.clamp(0.0, 1.0),
        inferred_cable: cable_id,
        cable_confidence: cable_conf.clamp(0.0, 1.0),
        inferred_phase: Some(inferred_phase),
        phase_confidence: k_conf.clamp(0.0, 1.0),
        status,
        reason,
        evidence: ev,
    }
}

/// Posterior with its likelihood tempered: `prior * (post / prior)^(1/t)`, renormalised.
pub fn temper_likelihood(post: &[f64], prior: &[f64], t: f64) -> Vec<f64> {
    if t.is_nan() || t <= 0.0 || (t - 1.0).abs() < 1e-12 || prior.len() != post.len() {
        return post.to_vec();
    }
    let w: Vec<f64> = post
        .iter()
        .zip(prior)
        .map(|(&p, &q)| if p > 0.0 && q > 0.0 { q.powf(1.0 - 1.0 / t) * p.powf(1.0 / t) } else { 0.0 })
        .collect();
    let tot: f64 = w.iter().sum();
    if tot > 0.0 { w.iter().map(|v| v / tot).collect() } else { post.to_vec() }
}

/// A posterior whose likelihood ratios against the most likely hypothesis are capped by
/// what the day-by-day replication supports (`log_odds[h]`, see
/// [`super::replicate`]): a hypothesis is never more than `e^log_odds[h]` times less
/// likely (by the data) than the best one. The prior is kept as it is.
pub fn cap_by_replication(post: &[f64], prior: &[f64], log_odds: &[f64]) -> Vec<f64> {
    if log_odds.len() != post.len() || prior.len() != post.len() {
        return post.to_vec();
    }
    // Log-likelihood of each hypothesis up to a constant; the best by the data is the one
    // the replication check compared against (log-odds 0).
    let ll: Vec<f64> =
        post.iter().zip(prior).map(|(&p, &q)| if p > 0.0 && q > 0.0 { p.ln() - q.ln() } else { f64::NEG_INFINITY }).collect();
    let Some(best) = (0..ll.len()).filter(|&i| log_odds[i] == 0.0 && ll[i].is_finite()).max_by(|&a, &b| ll[a].total_cmp(&ll[b]))
    else {
        return post.to_vec();
    };
    let w: Vec<f64> = (0..ll.len())
        .map(|i| {
            if !ll[i].is_finite() {
                return 0.0;
            }
            let rel = (ll[i] - ll[best]).max(-log_odds[i].max(0.0));
            prior[i] * rel.exp()
        })
        .collect();
    let tot: f64 = w.iter().sum();
    if tot > 0.0 { w.iter().map(|v| v / tot).collect() } else { post.to_vec() }
}

/// The feeder posterior with the voltage evidence between two feeders scaled by how far
/// from the station the connection would join them: a house that joins both within a
/// few metres of the busbar shares (almost) no cable with either feeder, so its voltage
/// cannot tell them apart, whatever the fit says (the fit with the other feeder's drop
/// reference then only picks up the common daily load shape). With `d` the larger of the
/// two distances, the log-likelihood ratio is multiplied by `min(1, d / length_m)`; the
/// prior (GIS, geography, street) is kept. Feeders of unknown distance keep full evidence.
pub fn shrink_near_station(pf: &[f64], prior: &[f64], dist: &[Option<f64>], length_m: f64) -> Vec<f64> {
    let n = pf.len();
    if n < 2 || prior.len() != n || dist.len() != n {
        return pf.to_vec();
    }
    let ll: Vec<f64> =
        (0..n).map(|i| if pf[i] > 0.0 && prior[i] > 0.0 { (pf[i] / prior[i]).ln() } else { f64::NEG_INFINITY }).collect();
    let Some(best) = (0..n).filter(|&i| ll[i].is_finite()).max_by(|&a, &b| ll[a].total_cmp(&ll[b])) else { return pf.to_vec() };
    let w: Vec<f64> = (0..n)
        .map(|i| {
            if !ll[i].is_finite() {
                return 0.0;
            }
            let alpha = match (dist[i], dist[best]) {
                (Some(a), Some(b)) => (a.max(b) / length_m).min(1.0),
                _ => 1.0,
            };
            prior[i] * (alpha * (ll[i] - ll[best])).exp()
        })
        .collect();
    let tot: f64 = w.iter().sum();
    if tot > 0.0 { w.iter().map(|v| v / tot).collect() } else { pf.to_vec() }
}

/// The phase posterior of a single-phase meter with every phase that had no reference
/// on the feeder (`ref_weight` 0) given the likelihood of the best phase that had one.
fn untested_phases_kept(pk: &[f64], ref_weight: Option<&[f64; 3]>, gis: Option<Phase>, opts: &AnalysisOptions) -> Vec<f64> {
    let Some(w) = ref_weight else { return pk.to_vec() };
    if pk.len() != 3 || w.iter().all(|&x| x > 0.0) || w.iter().all(|&x| x <= 0.0) {
        return pk.to_vec();
    }
    let prior = |q: usize| match gis {
        Some(g) if g.index() == q => opts.gis_phase_prior,
        Some(_) => (1.0 - opts.gis_phase_prior) / 2.0,
        None => 1.0 / 3.0,
    };
    // Best likelihood (posterior / prior) among the tested phases.
    let best = (0..3).filter(|&q| w[q] > 0.0).map(|q| pk[q] / prior(q)).fold(0.0, f64::max);
    let v: Vec<f64> = (0..3).map(|q| if w[q] > 0.0 { pk[q] } else { prior(q) * best }).collect();
    let tot: f64 = v.iter().sum();
    if tot > 0.0 { v.iter().map(|x| x / tot).collect() } else { pk.to_vec() }
}

/// `p^(1/t)` renormalised (t = 1: unchanged).
pub fn temper(p: &[f64], t: f64) -> Vec<f64> {
    if t.is_nan() || t <= 0.0 || (t - 1.0).abs() < 1e-12 {
        return p.to_vec();
    }
    let w: Vec<f64> = p.iter().map(|v| if *v > 0.0 { v.powf(1.0 / t) } else { 0.0 }).collect();
    let tot: f64 = w.iter().sum();
    if tot > 0.0 { w.iter().map(|v| v / tot).collect() } else { p.to_vec() }
}

fn argmax(v: &[f64]) -> (usize, f64) {
    v.iter().enumerate().fold((0, f64::NEG_INFINITY), |b, (i, &x)| if x > b.1 { (i, x) } else { b })
}

#[cfg(test)]
mod temper_tests {
    use super::*;

    #[test]
    fn tempering_the_likelihood_keeps_the_prior() {
        // Likelihood 4:1 against a 1:3 prior: posterior 4:3. At t = 2 the likelihood is 2:1.
        let prior = [0.25, 0.75];
        let post = [4.0 / 7.0, 3.0 / 7.0];
        let t = temper_likelihood(&post, &prior, 2.0);
        assert!((t[0] - 0.4).abs() < 1e-12 && (t[1] - 0.6).abs() < 1e-12, "{t:?}");
        assert_eq!(temper_likelihood(&post, &prior, 1.0), post.to_vec());
    }

    #[test]
    fn tempering_a_distribution_flattens_or_sharpens_it() {
        let p = [0.8, 0.2];
        let flat = temper(&p, 2.0);
        assert!((flat[0] - 2.0 / 3.0).abs() < 1e-12);
        let sharp = temper(&p, 0.5);
        assert!((sharp[0] - 16.0 / 17.0).abs() < 1e-12);
    }
}

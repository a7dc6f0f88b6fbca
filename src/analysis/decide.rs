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
    let pf: Vec<f64> = (0..nf).map(|i| r.posterior[i * k_h..(i + 1) * k_h].iter().sum()).collect();
    let pk: Vec<f64> = (0..k_h).map(|k| (0..nf).map(|i| r.posterior[i * k_h + k]).sum()).collect();
    let (fi, f_conf) = argmax(&pf);
    let (k, k_conf) = argmax(&pk);
    let feeder = m.cands[fi];
    let mut order: Vec<usize> = (0..nf).collect();
    order.sort_by(|a, b| pf[*b].total_cmp(&pf[*a]));
    ev.feeder_scores = order.iter().map(|&i| (index.feeders[m.cands[i]].id.clone(), pf[i])).collect();
    ev.phase_correlation = r.phase_corr;

    let inferred_phase =
        if k_h == 6 { InferredPhase::Rotation(Rotation::all()[k]) } else { InferredPhase::Single(Phase::from_index(k)) };
    // Cable: prior from GIS and distance within the inferred feeder.
    let cables = match cable_posterior {
        Some(c) if !c.is_empty() => c.to_vec(),
        _ => index.cable_candidates(net, topo, m.conn, feeder, opts.gis_cable_prior, opts.search_radius_m),
    };
    ev.cable_scores = cables.iter().map(|(ci, p)| (net.cables[*ci].id.clone(), p * f_conf)).collect();
    let (cable, c_prob) = cables.first().copied().unwrap_or((usize::MAX, 0.0));
    let cable_id = (cable != usize::MAX).then(|| net.cables[cable].id.clone());
    let cable_conf = c_prob * f_conf;

    let feeder_changed = m.gis_feeder != Some(feeder);
    let cable_changed = cable_id.as_deref() != Some(conn.cable_id.as_str());
    let mut confident = Vec::new();
    let mut doubtful = Vec::new();
    let mut weak = Vec::new();
    match (conn.phase, inferred_phase) {
        (PhaseConnection::Single(g), InferredPhase::Single(p)) => {
            if g != p {
                if k_conf >= opts.suggest_threshold {
                    confident.push(format!("phase {g} -> {p}"));
                } else {
                    doubtful.push(format!("phase: data point to {p} (p={k_conf:.2}) instead of {g}"));
                }
            } else if k_conf < opts.ok_threshold {
                weak.push(format!("phase {g} only weakly confirmed (p={k_conf:.2})"));
            }
        }
        (PhaseConnection::Single(g), InferredPhase::Rotation(rot)) => {
            ev.notes.push("registered single-phase, but the meter reports three phases".into());
            if k_conf >= opts.ok_threshold {
                confident.push(format!("phase {g} -> three-phase {rot}"));
            } else {
                doubtful.push("three-phase meter registered single-phase; rotation ambiguous".into());
            }
        }
        (PhaseConnection::Three, InferredPhase::Single(_)) => {
            doubtful.push("registered three-phase, but the meter reports one channel".into());
        }
        (PhaseConnection::Three, InferredPhase::Rotation(rot)) => {
            if k_conf < opts.ok_threshold {
                weak.push(format!("rotation ambiguous (best {rot}, p={k_conf:.2})"));
            }
        }
    }
    if feeder_changed {
        let gis = if conn.feeder_id.is_empty() { "(none)" } else { conn.feeder_id.as_str() };
        let to = &index.feeders[feeder].id;
        if f_conf >= opts.suggest_threshold {
            confident.push(format!("feeder {gis} -> {to}"));
        } else {
            doubtful.push(format!("feeder: data point to {to} (p={f_conf:.2}) instead of {gis}"));
        }
    } else if f_conf < opts.ok_threshold {
        weak.push(format!("feeder only weakly confirmed (p={f_conf:.2})"));
    }
    if cable_changed && !feeder_changed {
        let to = cable_id.clone().unwrap_or_default();
        if cable_conf >= opts.suggest_threshold {
            confident.push(format!("cable {} -> {to}", conn.cable_id));
        } else {
            doubtful.push(format!("cable: {to} (p={cable_conf:.2}) instead of {}", conn.cable_id));
        }
    }

    let (status, reason) = if !doubtful.is_empty() {
        (Status::InsufficientData, Some(format!("not certain enough to suggest a change: {}", doubtful.join("; "))))
    } else if !confident.is_empty() {
        (Status::SuggestChange, Some(confident.join("; ")))
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

fn argmax(v: &[f64]) -> (usize, f64) {
    v.iter().enumerate().fold((0, f64::NEG_INFINITY), |b, (i, &x)| if x > b.1 { (i, x) } else { b })
}

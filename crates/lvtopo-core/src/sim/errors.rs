//! GIS registration errors injected into the connections layer: wrong phase,
//! wrong feeder (a nearby section of another feeder), wrong section within the
//! right feeder. The truth stays in `truth.csv`; every error is listed in
//! `scenario.json`.

use super::SimConfig;
use super::layout::{StationLayout, point_polyline_distance};
use crate::model::{Network, Phase, PhaseConnection};
use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// Furthest a "nearby section of another feeder" may be from the house.
pub const WRONG_FEEDER_MAX_M: f64 = 90.0;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GisError {
    pub ean: String,
    /// `phase`, `feeder` or `cable`.
    pub kind: String,
    pub gis_feeder_id: String,
    pub gis_cable_id: String,
    pub gis_phase: String,
    pub true_feeder_id: String,
    pub true_cable_id: String,
    pub true_phase: String,
    /// For a wrong feeder/cable: distance from the house to the registered section (m).
    pub distance_m: Option<f64>,
}

pub fn inject<R: Rng>(
    rng: &mut R,
    cfg: &SimConfig,
    layouts: &[StationLayout],
    station_of: &[(usize, usize)],
    net: &mut Network,
) -> Vec<GisError> {
    let n = net.connections.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let n_feeder = (n as f64 * cfg.wrong_feeder_share).round() as usize;
    let n_section = ((n as f64 * cfg.wrong_section_share).round() as usize).max(usize::from(cfg.wrong_section_share > 0.0));
    let singles = net.connections.iter().filter(|c| c.phase.is_some_and(|p| !p.is_three_phase())).count();
    let n_phase = (singles as f64 * cfg.wrong_phase_share).round() as usize;
    let mut touched = vec![false; n];
    let mut out = Vec::new();
    let record =
        |g: usize, kind: &str, net: &Network, orig: (String, String, Option<PhaseConnection>), d: Option<f64>| GisError {
            ean: net.connections[g].ean.clone(),
            kind: kind.to_string(),
            gis_feeder_id: net.connections[g].feeder().to_string(),
            gis_cable_id: net.connections[g].cable().to_string(),
            gis_phase: net.connections[g].phase_text(),
            true_feeder_id: orig.0,
            true_cable_id: orig.1,
            true_phase: orig.2.map(|p| p.to_string()).unwrap_or_default(),
            distance_m: d.map(|d| (d * 10.0).round() / 10.0),
        };

    // Wrong feeder: the nearest section of another feeder of the same station, if near enough.
    let mut count = 0;
    for &g in &order {
        if count >= n_feeder {
            break;
        }
        let (s, h) = station_of[g];
        let st = &layouts[s];
        let house = &st.houses[h];
        let best = st
            .sections
            .iter()
            .enumerate()
            .filter(|(_, sec)| sec.feeder != house.feeder)
            .map(|(i, sec)| (i, point_polyline_distance(house.pos, &sec.geometry)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((sec, d)) = best.filter(|b| b.1 <= WRONG_FEEDER_MAX_M) {
            let c = &mut net.connections[g];
            let orig = (c.feeder().to_string(), c.cable().to_string(), c.phase);
            c.feeder_id = Some(st.feeder_ids[st.sections[sec].feeder].clone());
            c.cable_id = Some(st.sections[sec].id.clone());
            out.push(record(g, "feeder", net, orig, Some(d)));
            touched[g] = true;
            count += 1;
        }
    }
    // Wrong section within the right feeder: a neighbouring section (parent or child).
    count = 0;
    for &g in &order {
        if count >= n_section {
            break;
        }
        if touched[g] {
            continue;
        }
        let (s, h) = station_of[g];
        let st = &layouts[s];
        let house = &st.houses[h];
        let mut neighbours: Vec<usize> =
            st.sections.iter().enumerate().filter(|(_, sec)| sec.parent == Some(house.section)).map(|(i, _)| i).collect();
        neighbours.extend(st.sections[house.section].parent);
        if let Some(&sec) = neighbours.choose(rng) {
            let d = point_polyline_distance(house.pos, &st.sections[sec].geometry);
            let c = &mut net.connections[g];
            let orig = (c.feeder().to_string(), c.cable().to_string(), c.phase);
            c.cable_id = Some(st.sections[sec].id.clone());
            out.push(record(g, "cable", net, orig, Some(d)));
            touched[g] = true;
            count += 1;
        }
    }
    // Wrong phase on single-phase connections.
    count = 0;
    for &g in &order {
        if count >= n_phase {
            break;
        }
        if touched[g] {
            continue;
        }
        let c = &mut net.connections[g];
        if let Some(PhaseConnection::Single(p)) = c.phase {
            let orig = (c.feeder().to_string(), c.cable().to_string(), c.phase);
            c.phase = Some(PhaseConnection::Single(Phase::from_index(p.index() + rng.gen_range(1..3))));
            out.push(record(g, "phase", net, orig, None));
            touched[g] = true;
            count += 1;
        }
    }
    out.sort_by(|a, b| a.ean.cmp(&b.ean));
    out
}

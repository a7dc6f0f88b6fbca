//! The meters the engine scores: one per connection with voltage data, with its
//! candidate feeders (R-tree), its GIS registration and its weight in the station's
//! busbar-following phase references.

use super::AnalysisOptions;
use super::candidates::NetworkIndex;
use super::engine::Meter;
use crate::model::{Network, Phase, PhaseConnection, Topology, VoltageTable};
use rayon::prelude::*;

/// Weight of a meter at `distance_m` from its station (along the cables) in the
/// station's phase references: `exp(-d / length)`, so that `S_p` follows the busbar
/// voltage of phase `p` (0 length: every meter counts the same).
pub fn busbar_weight(distance_m: Option<f64>, length_m: f64) -> f32 {
    if length_m <= 0.0 {
        return 1.0;
    }
    distance_m.map_or(0.0, |d| (-d.max(0.0) / length_m).exp() as f32)
}

/// Builds the engine's meters (those with voltage data), bucketed by home station.
pub fn meters(
    net: &Network,
    topo: &Topology,
    voltage: &VoltageTable,
    index: &NetworkIndex,
    opts: &AnalysisOptions,
) -> (Vec<Vec<Meter>>, Vec<Option<(usize, usize)>>) {
    let mut buckets: Vec<Vec<Meter>> = vec![Vec::new(); net.stations.len() + 1];
    let mut at: Vec<Option<(usize, usize)>> = vec![None; net.connections.len()];
    // The R-tree lookups are the cost here: in parallel, then bucketed in order.
    let found: Vec<Option<Meter>> = (0..net.connections.len())
        .into_par_iter()
        .map(|ci| {
            let c = &net.connections[ci];
            let chs = voltage.channels(&c.ean);
            let channels: Vec<(usize, Phase)> =
                chs.iter().enumerate().filter_map(|(t, s)| s.map(|s| (s, Phase::from_index(t)))).collect();
            if channels.is_empty() {
                return None;
            }
            let cd = index.candidate_feeders(net, topo, ci, opts.search_radius_m, opts.max_candidate_feeders);
            let gis_phase = c.phase.and_then(PhaseConnection::single);
            Some(Meter {
                conn: ci,
                channels,
                cands: cd.iter().map(|x| x.0).collect(),
                cand_dist: cd.iter().map(|x| x.1).collect(),
                // Without a registered feeder, the registered cable's feeder is the GIS's.
                gis_feeder: index
                    .feeder_by_id
                    .get(c.feeder())
                    .copied()
                    .or_else(|| net.cable_index(c.cable()).and_then(|ci| index.cable_feeder[ci])),
                gis_phase,
                seed_phase: None,
                fill: None,
                shift: 0,
                contribs: Vec::new(),
                s_weight: 1.0,
            })
        })
        .collect();
    for m in found.into_iter().flatten() {
        let home = m.cands.first().map(|&f| index.feeders[f].station).unwrap_or(net.stations.len());
        at[m.conn] = Some((home, buckets[home].len()));
        buckets[home].push(m);
    }
    // Weights in the phase references, counted from the station's nearest meter: a
    // station whose first houses are 80 m out still gets a busbar-like reference.
    for bucket in &mut buckets {
        let dist: Vec<Option<f64>> =
            bucket.iter().map(|m| topo.attachments.get(m.conn).copied().flatten().and_then(|a| a.station_distance_m)).collect();
        let nearest = dist.iter().flatten().copied().fold(f64::INFINITY, f64::min);
        for (m, d) in bucket.iter_mut().zip(dist) {
            m.s_weight = busbar_weight(d.map(|d| d - nearest), opts.busbar_length_m);
        }
    }
    (buckets, at)
}

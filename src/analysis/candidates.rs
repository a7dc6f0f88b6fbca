//! Which feeders and cable sections a connection could physically be on:
//! its GIS registration plus every cable (of any station) within reach,
//! found with an R-tree over the cable segments.

use crate::model::{Network, Topology};
use rstar::{AABB, PointDistance, RTree, RTreeObject};
use std::collections::HashMap;

/// One straight piece of a cable's geometry.
#[derive(Clone, Copy, Debug)]
struct Segment {
    a: [f64; 2],
    b: [f64; 2],
    cable: usize,
}

impl RTreeObject for Segment {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners(self.a, self.b)
    }
}

impl PointDistance for Segment {
    fn distance_2(&self, p: &[f64; 2]) -> f64 {
        let (dx, dy) = (self.b[0] - self.a[0], self.b[1] - self.a[1]);
        let len2 = dx * dx + dy * dy;
        let u = if len2 > 0.0 { (((p[0] - self.a[0]) * dx + (p[1] - self.a[1]) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
        let (qx, qy) = (self.a[0] + u * dx - p[0], self.a[1] + u * dy - p[1]);
        qx * qx + qy * qy
    }
}

/// A feeder: an outgoing LV group of one station, with its cables.
#[derive(Clone, Debug)]
pub struct Feeder {
    pub id: String,
    pub station: usize,
    pub cables: Vec<usize>,
}

/// Feeders and the spatial index of the network.
pub struct NetworkIndex {
    pub feeders: Vec<Feeder>,
    pub feeder_by_id: HashMap<String, usize>,
    /// Feeder indices per station index.
    pub station_feeders: Vec<Vec<usize>>,
    /// Feeder of each cable (`None` when its station does not exist).
    pub cable_feeder: Vec<Option<usize>>,
    tree: RTree<Segment>,
}

impl NetworkIndex {
    pub fn build(net: &Network) -> NetworkIndex {
        let mut feeders: Vec<Feeder> = Vec::new();
        let mut feeder_by_id: HashMap<String, usize> = HashMap::new();
        let mut cable_feeder = vec![None; net.cables.len()];
        let mut station_feeders = vec![Vec::new(); net.stations.len()];
        for (ci, c) in net.cables.iter().enumerate() {
            let Some(si) = net.station_index(&c.station_id) else { continue };
            let f = *feeder_by_id.entry(c.feeder_id.clone()).or_insert_with(|| {
                feeders.push(Feeder { id: c.feeder_id.clone(), station: si, cables: Vec::new() });
                station_feeders[si].push(feeders.len() - 1);
                feeders.len() - 1
            });
            feeders[f].cables.push(ci);
            cable_feeder[ci] = Some(f);
        }
        let segs: Vec<Segment> = net
            .cables
            .iter()
            .enumerate()
            .filter(|(ci, _)| cable_feeder[*ci].is_some())
            .flat_map(|(ci, c)| {
                let pts: Vec<[f64; 2]> = c.geometry.iter().map(|p| [p.x, p.y]).collect();
                let single = if pts.len() == 1 { vec![Segment { a: pts[0], b: pts[0], cable: ci }] } else { Vec::new() };
                pts.windows(2).map(move |w| Segment { a: w[0], b: w[1], cable: ci }).chain(single).collect::<Vec<_>>()
            })
            .collect();
        NetworkIndex { feeders, feeder_by_id, station_feeders, cable_feeder, tree: RTree::bulk_load(segs) }
    }

    /// Cables within `radius_m` of the point, nearest first, with their distance.
    pub fn cables_near(&self, x: f64, y: f64, radius_m: f64) -> Vec<(usize, f64)> {
        let mut best: HashMap<usize, f64> = HashMap::new();
        for s in self.tree.locate_within_distance([x, y], radius_m * radius_m) {
            let d = s.distance_2(&[x, y]).sqrt();
            let e = best.entry(s.cable).or_insert(f64::INFINITY);
            if d < *e {
                *e = d;
            }
        }
        let mut v: Vec<(usize, f64)> = best.into_iter().collect();
        v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        v
    }

    /// Candidate feeders of a connection with the distance (m) from the connection to
    /// their nearest cable: its GIS feeder first (when known), then the feeders of
    /// cables within `radius_m`, nearest first, at most `max` in all.
    pub fn candidate_feeders(&self, net: &Network, topo: &Topology, conn: usize, radius_m: f64, max: usize) -> Vec<(usize, f64)> {
        let c = &net.connections[conn];
        let near = self.cables_near(c.pos.x, c.pos.y, radius_m);
        let mut out: Vec<(usize, f64)> = Vec::new();
        let gis = self
            .feeder_by_id
            .get(&c.feeder_id)
            .copied()
            .or_else(|| net.cable_index(&c.cable_id).and_then(|ci| self.cable_feeder[ci]));
        if let Some(f) = gis {
            let d = near
                .iter()
                .find(|(ci, _)| self.cable_feeder[*ci] == Some(f))
                .map(|x| x.1)
                .or_else(|| self.feeders[f].cables.iter().map(|&ci| topo.attach(net, ci, &c.pos).offset_m).min_by(f64::total_cmp))
                .unwrap_or(radius_m);
            out.push((f, d));
        }
        for (ci, d) in near {
            if out.len() >= max {
                break;
            }
            if let Some(f) = self.cable_feeder[ci] {
                if !out.iter().any(|x| x.0 == f) {
                    out.push((f, d));
                }
            }
        }
        out
    }

    /// The cable section of `feeder` a connection most plausibly hangs on, with a
    /// probability per candidate: the GIS cable keeps a strong prior when it is in
    /// this feeder; otherwise nearby sections by distance (a service cable is short).
    pub fn cable_candidates(
        &self,
        net: &Network,
        topo: &Topology,
        conn: usize,
        feeder: usize,
        gis_cable_prior: f64,
        radius_m: f64,
    ) -> Vec<(usize, f64)> {
        let c = &net.connections[conn];
        let gis = net.cable_index(&c.cable_id).filter(|&ci| self.cable_feeder[ci] == Some(feeder));
        let mut near: Vec<(usize, f64)> = self
            .cables_near(c.pos.x, c.pos.y, radius_m)
            .into_iter()
            .filter(|(ci, _)| self.cable_feeder[*ci] == Some(feeder))
            .collect();
        if near.is_empty() {
            // Nothing within reach: the nearest section of the feeder, however far.
            near = self.feeders[feeder]
                .cables
                .iter()
                .map(|&ci| (ci, topo.attach(net, ci, &c.pos).offset_m))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .into_iter()
                .collect();
        }
        // Distance likelihood: service cables are mostly 5-25 m; every 10 m further
        // makes a section e times less likely. The GIS registration multiplies its
        // section's weight by the prior odds.
        let gis_odds = gis_cable_prior / (1.0 - gis_cable_prior).max(1e-9);
        let mut scored: Vec<(usize, f64)> = near.iter().map(|&(ci, d)| (ci, (-d / 10.0).exp())).collect();
        if let Some(g) = gis {
            if !scored.iter().any(|(ci, _)| *ci == g) {
                let d = topo.attach(net, g, &c.pos).offset_m;
                scored.push((g, (-d / 10.0).exp()));
            }
            for (ci, w) in scored.iter_mut() {
                if *ci == g {
                    *w *= gis_odds;
                }
            }
        }
        let total: f64 = scored.iter().map(|x| x.1).sum();
        if total > 0.0 {
            scored.iter_mut().for_each(|x| x.1 /= total);
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored
    }
}

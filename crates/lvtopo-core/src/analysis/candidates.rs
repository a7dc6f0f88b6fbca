//! Which feeders and cable sections a connection could physically be on:
//! its GIS registration plus every cable (of any station) within reach,
//! found with an R-tree over the cable segments.

use super::AnalysisOptions;
use crate::model::placement::Segment;
use crate::model::{Connection, Network, Topology};
use crate::quality::stats::normal_cdf;
use rstar::{PointDistance, RTree};
use std::collections::HashMap;

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
    /// Per cable: the streets of the connections registered on it, with their count
    /// (street key = [`street_key`]). A house on the Kerkstraat hangs on the cable
    /// in the Kerkstraat: the registrations of its neighbours say which sections that is.
    cable_streets: Vec<Vec<(String, u32)>>,
    /// Connections per (street key, odd house number), sorted by house number: the
    /// house-number neighbours of a connection ([`NetworkIndex::number_neighbours`]).
    street_numbers: HashMap<(String, bool), Vec<(u32, usize)>>,
    tree: RTree<Segment>,
}

/// The street of a connection as compared between connections: the name (case and
/// spacing ignored) within its 4-digit postcode area when known, since the same street
/// name recurs in neighbouring villages and districts. `None` without a street.
pub fn street_key(c: &Connection) -> Option<String> {
    let name = c.street.as_deref()?.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    if name.is_empty() {
        return None;
    }
    let pc4: String = c.postcode.as_deref().unwrap_or("").chars().filter(|ch| !ch.is_whitespace()).take(4).collect();
    Some(if pc4.len() == 4 && pc4.chars().all(|ch| ch.is_ascii_digit()) { format!("{pc4} {name}") } else { name })
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
        let mut cable_streets: Vec<Vec<(String, u32)>> = vec![Vec::new(); net.cables.len()];
        let mut street_numbers: HashMap<(String, bool), Vec<(u32, usize)>> = HashMap::new();
        for (i, c) in net.connections.iter().enumerate() {
            if let (Some(key), Some(n)) = (street_key(c), c.house_number) {
                street_numbers.entry((key, n % 2 == 1)).or_default().push((n, i));
            }
        }
        street_numbers.values_mut().for_each(|v| v.sort_unstable());
        for c in &net.connections {
            let (Some(key), Some(ci)) = (street_key(c), c.cable_id.as_deref().and_then(|id| net.cable_index(id))) else {
                continue;
            };
            let list = &mut cable_streets[ci];
            match list.iter_mut().find(|(k, _)| *k == key) {
                Some(e) => e.1 += 1,
                None => list.push((key, 1)),
            }
        }
        NetworkIndex {
            feeders,
            feeder_by_id,
            station_feeders,
            cable_feeder,
            cable_streets,
            street_numbers,
            tree: RTree::bulk_load(segs),
        }
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
            .get(c.feeder())
            .copied()
            .or_else(|| net.cable_index(c.cable()).and_then(|ci| self.cable_feeder[ci]));
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
            if let Some(f) = self.cable_feeder[ci]
                && !out.iter().any(|x| x.0 == f)
            {
                out.push((f, d));
            }
        }
        out
    }

    /// Per candidate feeder: the distance (m, along the cables) from the station to where
    /// the connection would join that feeder's nearest section; `None` when unknown
    /// (no section within `radius_m`, or the section is not routed to the station).
    pub fn station_distances(
        &self,
        net: &Network,
        topo: &Topology,
        conn: usize,
        cands: &[usize],
        radius_m: f64,
    ) -> Vec<Option<f64>> {
        let c = &net.connections[conn];
        let near = self.cables_near(c.pos.x, c.pos.y, radius_m);
        cands
            .iter()
            .map(|&f| {
                near.iter()
                    .find(|(ci, _)| self.cable_feeder[*ci] == Some(f))
                    .and_then(|&(ci, _)| topo.attach(net, ci, &c.pos).station_distance_m)
            })
            .collect()
    }

    /// The cable section of `feeder` a connection most plausibly hangs on, with a
    /// probability per candidate: the GIS cable keeps a strong prior when it is in
    /// this feeder; otherwise geography decides ([`along_street_weights`]).
    pub fn cable_candidates(
        &self,
        net: &Network,
        topo: &Topology,
        conn: usize,
        feeder: usize,
        opts: &AnalysisOptions,
    ) -> Vec<(usize, f64)> {
        let c = &net.connections[conn];
        let gis = net.cable_index(c.cable()).filter(|&ci| self.cable_feeder[ci] == Some(feeder));
        let mut near: Vec<(usize, f64)> = self
            .cables_near(c.pos.x, c.pos.y, opts.search_radius_m)
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
        let gis_odds = opts.gis_cable_prior / (1.0 - opts.gis_cable_prior).max(1e-9);
        if let Some(g) = gis
            && !near.iter().any(|(ci, _)| *ci == g)
        {
            near.push((g, topo.attach(net, g, &c.pos).offset_m));
        }
        let mut scored = self.street_weights(c, &near, opts.cable_along_sigma_m);
        self.weigh_by_neighbours(net, conn, &mut scored);
        if let Some(g) = gis {
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

    /// Street evidence for each candidate feeder of a connection, relative to the best
    /// (1), never below `opts.feeder_street_floor`: the weight of the feeder's sections within reach by the
    /// same street model as the cable ([`NetworkIndex::street_weights`]) and the
    /// house-number neighbours' registrations.
    /// A house on the Kerkstraat whose neighbours hang on G03 is likely on G03, whatever
    /// the voltage of a house close to the station (where feeders look alike) suggests.
    pub fn feeder_street_evidence(&self, net: &Network, conn: usize, cands: &[usize], opts: &AnalysisOptions) -> Vec<f64> {
        let c = &net.connections[conn];
        if street_key(c).is_none() {
            // No address, no street evidence (distance already weighs in the feeder prior).
            return vec![1.0; cands.len()];
        }
        let near: Vec<(usize, f64)> = self
            .cables_near(c.pos.x, c.pos.y, opts.search_radius_m)
            .into_iter()
            .filter(|(ci, _)| self.cable_feeder[*ci].is_some_and(|f| cands.contains(&f)))
            .collect();
        if near.is_empty() {
            return vec![1.0; cands.len()];
        }
        let mut scored = self.street_weights(c, &near, opts.cable_along_sigma_m);
        self.weigh_by_neighbours(net, conn, &mut scored);
        let per_feeder: Vec<f64> =
            cands.iter().map(|&f| scored.iter().filter(|(ci, _)| self.cable_feeder[*ci] == Some(f)).map(|x| x.1).sum()).collect();
        let best = per_feeder.iter().cloned().fold(0.0, f64::max);
        if best <= 0.0 {
            return vec![1.0; cands.len()];
        }
        per_feeder.iter().map(|w| (w / best).max(opts.feeder_street_floor)).collect()
    }

    /// Geographic weight of each candidate section (cable, distance) of one feeder for
    /// connection `c`. When the connection's street is known and some candidates carry
    /// registered connections of that street, those are the street's cable: among them
    /// the along-street model decides ([`along_street_weights`]); a section of another
    /// street (a branch cable passing the house, the cable around the corner) shares
    /// [`OTHER_STREET_WEIGHT`] times the weight of the street's nearest section with
    /// the other streets' sections, less when it lies further. Otherwise the
    /// along-street model runs over all candidates.
    fn street_weights(&self, c: &Connection, near: &[(usize, f64)], sigma_m: f64) -> Vec<(usize, f64)> {
        let key = street_key(c);
        if key.is_none() {
            // Without an address the street's cable is unknown, and the nearest cable is
            // often another street's (the one behind the garden, around the corner): the
            // sharp along-street model would then overrule the GIS registration. Plain
            // distance leaves the registration in charge unless another section is much
            // closer.
            return distance_weights(near);
        }
        let on_street: Vec<bool> = near
            .iter()
            .map(|&(ci, _)| {
                let Some(key) = &key else { return false };
                let list = &self.cable_streets[ci];
                // The connection's own registration counts: where it is right, its
                // section may hold no other house of the street (the GIS prior weighs the
                // registration itself separately). Leaving it out in the feeder step was
                // tried: one wrong suggestion fewer on the sweep, but three wrong phase
                // changes on power-grid-model data of a quiet street at 1 V.
                let total: u32 = list.iter().map(|x| x.1).sum();
                let same = list.iter().find(|(k, _)| k == key).map_or(0, |x| x.1);
                same >= 1 && 5 * same >= total
            })
            .collect();
        if !on_street.iter().any(|&b| b) {
            return along_street_weights(near, sigma_m);
        }
        let street: Vec<(usize, f64)> = near.iter().zip(&on_street).filter(|x| *x.1).map(|x| *x.0).collect();
        let d_street = street.iter().map(|x| x.1).fold(f64::INFINITY, f64::min);
        let along = along_street_weights(&street, sigma_m);
        // Other streets' sections share OTHER_STREET_WEIGHT between them, each less
        // likely with every 5 m it lies further than the street's own nearest section.
        let other = |d: f64| (-(d - d_street).max(0.0) / 5.0).exp();
        let other_total: f64 = near.iter().zip(&on_street).filter(|x| !*x.1).map(|x| other(x.0.1)).sum();
        near.iter()
            .zip(&on_street)
            .map(|(&(ci, d), &on)| {
                if on {
                    *along.iter().find(|x| x.0 == ci).expect("street candidate")
                } else {
                    (ci, OTHER_STREET_WEIGHT * other(d) / other_total.max(1.0))
                }
            })
            .collect()
    }

    /// A section of `feeder` without any registered connection lies nearer to the
    /// connection than `cable`: the street model cannot say whether it is the street's
    /// (its only houses may be the misregistered ones), so a choice of `cable` over it
    /// rests on the absence of registrations alone.
    pub fn unregistered_section_nearer(&self, net: &Network, conn: usize, feeder: usize, cable: usize, radius_m: f64) -> bool {
        let c = &net.connections[conn];
        let near = self.cables_near(c.pos.x, c.pos.y, radius_m);
        let Some(d_cable) = near.iter().find(|x| x.0 == cable).map(|x| x.1) else { return false };
        near.iter().any(|&(ci, d)| {
            ci != cable && d < d_cable && self.cable_feeder[ci] == Some(feeder) && self.cable_streets[ci].is_empty()
        })
    }

    /// House-number neighbours: a house between two houses on section A is on A. Every
    /// neighbour registered elsewhere multiplies a section's weight by [`NEIGHBOUR_MISMATCH`].
    fn weigh_by_neighbours(&self, net: &Network, conn: usize, scored: &mut [(usize, f64)]) {
        for nb in self.number_neighbours(net, conn) {
            let nb_cable = net.cable_index(net.connections[nb].cable());
            for (ci, w) in scored.iter_mut() {
                if Some(*ci) != nb_cable {
                    *w *= NEIGHBOUR_MISMATCH;
                }
            }
        }
    }

    /// The house-number neighbours of a connection on its street and side (same
    /// parity): the nearest lower and the nearest higher number within
    /// [`NEIGHBOUR_MAX_NUMBERS`], and other connections at the same number (flats,
    /// annexes). Their GIS registrations are evidence for the connection's section.
    pub fn number_neighbours(&self, net: &Network, conn: usize) -> Vec<usize> {
        let c = &net.connections[conn];
        let (Some(key), Some(n)) = (street_key(c), c.house_number) else { return Vec::new() };
        let Some(list) = self.street_numbers.get(&(key, n % 2 == 1)) else { return Vec::new() };
        let mut out: Vec<usize> = list.iter().filter(|x| x.0 == n && x.1 != conn).map(|x| x.1).collect();
        let lower = list.iter().rev().find(|x| x.0 < n && n - x.0 <= NEIGHBOUR_MAX_NUMBERS).map(|x| x.0);
        let higher = list.iter().find(|x| x.0 > n && x.0 - n <= NEIGHBOUR_MAX_NUMBERS).map(|x| x.0);
        for m in [lower, higher].into_iter().flatten() {
            out.extend(list.iter().filter(|x| x.0 == m).map(|x| x.1));
        }
        out
    }
}

/// How far apart (in house numbers) a neighbour may be and still count.
pub const NEIGHBOUR_MAX_NUMBERS: u32 = 6;
/// Weight factor of a candidate section per house-number neighbour registered on
/// another section: a neighbour shares the house's section about 4 times in 5
/// (sections of 30-80 m, houses 6-12 m apart) and its registration is right about
/// 9 times in 10, so a neighbour on A makes A ~3 times likelier than B.
pub const NEIGHBOUR_MISMATCH: f64 = 0.3;

/// Weight of the sections of other streets together against the nearest section of the
/// connection's own street (corner houses do hang on the side street's cable now and then).
pub const OTHER_STREET_WEIGHT: f64 = 0.05;

/// Weight of each candidate section (cable, distance in m) by plain distance, the nearest 1:
/// for connections without an address.
pub fn distance_weights(near: &[(usize, f64)]) -> Vec<(usize, f64)> {
    let d_min = near.iter().map(|x| x.1).fold(f64::INFINITY, f64::min);
    near.iter().map(|&(ci, d)| (ci, (-(d - d_min) / NO_ADDRESS_DISTANCE_SCALE_M).exp())).collect()
}

/// Without an address, a section `NO_ADDRESS_DISTANCE_SCALE_M` further away than the
/// nearest is e times less likely ([`distance_weights`]): a registration (prior 0.9) then
/// gives way only to a section some 25 m closer.
pub const NO_ADDRESS_DISTANCE_SCALE_M: f64 = 10.0;

/// Geographic weight of each candidate section (cable, distance in m), the nearest 1.
///
/// A service cable runs (nearly) straight from the house to the cable in the street in
/// front of it: the joint sits at the foot of the perpendicular from the house, give or
/// take `sigma_m` along the street. A section other than the nearest would need the
/// joint `delta = sqrt(d^2 - d_min^2)` further along the street (exact for sections in
/// line, an overestimate around corners), i.e. past the section boundary, which has
/// probability `Q(delta / sigma)` against `Phi(delta / sigma)` for the nearest. Plain
/// distance weights (e^(-d/10 m)) cannot tell a house 3 m before a section cut from one
/// 3 m after it (8.0 m vs 8.5 m), though the perpendicular lands clearly on one side.
pub fn along_street_weights(near: &[(usize, f64)], sigma_m: f64) -> Vec<(usize, f64)> {
    let d_min = near.iter().map(|x| x.1).fold(f64::INFINITY, f64::min);
    near.iter()
        .map(|&(ci, d)| {
            let delta = (d * d - d_min * d_min).max(0.0).sqrt();
            let z = delta / sigma_m.max(1e-3);
            let beyond = normal_cdf(-z);
            (ci, beyond / (1.0 - beyond).max(1e-300))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    use crate::model::fixtures::{cable, pt};

    fn house(n: u32, street: &str, cable: &str, at: (f64, f64)) -> Connection {
        Connection {
            ean: format!("E{street}{n}"),
            station_id: "S".into(),
            feeder_id: Some("F1".into()),
            cable_id: Some(cable.into()),
            phase: Some(PhaseConnection::Single(Phase::L1)),
            street: Some(street.into()),
            house_number: Some(n),
            house_number_addition: None,
            postcode: None,
            meter: MeterKind::Smart,
            pv_kwp_registered: None,
            capacity: Capacity::default(),
            pos: pt(at.0, at.1),
            service_joint: None,
            extra: Default::default(),
        }
    }

    /// Kerkstraat along y = 0 in two sections (A: x 0-50, B: x 50-100); a branch C
    /// to the Dorpsstraat leaves the joint at x = 50 northwards, past the houses.
    fn street_net(odd_registrations: [&str; 5]) -> Network {
        let station = Station { id: "S".into(), name: None, pos: pt(0.0, 0.0), extra: Default::default() };
        let cables = vec![
            cable("A", "F1", &[(0.0, 0.0), (50.0, 0.0)]),
            cable("B", "F1", &[(50.0, 0.0), (100.0, 0.0)]),
            cable("C", "F1", &[(50.0, 0.0), (50.0, 80.0)]),
        ];
        let mut conns: Vec<Connection> = [15.0, 25.0, 45.0, 65.0, 80.0]
            .iter()
            .zip(odd_registrations)
            .enumerate()
            .map(|(i, (&x, reg))| house(2 * i as u32 + 1, "Kerkstraat", reg, (x, 8.0)))
            .collect();
        conns.push(house(2, "Dorpsstraat", "C", (58.0, 30.0)));
        conns.push(house(4, " dorpsSTRAAT ", "C", (58.0, 45.0)));
        Network::new(vec![station], cables, conns, Crs::RdNew)
    }

    #[test]
    fn along_street_weights_follow_the_perpendicular_foot() {
        // 8 m from A (foot inside, 3 m before the cut), 8.54 m from B.
        let w = along_street_weights(&[(0, 8.0), (1, (64.0f64 + 9.0).sqrt())], 3.0);
        assert!((w[0].1 - 1.0).abs() < 1e-6);
        let p_b = w[1].1 / (1.0 + w[1].1);
        assert!((p_b - 0.1587).abs() < 1e-3, "{p_b}"); // Q(1)
        // 10 m past the cut: B is out of the question.
        let w = along_street_weights(&[(0, 8.0), (1, (64.0f64 + 100.0).sqrt())], 3.0);
        assert!(w[1].1 < 1e-3);
    }

    #[test]
    fn the_house_keeps_to_its_own_streets_cable_and_its_neighbours_section() {
        let net = street_net(["A", "A", "A", "B", "B"]);
        let topo = Topology::build(&net);
        let index = NetworkIndex::build(&net);
        // Kerkstraat 5 at x = 45: 5 m from the branch C, 8 m from A, 9.4 m from B.
        let conn = 2;
        assert_eq!(index.number_neighbours(&net, conn), vec![1, 3]);
        let opts =
            AnalysisOptions { gis_cable_prior: 0.5, search_radius_m: 60.0, cable_along_sigma_m: 3.0, ..Default::default() };
        let cands = index.cable_candidates(&net, &topo, conn, 0, &opts);
        let p = |id: &str| cands.iter().find(|c| net.cables[c.0].id == id).map_or(0.0, |c| c.1);
        assert!(p("A") > 0.9, "{cands:?}");
        assert!(p("C") < 0.02, "the Dorpsstraat branch passing the house: {cands:?}");
        // Without a street the nearest cable wins, as before.
        let mut bare = net.clone();
        bare.connections.iter_mut().for_each(|c| c.street = None);
        let bare = Network::new(bare.stations, bare.cables, bare.connections, Crs::RdNew);
        let index = NetworkIndex::build(&bare);
        let cands = index.cable_candidates(&bare, &topo, conn, 0, &opts);
        assert_eq!(bare.cables[cands[0].0].id, "C", "{cands:?}");
    }

    #[test]
    fn the_street_points_to_the_feeder_of_its_cable() {
        // Kerkstraat on feeder F1 (cable A, y = 0); the Dorpsstraat cable D of feeder F2
        // runs behind the houses (y = 16). Kerkstraat 3 is registered on D (wrong feeder);
        // its neighbours 1 and 5 hang on A.
        let station = Station { id: "S".into(), name: None, pos: pt(0.0, 0.0), extra: Default::default() };
        let cables = vec![cable("A", "F1", &[(0.0, 0.0), (100.0, 0.0)]), cable("D", "F2", &[(0.0, 16.0), (100.0, 16.0)])];
        let mut conns = vec![
            house(1, "Kerkstraat", "A", (20.0, 8.0)),
            house(3, "Kerkstraat", "D", (30.0, 6.0)),
            house(5, "Kerkstraat", "A", (40.0, 8.0)),
            house(2, "Dorpsstraat", "D", (30.0, 24.0)),
        ];
        conns[1].feeder_id = Some("F2".into());
        conns[3].feeder_id = Some("F2".into());
        let net = Network::new(vec![station], cables, conns, Crs::RdNew);
        let index = NetworkIndex::build(&net);
        let (f1, f2) = (index.feeder_by_id["F1"], index.feeder_by_id["F2"]);
        let opts = AnalysisOptions { feeder_street_floor: 0.1, ..Default::default() };
        let ev = index.feeder_street_evidence(&net, 1, &[f2, f1], &opts);
        assert_eq!(ev, vec![0.1, 1.0], "registered F2 at the floor, the street's F1 best");
        // The Dorpsstraat house keeps its own feeder.
        let ev = index.feeder_street_evidence(&net, 3, &[f2, f1], &opts);
        assert_eq!(ev[0], 1.0, "{ev:?}");
    }

    #[test]
    fn neighbours_are_the_nearest_numbers_on_the_same_side() {
        let net = street_net(["A", "A", "A", "B", "B"]);
        let index = NetworkIndex::build(&net);
        assert_eq!(index.number_neighbours(&net, 0), vec![1], "number 1 has only 3 above it");
        // Dorpsstraat 2 and 4 are neighbours though spelled differently.
        assert_eq!(index.number_neighbours(&net, 5), vec![6]);
    }
}

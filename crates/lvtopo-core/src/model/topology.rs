//! Connectivity of the cable sections: which node each cable end is on, how
//! each feeder runs out of its station, and where each connection sits along
//! that path. Derived from `from_node`/`to_node` where the GIS has them, else
//! by snapping line end points within [`SNAP_TOLERANCE_M`].

use super::network::{Cable, GeoPoint, Network};
use super::placement::SegmentIndex;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

/// End points closer than this are one node (data contract).
pub const SNAP_TOLERANCE_M: f64 = 0.5;
/// A feeder whose nearest cable end is further than this from its station is reported.
pub const STATION_REACH_WARN_M: f64 = 50.0;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TopoNode {
    /// GIS node id, or `None` for a node made by snapping.
    pub id: Option<String>,
    pub pos: GeoPoint,
}

/// How a cable hangs in its feeder's tree.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CableRoute {
    /// `true` when the geometry's first point is the end nearer the station.
    pub first_point_upstream: bool,
    /// Cable through which its upstream end is fed; `None` for a feeder's first cable.
    pub parent: Option<usize>,
    /// Electrical distance from the station to the upstream end (m).
    pub upstream_distance_m: f64,
}

/// Where a point (a connection) attaches to a cable.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub cable: usize,
    /// Along the geometry from its first point (m, scaled to the registered length).
    pub along_m: f64,
    /// Straight distance from the point to the cable (service-cable length estimate, m).
    pub offset_m: f64,
    /// Distance along the cables from the station to the tap-off point (m);
    /// `None` when the cable is not reachable from its station.
    pub station_distance_m: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TopologyProblem {
    /// The feeder's cables are not connected to one another; the listed cables
    /// cannot be reached from the feeder's start at its station.
    Unreachable { feeder_id: String, cable_ids: Vec<String> },
    /// The station named by the feeder's cables does not exist.
    UnknownStation { feeder_id: String, station_id: String },
    /// The feeder's nearest cable end is far from its station point.
    FarFromStation { feeder_id: String, distance_m: f64 },
}

impl std::fmt::Display for TopologyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TopologyProblem::Unreachable { feeder_id, cable_ids } => write!(
                f,
                "feeder {feeder_id}: {} cable section(s) not connected to the feeder's start within {SNAP_TOLERANCE_M} m: {}",
                cable_ids.len(),
                cable_ids.join(", ")
            ),
            TopologyProblem::UnknownStation { feeder_id, station_id } => {
                write!(f, "feeder {feeder_id}: station {station_id:?} does not exist")
            }
            TopologyProblem::FarFromStation { feeder_id, distance_m } => {
                write!(f, "feeder {feeder_id}: nearest cable end is {distance_m:.0} m from its station")
            }
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Topology {
    pub nodes: Vec<TopoNode>,
    /// Node of the geometry's first and last point, per cable.
    pub cable_nodes: Vec<[usize; 2]>,
    /// Per cable; `None` when unreachable from its station.
    pub routes: Vec<Option<CableRoute>>,
    /// Per connection, on its *registered* cable; `None` if that cable does not exist.
    pub attachments: Vec<Option<Attachment>>,
    /// Children per cable (cables fed through it).
    pub children: Vec<Vec<usize>>,
    pub problems: Vec<TopologyProblem>,
}

#[derive(PartialEq)]
struct Queued(f64, usize);
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
    }
}

impl Topology {
    pub fn build(net: &Network) -> Topology {
        let mut t = Topology::default();
        t.build_nodes(net);
        t.build_routes(net);
        t.attachments = t.attach_connections(net);
        t
    }

    fn build_nodes(&mut self, net: &Network) {
        (self.nodes, self.cable_nodes) = cable_end_nodes(&net.cables);
    }

    fn build_routes(&mut self, net: &Network) {
        self.routes = vec![None; net.cables.len()];
        self.children = vec![Vec::new(); net.cables.len()];
        // Group cables by feeder, in first-seen order for reproducible output.
        let mut feeders: Vec<(String, Vec<usize>)> = Vec::new();
        let mut feeder_pos: HashMap<&str, usize> = HashMap::new();
        for (i, c) in net.cables.iter().enumerate() {
            let k = *feeder_pos.entry(&c.feeder_id).or_insert_with(|| {
                feeders.push((c.feeder_id.clone(), Vec::new()));
                feeders.len() - 1
            });
            feeders[k].1.push(i);
        }
        for (feeder_id, cables) in feeders {
            let station_id = &net.cables[cables[0]].station_id;
            let Some(si) = net.station_index(station_id) else {
                self.problems.push(TopologyProblem::UnknownStation { feeder_id, station_id: station_id.clone() });
                continue;
            };
            let spos = net.stations[si].pos;
            // The feeder starts at its cable end nearest to the station point.
            let (root, root_d) = cables
                .iter()
                .flat_map(|&c| self.cable_nodes[c])
                .map(|n| (n, self.nodes[n].pos.distance_m(&spos)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .expect("feeder has cables");
            if root_d > STATION_REACH_WARN_M {
                self.problems.push(TopologyProblem::FarFromStation { feeder_id: feeder_id.clone(), distance_m: root_d });
            }
            // Dijkstra over this feeder's cables only: feeders are radial and run apart.
            let mut adj: HashMap<usize, Vec<(usize, usize)>> = HashMap::new();
            for &c in &cables {
                let [a, b] = self.cable_nodes[c];
                adj.entry(a).or_default().push((c, b));
                adj.entry(b).or_default().push((c, a));
            }
            let mut dist: HashMap<usize, f64> = HashMap::from([(root, root_d)]);
            let mut via: HashMap<usize, usize> = HashMap::new();
            let mut heap = BinaryHeap::from([Queued(root_d, root)]);
            while let Some(Queued(d, n)) = heap.pop() {
                if d > dist[&n] {
                    continue;
                }
                for &(c, m) in adj.get(&n).into_iter().flatten() {
                    let nd = d + net.cables[c].length_m();
                    if dist.get(&m).is_none_or(|&old| nd < old) {
                        dist.insert(m, nd);
                        via.insert(m, c);
                        heap.push(Queued(nd, m));
                    }
                }
            }
            let mut unreachable = Vec::new();
            for &c in &cables {
                let [a, b] = self.cable_nodes[c];
                match (dist.get(&a), dist.get(&b)) {
                    (Some(&da), Some(&db)) => {
                        let first_up = da <= db;
                        let up_node = if first_up { a } else { b };
                        let parent = via.get(&up_node).copied().filter(|&p| p != c);
                        self.routes[c] =
                            Some(CableRoute { first_point_upstream: first_up, parent, upstream_distance_m: da.min(db) });
                        if let Some(p) = parent {
                            self.children[p].push(c);
                        }
                    }
                    _ => unreachable.push(net.cables[c].id.clone()),
                }
            }
            if !unreachable.is_empty() {
                self.problems.push(TopologyProblem::Unreachable { feeder_id, cable_ids: unreachable });
            }
        }
    }

    /// Each connection on its registered cable; one whose `cable_id` the GIS does not
    /// know is placed on the nearest section (of its registered feeder when known, else
    /// of its station, else any) from its geometry: the joint of its service line, or
    /// its point.
    fn attach_connections(&self, net: &Network) -> Vec<Option<Attachment>> {
        let mut placement: Option<SegmentIndex> = None;
        net.connections
            .iter()
            .map(|c| {
                let ci = match &c.cable_id {
                    Some(id) => net.cable_index(id)?,
                    None => {
                        let idx = placement.get_or_insert_with(|| SegmentIndex::new(&net.cables));
                        let on_feeder = |k: usize| c.feeder_id.as_deref().is_some_and(|f| net.cables[k].feeder_id == f);
                        let on_station = |k: usize| net.cables[k].station_id == c.station_id;
                        let p = c.tap_point();
                        c.feeder_id
                            .as_ref()
                            .and_then(|_| idx.nearest(p, on_feeder))
                            .or_else(|| idx.nearest(p, on_station))
                            .or_else(|| idx.nearest(p, |_| true))?
                            .0
                    }
                };
                Some(self.attach(net, ci, c.tap_point()))
            })
            .collect()
    }

    /// Attaches a point to a cable: nearest point on the geometry and the
    /// resulting distance from the station along the cables.
    pub fn attach(&self, net: &Network, cable: usize, p: &GeoPoint) -> Attachment {
        let c = &net.cables[cable];
        let geo_len = c.geometric_length_m();
        let scale = if geo_len > 0.0 { c.length_m() / geo_len } else { 1.0 };
        let (mut best_d, mut best_along, mut run) = (f64::INFINITY, 0.0, 0.0);
        for w in c.geometry.windows(2) {
            let (ax, ay, bx, by) = (w[0].x, w[0].y, w[1].x, w[1].y);
            let (dx, dy) = (bx - ax, by - ay);
            let seg = dx.hypot(dy);
            let u = if seg > 0.0 { (((p.x - ax) * dx + (p.y - ay) * dy) / (seg * seg)).clamp(0.0, 1.0) } else { 0.0 };
            let d = (ax + u * dx - p.x).hypot(ay + u * dy - p.y);
            if d < best_d {
                best_d = d;
                best_along = run + u * seg;
            }
            run += seg;
        }
        if c.geometry.len() == 1 {
            best_d = c.geometry[0].distance_m(p);
        }
        let along_m = best_along * scale;
        let station_distance_m = self.routes.get(cable).copied().flatten().map(|r| {
            let from_up = if r.first_point_upstream { along_m } else { c.length_m() - along_m };
            r.upstream_distance_m + from_up
        });
        Attachment { cable, along_m, offset_m: best_d, station_distance_m }
    }

    /// Cables from the feeder's first cable down to `cable` (inclusive), station side first.
    pub fn path_from_station(&self, cable: usize) -> Vec<usize> {
        let mut path = vec![cable];
        let mut cur = cable;
        while let Some(p) = self.routes.get(cur).copied().flatten().and_then(|r| r.parent) {
            if path.contains(&p) {
                break; // defensive: a corrupt parent chain must not loop forever
            }
            path.push(p);
            cur = p;
        }
        path.reverse();
        path
    }

    /// `true` when `cable` is `ancestor` or fed through it.
    pub fn is_downstream_of(&self, cable: usize, ancestor: usize) -> bool {
        self.path_from_station(cable).contains(&ancestor)
    }

    /// `cable` and every cable fed through it.
    pub fn downstream_cables(&self, cable: usize) -> Vec<usize> {
        let mut out = vec![cable];
        let mut i = 0;
        while i < out.len() {
            for &ch in &self.children[out[i]] {
                if !out.contains(&ch) {
                    out.push(ch);
                }
            }
            i += 1;
        }
        out
    }

    /// Distance (m) along the cables from the station to the connection's tap-off
    /// point plus its service cable, on its registered cable.
    pub fn connection_distance_m(&self, conn: usize) -> Option<f64> {
        self.attachments[conn].and_then(|a| a.station_distance_m.map(|d| d + a.offset_m))
    }
}

/// The nodes of the cable ends: GIS node ids where given, else end points snapped
/// within [`SNAP_TOLERANCE_M`]; returns the nodes and each cable's (first, last) node.
pub fn cable_end_nodes(cables: &[Cable]) -> (Vec<TopoNode>, Vec<[usize; 2]>) {
    let mut nodes: Vec<TopoNode> = Vec::new();
    let mut by_id: HashMap<&str, usize> = HashMap::new();

    // Spatial hash on a grid of the snap tolerance: a point's match is in its cell or a neighbour.
    let mut grid: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    let cell = |p: &GeoPoint| ((p.x / SNAP_TOLERANCE_M).floor() as i64, (p.y / SNAP_TOLERANCE_M).floor() as i64);
    let mut cable_nodes = Vec::with_capacity(cables.len());
    for cable in cables {
        let mut ends = [0usize; 2];
        let pts = [cable.geometry.first().copied().unwrap_or_default(), cable.geometry.last().copied().unwrap_or_default()];
        let ids = [cable.from_node.as_deref(), cable.to_node.as_deref()];
        for k in 0..2 {
            let p = pts[k];
            let node = if let Some(id) = ids[k].filter(|s| !s.is_empty()) {
                *by_id.entry(id).or_insert_with(|| {
                    nodes.push(TopoNode { id: Some(id.to_string()), pos: p });
                    let n = nodes.len() - 1;
                    grid.entry(cell(&p)).or_default().push(n);
                    n
                })
            } else {
                let (cx, cy) = cell(&p);
                let mut best: Option<(f64, usize)> = None;
                for dx in -1..=1 {
                    for dy in -1..=1 {
                        for &n in grid.get(&(cx + dx, cy + dy)).into_iter().flatten() {
                            let d = nodes[n].pos.distance_m(&p);
                            if d <= SNAP_TOLERANCE_M && best.is_none_or(|(bd, _)| d < bd) {
                                best = Some((d, n));
                            }
                        }
                    }
                }
                match best {
                    Some((_, n)) => n,
                    None => {
                        nodes.push(TopoNode { id: None, pos: p });
                        let n = nodes.len() - 1;
                        grid.entry((cx, cy)).or_default().push(n);
                        n
                    }
                }
            };
            ends[k] = node;
        }
        cable_nodes.push(ends);
    }
    (nodes, cable_nodes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::network::*;
    use crate::model::phase::*;

    use crate::model::fixtures::{cable, pt};

    #[test]
    fn snapping_routes_and_attachment() {
        let st = Station { id: "S".into(), name: None, pos: pt(0.0, -5.0), extra: Default::default() };
        // Main cable drawn away from the station, branch drawn *towards* the main cable
        // and ending 0.3 m off its end point (within snap tolerance).
        let main = cable("C1", "F1", &[(0.0, 0.0), (100.0, 0.0)]);
        let branch = cable("C2", "F1", &[(100.0, 50.0), (100.2, 0.2)]);
        let island = cable("C3", "F1", &[(500.0, 500.0), (600.0, 500.0)]);
        let conn = Connection {
            ean: "871".into(),
            station_id: "S".into(),
            feeder_id: Some("F1".into()),
            cable_id: Some("C2".into()),
            phase: Some(PhaseConnection::Single(Phase::L1)),
            street: None,
            house_number: None,
            house_number_addition: None,
            postcode: None,
            meter: MeterKind::Smart,
            pv_kwp_registered: None,
            capacity: Capacity::default(),
            pos: pt(110.0, 25.0),
            service_joint: None,
            extra: Default::default(),
        };
        let net = Network::new(vec![st], vec![main, branch, island], vec![conn], Crs::RdNew);
        let t = Topology::build(&net);
        assert_eq!(t.cable_nodes[0][1], t.cable_nodes[1][1], "snapped within 0.5 m");
        let r1 = t.routes[1].unwrap();
        assert!(!r1.first_point_upstream);
        assert_eq!(r1.parent, Some(0));
        assert!((r1.upstream_distance_m - 105.0).abs() < 1e-9);
        assert!(t.routes[2].is_none());
        assert!(matches!(&t.problems[0], TopologyProblem::Unreachable { cable_ids, .. } if cable_ids == &["C3"]));
        let a = t.attachments[0].unwrap();
        assert!((a.offset_m - 9.9).abs() < 0.05, "{}", a.offset_m);
        // 105 m to the junction, then ~25 m up the branch.
        assert!((a.station_distance_m.unwrap() - 130.0).abs() < 0.5);
        assert_eq!(t.path_from_station(1), vec![0, 1]);
        assert!(t.is_downstream_of(1, 0));
        assert_eq!(t.downstream_cables(0), vec![0, 1]);
    }
}

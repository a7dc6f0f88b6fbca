//! Spatial index of the network in normalised Web Mercator coordinates
//! (x, y in [0, 1], y down, as the map tiles). Built once per load, off the UI
//! thread; the map asks it only for what is visible, so drawing cost follows
//! the screen, not the size of the network.

use lvtopo_core::model::{GeoPoint, Network};
use rstar::primitives::{GeomWithData, Line};
use rstar::{AABB, PointDistance, RTree};
use std::collections::HashMap;
use std::f64::consts::PI;

/// A point in normalised Web Mercator.
pub type World = [f64; 2];

pub fn world_of(lon: f64, lat: f64) -> World {
    let lat = lat.clamp(-85.05112878, 85.05112878);
    let x = (1.0 + lon.to_radians() / PI) / 2.0;
    let y = (1.0 - lat.to_radians().tan().asinh() / PI) / 2.0;
    [x, y]
}

pub fn world_of_point(p: &GeoPoint) -> World {
    world_of(p.lon, p.lat)
}

/// (longitude, latitude) of a normalised Web Mercator point.
pub fn lon_lat_of(w: World) -> (f64, f64) {
    let lon = (w[0] * 2.0 - 1.0) * PI;
    let lat = ((1.0 - w[1] * 2.0) * PI).sinh().atan();
    (lon.to_degrees(), lat.to_degrees())
}

/// An axis-aligned rectangle in world coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorldRect {
    pub min: World,
    pub max: World,
}

impl WorldRect {
    pub const EMPTY: WorldRect = WorldRect { min: [f64::INFINITY; 2], max: [f64::NEG_INFINITY; 2] };

    pub fn is_empty(&self) -> bool {
        !(self.min[0] <= self.max[0] && self.min[1] <= self.max[1])
    }
    pub fn extend(&mut self, p: World) {
        self.min = [self.min[0].min(p[0]), self.min[1].min(p[1])];
        self.max = [self.max[0].max(p[0]), self.max[1].max(p[1])];
    }
    pub fn union(mut self, o: WorldRect) -> WorldRect {
        if !o.is_empty() {
            self.extend(o.min);
            self.extend(o.max);
        }
        self
    }
    pub fn center(&self) -> World {
        [(self.min[0] + self.max[0]) / 2.0, (self.min[1] + self.max[1]) / 2.0]
    }
    pub fn of_points(points: impl IntoIterator<Item = World>) -> WorldRect {
        let mut r = WorldRect::EMPTY;
        for p in points {
            if p[0].is_finite() && p[1].is_finite() {
                r.extend(p);
            }
        }
        r
    }
    fn aabb(&self) -> AABB<World> {
        AABB::from_corners(self.min, self.max)
    }
}

type PointEntry = GeomWithData<World, u32>;
/// A cable segment with (cable index, segment index).
type SegmentEntry = GeomWithData<Line<World>, (u32, u32)>;

/// What the map draws, in world coordinates, with R-trees over it.
pub struct MapIndex {
    pub connections: Vec<World>,
    pub stations: Vec<World>,
    pub cables: Vec<Vec<World>>,
    connection_tree: RTree<PointEntry>,
    station_tree: RTree<PointEntry>,
    segment_tree: RTree<SegmentEntry>,
    pub bounds: WorldRect,
    feeder_bounds: HashMap<String, WorldRect>,
    /// Feeder ids in first-seen order (cables first, then feeders only connections name).
    pub feeder_ids: Vec<String>,
    /// Index into `feeder_ids` per cable and per connection (registered feeder).
    pub cable_feeder: Vec<u32>,
    pub connection_feeder: Vec<u32>,
}

impl MapIndex {
    pub fn build(net: &Network) -> MapIndex {
        let valid = |w: &World| w[0].is_finite() && w[1].is_finite();
        let connections: Vec<World> = net.connections.iter().map(|c| world_of_point(&c.pos)).collect();
        let stations: Vec<World> = net.stations.iter().map(|s| world_of_point(&s.pos)).collect();
        let cables: Vec<Vec<World>> =
            net.cables.iter().map(|c| c.geometry.iter().map(world_of_point).filter(valid).collect()).collect();
        let point_entries = |pts: &[World]| {
            pts.iter().enumerate().filter(|(_, w)| valid(w)).map(|(i, w)| PointEntry::new(*w, i as u32)).collect()
        };
        let mut segments = Vec::new();
        for (ci, line) in cables.iter().enumerate() {
            for (si, w) in line.windows(2).enumerate() {
                segments.push(SegmentEntry::new(Line::new(w[0], w[1]), (ci as u32, si as u32)));
            }
        }
        let mut feeder_bounds: HashMap<String, WorldRect> = HashMap::new();
        for (c, line) in net.cables.iter().zip(&cables) {
            let r = feeder_bounds.entry(c.feeder_id.clone()).or_insert(WorldRect::EMPTY);
            *r = r.union(WorldRect::of_points(line.iter().copied()));
        }
        for (c, w) in net.connections.iter().zip(&connections) {
            if valid(w) {
                feeder_bounds.entry(c.feeder_label()).or_insert(WorldRect::EMPTY).extend(*w);
            }
        }
        let mut feeder_pos: HashMap<String, u32> = HashMap::new();
        let mut feeder_ids = Vec::new();
        let mut feeder_of = |id: &str| {
            if let Some(&i) = feeder_pos.get(id) {
                return i;
            }
            feeder_ids.push(id.to_string());
            feeder_pos.insert(id.to_string(), feeder_ids.len() as u32 - 1);
            feeder_ids.len() as u32 - 1
        };
        let cable_feeder: Vec<u32> = net.cables.iter().map(|c| feeder_of(&c.feeder_id)).collect();
        let connection_feeder: Vec<u32> = net.connections.iter().map(|c| feeder_of(&c.feeder_label())).collect();
        let bounds = WorldRect::of_points(connections.iter().chain(&stations).chain(cables.iter().flatten()).copied());
        MapIndex {
            connection_tree: RTree::bulk_load(point_entries(&connections)),
            station_tree: RTree::bulk_load(point_entries(&stations)),
            segment_tree: RTree::bulk_load(segments),
            connections,
            stations,
            cables,
            bounds,
            feeder_bounds,
            feeder_ids,
            cable_feeder,
            connection_feeder,
        }
    }

    pub fn connections_in(&self, r: &WorldRect) -> impl Iterator<Item = usize> + '_ {
        self.connection_tree.locate_in_envelope(&r.aabb()).map(|e| e.data as usize)
    }
    pub fn stations_in(&self, r: &WorldRect) -> impl Iterator<Item = usize> + '_ {
        self.station_tree.locate_in_envelope(&r.aabb()).map(|e| e.data as usize)
    }
    /// Cable segments crossing the rectangle: (cable, segment) where the segment
    /// runs from vertex `segment` to `segment + 1` of `cables[cable]`.
    pub fn segments_in(&self, r: &WorldRect) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.segment_tree.locate_in_envelope_intersecting(&r.aabb()).map(|e| (e.data.0 as usize, e.data.1 as usize))
    }

    /// The connection nearest to `p` within `max_dist` (world units).
    pub fn nearest_connection(&self, p: World, max_dist: f64) -> Option<usize> {
        self.connection_tree.nearest_neighbor(&p).filter(|e| e.distance_2(&p) <= max_dist * max_dist).map(|e| e.data as usize)
    }
    pub fn nearest_station(&self, p: World, max_dist: f64) -> Option<usize> {
        self.station_tree.nearest_neighbor(&p).filter(|e| e.distance_2(&p) <= max_dist * max_dist).map(|e| e.data as usize)
    }
    pub fn nearest_cable(&self, p: World, max_dist: f64) -> Option<usize> {
        self.segment_tree.nearest_neighbor(&p).filter(|e| e.distance_2(&p) <= max_dist * max_dist).map(|e| e.data.0 as usize)
    }

    pub fn feeder_index(&self, feeder_id: &str) -> Option<usize> {
        self.feeder_ids.iter().position(|f| f == feeder_id)
    }

    pub fn feeder_bounds(&self, feeder_id: &str) -> Option<WorldRect> {
        self.feeder_bounds.get(feeder_id).copied().filter(|r| !r.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn world_round_trip_and_orientation() {
        let w = world_of(5.387, 52.155);
        let (lon, lat) = lon_lat_of(w);
        assert!((lon - 5.387).abs() < 1e-9 && (lat - 52.155).abs() < 1e-9);
        // North is up: a point further north has a smaller y.
        assert!(world_of(5.387, 52.2)[1] < w[1]);
    }

    #[test]
    fn rect_union_ignores_empty() {
        let r = WorldRect::of_points([[0.1, 0.2], [0.3, 0.1]]);
        assert_eq!(r.union(WorldRect::EMPTY), r);
        assert_eq!(r.center(), [0.2, 0.15000000000000002]);
        assert!(WorldRect::EMPTY.is_empty());
    }
}

//! Placing a point on the cable sections by geometry alone: for a connection whose
//! GIS never stored its section (`cable_id` unknown) and for the joint of a service
//! line. An R-tree over the straight pieces of every cable.

use super::network::{Cable, GeoPoint};
use rstar::{AABB, PointDistance, RTree, RTreeObject};

/// One straight piece of a cable's geometry (RD New metres); also the analysis's R-tree item.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Segment {
    pub(crate) a: [f64; 2],
    pub(crate) b: [f64; 2],
    pub(crate) cable: usize,
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

/// The cable segments of a network, for nearest-section queries (RD New metres).
pub struct SegmentIndex {
    tree: RTree<Segment>,
}

impl SegmentIndex {
    pub fn new(cables: &[Cable]) -> SegmentIndex {
        let mut segs = Vec::new();
        for (ci, c) in cables.iter().enumerate() {
            if c.geometry.len() == 1 {
                let p = [c.geometry[0].x, c.geometry[0].y];
                segs.push(Segment { a: p, b: p, cable: ci });
            }
            for w in c.geometry.windows(2) {
                segs.push(Segment { a: [w[0].x, w[0].y], b: [w[1].x, w[1].y], cable: ci });
            }
        }
        SegmentIndex { tree: RTree::bulk_load(segs) }
    }

    /// The nearest cable that `accept` admits, with its distance (m); `None` when no
    /// cable is admitted.
    pub fn nearest(&self, p: &GeoPoint, accept: impl Fn(usize) -> bool) -> Option<(usize, f64)> {
        self.tree
            .nearest_neighbor_iter_with_distance_2(&[p.x, p.y])
            .find(|(s, _)| accept(s.cable))
            .map(|(s, d2)| (s.cable, d2.sqrt()))
    }

    /// Splits a service line into (house, joint): the joint is the end nearer a cable,
    /// whichever way the GIS drew the line.
    pub fn split_service_line(&self, line: &[GeoPoint]) -> (GeoPoint, GeoPoint) {
        let (first, last) = (line[0], line[line.len() - 1]);
        let d = |p: &GeoPoint| self.nearest(p, |_| true).map_or(f64::INFINITY, |x| x.1);
        if d(&first) <= d(&last) { (last, first) } else { (first, last) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::{cable, pt};

    #[test]
    fn nearest_section_and_service_line_ends() {
        let cables = vec![cable("C1", "F1", &[(0.0, 0.0), (100.0, 0.0)]), cable("C2", "F2", &[(0.0, 30.0), (100.0, 30.0)])];
        let idx = SegmentIndex::new(&cables);
        assert_eq!(idx.nearest(&pt(50.0, 10.0), |_| true).map(|x| x.0), Some(0));
        // Restricted to feeder F2's cables.
        let (c, d) = idx.nearest(&pt(50.0, 10.0), |c| c == 1).unwrap();
        assert_eq!(c, 1);
        assert!((d - 20.0).abs() < 1e-9);
        // Drawn from the house to the cable or the other way: the joint is on C1.
        let (house, joint) = idx.split_service_line(&[pt(40.0, 12.0), pt(40.0, 0.5)]);
        assert_eq!((house.y, joint.y), (12.0, 0.5));
        let (house, joint) = idx.split_service_line(&[pt(40.0, 0.5), pt(40.0, 12.0)]);
        assert_eq!((house.y, joint.y), (12.0, 0.5));
    }
}

//! Screen transform and batched drawing of the network. Points and lines go
//! into one `egui::Mesh` each (with a one-pixel feather for anti-aliasing)
//! instead of one `Shape` per feature: tessellating 100k egui circles is what
//! makes naive map overlays slow.

use super::index::{World, WorldRect};
use egui::epaint::{Mesh, Vertex, WHITE_UV};
use egui::{Color32, Pos2, Rect, Vec2, pos2};

/// World (normalised Web Mercator) <-> screen, for the current map view.
/// Computed in f64: at street zoom the world is 2^28 pixels wide, beyond f32.
#[derive(Clone, Copy, Debug)]
pub struct MapTransform {
    pub center: World,
    /// Screen pixels per world unit (256 * 2^zoom).
    pub scale: f64,
    pub screen_center: Pos2,
    pub rect: Rect,
    pub zoom: f64,
}

impl MapTransform {
    pub fn new(rect: Rect, center: World, zoom: f64) -> MapTransform {
        MapTransform { center, scale: 256.0 * 2f64.powf(zoom), screen_center: rect.center(), rect, zoom }
    }

    pub fn from_projector(p: &walkers::Projector) -> MapTransform {
        let rect = p.clip_rect();
        let c = p.unproject(rect.center().to_vec2());
        MapTransform::new(rect, super::index::world_of(c.x(), c.y()), p.zoom())
    }

    pub fn to_screen(&self, w: World) -> Pos2 {
        pos2(
            self.screen_center.x + ((w[0] - self.center[0]) * self.scale) as f32,
            self.screen_center.y + ((w[1] - self.center[1]) * self.scale) as f32,
        )
    }

    pub fn to_world(&self, p: Pos2) -> World {
        [
            self.center[0] + (p.x - self.screen_center.x) as f64 / self.scale,
            self.center[1] + (p.y - self.screen_center.y) as f64 / self.scale,
        ]
    }

    /// World length of `px` screen pixels.
    pub fn world_len(&self, px: f32) -> f64 {
        px as f64 / self.scale
    }

    /// The visible part of the world, grown by `margin_px` on every side.
    pub fn visible(&self, margin_px: f32) -> WorldRect {
        let r = self.rect.expand(margin_px);
        WorldRect { min: self.to_world(r.min), max: self.to_world(r.max) }
    }

    pub fn world_rect_of(&self, r: Rect) -> WorldRect {
        WorldRect::of_points([self.to_world(r.min), self.to_world(r.max)])
    }
}

/// Centre and zoom that fit `r` into a view of `size` pixels with a margin.
pub fn fit(r: &WorldRect, size: Vec2, max_zoom: f64) -> (World, f64) {
    let w = (r.max[0] - r.min[0]).max(1e-9);
    let h = (r.max[1] - r.min[1]).max(1e-9);
    let sx = (size.x as f64 * 0.85).max(50.0) / w;
    let sy = (size.y as f64 * 0.85).max(50.0) / h;
    let zoom = (sx.min(sy) / 256.0).log2().clamp(2.0, max_zoom);
    (r.center(), zoom)
}

/// A mesh under construction with simple anti-aliased primitives.
#[derive(Default)]
pub struct MeshBuilder {
    pub mesh: Mesh,
}

impl MeshBuilder {
    fn v(&mut self, pos: Pos2, color: Color32) -> u32 {
        self.mesh.vertices.push(Vertex { pos, uv: WHITE_UV, color });
        (self.mesh.vertices.len() - 1) as u32
    }
    fn quad(&mut self, a: u32, b: u32, c: u32, d: u32) {
        self.mesh.indices.extend_from_slice(&[a, b, c, a, c, d]);
    }

    /// A line segment of `width` pixels with a one-pixel feather.
    pub fn segment(&mut self, a: Pos2, b: Pos2, width: f32, color: Color32) {
        let d = b - a;
        let len = d.length();
        if len < 0.01 {
            return;
        }
        let n = Vec2::new(-d.y, d.x) / len;
        let (hw, f) = ((width * 0.5 - 0.5).max(0.0), 1.0);
        let t = Color32::TRANSPARENT;
        let (i0, i1) = (n * hw, n * (hw + f));
        let o0 = self.v(a + i1, t);
        let a0 = self.v(a + i0, color);
        let a1 = self.v(a - i0, color);
        let o1 = self.v(a - i1, t);
        let p0 = self.v(b + i1, t);
        let b0 = self.v(b + i0, color);
        let b1 = self.v(b - i0, color);
        let p1 = self.v(b - i1, t);
        self.quad(a0, b0, b1, a1);
        self.quad(o0, p0, b0, a0);
        self.quad(a1, b1, p1, o1);
    }

    /// A filled regular polygon (`sides` corners, first corner at `angle0`) with a feathered edge.
    pub fn polygon(&mut self, c: Pos2, r: f32, sides: usize, angle0: f32, color: Color32) {
        let center = self.v(c, color);
        let first = self.mesh.vertices.len() as u32;
        let t = Color32::TRANSPARENT;
        for k in 0..sides {
            let a = angle0 + k as f32 * std::f32::consts::TAU / sides as f32;
            let dir = Vec2::new(a.cos(), a.sin());
            self.v(c + dir * (r - 0.5).max(0.3), color);
            self.v(c + dir * (r + 0.5), t);
        }
        for k in 0..sides as u32 {
            let (i, o) = (first + 2 * k, first + 2 * k + 1);
            let (ni, no) = (first + 2 * ((k + 1) % sides as u32), first + 2 * ((k + 1) % sides as u32) + 1);
            self.mesh.indices.extend_from_slice(&[center, i, ni]);
            self.quad(i, o, no, ni);
        }
    }

    pub fn disc(&mut self, c: Pos2, r: f32, color: Color32) {
        let sides = if r < 3.0 {
            8
        } else if r < 6.0 {
            12
        } else {
            20
        };
        self.polygon(c, r, sides, 0.0, color);
    }

    pub fn diamond(&mut self, c: Pos2, r: f32, color: Color32) {
        self.polygon(c, r * 1.25, 4, -std::f32::consts::FRAC_PI_2, color);
    }

    pub fn square(&mut self, c: Pos2, r: f32, color: Color32) {
        self.polygon(c, r * std::f32::consts::SQRT_2, 4, std::f32::consts::FRAC_PI_4, color);
    }

    /// An axis-aligned rectangle without feathering: for dense pixel bins.
    pub fn rect(&mut self, r: Rect, color: Color32) {
        let a = self.v(r.left_top(), color);
        let b = self.v(r.right_top(), color);
        let c = self.v(r.right_bottom(), color);
        let d = self.v(r.left_bottom(), color);
        self.quad(a, b, c, d);
    }

    pub fn take(&mut self) -> Mesh {
        std::mem::take(&mut self.mesh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_round_trip() {
        let t = MapTransform::new(Rect::from_min_size(Pos2::ZERO, Vec2::new(800.0, 600.0)), [0.52, 0.33], 17.0);
        let w = [0.52001, 0.33002];
        let back = t.to_world(t.to_screen(w));
        assert!((back[0] - w[0]).abs() < 1e-8 && (back[1] - w[1]).abs() < 1e-8);
        assert_eq!(t.to_screen([0.52, 0.33]), pos2(400.0, 300.0));
    }

    #[test]
    fn fit_contains_rect() {
        let r = WorldRect { min: [0.5, 0.3], max: [0.5001, 0.3001] };
        let (c, z) = fit(&r, Vec2::new(1000.0, 800.0), 20.0);
        let t = MapTransform::new(Rect::from_min_size(Pos2::ZERO, Vec2::new(1000.0, 800.0)), c, z);
        assert!(t.rect.contains(t.to_screen(r.min)) && t.rect.contains(t.to_screen(r.max)));
    }

    #[test]
    fn segment_makes_three_quads() {
        let mut m = MeshBuilder::default();
        m.segment(pos2(0.0, 0.0), pos2(10.0, 0.0), 2.0, Color32::RED);
        assert_eq!(m.mesh.vertices.len(), 8);
        assert_eq!(m.mesh.indices.len(), 18);
    }
}

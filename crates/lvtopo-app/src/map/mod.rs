//! The map panel: background tiles (walkers), the network drawn in a walkers
//! [`Plugin`] with R-tree culling, hover, click and box selection, cable
//! picking, registered overlays, a scale bar and the tile attribution.

pub mod index;
pub mod paint;
pub mod style;
pub mod tiles;

use super::command::{CommandQueue, UiCommand};
use super::state::{AppState, Dataset};
use super::view::{MapFrame, OverlaySlot, marker_radius};
use egui::{Align2, Color32, FontId, Pos2, Rect, Response, Stroke, Ui, Vec2};
use index::{WorldRect, lon_lat_of};
use paint::{MapTransform, MeshBuilder};
use style::{ColorMode, ReviewMark};
use tiles::{Basemap, TileHealth, WatchedTiles};
use walkers::{MapMemory, Plugin, Projector, lon_lat};

/// Above this many visible connections, markers are binned per few pixels.
const DENSE_POINTS: usize = 12_000;
/// Highest zoom the map goes to when fitting something small.
const MAX_FIT_ZOOM: f64 = 19.0;

/// What the pointer is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hit {
    Connection(usize),
    Station(usize),
    Cable(usize),
}

/// Pointer state of the map kept between frames.
#[derive(Default)]
struct Interaction {
    box_start: Option<Pos2>,
    hovered: Option<Hit>,
}

pub struct MapView {
    memory: MapMemory,
    tiles: Option<WatchedTiles>,
    tiles_for: Option<Basemap>,
    interaction: Interaction,
    /// Fit this rectangle on the next frame (when the map's size is known).
    pending_fit: Option<WorldRect>,
    /// The view of the last frame (for the benchmark and the tests).
    pub last_transform: Option<MapTransform>,
    /// Connections and segments drawn in the last frame.
    pub last_drawn: (usize, usize),
    /// Tiles off (tests, snapshots): plain background only.
    pub tiles_enabled: bool,
    initial_fit_frames: u8,
}

impl Default for MapView {
    fn default() -> Self {
        let mut memory = MapMemory::default();
        let _ = memory.set_zoom(15.0);
        MapView {
            memory,
            tiles: None,
            tiles_for: None,
            interaction: Interaction::default(),
            pending_fit: None,
            last_transform: None,
            last_drawn: (0, 0),
            tiles_enabled: true,
            initial_fit_frames: 3,
        }
    }
}

impl MapView {
    pub fn fit(&mut self, r: WorldRect) {
        if !r.is_empty() {
            self.pending_fit = Some(r);
        }
    }

    /// Forget the view (a new network was opened): the next frame fits it.
    pub fn reset_view(&mut self) {
        self.memory = MapMemory::default();
        self.interaction = Interaction::default();
        self.pending_fit = None;
        self.last_transform = None;
        self.initial_fit_frames = 3;
    }

    pub fn hovered(&self) -> Option<Hit> {
        self.interaction.hovered
    }

    pub fn tile_health(&self) -> Option<TileHealth> {
        self.tiles.as_ref().map(|t| t.health())
    }

    /// Sets the view directly (benchmark, tests).
    pub fn set_view(&mut self, center: index::World, zoom: f64) {
        let (lon, lat) = lon_lat_of(center);
        self.memory.center_at(lon_lat(lon, lat));
        let _ = self.memory.set_zoom(zoom.clamp(0.0, 22.0));
    }

    pub fn ui(&mut self, ui: &mut Ui, state: &AppState, overlays: &mut [OverlaySlot], commands: &mut CommandQueue) {
        let rect = ui.available_rect_before_wrap();
        ui.painter().rect_filled(rect, 0.0, style::MAP_BACKGROUND);
        let Some(dataset) = state.dataset.as_ref() else {
            self.last_transform = None;
            ui.allocate_rect(rect, egui::Sense::hover());
            let text = if state.job.is_some() { "Loading…" } else { "No network open — File > Open, or drop files here" };
            ui.painter().text(rect.center(), Align2::CENTER_CENTER, text, FontId::proportional(16.0), Color32::from_gray(90));
            return;
        };
        if let Some(r) = self.pending_fit.take() {
            let (c, z) = paint::fit(&r, rect.size(), MAX_FIT_ZOOM);
            self.set_view(c, z);
        }
        if self.memory.detached().is_none() || self.initial_fit_frames > 0 {
            // The first frames on a dataset (while the panels around the map settle): the whole network.
            self.initial_fit_frames = self.initial_fit_frames.saturating_sub(1);
            let (c, z) = paint::fit(&dataset.index.bounds, rect.size(), MAX_FIT_ZOOM);
            self.set_view(c, z);
        }
        let want = self.tiles_enabled.then_some(state.basemap).filter(|b| *b != Basemap::None);
        if self.tiles_for != want {
            self.tiles = want.and_then(|b| WatchedTiles::new(b, ui.ctx().clone()));
            self.tiles_for = want;
        }
        let shift = ui.input(|i| i.modifiers.shift);
        let pan = if shift || self.interaction.box_start.is_some() {
            egui::DragPanButtons::MIDDLE
        } else {
            egui::DragPanButtons::PRIMARY | egui::DragPanButtons::MIDDLE
        };
        let center = lon_lat_of(dataset.index.bounds.center());
        let mut out = PluginOut::default();
        let attribution = self.tiles.as_ref().map(|t| walkers::Tiles::attribution(t).text);
        let tiles = self.tiles.as_mut().map(|t| t as &mut dyn walkers::Tiles);
        let plugin = NetworkPlugin { state, dataset, overlays, interaction: &mut self.interaction, commands, out: &mut out };
        walkers::Map::new(tiles, &mut self.memory, lon_lat(center.0, center.1))
            .zoom_with_ctrl(false)
            .drag_pan_buttons(pan)
            .with_plugin(plugin)
            .show(ui, |_, _, _, _| ());
        self.last_transform = out.transform;
        self.last_drawn = out.drawn;
        if let Some(t) = out.transform {
            draw_scale_bar(ui, &t);
            if let Some(text) = attribution {
                let p = t.rect.right_bottom() + Vec2::new(-6.0, -4.0);
                let galley = ui.painter().layout_no_wrap(format!("© {text}"), FontId::proportional(11.0), Color32::from_gray(60));
                let r = Align2::RIGHT_BOTTOM.anchor_size(p, galley.size()).expand(2.0);
                ui.painter().rect_filled(r, 2.0, Color32::from_white_alpha(200));
                ui.painter().galley(r.min + Vec2::splat(2.0), galley, Color32::from_gray(60));
            }
        }
    }
}

#[derive(Default)]
struct PluginOut {
    transform: Option<MapTransform>,
    drawn: (usize, usize),
}

/// Draws the network and handles the pointer; runs inside `walkers::Map`.
struct NetworkPlugin<'a> {
    state: &'a AppState,
    dataset: &'a Dataset,
    overlays: &'a mut [OverlaySlot],
    interaction: &'a mut Interaction,
    commands: &'a mut CommandQueue,
    out: &'a mut PluginOut,
}

impl Plugin for NetworkPlugin<'_> {
    fn run(self: Box<Self>, ui: &mut Ui, response: &Response, projector: &Projector, _memory: &MapMemory) {
        let t = MapTransform::from_projector(projector);
        let this = *self;
        let painter = ui.painter().with_clip_rect(t.rect);
        let frame = MapFrame { transform: t, visible: t.visible(12.0), dataset: this.dataset, index: &this.dataset.index };
        let drawn = paint_network(&painter, &frame, this.state, this.interaction.hovered);
        for slot in this.overlays.iter_mut().filter(|s| s.enabled) {
            slot.overlay.paint(&painter, &frame, this.state);
        }
        handle_pointer(ui, response, &frame, this.state, this.overlays, this.interaction, this.commands);
        if let (Some(start), Some(now)) = (this.interaction.box_start, response.interact_pointer_pos()) {
            let r = Rect::from_two_pos(start, now);
            painter.rect(
                r,
                0.0,
                Color32::from_rgba_unmultiplied(30, 110, 220, 40),
                Stroke::new(1.0, style::L1),
                egui::StrokeKind::Inside,
            );
        }
        this.out.transform = Some(t);
        this.out.drawn = drawn;
    }
}

/// Paints cables, connections and stations; returns (connections, segments) drawn.
pub fn paint_network(painter: &egui::Painter, frame: &MapFrame<'_>, state: &AppState, hovered: Option<Hit>) -> (usize, usize) {
    let (t, ds, idx) = (&frame.transform, frame.dataset, frame.index);
    let net = &*ds.network;
    let style = &state.style;
    let mut mesh = MeshBuilder::default();
    let mut segments = 0;

    if style.show_cables {
        let width = match t.zoom {
            z if z < 15.0 => 1.2,
            z if z < 17.0 => 2.0,
            _ => 3.0,
        };
        if let Some(sel) = state.selection.cable.filter(|c| *c < idx.cables.len()) {
            for w in idx.cables[sel].windows(2) {
                mesh.segment(t.to_screen(w[0]), t.to_screen(w[1]), width + 5.0, style::SELECTED);
            }
        }
        let hovered_cable = match hovered {
            Some(Hit::Cable(c)) => Some(c),
            _ => None,
        };
        for (c, s) in idx.segments_in(&frame.visible) {
            let line = &idx.cables[c];
            let (a, b) = (t.to_screen(line[s]), t.to_screen(line[s + 1]));
            if (a - b).length_sq() < 0.25 {
                continue; // shorter than half a pixel: its neighbours cover it
            }
            let color = style::feeder_color(idx.cable_feeder[c] as usize);
            let w = if hovered_cable == Some(c) { width + 2.0 } else { width };
            mesh.segment(a, b, w, color);
            segments += 1;
        }
    }

    let mut drawn = 0;
    if style.show_connections {
        let visible: Vec<usize> = frame.visible_connections().collect();
        drawn = visible.len();
        let feeder_index = |f: &str| idx.feeder_index(f).unwrap_or(0);
        let color_of = |i: usize| {
            let c = &net.connections[i];
            if style.color_mode == ColorMode::Feeder {
                return style::feeder_color(idx.connection_feeder[i] as usize);
            }
            style::connection_color(style.color_mode, c, state.assignment(i), state.review_mark(i), feeder_index)
        };
        if visible.len() > DENSE_POINTS {
            // Zoomed out over a big region: one 2x2 px square per occupied 2 px cell.
            let cell = 2.0f32;
            let cols = (t.rect.width() / cell).ceil() as usize + 2;
            let rows = (t.rect.height() / cell).ceil() as usize + 2;
            let mut seen = vec![false; cols * rows];
            for &i in &visible {
                let p = t.to_screen(idx.connections[i]);
                let (cx, cy) = (((p.x - t.rect.min.x) / cell) as isize, ((p.y - t.rect.min.y) / cell) as isize);
                if cx < 0 || cy < 0 || cx as usize >= cols || cy as usize >= rows {
                    continue;
                }
                let k = cy as usize * cols + cx as usize;
                if !seen[k] {
                    seen[k] = true;
                    let min = t.rect.min + Vec2::new(cx as f32 * cell, cy as f32 * cell);
                    mesh.rect(Rect::from_min_size(min, Vec2::splat(cell)), color_of(i));
                }
            }
        } else {
            let r = marker_radius(t.zoom);
            let outline = if r >= 3.0 { Color32::WHITE } else { Color32::from_white_alpha(0) };
            for &i in &visible {
                let p = t.to_screen(idx.connections[i]);
                let conventional = net.connections[i].meter == lvtopo_core::model::MeterKind::Conventional;
                if r >= 3.0 {
                    if conventional { mesh.diamond(p, r + 1.2, outline) } else { mesh.disc(p, r + 1.2, outline) }
                }
                let color = color_of(i);
                if conventional { mesh.diamond(p, r, color) } else { mesh.disc(p, r, color) }
            }
        }
        // Selection and hover rings on top.
        let r = marker_radius(t.zoom);
        for &i in &state.selection.connections {
            if let Some(w) = idx.connections.get(i) {
                let p = t.to_screen(*w);
                if t.rect.expand(20.0).contains(p) {
                    ring(&mut mesh, p, r + 3.5, 2.5, style::SELECTED);
                    if state.selection.primary == Some(i) {
                        ring(&mut mesh, p, r + 6.0, 1.5, Color32::BLACK);
                    }
                }
            }
        }
        if let Some(Hit::Connection(i)) = hovered {
            ring(&mut mesh, t.to_screen(idx.connections[i]), r + 3.0, 1.5, Color32::BLACK);
        }
    }

    if style.show_stations {
        let r = (marker_radius(t.zoom) + 3.0).max(5.0);
        for s in idx.stations_in(&frame.visible) {
            let p = t.to_screen(idx.stations[s]);
            mesh.square(p, r + 1.5, Color32::WHITE);
            mesh.square(p, r, style::STATION);
        }
    }
    painter.add(egui::Shape::mesh(mesh.take()));

    // Labels only when they can be read.
    if style.show_stations && t.zoom >= 14.0 {
        for s in idx.stations_in(&frame.visible) {
            let st = &net.stations[s];
            let p = t.to_screen(idx.stations[s]) + Vec2::new(10.0, 0.0);
            let name = st.name.as_deref().unwrap_or(&st.id);
            halo_text(painter, p, Align2::LEFT_CENTER, name, 13.0, Color32::from_rgb(0x60, 0, 0x10));
        }
    }
    if style.show_connections && t.zoom >= 18.0 && drawn < 400 {
        for i in frame.visible_connections() {
            let c = &net.connections[i];
            if let Some(n) = c.house_number {
                let label = format!("{n}{}", c.house_number_addition.as_deref().unwrap_or(""));
                let p = t.to_screen(idx.connections[i]) + Vec2::new(0.0, -marker_radius(t.zoom) - 2.0);
                halo_text(painter, p, Align2::CENTER_BOTTOM, &label, 11.0, Color32::from_gray(40));
            }
        }
    }
    (drawn, segments)
}

fn ring(mesh: &mut MeshBuilder, c: Pos2, r: f32, width: f32, color: Color32) {
    let n = 24;
    let mut prev = c + Vec2::new(r, 0.0);
    for k in 1..=n {
        let a = k as f32 * std::f32::consts::TAU / n as f32;
        let p = c + Vec2::new(a.cos(), a.sin()) * r;
        mesh.segment(prev, p, width, color);
        prev = p;
    }
}

fn halo_text(painter: &egui::Painter, p: Pos2, align: Align2, text: &str, size: f32, color: Color32) {
    let font = FontId::proportional(size);
    for d in [Vec2::new(1.0, 0.0), Vec2::new(-1.0, 0.0), Vec2::new(0.0, 1.0), Vec2::new(0.0, -1.0)] {
        painter.text(p + d, align, text, font.clone(), Color32::from_white_alpha(220));
    }
    painter.text(p, align, text, font, color);
}

/// Hover tooltip, click selection, shift-drag box selection and cable picking.
fn handle_pointer(
    ui: &mut Ui,
    response: &Response,
    frame: &MapFrame<'_>,
    state: &AppState,
    overlays: &[OverlaySlot],
    interaction: &mut Interaction,
    commands: &mut CommandQueue,
) {
    let t = &frame.transform;
    let idx = frame.index;
    let style = &state.style;
    let picking = state.picking_cable_for.is_some();
    let hit_at = |p: Pos2| -> Option<Hit> {
        let w = t.to_world(p);
        let r = marker_radius(t.zoom) + 4.0;
        if picking {
            return style.show_cables.then(|| idx.nearest_cable(w, t.world_len(8.0))).flatten().map(Hit::Cable);
        }
        (style.show_connections.then(|| idx.nearest_connection(w, t.world_len(r))).flatten().map(Hit::Connection))
            .or_else(|| style.show_stations.then(|| idx.nearest_station(w, t.world_len(10.0))).flatten().map(Hit::Station))
            .or_else(|| style.show_cables.then(|| idx.nearest_cable(w, t.world_len(5.0))).flatten().map(Hit::Cable))
    };
    interaction.hovered = response.hover_pos().and_then(hit_at);
    if picking && interaction.hovered.is_some() {
        ui.ctx().set_cursor_icon(egui::CursorIcon::Crosshair);
    }

    // Box selection with shift-drag.
    let shift = ui.input(|i| i.modifiers.shift);
    if response.drag_started_by(egui::PointerButton::Primary) && shift {
        // From where the button went down, not where the drag was recognised.
        interaction.box_start = ui.input(|i| i.pointer.press_origin()).or(response.interact_pointer_pos());
    }
    if response.drag_stopped()
        && let (Some(a), Some(b)) = (interaction.box_start.take(), response.interact_pointer_pos())
    {
        let r = t.world_rect_of(Rect::from_two_pos(a, b));
        let connections: Vec<usize> = idx.connections_in(&r).collect();
        let add = ui.input(|i| i.modifiers.command);
        commands.push(UiCommand::Select { connections, add });
    }

    if response.clicked() {
        let add = ui.input(|i| i.modifiers.command || i.modifiers.shift);
        match (state.picking_cable_for, interaction.hovered) {
            (Some(conn), Some(Hit::Cable(cable))) => commands.push(UiCommand::SetCable { connection: conn, cable }),
            (Some(_), _) => {}
            (None, Some(Hit::Connection(i))) => commands.push(UiCommand::Select { connections: vec![i], add }),
            (None, Some(Hit::Cable(c))) => commands.push(UiCommand::SelectCable(Some(c))),
            (None, Some(Hit::Station(s))) => commands.push(UiCommand::ZoomToStation(s)),
            (None, None) if !add => commands.push(UiCommand::ClearSelection),
            (None, None) => {}
        }
    }

    if let Some(hit) = interaction.hovered
        && interaction.box_start.is_none()
    {
        let net = &*frame.dataset.network;
        response.clone().on_hover_ui_at_pointer(|ui| match hit {
            Hit::Connection(i) => connection_tooltip(ui, state, overlays, i),
            Hit::Station(s) => {
                let st = &net.stations[s];
                ui.strong(st.name.as_deref().unwrap_or(&st.id));
                ui.label(format!("Station {}", st.id));
                ui.weak("Click to zoom to the station");
            }
            Hit::Cable(c) => {
                let cab = &net.cables[c];
                ui.strong(format!("Cable {}", cab.id));
                ui.label(format!("Feeder {} · station {}", cab.feeder_id, cab.station_id));
                let conductor = cab.conductor.as_deref().unwrap_or("conductor unknown");
                ui.label(format!("{conductor} · {:.0} m", cab.length_m()));
                if let Some(conn) = state.picking_cable_for {
                    ui.strong(format!("Click to move {} onto this cable", net.connections[conn].ean));
                }
            }
        });
    }
}

fn connection_tooltip(ui: &mut Ui, state: &AppState, overlays: &[OverlaySlot], i: usize) {
    let Some(net) = state.network() else { return };
    let c = &net.connections[i];
    ui.strong(&c.ean);
    let addr = c.address();
    if !addr.is_empty() {
        ui.label(addr);
    }
    let mut phase = format!("Phase {} (GIS)", c.phase.map_or("unknown".to_string(), |p| p.to_string()));
    if let Some(p) = state.assignment(i).and_then(|a| a.inferred_phase) {
        phase.push_str(&format!(" · inferred {p}"));
    }
    ui.label(phase);
    ui.label(format!("Feeder {} · cable {}", c.feeder_label(), c.cable_id.as_deref().unwrap_or("(unknown)")));
    let mark = state.review_mark(i);
    if mark != ReviewMark::NotAnalysed {
        ui.colored_label(mark.color(), mark.label());
    }
    for o in overlays.iter().filter(|o| o.enabled) {
        if let Some(s) = o.overlay.connection_tooltip(state, i) {
            ui.label(s);
        }
    }
}

/// A scale bar in the bottom-left corner, in round metres.
fn draw_scale_bar(ui: &Ui, t: &MapTransform) {
    let (_, lat) = lon_lat_of(t.center);
    let m_per_px = 40_075_016.686 * lat.to_radians().cos() / t.scale;
    let target = m_per_px * 100.0;
    let nice = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10_000.0, 20_000.0, 50_000.0];
    let len_m = nice.iter().copied().rfind(|n| *n <= target).unwrap_or(1.0);
    let px = (len_m / m_per_px) as f32;
    let p0 = t.rect.left_bottom() + Vec2::new(12.0, -12.0);
    let painter = ui.painter();
    let bg = Rect::from_min_max(p0 + Vec2::new(-4.0, -20.0), p0 + Vec2::new(px + 4.0, 4.0));
    painter.rect_filled(bg, 2.0, Color32::from_white_alpha(190));
    let stroke = Stroke::new(1.5, Color32::from_gray(40));
    painter.line_segment([p0, p0 + Vec2::new(px, 0.0)], stroke);
    painter.line_segment([p0, p0 + Vec2::new(0.0, -5.0)], stroke);
    painter.line_segment([p0 + Vec2::new(px, 0.0), p0 + Vec2::new(px, -5.0)], stroke);
    let label = if len_m >= 1000.0 { format!("{} km", len_m / 1000.0) } else { format!("{len_m} m") };
    painter.text(
        p0 + Vec2::new(px / 2.0, -6.0),
        Align2::CENTER_BOTTOM,
        label,
        FontId::proportional(11.0),
        Color32::from_gray(40),
    );
}

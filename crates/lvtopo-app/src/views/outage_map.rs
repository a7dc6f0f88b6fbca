//! The outage overlay: the selected incident on the map, in the operators'
//! convention (circles for smart meters, diamonds for conventional ones; "1"
//! had the outage, "N" did not), coloured by the replay moment of the Outages
//! view; the dead area of the localisation highlighted, the suspected element
//! marked and the meters to ask next ringed.

use super::outage::{ReplayState, Shared, hm, short_time};
use crate::map::paint::MeshBuilder;
use crate::map::style::legend_row;
use crate::state::AppState;
use crate::view::{MapFrame, MapOverlay};
use egui::{Color32, Stroke};
use lvtopo_core::model::MeterKind;
use lvtopo_core::outage::FaultElement;
use std::collections::HashSet;

const OFF: Color32 = Color32::from_rgb(215, 25, 28);
const BACK: Color32 = Color32::from_rgb(253, 174, 97);
const NOT_YET: Color32 = Color32::from_rgb(171, 130, 255);
const NO_OUTAGE: Color32 = Color32::from_rgb(26, 150, 65);
const DEAD_AREA: Color32 = Color32::from_rgba_premultiplied(120, 10, 10, 90);
const SUSPECT: Color32 = Color32::from_rgb(120, 0, 0);
const ASK: Color32 = Color32::from_rgb(33, 102, 172);
/// Above this many visible connections the "1"/"N" letters are left out.
const MAX_LETTERS: usize = 1500;

/// Dead area and suspected element of the selected incident, cached per selection.
#[derive(Default)]
struct Highlight {
    key: Option<(usize, usize)>,
    dead_cables: Vec<usize>,
    suspect: Option<FaultElement>,
    ask: HashSet<usize>,
}

pub struct OutageOverlay {
    pub shared: Shared,
    highlight: Highlight,
}

impl OutageOverlay {
    pub fn new(shared: Shared) -> Self {
        OutageOverlay { shared, highlight: Highlight::default() }
    }
}

impl MapOverlay for OutageOverlay {
    fn id(&self) -> &'static str {
        "outages"
    }
    fn title(&self) -> String {
        "Outage (selected incident)".into()
    }
    fn enabled_by_default(&self) -> bool {
        true
    }

    fn paint(&mut self, painter: &egui::Painter, frame: &MapFrame<'_>, _state: &AppState) {
        let mut sh = self.shared.borrow_mut();
        if sh.opened() {
            // Follows a new dataset once the view has been opened (no work before that).
            sh.refresh(frame.dataset, painter.ctx());
        }
        let Some((_, replay)) = sh.current() else { return };
        let t = sh.time.unwrap_or(replay.first_off);
        let net = &frame.dataset.network;

        // Dead area and suspected element of the localisation shown in the view.
        let key = (sh.prepared.as_ref().map_or(0, |p| std::sync::Arc::as_ptr(p) as usize), sh.selected.unwrap_or(usize::MAX));
        if self.highlight.key != Some(key) {
            let mut h = Highlight { key: Some(key), ..Default::default() };
            if let Some((l, _)) = sh.localisation() {
                if let Some(b) = l.best() {
                    h.dead_cables = match &b.element {
                        FaultElement::Cable(c) => frame.dataset.topology.downstream_cables(*c),
                        FaultElement::Feeder(f) => (0..net.cables.len()).filter(|&k| net.cables[k].feeder_id == *f).collect(),
                        FaultElement::Station(s) => {
                            let id = net.stations.get(*s).map(|s| s.id.as_str()).unwrap_or("");
                            (0..net.cables.len()).filter(|&k| net.cables[k].station_id == id).collect()
                        }
                        FaultElement::Connection(_) => Vec::new(),
                    };
                    h.suspect = Some(b.element.clone());
                }
                if !l.decided {
                    h.ask = l.ask_next.iter().map(|a| a.connection).collect();
                }
            }
            self.highlight = h;
        }
        let r = frame.marker_radius();
        let mut mesh = MeshBuilder { mesh: Default::default() };
        let width = (r * 1.6).max(5.0);
        for &c in &self.highlight.dead_cables {
            for w in frame.cable_screen_points(c).windows(2) {
                mesh.segment(w[0], w[1], width * 2.0, DEAD_AREA);
            }
        }
        if let Some(FaultElement::Cable(c)) = &self.highlight.suspect {
            for w in frame.cable_screen_points(*c).windows(2) {
                mesh.segment(w[0], w[1], width, SUSPECT);
            }
        }
        let visible: Vec<usize> = frame.visible_connections().collect();
        for &i in &visible {
            let p = frame.connection_screen_pos(i);
            let color = match replay.state(i, t) {
                Some(ReplayState::Off) => OFF,
                Some(ReplayState::Back) => BACK,
                Some(ReplayState::NotYetOff) => NOT_YET,
                None => NO_OUTAGE,
            };
            match net.connections[i].meter {
                MeterKind::Conventional => mesh.diamond(p, r + 1.0, color),
                _ => mesh.disc(p, r + 1.0, color),
            }
        }
        painter.add(egui::Shape::mesh(mesh.take()));
        let ring = |i: usize, color: Color32, w: f32| {
            painter.circle_stroke(frame.connection_screen_pos(i), r + 4.0, Stroke::new(w, color));
        };
        for &i in &visible {
            if self.highlight.ask.contains(&i) {
                ring(i, ASK, 2.5);
            }
        }
        match &self.highlight.suspect {
            Some(FaultElement::Connection(i)) => ring(*i, SUSPECT, 3.0),
            Some(FaultElement::Station(s)) => {
                if let Some(w) = frame.index.stations.get(*s) {
                    let p = frame.transform.to_screen(*w);
                    painter.rect_stroke(
                        egui::Rect::from_center_size(p, egui::vec2(22.0, 22.0)),
                        2.0,
                        Stroke::new(3.0, SUSPECT),
                        egui::StrokeKind::Outside,
                    );
                }
            }
            _ => {}
        }
        if visible.len() <= MAX_LETTERS && r >= 4.0 {
            let font = egui::FontId::proportional((r * 1.5).max(9.0));
            for &i in &visible {
                let had = replay.intervals.contains_key(&i);
                let p = frame.connection_screen_pos(i);
                painter.text(p, egui::Align2::CENTER_CENTER, if had { "1" } else { "N" }, font.clone(), Color32::WHITE);
            }
        }
        let (off, back, not_yet) = replay.counts(t);
        painter.text(
            painter.clip_rect().left_bottom() + egui::vec2(8.0, -8.0),
            egui::Align2::LEFT_BOTTOM,
            format!("{}: {off} off, {back} back, {not_yet} not yet off", short_time(t)),
            egui::FontId::proportional(14.0),
            Color32::BLACK,
        );
    }

    fn legend(&mut self, ui: &mut egui::Ui, _state: &AppState) {
        if self.shared.borrow().current().is_none() {
            ui.weak("Select an incident in View > Outages");
            return;
        }
        legend_row(ui, OFF, "1: off at the replay moment", false);
        legend_row(ui, BACK, "1: back on", false);
        legend_row(ui, NOT_YET, "1: not yet off", false);
        legend_row(ui, NO_OUTAGE, "N: no outage", false);
        legend_row(ui, Color32::GRAY, "circle smart meter, diamond conventional", true);
        legend_row(ui, DEAD_AREA, "dead area (localisation)", false);
        legend_row(ui, SUSPECT, "suspected element", false);
        legend_row(ui, ASK, "ask these meters next", false);
    }

    fn connection_tooltip(&self, _state: &AppState, i: usize) -> Option<String> {
        let sh = self.shared.borrow();
        let (inc, _) = sh.current()?;
        let row = inc.interruptions.iter().find(|r| r.connection == Some(i))?;
        Some(format!(
            "{}: off {} (longest {}), EUR {}{}",
            inc.id,
            hm(row.off_s),
            hm(row.longest_s),
            row.compensation.amount_eur,
            if row.basis.as_str() == "topology" { ", by topology" } else { "" }
        ))
    }
}

/// Whether the overlay marks `conn` as a "1" in the incident (exposed for tests).
pub fn had_outage(shared: &Shared, conn: usize) -> bool {
    shared.borrow().current().is_some_and(|(_, r)| r.intervals.contains_key(&conn))
}

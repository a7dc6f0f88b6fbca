//! Voltage by house number — the picture engineers trust. For a street (or a
//! feeder): each connection's voltage against its house number, odd and even
//! side apart, one line per grid phase, at one moment or averaged over the
//! evening peak. Along one cable and phase the voltage changes gradually; a
//! zigzag is physically impossible and marks a wrong registration. Switching
//! from "as registered" to "with corrections" shows the zigzag disappear.

use crate::command::{UiCommand, panel_ids};
use crate::map::style;
use crate::series::{Moment, Wiring, mean_at, steps};
use crate::state::AppState;
use crate::view::{Placement, View, ViewContext};
use egui_plot::{Legend, Line, MarkerShape, Plot, PlotPoints, Points};
use lvtopo_core::model::{Network, Phase, time};

/// Which phases the plot puts each connection on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registration {
    /// As the GIS has it.
    AsRegistered,
    /// With the review's accepted decisions and manual edits.
    WithCorrections,
    /// As the inference says (before anyone decided).
    AsInferred,
}

#[derive(Clone, Debug, PartialEq)]
enum Scope {
    Street(String),
    Feeder(String),
}

/// One plotted point.
#[derive(Clone, Debug, PartialEq)]
pub struct HousePoint {
    pub connection: usize,
    pub house_number: f64,
    pub phase: Phase,
    pub volts: f64,
}

/// Points of one side and phase sorted by house number; `true` marks a zigzag:
/// a point that jumps against both neighbours by more than `threshold_v`.
pub fn zigzags(points: &[HousePoint], threshold_v: f64) -> Vec<bool> {
    let mut z = vec![false; points.len()];
    for k in 1..points.len().saturating_sub(1) {
        let (a, b) = (points[k].volts - points[k - 1].volts, points[k + 1].volts - points[k].volts);
        if a.abs() > threshold_v && b.abs() > threshold_v && a.signum() != b.signum() {
            z[k] = true;
        }
    }
    z
}

/// Points for `members`, per side (odd, even) and phase, each sorted by house number.
pub fn house_points(
    net: &Network,
    table: &lvtopo_core::model::VoltageTable,
    members: &[usize],
    wiring: impl Fn(usize) -> Wiring,
    at: &[usize],
) -> [[Vec<HousePoint>; 3]; 2] {
    let mut out: [[Vec<HousePoint>; 3]; 2] = Default::default();
    for &i in members {
        let c = &net.connections[i];
        let Some(n) = c.house_number else { continue };
        let chans = table.channels(&c.ean);
        // An addition (12A, 12-1) sits just after its number.
        let x = n as f64 + if c.house_number_addition.as_deref().is_some_and(|a| !a.is_empty()) { 0.3 } else { 0.0 };
        for (terminal, grid) in wiring(i).channels() {
            let Some(si) = chans[terminal.index()] else { continue };
            let v = mean_at(table.series(si), at);
            if v.is_finite() {
                out[(n % 2 == 0) as usize][grid.index()].push(HousePoint {
                    connection: i,
                    house_number: x,
                    phase: grid,
                    volts: v,
                });
            }
        }
    }
    for side in &mut out {
        for line in side.iter_mut() {
            line.sort_by(|a, b| a.house_number.total_cmp(&b.house_number));
        }
    }
    out
}

pub struct HouseNumbersPanel {
    scope: Option<Scope>,
    follow_selection: bool,
    evening_peak: bool,
    step: usize,
    registration: Registration,
    threshold_v: f64,
    last_primary: Option<usize>,
}

impl Default for HouseNumbersPanel {
    fn default() -> Self {
        HouseNumbersPanel {
            scope: None,
            follow_selection: true,
            evening_peak: true,
            step: 0,
            registration: Registration::AsRegistered,
            threshold_v: 0.8,
            last_primary: None,
        }
    }
}

impl HouseNumbersPanel {
    fn members(&self, net: &Network) -> Vec<usize> {
        match &self.scope {
            Some(Scope::Street(s)) => {
                (0..net.connections.len()).filter(|&i| net.connections[i].street.as_deref() == Some(s)).collect()
            }
            Some(Scope::Feeder(f)) => {
                (0..net.connections.len()).filter(|&i| net.connections[i].feeder_id.as_ref() == Some(f)).collect()
            }
            None => Vec::new(),
        }
    }
}

fn wiring_for(state: &AppState, net: &Network, reg: Registration, i: usize) -> Wiring {
    let p = net.connections[i].phase;
    match reg {
        Registration::AsRegistered => Wiring::registered(p),
        Registration::WithCorrections => Wiring::inferred(p, state.corrected_phase(i)),
        Registration::AsInferred => Wiring::inferred(p, state.inferred_phase(i)),
    }
}

impl View for HouseNumbersPanel {
    fn id(&self) -> &'static str {
        panel_ids::HOUSE_NUMBERS
    }
    fn title(&self) -> String {
        "Voltage by house number".into()
    }
    fn placement(&self) -> Placement {
        Placement::Bottom
    }
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext<'_>) {
        let Some(ds) = cx.dataset().cloned() else {
            ui.weak("No network open.");
            return;
        };
        let net = &*ds.network;
        // Follow the map selection: its street.
        let primary = cx.state.selection.primary;
        if self.follow_selection
            && primary != self.last_primary
            && let Some(s) = primary.and_then(|i| net.connections.get(i)).and_then(|c| c.street.clone())
        {
            self.scope = Some(Scope::Street(s));
        }
        self.last_primary = primary;
        if self.scope.is_none() {
            // Start on the street with the most connections.
            let mut counts: std::collections::HashMap<&str, usize> = Default::default();
            for c in &net.connections {
                if let Some(s) = &c.street {
                    *counts.entry(s).or_default() += 1;
                }
            }
            self.scope =
                counts.into_iter().max_by_key(|(s, n)| (*n, std::cmp::Reverse(*s))).map(|(s, _)| Scope::Street(s.to_string()));
        }
        let Some(table) = ds.measurements.voltage.as_ref() else {
            ui.weak("No voltage read loaded (voltage.csv).");
            return;
        };
        self.controls(ui, cx, net, table);
        let members = self.members(net);
        let at = if self.evening_peak { steps(table, Moment::EVENING_PEAK) } else { steps(table, Moment::At(self.step)) };
        let state = cx.state;
        let reg = self.registration;
        let pts = house_points(net, table, &members, |i| wiring_for(state, net, reg, i), &at);
        let zig: usize = pts.iter().flatten().map(|l| zigzags(l, self.threshold_v).iter().filter(|z| **z).count()).sum();
        ui.horizontal(|ui| {
            if zig > 0 {
                ui.colored_label(
                    style::SUGGEST,
                    format!("{zig} zigzag point(s): physically impossible, check the phase registration"),
                );
            } else if pts.iter().flatten().any(|l| !l.is_empty()) {
                ui.colored_label(style::OK, "No zigzags: every phase line is smooth");
            }
        });
        let selected = &cx.state.selection.connections;
        let mut clicked: Option<usize> = None;
        ui.columns(2, |cols| {
            for (side, ui) in cols.iter_mut().enumerate() {
                ui.strong(if side == 0 { "Odd side" } else { "Even side" });
                let lines = &pts[side];
                let resp = Plot::new(("house-numbers", side))
                    .height(ui.available_height().clamp(160.0, 420.0))
                    .legend(Legend::default())
                    .x_axis_label("house number")
                    .y_axis_label("V")
                    .label_formatter(|p| {
                        let pos = match p {
                            egui_plot::HoverPosition::NearDataPoint { position, .. } => position,
                            egui_plot::HoverPosition::Elsewhere { position } => position,
                        };
                        Some(format!("no. {:.0}\n{:.1} V", pos.x, pos.y))
                    })
                    .show(ui, |pui| {
                        for p in Phase::ALL {
                            let line = &lines[p.index()];
                            if line.is_empty() {
                                continue;
                            }
                            let color = style::phase_color(p);
                            let xy: Vec<[f64; 2]> = line.iter().map(|h| [h.house_number, h.volts]).collect();
                            // No banding: every house is a point of its own, the zigzag must stay visible.
                            pui.line(
                                Line::new(p.as_str(), PlotPoints::from(xy.clone())).color(color).width(1.5).allow_band(false),
                            );
                            pui.points(Points::new(p.as_str(), PlotPoints::from(xy)).color(color).radius(4.0).filled(true));
                            let z = zigzags(line, self.threshold_v);
                            let zxy: Vec<[f64; 2]> =
                                line.iter().zip(&z).filter(|(_, z)| **z).map(|(h, _)| [h.house_number, h.volts]).collect();
                            if !zxy.is_empty() {
                                pui.points(
                                    Points::new("zigzag", PlotPoints::from(zxy))
                                        .color(style::SUGGEST)
                                        .radius(9.0)
                                        .filled(false)
                                        .shape(MarkerShape::Circle),
                                );
                            }
                            let sel: Vec<[f64; 2]> = line
                                .iter()
                                .filter(|h| selected.contains(&h.connection))
                                .map(|h| [h.house_number, h.volts])
                                .collect();
                            if !sel.is_empty() {
                                pui.points(
                                    Points::new("selected", PlotPoints::from(sel))
                                        .color(style::SELECTED)
                                        .radius(6.5)
                                        .filled(false),
                                );
                            }
                        }
                    });
                if resp.response.clicked()
                    && let Some(pos) = resp.response.interact_pointer_pos()
                {
                    let t = resp.transform;
                    clicked = lines
                        .iter()
                        .flatten()
                        .map(|h| {
                            (
                                h.connection,
                                t.position_from_point(&egui_plot::PlotPoint::new(h.house_number, h.volts)).distance(pos),
                            )
                        })
                        .filter(|(_, d)| *d < 12.0)
                        .min_by(|a, b| a.1.total_cmp(&b.1))
                        .map(|(c, _)| c)
                        .or(clicked);
                }
            }
        });
        if let Some(c) = clicked {
            cx.push(UiCommand::Select { connections: vec![c], add: false });
        }
    }
}

impl HouseNumbersPanel {
    fn controls(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext<'_>, net: &Network, table: &lvtopo_core::model::VoltageTable) {
        ui.horizontal_wrapped(|ui| {
            let label = match &self.scope {
                Some(Scope::Street(s)) => format!("Street: {s}"),
                Some(Scope::Feeder(f)) => format!("Feeder: {f}"),
                None => "Choose…".into(),
            };
            let lbl = ui.label("Show").id;
            egui::ComboBox::from_id_salt("hn-scope")
                .selected_text(label)
                .height(400.0)
                .show_ui(ui, |ui| {
                    let mut streets: Vec<&str> = net.connections.iter().filter_map(|c| c.street.as_deref()).collect();
                    streets.sort_unstable();
                    streets.dedup();
                    for s in streets {
                        if ui.selectable_label(self.scope == Some(Scope::Street(s.to_string())), s).clicked() {
                            self.scope = Some(Scope::Street(s.to_string()));
                            self.follow_selection = false;
                        }
                    }
                    ui.separator();
                    for (f, _) in net.feeders() {
                        if ui.selectable_label(self.scope == Some(Scope::Feeder(f.clone())), format!("Feeder {f}")).clicked() {
                            self.scope = Some(Scope::Feeder(f));
                            self.follow_selection = false;
                        }
                    }
                })
                .response
                .labelled_by(lbl);
            ui.checkbox(&mut self.follow_selection, "follow selection");
            ui.separator();
            for (r, l) in [
                (Registration::AsRegistered, "As registered"),
                (Registration::WithCorrections, "With corrections"),
                (Registration::AsInferred, "As inferred"),
            ] {
                let enabled = match r {
                    Registration::AsRegistered | Registration::WithCorrections => true,
                    Registration::AsInferred => cx.state.analysis.is_some(),
                };
                if ui.add_enabled(enabled, egui::Button::selectable(self.registration == r, l)).clicked() {
                    self.registration = r;
                }
            }
            ui.separator();
            ui.checkbox(&mut self.evening_peak, "evening peak average (17–21 h)");
            if !self.evening_peak && table.grid.len > 0 {
                self.step = self.step.min(table.grid.len - 1);
                ui.add(
                    egui::Slider::new(&mut self.step, 0..=table.grid.len - 1)
                        .custom_formatter(|v, _| {
                            time::to_amsterdam(table.grid.time(v as usize)).format("%a %d-%m %H:%M").to_string()
                        })
                        .text("moment"),
                );
            }
            ui.add(egui::Slider::new(&mut self.threshold_v, 0.2..=3.0).text("zigzag >= V").fixed_decimals(1));
            if let Some(Scope::Street(s)) = &self.scope
                && ui.button("Select on map").clicked()
            {
                let list: Vec<usize> =
                    (0..net.connections.len()).filter(|&i| net.connections[i].street.as_deref() == Some(s)).collect();
                cx.push(UiCommand::Select { connections: list, add: false });
                cx.push(UiCommand::ZoomToSelection);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hp(n: f64, v: f64) -> HousePoint {
        HousePoint { connection: 0, house_number: n, phase: Phase::L1, volts: v }
    }

    #[test]
    fn a_spike_is_a_zigzag_a_slope_is_not() {
        let smooth = [hp(1.0, 235.0), hp(3.0, 234.2), hp(5.0, 233.5), hp(7.0, 232.9)];
        assert_eq!(zigzags(&smooth, 0.5), vec![false; 4]);
        let spike = [hp(1.0, 235.0), hp(3.0, 231.0), hp(5.0, 233.5), hp(7.0, 233.2)];
        assert_eq!(zigzags(&spike, 0.5), vec![false, true, false, false]);
        assert!(zigzags(&[], 0.5).is_empty());
    }
}

//! Inspector of the selected connection: attributes, registered against
//! inferred values with confidence, the evidence, the review actions, and its
//! voltage against the phase references of its feeder.

use crate::command::panel_ids;
use crate::map::style;
use crate::series::{Wiring, phase_references};
use crate::state::{AppState, Dataset};
use crate::view::{Placement, View, ViewContext};
use egui_plot::{Legend, Line, Plot, PlotPoints};
use lvtopo_core::analysis::{Assignment, Status};
use lvtopo_core::model::{Connection, MeterKind, Phase, time};
use std::sync::Arc;

/// Feeder references of the last selection (recomputed when it changes).
struct RefCache {
    key: (usize, usize, usize, bool),
    refs: [Vec<f32>; 3],
    members: usize,
}

#[derive(Default)]
pub struct InspectorPanel {
    /// Subtract the feeder mean so the phases stand apart from the common MV variation.
    detrend: bool,
    cache: Option<RefCache>,
}

impl View for InspectorPanel {
    fn id(&self) -> &'static str {
        panel_ids::INSPECTOR
    }
    fn title(&self) -> String {
        "Inspector".into()
    }
    fn placement(&self) -> Placement {
        Placement::Right
    }
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext<'_>) {
        let Some(ds) = cx.dataset().cloned() else {
            ui.weak("No network open.");
            return;
        };
        let sel = &cx.state.selection;
        if sel.connections.len() > 1 {
            super::selection::selection_list(ui, cx);
        }
        let sel = &cx.state.selection;
        let Some(i) = sel.primary.filter(|&i| i < ds.network.connections.len()) else {
            if let Some(c) = sel.cable.and_then(|c| ds.network.cables.get(c)) {
                cable_summary(ui, c);
            } else {
                ui.weak("Click a connection on the map (shift-drag selects a box).");
            }
            return;
        };
        let c = &ds.network.connections[i];
        attributes(ui, c);
        ui.separator();
        let a = cx.state.assignment(i).cloned();
        comparison(ui, c, a.as_ref());
        if let Some(a) = &a {
            evidence(ui, a);
        }
        ui.separator();
        super::review_actions::connection_actions(ui, cx, i);
        ui.separator();
        self.plot(ui, cx.state, &ds, i);
    }
}

fn attributes(ui: &mut egui::Ui, c: &Connection) {
    ui.heading(&c.ean);
    let addr = c.address();
    ui.label(if addr.is_empty() { "no address".to_string() } else { addr });
    egui::Grid::new("inspector-attrs").num_columns(2).show(ui, |ui| {
        let row = |ui: &mut egui::Ui, k: &str, v: String| {
            ui.weak(k);
            ui.label(v);
            ui.end_row();
        };
        row(
            ui,
            "meter",
            match c.meter {
                MeterKind::Smart => "smart".into(),
                MeterKind::Conventional => "conventional (no reads)".into(),
            },
        );
        row(ui, "capacity", c.capacity.to_string());
        row(ui, "PV registered", c.pv_kwp_registered.filter(|k| *k > 0.0).map_or("none".into(), |k| format!("{k:.1} kWp")));
        if lvtopo_core::model::ean_check_digit_ok(&c.ean) {
        } else {
            row(ui, "EAN check", "check digit does not verify".into());
        }
    });
}

fn comparison(ui: &mut egui::Ui, c: &Connection, a: Option<&Assignment>) {
    let Some(a) = a else {
        egui::Grid::new("inspector-gis").num_columns(2).show(ui, |ui| {
            for (k, v) in [("station", c.station_id.as_str()), ("feeder", c.feeder()), ("cable", c.cable())] {
                ui.weak(k);
                ui.label(if v.is_empty() { "unknown" } else { v });
                ui.end_row();
            }
            ui.weak("phase");
            ui.label(c.phase.map_or("unknown".to_string(), |p| p.to_string()));
            ui.end_row();
        });
        ui.weak("Not analysed yet (Analysis > Run analysis, F5).");
        return;
    };
    let mark = style::ReviewMark::from_status(a.status);
    ui.horizontal(|ui| {
        let text = match a.status {
            Status::Ok => "GIS registration confirmed",
            Status::SuggestChange => "The data suggest a change",
            Status::InsufficientData => "Insufficient data",
            Status::FillIn => "Filled in: the GIS did not know",
        };
        ui.colored_label(mark.color(), egui::RichText::new(text).strong());
    });
    if let Some(r) = &a.reason {
        ui.weak(crate::state::displayable(r));
    }
    egui::Grid::new("inspector-compare").num_columns(4).striped(true).show(ui, |ui| {
        for h in ["", "GIS", "inferred", "confidence"] {
            ui.strong(h);
        }
        ui.end_row();
        let inferred_phase = a.inferred_phase.map(|p| p.to_string());
        let rows: [(&str, String, Option<String>, f64); 3] = [
            ("phase", c.phase.map_or("unknown".to_string(), |p| p.to_string()), inferred_phase, a.phase_confidence),
            ("feeder", c.feeder_id.clone().unwrap_or_else(|| "unknown".into()), a.inferred_feeder.clone(), a.feeder_confidence),
            ("cable", c.cable_id.clone().unwrap_or_else(|| "unknown".into()), a.inferred_cable.clone(), a.cable_confidence),
        ];
        for (k, gis, inf, conf) in rows {
            ui.weak(k);
            ui.label(&gis);
            match &inf {
                Some(v) if *v != gis && !(k == "phase" && v == "L1L2L3" && gis == "L123") => {
                    ui.colored_label(style::SUGGEST, format!("-> {v}"));
                }
                Some(v) => {
                    ui.label(v);
                }
                None => {
                    ui.weak("—");
                }
            }
            if inf.is_some() {
                ui.add(
                    egui::ProgressBar::new(conf as f32)
                        .desired_width(70.0)
                        .fill(style::confidence_color(conf))
                        .text(format!("{conf:.2}")),
                );
            } else {
                ui.weak("");
            }
            ui.end_row();
        }
    });
}

fn evidence(ui: &mut egui::Ui, a: &Assignment) {
    let e = &a.evidence;
    egui::CollapsingHeader::new("Evidence").default_open(true).show(ui, |ui| {
        if e.points_used > 0 {
            ui.label(format!("{} ten-minute points used ({:.1} days)", e.points_used, e.points_used as f64 / 144.0));
        }
        if e.phase_correlation.iter().any(|c| *c != 0.0) {
            ui.label("Correlation with the phase references of the feeder");
            for p in Phase::ALL {
                let c = e.phase_correlation[p.index()];
                ui.horizontal(|ui| {
                    ui.colored_label(style::phase_color(p), p.as_str());
                    // The value beside the bar: inside a near-empty bar it would be unreadable.
                    ui.monospace(format!("{c:+.3}"));
                    ui.add(egui::ProgressBar::new(c.max(0.0) as f32).desired_width(140.0).fill(style::phase_color(p)));
                });
            }
        }
        scores(ui, "Feeder candidates", &e.feeder_scores);
        scores(ui, "Cable candidates", &e.cable_scores);
        for n in &e.notes {
            ui.label(format!("• {}", crate::state::displayable(n)));
        }
        if e.points_used == 0 && e.feeder_scores.is_empty() && e.notes.is_empty() {
            ui.weak("No evidence recorded.");
        }
    });
}

fn scores(ui: &mut egui::Ui, title: &str, s: &[(String, f64)]) {
    if s.is_empty() {
        return;
    }
    ui.label(title);
    egui::Grid::new(title).num_columns(2).show(ui, |ui| {
        for (id, score) in s.iter().take(5) {
            ui.label(id);
            ui.label(format!("{score:.3}"));
            ui.end_row();
        }
    });
}

fn cable_summary(ui: &mut egui::Ui, c: &lvtopo_core::model::Cable) {
    ui.heading(format!("Cable {}", c.id));
    egui::Grid::new("inspector-cable").num_columns(2).show(ui, |ui| {
        for (k, v) in [
            ("station", c.station_id.clone()),
            ("feeder", c.feeder_id.clone()),
            ("conductor", c.conductor.clone().unwrap_or_else(|| "unknown".into())),
            ("length", format!("{:.0} m", c.length_m())),
        ] {
            ui.weak(k);
            ui.label(v);
            ui.end_row();
        }
    });
}

impl InspectorPanel {
    fn plot(&mut self, ui: &mut egui::Ui, state: &AppState, ds: &Dataset, i: usize) {
        let Some(table) = ds.measurements.voltage.as_ref() else {
            ui.weak("No voltage read loaded (voltage.csv).");
            return;
        };
        let net = &*ds.network;
        let c = &net.connections[i];
        let chans = table.channels(&c.ean);
        if chans.iter().all(Option::is_none) {
            ui.weak("This meter has no voltage reads.");
            return;
        }
        let wiring_of =
            |k: usize| Wiring::inferred(net.connections[k].phase, state.inferred_phase(k).or_else(|| state.corrected_phase(k)));
        let analysis_key = state.analysis.as_ref().map_or(0, |a| Arc::as_ptr(a) as usize) ^ state.review_generation();
        let key = (i, Arc::as_ptr(&ds.network) as usize, analysis_key, true);
        if self.cache.as_ref().is_none_or(|c| c.key != key) {
            let feeder = &c.feeder_id;
            let members: Vec<(usize, Wiring)> = (0..net.connections.len())
                .filter(|&k| feeder.is_some() && &net.connections[k].feeder_id == feeder)
                .map(|k| (k, wiring_of(k)))
                .collect();
            let refs = phase_references(net, table, members.iter().copied(), Some(i));
            self.cache = Some(RefCache { key, refs, members: members.len() });
        }
        let cache = self.cache.as_ref().expect("filled above");
        ui.horizontal(|ui| {
            ui.strong("Voltage");
            ui.checkbox(&mut self.detrend, "minus feeder mean").on_hover_text(
                "Subtract the mean of all phases of the feeder: removes the MV-side variation all meters share, so the phase that moves with this meter stands out",
            );
        });
        ui.weak(format!(
            "Against the mean of each phase of feeder {} ({} connections, with corrections)",
            c.feeder_label(),
            cache.members
        ));
        let n = table.grid.len;
        let common: Vec<f32> = (0..n)
            .map(|k| {
                let v: Vec<f32> = cache.refs.iter().map(|r| r[k]).filter(|v| v.is_finite()).collect();
                if v.is_empty() { f32::NAN } else { v.iter().sum::<f32>() / v.len() as f32 }
            })
            .collect();
        let detrend = self.detrend;
        let to_points = |s: &[f32]| -> PlotPoints<'static> {
            let pts: Vec<[f64; 2]> = s
                .iter()
                .enumerate()
                .filter_map(|(k, v)| {
                    let y = if detrend { v - common[k] } else { *v };
                    y.is_finite().then(|| [table.grid.time(k) as f64, y as f64])
                })
                .collect();
            PlotPoints::from(pts)
        };
        let own = wiring_of(i);
        Plot::new(("inspector-plot", i))
            .height(260.0)
            .legend(Legend::default())
            .y_axis_label(if detrend { "V - feeder mean" } else { "V" })
            .x_axis_formatter(|m, _| time::to_amsterdam(m.value as i64).format("%d-%m %H:%M").to_string())
            .label_formatter(|p| {
                let pos = match p {
                    egui_plot::HoverPosition::NearDataPoint { position, .. } => position,
                    egui_plot::HoverPosition::Elsewhere { position } => position,
                };
                Some(format!("{}\n{:.1} V", time::to_amsterdam(pos.x as i64).format("%a %d-%m %H:%M"), pos.y))
            })
            .show(ui, |pui| {
                for p in Phase::ALL {
                    pui.line(
                        Line::new(format!("feeder {p}"), to_points(&cache.refs[p.index()]))
                            .color(style::phase_color(p).gamma_multiply(0.75))
                            .width(1.2),
                    );
                }
                for (terminal, grid) in own.channels() {
                    if let Some(si) = chans[terminal.index()] {
                        let name = match own {
                            Wiring::Single(_) => format!("this meter (on {grid})"),
                            Wiring::Three(_) => format!("meter {terminal} (on {grid})"),
                            Wiring::Unknown => format!("meter {terminal}"),
                        };
                        pui.line(Line::new(name, to_points(table.series(si))).color(egui::Color32::BLACK).width(2.0));
                    }
                }
            });
    }
}

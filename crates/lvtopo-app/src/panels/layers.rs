//! Layers and legend: background map, network layers, colouring of the
//! connections with its legend, registered overlays, and the stations and
//! feeders with zoom buttons.

use crate::command::{CommandQueue, UiCommand};
use crate::map::style::{self, ColorMode, ReviewMark, legend_row};
use crate::map::tiles::Basemap;
use crate::state::AppState;
use crate::view::OverlaySlot;
use lvtopo_core::model::Phase;

pub fn ui(ui: &mut egui::Ui, state: &AppState, overlays: &mut [OverlaySlot], commands: &mut CommandQueue) {
    let mut st = state.style.clone();
    ui.horizontal(|ui| {
        let lbl = ui.label("Background").id;
        egui::ComboBox::from_id_salt("basemap")
            .selected_text(short(state.basemap))
            .show_ui(ui, |ui| {
                for b in Basemap::ALL {
                    if ui.selectable_label(state.basemap == b, b.label()).clicked() {
                        commands.push(UiCommand::SetBasemap(b));
                    }
                }
            })
            .response
            .labelled_by(lbl);
    });
    ui.checkbox(&mut st.show_stations, "Stations");
    ui.checkbox(&mut st.show_cables, "Cables (colour per feeder)");
    ui.checkbox(&mut st.show_connections, "Connections");
    ui.add_space(4.0);
    let lbl = ui.label("Colour connections by").id;
    egui::ComboBox::from_id_salt("color-mode")
        .selected_text(st.color_mode.label())
        .width(ui.available_width() - 8.0)
        .show_ui(ui, |ui| {
            for m in ColorMode::ALL {
                ui.selectable_value(&mut st.color_mode, m, m.label());
            }
        })
        .response
        .labelled_by(lbl);
    if st != state.style {
        commands.push(UiCommand::SetStyle(st.clone()));
    }
    ui.add_space(2.0);
    legend(ui, state, st.color_mode);
    if !overlays.is_empty() {
        ui.separator();
        ui.strong("Overlays");
        for slot in overlays.iter_mut() {
            let mut on = slot.enabled;
            if ui.checkbox(&mut on, slot.overlay.title()).changed() {
                commands.push(UiCommand::ToggleOverlay(slot.overlay.id()));
            }
            if slot.enabled {
                ui.indent(slot.overlay.id(), |ui| slot.overlay.legend(ui, state));
            }
        }
    }
    if let Some(ds) = &state.dataset {
        ui.separator();
        egui::CollapsingHeader::new(format!("Stations and feeders ({})", ds.network.stations.len())).default_open(false).show(
            ui,
            |ui| {
                let feeders = &ds.index.feeder_ids;
                for (si, s) in ds.network.stations.iter().enumerate() {
                    ui.horizontal(|ui| {
                        if ui.link(s.name.as_deref().unwrap_or(&s.id)).on_hover_text("Zoom to this station").clicked() {
                            commands.push(UiCommand::ZoomToStation(si));
                        }
                    });
                    ui.indent(("feeders", si), |ui| {
                        ui.horizontal_wrapped(|ui| {
                            for (fi, f) in feeders.iter().enumerate() {
                                let on_station = ds.network.cables.iter().any(|c| &c.feeder_id == f && c.station_id == s.id);
                                if !on_station {
                                    continue;
                                }
                                let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
                                ui.painter().rect_filled(rect.shrink(1.0), 2.0, style::feeder_color(fi));
                                if ui.link(f).on_hover_text("Zoom to this feeder").clicked() {
                                    commands.push(UiCommand::ZoomToFeeder(f.clone()));
                                }
                            }
                        });
                    });
                }
            },
        );
    }
}

fn short(b: Basemap) -> &'static str {
    match b {
        Basemap::None => "None",
        Basemap::PdokGrey => "PDOK grijs",
        Basemap::PdokStandard => "PDOK standaard",
        Basemap::PdokPastel => "PDOK pastel",
        Basemap::Osm => "OpenStreetMap",
    }
}

fn legend(ui: &mut egui::Ui, state: &AppState, mode: ColorMode) {
    match mode {
        ColorMode::RegisteredPhase | ColorMode::InferredPhase => {
            for p in Phase::ALL {
                legend_row(ui, style::phase_color(p), p.as_str(), false);
            }
            legend_row(ui, style::THREE_PHASE, "three-phase (L123 / rotation)", false);
            if mode == ColorMode::InferredPhase {
                legend_row(ui, style::UNKNOWN, "not inferred", false);
                if state.analysis.is_none() {
                    ui.weak("Run the analysis (F5) to infer phases.");
                }
            }
        }
        ColorMode::SuggestionStatus => {
            for m in [
                ReviewMark::Pending,
                ReviewMark::Accepted,
                ReviewMark::Rejected,
                ReviewMark::Edited,
                ReviewMark::Confirmed,
                ReviewMark::InsufficientData,
            ] {
                legend_row(ui, m.color(), m.label(), false);
            }
        }
        ColorMode::Confidence => {
            for (c, l) in [(0.95, ">= 0.95"), (0.75, "0.75"), (0.5, "0.5"), (0.1, "< 0.25")] {
                legend_row(ui, style::confidence_color(c), l, false);
            }
            legend_row(ui, style::UNKNOWN, "no result", false);
        }
        ColorMode::Feeder => {
            ui.weak("One colour per registered feeder (as the cables).");
        }
    }
    legend_row(ui, style::UNKNOWN, "conventional meter (no data)", true);
    legend_row(ui, style::STATION, "station", false);
}

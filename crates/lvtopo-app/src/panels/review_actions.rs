//! Review actions on one connection (in the inspector): decide its
//! suggestions, or reassign phase, meter rotation or cable by hand.

use crate::command::UiCommand;
use crate::map::style;
use crate::view::ViewContext;
use lvtopo_core::model::{Phase, PhaseConnection, Rotation};
use lvtopo_core::session::{DecisionState, Field, FieldValue, SessionCommand};

pub fn connection_actions(ui: &mut egui::Ui, cx: &mut ViewContext<'_>, conn: usize) {
    let Some(s) = cx.state.session.as_ref() else { return };
    let mut out: Vec<UiCommand> = Vec::new();
    let ids = s.suggestions_for(conn).to_vec();
    if ids.is_empty() {
        ui.weak("No suggestions for this connection.");
    } else {
        ui.strong("Suggestions");
    }
    for id in ids {
        let Some(sg) = s.suggestion(id) else { continue };
        ui.group(|ui| {
            ui.horizontal_wrapped(|ui| {
                ui.label(format!("{}: {} ->", sg.field, sg.old_value));
                ui.colored_label(style::SUGGEST, sg.new_value.to_string());
                ui.weak(format!("confidence {:.2}", sg.confidence));
            });
            if !sg.evidence.is_empty() {
                ui.weak(crate::state::displayable(&sg.evidence));
            }
            ui.horizontal(|ui| {
                let state = &sg.decision.state;
                let (text, color) = match state {
                    DecisionState::Pending => ("pending".to_string(), style::SUGGEST),
                    DecisionState::Accepted => ("accepted".to_string(), style::ACCEPTED),
                    DecisionState::Rejected => ("rejected".to_string(), style::REJECTED),
                    DecisionState::Edited(v) => (format!("edited: {v}"), style::ACCEPTED),
                };
                ui.colored_label(color, text);
                if let (Some(by), Some(at)) = (&sg.decision.by, &sg.decision.decided_at) {
                    ui.weak(format!("by {by}, {}", at.format("%d-%m %H:%M")));
                }
            });
            ui.horizontal(|ui| {
                let pending = sg.decision.state == DecisionState::Pending;
                if ui.add_enabled(sg.decision.state != DecisionState::Accepted, egui::Button::new("Accept")).clicked() {
                    out.push(UiCommand::Review(SessionCommand::Accept { ids: vec![id], note: None }));
                }
                if ui.add_enabled(sg.decision.state != DecisionState::Rejected, egui::Button::new("Reject")).clicked() {
                    out.push(UiCommand::Review(SessionCommand::Reject { ids: vec![id], note: None }));
                }
                if !pending && ui.button("Back to pending").clicked() {
                    out.push(UiCommand::Review(SessionCommand::Reset { ids: vec![id] }));
                }
                if sg.field == Field::Phase {
                    ui.menu_button("Other phase…", |ui| {
                        for p in Phase::ALL {
                            let v = FieldValue::Phase(PhaseConnection::Single(p));
                            if v != sg.new_value && ui.button(p.as_str()).clicked() {
                                out.push(UiCommand::Review(SessionCommand::Edit { id, value: v, note: None }));
                                ui.close();
                            }
                        }
                    });
                }
            });
        });
    }

    // Manual reassignment.
    let net = s.network();
    let c = &net.connections[conn];
    let eff = s.effective(conn);
    egui::CollapsingHeader::new("Reassign by hand").default_open(false).show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.label("Phase");
            let phases = [
                PhaseConnection::Single(Phase::L1),
                PhaseConnection::Single(Phase::L2),
                PhaseConnection::Single(Phase::L3),
                PhaseConnection::Three,
            ];
            for p in phases {
                if ui.selectable_label(eff.phase == Some(p), p.to_string()).clicked() && eff.phase != Some(p) {
                    out.push(UiCommand::Review(SessionCommand::SetPhase { connection: conn, phase: p, note: None }));
                }
            }
        });
        if eff.phase.is_some_and(|p| p.is_three_phase()) {
            ui.horizontal_wrapped(|ui| {
                ui.label("Meter rotation");
                let cur = eff.rotation.unwrap_or(Rotation::IDENTITY);
                for r in Rotation::all() {
                    if ui.selectable_label(cur == r, r.to_string()).clicked() && cur != r {
                        out.push(UiCommand::Review(SessionCommand::SetRotation { connection: conn, rotation: r, note: None }));
                    }
                }
            });
        }
        ui.horizontal(|ui| {
            ui.label(format!("Cable {}", eff.cable_id.as_deref().unwrap_or("unknown")));
            let picking = cx.state.picking_cable_for == Some(conn);
            if picking {
                if ui.button("Cancel picking").clicked() {
                    out.push(UiCommand::CancelPick);
                }
            } else if ui.button("Pick cable on map").on_hover_text(UiCommand::StartPickCable(conn).tooltip()).clicked() {
                out.push(UiCommand::StartPickCable(conn));
            }
        });
        for f in [Field::Phase, Field::Rotation, Field::Cable] {
            if let Some(e) = s.manual_edit(conn, f) {
                ui.horizontal(|ui| {
                    ui.label(format!("{f}: {} -> {} (by {})", e.old_value, e.value, e.by));
                    if ui.button("Remove edit").clicked() {
                        out.push(UiCommand::Review(SessionCommand::ClearEdit { connection: conn, field: f }));
                    }
                });
            }
        }
        if eff.feeder_id != c.feeder_id || eff.station_id != c.station_id {
            ui.weak(format!(
                "With corrections: feeder {} at station {}",
                eff.feeder_id.as_deref().unwrap_or("unknown"),
                eff.station_id
            ));
        }
    });
    for c in out {
        cx.push(c);
    }
}

//! The selection as a list (after a box selection): each connection with its
//! address, phase and review state, and bulk decisions on their suggestions.

use crate::checks::Confirmation;
use crate::command::{SystemCommand, UiCommand};
use crate::view::ViewContext;
use lvtopo_core::session::{DecisionState, SessionCommand, SuggestionId};

/// Rows listed; a bigger selection is summarised (its bulk actions still cover all of it).
const MAX_ROWS: usize = 300;

pub fn selection_list(ui: &mut egui::Ui, cx: &mut ViewContext<'_>) {
    let Some(ds) = cx.dataset() else { return };
    let sel = &cx.state.selection;
    let net = ds.network.clone();
    let mut out: Vec<crate::command::Command> = Vec::new();
    ui.horizontal(|ui| {
        ui.strong(format!("{} connections selected", sel.connections.len()));
        if ui.button("Zoom to selection").clicked() {
            out.push(UiCommand::ZoomToSelection.into());
        }
        if ui.button("Clear").on_hover_text("Clear the selection").clicked() {
            out.push(UiCommand::ClearSelection.into());
        }
    });
    if let Some(s) = cx.state.session.as_ref() {
        let pending: Vec<SuggestionId> = sel
            .connections
            .iter()
            .flat_map(|&i| s.suggestions_for(i).iter().copied())
            .filter(|id| s.suggestion(*id).is_some_and(|x| x.decision.state == DecisionState::Pending))
            .collect();
        ui.horizontal(|ui| {
            let n = pending.len();
            let accept = UiCommand::Review(SessionCommand::Accept { ids: pending.clone(), note: None });
            if ui.add_enabled(n > 0, egui::Button::new(format!("Accept {n} pending…"))).clicked() {
                out.push(
                    SystemCommand::AskConfirm(Confirmation::new(
                        "Accept the selection's suggestions",
                        format!(
                            "Accept the {n} pending suggestion(s) of the {} selected connections? One undo step.",
                            sel.connections.len()
                        ),
                        format!("Accept {n}"),
                        accept.into(),
                    ))
                    .into(),
                );
            }
            let reject = UiCommand::Review(SessionCommand::Reject { ids: pending, note: None });
            if ui.add_enabled(n > 0, egui::Button::new(format!("Reject {n} pending…"))).clicked() {
                out.push(
                    SystemCommand::AskConfirm(Confirmation::new(
                        "Reject the selection's suggestions",
                        format!(
                            "Reject the {n} pending suggestion(s) of the {} selected connections? One undo step.",
                            sel.connections.len()
                        ),
                        format!("Reject {n}"),
                        reject.into(),
                    ))
                    .into(),
                );
            }
        });
    }
    egui::ScrollArea::vertical().id_salt("selection-list").max_height(180.0).show(ui, |ui| {
        egui::Grid::new("selection-grid").num_columns(3).striped(true).show(ui, |ui| {
            for &i in sel.connections.iter().take(MAX_ROWS) {
                let c = &net.connections[i];
                let label = egui::RichText::new(&c.ean).monospace();
                if ui.selectable_label(sel.primary == Some(i), label).clicked() {
                    out.push(UiCommand::Select { connections: vec![i], add: true }.into());
                }
                ui.label(c.address());
                let mark = cx.state.review_mark(i);
                ui.colored_label(
                    mark.color(),
                    format!("{} · {}", c.phase.map_or("phase unknown".to_string(), |p| p.to_string()), mark.label()),
                );
                ui.end_row();
            }
        });
        if sel.connections.len() > MAX_ROWS {
            ui.weak(format!("… and {} more", sel.connections.len() - MAX_ROWS));
        }
    });
    ui.separator();
    for c in out {
        cx.push(c);
    }
}

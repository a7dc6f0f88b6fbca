//! The window's frame around the panels: menu bar, status bar, command
//! palette and the drop-files hint.

use super::app::LvtopoApp;
use super::command::{Command, CommandQueue, ExportKind, SystemCommand, UiCommand};
use super::files::InAppAnswer;
use super::map::tiles::TileHealth;
use super::view::Placement;

pub fn menu_bar(app: &mut LvtopoApp, ui: &mut egui::Ui, q: &mut CommandQueue) {
    egui::Panel::top("menu").show(ui, |ui| {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                q.menu_item(ui, UiCommand::Open);
                q.menu_item(ui, UiCommand::OpenFolder);
                q.menu_item(ui, UiCommand::OpenSample);
                ui.menu_button("Open recent", |ui| {
                    if app.state.settings.recent.is_empty() {
                        ui.weak("Nothing opened yet");
                    }
                    for p in &app.state.settings.recent {
                        if ui.button(p.display().to_string()).clicked() {
                            q.push(UiCommand::OpenPaths(vec![p.clone()]));
                            ui.close();
                        }
                    }
                    ui.separator();
                    q.menu_item_enabled(ui, UiCommand::ClearRecent, !app.state.settings.recent.is_empty());
                });
                ui.separator();
                ui.menu_button("Export", |ui| {
                    let open = app.state.session.is_some();
                    for k in ExportKind::ALL {
                        export_item(ui, q, k, open);
                    }
                    ui.separator();
                    q.menu_item_enabled(ui, UiCommand::ExportAll, open);
                    ui.separator();
                    let mut only = app.state.settings.export_only_changed;
                    if ui
                        .checkbox(&mut only, "Only changed features")
                        .on_hover_text("GeoPackage and GeoJSON: write only the connections the review changed or filled in")
                        .clicked()
                    {
                        q.push(SystemCommand::SetExportOnlyChanged(only));
                    }
                    let who = app.state.settings.reviewer.as_deref().unwrap_or("not set yet");
                    ui.weak(format!("Reviewer: {who}"));
                    q.menu_item(ui, UiCommand::AskReviewer);
                });
                ui.separator();
                q.menu_item(ui, UiCommand::Quit);
            });
            ui.menu_button("Edit", |ui| {
                q.menu_item(ui, UiCommand::Undo);
                q.menu_item(ui, UiCommand::Redo);
                ui.separator();
                q.menu_item(ui, UiCommand::ClearSelection);
                q.menu_item(ui, UiCommand::FocusSearch);
                ui.separator();
                q.menu_item(ui, UiCommand::CommandPalette);
            });
            ui.menu_button("View", |ui| {
                q.menu_item(ui, UiCommand::ZoomToNetwork);
                q.menu_item_enabled(ui, UiCommand::ZoomToSelection, !app.state.selection.is_empty());
                ui.separator();
                for placement in [Placement::Left, Placement::Right, Placement::Bottom] {
                    for v in app.views.iter().filter(|v| v.placement() == placement) {
                        let mut on = app.open.contains(v.id());
                        if ui.checkbox(&mut on, v.title()).clicked() {
                            q.push(UiCommand::TogglePanel(v.id()));
                        }
                    }
                    if placement == Placement::Left {
                        let mut on = app.open.contains(super::command::panel_ids::LAYERS);
                        if ui.checkbox(&mut on, "Layers and legend").clicked() {
                            q.push(UiCommand::TogglePanel(super::command::panel_ids::LAYERS));
                        }
                    }
                    ui.separator();
                }
            });
            ui.menu_button("Analysis", |ui| {
                let can = app.state.dataset.as_ref().is_some_and(|d| d.has_voltage()) && app.analysis_job.is_none();
                q.menu_item_enabled(ui, UiCommand::RunAnalysis, can);
                q.menu_item_enabled(ui, UiCommand::CancelJob, app.is_busy());
            });
        });
    });
}

fn export_item(ui: &mut egui::Ui, q: &mut CommandQueue, k: ExportKind, enabled: bool) {
    let c = UiCommand::Export(k);
    let r = ui
        .add_enabled(enabled, egui::Button::new(k.label()))
        .on_hover_text(c.tooltip())
        .on_disabled_hover_text("Open a network first");
    if r.clicked() {
        q.push(c);
        ui.close();
    }
}

pub fn status_bar(app: &mut LvtopoApp, ui: &mut egui::Ui, q: &mut CommandQueue) {
    egui::Panel::bottom("status").show(ui, |ui| {
        ui.horizontal(|ui| {
            if let Some(job) = &app.state.job {
                ui.add(egui::ProgressBar::new(job.fraction).desired_width(160.0).show_percentage());
                ui.label(format!("{}: {}", job.title, job.stage));
                if ui.button("Cancel").on_hover_text(UiCommand::CancelJob.tooltip()).clicked() {
                    q.push(UiCommand::CancelJob);
                }
                ui.separator();
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if let Some(s) = &app.state.session {
                    autosave_indicator(ui, s.save_status());
                    let c = s.counts();
                    if c.total + c.manual_edits > 0 {
                        ui.label(format!(
                            "{} pending · {} accepted · {} rejected · {} edited",
                            c.pending,
                            c.accepted,
                            c.rejected,
                            c.edited + c.manual_edits
                        ))
                        .on_hover_text("Suggestions of the review (status bar counts)");
                        ui.separator();
                    }
                }
                if let Some(ds) = &app.state.dataset {
                    ui.weak(format!("{} · {} connections", ds.name, ds.network.connections.len()));
                }
                match app.map.tile_health() {
                    Some(TileHealth::Unavailable) => {
                        ui.weak("Background map unavailable (offline)").on_hover_text(
                            "No tiles could be fetched; the network is drawn on a plain background. Tiles load by themselves when the connection returns.",
                        );
                    }
                    Some(TileHealth::Loading) => {
                        ui.weak("Loading background map…");
                    }
                    _ => {}
                }
                // The message takes the room that is left, shortened (full text on hover).
                if let Some(m) = &app.state.message {
                    ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                        let text = if m.is_error {
                            egui::RichText::new(&m.text).color(ui.visuals().error_fg_color)
                        } else {
                            egui::RichText::new(&m.text)
                        };
                        ui.add(egui::Label::new(text).truncate());
                    });
                }
            });
        });
    });
}

fn autosave_indicator(ui: &mut egui::Ui, status: &lvtopo_core::session::SaveStatus) {
    use lvtopo_core::session::SaveStatus;
    match status {
        SaveStatus::Disabled => {
            ui.weak("not autosaved").on_hover_text("This network was not opened from a file, so the review is not autosaved");
        }
        SaveStatus::NotYetSaved { path } => {
            ui.weak("autosave ready").on_hover_text(format!("Decisions are saved to {}", path.display()));
        }
        SaveStatus::Saved { path, at } => {
            ui.label(format!("saved {}", at.format("%H:%M:%S"))).on_hover_text(format!("Autosaved to {}", path.display()));
        }
        SaveStatus::Failed { path, error } => {
            ui.colored_label(ui.visuals().error_fg_color, "autosave failed")
                .on_hover_text(format!("{}: {error}", path.display()));
        }
        SaveStatus::Paused { path, reason } => {
            ui.colored_label(ui.visuals().warn_fg_color, "autosave paused")
                .on_hover_text(format!("{}: {reason}", path.display()));
        }
    }
    ui.separator();
}

/// Asks what to do with a saved review that no longer fits the network.
pub fn restore_question(app: &mut LvtopoApp, ui: &mut egui::Ui, q: &mut CommandQueue) {
    let Some(text) = app.state.restore_question.clone() else { return };
    egui::Modal::new(egui::Id::unique("restore-question")).show(ui.ctx(), |ui| {
        ui.set_max_width(520.0);
        ui.heading("Saved review session");
        ui.label(text);
        ui.horizontal(|ui| {
            if ui.button("Restore what still fits").clicked() {
                q.push(UiCommand::ResolveRestore { restore: true });
            }
            if ui.button("Start a new session").clicked() {
                q.push(UiCommand::ResolveRestore { restore: false });
            }
        });
    });
}

/// The command palette (Ctrl+P): type to filter, Enter or click to run.
#[derive(Default)]
pub struct Palette {
    query: String,
    focused: bool,
}

pub fn palette(app: &mut LvtopoApp, ui: &mut egui::Ui, q: &mut CommandQueue) {
    let Some(p) = app.palette.as_mut() else { return };
    let mut entries: Vec<(String, UiCommand)> = UiCommand::palette().into_iter().map(|c| (c.label(), c)).collect();
    for v in &app.views {
        entries.push((format!("Show/hide {}", v.title()), UiCommand::TogglePanel(v.id())));
    }
    let words: Vec<String> = p.query.to_lowercase().split_whitespace().map(String::from).collect();
    entries.retain(|(l, _)| {
        let l = l.to_lowercase();
        words.iter().all(|w| l.contains(w))
    });
    let mut close = false;
    let modal = egui::Modal::new(egui::Id::unique("command-palette")).show(ui.ctx(), |ui| {
        ui.set_width(420.0);
        let r = ui.add(egui::TextEdit::singleline(&mut p.query).hint_text("Type a command…").desired_width(f32::INFINITY));
        if !p.focused {
            r.request_focus();
            p.focused = true;
        }
        let enter = ui.input(|i| i.key_pressed(egui::Key::Enter));
        egui::ScrollArea::vertical().max_height(320.0).show(ui, |ui| {
            for (k, (label, cmd)) in entries.iter().enumerate() {
                let mut text = label.clone();
                if let Some(s) = cmd.shortcut() {
                    text.push_str(&format!("    {}", ui.ctx().format_shortcut(&s)));
                }
                let b = ui.selectable_label(k == 0, text).on_hover_text(cmd.tooltip());
                if b.clicked() || (k == 0 && enter) {
                    q.push(cmd.clone());
                    close = true;
                }
            }
        });
        if entries.is_empty() {
            ui.weak("No command matches");
        }
    });
    if close || modal.should_close() {
        app.palette = None;
    }
}

/// While files are dragged over the window: say what dropping does.
pub fn drop_hint(ui: &egui::Ui) {
    let hovering = ui.input(|i| !i.raw.hovered_files.is_empty());
    if !hovering {
        return;
    }
    let rect = ui.ctx().content_rect();
    let painter = ui.ctx().layer_painter(egui::LayerId::new(egui::Order::Foreground, egui::Id::unique("drop-hint")));
    painter.rect_filled(rect, 0.0, egui::Color32::from_black_alpha(140));
    painter.text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        "Drop a GeoPackage, a GeoJSON folder or measurement CSVs to open them",
        egui::FontId::proportional(20.0),
        egui::Color32::WHITE,
    );
}

/// Asks the reviewer's name once; it goes with every decision and export.
pub fn reviewer_prompt(app: &mut LvtopoApp, ui: &mut egui::Ui, q: &mut CommandQueue) {
    let Some(p) = app.reviewer_prompt.as_mut() else { return };
    let mut done: Option<bool> = None;
    egui::Modal::new(egui::Id::unique("reviewer-prompt")).show(ui.ctx(), |ui| {
        ui.set_max_width(460.0);
        ui.heading("Who is reviewing?");
        ui.label("Your name is written with every decision, into corrections.csv and into the exported layers (lvtopo_reviewer). It is asked once and remembered.");
        let r = ui.add(egui::TextEdit::singleline(&mut p.name).hint_text("Name").desired_width(f32::INFINITY));
        if !r.has_focus() && !r.lost_focus() {
            r.request_focus();
        }
        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.horizontal(|ui| {
            let ok = ui.add_enabled(!p.name.trim().is_empty(), egui::Button::new("Use this name"));
            if ok.clicked() || (enter && !p.name.trim().is_empty()) {
                done = Some(true);
            }
            if ui.button("Cancel").clicked() {
                done = Some(false);
            }
        });
    });
    match done {
        Some(true) => {
            let p = app.reviewer_prompt.take().expect("shown above");
            q.push(SystemCommand::SetReviewer(p.name));
            for c in p.then {
                q.push(c);
            }
        }
        Some(false) => {
            let p = app.reviewer_prompt.take().expect("shown above");
            if !p.then.is_empty() {
                app.state.set_message("Not done: decisions and exports need the reviewer's name");
            }
        }
        None => {}
    }
}

/// The in-app file dialog (when the machine has no native one).
pub fn file_dialog(app: &mut LvtopoApp, ui: &mut egui::Ui, q: &mut CommandQueue) {
    let Some(d) = app.file_dialog.as_mut() else { return };
    match d.show(ui.ctx()) {
        InAppAnswer::Open => {}
        InAppAnswer::Picked(paths) => {
            let purpose = app.file_dialog.take().expect("shown above").purpose;
            q.push(Command::System(SystemCommand::PathsChosen { purpose, paths }));
        }
        InAppAnswer::Cancelled => {
            let purpose = app.file_dialog.take().expect("shown above").purpose;
            q.push(SystemCommand::DialogCancelled(purpose));
        }
    }
}

/// Asks before a bulk decision or an edit against the evidence; a reason, when asked, is required.
pub fn confirmation(app: &mut LvtopoApp, ui: &mut egui::Ui, q: &mut CommandQueue) {
    let Some(c) = app.confirmation.as_mut() else { return };
    let mut done: Option<bool> = None;
    let modal = egui::Modal::new(egui::Id::unique("confirmation")).show(ui.ctx(), |ui| {
        ui.set_max_width(480.0);
        ui.heading(&c.title);
        ui.label(&c.text);
        if let Some(reason) = c.reason.as_mut() {
            ui.add(
                egui::TextEdit::singleline(reason).hint_text("Reason (goes into the change log)").desired_width(f32::INFINITY),
            );
        }
        let ready = c.reason.as_ref().is_none_or(|r| !r.trim().is_empty());
        ui.horizontal(|ui| {
            if ui.add_enabled(ready, egui::Button::new(&c.confirm)).clicked() {
                done = Some(true);
            }
            if ui.button("Cancel").clicked() {
                done = Some(false);
            }
        });
    });
    if modal.should_close() && done.is_none() {
        done = Some(false);
    }
    match done {
        Some(true) => q.push(app.confirmation.take().expect("shown above").into_command()),
        Some(false) => {
            app.confirmation = None;
            app.state.set_message("Cancelled: nothing changed");
        }
        None => {}
    }
}

//! The suggestions table: sortable, filterable by station, feeder, status,
//! field and confidence; accept / reject per row, accept all above a
//! confidence. Clicking a row selects the connection on the map.

use crate::checks::Confirmation;
use crate::command::{SystemCommand, UiCommand, panel_ids};
use crate::map::style;
use crate::view::{Placement, View, ViewContext};
use egui_extras::{Column, TableBuilder};
use lvtopo_core::session::{DecisionKind, DecisionState, Field, SessionCommand, SortBy, SuggestionFilter, SuggestionId};

pub struct ReviewPanel {
    filter: SuggestionFilter,
    min_conf: f64,
    search: String,
    sort: SortBy,
    descending: bool,
    accept_threshold: f64,
    /// Ids for (filter, sort, generation) last computed.
    rows: Vec<SuggestionId>,
    computed_for: Option<(String, usize)>,
}

impl Default for ReviewPanel {
    fn default() -> Self {
        ReviewPanel {
            filter: SuggestionFilter::default(),
            min_conf: 0.0,
            search: String::new(),
            sort: SortBy::Confidence,
            descending: true,
            accept_threshold: 0.95,
            rows: Vec::new(),
            computed_for: None,
        }
    }
}

fn kind_color(k: DecisionKind) -> egui::Color32 {
    match k {
        DecisionKind::Pending => style::SUGGEST,
        DecisionKind::Accepted | DecisionKind::Edited => style::ACCEPTED,
        DecisionKind::Rejected => style::REJECTED,
    }
}

impl View for ReviewPanel {
    fn id(&self) -> &'static str {
        panel_ids::REVIEW
    }
    fn title(&self) -> String {
        "Review".into()
    }
    fn placement(&self) -> Placement {
        Placement::Bottom
    }
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext<'_>) {
        let (Some(s), Some(ds)) = (cx.state.session.as_ref(), cx.state.dataset.as_ref()) else {
            ui.weak("No network open.");
            return;
        };
        let net = s.network();
        // Filters.
        ui.horizontal_wrapped(|ui| {
            let stations: Vec<String> = net.stations.iter().map(|s| s.id.clone()).collect();
            combo(ui, "Station", &mut self.filter.station, &stations);
            let feeders: Vec<String> = match &self.filter.station {
                Some(st) => net.feeders().into_iter().filter(|(_, s)| s == st).map(|(f, _)| f).collect(),
                None => ds.index.feeder_ids.clone(),
            };
            combo(ui, "Feeder", &mut self.filter.feeder, &feeders);
            let lbl = ui.label("Status").id;
            egui::ComboBox::from_id_salt("review-status")
                .selected_text(self.filter.status.map_or("all", |k| k.as_str()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.filter.status, None, "all");
                    for k in [DecisionKind::Pending, DecisionKind::Accepted, DecisionKind::Rejected, DecisionKind::Edited] {
                        ui.selectable_value(&mut self.filter.status, Some(k), k.as_str());
                    }
                })
                .response
                .labelled_by(lbl);
            let lbl = ui.label("Field").id;
            egui::ComboBox::from_id_salt("review-field")
                .selected_text(self.filter.field.map_or("all", |f| f.as_str()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.filter.field, None, "all");
                    for f in Field::ALL {
                        ui.selectable_value(&mut self.filter.field, Some(f), f.as_str());
                    }
                })
                .response
                .labelled_by(lbl);
            ui.add(egui::Slider::new(&mut self.min_conf, 0.0..=1.0).text("min. confidence").fixed_decimals(2));
            ui.add(egui::TextEdit::singleline(&mut self.search).hint_text("EAN, street, postcode").desired_width(140.0));
        });
        self.filter.min_confidence = (self.min_conf > 0.0).then_some(self.min_conf);
        self.filter.search = (!self.search.trim().is_empty()).then(|| self.search.trim().to_string());
        let key = (format!("{:?}{:?}{}", self.filter, self.sort, self.descending), cx.state.review_generation);
        if self.computed_for.as_ref() != Some(&key) {
            self.rows = s.query(&self.filter, self.sort, self.descending);
            self.computed_for = Some(key);
        }
        // Bulk actions.
        ui.horizontal(|ui| {
            let c = s.counts();
            ui.label(format!("{} of {} suggestions shown", self.rows.len(), c.total));
            ui.separator();
            ui.add(egui::Slider::new(&mut self.accept_threshold, 0.5..=1.0).fixed_decimals(2).text("threshold"));
            let scope = match (&self.filter.station, &self.filter.feeder) {
                (_, Some(f)) => format!(" on feeder {f}"),
                (Some(st), None) => format!(" at station {st}"),
                _ => String::new(),
            };
            let cmd = UiCommand::Review(SessionCommand::AcceptAllAbove {
                min_confidence: self.accept_threshold,
                station: self.filter.station.clone(),
                feeder: self.filter.feeder.clone(),
            });
            let to_accept = s
                .query(
                    &SuggestionFilter {
                        station: self.filter.station.clone(),
                        feeder: self.filter.feeder.clone(),
                        status: Some(DecisionKind::Pending),
                        min_confidence: Some(self.accept_threshold),
                        ..Default::default()
                    },
                    SortBy::Confidence,
                    false,
                )
                .len();
            if ui
                .add_enabled(
                    to_accept > 0,
                    egui::Button::new(format!("Accept {to_accept} pending >= {:.2}{scope}…", self.accept_threshold)),
                )
                .on_hover_text(cmd.tooltip())
                .clicked()
            {
                cx.push(SystemCommand::AskConfirm(Confirmation::new(
                    "Accept suggestions in bulk",
                    format!(
                        "Accept {to_accept} pending suggestion(s) with confidence >= {:.2}{scope}? This is one step: Undo (Ctrl+Z) takes all of them back.",
                        self.accept_threshold
                    ),
                    format!("Accept {to_accept}"),
                    cmd.into(),
                )));
            }
            let pending_shown: Vec<SuggestionId> = self
                .rows
                .iter()
                .copied()
                .filter(|id| s.suggestion(*id).is_some_and(|x| x.decision.state == DecisionState::Pending))
                .collect();
            if ui
                .add_enabled(
                    !pending_shown.is_empty(),
                    egui::Button::new(format!("Reject {} shown pending…", pending_shown.len())),
                )
                .clicked()
            {
                let n = pending_shown.len();
                cx.push(SystemCommand::AskConfirm(Confirmation::new(
                    "Reject suggestions in bulk",
                    format!("Reject the {n} pending suggestion(s) shown in the table (the GIS registration stays)? One step: Undo takes all of them back."),
                    format!("Reject {n}"),
                    UiCommand::Review(SessionCommand::Reject { ids: pending_shown, note: None }).into(),
                )));
            }
        });
        if c_total(s) == 0 {
            ui.add_space(8.0);
            ui.weak(if cx.state.analysis.is_some() {
                "The analysis found nothing to change."
            } else {
                "No suggestions yet: run the analysis (F5) once voltage.csv is loaded."
            });
            return;
        }
        let header = |ui: &mut egui::Ui, label: &str, by: SortBy, sort: &mut SortBy, desc: &mut bool| {
            let arrow = if *sort == by { if *desc { " v" } else { " ^" } } else { "" };
            if ui.button(format!("{label}{arrow}")).on_hover_text("Sort").clicked() {
                if *sort == by {
                    *desc = !*desc;
                } else {
                    *sort = by;
                    *desc = by == SortBy::Confidence;
                }
            }
        };
        let selected = cx.state.selection.primary;
        let mut out = Vec::new();
        let (mut sort, mut desc) = (self.sort, self.descending);
        // Selectable text would swallow the click meant for the row (select + zoom).
        ui.style_mut().interaction.selectable_labels = false;
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
        TableBuilder::new(ui)
            .id_salt("review-table")
            .striped(true)
            .sense(egui::Sense::click())
            .column(Column::initial(135.0).resizable(true))
            .column(Column::initial(150.0).resizable(true))
            .column(Column::initial(80.0).resizable(true))
            .column(Column::initial(45.0))
            .column(Column::initial(95.0).resizable(true))
            .column(Column::initial(55.0))
            .column(Column::initial(70.0).resizable(true))
            .column(Column::remainder().at_least(165.0))
            .header(22.0, |mut h| {
                h.col(|ui| header(ui, "EAN", SortBy::Ean, &mut sort, &mut desc));
                h.col(|ui| header(ui, "Address", SortBy::Address, &mut sort, &mut desc));
                h.col(|ui| header(ui, "Feeder", SortBy::Feeder, &mut sort, &mut desc));
                h.col(|ui| header(ui, "Field", SortBy::Field, &mut sort, &mut desc));
                h.col(|ui| {
                    ui.strong("GIS -> proposed");
                });
                h.col(|ui| header(ui, "Conf.", SortBy::Confidence, &mut sort, &mut desc));
                h.col(|ui| header(ui, "Status", SortBy::Status, &mut sort, &mut desc));
                h.col(|ui| {
                    ui.strong("Decide");
                });
            })
            .body(|body| {
                body.rows(22.0, self.rows.len(), |mut row| {
                    let id = self.rows[row.index()];
                    let Some(sg) = s.suggestion(id) else { return };
                    let c = &net.connections[sg.connection];
                    row.set_selected(selected == Some(sg.connection));
                    row.col(|ui| {
                        ui.label(&sg.ean);
                    });
                    row.col(|ui| {
                        ui.label(c.address());
                    });
                    row.col(|ui| {
                        ui.label(c.feeder_label());
                    });
                    row.col(|ui| {
                        ui.label(sg.field.as_str());
                    });
                    row.col(|ui| {
                        ui.label(format!("{} -> {}", sg.old_value, sg.new_value))
                            .on_hover_text(crate::state::displayable(&sg.evidence));
                    });
                    row.col(|ui| {
                        ui.colored_label(style::confidence_color(sg.confidence), format!("{:.3}", sg.confidence));
                    });
                    row.col(|ui| {
                        let k = sg.decision.state.kind();
                        let text = match &sg.decision.state {
                            DecisionState::Edited(v) => format!("edited: {v}"),
                            _ => k.as_str().to_string(),
                        };
                        ui.colored_label(kind_color(k), text);
                    });
                    row.col(|ui| {
                        ui.horizontal(|ui| {
                            let st = &sg.decision.state;
                            if ui.add_enabled(*st != DecisionState::Accepted, egui::Button::new("Accept").small()).clicked() {
                                out.push(UiCommand::Review(SessionCommand::Accept { ids: vec![id], note: None }));
                            }
                            if ui.add_enabled(*st != DecisionState::Rejected, egui::Button::new("Reject").small()).clicked() {
                                out.push(UiCommand::Review(SessionCommand::Reject { ids: vec![id], note: None }));
                            }
                            if *st != DecisionState::Pending && ui.add(egui::Button::new("Reset").small()).clicked() {
                                out.push(UiCommand::Review(SessionCommand::Reset { ids: vec![id] }));
                            }
                        });
                    });
                    if row.response().clicked() {
                        out.push(UiCommand::Select { connections: vec![sg.connection], add: false });
                        out.push(UiCommand::ZoomToSelection);
                    }
                });
            });
        (self.sort, self.descending) = (sort, desc);
        for c in out {
            cx.push(c);
        }
    }
}

fn c_total(s: &lvtopo_core::session::ReviewSession) -> usize {
    s.counts().total
}

fn combo(ui: &mut egui::Ui, label: &str, value: &mut Option<String>, options: &[String]) {
    let lbl = ui.label(label).id;
    egui::ComboBox::from_id_salt(("review-combo", label))
        .selected_text(value.as_deref().unwrap_or("all"))
        .show_ui(ui, |ui| {
            ui.selectable_value(value, None, "all");
            for o in options {
                ui.selectable_value(value, Some(o.clone()), o);
            }
        })
        .response
        .labelled_by(lbl);
}

//! The import report of the open data: per file what was read, accepted and
//! rejected, and every problem, filterable by severity and file.

use crate::command::panel_ids;
use crate::view::{Placement, View, ViewContext};
use egui_extras::{Column, TableBuilder};
use lvtopo_core::io::{ImportIssue, Severity};

#[derive(Default)]
pub struct ImportReportPanel {
    show_errors: bool,
    show_warnings: bool,
    file: Option<String>,
    text: String,
    initialised: bool,
}

impl ImportReportPanel {
    fn keep(&self, i: &ImportIssue) -> bool {
        (match i.severity {
            Severity::Error => self.show_errors,
            Severity::Warning => self.show_warnings,
        }) && self.file.as_ref().is_none_or(|f| &i.file == f)
            && (self.text.is_empty() || i.to_string().to_lowercase().contains(&self.text.to_lowercase()))
    }
}

impl View for ImportReportPanel {
    fn id(&self) -> &'static str {
        panel_ids::IMPORT_REPORT
    }
    fn title(&self) -> String {
        "Import report".into()
    }
    fn placement(&self) -> Placement {
        Placement::Bottom
    }
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext<'_>) {
        if !self.initialised {
            (self.show_errors, self.show_warnings, self.initialised) = (true, true, true);
        }
        let Some(ds) = cx.dataset() else {
            ui.weak("No data loaded.");
            return;
        };
        let report = ds.report.clone();
        ui.horizontal(|ui| {
            ui.label(format!("{} error(s), {} warning(s)", report.error_count(), report.warning_count()));
            ui.separator();
            ui.checkbox(&mut self.show_errors, "Errors");
            ui.checkbox(&mut self.show_warnings, "Warnings");
            let files: Vec<String> = {
                let mut f: Vec<String> = report.issues.iter().map(|i| i.file.clone()).collect();
                f.sort();
                f.dedup();
                f
            };
            let lbl = ui.label("In file").id;
            egui::ComboBox::from_id_salt("report-file")
                .selected_text(self.file.as_deref().unwrap_or("All files"))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.file, None, "All files");
                    for f in files {
                        let label = f.clone();
                        ui.selectable_value(&mut self.file, Some(f), label);
                    }
                })
                .response
                .labelled_by(lbl);
            ui.add(egui::TextEdit::singleline(&mut self.text).hint_text("Filter text").desired_width(160.0));
        });
        if !report.files.is_empty() {
            egui::CollapsingHeader::new("Files").default_open(true).show(ui, |ui| {
                egui::Grid::new("report-files").striped(true).show(ui, |ui| {
                    for h in ["file", "read", "accepted", "rejected", "duplicates", "warnings"] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for f in &report.files {
                        ui.label(&f.file);
                        for n in [f.rows_read, f.accepted, f.rejected, f.duplicates, f.warnings] {
                            ui.label(n.to_string());
                        }
                        ui.end_row();
                    }
                });
            });
        }
        let rows: Vec<&ImportIssue> = report.issues.iter().filter(|i| self.keep(i)).collect();
        if report.issues.is_empty() {
            ui.label("No problems: every row and feature was read.");
            return;
        }
        TableBuilder::new(ui)
            .id_salt("report-issues")
            .striped(true)
            .column(Column::exact(70.0))
            .column(Column::initial(180.0).resizable(true))
            .column(Column::initial(120.0).resizable(true))
            .column(Column::initial(110.0).resizable(true))
            .column(Column::remainder())
            .header(20.0, |mut h| {
                for t in ["severity", "file", "where", "column", "problem"] {
                    h.col(|ui| {
                        ui.strong(t);
                    });
                }
            })
            .body(|body| {
                body.rows(18.0, rows.len(), |mut row| {
                    let i = rows[row.index()];
                    row.col(|ui| match i.severity {
                        Severity::Error => {
                            ui.colored_label(ui.visuals().error_fg_color, "error");
                        }
                        Severity::Warning => {
                            ui.colored_label(ui.visuals().warn_fg_color, "warning");
                        }
                    });
                    row.col(|ui| {
                        ui.label(&i.file);
                    });
                    row.col(|ui| {
                        ui.label(i.location.to_string());
                    });
                    row.col(|ui| {
                        ui.label(i.column.as_deref().unwrap_or(""));
                    });
                    row.col(|ui| {
                        ui.label(&i.message).on_hover_text(i.to_string());
                    });
                });
            });
    }
}

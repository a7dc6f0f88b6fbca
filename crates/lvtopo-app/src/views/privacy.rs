//! The Privacy panel: the purpose question for meter reads without a sidecar,
//! the purposes and decisions of the loaded reads, the audit log (view and
//! export), the purge of raw reads after export, pseudonymised exports and
//! aggregates over areas of at least k connections. The rules themselves live
//! in `lvtopo_core::privacy`; this panel only shows them and asks.

use super::privacy_load::{PrivacyChoices, PurposeQuestion, purposes_for};
use crate::command::UiCommand;
use crate::privacy_actions::PrivacyAction;
use crate::state::AppState;
use crate::view::{Placement, View, ViewContext};
use lvtopo_core::privacy::aggregate::{AreaAggregates, AreaLevel, DEFAULT_MIN_GROUP_SIZE, MIN_GROUP_SIZE_FLOOR};
use lvtopo_core::privacy::audit::{AuditEntry, Decision};
use lvtopo_core::privacy::exports;
use lvtopo_core::privacy::purge::{PurgeOptions, PurgePlan, plan};
use lvtopo_core::privacy::{MinGroupSize, PrivacyStore, Purpose, ReadRecord};
use std::path::PathBuf;
use std::sync::Arc;

pub const PANEL_ID: &str = "privacy";

/// The answer being composed to a purpose question.
struct Answer {
    question: PurposeQuestion,
    purposes: Vec<Purpose>,
    consent_trim: bool,
    justification: String,
}

pub struct PrivacyView {
    /// The privacy folder the audit was read from (reloaded when it changes).
    store_dir: Option<PathBuf>,
    entries: Vec<AuditEntry>,
    chain: String,
    filter: String,
    answer: Option<Answer>,
    purge_sources: bool,
    purge_confirm: bool,
    plan: Option<PurgePlan>,
    key_path: String,
    level: AreaLevel,
    k: usize,
    aggregates: Option<(*const lvtopo_core::model::Network, AreaLevel, usize, Arc<AreaAggregates>)>,
    message: String,
    /// The import report last seen (a new one means a load happened: reload the log).
    seen_report: (usize, u64),
}

impl Default for PrivacyView {
    fn default() -> Self {
        PrivacyView {
            store_dir: None,
            entries: Vec::new(),
            chain: String::new(),
            filter: String::new(),
            answer: None,
            purge_sources: false,
            purge_confirm: false,
            plan: None,
            key_path: String::new(),
            level: AreaLevel::Feeder,
            k: DEFAULT_MIN_GROUP_SIZE,
            aggregates: None,
            message: String::new(),
            seen_report: (0, 0),
        }
    }
}

/// The privacy folder the app uses (as `dispatch` decides it).
fn store_of(state: &AppState) -> anyhow::Result<PrivacyStore> {
    PrivacyStore::open(state.privacy_dir.as_deref())
}

fn decision_text(d: Decision) -> &'static str {
    match d {
        Decision::Approved => "approved",
        Decision::Trimmed => "trimmed (consent)",
        Decision::Refused => "refused",
    }
}

impl PrivacyView {
    fn reload(&mut self, store: &PrivacyStore) {
        self.store_dir = Some(store.dir().to_path_buf());
        match store.audit().and_then(|a| Ok((a.entries()?, a.verify()))) {
            Ok((entries, verified)) => {
                self.entries = entries;
                self.chain = match verified {
                    Ok(n) => format!("{n} entries, chain intact"),
                    Err(e) => format!("chain broken: {e:#}"),
                };
            }
            Err(e) => self.message = format!("{e:#}"),
        }
        self.k = store.min_group_size().map(|k| k.get()).unwrap_or(DEFAULT_MIN_GROUP_SIZE);
    }

    fn question_ui(&mut self, ctx: &egui::Context, cx: &mut ViewContext<'_>) {
        let Some(q) = cx.state.purpose_question.as_ref() else {
            self.answer = None;
            return;
        };
        if self.answer.as_ref().is_none_or(|a| &a.question != q) {
            self.answer = Some(Answer {
                question: q.clone(),
                purposes: q.files.iter().map(|f| f.2).collect(),
                consent_trim: false,
                justification: String::new(),
            });
        }
        let a = self.answer.as_mut().expect("set above");
        let mut done: Option<UiCommand> = None;
        egui::Modal::new(egui::Id::unique("privacy-purpose-question")).show(ctx, |ui| {
            ui.heading("What are these meter reads for?");
            ui.label("Every meter read serves one approved use case and is checked against its rules.");
            egui::Grid::new("privacy-question-grid").num_columns(3).show(ui, |ui| {
                for ((path, kind, _), chosen) in a.question.files.iter().zip(a.purposes.iter_mut()) {
                    ui.label(path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default());
                    egui::ComboBox::from_id_salt(("privacy-purpose", path))
                        .selected_text(format!("uc{} {}", chosen.use_case(), chosen.title()))
                        .show_ui(ui, |ui| {
                            for p in purposes_for(*kind) {
                                ui.selectable_value(chosen, p, format!("uc{} {}", p.use_case(), p.title()))
                                    .on_hover_text(p.rule_text());
                            }
                        });
                    ui.weak(chosen.rule_text());
                    ui.end_row();
                }
            });
            if !a.question.with_sidecar.is_empty() {
                ui.weak(format!("{} file(s) state their purpose in a .purpose.json file.", a.question.with_sidecar.len()));
            }
            ui.horizontal(|ui| {
                ui.label("Reason (use cases 3 and 12)");
                ui.text_edit_singleline(&mut a.justification);
            });
            ui.checkbox(&mut a.consent_trim, "Where a rule allows it, keep only the allowed part (logged)");
            ui.horizontal(|ui| {
                if ui.button("Read with these purposes").clicked() {
                    let mut purposes: Vec<(PathBuf, Purpose)> =
                        a.question.files.iter().zip(&a.purposes).map(|((p, _, _), x)| (p.clone(), *x)).collect();
                    purposes.sort();
                    let paths =
                        a.question.files.iter().map(|f| f.0.clone()).chain(a.question.with_sidecar.iter().cloned()).collect();
                    let justification = Some(a.justification.trim().to_string()).filter(|j| !j.is_empty());
                    done = Some(UiCommand::LoadWithPurposes(
                        PrivacyChoices { purposes, consent_trim: a.consent_trim, justification, dir: None },
                        paths,
                    ));
                }
                if ui.button("Do not read").clicked() {
                    done = Some(UiCommand::CancelPurposeQuestion);
                }
            });
        });
        if let Some(c) = done {
            cx.push(c);
        }
    }

    fn reads_ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext<'_>) {
        let Some(ds) = cx.dataset() else {
            ui.weak("No network open.");
            return;
        };
        if ds.privacy_reads.is_empty() {
            ui.weak("No meter read loaded.");
            return;
        }
        let mut retry: Vec<ReadRecord> = Vec::new();
        egui::Grid::new("privacy-reads").striped(true).num_columns(6).show(ui, |ui| {
            for h in ["file", "data", "purpose", "decision", "period / connections", ""] {
                ui.strong(h);
            }
            ui.end_row();
            for r in &ds.privacy_reads {
                ui.label(r.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default())
                    .on_hover_text(r.path.display().to_string());
                ui.label(r.kind.as_str());
                ui.label(r.purpose.map(|p| format!("uc{} {}", p.use_case(), p.title())).unwrap_or_else(|| "none".into()));
                let d = ui.label(decision_text(r.decision));
                if !r.message.is_empty() {
                    d.on_hover_text(crate::state::displayable(&r.message));
                }
                ui.label(format!("{} / {}", r.period.map(|p| p.to_string()).unwrap_or_default(), r.connections));
                if r.decision == Decision::Refused && r.remediable && r.purpose.is_some() {
                    if ui
                        .button("Keep allowed part")
                        .on_hover_text("Read again keeping only what the rule allows; logged")
                        .clicked()
                    {
                        retry.push(r.clone());
                    }
                } else {
                    ui.label("");
                }
                ui.end_row();
            }
        });
        for r in retry {
            let purpose = r.purpose.expect("checked");
            cx.push(UiCommand::LoadWithPurposes(
                PrivacyChoices { purposes: vec![(r.path.clone(), purpose)], consent_trim: true, ..Default::default() },
                vec![r.path.clone()],
            ));
        }
    }

    fn audit_ui(&mut self, ui: &mut egui::Ui, store: &PrivacyStore, commands: &mut Vec<UiCommand>) {
        ui.horizontal(|ui| {
            if ui.button("Reload").clicked() {
                self.reload(store);
            }
            ui.label(&self.chain);
            ui.add(egui::TextEdit::singleline(&mut self.filter).hint_text("Filter").desired_width(140.0));
            if ui.button("Export log (CSV)").clicked() {
                commands.push(UiCommand::Privacy(PrivacyAction::ExportAuditLog));
            }
        });
        let filter = self.filter.to_lowercase();
        egui::ScrollArea::vertical().id_salt("privacy-audit").max_height(200.0).show(ui, |ui| {
            egui::Grid::new("privacy-audit-grid").striped(true).num_columns(4).show(ui, |ui| {
                for e in self.entries.iter().rev() {
                    let summary = e.event.summary();
                    if !filter.is_empty() && !summary.to_lowercase().contains(&filter) {
                        continue;
                    }
                    ui.label(e.seq.to_string());
                    ui.label(lvtopo_core::model::time::format_amsterdam(e.at));
                    ui.label(&e.user);
                    ui.label(crate::state::displayable(&summary));
                    ui.end_row();
                }
            });
        });
    }

    fn purge_ui(&mut self, ui: &mut egui::Ui, store: &PrivacyStore, commands: &mut Vec<UiCommand>) {
        ui.label("After the corrections are exported, delete the raw reads; derived results (assignments, corrections, evidence) stay.");
        ui.checkbox(&mut self.purge_sources, "Also delete the loaded source measurement files (when unchanged)");
        let opts = PurgeOptions { sources: self.purge_sources, without_export: false, dry_run: false };
        if ui.button("Preview purge").clicked() {
            self.purge_confirm = false;
            match plan(store, &opts) {
                Ok(p) => self.plan = Some(p),
                Err(e) => self.message = format!("{e:#}"),
            }
        }
        let Some(p) = &self.plan else { return };
        if p.unexported_loads > 0 {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("{} load(s) since the last export: export the corrections first", p.unexported_loads),
            );
        }
        for d in &p.delete {
            ui.label(format!("delete ({}) {}", d.role, d.path.display()));
        }
        for s in &p.skipped {
            ui.weak(s);
        }
        if p.delete.is_empty() {
            ui.weak("No raw read to delete.");
            return;
        }
        let n = p.delete.len();
        ui.checkbox(&mut self.purge_confirm, format!("Yes, delete these {n} file(s) for good"));
        if ui.add_enabled(self.purge_confirm && p.unexported_loads == 0, egui::Button::new("Purge raw reads")).clicked() {
            commands.push(UiCommand::Privacy(PrivacyAction::Purge { sources: self.purge_sources }));
            self.plan = None;
            self.purge_confirm = false;
        }
    }

    fn pseudonym_ui(&mut self, ui: &mut egui::Ui, state: &AppState, commands: &mut Vec<UiCommand>) {
        ui.horizontal(|ui| {
            ui.label("Key file");
            ui.add(egui::TextEdit::singleline(&mut self.key_path).hint_text("/path/research.key").desired_width(240.0));
        });
        let path = PathBuf::from(self.key_path.trim());
        let has = !self.key_path.trim().is_empty();
        ui.horizontal(|ui| {
            if ui.add_enabled(has, egui::Button::new("Create key")).on_hover_text("Never overwrites an existing key").clicked() {
                commands.push(UiCommand::Privacy(PrivacyAction::CreateKey(path.clone())));
            }
            let can = has && state.analysis.is_some() && state.dataset.is_some();
            if ui
                .add_enabled(can, egui::Button::new("Export assignments, pseudonymised"))
                .on_hover_text("EANs replaced by keyed pseudonyms, address columns dropped, postcodes cut to 4 digits")
                .clicked()
            {
                commands.push(UiCommand::Privacy(PrivacyAction::ExportPseudonymised { key_file: path.clone() }));
            }
        });
    }

    fn aggregates_ui(&mut self, ui: &mut egui::Ui, state: &AppState, commands: &mut Vec<UiCommand>) {
        ui.horizontal(|ui| {
            ui.label("Area");
            egui::ComboBox::from_id_salt("privacy-area").selected_text(format!("{:?}", self.level)).show_ui(ui, |ui| {
                for l in [AreaLevel::Feeder, AreaLevel::Station, AreaLevel::Pc4, AreaLevel::Pc3] {
                    ui.selectable_value(&mut self.level, l, format!("{l:?}"));
                }
            });
            ui.label("k (minimum connections per group)");
            ui.add(egui::DragValue::new(&mut self.k).range(MIN_GROUP_SIZE_FLOOR..=1000));
            if ui.button("Save k").on_hover_text("The setting for every aggregate (audited)").clicked() {
                commands.push(UiCommand::Privacy(PrivacyAction::SetMinGroupSize(self.k)));
            }
        });
        let Some(ds) = state.dataset.as_ref() else { return };
        let Some(feed_in) = ds.measurements.feed_in.as_ref() else {
            ui.weak("No feed-in read loaded (feed_in.csv).");
            return;
        };
        let Ok(k) = MinGroupSize::new(self.k) else { return };
        let key = (Arc::as_ptr(&ds.network), self.level, self.k);
        if self.aggregates.as_ref().is_none_or(|a| (a.0, a.1, a.2) != key) {
            // Only a feed-in read admitted for use case 11, 13 or 14 is summed (the core checks).
            match exports::aggregates(&ds.network, feed_in, Some(&ds.privacy_reads), self.level, k) {
                Ok(agg) => self.aggregates = Some((key.0, key.1, key.2, Arc::new(agg))),
                Err(why) => {
                    ui.colored_label(ui.visuals().warn_fg_color, format!("{why:#}"));
                    return;
                }
            }
        }
        let agg = self.aggregates.as_ref().expect("set above").3.clone();
        for n in &agg.grouping.notes {
            ui.weak(crate::state::displayable(n));
        }
        egui::Grid::new("privacy-aggregates").striped(true).num_columns(5).show(ui, |ui| {
            for h in ["group", "connections", "import kWh", "export kWh", "with EV charging"] {
                ui.strong(h);
            }
            ui.end_row();
            for s in &agg.series {
                let merged = agg.grouping.groups.iter().any(|g| g.area == s.area && g.merged);
                ui.label(if merged { format!("{} (merged)", s.label) } else { s.label.clone() });
                ui.label(s.connections.to_string());
                ui.label(format!("{:.0}", s.import_kwh.iter().filter(|v| !v.is_nan()).sum::<f64>()));
                ui.label(format!("{:.0}", s.export_kwh.iter().filter(|v| !v.is_nan()).sum::<f64>()));
                ui.label(s.connections_charging.to_string());
                ui.end_row();
            }
        });
        if agg.grouping.suppressed > 0 {
            ui.weak(format!("{} connection(s) not shown: fewer than k in the whole network", agg.grouping.suppressed));
        }
        if ui.button("Export aggregates (CSV)").clicked() {
            commands.push(UiCommand::Privacy(PrivacyAction::ExportAggregates { level: self.level, k: self.k }));
        }
    }
}

impl View for PrivacyView {
    fn id(&self) -> &'static str {
        PANEL_ID
    }
    fn title(&self) -> String {
        "Privacy".into()
    }
    fn placement(&self) -> Placement {
        Placement::Bottom
    }
    fn open_by_default(&self) -> bool {
        false
    }
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext<'_>) {
        self.question_ui(ui.ctx(), cx);
        let store = match store_of(cx.state) {
            Ok(s) => s,
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("Privacy folder unavailable: {e:#}"));
                return;
            }
        };
        let report = (cx.dataset().map_or(0, |d| Arc::as_ptr(&d.report) as usize), cx.state.audit_generation);
        if self.store_dir.as_deref() != Some(store.dir()) || report != self.seen_report {
            self.seen_report = report;
            self.reload(&store);
        }
        egui::ScrollArea::vertical().id_salt("privacy-panel").show(ui, |ui| {
            ui.weak(format!("Privacy folder: {}", store.dir().display()));
            if !self.message.is_empty() {
                ui.label(crate::state::displayable(&self.message));
            }
            egui::CollapsingHeader::new("Meter reads and their purposes").default_open(true).show(ui, |ui| self.reads_ui(ui, cx));
            let mut commands = Vec::new();
            egui::CollapsingHeader::new("Audit log").default_open(true).show(ui, |ui| self.audit_ui(ui, &store, &mut commands));
            egui::CollapsingHeader::new("Purge raw reads").show(ui, |ui| self.purge_ui(ui, &store, &mut commands));
            egui::CollapsingHeader::new("Pseudonymised export").show(ui, |ui| self.pseudonym_ui(ui, cx.state, &mut commands));
            egui::CollapsingHeader::new("Aggregates (k connections or more)")
                .show(ui, |ui| self.aggregates_ui(ui, cx.state, &mut commands));
            commands.into_iter().for_each(|c| cx.push(c));
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::command::UiCommand;
    use crate::{AppOptions, LvtopoApp};
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use std::path::PathBuf;

    fn harness(privacy_dir: PathBuf) -> Harness<'static, LvtopoApp> {
        let mut app = LvtopoApp::new(AppOptions::headless());
        app.state.privacy_dir = Some(privacy_dir);
        Harness::builder().with_size(egui::vec2(1500.0, 950.0)).build_ui_state(|ui, app: &mut LvtopoApp| app.ui(ui), app)
    }

    fn settle(h: &mut Harness<'_, LvtopoApp>) {
        for _ in 0..3 {
            h.run_steps(2);
            h.state_mut().finish_jobs_blocking();
        }
        h.run_steps(3);
    }

    fn street() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("sample-networks").join("street")
    }

    #[test]
    fn sample_opens_without_a_question_and_the_view_lists_purposes_and_audit() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = harness(dir.path().to_path_buf());
        h.state_mut().commands.push(UiCommand::OpenPaths(vec![street()]));
        settle(&mut h);
        let st = &h.state().state;
        assert!(st.purpose_question.is_none(), "the sample states its purposes in sidecars");
        let ds = st.dataset.as_ref().expect("street open");
        assert_eq!(ds.privacy_reads.len(), 5, "{:?}", ds.privacy_reads);
        assert!(
            ds.privacy_reads.iter().all(|r| r.decision == lvtopo_core::privacy::audit::Decision::Approved),
            "{:?}",
            ds.privacy_reads
        );
        assert!(ds.measurements.voltage.is_some());
        h.state_mut().commands.push(UiCommand::ShowPanel(super::PANEL_ID));
        h.run_steps(3);
        h.get_by_label("Meter reads and their purposes");
        h.get_by_label_contains("uc7 GIS topology correction");
        h.get_by_label_contains("chain intact");
        let log = lvtopo_core::privacy::AuditLog::open(dir.path()).unwrap().entries().unwrap();
        assert!(log.len() >= 5, "every load is in the audit log");
        // What a successful purge sends: the raw reads leave memory, the network and
        // the operator's incident registrations stay.
        let incidents = h.state().state.dataset.as_ref().unwrap().measurements.incidents.len();
        h.state_mut().commands.push(UiCommand::ForgetRawReads);
        h.run_steps(2);
        let m = &h.state().state.dataset.as_ref().expect("network stays open").measurements;
        assert!(m.voltage.is_none() && m.feed_in.is_none() && m.presence.is_empty() && m.outage_log.is_empty());
        assert!(m.voltage_events.is_empty());
        assert_eq!(m.incidents.len(), incidents);
    }

    #[test]
    fn a_read_without_sidecar_asks_its_purpose_and_a_refusal_goes_to_the_import_report() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = harness(dir.path().join("privacy"));
        h.state_mut().commands.push(UiCommand::OpenPaths(vec![street()]));
        settle(&mut h);
        // The same 10-day feed-in, without its sidecar: the question comes up,
        // pre-set to PV registration (at most 7 days), so the read is refused.
        let copy = dir.path().join("feed_in.csv.gz");
        std::fs::copy(street().join("feed_in.csv.gz"), &copy).unwrap();
        h.state_mut().commands.push(UiCommand::OpenPaths(vec![copy.clone()]));
        h.run_steps(3);
        assert!(h.state().state.purpose_question.is_some());
        h.get_by_label("What are these meter reads for?");
        h.get_by_label("Read with these purposes").click();
        settle(&mut h);
        let st = &h.state().state;
        assert!(st.purpose_question.is_none());
        let ds = st.dataset.as_ref().unwrap();
        let r = ds.privacy_reads.iter().find(|r| r.path == copy).expect("the read is listed");
        assert_eq!(r.decision, lvtopo_core::privacy::audit::Decision::Refused);
        assert!(r.remediable, "a too-long read can be trimmed with consent");
        assert!(
            ds.report.issues.iter().any(|i| i.message.contains("not used") && i.message.contains("max-period")),
            "{:?}",
            ds.report.issues
        );
        // Keep the allowed part: the last 7 days, logged.
        h.state_mut().commands.push(UiCommand::ShowPanel(super::PANEL_ID));
        h.run_steps(3);
        h.get_by_label("Keep allowed part");
        // What the button pushes (the button may lie below the fold of the dock here).
        let choices = super::PrivacyChoices {
            purposes: vec![(copy.clone(), lvtopo_core::privacy::Purpose::PvRegistration)],
            consent_trim: true,
            ..Default::default()
        };
        h.state_mut().commands.push(UiCommand::LoadWithPurposes(choices, vec![copy.clone()]));
        settle(&mut h);
        let ds = h.state().state.dataset.as_ref().unwrap();
        let r = ds.privacy_reads.iter().find(|r| r.path == copy).unwrap();
        assert_eq!(r.decision, lvtopo_core::privacy::audit::Decision::Trimmed, "{r:?}");
        assert!(r.period.unwrap().duration_s() <= 7 * 86_400);
    }
}

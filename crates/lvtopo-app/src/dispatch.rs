//! Applying commands after the frame: the only place application state changes.

use super::app::LvtopoApp;
use super::command::{UiCommand, panel_ids};
use super::files::FilePurpose;
use super::jobs::Job;
use super::loader;
use super::map::index::WorldRect;
use super::view::Placement;
use lvtopo_core::analysis::AnalysisOptions;
use lvtopo_core::progress::Cancelled;
use std::path::PathBuf;

impl LvtopoApp {
    pub fn apply(&mut self, c: UiCommand) {
        use UiCommand::*;
        match c {
            Open => self.ask_path(FilePurpose::Open),
            OpenFolder => self.ask_path(FilePurpose::OpenFolder),
            OpenPaths(paths) => self.start_load(paths),
            OpenSample => match loader::find_sample() {
                Some(p) => self.start_load(vec![p]),
                None if self.load_job.is_none() => {
                    self.load_job =
                        Some(Job::spawn("Generating the sample network", self.ctx.clone(), |p| loader::generate_sample(p)));
                }
                None => {}
            },
            ClearRecent => {
                self.state.settings.recent.clear();
                self.save_settings();
            }
            Export(kind) => {
                if self.state.session.is_none() {
                    self.state.set_error("Open a network first");
                    return;
                }
                self.ask_path(FilePurpose::Export(kind));
            }
            AskReviewer => self.ask_reviewer(Vec::new()),
            Quit => {
                if let Some(ctx) = &self.ctx {
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            }
            RunAnalysis => self.start_analysis(),
            CancelJob => {
                for p in [self.load_job.as_ref().map(|j| &j.progress), self.analysis_job.as_ref().map(|j| &j.progress)]
                    .into_iter()
                    .flatten()
                {
                    p.cancel();
                }
            }
            Select { connections, add } => {
                let n = self.state.network().map_or(0, |n| n.connections.len());
                let sel = &mut self.state.selection;
                if !add {
                    sel.connections.clear();
                    sel.cable = None;
                }
                sel.connections.extend(connections.iter().copied().filter(|&i| i < n));
                sel.primary = connections.first().copied().filter(|&i| i < n).or(sel.primary.filter(|_| add));
                if sel.primary.is_some() {
                    self.right_tab = Some(panel_ids::INSPECTOR);
                    self.open.insert(panel_ids::INSPECTOR);
                }
            }
            ClearSelection => self.state.selection = Default::default(),
            SelectCable(c) => self.state.selection.cable = c,
            ZoomToNetwork => {
                if let Some(ds) = &self.state.dataset {
                    self.map.fit(ds.index.bounds);
                }
            }
            ZoomToSelection => {
                if let Some(ds) = &self.state.dataset {
                    let sel = &self.state.selection;
                    let mut r =
                        WorldRect::of_points(sel.connections.iter().filter_map(|&i| ds.index.connections.get(i).copied()));
                    if let Some(c) = sel.cable {
                        r = r.union(WorldRect::of_points(ds.index.cables[c].iter().copied()));
                    }
                    self.map.fit(grow_min(r));
                }
            }
            ZoomToStation(s) => {
                if let Some(ds) = &self.state.dataset
                    && let Some(st) = ds.network.stations.get(s)
                {
                    let mut r = WorldRect::of_points([ds.index.stations[s]]);
                    for (f, sid) in ds.network.feeders() {
                        if sid == st.id {
                            r = r.union(ds.index.feeder_bounds(&f).unwrap_or(WorldRect::EMPTY));
                        }
                    }
                    self.map.fit(grow_min(r));
                }
            }
            ZoomToFeeder(f) => {
                if let Some(r) = self.state.dataset.as_ref().and_then(|ds| ds.index.feeder_bounds(&f)) {
                    self.map.fit(grow_min(r));
                }
            }
            FocusSearch => {
                self.open.insert(panel_ids::SEARCH);
                if let Some(ctx) = &self.ctx {
                    ctx.memory_mut(|m| m.request_focus(egui::Id::unique(super::panels::search::SEARCH_FIELD_ID)));
                }
            }
            SetStyle(s) => self.state.style = s,
            SetBasemap(b) => self.state.basemap = b,
            ToggleOverlay(id) => {
                for o in self.overlays.iter_mut().filter(|o| o.overlay.id() == id) {
                    o.enabled = !o.enabled;
                }
            }
            Review(cmd) => match super::checks::phase_change(&self.state, &cmd) {
                super::checks::Verdict::Ask(q) => self.confirmation = Some(q),
                super::checks::Verdict::Refuse(why) => self.state.set_error(why),
                super::checks::Verdict::Go => self.review(cmd),
            },
            SetCable { connection, cable } => {
                self.state.picking_cable_for = None;
                match super::checks::cable_move(&self.state, connection, cable) {
                    super::checks::Verdict::Go => {
                        let cable_id = self.state.network().map(|n| n.cables[cable].id.clone()).unwrap_or_default();
                        self.review(lvtopo_core::session::SessionCommand::SetCable { connection, cable_id, note: None });
                    }
                    super::checks::Verdict::Refuse(why) => self.state.set_error(why),
                    super::checks::Verdict::Ask(q) => self.confirmation = Some(q),
                }
            }
            Undo | Redo => {
                let Some(s) = self.state.session.as_mut() else { return };
                let applied = if matches!(c, Undo) { s.undo() } else { s.redo() };
                match applied {
                    Some(a) => self.after_review(a, if matches!(c, Undo) { "Undone" } else { "Redone" }),
                    None => self.state.set_message(if matches!(c, Undo) { "Nothing to undo" } else { "Nothing to redo" }),
                }
            }
            ResolveRestore { restore } => {
                self.state.restore_question = None;
                let Some(s) = self.state.session.as_mut() else { return };
                if restore {
                    let sum = s.restore_anyway();
                    let skipped =
                        if sum.skipped.is_empty() { String::new() } else { format!(", {} not restored", sum.skipped.len()) };
                    self.state.set_message(format!("Restored {} decision(s) and {} edit(s){skipped}", sum.decisions, sum.edits));
                } else {
                    match s.start_fresh() {
                        Ok(Some(old)) => {
                            self.state.set_message(format!("New review session; the old one is kept as {}", old.display()))
                        }
                        Ok(None) => self.state.set_message("New review session"),
                        Err(e) => self.state.set_error(format!("Could not put the old session file aside: {e}")),
                    }
                }
                self.state.review_generation += 1;
            }
            ExportAll => {
                if self.state.session.is_none() {
                    self.state.set_error("Open a network first");
                    return;
                }
                self.ask_path(FilePurpose::ExportAll);
            }
            StartPickCable(conn) => {
                self.state.picking_cable_for = Some(conn);
                // The cables to pick from are the ones near the house, not whatever is in view.
                if let Some(p) = self.state.dataset.as_ref().and_then(|ds| ds.index.connections.get(conn).copied()) {
                    let r = WorldRect::of_points([p]);
                    let half = 4.0e-6; // world units ≈ 100 m at 52° N
                    self.map.fit(WorldRect { min: [r.min[0] - half, r.min[1] - half], max: [r.max[0] + half, r.max[1] + half] });
                }
                self.state.set_message("Click the cable to connect to (Esc cancels)");
            }
            CancelPick => {
                self.state.picking_cable_for = None;
                self.state.message = None;
            }
            OutageSuggestions(drafts) => {
                let Some(s) = self.state.session.as_mut() else {
                    self.state.set_error("Open a network first");
                    return;
                };
                let n = drafts.len();
                s.replace_suggestions(lvtopo_core::session::SuggestionSource::Outage, drafts);
                self.state.review_generation += 1;
                self.show_panel(panel_ids::REVIEW);
                self.state.set_message(format!("{n} registration mismatch(es) from outages added to the review"));
            }
            ExportOutage(a) => self.ask_path(FilePurpose::ExportOutage(a)),
            TogglePanel(id) => {
                if !self.open.remove(id) {
                    self.show_panel(id);
                }
            }
            ShowPanel(id) => self.show_panel(id),
            CommandPalette => self.palette = Some(Default::default()),
            LoadWithPurposes(mut choices, paths) => {
                if self.load_job.is_some() {
                    self.state.set_error("Already opening files; wait or cancel first");
                    return;
                }
                self.state.purpose_question = None;
                choices.dir = self.privacy_dir();
                self.spawn_measurement_load(paths, choices);
            }
            ForgetRawReads => {
                if let Some(ds) = self.state.dataset.as_mut() {
                    // Operator data (registered incidents) is not a meter read and stays.
                    let kept =
                        lvtopo_core::model::Measurements { incidents: ds.measurements.incidents.clone(), ..Default::default() };
                    ds.measurements = std::sync::Arc::new(kept);
                    self.state.set_message("Raw meter reads purged from disk and dropped from memory; derived results kept");
                }
            }
            Privacy(action) => self.apply_privacy(action),
            CancelPurposeQuestion => {
                if let Some(q) = self.state.purpose_question.take() {
                    self.state.set_message(format!(
                        "{} measurement file(s) not read: no purpose stated",
                        q.files.len() + q.with_sidecar.len()
                    ));
                }
            }
        }
    }

    pub(super) fn show_panel(&mut self, id: &'static str) {
        self.open.insert(id);
        match self.views.iter().find(|v| v.id() == id).map(|v| v.placement()) {
            Some(Placement::Right) => self.right_tab = Some(id),
            Some(Placement::Bottom) => self.bottom_tab = Some(id),
            _ => {}
        }
    }

    fn start_load(&mut self, paths: Vec<PathBuf>) {
        if self.load_job.is_some() {
            self.state.set_error("Already opening files; wait or cancel first");
            return;
        }
        let plan = loader::plan(&paths);
        if plan.network.is_none() && plan.measurements.is_empty() {
            let why = plan.ignored.first().map(|(p, w)| format!("{}: {w}", p.display())).unwrap_or_default();
            self.state.set_error(format!("Nothing to open. {why}"));
            return;
        }
        if let Some(p) = &plan.network {
            super::settings::push_recent(&mut self.state.settings.recent, p.clone());
            self.save_settings();
        }
        let mut plan = plan;
        if plan.network.is_none() {
            // Meter reads only: each needs a purpose before it is read.
            let Some(choices) = self.privacy_choices_or_ask(&plan.measurements) else { return };
            plan.privacy = choices;
        }
        if plan.network.is_some() && !plan.measurements.is_empty() {
            // Network first (a usable map at once), then its measurement files.
            self.pending_measurements = std::mem::take(&mut plan.measurements);
        }
        let current = self.state.dataset.clone();
        let title = match &plan.network {
            Some(p) => format!("Opening {}", p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()),
            None => format!("Reading {} measurement file(s)", plan.measurements.len()),
        };
        self.load_job =
            Some(Job::spawn(title, self.ctx.clone(), move |progress| loader::load(&plan, current.as_ref(), progress)));
    }

    /// Reads measurement files into the open dataset (its network stays as it is).
    pub(super) fn start_measurement_load(&mut self, measurements: Vec<PathBuf>) {
        let Some(choices) = self.privacy_choices_or_ask(&measurements) else { return };
        self.spawn_measurement_load(measurements, choices);
    }

    /// The privacy folder: the one set in the state, a temporary one when
    /// headless (tests), else the user's (`$LVTOPO_PRIVACY_DIR`, data folder).
    pub(super) fn privacy_dir(&mut self) -> Option<PathBuf> {
        if self.state.privacy_dir.is_none() && !self.options.dialogs {
            // Headless: the same temporary folder the panel then reads.
            self.state.privacy_dir = self.options.session_dir.as_ref().map(|d| d.join("privacy"));
        }
        self.state.privacy_dir.clone()
    }

    /// Records an export in the audit log (a purge waits for one after the last load).
    pub(super) fn record_export(&mut self, path: &std::path::Path, what: &str) {
        let dir = self.privacy_dir();
        if let Err(e) =
            lvtopo_core::privacy::PrivacyStore::open(dir.as_deref()).and_then(|s| s.record_export(path, what, None, 0))
        {
            self.state.set_error(format!("Exported, but the audit log could not record it: {e:#}"));
        }
    }

    /// Reads with a sidecar go ahead; otherwise the purpose question is put
    /// up (in the Privacy panel) and nothing is read until it is answered.
    fn privacy_choices_or_ask(&mut self, paths: &[PathBuf]) -> Option<super::views::privacy_load::PrivacyChoices> {
        match super::views::privacy_load::question_for(paths) {
            None => Some(super::views::privacy_load::PrivacyChoices { dir: self.privacy_dir(), ..Default::default() }),
            Some(q) => {
                self.state.purpose_question = Some(q);
                self.show_panel(super::views::privacy::PANEL_ID);
                self.state.set_message("State the purpose of the meter reads (Privacy panel)");
                None
            }
        }
    }

    fn spawn_measurement_load(&mut self, measurements: Vec<PathBuf>, privacy: super::views::privacy_load::PrivacyChoices) {
        let plan = loader::OpenPlan { network: None, measurements, ignored: Vec::new(), privacy };
        let current = self.state.dataset.clone();
        let title = format!("Reading {} measurement file(s)", plan.measurements.len());
        self.load_job =
            Some(Job::spawn(title, self.ctx.clone(), move |progress| loader::load(&plan, current.as_ref(), progress)));
    }

    fn start_analysis(&mut self) {
        if self.analysis_job.is_some() {
            return;
        }
        let Some(ds) = self.state.dataset.clone() else {
            self.state.set_error("Open a network first");
            return;
        };
        if !ds.has_voltage() {
            self.state.set_error("The analysis needs voltage.csv: open it with File > Open or drop it on the window");
            return;
        }
        self.analysis_job = Some(Job::spawn("Analysing", self.ctx.clone(), move |progress| {
            let voltage = ds.measurements.voltage.as_ref().expect("checked above");
            lvtopo_core::analysis::analyze(&ds.network, &ds.topology, voltage, &AnalysisOptions::default(), progress)
                .map_err(|Cancelled| "cancelled by the user".to_string())
        }));
    }

    pub(super) fn review(&mut self, cmd: lvtopo_core::session::SessionCommand) {
        let Some(s) = self.state.session.as_mut() else {
            self.state.set_error("Open a network first");
            return;
        };
        match s.apply(cmd) {
            Ok(a) => self.after_review(a, "Done"),
            Err(e) => self.state.set_error(format!("Not changed: {e}")),
        }
    }

    fn after_review(&mut self, a: lvtopo_core::session::Applied, verb: &str) {
        self.state.review_generation += 1;
        match a.autosave_error {
            Some(e) => self.state.set_error(format!("{verb}: {} — but the autosave failed: {e}", a.description)),
            None if a.changed == 0 => self.state.set_message(format!("{}: nothing changed", a.description)),
            None => self.state.set_message(format!("{verb}: {}", a.description)),
        }
    }
}

/// At least ~60 m across, so zooming to one connection does not zoom to the maximum.
fn grow_min(r: WorldRect) -> WorldRect {
    if r.is_empty() {
        return r;
    }
    let min = 2.5e-6; // world units ≈ 60 m at 52° N (1 unit ≈ 24,700 km there)
    let c = r.center();
    let hw = ((r.max[0] - r.min[0]) / 2.0).max(min / 2.0);
    let hh = ((r.max[1] - r.min[1]) / 2.0).max(min / 2.0);
    WorldRect { min: [c[0] - hw, c[1] - hh], max: [c[0] + hw, c[1] + hh] }
}

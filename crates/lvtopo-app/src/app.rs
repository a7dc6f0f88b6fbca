//! The application shell: owns the state, the panels, the map and the
//! background jobs; lays out the window each frame and applies the queued
//! commands after it. `LvtopoApp::ui` is all eframe calls, so tests drive the
//! very same code headless through egui_kittest.

use super::command::{CommandQueue, UiCommand, panel_ids};
use super::jobs::{Job, Poll};
use super::map::MapView;
use super::panels;
use super::state::{AppState, Dataset, JobView};
use super::view::{OverlaySlot, Placement, View, ViewContext};
use lvtopo_core::analysis::AnalysisResult;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How the app starts.
#[derive(Clone, Debug, Default)]
pub enum StartWith {
    /// Nothing open.
    #[default]
    Nothing,
    /// The bundled sample network (or the generated layout when it is missing).
    Sample,
    Paths(Vec<PathBuf>),
}

/// Settings fixed at start-up.
#[derive(Clone, Debug)]
pub struct AppOptions {
    pub start: StartWith,
    /// Fetch background tiles (off in tests and snapshots).
    pub tiles: bool,
    /// Show file dialogs; without them (tests), exports go to `AppState::export_dir`.
    pub dialogs: bool,
    /// Try the native dialog first (the in-app one when there is none).
    pub native_dialogs: bool,
    /// Ask the reviewer's name before the first decision or export (once; remembered).
    pub ask_reviewer: bool,
    /// Where recent files are remembered; `None` remembers nothing.
    pub settings_dir: Option<PathBuf>,
    /// Where review sessions are autosaved; `None` = beside the network file.
    pub session_dir: Option<PathBuf>,
}

impl AppOptions {
    /// The desktop app.
    pub fn desktop(start: StartWith) -> AppOptions {
        AppOptions {
            start,
            tiles: true,
            dialogs: true,
            native_dialogs: true,
            ask_reviewer: true,
            settings_dir: super::settings::config_dir(),
            session_dir: None,
        }
    }
    /// Tests and benchmarks: no network, no dialogs, nothing written outside the test.
    pub fn headless() -> AppOptions {
        let session_dir = std::env::temp_dir().join(format!("lvtopo-headless-{}", std::process::id()));
        AppOptions {
            start: StartWith::Nothing,
            tiles: false,
            dialogs: false,
            native_dialogs: false,
            ask_reviewer: false,
            settings_dir: None,
            session_dir: Some(session_dir),
        }
    }
}

pub(super) type LoadJob = Job<Result<Dataset, String>>;
pub(super) type AnalysisJob = Job<Result<AnalysisResult, String>>;

pub struct LvtopoApp {
    pub state: AppState,
    pub commands: CommandQueue,
    pub map: MapView,
    pub(super) options: AppOptions,
    pub(super) views: Vec<Box<dyn View>>,
    pub(super) open: HashSet<&'static str>,
    pub(super) right_tab: Option<&'static str>,
    pub(super) bottom_tab: Option<&'static str>,
    pub(super) overlays: Vec<OverlaySlot>,
    pub(super) load_job: Option<LoadJob>,
    /// Measurement files to read once the network they belong to is on screen:
    /// the map is usable in well under a second, the reads follow in the background.
    pub(super) pending_measurements: Vec<PathBuf>,
    pub(super) analysis_job: Option<AnalysisJob>,
    pub(super) palette: Option<super::chrome::Palette>,
    /// The in-app file dialog while it is open.
    pub file_dialog: Option<super::files::InAppDialog>,
    /// The native dialog answered "nothing" at once: there is none on this machine.
    pub(super) native_dialog_missing: bool,
    /// A question before a command runs (see `checks`).
    pub confirmation: Option<super::checks::Confirmation>,
    /// The reviewer's name being asked.
    pub reviewer_prompt: Option<super::system::ReviewerPrompt>,
    pub(super) ctx: Option<egui::Context>,
    started: bool,
    /// Seconds from construction to the first frame with the network drawn.
    pub time_to_map: Option<Duration>,
    created: std::time::Instant,
}

impl LvtopoApp {
    pub fn new(options: AppOptions) -> LvtopoApp {
        let mut views: Vec<Box<dyn View>> = vec![
            Box::new(panels::search::SearchPanel::default()),
            Box::new(panels::inspector::InspectorPanel::default()),
            Box::new(panels::review::ReviewPanel::default()),
            Box::new(panels::house_numbers::HouseNumbersPanel::default()),
            Box::new(panels::import_report::ImportReportPanel::default()),
        ];
        let mut registry = super::view::Registry::default();
        super::views::register(&mut registry);
        views.extend(registry.views);
        let mut open: HashSet<&'static str> = views.iter().filter(|v| v.open_by_default()).map(|v| v.id()).collect();
        open.insert(panel_ids::LAYERS);
        let mut state = AppState::default();
        if let Some(dir) = &options.settings_dir {
            state.settings = super::settings::load(dir);
        }
        if !options.tiles {
            state.basemap = super::map::tiles::Basemap::None;
        }
        let mut map = MapView::default();
        map.tiles_enabled = options.tiles;
        let mut app = LvtopoApp {
            state,
            commands: CommandQueue::default(),
            map,
            options,
            views,
            open,
            right_tab: Some(panel_ids::INSPECTOR),
            bottom_tab: Some(panel_ids::HOUSE_NUMBERS),
            overlays: registry.overlays,
            load_job: None,
            pending_measurements: Vec::new(),
            analysis_job: None,
            palette: None,
            file_dialog: None,
            native_dialog_missing: false,
            reviewer_prompt: None,
            confirmation: None,
            ctx: None,
            started: false,
            time_to_map: None,
            created: std::time::Instant::now(),
        };
        app.bottom_tab = app.views.iter().find(|v| v.placement() == Placement::Bottom).map(|v| v.id());
        app
    }

    /// Opens an in-memory dataset directly (tests, benchmark).
    pub fn open_dataset(&mut self, ds: Dataset) {
        let _ = self.install_dataset(ds);
    }

    pub fn is_busy(&self) -> bool {
        self.load_job.is_some() || self.analysis_job.is_some()
    }

    /// Waits for running jobs and applies their results (tests, benchmark).
    pub fn finish_jobs_blocking(&mut self) {
        while self.is_busy() {
            self.poll_jobs();
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn is_open(&self, id: &str) -> bool {
        self.open.contains(id)
    }

    /// One frame. Call from `eframe::App::ui` or a test harness.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if self.ctx.is_none() {
            self.ctx = Some(ui.ctx().clone());
        }
        if !self.started {
            self.started = true;
            // A light theme: maps and plots read best on it, as in desktop GIS.
            ui.ctx().set_theme(egui::Theme::Light);
            match self.options.start.clone() {
                StartWith::Nothing => {}
                StartWith::Sample => self.commands.push(UiCommand::OpenSample),
                StartWith::Paths(p) => self.commands.push(UiCommand::OpenPaths(p)),
            }
        }
        self.poll_jobs();
        self.update_job_view();
        if self.is_busy() {
            ui.ctx().request_repaint_after(Duration::from_millis(100));
        } else if self.map.tile_health() == Some(super::map::tiles::TileHealth::Loading) {
            // Until the first tile arrives (or it is clear none will), look again now and then.
            ui.ctx().request_repaint_after(Duration::from_millis(500));
        }
        self.handle_input(ui);

        let mut commands = std::mem::take(&mut self.commands);
        super::chrome::menu_bar(self, ui, &mut commands);
        super::chrome::status_bar(self, ui, &mut commands);
        self.side_panels(ui, &mut commands);
        egui::CentralPanel::no_frame().show(ui, |ui| {
            self.map.ui(ui, &self.state, &mut self.overlays, &mut commands);
        });
        if self.time_to_map.is_none() && self.map.last_transform.is_some() {
            self.time_to_map = Some(self.created.elapsed());
        }
        super::chrome::drop_hint(ui);
        super::chrome::palette(self, ui, &mut commands);
        super::chrome::restore_question(self, ui, &mut commands);
        super::chrome::reviewer_prompt(self, ui, &mut commands);
        super::chrome::confirmation(self, ui, &mut commands);
        super::chrome::file_dialog(self, ui, &mut commands);
        for c in commands.take() {
            self.run(c);
        }
        // Commands pushed while applying (e.g. zoom after select) run now too.
        for c in std::mem::take(&mut self.commands).take() {
            self.run(c);
        }
    }

    fn handle_input(&mut self, ui: &egui::Ui) {
        let dropped: Vec<PathBuf> = ui.input(|i| i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).collect());
        if !dropped.is_empty() {
            self.commands.push(UiCommand::OpenPaths(dropped));
        }
        let typing = ui.ctx().egui_wants_keyboard_input();
        for (shortcut, cmd) in UiCommand::with_shortcuts() {
            // In a text field, Ctrl+Z and friends belong to the field.
            if typing && cmd != UiCommand::CommandPalette {
                continue;
            }
            if ui.input_mut(|i| i.consume_shortcut(&shortcut)) {
                self.commands.push(cmd);
            }
        }
        // Escape cancels what is under way (picking a cable); it never throws away
        // a selection the user built (Edit > Clear selection does that).
        if !typing && ui.input(|i| i.key_pressed(egui::Key::Escape)) && self.state.picking_cable_for.is_some() {
            self.commands.push(UiCommand::CancelPick);
        }
    }

    fn side_panels(&mut self, ui: &mut egui::Ui, commands: &mut CommandQueue) {
        let state = &self.state;
        if self.open.contains(panel_ids::LAYERS) || self.open.contains(panel_ids::SEARCH) {
            egui::Panel::left("left").default_size(270.0).show(ui, |ui| {
                egui::ScrollArea::vertical().id_salt("left-scroll").show(ui, |ui| {
                    for v in self.views.iter_mut().filter(|v| v.placement() == Placement::Left && self.open.contains(v.id())) {
                        ui.add_space(4.0);
                        ui.strong(v.title());
                        v.ui(ui, &mut ViewContext { state, commands });
                        ui.separator();
                    }
                    if self.open.contains(panel_ids::LAYERS) {
                        ui.strong("Layers and legend");
                        panels::layers::ui(ui, state, &mut self.overlays, commands);
                    }
                });
            });
        }
        let right: Vec<(&'static str, String)> = self
            .views
            .iter()
            .filter(|v| v.placement() == Placement::Right && self.open.contains(v.id()))
            .map(|v| (v.id(), v.title()))
            .collect();
        if !right.is_empty() {
            if !right.iter().any(|(id, _)| Some(*id) == self.right_tab) {
                self.right_tab = Some(right[0].0);
            }
            egui::Panel::right("right").default_size(380.0).show(ui, |ui| {
                tab_bar(ui, &right, &mut self.right_tab);
                if let Some(v) = self.views.iter_mut().find(|v| Some(v.id()) == self.right_tab) {
                    egui::ScrollArea::vertical().id_salt("right-scroll").show(ui, |ui| {
                        v.ui(ui, &mut ViewContext { state, commands });
                    });
                }
            });
        }
        let bottom: Vec<(&'static str, String)> = self
            .views
            .iter()
            .filter(|v| v.placement() == Placement::Bottom && self.open.contains(v.id()))
            .map(|v| (v.id(), v.title()))
            .collect();
        if !bottom.is_empty() {
            if !bottom.iter().any(|(id, _)| Some(*id) == self.bottom_tab) {
                self.bottom_tab = Some(bottom[0].0);
            }
            egui::Panel::bottom("bottom").resizable(true).default_size(300.0).show(ui, |ui| {
                tab_bar(ui, &bottom, &mut self.bottom_tab);
                if let Some(v) = self.views.iter_mut().find(|v| Some(v.id()) == self.bottom_tab) {
                    // A wide table must not push the panel over the side panels.
                    ui.set_clip_rect(ui.max_rect().intersect(ui.clip_rect()));
                    v.ui(ui, &mut ViewContext { state, commands });
                }
            });
        }
    }

    pub(super) fn poll_jobs(&mut self) {
        if let Some(job) = &self.load_job {
            match job.poll() {
                Poll::Running => {}
                Poll::Done(result) => {
                    let elapsed = job.started.elapsed();
                    self.load_job = None;
                    match result {
                        Ok(ds) if ds.network.connections.is_empty() => {
                            let msg = format!(
                                "Could not read {}: {} error(s), see the import report",
                                ds.name,
                                ds.report.error_count()
                            );
                            let _ = self.install_dataset(ds);
                            self.open.insert(panel_ids::IMPORT_REPORT);
                            self.bottom_tab = Some(panel_ids::IMPORT_REPORT);
                            self.state.set_error(msg);
                        }
                        Ok(ds) if self.state.dataset.as_ref().is_some_and(|cur| Arc::ptr_eq(&cur.network, &ds.network)) => {
                            // Measurements added to the open network: keep the review, selection and view.
                            let msg = format!(
                                "Read {} measurement file(s) in {:.1} s{}",
                                ds.measurement_paths.len(),
                                elapsed.as_secs_f64(),
                                report_suffix(&ds)
                            );
                            if ds.report.has_errors() {
                                self.open.insert(panel_ids::IMPORT_REPORT);
                                self.bottom_tab = Some(panel_ids::IMPORT_REPORT);
                            }
                            self.state.dataset = Some(ds);
                            self.state.review_generation += 1;
                            self.state.set_message(msg);
                        }
                        Ok(ds) => {
                            let msg = format!(
                                "Opened {} in {:.1} s: {} connections, {} cables, {} stations{}",
                                ds.name,
                                elapsed.as_secs_f64(),
                                ds.network.connections.len(),
                                ds.network.cables.len(),
                                ds.network.stations.len(),
                                report_suffix(&ds)
                            );
                            let session = self.install_dataset(ds);
                            match session {
                                Some(s) => self.state.set_message(format!("{msg}; {s}")),
                                None => self.state.set_message(msg),
                            }
                        }
                        Err(e) => {
                            self.pending_measurements.clear();
                            self.state.set_error(format!("Could not open: {e}"))
                        }
                    }
                    let follow_up = std::mem::take(&mut self.pending_measurements);
                    if !follow_up.is_empty() && self.state.dataset.is_some() {
                        self.start_measurement_load(follow_up);
                    }
                }
                Poll::Lost => {
                    self.load_job = None;
                    self.state.set_error("Opening failed unexpectedly (worker stopped)");
                }
            }
        }
        if let Some(job) = &self.analysis_job {
            match job.poll() {
                Poll::Running => {}
                Poll::Done(result) => {
                    let elapsed = job.started.elapsed();
                    self.analysis_job = None;
                    match result {
                        Ok(r) => self.install_analysis(r, elapsed),
                        Err(e) => self.state.set_error(format!("Analysis: {e}")),
                    }
                }
                Poll::Lost => {
                    self.analysis_job = None;
                    self.state.set_error("The analysis failed unexpectedly (worker stopped)");
                }
            }
        }
    }

    fn update_job_view(&mut self) {
        let job = self
            .load_job
            .as_ref()
            .map(|j| (j.title.clone(), j.progress.clone()))
            .or_else(|| self.analysis_job.as_ref().map(|j| (j.title.clone(), j.progress.clone())));
        self.state.job = job.map(|(title, p)| JobView { title, fraction: p.fraction(), stage: p.stage() });
    }

    /// Shows `ds`; returns what happened to its review session (for the status line).
    pub(super) fn install_dataset(&mut self, ds: Dataset) -> Option<String> {
        let had_errors = ds.report.has_errors();
        self.state.analysis = None;
        self.state.selection = Default::default();
        self.state.picking_cable_for = None;
        // The review session travels with the network file: restore it if it fits.
        let (session, outcome) = match &ds.network_path {
            Some(p) => {
                let (s, o) = match &self.options.session_dir {
                    Some(dir) => {
                        let file = lvtopo_core::session::persist::beside_network(p);
                        let name =
                            file.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "network.lvtopo-session.json".into());
                        let _ = std::fs::create_dir_all(dir);
                        lvtopo_core::session::ReviewSession::open_with_session_file(ds.network.clone(), p, dir.join(name))
                    }
                    None => lvtopo_core::session::ReviewSession::open(ds.network.clone(), p),
                };
                (s, Some(o))
            }
            None => (lvtopo_core::session::ReviewSession::new(ds.network.clone()), None),
        };
        self.state.restore_question = None;
        if let Some(o) = &outcome {
            use lvtopo_core::session::RestoreOutcome;
            match o {
                RestoreOutcome::NetworkChanged { .. } | RestoreOutcome::Unreadable { .. } => {
                    self.state.restore_question = Some(o.message());
                }
                RestoreOutcome::Restored { .. } => {
                    // Restored decisions need the analysis for their evidence; they are in the session already.
                }
                RestoreOutcome::NoSavedSession { .. } => {}
            }
        }
        let mut session = session;
        if let Some(name) = &self.state.settings.reviewer {
            session.set_user(name.clone());
        }
        self.state.session = Some(session);
        self.state.review_generation += 1;
        self.state.dataset = Some(ds);
        self.map.reset_view();
        if had_errors {
            self.open.insert(panel_ids::IMPORT_REPORT);
            self.bottom_tab = Some(panel_ids::IMPORT_REPORT);
        }
        outcome.map(|o| o.message())
    }

    pub(super) fn install_analysis(&mut self, r: AnalysisResult, elapsed: Duration) {
        use lvtopo_core::analysis::Status;
        let count = |s: Status| r.assignments.iter().filter(|a| a.status == s).count();
        // The suggestion count is the review's (one per changed field), as in the
        // review table and the status bar; connections are counted apart.
        let mut suggestions = 0;
        if let Some(s) = self.state.session.as_mut() {
            s.set_analysis(r.clone());
            suggestions = s.counts().total;
            self.state.review_generation += 1;
        }
        let msg = format!(
            "Analysis done in {:.1} s: {} confirmed, {} suggestion(s) on {} connection(s), {} filled in, {} insufficient data",
            elapsed.as_secs_f64(),
            count(Status::Ok),
            suggestions,
            count(Status::SuggestChange),
            count(Status::FillIn),
            count(Status::InsufficientData)
        );
        self.state.analysis = Some(std::sync::Arc::new(r));
        self.state.set_message(msg);
    }
}

fn report_suffix(ds: &Dataset) -> String {
    let (e, w) = (ds.report.error_count(), ds.report.warning_count());
    if e + w == 0 { String::new() } else { format!(" — {e} error(s), {w} warning(s) in the import report") }
}

fn tab_bar(ui: &mut egui::Ui, tabs: &[(&'static str, String)], current: &mut Option<&'static str>) {
    ui.horizontal(|ui| {
        for (id, title) in tabs {
            if ui.selectable_label(*current == Some(*id), title.as_str()).clicked() {
                *current = Some(id);
            }
        }
    });
    ui.separator();
}

impl eframe::App for LvtopoApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let _ = frame;
        LvtopoApp::ui(self, ui);
    }
}

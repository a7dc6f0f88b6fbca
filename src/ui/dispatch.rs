//! Applying commands after the frame: the only place application state changes.

use super::app::LvtopoApp;
use super::command::{UiCommand, panel_ids};
use super::jobs::Job;
use super::loader;
use super::map::index::WorldRect;
use super::view::Placement;
use crate::analysis::AnalysisOptions;
use crate::progress::Cancelled;
use std::path::PathBuf;

impl LvtopoApp {
    pub fn apply(&mut self, c: UiCommand) {
        use UiCommand::*;
        match c {
            Open => {
                if let Some(paths) = self.dialog(|d| {
                    d.add_filter("Network or measurements", &["gpkg", "geojson", "csv", "gz"])
                        .add_filter("GeoPackage", &["gpkg"])
                        .add_filter("Measurements (CSV)", &["csv", "gz"])
                        .pick_files()
                }) {
                    self.apply(OpenPaths(paths));
                }
            }
            OpenFolder => {
                if let Some(p) = self.dialog(|d| d.pick_folder()) {
                    self.apply(OpenPaths(vec![p]));
                }
            }
            OpenPaths(paths) => self.start_load(paths),
            OpenSample => match loader::find_sample() {
                Some(p) => self.start_load(vec![p]),
                None => {
                    self.install_dataset(loader::generated_fallback());
                    self.state.set_message("Sample network not found: showing a generated layout (see the import report)");
                }
            },
            ClearRecent => {
                self.state.recent.clear();
                self.save_recent();
            }
            Export(kind) => self.export(kind),
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
                    let mut r = WorldRect::of_points(sel.connections.iter().filter_map(|&i| ds.index.connections.get(i).copied()));
                    if let Some(c) = sel.cable {
                        r = r.union(WorldRect::of_points(ds.index.cables[c].iter().copied()));
                    }
                    self.map.fit(grow_min(r));
                }
            }
            ZoomToStation(s) => {
                if let Some(ds) = &self.state.dataset {
                    if let Some(st) = ds.network.stations.get(s) {
                        let mut r = WorldRect::of_points([ds.index.stations[s]]);
                        for (f, sid) in ds.network.feeders() {
                            if sid == st.id {
                                r = r.union(ds.index.feeder_bounds(&f).unwrap_or(WorldRect::EMPTY));
                            }
                        }
                        self.map.fit(grow_min(r));
                    }
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
            Accept(_) | Reject(_) | ResetDecision(_) | AcceptAllAbove(_) | SetPhase(..) | SetCable { .. } | Undo | Redo => {
                self.state.picking_cable_for = None;
                self.state.set_error("Review and edit need the review session, which this build does not have yet");
            }
            StartPickCable(conn) => {
                self.state.picking_cable_for = Some(conn);
                self.state.set_message("Click the cable to connect to (Esc cancels)");
            }
            CancelPick => {
                self.state.picking_cable_for = None;
                self.state.message = None;
            }
            TogglePanel(id) => {
                if !self.open.remove(id) {
                    self.show_panel(id);
                }
            }
            ShowPanel(id) => self.show_panel(id),
            CommandPalette => self.palette = Some(Default::default()),
        }
    }

    fn show_panel(&mut self, id: &'static str) {
        self.open.insert(id);
        match self.views.iter().find(|v| v.id() == id).map(|v| v.placement()) {
            Some(Placement::Right) => self.right_tab = Some(id),
            Some(Placement::Bottom) => self.bottom_tab = Some(id),
            _ => {}
        }
    }

    /// A native dialog, or `None` when dialogs are off (tests) or cancelled.
    pub(super) fn dialog<T>(&self, f: impl FnOnce(rfd::FileDialog) -> Option<T>) -> Option<T> {
        if !self.options.dialogs {
            return None;
        }
        let mut d = rfd::FileDialog::new();
        if let Some(dir) = self.state.dataset.as_ref().and_then(|d| d.network_path.as_ref()).and_then(|p| p.parent()) {
            d = d.set_directory(dir);
        }
        f(d)
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
            super::settings::push_recent(&mut self.state.recent, p.clone());
            self.save_recent();
        }
        let current = self.state.dataset.clone();
        let title = match &plan.network {
            Some(p) => format!("Opening {}", p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()),
            None => format!("Reading {} measurement file(s)", plan.measurements.len()),
        };
        self.load_job = Some(Job::spawn(title, self.ctx.clone(), move |progress| loader::load(&plan, current.as_ref(), progress)));
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
            crate::analysis::analyze(&ds.network, &ds.topology, voltage, &AnalysisOptions::default(), progress)
                .map_err(|Cancelled| "cancelled by the user".to_string())
        }));
    }

    fn export(&mut self, kind: super::command::ExportKind) {
        let _ = kind;
        self.state.set_error("Export needs the review session, which this build does not have yet");
    }

    pub(super) fn save_recent(&mut self) {
        if let Some(dir) = &self.options.settings_dir {
            if let Err(e) = super::settings::save_recent(dir, &self.state.recent) {
                self.state.set_error(format!("Could not remember recent files in {}: {e}", dir.display()));
            }
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

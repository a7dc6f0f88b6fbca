//! Applying [`SystemCommand`]s: file dialogs, exports, settings writes. Like
//! `dispatch.rs`, this runs after the frame; widgets only queue the commands.

use super::app::LvtopoApp;
use super::command::{Command, ExportKind, SystemCommand, UiCommand};
use super::files::{FilePurpose, InAppDialog, NativeAnswer, PickMode};
use lvtopo_core::session::export;
use std::path::{Path, PathBuf};

/// The reviewer's name, asked once before the first decision or export.
pub struct ReviewerPrompt {
    pub name: String,
    /// What the user was doing when asked; run once the name is given.
    pub then: Vec<Command>,
}

impl LvtopoApp {
    /// Applies any queued command.
    pub fn run(&mut self, c: Command) {
        match c {
            Command::Ui(c) if self.needs_reviewer(&c) => self.ask_reviewer(vec![Command::Ui(c)]),
            Command::Ui(c) => self.apply(c),
            Command::System(c) => self.apply_system(c),
        }
    }

    /// Decisions and exports record who made them: ask the name first (once).
    fn needs_reviewer(&self, c: &UiCommand) -> bool {
        self.options.ask_reviewer
            && self.state.settings.reviewer.is_none()
            && matches!(c, UiCommand::Review(_) | UiCommand::SetCable { .. } | UiCommand::Export(_) | UiCommand::ExportAll)
    }

    pub(super) fn ask_reviewer(&mut self, then: Vec<Command>) {
        let name = self.state.settings.reviewer.clone().unwrap_or_else(lvtopo_core::session::review::os_user);
        self.reviewer_prompt = Some(ReviewerPrompt { name, then });
    }

    pub fn apply_system(&mut self, c: SystemCommand) {
        use SystemCommand::*;
        match c {
            AskPath(purpose) => self.ask_path(purpose),
            PathsChosen { purpose, paths } => self.paths_chosen(purpose, paths),
            DialogCancelled(purpose) => {
                let what = if purpose.is_export() { "Export cancelled: nothing written" } else { "Nothing opened" };
                self.state.set_message(what);
            }
            ExportTo { kind, path } => self.export_to(kind, &path),
            ExportAllTo(dir) => self.export_all_to(&dir),
            SetReviewer(name) => {
                let name = name.trim().to_string();
                if name.is_empty() {
                    self.state.set_error("The reviewer's name is empty: decisions need a name");
                    return;
                }
                if let Some(s) = self.state.session.as_mut() {
                    s.set_user(name.clone());
                }
                self.state.settings.reviewer = Some(name.clone());
                self.save_settings();
                self.state.set_message(format!("Decisions and exports are recorded as {name}"));
            }
            SetExportOnlyChanged(on) => {
                self.state.settings.export_only_changed = on;
                self.save_settings();
            }
            SaveSettings => self.save_settings(),
            AskConfirm(q) => self.confirmation = Some(q),
        }
    }

    /// Where a dialog for `purpose` starts: its kind's last folder, else the network's.
    pub fn start_dir(&self, purpose: &FilePurpose) -> Option<PathBuf> {
        let last = self.state.settings.last_dirs.get(purpose.folder_key()).filter(|d| d.is_dir()).cloned();
        last.or_else(|| {
            let p = self.state.dataset.as_ref()?.network_path.as_ref()?;
            if p.is_dir() { Some(p.clone()) } else { p.parent().map(Path::to_path_buf) }
        })
    }

    /// Asks for a path: the native dialog, else (none on this machine) the in-app one.
    pub(super) fn ask_path(&mut self, purpose: FilePurpose) {
        if !self.options.dialogs {
            // Headless (tests): exports go to the export folder, opening needs paths.
            match (&self.state.export_dir, purpose.mode()) {
                (Some(dir), PickMode::Save(name)) if purpose.is_export() => {
                    let paths = vec![dir.join(name)];
                    self.paths_chosen(purpose, paths);
                }
                (Some(dir), _) if purpose.is_export() => {
                    let paths = vec![dir.clone()];
                    self.paths_chosen(purpose, paths);
                }
                _ => self.state.set_error("No file dialog in this mode: nothing chosen"),
            }
            return;
        }
        let start = self.start_dir(&purpose);
        if self.options.native_dialogs && !self.native_dialog_missing {
            match super::files::native(&purpose, start.as_deref()) {
                NativeAnswer::Picked(paths) => return self.paths_chosen(purpose, paths),
                NativeAnswer::Cancelled => return self.apply_system(SystemCommand::DialogCancelled(purpose)),
                NativeAnswer::Unavailable => {
                    // No portal and no zenity: the in-app dialog from now on.
                    self.native_dialog_missing = true;
                }
            }
        }
        self.file_dialog = Some(InAppDialog::new(purpose, start.as_deref()));
    }

    fn paths_chosen(&mut self, purpose: FilePurpose, paths: Vec<PathBuf>) {
        if let Some(dir) = purpose.folder_of(&paths) {
            self.state.settings.last_dirs.insert(purpose.folder_key().to_string(), dir);
            self.save_settings();
        }
        let Some(first) = paths.first().cloned() else { return };
        match purpose {
            FilePurpose::Open | FilePurpose::OpenFolder => self.apply(UiCommand::OpenPaths(paths)),
            FilePurpose::Export(kind) => self.export_to(kind, &first),
            FilePurpose::ExportAll => self.export_all_to(&first),
            FilePurpose::ExportOutage(a) => {
                let Some(net) = self.state.dataset.as_ref().map(|d| d.network.clone()) else { return };
                match lvtopo_core::outage::export::write_all(&a, &net, &first) {
                    Ok(files) => {
                        self.record_export(&first, "outage CSVs");
                        self.state.set_message(format!("Wrote {} outage file(s) to {}", files.len(), first.display()))
                    }
                    Err(e) => self.state.set_error(format!("Outage export to {} failed: {e}", first.display())),
                }
            }
        }
    }

    fn export_to(&mut self, kind: ExportKind, path: &Path) {
        let Some(s) = self.state.session.as_ref() else {
            self.state.set_error("Open a network first");
            return;
        };
        let opts = export::ExportOptions { only_changed: self.state.settings.export_only_changed };
        let result = match kind {
            ExportKind::CorrectionsCsv => export::write_corrections_csv(s, path).map(|rows| {
                format!(
                    "corrections.csv: {rows} row(s) for {} corrected connection(s) written to {}",
                    s.changed_connections().len(),
                    path.display()
                )
            }),
            ExportKind::GeoJson => {
                export::export_geojson_with(s, path, &opts).map(|c| format!("GeoJSON: {} to {}", c.summary(), path.display()))
            }
            ExportKind::GeoPackage => {
                export::export_gpkg_with(s, path, &opts).map(|c| format!("GeoPackage: {} to {}", c.summary(), path.display()))
            }
            ExportKind::PowerGridModel => {
                let mapping = path.with_extension("mapping.csv");
                export::export_pgm(s, path, &mapping, &export::PgmOptions::default()).map(|m| {
                    let warn = if m.warnings.is_empty() {
                        String::new()
                    } else {
                        format!(" ({} assumption(s), see the mapping file)", m.warnings.len())
                    };
                    format!("power-grid-model input written to {} and {}{warn}", path.display(), mapping.display())
                })
            }
        };
        let inconsistent = s.inconsistencies().len();
        match result {
            Ok(msg) => {
                self.record_export(path, kind.file_name());
                if inconsistent > 0 {
                    self.state.set_message(format!(
                        "{msg}. Note: {inconsistent} corrected connection(s) have a cable, feeder and station that do not fit together"
                    ));
                } else {
                    self.state.set_message(msg);
                }
            }
            Err(e) => self.state.set_error(format!("Export to {} failed: {e}", path.display())),
        }
    }

    fn export_all_to(&mut self, dir: &Path) {
        let Some(s) = self.state.session.as_ref() else {
            self.state.set_error("Open a network first");
            return;
        };
        let result = export::export_all(s, dir, &lvtopo_core::progress::NoProgress);
        match result {
            Ok(sum) => {
                self.record_export(dir, "corrections (all formats)");
                let bad = if sum.inconsistencies.is_empty() {
                    String::new()
                } else {
                    format!("; {} inconsistent connection(s)", sum.inconsistencies.len())
                };
                self.state.set_message(format!(
                    "Exported {} file(s) to {}: {}{bad}",
                    sum.files.len(),
                    dir.display(),
                    sum.counts.summary()
                ));
            }
            Err(e) => self.state.set_error(format!("Export to {} failed: {e}", dir.display())),
        }
    }

    pub(super) fn save_settings(&mut self) {
        if let Some(dir) = &self.options.settings_dir
            && let Err(e) = super::settings::save(dir, &self.state.settings)
        {
            self.state.set_error(format!("Could not save the settings in {}: {e}", dir.display()));
        }
    }
}

//! File dialogs that cannot fail silently.
//!
//! The native dialog (rfd: XDG portal, else zenity) is tried first. Without
//! either, rfd returns "no file" within milliseconds, exactly as if the user had
//! cancelled; a person cannot cancel that fast, so a quick empty answer means
//! "no native dialog here" and the in-app dialog (egui_file) opens instead, for
//! the rest of the run. Every dialog starts in the last folder used for its
//! kind, else in the open network's folder.

use super::command::ExportKind;
use lvtopo_core::outage::OutageAnalysis;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Faster than any person can close a dialog: the native dialog never showed.
const NO_DIALOG_WITHIN: Duration = Duration::from_millis(250);

/// What a file dialog is for; decides its mode, title, start folder and what happens next.
#[derive(Clone, Debug)]
pub enum FilePurpose {
    /// Network and/or measurement files.
    Open,
    /// A GeoJSON network folder.
    OpenFolder,
    Export(ExportKind),
    /// Every correction export into one folder.
    ExportAll,
    ExportOutage(Arc<OutageAnalysis>),
}

impl PartialEq for FilePurpose {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (FilePurpose::Export(a), FilePurpose::Export(b)) => a == b,
            (FilePurpose::ExportOutage(a), FilePurpose::ExportOutage(b)) => Arc::ptr_eq(a, b),
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

/// How the dialog picks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PickMode {
    OpenFiles,
    Folder,
    /// Save under a name, proposed.
    Save(&'static str),
}

impl FilePurpose {
    /// The key its last folder is remembered under.
    pub fn folder_key(&self) -> &'static str {
        match self {
            FilePurpose::Open | FilePurpose::OpenFolder => "open",
            FilePurpose::Export(ExportKind::GeoPackage) => "export-gpkg",
            FilePurpose::Export(ExportKind::GeoJson) => "export-geojson",
            FilePurpose::Export(ExportKind::CorrectionsCsv) => "export-corrections",
            FilePurpose::Export(ExportKind::PowerGridModel) => "export-pgm",
            FilePurpose::ExportAll => "export-all",
            FilePurpose::ExportOutage(_) => "export-outage",
        }
    }

    pub fn mode(&self) -> PickMode {
        match self {
            FilePurpose::Open => PickMode::OpenFiles,
            FilePurpose::OpenFolder
            | FilePurpose::Export(ExportKind::GeoJson)
            | FilePurpose::ExportAll
            | FilePurpose::ExportOutage(_) => PickMode::Folder,
            FilePurpose::Export(k) => PickMode::Save(k.file_name()),
        }
    }

    pub fn title(&self) -> String {
        match self {
            FilePurpose::Open => "Open a network or measurement files".into(),
            FilePurpose::OpenFolder => "Open a GeoJSON network folder".into(),
            FilePurpose::Export(ExportKind::GeoJson) => "Folder for the corrected GeoJSON network".into(),
            FilePurpose::Export(k) => format!("Export {}", k.label().trim_end_matches('…')),
            FilePurpose::ExportAll => "Folder for every export".into(),
            FilePurpose::ExportOutage(_) => "Folder for the outage CSVs".into(),
        }
    }

    pub fn is_export(&self) -> bool {
        !matches!(self, FilePurpose::Open | FilePurpose::OpenFolder)
    }

    /// The folder to remember after `paths` were picked.
    pub fn folder_of(&self, paths: &[PathBuf]) -> Option<PathBuf> {
        let p = paths.first()?;
        match self.mode() {
            PickMode::Folder => Some(p.clone()),
            _ => p.parent().map(Path::to_path_buf),
        }
    }
}

/// What the native dialog answered.
#[derive(Debug, PartialEq)]
pub enum NativeAnswer {
    Picked(Vec<PathBuf>),
    Cancelled,
    /// No native dialog on this machine (no portal, no zenity).
    Unavailable,
}

/// Shows the native dialog for `purpose`, starting in `start`.
pub fn native(purpose: &FilePurpose, start: Option<&Path>) -> NativeAnswer {
    let mut d = rfd::FileDialog::new().set_title(purpose.title());
    if let Some(s) = start {
        d = d.set_directory(s);
    }
    let t = Instant::now();
    let picked: Option<Vec<PathBuf>> = match purpose.mode() {
        PickMode::OpenFiles => d
            .add_filter("Network or measurements", &["gpkg", "geojson", "csv", "gz"])
            .add_filter("GeoPackage", &["gpkg"])
            .add_filter("Measurements (CSV)", &["csv", "gz"])
            .pick_files(),
        PickMode::Folder => d.pick_folder().map(|p| vec![p]),
        PickMode::Save(name) => {
            let ext = Path::new(name).extension().and_then(|e| e.to_str()).unwrap_or("");
            d.set_file_name(name).add_filter(ext, &[ext]).save_file().map(|p| vec![p])
        }
    };
    classify(picked, t.elapsed())
}

/// An empty answer faster than a person can cancel means there was no dialog.
pub fn classify(picked: Option<Vec<PathBuf>>, elapsed: Duration) -> NativeAnswer {
    match picked {
        Some(p) if !p.is_empty() => NativeAnswer::Picked(p),
        _ if elapsed < NO_DIALOG_WITHIN => NativeAnswer::Unavailable,
        _ => NativeAnswer::Cancelled,
    }
}

/// The in-app dialog while it is open.
pub struct InAppDialog {
    pub purpose: FilePurpose,
    dialog: egui_file::FileDialog,
}

/// What the in-app dialog did this frame.
pub enum InAppAnswer {
    Open,
    Picked(Vec<PathBuf>),
    Cancelled,
}

impl InAppDialog {
    pub fn new(purpose: FilePurpose, start: Option<&Path>) -> InAppDialog {
        let mut dialog = match purpose.mode() {
            PickMode::OpenFiles => egui_file::FileDialog::open_file().multi_select(true),
            PickMode::Folder => egui_file::FileDialog::select_folder(),
            PickMode::Save(name) => egui_file::FileDialog::save_file().default_filename(name),
        }
        .title(&purpose.title())
        .id(egui::Id::unique("lvtopo-file-dialog"))
        .default_size([640.0, 440.0])
        .show_rename(false);
        if let Some(s) = start {
            dialog = dialog.initial_path(s);
        }
        dialog.open();
        InAppDialog { purpose, dialog }
    }

    /// The folder the dialog shows.
    pub fn directory(&self) -> &Path {
        self.dialog.directory()
    }

    pub fn show(&mut self, ctx: &egui::Context) -> InAppAnswer {
        self.dialog.show(ctx);
        match self.dialog.state() {
            egui_file::State::Selected => {
                let mut paths: Vec<PathBuf> = self.dialog.selection().into_iter().map(Path::to_path_buf).collect();
                if paths.is_empty() {
                    paths.extend(self.dialog.path().map(Path::to_path_buf));
                }
                if paths.is_empty() { InAppAnswer::Cancelled } else { InAppAnswer::Picked(paths) }
            }
            egui_file::State::Cancelled | egui_file::State::Closed => InAppAnswer::Cancelled,
            egui_file::State::Open => InAppAnswer::Open,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quick_empty_answer_means_no_native_dialog() {
        assert_eq!(classify(None, Duration::from_millis(2)), NativeAnswer::Unavailable);
        assert_eq!(classify(None, Duration::from_secs(3)), NativeAnswer::Cancelled);
        let p = vec![PathBuf::from("/x.gpkg")];
        assert_eq!(classify(Some(p.clone()), Duration::from_millis(1)), NativeAnswer::Picked(p));
    }

    #[test]
    fn each_kind_remembers_its_own_folder() {
        let keys: std::collections::HashSet<_> = ExportKind::ALL.map(|k| FilePurpose::Export(k).folder_key()).into();
        assert_eq!(keys.len(), 4);
        let f = FilePurpose::Export(ExportKind::GeoPackage);
        assert_eq!(f.folder_of(&[PathBuf::from("/out/corrected.gpkg")]), Some(PathBuf::from("/out")));
        assert_eq!(FilePurpose::ExportAll.folder_of(&[PathBuf::from("/out/all")]), Some(PathBuf::from("/out/all")));
    }
}

//! Everything the user can ask the app to do, as data.
//!
//! Widgets never change application state directly: they push a
//! [`UiCommand`] onto the [`CommandQueue`] during the frame and the app applies
//! the queue after the frame (see `app.rs`). One command is one user gesture,
//! and so one undo step. Commands without payload carry their own label,
//! tooltip and shortcut, which feed the menus, the keyboard handling and the
//! command palette from one place.

use egui::{Key, KeyboardShortcut, Modifiers};
use lvtopo_core::session::SessionCommand;
use std::path::PathBuf;

/// Which of the contract's exports to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExportKind {
    GeoPackage,
    GeoJson,
    CorrectionsCsv,
    PowerGridModel,
}

impl ExportKind {
    pub const ALL: [ExportKind; 4] =
        [ExportKind::GeoPackage, ExportKind::GeoJson, ExportKind::CorrectionsCsv, ExportKind::PowerGridModel];

    pub fn label(self) -> &'static str {
        match self {
            ExportKind::GeoPackage => "Corrected network as GeoPackage…",
            ExportKind::GeoJson => "Corrected network as GeoJSON folder…",
            ExportKind::CorrectionsCsv => "Change log corrections.csv…",
            ExportKind::PowerGridModel => "Corrected network as power-grid-model JSON…",
        }
    }
    pub fn file_name(self) -> &'static str {
        match self {
            ExportKind::GeoPackage => "corrected.gpkg",
            ExportKind::GeoJson => "corrected-geojson",
            ExportKind::CorrectionsCsv => "corrections.csv",
            ExportKind::PowerGridModel => "network_pgm.json",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            ExportKind::GeoPackage => "gpkg",
            ExportKind::GeoJson => "geojson",
            ExportKind::CorrectionsCsv => "csv",
            ExportKind::PowerGridModel => "json",
        }
    }
}

/// A panel (a [`crate::view::View`]) by its id; the built-in ones are in [`panel_ids`].
pub type PanelId = &'static str;

/// Ids of the built-in panels.
pub mod panel_ids {
    pub const SEARCH: &str = "search";
    pub const LAYERS: &str = "layers";
    pub const INSPECTOR: &str = "inspector";
    pub const REVIEW: &str = "review";
    pub const HOUSE_NUMBERS: &str = "house_numbers";
    pub const IMPORT_REPORT: &str = "import_report";
}

#[derive(Clone, Debug, PartialEq)]
pub enum UiCommand {
    // ---- file
    /// Ask for files with a dialog.
    Open,
    /// Ask for a folder (GeoJSON network) with a dialog.
    OpenFolder,
    /// Open these paths: a network (GeoPackage or GeoJSON folder) and/or measurement CSVs.
    OpenPaths(Vec<PathBuf>),
    OpenSample,
    ClearRecent,
    Export(ExportKind),
    /// Ask (again) for the reviewer's name written with decisions and exports.
    AskReviewer,
    Quit,
    // ---- analysis
    RunAnalysis,
    CancelJob,
    // ---- selection and map
    /// Select these connections; `add` keeps the current selection.
    Select {
        connections: Vec<usize>,
        add: bool,
    },
    ClearSelection,
    SelectCable(Option<usize>),
    ZoomToNetwork,
    ZoomToSelection,
    ZoomToStation(usize),
    ZoomToFeeder(String),
    FocusSearch,
    SetStyle(crate::map::style::MapStyle),
    SetBasemap(crate::map::tiles::Basemap),
    ToggleOverlay(&'static str),
    // ---- review and edit
    /// A review decision or manual edit, applied to the session as one undo step.
    Review(SessionCommand),
    /// Manual reassignment of a connection to a cable (by index), picked on the map.
    SetCable {
        connection: usize,
        cable: usize,
    },
    /// After the network changed since the session was saved: restore what still
    /// fits (`true`) or start a new session (`false`).
    ResolveRestore {
        restore: bool,
    },
    /// Write every export (GeoJSON, corrections.csv, power-grid-model) into a folder.
    ExportAll,
    /// Next click on a cable on the map reassigns the connection to it.
    StartPickCable(usize),
    CancelPick,
    Undo,
    Redo,
    // ---- outages
    /// Registration mismatches found in outages, as suggestions for the topology
    /// review (replaces the earlier outage suggestions; decisions are kept).
    OutageSuggestions(Vec<lvtopo_core::session::SuggestionDraft>),
    /// Write the outage CSVs (interruptions, compensation for payment, register,
    /// mismatches, localisation) into a folder.
    ExportOutage(std::sync::Arc<lvtopo_core::outage::OutageAnalysis>),
    // ---- view
    TogglePanel(PanelId),
    ShowPanel(PanelId),
    CommandPalette,
    // ---- privacy
    /// Read these measurement files for the purposes chosen (the answer to the
    /// purpose question, or "keep only the allowed part" with `consent_trim`).
    LoadWithPurposes(crate::views::privacy_load::PrivacyChoices, Vec<PathBuf>),
    /// The user declined to state a purpose: the files are not read.
    CancelPurposeQuestion,
    /// After a purge: drop the raw meter reads held in memory too (derived results stay).
    ForgetRawReads,
    /// A privacy setting, export or purge (through `lvtopo_core::privacy`, audited).
    Privacy(crate::privacy_actions::PrivacyAction),
}

impl UiCommand {
    /// Commands listed in the command palette (the payload-free ones).
    pub fn palette() -> Vec<UiCommand> {
        let mut v = vec![
            UiCommand::Open,
            UiCommand::OpenFolder,
            UiCommand::OpenSample,
            UiCommand::RunAnalysis,
            UiCommand::CancelJob,
            UiCommand::Undo,
            UiCommand::Redo,
            UiCommand::ZoomToNetwork,
            UiCommand::ZoomToSelection,
            UiCommand::ClearSelection,
            UiCommand::FocusSearch,
        ];
        v.extend(ExportKind::ALL.map(UiCommand::Export));
        v.push(UiCommand::ExportAll);
        v.push(UiCommand::AskReviewer);
        v.push(UiCommand::ClearRecent);
        v.push(UiCommand::Quit);
        v
    }

    pub fn label(&self) -> String {
        use UiCommand::*;
        match self {
            Open => "Open files…".into(),
            OpenFolder => "Open GeoJSON folder…".into(),
            OpenPaths(p) => match p.as_slice() {
                [one] => format!("Open {}", one.display()),
                _ => format!("Open {} files", p.len()),
            },
            OpenSample => "Open the sample network".into(),
            ClearRecent => "Clear recent files".into(),
            AskReviewer => "Reviewer's name…".into(),
            Export(k) => format!("Export {}", k.label()),
            Quit => "Quit".into(),
            RunAnalysis => "Run analysis".into(),
            CancelJob => "Cancel running task".into(),
            Select { connections, .. } => format!("Select {} connection(s)", connections.len()),
            ClearSelection => "Clear selection".into(),
            SelectCable(_) => "Select cable".into(),
            ZoomToNetwork => "Zoom to the whole network".into(),
            ZoomToSelection => "Zoom to the selection".into(),
            ZoomToStation(_) => "Zoom to station".into(),
            ZoomToFeeder(f) => format!("Zoom to feeder {f}"),
            FocusSearch => "Search (EAN, postcode + number, street)".into(),
            SetStyle(_) => "Change map layers".into(),
            SetBasemap(b) => format!("Background map: {}", b.label()),
            ToggleOverlay(id) => format!("Show/hide overlay {id}"),
            Review(c) => review_label(c),
            SetCable { .. } => "Reassign cable".into(),
            ResolveRestore { restore: true } => "Restore the decisions that still fit".into(),
            ResolveRestore { restore: false } => "Start a new review session".into(),
            ExportAll => "Export everything to a folder…".into(),
            StartPickCable(_) => "Pick the cable on the map".into(),
            CancelPick => "Cancel picking".into(),
            Undo => "Undo".into(),
            Redo => "Redo".into(),
            OutageSuggestions(d) => format!("Send {} outage mismatch(es) to the review", d.len()),
            ExportOutage(_) => "Export outage CSVs (compensation for payment, register)…".into(),
            TogglePanel(p) => format!("Show/hide panel {p}"),
            ShowPanel(p) => format!("Show panel {p}"),
            CommandPalette => "Command palette".into(),
            LoadWithPurposes(c, _) if c.consent_trim => "Read keeping only what the privacy rules allow".into(),
            LoadWithPurposes(_, p) => format!("Read {} measurement file(s) for the purposes chosen", p.len()),
            CancelPurposeQuestion => "Do not read the measurement files".into(),
            ForgetRawReads => "Drop the purged meter reads from memory".into(),
            Privacy(a) => a.label(),
        }
    }

    pub fn tooltip(&self) -> &'static str {
        use UiCommand::*;
        match self {
            Open => "Open a GeoPackage network, or measurement CSV files (voltage.csv, …) for the open network",
            OpenFolder => "Open a folder with stations/cables/connections.geojson and its measurement CSVs",
            OpenSample => "Open the sample network that ships with lvtopo",
            ClearRecent => "Forget the list of recently opened files",
            AskReviewer => "The name written with every decision and into the exports",
            Export(_) => "Write the corrections accepted in this review",
            Quit => "Close lvtopo (the review is autosaved)",
            RunAnalysis => "Infer phase, feeder and cable of every connection from the voltage read (in the background)",
            CancelJob => "Stop the running load or analysis",
            ZoomToNetwork => "Fit the whole network in the map",
            ZoomToSelection => "Fit the selected connections in the map",
            ClearSelection => "Deselect everything",
            FocusSearch => "Find a connection by EAN, by postcode and house number, or by street",
            Review(SessionCommand::Accept { .. }) => "Accept the suggested correction",
            Review(SessionCommand::Reject { .. }) => "Keep the GIS registration",
            Review(SessionCommand::AcceptAllAbove { .. }) => {
                "Accept every pending suggestion at or above this confidence (one undo step)"
            }
            ExportAll => "Corrected network as GeoJSON, corrections.csv and power-grid-model JSON, in one folder",
            StartPickCable(_) => "Click a cable on the map to move the connection onto it",
            Undo => "Undo the last review decision or edit",
            Redo => "Redo what was undone",
            TogglePanel(_) | ShowPanel(_) => "Show or hide this panel",
            CommandPalette => "Search every command by name",
            _ => "",
        }
    }

    pub fn shortcut(&self) -> Option<KeyboardShortcut> {
        use UiCommand::*;
        let cmd = Modifiers::COMMAND;
        let k = |m, key| Some(KeyboardShortcut::new(m, key));
        match self {
            Open => k(cmd, Key::O),
            RunAnalysis => k(Modifiers::NONE, Key::F5),
            Undo => k(cmd, Key::Z),
            Redo => k(cmd | Modifiers::SHIFT, Key::Z),
            CommandPalette => k(cmd, Key::P),
            FocusSearch => k(cmd, Key::F),
            ZoomToNetwork => k(cmd, Key::Num0),
            ZoomToSelection => k(cmd, Key::E),
            Quit => k(cmd, Key::Q),
            _ => None,
        }
    }

    /// Commands with a shortcut, most specific first (Ctrl+Shift+Z before Ctrl+Z),
    /// since egui's `consume_shortcut` matches a subset of the modifiers.
    pub fn with_shortcuts() -> Vec<(KeyboardShortcut, UiCommand)> {
        let mut v: Vec<_> = UiCommand::palette()
            .into_iter()
            .chain([UiCommand::CommandPalette])
            .filter_map(|c| c.shortcut().map(|s| (s, c)))
            .collect();
        v.sort_by_key(|(s, _)| std::cmp::Reverse(modifier_count(s.modifiers)));
        v
    }
}

fn review_label(c: &SessionCommand) -> String {
    match c {
        SessionCommand::Accept { ids, .. } => format!("Accept {} suggestion(s)", ids.len()),
        SessionCommand::Reject { ids, .. } => format!("Reject {} suggestion(s)", ids.len()),
        SessionCommand::Edit { value, .. } => format!("Set own value {value}"),
        SessionCommand::Reset { ids } => format!("Back to pending ({})", ids.len()),
        SessionCommand::SetNote { .. } => "Change note".into(),
        SessionCommand::AcceptAllAbove { min_confidence, .. } => {
            format!("Accept all pending suggestions with confidence >= {min_confidence:.2}")
        }
        SessionCommand::SetPhase { phase, .. } => format!("Set phase to {phase}"),
        SessionCommand::SetRotation { rotation, .. } => format!("Set meter rotation to {rotation}"),
        SessionCommand::SetCable { cable_id, .. } => format!("Move to cable {cable_id}"),
        SessionCommand::ClearEdit { field, .. } => format!("Remove manual {field} edit"),
    }
}

fn modifier_count(m: Modifiers) -> u8 {
    m.alt as u8 + m.ctrl as u8 + m.shift as u8 + m.command as u8 + m.mac_cmd as u8
}

/// Side effects that carry data the user chose: paths from a file dialog,
/// exports, settings writes, background jobs. Beside [`UiCommand`] (the
/// gestures with labels and shortcuts), as rerun keeps its system commands
/// apart from its `UICommand`. Applied after the frame like every command.
#[derive(Clone, Debug, PartialEq)]
pub enum SystemCommand {
    /// Ask for a path with a dialog (native, else in-app) for this purpose.
    AskPath(crate::files::FilePurpose),
    /// The dialog answered: carry on with `purpose` on these paths.
    PathsChosen { purpose: crate::files::FilePurpose, paths: Vec<PathBuf> },
    /// The dialog was closed without a choice.
    DialogCancelled(crate::files::FilePurpose),
    /// Write the corrected network / change log to `path`.
    ExportTo { kind: ExportKind, path: PathBuf },
    /// Write every export into the folder `dir`.
    ExportAllTo(PathBuf),
    /// Remember the reviewer's name (settings) and use it for the session's decisions.
    SetReviewer(String),
    /// Export only the connections the review changed (remembered).
    SetExportOnlyChanged(bool),
    /// Write the settings file.
    SaveSettings,
    /// Ask before running a command (bulk decisions, edits against the evidence).
    AskConfirm(crate::checks::Confirmation),
}

/// Anything queued during a frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Ui(UiCommand),
    System(SystemCommand),
}

impl From<UiCommand> for Command {
    fn from(c: UiCommand) -> Command {
        Command::Ui(c)
    }
}
impl From<SystemCommand> for Command {
    fn from(c: SystemCommand) -> Command {
        Command::System(c)
    }
}

/// Commands collected during a frame, applied after it.
#[derive(Default, Debug)]
pub struct CommandQueue {
    queue: Vec<Command>,
}

impl CommandQueue {
    pub fn push(&mut self, c: impl Into<Command>) {
        self.queue.push(c.into());
    }
    pub fn take(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.queue)
    }
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// A menu entry for a payload-free command: label, shortcut text and tooltip.
    pub fn menu_item(&mut self, ui: &mut egui::Ui, c: UiCommand) {
        self.menu_item_enabled(ui, c, true);
    }

    pub fn menu_item_enabled(&mut self, ui: &mut egui::Ui, c: UiCommand, enabled: bool) {
        let mut button = egui::Button::new(c.label());
        if let Some(s) = c.shortcut() {
            button = button.shortcut_text(ui.ctx().format_shortcut(&s));
        }
        let mut r = ui.add_enabled(enabled, button);
        if !c.tooltip().is_empty() {
            r = r.on_hover_text(c.tooltip());
        }
        if r.clicked() {
            self.push(c);
            ui.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redo_is_matched_before_undo() {
        let list = UiCommand::with_shortcuts();
        let redo = list.iter().position(|(_, c)| *c == UiCommand::Redo).unwrap();
        let undo = list.iter().position(|(_, c)| *c == UiCommand::Undo).unwrap();
        assert!(redo < undo);
    }

    #[test]
    fn palette_commands_have_labels_and_no_duplicate_shortcuts() {
        let mut seen = std::collections::HashSet::new();
        for c in UiCommand::palette() {
            assert!(!c.label().is_empty());
            if let Some(s) = c.shortcut() {
                assert!(seen.insert((s.modifiers.command, s.modifiers.shift, s.logical_key)), "{c:?}");
            }
        }
    }
}

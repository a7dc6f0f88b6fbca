//! What the app shows: the loaded data, the analysis result, the selection and
//! the view settings. Read by every panel; changed only by applying
//! [`UiCommand`](super::command::UiCommand)s after the frame.

use super::map::index::MapIndex;
use super::map::style::MapStyle;
use super::map::tiles::Basemap;
use lvtopo_core::analysis::{AnalysisResult, InferredPhase, Status};
use lvtopo_core::io::ImportReport;
use lvtopo_core::model::{Measurements, Network, Topology};
use lvtopo_core::session::{DecisionKind, Field, ReviewSession};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

/// A loaded network with its measurements and everything derived for display.
/// Shared (`Arc`) so a background analysis can use it while the UI draws it.
#[derive(Clone)]
pub struct Dataset {
    /// Short display name ("town", "network.gpkg").
    pub name: String,
    /// The network file or folder.
    pub network_path: Option<PathBuf>,
    /// Measurement files loaded next to it.
    pub measurement_paths: Vec<PathBuf>,
    pub network: Arc<Network>,
    pub topology: Arc<Topology>,
    pub measurements: Arc<Measurements>,
    pub report: Arc<ImportReport>,
    pub index: Arc<MapIndex>,
    /// The privacy decision on every meter read loaded (purpose, approved/trimmed/refused).
    pub privacy_reads: Vec<lvtopo_core::privacy::ReadRecord>,
}

impl Dataset {
    /// Builds the derived parts (topology, spatial index) for an in-memory network.
    pub fn from_parts(name: impl Into<String>, network: Network, measurements: Measurements, report: ImportReport) -> Dataset {
        let topology = Topology::build(&network);
        Dataset::from_loaded(name, Arc::new(network), Arc::new(topology), measurements, report)
    }

    /// As [`Dataset::from_parts`], with the topology the loader already built.
    pub fn from_loaded(
        name: impl Into<String>,
        network: Arc<Network>,
        topology: Arc<Topology>,
        measurements: Measurements,
        report: ImportReport,
    ) -> Dataset {
        let index = MapIndex::build(&network);
        Dataset {
            name: name.into(),
            network_path: None,
            measurement_paths: Vec::new(),
            network,
            topology,
            measurements: Arc::new(measurements),
            report: Arc::new(report),
            index: Arc::new(index),
            privacy_reads: Vec::new(),
        }
    }

    pub fn has_voltage(&self) -> bool {
        self.measurements.voltage.is_some()
    }
}

/// Selected connections; `primary` is the one the inspector shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    pub connections: BTreeSet<usize>,
    pub primary: Option<usize>,
    pub cable: Option<usize>,
}

impl Selection {
    pub fn is_empty(&self) -> bool {
        self.connections.is_empty() && self.cable.is_none()
    }
}

/// A long task running in the background, as the status bar shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct JobView {
    pub title: String,
    pub fraction: f32,
    pub stage: String,
}

/// One line in the status bar: what just happened.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusMessage {
    pub text: String,
    pub is_error: bool,
}

/// Everything the panels read.
pub struct AppState {
    pub dataset: Option<Dataset>,
    pub analysis: Option<Arc<AnalysisResult>>,
    pub selection: Selection,
    pub style: MapStyle,
    pub basemap: Basemap,
    pub job: Option<JobView>,
    pub message: Option<StatusMessage>,
    /// Remembered between runs (recent files, reviewer, last folders, export options).
    pub settings: super::settings::Settings,
    /// Set while the user picks a cable on the map for this connection.
    pub picking_cable_for: Option<usize>,
    /// Last folder exports went to.
    pub export_dir: Option<PathBuf>,
    /// The review of the open network: decisions, edits, undo, autosave.
    pub session: Option<ReviewSession>,
    /// Bumped on every change of the session (caches of derived views key on it).
    pub review_generation: usize,
    /// A saved session that does not fit the network as is: the question to ask.
    pub restore_question: Option<String>,
    /// Privacy folder (audit log, read ledger); `None`: the default one.
    pub privacy_dir: Option<PathBuf>,
    /// Meter reads waiting for the user to state their purpose.
    pub purpose_question: Option<super::views::privacy_load::PurposeQuestion>,
    /// Bumped whenever a privacy command wrote to the audit log (the Privacy panel reloads it).
    pub audit_generation: u64,
}

impl Default for AppState {
    fn default() -> Self {
        AppState {
            dataset: None,
            analysis: None,
            selection: Selection::default(),
            style: MapStyle::default(),
            basemap: Basemap::PdokGrey,
            job: None,
            message: None,
            settings: Default::default(),
            picking_cable_for: None,
            export_dir: None,
            session: None,
            review_generation: 0,
            restore_question: None,
            privacy_dir: None,
            purpose_question: None,
            audit_generation: 0,
        }
    }
}

impl AppState {
    pub fn network(&self) -> Option<&Network> {
        self.dataset.as_ref().map(|d| &*d.network)
    }

    pub fn set_message(&mut self, text: impl Into<String>) {
        self.message = Some(StatusMessage { text: displayable(&text.into()), is_error: false });
    }
    pub fn set_error(&mut self, text: impl Into<String>) {
        self.message = Some(StatusMessage { text: displayable(&text.into()), is_error: true });
    }

    pub fn assignment(&self, conn: usize) -> Option<&lvtopo_core::analysis::Assignment> {
        self.analysis.as_ref()?.assignments.get(conn).filter(|a| a.connection == conn)
    }
}

impl AppState {
    /// Review state of a connection for colouring and the table.
    pub fn review_mark(&self, conn: usize) -> super::map::style::ReviewMark {
        use super::map::style::ReviewMark;
        if let Some(s) = &self.session {
            if Field::ALL.iter().any(|f| s.manual_edit(conn, *f).is_some()) {
                return ReviewMark::Edited;
            }
            let kinds: Vec<DecisionKind> =
                s.suggestions_for(conn).iter().filter_map(|id| s.suggestion(*id)).map(|x| x.decision.state.kind()).collect();
            if kinds.contains(&DecisionKind::Pending) {
                return ReviewMark::Pending;
            }
            if kinds.iter().any(|k| matches!(k, DecisionKind::Accepted | DecisionKind::Edited)) {
                return ReviewMark::Accepted;
            }
            if !kinds.is_empty() {
                return ReviewMark::Rejected;
            }
        }
        match self.assignment(conn) {
            None => ReviewMark::NotAnalysed,
            Some(a) => ReviewMark::from_status(a.status),
        }
    }

    /// The phase (or meter rotation) "with corrections": the review's decisions
    /// and edits where there are any, else `None` (as registered).
    pub fn corrected_phase(&self, conn: usize) -> Option<InferredPhase> {
        let s = self.session.as_ref()?;
        let e = s.effective(conn);
        match (e.phase, e.rotation) {
            (Some(lvtopo_core::model::PhaseConnection::Single(p)), _) => Some(InferredPhase::Single(p)),
            (Some(lvtopo_core::model::PhaseConnection::Three), Some(r)) => Some(InferredPhase::Rotation(r)),
            (Some(lvtopo_core::model::PhaseConnection::Three), None) | (None, _) => None,
        }
    }

    /// The phase the inference found when it is sure enough to say (ok or suggest_change).
    pub fn inferred_phase(&self, conn: usize) -> Option<InferredPhase> {
        self.assignment(conn).filter(|a| a.status != Status::InsufficientData).and_then(|a| a.inferred_phase)
    }

    pub fn review_generation(&self) -> usize {
        self.review_generation
    }
}

/// Text from the core (descriptions, evidence) with the few symbols egui's
/// built-in font lacks written out, so no glyph is ever missing.
pub fn displayable(s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    s.replace('→', "->").replace('≥', ">=").replace('≤', "<=").replace('≈', "~").replace('−', "-").replace('✓', "ok")
}

//! What the app shows: the loaded data, the analysis result, the selection and
//! the view settings. Read by every panel; changed only by applying
//! [`UiCommand`](super::command::UiCommand)s after the frame.

use super::map::index::MapIndex;
use super::map::style::MapStyle;
use super::map::tiles::Basemap;
use crate::analysis::AnalysisResult;
use crate::io::ImportReport;
use crate::model::{Measurements, Network, Topology};
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
}

impl Dataset {
    /// Builds the derived parts (topology, spatial index) for an in-memory network.
    pub fn from_parts(name: impl Into<String>, network: Network, measurements: Measurements, report: ImportReport) -> Dataset {
        let topology = Topology::build(&network);
        let index = MapIndex::build(&network);
        Dataset {
            name: name.into(),
            network_path: None,
            measurement_paths: Vec::new(),
            network: Arc::new(network),
            topology: Arc::new(topology),
            measurements: Arc::new(measurements),
            report: Arc::new(report),
            index: Arc::new(index),
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
    pub recent: Vec<PathBuf>,
    /// Set while the user picks a cable on the map for this connection.
    pub picking_cable_for: Option<usize>,
    /// Last folder exports went to.
    pub export_dir: Option<PathBuf>,
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
            recent: Vec::new(),
            picking_cable_for: None,
            export_dir: None,
        }
    }
}

impl AppState {
    pub fn network(&self) -> Option<&Network> {
        self.dataset.as_ref().map(|d| &*d.network)
    }

    pub fn set_message(&mut self, text: impl Into<String>) {
        self.message = Some(StatusMessage { text: text.into(), is_error: false });
    }
    pub fn set_error(&mut self, text: impl Into<String>) {
        self.message = Some(StatusMessage { text: text.into(), is_error: true });
    }

    pub fn assignment(&self, conn: usize) -> Option<&crate::analysis::Assignment> {
        self.analysis.as_ref()?.assignments.get(conn).filter(|a| a.connection == conn)
    }
}

impl AppState {
    /// Review state of a connection for colouring and the table.
    pub fn review_mark(&self, conn: usize) -> super::map::style::ReviewMark {
        use super::map::style::ReviewMark;
        match self.assignment(conn) {
            None => ReviewMark::NotAnalysed,
            Some(a) => ReviewMark::from_status(a.status),
        }
    }
}

//! Exports of a review session: the corrected connections (GeoPackage and
//! GeoJSON, in the network's source CRS, every original attribute kept), the
//! change log `corrections.csv`, and a power-grid-model JSON input of the
//! corrected network. Every file is written atomically.

pub mod cable_types;
pub mod corrections;
pub mod gpkg;
pub mod pgm;
pub mod review_columns;

pub use corrections::{CorrectionRow, correction_rows, write_corrections_csv};
pub use pgm::{PgmModel, PgmOptions, build_pgm, write_pgm};
pub use review_columns::{ExportCounts, ExportOptions, ReviewStatus, annotated_network};

use super::review::ReviewSession;
use crate::model::Topology;
use std::io;
use std::path::Path;

/// Builds the power-grid-model input of the session's corrected network and
/// writes it with its id mapping. Returns the model (counts, warnings).
pub fn export_pgm(s: &ReviewSession, json_path: &Path, mapping_path: &Path, opts: &PgmOptions) -> io::Result<PgmModel> {
    let net = s.corrected_network();
    let topo = Topology::build(&net);
    let model = build_pgm(&net, &topo, opts);
    write_pgm(&model, json_path, mapping_path)?;
    Ok(model)
}

/// Writes the corrected network as a GeoJSON folder (`stations.geojson`,
/// `cables.geojson`, `connections.geojson` with the corrections applied) in the
/// network's source CRS, every original attribute kept and the review's
/// `lvtopo_*` columns added (see [`review_columns`]). Each file is atomic.
pub fn export_geojson(s: &ReviewSession, dir: &Path) -> io::Result<ExportCounts> {
    export_geojson_with(s, dir, &ExportOptions::default())
}

/// [`export_geojson`] with options (only the corrected connections).
pub fn export_geojson_with(s: &ReviewSession, dir: &Path, opts: &ExportOptions) -> io::Result<ExportCounts> {
    let (net, counts) = annotated_network(s, opts);
    crate::io::write_geojson::write_network_geojson(dir, &net, s.network().source_crs)?;
    Ok(counts)
}

/// Writes the corrected network as a GeoPackage (layers `stations`, `cables`,
/// `connections` with the corrections applied) in the network's source CRS, every
/// original attribute kept as a column and the review's `lvtopo_*` columns added. Atomic.
pub fn export_gpkg(s: &ReviewSession, path: &Path) -> io::Result<ExportCounts> {
    export_gpkg_with(s, path, &ExportOptions::default())
}

/// [`export_gpkg`] with options (only the corrected connections).
pub fn export_gpkg_with(s: &ReviewSession, path: &Path, opts: &ExportOptions) -> io::Result<ExportCounts> {
    let (net, counts) = annotated_network(s, opts);
    gpkg::write_network_gpkg(path, &net)?;
    Ok(counts)
}

/// File names written by [`export_all`] into its folder.
pub mod names {
    pub const GPKG: &str = "corrected.gpkg";
    pub const GEOJSON_DIR: &str = "corrected-geojson";
    pub const CORRECTIONS: &str = "corrections.csv";
    pub const PGM: &str = "corrected.pgm.json";
    pub const PGM_MAPPING: &str = "corrected.pgm-mapping.csv";
}

/// What [`export_all`] wrote and what the user should know about it.
#[derive(Clone, Debug, Default)]
pub struct ExportSummary {
    pub files: Vec<std::path::PathBuf>,
    /// Rows in `corrections.csv`.
    pub correction_rows: usize,
    /// Connections with at least one corrected field.
    pub changed_connections: usize,
    /// The network export's counts (the same for GeoPackage and GeoJSON).
    pub counts: ExportCounts,
    /// Corrected connections whose cable, feeder and station do not fit together.
    pub inconsistencies: Vec<super::Inconsistency>,
    /// Assumptions of the power-grid-model export.
    pub pgm_warnings: Vec<String>,
}

/// Writes every export into `dir`: the corrected network as GeoPackage and GeoJSON folder,
/// `corrections.csv`, and the power-grid-model input with its id mapping.
pub fn export_all(s: &ReviewSession, dir: &Path, progress: &dyn crate::progress::Progress) -> io::Result<ExportSummary> {
    let cancelled = || io::Error::new(io::ErrorKind::Interrupted, crate::progress::Cancelled);
    std::fs::create_dir_all(dir)?;
    let mut sum = ExportSummary {
        changed_connections: s.changed_connections().len(),
        inconsistencies: s.inconsistencies(),
        ..Default::default()
    };
    progress.set(0.0, "writing corrections.csv");
    let p = dir.join(names::CORRECTIONS);
    sum.correction_rows = write_corrections_csv(s, &p)?;
    sum.files.push(p);
    if progress.is_cancelled() {
        return Err(cancelled());
    }
    progress.set(0.1, "writing the corrected network as GeoPackage");
    let p = dir.join(names::GPKG);
    sum.counts = export_gpkg(s, &p)?;
    sum.files.push(p);
    if progress.is_cancelled() {
        return Err(cancelled());
    }
    progress.set(0.3, "writing the corrected network as GeoJSON");
    let p = dir.join(names::GEOJSON_DIR);
    export_geojson(s, &p)?;
    sum.files.extend(["stations.geojson", "cables.geojson", "connections.geojson"].map(|f| p.join(f)));
    if progress.is_cancelled() {
        return Err(cancelled());
    }
    progress.set(0.6, "writing the power-grid-model input");
    let (j, m) = (dir.join(names::PGM), dir.join(names::PGM_MAPPING));
    let model = export_pgm(s, &j, &m, &PgmOptions::default())?;
    sum.pgm_warnings = model.warnings;
    sum.files.extend([j, m]);
    progress.set(1.0, "export done");
    Ok(sum)
}

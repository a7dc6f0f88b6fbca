//! Exports of a review session: the corrected connections (GeoPackage and
//! GeoJSON, in the network's source CRS, every original attribute kept), the
//! change log `corrections.csv`, and a power-grid-model JSON input of the
//! corrected network. Every file is written atomically.

pub mod cable_types;
pub mod corrections;
pub mod pgm;

pub use corrections::{CorrectionRow, correction_rows, write_corrections_csv};
pub use pgm::{PgmModel, PgmOptions, build_pgm, write_pgm};

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

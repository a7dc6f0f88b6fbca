//! Importers and exporters for the data contract (GeoPackage, GeoJSON, CSV),
//! each producing an [`ImportReport`](report::ImportReport) that names every problem.

pub mod atomic;
pub mod bench;
pub mod report;
pub mod write_csv;
pub mod write_geojson;

pub use report::{ImportIssue, ImportReport, Location, Severity};

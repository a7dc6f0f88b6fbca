//! Importers and exporters for the data contract (GeoPackage, GeoJSON, CSV),
//! each producing an [`ImportReport`](report::ImportReport) that names every problem.

pub mod atomic;
pub mod csvread;
pub mod geojson;
pub mod gpkg;
pub mod inputs;
pub mod layer;
pub mod measurements;
pub mod network;
pub mod report;
pub mod unknown;
pub mod voltage;
pub mod write_csv;
pub mod write_geojson;

pub use measurements::{LoadedMeasurements, load_measurements};
pub use network::{LoadedNetwork, load_network};
pub use report::{ImportIssue, ImportReport, Location, Severity};

//! `truth.csv` of the sample networks: where each connection really is.

use super::phase::{PhaseConnection, Rotation};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TruthRow {
    pub ean: String,
    pub station_id: String,
    pub feeder_id: String,
    pub cable_id: String,
    /// Real grid phase (single-phase) or `Three`.
    pub phase: PhaseConnection,
    /// For three-phase meters: grid phase on meter terminals L1, L2, L3.
    pub rotation: Option<Rotation>,
}

//! Topology inference (use case 7): phase, meter rotation, feeder and cable
//! section of every connection from a short voltage read.

pub mod bench;
pub mod result;

pub use result::{Assignment, Evidence, InferredPhase, Status};

use crate::model::{Network, Topology, VoltageTable};
use crate::progress::{Cancelled, Progress};
use serde::{Deserialize, Serialize};

/// Settings of the inference (defaults are what the accuracy tests use).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AnalysisOptions {}

/// Everything one run of the inference produces.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AnalysisResult {
    /// One per connection, in `Network::connections` order.
    pub assignments: Vec<Assignment>,
}

/// Infers phase/rotation, feeder and cable section of every connection.
pub fn analyze(
    net: &Network,
    _topology: &Topology,
    _voltage: &VoltageTable,
    _options: &AnalysisOptions,
    progress: &dyn Progress,
) -> Result<AnalysisResult, Cancelled> {
    // Interim until the inference lands: every connection unanswered, honestly labelled.
    progress.set(1.0, "analysis");
    let assignments = (0..net.connections.len())
        .map(|i| Assignment {
            connection: i,
            inferred_feeder: None,
            feeder_confidence: 0.0,
            inferred_cable: None,
            cable_confidence: 0.0,
            inferred_phase: None,
            phase_confidence: 0.0,
            status: Status::InsufficientData,
            reason: Some("inference not available in this build".into()),
            evidence: Evidence::default(),
        })
        .collect();
    Ok(AnalysisResult { assignments })
}

//! What the inference says about each connection (the `assignments.csv` row
//! plus its evidence). Shared by the CLI, the review session and the UI.

use crate::model::{Phase, Rotation};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// GIS registration confirmed.
    Ok,
    /// The data say the registration is wrong, with enough confidence to propose a change.
    SuggestChange,
    /// Not enough (or not clear enough) data to say; the reason is in `Assignment::reason`.
    InsufficientData,
    /// The GIS did not know a value (phase, feeder or cable section) and the data fill it
    /// in, with its confidence; no registered value is changed.
    FillIn,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::SuggestChange => "suggest_change",
            Status::InsufficientData => "insufficient_data",
            Status::FillIn => "fill_in",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Inferred phase: a grid phase for single-phase connections, the terminal
/// rotation for three-phase meters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InferredPhase {
    Single(Phase),
    Rotation(Rotation),
    /// A single-phase connection in a group of connections that share a phase which no
    /// anchor (registered phase, three-phase meter) could name: 0, 1, 2 for groups A, B, C
    /// of its station. One field check names the whole group.
    Group(u8),
}

impl InferredPhase {
    /// The grid phase of a single-phase connection, when named.
    pub fn single(self) -> Option<Phase> {
        match self {
            InferredPhase::Single(p) => Some(p),
            _ => None,
        }
    }
}

impl fmt::Display for InferredPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InferredPhase::Single(p) => p.fmt(f),
            InferredPhase::Rotation(r) => r.fmt(f),
            InferredPhase::Group(g) => write!(f, "group {}", (b'A' + g % 3) as char),
        }
    }
}

/// Why the inference believes what it says: shown in the inspector and
/// written to the change log.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Correlation of the connection's (detrended) voltage with each grid-phase
    /// reference of its inferred feeder, L1..L3.
    pub phase_correlation: [f64; 3],
    /// (feeder_id, score) of the candidates tested, best first.
    pub feeder_scores: Vec<(String, f64)>,
    /// (cable_id, score) of the candidates tested, best first.
    pub cable_scores: Vec<(String, f64)>,
    /// Number of 10-minute points used.
    pub points_used: usize,
    /// Short plain-language notes ("clock stamps interval start: shifted 10 min").
    pub notes: Vec<String>,
}

/// One connection's result: one row of `assignments.csv`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Index into `Network::connections`.
    pub connection: usize,
    pub inferred_feeder: Option<String>,
    pub feeder_confidence: f64,
    pub inferred_cable: Option<String>,
    pub cable_confidence: f64,
    pub inferred_phase: Option<InferredPhase>,
    pub phase_confidence: f64,
    pub status: Status,
    /// Set when `status` is `InsufficientData` (and for notable `Ok` cases).
    pub reason: Option<String>,
    pub evidence: Evidence,
}

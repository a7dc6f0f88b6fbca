//! Suggestions: proposed changes to one field of one connection, from any
//! source (topology inference, outage analysis), each with its decision.

use crate::analysis::{AnalysisResult, Assignment, Evidence, InferredPhase, Status};
use crate::model::{Network, PhaseConnection, Rotation};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The GIS field a suggestion or edit changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Registered phase: `L1`, `L2`, `L3` or `L123`.
    Phase,
    /// Meter terminal rotation of a three-phase meter (`L2L3L1`); GIS assumes `L1L2L3`.
    Rotation,
    Feeder,
    Cable,
    Station,
}

impl Field {
    pub const ALL: [Field; 5] = [Field::Phase, Field::Rotation, Field::Feeder, Field::Cable, Field::Station];

    /// The name used in `corrections.csv` and the session file.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Phase => "phase",
            Field::Rotation => "rotation",
            Field::Feeder => "feeder",
            Field::Cable => "cable",
            Field::Station => "station",
        }
    }

    pub fn parse(s: &str) -> Result<Field, String> {
        Field::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("expected phase, rotation, feeder, cable or station, found {:?}", s.trim()))
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value of a [`Field`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FieldValue {
    Phase(PhaseConnection),
    Rotation(Rotation),
    /// Feeder, cable or station id.
    Id(String),
    /// What the GIS holds when it does not know the value (phase, feeder or cable).
    Unknown,
}

impl FieldValue {
    /// Parses the text form of a value of `field` (as typed by the user or read from a session file).
    pub fn parse(field: Field, s: &str) -> Result<FieldValue, String> {
        match field {
            Field::Phase => s.parse().map(FieldValue::Phase),
            Field::Rotation => s.parse().map(FieldValue::Rotation),
            Field::Feeder | Field::Cable | Field::Station => {
                let t = s.trim();
                if t.is_empty() {
                    Err(format!("expected a {field} id, found an empty value"))
                } else {
                    Ok(FieldValue::Id(t.to_string()))
                }
            }
        }
    }

    /// `true` when this kind of value belongs to `field`.
    pub fn fits(&self, field: Field) -> bool {
        matches!(
            (self, field),
            (FieldValue::Phase(_), Field::Phase)
                | (FieldValue::Rotation(_), Field::Rotation)
                | (FieldValue::Id(_), Field::Feeder | Field::Cable | Field::Station)
        )
    }

    pub fn as_id(&self) -> Option<&str> {
        match self {
            FieldValue::Id(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Phase(p) => p.fmt(f),
            FieldValue::Rotation(r) => r.fmt(f),
            FieldValue::Id(s) => f.write_str(s),
            FieldValue::Unknown => Ok(()),
        }
    }
}

/// Where a suggestion comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionSource {
    /// Topology inference from smart-meter voltages (`analysis`).
    Inference,
    /// Outage analysis: a meter logged an outage its registered cable did not have (`outage`).
    Outage,
}

impl SuggestionSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestionSource::Inference => "inference",
            SuggestionSource::Outage => "outage",
        }
    }
}

impl fmt::Display for SuggestionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The structured part of a suggestion's evidence.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum EvidenceDetail {
    #[default]
    None,
    /// The inference's evidence for the connection (correlations, scores).
    Inference(Evidence),
    /// Named facts from another source, e.g. `("incident", "INC-12")`, `("logged_off_min", "312")`.
    Facts(Vec<(String, String)>),
}

/// Handle of a suggestion within one session: its index in [`ReviewSession::suggestions`](super::ReviewSession::suggestions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SuggestionId(pub u32);

impl SuggestionId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for SuggestionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What the user decided about a suggestion.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DecisionState {
    #[default]
    Pending,
    Accepted,
    Rejected,
    /// The user's own value instead of the proposed one.
    Edited(FieldValue),
}

/// [`DecisionState`] without the edited value: for counts and filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Pending,
    Accepted,
    Rejected,
    Edited,
}

impl DecisionKind {
    /// The word in the `decision` column of `corrections.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Pending => "pending",
            DecisionKind::Accepted => "accepted",
            DecisionKind::Rejected => "rejected",
            DecisionKind::Edited => "edited",
        }
    }
}

impl fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl DecisionState {
    pub fn kind(&self) -> DecisionKind {
        match self {
            DecisionState::Pending => DecisionKind::Pending,
            DecisionState::Accepted => DecisionKind::Accepted,
            DecisionState::Rejected => DecisionKind::Rejected,
            DecisionState::Edited(_) => DecisionKind::Edited,
        }
    }
}

/// A decision with who made it, when, and why.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub state: DecisionState,
    /// When the decision was made (Dutch civil time, with offset); `None` while pending.
    pub decided_at: Option<DateTime<FixedOffset>>,
    /// OS user name of who decided.
    pub by: Option<String>,
    pub note: Option<String>,
    /// Order of decisions and edits within the session: when two of them set the
    /// same field of a connection, the later one counts.
    pub seq: u64,
}

/// A proposed change of one field of one connection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub id: SuggestionId,
    /// Index into `Network::connections`.
    pub connection: usize,
    pub ean: String,
    pub field: Field,
    /// As registered in GIS.
    pub old_value: FieldValue,
    pub new_value: FieldValue,
    /// In [0, 1].
    pub confidence: f64,
    /// Plain-language evidence, as written to `corrections.csv`.
    pub evidence: String,
    pub detail: EvidenceDetail,
    pub source: SuggestionSource,
    pub decision: Decision,
}

impl Suggestion {
    /// The value this suggestion sets when decided: the proposed one when
    /// accepted, the user's own when edited, nothing otherwise.
    pub fn applied_value(&self) -> Option<&FieldValue> {
        match &self.decision.state {
            DecisionState::Accepted => Some(&self.new_value),
            DecisionState::Edited(v) => Some(v),
            DecisionState::Pending | DecisionState::Rejected => None,
        }
    }

    /// Identity across runs and restarts: the same connection, field, proposal and source.
    pub fn key(&self) -> (String, Field, String, SuggestionSource) {
        (self.ean.clone(), self.field, self.new_value.to_string(), self.source)
    }
}

/// A suggestion before it joins a session (no id, no decision): what a source hands in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuggestionDraft {
    pub connection: usize,
    pub field: Field,
    pub new_value: FieldValue,
    pub confidence: f64,
    pub evidence: String,
    pub detail: EvidenceDetail,
}

/// Value of `field` of connection `i` as registered in GIS.
pub fn gis_value(net: &Network, i: usize, field: Field) -> FieldValue {
    let c = &net.connections[i];
    match field {
        Field::Phase => c.phase.map_or(FieldValue::Unknown, FieldValue::Phase),
        Field::Rotation => FieldValue::Rotation(Rotation::IDENTITY),
        Field::Feeder => c.feeder_id.clone().map_or(FieldValue::Unknown, FieldValue::Id),
        Field::Cable => c.cable_id.clone().map_or(FieldValue::Unknown, FieldValue::Id),
        Field::Station => FieldValue::Id(c.station_id.clone()),
    }
}

/// "cable scores: C3 0.88, C2 0.41", or "best matching cable C3" when no scores were kept.
fn fmt_scores(what: &str, best: &str, scores: &[(String, f64)]) -> String {
    if scores.is_empty() {
        return format!("best matching {what} {best}");
    }
    let list = scores.iter().take(3).map(|(id, s)| format!("{id} {s:.2}")).collect::<Vec<_>>().join(", ");
    format!("{what} scores: {list}")
}

fn phase_text(e: &Evidence) -> String {
    let c = e.phase_correlation;
    if c.iter().all(|v| !v.is_finite() || *v == 0.0) {
        return "no phase correlations kept".into();
    }
    format!("voltage correlation with phase references L1 {:.2}, L2 {:.2}, L3 {:.2}", c[0], c[1], c[2])
}

fn with_context(mut s: String, a: &Assignment) -> String {
    if a.evidence.points_used > 0 {
        s.push_str(&format!(" ({} ten-minute points)", a.evidence.points_used));
    }
    for n in &a.evidence.notes {
        s.push_str("; ");
        s.push_str(n);
    }
    if let Some(r) = &a.reason {
        s.push_str("; ");
        s.push_str(r);
    }
    s
}

/// The suggestions an inference result makes: one per field that differs from
/// GIS, for each assignment with status `suggest_change` or `fill_in` (a value the GIS
/// did not know is suggested like a change, from nothing).
///
/// A cable change carries the feeder and station change that follow from the
/// cable, so a separate feeder suggestion is made only when the feeder is
/// inferred without a cable on it (or on a different one).
pub fn from_analysis(net: &Network, result: &AnalysisResult) -> Vec<SuggestionDraft> {
    let mut out = Vec::new();
    for a in &result.assignments {
        if !matches!(a.status, Status::SuggestChange | Status::FillIn) || a.connection >= net.connections.len() {
            continue;
        }
        let c = &net.connections[a.connection];
        let draft = |field, new_value, confidence: f64, evidence: String| SuggestionDraft {
            connection: a.connection,
            field,
            new_value,
            confidence: if confidence.is_finite() { confidence.clamp(0.0, 1.0) } else { 0.0 },
            evidence: with_context(evidence, a),
            detail: EvidenceDetail::Inference(a.evidence.clone()),
        };
        match (a.inferred_phase, c.phase) {
            (Some(InferredPhase::Single(p)), None) => out.push(draft(
                Field::Phase,
                FieldValue::Phase(PhaseConnection::Single(p)),
                a.phase_confidence,
                format!("phase not registered; {}: best match {p}", phase_text(&a.evidence)),
            )),
            (Some(InferredPhase::Rotation(r)), None) => out.push(draft(
                Field::Phase,
                FieldValue::Phase(PhaseConnection::Three),
                a.phase_confidence,
                format!("phase not registered; the meter reports three phases (rotation {r})"),
            )),
            (Some(InferredPhase::Single(p)), Some(PhaseConnection::Single(g))) if p != g => out.push(draft(
                Field::Phase,
                FieldValue::Phase(PhaseConnection::Single(p)),
                a.phase_confidence,
                format!("{}: best match {p}, registered {g}", phase_text(&a.evidence)),
            )),
            (Some(InferredPhase::Single(p)), Some(PhaseConnection::Three)) => out.push(draft(
                Field::Phase,
                FieldValue::Phase(PhaseConnection::Single(p)),
                a.phase_confidence,
                format!("registered three-phase, but the meter behaves as single-phase on {p}; {}", phase_text(&a.evidence)),
            )),
            (Some(InferredPhase::Rotation(r)), Some(PhaseConnection::Three)) if r != Rotation::IDENTITY => out.push(draft(
                Field::Rotation,
                FieldValue::Rotation(r),
                a.phase_confidence,
                format!("meter terminals L1, L2, L3 follow grid phases {}, {}, {}", r.0[0], r.0[1], r.0[2]),
            )),
            (Some(InferredPhase::Rotation(r)), Some(PhaseConnection::Single(g))) => out.push(draft(
                Field::Phase,
                FieldValue::Phase(PhaseConnection::Three),
                a.phase_confidence,
                format!("registered single-phase on {g}, but the meter reports three phases (rotation {r})"),
            )),
            _ => {}
        }
        let cable_change = a.inferred_cable.as_deref().filter(|k| Some(*k) != c.cable_id.as_deref());
        let cable_feeder = cable_change.and_then(|k| net.cable_index(k)).map(|k| net.cables[k].feeder_id.as_str());
        if let Some(k) = cable_change {
            let mut text = fmt_scores("cable", k, &a.evidence.cable_scores);
            match (cable_feeder, c.feeder_id.as_deref()) {
                (Some(f), Some(g)) if f != g => text.push_str(&format!("; moves the connection from feeder {g} to {f}")),
                _ => {}
            }
            out.push(draft(Field::Cable, FieldValue::Id(k.to_string()), a.cable_confidence, text));
        }
        if let Some(f) = a.inferred_feeder.as_deref().filter(|f| Some(*f) != c.feeder_id.as_deref())
            && cable_feeder != Some(f)
        {
            out.push(draft(
                Field::Feeder,
                FieldValue::Id(f.to_string()),
                a.feeder_confidence,
                fmt_scores("feeder", f, &a.evidence.feeder_scores),
            ));
        }
    }
    out
}

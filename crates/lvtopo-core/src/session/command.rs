//! Commands that change the session, one per user gesture, with undo/redo.
//!
//! Each applied command records the state before and after of every decision
//! and manual edit it touched. Undo puts the "before" back, redo the "after":
//! redo does not re-run the command, so it restores exactly what was done
//! (same timestamps, same set of suggestions for "accept all above").

use super::review::{ManualEdit, ReviewSession};
use super::suggestion::*;
use crate::model::{PhaseConnection, Rotation};
use serde::{Deserialize, Serialize};

/// Undo steps kept; older ones are dropped (their effect stays, of course).
pub const UNDO_DEPTH: usize = 500;

/// A user gesture that changes the session. Applied by [`ReviewSession::apply`]
/// as one undo step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SessionCommand {
    /// Accept the proposed values (pending or previously rejected/edited ones alike).
    Accept {
        ids: Vec<SuggestionId>,
        note: Option<String>,
    },
    Reject {
        ids: Vec<SuggestionId>,
        note: Option<String>,
    },
    /// The user's own value instead of the proposed one.
    Edit {
        id: SuggestionId,
        value: FieldValue,
        note: Option<String>,
    },
    /// Back to pending.
    Reset {
        ids: Vec<SuggestionId>,
    },
    /// Changes only the note of a decided suggestion.
    SetNote {
        id: SuggestionId,
        note: Option<String>,
    },
    /// Accept every *pending* suggestion with confidence >= `min_confidence`,
    /// optionally only on one station and/or feeder (registered or proposed).
    AcceptAllAbove {
        min_confidence: f64,
        station: Option<String>,
        feeder: Option<String>,
    },
    /// Manual reassignment of the registered phase (`L1`..`L3`, `L123`).
    SetPhase {
        connection: usize,
        phase: PhaseConnection,
        note: Option<String>,
    },
    /// Manual meter rotation of a three-phase connection.
    SetRotation {
        connection: usize,
        rotation: Rotation,
        note: Option<String>,
    },
    /// Manual reassignment of the cable; feeder and station follow from the cable.
    SetCable {
        connection: usize,
        cable_id: String,
        note: Option<String>,
    },
    /// Removes a manual edit: the GIS value (or an accepted suggestion) counts again.
    ClearEdit {
        connection: usize,
        field: Field,
    },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionError {
    #[error("no suggestion {0} in this session")]
    UnknownSuggestion(SuggestionId),
    #[error("no connection with index {0} in the network")]
    UnknownConnection(usize),
    #[error("cable {0:?} does not exist in the network")]
    UnknownCable(String),
    #[error("feeder {0:?} does not exist in the network")]
    UnknownFeeder(String),
    #[error("station {0:?} does not exist in the network")]
    UnknownStation(String),
    #[error("a {value_kind} value cannot be set on field {field}")]
    WrongValue { field: Field, value_kind: &'static str },
    #[error("connection {ean} is single-phase: a meter rotation applies to three-phase connections only")]
    RotationOnSinglePhase { ean: String },
    #[error("confidence threshold must be between 0 and 1, found {0}")]
    BadThreshold(f64),
}

/// What a command (or undo/redo) did.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    /// E.g. "accept 12 suggestions".
    pub description: String,
    /// Decisions and edits changed; 0 means the command changed nothing (no undo step).
    pub changed: usize,
    /// The change is in effect, but writing the session file failed.
    pub autosave_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
enum Change {
    Decision { id: SuggestionId, before: Decision, after: Decision },
    Edit { key: (usize, Field), before: Option<ManualEdit>, after: Option<ManualEdit> },
}

#[derive(Clone, Debug, PartialEq)]
struct Step {
    description: String,
    changes: Vec<Change>,
}

#[derive(Clone, Debug, Default)]
pub(super) struct History {
    undo: Vec<Step>,
    redo: Vec<Step>,
}

impl History {
    pub(super) fn clear(&mut self) {
        self.undo.clear();
        self.redo.clear();
    }
}

fn value_kind(v: &FieldValue) -> &'static str {
    match v {
        FieldValue::Phase(_) => "phase",
        FieldValue::Rotation(_) => "rotation",
        FieldValue::Id(_) => "id",
        FieldValue::Unknown => "unknown",
    }
}

impl ReviewSession {
    pub fn can_undo(&self) -> bool {
        !self.history.undo.is_empty()
    }
    pub fn can_redo(&self) -> bool {
        !self.history.redo.is_empty()
    }
    /// "Undo: accept 12 suggestions", for the menu and tooltip.
    pub fn undo_description(&self) -> Option<String> {
        self.history.undo.last().map(|s| format!("Undo: {}", s.description))
    }
    /// "Redo: accept 12 suggestions".
    pub fn redo_description(&self) -> Option<String> {
        self.history.redo.last().map(|s| format!("Redo: {}", s.description))
    }

    fn connection_label(&self, i: usize) -> String {
        self.network.connections[i].ean.clone()
    }

    fn check_value(&self, field: Field, value: &FieldValue) -> Result<(), SessionError> {
        if !value.fits(field) {
            return Err(SessionError::WrongValue { field, value_kind: value_kind(value) });
        }
        match (field, value) {
            (Field::Cable, FieldValue::Id(k)) if self.network.cable_index(k).is_none() => {
                Err(SessionError::UnknownCable(k.clone()))
            }
            (Field::Feeder, FieldValue::Id(f)) if !self.feeder_station.contains_key(f) => {
                Err(SessionError::UnknownFeeder(f.clone()))
            }
            (Field::Station, FieldValue::Id(s)) if self.network.station_index(s).is_none() => {
                Err(SessionError::UnknownStation(s.clone()))
            }
            _ => Ok(()),
        }
    }

    fn check_ids(&self, ids: &[SuggestionId]) -> Result<(), SessionError> {
        match ids.iter().find(|id| id.index() >= self.suggestions.len()) {
            Some(id) => Err(SessionError::UnknownSuggestion(*id)),
            None => Ok(()),
        }
    }

    fn new_decision(&mut self, state: DecisionState, note: Option<String>) -> Decision {
        let seq = self.next_seq;
        self.next_seq += 1;
        let decided_at = if state == DecisionState::Pending { None } else { Some((self.clock)()) };
        let by = if state == DecisionState::Pending { None } else { Some(self.user.clone()) };
        Decision { state, decided_at, by, note: note.filter(|n| !n.trim().is_empty()), seq }
    }

    /// Decision changes for `ids`, skipping those already in `state` (with the same note when one is given).
    fn decide(&mut self, ids: &[SuggestionId], state: DecisionState, note: Option<String>) -> Vec<Change> {
        let mut changes = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for &id in ids {
            if !seen.insert(id) {
                continue;
            }
            let before = self.suggestions[id.index()].decision.clone();
            if before.state == state && (note.is_none() || before.note == note) {
                continue;
            }
            let after = self.new_decision(state.clone(), note.clone());
            changes.push(Change::Decision { id, before, after });
        }
        changes
    }

    fn manual(&mut self, connection: usize, field: Field, value: FieldValue, note: Option<String>) -> Vec<Change> {
        if self.effective(connection).value(field) == value
            && self.edits.get(&(connection, field)).is_none_or(|e| e.value == value)
        {
            return Vec::new(); // already so: nothing to record
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let edit = ManualEdit {
            connection,
            ean: self.network.connections[connection].ean.clone(),
            field,
            old_value: gis_value(&self.network, connection, field),
            value,
            decided_at: (self.clock)(),
            by: self.user.clone(),
            note: note.filter(|n| !n.trim().is_empty()),
            seq,
        };
        let before = self.edits.get(&(connection, field)).cloned();
        vec![Change::Edit { key: (connection, field), before, after: Some(edit) }]
    }

    fn check_connection(&self, i: usize) -> Result<(), SessionError> {
        if i < self.network.connections.len() { Ok(()) } else { Err(SessionError::UnknownConnection(i)) }
    }

    fn plural(n: usize, one: &str) -> String {
        if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") }
    }

    fn describe_one(&self, verb: &str, ids: &[SuggestionId]) -> String {
        match ids {
            [id] => {
                let s = &self.suggestions[id.index()];
                format!("{verb} {} {} \u{2192} {} of {}", s.field, s.old_value, s.new_value, s.ean)
            }
            _ => format!("{verb} {}", Self::plural(ids.len(), "suggestion")),
        }
    }

    /// Applies one user gesture as one undo step (none when nothing changed),
    /// clears the redo list, and autosaves.
    pub fn apply(&mut self, cmd: SessionCommand) -> Result<Applied, SessionError> {
        let (description, changes) = match cmd {
            SessionCommand::Accept { ids, note } => {
                self.check_ids(&ids)?;
                (self.describe_one("accept", &ids), self.decide(&ids, DecisionState::Accepted, note))
            }
            SessionCommand::Reject { ids, note } => {
                self.check_ids(&ids)?;
                (self.describe_one("reject", &ids), self.decide(&ids, DecisionState::Rejected, note))
            }
            SessionCommand::Reset { ids } => {
                self.check_ids(&ids)?;
                let d = if ids.len() == 1 {
                    self.describe_one("reset", &ids)
                } else {
                    format!("reset {}", Self::plural(ids.len(), "decision"))
                };
                (d, self.decide(&ids, DecisionState::Pending, None))
            }
            SessionCommand::Edit { id, value, note } => {
                self.check_ids(&[id])?;
                let field = self.suggestions[id.index()].field;
                self.check_value(field, &value)?;
                let s = &self.suggestions[id.index()];
                let d = format!("set {} of {} to {value}", s.field, s.ean);
                // Editing to exactly the proposal is an acceptance.
                let state = if value == s.new_value { DecisionState::Accepted } else { DecisionState::Edited(value) };
                (d, self.decide(&[id], state, note))
            }
            SessionCommand::SetNote { id, note } => {
                self.check_ids(&[id])?;
                let s = &self.suggestions[id.index()];
                let before = s.decision.clone();
                let note = note.filter(|n| !n.trim().is_empty());
                let d = format!("note on {} of {}", s.field, s.ean);
                let changes = if before.note == note {
                    Vec::new()
                } else {
                    vec![Change::Decision { id, after: Decision { note, ..before.clone() }, before }]
                };
                (d, changes)
            }
            SessionCommand::AcceptAllAbove { min_confidence, station, feeder } => {
                if !(0.0..=1.0).contains(&min_confidence) {
                    return Err(SessionError::BadThreshold(min_confidence));
                }
                let filter = super::SuggestionFilter {
                    station: station.clone(),
                    feeder: feeder.clone(),
                    status: Some(DecisionKind::Pending),
                    min_confidence: Some(min_confidence),
                    ..Default::default()
                };
                let ids: Vec<SuggestionId> = self.suggestions.iter().filter(|s| self.matches(s, &filter)).map(|s| s.id).collect();
                let mut d = format!("accept {} (confidence \u{2265} {min_confidence:.2}", Self::plural(ids.len(), "suggestion"));
                if let Some(s) = &station {
                    d.push_str(&format!(", station {s}"));
                }
                if let Some(f) = &feeder {
                    d.push_str(&format!(", feeder {f}"));
                }
                d.push(')');
                (d, self.decide(&ids, DecisionState::Accepted, None))
            }
            SessionCommand::SetPhase { connection, phase, note } => {
                self.check_connection(connection)?;
                let d = format!("set phase of {} to {phase}", self.connection_label(connection));
                (d, self.manual(connection, Field::Phase, FieldValue::Phase(phase), note))
            }
            SessionCommand::SetRotation { connection, rotation, note } => {
                self.check_connection(connection)?;
                if !self.effective(connection).phase.is_some_and(|p| p.is_three_phase()) {
                    return Err(SessionError::RotationOnSinglePhase { ean: self.connection_label(connection) });
                }
                let d = format!("set meter rotation of {} to {rotation}", self.connection_label(connection));
                (d, self.manual(connection, Field::Rotation, FieldValue::Rotation(rotation), note))
            }
            SessionCommand::SetCable { connection, cable_id, note } => {
                self.check_connection(connection)?;
                let v = FieldValue::Id(cable_id.trim().to_string());
                self.check_value(Field::Cable, &v)?;
                let d = format!("move {} to cable {v}", self.connection_label(connection));
                (d, self.manual(connection, Field::Cable, v, note))
            }
            SessionCommand::ClearEdit { connection, field } => {
                self.check_connection(connection)?;
                let d = format!("clear manual {field} of {}", self.connection_label(connection));
                let changes = match self.edits.get(&(connection, field)) {
                    Some(e) => vec![Change::Edit { key: (connection, field), before: Some(e.clone()), after: None }],
                    None => Vec::new(),
                };
                (d, changes)
            }
        };
        let changed = changes.len();
        if changed == 0 {
            return Ok(Applied { description, changed, autosave_error: None });
        }
        for c in &changes {
            self.put(c, false);
        }
        self.revision += 1;
        self.history.redo.clear();
        self.history.undo.push(Step { description: description.clone(), changes });
        if self.history.undo.len() > UNDO_DEPTH {
            self.history.undo.remove(0);
        }
        let autosave_error = self.autosave_now();
        Ok(Applied { description, changed, autosave_error })
    }

    /// Puts the before (`undo`) or after state of one change in place.
    fn put(&mut self, c: &Change, undo: bool) {
        match c {
            Change::Decision { id, before, after } => {
                self.suggestions[id.index()].decision = if undo { before.clone() } else { after.clone() };
            }
            Change::Edit { key, before, after } => match if undo { before } else { after } {
                Some(e) => {
                    self.edits.insert(*key, e.clone());
                }
                None => {
                    self.edits.remove(key);
                }
            },
        }
    }

    /// Undoes the last step; `None` when there is none.
    pub fn undo(&mut self) -> Option<Applied> {
        let step = self.history.undo.pop()?;
        for c in step.changes.iter().rev() {
            self.put(c, true);
        }
        self.revision += 1;
        let out =
            Applied { description: format!("undo: {}", step.description), changed: step.changes.len(), autosave_error: None };
        self.history.redo.push(step);
        Some(Applied { autosave_error: self.autosave_now(), ..out })
    }

    /// Redoes the last undone step; `None` when there is none.
    pub fn redo(&mut self) -> Option<Applied> {
        let step = self.history.redo.pop()?;
        for c in &step.changes {
            self.put(c, false);
        }
        self.revision += 1;
        let out =
            Applied { description: format!("redo: {}", step.description), changed: step.changes.len(), autosave_error: None };
        self.history.undo.push(step);
        Some(Applied { autosave_error: self.autosave_now(), ..out })
    }
}

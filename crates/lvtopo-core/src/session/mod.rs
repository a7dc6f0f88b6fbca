//! The review session: suggestions from the inference (and the outage
//! analysis), the user's decisions and manual edits, undo/redo, autosave, and
//! the exports of the corrected network (GeoPackage, GeoJSON, `corrections.csv`,
//! power-grid-model JSON). UI-free: the app drives it with [`SessionCommand`]s.
//! See `docs/session.md`.

pub mod atomic;
pub mod command;
pub mod export;
pub mod persist;
pub mod review;
pub mod suggestion;

pub use command::{Applied, SessionCommand, SessionError};
pub use persist::{RestoreOutcome, RestoreSummary, SaveStatus};
pub use review::{Clock, Counts, EffectiveConnection, Inconsistency, ManualEdit, ReviewSession, SortBy, SuggestionFilter};
pub use suggestion::{
    Decision, DecisionKind, DecisionState, EvidenceDetail, Field, FieldValue, Suggestion, SuggestionDraft, SuggestionId,
    SuggestionSource,
};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_io;

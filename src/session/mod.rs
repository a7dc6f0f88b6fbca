//! The review session: decisions on suggestions, manual edits, undo/redo,
//! autosave and export of the corrections.

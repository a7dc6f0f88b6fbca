//! Autosave and restore of a review session.
//!
//! The session file lives beside the network: `<network>.lvtopo-session.json`
//! (for a GeoJSON folder `dir/`: `dir.lvtopo-session.json`), so it travels with
//! the network and a colleague opening the same files sees the same review. When
//! that folder is not writable, the user's data folder is used instead
//! (`$XDG_DATA_HOME/lvtopo/sessions/` or `~/.local/share/lvtopo/sessions/`;
//! `%APPDATA%\lvtopo\sessions\` on Windows).
//!
//! It holds every suggestion with its decision and every manual edit, keyed by
//! EAN (not by index), plus a fingerprint of the network's connections. It is
//! rewritten atomically after every command. On open, a file whose fingerprint
//! differs is not applied silently: the caller asks the user, then calls
//! [`ReviewSession::restore_anyway`] or [`ReviewSession::start_fresh`]; until then
//! autosave is paused so the old file is never overwritten.

use super::atomic::write_atomic;
use super::review::{ManualEdit, ReviewSession};
use super::suggestion::*;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const FORMAT: &str = "lvtopo-session";
pub const VERSION: u32 = 1;
pub const SUFFIX: &str = ".lvtopo-session.json";

/// SHA-256 (hex) over every connection's EAN, station, feeder, cable and phase,
/// and every cable's feeder and station, in sorted order: a changed registration
/// changes it, a reordered file does not.
pub fn network_fingerprint(net: &crate::model::Network) -> String {
    let mut conns: Vec<String> = net
        .connections
        .iter()
        .map(|c| format!("c\t{}\t{}\t{}\t{}\t{}\n", c.ean, c.station_id, c.feeder(), c.cable(), c.phase_text()))
        .collect();
    conns.sort_unstable();
    let mut cables: Vec<String> =
        net.cables.iter().map(|c| format!("k\t{}\t{}\t{}\n", c.id, c.feeder_id, c.station_id)).collect();
    cables.sort_unstable();
    let mut h = Sha256::new();
    for s in conns.iter().chain(&cables) {
        h.update(s.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The session file beside the network.
pub fn beside_network(network_path: &Path) -> PathBuf {
    let s = network_path.as_os_str().to_string_lossy();
    let trimmed = s.trim_end_matches(['/', '\\']);
    PathBuf::from(format!("{trimmed}{SUFFIX}"))
}

/// The user's data folder for session files.
pub fn user_sessions_dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base = if cfg!(windows) {
        env("APPDATA")
    } else {
        env("XDG_DATA_HOME").or_else(|| env("HOME").map(|h| h.join(".local").join("share")))
    };
    base.map(|b| b.join("lvtopo").join("sessions"))
}

/// The session file in the user's data folder, named after the network and a hash of its full path.
pub fn in_user_dir(network_path: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(network_path).unwrap_or_else(|_| network_path.to_path_buf());
    let hash: String = Sha256::digest(abs.to_string_lossy().as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect();
    let name = network_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "network".into());
    user_sessions_dir().map(|d| d.join(format!("{name}-{hash}{SUFFIX}")))
}

fn dir_writable(dir: &Path) -> bool {
    tempfile::tempfile_in(dir).is_ok()
}

/// Where the session of `network_path` is (if saved) or will be saved.
pub fn session_path(network_path: &Path) -> PathBuf {
    let beside = beside_network(network_path);
    if beside.exists() {
        return beside;
    }
    let user = in_user_dir(network_path);
    if let Some(u) = user.as_ref().filter(|u| u.exists()) {
        return u.clone();
    }
    let parent = beside.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if dir_writable(parent) {
        return beside;
    }
    user.unwrap_or(beside)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedDecision {
    pub state: DecisionKind,
    /// The user's own value when `state` is `edited`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub decided_at: Option<DateTime<FixedOffset>>,
    pub by: Option<String>,
    pub note: Option<String>,
    pub seq: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedSuggestion {
    pub ean: String,
    pub field: Field,
    pub old_value: String,
    pub new_value: String,
    pub confidence: f64,
    pub evidence: String,
    #[serde(default)]
    pub detail: EvidenceDetail,
    pub source: SuggestionSource,
    pub decision: SavedDecision,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedEdit {
    pub ean: String,
    pub field: Field,
    pub old_value: String,
    pub value: String,
    pub decided_at: DateTime<FixedOffset>,
    pub by: String,
    pub note: Option<String>,
    pub seq: u64,
}

/// The session file's content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionFile {
    pub format: String,
    pub version: u32,
    /// The network as it was opened (for the user's information; matching is by fingerprint).
    pub network_path: Option<String>,
    pub fingerprint: String,
    pub connections: usize,
    pub saved_at: DateTime<FixedOffset>,
    pub saved_by: String,
    pub suggestions: Vec<SavedSuggestion>,
    pub edits: Vec<SavedEdit>,
}

impl SessionFile {
    pub fn read(path: &Path) -> Result<SessionFile, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        let f: SessionFile =
            serde_json::from_str(&text).map_err(|e| format!("{}: not a readable lvtopo session file: {e}", path.display()))?;
        if f.format != FORMAT {
            return Err(format!("{}: expected format {FORMAT:?}, found {:?}", path.display(), f.format));
        }
        if f.version > VERSION {
            return Err(format!(
                "{}: written by a newer lvtopo (session format {}, this build reads up to {VERSION})",
                path.display(),
                f.version
            ));
        }
        Ok(f)
    }
}

/// State of the autosave, for the status bar.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum SaveStatus {
    /// No session file configured (e.g. a network built in memory).
    #[default]
    Disabled,
    /// Configured, nothing written yet.
    NotYetSaved {
        path: PathBuf,
    },
    Saved {
        path: PathBuf,
        at: DateTime<FixedOffset>,
    },
    Failed {
        path: PathBuf,
        error: String,
    },
    /// A saved session was found that could not be applied as is; it is not
    /// overwritten until the user chooses (restore anyway / start fresh).
    Paused {
        path: PathBuf,
        reason: String,
    },
}

#[derive(Clone, Debug, Default)]
pub(super) struct Autosave {
    pub(super) path: Option<PathBuf>,
    pub(super) network_path: Option<PathBuf>,
    pub(super) fingerprint: String,
    pub(super) status: SaveStatus,
    /// The saved session waiting for the user's choice.
    pub(super) held: Option<Box<SessionFile>>,
}

/// What restoring found, to tell the user.
#[derive(Clone, Debug, PartialEq)]
pub enum RestoreOutcome {
    /// No saved session: a fresh one was started (and will be saved at `path`).
    NoSavedSession { path: PathBuf },
    /// The saved session was restored.
    Restored { path: PathBuf, saved_at: DateTime<FixedOffset>, summary: RestoreSummary },
    /// A saved session exists but the network's connections changed since. Ask the
    /// user, then call [`ReviewSession::restore_anyway`] or [`ReviewSession::start_fresh`].
    NetworkChanged { path: PathBuf, saved_at: DateTime<FixedOffset>, saved_connections: usize, connections: usize },
    /// The session file could not be read; it is kept until the user starts fresh.
    Unreadable { path: PathBuf, error: String },
}

/// What was taken over from a session file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RestoreSummary {
    pub suggestions: usize,
    pub decisions: usize,
    pub edits: usize,
    /// Records not restored, each with the reason (EAN gone, registration changed, ...).
    pub skipped: Vec<String>,
}

impl RestoreOutcome {
    /// One line for the status bar or a dialog.
    pub fn message(&self) -> String {
        match self {
            RestoreOutcome::NoSavedSession { path } => format!("new review session, autosaved to {}", path.display()),
            RestoreOutcome::Restored { path, saved_at, summary } => format!(
                "restored review session of {} from {}: {} decision(s), {} manual edit(s){}",
                saved_at.format("%Y-%m-%d %H:%M"),
                path.display(),
                summary.decisions,
                summary.edits,
                if summary.skipped.is_empty() {
                    String::new()
                } else {
                    format!(", {} record(s) not restored", summary.skipped.len())
                }
            ),
            RestoreOutcome::NetworkChanged { path, saved_at, saved_connections, connections } => format!(
                "the network changed since the review session in {} was saved ({}; {saved_connections} connections then, {connections} now): restore the decisions that still fit, or start a new session?",
                path.display(),
                saved_at.format("%Y-%m-%d %H:%M")
            ),
            RestoreOutcome::Unreadable { path, error } => {
                format!(
                    "the review session file {} could not be read ({error}); start a new session (the file is kept)?",
                    path.display()
                )
            }
        }
    }
}

impl ReviewSession {
    /// Opens the review session of a network loaded from `network_path`: restores
    /// the autosaved session when it matches the network, and autosaves from now on.
    pub fn open(network: Arc<crate::model::Network>, network_path: &Path) -> (ReviewSession, RestoreOutcome) {
        Self::open_with_session_file(network, network_path, beside_network(network_path))
    }

    /// As [`ReviewSession::open`], with the session file somewhere else than beside the
    /// network (tests and benchmarks must not write into the bundled sample folder).
    pub fn open_with_session_file(
        network: Arc<crate::model::Network>,
        network_path: &Path,
        path: PathBuf,
    ) -> (ReviewSession, RestoreOutcome) {
        let mut s = ReviewSession::new(network);
        s.autosave.fingerprint = network_fingerprint(&s.network);
        s.autosave.network_path = Some(network_path.to_path_buf());
        s.autosave.path = Some(path.clone());
        s.autosave.status = SaveStatus::NotYetSaved { path: path.clone() };
        if !path.exists() {
            return (s, RestoreOutcome::NoSavedSession { path });
        }
        let outcome = match SessionFile::read(&path) {
            Err(error) => {
                s.autosave.status = SaveStatus::Paused { path: path.clone(), reason: error.clone() };
                RestoreOutcome::Unreadable { path, error }
            }
            Ok(file) if file.fingerprint == s.autosave.fingerprint => {
                let saved_at = file.saved_at;
                let summary = s.restore_from(&file);
                s.autosave.status = SaveStatus::Saved { path: path.clone(), at: saved_at };
                RestoreOutcome::Restored { path, saved_at, summary }
            }
            Ok(file) => {
                let out = RestoreOutcome::NetworkChanged {
                    path: path.clone(),
                    saved_at: file.saved_at,
                    saved_connections: file.connections,
                    connections: s.network.connections.len(),
                };
                s.autosave.status =
                    SaveStatus::Paused { path, reason: "the network changed since this session was saved".into() };
                s.autosave.held = Some(Box::new(file));
                out
            }
        };
        (s, outcome)
    }

    /// Turns on autosave to an explicit file (no restore); e.g. for a network
    /// without a file of its own.
    pub fn autosave_to(&mut self, path: PathBuf) {
        self.autosave.fingerprint = network_fingerprint(&self.network);
        self.autosave.status = SaveStatus::NotYetSaved { path: path.clone() };
        self.autosave.path = Some(path);
        self.autosave.held = None;
    }

    pub fn save_status(&self) -> &SaveStatus {
        &self.autosave.status
    }

    /// The session file, when autosave is configured.
    pub fn session_file_path(&self) -> Option<&Path> {
        self.autosave.path.as_deref()
    }

    /// After [`RestoreOutcome::NetworkChanged`]: takes over every record that still
    /// fits the network (EAN present, GIS value unchanged) and resumes autosave.
    pub fn restore_anyway(&mut self) -> RestoreSummary {
        match self.autosave.held.take() {
            Some(file) => {
                let summary = self.restore_from(&file);
                self.resume_autosave();
                summary
            }
            // Nothing readable was held (e.g. after `Unreadable`): never overwrite that
            // file, keep it under a dated name as `start_fresh` does.
            None if matches!(self.autosave.status, SaveStatus::Paused { .. }) => {
                let skipped = match self.start_fresh() {
                    Ok(Some(moved)) => format!("the session file could not be read; it is kept as {}", moved.display()),
                    Ok(None) => "no session file to restore".to_string(),
                    Err(e) => format!("the unreadable session file could not be moved aside: {e}"),
                };
                RestoreSummary { skipped: vec![skipped], ..Default::default() }
            }
            None => RestoreSummary::default(),
        }
    }

    /// After [`RestoreOutcome::NetworkChanged`] or [`RestoreOutcome::Unreadable`]:
    /// keeps the old file under a dated name, and starts saving this session.
    /// Returns where the old file went.
    pub fn start_fresh(&mut self) -> std::io::Result<Option<PathBuf>> {
        self.autosave.held = None;
        let mut moved = None;
        if let Some(path) = self.autosave.path.clone()
            && path.exists()
        {
            let stamp = (self.clock)().format("%Y%m%dT%H%M%S");
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let base = name.strip_suffix(".json").unwrap_or(&name);
            let to = path.with_file_name(format!("{base}.{stamp}.old.json"));
            std::fs::rename(&path, &to)?;
            moved = Some(to);
        }
        self.resume_autosave();
        Ok(moved)
    }

    fn resume_autosave(&mut self) {
        if let Some(path) = self.autosave.path.clone() {
            self.autosave.status = SaveStatus::NotYetSaved { path };
            self.autosave_now();
        }
    }

    /// The session as written to its file.
    pub fn to_file(&self) -> SessionFile {
        let decision = |d: &Decision| SavedDecision {
            state: d.state.kind(),
            value: match &d.state {
                DecisionState::Edited(v) => Some(v.to_string()),
                _ => None,
            },
            decided_at: d.decided_at,
            by: d.by.clone(),
            note: d.note.clone(),
            seq: d.seq,
        };
        SessionFile {
            format: FORMAT.into(),
            version: VERSION,
            network_path: self.autosave.network_path.as_ref().map(|p| p.to_string_lossy().into_owned()),
            // Cached at open: recomputing it (sorting every connection) would double the cost of a click.
            fingerprint: if self.autosave.fingerprint.is_empty() {
                network_fingerprint(&self.network)
            } else {
                self.autosave.fingerprint.clone()
            },
            connections: self.network.connections.len(),
            saved_at: (self.clock)(),
            saved_by: self.user.clone(),
            suggestions: self
                .suggestions
                .iter()
                .map(|s| SavedSuggestion {
                    ean: s.ean.clone(),
                    field: s.field,
                    old_value: s.old_value.to_string(),
                    new_value: s.new_value.to_string(),
                    confidence: s.confidence,
                    evidence: s.evidence.clone(),
                    detail: s.detail.clone(),
                    source: s.source,
                    decision: decision(&s.decision),
                })
                .collect(),
            edits: self
                .edits
                .values()
                .map(|e| SavedEdit {
                    ean: e.ean.clone(),
                    field: e.field,
                    old_value: e.old_value.to_string(),
                    value: e.value.to_string(),
                    decided_at: e.decided_at,
                    by: e.by.clone(),
                    note: e.note.clone(),
                    seq: e.seq,
                })
                .collect(),
        }
    }

    /// Writes the session file now (when autosave is on and not paused);
    /// returns the error text when writing failed.
    pub fn autosave_now(&mut self) -> Option<String> {
        let path = self.autosave.path.clone()?;
        if matches!(self.autosave.status, SaveStatus::Paused { .. }) {
            return None;
        }
        let file = self.to_file();
        let at = file.saved_at;
        let res = (|| -> std::io::Result<()> {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            write_atomic(&path, |w| serde_json::to_writer(&mut *w, &file).map_err(std::io::Error::other))
        })();
        match res {
            Ok(()) => {
                self.autosave.status = SaveStatus::Saved { path, at };
                None
            }
            Err(e) => {
                let error = format!("could not save the review session to {}: {e}", path.display());
                self.autosave.status = SaveStatus::Failed { path, error: error.clone() };
                Some(error)
            }
        }
    }

    /// Takes over the suggestions and edits of a session file that still fit this network.
    pub(super) fn restore_from(&mut self, file: &SessionFile) -> RestoreSummary {
        let mut sum = RestoreSummary::default();
        let mut list: Vec<Suggestion> = std::mem::take(&mut self.suggestions);
        // Suggestions already in the session (an analysis set before restoring) take
        // the saved decision instead of appearing twice.
        let mut existing: std::collections::HashMap<(String, Field, String, SuggestionSource), usize> =
            list.iter().enumerate().map(|(k, s)| (s.key(), k)).collect();
        let net = self.network.clone();
        for (n, s) in file.suggestions.iter().enumerate() {
            let what = format!("suggestion {} ({} {} \u{2192} {} of {})", n + 1, s.field, s.old_value, s.new_value, s.ean);
            let Some(i) = net.connection_index(&s.ean) else {
                sum.skipped.push(format!("{what}: connection no longer in the network"));
                continue;
            };
            let gis = gis_value(&net, i, s.field);
            if gis.to_string() != s.old_value {
                sum.skipped.push(format!("{what}: GIS now registers {gis}"));
                continue;
            }
            let new_value = match FieldValue::parse(s.field, &s.new_value) {
                Ok(v) => v,
                Err(e) => {
                    sum.skipped.push(format!("{what}: {e}"));
                    continue;
                }
            };
            let state = match (s.decision.state, &s.decision.value) {
                (DecisionKind::Pending, _) => DecisionState::Pending,
                (DecisionKind::Accepted, _) => DecisionState::Accepted,
                (DecisionKind::Rejected, _) => DecisionState::Rejected,
                (DecisionKind::Edited, Some(v)) => match FieldValue::parse(s.field, v) {
                    Ok(v) => DecisionState::Edited(v),
                    Err(e) => {
                        sum.skipped.push(format!("{what}: edited value: {e}"));
                        continue;
                    }
                },
                (DecisionKind::Edited, None) => {
                    sum.skipped.push(format!("{what}: edited without a value"));
                    continue;
                }
            };
            if !matches!(state, DecisionState::Pending) {
                sum.decisions += 1;
            }
            sum.suggestions += 1;
            let decision = Decision {
                state,
                decided_at: s.decision.decided_at,
                by: s.decision.by.clone(),
                note: s.decision.note.clone(),
                seq: s.decision.seq,
            };
            let key = (s.ean.clone(), s.field, new_value.to_string(), s.source);
            if let Some(&k) = existing.get(&key) {
                if list[k].decision.state == DecisionState::Pending {
                    list[k].decision = decision;
                }
                continue;
            }
            existing.insert(key, list.len());
            list.push(Suggestion {
                id: SuggestionId(0),
                connection: i,
                ean: s.ean.clone(),
                field: s.field,
                old_value: gis,
                new_value,
                confidence: s.confidence,
                evidence: s.evidence.clone(),
                detail: s.detail.clone(),
                source: s.source,
                decision,
            });
        }
        self.set_suggestions(list);
        for (n, e) in file.edits.iter().enumerate() {
            let what = format!("manual edit {} ({} of {} to {})", n + 1, e.field, e.ean, e.value);
            let Some(i) = net.connection_index(&e.ean) else {
                sum.skipped.push(format!("{what}: connection no longer in the network"));
                continue;
            };
            let gis = gis_value(&net, i, e.field);
            if gis.to_string() != e.old_value {
                sum.skipped.push(format!("{what}: GIS now registers {gis}"));
                continue;
            }
            let value = match FieldValue::parse(e.field, &e.value) {
                Ok(v) => v,
                Err(err) => {
                    sum.skipped.push(format!("{what}: {err}"));
                    continue;
                }
            };
            if e.field == Field::Cable && value.as_id().is_some_and(|k| net.cable_index(k).is_none()) {
                sum.skipped.push(format!("{what}: cable no longer in the network"));
                continue;
            }
            self.next_seq = self.next_seq.max(e.seq + 1);
            self.revision += 1;
            sum.edits += 1;
            self.edits.insert(
                (i, e.field),
                ManualEdit {
                    connection: i,
                    ean: e.ean.clone(),
                    field: e.field,
                    old_value: gis,
                    value,
                    decided_at: e.decided_at,
                    by: e.by.clone(),
                    note: e.note.clone(),
                    seq: e.seq,
                },
            );
        }
        sum
    }
}

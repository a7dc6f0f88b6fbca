//! The audit log: which data was loaded for which purpose, what was exported
//! (pseudonymised or not) and what was purged.
//!
//! `audit.jsonl` in the privacy folder, one JSON object per line, append-only:
//! every append rewrites the file atomically under a lock, and every entry
//! carries the SHA-256 of the line before it, so a removed or edited entry
//! shows up in [`AuditLog::verify`].

use super::fsutil::{LockGuard, hex, write_atomic};
use super::purpose::{DataKind, Purpose};
use super::rules::{Period, Remedy};
use crate::model::time::{Timestamp, format_utc};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    /// Approved after a remedy the user consented to.
    Trimmed,
    Refused,
}

/// A file deleted by a purge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PurgedFile {
    pub path: String,
    pub fingerprint: Option<String>,
    pub bytes: u64,
    /// `source` (the user's input file) or `copy` (lvtopo's own copy or cache).
    pub role: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AuditEvent {
    /// A measurement read was offered for a purpose.
    Load {
        file: String,
        fingerprint: Option<String>,
        data_kind: Option<DataKind>,
        purpose: Option<Purpose>,
        period: Option<Period>,
        connections: usize,
        decision: Decision,
        /// Rules that refused or that a remedy answered (codes).
        rules: Vec<String>,
        remedies: Vec<Remedy>,
        justification: Option<String>,
    },
    /// lvtopo wrote a copy of raw values (cache, session data) that a purge must delete.
    RawCopy { file: String, of_source: Option<String> },
    /// A file left lvtopo.
    Export {
        file: String,
        /// What it holds: `assignments`, `corrections`, `aggregates`, `letters`, ...
        what: String,
        pseudonymised: bool,
        /// Which key made the pseudonyms (a fingerprint of it, never the key).
        key_fingerprint: Option<String>,
        rows: usize,
    },
    /// Raw reads deleted.
    Purge { deleted: Vec<PurgedFile>, skipped: Vec<String>, kept: Vec<String> },
    /// A privacy setting changed (e.g. the minimum group size).
    Setting { name: String, value: String },
}

impl AuditEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            AuditEvent::Load { .. } => "load",
            AuditEvent::RawCopy { .. } => "raw_copy",
            AuditEvent::Export { .. } => "export",
            AuditEvent::Purge { .. } => "purge",
            AuditEvent::Setting { .. } => "setting",
        }
    }

    /// One line for lists (UI, CLI).
    pub fn summary(&self) -> String {
        match self {
            AuditEvent::Load { file, purpose, period, connections, decision, rules, .. } => format!(
                "load {file}: {} connection(s){} for {} -> {:?}{}",
                connections,
                period.map(|p| format!(", {p}")).unwrap_or_default(),
                purpose.map(|p| p.to_string()).unwrap_or_else(|| "no purpose".into()),
                decision,
                if rules.is_empty() { String::new() } else { format!(" ({})", rules.join(", ")) }
            ),
            AuditEvent::RawCopy { file, .. } => format!("raw copy written: {file}"),
            AuditEvent::Export { file, what, pseudonymised, rows, .. } => {
                format!(
                    "export {what} -> {file}: {rows} row(s), {}",
                    if *pseudonymised { "pseudonymised" } else { "with real EANs" }
                )
            }
            AuditEvent::Purge { deleted, skipped, .. } => {
                format!("purge: {} file(s) deleted, {} skipped", deleted.len(), skipped.len())
            }
            AuditEvent::Setting { name, value } => format!("setting {name} = {value}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    /// UTC seconds.
    pub at: Timestamp,
    /// The same instant, readable.
    pub at_utc: String,
    /// Operating-system user who did it.
    pub user: String,
    pub event: AuditEvent,
    /// SHA-256 (hex) of the previous line; empty for the first entry.
    pub prev: String,
}

pub struct AuditLog {
    path: PathBuf,
}

fn current_user() -> String {
    std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into())
}

pub fn now() -> Timestamp {
    chrono::Utc::now().timestamp()
}

fn line_hash(line: &str) -> String {
    hex(&Sha256::digest(line.as_bytes()))
}

impl AuditLog {
    pub fn open(dir: &Path) -> anyhow::Result<AuditLog> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(AuditLog { path: dir.join("audit.jsonl") })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one event; returns the entry as written.
    pub fn append(&self, event: AuditEvent) -> anyhow::Result<AuditEntry> {
        let _lock = LockGuard::acquire(&self.path)?;
        let mut text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", self.path.display())),
        };
        let last = text.lines().rev().find(|l| !l.trim().is_empty());
        let prev = last.map(line_hash).unwrap_or_default();
        let seq = match last {
            Some(l) => serde_json::from_str::<AuditEntry>(l).map(|e| e.seq + 1).with_context(|| {
                format!(
                    "{}: the last line is not an audit entry; the log needs attention before anything is appended",
                    self.path.display()
                )
            })?,
            None => 1,
        };
        let at = now();
        let entry = AuditEntry { seq, at, at_utc: format_utc(at), user: current_user(), event, prev };
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&serde_json::to_string(&entry)?);
        text.push('\n');
        write_atomic(&self.path, text.as_bytes()).with_context(|| format!("writing {}", self.path.display()))?;
        Ok(entry)
    }

    /// All entries, oldest first. A line that is not an entry is an error naming the line.
    pub fn entries(&self) -> anyhow::Result<Vec<AuditEntry>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(e).with_context(|| format!("reading {}", self.path.display())),
        };
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(n, l)| {
                serde_json::from_str(l)
                    .with_context(|| format!("{} line {}: expected an audit entry (JSON object)", self.path.display(), n + 1))
            })
            .collect()
    }

    /// Checks the chain of hashes; `Err` names the first entry that does not follow from the one before.
    pub fn verify(&self) -> anyhow::Result<usize> {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        let mut prev = String::new();
        let mut n = 0;
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let e: AuditEntry = serde_json::from_str(line)
                .with_context(|| format!("{} line {}: expected an audit entry", self.path.display(), i + 1))?;
            if e.prev != prev {
                anyhow::bail!(
                    "{} line {} (entry {}): the chain is broken: an entry before it was removed or changed",
                    self.path.display(),
                    i + 1,
                    e.seq
                );
            }
            prev = line_hash(line);
            n += 1;
        }
        Ok(n)
    }

    /// Writes the log to `out`: CSV when the name ends in `.csv`, otherwise JSON lines.
    pub fn export(&self, out: &Path) -> anyhow::Result<usize> {
        let entries = self.entries()?;
        let is_csv = out.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let bytes = if is_csv {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["seq", "at_utc", "user", "kind", "summary", "details_json"])?;
            for e in &entries {
                w.write_record([
                    e.seq.to_string(),
                    e.at_utc.clone(),
                    e.user.clone(),
                    e.event.kind().to_string(),
                    e.event.summary(),
                    serde_json::to_string(&e.event)?,
                ])?;
            }
            w.into_inner().map_err(|e| anyhow::anyhow!("writing CSV: {e}"))?
        } else {
            std::fs::read(&self.path).unwrap_or_default()
        };
        write_atomic(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
        Ok(entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_chain_and_detects_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path()).unwrap();
        for v in ["10", "12"] {
            log.append(AuditEvent::Setting { name: "min_group_size".into(), value: v.into() }).unwrap();
        }
        log.append(AuditEvent::Export {
            file: "agg.csv".into(),
            what: "aggregates".into(),
            pseudonymised: false,
            key_fingerprint: None,
            rows: 3,
        })
        .unwrap();
        let e = log.entries().unwrap();
        assert_eq!(e.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(log.verify().unwrap(), 3);
        let csv_out = dir.path().join("audit.csv");
        assert_eq!(log.export(&csv_out).unwrap(), 3);
        assert!(std::fs::read_to_string(&csv_out).unwrap().contains("export aggregates -> agg.csv"));

        // Remove the middle entry: the chain breaks at the third.
        let text = std::fs::read_to_string(log.path()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        std::fs::write(log.path(), format!("{}\n{}\n", lines[0], lines[2])).unwrap();
        let err = log.verify().unwrap_err().to_string();
        assert!(err.contains("entry 3"), "{err}");
    }
}

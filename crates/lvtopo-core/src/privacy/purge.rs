//! Purge: once the corrections are exported, delete the raw reads lvtopo
//! holds, keeping only derived results (assignments, confidences, evidence
//! summaries, the ledger's facts). What lvtopo holds:
//! - everything in the privacy folder's `raw/` (its own copies and caches);
//! - files registered as raw copies (`AuditEvent::RawCopy`), e.g. a session's value cache;
//! - with `sources`, the source files loaded since the last purge, when they
//!   are still the file that was loaded (same SHA-256).
//!
//! The audit log records what was deleted, when, and what was kept.

use super::PrivacyStore;
use super::audit::{AuditEntry, AuditEvent, Decision, PurgedFile};
use super::fsutil::fingerprint_file;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default)]
pub struct PurgeOptions {
    /// Delete the loaded source files too (the user said so).
    pub sources: bool,
    /// Purge although no export was recorded after the last load.
    pub without_export: bool,
    /// Only report what would be deleted.
    pub dry_run: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlannedDeletion {
    pub path: PathBuf,
    /// `copy` or `source`.
    pub role: &'static str,
    pub fingerprint: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PurgePlan {
    pub delete: Vec<PlannedDeletion>,
    /// Files not deleted, with the reason.
    pub skipped: Vec<String>,
    /// Derived results on record (exports since the last purge), kept.
    pub kept: Vec<String>,
    /// Loads since the last purge with no export after them.
    pub unexported_loads: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PurgeOutcome {
    pub deleted: Vec<PurgedFile>,
    pub skipped: Vec<String>,
    pub kept: Vec<String>,
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                files_under(&p, out);
            } else {
                out.push(p);
            }
        }
    }
}

/// What a purge would do, from the audit log and the raw folder.
pub fn plan(store: &PrivacyStore, opts: &PurgeOptions) -> anyhow::Result<PurgePlan> {
    let entries: Vec<AuditEntry> = store.audit()?.entries()?;
    let since = entries.iter().rposition(|e| matches!(e.event, AuditEvent::Purge { .. })).map_or(0, |i| i + 1);
    let recent = &entries[since..];
    let mut plan = PurgePlan::default();

    let mut copies = Vec::new();
    files_under(&store.raw_cache_dir(), &mut copies);
    // Raw copies registered since any time: a file still there is still raw.
    for e in &entries {
        if let AuditEvent::RawCopy { file, .. } = &e.event {
            copies.push(PathBuf::from(file));
        }
    }
    copies.sort();
    copies.dedup();
    for p in copies {
        if p.is_file() {
            plan.delete.push(PlannedDeletion { path: p, role: "copy", fingerprint: None });
        }
    }

    // Loaded sources since the last purge: the fingerprint of the last admission counts.
    let mut sources: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut last_export = None;
    for (i, e) in recent.iter().enumerate() {
        match &e.event {
            AuditEvent::Load { file, fingerprint, .. }
                // A refused read is held as much as an admitted one: it is on disk all the same.
                if fingerprint.is_some() => {
                    sources.insert(file.clone(), fingerprint.clone());
                }
            AuditEvent::Export { file, .. } => {
                last_export = Some(i);
                plan.kept.push(file.clone());
            }
            _ => {}
        }
    }
    let after_export = last_export.map_or(0, |x| x + 1);
    plan.unexported_loads = recent[after_export.min(recent.len())..]
        .iter()
        .filter(|e| matches!(e.event, AuditEvent::Load { decision: Decision::Approved | Decision::Trimmed, .. }))
        .count();
    for (file, fp) in sources {
        let p = PathBuf::from(&file);
        if !opts.sources {
            if p.is_file() {
                plan.skipped.push(format!("{file}: source file kept (delete it with the sources option)"));
            }
            continue;
        }
        if !p.is_file() {
            continue; // already gone
        }
        match (&fp, fingerprint_file(&p)) {
            (Some(want), Ok(have)) if *want != have => {
                plan.skipped.push(format!("{file}: changed since it was loaded (another read?), not deleted"))
            }
            (_, Err(e)) => plan.skipped.push(format!("{file}: cannot be read ({e}), not deleted")),
            _ => plan.delete.push(PlannedDeletion { path: p, role: "source", fingerprint: fp }),
        }
    }
    Ok(plan)
}

/// Deletes the raw reads and records the purge. Refused while loads await
/// an export, unless `without_export`.
pub fn purge(store: &PrivacyStore, opts: &PurgeOptions) -> anyhow::Result<PurgeOutcome> {
    let plan = plan(store, opts)?;
    if plan.unexported_loads > 0 && !opts.without_export {
        anyhow::bail!(
            "no export is recorded after the last load: purging now would delete the reads before their results are kept. \
             Export the corrections (or assignments) first, or purge anyway with the without-export option"
        );
    }
    let mut deleted = Vec::new();
    let mut skipped = plan.skipped.clone();
    if opts.dry_run {
        return Ok(PurgeOutcome {
            deleted: plan
                .delete
                .iter()
                .map(|d| PurgedFile {
                    path: d.path.display().to_string(),
                    fingerprint: d.fingerprint.clone(),
                    bytes: std::fs::metadata(&d.path).map(|m| m.len()).unwrap_or(0),
                    role: d.role.into(),
                })
                .collect(),
            skipped,
            kept: plan.kept,
        });
    }
    for d in &plan.delete {
        let bytes = std::fs::metadata(&d.path).map(|m| m.len()).unwrap_or(0);
        match std::fs::remove_file(&d.path) {
            Ok(()) => deleted.push(PurgedFile {
                path: d.path.display().to_string(),
                fingerprint: d.fingerprint.clone(),
                bytes,
                role: d.role.into(),
            }),
            Err(e) => skipped.push(format!("{}: could not be deleted ({e})", d.path.display())),
        }
    }
    // Empty folders left in raw/ go too (their names may carry EANs or dates).
    let raw = store.raw_cache_dir();
    if raw.is_dir() {
        let _ = std::fs::remove_dir_all(&raw);
    }
    store.audit()?.append(AuditEvent::Purge { deleted: deleted.clone(), skipped: skipped.clone(), kept: plan.kept.clone() })?;
    Ok(PurgeOutcome { deleted, skipped, kept: plan.kept })
}

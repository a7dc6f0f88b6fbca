//! The read ledger: which connection was read for which purpose and when,
//! so the history rules hold (GIS correction at most once per connection per
//! year; PV feed-in once per season, at most 4 times a year).
//!
//! It keeps derived facts only: a keyed hash of each EAN (HMAC-SHA256 with a
//! key local to this installation, `ledger.key`, truncated to 128 bits), the
//! purpose and the period. Never a measured value. File: `read-ledger.jsonl`,
//! one JSON object per recorded read, rewritten atomically under a lock.

use super::fsutil::{LockGuard, hex, random_key, unhex, write_atomic, write_private};
use super::purpose::{DAY_S, Purpose};
use super::rules::{Period, ReadInfo, Remedy, RuleId, RuleViolation};
use crate::model::time::{Timestamp, format_amsterdam, to_amsterdam};
use anyhow::Context;
use chrono::Datelike;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub const YEAR_S: i64 = 365 * DAY_S;

/// One recorded read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LedgerRead {
    pub purpose: Purpose,
    pub period: Period,
    /// When lvtopo admitted the read (UTC seconds).
    pub recorded_at: Timestamp,
    /// SHA-256 of the source file, when there was one.
    #[serde(default)]
    pub source_fingerprint: Option<String>,
    /// Keyed hashes of the connections in the read.
    pub connections: Vec<String>,
}

/// Meteorological seasons, as the PV rule counts them ("1x per seizoen").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Season {
    Winter,
    Spring,
    Summer,
    Autumn,
}

/// Season and its year (December counts to the next year's winter) of an instant, in Dutch time.
pub fn season_of(t: Timestamp) -> (i32, Season) {
    let d = to_amsterdam(t);
    match d.month() {
        12 => (d.year() + 1, Season::Winter),
        1 | 2 => (d.year(), Season::Winter),
        3..=5 => (d.year(), Season::Spring),
        6..=8 => (d.year(), Season::Summer),
        _ => (d.year(), Season::Autumn),
    }
}

fn midpoint(p: &Period) -> Timestamp {
    p.start + p.duration_s() / 2
}

pub struct ReadLedger {
    path: PathBuf,
    key: [u8; 32],
    reads: Vec<LedgerRead>,
    /// Hash -> indices into `reads`.
    by_hash: HashMap<String, Vec<usize>>,
}

impl ReadLedger {
    /// Opens (or starts) the ledger in `dir`, creating the local hashing key on first use.
    pub fn open(dir: &Path) -> anyhow::Result<ReadLedger> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let key_path = dir.join("ledger.key");
        let key = match std::fs::read_to_string(&key_path) {
            Ok(s) => {
                let v = unhex(&s)
                    .filter(|v| v.len() == 32)
                    .with_context(|| format!("{}: expected 64 hex digits (the ledger's hashing key)", key_path.display()))?;
                let mut k = [0u8; 32];
                k.copy_from_slice(&v);
                k
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let k = random_key();
                write_private(&key_path, hex(&k).as_bytes())?;
                restrict_permissions(&key_path);
                k
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", key_path.display())),
        };
        let path = dir.join("read-ledger.jsonl");
        let mut ledger = ReadLedger { path, key, reads: Vec::new(), by_hash: HashMap::new() };
        ledger.reload()?;
        Ok(ledger)
    }

    fn reload(&mut self) -> anyhow::Result<()> {
        self.reads.clear();
        self.by_hash.clear();
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", self.path.display())),
        };
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let r: LedgerRead = serde_json::from_str(line)
                .with_context(|| format!("{} line {}: expected a recorded read (JSON object)", self.path.display(), n + 1))?;
            self.push(r);
        }
        Ok(())
    }

    fn push(&mut self, r: LedgerRead) {
        let i = self.reads.len();
        for h in &r.connections {
            self.by_hash.entry(h.clone()).or_default().push(i);
        }
        self.reads.push(r);
    }

    /// Keyed hash of an EAN (32 hex digits).
    pub fn hash(&self, ean: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"lvtopo-ledger-v1:");
        mac.update(ean.trim().as_bytes());
        hex(&mac.finalize().into_bytes()[..16])
    }

    pub fn reads(&self) -> &[LedgerRead] {
        &self.reads
    }

    /// Earlier reads of one connection (a subject access request: "when was my meter read, for what?").
    pub fn reads_of(&self, ean: &str) -> Vec<&LedgerRead> {
        self.by_hash.get(&self.hash(ean)).map(|v| v.iter().map(|&i| &self.reads[i]).collect()).unwrap_or_default()
    }

    /// Earlier reads for the same purpose that are a different read (another period).
    fn earlier<'a>(&'a self, hash: &str, purpose: Purpose, period: &'a Period) -> impl Iterator<Item = &'a LedgerRead> + 'a {
        self.by_hash
            .get(hash)
            .into_iter()
            .flatten()
            .map(|&i| &self.reads[i])
            .filter(move |r| r.purpose == purpose && r.period != *period)
    }

    /// The history rules of `purpose` for this read.
    pub fn check(&self, purpose: Purpose, info: &ReadInfo) -> Vec<RuleViolation> {
        let limits = purpose.limits();
        let Some(period) = info.period else { return vec![] };
        let mut out = Vec::new();
        if limits.once_per_year {
            let mut flagged = Vec::new();
            let mut latest: Option<Timestamp> = None;
            for ean in &info.eans {
                let h = self.hash(ean);
                if let Some(prev) = self
                    .earlier(&h, purpose, &period)
                    .filter(|r| (r.period.start - period.start).abs() < YEAR_S)
                    .max_by_key(|r| r.period.start)
                {
                    latest = latest.max(Some(prev.period.start));
                    flagged.push(ean.clone());
                }
            }
            if !flagged.is_empty() {
                out.push(self.flag(RuleId::OncePerYear, purpose, info, flagged, |n, m| {
                    format!(
                        "{n} of {m} connection(s) were already read for this purpose within 365 days (most recent read started {})",
                        latest.map(format_amsterdam).unwrap_or_default()
                    )
                }));
            }
        }
        if let Some(max) = limits.per_season {
            let season = season_of(midpoint(&period));
            let mut flagged = Vec::new();
            for ean in &info.eans {
                let h = self.hash(ean);
                let earlier: Vec<_> = self.earlier(&h, purpose, &period).collect();
                let same_season = earlier.iter().any(|r| season_of(midpoint(&r.period)) == season);
                let in_year = earlier.iter().filter(|r| (r.period.start - period.start).abs() < YEAR_S).count();
                if same_season || in_year >= max as usize {
                    flagged.push(ean.clone());
                }
            }
            if !flagged.is_empty() {
                out.push(self.flag(RuleId::OncePerSeason, purpose, info, flagged, |n, m| {
                    format!("{n} of {m} connection(s) were already read for this purpose this season ({:?} {}) or {max} times within 365 days", season.1, season.0)
                }));
            }
        }
        out
    }

    fn flag(
        &self,
        rule: RuleId,
        purpose: Purpose,
        info: &ReadInfo,
        flagged: Vec<String>,
        msg: impl Fn(usize, usize) -> String,
    ) -> RuleViolation {
        let all = flagged.len() == info.eans.len();
        let mut message = msg(flagged.len(), info.eans.len());
        let shown: Vec<&str> = flagged.iter().take(5).map(String::as_str).collect();
        message.push_str(&format!("; e.g. {}", shown.join(", ")));
        RuleViolation {
            rule,
            purpose: Some(purpose),
            source: info.source.clone(),
            message,
            // Dropping the flagged connections keeps the rest of the read lawful;
            // when every connection is flagged nothing would remain.
            remedy: (!all).then_some(Remedy::ExcludeConnections { eans: flagged }),
        }
    }

    /// Records an admitted read (only purposes with a history rule: nothing
    /// else needs remembering). Reloading the same read records nothing new.
    pub fn record(&mut self, purpose: Purpose, info: &ReadInfo, now: Timestamp) -> anyhow::Result<()> {
        let limits = purpose.limits();
        let Some(period) = info.period else { return Ok(()) };
        if !(limits.once_per_year || limits.per_season.is_some()) || info.eans.is_empty() {
            return Ok(());
        }
        let _lock = LockGuard::acquire(&self.path)?;
        self.reload()?; // another process may have recorded meanwhile
        let known: std::collections::HashSet<&String> =
            self.reads.iter().filter(|r| r.purpose == purpose && r.period == period).flat_map(|r| r.connections.iter()).collect();
        let connections: Vec<String> = info.eans.iter().map(|e| self.hash(e)).filter(|h| !known.contains(h)).collect();
        if connections.is_empty() {
            return Ok(());
        }
        let read = LedgerRead { purpose, period, recorded_at: now, source_fingerprint: info.fingerprint.clone(), connections };
        let mut text = std::fs::read(&self.path).unwrap_or_default();
        if !text.is_empty() && !text.ends_with(b"\n") {
            text.push(b'\n');
        }
        text.extend_from_slice(serde_json::to_string(&read)?.as_bytes());
        text.push(b'\n');
        write_atomic(&self.path, &text).with_context(|| format!("writing {}", self.path.display()))?;
        self.push(read);
        Ok(())
    }
}

/// Owner-only permissions for key files (no-op where not supported).
pub fn restrict_permissions(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::parse_timestamp;
    use crate::privacy::purpose::DataKind;

    fn read(start: &str, days: i64, eans: &[&str]) -> ReadInfo {
        let s = parse_timestamp(start).unwrap();
        ReadInfo {
            kind: Some(DataKind::Voltage),
            source: "voltage.csv".into(),
            period: Some(Period::new(s, s + days * DAY_S)),
            eans: eans.iter().map(|e| e.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn second_gis_read_within_a_year_is_flagged_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let p = Purpose::GisTopologyCorrection;
        let first = read("2025-03-01T00:00:00+01:00", 10, &["A", "B"]);
        {
            let mut l = ReadLedger::open(dir.path()).unwrap();
            assert!(l.check(p, &first).is_empty());
            l.record(p, &first, 0).unwrap();
            l.record(p, &first, 0).unwrap(); // reloading the same read adds nothing
            assert_eq!(l.reads().len(), 1);
        }
        let l = ReadLedger::open(dir.path()).unwrap();
        assert!(l.check(p, &first).is_empty(), "the same read again is not a second read");
        let second = read("2025-09-01T00:00:00+02:00", 10, &["B", "C"]);
        let v = l.check(p, &second);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].rule, RuleId::OncePerYear);
        assert_eq!(v[0].remedy, Some(Remedy::ExcludeConnections { eans: vec!["B".into()] }));
        let next_year = read("2026-03-02T00:00:00+01:00", 10, &["A", "B"]);
        assert!(l.check(p, &next_year).is_empty());
        // Other purposes are not limited by a GIS read.
        assert!(l.check(Purpose::SeasonalVoltageAnalysis, &second).is_empty());
        // The file holds hashes, not EANs.
        let text = std::fs::read_to_string(dir.path().join("read-ledger.jsonl")).unwrap();
        assert!(!text.contains("\"A\""));
        assert_eq!(l.reads_of("A").len(), 1);
    }

    #[test]
    fn pv_reads_once_per_season() {
        let dir = tempfile::tempdir().unwrap();
        let p = Purpose::PvRegistration;
        let mut l = ReadLedger::open(dir.path()).unwrap();
        l.record(p, &read("2025-04-01T00:00:00+02:00", 7, &["A"]), 0).unwrap();
        assert_eq!(l.check(p, &read("2025-05-10T00:00:00+02:00", 7, &["A"]))[0].rule, RuleId::OncePerSeason);
        assert!(l.check(p, &read("2025-07-01T00:00:00+02:00", 7, &["A"])).is_empty());
        assert_eq!(season_of(parse_timestamp("2025-12-15T12:00:00+01:00").unwrap()), (2026, Season::Winter));
    }
}

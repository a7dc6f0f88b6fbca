//! Privacy rules of the approved use cases, enforced: purposes, retention,
//! purge, pseudonymised exports, minimum group sizes, audit log.
//!
//! - [`admission`]: [`admission::admit`], the one question the CLI and the app ask of every read
//!   (may it be used for this task?), and [`admission::permit_use`] for a read admitted earlier.
//! - [`purpose`]: the use cases and their rules as data.
//! - [`rules`]: [`check_read`] of one read against its purpose; refusals name the rule.
//! - [`ledger`]: which connection was read for what and when (keyed hashes, no values).
//! - [`sidecar`]: `FILE.purpose.json`, the purpose stated next to the data.
//! - [`guard`]: [`PrivacyStore::admit`], the one call a loader makes: purpose,
//!   rules, ledger, consent to trim, audit.
//! - [`exports`]: aggregates, pseudonymised data and the audit log written out, each audited.
//! - [`purge`]: deletes the raw reads once the results are exported.
//! - [`pseudonym`]: keyed pseudonyms for exports leaving the GIS team.
//! - [`aggregate`], [`ev`]: sums over areas of at least k connections (use cases 11, 13, 14).
//! - [`audit`]: append-only, hash-chained log of loads, exports and purges.
//!
//! Everything lvtopo keeps for these rules lives in one folder, the *privacy
//! folder* ([`PrivacyStore`]): `audit.jsonl`, `read-ledger.jsonl`,
//! `ledger.key`, `settings.json` and `raw/` (lvtopo's own copies of raw
//! reads, emptied by a purge).

pub mod admission;
pub mod aggregate;
pub mod audit;
pub mod ev;
pub mod exports;
pub mod fsutil;
pub mod guard;
pub mod ledger;
pub mod pseudonym;
pub mod purge;
pub mod purpose;
pub mod reads;
pub mod rules;
pub mod sidecar;

pub use admission::{Admission, ReadRecord, Refused, Task};
pub use aggregate::{AreaLevel, MinGroupSize};
pub use audit::{AuditEvent, AuditLog};
pub use guard::{Admitted, LoadRequest};
pub use pseudonym::PseudonymKey;
pub use purpose::{DataKind, Purpose};
pub use reads::PrivacyRead;
pub use rules::{Approval, Period, ReadInfo, Refusal, Remedy, RuleId, RuleViolation, check_before_after, check_read};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Environment variable naming the privacy folder (tests, multi-user setups).
pub const PRIVACY_DIR_ENV: &str = "LVTOPO_PRIVACY_DIR";

/// Settings that change what may be shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrivacySettings {
    /// k of the aggregates; never below [`aggregate::MIN_GROUP_SIZE_FLOOR`].
    pub min_group_size: usize,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        PrivacySettings { min_group_size: aggregate::DEFAULT_MIN_GROUP_SIZE }
    }
}

/// The privacy folder.
#[derive(Clone, Debug, PartialEq)]
pub struct PrivacyStore {
    dir: PathBuf,
}

impl PrivacyStore {
    /// `$LVTOPO_PRIVACY_DIR`, else the platform data folder (`~/.local/share/lvtopo/privacy`,
    /// `%APPDATA%\lvtopo\privacy`), else `.lvtopo-privacy` in the working folder.
    pub fn default_dir() -> PathBuf {
        if let Some(d) = std::env::var_os(PRIVACY_DIR_ENV).filter(|d| !d.is_empty()) {
            return PathBuf::from(d);
        }
        let base = std::env::var_os("XDG_DATA_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("APPDATA").map(PathBuf::from))
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local").join("share")));
        match base {
            Some(b) => b.join("lvtopo").join("privacy"),
            None => PathBuf::from(".lvtopo-privacy"),
        }
    }

    /// Opens `dir` (or the default folder), creating it when needed.
    pub fn open(dir: Option<&Path>) -> anyhow::Result<PrivacyStore> {
        let dir = dir.map(Path::to_path_buf).unwrap_or_else(Self::default_dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating the privacy folder {}", dir.display()))?;
        Ok(PrivacyStore { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn audit(&self) -> anyhow::Result<AuditLog> {
        AuditLog::open(&self.dir)
    }

    pub fn ledger(&self) -> anyhow::Result<ledger::ReadLedger> {
        ledger::ReadLedger::open(&self.dir)
    }

    /// Where lvtopo keeps its own copies of raw reads (caches); a purge empties it.
    pub fn raw_cache_dir(&self) -> PathBuf {
        self.dir.join("raw")
    }

    pub fn settings(&self) -> anyhow::Result<PrivacySettings> {
        let p = self.dir.join("settings.json");
        match std::fs::read_to_string(&p) {
            Ok(t) => {
                let s: PrivacySettings =
                    serde_json::from_str(&t).with_context(|| format!("{}: expected {{\"min_group_size\": 10}}", p.display()))?;
                MinGroupSize::new(s.min_group_size).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
                Ok(s)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(PrivacySettings::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", p.display())),
        }
    }

    /// The minimum group size in force.
    pub fn min_group_size(&self) -> anyhow::Result<MinGroupSize> {
        MinGroupSize::new(self.settings()?.min_group_size).map_err(anyhow::Error::msg)
    }

    /// Changes k (refused below the floor); the change is audited.
    pub fn set_min_group_size(&self, k: usize) -> anyhow::Result<()> {
        MinGroupSize::new(k).map_err(anyhow::Error::msg)?;
        // A settings file that cannot be read is reported, not silently overwritten.
        self.settings()?;
        let s = PrivacySettings { min_group_size: k };
        fsutil::write_atomic(&self.dir.join("settings.json"), serde_json::to_string_pretty(&s)?.as_bytes())?;
        self.audit()?.append(AuditEvent::Setting { name: "min_group_size".into(), value: k.to_string() })?;
        Ok(())
    }

    /// Records a copy of raw values lvtopo wrote outside `raw/` (so a purge deletes it).
    pub fn register_raw_copy(&self, file: &Path, of_source: Option<&Path>) -> anyhow::Result<()> {
        self.audit()?.append(AuditEvent::RawCopy {
            file: absolute(file).display().to_string(),
            of_source: of_source.map(|s| absolute(s).display().to_string()),
        })?;
        Ok(())
    }

    /// Records an export. `key` when the EANs in it were pseudonymised.
    pub fn record_export(&self, file: &Path, what: &str, key: Option<&PseudonymKey>, rows: usize) -> anyhow::Result<()> {
        self.audit()?.append(AuditEvent::Export {
            file: absolute(file).display().to_string(),
            what: what.to_string(),
            pseudonymised: key.is_some(),
            key_fingerprint: key.map(|k| k.fingerprint()),
            rows,
        })?;
        Ok(())
    }
}

/// `p` made absolute against the working folder (without resolving links; the file may be gone).
pub fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

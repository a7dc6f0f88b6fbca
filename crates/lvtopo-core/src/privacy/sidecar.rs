//! The purpose sidecar: a small JSON file next to a measurement file that
//! states what the read is for, e.g. `voltage.csv.purpose.json`:
//!
//! ```json
//! {
//!   "purpose": "gis_topology_correction",
//!   "reference": "WO-2025-0412",
//!   "requested_by": "j.jansen",
//!   "justification": "phase registration of Dorpsstraat doubtful after cable repair",
//!   "outage_windows": [{ "start": "2025-03-10T14:00:00+01:00", "end": "2025-03-10T18:00:00+01:00" }]
//! }
//! ```
//!
//! Only `purpose` is required: a slug (`gis_topology_correction`), `uc7` or `7`.
//! `justification` is required by use cases 3 and 12; `outage_windows` (the
//! suspected outage) by use case 1. Unknown fields are an error, so a typo
//! never silently drops a statement.

use super::fsutil::{with_suffix, write_atomic};
use super::purpose::Purpose;
use super::rules::Period;
use crate::model::time::{format_amsterdam, parse_timestamp};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const SIDECAR_SUFFIX: &str = ".purpose.json";

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PurposeFile {
    pub purpose: Option<Purpose>,
    pub reference: Option<String>,
    pub requested_by: Option<String>,
    pub justification: Option<String>,
    pub outage_windows: Vec<Period>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    purpose: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    requested_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    justification: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    outage_windows: Vec<RawWindow>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    start: String,
    /// Empty or absent: the outage is still going on.
    #[serde(default)]
    end: Option<String>,
}

/// The sidecar path of a measurement file.
pub fn sidecar_path(data_file: &Path) -> PathBuf {
    with_suffix(data_file, SIDECAR_SUFFIX)
}

impl PurposeFile {
    pub fn parse(text: &str, name: &str) -> anyhow::Result<PurposeFile> {
        let raw: Raw = serde_json::from_str(text).with_context(|| {
            format!("{name}: expected {{\"purpose\": \"gis_topology_correction\", ...}} (fields: purpose, reference, requested_by, justification, outage_windows)")
        })?;
        let purpose = Purpose::parse(&raw.purpose).map_err(|e| anyhow::anyhow!("{name}, field \"purpose\": {e}"))?;
        let mut outage_windows = Vec::new();
        for (i, w) in raw.outage_windows.iter().enumerate() {
            let start = parse_timestamp(&w.start).map_err(|e| anyhow::anyhow!("{name}, outage_windows[{i}].start: {e}"))?;
            let end = match w.end.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) => parse_timestamp(s).map_err(|e| anyhow::anyhow!("{name}, outage_windows[{i}].end: {e}"))?,
                None => chrono::Utc::now().timestamp(),
            };
            if end < start {
                anyhow::bail!("{name}, outage_windows[{i}]: end {} is before start {}", w.end.as_deref().unwrap_or(""), w.start);
            }
            outage_windows.push(Period::new(start, end));
        }
        let nonempty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        Ok(PurposeFile {
            purpose: Some(purpose),
            reference: nonempty(raw.reference),
            requested_by: nonempty(raw.requested_by),
            justification: nonempty(raw.justification),
            outage_windows,
        })
    }

    /// Reads `path`; `Ok(None)` when it does not exist.
    pub fn read(path: &Path) -> anyhow::Result<Option<PurposeFile>> {
        match std::fs::read_to_string(path) {
            Ok(t) => PurposeFile::parse(&t, &path.display().to_string()).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Writes the sidecar (the app does this when the user picks a purpose on loading).
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let purpose = self.purpose.context("a purpose file needs a purpose")?;
        let raw = Raw {
            purpose: purpose.slug().to_string(),
            reference: self.reference.clone(),
            requested_by: self.requested_by.clone(),
            justification: self.justification.clone(),
            outage_windows: self
                .outage_windows
                .iter()
                .map(|w| RawWindow { start: format_amsterdam(w.start), end: Some(format_amsterdam(w.end)) })
                .collect(),
        };
        write_atomic(path, serde_json::to_string_pretty(&raw)?.as_bytes()).with_context(|| format!("writing {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_round_trips_and_names_bad_fields() {
        let t = r#"{"purpose":"uc1","justification":"","outage_windows":[{"start":"2025-03-10T14:00:00+01:00","end":"2025-03-10T18:00:00+01:00"}]}"#;
        let p = PurposeFile::parse(t, "p.json").unwrap();
        assert_eq!(p.purpose, Some(Purpose::FaultLocalisation));
        assert_eq!(p.justification, None);
        assert_eq!(p.outage_windows[0].duration_s(), 4 * 3600);
        let dir = tempfile::tempdir().unwrap();
        let path = sidecar_path(&dir.path().join("voltage_presence.csv"));
        p.write(&path).unwrap();
        assert_eq!(PurposeFile::read(&path).unwrap().unwrap(), p);

        let e = PurposeFile::parse(r#"{"purpose":"uc7","justfication":"x"}"#, "v.json").unwrap_err();
        assert!(format!("{e:#}").contains("justfication"), "{e:#}");
        let e = PurposeFile::parse(r#"{"purpose":"marketing"}"#, "v.json").unwrap_err();
        assert!(e.to_string().contains("field \"purpose\""), "{e}");
        let e =
            PurposeFile::parse(r#"{"purpose":"uc1","outage_windows":[{"start":"2025-03-10T14:00:00"}]}"#, "v.json").unwrap_err();
        assert!(e.to_string().contains("without offset"), "{e}");
    }
}

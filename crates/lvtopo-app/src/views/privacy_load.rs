//! The privacy hook of loading in the app: every measurement file read is tied
//! to a purpose (its sidecar `FILE.purpose.json`, else the purpose the user
//! chose in the load question, pre-set by file kind) and admitted through the
//! same admission as the CLI ([`admission::admit`], task [`Task::Load`]). A refused read is dropped
//! and its rule message goes to the import report; nothing of it is used.

use lvtopo_core::io::csvread::label;
use lvtopo_core::io::{ImportReport, Location};
use lvtopo_core::model::Measurements;
use lvtopo_core::privacy::admission::{self, ReadRecord, Request, Task};
use lvtopo_core::privacy::sidecar::sidecar_path;
use lvtopo_core::privacy::{DataKind, Period, PrivacyRead, PrivacyStore, Purpose};
use std::path::{Path, PathBuf};

/// What the user decided for the files of one load.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PrivacyChoices {
    /// Purpose per file (files with a sidecar may be absent: the sidecar states it).
    pub purposes: Vec<(PathBuf, Purpose)>,
    /// Consent to keep only the allowed part of a read that breaks a rule about what may be kept.
    pub consent_trim: bool,
    /// Why the read is needed (use cases 3 and 12).
    pub justification: Option<String>,
    /// Privacy folder; `None`: the default one (`$LVTOPO_PRIVACY_DIR`, user data folder).
    pub dir: Option<PathBuf>,
}

impl PrivacyChoices {
    fn purpose_of(&self, p: &Path) -> Option<Purpose> {
        self.purposes.iter().find(|(f, _)| f == p).map(|(_, x)| *x)
    }
}

/// The question asked before measurement files without a sidecar are read.
#[derive(Clone, Debug, PartialEq)]
pub struct PurposeQuestion {
    /// Every file of the load, with its kind and the purpose pre-selected.
    pub files: Vec<(PathBuf, DataKind, Purpose)>,
    /// Files that have a sidecar (read with the purpose stated there).
    pub with_sidecar: Vec<PathBuf>,
}

/// The meter data kind of a contract file (`incidents.csv` and `truth.csv` are no meter reads).
pub fn data_kind(p: &Path) -> Option<DataKind> {
    match super::super::loader::measurement_kind(p)? {
        "voltage" => Some(DataKind::Voltage),
        "feed_in" => Some(DataKind::FeedIn),
        "voltage_events" => Some(DataKind::EventCounters),
        "outage_log" => Some(DataKind::OutageLog),
        "voltage_presence" => Some(DataKind::VoltagePresence),
        _ => None,
    }
}

/// The purpose pre-selected for a file kind: what lvtopo mostly uses it for.
pub fn default_purpose(kind: DataKind) -> Purpose {
    match kind {
        DataKind::Voltage => Purpose::GisTopologyCorrection,
        DataKind::FeedIn => Purpose::PvRegistration,
        DataKind::VoltagePresence => Purpose::FaultLocalisation,
        DataKind::OutageLog => Purpose::Compensation,
        DataKind::EventCounters => Purpose::VoltageQualityEvents,
    }
}

/// The purposes that may use a kind of data at all.
pub fn purposes_for(kind: DataKind) -> Vec<Purpose> {
    Purpose::ALL.into_iter().filter(|p| p.limits().allowed.contains(&kind)).collect()
}

/// The question to ask before reading `paths`, or `None` when every meter
/// read has a sidecar (as the bundled samples do).
pub fn question_for(paths: &[PathBuf]) -> Option<PurposeQuestion> {
    let mut q = PurposeQuestion { files: Vec::new(), with_sidecar: Vec::new() };
    for p in paths {
        let Some(kind) = data_kind(p) else { continue };
        if sidecar_path(p).is_file() {
            q.with_sidecar.push(p.clone());
        } else {
            q.files.push((p.clone(), kind, default_purpose(kind)));
        }
    }
    (!q.files.is_empty()).then_some(q)
}

/// Admits every meter read of a load; refused reads are removed from `m`
/// (and reported), trimmed ones replaced. `outage_windows`: registered
/// incidents (use case 1 accepts presence answers only inside them).
pub fn admit_loaded(
    m: &mut Measurements,
    paths: &[PathBuf],
    choices: &PrivacyChoices,
    outage_windows: Vec<Period>,
    report: &mut ImportReport,
) -> Vec<ReadRecord> {
    let store = match PrivacyStore::open(choices.dir.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            // Without the privacy folder no read can be checked or logged: none is used.
            for p in paths.iter().filter(|p| data_kind(p).is_some()) {
                report.error(&label(p), Location::File, None, format!("not used: {e:#}"));
            }
            *m = Measurements { incidents: std::mem::take(&mut m.incidents), ..Default::default() };
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for p in paths {
        let Some(kind) = data_kind(p) else { continue };
        match kind {
            DataKind::Voltage => {
                if let Some(v) = m.voltage.take() {
                    let (d, r) = admit_one(&store, v, p, choices, &outage_windows, report);
                    m.voltage = d;
                    out.push(r);
                }
            }
            DataKind::FeedIn => {
                if let Some(v) = m.feed_in.take() {
                    let (d, r) = admit_one(&store, v, p, choices, &outage_windows, report);
                    m.feed_in = d;
                    out.push(r);
                }
            }
            DataKind::VoltagePresence => {
                let (d, r) = admit_one(&store, std::mem::take(&mut m.presence), p, choices, &outage_windows, report);
                m.presence = d.unwrap_or_default();
                out.push(r);
            }
            DataKind::OutageLog => {
                let (d, r) = admit_one(&store, std::mem::take(&mut m.outage_log), p, choices, &outage_windows, report);
                m.outage_log = d.unwrap_or_default();
                out.push(r);
            }
            DataKind::EventCounters => {
                let (d, r) = admit_one(&store, std::mem::take(&mut m.voltage_events), p, choices, &outage_windows, report);
                m.voltage_events = d.unwrap_or_default();
                out.push(r);
            }
        }
    }
    out
}

fn admit_one<T: PrivacyRead>(
    store: &PrivacyStore,
    data: T,
    path: &Path,
    choices: &PrivacyChoices,
    windows: &[Period],
    report: &mut ImportReport,
) -> (Option<T>, ReadRecord) {
    let req = Request {
        stated: choices.purpose_of(path),
        consent_trim: choices.consent_trim,
        outage_windows: windows.to_vec(),
        justification: choices.justification.clone(),
        ..Request::new(Task::Load, Some(path))
    };
    match admission::admit(store, data, &req) {
        Ok(a) => {
            if !a.record.message.is_empty() {
                report.warning(&label(path), Location::File, None, format!("privacy: {}", a.record.message));
            }
            (Some(a.data), a.record)
        }
        Err(r) => {
            let hint = if r.record.remediable && !choices.consent_trim {
                "; in the Privacy panel you can keep only the allowed part"
            } else {
                ""
            };
            report.error(&label(path), Location::File, None, format!("not used: {}{hint}", r.record.message));
            (None, r.record)
        }
    }
}

/// Registered incidents as outage windows.
pub fn incident_windows(m: &Measurements) -> Vec<Period> {
    m.incidents.iter().map(|i| Period::new(i.start, i.end.max(i.start))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_default_purpose_that_may_use_it() {
        for k in DataKind::ALL {
            assert!(purposes_for(k).contains(&default_purpose(k)), "{k}");
        }
        assert_eq!(data_kind(Path::new("x/voltage.csv.gz")), Some(DataKind::Voltage));
        assert_eq!(data_kind(Path::new("x/incidents.csv")), None);
    }

    #[test]
    fn the_bundled_samples_need_no_question() {
        for s in ["town", "street"] {
            let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("sample-networks").join(s);
            let files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
            assert_eq!(question_for(&files), None, "{s}");
            assert!(files.iter().any(|f| data_kind(f).is_some()));
        }
    }
}

//! Admission: the one answer to "may this read be used for this task?", asked
//! by the CLI and the app alike. A [`Task`] says which purposes it serves;
//! [`admit`] settles a read's purpose (stated, purpose file, or implied by the
//! task), runs it through the guard ([`PrivacyStore::admit`]: rules, ledger,
//! consent to trim, audit entry) and returns the data with a [`ReadRecord`]
//! the caller shows, or the refusal with the same record. [`permit_use`]
//! answers the same question for a read admitted earlier (the app loads once
//! and several panels use the read). Every export is recorded with
//! [`PrivacyStore::record_export`].

use super::audit::{AuditEvent, Decision};
use super::guard::{LoadRequest, as_refusal};
use super::reads::PrivacyRead;
use super::rules::{Approval, Period, ReadInfo, Refusal, check_before_after};
use super::sidecar::{PurposeFile, sidecar_path};
use super::{DataKind, PrivacyStore, Purpose};
use crate::model::time::Timestamp;
use std::fmt;
use std::path::{Path, PathBuf};

/// What a read is about to be used for. Each task serves a fixed set of purposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Task {
    /// Loading into the app: the purpose stated per file (purpose file or the load question); any approved one.
    Load,
    /// Use case 7: `analyze`, the topology inference.
    GisCorrection,
    /// Use case 2: event counters per connection and feeder.
    VoltageEvents,
    /// Use cases 3 and 12: a 10-day voltage (and feed-in) read.
    VoltageQuality,
    /// Use case 5: two voltage reads, before and after an intervention.
    BeforeAfter,
    /// Use case 6: PV found vs registered, and the letter lists.
    PvRegistration,
    /// Use cases 11, 13, 14: sums over areas of at least k connections.
    Aggregates,
    /// Use cases 4 and 9: the outage log for compensation and the interruption register.
    Outage,
    /// Use case 1: "voltage present?" answers inside an outage window.
    FaultLocalisation,
}

impl Task {
    /// The purposes this task serves (empty: any approved purpose).
    pub fn purposes(self) -> &'static [Purpose] {
        use Purpose::*;
        match self {
            Task::Load => &[],
            Task::GisCorrection => &[GisTopologyCorrection],
            Task::VoltageEvents => &[VoltageQualityEvents],
            Task::VoltageQuality => &[SeasonalVoltageAnalysis, UnsafeSituations],
            Task::BeforeAfter => &[InterventionEffect],
            Task::PvRegistration => &[PvRegistration],
            Task::Aggregates => &[LoadAggregates, EvChargingAggregates, ResearchAggregates],
            Task::Outage => &[Compensation, InterruptionRegister],
            Task::FaultLocalisation => &[FaultLocalisation],
        }
    }

    /// The purpose a read serves when nothing else states one: running a
    /// dedicated task (a CLI subcommand) is itself the statement. Loading
    /// states nothing: the user is asked.
    pub fn implied(self) -> Option<Purpose> {
        self.purposes().first().copied()
    }

    pub fn serves(self, p: Purpose) -> bool {
        self.purposes().is_empty() || self.purposes().contains(&p)
    }

    fn served_text(self) -> String {
        self.purposes().iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")
    }
}

/// One read to admit.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub task: Task,
    /// The file the data came from (purpose file, fingerprint, audit, later purge).
    pub source: Option<&'a Path>,
    /// The purpose the user stated (CLI flag, load question).
    pub stated: Option<Purpose>,
    /// The stated purpose is one statement for several inputs of different kinds
    /// (`lvtopo voltage`, `lvtopo outage`): it applies to the reads whose kind it
    /// may use; the others take their purpose file or the task's implied purpose.
    pub shared_statement: bool,
    /// A purpose file elsewhere than `<source>.purpose.json`.
    pub purpose_file: Option<&'a Path>,
    pub consent_trim: bool,
    /// Known outage windows (registered incidents, the meters' logs).
    pub outage_windows: Vec<Period>,
    pub justification: Option<String>,
}

impl<'a> Request<'a> {
    pub fn new(task: Task, source: Option<&'a Path>) -> Request<'a> {
        Request {
            task,
            source,
            stated: None,
            shared_statement: false,
            purpose_file: None,
            consent_trim: false,
            outage_windows: Vec::new(),
            justification: None,
        }
    }
}

/// The decision on one read, as the CLI prints it and the app lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadRecord {
    /// The source file (or the read's name when it came from memory).
    pub path: PathBuf,
    pub kind: DataKind,
    pub purpose: Option<Purpose>,
    pub decision: Decision,
    /// Refusal message (the rules), or the remedies applied.
    pub message: String,
    /// Refused, but keeping the allowed part (with consent) would be lawful.
    pub remediable: bool,
    /// Nothing stated a purpose: the task's own was taken.
    pub implied: bool,
    pub period: Option<Period>,
    pub connections: usize,
    pub at: Timestamp,
}

/// A read that may be used for the task.
#[derive(Debug)]
pub struct Admission<T> {
    pub data: T,
    pub approval: Approval,
    pub info: ReadInfo,
    pub record: ReadRecord,
}

/// A read that may not be used (already in the audit log), or the privacy folder failed.
#[derive(Debug)]
pub struct Refused {
    pub record: ReadRecord,
    pub error: anyhow::Error,
}

impl Refused {
    /// The rules broken, when the guard refused (rather than an I/O problem).
    pub fn refusal(&self) -> Option<&Refusal> {
        as_refusal(&self.error)
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for Refused {}

/// The purpose stated for this read: the statement, unless it is one
/// statement for several inputs and cannot use this kind of data; then the
/// purpose file decides, or, without one, the task's implied purpose.
fn stated_purpose(req: &Request, kind: DataKind) -> (Option<Purpose>, bool) {
    let stated = req.stated.filter(|p| !req.shared_statement || p.limits().allowed.contains(&kind));
    if stated.is_some() {
        return (stated, false);
    }
    let has_file = req.purpose_file.is_some() || req.source.is_some_and(|s| sidecar_path(s).is_file());
    match req.task.implied() {
        Some(p) if !has_file => (Some(p), true),
        _ => (None, false),
    }
}

fn label(req: &Request, kind: DataKind) -> String {
    req.source.map(|s| s.display().to_string()).unwrap_or_else(|| format!("{kind} read"))
}

/// Admits one read for `req.task`: the data to use (trimmed when the user
/// consented) or the refusal naming the rule. Either way the audit log has the decision.
pub fn admit<T: PrivacyRead>(store: &PrivacyStore, data: T, req: &Request) -> Result<Admission<T>, Refused> {
    let kind = data.kind();
    let (purpose, implied) = stated_purpose(req, kind);
    let before = data.read_info(&label(req, kind));
    let mut record = ReadRecord {
        path: req.source.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(label(req, kind))),
        kind,
        purpose: purpose.or_else(|| stated_in_file(req)),
        decision: Decision::Refused,
        message: String::new(),
        remediable: false,
        implied,
        period: before.period,
        connections: before.eans.len(),
        at: super::audit::now(),
    };
    let load = LoadRequest {
        source: req.source,
        purpose,
        purpose_file: req.purpose_file,
        accepted: req.task.purposes(),
        consent_trim: req.consent_trim,
        outage_windows: req.outage_windows.clone(),
        justification: req.justification.clone(),
    };
    match store.admit(data, &load) {
        Ok(a) => {
            record.decision = if a.approval.remedies_applied.is_empty() { Decision::Approved } else { Decision::Trimmed };
            record.message =
                a.approval.remedies_applied.iter().map(|r| format!("with your consent: {r}")).collect::<Vec<_>>().join("; ");
            record.period = a.info.period;
            record.connections = a.info.eans.len();
            Ok(Admission { data: a.data, approval: a.approval, info: a.info, record })
        }
        Err(error) => {
            record.remediable = as_refusal(&error).is_some_and(|r| r.remediable());
            record.message = format!("{error:#}");
            Err(Refused { record, error })
        }
    }
}

/// The purpose the read's purpose file states (for the record of a refusal).
fn stated_in_file(req: &Request) -> Option<Purpose> {
    let file = req.purpose_file.map(Path::to_path_buf).or_else(|| req.source.map(sidecar_path))?;
    PurposeFile::read(&file).ok().flatten()?.purpose
}

/// Use case 5 with two new reads: both admitted for the intervention, then the gap checked.
pub fn admit_before_after<T: PrivacyRead>(
    store: &PrivacyStore,
    before: T,
    after: T,
    req_before: &Request,
    req_after: &Request,
) -> Result<(Admission<T>, Admission<T>), Refused> {
    let b = admit(store, before, req_before)?;
    let a = admit(store, after, req_after)?;
    check_gap(store, &b.info, a).map(|a| (b, a))
}

/// Use case 5 where the first read was admitted earlier (the app's loaded
/// read): that read must have been admitted for the intervention too, the
/// second is admitted like any read, then the gap between them is checked.
pub fn admit_second_read<T: PrivacyRead>(
    store: &PrivacyStore,
    first: &T,
    first_record: &ReadRecord,
    second: T,
    req: &Request,
) -> Result<Admission<T>, Refused> {
    let task = req.task;
    if let Err(why) = permit_use(std::slice::from_ref(first_record), first.kind(), task) {
        let before = second.read_info(&label(req, second.kind()));
        let error = anyhow::anyhow!("{why}");
        let record = ReadRecord {
            path: req.source.map(Path::to_path_buf).unwrap_or_default(),
            kind: second.kind(),
            purpose: req.stated,
            decision: Decision::Refused,
            message: why,
            remediable: false,
            implied: false,
            period: before.period,
            connections: before.eans.len(),
            at: super::audit::now(),
        };
        return Err(Refused { record, error });
    }
    let a = admit(store, second, req)?;
    let first_info = first.read_info(&first_record.path.display().to_string());
    check_gap(store, &first_info, a)
}

fn check_gap<T>(store: &PrivacyStore, before: &ReadInfo, after: Admission<T>) -> Result<Admission<T>, Refused> {
    let Err(r) = check_before_after(before, &after.info) else { return Ok(after) };
    let mut record = after.record;
    record.decision = Decision::Refused;
    record.message = r.to_string();
    let logged = store.audit().and_then(|log| {
        log.append(AuditEvent::Load {
            file: r.violations[0].source.clone(),
            fingerprint: None,
            data_kind: before.kind,
            purpose: Some(Purpose::InterventionEffect),
            period: None,
            connections: before.eans.len().max(after.info.eans.len()),
            decision: Decision::Refused,
            rules: r.rules().iter().map(|x| x.code().to_string()).collect(),
            remedies: vec![],
            justification: None,
        })
    });
    let error = match logged {
        Ok(_) => anyhow::Error::from(r),
        Err(e) => e.context(r.to_string()),
    };
    Err(Refused { record, error })
}

/// May a read admitted earlier be used for `task`? The latest read of `kind`
/// that was not refused decides; its purpose must be one the task serves.
/// Returns that purpose, or the reason in words.
pub fn permit_use(records: &[ReadRecord], kind: DataKind, task: Task) -> Result<Purpose, String> {
    let read = records.iter().rev().find(|r| r.kind == kind && r.decision != Decision::Refused);
    match read.and_then(|r| r.purpose) {
        Some(p) if task.serves(p) => Ok(p),
        Some(p) => Err(format!(
            "the loaded {kind} read was admitted for {p}; this task serves {} only. Load it again with one of those purposes.",
            task.served_text()
        )),
        None => {
            Err(format!("no admitted {kind} read: load one through File > Open so it is admitted for {}", task.served_text()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(kind: DataKind, purpose: Option<Purpose>, decision: Decision) -> ReadRecord {
        ReadRecord {
            path: PathBuf::from("feed_in.csv"),
            kind,
            purpose,
            decision,
            message: String::new(),
            remediable: false,
            implied: false,
            period: None,
            connections: 20,
            at: 0,
        }
    }

    #[test]
    fn a_read_is_used_only_for_a_task_serving_its_purpose() {
        let pv = rec(DataKind::FeedIn, Some(Purpose::PvRegistration), Decision::Approved);
        assert!(permit_use(std::slice::from_ref(&pv), DataKind::FeedIn, Task::Aggregates).is_err());
        assert_eq!(permit_use(std::slice::from_ref(&pv), DataKind::FeedIn, Task::PvRegistration), Ok(Purpose::PvRegistration));
        let agg = rec(DataKind::FeedIn, Some(Purpose::LoadAggregates), Decision::Approved);
        assert!(permit_use(&[pv.clone(), agg], DataKind::FeedIn, Task::Aggregates).is_ok());
        let refused = rec(DataKind::FeedIn, Some(Purpose::LoadAggregates), Decision::Refused);
        assert!(permit_use(&[pv, refused], DataKind::FeedIn, Task::Aggregates).is_err(), "a refused read admits nothing");
        let volt = rec(DataKind::Voltage, Some(Purpose::LoadAggregates), Decision::Approved);
        assert!(permit_use(&[volt], DataKind::FeedIn, Task::Aggregates).is_err());
    }

    #[test]
    fn a_shared_statement_applies_only_to_reads_its_purpose_may_use() {
        let mut req = Request::new(Task::Outage, None);
        req.stated = Some(Purpose::FaultLocalisation);
        req.shared_statement = true;
        // The flag names the presence answers' purpose; the outage log takes the task's own.
        assert_eq!(stated_purpose(&req, DataKind::OutageLog), (Some(Purpose::Compensation), true));
        assert_eq!(stated_purpose(&req, DataKind::VoltagePresence), (Some(Purpose::FaultLocalisation), false));
        // A statement for one input is that input's purpose, even when the task does not serve it.
        req.shared_statement = false;
        assert_eq!(stated_purpose(&req, DataKind::OutageLog), (Some(Purpose::FaultLocalisation), false));
        // Loading implies nothing.
        assert_eq!(stated_purpose(&Request::new(Task::Load, None), DataKind::Voltage), (None, false));
    }
}

//! Checking one measurement read against the rules of its purpose.
//!
//! [`check_read`] holds the rules that need only the read itself (data kind,
//! length, outage window, justification); the rules about earlier reads of the
//! same connection live in [`super::ledger::ReadLedger::check`]. Both return
//! [`RuleViolation`]s that name the rule; where the rule is about what may be
//! *kept*, the violation carries a [`Remedy`] that may be applied with the
//! user's explicit consent.

use super::purpose::{DAY_S, DataKind, Purpose};
use crate::model::time::{Timestamp, format_amsterdam};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A stretch of time, `start` inclusive to `end` exclusive (UTC seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Period {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Period {
    pub fn new(start: Timestamp, end: Timestamp) -> Period {
        Period { start, end }
    }
    pub fn duration_s(&self) -> i64 {
        self.end - self.start
    }
    pub fn days(&self) -> f64 {
        self.duration_s() as f64 / DAY_S as f64
    }
    pub fn contains(&self, t: Timestamp) -> bool {
        t >= self.start && t <= self.end
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {} ({:.1} days)", format_amsterdam(self.start), format_amsterdam(self.end), self.days())
    }
}

/// Answers may come in shortly before a registered outage start (the first
/// customer calls) and shortly after its end (confirming restoration).
pub const OUTAGE_WINDOW_MARGIN_S: i64 = 3600;

/// What the rules need to know about a read; no measured value is in here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadInfo {
    pub kind: Option<DataKind>,
    /// File name (for messages and the audit log).
    pub source: String,
    /// SHA-256 of the source file, when read from one.
    pub fingerprint: Option<String>,
    /// Time covered by the read (first interval start to last interval end).
    pub period: Option<Period>,
    /// Connections in the read, sorted, unique.
    pub eans: Vec<String>,
    /// Moment of each single answer (voltage presence), for the outage-window rule.
    pub answer_times: Vec<Timestamp>,
    /// Why this read is needed (use cases 3 and 12 ask for a reason).
    pub justification: Option<String>,
    /// (Suspected) outage windows the presence answers must fall in.
    pub outage_windows: Vec<Period>,
}

impl ReadInfo {
    pub fn connection_count(&self) -> usize {
        self.eans.len()
    }
    pub fn with_justification(mut self, j: Option<String>) -> Self {
        self.justification = j.filter(|s| !s.trim().is_empty());
        self
    }
    pub fn with_outage_windows(mut self, w: Vec<Period>) -> Self {
        self.outage_windows = w;
        self
    }
    pub fn with_fingerprint(mut self, f: Option<String>) -> Self {
        self.fingerprint = f;
        self
    }
    /// Answers that fall in no outage window (with the margin).
    pub fn answers_outside_windows(&self) -> usize {
        self.answer_times.iter().filter(|&&t| !in_any_window(&self.outage_windows, t)).count()
    }
}

pub fn in_any_window(windows: &[Period], t: Timestamp) -> bool {
    windows.iter().any(|w| t >= w.start - OUTAGE_WINDOW_MARGIN_S && t <= w.end + OUTAGE_WINDOW_MARGIN_S)
}

/// Names of the rules, stable for the audit log and for tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    /// The read's purpose is not one the current task serves.
    PurposeNotServed,
    /// No purpose was stated for the read.
    NoPurpose,
    /// The purpose may not use this kind of data.
    DataKindNotAllowed,
    /// The read is longer than the purpose allows.
    MaxPeriod,
    /// The connection was already read for this purpose within 365 days.
    OncePerYear,
    /// Feed-in for PV detection: once per season, at most 4 times a year.
    OncePerSeason,
    /// Voltage presence only during a (suspected) outage.
    OutageWindowOnly,
    /// The purpose needs a stated reason.
    JustificationRequired,
    /// Before/after reads at least one day apart, before first.
    BeforeAfterGap,
}

impl RuleId {
    pub fn code(self) -> &'static str {
        match self {
            RuleId::PurposeNotServed => "purpose-not-served",
            RuleId::NoPurpose => "no-purpose",
            RuleId::DataKindNotAllowed => "data-kind-not-allowed",
            RuleId::MaxPeriod => "max-period",
            RuleId::OncePerYear => "once-per-year",
            RuleId::OncePerSeason => "once-per-season",
            RuleId::OutageWindowOnly => "outage-window-only",
            RuleId::JustificationRequired => "justification-required",
            RuleId::BeforeAfterGap => "before-after-gap",
        }
    }
}

/// What may be done, with the user's consent, so a read keeps only what its purpose allows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Remedy {
    /// Keep only this part of the read.
    TrimToPeriod { keep: Period },
    /// Drop these connections from the read (they were read too often).
    ExcludeConnections { eans: Vec<String> },
    /// Drop the presence answers outside every outage window.
    DropAnswersOutsideOutageWindows { windows: Vec<Period> },
}

impl fmt::Display for Remedy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Remedy::TrimToPeriod { keep } => write!(f, "keep only {keep}"),
            Remedy::ExcludeConnections { eans } => write!(f, "drop {} connection(s) from the read", eans.len()),
            Remedy::DropAnswersOutsideOutageWindows { windows } => {
                write!(f, "drop the answers outside the {} outage window(s)", windows.len())
            }
        }
    }
}

/// One rule a read breaks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleViolation {
    pub rule: RuleId,
    pub purpose: Option<Purpose>,
    pub source: String,
    /// What is wrong, with the numbers.
    pub message: String,
    /// What may be done with consent; `None`: the read must be refused.
    pub remedy: Option<Remedy>,
}

impl fmt::Display for RuleViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: rule {}", self.source, self.rule.code())?;
        if let Some(p) = self.purpose {
            write!(f, " of {p} ({})", p.rule_text())?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(r) = &self.remedy {
            write!(f, " [with consent: {r}]")?;
        }
        Ok(())
    }
}

/// A read that may not be used as it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    pub violations: Vec<RuleViolation>,
}

impl Refusal {
    /// Every violation has a remedy: with consent, the read can be kept in part.
    pub fn remediable(&self) -> bool {
        !self.violations.is_empty() && self.violations.iter().all(|v| v.remedy.is_some())
    }
    pub fn remedies(&self) -> Vec<Remedy> {
        self.violations.iter().filter_map(|v| v.remedy.clone()).collect()
    }
    pub fn rules(&self) -> Vec<RuleId> {
        self.violations.iter().map(|v| v.rule).collect()
    }
    pub fn has(&self, rule: RuleId) -> bool {
        self.violations.iter().any(|v| v.rule == rule)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "read refused by the privacy rules:")?;
        for v in &self.violations {
            write!(f, "\n  - {v}")?;
        }
        if self.remediable() {
            write!(f, "\n  The read can be kept in part with your explicit consent (this is logged).")?;
        }
        Ok(())
    }
}

impl std::error::Error for Refusal {}

/// A read that may be used, and what was done to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub purpose: Purpose,
    pub source: String,
    /// Rules that were checked and hold.
    pub rules_checked: Vec<RuleId>,
    /// Remedies applied with the user's consent.
    pub remedies_applied: Vec<Remedy>,
    /// Remarks that do not block (e.g. counters read more often than quarterly).
    pub notes: Vec<String>,
}

fn violation(rule: RuleId, purpose: Purpose, info: &ReadInfo, message: String, remedy: Option<Remedy>) -> RuleViolation {
    RuleViolation { rule, purpose: Some(purpose), source: info.source.clone(), message, remedy }
}

/// The rules that need only the read itself. History rules (once per year,
/// once per season) are checked by the read ledger.
pub fn check_read(purpose: Purpose, info: &ReadInfo) -> Result<Approval, Refusal> {
    let limits = purpose.limits();
    let mut violations = Vec::new();
    let mut checked = Vec::new();

    checked.push(RuleId::DataKindNotAllowed);
    match info.kind {
        Some(kind) if !limits.allowed.contains(&kind) => {
            let allowed = limits.allowed.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ");
            violations.push(violation(
                RuleId::DataKindNotAllowed,
                purpose,
                info,
                format!("{kind} data may not be used for this purpose (it may use: {allowed})"),
                None,
            ));
            // Nothing else is worth checking on data that may not be used at all.
            return Err(Refusal { violations });
        }
        _ => {}
    }

    if let (Some(max), Some(p)) = (limits.max_period_s, info.period) {
        checked.push(RuleId::MaxPeriod);
        if p.duration_s() > max {
            let keep = Period::new(p.end - max, p.end);
            violations.push(violation(
                RuleId::MaxPeriod,
                purpose,
                info,
                format!("the read covers {p}, longer than the {} days allowed", max / DAY_S),
                Some(Remedy::TrimToPeriod { keep }),
            ));
        }
    }

    if limits.outage_window_only {
        checked.push(RuleId::OutageWindowOnly);
        if info.outage_windows.is_empty() {
            violations.push(violation(
                RuleId::OutageWindowOnly,
                purpose,
                info,
                "no (suspected) outage window is known: voltage presence may only be asked during an outage; give the incident or the window"
                    .into(),
                None,
            ));
        } else {
            let outside = info.answers_outside_windows();
            if outside > 0 {
                let all = outside == info.answer_times.len();
                violations.push(violation(
                    RuleId::OutageWindowOnly,
                    purpose,
                    info,
                    format!(
                        "{outside} of {} answer(s) lie outside every (suspected) outage window (margin {} min)",
                        info.answer_times.len(),
                        OUTAGE_WINDOW_MARGIN_S / 60
                    ),
                    (!all).then(|| Remedy::DropAnswersOutsideOutageWindows { windows: info.outage_windows.clone() }),
                ));
            }
        }
    }

    if limits.needs_justification {
        checked.push(RuleId::JustificationRequired);
        if info.justification.as_deref().is_none_or(|j| j.trim().is_empty()) {
            let why = match purpose {
                Purpose::UnsafeSituations => {
                    "individual connections may only be read after station and cable measurements gave reason: state that finding"
                }
                _ => "this read is only allowed where the event counters are high: state the reason (e.g. the counts seen)",
            };
            violations.push(violation(RuleId::JustificationRequired, purpose, info, why.into(), None));
        }
    }

    if violations.is_empty() {
        Ok(Approval { purpose, source: info.source.clone(), rules_checked: checked, remedies_applied: vec![], notes: vec![] })
    } else {
        Err(Refusal { violations })
    }
}

/// Use case 5: two reads of at most 10 days each, the second starting at
/// least one day after the first ends (time for the intervention).
pub fn check_before_after(before: &ReadInfo, after: &ReadInfo) -> Result<Approval, Refusal> {
    let purpose = Purpose::InterventionEffect;
    let mut violations = Vec::new();
    for info in [before, after] {
        if let Err(r) = check_read(purpose, info) {
            violations.extend(r.violations);
        }
    }
    if let (Some(b), Some(a)) = (before.period, after.period) {
        let gap = a.start - b.end;
        if gap < DAY_S {
            let msg = if a.start < b.start {
                format!("the 'after' read ({a}) starts before the 'before' read ({b})")
            } else {
                format!(
                    "only {:.1} h between the end of the 'before' read and the start of the 'after' read; at least 1 day is required",
                    gap as f64 / 3600.0
                )
            };
            violations.push(RuleViolation {
                rule: RuleId::BeforeAfterGap,
                purpose: Some(purpose),
                source: format!("{} / {}", before.source, after.source),
                message: msg,
                remedy: None,
            });
        }
    }
    if violations.is_empty() {
        Ok(Approval {
            purpose,
            source: format!("{} / {}", before.source, after.source),
            rules_checked: vec![RuleId::DataKindNotAllowed, RuleId::MaxPeriod, RuleId::BeforeAfterGap],
            remedies_applied: vec![],
            notes: vec![],
        })
    } else {
        Err(Refusal { violations })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voltage_info(days: i64) -> ReadInfo {
        ReadInfo {
            kind: Some(DataKind::Voltage),
            source: "voltage.csv".into(),
            period: Some(Period::new(1_700_000_000, 1_700_000_000 + days * DAY_S)),
            eans: vec!["871000000000000001".into()],
            ..Default::default()
        }
    }

    #[test]
    fn twelve_days_refused_for_gis_with_a_trim_to_the_last_ten() {
        let r = check_read(Purpose::GisTopologyCorrection, &voltage_info(12)).unwrap_err();
        assert!(r.has(RuleId::MaxPeriod));
        assert!(r.to_string().contains("max-period"), "{r}");
        assert!(r.to_string().contains("12.0 days"), "{r}");
        let Some(Remedy::TrimToPeriod { keep }) = &r.violations[0].remedy else { panic!() };
        assert_eq!(keep.duration_s(), 10 * DAY_S);
        assert!(check_read(Purpose::GisTopologyCorrection, &voltage_info(10)).is_ok());
    }

    #[test]
    fn voltage_refused_for_fault_localisation_and_compensation() {
        for p in [Purpose::FaultLocalisation, Purpose::Compensation, Purpose::PvRegistration] {
            let r = check_read(p, &voltage_info(1)).unwrap_err();
            assert_eq!(r.rules(), vec![RuleId::DataKindNotAllowed]);
            assert!(!r.remediable());
        }
    }

    #[test]
    fn unsafe_situations_need_a_reason() {
        let r = check_read(Purpose::UnsafeSituations, &voltage_info(3)).unwrap_err();
        assert!(r.has(RuleId::JustificationRequired));
        let ok = voltage_info(3).with_justification(Some("station neutral current high, cable K12 confirmed".into()));
        assert!(check_read(Purpose::UnsafeSituations, &ok).is_ok());
    }

    #[test]
    fn presence_outside_outage_window_refused() {
        let w = Period::new(10_000, 20_000);
        let info = ReadInfo {
            kind: Some(DataKind::VoltagePresence),
            source: "voltage_presence.csv".into(),
            answer_times: vec![15_000, 15_100, 100_000],
            outage_windows: vec![w],
            ..Default::default()
        };
        let r = check_read(Purpose::FaultLocalisation, &info).unwrap_err();
        assert!(r.has(RuleId::OutageWindowOnly));
        assert!(r.remediable(), "some answers are inside: the outside ones can be dropped");
        let none = ReadInfo { outage_windows: vec![], ..info.clone() };
        assert!(!check_read(Purpose::FaultLocalisation, &none).unwrap_err().remediable());
        let inside = ReadInfo { answer_times: vec![15_000, 20_000 + 1800], ..info };
        assert!(check_read(Purpose::FaultLocalisation, &inside).is_ok());
    }

    #[test]
    fn before_after_needs_a_day_between() {
        let b = voltage_info(7);
        let mut a = voltage_info(7);
        let end_b = b.period.unwrap().end;
        a.period = Some(Period::new(end_b + 3600, end_b + 3600 + 7 * DAY_S));
        assert!(check_before_after(&b, &a).unwrap_err().has(RuleId::BeforeAfterGap));
        a.period = Some(Period::new(end_b + DAY_S, end_b + 8 * DAY_S));
        assert!(check_before_after(&b, &a).is_ok());
        a.period = Some(Period::new(end_b + DAY_S, end_b + 12 * DAY_S));
        assert!(check_before_after(&b, &a).unwrap_err().has(RuleId::MaxPeriod));
    }
}

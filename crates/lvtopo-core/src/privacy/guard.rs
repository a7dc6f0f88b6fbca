//! The one call a loader makes before it uses a measurement read:
//! [`PrivacyStore::admit`]. It settles the purpose (flag or sidecar), checks
//! the read against the purpose's rules and the read ledger, applies the
//! remedies the user consented to, records the read in the ledger and writes
//! the audit entry, approved, trimmed or refused.

use super::audit::{AuditEvent, Decision};
use super::fsutil::fingerprint_file;
use super::ledger::ReadLedger;
use super::purpose::Purpose;
use super::reads::PrivacyRead;
use super::rules::{Approval, Period, ReadInfo, Refusal, RuleId, RuleViolation, check_read};
use super::sidecar::{PurposeFile, sidecar_path};
use super::{PrivacyStore, absolute};
use std::path::Path;

/// What the loader knows besides the data.
#[derive(Clone, Debug, Default)]
pub struct LoadRequest<'a> {
    /// The file the data came from (for the sidecar, the fingerprint, the audit and a later purge).
    pub source: Option<&'a Path>,
    /// Purpose chosen by the user (CLI flag, load dialog); must agree with a sidecar.
    pub purpose: Option<Purpose>,
    /// A sidecar elsewhere than `<source>.purpose.json`.
    pub purpose_file: Option<&'a Path>,
    /// Purposes the task at hand serves (empty: any).
    pub accepted: &'a [Purpose],
    /// The user agreed to keep only the allowed part of a read that breaks a rule about what may be kept.
    pub consent_trim: bool,
    /// Outage windows known to the loader (e.g. registered incidents).
    pub outage_windows: Vec<Period>,
    pub justification: Option<String>,
}

/// A read that may be used: the data (trimmed if the user consented) and why.
#[derive(Debug)]
pub struct Admitted<T> {
    pub data: T,
    pub approval: Approval,
    pub info: ReadInfo,
}

fn refusal(rule: RuleId, purpose: Option<Purpose>, source: &str, message: String) -> Refusal {
    Refusal { violations: vec![RuleViolation { rule, purpose, source: source.to_string(), message, remedy: None }] }
}

impl PrivacyStore {
    /// Checks a read and records the decision. The error is a [`Refusal`]
    /// (downcast it to show the rules) or an I/O problem.
    pub fn admit<T: PrivacyRead>(&self, data: T, req: &LoadRequest) -> anyhow::Result<Admitted<T>> {
        let name = req.source.map(|s| s.display().to_string()).unwrap_or_else(|| format!("{} read", data.kind()));
        let sidecar = match (req.purpose_file, req.source) {
            (Some(p), _) => Some(PurposeFile::read(p)?.ok_or_else(|| anyhow::anyhow!("purpose file {} not found", p.display()))?),
            (None, Some(s)) => PurposeFile::read(&sidecar_path(s))?,
            (None, None) => None,
        };
        let side_purpose = sidecar.as_ref().and_then(|s| s.purpose);
        let audit = self.audit()?;
        let mut info = data.read_info(&name);
        info.fingerprint = match req.source {
            Some(s) if s.is_file() => Some(fingerprint_file(s)?),
            _ => None,
        };
        info.justification = req
            .justification
            .clone()
            .or_else(|| sidecar.as_ref().and_then(|s| s.justification.clone()))
            .filter(|j| !j.trim().is_empty());
        info.outage_windows = req.outage_windows.clone();
        info.outage_windows.extend(sidecar.iter().flat_map(|s| s.outage_windows.iter().copied()));

        let record =
            |purpose: Option<Purpose>, info: &ReadInfo, decision: Decision, refusal: Option<&Refusal>, a: Option<&Approval>| {
                audit.append(AuditEvent::Load {
                    file: req.source.map(|s| absolute(s).display().to_string()).unwrap_or_else(|| name.clone()),
                    fingerprint: info.fingerprint.clone(),
                    data_kind: info.kind,
                    purpose,
                    period: info.period,
                    connections: info.eans.len(),
                    decision,
                    rules: refusal.map(|r| r.rules()).unwrap_or_default().iter().map(|r| r.code().to_string()).collect(),
                    remedies: a.map(|a| a.remedies_applied.clone()).unwrap_or_default(),
                    justification: info.justification.clone(),
                })
            };

        let purpose = match (req.purpose, side_purpose) {
            (Some(a), Some(b)) if a != b => {
                let r = refusal(
                    RuleId::NoPurpose,
                    Some(a),
                    &name,
                    format!(
                        "the purpose given ({a}) differs from the one stated in the purpose file ({b}); a read has one purpose"
                    ),
                );
                record(Some(a), &info, Decision::Refused, Some(&r), None)?;
                return Err(r.into());
            }
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => {
                let r = refusal(
                    RuleId::NoPurpose,
                    None,
                    &name,
                    format!(
                        "no purpose stated: every meter read must serve an approved use case; choose one ({}) or add {}",
                        Purpose::choices(),
                        req.source.map(|s| sidecar_path(s).display().to_string()).unwrap_or_else(|| "a purpose file".into())
                    ),
                );
                record(None, &info, Decision::Refused, Some(&r), None)?;
                return Err(r.into());
            }
        };
        if !req.accepted.is_empty() && !req.accepted.contains(&purpose) {
            let served: Vec<String> = req.accepted.iter().map(|p| p.to_string()).collect();
            let r = refusal(
                RuleId::PurposeNotServed,
                Some(purpose),
                &name,
                format!("this read was made for {purpose}; this task serves {} only", served.join(", ")),
            );
            record(Some(purpose), &info, Decision::Refused, Some(&r), None)?;
            return Err(r.into());
        }

        let mut ledger = self.ledger()?;
        fn check(ledger: &ReadLedger, purpose: Purpose, info: &ReadInfo) -> Result<Approval, Refusal> {
            let mut violations = match check_read(purpose, info) {
                Ok(_) => vec![],
                Err(r) => r.violations,
            };
            violations.extend(ledger.check(purpose, info));
            if violations.is_empty() { check_read(purpose, info) } else { Err(Refusal { violations }) }
        }
        match check(&ledger, purpose, &info) {
            Ok(approval) => {
                ledger.record(purpose, &info, super::audit::now())?;
                record(Some(purpose), &info, Decision::Approved, None, Some(&approval))?;
                Ok(Admitted { data, approval, info })
            }
            Err(r) if r.remediable() && req.consent_trim => {
                let mut data = data;
                // Trim first, so the connections dropped are judged on what is kept.
                let mut remedies = r.remedies();
                remedies.sort_by_key(|m| !matches!(m, super::rules::Remedy::TrimToPeriod { .. }));
                for m in &remedies {
                    data = data.apply(m);
                }
                let mut trimmed = data.read_info(&name);
                trimmed.fingerprint = info.fingerprint.clone();
                trimmed.justification = info.justification.clone();
                trimmed.outage_windows = info.outage_windows.clone();
                match check(&ledger, purpose, &trimmed) {
                    Ok(mut approval) => {
                        approval.remedies_applied = remedies;
                        ledger.record(purpose, &trimmed, super::audit::now())?;
                        record(Some(purpose), &trimmed, Decision::Trimmed, Some(&r), Some(&approval))?;
                        Ok(Admitted { data, approval, info: trimmed })
                    }
                    Err(r2) => {
                        record(Some(purpose), &info, Decision::Refused, Some(&r2), None)?;
                        Err(r2.into())
                    }
                }
            }
            Err(r) => {
                record(Some(purpose), &info, Decision::Refused, Some(&r), None)?;
                Err(r.into())
            }
        }
    }
}

/// The refusal inside an error from [`PrivacyStore::admit`], if that is what it is.
pub fn as_refusal(e: &anyhow::Error) -> Option<&Refusal> {
    e.downcast_ref::<Refusal>()
}

//! From the meters' power-failure logs to interruptions per connection, and
//! from those to incidents: each merged interruption is assigned to the
//! registered incident it falls in, and interruptions no registration explains
//! are grouped by their start into incidents of their own.
//!
//! All times are UTC seconds, so an interruption across midnight or across a
//! daylight-saving change needs no special care; only display is Dutch time.

use crate::model::time::{Timestamp, to_amsterdam};
use crate::model::{Incident, OutageRecord};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Two log entries of one meter separated by at most this are one interruption:
/// a DSMR meter only logs failures longer than 3 minutes as "long", so a
/// restoration shorter than that (a re-energising attempt while switching) is
/// not a real return of supply for the customer.
pub const MERGE_GAP_S: i64 = 180;
/// A registration starts when the first call comes in, so meters may have gone
/// off up to this long before the registered start.
pub const REGISTRATION_LEAD_S: i64 = 3600;
/// Unregistered interruptions whose starts follow each other within this form one incident.
pub const CLUSTER_GAP_S: i64 = 15 * 60;

/// A continuous interruption of one meter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Interval {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Interval {
    pub fn duration_s(&self) -> i64 {
        self.end - self.start
    }
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }
}

/// The merged log, per EAN, with what had to be left out.
#[derive(Clone, Debug, Default)]
pub struct MergedLog {
    pub by_ean: BTreeMap<String, Vec<Interval>>,
    /// Entries whose end is before their start (left out, reported).
    pub inverted: Vec<OutageRecord>,
    /// Entries merged into another (overlapping, adjacent or duplicate).
    pub merged_entries: usize,
}

/// Sorts each meter's entries and merges overlapping, duplicate and adjacent
/// ones (gap up to `gap_s`).
pub fn merge_log(records: &[OutageRecord], gap_s: i64) -> MergedLog {
    let mut out = MergedLog::default();
    let mut raw: BTreeMap<&str, Vec<Interval>> = BTreeMap::new();
    for r in records {
        if r.end < r.start {
            out.inverted.push(r.clone());
            continue;
        }
        raw.entry(r.ean.as_str()).or_default().push(Interval { start: r.start, end: r.end });
    }
    for (ean, mut v) in raw {
        v.sort();
        let mut merged: Vec<Interval> = Vec::with_capacity(v.len());
        for iv in v {
            match merged.last_mut() {
                Some(last) if iv.start <= last.end + gap_s => {
                    last.end = last.end.max(iv.end);
                    out.merged_entries += 1;
                }
                _ => merged.push(iv),
            }
        }
        out.by_ean.insert(ean.to_string(), merged);
    }
    out
}

/// Interruptions of one incident, before any topology is looked at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentGroup {
    pub id: String,
    /// The operator's registration; `None` for an incident found in the logs only.
    pub registered: Option<Incident>,
    /// Per EAN, the merged interruptions that belong to this incident.
    pub by_ean: BTreeMap<String, Vec<Interval>>,
}

impl IncidentGroup {
    pub fn planned(&self) -> bool {
        self.registered.as_ref().is_some_and(|r| r.planned)
    }
    /// First meter off.
    pub fn first_off(&self) -> Option<Timestamp> {
        self.by_ean.values().flatten().map(|i| i.start).min()
    }
    /// Last meter back.
    pub fn last_on(&self) -> Option<Timestamp> {
        self.by_ean.values().flatten().map(|i| i.end).max()
    }
    /// Window to look in: from the first meter off (or the registered start) to
    /// the last meter back (or the registered end).
    pub fn window(&self) -> Option<Interval> {
        let r = self.registered.as_ref();
        let start = [self.first_off(), r.map(|r| r.start)].into_iter().flatten().min()?;
        let end = [self.last_on(), r.map(|r| r.end)].into_iter().flatten().max()?;
        Some(Interval { start, end })
    }
}

/// Assigns each merged interruption to a registered incident (its start lies
/// between [`REGISTRATION_LEAD_S`] before the registered start and the registered
/// end; the nearest registered start wins), and groups the rest by start time
/// into incidents named `LOG-<local start>`.
pub fn group_incidents(log: &MergedLog, incidents: &[Incident]) -> Vec<IncidentGroup> {
    let mut groups: Vec<IncidentGroup> = incidents
        .iter()
        .map(|i| IncidentGroup { id: i.id.clone(), registered: Some(i.clone()), by_ean: BTreeMap::new() })
        .collect();
    let mut loose: Vec<(Timestamp, &str, Interval)> = Vec::new();
    for (ean, ivs) in &log.by_ean {
        for iv in ivs {
            let best = incidents
                .iter()
                .enumerate()
                .filter(|(_, inc)| iv.start >= inc.start - REGISTRATION_LEAD_S && iv.start <= inc.end.max(inc.start))
                .min_by_key(|(k, inc)| ((iv.start - inc.start).abs(), *k));
            match best {
                Some((k, _)) => groups[k].by_ean.entry(ean.clone()).or_default().push(*iv),
                None => loose.push((iv.start, ean.as_str(), *iv)),
            }
        }
    }
    loose.sort();
    let mut prev: Option<Timestamp> = None;
    let mut derived: Vec<IncidentGroup> = Vec::new();
    for (start, ean, iv) in loose {
        if prev.is_none_or(|p| start - p > CLUSTER_GAP_S) {
            let local = to_amsterdam(start).format("%Y%m%d-%H%M").to_string();
            let mut id = format!("LOG-{local}");
            let n = derived.iter().filter(|g| g.id.starts_with(&id)).count();
            if n > 0 {
                id.push_str(&format!("-{}", n + 1));
            }
            derived.push(IncidentGroup { id, registered: None, by_ean: BTreeMap::new() });
        }
        prev = Some(start);
        derived.last_mut().expect("pushed above").by_ean.entry(ean.to_string()).or_default().push(iv);
    }
    groups.extend(derived);
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::{format_amsterdam, parse_timestamp};

    fn t(s: &str) -> Timestamp {
        parse_timestamp(s).unwrap()
    }
    fn rec(ean: &str, a: &str, b: &str) -> OutageRecord {
        OutageRecord { ean: ean.into(), start: t(a), end: t(b) }
    }

    #[test]
    fn merges_overlapping_adjacent_and_duplicate_entries() {
        let log = merge_log(
            &[
                rec("a", "2025-01-10T10:00:00Z", "2025-01-10T11:00:00Z"),
                rec("a", "2025-01-10T10:30:00Z", "2025-01-10T12:00:00Z"), // overlaps
                rec("a", "2025-01-10T12:02:00Z", "2025-01-10T13:00:00Z"), // 2 min gap: same interruption
                rec("a", "2025-01-10T12:02:00Z", "2025-01-10T13:00:00Z"), // duplicate
                rec("a", "2025-01-10T14:00:00Z", "2025-01-10T14:30:00Z"), // separate
                rec("b", "2025-01-10T10:00:00Z", "2025-01-10T09:00:00Z"), // inverted
            ],
            MERGE_GAP_S,
        );
        let a = &log.by_ean["a"];
        assert_eq!(a.len(), 2);
        assert_eq!(a[0], Interval { start: t("2025-01-10T10:00:00Z"), end: t("2025-01-10T13:00:00Z") });
        assert_eq!(log.merged_entries, 3);
        assert_eq!(log.inverted.len(), 1);
        assert!(!log.by_ean.contains_key("b"));
    }

    #[test]
    fn outage_across_midnight_and_dst_change_keeps_its_real_length() {
        // 26 Oct 2025: clocks go back at 03:00 CEST -> 02:00 CET. 23:30 CEST to 02:30 CET is 4 h.
        let log = merge_log(&[rec("a", "2025-10-25T23:30:00+02:00", "2025-10-26T02:30:00+01:00")], MERGE_GAP_S);
        let iv = log.by_ean["a"][0];
        assert_eq!(iv.duration_s(), 4 * 3600);
        assert_eq!(format_amsterdam(iv.start), "2025-10-25T23:30:00+02:00");
        assert_eq!(format_amsterdam(iv.end), "2025-10-26T02:30:00+01:00");
        // Spring forward: 01:00 CET to 04:00 CEST is 2 h.
        let log = merge_log(&[rec("a", "2025-03-30T01:00:00+01:00", "2025-03-30T04:00:00+02:00")], MERGE_GAP_S);
        assert_eq!(log.by_ean["a"][0].duration_s(), 2 * 3600);
    }

    #[test]
    fn interruptions_go_to_their_incident_or_form_a_new_one() {
        let inc = Incident {
            id: "INC-1".into(),
            start: t("2025-01-10T10:10:00Z"),
            end: t("2025-01-10T14:00:00Z"),
            planned: false,
            cable_ids: vec![],
        };
        let log = merge_log(
            &[
                rec("a", "2025-01-10T10:00:00Z", "2025-01-10T14:00:00Z"),
                rec("b", "2025-01-10T10:01:00Z", "2025-01-10T18:00:00Z"),
                rec("c", "2025-01-12T08:00:00Z", "2025-01-12T08:40:00Z"),
                rec("d", "2025-01-12T08:05:00Z", "2025-01-12T08:40:00Z"),
                rec("e", "2025-01-13T08:05:00Z", "2025-01-13T08:40:00Z"),
            ],
            MERGE_GAP_S,
        );
        let g = group_incidents(&log, &[inc]);
        assert_eq!(g.len(), 3);
        assert_eq!(g[0].by_ean.len(), 2);
        assert_eq!(g[1].id, "LOG-20250112-0900");
        assert_eq!(g[1].by_ean.len(), 2);
        assert_eq!(g[2].by_ean.len(), 1);
        assert_eq!(g[0].last_on(), Some(t("2025-01-10T18:00:00Z")));
    }
}

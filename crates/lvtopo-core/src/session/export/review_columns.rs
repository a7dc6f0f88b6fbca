//! What the review did to each exported connection, as attribute columns.
//!
//! The corrected network alone does not say which features changed, from what,
//! by whom or how sure the inference was. Every exported connection therefore
//! carries `lvtopo_*` columns, added as extra attributes so that every network
//! writer (GeoPackage, GeoJSON) writes them as it writes any other attribute:
//!
//! | column | what |
//! |---|---|
//! | `lvtopo_status` | `unchanged`, `changed` (a registered value was replaced) or `filled_in` (only empty values were set) |
//! | `lvtopo_changed` | the corrected fields, comma-separated (`phase,cable`) |
//! | `lvtopo_old_phase`, `lvtopo_old_rotation`, `lvtopo_old_feeder_id`, `lvtopo_old_cable_id`, `lvtopo_old_station_id` | the registered value of each changed field (empty when unchanged) |
//! | `lvtopo_confidence` | the lowest confidence of the accepted suggestions behind the change (empty for manual edits) |
//! | `lvtopo_decision` | `accepted`, `edited`, `manual` (the latest decision behind the change) |
//! | `lvtopo_reviewer`, `lvtopo_reviewed_at` | who made the latest decision and when (ISO 8601 with offset) |

use crate::model::{Connection, Network};
use crate::session::review::ReviewSession;
use crate::session::suggestion::{DecisionKind, Field, FieldValue, gis_value};
use chrono::{DateTime, FixedOffset};
use serde_json::Value;

/// Every column this module adds, in order (for documentation and tests).
pub const COLUMNS: [&str; 11] = [
    "lvtopo_status",
    "lvtopo_changed",
    "lvtopo_old_phase",
    "lvtopo_old_rotation",
    "lvtopo_old_feeder_id",
    "lvtopo_old_cable_id",
    "lvtopo_old_station_id",
    "lvtopo_confidence",
    "lvtopo_decision",
    "lvtopo_reviewer",
    "lvtopo_reviewed_at",
];

/// What an exported connection's review says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewStatus {
    Unchanged,
    /// A registered value was replaced.
    Changed,
    /// Only values that were empty in GIS were set.
    FilledIn,
}

impl ReviewStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Unchanged => "unchanged",
            ReviewStatus::Changed => "changed",
            ReviewStatus::FilledIn => "filled_in",
        }
    }
}

/// How to export the corrected network.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportOptions {
    /// Write only the connections the review changed or filled in (stations and cables stay whole).
    pub only_changed: bool,
}

/// The counts of one export: the same numbers go to the status line, the
/// summary dialog and the audit log, so they cannot disagree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportCounts {
    /// Connection features written.
    pub written: usize,
    pub changed: usize,
    pub filled_in: usize,
    pub unchanged_written: usize,
    /// Field values corrected over all written connections (a cable move that
    /// brings a new feeder counts its fields one by one).
    pub field_changes: usize,
}

impl ExportCounts {
    /// Connections with any correction (changed or filled in).
    pub fn corrected(&self) -> usize {
        self.changed + self.filled_in
    }

    /// "570 connections written: 2 changed, 1 filled in (4 field values)".
    pub fn summary(&self) -> String {
        format!(
            "{} connection(s) written: {} changed, {} filled in ({} field value(s) corrected)",
            self.written, self.changed, self.filled_in, self.field_changes
        )
    }
}

fn blank(v: &FieldValue) -> bool {
    matches!(v, FieldValue::Unknown) || matches!(v, FieldValue::Id(s) if s.trim().is_empty())
}

/// The latest decision (or manual edit) that set `field` of connection `i`:
/// (seq, decision word, who, when, confidence of an accepted suggestion).
type Source<'a> = (u64, &'static str, &'a str, Option<DateTime<FixedOffset>>, Option<f64>);

fn sources(s: &ReviewSession, i: usize, field: Field) -> Option<Source<'_>> {
    let mut best: Option<Source<'_>> = None;
    for id in s.suggestions_for(i) {
        let Some(x) = s.suggestion(*id).filter(|x| x.field == field && x.applied_value().is_some()) else { continue };
        let word = if x.decision.state.kind() == DecisionKind::Edited { "edited" } else { "accepted" };
        let conf = (word == "accepted").then_some(x.confidence);
        let cand = (x.decision.seq, word, x.decision.by.as_deref().unwrap_or(""), x.decision.decided_at, conf);
        if best.is_none_or(|b| cand.0 > b.0) {
            best = Some(cand);
        }
    }
    if let Some(e) = s.manual_edit(i, field)
        && best.is_none_or(|b| e.seq > b.0)
    {
        best = Some((e.seq, "manual", e.by.as_str(), Some(e.decided_at), None));
    }
    best
}

/// The corrected connection `i` with its `lvtopo_*` columns, and its status.
pub fn annotated_connection(s: &ReviewSession, i: usize) -> (Connection, ReviewStatus, usize) {
    let mut c = s.corrected_connection(i);
    let changed = s.changed_fields(i);
    let net = s.network();
    let olds: Vec<FieldValue> = changed.iter().map(|f| gis_value(net, i, *f)).collect();
    let status = if changed.is_empty() {
        ReviewStatus::Unchanged
    } else if olds.iter().all(blank) {
        ReviewStatus::FilledIn
    } else {
        ReviewStatus::Changed
    };
    // A field that follows from another (feeder from cable) has no decision of its own:
    // the decision behind the change is the latest over all changed fields.
    let mut latest: Option<Source<'_>> = None;
    let mut min_conf: Option<f64> = None;
    for f in Field::ALL {
        if let Some(src) = sources(s, i, f) {
            min_conf = match (min_conf, src.4) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if latest.is_none_or(|l| src.0 > l.0) {
                latest = Some(src);
            }
        }
    }
    let text = |v: Option<String>| v.map_or(Value::Null, Value::String);
    let old = |f: Field| text(changed.iter().position(|x| *x == f).map(|k| olds[k].to_string()));
    let corrected = status != ReviewStatus::Unchanged;
    let names: Vec<&str> = changed.iter().map(|f| f.as_str()).collect();
    let values = [
        Value::String(status.as_str().into()),
        text(corrected.then(|| names.join(","))),
        old(Field::Phase),
        old(Field::Rotation),
        old(Field::Feeder),
        old(Field::Cable),
        old(Field::Station),
        if corrected { min_conf.map_or(Value::Null, |v| serde_json::json!((v * 1000.0).round() / 1000.0)) } else { Value::Null },
        text(latest.filter(|_| corrected).map(|l| l.1.to_string())),
        text(latest.filter(|_| corrected).map(|l| l.2.to_string()).filter(|b| !b.is_empty())),
        text(latest.filter(|_| corrected).and_then(|l| l.3).map(|t| t.format("%Y-%m-%dT%H:%M:%S%:z").to_string())),
    ];
    for (k, v) in COLUMNS.iter().zip(values) {
        c.extra.insert((*k).to_string(), v);
    }
    (c, status, changed.len())
}

/// The corrected network with the review's columns on every connection
/// (only the corrected ones with `only_changed`), and the export's counts.
pub fn annotated_network(s: &ReviewSession, opts: &ExportOptions) -> (Network, ExportCounts) {
    let n = s.network();
    let mut counts = ExportCounts::default();
    let mut conns = Vec::with_capacity(n.connections.len());
    for i in 0..n.connections.len() {
        let (c, status, fields) = annotated_connection(s, i);
        match status {
            ReviewStatus::Unchanged if opts.only_changed => continue,
            ReviewStatus::Unchanged => counts.unchanged_written += 1,
            ReviewStatus::Changed => counts.changed += 1,
            ReviewStatus::FilledIn => counts.filled_in += 1,
        }
        counts.field_changes += fields;
        conns.push(c);
    }
    counts.written = conns.len();
    (Network::new(n.stations.clone(), n.cables.clone(), conns, n.source_crs), counts)
}

//! The change log `corrections.csv`:
//! `ean,field,old_value,new_value,confidence,evidence,decision,decided_at,note`.
//!
//! One row per decision (accepted, rejected, edited) and per manual edit
//! (`manual`), in the order they were made, so applying the accepted, edited and
//! manual rows in file order gives the corrected network. A cable change also
//! writes the feeder and station rows that follow from the cable (evidence
//! "follows from ..."), so the GIS gets every changed column. The contract has no
//! column for who decided: `note` starts with `by <user>`.

use crate::session::atomic::write_atomic;
use crate::session::review::ReviewSession;
use crate::session::suggestion::{DecisionKind, Field, FieldValue};
use chrono::{DateTime, FixedOffset};
use std::io;
use std::path::Path;

pub const HEADER: [&str; 9] =
    ["ean", "field", "old_value", "new_value", "confidence", "evidence", "decision", "decided_at", "note"];

/// One row of `corrections.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrectionRow {
    pub ean: String,
    pub field: Field,
    pub old_value: String,
    pub new_value: String,
    /// Empty for manual edits.
    pub confidence: Option<f64>,
    pub evidence: String,
    /// `accepted`, `rejected`, `edited` or `manual`.
    pub decision: &'static str,
    pub decided_at: Option<DateTime<FixedOffset>>,
    pub note: String,
}

impl CorrectionRow {
    pub fn to_record(&self) -> [String; 9] {
        [
            self.ean.clone(),
            self.field.as_str().to_string(),
            self.old_value.clone(),
            self.new_value.clone(),
            self.confidence.map(|c| format!("{c:.3}")).unwrap_or_default(),
            self.evidence.clone(),
            self.decision.to_string(),
            self.decided_at.map(|t| t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()).unwrap_or_default(),
            self.note.clone(),
        ]
    }
}

fn note_text(by: Option<&str>, note: Option<&str>) -> String {
    match (by.filter(|b| !b.is_empty()), note.map(str::trim).filter(|n| !n.is_empty())) {
        (Some(b), Some(n)) => format!("by {b}: {n}"),
        (Some(b), None) => format!("by {b}"),
        (None, Some(n)) => n.to_string(),
        (None, None) => String::new(),
    }
}

/// Feeder and station rows that follow from setting `field` to `value` on connection `i`.
fn derived_rows(s: &ReviewSession, i: usize, field: Field, value: &FieldValue, parent: &CorrectionRow) -> Vec<CorrectionRow> {
    let net = s.network();
    let c = &net.connections[i];
    let (feeder, station) = match (field, value) {
        (Field::Cable, FieldValue::Id(k)) => match net.cable_index(k) {
            Some(ci) => (Some(net.cables[ci].feeder_id.clone()), Some(net.cables[ci].station_id.clone())),
            None => (None, None),
        },
        (Field::Feeder, FieldValue::Id(f)) => (None, net.cables.iter().find(|k| k.feeder_id == *f).map(|k| k.station_id.clone())),
        _ => (None, None),
    };
    let because = format!("follows from {} {} \u{2192} {}", parent.field, parent.old_value, parent.new_value);
    let mut out = Vec::new();
    for (f, old, new) in [(Field::Feeder, c.feeder(), feeder), (Field::Station, c.station_id.as_str(), station)] {
        if let Some(new) = new.filter(|n| n != old) {
            out.push(CorrectionRow {
                field: f,
                old_value: old.to_string(),
                new_value: new,
                evidence: because.clone(),
                ..parent.clone()
            });
        }
    }
    out
}

/// All rows, in decision order.
pub fn correction_rows(s: &ReviewSession) -> Vec<CorrectionRow> {
    // (seq, rows) per decision or edit, sorted by seq at the end.
    let mut groups: Vec<(u64, Vec<CorrectionRow>)> = Vec::new();
    for sg in s.suggestions() {
        let kind = sg.decision.state.kind();
        if kind == DecisionKind::Pending {
            continue;
        }
        let (new_value, evidence) = match kind {
            DecisionKind::Edited => {
                let v = sg.applied_value().cloned().unwrap_or_else(|| sg.new_value.clone());
                (v, format!("suggested {}: {}", sg.new_value, sg.evidence))
            }
            _ => (sg.new_value.clone(), sg.evidence.clone()),
        };
        let row = CorrectionRow {
            ean: sg.ean.clone(),
            field: sg.field,
            old_value: sg.old_value.to_string(),
            new_value: new_value.to_string(),
            confidence: Some(sg.confidence),
            evidence,
            decision: kind.as_str(),
            decided_at: sg.decision.decided_at,
            note: note_text(sg.decision.by.as_deref(), sg.decision.note.as_deref()),
        };
        let mut rows = vec![row.clone()];
        if kind != DecisionKind::Rejected {
            rows.extend(derived_rows(s, sg.connection, sg.field, &new_value, &row));
        }
        groups.push((sg.decision.seq, rows));
    }
    for e in s.manual_edits() {
        let row = CorrectionRow {
            ean: e.ean.clone(),
            field: e.field,
            old_value: e.old_value.to_string(),
            new_value: e.value.to_string(),
            confidence: None,
            evidence: String::new(),
            decision: "manual",
            decided_at: Some(e.decided_at),
            note: note_text(Some(&e.by), e.note.as_deref()),
        };
        let mut rows = vec![row.clone()];
        rows.extend(derived_rows(s, e.connection, e.field, &e.value, &row));
        groups.push((e.seq, rows));
    }
    groups.sort_by_key(|(seq, _)| *seq);
    groups.into_iter().flat_map(|(_, r)| r).collect()
}

/// Writes `rows` as CSV (header included) to any writer.
pub fn write_rows(w: &mut dyn io::Write, rows: &[CorrectionRow]) -> io::Result<()> {
    let mut csv = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(w);
    csv.write_record(HEADER).map_err(io::Error::other)?;
    for r in rows {
        csv.write_record(r.to_record()).map_err(io::Error::other)?;
    }
    csv.flush()
}

/// Writes `corrections.csv` atomically; returns the number of rows.
pub fn write_corrections_csv(s: &ReviewSession, path: &Path) -> io::Result<usize> {
    let rows = correction_rows(s);
    write_atomic(path, |w| write_rows(w, &rows))?;
    Ok(rows.len())
}

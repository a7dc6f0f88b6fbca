//! `assignments.csv` (the data contract) and the analysis report (JSON).

use super::{AnalysisOptions, AnalysisResult, Status};
use crate::model::Network;
use serde::Serialize;
use std::io::Write;

pub const ASSIGNMENT_COLUMNS: [&str; 11] = [
    "ean",
    "gis_feeder_id",
    "inferred_feeder_id",
    "feeder_confidence",
    "gis_cable_id",
    "inferred_cable_id",
    "cable_confidence",
    "gis_phase",
    "inferred_phase",
    "phase_confidence",
    "status",
];

/// Writes `assignments.csv` to any writer, one row per connection.
pub fn write_assignments<W: Write>(net: &Network, result: &AnalysisResult, w: W) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record(ASSIGNMENT_COLUMNS)?;
    for a in &result.assignments {
        let c = &net.connections[a.connection];
        let conf = |v: f64, present: bool| if present { format!("{:.4}", v.clamp(0.0, 1.0)) } else { String::new() };
        csv.write_record([
            c.ean.clone(),
            c.feeder().to_string(),
            a.inferred_feeder.clone().unwrap_or_default(),
            conf(a.feeder_confidence, a.inferred_feeder.is_some()),
            c.cable().to_string(),
            a.inferred_cable.clone().unwrap_or_default(),
            conf(a.cable_confidence, a.inferred_cable.is_some()),
            c.phase_text(),
            a.inferred_phase.map(|p| p.to_string()).unwrap_or_default(),
            conf(a.phase_confidence, a.inferred_phase.is_some()),
            a.status.as_str().to_string(),
        ])?;
    }
    csv.flush()?;
    Ok(())
}

#[derive(Serialize)]
pub struct ReportRow<'a> {
    pub ean: &'a str,
    pub status: Status,
    pub reason: Option<&'a str>,
    pub notes: &'a [String],
}

#[derive(Serialize)]
pub struct Summary {
    pub connections: usize,
    pub ok: usize,
    pub suggest_change: usize,
    pub insufficient_data: usize,
    /// Connections whose unknown GIS values were filled in without a change.
    pub fill_in: usize,
    pub phase_changes: usize,
    pub feeder_changes: usize,
    pub cable_changes: usize,
    pub clock_corrected: usize,
}

/// The report: summary, options used, and per connection the reason of every
/// `insufficient_data` / `suggest_change` and every note.
pub fn report_json(net: &Network, result: &AnalysisResult, options: &AnalysisOptions) -> serde_json::Value {
    let mut s = Summary {
        connections: result.assignments.len(),
        ok: 0,
        suggest_change: 0,
        insufficient_data: 0,
        fill_in: 0,
        phase_changes: 0,
        feeder_changes: 0,
        cable_changes: 0,
        clock_corrected: 0,
    };
    let mut rows = Vec::new();
    for a in &result.assignments {
        let c = &net.connections[a.connection];
        match a.status {
            Status::Ok => s.ok += 1,
            Status::SuggestChange => {
                s.suggest_change += 1;
                if a.inferred_phase.is_some_and(|p| p.to_string() != c.phase_text()) {
                    s.phase_changes += 1;
                }
                if a.inferred_feeder.as_deref().is_some_and(|f| f != c.feeder()) {
                    s.feeder_changes += 1;
                }
                if a.inferred_cable.as_deref().is_some_and(|f| f != c.cable()) {
                    s.cable_changes += 1;
                }
            }
            Status::InsufficientData => s.insufficient_data += 1,
            Status::FillIn => s.fill_in += 1,
        }
        if a.evidence.notes.iter().any(|n| n.contains("clock")) {
            s.clock_corrected += 1;
        }
        if a.status != Status::Ok || !a.evidence.notes.is_empty() {
            rows.push(ReportRow { ean: &c.ean, status: a.status, reason: a.reason.as_deref(), notes: &a.evidence.notes });
        }
    }
    serde_json::json!({ "summary": s, "options": options, "connections": rows })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{Assignment, Evidence, InferredPhase};
    use crate::model::*;

    #[test]
    fn csv_has_contract_columns_and_empty_values_only_for_insufficient() {
        let conn = Connection {
            ean: "871000000000000001".into(),
            station_id: "S".into(),
            feeder_id: Some("F1".into()),
            cable_id: Some("C1".into()),
            phase: Some(PhaseConnection::Single(Phase::L1)),
            street: None,
            house_number: None,
            house_number_addition: None,
            postcode: None,
            meter: MeterKind::Smart,
            pv_kwp_registered: None,
            capacity: Capacity::default(),
            pos: GeoPoint::default(),
            service_joint: None,
            extra: Default::default(),
        };
        let mut c2 = conn.clone();
        c2.ean = "871000000000000002".into();
        let net = Network::new(vec![], vec![], vec![conn, c2], Crs::RdNew);
        let ok = Assignment {
            connection: 0,
            inferred_feeder: Some("F1".into()),
            feeder_confidence: 0.98,
            inferred_cable: Some("C1".into()),
            cable_confidence: 0.9,
            inferred_phase: Some(InferredPhase::Single(Phase::L2)),
            phase_confidence: 0.995,
            status: Status::SuggestChange,
            reason: None,
            evidence: Evidence::default(),
        };
        let none = crate::analysis::decide::no_data(&net, 1);
        let res = AnalysisResult { assignments: vec![ok, none] };
        let mut buf = Vec::new();
        write_assignments(&net, &res, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], ASSIGNMENT_COLUMNS.join(","));
        assert_eq!(lines[1], "871000000000000001,F1,F1,0.9800,C1,C1,0.9000,L1,L2,0.9950,suggest_change");
        assert_eq!(lines[2], "871000000000000002,F1,,,C1,,,L1,,,insufficient_data");
    }
}

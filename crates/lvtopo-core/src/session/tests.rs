//! Unit tests of the review session on a small hand-built network.

use super::*;
use crate::analysis::{AnalysisResult, Assignment, Evidence, InferredPhase, Status};
use crate::model::*;
use chrono::{DateTime, FixedOffset};
use std::sync::Arc;

fn pt(x: f64, y: f64) -> GeoPoint {
    crate::crs::point_from_rd(x, y)
}

fn cable(id: &str, station: &str, feeder: &str, pts: &[(f64, f64)]) -> Cable {
    Cable {
        id: id.into(),
        station_id: station.into(),
        feeder_id: feeder.into(),
        feeder_derived: false,
        from_node: None,
        to_node: None,
        conductor: Some("4x150Al".into()),
        r_ohm_per_km: None,
        length_m: None,
        geometry: pts.iter().map(|&(x, y)| pt(x, y)).collect(),
        extra: Default::default(),
    }
}

pub(super) fn conn(n: u32, feeder: &str, cable: &str, phase: &str, x: f64, y: f64) -> Connection {
    let mut extra = ExtraAttributes::new();
    extra.insert("owner_ref".into(), serde_json::json!(format!("K-{n}")));
    Connection {
        ean: ean_with_check_digit(&format!("8712345678900{n:04}")),
        station_id: "S1".into(),
        feeder_id: Some(feeder.into()),
        cable_id: Some(cable.into()),
        phase: Some(phase.parse().unwrap()),
        street: Some("Dorpsstraat".into()),
        house_number: Some(n),
        house_number_addition: None,
        postcode: Some("6811AB".into()),
        meter: MeterKind::Smart,
        pv_kwp_registered: None,
        capacity: Capacity::default(),
        pos: pt(x, y),
        service_joint: None,
        extra,
    }
}

/// Station S1 at (155000, 463000); feeder F1 = C1 (east 100 m) + C2 (further 100 m);
/// feeder F2 = C3 (north 150 m). Six connections; #6 is three-phase.
pub(super) fn network() -> Network {
    let (x0, y0) = (155_000.0, 463_000.0);
    let st = Station { id: "S1".into(), name: Some("Dorp".into()), pos: pt(x0, y0), extra: Default::default() };
    let cables = vec![
        cable("C1", "S1", "F1", &[(x0 + 2.0, y0), (x0 + 102.0, y0)]),
        cable("C2", "S1", "F1", &[(x0 + 102.0, y0), (x0 + 202.0, y0)]),
        cable("C3", "S1", "F2", &[(x0, y0 + 2.0), (x0, y0 + 152.0)]),
    ];
    let conns = vec![
        conn(1, "F1", "C1", "L1", x0 + 30.0, y0 + 10.0),
        conn(2, "F1", "C1", "L2", x0 + 60.0, y0 + 10.0),
        conn(3, "F1", "C2", "L3", x0 + 130.0, y0 - 10.0),
        conn(4, "F1", "C2", "L1", x0 + 170.0, y0 - 10.0),
        conn(5, "F2", "C3", "L2", x0 + 10.0, y0 + 80.0),
        conn(6, "F2", "C3", "L123", x0 - 10.0, y0 + 120.0),
    ];
    Network::new(vec![st], cables, conns, Crs::RdNew)
}

fn unchanged(i: usize) -> Assignment {
    Assignment {
        connection: i,
        inferred_feeder: None,
        feeder_confidence: 0.0,
        inferred_cable: None,
        cable_confidence: 0.0,
        inferred_phase: None,
        phase_confidence: 0.0,
        status: Status::InsufficientData,
        reason: Some("too few points".into()),
        evidence: Evidence::default(),
    }
}

/// The inference says: #1 is on L3 (0.97); #2 on L2 as registered (ok); #4 is on
/// cable C3 of feeder F2 (0.88) and phase L2 (0.62); #6's meter is rotated L2L3L1 (0.93).
pub(super) fn analysis() -> AnalysisResult {
    let mut a: Vec<Assignment> = (0..6).map(unchanged).collect();
    a[0] = Assignment {
        inferred_feeder: Some("F1".into()),
        feeder_confidence: 0.99,
        inferred_cable: Some("C1".into()),
        cable_confidence: 0.9,
        inferred_phase: Some(InferredPhase::Single(Phase::L3)),
        phase_confidence: 0.97,
        status: Status::SuggestChange,
        reason: None,
        evidence: Evidence { phase_correlation: [0.41, 0.38, 0.98], points_used: 1440, ..Default::default() },
        ..unchanged(0)
    };
    a[1] = Assignment {
        inferred_phase: Some(InferredPhase::Single(Phase::L2)),
        phase_confidence: 0.99,
        status: Status::Ok,
        reason: None,
        ..unchanged(1)
    };
    a[3] = Assignment {
        inferred_feeder: Some("F2".into()),
        feeder_confidence: 0.9,
        inferred_cable: Some("C3".into()),
        cable_confidence: 0.88,
        inferred_phase: Some(InferredPhase::Single(Phase::L2)),
        phase_confidence: 0.62,
        status: Status::SuggestChange,
        reason: None,
        evidence: Evidence {
            phase_correlation: [0.2, 0.81, 0.3],
            feeder_scores: vec![("F2".into(), 0.9), ("F1".into(), 0.4)],
            cable_scores: vec![("C3".into(), 0.88)],
            points_used: 1300,
            notes: vec![],
        },
        ..unchanged(3)
    };
    a[5] = Assignment {
        inferred_phase: Some(InferredPhase::Rotation("L2L3L1".parse().unwrap())),
        phase_confidence: 0.93,
        status: Status::SuggestChange,
        reason: None,
        ..unchanged(5)
    };
    AnalysisResult { assignments: a }
}

pub(super) fn fixed_clock() -> review::Clock {
    let t: DateTime<FixedOffset> = DateTime::parse_from_rfc3339("2026-11-26T22:15:00+01:00").unwrap();
    Arc::new(move || t)
}

pub(super) fn session() -> ReviewSession {
    let mut s = ReviewSession::new(Arc::new(network()));
    s.set_clock(fixed_clock());
    s.set_user("jdevries");
    s.set_analysis(analysis());
    s
}

fn find(s: &ReviewSession, conn: usize, field: Field) -> SuggestionId {
    s.suggestions().iter().find(|x| x.connection == conn && x.field == field).map(|x| x.id).unwrap()
}

#[test]
fn suggestions_come_from_suggest_change_rows_only() {
    let s = session();
    let got: Vec<(usize, Field, String)> =
        s.suggestions().iter().map(|x| (x.connection, x.field, x.new_value.to_string())).collect();
    assert_eq!(
        got,
        vec![
            (0, Field::Phase, "L3".into()),
            (3, Field::Phase, "L2".into()),
            (3, Field::Cable, "C3".into()),
            (5, Field::Rotation, "L2L3L1".into()),
        ]
    );
    let cable = &s.suggestions()[2];
    assert_eq!(cable.old_value.to_string(), "C2");
    assert!(cable.evidence.contains("from feeder F1 to F2"), "{}", cable.evidence);
    assert!(s.suggestions()[0].evidence.contains("L3 0.98"), "{}", s.suggestions()[0].evidence);
    assert_eq!(s.counts(), Counts { total: 4, pending: 4, ..Default::default() });
}

#[test]
fn accept_reject_edit_change_the_effective_values() {
    let mut s = session();
    let p0 = find(&s, 0, Field::Phase);
    let c3 = find(&s, 3, Field::Cable);
    let p3 = find(&s, 3, Field::Phase);
    let rev = s.revision();
    s.apply(SessionCommand::Accept { ids: vec![p0], note: None }).unwrap();
    assert_eq!(s.effective(0).phase, Some(PhaseConnection::Single(Phase::L3)));
    assert_eq!(s.effective_phase(0), Some(PhaseConnection::Single(Phase::L3)));
    assert_eq!(s.effective_phase(1), Some(PhaseConnection::Single(Phase::L2)));
    assert!(s.revision() > rev);
    s.apply(SessionCommand::Accept { ids: vec![c3], note: Some("checked on site".into()) }).unwrap();
    let e = s.effective(3);
    assert_eq!((e.cable(), e.feeder(), e.station_id.as_str()), ("C3", "F2", "S1"));
    s.apply(SessionCommand::Edit { id: p3, value: FieldValue::Phase(PhaseConnection::Single(Phase::L3)), note: None }).unwrap();
    assert_eq!(s.effective(3).phase, Some(PhaseConnection::Single(Phase::L3)));
    s.apply(SessionCommand::Reject { ids: vec![p0], note: Some("meter swapped last week".into()) }).unwrap();
    assert_eq!(s.effective(0).phase, Some(PhaseConnection::Single(Phase::L1)));
    let c = s.counts();
    assert_eq!((c.pending, c.accepted, c.rejected, c.edited), (1, 1, 1, 1));
    let d = &s.suggestion(p0).unwrap().decision;
    assert_eq!(d.by.as_deref(), Some("jdevries"));
    assert_eq!(d.decided_at.unwrap().to_rfc3339(), "2026-11-26T22:15:00+01:00");
    assert_eq!(s.changed_connections(), vec![3]);
    assert_eq!(s.changed_fields(3), vec![Field::Phase, Field::Feeder, Field::Cable]);
    // Editing to exactly the proposal is an acceptance.
    s.apply(SessionCommand::Edit { id: p3, value: FieldValue::Phase(PhaseConnection::Single(Phase::L2)), note: None }).unwrap();
    assert_eq!(s.suggestion(p3).unwrap().decision.state, DecisionState::Accepted);
}

#[test]
fn undo_redo_restore_exact_states_and_new_command_clears_redo() {
    let mut s = session();
    let p0 = find(&s, 0, Field::Phase);
    let r5 = find(&s, 5, Field::Rotation);
    assert!(!s.can_undo() && !s.can_redo());
    s.apply(SessionCommand::Accept { ids: vec![p0], note: None }).unwrap();
    s.apply(SessionCommand::Reject { ids: vec![p0], note: None }).unwrap();
    assert_eq!(s.undo_description().unwrap(), format!("Undo: reject phase L1 \u{2192} L3 of {}", s.network().connections[0].ean));
    s.undo().unwrap();
    assert_eq!(s.suggestion(p0).unwrap().decision.state, DecisionState::Accepted);
    s.undo().unwrap();
    assert_eq!(s.suggestion(p0).unwrap().decision, Decision::default());
    assert!(!s.can_undo() && s.can_redo());
    assert!(s.undo().is_none());
    s.redo().unwrap();
    assert_eq!(s.suggestion(p0).unwrap().decision.state, DecisionState::Accepted);
    assert!(s.can_redo());
    // A new gesture drops the redo list.
    s.apply(SessionCommand::Accept { ids: vec![r5], note: None }).unwrap();
    assert!(!s.can_redo());
    assert!(s.redo().is_none());
    assert_eq!(s.effective(5).rotation, Some("L2L3L1".parse().unwrap()));
    // Re-accepting an accepted suggestion is no gesture at all.
    let a = s.apply(SessionCommand::Accept { ids: vec![r5], note: None }).unwrap();
    assert_eq!(a.changed, 0);
    assert_eq!(
        s.undo_description().unwrap(),
        format!("Undo: accept rotation L1L2L3 \u{2192} L2L3L1 of {}", s.network().connections[5].ean)
    );
}

#[test]
fn accept_all_above_is_one_step_and_leaves_decided_ones_alone() {
    let mut s = session();
    let r5 = find(&s, 5, Field::Rotation);
    s.apply(SessionCommand::Reject { ids: vec![r5], note: None }).unwrap();
    let a = s.apply(SessionCommand::AcceptAllAbove { min_confidence: 0.85, station: None, feeder: None }).unwrap();
    // #0 phase 0.97 and #3 cable 0.88; not #3 phase 0.62, not the rejected rotation 0.93.
    assert_eq!(a.changed, 2);
    assert_eq!(s.undo_description().unwrap(), "Undo: accept 2 suggestions (confidence \u{2265} 0.85)");
    assert_eq!(s.suggestion(r5).unwrap().decision.state, DecisionState::Rejected);
    s.undo();
    assert_eq!(s.counts().accepted, 0);
    assert_eq!(s.counts().rejected, 1);
    // Filtered by feeder: F2 matches #3's cable suggestion (it moves the connection into F2) only.
    let a = s.apply(SessionCommand::AcceptAllAbove { min_confidence: 0.5, station: None, feeder: Some("F2".into()) }).unwrap();
    assert_eq!(a.changed, 1, "only #3's cable suggestion: #3's phase stays on F1, #6's rotation is rejected");
    assert!(s.apply(SessionCommand::AcceptAllAbove { min_confidence: 1.5, station: None, feeder: None }).is_err());
}

#[test]
fn manual_cable_change_brings_feeder_and_station_and_later_decisions_win() {
    let mut s = session();
    s.apply(SessionCommand::SetCable { connection: 1, cable_id: "C3".into(), note: None }).unwrap();
    let e = s.effective(1);
    assert_eq!((e.cable(), e.feeder()), ("C3", "F2"));
    assert!(s.inconsistencies().is_empty());
    assert_eq!(
        s.apply(SessionCommand::SetCable { connection: 1, cable_id: "C9".into(), note: None }),
        Err(SessionError::UnknownCable("C9".into()))
    );
    s.apply(SessionCommand::SetPhase { connection: 1, phase: PhaseConnection::Single(Phase::L3), note: None }).unwrap();
    assert_eq!(s.effective(1).phase, Some(PhaseConnection::Single(Phase::L3)));
    // Accepting a phase suggestion after a manual phase edit: the later one counts.
    let p0 = find(&s, 0, Field::Phase);
    s.apply(SessionCommand::SetPhase { connection: 0, phase: PhaseConnection::Single(Phase::L2), note: None }).unwrap();
    s.apply(SessionCommand::Accept { ids: vec![p0], note: None }).unwrap();
    assert_eq!(s.effective(0).phase, Some(PhaseConnection::Single(Phase::L3)));
    s.apply(SessionCommand::ClearEdit { connection: 1, field: Field::Cable }).unwrap();
    assert_eq!(s.effective(1).cable(), "C1");
    s.undo();
    assert_eq!(s.effective(1).cable(), "C3");
    // Setting what is already in force records nothing.
    assert_eq!(s.apply(SessionCommand::SetCable { connection: 1, cable_id: "C3".into(), note: None }).unwrap().changed, 0);
    assert!(matches!(
        s.apply(SessionCommand::SetRotation { connection: 0, rotation: Rotation::IDENTITY, note: None }),
        Err(SessionError::RotationOnSinglePhase { .. })
    ));
}

#[test]
fn feeder_change_without_cable_is_reported_as_inconsistent() {
    let mut s = ReviewSession::new(Arc::new(network()));
    let draft = SuggestionDraft {
        connection: 4,
        field: Field::Feeder,
        new_value: FieldValue::Id("F1".into()),
        confidence: 0.7,
        evidence: "logged the F1 outage of 3 March".into(),
        detail: EvidenceDetail::Facts(vec![("incident".into(), "INC-7".into())]),
    };
    s.replace_suggestions(SuggestionSource::Outage, vec![draft]);
    s.apply(SessionCommand::Accept { ids: vec![SuggestionId(0)], note: None }).unwrap();
    let inc = s.inconsistencies();
    assert_eq!(inc.len(), 1);
    assert!(inc[0].message.contains("cable C3 belongs to feeder F2, not to feeder F1"), "{}", inc[0].message);
}

#[test]
fn query_filters_and_sorts() {
    let mut s = session();
    let all = s.query(&SuggestionFilter::default(), SortBy::Confidence, true);
    let conf: Vec<f64> = all.iter().map(|id| s.suggestion(*id).unwrap().confidence).collect();
    assert_eq!(conf, vec![0.97, 0.93, 0.88, 0.62]);
    let f2 = s.query(&SuggestionFilter { feeder: Some("F2".into()), ..Default::default() }, SortBy::Ean, false);
    assert_eq!(f2.len(), 2, "#3's cable suggestion (into F2) and #6's rotation (on F2)");
    let by_field = s.query(
        &SuggestionFilter { field: Some(Field::Phase), min_confidence: Some(0.9), ..Default::default() },
        SortBy::Ean,
        false,
    );
    assert_eq!(by_field.len(), 1);
    let ean = s.network().connections[5].ean.clone();
    let hit = s.query(&SuggestionFilter { search: Some(ean[10..].to_string()), ..Default::default() }, SortBy::Ean, false);
    assert_eq!(hit.len(), 1);
    s.apply(SessionCommand::Accept { ids: vec![hit[0]], note: None }).unwrap();
    let acc = s.query(&SuggestionFilter { status: Some(DecisionKind::Accepted), ..Default::default() }, SortBy::Status, false);
    assert_eq!(acc, hit);
    let none = s.query(&SuggestionFilter { station: Some("S9".into()), ..Default::default() }, SortBy::Ean, false);
    assert!(none.is_empty());
}

#[test]
fn rerunning_the_analysis_keeps_decisions_and_drops_stale_pending() {
    let mut s = session();
    let p0 = find(&s, 0, Field::Phase);
    let r5 = find(&s, 5, Field::Rotation);
    s.apply(SessionCommand::Accept { ids: vec![p0], note: None }).unwrap();
    let mut a = analysis();
    // The new run no longer suggests #3's changes nor #0's phase.
    a.assignments[3].status = Status::Ok;
    a.assignments[0].status = Status::Ok;
    s.set_analysis(a);
    assert!(!s.can_undo());
    let got: Vec<(usize, Field, DecisionKind)> =
        s.suggestions().iter().map(|x| (x.connection, x.field, x.decision.state.kind())).collect();
    assert_eq!(got, vec![(5, Field::Rotation, DecisionKind::Pending), (0, Field::Phase, DecisionKind::Accepted)]);
    let _ = r5;
    assert_eq!(s.effective(0).phase, Some(PhaseConnection::Single(Phase::L3)));
}

#[test]
fn corrected_connection_keeps_attributes_and_writes_rotation() {
    let mut s = session();
    s.apply(SessionCommand::AcceptAllAbove { min_confidence: 0.0, station: None, feeder: None }).unwrap();
    let c = s.corrected_connection(5);
    assert_eq!(c.extra["rotation"], serde_json::json!("L2L3L1"));
    assert_eq!(c.extra["owner_ref"], serde_json::json!("K-6"));
    let c3 = s.corrected_connection(3);
    assert_eq!((c3.cable(), c3.feeder(), c3.phase_text().as_str()), ("C3", "F2", "L2"));
    assert_eq!(c3.address(), "Dorpsstraat 4, 6811AB");
    let n = s.corrected_network();
    assert_eq!(n.connection_index(&c3.ean), Some(3));
}

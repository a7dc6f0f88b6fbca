//! Unit tests of autosave/restore and the exports.

use super::export::*;
use super::tests::{fixed_clock, network, session};
use super::*;
use crate::model::*;
use std::collections::HashSet;
use std::sync::Arc;

fn open(path: &std::path::Path, net: Network) -> (ReviewSession, RestoreOutcome) {
    let (mut s, o) = ReviewSession::open(Arc::new(net), path);
    s.set_clock(fixed_clock());
    s.set_user("jdevries");
    (s, o)
}

#[test]
fn autosave_after_every_command_and_restore_on_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let gpkg = dir.path().join("dorp.gpkg");
    std::fs::write(&gpkg, b"").unwrap();
    let (mut s, o) = open(&gpkg, network());
    assert!(matches!(o, RestoreOutcome::NoSavedSession { .. }), "{o:?}");
    let file = dir.path().join("dorp.gpkg.lvtopo-session.json");
    assert_eq!(s.session_file_path(), Some(file.as_path()));
    s.set_analysis(super::tests::analysis());
    assert!(file.exists(), "setting the analysis saves");
    s.apply(SessionCommand::Accept { ids: vec![SuggestionId(0)], note: Some("ok".into()) }).unwrap();
    s.apply(SessionCommand::SetCable { connection: 1, cable_id: "C3".into(), note: None }).unwrap();
    s.apply(SessionCommand::Reject { ids: vec![SuggestionId(3)], note: None }).unwrap();
    s.undo(); // the rejection is undone and that, too, is saved
    assert!(matches!(s.save_status(), SaveStatus::Saved { .. }));

    let (r, o) = open(&gpkg, network());
    match &o {
        RestoreOutcome::Restored { summary, .. } => {
            assert_eq!((summary.suggestions, summary.decisions, summary.edits), (4, 1, 1));
            assert!(summary.skipped.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.counts(), s.counts());
    for i in 0..6 {
        assert_eq!(r.effective(i), s.effective(i));
    }
    assert_eq!(r.suggestions()[0].decision, s.suggestions()[0].decision);
    assert_eq!(r.suggestions()[0].detail, s.suggestions()[0].detail);
    assert!(!r.can_undo(), "undo history is not restored");
    // Later decisions keep counting after the restored ones.
    let mut r = r;
    r.apply(SessionCommand::SetPhase { connection: 0, phase: PhaseConnection::Single(Phase::L2), note: None }).unwrap();
    assert_eq!(r.effective(0).phase, Some(PhaseConnection::Single(Phase::L2)));
}

#[test]
fn leftover_temp_file_from_a_crash_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let net_dir = dir.path().join("dorp");
    std::fs::create_dir(&net_dir).unwrap();
    let (mut s, _) = open(&net_dir, network());
    s.set_analysis(super::tests::analysis());
    s.apply(SessionCommand::Accept { ids: vec![SuggestionId(1)], note: None }).unwrap();
    // A crash in the middle of the next save leaves a half-written temp file beside it.
    let stray = dir.path().join(".dorp.lvtopo-session.json.a1B2c3.tmp");
    std::fs::write(&stray, br#"{"format":"lvtopo-session","version":1,"suggest"#).unwrap();
    let (r, o) = open(&net_dir, network());
    assert!(matches!(o, RestoreOutcome::Restored { .. }), "{o:?}");
    assert_eq!(r.counts().accepted, 1);
    assert!(stray.exists(), "left alone, not read");
}

#[test]
fn changed_network_is_detected_and_the_user_chooses() {
    let dir = tempfile::tempdir().unwrap();
    let gpkg = dir.path().join("dorp.gpkg");
    let (mut s, _) = open(&gpkg, network());
    s.set_analysis(super::tests::analysis());
    s.apply(SessionCommand::AcceptAllAbove { min_confidence: 0.9, station: None, feeder: None }).unwrap();
    let saved = std::fs::read_to_string(s.session_file_path().unwrap()).unwrap();

    // GIS fixed #1's phase meanwhile (to L3, as suggested) and moved #6 to another EAN.
    let mut changed = network();
    changed.connections[0].phase = Some(PhaseConnection::Single(Phase::L3));
    changed.connections[5].ean = ean_with_check_digit("87123456789009999");
    changed.reindex();
    let (mut r, o) = open(&gpkg, changed.clone());
    assert!(matches!(o, RestoreOutcome::NetworkChanged { saved_connections: 6, connections: 6, .. }), "{o:?}");
    assert!(o.message().contains("network changed"), "{}", o.message());
    assert!(matches!(r.save_status(), SaveStatus::Paused { .. }));
    // Nothing overwrites the old file while the user has not chosen.
    r.apply(SessionCommand::SetPhase { connection: 1, phase: PhaseConnection::Single(Phase::L1), note: None }).unwrap();
    assert_eq!(std::fs::read_to_string(r.session_file_path().unwrap()).unwrap(), saved);
    let sum = r.restore_anyway();
    assert_eq!(sum.suggestions, 2, "#4's two suggestions still fit");
    assert_eq!(sum.skipped.len(), 2, "{:?}", sum.skipped);
    assert!(sum.skipped.iter().any(|m| m.contains("GIS now registers L3")), "{:?}", sum.skipped);
    assert!(sum.skipped.iter().any(|m| m.contains("no longer in the network")), "{:?}", sum.skipped);
    assert!(matches!(r.save_status(), SaveStatus::Saved { .. }));

    // Starting fresh instead keeps the old file under another name.
    std::fs::write(r.session_file_path().unwrap(), &saved).unwrap();
    let (mut f, _) = open(&gpkg, changed);
    let moved = f.start_fresh().unwrap().unwrap();
    assert_eq!(std::fs::read_to_string(&moved).unwrap(), saved);
    assert!(moved.file_name().unwrap().to_string_lossy().ends_with(".old.json"));
    assert_eq!(f.counts().total, 0);
}

#[test]
fn unreadable_session_file_is_kept_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let gpkg = dir.path().join("dorp.gpkg");
    let file = dir.path().join("dorp.gpkg.lvtopo-session.json");
    std::fs::write(&file, "{ this is not json").unwrap();
    let (mut s, o) = open(&gpkg, network());
    assert!(matches!(o, RestoreOutcome::Unreadable { .. }), "{o:?}");
    s.set_analysis(super::tests::analysis());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{ this is not json");
    // "Restore anyway" on an unreadable file must not overwrite it either.
    let mut r = s.clone();
    let sum = r.restore_anyway();
    assert!(sum.skipped[0].contains("is kept as"), "{sum:?}");
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".old.json"))
        .collect();
    assert_eq!(std::fs::read_to_string(&kept[0]).unwrap(), "{ this is not json");
    std::fs::remove_file(&kept[0]).unwrap();
    std::fs::write(&file, "{ this is not json").unwrap();
    let moved = s.start_fresh().unwrap().unwrap();
    assert!(moved.exists());
    assert!(SessionFile::read(&file).is_ok());
}

use super::persist::SessionFile;

#[test]
fn corrections_csv_is_exactly_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session();
    let e = |i: usize| s.network().connections[i].ean.clone();
    let (e0, e1, e3, e5) = (e(0), e(1), e(3), e(5));
    s.apply(SessionCommand::Accept { ids: vec![SuggestionId(2)], note: Some("cable \"C3\", see map".into()) }).unwrap();
    s.apply(SessionCommand::Reject { ids: vec![SuggestionId(0)], note: None }).unwrap();
    s.apply(SessionCommand::Edit { id: SuggestionId(3), value: FieldValue::Rotation("L3L1L2".parse().unwrap()), note: None })
        .unwrap();
    s.apply(SessionCommand::SetPhase {
        connection: 1,
        phase: PhaseConnection::Single(Phase::L3),
        note: Some("site visit".into()),
    })
    .unwrap();
    let path = dir.path().join("corrections.csv");
    assert_eq!(write_corrections_csv(&s, &path).unwrap(), 5);
    let got = std::fs::read_to_string(&path).unwrap();
    let t = "2026-11-26T22:15:00+01:00";
    let want = format!(
        "ean,field,old_value,new_value,confidence,evidence,decision,decided_at,note\n\
{e3},cable,C2,C3,0.880,cable scores: C3 0.88; moves the connection from feeder F1 to F2 (1300 ten-minute points),accepted,{t},\"by jdevries: cable \"\"C3\"\", see map\"\n\
{e3},feeder,F1,F2,0.880,follows from cable C2 \u{2192} C3,accepted,{t},\"by jdevries: cable \"\"C3\"\", see map\"\n\
{e0},phase,L1,L3,0.970,\"voltage correlation with phase references L1 0.41, L2 0.38, L3 0.98: best match L3, registered L1 (1440 ten-minute points)\",rejected,{t},by jdevries\n\
{e5},rotation,L1L2L3,L3L1L2,0.930,\"suggested L2L3L1: meter terminals L1, L2, L3 follow grid phases L2, L3, L1\",edited,{t},by jdevries\n\
{e1},phase,L2,L3,,,manual,{t},by jdevries: site visit\n"
    );
    assert_eq!(got, want);
}

#[test]
fn pgm_model_has_unique_ids_and_every_load_on_its_corrected_phase() {
    let mut s = session();
    s.apply(SessionCommand::AcceptAllAbove { min_confidence: 0.5, station: None, feeder: None }).unwrap();
    let net = s.corrected_network();
    let topo = Topology::build(&net);
    let m = build_pgm(&net, &topo, &PgmOptions::default());
    let doc = m.to_json();
    let mut ids = HashSet::new();
    for (_, rows) in doc["data"].as_object().unwrap() {
        for r in rows.as_array().unwrap() {
            assert!(ids.insert(r["id"].as_i64().unwrap()), "duplicate id {}", r["id"]);
        }
    }
    assert_eq!(ids.len(), m.mapping.len());
    assert_eq!(m.count("source"), 1);
    assert_eq!(m.count("link"), 2, "busbar to F1 and to F2");
    assert_eq!(m.count("asym_load") + m.count("sym_load"), 6);
    let by_id: std::collections::HashMap<i64, &pgm::PgmMapping> = m.mapping.iter().map(|x| (x.pgm_id as i64, x)).collect();
    for l in doc["data"]["asym_load"].as_array().unwrap() {
        let ean = &by_id[&l["id"].as_i64().unwrap()].gis_id;
        let i = net.connection_index(ean).unwrap();
        let ph = s.effective(i).phase.and_then(|p| p.single()).unwrap();
        let p: Vec<f64> = l["p_specified"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert!(p[ph.index()] > 0.0 && p.iter().filter(|v| **v != 0.0).count() == 1, "{ean}: {p:?} on {ph}");
    }
    // #1's load sits on L3 after the accepted correction.
    let l1 = m.mapping.iter().find(|x| x.component == "asym_load" && x.gis_id == s.network().connections[0].ean).unwrap();
    assert_eq!(l1.detail, "single-phase on L3");
    // Lines: C1 split at 2 tap-offs (3 segments), C2 at 1 (#4 moved to C3), C3 at 2 (#4 taps
    // off at C3's start node); plus 6 service lines.
    assert_eq!(m.count("line"), 3 + 2 + 3 + 6);
    for l in doc["data"]["line"].as_array().unwrap() {
        assert_ne!(l["from_node"], l["to_node"]);
        assert!(l["r1"].as_f64().unwrap() > 0.0 && l["i_n"].as_f64().unwrap() > 0.0);
    }
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
}

#[test]
fn pgm_export_writes_json_and_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let s = session();
    let (j, map) = (dir.path().join("net.pgm.json"), dir.path().join("net.pgm-mapping.csv"));
    let m = export_pgm(&s, &j, &map, &PgmOptions::default()).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
    assert_eq!(doc["type"], "input");
    assert_eq!(doc["version"], "1.0");
    let lines = std::fs::read_to_string(&map).unwrap().lines().count();
    assert_eq!(lines, m.mapping.len() + 1);
}

#[test]
fn restoring_after_the_analysis_was_set_merges_instead_of_duplicating() {
    let dir = tempfile::tempdir().unwrap();
    let gpkg = dir.path().join("dorp.gpkg");
    let (mut s, _) = open(&gpkg, network());
    s.set_analysis(super::tests::analysis());
    s.apply(SessionCommand::Accept { ids: vec![SuggestionId(0)], note: None }).unwrap();
    let mut changed = network();
    changed.connections[1].phase = Some(PhaseConnection::Single(Phase::L1));
    let (mut r, o) = open(&gpkg, changed);
    assert!(matches!(o, RestoreOutcome::NetworkChanged { .. }));
    // The app ran the analysis before the user answered the question.
    r.set_analysis(super::tests::analysis());
    let sum = r.restore_anyway();
    assert_eq!(sum.suggestions, 4);
    assert_eq!(r.counts().total, 4, "no duplicates");
    assert_eq!(r.counts().accepted, 1);
}

#[test]
fn failed_autosave_keeps_the_change_and_reports_why() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").unwrap();
    let mut s = session();
    s.autosave_to(blocker.join("s.lvtopo-session.json"));
    let a = s.apply(SessionCommand::Accept { ids: vec![SuggestionId(0)], note: None }).unwrap();
    assert_eq!(a.changed, 1);
    assert!(a.autosave_error.as_deref().is_some_and(|e| e.contains("could not save the review session")), "{a:?}");
    assert!(matches!(s.save_status(), SaveStatus::Failed { .. }));
    assert_eq!(s.counts().accepted, 1);
}

#[test]
fn reset_and_note_are_undoable_steps() {
    let mut s = session();
    s.apply(SessionCommand::Reject { ids: vec![SuggestionId(0), SuggestionId(1)], note: Some("first look".into()) }).unwrap();
    s.apply(SessionCommand::SetNote { id: SuggestionId(0), note: Some("asked the field crew".into()) }).unwrap();
    assert_eq!(s.suggestion(SuggestionId(0)).unwrap().decision.note.as_deref(), Some("asked the field crew"));
    assert_eq!(s.suggestion(SuggestionId(0)).unwrap().decision.state, DecisionState::Rejected);
    s.apply(SessionCommand::Reset { ids: vec![SuggestionId(0), SuggestionId(1)] }).unwrap();
    assert_eq!(s.undo_description().unwrap(), "Undo: reset 2 decisions");
    assert_eq!(s.counts().pending, 4);
    s.undo();
    s.undo();
    assert_eq!(s.suggestion(SuggestionId(0)).unwrap().decision.note.as_deref(), Some("first look"));
    assert_eq!(s.counts().rejected, 2);
    assert_eq!(
        s.apply(SessionCommand::Reset { ids: vec![SuggestionId(9)] }),
        Err(SessionError::UnknownSuggestion(SuggestionId(9)))
    );
    assert!(matches!(
        s.apply(SessionCommand::Edit { id: SuggestionId(0), value: FieldValue::Id("C1".into()), note: None }),
        Err(SessionError::WrongValue { field: Field::Phase, .. })
    ));
}

#[test]
fn exported_connections_say_what_the_review_did() {
    let mut s = session();
    let phase = s.suggestions().iter().find(|x| x.connection == 0 && x.field == Field::Phase).unwrap().id;
    s.apply(SessionCommand::Accept { ids: vec![phase], note: None }).unwrap();
    s.apply(SessionCommand::SetCable { connection: 2, cable_id: "C3".into(), note: None }).unwrap();
    let (net, counts) = annotated_network(&s, &ExportOptions::default());
    assert_eq!(net.connections.len(), 6);
    assert_eq!((counts.changed, counts.filled_in, counts.unchanged_written, counts.written), (2, 0, 4, 6));
    // A cable move brings feeder F2 with it: two field values on connection 3, one on connection 1.
    assert_eq!(counts.field_changes, 3);
    assert_eq!(counts.corrected(), s.changed_connections().len());
    let c0 = &net.connections[0].extra;
    assert_eq!(c0["lvtopo_status"], "changed");
    assert_eq!(c0["lvtopo_changed"], "phase");
    assert_eq!(c0["lvtopo_old_phase"], "L1");
    assert_eq!(c0["lvtopo_confidence"], 0.97);
    assert_eq!(c0["lvtopo_decision"], "accepted");
    assert_eq!(c0["lvtopo_reviewer"], "jdevries");
    assert_eq!(c0["lvtopo_reviewed_at"], "2026-11-26T22:15:00+01:00");
    let c2 = &net.connections[2].extra;
    assert_eq!(c2["lvtopo_old_cable_id"], "C2");
    assert_eq!(c2["lvtopo_old_feeder_id"], "F1");
    assert_eq!(c2["lvtopo_decision"], "manual");
    assert!(c2["lvtopo_confidence"].is_null(), "a manual edit has no confidence");
    assert_eq!(net.connections[1].extra["lvtopo_status"], "unchanged");
    assert!(net.connections[1].extra["lvtopo_old_phase"].is_null());

    let (only, c) = annotated_network(&s, &ExportOptions { only_changed: true });
    assert_eq!(only.connections.len(), 2);
    assert_eq!(c.written, 2);
    assert_eq!(only.cables.len(), 3, "cables and stations stay whole");

    // Both writers carry the columns.
    let dir = tempfile::tempdir().unwrap();
    let gj = export_geojson_with(&s, &dir.path().join("gj"), &ExportOptions { only_changed: true }).unwrap();
    assert_eq!(gj, c);
    let text = std::fs::read_to_string(dir.path().join("gj/connections.geojson")).unwrap();
    assert!(text.contains("\"lvtopo_status\":\"changed\""), "{text}");
    let g = export_gpkg(&s, &dir.path().join("c.gpkg")).unwrap();
    assert_eq!(g, counts);
    let conn = rusqlite::Connection::open(dir.path().join("c.gpkg")).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM connections WHERE lvtopo_status = 'changed' AND lvtopo_reviewer = 'jdevries'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 2);
}

#[test]
fn an_empty_registered_value_that_gets_one_is_filled_in() {
    let mut net = network();
    net.connections[4].cable_id = None;
    let net = Network::new(net.stations.clone(), net.cables.clone(), net.connections.clone(), net.source_crs);
    let mut s = ReviewSession::new(Arc::new(net));
    s.set_clock(fixed_clock());
    s.set_user("jdevries");
    s.apply(SessionCommand::SetCable { connection: 4, cable_id: "C3".into(), note: None }).unwrap();
    let (net, counts) = annotated_network(&s, &ExportOptions { only_changed: true });
    assert_eq!((counts.changed, counts.filled_in), (0, 1));
    assert_eq!(net.connections[0].extra["lvtopo_status"], "filled_in");
}

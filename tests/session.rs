//! Review session end to end: a generated street network, an inference result
//! made from its truth (a legitimate fixture until the inference is on main),
//! decisions with undo, autosave/restore across "restarts", and every export
//! read back by independent readers (power-grid-model, ogrinfo).

use lvtopo::analysis::{AnalysisResult, Assignment, Evidence, InferredPhase, Status};
use lvtopo::model::*;
use lvtopo::session::export::*;
use lvtopo::session::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

/// Two stations; per station two feeders of three cable sections each along a
/// street; 8 connections per section, phases L1, L2, L3 in turn, every 7th
/// three-phase. Returns the network as GIS has it plus the truth: every 5th
/// connection's GIS phase is wrong, every 11th sits on the next feeder's cable.
fn street_network() -> (Network, Vec<TruthRow>) {
    let mut stations = Vec::new();
    let mut cables = Vec::new();
    let mut conns = Vec::new();
    let mut truth = Vec::new();
    let mut n = 0u32;
    for s in 0..2 {
        let (sx, sy) = (150_000.0 + 1_000.0 * s as f64, 450_000.0);
        let sid = format!("ST{}", s + 1);
        stations.push(Station {
            id: sid.clone(),
            name: Some(format!("Station {}", s + 1)),
            pos: lvtopo::crs::point_from_rd(sx, sy),
            extra: Default::default(),
        });
        for f in 0..2 {
            let fid = format!("{sid}-F{}", f + 1);
            let dir = if f == 0 { 1.0 } else { -1.0 };
            for k in 0..3 {
                let cid = format!("{fid}-C{}", k + 1);
                let x0 = sx + dir * (1.0 + 120.0 * k as f64);
                let x1 = sx + dir * (1.0 + 120.0 * (k + 1) as f64);
                let mut extra = ExtraAttributes::new();
                extra.insert("year_laid".into(), serde_json::json!(1955 + k));
                cables.push(Cable {
                    id: cid.clone(),
                    station_id: sid.clone(),
                    feeder_id: fid.clone(),
                    feeder_derived: false,
                    from_node: None,
                    to_node: None,
                    conductor: Some(if k == 0 { "4x150Al".into() } else { "4x95Al".into() }),
                    r_ohm_per_km: None,
                    length_m: None,
                    geometry: vec![lvtopo::crs::point_from_rd(x0, sy), lvtopo::crs::point_from_rd(x1, sy)],
                    extra,
                });
                for j in 0..8 {
                    n += 1;
                    let x = x0 + dir * (10.0 + 14.0 * j as f64);
                    let y = sy + if j % 2 == 0 { 12.0 } else { -12.0 };
                    let three = n.is_multiple_of(7);
                    let real =
                        if three { PhaseConnection::Three } else { PhaseConnection::Single(Phase::from_index(n as usize)) };
                    let gis_phase = match real {
                        PhaseConnection::Single(p) if n.is_multiple_of(5) => {
                            PhaseConnection::Single(Phase::from_index(p.index() + 1))
                        }
                        p => p,
                    };
                    let mut extra = ExtraAttributes::new();
                    extra.insert("bag_id".into(), serde_json::json!(format!("0363010000{n:06}")));
                    extra
                        .insert("remark".into(), serde_json::json!(if n.is_multiple_of(3) { "achterom, \"poort\"" } else { "" }));
                    let ean = ean_with_check_digit(&format!("87123450000{n:06}"));
                    let (gis_feeder, gis_cable) = if n.is_multiple_of(11) {
                        // GIS puts it on the other feeder's first cable.
                        let other = format!("{sid}-F{}", 2 - f);
                        (other.clone(), format!("{other}-C1"))
                    } else {
                        (fid.clone(), cid.clone())
                    };
                    conns.push(Connection {
                        ean: ean.clone(),
                        station_id: sid.clone(),
                        feeder_id: Some(gis_feeder),
                        cable_id: Some(gis_cable),
                        phase: Some(gis_phase),
                        street: Some(format!("Kerkstraat{}", s + 1)),
                        house_number: Some(n),
                        house_number_addition: if n.is_multiple_of(4) { Some("A".into()) } else { None },
                        postcode: Some("1234AB".into()),
                        meter: MeterKind::Smart,
                        pv_kwp_registered: if n.is_multiple_of(6) { Some(3.2) } else { None },
                        capacity: if three { "3x25A".parse().unwrap() } else { "1x35A".parse().unwrap() },
                        pos: lvtopo::crs::point_from_rd(x, y),
                        service_joint: None,
                        extra,
                    });
                    truth.push(TruthRow {
                        ean,
                        station_id: sid.clone(),
                        feeder_id: fid.clone(),
                        cable_id: cid.clone(),
                        phase: real,
                        rotation: if three && n.is_multiple_of(2) {
                            Some("L2L3L1".parse().unwrap())
                        } else {
                            three.then_some(Rotation::IDENTITY)
                        },
                    });
                }
            }
        }
    }
    (Network::new(stations, cables, conns, Crs::RdNew), truth)
}

/// An inference result from the truth: what a perfect inference would say, with
/// confidences spread over [0.55, 0.99] so thresholds select subsets.
fn analysis_from_truth(net: &Network, truth: &[TruthRow]) -> AnalysisResult {
    let assignments = truth
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let c = &net.connections[i];
            let conf = 0.55 + 0.44 * ((i * 37) % 100) as f64 / 99.0;
            let inferred_phase = match (t.phase, t.rotation) {
                (PhaseConnection::Single(p), _) => InferredPhase::Single(p),
                (PhaseConnection::Three, r) => InferredPhase::Rotation(r.unwrap_or(Rotation::IDENTITY)),
            };
            let differs = c.cable() != t.cable_id
                || match inferred_phase {
                    InferredPhase::Single(p) => c.phase != Some(PhaseConnection::Single(p)),
                    InferredPhase::Rotation(r) => r != Rotation::IDENTITY,
                    InferredPhase::Group(_) => true,
                };
            Assignment {
                connection: i,
                inferred_feeder: Some(t.feeder_id.clone()),
                feeder_confidence: conf,
                inferred_cable: Some(t.cable_id.clone()),
                cable_confidence: conf,
                inferred_phase: Some(inferred_phase),
                phase_confidence: conf,
                status: if differs { Status::SuggestChange } else { Status::Ok },
                reason: None,
                evidence: Evidence { points_used: 1440, ..Default::default() },
            }
        })
        .collect();
    AnalysisResult { assignments }
}

fn fixed_clock() -> Clock {
    let t = chrono::DateTime::parse_from_rfc3339("2026-03-30T03:10:00+02:00").unwrap();
    Arc::new(move || t)
}

fn open(path: &Path, net: &Network) -> (ReviewSession, RestoreOutcome) {
    let (mut s, o) = ReviewSession::open(Arc::new(net.clone()), path);
    s.set_clock(fixed_clock());
    s.set_user("planner1");
    (s, o)
}

#[test]
fn review_with_undo_survives_a_restart_and_matches_the_truth() {
    let (net, truth) = street_network();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kerkstraat.gpkg");
    let (mut s, o) = open(&path, &net);
    assert!(matches!(o, RestoreOutcome::NoSavedSession { .. }));
    s.set_analysis(analysis_from_truth(&net, &truth));
    let c = s.counts();
    assert!(c.total > 20 && c.pending == c.total, "{c:?}");

    // One gesture: accept everything above 0.8 on station ST1; then undo and redo it.
    let a = s.apply(SessionCommand::AcceptAllAbove { min_confidence: 0.8, station: Some("ST1".into()), feeder: None }).unwrap();
    assert!(a.changed > 3);
    assert_eq!(
        s.undo_description().unwrap(),
        format!("Undo: accept {} suggestions (confidence \u{2265} 0.80, station ST1)", a.changed)
    );
    s.undo().unwrap();
    assert_eq!(s.counts().accepted, 0);
    s.redo().unwrap();
    assert_eq!(s.counts().accepted, a.changed);
    // Then the rest, one by one via the table's order (lowest confidence first), and one rejection.
    let rest =
        s.query(&SuggestionFilter { status: Some(DecisionKind::Pending), ..Default::default() }, SortBy::Confidence, false);
    let (first, others) = rest.split_first().unwrap();
    s.apply(SessionCommand::Reject { ids: vec![*first], note: Some("twijfel".into()) }).unwrap();
    s.apply(SessionCommand::Accept { ids: others.to_vec(), note: None }).unwrap();
    let rejected = s.suggestion(*first).unwrap().clone();
    s.apply(SessionCommand::Edit { id: *first, value: rejected.new_value.clone(), note: None }).unwrap();
    assert_eq!(s.counts().pending, 0);
    assert_eq!(s.counts().rejected, 0);

    // Every connection now matches the truth.
    for (i, t) in truth.iter().enumerate() {
        let e = s.effective(i);
        assert_eq!(
            (e.cable(), e.feeder(), e.station_id.as_str()),
            (t.cable_id.as_str(), t.feeder_id.as_str(), t.station_id.as_str()),
            "{}",
            t.ean
        );
        assert_eq!(e.phase, Some(t.phase), "{}", t.ean);
        if t.rotation.is_some_and(|r| r != Rotation::IDENTITY) {
            assert_eq!(e.rotation, t.rotation, "{}", t.ean);
        }
    }
    assert!(s.inconsistencies().is_empty(), "{:?}", s.inconsistencies());

    // "Restart": a new session on the same network restores it.
    let (r, o) = open(&path, &net);
    assert!(matches!(o, RestoreOutcome::Restored { .. }), "{o:?}");
    assert_eq!(r.counts(), s.counts());
    assert_eq!(correction_rows(&r), correction_rows(&s));
}

fn exported_session() -> (ReviewSession, Vec<TruthRow>) {
    let (net, truth) = street_network();
    let mut s = ReviewSession::new(Arc::new(net.clone()));
    s.set_clock(fixed_clock());
    s.set_user("planner1");
    s.set_analysis(analysis_from_truth(&net, &truth));
    s.apply(SessionCommand::AcceptAllAbove { min_confidence: 0.0, station: None, feeder: None }).unwrap();
    (s, truth)
}

#[test]
fn corrections_csv_lists_every_change_with_its_evidence() {
    let (s, truth) = exported_session();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrections.csv");
    let n = write_corrections_csv(&s, &path).unwrap();
    let mut rd = csv::Reader::from_path(&path).unwrap();
    assert_eq!(
        rd.headers().unwrap().iter().collect::<Vec<_>>(),
        ["ean", "field", "old_value", "new_value", "confidence", "evidence", "decision", "decided_at", "note"]
    );
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), n);
    // Applying the rows in order to the GIS values gives the truth.
    let net = s.network();
    let mut now: HashMap<(String, String), String> = HashMap::new();
    for r in &rows {
        assert_eq!(&r[6], "accepted");
        assert_eq!(&r[7], "2026-03-30T03:10:00+02:00");
        assert_eq!(&r[8], "by planner1");
        assert!(r[4].parse::<f64>().is_ok_and(|c| (0.0..=1.0).contains(&c)));
        now.insert((r[0].to_string(), r[1].to_string()), r[3].to_string());
    }
    for (i, t) in truth.iter().enumerate() {
        let c = &net.connections[i];
        let get = |f: &str, gis: &str| now.get(&(c.ean.clone(), f.to_string())).cloned().unwrap_or_else(|| gis.to_string());
        assert_eq!(get("cable", c.cable()), t.cable_id);
        assert_eq!(get("feeder", c.feeder()), t.feeder_id);
        assert_eq!(get("phase", &c.phase_text()), t.phase.to_string());
    }
}

/// The Python with power-grid-model: `LVTOPO_TEST_PYTHON` (set by `scripts/test`, which
/// creates the venv), else the repository's `.venv-test`, else `python3`.
fn test_python() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("LVTOPO_TEST_PYTHON") {
        return p.into();
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-test/bin/python");
    if venv.exists() { venv } else { "python3".into() }
}

/// Runs the model through the real power-grid-model package: validation, then an
/// asymmetric load flow; returns the node voltage summary. A missing Python or
/// package is a failure (run `scripts/test`, which installs it), never a skip.
fn run_power_grid_model(json: &Path) -> Result<String, String> {
    const SCRIPT: &str = r#"
import sys
try:
    from power_grid_model import PowerGridModel, CalculationType
    from power_grid_model.utils import json_deserialize
    from power_grid_model.validation import validate_input_data, errors_to_string
except ImportError:
    sys.exit(77)
data = json_deserialize(open(sys.argv[1]).read())
errors = validate_input_data(data, calculation_type=CalculationType.power_flow, symmetric=False)
if errors:
    print(errors_to_string(errors, details=True))
    sys.exit(2)
model = PowerGridModel(data)
out = model.calculate_power_flow(symmetric=False)
u = out["node"]["u_pu"]
energized = out["node"]["energized"]
loads = out["asym_load"]["p"]
print(f"nodes {len(u)} energized {int(energized.sum())} u_pu min {u.min():.4f} max {u.max():.4f} asym_loads {len(loads)}")
"#;
    let py = test_python();
    let out = Command::new(&py)
        .arg("-c")
        .arg(SCRIPT)
        .arg(json)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/test, which creates the venv with power-grid-model", py.display()));
    match out.status.code() {
        Some(0) => Ok(String::from_utf8_lossy(&out.stdout).trim().to_string()),
        Some(77) => {
            panic!("{} has no power-grid-model package; run scripts/test, which installs it (pinned) in .venv-test", py.display())
        }
        _ => Err(format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))),
    }
}

#[test]
fn power_grid_model_export_is_valid_and_loads_sit_on_corrected_phases() {
    let (s, truth) = exported_session();
    let dir = tempfile::tempdir().unwrap();
    let (json, mapping) = (dir.path().join("kerkstraat.pgm.json"), dir.path().join("kerkstraat.pgm-mapping.csv"));
    let model = export_pgm(&s, &json, &mapping, &PgmOptions::default()).unwrap();
    assert!(model.warnings.is_empty(), "{:?}", model.warnings);

    // Well-formed: unique ids, every connection loaded once, on its corrected phase.
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let mut ids = HashSet::new();
    for rows in doc["data"].as_object().unwrap().values() {
        for r in rows.as_array().unwrap() {
            let id = r["id"].as_i64().unwrap();
            assert!(id > 0 && id <= i32::MAX as i64);
            assert!(ids.insert(id), "duplicate id {id}");
        }
    }
    let mut map = csv::Reader::from_path(&mapping).unwrap();
    let mapping: HashMap<i64, (String, String)> =
        map.records().map(|r| r.unwrap()).map(|r| (r[0].parse().unwrap(), (r[1].to_string(), r[3].to_string()))).collect();
    assert_eq!(mapping.len(), ids.len());
    let mut loaded = HashSet::new();
    for l in doc["data"]["asym_load"].as_array().unwrap() {
        let (comp, ean) = &mapping[&l["id"].as_i64().unwrap()];
        assert_eq!(comp, "asym_load");
        let t = truth.iter().find(|t| &t.ean == ean).unwrap();
        let p = t.phase.single().unwrap();
        let ps: Vec<f64> = l["p_specified"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert!(ps[p.index()] > 0.0 && ps.iter().filter(|v| **v > 0.0).count() == 1, "{ean} on {p}: {ps:?}");
        assert!(loaded.insert(ean.clone()));
    }
    for l in doc["data"]["sym_load"].as_array().unwrap() {
        let (_, ean) = &mapping[&l["id"].as_i64().unwrap()];
        assert!(truth.iter().any(|t| &t.ean == ean && t.phase.is_three_phase()));
        assert!(loaded.insert(ean.clone()));
    }
    assert_eq!(loaded.len(), truth.len());

    match run_power_grid_model(&json) {
        Ok(summary) => {
            eprintln!("power-grid-model: {summary}");
            let nodes = doc["data"]["node"].as_array().unwrap().len();
            assert!(summary.starts_with(&format!("nodes {nodes} energized {nodes} ")), "{summary}");
        }
        Err(e) => panic!("power-grid-model rejected the export:\n{e}"),
    }
}

/// `ogrinfo -ro -al <file>` output, or `None` when gdal-bin is not installed
/// (scripts/test installs it; the caller fails then, this check is not optional).
fn ogrinfo(path: &Path) -> Option<String> {
    let out = Command::new("ogrinfo").args(["-ro", "-al"]).arg(path).output().ok()?;
    assert!(out.status.success(), "ogrinfo failed on {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn export_all_writes_geojson_that_gdal_reads_with_every_attribute() {
    let (s, truth) = exported_session();
    let dir = tempfile::tempdir().unwrap();
    let sum = export_all(&s, dir.path(), &lvtopo::progress::NoProgress).unwrap();
    assert!(sum.inconsistencies.is_empty() && sum.pgm_warnings.is_empty());
    assert!(sum.files.iter().all(|f| f.exists()), "{:?}", sum.files);
    assert_eq!(sum.changed_connections, s.changed_connections().len());

    // Our own read: contract fields corrected, extra attributes kept, RD New declared.
    let conns = dir.path().join(names::GEOJSON_DIR).join("connections.geojson");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&conns).unwrap()).unwrap();
    assert_eq!(v["crs"]["properties"]["name"], "urn:ogc:def:crs:EPSG::28992");
    let feats = v["features"].as_array().unwrap();
    assert_eq!(feats.len(), truth.len());
    for (f, t) in feats.iter().zip(&truth) {
        let p = &f["properties"];
        assert_eq!(p["ean"], t.ean.as_str());
        assert_eq!(p["cable_id"], t.cable_id.as_str());
        assert_eq!(p["feeder_id"], t.feeder_id.as_str());
        assert_eq!(p["phase"], t.phase.to_string().as_str());
        assert!(p["bag_id"].as_str().is_some_and(|b| b.starts_with("0363")), "{p}");
        assert!(p.get("remark").is_some());
        if let Some(r) = t.rotation.filter(|r| *r != Rotation::IDENTITY) {
            assert_eq!(p["rotation"], r.to_string().as_str());
        }
    }
    // An independent reader: GDAL.
    match ogrinfo(&conns) {
        None => panic!("ogrinfo (gdal-bin) is required: apt-get install gdal-bin"),
        Some(info) => {
            assert!(info.contains(&format!("Feature Count: {}", truth.len())), "{info}");
            assert!(info.contains("Amersfoort / RD New"), "{info}");
            for field in ["ean: String", "phase: String", "bag_id: String", "remark: String", "rotation: String"] {
                assert!(info.contains(field), "{field} missing:\n{}", &info[..info.len().min(3000)]);
            }
        }
    }
}

#[test]
fn geopackage_export_opens_in_gdal_with_crs_layers_and_attributes() {
    let (s, truth) = exported_session();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(names::GPKG);
    export_gpkg(&s, &path).unwrap();
    // A stray temp file of an interrupted earlier export must not matter either.
    std::fs::write(dir.path().join(".corrected.gpkg.x1.tmp"), b"partial").unwrap();
    export_gpkg(&s, &path).unwrap();

    let info = ogrinfo(&path).expect("ogrinfo (gdal-bin) is required: apt-get install gdal-bin");
    assert!(info.contains("using driver `GPKG'"), "{}", &info[..info.len().min(2000)]);
    for (layer, geom, count) in [("stations", "Point", 2), ("cables", "Line String", 12), ("connections", "Point", truth.len())] {
        let at = info.find(&format!("Layer name: {layer}")).unwrap_or_else(|| panic!("layer {layer} missing"));
        let part = &info[at..];
        assert!(part.contains(&format!("Geometry: {geom}")), "{layer}");
        assert!(part.contains(&format!("Feature Count: {count}")), "{layer}: {}", &part[..part.len().min(1500)]);
    }
    assert!(info.contains("Amersfoort / RD New"), "CRS");
    for field in [
        "ean: String",
        "house_number: Integer",
        "pv_kwp_registered: Real",
        "bag_id: String",
        "remark: String",
        "rotation: String",
        "year_laid: Integer",
    ] {
        assert!(info.contains(field), "{field} missing");
    }
    // The corrected values and an original attribute of one moved connection, as GDAL reads them.
    let moved = truth.iter().enumerate().find(|(i, t)| s.network().connections[*i].cable() != t.cable_id).unwrap().1;
    let out = Command::new("ogrinfo")
        .args(["-ro", "-q", "-where", &format!("ean = '{}'", moved.ean)])
        .arg(&path)
        .arg("connections")
        .output()
        .unwrap();
    let one = String::from_utf8_lossy(&out.stdout);
    assert!(one.contains(&format!("cable_id (String) = {}", moved.cable_id)), "{one}");
    assert!(one.contains(&format!("feeder_id (String) = {}", moved.feeder_id)), "{one}");
    assert!(one.contains("bag_id (String) = 0363"), "{one}");
    assert!(one.contains("POINT ("), "{one}");
    assert!(out.stderr.is_empty(), "GDAL warned: {}", String::from_utf8_lossy(&out.stderr));

    // GDAL's own GeoPackage conformance checker (python3-gdal, installed by scripts/test).
    let validator = Path::new("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py");
    assert!(validator.exists(), "GDAL's validate_gpkg.py (python3-gdal) is required; scripts/test installs it");
    let v = Command::new("/usr/bin/python3").arg(validator).arg(&path).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&v.stdout), String::from_utf8_lossy(&v.stderr));
    assert!(v.status.success() && text.trim().is_empty(), "validate_gpkg.py: {text}");
}

#[test]
fn generated_sample_network_corrected_from_its_truth_exports_and_flows() {
    let cfg = lvtopo::sim::SimConfig::preset("tiny").unwrap();
    let sim = lvtopo::sim::generate(&cfg, 7, &lvtopo::progress::NoProgress).unwrap();
    let (net, truth) = (sim.network, sim.truth);
    let mut s = ReviewSession::new(Arc::new(net.clone()));
    s.set_clock(fixed_clock());
    let result = analysis_from_truth(&net, &truth);
    let wrong = result.assignments.iter().filter(|a| a.status == Status::SuggestChange).count();
    s.set_analysis(result);
    assert!(wrong > 0 && s.counts().total >= wrong, "the generator injects GIS errors");
    s.apply(SessionCommand::AcceptAllAbove { min_confidence: 0.0, station: None, feeder: None }).unwrap();
    for (i, t) in truth.iter().enumerate() {
        let e = s.effective(i);
        assert_eq!((e.cable(), e.phase), (t.cable_id.as_str(), Some(t.phase)), "{}", t.ean);
        assert_eq!(e.feeder(), t.feeder_id, "{}", t.ean);
    }
    assert!(s.inconsistencies().is_empty(), "{:?}", s.inconsistencies());

    let dir = tempfile::tempdir().unwrap();
    let sum = export_all(&s, dir.path(), &lvtopo::progress::NoProgress).unwrap();
    assert!(sum.pgm_warnings.iter().all(|w| w.starts_with("topology:")), "{:?}", sum.pgm_warnings);
    let info = ogrinfo(&dir.path().join(names::GPKG)).expect("ogrinfo (gdal-bin) is required");
    assert!(info.contains(&format!("Feature Count: {}", truth.len())), "connections layer");
    match run_power_grid_model(&dir.path().join(names::PGM)) {
        Ok(summary) => eprintln!("power-grid-model on the corrected sample network: {summary}"),
        Err(e) => panic!("power-grid-model rejected the export:\n{e}"),
    }
}

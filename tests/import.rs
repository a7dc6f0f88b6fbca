//! Importers against the data contract: a clean hand-made network, one test per
//! bad-input class with the exact report text, a deliberately broken file whose
//! report names every problem, round trips through the writers, the committed
//! sample networks, and random/truncated input that must never panic.

use lvtopo::io::gpkg::{ColumnType, write_network_gpkg, write_point_layer};
use lvtopo::io::measurements::{read_feed_in, read_incidents, read_outage_log, read_presence, read_truth, read_voltage_events};
use lvtopo::io::voltage::read_voltage;
use lvtopo::io::{ImportReport, LoadedNetwork, load_measurements, load_network};
use lvtopo::model::{Crs, Network};
use lvtopo::progress::NoProgress;
use std::fs;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn load(p: &Path) -> LoadedNetwork {
    load_network(p, &NoProgress).unwrap()
}

fn issues(r: &ImportReport) -> Vec<String> {
    r.issues.iter().map(|i| i.to_string()).collect()
}

/// A temp folder with the clean network, `file` replaced by `content`.
fn clean_with(file: &str, content: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for f in ["stations.geojson", "cables.geojson", "connections.geojson"] {
        fs::copy(fixture("clean").join(f), d.path().join(f)).unwrap();
    }
    fs::write(d.path().join(file), content).unwrap();
    d
}

const RD: &str = r#""crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::28992"}}"#;

fn connections(features: &[&str]) -> String {
    format!("{{\"type\":\"FeatureCollection\",{RD},\"features\":[{}]}}", features.join(",\n"))
}

const GOOD_CONN: &str = r#"{"type":"Feature","properties":{"ean":"871687100000000013","station_id":"S1","feeder_id":"S1-F1","cable_id":"K1","phase":"L1"},"geometry":{"type":"Point","coordinates":[155050.0,463010.0]}}"#;

fn voltage_report(content: &[u8], name: &str) -> ImportReport {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(name);
    fs::write(&p, content).unwrap();
    let mut r = ImportReport::default();
    read_voltage(&p, None, &mut r, &NoProgress).unwrap();
    r
}

#[test]
fn clean_hand_made_network_and_measurements_load_without_issues() {
    let l = load(&fixture("clean"));
    assert_eq!(issues(&l.report), Vec::<String>::new());
    assert_eq!(l.network.stations.len(), 1);
    assert_eq!(l.network.cables.len(), 3);
    assert_eq!(l.network.connections.len(), 3);
    assert_eq!(l.network.source_crs, Crs::RdNew);
    let c = &l.network.connections[1];
    assert_eq!(c.ean, "871687100000000020", "EAN given as a JSON number is read as text");
    assert_eq!(c.house_number, Some(3), "house number given as text is read as a number");
    assert_eq!(c.extra["bag_id"], "0307010000123456", "unknown properties are kept");
    assert_eq!(l.network.cables[1].r_ohm_per_km, Some(0.32));
    assert!(l.topology.routes.iter().all(Option::is_some));
    let m = load_measurements(&[fixture("clean")], &l.network, &NoProgress).unwrap();
    assert_eq!(issues(&m.report), Vec::<String>::new());
    let v = m.measurements.voltage.unwrap();
    // 24 steps across the daylight-saving change of 30 March 2025: one common grid.
    assert_eq!(v.grid.len, 24);
    assert_eq!(v.keys.len(), 4);
    assert_eq!(m.measurements.feed_in.unwrap().grid.len, 8);
    assert_eq!(m.measurements.incidents[0].cable_ids, vec!["K1", "K2"]);
    assert_eq!(m.measurements.presence[1].voltage_present, None);
    assert_eq!(m.truth.unwrap()[1].rotation.unwrap().to_string(), "L2L3L1");
}

#[test]
fn malformed_number() {
    let r =
        voltage_report(b"ean,timestamp,channel,voltage_v\n871687100000000013,2025-03-10T14:20:00+01:00,L1,2x0\n", "voltage.csv");
    assert_eq!(issues(&r), vec![r#"error: voltage.csv row 1, column "voltage_v": expected a number, found "2x0""#]);
    assert_eq!((r.files[0].rows_read, r.files[0].rejected), (1, 1));
}

#[test]
fn missing_required_column() {
    let r = voltage_report(b"ean,channel,timestamp\n871687100000000013,L1,2025-03-10T14:20:00+01:00\n", "voltage.csv");
    assert_eq!(
        issues(&r),
        vec![
            r#"error: voltage.csv, column "voltage_v": missing required column "voltage_v" (the header has: ean, channel, timestamp)"#
        ]
    );
}

#[test]
fn unknown_phase_value() {
    let bad = GOOD_CONN.replace(r#""phase":"L1""#, r#""phase":"L4""#);
    let d = clean_with("connections.geojson", &connections(&[&bad]));
    let l = load(d.path());
    assert_eq!(
        issues(&l.report),
        vec![
            r#"error: connections.geojson feature 1 (871687100000000013), column "phase": expected L1, L2, L3 or L123, found "L4""#
        ]
    );
    assert_eq!(l.network.connections.len(), 0);
    assert_eq!(l.report.files[2].rejected, 1);
}

#[test]
fn duplicate_ean_names_both_features() {
    let d = clean_with("connections.geojson", &connections(&[GOOD_CONN, GOOD_CONN]));
    let l = load(d.path());
    assert_eq!(
        issues(&l.report),
        vec![
            r#"error: connections.geojson feature 2 (871687100000000013), column "ean": duplicate EAN "871687100000000013": already used by feature 1; this feature is rejected"#
        ]
    );
    assert_eq!(l.network.connections.len(), 1);
}

#[test]
fn invalid_geometry() {
    let bad = GOOD_CONN.replace(r#""coordinates":[155050.0,463010.0]"#, r#""coordinates":[155050.0,"north"]"#);
    let d = clean_with("connections.geojson", &connections(&[&bad]));
    assert_eq!(
        issues(&load(d.path()).report),
        vec![
            r#"error: connections.geojson feature 1 (871687100000000013): invalid geometry: expected numeric coordinates, found [155050.0,"north"]"#
        ]
    );
    let line = r#"{"type":"Feature","properties":{"cable_id":"K1","station_id":"S1","feeder_id":"S1-F1"},"geometry":{"type":"LineString","coordinates":[[155000.0,463002.0]]}}"#;
    let d = clean_with("cables.geojson", &connections(&[line]));
    let l = load(d.path());
    assert_eq!(
        issues(&l.report)[0],
        r#"error: cables.geojson feature 1 (K1): invalid geometry: a LineString needs at least 2 positions, found 1"#
    );
}

#[test]
fn empty_geometry() {
    let bad = GOOD_CONN.replace(r#"{"type":"Point","coordinates":[155050.0,463010.0]}"#, "null");
    let d = clean_with("connections.geojson", &connections(&[&bad]));
    assert_eq!(
        issues(&load(d.path()).report),
        vec![r#"error: connections.geojson feature 1 (871687100000000013): empty geometry: the feature has no geometry"#]
    );
    let bad = GOOD_CONN.replace(r#""coordinates":[155050.0,463010.0]"#, r#""coordinates":[]"#);
    let d = clean_with("connections.geojson", &connections(&[&bad]));
    assert_eq!(
        issues(&load(d.path()).report),
        vec![r#"error: connections.geojson feature 1 (871687100000000013): empty geometry: Point without coordinates"#]
    );
}

#[test]
fn unsupported_crs() {
    let doc = connections(&[GOOD_CONN]).replace("urn:ogc:def:crs:EPSG::28992", "EPSG:3857");
    let d = clean_with("connections.geojson", &doc);
    assert_eq!(
        issues(&load(d.path()).report),
        vec![
            r#"error: connections.geojson: unsupported CRS "EPSG:3857": expected EPSG:28992 (RD New, e.g. "urn:ogc:def:crs:EPSG::28992") or WGS84"#
        ]
    );
    // The same in a GeoPackage: srs 3857 declared for the layers.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("net.gpkg");
    write_network_gpkg(&p, &load(&fixture("clean")).network, Crs::RdNew).unwrap();
    let db = rusqlite::Connection::open(&p).unwrap();
    db.execute_batch("INSERT INTO gpkg_spatial_ref_sys VALUES ('Pseudo-Mercator', 3857, 'EPSG', 3857, 'undefined', ''); UPDATE gpkg_geometry_columns SET srs_id = 3857 WHERE table_name = 'stations';").unwrap();
    drop(db);
    assert_eq!(
        issues(&load(&p).report)[0],
        "error: net.gpkg:stations: unsupported CRS EPSG:3857: expected EPSG:28992 (RD New) or EPSG:4326 (WGS84)"
    );
}

#[test]
fn rd_coordinates_in_a_wgs84_file() {
    let doc = connections(&[GOOD_CONN]).replace(&format!("{RD},"), "");
    let d = clean_with("connections.geojson", &doc);
    assert_eq!(
        issues(&load(d.path()).report),
        vec![
            "error: connections.geojson: coordinates look like RD New (EPSG:28992) metres (feature 1: 155050, 463010), but the file is read as WGS84 (EPSG:4326) longitude/latitude degrees (no crs member, so WGS84 as GeoJSON prescribes)"
        ]
    );
}

#[test]
fn naive_timestamp_without_offset() {
    let r = voltage_report(b"ean,timestamp,channel,voltage_v\n871687100000000013,2025-03-10T14:20:00,L1,230.1\n", "voltage.csv");
    assert_eq!(
        issues(&r),
        vec![
            r#"error: voltage.csv row 1, column "timestamp": expected a timestamp with offset (e.g. 2025-03-10T14:20:00+01:00 or ...Z), found local time "2025-03-10T14:20:00" without offset (ambiguous at daylight-saving changes)"#
        ]
    );
}

#[test]
fn empty_file() {
    let r = voltage_report(b"", "voltage.csv");
    assert_eq!(issues(&r), vec!["error: voltage.csv: the file is empty; expected a header row ean,timestamp,channel,voltage_v"]);
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("incidents.csv");
    fs::write(&p, "").unwrap();
    let mut r = ImportReport::default();
    read_incidents(&p, None, &mut r);
    assert_eq!(
        issues(&r),
        vec!["error: incidents.csv: the file is empty; expected a header row with incident_id,start,end,planned,cable_ids"]
    );
    let d = clean_with("stations.geojson", "");
    assert_eq!(
        issues(&load(d.path()).report)[0],
        "error: stations.geojson: the file is empty; expected a GeoJSON FeatureCollection"
    );
}

fn gzip(b: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

#[test]
fn truncated_gzip() {
    let csv = fs::read(fixture("clean/voltage.csv")).unwrap();
    let gz = gzip(&csv);
    let r = voltage_report(&gz[..gz.len() / 2], "voltage.csv.gz");
    let e = issues(&r);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("error: voltage.csv.gz: the gzip data is truncated or corrupt ("), "{}", e[0]);
    assert!(e[0].contains("the rest of the file is missing; rows up to row"), "{}", e[0]);
    // The small-file readers say the same.
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("feed_in.csv.gz");
    let gz = gzip(&fs::read(fixture("clean/feed_in.csv")).unwrap());
    fs::write(&p, &gz[..gz.len() - 12]).unwrap();
    let mut r = ImportReport::default();
    read_feed_in(&p, None, &mut r);
    assert!(issues(&r)[0].starts_with("error: feed_in.csv.gz: the gzip data is truncated or corrupt ("), "{:?}", issues(&r));
}

#[test]
fn unknown_phase_feeder_and_cable_are_values_counted_in_the_report() {
    let unknown = GOOD_CONN
        .replace(r#""phase":"L1""#, r#""phase":"onbekend""#)
        .replace(r#""cable_id":"K1""#, r#""cable_id":"?""#)
        .replace(r#""feeder_id":"S1-F1""#, r#""feeder_id":"""#);
    let d = clean_with("connections.geojson", &connections(&[&unknown]));
    let l = load(d.path());
    assert!(issues(&l.report).is_empty(), "{:?}", issues(&l.report));
    let c = &l.network.connections[0];
    assert_eq!((c.phase, c.feeder_id.as_deref(), c.cable_id.as_deref()), (None, None, None));
    let s = l.report.files.iter().find(|f| f.file == "connections.geojson").unwrap();
    assert_eq!(s.unknown.values().copied().collect::<Vec<_>>(), [1, 1, 1], "{:?}", s.unknown);
    assert!(l.report.to_string().contains("not known in GIS, to be filled in: cable_id 1, feeder_id 1, phase 1"));
    // Placed on the nearest section from its point.
    assert_eq!(l.topology.attachments[0].map(|a| l.network.cables[a.cable].id.as_str()), Some("K1"));
}

#[test]
fn connection_whose_cable_does_not_exist_is_kept_and_flagged() {
    let bad = GOOD_CONN.replace(r#""cable_id":"K1""#, r#""cable_id":"K99""#);
    let d = clean_with("connections.geojson", &connections(&[&bad]));
    let l = load(d.path());
    assert_eq!(
        issues(&l.report),
        vec![
            r#"error: connections.geojson feature 1 (871687100000000013), column "cable_id": cable "K99" does not exist in cables.geojson; connection kept without a cable"#
        ]
    );
    assert_eq!(l.network.connections.len(), 1);
    assert_eq!(l.topology.attachments[0], None);
}

#[test]
fn broken_network_report_names_every_problem() {
    let l = load(&fixture("broken"));
    let c = "error: connections.geojson feature";
    assert_eq!(
        issues(&l.report),
        vec![
            format!(r#"{c} 2 (871687100000000020), column "phase": expected L1, L2, L3 or L123, found "L4""#),
            format!(r#"{c} 3 (871687100000000013), column "ean": duplicate EAN "871687100000000013": already used by feature 1; this feature is rejected"#),
            format!(r#"{c} 4 (871687100000000037), column "cable_id": cable "K99" does not exist in cables.geojson; connection kept without a cable"#),
            format!(r#"{c} 5 (871687100000000044): empty geometry: the feature has no geometry"#),
            r#"warning: connections.geojson feature 6 (871687100000000045), column "ean": EAN check digit does not verify (GS1 mod 10)"#.to_string(),
            format!(r#"{c} 7 (871687100000000051), column "pv_kwp_registered": expected a number, found "3,5""#),
            r#"warning: connections.geojson feature 8 (871687100000000068), column "feeder_id": feeder "S1-F2" differs from feeder "S1-F1" of its cable "K1""#.to_string(),
            format!(r#"{c} 9, column "ean": required value is missing"#),
        ]
    );
    let s = &l.report.files[2];
    assert_eq!((s.rows_read, s.accepted, s.rejected, s.warnings), (10, 5, 5, 2));
    // A LineString is a service line: the house at the end away from the cables.
    let sl = &l.network.connections[l.network.connection_index("871687100000000075").expect("service line accepted")];
    assert!(sl.service_joint.is_some());

    let m = load_measurements(&[fixture("broken/voltage.csv")], &l.network, &NoProgress).unwrap();
    let v = "error: voltage.csv row";
    assert_eq!(
        issues(&m.report),
        vec![
            r#"warning: voltage.csv, column "quality": column is not part of the data contract and is ignored"#.to_string(),
            format!(r#"{v} 2, column "voltage_v": expected a number, found "2x0""#),
            format!(r#"{v} 3, column "timestamp": expected a timestamp with offset (e.g. 2025-03-10T14:20:00+01:00 or ...Z), found local time "2025-03-10T14:40:00" without offset (ambiguous at daylight-saving changes)"#),
            format!(r#"{v} 4, column "channel": expected L1, L2 or L3, found "L4""#),
            format!(r#"{v} 5, column "timestamp": timestamp 2025-03-10T13:45:00Z is not on the 10-minute grid of this file (interval ends at 2025-03-10T13:20:00Z + k x 10 min)"#),
            r#"warning: voltage.csv row 7, column "voltage_v": conflicting duplicate: 231 V for 871687100000000013 L1 at 2025-03-10T13:20:00Z, but row 1 gave 230.1 V; kept the first"#.to_string(),
            r#"warning: voltage.csv, column "ean": 1 row(s) for 1 EAN(s) not in the network, kept but not matched to a connection: 999999999999999999"#.to_string(),
        ]
    );
    let s = &m.report.files[0];
    assert_eq!((s.rows_read, s.accepted, s.rejected, s.duplicates), (8, 2, 5, 1));
}

fn assert_same_network(a: &Network, b: &Network) {
    assert_eq!(a.stations, b.stations);
    assert_eq!(a.cables, b.cables);
    assert_eq!(a.connections, b.connections);
    assert_eq!(a.source_crs, b.source_crs);
}

#[test]
fn geopackage_round_trip_and_gdal_reads_it() {
    let net = load(&fixture("clean")).network;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("net.gpkg");
    write_network_gpkg(&p, &net, Crs::RdNew).unwrap();
    let back = load(&p);
    assert_eq!(issues(&back.report), Vec::<String>::new());
    assert_same_network(&net, &back.network);

    // In WGS84: positions within a millimetre.
    let p84 = dir.path().join("net84.gpkg");
    write_network_gpkg(&p84, &net, Crs::Wgs84).unwrap();
    let back = load(&p84);
    assert_eq!(issues(&back.report), Vec::<String>::new());
    assert_eq!(back.network.source_crs, Crs::Wgs84);
    for (a, b) in net.connections.iter().zip(&back.network.connections) {
        assert!(a.pos.distance_m(&b.pos) < 1e-3);
    }

    // GDAL (what QGIS uses) must open it: Debian's gdal-bin provides ogrinfo.
    let out = std::process::Command::new("ogrinfo").args(["-ro", "-al", "-so"]).arg(&p).output();
    let out = out.expect("ogrinfo (Debian package gdal-bin) must be installed for this test");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "ogrinfo failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Layer name: connections") && text.contains("Feature Count: 3"), "{text}");
    assert!(text.contains("Geometry: Line String") && text.contains("EPSG\",28992") || text.contains("28992"), "{text}");
    assert!(text.contains("Extent: (154900.000000, 462998.000000) - (155100.000000, 463080.000000)"), "{text}");
    assert!(text.contains("ean: String"), "{text}");

    // The generic point layer writer (used for the corrected connections export).
    let pl = dir.path().join("points.gpkg");
    let rows =
        net.connections.iter().map(|c| (c.pos, vec![c.ean.clone().into(), c.house_number.into(), serde_json::Value::Null]));
    write_point_layer(
        &pl,
        "corrected",
        Crs::RdNew,
        &[("ean", ColumnType::Text), ("house_number", ColumnType::Integer), ("note", ColumnType::Text)],
        rows,
    )
    .unwrap();
    let out = std::process::Command::new("ogrinfo").args(["-ro", "-al"]).arg(&pl).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ean (String) = 871687100000000037") && text.contains("POINT (154950 462990)"), "{text}");
}

#[test]
fn geojson_and_csv_writers_round_trip() {
    let net = load(&fixture("clean")).network;
    let dir = tempfile::tempdir().unwrap();
    for crs in [Crs::RdNew, Crs::Wgs84] {
        lvtopo::io::write_geojson::write_network_geojson(dir.path(), &net, crs).unwrap();
        let back = load(dir.path());
        assert_eq!(issues(&back.report), Vec::<String>::new());
        assert_eq!(back.network.connections.len(), 3);
        for (a, b) in net.connections.iter().zip(&back.network.connections) {
            assert_eq!((&a.ean, a.phase, &a.extra), (&b.ean, b.phase, &b.extra));
            assert!(a.pos.distance_m(&b.pos) < 0.01);
        }
        if crs == Crs::RdNew {
            assert_same_network(&net, &back.network);
        }
    }
    // Measurements: read the clean fixture, write with the writers (gzip for voltage), read again.
    let m = load_measurements(&[fixture("clean")], &net, &NoProgress).unwrap().measurements;
    use lvtopo::io::write_csv::*;
    let v = m.voltage.as_ref().unwrap();
    write_voltage(&dir.path().join("voltage.csv.gz"), v, None, &[(0, 3)]).unwrap();
    write_feed_in(&dir.path().join("feed_in.csv"), m.feed_in.as_ref().unwrap()).unwrap();
    write_voltage_events(&dir.path().join("voltage_events.csv"), &m.voltage_events).unwrap();
    write_outage_log_dsmr(&dir.path().join("outage_log.csv"), &m.outage_log).unwrap();
    write_incidents(&dir.path().join("incidents.csv"), &m.incidents).unwrap();
    write_presence(&dir.path().join("voltage_presence.csv"), &m.presence).unwrap();
    let back = load_measurements(&[dir.path().to_path_buf()], &net, &NoProgress).unwrap();
    assert_eq!(issues(&back.report), Vec::<String>::new());
    let bv = back.measurements.voltage.as_ref().unwrap();
    assert_eq!((bv.grid, &bv.keys), (v.grid, &v.keys));
    assert!(bv.values.iter().zip(&v.values).all(|(a, b)| a == b || (a.is_nan() && b.is_nan())));
    assert_eq!(back.report.files.iter().find(|f| f.file == "voltage.csv.gz").unwrap().duplicates, 1);
    assert_eq!(back.measurements.voltage_events, m.voltage_events);
    assert_eq!(back.measurements.outage_log, m.outage_log, "DSMR layout (end, duration_s) read back");
    assert_eq!(back.measurements.incidents, m.incidents);
    assert_eq!(back.measurements.presence, m.presence);
    let f = back.measurements.feed_in.unwrap();
    assert_eq!(f.import_kwh, m.feed_in.as_ref().unwrap().import_kwh);
}

#[test]
fn committed_sample_networks_load_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-networks");
    let Ok(dirs) = fs::read_dir(&root) else { return };
    let mut n = 0;
    // `corpus` is a folder of networks with its own test (tests/corpus.rs).
    for d in dirs.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir() && !p.ends_with("corpus")) {
        let l = load(&d);
        let errors: Vec<String> =
            l.report.issues.iter().filter(|i| i.severity == lvtopo::io::Severity::Error).map(|i| i.to_string()).collect();
        assert_eq!(errors, Vec::<String>::new(), "{}", d.display());
        for w in issues(&l.report) {
            println!("{}: {w}", d.display());
        }
        assert!(!l.network.connections.is_empty(), "{}", d.display());
        let m = load_measurements(std::slice::from_ref(&d), &l.network, &NoProgress).unwrap();
        assert_eq!(issues(&m.report), Vec::<String>::new(), "{}", d.display());
        assert!(m.measurements.voltage.is_some() && m.truth.is_some(), "{}", d.display());
        n += 1;
    }
    assert!(n >= 1, "no sample networks in {}", root.display());
}

/// Small deterministic generator (no test-only crate needed).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn random_bytes_and_truncated_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(42);
    let mut samples: Vec<(String, Vec<u8>)> = Vec::new();
    for f in [
        "stations.geojson",
        "cables.geojson",
        "connections.geojson",
        "voltage.csv",
        "feed_in.csv",
        "voltage_events.csv",
        "outage_log.csv",
        "incidents.csv",
        "voltage_presence.csv",
        "truth.csv",
    ] {
        let good = fs::read(fixture("clean").join(f)).unwrap();
        for cut in [0, 1, good.len() / 3, good.len() / 2, good.len() - 1] {
            samples.push((f.to_string(), good[..cut].to_vec()));
        }
        for _ in 0..12 {
            // Flip random bytes of a good file, and pure noise.
            let mut b = good.clone();
            for _ in 0..1 + rng.next() % 20 {
                let i = (rng.next() as usize) % b.len();
                b[i] = rng.next() as u8;
            }
            samples.push((f.to_string(), b));
            let noise: Vec<u8> = (0..rng.next() % 400).map(|_| rng.next() as u8).collect();
            samples.push((f.to_string(), noise));
        }
        let gz = gzip(&good);
        samples.push((format!("{f}.gz"), gz[..gz.len() * 2 / 3].to_vec()));
    }
    for (name, bytes) in samples {
        let d = dir.path().join("case");
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        if name.ends_with(".geojson") {
            for f in ["stations.geojson", "cables.geojson", "connections.geojson"] {
                fs::copy(fixture("clean").join(f), d.join(f)).unwrap();
            }
        }
        let p = d.join(&name);
        fs::write(&p, &bytes).unwrap();
        if name.ends_with(".geojson") {
            let _ = load(&d);
        } else {
            let mut r = ImportReport::default();
            let _ = read_voltage(&p, None, &mut r, &NoProgress);
            read_feed_in(&p, None, &mut r);
            read_voltage_events(&p, None, &mut r);
            read_outage_log(&p, None, &mut r);
            read_incidents(&p, None, &mut r);
            read_presence(&p, None, &mut r);
            read_truth(&p, None, &mut r);
        }
    }
    // A GeoPackage cut short or with noise is an error, not a panic.
    let net = load(&fixture("clean")).network;
    let p = dir.path().join("net.gpkg");
    write_network_gpkg(&p, &net, Crs::RdNew).unwrap();
    let good = fs::read(&p).unwrap();
    for cut in [0, 100, good.len() / 2] {
        let q = dir.path().join(format!("cut{cut}.gpkg"));
        fs::write(&q, &good[..cut]).unwrap();
        assert!(load(&q).report.has_errors(), "cut at {cut}");
    }
}

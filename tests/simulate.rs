//! The sample-network generator end to end: physics, meter realism, files, determinism.

use lvtopo::model::{MeterKind, Phase, PhaseConnection};
use lvtopo::progress::NoProgress;
use lvtopo::sim::{self, SimConfig, WriteOptions};
use std::collections::{HashMap, HashSet};

fn tiny() -> SimConfig {
    SimConfig::preset("tiny").unwrap()
}

#[test]
fn tiny_network_is_complete_and_physically_consistent() {
    let cfg = tiny();
    let out = sim::generate(&cfg, 5, &NoProgress).unwrap();
    let net = &out.network;
    assert!(net.connections.len() >= 30, "{} connections", net.connections.len());
    assert_eq!(out.truth.len(), net.connections.len());
    // The load flow balanced power in every step.
    assert!(out.scenario.load_flow.worst_power_balance_w < 1e-3, "{:?}", out.scenario.load_flow);
    // Voltages are plausible and on the meters' rounding.
    let v = out.measurements.voltage.as_ref().unwrap();
    assert_eq!(v.grid.len, cfg.days * 144);
    let present: Vec<f32> = v.values.iter().copied().filter(|x| !x.is_nan()).collect();
    assert!(present.len() as f64 > 0.9 * v.values.len() as f64);
    for &x in &present {
        assert!((200.0..260.0).contains(&x), "{x} V");
        assert!(((x as f64 * 10.0) - (x as f64 * 10.0).round()).abs() < 1e-3, "{x} not on 0.1 V");
    }
    // Single-phase meters report only L1; conventional meters nothing.
    let truth: HashMap<&str, _> = out.truth.iter().map(|t| (t.ean.as_str(), t)).collect();
    for c in &net.connections {
        let ch = v.channels(&c.ean);
        match (c.meter, truth[c.ean.as_str()].phase) {
            (MeterKind::Conventional, _) => assert_eq!(ch, [None; 3]),
            (_, PhaseConnection::Single(_)) => assert!(ch[0].is_some() && ch[1].is_none() && ch[2].is_none()),
            (_, PhaseConnection::Three) => assert!(ch.iter().all(Option::is_some)),
        }
    }
    // GIS errors are real differences from the truth, and recorded.
    for e in &out.scenario.gis_errors {
        let c = &net.connections[net.connection_index(&e.ean).unwrap()];
        let t = truth[e.ean.as_str()];
        match e.kind.as_str() {
            "phase" => assert_ne!(c.phase, Some(t.phase)),
            "feeder" => assert_ne!(c.feeder(), t.feeder_id),
            "cable" => assert!(c.cable() != t.cable_id && c.feeder() == t.feeder_id),
            k => panic!("unknown kind {k}"),
        }
    }
    let wrong: HashSet<&str> = out.scenario.gis_errors.iter().map(|e| e.ean.as_str()).collect();
    for c in &net.connections {
        let t = truth[c.ean.as_str()];
        if !wrong.contains(c.ean.as_str()) {
            assert_eq!((c.feeder(), c.cable(), c.phase), (t.feeder_id.as_str(), t.cable_id.as_str(), Some(t.phase)));
        }
    }
}

#[test]
fn neighbours_on_the_same_phase_see_similar_voltages() {
    // The physics the inference relies on: two single-phase meters on the same
    // section and phase correlate more than two on different phases.
    let out = sim::generate(&tiny(), 9, &NoProgress).unwrap();
    let v = out.measurements.voltage.as_ref().unwrap();
    let single: Vec<_> = out
        .truth
        .iter()
        .filter(|t| matches!(t.phase, PhaseConnection::Single(_)))
        .filter(|t| v.channel(&t.ean, Phase::L1).is_some())
        .collect();
    let corr = |a: &[f32], b: &[f32]| {
        let pairs: Vec<(f64, f64)> =
            a.iter().zip(b).filter(|(x, y)| !x.is_nan() && !y.is_nan()).map(|(&x, &y)| (x as f64, y as f64)).collect();
        let n = pairs.len() as f64;
        let (ma, mb) = (pairs.iter().map(|p| p.0).sum::<f64>() / n, pairs.iter().map(|p| p.1).sum::<f64>() / n);
        let cov: f64 = pairs.iter().map(|p| (p.0 - ma) * (p.1 - mb)).sum();
        let va: f64 = pairs.iter().map(|p| (p.0 - ma).powi(2)).sum();
        let vb: f64 = pairs.iter().map(|p| (p.1 - mb).powi(2)).sum();
        cov / (va * vb).sqrt()
    };
    let (mut same, mut diff) = (Vec::new(), Vec::new());
    for (i, a) in single.iter().enumerate() {
        for b in &single[i + 1..] {
            if a.feeder_id != b.feeder_id {
                continue;
            }
            let r = corr(v.channel(&a.ean, Phase::L1).unwrap(), v.channel(&b.ean, Phase::L1).unwrap());
            if a.phase == b.phase { same.push(r) } else { diff.push(r) }
        }
    }
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    assert!(mean(&same) > mean(&diff) + 0.05, "same phase {} vs different {}", mean(&same), mean(&diff));
}

#[test]
fn outage_scenario_is_consistent_with_logs_and_voltages() {
    let cfg = tiny();
    let out = sim::generate(&cfg, 5, &NoProgress).unwrap();
    let fault = out.scenario.incidents.iter().find(|i| i.kind == "cable_fault").expect("a cable fault");
    assert!(!fault.planned && fault.faulted_cable_ids.len() == 1);
    let durations: Vec<i64> = fault.interruptions.iter().map(|i| i.duration_s).collect();
    assert!(durations.iter().any(|&d| d < 4 * 3600) || durations.iter().any(|&d| d > 4 * 3600));
    assert!(durations.iter().any(|&d| d > 8 * 3600), "a late restoration crosses 8 h: {durations:?}");
    let logged: HashSet<&str> = out.measurements.outage_log.iter().map(|r| r.ean.as_str()).collect();
    for i in &fault.interruptions {
        assert_eq!(logged.contains(i.ean.as_str()), i.smart, "{} logged iff smart", i.ean);
    }
    // No voltage rows while a meter was without power.
    let v = out.measurements.voltage.as_ref().unwrap();
    for r in &out.measurements.outage_log {
        for (k, ch) in v.channels(&r.ean).iter().enumerate() {
            let Some(s) = ch else { continue };
            for (i, x) in v.series(*s).iter().enumerate() {
                let (t0, t1) = (v.grid.time(i) - 600, v.grid.time(i));
                if t0 < r.end && r.start < t1 {
                    assert!(x.is_nan(), "{} L{} has {x} V during its outage", r.ean, k + 1);
                }
            }
        }
    }
    assert_eq!(out.measurements.incidents.len(), 3);
    assert!(out.measurements.incidents.iter().any(|i| i.planned));
    assert!(out.measurements.presence.iter().any(|p| p.voltage_present == Some(false)));
}

#[test]
fn same_seed_gives_identical_files() {
    let cfg = SimConfig { days: 1, connections_per_station: 24, ..tiny() };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for d in [&a, &b] {
        let out = sim::generate(&cfg, 42, &NoProgress).unwrap();
        sim::write(&out, d.path(), &WriteOptions::default()).unwrap();
    }
    let mut names: Vec<_> = std::fs::read_dir(a.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert!(names.len() >= 11, "{names:?}");
    for n in names {
        let (x, y) = (std::fs::read(a.path().join(&n)).unwrap(), std::fs::read(b.path().join(&n)).unwrap());
        assert!(x == y, "{n:?} differs between two runs with the same seed");
    }
    let other = sim::generate(&cfg, 43, &NoProgress).unwrap();
    let first = sim::generate(&cfg, 42, &NoProgress).unwrap();
    assert_ne!(other.truth, first.truth);
}

#[test]
fn geopackage_output_is_reproducible_and_holds_every_connection() {
    let cfg = SimConfig { days: 1, connections_per_station: 20, ..tiny() };
    let opts = WriteOptions { format: sim::write::NetworkFormat::GeoPackage, ..WriteOptions::default() };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let out = sim::generate(&cfg, 3, &NoProgress).unwrap();
    sim::write(&out, a.path(), &opts).unwrap();
    sim::write(&sim::generate(&cfg, 3, &NoProgress).unwrap(), b.path(), &opts).unwrap();
    let (x, y) = (std::fs::read(a.path().join("network.gpkg")).unwrap(), std::fs::read(b.path().join("network.gpkg")).unwrap());
    assert!(x == y, "network.gpkg differs between two runs with the same seed");
    let db = rusqlite::Connection::open(a.path().join("network.gpkg")).unwrap();
    let n: i64 = db.query_row("SELECT count(*) FROM connections", [], |r| r.get(0)).unwrap();
    assert_eq!(n as usize, out.network.connections.len());
    assert!(!a.path().join("connections.geojson").exists());
}

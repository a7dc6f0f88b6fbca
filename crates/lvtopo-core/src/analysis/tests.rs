//! Unit tests of the whole pipeline on a tiny hand-made network whose voltages
//! follow the linear drop model (station common mode + transformer phase drop +
//! cable drop growing with distance). Only checks mechanics (candidates, LOO,
//! rotation, clock shift, statuses); accuracy is measured on the simulator.

use super::*;
use crate::model::fixtures::{cable, pt};
use crate::model::*;
use crate::progress::NoProgress;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

struct Toy {
    net: Network,
    voltage: VoltageTable,
    true_phase: Vec<PhaseConnection>,
    true_rotation: Vec<Option<Rotation>>,
}

/// Two feeders (east, north) of one station, 16 connections each; connection 3 is
/// registered on the wrong phase, 20 is a three-phase meter wired L2L3L1, 9 has a
/// clock that stamps interval start, 30 is a conventional meter.
fn toy(rounding: f32) -> Toy {
    let n = 1440;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let station = Station { id: "S".into(), name: None, pos: pt(0.0, 0.0), extra: Default::default() };
    let cables = vec![cable("C1", "F1", &[(0.0, 0.0), (300.0, 0.0)]), cable("C2", "F2", &[(0.0, 0.0), (0.0, 300.0)])];
    // Load currents per feeder and phase: AR(1) around a daily shape.
    let mut cur = vec![[[0f64; 3]; 2]; n];
    let mut state = [[0f64; 3]; 2];
    for (k, c) in cur.iter_mut().enumerate() {
        let day = ((k % 144) as f64 / 144.0 * std::f64::consts::TAU).sin().max(0.0);
        for f in 0..2 {
            for p in 0..3 {
                state[f][p] = 0.8 * state[f][p] + rng.gen_range(-1.0..1.0) * 20.0;
                c[f][p] = 40.0 + 30.0 * day + state[f][p];
            }
        }
    }
    let mv: Vec<f64> = (0..n).map(|k| 3.0 * (k as f64 / 300.0).sin()).collect();
    let mut conns = Vec::new();
    let mut true_phase = Vec::new();
    let mut true_rotation = Vec::new();
    let mut keys = Vec::new();
    let mut values: Vec<f32> = Vec::new();
    for i in 0..32 {
        let f = i / 16;
        let j = i % 16;
        let d = 20.0 + 17.0 * j as f64;
        let pos = if f == 0 { pt(d, 8.0) } else { pt(8.0, d) };
        let tp = Phase::from_index(j % 3);
        let three = i == 20;
        let gis_phase = if three {
            PhaseConnection::Three
        } else if i == 3 {
            PhaseConnection::Single(Phase::from_index(tp.index() + 1))
        } else {
            PhaseConnection::Single(tp)
        };
        let ean = ean_with_check_digit(&format!("87100000000000{i:03}"));
        conns.push(Connection {
            ean: ean.clone(),
            station_id: "S".into(),
            feeder_id: Some(format!("F{}", f + 1)),
            cable_id: Some(format!("C{}", f + 1)),
            phase: Some(gis_phase),
            street: None,
            house_number: Some(j as u32 + 1),
            house_number_addition: None,
            postcode: None,
            meter: if i == 30 { MeterKind::Conventional } else { MeterKind::Smart },
            pv_kwp_registered: None,
            capacity: Capacity::default(),
            pos,
            service_joint: None,
            extra: Default::default(),
        });
        true_phase.push(if three { PhaseConnection::Three } else { PhaseConnection::Single(tp) });
        let rot = Rotation::all()[1];
        true_rotation.push(three.then_some(rot));
        if i == 30 {
            continue;
        }
        let terminals: Vec<(Phase, Phase)> =
            if three { Phase::ALL.iter().map(|&t| (t, rot.grid_phase(t))).collect() } else { vec![(Phase::L1, tp)] };
        for (term, grid) in terminals {
            keys.push(SeriesKey { ean: ean.clone(), channel: term });
            let p = grid.index();
            for k in 0..n {
                let own: f64 = rng.gen_range(-0.3..0.3);
                let trafo: f64 = (0..2).map(|g| cur[k][g][p]).sum::<f64>() * 0.004;
                let v = 232.0 + mv[k] - trafo - d * 0.0004 * cur[k][f][p] * 3.0 + own;
                // Connection 9's clock stamps interval start: value of k+1 stored at k.
                let kk = if i == 9 { (k + 1).min(n - 1) } else { k };
                let v = if kk != k {
                    let trafo2: f64 = (0..2).map(|g| cur[kk][g][p]).sum::<f64>() * 0.004;
                    232.0 + mv[kk] - trafo2 - d * 0.0004 * cur[kk][f][p] * 3.0 + own
                } else {
                    v
                };
                let v = if rounding > 0.0 { ((v / rounding as f64).round() * rounding as f64) as f32 } else { v as f32 };
                values.push(if k % 97 == 5 { f32::NAN } else { v });
            }
        }
    }
    let net = Network::new(vec![station], cables, conns, Crs::RdNew);
    let voltage = VoltageTable::new(TimeGrid { start: 1_700_000_400, step_s: 600, len: n }, keys, values);
    Toy { net, voltage, true_phase, true_rotation }
}

#[test]
fn pipeline_recovers_phases_rotation_and_flags_the_wrong_phase() {
    let t = toy(0.1);
    let topo = Topology::build(&t.net);
    let res = analyze(&t.net, &topo, &t.voltage, &AnalysisOptions::default(), &NoProgress).unwrap();
    assert_eq!(res.assignments.len(), 32);
    for (i, a) in res.assignments.iter().enumerate() {
        if i == 30 {
            assert_eq!(a.status, Status::InsufficientData);
            assert!(a.inferred_phase.is_none());
            continue;
        }
        match (t.true_phase[i], a.inferred_phase.unwrap()) {
            (PhaseConnection::Single(p), InferredPhase::Single(q)) => assert_eq!(p, q, "connection {i}"),
            (PhaseConnection::Three, InferredPhase::Rotation(r)) => assert_eq!(Some(r), t.true_rotation[i]),
            other => panic!("connection {i}: {other:?}"),
        }
        assert_eq!(a.inferred_feeder.as_deref(), t.net.connections[i].feeder_id.as_deref(), "connection {i}");
        let expected = if i == 3 { Status::SuggestChange } else { Status::Ok };
        assert_eq!(a.status, expected, "connection {i}: {:?} {:?}", a.reason, a.evidence);
    }
    assert!(res.assignments[9].evidence.notes.iter().any(|n| n.contains("clock")), "{:?}", res.assignments[9].evidence);
    assert!(res.assignments[3].phase_confidence > 0.99);
}

#[test]
fn analysis_can_be_cancelled() {
    struct Cancel;
    impl Progress for Cancel {
        fn set(&self, _: f32, _: &str) {}
        fn is_cancelled(&self) -> bool {
            true
        }
    }
    let t = toy(1.0);
    let topo = Topology::build(&t.net);
    assert!(analyze(&t.net, &topo, &t.voltage, &AnalysisOptions::default(), &Cancel).is_err());
}

#[test]
fn too_short_a_read_is_insufficient_data() {
    let t = toy(1.0);
    let topo = Topology::build(&t.net);
    let opts = AnalysisOptions { min_points: 2000, ..Default::default() };
    let res = analyze(&t.net, &topo, &t.voltage, &opts, &NoProgress).unwrap();
    assert!(res.assignments.iter().all(|a| a.status == Status::InsufficientData));
    assert!(res.assignments[0].reason.as_deref().unwrap().contains("valid 10-minute points"));
}

#[test]
fn a_phase_change_needs_both_phases_tested_against_real_references() {
    // Connection 0 (registered L1 on F1) and a posterior that says L2 with certainty.
    // When L1 had no reference of its own on F1, the data never tested the registration:
    // no suggestion, whatever the posterior.
    let t = toy(0.1);
    let topo = Topology::build(&t.net);
    let index = candidates::NetworkIndex::build(&t.net);
    let opts = AnalysisOptions::default();
    let f1 = index.feeder_by_id["F1"];
    let meter = engine::Meter {
        conn: 0,
        channels: vec![(0, Phase::L1)],
        cands: vec![f1],
        cand_dist: vec![8.0],
        gis_feeder: Some(f1),
        gis_phase: Some(Phase::L1),
        seed_phase: None,
        fill: None,
        shift: 0,
        contribs: Vec::new(),
        s_weight: 1.0,
    };
    // Per grid phase: the weight of the references it was judged against on F1 (0: none).
    let result = |weights: [f64; 3]| engine::MeterResult {
        posterior: vec![1e-12, 1.0 - 2e-12, 1e-12],
        hypotheses: 3,
        points_used: 1440,
        stats: vec![prep::ChannelStats { valid: 1440, resolution_v: 0.1, ..Default::default() }],
        n_eff: 1000.0,
        n_eff_channels: vec![1000.0],
        phase_ref_weight: vec![weights],
        ..Default::default()
    };
    let decided = |weights| decide::decide(&t.net, &topo, &index, &opts, &meter, &result(weights), None);
    let tested = decided([5.0, 5.0, 5.0]);
    assert_eq!(tested.status, Status::SuggestChange, "{:?}", tested.reason);
    assert_eq!(tested.inferred_phase, Some(InferredPhase::Single(Phase::L2)));
    // The L2 reference is one other meter and there is no busbar reference: no suggestion.
    let thin = decided([5.0, 1.0, 5.0]);
    assert_eq!(thin.status, Status::InsufficientData);
    assert!(thin.reason.as_deref().unwrap_or("").contains("rests on fewer than"), "{:?}", thin.reason);
    // L1, the registered phase, had no reference: the data could not speak against it, so
    // it keeps the best tested phase's likelihood and its prior wins; the row says why.
    let untested = decided([0.0, 5.0, 5.0]);
    assert_eq!(untested.status, Status::InsufficientData);
    assert_eq!(untested.inferred_phase, Some(InferredPhase::Single(Phase::L1)));
    assert!(untested.phase_confidence < 0.99, "{}", untested.phase_confidence);
    assert!(untested.reason.as_deref().unwrap_or("").contains("could not be tested"), "{:?}", untested.reason);
}

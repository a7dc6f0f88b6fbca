//! Accuracy of the topology inference against the generator's truth. The figures
//! asserted are the ones reached (with a small margin), so a regression fails CI.

use lvtopo::analysis::metrics::{self, Accuracy};
use lvtopo::analysis::{self, AnalysisOptions, Status, sweep};
use lvtopo::model::Topology;
use lvtopo::progress::NoProgress;
use lvtopo::sim::{self, SimConfig};
use std::path::Path;

fn run(cfg: &SimConfig, seed: u64) -> Accuracy {
    let out = sim::generate(cfg, seed, &NoProgress).expect("generation");
    let v = out.measurements.voltage.as_ref().expect("voltage table");
    let topo = Topology::build(&out.network);
    let res = analysis::analyze(&out.network, &topo, v, &AnalysisOptions::default(), &NoProgress).expect("not cancelled");
    assert_eq!(res.assignments.len(), out.network.connections.len());
    for a in &res.assignments {
        // An inferred value is empty only for insufficient_data.
        if a.status != Status::InsufficientData {
            assert!(a.inferred_phase.is_some() && a.inferred_feeder.is_some() && a.inferred_cable.is_some());
        }
        for c in [a.feeder_confidence, a.cable_confidence, a.phase_confidence] {
            assert!((0.0..=1.0).contains(&c), "confidence {c} of {a:?}");
        }
        assert_cable_on_feeder(&out.network, a);
    }
    let acc = metrics::evaluate(&out.network, &res, &out.truth);
    eprintln!("{}\n{}", metrics::table_header(), metrics::table_row(&cfg.preset, &acc));
    acc
}

#[test]
fn winter_ten_days_at_0_1_v() {
    let cfg = sweep::base_config(2, 150);
    let a = run(&cfg, 1);
    assert!(a.phase() >= 0.97, "phase {}", a.phase());
    assert!(a.rotation() >= 0.9, "rotation {}", a.rotation());
    assert!(a.feeder() >= 0.95, "feeder {}", a.feeder());
    assert!(a.cable() >= 0.97, "cable {}", a.cable());
    // Precision first: every suggestion right; recall is limited by the cable section on a
    // feeder change near a joint and by feeder changes near the station (docs/inference.md).
    assert!(a.precision() >= 0.99, "precision {}", a.precision());
    // Measured 83.3% (seed 1, session 6; 89.6% in session 5 before the cable geometry tempered and the day-by-day replication check (session 6) trade recall on our own generator for honest confidence on the public-grid corpus).
    assert!(a.recall() >= 0.81, "recall {}", a.recall());
}

#[test]
fn winter_three_days_at_0_1_v() {
    // Prewhitening (docs/inference.md, step 2) is what makes 3 days almost as good as 10.
    let mut cfg = sweep::base_config(2, 150);
    cfg.days = 3;
    let a = run(&cfg, 1);
    assert!(a.phase() >= 0.99, "phase {}", a.phase());
    assert!(a.feeder() >= 0.98, "feeder {}", a.feeder());
    assert!(a.precision() >= 0.99, "precision {}", a.precision());
    // Measured 83.3% (seed 1, session 6; 89.6% in session 5 before the cable geometry tempered and the day-by-day replication check (session 6) trade recall on our own generator for honest confidence on the public-grid corpus).
    assert!(a.recall() >= 0.81, "recall {}", a.recall());
}

#[test]
fn winter_ten_days_at_1_v() {
    let mut cfg = sweep::base_config(2, 150);
    cfg.rounding_v = 1.0;
    let a = run(&cfg, 1);
    assert!(a.phase() >= 0.96, "phase {}", a.phase());
    assert!(a.feeder() >= 0.94, "feeder {}", a.feeder());
    assert!(a.cable() >= 0.96, "cable {}", a.cable());
    assert!(a.precision() >= 0.99, "precision {}", a.precision());
    // Measured 75.0% (session 6; 81.2% in session 5).
    assert!(a.recall() >= 0.72, "recall {}", a.recall());
}

#[test]
fn summer_pv_at_1_v() {
    let mut cfg = sweep::base_config(2, 150);
    cfg.rounding_v = 1.0;
    cfg.set_season("summer").unwrap();
    cfg.pv_share = 0.55;
    let a = run(&cfg, 1);
    assert!(a.phase() >= 0.92, "phase {}", a.phase());
    assert!(a.feeder() >= 0.88, "feeder {}", a.feeder());
    assert!(a.cable() >= 0.94, "cable {}", a.cable());
    assert!(a.precision() >= 0.99, "precision {}", a.precision());
    // Measured 68.8% (session 6; 75.0% in session 5).
    assert!(a.recall() >= 0.66, "recall {}", a.recall());
}

#[test]
fn quiet_street_at_1_v_with_meter_calibration_errors() {
    // The stress case found with power-grid-model data (docs/independent-check.md): little
    // load variation, 1 V rounding and meters 0.3% off, so rounding thresholds rather than
    // phases line meters up. Coarse readings get their own (higher) decision temperatures.
    let mut cfg = sweep::base_config(2, 150);
    cfg.rounding_v = 1.0;
    cfg.heat_pump_share = 0.0;
    cfg.ev_share = 0.0;
    cfg.meter_gain_sigma = 0.003;
    let a = run(&cfg, 1);
    assert!(a.phase() >= 0.98, "phase {}", a.phase());
    assert!(a.feeder() >= 0.97, "feeder {}", a.feeder());
    assert!(a.precision() >= PRECISION_QUIET, "precision {}", a.precision());
}

/// Measured 1.000 (seed 1) and 0.985 over seeds 1-2 in `lvtopo bench accuracy`.
const PRECISION_QUIET: f64 = 0.98;

/// The inferred cable is a section of the inferred feeder (also in `insufficient_data` rows).
fn assert_cable_on_feeder(net: &lvtopo::model::Network, a: &analysis::Assignment) {
    if let (Some(f), Some(c)) = (&a.inferred_feeder, &a.inferred_cable) {
        let cable = &net.cables[net.cable_index(c).expect("inferred cable exists")];
        assert_eq!(&cable.feeder_id, f, "cable {c} of {a:?}");
    }
}

/// Analyses a committed sample network (as `lvtopo analyze` reads it) against its truth.csv.
fn sample(name: &str) -> Accuracy {
    sample_with(name, Variant::AsIs)
}

/// How a committed sample is changed before the analysis (robustness checks).
#[derive(Clone, Copy, PartialEq)]
enum Variant {
    AsIs,
    /// The connections' street, house number and postcode removed.
    WithoutAddresses,
    /// The meters whose EAN ends in 0-3 (~40%) rounded to 1 V: a read mixing meter
    /// generations, still mostly at 0.1 V.
    PartlyAtOneVolt,
}

fn sample_with(name: &str, variant: Variant) -> Accuracy {
    let without_addresses = variant == Variant::WithoutAddresses;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-networks").join(name);
    let mut loaded = lvtopo::io::load_network(&dir, &NoProgress).expect("not cancelled");
    if without_addresses {
        for c in &mut loaded.network.connections {
            c.street = None;
            c.house_number = None;
            c.house_number_addition = None;
            c.postcode = None;
        }
    }
    let mut report = loaded.report;
    let mut v = lvtopo::io::voltage::read_voltage(&dir.join("voltage.csv.gz"), Some(&loaded.network), &mut report, &NoProgress)
        .expect("not cancelled")
        .expect("voltage table");
    if variant == Variant::PartlyAtOneVolt {
        for i in 0..v.keys.len() {
            if v.keys[i].ean.bytes().last().is_some_and(|d| d.wrapping_sub(b'0') < 4) {
                v.series_mut(i).iter_mut().for_each(|x| *x = x.round());
            }
        }
    }
    let truth = lvtopo::io::measurements::read_truth(&dir.join("truth.csv"), Some(&loaded.network), &mut report);
    assert!(!report.has_errors(), "{report}");
    let res = analysis::analyze(&loaded.network, &loaded.topology, &v, &AnalysisOptions::default(), &NoProgress)
        .expect("not cancelled");
    res.assignments.iter().for_each(|a| assert_cable_on_feeder(&loaded.network, a));
    let acc = metrics::evaluate(&loaded.network, &res, &truth);
    eprintln!(
        "{}\n{}\nsuggestions {} ({} right), GIS errors {} ({} found)",
        metrics::table_header(),
        metrics::table_row(
            match variant {
                Variant::AsIs => name,
                Variant::WithoutAddresses => "without addresses",
                Variant::PartlyAtOneVolt => "40% of the meters at 1 V",
            },
            &acc
        ),
        acc.suggestions,
        acc.suggestions_right,
        acc.gis_errors,
        acc.gis_errors_found
    );
    acc
}

#[test]
fn street_sample_against_truth() {
    // 1 station, 61 connections, late October, 0.1 V rounding.
    let a = sample("street");
    assert!(a.phase() >= 0.99, "phase {}", a.phase());
    assert!(a.feeder() >= 0.99, "feeder {}", a.feeder());
    assert!(a.cable() >= 0.99, "cable {}", a.cable());
    assert_eq!(a.suggestions_right, a.suggestions, "every suggestion right");
    // Measured 8 of 9 (88.9%).
    assert!(a.recall() >= 0.85, "recall {}", a.recall());
}

#[test]
fn town_sample_against_truth() {
    // 3 stations, 570 connections, 55% PV, June, 1 V rounding: the hardest committed case.
    let a = sample("town");
    assert!(a.phase() >= 0.99, "phase {}", a.phase());
    assert!(a.rotation() >= 0.95, "rotation {}", a.rotation());
    assert!(a.feeder() >= 0.96, "feeder {}", a.feeder());
    assert!(a.cable() >= 0.96, "cable {}", a.cable());
    assert!(a.precision() >= 0.99, "precision {}", a.precision());
    // Measured 64 of 86 (74.4%), all right (session 6; 84.9% in session 5).
    assert!(a.recall() >= 0.72, "recall {}", a.recall());
}

#[test]
fn power_grid_model_samples_against_truth() {
    // Independent check (docs/independent-check.md): the street and town GIS with their
    // injected errors, but voltages from power-grid-model's asymmetric load flow with load
    // and PV profiles drawn outside lvtopo (scripts/independent/pgm_voltages.py).
    // Measured (session 5): street-pgm (0.1 V) phase/rotation/feeder/cable 100%, 8 of 8
    // suggestions right, recall 88.9%; town-pgm (1 V) phase 99.8%, rotation 100%, feeder
    // and cable 100%, 69 of 69 suggestions right, recall 80.2%. Session 6 (cable geometry
    // tempered, replication check): town-pgm recall 70.9%, all suggestions right.
    let s = sample("street-pgm");
    assert!(s.phase() >= 0.98, "street-pgm phase {}", s.phase());
    assert!(s.rotation() >= 0.99, "street-pgm rotation {}", s.rotation());
    assert!(s.feeder() >= 0.98, "street-pgm feeder {}", s.feeder());
    assert!(s.cable() >= 0.96, "street-pgm cable {}", s.cable());
    assert_eq!(s.suggestions_right, s.suggestions, "street-pgm: every suggestion right");
    assert!(s.recall() >= 0.85, "street-pgm recall {}", s.recall());
    let t = sample("town-pgm");
    assert!(t.phase() >= 0.98, "town-pgm phase {}", t.phase());
    assert!(t.rotation() >= 0.97, "town-pgm rotation {}", t.rotation());
    assert!(t.feeder() >= 0.98, "town-pgm feeder {}", t.feeder());
    assert!(t.cable() >= 0.96, "town-pgm cable {}", t.cable());
    assert!(t.precision() >= 0.99, "town-pgm precision {}", t.precision());
    assert!(t.recall() >= 0.68, "town-pgm recall {}", t.recall());
}

#[test]
fn power_grid_model_district_at_0_1_v() {
    // Independent check at 0.1 V on a bigger network: 4 stations, 614 connections, 97
    // injected GIS errors (sample-networks/district-pgm, voltages from power-grid-model).
    // Measured (session 5): phase, rotation, feeder 100%, cable 99.8%, 89 of 89
    // suggestions right, recall 91.8%. Session 6 (cable geometry tempered, replication
    // check): recall 86.6%, every suggestion right (target >= 80% at 0.1 V).
    let d = sample("district-pgm");
    assert!(d.phase() >= 0.99, "district-pgm phase {}", d.phase());
    assert!(d.rotation() >= 0.99, "district-pgm rotation {}", d.rotation());
    assert!(d.feeder() >= 0.99, "district-pgm feeder {}", d.feeder());
    assert!(d.cable() >= 0.99, "district-pgm cable {}", d.cable());
    assert!(d.precision() >= 0.99, "district-pgm precision {}", d.precision());
    assert!(d.recall() >= 0.85, "district-pgm recall {}", d.recall());
}

#[test]
fn without_addresses_the_registration_is_not_overruled_by_the_nearest_cable() {
    // A GIS export without street, number and postcode: the cable model falls back to
    // plain distance and the GIS prior. Before session 5 it used the sharp along-street
    // model there and half of the suggestions on this sample were wrong (cable 76.5%).
    // Measured (session 5): cable 98.0%, 60 of 60 suggestions right, recall 61.9%.
    let a = sample_with("district-pgm", Variant::WithoutAddresses);
    assert!(a.phase() >= 0.99, "phase {}", a.phase());
    assert!(a.feeder() >= 0.99, "feeder {}", a.feeder());
    assert!(a.cable() >= 0.96, "cable {}", a.cable());
    assert!(a.precision() >= 0.99, "precision {}", a.precision());
    assert!(a.recall() >= 0.55, "recall {}", a.recall());
}

#[test]
fn a_read_mixing_0_1_v_and_1_v_meters_gets_no_wrong_suggestion() {
    // ~40% of the meters of the 0.1 V district rounded to 1 V (older meter generations):
    // the read is still mostly at 0.1 V, so every series is prewhitened, the 1 V ones too.
    let a = sample_with("district-pgm", Variant::PartlyAtOneVolt);
    assert!(a.phase() >= 0.99, "phase {}", a.phase());
    assert!(a.feeder() >= 0.99, "feeder {}", a.feeder());
    assert!(a.precision() >= 0.99, "precision {}", a.precision());
    // Measured (session 5): 85 of 85 suggestions right, recall 87.6%.
    assert!(a.recall() >= 0.8, "recall {}", a.recall());
}

//! The inference on the independent grid corpus (`sample-networks/corpus`): public LV
//! grids that lvtopo did not draw (Kerber, Dickert, SimBench), voltages from
//! power-grid-model (scripts/corpus). The floors asserted are the figures reached with
//! the defaults (session 6) less a small margin, so a regression fails CI; where they
//! are below the targets of the corpus issue, README.md and docs/inference.md say so.

use lvtopo::analysis::AnalysisOptions;
use lvtopo::analysis::corpus;
use lvtopo::analysis::metrics::Accuracy;
use std::collections::BTreeMap;
use std::path::Path;

fn scored() -> Vec<(corpus::CorpusRead, Accuracy)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-networks").join("corpus");
    corpus::evaluate_all(&dir, &AnalysisOptions::default()).expect("corpus scored")
}

fn by_rounding(s: &[(corpus::CorpusRead, Accuracy)]) -> BTreeMap<&'static str, Accuracy> {
    let mut out: BTreeMap<&'static str, Accuracy> = BTreeMap::new();
    for (r, a) in s {
        out.entry(r.rounding).or_default().add(a);
    }
    out
}

#[test]
fn corpus_has_every_family_at_both_roundings() {
    let s = scored();
    for family in ["kerber", "dickert", "simbench"] {
        for rounding in ["0.1 V", "1 V"] {
            assert!(s.iter().any(|(r, _)| r.family == family && r.rounding == rounding), "{family} {rounding} missing");
        }
    }
}

#[test]
fn inferred_feeder_beats_the_registration_and_confident_values_are_right() {
    let s = scored();
    for (rounding, a) in by_rounding(&s) {
        eprintln!(
            "{rounding}: feeder {:.3} (GIS {:.3}), cable {:.3} (GIS {:.3}), >=0.99 right {:.4}, [0.9,0.99) right {:.4}, precision {:.3}, recall {:.3}",
            a.feeder(),
            a.gis_feeder(),
            a.cable(),
            a.gis_cable(),
            a.reliability_above_099(),
            a.reliability_090_099(),
            a.precision(),
            a.recall()
        );
        // Targets met (session 6: feeder 97.4% / 97.2% vs GIS 95.0%).
        assert!(a.feeder() >= 0.97, "{rounding} feeder {}", a.feeder());
        assert!(a.feeder() >= a.gis_feeder(), "{rounding}: inferred feeder below the GIS");
        // Values stated >= 0.99 are right at least 99% of the time (99.1% / 99.5%).
        assert!(a.reliability_above_099() >= 0.99, "{rounding} >=0.99 right {}", a.reliability_above_099());
        // [0.9, 0.99) right at least 90% (92.9% / 95.9%).
        assert!(a.reliability_090_099() >= 0.9, "{rounding} [0.9,0.99) right {}", a.reliability_090_099());
        // Phase over single-phase connections (97.8% / 98.5%; target 99% / 95%).
        assert!(a.phase() >= 0.97, "{rounding} phase {}", a.phase());
        // Below target, asserted as regression floors: cable 91.9% / 91.7% (GIS 93.4%),
        // precision 95.0% / 95.9% (target 99%), recall 52.8% / 43.5% (target 80% / 60%).
        assert!(a.cable() >= 0.91, "{rounding} cable {}", a.cable());
        assert!(a.precision() >= 0.94, "{rounding} precision {}", a.precision());
        assert!(a.recall() >= 0.42, "{rounding} recall {}", a.recall());
    }
}

#[test]
fn pv_detection_on_the_corpus_week_of_feed_in() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-networks").join("corpus");
    let settings = lvtopo::quality::solar::SolarSettings::default();
    let mut total = corpus::PvScore::default();
    for read in corpus::list(&dir).expect("corpus").into_iter().filter(|r| r.rounding == "0.1 V") {
        if let Some(p) = corpus::evaluate_pv(&read.dir, &settings).expect("pv scored") {
            total.add(&p);
        }
    }
    eprintln!(
        "PV: {} found, {} false, {} missed {:?}",
        total.true_positive, total.false_positive, total.missed, total.missed_systems
    );
    // Session 6: 182 found, none false (precision 100%, target 98%); 11 missed (recall
    // 94.3%, target 95%): ten systems of a January read that never export, and a 13.6 kWp
    // business system whose output is used on site.
    assert!(total.precision() >= 0.98, "PV precision {}", total.precision());
    assert!(total.recall() >= 0.94, "PV recall {}", total.recall());
}

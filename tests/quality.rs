//! Voltage quality and solar on generated sample networks (the simulation's
//! truth in `scenario` is the yardstick).

use lvtopo::model::Phase;
use lvtopo::progress::NoProgress;
use lvtopo::quality::{VoltageSettings, band, compare, events, neutral, solar};
use lvtopo::sim::{self, SimConfig};
use std::collections::HashMap;

fn generate(mut cfg: SimConfig, seed: u64) -> sim::SimOutput {
    cfg.outages = false;
    sim::generate(&cfg, seed, &NoProgress).expect("generation")
}

/// PV detection precision and recall, and the kWp estimate, on a summer town
/// week (600 connections, 55 % PV, some unregistered or registered wrongly).
#[test]
fn pv_found_and_sized_on_a_generated_town_week() {
    let mut cfg = SimConfig::preset("town").unwrap();
    cfg.days = 7;
    let out = generate(cfg, 11);
    let feed = out.measurements.feed_in.as_ref().unwrap();
    let r = solar::analyse(&out.network, feed, &solar::SolarSettings::default());
    let truth: HashMap<&str, &sim::scenario::PvTruth> = out.scenario.pv.iter().map(|p| (p.ean.as_str(), p)).collect();
    let (mut tp, mut fp, mut fn_, mut within) = (0usize, 0usize, 0usize, 0usize);
    let mut errors = Vec::new();
    let mut status_right = 0usize;
    let mut status_total = 0usize;
    for res in &r.results {
        let ean = out.network.connections[res.connection].ean.as_str();
        let t = truth.get(ean).filter(|t| t.kwp > 0.0);
        match (res.pv_found, t) {
            (true, Some(t)) => {
                tp += 1;
                let e = res.estimated_kwp.unwrap();
                let rel = (e - t.kwp) / t.kwp;
                errors.push(rel.abs());
                within += usize::from(rel.abs() <= 0.25);
                status_total += 1;
                let expected = if t.unregistered {
                    solar::RegisterStatus::NotRegistered
                } else if t.registration_off {
                    solar::RegisterStatus::LargeDeviation
                } else {
                    solar::RegisterStatus::Consistent
                };
                status_right += usize::from(res.status == expected);
            }
            (true, None) => fp += 1,
            (false, Some(_)) => fn_ += 1,
            (false, None) => {}
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    let share_within = within as f64 / tp.max(1) as f64;
    errors.sort_by(f64::total_cmp);
    let median_err = errors[errors.len() / 2];
    let status_share = status_right as f64 / status_total.max(1) as f64;
    println!(
        "PV: {tp} true positives, {fp} false positives, {fn_} missed; precision {precision:.3}, recall {recall:.3}; \
         kWp within 25%: {share_within:.3} (median error {median_err:.3}); calibration {:.3} over {} connections; \
         register status right for {status_share:.3} of found PV",
        r.calibration, r.calibration_connections
    );
    assert!(tp > 100, "too few PV connections to judge: {tp}");
    assert!(precision >= 0.95, "precision {precision:.3}");
    assert!(recall >= 0.95, "recall {recall:.3}");
    assert!(share_within >= 0.8, "kWp within 25% for {share_within:.3}");
    assert!(status_share >= 0.85, "register status right for {status_share:.3}");
}

/// Event deltas between the reads around the simulated window equal the
/// events the simulation counted.
#[test]
fn event_deltas_match_the_counters() {
    let cfg = SimConfig::preset("street").unwrap();
    let grid = cfg.voltage_grid();
    let out = generate(cfg, 5);
    let period = (grid.time(0) - grid.step_s, grid.end());
    let s = events::event_summary(&out.network, &out.measurements.voltage_events, period, 3600);
    let truth: HashMap<(&str, Phase), (u32, u32)> = out
        .scenario
        .voltage_stats
        .iter()
        .map(|c| ((c.ean.as_str(), c.channel), (c.undervoltage_events, c.overvoltage_events)))
        .collect();
    let mut checked = 0;
    for c in &s.connections {
        for ch in &c.channels {
            assert_eq!(ch.status, events::DeltaStatus::Ok, "{ch:?}");
            let t = truth[&(ch.ean.as_str(), ch.channel)];
            assert_eq!((ch.undervoltage, ch.overvoltage), t, "{} {}", ch.ean, ch.channel);
            checked += 1;
        }
    }
    let smart = out.network.connections.iter().filter(|c| c.meter == lvtopo::model::MeterKind::Smart).count();
    assert_eq!(s.connections.len(), smart);
    assert!(checked >= smart);
    let total: u32 = s.connections.iter().map(|c| c.total()).sum();
    println!(
        "events: {checked} channels checked, {total} events, worst feeder {:?}",
        s.feeders.first().map(|f| (&f.id, f.total()))
    );
    // The whole span (quarter start to window end) counts more than the window alone.
    let span = events::read_span(&out.measurements.voltage_events).unwrap();
    let q = events::event_summary(&out.network, &out.measurements.voltage_events, span, 3600);
    assert!(q.connections.iter().map(|c| c.total()).sum::<u32>() >= total);
}

/// A lower transformer tap (two 2.5 % steps) between two summer reads is judged an
/// improvement at the station; the 10-day analysis finds the overvoltage first.
#[test]
fn lower_tap_is_judged_an_improvement() {
    let mut before_cfg = SimConfig::preset("street").unwrap();
    before_cfg.set_season("summer").unwrap();
    before_cfg.days = 7;
    before_cfg.pv_share = 0.6;
    before_cfg.tap = 3;
    let mut after_cfg = before_cfg.clone();
    after_cfg.tap = 1;
    after_cfg.start = before_cfg.start + chrono::Duration::days(9);
    let before = generate(before_cfg, 21);
    let after = generate(after_cfg, 21);
    let settings = VoltageSettings::with_inverter_limit(250.0);
    let vb = before.measurements.voltage.as_ref().unwrap();
    let va = after.measurements.voltage.as_ref().unwrap();

    let b = band::analyse(&before.network, vb, before.measurements.feed_in.as_ref(), &settings, &NoProgress).unwrap();
    let over_before: f64 = b.connections.iter().map(|c| c.minutes_above_limit).sum();
    let tripping = b.connections.iter().filter(|c| c.likely_trips()).count();
    println!(
        "before: {over_before:.0} connection-minutes above {} V, {} connections outside the band, {tripping} likely tripping (simulated trip intervals {})",
        settings.inverter_limit_v,
        b.connections.iter().filter(|c| c.minutes_outside_band() > 0.0).count(),
        before.scenario.load_flow.pv_trips
    );
    assert!(over_before > 0.0, "the before read must show overvoltage for this test to mean something");

    let r = compare::before_after(&before.network, vb, va, &settings).unwrap();
    let station = &r.stations[0].result;
    println!("station: {}", station.text);
    assert_eq!(station.verdict, compare::Verdict::Improved, "{}", station.text);
    let judged: Vec<_> = r.connections.iter().filter(|c| c.result.before.minutes_above_limit_per_day > 10.0).collect();
    let improved = judged.iter().filter(|c| c.result.verdict == compare::Verdict::Improved).count();
    let worse = r.connections.iter().filter(|c| c.result.verdict == compare::Verdict::Deteriorated).count();
    println!(
        "connections with >10 overvoltage min/day before: {}, improved {improved}, deteriorated (all) {worse}",
        judged.len()
    );
    assert!(improved * 10 >= judged.len() * 8, "{improved} of {}", judged.len());
    assert_eq!(worse, 0);
    // The same tap on both sides: no verdict of improvement at the station.
    // The simulation draws weather and load from the seed alone, so with the
    // same seed the second read replays the first day by day (only the sun
    // moves a little): the daily extremes tie and the rank test gives p = 1.
    // That is the right answer for identical distributions, not a defect.
    let mut same_cfg = SimConfig::preset("street").unwrap();
    same_cfg.set_season("summer").unwrap();
    same_cfg.days = 7;
    same_cfg.pv_share = 0.6;
    same_cfg.tap = 3;
    same_cfg.start += chrono::Duration::days(9);
    let same = generate(same_cfg, 21);
    let r2 = compare::before_after(&before.network, vb, same.measurements.voltage.as_ref().unwrap(), &settings).unwrap();
    let st = &r2.stations[0].result;
    println!("same tap: {}", st.text);
    assert_eq!(st.verdict, compare::Verdict::NoClearChange, "{}", st.text);
    assert!(st.test.unwrap().p_value > 0.5, "{}", st.text);
    assert!(st.text.contains("±0%"), "{}", st.text);
}

/// A healthy generated network raises (almost) no broken-neutral hints.
#[test]
fn healthy_network_raises_few_neutral_hints() {
    let out = generate(SimConfig::preset("street").unwrap(), 3);
    let volt = out.measurements.voltage.as_ref().unwrap();
    let hints =
        neutral::neutral_hints(&out.network, volt, out.measurements.feed_in.as_ref(), &neutral::NeutralSettings::default());
    for h in &hints {
        println!("hint: {:?} {}", h.subject, h.evidence);
    }
    assert!(hints.len() <= 1, "{} hints on a healthy network", hints.len());
}

/// PV found vs registered on the bundled sample networks, read through the io
/// readers as `lvtopo pv` does: the 10-day feed-in trimmed to the last 7 days
/// (what the privacy rule keeps with consent). October sun is low, so this is
/// the harder case; the yardstick is `scenario.json`.
#[test]
fn pv_found_and_sized_on_the_bundled_sample_networks() {
    use lvtopo::privacy::{Period, PrivacyRead, Remedy};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-networks");
    let mut totals = Vec::new();
    for name in ["street", "town"] {
        let dir = root.join(name);
        let net_path = if dir.join("network.gpkg").exists() { dir.join("network.gpkg") } else { dir.clone() };
        let loaded = lvtopo::io::network::load_network(&net_path, &NoProgress).unwrap();
        let net = loaded.network;
        let mut report = lvtopo::io::ImportReport::default();
        let feed = lvtopo::io::measurements::read_feed_in(&dir.join("feed_in.csv.gz"), Some(&net), &mut report).unwrap();
        let end = feed.grid.end();
        let feed = feed.apply(&Remedy::TrimToPeriod { keep: Period::new(end - 7 * 86_400, end) });
        assert!(feed.grid.days() <= 7.0 + 1e-9, "{}", feed.grid.days());
        let scenario: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("scenario.json")).unwrap()).unwrap();
        let truth: HashMap<String, f64> = scenario["pv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["ean"].as_str().unwrap().to_string(), p["kwp"].as_f64().unwrap()))
            .collect();
        let r = solar::analyse(&net, &feed, &solar::SolarSettings::default());
        let (mut tp, mut fp, mut fn_, mut within) = (0usize, 0usize, 0usize, 0usize);
        let mut errors = Vec::new();
        for res in &r.results {
            let kwp = truth.get(&net.connections[res.connection].ean).copied().unwrap_or(0.0);
            match (res.pv_found, kwp > 0.0) {
                (true, true) => {
                    tp += 1;
                    let rel = (res.estimated_kwp.unwrap() - kwp) / kwp;
                    errors.push(rel.abs());
                    within += usize::from(rel.abs() <= 0.25);
                }
                (true, false) => fp += 1,
                (false, true) => {
                    fn_ += 1;
                    println!(
                        "{name}: missed {} ({kwp} kWp): {:.2} kWh exported in daylight, {:.2} at night, {} days; {}",
                        net.connections[res.connection].ean, res.export_kwh, res.night_export_kwh, res.days, res.note
                    );
                }
                (false, false) => {}
            }
        }
        let precision = tp as f64 / (tp + fp).max(1) as f64;
        let recall = tp as f64 / (tp + fn_).max(1) as f64;
        let share_within = within as f64 / tp.max(1) as f64;
        errors.sort_by(f64::total_cmp);
        let median_err = errors.get(errors.len() / 2).copied().unwrap_or(f64::NAN);
        println!(
            "{name}: {} connections with feed-in over {:.1} days; PV {tp} found, {fp} false, {fn_} missed; \
             precision {precision:.3}, recall {recall:.3}; kWp within 25%: {share_within:.3} (median error {median_err:.3}); \
             calibration {:.3} over {}",
            r.results.len(),
            feed.grid.days(),
            r.calibration,
            r.calibration_connections
        );
        totals.push((name, tp, fp, fn_, within));
    }
    for (name, tp, fp, fn_, within) in totals {
        let precision = tp as f64 / (tp + fp).max(1) as f64;
        let recall = tp as f64 / (tp + fn_).max(1) as f64;
        let share_within = within as f64 / tp.max(1) as f64;
        assert!(tp >= 5, "{name}: too few PV connections to judge ({tp})");
        assert!(precision >= 0.95, "{name}: precision {precision:.3}");
        assert!(recall >= 0.95, "{name}: recall {recall:.3}");
        assert!(share_within >= 0.8, "{name}: kWp within 25% for {share_within:.3}");
    }
}

/// One 2.5 % tap step down (tap +1 to 0) on a sunny street: a smaller, more
/// usual intervention than the two steps above, still judged at the station.
#[test]
fn one_tap_step_down_is_judged_at_the_station() {
    let mut before_cfg = SimConfig::preset("street").unwrap();
    before_cfg.set_season("summer").unwrap();
    before_cfg.days = 7;
    before_cfg.pv_share = 0.7;
    before_cfg.tap = 1;
    let mut after_cfg = before_cfg.clone();
    after_cfg.tap = 0;
    after_cfg.start = before_cfg.start + chrono::Duration::days(9);
    let before = generate(before_cfg, 31);
    let after = generate(after_cfg, 31);
    let settings = VoltageSettings::with_inverter_limit(248.0);
    let r = compare::before_after(
        &before.network,
        before.measurements.voltage.as_ref().unwrap(),
        after.measurements.voltage.as_ref().unwrap(),
        &settings,
    )
    .unwrap();
    let st = &r.stations[0].result;
    let count = |v| r.connections.iter().filter(|c| c.result.verdict == v).count();
    println!(
        "one step: station: {}; connections improved {}, deteriorated {}, no clear change {}, no problem {}",
        st.text,
        count(compare::Verdict::Improved),
        count(compare::Verdict::Deteriorated),
        count(compare::Verdict::NoClearChange),
        count(compare::Verdict::NoProblem)
    );
    assert!(st.before.minutes_above_limit_per_day > 0.0, "no overvoltage before: the test means nothing");
    assert_eq!(st.verdict, compare::Verdict::Improved, "{}", st.text);
    assert_eq!(count(compare::Verdict::Deteriorated), 0);
}

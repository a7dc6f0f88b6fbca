//! Outage analysis: localisation, durations, compensation, mismatches, register,
//! on a hand-made network and on a generated one whose scenario holds the truth.

use lvtopo::model::time::{Timestamp, parse_timestamp};
use lvtopo::model::*;
use lvtopo::outage::*;
use std::collections::{BTreeMap, HashSet};

fn pt(x: f64, y: f64) -> GeoPoint {
    GeoPoint { x: 150_000.0 + x, y: 450_000.0 + y, lon: 0.0, lat: 0.0 }
}

fn cable(id: &str, feeder: &str, a: (f64, f64), b: (f64, f64)) -> Cable {
    Cable {
        id: id.into(),
        station_id: "S1".into(),
        feeder_id: feeder.into(),
        feeder_derived: false,
        from_node: None,
        to_node: None,
        conductor: None,
        r_ohm_per_km: None,
        length_m: None,
        geometry: vec![pt(a.0, a.1), pt(b.0, b.1)],
        extra: Default::default(),
    }
}

/// Station S1 at the origin. Feeder F1: C1 (0,0)-(100,0), C2 (100,0)-(200,0),
/// branch C3 (100,0)-(100,100). Feeder F2: C4 (0,0)-(-100,0). Four connections
/// per cable, 8 m off the cable; the last one on each cable is conventional.
fn network() -> (Network, Topology) {
    let station = Station { id: "S1".into(), name: None, pos: pt(0.0, -2.0), extra: Default::default() };
    let cables = vec![
        cable("C1", "F1", (0.0, 0.0), (100.0, 0.0)),
        cable("C2", "F1", (100.0, 0.0), (200.0, 0.0)),
        cable("C3", "F1", (100.0, 0.0), (100.0, 100.0)),
        cable("C4", "F2", (0.0, 0.0), (-100.0, 0.0)),
    ];
    let mut conns = Vec::new();
    let mut n = 0;
    for c in &cables {
        let (a, b) = (c.geometry[0], c.geometry[1]);
        for k in 0..4 {
            let f = (k as f64 + 0.5) / 4.0;
            let (x, y) = (a.x + (b.x - a.x) * f - 150_000.0, a.y + (b.y - a.y) * f - 450_000.0);
            let (dx, dy) = if (b.y - a.y).abs() > 1.0 { (8.0, 0.0) } else { (0.0, 8.0) };
            n += 1;
            conns.push(Connection {
                ean: ean_with_check_digit(&format!("871000000000{n:05}")),
                station_id: "S1".into(),
                feeder_id: Some(c.feeder_id.clone()),
                cable_id: Some(c.id.clone()),
                phase: Some(PhaseConnection::Single(Phase::L1)),
                street: Some("Dorpsstraat".into()),
                house_number: Some(n),
                house_number_addition: None,
                postcode: Some("6811AB".into()),
                meter: if k == 3 { MeterKind::Conventional } else { MeterKind::Smart },
                pv_kwp_registered: None,
                capacity: if n == 5 { "1x10A".parse().unwrap() } else { Capacity::default() },
                pos: pt(x + dx, y + dy),
                service_joint: None,
                extra: Default::default(),
            });
        }
    }
    let net = Network::new(vec![station], cables, conns, Crs::RdNew);
    let topo = Topology::build(&net);
    assert!(topo.problems.is_empty(), "{:?}", topo.problems);
    (net, topo)
}

/// Connections (indices) on a cable, in order; the 4th is conventional.
fn on(net: &Network, cable: &str) -> Vec<usize> {
    (0..net.connections.len()).filter(|&i| net.connections[i].cable() == cable).collect()
}

fn answers(net: &Network, dead: &[usize], live: &[usize], silent: &[usize]) -> BTreeMap<usize, Option<Observed>> {
    let _ = net;
    let mut m = BTreeMap::new();
    for &i in dead {
        m.insert(i, Some(Observed::Dead));
    }
    for &i in live {
        m.insert(i, Some(Observed::Live));
    }
    for &i in silent {
        m.insert(i, None);
    }
    m
}

fn best(net: &Network, topo: &Topology, obs: &BTreeMap<usize, Option<Observed>>) -> Localisation {
    localise(net, topo, &DeadSets::new(net), obs, &LocaliseParams::default())
}

#[test]
fn localises_a_cable_section_from_the_answers() {
    let (net, topo) = network();
    let (c1, c2, c3, c4) = (on(&net, "C1"), on(&net, "C2"), on(&net, "C3"), on(&net, "C4"));
    // C2's meters: two dead, one silent; everything else that answered is live.
    let obs = answers(&net, &c2[..2], &[&c1[..3], &c3[..3], &c4[..3]].concat(), &c2[2..3]);
    let l = best(&net, &topo, &obs);
    let b = l.best().unwrap();
    assert_eq!(b.element, FaultElement::Cable(net.cable_index("C2").unwrap()), "{}", l.summary);
    assert_eq!(b.crew, Crew::CableCrew);
    assert!(b.probability > 0.95, "{}", l.summary);
    assert!(l.decided);
    assert_eq!((b.dead_inside, b.live_inside, b.unknown_inside), (2, 0, 2));
}

#[test]
fn one_dead_meter_among_live_neighbours_is_the_meter_cabinet() {
    let (net, topo) = network();
    let (c1, c2) = (on(&net, "C1"), on(&net, "C2"));
    let obs = answers(&net, &c2[1..2], &[&c2[..1], &c2[2..3], &c1[..3]].concat(), &[]);
    let l = best(&net, &topo, &obs);
    assert_eq!(l.best().unwrap().element, FaultElement::Connection(c2[1]));
    assert_eq!(l.best().unwrap().crew, Crew::MeterCabinetMechanic);
}

#[test]
fn whole_feeder_and_whole_station() {
    let (net, topo) = network();
    let (c1, c2, c3, c4) = (on(&net, "C1"), on(&net, "C2"), on(&net, "C3"), on(&net, "C4"));
    let f1 = [&c1[..3], &c2[..3], &c3[..3]].concat();
    let l = best(&net, &topo, &answers(&net, &f1, &c4[..3], &[]));
    // C1 feeds the whole of F1, so C1 and the feeder are one candidate; the feeder is named.
    let b = l.best().unwrap();
    assert_eq!(b.element, FaultElement::Cable(net.cable_index("C1").unwrap()));
    assert!(b.equivalent.contains(&FaultElement::Feeder("F1".into())), "{:?}", b.equivalent);
    assert_eq!(b.crew, Crew::CableCrew);
    let all = [&f1[..], &c4[..3]].concat();
    let l = best(&net, &topo, &answers(&net, &all, &[], &[]));
    assert_eq!(l.best().unwrap().element, FaultElement::Station(0));
    assert_eq!(l.best().unwrap().crew, Crew::StationCrew);
}

#[test]
fn a_contradiction_is_explained_as_a_registration_error() {
    let (net, topo) = network();
    let (c1, c2, c3) = (on(&net, "C1"), on(&net, "C2"), on(&net, "C3"));
    // All of C2 dead but one meter that says live (really on another cable): still C2.
    let obs = answers(&net, &c2[..2], &[&c2[2..3], &c1[..3], &c3[..3]].concat(), &[]);
    let l = best(&net, &topo, &obs);
    assert_eq!(l.best().unwrap().element, FaultElement::Cable(net.cable_index("C2").unwrap()), "{}", l.summary);
    assert_eq!(l.best().unwrap().live_inside, 1);
}

#[test]
fn undecided_says_how_many_answers_and_which_meters() {
    let (net, topo) = network();
    let (c1, c2) = (on(&net, "C1"), on(&net, "C2"));
    // One dead meter on C2; its neighbours did not answer: the meter cabinet or C2?
    let obs = answers(&net, &c2[..1], &c1[..3], &c2[1..3]);
    let l = best(&net, &topo, &obs);
    assert!(!l.decided, "{}", l.summary);
    let top: Vec<&FaultElement> = l.candidates.iter().take(2).map(|c| &c.element).collect();
    assert!(top.contains(&&FaultElement::Connection(c2[0])) && top.contains(&&FaultElement::Cable(1)), "{top:?}");
    assert!(l.answers_needed.unwrap() >= 1);
    assert_eq!(l.askable_between_top_two, 2, "the two silent smart meters on C2");
    let asked: HashSet<usize> = l.ask_next.iter().map(|a| a.connection).collect();
    assert!(asked.contains(&c2[1]) && asked.contains(&c2[2]), "{:?}", l.ask_next);
    assert!(!asked.contains(&c2[3]), "a conventional meter cannot be asked");
}

fn t(s: &str) -> Timestamp {
    parse_timestamp(s).unwrap()
}

#[test]
fn incident_durations_compensation_mismatches_and_register() {
    let (mut net, _) = network();
    let (c2, c3, c4) = (on(&net, "C2"), on(&net, "C3"), on(&net, "C4"));
    // A house really on C2 is registered on C4 (feeder F2): the outage will show it.
    let wrong = c4[0];
    net.connections[wrong].pos = pt(150.0, 12.0);
    net.reindex();
    let topo = Topology::build(&net);
    let ean = |i: usize| net.connections[i].ean.clone();
    // Cable fault on C2 over the autumn DST change: 25 Oct 23:30 CEST.
    let start = t("2025-10-25T23:30:00+02:00");
    let mut log = vec![
        // exactly 4 h (across the clock change) -> EUR 35
        OutageRecord { ean: ean(c2[0]), start, end: start + 4 * 3600 },
        // 13 h in two log entries 2 min apart (one interruption) -> EUR 75
        OutageRecord { ean: ean(c2[1]), start, end: start + 6 * 3600 },
        OutageRecord { ean: ean(c2[1]), start: start + 6 * 3600 + 120, end: start + 13 * 3600 },
        // 1x10A... is c2[0]? no: house 5 is c2[0] -> covered above by capacity
        OutageRecord { ean: ean(wrong), start: start + 30, end: start + 4 * 3600 + 30 },
        // unrelated short outage two days later on C3
        OutageRecord { ean: ean(c3[0]), start: start + 2 * 86400, end: start + 2 * 86400 + 1800 },
    ];
    // c2[2] (smart, registered on C2) logs nothing: a second mismatch.
    log.reverse();
    let m = Measurements {
        outage_log: log,
        incidents: vec![Incident {
            id: "INC-7".into(),
            start: start + 600,
            end: start + 4 * 3600 + 300,
            planned: false,
            cable_ids: vec!["C2".into()],
        }],
        ..Default::default()
    };
    let a = analyse(&net, &topo, &m, &OutageOptions::default());
    assert_eq!(a.incidents.len(), 2, "INC-7 and one found in the logs only");
    let inc = a.incident("INC-7").unwrap();
    assert_eq!(inc.fault_source, FaultSource::Registered);
    let row = |i: usize| inc.interruptions.iter().find(|r| r.connection == Some(i)).unwrap();
    assert_eq!(row(c2[0]).longest_s, 4 * 3600);
    assert_eq!(row(c2[0]).capacity.to_string(), "1x10A");
    assert_eq!(row(c2[0]).compensation.amount_eur, 10);
    assert_eq!(row(c2[1]).longest_s, 13 * 3600);
    assert_eq!(row(c2[1]).interruptions, 1);
    assert_eq!(row(c2[1]).compensation.amount_eur, 75);
    assert_eq!(row(wrong).compensation.amount_eur, 35, "compensated by its log, wherever GIS puts it");
    assert_eq!(row(wrong).downstream_of_fault, Some(false));
    // The conventional meter on C2, by topology: median of the smart meters on C2.
    let conv = row(c2[3]);
    assert_eq!(conv.basis.as_str(), "topology");
    assert!(conv.longest_s >= 4 * 3600);
    // Mismatches: the wrongly registered house, and the silent smart meter on C2.
    let mm: BTreeMap<usize, MismatchKind> = inc.mismatches.iter().map(|m| (m.connection, m.kind)).collect();
    assert_eq!(mm.len(), 2, "{:?}", inc.mismatches);
    assert_eq!(mm[&wrong], MismatchKind::LoggedOutsideFault);
    assert_eq!(mm[&c2[2]], MismatchKind::DownstreamNotLogged);
    let w = inc.mismatches.iter().find(|m| m.connection == wrong).unwrap();
    assert_eq!(w.proposed_cable_id.as_deref(), Some("C2"));
    let drafts = a.suggestion_drafts();
    assert!(drafts.iter().any(|d| d.connection == wrong && d.new_value.to_string() == "C2"));
    // Register: 4 customers (3 by log, 1 by topology), first off and last back.
    let r = &inc.register;
    assert_eq!((r.customers_affected, r.customers_by_meter_log, r.customers_by_topology), (4, 3, 1));
    assert_eq!(r.start, Some(start));
    assert_eq!(r.end, Some(start + 13 * 3600));
    assert_eq!(r.start_difference_min, Some(-10.0));
    // The unregistered one is named after its local start.
    assert!(a.incidents[1].id.starts_with("LOG-20251027-2230"), "{}", a.incidents[1].id);

    // Exports.
    let dir = tempfile::tempdir().unwrap();
    let files = export::write_all(&a, &net, dir.path()).unwrap();
    assert_eq!(files.len(), 4);
    let comp = std::fs::read_to_string(dir.path().join("compensation.csv")).unwrap();
    assert_eq!(comp.lines().count(), 1 + 4, "{comp}");
    assert!(comp.contains("2025-10-25T23:30:00+02:00"), "{comp}");
}

// ---- On generated networks: the scenario holds the truth. ----

use lvtopo::sim::{SimConfig, generate};

fn check_generated(preset: &str, seed: u64) {
    let cfg = SimConfig::preset(preset).unwrap();
    let out = generate(&cfg, seed, &lvtopo::progress::NoProgress).unwrap();
    let net = &out.network;
    let topo = Topology::build(net);
    let a = analyse(net, &topo, &out.measurements, &OutageOptions::default());
    let sc = &out.scenario;
    assert!(!sc.incidents.is_empty());
    let smart: HashSet<&str> = net.connections.iter().filter(|c| c.meter == MeterKind::Smart).map(|c| c.ean.as_str()).collect();
    for truth in &sc.incidents {
        let inc = a.incident(&truth.id).unwrap_or_else(|| panic!("{preset}/{seed}: incident {} not found", truth.id));
        // Durations of every smart meter to the minute.
        for it in truth.interruptions.iter().filter(|i| i.smart) {
            let row = inc
                .interruptions
                .iter()
                .find(|r| r.ean == it.ean)
                .unwrap_or_else(|| panic!("{preset}/{seed} {}: {} missing", truth.id, it.ean));
            assert_eq!(row.longest_s / 60, it.duration_s / 60, "{} {}", truth.id, it.ean);
            assert_eq!(row.basis, DurationBasis::MeterLog);
        }
        let logged = inc.interruptions.iter().filter(|r| r.basis == DurationBasis::MeterLog).count();
        assert_eq!(
            logged,
            truth.interruptions.iter().filter(|i| i.smart).count(),
            "{} has exactly the smart meters that were off",
            truth.id
        );
        // The faulted part: the truth's sections, or for a whole feeder the feeder.
        let true_area: HashSet<usize> = if truth.faulted_cable_ids.is_empty() {
            (0..net.cables.len()).filter(|&k| net.cables[k].feeder_id == truth.feeder_id).collect()
        } else {
            truth.faulted_cable_ids.iter().flat_map(|id| topo.downstream_cables(net.cable_index(id).unwrap())).collect()
        };
        if truth.faulted_cable_ids.is_empty() {
            // Found from the meters' logs alone.
            assert_eq!(inc.fault_source, FaultSource::MeterLogs);
            let loc = inc.log_localisation.as_ref().unwrap();
            let b = loc.best().unwrap();
            let els: Vec<&FaultElement> = std::iter::once(&b.element).chain(&b.equivalent).collect();
            assert!(els.contains(&&FaultElement::Feeder(truth.feeder_id.clone())), "{}: {}", truth.id, loc.summary);
        }
        // Mismatches are exactly the injected registration errors that cross the fault's boundary.
        let expected: HashSet<&str> = sc
            .gis_errors
            .iter()
            .filter(|e| e.kind != "phase" && smart.contains(e.ean.as_str()))
            .filter(|e| {
                let inside = |id: &str| net.cable_index(id).is_some_and(|k| true_area.contains(&k));
                inside(&e.true_cable_id) != inside(&e.gis_cable_id)
            })
            .map(|e| e.ean.as_str())
            .collect();
        let found: HashSet<&str> = inc.mismatches.iter().map(|m| m.ean.as_str()).collect();
        assert_eq!(found, expected, "{preset}/{seed} {}: mismatches", truth.id);
        // Planned work pays nothing; the long fault pays.
        if truth.planned {
            assert_eq!(inc.compensation_total_eur(), 0);
        }
        if truth.kind == "cable_fault" {
            assert!(inc.compensation_total_eur() > 0);
            // Every conventional meter the GIS puts downstream is compensated by topology.
            for &i in &inc.dead_area {
                if net.connections[i].meter == MeterKind::Conventional {
                    assert!(inc.interruptions.iter().any(|r| r.connection == Some(i) && r.basis.as_str() == "topology"));
                }
            }
        }
    }
    // Localisation from the presence answers during the cable fault.
    let fault = sc.incidents.iter().find(|i| i.kind == "cable_fault").unwrap();
    let ep =
        a.episodes.iter().find(|e| e.incident_id.as_deref() == Some(fault.id.as_str())).expect("answers linked to the fault");
    let faulted = FaultElement::Cable(net.cable_index(&fault.faulted_cable_ids[0]).unwrap());
    let names = |c: &Candidate| std::iter::once(c.element.clone()).chain(c.equivalent.clone()).collect::<Vec<_>>();
    let mut loc = ep.localisation.clone();
    if !names(loc.best().unwrap()).contains(&faulted) {
        // Only allowed while undecided: then asking the proposed meters (answered as
        // the truth says; a meter that was off answers "no voltage") must decide it.
        assert!(!loc.decided, "{preset}/{seed}: decided wrongly: {}", loc.summary);
        assert!(loc.candidates.iter().take(2).any(|c| names(c).contains(&faulted)), "{}", loc.summary);
        let off: HashSet<&str> = fault
            .interruptions
            .iter()
            .filter(|i| {
                parse_timestamp(&i.start).unwrap() <= ep.episode.first && ep.episode.first < parse_timestamp(&i.end).unwrap()
            })
            .map(|i| i.ean.as_str())
            .collect();
        let mut obs = ep.episode.observations.clone();
        for m in &loc.ask_next {
            obs.insert(m.connection, Some(if off.contains(m.ean.as_str()) { Observed::Dead } else { Observed::Live }));
        }
        loc = localise(net, &topo, &DeadSets::new(net), &obs, &LocaliseParams::default());
        eprintln!("{preset}/{seed}: after asking: {}", loc.summary);
    }
    let b = loc.best().unwrap();
    assert!(names(b).contains(&faulted), "{preset}/{seed}: expected {}, got {}", faulted.label(net), loc.summary);
    assert_eq!(b.crew, Crew::CableCrew);
    for inc in &a.incidents {
        eprintln!(
            "{preset}/{seed} {}: {} rows, {} mismatches, fault {:?} ({}), EUR {}",
            inc.id,
            inc.interruptions.len(),
            inc.mismatches.len(),
            inc.register.fault,
            inc.fault_source.as_str(),
            inc.compensation_total_eur()
        );
    }
    eprintln!("{preset}/{seed}: {}", ep.localisation.summary);
}

#[test]
fn generated_street_network_matches_its_scenario() {
    for seed in [1, 2, 3] {
        check_generated("tiny", seed);
    }
    check_generated("street", 7);
    check_generated("town", 11);
}

/// The hand-written ACM table through the whole pipeline (log -> incident ->
/// longest interruption -> amount), with the boundary cases 4 h, 8 h and 13 h,
/// per capacity class; planned work pays nothing.
#[test]
fn compensation_table_from_the_logs_with_boundary_cases() {
    let (mut net, _) = network();
    let (c1, c2, c3, c4) = (on(&net, "C1"), on(&net, "C2"), on(&net, "C3"), on(&net, "C4"));
    let h = 3600;
    // (connection, capacity, duration, EUR) written out by hand.
    let table: Vec<(usize, &str, i64, u32)> = vec![
        (c1[0], "3x25A", 4 * h - 60, 0),
        (c1[1], "3x25A", 4 * h, 35),
        (c1[2], "3x25A", 8 * h, 35),
        (c2[0], "1x10A", 8 * h + 60, 15),
        (c2[1], "3x25A", 8 * h + 60, 55),
        (c2[2], "3x25A", 13 * h, 75),
        (c3[0], "3x35A", 13 * h, 395),
        (c3[1], "1x10A", 13 * h, 20),
        (c3[2], "3x25A", 12 * h, 55),
    ];
    for &(i, cap, _, _) in &table {
        net.connections[i].capacity = cap.parse().unwrap();
    }
    let topo = Topology::build(&net);
    // Starts over midnight, a minute apart.
    let start = t("2025-03-10T23:50:00+01:00");
    let mut log: Vec<OutageRecord> = table
        .iter()
        .enumerate()
        .map(|(k, &(i, _, d, _))| OutageRecord {
            ean: net.connections[i].ean.clone(),
            start: start + 60 * k as i64,
            end: start + 60 * k as i64 + d,
        })
        .collect();
    // Planned work on C4 two days later, 13 h.
    let planned = start + 2 * 86400;
    log.extend(c4[..3].iter().map(|&i| OutageRecord {
        ean: net.connections[i].ean.clone(),
        start: planned,
        end: planned + 13 * h,
    }));
    let m = Measurements {
        outage_log: log,
        incidents: vec![
            Incident { id: "INC-F".into(), start, end: start + 13 * h, planned: false, cable_ids: vec!["C1".into()] },
            Incident { id: "INC-P".into(), start: planned, end: planned + 13 * h, planned: true, cable_ids: vec!["C4".into()] },
        ],
        ..Default::default()
    };
    let a = analyse(&net, &topo, &m, &OutageOptions::default());
    let inc = a.incident("INC-F").unwrap();
    for &(i, cap, d, eur) in &table {
        let row = inc.interruptions.iter().find(|r| r.connection == Some(i)).unwrap();
        assert_eq!(row.longest_s / 60, d / 60, "{cap} duration to the minute");
        assert_eq!(row.compensation.amount_eur, eur, "{cap} off {} min", d / 60);
    }
    assert!(inc.mismatches.is_empty(), "{:?}", inc.mismatches);
    let p = a.incident("INC-P").unwrap();
    assert!(p.planned);
    assert_eq!(p.compensation_total_eur(), 0);
    assert!(p.interruptions.iter().all(|r| r.compensation.reason == CompensationReason::Planned));
}

/// Privacy: voltage-presence answers are admitted for fault localisation only
/// inside a (suspected) outage window.
#[test]
fn presence_answers_only_inside_outage_windows() {
    let (net, _) = network();
    let c2 = on(&net, "C2");
    let start = t("2025-10-25T23:30:00+02:00");
    let ean = |i: usize| net.connections[i].ean.clone();
    let m = Measurements {
        outage_log: vec![OutageRecord { ean: ean(c2[0]), start, end: start + 5 * 3600 }],
        presence: vec![
            PresenceAnswer { ean: ean(c2[1]), timestamp: start + 1800, voltage_present: Some(false) },
            PresenceAnswer { ean: ean(c2[2]), timestamp: start - 1800, voltage_present: Some(false) },
            PresenceAnswer { ean: ean(c2[2]), timestamp: start + 3 * 86400, voltage_present: Some(true) },
        ],
        ..Default::default()
    };
    assert_eq!(outage_windows(&m, OutageOptions::default().merge_gap_s), vec![(start, start + 5 * 3600)]);
    let (kept, left_out) = admissible_presence(&m, OutageOptions::default().merge_gap_s);
    assert_eq!(left_out, 1, "three days later is no outage");
    assert_eq!(kept.len(), 2, "half an hour before the first log entry is within the margin");
}

/// The headless command on the bundled samples, with the privacy check of the
/// presence answers recorded in a private audit folder.
#[test]
fn cli_on_the_street_sample_and_refusal_outside_outage_windows() {
    let dir = tempfile::tempdir().unwrap();
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-networks/street");
    let run = |presence: &std::path::Path, extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_lvtopo"))
            .arg("outage")
            .arg("--network")
            .arg(&sample)
            .arg("--log")
            .arg(sample.join("outage_log.csv"))
            .arg("--incidents")
            .arg(sample.join("incidents.csv"))
            .arg("--presence")
            .arg(presence)
            .arg("--out")
            .arg(dir.path().join("out"))
            .arg("--privacy-dir")
            .arg(dir.path().join("privacy"))
            .args(extra)
            .output()
            .unwrap()
    };
    let ok = run(&sample.join("voltage_presence.csv"), &[]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(stdout.contains("send the cable crew"), "{stdout}");
    for f in ["interruptions.csv", "compensation.csv", "register.csv", "mismatches.csv", "localisation.csv"] {
        assert!(dir.path().join("out").join(f).is_file(), "{f}");
    }
    // The meters' outage log itself was admitted (for compensation, its purpose file) and audited.
    let store = lvtopo::privacy::PrivacyStore::open(Some(&dir.path().join("privacy"))).unwrap();
    let audit = format!("{:?}", store.audit().unwrap().entries().unwrap()).to_lowercase();
    assert!(audit.contains("outage_log.csv") && audit.contains("compensation"), "{audit}");
    // One answer far from any outage: refused, unless the user consents to drop it.
    let text = std::fs::read_to_string(sample.join("voltage_presence.csv")).unwrap();
    let first = text.lines().nth(1).unwrap();
    let ean = first.split(',').next().unwrap();
    let odd = dir.path().join("presence.csv");
    std::fs::write(&odd, format!("{}\n{first}\n{ean},2025-12-01T12:00:00+01:00,true\n", text.lines().next().unwrap())).unwrap();
    let refused = run(&odd, &[]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("outage-window-only"));
    let trimmed = run(&odd, &["--trim-consent"]);
    assert!(trimmed.status.success(), "{}", String::from_utf8_lossy(&trimmed.stderr));
    assert!(String::from_utf8_lossy(&trimmed.stderr).contains("1 of 2 answer(s) kept"));
}

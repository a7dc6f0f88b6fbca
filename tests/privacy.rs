//! The privacy rules of the approved use cases, end to end through the
//! privacy folder (ledger, audit log, raw cache) as the CLI and the app use it.

use lvtopo::model::time::parse_timestamp;
use lvtopo::model::{Phase, PresenceAnswer, SeriesKey, TimeGrid, VoltageTable};
use lvtopo::privacy::aggregate::{AreaLevel, MinGroupSize, group_connections};
use lvtopo::privacy::audit::{AuditEvent, Decision};
use lvtopo::privacy::guard::as_refusal;
use lvtopo::privacy::purge::{PurgeOptions, purge};
use lvtopo::privacy::sidecar::{PurposeFile, sidecar_path};
use lvtopo::privacy::{AuditLog, LoadRequest, Period, PrivacyStore, PseudonymKey, Purpose, RuleId, Task};
use std::path::{Path, PathBuf};

const EANS: [&str; 3] = ["871687400000000019", "871687400000000026", "871687400000000033"];

/// A voltage read of `days` days from `start`, with values unlikely to occur by chance
/// (231.37, 231.38, ...), written as voltage.csv into `dir` and returned as a table.
fn voltage_read(dir: &Path, start: &str, days: usize) -> (PathBuf, VoltageTable, Vec<String>) {
    let t0 = parse_timestamp(start).unwrap();
    let grid = TimeGrid { start: t0 + 600, step_s: 600, len: days * 144 };
    let keys: Vec<SeriesKey> = EANS.iter().map(|e| SeriesKey { ean: e.to_string(), channel: Phase::L1 }).collect();
    let mut values = Vec::new();
    let mut csv = String::from("ean,timestamp,channel,voltage_v\n");
    let mut raw = Vec::new();
    for (s, k) in keys.iter().enumerate() {
        for i in 0..grid.len {
            let v = 231.37 + 0.01 * ((s * 7 + i) % 50) as f32;
            values.push(v);
            let text = format!("{v:.2}");
            csv.push_str(&format!("{},{},L1,{text}\n", k.ean, lvtopo::model::time::format_utc(grid.time(i))));
            raw.push(text);
        }
    }
    let path = dir.join("voltage.csv");
    std::fs::write(&path, csv).unwrap();
    raw.sort();
    raw.dedup();
    (path, VoltageTable::new(grid, keys, values), raw)
}

fn state_purpose(data: &Path, purpose: Purpose) {
    PurposeFile { purpose: Some(purpose), reference: Some("WO-1".into()), ..Default::default() }
        .write(&sidecar_path(data))
        .unwrap();
}

#[test]
fn twelve_day_read_refused_for_gis_correction_then_trimmed_with_consent() {
    let work = tempfile::tempdir().unwrap();
    let store = PrivacyStore::open(Some(&work.path().join("privacy"))).unwrap();
    let (path, table, _) = voltage_read(work.path(), "2025-03-01T00:00:00+01:00", 12);
    state_purpose(&path, Purpose::GisTopologyCorrection);

    let req = LoadRequest { source: Some(&path), ..Default::default() };
    let err = store.admit(table.clone(), &req).unwrap_err();
    let refusal = as_refusal(&err).expect("a refusal, not an I/O error");
    assert!(refusal.has(RuleId::MaxPeriod));
    let msg = err.to_string();
    assert!(msg.contains("max-period") && msg.contains("GIS topology correction") && msg.contains("12.0 days"), "{msg}");

    let consent = LoadRequest { consent_trim: true, ..req };
    let ok = store.admit(table, &consent).unwrap();
    assert_eq!(ok.data.grid.len, 1440, "ten days kept");
    assert_eq!(ok.approval.remedies_applied.len(), 1);

    let log = store.audit().unwrap().entries().unwrap();
    let decisions: Vec<Decision> = log
        .iter()
        .filter_map(|e| match &e.event {
            AuditEvent::Load { decision, .. } => Some(*decision),
            _ => None,
        })
        .collect();
    assert_eq!(decisions, vec![Decision::Refused, Decision::Trimmed]);
}

#[test]
fn second_gis_read_of_a_connection_within_a_year_is_flagged() {
    let work = tempfile::tempdir().unwrap();
    let store = PrivacyStore::open(Some(&work.path().join("privacy"))).unwrap();
    let march = work.path().join("march");
    let october = work.path().join("october");
    std::fs::create_dir_all(&march).unwrap();
    std::fs::create_dir_all(&october).unwrap();
    let (p1, t1, _) = voltage_read(&march, "2025-03-01T00:00:00+01:00", 10);
    let (p2, t2, _) = voltage_read(&october, "2025-10-01T00:00:00+02:00", 10);
    let req1 = LoadRequest { source: Some(&p1), purpose: Some(Purpose::GisTopologyCorrection), ..Default::default() };
    store.admit(t1.clone(), &req1).unwrap();
    // Opening the same read again is not a second read.
    store.admit(t1, &req1).unwrap();

    let req2 = LoadRequest { source: Some(&p2), purpose: Some(Purpose::GisTopologyCorrection), ..Default::default() };
    let err = store.admit(t2.clone(), &req2).unwrap_err();
    let r = as_refusal(&err).unwrap();
    assert!(r.has(RuleId::OncePerYear), "{err}");
    assert!(err.to_string().contains("3 of 3 connection(s)"), "{err}");
    assert!(!r.remediable(), "all connections were read already: nothing lawful remains");
    // The same data may serve another purpose with its own rules.
    let other = LoadRequest { purpose: Some(Purpose::InterventionEffect), ..req2 };
    store.admit(t2, &other).unwrap();
}

#[test]
fn presence_answers_outside_an_outage_window_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let store = PrivacyStore::open(Some(&work.path().join("privacy"))).unwrap();
    let t = |s: &str| parse_timestamp(s).unwrap();
    let answers = vec![
        PresenceAnswer { ean: EANS[0].into(), timestamp: t("2025-03-10T14:30:00+01:00"), voltage_present: Some(false) },
        PresenceAnswer { ean: EANS[1].into(), timestamp: t("2025-03-12T09:00:00+01:00"), voltage_present: Some(true) },
    ];
    let window = Period::new(t("2025-03-10T14:00:00+01:00"), t("2025-03-10T18:00:00+01:00"));
    let req = LoadRequest { purpose: Some(Purpose::FaultLocalisation), ..Default::default() };
    let err = store.admit(answers.clone(), &req).unwrap_err();
    assert!(err.to_string().contains("no (suspected) outage window"), "{err}");

    let with_window = LoadRequest { outage_windows: vec![window], ..req.clone() };
    let err = store.admit(answers.clone(), &with_window).unwrap_err();
    assert!(as_refusal(&err).unwrap().has(RuleId::OutageWindowOnly));
    assert!(err.to_string().contains("1 of 2 answer(s)"), "{err}");

    let consent = LoadRequest { consent_trim: true, ..with_window };
    let ok = store.admit(answers, &consent).unwrap();
    assert_eq!(ok.data.len(), 1, "the answer two days later is dropped");
}

#[test]
fn a_read_without_a_purpose_or_for_another_task_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let store = PrivacyStore::open(Some(&work.path().join("privacy"))).unwrap();
    let (path, table, _) = voltage_read(work.path(), "2025-03-01T00:00:00+01:00", 5);
    let err = store.admit(table.clone(), &LoadRequest { source: Some(&path), ..Default::default() }).unwrap_err();
    assert!(as_refusal(&err).unwrap().has(RuleId::NoPurpose), "{err}");
    assert!(err.to_string().contains("voltage.csv.purpose.json"), "{err}");

    state_purpose(&path, Purpose::SeasonalVoltageAnalysis);
    let gis_task = [Purpose::GisTopologyCorrection];
    let err = store.admit(table, &LoadRequest { source: Some(&path), accepted: &gis_task, ..Default::default() }).unwrap_err();
    assert!(as_refusal(&err).unwrap().has(RuleId::PurposeNotServed), "{err}");
}

#[test]
fn a_feeder_of_nine_is_merged_into_its_station() {
    use lvtopo::model::{Capacity, Connection, GeoPoint, MeterKind, Network, PhaseConnection};
    let mut conns = Vec::new();
    for (feeder, n) in [("F1", 14), ("F2", 9)] {
        for i in 0..n {
            conns.push(Connection {
                ean: format!("{feeder}{i}"),
                station_id: "S1".into(),
                feeder_id: Some(feeder.into()),
                cable_id: Some(format!("{feeder}-1")),
                phase: Some(PhaseConnection::Single(Phase::L2)),
                street: None,
                house_number: None,
                house_number_addition: None,
                postcode: None,
                meter: MeterKind::Smart,
                pv_kwp_registered: None,
                capacity: Capacity::default(),
                pos: GeoPoint::default(),
                service_joint: None,
                extra: Default::default(),
            });
        }
    }
    let net = Network::new(vec![], vec![], conns, Default::default());
    let all: Vec<usize> = (0..net.connections.len()).collect();
    let g = group_connections(&net, &all, AreaLevel::Feeder, MinGroupSize::default());
    assert_eq!(g.groups.len(), 1);
    assert_eq!(g.groups[0].label(), "station S1 (feeders F1, F2)");
    assert_eq!(g.groups[0].size(), 23);
    assert!(g.notes.iter().any(|n| n.contains("feeder F2 (9)")), "{:?}", g.notes);
    assert!(MinGroupSize::new(4).is_err(), "k cannot go below 5");
}

#[test]
fn pseudonyms_are_stable_under_a_key_and_differ_under_another() {
    let dir = tempfile::tempdir().unwrap();
    let k1 = PseudonymKey::create(&dir.path().join("k1.key")).unwrap();
    let k2 = PseudonymKey::create(&dir.path().join("k2.key")).unwrap();
    assert!(PseudonymKey::create(&dir.path().join("k1.key")).is_err(), "a key is never overwritten");
    let again = PseudonymKey::read(&dir.path().join("k1.key")).unwrap();
    assert_eq!(k1.pseudonym(EANS[0]), again.pseudonym(EANS[0]));
    assert_ne!(k1.pseudonym(EANS[0]), k2.pseudonym(EANS[0]));

    // Through the CLI: the export is rewritten and audited with the key's fingerprint.
    let input = dir.path().join("assignments.csv");
    std::fs::write(&input, format!("ean,inferred_phase\n{},L2\n{},L3\n", EANS[0], EANS[1])).unwrap();
    let output = dir.path().join("research.csv");
    let args = lvtopo::cli::privacy::Args {
        privacy_dir: Some(dir.path().join("privacy")),
        command: lvtopo::cli::privacy::Command::Pseudonymise(lvtopo::cli::privacy::PseudonymiseArgs {
            key_file: dir.path().join("k1.key"),
            columns: vec![],
            drop_address: false,
            what: "research_data".into(),
            input,
            output: output.clone(),
        }),
    };
    lvtopo::cli::privacy::run(args).unwrap();
    let text = std::fs::read_to_string(&output).unwrap();
    assert!(!text.contains(EANS[0]) && text.contains(&k1.pseudonym(EANS[0])), "{text}");
    let store = PrivacyStore::open(Some(&dir.path().join("privacy"))).unwrap();
    let log = store.audit().unwrap().entries().unwrap();
    assert!(
        matches!(&log[0].event, AuditEvent::Export { pseudonymised: true, key_fingerprint: Some(f), .. } if *f == k1.fingerprint())
    );
}

/// Every file under `dir`, recursively.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn purge_leaves_no_raw_value_on_disk() {
    let work = tempfile::tempdir().unwrap();
    let store = PrivacyStore::open(Some(&work.path().join("privacy"))).unwrap();
    let (path, table, raw_texts) = voltage_read(work.path(), "2025-03-01T00:00:00+01:00", 2);
    state_purpose(&path, Purpose::GisTopologyCorrection);
    let admitted = store.admit(table, &LoadRequest { source: Some(&path), ..Default::default() }).unwrap();

    // lvtopo's own copies of the values: a cache in the raw folder and a session value cache elsewhere.
    let raw_dir = store.raw_cache_dir();
    std::fs::create_dir_all(&raw_dir).unwrap();
    std::fs::write(raw_dir.join("voltage.cache.json"), serde_json::to_vec(&admitted.data).unwrap()).unwrap();
    let session_cache = work.path().join("session.values.bin");
    let bytes: Vec<u8> = admitted.data.values.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(&session_cache, bytes).unwrap();
    store.register_raw_copy(&session_cache, Some(&path)).unwrap();

    // Purging before the results are exported is refused.
    let opts = PurgeOptions { sources: true, ..Default::default() };
    let err = purge(&store, &opts).unwrap_err();
    assert!(err.to_string().contains("no export is recorded"), "{err}");

    // The derived results: assignments with confidence, exported.
    let assignments = work.path().join("assignments.csv");
    let mut a = String::from("ean,gis_phase,inferred_phase,phase_confidence,status\n");
    for e in EANS {
        a.push_str(&format!("{e},L1,L2,0.97,suggest_change\n"));
    }
    std::fs::write(&assignments, a).unwrap();
    store.record_export(&assignments, "assignments", None, 3).unwrap();

    let out = purge(&store, &opts).unwrap();
    assert_eq!(out.deleted.len(), 3, "{:?}", out.deleted);
    assert!(assignments.exists(), "derived results are kept");
    assert!(sidecar_path(&path).exists(), "the purpose statement holds no values and stays");

    // No raw value in any file left, as text or as f32 bytes.
    let needles_f32: Vec<[u8; 4]> = admitted.data.values.iter().map(|v| v.to_le_bytes()).collect();
    for f in all_files(work.path()) {
        let content = std::fs::read(&f).unwrap();
        let text = String::from_utf8_lossy(&content);
        for r in &raw_texts {
            assert!(!text.contains(r.as_str()), "{} still holds the raw value {r}", f.display());
        }
        for n in &needles_f32 {
            assert!(!content.windows(4).any(|w| w == n), "{} still holds a raw f32", f.display());
        }
    }
    let log = store.audit().unwrap();
    assert!(log.verify().is_ok());
    let last = log.entries().unwrap().pop().unwrap();
    let AuditEvent::Purge { deleted, kept, .. } = last.event else { panic!("last entry is the purge") };
    assert_eq!(deleted.iter().filter(|d| d.role == "source").count(), 1);
    assert!(kept.iter().any(|k| k.ends_with("assignments.csv")));
}

#[test]
fn cli_purpose_flags_refuse_then_trim_with_consent() {
    let work = tempfile::tempdir().unwrap();
    let (path, table, _) = voltage_read(work.path(), "2025-03-01T00:00:00+01:00", 12);
    let mut flags = lvtopo::cli::privacy::PurposeArgs {
        purpose: Some(Purpose::GisTopologyCorrection),
        privacy_dir: Some(work.path().join("privacy")),
        ..Default::default()
    };
    let err = flags.admit(table.clone(), &path, Task::GisCorrection, vec![]).unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("--trim-consent") && text.contains("max-period"), "{text}");
    flags.trim_consent = true;
    let kept = flags.admit(table, &path, Task::GisCorrection, vec![]).unwrap();
    assert_eq!(kept.grid.len, 1440);
}

#[derive(clap::Parser)]
struct SimCli {
    #[command(flatten)]
    args: lvtopo::cli::simulate::Args,
}

#[test]
fn aggregate_cli_on_a_generated_street_shows_only_groups_of_k() {
    use clap::Parser;
    let work = tempfile::tempdir().unwrap();
    let net = work.path().join("street");
    let sim = SimCli::parse_from(["simulate", "--preset", "street", "--days", "7", "--no-gzip", "--out", net.to_str().unwrap()]);
    lvtopo::cli::simulate::run(sim.args).unwrap();
    let feed_in = net.join("feed_in.csv");
    assert!(feed_in.exists());
    let out = work.path().join("agg.csv");
    let run = |k: usize| {
        lvtopo::cli::privacy::run(lvtopo::cli::privacy::Args {
            privacy_dir: Some(work.path().join("privacy")),
            command: lvtopo::cli::privacy::Command::Aggregate(lvtopo::cli::privacy::AggregateArgs {
                network: net.clone(),
                feed_in: feed_in.clone(),
                by: AreaLevel::Feeder,
                k: Some(k),
                purpose: Purpose::LoadAggregates,
                out: out.clone(),
            }),
        })
    };
    assert!(run(4).is_err(), "k below 5 is refused");
    run(10).unwrap();
    let mut rdr = csv::Reader::from_path(&out).unwrap();
    let mut rows = 0;
    for r in rdr.records() {
        let r = r.unwrap();
        assert!(r[3].parse::<usize>().unwrap() >= 10, "a group below k: {r:?}");
        rows += 1;
    }
    assert!(rows >= 7 * 96, "at least one group over the week: {rows}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("8716"), "no EAN in an aggregate export");
}

// ---- The CLI side of each privacy path the app also covers
// (the app side: `crates/lvtopo-app/src/privacy_actions.rs`, tests).

fn street() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-networks").join("street")
}

fn lvtopo(privacy: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_lvtopo"))
        .args(args)
        .env(lvtopo::privacy::PRIVACY_DIR_ENV, privacy)
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn cli_refuses_a_before_read_stated_for_another_purpose() {
    let work = tempfile::tempdir().unwrap();
    let (before, after) = (work.path().join("before").join("voltage.csv.gz"), work.path().join("voltage.csv.gz"));
    std::fs::create_dir_all(before.parent().unwrap()).unwrap();
    std::fs::copy(street().join("voltage.csv.gz"), &before).unwrap();
    std::fs::copy(street().join("voltage.csv.gz"), &after).unwrap();
    state_purpose(&before, Purpose::GisTopologyCorrection);
    let privacy = work.path().join("privacy");
    let out = work.path().join("out");
    let net = street();
    let args = ["voltage", "--network", s(&net), "--voltage", s(&after), "--before", s(&before), "--out", s(&out)];
    let o = lvtopo(&privacy, &args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("this task serves"), "{err}");
    // Both for the intervention, but the same days twice: no day between them.
    state_purpose(&before, Purpose::InterventionEffect);
    let o = lvtopo(&privacy, &args);
    assert!(!o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn cli_letter_lists_are_audited() {
    let work = tempfile::tempdir().unwrap();
    let privacy = work.path().join("privacy");
    let out = work.path().join("pv.csv");
    let o = lvtopo(
        &privacy,
        &[
            "pv",
            "--network",
            s(&street()),
            "--feed-in",
            s(&street().join("feed_in.csv.gz")),
            "--purpose-file",
            s(&street().join("pv_registration.purpose.json")),
            "--trim-consent",
            "--out",
            s(&out),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let log = AuditLog::open(&privacy).unwrap().entries().unwrap();
    let letters = log.iter().filter(|e| matches!(&e.event, AuditEvent::Export { what, .. } if what == "pv_letter_list")).count();
    assert_eq!(letters, 2);
}

#[test]
fn cli_refuses_a_group_size_below_five() {
    let work = tempfile::tempdir().unwrap();
    let privacy = work.path().join("privacy");
    assert!(!lvtopo(&privacy, &["privacy", "set-k", "4"]).status.success());
    assert!(lvtopo(&privacy, &["privacy", "set-k", "12"]).status.success());
    assert_eq!(PrivacyStore::open(Some(&privacy)).unwrap().min_group_size().unwrap().get(), 12);
}

#[test]
fn cli_aggregates_refuse_a_feed_in_read_stated_for_another_purpose() {
    let work = tempfile::tempdir().unwrap();
    let privacy = work.path().join("privacy");
    let out = work.path().join("agg.csv");
    // The sample's feed-in states the seasonal voltage analysis (uc3) in its purpose file.
    let o = lvtopo(
        &privacy,
        &[
            "privacy",
            "aggregate",
            "--network",
            s(&street()),
            "--feed-in",
            s(&street().join("feed_in.csv.gz")),
            "--by",
            "station",
            "--out",
            s(&out),
        ],
    );
    assert!(!o.status.success() && !out.exists(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn cli_refuses_an_outage_log_stated_for_another_purpose() {
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("outage_log.csv");
    std::fs::copy(street().join("outage_log.csv"), &log).unwrap();
    state_purpose(&log, Purpose::GisTopologyCorrection);
    let o = lvtopo(
        &work.path().join("privacy"),
        &["outage", "--network", s(&street()), "--log", s(&log), "--out", s(&work.path().join("out"))],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("outage_log"), "{err}");
}

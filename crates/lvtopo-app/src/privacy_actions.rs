//! The privacy side effects the panels ask for, as commands applied after the
//! frame: the minimum group size, the audit-log export, aggregates,
//! pseudonymised research data, the purge and the PV letter lists. Each one
//! goes through `lvtopo_core::privacy` (rules, file writing, audit entry) and
//! uses the privacy folder `dispatch` decides, so no widget writes a file or
//! the audit log itself.

use super::app::LvtopoApp;
use super::command::UiCommand;
use lvtopo_core::privacy::aggregate::{AreaLevel, MinGroupSize};
use lvtopo_core::privacy::exports;
use lvtopo_core::privacy::purge::{PurgeOptions, purge};
use lvtopo_core::privacy::{PrivacyStore, PseudonymKey};
use lvtopo_core::quality::solar::PvAnalysis;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub enum PrivacyAction {
    /// The minimum group size k of every aggregate (refused below the floor; audited).
    SetMinGroupSize(usize),
    /// `audit-log.csv` into the export folder (or the privacy folder).
    ExportAuditLog,
    /// The aggregates of the loaded feed-in read (only a read admitted for use case 11, 13 or 14).
    ExportAggregates { level: AreaLevel, k: usize },
    /// A new pseudonymisation key (never overwrites one).
    CreateKey(PathBuf),
    /// The analysis assignments with keyed pseudonyms, address columns dropped.
    ExportPseudonymised { key_file: PathBuf },
    /// Delete the raw reads (refused while a load has no export after it).
    Purge { sources: bool },
    /// The two PV letter lists (addresses: the letters need them), audited like `lvtopo pv`.
    ExportLetterLists(Arc<PvAnalysis>),
}

impl PrivacyAction {
    pub fn label(&self) -> String {
        match self {
            PrivacyAction::SetMinGroupSize(k) => format!("Set the minimum group size to {k}"),
            PrivacyAction::ExportAuditLog => "Export the audit log".into(),
            PrivacyAction::ExportAggregates { .. } => "Export aggregates".into(),
            PrivacyAction::CreateKey(_) => "Create a pseudonymisation key".into(),
            PrivacyAction::ExportPseudonymised { .. } => "Export assignments, pseudonymised".into(),
            PrivacyAction::Purge { .. } => "Purge raw reads".into(),
            PrivacyAction::ExportLetterLists(_) => "Export the PV letter lists".into(),
        }
    }
}

impl LvtopoApp {
    pub(super) fn apply_privacy(&mut self, action: PrivacyAction) {
        let dir = self.privacy_dir();
        let outcome = PrivacyStore::open(dir.as_deref()).and_then(|store| self.privacy_action(&store, action));
        match outcome {
            Ok(msg) => self.state.set_message(msg),
            Err(e) => self.state.set_error(format!("{e:#}")),
        }
        // The Privacy panel reloads the audit log.
        self.state.audit_generation += 1;
    }

    fn privacy_action(&mut self, store: &PrivacyStore, action: PrivacyAction) -> anyhow::Result<String> {
        let out_dir = self.state.export_dir.clone().unwrap_or_else(|| store.dir().to_path_buf());
        match action {
            PrivacyAction::SetMinGroupSize(k) => {
                store.set_min_group_size(k)?;
                Ok(format!("Minimum group size set to {k}"))
            }
            PrivacyAction::ExportAuditLog => {
                let out = out_dir.join("audit-log.csv");
                let n = exports::export_audit_log(store, &out)?;
                Ok(format!("{n} audit entries written to {}", out.display()))
            }
            PrivacyAction::ExportAggregates { level, k } => {
                let k = MinGroupSize::new(k).map_err(anyhow::Error::msg)?;
                let ds = self.state.dataset.as_ref().ok_or_else(|| anyhow::anyhow!("open a network first"))?;
                let feed_in = ds.measurements.feed_in.as_ref().ok_or_else(|| anyhow::anyhow!("no feed-in read loaded"))?;
                let agg = exports::aggregates(&ds.network, feed_in, Some(&ds.privacy_reads), level, k)?;
                let out = out_dir.join(exports::aggregates_file_name(level));
                exports::write_aggregates(store, &agg, level, &out)?;
                Ok(format!("Aggregates written to {}", out.display()))
            }
            PrivacyAction::CreateKey(path) => {
                let k = PseudonymKey::create(&path)?;
                Ok(format!("Key created, fingerprint {}; keep the file safe", k.fingerprint()))
            }
            PrivacyAction::ExportPseudonymised { key_file } => {
                let (Some(ds), Some(result)) = (self.state.dataset.as_ref(), self.state.analysis.as_ref()) else {
                    anyhow::bail!("run the analysis first");
                };
                let out = out_dir.join("assignments_pseudonymised.csv");
                let (rows, fp) = exports::write_pseudonymised(store, &key_file, &out, "research_data_assignments", |plain| {
                    let f = std::fs::File::create(plain)?;
                    lvtopo_core::analysis::output::write_assignments(&ds.network, result, std::io::BufWriter::new(f))?;
                    Ok(())
                })?;
                Ok(format!("{rows} row(s) written to {} with key {fp}", out.display()))
            }
            PrivacyAction::Purge { sources } => {
                let o = purge(store, &PurgeOptions { sources, without_export: false, dry_run: false })?;
                // The raw values must not survive in this session either.
                self.apply(UiCommand::ForgetRawReads);
                Ok(format!(
                    "{} file(s) deleted at {} (recorded in the audit log); {} kept",
                    o.deleted.len(),
                    lvtopo_core::model::time::format_amsterdam(lvtopo_core::privacy::audit::now()),
                    o.skipped.len()
                ))
            }
            PrivacyAction::ExportLetterLists(a) => {
                let ds = self.state.dataset.as_ref().ok_or_else(|| anyhow::anyhow!("open a network first"))?;
                let net = ds.network.clone();
                // Like the other privacy exports: into the export folder (else the privacy folder).
                let dir = out_dir.clone();
                let files = lvtopo_core::quality::export::write_letters(&net, &a, &dir)?;
                exports::record_exports(store, &files, "pv_letter_list")?;
                Ok(files.iter().map(|(p, n)| format!("{n} letter(s) written to {}", p.display())).collect::<Vec<_>>().join("; "))
            }
        }
    }
}

/// Each privacy path of the app refuses a read outside its rules, as the CLI
/// does (the CLI side of each case is in the root package's `tests/privacy.rs`).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::privacy_load::PrivacyChoices;
    use crate::views::quality::QualityCache;
    use crate::{AppOptions, LvtopoApp};
    use egui_kittest::Harness;
    use lvtopo_core::privacy::audit::{AuditEvent, Decision};
    use lvtopo_core::privacy::sidecar::{PurposeFile, sidecar_path};
    use lvtopo_core::privacy::{AuditLog, DataKind, Purpose};
    use std::path::{Path, PathBuf};

    fn harness(privacy_dir: PathBuf, export_dir: PathBuf) -> Harness<'static, LvtopoApp> {
        let mut app = LvtopoApp::new(AppOptions::headless());
        app.state.privacy_dir = Some(privacy_dir);
        app.state.export_dir = Some(export_dir);
        Harness::builder().with_size(egui::vec2(1500.0, 950.0)).build_ui_state(|ui, app: &mut LvtopoApp| app.ui(ui), app)
    }

    fn settle(h: &mut Harness<'_, LvtopoApp>) {
        for _ in 0..3 {
            h.run_steps(2);
            h.state_mut().finish_jobs_blocking();
        }
        h.run_steps(3);
    }

    fn street() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("sample-networks").join("street")
    }

    /// The street sample copied into `dir` (to change its purpose files).
    fn street_copy(dir: &Path) -> PathBuf {
        let to = dir.join("street");
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(street()).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
        to
    }

    fn state_purpose(data: &Path, p: Purpose) {
        PurposeFile { purpose: Some(p), ..Default::default() }.write(&sidecar_path(data)).unwrap();
    }

    fn open(h: &mut Harness<'_, LvtopoApp>, paths: Vec<PathBuf>) {
        h.state_mut().commands.push(UiCommand::OpenPaths(paths));
        settle(h);
    }

    fn exports_of(privacy: &Path, what: &str) -> usize {
        let log = AuditLog::open(privacy).unwrap().entries().unwrap();
        log.iter().filter(|e| matches!(&e.event, AuditEvent::Export { what: w, .. } if w == what)).count()
    }

    fn error(h: &Harness<'_, LvtopoApp>) -> String {
        h.state().state.message.as_ref().filter(|m| m.is_error).map(|m| m.text.clone()).unwrap_or_default()
    }

    #[test]
    fn a_second_voltage_read_is_admitted_for_the_intervention_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let privacy = dir.path().join("privacy");
        let mut h = harness(privacy.clone(), dir.path().to_path_buf());
        open(&mut h, vec![street()]);
        let second = dir.path().join("after").join("voltage.csv.gz");
        std::fs::create_dir_all(second.parent().unwrap()).unwrap();
        std::fs::copy(street().join("voltage.csv.gz"), &second).unwrap();
        let run = |h: &Harness<'_, LvtopoApp>| {
            let mut cache = QualityCache::default();
            cache.start_second_read(second.clone(), h.state().state.dataset.as_ref().unwrap(), Some(privacy.clone()), None);
            cache.finish_second_read().expect("a read was started")
        };
        // The sample's read was admitted for GIS correction (uc7): not for a before/after.
        let err = run(&h).unwrap_err();
        assert!(err.contains("admitted for") && err.contains("GIS"), "{err}");

        // A first read admitted for the intervention (uc5) ...
        let first = dir.path().join("voltage.csv.gz");
        std::fs::copy(street().join("voltage.csv.gz"), &first).unwrap();
        let choices = PrivacyChoices { purposes: vec![(first.clone(), Purpose::InterventionEffect)], ..Default::default() };
        h.state_mut().commands.push(UiCommand::LoadWithPurposes(choices, vec![first]));
        settle(&mut h);
        // ... and a second read whose purpose file states another purpose: refused.
        state_purpose(&second, Purpose::GisTopologyCorrection);
        let err = run(&h).unwrap_err();
        assert!(err.contains("purpose-not-served") || err.contains("this task serves"), "{err}");
        // The same days twice: no day between before and after.
        std::fs::remove_file(sidecar_path(&second)).unwrap();
        let err = run(&h).unwrap_err();
        assert!(err.contains("not used"), "{err}");
        let log = AuditLog::open(&privacy).unwrap().entries().unwrap();
        assert!(matches!(&log.last().unwrap().event, AuditEvent::Load { decision: Decision::Refused, .. }));
    }

    #[test]
    fn letter_lists_are_written_by_the_app_and_audited() {
        let dir = tempfile::tempdir().unwrap();
        let privacy = dir.path().join("privacy");
        let mut h = harness(privacy.clone(), dir.path().join("out"));
        open(&mut h, vec![street()]);
        let ds = h.state().state.dataset.clone().unwrap();
        let a = lvtopo_core::quality::solar::analyse(
            &ds.network,
            ds.measurements.feed_in.as_ref().unwrap(),
            &lvtopo_core::quality::solar::SolarSettings::default(),
        );
        h.state_mut().commands.push(UiCommand::Privacy(PrivacyAction::ExportLetterLists(Arc::new(a))));
        h.run_steps(2);
        assert!(dir.path().join("out").join("letters_register_reminder.csv").exists(), "{}", error(&h));
        assert_eq!(exports_of(&privacy, "pv_letter_list"), 2);
    }

    #[test]
    fn the_group_size_is_saved_through_the_core_and_never_below_five() {
        let dir = tempfile::tempdir().unwrap();
        let privacy = dir.path().join("privacy");
        let mut h = harness(privacy.clone(), dir.path().to_path_buf());
        h.state_mut().commands.push(UiCommand::Privacy(PrivacyAction::SetMinGroupSize(4)));
        h.run_steps(2);
        assert!(!error(&h).is_empty(), "k = 4 is refused");
        let store = PrivacyStore::open(Some(&privacy)).unwrap();
        assert_eq!(store.min_group_size().unwrap().get(), 10);
        h.state_mut().commands.push(UiCommand::Privacy(PrivacyAction::SetMinGroupSize(12)));
        h.run_steps(2);
        assert_eq!(store.min_group_size().unwrap().get(), 12);
        let log = store.audit().unwrap().entries().unwrap();
        assert!(log.iter().any(|e| matches!(&e.event, AuditEvent::Setting { value, .. } if value == "12")));
    }

    #[test]
    fn aggregates_only_of_a_feed_in_read_admitted_for_them() {
        let dir = tempfile::tempdir().unwrap();
        let privacy = dir.path().join("privacy");
        let out = dir.path().join("out");
        let mut h = harness(privacy.clone(), out.clone());
        // The sample's feed-in was admitted for the seasonal voltage analysis (uc3).
        open(&mut h, vec![street()]);
        let agg = || UiCommand::Privacy(PrivacyAction::ExportAggregates { level: AreaLevel::Station, k: 10 });
        h.state_mut().commands.push(agg());
        h.run_steps(2);
        assert!(error(&h).contains("admitted for"), "{}", error(&h));
        assert!(!out.join("aggregates_by_station.csv").exists());
        // The same feed-in admitted for load aggregates (uc11): summed and exported, audited.
        let feed = dir.path().join("feed_in.csv.gz");
        std::fs::copy(street().join("feed_in.csv.gz"), &feed).unwrap();
        let choices = PrivacyChoices { purposes: vec![(feed.clone(), Purpose::LoadAggregates)], ..Default::default() };
        h.state_mut().commands.push(UiCommand::LoadWithPurposes(choices, vec![feed]));
        settle(&mut h);
        h.state_mut().commands.push(agg());
        h.run_steps(2);
        assert!(out.join("aggregates_by_station.csv").exists(), "{}", error(&h));
        assert_eq!(exports_of(&privacy, "aggregates_by_station"), 1);
    }

    #[test]
    fn an_outage_log_stated_for_another_purpose_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let net = street_copy(dir.path());
        state_purpose(&net.join("outage_log.csv"), Purpose::GisTopologyCorrection);
        let mut h = harness(dir.path().join("privacy"), dir.path().to_path_buf());
        open(&mut h, vec![net.clone()]);
        let ds = h.state().state.dataset.as_ref().unwrap();
        assert!(ds.measurements.outage_log.is_empty(), "a refused outage log is dropped");
        let r = ds.privacy_reads.iter().find(|r| r.kind == DataKind::OutageLog).unwrap();
        assert_eq!(r.decision, Decision::Refused);
        assert!(ds.report.issues.iter().any(|i| i.message.contains("not used")), "{:?}", ds.report.issues);
    }
}

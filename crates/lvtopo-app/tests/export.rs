//! Export that cannot fail silently, driven through the UI with egui_kittest:
//! with no native dialog the in-app one opens in the network's folder, the
//! reviewer's name is asked once, the layers say what the review did, and
//! the folder is remembered per kind.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use lvtopo_app::command::{Command, SystemCommand, UiCommand};
use lvtopo_app::state::Dataset;
use lvtopo_app::{AppOptions, LvtopoApp};
use lvtopo_core::model::{Phase, PhaseConnection};
use lvtopo_core::session::SessionCommand;

fn harness(app: LvtopoApp) -> Harness<'static, LvtopoApp> {
    Harness::builder().with_size(egui::vec2(1280.0, 800.0)).build_ui_state(|ui, app: &mut LvtopoApp| app.ui(ui), app)
}

fn tiny(dir: &std::path::Path) -> Dataset {
    let cfg = lvtopo_core::sim::SimConfig::preset("tiny").unwrap();
    let out = lvtopo_core::sim::generate(&cfg, 7, &lvtopo_core::progress::NoProgress).unwrap();
    let mut ds = Dataset::from_parts("tiny", out.network, out.measurements, Default::default());
    ds.network_path = Some(dir.join("network.gpkg"));
    ds
}

/// The app as on a machine without portal or zenity (the in-app dialog), with its own settings folder.
fn app(settings: &std::path::Path, net_dir: &std::path::Path) -> LvtopoApp {
    let opts = AppOptions {
        dialogs: true,
        native_dialogs: false,
        ask_reviewer: true,
        settings_dir: Some(settings.to_path_buf()),
        ..AppOptions::headless()
    };
    let mut app = LvtopoApp::new(opts);
    app.open_dataset(tiny(net_dir));
    app
}

fn export_menu(h: &mut Harness<'_, LvtopoApp>, item: &str) {
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Export").click();
    h.run_steps(2);
    h.get_by_label(item).click();
    h.run_steps(3);
}

#[test]
fn export_without_native_dialog_asks_reviewer_once_and_writes_the_review_columns() {
    let settings = tempfile::tempdir().unwrap();
    let net_dir = tempfile::tempdir().unwrap();
    let mut h = harness(app(settings.path(), net_dir.path()));
    h.run_steps(3);

    // A manual phase change: the reviewer's name is asked first, then the change is made.
    let conn = {
        let net = h.state().state.network().unwrap();
        (0..net.connections.len()).find(|&i| net.connections[i].phase == Some(PhaseConnection::Single(Phase::L1))).unwrap()
    };
    let set = SessionCommand::SetPhase { connection: conn, phase: PhaseConnection::Single(Phase::L2), note: None };
    h.state_mut().commands.push(Command::Ui(UiCommand::Review(set)));
    h.run_steps(3);
    assert!(h.state().reviewer_prompt.is_some(), "the name is asked before the first decision");
    assert!(h.state().state.session.as_ref().unwrap().manual_edits().next().is_none(), "not applied before the name");
    // The name field is the modal's (the search field sits in the left panel).
    let field = h
        .get_all_by_role(egui::accesskit::Role::TextInput)
        .max_by(|a, b| a.rect().min.x.total_cmp(&b.rect().min.x))
        .expect("name field");
    field.type_text(" de Vries");
    h.run_steps(2);
    h.get_by_label("Use this name").click();
    h.run_steps(3);
    assert!(h.state().reviewer_prompt.is_none());
    let reviewer = h.state().state.settings.reviewer.clone().expect("reviewer remembered");
    assert!(reviewer.ends_with("de Vries"), "{reviewer}");
    assert_eq!(h.state().state.session.as_ref().unwrap().manual_edits().count(), 1, "the change waited for the name");
    let saved = std::fs::read_to_string(settings.path().join("settings.json")).unwrap();
    assert!(saved.contains("de Vries"), "{saved}");

    // Only changed features, then File > Export > GeoPackage: no native dialog here,
    // so the in-app one opens, in the network's folder.
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Export").click();
    h.run_steps(2);
    h.get_by_label("Only changed features").click();
    h.run_steps(3);
    assert!(h.state().state.settings.export_only_changed);
    export_menu(&mut h, "Corrected network as GeoPackage…");
    assert!(h.state().reviewer_prompt.is_none(), "asked once only");
    let dialog_dir = h.state().file_dialog.as_ref().expect("in-app dialog open").directory().to_path_buf();
    assert_eq!(dialog_dir, net_dir.path());
    h.get_by_label("Save").click();
    h.run_steps(4);
    assert!(h.state().file_dialog.is_none());
    let msg = h.state().state.message.clone().unwrap();
    assert!(!msg.is_error, "{}", msg.text);
    assert!(msg.text.contains("1 connection(s) written: 1 changed"), "{}", msg.text);

    let path = net_dir.path().join("corrected.gpkg");
    let back = lvtopo_core::io::network::load_network(&path, &lvtopo_core::progress::NoProgress).unwrap();
    assert_eq!(back.network.connections.len(), 1, "only the changed feature");
    let e = &back.network.connections[0].extra;
    assert_eq!(e["lvtopo_status"], "changed");
    assert_eq!(e["lvtopo_old_phase"], "L1");
    assert_eq!(e["lvtopo_decision"], "manual");
    assert_eq!(e["lvtopo_reviewer"], reviewer.as_str());
    assert_eq!(h.state().state.settings.last_dirs.get("export-gpkg"), Some(&net_dir.path().to_path_buf()));

    // Cancelling says so; nothing is written silently.
    export_menu(&mut h, "Change log corrections.csv…");
    h.get_by_label("Cancel").click();
    h.run_steps(3);
    assert!(h.state().state.message.as_ref().unwrap().text.contains("Export cancelled"));
    assert!(!net_dir.path().join("corrections.csv").exists());
}

#[test]
fn a_failed_export_shows_its_reason() {
    let settings = tempfile::tempdir().unwrap();
    let net_dir = tempfile::tempdir().unwrap();
    let mut h = harness(app(settings.path(), net_dir.path()));
    h.run_steps(2);
    h.state_mut().apply_system(SystemCommand::SetReviewer("anna".into()));
    let blocked = net_dir.path().join("not-a-folder");
    std::fs::write(&blocked, b"a file").unwrap();
    h.state_mut().apply_system(SystemCommand::ExportTo {
        kind: lvtopo_app::command::ExportKind::GeoPackage,
        path: blocked.join("corrected.gpkg"),
    });
    let msg = h.state().state.message.clone().unwrap();
    assert!(msg.is_error && msg.text.contains("failed") && msg.text.contains("not-a-folder"), "{}", msg.text);
}

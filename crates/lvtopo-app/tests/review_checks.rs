//! Edits that check themselves and bulk actions that ask first, on the bundled
//! `town` sample (three stations), driven through the UI with egui_kittest.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use lvtopo_app::command::{Command, UiCommand, panel_ids};
use lvtopo_app::{AppOptions, LvtopoApp, StartWith};
use lvtopo_core::analysis::{InferredPhase, Status};
use lvtopo_core::model::PhaseConnection;
use lvtopo_core::session::{DecisionKind, SessionCommand};

fn town() -> Harness<'static, LvtopoApp> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-networks/town");
    let app = LvtopoApp::new(AppOptions { start: StartWith::Paths(vec![path]), ..AppOptions::headless() });
    let mut h = Harness::builder().with_size(egui::vec2(1280.0, 800.0)).build_ui_state(|ui, app: &mut LvtopoApp| app.ui(ui), app);
    for _ in 0..3 {
        h.run_steps(2);
        h.state_mut().finish_jobs_blocking();
    }
    h.run_steps(2);
    assert!(h.state().state.dataset.as_ref().is_some_and(|d| d.has_voltage()), "town with its voltages");
    h
}

fn run(h: &mut Harness<'_, LvtopoApp>, c: UiCommand) {
    h.state_mut().commands.push(Command::Ui(c));
    h.run_steps(3);
}

fn edits(h: &Harness<'_, LvtopoApp>) -> usize {
    h.state().state.session.as_ref().unwrap().manual_edits().count()
}

#[test]
fn cable_moves_are_checked_and_confirmed_phases_need_a_reason() {
    let mut h = town();
    let net = h.state().state.dataset.as_ref().unwrap().network.clone();
    let conn = 0;
    let c = &net.connections[conn];

    // A cable of another station is refused, with the reason.
    let foreign = net.cables.iter().position(|k| k.station_id != c.station_id).expect("town has three stations");
    run(&mut h, UiCommand::SetCable { connection: conn, cable: foreign });
    let msg = h.state().state.message.clone().unwrap();
    assert!(msg.is_error && msg.text.contains("belongs to station"), "{}", msg.text);
    assert_eq!(edits(&h), 0);

    // A cable of its own station far away is questioned; Cancel leaves it, confirming moves it.
    let dist = |k: &lvtopo_core::model::Cable| {
        let line: Vec<[f64; 2]> = k.geometry.iter().map(|g| [g.x, g.y]).collect();
        lvtopo_app::checks::distance_to_line([c.pos.x, c.pos.y], &line)
    };
    let far =
        net.cables.iter().position(|k| k.station_id == c.station_id && dist(k) > 300.0).expect("a far cable on the same station");
    run(&mut h, UiCommand::SetCable { connection: conn, cable: far });
    let q = h.state().confirmation.clone().expect("asked first");
    assert!(q.text.contains(" m from connection"), "{}", q.text);
    h.get_by_label("Cancel").click();
    h.run_steps(3);
    assert_eq!(edits(&h), 0);
    run(&mut h, UiCommand::SetCable { connection: conn, cable: far });
    let confirm = h.state().confirmation.as_ref().expect("asked again").confirm.clone();
    h.get_by_label(&confirm).click();
    h.run_steps(3);
    assert_eq!(edits(&h), 1);
    let moved = h.state().state.session.as_ref().unwrap().effective(conn).cable_id;
    assert_eq!(moved.as_deref(), Some(net.cables[far].id.as_str()));

    // A phase the voltages confirm: changing it asks for a reason, which goes into the note.
    run(&mut h, UiCommand::RunAnalysis);
    h.state_mut().finish_jobs_blocking();
    h.run_steps(2);
    let a = h.state().state.analysis.clone().unwrap();
    let (i, p) = a
        .assignments
        .iter()
        .find_map(|x| match (x.status, x.inferred_phase) {
            (Status::Ok, Some(InferredPhase::Single(p)))
                if net.connections[x.connection].phase == Some(PhaseConnection::Single(p)) =>
            {
                Some((x.connection, p))
            }
            _ => None,
        })
        .expect("a confirmed single-phase connection");
    let other = PhaseConnection::Single(lvtopo_core::model::Phase::from_index(p.index() + 1));
    run(&mut h, UiCommand::Review(SessionCommand::SetPhase { connection: i, phase: other, note: None }));
    assert!(h.state().confirmation.as_ref().is_some_and(|q| q.reason.is_some()), "a reason is asked");
    let set = format!("Set {other}");
    h.get_by_label(&set).click(); // disabled while the reason is empty
    h.run_steps(3);
    assert!(h.state().confirmation.is_some() && edits(&h) == 1, "not without a reason");
    h.state_mut().confirmation.as_mut().unwrap().reason = Some("meter swapped on site".into());
    h.run_steps(2);
    h.get_by_label(&set).click();
    h.run_steps(3);
    let s = h.state().state.session.as_ref().unwrap();
    let e = s.manual_edit(i, lvtopo_core::session::Field::Phase).expect("phase set");
    assert_eq!(e.note.as_deref(), Some("meter swapped on site"));
}

#[test]
fn accept_all_asks_with_the_count_and_is_one_undo_step() {
    let mut h = town();
    run(&mut h, UiCommand::RunAnalysis);
    h.state_mut().finish_jobs_blocking();
    h.run_steps(2);
    run(&mut h, UiCommand::ShowPanel(panel_ids::REVIEW));
    let pending = || |h: &Harness<'_, LvtopoApp>| h.state().state.session.as_ref().unwrap().counts().pending;
    let before = pending()(&h);
    assert!(before > 10, "{before} pending");
    h.get_by_label_contains("pending >=").click();
    h.run_steps(3);
    let q = h.state().confirmation.clone().expect("asked first");
    assert_eq!(pending()(&h), before, "nothing accepted before the answer");
    let n: usize = q.confirm.trim_start_matches("Accept ").parse().unwrap();
    assert!(n > 0 && n <= before, "{n}");
    assert!(q.text.contains(&format!("Accept {n} pending")), "{}", q.text);
    h.get_by_label(&q.confirm).click();
    h.run_steps(3);
    let s = h.state().state.session.as_ref().unwrap();
    assert_eq!(s.counts().accepted, n, "the count asked is the count done");
    assert_eq!(pending()(&h), before - n);
    run(&mut h, UiCommand::Undo);
    assert_eq!(pending()(&h), before, "one undo step");
    let s = h.state().state.session.as_ref().unwrap();
    assert!(s.suggestions().iter().all(|x| x.decision.state.kind() == DecisionKind::Pending));
}

//! Edits that check themselves, and bulk actions that ask first.
//!
//! A manual cable must belong to the connection's station (else it is refused
//! with the reason) and is questioned past [`WARN_DISTANCE_M`]; a manual phase
//! change on a connection the inference confirmed asks for a reason (it goes
//! into the decision's note); accept/reject-all state their count and ask.
//! The question is a [`Confirmation`]; its answer runs the held command.

use super::command::{Command, UiCommand};
use super::state::AppState;
use lvtopo_core::analysis::{InferredPhase, Status};
use lvtopo_core::session::SessionCommand;

/// A manual cable farther than this from the connection is questioned.
pub const WARN_DISTANCE_M: f64 = 100.0;

/// A question before a command runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Confirmation {
    pub title: String,
    pub text: String,
    /// The confirm button's label ("Accept 12,900 suggestions").
    pub confirm: String,
    /// `Some`: a reason must be typed; it becomes the command's note.
    pub reason: Option<String>,
    pub then: Box<Command>,
}

impl Confirmation {
    pub fn new(title: impl Into<String>, text: impl Into<String>, confirm: impl Into<String>, then: Command) -> Self {
        Confirmation { title: title.into(), text: text.into(), confirm: confirm.into(), reason: None, then: Box::new(then) }
    }

    /// The command to run, with the typed reason as its note.
    pub fn into_command(self) -> Command {
        let reason = self.reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
        match (*self.then, reason) {
            (Command::Ui(UiCommand::Review(c)), Some(r)) => Command::Ui(UiCommand::Review(with_note(c, r))),
            (other, _) => other,
        }
    }
}

fn with_note(c: SessionCommand, r: String) -> SessionCommand {
    match c {
        SessionCommand::SetPhase { connection, phase, .. } => SessionCommand::SetPhase { connection, phase, note: Some(r) },
        SessionCommand::SetCable { connection, cable_id, .. } => SessionCommand::SetCable { connection, cable_id, note: Some(r) },
        SessionCommand::SetRotation { connection, rotation, .. } => {
            SessionCommand::SetRotation { connection, rotation, note: Some(r) }
        }
        other => other,
    }
}

/// What a check says about a command.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Go,
    Refuse(String),
    Ask(Confirmation),
}

/// Distance in metres from a point to a polyline (RD New metres).
pub fn distance_to_line(p: [f64; 2], line: &[[f64; 2]]) -> f64 {
    let seg = |a: [f64; 2], b: [f64; 2]| {
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len2 = dx * dx + dy * dy;
        let t = if len2 > 0.0 { (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
        ((a[0] + t * dx - p[0]).powi(2) + (a[1] + t * dy - p[1]).powi(2)).sqrt()
    };
    match line {
        [] => f64::INFINITY,
        [one] => seg(*one, *one),
        _ => line.windows(2).map(|w| seg(w[0], w[1])).fold(f64::INFINITY, f64::min),
    }
}

/// A manual move of `conn` onto cable index `cable`.
pub fn cable_move(state: &AppState, conn: usize, cable: usize) -> Verdict {
    let (Some(net), Some(s)) = (state.network(), state.session.as_ref()) else {
        return Verdict::Refuse("Open a network first".into());
    };
    let (Some(c), Some(k)) = (net.connections.get(conn), net.cables.get(cable)) else {
        return Verdict::Refuse("No such connection or cable".into());
    };
    let station = s.effective(conn).station_id;
    if k.station_id != station {
        return Verdict::Refuse(format!(
            "Not moved: cable {} belongs to station {}, connection {} hangs under station {}. A house cannot be fed from another station's cable; reassign the station first if the registration is wrong.",
            k.id, k.station_id, c.ean, station
        ));
    }
    let line: Vec<[f64; 2]> = k.geometry.iter().map(|g| [g.x, g.y]).collect();
    let d = distance_to_line([c.pos.x, c.pos.y], &line);
    let then = Command::Ui(UiCommand::Review(SessionCommand::SetCable { connection: conn, cable_id: k.id.clone(), note: None }));
    if d > WARN_DISTANCE_M {
        return Verdict::Ask(Confirmation::new(
            "Cable far from the connection",
            format!(
                "Cable {} is {:.0} m from connection {} ({}). Service cables are rarely longer than {:.0} m. Move it anyway?",
                k.id,
                d,
                c.ean,
                c.address(),
                WARN_DISTANCE_M
            ),
            format!("Move to {} anyway", k.id),
            then,
        ));
    }
    Verdict::Go
}

/// A manual phase change: on a connection whose phase the inference confirmed, ask why.
pub fn phase_change(state: &AppState, cmd: &SessionCommand) -> Verdict {
    let SessionCommand::SetPhase { connection, phase, note } = cmd else { return Verdict::Go };
    if note.as_deref().is_some_and(|n| !n.trim().is_empty()) {
        return Verdict::Go;
    }
    let Some(a) = state.assignment(*connection) else { return Verdict::Go };
    let Some(s) = state.session.as_ref() else { return Verdict::Go };
    let current = s.effective(*connection).phase;
    let confirmed = a.status == Status::Ok
        && matches!(a.inferred_phase, Some(InferredPhase::Single(p)) if current == Some(lvtopo_core::model::PhaseConnection::Single(p)));
    if !confirmed {
        return Verdict::Go;
    }
    let ean = state.network().map(|n| n.connections[*connection].ean.clone()).unwrap_or_default();
    let mut q = Confirmation::new(
        "Change a confirmed phase?",
        format!(
            "The voltages confirm {ean} on {} (confidence {:.2}). Setting {phase} goes against the measurement: say why (site visit, meter swap, ...).",
            current.map(|p| p.to_string()).unwrap_or_default(),
            a.phase_confidence
        ),
        format!("Set {phase}"),
        Command::Ui(UiCommand::Review(cmd.clone())),
    );
    q.reason = Some(String::new());
    Verdict::Ask(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_to_a_polyline() {
        let line = [[0.0, 0.0], [100.0, 0.0], [100.0, 100.0]];
        assert!((distance_to_line([50.0, 10.0], &line) - 10.0).abs() < 1e-9);
        assert!((distance_to_line([130.0, 50.0], &line) - 30.0).abs() < 1e-9);
        assert!((distance_to_line([-3.0, -4.0], &line) - 5.0).abs() < 1e-9);
        assert_eq!(distance_to_line([0.0, 0.0], &[]), f64::INFINITY);
    }

    #[test]
    fn the_reason_goes_into_the_note() {
        let cmd = SessionCommand::SetPhase { connection: 3, phase: "L2".parse().unwrap(), note: None };
        let mut q = Confirmation::new("t", "x", "ok", Command::Ui(UiCommand::Review(cmd)));
        q.reason = Some("  site visit 12-11  ".into());
        match q.into_command() {
            Command::Ui(UiCommand::Review(SessionCommand::SetPhase { note, .. })) => {
                assert_eq!(note.as_deref(), Some("site visit 12-11"))
            }
            other => panic!("{other:?}"),
        }
    }
}

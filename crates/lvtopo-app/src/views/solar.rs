//! Solar (use case 6): PV found in the feed-in vs the register. A table with
//! the counts and the connections to write to, the letter-list export, and a
//! map overlay: green = consistent, red = PV found but not registered, orange =
//! registered size far off (or registered but not seen).

use crate::command::UiCommand;
use crate::jobs::{Job, Poll};
use crate::map::style::legend_row;
use crate::privacy_actions::PrivacyAction;
use crate::state::{AppState, Dataset};
use crate::view::{MapFrame, MapOverlay, Placement, View, ViewContext};
use egui::Color32;
use egui_extras::{Column, TableBuilder};
use lvtopo_core::model::Network;
use lvtopo_core::quality::export::Letter;
use lvtopo_core::quality::solar::{self, PvAnalysis, RegisterStatus, SolarSettings};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

pub const GREEN: Color32 = Color32::from_rgb(40, 160, 70);
pub const RED: Color32 = Color32::from_rgb(215, 40, 40);
pub const ORANGE: Color32 = Color32::from_rgb(240, 140, 20);

pub fn status_colour(s: RegisterStatus) -> Option<Color32> {
    match s.colour() {
        "green" => Some(GREEN),
        "red" => Some(RED),
        "orange" => Some(ORANGE),
        _ => None,
    }
}

/// The PV analysis of the open dataset, shared by the view and the overlay;
/// computed once per dataset on a worker thread.
#[derive(Default)]
pub struct SolarCache {
    key: Option<usize>,
    job: Option<Job<PvAnalysis>>,
    pub result: Option<Arc<PvAnalysis>>,
    /// Status per connection index (for the overlay).
    status: Vec<Option<(RegisterStatus, Option<f64>, Option<f64>)>>,
}

impl SolarCache {
    /// Starts (or polls) the analysis for `ds`; `true` while it runs.
    pub fn ensure(&mut self, ds: &Dataset, ctx: &egui::Context) -> bool {
        let key = Arc::as_ptr(&ds.measurements) as usize ^ (Arc::as_ptr(&ds.network) as usize).rotate_left(17);
        if self.key != Some(key) {
            self.key = Some(key);
            self.result = None;
            self.status.clear();
            self.job = ds.measurements.feed_in.as_ref().map(|_| {
                let (net, m) = (ds.network.clone(), ds.measurements.clone());
                Job::spawn("PV found vs registered", Some(ctx.clone()), move |_| {
                    let feed = m.feed_in.as_ref().expect("checked when spawned");
                    solar::analyse(&net, feed, &SolarSettings::default())
                })
            });
        }
        if let Some(job) = &self.job {
            match job.poll() {
                Poll::Running => {
                    ctx.request_repaint_after(std::time::Duration::from_millis(100));
                    return true;
                }
                Poll::Done(a) => {
                    self.set(&ds.network, a);
                    self.job = None;
                }
                Poll::Lost => self.job = None,
            }
        }
        false
    }

    fn set(&mut self, net: &Network, a: PvAnalysis) {
        self.status = vec![None; net.connections.len()];
        for r in &a.results {
            if let Some(s) = self.status.get_mut(r.connection) {
                *s = Some((r.status, r.estimated_kwp, r.registered_kwp));
            }
        }
        self.result = Some(Arc::new(a));
    }

    /// Blocks until the running analysis is done (tests).
    pub fn finish_blocking(&mut self, net: &Network) {
        if let Some(job) = self.job.take()
            && let Some(a) = job.wait()
        {
            self.set(net, a);
        }
    }
}

pub type Shared = Rc<RefCell<SolarCache>>;

pub struct SolarView {
    cache: Shared,
    filter: Option<RegisterStatus>,
}

impl SolarView {
    pub fn new(cache: Shared) -> Self {
        SolarView { cache, filter: Some(RegisterStatus::NotRegistered) }
    }
}

const STATUSES: [RegisterStatus; 6] = [
    RegisterStatus::NotRegistered,
    RegisterStatus::LargeDeviation,
    RegisterStatus::RegisteredNotFound,
    RegisterStatus::Consistent,
    RegisterStatus::NoPv,
    RegisterStatus::Unknown,
];

fn label(s: RegisterStatus) -> &'static str {
    match s {
        RegisterStatus::Consistent => "PV consistent with the register",
        RegisterStatus::NotRegistered => "PV found, not registered",
        RegisterStatus::LargeDeviation => "registered size far off",
        RegisterStatus::RegisteredNotFound => "registered, no PV seen",
        RegisterStatus::NoPv => "no PV",
        RegisterStatus::Unknown => "too little data",
    }
}

fn kwp(v: Option<f64>) -> String {
    v.map(|k| format!("{k:.1}")).unwrap_or_else(|| "—".into())
}

impl View for SolarView {
    fn id(&self) -> &'static str {
        "solar"
    }
    fn title(&self) -> String {
        "Solar".into()
    }
    fn placement(&self) -> Placement {
        Placement::Bottom
    }
    fn open_by_default(&self) -> bool {
        false
    }
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext<'_>) {
        let Some(ds) = cx.dataset() else {
            ui.weak("No network open.");
            return;
        };
        if ds.measurements.feed_in.is_none() {
            ui.weak("No feed-in loaded: open a feed_in.csv (at most one week) to find PV.");
            return;
        }
        let running = self.cache.borrow_mut().ensure(ds, ui.ctx());
        let Some(a) = self.cache.borrow().result.clone() else {
            if running {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Finding PV in the feed-in…");
                });
            } else {
                ui.weak("The PV analysis did not finish.");
            }
            return;
        };
        let net = ds.network.clone();
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!(
                "{} connection(s) with feed-in, PV found at {}",
                a.results.len(),
                a.results.iter().filter(|r| r.pv_found).count()
            ));
            ui.separator();
            ui.label(format!(
                "calibration ×{:.2} ({} connections agreeing with the register)",
                a.calibration, a.calibration_connections
            ))
            .on_hover_text(
                "kWp = (second-highest 15-min export of the clearest day + the household's night base load) \
                     ÷ the clear-sky output of 1 kWp at that day's solar noon, scaled by the median ratio to the register \
                     over the connections where both roughly agree.",
            );
            ui.separator();
            if ui
                .button("Export letter lists…")
                .on_hover_text("letters_register_reminder.csv and letters_check_registration.csv")
                .clicked()
            {
                // Written and audited by the app (like `lvtopo pv`), not here.
                cx.push(UiCommand::Privacy(PrivacyAction::ExportLetterLists(a.clone())));
            }
        });
        for n in &a.notes {
            ui.colored_label(ORANGE, n);
        }
        ui.horizontal_wrapped(|ui| {
            ui.selectable_value(&mut self.filter, None, format!("all ({})", a.results.len()));
            for s in STATUSES {
                let text = egui::RichText::new(format!("{} ({})", label(s), a.count(s)));
                let text = match status_colour(s) {
                    Some(c) => text.color(c),
                    None => text,
                };
                ui.selectable_value(&mut self.filter, Some(s), text);
            }
        });
        let rows: Vec<&solar::PvResult> = a.results.iter().filter(|r| self.filter.is_none_or(|f| r.status == f)).collect();
        let selected = cx.state.selection.primary;
        let mut clicked = None;
        TableBuilder::new(ui)
            .striped(true)
            .sense(egui::Sense::click())
            .column(Column::auto().at_least(140.0))
            .column(Column::auto().at_least(180.0))
            .columns(Column::auto().at_least(70.0), 4)
            .column(Column::remainder())
            .header(20.0, |mut h| {
                for t in ["EAN", "address", "PV", "est. kWp", "registered", "exported kWh", "status / letter"] {
                    h.col(|ui| {
                        ui.strong(t);
                    });
                }
            })
            .body(|body| {
                body.rows(18.0, rows.len(), |mut row| {
                    let r = rows[row.index()];
                    let c = &net.connections[r.connection];
                    row.set_selected(selected == Some(r.connection));
                    row.col(|ui| {
                        ui.label(&c.ean);
                    });
                    row.col(|ui| {
                        ui.label(c.address());
                    });
                    row.col(|ui| {
                        ui.label(if r.pv_found { "yes" } else { "no" });
                    });
                    row.col(|ui| {
                        ui.label(kwp(r.estimated_kwp));
                    });
                    row.col(|ui| {
                        ui.label(kwp(r.registered_kwp));
                    });
                    row.col(|ui| {
                        ui.label(format!("{:.1}", r.export_kwh));
                    });
                    row.col(|ui| {
                        let letter = Letter::of(r.status).map(|l| format!(": letter {}", l.as_str())).unwrap_or_default();
                        let text = format!("{}{letter}", r.status.as_str());
                        match status_colour(r.status) {
                            Some(col) => ui.colored_label(col, text),
                            None => ui.label(text),
                        }
                        .on_hover_text(&r.note);
                    });
                    if row.response().clicked() {
                        clicked = Some(r.connection);
                    }
                });
            });
        if let Some(i) = clicked {
            cx.push(UiCommand::Select { connections: vec![i], add: false });
            cx.push(UiCommand::ZoomToSelection);
        }
    }
}

/// Green / red / orange dots on the connections with a PV verdict.
pub struct SolarOverlay {
    cache: Shared,
}

impl SolarOverlay {
    pub fn new(cache: Shared) -> Self {
        SolarOverlay { cache }
    }
}

impl MapOverlay for SolarOverlay {
    fn id(&self) -> &'static str {
        "solar-pv"
    }
    fn title(&self) -> String {
        "PV found vs registered".into()
    }
    fn paint(&mut self, painter: &egui::Painter, frame: &MapFrame<'_>, _state: &AppState) {
        let mut cache = self.cache.borrow_mut();
        cache.ensure(frame.dataset, painter.ctx());
        if cache.status.is_empty() {
            return;
        }
        let r = frame.marker_radius() + 2.0;
        for i in frame.visible_connections() {
            let Some(Some((s, _, _))) = cache.status.get(i) else { continue };
            if let Some(col) = status_colour(*s) {
                let p = frame.connection_screen_pos(i) + egui::vec2(r, -r);
                painter.circle_filled(p, (r * 0.6).max(2.5), col);
            }
        }
    }
    fn legend(&mut self, ui: &mut egui::Ui, _state: &AppState) {
        legend_row(ui, GREEN, "PV consistent with the register", false);
        legend_row(ui, RED, "PV found, not registered", false);
        legend_row(ui, ORANGE, "registered size far off / not seen", false);
    }
    fn connection_tooltip(&self, _state: &AppState, i: usize) -> Option<String> {
        let cache = self.cache.borrow();
        let (s, est, reg) = (*cache.status.get(i)?)?;
        Some(format!("PV: {} (estimated {} kWp, registered {} kWp)", label(s), kwp(est), kwp(reg)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::CommandQueue;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    fn dataset() -> Dataset {
        let mut cfg = lvtopo_core::sim::SimConfig::preset("street").unwrap();
        cfg.set_season("summer").unwrap();
        cfg.days = 4;
        cfg.pv_share = 0.5;
        cfg.outages = false;
        let out = lvtopo_core::sim::generate(&cfg, 3, &lvtopo_core::progress::NoProgress).unwrap();
        Dataset::from_parts("street", out.network, out.measurements, Default::default())
    }

    #[test]
    fn solar_view_shows_pv_and_exports_the_letter_lists() {
        let state = AppState { dataset: Some(dataset()), ..Default::default() };
        let cache: Shared = Default::default();
        let view = SolarView::new(cache.clone());
        let mut h = Harness::builder().with_size(egui::vec2(1200.0, 500.0)).build_ui_state(
            |ui, (view, state, q): &mut (SolarView, AppState, CommandQueue)| {
                view.ui(ui, &mut ViewContext { state, commands: q });
            },
            (view, state, CommandQueue::default()),
        );
        h.run_steps(2);
        let net = h.state().1.dataset.as_ref().unwrap().network.clone();
        cache.borrow_mut().finish_blocking(&net);
        h.run();
        let a = cache.borrow().result.clone().expect("analysis done");
        assert!(a.results.iter().any(|r| r.pv_found));
        h.get_by_label_contains("PV found at");
        h.get_by_label("Export letter lists…").click();
        h.run();
        let pushed = h.state_mut().2.take();
        assert!(
            pushed.iter().any(|c| matches!(c, crate::command::Command::Ui(UiCommand::Privacy(PrivacyAction::ExportLetterLists(x))) if x.results == a.results)),
            "the export is a command (written and audited by the app): {pushed:?}"
        );
        // The overlay knows the status of a found PV connection.
        let overlay = SolarOverlay::new(cache.clone());
        let found = a.results.iter().find(|r| r.pv_found).unwrap();
        let tip = overlay.connection_tooltip(&h.state().1, found.connection).unwrap();
        assert!(tip.starts_with("PV: "), "{tip}");
    }
}

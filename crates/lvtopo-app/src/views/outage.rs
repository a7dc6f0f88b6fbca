//! The Outages view (use cases 1, 4, 9): incidents, who was off and for how
//! long with the compensation, the interruption register next to the
//! registration, registration mismatches (to the review) and the fault
//! localisation from voltage-presence answers; a time slider replays an
//! incident on the map ([`super::outage_map::OutageOverlay`]).
//!
//! The computation is `lvtopo_core::outage::analyse`, run in a background job and
//! cached per dataset. The panel and its overlay share view state only (the
//! selected incident, the replay time) through an `Rc<RefCell<_>>`.
//!
//! Privacy: voltage-presence answers are used only inside a (suspected) outage
//! window (registered incidents and the meters' logs); the others are left out
//! and the panel says how many.

use crate::command::UiCommand;
use crate::jobs::{Job, Poll};
use crate::state::{Dataset, displayable};
use crate::view::{Placement, View, ViewContext};
use lvtopo_core::model::MeterKind;
use lvtopo_core::model::time::{Timestamp, to_amsterdam};
use lvtopo_core::outage::{FaultElement, Interval, Localisation, OutageAnalysis, OutageOptions, analyse, merge_log};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

pub const VIEW_ID: &str = "outages";
/// Replay step of the -/+ buttons and of "Play" per tick (s).
pub const STEP_S: i64 = 15 * 60;

/// A connection's state at a moment of the replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayState {
    /// Had the outage, not yet off at this moment.
    NotYetOff,
    Off,
    /// Had the outage, back on at this moment.
    Back,
}

/// One incident laid out in time: each affected connection's interruptions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Replay {
    /// Slider range: a little before the first meter off to a little after the last back.
    pub from: Timestamp,
    pub to: Timestamp,
    pub first_off: Timestamp,
    pub last_back: Timestamp,
    pub intervals: BTreeMap<usize, Vec<Interval>>,
}

impl Replay {
    /// Intervals per connection: the merged meter log within the incident, or for a
    /// connection compensated by topology its estimated start and end.
    pub fn build(a: &lvtopo_core::outage::IncidentAnalysis, log: &lvtopo_core::outage::MergedLog) -> Replay {
        let mut intervals: BTreeMap<usize, Vec<Interval>> = BTreeMap::new();
        for r in &a.interruptions {
            let Some(c) = r.connection else { continue };
            let own: Vec<Interval> = log
                .by_ean
                .get(&r.ean)
                .map(|v| v.iter().copied().filter(|i| i.start < r.end && i.end > r.start).collect())
                .unwrap_or_default();
            let v = if own.is_empty() { vec![Interval { start: r.start, end: r.end }] } else { own };
            intervals.entry(c).or_default().extend(v);
        }
        let first_off = intervals.values().flatten().map(|i| i.start).min().unwrap_or(0);
        let last_back = intervals.values().flatten().map(|i| i.end).max().unwrap_or(first_off);
        let margin = ((last_back - first_off) / 10).clamp(STEP_S, 6 * 3600);
        Replay { from: first_off - margin, to: last_back + margin, first_off, last_back, intervals }
    }

    pub fn state(&self, conn: usize, t: Timestamp) -> Option<ReplayState> {
        let v = self.intervals.get(&conn)?;
        Some(if v.iter().any(|i| i.start <= t && t < i.end) {
            ReplayState::Off
        } else if v.iter().all(|i| t < i.start) {
            ReplayState::NotYetOff
        } else {
            ReplayState::Back
        })
    }

    /// (off, back, not yet off) at `t`.
    pub fn counts(&self, t: Timestamp) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for &conn in self.intervals.keys() {
            match self.state(conn, t) {
                Some(ReplayState::Off) => c.0 += 1,
                Some(ReplayState::Back) => c.1 += 1,
                Some(ReplayState::NotYetOff) => c.2 += 1,
                None => {}
            }
        }
        c
    }
}

/// What the job computes once per dataset.
#[derive(Debug)]
pub struct Prepared {
    pub analysis: Arc<OutageAnalysis>,
    /// Per incident, same order as `analysis.incidents`.
    pub replays: Vec<Replay>,
    /// Presence answers left out: outside every (suspected) outage window.
    pub presence_left_out: usize,
    pub elapsed_ms: f64,
}

pub fn prepare(ds: &Dataset) -> Prepared {
    let t0 = std::time::Instant::now();
    let opts = OutageOptions::default();
    let (presence, presence_left_out) = lvtopo_core::outage::admissible_presence(&ds.measurements, opts.merge_gap_s);
    let a = if presence_left_out == 0 {
        analyse(&ds.network, &ds.topology, &ds.measurements, &opts)
    } else {
        let mut m = (*ds.measurements).clone();
        m.presence = presence;
        analyse(&ds.network, &ds.topology, &m, &opts)
    };
    let log = merge_log(&ds.measurements.outage_log, opts.merge_gap_s);
    let replays = a.incidents.iter().map(|i| Replay::build(i, &log)).collect();
    Prepared { analysis: Arc::new(a), replays, presence_left_out, elapsed_ms: t0.elapsed().as_secs_f64() * 1e3 }
}

/// View state shared by the panel and its map overlay.
#[derive(Default)]
pub struct OutageShared {
    key: Option<(usize, usize)>,
    job: Option<Job<Prepared>>,
    pub prepared: Option<Arc<Prepared>>,
    /// Index into the incidents.
    pub selected: Option<usize>,
    /// Replay moment.
    pub time: Option<Timestamp>,
    pub playing: bool,
}

pub type Shared = Rc<RefCell<OutageShared>>;

impl OutageShared {
    /// Starts the computation for a new dataset, and takes its result when ready.
    /// Returns `true` while it runs.
    pub fn refresh(&mut self, ds: &Dataset, ctx: &egui::Context) -> bool {
        let key = (Arc::as_ptr(&ds.network) as usize, Arc::as_ptr(&ds.measurements) as usize);
        if self.key != Some(key) {
            self.key = Some(key);
            self.prepared = None;
            self.selected = None;
            self.time = None;
            let ds = ds.clone();
            self.job = Some(Job::spawn("Outage analysis", Some(ctx.clone()), move |_| prepare(&ds)));
        }
        if let Some(job) = &self.job {
            match job.poll() {
                Poll::Running => {
                    ctx.request_repaint_after(std::time::Duration::from_millis(50));
                    return true;
                }
                Poll::Done(p) => {
                    self.prepared = Some(Arc::new(p));
                    self.job = None;
                }
                Poll::Lost => self.job = None,
            }
        }
        false
    }

    /// Whether the view has been shown (and so the analysis started) at least once.
    pub fn opened(&self) -> bool {
        self.key.is_some()
    }

    /// The selected incident with its replay.
    pub fn current(&self) -> Option<(&lvtopo_core::outage::IncidentAnalysis, &Replay)> {
        let p = self.prepared.as_ref()?;
        let i = self.selected?;
        Some((p.analysis.incidents.get(i)?, p.replays.get(i)?))
    }

    /// The localisation to show for the selected incident: from the presence
    /// answers when there are any, else from which meters logged.
    pub fn localisation(&self) -> Option<(&Localisation, &'static str)> {
        let p = self.prepared.as_ref()?;
        let inc = p.analysis.incidents.get(self.selected?)?;
        match inc.episode.and_then(|e| p.analysis.episodes.get(e)) {
            Some(e) => Some((&e.localisation, "voltage-presence answers")),
            None => inc.log_localisation.as_ref().map(|l| (l, "meter logs")),
        }
    }

    fn select(&mut self, i: usize) {
        self.selected = Some(i);
        self.time = self.prepared.as_ref().and_then(|p| p.replays.get(i)).map(|r| r.first_off);
        self.playing = false;
    }
}

/// Creates the panel and its overlay over one shared state.
pub fn register(registry: &mut crate::view::Registry) {
    let shared = Shared::default();
    registry.add_view(OutagesView { shared: shared.clone() });
    registry.add_overlay(super::outage_map::OutageOverlay::new(shared));
}

pub struct OutagesView {
    pub shared: Shared,
}

pub fn hm(s: i64) -> String {
    let m = (s.max(0) + 30) / 60;
    if m < 60 { format!("{m} min") } else { format!("{} h {:02} min", m / 60, m % 60) }
}

pub fn short_time(t: Timestamp) -> String {
    to_amsterdam(t).format("%a %d-%m %H:%M").to_string()
}

fn opt_min(v: Option<f64>) -> String {
    v.map(|m| format!("{m:.0}")).unwrap_or_else(|| "-".into())
}

impl View for OutagesView {
    fn id(&self) -> &'static str {
        VIEW_ID
    }
    fn title(&self) -> String {
        "Outages".into()
    }
    fn placement(&self) -> Placement {
        Placement::Bottom
    }
    fn open_by_default(&self) -> bool {
        false
    }

    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext<'_>) {
        // A cheap clone (all `Arc`): `cx` is needed mutably below.
        let Some(ds) = cx.dataset().cloned() else {
            ui.weak("No network open.");
            return;
        };
        let ds = &ds;
        let mut sh = self.shared.borrow_mut();
        if sh.refresh(ds, ui.ctx()) {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Analysing the outage logs…");
            });
            return;
        }
        let Some(p) = sh.prepared.clone() else {
            ui.colored_label(ui.visuals().error_fg_color, "The outage analysis failed.");
            return;
        };
        let m = &ds.measurements;
        if m.outage_log.is_empty() && m.incidents.is_empty() {
            ui.weak("No outage data: open outage_log.csv (and incidents.csv, voltage_presence.csv) with File > Open.");
            return;
        }
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "{} incident(s) from {} log entries, {} registration(s), {} presence answer(s)",
                p.analysis.incidents.len(),
                m.outage_log.len(),
                m.incidents.len(),
                m.presence.len() - p.presence_left_out
            ));
            if p.presence_left_out > 0 {
                ui.colored_label(ui.visuals().warn_fg_color, format!("{} presence answer(s) outside every outage window not used (privacy)", p.presence_left_out))
                    .on_hover_text("Voltage presence may only be asked during a (suspected) outage: a registered incident or a window the meters' logs show.");
            }
            let payable: u64 = p.analysis.incidents.iter().map(|i| i.compensation_total_eur()).sum();
            ui.label(format!("compensation EUR {payable}"));
            if ui.button("Export CSVs…").on_hover_text("interruptions.csv, compensation.csv (for payment), interruption_register.csv, mismatches.csv, localisation").clicked() {
                cx.push(UiCommand::ExportOutage(p.analysis.clone()));
            }
            let drafts = p.analysis.suggestion_drafts();
            if ui
                .add_enabled(!drafts.is_empty(), egui::Button::new(format!("Send all {} mismatch(es) to review", drafts.len())))
                .on_hover_text("Every registration mismatch as a suggestion in the topology review, with its evidence")
                .clicked()
            {
                cx.push(UiCommand::OutageSuggestions(drafts));
            }
        });
        for n in &p.analysis.notes {
            ui.weak(displayable(n));
        }
        ui.separator();
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(300.0);
                ui.strong("Incidents");
                egui::ScrollArea::vertical().id_salt("outage-incidents").max_height(ui.available_height()).show(ui, |ui| {
                    for (k, inc) in p.analysis.incidents.iter().enumerate() {
                        let r = &inc.register;
                        let text = format!(
                            "{}{}  {} cust.  {}  EUR {}",
                            inc.id,
                            if inc.planned { " (planned)" } else { "" },
                            r.customers_affected,
                            r.duration_min.map(|d| hm((d * 60.0) as i64)).unwrap_or_default(),
                            inc.compensation_total_eur()
                        );
                        let resp = ui.selectable_label(sh.selected == Some(k), text).on_hover_text("Show it and zoom to it");
                        if resp.clicked() {
                            sh.select(k);
                            let conns: Vec<usize> = if inc.dead_area.is_empty() {
                                p.replays[k].intervals.keys().copied().collect()
                            } else {
                                inc.dead_area.clone()
                            };
                            cx.push(UiCommand::Select { connections: conns, add: false });
                            cx.push(UiCommand::ZoomToSelection);
                        }
                    }
                });
            });
            ui.separator();
            ui.vertical(|ui| {
                egui::ScrollArea::vertical().id_salt("outage-detail").show(ui, |ui| incident_detail(ui, &mut sh, ds, cx));
            });
        });
    }
}

fn incident_detail(ui: &mut egui::Ui, sh: &mut OutageShared, ds: &Dataset, cx: &mut ViewContext<'_>) {
    let Some(p) = sh.prepared.clone() else { return };
    let Some(k) = sh.selected else {
        ui.weak("Click an incident to see who was off, the compensation, the register and the fault.");
        return;
    };
    let (inc, replay) = (&p.analysis.incidents[k], &p.replays[k]);
    let net = &ds.network;

    // ---- replay (buttons first: they stay reachable in a narrow dock)
    ui.horizontal_wrapped(|ui| {
        let mut t = sh.time.unwrap_or(replay.first_off).clamp(replay.from, replay.to);
        let mut min = (t - replay.from) / 60;
        let max_min = ((replay.to - replay.from) / 60).max(1);
        ui.label("Replay");
        if ui.button("Start").on_hover_text("First meter off").clicked() {
            t = replay.first_off;
        }
        if ui.button("- 15 min").clicked() {
            t -= STEP_S;
        }
        if ui.button("+ 15 min").clicked() {
            t += STEP_S;
        }
        if ui.button("End").on_hover_text("Last meter back").clicked() {
            t = replay.last_back;
        }
        if ui.button(if sh.playing { "Pause" } else { "Play" }).clicked() {
            sh.playing = !sh.playing;
        }
        ui.spacing_mut().slider_width = 260.0;
        let resp = ui
            .add(egui::Slider::new(&mut min, 0..=max_min).show_value(false).text(short_time(t)))
            .on_hover_text("Replay time: drag to move through the outage");
        if resp.changed() {
            t = replay.from + min * 60;
        }
        if sh.playing {
            t += STEP_S / 3;
            if t >= replay.to {
                sh.playing = false;
            }
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(100));
        }
        sh.time = Some(t.clamp(replay.from, replay.to));
    });
    let t = sh.time.unwrap_or(replay.first_off);
    let (off, back, not_yet) = replay.counts(t);
    ui.label(format!("At {}: {off} off, {back} back, {not_yet} not yet off", short_time(t)));
    ui.add_space(4.0);

    // ---- register next to the registration
    let r = &inc.register;
    egui::CollapsingHeader::new("Interruption register").default_open(true).show(ui, |ui| {
        egui::Grid::new("outage-register").striped(true).show(ui, |ui| {
            ui.strong("");
            ui.strong("from the meters");
            ui.strong("registered");
            ui.end_row();
            let reg = inc.registered.as_ref();
            ui.label("start (first off)");
            ui.label(r.start.map(short_time).unwrap_or_default());
            ui.label(reg.map(|x| short_time(x.start)).unwrap_or_else(|| "-".into()));
            ui.end_row();
            ui.label("end (last back)");
            ui.label(r.end.map(short_time).unwrap_or_default());
            ui.label(reg.map(|x| short_time(x.end)).unwrap_or_else(|| "-".into()));
            ui.end_row();
            ui.label("duration (min)");
            ui.label(opt_min(r.duration_min));
            ui.label(opt_min(r.registered_duration_min));
            ui.end_row();
            ui.label("customers affected");
            ui.label(format!(
                "{} ({} by log, {} by topology)",
                r.customers_affected, r.customers_by_meter_log, r.customers_by_topology
            ));
            ui.label("-");
            ui.end_row();
            ui.label("customer-minutes lost");
            ui.label(format!("{:.0}", r.customer_minutes_lost));
            ui.label(opt_min(r.registered_customer_minutes));
            ui.end_row();
            ui.label("fault");
            ui.label(format!("{} ({})", r.fault.join(", "), r.fault_source.as_str()));
            ui.label(reg.map(|x| x.cable_ids.join(", ")).unwrap_or_else(|| "-".into()));
            ui.end_row();
        });
        if let (Some(a), Some(b)) = (r.start_difference_min, r.end_difference_min) {
            ui.weak(format!("registration differs from the meters by {a:+.0} min at the start, {b:+.0} min at the end"));
        }
    });

    // ---- who was off, compensation
    egui::CollapsingHeader::new(format!(
        "Affected connections ({}), compensation EUR {}",
        inc.interruptions.len(),
        inc.compensation_total_eur()
    ))
    .default_open(true)
    .show(ui, |ui| {
        egui::Grid::new("outage-rows").striped(true).show(ui, |ui| {
            for h in ["EAN", "address", "meter", "capacity", "first off", "back", "longest", "total off", "basis", "EUR", "why"] {
                ui.strong(h);
            }
            ui.end_row();
            for row in inc.interruptions.iter().take(500) {
                let c = row.connection.and_then(|i| net.connections.get(i));
                if ui.link(&row.ean).clicked()
                    && let Some(i) = row.connection
                {
                    cx.push(UiCommand::Select { connections: vec![i], add: false });
                }
                ui.label(c.map(|c| displayable(&c.address())).unwrap_or_else(|| "not in network".into()));
                ui.label(c.map(|c| if c.meter == MeterKind::Smart { "smart" } else { "conventional" }).unwrap_or("-"));
                ui.label(row.capacity.to_string());
                ui.label(short_time(row.start));
                ui.label(short_time(row.end));
                ui.label(hm(row.longest_s));
                ui.label(hm(row.off_s));
                ui.label(match &row.basis {
                    lvtopo_core::outage::DurationBasis::MeterLog => "meter log".to_string(),
                    lvtopo_core::outage::DurationBasis::Topology { reference, reference_meters } => {
                        format!("topology ({reference}, {reference_meters} meters)")
                    }
                });
                ui.label(row.compensation.amount_eur.to_string());
                ui.label(row.compensation.reason.to_string());
                ui.end_row();
            }
        });
        if inc.interruptions.len() > 500 {
            ui.weak(format!("first 500 of {} rows; the CSV export has all", inc.interruptions.len()));
        }
    });

    // ---- mismatches
    egui::CollapsingHeader::new(format!("Registration mismatches ({})", inc.mismatches.len())).default_open(true).show(
        ui,
        |ui| {
            if inc.mismatches.is_empty() {
                ui.weak("None: the meters that logged the outage are the ones the GIS puts downstream of the fault.");
                return;
            }
            if ui.button(format!("Send {} to the topology review", inc.mismatches.len())).clicked() {
                // All incidents' mismatches: the outage source is replaced as a whole.
                cx.push(UiCommand::OutageSuggestions(p.analysis.suggestion_drafts()));
            }
            egui::Grid::new("outage-mismatches").striped(true).show(ui, |ui| {
                for h in ["EAN", "what", "registered", "proposed", "confidence", "evidence"] {
                    ui.strong(h);
                }
                ui.end_row();
                for mm in &inc.mismatches {
                    if ui.link(&mm.ean).clicked() {
                        cx.push(UiCommand::Select { connections: vec![mm.connection], add: false });
                        cx.push(UiCommand::ZoomToSelection);
                    }
                    ui.label(mm.kind.as_str());
                    ui.label(format!("{} / {}", mm.registered_cable_id, mm.registered_feeder_id));
                    ui.label(mm.proposed_cable_id.clone().unwrap_or_else(|| "-".into()));
                    ui.label(format!("{:.2}", mm.confidence));
                    ui.label(displayable(&mm.evidence));
                    ui.end_row();
                }
            });
        },
    );

    // ---- localisation
    let loc = sh.localisation().map(|(l, src)| (l.clone(), src));
    egui::CollapsingHeader::new("Fault localisation").default_open(true).show(ui, |ui| {
        let Some((l, src)) = loc else {
            ui.weak("No answers and no logs to localise from.");
            return;
        };
        ui.label(format!(
            "From the {src}: {} no voltage, {} voltage, {} no answer",
            l.dead_answers, l.live_answers, l.no_answers
        ));
        ui.label(displayable(&l.summary));
        egui::Grid::new("outage-candidates").striped(true).show(ui, |ui| {
            for h in ["", "element", "crew", "probability", "dead in", "live in", "dead outside"] {
                ui.strong(h);
            }
            ui.end_row();
            for (n, c) in l.candidates.iter().take(5).enumerate() {
                ui.label(if n == 0 { "suspected" } else { "" });
                let mut name = c.element.label(net);
                if !c.equivalent.is_empty() {
                    name += &format!(" (= {})", c.equivalent.iter().map(|e| e.label(net)).collect::<Vec<_>>().join(", "));
                }
                if ui.link(name).on_hover_text("Zoom to it").clicked() {
                    zoom_to_element(cx, ds, &c.element);
                }
                ui.label(c.crew.as_str());
                ui.label(format!("{:.0} %", c.probability * 100.0));
                ui.label(c.dead_inside.to_string());
                ui.label(c.live_inside.to_string());
                ui.label(c.dead_outside.to_string());
                ui.end_row();
            }
        });
        if l.decided {
            ui.label("Decided: no further answers needed.");
        } else {
            if let Some(n) = l.answers_needed {
                ui.label(format!("About {n} more answer(s) would decide between the first two candidates."));
            }
            if !l.ask_next.is_empty() {
                ui.horizontal_wrapped(|ui| {
                    ui.label("Ask next:");
                    for a in &l.ask_next {
                        if ui
                            .link(&a.ean)
                            .on_hover_text(format!("P(no voltage) {:.2}, {:.2} bit", a.p_dead, a.information_bits))
                            .clicked()
                        {
                            cx.push(UiCommand::Select { connections: vec![a.connection], add: false });
                        }
                    }
                });
                if ui.button("Select the meters to ask").clicked() {
                    cx.push(UiCommand::Select { connections: l.ask_next.iter().map(|a| a.connection).collect(), add: false });
                    cx.push(UiCommand::ZoomToSelection);
                }
            }
        }
    });
}

fn zoom_to_element(cx: &mut ViewContext<'_>, ds: &Dataset, e: &FaultElement) {
    match e {
        FaultElement::Connection(i) => {
            cx.push(UiCommand::Select { connections: vec![*i], add: false });
            cx.push(UiCommand::ZoomToSelection);
        }
        FaultElement::Cable(c) => {
            let conns: Vec<usize> =
                lvtopo_core::outage::DeadSets::new(&ds.network).of(&ds.network, &ds.topology, &FaultElement::Cable(*c));
            cx.push(UiCommand::Select { connections: conns, add: false });
            cx.push(UiCommand::SelectCable(Some(*c)));
            cx.push(UiCommand::ZoomToSelection);
        }
        FaultElement::Feeder(f) => cx.push(UiCommand::ZoomToFeeder(f.clone())),
        FaultElement::Station(s) => cx.push(UiCommand::ZoomToStation(*s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AppOptions, LvtopoApp};
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    fn dataset() -> Dataset {
        let cfg = lvtopo_core::sim::SimConfig::preset("tiny").unwrap();
        let out = lvtopo_core::sim::generate(&cfg, 7, &lvtopo_core::progress::NoProgress).unwrap();
        Dataset::from_parts("tiny", out.network, out.measurements, Default::default())
    }

    fn harness(ds: Dataset) -> Harness<'static, LvtopoApp> {
        let mut app = LvtopoApp::new(AppOptions::headless());
        app.open_dataset(ds);
        let mut h =
            Harness::builder().with_size(egui::vec2(1500.0, 1100.0)).build_ui_state(|ui, app: &mut LvtopoApp| app.ui(ui), app);
        h.run_steps(2);
        h.state_mut().apply(UiCommand::ShowPanel(VIEW_ID));
        // The analysis runs in a job: frames until the incidents are listed.
        for _ in 0..400 {
            h.run_steps(1);
            if h.query_by_label("Incidents").is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        h.run_steps(2);
        h
    }

    fn at_label(r: &Replay, t: Timestamp) -> String {
        let (off, back, not_yet) = r.counts(t);
        format!("At {}: {off} off, {back} back, {not_yet} not yet off", short_time(t))
    }

    #[test]
    fn replay_counts_follow_the_intervals() {
        let mut r = Replay::default();
        r.intervals.insert(1, vec![Interval { start: 100, end: 200 }]);
        r.intervals.insert(2, vec![Interval { start: 150, end: 160 }, Interval { start: 170, end: 400 }]);
        assert_eq!(r.counts(99), (0, 0, 2));
        assert_eq!(r.counts(100), (1, 0, 1));
        assert_eq!(r.counts(165), (1, 1, 0), "2 is back between its two interruptions");
        assert_eq!(r.counts(200), (1, 1, 0), "end is exclusive: 1 is back, 2 off again");
        assert_eq!(r.counts(400), (0, 2, 0));
        assert_eq!(r.state(3, 150), None, "N: no outage");
    }

    #[test]
    fn open_the_view_click_an_incident_and_replay_it() {
        let ds = dataset();
        let expected = prepare(&ds);
        // The longest unplanned incident with a registered fault.
        let (k, inc) = expected
            .analysis
            .incidents
            .iter()
            .enumerate()
            .filter(|(_, i)| !i.planned && !i.dead_area.is_empty())
            .max_by_key(|(_, i)| i.compensation_total_eur())
            .expect("the tiny scenario has a fault");
        let replay = &expected.replays[k];
        let mut h = harness(ds);
        assert!(h.state().is_open(VIEW_ID));

        // Click the incident: selected and zoomed to its dead area.
        h.get_by_label_contains(&format!("{}  ", inc.id)).click();
        h.run_steps(3);
        let sel: Vec<usize> = h.state().state.selection.connections.iter().copied().collect();
        assert_eq!(sel, inc.dead_area);
        h.get_by_label_contains(&at_label(replay, replay.first_off));

        // Replay: one hour on, the meters of the fault are off.
        for _ in 0..4 {
            h.get_by_label("+ 15 min").click();
            h.run_steps(1);
        }
        h.run_steps(1);
        let t = replay.first_off + 4 * STEP_S;
        let (off, _, _) = replay.counts(t);
        assert!(off > 0, "an hour into the fault somebody is off");
        h.get_by_label_contains(&at_label(replay, t));
        assert!(h.query_by_label_contains(&format!("{off} off")).is_some());

        // The end: everybody is back.
        h.get_by_label("End").click();
        h.run_steps(2);
        let n = replay.intervals.len();
        assert_eq!(replay.counts(replay.last_back), (0, n, 0));
        h.get_by_label_contains(&at_label(replay, replay.last_back));
        h.get_by_label("- 15 min").click();
        h.run_steps(2);
        h.get_by_label_contains(&at_label(replay, replay.last_back - STEP_S));
    }

    #[test]
    fn mismatches_go_to_the_review_and_the_payment_csv_is_written() {
        let ds = dataset();
        let expected = prepare(&ds);
        let drafts = expected.analysis.suggestion_drafts();
        let dir = tempfile::tempdir().unwrap();
        let mut h = harness(ds);
        h.state_mut().state.export_dir = Some(dir.path().to_path_buf());
        h.get_by_label("Export CSVs…").click();
        h.run_steps(2);
        let comp = std::fs::read_to_string(dir.path().join("compensation.csv")).unwrap();
        assert!(comp.lines().count() > 1, "{comp}");
        if !drafts.is_empty() {
            h.get_by_label(&format!("Send all {} mismatch(es) to review", drafts.len())).click();
            h.run_steps(2);
            let s = h.state().state.session.as_ref().unwrap();
            let n = s.suggestions().iter().filter(|x| x.source == lvtopo_core::session::SuggestionSource::Outage).count();
            assert!(n > 0 && n <= drafts.len(), "{n} of {}", drafts.len());
        }
    }
}

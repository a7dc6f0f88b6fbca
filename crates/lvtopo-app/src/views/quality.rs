//! Voltage quality (use cases 2, 3, 5, 12): the worst feeders and stations by
//! event count, the 10-day plot of the selected connection with the 207–253 V
//! band, the inverter limit and its PV feed-in, the minutes outside the band
//! per connection, broken-neutral hints, and before/after when a second read
//! is loaded. A map overlay colours connections by events, minutes outside the
//! band, or the before/after change.

use crate::command::UiCommand;
use crate::jobs::{Job, Poll};
use crate::map::style::legend_row;
use crate::state::{AppState, Dataset};
use crate::view::{MapFrame, MapOverlay, Placement, View, ViewContext};
use egui::Color32;
use egui_extras::{Column, TableBuilder};
use egui_plot::{HLine, Legend, Line, Plot, PlotPoints, Points};
use lvtopo_core::model::{Network, VoltageTable};
use lvtopo_core::privacy::admission::{self, Request, Task};
use lvtopo_core::privacy::audit::Decision;
use lvtopo_core::privacy::{DataKind, PrivacyStore};
use lvtopo_core::progress::NoProgress;
use lvtopo_core::quality::band::{self, BandAnalysis};
use lvtopo_core::quality::compare::{self, BeforeAfter, Verdict};
use lvtopo_core::quality::events::{self, EventSummary};
use lvtopo_core::quality::neutral::{self, NeutralHint};
use lvtopo_core::quality::{Operator, VoltageSettings};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

/// Everything computed for one dataset and setting.
#[derive(Default)]
pub struct QualityResults {
    pub events: Option<EventSummary>,
    pub band: Option<BandAnalysis>,
    pub neutral: Vec<NeutralHint>,
    pub before_after: Option<Result<BeforeAfter, String>>,
    /// Index into `band.connections` / `events.connections` by connection.
    band_of: Vec<Option<usize>>,
    events_of: Vec<Option<usize>>,
    compare_of: Vec<Option<usize>>,
}

fn compute(
    net: &Network,
    m: &lvtopo_core::model::Measurements,
    before: Option<&VoltageTable>,
    s: VoltageSettings,
) -> QualityResults {
    let mut r = QualityResults::default();
    let n = net.connections.len();
    if let Some(span) = events::read_span(&m.voltage_events) {
        let e = events::event_summary(net, &m.voltage_events, span, 3600);
        r.events_of = vec![None; n];
        for (k, c) in e.connections.iter().enumerate() {
            r.events_of[c.connection] = Some(k);
        }
        r.events = Some(e);
    }
    if let Some(v) = &m.voltage {
        if let Ok(b) = band::analyse(net, v, m.feed_in.as_ref(), &s, &NoProgress) {
            r.band_of = vec![None; n];
            for (k, c) in b.connections.iter().enumerate() {
                r.band_of[c.connection] = Some(k);
            }
            r.band = Some(b);
        }
        r.neutral = neutral::neutral_hints(net, v, m.feed_in.as_ref(), &neutral::NeutralSettings::default());
        if let Some(before) = before {
            // The earlier read is "before", whichever was opened first.
            let (b, a) = if before.grid.start <= v.grid.start { (before, v) } else { (v, before) };
            let ba = compare::before_after(net, b, a, &s);
            if let Ok(x) = &ba {
                r.compare_of = vec![None; n];
                for (k, c) in x.connections.iter().enumerate() {
                    r.compare_of[c.connection] = Some(k);
                }
            }
            r.before_after = Some(ba);
        }
    }
    r
}

/// Shared by the view and the overlay; recomputed when the dataset, the
/// operator setting or the "before" read changes.
pub struct QualityCache {
    key: Option<(usize, u64)>,
    job: Option<Job<QualityResults>>,
    pub results: Option<Arc<QualityResults>>,
    pub operator: Operator,
    /// A second voltage read (before or after an intervention).
    pub other_read: Option<(String, Arc<VoltageTable>)>,
    other_generation: u64,
    /// Reading and admitting a second read, off the UI thread.
    read_job: Option<Job<Result<(String, VoltageTable), String>>>,
}

impl Default for QualityCache {
    fn default() -> Self {
        QualityCache {
            key: None,
            job: None,
            results: None,
            operator: Operator::Liander,
            other_read: None,
            other_generation: 0,
            read_job: None,
        }
    }
}

/// Reads a second voltage read and admits it for use case 5 through the core
/// admission, as `lvtopo voltage --before` does: the loaded read must have been
/// admitted for the intervention too, the second is checked against the rules
/// (purpose file or the task's own purpose, 10 days, audit) and the gap between
/// the two (at least 1 day).
pub fn read_second(path: &Path, ds: &Dataset, privacy_dir: Option<&Path>) -> Result<(String, VoltageTable), String> {
    let first = ds.measurements.voltage.as_ref().ok_or("load a voltage read first (File > Open)")?;
    let record = ds
        .privacy_reads
        .iter()
        .rev()
        .find(|r| r.kind == DataKind::Voltage && r.decision != Decision::Refused)
        .ok_or("the loaded voltage read has no privacy admission: load it through File > Open")?;
    let mut report = lvtopo_core::io::ImportReport::default();
    let second = match lvtopo_core::io::voltage::read_voltage(path, Some(&ds.network), &mut report, &NoProgress) {
        Ok(Some(t)) => t,
        _ => return Err(format!("{}: no voltage could be read\n{report}", path.display())),
    };
    let store = PrivacyStore::open(privacy_dir).map_err(|e| format!("{e:#}"))?;
    let req = Request::new(Task::BeforeAfter, Some(path));
    match admission::admit_second_read(&store, first, record, second, &req) {
        Ok(a) => Ok((path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(), a.data)),
        Err(r) => Err(format!("{}: not used: {}", path.display(), r.record.message)),
    }
}

impl QualityCache {
    pub fn settings(&self) -> VoltageSettings {
        VoltageSettings::for_operator(self.operator)
    }

    /// Starts (or polls) the computation; `true` while it runs.
    pub fn ensure(&mut self, ds: &Dataset, ctx: &egui::Context) -> bool {
        let ptr = Arc::as_ptr(&ds.measurements) as usize ^ (Arc::as_ptr(&ds.network) as usize).rotate_left(17);
        let key = (ptr, self.other_generation * 4 + self.operator as u64);
        if self.key != Some(key) {
            self.key = Some(key);
            self.results = None;
            let (net, m, s) = (ds.network.clone(), ds.measurements.clone(), self.settings());
            let before = self.other_read.as_ref().map(|(_, t)| t.clone());
            self.job = Some(Job::spawn("voltage quality", Some(ctx.clone()), move |_| compute(&net, &m, before.as_deref(), s)));
        }
        if let Some(job) = &self.job {
            match job.poll() {
                Poll::Running => {
                    ctx.request_repaint_after(std::time::Duration::from_millis(100));
                    return true;
                }
                Poll::Done(r) => {
                    self.results = Some(Arc::new(r));
                    self.job = None;
                }
                Poll::Lost => self.job = None,
            }
        }
        false
    }

    /// Starts reading and admitting a second read (see [`read_second`]).
    pub fn start_second_read(&mut self, path: PathBuf, ds: &Dataset, privacy_dir: Option<PathBuf>, ctx: Option<egui::Context>) {
        let ds = ds.clone();
        self.read_job = Some(Job::spawn("second voltage read", ctx, move |_| read_second(&path, &ds, privacy_dir.as_deref())));
    }

    /// The outcome of the second read once it is in: `Ok` when it was admitted (and is now used).
    pub fn poll_second_read(&mut self) -> Option<Result<(), String>> {
        let out = match self.read_job.as_ref()?.poll() {
            Poll::Running => return None,
            Poll::Done(r) => r,
            Poll::Lost => Err("reading the second read failed".into()),
        };
        self.read_job = None;
        Some(out.map(|(name, t)| self.set_other_read(name, t)))
    }

    /// Blocks until the second read is in (tests).
    pub fn finish_second_read(&mut self) -> Option<Result<(), String>> {
        let job = self.read_job.take()?;
        let out = job.wait().unwrap_or_else(|| Err("reading the second read failed".into()));
        Some(out.map(|(name, t)| self.set_other_read(name, t)))
    }

    fn set_other_read(&mut self, name: String, t: VoltageTable) {
        self.other_read = Some((name, Arc::new(t)));
        self.other_generation += 1;
    }

    /// Blocks until the running computation is done (tests).
    pub fn finish_blocking(&mut self) {
        if let Some(job) = self.job.take() {
            self.results = job.wait().map(Arc::new);
        }
    }
}

pub type Shared = Rc<RefCell<QualityCache>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Ranking,
    Plot,
    Minutes,
    BeforeAfter,
}

pub struct QualityView {
    cache: Shared,
    pub tab: Tab,
    message: Option<String>,
}

impl QualityView {
    pub fn new(cache: Shared) -> Self {
        QualityView { cache, tab: Tab::Ranking, message: None }
    }
}

fn verdict_colour(v: Verdict) -> Color32 {
    match v {
        Verdict::Improved => Color32::from_rgb(40, 160, 70),
        Verdict::Deteriorated => Color32::from_rgb(215, 40, 40),
        _ => Color32::GRAY,
    }
}

impl View for QualityView {
    fn id(&self) -> &'static str {
        "voltage-quality"
    }
    fn title(&self) -> String {
        "Voltage quality".into()
    }
    fn placement(&self) -> Placement {
        Placement::Bottom
    }
    fn open_by_default(&self) -> bool {
        false
    }
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ViewContext<'_>) {
        let state = cx.state;
        let Some(ds) = state.dataset.as_ref() else {
            ui.weak("No network open.");
            return;
        };
        let m = &ds.measurements;
        if m.voltage.is_none() && m.voltage_events.is_empty() {
            ui.weak("No voltage read and no event counters loaded: open voltage.csv (at most 10 days) or voltage_events.csv.");
            return;
        }
        let mut load_other = false;
        ui.horizontal_wrapped(|ui| {
            let mut cache = self.cache.borrow_mut();
            let mut op = cache.operator;
            egui::ComboBox::from_label("inverter limit").selected_text(format!("{op} {} V", op.inverter_limit_v())).show_ui(
                ui,
                |ui| {
                    for o in [Operator::Enexis, Operator::Stedin, Operator::Liander] {
                        ui.selectable_value(&mut op, o, format!("{o} {} V", o.inverter_limit_v()));
                    }
                },
            );
            cache.operator = op;
            ui.separator();
            ui.selectable_value(&mut self.tab, Tab::Ranking, "Worst feeders");
            ui.selectable_value(&mut self.tab, Tab::Plot, "10-day plot");
            ui.selectable_value(&mut self.tab, Tab::Minutes, "Minutes outside the band");
            ui.selectable_value(&mut self.tab, Tab::BeforeAfter, "Before / after");
            ui.separator();
            let label = match &cache.other_read {
                Some((n, _)) => format!("second read: {n}"),
                None => "Load second read…".into(),
            };
            load_other = ui
                .button(label)
                .on_hover_text("a voltage read before or after an intervention (at most 10 days, at least 1 day apart)")
                .clicked();
        });
        if load_other {
            self.load_other_read(ds, state, ui.ctx());
        }
        let polled = self.cache.borrow_mut().poll_second_read();
        if let Some(outcome) = polled {
            self.second_read_done(outcome);
        }
        if let Some(msg) = &self.message {
            ui.colored_label(Color32::from_rgb(215, 40, 40), msg);
        }
        let running = self.cache.borrow_mut().ensure(ds, ui.ctx());
        let Some(r) = self.cache.borrow().results.clone() else {
            if running {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Analysing the voltages…");
                });
            }
            return;
        };
        let settings = self.cache.borrow().settings();
        match self.tab {
            Tab::Ranking => ranking(ui, cx, &ds.network, &r),
            Tab::Plot => plot(ui, cx, ds, &r, &settings),
            Tab::Minutes => minutes(ui, cx, &ds.network, &r),
            Tab::BeforeAfter => before_after(ui, cx, &ds.network, &r),
        }
    }
}

impl QualityView {
    fn load_other_read(&mut self, ds: &Dataset, state: &AppState, ctx: &egui::Context) {
        let Some(path) =
            rfd::FileDialog::new().add_filter("voltage", &["csv", "gz"]).set_title("Second voltage read").pick_file()
        else {
            return;
        };
        self.cache.borrow_mut().start_second_read(path, ds, state.privacy_dir.clone(), Some(ctx.clone()));
    }

    /// Shows the outcome of a second read once it is in.
    fn second_read_done(&mut self, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => {
                self.message = None;
                self.tab = Tab::BeforeAfter;
            }
            Err(m) => self.message = Some(m),
        }
    }
}

fn select(cx: &mut ViewContext<'_>, i: usize) {
    cx.push(UiCommand::Select { connections: vec![i], add: false });
}

fn ranking(ui: &mut egui::Ui, cx: &mut ViewContext<'_>, net: &Network, r: &QualityResults) {
    let _ = net;
    ui.columns(2, |cols| {
        let ui = &mut cols[0];
        match &r.events {
            Some(e) => {
                ui.strong(format!(
                    "Events ({} connections counted, {} events)",
                    e.connections.len(),
                    e.connections.iter().map(|c| c.total()).sum::<u32>()
                ));
                for n in &e.notes {
                    ui.weak(n);
                }
                egui::Grid::new("events-ranking").striped(true).show(ui, |ui| {
                    for t in ["feeder", "station", "under", "over", "connections with events"] {
                        ui.strong(t);
                    }
                    ui.end_row();
                    for f in e.feeders.iter().take(15) {
                        if ui.link(&f.id).clicked() {
                            cx.push(UiCommand::ZoomToFeeder(f.id.clone()));
                        }
                        ui.label(&f.station_id);
                        ui.label(f.undervoltage.to_string());
                        ui.label(f.overvoltage.to_string());
                        ui.label(format!("{} of {}", f.connections_with_events, f.connections_counted));
                        ui.end_row();
                    }
                });
                ui.add_space(4.0);
                for s in e.stations.iter().take(5) {
                    ui.label(format!("station {}: {} under, {} over", s.id, s.undervoltage, s.overvoltage));
                }
            }
            None => {
                ui.weak("No event counters loaded.");
            }
        }
        let ui = &mut cols[1];
        match &r.band {
            Some(b) => {
                ui.strong("Feeders by minutes outside the limits (10-day read)");
                let mut feeders: Vec<_> = b.feeders.iter().collect();
                feeders.sort_by(|x, y| {
                    (y.minutes_above_limit + y.minutes_below_band).total_cmp(&(x.minutes_above_limit + x.minutes_below_band))
                });
                egui::Grid::new("band-ranking").striped(true).show(ui, |ui| {
                    for t in ["feeder", "min > limit", "min < 207 V", "outside band", "likely trips"] {
                        ui.strong(t);
                    }
                    ui.end_row();
                    for f in feeders.iter().take(15) {
                        if ui.link(&f.id).clicked() {
                            cx.push(UiCommand::ZoomToFeeder(f.id.clone()));
                        }
                        ui.label(format!("{:.0}", f.minutes_above_limit));
                        ui.label(format!("{:.0}", f.minutes_below_band));
                        ui.label(format!("{} of {}", f.connections_outside_band, f.connections));
                        ui.label(f.connections_likely_tripping.to_string());
                        ui.end_row();
                    }
                });
                if !r.neutral.is_empty() {
                    ui.add_space(4.0);
                    ui.colored_label(
                        Color32::from_rgb(215, 40, 40),
                        format!("{} broken-neutral hint(s): inspect", r.neutral.len()),
                    );
                    for h in &r.neutral {
                        if ui.link(&h.evidence).clicked() {
                            cx.push(UiCommand::Select { connections: h.connections.clone(), add: false });
                            cx.push(UiCommand::ZoomToSelection);
                        }
                    }
                }
            }
            None => {
                ui.weak("No 10-minute voltage read loaded.");
            }
        }
    });
}

fn plot(ui: &mut egui::Ui, cx: &mut ViewContext<'_>, ds: &Dataset, r: &QualityResults, s: &VoltageSettings) {
    let (Some(v), Some(b)) = (ds.measurements.voltage.as_ref(), r.band.as_ref()) else {
        ui.weak("No 10-minute voltage read loaded.");
        return;
    };
    let Some(ci) = cx.state.selection.primary.or_else(|| b.worst_overvoltage.map(|w| w.2)) else {
        ui.weak("Select a connection on the map.");
        return;
    };
    let c = &ds.network.connections[ci];
    let cv = r.band_of.get(ci).copied().flatten().map(|k| &b.connections[k]);
    ui.horizontal_wrapped(|ui| {
        ui.strong(format!("{} — {}", c.address(), c.ean));
        if let Some(cv) = cv {
            ui.label(format!(
                "{:.0} min below 207 V, {:.0} min above 253 V, {:.0} min above {} V; {}{}",
                cv.minutes_below_band,
                cv.minutes_above_band,
                cv.minutes_above_limit,
                s.inverter_limit_v,
                band::describe_worst(cv),
                if cv.likely_trips() {
                    format!("; inverter very likely tripped {} times", cv.trip_intervals.len())
                } else {
                    String::new()
                }
            ));
        } else {
            ui.weak("no voltage for this connection");
        }
    });
    let t0 = v.grid.start as f64;
    let hours = |t: i64| (t as f64 - t0) / 3600.0;
    let chans: Vec<(lvtopo_core::model::Phase, &[f32])> =
        lvtopo_core::model::Phase::ALL.iter().zip(v.channels(&c.ean)).filter_map(|(p, s)| s.map(|i| (*p, v.series(i)))).collect();
    let feed = ds.measurements.feed_in.as_ref().and_then(|f| f.index(&c.ean).map(|row| (f, row)));
    let height = ui.available_height().max(120.0);
    let link = egui::Id::unique("quality-plot-x");
    Plot::new("quality-voltage")
        .legend(Legend::default())
        .height(if feed.is_some() { height * 0.65 } else { height })
        .x_axis_label("hours since start of read")
        .y_axis_label("V")
        .link_axis(link, [true, false])
        .show(ui, |p| {
            for (phase, series) in &chans {
                let pts: PlotPoints = series
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.is_finite())
                    .map(|(t, x)| [hours(v.grid.time(t)), *x as f64])
                    .collect();
                p.line(Line::new(phase.to_string(), pts));
            }
            p.hline(HLine::new("207–253 V band", s.band_low_v).color(Color32::from_rgb(200, 60, 60)));
            p.hline(HLine::new("207–253 V band", s.band_high_v).color(Color32::from_rgb(200, 60, 60)));
            p.hline(
                HLine::new(format!("inverter limit {} V", s.inverter_limit_v), s.inverter_limit_v)
                    .color(Color32::from_rgb(240, 140, 20)),
            );
            if let Some(cv) = cv {
                let trips: PlotPoints = cv.trip_intervals.iter().map(|&t| [hours(t), s.inverter_limit_v]).collect();
                p.points(Points::new("likely inverter trip", trips).radius(4.0).color(Color32::from_rgb(215, 40, 40)));
            }
        });
    if let Some((f, row)) = feed {
        let kw = 3600.0 / f.grid.step_s as f64;
        Plot::new("quality-feed-in").height(height * 0.3).y_axis_label("export kW").link_axis(link, [true, false]).show(
            ui,
            |p| {
                let pts: PlotPoints = f
                    .export(row)
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.is_finite())
                    .map(|(t, x)| [hours(f.grid.time(t)), *x as f64 * kw])
                    .collect();
                p.line(Line::new("PV feed-in", pts).color(Color32::from_rgb(240, 180, 0)));
            },
        );
    }
}

fn minutes(ui: &mut egui::Ui, cx: &mut ViewContext<'_>, net: &Network, r: &QualityResults) {
    let Some(b) = &r.band else {
        ui.weak("No 10-minute voltage read loaded.");
        return;
    };
    let mut rows: Vec<&band::ConnectionVoltage> = b.connections.iter().collect();
    rows.sort_by(|x, y| {
        (y.minutes_outside_band() + y.minutes_above_limit).total_cmp(&(x.minutes_outside_band() + x.minutes_above_limit))
    });
    let neutral: std::collections::HashSet<usize> = r.neutral.iter().flat_map(|h| h.connections.iter().copied()).collect();
    let selected = cx.state.selection.primary;
    let mut clicked = None;
    TableBuilder::new(ui)
        .striped(true)
        .sense(egui::Sense::click())
        .column(Column::auto().at_least(180.0))
        .columns(Column::auto().at_least(80.0), 6)
        .column(Column::remainder())
        .header(20.0, |mut h| {
            for t in ["address", "min < 207 V", "min > 253 V", "min > limit", "sunny / cloudy", "trips", "neutral", "worst"] {
                h.col(|ui| {
                    ui.strong(t);
                });
            }
        })
        .body(|body| {
            body.rows(18.0, rows.len(), |mut row| {
                let c = rows[row.index()];
                row.set_selected(selected == Some(c.connection));
                row.col(|ui| {
                    ui.label(net.connections[c.connection].address());
                });
                row.col(|ui| {
                    ui.label(format!("{:.0}", c.minutes_below_band));
                });
                row.col(|ui| {
                    ui.label(format!("{:.0}", c.minutes_above_band));
                });
                row.col(|ui| {
                    ui.label(format!("{:.0}", c.minutes_above_limit));
                });
                row.col(|ui| {
                    let f = |v: Option<f64>| v.map(|x| format!("{x:.0}")).unwrap_or_else(|| "—".into());
                    ui.label(format!("{} / {}", f(c.minutes_above_limit_sunny), f(c.minutes_above_limit_cloudy)));
                });
                row.col(|ui| {
                    ui.label(if c.likely_trips() { format!("likely ({})", c.trip_intervals.len()) } else { "—".into() });
                });
                row.col(|ui| {
                    if neutral.contains(&c.connection) {
                        ui.colored_label(Color32::from_rgb(215, 40, 40), "inspect");
                    }
                });
                row.col(|ui| {
                    ui.label(band::describe_worst(c));
                });
                if row.response().clicked() {
                    clicked = Some(c.connection);
                }
            });
        });
    if let Some(i) = clicked {
        select(cx, i);
    }
}

fn before_after(ui: &mut egui::Ui, cx: &mut ViewContext<'_>, net: &Network, r: &QualityResults) {
    let ba = match &r.before_after {
        None => {
            ui.weak("Load a second voltage read (before or after the intervention) to compare.");
            return;
        }
        Some(Err(e)) => {
            ui.colored_label(Color32::from_rgb(215, 40, 40), format!("These reads cannot be compared: {e}"));
            return;
        }
        Some(Ok(x)) => x,
    };
    for s in &ba.stations {
        ui.horizontal(|ui| {
            ui.strong(format!("station {}", s.id));
            ui.colored_label(verdict_colour(s.result.verdict), &s.result.text);
        });
    }
    for f in &ba.feeders {
        ui.horizontal(|ui| {
            if ui.link(format!("feeder {}", f.id)).clicked() {
                cx.push(UiCommand::ZoomToFeeder(f.id.clone()));
            }
            ui.colored_label(verdict_colour(f.result.verdict), &f.result.text);
        });
    }
    ui.separator();
    let mut rows: Vec<_> = ba.connections.iter().filter(|c| c.result.verdict != Verdict::NoProblem).collect();
    rows.sort_by(|a, b| a.result.map_score.total_cmp(&b.result.map_score));
    let mut clicked = None;
    egui::ScrollArea::vertical().show(ui, |ui| {
        for c in rows {
            ui.horizontal(|ui| {
                if ui.link(net.connections[c.connection].address()).clicked() {
                    clicked = Some(c.connection);
                }
                ui.colored_label(verdict_colour(c.result.verdict), &c.result.text);
            });
        }
    });
    if let Some(i) = clicked {
        select(cx, i);
    }
}

/// What the overlay colours by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverlayMode {
    Events,
    Minutes,
    Change,
}

pub struct QualityOverlay {
    cache: Shared,
    pub mode: OverlayMode,
}

impl QualityOverlay {
    pub fn new(cache: Shared) -> Self {
        QualityOverlay { cache, mode: OverlayMode::Events }
    }

    /// Colour of one connection in the current mode, if it has one.
    fn colour(&self, r: &QualityResults, i: usize) -> Option<Color32> {
        match self.mode {
            OverlayMode::Events => {
                let e = &r.events.as_ref()?.connections[(*r.events_of.get(i)?)?];
                Some(match e.total() {
                    0 => return None,
                    1..=9 => Color32::from_rgb(250, 200, 60),
                    10..=49 => Color32::from_rgb(240, 120, 20),
                    _ => Color32::from_rgb(200, 20, 20),
                })
            }
            OverlayMode::Minutes => {
                let c = &r.band.as_ref()?.connections[(*r.band_of.get(i)?)?];
                let m = c.minutes_outside_band() + c.minutes_above_limit;
                Some(match m {
                    x if x <= 0.0 => return None,
                    x if x < 60.0 => Color32::from_rgb(250, 200, 60),
                    x if x < 600.0 => Color32::from_rgb(240, 120, 20),
                    _ => Color32::from_rgb(200, 20, 20),
                })
            }
            OverlayMode::Change => {
                let ba = r.before_after.as_ref()?.as_ref().ok()?;
                let c = &ba.connections[(*r.compare_of.get(i)?)?];
                match c.result.verdict {
                    Verdict::Improved | Verdict::Deteriorated => Some(verdict_colour(c.result.verdict)),
                    _ => None,
                }
            }
        }
    }
}

impl MapOverlay for QualityOverlay {
    fn id(&self) -> &'static str {
        "voltage-quality"
    }
    fn title(&self) -> String {
        "Voltage quality".into()
    }
    fn paint(&mut self, painter: &egui::Painter, frame: &MapFrame<'_>, _state: &AppState) {
        self.cache.borrow_mut().ensure(frame.dataset, painter.ctx());
        let Some(r) = self.cache.borrow().results.clone() else { return };
        let rad = frame.marker_radius() + 2.5;
        for i in frame.visible_connections() {
            if let Some(col) = self.colour(&r, i) {
                painter.circle_stroke(frame.connection_screen_pos(i), rad, egui::Stroke::new(2.0, col));
            }
        }
    }
    fn legend(&mut self, ui: &mut egui::Ui, _state: &AppState) {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.mode, OverlayMode::Events, "events");
            ui.selectable_value(&mut self.mode, OverlayMode::Minutes, "minutes outside");
            ui.selectable_value(&mut self.mode, OverlayMode::Change, "before/after");
        });
        match self.mode {
            OverlayMode::Events => {
                legend_row(ui, Color32::from_rgb(250, 200, 60), "1–9 events", false);
                legend_row(ui, Color32::from_rgb(240, 120, 20), "10–49 events", false);
                legend_row(ui, Color32::from_rgb(200, 20, 20), "50 or more", false);
            }
            OverlayMode::Minutes => {
                legend_row(ui, Color32::from_rgb(250, 200, 60), "< 1 h outside the band / above the limit", false);
                legend_row(ui, Color32::from_rgb(240, 120, 20), "1–10 h", false);
                legend_row(ui, Color32::from_rgb(200, 20, 20), "10 h or more", false);
            }
            OverlayMode::Change => {
                legend_row(ui, verdict_colour(Verdict::Improved), "improved", false);
                legend_row(ui, verdict_colour(Verdict::Deteriorated), "deteriorated", false);
            }
        }
    }
    fn connection_tooltip(&self, _state: &AppState, i: usize) -> Option<String> {
        let cache = self.cache.borrow();
        let r = cache.results.as_ref()?;
        let mut parts = Vec::new();
        if let Some(e) = r.events.as_ref().zip(r.events_of.get(i).copied().flatten()).map(|(e, k)| &e.connections[k]) {
            parts.push(format!("{} under / {} over events", e.undervoltage, e.overvoltage));
        }
        if let Some(c) = r.band.as_ref().zip(r.band_of.get(i).copied().flatten()).map(|(b, k)| &b.connections[k]) {
            parts.push(format!(
                "{:.0} min outside the band, {:.0} min above the limit",
                c.minutes_outside_band(),
                c.minutes_above_limit
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::CommandQueue;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    fn street(tap: i32, start_offset_days: i64) -> lvtopo_core::sim::SimOutput {
        let mut cfg = lvtopo_core::sim::SimConfig::preset("street").unwrap();
        cfg.set_season("summer").unwrap();
        cfg.days = 4;
        cfg.pv_share = 0.6;
        cfg.tap = tap;
        cfg.outages = false;
        cfg.start += chrono::Duration::days(start_offset_days);
        lvtopo_core::sim::generate(&cfg, 21, &NoProgress).unwrap()
    }

    #[test]
    fn voltage_quality_view_opens_each_tab_and_compares_two_reads() {
        let out = street(2, 0);
        let after = street(0, 6).measurements.voltage.unwrap();
        let ds = Dataset::from_parts("street", out.network, out.measurements, Default::default());
        let state = AppState { dataset: Some(ds), ..Default::default() };
        let cache: Shared = Default::default();
        cache.borrow_mut().set_other_read("after.csv".into(), after);
        let view = QualityView::new(cache.clone());
        let mut h = Harness::builder().with_size(egui::vec2(1300.0, 500.0)).build_ui_state(
            |ui, (view, state): &mut (QualityView, AppState)| {
                let mut q = CommandQueue::default();
                view.ui(ui, &mut ViewContext { state, commands: &mut q });
            },
            (view, state),
        );
        h.run_steps(2);
        cache.borrow_mut().finish_blocking();
        h.run();
        let r = cache.borrow().results.clone().expect("computed");
        let b = r.band.as_ref().expect("band analysis");
        assert!(
            b.connections.iter().any(|c| c.minutes_above_limit > 0.0),
            "tap +2 in summer should raise the voltage above the limit"
        );
        h.get_by_label_contains("Feeders by minutes outside");
        h.get_by_label("10-day plot").click();
        h.run();
        h.get_by_label_contains("min above 250 V");
        h.get_by_label("Minutes outside the band").click();
        h.run();
        h.get_by_label("min > limit");
        h.get_by_label("Before / after").click();
        h.run();
        let ba = r.before_after.as_ref().unwrap().as_ref().expect("comparable reads");
        assert_eq!(ba.stations[0].result.verdict, Verdict::Improved, "{}", ba.stations[0].result.text);
        h.get_by_label_contains("station ");
        // The overlay colours by the change.
        let mut overlay = QualityOverlay::new(cache.clone());
        overlay.mode = OverlayMode::Change;
        let improved = ba.connections.iter().find(|c| c.result.verdict == Verdict::Improved).unwrap();
        assert_eq!(overlay.colour(&r, improved.connection), Some(verdict_colour(Verdict::Improved)));
        assert!(overlay.connection_tooltip(&h.state().1, improved.connection).unwrap().contains("min above the limit"));
    }
}

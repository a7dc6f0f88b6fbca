//! Measurement files of the data contract (all also as `.csv.gz`):
//! `voltage.csv` (see [`super::voltage`]), `feed_in.csv`, `voltage_events.csv`,
//! `outage_log.csv` (or the DSMR variant `ean,end,duration_s`, told apart by
//! its header), `incidents.csv`, `voltage_presence.csv`, and `truth.csv` of the
//! sample networks.
//!
//! Common rules: required columns in any order (a missing one is a file error
//! naming it), extra columns ignored with a warning, timestamps with an offset
//! (local time without one is refused per row), an empty file is an error.
//! Exact duplicate rows collapse into one and are counted; a duplicate key with
//! other values keeps the first row and reports the other. EANs not in the
//! network are kept and reported in one warning per file.

use super::csvread::{FileIssues, Row, label, parse_bool, read_small_csv};
use super::report::{ImportReport, Location};
use super::voltage::{detect_grid, read_voltage, report_unknown_eans};
use crate::model::time::{Timestamp, format_utc, parse_timestamp};
use crate::model::{
    EventCounterRead, FeedInTable, Incident, Measurements, Network, OutageRecord, Phase, PhaseConnection, PresenceAnswer,
    Rotation, TruthRow,
};
use crate::progress::{Cancelled, Progress, SubProgress};
use std::collections::HashMap;
use std::hash::Hash;
use std::path::{Path, PathBuf};

pub const FEED_IN_STEP_S: i64 = 900;

/// Collapses rows by key: an identical row is a counted duplicate, a differing
/// one is reported (first kept). Returns the kept values in file order.
struct Dedup<K, V> {
    seen: HashMap<K, (usize, usize)>,
    kept: Vec<V>,
    duplicates: usize,
    conflicts: usize,
}

impl<K: Eq + Hash, V: PartialEq + std::fmt::Debug> Dedup<K, V> {
    fn new() -> Self {
        Dedup { seen: HashMap::new(), kept: Vec::new(), duplicates: 0, conflicts: 0 }
    }
    fn add(&mut self, key: K, v: V, row: usize, issues: &mut FileIssues, report: &mut ImportReport, what: &str) {
        match self.seen.get(&key) {
            None => {
                self.seen.insert(key, (self.kept.len(), row));
                self.kept.push(v);
            }
            Some(&(i, first)) if self.kept[i] == v => {
                let _ = first;
                self.duplicates += 1;
            }
            Some(&(_, first)) => {
                self.conflicts += 1;
                issues.warning(
                    report,
                    row,
                    None,
                    format!("conflicting duplicate of row {first} (same {what}, other values); kept row {first}"),
                );
            }
        }
    }
    fn finish(self, report: &mut ImportReport, fi: usize, rejected: usize) -> Vec<V> {
        let s = report.file_mut(fi);
        s.duplicates = self.duplicates;
        s.rejected = rejected + self.conflicts;
        s.accepted = self.kept.len();
        self.kept
    }
}

/// Per-row field parsing that records the first problem of a row.
struct RowCheck<'r, 'a> {
    row: &'r Row<'a>,
    err: Option<(&'static str, String)>,
}

impl<'r, 'a> RowCheck<'r, 'a> {
    fn new(row: &'r Row<'a>) -> Self {
        RowCheck { row, err: None }
    }
    fn fail(&mut self, col: &'static str, msg: String) {
        if self.err.is_none() {
            self.err = Some((col, msg));
        }
    }
    fn text(&mut self, i: usize, col: &'static str) -> String {
        let v = self.row.fields[i];
        if v.is_empty() {
            self.fail(col, "required value is missing".into());
        }
        v.to_string()
    }
    fn time(&mut self, i: usize, col: &'static str) -> Timestamp {
        parse_timestamp(self.row.fields[i]).unwrap_or_else(|e| {
            self.fail(col, e);
            0
        })
    }
    fn number(&mut self, i: usize, col: &'static str, min: f64) -> f64 {
        let s = self.row.fields[i];
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= min => v,
            Ok(v) if v.is_finite() => {
                self.fail(col, format!("expected a number >= {min}, found {v}"));
                0.0
            }
            _ if s.is_empty() => {
                self.fail(col, "expected a number, found an empty value".into());
                0.0
            }
            _ => {
                self.fail(col, format!("expected a number, found {s:?}"));
                0.0
            }
        }
    }
    fn count(&mut self, i: usize, col: &'static str) -> u32 {
        let s = self.row.fields[i];
        s.parse::<u32>().unwrap_or_else(|_| {
            self.fail(col, format!("expected a whole number >= 0, found {s:?}"));
            0
        })
    }
    fn parsed<T: std::str::FromStr<Err = String>>(&mut self, i: usize, col: &'static str) -> Option<T> {
        match self.row.fields[i].parse::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(col, e);
                None
            }
        }
    }
    /// `true` when the row is fine; reports the problem otherwise.
    fn ok(self, issues: &mut FileIssues, report: &mut ImportReport, rejected: &mut usize) -> bool {
        match self.err {
            None => true,
            Some((col, msg)) => {
                *rejected += 1;
                issues.error(report, self.row.row, Some(col), msg);
                false
            }
        }
    }
}

fn unknown_eans<'a>(report: &mut ImportReport, file: &str, net: Option<&Network>, eans: impl Iterator<Item = &'a str>) {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for e in eans {
        *counts.entry(e).or_default() += 1;
    }
    report_unknown_eans(report, file, net, counts.into_iter());
}

/// `feed_in.csv`: 15-minute import/export kWh per connection.
pub fn read_feed_in(path: &Path, net: Option<&Network>, report: &mut ImportReport) -> Option<FeedInTable> {
    let (fi, csv) = read_small_csv(path, &["ean", "timestamp", "import_kwh", "export_kwh"], &[], report);
    let csv = csv?;
    let file = label(path);
    let mut issues = FileIssues::new(&file);
    let mut rejected = report.files[fi].rejected;
    let mut d: Dedup<(String, Timestamp), (f32, f32)> = Dedup::new();
    for row in csv.rows() {
        let mut c = RowCheck::new(&row);
        let ean = c.text(0, "ean");
        let t = c.time(1, "timestamp");
        let im = c.number(2, "import_kwh", 0.0);
        let ex = c.number(3, "export_kwh", 0.0);
        if c.ok(&mut issues, report, &mut rejected) {
            d.add((ean, t), (im as f32, ex as f32), row.row, &mut issues, report, "ean and timestamp");
        }
    }
    let keys: Vec<(String, Timestamp)> = {
        let mut v: Vec<_> = d.seen.iter().map(|(k, &(i, row))| (i, k.clone(), row)).collect();
        v.sort_by_key(|x| x.0);
        v.into_iter().map(|(_, k, _)| k).collect()
    };
    let rows_of: HashMap<(String, Timestamp), usize> = d.seen.iter().map(|(k, &(_, r))| (k.clone(), r)).collect();
    let vals = d.finish(report, fi, rejected);
    let mut times: Vec<Timestamp> = keys.iter().map(|k| k.1).collect();
    times.sort_unstable();
    times.dedup();
    let (grid, slots) = match detect_grid(&times, FEED_IN_STEP_S) {
        Ok(g) => g,
        Err(e) => {
            report.error(&file, Location::File, Some("timestamp"), e);
            issues.finish(report);
            return None;
        }
    };
    let slot_of: HashMap<Timestamp, Option<usize>> = times.iter().copied().zip(slots).collect();
    let mut eans: Vec<String> = Vec::new();
    let mut ean_idx: HashMap<String, usize> = HashMap::new();
    for (e, _) in &keys {
        if !ean_idx.contains_key(e) {
            ean_idx.insert(e.clone(), eans.len());
            eans.push(e.clone());
        }
    }
    let n = grid.len;
    let mut im = vec![f32::NAN; eans.len() * n];
    let mut ex = vec![f32::NAN; eans.len() * n];
    for (k, v) in keys.iter().zip(&vals) {
        match slot_of[&k.1] {
            Some(i) => {
                im[ean_idx[&k.0] * n + i] = v.0;
                ex[ean_idx[&k.0] * n + i] = v.1;
            }
            None => {
                let s = report.file_mut(fi);
                s.accepted -= 1;
                s.rejected += 1;
                issues.error(
                    report,
                    rows_of[k],
                    Some("timestamp"),
                    format!(
                        "timestamp {} is not on the 15-minute grid of this file (interval ends at {} + k x 15 min)",
                        format_utc(k.1),
                        format_utc(grid.start)
                    ),
                );
            }
        }
    }
    issues.finish(report);
    unknown_eans(report, &file, net, keys.iter().map(|k| k.0.as_str()));
    Some(FeedInTable::new(grid, eans, im, ex))
}

/// `voltage_events.csv`: cumulative undervoltage/overvoltage counters per read.
pub fn read_voltage_events(path: &Path, net: Option<&Network>, report: &mut ImportReport) -> Vec<EventCounterRead> {
    let (fi, csv) = read_small_csv(path, &["ean", "read_at", "channel", "undervoltage_count", "overvoltage_count"], &[], report);
    let Some(csv) = csv else { return Vec::new() };
    let file = label(path);
    let mut issues = FileIssues::new(&file);
    let mut rejected = report.files[fi].rejected;
    let mut d: Dedup<(String, Timestamp, Phase), EventCounterRead> = Dedup::new();
    for row in csv.rows() {
        let mut c = RowCheck::new(&row);
        let ean = c.text(0, "ean");
        let read_at = c.time(1, "read_at");
        let channel = c.parsed::<Phase>(2, "channel");
        let under = c.count(3, "undervoltage_count");
        let over = c.count(4, "overvoltage_count");
        if c.ok(&mut issues, report, &mut rejected) {
            let channel = channel.unwrap_or(Phase::L1);
            let r = EventCounterRead { ean: ean.clone(), read_at, channel, undervoltage_count: under, overvoltage_count: over };
            d.add((ean, read_at, channel), r, row.row, &mut issues, report, "ean, read_at and channel");
        }
    }
    let out = d.finish(report, fi, rejected);
    issues.finish(report);
    unknown_eans(report, &file, net, out.iter().map(|r| r.ean.as_str()));
    out
}

/// `outage_log.csv`: `ean,start,end`, or the DSMR-style `ean,end,duration_s`
/// (recognised by a `duration_s` column and no `start` column).
pub fn read_outage_log(path: &Path, net: Option<&Network>, report: &mut ImportReport) -> Vec<OutageRecord> {
    // Peek at the header to tell the two layouts apart.
    let dsmr = super::csvread::read_all(path)
        .ok()
        .and_then(|(b, _)| {
            let line = b.split(|&c| c == b'\n').next()?.to_vec();
            let h = String::from_utf8_lossy(&line).to_ascii_lowercase();
            let cols: Vec<&str> = h.split(',').map(|c| c.trim().trim_matches('"').trim_start_matches('\u{feff}')).collect();
            Some(cols.contains(&"duration_s") && !cols.contains(&"start"))
        })
        .unwrap_or(false);
    let required: &[&str] = if dsmr { &["ean", "end", "duration_s"] } else { &["ean", "start", "end"] };
    let (fi, csv) = read_small_csv(path, required, &[], report);
    let Some(csv) = csv else { return Vec::new() };
    let file = label(path);
    let mut issues = FileIssues::new(&file);
    let mut rejected = report.files[fi].rejected;
    let mut d: Dedup<(String, Timestamp), OutageRecord> = Dedup::new();
    for row in csv.rows() {
        let mut c = RowCheck::new(&row);
        let ean = c.text(0, "ean");
        let (start, end) = if dsmr {
            let end = c.time(1, "end");
            let dur = c.number(2, "duration_s", 0.0);
            (end - dur.round() as i64, end)
        } else {
            (c.time(1, "start"), c.time(2, "end"))
        };
        if c.err.is_none() && end < start {
            c.fail("end", format!("expected end at or after start {}, found {}", format_utc(start), format_utc(end)));
        }
        if c.ok(&mut issues, report, &mut rejected) {
            d.add((ean.clone(), start), OutageRecord { ean, start, end }, row.row, &mut issues, report, "ean and start");
        }
    }
    let out = d.finish(report, fi, rejected);
    issues.finish(report);
    unknown_eans(report, &file, net, out.iter().map(|r| r.ean.as_str()));
    out
}

/// `incidents.csv`: registered outages; `cable_ids` `;`-separated (may be empty).
pub fn read_incidents(path: &Path, net: Option<&Network>, report: &mut ImportReport) -> Vec<Incident> {
    let (fi, csv) = read_small_csv(path, &["incident_id", "start", "end", "planned", "cable_ids"], &[], report);
    let Some(csv) = csv else { return Vec::new() };
    let file = label(path);
    let mut issues = FileIssues::new(&file);
    let mut rejected = report.files[fi].rejected;
    let mut d: Dedup<String, Incident> = Dedup::new();
    for row in csv.rows() {
        let mut c = RowCheck::new(&row);
        let id = c.text(0, "incident_id");
        let start = c.time(1, "start");
        let end = c.time(2, "end");
        let planned = match parse_bool(row.fields[3]) {
            Ok(Some(b)) => b,
            Ok(None) => {
                c.fail("planned", "expected true or false, found an empty value".into());
                false
            }
            Err(e) => {
                c.fail("planned", e);
                false
            }
        };
        if c.err.is_none() && end < start {
            c.fail("end", format!("expected end at or after start {}, found {}", format_utc(start), format_utc(end)));
        }
        let cable_ids: Vec<String> =
            row.fields[4].split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
        if c.ok(&mut issues, report, &mut rejected) {
            if let Some(net) = net.filter(|n| !n.cables.is_empty()) {
                for cid in cable_ids.iter().filter(|c| net.cable_index(c).is_none()) {
                    issues.warning(report, row.row, Some("cable_ids"), format!("cable {cid:?} does not exist in the network"));
                }
            }
            d.add(id.clone(), Incident { id, start, end, planned, cable_ids }, row.row, &mut issues, report, "incident_id");
        }
    }
    let out = d.finish(report, fi, rejected);
    issues.finish(report);
    out
}

/// `voltage_presence.csv`: answers to "is there voltage?" (`true`/`false`/empty = no answer).
pub fn read_presence(path: &Path, net: Option<&Network>, report: &mut ImportReport) -> Vec<PresenceAnswer> {
    let (fi, csv) = read_small_csv(path, &["ean", "timestamp", "voltage_present"], &[], report);
    let Some(csv) = csv else { return Vec::new() };
    let file = label(path);
    let mut issues = FileIssues::new(&file);
    let mut rejected = report.files[fi].rejected;
    let mut d: Dedup<(String, Timestamp), PresenceAnswer> = Dedup::new();
    for row in csv.rows() {
        let mut c = RowCheck::new(&row);
        let ean = c.text(0, "ean");
        let timestamp = c.time(1, "timestamp");
        let present = parse_bool(row.fields[2]).unwrap_or_else(|e| {
            c.fail("voltage_present", format!("{e} (or empty for no answer)"));
            None
        });
        if c.ok(&mut issues, report, &mut rejected) {
            d.add(
                (ean.clone(), timestamp),
                PresenceAnswer { ean, timestamp, voltage_present: present },
                row.row,
                &mut issues,
                report,
                "ean and timestamp",
            );
        }
    }
    let out = d.finish(report, fi, rejected);
    issues.finish(report);
    unknown_eans(report, &file, net, out.iter().map(|r| r.ean.as_str()));
    out
}

/// `truth.csv` of a sample network.
pub fn read_truth(path: &Path, net: Option<&Network>, report: &mut ImportReport) -> Vec<TruthRow> {
    let (fi, csv) = read_small_csv(path, &["ean", "station_id", "feeder_id", "cable_id", "phase"], &["rotation"], report);
    let Some(csv) = csv else { return Vec::new() };
    let file = label(path);
    let mut issues = FileIssues::new(&file);
    let mut rejected = report.files[fi].rejected;
    let mut d: Dedup<String, TruthRow> = Dedup::new();
    for row in csv.rows() {
        let mut c = RowCheck::new(&row);
        let ean = c.text(0, "ean");
        let station_id = c.text(1, "station_id");
        let feeder_id = c.text(2, "feeder_id");
        let cable_id = c.text(3, "cable_id");
        let phase = c.parsed::<PhaseConnection>(4, "phase");
        let rotation = if row.fields[5].is_empty() { None } else { c.parsed::<Rotation>(5, "rotation") };
        if c.ok(&mut issues, report, &mut rejected) {
            let Some(phase) = phase else { continue };
            d.add(
                ean.clone(),
                TruthRow { ean, station_id, feeder_id, cable_id, phase, rotation },
                row.row,
                &mut issues,
                report,
                "ean",
            );
        }
    }
    let out = d.finish(report, fi, rejected);
    issues.finish(report);
    unknown_eans(report, &file, net, out.iter().map(|r| r.ean.as_str()));
    out
}

/// Measurement file kinds, recognised by file name (`voltage.csv`, `voltage.csv.gz`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Voltage,
    FeedIn,
    VoltageEvents,
    OutageLog,
    Incidents,
    Presence,
    Truth,
}

impl FileKind {
    pub fn of(path: &Path) -> Option<FileKind> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        let stem = name.strip_suffix(".gz").unwrap_or(&name);
        let stem = stem.strip_suffix(".csv")?;
        Some(match stem {
            "voltage" => FileKind::Voltage,
            "feed_in" => FileKind::FeedIn,
            "voltage_events" => FileKind::VoltageEvents,
            "outage_log" => FileKind::OutageLog,
            "incidents" => FileKind::Incidents,
            "voltage_presence" => FileKind::Presence,
            "truth" => FileKind::Truth,
            _ => return None,
        })
    }
}

/// Everything read next to a network.
#[derive(Debug, Default)]
pub struct LoadedMeasurements {
    pub measurements: Measurements,
    /// `truth.csv` of a sample network, when present.
    pub truth: Option<Vec<TruthRow>>,
    pub report: ImportReport,
}

/// The measurement files among `paths` (files, or folders searched by file name).
/// Unrecognised `.csv` files are returned separately so the caller can report them.
pub fn discover(paths: &[PathBuf]) -> (Vec<(FileKind, PathBuf)>, Vec<PathBuf>) {
    let mut found = Vec::new();
    let mut unknown = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> =
                std::fs::read_dir(p).map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
            entries.sort();
            for e in entries {
                match FileKind::of(&e) {
                    Some(k) => found.push((k, e)),
                    None if e.to_string_lossy().ends_with(".csv") || e.to_string_lossy().ends_with(".csv.gz") => unknown.push(e),
                    None => {}
                }
            }
        } else {
            match FileKind::of(p) {
                Some(k) => found.push((k, p.clone())),
                None => unknown.push(p.clone()),
            }
        }
    }
    // With both `x.csv` and `x.csv.gz`, the plain file is read and the other reported by the caller.
    (found, unknown)
}

/// Reads every measurement file found in `paths` (files or folders). `net`
/// is used to report EANs that are not in it (nothing is checked when it has no connections).
pub fn load_measurements(paths: &[PathBuf], net: &Network, progress: &dyn Progress) -> Result<LoadedMeasurements, Cancelled> {
    let (found, unknown) = discover(paths);
    let mut out = LoadedMeasurements::default();
    let netref = Some(net);
    let mut seen: Vec<FileKind> = Vec::new();
    for p in unknown {
        let f = label(&p);
        out.report.begin_file(&f);
        out.report.warning(&f, Location::File, None, "not a measurement file of the data contract (expected voltage.csv, feed_in.csv, voltage_events.csv, outage_log.csv, incidents.csv, voltage_presence.csv or truth.csv, optionally .gz); not read");
    }
    let n = found.len().max(1);
    for (i, (kind, path)) in found.into_iter().enumerate() {
        if progress.is_cancelled() {
            return Err(Cancelled);
        }
        let f = label(&path);
        if seen.contains(&kind) {
            out.report.begin_file(&f);
            out.report.warning(
                &f,
                Location::File,
                None,
                "a file of this kind was already read (e.g. both .csv and .csv.gz); this one is not read",
            );
            continue;
        }
        seen.push(kind);
        progress.set(i as f32 / n as f32, &format!("reading {f}"));
        let r = &mut out.report;
        let m = &mut out.measurements;
        match kind {
            FileKind::Voltage => {
                let sub = SubProgress::part(progress, i, n);
                m.voltage = read_voltage(&path, netref, r, &sub)?;
            }
            FileKind::FeedIn => m.feed_in = read_feed_in(&path, netref, r),
            FileKind::VoltageEvents => m.voltage_events = read_voltage_events(&path, netref, r),
            FileKind::OutageLog => m.outage_log = read_outage_log(&path, netref, r),
            FileKind::Incidents => m.incidents = read_incidents(&path, netref, r),
            FileKind::Presence => m.presence = read_presence(&path, netref, r),
            FileKind::Truth => out.truth = Some(read_truth(&path, netref, r)),
        }
    }
    progress.set(1.0, "measurements read");
    Ok(out)
}

//! The CSV files of `lvtopo voltage` and `lvtopo pv` (and the app's export
//! buttons): one row per connection, the feeder ranking, and the two PV letter
//! lists. Rows are built here so the CLI and the app write the same columns.

use super::band::BandAnalysis;
use super::compare::{BeforeAfter, GroupComparison};
use super::events::EventSummary;
use super::neutral::NeutralHint;
use super::solar::{PvAnalysis, PvResult, RegisterStatus};
use crate::io::atomic::{OutputSet, write_atomic};
use crate::model::Network;
use crate::model::time::format_amsterdam;
use std::collections::HashMap;
use std::io;
use std::path::Path;

pub const PV_CSV_HEADER: [&str; 16] = [
    "ean",
    "station_id",
    "feeder_id",
    "address",
    "postcode",
    "pv_found",
    "estimated_kwp",
    "raw_kwp",
    "registered_kwp",
    "register_status",
    "colour",
    "export_kwh",
    "night_export_kwh",
    "days",
    "calibration",
    "note",
];

pub const LETTER_HEADER: [&str; 10] = [
    "ean",
    "street",
    "house_number",
    "house_number_addition",
    "postcode",
    "letter",
    "estimated_kwp",
    "registered_kwp",
    "register_status",
    "reason",
];

/// Letter list kinds (use case 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Letter {
    /// PV found, nothing registered: reminder to register.
    RegisterReminder,
    /// Registered size far off, or registered but no PV seen: request to check the registration.
    CheckRegistration,
}

impl Letter {
    pub fn as_str(self) -> &'static str {
        match self {
            Letter::RegisterReminder => "register_reminder",
            Letter::CheckRegistration => "check_registration",
        }
    }
    pub fn file_name(self) -> &'static str {
        match self {
            Letter::RegisterReminder => "letters_register_reminder.csv",
            Letter::CheckRegistration => "letters_check_registration.csv",
        }
    }
    pub fn of(status: RegisterStatus) -> Option<Letter> {
        match status {
            RegisterStatus::NotRegistered => Some(Letter::RegisterReminder),
            RegisterStatus::LargeDeviation | RegisterStatus::RegisteredNotFound => Some(Letter::CheckRegistration),
            _ => None,
        }
    }
}

fn f(v: Option<f64>, decimals: usize) -> String {
    v.filter(|x| x.is_finite()).map(|x| format!("{x:.decimals$}")).unwrap_or_default()
}

pub fn write_csv(path: &Path, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    write_atomic(path, |w| csv_rows(w, header, rows))
}

/// Stages a CSV file in `set` (written with the set's other files, or not at all).
pub fn stage_csv(set: &mut OutputSet, path: &Path, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    set.write(path, |w| csv_rows(w, header, rows))
}

fn csv_rows(w: &mut dyn io::Write, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let mut c = csv::Writer::from_writer(w);
    c.write_record(header)?;
    for r in rows {
        c.write_record(r)?;
    }
    c.flush()?;
    Ok(())
}

/// One row per connection with a feed-in row.
pub fn pv_rows(net: &Network, a: &PvAnalysis) -> Vec<Vec<String>> {
    a.results
        .iter()
        .map(|r| {
            let c = &net.connections[r.connection];
            vec![
                c.ean.clone(),
                c.station_id.clone(),
                c.feeder_label(),
                c.address(),
                c.postcode.clone().unwrap_or_default(),
                if r.pv_found { "yes" } else { "no" }.into(),
                f(r.estimated_kwp, 2),
                f(r.raw_kwp, 2),
                f(r.registered_kwp, 2),
                r.status.as_str().into(),
                r.status.colour().into(),
                format!("{:.2}", r.export_kwh),
                format!("{:.2}", r.night_export_kwh),
                r.days.to_string(),
                format!("{:.3}", a.calibration),
                r.note.clone(),
            ]
        })
        .collect()
}

/// Why this letter, in words for the person who signs it.
fn letter_reason(r: &PvResult) -> String {
    match (r.status, r.estimated_kwp, r.registered_kwp) {
        (RegisterStatus::NotRegistered, Some(e), _) => {
            format!("solar panels of about {e:.1} kWp seen in the feed-in ({:.0} kWh exported); none registered", r.export_kwh)
        }
        (RegisterStatus::LargeDeviation, Some(e), Some(g)) => {
            format!("registered {g:.1} kWp, the feed-in suggests about {e:.1} kWp")
        }
        (RegisterStatus::RegisteredNotFound, _, Some(g)) => {
            format!("registered {g:.1} kWp, but no feed-in seen in a read with sunny days")
        }
        _ => r.status.as_str().into(),
    }
}

/// The rows of one letter list.
pub fn letter_rows(net: &Network, a: &PvAnalysis, letter: Letter) -> Vec<Vec<String>> {
    a.results
        .iter()
        .filter(|r| Letter::of(r.status) == Some(letter))
        .map(|r| {
            let c = &net.connections[r.connection];
            vec![
                c.ean.clone(),
                c.street.clone().unwrap_or_default(),
                c.house_number.map(|n| n.to_string()).unwrap_or_default(),
                c.house_number_addition.clone().unwrap_or_default(),
                c.postcode.clone().unwrap_or_default(),
                letter.as_str().into(),
                f(r.estimated_kwp, 1),
                f(r.registered_kwp, 1),
                r.status.as_str().into(),
                letter_reason(r),
            ]
        })
        .collect()
}

/// Writes both letter lists into `dir`; returns (path, rows) of each.
pub fn write_letters(net: &Network, a: &PvAnalysis, dir: &Path) -> io::Result<Vec<(std::path::PathBuf, usize)>> {
    let mut set = OutputSet::new();
    let out = stage_letters(&mut set, net, a, dir)?;
    set.commit()?;
    Ok(out)
}

/// The letter lists' paths in `dir`.
pub fn letter_paths(dir: &Path) -> [std::path::PathBuf; 2] {
    [Letter::RegisterReminder, Letter::CheckRegistration].map(|l| dir.join(l.file_name()))
}

/// Stages both letter lists in `set`; returns their paths and row counts.
pub fn stage_letters(
    set: &mut OutputSet,
    net: &Network,
    a: &PvAnalysis,
    dir: &Path,
) -> io::Result<Vec<(std::path::PathBuf, usize)>> {
    let mut out = Vec::new();
    for l in [Letter::RegisterReminder, Letter::CheckRegistration] {
        let rows = letter_rows(net, a, l);
        let p = dir.join(l.file_name());
        stage_csv(set, &p, &LETTER_HEADER, &rows)?;
        out.push((p, rows.len()));
    }
    Ok(out)
}

/// Everything `lvtopo voltage` may know about the connections.
#[derive(Default)]
pub struct VoltageResults<'a> {
    pub events: Option<&'a EventSummary>,
    pub band: Option<&'a BandAnalysis>,
    pub neutral: &'a [NeutralHint],
    pub before_after: Option<&'a BeforeAfter>,
}

pub const CONNECTION_HEADER: [&str; 25] = [
    "ean",
    "station_id",
    "feeder_id",
    "address",
    "undervoltage_events",
    "overvoltage_events",
    "events_status",
    "valid_steps",
    "minutes_below_band",
    "minutes_above_band",
    "minutes_above_inverter_limit",
    "minutes_above_limit_sunny_days",
    "minutes_above_limit_cloudy_days",
    "min_v",
    "max_v",
    "worst_overvoltage_at",
    "worst_hour",
    "likely_inverter_trips",
    "trip_intervals",
    "neutral_fault_hint",
    "neutral_evidence",
    "before_after_verdict",
    "before_after_p",
    "before_after_change",
    "before_after_text",
];

/// One row per connection that any of the analyses covered.
pub fn connection_rows(net: &Network, r: &VoltageResults) -> Vec<Vec<String>> {
    let ev: HashMap<usize, _> = r.events.map(|e| e.connections.iter().map(|c| (c.connection, c)).collect()).unwrap_or_default();
    let bd: HashMap<usize, _> = r.band.map(|b| b.connections.iter().map(|c| (c.connection, c)).collect()).unwrap_or_default();
    let ba: HashMap<usize, _> =
        r.before_after.map(|b| b.connections.iter().map(|c| (c.connection, &c.result)).collect()).unwrap_or_default();
    let mut nh: HashMap<usize, &NeutralHint> = HashMap::new();
    for h in r.neutral {
        for &c in &h.connections {
            nh.entry(c).or_insert(h);
        }
    }
    let mut rows = Vec::new();
    for (ci, c) in net.connections.iter().enumerate() {
        let (e, b, n, x) = (ev.get(&ci), bd.get(&ci), nh.get(&ci), ba.get(&ci));
        if e.is_none() && b.is_none() && x.is_none() {
            continue;
        }
        let mut row = vec![c.ean.clone(), c.station_id.clone(), c.feeder_label(), c.address()];
        match e {
            Some(e) => row.extend([e.undervoltage.to_string(), e.overvoltage.to_string(), e.status.as_str().into()]),
            None => row.extend(["".into(), "".into(), "".into()]),
        }
        match b {
            Some(b) => row.extend([
                b.valid_steps.to_string(),
                format!("{:.0}", b.minutes_below_band),
                format!("{:.0}", b.minutes_above_band),
                format!("{:.0}", b.minutes_above_limit),
                f(b.minutes_above_limit_sunny, 0),
                f(b.minutes_above_limit_cloudy, 0),
                f(Some(b.min_v), 1),
                f(Some(b.max_v), 1),
                b.worst_over.map(|(t, _)| format_amsterdam(t)).unwrap_or_default(),
                b.worst_hour().map(|h| h.to_string()).unwrap_or_default(),
                if b.likely_trips() { "yes" } else { "no" }.into(),
                b.trip_intervals.len().to_string(),
            ]),
            None => row.extend(std::iter::repeat_n(String::new(), 12)),
        }
        row.push(
            if n.is_some() {
                "yes"
            } else if b.is_some() {
                "no"
            } else {
                ""
            }
            .into(),
        );
        row.push(n.map(|h| h.evidence.clone()).unwrap_or_default());
        match x {
            Some(x) => row.extend([x.verdict.as_str().into(), f(x.test.map(|t| t.p_value), 4), f(x.change, 3), x.text.clone()]),
            None => row.extend(std::iter::repeat_n(String::new(), 4)),
        }
        rows.push(row);
    }
    rows
}

pub const FEEDER_HEADER: [&str; 14] = [
    "feeder_id",
    "station_id",
    "connections_counted",
    "connections_with_events",
    "undervoltage_events",
    "overvoltage_events",
    "connections_outside_band",
    "connections_above_inverter_limit",
    "connections_likely_tripping",
    "minutes_below_band",
    "minutes_above_band",
    "minutes_above_inverter_limit",
    "before_after_verdict",
    "before_after_text",
];

/// The feeders ranked worst first (events, then minutes outside the limits).
pub fn feeder_rows(net: &Network, r: &VoltageResults) -> Vec<Vec<String>> {
    let station: HashMap<String, &str> = net.connections.iter().map(|c| (c.feeder_label(), c.station_id.as_str())).collect();
    let ev: HashMap<&str, _> = r.events.map(|e| e.feeders.iter().map(|g| (g.id.as_str(), g)).collect()).unwrap_or_default();
    let bd: HashMap<&str, _> = r.band.map(|b| b.feeders.iter().map(|g| (g.id.as_str(), g)).collect()).unwrap_or_default();
    let ba: HashMap<&str, &GroupComparison> =
        r.before_after.map(|b| b.feeders.iter().map(|g| (g.id.as_str(), g)).collect()).unwrap_or_default();
    let mut ids: Vec<&str> = ev.keys().chain(bd.keys()).chain(ba.keys()).copied().collect();
    ids.sort();
    ids.dedup();
    let mut ranked: Vec<(f64, f64, Vec<String>)> = Vec::new();
    for id in ids {
        let id = id.to_string();
        let (e, b, x) = (ev.get(id.as_str()), bd.get(id.as_str()), ba.get(id.as_str()));
        if e.is_none() && b.is_none() && x.is_none() {
            continue;
        }
        let events = e.map_or(0.0, |e| e.total() as f64);
        let minutes = b.map_or(0.0, |b| b.minutes_below_band + b.minutes_above_band + b.minutes_above_limit);
        let mut row = vec![id.clone(), station.get(id.as_str()).copied().unwrap_or_default().to_string()];
        match e {
            Some(e) => row.extend([
                e.connections_counted.to_string(),
                e.connections_with_events.to_string(),
                e.undervoltage.to_string(),
                e.overvoltage.to_string(),
            ]),
            None => row.extend(std::iter::repeat_n(String::new(), 4)),
        }
        match b {
            Some(b) => row.extend([
                b.connections_outside_band.to_string(),
                b.connections_above_limit.to_string(),
                b.connections_likely_tripping.to_string(),
                format!("{:.0}", b.minutes_below_band),
                format!("{:.0}", b.minutes_above_band),
                format!("{:.0}", b.minutes_above_limit),
            ]),
            None => row.extend(std::iter::repeat_n(String::new(), 6)),
        }
        match x {
            Some(x) => row.extend([x.result.verdict.as_str().into(), x.result.text.clone()]),
            None => row.extend([String::new(), String::new()]),
        }
        ranked.push((events, minutes, row));
    }
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.total_cmp(&a.1)));
    ranked.into_iter().map(|r| r.2).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use crate::quality::events::tests::conn;
    use crate::quality::solar::SolarSettings;

    fn result(ci: usize, status: RegisterStatus, est: Option<f64>, reg: Option<f64>) -> PvResult {
        PvResult {
            connection: ci,
            pv_found: est.is_some(),
            estimated_kwp: est,
            raw_kwp: est,
            registered_kwp: reg,
            status,
            export_kwh: 30.0,
            night_export_kwh: 0.0,
            days: 7,
            note: String::new(),
            dip_only: false,
        }
    }

    #[test]
    fn letter_lists_split_by_status() {
        let p = PhaseConnection::Single(Phase::L1);
        let net = Network::new(
            vec![],
            vec![],
            vec![conn("a", "F1", "C1", p), conn("b", "F1", "C1", p), conn("c", "F1", "C1", p)],
            Crs::RdNew,
        );
        let a = PvAnalysis {
            settings: SolarSettings::default(),
            results: vec![
                result(0, RegisterStatus::NotRegistered, Some(4.2), None),
                result(1, RegisterStatus::LargeDeviation, Some(8.0), Some(3.0)),
                result(2, RegisterStatus::Consistent, Some(3.0), Some(3.1)),
            ],
            calibration: 1.0,
            calibration_connections: 0,
            unknown_eans: 0,
            notes: vec![],
        };
        let rem = letter_rows(&net, &a, Letter::RegisterReminder);
        assert_eq!(rem.len(), 1);
        assert_eq!(rem[0][0], "a");
        assert!(rem[0][9].contains("4.2 kWp"), "{:?}", rem[0]);
        let chk = letter_rows(&net, &a, Letter::CheckRegistration);
        assert_eq!(chk.len(), 1);
        assert!(chk[0][9].contains("registered 3.0 kWp"), "{:?}", chk[0]);
        let rows = pv_rows(&net, &a);
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| r.len() == PV_CSV_HEADER.len()));
        assert_eq!(rows[2][10], "green");
    }
}

//! CSV exports of an [`OutageAnalysis`]: per-connection interruptions with
//! compensation, the payment list, register rows, registration mismatches and
//! the localisations. Times are Dutch civil time with their offset (so they
//! are unambiguous across daylight saving); every file is written atomically.

use super::{DurationBasis, OutageAnalysis};
use crate::io::atomic::OutputSet;
use crate::model::Network;
use crate::model::time::{Timestamp, format_amsterdam};
use std::io;
use std::path::{Path, PathBuf};

pub const INTERRUPTIONS_CSV: &str = "interruptions.csv";
pub const COMPENSATION_CSV: &str = "compensation.csv";
pub const REGISTER_CSV: &str = "register.csv";
pub const MISMATCHES_CSV: &str = "mismatches.csv";
pub const LOCALISATION_CSV: &str = "localisation.csv";
pub const ASK_NEXT_CSV: &str = "ask_next.csv";

fn t(ts: Timestamp) -> String {
    format_amsterdam(ts)
}
fn opt_t(ts: Option<Timestamp>) -> String {
    ts.map(format_amsterdam).unwrap_or_default()
}
fn opt_f(v: Option<f64>, decimals: usize) -> String {
    v.map(|x| format!("{x:.decimals$}")).unwrap_or_default()
}
fn min1(s: i64) -> String {
    format!("{:.1}", s as f64 / 60.0)
}

fn stage_csv(set: &mut OutputSet, path: &Path, header: &[&str], rows: Vec<Vec<String>>) -> io::Result<()> {
    set.write(path, |w| {
        let mut c = csv::Writer::from_writer(w);
        c.write_record(header)?;
        for r in rows {
            c.write_record(&r)?;
        }
        c.flush()?;
        Ok(())
    })
}

/// The names of the files [`write_all`] may write (the localisation files only with answers).
pub fn file_names() -> [&'static str; 6] {
    [INTERRUPTIONS_CSV, COMPENSATION_CSV, REGISTER_CSV, MISMATCHES_CSV, LOCALISATION_CSV, ASK_NEXT_CSV]
}

/// Writes every file into `dir` as one unit ([`OutputSet`]): all of them or,
/// on an error, none; returns the paths written. The localisation
/// files are only written when there were voltage-presence answers.
pub fn write_all(a: &OutageAnalysis, net: &Network, dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut set = OutputSet::new();
    let mut put = |name: &str, header: &[&str], rows: Vec<Vec<String>>| stage_csv(&mut set, &dir.join(name), header, rows);
    put(INTERRUPTIONS_CSV, &INTERRUPTION_HEADER, interruption_rows(a, net, false))?;
    put(COMPENSATION_CSV, &INTERRUPTION_HEADER, interruption_rows(a, net, true))?;
    put(REGISTER_CSV, &REGISTER_HEADER, register_rows(a))?;
    put(MISMATCHES_CSV, &MISMATCH_HEADER, mismatch_rows(a))?;
    if !a.episodes.is_empty() {
        put(LOCALISATION_CSV, &LOCALISATION_HEADER, localisation_rows(a, net))?;
        put(ASK_NEXT_CSV, &ASK_HEADER, ask_rows(a))?;
    }
    set.commit()
}

pub const INTERRUPTION_HEADER: [&str; 24] = [
    "incident_id",
    "ean",
    "address",
    "postcode",
    "station_id",
    "feeder_id",
    "cable_id",
    "meter",
    "capacity",
    "compensation_class",
    "start",
    "end",
    "interruptions",
    "off_s",
    "off_min",
    "longest_s",
    "longest_min",
    "basis",
    "basis_detail",
    "downstream_of_fault",
    "planned",
    "compensation_eur",
    "compensation_reason",
    "in_network",
];

/// One row per connection per incident; `payable_only`: only rows with an amount (the payment list).
pub fn interruption_rows(a: &OutageAnalysis, net: &Network, payable_only: bool) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for inc in &a.incidents {
        for r in &inc.interruptions {
            if payable_only && r.compensation.amount_eur == 0 {
                continue;
            }
            let c = r.connection.map(|i| &net.connections[i]);
            let detail = match &r.basis {
                DurationBasis::MeterLog => String::new(),
                DurationBasis::Topology { reference, reference_meters } => {
                    format!("conventional meter: median of {reference_meters} smart meter(s) on {reference}")
                }
            };
            out.push(vec![
                r.incident_id.clone(),
                r.ean.clone(),
                c.map(|c| c.address()).unwrap_or_default(),
                c.and_then(|c| c.postcode.clone()).unwrap_or_default(),
                c.map(|c| c.station_id.clone()).unwrap_or_default(),
                c.and_then(|c| c.feeder_id.clone()).unwrap_or_default(),
                c.and_then(|c| c.cable_id.clone()).unwrap_or_default(),
                c.map(|c| if c.meter == crate::model::MeterKind::Smart { "smart" } else { "conventional" })
                    .unwrap_or("smart")
                    .into(),
                r.capacity.to_string(),
                r.compensation.class.to_string(),
                t(r.start),
                t(r.end),
                r.interruptions.to_string(),
                r.off_s.to_string(),
                min1(r.off_s),
                r.longest_s.to_string(),
                min1(r.longest_s),
                r.basis.as_str().into(),
                detail,
                r.downstream_of_fault.map(|b| b.to_string()).unwrap_or_default(),
                inc.planned.to_string(),
                r.compensation.amount_eur.to_string(),
                r.compensation.reason.to_string(),
                r.connection.is_some().to_string(),
            ]);
        }
    }
    out
}

pub const REGISTER_HEADER: [&str; 23] = [
    "incident_id",
    "planned",
    "voltage_level",
    "station_ids",
    "feeder_ids",
    "fault",
    "fault_source",
    "customers_affected",
    "customers_by_meter_log",
    "customers_by_topology",
    "start",
    "end",
    "duration_min",
    "customer_minutes_lost",
    "mean_minutes_per_customer",
    "registered_start",
    "registered_end",
    "registered_duration_min",
    "registered_customer_minutes",
    "start_difference_min",
    "end_difference_min",
    "compensation_total_eur",
    "source",
];

pub fn register_rows(a: &OutageAnalysis) -> Vec<Vec<String>> {
    a.incidents
        .iter()
        .map(|i| {
            let r = &i.register;
            vec![
                r.incident_id.clone(),
                r.planned.to_string(),
                "LS".into(),
                r.station_ids.join(";"),
                r.feeder_ids.join(";"),
                r.fault.join(";"),
                r.fault_source.as_str().into(),
                r.customers_affected.to_string(),
                r.customers_by_meter_log.to_string(),
                r.customers_by_topology.to_string(),
                opt_t(r.start),
                opt_t(r.end),
                opt_f(r.duration_min, 1),
                format!("{:.1}", r.customer_minutes_lost),
                opt_f(r.mean_minutes_per_customer, 1),
                opt_t(r.registered_start),
                opt_t(r.registered_end),
                opt_f(r.registered_duration_min, 1),
                opt_f(r.registered_customer_minutes, 1),
                opt_f(r.start_difference_min, 1),
                opt_f(r.end_difference_min, 1),
                r.compensation_total_eur.to_string(),
                if i.registered.is_some() { "registration+meters" } else { "meters_only" }.into(),
            ]
        })
        .collect()
}

pub const MISMATCH_HEADER: [&str; 15] = [
    "incident_id",
    "ean",
    "kind",
    "registered_feeder_id",
    "registered_cable_id",
    "proposed_feeder_id",
    "proposed_cable_id",
    "proposed_distance_m",
    "logged_off_min",
    "start_offset_min",
    "neighbours",
    "neighbours_agreeing",
    "confidence",
    "evidence",
    "suggestion_field",
];

pub fn mismatch_rows(a: &OutageAnalysis) -> Vec<Vec<String>> {
    a.incidents
        .iter()
        .flat_map(|i| i.mismatches.iter())
        .map(|m| {
            vec![
                m.incident_id.clone(),
                m.ean.clone(),
                m.kind.as_str().into(),
                m.registered_feeder_id.clone(),
                m.registered_cable_id.clone(),
                m.proposed_feeder_id.clone().unwrap_or_default(),
                m.proposed_cable_id.clone().unwrap_or_default(),
                opt_f(m.proposed_distance_m, 1),
                m.logged_off_min.map(|v| v.to_string()).unwrap_or_default(),
                m.start_offset_min.map(|v| v.to_string()).unwrap_or_default(),
                m.neighbours.to_string(),
                m.neighbours_agreeing.to_string(),
                format!("{:.3}", m.confidence),
                m.evidence.clone(),
                if m.proposed_cable_id.is_some() { "cable" } else { "" }.into(),
            ]
        })
        .collect()
}

pub const LOCALISATION_HEADER: [&str; 18] = [
    "episode",
    "incident_id",
    "first_answer",
    "last_answer",
    "rank",
    "element_kind",
    "element_id",
    "equivalent",
    "crew",
    "probability",
    "connections",
    "dead_inside",
    "live_inside",
    "dead_outside",
    "unknown_inside",
    "decided",
    "answers_needed",
    "summary",
];

pub fn localisation_rows(a: &OutageAnalysis, net: &Network) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (k, e) in a.episodes.iter().enumerate() {
        let l = &e.localisation;
        for (rank, c) in l.candidates.iter().enumerate() {
            out.push(vec![
                (k + 1).to_string(),
                e.incident_id.clone().unwrap_or_default(),
                t(e.episode.first),
                t(e.episode.last),
                (rank + 1).to_string(),
                c.element.kind().into(),
                c.element.id(net),
                c.equivalent.iter().map(|x| x.label(net)).collect::<Vec<_>>().join(";"),
                c.crew.to_string(),
                format!("{:.4}", c.probability),
                c.connections.to_string(),
                c.dead_inside.to_string(),
                c.live_inside.to_string(),
                c.dead_outside.to_string(),
                c.unknown_inside.to_string(),
                l.decided.to_string(),
                l.answers_needed.map(|n| n.to_string()).unwrap_or_default(),
                if rank == 0 { l.summary.clone() } else { String::new() },
            ]);
        }
    }
    out
}

pub const ASK_HEADER: [&str; 6] = ["episode", "incident_id", "order", "ean", "p_no_voltage", "information_bits"];

pub fn ask_rows(a: &OutageAnalysis) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (k, e) in a.episodes.iter().enumerate() {
        for (n, m) in e.localisation.ask_next.iter().enumerate() {
            out.push(vec![
                (k + 1).to_string(),
                e.incident_id.clone().unwrap_or_default(),
                (n + 1).to_string(),
                m.ean.clone(),
                format!("{:.3}", m.p_dead),
                format!("{:.3}", m.information_bits),
            ]);
        }
    }
    out
}

//! The interruption register (use case 9): per incident the customers
//! affected, start (first meter off), end (last meter back), duration and
//! customer minutes lost, from the meters, next to what the incident
//! registration said. One row per incident, as the national register (Nestor) takes it.

use super::interruptions::IncidentGroup;
use super::{ConnectionInterruption, DurationBasis, FaultElement, FaultSource};
use crate::model::Network;
use crate::model::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegisterRow {
    pub incident_id: String,
    pub planned: bool,
    /// Stations and feeders of the affected connections (as registered).
    pub station_ids: Vec<String>,
    pub feeder_ids: Vec<String>,
    /// `cable C-12`, `feeder F-3`, ... (empty when unknown).
    pub fault: Vec<String>,
    pub fault_source: FaultSource,
    /// All connections off: by their meter log plus conventional meters by topology.
    pub customers_affected: usize,
    pub customers_by_meter_log: usize,
    pub customers_by_topology: usize,
    /// First meter off / last meter back (`None` with no interruption at all).
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    pub duration_min: Option<f64>,
    /// Sum over connections of their time off (minutes).
    pub customer_minutes_lost: f64,
    /// Mean time off per affected customer (minutes).
    pub mean_minutes_per_customer: Option<f64>,
    pub registered_start: Option<Timestamp>,
    pub registered_end: Option<Timestamp>,
    pub registered_duration_min: Option<f64>,
    /// What the registration would have given: affected customers x registered duration.
    pub registered_customer_minutes: Option<f64>,
    /// Meters minus registration (minutes; negative: the meters say earlier).
    pub start_difference_min: Option<f64>,
    pub end_difference_min: Option<f64>,
    pub compensation_total_eur: u64,
}

fn ids(v: impl IntoIterator<Item = String>) -> Vec<String> {
    v.into_iter().filter(|s| !s.is_empty()).collect::<BTreeSet<_>>().into_iter().collect()
}

pub fn row(
    net: &Network,
    g: &IncidentGroup,
    fault: &[FaultElement],
    fault_source: FaultSource,
    rows: &[ConnectionInterruption],
) -> RegisterRow {
    let conns = || rows.iter().filter_map(|r| r.connection).map(|i| &net.connections[i]);
    let start = rows.iter().map(|r| r.start).min();
    let end = rows.iter().map(|r| r.end).max();
    let minutes = |a: Timestamp, b: Timestamp| (b - a) as f64 / 60.0;
    let cml: f64 = rows.iter().map(|r| r.off_s as f64 / 60.0).sum();
    let by_log = rows.iter().filter(|r| r.basis == DurationBasis::MeterLog).count();
    let reg = g.registered.as_ref();
    let reg_dur = reg.map(|r| minutes(r.start, r.end));
    RegisterRow {
        incident_id: g.id.clone(),
        planned: g.planned(),
        station_ids: ids(conns().map(|c| c.station_id.clone())),
        feeder_ids: ids(conns().map(|c| c.feeder_label())),
        fault: fault.iter().map(|e| e.label(net)).collect(),
        fault_source,
        customers_affected: rows.len(),
        customers_by_meter_log: by_log,
        customers_by_topology: rows.len() - by_log,
        start,
        end,
        duration_min: start.zip(end).map(|(a, b)| minutes(a, b)),
        customer_minutes_lost: cml,
        mean_minutes_per_customer: (!rows.is_empty()).then(|| cml / rows.len() as f64),
        registered_start: reg.map(|r| r.start),
        registered_end: reg.map(|r| r.end),
        registered_duration_min: reg_dur,
        registered_customer_minutes: reg_dur.map(|d| d * rows.len() as f64),
        start_difference_min: start.zip(reg).map(|(s, r)| minutes(r.start, s)),
        end_difference_min: end.zip(reg).map(|(e, r)| minutes(r.end, e)),
        compensation_total_eur: rows.iter().map(|r| r.compensation.amount_eur as u64).sum(),
    }
}

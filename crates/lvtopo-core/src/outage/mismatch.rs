//! Registration mismatches: smart meters that logged an incident's outage but
//! are not registered downstream of the fault, and smart meters registered
//! downstream that logged nothing. Either way GIS probably has the connection
//! on the wrong cable. As the operators do, the surrounding smart meters are
//! checked: if they agree with the meter rather than with its registration,
//! the mismatch is likely a registration error.

use super::interruptions::Interval;
use crate::model::{MeterKind, Network, Topology};
use crate::session::{EvidenceDetail, Field, FieldValue, SuggestionDraft};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// Surrounding smart meters looked at per mismatch.
pub const NEIGHBOURS: usize = 6;
/// ... within this distance (m).
pub const NEIGHBOUR_RADIUS_M: f64 = 100.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MismatchKind {
    /// Logged the outage, but registered outside the faulted part.
    LoggedOutsideFault,
    /// Registered downstream of the fault, but logged no outage.
    DownstreamNotLogged,
}

impl MismatchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MismatchKind::LoggedOutsideFault => "logged_outside_fault",
            MismatchKind::DownstreamNotLogged => "downstream_not_logged",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mismatch {
    pub incident_id: String,
    pub connection: usize,
    pub ean: String,
    pub kind: MismatchKind,
    pub registered_cable_id: String,
    pub registered_feeder_id: String,
    /// The nearest cable on the side the meter's log puts it (inside the faulted
    /// part for a meter that logged, outside it for one that did not).
    pub proposed_cable_id: Option<String>,
    pub proposed_feeder_id: Option<String>,
    pub proposed_distance_m: Option<f64>,
    /// Minutes off according to the meter's log (for a meter that logged).
    pub logged_off_min: Option<i64>,
    /// Minutes between the incident's first meter off and this meter going off.
    pub start_offset_min: Option<i64>,
    /// Surrounding smart meters and how many of them behaved like this meter.
    pub neighbours: usize,
    pub neighbours_agreeing: usize,
    pub confidence: f64,
    pub evidence: String,
}

/// Finds the mismatches of one incident. `dead_area`: connections registered
/// downstream of the fault (sorted); `fault_cables`: the cables of the faulted
/// part (empty for a connection or station fault, then nothing is proposed);
/// `logged`: per connection its interruptions in this incident.
pub fn find(
    net: &Network,
    topo: &Topology,
    incident_id: &str,
    dead_area: &[usize],
    fault_cables: &[usize],
    logged: &BTreeMap<usize, Vec<Interval>>,
    first_off: Option<i64>,
) -> Vec<Mismatch> {
    let in_area: HashSet<usize> = dead_area.iter().copied().collect();
    let in_fault_cables: HashSet<usize> = fault_cables.iter().copied().collect();
    let stations: HashSet<&str> = dead_area.iter().map(|&i| net.connections[i].station_id.as_str()).collect();
    let smart = |i: usize| net.connections[i].meter == MeterKind::Smart;
    let mut out = Vec::new();
    let mut consider = |i: usize, kind: MismatchKind| {
        let c = &net.connections[i];
        let ivs = logged.get(&i);
        // Surrounding smart meters: does the neighbourhood behave like this meter?
        let mut near: Vec<(f64, usize)> = net
            .connections
            .iter()
            .enumerate()
            .filter(|(j, o)| *j != i && o.meter == MeterKind::Smart)
            .map(|(j, o)| (o.pos.distance_m(&c.pos), j))
            .filter(|(d, _)| *d <= NEIGHBOUR_RADIUS_M)
            .collect();
        near.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        near.truncate(NEIGHBOURS);
        let me_logged = ivs.is_some();
        let agreeing = near.iter().filter(|(_, j)| logged.contains_key(j) == me_logged).count();
        // Laplace estimate of "the neighbourhood agrees with the meter"; an empty log may
        // also be a log that was not read, so a meter that logged nothing weighs less.
        let mut confidence = (agreeing as f64 + 1.0) / (near.len() as f64 + 2.0);
        if kind == MismatchKind::DownstreamNotLogged {
            confidence *= 0.8;
        }
        // Propose the nearest cable on the side the log puts the meter.
        let proposal = if in_fault_cables.is_empty() {
            None
        } else {
            (0..net.cables.len())
                .filter(|k| match kind {
                    MismatchKind::LoggedOutsideFault => in_fault_cables.contains(k),
                    MismatchKind::DownstreamNotLogged => {
                        !in_fault_cables.contains(k) && stations.contains(net.cables[*k].station_id.as_str())
                    }
                })
                .map(|k| (topo.attach(net, k, &c.pos).offset_m, k))
                .min_by(|a, b| a.0.total_cmp(&b.0))
        };
        let off_min = ivs.map(|v| v.iter().map(Interval::duration_s).sum::<i64>() / 60);
        let start_offset = ivs.and_then(|v| v.first()).zip(first_off).map(|(iv, f)| (iv.start - f) / 60);
        let mut evidence = match kind {
            MismatchKind::LoggedOutsideFault => format!(
                "incident {incident_id}: meter logged {} min off{} but is registered on cable {} (feeder {}), outside the faulted part",
                off_min.unwrap_or(0),
                start_offset.map(|m| format!(", going off {m} min after the first meter")).unwrap_or_default(),
                c.cable(),
                c.feeder()
            ),
            MismatchKind::DownstreamNotLogged => format!(
                "incident {incident_id}: registered on cable {} (feeder {}) downstream of the fault, but the meter logged no outage",
                c.cable(),
                c.feeder()
            ),
        };
        evidence.push_str(&format!("; {agreeing} of {} surrounding smart meters behaved the same", near.len()));
        if let Some((d, k)) = proposal {
            evidence.push_str(&format!("; nearest cable on that side: {} ({d:.0} m)", net.cables[k].id));
        }
        out.push(Mismatch {
            incident_id: incident_id.to_string(),
            connection: i,
            ean: c.ean.clone(),
            kind,
            registered_cable_id: c.cable().to_string(),
            registered_feeder_id: c.feeder().to_string(),
            proposed_cable_id: proposal.map(|(_, k)| net.cables[k].id.clone()),
            proposed_feeder_id: proposal.map(|(_, k)| net.cables[k].feeder_id.clone()),
            proposed_distance_m: proposal.map(|(d, _)| (d * 10.0).round() / 10.0),
            logged_off_min: off_min,
            start_offset_min: start_offset,
            neighbours: near.len(),
            neighbours_agreeing: agreeing,
            confidence,
            evidence,
        });
    };
    for &i in logged.keys() {
        if !in_area.contains(&i) && smart(i) {
            consider(i, MismatchKind::LoggedOutsideFault);
        }
    }
    for &i in dead_area {
        if smart(i) && !logged.contains_key(&i) {
            consider(i, MismatchKind::DownstreamNotLogged);
        }
    }
    out
}

impl Mismatch {
    /// The mismatch as a suggestion for the topology review: move the connection to
    /// the proposed cable (its feeder follows from the cable). `None` when there is
    /// nothing to propose.
    pub fn to_draft(&self) -> Option<SuggestionDraft> {
        let cable = self.proposed_cable_id.clone()?;
        let mut facts = vec![
            ("incident".to_string(), self.incident_id.clone()),
            ("mismatch".to_string(), self.kind.as_str().to_string()),
            ("neighbours_agreeing".to_string(), format!("{}/{}", self.neighbours_agreeing, self.neighbours)),
        ];
        if let Some(m) = self.logged_off_min {
            facts.push(("logged_off_min".to_string(), m.to_string()));
        }
        if let Some(d) = self.proposed_distance_m {
            facts.push(("distance_m".to_string(), format!("{d:.0}")));
        }
        Some(SuggestionDraft {
            connection: self.connection,
            field: Field::Cable,
            new_value: FieldValue::Id(cable),
            confidence: self.confidence.clamp(0.0, 1.0),
            evidence: self.evidence.clone(),
            detail: EvidenceDetail::Facts(facts),
        })
    }
}

/// Suggestions for the review session from all mismatches; when one connection
/// has several, the most confident proposal wins.
pub fn to_drafts(mismatches: &[Mismatch]) -> Vec<SuggestionDraft> {
    let mut best: BTreeMap<usize, SuggestionDraft> = BTreeMap::new();
    for d in mismatches.iter().filter_map(Mismatch::to_draft) {
        match best.get(&d.connection) {
            Some(b) if b.confidence >= d.confidence => {}
            _ => {
                best.insert(d.connection, d);
            }
        }
    }
    best.into_values().collect()
}

//! Outages (use cases 1, 4, 9): fault localisation, interruption durations,
//! compensation, registration mismatches and the interruption register.
//!
//! [`analyse`] takes the network, its topology and the outage measurements
//! (meter logs, incident registrations, voltage-presence answers) and returns
//! everything per incident; [`export`] writes it as CSV.

pub mod compensation;
pub mod export;
pub mod interruptions;
pub mod localise;
pub mod mismatch;
pub mod register;
pub mod topo;

pub use compensation::{Compensation, CompensationClass, CompensationReason, compensation};
pub use interruptions::{IncidentGroup, Interval, MergedLog, group_incidents, merge_log};
pub use localise::{
    AskMeter, Candidate, Crew, FaultElement, Localisation, LocaliseParams, Observed, PresenceEpisode, localise, presence_episodes,
};
pub use mismatch::{Mismatch, MismatchKind, to_drafts};
pub use register::RegisterRow;
pub use topo::DeadSets;

use crate::model::time::Timestamp;
use crate::model::{Capacity, Incident, Measurements, MeterKind, Network, Topology};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutageOptions {
    /// See [`interruptions::MERGE_GAP_S`].
    pub merge_gap_s: i64,
    pub localise: LocaliseParams,
}

impl Default for OutageOptions {
    fn default() -> Self {
        OutageOptions { merge_gap_s: interruptions::MERGE_GAP_S, localise: LocaliseParams::default() }
    }
}

/// Where an interruption's duration comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DurationBasis {
    /// The meter's own power-failure log.
    MeterLog,
    /// A conventional meter downstream of the fault: the median start and end of
    /// the `reference_meters` smart meters on `reference` (a cable, or the faulted part).
    Topology { reference: String, reference_meters: usize },
}

impl DurationBasis {
    pub fn as_str(&self) -> &'static str {
        match self {
            DurationBasis::MeterLog => "meter_log",
            DurationBasis::Topology { .. } => "topology",
        }
    }
}

/// One connection's interruption in one incident.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionInterruption {
    pub incident_id: String,
    /// `None` for an EAN in the log that is not in the network.
    pub connection: Option<usize>,
    pub ean: String,
    /// First off and last back within the incident.
    pub start: Timestamp,
    pub end: Timestamp,
    /// Separate interruptions within the incident (after merging).
    pub interruptions: usize,
    /// Total time off (s).
    pub off_s: i64,
    /// Longest continuous interruption (s): the compensation is based on it.
    pub longest_s: i64,
    pub basis: DurationBasis,
    /// Registered downstream of the incident's fault (`None`: fault unknown).
    pub downstream_of_fault: Option<bool>,
    pub capacity: Capacity,
    pub compensation: Compensation,
}

/// How the faulted part of an incident was determined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultSource {
    /// The cable ids of the incident registration.
    Registered,
    /// Localised from voltage-presence answers.
    PresenceAnswers,
    /// Localised from which meters logged the outage.
    MeterLogs,
    /// Nothing to go on.
    Unknown,
}

impl FaultSource {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultSource::Registered => "registered",
            FaultSource::PresenceAnswers => "presence_answers",
            FaultSource::MeterLogs => "meter_logs",
            FaultSource::Unknown => "unknown",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentAnalysis {
    pub id: String,
    pub registered: Option<Incident>,
    pub planned: bool,
    /// The faulted part used for mismatches and for compensating conventional meters.
    pub fault: Vec<FaultElement>,
    pub fault_source: FaultSource,
    /// Connections registered downstream of the fault (sorted).
    pub dead_area: Vec<usize>,
    /// Localisation from the meter logs (which meters went off).
    pub log_localisation: Option<Localisation>,
    /// Index into [`OutageAnalysis::episodes`] of the presence answers during this incident.
    pub episode: Option<usize>,
    pub interruptions: Vec<ConnectionInterruption>,
    pub mismatches: Vec<Mismatch>,
    pub register: RegisterRow,
}

impl IncidentAnalysis {
    pub fn compensation_total_eur(&self) -> u64 {
        self.interruptions.iter().map(|i| i.compensation.amount_eur as u64).sum()
    }
}

/// Localisation from one episode of voltage-presence answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpisodeLocalisation {
    pub episode: PresenceEpisode,
    /// The incident the answers fall in, if any.
    pub incident_id: Option<String>,
    pub localisation: Localisation,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OutageAnalysis {
    pub incidents: Vec<IncidentAnalysis>,
    pub episodes: Vec<EpisodeLocalisation>,
    /// Things the user should know (left-out log entries, unknown EANs, ...).
    pub notes: Vec<String>,
}

impl OutageAnalysis {
    pub fn incident(&self, id: &str) -> Option<&IncidentAnalysis> {
        self.incidents.iter().find(|i| i.id == id)
    }
    /// Every registration mismatch, as suggestions for the topology review.
    pub fn suggestion_drafts(&self) -> Vec<crate::session::SuggestionDraft> {
        to_drafts(&self.incidents.iter().flat_map(|i| i.mismatches.iter().cloned()).collect::<Vec<_>>())
    }
}

/// The (suspected) outage windows: every registered incident and every group of
/// meter-log interruptions, as (first off or registered start, last back or
/// registered end). Voltage-presence answers may only be asked inside these
/// (privacy rule for use case 1).
pub fn outage_windows(m: &Measurements, merge_gap_s: i64) -> Vec<(Timestamp, Timestamp)> {
    let log = merge_log(&m.outage_log, merge_gap_s);
    let mut w: Vec<(Timestamp, Timestamp)> =
        group_incidents(&log, &m.incidents).iter().filter_map(|g| g.window()).map(|i| (i.start, i.end)).collect();
    w.extend(m.incidents.iter().map(|i| (i.start, i.end.max(i.start))));
    w.sort_unstable();
    w.dedup();
    w
}

/// The voltage-presence answers that may be used: those inside a (suspected)
/// outage window (with [`crate::privacy::rules::OUTAGE_WINDOW_MARGIN_S`]), and
/// how many were left out.
pub fn admissible_presence(m: &Measurements, merge_gap_s: i64) -> (Vec<crate::model::PresenceAnswer>, usize) {
    use crate::privacy::rules::{Period, in_any_window};
    let windows: Vec<Period> = outage_windows(m, merge_gap_s).into_iter().map(|(s, e)| Period::new(s, e)).collect();
    let kept: Vec<_> = m.presence.iter().filter(|a| in_any_window(&windows, a.timestamp)).cloned().collect();
    let left_out = m.presence.len() - kept.len();
    (kept, left_out)
}

fn median(v: &mut [Timestamp]) -> Option<Timestamp> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[v.len() / 2])
}

/// Everything per incident: who was off and for how long, compensation,
/// mismatches, the register row, and the localisations.
pub fn analyse(net: &Network, topo: &Topology, m: &Measurements, opts: &OutageOptions) -> OutageAnalysis {
    let mut out = OutageAnalysis::default();
    let dead_sets = DeadSets::new(net);
    let log = merge_log(&m.outage_log, opts.merge_gap_s);
    if !log.inverted.is_empty() {
        out.notes.push(format!(
            "{} outage-log entries end before they start and were left out (first: EAN {})",
            log.inverted.len(),
            log.inverted[0].ean
        ));
    }
    if log.merged_entries > 0 {
        out.notes.push(format!(
            "{} outage-log entries overlapped, repeated or followed another within {} s and were merged into it",
            log.merged_entries, opts.merge_gap_s
        ));
    }
    let unknown: Vec<&String> = log.by_ean.keys().filter(|e| net.connection_index(e).is_none()).collect();
    if !unknown.is_empty() {
        out.notes.push(format!(
            "{} EAN(s) in the outage log are not in the network (kept, compensated as {}): {}",
            unknown.len(),
            Capacity::default(),
            unknown.iter().take(5).map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    let groups = group_incidents(&log, &m.incidents);

    // Presence answers: localise each episode and link it to the incident it falls in.
    for ep in presence_episodes(net, &m.presence) {
        let loc = localise(net, topo, &dead_sets, &ep.observations, &opts.localise);
        let incident_id = groups
            .iter()
            .filter(|g| g.window().is_some_and(|w| ep.first >= w.start - interruptions::REGISTRATION_LEAD_S && ep.first <= w.end))
            .min_by_key(|g| g.window().map(|w| (ep.first - w.start).abs()))
            .map(|g| g.id.clone());
        if !ep.unknown_eans.is_empty() {
            out.notes.push(format!("{} voltage-presence answer(s) for EANs not in the network", ep.unknown_eans.len()));
        }
        out.episodes.push(EpisodeLocalisation { episode: ep, incident_id, localisation: loc });
    }

    for g in &groups {
        out.incidents.push(analyse_incident(net, topo, &dead_sets, g, &out.episodes, opts));
    }
    out
}

fn analyse_incident(
    net: &Network,
    topo: &Topology,
    dead_sets: &DeadSets,
    g: &IncidentGroup,
    episodes: &[EpisodeLocalisation],
    opts: &OutageOptions,
) -> IncidentAnalysis {
    let planned = g.planned();
    let logged: BTreeMap<usize, Vec<Interval>> =
        g.by_ean.iter().filter_map(|(e, v)| net.connection_index(e).map(|i| (i, v.clone()))).collect();

    // Localisation from the logs: a meter that logged is dead; a smart meter of the
    // same station(s) with an empty log was live.
    let stations: HashSet<&str> = logged.keys().map(|&i| net.connections[i].station_id.as_str()).collect();
    let mut obs: BTreeMap<usize, Option<Observed>> = BTreeMap::new();
    for (i, c) in net.connections.iter().enumerate() {
        if c.meter == MeterKind::Smart && stations.contains(c.station_id.as_str()) {
            obs.insert(i, Some(if logged.contains_key(&i) { Observed::Dead } else { Observed::Live }));
        }
    }
    let log_localisation = (!logged.is_empty()).then(|| localise(net, topo, dead_sets, &obs, &opts.localise));
    let episode = episodes.iter().position(|e| e.incident_id.as_deref() == Some(g.id.as_str()));

    // The faulted part: the registration's cables, else the presence answers, else the logs.
    let registered_cables: Vec<usize> =
        g.registered.iter().flat_map(|r| r.cable_ids.iter()).filter_map(|id| net.cable_index(id)).collect();
    let (fault, fault_source) = if !registered_cables.is_empty() {
        (registered_cables.iter().map(|&c| FaultElement::Cable(c)).collect::<Vec<_>>(), FaultSource::Registered)
    } else if let Some(b) = episode.and_then(|e| episodes[e].localisation.best()) {
        (vec![b.element.clone()], FaultSource::PresenceAnswers)
    } else if let Some(b) = log_localisation.as_ref().and_then(|l| l.best()) {
        (vec![b.element.clone()], FaultSource::MeterLogs)
    } else {
        (Vec::new(), FaultSource::Unknown)
    };
    let mut dead_area: Vec<usize> = fault.iter().flat_map(|e| dead_sets.of(net, topo, e)).collect();
    dead_area.sort_unstable();
    dead_area.dedup();
    let fault_cables: Vec<usize> = fault
        .iter()
        .flat_map(|e| match e {
            FaultElement::Cable(c) => topo.downstream_cables(*c),
            FaultElement::Feeder(f) => (0..net.cables.len()).filter(|&k| net.cables[k].feeder_id == *f).collect(),
            _ => Vec::new(),
        })
        .collect();
    let in_area: HashSet<usize> = dead_area.iter().copied().collect();
    let known_fault = fault_source != FaultSource::Unknown;

    // Per connection from its own log.
    let mut rows: Vec<ConnectionInterruption> = Vec::new();
    for (ean, ivs) in &g.by_ean {
        let conn = net.connection_index(ean);
        let capacity = conn.map(|i| net.connections[i].capacity).unwrap_or_default();
        let longest = ivs.iter().map(Interval::duration_s).max().unwrap_or(0);
        rows.push(ConnectionInterruption {
            incident_id: g.id.clone(),
            connection: conn,
            ean: ean.clone(),
            start: ivs.iter().map(|i| i.start).min().unwrap_or(0),
            end: ivs.iter().map(|i| i.end).max().unwrap_or(0),
            interruptions: ivs.len(),
            off_s: ivs.iter().map(Interval::duration_s).sum(),
            longest_s: longest,
            basis: DurationBasis::MeterLog,
            downstream_of_fault: known_fault.then(|| conn.is_some_and(|i| in_area.contains(&i))),
            capacity,
            compensation: compensation(capacity, longest, planned),
        });
    }
    // Conventional meters downstream of the fault: by topology, from the smart meters
    // on the same cable (else the whole faulted part), so nobody is skipped.
    let area_logged: Vec<usize> = logged.keys().copied().filter(|i| in_area.contains(i)).collect();
    for &i in &dead_area {
        let c = &net.connections[i];
        if c.meter != MeterKind::Conventional {
            continue;
        }
        let same_cable: Vec<usize> = area_logged.iter().copied().filter(|&j| net.connections[j].cable_id == c.cable_id).collect();
        let (reference, refs) = if same_cable.is_empty() {
            ("faulted part".to_string(), area_logged.clone())
        } else {
            (format!("cable {}", c.cable()), same_cable)
        };
        let (mut starts, mut ends): (Vec<Timestamp>, Vec<Timestamp>) =
            refs.iter().filter_map(|j| logged[j].first().map(|f| (f.start, logged[j].last().map_or(f.end, |l| l.end)))).unzip();
        let (Some(start), Some(end)) = (median(&mut starts), median(&mut ends)) else { continue };
        let d = (end - start).max(0);
        rows.push(ConnectionInterruption {
            incident_id: g.id.clone(),
            connection: Some(i),
            ean: c.ean.clone(),
            start,
            end,
            interruptions: 1,
            off_s: d,
            longest_s: d,
            basis: DurationBasis::Topology { reference, reference_meters: refs.len() },
            downstream_of_fault: Some(true),
            capacity: c.capacity,
            compensation: compensation(c.capacity, d, planned),
        });
    }
    rows.sort_by(|a, b| a.start.cmp(&b.start).then(a.ean.cmp(&b.ean)));

    let mismatches = if known_fault {
        mismatch::find(net, topo, &g.id, &dead_area, &fault_cables, &logged, g.first_off())
    } else {
        Vec::new()
    };
    let register = register::row(net, g, &fault, fault_source, &rows);
    IncidentAnalysis {
        id: g.id.clone(),
        registered: g.registered.clone(),
        planned,
        fault,
        fault_source,
        dead_area,
        log_localisation,
        episode,
        interruptions: rows,
        mismatches,
        register,
    }
}

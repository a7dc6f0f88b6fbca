//! The review session's state and the queries the UI needs: effective
//! (corrected) connection values, counts, filtered and sorted suggestions.

use super::command::History;
use super::persist::Autosave;
use super::suggestion::*;
use crate::analysis::AnalysisResult;
use crate::model::{Connection, Network, PhaseConnection, Rotation};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Supplies "now" for decision timestamps (replaceable in tests).
pub type Clock = Arc<dyn Fn() -> DateTime<FixedOffset> + Send + Sync>;

/// Now, in Dutch civil time with its offset (what the engineers' clocks show).
pub fn system_clock() -> Clock {
    Arc::new(|| crate::model::time::to_amsterdam(chrono::Utc::now().timestamp()))
}

/// The OS user name (`USER`, `USERNAME` or `LOGNAME`), or `unknown`.
pub fn os_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// A change the user made without a suggestion (manual reassignment).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManualEdit {
    pub connection: usize,
    pub ean: String,
    pub field: Field,
    /// As registered in GIS.
    pub old_value: FieldValue,
    pub value: FieldValue,
    pub decided_at: DateTime<FixedOffset>,
    pub by: String,
    pub note: Option<String>,
    /// See [`Decision::seq`].
    pub seq: u64,
}

/// A connection's values with the session's decisions and edits applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveConnection {
    /// `None`: not known in GIS and not filled in.
    pub phase: Option<PhaseConnection>,
    /// Meter terminal rotation when one was accepted or set; `None`: as GIS assumes (L1L2L3).
    pub rotation: Option<Rotation>,
    pub station_id: String,
    pub feeder_id: Option<String>,
    pub cable_id: Option<String>,
}

impl EffectiveConnection {
    /// Cable id, `""` when unknown.
    pub fn cable(&self) -> &str {
        self.cable_id.as_deref().unwrap_or("")
    }
    /// Feeder id, `""` when unknown.
    pub fn feeder(&self) -> &str {
        self.feeder_id.as_deref().unwrap_or("")
    }
    pub fn value(&self, field: Field) -> FieldValue {
        match field {
            Field::Phase => self.phase.map_or(FieldValue::Unknown, FieldValue::Phase),
            Field::Rotation => FieldValue::Rotation(self.rotation.unwrap_or(Rotation::IDENTITY)),
            Field::Feeder => self.feeder_id.clone().map_or(FieldValue::Unknown, FieldValue::Id),
            Field::Cable => self.cable_id.clone().map_or(FieldValue::Unknown, FieldValue::Id),
            Field::Station => FieldValue::Id(self.station_id.clone()),
        }
    }
}

/// A corrected connection whose values do not fit together, e.g. a feeder change
/// accepted without a cable on that feeder. Shown to the user before export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inconsistency {
    pub connection: usize,
    pub ean: String,
    pub message: String,
}

/// Numbers for the status bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub total: usize,
    pub pending: usize,
    pub accepted: usize,
    pub rejected: usize,
    pub edited: usize,
    /// Manual edits (without a suggestion) in force.
    pub manual_edits: usize,
}

/// Which suggestions to list. Empty fields match everything.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SuggestionFilter {
    /// Matches the connection's registered station or the one the suggestion moves it to.
    pub station: Option<String>,
    /// Matches the connection's registered feeder or the one the suggestion moves it to.
    pub feeder: Option<String>,
    pub status: Option<DecisionKind>,
    pub min_confidence: Option<f64>,
    pub max_confidence: Option<f64>,
    pub field: Option<Field>,
    pub source: Option<SuggestionSource>,
    /// Case-insensitive substring of EAN, street, postcode or address.
    pub search: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortBy {
    #[default]
    Confidence,
    Ean,
    Station,
    Feeder,
    Field,
    Status,
    /// Street, then house number, then addition.
    Address,
    DecidedAt,
}

/// The review/edit session over one network: suggestions with decisions,
/// manual edits, undo/redo and autosave. All changes go through
/// [`ReviewSession::apply`] with a [`SessionCommand`](super::SessionCommand).
#[derive(Clone)]
pub struct ReviewSession {
    pub(super) network: Arc<Network>,
    pub(super) analysis: Option<Arc<AnalysisResult>>,
    pub(super) suggestions: Vec<Suggestion>,
    pub(super) by_connection: HashMap<usize, Vec<SuggestionId>>,
    pub(super) edits: BTreeMap<(usize, Field), ManualEdit>,
    pub(super) history: History,
    pub(super) next_seq: u64,
    pub(super) user: String,
    pub(super) clock: Clock,
    pub(super) feeder_station: HashMap<String, String>,
    pub(super) autosave: Autosave,
    /// Bumped on every change of suggestions, decisions or edits.
    pub(super) revision: u64,
}

impl std::fmt::Debug for ReviewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReviewSession")
            .field("connections", &self.network.connections.len())
            .field("suggestions", &self.suggestions.len())
            .field("edits", &self.edits.len())
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl ReviewSession {
    /// A fresh session without autosave (see [`ReviewSession::open`] for the usual start).
    pub fn new(network: Arc<Network>) -> ReviewSession {
        let feeder_station = network.cables.iter().map(|c| (c.feeder_id.clone(), c.station_id.clone())).collect();
        ReviewSession {
            network,
            analysis: None,
            suggestions: Vec::new(),
            by_connection: HashMap::new(),
            edits: BTreeMap::new(),
            history: History::default(),
            next_seq: 1,
            user: os_user(),
            clock: system_clock(),
            feeder_station,
            autosave: Autosave::default(),
            revision: 0,
        }
    }

    pub fn network(&self) -> &Network {
        &self.network
    }
    pub fn network_arc(&self) -> &Arc<Network> {
        &self.network
    }
    pub fn analysis(&self) -> Option<&AnalysisResult> {
        self.analysis.as_deref()
    }
    /// Who decisions are attributed to (the OS user name by default).
    pub fn user(&self) -> &str {
        &self.user
    }
    pub fn set_user(&mut self, user: impl Into<String>) {
        self.user = user.into();
    }
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }
    /// Changes whenever suggestions, decisions or edits change: the UI can cache
    /// what it derives (map colours, plots) and rebuild only when this moves.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Sets (or replaces) the inference result and its suggestions. Decisions on
    /// suggestions the new result makes again are kept; decided suggestions it no
    /// longer makes are kept too (they are the user's work); pending ones it no
    /// longer makes disappear. Starts a new undo history.
    pub fn set_analysis(&mut self, result: AnalysisResult) {
        let drafts = from_analysis(&self.network, &result);
        self.analysis = Some(Arc::new(result));
        self.replace_suggestions(SuggestionSource::Inference, drafts);
    }

    /// Replaces the suggestions of one source (e.g. the outage analysis' registration
    /// mismatches), keeping decisions as [`Self::set_analysis`] does.
    pub fn replace_suggestions(&mut self, source: SuggestionSource, drafts: Vec<SuggestionDraft>) {
        let n = self.network.connections.len();
        let mut old: HashMap<(String, Field, String, SuggestionSource), Suggestion> = HashMap::new();
        let mut kept = Vec::with_capacity(self.suggestions.len() + drafts.len());
        for s in self.suggestions.drain(..) {
            if s.source == source {
                old.insert(s.key(), s);
            } else {
                kept.push(s);
            }
        }
        for d in drafts {
            if d.connection >= n || !d.new_value.fits(d.field) {
                continue; // a source bug must not break the session; such drafts cannot be shown either
            }
            let ean = self.network.connections[d.connection].ean.clone();
            let key = (ean.clone(), d.field, d.new_value.to_string(), source);
            let decision = old.remove(&key).map(|s| s.decision).unwrap_or_default();
            let old_value = gis_value(&self.network, d.connection, d.field);
            if old_value == d.new_value {
                continue;
            }
            kept.push(Suggestion {
                id: SuggestionId(0),
                connection: d.connection,
                ean,
                field: d.field,
                old_value,
                new_value: d.new_value,
                // Six decimals: plenty for a probability, and it survives the session file exactly.
                confidence: if d.confidence.is_finite() { (d.confidence.clamp(0.0, 1.0) * 1e6).round() / 1e6 } else { 0.0 },
                evidence: d.evidence,
                detail: d.detail,
                source,
                decision,
            });
        }
        // Decided suggestions the source no longer makes stay: they are the user's work.
        let mut leftovers: Vec<Suggestion> = old.into_values().filter(|s| s.decision.state != DecisionState::Pending).collect();
        leftovers.sort_by_key(|s| s.decision.seq);
        kept.extend(leftovers);
        self.set_suggestions(kept);
        self.history.clear();
        self.autosave_now();
    }

    /// Installs a suggestion list, numbering ids and indexing by connection.
    pub(super) fn set_suggestions(&mut self, mut list: Vec<Suggestion>) {
        self.revision += 1;
        self.by_connection.clear();
        for (i, s) in list.iter_mut().enumerate() {
            s.id = SuggestionId(i as u32);
            self.by_connection.entry(s.connection).or_default().push(s.id);
            self.next_seq = self.next_seq.max(s.decision.seq + 1);
        }
        self.suggestions = list;
    }

    /// All suggestions, indexed by [`SuggestionId`].
    pub fn suggestions(&self) -> &[Suggestion] {
        &self.suggestions
    }
    pub fn suggestion(&self, id: SuggestionId) -> Option<&Suggestion> {
        self.suggestions.get(id.index())
    }
    /// Suggestions about one connection.
    pub fn suggestions_for(&self, connection: usize) -> &[SuggestionId] {
        self.by_connection.get(&connection).map(Vec::as_slice).unwrap_or(&[])
    }
    /// Manual edits in force, by connection and field.
    pub fn manual_edits(&self) -> impl Iterator<Item = &ManualEdit> {
        self.edits.values()
    }
    pub fn manual_edit(&self, connection: usize, field: Field) -> Option<&ManualEdit> {
        self.edits.get(&(connection, field))
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts { total: self.suggestions.len(), manual_edits: self.edits.len(), ..Default::default() };
        for s in &self.suggestions {
            match s.decision.state.kind() {
                DecisionKind::Pending => c.pending += 1,
                DecisionKind::Accepted => c.accepted += 1,
                DecisionKind::Rejected => c.rejected += 1,
                DecisionKind::Edited => c.edited += 1,
            }
        }
        c
    }

    /// The latest applied value (with its seq) per field, from decisions and manual edits.
    fn overrides(&self, i: usize) -> [Option<(u64, &FieldValue)>; 5] {
        fn offer<'a>(out: &mut [Option<(u64, &'a FieldValue)>; 5], field: Field, seq: u64, v: &'a FieldValue) {
            let slot = &mut out[Field::ALL.iter().position(|f| *f == field).unwrap_or(0)];
            if slot.is_none_or(|(s, _)| seq > s) {
                *slot = Some((seq, v));
            }
        }
        let mut out: [Option<(u64, &FieldValue)>; 5] = [None; 5];
        for id in self.suggestions_for(i) {
            let s = &self.suggestions[id.index()];
            if let Some(v) = s.applied_value() {
                offer(&mut out, s.field, s.decision.seq, v);
            }
        }
        for f in Field::ALL {
            if let Some(e) = self.edits.get(&(i, f)) {
                offer(&mut out, f, e.seq, &e.value);
            }
        }
        out
    }

    /// The corrected phase of connection `i`, without building the whole
    /// [`EffectiveConnection`] (no allocation: for drawing many connections).
    pub fn effective_phase(&self, i: usize) -> Option<PhaseConnection> {
        match self.overrides(i)[0] {
            Some((_, FieldValue::Phase(p))) => Some(*p),
            _ => self.network.connections[i].phase,
        }
    }

    /// The connection as corrected by this session. A cable change brings the
    /// cable's feeder and station, a feeder change the feeder's station, unless a
    /// later decision sets them otherwise.
    pub fn effective(&self, i: usize) -> EffectiveConnection {
        let c = &self.network.connections[i];
        let [phase, rotation, feeder, cable, station] = self.overrides(i);
        let mut eff = EffectiveConnection {
            phase: match phase {
                Some((_, FieldValue::Phase(p))) => Some(*p),
                _ => c.phase,
            },
            rotation: match rotation {
                Some((_, FieldValue::Rotation(r))) => Some(*r),
                _ => None,
            },
            station_id: c.station_id.clone(),
            feeder_id: c.feeder_id.clone(),
            cable_id: c.cable_id.clone(),
        };
        let id = |o: Option<(u64, &FieldValue)>| o.and_then(|(s, v)| v.as_id().map(|v| (s, v.to_string())));
        let cable = id(cable);
        let mut feeder = id(feeder);
        let mut station = id(station);
        if let Some((seq, k)) = &cable {
            if let Some(ci) = self.network.cable_index(k) {
                let cab = &self.network.cables[ci];
                if feeder.as_ref().is_none_or(|(s, _)| seq > s) {
                    feeder = Some((*seq, cab.feeder_id.clone()));
                }
                if station.as_ref().is_none_or(|(s, _)| seq > s) {
                    station = Some((*seq, cab.station_id.clone()));
                }
            }
            eff.cable_id = Some(k.clone());
        }
        if let Some((seq, f)) = &feeder {
            if let Some(st) = self.feeder_station.get(f)
                && station.as_ref().is_none_or(|(s, _)| seq > s)
            {
                station = Some((*seq, st.clone()));
            }
            eff.feeder_id = Some(f.clone());
        }
        if let Some((_, s)) = station {
            eff.station_id = s;
        }
        eff
    }

    /// Fields of connection `i` whose effective value differs from GIS.
    pub fn changed_fields(&self, i: usize) -> Vec<Field> {
        let eff = self.effective(i);
        Field::ALL.into_iter().filter(|&f| eff.value(f) != gis_value(&self.network, i, f)).collect()
    }

    /// Connections with at least one field changed, in network order.
    pub fn changed_connections(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .suggestions
            .iter()
            .filter(|s| s.applied_value().is_some())
            .map(|s| s.connection)
            .chain(self.edits.keys().map(|(c, _)| *c))
            .collect();
        v.sort_unstable();
        v.dedup();
        v.retain(|&i| !self.changed_fields(i).is_empty());
        v
    }

    /// The connection with the session's corrections applied; every other
    /// attribute (address, `extra`, position) as in GIS. An accepted meter rotation
    /// goes into the `rotation` attribute.
    pub fn corrected_connection(&self, i: usize) -> Connection {
        let mut c = self.network.connections[i].clone();
        let eff = self.effective(i);
        c.phase = eff.phase;
        c.station_id = eff.station_id;
        c.feeder_id = eff.feeder_id;
        c.cable_id = eff.cable_id;
        if let Some(r) = eff.rotation {
            c.extra.insert("rotation".into(), serde_json::Value::String(r.to_string()));
        }
        c
    }

    /// All connections, corrected, in network order.
    pub fn corrected_connections(&self) -> Vec<Connection> {
        (0..self.network.connections.len()).map(|i| self.corrected_connection(i)).collect()
    }

    /// The network with corrected connections (stations and cables unchanged).
    pub fn corrected_network(&self) -> Network {
        let n = &self.network;
        Network::new(n.stations.clone(), n.cables.clone(), self.corrected_connections(), n.source_crs)
    }

    /// Corrected connections whose station, feeder and cable do not fit together.
    pub fn inconsistencies(&self) -> Vec<Inconsistency> {
        let mut out = Vec::new();
        for i in self.changed_connections() {
            let e = self.effective(i);
            let ean = self.network.connections[i].ean.clone();
            let mut push = |message: String| out.push(Inconsistency { connection: i, ean: ean.clone(), message });
            // A cable the GIS does not know has nothing to disagree with.
            match e.cable_id.as_deref().map(|id| (id, self.network.cable_index(id))) {
                None => {}
                Some((id, None)) => push(format!("cable {id} does not exist in the network")),
                Some((id, Some(ci))) => {
                    let cab = &self.network.cables[ci];
                    if let Some(f) = e.feeder_id.as_deref().filter(|f| *f != cab.feeder_id) {
                        push(format!("cable {id} belongs to feeder {}, not to feeder {f}", cab.feeder_id));
                    }
                    if cab.station_id != e.station_id {
                        push(format!("cable {id} belongs to station {}, not to station {}", cab.station_id, e.station_id));
                    }
                }
            }
            if e.rotation.is_some() && !e.phase.is_some_and(|p| p.is_three_phase()) {
                push("a meter rotation is set on a single-phase connection".into());
            }
        }
        out
    }

    /// Station and feeder a suggestion would put its connection on (for filters).
    fn suggested_place(&self, s: &Suggestion) -> (Option<String>, Option<String>) {
        match (&s.field, &s.new_value) {
            (Field::Cable, FieldValue::Id(k)) => match self.network.cable_index(k) {
                Some(ci) => (Some(self.network.cables[ci].station_id.clone()), Some(self.network.cables[ci].feeder_id.clone())),
                None => (None, None),
            },
            (Field::Feeder, FieldValue::Id(f)) => (self.feeder_station.get(f).cloned(), Some(f.clone())),
            (Field::Station, FieldValue::Id(st)) => (Some(st.clone()), None),
            _ => (None, None),
        }
    }

    /// `true` when the suggestion passes the filter.
    pub fn matches(&self, s: &Suggestion, f: &SuggestionFilter) -> bool {
        let c = &self.network.connections[s.connection];
        if f.status.is_some_and(|k| s.decision.state.kind() != k)
            || f.field.is_some_and(|x| s.field != x)
            || f.source.is_some_and(|x| s.source != x)
            || f.min_confidence.is_some_and(|m| s.confidence < m)
            || f.max_confidence.is_some_and(|m| s.confidence > m)
        {
            return false;
        }
        if f.station.is_some() || f.feeder.is_some() {
            let (st, fe) = self.suggested_place(s);
            if let Some(want) = &f.station
                && c.station_id != *want
                && st.as_deref() != Some(want)
            {
                return false;
            }
            if let Some(want) = &f.feeder
                && c.feeder_id.as_ref() != Some(want)
                && fe.as_deref() != Some(want)
            {
                return false;
            }
        }
        if let Some(q) = f.search.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let q = q.to_lowercase();
            let hay = [
                c.ean.to_lowercase(),
                c.address().to_lowercase(),
                c.postcode.clone().unwrap_or_default().to_lowercase().replace(' ', ""),
            ];
            if !hay.iter().any(|h| h.contains(&q) || h.contains(&q.replace(' ', ""))) {
                return false;
            }
        }
        true
    }

    /// Suggestions passing `filter`, sorted by `sort` (ties by EAN, then field).
    pub fn query(&self, filter: &SuggestionFilter, sort: SortBy, descending: bool) -> Vec<SuggestionId> {
        let mut v: Vec<&Suggestion> = self.suggestions.iter().filter(|s| self.matches(s, filter)).collect();
        let conn = |s: &Suggestion| &self.network.connections[s.connection];
        v.sort_by(|a, b| {
            let primary = match sort {
                SortBy::Confidence => a.confidence.total_cmp(&b.confidence),
                SortBy::Ean => Ordering::Equal,
                SortBy::Station => conn(a).station_id.cmp(&conn(b).station_id),
                SortBy::Feeder => conn(a).feeder_id.cmp(&conn(b).feeder_id),
                SortBy::Field => a.field.cmp(&b.field),
                SortBy::Status => a.decision.state.kind().cmp(&b.decision.state.kind()),
                SortBy::Address => {
                    let (ca, cb) = (conn(a), conn(b));
                    (&ca.street, ca.house_number, &ca.house_number_addition).cmp(&(
                        &cb.street,
                        cb.house_number,
                        &cb.house_number_addition,
                    ))
                }
                SortBy::DecidedAt => a.decision.decided_at.cmp(&b.decision.decided_at),
            };
            let primary = if descending { primary.reverse() } else { primary };
            primary.then_with(|| a.ean.cmp(&b.ean)).then_with(|| a.field.cmp(&b.field)).then_with(|| a.id.cmp(&b.id))
        });
        v.into_iter().map(|s| s.id).collect()
    }
}

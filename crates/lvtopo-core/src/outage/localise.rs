//! Fault localisation (use case 1): from "voltage present?" answers (or from
//! which meters logged an outage) to the part of the network that failed.
//!
//! Candidates are the elements upstream of at least one dead meter: the
//! connection itself, each cable section on its path from the station (a fault
//! there takes out the section and everything fed through it), its feeder and
//! its station. Elements that would take out exactly the same connections
//! cannot be told apart by meters and are merged into one candidate.
//!
//! The model: answers are independent; a meter registered inside the dead
//! area still has voltage with probability `eps_in` (it is really on another
//! cable, or answers wrongly), and a meter registered outside it has none with
//! the much smaller probability `eps_out` (it is really on a cable in the dead
//! area, or answers wrongly). A candidate whose dead area holds `d` dead and
//! `l` live answers then has, relative to "all answers outside", likelihood
//! `w_dead^d * w_live^l` with `w_dead = (1 - eps_in) / eps_out` and
//! `w_live = eps_in / (1 - eps_out)`; with every distinct candidate equally
//! likely beforehand, normalising gives its probability. Meters that did not
//! answer and conventional meters are not evidence.

use super::topo::DeadSets;
use crate::model::time::Timestamp;
use crate::model::{MeterKind, Network, PresenceAnswer, Topology};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// Answers further apart than this belong to different suspected outages.
pub const EPISODE_GAP_S: i64 = 3 * 3600;
/// Probability at which a candidate counts as decided.
pub const DECIDED: f64 = 0.95;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LocaliseParams {
    /// Chance that a connection is registered on the wrong cable or feeder.
    pub p_registration_error: f64,
    /// Chance that a connection registered outside a given dead area really sits in it.
    pub p_really_inside: f64,
    /// Chance that a meter's answer itself is wrong.
    pub p_answer_error: f64,
    /// How many meters to propose asking next.
    pub ask_max: usize,
}

impl Default for LocaliseParams {
    fn default() -> Self {
        // About 5 % of connections sit on another feeder or section than GIS says
        // (the operators' own estimate for post-war networks); meters rarely answer wrong.
        // Of the connections registered elsewhere only the few on neighbouring
        // cables can really be in a given dead area.
        LocaliseParams { p_registration_error: 0.05, p_really_inside: 0.005, p_answer_error: 0.005, ask_max: 8 }
    }
}

impl LocaliseParams {
    /// P(voltage present | registered inside the dead area).
    pub fn eps_in(&self) -> f64 {
        (self.p_registration_error + self.p_answer_error).clamp(1e-6, 0.49)
    }
    /// P(no voltage | registered outside the dead area).
    pub fn eps_out(&self) -> f64 {
        (self.p_really_inside + self.p_answer_error).clamp(1e-6, 0.49)
    }
}

/// A part of the network that may have failed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FaultElement {
    /// One connection: its service cable, fuse or meter cabinet.
    Connection(usize),
    /// A cable section; it and everything fed through it are dead.
    Cable(usize),
    /// A whole LV feeder (its fuse at the station or its first section).
    Feeder(String),
    /// The whole station (transformer, LV board or the MV side).
    Station(usize),
}

/// Who to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Crew {
    MeterCabinetMechanic,
    CableCrew,
    StationCrew,
}

impl Crew {
    pub fn as_str(self) -> &'static str {
        match self {
            Crew::MeterCabinetMechanic => "meter-cabinet mechanic",
            Crew::CableCrew => "cable crew",
            Crew::StationCrew => "station crew",
        }
    }
}

impl fmt::Display for Crew {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FaultElement {
    pub fn crew(&self) -> Crew {
        match self {
            FaultElement::Connection(_) => Crew::MeterCabinetMechanic,
            FaultElement::Cable(_) | FaultElement::Feeder(_) => Crew::CableCrew,
            FaultElement::Station(_) => Crew::StationCrew,
        }
    }
    pub fn kind(&self) -> &'static str {
        match self {
            FaultElement::Connection(_) => "connection",
            FaultElement::Cable(_) => "cable",
            FaultElement::Feeder(_) => "feeder",
            FaultElement::Station(_) => "station",
        }
    }
    /// EAN, cable id, feeder id or station id.
    pub fn id(&self, net: &Network) -> String {
        match self {
            FaultElement::Connection(i) => net.connections.get(*i).map(|c| c.ean.clone()).unwrap_or_default(),
            FaultElement::Cable(i) => net.cables.get(*i).map(|c| c.id.clone()).unwrap_or_default(),
            FaultElement::Feeder(f) => f.clone(),
            FaultElement::Station(i) => net.stations.get(*i).map(|s| s.id.clone()).unwrap_or_default(),
        }
    }
    /// "cable C-12" etc.
    pub fn label(&self, net: &Network) -> String {
        format!("{} {}", self.kind(), self.id(net))
    }
    /// Smaller elements first; among cables the one nearer the station first.
    fn rank(&self, topo: &Topology) -> (u8, usize) {
        match self {
            FaultElement::Connection(i) => (0, *i),
            FaultElement::Cable(c) => (1, topo.path_from_station(*c).len()),
            FaultElement::Feeder(_) => (2, 0),
            FaultElement::Station(s) => (3, *s),
        }
    }
}

/// What one meter said during one suspected outage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Observed {
    /// Answered: voltage present.
    Live,
    /// Answered: no voltage (or logged the outage).
    Dead,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub element: FaultElement,
    /// Elements that would take out exactly the same connections (meters cannot tell them apart).
    pub equivalent: Vec<FaultElement>,
    pub crew: Crew,
    /// Connections (by registration) the element feeds.
    pub connections: usize,
    /// Dead answers inside / live answers inside (contradictions) / dead answers outside (contradictions).
    pub dead_inside: usize,
    pub live_inside: usize,
    pub dead_outside: usize,
    /// Connections inside without evidence (no answer, or conventional meter).
    pub unknown_inside: usize,
    /// Posterior probability in [0, 1].
    pub probability: f64,
}

/// A meter worth asking next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AskMeter {
    pub connection: usize,
    pub ean: String,
    /// Predicted chance that it answers "no voltage".
    pub p_dead: f64,
    /// Expected information from its answer about the candidates (bits).
    pub information_bits: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Localisation {
    /// Best first; probabilities sum to 1 over all candidates (only the top ones are kept).
    pub candidates: Vec<Candidate>,
    pub dead_answers: usize,
    pub live_answers: usize,
    /// Smart meters asked that gave no answer.
    pub no_answers: usize,
    /// The model's error rates (see the module documentation).
    pub eps_in: f64,
    pub eps_out: f64,
    /// `true` when the best candidate reaches [`DECIDED`].
    pub decided: bool,
    /// Answers consistent with the second candidate needed to decide between the
    /// top two either way (0 when decided; `None` with fewer than two candidates).
    pub answers_needed: Option<usize>,
    /// Meters that can still be asked and whose answers tell the top two apart.
    pub askable_between_top_two: usize,
    pub ask_next: Vec<AskMeter>,
    /// Plain-language summary.
    pub summary: String,
}

impl Localisation {
    pub fn best(&self) -> Option<&Candidate> {
        self.candidates.first()
    }
}

/// Binary entropy in bits.
fn h2(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    -(p * p.log2() + (1.0 - p) * (1.0 - p).log2())
}

/// Localises from one observation per connection (index into `net.connections`;
/// `None`: asked but no answer). Conventional meters' observations are ignored.
pub fn localise(
    net: &Network,
    topo: &Topology,
    dead_sets: &DeadSets,
    obs: &BTreeMap<usize, Option<Observed>>,
    params: &LocaliseParams,
) -> Localisation {
    let (eps_in, eps_out) = (params.eps_in(), params.eps_out());
    let lw_dead = ((1.0 - eps_in) / eps_out).ln();
    let lw_live = (eps_in / (1.0 - eps_out)).ln();
    // Each answer between two candidates moves their odds by at least this factor.
    let lw_min = lw_dead.min(-lw_live);
    let smart = |i: usize| net.connections.get(i).is_some_and(|c| c.meter == MeterKind::Smart);
    let answer: HashMap<usize, Observed> =
        obs.iter().filter(|(i, _)| smart(**i)).filter_map(|(i, o)| o.map(|o| (*i, o))).collect();
    let dead_total = answer.values().filter(|o| **o == Observed::Dead).count();
    let live_total = answer.len() - dead_total;
    let no_answers = obs.iter().filter(|(i, o)| smart(**i) && o.is_none()).count();

    // Candidate elements: everything upstream of a dead meter.
    let mut elements: Vec<FaultElement> = Vec::new();
    let mut seen: HashSet<FaultElement> = HashSet::new();
    let mut dead: Vec<usize> = answer.iter().filter(|(_, o)| **o == Observed::Dead).map(|(i, _)| *i).collect();
    dead.sort_unstable();
    for &k in &dead {
        let c = &net.connections[k];
        let mut push = |e: FaultElement| {
            if seen.insert(e.clone()) {
                elements.push(e);
            }
        };
        push(FaultElement::Connection(k));
        if let Some(ci) = topo.attachments[k].map(|a| a.cable) {
            for p in topo.path_from_station(ci) {
                push(FaultElement::Cable(p));
            }
            push(FaultElement::Feeder(net.cables[ci].feeder_id.clone()));
        } else {
            push(FaultElement::Feeder(c.feeder_label()));
        }
        if let Some(s) = net.station_index(&c.station_id) {
            push(FaultElement::Station(s));
        }
    }

    // Merge elements with identical dead sets; keep the smallest as representative.
    let mut by_set: HashMap<Vec<usize>, usize> = HashMap::new();
    let mut groups: Vec<(Vec<usize>, Vec<FaultElement>)> = Vec::new();
    for e in elements {
        let set = dead_sets.of(net, topo, &e);
        match by_set.get(&set) {
            Some(&g) => groups[g].1.push(e),
            None => {
                by_set.insert(set.clone(), groups.len());
                groups.push((set, vec![e]));
            }
        }
    }
    let mut cands: Vec<(Candidate, f64, Vec<usize>)> = groups
        .into_iter()
        .map(|(set, mut els)| {
            els.sort_by_key(|e| e.rank(topo));
            let element = els.remove(0);
            let (mut d, mut l, mut u) = (0, 0, 0);
            for &i in &set {
                match answer.get(&i) {
                    Some(Observed::Dead) => d += 1,
                    Some(Observed::Live) => l += 1,
                    None => u += 1,
                }
            }
            let log_like = d as f64 * lw_dead + l as f64 * lw_live;
            let cand = Candidate {
                crew: element.crew(),
                element,
                equivalent: els,
                connections: set.len(),
                dead_inside: d,
                live_inside: l,
                dead_outside: dead_total - d,
                unknown_inside: u,
                probability: 0.0,
            };
            (cand, log_like, set)
        })
        .collect();
    let max_ll = cands.iter().map(|c| c.1).fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = cands.iter().map(|c| (c.1 - max_ll).exp()).sum();
    for c in &mut cands {
        c.0.probability = (c.1 - max_ll).exp() / z;
    }
    // Best first; ties go to the smaller element (fewer connections), then the smaller kind.
    cands.sort_by(|a, b| {
        b.0.probability
            .total_cmp(&a.0.probability)
            .then(a.0.connections.cmp(&b.0.connections))
            .then(a.0.element.rank(topo).cmp(&b.0.element.rank(topo)))
    });

    // Which meters to ask: those whose answer is most uncertain over the candidates.
    let top: Vec<&(Candidate, f64, Vec<usize>)> = cands.iter().take_while(|c| c.0.probability > 1e-4).take(20).collect();
    let member: Vec<HashSet<usize>> = top.iter().map(|c| c.2.iter().copied().collect()).collect();
    let mut askable: Vec<usize> = member.iter().flatten().copied().filter(|i| smart(*i) && !answer.contains_key(i)).collect();
    askable.sort_unstable();
    askable.dedup();
    let mass: f64 = top.iter().map(|c| c.0.probability).sum::<f64>().max(1e-12);
    let mut ask: Vec<AskMeter> = askable
        .iter()
        .map(|&m| {
            let p_dead = top
                .iter()
                .zip(&member)
                .map(|(c, set)| c.0.probability * if set.contains(&m) { 1.0 - eps_in } else { eps_out })
                .sum::<f64>()
                / mass;
            // Mutual information between the answer and the candidate: H(answer) - H(answer | candidate).
            let noise = top
                .iter()
                .zip(&member)
                .map(|(c, set)| c.0.probability * if set.contains(&m) { h2(eps_in) } else { h2(eps_out) })
                .sum::<f64>()
                / mass;
            AskMeter {
                connection: m,
                ean: net.connections[m].ean.clone(),
                p_dead,
                information_bits: (h2(p_dead) - noise).max(0.0),
            }
        })
        .filter(|a| a.information_bits > 0.01)
        .collect();
    ask.sort_by(|a, b| b.information_bits.total_cmp(&a.information_bits).then(a.connection.cmp(&b.connection)));
    ask.truncate(params.ask_max);

    let decided = cands.first().is_some_and(|c| c.0.probability >= DECIDED);
    let (answers_needed, askable_between) = match (cands.first(), cands.get(1)) {
        (Some(a), Some(b)) => {
            let sa: HashSet<usize> = a.2.iter().copied().collect();
            let sb: HashSet<usize> = b.2.iter().copied().collect();
            let between = sa.symmetric_difference(&sb).filter(|i| smart(**i) && !answer.contains_key(i)).count();
            let n = if decided {
                0
            } else {
                let ratio = (a.0.probability / b.0.probability.max(1e-300)).ln();
                (((DECIDED / (1.0 - DECIDED)).ln() + ratio) / lw_min).ceil().max(1.0) as usize
            };
            (Some(n), between)
        }
        _ => (None, 0),
    };

    let mut summary = match cands.first() {
        None => "no meter reported an outage: nothing to localise".to_string(),
        Some(b) => format!(
            "{} ({:.0} %): send the {}; {} of {} dead answers inside, {} live answer(s) inside, {} dead outside",
            b.0.element.label(net),
            b.0.probability * 100.0,
            b.0.crew,
            b.0.dead_inside,
            dead_total,
            b.0.live_inside,
            b.0.dead_outside
        ),
    };
    if let (Some(n), Some(second)) = (answers_needed, cands.get(1))
        && n > 0
    {
        summary.push_str(&format!(
            "; not decided against {} ({:.0} %): ",
            second.0.element.label(net),
            second.0.probability * 100.0
        ));
        if askable_between == 0 {
            summary.push_str("no meter left to ask between them: inspect on site");
        } else {
            summary.push_str(&format!("at most {n} more answer(s) from the {askable_between} meter(s) between them decide"));
        }
    }

    Localisation {
        candidates: cands.into_iter().take(10).map(|c| c.0).collect(),
        dead_answers: dead_total,
        live_answers: live_total,
        no_answers,
        eps_in,
        eps_out,
        decided,
        answers_needed,
        askable_between_top_two: askable_between,
        ask_next: ask,
        summary,
    }
}

/// The answers of one suspected outage (answers close together in time).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PresenceEpisode {
    pub first: Timestamp,
    pub last: Timestamp,
    /// Per connection: dead if any answer said "no voltage", else live if any said
    /// "voltage present", else `None` (asked, no answer).
    pub observations: BTreeMap<usize, Option<Observed>>,
    /// Answers for EANs that are not in the network.
    pub unknown_eans: Vec<String>,
}

/// Splits answers into episodes at gaps over [`EPISODE_GAP_S`].
pub fn presence_episodes(net: &Network, answers: &[PresenceAnswer]) -> Vec<PresenceEpisode> {
    let mut sorted: Vec<&PresenceAnswer> = answers.iter().collect();
    sorted.sort_by_key(|a| (a.timestamp, a.ean.clone()));
    let mut out: Vec<PresenceEpisode> = Vec::new();
    for a in sorted {
        if out.last().is_none_or(|e| a.timestamp - e.last > EPISODE_GAP_S) {
            out.push(PresenceEpisode {
                first: a.timestamp,
                last: a.timestamp,
                observations: BTreeMap::new(),
                unknown_eans: Vec::new(),
            });
        }
        let e = out.last_mut().expect("pushed above");
        e.last = a.timestamp;
        let Some(i) = net.connection_index(&a.ean) else {
            if !e.unknown_eans.contains(&a.ean) {
                e.unknown_eans.push(a.ean.clone());
            }
            continue;
        };
        let new = a.voltage_present.map(|p| if p { Observed::Live } else { Observed::Dead });
        let slot = e.observations.entry(i).or_insert(None);
        *slot = match (*slot, new) {
            (Some(Observed::Dead), _) | (_, Some(Observed::Dead)) => Some(Observed::Dead),
            (Some(Observed::Live), _) | (_, Some(Observed::Live)) => Some(Observed::Live),
            _ => None,
        };
    }
    out
}

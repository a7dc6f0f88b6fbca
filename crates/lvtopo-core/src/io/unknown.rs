//! What the GIS does not know: counting the unknown values of a layer, and giving a
//! cable section without `feeder_id` its feeder from the connectivity to its station.

use super::report::ImportReport;
use crate::model::topology::cable_end_nodes;
use crate::model::{Cable, Station};
use std::collections::{HashMap, VecDeque};

pub use crate::model::placement::SegmentIndex;

/// Counts one accepted feature's unknown columns in its file's summary.
pub(super) fn count(report: &mut ImportReport, fi: usize, columns: &[&'static str]) {
    let s = report.file_mut(fi);
    for c in columns {
        *s.unknown.entry((*c).to_string()).or_default() += 1;
    }
}

/// A bus bar node is within this distance of its station point: feeders run apart from it.
const STATION_NODE_M: f64 = 2.0;

/// Gives every cable with `feeder_derived` set its feeder: the feeder of the nearest
/// (in sections) registered cable of the same station it is connected to; cables that
/// reach no registered one form feeders of their own, one per group of sections that
/// hang together once the station's bus bar node is left out, named
/// `<station_id>/V<n>` (numbered per station in file order). Returns one line for the
/// report per station with derived feeders.
pub fn derive_cable_feeders(stations: &[Station], cables: &mut [Cable]) -> Vec<String> {
    if !cables.iter().any(|c| c.feeder_derived) {
        return Vec::new();
    }
    let (nodes, ends) = cable_end_nodes(cables);
    let station_pos: HashMap<&str, _> = stations.iter().map(|s| (s.id.as_str(), s.pos)).collect();
    // A node at a station's bus bar joins nothing: every feeder starts there.
    let at_busbar = |n: usize, st: &str| station_pos.get(st).is_some_and(|p| p.distance_m(&nodes[n].pos) <= STATION_NODE_M);
    let mut by_node: HashMap<usize, Vec<usize>> = HashMap::new();
    for (ci, e) in ends.iter().enumerate() {
        for &n in e {
            by_node.entry(n).or_default().push(ci);
        }
    }
    let neighbours = |ci: usize, cables: &[Cable]| -> Vec<usize> {
        let st = cables[ci].station_id.as_str();
        ends[ci]
            .iter()
            .filter(|&&n| !at_busbar(n, st))
            .flat_map(|n| by_node[n].iter().copied())
            .filter(|&k| k != ci && cables[k].station_id == st)
            .collect()
    };
    // Multi-source breadth-first search from the registered cables.
    let mut queue: VecDeque<usize> = (0..cables.len()).filter(|&i| !cables[i].feeder_derived).collect();
    let mut feeder: Vec<Option<String>> = cables.iter().map(|c| (!c.feeder_derived).then(|| c.feeder_id.clone())).collect();
    while let Some(ci) = queue.pop_front() {
        for k in neighbours(ci, cables) {
            if feeder[k].is_none() {
                feeder[k] = feeder[ci].clone();
                queue.push_back(k);
            }
        }
    }
    // Groups that reach no registered cable: a feeder each.
    let mut per_station: Vec<(String, usize, usize)> = Vec::new(); // (station, from neighbours, new feeders)
    let mut new_count: HashMap<String, usize> = HashMap::new();
    for ci in 0..cables.len() {
        if feeder[ci].is_some() {
            continue;
        }
        let st = cables[ci].station_id.clone();
        let n = new_count.entry(st.clone()).or_default();
        *n += 1;
        let name = format!("{st}/V{n}");
        feeder[ci] = Some(name.clone());
        let mut q = VecDeque::from([ci]);
        while let Some(x) = q.pop_front() {
            for k in neighbours(x, cables) {
                if feeder[k].is_none() {
                    feeder[k] = Some(name.clone());
                    q.push_back(k);
                }
            }
        }
    }
    for (c, f) in cables.iter_mut().zip(feeder) {
        if c.feeder_derived {
            let st = c.station_id.clone();
            match per_station.iter_mut().find(|x| x.0 == st) {
                Some(x) => x.1 += 1,
                None => per_station.push((st, 1, 0)),
            }
            c.feeder_id = f.expect("every cable has a feeder now");
        }
    }
    for x in &mut per_station {
        x.2 = new_count.get(&x.0).copied().unwrap_or(0);
    }
    per_station
        .into_iter()
        .map(|(st, n, new)| {
            format!(
                "station {st:?}: {n} section(s) without feeder_id got their feeder from the connectivity to the station \
                 ({new} feeder(s) named {st}/V1.. because none of their sections is registered)"
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::{cable, pt};

    fn station() -> Station {
        Station { id: "S".into(), name: None, pos: pt(0.0, 0.0), extra: Default::default() }
    }

    fn unknown(mut c: Cable) -> Cable {
        c.feeder_derived = true;
        c.feeder_id.clear();
        c
    }

    #[test]
    fn feeder_follows_the_connected_registered_section() {
        let mut cables = vec![
            cable("A1", "F1", &[(0.0, 0.0), (100.0, 0.0)]),
            unknown(cable("A2", "", &[(100.0, 0.0), (200.0, 0.0)])),
            cable("B1", "F2", &[(0.0, 0.0), (0.0, 100.0)]),
            unknown(cable("B2", "", &[(0.0, 100.0), (0.0, 200.0)])),
        ];
        let msgs = derive_cable_feeders(&[station()], &mut cables);
        assert_eq!(cables[1].feeder_id, "F1");
        assert_eq!(cables[3].feeder_id, "F2", "the bus bar node does not join F1 and F2");
        assert_eq!(msgs.len(), 1);
        assert!(msgs[0].contains("2 section(s)"), "{}", msgs[0]);
    }

    #[test]
    fn a_station_without_any_feeder_ids_gets_one_feeder_per_group() {
        let mut cables = vec![
            unknown(cable("A1", "", &[(0.0, 0.0), (100.0, 0.0)])),
            unknown(cable("B1", "", &[(0.0, 0.0), (0.0, 100.0)])),
            unknown(cable("A2", "", &[(100.0, 0.0), (200.0, 0.0)])),
        ];
        derive_cable_feeders(&[station()], &mut cables);
        let f: Vec<&str> = cables.iter().map(|c| c.feeder_id.as_str()).collect();
        assert_eq!(f, ["S/V1", "S/V2", "S/V1"]);
    }
}

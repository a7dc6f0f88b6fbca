//! Which connections (by registration) an element of the network feeds.

use super::localise::FaultElement;
use crate::model::{Network, Topology};
use std::collections::HashMap;

/// Connections per cable, feeder and station, as registered in GIS.
#[derive(Clone, Debug, Default)]
pub struct DeadSets {
    per_cable: Vec<Vec<usize>>,
    per_feeder: HashMap<String, Vec<usize>>,
    per_station: HashMap<String, Vec<usize>>,
}

impl DeadSets {
    pub fn new(net: &Network) -> DeadSets {
        let mut d = DeadSets { per_cable: vec![Vec::new(); net.cables.len()], ..Default::default() };
        for (i, c) in net.connections.iter().enumerate() {
            // The registered cable decides; its feeder and station follow from it
            // (a connection whose cable does not exist falls back on its own fields).
            let (feeder, station) = match c.cable_id.as_deref().and_then(|id| net.cable_index(id)) {
                Some(ci) => {
                    d.per_cable[ci].push(i);
                    (net.cables[ci].feeder_id.clone(), net.cables[ci].station_id.clone())
                }
                None => (c.feeder_label(), c.station_id.clone()),
            };
            d.per_feeder.entry(feeder).or_default().push(i);
            d.per_station.entry(station).or_default().push(i);
        }
        d
    }

    /// Connections registered on the cable itself.
    pub fn on_cable(&self, cable: usize) -> &[usize] {
        self.per_cable.get(cable).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Connections that lose supply when `cables` fail (each with everything fed through it); sorted.
    pub fn of_cables(&self, topo: &Topology, cables: &[usize]) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        let mut done = std::collections::HashSet::new();
        for &c in cables {
            for d in topo.downstream_cables(c) {
                if done.insert(d) {
                    out.extend_from_slice(self.on_cable(d));
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Connections that lose supply when `e` fails; sorted.
    pub fn of(&self, net: &Network, topo: &Topology, e: &FaultElement) -> Vec<usize> {
        let mut v = match e {
            FaultElement::Connection(i) => vec![*i],
            FaultElement::Cable(c) => return self.of_cables(topo, &[*c]),
            FaultElement::Feeder(f) => self.per_feeder.get(f).cloned().unwrap_or_default(),
            FaultElement::Station(s) => {
                net.stations.get(*s).and_then(|st| self.per_station.get(&st.id)).cloned().unwrap_or_default()
            }
        };
        v.sort_unstable();
        v
    }
}

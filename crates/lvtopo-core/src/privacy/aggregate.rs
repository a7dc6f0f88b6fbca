//! Aggregates only (use cases 11, 13, 14): load, feed-in and EV charging as
//! sums over areas with at least k connections.
//!
//! Grouping, bottom-up: an area (feeder, station, PC4, PC3) with at least k
//! contributing connections is its own group. The smaller areas under one
//! enclosing area (feeder -> station; PC4 -> PC3 -> PC2) are pooled into one
//! group reported under that enclosing area. If that pool is still below k it
//! joins the smallest group already formed in the enclosing area; with none
//! there, it moves one level up. Small areas are never published next to the
//! total of their enclosing area, so no small group can be recovered by
//! subtraction. Per time step a sum is only given when at least k connections
//! have a value at that step.

use super::ev::EvDetection;
use crate::model::time::format_amsterdam;
use crate::model::{FeedInTable, Network, TimeGrid};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

pub const DEFAULT_MIN_GROUP_SIZE: usize = 10;
/// The setting cannot go below this.
pub const MIN_GROUP_SIZE_FLOOR: usize = 5;

/// The minimum number of connections behind any shown or exported aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinGroupSize(usize);

impl MinGroupSize {
    pub fn new(k: usize) -> Result<MinGroupSize, String> {
        if k < MIN_GROUP_SIZE_FLOOR {
            Err(format!(
                "minimum group size {k} is below the floor of {MIN_GROUP_SIZE_FLOOR}: with fewer connections a household can be singled out"
            ))
        } else {
            Ok(MinGroupSize(k))
        }
    }
    pub fn get(self) -> usize {
        self.0
    }
}

impl Default for MinGroupSize {
    fn default() -> Self {
        MinGroupSize(DEFAULT_MIN_GROUP_SIZE)
    }
}

/// The area level an aggregate is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaLevel {
    Feeder,
    Station,
    Pc4,
    Pc3,
}

impl std::str::FromStr for AreaLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "feeder" => Ok(AreaLevel::Feeder),
            "station" => Ok(AreaLevel::Station),
            "pc4" | "postcode4" => Ok(AreaLevel::Pc4),
            "pc3" | "postcode3" => Ok(AreaLevel::Pc3),
            o => Err(format!("expected feeder, station, pc4 or pc3, found {o:?}")),
        }
    }
}

/// An area at some level; `id` is `?` when unknown (no postcode).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Area {
    pub kind: String,
    pub id: String,
}

impl Area {
    fn new(kind: &str, id: impl Into<String>) -> Area {
        Area { kind: kind.to_string(), id: id.into() }
    }
    fn network() -> Area {
        Area::new("network", "all")
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.id)
    }
}

/// The areas a connection lies in, from `level` up to the whole network.
fn area_path(net: &Network, c: usize, level: AreaLevel) -> Vec<Area> {
    let conn = &net.connections[c];
    let digits: String = conn.postcode.as_deref().unwrap_or("").chars().filter(|c| c.is_ascii_digit()).collect();
    let pc = |n: usize, kind: &str| Area::new(kind, if digits.len() >= 4 { digits[..n].to_string() } else { "?".into() });
    match level {
        AreaLevel::Feeder => {
            vec![Area::new("feeder", conn.feeder_label()), Area::new("station", conn.station_id.clone()), Area::network()]
        }
        AreaLevel::Station => vec![Area::new("station", conn.station_id.clone()), Area::network()],
        AreaLevel::Pc4 => vec![pc(4, "pc4"), pc(3, "pc3"), pc(2, "pc2"), Area::network()],
        AreaLevel::Pc3 => vec![pc(3, "pc3"), pc(2, "pc2"), Area::network()],
    }
}

/// A set of connections that may be shown as one sum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// The area it is reported under (the enclosing area when merged).
    pub area: Area,
    /// The areas at the asked level it holds.
    pub members: Vec<Area>,
    /// Smaller areas were merged into it.
    pub merged: bool,
    /// Connection indices; never shown, only summed.
    #[serde(skip)]
    pub(crate) connections: Vec<usize>,
    /// Areas above `area`, nearest first (to find groups in an enclosing area).
    #[serde(skip)]
    ancestors: Vec<Area>,
}

impl Group {
    pub fn size(&self) -> usize {
        self.connections.len()
    }
    pub fn label(&self) -> String {
        if self.members.len() == 1 && self.members[0] == self.area {
            self.area.to_string()
        } else {
            let m: Vec<&str> = self.members.iter().map(|a| a.id.as_str()).collect();
            format!("{} ({}s {})", self.area, self.members.first().map_or("", |a| a.kind.as_str()), m.join(", "))
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grouping {
    pub k: MinGroupSize,
    pub level: AreaLevel,
    pub groups: Vec<Group>,
    /// Connections that cannot be shown at all (fewer than k in the whole network).
    pub suppressed: usize,
    /// What was merged, for the report.
    pub notes: Vec<String>,
}

struct Pool {
    area: Area,
    members: Vec<Area>,
    conns: Vec<usize>,
}

/// Groups the given connections (indices into `net.connections`) at `level` with at least `k` each.
pub fn group_connections(net: &Network, conns: &[usize], level: AreaLevel, k: MinGroupSize) -> Grouping {
    let k_n = k.get();
    let paths: HashMap<usize, Vec<Area>> = conns.iter().map(|&c| (c, area_path(net, c, level))).collect();
    let depth = paths.values().next().map_or(0, |p| p.len());
    let mut leaf: BTreeMap<Area, Vec<usize>> = BTreeMap::new();
    for &c in conns {
        leaf.entry(paths[&c][0].clone()).or_default().push(c);
    }
    let mut pending: Vec<Pool> = leaf.into_iter().map(|(a, cs)| Pool { members: vec![a.clone()], area: a, conns: cs }).collect();
    let mut groups: Vec<Group> = Vec::new();
    let mut notes = Vec::new();
    let mut suppressed = 0;
    for d in 0..depth {
        let ancestors_of = |p: &Pool| paths[&p.conns[0]][d + 1..].to_vec();
        if d + 1 == depth {
            // The whole network: nothing encloses it.
            for p in pending.drain(..) {
                if p.conns.len() >= k_n {
                    groups.push(Group {
                        area: p.area,
                        members: p.members,
                        merged: true,
                        connections: p.conns,
                        ancestors: vec![],
                    });
                } else if let Some(g) = groups.iter_mut().min_by_key(|g| g.size()) {
                    notes.push(format!("{} connection(s) left over network-wide joined {}", p.conns.len(), g.area));
                    g.area = Area::network();
                    g.members.extend(p.members);
                    g.connections.extend(p.conns);
                    g.merged = true;
                } else {
                    notes.push(format!(
                        "only {} connection(s) in total: fewer than k = {k_n}, nothing can be shown",
                        p.conns.len()
                    ));
                    suppressed += p.conns.len();
                }
            }
            break;
        }
        let mut by_parent: BTreeMap<Area, Vec<Pool>> = BTreeMap::new();
        for p in pending.drain(..) {
            if p.conns.len() >= k_n {
                let ancestors = ancestors_of(&p);
                groups.push(Group { area: p.area, members: p.members, merged: d > 0, connections: p.conns, ancestors });
            } else {
                by_parent.entry(paths[&p.conns[0]][d + 1].clone()).or_default().push(p);
            }
        }
        for (parent, small) in by_parent {
            let mut pool = Pool { area: parent.clone(), members: vec![], conns: vec![] };
            let names: Vec<String> = small.iter().map(|p| format!("{} ({})", p.area, p.conns.len())).collect();
            for p in small {
                pool.members.extend(p.members);
                pool.conns.extend(p.conns);
            }
            let ancestors = ancestors_of(&pool)[1..].to_vec();
            if pool.conns.len() >= k_n {
                notes.push(format!("{} below k = {k_n}: merged into {parent}", names.join(", ")));
                groups.push(Group { area: parent, members: pool.members, merged: true, connections: pool.conns, ancestors });
            } else if let Some(g) =
                groups.iter_mut().filter(|g| g.area == parent || g.ancestors.contains(&parent)).min_by_key(|g| g.size())
            {
                notes.push(format!("{} below k = {k_n}: merged with {} into {parent}", names.join(", "), g.label()));
                g.area = parent;
                g.ancestors = ancestors;
                g.members.extend(pool.members);
                g.connections.extend(pool.conns);
                g.merged = true;
            } else {
                notes.push(format!("{} below k = {k_n}: taken up to the area above {parent}", names.join(", ")));
                pending.push(pool);
            }
        }
    }
    groups.sort_by(|a, b| a.area.cmp(&b.area));
    Grouping { k, level, groups, suppressed, notes }
}

/// Sums per group and time step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupSeries {
    pub label: String,
    pub area: Area,
    pub connections: usize,
    /// Per step: summed import/export (kWh); NaN where fewer than k connections have a value.
    pub import_kwh: Vec<f64>,
    pub export_kwh: Vec<f64>,
    /// Per step: summed EV charging power above base load (kW) and active sessions.
    pub ev_kw: Vec<f64>,
    pub ev_sessions: Vec<u32>,
    /// Connections in the group with at least one charging session.
    pub connections_charging: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AreaAggregates {
    pub grid: TimeGrid,
    pub grouping: Grouping,
    pub series: Vec<GroupSeries>,
    /// Feed-in EANs that are not in the network (not in any area).
    pub unknown_eans: usize,
    /// Network connections with no feed-in value at all.
    pub without_data: usize,
}

/// Load, feed-in and EV charging per area, each group at least k connections.
pub fn aggregate_feed_in(
    net: &Network,
    feed_in: &FeedInTable,
    level: AreaLevel,
    k: MinGroupSize,
    ev: &EvDetection,
) -> AreaAggregates {
    let mut row_of_conn: HashMap<usize, usize> = HashMap::new();
    let mut unknown = 0;
    for (row, ean) in feed_in.eans.iter().enumerate() {
        match net.connection_index(ean) {
            Some(c) if feed_in.import(row).iter().chain(feed_in.export(row)).any(|v| !v.is_nan()) => {
                row_of_conn.insert(c, row);
            }
            Some(_) => {}
            None => unknown += 1,
        }
    }
    let mut conns: Vec<usize> = row_of_conn.keys().copied().collect();
    conns.sort_unstable();
    let grouping = group_connections(net, &conns, level, k);
    let n = feed_in.grid.len;
    let series = grouping
        .groups
        .iter()
        .map(|g| {
            let mut s = GroupSeries {
                label: g.label(),
                area: g.area.clone(),
                connections: g.size(),
                import_kwh: vec![0.0; n],
                export_kwh: vec![0.0; n],
                ev_kw: vec![0.0; n],
                ev_sessions: vec![0; n],
                connections_charging: 0,
            };
            let (mut n_imp, mut n_exp) = (vec![0usize; n], vec![0usize; n]);
            for &c in &g.connections {
                let row = row_of_conn[&c];
                for (t, &v) in feed_in.import(row).iter().enumerate().filter(|(_, v)| !v.is_nan()) {
                    s.import_kwh[t] += v as f64;
                    n_imp[t] += 1;
                }
                for (t, &v) in feed_in.export(row).iter().enumerate().filter(|(_, v)| !v.is_nan()) {
                    s.export_kwh[t] += v as f64;
                    n_exp[t] += 1;
                }
                let sessions = ev.detect(feed_in.import(row), feed_in.grid.step_s);
                s.connections_charging += usize::from(!sessions.is_empty());
                for se in sessions {
                    for t in se.start..se.end {
                        s.ev_kw[t] += se.kw;
                        s.ev_sessions[t] += 1;
                    }
                }
            }
            for t in 0..n {
                if n_imp[t] < k.get() {
                    s.import_kwh[t] = f64::NAN;
                    s.ev_kw[t] = f64::NAN;
                }
                if n_exp[t] < k.get() {
                    s.export_kwh[t] = f64::NAN;
                }
            }
            s
        })
        .collect();
    let without_data = net.connections.len() - conns.len();
    AreaAggregates { grid: feed_in.grid, grouping, series, unknown_eans: unknown, without_data }
}

fn num(v: f64, decimals: usize) -> String {
    if v.is_nan() { String::new() } else { format!("{v:.decimals$}") }
}

impl AreaAggregates {
    /// CSV, one row per group and time step; no EAN, no single connection.
    pub fn to_csv(&self) -> anyhow::Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "area_kind",
            "area_id",
            "members",
            "connections",
            "timestamp",
            "import_kwh",
            "export_kwh",
            "net_load_kw",
            "ev_charging_kw",
            "ev_sessions_active",
        ])?;
        let to_kw = 3600.0 / self.grid.step_s as f64;
        for s in &self.series {
            let g = self.grouping.groups.iter().find(|g| g.area == s.area && g.label() == s.label);
            let members = g.map(|g| g.members.iter().map(|a| a.id.clone()).collect::<Vec<_>>().join(";")).unwrap_or_default();
            for t in 0..self.grid.len {
                let net = (s.import_kwh[t] - s.export_kwh[t]) * to_kw;
                w.write_record([
                    s.area.kind.clone(),
                    s.area.id.clone(),
                    members.clone(),
                    s.connections.to_string(),
                    format_amsterdam(self.grid.time(t)),
                    num(s.import_kwh[t], 3),
                    num(s.export_kwh[t], 3),
                    num(net, 3),
                    num(s.ev_kw[t], 2),
                    if s.ev_kw[t].is_nan() { String::new() } else { s.ev_sessions[t].to_string() },
                ])?;
            }
        }
        w.into_inner().map_err(|e| anyhow::anyhow!("writing CSV: {e}"))
    }

    /// One line per group: totals and peaks.
    pub fn summary(&self) -> String {
        let to_kw = 3600.0 / self.grid.step_s as f64;
        let mut out = format!(
            "{} group(s) at k = {} ({} connection(s) with data; {} without; {} unknown EAN(s) in the feed-in; {} suppressed)\n",
            self.series.len(),
            self.grouping.k.get(),
            self.series.iter().map(|s| s.connections).sum::<usize>(),
            self.without_data,
            self.unknown_eans,
            self.grouping.suppressed
        );
        out.push_str(&format!(
            "{:<40} {:>6} {:>12} {:>12} {:>10} {:>10} {:>9}\n",
            "group", "conns", "import kWh", "export kWh", "peak kW", "EV peak kW", "charging"
        ));
        for s in &self.series {
            let sum = |v: &[f64]| v.iter().filter(|x| !x.is_nan()).sum::<f64>();
            let peak = s
                .import_kwh
                .iter()
                .zip(&s.export_kwh)
                .map(|(i, e)| (i - e) * to_kw)
                .filter(|x| !x.is_nan())
                .fold(f64::NAN, f64::max);
            let ev_peak = s.ev_kw.iter().copied().filter(|x| !x.is_nan()).fold(f64::NAN, f64::max);
            out.push_str(&format!(
                "{:<40} {:>6} {:>12.1} {:>12.1} {:>10} {:>10} {:>9}\n",
                s.label,
                s.connections,
                sum(&s.import_kwh),
                sum(&s.export_kwh),
                num(peak, 1),
                num(ev_peak, 1),
                s.connections_charging
            ));
        }
        for n in &self.grouping.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        out
    }
}

/// A small network for tests: `feeders` = (station, feeder, connections, postcode).
#[cfg(test)]
pub(crate) fn test_network(feeders: &[(&str, &str, usize, &str)]) -> Network {
    use crate::model::{Capacity, Connection, GeoPoint, MeterKind, Phase, PhaseConnection};
    let mut conns = Vec::new();
    for (s, f, n, pc) in feeders {
        for i in 0..*n {
            conns.push(Connection {
                ean: format!("{f}-{i}"),
                station_id: s.to_string(),
                feeder_id: Some(f.to_string()),
                cable_id: Some(format!("{f}-c")),
                phase: Some(PhaseConnection::Single(Phase::L1)),
                street: None,
                house_number: Some(i as u32 + 1),
                house_number_addition: None,
                postcode: (!pc.is_empty()).then(|| pc.to_string()),
                meter: MeterKind::Smart,
                pv_kwp_registered: None,
                capacity: Capacity::default(),
                pos: GeoPoint::default(),
                service_joint: None,
                extra: Default::default(),
            });
        }
    }
    Network::new(vec![], vec![], conns, Default::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(net: &Network) -> Vec<usize> {
        (0..net.connections.len()).collect()
    }

    #[test]
    fn k_cannot_go_below_five() {
        assert!(MinGroupSize::new(4).is_err());
        assert_eq!(MinGroupSize::new(5).unwrap().get(), 5);
        assert_eq!(MinGroupSize::default().get(), 10);
    }

    #[test]
    fn feeder_of_nine_is_merged_into_its_station() {
        let net = test_network(&[("S1", "F1", 12, ""), ("S1", "F2", 9, ""), ("S2", "F3", 30, "")]);
        let g = group_connections(&net, &all(&net), AreaLevel::Feeder, MinGroupSize::default());
        let labels: Vec<String> = g.groups.iter().map(|g| g.label()).collect();
        assert_eq!(labels, vec!["feeder F3".to_string(), "station S1 (feeders F1, F2)".to_string()], "{:?}", g.notes);
        assert!(g.groups.iter().all(|g| g.size() >= 10));
        assert_eq!(g.groups.iter().map(Group::size).sum::<usize>(), 51, "nobody dropped");
    }

    #[test]
    fn small_feeders_pool_together_before_joining_a_big_one() {
        let net = test_network(&[("S1", "F1", 40, ""), ("S1", "F2", 6, ""), ("S1", "F3", 5, "")]);
        let g = group_connections(&net, &all(&net), AreaLevel::Feeder, MinGroupSize::default());
        let sizes: Vec<(String, usize)> = g.groups.iter().map(|g| (g.label(), g.size())).collect();
        assert_eq!(sizes, vec![("feeder F1".into(), 40), ("station S1 (feeders F2, F3)".into(), 11)]);
    }

    #[test]
    fn postcodes_climb_pc4_to_pc3_and_tiny_networks_show_nothing() {
        let net = test_network(&[("S", "A", 7, "6811AB"), ("S", "B", 4, "6812CD"), ("S", "C", 15, "6821EF")]);
        let g = group_connections(&net, &all(&net), AreaLevel::Pc4, MinGroupSize::default());
        let sizes: Vec<(String, usize)> = g.groups.iter().map(|g| (g.label(), g.size())).collect();
        assert_eq!(sizes, vec![("pc3 681 (pc4s 6811, 6812)".into(), 11), ("pc4 6821".into(), 15)]);
        let tiny = test_network(&[("S", "A", 6, "")]);
        let g = group_connections(&tiny, &all(&tiny), AreaLevel::Station, MinGroupSize::default());
        assert!(g.groups.is_empty());
        assert_eq!(g.suppressed, 6);
    }

    #[test]
    fn sums_hide_steps_with_too_few_values_and_show_ev_only_per_area() {
        let net = test_network(&[("S1", "F1", 10, "")]);
        let grid = TimeGrid { start: 900, step_s: 900, len: 96 };
        let eans: Vec<String> = net.connections.iter().map(|c| c.ean.clone()).collect();
        let mut imp = vec![0.1f32; 10 * 96];
        let exp = vec![0.0f32; 10 * 96];
        for t in 72..84 {
            imp[3 * 96 + t] += 7.4 / 4.0; // one house charges 18:00-21:00
        }
        imp[5 * 96 + 10] = f32::NAN; // one value missing at step 10
        let fi = FeedInTable::new(grid, eans, imp, exp);
        let a = aggregate_feed_in(&net, &fi, AreaLevel::Feeder, MinGroupSize::default(), &EvDetection::default());
        let s = &a.series[0];
        assert_eq!(s.connections, 10);
        assert!(s.import_kwh[10].is_nan(), "only 9 values at that step");
        assert!((s.import_kwh[0] - 1.0).abs() < 1e-6);
        assert_eq!(s.connections_charging, 1);
        assert_eq!(s.ev_sessions[75], 1);
        let csv = String::from_utf8(a.to_csv().unwrap()).unwrap();
        assert!(!csv.contains("F1-3"), "no EAN in an aggregate");
        assert_eq!(csv.lines().count(), 1 + 96);
    }
}

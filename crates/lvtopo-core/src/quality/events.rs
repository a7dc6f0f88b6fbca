//! Use case 2: voltage events per connection and phase in a period (usually a
//! quarter) from the meters' cumulative under/overvoltage counters.
//!
//! Events in a period are the counter difference between the read at its end
//! and the read at its start. Intermediate reads are chained, so a counter that
//! restarts at zero (meter replaced, firmware reset) loses only the events
//! before the reset within one step: after a reset the step counts the new
//! value (a lower bound) and the result is marked so.

use crate::model::time::{Timestamp, format_amsterdam};
use crate::model::{EventCounterRead, Network, Phase};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// How trustworthy one channel's count is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeltaStatus {
    /// Plain difference of the start and end reads.
    Ok,
    /// The counter went down between two reads (reset): the count is a lower bound.
    CounterReset,
    /// No read near the start of the period.
    MissingStartRead,
    /// No read near the end of the period.
    MissingEndRead,
}

impl DeltaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeltaStatus::Ok => "ok",
            DeltaStatus::CounterReset => "counter_reset",
            DeltaStatus::MissingStartRead => "missing_start_read",
            DeltaStatus::MissingEndRead => "missing_end_read",
        }
    }
    pub fn has_count(self) -> bool {
        matches!(self, DeltaStatus::Ok | DeltaStatus::CounterReset)
    }
}

/// Events of one meter channel in the period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelEvents {
    pub ean: String,
    pub channel: Phase,
    /// Reads actually used (start and end); `None` when missing.
    pub start_read: Option<Timestamp>,
    pub end_read: Option<Timestamp>,
    pub undervoltage: u32,
    pub overvoltage: u32,
    pub status: DeltaStatus,
}

/// Events of one connection (all its channels).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionEvents {
    /// Index into `Network::connections`.
    pub connection: usize,
    pub undervoltage: u32,
    pub overvoltage: u32,
    /// Worst status over the channels (`Ok` only if all channels are).
    pub status: DeltaStatus,
    pub channels: Vec<ChannelEvents>,
}

impl ConnectionEvents {
    pub fn total(&self) -> u32 {
        self.undervoltage + self.overvoltage
    }
}

/// A feeder's or a station's events, for the ranking of the worst.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupEvents {
    pub id: String,
    pub station_id: String,
    pub connections_counted: usize,
    pub connections_with_events: usize,
    pub undervoltage: u32,
    pub overvoltage: u32,
}

impl GroupEvents {
    pub fn total(&self) -> u32 {
        self.undervoltage + self.overvoltage
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EventSummary {
    pub period_start: Timestamp,
    pub period_end: Timestamp,
    /// Per connection that has at least one read, in network order.
    pub connections: Vec<ConnectionEvents>,
    /// Worst first (by total events, then connections with events).
    pub feeders: Vec<GroupEvents>,
    pub stations: Vec<GroupEvents>,
    /// Smart meters without any counter read.
    pub smart_without_reads: Vec<usize>,
    /// EANs in the reads that are not in the network (count per EAN).
    pub unknown_eans: Vec<(String, usize)>,
    /// Plain-language notes about missing reads and resets.
    pub notes: Vec<String>,
}

/// The span the reads cover: the earliest and the latest read.
pub fn read_span(reads: &[EventCounterRead]) -> Option<(Timestamp, Timestamp)> {
    let lo = reads.iter().map(|r| r.read_at).min()?;
    let hi = reads.iter().map(|r| r.read_at).max()?;
    Some((lo, hi))
}

/// Events per connection and channel between `period.0` and `period.1`. A read
/// within `tolerance_s` of a boundary counts for it (quarterly reads are not
/// all taken at the same hour).
pub fn event_summary(
    net: &Network,
    reads: &[EventCounterRead],
    period: (Timestamp, Timestamp),
    tolerance_s: i64,
) -> EventSummary {
    let (from, to) = period;
    let mut series: BTreeMap<(usize, Phase), Vec<&EventCounterRead>> = BTreeMap::new();
    let mut unknown: HashMap<&str, usize> = HashMap::new();
    for r in reads {
        match net.connection_index(&r.ean) {
            Some(ci) => series.entry((ci, r.channel)).or_default().push(r),
            None => *unknown.entry(&r.ean).or_default() += 1,
        }
    }
    let mut per_conn: BTreeMap<usize, Vec<ChannelEvents>> = BTreeMap::new();
    for ((ci, ch), mut rs) in series {
        rs.sort_by_key(|r| r.read_at);
        rs.dedup_by(|a, b| a.read_at == b.read_at);
        per_conn.entry(ci).or_default().push(channel_events(&net.connections[ci].ean, ch, &rs, from, to, tolerance_s));
    }
    let mut s = EventSummary { period_start: from, period_end: to, ..Default::default() };
    let (mut resets, mut missing) = (0, 0);
    for (ci, channels) in per_conn {
        let status = channels
            .iter()
            .map(|c| c.status)
            .max_by_key(|st| match st {
                DeltaStatus::Ok => 0,
                DeltaStatus::CounterReset => 1,
                DeltaStatus::MissingEndRead => 2,
                DeltaStatus::MissingStartRead => 3,
            })
            .unwrap_or(DeltaStatus::Ok);
        resets += usize::from(status == DeltaStatus::CounterReset);
        missing += usize::from(!status.has_count());
        s.connections.push(ConnectionEvents {
            connection: ci,
            undervoltage: channels.iter().map(|c| c.undervoltage).sum(),
            overvoltage: channels.iter().map(|c| c.overvoltage).sum(),
            status,
            channels,
        });
    }
    let with_reads: std::collections::HashSet<usize> = s.connections.iter().map(|c| c.connection).collect();
    s.smart_without_reads = net
        .connections
        .iter()
        .enumerate()
        .filter(|(i, c)| c.meter == crate::model::MeterKind::Smart && !with_reads.contains(i))
        .map(|(i, _)| i)
        .collect();
    let mut unknown: Vec<(String, usize)> = unknown.into_iter().map(|(e, n)| (e.to_string(), n)).collect();
    unknown.sort();
    s.unknown_eans = unknown;
    if resets > 0 {
        s.notes.push(format!("{resets} connection(s) with a counter reset: their counts are lower bounds"));
    }
    if missing > 0 {
        s.notes.push(format!(
            "{missing} connection(s) lack a read within {} days of {} or {}: no count",
            tolerance_s / 86_400,
            format_amsterdam(from),
            format_amsterdam(to)
        ));
    }
    if !s.smart_without_reads.is_empty() {
        s.notes.push(format!("{} smart meter(s) without any counter read", s.smart_without_reads.len()));
    }
    if !s.unknown_eans.is_empty() {
        s.notes.push(format!("{} EAN(s) in the counter reads are not in the network", s.unknown_eans.len()));
    }
    s.feeders = rank(net, &s.connections, |c| net.connections[c].feeder_label());
    s.stations = rank(net, &s.connections, |c| net.connections[c].station_id.clone());
    s
}

fn channel_events(
    ean: &str,
    channel: Phase,
    rs: &[&EventCounterRead],
    from: Timestamp,
    to: Timestamp,
    tol: i64,
) -> ChannelEvents {
    let nearest = |t: Timestamp| {
        rs.iter()
            .enumerate()
            .filter(|(_, r)| (r.read_at - t).abs() <= tol)
            .min_by_key(|(_, r)| (r.read_at - t).abs())
            .map(|(i, _)| i)
    };
    let mut out = ChannelEvents {
        ean: ean.to_string(),
        channel,
        start_read: None,
        end_read: None,
        undervoltage: 0,
        overvoltage: 0,
        status: DeltaStatus::Ok,
    };
    let (Some(a), Some(b)) = (nearest(from), nearest(to)) else {
        out.start_read = nearest(from).map(|i| rs[i].read_at);
        out.end_read = nearest(to).map(|i| rs[i].read_at);
        out.status = if out.start_read.is_none() { DeltaStatus::MissingStartRead } else { DeltaStatus::MissingEndRead };
        return out;
    };
    if b <= a {
        // Both boundaries matched the same read: the period is shorter than the read spacing.
        out.start_read = Some(rs[a].read_at);
        out.status = DeltaStatus::MissingEndRead;
        return out;
    }
    out.start_read = Some(rs[a].read_at);
    out.end_read = Some(rs[b].read_at);
    for w in rs[a..=b].windows(2) {
        let (p, q) = (w[0], w[1]);
        let reset = q.undervoltage_count < p.undervoltage_count || q.overvoltage_count < p.overvoltage_count;
        if reset {
            out.status = DeltaStatus::CounterReset;
            out.undervoltage += q.undervoltage_count;
            out.overvoltage += q.overvoltage_count;
        } else {
            out.undervoltage += q.undervoltage_count - p.undervoltage_count;
            out.overvoltage += q.overvoltage_count - p.overvoltage_count;
        }
    }
    out
}

fn rank(net: &Network, conns: &[ConnectionEvents], key: impl Fn(usize) -> String) -> Vec<GroupEvents> {
    let mut groups: BTreeMap<String, GroupEvents> = BTreeMap::new();
    for c in conns.iter().filter(|c| c.status.has_count()) {
        let id = key(c.connection);
        let g = groups.entry(id.clone()).or_insert_with(|| GroupEvents {
            id,
            station_id: net.connections[c.connection].station_id.clone(),
            connections_counted: 0,
            connections_with_events: 0,
            undervoltage: 0,
            overvoltage: 0,
        });
        g.connections_counted += 1;
        g.connections_with_events += usize::from(c.total() > 0);
        g.undervoltage += c.undervoltage;
        g.overvoltage += c.overvoltage;
    }
    let mut v: Vec<GroupEvents> = groups.into_values().collect();
    v.sort_by(|a, b| {
        b.total().cmp(&a.total()).then(b.connections_with_events.cmp(&a.connections_with_events)).then(a.id.cmp(&b.id))
    });
    v
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::*;

    pub fn conn(ean: &str, feeder: &str, cable: &str, phase: PhaseConnection) -> Connection {
        Connection {
            ean: ean.into(),
            station_id: "S1".into(),
            feeder_id: Some(feeder.into()),
            cable_id: Some(cable.into()),
            phase: Some(phase),
            street: Some("Dorpsstraat".into()),
            house_number: Some(1),
            house_number_addition: None,
            postcode: Some("6811AB".into()),
            meter: MeterKind::Smart,
            pv_kwp_registered: None,
            capacity: Capacity::default(),
            pos: GeoPoint { x: 155_000.0, y: 463_000.0, lon: 5.387, lat: 52.155 },
            service_joint: None,
            extra: Default::default(),
        }
    }

    fn read(ean: &str, t: i64, ch: Phase, u: u32, o: u32) -> EventCounterRead {
        EventCounterRead { ean: ean.into(), read_at: t, channel: ch, undervoltage_count: u, overvoltage_count: o }
    }

    const D: i64 = 86_400;

    #[test]
    fn deltas_resets_and_missing_reads() {
        let net = Network::new(
            vec![],
            vec![],
            vec![
                conn("a", "F1", "C1", PhaseConnection::Single(Phase::L1)),
                conn("b", "F1", "C1", PhaseConnection::Three),
                conn("c", "F2", "C2", PhaseConnection::Single(Phase::L2)),
                conn("d", "F2", "C2", PhaseConnection::Single(Phase::L2)),
            ],
            Crs::RdNew,
        );
        let reads = vec![
            read("a", 0, Phase::L1, 5, 10),
            read("a", 91 * D + 3600, Phase::L1, 7, 30),
            // b: three channels, L2 reset half-way (meter replaced)
            read("b", 0, Phase::L1, 0, 0),
            read("b", 91 * D, Phase::L1, 1, 2),
            read("b", 0, Phase::L2, 40, 40),
            read("b", 45 * D, Phase::L2, 50, 45),
            read("b", 46 * D, Phase::L2, 0, 1),
            read("b", 91 * D, Phase::L2, 3, 4),
            // c: end read missing
            read("c", 0, Phase::L1, 1, 1),
            read("zzz", 0, Phase::L1, 1, 1),
        ];
        let s = event_summary(&net, &reads, (0, 91 * D), 7 * D);
        let a = &s.connections[0];
        assert_eq!((a.undervoltage, a.overvoltage, a.status), (2, 20, DeltaStatus::Ok));
        let b = &s.connections[1];
        // L1: 1 + 2; L2: 10 + 5 before the reset, then 3 + 4 counted after it (a lower bound).
        assert_eq!((b.undervoltage, b.overvoltage, b.status), (1 + 10 + 3, 2 + 5 + 4, DeltaStatus::CounterReset));
        assert_eq!(s.connections[2].status, DeltaStatus::MissingEndRead);
        assert_eq!(s.smart_without_reads, vec![3]);
        assert_eq!(s.unknown_eans, vec![("zzz".to_string(), 1)]);
        assert_eq!(s.feeders[0].id, "F1");
        assert_eq!(s.feeders[0].total(), 22 + 14 + 11);
        // F2's only read-bearing connection has no count, so F2 is not ranked.
        assert_eq!(s.feeders.len(), 1);
        assert!(s.notes.iter().any(|n| n.contains("counter reset")));
    }
}

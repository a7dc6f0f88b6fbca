//! Smart-meter reads. Voltages and feed-in sit on a regular time grid with
//! missing values held as NaN (never zero: a zero would read as an outage).

use super::phase::Phase;
use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A regular grid of interval *end* times: `start`, `start + step`, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeGrid {
    /// End of the first interval (UTC seconds).
    pub start: Timestamp,
    /// Interval length in seconds (600 for voltage, 900 for feed-in).
    pub step_s: i64,
    pub len: usize,
}

impl TimeGrid {
    pub fn time(&self, i: usize) -> Timestamp {
        self.start + self.step_s * i as i64
    }
    /// Index of the slot whose end time is `t`, if `t` lies on the grid.
    pub fn index_of(&self, t: Timestamp) -> Option<usize> {
        let d = t - self.start;
        if d < 0 || d % self.step_s != 0 {
            return None;
        }
        let i = (d / self.step_s) as usize;
        (i < self.len).then_some(i)
    }
    pub fn end(&self) -> Timestamp {
        self.time(self.len.saturating_sub(1))
    }
    /// Covered duration in days (first interval start to last interval end).
    pub fn days(&self) -> f64 {
        (self.len as i64 * self.step_s) as f64 / 86_400.0
    }
}

/// One voltage series: a meter channel as the meter labels it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeriesKey {
    pub ean: String,
    /// Meter terminal label (a single-phase meter always reports L1).
    pub channel: Phase,
}

/// 10-minute average voltages of many meters on one common grid.
/// Stored as one flat `f32` matrix (series x time) so 100k meters x 1,440 steps
/// stay compact and cache-friendly.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VoltageTable {
    pub grid: TimeGrid,
    pub keys: Vec<SeriesKey>,
    /// `keys.len() * grid.len` values, row-major by series; NaN = missing.
    pub values: Vec<f32>,
    #[serde(skip)]
    by_ean: HashMap<String, [Option<usize>; 3]>,
}

impl VoltageTable {
    pub fn new(grid: TimeGrid, keys: Vec<SeriesKey>, values: Vec<f32>) -> Self {
        assert_eq!(values.len(), keys.len() * grid.len, "voltage matrix shape");
        let mut t = VoltageTable { grid, keys, values, by_ean: HashMap::new() };
        t.reindex();
        t
    }
    pub fn reindex(&mut self) {
        self.by_ean.clear();
        for (i, k) in self.keys.iter().enumerate() {
            self.by_ean.entry(k.ean.clone()).or_insert([None; 3])[k.channel.index()] = Some(i);
        }
    }
    pub fn series(&self, i: usize) -> &[f32] {
        &self.values[i * self.grid.len..(i + 1) * self.grid.len]
    }
    pub fn series_mut(&mut self, i: usize) -> &mut [f32] {
        let n = self.grid.len;
        &mut self.values[i * n..(i + 1) * n]
    }
    /// Series indices of one meter per channel L1, L2, L3.
    pub fn channels(&self, ean: &str) -> [Option<usize>; 3] {
        self.by_ean.get(ean).copied().unwrap_or([None; 3])
    }
    pub fn channel(&self, ean: &str, channel: Phase) -> Option<&[f32]> {
        self.channels(ean)[channel.index()].map(|i| self.series(i))
    }
    pub fn eans(&self) -> impl Iterator<Item = &String> {
        self.by_ean.keys()
    }
    pub fn meter_count(&self) -> usize {
        self.by_ean.len()
    }
}

/// 15-minute energy per connection.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FeedInTable {
    pub grid: TimeGrid,
    pub eans: Vec<String>,
    /// `eans.len() * grid.len` kWh imported from the grid; NaN = missing.
    pub import_kwh: Vec<f32>,
    /// `eans.len() * grid.len` kWh exported to the grid; NaN = missing.
    pub export_kwh: Vec<f32>,
    #[serde(skip)]
    by_ean: HashMap<String, usize>,
}

impl FeedInTable {
    pub fn new(grid: TimeGrid, eans: Vec<String>, import_kwh: Vec<f32>, export_kwh: Vec<f32>) -> Self {
        assert_eq!(import_kwh.len(), eans.len() * grid.len);
        assert_eq!(export_kwh.len(), eans.len() * grid.len);
        let mut t = FeedInTable { grid, eans, import_kwh, export_kwh, by_ean: HashMap::new() };
        t.reindex();
        t
    }
    pub fn reindex(&mut self) {
        self.by_ean = self.eans.iter().enumerate().map(|(i, e)| (e.clone(), i)).collect();
    }
    pub fn index(&self, ean: &str) -> Option<usize> {
        self.by_ean.get(ean).copied()
    }
    pub fn import(&self, i: usize) -> &[f32] {
        &self.import_kwh[i * self.grid.len..(i + 1) * self.grid.len]
    }
    pub fn export(&self, i: usize) -> &[f32] {
        &self.export_kwh[i * self.grid.len..(i + 1) * self.grid.len]
    }
}

/// A remote read of a meter's cumulative power-quality counters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventCounterRead {
    pub ean: String,
    pub read_at: Timestamp,
    pub channel: Phase,
    pub undervoltage_count: u32,
    pub overvoltage_count: u32,
}

/// One power failure from a meter's event log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutageRecord {
    pub ean: String,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// A registered outage (incident) from the operator's own registration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub planned: bool,
    /// Faulted sections; empty when unknown.
    pub cable_ids: Vec<String>,
}

/// An answer to an on-demand "is there voltage?" read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceAnswer {
    pub ean: String,
    pub timestamp: Timestamp,
    /// `None`: the meter did not answer.
    pub voltage_present: Option<bool>,
}

/// Every measurement file that may be loaded next to a network.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Measurements {
    pub voltage: Option<VoltageTable>,
    pub feed_in: Option<FeedInTable>,
    pub voltage_events: Vec<EventCounterRead>,
    pub outage_log: Vec<OutageRecord>,
    pub incidents: Vec<Incident>,
    pub presence: Vec<PresenceAnswer>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voltage_table_lookup() {
        let grid = TimeGrid { start: 600, step_s: 600, len: 3 };
        let keys = vec![SeriesKey { ean: "a".into(), channel: Phase::L1 }, SeriesKey { ean: "b".into(), channel: Phase::L2 }];
        let t = VoltageTable::new(grid, keys, vec![230.0, f32::NAN, 231.0, 229.0, 228.0, 227.0]);
        assert_eq!(t.channel("b", Phase::L2).unwrap(), &[229.0, 228.0, 227.0]);
        assert!(t.channel("a", Phase::L2).is_none());
        assert!(t.channel("a", Phase::L1).unwrap()[1].is_nan());
        assert_eq!(grid.index_of(1200), Some(1));
        assert_eq!(grid.index_of(1300), None);
    }
}

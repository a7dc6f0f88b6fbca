//! The meter data types as privacy-checked reads: what the rules need to know
//! about each ([`ReadInfo`]) and how a [`Remedy`] keeps only what is allowed.

use super::purpose::DataKind;
use super::rules::{Period, ReadInfo, Remedy, in_any_window};
use crate::model::{EventCounterRead, FeedInTable, OutageRecord, PresenceAnswer, TimeGrid, VoltageTable};
use std::collections::{BTreeSet, HashSet};

/// A loaded read that the privacy rules can describe and trim.
pub trait PrivacyRead: Sized {
    fn kind(&self) -> DataKind;
    /// Facts for the rules; `source` names the file in messages.
    fn read_info(&self, source: &str) -> ReadInfo;
    /// The read with the remedy applied (consent is the caller's business).
    fn apply(self, remedy: &Remedy) -> Self;
}

fn sorted_unique<'a>(eans: impl Iterator<Item = &'a String>) -> Vec<String> {
    eans.cloned().collect::<BTreeSet<_>>().into_iter().collect()
}

/// Time covered by a grid of interval *end* times.
pub fn grid_period(grid: &TimeGrid) -> Option<Period> {
    (grid.len > 0).then(|| Period::new(grid.start - grid.step_s, grid.end()))
}

/// Slots `[i0, i1)` of `grid` whose whole interval lies inside `keep`.
fn slots_within(grid: &TimeGrid, keep: &Period) -> (usize, usize) {
    let i0 = (0..grid.len).find(|&i| grid.time(i) - grid.step_s >= keep.start).unwrap_or(grid.len);
    let i1 = (i0..grid.len).take_while(|&i| grid.time(i) <= keep.end).last().map_or(i0, |i| i + 1);
    (i0, i1)
}

impl PrivacyRead for VoltageTable {
    fn kind(&self) -> DataKind {
        DataKind::Voltage
    }
    fn read_info(&self, source: &str) -> ReadInfo {
        ReadInfo {
            kind: Some(DataKind::Voltage),
            source: source.to_string(),
            period: grid_period(&self.grid),
            eans: sorted_unique(self.keys.iter().map(|k| &k.ean)),
            ..Default::default()
        }
    }
    fn apply(self, remedy: &Remedy) -> Self {
        match remedy {
            Remedy::TrimToPeriod { keep } => {
                let (i0, i1) = slots_within(&self.grid, keep);
                let grid = TimeGrid { start: self.grid.time(i0), step_s: self.grid.step_s, len: i1 - i0 };
                let mut values = Vec::with_capacity(self.keys.len() * grid.len);
                for s in 0..self.keys.len() {
                    values.extend_from_slice(&self.series(s)[i0..i1]);
                }
                VoltageTable::new(grid, self.keys, values)
            }
            Remedy::ExcludeConnections { eans } => {
                let drop: HashSet<&str> = eans.iter().map(String::as_str).collect();
                let (mut keys, mut values) = (Vec::new(), Vec::new());
                for (s, k) in self.keys.iter().enumerate() {
                    if !drop.contains(k.ean.as_str()) {
                        keys.push(k.clone());
                        values.extend_from_slice(self.series(s));
                    }
                }
                VoltageTable::new(self.grid, keys, values)
            }
            Remedy::DropAnswersOutsideOutageWindows { .. } => self,
        }
    }
}

impl PrivacyRead for FeedInTable {
    fn kind(&self) -> DataKind {
        DataKind::FeedIn
    }
    fn read_info(&self, source: &str) -> ReadInfo {
        ReadInfo {
            kind: Some(DataKind::FeedIn),
            source: source.to_string(),
            period: grid_period(&self.grid),
            eans: sorted_unique(self.eans.iter()),
            ..Default::default()
        }
    }
    fn apply(self, remedy: &Remedy) -> Self {
        match remedy {
            Remedy::TrimToPeriod { keep } => {
                let (i0, i1) = slots_within(&self.grid, keep);
                let grid = TimeGrid { start: self.grid.time(i0), step_s: self.grid.step_s, len: i1 - i0 };
                let (mut imp, mut exp) = (Vec::new(), Vec::new());
                for s in 0..self.eans.len() {
                    imp.extend_from_slice(&self.import(s)[i0..i1]);
                    exp.extend_from_slice(&self.export(s)[i0..i1]);
                }
                FeedInTable::new(grid, self.eans, imp, exp)
            }
            Remedy::ExcludeConnections { eans } => {
                let drop: HashSet<&str> = eans.iter().map(String::as_str).collect();
                let (mut keep, mut imp, mut exp) = (Vec::new(), Vec::new(), Vec::new());
                for (s, e) in self.eans.iter().enumerate() {
                    if !drop.contains(e.as_str()) {
                        keep.push(e.clone());
                        imp.extend_from_slice(self.import(s));
                        exp.extend_from_slice(self.export(s));
                    }
                }
                FeedInTable::new(self.grid, keep, imp, exp)
            }
            Remedy::DropAnswersOutsideOutageWindows { .. } => self,
        }
    }
}

fn span(times: impl Iterator<Item = (i64, i64)>) -> Option<Period> {
    times.fold(None, |acc: Option<Period>, (a, b)| {
        Some(match acc {
            None => Period::new(a, b),
            Some(p) => Period::new(p.start.min(a), p.end.max(b)),
        })
    })
}

/// A list of per-connection records (presence answers, outage log entries,
/// event counter reads): one shared [`PrivacyRead`] for all three.
trait MeterRecord {
    const KIND: DataKind;
    fn ean(&self) -> &str;
    /// Time the record covers (an instant: start = end).
    fn span(&self) -> (i64, i64);
    /// Whether the record falls inside a (suspected) outage window; only
    /// presence answers are bound to one.
    fn in_outage(&self, _windows: &[Period]) -> bool {
        true
    }
}

impl MeterRecord for PresenceAnswer {
    const KIND: DataKind = DataKind::VoltagePresence;
    fn ean(&self) -> &str {
        &self.ean
    }
    fn span(&self) -> (i64, i64) {
        (self.timestamp, self.timestamp)
    }
    fn in_outage(&self, windows: &[Period]) -> bool {
        in_any_window(windows, self.timestamp)
    }
}

impl MeterRecord for OutageRecord {
    const KIND: DataKind = DataKind::OutageLog;
    fn ean(&self) -> &str {
        &self.ean
    }
    fn span(&self) -> (i64, i64) {
        (self.start, self.end)
    }
}

impl MeterRecord for EventCounterRead {
    const KIND: DataKind = DataKind::EventCounters;
    fn ean(&self) -> &str {
        &self.ean
    }
    fn span(&self) -> (i64, i64) {
        (self.read_at, self.read_at)
    }
}

impl<R: MeterRecord> PrivacyRead for Vec<R> {
    fn kind(&self) -> DataKind {
        R::KIND
    }
    fn read_info(&self, source: &str) -> ReadInfo {
        ReadInfo {
            kind: Some(R::KIND),
            source: source.to_string(),
            period: span(self.iter().map(R::span)),
            eans: self.iter().map(|r| r.ean().to_string()).collect::<BTreeSet<_>>().into_iter().collect(),
            // Only answers on demand are judged against outage windows.
            answer_times: if R::KIND == DataKind::VoltagePresence { self.iter().map(|r| r.span().0).collect() } else { vec![] },
            ..Default::default()
        }
    }
    fn apply(self, remedy: &Remedy) -> Self {
        match remedy {
            Remedy::DropAnswersOutsideOutageWindows { windows } => self.into_iter().filter(|r| r.in_outage(windows)).collect(),
            Remedy::ExcludeConnections { eans } => {
                let drop: HashSet<&str> = eans.iter().map(String::as_str).collect();
                self.into_iter().filter(|r| !drop.contains(r.ean())).collect()
            }
            // Keep what overlaps the allowed period (an instant: what lies in it).
            Remedy::TrimToPeriod { keep } => self
                .into_iter()
                .filter(|r| {
                    let (a, b) = r.span();
                    b >= keep.start && a <= keep.end
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Phase, SeriesKey};
    use crate::privacy::purpose::DAY_S;

    #[test]
    fn trimming_a_twelve_day_voltage_table_keeps_the_last_ten_days() {
        let grid = TimeGrid { start: 600, step_s: 600, len: 12 * 144 };
        let keys = vec![SeriesKey { ean: "a".into(), channel: Phase::L1 }, SeriesKey { ean: "b".into(), channel: Phase::L1 }];
        let values: Vec<f32> = (0..2 * grid.len).map(|i| i as f32).collect();
        let t = VoltageTable::new(grid, keys, values);
        let info = t.read_info("v.csv");
        assert_eq!(info.period.unwrap().duration_s(), 12 * DAY_S);
        let keep = Period::new(info.period.unwrap().end - 10 * DAY_S, info.period.unwrap().end);
        let trimmed = t.apply(&Remedy::TrimToPeriod { keep });
        assert_eq!(trimmed.grid.len, 1440);
        assert_eq!(trimmed.read_info("v.csv").period.unwrap(), keep);
        // The last value of series b survives, the first 2 days do not.
        assert_eq!(*trimmed.channel("b", Phase::L1).unwrap().last().unwrap(), (2 * 12 * 144 - 1) as f32);
        assert_eq!(trimmed.channel("a", Phase::L1).unwrap()[0], (2 * 144) as f32);
        let without_a = trimmed.apply(&Remedy::ExcludeConnections { eans: vec!["a".into()] });
        assert_eq!(without_a.read_info("v.csv").eans, vec!["b".to_string()]);
    }
}

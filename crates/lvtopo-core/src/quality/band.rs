//! Use case 3: the 10-day analysis. Per connection (and per feeder and street)
//! the minutes outside the 207–253 V band and above the operator's inverter
//! limit, when (time of day, sunny or cloudy days) and how badly, and the
//! connections whose PV very likely tripped: export collapsing while the
//! voltage is at the limit and the neighbours' PV keeps producing.

use super::VoltageSettings;
use crate::model::time::{Timestamp, amsterdam_seconds_of_day, format_amsterdam, to_amsterdam};
use crate::model::{FeedInTable, Network, TimeGrid, VoltageTable};
use crate::progress::{Cancelled, Progress};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Sunshine of one local day, judged from the area's PV export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayClass {
    /// Local date, e.g. `2025-06-16`.
    pub date: String,
    /// Median over exporting connections of the day's export / their best day's export (0..1).
    pub sun_index: f64,
    pub sunny: bool,
}

/// The 10-day figures of one connection (all its meter channels together: a
/// step counts as outside when any channel is).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionVoltage {
    /// Index into `Network::connections`.
    pub connection: usize,
    pub channels: usize,
    /// 10-minute steps with at least one valid channel.
    pub valid_steps: usize,
    pub minutes_below_band: f64,
    pub minutes_above_band: f64,
    pub minutes_above_limit: f64,
    pub min_v: f64,
    pub max_v: f64,
    pub mean_v: f64,
    /// Highest and lowest 10-minute mean with its time.
    pub worst_over: Option<(Timestamp, f64)>,
    pub worst_under: Option<(Timestamp, f64)>,
    /// Minutes above the inverter limit per local hour of day (0..24).
    pub over_limit_by_hour: [f64; 24],
    /// Minutes below the band per local hour of day.
    pub under_band_by_hour: [f64; 24],
    /// Minutes above the limit on sunny and on other days (`None` without feed-in).
    pub minutes_above_limit_sunny: Option<f64>,
    pub minutes_above_limit_cloudy: Option<f64>,
    /// 15-minute intervals in which PV export collapsed with the voltage at the limit.
    pub trip_intervals: Vec<Timestamp>,
}

impl ConnectionVoltage {
    pub fn minutes_outside_band(&self) -> f64 {
        self.minutes_below_band + self.minutes_above_band
    }
    /// PV very likely tripped at least twice (one collapse can be chance).
    pub fn likely_trips(&self) -> bool {
        self.trip_intervals.len() >= 2
    }
    /// Local hour with the most minutes above the limit (or below the band if none).
    pub fn worst_hour(&self) -> Option<usize> {
        let pick = |h: &[f64; 24]| {
            let (i, m) = h.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
            (*m > 0.0).then_some(i)
        };
        pick(&self.over_limit_by_hour).or_else(|| pick(&self.under_band_by_hour))
    }
}

/// A feeder's or a street's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupVoltage {
    pub id: String,
    pub connections: usize,
    pub connections_outside_band: usize,
    pub connections_above_limit: usize,
    pub connections_likely_tripping: usize,
    pub minutes_below_band: f64,
    pub minutes_above_band: f64,
    pub minutes_above_limit: f64,
    pub max_v: f64,
    pub min_v: f64,
    pub over_limit_by_hour: [f64; 24],
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BandAnalysis {
    pub settings: VoltageSettings,
    pub grid: TimeGrid,
    /// Empty without feed-in.
    pub days: Vec<DayClass>,
    pub connections: Vec<ConnectionVoltage>,
    /// Worst first (minutes above the limit, then outside the band).
    pub feeders: Vec<GroupVoltage>,
    pub streets: Vec<GroupVoltage>,
    /// The moment of the highest voltage in the read: (time, V, connection).
    pub worst_overvoltage: Option<(Timestamp, f64, usize)>,
    /// EANs in the voltage table that are not in the network.
    pub unknown_eans: usize,
}

/// Runs the 10-day analysis over every connection with voltage data.
pub fn analyse(
    net: &Network,
    volt: &VoltageTable,
    feed: Option<&FeedInTable>,
    settings: &VoltageSettings,
    progress: &dyn Progress,
) -> Result<BandAnalysis, Cancelled> {
    let grid = volt.grid;
    let step_min = grid.step_s as f64 / 60.0;
    let days = feed.map(classify_days).unwrap_or_default();
    let sunny_day: BTreeMap<String, bool> = days.iter().map(|d| (d.date.clone(), d.sunny)).collect();
    let area = feed.map(export_peaks);
    let mut out = Vec::new();
    let n = net.connections.len().max(1);
    for (ci, c) in net.connections.iter().enumerate() {
        if ci % 256 == 0 {
            if progress.is_cancelled() {
                return Err(Cancelled);
            }
            progress.set(ci as f32 / n as f32, "voltage band per connection");
        }
        let chans: Vec<&[f32]> = volt.channels(&c.ean).iter().flatten().map(|&i| volt.series(i)).collect();
        if chans.is_empty() {
            continue;
        }
        let mut r = ConnectionVoltage {
            connection: ci,
            channels: chans.len(),
            valid_steps: 0,
            minutes_below_band: 0.0,
            minutes_above_band: 0.0,
            minutes_above_limit: 0.0,
            min_v: f64::NAN,
            max_v: f64::NAN,
            mean_v: f64::NAN,
            worst_over: None,
            worst_under: None,
            over_limit_by_hour: [0.0; 24],
            under_band_by_hour: [0.0; 24],
            minutes_above_limit_sunny: feed.map(|_| 0.0),
            minutes_above_limit_cloudy: feed.map(|_| 0.0),
            trip_intervals: Vec::new(),
        };
        let (mut sum, mut cnt) = (0.0, 0usize);
        for t in 0..grid.len {
            let (mut hi, mut lo) = (f64::NEG_INFINITY, f64::INFINITY);
            for s in &chans {
                let v = s[t] as f64;
                if v.is_finite() {
                    hi = hi.max(v);
                    lo = lo.min(v);
                    sum += v;
                    cnt += 1;
                }
            }
            if !hi.is_finite() {
                continue;
            }
            r.valid_steps += 1;
            let time = grid.time(t);
            let hour = (amsterdam_seconds_of_day(time - grid.step_s / 2) / 3600) as usize % 24;
            if r.worst_over.is_none_or(|(_, v)| hi > v) {
                r.worst_over = Some((time, hi));
            }
            if r.worst_under.is_none_or(|(_, v)| lo < v) {
                r.worst_under = Some((time, lo));
            }
            if lo < settings.band_low_v {
                r.minutes_below_band += step_min;
                r.under_band_by_hour[hour] += step_min;
            }
            if hi > settings.band_high_v {
                r.minutes_above_band += step_min;
            }
            if hi > settings.inverter_limit_v {
                r.minutes_above_limit += step_min;
                r.over_limit_by_hour[hour] += step_min;
                let date = to_amsterdam(time - grid.step_s / 2).format("%Y-%m-%d").to_string();
                match sunny_day.get(&date) {
                    Some(true) => *r.minutes_above_limit_sunny.get_or_insert(0.0) += step_min,
                    Some(false) => *r.minutes_above_limit_cloudy.get_or_insert(0.0) += step_min,
                    None => {}
                }
            }
        }
        r.max_v = r.worst_over.map_or(f64::NAN, |w| w.1);
        r.min_v = r.worst_under.map_or(f64::NAN, |w| w.1);
        r.mean_v = if cnt > 0 { sum / cnt as f64 } else { f64::NAN };
        if let (Some(feed), Some(area)) = (feed, &area)
            && let Some(row) = feed.index(&c.ean)
        {
            r.trip_intervals = trip_intervals(&grid, &chans, feed, row, area, settings);
        }
        out.push(r);
    }
    let known = volt.eans().filter(|e| net.connection_index(e).is_some()).count();
    let worst_overvoltage =
        out.iter().filter_map(|c| c.worst_over.map(|(t, v)| (t, v, c.connection))).max_by(|a, b| a.1.total_cmp(&b.1));
    let feeders = groups(&out, |ci| Some(net.connections[ci].feeder_label()));
    let streets = groups(&out, |ci| {
        let c = &net.connections[ci];
        let street = c.street.as_ref()?;
        let pc4: String = c.postcode.as_deref().unwrap_or("").chars().take(4).collect();
        Some(if pc4.is_empty() { street.clone() } else { format!("{street} ({pc4})") })
    });
    progress.set(1.0, "voltage band done");
    Ok(BandAnalysis {
        settings: *settings,
        grid,
        days,
        connections: out,
        feeders,
        streets,
        worst_overvoltage,
        unknown_eans: volt.meter_count() - known,
    })
}

/// Per local day: the median over exporting connections of that day's export
/// divided by their best day's export. Sunny: index at least 0.6.
pub fn classify_days(feed: &FeedInTable) -> Vec<DayClass> {
    let g = feed.grid;
    let dates: Vec<String> = (0..g.len).map(|t| to_amsterdam(g.time(t) - g.step_s / 2).format("%Y-%m-%d").to_string()).collect();
    let mut order: Vec<String> = dates.clone();
    order.dedup();
    let day_of: Vec<usize> = dates.iter().map(|d| order.iter().position(|o| o == d).unwrap_or(0)).collect();
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); order.len()];
    for row in 0..feed.eans.len() {
        let mut per_day = vec![0.0f64; order.len()];
        let mut valid = vec![0usize; order.len()];
        for (t, &e) in feed.export(row).iter().enumerate() {
            if e.is_finite() {
                per_day[day_of[t]] += e as f64;
                valid[day_of[t]] += 1;
            }
        }
        let best = per_day.iter().cloned().fold(0.0, f64::max);
        if best < 0.5 {
            continue; // not a PV exporter
        }
        for d in 0..order.len() {
            // Only days with (almost) complete data: a half day is not a cloudy day.
            if valid[d] * 10 >= day_steps(g) * 9 {
                ratios[d].push(per_day[d] / best);
            }
        }
    }
    order
        .into_iter()
        .zip(ratios)
        .map(|(date, r)| {
            let sun_index = super::stats::median(r).unwrap_or(f64::NAN);
            DayClass { date, sun_index, sunny: sun_index >= 0.6 }
        })
        .collect()
}

fn day_steps(g: TimeGrid) -> usize {
    (86_400 / g.step_s) as usize
}

/// Each connection's highest 15-minute export (kWh), to normalise exports.
fn export_peaks(feed: &FeedInTable) -> Vec<f64> {
    (0..feed.eans.len()).map(|r| feed.export(r).iter().filter(|x| x.is_finite()).fold(0.0f64, |a, &b| a.max(b as f64))).collect()
}

/// Area export at interval `t` *without* connection `own`: every other
/// exporter normalised by its own peak, median. A passing cloud lowers it for
/// all, an inverter trip only for one.
fn area_index_without(feed: &FeedInTable, peaks: &[f64], own: usize, t: usize) -> f64 {
    let vals = (0..feed.eans.len()).filter(|&r| r != own && peaks[r] > 0.1).map(|r| feed.export(r)[t] as f64 / peaks[r]);
    super::stats::median(vals).unwrap_or(f64::NAN)
}

/// Highest voltage over all channels in the 10-minute steps overlapping the
/// feed-in interval ending at `tf` (15 minutes long).
fn max_voltage_over(grid: &TimeGrid, chans: &[&[f32]], tf: Timestamp, len_s: i64) -> f64 {
    let first = (tf - len_s - grid.start).div_euclid(grid.step_s) + 1;
    let last = (tf + grid.step_s - 1 - grid.start).div_euclid(grid.step_s);
    let mut m = f64::NEG_INFINITY;
    for i in first.max(0)..=last.min(grid.len as i64 - 1) {
        for s in chans {
            let v = s[i as usize] as f64;
            if v.is_finite() {
                m = m.max(v);
            }
        }
    }
    m
}

fn trip_intervals(
    vgrid: &TimeGrid,
    chans: &[&[f32]],
    feed: &FeedInTable,
    row: usize,
    peaks: &[f64],
    settings: &VoltageSettings,
) -> Vec<Timestamp> {
    let g = feed.grid;
    let exp = feed.export(row);
    let peak = peaks[row];
    if peak < 0.05 {
        return Vec::new(); // no meaningful export: nothing can collapse
    }
    let at_limit = settings.inverter_limit_v - settings.at_limit_margin_v;
    let mut out = Vec::new();
    for j in 1..g.len {
        let (e0, e1) = (exp[j - 1] as f64, exp[j] as f64);
        // Written as negated comparisons so that a NaN step is skipped too.
        #[allow(clippy::nonminimal_bool)]
        let skip = !(e0.is_finite() && e1.is_finite()) || !(e0 >= 0.3 * peak && e1 <= 0.5 * e0);
        if skip {
            continue;
        }
        let tf = g.time(j);
        // The voltage at the limit just before or during the collapse (checked
        // before the costlier area test: it is rare).
        if max_voltage_over(vgrid, chans, tf, 2 * g.step_s) < at_limit {
            continue;
        }
        let (a0, a1) = (area_index_without(feed, peaks, row, j - 1), area_index_without(feed, peaks, row, j));
        if a0.is_finite() && a1.is_finite() && a0 > 0.2 && a1 >= 0.8 * a0 {
            out.push(tf);
        }
    }
    out
}

fn groups(conns: &[ConnectionVoltage], key: impl Fn(usize) -> Option<String>) -> Vec<GroupVoltage> {
    let mut m: BTreeMap<String, GroupVoltage> = BTreeMap::new();
    for c in conns {
        let Some(id) = key(c.connection) else { continue };
        let g = m.entry(id.clone()).or_insert_with(|| GroupVoltage {
            id,
            connections: 0,
            connections_outside_band: 0,
            connections_above_limit: 0,
            connections_likely_tripping: 0,
            minutes_below_band: 0.0,
            minutes_above_band: 0.0,
            minutes_above_limit: 0.0,
            max_v: f64::NEG_INFINITY,
            min_v: f64::INFINITY,
            over_limit_by_hour: [0.0; 24],
        });
        g.connections += 1;
        g.connections_outside_band += usize::from(c.minutes_outside_band() > 0.0);
        g.connections_above_limit += usize::from(c.minutes_above_limit > 0.0);
        g.connections_likely_tripping += usize::from(c.likely_trips());
        g.minutes_below_band += c.minutes_below_band;
        g.minutes_above_band += c.minutes_above_band;
        g.minutes_above_limit += c.minutes_above_limit;
        if c.max_v.is_finite() {
            g.max_v = g.max_v.max(c.max_v);
        }
        if c.min_v.is_finite() {
            g.min_v = g.min_v.min(c.min_v);
        }
        for h in 0..24 {
            g.over_limit_by_hour[h] += c.over_limit_by_hour[h];
        }
    }
    let mut v: Vec<GroupVoltage> = m.into_values().collect();
    v.sort_by(|a, b| {
        b.minutes_above_limit
            .total_cmp(&a.minutes_above_limit)
            .then(b.minutes_below_band.total_cmp(&a.minutes_below_band))
            .then(a.id.cmp(&b.id))
    });
    v
}

/// One-line description of a connection's worst moment, for reports.
pub fn describe_worst(c: &ConnectionVoltage) -> String {
    match (c.worst_over, c.worst_under) {
        (Some((to, vo)), Some((tu, vu))) => {
            format!("max {vo:.1} V at {}, min {vu:.1} V at {}", format_amsterdam(to), format_amsterdam(tu))
        }
        _ => "no valid voltage".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use crate::progress::NoProgress;
    use crate::quality::events::tests::conn;

    /// Two days: connection "a" rises to 252 V at midday with PV export that
    /// collapses at the peak while "b"'s keeps going; "b" stays inside the band.
    #[test]
    fn minutes_outside_and_trip_detection() {
        let start = 1_750_032_000; // 2025-06-16T00:00:00Z
        let vgrid = TimeGrid { start: start + 600, step_s: 600, len: 288 };
        let fgrid = TimeGrid { start: start + 900, step_s: 900, len: 192 };
        let net = Network::new(
            vec![],
            vec![],
            vec![
                conn("a", "F1", "C1", PhaseConnection::Single(Phase::L1)),
                conn("b", "F1", "C1", PhaseConnection::Single(Phase::L2)),
            ],
            Crs::RdNew,
        );
        let sun = |t: i64| {
            let h = (t - start).rem_euclid(86_400) as f64 / 3600.0; // UTC hour
            ((h - 11.5) / 8.0 * std::f64::consts::PI).cos().max(0.0)
        };
        let mut va = Vec::new();
        let mut vb = Vec::new();
        for i in 0..vgrid.len {
            let t = vgrid.time(i) - 300;
            va.push((232.0 + 20.0 * sun(t)) as f32);
            vb.push((230.0 + 5.0 * sun(t)) as f32);
        }
        va[5] = 205.0; // one step below the band at night
        let volt = VoltageTable::new(
            vgrid,
            vec![SeriesKey { ean: "a".into(), channel: Phase::L1 }, SeriesKey { ean: "b".into(), channel: Phase::L1 }],
            [va, vb].concat(),
        );
        let mut ea = Vec::new();
        let mut eb = Vec::new();
        for j in 0..fgrid.len {
            let t = fgrid.time(j) - 450;
            ea.push((0.9 * sun(t)) as f32);
            eb.push((0.8 * sun(t)) as f32);
        }
        // "a" trips around the voltage peak on both days (11:30-11:45 UTC).
        for day in 0..2 {
            let j = day * 96 + 47;
            ea[j] = 0.02;
        }
        let feed = FeedInTable::new(fgrid, vec!["a".into(), "b".into()], vec![0.0; 384], [ea, eb].concat());
        let s = VoltageSettings::for_operator(crate::quality::Operator::Liander);
        let r = analyse(&net, &volt, Some(&feed), &s, &NoProgress).unwrap();
        let a = &r.connections[0];
        assert_eq!(a.minutes_below_band, 10.0);
        assert!(a.minutes_above_limit > 60.0 && a.minutes_above_band == 0.0, "{a:?}");
        assert_eq!(a.trip_intervals.len(), 2, "{:?}", a.trip_intervals.iter().map(|t| format_amsterdam(*t)).collect::<Vec<_>>());
        assert!(a.likely_trips());
        // Midday in summer time is 13:00-14:00 local.
        assert!(matches!(a.worst_hour(), Some(12..=14)), "{:?}", a.worst_hour());
        let b = &r.connections[1];
        assert_eq!(b.minutes_outside_band(), 0.0);
        assert!(b.trip_intervals.is_empty());
        // UTC midnight to midnight touches three local dates; the last holds only 2 hours.
        assert_eq!(r.days.len(), 3);
        assert!(r.days[0].sunny && r.days[1].sunny && r.days[2].sun_index.is_nan(), "{:?}", r.days);
        assert_eq!(r.feeders[0].connections_likely_tripping, 1);
        assert_eq!(r.worst_overvoltage.unwrap().2, 0);
    }
}

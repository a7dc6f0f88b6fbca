//! Use case 5: did the intervention help? Two reads (each at most 10 days, at
//! least one day apart) compared per connection, feeder and station.
//!
//! Statistical strength: consecutive 10-minute means are strongly correlated,
//! so testing the 1,440 raw values would overstate the evidence. The unit of
//! comparison is the *day* (weather and load vary from day to day): for each
//! day the minutes above the inverter limit / below the band and the day's
//! highest / lowest voltage. A Mann–Whitney rank test on the daily extremes
//! (before vs after) gives the p-value; it assumes nothing about their
//! distribution and with 10 + 10 days detects a consistent shift (p < 0.01)
//! while a few unusual days cannot fake one.

use super::VoltageSettings;
use super::stats::{RankTest, mann_whitney, quantile};
use crate::model::time::to_amsterdam;
use crate::model::{Network, VoltageTable};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Longest read the privacy rule allows (days).
pub const MAX_READ_DAYS: f64 = 10.0;
/// Shortest gap between the two reads (days).
pub const MIN_GAP_DAYS: f64 = 1.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    Improved,
    Deteriorated,
    /// Something changed in the minutes, but the days do not show it convincingly.
    NoClearChange,
    /// No minutes outside the limits before or after.
    NoProblem,
    /// Too few days with data.
    InsufficientData,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Improved => "improved",
            Verdict::Deteriorated => "deteriorated",
            Verdict::NoClearChange => "no_clear_change",
            Verdict::NoProblem => "no_problem",
            Verdict::InsufficientData => "insufficient_data",
        }
    }
}

/// Per-day figures of one connection or group.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Daily {
    pub dates: Vec<String>,
    pub minutes_above_limit: Vec<f64>,
    pub minutes_above_band: Vec<f64>,
    pub minutes_below_band: Vec<f64>,
    pub max_v: Vec<f64>,
    pub min_v: Vec<f64>,
}

impl Daily {
    fn mean(v: &[f64]) -> f64 {
        if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 }
    }
}

/// Summary of one side (before or after).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SideStats {
    pub days: usize,
    pub minutes_above_limit_per_day: f64,
    pub minutes_above_band_per_day: f64,
    pub minutes_below_band_per_day: f64,
    pub p5_v: f64,
    pub median_v: f64,
    pub p95_v: f64,
    pub max_v: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub before: SideStats,
    pub after: SideStats,
    pub verdict: Verdict,
    /// Which problem the verdict is about: "overvoltage", "undervoltage" or "voltage level".
    pub measure: String,
    /// Relative change of that problem's minutes per day (-0.85 = -85 %); `None` when it was 0 before.
    pub change: Option<f64>,
    /// Rank test on the daily extremes (highest for overvoltage, lowest for undervoltage).
    pub test: Option<RankTest>,
    /// "improved: overvoltage minutes −85% (strong evidence, p < 0.001, 10 vs 9 days)".
    pub text: String,
    /// For the map: change in minutes outside the limits per day (negative = better).
    pub map_score: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionComparison {
    pub connection: usize,
    pub result: Comparison,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupComparison {
    pub id: String,
    pub connections: usize,
    pub result: Comparison,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BeforeAfter {
    pub connections: Vec<ConnectionComparison>,
    pub feeders: Vec<GroupComparison>,
    pub stations: Vec<GroupComparison>,
    /// Connections with data in only one of the reads.
    pub only_one_read: usize,
}

/// Refuses a pair of reads the privacy rule does not allow.
pub fn check_reads(before: &VoltageTable, after: &VoltageTable) -> Result<(), String> {
    for (name, t) in [("before", before), ("after", after)] {
        if t.grid.days() > MAX_READ_DAYS + 1e-9 {
            return Err(format!("the {name} read covers {:.1} days; at most {MAX_READ_DAYS} days are allowed", t.grid.days()));
        }
    }
    let (b0, b1) = (before.grid.start - before.grid.step_s, before.grid.end());
    let (a0, a1) = (after.grid.start - after.grid.step_s, after.grid.end());
    let gap = if a0 >= b1 {
        a0 - b1
    } else if b0 >= a1 {
        b0 - a1
    } else {
        -1
    };
    if gap < 0 {
        return Err("the before and after reads overlap in time".into());
    }
    if (gap as f64) < MIN_GAP_DAYS * 86_400.0 {
        return Err(format!(
            "the reads are {:.1} h apart; at least {MIN_GAP_DAYS} day must lie between them",
            gap as f64 / 3600.0
        ));
    }
    if a0 < b1 {
        return Err("the 'after' read lies before the 'before' read".into());
    }
    Ok(())
}

/// Daily figures of one meter (all channels: a step is out when any channel is).
pub fn daily(volt: &VoltageTable, ean: &str, s: &VoltageSettings) -> Daily {
    let chans: Vec<&[f32]> = volt.channels(ean).iter().flatten().map(|&i| volt.series(i)).collect();
    let g = volt.grid;
    let step_min = g.step_s as f64 / 60.0;
    let per_day = (86_400 / g.step_s) as usize;
    let mut days: BTreeMap<String, (usize, f64, f64, f64, f64, f64)> = BTreeMap::new();
    for t in 0..g.len {
        let (mut hi, mut lo) = (f64::NEG_INFINITY, f64::INFINITY);
        for c in &chans {
            let v = c[t] as f64;
            if v.is_finite() {
                hi = hi.max(v);
                lo = lo.min(v);
            }
        }
        if !hi.is_finite() {
            continue;
        }
        let date = to_amsterdam(g.time(t) - g.step_s / 2).format("%Y-%m-%d").to_string();
        let d = days.entry(date).or_insert((0, 0.0, 0.0, 0.0, f64::NEG_INFINITY, f64::INFINITY));
        d.0 += 1;
        d.1 += if hi > s.inverter_limit_v { step_min } else { 0.0 };
        d.2 += if hi > s.band_high_v { step_min } else { 0.0 };
        d.3 += if lo < s.band_low_v { step_min } else { 0.0 };
        d.4 = d.4.max(hi);
        d.5 = d.5.min(lo);
    }
    let mut out = Daily::default();
    for (date, (n, al, ab, bb, mx, mn)) in days {
        // A day with less than half its steps would bias the extremes and minutes.
        if n * 2 < per_day {
            continue;
        }
        let scale = per_day as f64 / n as f64;
        out.dates.push(date);
        out.minutes_above_limit.push(al * scale);
        out.minutes_above_band.push(ab * scale);
        out.minutes_below_band.push(bb * scale);
        out.max_v.push(mx);
        out.min_v.push(mn);
    }
    out
}

fn side(d: &Daily, volt: Option<(&VoltageTable, &str)>) -> SideStats {
    let values: Vec<f64> = match volt {
        Some((t, ean)) => t.channels(ean).iter().flatten().flat_map(|&i| t.series(i).iter().map(|&v| v as f64)).collect(),
        None => d.max_v.clone(),
    };
    SideStats {
        days: d.dates.len(),
        minutes_above_limit_per_day: Daily::mean(&d.minutes_above_limit),
        minutes_above_band_per_day: Daily::mean(&d.minutes_above_band),
        minutes_below_band_per_day: Daily::mean(&d.minutes_below_band),
        p5_v: quantile(values.iter().copied(), 0.05).unwrap_or(f64::NAN),
        median_v: quantile(values.iter().copied(), 0.5).unwrap_or(f64::NAN),
        p95_v: quantile(values.iter().copied(), 0.95).unwrap_or(f64::NAN),
        max_v: d.max_v.iter().copied().fold(f64::NAN, f64::max),
    }
}

fn strength(p: f64) -> &'static str {
    if p < 0.01 {
        "strong evidence"
    } else if p < 0.05 {
        "moderate evidence"
    } else {
        "weak evidence"
    }
}

fn fmt_p(p: f64) -> String {
    if p < 0.001 { "p < 0.001".into() } else { format!("p = {p:.3}") }
}

/// The verdict from the daily figures of both sides.
pub fn compare(before: &Daily, after: &Daily, sb: SideStats, sa: SideStats) -> Comparison {
    let days = format!("{} vs {} days", before.dates.len(), after.dates.len());
    let over_b = sb.minutes_above_limit_per_day;
    let over_a = sa.minutes_above_limit_per_day;
    let under_b = sb.minutes_below_band_per_day;
    let under_a = sa.minutes_below_band_per_day;
    let map_score = (over_a + under_a) - (over_b + under_b);
    let mut c = Comparison {
        before: sb,
        after: sa,
        verdict: Verdict::InsufficientData,
        measure: "voltage level".into(),
        change: None,
        test: None,
        text: String::new(),
        map_score,
    };
    if before.dates.len() < 3 || after.dates.len() < 3 {
        c.text = format!("insufficient data: {days} with enough readings (at least 3 each needed)");
        return c;
    }
    // The problem that dominates (before or after) decides what is judged.
    let overvoltage = over_b + over_a >= under_b + under_a;
    let (mb, ma, test, word) = if overvoltage {
        (over_b, over_a, mann_whitney(&before.max_v, &after.max_v), "overvoltage")
    } else {
        // Lower minima are worse: negate so "higher" means worse in both cases.
        let nb: Vec<f64> = before.min_v.iter().map(|v| -v).collect();
        let na: Vec<f64> = after.min_v.iter().map(|v| -v).collect();
        (under_b, under_a, mann_whitney(&nb, &na), "undervoltage")
    };
    c.test = test;
    let Some(t) = test else {
        c.text = format!("insufficient data: {days}");
        return c;
    };
    let p = t.p_value;
    let worse = t.prob_after_higher > 0.5;
    if mb == 0.0 && ma == 0.0 {
        c.verdict = Verdict::NoProblem;
        let shift = sa.max_v - sb.max_v;
        c.text = format!(
            "no minutes outside the limits before or after; highest voltage {shift:+.1} V ({}, {}, {days})",
            strength(p),
            fmt_p(p)
        );
        return c;
    }
    c.measure = word.into();
    c.change = (mb > 0.0).then(|| (ma - mb) / mb);
    let pct = match c.change {
        // "-0%" would read as a tiny improvement. (ASCII signs: the app's font has no U+2212.)
        Some(ch) if (ch * 100.0).abs() < 0.5 => "±0%".into(),
        Some(ch) => format!("{:+.0}%", ch * 100.0),
        None => format!("from 0 to {ma:.0} min/day"),
    };
    let relevant = (ma - mb).abs() >= 0.25 * mb.max(ma);
    c.verdict = if p < 0.05 && relevant && !worse && ma < mb {
        Verdict::Improved
    } else if p < 0.05 && relevant && worse && ma > mb {
        Verdict::Deteriorated
    } else {
        Verdict::NoClearChange
    };
    let head = match c.verdict {
        Verdict::Improved => "improved",
        Verdict::Deteriorated => "deteriorated",
        _ => "no clear change",
    };
    c.text = format!("{head}: {word} minutes {pct} (from {mb:.0} to {ma:.0} min/day; {}, {}, {days})", strength(p), fmt_p(p));
    c
}

/// Compares every connection present in both reads, and per feeder and station
/// (daily figures averaged over their connections).
pub fn before_after(
    net: &Network,
    before: &VoltageTable,
    after: &VoltageTable,
    s: &VoltageSettings,
) -> Result<BeforeAfter, String> {
    check_reads(before, after)?;
    let mut out = BeforeAfter { connections: Vec::new(), feeders: Vec::new(), stations: Vec::new(), only_one_read: 0 };
    let mut feeder_days: BTreeMap<String, (usize, Vec<Daily>, Vec<Daily>)> = BTreeMap::new();
    let mut station_days: BTreeMap<String, (usize, Vec<Daily>, Vec<Daily>)> = BTreeMap::new();
    for (ci, c) in net.connections.iter().enumerate() {
        let has_b = before.channels(&c.ean).iter().any(Option::is_some);
        let has_a = after.channels(&c.ean).iter().any(Option::is_some);
        if has_b != has_a {
            out.only_one_read += 1;
        }
        if !(has_b && has_a) {
            continue;
        }
        let db = daily(before, &c.ean, s);
        let da = daily(after, &c.ean, s);
        let result = compare(&db, &da, side(&db, Some((before, &c.ean))), side(&da, Some((after, &c.ean))));
        out.connections.push(ConnectionComparison { connection: ci, result });
        for (map, key) in [(&mut feeder_days, &c.feeder_label()), (&mut station_days, &c.station_id)] {
            let e = map.entry(key.clone()).or_default();
            e.0 += 1;
            e.1.push(db.clone());
            e.2.push(da.clone());
        }
    }
    for (map, target) in [(feeder_days, &mut out.feeders), (station_days, &mut out.stations)] {
        for (id, (n, b, a)) in map {
            let (gb, ga) = (mean_daily(&b), mean_daily(&a));
            let result = compare(&gb, &ga, side(&gb, None), side(&ga, None));
            target.push(GroupComparison { id, connections: n, result });
        }
    }
    Ok(out)
}

/// Day-by-day mean over several connections' daily figures (by date).
fn mean_daily(list: &[Daily]) -> Daily {
    let mut acc: BTreeMap<&str, [f64; 6]> = BTreeMap::new();
    for d in list {
        for (i, date) in d.dates.iter().enumerate() {
            let a = acc.entry(date).or_insert([0.0; 6]);
            a[0] += 1.0;
            a[1] += d.minutes_above_limit[i];
            a[2] += d.minutes_above_band[i];
            a[3] += d.minutes_below_band[i];
            a[4] += d.max_v[i];
            a[5] += d.min_v[i];
        }
    }
    let mut out = Daily::default();
    for (date, a) in acc {
        let n = a[0];
        out.dates.push(date.to_string());
        out.minutes_above_limit.push(a[1] / n);
        out.minutes_above_band.push(a[2] / n);
        out.minutes_below_band.push(a[3] / n);
        out.max_v.push(a[4] / n);
        out.min_v.push(a[5] / n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use crate::quality::events::tests::conn;

    fn table(start: i64, days: usize, offset_v: f32) -> VoltageTable {
        let grid = TimeGrid { start: start + 600, step_s: 600, len: days * 144 };
        let vals = (0..grid.len)
            .map(|i| {
                let h = (i % 144) as f32 / 6.0;
                let day = (i / 144) as f32;
                let midday = (((h - 12.0) / 12.0 * std::f32::consts::PI).cos()).max(0.0);
                235.0 + offset_v + 17.0 * midday + (day * 1.7).sin() * 1.5
            })
            .collect();
        VoltageTable::new(grid, vec![SeriesKey { ean: "a".into(), channel: Phase::L1 }], vals)
    }

    #[test]
    fn lower_tap_is_an_improvement_with_strong_evidence() {
        let net = Network::new(vec![], vec![], vec![conn("a", "F1", "C1", PhaseConnection::Single(Phase::L1))], Crs::RdNew);
        let d = 86_400;
        let before = table(1_750_032_000, 10, 0.0);
        let after = table(1_750_032_000 + 12 * d, 10, -5.9);
        let r = before_after(&net, &before, &after, &VoltageSettings::default()).unwrap();
        let c = &r.connections[0].result;
        assert_eq!(c.verdict, Verdict::Improved, "{}", c.text);
        assert!(c.text.starts_with("improved: overvoltage minutes -"), "{}", c.text);
        assert!(c.test.unwrap().p_value < 0.001);
        assert!(c.map_score < 0.0);
        assert_eq!(r.feeders[0].result.verdict, Verdict::Improved);
        // Swapped: a deterioration.
        let r2 = before_after(
            &net,
            &table(1_750_032_000, 10, -5.9),
            &table(1_750_032_000 + 12 * d, 10, 0.0),
            &VoltageSettings::default(),
        )
        .unwrap();
        assert_eq!(r2.connections[0].result.verdict, Verdict::Deteriorated);
        // Same level: no clear change.
        let r3 = before_after(&net, &before, &table(1_750_032_000 + 12 * d, 10, 0.0), &VoltageSettings::default()).unwrap();
        assert_eq!(r3.connections[0].result.verdict, Verdict::NoClearChange, "{}", r3.connections[0].result.text);
    }

    #[test]
    fn reads_must_respect_the_privacy_rule() {
        let d = 86_400;
        let a = table(1_750_032_000, 10, 0.0);
        assert!(check_reads(&a, &table(1_750_032_000 + 10 * d + 3600, 5, 0.0)).unwrap_err().contains("at least 1 day"));
        assert!(check_reads(&a, &table(1_750_032_000 + 5 * d, 5, 0.0)).unwrap_err().contains("overlap"));
        assert!(check_reads(&table(1_750_032_000, 11, 0.0), &table(1_750_032_000 + 20 * d, 5, 0.0)).is_err());
        assert!(check_reads(&a, &table(1_750_032_000 + 11 * d, 5, 0.0)).is_ok());
    }
}

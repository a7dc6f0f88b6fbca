//! Use case 12: a hint of a broken (or high-resistance) neutral. With the
//! neutral interrupted, the star point floats with the load unbalance: one
//! phase voltage rises while another falls, by tens of volts, whenever load
//! flows. A healthy four-wire network shows a few volts of such divergence.
//!
//! Checked on the three channels of every three-phase meter, and on the
//! neighbours of every cable section (the median voltage per registered phase
//! of the single-phase meters on it). Each phase's usual offset from the
//! common mean (median over the read) is removed first, so a permanently
//! higher phase does not count; what remains is movement *apart*.

use super::stats::quantile;
use crate::model::time::Timestamp;
use crate::model::{FeedInTable, Network, PhaseConnection, VoltageTable};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NeutralSettings {
    /// A step counts as "moving apart" when one phase is this far above its usual
    /// offset and another this far below it (V).
    pub opposite_v: f64,
    /// Flag when at least this many 10-minute steps move apart.
    pub min_steps: usize,
}

impl Default for NeutralSettings {
    fn default() -> Self {
        NeutralSettings { opposite_v: 10.0, min_steps: 3 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum NeutralSubject {
    /// A three-phase meter (connection index).
    Meter(usize),
    /// The single-phase neighbours on a cable section (cable id).
    Cable(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NeutralHint {
    pub subject: NeutralSubject,
    /// Connections to inspect.
    pub connections: Vec<usize>,
    /// 99th percentile of the spread between phases after removing the usual offsets (V).
    pub spread_p99_v: f64,
    /// Steps in which phases moved apart in opposite directions.
    pub opposite_steps: usize,
    /// Worst step: time and spread (V).
    pub worst: Option<(Timestamp, f64)>,
    /// Correlation of the spread with the meter's import (load), when feed-in is known.
    pub load_correlation: Option<f64>,
    pub evidence: String,
}

/// Divergence figures of 2 or 3 aligned phase series.
fn divergence(series: &[Vec<f64>], opposite_v: f64) -> (Vec<f64>, usize) {
    let n = series[0].len();
    let mean_at = |t: usize| {
        let vals: Vec<f64> = series.iter().map(|s| s[t]).filter(|v| v.is_finite()).collect();
        (vals.len() >= 2).then(|| vals.iter().sum::<f64>() / vals.len() as f64)
    };
    let means: Vec<Option<f64>> = (0..n).map(mean_at).collect();
    let offsets: Vec<f64> =
        series.iter().map(|s| quantile((0..n).filter_map(|t| means[t].map(|m| s[t] - m)), 0.5).unwrap_or(0.0)).collect();
    let mut spread = vec![f64::NAN; n];
    let mut opposite = 0;
    for t in 0..n {
        let Some(m) = means[t] else { continue };
        let dev: Vec<f64> = series.iter().zip(&offsets).map(|(s, o)| s[t] - m - o).filter(|d| d.is_finite()).collect();
        let hi = dev.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lo = dev.iter().cloned().fold(f64::INFINITY, f64::min);
        spread[t] = hi - lo;
        if hi >= opposite_v && lo <= -opposite_v {
            opposite += 1;
        }
    }
    (spread, opposite)
}

fn correlation(a: &[f64], b: &[f64]) -> Option<f64> {
    let pairs: Vec<(f64, f64)> = a.iter().zip(b).filter(|(x, y)| x.is_finite() && y.is_finite()).map(|(x, y)| (*x, *y)).collect();
    if pairs.len() < 10 {
        return None;
    }
    let n = pairs.len() as f64;
    let (ma, mb) = (pairs.iter().map(|p| p.0).sum::<f64>() / n, pairs.iter().map(|p| p.1).sum::<f64>() / n);
    let cov: f64 = pairs.iter().map(|p| (p.0 - ma) * (p.1 - mb)).sum();
    let va: f64 = pairs.iter().map(|p| (p.0 - ma).powi(2)).sum();
    let vb: f64 = pairs.iter().map(|p| (p.1 - mb).powi(2)).sum();
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

/// The meter's import power on the voltage grid (nearest 15-minute interval covering each step).
fn import_on_grid(volt: &VoltageTable, feed: &FeedInTable, ean: &str) -> Option<Vec<f64>> {
    let row = feed.index(ean)?;
    let imp = feed.import(row);
    let fg = feed.grid;
    Some(
        (0..volt.grid.len)
            .map(|t| {
                let tv = volt.grid.time(t);
                let j = (tv - fg.start + fg.step_s - 1).div_euclid(fg.step_s);
                if j >= 0 && (j as usize) < fg.len { imp[j as usize] as f64 * 3600.0 / fg.step_s as f64 } else { f64::NAN }
            })
            .collect(),
    )
}

fn hint(
    volt: &VoltageTable,
    subject: NeutralSubject,
    connections: Vec<usize>,
    series: Vec<Vec<f64>>,
    load: Option<Vec<f64>>,
    s: &NeutralSettings,
) -> Option<NeutralHint> {
    let (spread, opposite) = divergence(&series, s.opposite_v);
    if opposite < s.min_steps {
        return None;
    }
    let p99 = quantile(spread.iter().copied(), 0.99).unwrap_or(f64::NAN);
    let worst = spread
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(t, v)| (volt.grid.time(t), *v));
    let load_correlation = load.and_then(|l| correlation(&spread, &l));
    let mut evidence = format!(
        "phases moved apart in opposite directions (one ≥{:.0} V up, another ≥{:.0} V down) in {opposite} ten-minute steps; 99th percentile of the spread {p99:.1} V",
        s.opposite_v, s.opposite_v
    );
    if let Some((t, v)) = worst {
        evidence.push_str(&format!("; worst {v:.1} V at {}", crate::model::time::format_amsterdam(t)));
    }
    if let Some(r) = load_correlation {
        evidence.push_str(&format!("; correlation with load {r:.2}"));
    }
    Some(NeutralHint { subject, connections, spread_p99_v: p99, opposite_steps: opposite, worst, load_correlation, evidence })
}

/// Meters and cable sections whose phase voltages move apart: to inspect.
pub fn neutral_hints(net: &Network, volt: &VoltageTable, feed: Option<&FeedInTable>, s: &NeutralSettings) -> Vec<NeutralHint> {
    let mut out = Vec::new();
    let n = volt.grid.len;
    let as_f64 = |sl: &[f32]| sl.iter().map(|&v| v as f64).collect::<Vec<f64>>();
    // Single-phase meters per (cable, registered phase).
    let mut by_cable: BTreeMap<&str, [Vec<usize>; 3]> = BTreeMap::new();
    for (ci, c) in net.connections.iter().enumerate() {
        let ch = volt.channels(&c.ean);
        match c.phase {
            Some(PhaseConnection::Three) if ch.iter().all(Option::is_some) => {
                let series: Vec<Vec<f64>> = ch.iter().flatten().map(|&i| as_f64(volt.series(i))).collect();
                let load = feed.and_then(|f| import_on_grid(volt, f, &c.ean));
                out.extend(hint(volt, NeutralSubject::Meter(ci), vec![ci], series, load, s));
            }
            Some(PhaseConnection::Single(p)) => {
                if let (true, Some(cable)) = (ch.iter().any(Option::is_some), c.cable_id.as_deref()) {
                    by_cable.entry(cable).or_default()[p.index()].push(ci);
                }
            }
            // Unknown phase: no phase group to compare it with.
            Some(PhaseConnection::Three) | None => {}
        }
    }
    for (cable, phases) in by_cable {
        let present: Vec<&Vec<usize>> = phases.iter().filter(|v| !v.is_empty()).collect();
        if present.len() < 2 {
            continue;
        }
        let series: Vec<Vec<f64>> = present
            .iter()
            .map(|conns| {
                (0..n)
                    .map(|t| {
                        let vals = conns.iter().filter_map(|&ci| {
                            let i = volt.channels(&net.connections[ci].ean).into_iter().flatten().next()?;
                            Some(volt.series(i)[t] as f64)
                        });
                        super::stats::median(vals).unwrap_or(f64::NAN)
                    })
                    .collect()
            })
            .collect();
        let conns: Vec<usize> = present.iter().flat_map(|v| v.iter().copied()).collect();
        out.extend(hint(volt, NeutralSubject::Cable(cable.to_string()), conns, series, None, s));
    }
    out.sort_by_key(|h| std::cmp::Reverse(h.opposite_steps));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use crate::quality::events::tests::conn;

    #[test]
    fn floating_star_point_is_flagged_and_healthy_unbalance_is_not() {
        let grid = TimeGrid { start: 600, step_s: 600, len: 288 };
        let net = Network::new(
            vec![],
            vec![],
            vec![conn("broken", "F1", "C1", PhaseConnection::Three), conn("healthy", "F1", "C1", PhaseConnection::Three)],
            Crs::RdNew,
        );
        let mut keys = Vec::new();
        let mut vals = Vec::new();
        for (ean, swing) in [("broken", 35.0f32), ("healthy", 3.0)] {
            for (k, sign) in [1.0f32, -1.0, 0.2].iter().enumerate() {
                keys.push(SeriesKey { ean: ean.into(), channel: Phase::from_index(k) });
                for t in 0..grid.len {
                    // Evening load (17-22 h) unbalanced onto the first phase.
                    let h = (t % 144) / 6;
                    let load = if (17..22).contains(&h) { 1.0 } else { 0.1 };
                    vals.push(231.0 + k as f32 * 2.0 + sign * swing * load);
                }
            }
        }
        let volt = VoltageTable::new(grid, keys, vals);
        let hints = neutral_hints(&net, &volt, None, &NeutralSettings::default());
        assert_eq!(hints.len(), 1, "{hints:?}");
        assert_eq!(hints[0].subject, NeutralSubject::Meter(0));
        assert!(hints[0].opposite_steps >= 30 && hints[0].spread_p99_v > 50.0, "{:?}", hints[0]);
    }
}

//! Use case 6: PV found vs registered, from at most one week of 15-minute
//! feed-in.
//!
//! **Detection.** PV exports in daylight and follows the sun. A connection has
//! PV when it exported at least `min_export_kwh` in daylight, on at least two
//! days (one for a read of one or two days), and (almost) nothing at night.
//!
//! **Size (kWp).** The meter sees export = generation − own use. For each day:
//! generation ≈ export + the household's base load (median night-time import,
//! a conservative guess of its own use at midday), taken at the day's second
//! highest 15-minute interval (one interval could be a cloud-edge spike),
//! divided by the clear-sky output of 1 kWp at that day's solar noon (Haurwitz
//! irradiance, a low-sun tilt gain, performance ratio 0.85 — see `sun`). The
//! clearest day gives the estimate. A roof facing east or west peaks at another
//! time but at a similar level, hence the day's peak rather than the noon value.
//! Clouds only lower the estimate, so a week without a clear day underestimates:
//! **calibration** against the register removes that and any model bias: the
//! median of estimated / registered kWp over the connections where both agree
//! roughly (ratio within 0.5..2) scales all estimates, when at least
//! `min_calibration` such connections exist. The factor is reported.

use super::stats::median;
use super::sun::{reference_w_per_kwp, sin_elevation};
use crate::model::time::to_amsterdam;
use crate::model::{FeedInTable, Network};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SolarSettings {
    /// Daylight export (kWh over the read) needed to call it PV (with export on
    /// at least two days and none at night).
    pub min_export_kwh: f64,
    /// Registered and estimated kWp differ by more than this factor: orange.
    pub deviation_factor: f64,
    /// Connections needed for the calibration against the register.
    pub min_calibration: usize,
    /// Longest read the privacy rule allows (days).
    pub max_days: f64,
}

impl Default for SolarSettings {
    fn default() -> Self {
        SolarSettings { min_export_kwh: 0.25, deviation_factor: 1.5, min_calibration: 10, max_days: 7.0 }
    }
}

/// The dot on the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RegisterStatus {
    /// PV found and registered with a similar size (green).
    Consistent,
    /// PV found, nothing registered (red): reminder letter.
    NotRegistered,
    /// PV found, registered size far off (orange): request to check.
    LargeDeviation,
    /// Registered, but no PV seen in a read with sunny days (orange): request to check.
    RegisteredNotFound,
    /// No PV found and none registered (no dot).
    NoPv,
    /// Too little data to say.
    Unknown,
}

impl RegisterStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RegisterStatus::Consistent => "consistent",
            RegisterStatus::NotRegistered => "not_registered",
            RegisterStatus::LargeDeviation => "large_deviation",
            RegisterStatus::RegisteredNotFound => "registered_not_found",
            RegisterStatus::NoPv => "no_pv",
            RegisterStatus::Unknown => "unknown",
        }
    }
    /// Map colour name.
    pub fn colour(self) -> &'static str {
        match self {
            RegisterStatus::Consistent => "green",
            RegisterStatus::NotRegistered => "red",
            RegisterStatus::LargeDeviation | RegisterStatus::RegisteredNotFound => "orange",
            RegisterStatus::NoPv | RegisterStatus::Unknown => "",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PvResult {
    pub connection: usize,
    pub pv_found: bool,
    /// Calibrated estimate (kWp); `None` without PV.
    pub estimated_kwp: Option<f64>,
    /// Before calibration.
    pub raw_kwp: Option<f64>,
    pub registered_kwp: Option<f64>,
    pub status: RegisterStatus,
    pub export_kwh: f64,
    pub night_export_kwh: f64,
    pub days: usize,
    pub note: String,
    /// Found only as a midday dip in consumption: the system never exported (small, or
    /// its output used on site), its import falls when the sun shines ([`midday_dip`]).
    #[serde(default)]
    pub dip_only: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PvAnalysis {
    pub settings: SolarSettings,
    pub results: Vec<PvResult>,
    /// Factor applied to the raw estimates; 1.0 when not calibrated.
    pub calibration: f64,
    pub calibration_connections: usize,
    /// Meters in the feed-in that are not in the network.
    pub unknown_eans: usize,
    pub notes: Vec<String>,
}

impl PvAnalysis {
    pub fn count(&self, s: RegisterStatus) -> usize {
        self.results.iter().filter(|r| r.status == s).count()
    }
}

struct Raw {
    found: bool,
    kwp: Option<f64>,
    export: f64,
    night: f64,
    days: usize,
    note: String,
}

fn analyse_one(feed: &FeedInTable, row: usize, lat: f64, lon: f64, s: &SolarSettings) -> Raw {
    let g = feed.grid;
    let (imp, exp) = (feed.import(row), feed.export(row));
    let to_kw = 3600.0 / g.step_s as f64;
    let mut night_import = Vec::new();
    let (mut export, mut night) = (0.0, 0.0);
    // Per local day: (valid steps, export kWh, generation kW per interval, noon reference).
    let mut days: BTreeMap<String, (usize, f64, Vec<f64>, f64)> = BTreeMap::new();
    for t in 0..g.len {
        let mid = g.time(t) - g.step_s / 2;
        let se = sin_elevation(mid, lat, lon);
        let (i, e) = (imp[t] as f64, exp[t] as f64);
        let date = to_amsterdam(mid).format("%Y-%m-%d").to_string();
        let d = days.entry(date).or_insert((0, 0.0, Vec::new(), 0.0));
        d.3 = d.3.max(reference_w_per_kwp(se) / 1000.0);
        if !e.is_finite() {
            continue;
        }
        d.0 += 1;
        if se < -0.1 {
            night += e;
            if i.is_finite() {
                night_import.push(i * to_kw);
            }
        } else if se > 0.0 {
            export += e;
            d.1 += e;
        }
        d.2.push(e * to_kw);
    }
    let base_kw = median(night_import).unwrap_or(0.0);
    let steps_per_day = (86_400 / g.step_s) as usize;
    let full_days: Vec<_> = days.values().filter(|d| d.0 * 2 >= steps_per_day).collect();
    // A small system in a household that uses most of its output exports little
    // (0.3 kWh in an October week on the street sample): any daylight export on
    // two days counts, since a meter without generation never exports.
    let export_days = full_days.iter().filter(|d| d.1 >= 0.05).count();
    let needed_days = if full_days.len() <= 2 { 1 } else { 2 };
    let mut note = String::new();
    if full_days.is_empty() {
        return Raw { found: false, kwp: None, export, night, days: 0, note: "no day with enough feed-in data".into() };
    }
    let found = export >= s.min_export_kwh && export_days >= needed_days && night <= 0.05 * export.max(0.1);
    if !found && export >= s.min_export_kwh && night > 0.05 * export {
        note = format!("exports at night too ({night:.1} kWh): battery or other generation, not judged as PV");
    }
    let kwp = found.then(|| {
        full_days
            .iter()
            .filter(|d| d.3 > 0.05)
            .map(|d| {
                let mut generation: Vec<f64> = d.2.iter().filter(|&&p| p > 0.0).map(|p| p + base_kw).collect();
                generation.sort_by(|a, b| b.total_cmp(a));
                let second = generation.get(1).or(generation.first()).copied().unwrap_or(0.0);
                second / d.3
            })
            .fold(0.0, f64::max)
    });
    Raw { found, kwp, export, night, days: full_days.len(), note }
}

/// PV per connection with a feed-in row, compared with the register.
pub fn analyse(net: &Network, feed: &FeedInTable, s: &SolarSettings) -> PvAnalysis {
    let mut notes = Vec::new();
    if feed.grid.days() > s.max_days + 1e-9 {
        notes.push(format!(
            "the feed-in covers {:.1} days; the purpose allows at most {} (one week per season)",
            feed.grid.days(),
            s.max_days
        ));
    }
    let mut raws: Vec<(usize, Raw)> = Vec::new();
    let mut rows: Vec<usize> = Vec::new();
    for (ci, c) in net.connections.iter().enumerate() {
        let Some(row) = feed.index(&c.ean) else { continue };
        let (lat, lon) = if c.pos.lat != 0.0 { (c.pos.lat, c.pos.lon) } else { (52.1, 5.3) };
        raws.push((ci, analyse_one(feed, row, lat, lon, s)));
        rows.push(row);
    }
    // Systems that never export (small ones in winter, a business using its own output)
    // show only as import that falls when the sun shines: the exporting systems of the
    // same read tell when it shone.
    let mut dips = vec![false; raws.len()];
    if let Some(sun) = sunshine_proxy(feed, &raws, &rows) {
        for (j, (_, r)) in raws.iter_mut().enumerate() {
            if r.found || r.days == 0 || r.night > 0.05 * r.export.max(0.1) {
                continue;
            }
            if let Some(kwp) = midday_dip(feed, rows[j], &sun, s) {
                r.found = true;
                r.kwp = Some(kwp);
                r.note =
                    "seen only as a midday dip in consumption (no export): size from how far the import falls in sunshine".into();
                dips[j] = true;
            }
        }
    }
    // Calibration against the register: connections where both roughly agree.
    let ratios: Vec<f64> = raws
        .iter()
        .filter_map(|(ci, r)| {
            let reg = net.connections[*ci].pv_kwp_registered.filter(|k| *k > 0.0)?;
            let ratio = r.kwp? / reg;
            (0.5..=2.0).contains(&ratio).then_some(ratio)
        })
        .collect();
    let (calibration, calibration_connections) = if ratios.len() >= s.min_calibration {
        let m = median(ratios.iter().copied()).unwrap_or(1.0);
        (1.0 / m, ratios.len())
    } else {
        notes.push(format!(
            "only {} connection(s) to calibrate against the register (need {}): clear-sky model used as is",
            ratios.len(),
            s.min_calibration
        ));
        (1.0, 0)
    };
    // A registered system is only "not found" if the read had export days at all.
    let any_sun = raws.iter().filter(|(_, r)| r.found).count() >= 3 || raws.len() < 3;
    let results = raws
        .into_iter()
        .zip(dips)
        .map(|((ci, r), dip_only)| {
            let reg = net.connections[ci].pv_kwp_registered.filter(|k| *k > 0.0);
            let est = r.kwp.map(|k| (k * calibration * 100.0).round() / 100.0);
            let status = if r.days == 0 {
                RegisterStatus::Unknown
            } else {
                match (r.found, est, reg) {
                    (true, Some(e), Some(g)) => {
                        let f = (e / g).max(g / e.max(1e-6));
                        if f > s.deviation_factor { RegisterStatus::LargeDeviation } else { RegisterStatus::Consistent }
                    }
                    (true, _, None) => RegisterStatus::NotRegistered,
                    (true, None, Some(_)) => RegisterStatus::Consistent,
                    (false, _, Some(_)) if any_sun => RegisterStatus::RegisteredNotFound,
                    (false, _, Some(_)) => RegisterStatus::Unknown,
                    (false, _, None) => RegisterStatus::NoPv,
                }
            };
            PvResult {
                connection: ci,
                pv_found: r.found,
                estimated_kwp: est,
                raw_kwp: r.kwp.map(|k| (k * 100.0).round() / 100.0),
                registered_kwp: reg,
                status,
                export_kwh: r.export,
                night_export_kwh: r.night,
                days: r.days,
                note: r.note,
                dip_only,
            }
        })
        .collect();
    let unknown_eans = feed.eans.iter().filter(|e| net.connection_index(e).is_none()).count();
    if unknown_eans > 0 {
        notes.push(format!("{unknown_eans} meter(s) in the feed-in are not in the network"));
    }
    PvAnalysis { settings: *s, results, calibration, calibration_connections, unknown_eans, notes }
}

/// Per 15-minute step, the output per (raw) kWp of the read's exporting systems: the
/// median over the systems found by their export of `export kW / raw kWp`, in daylight
/// only (NaN at night). `None` with fewer than three such systems.
fn sunshine_proxy(feed: &FeedInTable, raws: &[(usize, Raw)], rows: &[usize]) -> Option<Vec<f64>> {
    let to_kw = 3600.0 / feed.grid.step_s as f64;
    let systems: Vec<(usize, f64)> =
        raws.iter().zip(rows).filter_map(|((_, r), &row)| Some((row, r.kwp.filter(|k| r.found && *k > 0.1)?))).collect();
    if systems.len() < 3 {
        return None;
    }
    let proxy = (0..feed.grid.len)
        .map(|t| {
            let v: Vec<f64> =
                systems.iter().map(|&(row, kwp)| feed.export(row)[t] as f64 * to_kw / kwp).filter(|x| x.is_finite()).collect();
            median(v.iter().copied()).unwrap_or(f64::NAN)
        })
        .collect::<Vec<f64>>();
    // Night: no system exports; leave those steps out of the dip test.
    Some(proxy.into_iter().map(|p| if p > 1e-3 { p } else { f64::NAN }).collect())
}

/// The size (raw kWp) of a system seen only in the import: the import, with each
/// time of day's median over the read taken out (the household's daily rhythm), is
/// regressed on the sunshine proxy with the same done to it. A system shows as a clearly
/// negative slope (import falls by its output when the sun shines); the slope's standard
/// error allows for the autocorrelation of the residual. `None` unless the dip is at
/// least 0.3 kWp and 5 standard errors.
pub fn midday_dip(feed: &FeedInTable, row: usize, sun: &[f64], s: &SolarSettings) -> Option<f64> {
    let g = feed.grid;
    let to_kw = 3600.0 / g.step_s as f64;
    let per_day = (86_400 / g.step_s) as usize;
    let imp = feed.import(row);
    let idx: Vec<usize> = (0..g.len).filter(|&t| sun[t].is_finite() && imp[t].is_finite()).collect();
    if idx.len() < 3 * s.min_calibration.max(8) {
        return None;
    }
    // Each time of day's median over the read, for the import and the proxy.
    let mut by_slot: BTreeMap<usize, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for &t in &idx {
        let e = by_slot.entry(t % per_day).or_default();
        e.0.push(imp[t] as f64 * to_kw);
        e.1.push(sun[t]);
    }
    let med: BTreeMap<usize, (f64, f64)> = by_slot
        .into_iter()
        .filter(|(_, v)| v.0.len() >= 3)
        .map(|(k, v)| (k, (median(v.0).unwrap_or(0.0), median(v.1).unwrap_or(0.0))))
        .collect();
    let pairs: Vec<(f64, f64)> =
        idx.iter().filter_map(|&t| med.get(&(t % per_day)).map(|m| (imp[t] as f64 * to_kw - m.0, sun[t] - m.1))).collect();
    let n = pairs.len() as f64;
    let sxx: f64 = pairs.iter().map(|p| p.1 * p.1).sum();
    if n < 24.0 || sxx <= 1e-9 {
        return None;
    }
    let b = pairs.iter().map(|p| p.0 * p.1).sum::<f64>() / sxx;
    let res: Vec<f64> = pairs.iter().map(|p| p.0 - b * p.1).collect();
    let var = res.iter().map(|e| e * e).sum::<f64>() / (n - 1.0);
    let rho = {
        let num: f64 = res.windows(2).map(|w| w[0] * w[1]).sum();
        let den: f64 = res.iter().map(|e| e * e).sum::<f64>().max(1e-12);
        (num / den).clamp(0.0, 0.95)
    };
    let se = (var / sxx * (1.0 + rho) / (1.0 - rho)).sqrt();
    (b <= -0.3 && b / se <= -5.0).then_some(-b)
}

/// Which letter a connection gets, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Letter {
    /// Reminder to register the PV installation (energieleveren.nl).
    RegisterReminder,
    /// Request to check the registration.
    CheckRegistration,
}

pub fn letter_for(status: RegisterStatus) -> Option<Letter> {
    match status {
        RegisterStatus::NotRegistered => Some(Letter::RegisterReminder),
        RegisterStatus::LargeDeviation | RegisterStatus::RegisteredNotFound => Some(Letter::CheckRegistration),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use crate::quality::events::tests::conn;
    use crate::quality::sun::reference_over_interval;

    /// A week in June: a 4 kWp system (registered 4), a 3 kWp one (unregistered),
    /// a 5 kWp one registered as 2, no PV (registered 3), and no PV at all.
    #[test]
    fn detects_sizes_and_compares_with_the_register() {
        let start = 1_750_032_000 - 7200; // 2025-06-16 00:00 local
        let g = TimeGrid { start: start + 900, step_s: 900, len: 7 * 96 };
        let specs = [("a", 4.0, Some(4.0)), ("b", 3.0, None), ("c", 5.0, Some(2.0)), ("d", 0.0, Some(3.0)), ("e", 0.0, None)];
        let mut conns = Vec::new();
        let (mut imp, mut exp) = (Vec::new(), Vec::new());
        for (ean, kwp, reg) in specs {
            let mut c = conn(ean, "F1", "C1", PhaseConnection::Single(Phase::L1));
            c.pv_kwp_registered = reg;
            conns.push(c);
            for t in 0..g.len {
                let day = t / 96;
                let cloud = if day % 3 == 1 { 0.35 } else { 1.0 };
                let pv_kw = kwp * reference_over_interval(g.time(t), 900, 52.155, 5.387) / 1000.0 * cloud;
                let load_kw = 0.3 + if (t % 96) / 4 == 19 { 1.5 } else { 0.0 };
                let net_kw = pv_kw - load_kw;
                imp.push((net_kw.min(0.0).abs() / 4.0) as f32);
                exp.push((net_kw.max(0.0) / 4.0) as f32);
            }
        }
        let net = Network::new(vec![], vec![], conns, Crs::RdNew);
        let feed = FeedInTable::new(g, specs.iter().map(|s| s.0.to_string()).collect(), imp, exp);
        let r = analyse(&net, &feed, &SolarSettings::default());
        let by: Vec<&PvResult> = r.results.iter().collect();
        assert_eq!(by[0].status, RegisterStatus::Consistent);
        assert!((by[0].estimated_kwp.unwrap() - 4.0).abs() < 0.4, "{:?}", by[0]);
        assert_eq!(by[1].status, RegisterStatus::NotRegistered);
        assert!((by[1].estimated_kwp.unwrap() - 3.0).abs() < 0.4, "{:?}", by[1]);
        assert_eq!(by[2].status, RegisterStatus::LargeDeviation);
        assert_eq!(by[3].status, RegisterStatus::RegisteredNotFound);
        assert_eq!(by[4].status, RegisterStatus::NoPv);
        assert_eq!(r.calibration, 1.0); // too few to calibrate
        assert_eq!(letter_for(by[1].status), Some(Letter::RegisterReminder));
        assert_eq!(letter_for(by[2].status), Some(Letter::CheckRegistration));
    }
}

//! Weather, the MV-side voltage and household load/PV profiles on the
//! 10-minute grid. Profiles are 10-minute *averages*; what happens inside an
//! interval (a kettle's peak) is kept separately as a short extra load for the
//! undervoltage counters.

use crate::model::TimeGrid;
use crate::model::time::{Timestamp, amsterdam_seconds_of_day, to_amsterdam};
use chrono::Datelike;
use rand::Rng;
use rand_distr::{Distribution, Normal};

/// Latitude/longitude used for the sun (the middle of the Netherlands is close enough).
const LAT_DEG: f64 = 52.2;
const LON_DEG: f64 = 5.6;

/// Weather shared by everybody in the area (one town): what makes neighbours correlate.
#[derive(Clone, Debug)]
pub struct Weather {
    /// Clear-sky index per 10-minute step (0 = dark overcast, 1 = clear).
    pub clear_index: Vec<f32>,
    /// Outdoor temperature per step (deg C).
    pub temp_c: Vec<f32>,
    /// Per day: "sunny", "mixed" or "overcast".
    pub day_kind: Vec<&'static str>,
    /// Calendar per step (interval middle, Dutch civil time), computed once for every household.
    pub hour: Vec<f64>,
    pub weekend: Vec<bool>,
    pub day_of_year: Vec<f64>,
    /// Local calendar day index (0 = the start date).
    pub day: Vec<usize>,
}

fn mid(grid: &TimeGrid, i: usize) -> Timestamp {
    grid.time(i) - grid.step_s / 2
}

fn day_of_year(t: Timestamp) -> f64 {
    to_amsterdam(t).ordinal() as f64
}

/// Local hour of day (Amsterdam civil time, DST aware).
pub fn local_hour(t: Timestamp) -> f64 {
    amsterdam_seconds_of_day(t) as f64 / 3600.0
}

pub fn is_weekend(t: Timestamp) -> bool {
    to_amsterdam(t).weekday().number_from_monday() >= 6
}

/// Sine of the sun's elevation at UTC time `t`, shifted by `shift_h` hours (panel azimuth).
pub fn sun_sin_elevation(t: Timestamp, shift_h: f64) -> f64 {
    let doy = day_of_year(t);
    let decl = (23.44f64).to_radians() * (std::f64::consts::TAU * (284.0 + doy) / 365.0).sin();
    let utc_h = (t.rem_euclid(86_400)) as f64 / 3600.0;
    let solar_h = utc_h + LON_DEG / 15.0 - shift_h;
    let omega = ((solar_h - 12.0) * 15.0).to_radians();
    let lat = LAT_DEG.to_radians();
    lat.sin() * decl.sin() + lat.cos() * decl.cos() * omega.cos()
}

/// PV output (W per kWp) for a clear-sky index, Haurwitz clear-sky irradiance
/// and a performance ratio of 0.85 (tilt gain roughly offsets the losses).
pub fn pv_w_per_kwp(t: Timestamp, clear_index: f64, shift_h: f64) -> f64 {
    let s = sun_sin_elevation(t, shift_h);
    if s <= 0.02 {
        return 0.0;
    }
    let ghi = 1098.0 * s * (-0.057 / s).exp();
    // Tilted panels catch relatively more of a low sun.
    let tilt_gain = 1.0 + 0.35 * (1.0 - s).max(0.0);
    (ghi * tilt_gain * clear_index * 0.85).min(1000.0)
}

impl Weather {
    pub fn generate<R: Rng>(rng: &mut R, grid: &TimeGrid) -> Weather {
        let days = grid.len.div_ceil(144);
        let doy0 = day_of_year(mid(grid, 0));
        let summer = (std::f64::consts::TAU * (doy0 - 172.0) / 365.0).cos(); // 1 mid-summer, -1 mid-winter
        let p_sunny = 0.3 + 0.15 * summer;
        let p_overcast = 0.3 - 0.15 * summer;
        let mut day_kind = Vec::with_capacity(days);
        let mut day_temp = Vec::with_capacity(days);
        let normal: Normal<f64> = Normal::new(0.0, 1.0).unwrap();
        let mut anomaly = normal.sample(rng) * 2.0;
        for d in 0..days {
            let u: f64 = rng.r#gen();
            day_kind.push(if u < p_sunny {
                "sunny"
            } else if u < 1.0 - p_overcast {
                "mixed"
            } else {
                "overcast"
            });
            anomaly = 0.7 * anomaly + normal.sample(rng) * 1.5;
            let doy = doy0 + d as f64;
            day_temp.push(10.5 - 7.5 * (std::f64::consts::TAU * (doy - 20.0) / 365.0).cos() + anomaly);
        }
        let mut clear_index = Vec::with_capacity(grid.len);
        let mut temp_c = Vec::with_capacity(grid.len);
        let mut cloud = 0.6f64;
        for i in 0..grid.len {
            let d = i / 144;
            let kind = day_kind[d];
            let (target, noise) = match kind {
                "sunny" => (0.92, 0.03),
                "mixed" => (0.55, 0.25),
                _ => (0.22, 0.06),
            };
            cloud = 0.6 * cloud + 0.4 * target + normal.sample(rng) * noise;
            clear_index.push(cloud.clamp(0.08, 1.05) as f32);
            let h = local_hour(mid(grid, i));
            let diurnal = if kind == "sunny" { 4.0 } else { 2.0 };
            temp_c.push((day_temp[d] - diurnal * (std::f64::consts::TAU * (h - 3.0) / 24.0).cos()) as f32);
        }
        let hour = (0..grid.len).map(|i| local_hour(mid(grid, i))).collect();
        let weekend = (0..grid.len).map(|i| is_weekend(mid(grid, i))).collect();
        let day_of_year = (0..grid.len).map(|i| day_of_year(mid(grid, i))).collect();
        let d0 = to_amsterdam(mid(grid, 0)).date_naive();
        let day = (0..grid.len).map(|i| (to_amsterdam(mid(grid, i)).date_naive() - d0).num_days().max(0) as usize).collect();
        Weather { clear_index, temp_c, day_kind, hour, weekend, day_of_year, day }
    }
}

/// Slow common-mode variation of the MV voltage (per-unit factor per step):
/// lower at the evening peak, higher at night, plus a slow random walk.
pub fn mv_profile<R: Rng>(rng: &mut R, grid: &TimeGrid) -> Vec<f32> {
    let normal: Normal<f64> = Normal::new(0.0, 1.0).unwrap();
    let mut walk = 0.0f64;
    (0..grid.len)
        .map(|i| {
            walk = 0.985 * walk + normal.sample(rng) * 0.0008;
            let h = local_hour(mid(grid, i));
            let daily = -0.006 * gauss(h, 18.5, 2.5) + 0.004 * gauss(h, 3.5, 2.5) - 0.002 * gauss(h, 12.0, 2.0);
            (1.0 + daily + walk.clamp(-0.012, 0.012)) as f32
        })
        .collect()
}

fn gauss(h: f64, mu: f64, sigma: f64) -> f64 {
    // Wrap around midnight so the evening peak continues after 0:00.
    let d = (h - mu + 12.0).rem_euclid(24.0) - 12.0;
    (-0.5 * (d / sigma).powi(2)).exp()
}

/// Daily activity of a household (relative, mean about 1).
fn activity(h: f64, weekend: bool, early: f64) -> f64 {
    0.35 + 0.9 * gauss(h, 7.3 + early + if weekend { 1.5 } else { 0.0 }, 0.8)
        + if weekend { 0.55 } else { 0.25 } * gauss(h, 13.0, 2.5)
        + 1.5 * gauss(h, 19.2 + early * 0.5, 1.7)
}

/// What a household has.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Household {
    pub annual_kwh: f64,
    pub base_w: f64,
    pub electric_cooking: bool,
    /// Heat pump electrical power when running (kW).
    pub heat_pump_kw: Option<f64>,
    /// EV charger power (kW, total over the phases it uses).
    pub ev_kw: Option<f64>,
    pub pv_kwp: f64,
    /// Panel orientation as a shift of the daily peak (h, east < 0 < west).
    pub pv_shift_h: f64,
    /// Phase share of a three-phase household's base load.
    pub phase_weights: [f64; 3],
    /// 10-minute mean voltage above which the PV inverter disconnects (V):
    /// 253 V by EN 50549-1, higher in older or re-set inverters.
    pub inverter_trip_v: f64,
}

impl Household {
    pub fn random<R: Rng>(rng: &mut R, three_phase: bool, pv_kwp: f64, hp_share: f64, ev_share: f64) -> Household {
        let mut w = [rng.gen_range(0.2..1.0), rng.gen_range(0.2..1.0), rng.gen_range(0.2..1.0)];
        let s: f64 = w.iter().sum();
        w.iter_mut().for_each(|x| *x /= s);
        let heat_pump_kw = rng.gen_bool(hp_share).then(|| rng.gen_range(0.8..2.2) * if three_phase { 1.5 } else { 1.0 });
        let ev_kw = rng.gen_bool(ev_share * if three_phase { 2.5 } else { 1.0 }).then_some(if three_phase { 11.0 } else { 3.7 });
        Household {
            annual_kwh: rng.gen_range(1600.0..4600.0) * if three_phase { 1.5 } else { 1.0 },
            base_w: rng.gen_range(70.0..240.0),
            electric_cooking: rng.gen_bool(0.6),
            heat_pump_kw,
            ev_kw,
            pv_kwp,
            pv_shift_h: rng.gen_range(-1.5..1.5),
            phase_weights: w,
            inverter_trip_v: if rng.gen_bool(0.6) { 253.0 } else { rng.gen_range(254.0..258.0) },
        }
    }
}

/// 10-minute profile of one household in grid phases.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    /// Consumption per grid phase (W), 10-minute average.
    pub load_w: Vec<[f32; 3]>,
    /// PV production per grid phase (W) before any inverter trip.
    pub pv_w: Vec<[f32; 3]>,
    /// Short peak inside the interval above the average (W) and its phase, for the event counters.
    pub peak_w: Vec<f32>,
    pub peak_phase: Vec<u8>,
}

/// Builds a household's profile. `phases` are the grid phases it is connected to
/// (one, or all three).
pub fn household_profile<R: Rng>(rng: &mut R, hh: &Household, phases: &[usize], grid: &TimeGrid, weather: &Weather) -> Profile {
    let n = grid.len;
    let three = phases.len() == 3;
    let mut p = Profile { load_w: vec![[0.0; 3]; n], pv_w: vec![[0.0; 3]; n], peak_w: vec![0.0; n], peak_phase: vec![0; n] };
    let normal: Normal<f64> = Normal::new(0.0, 1.0).unwrap();
    let early = rng.gen_range(-0.7..0.7);
    let mean_activity = (0..144).map(|k| activity(k as f64 / 6.0, false, early)).sum::<f64>() / 144.0;
    let put = |slot: &mut [f32; 3], w: f64, split: &[f64; 3]| {
        for k in 0..3 {
            slot[k] += (w * split[k]) as f32;
        }
    };
    let single = |ph: usize| {
        let mut s = [0.0; 3];
        s[ph] = 1.0;
        s
    };
    let own = |rng: &mut R| if three { rng.gen_range(0..3) } else { phases[0] };
    let base_split = if three { hh.phase_weights } else { single(phases[0]) };
    let balanced = if three { [1.0 / 3.0; 3] } else { single(phases[0]) };
    let mut noise = 0.0f64;
    let mut hp_on = false;
    let mut ev_left_kwh = 0.0f64;
    let mut day_plan: Option<usize> = None;
    let mut cooking = (0.0, 0.0, 0.0, [0.0; 3]); // start h, end h, W, split
    let mut washer = (0.0, 0.0, 0.0, 0usize);
    let mut ev_arrival = -1.0f64;
    for i in 0..n {
        let t = mid(grid, i);
        let (h, doy, weekend, day) = (weather.hour[i], weather.day_of_year[i], weather.weekend[i], weather.day[i]);
        if day_plan != Some(day) {
            day_plan = Some(day);
            cooking = if hh.electric_cooking && rng.gen_bool(0.85) {
                let s = (17.6 + normal.sample(rng) * 0.5).clamp(16.0, 20.5);
                let split = if three {
                    let a = rng.gen_range(0..3);
                    let mut sp = [0.5; 3];
                    sp[a] = 0.0;
                    sp
                } else {
                    single(phases[0])
                };
                (s, s + rng.gen_range(0.3..0.8), rng.gen_range(2000.0..3500.0), split)
            } else {
                (0.0, 0.0, 0.0, [0.0; 3])
            };
            washer = if rng.gen_bool(0.4) {
                let s = rng.gen_range(8.0..21.0);
                (s, s + rng.gen_range(1.0..1.6), rng.gen_range(1200.0..2000.0), own(rng))
            } else {
                (0.0, 0.0, 0.0, 0)
            };
            ev_arrival = if hh.ev_kw.is_some() && rng.gen_bool(if weekend { 0.35 } else { 0.6 }) {
                (18.0 + normal.sample(rng) * 1.2).clamp(15.0, 23.0)
            } else {
                -1.0
            };
        }
        let slot = &mut p.load_w[i];
        // Base and everyday activity with slow random variation.
        let season = 1.0 + 0.15 * (std::f64::consts::TAU * (doy - 15.0) / 365.0).cos();
        let day_w = hh.annual_kwh * 1000.0 / 8760.0 * season;
        noise = 0.75 * noise + 0.25 * normal.sample(rng) * 0.9;
        let var_w = ((day_w - hh.base_w).max(50.0) * activity(h, weekend, early) / mean_activity) * noise.exp().min(3.0);
        put(slot, hh.base_w + var_w, &base_split);
        let overlap = |a: f64, b: f64| {
            let (s, e) = (h - 1.0 / 12.0, h + 1.0 / 12.0);
            ((b.min(e) - a.max(s)).max(0.0)) * 6.0
        };
        if cooking.2 > 0.0 {
            put(slot, cooking.2 * overlap(cooking.0, cooking.1), &cooking.3);
        }
        if washer.2 > 0.0 {
            put(slot, washer.2 * overlap(washer.0, washer.1), &single(washer.3));
        }
        if let Some(kw) = hh.heat_pump_kw {
            let frac = ((16.0 - weather.temp_c[i] as f64) / 22.0).clamp(0.0, 1.0);
            hp_on = if hp_on { rng.gen_bool(1.0 - (1.0 - frac) * 0.3) } else { rng.gen_bool(frac * 0.3) };
            if hp_on {
                put(slot, kw * 1000.0, &balanced);
            }
        }
        if let Some(kw) = hh.ev_kw {
            if ev_arrival >= 0.0 && h >= ev_arrival && h < ev_arrival + 1.0 / 6.0 {
                ev_left_kwh += rng.gen_range(5.0..22.0);
                ev_arrival = -1.0;
            }
            if ev_left_kwh > 0.0 {
                let e = (kw / 6.0).min(ev_left_kwh);
                ev_left_kwh -= e;
                put(slot, e * 6.0 * 1000.0, &balanced);
            }
        }
        // A kettle, oven or hair dryer inside the interval: the meter averages it away,
        // the undervoltage counter (30 s) does not.
        let p_peak = 0.06 * activity(h, weekend, early) / mean_activity;
        if rng.gen_bool(p_peak.clamp(0.0, 0.5)) {
            p.peak_w[i] = rng.gen_range(1800.0..3000.0);
            p.peak_phase[i] = own(rng) as u8;
        }
        if hh.pv_kwp > 0.0 {
            let w = hh.pv_kwp * pv_w_per_kwp(t, weather.clear_index[i] as f64, hh.pv_shift_h);
            let split = if three && hh.pv_kwp > 4.5 { [1.0 / 3.0; 3] } else { single(phases[phases.len() / 2]) };
            put(&mut p.pv_w[i], w, &split);
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::parse_timestamp;
    use rand::SeedableRng;

    fn grid(start: &str, days: usize) -> TimeGrid {
        TimeGrid { start: parse_timestamp(start).unwrap() + 600, step_s: 600, len: days * 144 }
    }

    #[test]
    fn sun_is_up_at_noon_in_june_and_down_at_midnight() {
        let noon = parse_timestamp("2025-06-21T13:30:00+02:00").unwrap();
        let night = parse_timestamp("2025-06-21T01:00:00+02:00").unwrap();
        assert!(sun_sin_elevation(noon, 0.0) > 0.85); // 61 degrees at 52 N on 21 June
        assert!(sun_sin_elevation(night, 0.0) < 0.0);
        assert!(pv_w_per_kwp(noon, 1.0, 0.0) > 700.0);
        assert_eq!(pv_w_per_kwp(night, 1.0, 0.0), 0.0);
        let dec_noon = parse_timestamp("2025-12-21T12:45:00+01:00").unwrap();
        assert!(pv_w_per_kwp(dec_noon, 1.0, 0.0) < 600.0);
    }

    #[test]
    fn household_energy_and_evening_peak_are_plausible() {
        let g = grid("2025-01-13T00:00:00+01:00", 10);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let w = Weather::generate(&mut rng, &g);
        let mut day_kwh = 0.0;
        let mut evening = 0.0;
        let mut night = 0.0;
        for k in 0..40 {
            let hh = Household { heat_pump_kw: None, ev_kw: None, ..Household::random(&mut rng, k % 5 == 0, 0.0, 0.0, 0.0) };
            let phases: Vec<usize> = if k % 5 == 0 { vec![0, 1, 2] } else { vec![k % 3] };
            let p = household_profile(&mut rng, &hh, &phases, &g, &w);
            let e: f64 = p.load_w.iter().flat_map(|x| x.iter()).map(|&x| x as f64 / 6.0).sum::<f64>() / 1000.0;
            day_kwh += e / 10.0 / (hh.annual_kwh / 365.0);
            for (i, x) in p.load_w.iter().enumerate() {
                let h = local_hour(g.time(i) - 300);
                let s: f32 = x.iter().sum();
                if (18.0..20.0).contains(&h) {
                    evening += s as f64;
                } else if (2.0..4.0).contains(&h) {
                    night += s as f64;
                }
            }
        }
        let ratio = day_kwh / 40.0;
        assert!((0.8..1.5).contains(&ratio), "daily energy {ratio} of the annual mean");
        assert!(evening > 2.0 * night, "evening {evening} vs night {night}");
    }
}

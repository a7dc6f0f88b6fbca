//! One station over the whole period: household profiles, the load flow per
//! 10-minute step (with PV inverters tripping on overvoltage), and the meters'
//! view of it: rounded channel voltages through the meter's rotation, gaps,
//! 15-minute feed-in and the under/overvoltage counters.

use super::c64::C64;
use super::layout::StationLayout;
use super::loadflow::{NonConvergence, Solver, balanced_source};
use super::profiles::{Profile, Weather, household_profile};
use super::{ConnSetup, SimConfig, SimError, rng_for};
use crate::model::time::{Timestamp, format_amsterdam, to_amsterdam};
use crate::model::{EventCounterRead, Phase, TimeGrid, VoltageTable};
use chrono::Datelike;
use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// Lower and upper limit of the legal band (EN 50160), V.
pub const UNDERVOLTAGE_V: f64 = 207.0;
pub const OVERVOLTAGE_V: f64 = 253.0;
/// No-load phase voltage at tap 0 (V).
pub const NO_LOAD_V: f64 = 236.0;
/// Reactive power of household loads as a share of their active power.
const LOAD_Q_SHARE: f64 = 0.15;

/// The slices of the global tables one station fills in.
pub struct StationJob<'a> {
    pub station: usize,
    pub first_conn: usize,
    pub volt: &'a mut [f32],
    pub import: &'a mut [f32],
    pub export: &'a mut [f32],
}

/// True (unrounded, gap-free) voltage statistics of one meter channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelStat {
    #[serde(skip)]
    pub conn: usize,
    pub ean: String,
    /// Meter terminal label.
    pub channel: Phase,
    /// Grid phase on that terminal.
    pub grid_phase: Phase,
    pub min_v: f64,
    pub mean_v: f64,
    pub max_v: f64,
    /// Events in the simulated window (below 207 V for > 30 s; above 253 V).
    pub undervoltage_events: u32,
    pub overvoltage_events: u32,
    pub minutes_below_207: u32,
    pub minutes_above_253: u32,
}

#[derive(Clone, Debug, Default)]
pub struct StationResult {
    pub stats: Vec<ChannelStat>,
    pub pv_trips: usize,
    pub solves: usize,
    pub iterations: usize,
    pub max_iterations: usize,
    /// Largest |source - loads - losses| over all steps (W).
    pub worst_balance_w: f64,
    pub no_load_v: f64,
}

fn overlap(a0: Timestamp, a1: Timestamp, b0: Timestamp, b1: Timestamp) -> i64 {
    (a1.min(b1) - a0.max(b0)).max(0)
}

#[allow(clippy::too_many_arguments)]
pub fn simulate(
    cfg: &SimConfig,
    seed: u64,
    st: &StationLayout,
    conns: &[ConnSetup],
    weather: &Weather,
    mv: &[f32],
    grid: &TimeGrid,
    job: StationJob<'_>,
) -> Result<StationResult, SimError> {
    let n = st.houses.len();
    let steps = grid.len;
    // Each meter channel's calibration error: a gain drawn once (own random stream, so
    // every other stream and hence the committed samples stay as they are when it is 0).
    let meter_gain: Vec<[f64; 3]> = (0..n)
        .map(|h| {
            if cfg.meter_gain_sigma <= 0.0 {
                return [1.0; 3];
            }
            let mut r = rng_for(seed, 14, (job.first_conn + h) as u64);
            let normal = rand_distr::Normal::new(0.0, cfg.meter_gain_sigma).expect("sigma checked by SimConfig::validate");
            std::array::from_fn(|_| 1.0 + r.sample(normal))
        })
        .collect();
    let profiles: Vec<Profile> = (0..n)
        .map(|h| {
            let house = &st.houses[h];
            let phases: Vec<usize> = if house.three_phase { vec![0, 1, 2] } else { vec![house.phase.index()] };
            household_profile(&mut rng_for(seed, 10, (job.first_conn + h) as u64), &conns[h].household, &phases, grid, weather)
        })
        .collect();
    let mut srng = rng_for(seed, 11, job.station as u64);
    let offset = srng.gen_range(-0.004..0.004);
    let no_load_v = NO_LOAD_V * (1.0 + 0.025 * cfg.tap as f64);
    let load_nodes: Vec<u32> = st.houses.iter().map(|h| h.meter_node).collect();
    let mut s = vec![[C64::ZERO; 3]; n];
    let mut solver = Solver::new(&st.tree);
    let mut res = StationResult { no_load_v, ..Default::default() };

    // Series offsets within this station's slice of the voltage table, and feed-in rows.
    let mut series_of = vec![usize::MAX; n];
    let mut feed_of = vec![usize::MAX; n];
    let (mut ks, mut kf) = (0, 0);
    for h in 0..n {
        if conns[h].smart {
            series_of[h] = ks;
            ks += if st.houses[h].three_phase { 3 } else { 1 };
            if conns[h].feed_row.is_some() {
                feed_of[h] = kf;
                kf += 1;
            }
        }
    }
    // Meter-side randomness: isolated missing rows and, for some meters, a gap of hours.
    let mut missing = vec![false; n * steps];
    for h in 0..n {
        let mut r = rng_for(seed, 12, (job.first_conn + h) as u64);
        for i in 0..steps {
            missing[h * steps + i] = r.gen_bool(cfg.missing_share * 0.6);
        }
        if cfg.missing_share > 0.0 && r.gen_bool(0.07) {
            let len = r.gen_range(6..48).min(steps);
            let at = r.gen_range(0..=steps - len);
            missing[h * steps + at..h * steps + at + len].iter_mut().for_each(|m| *m = true);
        }
    }

    // Per channel accumulators: (min, sum, max, count, under, over, below_steps, above_steps, under_state, over_state)
    #[derive(Clone, Copy)]
    struct Acc {
        min: f64,
        sum: f64,
        max: f64,
        count: u32,
        under: u32,
        over: u32,
        below: u32,
        above: u32,
        in_under: bool,
        in_over: bool,
    }
    let acc0 = Acc {
        min: f64::INFINITY,
        sum: 0.0,
        max: f64::NEG_INFINITY,
        count: 0,
        under: 0,
        over: 0,
        below: 0,
        above: 0,
        in_under: false,
        in_over: false,
    };
    let mut acc = vec![[acc0; 3]; n];
    let fgrid_len = job.import.len() / kf.max(1);
    let mut energy = vec![[0.0f64; 2]; kf * fgrid_len.max(1)];
    let mut powered = vec![1.0f64; n];
    let mut curtail = vec![1.0f64; n];
    let t_start = grid.time(0) - grid.step_s;
    let mut own_walk = 0.0f64;

    for i in 0..steps {
        let (t0, t1) = (grid.time(i) - grid.step_s, grid.time(i));
        own_walk = 0.95 * own_walk + srng.gen_range(-0.0004..0.0004);
        let e = balanced_source(no_load_v * (mv[i] as f64 + offset + own_walk));
        for h in 0..n {
            let off: i64 = conns[h].outages.iter().map(|&(a, b)| overlap(t0, t1, a, b)).sum();
            powered[h] = 1.0 - off.min(grid.step_s) as f64 / grid.step_s as f64;
            curtail[h] = 1.0;
        }
        let fill = |s: &mut [[C64; 3]], curtail: &[f64]| {
            for h in 0..n {
                let (l, pv) = (profiles[h].load_w[i], profiles[h].pv_w[i]);
                for p in 0..3 {
                    let lp = l[p] as f64 * powered[h];
                    s[h][p] = C64::new(lp - pv[p] as f64 * powered[h] * curtail[h], lp * LOAD_Q_SHARE);
                }
            }
        };
        fill(&mut s, &curtail);
        let mut tries = 0;
        loop {
            let it = solver.solve(e, &load_nodes, &s).map_err(|source: NonConvergence| SimError::NonConvergence {
                station: st.id.clone(),
                time: format_amsterdam(t1),
                source,
            })?;
            res.solves += 1;
            res.iterations += it;
            res.max_iterations = res.max_iterations.max(it);
            // Inverters above the trip setting disconnect for part of the interval.
            let mut tripped = false;
            if tries < 2 {
                for h in 0..n {
                    if conns[h].household.pv_kwp > 0.0 && powered[h] > 0.0 && curtail[h] > 0.0 {
                        let node = st.houses[h].meter_node as usize;
                        let vmax = (0..3).map(|p| solver.phase_to_neutral(node, p).abs()).fold(0.0, f64::max);
                        if vmax > conns[h].household.inverter_trip_v && profiles[h].pv_w[i].iter().any(|&w| w > 0.0) {
                            curtail[h] = if tries == 0 { 0.5 } else { 0.0 };
                            tripped = true;
                            res.pv_trips += 1;
                        }
                    }
                }
            }
            if !tripped {
                break;
            }
            tries += 1;
            fill(&mut s, &curtail);
        }
        let p_load: f64 = s.iter().flat_map(|x| x.iter()).map(|x| x.re).sum();
        let balance = (solver.source_power().re - p_load - solver.losses_w()).abs();
        res.worst_balance_w = res.worst_balance_w.max(balance);

        for h in 0..n {
            let house = &st.houses[h];
            let node = house.meter_node as usize;
            let channels = if house.three_phase { 3 } else { 1 };
            let on = powered[h] >= 1.0;
            let r_loop = house.r_phase + house.r_neutral;
            for k in 0..channels {
                let gp = if house.three_phase { house.rotation.0[k].index() } else { house.phase.index() };
                let v = solver.phase_to_neutral(node, gp).abs();
                let a = &mut acc[h][k];
                if on {
                    a.min = a.min.min(v);
                    a.max = a.max.max(v);
                    a.sum += v;
                    a.count += 1;
                    // A short peak on this phase dips the voltage for longer than 30 s.
                    let dip =
                        if profiles[h].peak_phase[i] as usize == gp { profiles[h].peak_w[i] as f64 * r_loop / v } else { 0.0 };
                    let under = v - dip < UNDERVOLTAGE_V;
                    if under && !a.in_under {
                        a.under += 1;
                    }
                    a.in_under = under && v < UNDERVOLTAGE_V; // a dip ends inside the interval
                    let over = v > OVERVOLTAGE_V;
                    if over && !a.in_over {
                        a.over += 1;
                    }
                    a.in_over = over;
                    a.below += u32::from(v < UNDERVOLTAGE_V);
                    a.above += u32::from(over);
                } else {
                    a.in_under = false;
                    a.in_over = false;
                }
                if series_of[h] != usize::MAX && on && !missing[h * steps + i] {
                    let rounded = (v * meter_gain[h][k] / cfg.rounding_v).round() * cfg.rounding_v;
                    job.volt[(series_of[h] + k) * steps + i] = rounded as f32;
                }
            }
            // Energy through the meter, binned to quarter hours.
            if feed_of[h] != usize::MAX {
                let p_net: f64 = s[h].iter().map(|x| x.re).sum();
                let (b0, b1) = (((t0 - t_start) / 900) as usize, ((t1 - 1 - t_start) / 900) as usize);
                for b in b0..=b1.min(fgrid_len.saturating_sub(1)) {
                    let bs = t_start + b as i64 * 900;
                    let ov = overlap(t0, t1, bs, bs + 900) as f64 / 3.6e6;
                    let slot = &mut energy[feed_of[h] * fgrid_len + b];
                    slot[0] += p_net.max(0.0) * ov;
                    slot[1] += (-p_net).max(0.0) * ov;
                }
            }
        }
    }

    // Feed-in rows: kWh with Wh resolution; no row when the meter was dead at the quarter's end.
    for h in 0..n {
        if feed_of[h] == usize::MAX {
            continue;
        }
        let mut r = rng_for(seed, 13, (job.first_conn + h) as u64);
        for b in 0..fgrid_len {
            let end = t_start + (b as i64 + 1) * 900;
            let dead = conns[h].outages.iter().any(|&(a, z)| a < end && end <= z);
            let k = feed_of[h] * fgrid_len + b;
            if dead || r.gen_bool(cfg.missing_share * 0.5) {
                continue;
            }
            job.import[k] = ((energy[k][0] * 1000.0).round() / 1000.0) as f32;
            job.export[k] = ((energy[k][1] * 1000.0).round() / 1000.0) as f32;
        }
    }

    for h in 0..n {
        let house = &st.houses[h];
        for k in 0..if house.three_phase { 3 } else { 1 } {
            let a = acc[h][k];
            let gp = if house.three_phase { house.rotation.0[k] } else { house.phase };
            let r1 = |x: f64| (x * 10.0).round() / 10.0;
            res.stats.push(ChannelStat {
                conn: job.first_conn + h,
                ean: conns[h].ean.clone(),
                channel: Phase::from_index(k),
                grid_phase: gp,
                min_v: r1(a.min),
                mean_v: r1(a.sum / a.count.max(1) as f64),
                max_v: r1(a.max),
                undervoltage_events: a.under,
                overvoltage_events: a.over,
                minutes_below_207: a.below * 10,
                minutes_above_253: a.above * 10,
            });
        }
    }
    Ok(res)
}

/// A few exact duplicate rows, and the write order: meters shuffled in blocks.
pub fn duplicates_and_order<R: Rng>(rng: &mut R, v: &VoltageTable, setups: &[ConnSetup]) -> (Vec<(usize, usize)>, Vec<usize>) {
    let meters: Vec<usize> = setups.iter().filter_map(|c| c.series).collect();
    // Series of each meter are contiguous; a meter's block ends where the next one starts.
    let mut blocks: Vec<Vec<usize>> = meters.chunks(50).map(|c| c.to_vec()).collect();
    blocks.shuffle(rng);
    let mut order = Vec::with_capacity(v.keys.len());
    for b in blocks {
        for m in b {
            let mut s = m;
            loop {
                order.push(s);
                s += 1;
                if s >= v.keys.len() || v.keys[s].ean != v.keys[m].ean {
                    break;
                }
            }
        }
    }
    let mut dups = Vec::new();
    if !v.keys.is_empty() && v.grid.len > 0 {
        let want = (meters.len() / 20).max(3);
        let mut tries = 0;
        while dups.len() < want && tries < want * 50 {
            tries += 1;
            let (s, i) = (rng.gen_range(0..v.keys.len()), rng.gen_range(0..v.grid.len));
            if !v.series(s)[i].is_nan() && !dups.contains(&(s, i)) {
                dups.push((s, i));
            }
        }
    }
    (dups, order)
}

/// Local midnight (UTC instant) of the first day of the quarter holding `t`.
fn quarter_start(t: Timestamp) -> Timestamp {
    let d = to_amsterdam(t).date_naive();
    let q = chrono::NaiveDate::from_ymd_opt(d.year(), (d.month0() / 3) * 3 + 1, 1).unwrap();
    let naive = q.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
    naive - crate::model::time::amsterdam_offset_s(naive - 3600) as i64
}

/// Cumulative counter reads: the regular read at the start of the quarter, and
/// reads at the start and end of the simulated window, so the difference of
/// the last two is exactly what the simulated voltages produced.
pub fn event_reads<R: Rng>(
    rng: &mut R,
    cfg: &SimConfig,
    grid: &TimeGrid,
    setups: &[ConnSetup],
    results: &[StationResult],
) -> Vec<EventCounterRead> {
    let w0 = grid.time(0) - grid.step_s;
    let w1 = grid.end();
    let mut q0 = quarter_start(w0);
    if q0 >= w0 {
        q0 = quarter_start(w0 - 86_400);
    }
    let q_read = q0 + 3 * 3600;
    let days_before = ((w0 - q_read) as f64 / 86_400.0).max(0.0);
    let mut out = Vec::new();
    for r in results {
        for c in &r.stats {
            if !setups[c.conn].smart {
                continue;
            }
            let per_day_u = c.undervoltage_events as f64 / cfg.days as f64;
            let per_day_o = c.overvoltage_events as f64 / cfg.days as f64;
            let base_u = rng.gen_range(0..3u32) + (per_day_u * rng.gen_range(30.0..90.0)).round() as u32;
            let base_o = rng.gen_range(0..2u32) + (per_day_o * rng.gen_range(30.0..90.0)).round() as u32;
            let mid_u = base_u + (per_day_u * days_before * rng.gen_range(0.6..1.4)).round() as u32;
            let mid_o = base_o + (per_day_o * days_before * rng.gen_range(0.6..1.4)).round() as u32;
            for (t, u, o) in
                [(q_read, base_u, base_o), (w0, mid_u, mid_o), (w1, mid_u + c.undervoltage_events, mid_o + c.overvoltage_events)]
            {
                out.push(EventCounterRead {
                    ean: c.ean.clone(),
                    read_at: t,
                    channel: c.channel,
                    undervoltage_count: u,
                    overvoltage_count: o,
                });
            }
        }
    }
    out
}

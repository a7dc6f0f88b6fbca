//! Sample-network generator: Dutch-like LV networks, a three-phase four-wire
//! unbalanced load flow per 10-minute step, meter reads as real meters give
//! them, injected GIS errors and an outage scenario.
//!
//! `generate` works in memory (tests, benchmarks); `write` puts every file of
//! the data contract plus `truth.csv` and `scenario.json` in a folder.

pub mod c64;
pub mod errors;
pub mod layout;
pub mod loadflow;
pub mod outages;
pub mod profiles;
pub mod scenario;
pub mod station;
pub mod synthetic;
pub mod write;

pub use scenario::Scenario;
pub use write::{WriteOptions, write};

use crate::crs;
use crate::model::time::{Timestamp, amsterdam_offset_s};
use crate::model::{
    Cable, Capacity, Connection, Crs, FeedInTable, Measurements, MeterKind, Network, Phase, PhaseConnection, SeriesKey, Station,
    TimeGrid, TruthRow, VoltageTable, ean_with_check_digit,
};
use crate::progress::{Cancelled, Progress};
use chrono::NaiveDate;
use layout::{LayoutParams, StationLayout, TOWNS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Everything the generator can vary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    pub preset: String,
    pub stations: usize,
    /// Target number of connections per station (50-400 is realistic).
    pub connections_per_station: usize,
    /// Days of 10-minute reads (at most 10, like the meters' power-quality profile).
    pub days: usize,
    /// First day (Dutch civil date); reads start at its local midnight.
    pub start: NaiveDate,
    /// Meter rounding of the voltage (0.1 or 1 V).
    pub rounding_v: f64,
    /// Standard deviation of each meter channel's voltage gain error (0.001 = 0.1%,
    /// ~0.23 V; meters are specified to ~0.5%). Applied before the rounding, so at 1 V
    /// it scatters where each meter crosses the rounding thresholds.
    #[serde(default)]
    pub meter_gain_sigma: f64,
    /// Share of smart meters (the rest are conventional: no data).
    pub smart_share: f64,
    pub pv_share: f64,
    /// Largest PV installation on a single-phase connection (kWp); sizes are uniform from 1.2 kWp up.
    pub pv_kwp_max: f64,
    pub three_phase_share: f64,
    pub heat_pump_share: f64,
    pub ev_share: f64,
    /// Transformer tap position (2.5% per step; 0 = 236 V no-load phase voltage).
    pub tap: i32,
    /// Give the first station (or, in a region, one station in five) a long rural feeder.
    pub long_feeder: bool,
    /// Simulate 15-minute feed-in (off for the large region: it would double the memory).
    pub feed_in: bool,
    /// Simulate the outage scenario (fault, short outage, planned work).
    pub outages: bool,
    /// Index into the list of towns (None: chosen by the seed).
    pub town: Option<usize>,
    /// Share of randomly missing voltage rows.
    pub missing_share: f64,
    pub wrong_phase_share: f64,
    pub wrong_feeder_share: f64,
    pub wrong_section_share: f64,
}

impl SimConfig {
    /// The named presets: `street`, `town`, `region`, and `tiny` for tests.
    pub fn preset(name: &str) -> Result<SimConfig, String> {
        let winter = NaiveDate::from_ymd_opt(2025, 10, 22).unwrap();
        let summer = NaiveDate::from_ymd_opt(2025, 6, 16).unwrap();
        let base = SimConfig {
            preset: name.to_string(),
            stations: 1,
            connections_per_station: 60,
            days: 10,
            start: winter,
            rounding_v: 0.1,
            meter_gain_sigma: 0.0,
            smart_share: 0.95,
            pv_share: 0.3,
            pv_kwp_max: 6.5,
            three_phase_share: 0.1,
            heat_pump_share: 0.12,
            ev_share: 0.08,
            tap: 0,
            long_feeder: true,
            feed_in: true,
            outages: true,
            town: None,
            missing_share: 0.01,
            wrong_phase_share: 0.10,
            wrong_feeder_share: 0.05,
            wrong_section_share: 0.015,
        };
        Ok(match name {
            "street" => SimConfig { town: Some(0), ..base },
            "town" => SimConfig {
                stations: 3,
                connections_per_station: 200,
                start: summer,
                // A PV-heavy district whose transformer tap was set for winter evenings.
                tap: 1,
                rounding_v: 1.0,
                pv_share: 0.55,
                pv_kwp_max: 8.5,
                heat_pump_share: 0.08,
                ev_share: 0.12,
                town: Some(1),
                ..base
            },
            "region" => SimConfig { stations: 300, connections_per_station: 330, feed_in: false, ..base },
            "tiny" => {
                SimConfig { days: 2, connections_per_station: 40, start: NaiveDate::from_ymd_opt(2025, 3, 29).unwrap(), ..base }
            }
            other => return Err(format!("unknown preset {other:?}: expected street, town or region")),
        })
    }

    /// Moves the start to the default date of a season (`summer` or `winter`).
    pub fn set_season(&mut self, season: &str) -> Result<(), String> {
        self.start = match season {
            "summer" => NaiveDate::from_ymd_opt(2025, 6, 16).unwrap(),
            "winter" => NaiveDate::from_ymd_opt(2025, 10, 22).unwrap(),
            other => return Err(format!("unknown season {other:?}: expected summer or winter")),
        };
        Ok(())
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(1..=10).contains(&self.days) {
            return Err(format!("days must be 1..10 (a meter holds 10 days of 10-minute values), found {}", self.days));
        }
        if self.stations == 0 || self.connections_per_station < 8 {
            return Err("at least one station with at least 8 connections".into());
        }
        if !(0.0..=0.05).contains(&self.meter_gain_sigma) {
            return Err(format!("meter gain error must be between 0 and 0.05 (5%), found {}", self.meter_gain_sigma));
        }
        if !(self.rounding_v > 0.0 && self.rounding_v <= 5.0) {
            return Err(format!("rounding must be e.g. 0.1 or 1 V, found {}", self.rounding_v));
        }
        for (n, v) in [
            ("smart share", self.smart_share),
            ("pv share", self.pv_share),
            ("three-phase share", self.three_phase_share),
            ("heat-pump share", self.heat_pump_share),
            ("EV share", self.ev_share),
            ("missing share", self.missing_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{n} must be within 0..1, found {v}"));
            }
        }
        if !(-4..=4).contains(&self.tap) {
            return Err(format!("tap must be within -4..4 (2.5% steps), found {}", self.tap));
        }
        Ok(())
    }

    /// UTC instant of local midnight at the start date.
    pub fn start_utc(&self) -> Timestamp {
        let naive = self.start.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
        naive - amsterdam_offset_s(naive - 3600) as i64
    }

    /// The 10-minute voltage grid (interval end times).
    pub fn voltage_grid(&self) -> TimeGrid {
        TimeGrid { start: self.start_utc() + 600, step_s: 600, len: self.days * 144 }
    }
    /// The 15-minute feed-in grid.
    pub fn feed_in_grid(&self) -> TimeGrid {
        TimeGrid { start: self.start_utc() + 900, step_s: 900, len: self.days * 96 }
    }
}

/// One generated network with its reads and the truth behind them.
#[derive(Clone, Debug)]
pub struct SimOutput {
    /// The network as the GIS has it (with the injected errors).
    pub network: Network,
    /// Every measurement as the meters report it (voltage table after rounding and gaps).
    pub measurements: Measurements,
    /// Where every connection really is.
    pub truth: Vec<TruthRow>,
    pub scenario: Scenario,
    /// Exact duplicate voltage rows to write (series, step).
    pub voltage_duplicates: Vec<(usize, usize)>,
    /// Order in which the voltage series are written (meters shuffled in blocks).
    pub voltage_write_order: Vec<usize>,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("station {station}: {source} at {time}")]
    NonConvergence { station: String, time: String, source: loadflow::NonConvergence },
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

/// Per-connection facts the simulation needs besides the layout.
#[derive(Clone, Debug)]
pub struct ConnSetup {
    pub ean: String,
    pub smart: bool,
    pub household: profiles::Household,
    /// First voltage series of this meter (if smart).
    pub series: Option<usize>,
    /// Row in the feed-in table (if smart).
    pub feed_row: Option<usize>,
    /// True interruptions (start, end), UTC seconds.
    pub outages: Vec<(Timestamp, Timestamp)>,
}

pub(crate) fn rng_for(seed: u64, purpose: u64, index: u64) -> ChaCha8Rng {
    let mut x = seed ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    // splitmix64 finaliser so neighbouring seeds give unrelated streams
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ChaCha8Rng::seed_from_u64(x ^ (x >> 31))
}

/// Generates a network, runs the load flow and derives every meter read.
pub fn generate(cfg: &SimConfig, seed: u64, progress: &dyn Progress) -> Result<SimOutput, SimError> {
    cfg.validate().map_err(SimError::Config)?;
    progress.set(0.0, "laying out streets and cables");
    let mut rng = rng_for(seed, 1, 0);
    let town_index = cfg.town.unwrap_or_else(|| rng.gen_range(0..TOWNS.len())) % TOWNS.len();
    let town = TOWNS[town_index];
    let cols = (cfg.stations as f64).sqrt().ceil() as usize;
    let layouts: Vec<StationLayout> = (0..cfg.stations)
        .into_par_iter()
        .map(|s| {
            let mut r = rng_for(seed, 2, s as u64);
            let (cx, cy) = ((s % cols) as f64, (s / cols) as f64);
            let pos = (
                town.x + (cx - (cols as f64 - 1.0) / 2.0) * 1200.0 + r.gen_range(-80.0..80.0),
                town.y + (cy - (cols as f64 - 1.0) / 2.0) * 1200.0 + r.gen_range(-80.0..80.0),
            );
            let id = format!("{}{:03}", town.code, s + 1);
            let long = cfg.long_feeder && (s == 0 || (cfg.stations > 3 && s % 5 == 0));
            let n = (cfg.connections_per_station as f64 * if cfg.stations > 1 { r.gen_range(0.85..1.15) } else { 1.0 }).round()
                as usize;
            layout::build_station(
                &mut r,
                &id,
                &format!("{} {}", town.name, s + 1),
                pos,
                town.postcode + s as u32,
                s * 7,
                &LayoutParams { connections: n, three_phase_share: cfg.three_phase_share, long_feeder: long },
            )
        })
        .collect();
    if progress.is_cancelled() {
        return Err(Cancelled.into());
    }

    // Global connection numbering, EANs, meters, PV, households.
    let mut setups: Vec<ConnSetup> = Vec::new();
    let mut station_of: Vec<(usize, usize)> = Vec::new();
    let mut pv_truth = Vec::new();
    let mut n_series = 0usize;
    let mut n_feed = 0usize;
    for (s, st) in layouts.iter().enumerate() {
        let mut r = rng_for(seed, 3, s as u64);
        for (h, house) in st.houses.iter().enumerate() {
            let g = setups.len();
            // One EAN range per town: the samples of different towns never share an EAN
            // (the privacy ledger would take two samples for two reads of one connection).
            let ean = ean_with_check_digit(&format!("871687{:011}", 120_000_000 + town_index as u64 * 10_000_000 + g as u64 * 7));
            let smart = r.gen_bool(cfg.smart_share);
            let pv = r.gen_bool(cfg.pv_share);
            let kwp = if pv {
                (r.gen_range(1.2..cfg.pv_kwp_max.max(1.3)) * if house.three_phase { 1.4 } else { 1.0 } * 10.0f64).round() / 10.0
            } else {
                0.0
            };
            let household = profiles::Household::random(&mut r, house.three_phase, kwp, cfg.heat_pump_share, cfg.ev_share);
            let series = smart.then(|| {
                let k = n_series;
                n_series += if house.three_phase { 3 } else { 1 };
                k
            });
            let feed_row = (smart && cfg.feed_in).then(|| {
                n_feed += 1;
                n_feed - 1
            });
            pv_truth.push(scenario::pv_registration(&mut r, &ean, kwp));
            setups.push(ConnSetup { ean, smart, household, series, feed_row, outages: Vec::new() });
            station_of.push((s, h));
        }
    }

    // The real network, then the GIS with its errors.
    let truth_net = build_network(&layouts, &setups, &pv_truth);
    let truth: Vec<TruthRow> = truth_net
        .connections
        .iter()
        .zip(&station_of)
        .map(|(c, &(s, h))| {
            let house = &layouts[s].houses[h];
            TruthRow {
                ean: c.ean.clone(),
                station_id: c.station_id.clone(),
                feeder_id: c.feeder().to_string(),
                cable_id: c.cable().to_string(),
                // The generator registers every phase; its errors change, never erase one.
                phase: c.phase.unwrap_or(PhaseConnection::Three),
                rotation: house.three_phase.then_some(house.rotation),
            }
        })
        .collect();
    let mut network = truth_net;
    let gis_errors = errors::inject(&mut rng_for(seed, 4, 0), cfg, &layouts, &station_of, &mut network);

    // Outage scenario on the real topology.
    let grid = cfg.voltage_grid();
    let plan = if cfg.outages {
        outages::plan(&mut rng_for(seed, 5, 0), cfg, &layouts, &station_of, &setups, &gis_errors, &network, &grid)
    } else {
        outages::OutagePlan::default()
    };
    for (g, windows) in &plan.interruptions {
        setups[*g].outages = windows.clone();
    }

    // Weather and the MV side are common to the whole area.
    let weather = profiles::Weather::generate(&mut rng_for(seed, 6, 0), &grid);
    let mv = profiles::mv_profile(&mut rng_for(seed, 7, 0), &grid);

    // Load flow per station, in parallel, each writing its own slice of the tables.
    let mut volt = vec![f32::NAN; n_series * grid.len];
    let fgrid = cfg.feed_in_grid();
    let mut imp = vec![f32::NAN; n_feed * fgrid.len];
    let mut exp = vec![f32::NAN; n_feed * fgrid.len];
    let mut chunks: Vec<station::StationJob> = Vec::new();
    {
        let (mut vrest, mut irest, mut erest) = (volt.as_mut_slice(), imp.as_mut_slice(), exp.as_mut_slice());
        let mut g0 = 0;
        for (s, st) in layouts.iter().enumerate() {
            let conns = &setups[g0..g0 + st.houses.len()];
            let ns: usize = conns.iter().filter(|c| c.smart).zip(st.houses.iter().filter(|_| true)).count();
            let _ = ns;
            let nseries: usize =
                conns.iter().zip(&st.houses).filter(|(c, _)| c.smart).map(|(_, h)| if h.three_phase { 3 } else { 1 }).sum();
            let nfeed = conns.iter().filter(|c| c.feed_row.is_some()).count();
            let (v, vr) = vrest.split_at_mut(nseries * grid.len);
            let (i, ir) = irest.split_at_mut(nfeed * fgrid.len);
            let (e, er) = erest.split_at_mut(nfeed * fgrid.len);
            vrest = vr;
            irest = ir;
            erest = er;
            chunks.push(station::StationJob { station: s, first_conn: g0, volt: v, import: i, export: e });
            g0 += st.houses.len();
        }
    }
    let done = AtomicUsize::new(0);
    let n_st = layouts.len();
    let results: Vec<Result<station::StationResult, SimError>> = chunks
        .into_par_iter()
        .map(|job| {
            if progress.is_cancelled() {
                return Err(Cancelled.into());
            }
            let s = job.station;
            let st = &layouts[s];
            let r = station::simulate(
                cfg,
                seed,
                st,
                &setups[job.first_conn..job.first_conn + st.houses.len()],
                &weather,
                &mv,
                &grid,
                job,
            );
            let k = done.fetch_add(1, Ordering::Relaxed) + 1;
            progress.set(0.05 + 0.85 * k as f32 / n_st as f32, "load flow per station");
            r
        })
        .collect();
    let mut station_results = Vec::with_capacity(results.len());
    for r in results {
        station_results.push(r?);
    }
    progress.set(0.92, "meter reads");

    // Tables as the meters report them.
    let mut keys = Vec::with_capacity(n_series);
    let mut feed_eans = Vec::new();
    for (g, c) in setups.iter().enumerate() {
        let (s, h) = station_of[g];
        if c.smart {
            let three = layouts[s].houses[h].three_phase;
            for k in 0..if three { 3 } else { 1 } {
                keys.push(SeriesKey { ean: c.ean.clone(), channel: Phase::from_index(k) });
            }
            if c.feed_row.is_some() {
                feed_eans.push(c.ean.clone());
            }
        }
    }
    let voltage = VoltageTable::new(grid, keys, volt);
    let feed_in = cfg.feed_in.then(|| FeedInTable::new(fgrid, feed_eans, imp, exp));
    let mut r = rng_for(seed, 8, 0);
    let (voltage_duplicates, voltage_write_order) = station::duplicates_and_order(&mut r, &voltage, &setups);
    let voltage_events = station::event_reads(&mut r, cfg, &grid, &setups, &station_results);
    let measurements = Measurements {
        voltage: Some(voltage),
        feed_in,
        voltage_events,
        outage_log: plan.outage_log(&setups),
        incidents: plan.incidents.clone(),
        presence: plan.presence.clone(),
    };
    let scenario =
        scenario::build(cfg, seed, town, &layouts, &setups, &station_of, &weather, pv_truth, gis_errors, &plan, &station_results);
    progress.set(1.0, "done");
    Ok(SimOutput { network, measurements, truth, scenario, voltage_duplicates, voltage_write_order })
}

fn gp(p: layout::Xy) -> crate::model::GeoPoint {
    crs::point_from_rd((p.0 * 1000.0).round() / 1000.0, (p.1 * 1000.0).round() / 1000.0)
}

/// The real network as model types (GIS errors are applied afterwards).
fn build_network(layouts: &[StationLayout], setups: &[ConnSetup], pv: &[scenario::PvTruth]) -> Network {
    let mut stations = Vec::new();
    let mut cables = Vec::new();
    let mut connections = Vec::new();
    let mut g = 0;
    for st in layouts {
        stations.push(Station { id: st.id.clone(), name: Some(st.name.clone()), pos: gp(st.pos), extra: Default::default() });
        for sec in &st.sections {
            cables.push(Cable {
                id: sec.id.clone(),
                station_id: st.id.clone(),
                feeder_id: st.feeder_ids[sec.feeder].clone(),
                feeder_derived: false,
                from_node: Some(sec.from_node.clone()),
                to_node: Some(sec.to_node.clone()),
                conductor: Some(sec.conductor.name.to_string()),
                r_ohm_per_km: Some(sec.conductor.r),
                // Centimetres, never 0: a few-cm section between two nearby joints is real.
                length_m: Some(((sec.length_m * 100.0).round() / 100.0).max(0.01)),
                geometry: sec.geometry.iter().map(|&p| gp(p)).collect(),
                extra: Default::default(),
            });
        }
        for h in &st.houses {
            let c = &setups[g];
            let capacity = if h.three_phase {
                Capacity { phases: 3, amps: if c.household.ev_kw.is_some() { 35 } else { 25 } }
            } else {
                Capacity { phases: 1, amps: 35 }
            };
            connections.push(Connection {
                ean: c.ean.clone(),
                station_id: st.id.clone(),
                feeder_id: Some(st.feeder_ids[h.feeder].clone()),
                cable_id: Some(st.sections[h.section].id.clone()),
                phase: Some(if h.three_phase { PhaseConnection::Three } else { PhaseConnection::Single(h.phase) }),
                street: Some(h.street.clone()),
                house_number: Some(h.number),
                house_number_addition: h.addition.clone(),
                postcode: Some(h.postcode.clone()),
                meter: if c.smart { MeterKind::Smart } else { MeterKind::Conventional },
                pv_kwp_registered: pv[g].registered_kwp,
                capacity,
                pos: gp(h.pos),
                service_joint: None,
                extra: Default::default(),
            });
            g += 1;
        }
    }
    Network::new(stations, cables, connections, Crs::RdNew)
}

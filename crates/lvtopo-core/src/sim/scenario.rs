//! `scenario.json`: everything a test needs to know about a generated network
//! besides `truth.csv` — incidents with the real interruption per connection,
//! real PV and its registration, injected GIS errors, transformer data, true
//! voltage statistics per meter channel.

use super::errors::GisError;
use super::layout::{StationLayout, Town};
use super::outages::{IncidentTruth, OutagePlan};
use super::profiles::Weather;
use super::station::{ChannelStat, StationResult};
use super::{ConnSetup, SimConfig};
use crate::model::time::format_amsterdam;
use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PvTruth {
    pub ean: String,
    /// Real installed peak power (0 = no PV).
    pub kwp: f64,
    /// What the register (CERES) says; `None` = nothing registered.
    pub registered_kwp: Option<f64>,
    /// PV present but not registered.
    pub unregistered: bool,
    /// Registered kWp far (> 40 %) from the real one.
    pub registration_off: bool,
    /// Registered, but there is no PV (removed panels).
    pub registered_without_pv: bool,
}

/// How the register sees a connection's PV: most registered correctly, some
/// not at all, some with a wrong size, a few registered without panels.
pub fn pv_registration<R: Rng>(rng: &mut R, ean: &str, kwp: f64) -> PvTruth {
    let mut t = PvTruth {
        ean: ean.into(),
        kwp,
        registered_kwp: None,
        unregistered: false,
        registration_off: false,
        registered_without_pv: false,
    };
    if kwp > 0.0 {
        let u: f64 = rng.r#gen();
        if u < 0.12 {
            t.unregistered = true;
        } else if u < 0.18 {
            t.registration_off = true;
            let f = if rng.gen_bool(0.5) { rng.gen_range(0.3..0.55) } else { rng.gen_range(1.6..2.2) };
            t.registered_kwp = Some((kwp * f * 100.0).round() / 100.0);
        } else {
            t.registered_kwp = Some(kwp);
        }
    } else if rng.gen_bool(0.01) {
        t.registered_without_pv = true;
        t.registered_kwp = Some((rng.gen_range(2.0..4.0f64) * 10.0).round() / 10.0);
    }
    t
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StationTruth {
    pub station_id: String,
    pub name: String,
    pub kva: f64,
    pub uk_percent: f64,
    /// Transformer impedance referred to LV (ohm per phase).
    pub r_transformer_ohm: f64,
    pub x_transformer_ohm: f64,
    pub tap: i32,
    /// No-load phase voltage at this tap (before the MV-side variation), V.
    pub no_load_v: f64,
    pub feeders: Vec<String>,
    pub cables: usize,
    pub connections: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Device {
    pub ean: String,
    pub three_phase: bool,
    pub heat_pump_kw: Option<f64>,
    pub ev_kw: Option<f64>,
    pub electric_cooking: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadFlowSummary {
    pub solves: usize,
    pub mean_iterations: f64,
    pub max_iterations: usize,
    /// Largest |P source - P loads - P losses| over all steps and stations (W).
    pub worst_power_balance_w: f64,
    /// 10-minute intervals in which a PV inverter tripped on overvoltage.
    pub pv_trips: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub generator: String,
    pub seed: u64,
    pub config: SimConfig,
    pub town: String,
    /// First interval start and last interval end (Dutch civil time).
    pub start: String,
    pub end: String,
    pub weather_per_day: Vec<String>,
    pub stations: Vec<StationTruth>,
    pub counts: Counts,
    pub incidents: Vec<IncidentTruth>,
    pub pv: Vec<PvTruth>,
    pub gis_errors: Vec<GisError>,
    pub conventional_meters: Vec<String>,
    pub devices: Vec<Device>,
    pub voltage_stats: Vec<ChannelStat>,
    pub load_flow: LoadFlowSummary,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub stations: usize,
    pub feeders: usize,
    pub cables: usize,
    pub connections: usize,
    pub three_phase: usize,
    pub rotated_meters: usize,
    pub smart_meters: usize,
    pub pv: usize,
    pub pv_unregistered: usize,
    pub wrong_phase: usize,
    pub wrong_feeder: usize,
    pub wrong_cable: usize,
}

#[allow(clippy::too_many_arguments)]
pub fn build(
    cfg: &SimConfig,
    seed: u64,
    town: Town,
    layouts: &[StationLayout],
    setups: &[ConnSetup],
    station_of: &[(usize, usize)],
    weather: &Weather,
    pv: Vec<PvTruth>,
    gis_errors: Vec<GisError>,
    plan: &OutagePlan,
    results: &[StationResult],
) -> Scenario {
    let grid = cfg.voltage_grid();
    let stations = layouts
        .iter()
        .zip(results)
        .map(|(st, r)| StationTruth {
            station_id: st.id.clone(),
            name: st.name.clone(),
            kva: st.kva,
            uk_percent: st.uk * 100.0,
            r_transformer_ohm: (st.z_transformer.re * 1e6).round() / 1e6,
            x_transformer_ohm: (st.z_transformer.im * 1e6).round() / 1e6,
            tap: cfg.tap,
            no_load_v: r.no_load_v,
            feeders: st.feeder_ids.clone(),
            cables: st.sections.len(),
            connections: st.houses.len(),
        })
        .collect();
    let house = |g: usize| {
        let (s, h) = station_of[g];
        &layouts[s].houses[h]
    };
    let counts = Counts {
        stations: layouts.len(),
        feeders: layouts.iter().map(|s| s.feeder_ids.len()).sum(),
        cables: layouts.iter().map(|s| s.sections.len()).sum(),
        connections: setups.len(),
        three_phase: (0..setups.len()).filter(|&g| house(g).three_phase).count(),
        rotated_meters: (0..setups.len())
            .filter(|&g| house(g).three_phase && house(g).rotation != crate::model::Rotation::IDENTITY)
            .count(),
        smart_meters: setups.iter().filter(|c| c.smart).count(),
        pv: pv.iter().filter(|p| p.kwp > 0.0).count(),
        pv_unregistered: pv.iter().filter(|p| p.unregistered).count(),
        wrong_phase: gis_errors.iter().filter(|e| e.kind == "phase").count(),
        wrong_feeder: gis_errors.iter().filter(|e| e.kind == "feeder").count(),
        wrong_cable: gis_errors.iter().filter(|e| e.kind == "cable").count(),
    };
    let devices = setups
        .iter()
        .enumerate()
        .filter(|(_, c)| c.household.heat_pump_kw.is_some() || c.household.ev_kw.is_some())
        .map(|(g, c)| Device {
            ean: c.ean.clone(),
            three_phase: house(g).three_phase,
            heat_pump_kw: c.household.heat_pump_kw.map(|k| (k * 100.0).round() / 100.0),
            ev_kw: c.household.ev_kw,
            electric_cooking: c.household.electric_cooking,
        })
        .collect();
    let solves: usize = results.iter().map(|r| r.solves).sum();
    let load_flow = LoadFlowSummary {
        solves,
        mean_iterations: (results.iter().map(|r| r.iterations).sum::<usize>() as f64 / solves.max(1) as f64 * 100.0).round()
            / 100.0,
        max_iterations: results.iter().map(|r| r.max_iterations).max().unwrap_or(0),
        worst_power_balance_w: results.iter().map(|r| r.worst_balance_w).fold(0.0, f64::max),
        pv_trips: results.iter().map(|r| r.pv_trips).sum(),
    };
    Scenario {
        generator: format!("lvtopo {} simulate", env!("CARGO_PKG_VERSION")),
        seed,
        config: cfg.clone(),
        town: town.name.to_string(),
        start: format_amsterdam(grid.time(0) - grid.step_s),
        end: format_amsterdam(grid.end()),
        weather_per_day: weather.day_kind.iter().map(|s| s.to_string()).collect(),
        stations,
        counts,
        incidents: plan.truths.clone(),
        pv: pv.into_iter().filter(|p| p.kwp > 0.0 || p.registered_without_pv).collect(),
        gis_errors,
        conventional_meters: setups.iter().filter(|c| !c.smart).map(|c| c.ean.clone()).collect(),
        devices,
        voltage_stats: results.iter().flat_map(|r| r.stats.iter().cloned()).collect(),
        load_flow,
    }
}

/// A short human description of a generated network (the folder's README.md).
pub fn readme(s: &Scenario, command: &str, network_files: &str) -> String {
    let c = &s.counts;
    let cfg = &s.config;
    let mut r = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(r, "# Sample network `{}` (generated)\n", cfg.preset);
    let _ = writeln!(
        r,
        "A synthetic but physics-true LV network near {} (RD New coordinates), made by `lvtopo simulate`. \
         Nothing here is real customer data; EANs are made up (valid check digits).\n",
        s.town
    );
    let _ = writeln!(r, "Regenerate (identical files):\n\n```\n{command}\n```\n");
    let _ = writeln!(r, "## What is inside\n");
    let _ = writeln!(
        r,
        "- {} station(s) ({}), {} feeders, {} cable sections, {} connections: {} smart meters, {} conventional (no data), \
         {} three-phase ({} with a rotated meter), {} with PV ({} not registered).",
        c.stations,
        s.stations.iter().map(|st| format!("{} {} kVA", st.station_id, st.kva)).collect::<Vec<_>>().join(", "),
        c.feeders,
        c.cables,
        c.connections,
        c.smart_meters,
        c.connections - c.smart_meters,
        c.three_phase,
        c.rotated_meters,
        c.pv,
        c.pv_unregistered
    );
    let _ = writeln!(
        r,
        "- Period: {} to {} ({} days of 10-minute voltages, {} season), voltages rounded to {} V; about {:.0}% of rows missing, a few exact duplicates, meters written in shuffled blocks.",
        s.start,
        s.end,
        cfg.days,
        if (5..=8).contains(&cfg.start.format("%m").to_string().parse::<u32>().unwrap_or(1)) {
            "summer"
        } else {
            "winter/heating"
        },
        cfg.rounding_v,
        cfg.missing_share * 100.0
    );
    let _ = writeln!(r, "- Weather per day: {}.", s.weather_per_day.join(", "));
    let _ = writeln!(
        r,
        "- Transformer tap {} (no-load {:.1} V phase-to-neutral), uk {}%. Load flow: {} solves, mean {} iterations, worst power balance {:.1e} W, {} PV inverter trips on overvoltage.",
        cfg.tap,
        s.stations.first().map(|x| x.no_load_v).unwrap_or(0.0),
        s.stations.first().map(|x| x.uk_percent).unwrap_or(0.0),
        s.load_flow.solves,
        s.load_flow.mean_iterations,
        s.load_flow.worst_power_balance_w,
        s.load_flow.pv_trips
    );
    let vmin = s.voltage_stats.iter().map(|v| v.min_v).fold(f64::INFINITY, f64::min);
    let vmax = s.voltage_stats.iter().map(|v| v.max_v).fold(0.0, f64::max);
    let under: u32 = s.voltage_stats.iter().map(|v| v.undervoltage_events).sum();
    let over: u32 = s.voltage_stats.iter().map(|v| v.overvoltage_events).sum();
    let _ = writeln!(
        r,
        "- True meter voltages range {vmin:.1}-{vmax:.1} V; {under} undervoltage and {over} overvoltage events in the window."
    );
    let _ = writeln!(
        r,
        "- GIS errors injected in `connections.geojson` (the truth is in `truth.csv`, each error listed in `scenario.json` → `gis_errors`): \
         {} wrong phase, {} wrong feeder (a nearby section of another feeder), {} wrong section within the right feeder.",
        c.wrong_phase, c.wrong_feeder, c.wrong_cable
    );
    let _ = writeln!(r, "\n## Outage scenario\n");
    for i in &s.incidents {
        let durations: Vec<i64> = i.interruptions.iter().map(|x| x.duration_s).collect();
        let (lo, hi) = (durations.iter().min().copied().unwrap_or(0), durations.iter().max().copied().unwrap_or(0));
        let _ = writeln!(
            r,
            "- `{}` {} on {} feeder {}{}: {} connections off from {} (registered {} to {}), interruptions {}h{:02} to {}h{:02}.",
            i.id,
            i.kind.replace('_', " "),
            i.station_id,
            i.feeder_id,
            if i.faulted_cable_ids.is_empty() { String::new() } else { format!(", section {}", i.faulted_cable_ids.join(";")) },
            i.interruptions.len(),
            i.start,
            i.registered_start,
            i.registered_end,
            lo / 3600,
            lo % 3600 / 60,
            hi / 3600,
            hi % 3600 / 60
        );
    }
    let _ = writeln!(
        r,
        "\nSmart meters log their interruptions in `outage_log.csv`; conventional meters log nothing. `voltage_presence.csv` holds the \
         answers to two \"voltage present?\" rounds during the cable fault (unpowered meters answer `false` or not at all). \
         `voltage_events.csv` holds counter reads at the start of the quarter and at the start and end of the window: the difference \
         of the last two is exactly what the simulated voltages produced.\n"
    );
    let _ = writeln!(
        r,
        "## Files\n\n{network_files}, `voltage.csv.gz`, `feed_in.csv.gz`, `voltage_events.csv`, `outage_log.csv`, `incidents.csv`, `voltage_presence.csv`, `truth.csv`, \
         `scenario.json` (true PV per connection, devices, per-channel voltage statistics, incidents with every interruption, GIS errors, transformer data)."
    );
    r
}

//! `lvtopo simulate`: generate a sample network with meter reads and truth.

use anyhow::Context;
use lvtopo_core::model::Crs;
use lvtopo_core::progress::Progress;
use lvtopo_core::sim::{self, SimConfig, WriteOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// street (~60 connections), town (3 stations, ~600, much PV, summer) or region (benchmarks).
    #[arg(long, default_value = "street")]
    pub preset: String,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output folder (created if needed).
    #[arg(long)]
    pub out: PathBuf,
    /// Number of stations (region: ~330 connections each).
    #[arg(long)]
    pub stations: Option<usize>,
    /// Connections per station (target).
    #[arg(long)]
    pub connections_per_station: Option<usize>,
    /// Days of 10-minute reads (1..10).
    #[arg(long)]
    pub days: Option<usize>,
    /// Meter voltage rounding: 0.1 or 1 (V).
    #[arg(long)]
    pub rounding: Option<f64>,
    /// Share of smart meters (the rest conventional, without data).
    #[arg(long)]
    pub smart_share: Option<f64>,
    /// Meter calibration error: standard deviation of each channel's gain (0.003 = 0.3%).
    #[arg(long)]
    pub meter_gain_sigma: Option<f64>,
    /// summer or winter (sets the default start date).
    #[arg(long)]
    pub season: Option<String>,
    /// Share of connections with PV.
    #[arg(long)]
    pub pv_share: Option<f64>,
    /// Transformer tap position (2.5% steps, 0 = 236 V no-load).
    #[arg(long)]
    pub tap: Option<i32>,
    /// First day (YYYY-MM-DD, Dutch civil date).
    #[arg(long)]
    pub start: Option<chrono::NaiveDate>,
    /// Network format: geojson (a folder of three files) or gpkg (one network.gpkg).
    #[arg(long, default_value = "geojson")]
    pub format: String,
    /// Coordinate system of the network files: rd or wgs84.
    #[arg(long, default_value = "rd")]
    pub crs: String,
    /// Simulate 15-minute feed-in even for the region preset.
    #[arg(long)]
    pub feed_in: bool,
    /// Write plain voltage.csv / feed_in.csv instead of .csv.gz.
    #[arg(long)]
    pub no_gzip: bool,
    /// Also write a README.md describing the network and how to regenerate it.
    #[arg(long)]
    pub readme: bool,
}

struct Bar(indicatif::ProgressBar);
impl Progress for Bar {
    fn set(&self, fraction: f32, stage: &str) {
        self.0.set_position((fraction.clamp(0.0, 1.0) * 1000.0) as u64);
        self.0.set_message(stage.to_string());
    }
}

pub fn config_from(a: &Args) -> anyhow::Result<SimConfig> {
    let mut cfg = SimConfig::preset(&a.preset).map_err(anyhow::Error::msg)?;
    if let Some(s) = &a.season {
        cfg.set_season(s).map_err(anyhow::Error::msg)?;
    }
    if let Some(v) = a.stations {
        cfg.stations = v;
    }
    if let Some(v) = a.connections_per_station {
        cfg.connections_per_station = v;
    }
    if let Some(v) = a.days {
        cfg.days = v;
    }
    if let Some(v) = a.rounding {
        cfg.rounding_v = v;
    }
    if let Some(v) = a.meter_gain_sigma {
        cfg.meter_gain_sigma = v;
    }
    if let Some(v) = a.smart_share {
        cfg.smart_share = v;
    }
    if let Some(v) = a.pv_share {
        cfg.pv_share = v;
    }
    if let Some(v) = a.tap {
        cfg.tap = v;
    }
    if let Some(v) = a.start {
        cfg.start = v;
    }
    if a.feed_in {
        cfg.feed_in = true;
    }
    cfg.validate().map_err(anyhow::Error::msg)?;
    Ok(cfg)
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let cfg = config_from(&a)?;
    let crs = match a.crs.to_ascii_lowercase().as_str() {
        "rd" | "rdnew" | "28992" | "epsg:28992" => Crs::RdNew,
        "wgs84" | "4326" | "epsg:4326" => Crs::Wgs84,
        other => anyhow::bail!("--crs: expected rd or wgs84, found {other:?}"),
    };
    let format = match a.format.to_ascii_lowercase().as_str() {
        "geojson" => sim::write::NetworkFormat::GeoJson,
        "gpkg" | "geopackage" => sim::write::NetworkFormat::GeoPackage,
        other => anyhow::bail!("--format: expected geojson or gpkg, found {other:?}"),
    };
    let bar = indicatif::ProgressBar::new(1000);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {percent:>3}% {msg}")
            .unwrap()
            .progress_chars("=> "),
    );
    let t0 = std::time::Instant::now();
    let out = sim::generate(&cfg, a.seed, &Bar(bar.clone()))?;
    let t_gen = t0.elapsed().as_secs_f64();
    bar.set_message("writing files");
    let files = sim::write(
        &out,
        &a.out,
        &WriteOptions {
            crs,
            format,
            gzip_large: !a.no_gzip,
            readme_command: a.readme.then(|| format!("lvtopo {}", std::env::args().skip(1).collect::<Vec<_>>().join(" "))),
            ..Default::default()
        },
    )
    .with_context(|| format!("writing {}", a.out.display()))?;
    bar.finish_and_clear();
    let c = &out.scenario.counts;
    println!(
        "{}: {} stations, {} feeders, {} cable sections, {} connections ({} smart, {} three-phase, {} PV) over {} days",
        a.out.display(),
        c.stations,
        c.feeders,
        c.cables,
        c.connections,
        c.smart_meters,
        c.three_phase,
        c.pv,
        cfg.days
    );
    println!(
        "GIS errors: {} wrong phase, {} wrong feeder, {} wrong cable; {} incidents; load flow {} solves, mean {} iterations, worst power balance {:.2e} W",
        c.wrong_phase,
        c.wrong_feeder,
        c.wrong_cable,
        out.scenario.incidents.len(),
        out.scenario.load_flow.solves,
        out.scenario.load_flow.mean_iterations,
        out.scenario.load_flow.worst_power_balance_w
    );
    println!("generated in {t_gen:.1} s; {} files written in {:.1} s", files.len(), t0.elapsed().as_secs_f64() - t_gen);
    Ok(ExitCode::SUCCESS)
}

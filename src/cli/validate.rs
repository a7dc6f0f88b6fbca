//! `lvtopo validate PATH...`: loads a network and/or measurement files (or a
//! folder holding both) and prints the import report. Exit code 1 on errors.

use lvtopo_core::io::{ImportReport, load_measurements, load_network};
use lvtopo_core::model::{Crs, Network, time::format_amsterdam};
use lvtopo_core::progress::Progress;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A network (`.gpkg` file or GeoJSON folder), measurement files (`voltage.csv[.gz]`, ...),
    /// or a folder holding both (e.g. `sample-networks/street`).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A progress bar that only appears when the work takes longer than a second.
struct LateBar {
    bar: indicatif::ProgressBar,
    start: Instant,
}

impl LateBar {
    fn new() -> Self {
        let bar = indicatif::ProgressBar::with_draw_target(Some(1000), indicatif::ProgressDrawTarget::hidden());
        if let Ok(style) = indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {percent:>3}% {msg}") {
            bar.set_style(style.progress_chars("=> "));
        }
        LateBar { bar, start: Instant::now() }
    }
}

impl Progress for LateBar {
    fn set(&self, fraction: f32, stage: &str) {
        if self.bar.is_hidden() && self.start.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        self.bar.set_position((fraction.clamp(0.0, 1.0) * 1000.0) as u64);
        self.bar.set_message(stage.to_string());
    }
}

/// `true` when `p` is (or holds) a network.
fn is_network(p: &Path) -> bool {
    if p.is_file() {
        return p.extension().is_some_and(|e| e.eq_ignore_ascii_case("gpkg"));
    }
    p.is_dir()
        && (p.join("stations.geojson").exists()
            || p.join("connections.geojson").exists()
            || std::fs::read_dir(p)
                .map(|d| d.filter_map(Result::ok).any(|e| e.path().extension().is_some_and(|x| x.eq_ignore_ascii_case("gpkg"))))
                .unwrap_or(false))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let bar = LateBar::new();
    let mut report = ImportReport::default();
    let mut summary = Vec::new();
    let networks: Vec<&PathBuf> = args.paths.iter().filter(|p| is_network(p)).collect();
    if networks.len() > 1 {
        anyhow::bail!(
            "more than one network given ({}); validate one network at a time",
            networks.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    for p in &args.paths {
        if !p.exists() {
            anyhow::bail!("not found: {}", p.display());
        }
    }
    let mut net = Network::default();
    if let Some(np) = networks.first() {
        let loaded = load_network(np, &bar)?;
        let n = &loaded.network;
        if !n.stations.is_empty() || !n.connections.is_empty() {
            summary.push(format!(
                "network {}: {} station(s), {} feeder(s), {} cable section(s), {} connection(s), {}",
                np.display(),
                n.stations.len(),
                n.feeders().len(),
                n.cables.len(),
                n.connections.len(),
                match n.source_crs {
                    Crs::RdNew => "RD New (EPSG:28992)",
                    Crs::Wgs84 => "WGS84 (EPSG:4326)",
                }
            ));
        }
        report.merge(loaded.report);
        net = loaded.network;
    }
    // Measurement files: every folder given (a network folder may hold them too) and every CSV file.
    let meas_paths: Vec<PathBuf> = args
        .paths
        .iter()
        .filter(|p| p.is_dir() || !p.extension().is_some_and(|e| e.eq_ignore_ascii_case("gpkg")))
        .cloned()
        .collect();
    let m = load_measurements(&meas_paths, &net, &bar)?;
    if let Some(v) = &m.measurements.voltage
        && v.grid.len > 0
    {
        summary.push(format!(
            "voltage: {} meter(s), {} series, {} steps of 10 min from {} to {}",
            v.meter_count(),
            v.keys.len(),
            v.grid.len,
            format_amsterdam(v.grid.start),
            format_amsterdam(v.grid.end())
        ));
    }
    if let Some(f) = &m.measurements.feed_in {
        summary.push(format!("feed-in: {} connection(s), {} steps of 15 min", f.eans.len(), f.grid.len));
    }
    report.merge(m.report);
    bar.bar.finish_and_clear();
    if report.files.is_empty() {
        anyhow::bail!(
            "nothing to validate: no network and no measurement files in {}",
            args.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for s in &summary {
            println!("{s}");
        }
        println!("{report}");
    }
    Ok(if report.has_errors() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

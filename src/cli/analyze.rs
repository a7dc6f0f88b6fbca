//! `lvtopo analyze`: headless inference writing `assignments.csv` and a report.

use crate::analysis::{self, AnalysisOptions, output};
use crate::model::Topology;
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Network: a GeoPackage or a folder with stations/cables/connections.geojson.
    #[arg(long)]
    pub network: PathBuf,
    /// 10-minute voltages (`voltage.csv` or `.csv.gz`).
    #[arg(long)]
    pub voltage: PathBuf,
    /// Where to write the assignments.
    #[arg(long, default_value = "assignments.csv")]
    pub out: PathBuf,
    /// Report (JSON): summary, reasons for `insufficient_data` and `suggest_change`, notes.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Analysis options as JSON (any subset of the fields; the rest keep their defaults).
    #[arg(long)]
    pub options: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let options: AnalysisOptions = match &args.options {
        Some(p) => serde_json::from_str(&std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?)
            .with_context(|| format!("{}: expected analysis options as JSON", p.display()))?,
        None => AnalysisOptions::default(),
    };
    let bar = Bar::new(args.quiet);
    let (net, voltage, report) = load(&args)?;
    if report.has_errors() || report.warning_count() > 0 {
        eprintln!("{report}");
    }
    let topology = Topology::build(&net);
    for p in &topology.problems {
        eprintln!("topology: {p}");
    }
    let result = analysis::analyze(&net, &topology, &voltage, &options, &bar)?;
    bar.finish();
    output::write_atomic(&args.out, |w| output::write_assignments(&net, &result, w))?;
    let report_json = output::report_json(&net, &result, &options);
    if let Some(path) = &args.report {
        let mut v = report_json.clone();
        v["import"] = serde_json::to_value(&report)?;
        v["topology_problems"] = serde_json::Value::Array(topology.problems.iter().map(|p| p.to_string().into()).collect());
        output::write_atomic(path, |w| Ok(serde_json::to_writer_pretty(w, &v)?))?;
    }
    let s = &report_json["summary"];
    println!(
        "{} connections: {} ok, {} suggest_change, {} insufficient_data -> {}",
        s["connections"],
        s["ok"],
        s["suggest_change"],
        s["insufficient_data"],
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Progress bar on stderr (hidden with `--quiet`).
struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new(quiet: bool) -> Bar {
        let pb = if quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(1000) };
        pb.set_style(
            indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {percent:>3}% {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Bar(pb)
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl crate::progress::Progress for Bar {
    fn set(&self, fraction: f32, stage: &str) {
        self.0.set_position((fraction.clamp(0.0, 1.0) * 1000.0) as u64);
        self.0.set_message(stage.to_string());
    }
}

fn load(args: &Args) -> anyhow::Result<(crate::model::Network, crate::model::VoltageTable, crate::io::ImportReport)> {
    // TODO(io): wire to the readers once they are on main.
    anyhow::bail!("reading {} and {} needs the io readers", args.network.display(), args.voltage.display())
}

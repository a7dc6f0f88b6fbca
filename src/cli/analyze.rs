//! `lvtopo analyze`: headless inference writing `assignments.csv` and a report.

use crate::cli::privacy::PurposeArgs;
use anyhow::Context;
use lvtopo_core::analysis::{self, AnalysisOptions, output};
use lvtopo_core::io::{ImportReport, load_network, voltage::read_voltage};
use lvtopo_core::model::{Network, Topology, VoltageTable};
use lvtopo_core::privacy::Task;
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
    /// `truth.csv` of a sample network: also print the accuracy against it.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Purpose of the read. `analyze` serves GIS topology correction (use case 7) only; when
    /// neither `--purpose`, `--purpose-file` nor a purpose file next to the voltage file
    /// states one, running `analyze` states that purpose.
    #[command(flatten)]
    pub purpose: PurposeArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let options: AnalysisOptions = match &args.options {
        Some(p) => serde_json::from_str(&std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?)
            .with_context(|| format!("{}: expected analysis options as JSON", p.display()))?,
        None => AnalysisOptions::default(),
    };
    let bar = Bar::new(args.quiet);
    let Some((net, topology, voltage, report)) = load(&args, &bar)? else {
        bar.finish();
        return Ok(ExitCode::FAILURE);
    };
    let result = analysis::analyze(&net, &topology, &voltage, &options, &bar)?;
    bar.finish();
    output::write_atomic(&args.out, |w| output::write_assignments(&net, &result, w))?;
    // The audit log learns that derived results exist, so the raw read may be purged.
    args.purpose.record_export(&args.out, "assignments", result.assignments.len())?;
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
    if let Some(path) = &args.truth {
        let mut tr = ImportReport::default();
        let truth = lvtopo_core::io::measurements::read_truth(path, Some(&net), &mut tr);
        if tr.has_errors() {
            eprintln!("{tr}");
            return Ok(ExitCode::FAILURE);
        }
        let acc = analysis::metrics::evaluate(&net, &result, &truth);
        println!("accuracy against {}:", path.display());
        println!("{}\n{}", analysis::metrics::table_header(), analysis::metrics::table_row("this network", &acc));
        println!(
            "suggestions: {} of {} right; GIS errors: {} of {} found",
            acc.suggestions_right, acc.suggestions, acc.gis_errors_found, acc.gis_errors
        );
    }
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

impl lvtopo_core::progress::Progress for Bar {
    fn set(&self, fraction: f32, stage: &str) {
        self.0.set_position((fraction.clamp(0.0, 1.0) * 1000.0) as u64);
        self.0.set_message(stage.to_string());
    }
}

/// Reads the network and the voltage file; checks the read against the privacy rules of
/// GIS topology correction. `None` (after printing the import report) when the import
/// found errors: an analysis of a half-read network would suggest wrong changes.
fn load(args: &Args, bar: &Bar) -> anyhow::Result<Option<(Network, Topology, VoltageTable, ImportReport)>> {
    for p in [&args.network, &args.voltage] {
        if !p.exists() {
            anyhow::bail!("not found: {}", p.display());
        }
    }
    let loaded = load_network(&args.network, bar)?;
    let mut report = loaded.report;
    let net = loaded.network;
    let voltage = read_voltage(&args.voltage, Some(&net), &mut report, bar)?;
    if report.has_errors() || report.warning_count() > 0 {
        bar.0.suspend(|| eprintln!("{report}"));
    }
    if report.has_errors() {
        eprintln!("the import found {} error(s); fix them (see above) and run again", report.error_count());
        return Ok(None);
    }
    if net.connections.is_empty() {
        anyhow::bail!("{}: the network has no connections", args.network.display());
    }
    let Some(voltage) = voltage else {
        anyhow::bail!("{}: no voltage series read", args.voltage.display());
    };
    let voltage = args.purpose.admit(voltage, &args.voltage, Task::GisCorrection, vec![])?;
    Ok(Some((net, loaded.topology, voltage, report)))
}

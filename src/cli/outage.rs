//! `lvtopo outage --network PATH --log outage_log.csv [--incidents incidents.csv]
//! [--presence voltage_presence.csv] --out DIR`: interruptions with
//! compensation, register rows, registration mismatches and (with presence
//! answers) the fault localisation, as CSV for batch use.

use lvtopo_core::io::measurements::{read_incidents, read_outage_log, read_presence};
use lvtopo_core::io::network::load_network;
use lvtopo_core::io::{ImportReport, Severity};
use lvtopo_core::model::Measurements;
use lvtopo_core::model::time::format_amsterdam;
use lvtopo_core::outage::{OutageOptions, analyse, export};
use lvtopo_core::privacy::{Period, Task};
use lvtopo_core::progress::NoProgress;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The network: a `.gpkg` file or a folder of GeoJSON files.
    #[arg(long)]
    pub network: PathBuf,
    /// The meters' power-failure logs (`ean,start,end` or DSMR `ean,end,duration_s`).
    #[arg(long)]
    pub log: PathBuf,
    /// The registered incidents (`incident_id,start,end,planned,cable_ids`).
    #[arg(long)]
    pub incidents: Option<PathBuf>,
    /// Answers to "voltage present?" reads (`ean,timestamp,voltage_present`).
    #[arg(long)]
    pub presence: Option<PathBuf>,
    /// Folder for the CSV files.
    #[arg(long)]
    pub out: PathBuf,
    /// Privacy: the voltage-presence answers are admitted for fault localisation,
    /// and only inside a (suspected) outage window (registered incidents and the
    /// meters' logs). Without `--purpose` or a purpose file, this command states
    /// its own purpose (fault_localisation); the audit log records the read.
    /// The outage log is admitted for compensation / the interruption register
    /// (its purpose file, else compensation).
    #[command(flatten)]
    pub purpose: crate::cli::privacy::PurposeArgs,
}

/// Admits the presence answers read from `path` for fault localisation, inside the
/// outage windows of the incidents and the meters' logs (or refuses them, naming the rule).
fn admit_presence(
    args: &Args,
    path: &std::path::Path,
    answers: Vec<lvtopo_core::model::PresenceAnswer>,
    m: &Measurements,
) -> anyhow::Result<Vec<lvtopo_core::model::PresenceAnswer>> {
    let windows: Vec<Period> = lvtopo_core::outage::outage_windows(m, OutageOptions::default().merge_gap_s)
        .into_iter()
        .map(|(s, e)| Period::new(s, e))
        .collect();
    let n = answers.len();
    let kept = args.purpose.admit_with(answers, path, Task::FaultLocalisation, true, windows)?.data;
    if kept.len() < n {
        eprintln!("privacy: {}: {} of {n} answer(s) kept (inside an outage window)", path.display(), kept.len());
    }
    Ok(kept)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let loaded = load_network(&args.network, &NoProgress)?;
    let mut report: ImportReport = loaded.report;
    if loaded.network.connections.is_empty() {
        eprintln!("{report}");
        anyhow::bail!("{}: no connections could be read", args.network.display());
    }
    let net = loaded.network;
    let topo = loaded.topology;
    let mut m = Measurements { outage_log: read_outage_log(&args.log, Some(&net), &mut report), ..Default::default() };
    if let Some(p) = &args.incidents {
        m.incidents = read_incidents(p, Some(&net), &mut report);
    }
    let presence = args.presence.as_ref().map(|p| (p, read_presence(p, Some(&net), &mut report)));
    let file_errors =
        report.issues.iter().any(|i| i.severity == Severity::Error && i.location == lvtopo_core::io::Location::File);
    if !report.issues.is_empty() {
        eprintln!("{report}");
    }
    if file_errors {
        anyhow::bail!("an input file could not be read (see the report above)");
    }
    // One `--purpose` for both inputs: it names the purpose of the one whose kind it may use.
    m.outage_log = args.purpose.admit_with(std::mem::take(&mut m.outage_log), &args.log, Task::Outage, true, vec![])?.data;
    if let Some((p, answers)) = presence {
        m.presence = admit_presence(&args, p, answers, &m)?;
    }

    let a = analyse(&net, &topo, &m, &OutageOptions::default());
    for n in &a.notes {
        eprintln!("note: {n}");
    }
    let written = export::write_all(&a, &net, &args.out)?;

    println!(
        "{:<22} {:>7} {:>9} {:<25} {:<25} {:>10} {:>8} {:>10}  fault",
        "incident", "planned", "customers", "first off", "last back", "cust.min", "EUR", "mismatches"
    );
    for i in &a.incidents {
        let r = &i.register;
        println!(
            "{:<22} {:>7} {:>9} {:<25} {:<25} {:>10.0} {:>8} {:>10}  {} ({})",
            i.id,
            i.planned,
            r.customers_affected,
            r.start.map(format_amsterdam).unwrap_or_default(),
            r.end.map(format_amsterdam).unwrap_or_default(),
            r.customer_minutes_lost,
            r.compensation_total_eur,
            i.mismatches.len(),
            r.fault.join(", "),
            r.fault_source.as_str()
        );
    }
    for (k, e) in a.episodes.iter().enumerate() {
        println!(
            "localisation {} ({} answers from {}{}): {}",
            k + 1,
            e.episode.observations.len(),
            format_amsterdam(e.episode.first),
            e.incident_id.as_deref().map(|i| format!(", incident {i}")).unwrap_or_default(),
            e.localisation.summary
        );
        if !e.localisation.decided && !e.localisation.ask_next.is_empty() {
            let eans: Vec<&str> = e.localisation.ask_next.iter().map(|m| m.ean.as_str()).collect();
            println!("  ask next: {}", eans.join(", "));
        }
    }
    for p in &written {
        println!("wrote {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

//! `lvtopo pv --network PATH --feed-in feed_in.csv --out pv.csv`: PV found vs
//! registered per connection (use case 6), and the two letter lists (reminder
//! to register; request to check the registration) next to `pv.csv`.

use super::voltage::load;
use crate::cli::gate;
use lvtopo_core::io::ImportReport;
use lvtopo_core::io::atomic::OutputSet;
use lvtopo_core::io::inputs::InputSet;
use lvtopo_core::io::measurements::read_feed_in;
use lvtopo_core::privacy::Task;
use lvtopo_core::quality::export::{PV_CSV_HEADER, letter_paths, pv_rows, stage_csv, stage_letters};
use lvtopo_core::quality::solar::{self, RegisterStatus, SolarSettings};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The network: a `.gpkg` file or a folder of GeoJSON files.
    #[arg(long)]
    pub network: PathBuf,
    /// 15-minute feed-in (`ean,timestamp,import_kwh,export_kwh`), at most one week.
    #[arg(long)]
    pub feed_in: PathBuf,
    /// Where to write the per-connection results.
    #[arg(long, default_value = "pv.csv")]
    pub out: PathBuf,
    /// Folder for the letter lists (default: the folder of `--out`).
    #[arg(long)]
    pub letters: Option<PathBuf>,
    /// Registered and estimated kWp differing by more than this factor count as a large deviation (orange).
    #[arg(long, default_value_t = SolarSettings::default().deviation_factor)]
    pub deviation_factor: f64,
    #[command(flatten)]
    pub purpose: crate::cli::privacy::PurposeArgs,
    /// Write the results even when rows of the feed-in were rejected (they are left out;
    /// the exit code is then 3). Without it, an import with errors writes nothing.
    #[arg(long)]
    pub keep_going: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = match &args.letters {
        Some(d) => d.clone(),
        None => args.out.parent().filter(|p| !p.as_os_str().is_empty()).map(PathBuf::from).unwrap_or_else(|| ".".into()),
    };
    let mut inputs = InputSet::new();
    inputs.network(&args.network).file(&args.feed_in);
    if let Some(p) = &args.purpose.purpose_file {
        inputs.file(p);
    }
    let letters = letter_paths(&dir);
    gate::refuse_overwriting_inputs(&inputs, std::iter::once(args.out.as_path()).chain(letters.iter().map(PathBuf::as_path)))?;
    let (net, mut report): (_, ImportReport) = load(&args.network)?;
    let feed = read_feed_in(&args.feed_in, Some(&net), &mut report);
    let left_out = gate::import_gate(&report, args.keep_going)?;
    let Some(feed) = feed else {
        anyhow::bail!("{}: no feed-in rows could be read", args.feed_in.display());
    };
    let purpose = &args.purpose;
    let feed = purpose.admit(feed, &args.feed_in, Task::PvRegistration, vec![])?;

    let settings = SolarSettings { deviation_factor: args.deviation_factor, ..SolarSettings::default() };
    let a = solar::analyse(&net, &feed, &settings);
    for n in &a.notes {
        eprintln!("note: {n}");
    }
    let rows = pv_rows(&net, &a);
    // The table and its letter lists are one unit: all are replaced, or none.
    let mut set = OutputSet::new();
    stage_csv(&mut set, &args.out, &PV_CSV_HEADER, &rows)?;
    let letters = stage_letters(&mut set, &net, &a, &dir)?;
    set.commit()?;
    purpose.record_export(&args.out, "pv_found_vs_registered", rows.len())?;
    for (p, n) in &letters {
        purpose.record_export(p, "pv_letter_list", *n)?;
    }

    let found = a.results.iter().filter(|r| r.pv_found).count();
    println!(
        "{} connection(s) with feed-in over {:.1} days: PV found at {found}; calibration factor {:.3} ({} connection(s) agreeing with the register)",
        a.results.len(),
        feed.grid.days(),
        a.calibration,
        a.calibration_connections
    );
    for s in [
        RegisterStatus::Consistent,
        RegisterStatus::NotRegistered,
        RegisterStatus::LargeDeviation,
        RegisterStatus::RegisteredNotFound,
        RegisterStatus::NoPv,
        RegisterStatus::Unknown,
    ] {
        let colour = if s.colour().is_empty() { String::new() } else { format!(" ({})", s.colour()) };
        println!("  {:<22}{colour:<9} {}", s.as_str(), a.count(s));
    }
    println!("wrote {} ({} rows)", args.out.display(), rows.len());
    for (p, n) in &letters {
        println!("wrote {} ({n} letters)", p.display());
    }
    Ok(gate::exit_code(&left_out))
}

//! `lvtopo pv --network PATH --feed-in feed_in.csv --out pv.csv`: PV found vs
//! registered per connection (use case 6), and the two letter lists (reminder
//! to register; request to check the registration) next to `pv.csv`.

use super::voltage::{fail_on_file_errors, load};
use lvtopo_core::io::ImportReport;
use lvtopo_core::io::measurements::read_feed_in;
use lvtopo_core::privacy::Task;
use lvtopo_core::quality::export::{PV_CSV_HEADER, pv_rows, write_csv, write_letters};
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
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (net, mut report): (_, ImportReport) = load(&args.network)?;
    let feed = read_feed_in(&args.feed_in, Some(&net), &mut report);
    fail_on_file_errors(&report)?;
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
    write_csv(&args.out, &PV_CSV_HEADER, &rows)?;
    purpose.record_export(&args.out, "pv_found_vs_registered", rows.len())?;
    let dir = match &args.letters {
        Some(d) => d.clone(),
        None => args.out.parent().filter(|p| !p.as_os_str().is_empty()).map(PathBuf::from).unwrap_or_else(|| ".".into()),
    };
    let letters = write_letters(&net, &a, &dir)?;
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
    Ok(ExitCode::SUCCESS)
}

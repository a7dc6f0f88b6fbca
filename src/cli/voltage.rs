//! `lvtopo voltage --network PATH [--events voltage_events.csv] [--voltage
//! voltage.csv [--feed-in feed_in.csv] [--before voltage_before.csv]] --out DIR`:
//! voltage quality per connection and feeder as CSV (use cases 2, 3, 5, 12).
//!
//! - `--events`: events per connection from the quarterly counters (use case 2).
//! - `--voltage` (+ `--feed-in`): minutes outside the 207–253 V band and above
//!   the inverter limit, likely inverter trips, broken-neutral hints (3, 12).
//! - `--before`: `--voltage` is then the read after the intervention; the
//!   before/after verdicts per connection, feeder and station (5).
//!
//! Every read is admitted by the privacy guard for its purpose first.

use crate::cli::gate;
use lvtopo_core::io::atomic::OutputSet;
use lvtopo_core::io::inputs::InputSet;
use lvtopo_core::io::measurements::{read_feed_in, read_voltage_events};
use lvtopo_core::io::network::load_network;
use lvtopo_core::io::voltage::read_voltage;
use lvtopo_core::io::{ImportReport, Location, Severity};
use lvtopo_core::model::{Network, VoltageTable};
use lvtopo_core::privacy::Task;
use lvtopo_core::progress::NoProgress;
use lvtopo_core::quality::export::{CONNECTION_HEADER, FEEDER_HEADER, VoltageResults, connection_rows, feeder_rows, stage_csv};
use lvtopo_core::quality::{Operator, VoltageSettings, band, compare, events, neutral};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The network: a `.gpkg` file or a folder of GeoJSON files.
    #[arg(long)]
    pub network: PathBuf,
    /// Quarterly under/overvoltage counter reads (`voltage_events.csv`).
    #[arg(long)]
    pub events: Option<PathBuf>,
    /// 10-minute voltages, at most 10 days (with `--before`: the read after the intervention).
    #[arg(long)]
    pub voltage: Option<PathBuf>,
    /// 15-minute PV feed-in over the same days (sunny vs cloudy days, inverter trips).
    #[arg(long)]
    pub feed_in: Option<PathBuf>,
    /// The voltage read before the intervention (at most 10 days, ending at least 1 day before `--voltage` starts).
    #[arg(long)]
    pub before: Option<PathBuf>,
    /// Operator whose inverter setting applies: enexis (248 V), stedin (249 V), liander (250 V).
    #[arg(long, default_value = "liander")]
    pub operator: Operator,
    /// Inverter overvoltage setting in volts (overrides --operator).
    #[arg(long)]
    pub inverter_limit: Option<f64>,
    /// Folder for the CSV files.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub purpose: crate::cli::privacy::PurposeArgs,
    /// Write the results even when rows of the input were rejected (they are left out;
    /// the exit code is then 3). Without it, an import with errors writes nothing.
    #[arg(long)]
    pub keep_going: bool,
}

/// The files `voltage` may write into `--out`.
const OUTPUT_NAMES: [&str; 4] =
    ["voltage_connections.csv", "voltage_feeders.csv", "before_after_stations.csv", "neutral_hints.csv"];

/// Loads the network; a network without connections is an error.
pub(crate) fn load(path: &Path) -> anyhow::Result<(Network, ImportReport)> {
    let loaded = load_network(path, &NoProgress)?;
    if loaded.network.connections.is_empty() {
        eprintln!("{}", loaded.report);
        anyhow::bail!("{}: no connections could be read", path.display());
    }
    Ok((loaded.network, loaded.report))
}

/// Fails (printing the report) when a whole file could not be read; rejected rows
/// are judged once all files are read ([`gate::import_gate`]).
pub(crate) fn fail_on_file_errors(report: &ImportReport) -> anyhow::Result<()> {
    if report.issues.iter().any(|i| i.severity == Severity::Error && i.location == Location::File) {
        eprintln!("{report}");
        anyhow::bail!("an input file could not be read (see the report above); nothing was written");
    }
    Ok(())
}

fn read_volt(path: &Path, net: &Network, report: &mut ImportReport) -> anyhow::Result<VoltageTable> {
    let v = read_voltage(path, Some(net), report, &NoProgress)?;
    fail_on_file_errors(report)?;
    v.ok_or_else(|| anyhow::anyhow!("{}: no voltage rows could be read", path.display()))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.events.is_none() && args.voltage.is_none() {
        anyhow::bail!("nothing to analyse: give --events and/or --voltage");
    }
    if args.before.is_some() && args.voltage.is_none() {
        anyhow::bail!("--before needs --voltage (the read after the intervention)");
    }
    let settings = match args.inverter_limit {
        Some(v) if !(200.0..=270.0).contains(&v) => {
            anyhow::bail!("--inverter-limit {v} V: expected a value between 200 and 270 V")
        }
        Some(v) => VoltageSettings::with_inverter_limit(v),
        None => VoltageSettings::for_operator(args.operator),
    };
    let mut inputs = InputSet::new();
    inputs.network(&args.network);
    for p in [&args.events, &args.voltage, &args.feed_in, &args.before, &args.purpose.purpose_file].into_iter().flatten() {
        inputs.file(p);
    }
    let outputs: Vec<PathBuf> = OUTPUT_NAMES.iter().map(|n| args.out.join(n)).collect();
    gate::refuse_overwriting_inputs(&inputs, outputs.iter().map(PathBuf::as_path))?;
    let (net, mut report) = load(&args.network)?;
    let mut written = Vec::new();

    // Use case 2: the counters.
    let mut ev = None;
    if let Some(p) = &args.events {
        let reads = read_voltage_events(p, Some(&net), &mut report);
        fail_on_file_errors(&report)?;
        let reads = args.purpose.admit_with(reads, p, Task::VoltageEvents, true, vec![])?.data;
        let Some(span) = events::read_span(&reads) else {
            anyhow::bail!("{}: no counter reads", p.display());
        };
        let s = events::event_summary(&net, &reads, span, 3600);
        for n in &s.notes {
            eprintln!("note: {n}");
        }
        ev = Some(s);
    }

    // Use cases 3 and 12 (one read), or 5 (two reads).
    let (mut bd, mut hints, mut ba) = (None, Vec::new(), None);
    if let Some(vp) = &args.voltage {
        let volt = read_volt(vp, &net, &mut report)?;
        let mut pa = args.purpose.clone();
        if pa.justification.is_none() {
            // The rule: a 10-day read only where the counters are high. The counts are the reason.
            pa.justification = ev.as_ref().and_then(|e| {
                let n = e.connections.iter().filter(|c| c.total() > 0).count();
                let total: u32 = e.connections.iter().map(|c| c.total()).sum();
                (total > 0).then(|| format!("event counters show {total} under/overvoltage events at {n} connection(s)"))
            });
        }
        let volt = if let Some(bp) = &args.before {
            let before = read_volt(bp, &net, &mut report)?;
            let (b, a) = pa.admit_before_after((before, bp), (volt, vp), true)?;
            ba = Some(compare::before_after(&net, &b, &a, &settings).map_err(|e| anyhow::anyhow!(e))?);
            a
        } else {
            pa.admit_with(volt, vp, Task::VoltageQuality, true, vec![])?.data
        };
        let feed = match &args.feed_in {
            Some(fp) => {
                let f = read_feed_in(fp, Some(&net), &mut report);
                fail_on_file_errors(&report)?;
                match f {
                    Some(f) => Some(pa.admit_with(f, fp, Task::VoltageQuality, true, vec![])?.data),
                    None => anyhow::bail!("{}: no feed-in rows could be read", fp.display()),
                }
            }
            None => None,
        };
        let b = band::analyse(&net, &volt, feed.as_ref(), &settings, &NoProgress)?;
        if args.before.is_none() {
            hints = neutral::neutral_hints(&net, &volt, feed.as_ref(), &neutral::NeutralSettings::default());
        }
        bd = Some(b);
    }

    let left_out = gate::import_gate(&report, args.keep_going)?;
    // The CSV files of one run are one unit: all are replaced, or none.
    let mut set = OutputSet::new();
    let res = VoltageResults { events: ev.as_ref(), band: bd.as_ref(), neutral: &hints, before_after: ba.as_ref() };
    let conn_rows = connection_rows(&net, &res);
    let p = args.out.join(OUTPUT_NAMES[0]);
    stage_csv(&mut set, &p, &CONNECTION_HEADER, &conn_rows)?;
    written.push((p, conn_rows.len()));
    let feeder = feeder_rows(&net, &res);
    let p = args.out.join(OUTPUT_NAMES[1]);
    stage_csv(&mut set, &p, &FEEDER_HEADER, &feeder)?;
    written.push((p, feeder.len()));
    if let Some(r) = &ba {
        let rows: Vec<Vec<String>> = r
            .stations
            .iter()
            .map(|s| {
                vec![
                    s.id.clone(),
                    s.connections.to_string(),
                    s.result.verdict.as_str().into(),
                    s.result.test.map(|t| format!("{:.4}", t.p_value)).unwrap_or_default(),
                    s.result.text.clone(),
                ]
            })
            .collect();
        let p = args.out.join(OUTPUT_NAMES[2]);
        stage_csv(&mut set, &p, &["station_id", "connections", "verdict", "p_value", "text"], &rows)?;
        written.push((p, rows.len()));
    }
    if bd.is_some() && args.before.is_none() {
        let net = &net;
        let rows: Vec<Vec<String>> = hints
            .iter()
            .flat_map(|h| {
                h.connections.iter().map(move |&c| {
                    vec![
                        net.connections[c].ean.clone(),
                        net.connections[c].cable().to_string(),
                        match &h.subject {
                            neutral::NeutralSubject::Meter(_) => "three_phase_meter".into(),
                            neutral::NeutralSubject::Cable(id) => format!("neighbours_on_cable {id}"),
                        },
                        format!("{:.1}", h.spread_p99_v),
                        h.opposite_steps.to_string(),
                        h.evidence.clone(),
                    ]
                })
            })
            .collect();
        let p = args.out.join(OUTPUT_NAMES[3]);
        stage_csv(&mut set, &p, &["ean", "cable_id", "subject", "spread_p99_v", "opposite_steps", "evidence"], &rows)?;
        written.push((p, rows.len()));
    }
    set.commit()?;
    for (p, n) in &written {
        args.purpose.record_export(p, "voltage_quality", *n)?;
    }

    // Summary on stdout.
    if let Some(e) = &ev {
        let total: u32 = e.connections.iter().map(|c| c.total()).sum();
        println!(
            "events: {} connection(s) counted, {total} events ({} under, {} over); worst feeders: {}",
            e.connections.len(),
            e.connections.iter().map(|c| c.undervoltage).sum::<u32>(),
            e.connections.iter().map(|c| c.overvoltage).sum::<u32>(),
            e.feeders.iter().take(3).map(|f| format!("{} ({})", f.id, f.total())).collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(b) = &bd {
        let outside = b.connections.iter().filter(|c| c.minutes_outside_band() > 0.0).count();
        let above = b.connections.iter().filter(|c| c.minutes_above_limit > 0.0).count();
        let trips = b.connections.iter().filter(|c| c.likely_trips()).count();
        println!(
            "voltage: {} connection(s); {outside} outside 207–253 V, {above} above the inverter limit {} V, {trips} with likely inverter trips; {} broken-neutral hint(s)",
            b.connections.len(),
            settings.inverter_limit_v,
            hints.len()
        );
        if let Some((t, v, ci)) = b.worst_overvoltage {
            println!(
                "worst overvoltage: {v:.1} V at {} ({})",
                lvtopo_core::model::time::format_amsterdam(t),
                net.connections[ci].address()
            );
        }
    }
    if let Some(r) = &ba {
        for s in &r.stations {
            println!("before/after station {}: {}", s.id, s.result.text);
        }
        let count = |v| r.connections.iter().filter(|c| c.result.verdict == v).count();
        println!(
            "before/after connections: {} improved, {} deteriorated, {} no clear change, {} no problem",
            count(compare::Verdict::Improved),
            count(compare::Verdict::Deteriorated),
            count(compare::Verdict::NoClearChange),
            count(compare::Verdict::NoProblem)
        );
    }
    for (p, n) in &written {
        println!("wrote {} ({n} rows)", p.display());
    }
    Ok(gate::exit_code(&left_out))
}

use clap::{Parser, Subcommand};
use lvtopo::cli;
use std::process::ExitCode;

/// lvtopo: correct LV network topology (phase, feeder, cable) from smart-meter voltages.
///
/// Without a subcommand it opens the desktop application on the given network
/// (or on the bundled sample network).
#[derive(Parser, Debug)]
#[command(name = "lvtopo", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Network to open in the desktop app (GeoPackage or GeoJSON folder).
    path: Option<std::path::PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Load network and measurement files and print the import report.
    Validate(cli::validate::Args),
    /// Generate a physics-true sample network with meter reads and truth.
    Simulate(cli::simulate::Args),
    /// Infer phase, rotation, feeder and cable of every connection.
    Analyze(cli::analyze::Args),
    /// Outages: interruptions, compensation, register rows, fault localisation.
    Outage(cli::outage::Args),
    /// Voltage quality: events, minutes outside the band, before/after.
    Voltage(cli::voltage::Args),
    /// Solar: PV found vs registered.
    Pv(cli::pv::Args),
    /// Privacy: purge raw reads, audit log, pseudonymise exports.
    Privacy(cli::privacy::Args),
    /// Benchmarks (accuracy, speed) that print figures.
    Bench(lvtopo_bench::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Validate(a)) => cli::validate::run(a),
        Some(Command::Simulate(a)) => cli::simulate::run(a),
        Some(Command::Analyze(a)) => cli::analyze::run(a),
        Some(Command::Outage(a)) => cli::outage::run(a),
        Some(Command::Voltage(a)) => cli::voltage::run(a),
        Some(Command::Pv(a)) => cli::pv::run(a),
        Some(Command::Privacy(a)) => cli::privacy::run(a),
        Some(Command::Bench(a)) => lvtopo_bench::run(a),
        None => lvtopo::ui::run_app(cli.path),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

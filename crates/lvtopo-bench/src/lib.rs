//! `lvtopo bench ...`: benchmarks that print figures (never timed assertions in tests).
//! They live in their own crate, apart from the layers they measure.

mod inference;
mod parse;
mod session;
mod ui;

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub which: Which,
}

#[derive(clap::Subcommand, Debug)]
pub enum Which {
    /// Inference accuracy sweep over generated networks (rounding, days, coverage, season).
    Accuracy(crate::inference::AccuracyArgs),
    /// Time and peak memory of the whole analysis on a generated 100k-connection region.
    Speed(crate::inference::SpeedArgs),
    /// Voltage CSV parse throughput (MB/s).
    Parse(crate::parse::ParseArgs),
    /// Frame time while panning/zooming a 100k-connection region; time to a usable map.
    Ui(crate::ui::UiBenchArgs),
    /// Cost of one review click (command + autosave) and of the exports on a large region.
    Session(crate::session::SessionBenchArgs),
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.which {
        Which::Accuracy(a) => crate::inference::accuracy(a),
        Which::Speed(a) => crate::inference::speed(a),
        Which::Parse(a) => crate::parse::parse(a),
        Which::Ui(a) => crate::ui::run(a),
        Which::Session(a) => crate::session::run(a),
    }
}

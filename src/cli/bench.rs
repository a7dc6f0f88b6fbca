//! `lvtopo bench ...`: benchmarks that print figures (never timed assertions in tests).

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub which: Which,
}

#[derive(clap::Subcommand, Debug)]
pub enum Which {
    /// Inference accuracy sweep over generated networks (rounding, days, coverage, season).
    Accuracy(crate::analysis::bench::AccuracyArgs),
    /// Time and peak memory of the whole analysis on a generated 100k-connection region.
    Speed(crate::analysis::bench::SpeedArgs),
    /// Voltage CSV parse throughput (MB/s).
    Parse(crate::io::bench::ParseArgs),
    /// Frame time while panning/zooming a 100k-connection region; time to a usable map.
    Ui(crate::ui::bench::UiBenchArgs),
    /// Cost of one review click (command + autosave) and of the exports on a large region.
    Session(crate::session::bench::SessionBenchArgs),
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.which {
        Which::Accuracy(a) => crate::analysis::bench::accuracy(a),
        Which::Speed(a) => crate::analysis::bench::speed(a),
        Which::Parse(a) => crate::io::bench::parse(a),
        Which::Ui(a) => crate::ui::bench::run(a),
        Which::Session(a) => crate::session::bench::run(a),
    }
}

//! Parse-throughput benchmark of the measurement readers.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct ParseArgs {}

pub fn parse(_args: ParseArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`lvtopo bench parse` is not built yet")
}

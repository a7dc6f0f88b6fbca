//! Frame-time and start-up benchmark of the map.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct UiBenchArgs {}

pub fn run(_args: UiBenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`lvtopo bench ui` is not built yet")
}

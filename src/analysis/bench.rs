//! Accuracy sweep and speed benchmark of the inference.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct AccuracyArgs {}

#[derive(clap::Args, Debug)]
pub struct SpeedArgs {}

pub fn accuracy(_args: AccuracyArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`lvtopo bench accuracy` is not built yet")
}

pub fn speed(_args: SpeedArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`lvtopo bench speed` is not built yet")
}

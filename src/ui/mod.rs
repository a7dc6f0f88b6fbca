//! The desktop application (eframe/egui). Reads state and issues commands;
//! holds no business logic.

pub mod bench;

use std::process::ExitCode;

/// Opens the desktop application on `path`, or on the bundled sample network.
pub fn run_app(_path: Option<std::path::PathBuf>) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the desktop application is not built yet")
}

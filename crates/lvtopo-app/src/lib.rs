//! The desktop application (eframe/egui). Reads state and issues commands;
//! holds no business logic. Structure (see `docs/ui.md`):
//!
//! - [`app`]: the shell (state, panels, jobs, frame layout); [`dispatch`] applies commands.
//! - [`command`]: every user action as a [`command::UiCommand`] (menus, shortcuts, palette).
//! - [`view`]: the [`view::View`] and [`view::MapOverlay`] traits other modules implement;
//!   [`views::register`] is where they are added.
//! - [`map`]: walkers map, R-tree culled network drawing, tiles.
//! - [`panels`]: built-in panels, one file each.

pub mod app;
pub mod checks;
mod chrome;
pub mod command;
mod dispatch;
pub mod files;
pub mod jobs;
pub mod loader;
pub mod map;
pub mod panels;
pub mod privacy_actions;
pub mod series;
pub mod settings;
pub mod state;
mod system;
pub mod view;
pub mod views;

pub use app::{AppOptions, LvtopoApp, StartWith};

use std::process::ExitCode;

/// Opens the desktop application on `path`, or on the bundled sample network.
pub fn run_app(path: Option<std::path::PathBuf>) -> anyhow::Result<ExitCode> {
    let start = match path {
        Some(p) => StartWith::Paths(vec![p]),
        None => StartWith::Sample,
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("lvtopo")
            .with_app_id("lvtopo")
            .with_inner_size([1500.0, 950.0])
            .with_min_inner_size([800.0, 500.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native("lvtopo", options, Box::new(move |_cc| Ok(Box::new(LvtopoApp::new(AppOptions::desktop(start))))))
        .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

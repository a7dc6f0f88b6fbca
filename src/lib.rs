//! lvtopo: LV network topology correction from smart-meter voltages.
//!
//! The core (everything but [`ui`]) is free of UI code: it is driven by the
//! CLI, the tests and the desktop app alike.

pub mod analysis;
pub mod cli;
pub mod crs;
pub mod io;
pub mod model;
pub mod outage;
pub mod privacy;
pub mod progress;
pub mod quality;
pub mod session;
pub mod sim;
pub mod ui;

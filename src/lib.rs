//! lvtopo: LV network topology correction from smart-meter voltages.
//!
//! The core (everything but [`ui`]) is free of UI code: it is driven by the
//! CLI, the tests and the desktop app alike.

// The numeric kernels (fits, Gram matrices, load flow) index several small arrays in
// lockstep, where an index loop says more than zipped iterators; and a few internal
// tuples (per-station members, fit results) are named where they are built.
#![allow(clippy::needless_range_loop, clippy::type_complexity)]

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

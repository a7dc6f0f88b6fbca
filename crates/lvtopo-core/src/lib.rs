//! lvtopo's core: LV network topology correction from smart-meter voltages.
//!
//! Everything here runs headless: the command line, the desktop app, the benchmarks and
//! the tests drive the same library. No UI or command-line crate is a dependency, so the
//! compiler guards that layering.

// The numeric kernels (fits, Gram matrices, load flow) index several small arrays in
// lockstep, where an index loop says more than zipped iterators; and a few internal
// tuples (per-station members, fit results) are named where they are built.
#![allow(clippy::needless_range_loop, clippy::type_complexity)]

pub mod analysis;
pub mod crs;
pub mod io;
pub mod model;
pub mod outage;
pub mod privacy;
pub mod progress;
pub mod quality;
pub mod session;
pub mod sim;

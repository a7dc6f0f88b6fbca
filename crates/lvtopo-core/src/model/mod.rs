//! The LV network and its smart-meter reads, as lvtopo holds them in memory.
//!
//! Everything here is plain data plus small, pure helpers; no I/O and no UI.
//! Coordinates are kept twice: RD New metres (for lengths, snapping, spatial
//! queries) and WGS84 degrees (for the map), both filled in at load time.

#[cfg(test)]
pub(crate) mod fixtures;
pub mod measurements;
pub mod network;
pub mod phase;
pub mod placement;
pub mod time;
pub mod topology;
pub mod truth;

pub use measurements::*;
pub use network::*;
pub use phase::*;
pub use topology::Topology;
pub use truth::TruthRow;

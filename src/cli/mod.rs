//! Subcommands of the `lvtopo` binary, one file each.

pub mod analyze;
pub mod gate;
pub mod outage;
pub mod privacy;
pub mod pv;
pub mod simulate;
pub mod validate;
pub mod voltage;

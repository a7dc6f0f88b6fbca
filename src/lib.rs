//! The `lvtopo` binary's library: its subcommands ([`cli`]), plus the core and the app
//! re-exported under their familiar paths (`lvtopo::analysis`, `lvtopo::ui`, ...) so that
//! the integration tests in `tests/` read as a user of the whole tool would write them.

pub mod cli;

pub use lvtopo_app as ui;
pub use lvtopo_core::{analysis, crs, io, model, outage, privacy, progress, quality, session, sim};

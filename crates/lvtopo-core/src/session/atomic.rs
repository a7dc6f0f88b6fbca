//! Atomic file writes for the session and its exports: the one implementation
//! lives in [`crate::io::atomic`].

pub use crate::io::atomic::{write_atomic, write_atomic_via_path};

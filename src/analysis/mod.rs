//! Topology inference (use case 7): phase, meter rotation, feeder and cable
//! section of every connection from a short voltage read.

pub mod result;

pub use result::{Assignment, Evidence, InferredPhase, Status};

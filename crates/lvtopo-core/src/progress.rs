//! Progress and cancellation for long work, shared by the CLI (progress bar)
//! and the app (background thread with a cancel button).

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// Reports progress and tells long work when to stop. Cheap to call often.
pub trait Progress: Send + Sync {
    /// `fraction` in [0, 1]; `stage` is a short human label ("reading voltage.csv").
    fn set(&self, fraction: f32, stage: &str);
    /// Work should return early (with `Cancelled`) when this turns true.
    fn is_cancelled(&self) -> bool {
        false
    }
}

/// Ignores progress; never cancels.
pub struct NoProgress;
impl Progress for NoProgress {
    fn set(&self, _: f32, _: &str) {}
}

/// The work was cancelled by the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled by the user")]
pub struct Cancelled;

/// Shared progress state a UI thread can poll while a worker updates it.
#[derive(Default, Clone)]
pub struct SharedProgress {
    fraction_bits: Arc<AtomicU32>,
    cancelled: Arc<AtomicBool>,
    stage: Arc<Mutex<String>>,
}

impl SharedProgress {
    pub fn fraction(&self) -> f32 {
        f32::from_bits(self.fraction_bits.load(Ordering::Relaxed))
    }
    pub fn stage(&self) -> String {
        self.stage.lock().map(|s| s.clone()).unwrap_or_default()
    }
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }
}

impl Progress for SharedProgress {
    fn set(&self, fraction: f32, stage: &str) {
        self.fraction_bits.store(fraction.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
        if let Ok(mut s) = self.stage.lock()
            && s.as_str() != stage
        {
            *s = stage.to_string();
        }
    }
    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

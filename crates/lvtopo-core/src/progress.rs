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

/// A sub-task's progress mapped into the slice `from..to` of the whole
/// (pass `i` of `n`, file `i` of `n`); cancelling the whole cancels the part.
pub struct SubProgress<'a> {
    inner: &'a dyn Progress,
    from: f32,
    to: f32,
}

impl<'a> SubProgress<'a> {
    pub fn new(inner: &'a dyn Progress, from: f32, to: f32) -> SubProgress<'a> {
        SubProgress { inner, from, to }
    }
    /// Part `i` of `n` equal parts.
    pub fn part(inner: &'a dyn Progress, i: usize, n: usize) -> SubProgress<'a> {
        let n = n.max(1) as f32;
        SubProgress::new(inner, i as f32 / n, (i + 1) as f32 / n)
    }
}

impl Progress for SubProgress<'_> {
    fn set(&self, fraction: f32, stage: &str) {
        self.inner.set(self.from + (self.to - self.from) * fraction.clamp(0.0, 1.0), stage);
    }
    fn is_cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
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

//! Long work off the UI thread: a worker thread reports through a
//! [`SharedProgress`] (fraction, stage, cancel flag) and hands back its result
//! over a channel. The UI polls once per frame and keeps repainting while the
//! job runs, so the window never freezes.

use lvtopo_core::progress::SharedProgress;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::Instant;

pub struct Job<T> {
    pub title: String,
    pub progress: SharedProgress,
    pub started: Instant,
    rx: Receiver<T>,
}

/// What polling a job found.
pub enum Poll<T> {
    Running,
    Done(T),
    /// The worker ended without a result (it panicked).
    Lost,
}

impl<T: Send + 'static> Job<T> {
    /// Runs `work` on a new thread; `ctx` (when given) is asked to repaint when it ends.
    pub fn spawn(
        title: impl Into<String>,
        ctx: Option<egui::Context>,
        work: impl FnOnce(&SharedProgress) -> T + Send + 'static,
    ) -> Job<T> {
        let progress = SharedProgress::default();
        let (tx, rx) = mpsc::channel();
        let p = progress.clone();
        let title = title.into();
        let spawned = std::thread::Builder::new().name(format!("lvtopo: {title}")).spawn(move || {
            let out = work(&p);
            let _ = tx.send(out);
            if let Some(ctx) = ctx {
                ctx.request_repaint();
            }
        });
        if let Err(e) = spawned {
            // No thread: the channel's sender is gone, so the job reports `Lost`.
            log_error(&format!("could not start a worker thread: {e}"));
        }
        Job { title, progress, started: Instant::now(), rx }
    }

    pub fn poll(&self) -> Poll<T> {
        match self.rx.try_recv() {
            Ok(v) => Poll::Done(v),
            Err(TryRecvError::Empty) => Poll::Running,
            Err(TryRecvError::Disconnected) => Poll::Lost,
        }
    }

    /// Blocks until the job ends (tests, benchmark).
    pub fn wait(self) -> Option<T> {
        self.rx.recv().ok()
    }
}

fn log_error(msg: &str) {
    eprintln!("lvtopo: {msg}");
}

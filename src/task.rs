//! Progress and cancellation of long engine work: the one hook type every stage (loading,
//! analysis, comparison, capture) reports to and checks. The engine never knows who listens —
//! a terminal bar, the window's task list or nobody.

use std::sync::atomic::{AtomicBool, Ordering};

/// How far a stage is: its phase and the fraction of it done.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// `&'static` so a view can show it every frame without allocating.
    pub phase: &'static str,
    pub fraction: f32,
}

/// A progress callback and a cancel flag. Stages report between blocks of work and return
/// early (as a `Cancelled` error or `None`) once the flag is set.
#[derive(Default, Clone, Copy)]
pub struct Hooks<'a> {
    pub progress: Option<&'a (dyn Fn(Progress) + Sync)>,
    pub cancel: Option<&'a AtomicBool>,
}

impl<'a> Hooks<'a> {
    pub fn new(progress: &'a (dyn Fn(Progress) + Sync), cancel: &'a AtomicBool) -> Hooks<'a> {
        Hooks {
            progress: Some(progress),
            cancel: Some(cancel),
        }
    }

    pub fn report(&self, phase: &'static str, fraction: f32) {
        if let Some(p) = self.progress {
            p(Progress {
                phase,
                fraction: fraction.clamp(0.0, 1.0),
            });
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }
}

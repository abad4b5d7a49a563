//! The routine DevTools users do by hand, in one call: snapshot, load, collect garbage,
//! snapshot (and with `final_`, load and snapshot once more for the three-snapshot mode).

use std::path::{Path, PathBuf};

use super::stream::{SavedSnapshot, Stop, save_snapshot};
use super::{CaptureError, LoadOutcome, OutputSink, Session, run_load};
use crate::task::Hooks;

pub const BEFORE: &str = "before";
pub const AFTER: &str = "after";
pub const FINAL: &str = "final";

/// What happens between two snapshots.
pub enum Exercise<'a> {
    /// `sh -c CMD`; a command that fails stops the capture.
    Command(String),
    /// The caller exercises the app itself and returns once done (the CLI waits for Enter);
    /// called with the round (1, then 2 before `final`).
    Manual(&'a mut dyn FnMut(u32, Hooks) -> Result<(), CaptureError>),
}

pub struct Plan<'a> {
    /// Where `before`, `after` and `final.heapsnapshot` go (created, owner-only, if missing).
    pub out_dir: PathBuf,
    pub exercise: Exercise<'a>,
    /// A third snapshot after a second round of load.
    pub final_: bool,
    /// `HeapProfiler.collectGarbage` calls before each snapshot (DevTools' button, pressed
    /// twice by habit: objects with finalizers or weak callbacks go in a second round).
    pub gc_rounds: u32,
    /// Allocation stacks in the snapshots (`HeapProfiler.startTrackingHeapObjects` first).
    pub track_allocations: bool,
}

/// What the routine is doing, for a status line or a log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    TrackAllocations,
    CollectGarbage { round: u32, of: u32 },
    Snapshot { name: &'static str },
    Load { round: u32 },
    Manual { round: u32 },
}

#[derive(Debug)]
pub enum Event<'a> {
    Step(Step),
    /// Bytes of `name`'s snapshot on disk so far.
    Written {
        name: &'static str,
        bytes: u64,
    },
    Saved(&'a SavedSnapshot),
    LoadExited(&'a LoadOutcome),
}

/// The snapshots written.
#[derive(Clone, Debug, PartialEq)]
pub struct Captured {
    pub before: SavedSnapshot,
    pub after: SavedSnapshot,
    pub final_: Option<SavedSnapshot>,
}

/// Runs the routine on an attached session. Progress and cancel through `hooks` (the
/// snapshot's build fraction, the waits), every step and byte count through `on_event`, the
/// load command's output to `output`.
pub fn run(
    session: &mut Session,
    plan: &mut Plan,
    output: &OutputSink,
    hooks: Hooks,
    on_event: &dyn Fn(Event),
) -> Result<Captured, CaptureError> {
    prepare_dir(&plan.out_dir)?;
    if plan.track_allocations {
        on_event(Event::Step(Step::TrackAllocations));
        session.start_tracking_allocations(hooks)?;
    }
    let before = snapshot(session, plan, BEFORE, hooks, on_event)?;
    exercise(plan, 1, output, hooks, on_event)?;
    let after = snapshot(session, plan, AFTER, hooks, on_event)?;
    let final_ = if plan.final_ {
        exercise(plan, 2, output, hooks, on_event)?;
        Some(snapshot(session, plan, FINAL, hooks, on_event)?)
    } else {
        None
    };
    Ok(Captured {
        before,
        after,
        final_,
    })
}

/// Collects garbage `gc_rounds` times, then streams `DIR/NAME.heapsnapshot`.
pub fn snapshot(
    session: &mut Session,
    plan: &Plan,
    name: &'static str,
    hooks: Hooks,
    on_event: &dyn Fn(Event),
) -> Result<SavedSnapshot, CaptureError> {
    for round in 1..=plan.gc_rounds {
        on_event(Event::Step(Step::CollectGarbage {
            round,
            of: plan.gc_rounds,
        }));
        session.collect_garbage(hooks)?;
    }
    on_event(Event::Step(Step::Snapshot { name }));
    let saved = save_snapshot(session, &plan.out_dir, name, hooks, Stop::Abort, &|bytes| {
        on_event(Event::Written { name, bytes })
    })?;
    on_event(Event::Saved(&saved));
    Ok(saved)
}

fn exercise(
    plan: &mut Plan,
    round: u32,
    output: &OutputSink,
    hooks: Hooks,
    on_event: &dyn Fn(Event),
) -> Result<(), CaptureError> {
    match &mut plan.exercise {
        Exercise::Command(command) => {
            on_event(Event::Step(Step::Load { round }));
            let outcome = run_load(command, output.clone(), hooks)?;
            on_event(Event::LoadExited(&outcome));
            if !outcome.status.success() {
                return Err(CaptureError::LoadFailed {
                    command: command.clone(),
                    status: outcome.status.to_string(),
                });
            }
            Ok(())
        }
        Exercise::Manual(wait) => {
            on_event(Event::Step(Step::Manual { round }));
            wait(round, hooks)
        }
    }
}

/// Creates the output folder if missing, readable by its owner only (what goes in holds the
/// heap's secrets); an existing folder is left as it is.
pub fn prepare_dir(dir: &Path) -> Result<(), CaptureError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| CaptureError::File {
        path: dir.to_path_buf(),
        what: "cannot create the folder",
        source: e,
    })
}

/// The snapshot files a finished capture leaves in `dir`.
pub fn paths(dir: &Path, final_: bool) -> (PathBuf, PathBuf, Option<PathBuf>) {
    let file = |n: &str| dir.join(format!("{n}.heapsnapshot"));
    (file(BEFORE), file(AFTER), final_.then(|| file(FINAL)))
}

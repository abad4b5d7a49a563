//! The capture panel's worker side: every exchange with an inspector, a started process or the
//! load command runs here, on a background task ([`CaptureTask`] names them), never on the UI
//! thread.
//!
//! What a task works on is a [`Link`] (`capture_link`): the target's session, the process
//! heapdiff started, and why no session is closed mid-capture.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::capture::stream::{self, Stop};
use crate::capture::{
    self, AttachOptions, CaptureError, Inspector, SavedSnapshot, Session, Target, routine, run_load,
};
use crate::task::Hooks;

use super::capture_link::{HeapSample, Link};
use super::outcome::Outcome;
use super::tasks::{Policy, TaskContext};

/// `HeapProfiler.collectGarbage` calls before each snapshot, as `heapdiff capture` makes by
/// default (`--gc-rounds 2`): objects with finalizers or weak callbacks go in a second round.
pub const GC_ROUNDS: u32 = 2;
/// How often the heap chart asks for `Runtime.getHeapUsage`.
pub const HEAP_POLL: Duration = Duration::from_secs(1);
/// The silence after which the chart's session counts as gone. Long: while a snapshot streams
/// the target's main thread answers nobody, and a broken chart session cannot be closed before
/// the capture ends (it would reset the object ids); a target that dies closes its socket anyway.
const HEAP_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The capture panel's kinds of background work, one [`super::tasks::TaskName`] slot each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaptureTask {
    /// Listing the targets at an address (`/json/list`).
    Targets,
    /// Attaching: starting the command (if any), waiting for its inspector, opening the session.
    Attach,
    /// Garbage collection, then a snapshot streamed to disk.
    Snapshot,
    /// The load command.
    Load,
    /// `HeapProfiler.collectGarbage`.
    Gc,
    /// The heap chart's poll, on its own session, for as long as the link lives.
    Heap,
    /// A link let go of: sessions closed, the started process stopped. One slot per link, so
    /// closing one never waits for or refuses another.
    Close { link: u64 },
}

impl CaptureTask {
    pub fn policy(self) -> Policy {
        match self {
            // A newer listing or a new link's chart makes the running one pointless.
            CaptureTask::Targets | CaptureTask::Heap => Policy::Replace,
            // Steps on one session are one at a time: a second would repeat or interleave.
            CaptureTask::Attach
            | CaptureTask::Snapshot
            | CaptureTask::Load
            | CaptureTask::Gc
            | CaptureTask::Close { .. } => Policy::Refuse,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CaptureTask::Targets => "listing inspector targets",
            CaptureTask::Attach => "attaching",
            CaptureTask::Snapshot => "taking a snapshot",
            CaptureTask::Load => "running the load",
            CaptureTask::Gc => "collecting garbage",
            CaptureTask::Heap => "watching the heap",
            CaptureTask::Close { .. } => "stopping the capture",
        }
    }

    pub fn thread_name(self) -> &'static str {
        match self {
            CaptureTask::Heap => "heapdiff-heap-chart",
            _ => "heapdiff-capture",
        }
    }
}

/// What capture tasks answer.
#[derive(Debug)]
pub enum CaptureOutcome {
    Targets {
        address: String,
        targets: Vec<Target>,
    },
    Attached {
        link: u64,
        target: Target,
        /// The started process: its label and pid.
        process: Option<(String, u32)>,
    },
    Saved {
        link: u64,
        name: &'static str,
        /// The round's folder (`FOLDER/capture-N`).
        dir: PathBuf,
        saved: SavedSnapshot,
    },
    Loaded {
        link: u64,
        status: String,
        elapsed: Duration,
    },
    Collected {
        link: u64,
    },
    /// The chart's session ended (the target went away): not a failure of its own, since a
    /// step usually says more about the same cause.
    HeapStopped {
        link: u64,
        why: String,
    },
    /// The folder the user chose in the dialog.
    Folder(PathBuf),
    /// A link let go of; the label of the process stopped, if one was.
    Closed(Option<String>),
}

fn answer(outcome: CaptureOutcome) -> Outcome {
    Outcome::Capture(outcome)
}

fn failed(e: CaptureError) -> Outcome {
    Outcome::Failed(e.to_string())
}

/// The targets an inspector lists. Bounded by the engine's HTTP timeout.
pub fn list_targets(address: String, allow_remote: bool) -> Outcome {
    match Inspector::resolve(&address, allow_remote).and_then(|i| i.targets()) {
        Ok(targets) => answer(CaptureOutcome::Targets { address, targets }),
        Err(e) => failed(e),
    }
}

/// Attaches as `heapdiff capture` does (the same [`capture::attach`]), and keeps the session
/// and process in the link.
pub fn attach(link: Arc<Link>, options: AttachOptions, ctx: &TaskContext) -> Outcome {
    let sink = link.output_sink();
    match ctx.with_hooks(0, |hooks| capture::attach(&options, sink, hooks)) {
        Ok(attached) => {
            let target = attached.target.clone();
            let process = attached
                .process
                .as_ref()
                .map(|p| (p.label().to_string(), p.pid()));
            if !link.hold(attached) {
                return Outcome::Nothing;
            }
            answer(CaptureOutcome::Attached {
                link: link.id,
                target,
                process,
            })
        }
        Err(e) => failed(e),
    }
}

/// Where a snapshot goes: the current round's folder, or a new `capture-N` in `folder`.
#[derive(Clone, Debug, PartialEq)]
pub enum RoundDir {
    Existing(PathBuf),
    NewIn(PathBuf),
}

/// A new owner-only `FOLDER/capture-N` (the first N free), so a second round never overwrites
/// a pair the window may still read (BEFORE is loaded again for the deleted objects).
fn new_round_dir(folder: &Path) -> Result<PathBuf, CaptureError> {
    routine::prepare_dir(folder)?;
    for n in 1..10_000u32 {
        let dir = folder.join(format!("capture-{n}"));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(CaptureError::File {
                    path: dir,
                    what: "cannot create the folder",
                    source: e,
                });
            }
        }
    }
    Err(CaptureError::Process(format!(
        "{}: no free capture-N folder name",
        folder.display()
    )))
}

/// Collects garbage, then streams `DIR/NAME.heapsnapshot`. Cancel (the task's flag) removes the
/// partial file at once and discards the rest of the chunks, keeping the session in step; the
/// link's close is the hard stop.
pub fn snapshot(link: Arc<Link>, dir: RoundDir, name: &'static str, ctx: &TaskContext) -> Outcome {
    let dir = match dir {
        RoundDir::Existing(dir) => dir,
        RoundDir::NewIn(folder) => match new_round_dir(&folder) {
            Ok(dir) => {
                link.made_dir(dir.clone());
                dir
            }
            Err(e) => return failed(e),
        },
    };
    let Some(mut session) = link.take_session() else {
        return Outcome::Failed("not attached: connect to a target first".into());
    };
    link.set_written(0);
    let result = save(&link, &mut session, &dir, name, ctx);
    link.put_back(session);
    match result {
        Ok(saved) => answer(CaptureOutcome::Saved {
            link: link.id,
            name,
            dir,
            saved,
        }),
        Err(e) => failed(e),
    }
}

fn save(
    link: &Link,
    session: &mut Session,
    dir: &Path,
    name: &'static str,
    ctx: &TaskContext,
) -> Result<SavedSnapshot, CaptureError> {
    let report = |p: crate::task::Progress| ctx.report(0, p.phase, p.fraction);
    let hard = Hooks::new(&report, link.closed_flag());
    for round in 1..=GC_ROUNDS {
        if ctx.is_cancelled() {
            return Err(CaptureError::Cancelled);
        }
        ctx.report(
            0,
            "collecting garbage",
            (round - 1) as f32 / GC_ROUNDS as f32,
        );
        session.collect_garbage(hard)?;
    }
    if ctx.is_cancelled() {
        return Err(CaptureError::Cancelled);
    }
    let discard = || ctx.is_cancelled();
    let written = |bytes| {
        link.set_written(bytes);
        ctx.report(0, "writing", 1.0);
    };
    stream::save_snapshot(session, dir, name, hard, Stop::Discard(&discard), &written)
}

/// The load command through `sh -c`, as `--load` runs it; a failing one is an error.
pub fn load(link: Arc<Link>, command: String, ctx: &TaskContext) -> Outcome {
    let sink = link.output_sink();
    link.set_load_running(true);
    ctx.report(0, "load running", 0.0);
    let result = ctx.with_hooks(0, |hooks| run_load(&command, sink, hooks));
    link.set_load_running(false);
    match result {
        Ok(outcome) if outcome.status.success() => answer(CaptureOutcome::Loaded {
            link: link.id,
            status: outcome.status.to_string(),
            elapsed: outcome.elapsed,
        }),
        Ok(outcome) => failed(CaptureError::LoadFailed {
            command,
            status: outcome.status.to_string(),
        }),
        Err(e) => failed(e),
    }
}

/// One `HeapProfiler.collectGarbage` (DevTools' "Collect garbage").
pub fn collect_garbage(link: Arc<Link>, ctx: &TaskContext) -> Outcome {
    let Some(mut session) = link.take_session() else {
        return Outcome::Failed("not attached: connect to a target first".into());
    };
    ctx.report(0, "collecting garbage", 0.0);
    // Only the link's close stops it: a GC takes a moment, and a request cut short would leave
    // the session out of step. A Cancel drops the answer.
    let hard = Hooks {
        progress: None,
        cancel: Some(link.closed_flag()),
    };
    let result = session.collect_garbage(hard);
    link.put_back(session);
    match result {
        Ok(()) => answer(CaptureOutcome::Collected { link: link.id }),
        Err(e) => failed(e),
    }
}

/// The heap chart: `Runtime.getHeapUsage` every [`HEAP_POLL`] on a session of its own (the
/// main one is busy while a snapshot streams), until cancelled or the target goes away.
pub fn watch_heap(link: Arc<Link>, target: Target, ctx: &TaskContext) -> Outcome {
    let mut session = match Session::connect(&target, HEAP_TIMEOUT) {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(format!("the heap chart cannot connect: {e}")),
    };
    loop {
        let asked = Instant::now();
        if ctx.is_cancelled() || link.is_closed() {
            break;
        }
        match ctx.with_hooks(0, |hooks| session.heap_usage(hooks)) {
            Ok(usage) => {
                link.feed.samples().push(HeapSample {
                    at: link.feed.now(),
                    used: usage.used,
                    total: usage.total,
                });
                link.repaint();
            }
            Err(CaptureError::Cancelled) => break,
            Err(e) => {
                let why = link.process_exit().unwrap_or_else(|| e.to_string());
                link.park(session);
                return answer(CaptureOutcome::HeapStopped {
                    link: link.id,
                    why: format!("the heap chart stopped: {why}"),
                });
            }
        }
        while asked.elapsed() < HEAP_POLL && !ctx.is_cancelled() && !link.is_closed() {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    link.park(session);
    Outcome::Nothing
}

/// Lets go of a link on a worker: its sessions closed, its started process stopped.
pub fn close(link: Arc<Link>) -> Outcome {
    answer(CaptureOutcome::Closed(link.close()))
}

/// The native folder dialog. Blocks its (task) thread until the user answers.
pub fn pick_folder(start: Option<PathBuf>) -> Outcome {
    let mut dialog =
        rfd::FileDialog::new().set_title("Folder for the capture's snapshots (capture-N inside)");
    if let Some(dir) = start.filter(|d| d.is_dir()) {
        dialog = dialog.set_directory(dir);
    }
    dialog
        .pick_folder()
        .map_or(Outcome::Nothing, |f| answer(CaptureOutcome::Folder(f)))
}

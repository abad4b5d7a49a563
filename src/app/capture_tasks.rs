//! The capture panel's worker side: every exchange with an inspector, a started process or the
//! load command runs here, on a background task ([`CaptureTask`] names them), never on the UI
//! thread.
//!
//! A [`Link`] is one attached target, shared by the panel and its tasks: the main session (GC
//! and snapshots), the process heapdiff started, and the sessions that must not be closed yet.
//! Workers take the session out of the link for a step and put it back, so nothing waits on a
//! lock held across the network; once the panel lets go ([`Link::close`]) whoever holds a piece
//! drops it.
//!
//! Closing *any* inspector session makes V8 forget its heap object ids
//! (`V8HeapProfilerAgentImpl::disable` calls `HeapProfiler::ClearObjectIds`; seen on Node 20: an
//! object's id is unknown once a second session closes, and the next snapshot numbers it anew).
//! The before/after comparison matches objects by those ids, so between the two snapshots no
//! session is closed: the heap chart keeps one session open for the whole capture, a cancelled
//! snapshot reads the rest of V8's chunks rather than dropping its session, and a session that
//! broke is parked in the link until the capture ends.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use eframe::egui;

use crate::capture::{
    self, AttachOptions, Attached, CaptureError, ChildProcess, Inspector, Origin, OutputSink,
    SavedSnapshot, Session, SnapshotFile, Target, routine, run_load,
};
use crate::format;
use crate::task::Hooks;

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
/// Lines of process and load output the panel keeps.
const MAX_OUTPUT_LINES: usize = 200;
/// How long closing the app waits for a running load command to be stopped.
const LOAD_STOP_WAIT: Duration = Duration::from_secs(7);

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

/// One heap usage reading, seconds after the link was made.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeapSample {
    pub at: f64,
    pub used: f64,
    pub total: f64,
}

/// One line the started process or the load printed.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputLine {
    pub origin: Origin,
    pub text: String,
}

/// What the chart and the output list show; outlives its link (a detached capture's chart
/// stays on screen until the next one).
#[derive(Clone)]
pub struct Feed {
    pub started: Instant,
    pub samples: Arc<Mutex<Vec<HeapSample>>>,
    pub output: Arc<Mutex<VecDeque<OutputLine>>>,
}

impl Feed {
    pub fn new() -> Feed {
        Feed {
            started: Instant::now(),
            samples: Arc::default(),
            output: Arc::default(),
        }
    }

    /// Seconds since the capture began: the chart's x axis.
    pub fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    pub fn samples(&self) -> MutexGuard<'_, Vec<HeapSample>> {
        lock(&self.samples)
    }

    pub fn output(&self) -> MutexGuard<'_, VecDeque<OutputLine>> {
        lock(&self.output)
    }

    fn sink(&self, egui: egui::Context) -> OutputSink {
        let output = self.output.clone();
        Arc::new(move |origin: Origin, line: &str| {
            let mut lines = lock(&output);
            if lines.len() == MAX_OUTPUT_LINES {
                lines.pop_front();
            }
            lines.push_back(OutputLine {
                origin,
                text: format::one_line(line).into_owned(),
            });
            drop(lines);
            egui.request_repaint();
        })
    }
}

impl Default for Feed {
    fn default() -> Feed {
        Feed::new()
    }
}

/// A poisoned lock only means a worker panicked while holding it (the task reports the panic);
/// what it guards is still whole.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One attached target, shared by the panel and its tasks.
pub struct Link {
    pub id: u64,
    pub feed: Feed,
    /// Set when the panel lets go: the hard cancel every worker of the link checks.
    closed: AtomicBool,
    session: Mutex<Option<Session>>,
    process: Mutex<Option<ChildProcess>>,
    /// Sessions that broke or were cancelled while the target may live on (see the module
    /// documentation); closed with the link.
    parked: Mutex<Vec<Session>>,
    /// Bytes of the snapshot being written.
    written: AtomicU64,
    /// The last `capture-N` folder a snapshot task made, so a before that failed or was
    /// cancelled is taken again in the same folder.
    made_dir: Mutex<Option<PathBuf>>,
    load_running: AtomicBool,
    egui: egui::Context,
}

impl Link {
    pub fn new(id: u64, feed: Feed, egui: egui::Context) -> Link {
        Link {
            id,
            feed,
            closed: AtomicBool::new(false),
            session: Mutex::new(None),
            process: Mutex::new(None),
            parked: Mutex::new(Vec::new()),
            written: AtomicU64::new(0),
            made_dir: Mutex::new(None),
            load_running: AtomicBool::new(false),
            egui,
        }
    }

    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// The folder the last snapshot task made, once.
    pub fn take_made_dir(&self) -> Option<PathBuf> {
        lock(&self.made_dir).take()
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Keeps what attaching made; false (and it is let go of here) when the link was closed
    /// meanwhile.
    fn hold(&self, attached: Attached) -> bool {
        let Attached {
            session, process, ..
        } = attached;
        let mut held = lock(&self.session);
        if self.is_closed() {
            drop(held);
            drop(session);
            if let Some(mut p) = process {
                p.stop();
            }
            return false;
        }
        *held = Some(session);
        *lock(&self.process) = process;
        true
    }

    fn take_session(&self) -> Option<Session> {
        lock(&self.session).take()
    }

    /// Returns the session after a step (dropped here, on the worker, if the link was closed).
    fn put_back(&self, session: Session) {
        let mut held = lock(&self.session);
        if self.is_closed() {
            drop(held);
            drop(session);
        } else {
            *held = Some(session);
        }
    }

    fn park(&self, session: Session) {
        let mut parked = lock(&self.parked);
        if self.is_closed() {
            drop(parked);
            drop(session);
        } else {
            parked.push(session);
        }
    }

    /// Why the started process is no longer running, if it is not.
    fn process_exit(&self) -> Option<String> {
        let mut process = lock(&self.process);
        let p = process.as_mut()?;
        p.check_running("during the capture")
            .err()
            .map(|e| e.to_string())
    }

    /// Lets go of everything: sessions closed, then the started process stopped (SIGTERM, then
    /// SIGKILL). Blocks up to the engine's stop grace: call it on a worker ([`close`]), or when
    /// the window is going away. Returns the stopped process's label.
    pub fn close(&self) -> Option<String> {
        self.closed.store(true, Ordering::SeqCst);
        drop(lock(&self.session).take());
        drop(std::mem::take(&mut *lock(&self.parked)));
        let process = lock(&self.process).take();
        process.map(|mut p| {
            p.stop();
            p.label().to_string()
        })
    }

    /// [`Link::close`] when the window closes: a load command still running (its task already
    /// cancelled) is given the time to stop its process group first, since the worker threads
    /// end with the process.
    pub fn close_at_exit(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let started = Instant::now();
        while self.load_running.load(Ordering::SeqCst) && started.elapsed() < LOAD_STOP_WAIT {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.close();
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
    let sink = link.feed.sink(link.egui.clone());
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
                *lock(&link.made_dir) = Some(dir.clone());
                dir
            }
            Err(e) => return failed(e),
        },
    };
    let Some(mut session) = link.take_session() else {
        return Outcome::Failed("not attached: connect to a target first".into());
    };
    link.written.store(0, Ordering::Relaxed);
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
    let hard = Hooks::new(&report, &link.closed);
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
    let started = Instant::now();
    // Created at the first chunk: V8 builds the whole snapshot before it sends any, and a
    // cancel during the build then leaves nothing to remove.
    let mut file: Option<SnapshotFile> = None;
    let mut bytes = 0u64;
    let mut discarded = false;
    let result = session.take_heap_snapshot(
        &mut |chunk| {
            if ctx.is_cancelled() {
                // Dropping the file removes the .part now; V8 cannot stop a snapshot part-way,
                // so the rest is read and thrown away (see the module documentation).
                file = None;
                discarded = true;
                return Ok(());
            }
            if discarded {
                return Ok(());
            }
            let f = match &mut file {
                Some(f) => f,
                None => file.insert(SnapshotFile::create(dir, name)?),
            };
            f.write(chunk)?;
            bytes = f.bytes();
            link.written.store(bytes, Ordering::Relaxed);
            ctx.report(0, "writing", 1.0);
            Ok(())
        },
        hard,
    );
    if let Err(e) = result {
        drop(file);
        return Err(match e {
            CaptureError::TargetGone {
                address, reason, ..
            } => CaptureError::TargetGone {
                address,
                during: format!(
                    " mid-snapshot ({} of {name}.heapsnapshot received; the partial file was removed)",
                    format::bytes(bytes)
                ),
                reason,
            },
            other => other,
        });
    }
    if discarded || ctx.is_cancelled() {
        return Err(CaptureError::Cancelled);
    }
    let Some(file) = file.filter(|_| bytes > 0) else {
        return Err(CaptureError::Garbage {
            address: session.address().to_string(),
            what: format!("an empty snapshot for {name}.heapsnapshot"),
        });
    };
    let path = file.finish()?;
    Ok(SavedSnapshot {
        path,
        bytes,
        elapsed: started.elapsed(),
    })
}

/// The load command through `sh -c`, as `--load` runs it; a failing one is an error.
pub fn load(link: Arc<Link>, command: String, ctx: &TaskContext) -> Outcome {
    let sink = link.feed.sink(link.egui.clone());
    link.load_running.store(true, Ordering::SeqCst);
    ctx.report(0, "load running", 0.0);
    let result = ctx.with_hooks(0, |hooks| run_load(&command, sink, hooks));
    link.load_running.store(false, Ordering::SeqCst);
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
        cancel: Some(&link.closed),
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
                link.egui.request_repaint();
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

//! Every piece of the window's background work runs through one [`BackgroundTasks`] (after
//! rerun's): loading and comparing, BEFORE's analysis, merged paths, retainer trees and their
//! expansion, reports, native file dialogs. A task has a [`TaskName`]; each name is one slot, so
//! work is deduplicated by name, and each name says what a second task of that name does
//! ([`Policy`]). Every task gets a cancel flag (the engine's [`Hooks`] check it between blocks) and
//! progress lines (phase + fraction); its worker asks for a repaint, and the UI polls the answers
//! once a frame. A panic is caught and reported naming the task; a thread that cannot be started
//! is an error the caller shows, never ignored.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eframe::egui;

use crate::task::{Hooks, Progress};

use super::capture_tasks::CaptureTask;
use super::command::SaveKind;

/// The kinds of background work; one slot each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskName {
    /// Loading one file, a pair, or a findings file.
    Load,
    /// BEFORE of the open pair loaded again and analysed, for the deleted objects' retainers.
    AnalyseBefore,
    /// The merged retainer paths of the selected class's new objects.
    MergedPaths,
    /// The retainer tree of the selected object.
    RetainerTree,
    /// One row of a retainer tree being listed (tree id, row).
    ExpandRow { tree: u64, row: usize },
    /// The Markdown summary rendered for the clipboard.
    Markdown,
    /// A report or findings file rendered and written.
    Save(SaveKind),
    /// The native file dialog.
    Dialog,
    /// The capture panel's work: inspector, started process, load command.
    Capture(CaptureTask),
}

/// What a second task of a name does while one runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// The running one is cancelled and the new one starts once it has stopped; a newer request
    /// replaces one still waiting. The latest intent wins, and never more than one thread of the
    /// name is alive (fast clicking does not stack up threads).
    Replace,
    /// The second is refused: it would repeat work already under way (the same row listed,
    /// the same report written) or stack a second modal dialog.
    Refuse,
}

impl TaskName {
    pub fn policy(self) -> Policy {
        match self {
            // A newer file, class or object makes the running work pointless.
            TaskName::Load
            | TaskName::AnalyseBefore
            | TaskName::MergedPaths
            | TaskName::RetainerTree => Policy::Replace,
            TaskName::ExpandRow { .. }
            | TaskName::Markdown
            | TaskName::Save(_)
            | TaskName::Dialog => Policy::Refuse,
            TaskName::Capture(task) => task.policy(),
        }
    }

    /// What the status line calls it.
    pub fn label(self) -> &'static str {
        match self {
            TaskName::Load => "loading",
            TaskName::AnalyseBefore => "analysing before",
            TaskName::MergedPaths => "grouping retainer paths",
            TaskName::RetainerTree => "listing retainers",
            TaskName::ExpandRow { .. } => "listing retainers",
            TaskName::Markdown => "rendering the Markdown summary",
            TaskName::Save(SaveKind::Html) => "writing the HTML report",
            TaskName::Save(SaveKind::Findings) => "writing the findings file",
            TaskName::Dialog => "file dialog",
            TaskName::Capture(task) => task.label(),
        }
    }

    fn thread_name(self) -> &'static str {
        match self {
            TaskName::Load => "heapdiff-load",
            TaskName::AnalyseBefore => "heapdiff-before",
            TaskName::MergedPaths => "heapdiff-paths",
            TaskName::RetainerTree | TaskName::ExpandRow { .. } => "heapdiff-retainers",
            TaskName::Markdown | TaskName::Save(_) => "heapdiff-share",
            TaskName::Dialog => "heapdiff-dialog",
            TaskName::Capture(task) => task.thread_name(),
        }
    }
}

/// Why a task has no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskError {
    /// Cancelled: whatever it computed is dropped, so the window stays as it was.
    Cancelled,
    /// The task panicked; the message names the task.
    Panicked(String),
    /// Its thread could not be started.
    Spawn(String),
}

impl std::fmt::Display for TaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaskError::Cancelled => f.write_str("cancelled"),
            TaskError::Panicked(m) | TaskError::Spawn(m) => f.write_str(m),
        }
    }
}

/// A second task refused, or a thread that could not start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpawnError {
    /// A task of this name runs and its policy is [`Policy::Refuse`]; names what it is doing.
    Busy(String),
    Thread(String),
}

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpawnError::Busy(label) => write!(f, "still {label}"),
            SpawnError::Thread(m) => f.write_str(m),
        }
    }
}

/// How a task was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spawned {
    Started,
    /// Waiting for the task it replaces to stop.
    Queued,
}

/// A finished task's answer, as [`BackgroundTasks::poll`] hands it over.
pub struct Finished<R> {
    pub name: TaskName,
    pub label: String,
    pub elapsed: Duration,
    pub result: Result<R, TaskError>,
}

/// One progress line of a task (a loading pair has one per file).
#[derive(Clone, Debug, PartialEq)]
pub struct ProgressLine {
    pub label: String,
    pub phase: &'static str,
    pub fraction: f32,
}

/// A task's progress lines, written by its worker and read by the UI each frame.
pub struct TaskProgress {
    lines: Mutex<Vec<ProgressLine>>,
}

impl TaskProgress {
    fn new(labels: Vec<String>) -> TaskProgress {
        let lines = labels
            .into_iter()
            .map(|label| ProgressLine {
                label,
                phase: "waiting",
                fraction: 0.0,
            })
            .collect();
        TaskProgress {
            lines: Mutex::new(lines),
        }
    }

    pub fn lines(&self) -> Vec<ProgressLine> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn set(&self, line: usize, phase: &'static str, fraction: f32) {
        if let Ok(mut lines) = self.lines.lock()
            && let Some(l) = lines.get_mut(line)
        {
            l.phase = phase;
            l.fraction = fraction.clamp(0.0, 1.0);
        }
    }
}

/// What a task's work sees: its cancel flag and progress, and the repaint it asks for.
pub struct TaskContext {
    cancel: Arc<AtomicBool>,
    progress: Arc<TaskProgress>,
    egui: egui::Context,
    last_repaint: Mutex<Instant>,
}

impl TaskContext {
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.cancel
    }

    /// Sets progress line `line`; the window repaints at most ~30 times a second for it.
    pub fn report(&self, line: usize, phase: &'static str, fraction: f32) {
        self.progress.set(line, phase, fraction);
        if let Ok(mut last) = self.last_repaint.lock()
            && last.elapsed() >= Duration::from_millis(33)
        {
            *last = Instant::now();
            self.egui.request_repaint();
        }
    }

    /// Runs `f` with engine hooks that report to line `line` and check this task's cancel flag.
    pub fn with_hooks<T>(&self, line: usize, f: impl FnOnce(Hooks) -> T) -> T {
        let report = |p: Progress| self.report(line, p.phase, p.fraction);
        f(Hooks::new(&report, &self.cancel))
    }
}

/// A running task, as the status line and the progress view show it.
pub struct TaskView<'a> {
    pub name: TaskName,
    pub label: &'a str,
    pub started: Instant,
    pub progress: &'a TaskProgress,
    pub cancelling: bool,
}

type Work<R> = Box<dyn FnOnce(&TaskContext) -> R + Send>;

struct Running {
    id: u64,
    label: String,
    started: Instant,
    cancel: Arc<AtomicBool>,
    progress: Arc<TaskProgress>,
    /// Its answer is dropped unseen (discarded, or replaced by a newer task).
    discard: bool,
}

struct Queued<R> {
    label: String,
    lines: Vec<String>,
    work: Work<R>,
}

struct Slot<R> {
    running: Option<Running>,
    queued: Option<Queued<R>>,
    /// Threads of this name still alive: raised before one starts, lowered as its last act.
    alive: Arc<AtomicUsize>,
    /// Threads started under this name so far.
    started: u64,
}

impl<R> Default for Slot<R> {
    fn default() -> Slot<R> {
        Slot {
            running: None,
            queued: None,
            alive: Arc::new(AtomicUsize::new(0)),
            started: 0,
        }
    }
}

struct Message<R> {
    name: TaskName,
    id: u64,
    result: Result<R, TaskError>,
}

/// The window's background tasks; `R` is what their work answers.
pub struct BackgroundTasks<R> {
    slots: HashMap<TaskName, Slot<R>>,
    tx: Sender<Message<R>>,
    rx: Receiver<Message<R>>,
    egui: egui::Context,
    next_id: Arc<AtomicU64>,
}

impl<R: Send + 'static> BackgroundTasks<R> {
    pub fn new(egui: egui::Context) -> BackgroundTasks<R> {
        let (tx, rx) = mpsc::channel();
        BackgroundTasks {
            slots: HashMap::new(),
            tx,
            rx,
            egui,
            next_id: Arc::new(AtomicU64::new(1)),
        }
    }

    /// Starts `work` on its own thread under `name` with one progress line per `lines` entry
    /// (per its [`Policy`] when one of the name runs).
    pub fn spawn(
        &mut self,
        name: TaskName,
        label: impl Into<String>,
        lines: Vec<String>,
        work: impl FnOnce(&TaskContext) -> R + Send + 'static,
    ) -> Result<Spawned, SpawnError> {
        let slot = self.slots.entry(name).or_default();
        let busy = slot.running.is_some() || slot.alive.load(Ordering::Acquire) > 0;
        let queued = Queued {
            label: label.into(),
            lines,
            work: Box::new(work),
        };
        if !busy {
            return self.start(name, queued).map(|()| Spawned::Started);
        }
        match name.policy() {
            Policy::Refuse => Err(SpawnError::Busy(
                slot.running
                    .as_ref()
                    .map_or_else(|| name.label().to_string(), |r| r.label.clone()),
            )),
            Policy::Replace => {
                if let Some(running) = &mut slot.running {
                    running.cancel.store(true, Ordering::Relaxed);
                    running.discard = true;
                }
                slot.queued = Some(queued);
                Ok(Spawned::Queued)
            }
        }
    }

    fn start(&mut self, name: TaskName, queued: Queued<R>) -> Result<(), SpawnError> {
        let slot = self.slots.entry(name).or_default();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let cancel = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(TaskProgress::new(queued.lines));
        let context = TaskContext {
            cancel: cancel.clone(),
            progress: progress.clone(),
            egui: self.egui.clone(),
            last_repaint: Mutex::new(Instant::now()),
        };
        let (tx, alive, work) = (self.tx.clone(), slot.alive.clone(), queued.work);
        let label = queued.label.clone();
        alive.fetch_add(1, Ordering::AcqRel);
        let spawned = std::thread::Builder::new()
            .name(name.thread_name().into())
            .spawn(move || {
                let result = catch_unwind(AssertUnwindSafe(|| work(&context))).map_err(|panic| {
                    TaskError::Panicked(format!(
                        "internal error while {label}: {}",
                        panic_message(&*panic)
                    ))
                });
                // The receiver is gone only when the window has closed: no one to tell.
                let _ = tx.send(Message { name, id, result });
                alive.fetch_sub(1, Ordering::AcqRel);
                context.egui.request_repaint();
            });
        match spawned {
            Ok(_) => {
                slot.started += 1;
                slot.running = Some(Running {
                    id,
                    label: queued.label,
                    started: Instant::now(),
                    cancel,
                    progress,
                    discard: false,
                });
                Ok(())
            }
            Err(e) => {
                slot.alive.fetch_sub(1, Ordering::AcqRel);
                Err(SpawnError::Thread(format!(
                    "cannot start a thread for {}: {e}",
                    queued.label
                )))
            }
        }
    }

    /// The answers that arrived since the last call, then starts the tasks waiting for a
    /// replaced one to stop. Call once a frame.
    pub fn poll(&mut self) -> Vec<Finished<R>> {
        let mut done = Vec::new();
        while let Ok(message) = self.rx.try_recv() {
            let Some(slot) = self.slots.get_mut(&message.name) else {
                continue;
            };
            let Some(running) = slot.running.take_if(|r| r.id == message.id) else {
                continue;
            };
            if running.discard {
                continue;
            }
            let result = if running.cancel.load(Ordering::Relaxed) {
                Err(TaskError::Cancelled)
            } else {
                message.result
            };
            done.push(Finished {
                name: message.name,
                label: running.label,
                elapsed: running.started.elapsed(),
                result,
            });
        }
        let waiting: Vec<TaskName> = self
            .slots
            .iter()
            .filter(|(_, s)| s.running.is_none() && s.queued.is_some())
            .map(|(&name, _)| name)
            .collect();
        for name in waiting {
            let Some(slot) = self.slots.get_mut(&name) else {
                continue;
            };
            if slot.alive.load(Ordering::Acquire) > 0 {
                // The replaced thread has sent its answer and is about to end; look again soon.
                self.egui.request_repaint_after(Duration::from_millis(2));
                continue;
            }
            let Some(queued) = slot.queued.take() else {
                continue;
            };
            let label = queued.label.clone();
            if let Err(e) = self.start(name, queued) {
                done.push(Finished {
                    name,
                    label,
                    elapsed: Duration::ZERO,
                    result: Err(TaskError::Spawn(e.to_string())),
                });
            }
        }
        done
    }

    /// Cancels the task of `name` (its answer arrives as [`TaskError::Cancelled`]) and drops one
    /// waiting to start.
    pub fn cancel(&mut self, name: TaskName) {
        if let Some(slot) = self.slots.get_mut(&name) {
            slot.queued = None;
            if let Some(running) = &slot.running {
                running.cancel.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Cancels every task `which` selects and drops their answers unseen (what they worked on
    /// is gone: the content was closed or replaced).
    pub fn discard(&mut self, which: impl Fn(TaskName) -> bool) {
        for (&name, slot) in &mut self.slots {
            if !which(name) {
                continue;
            }
            slot.queued = None;
            if let Some(running) = &mut slot.running {
                running.cancel.store(true, Ordering::Relaxed);
                running.discard = true;
            }
        }
    }

    /// Whether a task of `name` is running or waiting to start (a discarded one no longer
    /// counts: nothing will come of it).
    pub fn is_running(&self, name: TaskName) -> bool {
        self.slots
            .get(&name)
            .is_some_and(|s| s.queued.is_some() || s.running.as_ref().is_some_and(|r| !r.discard))
    }

    /// Whether any task (bar `except`) has an answer still to come.
    pub fn any_running(&self, except: impl Fn(TaskName) -> bool) -> bool {
        self.slots
            .keys()
            .any(|&name| !except(name) && self.is_running(name))
    }

    /// Threads of `name` alive now, cancelled ones still finishing included.
    pub fn alive(&self, name: TaskName) -> usize {
        self.slots
            .get(&name)
            .map_or(0, |s| s.alive.load(Ordering::Acquire))
    }

    /// Threads started under `name` so far.
    pub fn started(&self, name: TaskName) -> u64 {
        self.slots.get(&name).map_or(0, |s| s.started)
    }

    /// The running (not discarded) task of `name`.
    pub fn view(&self, name: TaskName) -> Option<TaskView<'_>> {
        let running = self.slots.get(&name)?.running.as_ref()?;
        (!running.discard).then(|| TaskView {
            name,
            label: &running.label,
            started: running.started,
            progress: &running.progress,
            cancelling: running.cancel.load(Ordering::Relaxed),
        })
    }
}

impl<R> Drop for BackgroundTasks<R> {
    /// A closed window (or a dropped test harness) stops its workers at their next check.
    fn drop(&mut self) {
        for slot in self.slots.values() {
            if let Some(running) = &slot.running {
                running.cancel.store(true, Ordering::Relaxed);
            }
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

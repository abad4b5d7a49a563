//! Loading and analysis on worker threads. One [`Job`] per request: each file's phase and
//! fraction are shared through atomics, the result comes back over a channel, the worker asks
//! for a repaint when something changed, and the cancel flag is checked by the engine between
//! blocks. A panic in a worker is caught and reported as an error naming the request.

use eframe::egui;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::diff::Comparison;
use crate::loaded::{Hooks, Loaded};
use crate::snapshot::Progress;
use crate::snapshot::class::InterfaceDefinition;

use super::state::{LoadedFile, Side};

/// What to load.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Single(PathBuf),
    Pair {
        before: PathBuf,
        after: PathBuf,
        final_: Option<PathBuf>,
    },
}

/// The progress of one file, written by the worker and read by the UI.
pub struct FileProgress {
    pub side: Option<Side>,
    pub path: PathBuf,
    phase: Mutex<&'static str>,
    /// `f32` bits.
    fraction: AtomicU32,
}

impl FileProgress {
    fn new(side: Option<Side>, path: &Path) -> FileProgress {
        FileProgress {
            side,
            path: path.to_path_buf(),
            phase: Mutex::new("waiting"),
            fraction: AtomicU32::new(0f32.to_bits()),
        }
    }

    pub fn phase(&self) -> &'static str {
        self.phase.lock().map(|p| *p).unwrap_or("…")
    }

    pub fn fraction(&self) -> f32 {
        f32::from_bits(self.fraction.load(Ordering::Relaxed))
    }

    fn set(&self, phase: &'static str, fraction: f32) {
        if let Ok(mut p) = self.phase.lock() {
            *p = phase;
        }
        self.fraction
            .store(fraction.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
    }

    pub fn file_name(&self) -> String {
        file_label(&self.path)
    }
}

pub fn file_label(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

pub enum Outcome {
    Single(Arc<LoadedFile>),
    Pair {
        before: Arc<LoadedFile>,
        after: Arc<LoadedFile>,
        final_: Option<Arc<LoadedFile>>,
        comparison: Arc<Comparison>,
    },
    Failed(String),
    Cancelled,
}

pub struct Job {
    pub request: Request,
    pub files: Vec<Arc<FileProgress>>,
    pub started: Instant,
    cancel: Arc<AtomicBool>,
    rx: Receiver<Outcome>,
}

impl Job {
    pub fn spawn(request: Request, ctx: egui::Context) -> Job {
        // Progress rows in the order the files are loaded: after first, so the before (and
        // final) can be classified with the after's interface definitions, as DevTools does.
        let files: Vec<Arc<FileProgress>> = match &request {
            Request::Single(path) => vec![Arc::new(FileProgress::new(None, path))],
            Request::Pair {
                before,
                after,
                final_,
            } => {
                let mut files = vec![
                    Arc::new(FileProgress::new(Some(Side::After), after)),
                    Arc::new(FileProgress::new(Some(Side::Before), before)),
                ];
                if let Some(f) = final_ {
                    files.push(Arc::new(FileProgress::new(Some(Side::Final), f)));
                }
                files
            }
        };
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let worker = Worker {
            files: files.clone(),
            cancel: cancel.clone(),
            ctx: ctx.clone(),
            last_repaint: Mutex::new(Instant::now()),
        };
        let job_request = request.clone();
        let spawned = std::thread::Builder::new()
            .name("heapdiff-load".into())
            .spawn(move || {
                let outcome = catch_unwind(AssertUnwindSafe(|| worker.run(&job_request)))
                    .unwrap_or_else(|panic| {
                        Outcome::Failed(format!(
                            "{}: internal error while loading: {}",
                            request_label(&job_request),
                            panic_message(&*panic)
                        ))
                    });
                let _ = tx.send(outcome);
                worker.ctx.request_repaint();
            });
        let rx = match spawned {
            Ok(_) => rx,
            Err(e) => {
                let (tx, rx) = mpsc::channel();
                let _ = tx.send(Outcome::Failed(format!(
                    "cannot start a worker thread: {e}"
                )));
                rx
            }
        };
        Job {
            request,
            files,
            started: Instant::now(),
            cancel,
            rx,
        }
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelling(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// The outcome, once the worker is done.
    pub fn poll(&self) -> Option<Outcome> {
        match self.rx.try_recv() {
            Ok(outcome) => Some(outcome),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Outcome::Failed(format!(
                "{}: the loading thread stopped without an answer",
                request_label(&self.request)
            ))),
        }
    }
}

impl Drop for Job {
    /// A dropped job (closed, replaced) stops its worker at the next check.
    fn drop(&mut self) {
        self.cancel();
    }
}

fn request_label(request: &Request) -> String {
    match request {
        Request::Single(p) => file_label(p),
        Request::Pair { before, after, .. } => {
            format!("{} / {}", file_label(before), file_label(after))
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

struct Worker {
    files: Vec<Arc<FileProgress>>,
    cancel: Arc<AtomicBool>,
    ctx: egui::Context,
    last_repaint: Mutex<Instant>,
}

impl Worker {
    fn run(&self, request: &Request) -> Outcome {
        let result = match request {
            Request::Single(path) => self.load(0, path, None).map(Outcome::Single),
            Request::Pair {
                before,
                after,
                final_,
            } => self.load(0, after, None).and_then(|after| {
                let definitions = after.loaded.classes.definitions.clone();
                let before = self.load(1, before, Some(&definitions))?;
                let final_ = match final_ {
                    Some(path) => Some(self.load(2, path, Some(&definitions))?),
                    None => None,
                };
                if self.cancel.load(Ordering::Relaxed) {
                    return Err(Outcome::Cancelled);
                }
                for file in &self.files {
                    file.set("comparing", 0.5);
                }
                self.ctx.request_repaint();
                let comparison = crate::diff::compare(
                    &before.loaded,
                    &after.loaded,
                    final_.as_ref().map(|f| &f.loaded),
                );
                for file in &self.files {
                    file.set("done", 1.0);
                }
                Ok(Outcome::Pair {
                    before,
                    after,
                    final_,
                    comparison: Arc::new(comparison),
                })
            }),
        };
        result.unwrap_or_else(|e| e)
    }

    fn load(
        &self,
        index: usize,
        path: &Path,
        definitions: Option<&[InterfaceDefinition]>,
    ) -> Result<Arc<LoadedFile>, Outcome> {
        let Some(progress) = self.files.get(index) else {
            return Err(Outcome::Failed("internal error: no progress slot".into()));
        };
        let report = |p: Progress| {
            progress.set(p.phase, p.fraction);
            self.repaint_soon();
        };
        let hooks = Hooks {
            progress: Some(&report),
            cancel: Some(&self.cancel),
        };
        let loaded = match Loaded::open(path, hooks, definitions) {
            Ok(loaded) => loaded,
            Err(e) if e.is_cancelled() => return Err(Outcome::Cancelled),
            Err(e) => return Err(Outcome::Failed(e.to_string())),
        };
        if self.cancel.load(Ordering::Relaxed) {
            return Err(Outcome::Cancelled);
        }
        progress.set("building summary", 0.0);
        self.repaint_soon();
        let summary = loaded.summary();
        progress.set("done", 1.0);
        self.ctx.request_repaint();
        Ok(Arc::new(LoadedFile {
            path: path.to_path_buf(),
            loaded,
            summary,
        }))
    }

    /// At most ~30 repaints a second from progress reports.
    fn repaint_soon(&self) {
        if let Ok(mut last) = self.last_repaint.lock()
            && last.elapsed() >= Duration::from_millis(33)
        {
            *last = Instant::now();
            self.ctx.request_repaint();
        }
    }
}

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

use crate::loaded::Loaded;
use crate::pipeline::{self, PairHooks, PairPaths};
use crate::snapshot::LoadError;
use crate::task::{Hooks, Progress};

use super::state::{FindingsView, LoadedFile, Pair, Side};

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

pub use crate::format::file_label;

pub enum Outcome {
    Single(Arc<LoadedFile>),
    Pair(Box<Pair>),
    /// A findings file (`.heapdiff.json`) reopened without its snapshots.
    Findings(Box<FindingsView>),
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
        // Progress rows: the files load side by side; the before (and final) are classified
        // with the after's interface definitions, as DevTools does.
        let files: Vec<Arc<FileProgress>> = match &request {
            Request::Single(path) => vec![Arc::new(FileProgress::new(None, path))],
            Request::Pair {
                before,
                after,
                final_,
            } => {
                let mut files = vec![
                    Arc::new(FileProgress::new(Some(Side::Before), before)),
                    Arc::new(FileProgress::new(Some(Side::After), after)),
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

/// Whether a file is a findings file rather than a snapshot: by its name, or by its first bytes
/// (a findings file starts with its `"format"` marker; a snapshot with `"snapshot"` or gzip).
fn is_findings_file(path: &Path) -> bool {
    if file_label(path).ends_with(".heapdiff.json") {
        return true;
    }
    let mut head = [0u8; 256];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    let head = String::from_utf8_lossy(&head[..n]);
    head.trim_start().starts_with('{') && head.contains(crate::report::FORMAT)
}

/// Index of the progress rows of a pair.
const BEFORE: usize = 0;
const AFTER: usize = 1;
const FINAL: usize = 2;

impl Worker {
    fn run(&self, request: &Request) -> Outcome {
        let result = match request {
            Request::Single(path) if is_findings_file(path) => self.reopen(path),
            Request::Single(path) => self
                .load(0, path)
                .map(|loaded| Outcome::Single(self.index(0, path, loaded))),
            Request::Pair {
                before,
                after,
                final_,
            } => self.pair(before, after, final_.as_deref()),
        };
        result.unwrap_or_else(|e| e)
    }

    fn reopen(&self, path: &Path) -> Result<Outcome, Outcome> {
        let progress = self.progress(0)?;
        progress.set("reading findings", 0.0);
        self.ctx.request_repaint();
        let findings =
            crate::report::findings::read(path).map_err(|e| Outcome::Failed(e.to_string()))?;
        let view = FindingsView::new(path.to_path_buf(), findings);
        progress.set("done", 1.0);
        Ok(Outcome::Findings(Box::new(view)))
    }

    /// The pipeline's comparison (a bar per file), then BEFORE loaded again and analysed for
    /// the retainers of deleted objects.
    fn pair(&self, before: &Path, after: &Path, final_: Option<&Path>) -> Result<Outcome, Outcome> {
        let report = |side: pipeline::Side, p: Progress| {
            let index = match side {
                pipeline::Side::Before => BEFORE,
                pipeline::Side::After => AFTER,
                pipeline::Side::Final => FINAL,
            };
            if let Some(file) = self.files.get(index) {
                file.set(p.phase, p.fraction);
            }
            self.repaint_soon();
        };
        let hooks = PairHooks {
            progress: Some(&report),
            cancel: Some(&self.cancel),
        };
        let paths = PairPaths {
            before,
            after,
            final_,
        };
        let compared = pipeline::compare_files(paths, hooks).map_err(|e| self.failed(e))?;
        let before_progress = self.progress(BEFORE)?;
        let before_report = |p: Progress| {
            before_progress.set(p.phase, p.fraction);
            self.repaint_soon();
        };
        let before_loaded = pipeline::open_base(
            before,
            &compared.after,
            Hooks::new(&before_report, &self.cancel),
        )
        .map_err(|e| self.failed(e))?;
        if self.cancel.load(Ordering::Relaxed) {
            return Err(Outcome::Cancelled);
        }
        // Index the files for the views (O(nodes) each), side by side.
        let ((before, after), final_) = rayon::join(
            || {
                rayon::join(
                    || self.index(BEFORE, before, before_loaded),
                    || self.index(AFTER, after, compared.after),
                )
            },
            || {
                final_
                    .zip(compared.final_)
                    .map(|(p, l)| self.index(FINAL, p, l))
            },
        );
        let pair = Pair::new(before, after, final_, Arc::new(compared.comparison));
        for file in &self.files {
            file.set("done", 1.0);
        }
        Ok(Outcome::Pair(Box::new(pair)))
    }

    fn progress(&self, index: usize) -> Result<&FileProgress, Outcome> {
        self.files
            .get(index)
            .map(|p| &**p)
            .ok_or_else(|| Outcome::Failed("internal error: no progress slot".into()))
    }

    fn failed(&self, e: LoadError) -> Outcome {
        if e.is_cancelled() {
            Outcome::Cancelled
        } else {
            // The other files of the pair stop at their next check.
            self.cancel.store(true, Ordering::Relaxed);
            Outcome::Failed(e.to_string())
        }
    }

    fn load(&self, index: usize, path: &Path) -> Result<Loaded, Outcome> {
        let progress = self.progress(index)?;
        let report = |p: Progress| {
            progress.set(p.phase, p.fraction);
            self.repaint_soon();
        };
        let loaded = pipeline::open_one(path, Hooks::new(&report, &self.cancel))
            .map_err(|e| self.failed(e))?;
        if self.cancel.load(Ordering::Relaxed) {
            return Err(Outcome::Cancelled);
        }
        Ok(loaded)
    }

    /// Builds the Summary rows and the per-class object lists of one file.
    fn index(&self, index: usize, path: &Path, loaded: Loaded) -> Arc<LoadedFile> {
        if let Some(progress) = self.files.get(index) {
            progress.set("indexing classes", 0.9);
        }
        self.repaint_soon();
        Arc::new(LoadedFile::new(path.to_path_buf(), loaded))
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

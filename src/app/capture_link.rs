//! One attached target, shared by the capture panel and its tasks ([`Link`]), and what its
//! chart and output list show ([`Feed`]).
//!
//! A link holds the main session (GC and snapshots), the process heapdiff started, and the
//! sessions that must not be closed yet. Workers take the session out of the link for a step and
//! put it back, so nothing waits on a lock held across the network; once the panel lets go
//! ([`Link::close`]) whoever holds a piece drops it.
//!
//! Closing *any* inspector session makes V8 forget its heap object ids
//! (`V8HeapProfilerAgentImpl::disable` calls `HeapProfiler::ClearObjectIds`; seen on Node 20: an
//! object's id is unknown once a second session closes, and the next snapshot numbers it anew).
//! The before/after comparison matches objects by those ids, so between the two snapshots no
//! session is closed: the heap chart keeps one session open for the whole capture, a cancelled
//! snapshot reads the rest of V8's chunks rather than dropping its session, and a session that
//! broke is parked in the link until the capture ends (`tests/capture_panel.rs` pins V8's rule).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use eframe::egui;

use crate::capture::{Attached, ChildProcess, Origin, OutputSink, Session};
use crate::format;

/// Lines of process and load output the panel keeps.
const MAX_OUTPUT_LINES: usize = 200;
/// How long closing the app waits for a running load command to be stopped.
const LOAD_STOP_WAIT: Duration = Duration::from_secs(7);

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

    /// The hard cancel: set once the panel lets go.
    pub(super) fn closed_flag(&self) -> &AtomicBool {
        &self.closed
    }

    pub(super) fn set_written(&self, bytes: u64) {
        self.written.store(bytes, Ordering::Relaxed);
    }

    pub(super) fn made_dir(&self, dir: PathBuf) {
        *lock(&self.made_dir) = Some(dir);
    }

    pub(super) fn set_load_running(&self, running: bool) {
        self.load_running.store(running, Ordering::SeqCst);
    }

    /// Where the started process's and the load's lines go.
    pub(super) fn output_sink(&self) -> OutputSink {
        self.feed.sink(self.egui.clone())
    }

    pub(super) fn repaint(&self) {
        self.egui.request_repaint();
    }

    /// The folder the last snapshot task made, once.
    pub fn take_made_dir(&self) -> Option<PathBuf> {
        lock(&self.made_dir).take()
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Keeps what attaching made; false (and it is let go of here) when the link was closed
    /// meanwhile.
    pub(super) fn hold(&self, attached: Attached) -> bool {
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

    pub(super) fn take_session(&self) -> Option<Session> {
        lock(&self.session).take()
    }

    /// Returns the session after a step (dropped here, on the worker, if the link was closed).
    pub(super) fn put_back(&self, session: Session) {
        let mut held = lock(&self.session);
        if self.is_closed() {
            drop(held);
            drop(session);
        } else {
            *held = Some(session);
        }
    }

    pub(super) fn park(&self, session: Session) {
        let mut parked = lock(&self.parked);
        if self.is_closed() {
            drop(parked);
            drop(session);
        } else {
            parked.push(session);
        }
    }

    /// Why the started process is no longer running, if it is not.
    pub(super) fn process_exit(&self) -> Option<String> {
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

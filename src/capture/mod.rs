//! Live capture: heap snapshots taken from a running V8 (Node's inspector, Chromium's remote
//! debugging port) over the Chrome DevTools Protocol, streamed straight to disk.
//!
//! ```text
//! inspector ─ HOST:PORT → targets (/json/list), the loopback rule, the target a user names
//! process   ─ a command heapdiff starts (NODE_OPTIONS=--inspect=127.0.0.1:0), the load
//!             command between snapshots, their output, --ready
//! pid       ─ a running Node process woken with SIGUSR1, its inspector found in /proc
//! session   ─ one CDP WebSocket: requests and responses, events, timeouts, GC, heap usage
//! stream    ─ addHeapSnapshotChunk events → DIR/NAME.heapsnapshot.part (0600) → renamed
//! routine   ─ before → load → GC → after [→ load → final], with progress and cancel
//! ```
//!
//! Everything here blocks on sockets and child processes with timeouts, so it belongs on a worker
//! thread (the CLI's main thread, or a window's background task); progress and cancellation go
//! through [`crate::task::Hooks`] like every other long stage. Nothing here prints: process output
//! and routine steps reach the caller through callbacks.
//!
//! A window drives the steps itself: [`attach`] once, then on its worker [`Session`]'s
//! `collect_garbage`, [`stream::save_snapshot`] and [`run_load`] as buttons ask. Keep every
//! session open from the first snapshot to the last: closing *any* session to the target makes
//! V8 forget its heap object ids (`V8HeapProfilerAgentImpl::disable` clears them; on Node 20 an
//! object's id is unknown once a second session closes, and the next snapshot numbers it anew),
//! and the comparison matches objects by id. A live heap chart polls `Session::heap_usage` on a
//! second session to the same [`Target`]: the first is busy while a snapshot streams, and the
//! target's main thread answers neither until the snapshot is done.

pub mod inspector;
pub mod pid;
pub mod process;
pub mod routine;
pub mod session;
#[cfg(unix)]
pub mod signal;
pub mod stream;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use inspector::{Inspector, Target};
pub use process::{ChildProcess, LoadOutcome, run_load};
pub use routine::{Captured, Event, Exercise, Plan, Step};
pub use session::{HeapUsage, Session};
pub use stream::{SavedSnapshot, SnapshotFile};

use crate::task::Hooks;

/// Whose output a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The process heapdiff started (`-- COMMAND`).
    Target,
    /// The load command.
    Load,
}

/// Where the output lines of the processes heapdiff starts go. Called from reader threads, so
/// it is shared and `Send`.
pub type OutputSink = Arc<dyn Fn(Origin, &str) + Send + Sync>;

/// How long heapdiff waits, by default, for a peer that says nothing (an inspector between
/// messages, a process before its inspector or `--ready` URL answers).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the heap to capture lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A process already listening with the inspector at `address` (`HOST:PORT`); `target` picks
    /// one of its targets by id or part of its URL or title.
    Inspect {
        address: String,
        target: Option<String>,
    },
    /// A Node process of this machine without the inspector: SIGUSR1 opens it.
    Pid(u32),
    /// A command heapdiff starts with the inspector on a free loopback port.
    Command(Vec<String>),
}

/// How to attach.
#[derive(Clone, Debug)]
pub struct AttachOptions {
    pub source: Source,
    /// Connect to inspectors (and `ready` URLs) on other machines.
    pub allow_remote: bool,
    /// Wait until this URL answers over HTTP before the first snapshot.
    pub ready: Option<String>,
    /// The silence after which a peer counts as gone.
    pub timeout: Duration,
}

/// A session on a target, and the process heapdiff started for it, if any (stopped on drop).
pub struct Attached {
    /// Declared first so it drops first: Node waits for a connected debugger before it exits.
    pub session: Session,
    pub target: Target,
    pub process: Option<ChildProcess>,
}

impl Attached {
    /// Closes the session, then stops the process heapdiff started (SIGTERM, then SIGKILL).
    pub fn close(self) {
        let Attached {
            session, process, ..
        } = self;
        drop(session);
        if let Some(mut p) = process {
            p.stop();
        }
    }
}

/// Finds the target `options` describe (starting or waking its process first), waits for the
/// `ready` URL, and opens a CDP session on it with the heap profiler enabled.
pub fn attach(
    options: &AttachOptions,
    output: OutputSink,
    hooks: Hooks,
) -> Result<Attached, CaptureError> {
    let timeout = options.timeout;
    // Every address is checked before anything is started, signalled or connected to.
    if let Some(url) = &options.ready {
        process::check_ready_url(url, options.allow_remote)?;
    }
    if let Source::Inspect { address, .. } = &options.source {
        inspector::resolve_checked(address, options.allow_remote)?;
    }
    let (inspector, target_name, mut process) = match &options.source {
        Source::Inspect { address, target } => (
            Inspector::resolve(address, options.allow_remote)?,
            target.clone(),
            None,
        ),
        Source::Pid(pid) => (
            pid::open_inspector_of(*pid, options.allow_remote, timeout, hooks)?,
            None,
            None,
        ),
        Source::Command(command) => {
            let mut child = ChildProcess::start(command, output)?;
            let address = child.wait_for_inspector(timeout, hooks)?;
            (
                Inspector::resolve(&address, options.allow_remote)?,
                None,
                Some(child),
            )
        }
    };
    if let Some(url) = &options.ready {
        process::wait_ready(url, options.allow_remote, process.as_mut(), timeout, hooks)?;
    }
    let target = inspector.choose(target_name.as_deref())?;
    let mut session = Session::connect(&target, timeout)?;
    session.enable(hooks)?;
    Ok(Attached {
        session,
        target,
        process,
    })
}

/// Everything that stops a capture, each with the context a user needs in one line.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(
        "{0} is not a loopback address: heapdiff connects only to this machine unless --allow-remote is given (snapshots hold the heap's secrets)"
    )]
    NotLoopback(String),
    #[error("{0}")]
    BadAddress(String),
    #[error("no inspector at {address}: {reason}")]
    NoInspector { address: String, reason: String },
    #[error("{0}")]
    NoTarget(String),
    #[error("the inspector at {address} sent garbage: {what}")]
    Garbage { address: String, what: String },
    #[error("the inspector at {address} answered {method} with an error: {message}")]
    Protocol {
        address: String,
        method: String,
        message: String,
    },
    #[error("{what}: nothing heard for {} s", .after.as_secs())]
    Timeout { what: String, after: Duration },
    #[error("the target at {address} went away{during}: {reason}")]
    TargetGone {
        address: String,
        /// e.g. " mid-snapshot (12.3 MB written; the partial file was removed)"
        during: String,
        reason: String,
    },
    #[error("{}: {what}: {source}", .path.display())]
    File {
        path: PathBuf,
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{0}")]
    Process(String),
    #[error("the load command {command:?} failed ({status})")]
    LoadFailed { command: String, status: String },
    #[error("cancelled")]
    Cancelled,
}

impl CaptureError {
    /// Adds what the capture was doing to a target-gone error (the partial file is gone by the
    /// time this is called).
    pub(crate) fn during(self, what: String) -> CaptureError {
        match self {
            CaptureError::TargetGone {
                address, reason, ..
            } => CaptureError::TargetGone {
                address,
                during: what,
                reason,
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    /// The window drives a capture from worker threads: what it holds must move there.
    #[test]
    fn sessions_and_processes_move_to_worker_threads() {
        fn send<T: Send>() {}
        send::<super::Session>();
        send::<super::Attached>();
        send::<super::ChildProcess>();
        send::<super::CaptureError>();
        send::<super::Target>();
    }
}

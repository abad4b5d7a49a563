//! The processes around a capture: a command heapdiff starts with the inspector on, the load
//! command between snapshots, and the `--ready` URL heapdiff waits for (a running process woken
//! with SIGUSR1 is `pid`'s).
//!
//! Started processes get their own process group, so stopping one also stops what it started
//! (`npm start` → `sh` → `node`), and a Ctrl-C at the terminal reaches heapdiff alone, which
//! then stops them in order. Their output is read line by line on threads and handed to an
//! [`OutputSink`].

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::inspector;
use super::{CaptureError, Origin, OutputSink};
use crate::task::Hooks;

/// How often waits look at the process, the cancel flag and their deadline.
const POLL: Duration = Duration::from_millis(100);
/// Between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// A line longer than this is passed on in pieces (a process printing without newlines must
/// not grow heapdiff's memory).
const MAX_LINE: usize = 64 << 10;
/// What Node prints on stderr once its inspector listens (`inspector_socket_server.cc`).
const LISTENING: &str = "Debugger listening on ";
/// The --inspect option heapdiff adds: loopback only, a port the kernel picks.
const INSPECT_OPTION: &str = "--inspect=127.0.0.1:0";

/// Process groups heapdiff started and has not stopped yet, for [`kill_all_started`].
static STARTED_GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn register(pid: u32) {
    if let Ok(mut g) = STARTED_GROUPS.lock() {
        g.push(pid);
    }
}

fn unregister(pid: u32) {
    if let Ok(mut g) = STARTED_GROUPS.lock() {
        g.retain(|&p| p != pid);
    }
}

/// SIGKILLs every process group heapdiff started and has not stopped: for a forced exit (a
/// second Ctrl-C) that cannot wait for the routine to unwind.
pub fn kill_all_started() {
    if let Ok(g) = STARTED_GROUPS.lock() {
        for &pid in g.iter() {
            signal_group(pid, Signal::Kill);
        }
    }
}

/// The command heapdiff started (`-- COMMAND…`). Stopped on drop.
pub struct ChildProcess {
    child: Child,
    label: String,
    exited: Option<ExitStatus>,
    inspector_line: mpsc::Receiver<String>,
}

impl ChildProcess {
    /// Starts `command` with `--inspect=127.0.0.1:0` appended to `NODE_OPTIONS` (options the
    /// user set stay; the last `--inspect` wins), stdin closed (heapdiff's own is for the
    /// user's Enter), stdout and stderr to `output`.
    pub fn start(command: &[String], output: OutputSink) -> Result<ChildProcess, CaptureError> {
        let (program, args) = command
            .split_first()
            .ok_or_else(|| CaptureError::Process("no command to start".into()))?;
        let label = format!("`{}`", command.join(" "));
        let mut node_options = std::env::var("NODE_OPTIONS").unwrap_or_default();
        if !node_options.trim().is_empty() {
            node_options.push(' ');
        }
        node_options.push_str(INSPECT_OPTION);
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env("NODE_OPTIONS", node_options)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        own_group(&mut cmd);
        let mut child = cmd
            .spawn()
            .map_err(|e| CaptureError::Process(format!("cannot start {label}: {e}")))?;
        register(child.id());
        let (tx, rx) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            forward(out, Origin::Target, output.clone(), None);
        }
        if let Some(err) = child.stderr.take() {
            forward(err, Origin::Target, output, Some(tx));
        }
        Ok(ChildProcess {
            child,
            label,
            exited: None,
            inspector_line: rx,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How messages name it: the command in backquotes.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Waits for Node's "Debugger listening on ws://HOST:PORT/…" line: returns `HOST:PORT`.
    pub fn wait_for_inspector(
        &mut self,
        timeout: Duration,
        hooks: Hooks,
    ) -> Result<String, CaptureError> {
        let started = Instant::now();
        loop {
            hooks.report("waiting for the inspector", 0.0);
            if hooks.is_cancelled() {
                return Err(CaptureError::Cancelled);
            }
            match self.inspector_line.recv_timeout(POLL) {
                Ok(url) => {
                    return ws_host_port(&url).ok_or_else(|| {
                        CaptureError::Process(format!(
                            "{} printed an inspector address heapdiff cannot read: {url:?}",
                            self.label
                        ))
                    });
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                // stderr closed: the process is exiting; its status says more below.
                Err(mpsc::RecvTimeoutError::Disconnected) => thread::sleep(POLL),
            }
            self.check_running("before its inspector listened")?;
            if started.elapsed() > timeout {
                return Err(CaptureError::Timeout {
                    what: format!(
                        "{} printed no \"{LISTENING}ws://…\" line (is it a Node program? heapdiff \
                         opens its inspector through NODE_OPTIONS={INSPECT_OPTION})",
                        self.label
                    ),
                    after: timeout,
                });
            }
        }
    }

    /// An error when the process has exited, saying when (`before it was ready`).
    pub fn check_running(&mut self, when: &str) -> Result<(), CaptureError> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        match self.exited {
            Some(status) => {
                unregister(self.child.id());
                Err(CaptureError::Process(format!(
                    "{} exited ({status}) {when}",
                    self.label
                )))
            }
            None => Ok(()),
        }
    }

    /// SIGTERM to its process group, SIGKILL after a grace period; idempotent.
    pub fn stop(&mut self) {
        if self.exited.is_some() {
            return;
        }
        // Not reaped yet, so its pid (the group's id) cannot have been reused.
        stop_group(&mut self.child);
        self.exited = self.child.wait().ok();
        unregister(self.child.id());
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Signals the group; waits for the leader up to the grace period, then kills the group.
fn stop_group(child: &mut Child) {
    signal_group(child.id(), Signal::Term);
    let started = Instant::now();
    while started.elapsed() < STOP_GRACE {
        if let Ok(Some(_)) = child.try_wait() {
            // The leader is gone; what it started in its group goes too.
            signal_group(child.id(), Signal::Kill);
            return;
        }
        thread::sleep(POLL / 2);
    }
    signal_group(child.id(), Signal::Kill);
    let _ = child.kill();
}

/// `ws://HOST:PORT/PATH` → `HOST:PORT`.
fn ws_host_port(url: &str) -> Option<String> {
    let rest = url.strip_prefix("ws://")?;
    let end = rest.find('/').unwrap_or(rest.len());
    let host_port = &rest[..end];
    (!host_port.is_empty()).then(|| host_port.to_string())
}

/// Reads `reader` line by line on a thread and passes each line to `sink`; the first
/// "Debugger listening on …" URL also goes to `inspector_line`.
fn forward(
    reader: impl Read + Send + 'static,
    origin: Origin,
    sink: OutputSink,
    inspector_line: Option<mpsc::Sender<String>>,
) -> Option<JoinHandle<()>> {
    let run = move || {
        let mut reader = BufReader::with_capacity(MAX_LINE, reader);
        let mut line = Vec::new();
        let mut watch = inspector_line;
        let mut emit = |line: &[u8]| {
            let text = String::from_utf8_lossy(line);
            let text = text.trim_end_matches(['\n', '\r']);
            if let Some(tx) = &watch
                && let Some(at) = text.find(LISTENING)
            {
                let url = text[at + LISTENING.len()..].trim().to_string();
                let _ = tx.send(url);
                watch = None;
            }
            sink(origin, text);
        };
        loop {
            let buf = match reader.fill_buf() {
                Ok([]) => break,
                Ok(buf) => buf,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let (take, complete) = match memchr::memchr(b'\n', buf) {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            let take = take.min(MAX_LINE - line.len());
            line.extend_from_slice(&buf[..take]);
            reader.consume(take);
            if complete || line.len() >= MAX_LINE {
                emit(&line);
                line.clear();
            }
        }
        if !line.is_empty() {
            emit(&line);
        }
    };
    thread::Builder::new()
        .name("heapdiff-output".into())
        .spawn(run)
        .ok()
}

/// Refuses a `--ready` URL that is not `http://` or (unless `allow_remote`) not on this
/// machine; checked before anything is started or signalled.
pub fn check_ready_url(url: &str, allow_remote: bool) -> Result<(), CaptureError> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|e| CaptureError::BadAddress(format!("--ready {url:?}: {e}")))?;
    if uri.scheme_str() != Some("http") {
        return Err(CaptureError::BadAddress(format!(
            "--ready {url:?}: only http:// URLs (heapdiff speaks to local servers, without TLS)"
        )));
    }
    let host = uri
        .host()
        .ok_or_else(|| CaptureError::BadAddress(format!("--ready {url:?}: no host")))?;
    inspector::resolve_checked(
        &format!("{host}:{}", uri.port_u16().unwrap_or(80)),
        allow_remote,
    )
    .map(drop)
}

/// Waits until `url` answers over HTTP with a status below 500 (a server that answers 404 is
/// up; 503 is still starting), while `process` (when heapdiff started it) keeps running.
pub fn wait_ready(
    url: &str,
    allow_remote: bool,
    mut process: Option<&mut ChildProcess>,
    timeout: Duration,
    hooks: Hooks,
) -> Result<(), CaptureError> {
    check_ready_url(url, allow_remote)?;
    let agent = inspector::http_agent(Duration::from_secs(5));
    let started = Instant::now();
    loop {
        if hooks.is_cancelled() {
            return Err(CaptureError::Cancelled);
        }
        hooks.report("waiting for --ready", 0.0);
        let last = match agent.get(url).call() {
            Ok(response) if response.status().as_u16() < 500 => return Ok(()),
            Ok(response) => format!("HTTP {}", response.status().as_u16()),
            Err(e) => e.to_string(),
        };
        if let Some(p) = process.as_deref_mut() {
            p.check_running("before it was ready")?;
        }
        if started.elapsed() > timeout {
            return Err(CaptureError::Timeout {
                what: format!("--ready {url} never answered (last: {last})"),
                after: timeout,
            });
        }
        thread::sleep(POLL * 2);
    }
}

/// The load command's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadOutcome {
    pub status: ExitStatus,
    pub elapsed: Duration,
}

/// Runs `command` through `sh -c` in its own process group, output to `sink`, until it exits
/// (no timeout: the load is the user's, e.g. `autocannon -d 60`); stopped on cancel.
pub fn run_load(
    command: &str,
    output: OutputSink,
    hooks: Hooks,
) -> Result<LoadOutcome, CaptureError> {
    let started = Instant::now();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    own_group(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| {
        CaptureError::Process(format!("cannot start the load command {command:?}: {e}"))
    })?;
    register(child.id());
    let readers: Vec<JoinHandle<()>> = [
        child
            .stdout
            .take()
            .and_then(|o| forward(o, Origin::Load, output.clone(), None)),
        child
            .stderr
            .take()
            .and_then(|e| forward(e, Origin::Load, output, None)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let status = loop {
        if hooks.is_cancelled() {
            stop_group(&mut child);
            let _ = child.wait();
            unregister(child.id());
            return Err(CaptureError::Cancelled);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => thread::sleep(POLL),
            Err(e) => {
                stop_group(&mut child);
                unregister(child.id());
                return Err(CaptureError::Process(format!(
                    "cannot wait for the load command {command:?}: {e}"
                )));
            }
        }
    };
    unregister(child.id());
    // Its last lines before its status; a background process it left holding the pipe is
    // not waited for.
    let flushed = Instant::now();
    while readers.iter().any(|r| !r.is_finished()) && flushed.elapsed() < Duration::from_secs(2) {
        thread::sleep(Duration::from_millis(10));
    }
    Ok(LoadOutcome {
        status,
        elapsed: started.elapsed(),
    })
}

#[derive(Clone, Copy)]
enum Signal {
    Term,
    Kill,
}

#[cfg(unix)]
fn own_group(cmd: &mut Command) {
    std::os::unix::process::CommandExt::process_group(cmd, 0);
}

#[cfg(not(unix))]
fn own_group(_cmd: &mut Command) {}

#[cfg(unix)]
fn signal_group(pgid: u32, signal: Signal) {
    let sig = match signal {
        Signal::Term => libc::SIGTERM,
        Signal::Kill => libc::SIGKILL,
    };
    if let Ok(pgid) = i32::try_from(pgid)
        && pgid > 1
    {
        // A group already gone is what we wanted.
        let _ = crate::capture::signal::killpg(pgid, sig);
    }
}

#[cfg(not(unix))]
fn signal_group(_pgid: u32, _signal: Signal) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspector_address_from_nodes_line() {
        assert_eq!(
            ws_host_port("ws://127.0.0.1:40551/2df5be7d-1724").as_deref(),
            Some("127.0.0.1:40551")
        );
        assert_eq!(
            ws_host_port("ws://[::1]:9229/x").as_deref(),
            Some("[::1]:9229")
        );
        assert_eq!(ws_host_port("http://127.0.0.1:1/"), None);
    }

    #[test]
    fn long_lines_come_in_pieces_and_the_inspector_line_is_seen() {
        let lines = std::sync::Arc::new(Mutex::new(Vec::<String>::new()));
        let seen = lines.clone();
        let sink: OutputSink = std::sync::Arc::new(move |_, l: &str| {
            seen.lock().unwrap().push(l.to_string());
        });
        let mut input = b"hello\r\nDebugger listening on ws://127.0.0.1:1/abc\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        let (tx, rx) = mpsc::channel();
        forward(std::io::Cursor::new(input), Origin::Target, sink, Some(tx))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(rx.recv().unwrap(), "ws://127.0.0.1:1/abc");
        let lines = lines.lock().unwrap();
        assert_eq!(lines[0], "hello");
        assert_eq!(lines[2].len(), MAX_LINE);
        assert_eq!(lines[3].len(), 10);
    }
}

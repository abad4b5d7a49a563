//! One Chrome DevTools Protocol session over a WebSocket: numbered requests, their responses,
//! the events in between, and every wait bounded.
//!
//! The socket reads with a short timeout so a wait can notice the cancel flag and its own
//! deadline; tungstenite keeps a partly read frame across those timeouts. A message larger than
//! [`MAX_MESSAGE_BYTES`] ends the session: V8 sends a snapshot in chunks of about 1 MB (its
//! `HeapSnapshotOutputStream::GetChunkSize`), so nothing honest comes near it.

use std::borrow::Cow;
use std::io;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::value::RawValue;
use tungstenite::handshake::HandshakeError;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

use super::{CaptureError, Target};
use crate::task::Hooks;

/// Bound on one message from the peer.
pub const MAX_MESSAGE_BYTES: usize = 32 << 20;
/// How often a blocked read wakes to look at the cancel flag and the deadline.
const POLL: Duration = Duration::from_millis(200);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The peer's side of the WebSocket handshake: a status line and a few headers.
const MAX_HANDSHAKE_BYTES: usize = 64 << 10;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Commands are a few hundred bytes; a peer that does not take them in this long is stuck.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// `Runtime.getHeapUsage`: the JavaScript heap's used and total bytes, for a live chart.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct HeapUsage {
    #[serde(rename = "usedSize")]
    pub used: f64,
    #[serde(rename = "totalSize")]
    pub total: f64,
}

/// A CDP session on one target. `Send`, so a worker thread can own it; one request at a time.
/// After an error in the middle of a request (a timeout, a cancel, a failing sink) the stream
/// is out of step with the peer and every later call fails: open a new session.
pub struct Session {
    ws: WebSocket<Capped>,
    address: String,
    next_id: u64,
    timeout: Duration,
    broken: Option<String>,
}

/// What a message from the peer holds: a response (`id`) or an event (`method`).
#[derive(Deserialize)]
struct Incoming<'a> {
    id: Option<u64>,
    #[serde(borrow)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow)]
    params: Option<&'a RawValue>,
    #[serde(borrow)]
    result: Option<&'a RawValue>,
    error: Option<RpcError>,
}

#[derive(Deserialize)]
struct RpcError {
    #[serde(default)]
    message: String,
}

/// A handler of the events that arrive while a request is pending.
pub type OnEvent<'a> = dyn FnMut(&str, Option<&RawValue>) -> Result<(), CaptureError> + 'a;

impl Session {
    /// Connects to the target's WebSocket. `timeout` is how long the peer may stay silent.
    pub fn connect(target: &Target, timeout: Duration) -> Result<Session, CaptureError> {
        let address = target.address.to_string();
        let gone = |e: &dyn std::fmt::Display| CaptureError::NoInspector {
            address: address.clone(),
            reason: e.to_string(),
        };
        let stream =
            TcpStream::connect_timeout(&target.address, CONNECT_TIMEOUT).map_err(|e| gone(&e))?;
        let _ = stream.set_nodelay(true);
        stream
            .set_read_timeout(Some(POLL))
            .and_then(|()| stream.set_write_timeout(Some(WRITE_TIMEOUT)))
            .map_err(|e| gone(&e))?;
        // The Host header carries the IP (Node and Chromium refuse other host names, their
        // guard against DNS rebinding).
        let url = format!("ws://{}{}", target.address, target.ws_path);
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES));
        let limit = timeout.min(HANDSHAKE_TIMEOUT);
        let started = Instant::now();
        let stream = Capped {
            tcp: stream,
            handshake_budget: Some(MAX_HANDSHAKE_BYTES),
        };
        let mut attempt =
            tungstenite::client::client_with_config(url.as_str(), stream, Some(config));
        let mut ws = loop {
            match attempt {
                Ok((ws, _response)) => break ws,
                Err(HandshakeError::Interrupted(mid)) => {
                    if started.elapsed() > limit {
                        return Err(CaptureError::Timeout {
                            what: format!("WebSocket handshake with {address}"),
                            after: limit,
                        });
                    }
                    attempt = mid.handshake();
                }
                Err(HandshakeError::Failure(e)) => return Err(gone(&e)),
            }
        };
        ws.get_mut().handshake_budget = None;
        Ok(Session {
            ws,
            address,
            next_id: 1,
            timeout,
            broken: None,
        })
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// `HeapProfiler.enable`, and lets a target started with `--inspect-brk` run (DevTools
    /// does both on attach; the second is a no-op on a running target).
    pub fn enable(&mut self, hooks: Hooks) -> Result<(), CaptureError> {
        self.call("HeapProfiler.enable", serde_json::json!({}), hooks)?;
        self.call(
            "Runtime.runIfWaitingForDebugger",
            serde_json::json!({}),
            hooks,
        )?;
        Ok(())
    }

    /// One full garbage collection (`HeapProfiler.collectGarbage`, DevTools' "Collect garbage").
    pub fn collect_garbage(&mut self, hooks: Hooks) -> Result<(), CaptureError> {
        self.call("HeapProfiler.collectGarbage", serde_json::json!({}), hooks)
            .map(drop)
    }

    /// `Runtime.getHeapUsage`.
    pub fn heap_usage(&mut self, hooks: Hooks) -> Result<HeapUsage, CaptureError> {
        let result = self.call("Runtime.getHeapUsage", serde_json::json!({}), hooks)?;
        serde_json::from_str(result.get()).map_err(|e| self.garbage(format!("heap usage: {e}")))
    }

    /// `HeapProfiler.startTrackingHeapObjects` with allocation stacks: snapshots taken after it
    /// carry `trace_function_infos` and `trace_tree`. Never stopped explicitly: V8's
    /// `stopTrackingHeapObjects` takes (and streams) one more snapshot, while closing the
    /// session stops tracking without one (`V8InspectorSessionImpl`'s destructor disables its
    /// heap profiler agent).
    pub fn start_tracking_allocations(&mut self, hooks: Hooks) -> Result<(), CaptureError> {
        self.call(
            "HeapProfiler.startTrackingHeapObjects",
            serde_json::json!({ "trackAllocations": true }),
            hooks,
        )
        .map(drop)
    }

    /// `HeapProfiler.takeHeapSnapshot`: each chunk goes to `sink` as it arrives (the text is
    /// opaque here), build progress to `hooks`.
    pub fn take_heap_snapshot(
        &mut self,
        sink: &mut dyn FnMut(&str) -> Result<(), CaptureError>,
        hooks: Hooks,
    ) -> Result<(), CaptureError> {
        #[derive(Deserialize)]
        struct Chunk<'a> {
            #[serde(borrow)]
            chunk: Cow<'a, str>,
        }
        #[derive(Deserialize)]
        struct Building {
            done: f64,
            total: f64,
        }
        let address = self.address.clone();
        let mut on_event = |method: &str, params: Option<&RawValue>| -> Result<(), CaptureError> {
            let text = params.map_or("null", RawValue::get);
            match method {
                "HeapProfiler.addHeapSnapshotChunk" => {
                    let c: Chunk = serde_json::from_str(text)
                        .map_err(|e| garbage_error(&address, format!("chunk: {e}")))?;
                    sink(&c.chunk)
                }
                "HeapProfiler.reportHeapSnapshotProgress" => {
                    if let Ok(b) = serde_json::from_str::<Building>(text)
                        && b.total > 0.0
                    {
                        hooks.report("building the snapshot", (b.done / b.total) as f32);
                    }
                    Ok(())
                }
                _ => Ok(()),
            }
        };
        self.request(
            "HeapProfiler.takeHeapSnapshot",
            serde_json::json!({ "reportProgress": true }),
            hooks,
            Deadline::Silence,
            &mut on_event,
        )
        .map(drop)
    }

    /// A request whose events are ignored, done within the timeout as a whole.
    fn call(
        &mut self,
        method: &str,
        params: serde_json::Value,
        hooks: Hooks,
    ) -> Result<Box<RawValue>, CaptureError> {
        self.request(method, params, hooks, Deadline::Total, &mut |_, _| Ok(()))
    }

    /// Sends `method` and reads until its response; events go to `on_event` on the way.
    pub fn request(
        &mut self,
        method: &str,
        params: serde_json::Value,
        hooks: Hooks,
        deadline: Deadline,
        on_event: &mut OnEvent,
    ) -> Result<Box<RawValue>, CaptureError> {
        if let Some(why) = &self.broken {
            return Err(CaptureError::Process(format!(
                "the session with {} is unusable after an earlier error ({why}); attach again",
                self.address
            )));
        }
        let result = self.exchange(method, params, hooks, deadline, on_event);
        if let Err(e) = &result
            && !matches!(e, CaptureError::Protocol { .. })
        {
            self.broken = Some(e.to_string());
        }
        result
    }

    fn exchange(
        &mut self,
        method: &str,
        params: serde_json::Value,
        hooks: Hooks,
        deadline: Deadline,
        on_event: &mut OnEvent,
    ) -> Result<Box<RawValue>, CaptureError> {
        let id = self.next_id;
        self.next_id += 1;
        let text = serde_json::json!({ "id": id, "method": method, "params": params }).to_string();
        self.ws
            .send(Message::text(text))
            .map_err(|e| self.gone(&e))?;
        let started = Instant::now();
        let mut heard = started;
        loop {
            if hooks.is_cancelled() {
                return Err(CaptureError::Cancelled);
            }
            let since = match deadline {
                Deadline::Total => started,
                Deadline::Silence => heard,
            };
            if since.elapsed() > self.timeout {
                return Err(CaptureError::Timeout {
                    what: format!("{method} on {}", self.address),
                    after: self.timeout,
                });
            }
            let message = match self.ws.read() {
                Ok(m) => m,
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    continue;
                }
                Err(tungstenite::Error::Capacity(e)) => {
                    return Err(self.garbage(format!(
                        "a message over the {} MiB limit ({e})",
                        MAX_MESSAGE_BYTES >> 20
                    )));
                }
                Err(e) => return Err(self.gone(&e)),
            };
            heard = Instant::now();
            let text = match &message {
                Message::Text(t) => t.as_str(),
                Message::Close(_) => {
                    return Err(self.gone(&"the peer closed the connection"));
                }
                Message::Binary(_) => return Err(self.garbage("a binary message".into())),
                // tungstenite answers pings itself.
                _ => continue,
            };
            let incoming: Incoming = serde_json::from_str(text)
                .map_err(|e| self.garbage(format!("not a protocol message ({e})")))?;
            match (incoming.id, incoming.method) {
                (Some(got), _) if got == id => {
                    if let Some(err) = incoming.error {
                        return Err(CaptureError::Protocol {
                            address: self.address.clone(),
                            method: method.to_string(),
                            message: err.message,
                        });
                    }
                    let result = incoming.result.map_or("{}", RawValue::get);
                    return RawValue::from_string(result.to_string())
                        .map_err(|e| self.garbage(e.to_string()));
                }
                // A late answer to an earlier request: not ours to wait for.
                (Some(_), _) => {}
                (None, Some(event)) => on_event(&event, incoming.params)?,
                (None, None) => {
                    return Err(self.garbage("a message with neither id nor method".into()));
                }
            }
        }
    }

    fn gone(&self, e: &dyn std::fmt::Display) -> CaptureError {
        CaptureError::TargetGone {
            address: self.address.clone(),
            during: String::new(),
            reason: e.to_string(),
        }
    }

    fn garbage(&self, what: String) -> CaptureError {
        garbage_error(&self.address, what)
    }
}

fn garbage_error(address: &str, what: String) -> CaptureError {
    CaptureError::Garbage {
        address: address.to_string(),
        what,
    }
}

/// The TCP stream, with a byte budget while the handshake reads (tungstenite bounds the number
/// of headers, not their length; the frames after it are bounded by `WebSocketConfig`).
pub struct Capped {
    tcp: TcpStream,
    handshake_budget: Option<usize>,
}

impl io::Read for Capped {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.tcp.read(buf)?;
        if let Some(budget) = &mut self.handshake_budget {
            *budget = budget.checked_sub(n).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the WebSocket handshake answer is too long",
                )
            })?;
        }
        Ok(n)
    }
}

impl io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// What the session's timeout bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deadline {
    /// The whole request (commands that answer at once, even while events keep coming).
    Total,
    /// The silence between two messages (a snapshot: long, but never quiet for long).
    Silence,
}

impl Drop for Session {
    fn drop(&mut self) {
        // A polite close; a peer that does not answer is not waited for.
        let _ = self.ws.close(None);
        let _ = self.ws.flush();
    }
}

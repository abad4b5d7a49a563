//! Capture benchmark: starts a Node process holding a large heap, takes one heap snapshot
//! through `heapdiff::capture` (the same session and streaming code `heapdiff capture` runs),
//! and prints the wall time, the throughput and heapdiff's own peak RSS, which must stay far
//! below the snapshot's size (the chunks go straight to disk).
//!
//! ```sh
//! cargo run --release --example capture_bench -- --mb 1000 [--keep DIR]
//! ```
//!
//! `--mb` is the snapshot size to aim at (the heap is sized from it; the real size is
//! printed). Needs `node` on PATH.

use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use heapdiff::capture::{self, ChildProcess, Inspector, Origin, OutputSink, Session};
use heapdiff::task::Hooks;

/// Serialized bytes per element of the script below (measured on Node 20: an object, its
/// distinct name string and a one-element array, with their edges).
const BYTES_PER_ITEM: f64 = 296.0;

const READY: &str = "capture-bench: ready";

fn main() {
    if let Err(e) = run() {
        eprintln!("capture_bench: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let mut mb: f64 = 1000.0;
    let mut keep: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mb" => {
                mb = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--mb needs a number")?;
            }
            "--keep" => keep = Some(args.next().ok_or("--keep needs a folder")?.into()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let items = (mb * 1e6 / BYTES_PER_ITEM) as u64;
    let script = format!(
        "const keep = []; for (let i = 0; i < {items}; i++) keep.push({{ id: i, name: 'item ' + i, tags: [i] }}); globalThis.keep = keep; globalThis.writeSnapshot = (p) => {{ const t = Date.now(); require('v8').writeHeapSnapshot(p); return Date.now() - t; }}; console.log('{READY}'); setInterval(() => {{}}, 1000);"
    );
    let heap_mb = ((mb * 2.0) as u64).max(1024);
    let command = vec![
        "node".to_string(),
        format!("--max-old-space-size={heap_mb}"),
        "-e".to_string(),
        script,
    ];
    let (ready_tx, ready_rx) = mpsc::channel();
    let ready_tx = std::sync::Mutex::new(ready_tx);
    let output: OutputSink = Arc::new(move |origin: Origin, line: &str| {
        if line == READY {
            if let Ok(tx) = ready_tx.lock() {
                let _ = tx.send(());
            }
        } else if origin == Origin::Target
            && !line.starts_with("Debugger")
            && !line.starts_with("For help")
        {
            eprintln!("[node] {line}");
        }
    });
    let timeout = Duration::from_secs(600);
    let hooks = Hooks::default();
    let started = Instant::now();
    let mut node = ChildProcess::start(&command, output).map_err(|e| e.to_string())?;
    let address = node
        .wait_for_inspector(timeout, hooks)
        .map_err(|e| e.to_string())?;
    ready_rx
        .recv_timeout(timeout)
        .map_err(|_| "node never filled its heap".to_string())?;
    eprintln!(
        "node filled its heap ({items} items) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let target = Inspector::resolve(&address, false)
        .and_then(|i| i.choose(None))
        .map_err(|e| e.to_string())?;
    let mut session = Session::connect(&target, timeout).map_err(|e| e.to_string())?;
    session.enable(hooks).map_err(|e| e.to_string())?;
    let usage = session.heap_usage(hooks).map_err(|e| e.to_string())?;
    let dir = match &keep {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("capture-bench-{}", std::process::id())),
    };
    capture::routine::prepare_dir(&dir).map_err(|e| e.to_string())?;
    let rss_before = peak_rss_kib();
    let cpu_before = heapdiff::testkit::measure::process_cpu_seconds();
    let t = Instant::now();
    let saved = capture::stream::save_snapshot(
        &mut session,
        &dir,
        "bench",
        hooks,
        capture::stream::Stop::Abort,
        &|_| {},
    )
    .map_err(|e| e.to_string())?;
    let wall = t.elapsed().as_secs_f64();
    let rss_after = peak_rss_kib();
    let cpu = heapdiff::testkit::measure::process_cpu_seconds() - cpu_before;
    // The reference: Node writing the same heap itself (v8.writeHeapSnapshot, no inspector), so
    // the figures above can be read as the protocol's cost or heapdiff's.
    let own_path = dir.join("node-own.heapsnapshot");
    let expression = format!(
        "writeSnapshot({})",
        serde_json::to_string(&own_path.to_string_lossy()).map_err(|e| e.to_string())?
    );
    let answer = session
        .request(
            "Runtime.evaluate",
            serde_json::json!({ "expression": expression, "returnByValue": true }),
            hooks,
            capture::session::Deadline::Total,
            &mut |_, _| Ok(()),
        )
        .map_err(|e| e.to_string())?;
    let answer: serde_json::Value =
        serde_json::from_str(answer.get()).map_err(|e| e.to_string())?;
    let own_ms = answer["result"]["value"].as_f64().unwrap_or(f64::NAN);
    let own_bytes = std::fs::metadata(&own_path).map_or(0, |m| m.len());
    drop(session);
    node.stop();
    let mb_written = saved.bytes as f64 / 1e6;
    println!(
        "node heap used {:.0} MB; snapshot {:.1} MB in {wall:.1} s = {:.1} MB/s; heapdiff peak RSS {:.1} MB (before the snapshot {:.1} MB), CPU {cpu:.1} s",
        usage.used / 1e6,
        mb_written,
        mb_written / wall,
        rss_after as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );
    println!(
        "node's own v8.writeHeapSnapshot of the same heap: {:.1} MB in {:.1} s = {:.1} MB/s",
        own_bytes as f64 / 1e6,
        own_ms / 1e3,
        own_bytes as f64 / 1e6 / (own_ms / 1e3)
    );
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// VmHWM: this process's peak resident set, KiB (Linux; 0 elsewhere).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

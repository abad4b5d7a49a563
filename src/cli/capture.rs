//! `heapdiff capture`: snapshot a live Node process before and after a load, then report the
//! pair exactly as `heapdiff diff` does (same flags, same exit codes).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use clap::{ArgGroup, Args};

use super::diff::{DiffOutput, report_pair};
use super::{Done, EXIT_CANCELLED};
use crate::capture::{
    self, AttachOptions, CaptureError, Event, Exercise, Origin, OutputSink, Plan, Source, Step,
    routine,
};
use crate::format;
use crate::pipeline::PairPaths;
use crate::task::{Hooks, Progress};

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("source").required(true).args(["inspect", "pid", "command"])))]
pub struct CaptureArgs {
    /// A process already listening with the V8 inspector (Node `--inspect`, Chromium
    /// `--remote-debugging-port`); its first Node target is used unless --target names one.
    #[arg(long, value_name = "HOST:PORT")]
    pub inspect: Option<String>,
    /// With --inspect: the target's id, or part of its URL or title.
    #[arg(long, value_name = "ID|URL_PART", conflicts_with_all = ["pid", "command"])]
    pub target: Option<String>,
    /// A Node process of this machine started without the inspector: SIGUSR1 opens it.
    #[arg(long, value_name = "PID")]
    pub pid: Option<u32>,
    /// Start COMMAND with NODE_OPTIONS=--inspect=127.0.0.1:0, stop it at the end.
    #[arg(last = true, value_name = "COMMAND", num_args = 1..)]
    pub command: Vec<String>,
    /// Folder for before/after/final.heapsnapshot (created, owner-only, if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Load to run through `sh -c` between the snapshots; without it, heapdiff waits for Enter.
    #[arg(long, value_name = "CMD")]
    pub load: Option<String>,
    /// Wait until this URL answers (HTTP status below 500) before the first snapshot.
    #[arg(long, value_name = "URL")]
    pub ready: Option<String>,
    /// Three-snapshot mode: a second load, then DIR/final.heapsnapshot.
    #[arg(long = "final")]
    pub final_: bool,
    /// Garbage collections before each snapshot.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub gc_rounds: u32,
    /// Connect to inspectors and --ready URLs that are not on this machine.
    #[arg(long)]
    pub allow_remote: bool,
    #[command(flatten)]
    pub output: DiffOutput,
    /// Open the window on the snapshots instead of printing a report.
    #[arg(long, conflicts_with_all = ["format", "output", "fail_on", "max_growth"])]
    pub open: bool,
    /// Record allocation stacks (HeapProfiler.startTrackingHeapObjects before the first
    /// snapshot): the snapshots then say where each object was allocated.
    #[arg(long)]
    pub track_allocations: bool,
    /// Seconds a silent inspector, or a process that is not yet ready, is waited for.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub timeout: u64,
}

/// Set by the first Ctrl-C (or SIGTERM/SIGHUP): the capture stops at the next check, stops
/// the processes it started and removes its partial file.
static CANCEL: AtomicBool = AtomicBool::new(false);
static INTERRUPTS: AtomicU32 = AtomicU32::new(0);
/// Once the snapshots are written, an interrupt just ends heapdiff (the comparison has nothing
/// to clean up).
static CAPTURED: AtomicBool = AtomicBool::new(false);

pub fn run(args: &CaptureArgs) -> Result<Done, String> {
    // Checked first, so a script without --load fails at once rather than after a snapshot.
    if args.load.is_none() && !std::io::stdin().is_terminal() {
        return Err(
            "no --load and stdin is not a terminal, so nobody can press Enter after \
             exercising the app: give --load CMD"
                .into(),
        );
    }
    let source = if let Some(address) = &args.inspect {
        Source::Inspect {
            address: address.clone(),
            target: args.target.clone(),
        }
    } else if let Some(pid) = args.pid {
        Source::Pid(pid)
    } else {
        Source::Command(args.command.clone())
    };
    install_interrupt_handler();
    let status = Status::new();
    let label = match &source {
        Source::Command(c) => c
            .first()
            .map(|p| {
                Path::new(p)
                    .file_name()
                    .map_or(p.clone(), |f| f.to_string_lossy().into_owned())
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    let sink_bar = status.bar.clone();
    let output: OutputSink = Arc::new(move |origin: Origin, line: &str| {
        let prefix = match origin {
            Origin::Target => label.as_str(),
            Origin::Load => "load",
        };
        let line = format::one_line(line);
        match &sink_bar {
            Some(bar) => bar.suspend(|| eprintln!("[{prefix}] {line}")),
            None => eprintln!("[{prefix}] {line}"),
        }
    });
    let progress = |p: Progress| status.progress(p);
    let hooks = Hooks::new(&progress, &CANCEL);
    let captured = capture_all(args, source, &output, hooks, &status);
    status.finish();
    let captured = match captured {
        Ok(c) => c,
        Err(CaptureError::Cancelled) => {
            eprintln!("heapdiff: cancelled; no partial snapshot was left behind");
            return Ok(Done::Exit(EXIT_CANCELLED));
        }
        Err(e) => return Err(e.to_string()),
    };
    CAPTURED.store(true, Ordering::SeqCst);
    let before = captured.before.path;
    let after = captured.after.path;
    let final_ = captured.final_.map(|f| f.path);
    if args.open {
        return Ok(Done::OpenWindow {
            files: vec![before, after],
            final_,
        });
    }
    report_pair(
        PairPaths {
            before: &before,
            after: &after,
            final_: final_.as_deref(),
        },
        &args.output,
    )
    .map(Done::Exit)
}

/// Attach, run the routine, detach (the process heapdiff started is stopped on every path:
/// `Attached` stops it when dropped).
fn capture_all(
    args: &CaptureArgs,
    source: Source,
    output: &OutputSink,
    hooks: Hooks,
    status: &Status,
) -> Result<routine::Captured, CaptureError> {
    let options = AttachOptions {
        source,
        allow_remote: args.allow_remote,
        ready: args.ready.clone(),
        timeout: Duration::from_secs(args.timeout.max(1)),
    };
    status.phase("attaching");
    let mut attached = capture::attach(&options, output.clone(), hooks)?;
    status.line(&format!("attached to {}", attached.target.label()));
    let mut wait_for_enter = |round: u32, hooks: Hooks| wait_for_enter(round, hooks, status);
    let mut plan = Plan {
        out_dir: args.out.clone(),
        exercise: match &args.load {
            Some(cmd) => Exercise::Command(cmd.clone()),
            None => Exercise::Manual(&mut wait_for_enter),
        },
        final_: args.final_,
        gc_rounds: args.gc_rounds,
        track_allocations: args.track_allocations,
    };
    let on_event = |e: Event| status.event(&e);
    let captured = routine::run(&mut attached.session, &mut plan, output, hooks, &on_event)?;
    if let Some(p) = &attached.process {
        status.line(&format!("stopping {}", p.label()));
    }
    attached.close();
    Ok(captured)
}

fn wait_for_enter(round: u32, hooks: Hooks, status: &Status) -> Result<(), CaptureError> {
    status.line(if round == 1 {
        "exercise the app now, then press Enter"
    } else {
        "exercise the app again (for the final snapshot), then press Enter"
    });
    status.phase("waiting for Enter");
    let (tx, rx) = mpsc::channel();
    // A thread, so a Ctrl-C is seen while the terminal read blocks.
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        let _ = tx.send(());
    });
    loop {
        if hooks.is_cancelled() {
            return Err(CaptureError::Cancelled);
        }
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
}

/// First interrupt: cancel. A second one (or one once the snapshots are written): kill what
/// heapdiff started and exit now.
fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        let n = INTERRUPTS.fetch_add(1, Ordering::SeqCst);
        if n > 0 || CAPTURED.load(Ordering::SeqCst) {
            capture::process::kill_all_started();
            std::process::exit(EXIT_CANCELLED);
        }
        CANCEL.store(true, Ordering::SeqCst);
    });
}

/// Progress on stderr: a spinner line on a terminal, plain step lines elsewhere.
struct Status {
    bar: Option<indicatif::ProgressBar>,
    snapshot_started: Mutex<Instant>,
}

impl Status {
    fn new() -> Status {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {wide_msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Status {
            bar,
            snapshot_started: Mutex::new(Instant::now()),
        }
    }

    /// A line that stays (on a terminal, above the spinner).
    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(format!("heapdiff: {text}")),
            None => eprintln!("heapdiff: {text}"),
        }
    }

    /// What the spinner says (nothing off a terminal).
    fn phase(&self, text: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(text.to_string());
        }
    }

    fn progress(&self, p: Progress) {
        if let Some(bar) = &self.bar {
            if p.fraction > 0.0 {
                bar.set_message(format!("{} {:.0}%", p.phase, p.fraction * 100.0));
            } else {
                bar.set_message(p.phase);
            }
        }
    }

    fn event(&self, e: &Event) {
        match e {
            Event::Step(Step::TrackAllocations) => self.line("tracking allocations"),
            Event::Step(Step::CollectGarbage { round, of }) => {
                self.phase(&format!("collecting garbage ({round}/{of})"));
            }
            Event::Step(Step::Snapshot { name }) => {
                if let Ok(mut t) = self.snapshot_started.lock() {
                    *t = Instant::now();
                }
                self.phase(&format!("{name}.heapsnapshot: building"));
            }
            Event::Step(Step::Load { round }) => {
                self.line(&format!("load {round}: running --load"));
                self.phase("load running");
            }
            Event::Step(Step::Manual { .. }) => {}
            Event::Written { name, bytes } => {
                let secs = self
                    .snapshot_started
                    .lock()
                    .map_or(0.0, |t| t.elapsed().as_secs_f64());
                self.phase(&format!(
                    "{name}.heapsnapshot: {} written ({}/s)",
                    format::bytes(*bytes),
                    format::bytes((*bytes as f64 / secs.max(0.001)) as u64)
                ));
            }
            Event::Saved(saved) => {
                let secs = saved.elapsed.as_secs_f64();
                self.line(&format!(
                    "{}: {} in {:.1} s ({}/s)",
                    saved.path.display(),
                    format::bytes(saved.bytes),
                    secs,
                    format::bytes((saved.bytes as f64 / secs.max(0.001)) as u64)
                ));
            }
            Event::LoadExited(outcome) => self.line(&format!(
                "load finished ({}) after {:.1} s",
                outcome.status,
                outcome.elapsed.as_secs_f64()
            )),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

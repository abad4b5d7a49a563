//! The command line: argument parsing (clap) and the headless subcommands. No window starts
//! for a subcommand; output goes to stdout, diagnostics to stderr.
//!
//! Exit codes: 0 success, 1 a `diff` threshold was exceeded, 2 bad input or usage (or a failed
//! capture), 130 a capture interrupted.

mod capture;
mod diff;
pub mod output;
mod retainers;
mod summary;
mod table;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

pub use capture::CaptureArgs;
pub use diff::DiffArgs;
pub use retainers::RetainersArgs;
pub use summary::SummaryArgs;

pub const EXIT_OK: i32 = 0;
pub const EXIT_THRESHOLD: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;
/// A capture stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_CANCELLED: i32 = 130;

#[derive(Parser, Debug)]
#[command(
    name = "heapdiff",
    version,
    about = "Compare V8 heap snapshots: what grew, and what keeps it alive.",
    args_conflicts_with_subcommands = true,
    after_help = "Exit codes:
  0  success
  1  a diff threshold (--fail-on, --max-growth, --fail-on-leak) was exceeded
  2  bad input (unreadable or corrupt snapshot), bad usage, or a capture that failed
  130  a capture interrupted (Ctrl-C)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Without a subcommand: open the window on BEFORE AFTER (a comparison) or on one FILE (its
    /// Summary); none shows the start screen.
    #[arg(value_name = "FILE", num_args = 0..=2)]
    pub files: Vec<PathBuf>,
    /// Three-snapshot mode: objects new in AFTER that are still alive in this snapshot.
    #[arg(long = "final", value_name = "F", requires = "files")]
    pub final_: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The Summary view of one snapshot: one row per class, as DevTools' Memory panel shows it.
    Summary(SummaryArgs),
    /// The Retainers pane of one object: who keeps it alive, as a tree down to the GC roots.
    Retainers(RetainersArgs),
    /// Compare two snapshots: DevTools' Comparison rows, leak suspects and their merged retainer
    /// paths. Exit code 1 when a threshold is exceeded, for CI.
    Diff(DiffArgs),
    /// Snapshot a live Node process before and after a load (garbage collected first), then
    /// report the pair as `diff` does. Exit codes as `diff`; 2 when the capture fails.
    Capture(CaptureArgs),
}

/// Output of `summary` and `retainers`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
}

/// Output of `diff`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffFormat {
    Table,
    /// The findings JSON (also what `.heapdiff.json` files hold).
    Json,
    Md,
    Html,
}

/// Runs a headless subcommand and returns the process exit code.
pub fn run(command: Command) -> Done {
    let result = match command {
        Command::Summary(args) => summary::run(&args).map(Done::Exit),
        Command::Retainers(args) => retainers::run(&args).map(Done::Exit),
        Command::Diff(args) => diff::run(&args).map(Done::Exit),
        Command::Capture(args) => capture::run(&args),
    };
    result.unwrap_or_else(|message| {
        eprintln!("heapdiff: {message}");
        Done::Exit(EXIT_BAD_INPUT)
    })
}

/// What a subcommand leaves to `main`: an exit code, or the window to open on files (the
/// command line never starts the window itself; `main` does, as for `heapdiff A B`).
#[derive(Debug, PartialEq, Eq)]
pub enum Done {
    Exit(i32),
    OpenWindow {
        files: Vec<PathBuf>,
        final_: Option<PathBuf>,
    },
}

//! Command-line interface: argument parsing and the headless subcommands.
//!
//! Exit codes: 0 success, 1 a `diff` threshold was exceeded, 2 bad input or usage.

use std::io::{IsTerminal, Write};

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;

use crate::format;
use crate::loaded::{Hooks, Loaded};
use crate::snapshot::{LoadError, Progress};

pub const EXIT_OK: i32 = 0;
pub const EXIT_THRESHOLD: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "heapdiff",
    version,
    about = "Compare V8 heap snapshots: what grew, and what keeps it alive.",
    args_conflicts_with_subcommands = true,
    after_help = "Exit codes:\n  0  success\n  1  a diff threshold (--fail-on, --max-growth) was exceeded\n  2  bad input (unreadable or corrupt snapshot) or bad usage"
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
    Summary {
        /// A .heapsnapshot file (plain or gzip).
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// The Retainers pane of one object: who keeps it alive, as a tree down to the GC roots.
    Retainers {
        file: PathBuf,
        /// V8 object id (the @id DevTools shows).
        #[arg(long)]
        id: u32,
        /// Levels of retainers to expand.
        #[arg(long, default_value_t = 8)]
        depth: usize,
        /// Retainers listed per object (DevTools shows 25, then "Show more").
        #[arg(long, default_value_t = 25)]
        limit: usize,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Compare two snapshots: DevTools' Comparison rows, leak suspects and their merged retainer
    /// paths. Exit code 1 when a threshold is exceeded, for CI.
    Diff {
        before: PathBuf,
        after: PathBuf,
        /// Three-snapshot mode: only objects new in AFTER that are still alive in FINAL.
        #[arg(long = "final", value_name = "FINAL")]
        final_: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
        format: DiffFormat,
        /// Write the output to FILE instead of stdout.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Fail (exit 1) when CLASS grew by more than N objects, e.g. `--fail-on 'ChildContainer>0'`.
        #[arg(long = "fail-on", value_name = "CLASS>N", value_parser = parse_fail_on)]
        fail_on: Vec<(String, i64)>,
        /// Fail (exit 1) when the heap grew by more than BYTES (suffixes KB, MB, GB, KiB, MiB, GiB).
        #[arg(long = "max-growth", value_name = "BYTES", value_parser = parse_bytes)]
        max_growth: Option<i64>,
        /// Put string contents from the heap into reports (they are redacted by default).
        #[arg(long)]
        include_strings: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffFormat {
    Table,
    /// The findings JSON (also what `.heapdiff.json` files hold).
    Json,
    Md,
    Html,
}

/// `CLASS>N`: the class name may itself contain `>` (`Detached <div>`), so split at the last one.
fn parse_fail_on(s: &str) -> Result<(String, i64), String> {
    let (class, n) = s
        .rsplit_once('>')
        .ok_or_else(|| format!("expected CLASS>N, got {s:?}"))?;
    let n = n
        .trim()
        .parse::<i64>()
        .map_err(|_| format!("expected a number after '>' in {s:?}"))?;
    if class.is_empty() {
        return Err(format!("no class name in {s:?}"));
    }
    Ok((class.to_string(), n))
}

/// A byte count with an optional decimal (KB, MB, GB) or binary (KiB, MiB, GiB) suffix.
fn parse_bytes(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("expected a byte count, got {s:?}"))?;
    let scale: i64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        u => return Err(format!("unknown unit {u:?} in {s:?}")),
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// Runs a headless subcommand and returns the process exit code.
pub fn run(command: Command) -> i32 {
    let result = match command {
        Command::Summary { file, format } => summary(&file, format),
        Command::Diff {
            before,
            after,
            final_,
            format,
            output,
            fail_on,
            max_growth,
            include_strings,
        } => crate::cli_diff::run(&crate::cli_diff::DiffArgs {
            before,
            after,
            final_,
            format,
            output,
            fail_on,
            max_growth,
            include_strings,
        }),
        Command::Retainers {
            file,
            id,
            depth,
            limit,
            format,
        } => retainers(&file, id, depth, limit, format),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("heapdiff: {message}");
            EXIT_BAD_INPUT
        }
    }
}

/// Loads and analyses one file, with a progress bar on stderr when it is a terminal.
fn open(path: &Path) -> Result<Loaded, LoadError> {
    let bar = progress_bar(&file_label(path));
    let show = |p: Progress| update_bar(&bar, p);
    let hooks = Hooks {
        progress: bar.as_ref().map(|_| &show as &(dyn Fn(Progress) + Sync)),
        cancel: None,
    };
    let loaded = Loaded::open(path, hooks, None);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    loaded
}

/// An indicatif bar when stderr is a terminal (never in pipes, CI logs or tests).
pub fn progress_bar(label: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(1000);
    let style = indicatif::ProgressStyle::with_template("{prefix} {bar:30} {percent:>3}% {msg}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_prefix(label.to_string());
    Some(bar)
}

pub fn update_bar(bar: &Option<indicatif::ProgressBar>, p: Progress) {
    if let Some(bar) = bar {
        bar.set_position((p.fraction.clamp(0.0, 1.0) * 1000.0) as u64);
        bar.set_message(p.phase);
    }
}

fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[derive(Serialize)]
struct SummaryJson<'a> {
    file: &'a str,
    node_count: usize,
    edge_count: usize,
    total_size: u64,
    classes: &'a [crate::summary::ClassRow],
}

fn summary(path: &Path, format: Format) -> Result<i32, String> {
    let loaded = open(path).map_err(|e| e.to_string())?;
    let rows = loaded.summary();
    let mut out = std::io::stdout().lock();
    let written = match format {
        Format::Json => {
            let json = SummaryJson {
                file: &loaded.snapshot.file_name,
                node_count: loaded.snapshot.node_count(),
                edge_count: loaded.snapshot.edge_count(),
                total_size: loaded.total_size(),
                classes: &rows,
            };
            serde_json::to_writer_pretty(&mut out, &json)
                .map_err(std::io::Error::from)
                .and_then(|_| writeln!(out))
        }
        Format::Table => write_summary_table(&mut out, &loaded, &rows),
    };
    finish_output(written)
}

/// A closed pipe (`| head`) is not an error worth reporting.
pub fn finish_output(written: std::io::Result<()>) -> Result<i32, String> {
    match written {
        Ok(()) => Ok(EXIT_OK),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(EXIT_OK),
        Err(e) => Err(format!("cannot write output: {e}")),
    }
}

fn write_summary_table(
    out: &mut impl Write,
    loaded: &Loaded,
    rows: &[crate::summary::ClassRow],
) -> std::io::Result<()> {
    let s = &loaded.snapshot;
    writeln!(
        out,
        "{}: {} nodes, {} edges, {} total",
        s.file_name,
        format::thousands(s.node_count() as u64),
        format::thousands(s.edge_count() as u64),
        format::bytes(loaded.total_size())
    )?;
    writeln!(
        out,
        "{:<48} {:>9} {:>10} {:>14} {:>14}",
        "Constructor", "Distance", "Count", "Shallow size", "Retained size"
    )?;
    for row in rows {
        writeln!(
            out,
            "{:<48} {:>9} {:>10} {:>14} {:>14}",
            truncate(&format::one_line(&row.name), 48),
            row.distance.map_or("-".to_string(), |d| d.to_string()),
            format::thousands(row.count),
            format::bytes(row.self_size),
            row.retained_size.map_or("-".to_string(), format::bytes),
        )?;
    }
    Ok(())
}

/// Cuts a string to `max` characters for a table cell.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

fn retainers(
    path: &Path,
    id: u32,
    depth: usize,
    limit: usize,
    format: Format,
) -> Result<i32, String> {
    let loaded = open(path).map_err(|e| e.to_string())?;
    let Some(node) = loaded.snapshot.node_for_id(id) else {
        return Err(format!(
            "{}: no object with id @{id}",
            loaded.snapshot.file_name
        ));
    };
    let report = crate::retainers_view::build(&loaded, node, depth, limit);
    let mut out = std::io::stdout().lock();
    let written = match format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &report)
            .map_err(std::io::Error::from)
            .and_then(|_| writeln!(out)),
        Format::Table => crate::retainers_view::write_table(&mut out, &report),
    };
    finish_output(written)
}

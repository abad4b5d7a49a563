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
    after_help = "Exit codes:\n  0  success\n  1  a diff threshold (--fail-on, --max-growth) was exceeded\n  2  bad input (unreadable or corrupt snapshot) or bad usage"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
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
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
}

/// Runs a headless subcommand and returns the process exit code.
pub fn run(command: Command) -> i32 {
    let result = match command {
        Command::Summary { file, format } => summary(&file, format),
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

/// A one-line progress display on stderr when it is a terminal.
fn open(path: &Path) -> Result<Loaded, LoadError> {
    let tty = std::io::stderr().is_terminal();
    let last = std::sync::Mutex::new((String::new(), -1i32));
    let show = |p: Progress| {
        let percent = (p.fraction * 100.0) as i32;
        if let Ok(mut last) = last.lock()
            && (last.0 != p.phase || last.1 != percent)
        {
            *last = (p.phase.to_string(), percent);
            eprint!("\r\x1b[2K{}: {} {percent:>3}%", file_label(path), p.phase);
        }
    };
    let hooks = Hooks {
        progress: tty.then_some(&show as &(dyn Fn(Progress) + Sync)),
        cancel: None,
    };
    let loaded = Loaded::open(path, hooks, None);
    if tty {
        eprint!("\r\x1b[2K");
    }
    loaded
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
fn finish_output(written: std::io::Result<()>) -> Result<i32, String> {
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

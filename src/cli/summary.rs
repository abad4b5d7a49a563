//! `heapdiff summary FILE`: DevTools' Summary view of one snapshot.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::output::{self, Bars, truncate};
use super::{EXIT_OK, Format};
use crate::analysis::summary::SummaryRow;
use crate::format;
use crate::loaded::Loaded;
use crate::pipeline::{self, Side};
use crate::task::{Hooks, Progress};

#[derive(Args, Debug)]
pub struct SummaryArgs {
    /// A .heapsnapshot file (plain or gzip).
    pub file: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Serialize)]
struct SummaryJson<'a> {
    file: &'a str,
    node_count: usize,
    edge_count: usize,
    total_size: u64,
    /// Memory outside the V8 heap (`extra_native_bytes`, Node 24+), when the header has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    extra_native_bytes: Option<u64>,
    warnings: &'a [String],
    classes: &'a [SummaryRow],
}

pub fn run(args: &SummaryArgs) -> Result<i32, String> {
    let mut loaded = open(&args.file)?;
    loaded.release_graph();
    output::warn(loaded.warnings());
    let rows = loaded.summary();
    let text = match args.format {
        Format::Json => {
            let json = SummaryJson {
                file: &loaded.snapshot.file_name,
                node_count: loaded.snapshot.node_count(),
                edge_count: loaded.edge_count(),
                total_size: loaded.total_size(),
                extra_native_bytes: loaded.snapshot.extra_native_bytes,
                warnings: loaded.warnings(),
                classes: &rows,
            };
            serde_json::to_string_pretty(&json).map_err(|e| e.to_string())? + "\n"
        }
        Format::Table => table(&loaded, &rows),
    };
    output::emit(&text, None)?;
    Ok(EXIT_OK)
}

/// Loads and analyses one file, with a progress bar on a terminal.
pub(super) fn open(path: &std::path::Path) -> Result<Loaded, String> {
    let bars = Bars::new(&[(Side::After, path)]);
    let show = |p: Progress| bars.update(Side::After, p);
    let hooks = Hooks {
        progress: bars.shown().then_some(&show as &(dyn Fn(Progress) + Sync)),
        cancel: None,
    };
    let loaded = pipeline::open_one(path, hooks);
    bars.finish();
    loaded.map_err(|e| e.to_string())
}

/// A row's class with where it is defined: `ChildContainer (server.js:17:13)`.
fn named(row: &SummaryRow) -> String {
    match &row.location {
        Some(l) => format!("{} ({})", row.name, l.short()),
        None => row.name.clone(),
    }
}

fn table(loaded: &Loaded, rows: &[SummaryRow]) -> String {
    let mut out = Vec::new();
    let s = &loaded.snapshot;
    let native = match s.extra_native_bytes {
        Some(n) if n > 0 => format!(" (+ {} outside the V8 heap)", format::bytes(n)),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "{}: {} nodes, {} edges, {} total{native}",
        s.file_name,
        format::thousands(s.node_count() as u64),
        format::thousands(loaded.edge_count() as u64),
        format::bytes(loaded.total_size())
    );
    let _ = writeln!(
        out,
        "{:<48} {:>9} {:>10} {:>14} {:>14}",
        "Constructor", "Distance", "Count", "Shallow size", "Retained size"
    );
    for row in rows {
        let _ = writeln!(
            out,
            "{:<48} {:>9} {:>10} {:>14} {:>14}",
            truncate(&format::one_line(&named(row)), 48),
            row.distance.map_or("-".to_string(), |d| d.to_string()),
            format::thousands(row.count),
            format::bytes(row.self_size),
            row.retained_size.map_or("-".to_string(), format::bytes),
        );
    }
    String::from_utf8_lossy(&out).into_owned()
}

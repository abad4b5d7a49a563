//! `heapdiff diff`: compare two snapshots, print or write a report, and apply CI thresholds.

use std::io::Write;
use std::path::PathBuf;

use crate::cli::{
    DiffFormat, EXIT_OK, EXIT_THRESHOLD, finish_output, progress_bar, truncate, update_bar,
};
use crate::diff;
use crate::format;
use crate::loaded::Hooks;
use crate::report::{self, Findings, ReportOptions};
use crate::snapshot::Progress;

pub struct DiffArgs {
    pub before: PathBuf,
    pub after: PathBuf,
    pub final_: Option<PathBuf>,
    pub format: DiffFormat,
    pub output: Option<PathBuf>,
    pub fail_on: Vec<(String, i64)>,
    pub max_growth: Option<i64>,
    pub include_strings: bool,
}

/// Rows of the terminal table before it says how many more there are.
const TABLE_ROWS: usize = 40;

pub fn run(args: &DiffArgs) -> Result<i32, String> {
    let bar = progress_bar("comparing");
    let show = |p: Progress| update_bar(&bar, p);
    let hooks = Hooks {
        progress: bar.as_ref().map(|_| &show as &(dyn Fn(Progress) + Sync)),
        cancel: None,
    };
    let opened = diff::open_pair(
        &args.before,
        &args.after,
        args.final_.as_deref(),
        hooks,
        false,
    );
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let (before, after, final_) = opened.map_err(|e| e.to_string())?;
    let comparison = diff::compare(&before, &after, final_.as_ref());
    let files = (
        report::file_info(&before, Some(&args.before)),
        report::file_info(&after, Some(&args.after)),
        final_
            .as_ref()
            .map(|f| report::file_info(f, args.final_.as_deref())),
    );
    let findings = report::build(
        &comparison,
        &after,
        files,
        ReportOptions {
            include_strings: args.include_strings,
        },
    );
    let text = match args.format {
        DiffFormat::Json => report::findings::to_json(&findings) + "\n",
        DiffFormat::Md => report::markdown::render(&findings),
        DiffFormat::Html => report::html::render(&findings),
        DiffFormat::Table => table(&findings),
    };
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))?,
        None => {
            let written = std::io::stdout().lock().write_all(text.as_bytes());
            finish_output(written)?;
        }
    }
    Ok(if thresholds_exceeded(&findings, args) {
        EXIT_THRESHOLD
    } else {
        EXIT_OK
    })
}

/// Checks `--fail-on` and `--max-growth`, explaining each breach on stderr.
fn thresholds_exceeded(f: &Findings, args: &DiffArgs) -> bool {
    let mut exceeded = false;
    for (class, limit) in &args.fail_on {
        // A name can stand for several class keys (the same constructor defined in two places).
        let growth: i64 = f
            .classes
            .iter()
            .filter(|c| c.name == *class || c.class_key == *class)
            .map(|c| c.count_delta)
            .sum();
        if growth > *limit {
            eprintln!("heapdiff: {class} grew by {growth} objects (limit {limit})");
            exceeded = true;
        }
    }
    if let Some(limit) = args.max_growth
        && f.totals.size_delta > limit
    {
        eprintln!(
            "heapdiff: the heap grew by {} bytes (limit {limit})",
            f.totals.size_delta
        );
        exceeded = true;
    }
    exceeded
}

/// The human view: suspects with their paths, then the Comparison rows.
fn table(f: &Findings) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} → {}: {}\n",
        f.before.file,
        f.after.file,
        report::change_line(&f.totals)
    );
    if f.suspects.is_empty() {
        out.push_str("No leak suspects.\n\n");
    } else {
        out.push_str("Leak suspects:\n");
        for (i, s) in f.suspects.iter().enumerate() {
            let _ = writeln!(
                out,
                "{:>3}. {}  +{} new, retaining {}",
                i + 1,
                format::one_line(&s.name),
                format::thousands(s.added_count),
                format::bytes(s.added_retained_size)
            );
            for p in s.paths.iter().take(3) {
                let mut line = format!(
                    "       ×{} {}",
                    format::thousands(p.count),
                    format::one_line(&s.name)
                );
                for st in &p.steps {
                    let _ = write!(
                        line,
                        " ← {} ({})",
                        format::one_line(&st.edge_name),
                        format::one_line(&st.class_name)
                    );
                }
                out.push_str(&line);
                out.push('\n');
            }
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{:<44} {:>9} {:>9} {:>9} {:>11} {:>11} {:>11} {:>11}",
        "Constructor",
        "# New",
        "# Deleted",
        "# Delta",
        "Alloc. Size",
        "Freed Size",
        "Size Delta",
        "Retained"
    );
    for c in f.classes.iter().take(TABLE_ROWS) {
        let _ = writeln!(
            out,
            "{:<44} {:>9} {:>9} {:>9} {:>11} {:>11} {:>11} {:>11}",
            truncate(&format::one_line(&c.name), 44),
            format::thousands(c.added_count),
            format::thousands(c.removed_count),
            format::signed_thousands(c.count_delta),
            format::bytes(c.added_size),
            format::bytes(c.removed_size),
            format::signed_bytes(c.size_delta),
            format::bytes(c.added_retained_size)
        );
    }
    if f.classes.len() > TABLE_ROWS {
        let _ = writeln!(
            out,
            "… {} more rows (--format json lists all)",
            f.classes.len() - TABLE_ROWS
        );
    }
    out
}

//! `heapdiff diff BEFORE AFTER`: compare two snapshots, print or write a report, and apply CI
//! thresholds.

use std::path::PathBuf;

use clap::Args;

use super::output::{self, Bars, truncate};
use super::{DiffFormat, EXIT_OK, EXIT_THRESHOLD};
use crate::format;
use crate::pipeline::{self, PairHooks, PairPaths, Side};
use crate::report::{self, Findings, ReportOptions};
use crate::task::Progress;

#[derive(Args, Debug)]
pub struct DiffArgs {
    pub before: PathBuf,
    pub after: PathBuf,
    /// Three-snapshot mode: only objects new in AFTER that are still alive in FINAL.
    #[arg(long = "final", value_name = "FINAL")]
    pub final_: Option<PathBuf>,
    #[command(flatten)]
    pub output: DiffOutput,
}

/// How a comparison is reported and judged: shared by `diff` and, later, `capture`.
#[derive(Args, Debug, Clone)]
pub struct DiffOutput {
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,
    /// Write the output to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Fail (exit 1) when CLASS grew by more than N objects, e.g. `--fail-on 'ChildContainer>0'`.
    #[arg(long = "fail-on", value_name = "CLASS>N", value_parser = parse_fail_on)]
    pub fail_on: Vec<(String, i64)>,
    /// Fail (exit 1) when the heap grew by more than BYTES (suffixes KB, MB, GB, KiB, MiB, GiB).
    #[arg(long = "max-growth", value_name = "BYTES", value_parser = parse_bytes)]
    pub max_growth: Option<i64>,
    /// Put string contents from the heap into reports (they are redacted by default).
    #[arg(long)]
    pub include_strings: bool,
}

/// Rows of the terminal table before it says how many more there are.
const TABLE_ROWS: usize = 40;

pub fn run(args: &DiffArgs) -> Result<i32, String> {
    let paths = PairPaths {
        before: &args.before,
        after: &args.after,
        final_: args.final_.as_deref(),
    };
    report_pair(paths, &args.output)
}

/// Compares the files, writes the report `out` asks for and returns the exit code its
/// thresholds give.
pub fn report_pair(paths: PairPaths, out: &DiffOutput) -> Result<i32, String> {
    let mut files = vec![(Side::Before, paths.before), (Side::After, paths.after)];
    if let Some(f) = paths.final_ {
        files.push((Side::Final, f));
    }
    let bars = Bars::new(&files);
    let show = |side: Side, p: Progress| bars.update(side, p);
    let hooks = PairHooks {
        progress: bars
            .shown()
            .then_some(&show as &(dyn Fn(Side, Progress) + Sync)),
        cancel: None,
    };
    let compared = pipeline::compare_files(paths, hooks);
    bars.finish();
    let compared = compared.map_err(|e| e.to_string())?;
    let findings = report::build(
        &compared.comparison,
        &compared.before,
        &compared.after,
        compared.final_.as_ref(),
        ReportOptions {
            include_strings: out.include_strings,
        },
    );
    let text = match out.format {
        DiffFormat::Json => report::findings::to_json(&findings) + "\n",
        DiffFormat::Md => report::markdown::render(&findings),
        DiffFormat::Html => report::html::render(&findings),
        DiffFormat::Table => table(&findings),
    };
    output::emit(&text, out.output.as_deref())?;
    Ok(if thresholds_exceeded(&findings, out) {
        EXIT_THRESHOLD
    } else {
        EXIT_OK
    })
}

/// Checks `--fail-on` and `--max-growth`, explaining each breach on stderr.
fn thresholds_exceeded(f: &Findings, args: &DiffOutput) -> bool {
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

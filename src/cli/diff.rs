//! `heapdiff diff BEFORE AFTER`: compare two snapshots, print or write a report, and apply CI
//! thresholds.

use std::path::PathBuf;

use clap::Args;

use super::output::{self, Bars};
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
    /// Fail (exit 1) when a likely leak group retains more than BYTES (suffixes as above).
    #[arg(long = "fail-on-leak", value_name = "BYTES", value_parser = parse_bytes)]
    pub fail_on_leak: Option<i64>,
    /// Put string contents from the heap into reports (they are redacted by default).
    #[arg(long)]
    pub include_strings: bool,
}

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
    output::warn(&compared.comparison.warnings);
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
        DiffFormat::Table => {
            super::table::render(&findings, super::table::width(out.output.is_some()))
        }
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
    if let Some(limit) = args.fail_on_leak
        && let Some(leak) = f
            .leaks
            .iter()
            .find(|l| l.likely && l.retained_size as i128 > i128::from(limit))
    {
        eprintln!(
            "heapdiff: a likely leak retains {} bytes (limit {limit}): {}",
            leak.retained_size,
            format::one_line(&leak.sentence)
        );
        exceeded = true;
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

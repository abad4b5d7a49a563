//! `heapdiff diff`'s terminal view: the leak groups first (sentence, how the holder grew, what
//! they are made of, the path to a GC root one step per line), then DevTools' Comparison rows.
//! Every line fits the terminal: prose wraps, paths elide their middle, the table drops
//! columns on narrow terminals.

use std::fmt::Write as _;
use std::io::IsTerminal;

use crate::format;
use crate::report::{self, Findings, text};

/// Rows of the class table before it says how many more there are.
const TABLE_ROWS: usize = 40;
/// Non-likely groups listed after the likely ones (only when nothing is likely).
const OTHER_LEAKS: usize = 3;
/// Parts of a composition shown per group.
const PARTS: usize = 6;

/// The width to lay out for: the terminal's when stdout is one (and no file is written), else
/// 100 columns (a log or a pasted ticket).
pub fn width(to_file: bool) -> usize {
    let term = console::Term::stdout();
    let columns = (!to_file && std::io::stdout().is_terminal())
        .then(|| term.size_checked().map(|(_, cols)| cols as usize))
        .flatten();
    columns.unwrap_or(100).clamp(40, 240)
}

pub fn render(f: &Findings, width: usize) -> String {
    let mut out = String::new();
    let esc = |s: &str| format::one_line(s).into_owned();
    let header = format!(
        "{} → {}: {}",
        f.before.file,
        f.after.file,
        report::change_line(&f.totals)
    );
    for line in text::wrap(&esc(&header), width) {
        let _ = writeln!(out, "{line}");
    }
    out.push('\n');
    // (Each warning also went to stderr as the files were read; here it stays with the report.)
    for w in &f.warnings {
        for (k, l) in text::wrap(&format!("warning: {}", esc(w)), width - 2)
            .into_iter()
            .enumerate()
        {
            let _ = writeln!(out, "{}{l}", if k > 0 { "  " } else { "" });
        }
    }
    if !f.warnings.is_empty() {
        out.push('\n');
    }
    let likely: Vec<&report::Leak> = text::likely(&f.leaks).collect();
    if likely.is_empty() {
        out.push_str("No likely leaks.\n\n");
    } else {
        let _ = writeln!(
            out,
            "Likely leaks ({}), largest first:\n",
            format::thousands(likely.len() as u64)
        );
        for (i, leak) in likely.iter().enumerate() {
            group(&mut out, i + 1, leak, width);
        }
    }
    if likely.is_empty() && !f.leaks.is_empty() {
        out.push_str("Largest groups of new objects (not leaks by heapdiff's rules):\n");
        for leak in f.leaks.iter().take(OTHER_LEAKS) {
            let line = format!("  - {}", esc(&leak.sentence));
            for (k, l) in text::wrap(&line, width - 4).into_iter().enumerate() {
                let _ = writeln!(out, "{}{l}", if k > 0 { "    " } else { "" });
            }
        }
        out.push('\n');
    }
    classes(&mut out, f, width);
    out
}

fn group(out: &mut String, n: usize, leak: &report::Leak, width: usize) {
    let esc = |s: &str| format::one_line(s).into_owned();
    let indent = "    ";
    let inner = width.saturating_sub(indent.len());
    let first = format!("{n:>2}. ");
    for (k, line) in text::wrap(&esc(&leak.sentence), inner)
        .into_iter()
        .enumerate()
    {
        let _ = writeln!(out, "{}{line}", if k == 0 { &first } else { indent });
    }
    if let Some(h) = &leak.holder {
        let line = format!("holder: {}", text::holder_line(h, "", &esc));
        let _ = writeln!(out, "{indent}{}", text::fit(&line, inner));
    }
    if let Some(site) = &leak.allocation_site {
        let _ = writeln!(
            out,
            "{indent}{}",
            text::fit(&esc(&text::site_line(site)), inner)
        );
    }
    if let Some(line) = text::context_line(&leak.context_variables) {
        for (k, l) in text::wrap(&esc(&line), inner - 2).into_iter().enumerate() {
            let _ = writeln!(out, "{indent}{}{l}", if k > 0 { "  " } else { "" });
        }
    }
    let parts: Vec<String> = leak
        .composition
        .iter()
        .take(PARTS)
        .map(|p| text::part_text(p, &esc))
        .collect();
    if !parts.is_empty() {
        let more = leak.composition.len().saturating_sub(PARTS);
        let mut line = format!("made of: {}", parts.join(" · "));
        if more > 0 {
            let _ = write!(line, " · {} more classes", format::thousands(more as u64));
        }
        // Continuation lines are indented two more columns.
        for (k, l) in text::wrap(&line, inner - 2).into_iter().enumerate() {
            let _ = writeln!(out, "{indent}{}{l}", if k > 0 { "  " } else { "" });
        }
    }
    let start = match &leak.holder {
        Some(h) => format!("path to a GC root: {} @{}", esc(&h.class_name), h.id),
        None => "path to a GC root:".to_string(),
    };
    for line in text::path_lines(&start, &leak.path.steps, &esc) {
        let line = if line == start {
            line
        } else {
            format!("  {line}")
        };
        let _ = writeln!(out, "{indent}{}", text::fit(&line, inner));
    }
    out.push('\n');
}

/// The Comparison rows; on a narrow terminal the Alloc. and Freed columns go first.
fn classes(out: &mut String, f: &Findings, width: usize) {
    let wide = width >= 122;
    let numbers = if wide {
        9 * 3 + 11 * 4 + 7
    } else {
        9 * 3 + 11 * 2 + 5
    };
    let name_width = width.saturating_sub(numbers).clamp(16, 60);
    let name = |s: &str| text::fit(&format::one_line(s), name_width);
    if wide {
        let _ = writeln!(
            out,
            "{:<name_width$} {:>9} {:>9} {:>9} {:>11} {:>11} {:>11} {:>11}",
            "Constructor",
            "# New",
            "# Deleted",
            "# Delta",
            "Alloc. Size",
            "Freed Size",
            "Size Delta",
            "Retained"
        );
    } else {
        let _ = writeln!(
            out,
            "{:<name_width$} {:>9} {:>9} {:>9} {:>11} {:>11}",
            "Constructor", "# New", "# Deleted", "# Delta", "Size Delta", "Retained"
        );
    }
    for c in f.classes.iter().take(TABLE_ROWS) {
        if wide {
            let _ = writeln!(
                out,
                "{:<name_width$} {:>9} {:>9} {:>9} {:>11} {:>11} {:>11} {:>11}",
                name(&c.name),
                format::thousands(c.added_count),
                format::thousands(c.removed_count),
                format::signed_thousands(c.count_delta),
                format::bytes(c.added_size),
                format::bytes(c.removed_size),
                format::signed_bytes(c.size_delta),
                format::bytes(c.added_retained_size)
            );
        } else {
            let _ = writeln!(
                out,
                "{:<name_width$} {:>9} {:>9} {:>9} {:>11} {:>11}",
                name(&c.name),
                format::thousands(c.added_count),
                format::thousands(c.removed_count),
                format::signed_thousands(c.count_delta),
                format::signed_bytes(c.size_delta),
                format::bytes(c.added_retained_size)
            );
        }
    }
    if f.classes.len() > TABLE_ROWS {
        let _ = writeln!(
            out,
            "… {} more rows (--format json lists all)",
            f.classes.len() - TABLE_ROWS
        );
    }
}

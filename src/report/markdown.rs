//! A short Markdown summary to paste into a ticket: the files, the top suspects with their merged
//! paths, and the biggest changes.

use std::fmt::Write;

use super::{Findings, Path};
use crate::format;

/// Rows of the change table.
const TOP_CLASSES: usize = 15;
const TOP_SUSPECTS: usize = 5;
const PATHS_PER_SUSPECT: usize = 3;

/// Makes snapshot text inert in Markdown: no HTML, no links, no emphasis, no table breaks.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' | '{' | '}' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

/// One merged path on one line: `ChildContainer ← container (system / Context) ← …`.
pub fn path_line(class: &str, path: &Path) -> String {
    let mut line = escape(class);
    for step in &path.steps {
        let _ = write!(
            line,
            " ← {} ({})",
            escape(&step.edge_name),
            escape(&step.class_name)
        );
    }
    if path.steps.is_empty() {
        line.push_str(" (no path to a GC root)");
    }
    line
}

pub fn render(f: &Findings) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## Heap growth: {} → {}\n",
        escape(&f.before.file),
        escape(&f.after.file)
    );
    for (label, info) in [
        ("Before", Some(&f.before)),
        ("After", Some(&f.after)),
        ("Final", f.final_.as_ref()),
    ] {
        let Some(info) = info else { continue };
        let _ = writeln!(
            md,
            "- **{label}**: `{}` — {} file, {} heap, {} objects{}",
            info.file.replace('`', "'"),
            format::bytes(info.bytes),
            format::bytes(info.total_size),
            format::thousands(info.node_count),
            info.modified
                .as_deref()
                .map(|m| format!(", modified {m}"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(md, "- **Change**: {}\n", super::change_line(&f.totals));
    if f.suspects.is_empty() {
        md.push_str("### No leak suspects\n\nNothing that survived between the snapshots looks like a leak.\n\n");
    } else {
        md.push_str("### Leak suspects\n\n");
        for (i, s) in f.suspects.iter().take(TOP_SUSPECTS).enumerate() {
            let _ = writeln!(
                md,
                "{}. **{}** — {} new objects, retaining {}",
                i + 1,
                escape(&s.name),
                format::thousands(s.added_count),
                format::bytes(s.added_retained_size)
            );
            for p in s.paths.iter().take(PATHS_PER_SUSPECT) {
                let _ = writeln!(
                    md,
                    "   - ×{}: {}",
                    format::thousands(p.count),
                    path_line(&s.name, p)
                );
            }
        }
        md.push('\n');
    }
    let mut rows: Vec<&super::ClassRow> = f.classes.iter().collect();
    rows.sort_by(|a, b| {
        b.size_delta
            .cmp(&a.size_delta)
            .then_with(|| a.name.cmp(&b.name))
    });
    md.push_str("### Biggest changes\n\n");
    md.push_str("| Constructor | # New | # Deleted | # Delta | Alloc. Size | Freed Size | Size Delta | Retained by new |\n");
    md.push_str("|---|--:|--:|--:|--:|--:|--:|--:|\n");
    for c in rows.iter().take(TOP_CLASSES) {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            escape(&c.name),
            format::thousands(c.added_count),
            format::thousands(c.removed_count),
            format::signed_thousands(c.count_delta),
            format::bytes(c.added_size),
            format::bytes(c.removed_size),
            format::signed_bytes(c.size_delta),
            format::bytes(c.added_retained_size)
        );
    }
    let _ = writeln!(
        md,
        "\n<sub>{}; string contents {}.</sub>",
        escape(&f.generator),
        if f.strings_included {
            "included"
        } else {
            "redacted"
        }
    );
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_inert() {
        let e = escape("<img src=x onerror=alert(1)> | [a](b) `c`");
        assert!(!e.contains('<'));
        assert!(e.contains("\\|"));
        assert!(e.contains("\\["));
    }
}

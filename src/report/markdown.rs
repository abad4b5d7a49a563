//! A short Markdown summary to paste into a ticket: the files, the top suspects with their merged
//! paths, and the biggest changes.

use std::fmt::Write;

use super::{Findings, Leak, Path, text};
use crate::format;

/// Rows of the change table.
const TOP_CLASSES: usize = 15;
const TOP_LEAKS: usize = 5;
/// Parts of a leak's composition listed.
const PARTS: usize = 8;
/// Prose is wrapped here: a ticket's page, and a readable diff of the Markdown itself.
const WIDTH: usize = 100;

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

/// One leak: its sentence, the holder's growth, what it is made of, and its path to a GC root
/// one step per line (so it never runs off the page).
fn leak_section(md: &mut String, n: usize, leak: &Leak) {
    // Markdown wraps code spans as it wraps words, so a span may break across lines.
    let sentence = text::spans(&leak.sentence, &|s| escape(s), &code_span);
    let sentence = text::wrap(&sentence, WIDTH - 4).join("\n   ");
    let _ = writeln!(md, "{n}. {sentence}");
    if let Some(h) = &leak.holder {
        let _ = writeln!(
            md,
            "   - holder: {}",
            text::holder_line(h, "", &|s| escape(s))
        );
    }
    let parts: Vec<String> = leak
        .composition
        .iter()
        .take(PARTS)
        .map(|p| text::part_text(p, &|s| escape(s)))
        .collect();
    if !parts.is_empty() {
        let made_of = text::wrap(&parts.join(" · "), WIDTH - 16).join("\n     ");
        let _ = writeln!(md, "   - made of: {made_of}");
    }
    if let Some(site) = &leak.allocation_site {
        let _ = writeln!(md, "   - {}", escape(&text::site_line(site)));
    }
    if let Some(line) = text::context_line(&leak.context_variables) {
        let _ = writeln!(
            md,
            "   - {}",
            text::wrap(&escape(&line), WIDTH - 6).join("\n     ")
        );
    }
    let start = match &leak.holder {
        Some(h) => format!(
            "path to a GC root from {} @{}:",
            escape(&h.class_name),
            h.id
        ),
        None => "path to a GC root:".to_string(),
    };
    // One step per list item: one per line on every renderer, and plain escaped text (a code
    // block would carry the snapshot's markup verbatim).
    let mut lines = text::path_lines(&start, &leak.path.steps, &|s| escape(s)).into_iter();
    if let Some(first) = lines.next() {
        let _ = writeln!(md, "   - {first}");
    }
    for line in lines {
        let _ = writeln!(md, "     - {}", text::fit(&line, WIDTH - 7));
    }
    md.push('\n');
}

/// A `code span` for snapshot text that is plain (names of properties, files, functions);
/// anything with markup characters is escaped text instead, since a span shows it verbatim.
fn code_span(s: &str) -> String {
    let plain = !s
        .chars()
        .any(|c| matches!(c, '<' | '>' | '&' | '`') || c.is_control());
    if plain { format!("`{s}`") } else { escape(s) }
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
    // A heading cannot wrap; long file names are in the list below anyway.
    let heading = format!(
        "## Heap growth: {} → {}",
        escape(&f.before.file),
        escape(&f.after.file)
    );
    if heading.chars().count() <= WIDTH {
        let _ = writeln!(md, "{heading}\n");
    } else {
        md.push_str("## Heap growth\n\n");
    }
    for (label, info) in [
        ("Before", Some(&f.before)),
        ("After", Some(&f.after)),
        ("Final", f.final_.as_ref()),
    ] {
        let Some(info) = info else { continue };
        let line = format!(
            "- **{label}**: {} — {} file, {} heap, {} objects{}",
            code_span(&info.file),
            format::bytes(info.bytes),
            format::bytes(info.total_size),
            format::thousands(info.node_count),
            info.modified
                .as_deref()
                .map(|m| format!(", modified {m}"))
                .unwrap_or_default()
        );
        let _ = writeln!(md, "{}", text::wrap(&line, WIDTH).join("\n  "));
    }
    let change = format!("- **Change**: {}", super::change_line(&f.totals));
    let _ = writeln!(md, "{}\n", text::wrap(&change, WIDTH).join("\n  "));
    if !f.warnings.is_empty() {
        md.push_str("### Warnings\n\n");
        for w in &f.warnings {
            let _ = writeln!(md, "- {}", text::wrap(&escape(w), WIDTH - 2).join("\n  "));
        }
        md.push('\n');
    }
    let likely: Vec<&Leak> = text::likely(&f.leaks).collect();
    if likely.is_empty() {
        md.push_str("### No likely leaks\n\nNothing that survived between the snapshots looks like a leak.\n\n");
    } else {
        md.push_str("### Likely leaks\n\n");
        for (i, leak) in likely.iter().take(TOP_LEAKS).enumerate() {
            leak_section(&mut md, i + 1, leak);
        }
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

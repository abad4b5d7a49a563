//! Plain-text layout shared by the terminal table and the Markdown report: prose wrapped to a
//! width, paths drawn one step per line with their middle elided when long, so no line is
//! longer than the terminal or page can hold.

use super::{Holder, Leak, Part, Step};
use crate::format;

/// Paths longer than this many steps show their first and last [`PATH_ENDS`] steps only.
pub const PATH_MAX_LINES: usize = 14;
pub const PATH_ENDS: usize = 6;

/// Wraps `text` at spaces so that no line is longer than `width` characters (a word longer
/// than the width is cut).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(20);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in text.split(' ') {
        let mut word = word;
        let mut wlen = word.chars().count();
        // A word longer than a line is cut, each piece found once (re-collecting the rest per
        // piece made a 50 KB class name in a hostile file quadratic).
        while wlen > width {
            if len > 0 {
                lines.push(std::mem::take(&mut line));
                len = 0;
            }
            let cut = word
                .char_indices()
                .nth(width)
                .map_or(word.len(), |(i, _)| i);
            lines.push(word[..cut].to_string());
            word = &word[cut..];
            wlen -= width;
        }
        if len > 0 && len + 1 + wlen > width {
            lines.push(std::mem::take(&mut line));
            len = 0;
        }
        if len > 0 {
            line.push(' ');
            len += 1;
        }
        line.push_str(word);
        len += wlen;
    }
    if len > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Cuts a line to `width` characters, marking the cut.
pub fn fit(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        return line.to_string();
    }
    let mut t: String = line.chars().take(width.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// One step as a line: `← config in Object`, `← _idleNext in Timeout ×1,203`.
pub fn step_line(step: &Step, escape: &dyn Fn(&str) -> String) -> String {
    let repeat = if step.repeat > 1 {
        format!(" ×{}", format::thousands(step.repeat))
    } else {
        String::new()
    };
    format!(
        "← {} in {}{repeat}",
        escape(&step.edge_name),
        escape(&step.class_name)
    )
}

/// A path one step per line, the middle of a long one elided with a count; `start` is the
/// object the path starts from.
pub fn path_lines(start: &str, steps: &[Step], escape: &dyn Fn(&str) -> String) -> Vec<String> {
    let mut lines = vec![start.to_string()];
    if steps.is_empty() {
        lines.push("(no path to a GC root)".to_string());
        return lines;
    }
    if steps.len() <= PATH_MAX_LINES {
        lines.extend(steps.iter().map(|s| step_line(s, escape)));
    } else {
        lines.extend(steps[..PATH_ENDS].iter().map(|s| step_line(s, escape)));
        lines.push(format!(
            "… {} more steps …",
            format::thousands((steps.len() - 2 * PATH_ENDS) as u64)
        ));
        lines.extend(
            steps[steps.len() - PATH_ENDS..]
                .iter()
                .map(|s| step_line(s, escape)),
        );
    }
    lines
}

/// How the holder grew: `Array @86059: 203 → 1,203 elements; retains 0.5 → 2.8 MiB`, with the
/// holder's expression after its id when given.
pub fn holder_line(h: &Holder, expression: &str, escape: &dyn Fn(&str) -> String) -> String {
    let noun = if h.edge_type == "element" || h.class_name == "Array" {
        "elements"
    } else {
        "edges"
    };
    let edges = match h.edges_before {
        Some(b) => format!(
            "{} → {} {noun}",
            format::thousands(b),
            format::thousands(h.edges_after)
        ),
        None => format!(
            "{} {noun} (new since BEFORE)",
            format::thousands(h.edges_after)
        ),
    };
    let retained = match h.retained_before {
        Some(b) => format!(
            "retains {} → {}",
            format::bytes(b),
            format::bytes(h.retained_after)
        ),
        None => format!("retains {}", format::bytes(h.retained_after)),
    };
    let place = if expression.is_empty() {
        String::new()
    } else {
        format!(" `{}`", escape(expression))
    };
    format!(
        "{} @{}{place}: {edges}; {retained}",
        escape(&h.class_name),
        h.id
    )
}

/// Text with `code spans` (the sentences' form): the spans given to `code`, the rest to
/// `plain`. An unmatched backtick ends as plain text.
pub fn spans(text: &str, plain: &dyn Fn(&str) -> String, code: &dyn Fn(&str) -> String) -> String {
    let pieces: Vec<&str> = text.split('`').collect();
    let mut out = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        let inside = i % 2 == 1 && i + 1 < pieces.len();
        if inside {
            out.push_str(&code(piece));
        } else {
            if i % 2 == 1 {
                out.push_str(&plain("`"));
            }
            out.push_str(&plain(piece));
        }
    }
    out
}

/// `7,000 (string) 888.1 KiB`: one part of a composition.
pub fn part_text(p: &Part, escape: &dyn Fn(&str) -> String) -> String {
    let location = p
        .location
        .as_ref()
        .map(|l| format!(" ({})", escape(&l.short())))
        .unwrap_or_default();
    format!(
        "{} {}{location} {}",
        format::thousands(p.count),
        escape(&p.name),
        format::bytes(p.self_size)
    )
}

/// Where a group's entries were allocated: `allocated at plantLeak (server.js:12:5) ×200`.
pub fn site_line(site: &crate::analysis::allocation::AllocationSite) -> String {
    let file = crate::analysis::scripts::file_name(&site.script);
    let place = if file.is_empty() {
        String::new()
    } else {
        format!(" ({file}:{}:{})", site.line, site.column)
    };
    let function = if site.function.is_empty() {
        "(anonymous)"
    } else {
        &site.function
    };
    format!(
        "allocated at {function}{place} ×{}",
        format::thousands(site.count)
    )
}

/// What a leaked closure's context holds: `context: config (Object, 1.2 KiB), payload (unused
/// by any live function)`.
pub fn context_line(vars: &[super::retainers::ContextVariable]) -> Option<String> {
    if vars.is_empty() {
        return None;
    }
    let parts: Vec<String> = vars
        .iter()
        .take(6)
        .map(|v| {
            let unused = if v.used == Some(false) {
                ", no live function uses it"
            } else {
                ""
            };
            format!(
                "{} ({}, {}{unused})",
                v.name,
                v.class_name,
                format::bytes(v.retained_size)
            )
        })
        .collect();
    let more = vars.len().saturating_sub(6);
    let more = if more > 0 {
        format!(", … {more} more")
    } else {
        String::new()
    };
    Some(format!(
        "its closure's context holds: {}{more}",
        parts.join(", ")
    ))
}

/// The leaks worth a reader's time: the likely ones, or when there are none, nothing.
pub fn likely(leaks: &[Leak]) -> impl Iterator<Item = &Leak> {
    leaks.iter().filter(|l| l.likely)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        let text = "one two three four five six seven eight nine ten";
        let lines = wrap(text, 20);
        assert!(lines.iter().all(|l| l.chars().count() <= 20), "{lines:?}");
        assert_eq!(lines.join(" "), text);
        let long = "x".repeat(50);
        let lines = wrap(&long, 20);
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| l.chars().count() <= 20));
        // A hostile 50 KB class name of multi-byte characters: cut at character boundaries,
        // every piece full but the last, nothing lost.
        let hostile = "é9".repeat(25_001);
        let lines = wrap(&hostile, 40);
        assert_eq!(lines.len(), 50_002usize.div_ceil(40));
        assert_eq!(lines.concat(), hostile);
        assert!(
            lines[..lines.len() - 1]
                .iter()
                .all(|l| l.chars().count() == 40)
        );
        assert_eq!(wrap(&format!("a {hostile} b"), 40).len(), lines.len() + 1);
    }

    #[test]
    fn long_paths_elide_their_middle() {
        let step = |i: usize| Step {
            edge_type: "property".into(),
            edge_name: format!("p{i}"),
            class_name: "Object".into(),
            repeat: 1,
        };
        let steps: Vec<Step> = (0..100).map(step).collect();
        let lines = path_lines("X", &steps, &|s| s.to_string());
        assert_eq!(lines.len(), 1 + 2 * PATH_ENDS + 1);
        assert!(lines.iter().any(|l| l.contains("88 more steps")));
        assert_eq!(lines.last().map(String::as_str), Some("← p99 in Object"));
    }
}

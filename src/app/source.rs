//! Code in the window: where a node or class was defined, as `server.js:39:26` with the full
//! script name on hover, and the source lines around it when the snapshot holds the script's
//! source (V8 keeps it on the Script node; Node and Chromium usually do).
//!
//! The source is shown only here, on the user's own screen: shared reports never carry it (it
//! is string content, which they redact).

use eframe::egui;

use egui::{Color32, RichText};

use crate::analysis::scripts::SourceLocation;
use crate::loaded::Loaded;
use crate::pipeline::Side;
use crate::snapshot::{Location, NodeKind};

use super::HeapdiffApp;

/// Characters of a long (minified) source line kept around the located column.
const LINE_BEFORE: usize = 60;
const LINE_AFTER: usize = 100;

/// A location as a row shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Located {
    /// `ssr-di-leak.js:39:26`.
    pub short: String,
    /// The script's full name, for the hover text.
    pub full: String,
}

impl Located {
    pub fn of(location: &SourceLocation) -> Located {
        let script = if location.script.is_empty() {
            "a script without a name (eval, or not in the snapshot)"
        } else {
            &location.script
        };
        Located {
            short: location.short(),
            full: format!(
                "{script}, line {}, column {}",
                location.line, location.column
            ),
        }
    }

    /// Draws the location as weak text, the full script name on hover.
    pub fn show(&self, ui: &mut egui::Ui) {
        ui.weak(&self.short).on_hover_text(&self.full);
    }
}

/// Where `node` was defined (closures, and objects the snapshot locates), its script named.
pub fn of_node(loaded: &Loaded, node: u32) -> Option<Located> {
    let snap = &loaded.snapshot;
    if node as usize >= snap.node_count() {
        return None;
    }
    let raw = snap.location(node)?;
    Some(of_raw(loaded, raw))
}

/// A raw (0-based) location. BEFORE of a fresh Comparison is a comparison base, which has no
/// script names until it is analysed: its scripts are shown by id meanwhile rather than as
/// `<anonymous>`, which would be wrong.
fn of_raw(loaded: &Loaded, raw: Location) -> Located {
    let snap = &loaded.snapshot;
    if loaded.scripts.script_node(raw.script_id).is_none() && loaded.analysis.distance.is_empty() {
        return Located {
            short: format!(
                "script {}:{}:{}",
                raw.script_id,
                raw.line + 1,
                raw.column + 1
            ),
            full: "Script names are read when this snapshot is analysed".into(),
        };
    }
    Located::of(&loaded.scripts.resolve(snap, raw))
}

/// The raw location of a class key (DevTools' `"scriptId,line,column,Name"`), 0-based.
pub fn class_key_location(class_key: &str) -> Option<Location> {
    let mut fields = class_key.splitn(4, ',');
    let (script, line, column) = (fields.next()?, fields.next()?, fields.next()?);
    fields.next()?;
    Some(Location {
        node: 0,
        script_id: script.parse().ok()?,
        line: line.parse().ok()?,
        column: column.parse().ok()?,
    })
}

/// The source lines around a location: the line itself and one on each side.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceSnippet {
    /// What the code is (`onConfigChange`, `class ChildContainer`).
    pub what: String,
    pub located: Located,
    /// (1-based line number, text), the located line among them.
    pub lines: Vec<(u32, String)>,
    /// The located line, 1-based.
    pub line: u32,
    /// Why the lines are missing: V8 writes at most the first 1,024 characters of a string into
    /// a snapshot, a script's source included, so later lines are not in the file.
    pub note: Option<String>,
}

impl SourceSnippet {
    /// The lines around `raw` in its script's source, if the snapshot holds it. Walks the
    /// source up to the line once, on a selection (a click), never per frame.
    pub fn of(loaded: &Loaded, raw: Location, what: String) -> Option<SourceSnippet> {
        let source = loaded.scripts.source(&loaded.snapshot, raw.script_id)?;
        let first = raw.line.saturating_sub(1);
        let lines: Vec<(u32, String)> = source
            .split('\n')
            .enumerate()
            .skip(first as usize)
            .take((raw.line - first + 2) as usize)
            .map(|(i, text)| {
                let text = text.strip_suffix('\r').unwrap_or(text);
                let keep_from = if i == raw.line as usize {
                    raw.column as usize
                } else {
                    0
                };
                (i as u32 + 1, excerpt(text, keep_from))
            })
            .collect();
        let note = (!lines.iter().any(|&(n, _)| n == raw.line + 1)).then(|| {
            format!(
                "The snapshot holds only the first {} characters of this script \
                 (V8 cuts strings there): line {} is past them.",
                crate::format::thousands(source.chars().count() as u64),
                raw.line + 1
            )
        });
        Some(SourceSnippet {
            what,
            located: of_raw(loaded, raw),
            lines: if note.is_some() { Vec::new() } else { lines },
            line: raw.line + 1,
            note,
        })
    }
}

/// A source line cut to a readable length around `column` (minified code has lines of
/// megabytes), tabs as spaces.
fn excerpt(text: &str, column: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let (start, end) = if chars.len() <= LINE_BEFORE + LINE_AFTER {
        (0, chars.len())
    } else {
        let start = column.saturating_sub(LINE_BEFORE).min(chars.len());
        (start, (start + LINE_BEFORE + LINE_AFTER).min(chars.len()))
    };
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(
        chars[start..end]
            .iter()
            .map(|&c| if c == '\t' { ' ' } else { c }),
    );
    if end < chars.len() {
        out.push('…');
    }
    out
}

impl HeapdiffApp {
    /// The source of a class's constructor, from the snapshot its objects are shown from
    /// (AFTER in a Comparison, whose script ids BEFORE shares: one process).
    pub(super) fn class_source(&self, class_key: &str) -> Option<SourceSnippet> {
        let raw = class_key_location(class_key)?;
        let file = self.content.file(Side::After)?;
        let name = class_key.splitn(4, ',').nth(3).unwrap_or(class_key);
        SourceSnippet::of(
            &file.loaded,
            raw,
            format!("class {}", crate::format::one_line(name)),
        )
    }

    /// The source of a closure (objects other than closures have no code of their own).
    pub(super) fn object_source(&self, side: Side, node: u32) -> Option<SourceSnippet> {
        let loaded = &self.content.file(side)?.loaded;
        let snap = &loaded.snapshot;
        if node as usize >= snap.node_count() || snap.node_kind(node) != NodeKind::Closure {
            return None;
        }
        let raw = snap.location(node)?;
        let name = snap.node_name(node);
        let what = if name.is_empty() {
            "(anonymous)()".to_string()
        } else {
            format!("{}()", crate::format::one_line(name))
        };
        SourceSnippet::of(loaded, raw, what)
    }
}

/// The source panel: the located line highlighted between its neighbours, monospace.
pub fn show(ui: &mut egui::Ui, snippet: &SourceSnippet) {
    ui.horizontal(|ui| {
        ui.strong(format!("Source of {}", snippet.what));
        snippet.located.show(ui);
    });
    if let Some(note) = &snippet.note {
        ui.weak(note);
        return;
    }
    let highlight = if ui.visuals().dark_mode {
        Color32::from_rgba_unmultiplied(255, 200, 90, 40)
    } else {
        Color32::from_rgba_unmultiplied(255, 190, 60, 70)
    };
    let width = snippet
        .lines
        .last()
        .map_or(1, |&(n, _)| n.to_string().len());
    egui::ScrollArea::horizontal()
        .id_salt("source_lines")
        .show(ui, |ui| {
            for (number, text) in &snippet.lines {
                let mut line = RichText::new(format!("{number:>width$}  {text}")).monospace();
                if *number == snippet.line {
                    line = line.background_color(highlight).strong();
                } else {
                    line = line.weak();
                }
                ui.add(egui::Label::new(line).extend());
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_around_the_column() {
        let line = "x".repeat(1000);
        let cut = excerpt(&line, 500);
        assert_eq!(cut.chars().count(), LINE_BEFORE + LINE_AFTER + 2);
        assert!(cut.starts_with('…') && cut.ends_with('…'));
        assert_eq!(excerpt("\tshort", 0), " short");
    }

    #[test]
    fn class_keys_carry_their_location() {
        let l = class_key_location("82,17,13,ChildContainer").expect("a location");
        assert_eq!((l.script_id, l.line, l.column), (82, 17, 13));
        assert!(class_key_location(",Array").is_none());
        // A name with commas after the location.
        assert!(class_key_location("1,2,3,{a, b}").is_some());
    }
}

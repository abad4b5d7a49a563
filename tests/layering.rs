//! The engine's layers, checked: every `crate::…` (and root-reaching `super::…`) path in
//! `src/**/*.rs` may only name a module of a lower layer or its own module, so the stages have
//! no import cycles and the engine never reaches the front ends. Comments (doc links included),
//! strings and char literals are not code and are not read.
//!
//! ```text
//! task, format, hash, mem < snapshot < analysis < loaded < diff < report < pipeline, capture < testkit
//!   < cli, app
//! ```
//!
//! Modules on one layer may not use each other. A top-level module missing from [`LAYERS`]
//! fails the test until it is placed.

use std::path::{Path, PathBuf};

/// Each top-level module of `src/` and its layer.
const LAYERS: &[(&str, u32)] = &[
    ("task", 0),
    ("format", 0),
    ("hash", 0),
    ("mem", 0),
    ("snapshot", 1),
    ("analysis", 2),
    ("loaded", 3),
    ("diff", 4),
    ("report", 5),
    ("pipeline", 6),
    // Live processes → files; the engine never depends on it.
    ("capture", 6),
    // Test support (the `testkit` feature) drives the whole engine, never a front end.
    ("testkit", 7),
    ("cli", 8),
    ("app", 8),
];

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|&(_, l)| l)
}

/// `text` with comments, string literals and char literals replaced by spaces (newlines kept,
/// so positions still give line numbers).
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map_or(b.len(), |e| i + e);
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
                blank(&mut out, i, end);
                i = end;
            }
            b'r' if matches!(b.get(i + 1), Some(b'"' | b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                if b.get(i + 1 + hashes) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let close = format!("\"{}", "#".repeat(hashes));
                let body = i + 2 + hashes;
                let end = text[body..]
                    .find(&close)
                    .map_or(b.len(), |e| body + e + close.len());
                blank(&mut out, i, end);
                i = end;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                blank(&mut out, i, j + 1);
                i = j + 1;
            }
            // A char literal ('x', '\n', '\u{1F600}'), not a lifetime ('a).
            b'\'' => {
                let end = if b.get(i + 1) == Some(&b'\\') {
                    text[i + 2..].find('\'').map(|e| i + 2 + e + 1)
                } else {
                    text[i + 1..]
                        .chars()
                        .next()
                        .map(|c| i + 1 + c.len_utf8())
                        .filter(|&e| b.get(e) == Some(&b'\''))
                        .map(|e| e + 1)
                };
                match end {
                    Some(end) => {
                        blank(&mut out, i, end);
                        i = end;
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The identifier `s` starts with.
fn ident(s: &str) -> &str {
    let len = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..len]
}

/// The first identifier of each path starting at `at`, with its offset: `x` for `x::…`; `a`,
/// `b` for `{a::…, b}` (nested groups sit inside the first items and are not needed).
fn first_idents(code: &str, at: usize) -> Vec<(usize, &str)> {
    let skip = |from: usize| from + (code[from..].len() - code[from..].trim_start().len());
    let at = skip(at);
    if !code[at..].starts_with('{') {
        return vec![(at, ident(&code[at..]))];
    }
    let (mut depth, mut items, mut start) = (0usize, Vec::new(), at + 1);
    for (i, c) in code[at..].char_indices() {
        let here = at + i;
        match c {
            '{' => depth += 1,
            '}' | ',' if depth == 1 => {
                let item = skip(start);
                if item < here {
                    items.push((item, ident(&code[item..])));
                }
                start = here + 1;
                if c == '}' {
                    break;
                }
            }
            '}' => depth -= 1,
            _ => {}
        }
    }
    items
}

/// Top-level modules named by `file`'s code, with the line of each use. `module` is the file's
/// module path (`["snapshot", "class", "dom"]` for `src/snapshot/class/dom.rs`).
fn uses(module: &[String], text: &str) -> Vec<(usize, String)> {
    let code = code_only(text);
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    // Inline `mod name {` blocks open at each brace depth: `super` counts from the innermost.
    let mut inline: Vec<(usize, String)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let word = |i: usize| i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(d, _)| *d == depth) {
                    inline.pop();
                }
            }
            b'm' if word(i) && code[i..].starts_with("mod ") => {
                let name = ident(&code[i + 4..]);
                let after = code[i + 4 + name.len()..].trim_start();
                if after.starts_with('{') {
                    inline.push((depth, name.to_string()));
                }
            }
            // `$crate::` in a macro is not a path of this file.
            b'c' if word(i)
                && bytes.get(i.wrapping_sub(1)) != Some(&b'$')
                && code[i..].starts_with("crate::") =>
            {
                for (at, m) in first_idents(&code, i + 7) {
                    found.push((line_of(at), m.to_string()));
                }
            }
            b's' if word(i) && code[i..].starts_with("super::") => {
                let mut path: Vec<String> = module.to_vec();
                path.extend(inline.iter().map(|(_, m)| m.clone()));
                let mut j = i;
                while code[j..].starts_with("super::") {
                    path.pop();
                    j += 7;
                }
                if path.is_empty() {
                    for (at, m) in first_idents(&code, j) {
                        found.push((line_of(at), m.to_string()));
                    }
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Every layering violation of the file `relative` (to `src/`) with contents `text`.
fn violations(relative: &Path, text: &str) -> Vec<String> {
    let mut module: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if module.last().is_some_and(|m| m == "mod") {
        module.pop();
    }
    let Some(own) = module.first().cloned() else {
        return vec![];
    };
    let Some(own_layer) = layer(&own) else {
        return vec![format!(
            "src/{}: module `{own}` is not in the layer table of tests/layering.rs; place it",
            relative.display()
        )];
    };
    uses(&module, text)
        .into_iter()
        .filter_map(|(line, used)| {
            let used_layer = layer(&used)?;
            (used != own && used_layer >= own_layer).then(|| {
                format!(
                    "src/{}:{line}: {own} (layer {own_layer}) uses {used} (layer {used_layer})",
                    relative.display()
                )
            })
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn modules_only_use_lower_layers() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    let mut checked = 0;
    for path in &files {
        let relative = path.strip_prefix(&src).expect("under src");
        // The crate root declares the modules; the binary is the front end's entry point.
        if relative == Path::new("lib.rs") || relative == Path::new("main.rs") {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"));
        problems.extend(violations(relative, &text));
        checked += 1;
    }
    assert!(checked > 50, "only {checked} files under src/");
    assert!(
        problems.is_empty(),
        "{} layering violations:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The check itself: it sees grouped, nested, inline and root-reaching paths, and not what
/// comments and strings say.
#[test]
fn the_check_catches_violations_and_ignores_comments() {
    let text = r#"
//! See [`crate::pipeline::open_pair`]: a doc link, not a dependency.
use crate::{
    task::Hooks,
    analysis::Analysis,
};
const NOTE: &str = "crate::app::run is just text";
fn f<'a>(c: char) -> bool { c == '{' || crate::task::is_cancelled() }
fn g() { let _ = crate::report::build; }
mod tests {
    use super::f; // the file's own module
}
"#;
    let found = violations(Path::new("snapshot/class/dom.rs"), text);
    assert_eq!(
        found,
        [
            "src/snapshot/class/dom.rs:5: snapshot (layer 1) uses analysis (layer 2)",
            "src/snapshot/class/dom.rs:9: snapshot (layer 1) uses report (layer 5)",
        ]
    );
    // `super` from a top-level file reaches the crate root; inside an inline module it does not.
    let found = violations(
        Path::new("loaded.rs"),
        "use super::diff::compare;\nmod tests { use super::Loaded; }\n",
    );
    assert_eq!(
        found,
        ["src/loaded.rs:1: loaded (layer 3) uses diff (layer 4)"]
    );
    // Front ends on one layer do not use each other, and an unplaced module fails.
    assert_eq!(
        violations(Path::new("cli/mod.rs"), "use crate::app::run;"),
        ["src/cli/mod.rs:1: cli (layer 8) uses app (layer 8)"]
    );
    assert_eq!(
        violations(Path::new("cli/mod.rs"), "use crate::cli::Cli;"),
        [] as [&str; 0]
    );
    assert!(violations(Path::new("newthing.rs"), "")[0].contains("not in the layer table"));
}

//! What the subcommands share for output: progress bars on stderr (only on a terminal), writing
//! to stdout or a file, and table cells.

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::pipeline::Side;
use crate::task::Progress;

/// A bar per file on stderr when it is a terminal (never in pipes, CI logs or tests).
pub struct Bars {
    multi: Option<indicatif::MultiProgress>,
    bars: Vec<(Side, indicatif::ProgressBar)>,
}

impl Bars {
    /// One bar per `(side, file)`.
    pub fn new(files: &[(Side, &Path)]) -> Bars {
        if !std::io::stderr().is_terminal() {
            return Bars {
                multi: None,
                bars: Vec::new(),
            };
        }
        let multi = indicatif::MultiProgress::new();
        let style =
            indicatif::ProgressStyle::with_template("{prefix:<32} {bar:30} {percent:>3}% {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        let bars = files
            .iter()
            .map(|&(side, path)| {
                let bar = multi.add(indicatif::ProgressBar::new(1000));
                bar.set_style(style.clone());
                bar.set_prefix(crate::format::file_label(path));
                (side, bar)
            })
            .collect();
        Bars {
            multi: Some(multi),
            bars,
        }
    }

    /// Whether any bar is drawn (stderr is a terminal).
    pub fn shown(&self) -> bool {
        self.multi.is_some()
    }

    pub fn update(&self, side: Side, p: Progress) {
        if let Some((_, bar)) = self.bars.iter().find(|(s, _)| *s == side) {
            bar.set_position((p.fraction.clamp(0.0, 1.0) * 1000.0) as u64);
            bar.set_message(p.phase);
        }
    }

    pub fn finish(&self) {
        for (_, bar) in &self.bars {
            bar.finish_and_clear();
        }
    }
}

/// Prints each warning on stderr, one line each (`heapdiff: warning: FILE: …`).
pub fn warn(warnings: &[String]) {
    for w in warnings {
        eprintln!("heapdiff: warning: {}", crate::format::one_line(w));
    }
}

/// Writes `text` to `path`, or to stdout when none is given.
pub fn emit(text: &str, path: Option<&Path>) -> Result<(), String> {
    match path {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| format!("{}: cannot write: {e}", path.display()))
        }
        None => finish(std::io::stdout().lock().write_all(text.as_bytes())),
    }
}

/// A closed pipe (`| head`) is not an error worth reporting.
pub fn finish(written: std::io::Result<()>) -> Result<(), String> {
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write output: {e}")),
    }
}

/// Cuts a string to `max` characters for a table cell.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

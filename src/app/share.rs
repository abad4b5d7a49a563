//! Sharing and file dialogs, as background tasks: the report model built (strings redacted, the
//! CLI's default), rendered and written off the UI thread (building it sums the after heap,
//! O(nodes)); native dialogs (rfd) on their own thread, their choice coming back as a
//! [`Picked`].

use std::path::PathBuf;
use std::sync::Arc;

use crate::diff::Comparison;
use crate::pipeline::Side;
use crate::report::{self, Findings};

use super::command::SaveKind;
use super::model::{Content, LoadedFile};
use super::outcome::Outcome;

/// The inputs of a report, moved to a task.
pub enum ShareSource {
    Live {
        comparison: Arc<Comparison>,
        before: Arc<LoadedFile>,
        after: Arc<LoadedFile>,
        final_: Option<Arc<LoadedFile>>,
        /// The leak groups' holders as the window has them: with their retained size before
        /// once BEFORE is analysed (the comparison itself was computed without it).
        holders: Vec<Option<report::Holder>>,
    },
    Reopened(Arc<Findings>),
}

impl ShareSource {
    /// What a report of the open comparison is built from, if one is open.
    pub fn of(content: &Content) -> Option<ShareSource> {
        match content {
            Content::Pair(pair) => Some(ShareSource::Live {
                comparison: pair.comparison.clone(),
                before: pair.before.clone(),
                after: pair.after.clone(),
                final_: pair.final_.clone(),
                holders: pair.leaks.leaks.iter().map(|l| l.holder.clone()).collect(),
            }),
            Content::Findings(view) => Some(ShareSource::Reopened(view.findings.clone())),
            Content::Start | Content::Single(_) => None,
        }
    }

    fn findings(self) -> Findings {
        match self {
            ShareSource::Live {
                comparison,
                before,
                after,
                final_,
                holders,
            } => {
                let mut findings = report::build(
                    &comparison,
                    &before.loaded,
                    &after.loaded,
                    final_.as_ref().map(|f| &f.loaded),
                    report::ReportOptions::default(),
                );
                for (leak, holder) in findings.leaks.iter_mut().zip(holders) {
                    leak.holder = holder;
                }
                findings
            }
            ShareSource::Reopened(findings) => (*findings).clone(),
        }
    }

    /// The Markdown summary. Runs on a task.
    pub fn markdown(self) -> Outcome {
        Outcome::Markdown(report::markdown::render(&self.findings()))
    }

    /// The HTML report or findings file written to `path`. Runs on a task.
    pub fn save(self, kind: SaveKind, path: PathBuf) -> Outcome {
        let findings = self.findings();
        let text = match kind {
            SaveKind::Html => report::html::render(&findings),
            SaveKind::Findings => report::findings::to_json(&findings),
        };
        match std::fs::write(&path, text) {
            Ok(()) => Outcome::Saved(format!("Saved {}", path.display())),
            Err(e) => Outcome::Failed(format!("{}: cannot save: {e}", path.display())),
        }
    }
}

/// What the user chose in a native dialog.
#[derive(Clone, Debug, PartialEq)]
pub enum Picked {
    /// One or two snapshots, or a findings file, to open.
    Files(Vec<PathBuf>),
    /// The file of one drop zone of the start screen.
    For(Side, PathBuf),
    /// Where to save a report.
    SaveTo(SaveKind, PathBuf),
}

/// The "open" dialog. Blocks its (task) thread until the user answers.
pub fn pick_files() -> Outcome {
    let files = rfd::FileDialog::new()
        .set_title("Open one or two heap snapshots, or a findings file")
        .add_filter("Heap snapshots", &["heapsnapshot", "gz"])
        .add_filter("Findings (.heapdiff.json)", &["json"])
        .pick_files();
    files.map_or(Outcome::Nothing, |f| Outcome::Picked(Picked::Files(f)))
}

/// The "open" dialog of one drop zone.
pub fn pick_for(side: Side) -> Outcome {
    let file = rfd::FileDialog::new()
        .set_title(format!("Open the {} snapshot", side.label()))
        .add_filter("Heap snapshots", &["heapsnapshot", "gz"])
        .pick_file();
    file.map_or(Outcome::Nothing, |f| Outcome::Picked(Picked::For(side, f)))
}

/// The "save" dialog of a report.
pub fn pick_save(kind: SaveKind) -> Outcome {
    let (name, extension) = match kind {
        SaveKind::Html => ("heapdiff-report.html", "html"),
        SaveKind::Findings => ("findings.heapdiff.json", "json"),
    };
    let file = rfd::FileDialog::new()
        .set_file_name(name)
        .add_filter(extension, &[extension])
        .save_file();
    file.map_or(Outcome::Nothing, |f| {
        Outcome::Picked(Picked::SaveTo(kind, f))
    })
}

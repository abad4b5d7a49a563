//! What background tasks answer ([`Outcome`]), kept apart from what the user asks
//! ([`super::Command`]), and how the window takes each answer in.

use std::sync::Arc;
use std::time::Duration;

use crate::pipeline::Side;

use super::capture_tasks::CaptureOutcome;
use super::model::{BeforeState, Content, LoadedFile, NodeGroups, ObjectList};
use super::paths_view::MergedPaths;
use super::retainer_tree::{Listed, RetainerTree, TreePane};
use super::share::Picked;
use super::tasks::{Finished, TaskError, TaskName};
use super::{Command, HeapdiffApp};

pub enum Outcome {
    /// A file, a pair or a findings file, ready to show.
    Loaded(Content),
    /// BEFORE of the open pair analysed, its deleted objects by retained size, and the leak
    /// groups' holders with their retained size before.
    BeforeAnalysed {
        before: Arc<LoadedFile>,
        deleted: Arc<NodeGroups>,
        holders: Vec<Option<crate::report::Holder>>,
    },
    MergedPaths(MergedPaths),
    Tree(Box<RetainerTree>),
    /// The retainers of one row of a tree.
    Listed {
        tree: u64,
        row: usize,
        listed: Listed,
    },
    Markdown(String),
    /// A report was written: the status line says where.
    Saved(String),
    Picked(Picked),
    /// What the capture panel's work answers.
    Capture(CaptureOutcome),
    /// Nothing to show (a dialog dismissed, work that saw its cancel flag).
    Nothing,
    /// An error naming the file.
    Failed(String),
}

impl HeapdiffApp {
    /// Takes in one finished task.
    pub(super) fn apply(&mut self, finished: Finished<Outcome>) {
        let Finished {
            name,
            elapsed,
            result,
            ..
        } = finished;
        match result {
            Ok(Outcome::Failed(message))
            | Err(TaskError::Panicked(message) | TaskError::Spawn(message)) => {
                self.stopped(name, Some(&message));
                self.error = Some(message);
            }
            Err(TaskError::Cancelled) => self.stopped(name, None),
            Ok(outcome) => self.arrived(elapsed, outcome),
        }
    }

    /// A task ended without an answer (`error` says why when it failed): what waited for it
    /// stops waiting.
    fn stopped(&mut self, name: TaskName, error: Option<&str>) {
        match name {
            TaskName::Load if error.is_none() => self.status = Some("Loading cancelled".into()),
            TaskName::AnalyseBefore => {
                if let Content::Pair(pair) = &mut self.content {
                    pair.before_state = match error {
                        Some(e) => BeforeState::Failed(e.to_string()),
                        None => BeforeState::Cancelled,
                    };
                }
                if error.is_none() {
                    self.status = Some(
                        "Analysis of before cancelled: deleted objects are listed by shallow \
                         size, without retainers"
                            .into(),
                    );
                }
            }
            TaskName::MergedPaths => self.selection.merged = None,
            TaskName::RetainerTree => self.selection.tree = TreePane::Empty,
            TaskName::ExpandRow { tree, row } => {
                if let Some(t) = self.selection.tree.tree_mut()
                    && t.id == tree
                {
                    t.listing_failed(row);
                }
            }
            TaskName::Capture(task) => self.capture_stopped(task, error),
            TaskName::Load | TaskName::Markdown | TaskName::Save(_) | TaskName::Dialog => {}
        }
    }

    fn arrived(&mut self, elapsed: Duration, outcome: Outcome) {
        let seconds = elapsed.as_secs_f32();
        match outcome {
            Outcome::Loaded(content) => {
                self.status = Some(match &content {
                    Content::Start => String::new(),
                    Content::Single(summary) => {
                        format!("Loaded {} in {seconds:.1} s", summary.file.file_name())
                    }
                    Content::Pair(pair) => format!(
                        "Compared {} and {} in {seconds:.1} s",
                        pair.before.file_name(),
                        pair.after.file_name()
                    ),
                    Content::Findings(view) => format!(
                        "Reopened {} (a comparison of {} and {}, without the snapshots)",
                        view.file_name(),
                        view.findings.before.file,
                        view.findings.after.file
                    ),
                });
                self.set_content(content);
                self.analyse_before();
            }
            Outcome::BeforeAnalysed {
                before,
                deleted,
                holders,
            } => {
                let Content::Pair(pair) = &mut self.content else {
                    return;
                };
                pair.before_analysed(before, deleted);
                pair.leaks.set_holders(holders);
                self.status = Some(format!(
                    "Analysed {} in {seconds:.1} s: deleted objects have their retainers",
                    pair.before.file_name()
                ));
                // The deleted lists are re-sorted; the selection keeps its class and object, and
                // a deleted object's tree can be built now.
                let row = self.selection.class.as_deref().and_then(|k| pair.row_of(k));
                if let Some(row) = row {
                    self.selection.instances.deleted =
                        ObjectList::new(Side::Before, pair.deleted.clone(), row);
                }
                if let Some((Side::Before, node)) = self.selection.object {
                    self.select_object(Side::Before, node);
                }
            }
            Outcome::MergedPaths(merged) => {
                if self
                    .selection
                    .merged
                    .as_ref()
                    .is_some_and(|m| m.class_key == merged.class_key)
                {
                    self.selection.merged = Some(merged);
                }
            }
            Outcome::Tree(tree) => {
                if self.selection.object == Some((tree.side, tree.node)) {
                    self.selection.tree = TreePane::Ready(*tree);
                }
            }
            Outcome::Listed { tree, row, listed } => {
                if let Some(t) = self.selection.tree.tree_mut()
                    && t.id == tree
                {
                    t.listed(row, listed);
                }
            }
            Outcome::Markdown(markdown) => {
                self.ctx.copy_text(markdown.clone());
                self.last_markdown = Some(markdown);
                self.status = Some("Markdown summary copied to the clipboard".into());
            }
            Outcome::Saved(status) => self.status = Some(status),
            Outcome::Picked(Picked::Files(files)) => self.handle_command(Command::OpenFiles(files)),
            Outcome::Picked(Picked::For(side, path)) => self.set_pending(side, path),
            Outcome::Picked(Picked::SaveTo(kind, path)) => {
                self.handle_command(Command::SaveTo(kind, path))
            }
            Outcome::Capture(outcome) => self.capture_arrived(outcome),
            Outcome::Nothing | Outcome::Failed(_) => {}
        }
    }

    /// A drop zone of the start screen got its file; a full pair starts loading.
    fn set_pending(&mut self, side: Side, path: std::path::PathBuf) {
        match side {
            Side::Before => self.pending.before = Some(path),
            Side::After | Side::Final => self.pending.after = Some(path),
        }
        if let (Some(before), Some(after)) = (&self.pending.before, &self.pending.after) {
            let command = Command::OpenPair {
                before: before.clone(),
                after: after.clone(),
                final_: None,
            };
            self.pending = Default::default();
            self.handle_command(command);
        }
    }
}

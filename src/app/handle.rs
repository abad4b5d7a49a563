//! [`HeapdiffApp::handle_command`]: every user intent applied in one place. Anything heavier
//! than a lookup starts a background task ([`super::tasks`]); its answer comes back as an
//! [`super::outcome::Outcome`].

use std::path::PathBuf;

use eframe::egui;

use crate::diff;
use crate::format::file_label;
use crate::pipeline::Side;
use crate::task::Hooks;

use super::command::{Command, SaveKind};
use super::load::{self, Request};
use super::model::{BeforeState, Content, ObjectList};
use super::open;
use super::outcome::Outcome;
use super::paths_view::{self, MAX_MERGED_PATHS, MergedPaths};
use super::retainer_tree::{RetainerTree, TreePane};
use super::selection::{Instances, Selection};
use super::settings::{Tab, Theme};
use super::share::{self, ShareSource};
use super::tasks::{SpawnError, TaskContext, TaskName};
use super::{HeapdiffApp, ScreenshotView};

impl HeapdiffApp {
    /// Applies one command.
    pub fn handle_command(&mut self, command: Command) {
        match command {
            Command::OpenDialog => {
                self.spawn(TaskName::Dialog, vec![], |_| share::pick_files());
            }
            Command::PickFor(side) => {
                self.spawn(TaskName::Dialog, vec![], move |_| share::pick_for(side));
            }
            Command::OpenFiles(paths) => self.open_files(paths),
            Command::OpenPair {
                before,
                after,
                final_,
            } => self.start(Request::Pair {
                before,
                after,
                final_,
            }),
            Command::Close => {
                self.tasks.discard(|n| n == TaskName::Load);
                self.pending = Default::default();
                self.last_request = None;
                self.status = None;
                self.set_content(Content::Start);
            }
            Command::SwapBeforeAfter => {
                if let Some(Request::Pair {
                    before,
                    after,
                    final_,
                }) = self.last_request.clone()
                {
                    self.start(Request::Pair {
                        before: after,
                        after: before,
                        final_,
                    });
                }
            }
            Command::Cancel => {
                if self.tasks.is_running(TaskName::Load) {
                    self.tasks.cancel(TaskName::Load);
                } else {
                    self.tasks.cancel(TaskName::AnalyseBefore);
                }
            }
            Command::FocusFilter => {
                self.tab = Tab::Table;
                self.focus_filter = true;
            }
            Command::ExportMarkdown => self.share(TaskName::Markdown, ShareSource::markdown),
            Command::SaveHtml | Command::SaveFindings => {
                let kind = if command == Command::SaveHtml {
                    SaveKind::Html
                } else {
                    SaveKind::Findings
                };
                if self.comparing() {
                    self.spawn(TaskName::Dialog, vec![], move |_| share::pick_save(kind));
                } else {
                    self.status = Some("Open two snapshots to share a comparison".into());
                }
            }
            Command::SaveTo(kind, path) => {
                self.share(TaskName::Save(kind), move |source| source.save(kind, path));
            }
            Command::SortBy(column) => {
                let sort = if self.comparing() {
                    &mut self.settings.comparison_sort
                } else {
                    &mut self.settings.summary_sort
                };
                if sort.column == column {
                    sort.descending = !sort.descending;
                } else {
                    sort.column = column;
                    sort.descending = column.descending_first();
                }
                self.visible.refresh(&self.content, &self.settings);
            }
            Command::SetFilter(filter) => {
                self.settings.filter = filter;
                self.visible.refresh(&self.content, &self.settings);
            }
            Command::ToggleInternals => {
                self.settings.hide_internals = !self.settings.hide_internals;
                self.visible.refresh(&self.content, &self.settings);
            }
            Command::ToggleSuspectsFirst => {
                self.settings.suspects_first = !self.settings.suspects_first;
                self.visible.refresh(&self.content, &self.settings);
            }
            Command::ToggleWeakEdges => {
                self.settings.show_weak = !self.settings.show_weak;
                if let Some((side, node)) = self.selection.object {
                    self.select_object(side, node);
                }
            }
            Command::SelectClass(key) => self.select_class(key),
            Command::SelectObject(side, node) => self.select_object(side, node),
            Command::ToggleRetainerRow(row) => self.toggle_row(row),
            Command::SelectLeak(i) => self.select_leak(i),
            Command::ShowClass(key) => self.show_class(key),
            Command::SetTab(tab) => self.tab = tab,
            Command::SetTheme(theme) => self.apply_theme(theme),
            Command::ToggleTheme => self.apply_theme(if self.ctx.theme() == egui::Theme::Dark {
                Theme::Light
            } else {
                Theme::Dark
            }),
            Command::ClearRecent => self.settings.recent.clear(),
            Command::DismissError => self.error = None,
            Command::Capture(command) => self.handle_capture(command),
        }
    }

    /// Starts a task; a refusal or a thread that cannot start is shown. Whether it started.
    pub(super) fn spawn(
        &mut self,
        name: TaskName,
        lines: Vec<String>,
        work: impl FnOnce(&TaskContext) -> Outcome + Send + 'static,
    ) -> bool {
        self.spawn_labelled(name, name.label().to_string(), lines, work)
    }

    pub(super) fn spawn_labelled(
        &mut self,
        name: TaskName,
        label: String,
        lines: Vec<String>,
        work: impl FnOnce(&TaskContext) -> Outcome + Send + 'static,
    ) -> bool {
        match self.tasks.spawn(name, label, lines, work) {
            Ok(_) => true,
            Err(SpawnError::Busy(label)) => {
                self.status = Some(format!("Still {label}…"));
                false
            }
            Err(e @ SpawnError::Thread(_)) => {
                self.error = Some(e.to_string());
                false
            }
        }
    }

    /// Loads what `request` names; a running load is cancelled and replaced.
    pub(super) fn start(&mut self, request: Request) {
        match &request {
            Request::Single(p) => self.settings.remember(p),
            Request::Pair { before, after, .. } => {
                self.settings.remember(before);
                self.settings.remember(after);
            }
        }
        self.error = None;
        self.status = None;
        self.last_request = Some(request.clone());
        // The open pair's BEFORE analysis would compete with the new load for cores and memory.
        self.stop_before_analysis();
        let label = format!("loading {}", request.label());
        self.spawn_labelled(TaskName::Load, label, request.lines(), move |ctx| {
            request.run(ctx)
        });
    }

    /// Once a Comparison is on screen: BEFORE loaded again and analysed, for the retainers of
    /// deleted objects.
    pub(super) fn analyse_before(&mut self) {
        let Content::Pair(pair) = &self.content else {
            return;
        };
        let (path, after, comparison) = (
            pair.before.path.clone(),
            pair.after.clone(),
            pair.comparison.clone(),
        );
        let lines = vec![format!("{}: {}", Side::Before.label(), file_label(&path))];
        let started = self.spawn(TaskName::AnalyseBefore, lines, move |ctx| {
            load::analyse_before(&path, &after, &comparison, ctx)
        });
        if !started && let Content::Pair(pair) = &mut self.content {
            pair.before_state = BeforeState::Failed("its task could not start".into());
        }
    }

    fn stop_before_analysis(&mut self) {
        self.tasks.discard(|n| n == TaskName::AnalyseBefore);
        if let Content::Pair(pair) = &mut self.content
            && pair.before_state == BeforeState::Analysing
        {
            pair.before_state = BeforeState::Cancelled;
        }
    }

    /// Builds the report model on a task and runs `then` on it.
    fn share(
        &mut self,
        name: TaskName,
        then: impl FnOnce(ShareSource) -> Outcome + Send + 'static,
    ) {
        let Some(source) = ShareSource::of(&self.content) else {
            self.status = Some("Open two snapshots to share a comparison".into());
            return;
        };
        if self.spawn(name, vec![], move |_| then(source)) {
            self.status = Some("Preparing the report…".into());
        }
    }

    /// Applies a theme at once (the next frame's root `Ui` is styled before `ui` runs).
    fn apply_theme(&mut self, theme: Theme) {
        self.settings.theme = theme;
        self.ctx.set_theme(theme.preference());
        self.applied_theme = Some(theme);
    }

    fn open_files(&mut self, mut paths: Vec<PathBuf>) {
        match paths.len() {
            0 => {}
            // A snapshot or a findings file: the task tells them apart.
            1 => self.start(Request::Single(paths.remove(0))),
            2 => {
                let b = paths.remove(1);
                let a = paths.remove(0);
                let (before, after) = open::order_pair(a, b);
                self.start(Request::Pair {
                    before,
                    after,
                    final_: None,
                });
            }
            3 => {
                let final_ = paths.pop();
                let after = paths.pop();
                let before = paths.pop();
                if let (Some(before), Some(after)) = (before, after) {
                    self.start(Request::Pair {
                        before,
                        after,
                        final_,
                    });
                }
            }
            n => {
                self.error = Some(format!(
                    "{n} files given: open one snapshot, two to compare, or three (before, after, final)"
                ))
            }
        }
    }

    /// Shows new content; the tasks that worked on the old one are dropped.
    pub(super) fn set_content(&mut self, content: Content) {
        self.tasks.discard(|n| {
            matches!(
                n,
                TaskName::AnalyseBefore
                    | TaskName::MergedPaths
                    | TaskName::RetainerTree
                    | TaskName::ExpandRow { .. }
            )
        });
        self.content = content;
        self.selection = Selection::default();
        self.visible.refresh(&self.content, &self.settings);
        // A comparison opens on its leaks (the screenshots of the other views on theirs).
        let comparing = self.content.leaks().is_some();
        self.tab = match self.screenshot {
            Some(ScreenshotView::Charts) => Tab::Charts,
            Some(ScreenshotView::Comparison | ScreenshotView::Retainers) => Tab::Table,
            _ if comparing => Tab::Leaks,
            _ if self.tab == Tab::Leaks => Tab::Table,
            _ => self.tab,
        };
        // The first row (the top suspect in a Comparison) is selected, so the retainers of
        // what grew most are on screen at once.
        if let Some(first) = self.first_row_key() {
            self.select_class(first);
        }
        // And the likeliest leak, with its largest object's retainers.
        let likely = self
            .content
            .leaks()
            .is_some_and(|l| l.leaks.first().is_some_and(|g| g.likely));
        if self.tab == Tab::Leaks && likely {
            self.select_leak(0);
        }
    }

    fn first_row_key(&self) -> Option<String> {
        let &first = self.visible.rows.first()?;
        if let Some(rows) = self.content.compare_rows() {
            return rows.get(first as usize).map(|r| r.class.class_key.clone());
        }
        let summary = self.content.summary()?;
        summary
            .rows
            .get(first as usize)
            .map(|r| r.class_key.clone())
    }

    /// O(1) on the UI thread: the objects of every class were grouped on a worker, and merged
    /// paths not in the diff are grouped by a task (the previous class's task is cancelled).
    pub(super) fn select_class(&mut self, key: String) {
        self.tasks.discard(|n| n == TaskName::MergedPaths);
        let mut merged = None;
        let mut paths_task = None;
        let instances = match &self.content {
            Content::Start => Instances::default(),
            Content::Pair(pair) => match pair.row_of(&key) {
                Some(row) => {
                    let suspect = pair.comparison.suspects.iter().find(|s| s.row == row);
                    let added = pair
                        .comparison
                        .classes
                        .get(row)
                        .map_or(&[][..], |c| &c.added);
                    merged = Some(match suspect {
                        Some(s) => paths_view::live(key.clone(), &s.paths, &pair.after.loaded),
                        None if added.is_empty() => {
                            paths_view::live(key.clone(), &[], &pair.after.loaded)
                        }
                        None => {
                            paths_task = Some((pair.after.clone(), pair.comparison.clone(), row));
                            MergedPaths {
                                class_key: key.clone(),
                                paths: None,
                                examples: Vec::new(),
                                live: true,
                            }
                        }
                    });
                    Instances {
                        class_key: key.clone(),
                        new: ObjectList::new(Side::After, pair.added.clone(), row),
                        deleted: ObjectList::new(Side::Before, pair.deleted.clone(), row),
                    }
                }
                None => Instances {
                    class_key: key.clone(),
                    new: pair
                        .after_summary
                        .as_ref()
                        .map_or_else(Default::default, |s| s.objects_of(&key)),
                    deleted: Default::default(),
                },
            },
            Content::Single(summary) => Instances {
                class_key: key.clone(),
                new: summary.objects_of(&key),
                deleted: Default::default(),
            },
            Content::Findings(view) => {
                merged = Some(MergedPaths {
                    class_key: key.clone(),
                    paths: Some(
                        view.suspect(&key)
                            .map_or_else(Vec::new, |s| s.paths.clone()),
                    ),
                    examples: Vec::new(),
                    live: false,
                });
                Instances {
                    class_key: key.clone(),
                    ..Default::default()
                }
            }
        };
        if let Some((after, comparison, row)) = paths_task {
            let class_key = key.clone();
            let started = self.spawn(TaskName::MergedPaths, vec![], move |ctx| {
                let hooks = Hooks {
                    progress: None,
                    cancel: Some(ctx.cancel_flag()),
                };
                let nodes = comparison.classes.get(row).map_or(&[][..], |c| &c.added);
                match diff::merged_paths(&after.loaded, nodes, &hooks) {
                    Some(mut paths) => {
                        paths.truncate(MAX_MERGED_PATHS);
                        Outcome::MergedPaths(paths_view::live(class_key, &paths, &after.loaded))
                    }
                    None => Outcome::Nothing,
                }
            });
            if !started {
                merged = None;
            }
        }
        self.selection.merged = merged;
        self.selection.instances = instances;
        self.selection.source = self.class_source(&key);
        self.selection.class = Some(key);
        self.selection.object = None;
        self.selection.tree = TreePane::Empty;
        self.tasks
            .discard(|n| matches!(n, TaskName::RetainerTree | TaskName::ExpandRow { .. }));
        if let Some((side, node)) = self.selection.instances.get(0) {
            self.select_object(side, node);
        }
    }

    /// The object's retainer tree is built by a task (a deleted object's waits for BEFORE's
    /// analysis).
    pub(super) fn select_object(&mut self, side: Side, node: u32) {
        self.tasks
            .discard(|n| matches!(n, TaskName::RetainerTree | TaskName::ExpandRow { .. }));
        self.selection.object = Some((side, node));
        if let Some(source) = self.object_source(side, node) {
            self.selection.source = Some(source);
        }
        let Some(file) = self.content.file(side).cloned() else {
            self.selection.tree = TreePane::Empty;
            return;
        };
        if let Content::Pair(pair) = &self.content
            && side == Side::Before
            && pair.before_state != BeforeState::Analysed
        {
            self.selection.tree = TreePane::WaitingForBefore { node };
            return;
        }
        self.selection.tree = TreePane::Building { side, node };
        self.next_tree_id += 1;
        let (id, show_weak) = (self.next_tree_id, self.settings.show_weak);
        let started = self.spawn(TaskName::RetainerTree, vec![], move |ctx| {
            RetainerTree::build(id, side, file, node, show_weak, &|| ctx.is_cancelled())
                .map_or(Outcome::Nothing, |tree| Outcome::Tree(Box::new(tree)))
        });
        if !started {
            self.selection.tree = TreePane::Empty;
        }
    }

    /// Collapses or re-opens a row at once; a row never opened is listed by a task.
    fn toggle_row(&mut self, row: usize) {
        let Some(listing) = self
            .selection
            .tree
            .tree_mut()
            .and_then(|tree| tree.toggle(row))
        else {
            return;
        };
        let (tree, row) = (listing.tree, listing.row);
        let started = self.spawn(TaskName::ExpandRow { tree, row }, vec![], move |_| {
            Outcome::Listed {
                tree,
                row,
                listed: listing.run(),
            }
        });
        if !started && let Some(t) = self.selection.tree.tree_mut() {
            t.listing_failed(row);
        }
    }
}

//! The desktop window (eframe). Views are functions over the state that push [`Command`]s;
//! [`HeapdiffApp::handle_command`] applies them. Loading and analysis run on worker threads
//! ([`jobs`]); the UI thread only formats the rows on screen.

use eframe::egui;
pub mod charts;
pub mod class_table;
pub mod command;
pub mod instances;
pub mod jobs;
pub mod open;
pub mod progress;
pub mod retainer_tree;
pub mod state;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};

use egui::{Color32, RichText};

pub use command::Command;
use command::SaveKind;
use jobs::{Job, Outcome, Request};
use open::Pending;
use retainer_tree::{MergedPaths, RetainerTree};
use state::{Content, FindingsView, Instances, LoadedFile, Settings, Side, Tab, VisibleRows};

const ICON: &[u8] = include_bytes!("../../assets/icon.png");
const SETTINGS_KEY: &str = "heapdiff-settings";
/// Merged paths listed for a class.
const MAX_MERGED_PATHS: usize = 10;

/// The environment variable that starts the window in a given view for `screenshots/app.sh`
/// (`start`, `comparison`, `retainers`, `charts`). Not a user feature: it pins the window size,
/// ignores saved settings and prints [`SCREENSHOT_READY`] to stderr once the view is drawn.
pub const SCREENSHOT_VIEW_ENV: &str = "HEAPDIFF_SCREENSHOT_VIEW";
pub const SCREENSHOT_READY: &str = "heapdiff: screenshot view ready";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScreenshotView {
    Start,
    Comparison,
    Retainers,
    Charts,
}

impl ScreenshotView {
    pub fn from_env() -> Option<ScreenshotView> {
        match std::env::var(SCREENSHOT_VIEW_ENV).ok()?.as_str() {
            "start" => Some(ScreenshotView::Start),
            "comparison" => Some(ScreenshotView::Comparison),
            "retainers" => Some(ScreenshotView::Retainers),
            "charts" => Some(ScreenshotView::Charts),
            _ => None,
        }
    }
}

/// What the command line asks the window to open.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartupOptions {
    pub before: Option<PathBuf>,
    pub after: Option<PathBuf>,
    pub final_: Option<PathBuf>,
    /// See [`SCREENSHOT_VIEW_ENV`].
    pub screenshot: Option<ScreenshotView>,
}

impl StartupOptions {
    /// `heapdiff FILE` (Summary) or `heapdiff BEFORE AFTER [--final F]`.
    pub fn from_files(files: Vec<PathBuf>, final_: Option<PathBuf>) -> StartupOptions {
        let mut files = files.into_iter();
        let first = files.next();
        match files.next() {
            Some(after) => StartupOptions {
                before: first,
                after: Some(after),
                final_,
                screenshot: None,
            },
            None => StartupOptions {
                before: None,
                after: first,
                final_,
                screenshot: None,
            },
        }
    }

    fn request(&self) -> Option<Request> {
        let options = self.clone();
        match (options.before, options.after) {
            (Some(before), Some(after)) => Some(Request::Pair {
                before,
                after,
                final_: options.final_,
            }),
            (Some(one), None) | (None, Some(one)) => Some(Request::Single(one)),
            (None, None) => None,
        }
    }
}

/// Opens the window and runs until it is closed.
pub fn run(mut options: StartupOptions) -> eframe::Result {
    options.screenshot = options.screenshot.or_else(ScreenshotView::from_env);
    // Screenshots are taken on a 1280×800 Xvfb screen without a window manager.
    let size = if options.screenshot.is_some() {
        [1280.0, 800.0]
    } else {
        [1280.0, 820.0]
    };
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("heapdiff")
        .with_app_id("heapdiff")
        .with_inner_size(size)
        .with_min_inner_size([640.0, 400.0])
        .with_drag_and_drop(true);
    if let Ok(icon) = eframe::icon_data::from_png_bytes(ICON) {
        viewport = viewport.with_icon(icon);
    }
    let native = eframe::NativeOptions {
        viewport,
        persist_window: options.screenshot.is_none(),
        ..Default::default()
    };
    eframe::run_native(
        "heapdiff",
        native,
        Box::new(move |cc| Ok(Box::new(HeapdiffApp::new(cc, options)))),
    )
}

pub struct HeapdiffApp {
    pub settings: Settings,
    pub content: Content,
    pub visible: VisibleRows,
    pub selected_class: Option<String>,
    pub instances: Instances,
    pub selected_object: Option<(Side, u32)>,
    pub tree: Option<RetainerTree>,
    /// Merged retainer paths of the selected Comparison row's new objects.
    pub merged: Option<MergedPaths>,
    pub tab: Tab,
    pub job: Option<Job>,
    /// Shown in red until dismissed or the next success; names the file.
    pub error: Option<String>,
    pub status: Option<String>,
    /// The last Markdown summary copied to the clipboard.
    pub last_markdown: Option<String>,
    pub pending: Pending,
    last_request: Option<Request>,
    ctx: egui::Context,
    /// Commands from dialog threads.
    tx: Sender<Command>,
    rx: Receiver<Command>,
    focus_filter: bool,
    applied_theme: Option<state::Theme>,
    /// Share jobs (report rendering, file writes) running on threads.
    sharing: usize,
    screenshot: Option<ScreenshotView>,
    /// Frames drawn since the screenshot view became ready (`usize::MAX` once announced).
    screenshot_frames: usize,
}

impl HeapdiffApp {
    /// The one entry point of the window and of the UI tests: restores the settings and starts
    /// loading what `options` names.
    pub fn new(cc: &eframe::CreationContext<'_>, options: StartupOptions) -> HeapdiffApp {
        let settings = cc
            .storage
            .filter(|_| options.screenshot.is_none())
            .and_then(|s| eframe::get_value::<Settings>(s, SETTINGS_KEY))
            .unwrap_or_default();
        HeapdiffApp::with_context(cc.egui_ctx.clone(), settings, options)
    }

    /// Same as [`HeapdiffApp::new`] without eframe's creation context (fresh settings).
    pub fn with_context(
        ctx: egui::Context,
        settings: Settings,
        options: StartupOptions,
    ) -> HeapdiffApp {
        let (tx, rx) = mpsc::channel();
        let mut app = HeapdiffApp {
            settings,
            content: Content::Start,
            visible: VisibleRows::default(),
            selected_class: None,
            instances: Instances::default(),
            selected_object: None,
            tree: None,
            merged: None,
            tab: Tab::Table,
            job: None,
            error: None,
            status: None,
            last_markdown: None,
            pending: Pending::default(),
            last_request: None,
            ctx,
            tx,
            rx,
            focus_filter: false,
            applied_theme: None,
            sharing: 0,
            screenshot: options.screenshot,
            screenshot_frames: 0,
        };
        if let Some(request) = options.request() {
            app.start(request);
        }
        app
    }

    pub fn is_loading(&self) -> bool {
        self.job.is_some()
    }

    /// Whether any worker (loading, merged paths, sharing) has an answer still to come.
    pub fn is_busy(&self) -> bool {
        self.job.is_some()
            || self.sharing > 0
            || self.merged.as_ref().is_some_and(|m| m.paths.is_none())
    }

    /// Class names of the table rows in display order.
    pub fn table_names(&self) -> Vec<String> {
        if let Some(rows) = self.content.compare_rows() {
            return self
                .visible
                .rows
                .iter()
                .filter_map(|&i| rows.get(i as usize).map(|r| r.name.clone()))
                .collect();
        }
        match &self.content {
            Content::Start | Content::Findings(_) => Vec::new(),
            Content::Single(file) => self
                .visible
                .rows
                .iter()
                .filter_map(|&i| file.summary.get(i as usize).map(|r| r.name.clone()))
                .collect(),
            Content::Pair(pair) => self
                .visible
                .rows
                .iter()
                .filter_map(|&i| pair.after.summary.get(i as usize).map(|r| r.name.clone()))
                .collect(),
        }
    }

    fn file(&self, side: Side) -> Option<Arc<LoadedFile>> {
        match (&self.content, side) {
            (Content::Single(file), _) => Some(file.clone()),
            (Content::Pair(pair), Side::Before) => Some(pair.before.clone()),
            (Content::Pair(pair), Side::After) => Some(pair.after.clone()),
            (Content::Pair(pair), Side::Final) => pair.final_.clone(),
            (Content::Start | Content::Findings(_), _) => None,
        }
    }

    /// Whether a comparison (live or reopened from a findings file) is open.
    fn comparing(&self) -> bool {
        self.content.compare_rows().is_some()
    }

    fn start(&mut self, request: Request) {
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
        // Replacing a running job drops it, which cancels its worker.
        self.job = Some(Job::spawn(request, self.ctx.clone()));
    }

    fn finish(&mut self, outcome: Outcome) {
        let elapsed = self
            .job
            .as_ref()
            .map_or(0.0, |j| j.started.elapsed().as_secs_f32());
        self.job = None;
        match outcome {
            Outcome::Single(file) => {
                self.status = Some(format!("Loaded {} in {elapsed:.1} s", file.file_name()));
                self.set_content(Content::Single(file));
            }
            Outcome::Pair(pair) => {
                self.status = Some(format!(
                    "Loaded {} and {} in {elapsed:.1} s",
                    pair.before.file_name(),
                    pair.after.file_name()
                ));
                self.set_content(Content::Pair(pair));
            }
            Outcome::Findings(view) => {
                self.status = Some(format!(
                    "Reopened {} (a comparison of {} and {}, without the snapshots)",
                    view.file_name(),
                    view.findings.before.file,
                    view.findings.after.file
                ));
                self.set_content(Content::Findings(view));
            }
            Outcome::Failed(message) => self.error = Some(message),
            Outcome::Cancelled => self.status = Some("Loading cancelled".into()),
        }
    }

    fn set_content(&mut self, content: Content) {
        self.content = content;
        self.selected_class = None;
        self.selected_object = None;
        self.instances = Instances::default();
        self.tree = None;
        self.merged = None;
        self.visible.refresh(&self.content, &self.settings);
        if self.screenshot == Some(ScreenshotView::Charts) {
            self.tab = Tab::Charts;
        }
        // The first row (the top suspect in a Comparison) is selected, so the retainers of
        // what grew most are on screen at once.
        if let Some(first) = self.first_row_key() {
            self.handle_command(Command::SelectClass(first));
        }
    }

    fn first_row_key(&self) -> Option<String> {
        let &first = self.visible.rows.first()?;
        if let Some(rows) = self.content.compare_rows() {
            return rows.get(first as usize).map(|r| r.class_key.clone());
        }
        match &self.content {
            Content::Start | Content::Findings(_) => None,
            Content::Single(file) => file
                .summary
                .get(first as usize)
                .map(|r| r.class_key.clone()),
            Content::Pair(pair) => pair
                .after
                .summary
                .get(first as usize)
                .map(|r| r.class_key.clone()),
        }
    }

    /// Applies one command.
    pub fn handle_command(&mut self, command: Command) {
        match command.clone() {
            Command::OpenDialog => self.dialog(|| {
                rfd::FileDialog::new()
                    .set_title("Open one or two heap snapshots, or a findings file")
                    .add_filter("Heap snapshots", &["heapsnapshot", "gz"])
                    .add_filter("Findings (.heapdiff.json)", &["json"])
                    .pick_files()
                    .map(Command::OpenFiles)
            }),
            Command::PickFor(side) => self.dialog(move || {
                rfd::FileDialog::new()
                    .set_title(format!("Open the {} snapshot", side.label()))
                    .add_filter("Heap snapshots", &["heapsnapshot", "gz"])
                    .pick_file()
                    .map(|p| Command::SetPending(side, p))
            }),
            Command::SetPending(side, path) => {
                match side {
                    Side::Before => self.pending.before = Some(path),
                    _ => self.pending.after = Some(path),
                }
                if let (Some(before), Some(after)) = (&self.pending.before, &self.pending.after) {
                    let request = Request::Pair {
                        before: before.clone(),
                        after: after.clone(),
                        final_: None,
                    };
                    self.pending = Pending::default();
                    self.start(request);
                }
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
                self.job = None;
                self.pending = Pending::default();
                self.last_request = None;
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
                if let Some(job) = &self.job {
                    job.cancel();
                }
            }
            Command::FocusFilter => {
                self.tab = Tab::Table;
                self.focus_filter = true;
            }
            Command::ExportMarkdown => self.share(|findings| {
                Command::MarkdownReady(crate::report::markdown::render(&findings))
            }),
            Command::MarkdownReady(markdown) => {
                self.sharing = self.sharing.saturating_sub(1);
                self.ctx.copy_text(markdown.clone());
                self.last_markdown = Some(markdown);
                self.status = Some("Markdown summary copied to the clipboard".into());
            }
            Command::SaveHtml | Command::SaveFindings => {
                let (kind, name, extension) = if command == Command::SaveHtml {
                    (SaveKind::Html, "heapdiff-report.html", "html")
                } else {
                    (SaveKind::Findings, "findings.heapdiff.json", "json")
                };
                if self.comparing() {
                    self.dialog(move || {
                        rfd::FileDialog::new()
                            .set_file_name(name)
                            .add_filter(extension, &[extension])
                            .save_file()
                            .map(|p| Command::SaveTo(kind, p))
                    });
                } else {
                    self.status = Some("Open two snapshots to share a comparison".into());
                }
            }
            // The report is built, rendered and written on a thread: building it sums the
            // after heap, which is O(nodes).
            Command::SaveTo(kind, path) => self.share(move |findings| {
                let text = match kind {
                    SaveKind::Html => crate::report::html::render(&findings),
                    SaveKind::Findings => crate::report::findings::to_json(&findings),
                };
                Command::Shared(match std::fs::write(&path, text) {
                    Ok(()) => Ok(format!("Saved {}", path.display())),
                    Err(e) => Err(format!("{}: cannot save: {e}", path.display())),
                })
            }),
            Command::Shared(result) => {
                self.sharing = self.sharing.saturating_sub(1);
                match result {
                    Ok(status) => self.status = Some(status),
                    Err(error) => self.error = Some(error),
                }
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
                if let Some((side, node)) = self.selected_object {
                    self.handle_command(Command::SelectObject(side, node));
                }
            }
            Command::SelectClass(key) => self.select_class(key),
            Command::SelectObject(side, node) => {
                self.selected_object = Some((side, node));
                self.tree = self
                    .file(side)
                    .map(|file| RetainerTree::new(side, file, node, self.settings.show_weak));
            }
            Command::ToggleRetainerRow(row) => {
                if let Some(tree) = &mut self.tree {
                    tree.toggle(row);
                }
            }
            Command::SetTab(tab) => self.tab = tab,
            Command::SetTheme(theme) => self.apply_theme(theme),
            Command::ToggleTheme => self.apply_theme(if self.ctx.theme() == egui::Theme::Dark {
                state::Theme::Light
            } else {
                state::Theme::Dark
            }),
            Command::ClearRecent => self.settings.recent.clear(),
            Command::DismissError => self.error = None,
            Command::MergedPathsReady(key, paths) => {
                if let Some(merged) = &mut self.merged
                    && merged.class_key == key
                {
                    merged.paths = Some(paths);
                }
            }
        }
    }

    /// Applies a theme at once (the next frame's root `Ui` is styled before `ui` runs).
    fn apply_theme(&mut self, theme: state::Theme) {
        self.settings.theme = theme;
        self.ctx.set_theme(theme.preference());
        self.applied_theme = Some(theme);
    }

    fn open_files(&mut self, mut paths: Vec<PathBuf>) {
        match paths.len() {
            0 => {}
            1 => {
                // A snapshot or a findings file: the worker tells them apart.
                self.start(Request::Single(paths.remove(0)));
            }
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

    /// O(1) on the UI thread: the objects of every class were grouped on the worker.
    fn select_class(&mut self, key: String) {
        self.merged = None;
        self.instances = match &self.content {
            Content::Start => Instances::default(),
            Content::Single(file) => Instances {
                class_key: key.clone(),
                new: file.objects_of(&key, Side::After),
                deleted: Default::default(),
            },
            Content::Pair(pair) => match pair.row_of(&key) {
                Some(row) => {
                    self.merged = Some(self.merged_paths(pair, row));
                    Instances {
                        class_key: key.clone(),
                        new: state::ObjectList::new(Side::After, pair.added.clone(), row),
                        deleted: state::ObjectList::new(Side::Before, pair.deleted.clone(), row),
                    }
                }
                None => Instances {
                    class_key: key.clone(),
                    new: pair.after.objects_of(&key, Side::After),
                    deleted: Default::default(),
                },
            },
            Content::Findings(view) => {
                self.merged = Some(reopened_paths(view, &key));
                Instances {
                    class_key: key.clone(),
                    ..Default::default()
                }
            }
        };
        self.selected_class = Some(key);
        self.tree = None;
        self.selected_object = None;
        if let Some((side, node)) = self.instances.get(0) {
            self.handle_command(Command::SelectObject(side, node));
        }
    }

    /// The merged retainer paths of a row's new objects: the diff's own for a suspect,
    /// otherwise computed on a worker (it indexes the whole after snapshot).
    fn merged_paths(&self, pair: &state::Pair, row: usize) -> MergedPaths {
        let diff = &pair.comparison.classes[row];
        if let Some(suspect) = pair.comparison.suspects.iter().find(|s| s.row == row) {
            return MergedPaths {
                class_key: diff.class_key.clone(),
                paths: Some(suspect.paths.clone()),
                live: true,
            };
        }
        let (tx, ctx) = (self.tx.clone(), self.ctx.clone());
        let (after, nodes, key) = (
            pair.after.clone(),
            diff.added.clone(),
            diff.class_key.clone(),
        );
        let class_key = key.clone();
        let _ = std::thread::Builder::new()
            .name("heapdiff-paths".into())
            .spawn(move || {
                let paths = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let mut paths = crate::diff::merged_paths(&after.loaded, &nodes);
                    paths.truncate(MAX_MERGED_PATHS);
                    paths
                }))
                .unwrap_or_default();
                let _ = tx.send(Command::MergedPathsReady(key, paths));
                ctx.request_repaint();
            });
        MergedPaths {
            class_key,
            paths: None,
            live: true,
        }
    }

    /// What a report of the open comparison is built from, if one is open.
    fn share_source(&self) -> Option<ShareSource> {
        match &self.content {
            Content::Pair(pair) => Some(ShareSource::Live {
                comparison: pair.comparison.clone(),
                before: pair.before.clone(),
                after: pair.after.clone(),
                final_: pair.final_.clone(),
            }),
            Content::Findings(view) => Some(ShareSource::Reopened(view.findings.clone())),
            _ => None,
        }
    }

    /// Builds the report model on a thread (strings redacted, the CLI's default) and sends back
    /// the command `then` makes of it.
    fn share(&mut self, then: impl FnOnce(crate::report::Findings) -> Command + Send + 'static) {
        let Some(source) = self.share_source() else {
            self.status = Some("Open two snapshots to share a comparison".into());
            return;
        };
        let (tx, ctx) = (self.tx.clone(), self.ctx.clone());
        let spawned = std::thread::Builder::new()
            .name("heapdiff-share".into())
            .spawn(move || {
                let command = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    then(source.findings())
                }))
                .unwrap_or_else(|_| {
                    Command::Shared(Err("internal error while writing the report".into()))
                });
                let _ = tx.send(command);
                ctx.request_repaint();
            });
        match spawned {
            Ok(_) => {
                self.sharing += 1;
                self.status = Some("Preparing the report…".into());
            }
            Err(e) => self.error = Some(format!("cannot start a report thread: {e}")),
        }
    }

    /// Runs a native dialog on its own thread; its answer comes back as a command.
    fn dialog(&mut self, pick: impl FnOnce() -> Option<Command> + Send + 'static) {
        let tx = self.tx.clone();
        let ctx = self.ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("heapdiff-dialog".into())
            .spawn(move || {
                if let Some(command) = pick() {
                    let _ = tx.send(command);
                    ctx.request_repaint();
                }
            });
        if let Err(e) = spawned {
            self.error = Some(format!("cannot open a file dialog: {e}"));
        }
    }

    fn menu_bar(&self, ui: &mut egui::Ui, out: &mut Vec<Command>) {
        let loaded = !matches!(self.content, Content::Start);
        let pair = matches!(self.last_request, Some(Request::Pair { .. }));
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                Command::OpenDialog.menu_button(ui, true, out);
                Command::SwapBeforeAfter.menu_button(ui, pair && self.job.is_none(), out);
                Command::Close.menu_button(ui, loaded || self.job.is_some(), out);
                Command::Cancel.menu_button(ui, self.job.is_some(), out);
            });
            ui.menu_button("View", |ui| {
                Command::FocusFilter.menu_button(ui, loaded, out);
                ui.separator();
                for (theme, label) in [
                    (state::Theme::System, "System theme"),
                    (state::Theme::Dark, "Dark theme"),
                    (state::Theme::Light, "Light theme"),
                ] {
                    if ui.radio(self.settings.theme == theme, label).clicked() {
                        out.push(Command::SetTheme(theme));
                    }
                }
            });
            ui.menu_button("Share", |ui| {
                Command::ExportMarkdown.menu_button(ui, self.comparing(), out);
                Command::SaveHtml.menu_button(ui, self.comparing(), out);
                Command::SaveFindings.menu_button(ui, self.comparing(), out);
            });
            if pair && self.job.is_none() && ui.button("Swap before/after").clicked() {
                out.push(Command::SwapBeforeAfter);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let dark = ui.visuals().dark_mode;
                let label = if dark { "Light mode" } else { "Dark mode" };
                if ui
                    .button(label)
                    .on_hover_text(Command::ToggleTheme.tooltip())
                    .clicked()
                {
                    out.push(Command::ToggleTheme);
                }
            });
        });
    }

    fn status_bar(&self, ui: &mut egui::Ui, out: &mut Vec<Command>) {
        ui.horizontal(|ui| {
            if let Some(error) = &self.error {
                ui.colored_label(
                    Color32::from_rgb(230, 70, 60),
                    RichText::new(error).strong(),
                );
                if ui.small_button(Command::DismissError.label()).clicked() {
                    out.push(Command::DismissError);
                }
            } else if let Some(status) = &self.status {
                ui.label(status);
            } else {
                ui.weak("Ready");
            }
        });
    }

    fn content_view(&mut self, ui: &mut egui::Ui, out: &mut Vec<Command>) {
        let title = match &self.content {
            Content::Start => return,
            Content::Single(file) => format!("Summary of {}", file.file_name()),
            Content::Pair(pair) => format!(
                "Comparison: {} vs {}",
                pair.before.file_name(),
                pair.after.file_name()
            ),
            Content::Findings(view) => format!(
                "Comparison: {} vs {} (from {})",
                view.findings.before.file,
                view.findings.after.file,
                view.file_name()
            ),
        };
        ui.horizontal(|ui| {
            ui.strong(title);
            ui.separator();
            for (tab, label) in [(Tab::Table, "Classes"), (Tab::Charts, "Charts")] {
                if ui.selectable_label(self.tab == tab, label).clicked() {
                    out.push(Command::SetTab(tab));
                }
            }
        });
        if let Content::Pair(pair) = &self.content
            && pair.rows.is_empty()
        {
            ui.weak("Nothing was allocated or freed between the two snapshots.");
        }
        if self.tab == Tab::Charts {
            match &self.content {
                Content::Single(file) => charts::summary(ui, &file.charts),
                Content::Pair(pair) if pair.rows.is_empty() => {
                    charts::summary(ui, &pair.after.charts)
                }
                Content::Pair(pair) => charts::comparison(ui, &pair.charts),
                Content::Findings(view) => charts::comparison(ui, &view.charts),
                Content::Start => {}
            }
            return;
        }
        class_table::toolbar(
            ui,
            &self.settings.filter,
            self.settings.hide_internals,
            self.comparing().then_some(self.settings.suspects_first),
            std::mem::take(&mut self.focus_filter),
            out,
        );
        // The retainers screenshot gives the details most of the window.
        let details = if self.screenshot == Some(ScreenshotView::Retainers) {
            0.68
        } else {
            0.5
        };
        egui::Panel::bottom("details")
            .resizable(true)
            .default_size(ui.available_height() * details)
            .show(ui, |ui| {
                egui::Panel::left("instances")
                    .resizable(true)
                    .default_size(ui.available_width() * 0.42)
                    .show(ui, |ui| {
                        if let Content::Findings(view) = &self.content {
                            ui.weak(format!(
                                "This comparison was reopened from {} without the snapshots. \
                                 Objects and live retainer trees need them: open {} and {}.",
                                view.file_name(),
                                view.findings.before.file,
                                view.findings.after.file
                            ));
                        } else if self.selected_class.is_some() {
                            let file_of = |side: Side| self.file(side);
                            instances::show(
                                ui,
                                &self.instances,
                                &file_of,
                                self.selected_object,
                                out,
                            );
                        } else {
                            ui.weak("Select a class to list its objects.");
                        }
                    });
                if let Some(merged) = &self.merged {
                    retainer_tree::merged_paths(ui, merged, out);
                }
                match &self.tree {
                    Some(tree) => retainer_tree::show(ui, tree, out),
                    None if matches!(self.content, Content::Findings(_)) => {}
                    None => {
                        ui.weak("Select an object to see what keeps it alive.");
                    }
                }
            });
        let selected = self.selected_class.as_deref();
        match &self.content {
            Content::Single(file) => class_table::summary(
                ui,
                &file.summary,
                &self.visible,
                self.settings.summary_sort,
                selected,
                out,
            ),
            Content::Pair(_) | Content::Findings(_) if self.comparing() => class_table::comparison(
                ui,
                self.content.compare_rows().unwrap_or_default(),
                &self.visible,
                self.settings.comparison_sort,
                selected,
                out,
            ),
            Content::Pair(pair) => class_table::summary(
                ui,
                &pair.after.summary,
                &self.visible,
                self.settings.summary_sort,
                selected,
                out,
            ),
            Content::Start | Content::Findings(_) => {}
        }
    }

    /// Announces on stderr that the requested screenshot view is drawn (see
    /// [`SCREENSHOT_VIEW_ENV`]); a few frames after the content arrived, so layout has settled.
    fn announce_screenshot(&mut self) {
        let Some(view) = self.screenshot else { return };
        if self.screenshot_frames == usize::MAX {
            return;
        }
        let ready = self.job.is_none()
            && !self.is_busy()
            && (view == ScreenshotView::Start || !matches!(self.content, Content::Start));
        if !ready {
            self.screenshot_frames = 0;
            return;
        }
        self.screenshot_frames += 1;
        if self.screenshot_frames >= 5 {
            eprintln!("{SCREENSHOT_READY}");
            self.screenshot_frames = usize::MAX;
        } else {
            self.ctx.request_repaint();
        }
    }
}

/// The merged paths of a reopened findings file: stored for suspects only.
fn reopened_paths(view: &FindingsView, key: &str) -> MergedPaths {
    let paths = view.suspect(key).map_or_else(Vec::new, |suspect| {
        suspect
            .paths
            .iter()
            .map(|p| crate::diff::MergedPath {
                count: p.count,
                retained_size: p.retained_size,
                steps: p
                    .steps
                    .iter()
                    .map(|s| crate::diff::PathStep {
                        edge_type: s.edge_type.clone(),
                        edge_name: s.edge_name.clone(),
                        class_name: s.class_name.clone(),
                        repeat: s.repeat,
                    })
                    .collect(),
                example: 0,
            })
            .collect()
    });
    MergedPaths {
        class_key: key.to_string(),
        paths: Some(paths),
        live: false,
    }
}

/// The inputs of a report, moved to a share thread.
enum ShareSource {
    Live {
        comparison: Arc<crate::diff::Comparison>,
        before: Arc<LoadedFile>,
        after: Arc<LoadedFile>,
        final_: Option<Arc<LoadedFile>>,
    },
    Reopened(Arc<crate::report::Findings>),
}

impl ShareSource {
    fn findings(self) -> crate::report::Findings {
        match self {
            ShareSource::Live {
                comparison,
                before,
                after,
                final_,
            } => crate::report::build(
                &comparison,
                &before.loaded,
                &after.loaded,
                final_.as_ref().map(|f| &f.loaded),
                crate::report::ReportOptions::default(),
            ),
            ShareSource::Reopened(findings) => (*findings).clone(),
        }
    }
}

impl eframe::App for HeapdiffApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        if self.applied_theme != Some(self.settings.theme) {
            ctx.set_theme(self.settings.theme.preference());
            self.applied_theme = Some(self.settings.theme);
        }
        let mut out: Vec<Command> = self.rx.try_iter().collect();
        if let Some(outcome) = self.job.as_ref().and_then(Job::poll) {
            self.finish(outcome);
        }
        out.extend(Command::from_shortcuts(&ctx));
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        if !dropped.is_empty() {
            out.push(Command::OpenFiles(dropped));
        }

        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui, &mut out));
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui, &mut out));
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(job) = &self.job {
                progress::show(ui, job, &mut out);
            } else if matches!(self.content, Content::Start) {
                open::show(ui, &self.pending, &self.settings.recent, &mut out);
            } else {
                self.content_view(ui, &mut out);
            }
        });

        for command in out {
            self.handle_command(command);
        }
        self.announce_screenshot();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.settings);
    }
}

//! The desktop window (eframe): a thin shell over the engine's pipeline.
//!
//! ```text
//! startup   StartupOptions (argv) → HeapdiffApp::new → run
//! command   Command: user intents (menus, shortcuts, views, dropped files), one list of labels
//! handle    handle_command: applies an intent; anything heavy becomes a background task
//! tasks     BackgroundTasks: named, deduplicated, cancellable, polled each frame
//! outcome   Outcome: what tasks answer (a loaded pair, merged paths, a dialog's choice…)
//! load, share, retainer_tree, paths_view: the work tasks do
//! settings  persisted (serde) · model: what is loaded · selection: what is selected
//! shell     menu bar, status bar, layout · views: open, progress, leaks_view (its pieces in
//!           leak_widgets), class_table, instances, retainer_tree, paths_view, charts,
//!           source (locations, source lines)
//! capture_  File ▸ Capture…: panel (state, commands, settings), view and chart (drawn),
//!           handle and outcome (commands applied, answers taken in), link (the target shared
//!           with the tasks), tasks (inspector, process and load work), script (screenshot)
//! ```
//!
//! Views are functions over the state that push [`Command`]s; the UI thread only formats the
//! rows on screen.

use eframe::egui;
pub mod capture_chart;
mod capture_handle;
pub mod capture_link;
mod capture_outcome;
pub mod capture_panel;
mod capture_script;
pub mod capture_tasks;
mod capture_view;
pub mod charts;
pub mod class_table;
pub mod command;
mod handle;
pub mod instances;
mod leak_widgets;
pub mod leaks_view;
pub mod load;
pub mod model;
pub mod open;
pub mod outcome;
pub mod paths_view;
pub mod progress;
pub mod retainer_tree;
pub mod selection;
pub mod settings;
pub mod share;
mod shell;
pub mod source;
pub mod startup;
pub mod tasks;

use std::path::PathBuf;

pub use command::Command;
pub use startup::{SCREENSHOT_READY, SCREENSHOT_VIEW_ENV, ScreenshotView, StartupOptions, run};

use capture_panel::CapturePanel;
use class_table::VisibleRows;
use load::Request;
use model::Content;
use open::Pending;
use outcome::Outcome;
use selection::Selection;
use settings::{SETTINGS_KEY, Settings, Tab, Theme};
use tasks::{BackgroundTasks, TaskName};

pub struct HeapdiffApp {
    pub settings: Settings,
    pub content: Content,
    pub visible: VisibleRows,
    pub selection: Selection,
    pub tab: Tab,
    pub tasks: BackgroundTasks<Outcome>,
    /// Shown in red until dismissed or the next success; names the file.
    pub error: Option<String>,
    pub status: Option<String>,
    /// The last Markdown summary copied to the clipboard.
    pub last_markdown: Option<String>,
    pub pending: Pending,
    last_request: Option<Request>,
    ctx: egui::Context,
    focus_filter: bool,
    /// The class table scrolls to the selected row on the next frame (a jump from the Leaks view).
    scroll_to_selected: bool,
    applied_theme: Option<Theme>,
    /// Ids of retainer trees, so a row listed for a replaced tree is not taken by the new one.
    next_tree_id: u64,
    screenshot: Option<ScreenshotView>,
    /// Frames drawn since the screenshot view became ready (`usize::MAX` once announced).
    screenshot_frames: usize,
    /// File ▸ Capture…, while open. Last, so it drops after the tasks have been cancelled.
    pub capture: Option<CapturePanel>,
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
        let mut app = HeapdiffApp {
            settings,
            content: Content::Start,
            visible: VisibleRows::default(),
            selection: Selection::default(),
            tab: Tab::Table,
            tasks: BackgroundTasks::new(ctx.clone()),
            error: None,
            status: None,
            last_markdown: None,
            pending: Pending::default(),
            last_request: None,
            ctx,
            focus_filter: false,
            scroll_to_selected: false,
            applied_theme: None,
            next_tree_id: 0,
            screenshot: options.screenshot,
            screenshot_frames: 0,
            capture: None,
        };
        if app.screenshot == Some(ScreenshotView::Capture) {
            app.handle_command(Command::Capture(capture_panel::CaptureCommand::Open));
        }
        if let Some(request) = options.request() {
            app.start(request);
        }
        app
    }

    /// Whether files are being loaded (the progress view is up).
    pub fn is_loading(&self) -> bool {
        self.tasks.is_running(TaskName::Load)
    }

    /// Whether any background work has an answer still to come (an open dialog, which waits
    /// for the user, and the capture's heap chart, which runs as long as the capture, do not
    /// count).
    pub fn is_busy(&self) -> bool {
        self.tasks.any_running(|name| {
            name == TaskName::Dialog || name == TaskName::Capture(capture_tasks::CaptureTask::Heap)
        })
    }

    /// Class names of the table rows in display order.
    pub fn table_names(&self) -> Vec<String> {
        let rows = &self.visible.rows;
        if let Some(compare) = self.content.compare_rows() {
            return rows
                .iter()
                .filter_map(|&i| compare.get(i as usize).map(|r| r.class.name.clone()))
                .collect();
        }
        self.content.summary().map_or_else(Vec::new, |summary| {
            rows.iter()
                .filter_map(|&i| summary.rows.get(i as usize).map(|r| r.name.clone()))
                .collect()
        })
    }

    /// Whether a comparison (live or reopened from a findings file) is open.
    fn comparing(&self) -> bool {
        self.content.compare_rows().is_some()
    }
}

impl eframe::App for HeapdiffApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        if self.applied_theme != Some(self.settings.theme) {
            ctx.set_theme(self.settings.theme.preference());
            self.applied_theme = Some(self.settings.theme);
        }
        for finished in self.tasks.poll() {
            self.apply(finished);
        }
        let mut out = Command::from_shortcuts(&ctx);
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
        if self.capture.is_some() {
            egui::Panel::right("capture")
                .resizable(true)
                .default_size(500.0)
                .show(ui, |ui| self.capture_view(ui, &mut out));
        }
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(task) = self.tasks.view(TaskName::Load) {
                progress::show(ui, &task, &mut out);
            } else if self.is_loading() {
                // A new load waits for the one it replaces to stop.
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.weak("Stopping the previous load…");
                });
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

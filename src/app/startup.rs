//! How the window starts: what the command line asks it to open ([`StartupOptions`]), the
//! native window ([`run`]), and the screenshot mode `screenshots/app.sh` drives
//! ([`SCREENSHOT_VIEW_ENV`]).

use std::path::PathBuf;

use eframe::egui;

use super::HeapdiffApp;
use super::load::Request;
use super::model::Content;

const ICON: &[u8] = include_bytes!("../../assets/icon.png");

/// The environment variable that starts the window in a given view for `screenshots/app.sh`
/// (`start`, `leaks`, `comparison`, `retainers`, `charts`, `capture`). Not a user feature: it
/// pins the window size, ignores saved settings and prints [`SCREENSHOT_READY`] to stderr once
/// the view is drawn.
pub const SCREENSHOT_VIEW_ENV: &str = "HEAPDIFF_SCREENSHOT_VIEW";
pub const SCREENSHOT_READY: &str = "heapdiff: screenshot view ready";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScreenshotView {
    Start,
    Leaks,
    Comparison,
    Retainers,
    Charts,
    /// The capture panel driving a real Node process (see `capture_script`'s screenshot
    /// variables).
    Capture,
}

impl ScreenshotView {
    pub fn from_env() -> Option<ScreenshotView> {
        match std::env::var(SCREENSHOT_VIEW_ENV).ok()?.as_str() {
            "start" => Some(ScreenshotView::Start),
            "leaks" => Some(ScreenshotView::Leaks),
            "comparison" => Some(ScreenshotView::Comparison),
            "retainers" => Some(ScreenshotView::Retainers),
            "charts" => Some(ScreenshotView::Charts),
            "capture" => Some(ScreenshotView::Capture),
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

    pub(super) fn request(&self) -> Option<Request> {
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

impl HeapdiffApp {
    /// Announces on stderr that the requested screenshot view is drawn (see
    /// [`SCREENSHOT_VIEW_ENV`]); a few frames after the content arrived, so layout has settled.
    pub(super) fn announce_screenshot(&mut self) {
        let Some(view) = self.screenshot else { return };
        if self.screenshot_frames == usize::MAX {
            return;
        }
        let ready = !self.is_busy()
            && (view == ScreenshotView::Start || !matches!(self.content, Content::Start))
            && (view != ScreenshotView::Capture || self.capture_screenshot_done());
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

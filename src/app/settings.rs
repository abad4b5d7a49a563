//! What the window remembers between runs: one serde struct saved with eframe's storage
//! ([`SETTINGS_KEY`]). Loaded snapshots, tasks and the selection never go in it.

use eframe::egui;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::capture_panel::CaptureSettings;

/// The key of [`Settings`] in eframe's storage.
pub const SETTINGS_KEY: &str = "heapdiff-settings";
/// Recent files kept in the settings.
const MAX_RECENT: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Tab {
    #[default]
    Table,
    /// The leak groups of a comparison (what it opens on).
    Leaks,
    Charts,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Theme {
    #[default]
    System,
    Dark,
    Light,
}

impl Theme {
    pub fn preference(self) -> egui::ThemePreference {
        match self {
            Theme::System => egui::ThemePreference::System,
            Theme::Dark => egui::ThemePreference::Dark,
            Theme::Light => egui::ThemePreference::Light,
        }
    }
}

/// Table columns: the Summary's and the Comparison's, named as DevTools names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Column {
    Constructor,
    Distance,
    Count,
    ShallowSize,
    RetainedSize,
    New,
    Deleted,
    Delta,
    AllocSize,
    FreedSize,
    SizeDelta,
    RetainedByNew,
    HeapPercent,
}

impl Column {
    pub const SUMMARY: [Column; 5] = [
        Column::Constructor,
        Column::Distance,
        Column::Count,
        Column::ShallowSize,
        Column::RetainedSize,
    ];
    pub const COMPARISON: [Column; 9] = [
        Column::Constructor,
        Column::New,
        Column::Deleted,
        Column::Delta,
        Column::AllocSize,
        Column::FreedSize,
        Column::SizeDelta,
        Column::RetainedByNew,
        Column::HeapPercent,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Column::Constructor => "Constructor",
            Column::Distance => "Distance",
            Column::Count => "Count",
            Column::ShallowSize => "Shallow size",
            Column::RetainedSize => "Retained size",
            Column::New => "# New",
            Column::Deleted => "# Deleted",
            Column::Delta => "# Delta",
            Column::AllocSize => "Alloc. Size",
            Column::FreedSize => "Freed Size",
            Column::SizeDelta => "Size Delta",
            Column::RetainedByNew => "Retained by new",
            Column::HeapPercent => "% of heap",
        }
    }

    /// Names sort ascending on the first click, numbers descending (biggest first).
    pub fn descending_first(self) -> bool {
        self != Column::Constructor
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sort {
    pub column: Column,
    pub descending: bool,
}

/// Saved with eframe's storage between runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub summary_sort: Sort,
    pub comparison_sort: Sort,
    pub filter: String,
    pub hide_internals: bool,
    pub suspects_first: bool,
    pub show_weak: bool,
    pub theme: Theme,
    pub recent: Vec<PathBuf>,
    /// The capture panel's address, command, load and folder.
    pub capture: CaptureSettings,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            summary_sort: Sort {
                column: Column::RetainedSize,
                descending: true,
            },
            comparison_sort: Sort {
                column: Column::SizeDelta,
                descending: true,
            },
            filter: String::new(),
            hide_internals: false,
            suspects_first: true,
            show_weak: false,
            theme: Theme::System,
            recent: Vec::new(),
            capture: CaptureSettings::default(),
        }
    }
}

impl Settings {
    pub fn remember(&mut self, path: &Path) {
        self.recent.retain(|p| p != path);
        self.recent.insert(0, path.to_path_buf());
        self.recent.truncate(MAX_RECENT);
    }
}

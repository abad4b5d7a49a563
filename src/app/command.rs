//! Every user intent is one [`Command`]: views, menus, keyboard shortcuts and dropped files
//! produce them, and [`super::HeapdiffApp::handle_command`] applies them. Labels, tooltips and
//! shortcuts live here so the menus and the shortcut table cannot drift apart. What background
//! work answers (a loaded pair, merged paths, a dialog's choice) is not a command: it is an
//! [`super::outcome::Outcome`], polled from the tasks.

use eframe::egui;
use std::path::PathBuf;

use egui::{Key, KeyboardShortcut, Modifiers};

use crate::pipeline::Side;

use super::capture_panel::CaptureCommand;
use super::settings::{Column, Tab, Theme};

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Show the native "open" dialog (on a thread) for one or two snapshots.
    OpenDialog,
    /// Show the "open" dialog for one drop zone of the start screen.
    PickFor(Side),
    /// Open one file (Summary, or a findings file) or two (before, after) — as the command line.
    OpenFiles(Vec<PathBuf>),
    /// Open an explicit comparison.
    OpenPair {
        before: PathBuf,
        after: PathBuf,
        final_: Option<PathBuf>,
    },
    /// Close what is open and return to the start screen.
    Close,
    /// Reload with before and after exchanged.
    SwapBeforeAfter,
    /// Cancel loading (the files, or BEFORE's analysis after the Comparison is shown).
    Cancel,
    /// Focus the class filter.
    FocusFilter,
    /// Copy the Markdown summary to the clipboard.
    ExportMarkdown,
    SaveHtml,
    SaveFindings,
    SortBy(Column),
    SetFilter(String),
    ToggleInternals,
    ToggleSuspectsFirst,
    ToggleWeakEdges,
    SelectClass(String),
    /// Select one object: its retainer tree is shown.
    SelectObject(Side, u32),
    /// Expand or collapse a retainer tree row (index into the tree's arena).
    ToggleRetainerRow(usize),
    /// Select a leak group of the Leaks view (an index into the comparison's leaks).
    SelectLeak(usize),
    /// Show a class's row in the Classes tab, selected (from a leak's composition).
    ShowClass(String),
    SetTab(Tab),
    SetTheme(Theme),
    /// Switch between the dark and the light theme.
    ToggleTheme,
    ClearRecent,
    DismissError,
    /// Save the report or findings file to a path (what the user picks in the save dialog;
    /// also the tests' way to save without a dialog).
    SaveTo(SaveKind, PathBuf),
    /// The capture panel (File ▸ Capture…) and everything asked of it.
    Capture(CaptureCommand),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SaveKind {
    Html,
    Findings,
}

impl Command {
    /// The commands that appear in menus and have shortcuts, in menu order.
    pub const MENU: [Command; 8] = [
        Command::OpenDialog,
        Command::SwapBeforeAfter,
        Command::Close,
        Command::FocusFilter,
        Command::ExportMarkdown,
        Command::SaveHtml,
        Command::SaveFindings,
        Command::Cancel,
    ];

    pub fn label(&self) -> &'static str {
        match self {
            Command::OpenDialog => "Open…",
            Command::PickFor(_) => "Open…",
            Command::OpenFiles(_) | Command::OpenPair { .. } => "Open",
            Command::Close => "Close",
            Command::SwapBeforeAfter => "Swap before/after",
            Command::Cancel => "Cancel loading",
            Command::FocusFilter => "Filter classes",
            Command::ExportMarkdown => "Copy Markdown summary",
            Command::SaveHtml => "Save HTML report…",
            Command::SaveFindings => "Save findings file…",
            Command::SortBy(_) => "Sort",
            Command::SetFilter(_) => "Filter",
            Command::ToggleInternals => "Hide V8 internals",
            Command::ToggleSuspectsFirst => "Suspects first",
            Command::ToggleWeakEdges => "Show weak edges",
            Command::SelectClass(_) => "Select class",
            Command::SelectObject(..) => "Select object",
            Command::ToggleRetainerRow(_) => "Expand",
            Command::SelectLeak(_) => "Select leak group",
            Command::ShowClass(_) => "Show in the Comparison table",
            Command::SetTab(_) => "Tab",
            Command::SetTheme(_) => "Theme",
            Command::ToggleTheme => "Toggle dark/light theme",
            Command::ClearRecent => "Clear recent files",
            Command::DismissError => "Dismiss",
            Command::SaveTo(..) => "Save",
            Command::Capture(CaptureCommand::Open) => "Capture…",
            Command::Capture(_) => "Capture",
        }
    }

    pub fn tooltip(&self) -> &'static str {
        match self {
            Command::OpenDialog => "Open one snapshot (Summary) or two (Comparison)",
            Command::SwapBeforeAfter => "Exchange the before and after snapshots and reload",
            Command::Close => "Close the snapshots and return to the start screen",
            Command::ExportMarkdown => "Copy a Markdown summary of the comparison",
            Command::Cancel => "Stop loading (or analysing before); the window stays as it was",
            Command::ToggleTheme => "Switch between the dark and the light theme",
            Command::Capture(CaptureCommand::Open) => {
                "Snapshot a live Node process before and after a load, then compare the two"
            }
            _ => "",
        }
    }

    pub fn shortcut(&self) -> Option<KeyboardShortcut> {
        let ctrl = |key| Some(KeyboardShortcut::new(Modifiers::COMMAND, key));
        match self {
            Command::OpenDialog => ctrl(Key::O),
            Command::FocusFilter => ctrl(Key::F),
            Command::ExportMarkdown => ctrl(Key::E),
            Command::Close => ctrl(Key::W),
            Command::SwapBeforeAfter => Some(KeyboardShortcut::new(
                Modifiers::COMMAND | Modifiers::SHIFT,
                Key::S,
            )),
            Command::SaveHtml => ctrl(Key::S),
            Command::Cancel => Some(KeyboardShortcut::new(Modifiers::NONE, Key::Escape)),
            _ => None,
        }
    }

    /// The commands whose shortcuts were pressed this frame (consumed, so widgets do not also
    /// see them).
    pub fn from_shortcuts(ctx: &egui::Context) -> Vec<Command> {
        ctx.input_mut(|input| {
            Command::MENU
                .iter()
                .filter(|c| {
                    c.shortcut()
                        .is_some_and(|shortcut| input.consume_shortcut(&shortcut))
                })
                .cloned()
                .collect()
        })
    }

    /// A menu entry for this command; pushes it when clicked.
    pub fn menu_button(&self, ui: &mut egui::Ui, enabled: bool, out: &mut Vec<Command>) {
        let mut button = egui::Button::new(self.label());
        if let Some(shortcut) = self.shortcut() {
            button = button.shortcut_text(ui.ctx().format_shortcut(&shortcut));
        }
        let response = ui.add_enabled(enabled, button);
        let response = if self.tooltip().is_empty() {
            response
        } else {
            response.on_hover_text(self.tooltip())
        };
        if response.clicked() {
            out.push(self.clone());
            ui.close();
        }
    }
}

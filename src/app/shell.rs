//! The window's frame around the views: the menu bar (built from [`Command::MENU`]'s labels and
//! shortcuts), the status bar (errors, the last status, background tasks with their progress),
//! and the content area's layout (class table above, objects / merged paths / retainers below).

use eframe::egui;

use crate::format;

use egui::{Color32, RichText};

use crate::pipeline::Side;

use super::capture_panel::CaptureCommand;
use super::command::Command;
use super::model::{BeforeState, Content};
use super::retainer_tree;
use super::settings::{Tab, Theme};
use super::tasks::TaskName;
use super::{HeapdiffApp, ScreenshotView, charts, class_table, instances, paths_view, source};

/// Background tasks the status bar lists (loading has the whole window for its progress).
const STATUS_TASKS: [TaskName; 6] = [
    TaskName::AnalyseBefore,
    TaskName::MergedPaths,
    TaskName::RetainerTree,
    TaskName::Markdown,
    TaskName::Save(super::command::SaveKind::Html),
    TaskName::Save(super::command::SaveKind::Findings),
];

impl HeapdiffApp {
    pub(super) fn menu_bar(&self, ui: &mut egui::Ui, out: &mut Vec<Command>) {
        let loaded = !matches!(self.content, Content::Start);
        let loading = self.is_loading();
        let pair = matches!(self.last_request, Some(super::load::Request::Pair { .. }));
        let cancellable = loading || self.tasks.is_running(TaskName::AnalyseBefore);
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                Command::OpenDialog.menu_button(ui, true, out);
                Command::Capture(CaptureCommand::Open).menu_button(ui, true, out);
                Command::SwapBeforeAfter.menu_button(ui, pair && !loading, out);
                Command::Close.menu_button(ui, loaded || loading, out);
                Command::Cancel.menu_button(ui, cancellable, out);
            });
            ui.menu_button("View", |ui| {
                Command::FocusFilter.menu_button(ui, loaded, out);
                ui.separator();
                for (theme, label) in [
                    (Theme::System, "System theme"),
                    (Theme::Dark, "Dark theme"),
                    (Theme::Light, "Light theme"),
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
            if pair && !loading && ui.button(Command::SwapBeforeAfter.label()).clicked() {
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

    pub(super) fn status_bar(&self, ui: &mut egui::Ui, out: &mut Vec<Command>) {
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
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                for name in STATUS_TASKS {
                    let Some(task) = self.tasks.view(name) else {
                        continue;
                    };
                    if name == TaskName::AnalyseBefore {
                        if ui
                            .add_enabled(!task.cancelling, egui::Button::new("Cancel").small())
                            .on_hover_text(Command::Cancel.tooltip())
                            .clicked()
                        {
                            out.push(Command::Cancel);
                        }
                        if let Some(line) = task.progress.lines().first() {
                            ui.add(
                                egui::ProgressBar::new(line.fraction)
                                    .desired_width(120.0)
                                    .text(line.phase),
                            );
                        }
                    }
                    ui.weak(format!("{}…", task.label));
                    ui.spinner();
                }
            });
        });
    }

    pub(super) fn content_view(&mut self, ui: &mut egui::Ui, out: &mut Vec<Command>) {
        let title = match &self.content {
            Content::Start => return,
            Content::Single(summary) => format!("Summary of {}", summary.file.file_name()),
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
            // A comparison has its leaks first.
            let leaks = self.content.leaks().is_some();
            let tabs = [
                (Tab::Leaks, "Leaks"),
                (Tab::Table, "Classes"),
                (Tab::Charts, "Charts"),
            ];
            for (tab, label) in tabs.into_iter().filter(|&(t, _)| leaks || t != Tab::Leaks) {
                if ui.selectable_label(self.tab == tab, label).clicked() {
                    out.push(Command::SetTab(tab));
                }
            }
        });
        if let Some(native) = self.content.native_bytes() {
            native_line(ui, native);
        }
        warnings_notice(ui, self.content.warnings());
        if let Content::Pair(pair) = &self.content
            && pair.rows.is_empty()
        {
            ui.weak("Nothing was allocated or freed between the two snapshots.");
        }
        if self.tab == Tab::Leaks && self.content.leaks().is_some() {
            self.leaks_tab(ui, out);
            return;
        }
        if self.tab == Tab::Charts {
            match &self.content {
                Content::Single(summary) => charts::summary(ui, &summary.charts),
                Content::Pair(pair) => match &pair.after_summary {
                    Some(summary) => charts::summary(ui, &summary.charts),
                    None => charts::comparison(ui, &pair.charts),
                },
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
            .show(ui, |ui| self.details(ui, out));
        let scroll = std::mem::take(&mut self.scroll_to_selected);
        let selected = self.selection.class.as_deref();
        if let Some(rows) = self.content.compare_rows() {
            let sort = self.settings.comparison_sort;
            class_table::comparison(ui, rows, &self.visible, sort, selected, scroll, out);
        } else if let Some(summary) = self.content.summary() {
            let sort = self.settings.summary_sort;
            class_table::summary(
                ui,
                &summary.rows,
                &self.visible,
                sort,
                selected,
                scroll,
                out,
            );
        }
    }

    /// The selected class's objects (left), its merged paths and the selected object's
    /// retainers (right).
    fn details(&self, ui: &mut egui::Ui, out: &mut Vec<Command>) {
        if let Some(snippet) = &self.selection.source {
            egui::Panel::bottom("class_source").show(ui, |ui| source::show(ui, snippet));
        }
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
                } else if self.selection.class.is_some() {
                    let file_of = |side: Side| self.content.file(side);
                    let selected = self.selection.object;
                    instances::show(ui, &self.selection.instances, &file_of, selected, out);
                } else {
                    ui.weak("Select a class to list its objects.");
                }
            });
        if let Some(merged) = &self.selection.merged {
            paths_view::show(ui, merged, out);
        }
        if matches!(self.content, Content::Findings(_)) {
            return;
        }
        let file = self
            .selection
            .object
            .and_then(|(side, _)| self.content.file(side));
        let (waiting, busy) = self.before_note();
        retainer_tree::pane(
            ui,
            &self.selection.tree,
            file.map(|f| &**f),
            self.settings.show_weak,
            &waiting,
            busy,
            out,
        );
    }

    /// Why a deleted object has no retainer tree yet, and whether that is still coming.
    fn before_note(&self) -> (String, bool) {
        let Content::Pair(pair) = &self.content else {
            return (String::new(), false);
        };
        match &pair.before_state {
            BeforeState::Analysing => {
                let progress = self
                    .tasks
                    .view(TaskName::AnalyseBefore)
                    .and_then(|t| t.progress.lines().first().cloned());
                let detail = progress.map_or_else(String::new, |p| {
                    format!(" ({} {:.0} %)", p.phase, p.fraction * 100.0)
                });
                (
                    format!(
                        "The retainers of deleted objects come once before is analysed{detail}."
                    ),
                    true,
                )
            }
            BeforeState::Analysed => (String::new(), false),
            BeforeState::Cancelled => (
                "Before's analysis was cancelled: reopen the pair for the retainers of deleted \
                 objects."
                    .into(),
                false,
            ),
            BeforeState::Failed(e) => (format!("Before could not be analysed: {e}"), false),
        }
    }
}

/// Memory outside the V8 heap (Node 24+), the other half of many out-of-memory crashes.
fn native_line(ui: &mut egui::Ui, (before, after): (Option<u64>, u64)) {
    let text = match before {
        Some(b) => format!(
            "Outside the V8 heap (extra_native_bytes): {} before, {} after ({})",
            format::bytes(b),
            format::bytes(after),
            format::signed_bytes(after as i64 - b as i64)
        ),
        None => format!(
            "Outside the V8 heap (extra_native_bytes): {}",
            format::bytes(after)
        ),
    };
    ui.weak(text)
        .on_hover_text("Memory the embedder reported beside the heap: buffers, native modules…");
}

/// The runtime quirks the engine named, one line each, where the user looks at the numbers.
fn warnings_notice(ui: &mut egui::Ui, warnings: &[String]) {
    if warnings.is_empty() {
        return;
    }
    let color = if ui.visuals().dark_mode {
        Color32::from_rgb(240, 190, 80)
    } else {
        Color32::from_rgb(150, 90, 0)
    };
    // Laid out as the leak sentences are (their arrows need the monospace font).
    let line = |ui: &mut egui::Ui, text: &str| {
        let mut job = super::leak_widgets::sentence(ui, text, false);
        for section in &mut job.sections {
            section.format.color = color;
        }
        ui.label(job);
    };
    // The first shown in full, the rest behind a fold (a pair can carry several).
    let mut lines = warnings.iter();
    if let Some(first) = lines.next() {
        line(ui, &format!("Warning: {first}"));
    }
    if warnings.len() > 1 {
        egui::CollapsingHeader::new(format!("{} more warnings", warnings.len() - 1))
            .id_salt("warnings")
            .show(ui, |ui| {
                for w in lines {
                    line(ui, w);
                }
            });
    }
}

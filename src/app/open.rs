//! The start screen: two drop zones (before, after) with "Open…" buttons, drag and drop of one
//! or two files, and the recent files.

use eframe::egui;
use std::path::{Path, PathBuf};

use egui::{Align, Layout, RichText, Vec2};

use crate::format::file_label;
use crate::pipeline::Side;

use super::command::Command;

/// Drop zones' chosen files, before loading starts.
#[derive(Default)]
pub struct Pending {
    pub before: Option<PathBuf>,
    pub after: Option<PathBuf>,
}

pub fn show(ui: &mut egui::Ui, pending: &Pending, recent: &[PathBuf], out: &mut Vec<Command>) {
    ui.add_space(24.0);
    ui.vertical_centered(|ui| {
        ui.heading("heapdiff");
        ui.label("Compare two V8 heap snapshots: what grew, and what keeps it alive.");
        ui.add_space(16.0);
    });
    let zone_width = ((ui.available_width() - 48.0) / 2.0).clamp(180.0, 420.0);
    ui.horizontal(|ui| {
        let spare = ui.available_width() - 2.0 * zone_width - 16.0;
        ui.add_space((spare / 2.0).max(0.0));
        zone(ui, Side::Before, pending.before.as_deref(), zone_width, out);
        ui.add_space(16.0);
        zone(ui, Side::After, pending.after.as_deref(), zone_width, out);
    });
    ui.add_space(12.0);
    ui.vertical_centered(|ui| {
        ui.label(
            "Drop one snapshot for its Summary, two to compare them, \
             or a .heapdiff.json findings file to reopen a shared comparison.",
        );
        Command::OpenDialog.menu_button(ui, true, out);
        if !recent.is_empty() {
            ui.add_space(16.0);
            ui.strong("Recent files");
            for path in recent {
                if ui
                    .link(file_label(path))
                    .on_hover_text(path.display().to_string())
                    .clicked()
                {
                    out.push(Command::OpenFiles(vec![path.clone()]));
                }
            }
            if ui.small_button(Command::ClearRecent.label()).clicked() {
                out.push(Command::ClearRecent);
            }
        }
    });
}

fn zone(ui: &mut egui::Ui, side: Side, chosen: Option<&Path>, width: f32, out: &mut Vec<Command>) {
    let hovering = ui.ctx().input(|i| !i.raw.hovered_files.is_empty());
    let stroke = if hovering {
        ui.visuals().selection.stroke
    } else {
        ui.visuals().widgets.noninteractive.bg_stroke
    };
    egui::Frame::group(ui.style())
        .stroke(stroke)
        .inner_margin(16.0)
        .show(ui, |ui| {
            ui.set_min_size(Vec2::new(width, 110.0));
            ui.set_max_width(width);
            ui.with_layout(Layout::top_down(Align::Center), |ui| {
                let title = match side {
                    Side::Before => "Before (baseline)",
                    Side::After => "After (load test)",
                    Side::Final => "Final",
                };
                ui.label(RichText::new(title).strong());
                match chosen {
                    Some(path) => ui.label(file_label(path)),
                    None => ui.weak("Drop a .heapsnapshot here"),
                };
                let open = egui::Button::new(format!("Open {}…", side.label()));
                if ui.add(open).clicked() {
                    out.push(Command::PickFor(side));
                }
            });
        });
}

/// Orders two dropped files: a name saying "before"/"after" decides, else the older file is
/// the before.
pub fn order_pair(a: PathBuf, b: PathBuf) -> (PathBuf, PathBuf) {
    let says = |p: &Path, word: &str| file_label(p).to_lowercase().contains(word);
    if says(&a, "after") || says(&b, "before") {
        return (b, a);
    }
    if says(&a, "before") || says(&b, "after") {
        return (a, b);
    }
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(&a), modified(&b)) {
        (Some(ta), Some(tb)) if tb < ta => (b, a),
        _ => (a, b),
    }
}

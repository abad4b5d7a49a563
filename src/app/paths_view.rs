//! The merged retainer paths of the selected Comparison row's new objects, as the report has
//! them ([`report::Path`]): the diff's own for a suspect, a findings file's for a reopened one,
//! or grouped by a background task for any other row.

use eframe::egui;

use egui::RichText;

use crate::format;
use crate::pipeline::Side;
use crate::report;

use super::command::Command;

/// Paths listed for a class.
pub const MAX_MERGED_PATHS: usize = 10;

pub struct MergedPaths {
    pub class_key: String,
    /// `None` while a task groups them.
    pub paths: Option<Vec<report::Path>>,
    /// One object of each path (after-snapshot ordinal), to select it; empty for a reopened
    /// findings file, which has paths but no objects.
    pub examples: Vec<u32>,
    /// Whether the snapshots are loaded.
    pub live: bool,
}

/// The report's paths of live merged paths, with one object of each (redacted as the
/// report redacts them).
pub fn live(
    class_key: String,
    paths: &[crate::diff::MergedPath],
    after: &crate::loaded::Loaded,
) -> MergedPaths {
    let options = report::ReportOptions::default();
    MergedPaths {
        class_key,
        examples: paths.iter().map(|p| p.example).collect(),
        paths: Some(
            paths
                .iter()
                .map(|p| report::Path::of(p, after, options))
                .collect(),
        ),
        live: true,
    }
}

/// One line per path shape: "×1,000 (2.6 MiB): context in onConfigChange <- [] in Array …";
/// clicking a path's count selects one of its objects.
pub fn show(ui: &mut egui::Ui, merged: &MergedPaths, out: &mut Vec<Command>) {
    egui::CollapsingHeader::new("Merged retainer paths of the new objects")
        .id_salt("merged_paths")
        .default_open(true)
        .show(ui, |ui| {
            let Some(paths) = &merged.paths else {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.weak("grouping retainer paths…");
                });
                return;
            };
            if paths.is_empty() {
                ui.weak(if merged.live {
                    "No new objects of this class."
                } else {
                    "A findings file stores the merged paths of suspects only."
                });
                return;
            }
            egui::ScrollArea::vertical()
                .id_salt("merged_paths_scroll")
                .max_height(140.0)
                .show(ui, |ui| {
                    for (i, path) in paths.iter().enumerate() {
                        ui.horizontal_wrapped(|ui| {
                            let count = RichText::new(format!("×{}", path.count)).strong();
                            match merged.examples.get(i) {
                                Some(&example) => {
                                    if ui
                                        .link(count)
                                        .on_hover_text("Select one of these objects")
                                        .clicked()
                                    {
                                        out.push(Command::SelectObject(Side::After, example));
                                    }
                                }
                                None => {
                                    ui.label(count);
                                }
                            }
                            ui.weak(format!("({})", format::bytes(path.retained_size)));
                            if path.steps.is_empty() {
                                ui.weak("no path to a GC root");
                            }
                            for (i, step) in path.steps.iter().enumerate() {
                                if i > 0 {
                                    ui.weak("<-");
                                }
                                ui.label(
                                    RichText::new(format::one_line(&step.edge_name)).monospace(),
                                );
                                ui.weak(format!("in {}", format::one_line(&step.class_name)));
                            }
                        });
                    }
                });
        });
}

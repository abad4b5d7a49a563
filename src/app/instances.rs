//! The objects of the selected class: new (and deleted) objects in a Comparison, all objects in
//! a Summary. Virtualised for hundreds of thousands of rows.

use eframe::egui;
use std::sync::Arc;

use egui::{Align, Layout};
use egui_extras::{Column as TableColumn, TableBuilder};

use crate::format;

use super::command::Command;
use crate::pipeline::Side;

use super::model::LoadedFile;
use super::selection::Instances;
use super::source;

/// Finds the file an object lives in.
pub type FileOf<'a> = &'a dyn Fn(Side) -> Option<&'a Arc<LoadedFile>>;

pub fn show(
    ui: &mut egui::Ui,
    instances: &Instances,
    file_of: FileOf<'_>,
    selected: Option<(Side, u32)>,
    out: &mut Vec<Command>,
) {
    let deleted = instances.deleted.len();
    ui.horizontal(|ui| {
        ui.strong(format!(
            "{} objects",
            format::thousands(instances.len() as u64)
        ));
        if deleted > 0 || instances.deleted.side == Side::Before {
            ui.weak(format!(
                "({} new, {} deleted)",
                format::thousands(instances.new_count() as u64),
                format::thousands(deleted as u64)
            ));
        }
    });
    let files = [
        file_of(Side::Before),
        file_of(Side::After),
        file_of(Side::Final),
    ];
    let file = |side: Side| match side {
        Side::Before => files[0],
        Side::After => files[1],
        Side::Final => files[2],
    };
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    TableBuilder::new(ui)
        .id_salt("instances")
        .min_scrolled_height(0.0)
        .striped(true)
        .resizable(true)
        .auto_shrink([false, false])
        .column(TableColumn::initial(190.0).at_least(100.0).clip(true))
        .columns(TableColumn::initial(85.0).at_least(50.0), 3)
        .column(TableColumn::remainder().at_least(80.0).clip(true))
        .header(20.0, |mut header| {
            for name in [
                "Object",
                "Self size",
                "Retained size",
                "Distance",
                "Location",
            ] {
                header.col(|ui| {
                    ui.strong(name);
                });
            }
        })
        .body(|body| {
            body.rows(row_height, instances.len(), |mut row| {
                let index = row.index();
                let Some((side, node)) = instances.get(index) else {
                    return;
                };
                let Some(file) = file(side) else { return };
                let snap = &file.loaded.snapshot;
                let i = node as usize;
                if i >= snap.node_count() {
                    return;
                }
                let is_selected = selected == Some((side, node));
                row.set_selected(is_selected);
                row.col(|ui| {
                    let tag = match side {
                        Side::Before => "- ",
                        _ if index < instances.new_count()
                            && instances.deleted.side == Side::Before =>
                        {
                            "+ "
                        }
                        _ => "",
                    };
                    let text = format!(
                        "{tag}{} @{}",
                        format::one_line(file.loaded.classes.name_of(node)),
                        snap.node_id[i]
                    );
                    if ui.selectable_label(is_selected, text).clicked() {
                        out.push(Command::SelectObject(side, node));
                    }
                });
                let right = Layout::right_to_left(Align::Center);
                let shallow = file.loaded.shallow.get(i).copied().unwrap_or(0);
                row.col(|ui| {
                    ui.with_layout(right, |ui| ui.label(format::thousands(u64::from(shallow))));
                });
                let retained = file.loaded.analysis.retained_size.get(i);
                row.col(|ui| {
                    ui.with_layout(right, |ui| {
                        ui.label(retained.map_or("–".into(), format::thousands))
                    });
                });
                let distance = file.loaded.analysis.distance.get(i).copied();
                row.col(|ui| {
                    ui.with_layout(right, |ui| {
                        ui.label(distance.map_or("–".into(), |d| d.to_string()))
                    });
                });
                row.col(|ui| {
                    let left = Layout::left_to_right(Align::Center);
                    ui.with_layout(left, |ui| match source::of_node(&file.loaded, node) {
                        Some(located) => {
                            ui.label(&located.short).on_hover_text(&located.full);
                        }
                        None => {
                            ui.weak("–");
                        }
                    });
                });
            });
        });
}

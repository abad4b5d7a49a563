//! The pieces the Leaks view draws a group with: its sentence (code spans in monospace), the
//! likely badge, the composition bar and table, and the path from the holder to the GC roots as
//! a tree. Each draws what the engine computed; none walks the heap.

use eframe::egui;

use egui::text::{LayoutJob, TextFormat};
use egui::{Color32, RichText, Sense, TextStyle};
use egui_extras::{Column as TableColumn, TableBuilder};

use crate::format;
use crate::report::{Leak, Part};

use super::command::Command;
use super::source::Located;

/// Composition classes given a colour in a card's bar; the rest share grey.
const BAR_PARTS: usize = 6;
/// Indentation of one level of the path tree.
const INDENT: f32 = 16.0;
/// Levels the path tree indents; deeper steps (paths through timer lists run to dozens) stay
/// at this one, so the rows keep to the pane's width.
const MAX_INDENT: usize = 10;

/// "Likely leak" in the accent colour, or a weak "not judged a leak".
pub(super) fn badge(ui: &mut egui::Ui, likely: bool) {
    if likely {
        let color = if ui.visuals().dark_mode {
            Color32::from_rgb(255, 120, 110)
        } else {
            Color32::from_rgb(190, 30, 20)
        };
        ui.label(RichText::new("Likely leak").color(color).strong());
    } else {
        ui.weak("Not judged a leak");
    }
}

/// A sentence with its `code spans` in monospace on the code background (an unmatched
/// backtick stays as text, as in the reports).
pub(super) fn sentence(ui: &egui::Ui, text: &str, strong: bool) -> LayoutJob {
    let style = ui.style();
    let visuals = ui.visuals();
    let color = if strong {
        visuals.strong_text_color()
    } else {
        visuals.text_color()
    };
    let plain = TextFormat {
        font_id: TextStyle::Body.resolve(style),
        color,
        ..Default::default()
    };
    let code = TextFormat {
        font_id: TextStyle::Monospace.resolve(style),
        color,
        background: visuals.code_bg_color,
        ..Default::default()
    };
    let mut job = LayoutJob::default();
    let pieces: Vec<&str> = text.split('`').collect();
    for (i, piece) in pieces.iter().enumerate() {
        let inside = i % 2 == 1 && i + 1 < pieces.len();
        if i % 2 == 1 && !inside {
            job.append("`", 0.0, plain.clone());
        }
        let piece = format::one_line(piece);
        if inside {
            job.append(&piece, 0.0, code.clone());
            continue;
        }
        // egui's bundled proportional font has no arrows; its monospace font (Hack) has.
        for (j, part) in piece.split('→').enumerate() {
            if j > 0 {
                let arrow = TextFormat {
                    font_id: TextStyle::Monospace.resolve(style),
                    color,
                    ..Default::default()
                };
                job.append("→", 0.0, arrow);
            }
            job.append(part, 0.0, plain.clone());
        }
    }
    job
}

/// Colours of the composition bar's parts, readable on dark and light backgrounds.
fn part_color(i: usize) -> Color32 {
    const COLORS: [Color32; BAR_PARTS] = [
        Color32::from_rgb(86, 156, 214),
        Color32::from_rgb(230, 145, 56),
        Color32::from_rgb(106, 180, 100),
        Color32::from_rgb(200, 95, 160),
        Color32::from_rgb(210, 190, 70),
        Color32::from_rgb(130, 120, 220),
    ];
    COLORS.get(i).copied().unwrap_or(Color32::GRAY)
}

/// The composition as one stacked bar by self size, the largest classes coloured; the hover
/// text names them.
pub(super) fn composition_bar(ui: &mut egui::Ui, parts: &[Part]) {
    let total: u64 = parts.iter().map(|p| p.self_size).sum();
    let (rect, response) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), 8.0), Sense::hover());
    if total == 0 {
        return;
    }
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::GRAY.gamma_multiply(0.5));
    let mut x = rect.left();
    for (i, part) in parts.iter().take(BAR_PARTS).enumerate() {
        let w = rect.width() * part.self_size as f32 / total as f32;
        let segment = egui::Rect::from_min_size(egui::pos2(x, rect.top()), egui::vec2(w, 8.0));
        painter.rect_filled(segment, 0.0, part_color(i));
        x += w;
    }
    let mut lines: Vec<String> = parts
        .iter()
        .take(BAR_PARTS)
        .map(|p| {
            format!(
                "{} {} · {}",
                format::thousands(p.count),
                format::one_line(&p.name),
                format::bytes(p.self_size)
            )
        })
        .collect();
    if parts.len() > BAR_PARTS {
        lines.push(format!("… {} more classes (grey)", parts.len() - BAR_PARTS));
    }
    response.on_hover_text(format!("Self size by class:\n{}", lines.join("\n")));
}

/// The path as a tree, one step per row: the entries, the holder, then each retainer outwards
/// to a GC root (a folded chain step with its `×N`).
pub(super) fn path_tree(ui: &mut egui::Ui, leak: &Leak) {
    let line = ui.visuals().weak_text_color();
    let mut depth = 0usize;
    let row = |ui: &mut egui::Ui, depth: usize, add: &mut dyn FnMut(&mut egui::Ui)| {
        let depth = depth.min(MAX_INDENT);
        let response = ui.horizontal(|ui| {
            ui.add_space(depth as f32 * INDENT + if depth > 0 { 12.0 } else { 0.0 });
            add(ui);
        });
        if depth > 0 {
            // An elbow from the row above into this one.
            let r = response.response.rect;
            let x = r.left() + (depth - 1) as f32 * INDENT + 5.0;
            let y = r.center().y;
            let stroke = egui::Stroke::new(1.0, line);
            ui.painter()
                .line_segment([egui::pos2(x, r.top() - 2.0), egui::pos2(x, y)], stroke);
            ui.painter()
                .line_segment([egui::pos2(x, y), egui::pos2(x + 9.0, y)], stroke);
        }
    };
    let entry = &leak.entry;
    row(ui, depth, &mut |ui| {
        ui.strong(format!("{} entries", format::thousands(leak.roots)));
        ui.weak("like");
        ui.label(RichText::new(format::one_line(&entry.name)).monospace());
        if entry.name != entry.class_name {
            ui.weak(format!("({})", format::one_line(&entry.class_name)));
        }
        if let Some(l) = &entry.location {
            Located::of(l).show(ui);
        }
    });
    let Some(holder) = &leak.holder else {
        depth += 1;
        row(ui, depth, &mut |ui| {
            ui.weak("held by a GC root");
        });
        return;
    };
    depth += 1;
    row(ui, depth, &mut |ui| {
        ui.label(RichText::new(format::one_line(&holder.edge_name)).monospace());
        ui.weak(format!("({})", holder.edge_type));
        ui.label("in");
        ui.strong(format!(
            "{} @{}",
            format::one_line(&holder.class_name),
            holder.id
        ));
        ui.weak("the holder");
    });
    if leak.path.steps.is_empty() {
        row(ui, depth + 1, &mut |ui| {
            ui.weak("(no path to a GC root)");
        });
    }
    for step in &leak.path.steps {
        depth += 1;
        row(ui, depth, &mut |ui| {
            ui.label(RichText::new(format::one_line(&step.edge_name)).monospace());
            ui.weak(format!("({})", step.edge_type));
            ui.label("in");
            ui.label(format::one_line(&step.class_name));
            if step.repeat > 1 {
                ui.label(RichText::new(format!("×{}", format::thousands(step.repeat))).strong())
                    .on_hover_text("A chain: this step repeats this many times in a row");
            }
        });
    }
}

/// Class, count, self size and location of each part; a class jumps to its Comparison row.
pub(super) fn composition_table(
    ui: &mut egui::Ui,
    parts: &[Part],
    height: f32,
    out: &mut Vec<Command>,
) {
    let row_height = ui.text_style_height(&TextStyle::Body) + 4.0;
    // The body scrolls within what the header row leaves of `height`.
    let header = 20.0;
    let height = (height - header - ui.spacing().item_spacing.y * 2.0).max(0.0);
    let right = egui::Layout::right_to_left(egui::Align::Center);
    TableBuilder::new(ui)
        .id_salt("leak_composition")
        .striped(true)
        .resizable(true)
        .auto_shrink([false, false])
        .min_scrolled_height(0.0)
        .max_scroll_height(height)
        .column(TableColumn::initial(170.0).at_least(80.0).clip(true))
        .columns(TableColumn::initial(62.0).at_least(40.0), 2)
        .column(TableColumn::remainder().at_least(60.0).clip(true))
        .header(20.0, |mut header| {
            for name in ["Class", "Count", "Self size", "Location"] {
                header.col(|ui| {
                    ui.strong(name);
                });
            }
        })
        .body(|body| {
            body.rows(row_height, parts.len(), |mut row| {
                let index = row.index();
                let Some(part) = parts.get(index) else {
                    return;
                };
                row.col(|ui| {
                    ui.horizontal(|ui| {
                        let (swatch, _) =
                            ui.allocate_exact_size(egui::vec2(8.0, 8.0), Sense::hover());
                        let color = part_color(index);
                        ui.painter().rect_filled(swatch, 1.0, color);
                        let name = if part.class_key == ",Function" {
                            format!("{}()", format::one_line(&part.name))
                        } else {
                            format::one_line(&part.name).into_owned()
                        };
                        if ui
                            .link(name)
                            .on_hover_text("Show this class in the Comparison table")
                            .clicked()
                        {
                            out.push(Command::ShowClass(part.class_key.clone()));
                        }
                    });
                });
                row.col(|ui| {
                    ui.with_layout(right, |ui| ui.label(format::thousands(part.count)));
                });
                row.col(|ui| {
                    ui.with_layout(right, |ui| ui.label(format::bytes(part.self_size)));
                });
                row.col(|ui| match &part.location {
                    Some(l) => Located::of(l).show(ui),
                    None => {
                        ui.weak("–");
                    }
                });
            });
        });
}

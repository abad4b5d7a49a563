//! The class table: the Comparison (DevTools' columns) for a pair, the Summary for one
//! snapshot. Virtualised: only the rows on screen are laid out and formatted.

use eframe::egui;
use egui::{Align, Color32, Layout, RichText};
use egui_extras::{Column as TableColumn, TableBuilder};

use crate::analysis::scripts::SourceLocation;
use crate::analysis::summary::SummaryRow;
use crate::format;

use std::cmp::Ordering;

use super::command::Command;
use super::model::{Content, Row};
use super::settings::{Column, Settings, Sort};
use super::source::Located;

pub const FILTER_ID: &str = "class_filter";

/// Filter box and toggles above the table.
pub fn toolbar(
    ui: &mut egui::Ui,
    filter: &str,
    hide_internals: bool,
    suspects_first: Option<bool>,
    focus: bool,
    out: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        let mut text = filter.to_string();
        let response = ui.add(
            egui::TextEdit::singleline(&mut text)
                .id_salt(FILTER_ID)
                .hint_text("Filter classes (Ctrl+F)")
                .desired_width(220.0),
        );
        if focus {
            response.request_focus();
        }
        if response.changed() {
            out.push(Command::SetFilter(text));
        }
        let mut hide = hide_internals;
        if ui
            .checkbox(&mut hide, "Hide V8 internals")
            .on_hover_text("Hide (compiled code), (system), (object shape)…")
            .changed()
        {
            out.push(Command::ToggleInternals);
        }
        if let Some(first) = suspects_first {
            let mut first = first;
            if ui.checkbox(&mut first, "Suspects first").changed() {
                out.push(Command::ToggleSuspectsFirst);
            }
        }
    });
}

fn header(ui: &mut egui::Ui, column: Column, sort: Sort, out: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        if ui
            .add(egui::Button::new(RichText::new(column.label()).strong()).frame(false))
            .on_hover_text("Sort; click again to reverse")
            .clicked()
        {
            out.push(Command::SortBy(column));
        }
        if sort.column == column {
            sort_arrow(ui, sort.descending);
        }
    });
}

/// A small painted triangle (egui's bundled fonts have no arrow glyphs).
fn sort_arrow(ui: &mut egui::Ui, descending: bool) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
    let c = rect.center();
    let (h, w) = (3.5, 4.5);
    let points = if descending {
        vec![
            egui::pos2(c.x - w, c.y - h),
            egui::pos2(c.x + w, c.y - h),
            egui::pos2(c.x, c.y + h),
        ]
    } else {
        vec![
            egui::pos2(c.x - w, c.y + h),
            egui::pos2(c.x + w, c.y + h),
            egui::pos2(c.x, c.y - h),
        ]
    };
    let color = ui.visuals().strong_text_color();
    ui.painter().add(egui::Shape::convex_polygon(
        points,
        color,
        egui::Stroke::NONE,
    ));
}

fn number(ui: &mut egui::Ui, text: String, color: Option<Color32>) {
    ui.with_layout(Layout::right_to_left(Align::Center), |ui| match color {
        Some(c) => ui.colored_label(c, text),
        None => ui.label(text),
    });
}

/// The name column, `columns - 1` number columns, then the classes' locations.
fn builder(ui: &mut egui::Ui, columns: usize) -> TableBuilder<'_> {
    // Nine columns of numbers and the locations fit a 1280-point window.
    let number = if columns > 6 { 94.0 } else { 105.0 };
    TableBuilder::new(ui)
        .id_salt(("class_table", columns, "location"))
        .striped(true)
        .resizable(true)
        .auto_shrink([false, false])
        // The default (200 points) would draw rows over the details panel when it is tall.
        .min_scrolled_height(0.0)
        .column(TableColumn::initial(240.0).at_least(120.0).clip(true))
        .columns(TableColumn::initial(number).at_least(60.0), columns - 1)
        .column(TableColumn::remainder().at_least(100.0).clip(true))
}

/// The Summary table of one snapshot.
pub fn summary(
    ui: &mut egui::Ui,
    rows: &[SummaryRow],
    visible: &VisibleRows,
    sort: Sort,
    selected: Option<&str>,
    scroll_to_selected: bool,
    out: &mut Vec<Command>,
) {
    table(
        ui,
        &Column::SUMMARY,
        rows,
        visible,
        sort,
        selected,
        scroll_to_selected,
        out,
        |row, class, is_selected, out| {
            row.col(|ui| {
                if ui
                    .selectable_label(is_selected, format::one_line(&class.name))
                    .clicked()
                {
                    out.push(Command::SelectClass(class.class_key.clone()));
                }
            });
            row.col(|ui| {
                number(
                    ui,
                    class.distance.map_or("–".into(), |d| d.to_string()),
                    None,
                )
            });
            row.col(|ui| number(ui, format::thousands(class.count), None));
            row.col(|ui| number(ui, format::thousands(class.self_size), None));
            row.col(|ui| {
                number(
                    ui,
                    class.retained_size.map_or("–".into(), format::thousands),
                    None,
                )
            });
        },
    );
}

/// The Comparison table of a pair.
pub fn comparison(
    ui: &mut egui::Ui,
    rows: &[Row],
    visible: &VisibleRows,
    sort: Sort,
    selected: Option<&str>,
    scroll_to_selected: bool,
    out: &mut Vec<Command>,
) {
    let grow = if ui.visuals().dark_mode {
        Color32::from_rgb(255, 120, 110)
    } else {
        Color32::from_rgb(190, 30, 20)
    };
    let shrink = if ui.visuals().dark_mode {
        Color32::from_rgb(120, 210, 130)
    } else {
        Color32::from_rgb(20, 130, 40)
    };
    let sign_color = |n: i64| match n {
        n if n > 0 => Some(grow),
        n if n < 0 => Some(shrink),
        _ => None,
    };
    table(
        ui,
        &Column::COMPARISON,
        rows,
        visible,
        sort,
        selected,
        scroll_to_selected,
        out,
        |row, Row { class, suspect }, is_selected, out| {
            row.col(|ui| {
                ui.horizontal(|ui| {
                    if suspect.is_some() {
                        ui.colored_label(grow, RichText::new("!").strong())
                            .on_hover_text("Suspect: grew and is retained by new objects");
                    }
                    if ui
                        .selectable_label(is_selected, format::one_line(&class.name))
                        .clicked()
                    {
                        out.push(Command::SelectClass(class.class_key.clone()));
                    }
                });
            });
            row.col(|ui| number(ui, format::thousands(class.added_count), None));
            row.col(|ui| number(ui, format::thousands(class.removed_count), None));
            row.col(|ui| {
                number(
                    ui,
                    format::signed_thousands(class.count_delta),
                    sign_color(class.count_delta),
                )
            });
            row.col(|ui| number(ui, format::bytes(class.added_size), None));
            row.col(|ui| number(ui, format::bytes(class.removed_size), None));
            row.col(|ui| {
                number(
                    ui,
                    format::signed_bytes(class.size_delta),
                    sign_color(class.size_delta),
                )
            });
            row.col(|ui| number(ui, format::bytes(class.added_retained_size), None));
            row.col(|ui| number(ui, format!("{:.1} %", class.after_share * 100.0), None));
        },
    );
}

/// Something a table row shows: it knows its class key, which selection is by, and where the
/// class is defined.
pub trait Keyed {
    fn class_key(&self) -> &str;
    fn location(&self) -> Option<&SourceLocation>;
}

impl Keyed for SummaryRow {
    fn class_key(&self) -> &str {
        &self.class_key
    }
    fn location(&self) -> Option<&SourceLocation> {
        self.location.as_ref()
    }
}

impl Keyed for Row {
    fn class_key(&self) -> &str {
        &self.class.class_key
    }
    fn location(&self) -> Option<&SourceLocation> {
        self.class.location.as_ref()
    }
}

/// The skeleton both tables share: sortable headers, then only the visible rows (virtualised),
/// each looked up through `visible` and drawn by `cells`, then the class's location.
/// `scroll_to_selected` brings the selected row into view (once, after a jump to it).
#[allow(clippy::too_many_arguments)]
fn table<R: Keyed>(
    ui: &mut egui::Ui,
    columns: &[Column],
    rows: &[R],
    visible: &VisibleRows,
    sort: Sort,
    selected: Option<&str>,
    scroll_to_selected: bool,
    out: &mut Vec<Command>,
    mut cells: impl FnMut(&mut egui_extras::TableRow<'_, '_>, &R, bool, &mut Vec<Command>),
) {
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    let mut table = builder(ui, columns.len());
    let target = selected.filter(|_| scroll_to_selected).and_then(|key| {
        visible
            .rows
            .iter()
            .position(|&i| rows.get(i as usize).is_some_and(|r| r.class_key() == key))
    });
    if let Some(target) = target {
        table = table.scroll_to_row(target, Some(Align::Center));
    }
    table
        .header(22.0, |mut header_row| {
            for &column in columns {
                header_row.col(|ui| header(ui, column, sort, out));
            }
            header_row.col(|ui| {
                // Laid out as the sortable headers are (a frameless button), so it lines up.
                ui.horizontal(|ui| {
                    let label = RichText::new("Location").strong();
                    ui.add(
                        egui::Button::new(label)
                            .frame(false)
                            .sense(egui::Sense::hover()),
                    )
                    .on_hover_text("Where the class is defined (its constructor)");
                });
            });
        })
        .body(|body| {
            body.rows(row_height, visible.rows.len(), |mut row| {
                let Some(class) = visible
                    .rows
                    .get(row.index())
                    .and_then(|&i| rows.get(i as usize))
                else {
                    return;
                };
                let is_selected = selected == Some(class.class_key());
                row.set_selected(is_selected);
                cells(&mut row, class, is_selected, out);
                row.col(|ui| {
                    // Centred in the row as the numbers are.
                    ui.with_layout(Layout::left_to_right(Align::Center), |ui| {
                        match class.location() {
                            Some(l) => Located::of(l).show(ui),
                            None => {
                                ui.weak("–");
                            }
                        }
                    });
                });
            });
        });
}

/// V8's internal classes, hidden by the "Hide V8 internals" toggle.
pub fn is_v8_internal(name: &str) -> bool {
    const INTERNAL: [&str; 9] = [
        "(compiled code)",
        "(system)",
        "(object shape)",
        "(hidden)",
        "(synthetic)",
        "(code)",
        "(GC roots)",
        "(Internalized strings)",
        "(Handle scope)",
    ];
    INTERNAL.contains(&name) || name.starts_with("system / ")
}

/// The rows the class table shows, in order: indexes into the Summary or Comparison rows.
#[derive(Default)]
pub struct VisibleRows {
    pub rows: Vec<u32>,
}

impl VisibleRows {
    /// Recomputes filter and order; runs on a change, never per frame.
    pub fn refresh(&mut self, content: &Content, settings: &Settings) {
        let needle = settings.filter.to_lowercase();
        let keep = |name: &str| {
            (!settings.hide_internals || !is_v8_internal(name))
                && (needle.is_empty() || name.to_lowercase().contains(&needle))
        };
        self.rows.clear();
        if let Some(rows) = content.compare_rows() {
            self.rows = (0..rows.len() as u32)
                .filter(|&i| keep(&rows[i as usize].class.name))
                .collect();
            let sort = settings.comparison_sort;
            self.rows.sort_by(|&a, &b| {
                let (a, b) = (&rows[a as usize], &rows[b as usize]);
                // Suspects first, in the diff's rank order.
                let suspects = if settings.suspects_first {
                    match (a.suspect, b.suspect) {
                        (Some(x), Some(y)) => x.cmp(&y),
                        (Some(_), None) => Ordering::Less,
                        (None, Some(_)) => Ordering::Greater,
                        (None, None) => Ordering::Equal,
                    }
                } else {
                    Ordering::Equal
                };
                let (a, b) = (&a.class, &b.class);
                let ordering = match sort.column {
                    Column::Constructor => a.name.cmp(&b.name),
                    Column::New => a.added_count.cmp(&b.added_count),
                    Column::Deleted => a.removed_count.cmp(&b.removed_count),
                    Column::Delta => a.count_delta.cmp(&b.count_delta),
                    Column::AllocSize => a.added_size.cmp(&b.added_size),
                    Column::FreedSize => a.removed_size.cmp(&b.removed_size),
                    Column::RetainedByNew => a.added_retained_size.cmp(&b.added_retained_size),
                    Column::HeapPercent => a.after_share.total_cmp(&b.after_share),
                    _ => a.size_delta.cmp(&b.size_delta),
                };
                suspects.then(if sort.descending {
                    ordering.reverse()
                } else {
                    ordering
                })
            });
        } else if let Some(summary) = content.summary() {
            let rows = &summary.rows;
            self.rows = (0..rows.len() as u32)
                .filter(|&i| keep(&rows[i as usize].name))
                .collect();
            let sort = settings.summary_sort;
            self.rows.sort_by(|&a, &b| {
                let (a, b) = (&rows[a as usize], &rows[b as usize]);
                let ordering = match sort.column {
                    Column::Constructor => a.name.cmp(&b.name),
                    Column::Distance => a.distance.cmp(&b.distance),
                    Column::Count => a.count.cmp(&b.count),
                    Column::ShallowSize => a.self_size.cmp(&b.self_size),
                    _ => a.retained_size.cmp(&b.retained_size),
                };
                if sort.descending {
                    ordering.reverse()
                } else {
                    ordering
                }
            });
        }
    }
}

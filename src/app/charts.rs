//! Bar charts (egui_plot): the biggest growth by size and by count, and the heap composition
//! before/after. Bars are built from rows the engine computed; nothing is analysed here.

use eframe::egui;
use egui_plot::{Bar, BarChart, Legend, Plot};

use crate::format;
use crate::summary::ClassRow;

use super::state::CompareRow;

const TOP: usize = 12;

fn short(name: &str) -> String {
    let name = format::one_line(name);
    if name.chars().count() > 28 {
        let mut s: String = name.chars().take(27).collect();
        s.push('…');
        s
    } else {
        name.into_owned()
    }
}

/// A horizontal bar chart, biggest bar on top, names as bar labels.
fn ranked(ui: &mut egui::Ui, id: &str, title: &str, items: &[(String, f64)], height: f32) {
    ui.strong(title);
    let n = items.len();
    let bars: Vec<Bar> = items
        .iter()
        .enumerate()
        .map(|(i, (name, value))| Bar::new((n - i) as f64, *value).name(name).width(0.7))
        .collect();
    let labels: Vec<String> = items.iter().map(|(name, _)| name.clone()).collect();
    Plot::new(id)
        .height(height)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .show_x(false)
        .y_axis_formatter(move |mark, _| {
            let i = mark.value.round() as i64;
            if (mark.value - i as f64).abs() > 1e-6 || i < 1 || i as usize > n {
                return String::new();
            }
            labels.get(n - i as usize).cloned().unwrap_or_default()
        })
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new(title, bars).horizontal());
        });
}

pub fn comparison(ui: &mut egui::Ui, rows: &[CompareRow], before: &[ClassRow], after: &[ClassRow]) {
    let height = ((ui.available_height() - 80.0) / 2.0).max(160.0);
    ui.columns(2, |cols| {
        let mut by_size: Vec<&CompareRow> = rows.iter().filter(|r| r.size_delta > 0).collect();
        by_size.sort_by_key(|r| std::cmp::Reverse(r.size_delta));
        let items: Vec<(String, f64)> = by_size
            .iter()
            .take(TOP)
            .map(|r| (short(&r.name), r.size_delta as f64))
            .collect();
        ranked(
            &mut cols[0],
            "growth_size",
            "Growth by size (bytes)",
            &items,
            height,
        );
        let mut by_count: Vec<&CompareRow> = rows.iter().filter(|r| r.delta_count > 0).collect();
        by_count.sort_by_key(|r| std::cmp::Reverse(r.delta_count));
        let items: Vec<(String, f64)> = by_count
            .iter()
            .take(TOP)
            .map(|r| (short(&r.name), r.delta_count as f64))
            .collect();
        ranked(
            &mut cols[1],
            "growth_count",
            "Growth by count (# Delta)",
            &items,
            height,
        );
    });
    composition(ui, before, after, height);
}

pub fn summary(ui: &mut egui::Ui, rows: &[ClassRow]) {
    let height = (ui.available_height() - 40.0).max(200.0);
    ui.columns(2, |cols| {
        let items: Vec<(String, f64)> = rows
            .iter()
            .take(TOP)
            .map(|r| {
                (
                    short(&r.name),
                    r.retained_size.unwrap_or(r.self_size) as f64,
                )
            })
            .collect();
        ranked(
            &mut cols[0],
            "retained",
            "Largest retained size (bytes)",
            &items,
            height,
        );
        let mut by_count: Vec<&ClassRow> = rows.iter().collect();
        by_count.sort_by_key(|r| std::cmp::Reverse(r.count));
        let items: Vec<(String, f64)> = by_count
            .iter()
            .take(TOP)
            .map(|r| (short(&r.name), r.count as f64))
            .collect();
        ranked(
            &mut cols[1],
            "count",
            "Most objects (count)",
            &items,
            height,
        );
    });
}

/// Shallow size per class before and after, for the classes biggest after.
pub fn composition(ui: &mut egui::Ui, before: &[ClassRow], after: &[ClassRow], height: f32) {
    ui.strong("Heap composition: shallow size per class, before and after");
    let mut top: Vec<&ClassRow> = after.iter().collect();
    top.sort_by_key(|r| std::cmp::Reverse(r.self_size));
    top.truncate(TOP);
    let before_size = |key: &str| {
        before
            .iter()
            .find(|r| r.class_key == key)
            .map_or(0, |r| r.self_size)
    };
    let n = top.len();
    let mut before_bars = Vec::with_capacity(n);
    let mut after_bars = Vec::with_capacity(n);
    for (i, row) in top.iter().enumerate() {
        let y = (n - i) as f64;
        before_bars.push(
            Bar::new(y + 0.2, before_size(&row.class_key) as f64)
                .name(short(&row.name))
                .width(0.35),
        );
        after_bars.push(
            Bar::new(y - 0.2, row.self_size as f64)
                .name(short(&row.name))
                .width(0.35),
        );
    }
    let labels: Vec<String> = top.iter().map(|r| short(&r.name)).collect();
    Plot::new("composition")
        .height(height)
        .legend(Legend::default())
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .y_axis_formatter(move |mark, _| {
            let i = mark.value.round() as i64;
            if (mark.value - i as f64).abs() > 1e-6 || i < 1 || i as usize > n {
                return String::new();
            }
            labels.get(n - i as usize).cloned().unwrap_or_default()
        })
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new("before", before_bars).horizontal());
            plot.bar_chart(BarChart::new("after", after_bars).horizontal());
        });
}

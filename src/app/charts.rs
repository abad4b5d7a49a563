//! Bar charts (egui_plot): the biggest growth by size and by count, and the heap composition
//! before/after. Bars are built from rows the engine computed; nothing is analysed here.

use eframe::egui;
use egui_plot::{Bar, BarChart, Legend, Plot};

use crate::analysis::summary::SummaryRow;
use crate::format;
use crate::report::ClassRow;

use super::model::Row;

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

/// An axis mark: human sizes for bytes, thousands separators for counts; none below zero.
fn axis_value(value: f64, bytes: bool) -> String {
    if value < 0.0 {
        return String::new();
    }
    if bytes {
        format::bytes(value.round() as u64)
    } else {
        format::thousands(value.round() as u64)
    }
}

/// A horizontal bar chart, biggest bar on top, names as bar labels.
fn ranked(
    ui: &mut egui::Ui,
    id: &str,
    title: &str,
    items: &[(String, f64)],
    height: f32,
    bytes: bool,
) {
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
        .x_axis_formatter(move |mark, _| axis_value(mark.value, bytes))
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

/// The bars of the Charts tab, computed once when the content arrives (on the worker), so a
/// frame only draws at most [`TOP`] bars per chart whatever the number of classes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChartData {
    /// Comparison: growth by size; Summary: largest retained size.
    pub by_size: Vec<(String, f64)>,
    /// Comparison: growth by count; Summary: most objects.
    pub by_count: Vec<(String, f64)>,
    /// Shallow size per class, before and after, for the classes biggest after (a live
    /// comparison only: a findings file has no Summary rows).
    pub composition: Option<Vec<(String, f64, f64)>>,
}

impl ChartData {
    pub fn comparison(rows: &[Row], summaries: Option<(&[SummaryRow], &[SummaryRow])>) -> Self {
        let classes = rows.iter().map(|r| &r.class);
        let mut by_size: Vec<&ClassRow> = classes.clone().filter(|r| r.size_delta > 0).collect();
        by_size.sort_by_key(|r| std::cmp::Reverse(r.size_delta));
        let mut by_count: Vec<&ClassRow> = classes.filter(|r| r.count_delta > 0).collect();
        by_count.sort_by_key(|r| std::cmp::Reverse(r.count_delta));
        let composition = summaries.map(|(before, after)| {
            let before_size: std::collections::HashMap<&str, u64> = before
                .iter()
                .map(|r| (r.class_key.as_str(), r.self_size))
                .collect();
            let mut top: Vec<&SummaryRow> = after.iter().collect();
            top.sort_by_key(|r| std::cmp::Reverse(r.self_size));
            top.iter()
                .take(TOP)
                .map(|r| {
                    let b = before_size.get(r.class_key.as_str()).copied().unwrap_or(0);
                    (short(&r.name), b as f64, r.self_size as f64)
                })
                .collect()
        });
        ChartData {
            by_size: by_size
                .iter()
                .take(TOP)
                .map(|r| (short(&r.name), r.size_delta as f64))
                .collect(),
            by_count: by_count
                .iter()
                .take(TOP)
                .map(|r| (short(&r.name), r.count_delta as f64))
                .collect(),
            composition,
        }
    }

    pub fn summary(rows: &[SummaryRow]) -> Self {
        let mut by_retained: Vec<&SummaryRow> = rows.iter().collect();
        by_retained.sort_by_key(|r| std::cmp::Reverse(r.retained_size.unwrap_or(r.self_size)));
        let mut by_count: Vec<&SummaryRow> = rows.iter().collect();
        by_count.sort_by_key(|r| std::cmp::Reverse(r.count));
        ChartData {
            by_size: by_retained
                .iter()
                .take(TOP)
                .map(|r| {
                    (
                        short(&r.name),
                        r.retained_size.unwrap_or(r.self_size) as f64,
                    )
                })
                .collect(),
            by_count: by_count
                .iter()
                .take(TOP)
                .map(|r| (short(&r.name), r.count as f64))
                .collect(),
            composition: None,
        }
    }
}

pub fn comparison(ui: &mut egui::Ui, data: &ChartData) {
    let height = if data.composition.is_some() {
        ((ui.available_height() - 80.0) / 2.0).max(160.0)
    } else {
        (ui.available_height() - 60.0).max(200.0)
    };
    ui.columns(2, |cols| {
        ranked(
            &mut cols[0],
            "growth_size",
            "Growth by size (bytes)",
            &data.by_size,
            height,
            true,
        );
        ranked(
            &mut cols[1],
            "growth_count",
            "Growth by count (# Delta)",
            &data.by_count,
            height,
            false,
        );
    });
    match &data.composition {
        Some(composition) => self::composition(ui, composition, height),
        None => {
            ui.weak("Heap composition needs the snapshots: a findings file has no Summary rows.");
        }
    }
}

pub fn summary(ui: &mut egui::Ui, data: &ChartData) {
    let height = (ui.available_height() - 40.0).max(200.0);
    ui.columns(2, |cols| {
        ranked(
            &mut cols[0],
            "retained",
            "Largest retained size (bytes)",
            &data.by_size,
            height,
            true,
        );
        ranked(
            &mut cols[1],
            "count",
            "Most objects (count)",
            &data.by_count,
            height,
            false,
        );
    });
}

/// Shallow size per class before and after, for the classes biggest after.
pub fn composition(ui: &mut egui::Ui, top: &[(String, f64, f64)], height: f32) {
    ui.strong("Heap composition: shallow size per class, before and after");
    let n = top.len();
    let mut before_bars = Vec::with_capacity(n);
    let mut after_bars = Vec::with_capacity(n);
    for (i, (name, before, after)) in top.iter().enumerate() {
        let y = (n - i) as f64;
        before_bars.push(Bar::new(y + 0.2, *before).name(name).width(0.35));
        after_bars.push(Bar::new(y - 0.2, *after).name(name).width(0.35));
    }
    let labels: Vec<String> = top.iter().map(|(name, ..)| name.clone()).collect();
    Plot::new("composition")
        .height(height)
        .legend(Legend::default())
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .x_axis_formatter(|mark, _| axis_value(mark.value, true))
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

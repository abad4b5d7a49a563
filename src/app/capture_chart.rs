//! The capture panel's live chart (egui_plot): the target's JavaScript heap, used and total, one
//! reading a second across the whole capture, with the snapshots, the load and each garbage
//! collection marked where they happened.

use eframe::egui;
use egui::Color32;
use egui_plot::{HoverPosition, Line, LineStyle, Plot, PlotPoint, PlotPoints, Span, Text, VLine};

use crate::format;

use super::capture_link::HeapSample;

/// Something the capture did, and when (seconds since it began).
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub kind: MarkKind,
    pub start: f64,
    /// `None` while it runs.
    pub end: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// `before` or `after`.
    Snapshot(&'static str),
    Load,
    Gc,
}

const SNAPSHOT: Color32 = Color32::from_rgb(230, 150, 40);
const LOAD: Color32 = Color32::from_rgb(90, 160, 230);
const GC: Color32 = Color32::from_rgb(120, 190, 120);

/// Seconds as the axis shows them: `45 s`, `2:05`.
fn clock(seconds: f64) -> String {
    if seconds < 0.0 {
        return String::new();
    }
    let s = seconds.round() as u64;
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

const USED: Color32 = Color32::from_rgb(200, 80, 200);
const TOTAL: Color32 = Color32::GRAY;

/// How a key entry is drawn: a stroke along time, a mark across it, or a shaded stretch.
#[derive(Clone, Copy)]
enum Swatch {
    Line,
    Mark,
    Area,
}

/// The key, as one line above the chart (a legend inside it would cover the readings). The
/// swatches are painted, not glyphs: the window's fonts need not have box-drawing characters.
fn key(ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        for (swatch, color, text) in [
            (Swatch::Line, USED, "heap used"),
            (Swatch::Line, TOTAL, "heap total"),
            (Swatch::Mark, SNAPSHOT, "snapshot"),
            (Swatch::Area, LOAD, "load"),
            (Swatch::Mark, GC, "garbage collection"),
        ] {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 12.0), egui::Sense::hover());
            let painter = ui.painter();
            match swatch {
                Swatch::Line => painter.hline(rect.x_range(), rect.center().y, (2.0, color)),
                Swatch::Mark => painter.vline(rect.center().x, rect.y_range(), (2.0, color)),
                Swatch::Area => painter.rect_filled(
                    rect.shrink2(egui::vec2(2.0, 1.0)),
                    0.0,
                    color.gamma_multiply(0.4),
                ),
            };
            ui.label(egui::RichText::new(text).color(color).small());
            ui.add_space(6.0);
        }
    });
}

pub fn show(ui: &mut egui::Ui, samples: &[HeapSample], marks: &[Mark], now: f64, height: f32) {
    key(ui);
    let top = samples
        .iter()
        .map(|s| s.total.max(s.used))
        .fold(0.0f64, f64::max);
    Plot::new("capture_heap")
        .height(height)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_double_click_reset(false)
        .include_x(0.0)
        .include_x(now.max(10.0))
        .include_y(0.0)
        // An empty chart still reads in MiB; the headroom holds the snapshots' names.
        .include_y(top.max(f64::from(1u32 << 20)) * 1.2)
        .x_axis_formatter(|mark, _| clock(mark.value))
        .y_axis_formatter(|mark, _| {
            if mark.value < 0.0 {
                String::new()
            } else {
                format::bytes(mark.value.round() as u64)
            }
        })
        .label_formatter(|hover| match hover {
            HoverPosition::NearDataPoint {
                plot_name,
                position,
                ..
            } => Some(format!(
                "{plot_name}\n{}: {}",
                clock(position.x),
                format::bytes(position.y.max(0.0).round() as u64)
            )),
            HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |plot| {
            for (i, mark) in marks.iter().enumerate() {
                let end = mark.end.unwrap_or(now);
                match mark.kind {
                    MarkKind::Snapshot(name) => {
                        // Unnamed, so the marks stay out of the hover labels.
                        plot.span(
                            Span::new("", mark.start..=end.max(mark.start))
                                .fill(SNAPSHOT.gamma_multiply(0.25))
                                .border_color(SNAPSHOT),
                        );
                        plot.vline(
                            VLine::new("", mark.start)
                                .id(("snapshot start", i))
                                .color(SNAPSHOT)
                                .width(2.0),
                        );
                        plot.text(
                            Text::new(
                                "",
                                PlotPoint::new(mark.start, top.max(f64::from(1u32 << 20)) * 1.12),
                                egui::RichText::new(name).color(SNAPSHOT).strong(),
                            )
                            .id(("snapshot name", i))
                            .anchor(egui::Align2::LEFT_CENTER),
                        );
                    }
                    MarkKind::Load => plot.span(
                        Span::new("", mark.start..=end.max(mark.start))
                            .fill(LOAD.gamma_multiply(0.18))
                            .border_color(LOAD),
                    ),
                    MarkKind::Gc => plot.vline(
                        VLine::new("", mark.start)
                            .id(("gc", i))
                            .color(GC)
                            .style(LineStyle::dashed_dense()),
                    ),
                }
            }
            let line = |name: &str, value: fn(&HeapSample) -> f64| {
                let points: PlotPoints = samples.iter().map(|s| [s.at, value(s)]).collect();
                Line::new(name.to_string(), points)
            };
            plot.line(line("heap total", |s| s.total).color(TOTAL).width(1.0));
            plot.line(
                line("heap used", |s| s.used)
                    .color(USED)
                    .width(2.0)
                    .fill(0.0),
            );
        });
}

#[cfg(test)]
mod tests {
    #[test]
    fn axis_clock() {
        assert_eq!(super::clock(0.4), "0 s");
        assert_eq!(super::clock(59.0), "59 s");
        assert_eq!(super::clock(125.0), "2:05");
        assert_eq!(super::clock(-1.0), "");
    }
}

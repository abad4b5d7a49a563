//! The progress panel of a running load: each file's phase and bar, and Cancel.

use eframe::egui;

use super::command::Command;
use super::tasks::TaskView;

pub fn show(ui: &mut egui::Ui, task: &TaskView<'_>, out: &mut Vec<Command>) {
    ui.add_space(24.0);
    ui.vertical_centered(|ui| {
        ui.heading(if task.cancelling {
            "Cancelling…"
        } else {
            "Loading…"
        });
        ui.add_space(12.0);
    });
    for line in task.progress.lines() {
        ui.horizontal(|ui| {
            ui.label(&line.label);
            ui.weak(line.phase);
        });
        ui.add(
            egui::ProgressBar::new(line.fraction)
                .show_percentage()
                .desired_width(ui.available_width()),
        );
        ui.add_space(8.0);
    }
    ui.weak(format!(
        "{:.1} s elapsed",
        task.started.elapsed().as_secs_f32()
    ));
    ui.add_space(8.0);
    if ui
        .add_enabled(!task.cancelling, egui::Button::new("Cancel"))
        .on_hover_text(Command::Cancel.tooltip())
        .clicked()
    {
        out.push(Command::Cancel);
    }
    // The elapsed time keeps moving even when no progress arrives.
    ui.ctx()
        .request_repaint_after(std::time::Duration::from_millis(250));
}

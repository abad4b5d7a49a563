//! The progress panel of a running job: each file's phase and bar, and Cancel.

use super::command::Command;
use super::jobs::Job;
use eframe::egui;

pub fn show(ui: &mut egui::Ui, job: &Job, out: &mut Vec<Command>) {
    ui.add_space(24.0);
    ui.vertical_centered(|ui| {
        ui.heading(if job.is_cancelling() {
            "Cancelling…"
        } else {
            "Loading…"
        });
        ui.add_space(12.0);
    });
    for file in &job.files {
        ui.horizontal(|ui| {
            if let Some(side) = file.side {
                ui.strong(format!("{}:", side.label()));
            }
            ui.label(file.file_name());
            ui.weak(file.phase());
        });
        ui.add(
            egui::ProgressBar::new(file.fraction())
                .show_percentage()
                .desired_width(ui.available_width()),
        );
        ui.add_space(8.0);
    }
    ui.weak(format!(
        "{:.1} s elapsed",
        job.started.elapsed().as_secs_f32()
    ));
    ui.add_space(8.0);
    if ui
        .add_enabled(!job.is_cancelling(), egui::Button::new("Cancel"))
        .on_hover_text(Command::Cancel.tooltip())
        .clicked()
    {
        out.push(Command::Cancel);
    }
    // The elapsed time keeps moving even when no progress arrives.
    ui.ctx()
        .request_repaint_after(std::time::Duration::from_millis(250));
}

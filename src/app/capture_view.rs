//! The capture panel drawn: the source (an address and its targets, or a command to start), the
//! folder and the load, the four steps with the running one's progress and Cancel, the live heap
//! chart and the processes' output. It reads [`CapturePanel`] and pushes [`CaptureCommand`]s.

use eframe::egui;
use egui::{Color32, RichText};

use crate::format;

use super::capture_chart;
use super::capture_panel::{
    AttachedTo, CaptureCommand, CapturePanel, CaptureSettings, DEFAULT_ADDRESS, STEPS, SourceMode,
    Targets,
};
use super::capture_tasks::CaptureTask;
use super::command::Command;
use super::outcome::Outcome;
use super::tasks::{BackgroundTasks, TaskName};

fn push(out: &mut Vec<Command>, c: CaptureCommand) {
    out.push(Command::Capture(c));
}

/// A one-line text field that pushes a command when edited.
fn field(
    ui: &mut egui::Ui,
    label: &str,
    value: &str,
    hint: &str,
    width: f32,
    make: fn(String) -> CaptureCommand,
    out: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        let label = ui.label(label);
        let mut text = value.to_string();
        let edit = egui::TextEdit::singleline(&mut text)
            .hint_text(hint)
            .desired_width(width);
        if ui.add(edit).labelled_by(label.id).changed() {
            push(out, make(text));
        }
    });
}

pub fn show(
    ui: &mut egui::Ui,
    panel: &CapturePanel,
    settings: &CaptureSettings,
    tasks: &BackgroundTasks<Outcome>,
    out: &mut Vec<Command>,
) {
    let running = |t: CaptureTask| tasks.is_running(TaskName::Capture(t));
    let attaching = running(CaptureTask::Attach);
    let stepping = STEPS.iter().any(|&t| running(t));
    let linked = panel.link.is_some();
    let field_width = (ui.available_width() - 120.0).max(120.0);

    ui.horizontal(|ui| {
        ui.heading("Capture");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("Close capture")
                .on_hover_text("Let go of the target; a process heapdiff started is stopped")
                .clicked()
            {
                push(out, CaptureCommand::Close);
            }
        });
    });
    ui.weak("Snapshots of a live Node process before and after a load, compared on their own.");
    ui.separator();

    ui.add_enabled_ui(!linked, |ui| {
        ui.horizontal(|ui| {
            for (mode, label) in [
                (SourceMode::Inspect, "Inspector at an address"),
                (SourceMode::Command, "Start a command"),
            ] {
                if ui.radio(settings.mode == mode, label).clicked() {
                    push(out, CaptureCommand::SetMode(mode));
                }
            }
        });
        match settings.mode {
            SourceMode::Inspect => inspect_source(ui, panel, settings, tasks, field_width, out),
            SourceMode::Command => {
                let width = field_width;
                field(
                    ui,
                    "Command",
                    &settings.command,
                    "node server.js",
                    width,
                    CaptureCommand::SetCommand,
                    out,
                );
                field(
                    ui,
                    "Ready URL",
                    &settings.ready,
                    "optional: http://127.0.0.1:3000/",
                    width,
                    CaptureCommand::SetReady,
                    out,
                );
                ui.weak(
                    "Run through sh -c with NODE_OPTIONS=--inspect=127.0.0.1:0; stopped when \
                     you disconnect, close this panel or quit.",
                );
            }
        }
        let mut allow = panel.allow_remote;
        if ui
            .checkbox(&mut allow, "Allow remote inspectors")
            .on_hover_text(
                "Connect to inspectors on other machines (--allow-remote). Snapshots hold the \
                 heap's secrets and travel unencrypted.",
            )
            .changed()
        {
            push(out, CaptureCommand::SetAllowRemote(allow));
        }
    });

    ui.horizontal(|ui| {
        if !linked {
            let label = match settings.mode {
                SourceMode::Inspect => "Connect",
                SourceMode::Command => "Start and connect",
            };
            if ui.button(label).clicked() {
                push(out, CaptureCommand::Connect);
            }
        } else if ui
            .add_enabled(!attaching, egui::Button::new("Disconnect"))
            .clicked()
        {
            push(out, CaptureCommand::Disconnect);
        }
        if let Some(task) = tasks.view(TaskName::Capture(CaptureTask::Attach)) {
            ui.spinner();
            let phase = task.progress.lines().first().map_or("", |l| l.phase);
            ui.weak(format!("attaching… {phase}"));
            if ui.small_button("Cancel").clicked() {
                push(out, CaptureCommand::Cancel);
            }
        } else if let Some(a) = &panel.attached {
            ui.label(format!("Attached to {}", a.target.label()));
        }
    });
    if let Some(AttachedTo {
        process: Some((label, pid)),
        ..
    }) = &panel.attached
    {
        ui.weak(format!("Started {label} (pid {pid})"));
    }
    ui.separator();

    ui.horizontal(|ui| {
        ui.label("Folder");
        match &settings.folder {
            Some(dir) => ui.monospace(dir.display().to_string()),
            None => ui.weak("none chosen"),
        };
        if ui
            .add_enabled(!stepping, egui::Button::new("Choose…"))
            .on_hover_text("Each before/after pair goes into a new capture-N folder inside")
            .clicked()
        {
            push(out, CaptureCommand::ChooseFolder);
        }
    });
    field(
        ui,
        "Load command",
        &settings.load,
        "empty: I'll exercise the app myself",
        field_width,
        CaptureCommand::SetLoad,
        out,
    );

    steps(ui, panel, settings, tasks, out);
    if let Some(error) = &panel.error {
        ui.colored_label(
            Color32::from_rgb(230, 70, 60),
            RichText::new(error).strong(),
        );
    } else if let Some(note) = &panel.note {
        ui.label(note);
    }
    ui.separator();

    let now = panel.feed.now();
    let samples = panel.feed.samples().clone();
    ui.horizontal(|ui| {
        ui.strong("Heap");
        match samples.last() {
            Some(s) => ui.weak(format!(
                "{} used of {} (Runtime.getHeapUsage, every second)",
                format::bytes(s.used as u64),
                format::bytes(s.total as u64)
            )),
            _ if panel.heap_error.is_some() => ui.colored_label(
                Color32::from_rgb(230, 70, 60),
                panel.heap_error.as_deref().unwrap_or_default(),
            ),
            None if panel.attached.is_some() => ui.weak("waiting for the first reading…"),
            None => ui.weak("connect to see the target's heap"),
        };
    });
    let output_height = if panel.feed.output().is_empty() {
        0.0
    } else {
        110.0
    };
    let height = (ui.available_height() - output_height - 30.0).max(160.0);
    capture_chart::show(ui, &samples, &panel.marks, now, height);
    output(ui, panel);
    if linked {
        // The chart's right edge moves with time even between readings.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(500));
    }
}

fn inspect_source(
    ui: &mut egui::Ui,
    panel: &CapturePanel,
    settings: &CaptureSettings,
    tasks: &BackgroundTasks<Outcome>,
    width: f32,
    out: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        let label = ui.label("Address");
        let mut text = settings.address.clone();
        let edit = egui::TextEdit::singleline(&mut text)
            .hint_text(DEFAULT_ADDRESS)
            .desired_width(width - 100.0);
        if ui.add(edit).labelled_by(label.id).changed() {
            push(out, CaptureCommand::SetAddress(text));
        }
        if ui
            .button("Find targets")
            .on_hover_text("List what the inspector at this address offers (/json/list)")
            .clicked()
        {
            push(out, CaptureCommand::FindTargets);
        }
        if tasks.is_running(TaskName::Capture(CaptureTask::Targets)) {
            ui.spinner();
        }
    });
    match &panel.targets {
        Targets::Unknown => {
            ui.weak("Connect takes the first Node target; Find targets lists them all.");
        }
        Targets::Listed { address, targets } if targets.is_empty() => {
            ui.weak(format!("The inspector at {address} lists no targets."));
        }
        Targets::Listed { targets, .. } => {
            for t in targets {
                let chosen = panel.chosen.as_deref() == Some(t.id.as_str());
                if ui
                    .radio(chosen, t.label())
                    .on_hover_text(format!("id {}", t.id))
                    .clicked()
                {
                    push(out, CaptureCommand::ChooseTarget(t.id.clone()));
                }
            }
        }
        Targets::Failed(e) => {
            ui.colored_label(Color32::from_rgb(230, 70, 60), e);
        }
    }
}

/// The four buttons, the running step's progress and its Cancel, and what to do next.
fn steps(
    ui: &mut egui::Ui,
    panel: &CapturePanel,
    settings: &CaptureSettings,
    tasks: &BackgroundTasks<Outcome>,
    out: &mut Vec<Command>,
) {
    let stepping = STEPS
        .iter()
        .any(|&t| tasks.is_running(TaskName::Capture(t)));
    let attached = panel.attached.is_some() && panel.link.is_some();
    let folder = settings.folder.is_some();
    let before = panel.round.before.is_some();
    let load = !settings.load.trim().is_empty();
    ui.horizontal_wrapped(|ui| {
        let mut button = |ui: &mut egui::Ui, label: &str, enabled: bool, tip: &str, c| {
            if ui
                .add_enabled(enabled, egui::Button::new(label))
                .on_hover_text(tip)
                .on_disabled_hover_text(tip)
                .clicked()
            {
                push(out, c);
            }
        };
        button(
            ui,
            "Snapshot before",
            attached && folder && !stepping,
            "Collect garbage twice, then stream before.heapsnapshot into a new capture-N folder",
            CaptureCommand::SnapshotBefore,
        );
        button(
            ui,
            "Run load",
            attached && load && !stepping,
            "Run the load command through sh -c; a failing load is an error",
            CaptureCommand::RunLoad,
        );
        button(
            ui,
            "Collect garbage",
            attached && !stepping,
            "HeapProfiler.collectGarbage, as DevTools' button",
            CaptureCommand::CollectGarbage,
        );
        button(
            ui,
            "Snapshot after",
            attached && before && !stepping,
            "Collect garbage twice, stream after.heapsnapshot, then open the comparison",
            CaptureCommand::SnapshotAfter,
        );
    });
    let hint = if !attached {
        None
    } else if !folder {
        Some("Choose a folder for the snapshots.")
    } else if panel.round.after.is_some() {
        Some("Compared. Snapshot before starts a new pair, in a new folder.")
    } else if !before {
        Some("Snapshot before, then load the app.")
    } else if !load {
        Some("Exercise the app yourself now, then Snapshot after.")
    } else {
        Some("Run load, then Snapshot after (Collect garbage if you like).")
    };
    for task in STEPS {
        let Some(view) = tasks.view(TaskName::Capture(task)) else {
            continue;
        };
        let line = view.progress.lines().into_iter().next();
        ui.horizontal(|ui| {
            let (label, phase, fraction) = line
                .as_ref()
                .map_or(("", "", 0.0), |l| (l.label.as_str(), l.phase, l.fraction));
            let text = if view.cancelling && task == CaptureTask::Snapshot {
                // V8 finishes a snapshot it has begun; the rest is read and thrown away.
                "cancelling: partial file removed, the target is finishing its snapshot".to_string()
            } else if view.cancelling {
                "cancelling…".to_string()
            } else if phase == "writing" {
                panel.link.as_ref().map_or_else(String::new, |l| {
                    format!("{label}: {} written", format::bytes(l.written()))
                })
            } else if phase == "building the snapshot" {
                format!("{label}: building {:.0} %", fraction * 100.0)
            } else {
                format!("{label} {phase}")
            };
            let bar = egui::ProgressBar::new(if phase == "building the snapshot" {
                fraction
            } else {
                0.0
            })
            .text(text)
            .animate(phase != "building the snapshot")
            .desired_width((ui.available_width() - 70.0).max(120.0));
            ui.add(bar);
            if ui
                .add_enabled(!view.cancelling, egui::Button::new("Cancel"))
                .clicked()
            {
                push(out, CaptureCommand::Cancel);
            }
        });
    }
    if !stepping && let Some(hint) = hint {
        ui.weak(hint);
    }
}

/// The last lines of the started process and the load command.
fn output(ui: &mut egui::Ui, panel: &CapturePanel) {
    let lines = panel.feed.output();
    if lines.is_empty() {
        return;
    }
    let plural = if lines.len() == 1 { "" } else { "s" };
    egui::CollapsingHeader::new(format!("Output ({} line{plural})", lines.len()))
        .default_open(true)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .max_height(80.0)
                .stick_to_bottom(true)
                .show(ui, |ui| {
                    for line in lines.iter() {
                        let origin = match line.origin {
                            crate::capture::Origin::Target => "target",
                            crate::capture::Origin::Load => "load",
                        };
                        ui.monospace(format!("[{origin}] {}", line.text));
                    }
                });
        });
}

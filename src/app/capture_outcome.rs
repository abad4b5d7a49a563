//! What the capture panel's tasks answer, taken in: the chart's marks ended, the round updated,
//! and after the second snapshot the comparison opened through [`Command::OpenPair`] (the
//! pipeline `heapdiff diff` uses).

use crate::capture::routine;
use crate::format;

use super::capture_chart::MarkKind;
use super::capture_panel::{self, AttachedTo, Round};
use super::capture_tasks::{self, CaptureOutcome, CaptureTask};
use super::tasks::TaskName;
use super::{Command, HeapdiffApp};

impl HeapdiffApp {
    /// A capture task's answer.
    pub(super) fn capture_arrived(&mut self, outcome: CaptureOutcome) {
        if let CaptureOutcome::Closed(stopped) = &outcome {
            if let Some(label) = stopped {
                self.status = Some(format!("Stopped {label}"));
            }
            return;
        }
        if let CaptureOutcome::Folder(folder) = outcome {
            self.settings.capture.folder = Some(folder);
            return;
        }
        let address = self.settings.capture.address.trim().to_string();
        let Some(panel) = &mut self.capture else {
            return;
        };
        let current = panel.link.as_ref().map(|l| l.id);
        let now = panel.feed.now();
        let mut end = |kind: fn(&MarkKind) -> bool| {
            if let Some(m) = panel
                .marks
                .iter_mut()
                .rev()
                .find(|m| m.end.is_none() && kind(&m.kind))
            {
                m.end = Some(now);
            }
        };
        match outcome {
            CaptureOutcome::Targets {
                address: listed,
                targets,
            } => {
                if listed != address {
                    return;
                }
                if !panel
                    .chosen
                    .as_ref()
                    .is_some_and(|id| targets.iter().any(|t| &t.id == id))
                {
                    panel.chosen = targets
                        .iter()
                        .find(|t| t.kind == "node")
                        .or(targets.first())
                        .map(|t| t.id.clone());
                }
                panel.targets = capture_panel::Targets::Listed {
                    address: listed,
                    targets,
                };
            }
            CaptureOutcome::Attached {
                link,
                target,
                process,
            } => {
                if current != Some(link) {
                    return;
                }
                let note = format!("Attached to {}", target.label());
                panel.note = Some(note.clone());
                panel.error = None;
                panel.attached = Some(AttachedTo {
                    target: target.clone(),
                    process,
                });
                self.status = Some(note);
                if let Some(link) = panel.link.clone() {
                    self.spawn(TaskName::Capture(CaptureTask::Heap), vec![], move |ctx| {
                        capture_tasks::watch_heap(link, target, ctx)
                    });
                }
            }
            CaptureOutcome::Saved {
                link,
                name,
                dir,
                saved,
            } => {
                end(|k| matches!(k, MarkKind::Snapshot(_)));
                if current != Some(link) {
                    return;
                }
                if let Some(link) = &panel.link {
                    link.take_made_dir();
                }
                let line = format!(
                    "Saved {} ({} in {:.1} s) in {}",
                    format::file_label(&saved.path),
                    format::bytes(saved.bytes),
                    saved.elapsed.as_secs_f64(),
                    dir.display()
                );
                panel.note = Some(line.clone());
                self.status = Some(line);
                if name == routine::BEFORE {
                    panel.round = Round {
                        dir: Some(dir),
                        before: Some(saved),
                        after: None,
                    };
                    return;
                }
                panel.round.after = Some(saved.clone());
                // The comparison opens on its own, through the same pipeline as `heapdiff diff`.
                if let Some(before) = &panel.round.before {
                    let command = Command::OpenPair {
                        before: before.path.clone(),
                        after: saved.path,
                        final_: None,
                    };
                    self.handle_command(command);
                }
            }
            CaptureOutcome::Loaded {
                link,
                status,
                elapsed,
            } => {
                end(|k| *k == MarkKind::Load);
                if current == Some(link) {
                    panel.note = Some(format!(
                        "Load finished ({status}) after {:.1} s",
                        elapsed.as_secs_f64()
                    ));
                }
            }
            CaptureOutcome::Collected { link } => {
                end(|k| *k == MarkKind::Gc);
                if current == Some(link) {
                    panel.note = Some("Garbage collected".into());
                }
            }
            CaptureOutcome::HeapStopped { link, why } => {
                if current == Some(link) {
                    panel.heap_error = Some(why.clone());
                    // The status bar keeps a step's error about the same cause.
                    self.error.get_or_insert(why);
                }
            }
            CaptureOutcome::Folder(_) | CaptureOutcome::Closed(_) => {}
        }
    }

    /// A capture task ended without an answer: its mark ends, and the panel says why.
    pub(super) fn capture_stopped(&mut self, task: CaptureTask, error: Option<&str>) {
        let Some(panel) = &mut self.capture else {
            return;
        };
        let now = panel.feed.now();
        let kind: Option<fn(&MarkKind) -> bool> = match task {
            CaptureTask::Snapshot => Some(|k| matches!(k, MarkKind::Snapshot(_))),
            CaptureTask::Load => Some(|k| *k == MarkKind::Load),
            CaptureTask::Gc => Some(|k| *k == MarkKind::Gc),
            _ => None,
        };
        if let Some(kind) = kind
            && let Some(m) = panel
                .marks
                .iter_mut()
                .rev()
                .find(|m| m.end.is_none() && kind(&m.kind))
        {
            m.end = Some(now);
        }
        match (task, error) {
            (CaptureTask::Targets, Some(e)) => {
                panel.targets = capture_panel::Targets::Failed(e.to_string());
                panel.error = Some(e.to_string());
            }
            (CaptureTask::Attach, _) => {
                // Nothing was kept: the attach task stopped what it had started.
                panel.link = None;
                panel.error = error.map(str::to_string);
                if error.is_none() {
                    panel.note = Some("Attaching cancelled".into());
                }
            }
            (CaptureTask::Snapshot, _) => {
                // A before that did not make it still opened its round: the next one goes
                // into the same folder rather than leave an empty capture-N behind.
                if let Some(dir) = panel.link.as_ref().and_then(|l| l.take_made_dir()) {
                    panel.round = Round {
                        dir: Some(dir),
                        before: None,
                        after: None,
                    };
                }
                match error {
                    Some(e) => panel.error = Some(e.to_string()),
                    None => panel.note = Some("Snapshot cancelled: nothing was kept".into()),
                }
            }
            (CaptureTask::Load, None) => panel.note = Some("Load cancelled".into()),
            (_, Some(e)) => panel.error = Some(e.to_string()),
            (_, None) => {}
        }
    }
}

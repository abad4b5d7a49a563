//! The screenshot view's capture (`HEAPDIFF_SCREENSHOT_VIEW=capture`, driven by
//! `screenshots/app.sh`): the panel's commands pushed one by one as a user would click them,
//! against the server the script started.

use super::capture_panel::{self, CaptureCommand};
use super::capture_tasks::CaptureTask;
use super::tasks::TaskName;
use super::{Command, HeapdiffApp};

/// Screenshot view only (`screenshots/app.sh`): the inspector the scripted capture attaches to,
/// the load it runs and the folder it writes to.
pub const SCREENSHOT_INSPECT_ENV: &str = "HEAPDIFF_SCREENSHOT_INSPECT";
pub const SCREENSHOT_LOAD_ENV: &str = "HEAPDIFF_SCREENSHOT_LOAD";
pub const SCREENSHOT_OUT_ENV: &str = "HEAPDIFF_SCREENSHOT_OUT";

impl HeapdiffApp {
    /// The screenshot view's capture, step by step as a user would click it, with pauses so the
    /// chart shows each phase: find targets, connect, before, load, GC, after.
    pub(super) fn drive_screenshot(&mut self, out: &mut Vec<Command>) {
        let busy = [CaptureTask::Targets, CaptureTask::Attach]
            .into_iter()
            .chain(capture_panel::STEPS)
            .any(|t| self.tasks.is_running(TaskName::Capture(t)));
        let Some(panel) = &mut self.capture else {
            return;
        };
        let now = panel.feed.now();
        if panel.script < 7 {
            // Nothing else may ask for a frame while the script pauses.
            self.ctx
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
        if busy || now - panel.script_at < 2.0 || panel.error.is_some() {
            return;
        }
        let env = |name: &str| std::env::var(name).unwrap_or_default();
        let mut send = |c| out.push(Command::Capture(c));
        let next = match panel.script {
            0 => {
                send(CaptureCommand::SetAddress(env(SCREENSHOT_INSPECT_ENV)));
                send(CaptureCommand::SetLoad(env(SCREENSHOT_LOAD_ENV)));
                send(CaptureCommand::SetFolder(env(SCREENSHOT_OUT_ENV).into()));
                send(CaptureCommand::FindTargets);
                true
            }
            1 => {
                let listed = matches!(panel.targets, capture_panel::Targets::Listed { .. });
                if listed {
                    send(CaptureCommand::Connect);
                }
                listed
            }
            2 if panel.attached.is_some() && panel.feed.samples().len() >= 3 => {
                send(CaptureCommand::SnapshotBefore);
                true
            }
            3 if panel.round.before.is_some() => {
                send(CaptureCommand::RunLoad);
                true
            }
            4 => {
                send(CaptureCommand::CollectGarbage);
                true
            }
            5 => {
                send(CaptureCommand::SnapshotAfter);
                true
            }
            6 => panel.round.after.is_some(),
            _ => false,
        };
        if next {
            panel.script += 1;
            panel.script_at = now;
        }
    }

    /// Whether the screenshot view's capture is done and its comparison could be on screen.
    pub(super) fn capture_screenshot_done(&self) -> bool {
        self.capture.as_ref().is_some_and(|p| {
            p.script >= 7 && p.feed.now() - p.script_at > 3.0 && p.round.after.is_some()
        }) && !self.is_loading()
    }
}

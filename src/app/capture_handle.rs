//! The capture panel's commands applied and its tasks' answers taken in. Anything that talks to
//! the target becomes a task ([`super::capture_tasks`]); this only moves state and marks the
//! chart.

use std::sync::Arc;

use eframe::egui;

use crate::capture::{AttachOptions, DEFAULT_TIMEOUT, Source, routine};
use crate::format;

use super::capture_chart::{Mark, MarkKind};
use super::capture_panel::{self, AttachedTo, CaptureCommand, CapturePanel, Round, SourceMode};
use super::capture_tasks::{self, CaptureOutcome, CaptureTask, Feed, Link, RoundDir};
use super::tasks::TaskName;
use super::{Command, HeapdiffApp, ScreenshotView};

/// Screenshot view only (`screenshots/app.sh`): the inspector the scripted capture attaches to,
/// the load it runs and the folder it writes to.
pub const SCREENSHOT_INSPECT_ENV: &str = "HEAPDIFF_SCREENSHOT_INSPECT";
pub const SCREENSHOT_LOAD_ENV: &str = "HEAPDIFF_SCREENSHOT_LOAD";
pub const SCREENSHOT_OUT_ENV: &str = "HEAPDIFF_SCREENSHOT_OUT";

impl HeapdiffApp {
    pub(super) fn handle_capture(&mut self, command: CaptureCommand) {
        if command == CaptureCommand::Open {
            if self.capture.is_none() {
                self.capture = Some(CapturePanel::default());
            }
            return;
        }
        let Some(panel) = &self.capture else {
            return;
        };
        match command {
            CaptureCommand::Close => self.close_capture(),
            CaptureCommand::FindTargets => {
                let address = self.settings.capture.address.trim().to_string();
                let allow = panel.allow_remote;
                self.spawn(TaskName::Capture(CaptureTask::Targets), vec![], move |_| {
                    capture_tasks::list_targets(address, allow)
                });
            }
            CaptureCommand::ChooseFolder => {
                let start = self.settings.capture.folder.clone();
                self.spawn(TaskName::Dialog, vec![], move |_| {
                    capture_tasks::pick_folder(start)
                });
            }
            CaptureCommand::Connect => self.connect_capture(),
            CaptureCommand::Disconnect => self.disconnect_capture(),
            CaptureCommand::SnapshotBefore => self.capture_snapshot(routine::BEFORE),
            CaptureCommand::SnapshotAfter => self.capture_snapshot(routine::AFTER),
            CaptureCommand::RunLoad => self.capture_load(),
            CaptureCommand::CollectGarbage => self.capture_step(
                CaptureTask::Gc,
                MarkKind::Gc,
                "collecting garbage".into(),
                capture_tasks::collect_garbage,
            ),
            CaptureCommand::Cancel => {
                for task in [CaptureTask::Targets, CaptureTask::Attach]
                    .into_iter()
                    .chain(capture_panel::STEPS)
                {
                    self.tasks.cancel(TaskName::Capture(task));
                }
            }
            field => self.capture_field(field),
        }
    }

    /// The panel's fields (the persisted ones in the settings).
    fn capture_field(&mut self, command: CaptureCommand) {
        let settings = &mut self.settings.capture;
        let Some(panel) = &mut self.capture else {
            return;
        };
        match command {
            CaptureCommand::SetMode(mode) => settings.mode = mode,
            CaptureCommand::SetAddress(address) => {
                settings.address = address;
                panel.targets = Default::default();
                panel.chosen = None;
            }
            CaptureCommand::SetCommand(command) => settings.command = command,
            CaptureCommand::SetReady(url) => settings.ready = url,
            CaptureCommand::SetLoad(load) => settings.load = load,
            CaptureCommand::SetAllowRemote(allow) => panel.allow_remote = allow,
            CaptureCommand::ChooseTarget(id) => panel.chosen = Some(id),
            CaptureCommand::SetFolder(folder) => settings.folder = Some(folder),
            _ => {}
        }
    }

    /// A new link, and the attach task that fills it.
    fn connect_capture(&mut self) {
        self.disconnect_capture();
        let ctx = self.ctx.clone();
        let settings = &self.settings.capture;
        let Some(panel) = &mut self.capture else {
            return;
        };
        let source = match settings.mode {
            SourceMode::Inspect => Source::Inspect {
                address: settings.address.trim().to_string(),
                target: panel.chosen.clone(),
            },
            SourceMode::Command if settings.command.trim().is_empty() => {
                panel.error = Some("Type the command heapdiff should start".into());
                return;
            }
            // Through sh -c, like the load command: quoting and `PORT=… node …` work as typed.
            SourceMode::Command => Source::Command(vec![
                "sh".into(),
                "-c".into(),
                settings.command.trim().to_string(),
            ]),
        };
        let ready = settings.ready.trim();
        let options = AttachOptions {
            source,
            allow_remote: panel.allow_remote,
            ready: (settings.mode == SourceMode::Command && !ready.is_empty())
                .then(|| ready.to_string()),
            timeout: DEFAULT_TIMEOUT,
        };
        let id = panel.next_link;
        panel.next_link += 1;
        panel.feed = Feed::new();
        panel.marks.clear();
        panel.round = Round::default();
        panel.error = None;
        panel.note = None;
        panel.heap_error = None;
        let link = Arc::new(Link::new(id, panel.feed.clone(), ctx));
        panel.link = Some(link.clone());
        let started = self.spawn(
            TaskName::Capture(CaptureTask::Attach),
            vec!["attaching".into()],
            move |ctx| capture_tasks::attach(link, options, ctx),
        );
        if !started && let Some(panel) = &mut self.capture {
            panel.link = None;
        }
    }

    /// Lets go of the link on a task (sessions closed, the started process stopped); the chart
    /// and its marks stay until the next connect.
    fn disconnect_capture(&mut self) {
        let Some(panel) = &mut self.capture else {
            return;
        };
        panel.attached = None;
        let Some(link) = panel.link.take() else {
            return;
        };
        let now = panel.feed.now();
        for mark in &mut panel.marks {
            mark.end.get_or_insert(now);
        }
        self.tasks.discard(|n| {
            matches!(n, TaskName::Capture(t) if t != CaptureTask::Targets
                && !matches!(t, CaptureTask::Close { .. }))
        });
        let name = TaskName::Capture(CaptureTask::Close { link: link.id });
        let closing = link.clone();
        if !self.spawn(name, vec![], move |_| capture_tasks::close(closing)) {
            // No thread to do it on: let go here rather than leave a process running.
            link.close();
        }
    }

    fn close_capture(&mut self) {
        self.disconnect_capture();
        self.tasks
            .discard(|n| n == TaskName::Capture(CaptureTask::Targets));
        self.capture = None;
    }

    /// Starts a step on the link, marking the chart where it began.
    fn capture_step(
        &mut self,
        task: CaptureTask,
        kind: MarkKind,
        line: String,
        work: fn(Arc<Link>, &super::tasks::TaskContext) -> super::outcome::Outcome,
    ) {
        let Some(panel) = &mut self.capture else {
            return;
        };
        let Some(link) = panel.link.clone().filter(|_| panel.attached.is_some()) else {
            panel.error = Some("Not attached: connect to a target first".into());
            return;
        };
        let start = panel.feed.now();
        if self.spawn(TaskName::Capture(task), vec![line], move |ctx| {
            work(link, ctx)
        }) && let Some(panel) = &mut self.capture
        {
            panel.error = None;
            panel.marks.push(Mark {
                kind,
                start,
                end: None,
            });
        }
    }

    fn capture_load(&mut self) {
        let command = self.settings.capture.load.trim().to_string();
        if command.is_empty() {
            if let Some(panel) = &mut self.capture {
                panel.error = Some("No load command: exercise the app yourself".into());
            }
            return;
        }
        let Some(panel) = &mut self.capture else {
            return;
        };
        let Some(link) = panel.link.clone().filter(|_| panel.attached.is_some()) else {
            return;
        };
        let start = panel.feed.now();
        let line = format!("load: {command}");
        if self.spawn(
            TaskName::Capture(CaptureTask::Load),
            vec![line],
            move |ctx| capture_tasks::load(link, command, ctx),
        ) && let Some(panel) = &mut self.capture
        {
            panel.error = None;
            panel.marks.push(Mark {
                kind: MarkKind::Load,
                start,
                end: None,
            });
        }
    }

    /// `before` opens a new round (a new `capture-N`) unless the round's after is still to
    /// come; `after` goes into the round of its before.
    fn capture_snapshot(&mut self, name: &'static str) {
        let folder = self.settings.capture.folder.clone();
        let Some(panel) = &mut self.capture else {
            return;
        };
        let Some(link) = panel.link.clone().filter(|_| panel.attached.is_some()) else {
            panel.error = Some("Not attached: connect to a target first".into());
            return;
        };
        let dir = match (name, &panel.round) {
            (
                routine::BEFORE,
                Round {
                    dir: Some(dir),
                    after: None,
                    ..
                },
            ) => RoundDir::Existing(dir.clone()),
            (routine::BEFORE, _) => match folder {
                Some(folder) => RoundDir::NewIn(folder),
                None => {
                    panel.error = Some("Choose a folder for the snapshots first".into());
                    return;
                }
            },
            (
                _,
                Round {
                    dir: Some(dir),
                    before: Some(_),
                    ..
                },
            ) => RoundDir::Existing(dir.clone()),
            _ => {
                panel.error = Some("Take the before snapshot first".into());
                return;
            }
        };
        let start = panel.feed.now();
        let file = format!("{name}.heapsnapshot");
        let label = format!("taking {file}");
        let work =
            move |ctx: &super::tasks::TaskContext| capture_tasks::snapshot(link, dir, name, ctx);
        if self.spawn_labelled(
            TaskName::Capture(CaptureTask::Snapshot),
            label,
            vec![file],
            work,
        ) && let Some(panel) = &mut self.capture
        {
            panel.error = None;
            panel.marks.push(Mark {
                kind: MarkKind::Snapshot(name),
                start,
                end: None,
            });
        }
    }

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

    /// The capture panel, on the right of the window.
    pub(super) fn capture_view(&mut self, ui: &mut egui::Ui, out: &mut Vec<Command>) {
        if self.screenshot == Some(ScreenshotView::Capture) {
            self.drive_screenshot(out);
        }
        if let Some(panel) = &self.capture {
            egui::ScrollArea::vertical().show(ui, |ui| {
                capture_panel::show(ui, panel, &self.settings.capture, &self.tasks, out);
            });
        }
    }

    /// The screenshot view's capture, step by step as a user would click it, with pauses so the
    /// chart shows each phase: find targets, connect, before, load, GC, after.
    fn drive_screenshot(&mut self, out: &mut Vec<Command>) {
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

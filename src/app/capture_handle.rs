//! The capture panel's commands applied. Anything that talks to the target becomes a task
//! ([`super::capture_tasks`]); this only moves state and marks the chart where a step began.

use std::sync::Arc;

use eframe::egui;

use crate::capture::{AttachOptions, DEFAULT_TIMEOUT, Source, routine};

use super::capture_chart::{Mark, MarkKind};
use super::capture_link::{Feed, Link};
use super::capture_panel::{self, CaptureCommand, CapturePanel, Round, SourceMode};
use super::capture_tasks::{self, CaptureTask, RoundDir};
use super::tasks::TaskName;
use super::{Command, HeapdiffApp, ScreenshotView, capture_view};

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

    /// The capture panel, on the right of the window.
    pub(super) fn capture_view(&mut self, ui: &mut egui::Ui, out: &mut Vec<Command>) {
        if self.screenshot == Some(ScreenshotView::Capture) {
            self.drive_screenshot(out);
        }
        if let Some(panel) = &self.capture {
            egui::ScrollArea::vertical().show(ui, |ui| {
                capture_view::show(ui, panel, &self.settings.capture, &self.tasks, out);
            });
        }
    }
}

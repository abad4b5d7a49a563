//! The window's background tasks (`heapdiff::app::tasks`): what each `Policy` does with a
//! second task of a name, cancellation, panics and progress.

use std::time::{Duration, Instant};

use eframe::egui;
use heapdiff::app::tasks::{
    BackgroundTasks, Finished, SpawnError, Spawned, TaskContext, TaskError, TaskName,
};

fn wait(tasks: &mut BackgroundTasks<u32>) -> Vec<Finished<u32>> {
    let start = Instant::now();
    let mut done = Vec::new();
    while tasks.any_running(|_| false) || done.is_empty() {
        done.extend(tasks.poll());
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "tasks never ended"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    done
}

/// Work that runs until cancelled.
fn until_cancelled(ctx: &TaskContext) -> u32 {
    while !ctx.is_cancelled() {
        std::thread::sleep(Duration::from_millis(1));
    }
    0
}

#[test]
fn replace_cancels_the_running_task_and_keeps_one_thread_alive() {
    let mut tasks = BackgroundTasks::new(egui::Context::default());
    let name = TaskName::MergedPaths;
    assert_eq!(
        tasks.spawn(name, "first", vec![], until_cancelled),
        Ok(Spawned::Started)
    );
    for i in 0..50 {
        let spawned = tasks.spawn(name, format!("task {i}"), vec![], move |_| i);
        assert_eq!(spawned, Ok(Spawned::Queued));
        assert!(tasks.alive(name) <= 1);
    }
    let done = wait(&mut tasks);
    // Only the last request ran after the first: the 49 between never started.
    assert_eq!(tasks.started(name), 2);
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].label, "task 49");
    assert_eq!(done[0].result, Ok(49));
}

#[test]
fn refuse_keeps_the_first_and_cancel_answers_cancelled() {
    let mut tasks = BackgroundTasks::new(egui::Context::default());
    let name = TaskName::Dialog;
    assert_eq!(
        tasks.spawn(name, "first", vec![], until_cancelled),
        Ok(Spawned::Started)
    );
    assert_eq!(
        tasks.spawn(name, "second", vec![], |_| 2),
        Err(SpawnError::Busy("first".into()))
    );
    tasks.cancel(name);
    let done = wait(&mut tasks);
    assert_eq!(done[0].result, Err(TaskError::Cancelled));
    assert_eq!(tasks.alive(name), 0);
}

#[test]
fn a_panic_is_reported_naming_the_task() {
    let mut tasks = BackgroundTasks::<u32>::new(egui::Context::default());
    let spawned = tasks.spawn(TaskName::Markdown, "rendering", vec![], |_| {
        panic!("boom");
    });
    assert_eq!(spawned, Ok(Spawned::Started));
    let done = wait(&mut tasks);
    assert_eq!(
        done[0].result,
        Err(TaskError::Panicked(
            "internal error while rendering: boom".into()
        ))
    );
}

#[test]
fn progress_lines_and_discarded_answers() {
    let mut tasks = BackgroundTasks::new(egui::Context::default());
    let name = TaskName::Load;
    let lines = vec!["before".to_string(), "after".to_string()];
    let spawned = tasks.spawn(name, "loading", lines, |ctx| {
        ctx.report(1, "parsing", 0.5);
        until_cancelled(ctx)
    });
    assert_eq!(spawned, Ok(Spawned::Started));
    let start = Instant::now();
    while tasks
        .view(name)
        .is_some_and(|v| v.progress.lines()[1].phase != "parsing")
    {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(1));
    }
    let lines = tasks.view(name).map(|v| v.progress.lines());
    assert_eq!(lines.as_ref().map(|l| l[1].fraction), Some(0.5));
    tasks.discard(|n| n == name);
    assert!(!tasks.is_running(name));
    while tasks.alive(name) > 0 {
        assert!(tasks.poll().is_empty(), "a discarded answer is dropped");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(tasks.poll().is_empty());
}

//! File ▸ Capture…, driven with egui_kittest against real Node processes
//! (`tests/node/leaky-server.js` on kernel-picked ports): the panel's buttons clicked by their
//! labels, its text fields set through the commands they emit, every wait bounded.

#![cfg(unix)]

mod common;

use common::node::{self, Server, free_port, node_file, shell_quote};

use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use heapdiff::app::capture_chart::MarkKind;
use heapdiff::app::capture_panel::{CaptureCommand, CapturePanel, SourceMode, Targets};
use heapdiff::app::capture_tasks::CaptureTask;
use heapdiff::app::model::Content;
use heapdiff::app::tasks::TaskName;
use heapdiff::app::{Command, HeapdiffApp, StartupOptions};

/// Requests the load sends: each leaves one `LeakedRequest` behind.
const REQUESTS: u64 = 120;
/// Generous: two shared cores, a debug build, several Node processes at once.
const LIMIT: Duration = Duration::from_secs(240);

fn load_command(url: &str) -> String {
    node::load_command(url, REQUESTS)
}

fn scratch(name: &str) -> PathBuf {
    node::scratch(&format!("capture-panel-{name}"))
}

fn window() -> Harness<'static, HeapdiffApp> {
    Harness::builder()
        .with_size(eframe::egui::vec2(1280.0, 900.0))
        .build_eframe(|cc| HeapdiffApp::new(cc, StartupOptions::default()))
}

fn panel<'a>(harness: &'a Harness<'_, HeapdiffApp>) -> &'a CapturePanel {
    harness.state().capture.as_ref().expect("the capture panel")
}

fn send(harness: &mut Harness<'_, HeapdiffApp>, command: CaptureCommand) {
    harness
        .state_mut()
        .handle_command(Command::Capture(command));
    harness.step();
}

/// Steps frames until `done` holds; fails naming `what` and the panel's error.
fn until(harness: &mut Harness<'_, HeapdiffApp>, what: &str, done: impl Fn(&HeapdiffApp) -> bool) {
    let started = Instant::now();
    harness.step();
    while !done(harness.state()) {
        let app = harness.state();
        assert!(
            started.elapsed() < LIMIT,
            "{what}: not after {LIMIT:?}; panel error {:?}, status {:?}",
            app.capture.as_ref().and_then(|p| p.error.clone()),
            app.status
        );
        std::thread::sleep(Duration::from_millis(10));
        harness.step();
    }
}

fn running(app: &HeapdiffApp, task: CaptureTask) -> bool {
    app.tasks.is_running(TaskName::Capture(task))
}

/// Clicks a widget as drawn in a settled frame (egui routes a press by the previous frame's
/// layout, so a button enabled only this frame would not take it).
fn click(harness: &mut Harness<'_, HeapdiffApp>, label: &str) {
    harness.step();
    harness.get_by_label(label).click();
    harness.step();
    harness.step();
}

/// File ▸ Capture…, clicked.
fn open_panel(harness: &mut Harness<'_, HeapdiffApp>) {
    harness.step();
    click(harness, "File");
    click(harness, "Capture…");
    assert!(
        harness.state().capture.is_some(),
        "File ▸ Capture… opens it"
    );
}

fn label_contains(harness: &Harness<'_, HeapdiffApp>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

/// Files in `dir` and the folders below, relative names, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(dir).expect("under dir");
                names.push(name.to_string_lossy().into_owned());
            }
        }
    }
    names.sort();
    names
}

/// Connects the open panel to `server` the way a user does: address, Find targets, Connect.
fn connect(harness: &mut Harness<'_, HeapdiffApp>, server: &Server, folder: &Path) {
    send(
        harness,
        CaptureCommand::SetAddress(server.inspector.clone().expect("an inspector")),
    );
    send(harness, CaptureCommand::SetFolder(folder.to_path_buf()));
    click(harness, "Find targets");
    until(harness, "the targets listed", |app| {
        app.capture
            .as_ref()
            .is_some_and(|p| matches!(p.targets, Targets::Listed { .. }))
    });
    let Targets::Listed { targets, .. } = &panel(harness).targets else {
        unreachable!()
    };
    let server_target = targets
        .iter()
        .find(|t| t.kind == "node" && t.url.ends_with("leaky-server.js"))
        .unwrap_or_else(|| panic!("the server among {targets:?}"));
    assert_eq!(panel(harness).chosen.as_ref(), Some(&server_target.id));
    assert!(
        label_contains(harness, "leaky-server.js"),
        "listed on screen"
    );
    click(harness, "Connect");
    until(harness, "attached", |app| {
        app.capture.as_ref().is_some_and(|p| p.attached.is_some())
    });
}

#[test]
fn capture_panel_snapshots_a_live_server_and_opens_the_comparison() {
    let dir = scratch("routine");
    let server = Server::with_inspector(&[]);
    let mut harness = window();
    open_panel(&mut harness);
    connect(&mut harness, &server, &dir);
    send(
        &mut harness,
        CaptureCommand::SetLoad(load_command(&server.url())),
    );
    until(&mut harness, "a first heap reading", |app| {
        app.capture
            .as_ref()
            .is_some_and(|p| !p.feed.samples().is_empty())
    });

    click(&mut harness, "Snapshot before");
    assert!(running(harness.state(), CaptureTask::Snapshot));
    until(&mut harness, "before.heapsnapshot", |app| {
        !running(app, CaptureTask::Snapshot)
    });
    let before = dir.join("capture-1/before.heapsnapshot");
    assert_eq!(
        panel(&harness).round.before.as_ref().map(|s| &s.path),
        Some(&before),
        "{:?}",
        panel(&harness).error
    );
    let mode = std::fs::metadata(&before)
        .expect("before")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "owner only, as the CLI writes it");

    click(&mut harness, "Run load");
    until(&mut harness, "the load", |app| {
        !running(app, CaptureTask::Load)
    });
    let note = panel(&harness).note.clone().unwrap_or_default();
    assert!(note.starts_with("Load finished (exit status: 0)"), "{note}");
    assert!(
        panel(&harness)
            .feed
            .output()
            .iter()
            .any(|l| l.text == format!("load: {REQUESTS} requests")),
        "the load's output is kept"
    );

    click(&mut harness, "Collect garbage");
    until(&mut harness, "the GC", |app| !running(app, CaptureTask::Gc));
    assert_eq!(panel(&harness).note.as_deref(), Some("Garbage collected"));

    click(&mut harness, "Snapshot after");
    until(&mut harness, "the comparison", |app| {
        !running(app, CaptureTask::Snapshot)
            && !app.is_loading()
            && matches!(app.content, Content::Pair(_))
    });
    let app = harness.state();
    assert!(app.error.is_none(), "{:?}", app.error);
    let Content::Pair(pair) = &app.content else {
        unreachable!()
    };
    assert_eq!(pair.after.path, dir.join("capture-1/after.heapsnapshot"));
    let row = pair
        .rows
        .iter()
        .find(|r| r.class.name == "LeakedRequest")
        .expect("a LeakedRequest row");
    assert_eq!(row.class.added_count, REQUESTS);
    assert_eq!(row.class.removed_count, 0);
    assert_eq!(row.class.count_delta, REQUESTS as i64);
    // The first leak found is the planted one, every leaked request in it.
    let leak = pair.comparison.leaks.first().expect("a leak group");
    assert!(leak.likely, "{leak:?}");
    let part = leak
        .composition
        .iter()
        .find(|p| p.name == "LeakedRequest")
        .expect("LeakedRequest in the first leak");
    assert_eq!(part.count, REQUESTS);
    assert_eq!(leak.expression, "leakedRequests");

    let panel = app.capture.as_ref().expect("the panel stays open");
    let marks: Vec<MarkKind> = panel.marks.iter().map(|m| m.kind).collect();
    assert_eq!(
        marks,
        [
            MarkKind::Snapshot("before"),
            MarkKind::Load,
            MarkKind::Gc,
            MarkKind::Snapshot("after")
        ]
    );
    assert!(panel.marks.iter().all(|m| m.end.is_some()));
    assert!(!panel.feed.samples().is_empty());
    assert_eq!(
        files_under(&dir),
        [
            "capture-1/after.heapsnapshot",
            "capture-1/before.heapsnapshot"
        ],
        "no .part left, nothing else"
    );

    // Closing the panel lets go of the target (not started by heapdiff: it keeps running).
    harness.step();
    click(&mut harness, "Close capture");
    assert!(harness.state().capture.is_none());
    until(&mut harness, "the capture's threads ended", |app| {
        app.tasks.alive(TaskName::Capture(CaptureTask::Heap)) == 0
            && app
                .tasks
                .alive(TaskName::Capture(CaptureTask::Close { link: 1 }))
                == 0
    });
    assert!(TcpStream::connect(("127.0.0.1", server.port)).is_ok());
    assert!(matches!(harness.state().content, Content::Pair(_)));
}

#[test]
fn no_inspector_at_the_address_is_an_error_and_the_window_keeps_working() {
    let mut harness = window();
    open_panel(&mut harness);
    let closed = free_port();
    let address = format!("127.0.0.1:{closed}");
    send(&mut harness, CaptureCommand::SetAddress(address.clone()));
    let expected = format!("no inspector at {address}: ");
    click(&mut harness, "Find targets");
    until(&mut harness, "the listing", |app| {
        !running(app, CaptureTask::Targets)
    });
    let Targets::Failed(listing) = &panel(&harness).targets else {
        panic!("{:?}", panel(&harness).targets)
    };
    assert!(listing.starts_with(&expected), "{listing}");
    let status = harness.state().error.clone().unwrap_or_default();
    assert!(
        status.starts_with(&expected),
        "the status bar names it: {status}"
    );
    assert!(label_contains(&harness, &expected), "on screen");

    click(&mut harness, "Connect");
    until(&mut harness, "the attach", |app| {
        !running(app, CaptureTask::Attach)
    });
    let p = panel(&harness);
    let error = p.error.clone().unwrap_or_default();
    assert!(error.starts_with(&expected), "{error}");
    assert!(p.link.is_none() && p.attached.is_none());

    // Off this machine: refused before anything is sent, as --allow-remote guards the CLI.
    send(
        &mut harness,
        CaptureCommand::SetAddress("192.0.2.1:9229".into()),
    );
    click(&mut harness, "Connect");
    until(&mut harness, "the refusal", |app| {
        !running(app, CaptureTask::Attach)
    });
    let error = panel(&harness).error.clone().unwrap_or_default();
    assert!(
        error.contains("is not a loopback address") && error.contains("--allow-remote"),
        "{error}"
    );

    // The window still works: a snapshot opens beside the panel.
    harness
        .state_mut()
        .handle_command(Command::OpenFiles(vec![common::fixture(
            "tiny.heapsnapshot",
        )]));
    until(&mut harness, "the Summary", |app| {
        !app.is_loading() && matches!(app.content, Content::Single(_))
    });
    assert!(!harness.state().table_names().is_empty());
    assert!(harness.state().capture.is_some());
}

#[test]
fn target_gone_mid_snapshot_is_an_error_and_leaves_no_file() {
    let dir = scratch("gone");
    // A heap big enough that the snapshot still streams when the server is killed.
    let mut server = Server::with_inspector(&[("BALLAST", "600000")]);
    let mut harness = window();
    open_panel(&mut harness);
    connect(&mut harness, &server, &dir);
    let part = dir.join("capture-1/before.heapsnapshot.part");
    let pid = server.child.id() as i32;
    let watched = part.clone();
    let killer = std::thread::spawn(move || {
        let started = Instant::now();
        while started.elapsed() < LIMIT {
            if std::fs::metadata(&watched).is_ok_and(|m| m.len() > 0) {
                let _ = heapdiff::capture::signal::kill(pid, libc::SIGKILL);
                return true;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        false
    });
    click(&mut harness, "Snapshot before");
    assert!(running(harness.state(), CaptureTask::Snapshot));
    until(&mut harness, "the snapshot's end", |app| {
        !running(app, CaptureTask::Snapshot)
    });
    assert!(killer.join().expect("killer"), "the snapshot never started");
    let _ = server.child.wait();
    let error = panel(&harness).error.clone().unwrap_or_default();
    assert!(
        error.starts_with("the target at ")
            && error.contains("went away mid-snapshot")
            && error.contains("the partial file was removed"),
        "{error}"
    );
    assert_eq!(
        harness.state().error.as_deref(),
        Some(error.as_str()),
        "the status bar"
    );
    assert!(panel(&harness).round.before.is_none());
    assert_eq!(
        files_under(&dir),
        Vec::<String>::new(),
        "no snapshot, no .part"
    );

    // The window keeps working: disconnect, and open a file.
    click(&mut harness, "Disconnect");
    assert!(panel(&harness).link.is_none());
    harness
        .state_mut()
        .handle_command(Command::OpenFiles(vec![common::fixture(
            "tiny.heapsnapshot",
        )]));
    until(&mut harness, "the Summary", |app| {
        !app.is_loading() && matches!(app.content, Content::Single(_))
    });
}

#[test]
fn cancelling_a_snapshot_removes_its_part_file_and_keeps_the_session() {
    let dir = scratch("cancel");
    let server = Server::with_inspector(&[("BALLAST", "600000")]);
    let mut harness = window();
    open_panel(&mut harness);
    connect(&mut harness, &server, &dir);
    let part = dir.join("capture-1/before.heapsnapshot.part");
    click(&mut harness, "Snapshot before");
    until(&mut harness, "the first chunk on disk", |app| {
        std::fs::metadata(&part).is_ok_and(|m| m.len() > 0) || !running(app, CaptureTask::Snapshot)
    });
    assert!(
        running(harness.state(), CaptureTask::Snapshot),
        "still streaming"
    );
    click(&mut harness, "Cancel");
    // The partial file goes at the next chunk, not when V8 is done sending.
    let cancelled = Instant::now();
    until(&mut harness, "the .part removed", |_| !part.exists());
    assert!(
        cancelled.elapsed() < Duration::from_secs(10),
        "{:?}",
        cancelled.elapsed()
    );
    until(&mut harness, "the snapshot task's end", |app| {
        !running(app, CaptureTask::Snapshot)
    });
    let p = panel(&harness);
    assert_eq!(
        p.note.as_deref(),
        Some("Snapshot cancelled: nothing was kept")
    );
    assert!(p.error.is_none(), "{:?}", p.error);
    assert_eq!(files_under(&dir), Vec::<String>::new());

    // The session read V8's remaining chunks and is still in step: the next snapshot works.
    click(&mut harness, "Snapshot before");
    until(&mut harness, "a second snapshot", |app| {
        !running(app, CaptureTask::Snapshot)
    });
    assert!(
        panel(&harness).round.before.is_some(),
        "{:?}",
        panel(&harness).error
    );
    assert_eq!(files_under(&dir), ["capture-1/before.heapsnapshot"]);
}

#[test]
fn a_started_command_is_stopped_when_the_panel_closes_and_when_the_window_goes() {
    let server_js = node_file("leaky-server.js");
    let start = |harness: &mut Harness<'_, HeapdiffApp>| -> u16 {
        let port = free_port();
        open_panel(harness);
        send(harness, CaptureCommand::SetMode(SourceMode::Command));
        send(
            harness,
            CaptureCommand::SetCommand(format!(
                "PORT={port} exec node {}",
                shell_quote(&server_js.to_string_lossy())
            )),
        );
        send(
            harness,
            CaptureCommand::SetReady(format!("http://127.0.0.1:{port}/")),
        );
        click(harness, "Start and connect");
        until(harness, "started and attached", |app| {
            app.capture.as_ref().is_some_and(|p| p.attached.is_some())
        });
        let p = panel(harness);
        let (label, _pid) = p
            .attached
            .as_ref()
            .and_then(|a| a.process.clone())
            .expect("a started process");
        assert!(label.contains("leaky-server.js"), "{label}");
        assert!(TcpStream::connect(("127.0.0.1", port)).is_ok(), "it serves");
        port
    };
    let stopped = |port: u16| {
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_ok() {
            assert!(started.elapsed() < Duration::from_secs(30), "still serving");
            std::thread::sleep(Duration::from_millis(20));
        }
    };

    let mut harness = window();
    let port = start(&mut harness);
    click(&mut harness, "Close capture");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(started.elapsed() < Duration::from_secs(30), "still serving");
        std::thread::sleep(Duration::from_millis(20));
        harness.step();
    }
    until(&mut harness, "the stop reported", |app| {
        app.status
            .as_deref()
            .is_some_and(|s| s.starts_with("Stopped `sh -c PORT="))
    });

    // The window goes with the panel open: the process goes with it.
    let port = start(&mut harness);
    drop(harness);
    stopped(port);
}

/// Why the panel never closes a session mid-capture: V8 forgets every heap object id when any
/// session to the target closes, even one that never enabled the heap profiler (its
/// `V8HeapProfilerAgentImpl::disable` runs on disconnect and calls `ClearObjectIds`), and the
/// comparison matches objects by those ids. Pinned so a Node that changes this is noticed.
#[test]
fn closing_any_session_makes_v8_forget_heap_object_ids() {
    use heapdiff::capture::session::Deadline;
    use heapdiff::capture::{Inspector, Session};
    use heapdiff::task::Hooks;
    let server = Server::with_inspector(&[]);
    let target = Inspector::resolve(server.inspector.as_deref().unwrap_or_default(), false)
        .and_then(|i| i.choose(None))
        .expect("the server's target");
    let timeout = Duration::from_secs(60);
    let mut main = Session::connect(&target, timeout).expect("main session");
    main.enable(Hooks::default()).expect("enable");
    let call = |session: &mut Session, method: &str, params: serde_json::Value| {
        let result = session
            .request(
                method,
                params,
                Hooks::default(),
                Deadline::Silence,
                &mut |_, _| Ok(()),
            )
            .unwrap_or_else(|e| panic!("{method}: {e}"));
        serde_json::from_str::<serde_json::Value>(result.get()).expect("JSON")
    };
    // The id of the server's leak array, as a snapshot would name it.
    let heap_id = |session: &mut Session| {
        let object = call(
            session,
            "Runtime.evaluate",
            serde_json::json!({ "expression": "globalThis.leakedRequests" }),
        );
        let object_id = object["result"]["objectId"].clone();
        let id = call(
            session,
            "HeapProfiler.getHeapObjectId",
            serde_json::json!({ "objectId": object_id }),
        );
        id["heapSnapshotObjectId"]
            .as_str()
            .expect("an id")
            .to_string()
    };
    // Ids are handed out by a snapshot (or by allocation tracking).
    main.take_heap_snapshot(&mut |_| Ok(()), Hooks::default())
        .expect("snapshot");
    let first = heap_id(&mut main);
    assert_ne!(first, "0");
    // A second session open beside the first changes nothing…
    let mut chart = Session::connect(&target, timeout).expect("second session");
    chart.heap_usage(Hooks::default()).expect("heap usage");
    assert_eq!(heap_id(&mut main), first);
    // …but once it closes, V8 no longer knows the object's id.
    drop(chart);
    let started = Instant::now();
    while heap_id(&mut main) == first {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the id survived the closed session: Node changed, and the capture panel's care \
             to keep sessions open may be revisited"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(heap_id(&mut main), "0");
}

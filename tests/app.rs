//! The window, driven headless with egui_kittest: files are opened through the same entry point
//! as the command line (`StartupOptions` → `HeapdiffApp::new`), and the tests check state and
//! accessibility labels, not pixels.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use heapdiff::app::{Command, HeapdiffApp, StartupOptions};
use heapdiff::testkit::measure;

fn open(files: Vec<PathBuf>) -> Harness<'static, HeapdiffApp> {
    let options = StartupOptions::from_files(files, None);
    Harness::builder()
        .with_size(eframe::egui::vec2(1280.0, 900.0))
        .build_eframe(move |cc| HeapdiffApp::new(cc, options))
}

/// Steps frames until the loading job and other workers are done (they ask for repaints; we
/// poll).
fn wait_for_jobs(harness: &mut Harness<'_, HeapdiffApp>) {
    let start = Instant::now();
    harness.step();
    while harness.state().is_busy() {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "loading did not finish"
        );
        std::thread::sleep(Duration::from_millis(20));
        harness.step();
    }
    // Let the table and trees lay out.
    for _ in 0..3 {
        harness.step();
    }
}

fn label_exists(harness: &Harness<'_, HeapdiffApp>, label: &str) -> bool {
    harness.query_all_by_label(label).next().is_some()
}

#[test]
fn summary_of_one_snapshot_sorts_and_shows_retainers() {
    let mut harness = open(vec![common::fixture("ssr-di-leak.after.heapsnapshot")]);
    wait_for_jobs(&mut harness);
    let app = harness.state();
    assert!(app.error.is_none(), "{:?}", app.error);
    let summary = match &app.content {
        heapdiff::app::model::Content::Single(summary) => summary,
        _ => panic!("one file opens its Summary"),
    };
    let summary_rows = summary.rows.clone();
    let row = summary_rows
        .iter()
        .find(|r| r.name == "ChildContainer")
        .expect("ChildContainer in the Summary");
    // DevTools reference (ssr-di-leak.after.summary): 200 before the load test + 1,000 new.
    assert_eq!(row.count, 1200);

    // Filter to ChildContainer, see its count in the table.
    harness
        .state_mut()
        .handle_command(Command::SetFilter("ChildContainer".into()));
    harness.step();
    assert_eq!(harness.state().table_names(), vec!["ChildContainer"]);
    assert!(label_exists(&harness, "1,200"), "count 1,200 shown");

    // Clear the filter; clicking a header re-sorts, clicking again reverses.
    harness
        .state_mut()
        .handle_command(Command::SetFilter(String::new()));
    harness.step();
    let before = harness.state().table_names();
    harness.get_by_label("Count").click();
    harness.step();
    harness.step();
    let by_count = harness.state().table_names();
    assert_ne!(before, by_count, "sorting by Count changes the order");
    harness.get_by_label("Count").click();
    harness.step();
    harness.step();
    let reversed = harness.state().table_names();
    let count_of = |name: &String| {
        summary_rows
            .iter()
            .find(|r| &r.name == name)
            .map_or(0, |r| r.count)
    };
    let max = summary_rows.iter().map(|r| r.count).max();
    let min = summary_rows.iter().map(|r| r.count).min();
    assert_eq!(by_count.first().map(count_of), max, "biggest count first");
    assert_eq!(
        reversed.first().map(count_of),
        min,
        "a second click reverses the order"
    );

    // Select ChildContainer: its first object's retainer tree (built by a background task)
    // shows `bus` and `_events`.
    harness
        .state_mut()
        .handle_command(Command::SetFilter("ChildContainer".into()));
    harness.step();
    harness.get_by_label("ChildContainer").click();
    wait_for_jobs(&mut harness);
    assert_eq!(
        harness.state().selection.class.as_deref(),
        Some(row.class_key.as_str())
    );
    let tree = harness.state().selection.tree().expect("a retainer tree");
    let names: Vec<String> = tree
        .visible
        .iter()
        .map(|&i| tree.row_text(&tree.rows[i]).0)
        .collect();
    assert!(
        names.iter().any(|n| n == "bus") && names.iter().any(|n| n == "_events"),
        "retainer tree rows: {names:?}"
    );
    assert!(label_exists(&harness, "bus"));
    assert!(label_exists(&harness, "_events"));
}

#[test]
fn broken_file_shows_an_error_and_the_window_keeps_working() {
    let broken = common::data_dir().join("broken/truncated.heapsnapshot");
    let mut harness = open(vec![broken]);
    wait_for_jobs(&mut harness);
    let error = harness.state().error.clone().expect("an error");
    assert!(error.contains("truncated.heapsnapshot"), "{error}");
    assert!(
        harness
            .query_all_by_label_contains("truncated.heapsnapshot")
            .next()
            .is_some(),
        "the error is on screen"
    );

    // The window still works: open a good file the same way a dropped file is opened.
    harness.state_mut().handle_command(Command::OpenFiles(vec![
        common::data_dir().join("tiny.heapsnapshot"),
    ]));
    wait_for_jobs(&mut harness);
    assert!(harness.state().error.is_none());
    assert!(!harness.state().table_names().is_empty());
}

#[test]
fn every_broken_fixture_reports_its_file() {
    let dir = common::data_dir().join("broken");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("broken dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let mut harness = open(Vec::new());
    harness.step();
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        harness
            .state_mut()
            .handle_command(Command::OpenFiles(vec![file]));
        wait_for_jobs(&mut harness);
        let error = harness.state().error.clone().unwrap_or_default();
        assert!(error.contains(&name), "{name}: {error:?}");
    }
}

#[test]
fn start_screen_offers_open_and_cancel_works() {
    let mut harness = open(Vec::new());
    harness.step();
    assert!(label_exists(&harness, "Open before…"));
    assert!(label_exists(&harness, "Open after…"));
    harness.state_mut().handle_command(Command::OpenPair {
        before: common::fixture("ssr-di-leak.before.heapsnapshot"),
        after: common::fixture("ssr-di-leak.after.heapsnapshot"),
        final_: None,
    });
    harness.step();
    assert!(harness.state().is_loading());
    harness.get_by_label("Cancel").click();
    wait_for_jobs(&mut harness);
    assert!(harness.state().error.is_none());
    assert!(matches!(
        harness.state().content,
        heapdiff::app::model::Content::Start
    ));
}

#[test]
fn comparison_ranks_child_container_first_and_shows_its_retainers() {
    let mut harness = open(vec![
        common::fixture("ssr-di-leak.before.heapsnapshot"),
        common::fixture("ssr-di-leak.after.heapsnapshot"),
    ]);
    wait_for_jobs(&mut harness);
    // A comparison opens on its leaks; the table is the Classes tab.
    harness.get_by_label("Classes").click();
    harness.step();
    harness.step();
    let app = harness.state();
    assert!(app.error.is_none(), "{:?}", app.error);
    let pair = match &app.content {
        heapdiff::app::model::Content::Pair(pair) => pair,
        _ => panic!("two files open a Comparison"),
    };
    // The first row is the first suspect: ChildContainer, +1,000.
    let first = &pair.rows[app.visible.rows[0] as usize];
    assert_eq!(first.class.name, "ChildContainer");
    assert_eq!(first.suspect, Some(0));
    assert_eq!(first.class.added_count, 1000);
    assert_eq!(first.class.count_delta, 1000);
    assert_eq!(app.table_names()[0], "ChildContainer");
    assert!(label_exists(&harness, "+1,000"), "# Delta +1,000 on screen");
    // DevTools' column names are the headers.
    for column in heapdiff::app::settings::Column::COMPARISON {
        assert!(label_exists(&harness, column.label()), "{}", column.label());
    }

    // ChildContainer is selected at once: its new objects, their merged paths with an exact
    // count, and the retainer tree of the biggest one down to `bus` and `_events`.
    let app = harness.state();
    assert_eq!(
        app.selection.class.as_deref(),
        Some(first.class.class_key.as_str())
    );
    assert_eq!(app.selection.instances.new_count(), 1000);
    let merged = app
        .selection
        .merged
        .as_ref()
        .and_then(|m| m.paths.as_ref())
        .expect("merged paths");
    assert!(
        merged.iter().any(|p| p.count == 1000),
        "a path shared by all 1,000"
    );
    assert!(label_exists(&harness, "×1000"));
    assert!(label_exists(&harness, "bus"));
    assert!(label_exists(&harness, "_events"));

    // Clicking a header changes the order; clicking again reverses it.
    harness
        .state_mut()
        .handle_command(Command::ToggleSuspectsFirst);
    harness.step();
    let before = harness.state().table_names();
    harness.get_by_label("# New").click();
    harness.step();
    harness.step();
    let by_new = harness.state().table_names();
    assert_ne!(before, by_new);
    harness.get_by_label("Constructor").click();
    harness.step();
    harness.step();
    let by_name = harness.state().table_names();
    let mut sorted = by_name.clone();
    sorted.sort();
    assert_eq!(by_name, sorted, "Constructor sorts by name");

    // Share: the Markdown summary names the suspect.
    harness.state_mut().handle_command(Command::ExportMarkdown);
    wait_for_jobs(&mut harness);
    let markdown = harness.state().last_markdown.clone().expect("markdown");
    assert!(markdown.contains("ChildContainer"), "{markdown}");

    // Swap before/after: the window reloads and ChildContainer is now deleted, not new.
    harness.state_mut().handle_command(Command::SwapBeforeAfter);
    wait_for_jobs(&mut harness);
    let app = harness.state();
    let pair = match &app.content {
        heapdiff::app::model::Content::Pair(pair) => pair,
        _ => panic!("still a Comparison"),
    };
    let row = pair
        .rows
        .iter()
        .find(|r| r.class.name == "ChildContainer")
        .expect("ChildContainer row");
    assert_eq!((row.class.added_count, row.class.removed_count), (0, 1000));
}

/// A findings file written from the ssr-di-leak pair with the shared report code (as
/// `heapdiff diff --format json` writes it).
fn write_findings(dir: &std::path::Path) -> PathBuf {
    let (before, after, final_) = common::open_pair(
        &common::fixture("ssr-di-leak.before.heapsnapshot"),
        &common::fixture("ssr-di-leak.after.heapsnapshot"),
    )
    .expect("the pair loads");
    let comparison = heapdiff::diff::compare(&before, &after, final_.as_ref());
    let findings = heapdiff::report::build(
        &comparison,
        &before,
        &after,
        None,
        heapdiff::report::ReportOptions::default(),
    );
    let path = dir.join("ssr-di-leak.heapdiff.json");
    std::fs::write(&path, heapdiff::report::findings::to_json(&findings)).expect("write");
    path
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("heapdiff-app-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn findings_file_reopens_the_comparison_without_snapshots() {
    let dir = temp_dir("reopen");
    let path = write_findings(&dir);
    // The same entry point as `heapdiff FILE.heapdiff.json`.
    let mut harness = open(vec![path.clone()]);
    wait_for_jobs(&mut harness);
    // It opens on its leaks; the table is the Classes tab.
    harness.get_by_label("Classes").click();
    harness.step();
    harness.step();
    let app = harness.state();
    assert!(app.error.is_none(), "{:?}", app.error);
    assert!(matches!(
        app.content,
        heapdiff::app::model::Content::Findings(_)
    ));
    let rows = app.content.compare_rows().expect("comparison rows");
    let first = &rows[app.visible.rows[0] as usize];
    assert_eq!(first.class.name, "ChildContainer");
    assert_eq!(first.suspect, Some(0));
    assert_eq!(
        (first.class.added_count, first.class.count_delta),
        (1000, 1000)
    );
    assert!(label_exists(&harness, "+1,000"), "# Delta +1,000 on screen");
    // The suspect's merged paths come from the file, with their exact counts.
    let merged = app
        .selection
        .merged
        .as_ref()
        .and_then(|m| m.paths.as_ref())
        .expect("merged paths");
    assert!(merged.iter().any(|p| p.count == 1000));
    assert!(label_exists(&harness, "×1000"));
    assert!(label_exists(&harness, "bus"));
    // Objects and live trees need the snapshots: a note says so.
    assert!(app.selection.instances.is_empty() && app.selection.tree().is_none());
    assert!(
        harness
            .query_all_by_label_contains("without the snapshots")
            .next()
            .is_some()
    );
    // Sharing works from a reopened file too.
    harness.state_mut().handle_command(Command::ExportMarkdown);
    wait_for_jobs(&mut harness);
    let markdown = harness.state().last_markdown.clone().expect("markdown");
    assert!(markdown.contains("ChildContainer"));
    // The charts tab draws from the file's rows.
    harness.get_by_label("Charts").click();
    harness.step();
    harness.step();
    assert!(label_exists(&harness, "Growth by size (bytes)"));

    // A corrupted findings file: an error naming the file; the window keeps working.
    let broken = dir.join("corrupted.heapdiff.json");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&broken, &text[..text.len() / 2]).expect("write");
    harness
        .state_mut()
        .handle_command(Command::OpenFiles(vec![broken]));
    wait_for_jobs(&mut harness);
    let error = harness.state().error.clone().expect("an error");
    assert!(error.contains("corrupted.heapdiff.json"), "{error}");
    assert!(
        harness
            .query_all_by_label_contains("corrupted.heapdiff.json")
            .next()
            .is_some()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn save_findings_writes_a_file_that_reads_back() {
    let dir = temp_dir("save");
    let mut harness = open(vec![
        common::fixture("ssr-di-leak.before.heapsnapshot"),
        common::fixture("ssr-di-leak.after.heapsnapshot"),
    ]);
    wait_for_jobs(&mut harness);
    let findings_path = dir.join("saved.heapdiff.json");
    let html_path = dir.join("saved.html");
    // What the save dialogs answer.
    harness.state_mut().handle_command(Command::SaveTo(
        heapdiff::app::command::SaveKind::Findings,
        findings_path.clone(),
    ));
    harness.state_mut().handle_command(Command::SaveTo(
        heapdiff::app::command::SaveKind::Html,
        html_path.clone(),
    ));
    wait_for_jobs(&mut harness);
    assert!(
        harness.state().error.is_none(),
        "{:?}",
        harness.state().error
    );
    let findings = heapdiff::report::findings::read(&findings_path).expect("reads back");
    assert!(!findings.strings_included, "redaction on by default");
    assert_eq!(findings.suspects[0].name, "ChildContainer");
    assert_eq!(findings.suspects[0].added_count, 1000);
    let html = std::fs::read_to_string(&html_path).expect("html");
    assert!(html.contains("ChildContainer"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shortcuts_and_theme_toggle() {
    let mut harness = open(vec![common::fixture("ssr-di-leak.after.heapsnapshot")]);
    wait_for_jobs(&mut harness);
    assert!(!harness.state().table_names().is_empty());

    // The theme button switches dark and light, and the setting follows.
    let dark = harness.ctx.theme() == eframe::egui::Theme::Dark;
    let button = if dark { "Light mode" } else { "Dark mode" };
    harness.get_by_label(button).click();
    harness.step();
    harness.step();
    let expected = if dark {
        heapdiff::app::settings::Theme::Light
    } else {
        heapdiff::app::settings::Theme::Dark
    };
    assert_eq!(harness.state().settings.theme, expected);
    assert_eq!(harness.ctx.theme() == eframe::egui::Theme::Dark, !dark);
    let button = if dark { "Dark mode" } else { "Light mode" };
    harness.get_by_label(button).click();
    harness.step();
    harness.step();
    assert_eq!(harness.ctx.theme() == eframe::egui::Theme::Dark, dark);

    // Ctrl+F focuses the filter: typed text filters the table.
    harness.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::F);
    harness.step();
    harness.step();
    harness.event(eframe::egui::Event::Text("ChildContainer".into()));
    harness.step();
    harness.step();
    assert_eq!(harness.state().settings.filter, "ChildContainer");
    assert_eq!(harness.state().table_names(), vec!["ChildContainer"]);

    // Ctrl+W closes the snapshot: back to the start screen.
    harness.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::W);
    harness.step();
    harness.step();
    assert!(matches!(
        harness.state().content,
        heapdiff::app::model::Content::Start
    ));
    assert!(label_exists(&harness, "Open before…"));
}

/// A snapshot where one object (`Target`) is held by a `Holder` near the root and by a `Hub`
/// that `retainers` objects (`Retainer`) point to: the Hub row of Target's retainer tree is not on
/// the shortest path, so it starts collapsed, and expanding it lists `retainers` rows.
/// Returns the file and Target's node ordinal.
fn hub_snapshot(dir: &std::path::Path, retainers: usize) -> (PathBuf, u32) {
    use std::fmt::Write;
    const FIELDS: usize = 7;
    let meta = r#"{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],"location_fields":["object_index","script_id","line","column"]}"#;
    let strings = ["", "Holder", "Target", "Hub", "Retainer", "p", "o", "hub"];
    let (synthetic, object) = (9, 3);
    let (element, property) = (1, 2);
    let (holder, target, hub) = (1usize, 2usize, 3usize);
    let retainer = |i: usize| 4 + i;
    let node_count = 4 + retainers;
    let mut nodes = String::new();
    let mut edges = String::new();
    let mut node = |kind: u32, name: u32, id: usize, size: u32, edge_count: usize| {
        let _ = write!(nodes, "{kind},{name},{id},{size},{edge_count},0,0,");
    };
    node(synthetic, 0, 1, 0, 1);
    node(object, 1, 3, 16, 1 + retainers);
    node(object, 2, 5, 16, 0);
    node(object, 3, 7, 16, 1);
    for i in 0..retainers {
        node(object, 4, 9 + 2 * i, 16, 1);
    }
    let mut edge = |kind: u32, name: usize, to: usize| {
        let _ = write!(edges, "{kind},{name},{},", to * FIELDS);
    };
    edge(element, 1, holder);
    edge(property, 5, target);
    for i in 0..retainers {
        edge(element, i, retainer(i));
    }
    edge(property, 6, target);
    for _ in 0..retainers {
        edge(property, 7, hub);
    }
    let strings: Vec<String> = strings.iter().map(|s| format!("{s:?}")).collect();
    let json = format!(
        r#"{{"snapshot":{{"meta":{meta},"node_count":{node_count},"edge_count":{}}},"nodes":[{}],"edges":[{}],"locations":[],"strings":[{}]}}"#,
        2 * retainers + 3,
        nodes.trim_end_matches(','),
        edges.trim_end_matches(','),
        strings.join(",")
    );
    let path = dir.join("hub.heapsnapshot");
    std::fs::write(&path, json).expect("write the hub snapshot");
    (path, target as u32)
}

/// One frame's UI-thread CPU time and wall time.
fn timed(f: impl FnOnce()) -> (Duration, Duration) {
    let (cpu, wall) = (measure::thread_cpu_time(), Instant::now());
    f();
    (measure::thread_cpu_time() - cpu, wall.elapsed())
}

/// Frames of the UI thread, each under 16 ms, while a node with 100,000 retainers is expanded:
/// the retainers are listed (and sorted by name) on a background task.
#[test]
fn expanding_a_node_with_100000_retainers_keeps_frames_under_16_ms() {
    const RETAINERS: usize = 100_000;
    const FRAME: Duration = Duration::from_millis(16);
    let dir = temp_dir("hub");
    let (path, target) = hub_snapshot(&dir, RETAINERS);
    let mut harness = open(vec![path]);
    wait_for_jobs(&mut harness);
    assert!(
        harness.state().error.is_none(),
        "{:?}",
        harness.state().error
    );
    let side = heapdiff::pipeline::Side::After;
    harness
        .state_mut()
        .handle_command(Command::SelectObject(side, target));
    wait_for_jobs(&mut harness);
    let hub_row = {
        let tree = harness
            .state()
            .selection
            .tree()
            .expect("Target's retainer tree");
        let names: Vec<(String, String)> = tree
            .visible
            .iter()
            .map(|&i| {
                let (edge, _, class) = tree.row_text(&tree.rows[i]);
                (edge, class)
            })
            .collect();
        assert_eq!(
            names,
            vec![("p".into(), "Holder".into()), ("o".into(), "Hub".into())],
            "Target is retained by Holder (shortest path) and by Hub"
        );
        tree.visible[1]
    };
    // Warm-up frames, then the click and every frame until the rows are on screen.
    for _ in 0..3 {
        harness.step();
    }
    let mut frames = Vec::new();
    let start = Instant::now();
    frames.push(timed(|| {
        harness
            .state_mut()
            .handle_command(Command::ToggleRetainerRow(hub_row));
        harness.step();
    }));
    loop {
        let tree = harness.state().selection.tree().expect("the tree stays");
        if tree.rows[hub_row].expanded {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the rows never came"
        );
        std::thread::sleep(Duration::from_millis(2));
        frames.push(timed(|| harness.step()));
    }
    for _ in 0..3 {
        frames.push(timed(|| harness.step()));
    }
    let tree = harness.state().selection.tree().expect("the tree stays");
    let row = &tree.rows[hub_row];
    assert_eq!(row.children.as_ref().map(Vec::len), Some(100));
    assert_eq!(row.hidden, RETAINERS - 100);
    assert!(label_exists(&harness, "… 99,900 more"));

    // Selecting the Hub itself lists its 100,000 retainers as the tree's top level.
    let hub = tree.rows[hub_row].node;
    frames.push(timed(|| {
        harness
            .state_mut()
            .handle_command(Command::SelectObject(side, hub));
        harness.step();
    }));
    while harness.state().selection.tree().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the tree never came"
        );
        std::thread::sleep(Duration::from_millis(2));
        frames.push(timed(|| harness.step()));
    }
    for _ in 0..3 {
        frames.push(timed(|| harness.step()));
    }
    let tree = harness.state().selection.tree().expect("the Hub's tree");
    assert_eq!((tree.top.len(), tree.top_hidden), (100, RETAINERS - 100));

    let cpu = frames.iter().map(|f| f.0).max().unwrap_or_default();
    let wall = frames.iter().map(|f| f.1).max().unwrap_or_default();
    eprintln!(
        "{} frames, slowest {cpu:?} of UI-thread CPU, {wall:?} wall",
        frames.len()
    );
    assert!(cpu < FRAME, "a frame took {cpu:?} of CPU: {frames:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Clicking through 50 classes, one a frame and then all in one frame: the merged paths of the
/// class left before are cancelled, so at most one path task is ever alive, and the paths on
/// screen are the last class's.
#[test]
fn clicking_through_50_classes_leaves_at_most_one_path_task() {
    use heapdiff::app::tasks::TaskName;
    let paths = TaskName::MergedPaths;
    let mut harness = open(vec![
        common::fixture("ssr-di-leak.before.heapsnapshot"),
        common::fixture("ssr-di-leak.after.heapsnapshot"),
    ]);
    wait_for_jobs(&mut harness);
    let app = harness.state();
    let rows = app.content.compare_rows().expect("a Comparison");
    let keys: Vec<String> = app
        .visible
        .rows
        .iter()
        .take(50)
        .map(|&i| rows[i as usize].class.class_key.clone())
        .collect();
    assert_eq!(keys.len(), 50, "the pair has 56 rows");
    // Suspects bring their paths from the diff; the other rows need a path task.
    let computed = keys
        .iter()
        .filter(|k| {
            rows.iter()
                .any(|r| &r.class.class_key == *k && r.suspect.is_none())
        })
        .count();
    assert!(computed >= 30, "{computed} rows need a path task");

    for key in &keys {
        harness
            .state_mut()
            .handle_command(Command::SelectClass(key.clone()));
        assert!(harness.state().tasks.alive(paths) <= 1);
        harness.step();
        assert!(harness.state().tasks.alive(paths) <= 1);
    }
    wait_for_jobs(&mut harness);
    let started = harness.state().tasks.started(paths);
    for key in keys.iter().rev() {
        harness
            .state_mut()
            .handle_command(Command::SelectClass(key.clone()));
        assert!(harness.state().tasks.alive(paths) <= 1);
    }
    let start = Instant::now();
    while harness.state().is_busy() {
        assert!(harness.state().tasks.alive(paths) <= 1);
        assert!(start.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(1));
        harness.step();
    }
    // 50 clicks in one frame: the first task started, the last replaced the 48 between.
    let more = harness.state().tasks.started(paths) - started;
    assert!(
        more <= 2,
        "{more} path tasks started for 50 clicks in one frame"
    );

    // The first key is the first suspect (ChildContainer): its paths are the diff's, ×1000.
    let app = harness.state();
    let merged = app.selection.merged.as_ref().expect("merged paths");
    assert_eq!(merged.class_key, keys[0]);
    let counts: Vec<u64> = merged.paths.iter().flatten().map(|p| p.count).collect();
    assert_eq!(counts.first(), Some(&1000), "{counts:?}");

    // A computed row's paths equal the engine's for its new objects.
    let (row, key) = rows_needing_a_task(app, &keys);
    harness
        .state_mut()
        .handle_command(Command::SelectClass(key.clone()));
    wait_for_jobs(&mut harness);
    let app = harness.state();
    let Some(heapdiff::app::model::Content::Pair(pair)) = Some(&app.content) else {
        panic!("a live pair");
    };
    let expected = heapdiff::diff::merged_paths(
        &pair.after.loaded,
        &pair.comparison.classes[row].added,
        &Default::default(),
    )
    .expect("not cancelled");
    let merged = app.selection.merged.as_ref().expect("merged paths");
    assert_eq!(merged.class_key, key);
    let shown: Vec<(u64, u64)> = merged
        .paths
        .iter()
        .flatten()
        .map(|p| (p.count, p.retained_size))
        .collect();
    let engine: Vec<(u64, u64)> = expected
        .iter()
        .take(10)
        .map(|p| (p.count, p.retained_size))
        .collect();
    assert_eq!(shown, engine);
}

/// The first of `keys` whose paths a task computes: its row in the Comparison and its key.
fn rows_needing_a_task(app: &HeapdiffApp, keys: &[String]) -> (usize, String) {
    let Some(heapdiff::app::model::Content::Pair(pair)) = Some(&app.content) else {
        panic!("a live pair");
    };
    keys.iter()
        .find_map(|k| {
            let row = pair.rows.iter().position(|r| &r.class.class_key == k)?;
            (pair.rows[row].suspect.is_none() && pair.comparison.classes[row].added_count > 1)
                .then(|| (row, k.clone()))
        })
        .expect("a row without a suspect")
}

/// Steps frames until a Comparison is on screen (BEFORE's analysis then starts in the same
/// frame, so it is still running when this returns).
fn wait_for_comparison(harness: &mut Harness<'_, HeapdiffApp>) {
    let start = Instant::now();
    while harness.state().is_loading()
        || !matches!(
            harness.state().content,
            heapdiff::app::model::Content::Pair(_)
        )
    {
        assert!(
            harness.state().error.is_none(),
            "{:?}",
            harness.state().error
        );
        assert!(start.elapsed() < Duration::from_secs(300), "no comparison");
        std::thread::sleep(Duration::from_millis(5));
        harness.step();
    }
}

fn pair_of(app: &HeapdiffApp) -> &heapdiff::app::model::Pair {
    match &app.content {
        heapdiff::app::model::Content::Pair(pair) => pair,
        _ => panic!("a Comparison"),
    }
}

/// The window shows the Comparison as soon as the pipeline's `compare_files` returns (BEFORE a
/// comparison base, as `heapdiff diff` has it), then analyses BEFORE on a task: deleted objects
/// are listed by shallow size and their retainers wait; once it is done they are re-sorted by
/// retained size and their trees are built.
#[test]
fn comparison_first_then_before_is_analysed_for_deleted_objects() {
    use heapdiff::app::model::BeforeState;
    use heapdiff::app::retainer_tree::TreePane;
    use heapdiff::app::tasks::TaskName;
    use heapdiff::pipeline::Side;
    // Swapped: ChildContainer's 1,000 objects are deleted.
    let options = StartupOptions {
        before: Some(common::fixture("ssr-di-leak.after.heapsnapshot")),
        after: Some(common::fixture("ssr-di-leak.before.heapsnapshot")),
        ..Default::default()
    };
    let mut harness = Harness::builder()
        .with_size(eframe::egui::vec2(1280.0, 900.0))
        .build_eframe(move |cc| HeapdiffApp::new(cc, options));
    wait_for_comparison(&mut harness);
    let app = harness.state();
    let pair = pair_of(app);
    assert_eq!(pair.before_state, BeforeState::Analysing);
    assert!(app.tasks.is_running(TaskName::AnalyseBefore));
    assert!(!app.is_loading(), "the table is up, not the progress view");
    let row = pair
        .rows
        .iter()
        .position(|r| r.class.name == "ChildContainer")
        .expect("ChildContainer row");
    assert_eq!(pair.rows[row].class.removed_count, 1000);
    let key = pair.rows[row].class.class_key.clone();
    // Deleted objects are listed by shallow size meanwhile.
    let shallow = &pair.before.loaded.shallow;
    let listed: Vec<u32> = pair.deleted.group(row).to_vec();
    assert_eq!(listed.len(), 1000);
    assert!(
        listed
            .windows(2)
            .all(|w| shallow[w[0] as usize] >= shallow[w[1] as usize])
    );
    harness
        .state_mut()
        .handle_command(Command::SetTab(heapdiff::app::settings::Tab::Table));
    harness
        .state_mut()
        .handle_command(Command::SelectClass(key.clone()));
    let app = harness.state();
    let deleted = app.selection.object.expect("the first object is selected");
    assert_eq!(deleted.0, Side::Before);
    assert!(matches!(
        app.selection.tree,
        TreePane::WaitingForBefore { .. }
    ));
    harness.step();
    if pair_of(harness.state()).before_state == BeforeState::Analysing {
        assert!(
            harness
                .query_all_by_label_contains("come once before is analysed")
                .next()
                .is_some()
        );
    }

    wait_for_jobs(&mut harness);
    let app = harness.state();
    let pair = pair_of(app);
    assert_eq!(pair.before_state, BeforeState::Analysed);
    let retained = &pair.before.loaded.analysis.retained_size;
    let listed = pair.deleted.group(row);
    assert_eq!(listed.len(), 1000);
    assert!(
        listed
            .windows(2)
            .all(|w| retained.of(w[0]) >= retained.of(w[1])),
        "re-sorted by retained size"
    );
    assert_eq!(app.selection.instances.deleted.nodes(), listed);
    // The deleted object's tree is built now: `bus` and `_events` keep it alive in BEFORE.
    assert_eq!(app.selection.object, Some(deleted));
    let tree = app.selection.tree().expect("the deleted object's tree");
    assert_eq!((tree.side, tree.node), deleted);
    let names: Vec<String> = tree
        .visible
        .iter()
        .map(|&i| tree.row_text(&tree.rows[i]).0)
        .collect();
    assert!(names.iter().any(|n| n == "bus"), "{names:?}");
}

/// Cancel and Close stop BEFORE's analysis; the Comparison stays (Cancel) or goes (Close).
#[test]
fn cancel_and_close_stop_before_analysis() {
    use heapdiff::app::model::BeforeState;
    use heapdiff::app::tasks::TaskName;
    let pair = || {
        vec![
            common::fixture("ssr-di-leak.before.heapsnapshot"),
            common::fixture("ssr-di-leak.after.heapsnapshot"),
        ]
    };
    let mut harness = open(pair());
    wait_for_comparison(&mut harness);
    harness.state_mut().handle_command(Command::Cancel);
    wait_for_jobs(&mut harness);
    let app = harness.state();
    assert_eq!(pair_of(app).before_state, BeforeState::Cancelled);
    assert_eq!(app.tasks.alive(TaskName::AnalyseBefore), 0);
    assert!(app.error.is_none(), "{:?}", app.error);
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.contains("Analysis of before cancelled")),
        "{:?}",
        app.status
    );
    assert_eq!(app.table_names()[0], "ChildContainer", "the table stays");

    harness
        .state_mut()
        .handle_command(Command::OpenFiles(pair()));
    wait_for_comparison(&mut harness);
    assert!(harness.state().tasks.is_running(TaskName::AnalyseBefore));
    harness.state_mut().handle_command(Command::Close);
    assert!(!harness.state().is_busy(), "nothing more will arrive");
    let start = Instant::now();
    while harness.state().tasks.alive(TaskName::AnalyseBefore) > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the analysis kept running"
        );
        std::thread::sleep(Duration::from_millis(5));
        harness.step();
    }
    assert!(matches!(
        harness.state().content,
        heapdiff::app::model::Content::Start
    ));
}

/// The window's Comparison rows are the rows of `heapdiff diff --format json` on the same pair
/// (one pipeline, one row type), and its suspects rank as the findings list them.
#[test]
fn window_rows_are_the_findings_rows() {
    let dir = temp_dir("rows");
    let findings = heapdiff::report::findings::read(&write_findings(&dir)).expect("findings");
    let mut harness = open(vec![
        common::fixture("ssr-di-leak.before.heapsnapshot"),
        common::fixture("ssr-di-leak.after.heapsnapshot"),
    ]);
    wait_for_comparison(&mut harness);
    let pair = pair_of(harness.state());
    let rows: Vec<&heapdiff::report::ClassRow> = pair.rows.iter().map(|r| &r.class).collect();
    let expected: Vec<&heapdiff::report::ClassRow> = findings.classes.iter().collect();
    assert_eq!(rows, expected);
    let ranked: Vec<&str> = (0..findings.suspects.len() as u32)
        .filter_map(|rank| pair.rows.iter().find(|r| r.suspect == Some(rank)))
        .map(|r| r.class.class_key.as_str())
        .collect();
    let suspects: Vec<&str> = findings
        .suspects
        .iter()
        .map(|s| s.class_key.as_str())
        .collect();
    assert_eq!(ranked, suspects);
    let _ = std::fs::remove_dir_all(&dir);
}

fn label_contains(harness: &Harness<'_, HeapdiffApp>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

fn leaks_of(app: &HeapdiffApp) -> &heapdiff::app::leaks_view::LeakList {
    app.content.leaks().expect("a comparison with leaks")
}

/// The Leaks view is what a comparison opens on: ssr-di-leak's likely group first, its sentence
/// naming `bus._events.config` and ChildContainer; selecting its card shows the holder's growth,
/// its objects and the largest one's retainers; a class of its composition jumps to its row of
/// the Comparison table.
#[test]
fn leaks_view_opens_first_and_jumps_to_the_comparison_row() {
    use heapdiff::app::settings::Tab;
    use heapdiff::pipeline::Side;
    let mut harness = open(vec![
        common::fixture("ssr-di-leak.before.heapsnapshot"),
        common::fixture("ssr-di-leak.after.heapsnapshot"),
    ]);
    wait_for_jobs(&mut harness);
    let app = harness.state();
    assert!(app.error.is_none(), "{:?}", app.error);
    assert_eq!(app.tab, Tab::Leaks, "a comparison opens on its leaks");
    let first = &leaks_of(app).leaks[0];
    assert!(first.likely);
    assert!(
        first.sentence.contains("`bus._events.config`")
            && first.sentence.contains("ChildContainer"),
        "{}",
        first.sentence
    );
    // The card's sentence is on screen, code spans without their backticks.
    assert!(label_contains(
        &harness,
        "were added to bus._events.config and never removed"
    ));
    assert!(label_contains(&harness, "1,000 ChildContainer"));
    assert!(label_exists(&harness, "1 likely leak"));

    // Select the card by clicking it: the holder's growth, the entries and their retainers.
    harness.state_mut().selection.leak = None;
    harness.step();
    assert!(!label_contains(&harness, "203 → 1,203"));
    harness.get_by_label("Leak group 1").click();
    wait_for_jobs(&mut harness);
    let app = harness.state();
    assert_eq!(app.selection.leak, Some(0));
    assert!(label_contains(
        &harness,
        "Array @86059 bus._events.config: 203 → 1,203 elements"
    ));
    let first = &leaks_of(app).leaks[0];
    let objects = &app.selection.leak_objects;
    assert_eq!(objects.len() as u64, first.roots);
    let (side, example) = app.selection.object.expect("the largest entry is selected");
    assert_eq!(side, Side::After);
    assert_eq!(Some(example), leaks_of(app).examples.first().copied());
    let Some(heapdiff::app::model::Content::Pair(pair)) = Some(&app.content) else {
        panic!("a live pair");
    };
    let retained = &pair.after.loaded.analysis.retained_size;
    assert!(
        objects
            .new
            .nodes()
            .windows(2)
            .all(|w| retained.of(w[0]) >= retained.of(w[1])),
        "biggest retained first"
    );
    let tree = app.selection.tree().expect("the entry's retainer tree");
    assert_eq!(tree.node, example);
    assert!(label_exists(&harness, "1,020 objects"));
    // The path tree: the holder, then `config`, `_events` and `bus` outwards.
    assert!(label_exists(&harness, "the holder"));
    for step in ["config", "_events", "bus"] {
        assert!(
            first.path.steps.iter().any(|s| s.edge_name == step),
            "{step} in {:?}",
            first.path.steps
        );
        assert!(label_exists(&harness, step), "{step} on screen");
    }

    // ChildContainer in the composition: the Classes tab, its row selected and on screen.
    harness.get_by_label("ChildContainer").click();
    harness.step();
    harness.step();
    let app = harness.state();
    assert_eq!(app.tab, Tab::Table);
    let key = app.selection.class.clone().expect("a class is selected");
    let rows = app.content.compare_rows().expect("comparison rows");
    let row = rows
        .iter()
        .find(|r| r.class.class_key == key)
        .expect("its row");
    assert_eq!(row.class.name, "ChildContainer");
    assert_eq!(app.selection.instances.new_count(), 1000);
    assert!(label_exists(&harness, "+1,000"), "its row is on screen");
}

/// A class hidden by the filter is still found: the jump clears the filter.
#[test]
fn jumping_to_a_filtered_out_class_clears_the_filter() {
    let mut harness = open(vec![
        common::fixture("ssr-di-leak.before.heapsnapshot"),
        common::fixture("ssr-di-leak.after.heapsnapshot"),
    ]);
    wait_for_jobs(&mut harness);
    harness
        .state_mut()
        .handle_command(Command::SetFilter("Provider".into()));
    let key = leaks_of(harness.state()).leaks[0]
        .composition
        .iter()
        .find(|p| p.name == "ChildContainer")
        .map(|p| p.class_key.clone())
        .expect("ChildContainer in the composition");
    harness
        .state_mut()
        .handle_command(Command::ShowClass(key.clone()));
    harness.step();
    let app = harness.state();
    assert_eq!(app.settings.filter, "");
    assert_eq!(app.selection.class.as_deref(), Some(key.as_str()));
    assert!(app.table_names().iter().any(|n| n == "ChildContainer"));
}

/// A reopened findings file shows the Leaks view from the file: the sentence, the holder's
/// growth and the composition, and says why its objects are missing.
#[test]
fn reopened_findings_show_the_leaks() {
    use heapdiff::app::settings::Tab;
    let dir = temp_dir("reopen-leaks");
    let path = write_findings(&dir);
    let mut harness = open(vec![path]);
    wait_for_jobs(&mut harness);
    let app = harness.state();
    assert!(app.error.is_none(), "{:?}", app.error);
    assert_eq!(app.tab, Tab::Leaks);
    assert_eq!(app.selection.leak, Some(0));
    assert!(
        leaks_of(app).entries.is_none(),
        "no objects without the snapshots"
    );
    assert!(label_contains(&harness, "were added to bus._events.config"));
    assert!(label_contains(&harness, "203 → 1,203 elements"));
    assert!(label_contains(&harness, "without the snapshots"));
    harness.get_by_label("ChildContainer").click();
    harness.step();
    harness.step();
    let app = harness.state();
    assert_eq!(app.tab, Tab::Table);
    let rows = app.content.compare_rows().expect("rows");
    let selected = app.selection.class.as_deref().expect("selected");
    assert!(
        rows.iter()
            .any(|r| r.class.class_key == selected && r.class.name == "ChildContainer")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Locations name the script: the instance list, the Comparison table and the retainer tree
/// say `ssr-di-leak.js:…`, never `script 82 line …`; a class whose script source the snapshot
/// holds shows its source line.
#[test]
fn locations_name_the_script_and_show_the_source() {
    let mut harness = open(vec![
        common::fixture("ssr-di-leak.before.heapsnapshot"),
        common::fixture("ssr-di-leak.after.heapsnapshot"),
    ]);
    wait_for_jobs(&mut harness);
    let old_format = |harness: &Harness<'_, HeapdiffApp>| {
        harness
            .query_all_by(|node| {
                node.label()
                    .is_some_and(|l| l.starts_with("script ") && l.contains(" line "))
            })
            .count()
    };
    // The Leaks view's objects are closures created at ssr-di-leak.js:39:26.
    assert!(label_exists(&harness, "ssr-di-leak.js:39:26"));
    assert_eq!(old_format(&harness), 0);
    // The Classes tab: Function's objects, and ChildContainer's row located at its class.
    harness.get_by_label("Classes").click();
    harness
        .state_mut()
        .handle_command(Command::SelectClass(",Function".into()));
    wait_for_jobs(&mut harness);
    assert!(label_contains(&harness, "ssr-di-leak.js:"));
    assert!(
        label_exists(&harness, "ssr-di-leak.js:18:14"),
        "ChildContainer's row"
    );
    assert_eq!(old_format(&harness), 0);
    // The retainer tree of a closure names where the closures on its path were created.
    let app = harness.state();
    let tree = app.selection.tree().expect("a tree");
    let located = tree
        .visible
        .iter()
        .filter_map(|&i| heapdiff::app::source::of_node(&tree.file.loaded, tree.rows[i].node))
        .count();
    assert!(located > 0, "a located row in the tree");

    // One snapshot: ChildContainer's source line (the snapshot holds the script's first 1,024
    // characters, which include it), monospace under the details.
    let mut harness = open(vec![common::fixture("ssr-di-leak.after.heapsnapshot")]);
    wait_for_jobs(&mut harness);
    harness
        .state_mut()
        .handle_command(Command::SetFilter("ChildContainer".into()));
    harness.step();
    harness.get_by_label("ChildContainer").click();
    wait_for_jobs(&mut harness);
    let source = harness.state().selection.source.clone().expect("a source");
    // V8 locates a class at its constructor.
    assert_eq!(source.line, 18);
    let lines: Vec<(u32, &str)> = source.lines.iter().map(|(n, t)| (*n, t.as_str())).collect();
    assert_eq!(
        lines,
        vec![
            (17, "class ChildContainer {"),
            (18, "  constructor(root, req) {"),
            (19, "    this.root = root;")
        ],
        "the line and one on each side"
    );
    assert!(label_contains(&harness, "18    constructor(root, req) {"));
    assert!(label_exists(&harness, "Source of class ChildContainer"));
}

/// The holder's retained size before is known once BEFORE is analysed: missing while the
/// Comparison is first on screen, filled in when the analysis arrives (and in what the window
/// saves).
#[test]
fn holder_retained_before_arrives_with_befores_analysis() {
    use heapdiff::app::model::BeforeState;
    let dir = temp_dir("holder-growth");
    let mut harness = open(vec![
        common::fixture("ssr-di-leak.before.heapsnapshot"),
        common::fixture("ssr-di-leak.after.heapsnapshot"),
    ]);
    wait_for_comparison(&mut harness);
    let app = harness.state();
    let holder = leaks_of(app).leaks[0].holder.clone().expect("a holder");
    assert_eq!(holder.id, 86059);
    assert_eq!(holder.retained_before, None);
    assert_eq!((holder.edges_before, holder.edges_after), (Some(203), 1203));
    harness.step();
    if pair_of(harness.state()).before_state == BeforeState::Analysing {
        assert!(label_contains(&harness, "comes once before is analysed"));
    }

    wait_for_jobs(&mut harness);
    let app = harness.state();
    let pair = pair_of(app);
    assert_eq!(pair.before_state, BeforeState::Analysed);
    let before = &pair.before.loaded;
    let ordinal = before
        .snapshot
        .node_for_id(86059)
        .expect("the holder in before");
    let expected = before.analysis.retained(ordinal);
    let holder = leaks_of(app).leaks[0].holder.clone().expect("a holder");
    assert_eq!(holder.retained_before, Some(expected));
    assert!(expected < holder.retained_after, "the holder grew");
    let growth = format!(
        "retains {} → {}",
        heapdiff::format::bytes(expected),
        heapdiff::format::bytes(holder.retained_after)
    );
    assert!(label_contains(&harness, &growth), "{growth}");

    // A findings file saved from the window carries it.
    let saved = dir.join("saved.heapdiff.json");
    harness.state_mut().handle_command(Command::SaveTo(
        heapdiff::app::command::SaveKind::Findings,
        saved.clone(),
    ));
    wait_for_jobs(&mut harness);
    let findings = heapdiff::report::findings::read(&saved).expect("reads back");
    let saved_holder = findings.leaks[0].holder.clone().expect("a holder");
    assert_eq!(saved_holder.retained_before, Some(expected));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The no-leak control pair opens on the Leaks view too, with no likely leak: nothing is
/// selected and the other groups are listed, unfolded, as not judged leaks.
#[test]
fn no_leak_control_shows_no_likely_leak() {
    use heapdiff::app::settings::Tab;
    let mut harness = open(vec![
        common::fixture("no-leak-control.before.heapsnapshot"),
        common::fixture("no-leak-control.after.heapsnapshot"),
    ]);
    wait_for_jobs(&mut harness);
    let app = harness.state();
    assert!(app.error.is_none(), "{:?}", app.error);
    assert_eq!(app.tab, Tab::Leaks);
    assert!(leaks_of(app).leaks.iter().all(|l| !l.likely));
    assert_eq!(app.selection.leak, None);
    assert!(label_exists(&harness, "No likely leak"));
    assert!(label_contains(
        &harness,
        "heapdiff judges none of these groups a leak"
    ));
    assert!(
        label_exists(&harness, "Leak group 1"),
        "the others are listed"
    );
}

/// The runtime quirks the engine named show above the numbers: Bun 1.4 renumbers every object.
#[test]
fn warnings_show_above_the_numbers() {
    let runtimes = common::data_dir().join("runtimes");
    let mut harness = open(vec![
        runtimes.join("bun-1.4.before.heapsnapshot.gz"),
        runtimes.join("bun-1.4.after.heapsnapshot.gz"),
    ]);
    wait_for_jobs(&mut harness);
    let warnings = harness.state().content.warnings().to_vec();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("the Comparison cannot match objects")),
        "{warnings:?}"
    );
    assert!(
        harness
            .query_all_by_label_contains("the Comparison cannot match objects")
            .next()
            .is_some(),
        "the warning is on screen"
    );
}

/// A snapshot taken with allocation tracking: the selected object's allocation stack, under
/// its retainer tree, names the function and file that allocated it.
#[test]
fn allocation_stack_shows_under_the_retainer_tree() {
    let dir = temp_dir("tracked");
    let prefix = dir.join("tracked");
    let out = std::process::Command::new("node")
        .arg("--expose-gc")
        .arg(common::data_dir().join("gen/inspector-snapshot.js"))
        .arg(&prefix)
        .args(["--track", "--pair"])
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut harness = open(vec![
        dir.join("tracked.before.heapsnapshot"),
        dir.join("tracked.after.heapsnapshot"),
    ]);
    wait_for_jobs(&mut harness);
    // The comparison opens on its likely leak with its largest object selected.
    let stack: Vec<String> = harness
        .state()
        .selection
        .tree
        .tree()
        .map(|t| t.allocation.iter().map(|f| f.function.clone()).collect())
        .unwrap_or_default();
    assert!(stack.iter().any(|f| f == "plantLeak"), "{stack:?}");
    assert!(label_exists(&harness, "Allocation stack"));
    // The group's most common allocation site, on its card's details.
    assert!(
        harness
            .query_all_by_label_contains("allocated at plantLeak (inspector-snapshot.js:")
            .next()
            .is_some(),
        "the leak's allocation site is on screen"
    );
    assert!(
        harness
            .query_all_by_label_contains("inspector-snapshot.js")
            .next()
            .is_some(),
        "the frame's file is on screen"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

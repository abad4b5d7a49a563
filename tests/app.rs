//! The window, driven headless with egui_kittest: files are opened through the same entry point
//! as the command line (`StartupOptions` → `HeapdiffApp::new`), and the tests check state and
//! accessibility labels, not pixels.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use heapdiff::app::{Command, HeapdiffApp, StartupOptions};

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
    let file = match &app.content {
        heapdiff::app::state::Content::Single(file) => file.clone(),
        _ => panic!("one file opens its Summary"),
    };
    let row = file
        .summary
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
        file.summary
            .iter()
            .find(|r| &r.name == name)
            .map_or(0, |r| r.count)
    };
    let max = file.summary.iter().map(|r| r.count).max();
    let min = file.summary.iter().map(|r| r.count).min();
    assert_eq!(by_count.first().map(count_of), max, "biggest count first");
    assert_eq!(
        reversed.first().map(count_of),
        min,
        "a second click reverses the order"
    );

    // Select ChildContainer: its first object's retainer tree shows `bus` and `_events`.
    harness
        .state_mut()
        .handle_command(Command::SetFilter("ChildContainer".into()));
    harness.step();
    harness.get_by_label("ChildContainer").click();
    for _ in 0..3 {
        harness.step();
    }
    assert_eq!(
        harness.state().selected_class.as_deref(),
        Some(row.class_key.as_str())
    );
    let tree = harness.state().tree.as_ref().expect("a retainer tree");
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
        heapdiff::app::state::Content::Start
    ));
}

#[test]
fn comparison_ranks_child_container_first_and_shows_its_retainers() {
    let mut harness = open(vec![
        common::fixture("ssr-di-leak.before.heapsnapshot"),
        common::fixture("ssr-di-leak.after.heapsnapshot"),
    ]);
    wait_for_jobs(&mut harness);
    let app = harness.state();
    assert!(app.error.is_none(), "{:?}", app.error);
    let pair = match &app.content {
        heapdiff::app::state::Content::Pair(pair) => pair,
        _ => panic!("two files open a Comparison"),
    };
    // The first row is the first suspect: ChildContainer, +1,000.
    let first = &pair.rows[app.visible.rows[0] as usize];
    assert_eq!(first.name, "ChildContainer");
    assert_eq!(first.suspect, Some(0));
    assert_eq!(first.new_count, 1000);
    assert_eq!(first.delta_count, 1000);
    assert_eq!(app.table_names()[0], "ChildContainer");
    assert!(label_exists(&harness, "+1,000"), "# Delta +1,000 on screen");
    // DevTools' column names are the headers.
    for column in heapdiff::app::state::Column::COMPARISON {
        assert!(label_exists(&harness, column.label()), "{}", column.label());
    }

    // ChildContainer is selected at once: its new objects, their merged paths with an exact
    // count, and the retainer tree of the biggest one down to `bus` and `_events`.
    let app = harness.state();
    assert_eq!(
        app.selected_class.as_deref(),
        Some(first.class_key.as_str())
    );
    assert_eq!(app.instances.new_count(), 1000);
    let merged = app
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
        heapdiff::app::state::Content::Pair(pair) => pair,
        _ => panic!("still a Comparison"),
    };
    let row = pair
        .rows
        .iter()
        .find(|r| r.name == "ChildContainer")
        .expect("ChildContainer row");
    assert_eq!((row.new_count, row.deleted_count), (0, 1000));
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
    let app = harness.state();
    assert!(app.error.is_none(), "{:?}", app.error);
    assert!(matches!(
        app.content,
        heapdiff::app::state::Content::Findings(_)
    ));
    let rows = app.content.compare_rows().expect("comparison rows");
    let first = &rows[app.visible.rows[0] as usize];
    assert_eq!(first.name, "ChildContainer");
    assert_eq!(first.suspect, Some(0));
    assert_eq!((first.new_count, first.delta_count), (1000, 1000));
    assert!(label_exists(&harness, "+1,000"), "# Delta +1,000 on screen");
    // The suspect's merged paths come from the file, with their exact counts.
    let merged = app
        .merged
        .as_ref()
        .and_then(|m| m.paths.as_ref())
        .expect("merged paths");
    assert!(merged.iter().any(|p| p.count == 1000));
    assert!(label_exists(&harness, "×1000"));
    assert!(label_exists(&harness, "bus"));
    // Objects and live trees need the snapshots: a note says so.
    assert!(app.instances.is_empty() && app.tree.is_none());
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
        heapdiff::app::state::Theme::Light
    } else {
        heapdiff::app::state::Theme::Dark
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
        heapdiff::app::state::Content::Start
    ));
    assert!(label_exists(&harness, "Open before…"));
}

//! UI-thread cost of the window, measured headless, and the window's time and memory to open a
//! pair next to `heapdiff diff`.
//!
//! ```sh
//! cargo run --release --example ui_bench            # first frame + 50,000-row scrolling
//! xvfb-run -a cargo run --release --example ui_bench -- --window   # plus the real window
//! cargo build --release && cargo run --release --example ui_bench -- --pair BEFORE AFTER [--warm]
//! ```
//!
//! What is measured, per frame: the app's `ui` (layout of every widget on screen) plus egui's
//! tessellation into triangles, on the calling thread: the CPU work of a frame up to the GPU
//! upload. Not measured headless: the GPU upload and presentation (the renderer's side).
//!
//! 1. **First frame**: from creating the app (`HeapdiffApp::new`, the entry point of `main`)
//!    to the end of its first frame's tessellation, start screen, in a fresh `egui::Context`
//!    (font atlas built on the way, as in the window).
//! 2. **Scrolling a 50,000-row comparison**: a synthetic findings file with 50,000 class rows
//!    is opened through the command-line entry point (`StartupOptions::from_files`), read on the
//!    worker, and the Comparison table is scrolled by mouse-wheel events, one per frame; mean,
//!    p95 and max over the frames.
//! 3. With `--window` (needs a display, e.g. under `xvfb-run`): the real eframe window, from
//!    `main` to the end of the first `ui` call (window, GPU device and fonts included).
//! 4. With `--pair BEFORE AFTER`: `heapdiff diff BEFORE AFTER --format json -o FILE` (the
//!    release binary beside this example) and the window's state machine (`HeapdiffApp::new`
//!    with `StartupOptions::from_files`, frames stepped headless every 5 ms as a repainting
//!    window would), each in its own child process so each peak RSS is its own: wall time and
//!    peak RSS (VmHWM) to the first frame that draws the comparison (the Leaks view it opens on),
//!    then to the end of BEFORE's background analysis (the deleted objects' retainers), and the
//!    child's peak from wait4. The window's GPU side (textures, the renderer) is not included.

use std::time::{Duration, Instant};

use eframe::egui::{self, Event, Modifiers, MouseWheelSource, MouseWheelUnit, TouchPhase, vec2};
use heapdiff::app::{HeapdiffApp, StartupOptions};
use heapdiff::report::{
    ClassRow, FileInfo, Findings, Path as ReportPath, Step, SuspectRow, Totals,
};
use heapdiff::testkit::measure;

const ROWS: usize = 50_000;
const SCROLL_FRAMES: usize = 600;
const WIDTH: f32 = 1280.0;
const HEIGHT: f32 = 800.0;

fn main() {
    let process_start = Instant::now();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if std::env::args().any(|a| a == "--window") {
        window(process_start);
        return;
    }
    match (args.first().map(String::as_str), args.get(1), args.get(2)) {
        (Some("--pair"), Some(before), Some(after)) => {
            let flag = |f: &str| args.iter().any(|a| a == f);
            return pair(before, after, flag("--window-first"), flag("--warm"));
        }
        (Some("--first-table"), Some(before), Some(after)) => {
            return first_table(process_start, before, after);
        }
        (Some("--pair" | "--first-table"), ..) => {
            eprintln!("usage: ui_bench --pair BEFORE AFTER [--window-first] [--warm]");
            std::process::exit(2);
        }
        _ => {}
    }
    let mut frame = eframe::Frame::_new_kittest();

    // 1. First frame of the start screen.
    let start = Instant::now();
    let ctx = egui::Context::default();
    let cc = eframe::CreationContext::_new_kittest(ctx.clone());
    let mut app = HeapdiffApp::new(&cc, StartupOptions::default());
    run_frame(&ctx, &mut app, &mut frame, Vec::new(), 0);
    let first = start.elapsed();
    println!(
        "first frame (start screen, app creation + ui + tessellation): {:.1} ms",
        ms(first)
    );

    // 2. A 50,000-row comparison, scrolled.
    let dir = std::env::temp_dir().join(format!("heapdiff-ui-bench-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("ui_bench: {}: {e}", dir.display());
        std::process::exit(2);
    }
    let path = dir.join("bench-50k.heapdiff.json");
    if let Err(e) = std::fs::write(&path, heapdiff::report::findings::to_json(&synthetic())) {
        eprintln!("ui_bench: {}: {e}", path.display());
        std::process::exit(2);
    }
    let ctx = egui::Context::default();
    let cc = eframe::CreationContext::_new_kittest(ctx.clone());
    let options = StartupOptions::from_files(vec![path.clone()], None);
    let mut app = HeapdiffApp::new(&cc, options);
    let mut frame_no = 0;
    let load_start = Instant::now();
    let mut worst_loading_frame = Duration::ZERO;
    while app.is_busy() {
        let t = Instant::now();
        run_frame(&ctx, &mut app, &mut frame, Vec::new(), frame_no);
        worst_loading_frame = worst_loading_frame.max(t.elapsed());
        frame_no += 1;
        std::thread::sleep(Duration::from_millis(5));
        if load_start.elapsed() > Duration::from_secs(120) {
            eprintln!("ui_bench: the findings file did not load");
            std::process::exit(2);
        }
    }
    // The frame that receives the rows (sorting 50,000 rows once) and a few to settle.
    let mut settle = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        run_frame(&ctx, &mut app, &mut frame, Vec::new(), frame_no);
        settle.push(t.elapsed());
        frame_no += 1;
    }
    if let Some(error) = &app.error {
        eprintln!("ui_bench: {error}");
        std::process::exit(2);
    }
    let rows = app.content.compare_rows().map_or(0, <[_]>::len);
    println!(
        "opened {rows} rows in {:.0} ms (worker); slowest frame while loading {:.1} ms (includes \
         receiving and sorting the rows), \
         next frame {:.1} ms",
        ms(load_start.elapsed()),
        ms(worst_loading_frame),
        ms(settle[0])
    );

    // Pointer over the class table (upper half of the window), one wheel notch per frame.
    let pointer = egui::pos2(400.0, 200.0);
    let mut times = Vec::with_capacity(SCROLL_FRAMES);
    let mut shown = Vec::new();
    for i in 0..SCROLL_FRAMES {
        let events = vec![
            Event::PointerMoved(pointer),
            Event::MouseWheel {
                unit: MouseWheelUnit::Point,
                delta: vec2(0.0, -240.0),
                phase: TouchPhase::Move,
                source: MouseWheelSource::Wheel,
                modifiers: Modifiers::NONE,
            },
        ];
        let t = Instant::now();
        let texts = run_frame(&ctx, &mut app, &mut frame, events, frame_no);
        times.push(t.elapsed());
        frame_no += 1;
        if i + 1 == SCROLL_FRAMES {
            shown = texts;
        }
    }
    // Proof that the table moved: the highest synthetic row number on the last frame.
    let deepest = shown
        .iter()
        .filter_map(|t| t.strip_prefix("Class")?.parse::<usize>().ok())
        .max();
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    let p95 = times[times.len() * 95 / 100];
    let max = times[times.len() - 1];
    println!(
        "scrolling {rows} rows, {SCROLL_FRAMES} frames ({WIDTH}x{HEIGHT}), ui + tessellation per \
         frame: mean {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        ms(mean),
        ms(p95),
        ms(max)
    );
    println!(
        "last frame shows rows up to Class{:05} (scrolled)",
        deepest.unwrap_or(0)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// One frame: the app's `ui` then tessellation. Returns the texts drawn.
fn run_frame(
    ctx: &egui::Context,
    app: &mut HeapdiffApp,
    frame: &mut eframe::Frame,
    events: Vec<Event>,
    frame_no: usize,
) -> Vec<String> {
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            vec2(WIDTH, HEIGHT),
        )),
        time: Some(frame_no as f64 / 60.0),
        predicted_dt: 1.0 / 60.0,
        events,
        ..Default::default()
    };
    let output = ctx.run_ui(input, |ui| eframe::App::ui(app, ui, frame));
    let texts = output
        .shapes
        .iter()
        .filter_map(|s| match &s.shape {
            egui::Shape::Text(t) => Some(t.galley.text().to_string()),
            _ => None,
        })
        .collect();
    let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
    std::hint::black_box(primitives);
    texts
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A findings file with [`ROWS`] class rows and one suspect with a merged path.
fn synthetic() -> Findings {
    let mut totals = Totals::default();
    let classes: Vec<ClassRow> = (0..ROWS)
        .map(|i| {
            let added_count = (i * 7919 % 5000) as u64;
            let removed_count = (i * 104_729 % 3000) as u64;
            let added_size = added_count * (32 + (i % 9) as u64 * 8);
            let removed_size = removed_count * (32 + (i % 5) as u64 * 8);
            totals.added_count += added_count;
            totals.removed_count += removed_count;
            totals.added_size += added_size;
            totals.removed_size += removed_size;
            ClassRow {
                class_key: format!(",Class{i:05}"),
                name: format!("Class{i:05}"),
                added_count,
                removed_count,
                count_delta: added_count as i64 - removed_count as i64,
                added_size,
                removed_size,
                size_delta: added_size as i64 - removed_size as i64,
                added_retained_size: added_size * 2,
                after_share: (i % 100) as f64 / 10_000.0,
                location: None,
            }
        })
        .collect();
    totals.count_delta = totals.added_count as i64 - totals.removed_count as i64;
    totals.size_delta = totals.added_size as i64 - totals.removed_size as i64;
    let step = |edge: &str, class: &str| Step {
        edge_type: "property".into(),
        edge_name: edge.into(),
        class_name: class.into(),
        repeat: 1,
    };
    let suspect = &classes[1];
    let suspects = vec![SuspectRow {
        class_key: suspect.class_key.clone(),
        name: suspect.name.clone(),
        added_count: suspect.added_count,
        added_retained_size: suspect.added_retained_size,
        location: None,
        paths: vec![ReportPath {
            count: suspect.added_count,
            retained_size: suspect.added_retained_size,
            steps: vec![step("items", "Array"), step("cache", "Store")],
            example: None,
        }],
    }];
    let file = |name: &str| FileInfo {
        file: name.into(),
        ..Default::default()
    };
    Findings {
        format: heapdiff::report::FORMAT.into(),
        version: heapdiff::report::VERSION,
        generator: "ui_bench".into(),
        strings_included: false,
        before: file("before.heapsnapshot"),
        after: file("after.heapsnapshot"),
        final_: None,
        warnings: Vec::new(),
        totals,
        leaks: Vec::new(),
        classes,
        suspects,
    }
}

/// The real window: process start to the end of the first `ui` call, then closes.
fn window(process_start: Instant) {
    struct FirstFrame {
        app: HeapdiffApp,
        start: Instant,
        done: bool,
    }
    impl eframe::App for FirstFrame {
        fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
            self.app.ui(ui, frame);
            if !self.done {
                self.done = true;
                println!(
                    "real window: first ui call done {:.0} ms after main (window, GPU, fonts)",
                    ms(self.start.elapsed())
                );
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
    }
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([WIDTH, HEIGHT]),
        persist_window: false,
        ..Default::default()
    };
    let result = eframe::run_native(
        "heapdiff-ui-bench",
        native,
        Box::new(move |cc| {
            Ok(Box::new(FirstFrame {
                app: HeapdiffApp::new(cc, StartupOptions::default()),
                start: process_start,
                done: false,
            }))
        }),
    );
    if let Err(e) = result {
        eprintln!("ui_bench: cannot open a window: {e}");
        std::process::exit(2);
    }
}

/// `--pair`: `heapdiff diff` and the window on the same pair, each in a child process (the CLI
/// first; `--window-first` swaps them; `--warm` runs `heapdiff diff` once, untimed, before).
fn pair(before: &str, after: &str, window_first: bool, warm: bool) {
    let me = std::env::current_exe().unwrap_or_default();
    // target/release/examples/ui_bench → target/release/heapdiff
    let cli = me
        .parent()
        .and_then(|examples| examples.parent())
        .map(|dir| dir.join("heapdiff"))
        .filter(|p| p.is_file());
    let Some(cli) = cli else {
        eprintln!(
            "ui_bench: no heapdiff binary beside {}: cargo build --release",
            me.display()
        );
        std::process::exit(2);
    };
    let mb = |f: &str| std::fs::metadata(f).map_or(0.0, |m| m.len() as f64 / 1e6);
    let files = mb(before) + mb(after);
    println!(
        "pair: {before} ({:.0} MB) + {after} ({:.0} MB) = {files:.0} MB",
        mb(before),
        mb(after)
    );
    let run_cli = || {
        let out =
            std::env::temp_dir().join(format!("heapdiff-ui-bench-{}.json", std::process::id()));
        let start = Instant::now();
        let (_, peak) = run_measured(
            std::process::Command::new(&cli)
                .args(["diff", before, after, "--format", "json", "-o"])
                .arg(&out),
        );
        let secs = start.elapsed().as_secs_f64();
        let json = std::fs::metadata(&out).map_or(0, |m| m.len());
        let _ = std::fs::remove_file(&out);
        if json == 0 {
            eprintln!(
                "ui_bench: heapdiff diff wrote no findings to {}",
                out.display()
            );
            std::process::exit(2);
        }
        (secs, peak)
    };
    let run_window = || {
        let (answer, peak) =
            run_measured(std::process::Command::new(&me).args(["--first-table", before, after]));
        let figures: Vec<f64> = answer
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        let [table_secs, table_peak, analysed_secs, analysed_peak, rows] = figures[..] else {
            eprintln!("ui_bench: the window child said {answer:?}");
            std::process::exit(2);
        };
        (
            [table_secs, table_peak, analysed_secs, analysed_peak, rows],
            peak,
        )
    };
    if warm {
        // The first big process after others freed gigabytes waits for the kernel to reclaim
        // memory; an untimed run first lets both measured ones start alike.
        let (secs, _) = run_cli();
        println!("warm-up heapdiff diff (untimed): {secs:.2} s");
    }
    let ((cli_secs, cli_peak), (window, window_peak)) = if window_first {
        let window = run_window();
        (run_cli(), window)
    } else {
        let cli = run_cli();
        (cli, run_window())
    };
    let [table_secs, table_peak, analysed_secs, analysed_peak, rows] = window;
    let row = |what: &str, secs: f64, peak: f64| {
        println!(
            "{what:<58} {secs:>7.2} s {:>7.0} MB ({:.2}× the files)",
            peak / 1e6,
            peak / 1e6 / files
        );
    };
    row(
        "heapdiff diff --format json -o FILE (wait4 peak)",
        cli_secs,
        cli_peak as f64,
    );
    row(
        &format!("window: first frame of the comparison ({rows} rows; VmHWM)"),
        table_secs,
        table_peak,
    );
    row(
        "window: + BEFORE analysed for deleted objects (VmHWM)",
        analysed_secs,
        analysed_peak,
    );
    println!(
        "window / CLI time to the table: {:.2}×; window child's peak (wait4): {:.0} MB",
        table_secs / cli_secs,
        window_peak as f64 / 1e6
    );
}

/// `--first-table` (the child of `--pair`): the window's state machine on the pair; prints
/// seconds and VmHWM bytes to the first frame of the comparison, then to BEFORE analysed, and
/// the rows.
fn first_table(process_start: Instant, before: &str, after: &str) {
    use heapdiff::app::model::Content;
    let ctx = egui::Context::default();
    let cc = eframe::CreationContext::_new_kittest(ctx.clone());
    let mut frame = eframe::Frame::_new_kittest();
    let files = vec![before.into(), after.into()];
    let mut app = HeapdiffApp::new(&cc, StartupOptions::from_files(files, None));
    let mut frame_no = 0;
    let mut step = |app: &mut HeapdiffApp| {
        let texts = run_frame(&ctx, app, &mut frame, Vec::new(), frame_no);
        frame_no += 1;
        if let Some(error) = &app.error {
            eprintln!("ui_bench: {error}");
            std::process::exit(2);
        }
        if process_start.elapsed() > Duration::from_secs(900) {
            eprintln!("ui_bench: the pair did not open");
            std::process::exit(2);
        }
        texts
    };
    // The first frame that draws the comparison: the Leaks view it opens on (its card list's
    // heading), or the Comparison table (its column headers and rows).
    loop {
        let texts = step(&mut app);
        let leaks_drawn = |t: &String| {
            t == "No likely leak" || t.ends_with(" likely leak") || t.ends_with(" likely leaks")
        };
        // A pair without changes shows AFTER's Summary instead.
        let drawn = app.content.compare_rows().is_none()
            || texts.iter().any(|t| t == "# New" || leaks_drawn(t));
        if !app.is_loading() && matches!(app.content, Content::Pair(_)) && drawn {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let table = (process_start.elapsed().as_secs_f64(), rss("VmHWM:"));
    let rows = app.content.compare_rows().map_or(0, <[_]>::len);
    while app.is_busy() {
        std::thread::sleep(Duration::from_millis(5));
        step(&mut app);
    }
    let analysed = (process_start.elapsed().as_secs_f64(), rss("VmHWM:"));
    println!(
        "{:.3} {} {:.3} {} {rows}",
        table.0, table.1, analysed.0, analysed.1
    );
}

/// A size line of /proc/self/status, in bytes.
fn rss(key: &str) -> u64 {
    measure::status_bytes(key)
}

/// Runs a child and returns its stdout and peak RSS in bytes.
fn run_measured(cmd: &mut std::process::Command) -> (String, u64) {
    measure::run_measured(cmd).unwrap_or_else(|e| {
        eprintln!("ui_bench: cannot run {cmd:?}: {e}");
        std::process::exit(2);
    })
}

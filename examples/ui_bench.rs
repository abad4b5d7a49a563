//! UI-thread cost of the window, measured headless.
//!
//! ```sh
//! cargo run --release --example ui_bench            # first frame + 50,000-row scrolling
//! xvfb-run -a cargo run --release --example ui_bench -- --window   # plus the real window
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

use std::time::{Duration, Instant};

use eframe::egui::{self, Event, Modifiers, MouseWheelSource, MouseWheelUnit, TouchPhase, vec2};
use heapdiff::app::{HeapdiffApp, StartupOptions};
use heapdiff::report::{
    ClassRow, FileInfo, Findings, Path as ReportPath, Step, SuspectRow, Totals,
};

const ROWS: usize = 50_000;
const SCROLL_FRAMES: usize = 600;
const WIDTH: f32 = 1280.0;
const HEIGHT: f32 = 800.0;

fn main() {
    let process_start = Instant::now();
    if std::env::args().any(|a| a == "--window") {
        window(process_start);
        return;
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

//! Loader, analysis and diff benchmark, side by side with the DevTools oracle on the same files.
//!
//! cargo run --release --example bench -- [--oracle] FILE...
//! cargo run --release --example bench -- --pair [--oracle] [--runs N] BEFORE AFTER
//!
//! `--pair` times the whole `heapdiff diff --format json -o FILE` path (AFTER loaded and
//! analysed, BEFORE loaded and classified, compared, findings JSON written) in a child
//! process, N times (3 unless given), and the oracle's `diff` once beside their median.
//!
//! Each file is measured in a fresh child process (so peak RSS is that file's alone): bytes,
//! nodes, edges, load time and MB/s, MB per CPU-second of the load (user + system time of all
//! threads: the per-core throughput), analysis time (retainers + distances + dominators +
//! retained sizes), classes, total, and peak RSS as a multiple of the file size. With
//! `--oracle`, DevTools' own code (../shared/oracle, `summary`) runs on the same file right
//! after, and its wall time and peak RSS are printed beside.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use heapdiff::analysis;
use heapdiff::snapshot::{self, class};
use heapdiff::task::{Hooks, Progress};
use heapdiff::testkit::measure;

fn main() {
    // As the heapdiff binary does.
    heapdiff::mem::return_large_blocks();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--one") {
        if let Some(file) = args.get(1) {
            measure_one(Path::new(file));
        }
        return;
    }
    if args.first().map(String::as_str) == Some("--one-pair") {
        if let (Some(b), Some(a)) = (args.get(1), args.get(2)) {
            measure_pair(Path::new(b), Path::new(a));
        }
        return;
    }
    let oracle = args.iter().any(|a| a == "--oracle");
    if args.iter().any(|a| a == "--pair") {
        let files: Vec<&String> = args
            .iter()
            .enumerate()
            .filter(|&(i, a)| !a.starts_with("--") && (i == 0 || args[i - 1] != "--runs"))
            .map(|(_, a)| a)
            .collect();
        let [before, after] = files[..] else {
            eprintln!("usage: bench --pair [--oracle] [--runs N] BEFORE AFTER");
            std::process::exit(2);
        };
        let runs = args
            .iter()
            .position(|a| a == "--runs")
            .and_then(|i| args.get(i + 1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(3usize)
            .max(1);
        bench_pair(before, after, oracle, runs);
        return;
    }
    let files: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    if files.is_empty() {
        eprintln!("usage: bench [--oracle] FILE...");
        std::process::exit(2);
    }
    println!(
        "{:<34} {:>9} {:>10} {:>11} {:>8} {:>9} {:>9} {:>9} {:>8} {:>8} {:>9} {:>6}",
        "file",
        "MB",
        "nodes",
        "edges",
        "load s",
        "MB/s",
        "MB/cpu-s",
        "analyse s",
        "class s",
        "total s",
        "peak MB",
        "×file"
    );
    let me = std::env::current_exe().expect("own path");
    for file in files {
        let (out, _) = run_measured(Command::new(&me).arg("--one").arg(file));
        print!("{out}");
        if oracle {
            let script =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/oracle/devtools-oracle.mjs");
            let start = Instant::now();
            let (_, rss) = run_measured(
                Command::new("node")
                    .arg("--max-old-space-size=20000")
                    .arg(&script)
                    .args(["summary", file, "--quiet"])
                    .stdout(std::process::Stdio::null()),
            );
            let secs = start.elapsed().as_secs_f64();
            let mb = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
            println!(
                "{:<34} {:>9.1} {:>10} {:>11} {:>8} {:>9} {:>9} {:>9} {:>8} {:>8.2} {:>9.0} {:>6.2}",
                "  DevTools oracle (summary)",
                mb,
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                secs,
                rss as f64 / 1e6,
                rss as f64 / 1e6 / mb
            );
        }
    }
}

fn bench_pair(before: &str, after: &str, oracle: bool, runs: usize) {
    let me = std::env::current_exe().expect("own path");
    let mb = |f: &str| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    let total = mb(before) + mb(after);
    println!(
        "{:<44} {:>9} {:>8} {:>9} {:>11}",
        "diff (both files → findings JSON)", "MB", "wall s", "peak MB", "×files"
    );
    let row = |label: &str, secs: f64, rss: u64| {
        println!(
            "{:<44} {:>9.1} {:>8.2} {:>9.0} {:>11.2}",
            label,
            total,
            secs,
            rss as f64 / 1e6,
            rss as f64 / 1e6 / total
        );
    };
    // Several runs, their median compared: this VM's first run after a pause or a large build
    // can take 30 % longer than the next (its memory is handed back to the host and faulted in
    // again), and one such run says nothing about the code.
    let mut measured: Vec<(f64, u64)> = (1..=runs)
        .map(|k| {
            let start = Instant::now();
            let (out, rss) = run_measured(Command::new(&me).args(["--one-pair", before, after]));
            let secs = start.elapsed().as_secs_f64();
            eprint!("{out}");
            row(&format!("heapdiff, run {k} of {runs}"), secs, rss);
            (secs, rss)
        })
        .collect();
    measured.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (median, median_rss) = measured[measured.len() / 2];
    let peak = measured.iter().map(|m| m.1).max().unwrap_or(median_rss);
    row(
        &format!("heapdiff, median of {runs} (highest peak)"),
        median,
        peak,
    );
    if oracle {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/oracle/devtools-oracle.mjs");
        let start = Instant::now();
        let (_, rss) = run_measured(
            Command::new("node")
                .arg("--max-old-space-size=20000")
                .arg(&script)
                .args(["diff", before, after, "--quiet"])
                .stdout(std::process::Stdio::null()),
        );
        let secs = start.elapsed().as_secs_f64();
        row("DevTools oracle (diff)", secs, rss);
        println!("oracle / heapdiff median: {:.1}×", secs / median);
    }
}

/// The child of `--pair`: the same steps as `heapdiff diff --format json -o FILE`
/// (`pipeline::compare_files`, with the opening and the comparison timed apart).
fn measure_pair(before: &Path, after: &Path) {
    use heapdiff::{pipeline, report};
    let start = Instant::now();
    let paths = pipeline::PairPaths {
        before,
        after,
        final_: None,
    };
    // BENCH_PHASES: when each side enters each phase, with the process's CPU time and RSS, to
    // see what runs beside what (the pair's phases overlap on two cores).
    let phases = std::env::var_os("BENCH_PHASES").is_some();
    let seen = std::sync::Mutex::new(std::collections::HashSet::new());
    let on_phase = |side: pipeline::Side, p: Progress| {
        let Ok(mut seen) = seen.lock() else { return };
        if seen.insert((side, p.phase)) {
            eprintln!(
                "  {:>7.3} s  cpu {:>7.3} s  rss {:>5} MB  {:<6} {}",
                start.elapsed().as_secs_f64(),
                measure::process_cpu_seconds(),
                measure::status_bytes("VmRSS:") / 1_000_000,
                side.label(),
                p.phase
            );
        }
    };
    let hooks = pipeline::PairHooks {
        progress: phases.then_some(&on_phase as &(dyn Fn(pipeline::Side, Progress) + Sync)),
        cancel: None,
    };
    let opened = match pipeline::open_pair(paths, hooks) {
        Ok(x) => x,
        Err(e) => {
            println!("{e}");
            return;
        }
    };
    let loaded = start.elapsed().as_secs_f64();
    let stages = std::env::var_os("BENCH_STAGES").is_some();
    if phases {
        eprintln!(
            "  {loaded:>7.3} s  cpu {:>7.3} s  rss {:>5} MB  opened, peak {} MB",
            measure::process_cpu_seconds(),
            measure::status_bytes("VmRSS:") / 1_000_000,
            measure::status_bytes("VmHWM:") / 1_000_000
        );
    }
    if stages {
        eprintln!(
            "  after open_pair: rss {} MB, peak {} MB",
            measure::status_bytes("VmRSS:") / 1_000_000,
            measure::status_bytes("VmHWM:") / 1_000_000
        );
    }
    let t = Instant::now();
    let pipeline::Compared {
        before: b,
        after: a,
        comparison,
        ..
    } = opened.compare();
    let compared = t.elapsed().as_secs_f64();
    if phases {
        eprintln!(
            "  {:>7.3} s  cpu {:>7.3} s  rss {:>5} MB  compared, peak {} MB",
            start.elapsed().as_secs_f64(),
            measure::process_cpu_seconds(),
            measure::status_bytes("VmRSS:") / 1_000_000,
            measure::status_bytes("VmHWM:") / 1_000_000
        );
    }
    if stages {
        eprintln!(
            "  after compare: rss {} MB, peak {} MB",
            measure::status_bytes("VmRSS:") / 1_000_000,
            measure::status_bytes("VmHWM:") / 1_000_000
        );
    }
    let findings = report::build(&comparison, &b, &a, None, report::ReportOptions::default());
    let out = std::env::temp_dir().join(format!("heapdiff-bench-{}.json", std::process::id()));
    std::fs::write(&out, report::findings::to_json(&findings)).expect("write findings");
    let _ = std::fs::remove_file(&out);
    println!(
        "  load+analyse both {loaded:.2} s, compare {compared:.3} s, total {:.2} s, {} suspects",
        start.elapsed().as_secs_f64(),
        findings.suspects.len()
    );
}

/// A measured child (stdout, peak RSS); the benchmark cannot go on without it.
fn run_measured(cmd: &mut Command) -> (String, u64) {
    measure::run_measured(cmd).expect("spawn a measured child")
}

fn measure_one(path: &Path) {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let phases = std::env::var_os("BENCH_PHASES").is_some();
    // (phase, its start, its CPU start, the overall peak so far): each phase's own peak comes
    // from VmHWM, reset (`clear_refs` 5) when a phase starts, and the overall peak is kept here.
    let state = std::sync::Mutex::new((
        String::new(),
        Instant::now(),
        measure::process_cpu_seconds(),
        0u64,
    ));
    let phase_line = |name: &str, started: Instant, cpu: f64, peak_so_far: &mut u64| {
        let hwm = measure::status_bytes("VmHWM:");
        *peak_so_far = (*peak_so_far).max(hwm);
        eprintln!(
            "  {:<28} {:>7.3} s  cpu {:>7.3} s  rss {} MB, phase peak {} MB",
            name,
            started.elapsed().as_secs_f64(),
            measure::process_cpu_seconds() - cpu,
            measure::status_bytes("VmRSS:") / 1_000_000,
            hwm / 1_000_000
        );
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    };
    let on_progress = |p: Progress| {
        let Ok(mut guard) = state.lock() else { return };
        let (last, started, cpu, peak_so_far) = &mut *guard;
        if phases && p.phase != last {
            if !last.is_empty() {
                phase_line(last, *started, *cpu, peak_so_far);
            } else {
                let _ = std::fs::write("/proc/self/clear_refs", "5");
            }
            *last = p.phase.to_string();
            *started = Instant::now();
            *cpu = measure::process_cpu_seconds();
        }
    };
    let hooks = Hooks {
        progress: Some(&on_progress),
        cancel: None,
    };
    // Ends the last phase: what follows is timed on its own.
    let end_phase = || {
        if let Ok(mut guard) = state.lock() {
            let (last, started, cpu, peak_so_far) = &mut *guard;
            if phases && !last.is_empty() {
                phase_line(last, *started, *cpu, peak_so_far);
            }
            last.clear();
        }
    };
    let start = Instant::now();
    let cpu_start = measure::process_cpu_seconds();
    let snap = match snapshot::load(path, &hooks) {
        Ok(s) => s,
        Err(e) => {
            println!("{e}");
            return;
        }
    };
    end_phase();
    let load = start.elapsed().as_secs_f64();
    // Per-core throughput: the file's bytes over the CPU time (user + system, all threads)
    // that loading it took.
    let load_cpu = measure::process_cpu_seconds() - cpu_start;
    if std::env::var_os("BENCH_STAGES").is_some() {
        eprintln!(
            "after load: rss {} MB (anon {} MB, file {} MB), peak {} MB",
            measure::status_bytes("VmRSS:") / 1_000_000,
            measure::status_bytes("RssAnon:") / 1_000_000,
            measure::status_bytes("RssFile:") / 1_000_000,
            measure::status_bytes("VmHWM:") / 1_000_000
        );
        eprintln!(
            "  capacities: node_type {} name {} id {} self {} first_edge {} det {} edge_type+name {} bytes, edge_to {} strings {} ({} strings), locations {} bytes ({} located, {} distinct)",
            snap.node_type.capacity(),
            snap.node_name.capacity(),
            snap.node_id.capacity(),
            snap.node_self_size.capacity(),
            snap.first_edge.capacity(),
            snap.node_detachedness.capacity(),
            snap.edge_type_name_bytes(),
            snap.edge_to.capacity(),
            snap.strings.heap_bytes(),
            snap.strings.len(),
            snap.locations.heap_bytes(),
            snap.locations.len(),
            snap.locations.distinct_len()
        );
    }
    // As `Loaded::analyze`: the self sizes become the shallow sizes in place, then the analysis
    // and the classes (which `Loaded::analyze` names beside the distances; timed apart here).
    let mut snap = snap;
    let t = Instant::now();
    let mut shallow = std::mem::take(&mut snap.node_self_size);
    class::shallow_sizes_in_place(&snap, &mut shallow);
    let shallow_secs = t.elapsed().as_secs_f64();
    // BENCH_REPEAT=N analyses N - 1 more times first (phase lines for each): the best of
    // several runs, when the machine is shared.
    let repeat: usize = std::env::var("BENCH_REPEAT")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    for _ in 1..repeat {
        drop(analysis::analyze(&snap, &shallow, &hooks));
        end_phase();
    }
    let t = Instant::now();
    let analysis = analysis::analyze(&snap, &shallow, &hooks).expect("analysis");
    end_phase();
    let mut peak_so_far = measure::status_bytes("VmHWM:");
    if let Ok(guard) = state.lock() {
        peak_so_far = peak_so_far.max(guard.3);
    }
    let analyse = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let classes = class::classify(&snap, None);
    // The class column keeps counting the shallow sizes, as when they ran side by side.
    let classify = shallow_secs + t.elapsed().as_secs_f64();
    if std::env::var_os("BENCH_STAGES").is_some() {
        eprintln!(
            "after classes: rss {} MB, peak {} MB ({} classes, class_of {} MB, dom_state {} MB; retainer lists {} MB, analysis {} MB)",
            measure::status_bytes("VmRSS:") / 1_000_000,
            measure::status_bytes("VmHWM:") / 1_000_000,
            classes.class_count(),
            classes.class_of.heap_bytes() / 1_000_000,
            classes.dom_state.capacity() / 1_000_000,
            analysis.retainer_lists.capacity() / 1_000_000,
            analysis.heap_bytes() / 1_000_000
        );
    }
    let total = start.elapsed().as_secs_f64();
    std::hint::black_box((&analysis, &classes));
    let peak = if phases {
        peak_so_far.max(measure::status_bytes("VmHWM:"))
    } else {
        measure::status_bytes("VmHWM:")
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mb = bytes as f64 / 1e6;
    println!(
        "{:<34} {:>9.1} {:>10} {:>11} {:>8.3} {:>9.0} {:>9.0} {:>9.3} {:>8.3} {:>8.2} {:>9.0} {:>6.2}",
        name,
        mb,
        snap.node_count(),
        snap.edge_count(),
        load,
        mb / load,
        mb / load_cpu,
        analyse,
        classify,
        total,
        peak as f64 / 1e6,
        peak as f64 / bytes as f64
    );
    if phases {
        // What `heapdiff summary` does next, timed apart: the graph freed, then the rows (the
        // class retained sizes walk the dominator tree).
        let mut analysis = analysis;
        snap.release_edges();
        analysis.release_retainers();
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let t = Instant::now();
        let rows = analysis::summary::summarize(&snap, &classes, &shallow, Some(&analysis.view()));
        eprintln!(
            "  {:<28} {:>7.3} s  ({} rows) rss {} MB, phase peak {} MB",
            "summary rows",
            t.elapsed().as_secs_f64(),
            rows.len(),
            measure::status_bytes("VmRSS:") / 1_000_000,
            measure::status_bytes("VmHWM:") / 1_000_000
        );
    }
}

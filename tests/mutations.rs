//! Hostile bytes: thousands of seeded mutants of `tiny`, of a synthetic snapshot, of a real
//! fixture (cut to its first nodes so a debug build gets through them) and of a findings file.
//! Each must end in a result or a typed error within a time bound, never a panic, a hang or a
//! runaway allocation; loaded mutants also go through analysis, Summary, a comparison with the
//! original both ways and every report (`heapdiff::testkit::mutate::exercise`).
//!
//! The mutator is seeded and dependency-free (`heapdiff::testkit::mutate`) rather than proptest:
//! the same code drives `examples/fuzz.rs`, a failure is reproduced from (seed, case) alone, and
//! the structural mutations (swapped sections, wrong meta, huge numbers) are written for this
//! format, which generic shrinking strategies would not produce.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use heapdiff::report::{self, ReportOptions};
use heapdiff::testkit::alloc::{self, Counting, Peak};
use heapdiff::testkit::{self, mutate};

// ---------------------------------------------------------------------------------------------
// Allocation accounting, so a mutant that makes the engine allocate far beyond its size fails.
// ---------------------------------------------------------------------------------------------

/// Past this, allocations fail (the process aborts naming the size) instead of the machine's
/// OOM killer ending the run, and everyone else's builds with it.
const HARD_LIMIT: usize = 3 << 30;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Tests in this binary take turns (each holds this for its whole run, preparation included),
/// so each case's peak allocation is its own.
static SERIAL: Mutex<()> = Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    alloc::set_limit(HARD_LIMIT);
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Per-case bounds. Two seconds is generous for inputs of at most a few hundred kilobytes even
/// in the unoptimised dev profile on a loaded machine; the memory bound allows the loader's
/// fixed 16 MiB window and analysis of the input, but not a header's claimed counts.
const CASE_TIME: Duration = Duration::from_secs(2);
const CASE_MEMORY: usize = 160 << 20;

struct Failure {
    case: usize,
    what: String,
    saved: PathBuf,
}

/// Runs `count` mutants of `input` made by `make` through `check`, catching panics and
/// measuring each; returns how many loaded. Fails the test listing every bad case (each input
/// saved under the target's tmp dir).
fn campaign(
    label: &str,
    seed: u64,
    count: usize,
    input: &[u8],
    make: impl Fn(&[u8], &mut mutate::Rng) -> (Vec<u8>, String),
    check: impl Fn(&[u8]) -> Result<bool, String>,
) -> usize {
    // Panics are reported below, with the case; the default hook would print each one mid-run.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut rng = mutate::Rng::new(seed);
    let mut failures = Vec::new();
    let mut ok = 0;
    let mut slowest = Duration::ZERO;
    for case in 0..count {
        let (bytes, names) = make(input, &mut rng);
        // HEAPDIFF_MUTANT_TRACE=1: keep the case about to run on disk, for cases that abort.
        if std::env::var_os("HEAPDIFF_MUTANT_TRACE").is_some() {
            let path =
                PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("running-{label}.bin"));
            let _ = std::fs::write(path, &bytes);
            eprintln!("{label} case {case}: {names}");
        }
        let peak = Peak::start();
        let start = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| check(&bytes)));
        let took = start.elapsed();
        slowest = slowest.max(took);
        let peak = peak.bytes();
        let problem = match result {
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Some(format!("panic: {msg}"))
            }
            Ok(Err(inconsistent)) => Some(inconsistent),
            Ok(Ok(loaded)) => {
                ok += usize::from(loaded);
                if took > CASE_TIME {
                    Some(format!("took {took:?}"))
                } else if peak > CASE_MEMORY + 64 * bytes.len() {
                    Some(format!("allocated {} MiB", peak >> 20))
                } else {
                    None
                }
            }
        };
        if let Some(what) = problem {
            let saved = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("mutant-{label}-{seed}-{case}.bin"));
            let _ = std::fs::write(&saved, &bytes);
            failures.push(Failure {
                case,
                what: format!("{names}: {what}"),
                saved,
            });
        }
    }
    std::panic::set_hook(hook);
    eprintln!("{label}: {count} mutants, {ok} loaded, slowest {slowest:?}");
    if !failures.is_empty() {
        let list: Vec<String> = failures
            .iter()
            .take(20)
            .map(|f| format!("  case {} ({}): {}", f.case, f.saved.display(), f.what))
            .collect();
        panic!(
            "{label} (seed {seed}): {} of {count} mutants failed:\n{}",
            failures.len(),
            list.join("\n")
        );
    }
    ok
}

/// Snapshot mutants through the whole pipeline against `original`.
fn snapshots(label: &str, seed: u64, count: usize, input: &[u8]) -> usize {
    let original = mutate::original(label, input).unwrap_or_else(|e| panic!("{e}"));
    campaign(label, seed, count, input, mutate::mutate, |bytes| {
        match mutate::exercise(label, bytes, &original) {
            mutate::Outcome::Ok { .. } => Ok(true),
            mutate::Outcome::Refused(message) => {
                // A typed error whose message names the file.
                if message.starts_with(label) {
                    Ok(false)
                } else {
                    Err(format!("error does not name the file: {message}"))
                }
            }
            mutate::Outcome::Inconsistent(why) => Err(why),
        }
    })
}

#[test]
fn tiny_mutants() {
    let _alone = alone();
    let tiny = std::fs::read(common::data_dir().join("tiny.heapsnapshot")).expect("tiny");
    let loaded = snapshots("tiny", 1, 5000, &tiny);
    assert!(
        loaded > 100,
        "some mutants must load to reach the analysis ({loaded})"
    );
}

/// `tiny` with allocation traces (a tree of two trace nodes, the `Foo` object allocated by the
/// inner one, a header count one short as Node writes it) and Chromium's scope tables, so the
/// trace and scope parsers meet hostile bytes too.
fn tracked_scoped_tiny() -> Vec<u8> {
    let tiny = String::from_utf8(
        std::fs::read(common::data_dir().join("tiny.heapsnapshot")).expect("tiny"),
    )
    .expect("UTF-8");
    tiny.replacen("\"trace_function_count\":0", "\"trace_function_count\":1", 1)
        .replacen(
            "\"location_fields\":",
            "\"scope_fields\":[\"script_node_index\",\"scope_id\",\"depth\",\"scope_context_vars_count\",\"scope_uses_count\"],\"scope_context_var_fields\":[\"name\"],\"scope_use_fields\":[\"declaring_scope_id\",\"slot_index\"],\"location_fields\":",
            1,
        )
        .replacen("\"nodes\":[9,0,1,0,2,0,0,9,2,3,0,1,0,0,3,3,5,32,3,0,0", "\"nodes\":[9,0,1,0,2,0,0,9,2,3,0,1,0,0,3,3,5,32,3,2,0", 1)
        .replacen(
            "\"trace_function_infos\":[],\"trace_tree\":[]",
            "\"trace_function_infos\":[0,1,0,0,0,0,7,11,1,3,4,5],\"trace_tree\":[1,0,1,8,[2,1,1,32,[]]]",
            1,
        )
        .replacen(
            "\"locations\":[]",
            "\"locations\":[],\"scopes\":[35,-2,0,1,0,35,4,1,1,1],\"scope_context_vars\":[12,4],\"scope_uses\":[-2,0]",
            1,
        )
        .into_bytes()
}

#[test]
fn tracked_scoped_tiny_mutants() {
    let _alone = alone();
    let bytes = tracked_scoped_tiny();
    let snap = heapdiff::snapshot::load_bytes("tracked", &bytes, &Default::default())
        .expect("the seed loads");
    assert!(
        !snap.traces.is_empty() && !snap.scopes.is_empty(),
        "{:?}",
        snap.warnings
    );
    assert_eq!(snap.warnings.len(), 1, "{:?}", snap.warnings);
    let loaded = snapshots("tracked", 5, 3000, &bytes);
    assert!(loaded > 100, "some mutants must load ({loaded})");
}

#[test]
fn synthetic_mutants() {
    let _alone = alone();
    let mut c = testkit::Config::with_nodes(300, 7);
    c.after = true;
    c.leak = 5;
    let bytes = testkit::to_vec(&c);
    snapshots("synthetic", 2, 3000, &bytes);
}

#[test]
fn real_fixture_mutants() {
    let _alone = alone();
    // listener-closure.before (Node 20, 43,295 nodes), cut to its first 2,500 nodes: the real
    // layout, strings and edge mix, at a size the dev profile mutates a thousand times.
    let full = common::load("listener-closure.before.heapsnapshot");
    let cut = testkit::cut(&full, 2_500);
    drop(full);
    snapshots("listener-closure-cut", 3, 2500, &cut);
}

#[test]
fn full_real_fixture_mutants() {
    let _alone = alone();
    // A few mutants of the whole file too (each loads 4 MB and analyses 43k nodes twice).
    let gz = std::fs::read(common::fixture("listener-closure.before.heapsnapshot")).unwrap();
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).unwrap();
    snapshots("listener-closure", 4, 30, &text);
}

#[test]
fn findings_mutants() {
    let _alone = alone();
    let mut c = testkit::Config::with_nodes(400, 11);
    let before = mutate::original("b", &testkit::to_vec(&c)).unwrap();
    c.after = true;
    c.leak = 20;
    let after = mutate::original("a", &testkit::to_vec(&c)).unwrap();
    let comparison = heapdiff::diff::compare(&before, &after, None);
    assert!(!comparison.suspects.is_empty());
    let findings = report::build(&comparison, &before, &after, None, ReportOptions::default());
    let json = report::findings::to_json(&findings);
    assert!(mutate::exercise_findings(json.as_bytes()).is_ok());
    let accepted = std::sync::atomic::AtomicUsize::new(0);
    campaign(
        "findings",
        5,
        4000,
        json.as_bytes(),
        mutate::mutate_findings,
        |bytes| {
            if mutate::exercise_findings(bytes).is_ok() {
                accepted.fetch_add(1, Ordering::Relaxed);
            }
            Ok(false)
        },
    );
    eprintln!("findings: {} mutants accepted", accepted.into_inner());
}

/// Hand-picked hostile inputs that random mutation reaches only rarely.
#[test]
fn crafted_inputs() {
    let _alone = alone();
    let tiny = std::fs::read(common::data_dir().join("tiny.heapsnapshot")).expect("tiny");
    let original = mutate::original("tiny", &tiny).unwrap();
    let text = String::from_utf8(tiny.clone()).unwrap();
    let deep = "[".repeat(1_000_000);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("brace", b"{".to_vec()),
        ("nul bytes", vec![0; 4096]),
        ("deep unknown key", format!("{{\"x\":{deep}").into_bytes()),
        (
            "deep unknown key closed",
            format!("{{\"x\":{deep}{},{}", "]".repeat(1_000_000), &text[1..]).into_bytes(),
        ),
        (
            "deep header",
            text.replacen("\"meta\":", &format!("\"deep\":{deep},\"meta\":"), 1)
                .into_bytes(),
        ),
        (
            "huge key",
            format!("{{\"{}\":1}}", "k".repeat(10 << 20)).into_bytes(),
        ),
        (
            "unterminated string table",
            text.replace("\"Baz\"]}", "\"Baz").into_bytes(),
        ),
        (
            "nodes twice",
            text.replacen("\"edges\":", "\"nodes\":", 1).into_bytes(),
        ),
        (
            "no strings",
            text.replacen("\"strings\":", "\"strinx\":", 1).into_bytes(),
        ),
        ("gzip of nothing", {
            let e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.finish().unwrap()
        }),
        ("gzip magic only", vec![0x1f, 0x8b]),
        // Regression (found by real_fixture_mutants): with "hidden" dropped from node_types the
        // root (type 9) becomes a cons string without halves, whose name DevTools' algorithm
        // reads from node 0 again and again: the stack grew until memory ran out.
        (
            "root typed as a cons string",
            text.replacen("[[\"hidden\",", "[[", 1).into_bytes(),
        ),
    ];
    for (name, bytes) in cases {
        let start = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            mutate::exercise("crafted", &bytes, &original)
        }));
        assert!(
            start.elapsed() < CASE_TIME,
            "{name}: took {:?}",
            start.elapsed()
        );
        // A closed deep value under an unknown key is valid JSON: skipped, and the rest loads.
        let valid = matches!(
            name,
            "deep unknown key closed" | "root typed as a cons string"
        );
        match outcome {
            Ok(mutate::Outcome::Refused(_)) if !valid => {}
            Ok(mutate::Outcome::Ok { nodes: 8 }) if valid => {}
            Ok(other) => panic!("{name}: {other:?}"),
            Err(_) => panic!("{name}: panicked"),
        }
    }
}

/// Regression (found by `real_fixture_mutants`, case 93 of seed 3: `wrong_meta` dropped
/// "hidden" from node_types): the root, type 9, became a cons string without halves; DevTools'
/// `consStringName` reads a missing half as node 0, i.e. the root again, so the name's stack
/// grew until memory ran out (4 GiB requested by `diff::paths` naming a path step).
#[test]
fn cons_string_without_halves_has_a_bounded_name() {
    let _alone = alone();
    let text = std::fs::read_to_string(common::data_dir().join("tiny.heapsnapshot")).unwrap();
    let shifted = text.replacen("[[\"hidden\",", "[[", 1);
    let snap = heapdiff::snapshot::load_bytes("shifted", shifted.as_bytes(), &Default::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        snap.meta.node_type_name(snap.node_type[0]),
        "concatenated string"
    );
    let peak = Peak::start();
    let start = Instant::now();
    let name = heapdiff::snapshot::class::display_name(&snap, None, 0);
    assert!(start.elapsed() < CASE_TIME);
    assert!(peak.bytes() < 16 << 20);
    assert_eq!(name, "");
}

//! A long-running seeded mutation fuzzer over the same mutations and pipeline as
//! `tests/mutations.rs` (`heapdiff::testkit::mutate`): cargo-fuzz needs a nightly toolchain, this
//! needs none.
//!
//! ```sh
//! cargo run --release --example fuzz -- --seconds 1800 [--seed S] [--out DIR]
//! cargo run --release --example fuzz -- --replay DIR/crash-….bin
//! ```
//!
//! Every input goes through load → analysis → Summary → comparison with its unmutated original
//! (both ways) → Markdown, HTML and findings reports → findings read back; findings files are
//! mutated and parsed too. A panic, an inconsistency, a case slower than `--case-seconds` or an
//! allocation past `--max-mb` is a crash: its input is saved to `--out` and reported.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use heapdiff::loaded::Loaded;
use heapdiff::report::{self, ReportOptions};
use heapdiff::testkit::alloc::{self, Counting};
use heapdiff::testkit::{self, mutate};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The case being run and an open file to save it to when an allocation is refused (the
/// process aborts right after, so the input must be written without allocating).
static CASE_PTR: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static CASE_LEN: AtomicUsize = AtomicUsize::new(0);
static CRASH_FD: AtomicI32 = AtomicI32::new(-1);

/// Saves the running case (without allocating) before the refused allocation aborts: the
/// allocator's refusal hook. Unsafe because it must not allocate: the bytes and the file come
/// from raw parts set up in advance.
#[allow(unsafe_code)]
fn save_case() {
    use std::io::Write;
    use std::os::fd::FromRawFd;
    let fd = CRASH_FD.swap(-1, Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: the fd was opened by `main` and is never closed; ManuallyDrop keeps it open.
        let file = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
        let (ptr, len) = (
            CASE_PTR.load(Ordering::SeqCst),
            CASE_LEN.load(Ordering::SeqCst),
        );
        if !ptr.is_null() {
            // SAFETY: main points these at the bytes of the case, alive while it runs.
            let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
            let _ = (&*file).write_all(bytes);
        }
        let _ = (&std::io::stderr()).write_all(b"fuzz: allocation past --max-mb refused; the input is in the out dir as oom-input.bin\n");
    }
}

struct Args {
    seconds: u64,
    seed: u64,
    out: PathBuf,
    case_seconds: f64,
    max_mb: usize,
    replay: Option<PathBuf>,
}

fn usage() -> ! {
    eprintln!(
        "usage: fuzz --seconds N [--seed S] [--out DIR] [--case-seconds F] [--max-mb M]\n       fuzz --replay FILE"
    );
    std::process::exit(2);
}

fn args() -> Args {
    let mut a = Args {
        seconds: 60,
        seed: 1,
        out: PathBuf::from("fuzz-crashes"),
        case_seconds: 2.0,
        max_mb: 2048,
        replay: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--seconds" => a.seconds = value().parse().unwrap_or_else(|_| usage()),
            "--seed" => a.seed = value().parse().unwrap_or_else(|_| usage()),
            "--out" => a.out = PathBuf::from(value()),
            "--case-seconds" => a.case_seconds = value().parse().unwrap_or_else(|_| usage()),
            "--max-mb" => a.max_mb = value().parse().unwrap_or_else(|_| usage()),
            "--replay" => a.replay = Some(PathBuf::from(value())),
            _ => usage(),
        }
    }
    a
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The corpus: name, original bytes, and the original loaded once.
fn corpus() -> Vec<(String, Vec<u8>, Loaded)> {
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    if let Ok(b) = std::fs::read(data("tiny.heapsnapshot")) {
        inputs.push(("tiny".into(), b));
    }
    let mut c = testkit::Config::with_nodes(300, 7);
    c.after = true;
    c.leak = 5;
    inputs.push(("synthetic".into(), testkit::to_vec(&c)));
    for (name, keep) in [
        ("listener-closure.before.heapsnapshot.gz", 2_500),
        ("detached-dom.after.heapsnapshot.gz", 3_000),
        ("weird-strings.heapsnapshot.gz", 2_000),
    ] {
        match heapdiff::snapshot::load(&data(name), &Default::default()) {
            Ok(s) => inputs.push((format!("{name}-cut"), testkit::cut(&s, keep))),
            Err(e) => eprintln!("fuzz: skipping {name}: {e}"),
        }
    }
    inputs
        .into_iter()
        .filter_map(|(name, bytes)| match mutate::original(&name, &bytes) {
            Ok(l) => Some((name, bytes, l)),
            Err(e) => {
                eprintln!("fuzz: skipping {name}: {e}");
                None
            }
        })
        .collect()
}

/// A findings file with suspects and paths, to mutate.
fn findings_seed() -> Option<Vec<u8>> {
    let mut c = testkit::Config::with_nodes(400, 11);
    let before = mutate::original("b", &testkit::to_vec(&c)).ok()?;
    c.after = true;
    c.leak = 20;
    let after = mutate::original("a", &testkit::to_vec(&c)).ok()?;
    let comparison = heapdiff::diff::compare(&before, &after, None);
    let f = report::build(&comparison, &before, &after, None, ReportOptions::default());
    Some(report::findings::to_json(&f).into_bytes())
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into())
}

fn main() {
    alloc::on_refuse(save_case);
    let a = args();
    let corpus = corpus();
    if let Some(path) = &a.replay {
        let bytes = std::fs::read(path).unwrap_or_else(|e| {
            eprintln!("fuzz: {}: {e}", path.display());
            std::process::exit(2)
        });
        for (name, _, original) in &corpus {
            arm(&bytes, a.max_mb << 20);
            let r = catch_unwind(AssertUnwindSafe(|| {
                mutate::exercise(name, &bytes, original)
            }));
            match r {
                Ok(o) => println!("against {name}: {o:?}"),
                Err(p) => println!("against {name}: PANIC {}", panic_message(&*p)),
            }
        }
        arm(&bytes, a.max_mb << 20);
        let r = catch_unwind(AssertUnwindSafe(|| mutate::exercise_findings(&bytes)));
        println!("as findings: {:?}", r.map_err(|p| panic_message(&*p)));
        return;
    }
    let findings = findings_seed();
    std::panic::set_hook(Box::new(|_| {}));
    let _ = std::fs::create_dir_all(&a.out);
    let case_limit = a.max_mb << 20;
    let mut rng = mutate::Rng::new(a.seed);
    let start = Instant::now();
    let deadline = Duration::from_secs(a.seconds);
    let (mut execs, mut loaded, mut crashes) = (0u64, 0u64, 0u64);
    let mut last_report = Instant::now();
    {
        use std::os::fd::IntoRawFd;
        match std::fs::File::create(a.out.join("oom-input.bin")) {
            Ok(f) => CRASH_FD.store(f.into_raw_fd(), Ordering::SeqCst),
            Err(e) => eprintln!("fuzz: {}: {e}", a.out.display()),
        }
    }
    while start.elapsed() < deadline {
        let pick = rng.below(corpus.len() + 1);
        let (label, bytes, outcome) = if pick == corpus.len() {
            let Some(seed) = &findings else { continue };
            let (bytes, names) = mutate::mutate_findings(seed, &mut rng);
            arm(&bytes, case_limit);
            let t = Instant::now();
            let r = catch_unwind(AssertUnwindSafe(|| mutate::exercise_findings(&bytes)));
            let outcome = match r {
                Ok(_) => check_bounds(t, a.case_seconds),
                Err(p) => Some(format!("panic: {}", panic_message(&*p))),
            };
            (format!("findings {names}"), bytes, outcome)
        } else {
            let (name, input, original) = &corpus[pick];
            let (bytes, names) = mutate::mutate(input, &mut rng);
            arm(&bytes, case_limit);
            let t = Instant::now();
            let r = catch_unwind(AssertUnwindSafe(|| {
                mutate::exercise(name, &bytes, original)
            }));
            let outcome = match r {
                Ok(mutate::Outcome::Ok { .. }) => {
                    loaded += 1;
                    check_bounds(t, a.case_seconds)
                }
                Ok(mutate::Outcome::Refused(_)) => check_bounds(t, a.case_seconds),
                Ok(mutate::Outcome::Inconsistent(why)) => Some(why),
                Err(p) => Some(format!("panic: {}", panic_message(&*p))),
            };
            (format!("{name} {names}"), bytes, outcome)
        };
        alloc::set_limit(usize::MAX);
        execs += 1;
        if let Some(what) = outcome {
            crashes += 1;
            let file = a.out.join(format!("crash-{}-{execs}.bin", a.seed));
            let _ = std::fs::write(&file, &bytes);
            println!("CRASH {}: {label}: {what}", file.display());
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            last_report = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            println!(
                "{:.0} s: {execs} execs ({:.0}/s), {loaded} loaded, {crashes} crashes",
                secs,
                execs as f64 / secs
            );
        }
    }
    let _ = std::fs::remove_file(a.out.join("oom-input.bin"));
    let secs = start.elapsed().as_secs_f64();
    println!(
        "done: {execs} executions in {secs:.0} s ({:.0} exec/s), {loaded} loaded and analysed, {crashes} crashes, seed {}",
        execs as f64 / secs,
        a.seed
    );
    if crashes > 0 {
        std::process::exit(1);
    }
}

/// Limits the next case's allocations to `limit` bytes above what is held now, and records
/// the case's bytes for `save_case`.
fn arm(case: &[u8], limit: usize) {
    CASE_PTR.store(case.as_ptr() as *mut u8, Ordering::SeqCst);
    CASE_LEN.store(case.len(), Ordering::SeqCst);
    alloc::set_limit(alloc::current().saturating_add(limit));
}

fn check_bounds(start: Instant, case_seconds: f64) -> Option<String> {
    let took = start.elapsed().as_secs_f64();
    (took > case_seconds).then(|| format!("took {took:.2} s"))
}

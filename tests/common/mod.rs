//! Shared helpers for the integration tests. Fixtures and DevTools references come from
//! `tests/data/` alone (gzipped copies of `../shared/fixtures`, refreshed by
//! `tests/data/refresh.sh`), so a clone without `../shared` tests everything; a file that is
//! missing fails the test that needs it, it is never skipped.
#![allow(dead_code)]

#[cfg(unix)]
pub mod node;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// `tests/data/<name>`, gzipped copy first: `<name>.gz` when it exists (how the repository keeps
/// fixtures and references), else `<name>` (the few kept plain, e.g. `ground-truth.json`).
/// Panics naming what it looked for when neither exists.
pub fn data_file(name: &str) -> PathBuf {
    let plain = data_dir().join(name);
    let gz = data_dir().join(format!("{name}.gz"));
    if gz.is_file() {
        gz
    } else if plain.is_file() {
        plain
    } else {
        panic!(
            "missing test data: neither {} nor {} exists (tests/data/refresh.sh makes them from ../shared/fixtures; they are committed)",
            gz.display(),
            plain.display()
        )
    }
}

/// Path of a fixture snapshot, e.g. `fixture("ssr-di-leak.after.heapsnapshot")`.
pub fn fixture(name: &str) -> PathBuf {
    data_file(name)
}

/// The bytes of `path`, gunzipped when they are gzip.
pub fn read_data(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return bytes;
    }
    let mut plain = Vec::new();
    flate2::read::MultiGzDecoder::new(&bytes[..])
        .read_to_end(&mut plain)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    plain
}

thread_local! {
    /// The DevTools references this test (its thread) has read.
    static REFERENCES: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
}

/// The DevTools reference output `reference/<name>` (e.g. `tiny.summary.json`) parsed as JSON,
/// counted for [`compared_references`].
pub fn reference(name: &str) -> serde_json::Value {
    let path = data_file(&format!("reference/{name}"));
    let json = serde_json::from_slice(&read_data(&path))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    REFERENCES.with(|r| r.borrow_mut().insert(name.to_string()));
    json
}

/// Ends a test that pins numbers to DevTools: prints how many distinct references it read (and
/// so compared, having got here past its assertions) on the real stderr, which the test
/// harness does not capture, so every `cargo test` names them; fails when there were none.
pub fn compared_references(test: &str) -> usize {
    let names = REFERENCES.with(|r| std::mem::take(&mut *r.borrow_mut()));
    assert!(!names.is_empty(), "{test} compared no DevTools reference");
    let plural = if names.len() == 1 { "" } else { "s" };
    let line = format!(
        "{test}: compared {} DevTools reference{plural}\n",
        names.len()
    );
    let _ = std::io::stderr().write_all(line.as_bytes());
    names.len()
}

pub fn ground_truth() -> serde_json::Value {
    let path = data_file("ground-truth.json");
    serde_json::from_slice(&read_data(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every single-snapshot fixture; each has a DevTools reference summary.
pub const SNAPSHOTS: [&str; 12] = [
    "tiny.heapsnapshot",
    "weird-strings.heapsnapshot",
    "detached-dom.before.heapsnapshot",
    "detached-dom.after.heapsnapshot",
    "listener-closure.before.heapsnapshot",
    "listener-closure.after.heapsnapshot",
    "no-leak-control.before.heapsnapshot",
    "no-leak-control.after.heapsnapshot",
    "ssr-di-leak.before.heapsnapshot",
    "ssr-di-leak.after.heapsnapshot",
    "cache-growth.before.heapsnapshot",
    "cache-growth.after.heapsnapshot",
];

/// The before/after pairs; each has a DevTools reference diff.
pub const PAIRS: [&str; 5] = [
    "ssr-di-leak",
    "no-leak-control",
    "cache-growth",
    "listener-closure",
    "detached-dom",
];

/// The one Retainers-pane reference.
pub const RETAINERS_REFERENCE: &str = "ssr-di-leak.after.retainers-ChildContainer.json";

/// References made by `tests/data/gen/references.sh` for one rule each (runtime quirks,
/// unreachable retainers), beside those of `../shared/fixtures`.
pub const RULE_REFERENCES: &[&str] = &[
    "chromium-156.contexts.analysis.json",
    "detached-dom.after.retainers-unreachable.json",
    "node-8.summary.json",
    "bun-1.4.diff.json",
];

/// The reference summary of a snapshot fixture: `tiny.heapsnapshot` → `tiny.summary.json`.
pub fn summary_reference(snapshot: &str) -> String {
    format!(
        "{}.summary.json",
        snapshot.trim_end_matches(".heapsnapshot")
    )
}

/// Every single-snapshot fixture (they all have a reference summary).
pub fn summary_fixtures() -> Vec<String> {
    SNAPSHOTS.iter().map(|s| s.to_string()).collect()
}

pub fn load(name: &str) -> heapdiff::snapshot::Snapshot {
    heapdiff::snapshot::load(&fixture(name), &Default::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// BEFORE and AFTER opened through the pipeline, as `heapdiff diff` opens them.
pub fn open_pair(
    before: &Path,
    after: &Path,
) -> Result<
    (
        heapdiff::loaded::Loaded,
        heapdiff::loaded::Loaded,
        Option<heapdiff::loaded::Loaded>,
    ),
    heapdiff::snapshot::LoadError,
> {
    let paths = heapdiff::pipeline::PairPaths {
        before,
        after,
        final_: None,
    };
    let opened = heapdiff::pipeline::open_pair(paths, Default::default())?;
    Ok((opened.before, opened.after, opened.final_))
}

/// A fixture pair opened as `heapdiff diff` opens it, and its comparison.
pub struct Pair {
    pub before: heapdiff::loaded::Loaded,
    pub after: heapdiff::loaded::Loaded,
    pub comparison: heapdiff::diff::Comparison,
}

/// Every fixture pair loads once per test binary (tests run in parallel threads).
pub fn pair(name: &str) -> &'static Pair {
    use std::collections::BTreeMap;
    use std::sync::OnceLock;
    static LOADED: OnceLock<BTreeMap<&'static str, OnceLock<Pair>>> = OnceLock::new();
    let map = LOADED.get_or_init(|| PAIRS.iter().map(|&p| (p, OnceLock::new())).collect());
    let slot = map
        .get(name)
        .unwrap_or_else(|| panic!("{name} is not a fixture pair"));
    slot.get_or_init(|| {
        let (before, after, _) = open_pair(
            &fixture(&format!("{name}.before.heapsnapshot")),
            &fixture(&format!("{name}.after.heapsnapshot")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let comparison = heapdiff::diff::compare(&before, &after, None);
        Pair {
            before,
            after,
            comparison,
        }
    })
}

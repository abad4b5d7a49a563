//! Shared helpers for the integration tests: fixtures come from the gzipped copies in
//! `tests/data/` (refreshed from `../shared/fixtures` by `tests/data/refresh.sh`), so a clone
//! without `../shared` tests everything.
#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Path of a fixture snapshot, e.g. `fixture("ssr-di-leak.after.heapsnapshot")` (gzipped copy).
pub fn fixture(name: &str) -> PathBuf {
    data_dir().join(format!("{name}.gz"))
}

/// The DevTools reference output `reference/<name>` parsed as JSON.
pub fn reference(name: &str) -> serde_json::Value {
    let path = data_dir().join("reference").join(format!("{name}.gz"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .expect("gzip");
    serde_json::from_str(&text).expect("reference JSON")
}

pub fn ground_truth() -> serde_json::Value {
    let text = std::fs::read_to_string(data_dir().join("ground-truth.json")).expect("ground truth");
    serde_json::from_str(&text).expect("ground truth JSON")
}

/// Every single-snapshot fixture that has a reference summary.
pub fn summary_fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir().join("reference"))
        .expect("reference dir")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_suffix(".summary.json.gz")
                .map(|s| format!("{s}.heapsnapshot"))
        })
        .collect();
    names.sort();
    names
}

pub fn load(name: &str) -> heapdiff::snapshot::Snapshot {
    heapdiff::snapshot::load(&fixture(name), &Default::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// The fixtures directory of `../shared`, when it sits beside the repository.
pub fn shared_fixtures() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
    p.is_dir().then_some(p)
}

/// BEFORE and AFTER opened through the pipeline, as `heapdiff diff` opens them.
pub fn open_pair(
    before: &std::path::Path,
    after: &std::path::Path,
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

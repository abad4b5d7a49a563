//! The loader on real snapshots and on every broken file.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use heapdiff::snapshot::{self, LoadErrorKind};

#[test]
fn loads_every_fixture_with_the_counts_devtools_reports() {
    for name in common::SNAPSHOTS {
        let snap = common::load(name);
        let reference = common::reference(&common::summary_reference(name));
        let info = &reference["snapshot"];
        assert_eq!(
            snap.node_count() as u64,
            info["nodeCount"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            snap.edge_count() as u64,
            info["edgeCount"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(snap.root, 0, "{name}");
        assert_eq!(snap.first_edge.len(), snap.node_count() + 1);
        assert!(
            snap.edge_to
                .iter()
                .all(|&t| (t as usize) < snap.node_count())
        );
    }
    common::compared_references("load: loads_every_fixture_with_the_counts_devtools_reports");
}

/// `tests/data/reference` holds exactly the references the tests compare: one summary per
/// snapshot fixture, one diff per pair, the Retainers pane, the rules' references; none
/// missing, none unused.
#[test]
fn every_reference_is_compared_and_none_is_missing() {
    let mut expected: Vec<String> = common::SNAPSHOTS
        .iter()
        .map(|s| common::summary_reference(s))
        .chain(common::PAIRS.iter().map(|p| format!("{p}.diff.json")))
        .chain([common::RETAINERS_REFERENCE.to_string()])
        .chain(common::RULE_REFERENCES.iter().map(|s| s.to_string()))
        .map(|name| format!("{name}.gz"))
        .collect();
    expected.sort();
    let dir = common::data_dir().join("reference");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    found.sort();
    assert_eq!(found, expected);
}

#[test]
fn tiny_by_hand() {
    let plain = snapshot::load(
        &common::data_dir().join("tiny.heapsnapshot"),
        &Default::default(),
    )
    .unwrap();
    assert_eq!(plain.file_name, "tiny.heapsnapshot");
    assert_eq!(plain.node_count(), 8);
    assert_eq!(plain.node_name(2), "Foo");
    assert_eq!(plain.node_id[2], 5);
    assert_eq!(plain.node_self_size[2], 32);
    // Foo has three edges: property bar -> Bar, property name -> 'hello', property cb -> closure.
    let names: Vec<String> = plain
        .edges(2)
        .map(|e| plain.edge_name(e).into_owned())
        .collect();
    assert_eq!(names, ["bar", "name", "cb"]);
    assert_eq!(plain.edge_to[plain.edges(2).start as usize], 3);
    let gz = common::load("tiny.heapsnapshot");
    assert_eq!(gz.node_id, plain.node_id);
    assert_eq!(gz.edge_to, plain.edge_to);
    assert_eq!(gz.file_name, "tiny.heapsnapshot.gz");
}

#[test]
fn chromium_layout_loads_detachedness() {
    let snap = common::load("detached-dom.after.heapsnapshot");
    assert!(snap.meta.node_fields.iter().any(|f| f == "detachedness"));
    assert!(!snap.meta.node_fields.iter().any(|f| f == "trace_node_id"));
    assert_eq!(snap.node_detachedness.len(), snap.node_count());
    assert!(
        snap.node_detachedness.contains(&2),
        "detached nodes are recorded"
    );
}

/// The gzip path of the loader (read-ahead thread, multi-member decoder) and the plain path give
/// the same graph: the gzipped fixture against its own bytes gunzipped to a plain file.
#[test]
fn gzip_and_plain_give_the_same_graph() {
    let gz_path = common::fixture("listener-closure.after.heapsnapshot");
    let plain_path =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("listener-closure.after.heapsnapshot");
    std::fs::write(&plain_path, common::read_data(&gz_path)).expect("write the plain copy");
    let plain = snapshot::load(&plain_path, &Default::default()).unwrap();
    let gz = snapshot::load(&gz_path, &Default::default()).unwrap();
    assert_eq!(plain.node_id, gz.node_id);
    assert_eq!(plain.edge_to, gz.edge_to);
    let names = |s: &snapshot::Snapshot| -> Vec<(u8, u32)> {
        (0..s.edge_count() as u32)
            .map(|e| (s.edge_type(e), s.edge_name_index(e)))
            .collect()
    };
    assert_eq!(names(&plain), names(&gz));
    assert_eq!(plain.strings.len(), gz.strings.len());
    assert_eq!(gz.file_name, "listener-closure.after.heapsnapshot.gz");
}

#[test]
fn every_broken_file_is_refused_quickly_with_its_defect() {
    let expect: &[(&str, &str)] = &[
        ("bad-numbers.heapsnapshot", "bad number in \"nodes\""),
        (
            "edge-misaligned.heapsnapshot",
            "not a multiple of the 7 node fields",
        ),
        ("edge-out-of-range.heapsnapshot", "past the last node"),
        ("edges-short.heapsnapshot", "edges"),
        ("empty.heapsnapshot", "empty"),
        ("no-node-fields.heapsnapshot", "node_fields"),
        (
            "node-count-lies.heapsnapshot",
            "header says 2147483648 nodes but the file has 8",
        ),
        (
            "nodes-not-multiple-of-fields.heapsnapshot",
            "not a multiple of its 7 fields",
        ),
        ("not-a-snapshot.heapsnapshot", "not a heap snapshot"),
        ("not-json.heapsnapshot", "not a heap snapshot"),
        (
            "string-index-out-of-range.heapsnapshot",
            "past the end of the 16 strings",
        ),
        (
            "truncated.heapsnapshot",
            "unexpected end of file inside \"nodes\"",
        ),
        ("truncated.heapsnapshot.gz", "unexpected end of file"),
        ("unknown-node-type.heapsnapshot", "unknown node type 99"),
    ];
    let dir = common::data_dir().join("broken");
    let count = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(
        count,
        expect.len(),
        "every broken fixture has an expectation"
    );
    for (file, needle) in expect {
        let start = Instant::now();
        let err = snapshot::load(&dir.join(file), &Default::default()).expect_err(file);
        let message = err.to_string();
        assert!(message.starts_with(&format!("{file}: ")), "{message}");
        assert!(message.contains(needle), "{file}: {message}");
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{file} took {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let err =
        snapshot::load(Path::new("no/such/file.heapsnapshot"), &Default::default()).unwrap_err();
    assert!(matches!(err.kind, LoadErrorKind::Io(_)));
    assert!(
        err.to_string()
            .starts_with("file.heapsnapshot: cannot read")
    );
}

#[test]
fn cancel_stops_a_load() {
    let cancel = std::sync::atomic::AtomicBool::new(true);
    let options = heapdiff::task::Hooks {
        cancel: Some(&cancel),
        ..Default::default()
    };
    let err =
        snapshot::load(&common::fixture("ssr-di-leak.after.heapsnapshot"), &options).unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn progress_reaches_the_end() {
    let last = std::sync::Mutex::new(0.0f32);
    let progress = |p: heapdiff::task::Progress| *last.lock().unwrap() = p.fraction;
    let options = heapdiff::task::Hooks {
        progress: Some(&progress),
        ..Default::default()
    };
    snapshot::load(&common::fixture("ssr-di-leak.after.heapsnapshot"), &options).unwrap();
    assert!(*last.lock().unwrap() > 0.9);
}

/// Locations equal what a plain JSON parse of the file says: node ordinal (object index over
/// the node field count), script id, line and column, one per node, in node order.
#[test]
fn locations_match_a_plain_json_parse() {
    let name = "ssr-di-leak.after.heapsnapshot";
    let path = common::fixture(name);
    let mut text = Vec::new();
    let file = std::fs::File::open(&path).unwrap();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(file), &mut text).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&text).unwrap();
    let meta = &json["snapshot"]["meta"];
    let fields: Vec<&str> = meta["location_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    let at = |f: &str| fields.iter().position(|x| *x == f).unwrap();
    let node_fields = meta["node_fields"].as_array().unwrap().len() as u64;
    let values: Vec<u64> = json["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let mut expected: Vec<snapshot::Location> = values
        .chunks_exact(fields.len())
        .map(|r| snapshot::Location {
            node: (r[at("object_index")] / node_fields) as u32,
            script_id: r[at("script_id")] as u32,
            line: r[at("line")] as u32,
            column: r[at("column")] as u32,
        })
        .collect();
    expected.sort_by_key(|l| (l.node, l.script_id, l.line, l.column));
    expected.dedup_by_key(|l| l.node);
    assert!(expected.len() > 1000, "{} locations", expected.len());
    let got: Vec<snapshot::Location> = common::load(name).locations.iter().collect();
    assert_eq!(got, expected);
}

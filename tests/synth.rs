//! The synthetic snapshot writer (`heapdiff::testkit::generate`) against the engine: a before/after pair's
//! planted leak and churn are found with their exact counts, the Summary counts every class the
//! writer planted, and numbers at and past the `u32` limits are refused with typed errors
//! (never wrapped).

mod common;

use std::path::PathBuf;
use std::process::Command;

use heapdiff::diff;
use heapdiff::loaded::Loaded;
use heapdiff::snapshot::{self, LoadErrorKind};
use heapdiff::task::Hooks;
use heapdiff::testkit::{self, CLASSES, Config, node_meta};

const LEAK: u64 = 321;

fn config(after: bool) -> Config {
    let mut c = Config::with_nodes(40_000, 42);
    c.after = after;
    c.leak = if after { LEAK } else { 0 };
    c.churn_percent = 7;
    c
}

/// Writes one side of the pair to the test temp dir (once per name) and returns its path.
fn file(name: &str, c: &Config) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    testkit::write(c, &mut f).expect("write");
    std::io::Write::flush(&mut f).expect("flush");
    path
}

/// Units of each record class, and how many of them churned.
fn planted(c: &Config) -> Vec<(u64, u64)> {
    let mut per = vec![(0u64, 0u64); CLASSES.len()];
    for u in 0..c.units {
        let k = c.unit_class(u);
        per[k].0 += 1;
        per[k].1 += u64::from(c.churned(u));
    }
    per
}

#[test]
fn written_counts_match_what_loads() {
    for c in [config(false), config(true)] {
        let mut bytes = Vec::new();
        let stats = testkit::write(&c, &mut bytes).expect("write");
        assert_eq!(stats.bytes, bytes.len() as u64);
        let s = snapshot::load_bytes("synth", &bytes, &Hooks::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.node_count() as u64, stats.nodes);
        assert_eq!(s.node_count() as u64, c.node_count());
        assert_eq!(s.edge_count() as u64, stats.edges);
        assert_eq!(s.strings.len() as u64, stats.strings);
        assert_eq!(
            s.locations.len() as u64,
            c.units,
            "one location per closure"
        );
        // Weak edges and all the node kinds of the mix are present.
        let kinds: std::collections::BTreeSet<&str> = s
            .node_type
            .iter()
            .map(|&t| s.meta.node_type_name(t))
            .collect();
        for k in [
            "synthetic",
            "object",
            "array",
            "string",
            "closure",
            "hidden",
        ] {
            assert!(kinds.contains(k), "{k} nodes");
        }
        assert!(
            (0..s.edge_count() as u32).any(|e| s.meta.edge_type_name(s.edge_type(e)) == "weak")
        );
        // The same configuration writes the same bytes (the pair depends on it).
        assert_eq!(testkit::to_vec(&c), bytes);
    }
}

/// The generator writes Node 20's meta, the one `tests/data/tiny.heapsnapshot` (written by
/// Node) has.
#[test]
fn generated_meta_is_node_20s() {
    let tiny = std::fs::read_to_string(common::data_dir().join("tiny.heapsnapshot")).expect("tiny");
    let meta = tiny
        .strip_prefix("{\"snapshot\":{\"meta\":")
        .and_then(|rest| rest.split_once(",\"node_count\""))
        .map(|(meta, _)| meta)
        .expect("tiny starts with its meta");
    assert_eq!(node_meta(), meta);
}

#[test]
fn shared_objects_keep_their_ids_and_churned_ones_do_not() {
    let (b, a) = (config(false), config(true));
    let before = snapshot::load_bytes("b", &testkit::to_vec(&b), &Hooks::default()).unwrap();
    let after = snapshot::load_bytes("a", &testkit::to_vec(&a), &Hooks::default()).unwrap();
    let ids: std::collections::HashSet<u32> = before.node_id.iter().copied().collect();
    assert_eq!(ids.len(), before.node_count(), "ids are unique");
    let header = 9;
    for u in 0..a.units {
        let n = header + 8 * u as usize;
        for k in 0..8 {
            assert_eq!(
                ids.contains(&after.node_id[n + k]),
                !a.churned(u),
                "unit {u} node {k}"
            );
        }
    }
}

#[test]
fn pair_diff_finds_the_planted_leak_and_churn_exactly() {
    let (b, a) = (config(false), config(true));
    let before = file("synth-pair.before.heapsnapshot", &b);
    let after = file("synth-pair.after.heapsnapshot", &a);
    let (before, after, _) = common::open_pair(&before, &after).unwrap_or_else(|e| panic!("{e}"));
    let cmp = diff::compare(&before, &after, None);
    let row = |name: &str| cmp.classes.iter().find(|c| c.name == name);
    let leak = row("LeakedSession").expect("LeakedSession row");
    assert_eq!((leak.added_count, leak.removed_count), (LEAK, 0));
    assert_eq!(leak.added_size, 48 * LEAK);
    for (k, &(_, churned)) in planted(&a).iter().enumerate() {
        match row(CLASSES[k]) {
            Some(r) => assert_eq!(
                (r.added_count, r.removed_count),
                (churned, churned),
                "{}",
                CLASSES[k]
            ),
            None => assert_eq!(churned, 0, "{}", CLASSES[k]),
        }
    }
    let suspect = cmp
        .suspects
        .iter()
        .find(|s| s.name == "LeakedSession")
        .expect("LeakedSession is a suspect");
    assert_eq!(suspect.added_count, LEAK);
    // All of them hang off the one owner array: one merged path holds every leaked object.
    let first = suspect.paths.first().expect("a path");
    assert_eq!(first.count, LEAK);
    let steps: Vec<&str> = first.steps.iter().map(|s| s.edge_name.as_str()).collect();
    assert!(steps.contains(&"sessions"), "{steps:?}");
}

#[test]
fn summary_counts_every_planted_class() {
    let a = config(true);
    let path = file("synth-summary.heapsnapshot", &a);
    let loaded = Loaded::open(&path, Default::default(), None).unwrap_or_else(|e| panic!("{e}"));
    let rows = loaded.summary();
    let count = |name: &str| rows.iter().find(|r| r.name == name).map(|r| r.count);
    assert_eq!(count("LeakedSession"), Some(LEAK));
    for (k, &(units, _)) in planted(&a).iter().enumerate() {
        assert_eq!(count(CLASSES[k]), Some(units), "{}", CLASSES[k]);
    }
    // Every LeakedSession is reachable (global -> sessions -> elements -> [i]).
    let leak = rows.iter().find(|r| r.name == "LeakedSession").unwrap();
    assert_eq!(leak.distance, Some(4));

    // The command line agrees.
    let out = Command::new(env!("CARGO_BIN_EXE_heapdiff"))
        .args(["summary", &path.to_string_lossy(), "--format", "json"])
        .output()
        .expect("run heapdiff");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let row = json["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .find(|r| r["name"] == "LeakedSession")
        .expect("LeakedSession row");
    assert_eq!(row["count"], LEAK);
    assert_eq!(json["node_count"], a.node_count());
}

// ---------------------------------------------------------------------------------------------
// u32 boundaries: small inputs with numbers at and past 2^32.
// ---------------------------------------------------------------------------------------------

/// A two-node snapshot (root -> object) with the given node and edge arrays.
fn doc(header_extra: &str, nodes: &str, edges: &str, locations: &str) -> Vec<u8> {
    let meta = node_meta();
    format!(
        "{{\"snapshot\":{{\"meta\":{meta}{header_extra}}},\"nodes\":[{nodes}],\"edges\":[{edges}],\"locations\":[{locations}],\"strings\":[\"\",\"A\",\"p\"]}}"
    )
    .into_bytes()
}

const ROOT: &str = "9,0,1,0,1,0,0";
const OBJ: &str = "3,1,3,16,0,0,0";
const EDGE: &str = "2,2,7";

fn load(bytes: &[u8]) -> Result<snapshot::Snapshot, snapshot::LoadError> {
    snapshot::load_bytes("edge.heapsnapshot", bytes, &Hooks::default())
}

fn refused(bytes: &[u8]) -> LoadErrorKind {
    match load(bytes) {
        Ok(s) => panic!(
            "loaded: ids {:?} sizes {:?} to {:?} names {:?}",
            s.node_id,
            s.node_self_size,
            s.edge_to,
            (0..s.edge_count() as u32)
                .map(|e| s.edge_name_index(e))
                .collect::<Vec<_>>()
        ),
        Err(e) => {
            assert_eq!(e.file, "edge.heapsnapshot");
            assert!(!e.to_string().is_empty());
            e.kind
        }
    }
}

#[test]
fn the_boundary_document_loads() {
    let s = load(&doc("", &format!("{ROOT},{OBJ}"), EDGE, "")).unwrap();
    assert_eq!((s.node_count(), s.edge_count()), (2, 1));
}

#[test]
fn u32_max_values_load_unchanged() {
    let max = u32::MAX;
    let obj = format!("3,1,{max},{max},0,{max},0");
    let s = load(&doc("", &format!("{ROOT},{obj}"), EDGE, "")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.node_id[1], max);
    assert_eq!(s.node_self_size[1], max);
    // An element edge's index may be u32::MAX (it is not a string index).
    let s = load(&doc(
        "",
        &format!("{ROOT},{OBJ}"),
        &format!("1,{max},7"),
        "",
    ))
    .unwrap();
    assert_eq!(s.edge_name_index(0), max);
    // Sizes add up in u64: two objects of u32::MAX bytes.
    let obj = format!("3,1,5,{max},0,0,0");
    let root = "9,0,1,0,2,0,0";
    let s = load(&doc("", &format!("{root},{obj},{obj}"), "2,2,7,2,2,14", "")).unwrap();
    let loaded = Loaded::analyze(s, Default::default(), None).unwrap();
    assert_eq!(loaded.total_size(), 2 * u64::from(max));
    assert_eq!(loaded.analysis.retained(0), 2 * u64::from(max));
}

#[test]
fn node_values_past_u32_are_refused_not_wrapped() {
    for field in 0..5 {
        for big in [
            "4294967296",
            "4294967297",
            "18446744073709551615",
            "99999999999999999999",
        ] {
            let mut obj: Vec<&str> = OBJ.split(',').collect();
            obj[field] = big;
            let nodes = format!("{ROOT},{}", obj.join(","));
            let kind = refused(&doc("", &nodes, EDGE, ""));
            assert!(
                matches!(kind, LoadErrorKind::BadNumber { .. }),
                "field {field} = {big}: {kind}"
            );
        }
    }
    // A type past 255 does not wrap into a valid type either.
    let nodes = format!("{ROOT},259,1,3,16,0,0,0");
    assert!(matches!(
        refused(&doc("", &nodes, EDGE, "")),
        LoadErrorKind::BadNumber { .. }
    ));
}

#[test]
fn edge_values_past_u32_are_refused_not_wrapped() {
    let nodes = format!("{ROOT},{OBJ}");
    // to_node = 7 * 2^32 + 7 would wrap to node 1; name 2^32 + 2 would wrap to "p".
    for edges in [
        "2,2,30064771079",
        "2,4294967298,7",
        "1,4294967296,7",
        "4294967298,2,7",
    ] {
        let kind = refused(&doc("", &nodes, edges, ""));
        assert!(
            matches!(kind, LoadErrorKind::BadNumber { .. }),
            "{edges}: {kind}"
        );
    }
    // In range for u32 but past the last node or string: typed, not clamped.
    let kind = refused(&doc("", &nodes, "2,2,28", ""));
    assert!(matches!(kind, LoadErrorKind::BadEdge { .. }), "{kind}");
    let kind = refused(&doc(
        "",
        &nodes,
        &format!("2,2,{}", 7 * (u32::MAX as u64 / 7)),
        "",
    ));
    assert!(matches!(kind, LoadErrorKind::BadEdge { .. }), "{kind}");
}

#[test]
fn edge_count_sums_past_u32_are_refused() {
    // Two nodes claiming u32::MAX edges each: the sum must not wrap to a small number.
    let nodes = "9,0,1,0,4294967295,0,0,3,1,3,16,4294967295,0,0";
    let kind = refused(&doc("", nodes, EDGE, ""));
    assert!(
        matches!(kind, LoadErrorKind::CountMismatch { .. }),
        "{kind}"
    );
    // 2^32 - 1 + 2 = 2^32 + 1 would wrap to 1, the number of edges in the file.
    let nodes = "9,0,1,0,4294967295,0,0,3,1,3,16,2,0,0";
    let kind = refused(&doc("", nodes, EDGE, ""));
    assert!(
        matches!(kind, LoadErrorKind::CountMismatch { .. }),
        "{kind}"
    );
}

#[test]
fn header_counts_past_u32_are_refused_without_reserving_them() {
    let nodes = format!("{ROOT},{OBJ}");
    for extra in [
        ",\"node_count\":4294967298",
        ",\"edge_count\":4294967297",
        ",\"node_count\":1000000000000000",
        ",\"edge_count\":18446744073709551615",
    ] {
        let kind = refused(&doc(extra, &nodes, EDGE, ""));
        assert!(
            matches!(kind, LoadErrorKind::CountMismatch { .. }),
            "{extra}: {kind}"
        );
    }
    // root_index past u32 * fields: not a node, even though it wraps to 0 modulo 2^32.
    let kind = refused(&doc(",\"root_index\":30064771072", &nodes, EDGE, ""));
    assert!(matches!(kind, LoadErrorKind::BadMeta(_)), "{kind}");
}

#[test]
fn location_values_past_u32_do_not_wrap() {
    let nodes = format!("{ROOT},{OBJ}");
    // object_index past u32 is not a node.
    let kind = refused(&doc("", &nodes, EDGE, "30064771079,1,2,3"));
    assert!(matches!(kind, LoadErrorKind::BadNode { .. }), "{kind}");
    // script id, line and column past u32 saturate instead of wrapping to small numbers.
    let s = load(&doc(
        "",
        &nodes,
        EDGE,
        "7,4294967297,4294967296,9999999999999999999",
    ))
    .unwrap();
    let l = s.location(1).expect("location");
    assert_eq!(
        (l.script_id, l.line, l.column),
        (u32::MAX, u32::MAX, u32::MAX)
    );
}

/// The values of a top-level number array of a snapshot's text, read the plain way.
fn numbers_of(bytes: &[u8], key: &str) -> (std::ops::Range<usize>, Vec<u64>) {
    let text = std::str::from_utf8(bytes).expect("utf-8");
    let open = text.find(&format!("\"{key}\":[")).expect(key) + key.len() + 4;
    let close = open + text[open..].find(']').expect("]");
    let values = text[open..close]
        .split(',')
        .map(|v| v.trim().parse().expect("number"))
        .collect();
    (open..close, values)
}

/// A file of many of the loader's 8 MiB blocks, each read while the one before is parsed:
/// every node id and edge target lands where the text has it, across the block boundaries, and
/// a bad number in a later block is placed at its exact byte.
#[test]
fn files_of_many_blocks_load_every_value_and_place_errors() {
    let c = Config::with_nodes(1_100_000, 11);
    let mut bytes = Vec::new();
    testkit::write(&c, &mut bytes).expect("write");
    assert!(bytes.len() > 48 << 20, "{} bytes", bytes.len());

    let s = snapshot::load_bytes("blocks", &bytes, &Hooks::default()).unwrap_or_else(|e| {
        panic!("{e}");
    });
    let fields = testkit::NODE_FIELDS.len();
    let (_, nodes) = numbers_of(&bytes, "nodes");
    let ids: Vec<u64> = nodes.iter().skip(2).step_by(fields).copied().collect();
    assert_eq!(s.node_id.len(), ids.len());
    assert!(s.node_id.iter().zip(&ids).all(|(&a, &b)| u64::from(a) == b));
    let (edges_span, edges) = numbers_of(&bytes, "edges");
    let to: Vec<u64> = edges
        .iter()
        .skip(2)
        .step_by(3)
        .map(|&t| t / fields as u64)
        .collect();
    assert_eq!(s.edge_to.len(), to.len());
    assert!(s.edge_to.iter().zip(&to).all(|(&a, &b)| u64::from(a) == b));

    // A value of the edges past the first two windows, made not a number.
    let mut bad = bytes.clone();
    let mut at = edges_span.end - 1000;
    assert!(at > 2 * (16 << 20), "edges end at {}", edges_span.end);
    while bad[at - 1] != b',' {
        at += 1;
    }
    bad[at] = b'x';
    match snapshot::load_bytes("blocks", &bad, &Hooks::default()) {
        Err(e) => match e.kind {
            LoadErrorKind::BadNumber {
                ref section,
                offset,
                ..
            } => {
                assert_eq!(section, "edges");
                assert_eq!(offset, at as u64, "{e}");
            }
            ref other => panic!("{other}"),
        },
        Ok(_) => panic!("a bad number loaded"),
    }
}

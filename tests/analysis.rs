//! Graph analysis (retainers, distances, dominators, retained sizes, Retainers pane) pinned to
//! DevTools: the fixture tests compare with the oracle's references in `tests/data/reference/`;
//! the hand-built graphs check one rule each; the chain test checks that nothing recurses.

mod common;

use std::sync::atomic::AtomicBool;

use heapdiff::analysis::distance::{BASE_SYSTEM_DISTANCE, Spread, compute_spreading};
use heapdiff::analysis::paths;
use heapdiff::analysis::summary::summarize;
use heapdiff::analysis::{Analysis, NO_DISTANCE, analyze};
use heapdiff::loaded::Loaded;
use heapdiff::report::retainers::{self, RetainerEdge};
use heapdiff::snapshot::Snapshot;
use heapdiff::snapshot::class::{classify, display_name, shallow_sizes};
use heapdiff::task::Hooks;
use heapdiff::testkit::graph::{GraphBuilder, empty, graph};
use heapdiff::testkit::{edge_type, node_type};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn run(snap: &Snapshot, sizes: &[u32]) -> Analysis {
    analyze(snap, sizes, &Hooks::default()).expect("analysis of a consistent snapshot")
}

fn raw_name(snap: &Snapshot) -> impl Fn(u32) -> String + '_ {
    move |n| snap.node_name(n).to_string()
}

// ---------------------------------------------------------------------------------------------
// Fixtures against the DevTools references
// ---------------------------------------------------------------------------------------------

/// Every Summary row's `distance` (minimum over the class) and `maxRet` (from retained sizes and
/// the dominator tree) equal DevTools'.
fn check_summary(file: &str) {
    let path = common::fixture(file);
    let reference = common::reference(&common::summary_reference(file));
    let snap = heapdiff::snapshot::load(&path, &Hooks::default()).expect("fixture loads");
    let sizes = shallow_sizes(&snap);
    let analysis = run(&snap, &sizes);
    assert_eq!(
        analysis.retained(snap.root),
        reference["snapshot"]["totalSize"]
            .as_u64()
            .expect("totalSize"),
        "{file}: root retained size"
    );
    let classes = classify(&snap, None);
    let rows = summarize(&snap, &classes, &sizes, Some(&analysis.view()));
    let by_key: std::collections::HashMap<&str, _> =
        rows.iter().map(|r| (r.class_key.as_str(), r)).collect();
    let expected = reference["classes"].as_array().expect("classes");
    let mut mismatches = Vec::new();
    for e in expected {
        let key = e["classKey"].as_str().expect("classKey");
        let Some(row) = by_key.get(key) else {
            mismatches.push(format!("missing {key}"));
            continue;
        };
        let ret = e["maxRet"].as_u64();
        let dist = e["distance"].as_i64();
        if row.retained_size != ret || row.distance != dist {
            mismatches.push(format!(
                "{key}: maxRet {:?} vs {:?}, distance {:?} vs {:?}",
                row.retained_size, ret, row.distance, dist
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{file}: {} of {} rows differ:\n{}",
        mismatches.len(),
        expected.len(),
        mismatches.join("\n")
    );
}

#[test]
fn tiny_matches_devtools() {
    check_summary("tiny.heapsnapshot");
    common::compared_references("analysis: tiny_matches_devtools");
}

#[test]
fn fixtures_match_devtools_summaries() {
    // Every fixture but tiny, which has its own test.
    for file in common::SNAPSHOTS
        .iter()
        .filter(|f| **f != "tiny.heapsnapshot")
    {
        check_summary(file);
    }
    common::compared_references("analysis: fixtures_match_devtools_summaries");
}

/// Compares our pane rows (as `heapdiff retainers` reports them) with the oracle's `retainers`
/// items, level by level.
fn compare_pane(
    total: usize,
    ours: &[RetainerEdge],
    theirs: &Value,
    edge_fields: u64,
    path: &str,
    errors: &mut Vec<String>,
) {
    let expected_total = theirs["totalLength"].as_u64().unwrap_or(0) as usize;
    if total != expected_total {
        errors.push(format!("{path}: total {total} vs {expected_total}"));
    }
    let items = theirs["items"].as_array().cloned().unwrap_or_default();
    if ours.len() != items.len() {
        errors.push(format!("{path}: {} rows vs {}", ours.len(), items.len()));
    }
    for (i, (row, item)) in ours.iter().zip(&items).enumerate() {
        let here = format!("{path}/{i}");
        let r = &item["retainer"];
        let expect = (
            item["edgeType"].as_str().unwrap_or(""),
            item["edgeName"].as_str().unwrap_or(""),
            item["edgeIndex"].as_u64().unwrap_or(0),
            r["id"].as_u64().unwrap_or(0),
            r["name"].as_str().unwrap_or(""),
            r["className"].as_str().unwrap_or(""),
            r["type"].as_str().unwrap_or(""),
            r["selfSize"].as_u64().unwrap_or(0),
            r["retainedSize"].as_u64().unwrap_or(0),
            r["distance"].as_i64().unwrap_or(0),
            item["cycled"].as_bool().unwrap_or(false),
        );
        let got = (
            row.edge_type.as_str(),
            row.edge_name.as_str(),
            u64::from(row.edge_index) * edge_fields,
            u64::from(row.node.id),
            row.node.name.as_str(),
            row.node.class_name.as_str(),
            row.node.node_type.as_str(),
            u64::from(row.node.self_size),
            row.node.retained_size,
            i64::from(row.node.distance),
            row.cycled,
        );
        if got != expect {
            errors.push(format!("{here}: {got:?}\n   vs {expect:?}"));
            continue;
        }
        match (row.expanded, item.get("retainers")) {
            (true, Some(sub)) => compare_pane(
                row.retainers_total,
                &row.retainers,
                sub,
                edge_fields,
                &here,
                errors,
            ),
            (false, None) => {}
            (a, b) => errors.push(format!("{here}: expanded {a} vs {}", b.is_some())),
        }
    }
}

/// Retainers no root reaches show DevTools' `getDistanceForRetainersView` distance
/// (200,000,000), not −5: the Chromium fixture holds such retainers (zero-size leftovers of
/// V8's builtins), and the oracle's pane of an object with one of them is compared row by row,
/// distances included.
#[test]
fn unreachable_retainers_show_devtools_retainers_view_distance() {
    let reference = common::reference("detached-dom.after.retainers-unreachable.json");
    let loaded = Loaded::open(
        &common::fixture("detached-dom.after.heapsnapshot"),
        Hooks::default(),
        None,
    )
    .expect("fixture loads");
    let id = reference["node"]["id"].as_u64().expect("node id") as u32;
    let node = loaded.snapshot.node_for_id(id).expect("node present");
    let report = retainers::build(&loaded, node, 3, 25);
    assert_eq!(
        i64::from(report.node.distance),
        reference["node"]["distance"].as_i64().unwrap()
    );
    let mut errors = Vec::new();
    compare_pane(
        report.retainers_total,
        &report.retainers,
        &reference["retainers"],
        3,
        "",
        &mut errors,
    );
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let mut stack: Vec<&RetainerEdge> = report.retainers.iter().collect();
    let mut unreachable = 0;
    while let Some(row) = stack.pop() {
        assert_ne!(row.node.distance, -5, "@{} shows -5", row.node.id);
        unreachable += usize::from(row.node.distance == 200_000_000);
        stack.extend(&row.retainers);
    }
    assert!(unreachable > 0, "the pane has an unreachable retainer");
    common::compared_references(
        "analysis: unreachable_retainers_show_devtools_retainers_view_distance",
    );
}

#[test]
fn ssr_di_leak_retainers_match_devtools() {
    let reference = common::reference(common::RETAINERS_REFERENCE);
    let loaded = Loaded::open(
        &common::fixture("ssr-di-leak.after.heapsnapshot"),
        Hooks::default(),
        None,
    )
    .expect("fixture loads");
    let (snap, analysis) = (&loaded.snapshot, &loaded.analysis);
    let name = |n: u32| display_name(snap, loaded.classes.dom(), n).into_owned();

    let id = reference["node"]["id"].as_u64().expect("node id") as u32;
    let node = snap.node_for_id(id).expect("node present");
    assert_eq!(
        analysis.retained(node),
        reference["node"]["retainedSize"].as_u64().unwrap()
    );
    assert_eq!(
        i64::from(analysis.distance[node as usize]),
        reference["node"]["distance"].as_i64().unwrap()
    );

    // Dominator chain: same nodes, same retained sizes.
    let chain = paths::dominator_chain(snap, analysis, node);
    let expected: Vec<(u64, u64)> = reference["dominatorChain"]
        .as_array()
        .expect("chain")
        .iter()
        .map(|d| {
            (
                d["nodeId"].as_u64().unwrap(),
                d["retainedSize"].as_u64().unwrap(),
            )
        })
        .collect();
    let got: Vec<(u64, u64)> = chain
        .iter()
        .map(|&n| (u64::from(snap.node_id[n as usize]), analysis.retained(n)))
        .collect();
    assert_eq!(got, expected);

    // The pane, 8 levels deep, 25 rows per node as the oracle shows.
    let report = retainers::build(&loaded, node, 8, 25);
    let mut errors = Vec::new();
    compare_pane(
        report.retainers_total,
        &report.retainers,
        &reference["retainers"],
        snap.meta.edge_fields.len().max(3) as u64,
        "",
        &mut errors,
    );
    assert!(
        errors.is_empty(),
        "{} differences:\n{}",
        errors.len(),
        errors
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );

    // The shortest path follows the first retaining path DevTools draws.
    let path = paths::shortest_path_to_root(snap, analysis, node, &name);
    assert_eq!(path.len() as i32, analysis.distance[node as usize] - 1);
    let mut level = &reference["retainingPaths"]["paths"][0];
    for &(edge, src) in path.iter().take(5) {
        assert_eq!(
            u64::from(snap.node_id[src as usize]),
            level["nodeId"].as_u64().unwrap()
        );
        assert_eq!(u64::from(edge) * 3, level["edgeIndex"].as_u64().unwrap());
        level = &level["children"][0];
    }
    common::compared_references("analysis: ssr_di_leak_retainers_match_devtools");
}

// ---------------------------------------------------------------------------------------------
// Hand-built graphs: one DevTools rule each
// ---------------------------------------------------------------------------------------------

#[test]
fn distances_follow_user_roots_first() {
    // root -shortcut-> window -> a -> b; root -element-> (GC roots) -> c; b is also reached
    // from c; d is unreachable; e is reached only weakly.
    let snap = graph(
        &[
            ("synthetic", "", 0),
            ("object", "Window", 10),
            ("object", "A", 10),
            ("object", "B", 10),
            ("synthetic", "(GC roots)", 0),
            ("object", "C", 10),
            ("object", "D", 10),
            ("object", "E", 10),
        ],
        &[
            (0, "shortcut", "w", 1),
            (0, "element", "1", 4),
            (1, "property", "a", 2),
            (2, "property", "b", 3),
            (4, "element", "1", 5),
            (5, "property", "b", 3),
            (2, "weak", "e", 7),
        ],
    );
    let sizes = snap.node_self_size.clone();
    let a = run(&snap, &sizes);
    assert_eq!(
        a.distance,
        vec![
            100_000_000,
            1,
            2,
            3,
            100_000_001,
            100_000_002,
            NO_DISTANCE,
            NO_DISTANCE
        ]
    );
    // d and e hang off the root in the dominator tree. b has two retainers, but c is not
    // page-owned and b is, so c's edge is not essential and a dominates b.
    assert_eq!(a.dominator, vec![0, 0, 1, 2, 0, 4, 0, 0]);
    assert_eq!(a.retained(1), 30);
    assert_eq!(a.retained(0), 60);
}

/// The ordinal of the first object of [`wide_graph`].
const WIDE_FIRST: usize = 3;

/// A graph whose levels are wide enough to spread in chunks of three: objects with three
/// scattered references each (repeats and weak edges among them), the filter's stateless
/// rules at work (a `(map descriptors)` array, a native context), nodes only the GC roots
/// reach, a user root the root names twice, and, when `weakmap`, a WeakMap pair. Also
/// returns the ordinal of a node only a weak edge names.
fn wide_graph(weakmap: bool) -> (Snapshot, usize) {
    const N: u32 = 300;
    let mut b = GraphBuilder::new();
    let window = b.node("object", "Window", 1);
    let gc_roots = b.node("synthetic", "(GC roots)", 0);
    let first = window + 2;
    assert_eq!(first as usize, WIDE_FIRST);
    for i in 0..N {
        match i {
            5 => b.node("array", "(map descriptors)", 1),
            6 => b.node("hidden", "system / NativeContext", 1),
            _ => b.node("object", "O", 1),
        };
    }
    let o = |i: u32| first + i % N;
    b.edge(0, "shortcut", "w", window);
    b.edge(0, "element", "1", gc_roots);
    b.edge(0, "shortcut", "again", window);
    for i in 0..20 {
        b.edge(window, "property", &format!("o{i}"), o(i));
    }
    for i in 0..N {
        let from = o(i);
        match i {
            5 => {
                for index in [0, 1, 2, 4, 7] {
                    b.edge(from, "element", &index.to_string(), o(i * 13 + index));
                }
            }
            6 => {
                b.edge(from, "internal", "sloppy_function_map", o(250));
                b.edge(from, "internal", "other", o(251));
            }
            // Reached only through the GC roots, unless another object names them.
            250.. => {}
            _ => {
                for k in 0..3 {
                    let to = o((i * 31 + k * 97 + 7) % 240);
                    b.edge(from, "property", &format!("p{k}"), to);
                }
                if i % 10 == 0 {
                    b.edge(from, "weak", "w", o(i + 101));
                }
            }
        }
    }
    for i in 240..N {
        b.edge(gc_roots, "element", &i.to_string(), o(i));
    }
    let lost = b.node("object", "Lost", 1);
    b.edge(window, "weak", "lost", lost);
    if weakmap {
        // Key and table both at some depth; the value is reached only through the pair.
        let table_id = 1 + 2 * o(40);
        let value = b.node("object", "V", 1);
        let pair = format!(
            " / part of key (K @{}) -> value (V @{}) pair in WeakMap (table @{table_id})",
            1 + 2 * o(30),
            1 + 2 * value
        );
        b.edge(o(40), "internal", &format!("1{pair}"), value);
        b.edge(o(30), "internal", &format!("2{pair}"), value);
    }
    (b.build(), lost as usize)
}

fn levels(distance: &[i32]) -> usize {
    let mut seen: Vec<i32> = distance.iter().copied().filter(|&d| d > 0).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

/// Spread over the cores in chunks of three, the walks give every node the distance the
/// node-by-node walk gives it; a level where a WeakMap pair's edge is met is walked in
/// order.
#[test]
fn spreading_levels_over_the_cores_changes_no_distance() {
    let in_order = Spread {
        from: usize::MAX,
        chunk: 1,
    };
    let spread = Spread { from: 1, chunk: 3 };
    for weakmap in [false, true] {
        let (snap, lost) = wide_graph(weakmap);
        let (want, none) = compute_spreading(&snap, in_order).unwrap();
        let (got, spread_levels) = compute_spreading(&snap, spread).unwrap();
        assert_eq!(none, 0);
        assert_eq!(got, want, "weakmap: {weakmap}");
        // Every level of both walks (the second's starts at the root) is expanded once.
        let expanded = levels(&want);
        assert!(levels(&want) > 6, "{want:?}");
        if weakmap {
            assert!(
                spread_levels > 0 && spread_levels < expanded,
                "{spread_levels}"
            );
            // The value, the last node, is reached by the pair's second edge in BFS order.
            let (key, table) = (want[WIDE_FIRST + 30], want[WIDE_FIRST + 40]);
            assert_eq!(want[want.len() - 1], key.max(table) + 1);
        } else {
            assert_eq!(spread_levels, expanded);
        }
        // The filter's rules held: the native context is reached by the first walk, its
        // sloppy function map only by the GC roots' walk, its other edge by the first; the
        // node only a weak edge names is never reached.
        assert!(want[WIDE_FIRST + 6] < BASE_SYSTEM_DISTANCE, "{want:?}");
        assert!(want[WIDE_FIRST + 250] > BASE_SYSTEM_DISTANCE);
        assert!(want[WIDE_FIRST + 251] < BASE_SYSTEM_DISTANCE);
        assert_eq!(want[lost], NO_DISTANCE);
    }
}

#[test]
fn weakmap_value_gets_the_later_distance_and_the_key_dominates() {
    // window -> key (distance 2), window -> m -> table (distance 3); the value is retained by an
    // ephemeron pair from the table and from the key.
    let table_id = 9; // ids are 1 + 2 * ordinal: ordinal 4.
    let pair =
        format!(" / part of key (K @5) -> value (V @11) pair in WeakMap (table @{table_id})");
    let n1 = format!("1{pair}");
    let n2 = format!("2{pair}");
    let snap = graph(
        &[
            ("synthetic", "", 0),
            ("object", "Window", 1),
            ("object", "K", 2),
            ("object", "WeakMap", 4),
            ("array", "(table)", 8),
            ("object", "V", 16),
        ],
        &[
            (0, "shortcut", "w", 1),
            (1, "property", "key", 2),
            (1, "property", "m", 3),
            (3, "internal", "table", 4),
            (4, "internal", &n1, 5),
            (2, "internal", &n2, 5),
        ],
    );
    let sizes = snap.node_self_size.clone();
    let a = run(&snap, &sizes);
    // BFS meets the key's edge first (distance 3) and skips it; the table's edge sets 4.
    assert_eq!(a.distance[5], 4);
    // The table's half is not essential, so the key alone dominates the value.
    assert_eq!(a.dominator[5], 2);
    assert_eq!(a.retained(2), 18);
}

#[test]
fn nodes_with_only_weak_retainers_and_unreachable_cycles_hang_off_the_root() {
    let snap = graph(
        &[
            ("synthetic", "", 0),
            ("object", "A", 1),
            ("object", "W", 2),
            ("object", "X", 4),
            ("object", "Y", 8),
            ("object", "Z", 16),
        ],
        &[
            (0, "shortcut", "a", 1),
            (1, "weak", "w", 2),
            (2, "property", "x", 3),
            // y <-> z: a cycle nothing else retains.
            (4, "property", "z", 5),
            (5, "property", "y", 4),
        ],
    );
    let sizes = snap.node_self_size.clone();
    let a = run(&snap, &sizes);
    assert_eq!(a.dominator, vec![0, 0, 0, 2, 0, 0]);
    assert_eq!(a.retained(2), 6);
    assert_eq!(a.retained(0), 31);
}

#[test]
fn pane_sorts_by_distance_then_name_and_marks_cycles() {
    let snap = graph(
        &[
            ("synthetic", "", 0),
            ("object", "Win", 1),
            ("object", "B", 1),
            ("object", "A", 1),
            ("object", "T", 1),
        ],
        &[
            (0, "shortcut", "w", 1),
            (1, "property", "b", 2),
            (1, "property", "a", 3),
            (2, "property", "t", 4),
            (3, "property", "t", 4),
            (3, "weak", "t2", 4),
            (4, "property", "back", 3),
        ],
    );
    let loaded = Loaded::analyze(snap, Hooks::default(), None).expect("analysis");
    let report = retainers::build(&loaded, 4, 4, 25);
    let names: Vec<&str> = report
        .retainers
        .iter()
        .map(|r| r.node.name.as_str())
        .collect();
    // A and B both at distance 2: by name; the weak edge is hidden.
    assert_eq!(names, ["A", "B"]);
    // Under A: Win (distance 1) first, then T which is the pane's node: cycled.
    let under_a = &report.retainers[0];
    assert!(under_a.expanded);
    let rows: Vec<(&str, bool)> = under_a
        .retainers
        .iter()
        .map(|r| (r.node.name.as_str(), r.cycled))
        .collect();
    assert_eq!(rows, [("Win", false), ("T", true)]);
    // The root's edge to Win is not shown.
    assert!(under_a.retainers[0].expanded);
    assert_eq!(under_a.retainers[0].retainers_total, 0);
    let (snap, a) = (&loaded.snapshot, &loaded.analysis);
    let name = raw_name(snap);
    let path = paths::shortest_path_to_root(snap, a, 4, &name);
    assert_eq!(path.iter().map(|&(_, n)| n).collect::<Vec<_>>(), vec![3, 1]);
    assert_eq!(paths::dominator_chain(snap, a, 4), vec![4, 1, 0]);
}

#[test]
fn cancel_returns_none() {
    let snap = graph(
        &[("synthetic", "", 0), ("object", "A", 1)],
        &[(0, "shortcut", "a", 1)],
    );
    let cancel = AtomicBool::new(true);
    let hooks = Hooks {
        progress: None,
        cancel: Some(&cancel),
    };
    assert!(analyze(&snap, &snap.node_self_size, &hooks).is_none());
}

/// A 10-million-node chain: root -> 1 -> 2 -> … Every phase must be iterative.
#[test]
fn ten_million_node_chain() {
    const N: u32 = 10_000_000;
    let mut snap = empty(&["", "", "next", "Node"]);
    snap.node_type = vec![node_type("object"); N as usize];
    snap.node_type[0] = node_type("synthetic");
    snap.node_name = vec![3; N as usize];
    snap.node_id = (0..N).map(|i| 2 * i + 1).collect();
    snap.node_self_size = vec![1; N as usize];
    snap.first_edge = (0..=N).map(|i| i.min(N - 1)).collect();
    let mut types = vec![edge_type("property"); N as usize - 1];
    types[0] = edge_type("shortcut");
    snap.set_edges(&types, &vec![2; N as usize - 1]);
    snap.edge_to = (1..N).collect();
    let sizes = std::mem::take(&mut snap.node_self_size);
    let a = run(&snap, &sizes);
    let last = (N - 1) as usize;
    assert_eq!(a.distance[last], last as i32);
    assert_eq!(a.dominator[last], N - 2);
    assert_eq!(a.retained(1), u64::from(N - 1));
    assert_eq!(a.retained(0), u64::from(N));
    assert_eq!(paths::dominator_chain(&snap, &a, N - 1).len(), N as usize);
}

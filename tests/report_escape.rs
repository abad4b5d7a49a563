//! Reports are read by people, in browsers and ticket systems: snapshot text must come out inert,
//! and string contents from the heap must not come out at all unless asked for.

mod common;

use heapdiff::loaded::Loaded;
use heapdiff::report::{self, ReportOptions};
use heapdiff::task::Hooks;
use heapdiff::{diff, snapshot};

const CLASS: &str = "<script>alert(1)</script>";
const PROPERTY: &str = "\"><img src=x onerror=alert(1)>";
const SECRET: &str = "sk_live_4f3a9b2c7d1e8f6a5b4c3d2e";

/// Writes a Node-layout snapshot: root → (GC roots) → a global `Holder` → (under PROPERTY) an
/// array → `leaked` objects of class CLASS, each holding a secret string under PROPERTY.
fn snapshot_text(leaked: usize) -> String {
    let mut strings: Vec<String> = vec![
        "".into(),
        "(GC roots)".into(),
        "Holder".into(),
        "holder".into(),
        "items".into(),
        "Array".into(),
        CLASS.into(),
        PROPERTY.into(),
    ];
    let mut nodes: Vec<[u64; 7]> = Vec::new(); // type, name, id, size, edges, trace, detachedness
    let mut edges: Vec<[u64; 3]> = Vec::new();
    // type indexes as in Node's meta: hidden 0, array 1, string 2, object 3, synthetic 9.
    nodes.push([9, 0, 1, 0, 1, 0, 0]); // root
    nodes.push([9, 1, 3, 0, 1, 0, 0]); // (GC roots)
    nodes.push([3, 2, 5, 32, 1, 0, 0]); // Holder
    nodes.push([3, 5, 7, 32, leaked as u64, 0, 0]); // Array
    edges.push([5, 1, 7]); // root -shortcut-> (GC roots)  (edge type 5: shortcut)
    edges.push([2, 3, 14]); // (GC roots) -property holder-> Holder
    edges.push([2, 7, 21]); // Holder -property PROPERTY-> Array: on the leak's path
    let first_leak = nodes.len();
    // Node order: the four above, then each leaked object followed by its string. Edges are
    // listed per node in that order: the array's elements, then each object's property.
    let node_index = |ordinal: usize| (ordinal * 7) as u64;
    for i in 0..leaked {
        edges.push([1, i as u64, node_index(first_leak + 2 * i)]); // element i of the array
    }
    for i in 0..leaked {
        nodes.push([3, 6, 101 + 4 * i as u64, 40, 1, 0, 0]);
        strings.push(format!("{SECRET}{i:04}"));
        nodes.push([2, strings.len() as u64 - 1, 103 + 4 * i as u64, 48, 0, 0, 0]);
        edges.push([2, 7, node_index(first_leak + 2 * i + 1)]); // PROPERTY -> the secret
    }
    let ordered = edges;
    let meta = heapdiff::testkit::node_meta();
    let join = |rows: Vec<String>| rows.join(",");
    format!(
        "{{\"snapshot\":{{\"meta\":{meta},\"node_count\":{},\"edge_count\":{}}},\"nodes\":[{}],\"edges\":[{}],\"locations\":[],\"strings\":{}}}",
        nodes.len(),
        ordered.len(),
        join(
            nodes
                .iter()
                .map(|n| n.map(|v| v.to_string()).join(","))
                .collect()
        ),
        join(
            ordered
                .iter()
                .map(|e| e.map(|v| v.to_string()).join(","))
                .collect()
        ),
        serde_json::to_string(&strings).unwrap()
    )
}

fn reports(include_strings: bool) -> (String, String, String, report::Findings) {
    let load = |name: &str, text: String| {
        let snap = snapshot::load_bytes(name, text.as_bytes(), &Default::default())
            .expect("valid synthetic snapshot");
        Loaded::analyze(snap, Hooks::default(), None).expect("analysis")
    };
    let after = load("after.heapsnapshot", snapshot_text(150));
    let defs = after.classes.definitions.clone();
    let before_snap = snapshot::load_bytes(
        "before.heapsnapshot",
        snapshot_text(0).as_bytes(),
        &Default::default(),
    )
    .unwrap();
    let before = Loaded::analyze(before_snap, Hooks::default(), Some(&defs)).unwrap();
    let comparison = diff::compare(&before, &after, None);
    let findings = report::build(
        &comparison,
        &before,
        &after,
        None,
        ReportOptions { include_strings },
    );
    (
        report::markdown::render(&findings),
        report::html::render(&findings),
        report::findings::to_json(&findings),
        findings,
    )
}

#[test]
fn planted_markup_comes_out_escaped_and_secrets_redacted() {
    let (md, html, json, findings) = reports(false);
    let row = findings
        .classes
        .iter()
        .find(|c| c.name == CLASS)
        .expect("the planted class is a row");
    assert_eq!(row.added_count, 150);
    assert!(
        findings.suspects.iter().any(|s| s.name == CLASS),
        "the planted leak is a suspect"
    );
    // The class name and property name are shown (they are code), but inert.
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(
        !html.contains("<img"),
        "no markup from the snapshot in the HTML"
    );
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the report's own script tag"
    );
    assert!(
        !md.contains("<script") && !md.contains("<img"),
        "Markdown renders no HTML from the snapshot"
    );
    for (what, text) in [("markdown", &md), ("html", &html), ("findings", &json)] {
        assert!(!text.contains("sk_live_"), "{what} leaks a secret string");
    }
    // The findings file round-trips through the validating reader.
    let back = report::findings::parse("x.heapdiff.json", json.as_bytes()).expect("valid findings");
    assert_eq!(back, findings);
}

#[test]
fn include_strings_opts_in() {
    let (_, _, json, findings) = reports(true);
    assert!(findings.strings_included);
    let suspect = findings.suspects.iter().find(|s| s.name == "(string)");
    if let Some(s) = suspect {
        assert!(
            json.contains("sk_live_"),
            "string examples appear when included: {s:?}"
        );
    }
}

#[test]
fn weird_strings_never_leak_into_reports() {
    let weird = common::fixture("weird-strings.heapsnapshot");
    let tiny = common::data_dir().join("tiny.heapsnapshot");
    let (before, after, _) = common::open_pair(&tiny, &weird).expect("load");
    let comparison = diff::compare(&before, &after, None);
    let findings = report::build(&comparison, &before, &after, None, ReportOptions::default());
    assert!(
        findings
            .classes
            .iter()
            .any(|c| c.name == "Weird" && c.added_count == 50)
    );
    let html = report::html::render(&findings);
    for text in [
        report::markdown::render(&findings),
        html.clone(),
        report::findings::to_json(&findings),
    ] {
        assert!(!text.contains("sk_live_"));
    }
    assert!(!html.contains("<img"));
    assert_eq!(html.matches("<script").count(), 1);
}

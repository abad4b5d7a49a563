//! Class naming, shallow sizes and the Summary rows, pinned to DevTools.
//!
//! The hand-built snapshots check one DevTools rule each; the fixture tests compare every row of
//! every reference summary (`tests/data/reference/*.summary.json.gz`, written by the DevTools
//! oracle) with heapdiff's.

mod common;

use heapdiff::analysis::summary::{AnalysisView, SummaryRow, summarize};
use heapdiff::snapshot::Snapshot;
use heapdiff::snapshot::class::{
    self, Classes, InterfaceDefinition, classify, cmp_utf16, format_property_name,
    infer_interface_definitions, shallow_sizes,
};
use heapdiff::task::Hooks;
use heapdiff::testkit::graph::GraphBuilder;

// ---------------------------------------------------------------------------------------------
// Hand-built snapshots
// ---------------------------------------------------------------------------------------------

fn names(snap: &Snapshot, classes: &Classes) -> Vec<String> {
    (0..snap.node_count() as u32)
        .map(|n| classes.name_of(n).to_owned())
        .collect()
}

#[test]
fn type_based_class_names() {
    let mut b = GraphBuilder::new();
    b.node("hidden", "system / Foo", 8);
    b.node("code", "(code)", 8);
    b.node("closure", "onClick", 8);
    b.node("regexp", "/a+/", 8);
    b.node("string", "hello", 8);
    b.node("concatenated string", "", 8);
    b.node("array", "(object elements)", 8);
    let snap = b.build();
    let classes = classify(&snap, None);
    let got = names(&snap, &classes);
    assert_eq!(
        &got[1..8],
        [
            "(system)",
            "(compiled code)",
            "Function",
            "RegExp",
            "(string)",
            "(concatenated string)",
            "(array)"
        ]
    );
    assert_eq!(classes.key_of(3), ",Function");
}

#[test]
fn dom_names_and_detached_propagation() {
    let mut b = GraphBuilder::new();
    let attached_doc = b.node("native", "HTMLDocument", 8);
    let attached_div = b.node("native", "<div id=\"a\" class=\"x\">", 8);
    let detached_div = b.node("native", "<div id=\"b\">", 8);
    let child = b.node("native", "<span>", 8);
    let text = b.node("native", "Text", 8);
    let js = b.node("object", "HTMLDivElement", 8);
    let behind_js = b.node("native", "InternalThing", 8);
    let weak_only = b.node("native", "WeakOnly", 8);
    b.edge(0, "element", "1", attached_doc);
    b.edge(0, "element", "2", detached_div);
    b.edge(attached_doc, "internal", "child", attached_div);
    b.edge(detached_div, "internal", "child", child);
    b.edge(child, "internal", "child", text);
    b.edge(detached_div, "property", "wrapper", js);
    b.edge(js, "internal", "x", behind_js);
    b.edge(detached_div, "weak", "w", weak_only);
    b.detachedness(attached_doc, 1);
    b.detachedness(detached_div, 2);
    let snap = b.build();
    let classes = classify(&snap, None);
    assert_eq!(classes.name_of(attached_doc), "HTMLDocument");
    assert_eq!(classes.name_of(attached_div), "<div>");
    assert_eq!(classes.name_of(detached_div), "Detached <div>");
    assert_eq!(classes.name_of(child), "Detached <span>");
    assert_eq!(classes.name_of(text), "Detached Text");
    // Propagation stops at JavaScript objects and weak edges.
    assert_eq!(classes.name_of(js), "HTMLDivElement");
    assert_eq!(classes.name_of(behind_js), "InternalThing");
    assert_eq!(classes.name_of(weak_only), "WeakOnly");
    assert_eq!(classes.key_of(detached_div), ",Detached <div>");
    assert_eq!(classes.dom_state[text as usize], class::DOM_DETACHED);
}

#[test]
fn attached_wins_over_detached() {
    let mut b = GraphBuilder::new();
    let a = b.node("native", "A", 8);
    let d = b.node("native", "D", 8);
    let shared = b.node("native", "Shared", 8);
    b.edge(0, "element", "1", a);
    b.edge(a, "internal", "x", shared);
    b.edge(d, "internal", "x", shared);
    b.detachedness(a, 1);
    b.detachedness(d, 2);
    let snap = b.build();
    let classes = classify(&snap, None);
    assert_eq!(classes.name_of(shared), "Shared");
    assert_eq!(classes.name_of(d), "Detached D");
}

#[test]
fn interface_definitions_name_plain_objects() {
    let mut b = GraphBuilder::new();
    let mut objects = Vec::new();
    for i in 0..3 {
        let o = b.node("object", "Object", 16);
        b.edge(0, "element", &i.to_string(), o);
        b.edge(o, "property", "host", 0);
        b.edge(o, "property", "__proto__", 0);
        b.edge(o, "property", "port", 0);
        b.edge(o, "internal", "map", 0);
        objects.push(o);
    }
    // Same properties in another order: matches the same definition.
    let reordered = b.node("object", "Object", 16);
    b.edge(reordered, "property", "port", 0);
    b.edge(reordered, "property", "host", 0);
    // More properties: still matches the best (longest) definition contained in it.
    let superset = b.node("object", "Object", 16);
    b.edge(superset, "property", "host", 0);
    b.edge(superset, "property", "port", 0);
    b.edge(superset, "property", "extra", 0);
    // A lone shape does not get a definition.
    let lone = b.node("object", "Object", 16);
    b.edge(lone, "property", "a,b", 0);
    let empty = b.node("object", "Object", 16);
    let snap = b.build();

    let defs = infer_interface_definitions(&snap);
    assert_eq!(
        defs,
        vec![InterfaceDefinition {
            name: "{host, port}".into(),
            properties: vec!["host".into(), "port".into()]
        }]
    );
    let classes = classify(&snap, None);
    for o in objects.iter().chain([&reordered, &superset]) {
        assert_eq!(classes.name_of(*o), "{host, port}");
    }
    assert_eq!(classes.name_of(lone), "Object");
    assert_eq!(classes.name_of(empty), "Object");
    // The display name lists the properties themselves.
    assert_eq!(class::display_name(&snap, None, lone), "{\"a,b\"}");
    assert_eq!(
        class::display_name(&snap, None, superset),
        "{host, port, extra}"
    );

    // A diff applies the target's definitions to the base.
    let target_defs = vec![InterfaceDefinition {
        name: "{host}".into(),
        properties: vec!["host".into()],
    }];
    let base_view = classify(&snap, Some(&target_defs));
    assert_eq!(base_view.name_of(objects[0]), "{host}");
    assert_eq!(base_view.name_of(lone), "Object");
}

#[test]
fn property_names_are_escaped_like_json() {
    assert_eq!(format_property_name("plain"), "plain");
    assert_eq!(format_property_name("a,b"), "\"a,b\"");
    assert_eq!(
        format_property_name("say \"hi\"\n{"),
        "\"say \\\"hi\\\"\\n{\""
    );
    assert_eq!(format_property_name("x'\u{1}"), "\"x'\\u0001\"");
}

#[test]
fn strings_compare_in_utf16_order() {
    use std::cmp::Ordering::*;
    assert_eq!(cmp_utf16("a", "b"), Less);
    assert_eq!(cmp_utf16("ab", "a"), Greater);
    // U+FF01 sorts after U+1F600 in UTF-16 (0xFF01 > 0xD83D), before it in code points.
    assert_eq!(cmp_utf16("\u{FF01}", "\u{1F600}"), Greater);
    assert_eq!(cmp_utf16("é", "e"), Greater);
}

#[test]
fn location_splits_object_classes() {
    let mut b = GraphBuilder::new();
    let w1 = b.node("object", "Widget", 16);
    let w2 = b.node("object", "Widget", 16);
    let w3 = b.node("object", "Widget", 16);
    let f = b.node("closure", "make", 16);
    b.location(w1, 3, 9, 13);
    b.location(w2, 3, 9, 13);
    b.location(f, 3, 1, 0);
    let snap = b.build();
    let classes = classify(&snap, None);
    assert_eq!(classes.key_of(w1), "3,9,13,Widget");
    assert_eq!(
        classes.class_of.get(w1 as usize),
        classes.class_of.get(w2 as usize)
    );
    assert_eq!(classes.key_of(w3), ",Widget");
    // Closures are never split by location.
    assert_eq!(classes.key_of(f), ",Function");
}

#[test]
fn shallow_sizes_move_to_single_owners() {
    let mut b = GraphBuilder::new();
    let owner = b.node("object", "Owner", 16);
    let elements = b.node("array", "(object elements)", 100);
    let shared_array = b.node("array", "(shared)", 50);
    let other = b.node("object", "Other", 16);
    let nested = b.node("hidden", "system / Nested", 10);
    let weakly_shared = b.node("array", "(weak)", 30);
    let synth = b.node("synthetic", "(GC roots)", 0);
    let synth_array = b.node("array", "(synthetic owned)", 7);
    b.edge(0, "element", "1", owner);
    b.edge(0, "element", "2", other);
    b.edge(0, "element", "3", synth);
    b.edge(owner, "internal", "elements", elements);
    b.edge(elements, "internal", "0", nested);
    b.edge(owner, "internal", "a", shared_array);
    b.edge(other, "internal", "a", shared_array);
    b.edge(owner, "internal", "w", weakly_shared);
    b.edge(other, "weak", "w", weakly_shared);
    b.edge(synth, "internal", "x", synth_array);
    let snap = b.build();
    let sizes = shallow_sizes(&snap);
    assert_eq!(sizes[owner as usize], 16 + 100 + 10 + 30);
    assert_eq!(sizes[elements as usize], 0);
    assert_eq!(sizes[nested as usize], 0);
    assert_eq!(sizes[shared_array as usize], 50);
    assert_eq!(sizes[weakly_shared as usize], 0);
    assert_eq!(
        sizes[synth_array as usize], 7,
        "synthetic owners keep nothing"
    );
}

#[test]
fn no_moves_without_user_roots() {
    let mut b = GraphBuilder::new();
    let gc = b.node("synthetic", "(GC roots)", 0);
    let o = b.node("object", "O", 16);
    let a = b.node("array", "(elements)", 8);
    b.edge(0, "element", "1", gc);
    b.edge(gc, "element", "1", o);
    b.edge(o, "internal", "e", a);
    let snap = b.build();
    assert_eq!(shallow_sizes(&snap), snap.node_self_size);
}

#[test]
fn summary_skips_empty_nodes_and_resolves_key_collisions() {
    let mut b = GraphBuilder::new();
    // An object literally named "Function" and a closure: two DevTools classes, one public key;
    // the one whose first counted node comes last wins.
    let obj_function = b.node("object", "Function", 10);
    let closure = b.node("closure", "f", 20);
    let empty = b.node("object", "Empty", 0);
    let foo = b.node("object", "Foo", 5);
    let foo2 = b.node("object", "Foo", 7);
    b.edge(0, "element", "1", obj_function);
    b.edge(0, "element", "2", closure);
    b.edge(0, "element", "3", empty);
    b.edge(0, "element", "4", foo);
    b.edge(foo, "property", "x", foo2);
    let snap = b.build();
    let classes = classify(&snap, None);
    let shallow = shallow_sizes(&snap);
    let rows = summarize(&snap, &classes, &shallow, None);
    let keys: Vec<&str> = rows.iter().map(|r| r.class_key.as_str()).collect();
    assert_eq!(keys, [",Function", ",Foo"]);
    assert_eq!(rows[0].count, 1);
    assert_eq!(
        rows[0].self_size, 20,
        "the closure class replaces the object class"
    );
    assert_eq!(rows[1].self_size, 12);

    // With an analysis: a Foo dominated by a Foo does not add to the class's retained size.
    let distance = vec![0, 1, 1, 1, 1, 2];
    let retained = heapdiff::analysis::RetainedSizes::from_sizes(&[47, 10, 20, 0, 12, 7]);
    let dominator = vec![0, 0, 0, 0, 0, foo];
    let view = AnalysisView {
        distance: &distance,
        retained_size: &retained,
        dominator: &dominator,
    };
    let rows = summarize(&snap, &classes, &shallow, Some(&view));
    let foo_row = rows
        .iter()
        .find(|r| r.class_key == ",Foo")
        .expect("Foo row");
    assert_eq!(foo_row.retained_size, Some(12));
    assert_eq!(foo_row.distance, Some(1));
    let _ = (closure, foo2);
}

// ---------------------------------------------------------------------------------------------
// DevTools reference summaries
// ---------------------------------------------------------------------------------------------

/// Compares heapdiff's rows with DevTools' reference rows: every class key, name, count and self
/// size; retained size (`maxRet`) and distance too when the rows came with an analysis. Returns
/// the mismatches as readable lines.
pub fn compare_with_reference(name: &str, rows: &[SummaryRow]) -> Vec<String> {
    let expected = common::reference(&common::summary_reference(name))["classes"]
        .as_array()
        .expect("classes")
        .clone();
    let mut problems = Vec::new();
    let by_key: std::collections::HashMap<&str, &SummaryRow> =
        rows.iter().map(|r| (r.class_key.as_str(), r)).collect();
    if by_key.len() != rows.len() {
        problems.push(format!("{name}: duplicate class keys in heapdiff's rows"));
    }
    for e in &expected {
        let key = e["classKey"].as_str().unwrap_or_default();
        let Some(row) = by_key.get(key) else {
            problems.push(format!("{name}: missing class {key:?}"));
            continue;
        };
        let mut check = |what: &str, got: Option<i64>, want: Option<i64>| {
            if got != want {
                problems.push(format!(
                    "{name}: {key:?} {what}: heapdiff {got:?}, DevTools {want:?}"
                ));
            }
        };
        check("count", Some(row.count as i64), e["count"].as_i64());
        check("self", Some(row.self_size as i64), e["self"].as_i64());
        if row.retained_size.is_some() {
            check(
                "maxRet",
                row.retained_size.map(|r| r as i64),
                e["maxRet"].as_f64().map(|r| r as i64),
            );
        }
        if row.distance.is_some() {
            check("distance", row.distance, e["distance"].as_i64());
        }
        if row.name != e["name"].as_str().unwrap_or_default() {
            problems.push(format!(
                "{name}: {key:?} name {:?} vs {:?}",
                row.name, e["name"]
            ));
        }
    }
    let expected_keys: std::collections::HashSet<&str> = expected
        .iter()
        .filter_map(|e| e["classKey"].as_str())
        .collect();
    for row in rows {
        if !expected_keys.contains(row.class_key.as_str()) {
            problems.push(format!(
                "{name}: extra class {:?} (count {})",
                row.class_key, row.count
            ));
        }
    }
    // Row order, when retained sizes are known, is the reference's (maxRet desc, key).
    if rows.iter().all(|r| r.retained_size.is_some()) && problems.is_empty() {
        let got: Vec<&str> = rows.iter().map(|r| r.class_key.as_str()).collect();
        let want: Vec<&str> = expected
            .iter()
            .filter_map(|e| e["classKey"].as_str())
            .collect();
        if got != want {
            problems.push(format!("{name}: row order differs"));
        }
    }
    problems
}

fn summary_rows(name: &str) -> Vec<SummaryRow> {
    let path = common::fixture(name);
    let snap = heapdiff::snapshot::load(&path, &Hooks::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let classes = classify(&snap, None);
    let shallow = shallow_sizes(&snap);
    summarize(&snap, &classes, &shallow, None)
}

/// The full rows (retained size and distance from `heapdiff::analysis`), with their order.
fn analyzed_summary_rows(name: &str) -> Vec<SummaryRow> {
    let path = common::fixture(name);
    let snap = heapdiff::snapshot::load(&path, &Hooks::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let classes = classify(&snap, None);
    let shallow = shallow_sizes(&snap);
    let analysis = heapdiff::analysis::analyze(&snap, &shallow, &Hooks::default())
        .unwrap_or_else(|| panic!("{name}: analysis failed"));
    summarize(&snap, &classes, &shallow, Some(&analysis.view()))
}

#[test]
fn every_reference_summary_matches_devtools_with_retained_sizes() {
    let mut problems = Vec::new();
    for name in common::SNAPSHOTS {
        problems.extend(compare_with_reference(name, &analyzed_summary_rows(name)));
    }
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
    common::compared_references(
        "summary: every_reference_summary_matches_devtools_with_retained_sizes",
    );
}

#[test]
fn every_reference_summary_matches_devtools() {
    let mut problems = Vec::new();
    for name in common::SNAPSHOTS {
        problems.extend(compare_with_reference(name, &summary_rows(name)));
    }
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
    common::compared_references("summary: every_reference_summary_matches_devtools");
}

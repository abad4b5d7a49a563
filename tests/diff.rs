//! The Comparison (`heapdiff::diff`) against DevTools' reference diffs, and the leak suspects
//! against the planted leaks of `ground-truth.json`.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use heapdiff::diff::{self, Comparison};
use serde_json::Value;

use common::{PAIRS, pair};

fn u64_of(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {v}"))
}

fn i64_of(v: &Value, field: &str) -> i64 {
    v[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} in {v}"))
}

fn ids(v: &Value) -> Vec<u32> {
    let mut ids: Vec<u32> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_u64())
                .map(|x| x as u32)
                .collect()
        })
        .unwrap_or_default();
    ids.sort_unstable();
    ids
}

#[test]
fn rows_totals_and_ids_match_devtools() {
    for name in PAIRS {
        let p = pair(name);
        let reference = common::reference(&format!("{name}.diff.json"));
        let expected: BTreeMap<&str, &Value> = reference["classes"]
            .as_array()
            .expect("classes")
            .iter()
            .map(|c| (c["classKey"].as_str().expect("classKey"), c))
            .collect();
        let got: BTreeMap<&str, &diff::ClassDiff> = p
            .comparison
            .classes
            .iter()
            .map(|c| (c.class_key.as_str(), c))
            .collect();
        assert_eq!(
            got.len(),
            p.comparison.classes.len(),
            "{name}: duplicate class keys"
        );
        let missing: Vec<_> = expected.keys().filter(|k| !got.contains_key(*k)).collect();
        let extra: Vec<_> = got.keys().filter(|k| !expected.contains_key(*k)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name}: missing {missing:?}, extra {extra:?}"
        );
        for (key, e) in &expected {
            let g = got[key];
            let want = (
                e["name"].as_str().unwrap_or_default(),
                u64_of(e, "addedCount"),
                u64_of(e, "removedCount"),
                i64_of(e, "countDelta"),
                u64_of(e, "addedSize"),
                u64_of(e, "removedSize"),
                i64_of(e, "sizeDelta"),
            );
            let have = (
                g.name.as_str(),
                g.added_count,
                g.removed_count,
                g.count_delta,
                g.added_size,
                g.removed_size,
                g.size_delta,
            );
            assert_eq!(have, want, "{name}: row {key}");
            let mut added = g.added_ids(&p.after);
            added.sort_unstable();
            assert_eq!(added, ids(&e["addedIds"]), "{name}: added ids of {key}");
            assert_eq!(
                g.deleted_ids,
                ids(&e["deletedIds"]),
                "{name}: deleted ids of {key}"
            );
            // The lists point at nodes of the right snapshot and class.
            for &n in &g.deleted {
                assert_eq!(p.before.classes.key_of(n), *key);
            }
            for &n in &g.added {
                assert_eq!(p.after.classes.key_of(n), *key);
            }
        }
        let t = &reference["totals"];
        let totals = p.comparison.totals;
        assert_eq!(
            (
                totals.added_count,
                totals.removed_count,
                totals.count_delta,
                totals.added_size,
                totals.removed_size,
                totals.size_delta
            ),
            (
                u64_of(t, "addedCount"),
                u64_of(t, "removedCount"),
                i64_of(t, "countDelta"),
                u64_of(t, "addedSize"),
                u64_of(t, "removedSize"),
                i64_of(t, "sizeDelta")
            ),
            "{name}: totals"
        );
    }
    common::compared_references("diff: rows_totals_and_ids_match_devtools");
}

#[test]
fn suspects_follow_ground_truth() {
    let truth = common::ground_truth();
    for name in PAIRS {
        let p = pair(name);
        let scenario = &truth["scenarios"][name];
        let leaks = scenario["leaks"].as_array().expect("leaks");
        let suspects = &p.comparison.suspects;
        let names: Vec<&str> = suspects.iter().map(|s| s.name.as_str()).collect();
        let planted: Vec<(&str, u64)> = leaks
            .iter()
            .map(|l| (l["class"].as_str().expect("class"), u64_of(l, "new")))
            .filter(|&(_, new)| new > 0)
            .collect();
        if planted.is_empty() {
            assert!(
                suspects.is_empty(),
                "{name}: expected no suspect, got {names:?}"
            );
            continue;
        }
        let top: Vec<&str> = match scenario["top_any_of"].as_array() {
            Some(a) => a.iter().filter_map(|v| v.as_str()).collect(),
            None => vec![planted[0].0],
        };
        assert!(
            names.first().is_some_and(|n| top.contains(n)),
            "{name}: first suspect should be one of {top:?}, got {names:?}"
        );
        for (class, new) in planted.iter().filter(|(_, new)| *new >= 100) {
            let s = suspects
                .iter()
                .find(|s| s.name == *class)
                .unwrap_or_else(|| panic!("{name}: {class} is not a suspect ({names:?})"));
            assert_eq!(s.added_count, *new, "{name}: count of {class}");
        }
        for s in suspects {
            // Paths account for every candidate and for the retained size exactly once.
            let count: u64 = s.paths.iter().map(|p| p.count).sum();
            assert!(
                count <= s.added_count && !s.paths.is_empty(),
                "{name}: {}",
                s.name
            );
            if s.paths.len() < diff::suspects::PATHS_PER_SUSPECT {
                assert_eq!(count, s.added_count, "{name}: paths of {}", s.name);
                let size: u64 = s.paths.iter().map(|p| p.retained_size).sum();
                assert_eq!(
                    size, s.added_retained_size,
                    "{name}: path sizes of {}",
                    s.name
                );
            }
        }
    }
}

#[test]
fn child_container_path_names_the_listener_chain() {
    let p = pair("ssr-di-leak");
    let s = &p.comparison.suspects[0];
    assert_eq!(s.name, "ChildContainer");
    let top = &s.paths[0];
    assert_eq!(top.count, 1000);
    let words: Vec<&str> = top
        .steps
        .iter()
        .flat_map(|s| [s.edge_name.as_str(), s.class_name.as_str()])
        .collect();
    for needed in ["onConfigChange", "config", "_events", "bus"] {
        assert!(words.contains(&needed), "{needed} not in {words:?}");
    }
    // The path walks outwards: each step's retainer is one step closer to the roots, and the
    // example object really has that first edge.
    let a = &p.after;
    let first = &top.steps[0];
    let example = top.example;
    let has_edge = a.analysis.retaining_edges(&a.snapshot, example).any(|e| {
        let src = a.analysis.edge_source(&a.snapshot, e);
        a.snapshot.edge_name(e) == first.edge_name && a.classes.name_of(src) == first.class_name
    });
    assert!(has_edge, "{first:?}");
    // Array indexes are folded.
    assert!(top.steps.iter().any(|s| s.edge_name == "[]"));
    assert!(
        top.steps
            .iter()
            .all(|s| s.edge_name.parse::<u64>().is_err())
    );
}

/// `added_retained_size` against a naive definition: walk each new object's dominator chain.
#[test]
fn added_retained_size_counts_each_object_once() {
    for name in ["ssr-di-leak", "cache-growth"] {
        let p = pair(name);
        let a = &p.after;
        for row in p.comparison.classes.iter().filter(|c| c.added_count >= 100) {
            let new: BTreeSet<u32> = row.added.iter().copied().collect();
            let mut expected = 0u64;
            for &n in &row.added {
                let mut d = n;
                let mut dominated = false;
                loop {
                    let up = a.analysis.dominator[d as usize];
                    if up == d || d == a.snapshot.root {
                        break;
                    }
                    if new.contains(&up) {
                        dominated = true;
                        break;
                    }
                    d = up;
                }
                if !dominated {
                    expected += a.analysis.retained(n);
                }
            }
            assert_eq!(row.added_retained_size, expected, "{name}: {}", row.name);
            assert!(row.added_retained_size >= row.added_size || row.added_size == 0);
        }
    }
}

#[test]
fn final_snapshot_keeps_only_survivors() {
    let p = pair("ssr-di-leak");
    // FINAL = AFTER: every new object survives; nothing changes.
    let same = diff::compare(&p.before, &p.after, Some(&p.after));
    assert!(same.with_final);
    let names = |c: &Comparison| -> Vec<(String, u64)> {
        c.suspects
            .iter()
            .map(|s| (s.name.clone(), s.added_count))
            .collect()
    };
    assert_eq!(names(&same), names(&p.comparison));
    // FINAL = BEFORE: no object new in AFTER exists there, so nothing can leak; the
    // Comparison rows stay DevTools'.
    let gone = diff::compare(&p.before, &p.after, Some(&p.before));
    assert!(gone.suspects.is_empty(), "{:?}", names(&gone));
    assert_eq!(gone.totals, p.comparison.totals);
}

#[test]
fn json_shape() {
    let p = pair("ssr-di-leak");
    let v = serde_json::to_value(&p.comparison).expect("serialize");
    let row = &v["classes"][0];
    let keys: BTreeSet<&str> = row
        .as_object()
        .expect("row")
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "class_key",
            "name",
            "added_count",
            "removed_count",
            "count_delta",
            "added_size",
            "removed_size",
            "size_delta",
            "added_retained_size"
        ])
    );
    let s = &v["suspects"][0];
    let keys: BTreeSet<&str> = s
        .as_object()
        .expect("suspect")
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "class_key",
            "name",
            "added_count",
            "added_retained_size",
            "paths"
        ])
    );
    let step = &s["paths"][0]["steps"][0];
    assert!(
        step["edge_type"].is_string()
            && step["edge_name"].is_string()
            && step["class_name"].is_string()
    );
    assert!(s["paths"][0]["count"].is_u64() && s["paths"][0]["retained_size"].is_u64());
    assert!(v["totals"]["size_delta"].is_i64());
}

//! The command line as a contract: subcommands, JSON fields, exit codes and error lines.

mod common;

use std::process::{Command, Output};

fn heapdiff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_heapdiff"))
        .args(args)
        .output()
        .expect("run heapdiff")
}

fn path(name: &str) -> String {
    common::fixture(name).to_string_lossy().into_owned()
}

#[test]
fn summary_json_has_every_reference_row() {
    for name in common::SNAPSHOTS {
        let out = heapdiff(&["summary", &path(name), "--format", "json"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mine: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let reference = common::reference(&common::summary_reference(name));
        assert_eq!(mine["file"], format!("{name}.gz"));
        assert_eq!(
            mine["node_count"], reference["snapshot"]["nodeCount"],
            "{name}"
        );
        assert_eq!(
            mine["edge_count"], reference["snapshot"]["edgeCount"],
            "{name}"
        );
        assert_eq!(
            mine["total_size"], reference["snapshot"]["totalSize"],
            "{name}"
        );
        let rows = mine["classes"].as_array().expect("classes");
        let expected = reference["classes"].as_array().expect("reference classes");
        assert_eq!(rows.len(), expected.len(), "{name}: row count");
        for (r, e) in rows.iter().zip(expected) {
            assert_eq!(r["class_key"], e["classKey"], "{name}");
            assert_eq!(r["name"], e["name"], "{name}");
            assert_eq!(r["count"], e["count"], "{name} {}", e["name"]);
            assert_eq!(r["self_size"], e["self"], "{name} {}", e["name"]);
            assert_eq!(r["retained_size"], e["maxRet"], "{name} {}", e["name"]);
            assert_eq!(r["distance"], e["distance"], "{name} {}", e["name"]);
        }
    }
    common::compared_references("cli: summary_json_has_every_reference_row");
}

#[test]
fn gzip_gives_the_same_summary_as_the_plain_file() {
    let plain = heapdiff(&[
        "summary",
        &common::data_dir()
            .join("tiny.heapsnapshot")
            .to_string_lossy(),
        "--format",
        "json",
    ]);
    let gz = heapdiff(&["summary", &path("tiny.heapsnapshot"), "--format", "json"]);
    let mut a: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    let mut b: serde_json::Value = serde_json::from_slice(&gz.stdout).unwrap();
    a["file"] = serde_json::Value::Null;
    b["file"] = serde_json::Value::Null;
    assert_eq!(a, b);
}

#[test]
fn broken_files_exit_2_with_one_line_naming_file_and_defect() {
    for entry in std::fs::read_dir(common::data_dir().join("broken")).unwrap() {
        let file = entry.unwrap().path();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let start = std::time::Instant::now();
        let out = heapdiff(&["summary", &file.to_string_lossy()]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(
            stderr.starts_with(&format!("heapdiff: {name}: ")),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
        assert!(
            start.elapsed().as_secs() < 2,
            "{name} took {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(heapdiff(&["summary"]).status.code(), Some(2));
    assert_eq!(
        heapdiff(&["summary", "x", "--format", "yaml"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        heapdiff(&["diff", "a", "b", "--fail-on", "nothreshold"])
            .status
            .code(),
        Some(2)
    );
    let help = heapdiff(&["--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("Exit codes"));
}

/// Flattens a retainer tree depth-first into comparable tuples.
fn flatten(
    items: &[serde_json::Value],
    ours: bool,
    depth: usize,
    out: &mut Vec<(usize, String, String, u64, i64, bool)>,
) {
    for it in items {
        let (node, children) = if ours {
            (
                &it["node"],
                it["retainers"].as_array().cloned().unwrap_or_default(),
            )
        } else {
            (
                &it["retainer"],
                it["retainers"]["items"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            )
        };
        let (ty, name) = if ours {
            ("edge_type", "edge_name")
        } else {
            ("edgeType", "edgeName")
        };
        out.push((
            depth,
            it[ty].as_str().unwrap_or_default().to_string(),
            it[name].as_str().unwrap_or_default().to_string(),
            node["id"].as_u64().unwrap_or_default(),
            node["distance"].as_i64().unwrap_or_default(),
            it["cycled"].as_bool().unwrap_or(false),
        ));
        flatten(&children, ours, depth + 1, out);
    }
}

#[test]
fn retainers_match_devtools_pane_and_dominator_chain() {
    let reference = common::reference(common::RETAINERS_REFERENCE);
    let id = reference["node"]["id"].as_u64().unwrap().to_string();
    let out = heapdiff(&[
        "retainers",
        &path("ssr-di-leak.after.heapsnapshot"),
        "--id",
        &id,
        "--depth",
        "8",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mine: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(mine["node"]["class_name"], "ChildContainer");
    assert_eq!(
        mine["node"]["retained_size"],
        reference["node"]["retainedSize"]
    );
    assert_eq!(mine["node"]["distance"], reference["node"]["distance"]);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    flatten(mine["retainers"].as_array().unwrap(), true, 0, &mut a);
    flatten(
        reference["retainers"]["items"].as_array().unwrap(),
        false,
        0,
        &mut b,
    );
    assert_eq!(a.len(), b.len());
    assert_eq!(a, b);
    assert!(a.iter().any(|r| r.5), "the reference has cycled rows");
    let chain: Vec<u64> = mine["dominator_chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = reference["dominatorChain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["nodeId"].as_u64().unwrap())
        .collect();
    assert_eq!(chain, expected);
    // The shortest path climbs one distance step at a time to a GC root.
    let steps = mine["shortest_path"].as_array().unwrap();
    let start = mine["node"]["distance"].as_i64().unwrap();
    for (i, step) in steps.iter().enumerate() {
        assert_eq!(
            step["node"]["distance"].as_i64().unwrap(),
            start - 1 - i as i64
        );
    }
    let names: Vec<&str> = steps
        .iter()
        .map(|s| s["edge_name"].as_str().unwrap())
        .collect();
    for needle in ["container", "config", "_events", "bus"] {
        assert!(names.contains(&needle), "{needle} in {names:?}");
    }
    let missing = heapdiff(&["retainers", &path("tiny.heapsnapshot"), "--id", "424242"]);
    assert_eq!(missing.status.code(), Some(2));
    common::compared_references("cli: retainers_match_devtools_pane_and_dominator_chain");
}

/// No line of `diff`'s terminal table is wider than the width it lays out for (100 columns
/// when stdout is not a terminal), nor a Markdown line wider than its page (100).
#[test]
fn diff_table_and_markdown_lines_fit_their_width() {
    for pair in [
        "ssr-di-leak",
        "no-leak-control",
        "cache-growth",
        "listener-closure",
        "detached-dom",
    ] {
        let (before, after) = (
            path(&format!("{pair}.before.heapsnapshot")),
            path(&format!("{pair}.after.heapsnapshot")),
        );
        for (format, width) in [("table", 100), ("md", 100)] {
            let out = heapdiff(&["diff", &before, &after, "--format", format]);
            assert_eq!(out.status.code(), Some(0));
            let text = String::from_utf8_lossy(&out.stdout);
            for line in text.lines() {
                // Markdown tables are data, not prose: a renderer lays them out.
                if format == "md" && line.starts_with('|') {
                    continue;
                }
                assert!(
                    line.chars().count() <= width,
                    "{pair} {format}: {} columns: {line}",
                    line.chars().count()
                );
            }
        }
    }
}

#[test]
fn diff_thresholds_drive_the_exit_code() {
    let leak = [
        path("ssr-di-leak.before.heapsnapshot"),
        path("ssr-di-leak.after.heapsnapshot"),
    ];
    let control = [
        path("no-leak-control.before.heapsnapshot"),
        path("no-leak-control.after.heapsnapshot"),
    ];
    let run = |pair: &[String; 2], extra: &[&str]| {
        let mut args = vec![
            "diff",
            pair[0].as_str(),
            pair[1].as_str(),
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        heapdiff(&args)
    };
    let out = run(&leak, &["--fail-on", "ChildContainer>0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ChildContainer grew by 1000"));
    assert_eq!(
        run(&control, &["--fail-on", "ChildContainer>0"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(&leak, &["--fail-on", "ChildContainer>1000"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(run(&leak, &["--max-growth", "1MB"]).status.code(), Some(1));
    assert_eq!(run(&leak, &["--max-growth", "1GiB"]).status.code(), Some(0));
    // The likely leak group retains about 2.4 MB; the control pair has no likely group.
    let out = run(&leak, &["--fail-on-leak", "1MB"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a likely leak retains") && stderr.contains("bus._events.config"),
        "{stderr}"
    );
    assert_eq!(
        run(&leak, &["--fail-on-leak", "3MB"]).status.code(),
        Some(0)
    );
    assert_eq!(
        run(&control, &["--fail-on-leak", "0"]).status.code(),
        Some(0)
    );
    let bad = heapdiff(&[
        "diff",
        &leak[0],
        &common::data_dir()
            .join("broken/truncated.heapsnapshot")
            .to_string_lossy(),
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn diff_json_has_the_documented_shape() {
    let out = heapdiff(&[
        "diff",
        &path("ssr-di-leak.before.heapsnapshot"),
        &path("ssr-di-leak.after.heapsnapshot"),
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for side in ["before", "after"] {
        for field in ["file", "node_count", "edge_count", "total_size"] {
            assert!(!v[side][field].is_null(), "{side}.{field}");
        }
    }
    let reference = common::reference("ssr-di-leak.diff.json");
    for (ours, theirs) in [
        ("added_count", "addedCount"),
        ("removed_count", "removedCount"),
        ("count_delta", "countDelta"),
        ("added_size", "addedSize"),
        ("removed_size", "removedSize"),
        ("size_delta", "sizeDelta"),
    ] {
        assert_eq!(v["totals"][ours], reference["totals"][theirs], "{ours}");
    }
    let row = &v["classes"][0];
    for field in [
        "class_key",
        "name",
        "added_count",
        "removed_count",
        "count_delta",
        "added_size",
        "removed_size",
        "size_delta",
        "added_retained_size",
    ] {
        assert!(!row[field].is_null(), "classes[].{field}");
    }
    let suspect = &v["suspects"][0];
    for field in [
        "class_key",
        "name",
        "added_count",
        "added_retained_size",
        "paths",
    ] {
        assert!(!suspect[field].is_null(), "suspects[].{field}");
    }
    let step = &suspect["paths"][0]["steps"][0];
    for field in ["edge_type", "edge_name", "class_name"] {
        assert!(!step[field].is_null(), "steps[].{field}");
    }
    assert!(suspect["paths"][0]["count"].as_u64().unwrap() > 0);
    assert_eq!(v["version"], 2);
    // The leak groups, as issue #12 documents them.
    let leak = &v["leaks"][0];
    for field in [
        "likely",
        "roots",
        "new_count",
        "retained_size",
        "sentence",
        "entry",
        "holder",
        "composition",
        "path",
        "example",
    ] {
        assert!(!leak[field].is_null(), "leaks[].{field}");
    }
    for field in ["class_name", "name", "class_key", "location"] {
        assert!(!leak["entry"][field].is_null(), "leaks[].entry.{field}");
    }
    for field in [
        "id",
        "class_name",
        "name",
        "edge_type",
        "edge_name",
        "edges_before",
        "edges_after",
    ] {
        assert!(!leak["holder"][field].is_null(), "leaks[].holder.{field}");
    }
    for field in ["class_key", "name", "count", "self_size"] {
        assert!(
            !leak["composition"][0][field].is_null(),
            "composition[].{field}"
        );
    }
    assert!(leak["composition"][0].get("location").is_some());
    for field in ["edge_type", "edge_name", "class_name", "repeat"] {
        assert!(
            !leak["path"]["steps"][0][field].is_null(),
            "path.steps[].{field}"
        );
    }
    assert!(leak["path"]["count"].as_u64().unwrap() > 0);
    for field in ["id", "name"] {
        assert!(!leak["example"][field].is_null(), "leaks[].example.{field}");
    }
    assert_eq!(leak["entry"]["location"]["line"], 39);
    common::compared_references("cli: diff_json_has_the_documented_shape");
}

//! Snapshots of other runtimes and V8 versions, and the quirks heapdiff names as warnings.
//!
//! Node snapshots are made here, by the Node on the machine (`tests/data/gen/*.js`); those of
//! runtimes CI lacks are committed under `tests/data/runtimes/` (made by the same generators
//! with Node 8.17 and Bun 1.2/1.4; see `tests/data/gen/README.md`), each with its DevTools
//! reference.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use heapdiff::loaded::Loaded;
use heapdiff::pipeline::{self, PairPaths};
use heapdiff::snapshot::{self, LoadErrorKind};
use heapdiff::task::Hooks;

fn runtime(name: &str) -> PathBuf {
    common::data_file(&format!("runtimes/{name}"))
}

fn generator(name: &str) -> PathBuf {
    common::data_dir().join("gen").join(name)
}

/// A fresh directory under the system's temporary one, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("heapdiff-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `node --expose-gc tests/data/gen/inspector-snapshot.js DIR/PREFIX ARGS…`.
fn node_snapshots(dir: &Path, prefix: &str, args: &[&str]) {
    let out = Command::new("node")
        .arg("--expose-gc")
        .arg(generator("inspector-snapshot.js"))
        .arg(dir.join(prefix))
        .args(args)
        .output()
        .expect("node runs (Node is on every machine this project tests on)");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn heapdiff(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_heapdiff"))
        .args(args)
        .output()
        .expect("run heapdiff")
}

/// The 1-based line of the first line of `file` that contains `needle`.
fn line_of(file: &Path, needle: &str) -> u32 {
    let text = std::fs::read_to_string(file).expect("generator source");
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u32 + 1)
        .unwrap_or_else(|| panic!("{needle:?} not in {}", file.display()))
}

/// The first `object` node of class `class`.
fn first_of_class(loaded: &Loaded, class: &str) -> u32 {
    (0..loaded.snapshot.node_count() as u32)
        .find(|&n| {
            loaded.classes.name_of(n) == class
                && loaded.snapshot.node_kind(n) == heapdiff::snapshot::NodeKind::Object
        })
        .unwrap_or_else(|| panic!("no {class} object"))
}

#[test]
fn tracked_node_snapshots_give_allocation_stacks_naming_the_allocating_function_and_file() {
    let scratch = Scratch::new("tracked");
    node_snapshots(&scratch.0, "tracked", &["--track", "--pair"]);
    let (before, after) = (
        scratch.0.join("tracked.before.heapsnapshot"),
        scratch.0.join("tracked.after.heapsnapshot"),
    );
    let script = generator("inspector-snapshot.js");
    let plant_line = line_of(&script, "function plantLeak(");

    let compared = pipeline::compare_files(
        PairPaths {
            before: &before,
            after: &after,
            final_: None,
        },
        Default::default(),
    )
    .expect("the tracked pair opens");
    let after_loaded = &compared.after;
    let leak = first_of_class(after_loaded, "PlantedLeak");
    let stack = heapdiff::analysis::allocation::allocation_stack(
        &after_loaded.snapshot,
        &after_loaded.scripts,
        leak,
    );
    let top = stack
        .first()
        .expect("a PlantedLeak has an allocation stack");
    assert_eq!(top.function, "plantLeak");
    assert!(
        top.script.ends_with("inspector-snapshot.js"),
        "{}",
        top.script
    );
    assert_eq!(top.line, plant_line, "V8's line of the function, 1-based");
    assert!(top.column > 0);
    assert_eq!(stack.last().map(|f| f.function.as_str()), Some("(root)"));

    // The leak group says where its objects were made.
    let group = compared
        .comparison
        .leaks
        .iter()
        .find(|g| g.likely && g.headline == "PlantedLeak")
        .expect("the planted leak is found");
    let site = group.allocation_site.as_ref().expect("an allocation site");
    assert_eq!(
        (site.function.as_str(), site.line, site.count),
        ("plantLeak", plant_line, 200)
    );

    // Node 18–26 write the header's trace_function_count before serialising, which runs more
    // functions: the count is short, and heapdiff says what it corrected.
    let mut mismatched = 0;
    for (path, loaded) in [(&before, &compared.before), (&after, after_loaded)] {
        let raw: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).expect("read")).expect("JSON");
        let header = raw["snapshot"]["trace_function_count"].as_u64().unwrap();
        let held = raw["trace_function_infos"].as_array().unwrap().len() as u64 / 6;
        let warned = loaded.warnings().iter().any(|w| {
            w.contains(&format!(
                "trace_function_count is {header} but trace_function_infos lists {held} functions"
            ))
        });
        assert_eq!(warned, header != held, "{:?}", loaded.warnings());
        mismatched += usize::from(header != held);
    }
    assert!(mismatched > 0, "in-process tracking writes a short count");
    assert!(
        compared
            .comparison
            .warnings
            .iter()
            .any(|w| w.contains("trace_function_count"))
    );

    // The CLI: the stack in the retainers JSON, the warning on stderr and in the JSON.
    let id = after_loaded.snapshot.node_id[leak as usize].to_string();
    let out = heapdiff(&[
        "retainers".as_ref(),
        after.as_os_str(),
        "--id".as_ref(),
        id.as_ref(),
        "--depth".as_ref(),
        "1".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let frame = &json["node"]["allocation_stack"][0];
    assert_eq!(frame["function"], "plantLeak");
    assert_eq!(frame["line"], plant_line);
    assert!(json["warnings"].is_array());
    let diff = heapdiff(&[
        "diff".as_ref(),
        before.as_os_str(),
        after.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    let findings: serde_json::Value = serde_json::from_slice(&diff.stdout).expect("JSON");
    let stderr = String::from_utf8_lossy(&diff.stderr);
    let warnings = findings["warnings"].as_array().expect("warnings");
    assert!(!warnings.is_empty());
    for w in warnings {
        let line = format!("heapdiff: warning: {}", w.as_str().unwrap());
        assert!(stderr.lines().any(|l| l == line), "{line} on stderr");
    }
    assert_eq!(
        findings["leaks"][0]["allocation_site"]["function"],
        "plantLeak"
    );
}

/// The tracked snapshot's text with its `trace_tree` value replaced.
fn with_trace_tree(text: &str, tree: &str) -> String {
    let start = text.find("\"trace_tree\":").expect("trace_tree") + "\"trace_tree\":".len();
    let end = start + text[start..].find("\"samples\"").expect("samples");
    let end = start + text[start..end].rfind(',').expect("comma");
    format!("{}{tree}{}", &text[..start], &text[end..])
}

#[test]
fn hostile_trace_trees_cost_the_stacks_not_the_snapshot() {
    let scratch = Scratch::new("hostile-traces");
    node_snapshots(&scratch.0, "t", &["--track"]);
    let text = std::fs::read_to_string(scratch.0.join("t.heapsnapshot")).expect("read");
    let deep = format!(
        "[1,0,1,1,{}{}]",
        "[1,0,1,1,".repeat(100_000),
        "[]]".repeat(100_000)
    );
    let cases = [
        (deep.as_str(), "nests deeper than 1024 levels"),
        ("[1,999999,1,1,[]]", "past the"),
        ("[1,0,1,1,\"x\"]", "children are not a list"),
        ("[1,0,1]", "cut short"),
        ("[1,0,1,1,[],{\"a\":[1]}]", "in the tree"),
    ];
    for (tree, why) in cases {
        let bytes = with_trace_tree(&text, tree);
        let snap = snapshot::load_bytes("t.heapsnapshot", bytes.as_bytes(), &Hooks::default())
            .unwrap_or_else(|e| panic!("{why}: {e}"));
        assert!(
            snap.warnings
                .iter()
                .any(|w| w.contains("allocation traces are unusable") && w.contains(why)),
            "{why}: {:?}",
            snap.warnings
        );
        assert!(snap.node_trace_id.is_empty() && snap.traces.is_empty());
    }
    // A tree cut off by the end of the file is a broken file.
    let cut = &text[..text.find("\"trace_tree\":").unwrap() + 20];
    let err = snapshot::load_bytes("t.heapsnapshot", cut.as_bytes(), &Hooks::default())
        .expect_err("truncated");
    assert!(matches!(err.kind, LoadErrorKind::Truncated { .. }), "{err}");
}

#[test]
fn node_8_symbols_one_past_the_type_list_load_as_devtools_counts_them() {
    let path = runtime("node-8.heapsnapshot");
    let loaded = pipeline::open_one(&path, Hooks::default()).expect("Node 8 loads");
    let warnings = loaded.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("node-8.heapsnapshot.gz: ")
            && warnings[0].contains("node type 12, one past the 12 types")
            && warnings[0].contains("(undefined)"),
        "{}",
        warnings[0]
    );
    let reference = common::reference("node-8.summary.json");
    let rows = loaded.summary();
    let mine: std::collections::BTreeMap<&str, _> = rows
        .iter()
        .map(|r| {
            (
                r.class_key.as_str(),
                (
                    r.name.as_str(),
                    r.count,
                    r.self_size,
                    r.retained_size,
                    r.distance,
                ),
            )
        })
        .collect();
    let theirs: std::collections::BTreeMap<&str, _> = reference["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["classKey"].as_str().unwrap(),
                (
                    c["name"].as_str().unwrap(),
                    c["count"].as_u64().unwrap(),
                    c["self"].as_u64().unwrap(),
                    c["maxRet"].as_u64(),
                    c["distance"].as_i64(),
                ),
            )
        })
        .collect();
    assert_eq!(mine, theirs);
    assert!(mine.contains_key(",(undefined)") && mine.contains_key(",PlantedLeak"));
    assert_eq!(
        loaded.total_size(),
        reference["snapshot"]["totalSize"].as_u64().unwrap()
    );

    // Only exactly one past a list without "symbol" is the quirk.
    let text = String::from_utf8(common::read_data(&path)).expect("UTF-8");
    let nodes = text.find("\"nodes\":[").unwrap() + "\"nodes\":[".len();
    let thirteen = format!("{}13{}", &text[..nodes], &text[nodes + 1..]);
    let err = snapshot::load_bytes("n8", thirteen.as_bytes(), &Hooks::default())
        .expect_err("type 13 is corrupt");
    assert!(
        err.to_string()
            .ends_with("node 0: unknown node type 13 (meta lists 12)"),
        "{err}"
    );
    let tiny = String::from_utf8(common::read_data(&common::fixture("tiny.heapsnapshot"))).unwrap();
    let sixteen = tiny.replacen("\"nodes\":[9,", "\"nodes\":[16,", 1);
    let err = snapshot::load_bytes("tiny", sixteen.as_bytes(), &Hooks::default())
        .expect_err("one past a list that has symbol is corrupt");
    assert!(
        err.to_string()
            .contains("unknown node type 16 (meta lists 16)")
    );
    common::compared_references("runtimes: node_8_symbols_one_past_the_type_list");
}

#[test]
fn an_id_disjoint_pair_warns_that_the_comparison_cannot_match_objects() {
    // Bun 1.4 renumbers every object in every snapshot.
    let (before, after) = (
        runtime("bun-1.4.before.heapsnapshot"),
        runtime("bun-1.4.after.heapsnapshot"),
    );
    let compared = pipeline::compare_files(
        PairPaths {
            before: &before,
            after: &after,
            final_: None,
        },
        Default::default(),
    )
    .expect("the Bun pair opens");
    let c = &compared.comparison;
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(c.warnings[0].contains(
        "the Comparison cannot match objects; every object looks new: only 0 of BEFORE's 3,929"
    ));
    // The rows are still DevTools' rows.
    let reference = common::reference("bun-1.4.diff.json");
    let t = &reference["totals"];
    assert_eq!(
        (
            c.totals.added_count,
            c.totals.removed_count,
            c.totals.added_size
        ),
        (
            t["addedCount"].as_u64().unwrap(),
            t["removedCount"].as_u64().unwrap(),
            t["addedSize"].as_u64().unwrap()
        )
    );
    let mine: std::collections::BTreeMap<&str, (u64, u64, u64, u64)> = c
        .classes
        .iter()
        .map(|r| {
            (
                r.class_key.as_str(),
                (r.added_count, r.removed_count, r.added_size, r.removed_size),
            )
        })
        .collect();
    let theirs: std::collections::BTreeMap<&str, (u64, u64, u64, u64)> = reference["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["classKey"].as_str().unwrap(),
                (
                    r["addedCount"].as_u64().unwrap(),
                    r["removedCount"].as_u64().unwrap(),
                    r["addedSize"].as_u64().unwrap(),
                    r["removedSize"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(mine, theirs);
    // One process's snapshots match: no such warning on any fixture pair.
    for pair in common::PAIRS {
        let b = common::fixture(&format!("{pair}.before.heapsnapshot"));
        let a = common::fixture(&format!("{pair}.after.heapsnapshot"));
        let compared = pipeline::compare_files(
            PairPaths {
                before: &b,
                after: &a,
                final_: None,
            },
            Default::default(),
        )
        .expect("fixture pair");
        assert_eq!(compared.comparison.warnings, Vec::<String>::new(), "{pair}");
    }
    common::compared_references("runtimes: an_id_disjoint_pair_warns");
}

#[test]
fn a_javascriptcore_snapshot_is_refused_with_the_v8_call_to_use() {
    let err = snapshot::load(&runtime("bun-1.2.jsc.heapsnapshot"), &Hooks::default())
        .expect_err("JavaScriptCore's format is not V8's");
    let text = err.to_string();
    assert!(
        text.starts_with("bun-1.2.jsc.heapsnapshot.gz: ")
            && text.contains("JavaScriptCore")
            && text.contains("Bun.generateHeapSnapshot(\"v8\")"),
        "{text}"
    );
    // Its start, as Bun writes it, is enough to tell.
    let head = br#"{"version":2,"type":"Inspector","nodes":[0,0,0,0"#;
    let err = snapshot::load_bytes("jsc", head, &Hooks::default()).expect_err("refused");
    assert!(err.to_string().contains("Bun.generateHeapSnapshot(\"v8\")"));
}

#[test]
fn unknown_types_and_sections_are_kept_as_devtools_keeps_them_and_named() {
    let tiny = String::from_utf8(common::read_data(&common::fixture("tiny.heapsnapshot"))).unwrap();
    let plain = snapshot::load_bytes("tiny", tiny.as_bytes(), &Hooks::default()).unwrap();
    assert!(plain.warnings.is_empty(), "{:?}", plain.warnings);
    // A newer V8's node type (renaming "regexp", which tiny does not use, and giving it one
    // node), edge type and section.
    let newer = tiny
        .replacen("\"regexp\"", "\"future object\"", 1)
        .replacen("\"shortcut\"", "\"future edge\"", 1)
        .replacen(
            "\"nodes\":[9,0,1,0,2,0,0,9,2,3,0,1,0,0,3,",
            "\"nodes\":[9,0,1,0,2,0,0,9,2,3,0,1,0,0,6,",
            1,
        )
        .replacen("\"edges\":[1,1,7,", "\"edges\":[5,1,7,", 1)
        .replacen(
            "\"strings\":",
            "\"future_section\":[[1],{\"a\":2}],\"strings\":",
            1,
        );
    let snap = snapshot::load_bytes("newer", newer.as_bytes(), &Hooks::default()).unwrap();
    let w = &snap.warnings;
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(w[0].contains("1 nodes have node type \"future object\""));
    assert!(w[0].contains("class (future object)"));
    assert!(
        w[1].contains("2 edges have edge type \"future edge\""),
        "{w:?}"
    );
    assert!(w[2].contains("section \"future_section\" is new to heapdiff"));
    let loaded = Loaded::analyze(snap, Hooks::default(), None).unwrap();
    assert!(
        (0..loaded.snapshot.node_count() as u32)
            .any(|n| loaded.classes.name_of(n) == "(future object)")
    );
}

#[test]
fn extra_native_bytes_show_beside_the_totals_and_their_change() {
    let scratch = Scratch::new("native");
    let tiny = String::from_utf8(common::read_data(&common::fixture("tiny.heapsnapshot"))).unwrap();
    let native = |n: u64| {
        tiny.replacen(
            "\"trace_function_count\":0",
            &format!("\"trace_function_count\":0,\"extra_native_bytes\":{n}"),
            1,
        )
    };
    let (b, a) = (
        scratch.0.join("b.heapsnapshot"),
        scratch.0.join("a.heapsnapshot"),
    );
    std::fs::write(&b, native(1_000_000)).unwrap();
    std::fs::write(&a, native(3_500_000)).unwrap();
    let out = heapdiff(&[
        "summary".as_ref(),
        a.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["extra_native_bytes"], 3_500_000);
    assert_eq!(json["warnings"], serde_json::json!([]));
    let table = heapdiff(&["summary".as_ref(), a.as_os_str()]);
    assert!(
        String::from_utf8_lossy(&table.stdout)
            .lines()
            .next()
            .unwrap()
            .ends_with("(+ 3.3 MiB outside the V8 heap)")
    );
    let diff = heapdiff(&[
        "diff".as_ref(),
        b.as_os_str(),
        a.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    let f: serde_json::Value = serde_json::from_slice(&diff.stdout).unwrap();
    assert_eq!(f["before"]["extra_native_bytes"], 1_000_000);
    assert_eq!(f["after"]["extra_native_bytes"], 3_500_000);
    assert_eq!(f["totals"]["extra_native_bytes_delta"], 2_500_000);
    let md = heapdiff(&[
        "diff".as_ref(),
        b.as_os_str(),
        a.as_os_str(),
        "--format".as_ref(),
        "md".as_ref(),
    ]);
    assert!(String::from_utf8_lossy(&md.stdout).contains("; outside the V8 heap +2.4 MiB"));
    // Files without the field print nothing new.
    let plain = heapdiff(&[
        "summary".as_ref(),
        common::fixture("tiny.heapsnapshot").as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    let json: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(json.get("extra_native_bytes").is_none());
}

#[test]
fn chromium_script_object_index_names_the_scripts() {
    // The Chromium fixture's locations carry `script_object_index`: the Script node itself,
    // `system / Script / <url>`, which no closure path leads to by name.
    let loaded = pipeline::open_one(
        &common::fixture("detached-dom.after.heapsnapshot"),
        Hooks::default(),
    )
    .expect("fixture loads");
    let s = &loaded.snapshot;
    assert!(!s.script_objects.is_empty());
    let named: Vec<&str> = s
        .script_objects
        .iter()
        .map(|&(id, _)| loaded.scripts.name(s, id))
        .filter(|n| !n.is_empty())
        .collect();
    assert!(
        named
            .iter()
            .any(|n| n.starts_with("http://127.0.0.1:") && n.ends_with("/static/board.js")),
        "{named:?}"
    );
    // Where closures also lead to a script, both name the same one.
    let mut without = snapshot::load(
        &common::fixture("detached-dom.after.heapsnapshot"),
        &Hooks::default(),
    )
    .unwrap();
    without.script_objects.clear();
    let by_closure = heapdiff::analysis::scripts::ScriptNames::new(&without);
    for &(id, _) in &s.script_objects {
        let other = by_closure.name(&without, id);
        assert!(
            other.is_empty() || other == loaded.scripts.name(s, id),
            "{id}"
        );
    }
}

#[test]
fn chromium_scope_tables_tell_which_context_variables_no_live_function_uses() {
    // `makeHandler` keeps `payload` and `label` in one Context; only `onEvent` closures (which
    // use `label`) live, so each of the 20 Contexts keeps `payload` for nobody.
    let path = runtime("chromium-156.contexts.heapsnapshot");
    let loaded = pipeline::open_one(&path, Hooks::default()).expect("Chromium 156 loads");
    assert!(loaded.warnings().is_empty(), "{:?}", loaded.warnings());
    let s = &loaded.snapshot;
    assert!(!s.scopes.is_empty());
    let analysis = heapdiff::analysis::contexts::ContextAnalysis::new(s);
    let mut dead = std::collections::BTreeSet::new();
    for node in 0..s.node_count() as u32 {
        for f in analysis.fields(s, node) {
            if f.used == Some(false) {
                dead.insert((
                    u64::from(s.node_id[node as usize]),
                    f.name,
                    u64::from(s.node_id[f.value as usize]),
                ));
            }
        }
    }
    let reference = common::reference("chromium-156.contexts.analysis.json");
    let mut theirs = std::collections::BTreeSet::new();
    for scope in reference["scopes"].as_array().unwrap() {
        for context in scope["contexts"].as_array().unwrap() {
            for f in context["deadFields"].as_array().unwrap() {
                theirs.insert((
                    context["contextNodeId"].as_u64().unwrap(),
                    f["name"].as_str().unwrap().to_string(),
                    f["valueNodeId"].as_u64().unwrap(),
                ));
            }
        }
    }
    assert_eq!(dead, theirs);
    assert_eq!(dead.len(), 20);
    assert!(dead.iter().all(|(_, name, _)| name == "payload"));

    // The Retainers report of an `onEvent` closure lists its Context's variables.
    let closure = (0..s.node_count() as u32)
        .find(|&n| {
            s.node_kind(n) == heapdiff::snapshot::NodeKind::Closure && s.node_name(n) == "onEvent"
        })
        .expect("an onEvent closure");
    let id = s.node_id[closure as usize].to_string();
    let out = heapdiff(&[
        "retainers".as_ref(),
        path.as_os_str(),
        "--id".as_ref(),
        id.as_ref(),
        "--depth".as_ref(),
        "1".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let vars: Vec<(&str, bool)> = json["node"]["context_variables"]
        .as_array()
        .expect("context variables")
        .iter()
        .map(|v| (v["name"].as_str().unwrap(), v["used"].as_bool().unwrap()))
        .collect();
    assert_eq!(vars, [("payload", false), ("label", true)]);
    let table = heapdiff(&[
        "retainers".as_ref(),
        path.as_os_str(),
        "--id".as_ref(),
        id.as_ref(),
        "--depth".as_ref(),
        "1".as_ref(),
    ]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("  payload = Array @")
                && l.ends_with("(no live function uses it)")),
        "{text}"
    );
    common::compared_references("runtimes: chromium_scope_tables");
}

#[test]
fn hostile_scope_tables_cost_the_analysis_not_the_snapshot() {
    let text = String::from_utf8(common::read_data(&runtime(
        "chromium-156.contexts.heapsnapshot",
    )))
    .expect("UTF-8");
    let start = text.find("\"scopes\":[").unwrap() + "\"scopes\":[".len();
    let end = start + text[start..].find(']').unwrap();
    let mut first: Vec<String> = text[start..end].split(',').map(str::to_string).collect();
    let with_scopes =
        |values: &[String]| format!("{}{}{}", &text[..start], values.join(","), &text[end..]);
    let mut deep = first.clone();
    deep[2] = "7".into(); // the first scope's depth: it has no parents
    first[0] = "1".into(); // a script index that is no node's
    let cases = [
        (with_scopes(&deep), "nests past its parents"),
        (with_scopes(&first), "scope 0 has a value out of range"),
        (
            format!("{}1,{}", &text[..start], &text[start..]),
            "not a multiple of its fields",
        ),
    ];
    for (bytes, why) in cases {
        let snap = snapshot::load_bytes("c", bytes.as_bytes(), &Hooks::default())
            .unwrap_or_else(|e| panic!("{why}: {e}"));
        assert!(
            snap.scopes.is_empty()
                && snap
                    .warnings
                    .iter()
                    .any(|w| w.contains("scope tables are unusable") && w.contains(why)),
            "{why}: {:?}",
            snap.warnings
        );
    }
}

fn class_count(loaded: &Loaded, class: &str) -> u64 {
    loaded
        .summary()
        .iter()
        .filter(|r| r.name == class)
        .map(|r| r.count)
        .sum()
}

#[test]
fn near_heap_limit_and_worker_snapshots_load_without_warnings() {
    let scratch = Scratch::new("oom-worker");
    // A real out-of-memory snapshot: Node writes it into the working directory.
    let out = Command::new("node")
        .args([
            "--max-old-space-size=12",
            "--heapsnapshot-near-heap-limit=1",
        ])
        .arg(generator("oom.js"))
        .current_dir(&scratch.0)
        .output()
        .expect("node runs");
    let oom = std::fs::read_dir(&scratch.0)
        .expect("scratch")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "heapsnapshot"))
        .unwrap_or_else(|| panic!("no snapshot: {}", String::from_utf8_lossy(&out.stderr)));
    let loaded = pipeline::open_one(&oom, Hooks::default()).expect("the OOM snapshot loads");
    assert!(loaded.warnings().is_empty(), "{:?}", loaded.warnings());
    assert!(class_count(&loaded, "Hoarded") > 10_000);

    let worker = scratch.0.join("worker.heapsnapshot");
    let out = Command::new("node")
        .arg(generator("worker.js"))
        .arg(&worker)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let loaded = pipeline::open_one(&worker, Hooks::default()).expect("the worker's loads");
    assert!(loaded.warnings().is_empty(), "{:?}", loaded.warnings());
    assert_eq!(class_count(&loaded, "PlantedLeak"), 200);
}

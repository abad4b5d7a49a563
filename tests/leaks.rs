//! Leak groups (`diff::leaks`): one finding per planted leak in the real fixtures, none in the
//! control pair, and chained structures folded into one group with one short path.

mod common;

use heapdiff::diff::{self, Comparison, LeakGroup};
use heapdiff::loaded::Loaded;
use heapdiff::task::Hooks;
use heapdiff::testkit::graph::GraphBuilder;

use common::{Pair, pair};

fn count_of(group: &LeakGroup, class: &str) -> u64 {
    group
        .composition
        .iter()
        .filter(|p| p.name == class)
        .map(|p| p.count)
        .sum()
}

fn likely(p: &Pair) -> Vec<&LeakGroup> {
    p.comparison.leaks.iter().filter(|g| g.likely).collect()
}

#[test]
fn ssr_di_leak_is_one_group_held_by_the_bus_config_listeners() {
    let p = pair("ssr-di-leak");
    let likely = likely(p);
    assert_eq!(likely.len(), 1, "{:#?}", p.comparison.leaks.first());
    let g = likely[0];
    // ground-truth.json: ChildContainer 1000, Provider 2000, IncomingMessage 1000, all new.
    assert_eq!(count_of(g, "ChildContainer"), 1000);
    assert_eq!(count_of(g, "Provider"), 2000);
    assert_eq!(count_of(g, "IncomingMessage"), 1000);
    assert_eq!(g.headline, "ChildContainer");
    // The entries: the listener closures, located in the server's script.
    assert_eq!(g.entry.class_name, "Function");
    assert_eq!(g.entry.name, "onConfigChange");
    let location = g.entry.location.as_ref().expect("a location");
    assert!(location.script.ends_with("ssr-di-leak.js"), "{location:?}");
    assert_eq!((location.line, location.column), (39, 26));
    // The holder is the `config` listener array of the bus, grown by exactly 1,000.
    let holder = g.holder.as_ref().expect("a holder");
    assert_eq!(holder.class_name, "Array");
    assert_eq!(holder.edge_type, "element");
    assert_eq!(holder.edge_name, "[]");
    assert_eq!(holder.edges_before, Some(203));
    assert_eq!(holder.edges_after, 1203);
    assert_eq!(g.expression, "bus._events.config");
    let names: Vec<&str> = g.path.steps.iter().map(|s| s.edge_name.as_str()).collect();
    assert_eq!(&names[..3], ["config", "_events", "bus"], "{names:?}");
    assert!(g.path.steps.len() <= 40);
    // What it keeps alive, counted once: the entries' retained sizes.
    let retained: u64 = g
        .entries
        .iter()
        .map(|&e| p.after.analysis.retained(e))
        .sum();
    assert_eq!(g.retained_size, retained);
    assert!(g.retained_size > 2_000_000, "{}", g.retained_size);
    assert!(
        g.sentence.starts_with(
            "1,000 `onConfigChange` closures created at ssr-di-leak.js:39:26 were added to \
             `bus._events.config` and never removed; they keep 2.3 MiB alive: 1,000 \
             ChildContainer, 2,000 Provider, 1,000 IncomingMessage"
        ),
        "{}",
        g.sentence
    );
}

#[test]
fn cache_growth_leads_with_the_map_of_query_results() {
    let p = pair("cache-growth");
    let first = p.comparison.leaks.first().expect("a group");
    assert!(first.likely);
    assert_eq!(count_of(first, "QueryResult"), 1500);
    assert_eq!(first.headline, "QueryResult");
    let holder = first.holder.as_ref().expect("a holder");
    assert_eq!(holder.class_name, "Map");
    assert_eq!(first.expression, "cache");
    // The Map's edges stay flat (it grows through its table); its retained size shows it.
    assert_eq!(holder.edges_before, Some(holder.edges_after));
    assert!(holder.retained_after > 1_400_000);
    // ResponseBuffer churns (500 freed, 100 new): it makes nothing likely on its own.
    assert!(
        likely(p)
            .iter()
            .all(|g| count_of(g, "QueryResult") > 0 || count_of(g, "ResponseBuffer") == 0),
        "{:#?}",
        likely(p)
    );
}

#[test]
fn listener_closure_leads_with_the_closures_and_their_buffers() {
    let p = pair("listener-closure");
    let first = p.comparison.leaks.first().expect("a group");
    assert!(first.likely);
    assert_eq!(first.entry.class_name, "Function");
    assert_eq!(first.headline, "Float64Array");
    // 500 planted; one widget still on the stack holds its own listener elsewhere.
    assert!(count_of(first, "Float64Array") >= 499);
    assert_eq!(first.expression, "windowEvents._events.resize");
    assert_eq!(likely(p).len(), 1);
}

#[test]
fn detached_dom_is_one_group_of_the_registry_widgets() {
    let p = pair("detached-dom");
    let first = p.comparison.leaks.first().expect("a group");
    assert!(first.likely);
    for (class, n) in [
        ("Detached <div>", 300),
        ("Detached <span>", 300),
        ("Detached <button>", 300),
        ("Detached Text", 600),
    ] {
        assert_eq!(count_of(first, class), n, "{class}");
    }
    assert!(
        first.expression.starts_with("registry[]"),
        "{}",
        first.expression
    );
    assert!(
        first
            .sentence
            .starts_with("300 `Widget` objects in `registry` still hold DOM elements"),
        "{}",
        first.sentence
    );
    assert_eq!(likely(p).len(), 1);
}

#[test]
fn the_control_pair_has_no_likely_leak() {
    let p = pair("no-leak-control");
    assert!(likely(p).is_empty(), "{:#?}", likely(p));
    assert!(
        !p.comparison.leaks.is_empty(),
        "non-likely groups are still listed"
    );
}

#[test]
fn every_group_counts_new_objects_exactly_once() {
    for name in [
        "ssr-di-leak",
        "no-leak-control",
        "cache-growth",
        "listener-closure",
        "detached-dom",
    ] {
        let p = pair(name);
        let mut seen = std::collections::HashSet::new();
        for g in &p.comparison.leaks {
            let parts: u64 = g.composition.iter().map(|c| c.count).sum();
            assert_eq!(parts, g.new_count, "{name}: composition sums to new_count");
            assert_eq!(g.roots as usize, g.entries.len(), "{name}");
            for &e in &g.entries {
                assert!(seen.insert(e), "{name}: entry {e} in two groups");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-built chains
// ---------------------------------------------------------------------------------------------

/// The root, `(GC roots)` and a user root `List` (ordinal 2, id 5), which the caller extends.
fn graph() -> GraphBuilder {
    let mut g = GraphBuilder::new();
    let gc = g.node("synthetic", "(GC roots)", 0);
    let list = g.node("object", "List", 32);
    g.edge(0, "element", "1", gc);
    g.edge(0, "shortcut", "app", list);
    g.edge(gc, "element", "1", list);
    g
}

/// BEFORE and AFTER through the same steps as `pipeline::open_pair`.
fn compare(before: GraphBuilder, after: GraphBuilder) -> (Loaded, Comparison) {
    let after_snapshot = after.build();
    let definitions = heapdiff::snapshot::class::infer_interface_definitions(&after_snapshot);
    let after =
        Loaded::analyze(after_snapshot, Hooks::default(), Some(&definitions)).expect("analysis");
    let before = Loaded::comparison_base(before.build(), Hooks::default(), Some(&definitions));
    let comparison = diff::compare(&before, &after, None);
    (after, comparison)
}

#[test]
fn a_linked_list_of_ten_thousand_new_nodes_is_one_group_with_a_short_path() {
    const N: u32 = 10_000;
    let before = graph();
    let mut after = graph();
    let mut previous = 2; // the List
    for i in 0..N {
        let node = after.node("object", "Node", 48);
        after.edge(
            previous,
            "property",
            if i == 0 { "head" } else { "next" },
            node,
        );
        previous = node;
    }
    let (_, comparison) = compare(before, after);
    let likely: Vec<&LeakGroup> = comparison.leaks.iter().filter(|g| g.likely).collect();
    assert_eq!(likely.len(), 1, "{:#?}", comparison.leaks);
    let g = likely[0];
    assert_eq!(g.roots, 1, "the first node dominates the rest");
    assert_eq!(count_of(g, "Node"), u64::from(N));
    assert!(g.path.steps.len() <= 10, "{:?}", g.path.steps);
    assert_eq!(
        g.holder.as_ref().map(|h| h.class_name.as_str()),
        Some("List")
    );
    // The class's merged paths fold the chain: one path, `next` repeated.
    let suspect = comparison
        .suspects
        .iter()
        .find(|s| s.name == "Node")
        .expect("Node is a suspect");
    assert_eq!(suspect.paths.len(), 1, "{:#?}", suspect.paths);
    let path = &suspect.paths[0];
    assert_eq!(path.count, u64::from(N));
    assert!(path.steps.len() <= 10, "{:?}", path.steps);
    let next = path
        .steps
        .iter()
        .find(|s| s.edge_name == "next")
        .expect("a next step");
    assert_eq!(next.repeat, u64::from(N) - 1);
    assert_eq!(next.class_name, "Node");
}

#[test]
fn a_ring_of_new_timers_around_an_old_list_is_one_group() {
    // Node's timer lists: a doubly linked ring through the list itself.
    const N: u32 = 1_000;
    let before = graph();
    let mut after = graph();
    let timers: Vec<u32> = (0..N)
        .map(|_| after.node("object", "Timeout", 40))
        .collect();
    let list = 2;
    for (i, &t) in timers.iter().enumerate() {
        let next = timers.get(i + 1).copied().unwrap_or(list);
        let prev = if i == 0 { list } else { timers[i - 1] };
        after.edge(t, "property", "_idleNext", next);
        after.edge(t, "property", "_idlePrev", prev);
    }
    after.edge(list, "property", "_idleNext", timers[0]);
    after.edge(list, "property", "_idlePrev", timers[N as usize - 1]);
    let (_, comparison) = compare(before, after);
    let likely: Vec<&LeakGroup> = comparison.leaks.iter().filter(|g| g.likely).collect();
    assert_eq!(likely.len(), 1, "{:#?}", comparison.leaks);
    let g = likely[0];
    assert_eq!(count_of(g, "Timeout"), u64::from(N));
    assert_eq!(
        g.holder.as_ref().map(|h| h.class_name.as_str()),
        Some("List")
    );
    assert!(g.path.steps.len() <= 10);
    let suspect = comparison
        .suspects
        .iter()
        .find(|s| s.name == "Timeout")
        .expect("Timeout is a suspect");
    assert!(suspect.paths.len() <= 2, "{:#?}", suspect.paths);
    assert!(suspect.paths.iter().all(|p| p.steps.len() <= 10));
}

#[test]
fn new_objects_only_gc_roots_hold_are_never_a_likely_leak() {
    // Deno and Bun keep work in flight on the stack and in handle scopes between snapshots:
    // new objects no old object holds. A leak is something the program keeps.
    let before = graph();
    let mut after = graph();
    let stack = after.node("synthetic", "(Stack roots)", 0);
    after.edge(1, "element", "2", stack);
    for i in 0..50 {
        let job = after.node("object", "Job", 64);
        after.edge(stack, "element", &i.to_string(), job);
    }
    for i in 0..30 {
        let session = after.node("object", "Session", 64);
        after.edge(2, "element", &i.to_string(), session);
    }
    let (_, comparison) = compare(before, after);
    let group_of = |class: &str| {
        comparison
            .leaks
            .iter()
            .find(|g| count_of(g, class) > 0)
            .unwrap_or_else(|| panic!("a group with {class}"))
    };
    let jobs = group_of("Job");
    assert!(!jobs.likely, "{jobs:#?}");
    assert!(jobs.holder.is_none());
    assert!(
        jobs.sentence.contains("held only by GC roots"),
        "{}",
        jobs.sentence
    );
    let sessions = group_of("Session");
    assert!(sessions.likely, "{sessions:#?}");
    assert_eq!(
        sessions.holder.as_ref().map(|h| h.class_name.as_str()),
        Some("List")
    );
    assert!(
        sessions
            .sentence
            .starts_with("30 Session were added to `app` and never removed")
            || sessions.sentence.contains("`List` @5"),
        "{}",
        sessions.sentence
    );
}

#[test]
fn a_container_of_the_program_that_keeps_every_string_is_a_likely_leak() {
    // A log that keeps every line: only strings, which on their own never make a group likely,
    // but the program's own array gained an element for each.
    let before = graph();
    let mut after = graph();
    for i in 0..40 {
        let line = after.node("string", &format!("request {i} ok"), 32);
        after.edge(2, "element", &i.to_string(), line);
    }
    let (_, comparison) = compare(before, after);
    let g = comparison.leaks.first().expect("a group");
    assert!(g.likely, "{g:#?}");
    assert_eq!(
        g.holder.as_ref().map(|h| (h.edges_before, h.edges_after)),
        Some((Some(0), 40))
    );
    assert!(
        g.sentence
            .starts_with("40 strings were added to `List` @5 and never removed"),
        "{}",
        g.sentence
    );
}

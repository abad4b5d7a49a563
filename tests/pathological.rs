//! Pathological but valid graphs: each must load (where it goes through the loader), analyse,
//! summarise and report within a time and memory bound. The tests in this file run one at a
//! time (a lock) so that the peak-allocation figure each one checks is its own.
//!
//! The 10-million-node chain lives in `tests/analysis.rs` (`ten_million_node_chain`) and is not
//! repeated here.

mod common;

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use heapdiff::diff;
use heapdiff::loaded::Loaded;
use heapdiff::report::{self, ReportOptions};
use heapdiff::snapshot::{self, Snapshot};
use heapdiff::task::Hooks;
use heapdiff::testkit::alloc::{Counting, Peak};
use heapdiff::testkit::graph::{empty, first_edges};
use heapdiff::testkit::{edge_type, node_meta, node_type};

// ---------------------------------------------------------------------------------------------
// Allocation accounting: current and peak bytes held by the whole test binary.
// ---------------------------------------------------------------------------------------------

#[global_allocator]
static ALLOCATOR: Counting = Counting;

static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `f` alone, then checks its wall time and the peak memory it allocated.
fn bounded(what: &str, seconds: u64, megabytes: usize, f: impl FnOnce()) {
    let _alone = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let peak = Peak::start();
    let start = Instant::now();
    f();
    let took = start.elapsed();
    let peak = peak.bytes() >> 20;
    eprintln!("{what}: {took:.2?}, peak {peak} MiB allocated");
    assert!(
        took < Duration::from_secs(seconds),
        "{what} took {took:?} (bound {seconds} s)"
    );
    assert!(
        peak <= megabytes,
        "{what} allocated {peak} MiB at peak (bound {megabytes} MiB)"
    );
}

// ---------------------------------------------------------------------------------------------
// Hand-built graphs
// ---------------------------------------------------------------------------------------------

const OBJECT: u8 = node_type("object");
const SYNTHETIC: u8 = node_type("synthetic");
const ELEMENT: u8 = edge_type("element");
const PROPERTY: u8 = edge_type("property");
const SHORTCUT: u8 = edge_type("shortcut");

fn analyze(s: Snapshot) -> Loaded {
    assert_eq!(heapdiff::analysis::check_consistent(&s), Ok(()));
    Loaded::analyze(s, Default::default(), None).unwrap_or_else(|e| panic!("{e}"))
}

/// One node (the "hub") with ten million edges: element edges to 100,000 leaves, each leaf
/// retained 100 times by the same hub.
#[test]
fn one_node_with_ten_million_edges() {
    bounded("10M edges on one node", 45, 1500, || {
        const EDGES: u32 = 10_000_000;
        const LEAVES: u32 = 100_000;
        let mut s = empty(&["", "Hub", "Leaf", "hub"]);
        let n = (LEAVES + 2) as usize;
        s.node_type = vec![OBJECT; n];
        s.node_type[0] = SYNTHETIC;
        s.node_name = vec![2; n];
        s.node_name[0] = 0;
        s.node_name[1] = 1;
        s.node_id = (0..n as u32).map(|i| 2 * i + 1).collect();
        s.node_self_size = vec![8; n];
        s.node_self_size[0] = 0;
        s.first_edge = first_edges((0..n).map(|i| [1, EDGES].get(i).copied().unwrap_or(0)));
        let mut types = vec![ELEMENT; EDGES as usize + 1];
        types[0] = SHORTCUT;
        let mut names: Vec<u32> = (0..=EDGES).collect();
        names[0] = 3;
        s.set_edges(&types, &names);
        s.edge_to = std::iter::once(1)
            .chain((0..EDGES).map(|e| 2 + e % LEAVES))
            .collect();
        let loaded = analyze(s);
        let a = &loaded.analysis;
        assert_eq!(a.retained(1), 8 * u64::from(LEAVES + 1));
        assert!(a.dominator[2..].iter().all(|&d| d == 1));
        assert!(a.distance[2..].iter().all(|&d| d == 2));
        let retainers = a.retaining_edges(&loaded.snapshot, 2).count();
        assert_eq!(retainers as u32, EDGES / LEAVES);
        let rows = loaded.summary();
        let leaf = rows.iter().find(|r| r.name == "Leaf").expect("Leaf row");
        assert_eq!(leaf.count, u64::from(LEAVES));
    });
}

/// Every node is a GC root: the root reaches every node directly, and so does `(GC roots)`.
#[test]
fn every_node_is_a_gc_root() {
    bounded("every node a GC root", 30, 1000, || {
        const N: u32 = 1_000_000;
        let mut s = empty(&["", "(GC roots)", "Rooted", "next"]);
        s.node_type = vec![OBJECT; N as usize];
        s.node_type[0] = SYNTHETIC;
        s.node_type[1] = SYNTHETIC;
        s.node_name = vec![2; N as usize];
        s.node_name[0] = 0;
        s.node_name[1] = 1;
        s.node_id = (0..N).map(|i| 2 * i + 1).collect();
        s.node_self_size = vec![16; N as usize];
        s.node_self_size[0] = 0;
        s.node_self_size[1] = 0;
        // root: element -> (GC roots), then shortcuts to every node; (GC roots): element edges
        // to every node; each node: a property edge to the next (a chain the roots bypass).
        let per = |i: u32| match i {
            0 | 1 => N - 1,
            i if i + 1 < N => 1,
            _ => 0,
        };
        s.first_edge = first_edges((0..N).map(per));
        let (mut types, mut names) = (Vec::new(), Vec::new());
        for i in 0..N {
            for k in 0..per(i) {
                let (ty, name, to) = match i {
                    0 if k == 0 => (ELEMENT, 1, 1),
                    0 => (SHORTCUT, 3, 1 + k),
                    1 => (ELEMENT, k + 1, 1 + k),
                    _ => (PROPERTY, 3, i + 1),
                };
                types.push(ty);
                names.push(name);
                s.edge_to.push(to);
            }
        }
        s.set_edges(&types, &names);
        let loaded = analyze(s);
        let a = &loaded.analysis;
        // Every object is a user root at distance 1 and dominated by the root alone.
        assert!(a.distance[2..].iter().all(|&d| d == 1));
        assert!(a.dominator[2..].iter().all(|&d| d == 0));
        assert_eq!(a.retained(0), 16 * u64::from(N - 2));
        let rows = loaded.summary();
        let row = rows.iter().find(|r| r.name == "Rooted").expect("row");
        assert_eq!(row.count, u64::from(N - 2));
        assert_eq!(row.distance, Some(1));
    });
}

/// Deep cycles: a reachable ring of 1,000,000 nodes whose every node also points back halfway
/// (cycles within cycles), and an unreachable ring of the same size.
#[test]
fn deep_cycles() {
    bounded("deep cycles", 30, 1000, || {
        const R: u32 = 1_000_000;
        let n = 1 + 2 * R;
        let mut s = empty(&["", "Ring", "Lost", "next", "back", "ring"]);
        s.node_type = vec![OBJECT; n as usize];
        s.node_type[0] = SYNTHETIC;
        s.node_name = (0..n)
            .map(|i| {
                if i == 0 {
                    0
                } else if i <= R {
                    1
                } else {
                    2
                }
            })
            .collect();
        s.node_id = (0..n).map(|i| 2 * i + 1).collect();
        s.node_self_size = vec![4; n as usize];
        s.node_self_size[0] = 0;
        // Ring A: nodes 1..=R; ring B: R+1..=2R.
        let edges = |i: u32| -> Vec<(u8, u32, u32)> {
            if i == 0 {
                return vec![(PROPERTY, 5, 1)];
            }
            let (base, len) = if i <= R { (1, R) } else { (R + 1, R) };
            let k = i - base;
            vec![
                (PROPERTY, 3, base + (k + 1) % len),
                (PROPERTY, 4, base + k / 2),
            ]
        };
        s.first_edge = first_edges((0..n).map(|i| edges(i).len() as u32));
        let (mut types, mut names) = (Vec::new(), Vec::new());
        for i in 0..n {
            for (t, name, to) in edges(i) {
                types.push(t);
                names.push(name);
                s.edge_to.push(to);
            }
        }
        s.set_edges(&types, &names);
        let loaded = analyze(s);
        let a = &loaded.analysis;
        // Ring A is a chain of dominators (back edges only point to earlier nodes).
        assert_eq!(a.dominator[1], 0);
        assert!((2..=R).all(|i| a.dominator[i as usize] == i - 1));
        assert_eq!(a.distance[R as usize], R as i32);
        assert_eq!(a.retained(1), 4 * u64::from(R));
        // Ring B is unreachable: distance −5, and DevTools hangs it off the root.
        assert!(a.distance[(R + 1) as usize..].iter().all(|&d| d == -5));
        assert_eq!(a.retained(0), 4 * u64::from(2 * R));
        let chain = heapdiff::analysis::paths::dominator_chain(&loaded.snapshot, a, R);
        assert_eq!(chain.len(), R as usize + 1);
    });
}

// ---------------------------------------------------------------------------------------------
// Through the loader
// ---------------------------------------------------------------------------------------------

/// One string of about 10^9 bytes (1 GB), loaded from a gzip stream made of many members (the
/// loader reads concatenated gzip members, as `gzip -c a b` writes them), so the test neither
/// keeps nor compresses a gigabyte itself.
#[test]
fn one_gigabyte_string() {
    bounded("1 GB string", 60, 3300, || {
        const CHUNK: usize = 1 << 20;
        // 953 MiB = 0.999 GB: just under 2^30 bytes, so the loader's growing buffers stop at
        // 1 GiB of capacity (a string just over 2^30 bytes peaks at about 4.1 GiB allocated).
        const CHUNKS: usize = 953;
        let gz = |bytes: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(bytes).expect("gzip in memory");
            e.finish().expect("gzip in memory")
        };
        let meta = node_meta();
        let head = format!(
            "{{\"snapshot\":{{\"meta\":{meta},\"node_count\":3,\"edge_count\":2}},\"nodes\":[9,0,1,0,1,0,0,3,1,3,32,1,0,0,2,3,5,1073741840,0,0,0],\"edges\":[2,2,7,2,4,14],\"strings\":[\"\",\"Holder\",\"root\",\""
        );
        // The chunk has an escape and non-ASCII so the decoder's slow paths run too.
        let mut chunk = vec![b'x'; CHUNK];
        chunk[..8].copy_from_slice(b"\\n\\u00e9");
        chunk[100..105].copy_from_slice("ü☃".as_bytes());
        let chunk_gz = gz(&chunk);
        let mut file = gz(head.as_bytes());
        for _ in 0..CHUNKS {
            file.extend_from_slice(&chunk_gz);
        }
        file.extend_from_slice(&gz(b"\",\"big\"]}"));
        assert!(file.len() < 64 << 20, "the gzip stream stays small");
        let s = snapshot::load_bytes("big-string.heapsnapshot.gz", &file, &Hooks::default())
            .unwrap_or_else(|e| panic!("{e}"));
        drop(file);
        let text = s.strings.get(3);
        // Each chunk decodes 8 escaped bytes to 2 characters (3 bytes).
        assert_eq!(text.len(), CHUNKS * (CHUNK - 5));
        assert!(text.starts_with("\né"));
        assert_eq!(s.node_name(2).len(), text.len());
        let loaded = analyze(s);
        let rows = loaded.summary();
        let row = rows
            .iter()
            .find(|r| r.name == "(string)")
            .expect("(string) row");
        assert_eq!(row.count, 1);
        assert_eq!(row.self_size, 1_073_741_840);
        // A report naming the string redacts it by length, without copying the gigabyte.
        let redacted = report::redacted(loaded.snapshot.node_name(2));
        assert!(redacted.len() < 64, "{redacted}");
    });
}

/// The weird-strings fixture (markup, control characters, V8's mangled surrogates, a 1 MiB
/// string, 50 `sk_live_` secrets): loads, and no shared report leaks a secret or markup.
#[test]
fn weird_strings_load_and_reports_stay_clean() {
    bounded("weird strings", 60, 2000, || {
        let weird = common::fixture("weird-strings.heapsnapshot");
        let tiny = common::data_dir().join("tiny.heapsnapshot");
        let expect = &common::ground_truth()["weird_strings"]["expect"];
        let secrets = expect["secret_count"].as_u64().expect("secret_count") as usize;
        let prefix = expect["secret_prefix"].as_str().expect("secret_prefix");

        // Everything in weird-strings is new against tiny, so every object can be a suspect.
        let (before, after, _) = common::open_pair(&tiny, &weird).unwrap_or_else(|e| panic!("{e}"));
        let in_heap = (0..after.snapshot.strings.len() as u32)
            .filter(|&i| after.snapshot.strings.get(i).contains(prefix))
            .count();
        assert!(in_heap >= secrets, "{in_heap} secrets in the string table");
        let rows = after.summary();
        let weird_row = rows
            .iter()
            .find(|r| r.name == expect["class"].as_str().unwrap())
            .expect("Weird row");
        assert_eq!(weird_row.count, expect["count"].as_u64().unwrap());

        let comparison = diff::compare(&before, &after, None);
        let benign = {
            let (b, a, _) = common::open_pair(&tiny, &tiny).unwrap();
            let c = diff::compare(&b, &a, None);
            let f = report::build(&c, &b, &a, None, ReportOptions::default());
            report::html::render(&f)
        };
        let template_scripts = benign.matches("<script").count();
        let template_imgs = benign.to_ascii_lowercase().matches("<img").count();
        let mut with_strings = String::new();
        for include_strings in [false, true] {
            let findings = report::build(
                &comparison,
                &before,
                &after,
                None,
                ReportOptions { include_strings },
            );
            let json = report::findings::to_json(&findings);
            let md = report::markdown::render(&findings);
            let html = report::html::render(&findings);
            // A stranger's copy of our own findings file reads back.
            let back = report::findings::parse("weird.heapdiff.json", json.as_bytes())
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(back, findings);
            let lower = html.to_ascii_lowercase();
            assert_eq!(
                lower.matches("<script").count(),
                template_scripts,
                "markup in HTML"
            );
            assert_eq!(
                lower.matches("<img").count(),
                template_imgs,
                "markup in HTML"
            );
            if include_strings {
                with_strings = json + &md + &html;
            } else {
                for (what, text) in [("findings", &json), ("markdown", &md), ("html", &html)] {
                    assert!(!text.contains(prefix), "{what} report contains {prefix}");
                }
            }
        }
        // Not an assertion on purpose: whether a secret appears with --include-strings depends
        // on which objects the suspects' example paths pick.
        eprintln!(
            "with include_strings: {} occurrences of {prefix}",
            with_strings.matches(prefix).count()
        );
    });
}

//! Synthetic V8 heap snapshots, for scale tests and hostile-input tests.
//!
//! [`write`] streams a valid Node-style snapshot of any size (nodes, then edges, then locations,
//! then strings) without holding the graph: every node, edge and string is a pure function of
//! the configuration and its index, so each section is generated on the fly, in parallel chunks
//! written in order. A *before*/*after* pair made with the same seed and size shares its objects
//! with equal V8 ids (as one process's snapshots do); the after snapshot adds `leak`
//! `LeakedSession` objects held by one array reachable from the global object, and replaces a
//! few percent of the ordinary objects by new ones (churn: new ids, same classes).
//!
//! [`write_snapshot`] serialises an already loaded [`Snapshot`] back to JSON, so tests can cut
//! real fixtures down; [`mutate`] holds the seeded, dependency-free mutator and the "must not
//! panic" pipeline shared by the mutation tests and the fuzz example.

use std::io::{self, Write};

use rayon::prelude::*;

use crate::snapshot::{Location, Locations, Snapshot};

/// Node 20's `snapshot.meta` (the layout of `tests/data/tiny.heapsnapshot`): 7 node fields.
pub const NODE_META: &str = r#"{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape","wasm object"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],"trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],"trace_node_fields":["id","function_info_index","count","size","children"],"sample_fields":["timestamp_us","last_assigned_id"],"location_fields":["object_index","script_id","line","column"]}"#;

/// Values per node record in [`NODE_META`].
pub const NODE_FIELDS: u64 = 7;

// Node type indexes in NODE_META.
const HIDDEN: u8 = 0;
const ARRAY: u8 = 1;
const STRING: u8 = 2;
const OBJECT: u8 = 3;
const CLOSURE: u8 = 5;
const SYNTHETIC: u8 = 9;
// Edge type indexes.
const CONTEXT: u8 = 0;
const ELEMENT: u8 = 1;
const PROPERTY: u8 = 2;
const INTERNAL: u8 = 3;
const SHORTCUT: u8 = 5;
const WEAK: u8 = 6;

/// The fixed part of the string table; per-unit and per-leak strings follow it.
const FIXED: &[&str] = &[
    "",                        // 0
    "(GC roots)",              // 1
    "(Strong roots)",          // 2
    "(Global handles)",        // 3
    "(Internalized strings)",  // 4
    "global",                  // 5
    "system / NativeContext",  // 6
    "Array",                   // 7
    "(object elements)",       // 8
    "LeakedSession",           // 9
    "sessions",                // 10
    "elements",                // 11
    "context",                 // 12
    "system / Context",        // 13
    "Map",                     // 14
    "table",                   // 15
    "system / OrderedHashMap", // 16
    "name",                    // 17
    "tags",                    // 18
    "handler",                 // 19
    "cache",                   // 20
    "self",                    // 21
    "peer",                    // 22
    "weak_ref",                // 23
    "child0",                  // 24
    "child1",                  // 25
    "child2",                  // 26
    "child3",                  // 27
    "native_context",          // 28
    "token",                   // 29
    "user",                    // 30
    "root",                    // 31
    "global_proxy_object",     // 32
    "string",                  // 33
    // Record classes, then closure names.
    "User",     // 34
    "Order",    // 35
    "Request",  // 36
    "Response", // 37
    "Widget",   // 38
    "Entry",    // 39
    "Task",     // 40
    "Session",  // 41
    "onData",   // 42
    "callback", // 43
    "render",   // 44
    "next",     // 45
];
const S_CHILD0: u32 = 24;
const S_CLASSES: u32 = 34;
const S_CLOSURES: u32 = 42;

/// Record class names, for tests that check per-class counts.
pub const CLASSES: [&str; 8] = [
    "User", "Order", "Request", "Response", "Widget", "Entry", "Task", "Session",
];

/// Nodes before the first unit (see [`header_node`]).
const HEADER: u64 = 9;
/// Nodes per unit of ordinary heap.
const UNIT: u64 = 8;
/// Nodes per leaked object (the session and its token string).
const LEAK: u64 = 2;
/// The owner array's elements backing store: the node whose element edges hold the leak.
const OWNER_ELEMENTS: u64 = 8;

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Units of ordinary heap (8 nodes each): a record object of one of [`CLASSES`], its name
    /// string, an `Array` and its elements, a closure and its context, a `Map` and its table.
    pub units: u64,
    pub seed: u64,
    /// `LeakedSession` objects (each with a token string) held by `global.sessions`.
    pub leak: u64,
    /// The after snapshot of a pair: churned units get new ids.
    pub after: bool,
    /// Percentage of units that are replaced between before and after (only with `after`).
    pub churn_percent: u64,
    /// Extra characters in every unit's string, to make the string table as large as wanted
    /// (e.g. past 2^32 bytes) without more nodes.
    pub string_pad: u64,
}

impl Config {
    /// A configuration of about `nodes` nodes (at least one unit).
    pub fn with_nodes(nodes: u64, seed: u64) -> Config {
        Config {
            units: (nodes.saturating_sub(HEADER) / UNIT).max(1),
            seed,
            leak: 0,
            after: false,
            churn_percent: 5,
            string_pad: 0,
        }
    }

    pub fn node_count(&self) -> u64 {
        HEADER + self.units * UNIT + self.leak * LEAK
    }

    fn leak_base(&self) -> u64 {
        HEADER + self.units * UNIT
    }

    fn string_count(&self) -> u64 {
        FIXED.len() as u64 + self.units + self.leak
    }

    /// Whether unit `u` is replaced by a new object set in the after snapshot.
    pub fn churned(&self, u: u64) -> bool {
        self.after && mix(self.seed ^ 0xc4u64, u) % 100 < self.churn_percent
    }

    /// The record class of unit `u` (an index into [`CLASSES`]).
    pub fn unit_class(&self, u: u64) -> usize {
        (mix(self.seed, u) % CLASSES.len() as u64) as usize
    }

    /// V8 id of node `index`: odd like V8's heap object ids; churned units' nodes get ids that
    /// no before snapshot of this size uses.
    fn id(&self, index: u64) -> u64 {
        let base = if index >= HEADER && index < self.leak_base() {
            let u = (index - HEADER) / UNIT;
            if self.churned(u) {
                self.node_count()
            } else {
                0
            }
        } else {
            0
        };
        2 * (base + index) + 1
    }
}

/// What [`write`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub nodes: u64,
    pub edges: u64,
    pub strings: u64,
    pub bytes: u64,
    /// Units whose ids changed (after snapshot only).
    pub churned: u64,
}

/// SplitMix64 of `seed` and `x`: the only source of variety, so every part is reproducible.
fn mix(seed: u64, x: u64) -> u64 {
    let mut z = seed
        .wrapping_add(x.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[derive(Clone, Copy)]
struct Node {
    ty: u8,
    name: u64,
    self_size: u64,
    edges: u64,
}

#[derive(Clone, Copy)]
struct Edge {
    ty: u8,
    name: u64,
    to: u64,
}

/// The graph as functions of indexes.
struct Graph<'a> {
    c: &'a Config,
}

impl Graph<'_> {
    fn record(&self, u: u64) -> u64 {
        HEADER + u * UNIT
    }

    fn unit_string(&self, u: u64) -> u64 {
        FIXED.len() as u64 + u
    }

    fn leak_string(&self, i: u64) -> u64 {
        FIXED.len() as u64 + self.c.units + i
    }

    fn children(&self, u: u64) -> std::ops::Range<u64> {
        let first = (4 * u + 1).min(self.c.units);
        let last = (4 * u + 5).min(self.c.units);
        first..last
    }

    fn has_peer(&self, u: u64) -> bool {
        self.c.units > 1 && mix(self.c.seed ^ 1, u) & 1 == 1
    }

    fn has_weak(&self, u: u64) -> bool {
        self.c.units > 1 && mix(self.c.seed ^ 1, u) & 2 == 2
    }

    fn other(&self, u: u64, salt: u64) -> u64 {
        mix(self.c.seed ^ salt, u) % self.c.units
    }

    fn header_node(&self, i: u64) -> Node {
        let c = self.c;
        let (ty, name, self_size, edges) = match i {
            0 => (SYNTHETIC, 0, 0, 2),
            1 => (SYNTHETIC, 1, 0, 3),
            2 => (SYNTHETIC, 2, 0, 1),
            3 => (SYNTHETIC, 3, 0, 1),
            4 => (SYNTHETIC, 4, 0, c.units.min(16)),
            5 => (OBJECT, 5, 64, 3),
            6 => (HIDDEN, 6, 2048, 1),
            7 => (OBJECT, 7, 32, 1),
            _ => (ARRAY, 8, 16 + 8 * c.leak, c.leak),
        };
        Node {
            ty,
            name,
            self_size,
            edges,
        }
    }

    fn header_edges(&self, i: u64, out: &mut impl FnMut(Edge)) {
        let e = |ty, name, to| Edge { ty, name, to };
        match i {
            0 => {
                out(e(ELEMENT, 1, 1));
                out(e(SHORTCUT, 5, 5));
            }
            1 => {
                out(e(ELEMENT, 1, 2));
                out(e(ELEMENT, 2, 3));
                out(e(ELEMENT, 3, 4));
            }
            2 => out(e(INTERNAL, 28, 6)),
            3 => out(e(ELEMENT, 1, 5)),
            4 => {
                for u in 0..self.c.units.min(16) {
                    out(e(INTERNAL, 33, self.record(u) + 1));
                }
            }
            5 => {
                out(e(PROPERTY, 10, 7));
                out(e(PROPERTY, 31, self.record(0)));
                out(e(INTERNAL, 28, 6));
            }
            6 => out(e(INTERNAL, 32, 5)),
            7 => out(e(INTERNAL, 11, OWNER_ELEMENTS)),
            _ => {
                for k in 0..self.c.leak {
                    out(e(ELEMENT, k, self.c.leak_base() + LEAK * k));
                }
            }
        }
    }

    fn unit_node(&self, u: u64, k: u64) -> Node {
        let h = mix(self.c.seed, u);
        let (ty, name, self_size, edges) = match k {
            0 => {
                let edges = 4
                    + self.children(u).count() as u64
                    + u64::from(self.has_peer(u))
                    + u64::from(self.has_weak(u));
                (
                    OBJECT,
                    S_CLASSES as u64 + (h % CLASSES.len() as u64),
                    32 + 8 * ((h >> 8) % 4),
                    edges,
                )
            }
            1 => {
                let len = unit_text(self.c, u).chars().count() as u64;
                (STRING, self.unit_string(u), 16 + len.div_ceil(8) * 8, 0)
            }
            2 => (OBJECT, 7, 16, 1),
            3 => (ARRAY, 8, 32, 2),
            4 => (CLOSURE, S_CLOSURES as u64 + (h >> 16) % 4, 32, 1),
            5 => (HIDDEN, 13, 24 + 8 * ((h >> 20) % 3), 2),
            6 => (OBJECT, 14, 32, 1),
            _ => (HIDDEN, 16, 40, 2),
        };
        Node {
            ty,
            name,
            self_size,
            edges,
        }
    }

    fn unit_edges(&self, u: u64, k: u64, out: &mut impl FnMut(Edge)) {
        let r = self.record(u);
        let e = |ty, name, to| Edge { ty, name, to };
        match k {
            0 => {
                out(e(PROPERTY, 17, r + 1));
                out(e(PROPERTY, 18, r + 2));
                out(e(PROPERTY, 19, r + 4));
                out(e(PROPERTY, 20, r + 6));
                for (j, child) in self.children(u).enumerate() {
                    out(e(PROPERTY, S_CHILD0 as u64 + j as u64, self.record(child)));
                }
                if self.has_peer(u) {
                    out(e(PROPERTY, 22, self.record(self.other(u, 2))));
                }
                if self.has_weak(u) {
                    out(e(WEAK, 23, self.record(self.other(u, 3))));
                }
            }
            1 => {}
            2 => out(e(INTERNAL, 11, r + 3)),
            3 => {
                out(e(ELEMENT, 0, r + 1));
                out(e(ELEMENT, 1, r));
            }
            4 => out(e(INTERNAL, 12, r + 5)),
            5 => {
                out(e(CONTEXT, 21, r));
                out(e(INTERNAL, 28, 6));
            }
            6 => out(e(INTERNAL, 15, r + 7)),
            _ => {
                out(e(ELEMENT, 0, r + 1));
                out(e(ELEMENT, 1, r + 2));
            }
        }
    }

    fn leak_node(&self, k: u64) -> Node {
        if k.is_multiple_of(LEAK) {
            Node {
                ty: OBJECT,
                name: 9,
                self_size: 48,
                edges: 2,
            }
        } else {
            Node {
                ty: STRING,
                name: self.leak_string(k / LEAK),
                self_size: 32,
                edges: 0,
            }
        }
    }

    fn leak_edges(&self, k: u64, out: &mut impl FnMut(Edge)) {
        if k.is_multiple_of(LEAK) {
            let at = self.c.leak_base() + k;
            out(Edge {
                ty: PROPERTY,
                name: 29,
                to: at + 1,
            });
            out(Edge {
                ty: PROPERTY,
                name: 30,
                to: self.record((k / LEAK) % self.c.units),
            });
        }
    }

    fn node(&self, i: u64) -> Node {
        if i < HEADER {
            self.header_node(i)
        } else if i < self.c.leak_base() {
            self.unit_node((i - HEADER) / UNIT, (i - HEADER) % UNIT)
        } else {
            self.leak_node(i - self.c.leak_base())
        }
    }

    fn edges(&self, i: u64, out: &mut impl FnMut(Edge)) {
        if i < HEADER {
            self.header_edges(i, out)
        } else if i < self.c.leak_base() {
            self.unit_edges((i - HEADER) / UNIT, (i - HEADER) % UNIT, out)
        } else {
            self.leak_edges(i - self.c.leak_base(), out)
        }
    }
}

/// The contents of unit `u`'s name string: varied lengths, and now and then characters that
/// need escaping (quotes, backslashes, control characters, non-ASCII).
fn unit_text(c: &Config, u: u64) -> String {
    let h = mix(c.seed ^ 7, u);
    let mut s = format!("s{u:x}-");
    const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    for j in 0..(h % 40) {
        s.push(ALPHA[((h >> (j % 50)) as usize + j as usize) % ALPHA.len()] as char);
    }
    if h.is_multiple_of(97) {
        s.push_str("\"quoted\\ \n\tnaïve ☃ 🎉");
    }
    s.extend((0..c.string_pad).map(|j| ALPHA[(j % ALPHA.len() as u64) as usize] as char));
    s
}

/// Appends the decimal digits of `v`.
#[inline]
fn put(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Appends `s` as a JSON string (with quotes), escaping what JSON requires.
pub fn put_json_string(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        match esc {
            Some(e) => buf.extend_from_slice(e),
            None => {
                buf.extend_from_slice(b"\\u00");
                buf.push(b"0123456789abcdef"[(b >> 4) as usize]);
                buf.push(b"0123456789abcdef"[(b & 15) as usize]);
            }
        }
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
    buf.push(b'"');
}

/// Items per parallel chunk, and chunks generated per round before they are written in order.
const CHUNK: u64 = 1 << 15;
const ROUND: u64 = 16;

/// Generates `0..count` in parallel chunks with `f(range, buffer)` and writes them in order.
/// Writing runs on its own thread, so the disk works while the next round is generated.
fn stream(
    out: &mut (impl Write + Send),
    count: u64,
    f: &(dyn Fn(std::ops::Range<u64>, &mut Vec<u8>) + Sync),
) -> io::Result<u64> {
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Vec<u8>>>(1);
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> io::Result<u64> {
            let mut written = 0u64;
            for bufs in receive {
                for b in bufs {
                    out.write_all(&b)?;
                    written += b.len() as u64;
                }
            }
            Ok(written)
        });
        let mut start = 0u64;
        while start < count {
            let chunks: Vec<std::ops::Range<u64>> = (0..ROUND)
                .map(|j| start + j * CHUNK)
                .take_while(|&s| s < count)
                .map(|s| s..(s + CHUNK).min(count))
                .collect();
            start = chunks.last().map_or(count, |r| r.end);
            let bufs: Vec<Vec<u8>> = chunks
                .into_par_iter()
                .map(|r| {
                    let mut buf = Vec::with_capacity(CHUNK as usize * 24);
                    f(r, &mut buf);
                    buf
                })
                .collect();
            // A send fails only when the writer stopped on an error, which join reports.
            if send.send(bufs).is_err() {
                break;
            }
        }
        drop(send);
        writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("writer thread panicked")))
    })
}

/// Streams the snapshot `c` describes to `out`.
pub fn write(c: &Config, out: &mut (impl Write + Send)) -> io::Result<Stats> {
    let g = Graph { c };
    let nodes = c.node_count();
    // Edge count first (a cheap pass), because the header states it.
    let edges: u64 = (0..nodes).into_par_iter().map(|i| g.node(i).edges).sum();
    let mut bytes = 0u64;
    let head = format!(
        "{{\"snapshot\":{{\"meta\":{NODE_META},\"node_count\":{nodes},\"edge_count\":{edges},\"trace_function_count\":0}},\n\"nodes\":["
    );
    out.write_all(head.as_bytes())?;
    bytes += head.len() as u64;
    bytes += stream(out, nodes, &|r, buf| {
        for i in r {
            let n = g.node(i);
            if i > 0 {
                buf.extend_from_slice(b",\n");
            }
            put(buf, u64::from(n.ty));
            buf.push(b',');
            put(buf, n.name);
            buf.push(b',');
            put(buf, c.id(i));
            buf.push(b',');
            put(buf, n.self_size);
            buf.push(b',');
            put(buf, n.edges);
            buf.extend_from_slice(b",0,0");
        }
    })?;
    out.write_all(b"],\n\"edges\":[")?;
    bytes += 12;
    bytes += stream(out, nodes, &|r, buf| {
        let mut first = r.start == 0;
        for i in r {
            g.edges(i, &mut |e: Edge| {
                if !first {
                    buf.extend_from_slice(b",\n");
                }
                first = false;
                put(buf, u64::from(e.ty));
                buf.push(b',');
                put(buf, e.name);
                buf.push(b',');
                put(buf, e.to * NODE_FIELDS);
            });
        }
    })?;
    // Every chunk but the first starts with a separator: node 0 (in the first chunk) always
    // has edges, so no chunk after it can hold the array's first value.
    let mid =
        b"],\n\"trace_function_infos\":[],\n\"trace_tree\":[],\n\"samples\":[],\n\"locations\":[";
    out.write_all(mid)?;
    bytes += mid.len() as u64;
    // One location per closure, as V8 records the function's source position.
    bytes += stream(out, c.units, &|r, buf| {
        for u in r {
            if u > 0 {
                buf.extend_from_slice(b",\n");
            }
            let h = mix(c.seed ^ 5, u);
            put(buf, (g.record(u) + 4) * NODE_FIELDS);
            buf.push(b',');
            put(buf, 10 + h % 5);
            buf.push(b',');
            put(buf, (h >> 8) % 2000);
            buf.push(b',');
            put(buf, (h >> 24) % 80);
        }
    })?;
    out.write_all(b"],\n\"strings\":[")?;
    bytes += 14;
    let strings = c.string_count();
    bytes += stream(out, strings, &|r, buf| {
        for s in r {
            if s > 0 {
                buf.extend_from_slice(b",\n");
            }
            let fixed = FIXED.len() as u64;
            if s < fixed {
                put_json_string(buf, FIXED[s as usize]);
            } else if s < fixed + c.units {
                put_json_string(buf, &unit_text(c, s - fixed));
            } else {
                // Token-like contents, so reports' redaction has something to hide.
                let i = s - fixed - c.units;
                let text = format!("tok_{:016x}", mix(c.seed ^ 9, i));
                put_json_string(buf, &text);
            }
        }
    })?;
    out.write_all(b"]}\n")?;
    bytes += 3;
    Ok(Stats {
        nodes,
        edges,
        strings,
        bytes,
        churned: (0..c.units).filter(|&u| c.churned(u)).count() as u64,
    })
}

/// The snapshot as bytes in memory (small configurations, for tests).
pub fn to_vec(c: &Config) -> Vec<u8> {
    let mut v = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write(c, &mut v);
    v
}

/// Serialises a loaded snapshot with its own meta. Fields the loader does not keep
/// (`trace_node_id`, unknown ones) are written as 0, so the result loads to the same graph.
pub fn write_snapshot(s: &Snapshot, out: &mut impl Write) -> io::Result<()> {
    let meta = serde_json::json!({
        "node_fields": s.meta.node_fields,
        "node_types": [s.meta.node_types],
        "edge_fields": s.meta.edge_fields,
        "edge_types": [s.meta.edge_types],
        "location_fields": s.meta.location_fields,
    });
    // The type lists sit at the position of the "type" field, as V8 writes them.
    let mut meta = meta;
    let place = |fields: &[String], types: &[String]| {
        fields
            .iter()
            .map(|f| {
                if f == "type" {
                    serde_json::json!(types)
                } else {
                    serde_json::json!("number")
                }
            })
            .collect::<Vec<_>>()
    };
    meta["node_types"] = serde_json::json!(place(&s.meta.node_fields, &s.meta.node_types));
    meta["edge_types"] = serde_json::json!(place(&s.meta.edge_fields, &s.meta.edge_types));
    let nf = s.meta.node_fields.len() as u64;
    write!(
        out,
        "{{\"snapshot\":{{\"meta\":{meta},\"node_count\":{},\"edge_count\":{},\"root_index\":{}}},\n\"nodes\":[",
        s.node_count(),
        s.edge_count(),
        u64::from(s.root) * nf
    )?;
    let mut buf = Vec::with_capacity(1 << 16);
    for n in 0..s.node_count() {
        if n > 0 {
            buf.push(b',');
        }
        for (j, f) in s.meta.node_fields.iter().enumerate() {
            if j > 0 {
                buf.push(b',');
            }
            let v = match f.as_str() {
                "type" => u64::from(s.node_type[n]),
                "name" => u64::from(s.node_name[n]),
                "id" => u64::from(s.node_id[n]),
                "self_size" => u64::from(s.node_self_size[n]),
                "edge_count" => u64::from(s.first_edge[n + 1] - s.first_edge[n]),
                "detachedness" => u64::from(s.detachedness(n as u32)),
                _ => 0,
            };
            put(&mut buf, v);
        }
        if buf.len() > 1 << 16 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    buf.extend_from_slice(b"],\n\"edges\":[");
    for e in 0..s.edge_count() {
        if e > 0 {
            buf.push(b',');
        }
        for (j, f) in s.meta.edge_fields.iter().enumerate() {
            if j > 0 {
                buf.push(b',');
            }
            let v = match f.as_str() {
                "type" => u64::from(s.edge_type(e as u32)),
                "name_or_index" => u64::from(s.edge_name_index(e as u32)),
                "to_node" => u64::from(s.edge_to[e]) * nf,
                _ => 0,
            };
            put(&mut buf, v);
        }
        if buf.len() > 1 << 16 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    buf.extend_from_slice(b"],\n\"locations\":[");
    for (i, l) in s.locations.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        // The loader only keeps these four fields, in this order.
        for (j, v) in [
            u64::from(l.node) * nf,
            l.script_id.into(),
            l.line.into(),
            l.column.into(),
        ]
        .into_iter()
        .enumerate()
        {
            if j > 0 {
                buf.push(b',');
            }
            put(&mut buf, v);
        }
    }
    buf.extend_from_slice(b"],\n\"strings\":[");
    for i in 0..s.strings.len() {
        if i > 0 {
            buf.push(b',');
        }
        put_json_string(&mut buf, s.strings.get(i as u32));
        if buf.len() > 1 << 16 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    buf.extend_from_slice(b"]}\n");
    out.write_all(&buf)
}

/// A valid snapshot made of the first `keep` nodes of `s` (edges to dropped nodes dropped,
/// unused strings kept): real structure at a size debug builds can mutate thousands of times.
pub fn cut(s: &Snapshot, keep: usize) -> Vec<u8> {
    let keep = keep.clamp(1, s.node_count());
    let mut t = Snapshot::default();
    t.meta = s.meta.clone();
    t.file_name = s.file_name.clone();
    t.node_type = s.node_type[..keep].to_vec();
    t.node_name = s.node_name[..keep].to_vec();
    t.node_id = s.node_id[..keep].to_vec();
    t.node_self_size = s.node_self_size[..keep].to_vec();
    if !s.node_detachedness.is_empty() {
        t.node_detachedness = s.node_detachedness[..keep].to_vec();
    }
    t.first_edge.push(0);
    let (mut types, mut names) = (Vec::new(), Vec::new());
    for n in 0..keep as u32 {
        for e in s.edges(n) {
            if (s.edge_to[e as usize] as usize) < keep {
                types.push(s.edge_type(e));
                names.push(s.edge_name_index(e));
                t.edge_to.push(s.edge_to[e as usize]);
            }
        }
        t.first_edge.push(t.edge_to.len() as u32);
    }
    t.set_edges(&types, &names);
    t.strings = (0..s.strings.len())
        .map(|i| s.strings.get(i as u32).to_string())
        .collect();
    let kept: Vec<Location> = s
        .locations
        .iter()
        .filter(|l| (l.node as usize) < keep)
        .collect();
    t.locations = Locations::new(keep, &kept);
    t.root = if (s.root as usize) < keep { s.root } else { 0 };
    let mut v = Vec::new();
    let _ = write_snapshot(&t, &mut v);
    v
}

/// Hostile inputs: a seeded, dependency-free mutator of snapshot (and findings) bytes, and the
/// pipeline every mutant is pushed through. Shared by `tests/mutations.rs` and
/// `examples/fuzz.rs`, so the long fuzz run and the bounded test exercise the same code.
pub mod mutate {
    use crate::diff;
    use crate::loaded::Loaded;
    use crate::report::{self, ReportOptions};
    use crate::snapshot::{self, class};
    use crate::task::Hooks;

    /// xorshift64*: tiny, seedable, good enough to pick mutation sites.
    #[derive(Clone, Debug)]
    pub struct Rng(u64);

    impl Rng {
        pub fn new(seed: u64) -> Rng {
            Rng(super::mix(seed, 0x5eed) | 1)
        }

        pub fn next_u64(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        /// A value in `0..n` (0 when `n` is 0).
        pub fn below(&mut self, n: usize) -> usize {
            if n == 0 {
                0
            } else {
                (self.next_u64() % n as u64) as usize
            }
        }

        pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len())]
        }
    }

    /// Numbers that sit on or across the limits the engine cares about.
    const NUMBERS: &[&str] = &[
        "0",
        "1",
        "7",
        "255",
        "256",
        "65535",
        "2147483647",
        "2147483648",
        "4294967295",
        "4294967296",
        "4294967297",
        "30064771072",
        "9223372036854775807",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999999",
        "-1",
        "1.5",
        "1e9",
        "NaN",
        "",
        "00",
        "0x10",
    ];

    /// Text replacements that break `snapshot.meta` (or the header) in realistic ways.
    const META: &[(&str, &str)] = &[
        ("\"edge_count\"", "\"edge_cnt\""),
        ("\"to_node\"", "\"to\""),
        ("\"name_or_index\"", "\"name\""),
        ("\"node_fields\":[\"type\",", "\"node_fields\":["),
        (
            "\"node_fields\":[\"type\",",
            "\"node_fields\":[\"type\",\"type\",",
        ),
        ("\"node_fields\":[", "\"node_fields\":[\"extra\","),
        ("\"edge_fields\":[", "\"edge_fields\":[\"extra\","),
        ("\"node_types\":[[\"hidden\",", "\"node_types\":[["),
        ("\"node_types\":[[", "\"node_types\":[\"string\",["),
        ("\"edge_types\":[[\"context\",", "\"edge_types\":[["),
        ("\"edge_types\":[[", "\"edge_types\":[7,["),
        ("\"meta\":{", "\"meta\":{\"node_fields\":[],"),
        ("\"snapshot\":{", "\"snapshot\":{\"root_index\":4294967296,"),
        ("\"snapshot\":{", "\"snapshot\":{\"root_index\":5,"),
        (
            "\"snapshot\":{",
            "\"snapshot\":{\"node_count\":1000000000000000,",
        ),
        ("\"snapshot\":{", "\"snapshot\":{\"edge_count\":4294967296,"),
        ("\"snapshot\":{", "\"snapshot\":null,\"x\":{"),
        (
            "\"location_fields\":[\"object_index\",",
            "\"location_fields\":[",
        ),
        ("\"location_fields\":[", "\"location_fields\":[\"extra\","),
        ("\"synthetic\"", "\"synth\""),
        ("\"weak\"", "\"element\""),
        ("\"element\"", "\"property\""),
        ("\"detachedness\"", "\"trace_node_id\""),
        ("\"self_size\"", "\"size\""),
    ];

    /// Section keys of a snapshot, for swapping and duplicating whole sections.
    const KEYS: &[&str] = &[
        "\"snapshot\":",
        "\"nodes\":",
        "\"edges\":",
        "\"trace_function_infos\":",
        "\"trace_tree\":",
        "\"samples\":",
        "\"locations\":",
        "\"strings\":",
    ];

    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        memchr::memmem::find(hay, needle)
    }

    fn random_digit(data: &[u8], rng: &mut Rng) -> Option<usize> {
        (0..64)
            .map(|_| rng.below(data.len()))
            .find(|&i| data[i].is_ascii_digit())
    }

    /// The top-level sections as `(start of key, end of value)`, in file order.
    fn sections(data: &[u8]) -> Vec<(usize, usize)> {
        let mut starts: Vec<usize> = KEYS
            .iter()
            .filter_map(|k| find(data, k.as_bytes()))
            .collect();
        starts.sort_unstable();
        let mut out = Vec::new();
        for (i, &s) in starts.iter().enumerate() {
            let limit = starts.get(i + 1).copied().unwrap_or(data.len());
            // The value ends at the last ',' (or '}' for the last section) before the limit.
            let end = data[s..limit]
                .iter()
                .rposition(|&c| c == b',' || (i + 1 == starts.len() && c == b'}'))
                .map_or(limit, |p| s + p);
            if end > s {
                out.push((s, end));
            }
        }
        out
    }

    /// Applies one randomly chosen mutation; returns its name (for reports).
    pub fn mutate_once(data: &mut Vec<u8>, rng: &mut Rng) -> &'static str {
        if data.is_empty() {
            data.push(b'{');
            return "grow";
        }
        let len = data.len();
        match rng.below(18) {
            0 => {
                if let Some(i) = random_digit(data, rng) {
                    data[i] = b'0' + ((data[i] - b'0' + 1 + rng.below(9) as u8) % 10);
                }
                "flip_digit"
            }
            1 => {
                if let Some(i) = random_digit(data, rng) {
                    let mut s = i;
                    while s > 0 && data[s - 1].is_ascii_digit() {
                        s -= 1;
                    }
                    let mut e = i;
                    while e < len && data[e].is_ascii_digit() {
                        e += 1;
                    }
                    let n = rng.pick(NUMBERS).as_bytes();
                    data.splice(s..e, n.iter().copied());
                }
                "huge_number"
            }
            2 => {
                data.truncate(rng.below(len));
                "truncate"
            }
            3 => {
                // Drop a few values of a number array: misaligned records, shifted fields.
                let key = rng.pick(&["\"nodes\":[", "\"edges\":[", "\"locations\":["]);
                if let Some(k) = find(data, key.as_bytes()) {
                    let body = k + key.len();
                    if let Some(end) = memchr::memchr(b']', &data[body..]).map(|e| body + e)
                        && end > body
                    {
                        let a = body + rng.below(end - body);
                        let b = (a + 1 + rng.below(40)).min(end);
                        data.drain(a..b);
                    }
                }
                "cut_array"
            }
            4 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                data.drain(a..b);
                "delete_range"
            }
            5 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(256)).min(len);
                let copy = data[a..b].to_vec();
                let at = rng.below(len);
                data.splice(at..at, copy);
                "duplicate_range"
            }
            6 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(data.len());
                    data[i] = rng.next_u64() as u8;
                }
                "random_bytes"
            }
            7 => {
                let c = *rng.pick(b"[]{},:\"\\ -.e0\n\x00\xff");
                let at = rng.below(len + 1);
                data.insert(at, c);
                "insert_byte"
            }
            8 => {
                let s = sections(data);
                if s.len() >= 2 {
                    let i = rng.below(s.len());
                    let j = rng.below(s.len());
                    let (a, b) = (s[i.min(j)], s[i.max(j)]);
                    if a != b {
                        let mut out = Vec::with_capacity(len);
                        out.extend_from_slice(&data[..a.0]);
                        out.extend_from_slice(&data[b.0..b.1]);
                        out.extend_from_slice(&data[a.1..b.0]);
                        out.extend_from_slice(&data[a.0..a.1]);
                        out.extend_from_slice(&data[b.1..]);
                        *data = out;
                    }
                }
                "swap_sections"
            }
            9 => {
                let s = sections(data);
                if !s.is_empty() {
                    let (a, b) = *rng.pick(&s);
                    let (_, at) = *rng.pick(&s);
                    let mut copy = vec![b','];
                    copy.extend_from_slice(&data[a..b]);
                    data.splice(at..at, copy);
                }
                "duplicate_key"
            }
            10 => {
                let s = sections(data);
                if !s.is_empty() {
                    let (a, _) = *rng.pick(&s);
                    let key = rng.pick(KEYS).as_bytes();
                    if let Some(colon) = memchr::memchr(b':', &data[a..]) {
                        data.splice(a..a + colon + 1, key.iter().copied());
                    }
                }
                "rename_key"
            }
            11 | 12 => {
                let (from, to) = *rng.pick(META);
                if let Some(i) = find(data, from.as_bytes()) {
                    data.splice(i..i + from.len(), to.bytes());
                }
                "wrong_meta"
            }
            13 => {
                let key = rng.pick(&["\"node_count\":", "\"edge_count\":"]);
                if let Some(k) = find(data, key.as_bytes()) {
                    let s = k + key.len();
                    let e = data[s..]
                        .iter()
                        .position(|c| !c.is_ascii_digit())
                        .map_or(data.len(), |p| s + p);
                    let n = rng.pick(NUMBERS).as_bytes();
                    data.splice(s..e, n.iter().copied());
                }
                "header_counts"
            }
            14 => {
                let bad: &[&str] = &[
                    "\\ud800",
                    "\\udc00\\ud800",
                    "\\u12",
                    "\\x",
                    "\\",
                    "\u{1}",
                    "\"",
                    "\\uDBFF\\uDFFF",
                    "\\u0000",
                    "\u{feff}",
                ];
                let at = find(data, b"\"strings\":[")
                    .map(|s| s + 11 + rng.below(len.saturating_sub(s + 11)))
                    .unwrap_or_else(|| rng.below(len));
                let ins = rng.pick(bad).as_bytes();
                data.splice(at..at, ins.iter().copied());
                "bad_string"
            }
            15 => {
                let depth = 1 + rng.below(200_000);
                let mut ins = b"\"deep\":".to_vec();
                ins.extend(std::iter::repeat_n(b'[', depth));
                if rng.below(2) == 0 {
                    ins.extend(std::iter::repeat_n(b']', depth));
                }
                ins.push(b',');
                let at = if rng.below(2) == 0 {
                    find(data, b"\"meta\":").unwrap_or(1)
                } else {
                    1
                };
                data.splice(at..at, ins);
                "deep_nesting"
            }
            16 => {
                let ws = rng
                    .pick(&[" ", "\n", "\t", "\r\n", "\u{feff}", "  \n  "])
                    .as_bytes();
                let at = rng.below(len + 1);
                data.splice(at..at, ws.iter().copied());
                "whitespace"
            }
            _ => {
                // Long runs: a huge string or a huge number array piece.
                let at = rng.below(len + 1);
                let filler = if rng.below(2) == 0 { b'9' } else { b'a' };
                data.splice(at..at, std::iter::repeat_n(filler, 1 + rng.below(1 << 16)));
                "long_run"
            }
        }
    }

    /// One to four stacked mutations, sometimes gzipped afterwards (and sometimes the gzip
    /// stream itself damaged). Returns the mutated bytes and the names of what was done.
    pub fn mutate(input: &[u8], rng: &mut Rng) -> (Vec<u8>, String) {
        let mut data = input.to_vec();
        let mut names = Vec::new();
        for _ in 0..1 + rng.below(4) {
            names.push(mutate_once(&mut data, rng));
        }
        if rng.below(8) == 0 {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            // Writing to a Vec cannot fail.
            let _ = gz.write_all(&data);
            data = gz.finish().unwrap_or_default();
            names.push("gzip");
            if rng.below(2) == 0 && !data.is_empty() {
                match rng.below(3) {
                    0 => data.truncate(rng.below(data.len())),
                    _ => {
                        let i = 10 + rng.below(data.len().saturating_sub(10).max(1));
                        if i < data.len() {
                            data[i] ^= 1 << rng.below(8);
                        }
                    }
                }
                names.push("gzip_damage");
            }
        }
        (data, names.join("+"))
    }

    /// How one input ended (panics are the caller's to catch).
    #[derive(Debug)]
    pub enum Outcome {
        /// Loaded, analysed, summarised, compared and reported.
        Ok { nodes: usize },
        /// Refused with a typed error (its message).
        Refused(String),
        /// Loaded, but a later step disagreed with itself (e.g. the findings it wrote do not
        /// read back): a bug that is not a panic.
        Inconsistent(String),
    }

    /// Loads and analyses the unmutated input once, for [`exercise`] to compare against.
    pub fn original(name: &str, bytes: &[u8]) -> Result<Loaded, String> {
        let snap =
            snapshot::load_bytes(name, bytes, &Hooks::default()).map_err(|e| e.to_string())?;
        Loaded::analyze(snap, Hooks::default(), None).map_err(|e| e.to_string())
    }

    /// Everything a user can do with one file: load it, analyse it, show its Summary, compare
    /// it with `original` both ways and render every report of those comparisons (each
    /// snapshot classified with its own interface definitions: the comparison only needs some
    /// classification of each side).
    pub fn exercise(name: &str, bytes: &[u8], original: &Loaded) -> Outcome {
        let snap = match snapshot::load_bytes(name, bytes, &Hooks::default()) {
            Ok(s) => s,
            Err(e) => return Outcome::Refused(e.to_string()),
        };
        let nodes = snap.node_count();
        let definitions = class::infer_interface_definitions(&snap);
        let loaded = match Loaded::analyze(snap, Hooks::default(), Some(&definitions)) {
            Ok(l) => l,
            Err(e) => return Outcome::Inconsistent(format!("analysis refused: {e}")),
        };
        let _ = loaded.summary();
        for (b, a) in [(original, &loaded), (&loaded, original)] {
            let comparison = diff::compare(b, a, None);
            for include_strings in [false, true] {
                let findings =
                    report::build(&comparison, b, a, None, ReportOptions { include_strings });
                let _ = report::markdown::render(&findings);
                let _ = report::html::render(&findings);
                let json = report::findings::to_json(&findings);
                match report::findings::parse("roundtrip.heapdiff.json", json.as_bytes()) {
                    Ok(back) if back == findings => {}
                    Ok(_) => {
                        return Outcome::Inconsistent("findings changed on a round trip".into());
                    }
                    Err(e) => {
                        return Outcome::Inconsistent(format!("own findings refused: {e}"));
                    }
                }
            }
        }
        Outcome::Ok { nodes }
    }

    /// A findings file from a stranger: parse it, and render what parsed.
    pub fn exercise_findings(bytes: &[u8]) -> Result<(), String> {
        let findings =
            report::findings::parse("stranger.heapdiff.json", bytes).map_err(|e| e.to_string())?;
        let _ = report::markdown::render(&findings);
        let _ = report::html::render(&findings);
        let _ = report::findings::to_json(&findings);
        Ok(())
    }

    /// JSON-aware mutations of a findings file on top of the byte-level ones.
    pub fn mutate_findings(input: &[u8], rng: &mut Rng) -> (Vec<u8>, String) {
        if rng.below(2) == 0 {
            return mutate(input, rng);
        }
        let mut data = input.to_vec();
        let tweaks: &[(&str, &str)] = &[
            ("\"version\": 1", "\"version\": 4294967296"),
            ("\"version\": 1", "\"version\": -1"),
            ("\"format\": \"heapdiff-findings\"", "\"format\": \"x\""),
            ("\"added_count\": ", "\"added_count\": 18446744073709551615"),
            ("\"count_delta\": ", "\"count_delta\": -9223372036854775808"),
            ("\"after_share\": ", "\"after_share\": 1e999"),
            ("\"after_share\": ", "\"after_share\": -0.0"),
            ("\"steps\": [", "\"steps\": [[[[[[[[[[[[[[[[[["),
            (
                "\"name\": \"",
                "\"name\": \"<script>alert(1)</script>\\u0000\\ud800",
            ),
            (
                "\"edge_name\": \"",
                "\"edge_name\": \"\\\"><img src=x onerror=alert(1)>",
            ),
            ("\"class_name\": \"", "\"class_name\": \"\\u202e|```|\\n# x"),
            ("\"paths\": [", "\"paths\": null, \"x\": ["),
            ("\"classes\": [", "\"classes\": {}, \"y\": ["),
            (
                "\"example\": {",
                "\"example\": {\"id\": 4294967296, \"z\": {",
            ),
            ("\"count\": ", "\"count\": 1e3, \"w\": "),
            ("{", "{\"format\": \"heapdiff-findings\", "),
        ];
        for _ in 0..1 + rng.below(3) {
            let (from, to) = *rng.pick(tweaks);
            let hits: Vec<usize> = memchr::memmem::find_iter(&data, from.as_bytes()).collect();
            if !hits.is_empty() {
                let i = *rng.pick(&hits);
                data.splice(i..i + from.len(), to.bytes());
            }
        }
        (data, "findings_tweak".into())
    }
}

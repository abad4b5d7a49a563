//! Synthetic V8 heap snapshots of any size, for scale tests and hostile-input tests.
//!
//! [`write`] streams a valid Node-style snapshot (nodes, then edges, then locations, then
//! strings) without holding the graph: every node, edge and string is a pure function of the
//! configuration and its index, so each section is generated on the fly, in parallel chunks
//! written in order. A *before*/*after* pair made with the same seed and size shares its objects
//! with equal V8 ids (as one process's snapshots do); the after snapshot adds `leak`
//! `LeakedSession` objects held by one array reachable from the global object, and replaces a
//! few percent of the ordinary objects by new ones (churn: new ids, same classes).

use std::io::{self, Write};

use rayon::prelude::*;

use super::serialize::{put, put_json_string, stream};
use super::{NODE_FIELDS, edge_type, node_meta, node_type};

/// Values per node record of [`node_meta`].
const NODE_VALUES: u64 = NODE_FIELDS.len() as u64;

const HIDDEN: u8 = node_type("hidden");
const ARRAY: u8 = node_type("array");
const STRING: u8 = node_type("string");
const OBJECT: u8 = node_type("object");
const CLOSURE: u8 = node_type("closure");
const SYNTHETIC: u8 = node_type("synthetic");
const CONTEXT: u8 = edge_type("context");
const ELEMENT: u8 = edge_type("element");
const PROPERTY: u8 = edge_type("property");
const INTERNAL: u8 = edge_type("internal");
const SHORTCUT: u8 = edge_type("shortcut");
const WEAK: u8 = edge_type("weak");

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
pub(super) fn mix(seed: u64, x: u64) -> u64 {
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

/// Streams the snapshot `c` describes to `out`.
pub fn write(c: &Config, out: &mut (impl Write + Send)) -> io::Result<Stats> {
    let g = Graph { c };
    let nodes = c.node_count();
    // Edge count first (a cheap pass), because the header states it.
    let edges: u64 = (0..nodes).into_par_iter().map(|i| g.node(i).edges).sum();
    let mut bytes = 0u64;
    let meta = node_meta();
    let head = format!(
        "{{\"snapshot\":{{\"meta\":{meta},\"node_count\":{nodes},\"edge_count\":{edges},\"trace_function_count\":0}},\n\"nodes\":["
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
                put(buf, e.to * NODE_VALUES);
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
            put(buf, (g.record(u) + 4) * NODE_VALUES);
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

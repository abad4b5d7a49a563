//! Hand-built snapshots: a few nodes and edges that check one DevTools rule each, without a
//! file. Types are V8's names ([`NODE_TYPES`], [`EDGE_TYPES`]); ids are `2 * ordinal + 1`, odd
//! like V8's; string 0 is `""` as in V8's tables.
//!
//! [`GraphBuilder`] takes nodes and edges one call at a time, [`graph`] from two lists; graphs
//! of millions of nodes fill the columns of [`empty`] directly and count edges with
//! [`first_edges`].

use std::collections::HashMap;

use super::{EDGE_FIELDS, EDGE_TYPES, LOCATION_FIELDS, NODE_FIELDS, NODE_TYPES};
use crate::snapshot::{Location, Locations, Meta, Snapshot, Strings};

/// The meta of a hand-built graph: Node 20's fields and V8's type lists.
pub fn meta() -> Meta {
    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
    Meta::new(
        names(&NODE_FIELDS),
        names(&NODE_TYPES),
        names(&EDGE_FIELDS),
        names(&EDGE_TYPES),
        names(&LOCATION_FIELDS),
    )
}

/// A snapshot with [`meta`], the string table `strings` and no nodes: for graphs too large to
/// build a call per edge.
pub fn empty(strings: &[&str]) -> Snapshot {
    let mut s = Snapshot::default();
    s.meta = meta();
    s.strings = strings.iter().map(|s| s.to_string()).collect::<Strings>();
    s
}

/// `first_edge` (CSR offsets) from each node's edge count, in node order.
pub fn first_edges(counts: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut first = vec![0u32];
    let mut total = 0u32;
    for c in counts {
        total += c;
        first.push(total);
    }
    first
}

fn type_index(list: &[&str], name: &str) -> u8 {
    list.iter()
        .position(|t| *t == name)
        .unwrap_or_else(|| panic!("{name:?} is not a V8 type")) as u8
}

/// Nodes and edges added one call at a time; [`GraphBuilder::build`] makes the snapshot.
#[derive(Default)]
pub struct GraphBuilder {
    strings: Vec<String>,
    interned: HashMap<String, u32>,
    /// `(type, name, self size)` per node ordinal.
    nodes: Vec<(u8, u32, u32)>,
    /// `(from, type, name or index, to)`, in the order they were added.
    edges: Vec<(u32, u8, u32, u32)>,
    detachedness: Vec<u8>,
    locations: Vec<Location>,
}

impl GraphBuilder {
    /// A graph holding only its root: a synthetic node named `""` at ordinal 0.
    pub fn new() -> GraphBuilder {
        let mut b = GraphBuilder::default();
        b.node("synthetic", "", 0);
        b
    }

    fn string(&mut self, s: &str) -> u32 {
        if self.strings.is_empty() {
            self.strings.push(String::new());
            self.interned.insert(String::new(), 0);
        }
        if let Some(&i) = self.interned.get(s) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.to_owned());
        self.interned.insert(s.to_owned(), i);
        i
    }

    /// Adds a node of V8 type `node_type`; returns its ordinal.
    pub fn node(&mut self, node_type: &str, name: &str, self_size: u32) -> u32 {
        let name = self.string(name);
        self.nodes
            .push((type_index(&NODE_TYPES, node_type), name, self_size));
        self.nodes.len() as u32 - 1
    }

    /// Adds an edge; `name` is the element index in decimal for `element` and `hidden` edges,
    /// the property or variable name otherwise. A node's edges keep the order they were added.
    pub fn edge(&mut self, from: u32, edge_type: &str, name: &str, to: u32) {
        let name = if matches!(edge_type, "element" | "hidden") {
            name.parse()
                .unwrap_or_else(|_| panic!("{edge_type} edge index {name:?}"))
        } else {
            self.string(name)
        };
        self.edges
            .push((from, type_index(&EDGE_TYPES, edge_type), name, to));
    }

    /// Sets a node's `detachedness` (1 attached, 2 detached); graphs that never call this have
    /// no such column, as the loader keeps none when a file's column is all 0.
    pub fn detachedness(&mut self, node: u32, state: u8) {
        self.detachedness.resize(self.nodes.len(), 0);
        self.detachedness[node as usize] = state;
    }

    /// Gives a node the source location `script_id:line:column`.
    pub fn location(&mut self, node: u32, script_id: u32, line: u32, column: u32) {
        self.locations.push(Location {
            node,
            script_id,
            line,
            column,
        });
    }

    pub fn build(mut self) -> Snapshot {
        let n = self.nodes.len();
        let mut snap = empty(&[]);
        for (i, &(node_type, name, self_size)) in self.nodes.iter().enumerate() {
            snap.node_type.push(node_type);
            snap.node_name.push(name);
            snap.node_id.push(2 * i as u32 + 1);
            snap.node_self_size.push(self_size);
        }
        // CSR order: by source node, each node's edges in the order they were added.
        self.edges.sort_by_key(|e| e.0);
        let mut counts = vec![0u32; n];
        let (mut types, mut names) = (Vec::new(), Vec::new());
        for &(from, edge_type, name, to) in &self.edges {
            counts[from as usize] += 1;
            types.push(edge_type);
            names.push(name);
            snap.edge_to.push(to);
        }
        snap.first_edge = first_edges(counts.into_iter());
        snap.set_edges(&types, &names);
        if !self.detachedness.is_empty() {
            self.detachedness.resize(n, 0);
            snap.node_detachedness = self.detachedness;
        }
        self.locations.sort_by_key(|l| l.node);
        snap.locations = Locations::new(n, &self.locations);
        snap.strings = self.strings.into_iter().collect::<Strings>();
        snap
    }
}

/// A snapshot from `(type, name, self size)` nodes (the first is the root) and `(from, type,
/// name, to)` edges in any order.
pub fn graph(nodes: &[(&str, &str, u32)], edges: &[(u32, &str, &str, u32)]) -> Snapshot {
    let mut b = GraphBuilder::default();
    for &(node_type, name, self_size) in nodes {
        b.node(node_type, name, self_size);
    }
    for &(from, edge_type, name, to) in edges {
        b.edge(from, edge_type, name, to);
    }
    b.build()
}

//! The V8 heap snapshot as a columnar graph.
//!
//! Nodes and edges live in struct-of-arrays vectors indexed by `u32` ordinals, as DevTools keeps
//! them in flat typed arrays. Edges are stored in CSR form: the edges of node `n` are
//! `first_edge[n]..first_edge[n + 1]`, and `edge_to` holds target node *ordinals* (the file holds
//! node array indexes; the loader divides them by the node field count once). An edge's type and
//! name share 3 bytes ([`packed`]).

pub mod class;
mod columns;
mod error;
mod locations;
pub mod meta;
mod numbers;
mod packed;
mod parse;
mod reader;
pub mod scopes;
mod strings;
pub mod traces;

pub use error::{LoadError, LoadErrorKind};
pub use locations::Locations;
pub use meta::{EdgeKind, Meta, NodeKind};
use packed::PackedEdges;
pub use parse::{load, load_bytes};
pub use scopes::Scopes;
pub use strings::Strings;
pub use traces::{TraceFunction, Traces};

/// A source location of a node (from the snapshot's `locations` section).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Location {
    pub node: u32,
    pub script_id: u32,
    pub line: u32,
    pub column: u32,
}

/// One loaded snapshot. Every vector named `node_*` has `node_count()` entries, `edge_to`
/// `edge_count()` entries.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// File name (no directory) the snapshot was read from, for messages and reports.
    pub file_name: String,
    /// Size of the file on disk in bytes (compressed size for `.gz`).
    pub file_bytes: u64,
    /// The file's modification time, when it was read from a file that has one.
    pub modified: Option<std::time::SystemTime>,
    pub meta: Meta,
    /// Raw node type index into `meta.node_types`; `meta.node_kind(t)` maps it to a [`NodeKind`].
    pub node_type: Vec<u8>,
    /// String table index of the node's name.
    pub node_name: Vec<u32>,
    /// V8's object id, stable across snapshots of one process.
    pub node_id: Vec<u32>,
    pub node_self_size: Vec<u32>,
    /// DOM link state (0 unknown, 1 attached, 2 detached); empty when the file has no such field.
    pub node_detachedness: Vec<u8>,
    /// `node_count() + 1` entries: edges of node `n` are `first_edge[n]..first_edge[n + 1]`.
    pub first_edge: Vec<u32>,
    /// Each edge's raw type and name, 3 bytes per edge: see [`Snapshot::edge_type`] and
    /// [`Snapshot::edge_name_index`], or [`Snapshot::set_edges`] to build them.
    edges: PackedEdges,
    /// Target node ordinal.
    pub edge_to: Vec<u32>,
    pub strings: Strings,
    /// At most one per node.
    pub locations: Locations,
    /// `(script_id, Script node)` from the locations' `script_object_index` (Chromium 150+,
    /// Deno), ascending by script id; empty for files without the field.
    pub script_objects: Vec<(u32, u32)>,
    /// Ordinal of the root node (`snapshot.root_index` in the header, else 0).
    pub root: u32,
    /// The allocation trace node of every node (`trace_node_id`; 0 for none); empty when the
    /// snapshot has no allocation traces.
    pub node_trace_id: Vec<u32>,
    /// The allocation traces (`trace_function_infos`, `trace_tree`); empty without tracking.
    pub traces: Traces,
    /// Chromium 156's scope tables (`scopes`, `scope_context_vars`, `scope_uses`); empty for
    /// files without them.
    pub scopes: Scopes,
    /// Memory outside the V8 heap the embedder reported (`snapshot.extra_native_bytes`, Node
    /// 24+); None when the header has no such field.
    pub extra_native_bytes: Option<u64>,
    /// What the loader read differently from a plain V8 snapshot, one sentence each, naming the
    /// file: runtime quirks it corrected or kept as DevTools keeps them (see
    /// `parse::finish`). Empty for an ordinary file.
    pub warnings: Vec<String>,
}

impl Snapshot {
    pub fn node_count(&self) -> usize {
        self.node_type.len()
    }

    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    pub fn node_kind(&self, node: u32) -> NodeKind {
        self.meta.node_kind(self.node_type[node as usize])
    }

    /// Raw edge type index into `meta.edge_types`; `meta.edge_kind(t)` maps it to an
    /// [`EdgeKind`].
    #[inline]
    pub fn edge_type(&self, edge: u32) -> u8 {
        self.edges.edge_type(edge)
    }

    #[inline]
    pub fn edge_kind(&self, edge: u32) -> EdgeKind {
        self.meta.edge_kind(self.edge_type(edge))
    }

    /// The edge's raw `name_or_index`: a string table index for named edges, the element index
    /// for `element`/`hidden` edges.
    #[inline]
    pub fn edge_name_index(&self, edge: u32) -> u32 {
        self.edges.name(edge)
    }

    /// Sets every edge's raw type and name (hand-built snapshots; the loader packs them as it
    /// reads). `edge_to` and `first_edge` are the caller's to set.
    pub fn set_edges(&mut self, types: &[u8], names: &[u32]) {
        self.edges = PackedEdges::from_columns(types, names);
    }

    /// Bytes held by the edges' types and names.
    pub fn edge_type_name_bytes(&self) -> usize {
        self.edges.heap_bytes()
    }

    /// Asks for what a walk reads first about `node`: its type and where its edges start (see
    /// [`crate::mem::prefetch`]; a hint, never a read).
    #[inline(always)]
    pub fn prefetch_node(&self, node: u32) {
        crate::mem::prefetch(&self.node_type, node as usize);
        crate::mem::prefetch(&self.first_edge, node as usize);
    }

    /// Asks for the first edges of `node` (their targets, types and names); reads `first_edge`.
    #[inline(always)]
    pub fn prefetch_edges(&self, node: u32) {
        if let Some(&first) = self.first_edge.get(node as usize) {
            crate::mem::prefetch(&self.edge_to, first as usize);
            self.edges.prefetch(first);
        }
    }

    /// Asks for what a breadth-first walk will read for the nodes it takes a little after the
    /// current one (`ahead(k)`: the k-th next, if any), in stages so that each stage's
    /// addresses have arrived when the next needs them: the 24th node's edge offsets, the
    /// 12th's edges, the state the walk keeps for the 4th's first targets (`prefetch_target`).
    #[inline(always)]
    pub fn prefetch_ahead(
        &self,
        ahead: impl Fn(usize) -> Option<u32>,
        prefetch_target: impl Fn(u32),
    ) {
        if let Some(far) = ahead(24) {
            self.prefetch_node(far);
        }
        if let Some(near) = ahead(12) {
            self.prefetch_edges(near);
        }
        if let Some(next) = ahead(4) {
            for e in self.edges(next).take(8) {
                prefetch_target(self.edge_to[e as usize]);
            }
        }
    }

    /// The node's name from the string table.
    pub fn node_name(&self, node: u32) -> &str {
        self.strings.get(self.node_name[node as usize])
    }

    /// Edge indexes of `node`'s outgoing edges (none once the edges are released).
    pub fn edges(&self, node: u32) -> std::ops::Range<u32> {
        if self.edge_to.is_empty() {
            return 0..0;
        }
        self.first_edge[node as usize]..self.first_edge[node as usize + 1]
    }

    /// How many outgoing edges `node` has in the file; kept when the edges are released.
    pub fn edge_count_of(&self, node: u32) -> u32 {
        let i = node as usize;
        match (self.first_edge.get(i), self.first_edge.get(i + 1)) {
            (Some(&a), Some(&b)) => b.saturating_sub(a),
            _ => 0,
        }
    }

    /// Detachedness of a node (0 when the file does not record it).
    pub fn detachedness(&self, node: u32) -> u8 {
        self.node_detachedness
            .get(node as usize)
            .copied()
            .unwrap_or(0)
    }

    /// The edge's name as DevTools prints it: the string for named edges, the decimal index for
    /// `element` and `hidden` edges.
    pub fn edge_name(&self, edge: u32) -> std::borrow::Cow<'_, str> {
        let raw = self.edge_name_index(edge);
        if self.edge_kind(edge).has_string_name() {
            std::borrow::Cow::Borrowed(self.strings.get(raw))
        } else {
            std::borrow::Cow::Owned(raw.to_string())
        }
    }

    /// DevTools' `allocationStack`: the functions that were running when `node` was
    /// allocated, innermost first, up to the trace tree's root; empty when the snapshot has no
    /// allocation traces or the node none.
    pub fn allocation_stack(&self, node: u32) -> Vec<TraceFunction> {
        match self.node_trace_id.get(node as usize) {
            Some(&id) => self.traces.stack(id),
            None => Vec::new(),
        }
    }

    /// The location of a node, if the snapshot recorded one.
    pub fn location(&self, node: u32) -> Option<Location> {
        self.locations.get(node)
    }

    /// Frees the edges, keeping the nodes, strings, locations and each node's edge count
    /// ([`Snapshot::edge_count_of`]): for a snapshot that is only compared against (see
    /// `Loaded::comparison_base`). Afterwards `edge_count()` is 0 and every node's edge range
    /// is empty.
    pub fn release_edges(&mut self) {
        self.edges = PackedEdges::default();
        self.edge_to = Vec::new();
    }

    /// Ordinal of the node with V8 id `id` (linear scan; callers needing many look-ups build a map).
    pub fn node_for_id(&self, id: u32) -> Option<u32> {
        self.node_id.iter().position(|&x| x == id).map(|i| i as u32)
    }
}

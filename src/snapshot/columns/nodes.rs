//! The `nodes` columns: one vector per field the engine keeps ([`NodeField`]).

use std::sync::Arc;

use super::{grow, narrow};
use crate::snapshot::numbers::{Columns, Sink, split, store};

/// What each node field is used for.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum NodeField {
    Type,
    Name,
    Id,
    SelfSize,
    EdgeCount,
    Detachedness,
    /// The allocation trace node (kept only for snapshots with allocation traces).
    TraceNodeId,
    Ignored,
}

pub struct NodeColumns {
    fields: Arc<[NodeField]>,
    at: Option<NodeAt>,
    records: usize,
    pub node_type: Vec<u8>,
    pub name: Vec<u32>,
    pub id: Vec<u32>,
    pub self_size: Vec<u32>,
    pub edge_count: Vec<u32>,
    pub detachedness: Vec<u8>,
    pub trace_node_id: Vec<u32>,
}

impl NodeColumns {
    pub fn new(fields: Arc<[NodeField]>) -> NodeColumns {
        NodeColumns {
            at: NodeAt::find(&fields),
            fields,
            records: 0,
            node_type: Vec::new(),
            name: Vec::new(),
            id: Vec::new(),
            self_size: Vec::new(),
            edge_count: Vec::new(),
            detachedness: Vec::new(),
            trace_node_id: Vec::new(),
        }
    }

    /// Reserves room for `nodes` nodes (a count the caller has bounded by the file size).
    pub fn reserve(&mut self, nodes: usize) {
        self.node_type.reserve_exact(nodes);
        self.name.reserve_exact(nodes);
        self.id.reserve_exact(nodes);
        self.self_size.reserve_exact(nodes);
        self.edge_count.reserve_exact(nodes + 1);
        // Read at scattered places by every walk of the graph.
        crate::mem::advise_huge(self.node_type.spare_capacity_mut());
        crate::mem::advise_huge(self.edge_count.spare_capacity_mut());
        if self.has(NodeField::Detachedness) {
            self.detachedness.reserve_exact(nodes);
        }
        if self.has(NodeField::TraceNodeId) {
            self.trace_node_id.reserve_exact(nodes);
        }
    }

    fn has(&self, field: NodeField) -> bool {
        self.fields.contains(&field)
    }
}

impl Columns for NodeColumns {
    type Sink<'a> = NodeSink<'a>;

    fn width(&self) -> usize {
        self.fields.len()
    }

    fn grow(&mut self, records: usize) -> NodeSink<'_> {
        let base = self.records as u64;
        self.records += records;
        let has = |f| self.fields.contains(&f);
        let (t, n, i, s, e, d, tr) = (
            has(NodeField::Type),
            has(NodeField::Name),
            has(NodeField::Id),
            has(NodeField::SelfSize),
            has(NodeField::EdgeCount),
            has(NodeField::Detachedness),
            has(NodeField::TraceNodeId),
        );
        NodeSink {
            fields: &self.fields,
            at: self.at,
            base,
            node_type: grow(&mut self.node_type, t, records),
            name: grow(&mut self.name, n, records),
            id: grow(&mut self.id, i, records),
            self_size: grow(&mut self.self_size, s, records),
            edge_count: grow(&mut self.edge_count, e, records),
            detachedness: grow(&mut self.detachedness, d, records),
            trace_node_id: grow(&mut self.trace_node_id, tr, records),
        }
    }
}

/// Where each used field sits in a node record.
#[derive(Clone, Copy)]
struct NodeAt {
    ty: usize,
    name: usize,
    id: usize,
    size: usize,
    count: usize,
    detachedness: Option<usize>,
    trace: Option<usize>,
}

impl NodeAt {
    fn find(fields: &[NodeField]) -> Option<NodeAt> {
        let at = |f| fields.iter().position(|&x| x == f);
        Some(NodeAt {
            ty: at(NodeField::Type)?,
            name: at(NodeField::Name)?,
            id: at(NodeField::Id)?,
            size: at(NodeField::SelfSize)?,
            count: at(NodeField::EdgeCount)?,
            detachedness: at(NodeField::Detachedness),
            trace: at(NodeField::TraceNodeId),
        })
    }
}

/// The node columns of a run of records.
pub struct NodeSink<'a> {
    fields: &'a [NodeField],
    at: Option<NodeAt>,
    /// Ordinal of the first node, for errors.
    base: u64,
    node_type: &'a mut [u8],
    name: &'a mut [u32],
    id: &'a mut [u32],
    self_size: &'a mut [u32],
    edge_count: &'a mut [u32],
    detachedness: &'a mut [u8],
    trace_node_id: &'a mut [u32],
}

impl Sink for NodeSink<'_> {
    #[inline(always)]
    fn put(&mut self, field: usize, r: usize, v: u64) -> Result<(), String> {
        let node = self.base + r as u64;
        match self.fields.get(field) {
            Some(NodeField::Type) => store(self.node_type, r, narrow(v, "type", node, "node")?),
            Some(NodeField::Name) => store(self.name, r, narrow(v, "name", node, "node")?),
            Some(NodeField::Id) => store(self.id, r, narrow(v, "id", node, "node")?),
            Some(NodeField::SelfSize) => {
                store(self.self_size, r, narrow(v, "self_size", node, "node")?)
            }
            Some(NodeField::EdgeCount) => {
                store(self.edge_count, r, narrow(v, "edge_count", node, "node")?)
            }
            Some(NodeField::Detachedness) => store(
                self.detachedness,
                r,
                narrow(v, "detachedness", node, "node")?,
            ),
            Some(NodeField::TraceNodeId) => store(
                self.trace_node_id,
                r,
                narrow(v, "trace_node_id", node, "node")?,
            ),
            Some(NodeField::Ignored) | None => Ok(()),
        }
    }

    #[inline(always)]
    fn put_record(&mut self, r: usize, v: &[u64]) -> bool {
        let Some(at) = self.at else { return false };
        let (ty, name, id, size, count) = (v[at.ty], v[at.name], v[at.id], v[at.size], v[at.count]);
        let detachedness = at.detachedness.map_or(0, |d| v[d]);
        let trace = at.trace.map_or(0, |t| v[t]);
        let wide = (name | id | size | count | trace) > u64::from(u32::MAX);
        let has_detachedness = at.detachedness.is_some();
        // Columns of a known layout all have the sink's length (detachedness when present).
        let fits = r < self.node_type.len()
            && r < self.name.len()
            && r < self.id.len()
            && r < self.self_size.len()
            && r < self.edge_count.len()
            && (!has_detachedness || r < self.detachedness.len())
            && (at.trace.is_none() || r < self.trace_node_id.len());
        if wide || ty > 255 || detachedness > 255 || !fits {
            return false;
        }
        self.node_type[r] = ty as u8;
        self.name[r] = name as u32;
        self.id[r] = id as u32;
        self.self_size[r] = size as u32;
        self.edge_count[r] = count as u32;
        if has_detachedness {
            self.detachedness[r] = detachedness as u8;
        }
        if at.trace.is_some() {
            self.trace_node_id[r] = trace as u32;
        }
        true
    }

    fn split_at(self, records: usize) -> (Self, Self) {
        let (t0, t1) = split(self.node_type, records);
        let (n0, n1) = split(self.name, records);
        let (i0, i1) = split(self.id, records);
        let (s0, s1) = split(self.self_size, records);
        let (e0, e1) = split(self.edge_count, records);
        let (d0, d1) = split(self.detachedness, records);
        let (x0, x1) = split(self.trace_node_id, records);
        let head = NodeSink {
            fields: self.fields,
            at: self.at,
            base: self.base,
            node_type: t0,
            name: n0,
            id: i0,
            self_size: s0,
            edge_count: e0,
            detachedness: d0,
            trace_node_id: x0,
        };
        let tail = NodeSink {
            fields: self.fields,
            at: self.at,
            base: self.base + records as u64,
            node_type: t1,
            name: n1,
            id: i1,
            self_size: s1,
            edge_count: e1,
            detachedness: d1,
            trace_node_id: x1,
        };
        (head, tail)
    }
}

//! Column sets the number parser writes `nodes` and `edges` values into: one field per vector,
//! but an edge's type and name share one 3-byte slot ([`PackedEdges`]). Each block grows the
//! columns by its whole records; every parallel region writes its own slice of them
//! ([`NodeSink`], [`EdgeSink`]).

use std::sync::{Arc, Mutex, PoisonError};

use super::Location;
use super::numbers::{Columns, Sink, split, store};
use super::packed::{PackedEdges, Packing, Spilled, read_slot, write_slot};

/// What each node field is used for.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum NodeField {
    Type,
    Name,
    Id,
    SelfSize,
    EdgeCount,
    Detachedness,
    Ignored,
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum EdgeField {
    Type,
    Name,
    To,
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
        }
    }

    /// Reserves room for `nodes` nodes (a count the caller has bounded by the file size).
    pub fn reserve(&mut self, nodes: usize) {
        self.node_type.reserve_exact(nodes);
        self.name.reserve_exact(nodes);
        self.id.reserve_exact(nodes);
        self.self_size.reserve_exact(nodes);
        self.edge_count.reserve_exact(nodes + 1);
        if self.has(NodeField::Detachedness) {
            self.detachedness.reserve_exact(nodes);
        }
    }

    fn has(&self, field: NodeField) -> bool {
        self.fields.contains(&field)
    }
}

/// Grows `column` by `records` zeros when the layout has its field; returns the new tail.
fn grow<T: Copy + Default>(column: &mut Vec<T>, present: bool, records: usize) -> &mut [T] {
    if !present {
        return &mut [];
    }
    let from = column.len();
    column.reserve(records);
    populate(&column.spare_capacity_mut()[..records]);
    column.resize(from + records, T::default());
    &mut column[from..]
}

/// Backs `memory` with pages in one system call before it is written: a block's columns are
/// megabytes, and faulting them in a page at a time costs a trap per 4 KB.
pub fn populate<T>(memory: &[std::mem::MaybeUninit<T>]) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = memory.as_ptr() as usize;
        let end = start + std::mem::size_of_val(memory);
        let (first, last) = (start.next_multiple_of(PAGE), end / PAGE * PAGE);
        if last > first {
            // SAFETY: the range lies inside `memory`, the vector's own spare capacity, and
            // MADV_POPULATE_WRITE only allocates the pages behind it: it never changes what
            // the memory holds (a kernel without it refuses the advice, which is harmless).
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_POPULATE_WRITE,
                );
            }
        }
    }
}

fn narrow<T: TryFrom<u64>>(v: u64, what: &str, record: u64, kind: &str) -> Result<T, String> {
    T::try_from(v).map_err(|_| format!("{kind} {record}: {what} {v} is out of range"))
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
        let (t, n, i, s, e, d) = (
            has(NodeField::Type),
            has(NodeField::Name),
            has(NodeField::Id),
            has(NodeField::SelfSize),
            has(NodeField::EdgeCount),
            has(NodeField::Detachedness),
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
            Some(NodeField::Ignored) | None => Ok(()),
        }
    }

    #[inline(always)]
    fn put_record(&mut self, r: usize, v: &[u64]) -> bool {
        let Some(at) = self.at else { return false };
        let (ty, name, id, size, count) = (v[at.ty], v[at.name], v[at.id], v[at.size], v[at.count]);
        let detachedness = at.detachedness.map_or(0, |d| v[d]);
        let wide = (name | id | size | count) > u64::from(u32::MAX);
        let has_detachedness = at.detachedness.is_some();
        // Columns of a known layout all have the sink's length (detachedness when present).
        let fits = r < self.node_type.len()
            && r < self.name.len()
            && r < self.id.len()
            && r < self.self_size.len()
            && r < self.edge_count.len()
            && (!has_detachedness || r < self.detachedness.len());
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
        true
    }

    fn split_at(self, records: usize) -> (Self, Self) {
        let (t0, t1) = split(self.node_type, records);
        let (n0, n1) = split(self.name, records);
        let (i0, i1) = split(self.id, records);
        let (s0, s1) = split(self.self_size, records);
        let (e0, e1) = split(self.edge_count, records);
        let (d0, d1) = split(self.detachedness, records);
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
        };
        (head, tail)
    }
}

pub struct EdgeColumns {
    fields: Arc<[EdgeField]>,
    at: Option<EdgeAt>,
    node_fields: Divisor,
    /// Edge types the meta lists: a type at or past this is unknown.
    types: u64,
    records: usize,
    /// Each edge's type and name, 3 bytes per edge.
    packed: PackedEdges,
    /// Target node *ordinal* (the file's node array index divided by the node field count).
    to: Vec<u32>,
    /// What the sinks kept beside the columns, handed over in text order ([`Sink::done`]). The
    /// regions hand over one after another; the lock is there because every sink holds it.
    noted: Mutex<Noted>,
}

#[derive(Default)]
struct Noted {
    spilled: Spilled,
    /// The first edge whose type the meta does not list, and that type: the packed column has
    /// no room for it, and the loader names it when it refuses the file.
    unknown_type: Option<(u64, u8)>,
}

/// The loaded edge columns, and the first edge of a type the meta does not list (with that
/// type), if any.
pub struct Edges {
    pub packed: PackedEdges,
    pub to: Vec<u32>,
    pub unknown_type: Option<(u64, u8)>,
}

impl EdgeColumns {
    pub fn new(fields: Arc<[EdgeField]>, node_fields: usize, types: usize) -> EdgeColumns {
        EdgeColumns {
            at: EdgeAt::find(&fields),
            fields,
            node_fields: Divisor::new(node_fields as u64),
            types: types as u64,
            records: 0,
            packed: PackedEdges::new(types),
            to: Vec::new(),
            noted: Mutex::default(),
        }
    }

    pub fn reserve(&mut self, edges: usize) {
        self.packed.reserve(edges);
        self.to.reserve_exact(edges);
    }

    pub fn into_edges(self) -> Edges {
        let noted = self
            .noted
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let mut packed = self.packed;
        packed.set_spilled(noted.spilled);
        Edges {
            packed,
            to: self.to,
            unknown_type: noted.unknown_type,
        }
    }
}

impl Columns for EdgeColumns {
    type Sink<'a> = EdgeSink<'a>;

    fn width(&self) -> usize {
        self.fields.len()
    }

    fn grow(&mut self, records: usize) -> EdgeSink<'_> {
        let base = self.records as u64;
        self.records += records;
        let has_to = self.fields.contains(&EdgeField::To);
        EdgeSink {
            fields: &self.fields,
            at: self.at,
            node_fields: self.node_fields,
            base,
            types: self.types,
            packing: self.packed.packing(),
            packed: self.packed.grow(records),
            to: grow(&mut self.to, has_to, records),
            spilled: Vec::new(),
            unknown_type: None,
            noted: &self.noted,
        }
    }
}

/// Where each used field sits in an edge record.
#[derive(Clone, Copy)]
struct EdgeAt {
    ty: usize,
    name: usize,
    to: usize,
}

impl EdgeAt {
    fn find(fields: &[EdgeField]) -> Option<EdgeAt> {
        let at = |f| fields.iter().position(|&x| x == f);
        Some(EdgeAt {
            ty: at(EdgeField::Type)?,
            name: at(EdgeField::Name)?,
            to: at(EdgeField::To)?,
        })
    }
}

/// The edge columns of a run of records.
pub struct EdgeSink<'a> {
    fields: &'a [EdgeField],
    at: Option<EdgeAt>,
    node_fields: Divisor,
    /// Index of the first edge, for errors.
    base: u64,
    types: u64,
    packing: Packing,
    /// Each record's type and name (written whole: the byte after a slot is another region's).
    packed: &'a mut [[u8; 3]],
    to: &'a mut [u32],
    /// `(edge, name)` of the names that do not fit in their slot, in edge order.
    spilled: Vec<(u64, u32)>,
    /// The first edge of these records whose type the meta does not list, and that type.
    unknown_type: Option<(u64, u8)>,
    noted: &'a Mutex<Noted>,
}

impl EdgeSink<'_> {
    #[inline(always)]
    fn slot(&mut self, r: usize) -> Result<&mut [u8; 3], String> {
        self.packed
            .get_mut(r)
            .ok_or_else(|| "more values than separators".into())
    }

    /// A name that does not fit: rare (see `packed`), so kept out of the record loop.
    #[cold]
    #[inline(never)]
    fn spill(&mut self, edge: u64, name: u32) {
        self.spilled.push((edge, name));
    }
}

impl Sink for EdgeSink<'_> {
    #[inline(always)]
    fn put(&mut self, field: usize, r: usize, v: u64) -> Result<(), String> {
        let edge = self.base + r as u64;
        match self.fields.get(field) {
            Some(EdgeField::Type) => {
                let ty: u8 = narrow(v, "type", edge, "edge")?;
                let (packing, known) = (self.packing, u64::from(ty) < self.types);
                let slot = self.slot(r)?;
                if known {
                    write_slot(slot, packing.with_type(read_slot(slot), ty));
                } else {
                    self.unknown_type.get_or_insert((edge, ty));
                }
                Ok(())
            }
            Some(EdgeField::Name) => {
                let name: u32 = narrow(v, "name_or_index", edge, "edge")?;
                let packing = self.packing;
                let slot = self.slot(r)?;
                let (packed, spills) = packing.with_name(read_slot(slot), name);
                write_slot(slot, packed);
                if spills {
                    self.spill(edge, name);
                }
                Ok(())
            }
            Some(EdgeField::To) => match self.node_fields.divide(v) {
                Some(ordinal) => store(self.to, r, narrow(ordinal, "to_node", edge, "edge")?),
                None => Err(format!(
                    "edge {edge}: to_node {v} is not a multiple of the {} node fields",
                    self.node_fields.d
                )),
            },
            Some(EdgeField::Ignored) | None => Ok(()),
        }
    }

    #[inline(always)]
    fn put_record(&mut self, r: usize, v: &[u64]) -> bool {
        let Some(at) = self.at else { return false };
        let (ty, name) = (v[at.ty], v[at.name]);
        let Some(to) = self.node_fields.divide(v[at.to]) else {
            return false;
        };
        // An unknown type is the careful path's to note.
        let fits = r < self.packed.len() && r < self.to.len();
        if ty >= self.types || (name | to) > u64::from(u32::MAX) || !fits {
            return false;
        }
        let (packed, spills) = self.packing.pack(ty as u8, name as u32);
        if spills {
            self.spill(self.base + r as u64, name as u32);
        }
        write_slot(&mut self.packed[r], packed);
        self.to[r] = to as u32;
        true
    }

    fn split_at(self, records: usize) -> (Self, Self) {
        let (p0, p1) = split(self.packed, records);
        let (o0, o1) = split(self.to, records);
        let head = EdgeSink {
            fields: self.fields,
            at: self.at,
            node_fields: self.node_fields,
            base: self.base,
            types: self.types,
            packing: self.packing,
            packed: p0,
            to: o0,
            spilled: self.spilled,
            unknown_type: self.unknown_type,
            noted: self.noted,
        };
        let tail = EdgeSink {
            fields: self.fields,
            at: self.at,
            node_fields: self.node_fields,
            base: self.base + records as u64,
            types: self.types,
            packing: self.packing,
            packed: p1,
            to: o1,
            spilled: Vec::new(),
            unknown_type: None,
            noted: self.noted,
        };
        (head, tail)
    }

    fn done(self) {
        if self.spilled.is_empty() && self.unknown_type.is_none() {
            return;
        }
        let mut noted = self.noted.lock().unwrap_or_else(PoisonError::into_inner);
        for (edge, name) in self.spilled {
            noted.spilled.push(edge, name);
        }
        noted.unknown_type = noted.unknown_type.or(self.unknown_type);
    }
}

/// A location's node when its object index is not a node's (not a multiple of the node field
/// count, or past every ordinal); the loader refuses the file when it meets one.
pub const NOT_A_NODE: u32 = u32::MAX;

/// `locations` records, read straight into [`Location`]s: the object index becomes a node
/// ordinal as it is read, script id, line and column saturate at `u32::MAX`.
pub struct LocationColumns {
    width: usize,
    /// Record positions of object_index, script_id, line and column; None when the meta lacks
    /// one (the loader then refuses any locations).
    at: Option<[usize; 4]>,
    node_fields: Divisor,
    pub rows: Vec<Location>,
}

impl LocationColumns {
    pub fn new(width: usize, at: &[usize], node_fields: usize) -> LocationColumns {
        LocationColumns {
            width,
            at: at.try_into().ok(),
            node_fields: Divisor::new(node_fields as u64),
            rows: Vec::new(),
        }
    }
}

impl Columns for LocationColumns {
    type Sink<'a> = LocationSink<'a>;

    fn width(&self) -> usize {
        self.width
    }

    fn grow(&mut self, records: usize) -> LocationSink<'_> {
        LocationSink {
            at: self.at,
            node_fields: self.node_fields,
            rows: grow(&mut self.rows, true, records),
        }
    }
}

/// The locations of a run of records.
pub struct LocationSink<'a> {
    at: Option<[usize; 4]>,
    node_fields: Divisor,
    rows: &'a mut [Location],
}

impl LocationSink<'_> {
    #[inline(always)]
    fn node(&self, index: u64) -> u32 {
        match self.node_fields.divide(index) {
            Some(node) if node < u64::from(NOT_A_NODE) => node as u32,
            _ => NOT_A_NODE,
        }
    }
}

fn saturate(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

impl Sink for LocationSink<'_> {
    fn put(&mut self, field: usize, r: usize, v: u64) -> Result<(), String> {
        let Some(at) = self.at else { return Ok(()) };
        let node = self.node(v);
        let Some(row) = self.rows.get_mut(r) else {
            return Err("more values than separators".into());
        };
        if field == at[0] {
            row.node = node;
        } else if field == at[1] {
            row.script_id = saturate(v);
        } else if field == at[2] {
            row.line = saturate(v);
        } else if field == at[3] {
            row.column = saturate(v);
        }
        Ok(())
    }

    #[inline(always)]
    fn put_record(&mut self, r: usize, v: &[u64]) -> bool {
        let Some(at) = self.at else { return false };
        let node = self.node(v[at[0]]);
        match self.rows.get_mut(r) {
            Some(row) => {
                *row = Location {
                    node,
                    script_id: saturate(v[at[1]]),
                    line: saturate(v[at[2]]),
                    column: saturate(v[at[3]]),
                };
                true
            }
            None => false,
        }
    }

    fn split_at(self, records: usize) -> (Self, Self) {
        let (a, b) = split(self.rows, records);
        (
            LocationSink {
                at: self.at,
                node_fields: self.node_fields,
                rows: a,
            },
            LocationSink {
                at: self.at,
                node_fields: self.node_fields,
                rows: b,
            },
        )
    }
}

/// Exact division by the node field count, without a hardware divide for the values that
/// matter (below 2^32, every real `to_node`): one multiplication by a precomputed reciprocal
/// (Lemire, Kaser & Kurz, "Faster remainder by direct computation", 2019).
#[derive(Clone, Copy)]
pub struct Divisor {
    d: u64,
    /// ceil(2^64 / d); 0 when d is 0 or 1 (handled apart).
    m: u64,
}

impl Divisor {
    pub fn new(d: u64) -> Divisor {
        let m = if d > 1 { u64::MAX / d + 1 } else { 0 };
        Divisor { d, m }
    }

    /// `v / d` when `d` divides `v`.
    #[inline(always)]
    pub fn divide(self, v: u64) -> Option<u64> {
        if self.d <= 1 {
            return (self.d == 1).then_some(v);
        }
        if v <= u64::from(u32::MAX) {
            let q = ((u128::from(self.m) * u128::from(v)) >> 64) as u64;
            return (q * self.d == v).then_some(q);
        }
        v.is_multiple_of(self.d).then(|| v / self.d)
    }
}

#[cfg(test)]
mod tests {
    use super::Divisor;

    #[test]
    fn reciprocal_division_is_exact() {
        for d in [1u64, 2, 3, 6, 7, 8, 13, 1000] {
            let div = Divisor::new(d);
            let probes = (0..10_000u64)
                .chain((u32::MAX as u64 - 10_000)..=(u32::MAX as u64 + 10_000))
                .chain([u64::MAX, u64::MAX - 1, u64::MAX / 7 * 7]);
            for v in probes {
                let want = v.is_multiple_of(d).then(|| v / d);
                assert_eq!(div.divide(v), want, "{v} / {d}");
            }
        }
        assert_eq!(Divisor::new(0).divide(5), None);
    }
}

//! The `edges` columns: an edge's type and name packed into one 3-byte slot ([`PackedEdges`]),
//! its target as a node ordinal.

use std::sync::{Arc, Mutex, PoisonError};

use super::{Divisor, grow, narrow};
use crate::snapshot::numbers::{Columns, Sink, split, store};
use crate::snapshot::packed::{PackedEdges, Packing, Spilled, read_slot, write_slot};

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum EdgeField {
    Type,
    Name,
    To,
    Ignored,
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
        // Read at scattered places by every walk of the graph.
        crate::mem::advise_huge(self.to.spare_capacity_mut());
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

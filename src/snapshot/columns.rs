//! Column sets the number parser deals `nodes` and `edges` values into, one field per vector.
//! Each parallel piece fills its own set; sets are appended in file order.

use super::numbers::Columns;

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

/// Position within a record, tracked incrementally: values arrive with consecutive indexes, so
/// the division happens once per piece, not once per value.
#[derive(Default)]
struct Cursor {
    expected: u64,
    field: usize,
    record: u64,
}

impl Cursor {
    #[inline(always)]
    fn locate(&mut self, index: u64, width: usize) -> (usize, u64) {
        if index != self.expected {
            self.field = (index % width as u64) as usize;
            self.record = index / width as u64;
        }
        let here = (self.field, self.record);
        self.expected = index + 1;
        self.field += 1;
        if self.field == width {
            self.field = 0;
            self.record += 1;
        }
        here
    }
}

pub struct NodeColumns {
    fields: std::sync::Arc<[NodeField]>,
    cursor: Cursor,
    pub node_type: Vec<u8>,
    pub name: Vec<u32>,
    pub id: Vec<u32>,
    pub self_size: Vec<u32>,
    pub edge_count: Vec<u32>,
    pub detachedness: Vec<u8>,
}

impl NodeColumns {
    pub fn new(fields: std::sync::Arc<[NodeField]>) -> NodeColumns {
        NodeColumns {
            fields,
            cursor: Cursor::default(),
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
        if self.fields.contains(&NodeField::Detachedness) {
            self.detachedness.reserve_exact(nodes);
        }
    }
}

fn narrow<T: TryFrom<u64>>(v: u64, what: &str, node: u64, kind: &str) -> Result<T, String> {
    T::try_from(v).map_err(|_| format!("{kind} {node}: {what} {v} is out of range"))
}

impl Columns for NodeColumns {
    #[inline(always)]
    fn accept(&mut self, v: u64, index: u64) -> Result<(), String> {
        let (field, node) = self.cursor.locate(index, self.fields.len());
        match self.fields[field] {
            NodeField::Type => self.node_type.push(narrow(v, "type", node, "node")?),
            NodeField::Name => self.name.push(narrow(v, "name", node, "node")?),
            NodeField::Id => self.id.push(narrow(v, "id", node, "node")?),
            NodeField::SelfSize => self.self_size.push(narrow(v, "self_size", node, "node")?),
            NodeField::EdgeCount => self.edge_count.push(narrow(v, "edge_count", node, "node")?),
            NodeField::Detachedness => {
                self.detachedness
                    .push(narrow(v, "detachedness", node, "node")?)
            }
            NodeField::Ignored => {}
        }
        Ok(())
    }

    fn append(&mut self, o: &mut Self) {
        self.node_type.append(&mut o.node_type);
        self.name.append(&mut o.name);
        self.id.append(&mut o.id);
        self.self_size.append(&mut o.self_size);
        self.edge_count.append(&mut o.edge_count);
        self.detachedness.append(&mut o.detachedness);
    }

    fn empty_like(&self) -> Self {
        NodeColumns::new(self.fields.clone())
    }
}

pub struct EdgeColumns {
    fields: std::sync::Arc<[EdgeField]>,
    node_fields: u64,
    cursor: Cursor,
    pub edge_type: Vec<u8>,
    pub name: Vec<u32>,
    /// Target node *ordinal* (the file's node array index divided by the node field count).
    pub to: Vec<u32>,
}

impl EdgeColumns {
    pub fn new(fields: std::sync::Arc<[EdgeField]>, node_fields: usize) -> EdgeColumns {
        EdgeColumns {
            fields,
            node_fields: node_fields as u64,
            cursor: Cursor::default(),
            edge_type: Vec::new(),
            name: Vec::new(),
            to: Vec::new(),
        }
    }

    pub fn reserve(&mut self, edges: usize) {
        self.edge_type.reserve_exact(edges);
        self.name.reserve_exact(edges);
        self.to.reserve_exact(edges);
    }
}

impl Columns for EdgeColumns {
    #[inline(always)]
    fn accept(&mut self, v: u64, index: u64) -> Result<(), String> {
        let (field, edge) = self.cursor.locate(index, self.fields.len());
        match self.fields[field] {
            EdgeField::Type => self.edge_type.push(narrow(v, "type", edge, "edge")?),
            EdgeField::Name => self.name.push(narrow(v, "name_or_index", edge, "edge")?),
            EdgeField::To => {
                if !v.is_multiple_of(self.node_fields) {
                    return Err(format!(
                        "edge {edge}: to_node {v} is not a multiple of the {} node fields",
                        self.node_fields
                    ));
                }
                self.to
                    .push(narrow(v / self.node_fields, "to_node", edge, "edge")?);
            }
            EdgeField::Ignored => {}
        }
        Ok(())
    }

    fn append(&mut self, o: &mut Self) {
        self.edge_type.append(&mut o.edge_type);
        self.name.append(&mut o.name);
        self.to.append(&mut o.to);
    }

    fn empty_like(&self) -> Self {
        EdgeColumns::new(self.fields.clone(), self.node_fields as usize)
    }
}

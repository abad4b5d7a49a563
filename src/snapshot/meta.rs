//! `snapshot.meta`: field layouts and type names, resolved once so that Node's and Chromium's
//! layouts (and future V8 fields) all load.

/// Node types DevTools distinguishes. The file names them in `meta.node_types[type]`; unknown
/// names load as [`NodeKind::Other`] and keep their raw name for display.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum NodeKind {
    Hidden,
    Array,
    String,
    Object,
    Code,
    Closure,
    RegExp,
    Number,
    Native,
    Synthetic,
    ConsString,
    SlicedString,
    Symbol,
    BigInt,
    ObjectShape,
    WasmObject,
    Other,
}

impl NodeKind {
    pub fn from_name(name: &str) -> NodeKind {
        match name {
            "hidden" => NodeKind::Hidden,
            "array" => NodeKind::Array,
            "string" => NodeKind::String,
            "object" => NodeKind::Object,
            "code" => NodeKind::Code,
            "closure" => NodeKind::Closure,
            "regexp" => NodeKind::RegExp,
            "number" => NodeKind::Number,
            "native" => NodeKind::Native,
            "synthetic" => NodeKind::Synthetic,
            "concatenated string" => NodeKind::ConsString,
            "sliced string" => NodeKind::SlicedString,
            "symbol" => NodeKind::Symbol,
            "bigint" => NodeKind::BigInt,
            "object shape" => NodeKind::ObjectShape,
            "wasm object" => NodeKind::WasmObject,
            _ => NodeKind::Other,
        }
    }

    pub fn is_string(self) -> bool {
        matches!(
            self,
            NodeKind::String | NodeKind::ConsString | NodeKind::SlicedString
        )
    }
}

/// Edge types. `Invisible` is DevTools' extra type (not in files written by V8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum EdgeKind {
    Context,
    Element,
    Property,
    Internal,
    Hidden,
    Shortcut,
    Weak,
    Invisible,
    Other,
}

impl EdgeKind {
    pub fn from_name(name: &str) -> EdgeKind {
        match name {
            "context" => EdgeKind::Context,
            "element" => EdgeKind::Element,
            "property" => EdgeKind::Property,
            "internal" => EdgeKind::Internal,
            "hidden" => EdgeKind::Hidden,
            "shortcut" => EdgeKind::Shortcut,
            "weak" => EdgeKind::Weak,
            "invisible" => EdgeKind::Invisible,
            _ => EdgeKind::Other,
        }
    }

    /// `element` and `hidden` edges carry an index, all others a string table index.
    pub fn has_string_name(self) -> bool {
        !matches!(self, EdgeKind::Element | EdgeKind::Hidden)
    }
}

/// The resolved layout of one snapshot file.
#[derive(Clone, Debug, Default)]
pub struct Meta {
    pub node_fields: Vec<String>,
    pub node_types: Vec<String>,
    pub edge_fields: Vec<String>,
    pub edge_types: Vec<String>,
    pub location_fields: Vec<String>,
    node_kinds: Vec<NodeKind>,
    edge_kinds: Vec<EdgeKind>,
}

impl Meta {
    pub fn new(
        node_fields: Vec<String>,
        node_types: Vec<String>,
        edge_fields: Vec<String>,
        edge_types: Vec<String>,
        location_fields: Vec<String>,
    ) -> Meta {
        let node_kinds = node_types.iter().map(|t| NodeKind::from_name(t)).collect();
        let edge_kinds = edge_types.iter().map(|t| EdgeKind::from_name(t)).collect();
        Meta {
            node_fields,
            node_types,
            edge_fields,
            edge_types,
            location_fields,
            node_kinds,
            edge_kinds,
        }
    }

    pub fn node_kind(&self, raw_type: u8) -> NodeKind {
        self.node_kinds
            .get(raw_type as usize)
            .copied()
            .unwrap_or(NodeKind::Other)
    }

    pub fn edge_kind(&self, raw_type: u8) -> EdgeKind {
        self.edge_kinds
            .get(raw_type as usize)
            .copied()
            .unwrap_or(EdgeKind::Other)
    }

    /// The raw type name of a node type index (`"object"`, `"wasm object"`, …). An index past
    /// the list (V8 6.2's symbols, see `parse::finish`) is `"undefined"`: DevTools' `type()`
    /// reads `nodeTypes[rawType]`, which is `undefined` there, and names the class
    /// `"(undefined)"` after it.
    pub fn node_type_name(&self, raw_type: u8) -> &str {
        self.node_types
            .get(raw_type as usize)
            .map(String::as_str)
            .unwrap_or("undefined")
    }

    pub fn edge_type_name(&self, raw_type: u8) -> &str {
        self.edge_types
            .get(raw_type as usize)
            .map(String::as_str)
            .unwrap_or("unknown")
    }
}

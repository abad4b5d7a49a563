//! The `snapshot` header: counts, root index and `meta`, resolved into the [`Layout`] the number
//! parser fills columns by (field offsets come from the file, never a fixed layout: Node and
//! Chromium differ, V8 versions add fields).

use std::sync::Arc;

use serde::Deserialize;

use crate::snapshot::columns::{EdgeField, NodeField};
use crate::snapshot::error::LoadErrorKind;
use crate::snapshot::meta::Meta;

#[derive(Deserialize)]
pub(super) struct Header {
    pub(super) meta: RawMeta,
    pub(super) node_count: Option<u64>,
    pub(super) edge_count: Option<u64>,
    pub(super) root_index: Option<u64>,
    /// How many functions `trace_function_infos` lists, by the header's count (which Node's
    /// in-process allocation tracking writes too small; see `finish`).
    #[serde(default)]
    pub(super) trace_function_count: Option<u64>,
    /// Memory outside the V8 heap that the embedder reports (Node 24+): DevTools adds it to the
    /// total in its Statistics view.
    #[serde(default)]
    pub(super) extra_native_bytes: Option<serde_json::Number>,
}

#[derive(Deserialize)]
pub(super) struct RawMeta {
    node_fields: Vec<String>,
    node_types: Vec<serde_json::Value>,
    edge_fields: Vec<String>,
    edge_types: Vec<serde_json::Value>,
    #[serde(default)]
    location_fields: Vec<String>,
    #[serde(default)]
    pub(super) trace_function_info_fields: Vec<String>,
    #[serde(default)]
    pub(super) trace_node_fields: Vec<String>,
    #[serde(default)]
    pub(super) scope_fields: Vec<String>,
    #[serde(default)]
    pub(super) scope_context_var_fields: Vec<String>,
    #[serde(default)]
    pub(super) scope_use_fields: Vec<String>,
}

/// Resolved layout: which column each position of a record feeds.
pub(super) struct Layout {
    pub(super) node_fields: Arc<[NodeField]>,
    pub(super) edge_fields: Arc<[EdgeField]>,
    pub(super) location_fields: Vec<usize>, // positions of object_index, script_id, line, column
    /// Position of `script_object_index` in a location record (Chromium 150+, Deno).
    pub(super) script_object_at: Option<usize>,
    pub(super) has_detachedness: bool,
}

fn type_list(
    values: &[serde_json::Value],
    offset: usize,
    what: &str,
) -> Result<Vec<String>, LoadErrorKind> {
    let list = values
        .get(offset)
        .and_then(|v| v.as_array())
        .ok_or_else(|| {
            LoadErrorKind::BadMeta(format!("{what}[{offset}] is not a list of type names"))
        })?;
    list.iter()
        .map(|v| {
            v.as_str().map(str::to_string).ok_or_else(|| {
                LoadErrorKind::BadMeta(format!("{what} has a type name that is not a string"))
            })
        })
        .collect()
}

/// `keep_traces`: read the nodes' `trace_node_id` (only for a snapshot whose header announces
/// allocation traces; without them Node writes 0 everywhere, and the column would cost 4 bytes
/// a node for nothing).
pub(super) fn resolve_layout(
    raw: &RawMeta,
    keep_traces: bool,
) -> Result<(Layout, Meta), LoadErrorKind> {
    let find = |fields: &[String], name: &str, what: &str| {
        fields
            .iter()
            .position(|f| f == name)
            .ok_or_else(|| LoadErrorKind::BadMeta(format!("{what} has no \"{name}\"")))
    };
    for name in ["type", "name", "id", "self_size", "edge_count"] {
        find(&raw.node_fields, name, "node_fields")?;
    }
    for name in ["type", "name_or_index", "to_node"] {
        find(&raw.edge_fields, name, "edge_fields")?;
    }
    let node_type_at = find(&raw.node_fields, "type", "node_fields")?;
    let edge_type_at = find(&raw.edge_fields, "type", "edge_fields")?;
    let node_types = type_list(&raw.node_types, node_type_at, "node_types")?;
    let edge_types = type_list(&raw.edge_types, edge_type_at, "edge_types")?;
    if node_types.len() > 256 || edge_types.len() > 256 {
        return Err(LoadErrorKind::BadMeta(
            "more than 256 node or edge types".into(),
        ));
    }
    let node_fields = raw
        .node_fields
        .iter()
        .map(|f| match f.as_str() {
            "type" => NodeField::Type,
            "name" => NodeField::Name,
            "id" => NodeField::Id,
            "self_size" => NodeField::SelfSize,
            "edge_count" => NodeField::EdgeCount,
            "detachedness" => NodeField::Detachedness,
            "trace_node_id" if keep_traces => NodeField::TraceNodeId,
            _ => NodeField::Ignored,
        })
        .collect::<Arc<[_]>>();
    let edge_fields = raw
        .edge_fields
        .iter()
        .map(|f| match f.as_str() {
            "type" => EdgeField::Type,
            "name_or_index" => EdgeField::Name,
            "to_node" => EdgeField::To,
            _ => EdgeField::Ignored,
        })
        .collect::<Arc<[_]>>();
    let duplicated = |v: &[String]| {
        let mut s: Vec<&String> = v.iter().collect();
        s.sort();
        s.windows(2).any(|w| w[0] == w[1])
    };
    if duplicated(&raw.node_fields) || duplicated(&raw.edge_fields) {
        return Err(LoadErrorKind::BadMeta("a field is listed twice".into()));
    }
    let location_fields = ["object_index", "script_id", "line", "column"]
        .iter()
        .filter_map(|name| raw.location_fields.iter().position(|f| f == name))
        .collect();
    let has_detachedness = node_fields.contains(&NodeField::Detachedness);
    let meta = Meta::new(
        raw.node_fields.clone(),
        node_types,
        raw.edge_fields.clone(),
        edge_types,
        raw.location_fields.clone(),
    );
    Ok((
        Layout {
            node_fields,
            edge_fields,
            location_fields,
            script_object_at: raw
                .location_fields
                .iter()
                .position(|f| f == "script_object_index"),
            has_detachedness,
        },
        meta,
    ))
}

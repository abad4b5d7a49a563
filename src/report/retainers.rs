//! The Retainers report of one object (`heapdiff retainers`): its Retainers pane expanded as a
//! tree, its dominator chain and its shortest path to a GC root, in the JSON shape the CLI
//! documents, and the same as an indented text tree.
//!
//! The pane's rules (which edges show, their order, cycles) are `analysis::paths`; this module
//! only expands them, breadth-limited and depth-limited, and assembles the document without
//! recursion (trees can be deep).

use std::fmt::Write as _;

use serde::Serialize;

use crate::analysis::allocation::{self, AllocationFrame};
use crate::analysis::contexts::{self, ContextAnalysis};
use crate::analysis::paths;
use crate::format;
use crate::loaded::Loaded;
use crate::snapshot::class;

#[derive(Serialize)]
pub struct NodeInfo {
    pub id: u32,
    pub name: String,
    pub class_name: String,
    #[serde(rename = "type")]
    pub node_type: String,
    pub self_size: u32,
    pub retained_size: u64,
    pub distance: i32,
    /// DevTools' "Allocation stack" of the object the report is about, innermost frame first
    /// (snapshots with allocation traces; not listed for retainers and absent without traces).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allocation_stack: Vec<AllocationFrame>,
    /// For a closure or a Context, the variables its Context holds (see
    /// [`context_variables`]); not listed for retainers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub context_variables: Vec<ContextVariable>,
}

/// One variable a closure's Context holds.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct ContextVariable {
    pub name: String,
    /// The value's id, class and retained size.
    pub id: u32,
    pub class_name: String,
    pub retained_size: u64,
    /// Whether a live function can still use it (DevTools' context analysis, from Chromium
    /// 156's scope tables); absent when the snapshot cannot tell. `false` is the closure leak:
    /// the Context keeps the value for a function that no longer exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used: Option<bool>,
}

/// The variables of `node`'s Context (a closure's `context`, or `node` itself when it is a
/// Context), in edge order; empty for other nodes. `analysis` is made once per snapshot.
pub fn context_variables(
    loaded: &Loaded,
    analysis: &ContextAnalysis,
    node: u32,
) -> Vec<ContextVariable> {
    let s = &loaded.snapshot;
    let Some(context) = contexts::context_of(s, node) else {
        return Vec::new();
    };
    analysis
        .fields(s, context)
        .into_iter()
        .map(|f| ContextVariable {
            name: f.name,
            id: s.node_id[f.value as usize],
            class_name: loaded.classes.name_of(f.value).to_string(),
            retained_size: loaded.analysis.retained(f.value),
            used: f.used,
        })
        .collect()
}

#[derive(Serialize)]
pub struct RetainerEdge {
    pub edge_type: String,
    pub edge_name: String,
    /// Edge index (ordinal, not DevTools' field offset, which is this times the edge field
    /// count); not in the JSON.
    #[serde(skip)]
    pub edge_index: u32,
    pub node: NodeInfo,
    pub cycled: bool,
    /// How many retaining edges this node has in the pane; `retainers` holds the first `limit`.
    pub retainers_total: usize,
    pub retainers: Vec<RetainerEdge>,
    /// Whether this row's retainers were listed (false when cycled or at the depth limit);
    /// not in the JSON.
    #[serde(skip)]
    pub expanded: bool,
}

#[derive(Serialize)]
pub struct PathStep {
    pub edge_type: String,
    pub edge_name: String,
    pub node: NodeInfo,
}

#[derive(Serialize)]
pub struct RetainersReport {
    pub file: String,
    /// The file's warnings (runtime quirks the loader corrected or kept), one sentence each.
    pub warnings: Vec<String>,
    pub node: NodeInfo,
    pub retainers_total: usize,
    pub retainers: Vec<RetainerEdge>,
    /// The node, its immediate dominator, and so on up to the root.
    pub dominator_chain: Vec<NodeInfo>,
    /// The shortest retaining path to a GC root: edges from the node outwards.
    pub shortest_path: Vec<PathStep>,
}

/// Rows emitted at most, so that a hub node cannot produce an unbounded document.
const MAX_ROWS: usize = 100_000;

pub fn node_info(loaded: &Loaded, node: u32) -> NodeInfo {
    let s = &loaded.snapshot;
    NodeInfo {
        id: s.node_id[node as usize],
        name: class::display_name(s, loaded.classes.dom(), node).into_owned(),
        class_name: loaded.classes.name_of(node).to_string(),
        node_type: s
            .meta
            .node_type_name(s.node_type[node as usize])
            .to_string(),
        self_size: loaded.shallow[node as usize],
        retained_size: loaded.analysis.retained(node),
        distance: loaded.analysis.distance[node as usize],
        allocation_stack: Vec::new(),
        context_variables: Vec::new(),
    }
}

/// A retainer row's node: as [`node_info`], with the distance the Retainers pane shows
/// ([`paths::distance_for_retainers_view`]: 200,000,000 for a retainer no root reaches).
pub fn retainer_info(loaded: &Loaded, node: u32) -> NodeInfo {
    let mut info = node_info(loaded, node);
    info.distance = paths::distance_for_retainers_view(info.distance);
    info
}

/// Builds the report for `node`, expanding the pane `depth` levels (1 lists the node's own
/// retainers) with the first `limit` retainers of each node (DevTools' first page is 25).
pub fn build(loaded: &Loaded, node: u32, depth: usize, limit: usize) -> RetainersReport {
    let s = &loaded.snapshot;
    let name = |n: u32| class::display_name(s, loaded.classes.dom(), n).into_owned();
    let (retainers_total, retainers) = pane(loaded, node, depth, limit, &name);
    let dominator_chain = paths::dominator_chain(s, &loaded.analysis, node)
        .into_iter()
        .map(|n| node_info(loaded, n))
        .collect();
    let shortest_path = paths::shortest_path_to_root(s, &loaded.analysis, node, &name)
        .into_iter()
        .map(|(edge, from)| PathStep {
            edge_type: s.meta.edge_type_name(s.edge_type(edge)).to_string(),
            edge_name: paths::edge_display_name(s, edge),
            node: node_info(loaded, from),
        })
        .collect();
    let mut info = node_info(loaded, node);
    info.allocation_stack = allocation::allocation_stack(s, &loaded.scripts, node);
    if contexts::context_of(s, node).is_some() {
        let analysis = ContextAnalysis::new(s);
        info.context_variables = context_variables(loaded, &analysis, node);
    }
    RetainersReport {
        file: s.file_name.clone(),
        warnings: loaded.warnings().to_vec(),
        node: info,
        retainers_total,
        retainers,
        dominator_chain,
        shortest_path,
    }
}

/// The pane of `node`, expanded depth first in row order (as a user opens it row by row); a
/// retainer that is the node itself or one of the row's ancestors is cycled and not expanded.
/// Returns the node's retainer count and its rows.
fn pane(
    loaded: &Loaded,
    node: u32,
    depth: usize,
    limit: usize,
    name: &dyn Fn(u32) -> String,
) -> (usize, Vec<RetainerEdge>) {
    let (s, analysis) = (&loaded.snapshot, &loaded.analysis);
    /// A row waiting in the arena: its parent row (or `TOP`) and the retainer it names.
    struct Slot {
        row: Option<RetainerEdge>,
        parent: usize,
        node: u32,
        children: Vec<usize>,
    }
    const TOP: usize = usize::MAX;
    let mut arena: Vec<Slot> = Vec::new();
    let mut top: (usize, Vec<usize>) = (0, Vec::new());
    // (row whose retainers to list, or TOP; its node; its level)
    let mut work: Vec<(usize, u32, usize)> = vec![(TOP, node, 0)];
    while let Some((owner, retained, level)) = work.pop() {
        if level >= depth || arena.len() >= MAX_ROWS {
            continue;
        }
        let list = paths::sorted_retainers(s, analysis, retained, name);
        let first_new = arena.len();
        for &(edge, src) in list.iter().take(limit) {
            if arena.len() >= MAX_ROWS {
                break;
            }
            let mut cycled = src == node;
            let mut up = owner;
            while !cycled && up != TOP {
                cycled = arena[up].node == src;
                up = arena[up].parent;
            }
            arena.push(Slot {
                row: Some(RetainerEdge {
                    edge_type: s.meta.edge_type_name(s.edge_type(edge)).to_string(),
                    edge_name: paths::edge_display_name(s, edge),
                    edge_index: edge,
                    node: retainer_info(loaded, src),
                    cycled,
                    retainers_total: 0,
                    retainers: Vec::new(),
                    expanded: false,
                }),
                parent: owner,
                node: src,
                children: Vec::new(),
            });
        }
        let rows: Vec<usize> = (first_new..arena.len()).collect();
        if owner == TOP {
            top = (list.len(), rows.clone());
        } else if let Some(row) = arena[owner].row.as_mut() {
            row.retainers_total = list.len();
            row.expanded = true;
            arena[owner].children = rows.clone();
        }
        for &i in rows.iter().rev() {
            if arena[i].row.as_ref().is_some_and(|r| !r.cycled) && level + 1 < depth {
                work.push((i, arena[i].node, level + 1));
            }
        }
    }
    // Assemble bottom-up: every row comes after its parent in the arena.
    for i in (0..arena.len()).rev() {
        let children = std::mem::take(&mut arena[i].children);
        let kids: Vec<RetainerEdge> = children
            .into_iter()
            .filter_map(|c| arena[c].row.take())
            .collect();
        if let Some(row) = arena[i].row.as_mut() {
            row.retainers = kids;
        }
    }
    let rows = top
        .1
        .into_iter()
        .filter_map(|i| arena[i].row.take())
        .collect();
    (top.0, rows)
}

/// The human tree: one line per retaining edge, indented by depth.
pub fn table(report: &RetainersReport) -> String {
    let line = |n: &NodeInfo| {
        format!(
            "{} @{}  [{}]  distance {}  self {}  retained {}",
            format::one_line(&n.name),
            n.id,
            format::one_line(&n.class_name),
            n.distance,
            format::bytes(n.self_size as u64),
            format::bytes(n.retained_size)
        )
    };
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", report.file, line(&report.node));
    let mut stack: Vec<(&RetainerEdge, usize)> =
        report.retainers.iter().rev().map(|r| (r, 1)).collect();
    while let Some((edge, depth)) = stack.pop() {
        let _ = writeln!(
            out,
            "{}← {} {} in {}{}",
            "  ".repeat(depth),
            edge.edge_type,
            format::one_line(&edge.edge_name),
            line(&edge.node),
            if edge.cycled { "  (cycle)" } else { "" }
        );
        stack.extend(edge.retainers.iter().rev().map(|r| (r, depth + 1)));
    }
    if !report.node.allocation_stack.is_empty() {
        let _ = writeln!(out, "\nAllocation stack:");
        for f in &report.node.allocation_stack {
            let function = if f.function.is_empty() {
                "(anonymous)"
            } else {
                &f.function
            };
            let _ = writeln!(
                out,
                "  {} {}",
                format::one_line(function),
                format::one_line(&allocation::frame_location(f))
            );
        }
    }
    if !report.node.context_variables.is_empty() {
        let _ = writeln!(out, "\nContext variables:");
        for v in &report.node.context_variables {
            let _ = writeln!(
                out,
                "  {} = {} @{}  retained {}{}",
                format::one_line(&v.name),
                format::one_line(&v.class_name),
                v.id,
                format::bytes(v.retained_size),
                if v.used == Some(false) {
                    "  (no live function uses it)"
                } else {
                    ""
                }
            );
        }
    }
    let _ = writeln!(out, "\nDominator chain:");
    for n in &report.dominator_chain {
        let _ = writeln!(out, "  {}", line(n));
    }
    let _ = writeln!(out, "\nShortest path to a GC root:");
    for step in &report.shortest_path {
        let _ = writeln!(
            out,
            "  ← {} {} in {}",
            step.edge_type,
            format::one_line(&step.edge_name),
            line(&step.node)
        );
    }
    out
}

//! The Retainers pane of one node, its dominator chain and its shortest retaining path, as
//! DevTools shows them.
//!
//! Rules (HeapSnapshot.ts): the pane lists a node's retaining edges through
//! `JSHeapSnapshot.retainingEdgesFilter` (no invisible or weak edges, no edge from the root),
//! sorted by the default `!edgeDistance` ascending then the retainer's `name` ascending
//! (`HeapSnapshotEdgesProvider.sort`, `compareEdgeAndNode`), ties by position in DevTools'
//! retainer array (which `buildRetainers` fills backwards: higher edge index first). Unreachable
//! retainers sort as `baseUnreachableDistance` (`getDistanceForRetainersView`). The grid marks a
//! retainer already among the expanded path as cycled and does not expand it.
//!
//! Everything is iterative: the tree is built breadth-first per node with an explicit work
//! stack and assembled bottom-up.

use std::cmp::Ordering;

use serde::Serialize;

use crate::snapshot::{EdgeKind, Snapshot};

use super::Analysis;
use super::distance::{BASE_UNREACHABLE_DISTANCE, NO_DISTANCE};
use super::weakmap::js_parse_int;

/// One node as the pane prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PaneNode {
    pub id: u32,
    /// `JSHeapSnapshotNode.name()` (cons strings flattened, plain objects as `{a, b}`).
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    /// The node type as the file names it (`object`, `closure`, …).
    #[serde(rename = "type")]
    pub node_type: String,
    pub self_size: u32,
    pub retained_size: u64,
    pub distance: i32,
}

/// One row of the Retainers pane: an edge into the node above and the node it comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RetainerRow {
    pub edge_type: String,
    pub edge_name: String,
    /// Edge index (ordinal, not DevTools' field offset, which is this times the edge field count).
    pub edge_index: u32,
    pub node: PaneNode,
    pub cycled: bool,
    /// The retainer's own retainers; `None` when cycled or at the depth limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retainers: Option<RetainerList>,
}

/// The rows under one node: `total` retaining edges pass the filter, the first `rows` are shown.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RetainerList {
    pub total: usize,
    pub rows: Vec<RetainerRow>,
}

/// Limits of a pane expansion.
#[derive(Clone, Copy, Debug)]
pub struct PaneLimits {
    /// Levels of rows: 1 lists the node's retainers only (the oracle's `--depth`).
    pub depth: usize,
    /// Rows shown per node (the oracle's `--limit`, DevTools' first page: 25).
    pub per_node: usize,
    /// Total rows emitted; expansion stops when reached.
    pub max_rows: usize,
}

impl Default for PaneLimits {
    fn default() -> PaneLimits {
        PaneLimits {
            depth: 8,
            per_node: 25,
            max_rows: 100_000,
        }
    }
}

/// Names a node for display: DevTools' `name()` and, optionally, its class name.
pub struct Naming<'a> {
    pub name: &'a dyn Fn(u32) -> String,
    pub class_name: Option<&'a dyn Fn(u32) -> String>,
}

/// What DevTools sorts a retainer row by first.
pub fn distance_for_retainers_view(distance: i32) -> i32 {
    if distance == NO_DISTANCE {
        BASE_UNREACHABLE_DISTANCE
    } else {
        distance
    }
}

/// `JSHeapSnapshotEdge.name()`: element and hidden edges print their index, shortcut edges whose
/// name starts with a number print that number, all others their string.
pub fn edge_display_name(snap: &Snapshot, edge: u32) -> String {
    let kind = snap.edge_kind(edge);
    let raw = snap.edge_name_index(edge);
    if !kind.has_string_name() {
        return raw.to_string();
    }
    let s = snap.strings.get(raw);
    if kind == EdgeKind::Shortcut
        && let Some(n) = js_parse_int(s)
    {
        return n.to_string();
    }
    s.to_string()
}

/// `JSHeapSnapshot.retainingEdgesFilter`: the pane hides invisible and weak edges and edges whose
/// retainer is the root.
pub fn shows_retaining_edge(snap: &Snapshot, edge: u32, source: u32) -> bool {
    !matches!(snap.edge_kind(edge), EdgeKind::Invisible | EdgeKind::Weak) && source != snap.root
}

/// JavaScript's `<` on strings compares UTF-16 code units.
fn cmp_js(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.cmp(b)
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

/// The retaining edges of `node` in pane order, as `(edge, source)` pairs.
pub fn sorted_retainers(
    snap: &Snapshot,
    analysis: &Analysis,
    node: u32,
    name: &dyn Fn(u32) -> String,
) -> Vec<(u32, u32)> {
    let mut rows: Vec<(i32, String, u32, u32)> = analysis
        .retaining_edges(snap, node)
        .filter_map(|e| {
            let src = analysis.edge_source(snap, e);
            shows_retaining_edge(snap, e, src).then(|| {
                (
                    distance_for_retainers_view(analysis.distance[src as usize]),
                    name(src),
                    e,
                    src,
                )
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| cmp_js(&a.1, &b.1))
            .then_with(|| b.2.cmp(&a.2))
    });
    rows.into_iter().map(|(_, _, e, s)| (e, s)).collect()
}

fn pane_node(
    snap: &Snapshot,
    analysis: &Analysis,
    self_sizes: &[u32],
    naming: &Naming<'_>,
    node: u32,
) -> PaneNode {
    let i = node as usize;
    PaneNode {
        id: snap.node_id[i],
        name: (naming.name)(node),
        class_name: naming.class_name.map(|f| f(node)),
        node_type: snap.meta.node_type_name(snap.node_type[i]).to_string(),
        self_size: self_sizes.get(i).copied().unwrap_or(0),
        retained_size: analysis.retained(i as u32),
        distance: analysis.distance[i],
    }
}

/// The Retainers pane of `node`, expanded to `limits.depth` levels. `self_sizes` are the shallow
/// sizes DevTools shows (after its size moves), as passed to [`super::analyze`].
pub fn retainer_tree(
    snap: &Snapshot,
    analysis: &Analysis,
    self_sizes: &[u32],
    naming: &Naming<'_>,
    node: u32,
    limits: PaneLimits,
) -> RetainerList {
    struct Slot {
        row: Option<RetainerRow>,
        parent: usize,
        /// The retained node this row's list belongs to, for the cycle check.
        node: u32,
        children: Vec<RetainerRow>,
        total: usize,
        expanded: bool,
    }
    const TOP: usize = usize::MAX;
    let mut arena: Vec<Slot> = Vec::new();
    let mut top = RetainerList::default();
    let mut top_rows: Vec<usize> = Vec::new();
    // Work: (arena index whose retainers to list, or TOP; the node; its level).
    let mut work: Vec<(usize, u32, usize)> = vec![(TOP, node, 0)];
    let mut emitted = 0usize;
    while let Some((owner, retained, level)) = work.pop() {
        if level >= limits.depth || emitted >= limits.max_rows {
            continue;
        }
        let list = sorted_retainers(snap, analysis, retained, naming.name);
        let total = list.len();
        let first_new = arena.len();
        for &(edge, src) in list.iter().take(limits.per_node) {
            if emitted >= limits.max_rows {
                break;
            }
            emitted += 1;
            // Cycled: the retainer is the pane's node or one of the rows above this one.
            let mut cycled = src == node;
            let mut up = owner;
            while !cycled && up != TOP {
                cycled = arena[up].node == src;
                up = arena[up].parent;
            }
            arena.push(Slot {
                row: Some(RetainerRow {
                    edge_type: snap.meta.edge_type_name(snap.edge_type(edge)).to_string(),
                    edge_name: edge_display_name(snap, edge),
                    edge_index: edge,
                    node: pane_node(snap, analysis, self_sizes, naming, src),
                    cycled,
                    retainers: None,
                }),
                parent: owner,
                node: src,
                children: Vec::new(),
                total: 0,
                expanded: false,
            });
        }
        if owner == TOP {
            top.total = total;
            top_rows = (first_new..arena.len()).collect();
        } else {
            arena[owner].total = total;
            arena[owner].expanded = true;
        }
        // Depth first, in row order, like the pane being opened row by row.
        for i in (first_new..arena.len()).rev() {
            let cycled = arena[i].row.as_ref().is_some_and(|r| r.cycled);
            if !cycled && level + 1 < limits.depth {
                work.push((i, arena[i].node, level + 1));
            }
        }
    }
    // Assemble bottom-up: every child has a larger arena index than its parent.
    for i in (0..arena.len()).rev() {
        let mut row = match arena[i].row.take() {
            Some(r) => r,
            None => continue,
        };
        if arena[i].expanded {
            let mut children = std::mem::take(&mut arena[i].children);
            children.reverse();
            row.retainers = Some(RetainerList {
                total: arena[i].total,
                rows: children,
            });
        }
        let parent = arena[i].parent;
        if parent == TOP {
            arena[i].row = Some(row);
        } else {
            arena[parent].children.push(row);
        }
    }
    top.rows = top_rows
        .into_iter()
        .filter_map(|i| arena[i].row.take())
        .collect();
    top
}

/// The dominator chain of `node` up to the root (`getDominatorsOf`), `node` first.
pub fn dominator_chain(snap: &Snapshot, analysis: &Analysis, node: u32) -> Vec<u32> {
    let mut chain = vec![node];
    let mut current = node;
    // A chain can never be longer than the node count; the bound guards a corrupt tree.
    for _ in 0..snap.node_count() {
        if current == snap.root {
            break;
        }
        let next = analysis.dominator[current as usize];
        if next == current {
            break;
        }
        chain.push(next);
        current = next;
    }
    chain
}

/// The shortest retaining path from `node` towards the root: at every step the first row of the
/// Retainers pane among the retainers one step closer (distance − 1), until a node whose
/// retainers are only the root (distance 1, or 100,000,001 for system roots). Returns
/// `(edge, retainer)` pairs from `node` outwards; empty when `node` is unreachable.
pub fn shortest_path_to_root(
    snap: &Snapshot,
    analysis: &Analysis,
    node: u32,
    name: &dyn Fn(u32) -> String,
) -> Vec<(u32, u32)> {
    let mut path = Vec::new();
    let mut current = node;
    loop {
        let d = analysis.distance[current as usize];
        if d == NO_DISTANCE || current == snap.root {
            break;
        }
        let step = sorted_retainers(snap, analysis, current, name)
            .into_iter()
            .find(|&(_, src)| analysis.distance[src as usize] == d - 1);
        match step {
            Some((edge, src)) => {
                path.push((edge, src));
                current = src;
            }
            None => break,
        }
    }
    path
}

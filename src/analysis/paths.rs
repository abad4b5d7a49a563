//! The Retainers pane of one node, its dominator chain and its shortest retaining path, as
//! DevTools shows them.
//!
//! The report that assembles the pane is `report::retainers`; this module holds the graph
//! rules. Rules (HeapSnapshot.ts): the pane lists a node's retaining edges through
//! `JSHeapSnapshot.retainingEdgesFilter` (no invisible or weak edges, no edge from the root),
//! sorted by the default `!edgeDistance` ascending then the retainer's `name` ascending
//! (`HeapSnapshotEdgesProvider.sort`, `compareEdgeAndNode`), ties by position in DevTools'
//! retainer array (which `buildRetainers` fills backwards: higher edge index first). Unreachable
//! retainers sort as `baseUnreachableDistance` (`getDistanceForRetainersView`). The grid marks a
//! retainer already among the expanded path as cycled and does not expand it.
//!
//! Everything is iterative: paths are walked with loops, never by recursion.

use crate::snapshot::class::cmp_utf16;
use crate::snapshot::{EdgeKind, Snapshot};

use super::Analysis;
use super::distance::{BASE_UNREACHABLE_DISTANCE, NO_DISTANCE};
use super::weakmap::js_parse_int;

/// The distance the Retainers pane shows for a retainer with `distance`, and sorts it by first:
/// DevTools' `getDistanceForRetainersView` gives a retainer no root reaches
/// `max(0, distance) + baseUnreachableDistance`, i.e. 200,000,000 (heapdiff ignores no nodes in
/// the pane, so the distance it adds to is always the unreachable −5), which sorts such
/// retainers last; every other retainer keeps its distance. The window's retainer tree and
/// `heapdiff retainers` both show this number.
pub fn distance_for_retainers_view(distance: i32) -> i32 {
    if distance == NO_DISTANCE {
        distance.max(0) + BASE_UNREACHABLE_DISTANCE
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
            .then_with(|| cmp_utf16(&a.1, &b.1))
            .then_with(|| b.2.cmp(&a.2))
    });
    rows.into_iter().map(|(_, _, e, s)| (e, s)).collect()
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

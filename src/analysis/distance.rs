//! Distances from the GC root, as DevTools' `nodeDistances`.
//!
//! The rules are those of `calculateDistances` in HeapSnapshot.ts (base class and the
//! `JSHeapSnapshot` override):
//! - a first BFS starts from the root's *user roots* (its children that are not synthetic, plus
//!   the synthetic `(Document DOM trees)` node) at distance 1;
//! - a second BFS starts from the root itself at 100,000,000 (0 when there are no user roots), so
//!   nodes reachable only through `(GC roots)` and friends land at 100,000,000 + depth;
//! - nodes never reached keep −5;
//! - weak edges are never followed, and an edge filter skips `sloppy_function_map` of native
//!   contexts, the descriptor links of `(map descriptors)` arrays and the first edge of every
//!   WeakMap key/table pair (so a WeakMap value gets the larger of the two distances).
//!
//! The WeakMap part of the filter keeps state across both passes (a set of half-seen pairs),
//! so the visiting order has to be DevTools' exactly: queue order, edge order, duplicates
//! included.

use std::collections::{HashSet, VecDeque};

use crate::snapshot::{EdgeKind, NodeKind, Snapshot};
use crate::task::Hooks;

use super::weakmap::{WeakMapNames, js_parse_int};

/// Distance of nodes no BFS reached (DevTools' `#noDistance`).
pub const NO_DISTANCE: i32 = -5;
/// Start distance of the second BFS, from the root through non-user roots
/// (`HeapSnapshotModel.baseSystemDistance`).
pub const BASE_SYSTEM_DISTANCE: i32 = 100_000_000;
/// What the Retainers pane sorts unreachable nodes by (`baseUnreachableDistance`).
pub const BASE_UNREACHABLE_DISTANCE: i32 = 2 * BASE_SYSTEM_DISTANCE;

/// A user root in the sense of `JSHeapSnapshot.isUserRoot`: any non-synthetic node, or the
/// synthetic `(Document DOM trees)` node of a browser snapshot.
pub fn is_user_root(snap: &Snapshot, node: u32) -> bool {
    snap.node_kind(node) != NodeKind::Synthetic || is_document_dom_trees_root(snap, node)
}

pub fn is_document_dom_trees_root(snap: &Snapshot, node: u32) -> bool {
    snap.node_kind(node) == NodeKind::Synthetic && snap.node_name(node) == "(Document DOM trees)"
}

/// Per-source-node part of the edge filter, decided once when a node is dequeued.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SourceRule {
    None,
    /// A hidden `system / NativeContext`: skip its `sloppy_function_map` edge.
    NativeContext,
    /// A `(map descriptors)` array: skip the descriptor-value links (index ≥ 2, index % 3 == 1),
    /// which may be stale for maps that share the array (crbug.com/413608).
    MapDescriptors,
}

struct Filter<'a> {
    snap: &'a Snapshot,
    weakmaps: &'a WeakMapNames,
    /// Duplicated parts of WeakMap edge pairs whose first edge was seen (and skipped).
    pending: HashSet<&'a str>,
}

impl<'a> Filter<'a> {
    fn source_rule(&self, node: u32) -> SourceRule {
        match self.snap.node_kind(node) {
            NodeKind::Hidden if self.snap.node_name(node) == "system / NativeContext" => {
                SourceRule::NativeContext
            }
            NodeKind::Array if self.snap.node_name(node) == "(map descriptors)" => {
                SourceRule::MapDescriptors
            }
            _ => SourceRule::None,
        }
    }

    /// Whether the BFS may follow `edge` out of a node with `rule`. Called only for edges whose
    /// target is not yet reached, like DevTools' filter, because the WeakMap rule has state.
    fn allows(&mut self, rule: SourceRule, edge: u32) -> bool {
        let snap = self.snap;
        let kind = snap.edge_kind(edge);
        match rule {
            SourceRule::NativeContext => {
                if kind.has_string_name()
                    && snap.strings.get(snap.edge_name_index(edge)) == "sloppy_function_map"
                {
                    return false;
                }
            }
            SourceRule::MapDescriptors => {
                // DevTools parses the printed name; NaN (a non-numeric name) keeps the edge.
                let raw = snap.edge_name_index(edge);
                let index = if kind.has_string_name() {
                    js_parse_int(snap.strings.get(raw))
                } else {
                    Some(i64::from(raw))
                };
                return match index {
                    Some(i) => i < 2 || i % 3 != 1,
                    None => true,
                };
            }
            SourceRule::None => {}
        }
        // The first edge of a WeakMap pair is skipped; the second one (seen later in BFS order,
        // hence at a greater or equal distance) sets the distance (crbug.com/1290800).
        if kind == EdgeKind::Internal
            && let Some(m) = self.weakmaps.edge(snap, edge)
            && !self.pending.remove(m.duplicated_part)
        {
            self.pending.insert(m.duplicated_part);
            return false;
        }
        true
    }
}

/// Computes `distance[node]` for every node. Returns `None` when `cancel` is set.
pub fn compute(snap: &Snapshot, weakmaps: &WeakMapNames, hooks: &Hooks) -> Option<Vec<i32>> {
    let n = snap.node_count();
    let mut distance = crate::mem::huge_vec(n, NO_DISTANCE);
    if n == 0 {
        return Some(distance);
    }
    let root = snap.root;
    let mut filter = Filter {
        snap,
        weakmaps,
        pending: HashSet::new(),
    };
    // Nodes to visit, in order. DevTools pushes a user root once per root edge, so a node the
    // root references twice is dequeued twice; that matters only for the stateful WeakMap rule,
    // but we keep it to be exact. A ring buffer holds only the frontier (a node-count vector
    // would cost 4 bytes per node at the moment the distances are the newest vector).
    let mut queue: VecDeque<u32> = VecDeque::new();
    for e in snap.edges(root) {
        let child = snap.edge_to[e as usize];
        if is_user_root(snap, child) {
            distance[child as usize] = 1;
            queue.push_back(child);
        }
    }
    let has_user_roots = !queue.is_empty();
    let mut visited = 0usize;
    bfs(
        snap,
        &mut filter,
        &mut queue,
        &mut distance,
        &mut visited,
        hooks,
    )?;

    distance[root as usize] = if has_user_roots {
        BASE_SYSTEM_DISTANCE
    } else {
        0
    };
    queue.clear();
    queue.push_back(root);
    bfs(
        snap,
        &mut filter,
        &mut queue,
        &mut distance,
        &mut visited,
        hooks,
    )?;
    Some(distance)
}

fn bfs(
    snap: &Snapshot,
    filter: &mut Filter<'_>,
    queue: &mut VecDeque<u32>,
    distance: &mut [i32],
    visited: &mut usize,
    hooks: &Hooks,
) -> Option<()> {
    let n = snap.node_count();
    while let Some(node) = queue.pop_front() {
        // The queue is the future: on a graph without locality the misses of the nodes a
        // little ahead overlap.
        snap.prefetch_queued(queue, |child| {
            crate::mem::prefetch(distance, child as usize)
        });
        *visited += 1;
        if (*visited).is_multiple_of(1 << 20) {
            if hooks.is_cancelled() {
                return None;
            }
            hooks.report(
                "calculating distances",
                (*visited as f32 / n as f32).min(1.0),
            );
        }
        let next = distance[node as usize] + 1;
        let rule = filter.source_rule(node);
        for e in snap.edges(node) {
            if snap.edge_kind(e) == EdgeKind::Weak {
                continue;
            }
            let child = snap.edge_to[e as usize];
            if distance[child as usize] != NO_DISTANCE {
                continue;
            }
            if !filter.allows(rule, e) {
                continue;
            }
            distance[child as usize] = next;
            queue.push_back(child);
        }
    }
    Some(())
}

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
//! included. Both walks go level by level: a level whose edges give the WeakMap rule nothing
//! to decide is expanded on every core and its new nodes are then numbered in DevTools' queue
//! order; any other level is walked node by node as DevTools does.

use std::collections::HashSet;
use std::ops::ControlFlow;

use rayon::prelude::*;

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

/// What the stateless part of the filter says about an edge.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict<'a> {
    Skip,
    Follow,
    /// One edge of a WeakMap pair (the part both its edges name): the stateful rule decides.
    WeakMapPair(&'a str),
}

fn source_rule(snap: &Snapshot, node: u32) -> SourceRule {
    match snap.node_kind(node) {
        NodeKind::Hidden if snap.node_name(node) == "system / NativeContext" => {
            SourceRule::NativeContext
        }
        NodeKind::Array if snap.node_name(node) == "(map descriptors)" => {
            SourceRule::MapDescriptors
        }
        _ => SourceRule::None,
    }
}

/// The filter's rules but the WeakMap pairs' state, for an edge out of a node with `rule`.
fn verdict<'a>(
    snap: &'a Snapshot,
    weakmaps: &WeakMapNames,
    rule: SourceRule,
    edge: u32,
) -> Verdict<'a> {
    let kind = snap.edge_kind(edge);
    match rule {
        SourceRule::NativeContext => {
            if kind.has_string_name()
                && snap.strings.get(snap.edge_name_index(edge)) == "sloppy_function_map"
            {
                return Verdict::Skip;
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
                Some(i) if i >= 2 && i % 3 == 1 => Verdict::Skip,
                _ => Verdict::Follow,
            };
        }
        SourceRule::None => {}
    }
    // Only internal edges are WeakMap pair edges (`WeakMapNames::edge` checks).
    match weakmaps.edge(snap, edge) {
        Some(m) => Verdict::WeakMapPair(m.duplicated_part),
        None => Verdict::Follow,
    }
}

impl<'a> Filter<'a> {
    /// Whether the BFS may follow `edge` out of a node with `rule`. Called only for edges whose
    /// target is not yet reached, like DevTools' filter, because the WeakMap rule has state.
    fn allows(&mut self, rule: SourceRule, edge: u32) -> bool {
        match verdict(self.snap, self.weakmaps, rule, edge) {
            Verdict::Skip => false,
            Verdict::Follow => true,
            // The first edge of a WeakMap pair is skipped; the second one (seen later in BFS
            // order, hence at a greater or equal distance) sets the distance (crbug.com/1290800).
            Verdict::WeakMapPair(part) => {
                if self.pending.remove(part) {
                    true
                } else {
                    self.pending.insert(part);
                    false
                }
            }
        }
    }
}

/// Computes `distance[node]` for every node. Returns `None` when `cancel` is set.
pub fn compute(snap: &Snapshot, weakmaps: &WeakMapNames, hooks: &Hooks) -> Option<Vec<i32>> {
    compute_with(snap, weakmaps, hooks, SPREAD).map(|(distance, _)| distance)
}

/// Which levels the walks spread over the cores: those of at least `from` nodes, in chunks of
/// `chunk` nodes.
#[derive(Clone, Copy, Debug)]
pub struct Spread {
    pub from: usize,
    pub chunk: usize,
}

/// Smaller levels are walked node by node: spreading them costs more than it saves.
const SPREAD: Spread = Spread {
    from: 1 << 14,
    chunk: 4096,
};

/// [`compute`] with other [`Spread`]s than its own (tests walk small graphs in small chunks; the
/// distances depend on neither), and how many levels were spread over the cores.
pub fn compute_spreading(snap: &Snapshot, spread: Spread) -> Option<(Vec<i32>, usize)> {
    compute_with(snap, &WeakMapNames::new(snap), &Hooks::default(), spread)
}

fn compute_with(
    snap: &Snapshot,
    weakmaps: &WeakMapNames,
    hooks: &Hooks,
    spread: Spread,
) -> Option<(Vec<i32>, usize)> {
    let n = snap.node_count();
    let mut distance = crate::mem::huge_vec(n, NO_DISTANCE);
    if n == 0 {
        return Some((distance, 0));
    }
    let root = snap.root;
    let mut filter = Filter {
        snap,
        weakmaps,
        pending: HashSet::new(),
    };
    // The first level, in order. DevTools pushes a user root once per root edge, so a node the
    // root references twice is dequeued twice; that matters only for the stateful WeakMap rule,
    // but we keep it to be exact. Only the frontier is held (a node-count vector would cost 4
    // bytes per node at the moment the distances are the newest vector).
    let mut level: Vec<u32> = Vec::new();
    for e in snap.edges(root) {
        let child = snap.edge_to[e as usize];
        if is_user_root(snap, child) {
            distance[child as usize] = 1;
            level.push(child);
        }
    }
    let has_user_roots = !level.is_empty();
    let mut visited = 0usize;
    let mut spread_levels = bfs(
        snap,
        &mut filter,
        level,
        &mut distance,
        &mut visited,
        hooks,
        spread,
    )?;

    distance[root as usize] = if has_user_roots {
        BASE_SYSTEM_DISTANCE
    } else {
        0
    };
    spread_levels += bfs(
        snap,
        &mut filter,
        vec![root],
        &mut distance,
        &mut visited,
        hooks,
        spread,
    )?;
    Some((distance, spread_levels))
}

/// Breadth-first from `level` (nodes at one distance, in DevTools' queue order), level by level;
/// returns how many levels were spread over the cores.
fn bfs(
    snap: &Snapshot,
    filter: &mut Filter<'_>,
    mut level: Vec<u32>,
    distance: &mut [i32],
    visited: &mut usize,
    hooks: &Hooks,
    spread: Spread,
) -> Option<usize> {
    let n = snap.node_count();
    let mut spread_levels = 0;
    while let Some(&first) = level.first() {
        let next_distance = distance[first as usize] + 1;
        let found = if level.len() >= spread.from {
            expand_on_every_core(snap, filter.weakmaps, &level, distance, spread.chunk)
        } else {
            None
        };
        let next = match found {
            Some(found) => {
                spread_levels += 1;
                number_in_order(&found, distance, next_distance)
            }
            None => expand_in_order(snap, filter, &level, distance, next_distance, hooks)?,
        };
        *visited += level.len();
        if hooks.is_cancelled() {
            return None;
        }
        hooks.report(
            "calculating distances",
            (*visited as f32 / n as f32).min(1.0),
        );
        level = next;
    }
    Some(spread_levels)
}

/// The walk over `nodes` that both ways of expanding a level share: each node in turn, each of
/// its edges in turn; `take` is handed every non-weak edge whose target no level has reached yet
/// (as `distance` says at that moment), with the rule of the edge's source, and may stop the walk.
fn expand<D: AsRef<[i32]>>(
    snap: &Snapshot,
    nodes: &[u32],
    distance: &mut D,
    mut take: impl FnMut(&mut D, SourceRule, u32, u32) -> ControlFlow<()>,
) -> ControlFlow<()> {
    for (i, &node) in nodes.iter().enumerate() {
        // The level is the future: on a graph without locality the misses of the nodes a
        // little ahead overlap.
        snap.prefetch_ahead(
            |k| nodes.get(i + k).copied(),
            |child| crate::mem::prefetch(distance.as_ref(), child as usize),
        );
        let rule = source_rule(snap, node);
        for e in snap.edges(node) {
            if snap.edge_kind(e) == EdgeKind::Weak {
                continue;
            }
            let child = snap.edge_to[e as usize];
            if distance.as_ref()[child as usize] != NO_DISTANCE {
                continue;
            }
            take(distance, rule, e, child)?;
        }
    }
    ControlFlow::Continue(())
}

/// DevTools' walk over one level, the WeakMap rule's state carried along. Returns the next
/// level in queue order (`None` when cancelled: a level can hold tens of millions of nodes).
fn expand_in_order(
    snap: &Snapshot,
    filter: &mut Filter<'_>,
    level: &[u32],
    mut distance: &mut [i32],
    next_distance: i32,
    hooks: &Hooks,
) -> Option<Vec<u32>> {
    let mut next = Vec::new();
    for part in level.chunks(1 << 20) {
        if hooks.is_cancelled() {
            return None;
        }
        let _ = expand(snap, part, &mut distance, |distance, rule, e, child| {
            if filter.allows(rule, e) {
                distance[child as usize] = next_distance;
                next.push(child);
            }
            ControlFlow::Continue(())
        });
    }
    Some(next)
}

/// One level's edges on every core, in chunks: per chunk, in order, the targets not reached
/// before this level that the filter lets through (repeats included). `None` when an edge of a
/// WeakMap pair leads to such a target: whether DevTools follows it depends on the pairs seen
/// before it, so that level is walked in order instead.
fn expand_on_every_core(
    snap: &Snapshot,
    weakmaps: &WeakMapNames,
    level: &[u32],
    distance: &[i32],
    chunk: usize,
) -> Option<Vec<Vec<u32>>> {
    level
        .par_chunks(chunk.max(1))
        .map(|chunk| {
            let mut found = Vec::new();
            let walked = expand(snap, chunk, &mut &*distance, |_, rule, e, child| {
                match verdict(snap, weakmaps, rule, e) {
                    Verdict::Skip => {}
                    Verdict::Follow => found.push(child),
                    Verdict::WeakMapPair(_) => return ControlFlow::Break(()),
                }
                ControlFlow::Continue(())
            });
            walked.is_continue().then_some(found)
        })
        .collect()
}

/// The next level from what [`expand_on_every_core`] found: each target at its first
/// appearance, chunks in order, which is the order DevTools' queue takes them in.
fn number_in_order(found: &[Vec<u32>], distance: &mut [i32], next_distance: i32) -> Vec<u32> {
    const AHEAD: usize = 16;
    let mut next = Vec::with_capacity(found.iter().map(Vec::len).sum());
    for targets in found {
        for (i, &child) in targets.iter().enumerate() {
            if let Some(&ahead) = targets.get(i + AHEAD) {
                crate::mem::prefetch(distance, ahead as usize);
            }
            if distance[child as usize] == NO_DISTANCE {
                distance[child as usize] = next_distance;
                next.push(child);
            }
        }
    }
    next.shrink_to_fit();
    next
}

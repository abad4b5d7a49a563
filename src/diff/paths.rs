//! Merged retainer paths: the shortest retaining path of every new object, grouped by shape.
//!
//! A path is the one `analysis::paths::shortest_path_to_root` would take: at every step the
//! retainer closest to the roots (DevTools' `nodeDistances`), ties broken as the Retainers pane
//! orders rows (`compareEdgeAndNode`: retainer name ascending in JavaScript order, then the
//! higher edge index, which `buildRetainers` lists first). Each node's next hop is found once and
//! memoised together with the *shape* of the rest of its path, so every object costs one lookup
//! once its path has been seen: no sampling, exact counts, O(path length) for the first object
//! of a shape and O(1) after.
//!
//! Edges that are not ownership never carry a path: weak and invisible edges, edges from the
//! root (they end the path at a GC root), the table's own edge of a WeakMap key/value pair (the
//! key keeps the value, the backing store does not: DevTools' dominator rule in
//! `hasOnlyWeakRetainers`/`isEssentialEdge`), a native context's `sloppy_function_map` and the
//! descriptor links of shared `(map descriptors)` (the edges `calculateDistances` skips).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::NO_DISTANCE;
use crate::loaded::Loaded;
use crate::snapshot::class::{DOM_DETACHED, cmp_utf16, display_name};
use crate::snapshot::{EdgeKind, NodeKind};

/// One step of a merged path: the edge into the node before it and the retainer it comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathStep {
    /// `property`, `element`, `context`, `internal`, …
    pub edge_type: String,
    /// The edge name; element and hidden indexes are folded to `[]`.
    pub edge_name: String,
    /// The retainer's class; for a closure its function name (`Function` when anonymous), which
    /// is what tells one listener from another, and for a synthetic root its name.
    pub class_name: String,
}

/// Objects of one class that share the shape of their shortest retaining path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MergedPath {
    pub count: u64,
    /// Retained size of these objects, each counted only when no other new object of the same
    /// class dominates it (so a class's paths sum to its `added_retained_size`).
    pub retained_size: u64,
    /// From the object outwards to a GC root. Empty for objects with no path (unreachable).
    pub steps: Vec<PathStep>,
    /// One of the objects (after-snapshot ordinal), to open its Retainers pane.
    #[serde(skip)]
    pub example: u32,
}

/// What a step is grouped by: edge type, edge name string (or `FOLDED`), retainer class (or,
/// for closures and synthetic roots, `CLOSURE | name string`).
type StepKey = (u8, u32, u64);
const FOLDED: u32 = u32::MAX;
const CLOSURE: u64 = 1 << 40;

const UNKNOWN: u32 = u32::MAX;
/// The shape of the empty path (the node is a GC root's child, or has no retainer).
const END: u32 = 0;

/// The table id of a WeakMap ephemeron edge name, if it is one.
fn parse_weakmap_table_id(s: &str) -> Option<u32> {
    if !s.contains(" / part of key (") {
        return None;
    }
    let (_, id) = s
        .strip_suffix(')')?
        .rsplit_once("pair in WeakMap (table @")?;
    id.parse().ok()
}

/// Whether `edge` from `source` can carry a retaining path (see the module comment);
/// `table_id` names the WeakMap table of an ephemeron edge name.
fn owns(
    loaded: &Loaded,
    edge: u32,
    source: u32,
    table_id: &mut dyn FnMut(u32) -> Option<u32>,
) -> bool {
    let snap = &loaded.snapshot;
    if source == snap.root {
        return false;
    }
    let kind = snap.edge_kind(edge);
    match kind {
        EdgeKind::Weak | EdgeKind::Invisible => return false,
        EdgeKind::Internal => {
            let name = snap.edge_name_index(edge);
            let n = snap.strings.get(name);
            if n.as_bytes().first().is_some_and(u8::is_ascii_digit)
                && table_id(name) == Some(snap.node_id[source as usize])
            {
                return false;
            }
            if n == "sloppy_function_map"
                && snap.node_kind(source) == NodeKind::Hidden
                && snap.node_name(source) == "system / NativeContext"
            {
                return false;
            }
        }
        _ => {}
    }
    if snap.node_kind(source) == NodeKind::Array && snap.node_name(source) == "(map descriptors)" {
        let index = if kind.has_string_name() {
            snap.strings.get(snap.edge_name_index(edge)).parse().ok()
        } else {
            Some(snap.edge_name_index(edge))
        };
        if index.is_some_and(|i| i >= 2 && i % 3 == 1) {
            return false;
        }
    }
    true
}

/// The next hop of `node`'s shortest retaining path: among owning retainers strictly closer to
/// the roots, the closest, then the Retainers pane's first (name ascending, then the higher edge
/// index). `owns` is [`owns`] with the caller's table-id lookup.
fn next_hop(
    loaded: &Loaded,
    node: u32,
    owns: &mut dyn FnMut(u32, u32) -> bool,
) -> Option<(u32, u32)> {
    let (snap, analysis) = (&loaded.snapshot, &loaded.analysis);
    let d = *analysis.distance.get(node as usize)?;
    if d == NO_DISTANCE || node == snap.root {
        return None;
    }
    let dom = loaded.classes.dom();
    let mut best: Option<(i32, u32, u32)> = None;
    for edge in analysis.retaining_edges(snap, node) {
        let source = analysis.edge_source(snap, edge);
        let ds = analysis.distance[source as usize];
        if ds == NO_DISTANCE || ds >= d {
            continue;
        }
        if let Some((bd, be, bs)) = best {
            if ds > bd {
                continue;
            }
            if ds == bd {
                // Most ties are between nodes whose shown name is their raw name string; the
                // same string then means the same name, without building it.
                let plain = |x: u32| {
                    !matches!(snap.node_kind(x), NodeKind::ConsString | NodeKind::Object)
                        && dom.is_none_or(|d| d.get(x as usize) != Some(&DOM_DETACHED))
                };
                let order = if snap.node_name[source as usize] == snap.node_name[bs as usize]
                    && plain(source)
                    && plain(bs)
                {
                    std::cmp::Ordering::Equal
                } else {
                    cmp_utf16(
                        &display_name(snap, dom, source),
                        &display_name(snap, dom, bs),
                    )
                };
                let better = order.is_lt() || (order.is_eq() && edge > be);
                if !better {
                    continue;
                }
            }
        }
        if owns(edge, source) {
            best = Some((ds, edge, source));
        }
    }
    best.map(|(_, e, s)| (e, s))
}

/// A next hop packed for [`PathIndex::first_hops`] as `edge << 32 | source`: `NO_HOP` when not
/// computed (the node's shape was known), `END_HOP` when the node has none.
const NO_HOP: u64 = u64::MAX;
const END_HOP: u64 = u64::MAX - 1;

/// Entries of [`PathIndex::recent`].
const RECENT: usize = 1024;

/// Memoised next hops and path shapes of one snapshot.
pub struct PathIndex<'a> {
    loaded: &'a Loaded,
    /// Per node: its path's shape, or `UNKNOWN` until visited.
    shape_of: Vec<u32>,
    /// Per shape: (first step, shape of the rest). Entry 0 is `END`.
    shapes: Vec<(StepKey, u32)>,
    interned: HashMap<(StepKey, u32), u32>,
    /// A direct-mapped cache in front of `interned`: the objects of one class mostly share a
    /// few shapes, so most look-ups hit here and skip hashing. Collisions only cost a miss.
    recent: Vec<((StepKey, u32), u32)>,
    /// Reused by [`PathIndex::shape_from`]: the steps of the walk still to be interned.
    pending: Vec<(u32, StepKey)>,
    /// Per edge-name string: the table id of a WeakMap ephemeron edge name, if it is one.
    weakmap_table: HashMap<u32, Option<u32>>,
    /// Once set, merging stops early and its result is incomplete ([`PathIndex::with_cancel`]).
    cancel: Option<&'a AtomicBool>,
}

impl<'a> PathIndex<'a> {
    pub fn new(loaded: &'a Loaded) -> PathIndex<'a> {
        PathIndex {
            loaded,
            shape_of: vec![UNKNOWN; loaded.snapshot.node_count()],
            shapes: vec![((0, 0, 0), END)],
            interned: HashMap::new(),
            recent: vec![(((0, 0, 0), u32::MAX), u32::MAX); RECENT],
            pending: Vec::new(),
            weakmap_table: HashMap::new(),
            cancel: None,
        }
    }

    /// Stops [`PathIndex::merge`] early once `cancel` is set (checked every few thousand
    /// nodes); the caller then drops the incomplete result.
    pub fn with_cancel(mut self, cancel: Option<&'a AtomicBool>) -> PathIndex<'a> {
        self.cancel = cancel;
        self
    }

    fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// The shape id of (first step, rest), interning it when new.
    fn intern(&mut self, key: StepKey, tail: u32) -> u32 {
        let mix = (u64::from(key.0) ^ u64::from(key.1).rotate_left(8) ^ key.2.rotate_left(40))
            .wrapping_add(u64::from(tail))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let slot = (mix >> 54) as usize % RECENT;
        if self.recent[slot].0 == (key, tail) {
            return self.recent[slot].1;
        }
        let next_id = self.shapes.len() as u32;
        let id = *self.interned.entry((key, tail)).or_insert(next_id);
        if id == next_id {
            self.shapes.push((key, tail));
        }
        self.recent[slot] = ((key, tail), id);
        id
    }

    /// The V8 id of the WeakMap table named by an ephemeron edge name
    /// (`… pair in WeakMap (table @<id>)`), cached per string.
    fn weakmap_table_id(&mut self, name: u32) -> Option<u32> {
        let strings = &self.loaded.snapshot.strings;
        *self
            .weakmap_table
            .entry(name)
            .or_insert_with(|| parse_weakmap_table_id(strings.get(name)))
    }

    /// Whether `edge` from `source` can carry a retaining path (see the module comment).
    fn owns(&mut self, edge: u32, source: u32) -> bool {
        let loaded = self.loaded;
        owns(loaded, edge, source, &mut |name| {
            self.weakmap_table_id(name)
        })
    }

    /// The next hop of `node`'s shortest retaining path (see [`next_hop`]).
    fn next_hop(&mut self, node: u32) -> Option<(u32, u32)> {
        let loaded = self.loaded;
        next_hop(loaded, node, &mut |edge, source| self.owns(edge, source))
    }

    /// The next hops of `nodes`, computed in parallel (each is independent of the memo), to
    /// hand to [`PathIndex::merge_with_hops`].
    pub fn first_hops(&self, nodes: &[u32]) -> Vec<u64> {
        let loaded = self.loaded;
        let strings = &loaded.snapshot.strings;
        nodes
            .par_iter()
            .with_min_len(1024)
            .map(|&node| {
                if self.shape_of.get(node as usize) != Some(&UNKNOWN) || self.cancelled() {
                    return NO_HOP;
                }
                let mut owns_edge = |edge: u32, source: u32| {
                    owns(loaded, edge, source, &mut |name| {
                        parse_weakmap_table_id(strings.get(name))
                    })
                };
                next_hop(loaded, node, &mut owns_edge)
                    .map_or(END_HOP, |(e, s)| (u64::from(e) << 32) | u64::from(s))
            })
            .collect()
    }

    fn step_key(&self, edge: u32, source: u32) -> StepKey {
        let snap = &self.loaded.snapshot;
        let kind = snap.edge_kind(edge);
        // Element and hidden edges carry an index, and so do the numbered internal slots of
        // hash tables (a `Map`'s backing store): all fold to `[]` so that the entries of one
        // collection merge into one path.
        let raw = snap.edge_name_index(edge);
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let name = if kind.has_string_name() && !numeric(snap.strings.get(raw)) {
            raw
        } else {
            FOLDED
        };
        // Closures are told apart by their function name, synthetic roots by theirs (`(Global
        // handles)`, …): their class names (`Function`, `(synthetic)`) say nothing.
        let class = if matches!(
            snap.node_kind(source),
            NodeKind::Closure | NodeKind::Synthetic
        ) {
            CLOSURE | u64::from(snap.node_name[source as usize])
        } else {
            u64::from(
                self.loaded
                    .classes
                    .class_of
                    .get(source as usize)
                    .unwrap_or(u32::MAX),
            )
        };
        (snap.edge_type(edge), name, class)
    }

    /// The shape id of `node`'s path, computing and memoising it for every node along the way.
    pub fn shape(&mut self, node: u32) -> u32 {
        self.shape_from(node, None)
    }

    /// [`PathIndex::shape`], with `node`'s next hop already known when `first` is given.
    fn shape_from(&mut self, node: u32, first: Option<Option<(u32, StepKey)>>) -> u32 {
        let Some(&known) = self.shape_of.get(node as usize) else {
            return END;
        };
        if known != UNKNOWN {
            return known;
        }
        // Walk outwards until a node whose shape is known; distances strictly decrease, so the
        // walk ends. Then assign shapes back from the known end.
        let mut pending = std::mem::take(&mut self.pending);
        pending.clear();
        let mut current = node;
        let mut tail = END;
        let mut first = first;
        loop {
            let s = self.shape_of[current as usize];
            if s != UNKNOWN {
                tail = s;
                break;
            }
            let hop = match first.take() {
                Some(hop) => hop,
                None => self
                    .next_hop(current)
                    .map(|(edge, source)| (source, self.step_key(edge, source))),
            };
            match hop {
                Some((source, key)) => {
                    pending.push((current, key));
                    current = source;
                }
                None => {
                    self.shape_of[current as usize] = END;
                    break;
                }
            }
        }
        while let Some((n, key)) = pending.pop() {
            let id = self.intern(key, tail);
            self.shape_of[n as usize] = id;
            tail = id;
        }
        self.pending = pending;
        self.shape_of[node as usize]
    }

    /// The printed steps of a shape, from the object outwards.
    pub fn steps(&self, mut shape: u32) -> Vec<PathStep> {
        let loaded = self.loaded;
        let snap = &loaded.snapshot;
        let mut steps = Vec::new();
        while shape != END {
            let Some(&((ty, name, class), rest)) = self.shapes.get(shape as usize) else {
                break;
            };
            let class_name = if class & CLOSURE != 0 {
                let n = snap.strings.get((class & !CLOSURE) as u32);
                if n.is_empty() { "Function" } else { n }.to_string()
            } else {
                loaded
                    .classes
                    .names
                    .get(class as usize)
                    .cloned()
                    .unwrap_or_default()
            };
            steps.push(PathStep {
                edge_type: snap.meta.edge_type_name(ty).to_string(),
                edge_name: if name == FOLDED {
                    "[]".to_string()
                } else {
                    snap.strings.get(name).to_string()
                },
                class_name,
            });
            shape = rest;
        }
        steps
    }

    /// Groups `nodes` by path shape: most objects first, then larger retained size, then the
    /// group with the lowest node ordinal (independent of what the memo held before).
    /// `counted(node)` says whether a node's retained size adds to its path's.
    pub fn merge(&mut self, nodes: &[u32], counted: &dyn Fn(u32) -> bool) -> Vec<MergedPath> {
        let hops = self.first_hops(nodes);
        self.merge_with_hops(nodes, &hops, counted)
    }

    /// [`PathIndex::merge`] with the nodes' next hops from [`PathIndex::first_hops`] (computed
    /// against this index: a node whose shape was known then has `NO_HOP` and is looked up).
    pub fn merge_with_hops(
        &mut self,
        nodes: &[u32],
        hops: &[u64],
        counted: &dyn Fn(u32) -> bool,
    ) -> Vec<MergedPath> {
        let cancel = self.cancel;
        let mut keyed: Vec<(u32, u32)> = nodes
            .iter()
            .zip(hops)
            .enumerate()
            .take_while(|(i, _)| {
                i % 4096 != 0 || !cancel.is_some_and(|c| c.load(Ordering::Relaxed))
            })
            .map(|(_, (&n, &hop))| {
                let first = match hop {
                    NO_HOP => None,
                    END_HOP => Some(None),
                    _ => {
                        let (edge, source) = ((hop >> 32) as u32, hop as u32);
                        Some(Some((source, self.step_key(edge, source))))
                    }
                };
                (self.shape_from(n, first), n)
            })
            .collect();
        keyed.sort_unstable();
        let retained = &self.loaded.analysis.retained_size;
        let mut groups: Vec<(u32, MergedPath)> = Vec::new();
        for chunk in keyed.chunk_by(|a, b| a.0 == b.0) {
            let retained_size = chunk
                .iter()
                .filter(|&&(_, n)| counted(n))
                .map(|&(_, n)| retained.of(n))
                .sum();
            groups.push((
                chunk[0].0,
                MergedPath {
                    count: chunk.len() as u64,
                    retained_size,
                    steps: Vec::new(),
                    example: chunk[0].1,
                },
            ));
        }
        groups.sort_by(|a, b| {
            b.1.count
                .cmp(&a.1.count)
                .then(b.1.retained_size.cmp(&a.1.retained_size))
                .then(a.1.example.cmp(&b.1.example))
        });
        for (shape, path) in &mut groups {
            path.steps = self.steps(*shape);
        }
        groups.into_iter().map(|(_, p)| p).collect()
    }
}

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
//! Chains fold: a run of identical steps (same edge type, edge name and retainer class — a
//! linked list's `next`/`prev`, Node's timer lists `_idlePrev`) is one step with a `repeat`
//! count, and paths that differ only in such counts are one merged path. Without that, the
//! 10,000 objects of a list are 10,000 paths, each one step longer than its neighbour's.
//!
//! Which edges own and which retainer is the next hop: [`super::hops`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use super::hops::{next_hop, owns, parse_weakmap_table_id};
use crate::hash::FxSet;
use crate::loaded::Loaded;
use crate::snapshot::NodeKind;

/// One step of a merged path: the edge into the node before it and the retainer it comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PathStep {
    /// `property`, `element`, `context`, `internal`, …
    pub edge_type: String,
    /// The edge name; element and hidden indexes are folded to `[]`.
    pub edge_name: String,
    /// The retainer's class; for a closure its function name (`Function` when anonymous), which
    /// is what tells one listener from another, and for a synthetic root its name.
    pub class_name: String,
    /// How many times the step repeats in a row (a chain): the longest run among the merged
    /// objects; 1 for an ordinary step.
    #[serde(default = "one")]
    pub repeat: u64,
}

fn one() -> u64 {
    1
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

/// A path's leading run through objects of its node's own class: (the step, its length).
type Lead = Option<(StepKey, u32)>;

const UNKNOWN: u32 = u32::MAX;
/// The shape of the empty path (the node is a GC root's child, or has no retainer).
const END: u32 = 0;

/// A next hop packed for [`PathIndex::first_hops`] as `edge << 32 | source`: `NO_HOP` when not
/// computed (the node's shape was known), `END_HOP` when the node has none.
const NO_HOP: u64 = u64::MAX;
const END_HOP: u64 = u64::MAX - 1;

/// Entries of [`PathIndex::recent`].
const RECENT: usize = 1024;

/// Per node, the shape of its path (`UNKNOWN` until set), in memory the kernel backs only
/// where written: the entries are stored inverted (`UNKNOWN` is 0) in zeroed memory, so only
/// the pages of visited nodes become resident (the leak groups, beside which it is allocated,
/// are the peak of an out-of-memory diff). A page never written is not read either, a bit per
/// page says which were: reading an untouched page maps the kernel's shared zero page, and the
/// first write there then costs a copy-on-write fault and a TLB flush on the other core (0.1
/// CPU-seconds of the 1 GB pair's comparison).
struct NodeShapes {
    inverted: Vec<u32>,
    /// Bit `p`: page `p` of `inverted` ([`PAGE`] entries) has been written.
    written: Vec<u64>,
}

/// Entries of [`NodeShapes`] per 4 KiB page.
const PAGE: usize = 1024;

impl NodeShapes {
    fn new(nodes: usize) -> NodeShapes {
        NodeShapes {
            inverted: vec![!UNKNOWN; nodes],
            written: vec![0; nodes.div_ceil(PAGE).div_ceil(64)],
        }
    }

    fn is_written(&self, i: usize) -> bool {
        let page = i / PAGE;
        self.written[page / 64] & (1 << (page % 64)) != 0
    }

    /// `node`'s shape; `None` past the end.
    fn get(&self, node: u32) -> Option<u32> {
        let i = node as usize;
        (i < self.inverted.len()).then(|| self.at(node))
    }

    /// `node`'s shape (`node` must be in range).
    fn at(&self, node: u32) -> u32 {
        let i = node as usize;
        if self.is_written(i) {
            !self.inverted[i]
        } else {
            assert!(i < self.inverted.len(), "node {node} out of range");
            UNKNOWN
        }
    }

    fn set(&mut self, node: u32, shape: u32) {
        let i = node as usize;
        self.inverted[i] = !shape;
        let page = i / PAGE;
        self.written[page / 64] |= 1 << (page % 64);
    }
}

/// Memoised next hops and path shapes of one snapshot.
pub struct PathIndex<'a> {
    loaded: &'a Loaded,
    /// Per node: its path's shape ([`NodeShapes`]). Read and written through
    /// [`PathIndex::known`] and [`PathIndex::set_shape`].
    shape_of: NodeShapes,
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
    /// Per shape, its folded shape (`UNKNOWN` until computed): runs of one step collapsed.
    folded_of: Vec<u32>,
    /// Per folded shape: (first step, folded shape of the rest). Entry 0 is `END`.
    folded: Vec<(StepKey, u32)>,
    folded_interned: HashMap<(StepKey, u32), u32>,
    /// Per shape, its first run: (length, the shape after the run); `(0, UNKNOWN)` until known.
    runs: Vec<(u32, u32)>,
    /// Once set, merging stops early and its result is incomplete ([`PathIndex::with_cancel`]).
    cancel: Option<&'a AtomicBool>,
}

impl<'a> PathIndex<'a> {
    pub fn new(loaded: &'a Loaded) -> PathIndex<'a> {
        PathIndex {
            loaded,
            shape_of: NodeShapes::new(loaded.snapshot.node_count()),
            shapes: vec![((0, 0, 0), END)],
            interned: HashMap::new(),
            recent: vec![(((0, 0, 0), u32::MAX), u32::MAX); RECENT],
            pending: Vec::new(),
            weakmap_table: HashMap::new(),
            folded_of: vec![END],
            folded: vec![((0, 0, 0), END)],
            folded_interned: HashMap::new(),
            runs: vec![(0, END)],
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

    /// The next hop of `node`'s shortest retaining path (see [`next_hop`]): `(edge, retainer)`.
    pub(crate) fn next_hop(&mut self, node: u32) -> Option<(u32, u32)> {
        let loaded = self.loaded;
        next_hop(loaded, node, &mut |edge, source| self.owns(edge, source))
    }

    /// The next hops of `nodes`, computed in parallel (each is independent of the memo), to
    /// be memoised one after another.
    fn first_hops(&self, nodes: &[u32]) -> Vec<u64> {
        nodes
            .par_iter()
            .with_min_len(1024)
            .map(|&node| {
                if self.known(node) != Some(UNKNOWN) || self.cancelled() {
                    return NO_HOP;
                }
                self.shared_next_hop(node)
                    .map_or(END_HOP, |(e, s)| (u64::from(e) << 32) | u64::from(s))
            })
            .collect()
    }

    /// [`PathIndex::next_hop`] without the memo's table-id cache, for callers on many threads.
    pub(crate) fn shared_next_hop(&self, node: u32) -> Option<(u32, u32)> {
        let loaded = self.loaded;
        let strings = &loaded.snapshot.strings;
        let mut owns_edge = |edge: u32, source: u32| {
            owns(loaded, edge, source, &mut |name| {
                parse_weakmap_table_id(strings.get(name))
            })
        };
        next_hop(loaded, node, &mut owns_edge)
    }

    /// What a step names a node by (its class; closures and synthetic roots by name), so a
    /// path can tell a step through an object of the node's own class.
    fn class_token(&self, node: u32) -> u64 {
        let snap = &self.loaded.snapshot;
        if matches!(
            snap.node_kind(node),
            NodeKind::Closure | NodeKind::Synthetic
        ) {
            CLOSURE | u64::from(snap.node_name[node as usize])
        } else {
            u64::from(
                self.loaded
                    .classes
                    .class_of
                    .get(node as usize)
                    .unwrap_or(u32::MAX),
            )
        }
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
        (snap.edge_type(edge), name, self.class_token(source))
    }

    /// The shape id of `node`'s path, computing and memoising it for every node along the way.
    pub fn shape(&mut self, node: u32) -> u32 {
        self.shape_from(node, None)
    }

    /// `node`'s shape as far as known (`UNKNOWN` before it is visited); `None` past the end.
    fn known(&self, node: u32) -> Option<u32> {
        self.shape_of.get(node)
    }

    fn set_shape(&mut self, node: u32, shape: u32) {
        self.shape_of.set(node, shape);
    }

    /// [`PathIndex::shape`], with `node`'s next hop already known when `first` is given.
    fn shape_from(&mut self, node: u32, first: Option<Option<(u32, StepKey)>>) -> u32 {
        let Some(known) = self.known(node) else {
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
            let s = self.shape_of.at(current);
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
                    self.set_shape(current, END);
                    break;
                }
            }
        }
        while let Some((n, key)) = pending.pop() {
            let id = self.intern(key, tail);
            self.set_shape(n, id);
            tail = id;
        }
        self.pending = pending;
        self.shape_of.at(node)
    }

    /// One step as printed.
    fn print_step(&self, (ty, name, class): StepKey, repeat: u64) -> PathStep {
        let loaded = self.loaded;
        let snap = &loaded.snapshot;
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
        PathStep {
            edge_type: snap.meta.edge_type_name(ty).to_string(),
            edge_name: if name == FOLDED {
                "[]".to_string()
            } else {
                snap.strings.get(name).to_string()
            },
            class_name,
            repeat,
        }
    }

    /// The shape's folded shape: every run of one step collapsed to that step.
    pub fn folded(&mut self, shape: u32) -> u32 {
        if self.folded_of.len() < self.shapes.len() {
            self.folded_of.resize(self.shapes.len(), UNKNOWN);
        }
        // Walk to a shape whose folded form is known, then fold back from there (no recursion:
        // a chain is as long as the list).
        let mut pending = Vec::new();
        let mut s = shape;
        while self.folded_of[s as usize] == UNKNOWN {
            pending.push(s);
            s = self.shapes[s as usize].1;
        }
        let mut tail = self.folded_of[s as usize];
        while let Some(s) = pending.pop() {
            let key = self.shapes[s as usize].0;
            if tail == END || self.folded[tail as usize].0 != key {
                let next = self.folded.len() as u32;
                let id = *self.folded_interned.entry((key, tail)).or_insert(next);
                if id == next {
                    self.folded.push((key, tail));
                }
                tail = id;
            }
            self.folded_of[s as usize] = tail;
        }
        tail
    }

    /// A path's leading run through objects of `node`'s own class: (its step, its length, the
    /// shape after it).
    fn lead(&mut self, node: u32, shape: u32) -> Option<(StepKey, u32, u32)> {
        let &(key, _) = self.shapes.get(shape as usize)?;
        if shape == END || key.2 != self.class_token(node) {
            return None;
        }
        let (len, after) = self.run(shape);
        Some((key, len, after))
    }

    /// The first run of a shape: how many times its first step repeats, and the shape after.
    fn run(&mut self, shape: u32) -> (u32, u32) {
        if self.runs.len() < self.shapes.len() {
            self.runs.resize(self.shapes.len(), (0, UNKNOWN));
        }
        let mut pending = Vec::new();
        let mut s = shape;
        loop {
            if self.runs[s as usize].1 != UNKNOWN {
                break;
            }
            let (key, rest) = self.shapes[s as usize];
            if rest != END && self.shapes[rest as usize].0 == key {
                pending.push(s);
                s = rest;
            } else {
                self.runs[s as usize] = (1, rest);
                break;
            }
        }
        let (mut len, after) = self.runs[s as usize];
        while let Some(s) = pending.pop() {
            len += 1;
            self.runs[s as usize] = (len, after);
        }
        self.runs[shape as usize]
    }

    /// The printed steps of a shape, folded: from the object outwards, runs as one step.
    pub fn steps(&mut self, shape: u32) -> Vec<PathStep> {
        self.merged_steps(&[shape])
    }

    /// The printed, folded steps of shapes that fold alike, each run's `repeat` the longest
    /// among them.
    fn merged_steps(&mut self, shapes: &[u32]) -> Vec<PathStep> {
        let mut runs: Vec<(StepKey, u64)> = Vec::new();
        for &shape in shapes {
            let mut s = shape;
            let mut i = 0;
            while s != END && (s as usize) < self.shapes.len() {
                let key = self.shapes[s as usize].0;
                let (len, after) = self.run(s);
                match runs.get_mut(i) {
                    Some(run) => run.1 = run.1.max(u64::from(len)),
                    None => runs.push((key, u64::from(len))),
                }
                i += 1;
                s = after;
            }
        }
        runs.into_iter()
            .map(|(key, repeat)| self.print_step(key, repeat))
            .collect()
    }

    /// Groups `nodes` by path shape: most objects first, then larger retained size, then the
    /// group with the lowest node ordinal (independent of what the memo held before).
    /// `counted(node)` says whether a node's retained size adds to its path's.
    pub fn merge(&mut self, nodes: &[u32], counted: &dyn Fn(u32) -> bool) -> Vec<MergedPath> {
        // Paths that differ only in how long their chains are are one path: keyed by the
        // folded shape, and a leading run through objects of the node's own class (the list
        // a node sits in: `next`, `_idleNext`) left out of the key, so the list's first node
        // (no such step) merges with the rest. (folded key, node): the shape after the lead is
        // looked up again per group rather than kept per node.
        let mut keyed: Vec<(u32, u32)> = Vec::with_capacity(nodes.len());
        // The next hops on all cores, a slice at a time: 8 bytes a node in all, not 28 with
        // every hop and the shapes beside the key (a row of an out-of-memory snapshot can have
        // a million objects, and two rows merge at once).
        'slices: for slice in nodes.chunks(1 << 16) {
            let hops = self.first_hops(slice);
            for (i, (&n, &hop)) in slice.iter().zip(&hops).enumerate() {
                if i % 4096 == 0 && self.cancelled() {
                    break 'slices;
                }
                let first = match hop {
                    NO_HOP => None,
                    END_HOP => Some(None),
                    _ => {
                        let (edge, source) = ((hop >> 32) as u32, hop as u32);
                        Some(Some((source, self.step_key(edge, source))))
                    }
                };
                let shape = self.shape_from(n, first);
                let rest = match self.lead(n, shape) {
                    Some((_, _, after)) => after,
                    None => shape,
                };
                keyed.push((self.folded(rest), n));
            }
        }
        keyed.sort_unstable();
        let retained = &self.loaded.analysis.retained_size;
        // (its distinct shapes after the lead, the lead, the merged path)
        let mut groups: Vec<(Vec<u32>, Lead, MergedPath)> = Vec::new();
        for chunk in keyed.chunk_by(|a, b| a.0 == b.0) {
            let retained_size = chunk
                .iter()
                .filter(|&&(_, n)| counted(n))
                .map(|&(_, n)| retained.of(n))
                .sum();
            // The distinct shapes after the lead, and the lead shown: the step of the member
            // first in (shape after the lead, node) order that has one, as long as the longest
            // run of that step.
            let mut shapes: FxSet<u32> = FxSet::default();
            let mut first: Option<(u32, u32, StepKey)> = None;
            for &(_, n) in chunk {
                let shape = self.shape_of.at(n);
                let lead = self.lead(n, shape);
                let rest = lead.map_or(shape, |(_, _, after)| after);
                shapes.insert(rest);
                if let Some((key, _, _)) = lead
                    && first.is_none_or(|(r, m, _)| (rest, n) < (r, m))
                {
                    first = Some((rest, n, key));
                }
            }
            let lead: Lead = first.map(|(_, _, key)| {
                let mut longest = 0;
                for &(_, n) in chunk {
                    let shape = self.shape_of.at(n);
                    if let Some((k, len, _)) = self.lead(n, shape)
                        && k == key
                    {
                        longest = longest.max(len);
                    }
                }
                (key, longest)
            });
            let mut shapes: Vec<u32> = shapes.into_iter().collect();
            shapes.sort_unstable();
            let example = chunk.iter().map(|&(_, n)| n).min().unwrap_or(0);
            groups.push((
                shapes,
                lead,
                MergedPath {
                    count: chunk.len() as u64,
                    retained_size,
                    steps: Vec::new(),
                    example,
                },
            ));
        }
        groups.sort_by(|a, b| {
            b.2.count
                .cmp(&a.2.count)
                .then(b.2.retained_size.cmp(&a.2.retained_size))
                .then(a.2.example.cmp(&b.2.example))
        });
        groups
            .into_iter()
            .map(|(shapes, lead, mut path)| {
                path.steps = lead
                    .map(|(key, len)| self.print_step(key, u64::from(len)))
                    .into_iter()
                    .chain(self.merged_steps(&shapes))
                    .collect();
                path
            })
            .collect()
    }
}

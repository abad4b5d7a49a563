//! The dominator tree, as DevTools builds it (`calculateDominatorsAndRetainedSizes` in
//! HeapSnapshot.ts): Lengauer–Tarjan with the simple EVAL/LINK and path compression, over the
//! graph of *essential* edges, with DevTools' treatment of nodes the root cannot reach.
//!
//! Everything here is iterative: a 10-million-node chain needs no stack.
//!
//! Arrays are indexed by node ordinal; DFS preorder numbers start at 1 so that 0 means "not
//! visited", and [`NONE`] stands for "no node".

use std::collections::VecDeque;

use rayon::prelude::*;

use crate::snapshot::{EdgeKind, Snapshot};
use crate::task::Hooks;

use super::distance::{is_document_dom_trees_root, is_user_root};
use super::lookahead;
use super::retainers::{Gathered, Retainers};
use super::weakmap::WeakMapNames;

const NONE: u32 = u32::MAX;

/// One bit per node or per edge.
pub struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    pub fn new(len: usize) -> BitSet {
        BitSet {
            words: crate::mem::huge_vec(len.div_ceil(64), 0),
        }
    }

    #[inline]
    pub fn get(&self, i: u32) -> bool {
        self.words[i as usize / 64] & (1 << (i % 64)) != 0
    }

    #[inline]
    pub fn prefetch(&self, i: u32) {
        crate::mem::prefetch(&self.words, i as usize / 64);
    }

    #[inline]
    pub fn set(&mut self, i: u32) {
        self.words[i as usize / 64] |= 1 << (i % 64);
    }
}

/// Nodes owned by the page (`markPageOwnedNodes`): everything reachable over non-weak edges from
/// the root's shortcut targets (the global objects of pages) and from `(Document DOM trees)`.
/// The dominator tree ignores edges from other nodes into page-owned ones, so that objects the
/// debugger also holds keep their page dominators.
pub fn page_owned(snap: &Snapshot) -> BitSet {
    let n = snap.node_count();
    let mut flags = BitSet::new(n);
    // Reachability does not depend on the visiting order, so the walk takes nodes first in,
    // first out: the queue is then the future, and what the nodes a little ahead will read is
    // asked for in stages (their edges' start, their edges, their targets' marks), as the
    // distances' BFS does. A depth-first walk knows only its next node, one miss after another
    // on a graph without locality.
    let mut queue: VecDeque<u32> = VecDeque::new();
    for e in snap.edges(snap.root) {
        let child = snap.edge_to[e as usize];
        let entry = match snap.edge_kind(e) {
            EdgeKind::Element => is_document_dom_trees_root(snap, child),
            EdgeKind::Shortcut => true,
            _ => false,
        };
        if entry && !flags.get(child) {
            flags.set(child);
            queue.push_back(child);
        }
    }
    while let Some(node) = queue.pop_front() {
        snap.prefetch_ahead(|k| queue.get(k).copied(), |child| flags.prefetch(child));
        for e in snap.edges(node) {
            let child = snap.edge_to[e as usize];
            if flags.get(child) || snap.edge_kind(e) == EdgeKind::Weak {
                continue;
            }
            flags.set(child);
            queue.push_back(child);
        }
    }
    flags
}

/// Whether any child of the root is a user root (`#hasUserRoots`); without one the snapshot was
/// taken with internals exposed and DevTools moves no shallow sizes.
pub fn has_user_roots(snap: &Snapshot) -> bool {
    snap.node_count() > 0
        && snap
            .edges(snap.root)
            .any(|e| is_user_root(snap, snap.edge_to[e as usize]))
}

/// The edges the dominator tree uses (`computeIsEssentialEdge`):
/// - not weak, not a self loop;
/// - not the WeakMap *table*'s half of an ephemeron pair (the key's half is kept: removing either
///   the key or the table frees the value, and the key gives the more useful dominator);
/// - outside the root: no shortcut edges (at the root they mark the user's global objects), and
///   no edge from a non-page-owned node into a page-owned node.
pub fn essential_edges(snap: &Snapshot, weakmaps: &WeakMapNames, page: &BitSet) -> BitSet {
    let e_count = snap.edge_count();
    let root = snap.root;
    const CHUNK_WORDS: usize = 1024;
    // The page marks of the targets a little ahead are asked for early: on a heap without
    // locality each is a miss. Each chunk of words is one task's own, so every word is built
    // in a register and stored once (an atomic or per edge would wait for each miss in turn).
    const AHEAD: usize = 16;
    let mut words = crate::mem::huge_vec(e_count.div_ceil(64), 0u64);
    words
        .par_chunks_mut(CHUNK_WORDS)
        .enumerate()
        .for_each(|(c, chunk)| {
            let first = c * CHUNK_WORDS * 64;
            // Source of the first edge of the chunk, then walk first_edge alongside.
            let mut src = snap
                .first_edge
                .partition_point(|&f| f as usize <= first)
                .saturating_sub(1) as u32;
            for (w, word) in chunk.iter_mut().enumerate() {
                let start = first + w * 64;
                let end = (start + 64).min(e_count);
                let mut bits = 0u64;
                for e in start..end {
                    if let Some(&ahead) = snap.edge_to.get(e + AHEAD) {
                        page.prefetch(ahead);
                    }
                    while snap.first_edge[src as usize + 1] as usize <= e {
                        src += 1;
                    }
                    if is_essential(snap, weakmaps, page, root, src, e as u32) {
                        bits |= 1 << (e - start);
                    }
                }
                *word = bits;
            }
        });
    BitSet { words }
}

#[inline]
fn is_essential(
    snap: &Snapshot,
    weakmaps: &WeakMapNames,
    page: &BitSet,
    root: u32,
    src: u32,
    e: u32,
) -> bool {
    let kind = snap.edge_kind(e);
    match kind {
        EdgeKind::Weak => return false,
        EdgeKind::Internal => {
            if let Some(m) = weakmaps.edge(snap, e) {
                // `parseInt(tableId)` against the source's id; an id too long for u32 never matches.
                if m.table_id.parse::<u64>().ok() == Some(u64::from(snap.node_id[src as usize])) {
                    return false;
                }
            }
        }
        _ => {}
    }
    let child = snap.edge_to[e as usize];
    if child == src {
        return false;
    }
    if src != root {
        if kind == EdgeKind::Shortcut {
            return false;
        }
        if page.get(child) && !page.get(src) {
            return false;
        }
    }
    true
}

/// Output of [`compute`].
pub struct Dominators {
    /// Immediate dominator ordinal of every node; the root dominates itself.
    pub dominator: Vec<u32>,
    /// Nodes in DFS preorder (`vertex[1..]` of the paper); retained sizes are summed in reverse.
    pub preorder: Vec<u32>,
}

/// Per-node state of Lengauer–Tarjan, interleaved so that EVAL touches one cache line per node.
/// `semi` is the DFS number before the node is processed and its semidominator's number after;
/// 0 means "not reached by the DFS". `label` is [`NONE`] until the node is processed (linked
/// into the forest), then the vertex of minimal `semi` on its compressed path; during the DFS it
/// holds the node's next edge to examine. `ancestor` is the DFS parent, compressed by EVAL once
/// the node is linked.
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct Slot {
    ancestor: u32,
    label: u32,
    semi: u32,
}

/// Lengauer–Tarjan over the essential edges, exactly as DevTools orders its DFS (edge order from
/// the root, then from every node with only non-essential retainers in ordinal order, then every
/// node still unvisited on its own, all three as children of the root).
///
/// Memory: 20 bytes per node at the peak (the [`Slot`]s, the preorder, and one array that is in
/// turn a node's bucket head, its link in its semidominator's bucket, and its dominator: a
/// node's bucket is emptied before the node itself is processed and put in a bucket, and leaves
/// that bucket exactly when its dominator is set).
///
/// The nodes numbered on their own (unreached cycles) are not processed: in DevTools' loop
/// nothing reaches them from the root, their semidominators stay among their own numbers, which
/// exceed every DFS-reached node's, and their dominator ends as the root. Skipping them leaves
/// the reached nodes' results unchanged: as predecessors they count with their own (larger)
/// numbers either way.
pub fn compute(
    snap: &Snapshot,
    retainers: Retainers<'_>,
    essential: &BitSet,
    hooks: &Hooks,
) -> Option<Dominators> {
    let n = snap.node_count();
    if n == 0 {
        return Some(Dominators {
            dominator: Vec::new(),
            preorder: Vec::new(),
        });
    }
    let root = snap.root;
    let first_edge = &snap.first_edge;
    let edge_to = &snap.edge_to;
    const PHASE: &str = "building dominator tree";

    // `vertex[k - 1]` is the node with DFS number k. Its pages are faulted in here, on both
    // cores, and then emptied (they stay mapped): the DFS pushes to it on one core, where each
    // fresh page would otherwise be a fault of its own in the walk (on a VM whose freed memory
    // goes back to the host, a fresh page costs more than a miss).
    let (mut slots, mut vertex) = rayon::join(
        || crate::mem::huge_vec(n, Slot::default()),
        || crate::mem::huge_vec(n, 0u32),
    );
    vertex.clear();

    // Iterative DFS (DevTools' order): `label` is v's next edge to examine, `ancestor` the way
    // back up; the walk ends when it climbs past the start's parent.
    let dfs_from = |start: u32, parent: u32, slots: &mut [Slot], vertex: &mut Vec<u32>| {
        slots[start as usize].ancestor = parent;
        slots[start as usize].label = first_edge[start as usize];
        let mut v = start;
        while v != NONE {
            let vi = v as usize;
            if slots[vi].semi == 0 {
                vertex.push(v);
                slots[vi].semi = vertex.len() as u32;
            }
            let mut next = if v == start { NONE } else { slots[vi].ancestor };
            let end = first_edge[vi + 1];
            let mut cursor = slots[vi].label;
            // The next few children's slots and edge offsets, asked for together (each is a
            // miss of its own on a graph without locality), so that descending into one waits
            // only for its edges.
            for e in cursor..end.min(cursor + 8) {
                let w = edge_to[e as usize] as usize;
                crate::mem::prefetch(slots, w);
                crate::mem::prefetch(first_edge, w);
            }
            while cursor < end {
                let e = cursor;
                cursor += 1;
                if essential.get(e) {
                    let w = edge_to[e as usize] as usize;
                    if slots[w].semi == 0 {
                        slots[w].ancestor = v;
                        slots[w].label = first_edge[w];
                        next = w as u32;
                        break;
                    }
                }
            }
            slots[vi].label = cursor;
            v = next;
        }
    };

    hooks.report(PHASE, 0.0);
    // The DFS is one core's walk: the other faults in the second phase's bucket meanwhile
    // (zeroing fresh memory is a fifth of the time on a VM whose freed pages go back to the host).
    // `bucket[v]`: v's bucket head until v is processed, then v's link in its semidominator's
    // bucket, then (once out of it) v's dominator.
    let ((), mut bucket) = rayon::join(
        || dfs_from(root, NONE, &mut slots, &mut vertex),
        || crate::mem::huge_vec(n, NONE),
    );
    if hooks.is_cancelled() {
        return None;
    }

    // Nodes whose every retaining edge is inessential (weak retainers only, or none) start their
    // own DFS as children of the root (`hasOnlyWeakRetainers`).
    if vertex.len() < n {
        for v in 0..n as u32 {
            if slots[v as usize].semi == 0 && only_inessential_retainers(retainers, essential, v) {
                dfs_from(v, root, &mut slots, &mut vertex);
            }
        }
    }
    // The DFS-reached nodes are numbered 1..=reached.
    let reached = vertex.len();
    // Whatever is still unvisited (cycles retained only by one another) is numbered one by one
    // as a child of the root, without a DFS from it.
    if reached < n {
        for v in 0..n as u32 {
            if slots[v as usize].semi == 0 {
                vertex.push(v);
                slots[v as usize].semi = vertex.len() as u32;
                slots[v as usize].ancestor = root;
            }
        }
    }
    debug_assert_eq!(vertex.len(), n);
    if hooks.is_cancelled() {
        return None;
    }
    hooks.report(PHASE, 0.3);

    slots
        .par_iter_mut()
        .with_min_len(1 << 16)
        .for_each(|s| s.label = NONE);
    let mut stack: Vec<u32> = Vec::new();
    let root_semi = slots[root as usize].semi;

    // The essential retainers of a batch of nodes are gathered before the batch is processed
    // (they do not depend on the forest, so their cache misses overlap instead of queueing
    // behind each EVAL), a few batches ahead on another core when one is free (a summary's
    // Lengauer-Tarjan leaves one idle), and each retainer's slot is prefetched shortly before
    // its EVAL. Batch b holds the nodes numbered `hi - BATCH + 1..=hi`, from `hi` down, for
    // `hi = reached - b * BATCH` (never the root, number 1).
    const BATCH: usize = 4096;
    let batches = reached.saturating_sub(1).div_ceil(BATCH);
    let keep = |e: u32| essential.get(e);
    let prefetch_keep = |e: u32| essential.prefetch(e);
    let fill = |b: usize, (nodes, gathered): &mut (Vec<u32>, Gathered)| {
        let hi = reached - b * BATCH;
        let lo = hi.saturating_sub(BATCH).max(1);
        nodes.clear();
        nodes.extend((lo + 1..=hi).rev().map(|i| vertex[i - 1]));
        retainers.gather(nodes, keep, prefetch_keep, gathered);
    };
    let mut state = Forest {
        slots: &mut slots,
        bucket: &mut bucket,
        stack: &mut stack,
    };
    let done = lookahead::pipelined(batches, fill, |b, (nodes, gathered)| {
        if hooks.is_cancelled() {
            return false;
        }
        if b % 256 == 0 {
            hooks.report(PHASE, 0.3 + 0.6 * b as f32 / batches as f32);
        }
        state.process(nodes, gathered, retainers, essential, &vertex, root_semi);
        true
    });
    if !done {
        return None;
    }
    drop(stack);

    let dom = &mut bucket;
    dom[root as usize] = root;
    // Each step reads four scattered places (w's slot and dominator, its semidominator's vertex,
    // its dominator's dominator): those of the steps a little ahead are asked for in two
    // stages, the second once the first has arrived.
    const AHEAD: usize = 16;
    for i in 2..=reached {
        if let Some(&w) = vertex.get(i - 1 + 2 * AHEAD) {
            crate::mem::prefetch(&slots, w as usize);
            crate::mem::prefetch(dom, w as usize);
        }
        if let Some(&w) = vertex.get(i - 1 + AHEAD) {
            let w = w as usize;
            crate::mem::prefetch(&vertex, (slots[w].semi as usize).wrapping_sub(1));
            crate::mem::prefetch(dom, dom[w] as usize);
        }
        let w = vertex[i - 1] as usize;
        let s = vertex[slots[w].semi as usize - 1];
        if dom[w] != s {
            dom[w] = dom[dom[w] as usize];
        }
    }
    drop(slots);
    for &w in &vertex[reached..] {
        dom[w as usize] = root;
    }
    hooks.report(PHASE, 1.0);
    Some(Dominators {
        dominator: bucket,
        preorder: vertex,
    })
}

/// The forest of Lengauer-Tarjan's second phase, borrowed for one batch.
struct Forest<'a> {
    slots: &'a mut [Slot],
    bucket: &'a mut [u32],
    stack: &'a mut Vec<u32>,
}

impl Forest<'_> {
    /// Processes `nodes` (in reverse preorder, consecutive DFS numbers) whose essential
    /// retainers `gathered` holds: each node's semidominator, its link into the forest, and
    /// the dominators (or their stand-ins) of the nodes in its parent's bucket.
    fn process(
        &mut self,
        nodes: &[u32],
        gathered: &Gathered,
        retainers: Retainers<'_>,
        essential: &BitSet,
        vertex: &[u32],
        root_semi: u32,
    ) {
        /// Retainers whose slots are asked for at a time, just before their EVALs.
        const PREFETCH: usize = 256;
        /// How far ahead the processed nodes' own slots are asked for (their parents' at half).
        const AHEAD: usize = 16;
        let Forest {
            slots,
            bucket,
            stack,
        } = self;
        let (preds, ends) = (&gathered.sources, &gathered.ends);
        let mut at = 0;
        for (k, &w) in nodes.iter().enumerate() {
            // The slots of the nodes a little ahead, then (once those have arrived) their
            // parents' slots and buckets: a node's DFS parent is its `ancestor` until the node
            // itself is linked, which is after it is processed.
            if let Some(&ahead) = nodes.get(k + 2 * AHEAD) {
                crate::mem::prefetch(slots, ahead as usize);
            }
            if let Some(&ahead) = nodes.get(k + AHEAD) {
                let parent = slots[ahead as usize].ancestor as usize;
                crate::mem::prefetch(slots, parent);
                crate::mem::prefetch(bucket, parent);
            }
            if k % PREFETCH == 0 {
                let from = if k == 0 { 0 } else { ends[k - 1] };
                let to = ends[(k + PREFETCH).min(nodes.len()) - 1];
                for &v in &preds[from..to] {
                    crate::mem::prefetch(slots, v as usize);
                }
            }
            let wi = w as usize;
            // The minimal semi so far and, when a retainer not yet processed gave it (its own
            // number: the common case of a retainer that is the DFS parent), that vertex, so
            // that `vertex` need not be read for it.
            let (mut semi_w, mut semi_vertex) = (slots[wi].semi, w);
            let mine = &preds[at..ends[k]];
            at = ends[k];
            let mut orphan = mine.is_empty();
            for &v in mine {
                let (s, who) = eval(v, slots, stack);
                if s < semi_w {
                    (semi_w, semi_vertex) = (s, who);
                }
            }
            if gathered.skipped(k) {
                for e in retainers.edges_of(w) {
                    if !essential.get(e) {
                        continue;
                    }
                    orphan = false;
                    let v = retainers.source(e);
                    let (s, who) = eval(v, slots, stack);
                    if s < semi_w {
                        (semi_w, semi_vertex) = (s, who);
                    }
                }
            }
            if orphan {
                // A node with no essential retainer hangs directly off the root.
                (semi_w, semi_vertex) = (root_semi, NONE);
            }
            slots[wi].semi = semi_w;
            slots[wi].label = w;
            let s = if semi_vertex == NONE {
                vertex[semi_w as usize - 1] as usize
            } else {
                semi_vertex as usize
            };
            bucket[wi] = bucket[s];
            bucket[s] = w;
            let p = slots[wi].ancestor;
            // Vertices in p's bucket: their semidominator is p. The order within a bucket does
            // not change the result (EVAL returns the vertex of minimal semi nearest to v).
            let mut v = std::mem::replace(&mut bucket[p as usize], NONE);
            while v != NONE {
                let next = bucket[v as usize];
                let u = eval_vertex(v, slots, stack);
                bucket[v as usize] = if slots[u as usize].semi < slots[v as usize].semi {
                    u
                } else {
                    p
                };
                v = next;
            }
        }
    }
}

fn only_inessential_retainers(retainers: Retainers<'_>, essential: &BitSet, v: u32) -> bool {
    retainers.edges_of(v).all(|e| !essential.get(e))
}

/// `semi[EVAL(v)]`, and the vertex with that number where it is known without a look-up: v's
/// own number and v when v is not yet linked, else the minimal semi on the path up to (not
/// including) its forest root, after compressing that path, and [`NONE`].
#[inline]
fn eval(v: u32, slots: &mut [Slot], stack: &mut Vec<u32>) -> (u32, u32) {
    let vi = v as usize;
    if slots[vi].label == NONE {
        return (slots[vi].semi, v);
    }
    let label = eval_linked(v, slots, stack);
    (slots[label as usize].semi, NONE)
}

/// EVAL of the paper: `v` itself when it is not linked, else the vertex of minimal semi on the
/// path up to (not including) its forest root, after compressing that path.
#[inline]
fn eval_vertex(v: u32, slots: &mut [Slot], stack: &mut Vec<u32>) -> u32 {
    if slots[v as usize].label == NONE {
        return v;
    }
    eval_linked(v, slots, stack)
}

/// EVAL of a linked `v`: the forest root is the first ancestor that is not linked (the root of
/// the graph never is). Path compression with an explicit stack (chains can be millions long).
#[inline]
fn eval_linked(v: u32, slots: &mut [Slot], stack: &mut Vec<u32>) -> u32 {
    let a = slots[v as usize].ancestor as usize;
    if slots[a].label == NONE {
        return slots[v as usize].label;
    }
    compress(v, slots, stack);
    slots[v as usize].label
}

/// Path compression with an explicit stack (chains can be millions long), as DevTools': `v` and
/// its ancestors are pushed while their ancestor is linked.
#[cold]
fn compress(mut v: u32, slots: &mut [Slot], stack: &mut Vec<u32>) {
    stack.clear();
    while slots[slots[v as usize].ancestor as usize].label != NONE {
        stack.push(v);
        v = slots[v as usize].ancestor;
    }
    while let Some(w) = stack.pop() {
        let wi = w as usize;
        let a = slots[wi].ancestor as usize;
        let (la, lw) = (slots[a].label, slots[wi].label);
        if slots[la as usize].semi < slots[lw as usize].semi {
            slots[wi].label = la;
        }
        slots[wi].ancestor = slots[a].ancestor;
    }
}

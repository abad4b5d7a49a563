//! The dominator tree, as DevTools builds it (`calculateDominatorsAndRetainedSizes` in
//! HeapSnapshot.ts): Lengauer–Tarjan with the simple EVAL/LINK and path compression, over the
//! graph of *essential* edges, with DevTools' treatment of nodes the root cannot reach.
//!
//! Everything here is iterative: a 10-million-node chain needs no stack.
//!
//! Arrays are indexed by node ordinal; DFS preorder numbers start at 1 so that 0 means "not
//! visited", and [`NONE`] stands for "no node".

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;

use crate::snapshot::{EdgeKind, Snapshot};

use super::distance::{is_document_dom_trees_root, is_user_root};
use super::retainers::Retainers;
use super::weakmap::WeakMapNames;

const NONE: u32 = u32::MAX;

/// One bit per node or per edge.
pub struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    pub fn new(len: usize) -> BitSet {
        BitSet {
            words: vec![0; len.div_ceil(64)],
        }
    }

    #[inline]
    pub fn get(&self, i: u32) -> bool {
        self.words[i as usize / 64] & (1 << (i % 64)) != 0
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
    let mut stack: Vec<u32> = Vec::new();
    for e in snap.edges(snap.root) {
        let child = snap.edge_to[e as usize];
        let entry = match snap.edge_kind(e) {
            EdgeKind::Element => is_document_dom_trees_root(snap, child),
            EdgeKind::Shortcut => true,
            _ => false,
        };
        if entry {
            stack.push(child);
            flags.set(child);
        }
    }
    while let Some(node) = stack.pop() {
        for e in snap.edges(node) {
            let child = snap.edge_to[e as usize];
            if flags.get(child) || snap.edge_kind(e) == EdgeKind::Weak {
                continue;
            }
            flags.set(child);
            stack.push(child);
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
    let words: Vec<AtomicU64> = (0..e_count.div_ceil(64))
        .map(|_| AtomicU64::new(0))
        .collect();
    words
        .par_chunks(CHUNK_WORDS)
        .enumerate()
        .for_each(|(c, chunk)| {
            let first = c * CHUNK_WORDS * 64;
            let end = (first + chunk.len() * 64).min(e_count);
            // Source of the first edge of the chunk, then walk first_edge alongside.
            let mut src = snap
                .first_edge
                .partition_point(|&f| f as usize <= first)
                .saturating_sub(1) as u32;
            for e in first..end {
                while snap.first_edge[src as usize + 1] as usize <= e {
                    src += 1;
                }
                if is_essential(snap, weakmaps, page, root, src, e as u32) {
                    chunk[(e - first) / 64].fetch_or(1 << (e % 64), Ordering::Relaxed);
                }
            }
        });
    BitSet {
        words: words.into_iter().map(AtomicU64::into_inner).collect(),
    }
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

/// Lengauer–Tarjan over the essential edges, exactly as DevTools orders its DFS (edge order from
/// the root, then from every node with only non-essential retainers in ordinal order, then every
/// node still unvisited on its own, all three as children of the root).
pub fn compute(
    snap: &Snapshot,
    retainers: Retainers<'_>,
    essential: &BitSet,
    progress: &mut dyn FnMut(&str, f32),
    cancel: &AtomicBool,
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

    let mut semi = vec![0u32; n];
    let mut vertex = vec![NONE; n + 1];
    let mut label = vec![0u32; n];
    let mut parent = vec![NONE; n];
    // During the DFS this holds each node's next edge to examine; afterwards the LINK forest.
    let mut ancestor = vec![0u32; n];
    let mut count = 0u32;

    // Iterative DFS (DevTools' order): `cursor[v]` is v's next edge to examine, `parent` the way
    // back up; the walk ends when it climbs past the start's parent.
    let dfs_from = |start: u32,
                    semi: &mut [u32],
                    vertex: &mut [u32],
                    label: &mut [u32],
                    parent: &mut [u32],
                    cursor: &mut [u32],
                    count: &mut u32| {
        cursor[start as usize] = first_edge[start as usize];
        let mut v = start;
        while v != NONE {
            let vi = v as usize;
            if semi[vi] == 0 {
                *count += 1;
                semi[vi] = *count;
                vertex[*count as usize] = v;
                label[vi] = v;
            }
            let mut next = parent[vi];
            let end = first_edge[vi + 1];
            while cursor[vi] < end {
                let e = cursor[vi];
                if essential.get(e) {
                    let w = edge_to[e as usize];
                    if semi[w as usize] == 0 {
                        parent[w as usize] = v;
                        cursor[w as usize] = first_edge[w as usize];
                        next = w;
                        break;
                    }
                }
                cursor[vi] += 1;
            }
            v = next;
        }
    };

    progress(PHASE, 0.0);
    dfs_from(
        root,
        &mut semi,
        &mut vertex,
        &mut label,
        &mut parent,
        &mut ancestor,
        &mut count,
    );
    if cancel.load(Ordering::Relaxed) {
        return None;
    }

    // Nodes whose every retaining edge is inessential (weak retainers only, or none) start their
    // own DFS as children of the root (`hasOnlyWeakRetainers`). When that DFS climbs back to the
    // root, the root's cursor is exhausted, so it ends there.
    if (count as usize) < n {
        for v in 0..n as u32 {
            if semi[v as usize] == 0 && only_inessential_retainers(retainers, essential, v) {
                parent[v as usize] = root;
                dfs_from(
                    v,
                    &mut semi,
                    &mut vertex,
                    &mut label,
                    &mut parent,
                    &mut ancestor,
                    &mut count,
                );
            }
        }
    }
    // Whatever is still unvisited (cycles retained only by one another) is numbered one by one
    // as a child of the root, without a DFS from it.
    if (count as usize) < n {
        for v in 0..n as u32 {
            if semi[v as usize] == 0 {
                parent[v as usize] = root;
                count += 1;
                semi[v as usize] = count;
                vertex[count as usize] = v;
                label[v as usize] = v;
            }
        }
    }
    debug_assert_eq!(count as usize, n);
    if cancel.load(Ordering::Relaxed) {
        return None;
    }
    progress(PHASE, 0.3);

    ancestor.fill(NONE);
    let mut dom = vec![root; n];
    let mut bucket_head = vec![NONE; n];
    let mut bucket_next = vec![NONE; n];
    let mut stack: Vec<u32> = Vec::new();
    let root_semi = semi[root as usize];

    for i in (2..=count as usize).rev() {
        if i.is_multiple_of(1 << 20) {
            if cancel.load(Ordering::Relaxed) {
                return None;
            }
            progress(PHASE, 0.3 + 0.6 * (1.0 - i as f32 / count as f32));
        }
        let w = vertex[i];
        let wi = w as usize;
        let mut orphan = true;
        for &e in retainers.edges_of(w) {
            if !essential.get(e) {
                continue;
            }
            orphan = false;
            let v = retainers.source(e);
            let u = eval(v, &mut ancestor, &mut label, &semi, &mut stack);
            if semi[u as usize] < semi[wi] {
                semi[wi] = semi[u as usize];
            }
        }
        if orphan {
            // A node with no essential retainer hangs directly off the root.
            semi[wi] = root_semi;
        }
        let s = vertex[semi[wi] as usize] as usize;
        bucket_next[wi] = bucket_head[s];
        bucket_head[s] = w;
        let p = parent[wi];
        ancestor[wi] = p;
        // Vertices in p's bucket: their semidominator is p. The order within a bucket does not
        // change the result (EVAL returns the vertex of minimal semi nearest to v).
        let mut v = bucket_head[p as usize];
        bucket_head[p as usize] = NONE;
        while v != NONE {
            let u = eval(v, &mut ancestor, &mut label, &semi, &mut stack);
            dom[v as usize] = if semi[u as usize] < semi[v as usize] {
                u
            } else {
                p
            };
            v = bucket_next[v as usize];
        }
    }
    drop(bucket_head);
    drop(bucket_next);
    drop(ancestor);
    drop(label);
    drop(parent);

    dom[root as usize] = root;
    for i in 2..=count as usize {
        let w = vertex[i] as usize;
        if dom[w] != vertex[semi[w] as usize] {
            dom[w] = dom[dom[w] as usize];
        }
    }
    progress(PHASE, 1.0);
    vertex.remove(0);
    Some(Dominators {
        dominator: dom,
        preorder: vertex,
    })
}

fn only_inessential_retainers(retainers: Retainers<'_>, essential: &BitSet, v: u32) -> bool {
    retainers.edges_of(v).iter().all(|&e| !essential.get(e))
}

/// EVAL of the paper: `v` itself when it is a forest root, else the vertex of minimal semi on
/// the path up to (not including) its forest root, after compressing that path.
#[inline]
fn eval(
    v: u32,
    ancestor: &mut [u32],
    label: &mut [u32],
    semi: &[u32],
    stack: &mut Vec<u32>,
) -> u32 {
    if ancestor[v as usize] == NONE {
        return v;
    }
    compress(v, ancestor, label, semi, stack);
    label[v as usize]
}

/// Path compression with an explicit stack (chains can be millions long).
fn compress(
    mut v: u32,
    ancestor: &mut [u32],
    label: &mut [u32],
    semi: &[u32],
    stack: &mut Vec<u32>,
) {
    stack.clear();
    while ancestor[ancestor[v as usize] as usize] != NONE {
        stack.push(v);
        v = ancestor[v as usize];
    }
    while let Some(w) = stack.pop() {
        let wi = w as usize;
        let a = ancestor[wi] as usize;
        if semi[label[a] as usize] < semi[label[wi] as usize] {
            label[wi] = label[a];
        }
        ancestor[wi] = ancestor[a];
    }
}

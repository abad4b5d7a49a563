//! Reverse edges (who retains whom) as a CSR index over edge indexes.
//!
//! DevTools keeps two parallel arrays per retaining edge, the edge and its source node
//! (`buildRetainers` in HeapSnapshot.ts): 8 bytes per edge. We keep only the edge index (4 bytes
//! per edge) and find an edge's source node through [`EdgeSources`], a sampled index of the CSR
//! `first_edge` array that costs 1/8 byte per edge. On a 45-million-edge snapshot that saves
//! about 175 MB against a flat `retaining_node` array.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use rayon::prelude::*;

use crate::snapshot::Snapshot;

/// Edges per sample in [`EdgeSources`]: a source look-up binary-searches at most the nodes that
/// own the edges of one block, a handful on real snapshots.
const BLOCK: usize = 32;

/// Finds the source node of an edge index: `block[b]` is the source of edge `b * BLOCK`, so the
/// source of any edge lies between two consecutive samples of `first_edge`.
#[derive(Debug, Default)]
pub struct EdgeSources {
    block: Vec<u32>,
}

impl EdgeSources {
    pub fn new(first_edge: &[u32], edge_count: usize) -> EdgeSources {
        let block = (0..edge_count.div_ceil(BLOCK))
            .into_par_iter()
            .with_min_len(4096)
            .map(|b| {
                source_by_search(
                    first_edge,
                    0,
                    first_edge.len().saturating_sub(1),
                    (b * BLOCK) as u32,
                )
            })
            .collect();
        EdgeSources { block }
    }

    /// The node whose outgoing edges include `edge`.
    #[inline]
    pub fn source(&self, first_edge: &[u32], edge: u32) -> u32 {
        let b = edge as usize / BLOCK;
        let lo = self.block[b] as usize;
        // The next sample's source owns a later edge, so ours is at most that node.
        let hi = match self.block.get(b + 1) {
            Some(&s) => s as usize + 1,
            None => first_edge.len() - 1,
        };
        source_by_search(first_edge, lo, hi, edge)
    }

    pub fn heap_bytes(&self) -> usize {
        self.block.capacity() * 4
    }
}

/// The last node `n` in `lo..hi` with `first_edge[n] <= edge`; nodes without edges share their
/// `first_edge` value with the next node, and the last of a run of equal values is the owner.
#[inline]
fn source_by_search(first_edge: &[u32], lo: usize, hi: usize, edge: u32) -> u32 {
    let window = &first_edge[lo..hi];
    let after = window.partition_point(|&f| f <= edge);
    debug_assert!(after > 0, "edge {edge} before node {lo}");
    (lo + after.saturating_sub(1)) as u32
}

/// A borrowed view of the reverse-edge index (the vectors live in [`super::Analysis`]).
#[derive(Clone, Copy, Debug)]
pub struct Retainers<'a> {
    /// `node_count + 1` entries: the retaining edges of node `n` are
    /// `retaining_edge[first_retainer[n]..first_retainer[n + 1]]`.
    pub first_retainer: &'a [u32],
    /// Edge indexes, grouped by target node, ascending within a node.
    pub retaining_edge: &'a [u32],
    pub sources: &'a EdgeSources,
    pub first_edge: &'a [u32],
}

/// The owned reverse-edge index.
#[derive(Debug, Default)]
pub struct RetainerIndex {
    pub first_retainer: Vec<u32>,
    pub retaining_edge: Vec<u32>,
    pub sources: EdgeSources,
}

/// Builds the index in O(E) with parallel counting and scattering; each node's list is then
/// sorted by edge index so the result does not depend on thread timing.
pub fn build(snap: &Snapshot) -> RetainerIndex {
    let n = snap.node_count();
    let edge_to = &snap.edge_to;
    let e_count = edge_to.len();
    debug_assert!(e_count <= u32::MAX as usize);

    // 1. Count retainers per target node.
    let cursor: Vec<AtomicU32> = (0..=n).map(|_| AtomicU32::new(0)).collect();
    edge_to.par_chunks(1 << 16).for_each(|chunk| {
        for &t in chunk {
            cursor[t as usize].fetch_add(1, Relaxed);
        }
    });
    // 2. Exclusive prefix sum: cursor[t] becomes the first slot of t.
    let mut sum = 0u32;
    for c in &cursor[..n] {
        let count = c.load(Relaxed);
        c.store(sum, Relaxed);
        sum += count;
    }
    cursor[n].store(sum, Relaxed);

    // 3. Scatter edge indexes; afterwards cursor[t] is the end of t's slots.
    let slots: Vec<AtomicU32> = (0..e_count).map(|_| AtomicU32::new(0)).collect();
    (0..e_count)
        .into_par_iter()
        .with_min_len(1 << 16)
        .for_each(|e| {
            let t = edge_to[e] as usize;
            let slot = cursor[t].fetch_add(1, Relaxed);
            slots[slot as usize].store(e as u32, Relaxed);
        });
    let mut retaining_edge: Vec<u32> = slots.into_iter().map(AtomicU32::into_inner).collect();

    // The end of node t is the start of t + 1: shift by one to get the CSR offsets.
    let mut first_retainer: Vec<u32> = cursor.into_iter().map(AtomicU32::into_inner).collect();
    first_retainer.rotate_right(1);
    first_retainer[0] = 0;

    sort_lists(&first_retainer, &mut retaining_edge);
    let sources = EdgeSources::new(&snap.first_edge, e_count);
    RetainerIndex {
        first_retainer,
        retaining_edge,
        sources,
    }
}

impl<'a> Retainers<'a> {
    /// Retainer slots of `node` (indexes into `retaining_edge`).
    #[inline]
    pub fn slots(&self, node: u32) -> std::ops::Range<usize> {
        self.first_retainer[node as usize] as usize..self.first_retainer[node as usize + 1] as usize
    }

    /// The retaining edges of `node`, ascending by edge index.
    #[inline]
    pub fn edges_of(&self, node: u32) -> &'a [u32] {
        &self.retaining_edge[self.slots(node)]
    }

    /// The source node of `edge`.
    #[inline]
    pub fn source(&self, edge: u32) -> u32 {
        self.sources.source(self.first_edge, edge)
    }
}

impl RetainerIndex {
    pub fn heap_bytes(&self) -> usize {
        (self.first_retainer.capacity() + self.retaining_edge.capacity()) * 4
            + self.sources.heap_bytes()
    }
}

/// Sorts every node's slice of `retaining_edge`, splitting the work into node ranges of roughly
/// equal edge counts.
fn sort_lists(first_retainer: &[u32], retaining_edge: &mut [u32]) {
    let n = first_retainer.len().saturating_sub(1);
    let total = retaining_edge.len();
    let parts = (rayon::current_num_threads() * 8).max(1);
    let mut pieces: Vec<(usize, &mut [u32])> = Vec::with_capacity(parts);
    let mut rest = retaining_edge;
    let mut node = 0usize;
    for p in 1..=parts {
        let target = (total as u64 * p as u64 / parts as u64) as usize;
        let end_node = if p == parts {
            n
        } else {
            (first_retainer[..=n].partition_point(|&f| (f as usize) <= target))
                .saturating_sub(1)
                .max(node)
        };
        let len = (first_retainer[end_node] - first_retainer[node]) as usize;
        let (head, tail) = rest.split_at_mut(len);
        pieces.push((node, head));
        rest = tail;
        node = end_node;
    }
    pieces.into_par_iter().for_each(|(start_node, slice)| {
        let base = first_retainer[start_node] as usize;
        let mut v = start_node;
        while v < n && (first_retainer[v] as usize) < base + slice.len() {
            let a = first_retainer[v] as usize - base;
            let b = first_retainer[v + 1] as usize - base;
            if b - a > 1 {
                slice[a..b].sort_unstable();
            }
            v += 1;
        }
    });
}

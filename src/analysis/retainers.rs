//! Reverse edges (who retains whom) as a CSR index over edge indexes.
//!
//! DevTools keeps two parallel arrays per retaining edge, the edge and its source node
//! (`buildRetainers` in HeapSnapshot.ts): 8 bytes per edge. We keep only the edge index (4 bytes
//! per edge) and find an edge's source node through [`EdgeSources`], a sampled index of the CSR
//! `first_edge` array that costs 1/8 byte per edge. On a 45-million-edge snapshot that saves
//! about 175 MB against a flat `retaining_node` array. Where each node's list starts is kept the
//! same way, as [`RetainerOffsets`]: one byte per node instead of a 4-byte CSR offset.

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

/// Nodes per sample in [`RetainerOffsets`]: a look-up adds up at most this many counts, which
/// sit in one cache line.
const NODES_PER_SAMPLE: usize = 32;

/// A retainer count of this value or more is kept in [`RetainerOffsets::large`].
const LARGE: u8 = u8::MAX;

/// Where each node's retaining edges start, in 1 + 1/8 bytes per node: the node's retainer count
/// in a byte, and the CSR offset of every 32nd node. Most nodes have one to three retainers; the
/// few with 255 or more (maps, shared strings, the root's children) are listed apart.
#[derive(Debug, Default)]
pub struct RetainerOffsets {
    /// `sample[b]` is the offset of node `b * NODES_PER_SAMPLE`; one more entry holds the total.
    sample: Vec<u32>,
    /// Retainer count per node, [`LARGE`] for the nodes in `large`.
    count: Vec<u8>,
    /// `(node, count)` of the nodes with `LARGE` or more retainers, sorted by node.
    large: Vec<(u32, u32)>,
}

impl RetainerOffsets {
    /// From CSR offsets (`node_count + 1` entries, ascending).
    pub fn from_csr(offsets: &[u32]) -> RetainerOffsets {
        let n = offsets.len().saturating_sub(1);
        let mut large = Vec::new();
        let count = (0..n)
            .map(|i| {
                let c = offsets[i + 1] - offsets[i];
                if c >= u32::from(LARGE) {
                    large.push((i as u32, c));
                    LARGE
                } else {
                    c as u8
                }
            })
            .collect();
        let sample = (0..n.div_ceil(NODES_PER_SAMPLE))
            .map(|b| offsets[b * NODES_PER_SAMPLE])
            .chain(offsets.last().copied())
            .collect();
        RetainerOffsets {
            sample,
            count,
            large,
        }
    }

    /// The retainer count of `node`.
    #[inline]
    fn count(&self, node: usize) -> u32 {
        match self.count[node] {
            LARGE => self.large_count(node),
            c => u32::from(c),
        }
    }

    #[cold]
    fn large_count(&self, node: usize) -> u32 {
        let i = self.large.partition_point(|&(n, _)| (n as usize) < node);
        debug_assert_eq!(self.large.get(i).map(|l| l.0 as usize), Some(node));
        self.large.get(i).map_or(0, |l| l.1)
    }

    /// Slots of `node` in `retaining_edge`.
    #[inline]
    pub fn range(&self, node: u32) -> std::ops::Range<usize> {
        let node = node as usize;
        let b = node / NODES_PER_SAMPLE;
        let before = &self.count[b * NODES_PER_SAMPLE..node];
        // Counts below LARGE add up as they are; a LARGE one is corrected from the table.
        let mut start = self.sample[b] as usize + before.iter().map(|&c| c as usize).sum::<usize>();
        if !self.large.is_empty() && before.contains(&LARGE) {
            start = self.sample[b] as usize;
            for i in b * NODES_PER_SAMPLE..node {
                start += self.count(i) as usize;
            }
        }
        start..start + self.count(node) as usize
    }

    pub fn node_count(&self) -> usize {
        self.count.len()
    }

    pub fn heap_bytes(&self) -> usize {
        self.sample.capacity() * 4 + self.count.capacity() + self.large.capacity() * 8
    }
}

/// A borrowed view of the reverse-edge index (the vectors live in [`super::Analysis`]).
#[derive(Clone, Copy, Debug)]
pub struct Retainers<'a> {
    /// The retaining edges of node `n` are `retaining_edge[offsets.range(n)]`.
    pub offsets: &'a RetainerOffsets,
    /// Edge indexes, grouped by target node, ascending within a node.
    pub retaining_edge: &'a [u32],
    pub sources: &'a EdgeSources,
    pub first_edge: &'a [u32],
}

/// The owned reverse-edge index.
#[derive(Debug, Default)]
pub struct RetainerIndex {
    pub offsets: RetainerOffsets,
    pub retaining_edge: Vec<u32>,
    pub sources: EdgeSources,
}

/// Builds the index in O(E) without atomics or sorting: the node range is split into one part
/// per thread, and every part scans all edges in ascending order, counting (then placing) only
/// the edges into its own nodes. Each node's list is therefore ascending by edge index, and the
/// parts write disjoint slices, so the result does not depend on thread timing.
pub fn build(snap: &Snapshot) -> RetainerIndex {
    let n = snap.node_count();
    let edge_to = &snap.edge_to[..];
    let e_count = edge_to.len();
    debug_assert!(e_count <= u32::MAX as usize);
    let parts = rayon::current_num_threads().clamp(1, 64);
    let span = n.div_ceil(parts).max(1);

    // 1. Count retainers per target node; `first_retainer[t]` holds t's count.
    let mut first_retainer = vec![0u32; n + 1];
    first_retainer[..n]
        .par_chunks_mut(span)
        .enumerate()
        .for_each(|(p, counts)| {
            let lo = (p * span) as u32;
            let len = counts.len() as u32;
            for &t in edge_to {
                let k = t.wrapping_sub(lo);
                if k < len {
                    counts[k as usize] += 1;
                }
            }
        });
    // 2. Exclusive prefix sum: `first_retainer[t]` becomes the first slot of t.
    let mut sum = 0u32;
    for c in &mut first_retainer[..n] {
        let count = *c;
        *c = sum;
        sum += count;
    }
    first_retainer[n] = sum;

    // 3. Place the edge indexes, each part into its own slots; afterwards `first_retainer[t]`
    //    is the end of t's slots.
    let mut retaining_edge = vec![0u32; e_count];
    {
        let mut pieces: Vec<(u32, &mut [u32], &mut [u32])> = Vec::with_capacity(parts);
        let mut cursors = &mut first_retainer[..n];
        let mut slots = &mut retaining_edge[..];
        let mut lo = 0usize;
        while lo < n {
            let hi = (lo + span).min(n);
            let (c, c_rest) = cursors.split_at_mut(hi - lo);
            let base = c[0] as usize;
            let end = c_rest.first().map_or(sum as usize, |&f| f as usize);
            let (s, s_rest) = slots.split_at_mut(end - base);
            pieces.push((lo as u32, c, s));
            cursors = c_rest;
            slots = s_rest;
            lo = hi;
        }
        pieces.into_par_iter().for_each(|(lo, cursor, slots)| {
            let len = cursor.len() as u32;
            let base = cursor[0];
            for (e, &t) in edge_to.iter().enumerate() {
                let k = t.wrapping_sub(lo);
                if k < len {
                    let c = &mut cursor[k as usize];
                    slots[(*c - base) as usize] = e as u32;
                    *c += 1;
                }
            }
        });
    }

    // The end of node t is the start of t + 1: shift by one to get the CSR offsets.
    first_retainer.rotate_right(1);
    first_retainer[0] = 0;

    let offsets = RetainerOffsets::from_csr(&first_retainer);
    drop(first_retainer);
    let sources = EdgeSources::new(&snap.first_edge, e_count);
    RetainerIndex {
        offsets,
        retaining_edge,
        sources,
    }
}

impl<'a> Retainers<'a> {
    /// Retainer slots of `node` (indexes into `retaining_edge`).
    #[inline]
    pub fn slots(&self, node: u32) -> std::ops::Range<usize> {
        self.offsets.range(node)
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
        self.offsets.heap_bytes() + self.retaining_edge.capacity() * 4 + self.sources.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_match_the_csr_they_came_from() {
        // Counts around the LARGE escape, across several samples.
        let counts: Vec<u32> = (0..200u32)
            .map(|i| match i % 7 {
                0 => 0,
                1 => 254,
                2 => 255,
                3 => 1000 + i,
                _ => i % 4,
            })
            .collect();
        let mut csr = vec![0u32];
        for c in &counts {
            csr.push(csr.last().unwrap() + c);
        }
        let offsets = RetainerOffsets::from_csr(&csr);
        assert_eq!(offsets.node_count(), counts.len());
        for node in 0..counts.len() {
            let want = csr[node] as usize..csr[node + 1] as usize;
            assert_eq!(offsets.range(node as u32), want, "node {node}");
        }
        assert_eq!(RetainerOffsets::from_csr(&[0]).node_count(), 0);
    }
}

//! Reverse edges (who retains whom): every node's retaining edges as a compact list.
//!
//! DevTools keeps two parallel arrays per retaining edge, the edge and its source node
//! (`buildRetainers` in HeapSnapshot.ts): 8 bytes per edge. We keep only the edge indexes,
//! delta-coded ([`RetainingEdges`]: 1.5 bytes per edge on V8 snapshots), and find an edge's
//! source node through [`EdgeSources`], a sampled index of the CSR `first_edge` array that
//! costs 1/8 byte per edge. Where each node's list starts is kept the same way, as
//! [`RetainerOffsets`]: one byte per node instead of an 8-byte offset. On the 36-million-edge
//! scale snapshot the index takes 74 MB where DevTools' arrays take 290 MB.

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
        // The next sample's source owns a later edge, so ours is at most that node.
        let (lo, hi) = self.window(first_edge, edge);
        source_by_search(first_edge, lo, hi, edge)
    }

    pub fn heap_bytes(&self) -> usize {
        self.block.capacity() * 4
    }

    /// Asks for the first of the nodes [`EdgeSources::source`] searches for `edge`'s source.
    #[inline]
    fn prefetch(&self, first_edge: &[u32], edge: u32) {
        if let Some(&lo) = self.block.get(edge as usize / BLOCK) {
            crate::mem::prefetch(first_edge, lo as usize);
        }
    }

    /// The nodes [`EdgeSources::source`] searches for `edge`'s source: `first_edge[lo..hi]`.
    #[inline]
    fn window(&self, first_edge: &[u32], edge: u32) -> (usize, usize) {
        let b = edge as usize / BLOCK;
        let lo = self.block[b] as usize;
        let hi = match self.block.get(b + 1) {
            Some(&s) => s as usize + 1,
            None => first_edge.len() - 1,
        };
        (lo, hi)
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

/// Nodes per sample in [`RetainerOffsets`]: a look-up adds up at most this many lengths, which
/// sit in one cache line.
const NODES_PER_SAMPLE: usize = 32;

/// A list length of this value or more is kept in [`RetainerOffsets::large`].
const LARGE: u8 = u8::MAX;

/// Where each node's retainer list starts in the encoded bytes, in 1 + 1/4 bytes per node: the
/// list's length in a byte, and the byte offset of every 32nd node. Most lists are a few bytes;
/// the few of 255 bytes or more (maps, shared strings, the root's children) are listed apart.
#[derive(Debug, Default)]
pub struct RetainerOffsets {
    /// `sample[b]` is the offset of node `b * NODES_PER_SAMPLE`; one more entry holds the total.
    sample: Vec<u64>,
    /// List length per node, [`LARGE`] for the nodes in `large`.
    len: Vec<u8>,
    /// `(node, length)` of the nodes with lists of `LARGE` bytes or more, sorted by node.
    large: Vec<(u32, u64)>,
}

impl RetainerOffsets {
    /// From the length of every node's list.
    pub fn from_lengths(lengths: &[u64]) -> RetainerOffsets {
        RetainerOffsets::from_lengths_of(lengths.len(), |i| lengths[i])
    }

    /// From the list lengths of `n` nodes, `length(i)` for node `i`.
    pub fn from_lengths_of(n: usize, length: impl Fn(usize) -> u64) -> RetainerOffsets {
        let mut large = Vec::new();
        let mut sample = Vec::with_capacity(n.div_ceil(NODES_PER_SAMPLE) + 1);
        let mut total = 0u64;
        let len = (0..n)
            .map(|i| {
                if i % NODES_PER_SAMPLE == 0 {
                    sample.push(total);
                }
                let l = length(i);
                total += l;
                if l >= u64::from(LARGE) {
                    large.push((i as u32, l));
                    LARGE
                } else {
                    l as u8
                }
            })
            .collect();
        sample.push(total);
        RetainerOffsets { sample, len, large }
    }

    /// The list length of `node`.
    #[inline]
    fn len(&self, node: usize) -> usize {
        match self.len[node] {
            LARGE => self.large_len(node),
            l => usize::from(l),
        }
    }

    #[cold]
    fn large_len(&self, node: usize) -> usize {
        let i = self.large.partition_point(|&(n, _)| (n as usize) < node);
        debug_assert_eq!(self.large.get(i).map(|l| l.0 as usize), Some(node));
        self.large.get(i).map_or(0, |l| l.1 as usize)
    }

    /// Asks for what [`RetainerOffsets::range`] reads for `node`.
    #[inline]
    fn prefetch(&self, node: u32) {
        let node = node as usize;
        crate::mem::prefetch(&self.len, node);
        crate::mem::prefetch(&self.sample, node / NODES_PER_SAMPLE);
    }

    /// The bytes of `node`'s list.
    #[inline]
    pub fn range(&self, node: u32) -> std::ops::Range<usize> {
        let node = node as usize;
        let b = node / NODES_PER_SAMPLE;
        let before = &self.len[b * NODES_PER_SAMPLE..node];
        // Lengths below LARGE add up as they are; a LARGE one is corrected from the table.
        let mut start = self.sample[b] as usize + before.iter().map(|&l| l as usize).sum::<usize>();
        if !self.large.is_empty() && before.contains(&LARGE) {
            start = self.sample[b] as usize;
            for i in b * NODES_PER_SAMPLE..node {
                start += self.len(i);
            }
        }
        start..start + self.len(node)
    }

    pub fn node_count(&self) -> usize {
        self.len.len()
    }

    /// Bytes of all lists together.
    pub fn total(&self) -> usize {
        self.sample.last().map_or(0, |&t| t as usize)
    }

    pub fn heap_bytes(&self) -> usize {
        self.sample.capacity() * 8 + self.len.capacity() + self.large.capacity() * 16
    }
}

/// The retaining edges of one node, decoded from its list ([`Retainers::edges_of`]).
///
/// A list holds LEB128 varints: the first edge as a zigzagged difference from the node's own
/// first edge (objects are mostly retained by their neighbours in V8's heap order, so this is
/// small), then the difference from the previous edge. On V8 snapshots that is 1.5 bytes per
/// edge instead of 4.
#[derive(Clone, Debug)]
pub struct RetainingEdges<'a> {
    bytes: std::slice::Iter<'a, u8>,
    previous: u32,
    first: bool,
}

impl Iterator for RetainingEdges<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        let v = read_varint(&mut self.bytes)?;
        let edge = if self.first {
            self.first = false;
            i64::from(self.previous) + unzigzag(v)
        } else {
            i64::from(self.previous) + v as i64
        };
        self.previous = edge as u32;
        Some(self.previous)
    }
}

#[inline]
fn read_varint(bytes: &mut std::slice::Iter<'_, u8>) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0u32;
    for &b in bytes.by_ref() {
        v |= u64::from(b & 0x7f).wrapping_shl(shift);
        if b < 0x80 {
            return Some(v);
        }
        shift += 7;
    }
    None
}

fn varint_len(v: u64) -> u64 {
    u64::from((64 - (v | 1).leading_zeros()).div_ceil(7))
}

fn write_varint(out: &mut [u8], mut v: u64) -> usize {
    let mut i = 0;
    while v >= 0x80 {
        out[i] = (v as u8) | 0x80;
        v >>= 7;
        i += 1;
    }
    out[i] = v as u8;
    i + 1
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    (v >> 1) as i64 ^ -((v & 1) as i64)
}

/// A borrowed view of the reverse-edge index (the vectors live in [`super::Analysis`]).
#[derive(Clone, Copy, Debug)]
pub struct Retainers<'a> {
    /// The list of node `n` is `lists[offsets.range(n)]`.
    pub offsets: &'a RetainerOffsets,
    /// Every node's retaining edges, ascending, encoded as [`RetainingEdges`] reads them.
    pub lists: &'a [u8],
    pub sources: &'a EdgeSources,
    pub first_edge: &'a [u32],
}

/// The owned reverse-edge index.
#[derive(Debug, Default)]
pub struct RetainerIndex {
    pub offsets: RetainerOffsets,
    pub lists: Vec<u8>,
    pub sources: EdgeSources,
}

/// No retaining edge seen yet.
const NONE: u32 = u32::MAX;

/// Builds the index in O(E) without atomics or sorting: the node range is split into one part
/// per thread, and every part scans all edges in ascending order, measuring (then writing) only
/// the lists of its own nodes. Each node's list is therefore ascending by edge index, and the
/// parts write disjoint slices, so the result does not depend on thread timing.
///
/// Each node's state (its last retaining edge so far, and its list's length, then where its
/// next entry goes) is one 8-byte slot, so an edge costs one cache miss where targets are
/// scattered, and the slots of the edges a little ahead are prefetched, with their targets'
/// first edges (a list's first entry is coded against its node's first edge). Lists or parts of
/// 4 GiB and more (hundreds of millions of retainers) take [`build_wide`].
pub fn build(snap: &Snapshot) -> RetainerIndex {
    let n = snap.node_count();
    let edge_to = &snap.edge_to[..];
    let first_edge = &snap.first_edge[..];
    debug_assert!(edge_to.len() <= u32::MAX as usize);
    let parts = rayon::current_num_threads().clamp(1, 64);
    let span = n.div_ceil(parts).max(1);
    let entry = |e: u32, t: u32, previous: u32| {
        if previous == NONE {
            zigzag(i64::from(e) - i64::from(first_edge[t as usize]))
        } else {
            u64::from(e - previous)
        }
    };
    // Edges ahead of the scan whose slots are asked for.
    const AHEAD: usize = 32;

    // 1. `[previous, length]` of every node; a length that reaches u32::MAX saturates.
    let mut state: Vec<[u32; 2]> = crate::mem::huge_vec(n, [NONE, 0]);
    state
        .par_chunks_mut(span)
        .enumerate()
        .for_each(|(p, state)| {
            let lo = (p * span) as u32;
            let len = state.len() as u32;
            for (e, &t) in edge_to.iter().enumerate() {
                if let Some(&ahead) = edge_to.get(e + AHEAD) {
                    let k = ahead.wrapping_sub(lo);
                    if k < len {
                        crate::mem::prefetch(state, k as usize);
                        crate::mem::prefetch(first_edge, ahead as usize);
                    }
                }
                let k = t.wrapping_sub(lo);
                if k < len {
                    let slot = &mut state[k as usize];
                    let bytes = varint_len(entry(e as u32, t, slot[0])) as u32;
                    *slot = [e as u32, slot[1].saturating_add(bytes)];
                }
            }
        });
    if state.iter().any(|s| s[1] == u32::MAX) {
        drop(state);
        return build_wide(snap);
    }
    let offsets = RetainerOffsets::from_lengths_of(n, |i| u64::from(state[i][1]));
    let part_bytes =
        |lo: usize, hi: usize| offsets.range(hi as u32 - 1).end - offsets.range(lo as u32).start;
    if (0..n)
        .step_by(span)
        .any(|lo| part_bytes(lo, (lo + span).min(n)) >= u32::MAX as usize)
    {
        drop(state);
        return build_wide(snap);
    }

    // 2. Write the lists, each part into its own bytes; a slot's second word becomes where the
    //    node's next entry goes, relative to the part's first byte.
    let mut lists = crate::mem::huge_vec(offsets.total(), 0u8);
    {
        let mut pieces = Vec::with_capacity(parts);
        let (mut state, mut bytes) = (&mut state[..], &mut lists[..]);
        let mut lo = 0usize;
        while lo < n {
            let hi = (lo + span).min(n);
            let (s, s_rest) = state.split_at_mut(hi - lo);
            let (b, b_rest) = bytes.split_at_mut(part_bytes(lo, hi));
            pieces.push((lo as u32, s, b));
            (state, bytes) = (s_rest, b_rest);
            lo = hi;
        }
        pieces.into_par_iter().for_each(|(lo, state, bytes)| {
            let mut at = 0u32;
            for slot in state.iter_mut() {
                let length = slot[1];
                *slot = [NONE, at];
                at += length;
            }
            let len = state.len() as u32;
            for (e, &t) in edge_to.iter().enumerate() {
                if let Some(&ahead) = edge_to.get(e + AHEAD) {
                    let k = ahead.wrapping_sub(lo);
                    if k < len {
                        crate::mem::prefetch(state, k as usize);
                        crate::mem::prefetch(first_edge, ahead as usize);
                    }
                }
                let k = t.wrapping_sub(lo);
                if k < len {
                    let slot = &mut state[k as usize];
                    let v = entry(e as u32, t, slot[0]);
                    let written = write_varint(&mut bytes[slot[1] as usize..], v) as u32;
                    *slot = [e as u32, slot[1] + written];
                }
            }
        });
    }
    drop(state);

    let sources = EdgeSources::new(first_edge, edge_to.len());
    RetainerIndex {
        offsets,
        lists,
        sources,
    }
}

/// [`build`] with 12 bytes of state per node instead of 8: for lists or parts of 4 GiB and more,
/// which 32-bit lengths cannot count.
fn build_wide(snap: &Snapshot) -> RetainerIndex {
    let n = snap.node_count();
    let edge_to = &snap.edge_to[..];
    let first_edge = &snap.first_edge[..];
    debug_assert!(edge_to.len() <= u32::MAX as usize);
    let parts = rayon::current_num_threads().clamp(1, 64);
    let span = n.div_ceil(parts).max(1);
    // The bytes an edge adds to its target's list, given the target's previous retaining edge.
    let entry = |e: u32, t: u32, previous: u32| {
        if previous == NONE {
            zigzag(i64::from(e) - i64::from(first_edge[t as usize]))
        } else {
            u64::from(e - previous)
        }
    };

    // 1. The length of every list; `previous[t]` is t's last retaining edge so far.
    let mut previous = vec![NONE; n];
    let mut cursor = vec![0u64; n];
    previous
        .par_chunks_mut(span)
        .zip(cursor.par_chunks_mut(span))
        .enumerate()
        .for_each(|(p, (previous, lengths))| {
            let lo = (p * span) as u32;
            let len = lengths.len() as u32;
            for (e, &t) in edge_to.iter().enumerate() {
                let k = t.wrapping_sub(lo);
                if k < len {
                    let k = k as usize;
                    lengths[k] += varint_len(entry(e as u32, t, previous[k]));
                    previous[k] = e as u32;
                }
            }
        });
    let offsets = RetainerOffsets::from_lengths(&cursor);

    // 2. Write the lists, each part into its own bytes; `cursor[t]` becomes where t's next
    //    entry goes, relative to the part's first byte.
    let mut lists = vec![0u8; offsets.total()];
    {
        let mut pieces = Vec::with_capacity(parts);
        let (mut previous, mut cursor, mut bytes) =
            (&mut previous[..], &mut cursor[..], &mut lists[..]);
        let mut lo = 0usize;
        while lo < n {
            let hi = (lo + span).min(n);
            let (p, p_rest) = previous.split_at_mut(hi - lo);
            let (c, c_rest) = cursor.split_at_mut(hi - lo);
            let size = offsets.range(hi as u32 - 1).end - offsets.range(lo as u32).start;
            let (b, b_rest) = bytes.split_at_mut(size);
            pieces.push((lo as u32, p, c, b));
            (previous, cursor, bytes) = (p_rest, c_rest, b_rest);
            lo = hi;
        }
        pieces
            .into_par_iter()
            .for_each(|(lo, previous, cursor, bytes)| {
                let mut at = 0u64;
                for (p, c) in previous.iter_mut().zip(cursor.iter_mut()) {
                    let length = *c;
                    (*p, *c) = (NONE, at);
                    at += length;
                }
                let len = cursor.len() as u32;
                for (e, &t) in edge_to.iter().enumerate() {
                    let k = t.wrapping_sub(lo);
                    if k < len {
                        let k = k as usize;
                        let v = entry(e as u32, t, previous[k]);
                        cursor[k] += write_varint(&mut bytes[cursor[k] as usize..], v) as u64;
                        previous[k] = e as u32;
                    }
                }
            });
    }
    drop((previous, cursor));

    let sources = EdgeSources::new(first_edge, edge_to.len());
    RetainerIndex {
        offsets,
        lists,
        sources,
    }
}

impl<'a> Retainers<'a> {
    /// The retaining edges of `node`, ascending by edge index.
    #[inline]
    pub fn edges_of(&self, node: u32) -> RetainingEdges<'a> {
        RetainingEdges {
            bytes: self.lists[self.offsets.range(node)].iter(),
            previous: self.first_edge[node as usize],
            first: true,
        }
    }

    /// The source node of `edge`.
    #[inline]
    pub fn source(&self, edge: u32) -> u32 {
        self.sources.source(self.first_edge, edge)
    }

    /// The retaining edges of many nodes at once, pushed to `edges` with each node's end in
    /// `ends`, and their sources to `sources`, keeping only the edges `keep` accepts: what a
    /// walk that is about to visit `nodes` needs, gathered in passes whose memory reads are
    /// independent of each other (and prefetched a pass ahead), so that on a graph without
    /// locality the misses overlap instead of queueing one behind another.
    pub fn gather(
        &self,
        nodes: &[u32],
        keep: impl Fn(u32) -> bool,
        prefetch_keep: impl Fn(u32),
        scratch: &mut Gathered,
    ) {
        use crate::mem::prefetch;
        let Gathered {
            ranges,
            edges,
            ends,
            sources,
        } = scratch;
        ranges.clear();
        edges.clear();
        ends.clear();
        sources.clear();
        for &node in nodes {
            self.offsets.prefetch(node);
        }
        for &node in nodes {
            let range = self.offsets.range(node);
            prefetch(self.lists, range.start);
            prefetch(self.first_edge, node as usize);
            // The scratch stays small: a node with a long list (a shared string, a Map's
            // table) is left to the caller, as `None`.
            ranges.push((range.len() <= GATHER_BYTES).then_some(range));
        }
        for (&node, range) in nodes.iter().zip(ranges.iter()) {
            let Some(range) = range else {
                ends.push(edges.len());
                continue;
            };
            let list = RetainingEdges {
                bytes: self.lists[range.clone()].iter(),
                previous: self.first_edge[node as usize],
                first: true,
            };
            for e in list {
                prefetch_keep(e);
                prefetch(&self.sources.block, e as usize / BLOCK);
                edges.push(e);
            }
            ends.push(edges.len());
        }
        for &e in edges.iter() {
            self.sources.prefetch(self.first_edge, e);
        }
        let mut from = 0;
        for end in ends.iter_mut() {
            for &e in &edges[from..*end] {
                if keep(e) {
                    sources.push(self.sources.source(self.first_edge, e));
                }
            }
            from = *end;
            *end = sources.len();
        }
    }
}

/// Lists longer than this many bytes are not gathered ([`Gathered::skipped`]).
const GATHER_BYTES: usize = 1024;

/// The scratch vectors of [`Retainers::gather`]: after a call, node `k`'s kept retaining edges'
/// sources are `sources[ends[k - 1]..ends[k]]` (from 0 for the first), unless
/// [`Gathered::skipped`] says its list was too long to gather.
#[derive(Default)]
pub struct Gathered {
    ranges: Vec<Option<std::ops::Range<usize>>>,
    edges: Vec<u32>,
    pub ends: Vec<usize>,
    pub sources: Vec<u32>,
}

impl Gathered {
    /// Whether node `k` of the last call was left out (its list is long; walk it directly).
    pub fn skipped(&self, k: usize) -> bool {
        self.ranges.get(k).is_some_and(Option::is_none)
    }
}

impl RetainerIndex {
    pub fn heap_bytes(&self) -> usize {
        self.offsets.heap_bytes() + self.lists.capacity() + self.sources.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_match_the_lengths_they_came_from() {
        // Lengths around the LARGE escape, across several samples.
        let lengths: Vec<u64> = (0..200u64)
            .map(|i| match i % 7 {
                0 => 0,
                1 => 254,
                2 => 255,
                3 => 1000 + i,
                _ => i % 4,
            })
            .collect();
        let offsets = RetainerOffsets::from_lengths(&lengths);
        assert_eq!(offsets.node_count(), lengths.len());
        let mut start = 0;
        for (node, &l) in lengths.iter().enumerate() {
            let want = start..start + l as usize;
            assert_eq!(offsets.range(node as u32), want, "node {node}");
            start += l as usize;
        }
        assert_eq!(offsets.total(), start);
        assert_eq!(RetainerOffsets::from_lengths(&[]).node_count(), 0);
    }

    #[test]
    fn lists_give_back_every_retaining_edge_in_order() {
        // Node 0 retains everything; node 2 has no edges of its own; edges go backwards and
        // forwards, far and near, so first entries are negative, zero and positive, and
        // differences take one to four bytes.
        let n = 300u32;
        let mut snap = crate::snapshot::Snapshot::default();
        snap.first_edge.push(0);
        for s in 0..n {
            if s != 2 {
                let targets: Vec<u32> = match s {
                    0 => (0..n).collect(),
                    _ => vec![(s * 7919) % n, n - 1 - s % n, 2],
                };
                snap.edge_to.extend(targets);
            }
            // Pad with edges into node 1, so differences grow past 2^21.
            if s == 150 {
                snap.edge_to.extend(std::iter::repeat_n(1, 1 << 21));
            }
            snap.first_edge.push(snap.edge_to.len() as u32);
            snap.node_type.push(0);
        }
        let e = snap.edge_to.len();
        snap.set_edges(&vec![0; e], &vec![0; e]);
        let index = build(&snap);
        let view = Retainers {
            offsets: &index.offsets,
            lists: &index.lists,
            sources: &index.sources,
            first_edge: &snap.first_edge,
        };
        let mut want = vec![Vec::new(); n as usize];
        for (e, &t) in snap.edge_to.iter().enumerate() {
            want[t as usize].push(e as u32);
        }
        for t in 0..n {
            let got: Vec<u32> = view.edges_of(t).collect();
            assert_eq!(got, want[t as usize], "node {t}");
        }
        assert!(
            index.lists.len() < snap.edge_to.len() * 2,
            "{} bytes",
            index.lists.len()
        );
        // The 12-byte fallback writes the same index.
        let wide = build_wide(&snap);
        assert_eq!(wide.lists, index.lists);
        assert_eq!(wide.offsets.sample, index.offsets.sample);
        assert_eq!(wide.offsets.len, index.offsets.len);
        assert_eq!(wide.offsets.large, index.offsets.large);
    }
}

//! Retained sizes from the dominator tree.
//!
//! DevTools fills every node's retained size with its shallow size and then, walking the DFS
//! preorder backwards, adds each node's total to its immediate dominator (end of
//! `calculateDominatorsAndRetainedSizes`). A dominator always precedes the nodes it dominates in
//! that preorder, so one backward pass is enough. The shallow sizes it uses are those *after*
//! `calculateShallowSizes` moved the sizes of owned arrays and hidden nodes to their owners (the
//! worker receives them in init step 3, which runs after that move), so callers pass those.
//!
//! DevTools sums in doubles; a `u64` gives the same values for any heap below 2^53 bytes. They
//! are stored as a `u32` per node plus a sorted table of the few nodes whose retained size does
//! not fit (the root and the top of its dominator tree on heaps of 4 GiB and more): 4 bytes per
//! node instead of 8.

use std::collections::HashMap;

use rayon::prelude::*;

/// Marks a node whose retained size is in [`RetainedSizes::overflow`].
const BIG: u32 = u32::MAX;

/// Exact retained sizes, per node ordinal.
#[derive(Debug, Default)]
pub struct RetainedSizes {
    /// The retained size, or [`BIG`] when it is `u32::MAX` or more.
    small: Vec<u32>,
    /// `(node, retained size)` of the nodes marked [`BIG`], sorted by node.
    overflow: Vec<(u32, u64)>,
}

impl RetainedSizes {
    /// Sizes given per node (tests and hand-built analyses).
    pub fn from_sizes(sizes: &[u64]) -> RetainedSizes {
        let mut big = HashMap::new();
        let small = sizes
            .iter()
            .enumerate()
            .map(|(node, &size)| narrow(node as u32, size, &mut big))
            .collect();
        RetainedSizes::new(small, big)
    }

    fn new(small: Vec<u32>, big: HashMap<u32, u64>) -> RetainedSizes {
        let mut overflow: Vec<(u32, u64)> = big.into_iter().collect();
        overflow.sort_unstable();
        RetainedSizes { small, overflow }
    }

    /// The retained size of `node`; None past the last node.
    #[inline]
    pub fn get(&self, node: usize) -> Option<u64> {
        let small = *self.small.get(node)?;
        if small != BIG {
            return Some(u64::from(small));
        }
        let i = self
            .overflow
            .binary_search_by_key(&(node as u32), |&(n, _)| n)
            .ok()?;
        Some(self.overflow[i].1)
    }

    /// Asks for `node`'s size ahead of a read ([`crate::mem::prefetch`]).
    #[inline]
    pub fn prefetch(&self, node: u32) {
        crate::mem::prefetch(&self.small, node as usize);
    }

    /// The retained size of `node` (0 past the last node).
    #[inline]
    pub fn of(&self, node: u32) -> u64 {
        self.get(node as usize).unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.small.len()
    }

    pub fn is_empty(&self) -> bool {
        self.small.is_empty()
    }

    /// Every node's retained size, by ordinal.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.small.len()).map(|n| self.of(n as u32))
    }

    pub fn heap_bytes(&self) -> usize {
        self.small.capacity() * 4 + self.overflow.capacity() * 12
    }
}

/// `size` as stored in `small`, recording it in `big` when it does not fit.
#[inline]
fn narrow(node: u32, size: u64, big: &mut HashMap<u32, u64>) -> u32 {
    match u32::try_from(size) {
        Ok(s) if s != BIG => s,
        _ => {
            big.insert(node, size);
            BIG
        }
    }
}

/// `retained[n]` = `self_sizes[n]` + the retained sizes of the nodes `n` immediately dominates.
/// `self_sizes` shorter than the node count counts missing entries as 0.
pub fn compute(dominator: &[u32], preorder: &[u32], self_sizes: &[u32]) -> RetainedSizes {
    let n = dominator.len();
    // The shallow sizes, copied on every core into memory that may have huge pages (faulting
    // it in is most of the copy's time); the rare u32::MAX among them is `BIG` itself and goes
    // to the table.
    let mut small: Vec<u32> = Vec::with_capacity(n);
    crate::mem::advise_huge(small.spare_capacity_mut());
    small.par_extend(
        (0..n)
            .into_par_iter()
            .with_min_len(1 << 16)
            .map(|i| self_sizes.get(i).copied().unwrap_or(0)),
    );
    let mut big: HashMap<u32, u64> = small
        .par_iter()
        .positions(|&s| s == BIG)
        .map(|node| (node as u32, u64::from(BIG)))
        .collect();
    // preorder[0] is the root, which has no dominator to add to. The preorder is the future:
    // the dominators and sizes of the nodes a little ahead are asked for early.
    for (i, &node) in preorder.iter().enumerate().skip(1).rev() {
        if let Some(&far) = preorder.get(i.wrapping_sub(32)) {
            crate::mem::prefetch(dominator, far as usize);
            crate::mem::prefetch(&small, far as usize);
        }
        if let Some(&near) = preorder.get(i.wrapping_sub(8))
            && let Some(&d) = dominator.get(near as usize)
        {
            crate::mem::prefetch(&small, d as usize);
        }
        let d = dominator[node as usize];
        let (own, total) = (small[node as usize], small[d as usize]);
        if own != BIG && total != BIG {
            // Both fit: the common case, without a table look-up.
            let sum = u64::from(own) + u64::from(total);
            small[d as usize] = narrow(d, sum, &mut big);
        } else {
            let value = |n: u32, s: u32| if s == BIG { big[&n] } else { u64::from(s) };
            let sum = value(node, own) + value(d, total);
            small[d as usize] = narrow(d, sum, &mut big);
        }
    }
    RetainedSizes::new(small, big)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_past_u32_are_exact() {
        // 0 ← 1 ← 2 ← 3, each 3 GiB or so: the sums leave u32 at node 1.
        let dominator = [0, 0, 1, 2];
        let preorder = [0, 1, 2, 3];
        let s = u32::MAX - 1;
        let r = compute(&dominator, &preorder, &[1, s, s, u32::MAX]);
        let want = [
            1 + 2 * u64::from(s) + u64::from(u32::MAX),
            2 * u64::from(s) + u64::from(u32::MAX),
            u64::from(s) + u64::from(u32::MAX),
            u64::from(u32::MAX),
        ];
        assert_eq!(r.iter().collect::<Vec<_>>(), want);
        assert_eq!(r.get(4), None);
        let again = RetainedSizes::from_sizes(&want);
        assert_eq!(again.iter().collect::<Vec<_>>(), want);
    }
}

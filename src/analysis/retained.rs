//! Retained sizes from the dominator tree.
//!
//! DevTools fills every node's retained size with its shallow size and then, walking the DFS
//! preorder backwards, adds each node's total to its immediate dominator (end of
//! `calculateDominatorsAndRetainedSizes`). A dominator always precedes the nodes it dominates in
//! that preorder, so one backward pass is enough. The shallow sizes it uses are those *after*
//! `calculateShallowSizes` moved the sizes of owned arrays and hidden nodes to their owners (the
//! worker receives them in init step 3, which runs after that move), so callers pass those.
//!
//! DevTools sums in doubles; a `u64` gives the same values for any heap below 2^53 bytes.

/// `retained[n]` = `self_sizes[n]` + the retained sizes of the nodes `n` immediately dominates.
/// `self_sizes` shorter than the node count counts missing entries as 0.
pub fn compute(dominator: &[u32], preorder: &[u32], self_sizes: &[u32]) -> Vec<u64> {
    let n = dominator.len();
    let mut retained: Vec<u64> = (0..n)
        .map(|i| u64::from(self_sizes.get(i).copied().unwrap_or(0)))
        .collect();
    // preorder[0] is the root, which has no dominator to add to.
    for &node in preorder.iter().skip(1).rev() {
        let d = dominator[node as usize] as usize;
        retained[d] += retained[node as usize];
    }
    retained
}

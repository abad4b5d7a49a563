//! What the new objects keep alive, read off the dominator tree in one depth-first walk.
//!
//! For every marked (new) node the walk knows which marked nodes are above it in the dominator
//! tree, which answers two questions at once in O(node count):
//! - *top of its class*: no other new object of the same row dominates it. The retained sizes
//!   of these nodes sum to the row's `added_retained_size` without counting anything twice, the
//!   rule DevTools' `calculateClassesRetainedSize` applies to a Summary row's `maxRet`;
//! - *owner root*: no new object of another row whose tier is at least as application-like
//!   dominates it. A new object owned by a new object of an application class is part of that
//!   object's leak, not a leak of its own (see `suspects`).

/// Marks per node: which row a new node belongs to, `NONE` for the others.
pub(crate) const NONE: u32 = u32::MAX;

/// Flags per node set by [`walk`].
pub(crate) const TOP_OF_CLASS: u8 = 1;
pub(crate) const OWNER_ROOT: u8 = 2;

/// The dominator tree as child lists (CSR), built once per comparison.
pub(crate) struct DominatorTree {
    first: Vec<u32>,
    children: Vec<u32>,
    root: u32,
}

impl DominatorTree {
    pub fn new(dominator: &[u32], root: u32) -> DominatorTree {
        let n = dominator.len();
        let parent = |node: usize| -> Option<usize> {
            let d = dominator[node] as usize;
            (node != root as usize && d < n && d != node).then_some(d)
        };
        let mut first = vec![0u32; n + 1];
        for node in 0..n {
            if let Some(d) = parent(node) {
                first[d + 1] += 1;
            }
        }
        for i in 0..n {
            first[i + 1] += first[i];
        }
        // `first[d + 1]` is the end of d's children: place them backwards from there, so that
        // each list stays ascending and `first[d + 1]` ends at d's start; then shift by one.
        let mut children = vec![0u32; first[n] as usize];
        for node in (0..n).rev() {
            if let Some(d) = parent(node) {
                first[d + 1] -= 1;
                children[first[d + 1] as usize] = node as u32;
            }
        }
        first.copy_within(1.., 0);
        first[n] = children.len() as u32;
        DominatorTree {
            first,
            children,
            root,
        }
    }

    fn children(&self, node: u32) -> &[u32] {
        let i = node as usize;
        &self.children[self.first[i] as usize..self.first[i + 1] as usize]
    }
}

/// Walks the tree from the root. `mark[node]` is the row of a new node (or [`NONE`]),
/// `tier[row]` its tier (higher = more application-like). Returns per-node flags
/// ([`TOP_OF_CLASS`], [`OWNER_ROOT`]) for marked nodes, 0 elsewhere.
pub(crate) fn walk(tree: &DominatorTree, mark: &[u32], tier: &[u8]) -> Vec<u8> {
    let n = mark.len();
    let mut flags = vec![0u8; n];
    if tree.root as usize >= n {
        return flags;
    }
    let tiers = tier.iter().copied().max().map_or(1, |t| t as usize + 1);
    // Open new ancestors per row and per tier.
    let mut open_row = vec![0u32; tier.len()];
    let mut open_tier = vec![0u32; tiers];
    // `EXIT` closes the subtree of the marked node on top of `exits` (ordinals stay below
    // `u32::MAX` because the analysis keeps node counts within `u32`).
    const EXIT: u32 = u32::MAX;
    let mut stack: Vec<u32> = vec![tree.root];
    let mut exits: Vec<u32> = Vec::new();
    while let Some(entry) = stack.pop() {
        if entry == EXIT {
            if let Some(row) = exits.pop()
                && let Some(&t) = tier.get(row as usize)
            {
                open_row[row as usize] -= 1;
                open_tier[t as usize] -= 1;
            }
            continue;
        }
        let children = tree.children(entry);
        let row = mark[entry as usize];
        if row != NONE
            && let Some(&t) = tier.get(row as usize)
        {
            let same = open_row[row as usize];
            let at_least: u32 = open_tier[t as usize..].iter().sum();
            let mut f = 0;
            if same == 0 {
                f |= TOP_OF_CLASS;
            }
            if at_least == same {
                f |= OWNER_ROOT;
            }
            flags[entry as usize] = f;
            if !children.is_empty() {
                open_row[row as usize] += 1;
                open_tier[t as usize] += 1;
                exits.push(row);
                stack.push(EXIT);
            }
        }
        stack.extend_from_slice(children);
    }
    flags
}

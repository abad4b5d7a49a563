//! The dominator tree as child lists, and one depth-first walk over it: what the Summary's
//! class retained sizes and the Comparison's "what the new objects keep alive" both read.

/// Child lists (CSR) of the immediate-dominator array.
pub struct DominatorTree {
    first: Vec<u32>,
    children: Vec<u32>,
    root: u32,
}

/// A step of [`DominatorTree::walk`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visit {
    /// The walk reaches a node (parents before children, children in ascending ordinal order).
    /// Answer `true` to be told when the node's subtree is done.
    Enter(u32),
    /// The subtree of a node whose `Enter` answered `true` is done. The answer is ignored.
    Leave(u32),
}

impl DominatorTree {
    /// `dominator[n]` is `n`'s immediate dominator; the root, entries out of range and entries
    /// naming the node itself are left out of the tree (their subtrees are unreachable).
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

    pub fn root(&self) -> u32 {
        self.root
    }

    /// The nodes `node` immediately dominates, ascending.
    pub fn children(&self, node: u32) -> &[u32] {
        let i = node as usize;
        match (self.first.get(i), self.first.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.children[a as usize..b as usize],
            _ => &[],
        }
    }

    /// Walks the tree depth first from the root with an explicit stack (a 10-million-node chain
    /// is a tree of depth 10 million).
    pub fn walk(&self, mut visit: impl FnMut(Visit) -> bool) {
        if self.root as usize + 1 >= self.first.len() {
            return;
        }
        // Bit 32 marks a pending `Leave`.
        const LEAVE: u64 = 1 << 32;
        let mut stack: Vec<u64> = vec![u64::from(self.root)];
        while let Some(entry) = stack.pop() {
            let node = entry as u32;
            if entry & LEAVE != 0 {
                visit(Visit::Leave(node));
                continue;
            }
            let children = self.children(node);
            if visit(Visit::Enter(node)) {
                if children.is_empty() {
                    visit(Visit::Leave(node));
                } else {
                    stack.push(entry | LEAVE);
                }
            }
            stack.extend(children.iter().rev().map(|&c| u64::from(c)));
        }
    }
}

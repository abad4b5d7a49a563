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
    ///
    /// Both passes land on scattered parents: the parents a little ahead are prefetched, and the
    /// child array is faulted in on the other core while the first pass counts (on a VM whose
    /// freed memory goes back to the host, fresh pages cost as much as the misses).
    pub fn new(dominator: &[u32], root: u32) -> DominatorTree {
        const AHEAD: usize = 32;
        let n = dominator.len();
        let parent = |node: usize| -> Option<usize> {
            let d = dominator[node] as usize;
            (node != root as usize && d < n && d != node).then_some(d)
        };
        let ahead = |first: &[u32], node: usize| {
            if let Some(&d) = dominator.get(node) {
                crate::mem::prefetch(first, d as usize + 1);
            }
        };
        let count = || {
            let mut first = crate::mem::huge_vec(n + 1, 0u32);
            for node in 0..n {
                ahead(&first, node + AHEAD);
                if let Some(d) = parent(node) {
                    first[d + 1] += 1;
                }
            }
            for i in 0..n {
                first[i + 1] += first[i];
            }
            first
        };
        // Every node but the root has a parent where the snapshot is whole; any slack is cut.
        let (mut first, mut children) = rayon::join(count, || crate::mem::huge_vec(n, 0u32));
        children.truncate(first[n] as usize);
        // `first[d + 1]` is the end of d's children: place them backwards from there, so that
        // each list stays ascending and `first[d + 1]` ends at d's start; then shift by one.
        for node in (0..n).rev() {
            ahead(&first, node.wrapping_sub(AHEAD));
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
    /// is a tree of depth 10 million). The stack holds one frame per level, where the walk is in
    /// that node's children, not every pending child: a node dominating a million others (the
    /// array of an out-of-memory snapshot's leak) costs one frame, not a million.
    pub fn walk(&self, visit: impl FnMut(Visit) -> bool) {
        self.walk_prefetching(|_| {}, visit);
    }

    /// [`DominatorTree::walk`], calling `prefetch` with the siblings a few ahead of each node
    /// entered: `visit` reads per-node arrays at scattered places, and asking for the next ones
    /// early overlaps those misses instead of queueing them.
    pub fn walk_prefetching(&self, prefetch: impl Fn(u32), mut visit: impl FnMut(Visit) -> bool) {
        const AHEAD: u32 = 8;
        struct Frame {
            node: u32,
            /// Index into `children` of the next child to enter.
            next: u32,
            leave: bool,
        }
        let root = self.root;
        if root as usize + 1 >= self.first.len() {
            return;
        }
        let frame = |node: u32, leave: bool| Frame {
            node,
            next: self.first[node as usize],
            leave,
        };
        let mut stack = vec![frame(root, visit(Visit::Enter(root)))];
        while let Some(top) = stack.last_mut() {
            let end = self.first[top.node as usize + 1];
            if top.next < end {
                if top.next + AHEAD < end {
                    let later = self.children[(top.next + AHEAD) as usize];
                    crate::mem::prefetch(&self.first, later as usize);
                    prefetch(later);
                }
                let child = self.children[top.next as usize];
                top.next += 1;
                let leave = visit(Visit::Enter(child));
                if self.children(child).is_empty() {
                    if leave {
                        visit(Visit::Leave(child));
                    }
                } else {
                    stack.push(frame(child, leave));
                }
            } else {
                let Some(done) = stack.pop() else { break };
                if done.leave {
                    visit(Visit::Leave(done.node));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parents before children, children ascending, `Leave` only where `Enter` asked for it and
    /// after the whole subtree; nodes outside the tree never visited.
    #[test]
    fn walk_visits_in_depth_first_order() {
        // 0 → {1, 2}, 1 → {3, 4}, 2 → {5}, 5 → {6}; 7 names a node past the end, 8 itself.
        let tree = DominatorTree::new(&[0, 0, 0, 1, 1, 2, 5, 99, 8], 0);
        assert_eq!(tree.children(0), &[1, 2]);
        assert_eq!(tree.children(8), &[] as &[u32]);
        let mut seen = Vec::new();
        tree.walk(|v| {
            seen.push(v);
            // No `Leave` for node 2 (its subtree is still walked).
            v != Visit::Enter(2)
        });
        use Visit::{Enter as E, Leave as L};
        let expected = [
            E(0),
            E(1),
            E(3),
            L(3),
            E(4),
            L(4),
            L(1),
            E(2),
            E(5),
            E(6),
            L(6),
            L(5),
            L(0),
        ];
        assert_eq!(seen, expected);
    }
}

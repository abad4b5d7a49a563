//! What the new objects keep alive, read off the dominator tree in one depth-first walk.
//!
//! For every marked (new) node the walk knows which marked nodes are above it in the dominator
//! tree, which answers two questions at once in O(node count):
//! - *top of its class*: no other new object of the same row dominates it. The retained sizes
//!   of these nodes sum to the row's `added_retained_size` without counting anything twice, the
//!   rule DevTools' `calculateClassesRetainedSize` applies to a Summary row's `maxRet`;
//! - *owner root*: no new object of another row whose tier is at least as application-like
//!   dominates it. A new object owned by a new object of an application class is part of that
//!   object's leak, not a leak of its own (see `suspects`);
//! - *entry*: no new object at all dominates it — the place where new objects entered the heap.
//!   Every new object belongs to the entry above it (see `leaks`).

use crate::analysis::dominator_tree::{DominatorTree, Visit};

/// Marks per node: which row a new node belongs to, `NONE` for the others.
pub(crate) const NONE: u32 = u32::MAX;

/// Flags per node set by [`walk`].
pub(crate) const TOP_OF_CLASS: u8 = 1;
pub(crate) const OWNER_ROOT: u8 = 2;
/// Set on every marked node: the flags alone say which objects are new.
pub(crate) const NEW: u8 = 4;

/// What one walk finds.
pub(crate) struct Walk {
    /// Per node: [`NEW`], [`TOP_OF_CLASS`], [`OWNER_ROOT`] for marked nodes, 0 elsewhere.
    pub flags: Vec<u8>,
    /// The entries, in depth-first order.
    pub entries: Vec<u32>,
    /// Every marked node with the index of its entry in `entries`, in depth-first order.
    pub members: Vec<(u32, u32)>,
}

/// Walks the tree from the root. `mark[node]` is the row of a new node (or [`NONE`]),
/// `tier[row]` its tier (higher = more application-like).
pub(crate) fn walk(tree: &DominatorTree, mark: &[u32], tier: &[u8]) -> Walk {
    let n = mark.len();
    let mut flags = vec![0u8; n];
    let mut entries: Vec<u32> = Vec::new();
    let mut members: Vec<(u32, u32)> = Vec::new();
    // Marked ancestors open above the current node.
    let mut open_any = 0u32;
    let tiers = tier.iter().copied().max().map_or(1, |t| t as usize + 1);
    // Open new ancestors per row and per tier.
    let mut open_row = vec![0u32; tier.len()];
    let mut open_tier = vec![0u32; tiers];
    let row_of = |node: u32| -> Option<(usize, usize)> {
        let row = *mark.get(node as usize)?;
        let t = *tier.get(row as usize)?;
        Some((row as usize, t as usize))
    };
    tree.walk(|visit| match visit {
        Visit::Enter(node) => {
            let Some((row, t)) = row_of(node) else {
                return false;
            };
            let same = open_row[row];
            let at_least: u32 = open_tier[t..].iter().sum();
            let mut f = NEW;
            if same == 0 {
                f |= TOP_OF_CLASS;
            }
            if at_least == same {
                f |= OWNER_ROOT;
            }
            flags[node as usize] = f;
            if open_any == 0 {
                entries.push(node);
            }
            members.push((node, entries.len() as u32 - 1));
            open_row[row] += 1;
            open_tier[t] += 1;
            open_any += 1;
            true
        }
        Visit::Leave(node) => {
            if let Some((row, t)) = row_of(node) {
                open_row[row] -= 1;
                open_tier[t] -= 1;
                open_any -= 1;
            }
            false
        }
    });
    Walk {
        flags,
        entries,
        members,
    }
}

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

/// Flags per node set by [`walk`].
pub(crate) const TOP_OF_CLASS: u8 = 1;
pub(crate) const OWNER_ROOT: u8 = 2;
/// Set on every marked node, by the caller: the flags alone say which objects are new.
pub(crate) const NEW: u8 = 4;
/// Set on the entries: a member belongs to the last entry before it in [`Members::iter`].
pub(crate) const ENTRY: u8 = 8;
/// What [`new_flags`] sets and [`walk`] turns into the flags above (a marked node the tree
/// does not reach is left with none).
const MARKED: u8 = 16;

/// What one walk finds.
pub(crate) struct Walk {
    /// Per node: [`NEW`], [`TOP_OF_CLASS`], [`OWNER_ROOT`], [`ENTRY`] for marked nodes, 0
    /// elsewhere.
    pub flags: Vec<u8>,
    /// The entries and the marked nodes below each (what the leak groups read, and can drop
    /// before the flags).
    pub members: Members,
}

/// The entries and their members, in depth-first order.
pub(crate) struct Members {
    /// The entries, in depth-first order.
    pub entries: Vec<u32>,
    /// Every marked node in depth-first order: an entry, then the marked nodes it dominates.
    /// Four bytes a member, not eight with its entry's index beside it: an out-of-memory
    /// snapshot's comparison can have millions ([`Members::iter`] derives the index).
    nodes: Vec<u32>,
}

impl Members {
    /// How many marked nodes the walk reached.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Every marked node with the index of its entry in `entries`, in depth-first order;
    /// `flags` are the walk's.
    pub fn iter<'a>(&'a self, flags: &'a [u8]) -> impl Iterator<Item = (u32, u32)> + 'a {
        let mut entry = u32::MAX;
        self.nodes.iter().map(move |&node| {
            if flags[node as usize] & ENTRY != 0 {
                entry = entry.wrapping_add(1);
            }
            (node, entry)
        })
    }
}

/// Per node, a mark on the nodes of `lists` (a row's new objects each), 0 elsewhere: the marks
/// [`walk`] starts from.
pub(crate) fn new_flags<'a>(node_count: usize, lists: impl Iterator<Item = &'a [u32]>) -> Vec<u8> {
    let mut flags = vec![0u8; node_count];
    for nodes in lists {
        for &n in nodes {
            if let Some(f) = flags.get_mut(n as usize) {
                *f = MARKED;
            }
        }
    }
    flags
}

/// Walks the tree from the root over the nodes [`new_flags`] marked and flags them.
/// `row_of(node)` is the row of a new node (an index into `tier`, `None` leaves the node out),
/// `tier[row]` its tier (higher = more application-like). The row is looked up, not stored per
/// node: four bytes a node less beside the tree.
pub(crate) fn walk(
    tree: &DominatorTree,
    mut flags: Vec<u8>,
    row_of: impl Fn(u32) -> Option<usize>,
    tier: &[u8],
) -> Walk {
    let mut entries: Vec<u32> = Vec::new();
    let mut members: Vec<u32> = Vec::new();
    // Marked ancestors open above the current node.
    let mut open_any = 0u32;
    let tiers = tier.iter().copied().max().map_or(1, |t| t as usize + 1);
    // Open new ancestors per row and per tier.
    let mut open_row = vec![0u32; tier.len()];
    let mut open_tier = vec![0u32; tiers];
    let marked = |flags: &[u8], node: u32| -> Option<(usize, usize)> {
        if flags.get(node as usize)? & MARKED == 0 {
            return None;
        }
        let row = row_of(node)?;
        Some((row, *tier.get(row)? as usize))
    };
    tree.walk(|visit| match visit {
        Visit::Enter(node) => {
            let Some((row, t)) = marked(&flags, node) else {
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
            if open_any == 0 {
                f |= ENTRY;
                entries.push(node);
            }
            flags[node as usize] = f | MARKED;
            members.push(node);
            open_row[row] += 1;
            open_tier[t] += 1;
            open_any += 1;
            true
        }
        Visit::Leave(node) => {
            if let Some((row, t)) = marked(&flags, node) {
                open_row[row] -= 1;
                open_tier[t] -= 1;
                open_any -= 1;
            }
            false
        }
    });
    for f in &mut flags {
        *f &= !MARKED;
    }
    Walk {
        flags,
        members: Members {
            entries,
            nodes: members,
        },
    }
}

//! Shallow sizes: `JSHeapSnapshot.calculateShallowSizes`, the self sizes DevTools shows once
//! owned arrays and hidden nodes have moved into their single owner.

use rayon::prelude::*;

use super::dom::{dom_states, renamed_detached};
use crate::snapshot::{EdgeKind, NodeKind, Snapshot};

/// Per node ordinal, the self size DevTools shows (and builds retained sizes and Summary rows
/// from): `JSHeapSnapshot.calculateShallowSizes`.
pub fn shallow_sizes(snap: &Snapshot) -> Vec<u32> {
    let mut sizes = snap.node_self_size.clone();
    shallow_sizes_in_place(snap, &mut sizes);
    sizes
}

/// [`shallow_sizes`] computed into `sizes`, which holds the snapshot's self sizes on entry (as
/// DevTools' `calculateShallowSizes` overwrites the nodes array): lets a caller move
/// `snap.node_self_size` out, turn it into the shallow sizes and keep one array, not two.
/// `snap.node_self_size` itself is not read.
pub fn shallow_sizes_in_place(snap: &Snapshot, sizes: &mut [u32]) {
    // Only an external-string-data node's name can be changed by the DOM propagation, so run it
    // only when such a node could be affected.
    let needs_dom = !snap.node_detachedness.is_empty()
        && (0..snap.node_count() as u32).any(|n| is_external_string_data(snap, None, n));
    let dom = if needs_dom { dom_states(snap) } else { None };
    move_owned_sizes(snap, dom.as_deref(), sizes);
}

fn is_external_string_data(snap: &Snapshot, dom: Option<&[u8]>, node: u32) -> bool {
    snap.node_kind(node) == NodeKind::Native
        && snap.node_name(node) == "system / ExternalStringData"
        && !renamed_detached(snap, dom, node)
}

/// [`shallow_sizes`] with the DOM states already computed (see [`dom_states`]).
///
/// Hidden nodes, arrays and `system / ExternalStringData` natives are "owned": when every
/// non-weak path into one from other (self-owning) nodes starts at the same owner, its size moves
/// to that owner (unless the owner is the root or synthetic). Snapshots without user roots (taken
/// with "expose internals") are left as they are.
pub fn shallow_sizes_with_dom(snap: &Snapshot, dom: Option<&[u8]>) -> Vec<u32> {
    let mut sizes = snap.node_self_size.clone();
    move_owned_sizes(snap, dom, &mut sizes);
    sizes
}

/// The size moves of [`shallow_sizes_with_dom`], applied to `sizes` (the self sizes on entry).
fn move_owned_sizes(snap: &Snapshot, dom: Option<&[u8]>, sizes: &mut [u32]) {
    let n = snap.node_count();
    if n == 0 || !has_user_roots(snap) || sizes.len() < n {
        return;
    }
    const UNVISITED: u32 = u32::MAX;
    const MULTIPLE_OWNERS: u32 = u32::MAX - 1;
    if n as u64 >= MULTIPLE_OWNERS as u64 {
        return;
    }
    let mut owners: Vec<u32> = (0..n as u32)
        .into_par_iter()
        .map(|node| match snap.node_kind(node) {
            NodeKind::Hidden | NodeKind::Array => UNVISITED,
            _ if is_external_string_data(snap, dom, node) => UNVISITED,
            _ => node,
        })
        .collect();
    let mut worklist: Vec<u32> = (0..n as u32).filter(|&i| owners[i as usize] == i).collect();
    // Each node enters the worklist at most twice (unvisited -> one owner -> several), so this
    // terminates; the order does not change the fixed point.
    while let Some(node) = worklist.pop() {
        let owner = owners[node as usize];
        for edge in snap.edges(node) {
            if snap.edge_kind(edge) == EdgeKind::Weak {
                continue;
            }
            let target = snap.edge_to[edge as usize];
            let current = owners[target as usize];
            if current == UNVISITED {
                owners[target as usize] = owner;
                worklist.push(target);
            } else if current != target && current != owner && current != MULTIPLE_OWNERS {
                owners[target as usize] = MULTIPLE_OWNERS;
                worklist.push(target);
            }
        }
    }
    for (node, &owner) in owners.iter().enumerate() {
        if owner == UNVISITED || owner == MULTIPLE_OWNERS || owner as usize == node {
            continue;
        }
        // Giving size to the root or to a synthetic node would hide it from every view.
        if owner == snap.root || snap.node_kind(owner) == NodeKind::Synthetic {
            continue;
        }
        let moved = std::mem::take(&mut sizes[node]);
        // DevTools stores sizes in a Uint32Array, which wraps.
        sizes[owner as usize] = sizes[owner as usize].wrapping_add(moved);
    }
}

/// `JSHeapSnapshot.#hasUserRoots`: does the root hold any non-synthetic node or the
/// `(Document DOM trees)` root?
fn has_user_roots(snap: &Snapshot) -> bool {
    if snap.root as usize >= snap.node_count() {
        return false;
    }
    snap.edges(snap.root).any(|edge| {
        let to = snap.edge_to[edge as usize];
        snap.node_kind(to) != NodeKind::Synthetic || snap.node_name(to) == "(Document DOM trees)"
    })
}

//! Shallow sizes: `JSHeapSnapshot.calculateShallowSizes`, the self sizes DevTools shows once
//! owned arrays and hidden nodes have moved into their single owner.

use std::sync::atomic::{AtomicU32, Ordering};

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
///
/// DevTools finds each owned node's owner with one worklist. A node's owner only ever rises
/// from unvisited to one owner to "several" (self-owning nodes never change), and it is the join
/// of what its non-weak retainers carry, so any order of updates reaches the same fixed point:
/// here in rounds, each spread over the cores (the first from every self-owning node, then from
/// the nodes whose owner changed in the round before). On a heap without locality each edge is
/// a cache miss, and one core waits for them alone.
fn move_owned_sizes(snap: &Snapshot, dom: Option<&[u8]>, sizes: &mut [u32]) {
    let n = snap.node_count();
    if n == 0 || !has_user_roots(snap) || sizes.len() < n {
        return;
    }
    if n as u64 >= MULTIPLE_OWNERS as u64 {
        return;
    }
    // Read at scattered places by every edge: in huge pages where it is large (a miss of the
    // TLB per edge otherwise, on a heap without locality). The owners are read in place at the
    // end, not copied out of their atomics (one node-sized array fewer to fault in).
    let mut owners: Vec<AtomicU32> = Vec::with_capacity(n);
    crate::mem::advise_huge(owners.spare_capacity_mut());
    owners.par_extend((0..n as u32).into_par_iter().map(|node| {
        AtomicU32::new(match snap.node_kind(node) {
            NodeKind::Hidden | NodeKind::Array => UNVISITED,
            _ if is_external_string_data(snap, dom, node) => UNVISITED,
            _ => node,
        })
    }));
    // Each round's nodes in chunks, each chunk's changed nodes in a list of its own.
    const CHUNK: usize = 1 << 14;
    let mut worklist: Vec<u32> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .flat_map_iter(|c| {
            let mut changed = Vec::new();
            for node in (c * CHUNK) as u32..((c + 1) * CHUNK).min(n) as u32 {
                if owners[node as usize].load(Ordering::Relaxed) == node {
                    spread(snap, &owners, node, &mut changed);
                }
            }
            changed
        })
        .collect();
    while !worklist.is_empty() {
        worklist = worklist
            .par_chunks(CHUNK)
            .flat_map_iter(|nodes| {
                let mut changed = Vec::new();
                for &node in nodes {
                    spread(snap, &owners, node, &mut changed);
                }
                changed
            })
            .collect();
    }
    for (node, owner) in owners.iter().enumerate() {
        let owner = owner.load(Ordering::Relaxed);
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

const UNVISITED: u32 = u32::MAX;
const MULTIPLE_OWNERS: u32 = u32::MAX - 1;

/// Joins `node`'s owner into the owner of each node it retains over a non-weak edge, pushing
/// to `changed` the nodes whose owner that changed (once per change: at most twice a node).
fn spread(snap: &Snapshot, owners: &[AtomicU32], node: u32, changed: &mut Vec<u32>) {
    let owner = owners[node as usize].load(Ordering::Relaxed);
    for edge in snap.edges(node) {
        if snap.edge_kind(edge) == EdgeKind::Weak {
            continue;
        }
        let target = snap.edge_to[edge as usize];
        let slot = &owners[target as usize];
        let mut current = slot.load(Ordering::Relaxed);
        loop {
            let joined = if current == UNVISITED {
                owner
            } else if current == target || current == owner || current == MULTIPLE_OWNERS {
                break;
            } else {
                MULTIPLE_OWNERS
            };
            match slot.compare_exchange_weak(current, joined, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => {
                    changed.push(target);
                    break;
                }
                Err(now) => current = now,
            }
        }
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

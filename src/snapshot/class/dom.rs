//! DOM state: `propagateDOMState`, and the `Detached ` names it gives.

use std::borrow::Cow;

use crate::snapshot::{EdgeKind, NodeKind, Snapshot};

/// `DOMLinkState` values of the `detachedness` node field.
pub const DOM_UNKNOWN: u8 = 0;
pub const DOM_ATTACHED: u8 = 1;
pub const DOM_DETACHED: u8 = 2;

/// Per node ordinal, the DOM link state after DevTools' propagation, or `None` when the file has
/// no `detachedness` field (DevTools then renames nothing).
///
/// `propagateDOMState`: native nodes reachable (over edges that are not hidden, invisible or weak,
/// through native nodes only) from an attached node are attached; the native nodes reachable
/// from a detached node that are not attached become detached, and every detached native node is
/// renamed `Detached <name>`. A native node has state [`DOM_DETACHED`] here exactly when DevTools
/// renamed it. Other nodes keep the state of the file.
pub fn dom_states(snap: &Snapshot) -> Option<Vec<u8>> {
    let n = snap.node_count();
    if snap.node_detachedness.len() != n || n == 0 {
        return None;
    }
    // DevTools keeps the state in the low two bits of a wider word.
    let mut state: Vec<u8> = snap.node_detachedness.iter().map(|d| d & 3).collect();
    let mut visited = vec![false; n];
    let mut attached: Vec<u32> = Vec::new();
    let mut detached: Vec<u32> = Vec::new();

    // Marks one node; the propagation never passes through JavaScript objects because each
    // entry point into embedder (native) objects records its own state.
    let process = |node: u32,
                   new_state: u8,
                   state: &mut [u8],
                   visited: &mut [bool],
                   attached: &mut Vec<u32>,
                   detached: &mut Vec<u32>| {
        let i = node as usize;
        if visited[i] {
            return;
        }
        visited[i] = true;
        if snap.node_kind(node) != NodeKind::Native {
            return;
        }
        state[i] = new_state;
        match new_state {
            DOM_ATTACHED => attached.push(node),
            DOM_DETACHED => detached.push(node),
            _ => {}
        }
    };

    for node in 0..n as u32 {
        let s = state[node as usize];
        if s != DOM_UNKNOWN {
            process(
                node,
                s,
                &mut state,
                &mut visited,
                &mut attached,
                &mut detached,
            );
        }
    }
    let follows = |edge: u32| {
        !matches!(
            snap.edge_kind(edge),
            EdgeKind::Hidden | EdgeKind::Invisible | EdgeKind::Weak
        )
    };
    while let Some(node) = attached.pop() {
        for edge in snap.edges(node) {
            if follows(edge) {
                let to = snap.edge_to[edge as usize];
                process(
                    to,
                    DOM_ATTACHED,
                    &mut state,
                    &mut visited,
                    &mut attached,
                    &mut detached,
                );
            }
        }
    }
    while let Some(node) = detached.pop() {
        if state[node as usize] == DOM_ATTACHED {
            continue;
        }
        for edge in snap.edges(node) {
            if follows(edge) {
                let to = snap.edge_to[edge as usize];
                process(
                    to,
                    DOM_DETACHED,
                    &mut state,
                    &mut visited,
                    &mut attached,
                    &mut detached,
                );
            }
        }
    }
    Some(state)
}

/// Whether DevTools shows this node's name with the `Detached ` prefix it adds in
/// `propagateDOMState`.
pub(super) fn renamed_detached(snap: &Snapshot, dom: Option<&[u8]>, node: u32) -> bool {
    dom.and_then(|d| d.get(node as usize))
        .is_some_and(|&s| s == DOM_DETACHED)
        && snap.node_kind(node) == NodeKind::Native
}

/// The node's raw name as DevTools holds it after `propagateDOMState` (with the `Detached `
/// prefix where it added one).
pub fn raw_name<'a>(snap: &'a Snapshot, dom: Option<&[u8]>, node: u32) -> Cow<'a, str> {
    let name = snap.node_name(node);
    if renamed_detached(snap, dom, node) {
        Cow::Owned(format!("Detached {name}"))
    } else {
        Cow::Borrowed(name)
    }
}

//! The next hop of a shortest retaining path: which edges can carry one, and which retainer
//! is closest to the roots (DevTools' `nodeDistances`, ties broken as the Retainers pane orders
//! its rows).
//!
//! Edges that are not ownership never carry a path: weak and invisible edges, edges from the
//! root (they end the path at a GC root), the table's own edge of a WeakMap key/value pair (the
//! key keeps the value, the backing store does not: DevTools' dominator rule in
//! `hasOnlyWeakRetainers`/`isEssentialEdge`), a native context's `sloppy_function_map` and the
//! descriptor links of shared `(map descriptors)` (the edges `calculateDistances` skips).

use crate::analysis::NO_DISTANCE;
use crate::loaded::Loaded;
use crate::snapshot::class::{DOM_DETACHED, cmp_utf16, display_name};
use crate::snapshot::{EdgeKind, NodeKind};

/// The table id of a WeakMap ephemeron edge name, if it is one.
pub(super) fn parse_weakmap_table_id(s: &str) -> Option<u32> {
    if !s.contains(" / part of key (") {
        return None;
    }
    let (_, id) = s
        .strip_suffix(')')?
        .rsplit_once("pair in WeakMap (table @")?;
    id.parse().ok()
}

/// Whether `edge` from `source` can carry a retaining path (see the module comment);
/// `table_id` names the WeakMap table of an ephemeron edge name.
pub(super) fn owns(
    loaded: &Loaded,
    edge: u32,
    source: u32,
    table_id: &mut dyn FnMut(u32) -> Option<u32>,
) -> bool {
    let snap = &loaded.snapshot;
    if source == snap.root {
        return false;
    }
    let kind = snap.edge_kind(edge);
    match kind {
        EdgeKind::Weak | EdgeKind::Invisible => return false,
        EdgeKind::Internal => {
            let name = snap.edge_name_index(edge);
            let n = snap.strings.get(name);
            if n.as_bytes().first().is_some_and(u8::is_ascii_digit)
                && table_id(name) == Some(snap.node_id[source as usize])
            {
                return false;
            }
            if n == "sloppy_function_map"
                && snap.node_kind(source) == NodeKind::Hidden
                && snap.node_name(source) == "system / NativeContext"
            {
                return false;
            }
        }
        _ => {}
    }
    if snap.node_kind(source) == NodeKind::Array && snap.node_name(source) == "(map descriptors)" {
        let index = if kind.has_string_name() {
            snap.strings.get(snap.edge_name_index(edge)).parse().ok()
        } else {
            Some(snap.edge_name_index(edge))
        };
        if index.is_some_and(|i| i >= 2 && i % 3 == 1) {
            return false;
        }
    }
    true
}

/// The next hop of `node`'s shortest retaining path: among owning retainers strictly closer to
/// the roots, the closest, then the Retainers pane's first (name ascending, then the higher edge
/// index). `owns` is [`owns`] with the caller's table-id lookup.
pub(super) fn next_hop(
    loaded: &Loaded,
    node: u32,
    owns: &mut dyn FnMut(u32, u32) -> bool,
) -> Option<(u32, u32)> {
    let (snap, analysis) = (&loaded.snapshot, &loaded.analysis);
    let d = *analysis.distance.get(node as usize)?;
    if d == NO_DISTANCE || node == snap.root {
        return None;
    }
    let dom = loaded.classes.dom();
    let mut best: Option<(i32, u32, u32)> = None;
    // The best retainer's shown name, built once for all the ties it meets.
    let mut best_name: Option<std::borrow::Cow<str>> = None;
    for edge in analysis.retaining_edges(snap, node) {
        let source = analysis.edge_source(snap, edge);
        let ds = analysis.distance[source as usize];
        if ds == NO_DISTANCE || ds >= d {
            continue;
        }
        if let Some((bd, be, bs)) = best {
            if ds > bd {
                continue;
            }
            if ds == bd {
                // Most ties are between nodes whose shown name is their raw name string; the
                // same string then means the same name, without building it.
                let plain = |x: u32| {
                    !matches!(snap.node_kind(x), NodeKind::ConsString | NodeKind::Object)
                        && dom.is_none_or(|d| d.get(x as usize) != Some(&DOM_DETACHED))
                };
                let order = if snap.node_name[source as usize] == snap.node_name[bs as usize]
                    && plain(source)
                    && plain(bs)
                {
                    std::cmp::Ordering::Equal
                } else {
                    let theirs = best_name.get_or_insert_with(|| display_name(snap, dom, bs));
                    cmp_utf16(&display_name(snap, dom, source), theirs)
                };
                let better = order.is_lt() || (order.is_eq() && edge > be);
                if !better {
                    continue;
                }
            }
        }
        if owns(edge, source) {
            if best.is_none_or(|(_, _, bs)| bs != source) {
                best_name = None;
            }
            best = Some((ds, edge, source));
        }
    }
    best.map(|(_, e, s)| (e, s))
}

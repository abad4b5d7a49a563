//! Display names: `JSHeapSnapshotNode.name()`, the name DevTools shows for one node (flattened
//! cons strings, `{a, b, …}` objects, `Detached ` natives).

use std::borrow::Cow;

use super::dom::raw_name;
use super::utf16::utf16_len;
use crate::snapshot::{EdgeKind, NodeKind, Snapshot};

/// `#plainObjectName`: display names of plain objects stop growing at this many UTF-16 units.
const MAX_PLAIN_OBJECT_NAME_LENGTH: usize = 100;
/// `consStringName`: the flattened text of a cons string is cut once it reaches this length.
const MAX_CONS_STRING_NAME_LENGTH: usize = 1024;

/// The name DevTools shows for one node (`JSHeapSnapshotNode.name()`): cons strings are
/// flattened (up to about 1,024 UTF-16 units), plain objects read `{a, b, …, y, z}`, detached DOM
/// natives carry the `Detached ` prefix; everything else is the raw name. `dom` is
/// [`Classes::dom_state`](super::Classes::dom_state) (or [`dom_states`](super::dom_states)).
pub fn display_name<'a>(snap: &'a Snapshot, dom: Option<&[u8]>, node: u32) -> Cow<'a, str> {
    match snap.node_kind(node) {
        NodeKind::ConsString => Cow::Owned(cons_string_name(snap, node)),
        NodeKind::Object if snap.node_name(node) == "Object" => {
            Cow::Owned(plain_object_name(snap, node))
        }
        _ => raw_name(snap, dom, node),
    }
}

/// `consStringName`: the text of a cons string, read left to right through its `first` and
/// `second` internal edges with an explicit stack (the tree can be deep).
fn cons_string_name(snap: &Snapshot, node: u32) -> String {
    let mut name = String::new();
    let mut len = 0usize;
    let mut stack: Vec<Option<u32>> = vec![Some(node)];
    // A hostile file can make cons strings whose halves are missing or lead back to cons
    // strings without ever reaching text (a cycle, or node 0 typed as a cons string): `len`
    // would never grow and the stack would grow without end. The work (nodes visited and
    // edges read) is bounded instead: a real cons tree of at most MAX_CONS_STRING_NAME_LENGTH
    // units visits fewer than 2 × that many nodes with a few edges each, where a hostile one
    // could make every visit read the root's thousands of edges.
    let mut work = 0usize;
    while len < MAX_CONS_STRING_NAME_LENGTH && work < 16 * MAX_CONS_STRING_NAME_LENGTH {
        work += 1;
        let Some(top) = stack.pop() else { break };
        // A cons string missing a half reads node 0 there, as DevTools does.
        let current = top.unwrap_or(0);
        // Node 0 typed as a cons string (a hostile file: it is the synthetic root) would be
        // expanded again for every missing half, never reaching text: it reads as empty.
        if top.is_none() && snap.node_kind(0) == NodeKind::ConsString {
            continue;
        }
        if snap.node_kind(current) != NodeKind::ConsString {
            let part = snap.node_name(current);
            name.push_str(part);
            len += utf16_len(part);
            continue;
        }
        let (mut first, mut second) = (None, None);
        for edge in snap.edges(current) {
            if first.is_some() && second.is_some() {
                break;
            }
            work += 1;
            if snap.edge_kind(edge) != EdgeKind::Internal {
                continue;
            }
            match snap.strings.get(snap.edge_name_index(edge)) {
                "first" => first = Some(snap.edge_to[edge as usize]),
                "second" => second = Some(snap.edge_to[edge as usize]),
                _ => {}
            }
        }
        stack.push(second);
        stack.push(first);
    }
    name
}

/// `#plainObjectName`: property names taken alternately from the front and the back of the
/// object's property edges while the name stays under 100 UTF-16 units, `…` for the rest.
fn plain_object_name(snap: &Snapshot, node: u32) -> String {
    let edges = snap.edges(node);
    let (mut from_start, mut from_end) = (edges.start as i64, edges.end as i64 - 1);
    let mut start = String::from("{");
    let mut start_len = 1usize;
    let mut end_parts: Vec<String> = Vec::new();
    let mut end_len = 1usize; // the closing brace
    let mut next_from_end = false;
    while from_start <= from_end {
        let edge = if next_from_end { from_end } else { from_start } as u32;
        let name = snap.strings.get(snap.edge_name_index(edge));
        if snap.edge_kind(edge) != EdgeKind::Property || name == "__proto__" {
            if next_from_end {
                from_end -= 1;
            } else {
                from_start += 1;
            }
            continue;
        }
        let formatted = format_property_name(name);
        let formatted_len = utf16_len(&formatted);
        if start_len > 1 && start_len + end_len + formatted_len > MAX_PLAIN_OBJECT_NAME_LENGTH {
            break;
        }
        if next_from_end {
            from_end -= 1;
            if end_len > 1 {
                end_len += 2;
            }
            end_len += formatted_len;
            end_parts.push(formatted.into_owned());
        } else {
            from_start += 1;
            if start_len > 1 {
                start.push_str(", ");
                start_len += 2;
            }
            start.push_str(&formatted);
            start_len += formatted_len;
        }
        next_from_end = !next_from_end;
    }
    if from_start <= from_end {
        start.push_str(", …");
    }
    if !end_parts.is_empty() {
        start.push_str(", ");
    }
    for (i, part) in end_parts.iter().rev().enumerate() {
        if i > 0 {
            start.push_str(", ");
        }
        start.push_str(part);
    }
    start.push('}');
    start
}

/// `formatPropertyName`: names with a comma, quote or brace are shown as a JSON string.
pub fn format_property_name(name: &str) -> Cow<'_, str> {
    if !name.contains([',', '\'', '"', '{', '}']) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        // The escapes of JavaScript's JSON.stringify.
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    Cow::Owned(out)
}

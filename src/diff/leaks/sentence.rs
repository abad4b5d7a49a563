//! The finding in one plain sentence: what, where, how much, made of what.

use super::describe::{is_generic, plumbing};
use super::{Part, SENTENCE_CLASSES, internal_name};
use crate::format;
use crate::loaded::Loaded;
use crate::snapshot::NodeKind;

pub(super) struct SentenceParts<'a> {
    pub(super) entries: u64,
    /// Distinct holders of the entries, their class, and the anchor above them as code names it.
    pub(super) holders: u64,
    pub(super) holder_class: String,
    pub(super) anchor_expression: &'a str,
    /// The holder's class and id, when the group has one.
    pub(super) holder: Option<(String, u32)>,
    pub(super) example: u32,
    pub(super) headline_node: u32,
    pub(super) expression: &'a str,
    pub(super) retained: u64,
    pub(super) composition: &'a [Part],
}

/// The finding in one sentence: what, where, how much, made of what.
pub(super) fn sentence(after: &Loaded, p: &SentenceParts) -> String {
    let snap = &after.snapshot;
    let count = |n: u64| format::thousands(n);
    let example_class = after.classes.name_of(p.example);
    // DevTools' "Detached <div>": DOM nodes out of the document (not Node's "Detached Node / …"
    // natives, which only lost their JavaScript wrapper).
    let detached = example_class.starts_with("Detached ") && super::describe::is_dom(example_class);
    // (subject, how many it counts)
    let (subject, n) = match snap.node_kind(p.example) {
        _ if detached && p.holders > 1 && !p.holder_class.is_empty() => {
            // Many application objects each keep their piece of DOM: they are the story.
            let place = if p.anchor_expression.is_empty() {
                String::new()
            } else {
                format!(" in `{}`", code(p.anchor_expression))
            };
            let subject = format!(
                "{} `{}` objects{place} still hold DOM elements that were removed from the document",
                count(p.holders),
                code(&p.holder_class)
            );
            let size = format::bytes(p.retained);
            let made_of = made_of(after, p);
            return if made_of.is_empty() {
                format!("{subject}; they keep {size} alive.")
            } else {
                format!("{subject}; they keep {size} alive: {made_of}.")
            };
        }
        kind if kind.is_string() => (
            format!(
                "{} string{}",
                count(p.entries),
                if p.entries == 1 { "" } else { "s" }
            ),
            p.entries,
        ),
        NodeKind::Closure => {
            let name = snap.node_name(p.example);
            let what = match (name.is_empty(), p.entries == 1) {
                (true, true) => "closure".to_string(),
                (true, false) => "closures".to_string(),
                (false, one) => format!("`{}` closure{}", code(name), if one { "" } else { "s" }),
            };
            let subject = match after.scripts.location_of(snap, p.example) {
                Some(l) => format!("{} {what} created at {}", count(p.entries), l.short()),
                None => format!("{} {what}", count(p.entries)),
            };
            (subject, p.entries)
        }
        _ if detached => (
            format!(
                "{} detached {} element{}",
                count(p.entries),
                format::one_line(example_class.trim_start_matches("Detached ")),
                if p.entries == 1 { "" } else { "s" }
            ),
            p.entries,
        ),
        _ if plumbing(after, p.example) => {
            // A Map's new table, a new backing store: the objects it holds tell the story.
            let lead = p
                .composition
                .iter()
                .find(|c| !internal_name(&c.name) && c.class_key != ",Function");
            match lead {
                Some(c) => (
                    format!("{} {}", count(c.count), format::one_line(&c.name)),
                    c.count,
                ),
                None => (
                    format!("{} {}", count(p.entries), format::one_line(example_class)),
                    p.entries,
                ),
            }
        }
        _ => (
            format!("{} {}", count(p.entries), format::one_line(example_class)),
            p.entries,
        ),
    };
    let one = n == 1;
    let (were, are, they_keep) = if one {
        ("was", "is", "it keeps")
    } else {
        ("were", "are", "they keep")
    };
    // Where they hang: as code names the holder, else the holder itself, else no holder at all
    // (objects on the stack or in handles: in flight, not kept by the program).
    let place = match (&p.holder, p.expression.is_empty()) {
        (_, false) => Some(format!("`{}`", code(p.expression))),
        (Some((class, id)), true) => Some(format!("`{}` @{id}", code(class))),
        (None, true) => None,
    };
    let verb = match (detached, place) {
        (true, Some(place)) => {
            format!("{were} removed from the document but {are} still held by {place}")
        }
        (true, None) => format!("{were} removed from the document but {are} still referenced"),
        (false, Some(place)) => format!("{were} added to {place} and never removed"),
        (false, None) => format!("{are} held only by GC roots (the stack, handles)"),
    };
    let size = format::bytes(p.retained);
    let made_of = made_of(after, p);
    if made_of.is_empty() {
        format!("{subject} {verb}; {they_keep} {size} alive.")
    } else {
        format!("{subject} {verb}; {they_keep} {size} alive: {made_of}.")
    }
}

/// Snapshot text for a `code span` of a sentence: one line, and no backtick that would end it
/// (reports render the spans as code).
pub(super) fn code(s: &str) -> String {
    format::one_line(s).replace('`', "'")
}

/// `1,000 ChildContainer, 2,000 Provider, 1,000 IncomingMessage, …`: what a group is made of,
/// in the words of the program.
pub(super) fn made_of(after: &Loaded, p: &SentenceParts) -> String {
    // Classes of one name (one constructor defined in many places, such as a runtime's
    // generators) count as one; closures and internals are not what the reader looks for.
    // (name, count, self size, rank)
    let mut by_name: Vec<(&str, u64, u64, u8)> = Vec::new();
    for c in p.composition {
        if c.class_key == ",Function" || internal_name(&c.name) {
            continue;
        }
        // The program's own classes first (located in its scripts), then the runtime's
        // located classes, then shapes and DOM objects, then generic containers.
        let rank = match &c.location {
            Some(l) if !l.script.is_empty() && !l.script.starts_with("node:") => 0,
            Some(_) => 1,
            None if is_generic(&c.name) => 3,
            None => 2,
        };
        match by_name.iter_mut().find(|n| n.0 == c.name) {
            Some(n) => {
                n.1 += c.count;
                n.2 += c.self_size;
                n.3 = n.3.min(rank);
            }
            None => by_name.push((&c.name, c.count, c.self_size, rank)),
        }
    }
    // The headline class first, then by rank, larger ones first.
    let headline = after.classes.name_of(p.headline_node);
    by_name.sort_by(|a, b| {
        (b.0 == headline)
            .cmp(&(a.0 == headline))
            .then(a.3.cmp(&b.3))
            .then(b.2.cmp(&a.2))
            .then(b.1.cmp(&a.1))
    });
    let shown = 1 + SENTENCE_CLASSES;
    let mut made_of = by_name
        .iter()
        .take(shown)
        .map(|(name, count, _, _)| {
            format!("{} {}", format::thousands(*count), format::one_line(name))
        })
        .collect::<Vec<_>>()
        .join(", ");
    if by_name.len() > shown {
        made_of.push_str(", …");
    }
    made_of
}

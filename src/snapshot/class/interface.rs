//! Interface definitions: `inferInterfaceDefinitions` names plain `Object`s after their leading
//! properties (`{host, port}`), and `applyInterfaceDefinitions`' search tree matches objects to
//! those names.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

use rayon::prelude::*;

use super::FxMap;
use super::display::format_property_name;
use super::utf16::{cmp_utf16, utf16_len};
use crate::snapshot::{EdgeKind, NodeKind, Snapshot};

/// `inferInterfaceDefinitions`: an interface name may outgrow this many UTF-16 units only with its
/// first property.
const MAX_INTERFACE_NAME_LENGTH: usize = 120;
/// `inferInterfaceDefinitions`: an interface must match at least this many objects …
const MIN_OBJECT_COUNT_PER_INTERFACE: f64 = 2.0;
/// … and at least one in this many plain objects.
const MIN_OBJECT_PROPORTION_PER_INTERFACE: f64 = 1000.0;

/// A class name for plain `Object`s that start with these properties, such as `{host, port}`.
/// The Comparison applies the *target* snapshot's definitions to both snapshots
/// (`interfaceDefinitions()` / `aggregatesForDiff`), so a diff classifies the base with
/// `classify(base, Some(&infer_interface_definitions(target)))`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InterfaceDefinition {
    pub name: String,
    /// Raw property names (not escaped), in the order of the object that defined them.
    pub properties: Vec<String>,
}

/// `isPlainJSObject`: an `object` node named `Object`.
pub(super) fn is_plain_object(snap: &Snapshot, node: u32) -> bool {
    snap.node_kind(node) == NodeKind::Object && snap.node_name(node) == "Object"
}

/// `inferInterfaceDefinitions`: names plain objects after their leading property names; keeps
/// the names shared by at least 2 objects and by 1 in 1,000 plain objects, most common first.
pub fn infer_interface_definitions(snap: &Snapshot) -> Vec<InterfaceDefinition> {
    /// Objects whose leading properties are one sequence of string indexes.
    #[derive(Clone, Copy)]
    struct Shape {
        count: u64,
        /// First node of the shape: DevTools' sort is stable over first-seen order.
        first: u32,
    }
    type Shapes = FxMap<Box<[u32]>, Shape>;

    // Count objects per property sequence without building names: real heaps have few shapes.
    let n = snap.node_count() as u32;
    let chunk = 1 << 16;
    let (plain_objects, shapes) = (0..n.div_ceil(chunk))
        .into_par_iter()
        .map(|c| {
            let mut local = Shapes::default();
            let mut plain = 0u64;
            let mut properties: Vec<u32> = Vec::new();
            for node in c * chunk..((c + 1) * chunk).min(n) {
                if !is_plain_object(snap, node) {
                    continue;
                }
                plain += 1;
                interface_properties(snap, node, &mut properties);
                // An empty `{}` would read as "objects without properties", which is misleading.
                if properties.is_empty() {
                    continue;
                }
                match local.get_mut(properties.as_slice()) {
                    Some(shape) => shape.count += 1,
                    None => {
                        local.insert(
                            properties.as_slice().into(),
                            Shape {
                                count: 1,
                                first: node,
                            },
                        );
                    }
                }
            }
            (plain, local)
        })
        .reduce(
            || (0, Shapes::default()),
            |(pa, mut a), (pb, b)| {
                for (key, shape) in b {
                    let entry = a.entry(key).or_insert(Shape {
                        count: 0,
                        first: u32::MAX,
                    });
                    entry.count += shape.count;
                    entry.first = entry.first.min(shape.first);
                }
                (pa + pb, a)
            },
        );

    // Candidates are keyed by name text (different sequences can print the same).
    struct Candidate {
        shape: Shape,
        properties: Box<[u32]>,
    }
    let mut candidates: FxMap<String, Candidate> = FxMap::default();
    for (properties, shape) in shapes {
        let name = interface_name(snap, &properties);
        match candidates.get_mut(&name) {
            Some(c) => {
                c.shape.count += shape.count;
                if shape.first < c.shape.first {
                    c.shape.first = shape.first;
                    c.properties = properties;
                }
            }
            None => {
                candidates.insert(name, Candidate { shape, properties });
            }
        }
    }
    let mut sorted: Vec<(String, Candidate)> = candidates.into_iter().collect();
    sorted.sort_by(|a, b| {
        b.1.shape
            .count
            .cmp(&a.1.shape.count)
            .then(a.1.shape.first.cmp(&b.1.shape.first))
    });
    let min_count = MIN_OBJECT_COUNT_PER_INTERFACE
        .max(plain_objects as f64 / MIN_OBJECT_PROPORTION_PER_INTERFACE);
    sorted
        .into_iter()
        .take_while(|(_, c)| c.shape.count as f64 >= min_count)
        .map(|(name, c)| InterfaceDefinition {
            name,
            properties: c
                .properties
                .iter()
                .map(|&p| snap.strings.get(p).to_owned())
                .collect(),
        })
        .collect()
}

/// The leading property names (string indexes) an interface name is made of: property edges
/// other than `__proto__`, at least one, then while the name stays within 120 UTF-16 units.
fn interface_properties(snap: &Snapshot, node: u32, out: &mut Vec<u32>) {
    out.clear();
    let mut name_len = 1; // "{", in UTF-16 units as DevTools measures
    for edge in snap.edges(node) {
        if snap.edge_kind(edge) != EdgeKind::Property {
            continue;
        }
        let raw = snap.edge_name_index(edge);
        let property = snap.strings.get(raw);
        if property == "__proto__" {
            continue;
        }
        let formatted_len = formatted_property_len(property);
        if name_len > 1 && name_len + formatted_len > MAX_INTERFACE_NAME_LENGTH {
            break;
        }
        // DevTools adds the separator only once the name is longer than "{" (an empty first
        // property name therefore gets none).
        if name_len != 1 {
            name_len += 2;
        }
        name_len += formatted_len;
        out.push(raw);
    }
}

/// The interface name for the properties chosen by [`interface_properties`].
fn interface_name(snap: &Snapshot, properties: &[u32]) -> String {
    let mut name = String::from("{");
    for &p in properties {
        if name.len() != 1 {
            name.push_str(", ");
        }
        name.push_str(&format_property_name(snap.strings.get(p)));
    }
    name.push('}');
    name
}

/// UTF-16 length of [`format_property_name`]'s result, without building it in the common case.
fn formatted_property_len(name: &str) -> usize {
    match format_property_name(name) {
        Cow::Borrowed(s) => utf16_len(s),
        Cow::Owned(s) => utf16_len(&s),
    }
}

/// `applyInterfaceDefinitions`' search tree: one path per definition, its properties sorted.
pub(super) struct PropertyTree {
    nodes: Vec<TreeNode>,
}

struct TreeNode {
    next: HashMap<String, u32>,
    /// The definition ending here: (property count, position in the definition list).
    matched: Option<(usize, u32)>,
    /// The greatest key of `next` (UTF-16 order): past it no transition is possible.
    greatest_next: Option<String>,
}

/// A definition match, compared as DevTools' `selectBetterMatch`: more properties win, then the
/// earlier definition. `None` is the fallback (`Object`, no properties, last).
type Match = Option<(usize, u32)>;

fn better(a: Match, b: Match) -> Match {
    match (a, b) {
        (_, None) => a,
        // The fallback has no properties and an infinite position: any definition beats it.
        (None, Some(_)) => b,
        (Some((ac, ai)), Some((bc, bi))) => {
            if ac > bc {
                a
            } else if bc > ac {
                b
            } else if ai <= bi {
                a
            } else {
                b
            }
        }
    }
}

impl PropertyTree {
    pub(super) fn new(definitions: &[InterfaceDefinition]) -> PropertyTree {
        let mut tree = PropertyTree {
            nodes: vec![TreeNode {
                next: HashMap::new(),
                matched: None,
                greatest_next: None,
            }],
        };
        for (index, definition) in definitions.iter().enumerate() {
            let mut properties: Vec<&str> =
                definition.properties.iter().map(String::as_str).collect();
            properties.sort_by(|a, b| cmp_utf16(a, b));
            let mut current = 0usize;
            for property in &properties {
                let existing = tree.nodes[current].next.get(*property).copied();
                current = match existing {
                    Some(next) => next as usize,
                    None => {
                        let next = tree.nodes.len();
                        tree.nodes.push(TreeNode {
                            next: HashMap::new(),
                            matched: None,
                            greatest_next: None,
                        });
                        let node = &mut tree.nodes[current];
                        node.next.insert((*property).to_owned(), next as u32);
                        if node
                            .greatest_next
                            .as_deref()
                            .is_none_or(|g| cmp_utf16(g, property) == Ordering::Less)
                        {
                            node.greatest_next = Some((*property).to_owned());
                        }
                        next
                    }
                };
            }
            // The first definition reaching a node keeps it: earlier definitions win.
            let node = &mut tree.nodes[current];
            if node.matched.is_none() {
                node.matched = Some((properties.len(), index as u32));
            }
        }
        tree
    }

    /// The best definition whose properties are all among `properties` (sorted, UTF-16 order).
    pub(super) fn best_match(
        &self,
        properties: &[&str],
        states: &mut Vec<u32>,
        scratch: &mut Vec<u32>,
    ) -> Match {
        states.clear();
        states.push(0);
        let mut best = better(None, self.nodes[0].matched);
        for property in properties {
            scratch.clear();
            for &state in states.iter() {
                let node = &self.nodes[state as usize];
                let exhausted = node
                    .greatest_next
                    .as_deref()
                    .is_none_or(|g| cmp_utf16(property, g) != Ordering::Less);
                if !exhausted {
                    scratch.push(state);
                }
                if let Some(&next) = node.next.get(*property) {
                    scratch.push(next);
                    best = better(best, self.nodes[next as usize].matched);
                }
            }
            scratch.sort_unstable();
            scratch.dedup();
            std::mem::swap(states, scratch);
        }
        best
    }
}

//! DevTools' view of a node: its class (the Summary row it falls in), its display name, and the
//! shallow size DevTools shows for it.
//!
//! Every rule here reproduces a step of DevTools' `HeapSnapshot.ts` (heap_snapshot_worker), cited
//! by function name, so that heapdiff's Summary and Comparison rows match the Memory panel:
//! - [`dom_states`] follows `initDetachednessAndClassIndex` and `propagateDOMState`;
//! - [`shallow_sizes`] follows `JSHeapSnapshot.calculateShallowSizes`;
//! - [`infer_interface_definitions`] follows `inferInterfaceDefinitions`;
//! - [`classify`] follows `calculateObjectNames`, `applyInterfaceDefinitions`, `classKeyInternal`;
//! - [`display_name`] follows `JSHeapSnapshotNode.name()` (cons strings, `{a, b, …}` objects).
//!
//! DevTools compares and measures strings as UTF-16; [`cmp_utf16`] and [`utf16_len`] keep that
//! exact for names outside the BMP.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

use rayon::prelude::*;

use super::{EdgeKind, NodeKind, Snapshot};

/// `DOMLinkState` values of the `detachedness` node field.
pub const DOM_UNKNOWN: u8 = 0;
pub const DOM_ATTACHED: u8 = 1;
pub const DOM_DETACHED: u8 = 2;

/// `inferInterfaceDefinitions`: an interface name may outgrow this many UTF-16 units only with its
/// first property.
const MAX_INTERFACE_NAME_LENGTH: usize = 120;
/// `inferInterfaceDefinitions`: an interface must match at least this many objects …
const MIN_OBJECT_COUNT_PER_INTERFACE: f64 = 2.0;
/// … and at least one in this many plain objects.
const MIN_OBJECT_PROPORTION_PER_INTERFACE: f64 = 1000.0;
/// `#plainObjectName`: display names of plain objects stop growing at this many UTF-16 units.
const MAX_PLAIN_OBJECT_NAME_LENGTH: usize = 100;
/// `consStringName`: the flattened text of a cons string is cut once it reaches this length.
const MAX_CONS_STRING_NAME_LENGTH: usize = 1024;

const NO_CLASS: u32 = u32::MAX;

/// A small multiplicative hasher for keys made of string indexes (the default SipHash costs more
/// than the work it guards); the keys do not come from an adversary that could pick collisions
/// cheaply enough to matter beyond slowing one load.
#[derive(Clone, Copy, Default)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;

// ---------------------------------------------------------------------------------------------
// DOM state
// ---------------------------------------------------------------------------------------------

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
fn renamed_detached(snap: &Snapshot, dom: Option<&[u8]>, node: u32) -> bool {
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

// ---------------------------------------------------------------------------------------------
// Shallow sizes
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Interface definitions (plain-object class names)
// ---------------------------------------------------------------------------------------------

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
fn is_plain_object(snap: &Snapshot, node: u32) -> bool {
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
struct PropertyTree {
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
    fn new(definitions: &[InterfaceDefinition]) -> PropertyTree {
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
    fn best_match(
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

// ---------------------------------------------------------------------------------------------
// Classes
// ---------------------------------------------------------------------------------------------

/// Every node's class as DevTools' aggregates see it.
///
/// A class is one of DevTools' *internal* class keys (`classKeyInternal`): a class-name string
/// (by string-table identity, as DevTools compares class indexes), or, for `object` nodes with a
/// source location, `"scriptId,line,column,Name"`. Two classes can share a public key: e.g. an
/// `object` node whose raw name is `Function` and the closures' added `Function` string both
/// give `",Function"`; DevTools' aggregates then keep only the class whose first counted node
/// comes last (`getAggregatesByClassKey` overwrites), which [`crate::analysis::summary`] reproduces.
/// The class index of every node ordinal, stored in the narrowest unsigned integer that holds
/// every index so far: one byte per node for up to 255 classes, two for up to 65,535 (most
/// snapshots), four beyond.
#[derive(Clone, Debug)]
pub enum ClassOf {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

impl Default for ClassOf {
    fn default() -> ClassOf {
        ClassOf::U8(Vec::new())
    }
}

impl ClassOf {
    /// Room for `n` nodes, starting one byte wide.
    pub fn with_capacity(n: usize) -> ClassOf {
        ClassOf::U8(Vec::with_capacity(n))
    }

    /// The class index of `node`.
    #[inline]
    pub fn get(&self, node: usize) -> Option<u32> {
        match self {
            ClassOf::U8(v) => v.get(node).map(|&c| u32::from(c)),
            ClassOf::U16(v) => v.get(node).map(|&c| u32::from(c)),
            ClassOf::U32(v) => v.get(node).copied(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ClassOf::U8(v) => v.len(),
            ClassOf::U16(v) => v.len(),
            ClassOf::U32(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Class indexes in node order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len()).map(|node| self.get(node).unwrap_or(u32::MAX))
    }

    /// Appends the next node's class, widening the storage when `class` does not fit.
    pub fn push(&mut self, class: u32) {
        match self {
            ClassOf::U8(v) => match u8::try_from(class) {
                Ok(c) => v.push(c),
                Err(_) => {
                    *self = widen(v, u16::try_from(class).is_ok());
                    self.push(class);
                }
            },
            ClassOf::U16(v) => match u16::try_from(class) {
                Ok(c) => v.push(c),
                Err(_) => {
                    *self = widen(v, false);
                    self.push(class);
                }
            },
            ClassOf::U32(v) => v.push(class),
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            ClassOf::U8(v) => v.capacity(),
            ClassOf::U16(v) => v.capacity() * 2,
            ClassOf::U32(v) => v.capacity() * 4,
        }
    }
}

/// A copy of `v` (and room for as many entries as it had) in `u16`s when `to_u16`, else `u32`s.
fn widen<T: Copy + Into<u32>>(v: &mut Vec<T>, to_u16: bool) -> ClassOf {
    let old = std::mem::take(v);
    let capacity = old.capacity();
    if to_u16 {
        let mut wide = Vec::with_capacity(capacity);
        // Only u8 storage widens to u16, so every value fits.
        wide.extend(old.iter().map(|&c| c.into() as u16));
        ClassOf::U16(wide)
    } else {
        let mut wide = Vec::with_capacity(capacity);
        wide.extend(old.iter().map(|&c| c.into()));
        ClassOf::U32(wide)
    }
}

#[derive(Debug, Default)]
pub struct Classes {
    /// Per node ordinal, the class index.
    pub class_of: ClassOf,
    /// Per class, the class name (`Function`, `{a, b}`, `Detached <div>`, `Widget`, …).
    pub names: Vec<String>,
    /// Per class, DevTools' public class key: `",Name"` or `"scriptId,line,column,Name"`.
    pub keys: Vec<String>,
    /// Per node ordinal, the DOM state after propagation (empty when the file has none).
    pub dom_state: Vec<u8>,
    /// The interface definitions that named plain objects.
    pub definitions: Vec<InterfaceDefinition>,
}

impl Classes {
    pub fn class_count(&self) -> usize {
        self.names.len()
    }

    pub fn name_of(&self, node: u32) -> &str {
        self.class_of
            .get(node as usize)
            .and_then(|c| self.names.get(c as usize))
            .map_or("", String::as_str)
    }

    pub fn key_of(&self, node: u32) -> &str {
        self.class_of
            .get(node as usize)
            .and_then(|c| self.keys.get(c as usize))
            .map_or("", String::as_str)
    }

    /// The DOM states, when the file records any ([`display_name`]'s `dom`).
    pub fn dom(&self) -> Option<&[u8]> {
        (!self.dom_state.is_empty()).then_some(self.dom_state.as_slice())
    }
}

/// Where a class name comes from, mirroring which string index DevTools gives it.
#[derive(Clone, Copy)]
enum NameSource {
    /// The node's own name string (`object`/`native` nodes).
    Own(u32),
    /// The `Detached ` copy of a name string made by `propagateDOMState`.
    DetachedCopy(u32),
}

/// Interns class names with DevTools' identities: one class per string-table index for names
/// used as they are, one per text for the strings `calculateObjectNames` adds, one per
/// interface name.
struct Interner<'a> {
    snap: &'a Snapshot,
    names: Vec<String>,
    keys: Vec<String>,
    own: Vec<u32>,
    detached_copy: HashMap<u32, u32>,
    added: HashMap<String, u32>,
    by_type: [u32; 256],
    interfaces: HashMap<String, u32>,
    located: HashMap<(u32, u32, u32, u32), u32>,
    /// Per class, the first class with the same name text (location keys compare names as text).
    canonical: Vec<u32>,
    by_text: HashMap<String, u32>,
}

impl<'a> Interner<'a> {
    fn new(snap: &'a Snapshot) -> Interner<'a> {
        Interner {
            snap,
            names: Vec::new(),
            keys: Vec::new(),
            own: vec![NO_CLASS; snap.strings.len()],
            detached_copy: HashMap::new(),
            added: HashMap::new(),
            by_type: [NO_CLASS; 256],
            interfaces: HashMap::new(),
            located: HashMap::new(),
            canonical: Vec::new(),
            by_text: HashMap::new(),
        }
    }

    fn push(&mut self, name: String, key: String) -> u32 {
        let class = self.names.len() as u32;
        let canonical = *self.by_text.entry(name.clone()).or_insert(class);
        self.canonical.push(canonical);
        self.names.push(name);
        self.keys.push(key);
        class
    }

    fn named(&mut self, name: String) -> u32 {
        let key = format!(",{name}");
        self.push(name, key)
    }

    /// A string `calculateObjectNames` adds (`(system)`, `<div>`, …): one class per text.
    fn added(&mut self, name: &str) -> u32 {
        if let Some(&class) = self.added.get(name) {
            return class;
        }
        let class = self.named(name.to_owned());
        self.added.insert(name.to_owned(), class);
        class
    }

    /// `calculateObjectNames` for `object` and `native` nodes: `<tag attr…>` becomes `<tag>`,
    /// `Detached <tag attr…>` becomes `Detached <tag>`; other names are used as they are.
    fn object_class(&mut self, source: NameSource) -> u32 {
        let memo = match source {
            NameSource::Own(s) => self.own.get(s as usize).copied().unwrap_or(NO_CLASS),
            NameSource::DetachedCopy(s) => self.detached_copy.get(&s).copied().unwrap_or(NO_CLASS),
        };
        if memo != NO_CLASS {
            return memo;
        }
        let (raw, full): (u32, Cow<'_, str>) = match source {
            NameSource::Own(s) => (s, Cow::Borrowed(self.snap.strings.get(s))),
            NameSource::DetachedCopy(s) => (
                s,
                Cow::Owned(format!("Detached {}", self.snap.strings.get(s))),
            ),
        };
        let class = if full.starts_with('<') {
            match full.find(' ') {
                Some(space) => self.added(&format!("{}>", &full[..space])),
                None => self.added(&full),
            }
        } else if let Some(rest) = full.strip_prefix("Detached <") {
            match rest.find(' ') {
                Some(space) => self.added(&format!("Detached <{}>", &rest[..space])),
                None => self.added(&full),
            }
        } else {
            self.named(full.into_owned())
        };
        match source {
            NameSource::Own(_) => {
                if let Some(slot) = self.own.get_mut(raw as usize) {
                    *slot = class;
                }
            }
            NameSource::DetachedCopy(_) => {
                self.detached_copy.insert(raw, class);
            }
        }
        class
    }

    /// `calculateObjectNames` for the other node types.
    fn type_class(&mut self, raw_type: u8, kind: NodeKind) -> u32 {
        let slot = raw_type as usize;
        if self.by_type[slot] != NO_CLASS {
            return self.by_type[slot];
        }
        let class = match kind {
            NodeKind::Hidden => self.added("(system)"),
            NodeKind::Code => self.added("(compiled code)"),
            NodeKind::Closure => self.added("Function"),
            NodeKind::RegExp => self.added("RegExp"),
            _ => {
                let name = format!("({})", self.snap.meta.node_type_name(raw_type));
                self.added(&name)
            }
        };
        self.by_type[slot] = class;
        class
    }

    fn interface(&mut self, name: &str) -> u32 {
        if let Some(&class) = self.interfaces.get(name) {
            return class;
        }
        let class = self.named(name.to_owned());
        self.interfaces.insert(name.to_owned(), class);
        class
    }

    /// `classKeyInternal`: `object` nodes with a source location form one class per location.
    fn located(&mut self, base: u32, script_id: u32, line: u32, column: u32) -> u32 {
        let canonical = self.canonical[base as usize];
        if let Some(&class) = self.located.get(&(script_id, line, column, canonical)) {
            return class;
        }
        let name = self.names[base as usize].clone();
        let key = format!("{script_id},{line},{column},{name}");
        let class = self.push(name, key);
        self.located
            .insert((script_id, line, column, canonical), class);
        class
    }
}

/// Classifies every node as DevTools does for its Summary (`definitions: None`: infer the
/// definitions from this snapshot) or for the base of a Comparison (`Some(target's
/// definitions)`).
pub fn classify(snap: &Snapshot, definitions: Option<&[InterfaceDefinition]>) -> Classes {
    let dom = dom_states(snap);
    let definitions = match definitions {
        Some(d) => d.to_vec(),
        None => infer_interface_definitions(snap),
    };
    let n = snap.node_count() as u32;

    // Plain objects matched to a definition, found in parallel (the tree is read-only).
    let tree = PropertyTree::new(&definitions);
    let matches: ClassOf = if definitions.is_empty() {
        ClassOf::default()
    } else {
        // Objects with the same property-name sequence match alike: memoize per sequence.
        type Scratch<'s> = (
            Vec<u32>,
            Vec<&'s str>,
            Vec<u32>,
            Vec<u32>,
            FxMap<Box<[u32]>, u32>,
        );
        let matched = (0..n).into_par_iter().map_init(
            || -> Scratch<'_> { Default::default() },
            |(raw, properties, states, scratch, memo), node| {
                if !is_plain_object(snap, node) {
                    return NO_CLASS;
                }
                raw.clear();
                for edge in snap.edges(node) {
                    if snap.edge_kind(edge) == EdgeKind::Property {
                        raw.push(snap.edge_name_index(edge));
                    }
                }
                if let Some(&m) = memo.get(raw.as_slice()) {
                    return m;
                }
                properties.clear();
                properties.extend(raw.iter().map(|&p| snap.strings.get(p)));
                properties.sort_by(|a, b| cmp_utf16(a, b));
                let m = match tree.best_match(properties, states, scratch) {
                    Some((_, index)) => index,
                    None => NO_CLASS,
                };
                memo.insert(raw.as_slice().into(), m);
                m
            },
        );
        // Two bytes per node while the definition indexes fit (they do: an interface needs one
        // object in a thousand), so the matches do not cost more than the classes they give.
        if definitions.len() < usize::from(u16::MAX) {
            ClassOf::U16(
                matched
                    .map(|m| u16::try_from(m).unwrap_or(u16::MAX))
                    .collect(),
            )
        } else {
            ClassOf::U32(matched.collect())
        }
    };

    // What `matches` holds for "no definition".
    let no_match = match matches {
        ClassOf::U16(_) => u32::from(u16::MAX),
        _ => NO_CLASS,
    };
    let mut interner = Interner::new(snap);
    let mut class_of = ClassOf::with_capacity(n as usize);
    let mut locations = snap.locations.iter().peekable();
    for node in 0..n {
        let raw_type = snap.node_type[node as usize];
        let kind = snap.meta.node_kind(raw_type);
        let mut class = match kind {
            NodeKind::Object | NodeKind::Native => {
                let name = snap.node_name[node as usize];
                let matched = matches.get(node as usize).filter(|&m| m != no_match);
                match matched {
                    Some(m) => match definitions.get(m as usize) {
                        Some(d) => interner.interface(&d.name),
                        None => interner.object_class(NameSource::Own(name)),
                    },
                    _ if renamed_detached(snap, dom.as_deref(), node) => {
                        interner.object_class(NameSource::DetachedCopy(name))
                    }
                    _ => interner.object_class(NameSource::Own(name)),
                }
            }
            _ => interner.type_class(raw_type, kind),
        };
        // Locations are sorted by node; DevTools' location map keeps the last one per node.
        let mut location = None;
        while let Some(l) = locations.next_if(|l| l.node <= node) {
            if l.node == node {
                location = Some(l);
            }
        }
        if kind == NodeKind::Object
            && let Some(l) = location
        {
            class = interner.located(class, l.script_id, l.line, l.column);
        }
        class_of.push(class);
    }

    Classes {
        class_of,
        names: interner.names,
        keys: interner.keys,
        dom_state: dom.unwrap_or_default(),
        definitions,
    }
}

// ---------------------------------------------------------------------------------------------
// Display names
// ---------------------------------------------------------------------------------------------

/// The name DevTools shows for one node (`JSHeapSnapshotNode.name()`): cons strings are
/// flattened (up to about 1,024 UTF-16 units), plain objects read `{a, b, …, y, z}`, detached DOM
/// natives carry the `Detached ` prefix; everything else is the raw name. `dom` is
/// [`Classes::dom_state`] (or [`dom_states`]).
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
    // would never grow and the stack would grow without end. A real cons tree of at most
    // MAX_CONS_STRING_NAME_LENGTH units visits fewer nodes than this.
    let mut visits = 0usize;
    while len < MAX_CONS_STRING_NAME_LENGTH && visits < 8 * MAX_CONS_STRING_NAME_LENGTH {
        visits += 1;
        let Some(top) = stack.pop() else { break };
        // A cons string missing a half reads node 0 there, as DevTools does.
        let current = top.unwrap_or(0);
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

// ---------------------------------------------------------------------------------------------
// UTF-16 helpers
// ---------------------------------------------------------------------------------------------

/// Length in UTF-16 code units (JavaScript's `length`).
pub fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().map(char::len_utf16).sum()
    }
}

/// JavaScript's string order (UTF-16 code units), which differs from Rust's (code points) when
/// characters U+E000..U+FFFF meet characters above U+FFFF.
pub fn cmp_utf16(a: &str, b: &str) -> Ordering {
    // Order-preserving map of a code point onto its first UTF-16 unit's rank.
    fn rank(c: char) -> u32 {
        match c as u32 {
            x @ 0..=0xD7FF => x,
            x @ 0xE000..=0xFFFF => x + 0x10_0000,
            x => 0xD800 + (x - 0x1_0000),
        }
    }
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let common = ab.iter().zip(bb).take_while(|(x, y)| x == y).count();
    if common == ab.len() || common == bb.len() {
        return ab.len().cmp(&bb.len());
    }
    // Back up to the start of the differing characters.
    let mut start = common;
    while !a.is_char_boundary(start) {
        start -= 1;
    }
    match (a[start..].chars().next(), b[start..].chars().next()) {
        (Some(x), Some(y)) => rank(x).cmp(&rank(y)),
        _ => ab.len().cmp(&bb.len()),
    }
}

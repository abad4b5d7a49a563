//! Classes: `calculateObjectNames`, `applyInterfaceDefinitions` and `classKeyInternal` give every
//! node the Summary row it falls in ([`classify`]).

use std::borrow::Cow;
use std::collections::HashMap;

use rayon::prelude::*;

use super::FxMap;
use super::dom::{dom_states, renamed_detached};
use super::interface::{
    InterfaceDefinition, PropertyTree, infer_interface_definitions, is_plain_object,
};
use super::utf16::cmp_utf16;
use crate::snapshot::{EdgeKind, NodeKind, Snapshot};

const NO_CLASS: u32 = u32::MAX;

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

    /// Asks for `node`'s class ahead of a read ([`crate::mem::prefetch`]).
    #[inline]
    pub fn prefetch(&self, node: usize) {
        match self {
            ClassOf::U8(v) => crate::mem::prefetch(v, node),
            ClassOf::U16(v) => crate::mem::prefetch(v, node),
            ClassOf::U32(v) => crate::mem::prefetch(v, node),
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

    /// The DOM states, when the file records any ([`display_name`](super::display_name)'s `dom`).
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
    /// Per interface definition, its class (`NO_CLASS` until an object matches it): one look-up
    /// per plain object, no hashing of its name.
    interfaces: Vec<u32>,
    /// Per interface name, its class: definitions of one name share it.
    interface_names: HashMap<String, u32>,
    located: FxMap<(u32, u32, u32, u32), u32>,
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
            interfaces: Vec::new(),
            interface_names: HashMap::new(),
            located: FxMap::default(),
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

    /// The class of interface definition `index`, named `name`.
    fn interface(&mut self, index: usize, name: &str) -> u32 {
        if let Some(&class) = self.interfaces.get(index).filter(|&&c| c != NO_CLASS) {
            return class;
        }
        let class = match self.interface_names.get(name) {
            Some(&class) => class,
            None => {
                let class = self.named(name.to_owned());
                self.interface_names.insert(name.to_owned(), class);
                class
            }
        };
        if self.interfaces.len() <= index {
            self.interfaces.resize(index + 1, NO_CLASS);
        }
        self.interfaces[index] = class;
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
    let mut locations = snap.locations.by_node();
    for node in 0..n {
        let raw_type = snap.node_type[node as usize];
        let kind = snap.meta.node_kind(raw_type);
        let mut class = match kind {
            NodeKind::Object | NodeKind::Native => {
                let name = snap.node_name[node as usize];
                let matched = matches.get(node as usize).filter(|&m| m != no_match);
                match matched {
                    Some(m) => match definitions.get(m as usize) {
                        Some(d) => interner.interface(m as usize, &d.name),
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
        // The loader keeps one location per node.
        let location = locations.next().flatten();
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

//! One finding in words and numbers: its holder and how it grew, its path and expression, its
//! composition, its headline and sentence.

use super::sentence::{SentenceParts, sentence};
use super::{
    EntryFacts, EntryInfo, FOLDED, GroupPath, Holder, Inputs, LeakGroup, NO_SCRIPT, Part, Token,
    folded_name, internal_name, is_new, is_synthetic, token,
};
use crate::analysis::dominator_tree::DominatorTree;
use crate::diff::paths::{PathIndex, PathStep};
use crate::hash::FxMap;
use crate::loaded::Loaded;
use crate::snapshot::{EdgeKind, NodeKind, class};

/// One finding's pieces, for [`describe`].
pub(super) struct Finding<'a> {
    /// Its sub-groups (entry indexes) and their anchors.
    pub(super) subs: Vec<(&'a [u32], Option<u32>)>,
    pub(super) facts: &'a [EntryFacts],
    pub(super) parts: &'a FxMap<Token, (u64, u64)>,
    pub(super) likely: bool,
    pub(super) new_count: u64,
    pub(super) retained_size: u64,
}

pub(super) fn describe(inp: &Inputs, paths: &mut PathIndex, f: Finding) -> LeakGroup {
    let after = inp.after;
    let snap = &after.snapshot;
    let retained = &after.analysis.retained_size;
    // Entries are indexes into `f.facts` (as into `inp.headlines`); this is an entry's node.
    let node_of = |e: u32| f.facts[e as usize].node;
    let entries: Vec<u32> = f
        .subs
        .iter()
        .flat_map(|(s, _)| s.iter().map(|&e| node_of(e)))
        .collect();
    // The largest sub-group speaks for the finding.
    let sub_size = |s: &[u32]| -> u64 { s.iter().map(|&e| retained.of(node_of(e))).sum() };
    let (main, anchor) = f
        .subs
        .iter()
        .max_by(|a, b| sub_size(a.0).cmp(&sub_size(b.0)).then(b.0[0].cmp(&a.0[0])))
        .map(|&(s, a)| (s, a))
        .unwrap_or((&[], None));
    // The example is an entry.
    let example_entry = main
        .iter()
        .copied()
        .max_by(|&a, &b| {
            let (a, b) = (node_of(a), node_of(b));
            retained.of(a).cmp(&retained.of(b)).then(b.cmp(&a))
        })
        .or_else(|| f.subs.iter().flat_map(|(s, _)| s.iter()).next().copied());
    let example = example_entry.map_or(0, node_of);
    let first_fact = main.first().map(|&e| &f.facts[e as usize]);
    let single_holder = first_fact.and_then(|x| x.holder());
    let distinct_holders = {
        let mut hs: Vec<u32> = main
            .iter()
            .filter_map(|&e| f.facts[e as usize].holder())
            .collect();
        hs.sort_unstable();
        hs.dedup();
        hs.len() as u64
    };
    let many_holders = distinct_holders > 1;
    let holder_node = if many_holders { anchor } else { single_holder };
    let holder_node = holder_node.map(|h| lift_through_internals(inp, paths, h));

    let path_steps = holder_node.map_or_else(Vec::new, |h| {
        let shape = paths.shape(h);
        paths.steps(shape)
    });
    // The steps from the holder down to the example entry (`[].el` for an anchored finding,
    // the holder's own edge otherwise).
    let tail = holder_node.map_or_else(Vec::new, |h| steps_down(paths, example, h));
    let expression = with_tail(after, &holder_expression(&path_steps), &tail);

    let holder = holder_node.map(|h| {
        let edge = tail.first().copied().or(first_fact.and_then(|x| x.edge()));
        Holder {
            id: snap.node_id[h as usize],
            class_name: after.classes.name_of(h).to_string(),
            name: class::display_name(snap, after.classes.dom(), h).into_owned(),
            edge_type: edge.map_or(String::new(), |e| {
                snap.meta.edge_type_name(snap.edge_type(e)).to_string()
            }),
            // Indexes fold as in paths: the holder's edge to *its* entries, not to one of them.
            edge_name: edge.map_or(String::new(), |e| match folded_name(after, e) {
                FOLDED => "[]".to_string(),
                name => snap.strings.get(name).to_string(),
            }),
            // Filled from BEFORE by `fill_holder_growth`.
            edges_before: None,
            edges_after: u64::from(snap.edge_count_of(h)),
            retained_before: None,
            retained_after: retained.of(h),
        }
    });

    let entry = entry_info(after, example);
    let composition = composition(after, f.parts);
    let headline_node = example_entry
        .and_then(|e| {
            let i = inp.headlines.binary_search_by_key(&e, |h| h.0).ok()?;
            Some(inp.headlines[i].1)
        })
        .unwrap_or(example);
    let headline = after.classes.name_of(headline_node).to_string();
    // The entries of the main sub-group's kind, across the finding: a list's links or a timer
    // ring's two directions are sub-groups of one kind of entry.
    let kind = main.first().map(|&e| token(after, node_of(e)));
    let of_kind = f
        .subs
        .iter()
        .flat_map(|(s, _)| s.iter())
        .filter(|&&e| Some(token(after, node_of(e))) == kind)
        .count() as u64;
    let sentence = sentence(
        after,
        &SentenceParts {
            entries: of_kind,
            holders: distinct_holders,
            holder_class: single_holder
                .map(|h| after.classes.name_of(h).to_string())
                .filter(|c| !internal_name(c))
                .unwrap_or_default(),
            anchor_expression: &holder_expression(&path_steps),
            holder: holder_node.map(|h| {
                (
                    after.classes.name_of(h).to_string(),
                    snap.node_id[h as usize],
                )
            }),
            example,
            headline_node,
            expression: &expression,
            retained: f.retained_size,
            composition: &composition,
        },
    );
    LeakGroup {
        likely: f.likely,
        roots: entries.len() as u64,
        new_count: f.new_count,
        retained_size: f.retained_size,
        sentence,
        headline,
        expression,
        entry,
        holder,
        composition,
        path: GroupPath {
            count: entries.len() as u64,
            steps: path_steps,
        },
        example,
        holder_node,
        allocation_site: crate::analysis::allocation::most_common_site(
            snap,
            &after.scripts,
            &entries,
        ),
        entries,
    }
}

/// Internal intermediaries (a Map's table, an array's backing store) are not what the user
/// holds: the object above them on the shortest path is.
pub(super) fn lift_through_internals(inp: &Inputs, paths: &mut PathIndex, holder: u32) -> u32 {
    let after = inp.after;
    let snap = &after.snapshot;
    let mut h = holder;
    for _ in 0..4 {
        let plumbing = matches!(
            snap.node_kind(h),
            NodeKind::Hidden | NodeKind::Array | NodeKind::Code | NodeKind::ObjectShape
        );
        if !plumbing {
            break;
        }
        match paths.next_hop(h) {
            Some((_, up)) if !is_synthetic(after, up) && !is_new(inp, up) => h = up,
            _ => break,
        }
    }
    h
}

/// The edges of `node`'s shortest path below `holder`, from `holder` down (empty when the path
/// does not pass `holder` within a few steps).
pub(super) fn steps_down(paths: &mut PathIndex, node: u32, holder: u32) -> Vec<u32> {
    let mut edges = Vec::new();
    let mut x = node;
    for _ in 0..8 {
        let Some((edge, up)) = paths.next_hop(x) else {
            return Vec::new();
        };
        edges.push(edge);
        if up == holder {
            edges.reverse();
            return edges;
        }
        x = up;
    }
    Vec::new()
}

/// `bus._events.config`: the holder as code names it, from the last named steps of its path
/// (at most three, and none past a closure variable, which is where a module's names start).
pub(super) fn holder_expression(path: &[PathStep]) -> String {
    let named = |t: &str| matches!(t, "property" | "context" | "element" | "shortcut");
    let mut names: Vec<(bool, String)> = Vec::new(); // (is element, name)
    for step in path {
        if !named(&step.edge_type) || step.class_name.starts_with('(') {
            break;
        }
        names.push((step.edge_type == "element", step.edge_name.clone()));
        if names.len() >= 3 || step.edge_type == "context" {
            break;
        }
    }
    names.reverse();
    let mut out = String::new();
    for (element, name) in names {
        if element {
            out.push_str("[]");
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&name);
        }
    }
    out
}

/// The holder's expression and the steps down to the entries: `registry[].el`; a final element
/// step is dropped ("added to `config`", not "`config[]`"), internal steps are not code.
pub(super) fn with_tail(after: &Loaded, holder_expression: &str, tail: &[u32]) -> String {
    let snap = &after.snapshot;
    let mut out = holder_expression.to_string();
    let last = tail.len().saturating_sub(1);
    for (i, &e) in tail.iter().enumerate() {
        let kind = snap.edge_kind(e);
        match kind {
            EdgeKind::Element | EdgeKind::Hidden if i < last => out.push_str("[]"),
            EdgeKind::Property | EdgeKind::Context | EdgeKind::Shortcut => {
                let name = crate::analysis::paths::edge_display_name(snap, e);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&name);
            }
            _ => {}
        }
    }
    out
}

pub(super) fn entry_info(after: &Loaded, node: u32) -> EntryInfo {
    let snap = &after.snapshot;
    let class_name = after.classes.name_of(node).to_string();
    EntryInfo {
        name: if snap.node_kind(node) == NodeKind::Closure {
            snap.node_name(node).to_string()
        } else {
            class_name.clone()
        },
        class_key: after.classes.key_of(node).to_string(),
        location: after.scripts.location_of(snap, node),
        class_name,
    }
}

/// The new objects by class (closures by function), largest self size first.
pub(super) fn composition(after: &Loaded, parts: &FxMap<Token, (u64, u64)>) -> Vec<Part> {
    let snap = &after.snapshot;
    let mut out: Vec<(Token, Part)> = parts
        .iter()
        .map(|(&t, &(count, self_size))| {
            let part = match t {
                Token::Class(class) => {
                    let key = after
                        .classes
                        .keys
                        .get(class as usize)
                        .cloned()
                        .unwrap_or_default();
                    Part {
                        location: after.scripts.class_location(&after.snapshot, &key),
                        class_key: key,
                        name: after
                            .classes
                            .names
                            .get(class as usize)
                            .cloned()
                            .unwrap_or_default(),
                        count,
                        self_size,
                    }
                }
                Token::Function(name, script_id, line, column) => Part {
                    class_key: ",Function".to_string(),
                    name: {
                        let n = snap.strings.get(name);
                        if n.is_empty() { "(anonymous)" } else { n }.to_string()
                    },
                    count,
                    self_size,
                    location: (script_id != NO_SCRIPT).then(|| {
                        after.scripts.resolve(
                            snap,
                            crate::snapshot::Location {
                                node: 0,
                                script_id,
                                line,
                                column,
                            },
                        )
                    }),
                },
            };
            (t, part)
        })
        .collect();
    out.sort_by(|a, b| {
        b.1.self_size
            .cmp(&a.1.self_size)
            .then(b.1.count.cmp(&a.1.count))
            .then(a.0.cmp(&b.0))
    });
    out.into_iter().map(|(_, p)| p).collect()
}

/// Plumbing: what a leak passes through on the way to the objects it is about.
pub(super) fn plumbing(loaded: &Loaded, node: u32) -> bool {
    let snap = &loaded.snapshot;
    let name = loaded.classes.name_of(node);
    match snap.node_kind(node) {
        NodeKind::Closure
        | NodeKind::Hidden
        | NodeKind::Array
        | NodeKind::Code
        | NodeKind::ObjectShape
        | NodeKind::Synthetic => true,
        NodeKind::Native => !is_dom(name),
        _ => internal_name(name),
    }
}

/// JavaScript's own containers and wrappers: what a program stores things in, not what it is
/// about.
pub(super) fn is_generic(class_name: &str) -> bool {
    crate::diff::suspects::GENERIC.contains(&class_name)
}

pub(super) fn is_dom(class_name: &str) -> bool {
    let name = class_name.strip_prefix("Detached ").unwrap_or(class_name);
    name.starts_with('<') || name == "Text" || name == "Comment" || name.starts_with("HTML")
}

/// Down from `entry` through plumbing while one child keeps at least half the retained size.
pub(crate) fn headline(after: &Loaded, tree: &DominatorTree, entry: u32) -> u32 {
    let retained = &after.analysis.retained_size;
    let mut x = entry;
    for _ in 0..64 {
        if !plumbing(after, x) {
            break;
        }
        let Some(&child) = tree
            .children(x)
            .iter()
            .max_by(|&&a, &&b| retained.of(a).cmp(&retained.of(b)).then(b.cmp(&a)))
        else {
            break;
        };
        if retained.of(child) * 2 < retained.of(x) {
            break;
        }
        x = child;
    }
    x
}

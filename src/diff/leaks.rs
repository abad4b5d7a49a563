//! Leak groups: one finding per leak, in the words of the code.
//!
//! A leak is a graph of new objects that entered the heap through one place and stayed. The
//! Comparison says which classes grew; a leak group says *which code keeps which objects
//! alive*: "1,000 `onConfigChange` closures created at server.js:39:26 were added to
//! `bus._events.config` and never removed; they keep 2.4 MiB alive: 1,000 ChildContainer, …".
//!
//! # The rules
//! - **New** is DevTools' identity: an (id, class key) absent from BEFORE — a Comparison row's
//!   new objects (with FINAL, only those still alive there). Detached DOM nodes keep their ids
//!   and change class, so they are new here although their ids are old.
//! - **Entries** are the new objects no other new object dominates in AFTER's dominator tree
//!   (DevTools' dominators, whose rules keep Node's timer ring from making the GC root
//!   dominate every leaked `Timeout`). Every new object belongs to the entry above it, so a
//!   request's container, its services, its request object and its closures are one graph,
//!   and the bytes an entry retains are counted once.
//! - **Holder**: the entry's immediate dominator, an old object; when that is the root or a
//!   synthetic root (several old objects retain the entry), the nearest old, non-synthetic
//!   object on the entry's shortest retaining path.
//! - **Sub-groups**: entries whose holder retains them by the same edge (indexes folded to
//!   `[]`) and which are of the same class (closures: the same function, by name and location).
//!   When the holder is not a direct retainer, the closest retainer's class and edge stand in,
//!   so the links of a chain (a timer list's `_idleNext`) key alike.
//! - **Findings**: sub-groups whose holders share one *anchor* — the deepest object dominating
//!   at least half of their holders, not synthetic — are one finding: 300 detached cards held
//!   by 300 `Widget`s in one `registry` array are one leak.
//! - **Likely**: each class's net growth (new − deleted; closures per function) is handed to
//!   the findings that hold its new objects, most first, at most what each holds. A finding is
//!   likely when it receives at least [`LIKELY_MIN`] of some class that is not a V8, Node or
//!   Blink internal. Churn (as many deleted as new), objects Node renumbers in every snapshot,
//!   one-off lazy set-up and growth that belongs to another finding receive nothing.
//! - **Headline**: from the finding's largest entry, down through plumbing (internals,
//!   closures, contexts, non-DOM natives) while one child keeps at least half the retained
//!   size: the object the leak is about (`ChildContainer`), which the sentence names.

use crate::hash::FxMap;

use serde::{Deserialize, Serialize};

use super::ClassDiff;
use super::dominance::{NEW, Walk};
use super::paths::{PathIndex, PathStep};
use crate::analysis::dominator_tree::DominatorTree;
use crate::analysis::paths::shows_retaining_edge;
use crate::analysis::scripts::SourceLocation;
use crate::format;
use crate::loaded::Loaded;
use crate::snapshot::{EdgeKind, NodeKind, class};

/// A finding is likely when it receives at least this much net growth of one class.
pub const LIKELY_MIN: u64 = 20;
/// Findings kept besides the likely ones, largest first.
pub const OTHERS_KEPT: usize = 30;
/// Classes listed in a sentence after the headline.
const SENTENCE_CLASSES: usize = 3;

/// One leak: the new objects that entered the heap through one place.
#[derive(Clone, Debug, Serialize)]
pub struct LeakGroup {
    /// heapdiff's judgement that this is a leak (see the module documentation).
    pub likely: bool,
    /// Entries: new objects no other new object dominates.
    pub roots: u64,
    /// New objects in the group, entries included.
    pub new_count: u64,
    /// What the group keeps alive, counted once: the sum of its entries' retained sizes.
    pub retained_size: u64,
    /// The finding in one plain sentence.
    pub sentence: String,
    /// What the group is about: the headline's class (`ChildContainer`).
    pub headline: String,
    /// Where the group hangs, as code would name it (`bus._events.config`); empty if unknown.
    pub expression: String,
    /// The entries' kind (the largest sub-group's).
    pub entry: EntryInfo,
    /// The old object the entries hang off (the anchor for many holders); `None` when the
    /// entries hang off a GC root directly.
    pub holder: Option<Holder>,
    /// New objects by class (closures by function), largest self size first.
    pub composition: Vec<Part>,
    /// The holder's shortest path to a GC root, chains folded.
    pub path: GroupPath,
    /// The largest entry (after-snapshot ordinal).
    #[serde(skip)]
    pub example: u32,
    /// The holder (after-snapshot ordinal).
    #[serde(skip)]
    pub holder_node: Option<u32>,
    /// Every entry (after-snapshot ordinals), largest retained size first.
    #[serde(skip)]
    pub entries: Vec<u32>,
}

/// The kind of a group's entries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntryInfo {
    pub class_name: String,
    /// The function name for closures (`""` when anonymous), else the class name.
    pub name: String,
    pub class_key: String,
    pub location: Option<SourceLocation>,
}

/// The old object a group hangs off, and how it grew.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    pub id: u32,
    pub class_name: String,
    /// Display name; string contents are never used (a holder retains, so it is no string).
    pub name: String,
    /// The edge from the holder towards the entries.
    pub edge_type: String,
    pub edge_name: String,
    /// The holder's outgoing edges in BEFORE (`None` when BEFORE lacks the object) and AFTER:
    /// an array's elements, an object's properties.
    pub edges_before: Option<u64>,
    pub edges_after: u64,
    /// Its retained size in BEFORE (when BEFORE was analysed) and AFTER: a Map grows through a
    /// new table and a timer list through new neighbours, where edge counts stay flat.
    pub retained_before: Option<u64>,
    pub retained_after: u64,
}

/// New objects of one class (or one function, for closures) in a group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub class_key: String,
    pub name: String,
    pub count: u64,
    pub self_size: u64,
    pub location: Option<SourceLocation>,
}

/// A group's path to a GC root.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupPath {
    /// The entries this path leads to.
    pub count: u64,
    /// From the holder outwards.
    pub steps: Vec<PathStep>,
}

/// What the grouping reads.
pub(crate) struct Inputs<'a> {
    pub before: &'a Loaded,
    pub after: &'a Loaded,
    pub classes: &'a [ClassDiff],
    /// Each row's leak candidates (new objects).
    pub candidates: &'a [std::borrow::Cow<'a, [u32]>],
    /// Entries, members and flags ([`NEW`] on candidates) from the dominator walk over them.
    pub walk: &'a Walk,
    pub tree: &'a DominatorTree,
}

/// What a class or function is, for grouping and counting. Closures are told apart by their
/// function (name and location), everything else by its class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Token {
    Class(u32),
    /// Name string index and location.
    Function(u32, u32, u32, u32),
}

/// The script of a closure without a location.
const NO_SCRIPT: u32 = u32::MAX;

/// What entries are keyed by: (retainer, edge type, edge name or `FOLDED`, entry).
type SubKey = (Token, u8, u32, Token);
const FOLDED: u32 = u32::MAX;

/// What is kept of each entry (20 bytes; its 48-byte sub-group key is only looked up: an
/// out-of-memory snapshot can have a million entries).
struct EntryFacts {
    node: u32,
    holder: Option<u32>,
    /// The edge from the key retainer into the entry.
    edge: Option<u32>,
}

/// The leak groups, most likely first. `paths` memoises shortest paths (and is worth passing on
/// to the suspects' merge, which walks many of the same nodes).
pub(crate) fn find(inp: &Inputs, paths: &mut PathIndex) -> Vec<LeakGroup> {
    let after = inp.after;
    let walk = inp.walk;
    if walk.entries.is_empty() {
        return Vec::new();
    }
    // Sub-groups (as the entries come), then findings by anchor.
    let mut sub_of_key: FxMap<SubKey, usize> = FxMap::default();
    let mut subs: Vec<Vec<usize>> = Vec::new();
    let facts: Vec<EntryFacts> = walk
        .entries
        .iter()
        .enumerate()
        .map(|(i, &e)| {
            let (facts, key) = entry_facts(inp, paths, e);
            let next = subs.len();
            let s = *sub_of_key.entry(key).or_insert(next);
            if s == next {
                subs.push(Vec::new());
            }
            subs[s].push(i);
            facts
        })
        .collect();
    let anchors: Vec<Option<u32>> = subs.iter().map(|s| anchor(inp, &facts, s)).collect();
    let mut finding_of_anchor: FxMap<u32, usize> = FxMap::default();
    let mut findings: Vec<Vec<usize>> = Vec::new(); // sub-groups per finding
    for (s, a) in anchors.iter().enumerate() {
        let f = match a {
            Some(a) => {
                let next = findings.len();
                let f = *finding_of_anchor.entry(*a).or_insert(next);
                if f == next {
                    findings.push(Vec::new());
                }
                f
            }
            None => {
                findings.push(Vec::new());
                findings.len() - 1
            }
        };
        findings[f].push(s);
    }
    let mut finding_of_entry = vec![0u32; facts.len()];
    for (f, sub_list) in findings.iter().enumerate() {
        for &s in sub_list {
            for &e in &subs[s] {
                finding_of_entry[e] = f as u32;
            }
        }
    }

    // Composition per finding, and every candidate's token.
    let retained = &after.analysis.retained_size;
    let mut parts: Vec<FxMap<Token, (u64, u64)>> = vec![FxMap::default(); findings.len()];
    let mut new_count = vec![0u64; findings.len()];
    for &(node, entry) in &walk.members {
        let f = finding_of_entry[entry as usize] as usize;
        let slot = parts[f].entry(token(after, node)).or_insert((0, 0));
        slot.0 += 1;
        slot.1 += u64::from(after.shallow[node as usize]);
        new_count[f] += 1;
    }
    let retained_of: Vec<u64> = findings
        .iter()
        .map(|sub_list| {
            sub_list
                .iter()
                .flat_map(|&s| &subs[s])
                .map(|&e| retained.of(facts[e].node))
                .sum()
        })
        .collect();
    let likely = likely_findings(inp, &parts, &retained_of);

    // Most likely first, then by retained size; details for the ones kept.
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| {
        likely[b]
            .cmp(&likely[a])
            .then(retained_of[b].cmp(&retained_of[a]))
            .then(new_count[b].cmp(&new_count[a]))
            .then(
                facts[subs[findings[a][0]][0]]
                    .node
                    .cmp(&facts[subs[findings[b][0]][0]].node),
            )
    });
    let kept = likely.iter().filter(|&&l| l).count() + OTHERS_KEPT;
    order.truncate(kept);
    let mut groups: Vec<LeakGroup> = order
        .into_iter()
        .map(|f| {
            describe(
                inp,
                paths,
                Finding {
                    subs: findings[f]
                        .iter()
                        .map(|&s| (&subs[s][..], anchors[s]))
                        .collect(),
                    facts: &facts,
                    parts: &parts[f],
                    likely: likely[f],
                    new_count: new_count[f],
                    retained_size: retained_of[f],
                },
            )
        })
        .collect::<Vec<_>>();
    holder_growth(inp.before, &mut groups);
    for g in &mut groups {
        g.entries
            .sort_by_key(|&e| std::cmp::Reverse(retained.of(e)));
    }
    groups
}

fn is_synthetic(loaded: &Loaded, node: u32) -> bool {
    node == loaded.snapshot.root || loaded.snapshot.node_kind(node) == NodeKind::Synthetic
}

fn is_new(inp: &Inputs, node: u32) -> bool {
    inp.walk
        .flags
        .get(node as usize)
        .is_some_and(|&f| f & NEW != 0)
}

/// The holder and sub-group key of one entry.
fn entry_facts(inp: &Inputs, paths: &mut PathIndex, entry: u32) -> (EntryFacts, SubKey) {
    let after = inp.after;
    let snap = &after.snapshot;
    let analysis = &after.analysis;
    let idom = analysis
        .dominator
        .get(entry as usize)
        .copied()
        .unwrap_or(snap.root);
    let holder = if !is_synthetic(after, idom) && !is_new(inp, idom) {
        Some(idom)
    } else {
        // Several old objects retain the entry (their common dominator is a root): the one on
        // its shortest path stands for them.
        let mut node = entry;
        let mut found = None;
        for _ in 0..64 {
            let Some((_, source)) = paths.next_hop(node) else {
                break;
            };
            if !is_new(inp, source) && !is_synthetic(after, source) {
                found = Some(source);
                break;
            }
            node = source;
        }
        found
    };
    // The holder's own edge into the entry; else the closest retainer's.
    let direct = holder.and_then(|h| {
        analysis
            .retaining_edges(snap, entry)
            .filter(|&e| {
                analysis.edge_source(snap, e) == h
                    && shows_retaining_edge(snap, e, h)
                    && snap.edge_kind(e) != EdgeKind::Weak
            })
            .max()
            .map(|e| (e, h))
    });
    let step = direct.or_else(|| paths.next_hop(entry));
    let (retainer, edge_type, edge_name) = match step {
        Some((edge, source)) => (
            token(after, source),
            snap.edge_type(edge),
            folded_name(after, edge),
        ),
        None => (Token::Class(u32::MAX), u8::MAX, FOLDED),
    };
    let facts = EntryFacts {
        node: entry,
        holder,
        edge: step.map(|(e, _)| e),
    };
    (facts, (retainer, edge_type, edge_name, token(after, entry)))
}

/// An edge's name for grouping: indexes (element, hidden, numbered slots) fold to one.
fn folded_name(loaded: &Loaded, edge: u32) -> u32 {
    let snap = &loaded.snapshot;
    let raw = snap.edge_name_index(edge);
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if snap.edge_kind(edge).has_string_name() && !numeric(snap.strings.get(raw)) {
        raw
    } else {
        FOLDED
    }
}

fn token(loaded: &Loaded, node: u32) -> Token {
    let snap = &loaded.snapshot;
    if snap.node_kind(node) == NodeKind::Closure {
        let name = snap.node_name[node as usize];
        let (script, line, column) = snap
            .location(node)
            .map_or((NO_SCRIPT, 0, 0), |l| (l.script_id, l.line, l.column));
        Token::Function(name, script, line, column)
    } else {
        Token::Class(
            loaded
                .classes
                .class_of
                .get(node as usize)
                .unwrap_or(u32::MAX),
        )
    }
}

/// The deepest non-synthetic object dominating at least half of a sub-group's holders.
fn anchor(inp: &Inputs, facts: &[EntryFacts], sub: &[usize]) -> Option<u32> {
    let after = inp.after;
    let dominator = &after.analysis.dominator;
    let mut weight: FxMap<u32, u64> = FxMap::default();
    for &e in sub {
        if let Some(h) = facts[e].holder {
            *weight.entry(h).or_insert(0) += 1;
        }
    }
    if weight.len() <= 1 {
        return weight.into_keys().next();
    }
    // The heaviest holders (a bounded sample keeps pathological fan-outs cheap); chains are
    // climbed at most `MAX_CLIMB` steps.
    const MAX_HOLDERS: usize = 4096;
    const MAX_CLIMB: usize = 10_000;
    let mut holders: Vec<(u32, u64)> = weight.into_iter().collect();
    holders.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    holders.truncate(MAX_HOLDERS);
    let total: u64 = holders.iter().map(|h| h.1).sum();
    let root = after.snapshot.root;
    let climb = |from: u32, visit: &mut dyn FnMut(u32) -> bool| {
        let mut x = from;
        for _ in 0..MAX_CLIMB {
            if visit(x) || x == root {
                break;
            }
            let d = dominator.get(x as usize).copied().unwrap_or(root);
            if d == x {
                break;
            }
            x = d;
        }
    };
    let mut covered: FxMap<u32, u64> = FxMap::default();
    for &(h, w) in &holders {
        climb(h, &mut |x| {
            *covered.entry(x).or_insert(0) += w;
            false
        });
    }
    let half = total.div_ceil(2);
    let mut best: Option<(u64, u32)> = None;
    for &(h, _) in &holders {
        climb(h, &mut |x| {
            let c = covered.get(&x).copied().unwrap_or(0);
            if c >= half {
                if best.is_none_or(|(bc, _)| c < bc) {
                    best = Some((c, x));
                }
                return true;
            }
            false
        });
    }
    best.map(|(_, a)| a).filter(|&a| !is_synthetic(after, a))
}

/// Whether a class name is a V8, Node or Blink internal, which never makes a leak likely.
fn internal_name(name: &str) -> bool {
    let name = name.strip_prefix("Detached ").unwrap_or(name);
    name.starts_with('(')
        || name.starts_with("system /")
        || name.starts_with("Node /")
        || name.contains("::")
}

/// A function's identity across snapshots: (name, script id, line, column).
type FunctionKey = (String, u32, u32, u32);

fn function_key(loaded: &Loaded, node: u32) -> FunctionKey {
    let snap = &loaded.snapshot;
    let l = snap.location(node).unwrap_or_default();
    (
        snap.node_name(node).to_string(),
        l.script_id,
        l.line,
        l.column,
    )
}

/// Hands every class's net growth to the findings holding its new objects (see the module
/// documentation) and says which findings are likely.
fn likely_findings(
    inp: &Inputs,
    parts: &[FxMap<Token, (u64, u64)>],
    retained_of: &[u64],
) -> Vec<bool> {
    let after = inp.after;
    let snap = &after.snapshot;
    // Net growth per class (a row: its candidates minus its deleted objects) …
    let candidates_of_row: Vec<u64> = inp.candidates.iter().map(|c| c.len() as u64).collect();
    // … and per function, from the closures new in AFTER and those deleted from BEFORE.
    let mut function_growth: FxMap<FunctionKey, i64> = FxMap::default();
    for &(node, _) in &inp.walk.members {
        if snap.node_kind(node) == NodeKind::Closure {
            *function_growth
                .entry(function_key(after, node))
                .or_insert(0) += 1;
        }
    }
    let before = inp.before;
    for row in inp.classes {
        for &node in &row.deleted {
            if (node as usize) < before.snapshot.node_count()
                && before.snapshot.node_kind(node) == NodeKind::Closure
            {
                *function_growth
                    .entry(function_key(before, node))
                    .or_insert(0) -= 1;
            }
        }
    }
    let mut row_of_class: FxMap<u32, usize> = FxMap::default();
    for (row, c) in inp.classes.iter().enumerate() {
        if let Some(class) = c.after_class {
            row_of_class.insert(class, row);
        }
    }
    let growth = |t: Token, example_fn: Option<&FunctionKey>| -> i64 {
        match t {
            Token::Class(class) => row_of_class.get(&class).map_or(0, |&row| {
                candidates_of_row[row] as i64 - inp.classes[row].removed_count as i64
            }),
            Token::Function(..) => example_fn
                .and_then(|k| function_growth.get(k))
                .copied()
                .unwrap_or(0),
        }
    };
    // Function tokens → their cross-snapshot keys and whether they are Node's own code.
    let mut function_of: FxMap<Token, (FunctionKey, bool)> = FxMap::default();
    for &(node, _) in &inp.walk.members {
        let t = token(after, node);
        if let Token::Function(_, script, ..) = t {
            function_of.entry(t).or_insert_with(|| {
                let internal = after.scripts.name(snap, script).starts_with("node:");
                (function_key(after, node), internal)
            });
        }
    }
    let mut holders_of: FxMap<Token, Vec<(usize, u64)>> = FxMap::default();
    for (f, p) in parts.iter().enumerate() {
        for (&t, &(count, _)) in p {
            holders_of.entry(t).or_default().push((f, count));
        }
    }
    let mut likely = vec![false; parts.len()];
    for (t, mut holders) in holders_of {
        let (key, internal) = match t {
            Token::Class(class) => (
                None,
                internal_name(
                    after
                        .classes
                        .names
                        .get(class as usize)
                        .map_or("", String::as_str),
                ),
            ),
            Token::Function(..) => match function_of.get(&t) {
                Some((k, internal)) => (Some(k), *internal),
                None => (None, true),
            },
        };
        if internal {
            continue;
        }
        let mut remaining = growth(t, key).max(0) as u64;
        if remaining < LIKELY_MIN {
            continue;
        }
        holders.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then(retained_of[b.0].cmp(&retained_of[a.0]))
                .then(a.0.cmp(&b.0))
        });
        for (f, count) in holders {
            let given = count.min(remaining);
            if given >= LIKELY_MIN {
                likely[f] = true;
            }
            remaining -= given;
            if remaining < LIKELY_MIN {
                break;
            }
        }
    }
    likely
}

/// Fills each holder's edge count and retained size in BEFORE, found by V8 id in one pass.
fn holder_growth(before: &Loaded, groups: &mut [LeakGroup]) {
    let mut wanted: FxMap<u32, u32> = groups
        .iter()
        .filter_map(|g| g.holder.as_ref().map(|h| (h.id, u32::MAX)))
        .collect();
    if wanted.is_empty() {
        return;
    }
    for (ordinal, id) in before.snapshot.node_id.iter().enumerate() {
        if let Some(slot) = wanted.get_mut(id)
            && *slot == u32::MAX
        {
            *slot = ordinal as u32;
        }
    }
    let analysed = !before.analysis.retained_size.is_empty();
    for h in groups.iter_mut().filter_map(|g| g.holder.as_mut()) {
        let Some(&ordinal) = wanted.get(&h.id).filter(|&&o| o != u32::MAX) else {
            continue;
        };
        h.edges_before = Some(u64::from(before.snapshot.edge_count_of(ordinal)));
        if analysed {
            h.retained_before = Some(before.analysis.retained(ordinal));
        }
    }
}

/// One finding's pieces, for [`describe`].
struct Finding<'a> {
    /// Its sub-groups (entry indexes) and their anchors.
    subs: Vec<(&'a [usize], Option<u32>)>,
    facts: &'a [EntryFacts],
    parts: &'a FxMap<Token, (u64, u64)>,
    likely: bool,
    new_count: u64,
    retained_size: u64,
}

fn describe(inp: &Inputs, paths: &mut PathIndex, f: Finding) -> LeakGroup {
    let after = inp.after;
    let snap = &after.snapshot;
    let retained = &after.analysis.retained_size;
    let entries: Vec<u32> = f
        .subs
        .iter()
        .flat_map(|(s, _)| s.iter().map(|&e| f.facts[e].node))
        .collect();
    // The largest sub-group speaks for the finding.
    let sub_size = |s: &[usize]| -> u64 { s.iter().map(|&e| retained.of(f.facts[e].node)).sum() };
    let (main, anchor) = f
        .subs
        .iter()
        .max_by(|a, b| sub_size(a.0).cmp(&sub_size(b.0)).then(b.0[0].cmp(&a.0[0])))
        .map(|&(s, a)| (s, a))
        .unwrap_or((&[], None));
    let example = main
        .iter()
        .map(|&e| f.facts[e].node)
        .max_by(|&a, &b| retained.of(a).cmp(&retained.of(b)).then(b.cmp(&a)))
        .unwrap_or_else(|| entries.first().copied().unwrap_or(0));
    let first_fact = main.first().map(|&e| &f.facts[e]);
    let single_holder = first_fact.and_then(|x| x.holder);
    let distinct_holders = {
        let mut hs: Vec<u32> = main.iter().filter_map(|&e| f.facts[e].holder).collect();
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
        let edge = tail.first().copied().or(first_fact.and_then(|x| x.edge));
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
            // Filled from BEFORE by `holder_growth`.
            edges_before: None,
            edges_after: u64::from(snap.edge_count_of(h)),
            retained_before: None,
            retained_after: retained.of(h),
        }
    });

    let entry = entry_info(after, example);
    let composition = composition(after, f.parts);
    let headline_node = headline(inp, example);
    let headline = after.classes.name_of(headline_node).to_string();
    let sentence = sentence(
        after,
        &SentenceParts {
            entries: main.len() as u64,
            holders: distinct_holders,
            holder_class: single_holder
                .map(|h| after.classes.name_of(h).to_string())
                .filter(|c| !internal_name(c))
                .unwrap_or_default(),
            anchor_expression: &holder_expression(&path_steps),
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
        entries,
    }
}

/// Internal intermediaries (a Map's table, an array's backing store) are not what the user
/// holds: the object above them on the shortest path is.
fn lift_through_internals(inp: &Inputs, paths: &mut PathIndex, holder: u32) -> u32 {
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
fn steps_down(paths: &mut PathIndex, node: u32, holder: u32) -> Vec<u32> {
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
fn holder_expression(path: &[PathStep]) -> String {
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
fn with_tail(after: &Loaded, holder_expression: &str, tail: &[u32]) -> String {
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

fn entry_info(after: &Loaded, node: u32) -> EntryInfo {
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
fn composition(after: &Loaded, parts: &FxMap<Token, (u64, u64)>) -> Vec<Part> {
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
                        location: class_location(after, &key),
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

/// A class key's location (`"scriptId,line,column,Name"`), resolved.
pub fn class_location(loaded: &Loaded, class_key: &str) -> Option<SourceLocation> {
    let mut fields = class_key.splitn(4, ',');
    let (script, line, column) = (fields.next()?, fields.next()?, fields.next()?);
    fields.next()?;
    let location = crate::snapshot::Location {
        node: 0,
        script_id: script.parse().ok()?,
        line: line.parse().ok()?,
        column: column.parse().ok()?,
    };
    Some(loaded.scripts.resolve(&loaded.snapshot, location))
}

/// Plumbing: what a leak passes through on the way to the objects it is about.
fn plumbing(loaded: &Loaded, node: u32) -> bool {
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
fn is_generic(class_name: &str) -> bool {
    super::suspects::GENERIC.contains(&class_name)
}

fn is_dom(class_name: &str) -> bool {
    let name = class_name.strip_prefix("Detached ").unwrap_or(class_name);
    name.starts_with('<') || name == "Text" || name == "Comment" || name.starts_with("HTML")
}

/// Down from `entry` through plumbing while one child keeps at least half the retained size.
fn headline(inp: &Inputs, entry: u32) -> u32 {
    let after = inp.after;
    let retained = &after.analysis.retained_size;
    let mut x = entry;
    for _ in 0..64 {
        if !plumbing(after, x) {
            break;
        }
        let Some(&child) = inp
            .tree
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

struct SentenceParts<'a> {
    entries: u64,
    /// Distinct holders of the entries, their class, and the anchor above them as code names it.
    holders: u64,
    holder_class: String,
    anchor_expression: &'a str,
    example: u32,
    headline_node: u32,
    expression: &'a str,
    retained: u64,
    composition: &'a [Part],
}

/// The finding in one sentence: what, where, how much, made of what.
fn sentence(after: &Loaded, p: &SentenceParts) -> String {
    let snap = &after.snapshot;
    let count = |n: u64| format::thousands(n);
    let example_class = after.classes.name_of(p.example);
    let detached = example_class.starts_with("Detached ");
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
    let place = if p.expression.is_empty() {
        String::new()
    } else {
        format!("`{}`", code(p.expression))
    };
    let verb = match (detached, place.is_empty()) {
        (true, false) => {
            format!("{were} removed from the document but {are} still held by {place}")
        }
        (true, true) => format!("{were} removed from the document but {are} still referenced"),
        (false, false) => format!("{were} added to {place} and never removed"),
        (false, true) => format!("{are} held by a GC root"),
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
fn code(s: &str) -> String {
    format::one_line(s).replace('`', "'")
}

/// `1,000 ChildContainer, 2,000 Provider, 1,000 IncomingMessage, …`: what a group is made of,
/// in the words of the program.
fn made_of(after: &Loaded, p: &SentenceParts) -> String {
    // The headline class first, then the application's classes by count.
    let headline = after.classes.name_of(p.headline_node);
    let mut listed: Vec<&Part> = Vec::new();
    if let Some(h) = p
        .composition
        .iter()
        .find(|c| c.name == headline && c.class_key != ",Function")
        && !internal_name(&h.name)
    {
        listed.push(h);
    }
    let mut others: Vec<&Part> = p
        .composition
        .iter()
        .filter(|c| {
            c.class_key != ",Function"
                && !internal_name(&c.name)
                && !listed.iter().any(|l| l.class_key == c.class_key)
        })
        .collect();
    // The program's own classes first (located in its scripts), then the runtime's located
    // classes, then shapes and DOM objects, then generic containers; larger ones first.
    let rank = |c: &Part| -> u8 {
        match &c.location {
            Some(l) if !l.script.is_empty() && !l.script.starts_with("node:") => 0,
            Some(_) => 1,
            None if is_generic(&c.name) => 3,
            None => 2,
        }
    };
    others.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(b.self_size.cmp(&a.self_size))
            .then(b.count.cmp(&a.count))
    });
    let more = others.len() > SENTENCE_CLASSES;
    listed.extend(others.into_iter().take(SENTENCE_CLASSES));
    let mut made_of = listed
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                format::thousands(c.count),
                format::one_line(&c.name)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    if more {
        made_of.push_str(", …");
    }
    made_of
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_names() {
        for name in [
            "(compiled code)",
            "system / Context",
            "Node / ContextifyScript",
            "Detached blink::NodeRareData",
            "Detached Node / BindingData",
        ] {
            assert!(internal_name(name), "{name}");
        }
        for name in [
            "ChildContainer",
            "Detached <div>",
            "Function",
            "{url, method}",
        ] {
            assert!(!internal_name(name), "{name}");
        }
    }
}

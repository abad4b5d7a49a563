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

mod describe;
mod entries;
mod likely;
mod sentence;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub(crate) use describe::headline;
use describe::{Finding, describe};
use entries::{anchor, entry_facts};
use likely::likely_findings;

use super::ClassDiff;
use super::dominance::{Members, NEW};
use super::paths::{PathIndex, PathStep};
use crate::analysis::scripts::SourceLocation;
use crate::loaded::Loaded;
use crate::snapshot::NodeKind;

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
    /// Where most entries were allocated (snapshots with allocation traces).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocation_site: Option<crate::analysis::allocation::AllocationSite>,
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
    pub candidates: &'a [&'a [u32]],
    /// Flags ([`NEW`] on candidates) from the dominator walk over them.
    pub flags: &'a [u8],
    /// The entries and their members (from the same walk).
    pub members: &'a Members,
    /// (entry index in `members.entries`, its [`headline`]) for the entries whose headline is not
    /// the entry itself, ascending.
    pub headlines: &'a [(u32, u32)],
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

/// What is kept of each entry (12 bytes; its 48-byte sub-group key is only looked up: an
/// out-of-memory snapshot can have a million entries).
struct EntryFacts {
    node: u32,
    /// The old object holding the entry, or `NONE`.
    holder: u32,
    /// The edge from the key retainer into the entry, or `NONE`.
    edge: u32,
}

/// No holder, no edge.
const NONE: u32 = u32::MAX;

impl EntryFacts {
    fn holder(&self) -> Option<u32> {
        (self.holder != NONE).then_some(self.holder)
    }

    fn edge(&self) -> Option<u32> {
        (self.edge != NONE).then_some(self.edge)
    }
}

/// The leak groups, most likely first.
pub(crate) fn find(inp: &Inputs) -> Vec<LeakGroup> {
    let after = inp.after;
    // Shortest paths, memoised: the holders', and the entries' next hops.
    let paths = &mut PathIndex::new(after);
    let entries = &inp.members.entries;
    if entries.is_empty() {
        return Vec::new();
    }
    // Sub-groups (as the entries come), then findings by anchor.
    let mut sub_of_key: FxMap<SubKey, usize> = FxMap::default();
    // Entry indexes as u32: four bytes an entry less, and a million entries is no rare count.
    let mut subs: Vec<Vec<u32>> = Vec::new();
    // The entries' facts on all cores, a slice at a time (a key is 48 bytes; an out-of-memory
    // snapshot can have a million entries), sub-grouped in entry order.
    let mut facts: Vec<EntryFacts> = Vec::with_capacity(entries.len());
    let shared: &PathIndex = paths;
    for slice in entries.chunks(1 << 14) {
        let keyed: Vec<(EntryFacts, SubKey)> = slice
            .par_iter()
            .with_min_len(256)
            .map(|&e| entry_facts(inp, shared, e))
            .collect();
        for (entry_facts, key) in keyed {
            let i = facts.len();
            let next = subs.len();
            let s = *sub_of_key.entry(key).or_insert(next);
            if s == next {
                subs.push(Vec::new());
            }
            subs[s].push(i as u32);
            facts.push(entry_facts);
        }
    }
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
                finding_of_entry[e as usize] = f as u32;
            }
        }
    }

    // Composition per finding, and every candidate's token.
    let retained = &after.analysis.retained_size;
    let mut parts: Vec<FxMap<Token, (u64, u64)>> = vec![FxMap::default(); findings.len()];
    let mut new_count = vec![0u64; findings.len()];
    for (node, entry) in inp.members.iter(inp.flags) {
        let f = finding_of_entry[entry as usize] as usize;
        let slot = parts[f].entry(token(after, node)).or_insert((0, 0));
        slot.0 += 1;
        slot.1 += u64::from(after.shallow[node as usize]);
        new_count[f] += 1;
    }
    drop(finding_of_entry);
    let retained_of: Vec<u64> = findings
        .iter()
        .map(|sub_list| {
            sub_list
                .iter()
                .flat_map(|&s| &subs[s])
                .map(|&e| retained.of(facts[e as usize].node))
                .sum()
        })
        .collect();
    // A group no old object holds (its entries hang off GC roots directly: the stack, handle
    // scopes) is work in flight or a runtime's own set-up, not something the program keeps.
    let held: Vec<bool> = findings
        .iter()
        .map(|sub_list| {
            sub_list
                .iter()
                .flat_map(|&s| &subs[s])
                .any(|&e| facts[e as usize].holder().is_some())
        })
        .collect();
    let mut likely: Vec<bool> = likely_findings(inp, &parts, &retained_of)
        .into_iter()
        .zip(&held)
        .map(|(likely, &held)| likely && held)
        .collect();
    // A program's own container that gained many elements holding the entries is a leak even
    // when what it holds are strings or numbers (a log that keeps every line).
    for f in grown_holders(inp, &findings, &subs, &facts) {
        likely[f] = true;
    }

    // Most likely first, then by retained size; details for the ones kept.
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| {
        likely[b]
            .cmp(&likely[a])
            .then(retained_of[b].cmp(&retained_of[a]))
            .then(new_count[b].cmp(&new_count[a]))
            .then(
                facts[subs[findings[a][0]][0] as usize]
                    .node
                    .cmp(&facts[subs[findings[b][0]][0] as usize].node),
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
    fill_holder_growth(
        inp.before,
        groups.iter_mut().filter_map(|g| g.holder.as_mut()),
    );
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
    inp.flags.get(node as usize).is_some_and(|&f| f & NEW != 0)
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

/// Whether a class name is a V8, Node or Blink internal, which never makes a leak likely.
fn internal_name(name: &str) -> bool {
    /// Embedders name their own native objects `<embedder> / <class>` (Node's `Node / …`,
    /// workerd's `workerd / …`), V8 its hidden ones `system / …`.
    const EMBEDDERS: [&str; 5] = ["system /", "Node /", "workerd /", "Deno /", "Bun /"];
    let name = name.strip_prefix("Detached ").unwrap_or(name);
    name.starts_with('(') || EMBEDDERS.iter().any(|e| name.starts_with(e)) || name.contains("::")
}

/// The findings whose largest sub-group hangs off one holder of a program's class that gained
/// at least [`LIKELY_MIN`] edges since BEFORE, with at least as many entries.
fn grown_holders(
    inp: &Inputs,
    findings: &[Vec<usize>],
    subs: &[Vec<u32>],
    facts: &[EntryFacts],
) -> Vec<usize> {
    let after = inp.after;
    let snap = &after.snapshot;
    // (finding, holder) for the candidates: a single holder, of a class that is no internal.
    let mut candidates: Vec<(usize, u32)> = Vec::new();
    for (f, sub_list) in findings.iter().enumerate() {
        let Some(main) = sub_list.iter().map(|&s| &subs[s]).max_by_key(|s| s.len()) else {
            continue;
        };
        if (main.len() as u64) < LIKELY_MIN {
            continue;
        }
        let Some(holder) = facts[main[0] as usize].holder() else {
            continue;
        };
        let single = main
            .iter()
            .all(|&e| facts[e as usize].holder() == Some(holder));
        let plain = !matches!(
            snap.node_kind(holder),
            NodeKind::Hidden | NodeKind::Array | NodeKind::Code | NodeKind::ObjectShape
        );
        if single && plain && !internal_name(after.classes.name_of(holder)) {
            candidates.push((f, holder));
        }
    }
    if candidates.is_empty() {
        return Vec::new();
    }
    let wanted: FxMap<u32, u32> = candidates
        .iter()
        .map(|&(_, h)| (snap.node_id[h as usize], h))
        .collect();
    let mut edges_before: FxMap<u32, u32> = FxMap::default();
    let before = &inp.before.snapshot;
    for (ordinal, id) in before.node_id.iter().enumerate() {
        if let Some(&h) = wanted.get(id) {
            edges_before
                .entry(h)
                .or_insert_with(|| before.edge_count_of(ordinal as u32));
        }
    }
    candidates
        .into_iter()
        .filter(|&(_, h)| {
            let old = edges_before.get(&h).copied().unwrap_or(0);
            u64::from(snap.edge_count_of(h).saturating_sub(old)) >= LIKELY_MIN
        })
        .map(|(f, _)| f)
        .collect()
}

/// Fills each holder's edge count and retained size in BEFORE, found by V8 id in one pass.
/// `heapdiff diff` compares against BEFORE unanalysed, so only the edge counts are known then;
/// the window analyses BEFORE afterwards and calls this again for the retained sizes.
pub fn fill_holder_growth<'a>(before: &Loaded, holders: impl IntoIterator<Item = &'a mut Holder>) {
    let mut holders: Vec<&mut Holder> = holders.into_iter().collect();
    let mut wanted: FxMap<u32, u32> = holders.iter().map(|h| (h.id, u32::MAX)).collect();
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
    for h in holders.iter_mut() {
        let Some(&ordinal) = wanted.get(&h.id).filter(|&&o| o != u32::MAX) else {
            continue;
        };
        h.edges_before = Some(u64::from(before.snapshot.edge_count_of(ordinal)));
        if analysed {
            h.retained_before = Some(before.analysis.retained(ordinal));
        }
    }
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
            "workerd / HeapTracer",
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

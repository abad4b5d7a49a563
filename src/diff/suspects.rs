//! Leak suspects: which new objects look leaked, ranked, each with its merged retainer paths.
//!
//! # The rule
//!
//! A leak is memory the program keeps by mistake: objects created between the two snapshots
//! (or DOM nodes that became detached, which DevTools counts as new `Detached …` objects) that
//! survived garbage collection (and, given a third snapshot, are still alive in it) because a
//! long-lived owner still references them. Noise is everything else that changes between two
//! snapshots: V8's own bookkeeping (compiled code, maps/shapes, feedback, system objects),
//! objects in flight, and churn (a population replaced by a similar number of new objects).
//!
//! For each Comparison row, over its *candidates* (new objects, or with FINAL those still
//! alive there):
//! 1. **Never a suspect**: rows of V8 internals that do not leak on their own — code, object
//!    shapes, hidden `system / …` and `(…)` objects, synthetic roots ([`Tier::Internal`] minus
//!    strings, numbers, big ints, symbols and internal arrays, which a program can hoard).
//! 2. **Churn is not a leak**: when the row also lost between half and twice as many objects as
//!    it gained, the new ones most likely replace the old ones.
//! 3. **Big enough to matter**: at least [`MIN_COUNT`] candidates, or at least 2 that keep
//!    [`MIN_SHARE`] of the after heap alive.
//! 4. **Ranking**: *owner roots* first. A candidate is an owner root when no new object of
//!    another row of the same or a more application-like [`Tier`] dominates it: the leaked
//!    `IncomingMessage` that only a leaked `ChildContainer` keeps alive is part of the
//!    container's leak, while a `ChildContainer` kept by a new closure (a generic `Function`) is
//!    still the thing to look at. Rows are grouped, in order: application rows whose candidates
//!    are mostly owner roots, generic rows (`Array`, `Map`, closures, …) mostly owner roots,
//!    dominated application rows, dominated generic rows, internal rows; within a group, rows
//!    whose candidates concentrate on few retainer paths (a single owner holding many of them)
//!    first, then by retained size of the candidates (counted once, see
//!    [`super::ClassDiff::added_retained_size`]), then by count.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use super::ClassDiff;
use super::dominance::{OWNER_ROOT, TOP_OF_CLASS};
use super::paths::{MergedPath, PathIndex};
use crate::loaded::Loaded;
use crate::snapshot::NodeKind;

/// How application-like a class is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// V8 and embedder internals: code, shapes, hidden/system objects, synthetic roots,
    /// strings, numbers, internal arrays.
    Internal,
    /// Generic JavaScript containers and closures: `Object`, `Array`, `Map`, `Function`, …
    Generic,
    /// Everything a program defines or a page builds: constructors, plain-object shapes,
    /// typed arrays, DOM and other embedder objects.
    Application,
}

impl Tier {
    pub fn rank(self) -> u8 {
        self as u8
    }
}

pub(crate) const GENERIC: &[&str] = &[
    "Object",
    "Array",
    "Function",
    "Map",
    "Set",
    "WeakMap",
    "WeakSet",
    "WeakRef",
    "Promise",
    "ArrayBuffer",
    "SharedArrayBuffer",
    "DataView",
    "Arguments",
    "Error",
    "Symbol",
    "Boolean",
    "Number",
    "String",
    "Date",
    "RegExp",
    "FinalizationRegistry",
];

/// The tier of a row, from the kind and name of its new (or, failing that, deleted) objects.
pub fn tier(after: &Loaded, row: &ClassDiff) -> Tier {
    let Some(&node) = row.added.first() else {
        return Tier::Internal;
    };
    let snap = &after.snapshot;
    let name = row.name.strip_prefix("Detached ").unwrap_or(&row.name);
    match snap.node_kind(node) {
        NodeKind::Object => {
            if GENERIC.contains(&name) || name.starts_with('(') || name.starts_with("system / ") {
                Tier::Generic
            } else {
                Tier::Application
            }
        }
        NodeKind::Closure | NodeKind::RegExp => Tier::Generic,
        NodeKind::Native | NodeKind::WasmObject | NodeKind::Other => {
            if name.starts_with("system / ") || name.starts_with('(') {
                Tier::Internal
            } else {
                Tier::Application
            }
        }
        _ => Tier::Internal,
    }
}

/// Fewer new objects than this are not a suspect unless they are large (see [`MIN_SHARE`]).
pub const MIN_COUNT: usize = 50;
/// A handful of new objects is a suspect when they keep this share of the after heap alive.
pub const MIN_SHARE: f64 = 0.05;
/// Merged paths kept per suspect.
pub const PATHS_PER_SUSPECT: usize = 5;

/// A likely leak.
#[derive(Clone, Debug, Serialize)]
pub struct Suspect {
    pub class_key: String,
    pub name: String,
    /// New objects of the class (with FINAL: those still alive there).
    pub added_count: u64,
    /// What they keep alive, counted once (see [`super::ClassDiff::added_retained_size`]).
    pub added_retained_size: u64,
    /// The most common shapes of their shortest retaining paths (at most
    /// [`PATHS_PER_SUSPECT`]).
    pub paths: Vec<MergedPath>,
    /// Index of the row in [`super::Comparison::classes`].
    #[serde(skip)]
    pub row: usize,
    #[serde(skip)]
    pub removed_count: u64,
    /// Candidates no new object of another, at least as application-like row dominates.
    #[serde(skip)]
    pub owner_roots: u64,
    #[serde(skip)]
    pub tier: Tier,
    /// Distinct path shapes among the candidates.
    #[serde(skip)]
    pub path_count: usize,
}

/// Rows that can never be suspects on their own (rule 1).
fn never_leaks(after: &Loaded, row: &ClassDiff, tier: Tier) -> bool {
    if tier != Tier::Internal {
        return false;
    }
    let Some(&node) = row.added.first() else {
        return true;
    };
    !matches!(
        after.snapshot.node_kind(node),
        NodeKind::String
            | NodeKind::ConsString
            | NodeKind::SlicedString
            | NodeKind::Number
            | NodeKind::BigInt
            | NodeKind::Symbol
            | NodeKind::Array
    )
}

/// Applies the rule of the module documentation, with `beside` run on one of the two workers
/// that merge the picked rows' paths. `candidates[row]` are the row's leak candidates (after
/// ordinals), `flags` the per-node result of `dominance::walk` over them.
///
/// The rows wait in one queue, largest first; one worker runs `beside` first, the other starts
/// merging at once, and each takes the next row as it finishes one: the work beside (the leak
/// groups) is balanced against the merging without a model of either's cost. Each worker keeps
/// its own memo, made when it takes its first row (a merge's result does not depend on what its
/// memo held before, so neither does the order in which the workers take the rows). Unless
/// `side_by_side`, `beside` runs alone first and both workers merge after it (what each holds
/// per object is then not held at once).
pub(crate) fn rank_beside<T: Send>(
    after: &Loaded,
    classes: &[ClassDiff],
    tiers: &[Tier],
    candidates: &[&[u32]],
    flags: &[u8],
    side_by_side: bool,
    beside: impl FnOnce() -> T + Send,
) -> (Vec<Suspect>, T) {
    let heap = after.total_size().max(1) as f64;
    let retained = &after.analysis.retained_size;
    let flag = |n: u32, f: u8| flags.get(n as usize).is_some_and(|&x| x & f != 0);
    // The rows that pass the cheap rules, with their group.
    let mut picked: Vec<(usize, u8, u64, usize)> = Vec::new(); // (row, group, size, owner roots)
    for (row, c) in classes.iter().enumerate() {
        let (Some(nodes), Some(&tier)) = (candidates.get(row), tiers.get(row)) else {
            continue;
        };
        let n = nodes.len();
        if n == 0 || never_leaks(after, c, tier) {
            continue;
        }
        let removed = c.removed_count as usize;
        if removed * 2 >= n && removed <= n * 2 {
            continue;
        }
        let size: u64 = nodes
            .iter()
            .filter(|&&x| flag(x, TOP_OF_CLASS))
            .map(|&x| retained.of(x))
            .sum();
        if n < MIN_COUNT && !(n >= 2 && size as f64 >= MIN_SHARE * heap) {
            continue;
        }
        let owner_roots = nodes.iter().filter(|&&x| flag(x, OWNER_ROOT)).count();
        let mostly_roots = owner_roots * 2 >= n;
        let group = match (tier, mostly_roots) {
            (Tier::Application, true) => 0,
            (Tier::Generic, true) => 1,
            (Tier::Application, false) => 2,
            (Tier::Generic, false) => 3,
            (Tier::Internal, _) => 4,
        };
        picked.push((row, group, size, owner_roots));
    }
    let mut queue: Vec<usize> = (0..picked.len()).collect();
    queue.sort_by_key(|&k| std::cmp::Reverse(candidates[picked[k].0].len()));
    let taken = AtomicUsize::new(0);
    let work = || -> Vec<(usize, Vec<MergedPath>)> {
        let mut index: Option<PathIndex> = None;
        let mut done = Vec::new();
        while let Some(&k) = queue.get(taken.fetch_add(1, Ordering::Relaxed)) {
            let index = index.get_or_insert_with(|| PathIndex::new(after));
            let nodes = &candidates[picked[k].0];
            done.push((k, index.merge(nodes, &|x| flag(x, TOP_OF_CLASS))));
        }
        done
    };
    let ((beside, a), b) = if side_by_side {
        rayon::join(|| (beside(), work()), work)
    } else {
        let beside = beside();
        let (a, b) = rayon::join(work, work);
        ((beside, a), b)
    };
    let mut merged: Vec<Vec<MergedPath>> = vec![Vec::new(); picked.len()];
    for (k, paths) in a.into_iter().chain(b) {
        merged[k] = paths;
    }
    // (group, concentration, suspect)
    let mut ranked: Vec<(u8, f64, Suspect)> = Vec::new();
    for ((row, group, size, owner_roots), mut paths) in picked.into_iter().zip(merged) {
        let c = &classes[row];
        let n = candidates[row].len();
        // Share of the candidates on the most common path: one owner holding many objects of a
        // kind is the signature of a leak; objects in flight spread over many paths.
        let concentration = paths.first().map_or(0.0, |p| p.count as f64 / n as f64);
        let path_count = paths.len();
        paths.truncate(PATHS_PER_SUSPECT);
        ranked.push((
            group,
            concentration,
            Suspect {
                class_key: c.class_key.clone(),
                name: c.name.clone(),
                added_count: n as u64,
                added_retained_size: size,
                paths,
                row,
                removed_count: c.removed_count,
                owner_roots: owner_roots as u64,
                tier: tiers[row],
                path_count,
            },
        ));
    }
    // Concentration is compared in coarse steps (quarters) so that a path count differing by
    // one does not outweigh a much larger retained size.
    let step = |c: f64| (c * 4.0).floor() as u8;
    ranked.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(step(b.1).cmp(&step(a.1)))
            .then(b.2.added_retained_size.cmp(&a.2.added_retained_size))
            .then(b.2.added_count.cmp(&a.2.added_count))
            .then(a.2.class_key.cmp(&b.2.class_key))
    });
    (ranked.into_iter().map(|(_, _, s)| s).collect(), beside)
}

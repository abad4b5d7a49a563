//! Comparison of two snapshots: DevTools' Comparison rows, what the new objects retain, their
//! merged retainer paths, and ranked leak suspects.
//!
//! [`compare`] is exact where DevTools has numbers (the six counts of every row, the rows present
//! and the new/deleted object lists, see [`compare`]'s module `compare`) and adds:
//! - `added_retained_size` per row: what the row's new objects keep alive, as a set (see
//!   [`ClassDiff::added_retained_size`]);
//! - merged retainer paths ([`paths`]) and [`Suspect`]s ([`suspects`]);
//! - with a third snapshot (`final_`), memlab's filter: only objects new in AFTER that are
//!   still alive (same V8 id) in FINAL are leak candidates.
//!
//! The caller loads AFTER first and classifies BEFORE with AFTER's interface definitions, as
//! DevTools' `aggregatesForDiff` does; [`crate::pipeline::open_pair`] does this.

mod compare;
mod dominance;
mod hops;
pub mod leaks;
pub mod paths;
pub mod suspects;
mod warnings;

use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::dominator_tree::DominatorTree;
use crate::loaded::Loaded;
use crate::task::Hooks;

pub use compare::Counted;
pub use leaks::LeakGroup;
pub use paths::{MergedPath, PathIndex, PathStep};
pub use suspects::{Suspect, Tier};

/// Sums over all rows, as the oracle's `totals`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Totals {
    pub added_count: u64,
    pub removed_count: u64,
    pub count_delta: i64,
    pub added_size: u64,
    pub removed_size: u64,
    pub size_delta: i64,
    /// AFTER's `extra_native_bytes` minus BEFORE's (memory outside the V8 heap, Node 24+), when
    /// both headers have it and either is not 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_native_bytes_delta: Option<i64>,
}

/// One row of the Comparison: a class key with anything new or deleted.
#[derive(Clone, Debug, Serialize)]
pub struct ClassDiff {
    /// DevTools' public class key: `",Name"` or `"scriptId,line,column,Name"`.
    pub class_key: String,
    pub name: String,
    pub added_count: u64,
    pub removed_count: u64,
    pub count_delta: i64,
    pub added_size: u64,
    pub removed_size: u64,
    pub size_delta: i64,
    /// What the new objects of this class keep alive, counted once: the sum of the retained
    /// sizes of the new objects that no other new object *of the same class* dominates.
    ///
    /// Why the same class and not any new object: a new `ChildContainer` dominated by a new
    /// closure still keeps its own subtree alive, and that subtree is what the row is asked
    /// about; excluding it would show 0 for the very objects that leak. Within the class the
    /// rule removes the double counting (a new linked-list node dominating the next ones), like
    /// DevTools' `maxRet` (`calculateClassesRetainedSize`). Rows therefore may overlap with each
    /// other, as Summary rows do.
    pub added_retained_size: u64,
    /// `added_retained_size` as a fraction of the after snapshot's total size.
    #[serde(skip)]
    pub after_share: f64,
    /// Where the class is defined (its constructor), from the class key.
    #[serde(skip)]
    pub location: Option<crate::analysis::scripts::SourceLocation>,
    /// The new objects: ordinals in the after snapshot, ascending by V8 id.
    #[serde(skip)]
    pub added: Vec<u32>,
    /// The deleted objects: ordinals in the before snapshot, ascending by V8 id.
    #[serde(skip)]
    pub deleted: Vec<u32>,
    /// The deleted objects' V8 ids (DevTools' `deletedIds`), ascending.
    #[serde(skip)]
    pub deleted_ids: Vec<u32>,
    /// The internal class of this key in each snapshot (index into `Classes::names`), if any.
    #[serde(skip)]
    pub before_class: Option<u32>,
    #[serde(skip)]
    pub after_class: Option<u32>,
}

impl ClassDiff {
    /// DevTools' `addedIds`.
    pub fn added_ids(&self, after: &Loaded) -> Vec<u32> {
        self.added
            .iter()
            .map(|&n| after.snapshot.node_id[n as usize])
            .collect()
    }
}

/// The whole comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub totals: Totals,
    /// DevTools' default order: added size descending, then name, then key.
    pub classes: Vec<ClassDiff>,
    /// Most likely leaks first; empty when nothing looks like one.
    pub suspects: Vec<Suspect>,
    /// One finding per leak, likely ones first (see [`leaks`]).
    pub leaks: Vec<LeakGroup>,
    /// Whether a third snapshot filtered the leak candidates.
    #[serde(skip)]
    pub with_final: bool,
    /// The files' warnings (BEFORE's, AFTER's, FINAL's) and the Comparison's own (see
    /// [`warnings`]), one sentence each.
    pub warnings: Vec<String>,
}

/// The Comparison's rows (DevTools' six numbers per class key, the new and deleted objects of
/// each) before what AFTER's analysis adds to them: [`rows`] builds them from the two
/// snapshots' classes, ids and shallow sizes alone; [`walk`] and [`finish`] complete the Comparison.
pub struct Rows {
    classes: Vec<ClassDiff>,
    /// BEFORE's counted nodes (for the id-overlap warning).
    before_counted: u64,
}

impl Rows {
    /// Whether the new objects are few enough, next to AFTER's `nodes`, for the Comparison to
    /// hold what it keeps per new object beside another step's tables: when they are most of
    /// the heap (an out-of-memory snapshot beside an early one) that would be the peak, and the
    /// steps run one after the other instead.
    pub fn new_objects_are_few(&self, nodes: usize) -> bool {
        let new: u64 = self.classes.iter().map(|c| c.added_count).sum();
        new.saturating_mul(2) < nodes as u64
    }
}

/// The rows of `before` and `after` (`before` classified with `after`'s interface definitions).
pub fn rows(before: compare::Counted, after: compare::Counted) -> Rows {
    let (bg, ag) = rayon::join(|| compare::groups(before), || compare::groups(after));
    let merged = compare::merge(before, &bg, after, &ag);
    let before_counted = bg.nodes.len() as u64;
    // Only the groups' classes are used from here on: their node lists (four bytes a counted
    // node) go now, not at the end of the function as the rest of a partly moved value would.
    let (bg, ag) = (bg.into_class(), ag.into_class());
    Rows {
        classes: class_rows(before, after, merged, &bg, &ag),
        before_counted,
    }
}

/// Compares `before` and `after` (`before` classified with `after`'s interface definitions; see
/// [`crate::pipeline::open_pair`]). With `final_`, suspects only count new objects still alive in it.
pub fn compare(before: &Loaded, after: &Loaded, final_: Option<&Loaded>) -> Comparison {
    let rows = rows(before.counted(), after.counted());
    finish(before, after, final_, walk(before, after, final_, rows))
}

/// The Comparison up to its leak groups and merged paths: the rows with what their new objects
/// keep alive, and the walk of AFTER's dominator tree that both start from. It needs AFTER's
/// dominators and retained sizes but not its distances, so [`crate::pipeline::open_pair`]
/// walks beside the distance BFS; [`finish`] completes the Comparison.
pub struct Walked {
    classes: Vec<ClassDiff>,
    totals: Totals,
    warnings: Vec<String>,
    tiers: Vec<Tier>,
    /// With FINAL: each row's new objects still alive there (without, the rows' own lists).
    alive: Option<Vec<Vec<u32>>>,
    flags: Vec<u8>,
    members: dominance::Members,
    /// (entry's index, its headline) where the two differ (see `leaks::headline`).
    headlines: Vec<(u32, u32)>,
}

/// Walks AFTER's dominator tree from the rows' new objects (see [`Walked`]). AFTER's
/// `analysis.distance` is not read.
pub fn walk(before: &Loaded, after: &Loaded, final_: Option<&Loaded>, rows: Rows) -> Walked {
    let Rows {
        mut classes,
        before_counted,
    } = rows;
    let tree = DominatorTree::new(&after.analysis.dominator, after.snapshot.root);
    let after_total = after.total_size();

    let mut totals = Totals::default();
    for c in &classes {
        totals.added_count += c.added_count;
        totals.removed_count += c.removed_count;
        totals.added_size += c.added_size;
        totals.removed_size += c.removed_size;
    }
    totals.count_delta = totals.added_count as i64 - totals.removed_count as i64;
    totals.size_delta = totals.added_size as i64 - totals.removed_size as i64;
    totals.extra_native_bytes_delta = warnings::native_delta(before, after);
    let warnings = warnings::collect(before, after, final_, before_counted, &totals);

    // What the new objects keep alive, and which of them are owned by other new objects.
    let tiers: Vec<Tier> = classes.iter().map(|c| suspects::tier(after, c)).collect();
    let tier_rank: Vec<u8> = tiers.iter().map(|t| t.rank()).collect();
    // The row of a new object, from its class: a row is one class of AFTER's.
    let mut row_of_class = vec![u32::MAX; after.classes.class_count()];
    for (row, c) in classes.iter().enumerate() {
        if let Some(slot) = c.after_class.and_then(|k| row_of_class.get_mut(k as usize)) {
            *slot = row as u32;
        }
    }
    let row_of = |node: u32| -> Option<usize> {
        let class = after.classes.class_of.get(node as usize)?;
        let row = *row_of_class.get(class as usize)?;
        (row != u32::MAX).then_some(row as usize)
    };
    let node_count = after.snapshot.node_count();
    let new_all = dominance::new_flags(node_count, classes.iter().map(|c| &c.added[..]));
    let walk_all = dominance::walk(&tree, new_all, row_of, &tier_rank);
    let retained = &after.analysis.retained_size;
    classes.par_iter_mut().for_each(|c| {
        c.added_retained_size = c
            .added
            .iter()
            .filter(|&&n| walk_all.flags[n as usize] & dominance::TOP_OF_CLASS != 0)
            .map(|&n| retained.of(n))
            .sum();
        c.after_share = if after_total == 0 {
            0.0
        } else {
            c.added_retained_size as f64 / after_total as f64
        };
    });

    // Leak candidates: all new objects, or with FINAL only those still alive there.
    let alive: Option<Vec<Vec<u32>>> = final_.map(|f| {
        let mut ids = f.snapshot.node_id.clone();
        ids.par_sort_unstable();
        let survives = |node: u32| {
            ids.binary_search(&after.snapshot.node_id[node as usize])
                .is_ok()
        };
        classes
            .par_iter()
            .map(|c| c.added.iter().copied().filter(|&n| survives(n)).collect())
            .collect()
    });
    let walk = match &alive {
        Some(alive) => {
            drop(walk_all);
            let new = dominance::new_flags(node_count, alive.iter().map(|c| &c[..]));
            dominance::walk(&tree, new, row_of, &tier_rank)
        }
        None => walk_all,
    };
    // The leak groups need the tree only for each entry's headline; the tree (eight bytes a
    // node) goes before they and the suspects start. Most entries head their own finding, so
    // only the others are kept.
    let dominance::Walk { flags, members } = walk;
    let headlines: Vec<(u32, u32)> = members
        .entries
        .par_iter()
        .enumerate()
        .filter_map(|(i, &e)| {
            let h = leaks::headline(after, &tree, e);
            (h != e).then_some((i as u32, h))
        })
        .collect();
    Walked {
        classes,
        totals,
        warnings,
        tiers,
        alive,
        flags,
        members,
        headlines,
    }
}

/// The Comparison of a [`walk`] (from the same snapshots): the leak groups and the suspects'
/// merged paths, which need AFTER's distances.
pub fn finish(
    before: &Loaded,
    after: &Loaded,
    final_: Option<&Loaded>,
    walked: Walked,
) -> Comparison {
    let Walked {
        classes,
        totals,
        warnings,
        tiers,
        alive,
        flags,
        members,
        headlines,
    } = walked;
    // Without FINAL every new object is a candidate: the rows' own lists, not a copy.
    let candidates: Vec<&[u32]> = match &alive {
        Some(alive) => alive.iter().map(|c| &c[..]).collect(),
        None => classes.iter().map(|c| &c.added[..]).collect(),
    };
    // The leak groups run beside the suspects' merged paths (see `suspects::rank_beside`): their
    // sequential parts (sub-grouping, composition, the findings' details) no longer leave a
    // core idle. Each holds tables per new object, though: when new objects are most of the
    // heap (an out-of-memory snapshot beside an early one) holding both at once would be the
    // comparison's peak, so there they run one after the other. The groups own the members
    // (four bytes a new object) and free them before the merges need the room.
    let side_by_side = members.len() * 2 < after.snapshot.node_count();
    let (suspects, leaks) = suspects::rank_beside(
        after,
        &classes,
        &tiers,
        &candidates,
        &flags,
        side_by_side,
        || {
            let groups = leaks::find(&leaks::Inputs {
                before,
                after,
                classes: &classes,
                candidates: &candidates,
                flags: &flags,
                members: &members,
                headlines: &headlines,
            });
            drop(members);
            groups
        },
    );
    drop(candidates);

    Comparison {
        totals,
        classes,
        suspects,
        leaks,
        with_final: final_.is_some(),
        warnings,
    }
}

/// The Comparison rows of the merged keys, in DevTools' default order. `bg`/`ag` map each
/// snapshot's groups to internal classes.
fn class_rows(
    before: compare::Counted,
    after: compare::Counted,
    merged: Vec<compare::Merged>,
    bg: &[u32],
    ag: &[u32],
) -> Vec<ClassDiff> {
    let mut classes: Vec<ClassDiff> = merged
        .into_iter()
        .map(|m| {
            let added_size: u64 = m
                .added
                .iter()
                .map(|&n| u64::from(after.shallow[n as usize]))
                .sum();
            let removed_size: u64 = m
                .deleted
                .iter()
                .map(|&n| u64::from(before.shallow[n as usize]))
                .sum();
            let before_class = m.before_group.map(|g| bg[g as usize]);
            let after_class = m.after_group.map(|g| ag[g as usize]);
            let name = match (after_class, before_class) {
                (Some(c), _) => after.classes.names.get(c as usize),
                (None, Some(c)) => before.classes.names.get(c as usize),
                (None, None) => None,
            }
            .cloned()
            .unwrap_or_default();
            let location = after.scripts.class_location(after.snapshot, &m.key);
            ClassDiff {
                class_key: m.key,
                name,
                added_count: m.added.len() as u64,
                removed_count: m.deleted.len() as u64,
                count_delta: m.added.len() as i64 - m.deleted.len() as i64,
                added_size,
                removed_size,
                size_delta: added_size as i64 - removed_size as i64,
                added_retained_size: 0,
                after_share: 0.0,
                location,
                deleted_ids: m
                    .deleted
                    .iter()
                    .map(|&n| before.snapshot.node_id[n as usize])
                    .collect(),
                added: m.added,
                deleted: m.deleted,
                before_class,
                after_class,
            }
        })
        .collect();
    classes.sort_by(|a, b| {
        b.added_size
            .cmp(&a.added_size)
            .then_with(|| crate::snapshot::class::cmp_utf16(&a.name, &b.name))
            .then_with(|| crate::snapshot::class::cmp_utf16(&a.class_key, &b.class_key))
    });

    classes
}

/// The merged retainer paths of any set of after-snapshot nodes (e.g. a row's `added`), most
/// common shape first. Every node's retained size counts toward its path.
///
/// None once `hooks` says cancelled (the window asks for a class's paths on a click; a newer
/// click cancels them).
pub fn merged_paths(after: &Loaded, nodes: &[u32], hooks: &Hooks) -> Option<Vec<MergedPath>> {
    let paths = PathIndex::new(after)
        .with_cancel(hooks.cancel)
        .merge(nodes, &|_| true);
    (!hooks.is_cancelled()).then_some(paths)
}

//! The Summary view: one row per class, as DevTools' `aggregatesWithFilter({})` builds them
//! (`buildAggregates`, `calculateClassesRetainedSize`, `getAggregatesByClassKey`).
//!
//! Rules (all from `HeapSnapshot.ts`):
//! - nodes whose shallow size (after `calculateShallowSizes`, see
//!   [`crate::snapshot::class::shallow_sizes`]) is 0 are skipped; unreachable nodes are *not*;
//! - `count` and `self` sum the remaining nodes of the class, `distance` is their minimum
//!   (unreachable nodes have distance −5 and pull it down);
//! - `maxRet` sums the retained sizes of the class's nodes that have no dominator-tree ancestor
//!   of the same class (ancestors of zero shallow size do not count as such);
//! - classes are keyed internally by string identity; when two share a public key, the one whose
//!   first counted node comes last replaces the other (a JavaScript object overwrite).

use std::cmp::Ordering;

use super::dominator_tree::{DominatorTree, Visit};
use crate::snapshot::Snapshot;
use crate::snapshot::class::{Classes, cmp_utf16};

/// What the Summary needs from the graph analysis, per node ordinal.
#[derive(Clone, Copy, Debug)]
pub struct AnalysisView<'a> {
    /// DevTools' `nodeDistances` (−5 for unreachable, ≥ 100,000,000 via non-user roots).
    pub distance: &'a [i32],
    /// Retained sizes, computed from the *adjusted* shallow sizes.
    pub retained_size: &'a crate::analysis::RetainedSizes,
    /// Immediate dominator ordinal; the root dominates itself. Entries out of range or equal to
    /// the node itself (other than the root) are treated as outside the dominator tree.
    pub dominator: &'a [u32],
}

/// One Summary row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SummaryRow {
    /// `",Name"` or `"scriptId,line,column,Name"`.
    pub class_key: String,
    pub name: String,
    pub count: u64,
    /// Sum of shallow sizes.
    pub self_size: u64,
    /// DevTools' `maxRet`; `None` without an analysis.
    pub retained_size: Option<u64>,
    /// Minimum distance of the class's nodes; `None` without an analysis.
    pub distance: Option<i64>,
    /// Where the class is defined (its constructor), when its key has a location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<super::scripts::SourceLocation>,
}

#[derive(Clone, Copy)]
struct Aggregate {
    count: u64,
    self_size: u64,
    distance: i32,
    /// First counted node: DevTools' insertion order, which decides key collisions.
    first: u32,
}

/// The Summary rows, sorted like the reference files: retained size descending (self size when
/// there is no analysis), then class key in JavaScript string order.
pub fn summarize(
    snap: &Snapshot,
    classes: &Classes,
    shallow: &[u32],
    analysis: Option<&AnalysisView>,
) -> Vec<SummaryRow> {
    let class_count = classes.class_count();
    let mut aggregates: Vec<Option<Aggregate>> = vec![None; class_count];
    let nodes = shallow
        .iter()
        .zip(classes.class_of.iter())
        .take(snap.node_count());
    for (node, (&size, class)) in nodes.enumerate() {
        if size == 0 {
            continue;
        }
        let Some(slot) = aggregates.get_mut(class as usize) else {
            continue;
        };
        let distance = analysis
            .and_then(|a| a.distance.get(node).copied())
            .unwrap_or(0);
        match slot {
            Some(a) => {
                a.count += 1;
                a.self_size += u64::from(size);
                a.distance = a.distance.min(distance);
            }
            None => {
                *slot = Some(Aggregate {
                    count: 1,
                    self_size: u64::from(size),
                    distance,
                    first: node as u32,
                })
            }
        }
    }

    let retained = analysis.map(|a| classes_retained_size(snap, classes, shallow, a));

    // Public keys: of the classes sharing a key, the one inserted last wins.
    let mut winner: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (class, aggregate) in aggregates.iter().enumerate() {
        let Some(aggregate) = aggregate else { continue };
        let key = classes.keys[class].as_str();
        match winner.get(key) {
            Some(&other) if aggregates[other].is_some_and(|o| o.first > aggregate.first) => {}
            _ => {
                winner.insert(key, class);
            }
        }
    }

    let mut rows: Vec<SummaryRow> = winner
        .into_values()
        .filter_map(|class| {
            let a = aggregates[class]?;
            Some(SummaryRow {
                class_key: classes.keys[class].clone(),
                name: classes.names[class].clone(),
                count: a.count,
                self_size: a.self_size,
                retained_size: retained.as_ref().map(|r| r[class]),
                distance: analysis.map(|_| i64::from(a.distance)),
                location: None,
            })
        })
        .collect();
    rows.sort_by(compare_rows);
    rows
}

fn compare_rows(a: &SummaryRow, b: &SummaryRow) -> Ordering {
    let size = |r: &SummaryRow| r.retained_size.unwrap_or(r.self_size);
    size(b)
        .cmp(&size(a))
        .then_with(|| cmp_utf16(&a.class_key, &b.class_key))
}

/// `calculateClassesRetainedSize`: per class, the retained sizes of its nodes (shallow size
/// > 0) that are not below another counted node of the same class in the dominator tree.
fn classes_retained_size(
    snap: &Snapshot,
    classes: &Classes,
    shallow: &[u32],
    analysis: &AnalysisView,
) -> Vec<u64> {
    let n = snap.node_count();
    let mut sums = vec![0u64; classes.class_count()];
    let root = snap.root;
    if n == 0 || root as usize >= n {
        return sums;
    }
    let tree = DominatorTree::new(analysis.dominator, root);
    let mut inside = vec![false; classes.class_count()];
    let class_of = |node: u32| classes.class_of.get(node as usize).unwrap_or(u32::MAX) as usize;
    let prefetch = |node: u32| {
        classes.class_of.prefetch(node as usize);
        crate::mem::prefetch(shallow, node as usize);
        analysis.retained_size.prefetch(node);
    };
    tree.walk_prefetching(prefetch, |visit| match visit {
        Visit::Enter(node) => {
            let class = class_of(node);
            let counted = class < inside.len()
                && !inside[class]
                && shallow.get(node as usize).is_some_and(|&s| s != 0);
            if counted {
                sums[class] += analysis.retained_size.get(node as usize).unwrap_or(0);
                inside[class] = true;
            }
            counted
        }
        Visit::Leave(node) => {
            inside[class_of(node)] = false;
            false
        }
    });
    sums
}

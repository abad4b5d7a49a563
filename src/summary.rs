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
pub struct ClassRow {
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
) -> Vec<ClassRow> {
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

    let mut rows: Vec<ClassRow> = winner
        .into_values()
        .filter_map(|class| {
            let a = aggregates[class]?;
            Some(ClassRow {
                class_key: classes.keys[class].clone(),
                name: classes.names[class].clone(),
                count: a.count,
                self_size: a.self_size,
                retained_size: retained.as_ref().map(|r| r[class]),
                distance: analysis.map(|_| i64::from(a.distance)),
            })
        })
        .collect();
    rows.sort_by(compare_rows);
    rows
}

fn compare_rows(a: &ClassRow, b: &ClassRow) -> Ordering {
    let size = |r: &ClassRow| r.retained_size.unwrap_or(r.self_size);
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
    // Dominated-node lists in CSR form.
    let dominator_of = |node: usize| -> Option<usize> {
        let d = *analysis.dominator.get(node)? as usize;
        (node != root as usize && d < n && d != node).then_some(d)
    };
    // `first_child[d]` first counts d's children, then (summed) ends d's list; filling the
    // lists backwards moves it to the list's start, so no second cursor array is needed.
    let mut first_child = vec![0u32; n + 1];
    for node in 0..n {
        if let Some(d) = dominator_of(node) {
            first_child[d] += 1;
        }
    }
    let mut sum = 0u32;
    for f in &mut first_child {
        sum += *f;
        *f = sum;
    }
    let mut children = vec![0u32; sum as usize];
    for node in (0..n).rev() {
        if let Some(d) = dominator_of(node) {
            first_child[d] -= 1;
            children[first_child[d] as usize] = node as u32;
        }
    }

    // Depth-first walk with an explicit stack; `EXIT` entries close a class's subtree (node
    // ordinals stay below `u32::MAX` because `node_count() + 1` fits in a `u32` CSR offset).
    const EXIT: u32 = u32::MAX;
    let mut inside = vec![false; classes.class_count()];
    let mut stack: Vec<u32> = vec![root];
    let mut exits: Vec<u32> = Vec::new();
    while let Some(entry) = stack.pop() {
        if entry == EXIT {
            let class = exits.pop().unwrap_or(u32::MAX) as usize;
            if let Some(flag) = inside.get_mut(class) {
                *flag = false;
            }
            continue;
        }
        let node = entry as usize;
        let class = classes.class_of.get(node).unwrap_or(u32::MAX) as usize;
        let (from, to) = (first_child[node] as usize, first_child[node + 1] as usize);
        if class < inside.len() && !inside[class] && shallow.get(node).is_some_and(|&s| s != 0) {
            sums[class] += analysis.retained_size.get(node).unwrap_or(0);
            if from != to {
                inside[class] = true;
                exits.push(class as u32);
                stack.push(EXIT);
            }
        }
        stack.extend_from_slice(&children[from..to]);
    }
    sums
}

//! DevTools' Comparison rows: `aggregatesForDiff` on the base, `calculateSnapshotDiff` and
//! `calculateDiffForClass` on the target (HeapSnapshot.ts).
//!
//! Rules reproduced here:
//! - only nodes with a non-zero shallow size are counted (`buildAggregates` skips `!selfSize`),
//!   with no reachability filter (`getAggregatesByClassKey(true, 'allObjects')`);
//! - a snapshot's classes are keyed internally by string identity and converted to public keys
//!   afterwards; when two internal classes share a public key, the one whose first counted node
//!   comes last overwrites the other (`getAggregatesByClassKey` assigns into a plain object);
//! - the node list of every class is sorted by V8 id (`sortAggregateIndexes`) and the two lists
//!   of one key are merged by id: ids only in the base are deleted, ids only in the target new;
//! - a row exists when anything is new or deleted; its name is the target's class name, or the
//!   base's for a class the target lacks.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::analysis::scripts::ScriptNames;
use crate::loaded::Loaded;
use crate::snapshot::Snapshot;
use crate::snapshot::class::Classes;

/// What the Comparison's rows read of one snapshot: ids, classes and shallow sizes (and, of
/// AFTER, the script names of class locations); no analysis, so the rows can be built before
/// AFTER's analysis is done (see [`crate::pipeline::open_pair`]).
#[derive(Clone, Copy)]
pub struct Counted<'a> {
    pub snapshot: &'a Snapshot,
    pub shallow: &'a [u32],
    pub classes: &'a Classes,
    pub scripts: &'a ScriptNames,
}

impl Loaded {
    /// This snapshot as the Comparison's rows read it.
    pub fn counted(&self) -> Counted<'_> {
        Counted {
            snapshot: &self.snapshot,
            shallow: &self.shallow,
            classes: &self.classes,
            scripts: &self.scripts,
        }
    }
}

/// The counted nodes of one snapshot grouped by public class key, each group sorted by id.
pub(crate) struct Groups {
    /// Per group, the winning internal class (index into `Classes::names`/`keys`).
    pub class: Vec<u32>,
    /// CSR offsets into `nodes`: group `g` is `nodes[first[g]..first[g + 1]]`.
    pub first: Vec<u32>,
    /// Node ordinals, grouped, ascending by V8 id within a group.
    pub nodes: Vec<u32>,
}

impl Groups {
    pub fn nodes_of(&self, group: usize) -> &[u32] {
        &self.nodes[self.first[group] as usize..self.first[group + 1] as usize]
    }

    /// The groups' classes alone, the node lists freed.
    pub fn into_class(self) -> Vec<u32> {
        self.class
    }
}

const NO_GROUP: u32 = u32::MAX;

/// Builds the per-key node lists of one snapshot (`getAggregatesByClassKey(true, …)`).
pub(crate) fn groups(loaded: Counted) -> Groups {
    let classes = &loaded.classes;
    let n = loaded
        .snapshot
        .node_count()
        .min(classes.class_of.len())
        .min(loaded.shallow.len());
    let class_count = classes.class_count();

    // First counted node of every internal class: DevTools' Map insertion order.
    let mut first_node = vec![u32::MAX; class_count];
    for node in 0..n {
        if loaded.shallow[node] == 0 {
            continue;
        }
        if let Some(f) = first_node.get_mut(classes.class_of.get(node).unwrap_or(u32::MAX) as usize)
            && *f == u32::MAX
        {
            *f = node as u32;
        }
    }
    // Iterating classes in insertion order and overwriting reproduces the JavaScript object
    // assignment: the class inserted last wins its key.
    let mut order: Vec<u32> = (0..class_count as u32)
        .filter(|&c| first_node[c as usize] != u32::MAX)
        .collect();
    order.sort_unstable_by_key(|&c| first_node[c as usize]);
    let mut by_key: HashMap<&str, u32> = HashMap::with_capacity(order.len());
    for &c in &order {
        if let Some(key) = classes.keys.get(c as usize) {
            by_key.insert(key.as_str(), c);
        }
    }
    let mut winners: Vec<u32> = by_key.into_values().collect();
    winners.sort_unstable_by_key(|&c| first_node[c as usize]);
    let mut group_of_class = vec![NO_GROUP; class_count];
    for (g, &c) in winners.iter().enumerate() {
        group_of_class[c as usize] = g as u32;
    }

    // Counting sort of the counted nodes by group, then a parallel sort by id per group.
    let group_of = |node: usize| -> u32 {
        if loaded.shallow[node] == 0 {
            return NO_GROUP;
        }
        group_of_class
            .get(classes.class_of.get(node).unwrap_or(u32::MAX) as usize)
            .copied()
            .unwrap_or(NO_GROUP)
    };
    let mut first = vec![0u32; winners.len() + 1];
    for node in 0..n {
        let g = group_of(node);
        if g != NO_GROUP {
            first[g as usize + 1] += 1;
        }
    }
    for g in 0..winners.len() {
        first[g + 1] += first[g];
    }
    let mut fill = first.clone();
    let mut nodes = vec![0u32; first[winners.len()] as usize];
    for node in 0..n {
        let g = group_of(node);
        if g != NO_GROUP {
            nodes[fill[g as usize] as usize] = node as u32;
            fill[g as usize] += 1;
        }
    }
    let ids = &loaded.snapshot.node_id;
    let mut slices: Vec<&mut [u32]> = Vec::with_capacity(winners.len());
    let mut rest: &mut [u32] = &mut nodes;
    for g in 0..winners.len() {
        let len = (first[g + 1] - first[g]) as usize;
        let (head, tail) = rest.split_at_mut(len);
        slices.push(head);
        rest = tail;
    }
    // Nodes are in ordinal order already, so ties (duplicate ids) keep DevTools' stable order:
    // sorting (id, ordinal) keys does the same without looking ids up per comparison.
    slices.into_par_iter().for_each(|s| {
        if s.is_sorted_by_key(|&node| ids[node as usize]) {
            return;
        }
        let mut keys: Vec<u64> = s
            .iter()
            .map(|&node| (u64::from(ids[node as usize]) << 32) | u64::from(node))
            .collect();
        // A class of millions (strings, arrays) would keep one core sorting after the others
        // are done: it is sorted on all of them.
        if keys.len() >= 1 << 18 {
            keys.par_sort_unstable();
        } else {
            keys.sort_unstable();
        }
        for (slot, key) in s.iter_mut().zip(keys) {
            *slot = key as u32;
        }
    });
    Groups {
        class: winners,
        first,
        nodes,
    }
}

/// One merged key: the group in each snapshot (if any) and the new and deleted nodes.
pub(crate) struct Merged {
    pub key: String,
    pub before_group: Option<u32>,
    pub after_group: Option<u32>,
    /// After ordinals, ascending by id.
    pub added: Vec<u32>,
    /// Before ordinals, ascending by id.
    pub deleted: Vec<u32>,
}

/// `calculateSnapshotDiff`: the keys with anything new or deleted, in DevTools' order (base keys
/// first, then keys only the target has).
pub(crate) fn merge(before: Counted, bg: &Groups, after: Counted, ag: &Groups) -> Vec<Merged> {
    let after_by_key: HashMap<&str, u32> = ag
        .class
        .iter()
        .enumerate()
        .filter_map(|(g, &c)| Some((after.classes.keys.get(c as usize)?.as_str(), g as u32)))
        .collect();
    let mut pairs: Vec<(String, Option<u32>, Option<u32>)> = Vec::new();
    let mut seen_after = vec![false; ag.class.len()];
    for (g, &c) in bg.class.iter().enumerate() {
        let Some(key) = before.classes.keys.get(c as usize) else {
            continue;
        };
        let a = after_by_key.get(key.as_str()).copied();
        if let Some(a) = a {
            seen_after[a as usize] = true;
        }
        pairs.push((key.clone(), Some(g as u32), a));
    }
    for (g, &c) in ag.class.iter().enumerate() {
        if !seen_after[g]
            && let Some(key) = after.classes.keys.get(c as usize)
        {
            pairs.push((key.clone(), None, Some(g as u32)));
        }
    }
    let (bids, aids) = (&before.snapshot.node_id, &after.snapshot.node_id);
    pairs
        .into_par_iter()
        .filter_map(|(key, b, a)| {
            let base = b.map_or(&[][..], |g| bg.nodes_of(g as usize));
            let target = a.map_or(&[][..], |g| ag.nodes_of(g as usize));
            let (mut i, mut j) = (0, 0);
            let (mut added, mut deleted) = (Vec::new(), Vec::new());
            // `calculateDiffForClass`: a two-finger merge over the id-sorted lists.
            while i < base.len() && j < target.len() {
                let (x, y) = (bids[base[i] as usize], aids[target[j] as usize]);
                match x.cmp(&y) {
                    std::cmp::Ordering::Less => {
                        deleted.push(base[i]);
                        i += 1;
                    }
                    std::cmp::Ordering::Greater => {
                        added.push(target[j]);
                        j += 1;
                    }
                    std::cmp::Ordering::Equal => {
                        i += 1;
                        j += 1;
                    }
                }
            }
            deleted.extend_from_slice(&base[i..]);
            added.extend_from_slice(&target[j..]);
            (!added.is_empty() || !deleted.is_empty()).then_some(Merged {
                key,
                before_group: b,
                after_group: a,
                added,
                deleted,
            })
        })
        .collect()
}

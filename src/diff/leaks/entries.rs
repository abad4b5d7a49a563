//! Where each entry hangs: its holder and the key it groups by, and the anchor above many
//! holders.

use super::{
    EntryFacts, FOLDED, Inputs, NONE, SubKey, Token, folded_name, is_new, is_synthetic, token,
};
use crate::analysis::paths::shows_retaining_edge;
use crate::diff::paths::PathIndex;
use crate::hash::FxMap;
use crate::snapshot::EdgeKind;

/// The holder and sub-group key of one entry.
pub(super) fn entry_facts(inp: &Inputs, paths: &PathIndex, entry: u32) -> (EntryFacts, SubKey) {
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
            let Some((_, source)) = paths.shared_next_hop(node) else {
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
    let step = direct.or_else(|| paths.shared_next_hop(entry));
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
        holder: holder.unwrap_or(NONE),
        edge: step.map_or(NONE, |(e, _)| e),
    };
    (facts, (retainer, edge_type, edge_name, token(after, entry)))
}

/// The deepest non-synthetic object dominating at least half of a sub-group's holders.
pub(super) fn anchor(inp: &Inputs, facts: &[EntryFacts], sub: &[u32]) -> Option<u32> {
    let after = inp.after;
    let dominator = &after.analysis.dominator;
    let mut weight: FxMap<u32, u64> = FxMap::default();
    for &e in sub {
        if let Some(h) = facts[e as usize].holder() {
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

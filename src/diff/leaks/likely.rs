//! Which findings are likely leaks: every class's net growth handed to the findings that hold
//! its new objects (see the module documentation of `leaks`).

use super::{Inputs, LIKELY_MIN, Token, internal_name, token};
use crate::hash::FxMap;
use crate::loaded::Loaded;
use crate::snapshot::NodeKind;

/// A function's identity across snapshots: (name, script id, line, column).
pub(super) type FunctionKey = (String, u32, u32, u32);

pub(super) fn function_key(loaded: &Loaded, node: u32) -> FunctionKey {
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
pub(super) fn likely_findings(
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
    for (node, _) in inp.members.iter(inp.flags) {
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
    for (node, _) in inp.members.iter(inp.flags) {
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

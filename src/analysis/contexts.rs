//! Which variables a closure's Context holds, and which of them no live function can use:
//! DevTools' context analysis (`ContextAnalyzer.ts`, `HeapSnapshot.analyzeContexts`), on the
//! scope tables of Chromium 156+ ([`crate::snapshot::Scopes`]).
//!
//! A Context (`system / Context…`) holds the variables its scope shares with inner functions,
//! one `context` edge each, named after the variable. V8 puts every variable any inner
//! function uses in one Context, so a live closure keeps alive what a function that no longer
//! exists needed: the classic closure leak. The rules, as DevTools has them:
//! - a Context's scope is its `scope_info`'s `scope_id` in the script that ScopeInfo belongs to
//!   (a SharedFunctionInfo's `name_or_scope_info` names it, else its `outer_scope_info` chain);
//! - a *live function* is a scope with a closure on the heap (its SharedFunctionInfo's
//!   `scope_id`); it can reach its closure's Context and every `previous` one;
//! - a field is *used* when a scope that uses the variable, or a scope enclosing that one, is a
//!   live function that can reach this Context (`isVariableUsedInContext`), else it is dead.

use std::collections::{HashMap, HashSet};

use crate::snapshot::scopes::NO_SCOPE;
use crate::snapshot::{EdgeKind, NodeKind, Snapshot};

use super::weakmap::js_parse_int;

/// One field of a Context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextField {
    /// The variable's name (the `context` edge's).
    pub name: String,
    /// The value's node ordinal.
    pub value: u32,
    /// Whether a live function can use it; None when the snapshot has no scope tables or the
    /// Context's scope is not in them (nothing to tell).
    pub used: Option<bool>,
}

/// What the analysis needs from the whole heap, gathered once.
#[derive(Debug, Default)]
pub struct ContextAnalysis {
    /// `(script, scope id)` → position in `snap.scopes.scopes`.
    scope_of: HashMap<(u32, i64), u32>,
    /// `(script, scope id)` of every live function → the Contexts it can reach.
    live: HashMap<(u32, i64), HashSet<u32>>,
    /// ScopeInfo → its script, from SharedFunctionInfos (`name_or_scope_info`).
    scope_info_script: HashMap<u32, u32>,
}

/// `isContextObject`.
pub fn is_context(snap: &Snapshot, node: u32) -> bool {
    let name = snap.node_name(node);
    name == "system / Context" || name.starts_with("system / Context / ")
}

/// `findInternalEdgeTarget`: the target of `node`'s first internal edge named `name`.
fn internal(snap: &Snapshot, node: u32, name: &str) -> Option<u32> {
    snap.edges(node).find_map(|e| {
        (snap.edge_kind(e) == EdgeKind::Internal
            && snap.strings.get(snap.edge_name_index(e)) == name)
            .then(|| snap.edge_to[e as usize])
    })
}

/// `nodeValueAsInt`: a `number` node named `int` whose `value` edge names the number.
fn int_value(snap: &Snapshot, node: u32) -> Option<i64> {
    if snap.node_kind(node) != NodeKind::Number || snap.node_name(node) != "int" {
        return None;
    }
    let value = internal(snap, node, "value")?;
    js_parse_int(snap.node_name(value))
}

fn is_script(snap: &Snapshot, node: u32) -> bool {
    snap.node_name(node).starts_with("system / Script")
}

impl ContextAnalysis {
    /// One pass over the nodes (`scanHeap`, `buildLiveFunctions`); empty without scope tables.
    pub fn new(snap: &Snapshot) -> ContextAnalysis {
        let scopes = &snap.scopes;
        if scopes.is_empty() {
            return ContextAnalysis::default();
        }
        let scope_of = scopes
            .scopes
            .iter()
            .enumerate()
            .map(|(i, s)| ((s.script, s.scope_id), i as u32))
            .collect();
        let mut live: HashMap<(u32, i64), HashSet<u32>> = HashMap::new();
        let mut scope_info_script = HashMap::new();
        for node in 0..snap.node_count() as u32 {
            if snap.node_kind(node) == NodeKind::Closure {
                let (Some(shared), Some(context)) = (
                    internal(snap, node, "shared"),
                    internal(snap, node, "context"),
                ) else {
                    continue;
                };
                let Some(script) = internal(snap, shared, "script") else {
                    continue;
                };
                let Some(scope_id) =
                    internal(snap, shared, "scope_id").and_then(|n| int_value(snap, n))
                else {
                    continue;
                };
                let reach = live.entry((script, scope_id)).or_default();
                // The closure's Context and the `previous` chain, each once (a cycle ends it).
                let mut at = Some(context);
                while let Some(c) = at {
                    if reach.contains(&c) || !is_context(snap, c) {
                        break;
                    }
                    reach.insert(c);
                    at = internal(snap, c, "previous");
                }
            } else if snap
                .node_name(node)
                .starts_with("system / SharedFunctionInfo")
            {
                let info = internal(snap, node, "name_or_scope_info");
                let script = internal(snap, node, "script");
                if let (Some(info), Some(script)) = (info, script)
                    && snap.node_name(info) == "system / ScopeInfo"
                    && is_script(snap, script)
                {
                    scope_info_script.insert(info, script);
                }
            }
        }
        ContextAnalysis {
            scope_of,
            live,
            scope_info_script,
        }
    }

    /// `resolveScopeInfoScriptNodeIndex`: the script of a ScopeInfo, through its
    /// `outer_scope_info` chain (bounded by the node count; a cycle ends it).
    fn script_of(&self, snap: &Snapshot, scope_info: u32) -> Option<u32> {
        let mut seen = HashSet::new();
        let mut at = scope_info;
        while seen.insert(at) {
            if let Some(&script) = self.scope_info_script.get(&at) {
                return Some(script);
            }
            at = internal(snap, at, "outer_scope_info")?;
        }
        None
    }

    /// The fields of Context `context` in edge order, each marked used or not as DevTools'
    /// analysis would; empty when `context` is not a Context.
    pub fn fields(&self, snap: &Snapshot, context: u32) -> Vec<ContextField> {
        if context as usize >= snap.node_count() || !is_context(snap, context) {
            return Vec::new();
        }
        let scope = internal(snap, context, "scope_info").and_then(|info| {
            let scope_id = internal(snap, info, "scope_id").and_then(|n| int_value(snap, n))?;
            let script = self.script_of(snap, info).filter(|&s| is_script(snap, s))?;
            self.scope_of.get(&(script, scope_id)).copied()
        });
        snap.edges(context)
            .filter(|&e| snap.edge_kind(e) == EdgeKind::Context)
            .map(|e| {
                let name = snap.strings.get(snap.edge_name_index(e)).to_string();
                let used = scope.and_then(|s| self.used(snap, s, &name, context));
                ContextField {
                    name,
                    value: snap.edge_to[e as usize],
                    used,
                }
            })
            .collect()
    }

    /// `isVariableUsedInContext` for the variable `name` of scope `scope`; None when the scope
    /// declares no such variable (DevTools does not judge those fields).
    fn used(&self, snap: &Snapshot, scope: u32, name: &str, context: u32) -> Option<bool> {
        let scopes = &snap.scopes;
        let declaring = scopes.scopes.get(scope as usize)?;
        let (from, to) = declaring.vars;
        let slot = scopes.var_names[from as usize..to as usize]
            .iter()
            .position(|&n| snap.strings.get(n) == name)? as u32;
        // Every scope of the script that uses (declaring scope id, slot).
        let used = scopes.scopes.iter().any(|s| {
            s.script == declaring.script
                && scopes.uses[s.uses.0 as usize..s.uses.1 as usize]
                    .iter()
                    .any(|&(id, sl)| id == declaring.scope_id && sl == slot)
                && self.reaches_live(snap, s, context)
        });
        Some(used)
    }

    /// Whether the using scope or one enclosing it is a live function that reaches `context`.
    fn reaches_live(
        &self,
        snap: &Snapshot,
        using: &crate::snapshot::scopes::Scope,
        context: u32,
    ) -> bool {
        let scopes = &snap.scopes.scopes;
        let mut at = Some(using);
        // Parents always come earlier, so the walk ends; the bound guards it anyway.
        for _ in 0..=scopes.len() {
            let Some(s) = at else { break };
            if self
                .live
                .get(&(s.script, s.scope_id))
                .is_some_and(|reach| reach.contains(&context))
            {
                return true;
            }
            at = (s.parent != NO_SCOPE)
                .then(|| scopes.get(s.parent as usize))
                .flatten();
        }
        false
    }
}

/// The Context a node's variables live in: a closure's `context`, or the node itself when it
/// is a Context.
pub fn context_of(snap: &Snapshot, node: u32) -> Option<u32> {
    if node as usize >= snap.node_count() {
        return None;
    }
    if is_context(snap, node) {
        return Some(node);
    }
    (snap.node_kind(node) == NodeKind::Closure)
        .then(|| internal(snap, node, "context"))
        .flatten()
        .filter(|&c| is_context(snap, c))
}

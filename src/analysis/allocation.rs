//! Allocation stacks as people read them: DevTools' "Allocation stack" of a selected object
//! (`HeapSnapshot.allocationStack`), and where most objects of a set were allocated.
//!
//! The frames come from the snapshot's allocation traces ([`crate::snapshot::Traces`]); a
//! function's script is the name V8 recorded, or, when it recorded none, the name of the
//! script with its id ([`ScriptNames`]). Lines and columns are 1-based, as V8 writes them (0
//! when it did not know them).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::scripts::ScriptNames;
use crate::snapshot::{Snapshot, TraceFunction};

/// One frame of an allocation stack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationFrame {
    pub function: String,
    /// The script's name; empty when neither the trace nor the snapshot names it.
    pub script: String,
    pub line: u32,
    pub column: u32,
}

/// Where most objects of a set were allocated: the innermost frame they share most, and how
/// many of them it allocated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationSite {
    pub function: String,
    pub script: String,
    pub line: u32,
    pub column: u32,
    pub count: u64,
}

/// `server.js:12:5`: the script's file name ([`super::scripts::file_name`]), then the line
/// and column where V8 knew them; `<anonymous>` for a script without a name, empty for a frame
/// without script or line (the trace tree's `(root)`).
pub fn frame_location(f: &AllocationFrame) -> String {
    let mut out = match super::scripts::file_name(&f.script) {
        "" if f.line == 0 => return String::new(),
        "" => "<anonymous>".to_string(),
        name => name.to_string(),
    };
    if f.line > 0 {
        out.push_str(&format!(":{}", f.line));
        if f.column > 0 {
            out.push_str(&format!(":{}", f.column));
        }
    }
    out
}

fn frame(snap: &Snapshot, scripts: &ScriptNames, f: &TraceFunction) -> AllocationFrame {
    let recorded = snap.strings.get(f.script_name);
    let script = if recorded.is_empty() {
        scripts.name(snap, f.script_id)
    } else {
        recorded
    };
    AllocationFrame {
        function: snap.strings.get(f.name).to_string(),
        script: script.to_string(),
        line: f.line,
        column: f.column,
    }
}

/// The allocation stack of `node`, innermost frame first (DevTools' order, its tree's
/// `(root)` last); empty without allocation traces.
pub fn allocation_stack(snap: &Snapshot, scripts: &ScriptNames, node: u32) -> Vec<AllocationFrame> {
    snap.allocation_stack(node)
        .iter()
        .map(|f| frame(snap, scripts, f))
        .collect()
}

/// The innermost allocation frame most of `nodes` share (ties: the one met first); None
/// without allocation traces or when none of them has a stack.
pub fn most_common_site(
    snap: &Snapshot,
    scripts: &ScriptNames,
    nodes: &[u32],
) -> Option<AllocationSite> {
    if snap.node_trace_id.is_empty() {
        return None;
    }
    let mut count: HashMap<TraceFunction, (u64, usize)> = HashMap::new();
    for (i, &node) in nodes.iter().enumerate() {
        let id = snap.node_trace_id.get(node as usize).copied().unwrap_or(0);
        if let Some(f) = snap.traces.innermost(id) {
            count.entry(f).or_insert((0, i)).0 += 1;
        }
    }
    let (f, (n, _)) = count
        .into_iter()
        .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))?;
    let AllocationFrame {
        function,
        script,
        line,
        column,
    } = frame(snap, scripts, &f);
    Some(AllocationSite {
        function,
        script,
        line,
        column,
        count: n,
    })
}

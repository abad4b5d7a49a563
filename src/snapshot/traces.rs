//! Allocation traces: what a snapshot taken with allocation tracking (`--track-heap-objects`,
//! `HeapProfiler.startTrackingHeapObjects({trackAllocations: true})`, DevTools' "Allocation
//! instrumentation") says about where each object was allocated.
//!
//! `trace_function_infos` lists the functions (name and script name as string indexes, script
//! id, line and column, 1-based, 0 when unknown: V8's `SerializePosition` writes `position + 1`);
//! `trace_tree` is the tree of call stacks at allocation time (nested arrays
//! `[id, function_info_index, count, size, [children…]]`); each node's `trace_node_id` names the
//! trace node that allocated it, 0 for none.

/// One function of `trace_function_infos`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TraceFunction {
    /// String table index of the function's name.
    pub name: u32,
    /// String table index of the script's name (empty for scripts without one).
    pub script_name: u32,
    pub script_id: u32,
    /// 1-based; 0 when V8 did not know it.
    pub line: u32,
    /// 1-based; 0 when V8 did not know it.
    pub column: u32,
}

/// One node of `trace_tree`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceNode {
    /// The id nodes' `trace_node_id` refers to.
    pub id: u32,
    /// Index into [`Traces::functions`].
    pub function: u32,
    /// Position of the parent in [`Traces::nodes`] ([`NO_PARENT`] for the root): always a
    /// smaller position, so a walk up always ends.
    pub parent: u32,
}

pub const NO_PARENT: u32 = u32::MAX;

/// The allocation traces of a snapshot; empty when it was taken without tracking.
#[derive(Debug, Default)]
pub struct Traces {
    pub functions: Vec<TraceFunction>,
    /// Trace nodes, every parent before its children.
    pub nodes: Vec<TraceNode>,
    /// Positions in `nodes`, by ascending id.
    by_id: Vec<u32>,
}

impl Traces {
    /// From parsed parts the loader has validated: every function index in range, every parent
    /// before its child.
    pub fn new(functions: Vec<TraceFunction>, nodes: Vec<TraceNode>) -> Traces {
        debug_assert!(nodes.iter().enumerate().all(|(i, n)| {
            (n.function as usize) < functions.len()
                && (n.parent == NO_PARENT || (n.parent as usize) < i)
        }));
        let mut by_id: Vec<u32> = (0..nodes.len() as u32).collect();
        by_id.sort_by_key(|&i| nodes[i as usize].id);
        Traces {
            functions,
            nodes,
            by_id,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// DevTools' `serializeAllocationStack`: the functions of trace node `trace_node_id` and
    /// each of its parents up to the tree's root (included, as DevTools lists it), innermost
    /// first; empty for 0 (no trace: DevTools' `allocationStack` gives null) or an id the tree
    /// lacks.
    pub fn stack(&self, trace_node_id: u32) -> Vec<TraceFunction> {
        if trace_node_id == 0 {
            return Vec::new();
        }
        let Ok(found) = self
            .by_id
            .binary_search_by_key(&trace_node_id, |&i| self.nodes[i as usize].id)
        else {
            return Vec::new();
        };
        let mut at = self.by_id[found];
        let mut stack = Vec::new();
        while let Some(node) = self.nodes.get(at as usize) {
            if let Some(&f) = self.functions.get(node.function as usize) {
                stack.push(f);
            }
            at = node.parent;
        }
        stack
    }

    /// The function of trace node `trace_node_id` itself (the innermost frame), without
    /// walking up.
    pub fn innermost(&self, trace_node_id: u32) -> Option<TraceFunction> {
        if trace_node_id == 0 {
            return None;
        }
        let found = self
            .by_id
            .binary_search_by_key(&trace_node_id, |&i| self.nodes[i as usize].id)
            .ok()?;
        let node = self.nodes.get(self.by_id[found] as usize)?;
        self.functions.get(node.function as usize).copied()
    }

    pub fn heap_bytes(&self) -> usize {
        self.functions.capacity() * std::mem::size_of::<TraceFunction>()
            + self.nodes.capacity() * std::mem::size_of::<TraceNode>()
            + self.by_id.capacity() * 4
    }
}

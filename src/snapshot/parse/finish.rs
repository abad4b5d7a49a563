//! Validation and finishing: every count the header states and every value that will be used as
//! an index is checked, edge counts become CSR offsets, locations are sorted, and the
//! [`Snapshot`] is handed out; the rest of the engine can then index without fear.

use rayon::prelude::*;

use super::Builder;
use crate::format;
use crate::snapshot::columns::NOT_A_NODE;
use crate::snapshot::error::LoadErrorKind;
use crate::snapshot::meta::{EdgeKind, NodeKind};
use crate::snapshot::traces::{TraceFunction, Traces};
use crate::snapshot::{Location, Locations, Snapshot};

impl Builder<'_> {
    /// Checks counts and every index, and turns edge counts into CSR offsets.
    pub(super) fn finish(mut self) -> Result<Snapshot, LoadErrorKind> {
        // The checks and the location index take a second or two on a multi-gigabyte file.
        self.hooks.report("checking the graph", 1.0);
        let Some((header, layout, _)) = self.header.take() else {
            if self.jsc_keys {
                return Err(super::jsc_format());
            }
            return Err(LoadErrorKind::NotSnapshot("no \"snapshot\" header".into()));
        };
        let mut warnings = Vec::new();
        let (Some(nodes), Some(edges)) = (self.nodes.take(), self.edges.take()) else {
            let what = if self.nodes.is_none() {
                "nodes"
            } else {
                "edges"
            };
            return Err(LoadErrorKind::NotSnapshot(format!("no \"{what}\" section")));
        };
        if !self.seen_strings {
            return Err(LoadErrorKind::NotSnapshot("no \"strings\" section".into()));
        }
        let nf = layout.node_fields.len();
        let ef = layout.edge_fields.len();
        if !self.node_values.is_multiple_of(nf as u64) {
            return Err(LoadErrorKind::Misaligned {
                section: "nodes".into(),
                len: self.node_values,
                fields: nf,
            });
        }
        if !self.edge_values.is_multiple_of(ef as u64) {
            return Err(LoadErrorKind::Misaligned {
                section: "edges".into(),
                len: self.edge_values,
                fields: ef,
            });
        }
        let s = &mut self.snap;
        s.node_type = nodes.node_type;
        s.node_name = nodes.name;
        s.node_id = nodes.id;
        s.node_self_size = nodes.self_size;
        s.first_edge = nodes.edge_count;
        s.node_detachedness = nodes.detachedness;
        let node_trace_id = nodes.trace_node_id;
        let edges = edges.into_edges();
        s.edges = edges.packed;
        s.edge_to = edges.to;
        let node_count = (self.node_values / nf as u64) as usize;
        let edge_count = (self.edge_values / ef as u64) as usize;
        if let Some(h) = header.node_count
            && h != node_count as u64
        {
            return Err(LoadErrorKind::CountMismatch {
                what: "nodes",
                header: h,
                actual: node_count as u64,
            });
        }
        if let Some(h) = header.edge_count
            && h != edge_count as u64
        {
            return Err(LoadErrorKind::CountMismatch {
                what: "edges",
                header: h,
                actual: edge_count as u64,
            });
        }
        if node_count == 0 {
            return Err(LoadErrorKind::NotSnapshot(
                "the snapshot has no nodes".into(),
            ));
        }
        if node_count >= u32::MAX as usize || edge_count >= u32::MAX as usize {
            return Err(LoadErrorKind::TooLarge(format!(
                "{node_count} nodes and {edge_count} edges; at most 2^32 - 1 of each are supported"
            )));
        }
        let strings = s.strings.len() as u64;
        // Node types and names.
        let types = s.meta.node_types.len();
        if first_bad(&s.node_type, |&t| t as usize >= types).is_some() {
            // V8 6.2 (Node 8) writes its symbols with type 12, one past the 12 types its meta
            // lists (the list gained "symbol" a version later). DevTools opens such files: the
            // type is `nodeTypes[12]`, undefined, so the class is "(undefined)". Exactly one
            // past a list without "symbol" is that quirk; anything else is a corrupt file.
            let symbols_past_list = !s.meta.node_types.iter().any(|t| t == "symbol");
            let bad = |&t: &u8| t as usize > types || (t as usize == types && !symbols_past_list);
            if let Some(i) = first_bad(&s.node_type, bad) {
                return Err(LoadErrorKind::BadNode {
                    node: i as u64,
                    what: format!("unknown node type {} (meta lists {types})", s.node_type[i]),
                });
            }
            let count = s.node_type.iter().filter(|&&t| t as usize == types).count();
            warnings.push(format!(
                "{} nodes have node type {types}, one past the {types} types snapshot.meta \
                 lists (V8 6.2, Node 8, writes its symbols so); they count as class \
                 (undefined), as in DevTools",
                format::thousands(count as u64)
            ));
        }
        unknown_types(s, &mut warnings);
        if let Some(i) = first_bad(&s.node_name, |&n| n as u64 >= strings) {
            return Err(LoadErrorKind::BadNode {
                node: i as u64,
                what: format!(
                    "name {} is past the end of the {strings} strings",
                    s.node_name[i]
                ),
            });
        }
        // Edge counts to CSR offsets.
        let mut total: u64 = 0;
        for slot in s.first_edge.iter_mut() {
            let count = *slot as u64;
            *slot = total as u32;
            total += count;
            if total > edge_count as u64 {
                break;
            }
        }
        if total != edge_count as u64 {
            return Err(LoadErrorKind::CountMismatch {
                what: "edges (sum of the nodes' edge_count fields)",
                header: total,
                actual: edge_count as u64,
            });
        }
        s.first_edge.push(total as u32);
        // Edge types, targets and names. The packed column has no room for a type the meta
        // does not list: the loader noted the first one as it read.
        let edge_types = s.meta.edge_types.len();
        if let Some((edge, t)) = edges.unknown_type {
            return Err(LoadErrorKind::BadEdge {
                edge,
                what: format!("unknown edge type {t} (meta lists {edge_types})"),
            });
        }
        if let Some(i) = first_bad(&s.edge_to, |&t| t as usize >= node_count) {
            return Err(LoadErrorKind::BadEdge {
                edge: i as u64,
                what: format!(
                    "to_node {} is past the last node",
                    s.edge_to[i] as u64 * nf as u64
                ),
            });
        }
        let meta = &s.meta;
        let string_named: Vec<bool> = (0..=255u8)
            .map(|t| meta.edge_kind(t).has_string_name())
            .collect();
        let bad_name = first_bad_index(edge_count, |e| {
            let e = e as u32;
            string_named[s.edge_type(e) as usize] && u64::from(s.edge_name_index(e)) >= strings
        });
        if let Some(i) = bad_name {
            return Err(LoadErrorKind::BadEdge {
                edge: i as u64,
                what: format!(
                    "name {} is past the end of the {strings} strings",
                    s.edge_name_index(i as u32)
                ),
            });
        }
        // Root.
        let root_index = header.root_index.unwrap_or(0);
        if root_index % nf as u64 != 0 || root_index / nf as u64 >= node_count as u64 {
            return Err(LoadErrorKind::BadMeta(format!(
                "root_index {root_index} is not a node"
            )));
        }
        s.root = (root_index / nf as u64) as u32;
        // Locations.
        let lf = &layout.location_fields;
        if self.location_values > 0 {
            let width = s.meta.location_fields.len();
            if width == 0 || lf.len() != 4 || !self.location_values.is_multiple_of(width as u64) {
                return Err(LoadErrorKind::Misaligned {
                    section: "locations".into(),
                    len: self.location_values,
                    fields: width,
                });
            }
            let (mut locations, script_objects) = self
                .locations
                .take()
                .map(|l| (l.rows, l.script_objects))
                .unwrap_or_default();
            // Chromium 150+ and Deno name each location's Script node: one per script id,
            // the first that is a node (a bad index is ignored, as DevTools ignores the field).
            let mut scripts: Vec<(u32, u32)> = locations
                .iter()
                .zip(&script_objects)
                .filter(|&(_, &node)| (node as usize) < node_count)
                .map(|(l, &node)| (l.script_id, node))
                .collect();
            scripts.sort_by_key(|&(id, _)| id);
            scripts.dedup_by_key(|&mut (id, _)| id);
            s.script_objects = scripts;
            if let Some(i) = first_bad(&locations, |l| l.node as usize >= node_count) {
                let node = locations[i].node;
                let what = if node == NOT_A_NODE {
                    format!("location {i} does not point at a node")
                } else {
                    format!("location {i} points past the last node")
                };
                return Err(LoadErrorKind::BadNode {
                    node: u64::from(node),
                    what,
                });
            }
            // Node writes locations in runs of ascending nodes, not sorted; the stable sort
            // takes those runs as they are.
            if !locations.is_sorted_by_key(|l| l.node) {
                locations.par_sort_by_key(|l| l.node);
            }
            // A node has one location; should a file give one several, the smallest is kept,
            // whatever order the sort left them in.
            if locations.windows(2).any(|w| w[0].node == w[1].node) {
                let runs = locations.chunk_by(|a, b| a.node == b.node);
                let smallest = |run: &[Location]| {
                    run.iter()
                        .copied()
                        .min_by_key(|l| (l.script_id, l.line, l.column))
                };
                locations = runs.filter_map(smallest).collect();
            }
            s.locations = Locations::new(node_count, &locations);
        }
        // Node writes the field but leaves it 0 everywhere; an all-unknown column carries no
        // information (DOM state propagation starts from attached/detached nodes only), so it is
        // not kept.
        if !layout.has_detachedness || s.node_detachedness.iter().all(|&d| d == 0) {
            s.node_detachedness = Vec::new();
        }
        // Allocation traces.
        let functions = self.trace_functions.take();
        let tree = self.trace_tree.take();
        let strings = s.strings.len();
        match allocation_traces(&header, functions, tree, strings, &mut warnings) {
            Some(traces) if node_trace_id.iter().any(|&t| t != 0) => {
                s.traces = traces;
                s.node_trace_id = node_trace_id;
            }
            _ => {}
        }
        let tables = std::mem::take(&mut self.scope_tables);
        s.scopes = scope_tables(&header, tables, nf, node_count, strings, &mut warnings);
        s.extra_native_bytes = header
            .extra_native_bytes
            .as_ref()
            .and_then(|n| n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)));
        for key in &self.unknown_sections {
            warnings.push(format!(
                "section \"{}\" is new to heapdiff; skipped, as DevTools skips sections it does \
                 not read",
                format::one_line(key)
            ));
        }
        let file = format::one_line(&self.name);
        s.warnings = warnings
            .into_iter()
            .map(|w| format!("{file}: {w}"))
            .collect();
        s.file_name = self.name;
        s.file_bytes = self.file_bytes;
        Ok(self.snap)
    }
}

/// Node and edge types whose names heapdiff does not know (a newer V8's), as DevTools keeps
/// them: nodes of such a type count as class `(<type name>)` (`calculateObjectNames`' default),
/// edges of such a type are followed like property edges.
fn unknown_types(s: &Snapshot, warnings: &mut Vec<String>) {
    let meta = &s.meta;
    let unknown_nodes: Vec<usize> = (0..meta.node_types.len())
        .filter(|&t| meta.node_kind(t as u8) == NodeKind::Other)
        .collect();
    if !unknown_nodes.is_empty() {
        let mut count = [0u64; 256];
        for &t in &s.node_type {
            count[t as usize] += 1;
        }
        for t in unknown_nodes {
            if count[t] > 0 {
                warnings.push(format!(
                    "{} nodes have node type \"{}\", new to heapdiff; they count as class ({}), \
                     as in DevTools",
                    format::thousands(count[t]),
                    format::one_line(&meta.node_types[t]),
                    format::one_line(&meta.node_types[t])
                ));
            }
        }
    }
    let unknown_edges: Vec<usize> = (0..meta.edge_types.len())
        .filter(|&t| meta.edge_kind(t as u8) == EdgeKind::Other)
        .collect();
    if !unknown_edges.is_empty() {
        let mut count = [0u64; 256];
        for e in 0..s.edge_count() as u32 {
            count[s.edge_type(e) as usize] += 1;
        }
        for t in unknown_edges {
            if count[t] > 0 {
                warnings.push(format!(
                    "{} edges have edge type \"{}\", new to heapdiff; they are kept as edges \
                     named by a string, as DevTools keeps them",
                    format::thousands(count[t]),
                    format::one_line(&meta.edge_types[t])
                ));
            }
        }
    }
}

/// The scope tables, validated as DevTools' `parseEmbeddedScopes` reads them (a scope's depth
/// names its parent among the scopes before it, counts walk the variable and use tables in
/// order); empty, with a warning saying why, when they are unusable.
fn scope_tables(
    header: &super::header::Header,
    tables: [Option<Result<Vec<i64>, String>>; 3],
    nf: usize,
    node_count: usize,
    strings: usize,
    warnings: &mut Vec<String>,
) -> crate::snapshot::Scopes {
    use crate::snapshot::scopes::{NO_SCOPE, Scope, Scopes};
    let [scopes, vars, uses] = tables;
    let Some(scopes) = scopes else {
        return Scopes::default();
    };
    let unusable = |warnings: &mut Vec<String>, why: String| {
        warnings.push(format!(
            "the scope tables are unusable ({why}); Context fields are shown without which \
             of them live functions use"
        ));
        Scopes::default()
    };
    let (scopes, vars, uses) = match (
        scopes,
        vars.unwrap_or(Ok(Vec::new())),
        uses.unwrap_or(Ok(Vec::new())),
    ) {
        (Ok(s), Ok(v), Ok(u)) => (s, v, u),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return unusable(warnings, e),
    };
    let meta = &header.meta;
    let at = |fields: &[String], name: &str| fields.iter().position(|f| f == name);
    let sf = &meta.scope_fields;
    let (Some(script_at), Some(id_at), Some(depth_at), Some(vars_at), Some(uses_at)) = (
        at(sf, "script_node_index"),
        at(sf, "scope_id"),
        at(sf, "depth"),
        at(sf, "scope_context_vars_count"),
        at(sf, "scope_uses_count"),
    ) else {
        return unusable(warnings, "meta.scope_fields lacks a field".into());
    };
    let (vf, uf) = (&meta.scope_context_var_fields, &meta.scope_use_fields);
    let (Some(name_at), Some(declaring_at), Some(slot_at)) = (
        at(vf, "name"),
        at(uf, "declaring_scope_id"),
        at(uf, "slot_index"),
    ) else {
        return unusable(warnings, "meta lacks a scope variable or use field".into());
    };
    let (width, var_width, use_width) = (sf.len(), vf.len(), uf.len());
    if !scopes.len().is_multiple_of(width)
        || !vars.len().is_multiple_of(var_width)
        || !uses.len().is_multiple_of(use_width)
    {
        return unusable(warnings, "a table is not a multiple of its fields".into());
    }
    let in_range = |v: i64, below: usize| usize::try_from(v).ok().filter(|&v| v < below);
    let var_names: Option<Vec<u32>> = vars
        .chunks_exact(var_width)
        .map(|r| in_range(r[name_at], strings).map(|n| n as u32))
        .collect();
    let Some(var_names) = var_names else {
        return unusable(warnings, "a variable name is past the strings".into());
    };
    let use_rows: Option<Vec<(i64, u32)>> = uses
        .chunks_exact(use_width)
        .map(|r| Some((r[declaring_at], u32::try_from(r[slot_at]).ok()?)))
        .collect();
    let Some(use_rows) = use_rows else {
        return unusable(warnings, "a slot index is out of range".into());
    };
    let mut out = Vec::with_capacity(scopes.len() / width);
    let mut stack: Vec<u32> = Vec::new();
    let mut current_script = None;
    let (mut var_at, mut use_at) = (0usize, 0usize);
    for (i, r) in scopes.chunks_exact(width).enumerate() {
        let script = in_range(r[script_at], node_count * nf)
            .filter(|v| v.is_multiple_of(nf))
            .map(|v| (v / nf) as u32);
        let (Some(script), Some(depth), Some(nvars), Some(nuses)) = (
            script,
            usize::try_from(r[depth_at]).ok(),
            usize::try_from(r[vars_at]).ok(),
            usize::try_from(r[uses_at]).ok(),
        ) else {
            return unusable(warnings, format!("scope {i} has a value out of range"));
        };
        if current_script != Some(script) {
            current_script = Some(script);
            stack.clear();
        }
        let parent = match depth {
            0 => NO_SCOPE,
            d => match stack.get(d - 1) {
                Some(&p) => p,
                None => return unusable(warnings, format!("scope {i} nests past its parents")),
            },
        };
        let (var_end, use_end) = (var_at + nvars, use_at + nuses);
        if var_end > var_names.len() || use_end > use_rows.len() {
            return unusable(warnings, format!("scope {i} counts past the tables"));
        }
        out.push(Scope {
            script,
            scope_id: r[id_at],
            parent,
            vars: (var_at as u32, var_end as u32),
            uses: (use_at as u32, use_end as u32),
        });
        stack.truncate(depth);
        stack.push(i as u32);
        (var_at, use_at) = (var_end, use_end);
    }
    Scopes {
        scopes: out,
        var_names,
        uses: use_rows,
    }
}

/// The allocation traces, validated; None (with a warning saying why) when the file's are
/// unusable, or when it has none.
fn allocation_traces(
    header: &super::header::Header,
    functions: Option<(crate::snapshot::columns::FlatColumns, u64)>,
    tree: Option<Result<Vec<crate::snapshot::traces::TraceNode>, String>>,
    strings: usize,
    warnings: &mut Vec<String>,
) -> Option<Traces> {
    let announced = header.trace_function_count.unwrap_or(0);
    if announced == 0 {
        // DevTools reads no traces then either (`if (trace_function_count)`).
        return None;
    }
    fn unusable(warnings: &mut Vec<String>, why: String) -> Option<Traces> {
        warnings.push(format!(
            "the allocation traces are unusable ({why}); objects are shown without their \
             allocation stacks"
        ));
        None
    }
    let fields = &header.meta.trace_function_info_fields;
    let at = |name: &str| fields.iter().position(|f| f == name);
    let (Some(name), Some(script_name), Some(script_id), Some(line), Some(column)) = (
        at("name"),
        at("script_name"),
        at("script_id"),
        at("line"),
        at("column"),
    ) else {
        return unusable(
            warnings,
            "meta.trace_function_info_fields lacks a field".into(),
        );
    };
    let Some((columns, values)) = functions else {
        return unusable(warnings, "no \"trace_function_infos\" section".into());
    };
    let width = fields.len() as u64;
    if values > columns.values.len() as u64 {
        return unusable(
            warnings,
            format!(
                "\"trace_function_infos\" holds {} values, more than heapdiff keeps",
                format::thousands(values)
            ),
        );
    }
    if !values.is_multiple_of(width) {
        return unusable(
            warnings,
            format!(
                "\"trace_function_infos\" holds {values} values, not a multiple of its {width} fields"
            ),
        );
    }
    let functions: Vec<TraceFunction> = columns
        .values
        .chunks_exact(width as usize)
        .map(|f| TraceFunction {
            name: f[name],
            script_name: f[script_name],
            script_id: f[script_id],
            line: f[line],
            column: f[column],
        })
        .collect();
    if let Some(i) = functions
        .iter()
        .position(|f| f.name as usize >= strings || f.script_name as usize >= strings)
    {
        return unusable(
            warnings,
            format!("function {i} names a string past the end of the {strings} strings"),
        );
    }
    let held = functions.len() as u64;
    if held != announced {
        // Node's in-process tracking (Node 18–26, `HeapProfiler.startTrackingHeapObjects` in
        // the process itself) writes the header before serialising, and serialising runs more
        // functions: the list is longer than the count. DevTools reads only the count's worth
        // (`HeapSnapshotLoader.#parseArray` with a fixed length) and then fails on a trace
        // node of a later function (`Cannot read properties of undefined (reading
        // 'addTraceTopNode')`).
        warnings.push(format!(
            "the header's trace_function_count is {announced} but trace_function_infos lists \
             {held} functions; heapdiff reads all {held} (DevTools stops at {announced} and \
             fails on this file)"
        ));
    }
    let nodes = match tree {
        None => return unusable(warnings, "no \"trace_tree\" section".into()),
        Some(Err(problem)) => return unusable(warnings, format!("\"trace_tree\": {problem}")),
        Some(Ok(nodes)) => nodes,
    };
    if let Some(n) = nodes.iter().find(|n| n.function as u64 >= held) {
        return unusable(
            warnings,
            format!(
                "trace node {} names function {}, past the {held} functions",
                n.id, n.function
            ),
        );
    }
    Some(Traces::new(functions, nodes))
}

/// Index of the first element for which `bad` holds.
fn first_bad<T: Sync>(values: &[T], bad: impl Fn(&T) -> bool + Sync) -> Option<usize> {
    first_bad_index(values.len(), |i| bad(&values[i]))
}

/// The first of `0..len` for which `bad` holds, checked on all cores in large chunks (a
/// per-element parallel search pays for an atomic check per element).
fn first_bad_index(len: usize, bad: impl Fn(usize) -> bool + Sync) -> Option<usize> {
    const CHUNK: usize = 1 << 18;
    (0..len.div_ceil(CHUNK))
        .into_par_iter()
        .find_map_first(|k| (k * CHUNK..len.min((k + 1) * CHUNK)).find(|&i| bad(i)))
}

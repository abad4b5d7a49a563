//! `heapdiff retainers`: the Retainers pane of one object, its dominator chain and its shortest
//! path to a GC root, in the stable JSON shape the CLI documents.

use std::io::Write;

use serde::Serialize;

use crate::analysis::paths::{self, Naming, PaneLimits, RetainerList};
use crate::format;
use crate::loaded::Loaded;
use crate::snapshot::class;

#[derive(Serialize)]
pub struct NodeInfo {
    pub id: u32,
    pub name: String,
    pub class_name: String,
    #[serde(rename = "type")]
    pub node_type: String,
    pub self_size: u32,
    pub retained_size: u64,
    pub distance: i32,
}

#[derive(Serialize)]
pub struct RetainerEdge {
    pub edge_type: String,
    pub edge_name: String,
    pub node: NodeInfo,
    pub cycled: bool,
    /// How many retaining edges this node has in the pane; `retainers` holds the first `limit`.
    pub retainers_total: usize,
    pub retainers: Vec<RetainerEdge>,
}

#[derive(Serialize)]
pub struct PathStep {
    pub edge_type: String,
    pub edge_name: String,
    pub node: NodeInfo,
}

#[derive(Serialize)]
pub struct RetainersReport {
    pub file: String,
    pub node: NodeInfo,
    pub retainers_total: usize,
    pub retainers: Vec<RetainerEdge>,
    /// The node, its immediate dominator, and so on up to the root.
    pub dominator_chain: Vec<NodeInfo>,
    /// The shortest retaining path to a GC root: edges from the node outwards.
    pub shortest_path: Vec<PathStep>,
}

pub fn node_info(loaded: &Loaded, node: u32) -> NodeInfo {
    let s = &loaded.snapshot;
    let dom = (!loaded.classes.dom_state.is_empty()).then_some(loaded.classes.dom_state.as_slice());
    NodeInfo {
        id: s.node_id[node as usize],
        name: class::display_name(s, dom, node).into_owned(),
        class_name: loaded.classes.name_of(node).to_string(),
        node_type: s
            .meta
            .node_type_name(s.node_type[node as usize])
            .to_string(),
        self_size: loaded.shallow[node as usize],
        retained_size: loaded.analysis.retained(node),
        distance: loaded.analysis.distance[node as usize],
    }
}

/// Builds the report for `node`, expanding the tree `depth` levels with the first `limit`
/// retainers of each node (DevTools' first page is 25), under a total cap so a hub node cannot
/// produce an unbounded document.
pub fn build(loaded: &Loaded, node: u32, depth: usize, limit: usize) -> RetainersReport {
    let s = &loaded.snapshot;
    let dom = (!loaded.classes.dom_state.is_empty()).then_some(loaded.classes.dom_state.as_slice());
    let name = |n: u32| class::display_name(s, dom, n).into_owned();
    let naming = Naming {
        name: &name,
        class_name: None,
    };
    let limits = PaneLimits {
        depth,
        per_node: limit,
        max_rows: 100_000,
    };
    let list = paths::retainer_tree(s, &loaded.analysis, &loaded.shallow, &naming, node, limits);
    let retainers_total = list.total;
    let retainers = convert(loaded, list);
    let dominator_chain = paths::dominator_chain(s, &loaded.analysis, node)
        .into_iter()
        .map(|n| node_info(loaded, n))
        .collect();
    let shortest_path = paths::shortest_path_to_root(s, &loaded.analysis, node, &name)
        .into_iter()
        .map(|(edge, from)| PathStep {
            edge_type: s.meta.edge_type_name(s.edge_type(edge)).to_string(),
            edge_name: paths::edge_display_name(s, edge),
            node: node_info(loaded, from),
        })
        .collect();
    RetainersReport {
        file: s.file_name.clone(),
        node: node_info(loaded, node),
        retainers_total,
        retainers,
        dominator_chain,
        shortest_path,
    }
}

/// Turns the pane's rows into the documented shape, without recursion (trees can be deep).
fn convert(loaded: &Loaded, list: RetainerList) -> Vec<RetainerEdge> {
    // Post-order over an explicit stack: children are converted before their parent is built.
    enum Step {
        Enter(paths::RetainerRow),
        Exit {
            row: paths::RetainerRow,
            children: usize,
            total: usize,
        },
    }
    let mut out: Vec<RetainerEdge> = Vec::new();
    let mut stack: Vec<Step> = list.rows.into_iter().rev().map(Step::Enter).collect();
    // Rows finished but not yet attached to their parent.
    let mut done: Vec<RetainerEdge> = Vec::new();
    let mut top_level = 0usize;
    let mut depth_marks: Vec<usize> = Vec::new();
    while let Some(step) = stack.pop() {
        match step {
            Step::Enter(mut row) => {
                let (total, children) = row
                    .retainers
                    .take()
                    .map(|l| (l.total, l.rows))
                    .unwrap_or_default();
                let count = children.len();
                depth_marks.push(done.len());
                stack.push(Step::Exit {
                    row,
                    children: count,
                    total,
                });
                stack.extend(children.into_iter().rev().map(Step::Enter));
            }
            Step::Exit {
                row,
                children,
                total,
            } => {
                let mark = depth_marks.pop().unwrap_or(0);
                let kids: Vec<RetainerEdge> = done.drain(mark..).collect();
                debug_assert_eq!(kids.len(), children);
                let node = loaded
                    .analysis
                    .edge_source(&loaded.snapshot, row.edge_index);
                done.push(RetainerEdge {
                    edge_type: row.edge_type,
                    edge_name: row.edge_name,
                    node: node_info(loaded, node),
                    cycled: row.cycled,
                    retainers_total: total,
                    retainers: kids,
                });
                if depth_marks.is_empty() {
                    top_level += 1;
                }
            }
        }
    }
    debug_assert_eq!(top_level, done.len());
    out.append(&mut done);
    out
}

/// The human tree: one line per retaining edge, indented by depth.
pub fn write_table(out: &mut impl Write, report: &RetainersReport) -> std::io::Result<()> {
    let line = |n: &NodeInfo| {
        format!(
            "{} @{}  [{}]  distance {}  self {}  retained {}",
            format::one_line(&n.name),
            n.id,
            format::one_line(&n.class_name),
            n.distance,
            format::bytes(n.self_size as u64),
            format::bytes(n.retained_size)
        )
    };
    writeln!(out, "{}: {}", report.file, line(&report.node))?;
    let mut stack: Vec<(&RetainerEdge, usize)> =
        report.retainers.iter().rev().map(|r| (r, 1)).collect();
    while let Some((edge, depth)) = stack.pop() {
        writeln!(
            out,
            "{}← {} {} in {}{}",
            "  ".repeat(depth),
            edge.edge_type,
            format::one_line(&edge.edge_name),
            line(&edge.node),
            if edge.cycled { "  (cycle)" } else { "" }
        )?;
        stack.extend(edge.retainers.iter().rev().map(|r| (r, depth + 1)));
    }
    writeln!(out, "\nDominator chain:")?;
    for n in &report.dominator_chain {
        writeln!(out, "  {}", line(n))?;
    }
    writeln!(out, "\nShortest path to a GC root:")?;
    for step in &report.shortest_path {
        writeln!(
            out,
            "  ← {} {} in {}",
            step.edge_type,
            format::one_line(&step.edge_name),
            line(&step.node)
        )?;
    }
    Ok(())
}

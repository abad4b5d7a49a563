//! Graph analysis of one snapshot, with DevTools' rules: the retainer index, distances from the
//! root, the dominator tree and retained sizes, and the Retainers pane ([`paths`]).
//!
//! Every phase works on flat `u32` vectors indexed by node ordinal or edge index and is
//! iterative; the parts that split cleanly (retainer counting and scattering, essential edges)
//! run on rayon.

pub mod allocation;
pub mod contexts;
pub mod distance;
pub mod dominator_tree;
pub mod dominators;
mod lookahead;
pub mod paths;
pub mod retained;
pub mod retainers;
pub mod scripts;
pub mod summary;
mod weakmap;

use crate::snapshot::Snapshot;
use crate::task::Hooks;

pub use distance::{BASE_SYSTEM_DISTANCE, BASE_UNREACHABLE_DISTANCE, NO_DISTANCE};
pub use retained::RetainedSizes;
pub use retainers::{EdgeSources, RetainerOffsets, Retainers, RetainingEdges};

/// The analysis of one snapshot. Vectors named after nodes have `node_count` entries.
#[derive(Debug, Default)]
pub struct Analysis {
    /// Where each node's retainer list is: that of node `n` is
    /// `retainer_lists[retainer_offsets.range(n)]` ([`Analysis::retaining_edges`]).
    pub retainer_offsets: RetainerOffsets,
    /// Every node's retaining edges, ascending, delta-coded ([`RetainingEdges`]). The source
    /// node of an edge is [`Analysis::edge_source`].
    pub retainer_lists: Vec<u8>,
    /// Sampled index for edge → source node look-ups (1/8 byte per edge).
    pub edge_sources: EdgeSources,
    /// DevTools' `nodeDistances`: BFS depth from the user roots; 100,000,000 + depth for nodes
    /// reached only through other roots; −5 when unreachable.
    pub distance: Vec<i32>,
    /// Immediate dominator ordinal; the root dominates itself.
    pub dominator: Vec<u32>,
    /// Retained size: the node's shallow size plus the retained sizes of the nodes it immediately
    /// dominates ([`Analysis::retained`] reads one).
    pub retained_size: RetainedSizes,
}

impl Analysis {
    /// Frees the reverse-edge index (offsets, lists, edge sources): what reads only sizes,
    /// distances and dominators (the Summary's rows) lets it go first.
    pub fn release_retainers(&mut self) {
        self.retainer_offsets = RetainerOffsets::default();
        self.retainer_lists = Vec::new();
        self.edge_sources = EdgeSources::default();
    }

    /// The reverse-edge index as a borrowed view.
    pub fn retainers<'a>(&'a self, snap: &'a Snapshot) -> Retainers<'a> {
        Retainers {
            offsets: &self.retainer_offsets,
            lists: &self.retainer_lists,
            sources: &self.edge_sources,
            first_edge: &snap.first_edge,
        }
    }

    /// The retaining edges of `node`, ascending by edge index.
    pub fn retaining_edges<'a>(&'a self, snap: &'a Snapshot, node: u32) -> RetainingEdges<'a> {
        self.retainers(snap).edges_of(node)
    }

    /// The retained size of `node`.
    pub fn retained(&self, node: u32) -> u64 {
        self.retained_size.of(node)
    }

    /// The node that owns `edge` (its source).
    pub fn edge_source(&self, snap: &Snapshot, edge: u32) -> u32 {
        self.edge_sources.source(&snap.first_edge, edge)
    }

    /// The numbers the Summary needs.
    pub fn view(&self) -> crate::analysis::summary::AnalysisView<'_> {
        crate::analysis::summary::AnalysisView {
            distance: &self.distance,
            retained_size: &self.retained_size,
            dominator: &self.dominator,
        }
    }

    /// Bytes held by the analysis vectors.
    pub fn heap_bytes(&self) -> usize {
        self.retainer_offsets.heap_bytes()
            + self.retainer_lists.capacity()
            + self.edge_sources.heap_bytes()
            + self.distance.capacity() * 4
            + self.dominator.capacity() * 4
            + self.retained_size.heap_bytes()
    }
}

/// Checks the invariants every phase relies on (the loader guarantees them; hand-built
/// snapshots may not): CSR offsets of the right length, ascending and ending at the edge count,
/// edge targets and the root in range, and counts that fit `u32`.
pub fn check_consistent(snap: &Snapshot) -> Result<(), String> {
    let n = snap.node_count();
    let e = snap.edge_count();
    if n >= u32::MAX as usize || e >= u32::MAX as usize {
        return Err(format!(
            "{n} nodes / {e} edges exceed the u32 ordinal range"
        ));
    }
    if snap.first_edge.len() != n + 1 {
        return Err(format!(
            "first_edge has {} entries for {n} nodes",
            snap.first_edge.len()
        ));
    }
    if snap.first_edge[0] != 0 || snap.first_edge[n] as usize != e {
        return Err("first_edge does not span the edges".into());
    }
    if snap.first_edge.windows(2).any(|w| w[0] > w[1]) {
        return Err("first_edge is not ascending".into());
    }
    if snap.edge_to.len() != e {
        return Err("edge vectors differ in length".into());
    }
    if snap.node_name.len() != n || snap.node_id.len() != n {
        return Err("node vectors differ in length".into());
    }
    if snap.edge_to.iter().any(|&t| t as usize >= n) {
        return Err("an edge points past the last node".into());
    }
    if n > 0 && snap.root as usize >= n {
        return Err(format!("root {} is not a node", snap.root));
    }
    Ok(())
}

/// Runs every phase. `self_sizes` are the shallow sizes DevTools uses for retained sizes: after
/// its `calculateShallowSizes` moved owned arrays' and hidden nodes' sizes to their owners.
///
/// Returns `None` when `cancel` is set (checked between phases and every million nodes) or when
/// the snapshot breaks the invariants of [`check_consistent`] (the loader never produces one).
pub fn analyze(snap: &Snapshot, self_sizes: &[u32], hooks: &Hooks) -> Option<Analysis> {
    analyze_beside(snap, self_sizes, hooks, || ()).map(|(analysis, ())| analysis)
}

/// [`analyze`], with `beside` run on a second thread while the retained sizes and the distances
/// are computed: those last phases are sequential walks, and by then the memory peak (the
/// dominator tree's temporaries) is over, so work that needs only the snapshot (naming classes)
/// costs no extra peak there.
pub fn analyze_beside<T: Send>(
    snap: &Snapshot,
    self_sizes: &[u32],
    hooks: &Hooks,
    beside: impl FnOnce() -> T + Send,
) -> Option<(Analysis, T)> {
    let mut graph = graph(snap, hooks)?;
    let preorder = std::mem::take(&mut graph.preorder);
    let (dominator, weakmaps) = (&graph.dominator, &graph.weakmaps);
    let ((retained_size, distance), beside) = rayon::join(
        || {
            let retained_size = retained_sizes(dominator, preorder, self_sizes, hooks);
            if hooks.is_cancelled() {
                return (retained_size, None);
            }
            let distance = distance_of(snap, weakmaps, hooks);
            (retained_size, distance)
        },
        beside,
    );
    let distance = distance?;
    let (analysis, _) = graph.assemble(retained_size, distance);
    Some((analysis, beside))
}

/// [`analyze`] but for the distances, which [`PendingDistances::compute`] adds later: the
/// distance BFS is one sequential walk that nothing before it needs, so a caller with work
/// of its own for the other core (a Comparison's dominance walk) runs it beside that.
/// `distance` is empty in the result until then.
pub fn analyze_but_distances(
    snap: &Snapshot,
    self_sizes: &[u32],
    hooks: &Hooks,
) -> Option<(Analysis, PendingDistances)> {
    let mut graph = graph(snap, hooks)?;
    let preorder = std::mem::take(&mut graph.preorder);
    let retained_size = retained_sizes(&graph.dominator, preorder, self_sizes, hooks);
    if hooks.is_cancelled() {
        return None;
    }
    Some(graph.assemble(retained_size, Vec::new()))
}

/// What the distances of an [`analyze_but_distances`] still need (the WeakMap edge names).
pub struct PendingDistances {
    weakmaps: weakmap::WeakMapNames,
}

impl PendingDistances {
    /// The distances (None when cancelled).
    pub fn compute(self, snap: &Snapshot, hooks: &Hooks) -> Option<Vec<i32>> {
        distance_of(snap, &self.weakmaps, hooks)
    }
}

/// The phases every analysis shares: the retainer index, the essential edges and the dominator
/// tree, whose temporaries are the peak (so it comes first, while the least else is held).
struct Graph {
    index: retainers::RetainerIndex,
    weakmaps: weakmap::WeakMapNames,
    /// Immediate dominators, and the DFS preorder the retained sizes are summed in.
    dominator: Vec<u32>,
    preorder: Vec<u32>,
}

fn graph(snap: &Snapshot, hooks: &Hooks) -> Option<Graph> {
    let cancelled = || hooks.is_cancelled();
    if let Err(why) = check_consistent(snap) {
        debug_assert!(false, "inconsistent snapshot: {why}");
        return None;
    }

    // The retainer index (parallel) and the page-owned marks (one sequential walk) overlap.
    hooks.report("building retainers", 0.0);
    let (index, (weakmaps, page)) = rayon::join(
        || retainers::build(snap),
        || {
            rayon::join(
                || weakmap::WeakMapNames::new(snap),
                || dominators::page_owned(snap),
            )
        },
    );
    hooks.report("building retainers", 1.0);
    if cancelled() {
        return None;
    }

    hooks.report("marking essential edges", 0.0);
    let essential = dominators::essential_edges(snap, &weakmaps, &page);
    drop(page);
    hooks.report("marking essential edges", 1.0);
    if cancelled() {
        return None;
    }

    let view = Retainers {
        offsets: &index.offsets,
        lists: &index.lists,
        sources: &index.sources,
        first_edge: &snap.first_edge,
    };
    let dominators::Dominators {
        dominator,
        preorder,
    } = dominators::compute(snap, view, &essential, hooks)?;
    drop(essential);
    if cancelled() {
        return None;
    }
    Some(Graph {
        index,
        weakmaps,
        dominator,
        preorder,
    })
}

/// The retained sizes; the preorder is freed once they are summed.
fn retained_sizes(
    dominator: &[u32],
    preorder: Vec<u32>,
    self_sizes: &[u32],
    hooks: &Hooks,
) -> RetainedSizes {
    hooks.report("calculating retained sizes", 0.0);
    let retained_size = retained::compute(dominator, &preorder, self_sizes);
    drop(preorder);
    hooks.report("calculating retained sizes", 1.0);
    retained_size
}

fn distance_of(
    snap: &Snapshot,
    weakmaps: &weakmap::WeakMapNames,
    hooks: &Hooks,
) -> Option<Vec<i32>> {
    hooks.report("calculating distances", 0.0);
    let distance = distance::compute(snap, weakmaps, hooks)?;
    hooks.report("calculating distances", 1.0);
    Some(distance)
}

impl Graph {
    fn assemble(
        self,
        retained_size: RetainedSizes,
        distance: Vec<i32>,
    ) -> (Analysis, PendingDistances) {
        let retainers::RetainerIndex {
            offsets,
            lists,
            sources,
        } = self.index;
        let analysis = Analysis {
            retainer_offsets: offsets,
            retainer_lists: lists,
            edge_sources: sources,
            distance,
            dominator: self.dominator,
            retained_size,
        };
        (
            analysis,
            PendingDistances {
                weakmaps: self.weakmaps,
            },
        )
    }
}

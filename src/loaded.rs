//! One snapshot, loaded and analysed: what every view and command starts from.

use std::path::Path;

use crate::analysis::scripts::ScriptNames;
use crate::analysis::summary::{self, SummaryRow};
use crate::analysis::{self, Analysis, PendingDistances};
use crate::snapshot::class::{self, Classes, InterfaceDefinition};
use crate::snapshot::{self, LoadError, LoadErrorKind, Snapshot};
use crate::task::Hooks;

pub struct Loaded {
    /// The snapshot, without its self sizes: `snapshot.node_self_size` is empty once loaded
    /// (its array became [`Loaded::shallow`], as DevTools overwrites the self sizes in place),
    /// nor its `node_detachedness` (the states after DevTools' propagation are
    /// `classes.dom_state`).
    pub snapshot: Snapshot,
    /// DevTools' shallow sizes (after its size moves), per node ordinal.
    pub shallow: Vec<u32>,
    pub classes: Classes,
    pub analysis: Analysis,
    /// The names of the scripts the locations point into (empty for a comparison base).
    pub scripts: ScriptNames,
    /// DevTools' `totalSize`: the sum of the self sizes before the moves.
    total_size: u64,
    /// Edges in the file (kept apart: a comparison base releases its edge vectors).
    edge_count: usize,
}

/// The self sizes moved out of the snapshot (to become the shallow sizes in place), and their
/// sum (DevTools' `totalSize`).
fn take_self_sizes(snapshot: &mut Snapshot) -> (Vec<u32>, u64) {
    let total = snapshot.node_self_size.iter().map(|&s| u64::from(s)).sum();
    (std::mem::take(&mut snapshot.node_self_size), total)
}

/// A snapshot's classes and the names of its scripts: what naming needs only the file for.
pub struct Named {
    pub classes: Classes,
    pub scripts: ScriptNames,
}

impl Named {
    /// `definitions`: as [`Loaded::open`]'s.
    pub fn new(snapshot: &Snapshot, definitions: Option<&[InterfaceDefinition]>) -> Named {
        Named {
            classes: class::classify(snapshot, definitions),
            scripts: ScriptNames::new(snapshot),
        }
    }
}

/// A snapshot loaded and analysed but for its distances ([`Loaded::analyze_named_beside`]).
pub struct Undistanced {
    /// Its `analysis.distance` is empty until [`Undistanced::finish`].
    loaded: Loaded,
    pending: PendingDistances,
}

impl Undistanced {
    /// Nodes in the snapshot.
    pub fn node_count(&self) -> usize {
        self.loaded.snapshot.node_count()
    }

    /// Computes the distances (one sequential BFS) while `beside` runs on the other core with
    /// the rest of the snapshot: `beside` must not read `analysis.distance`, still empty. Unless
    /// `side_by_side`, the distances come first and `beside` after them, so that the BFS's
    /// queue is not held beside what `beside` allocates.
    pub fn finish<T: Send>(
        self,
        hooks: &Hooks,
        side_by_side: bool,
        beside: impl FnOnce(&Loaded) -> T + Send,
    ) -> Result<(Loaded, T), LoadError> {
        let Undistanced {
            mut loaded,
            pending,
        } = self;
        let (distance, other) = if side_by_side {
            rayon::join(
                || pending.compute(&loaded.snapshot, hooks),
                || beside(&loaded),
            )
        } else {
            let distance = pending.compute(&loaded.snapshot, hooks);
            (distance, beside(&loaded))
        };
        match distance {
            Some(distance) => {
                loaded.analysis.distance = distance;
                Ok((loaded, other))
            }
            None => Err(LoadError::new(
                loaded.snapshot.file_name.clone(),
                LoadErrorKind::Cancelled,
            )),
        }
    }
}

/// The file's DOM states are read only to name classes and move sizes; what DevTools shows
/// after its propagation is `Classes::dom_state`. A byte per node less once classes are named.
fn release_detachedness(snapshot: &mut Snapshot) {
    snapshot.node_detachedness = Vec::new();
}

impl Loaded {
    /// Loads and analyses `path`. `definitions` are the interface definitions to name plain
    /// objects with (a Comparison applies the after snapshot's to both); None infers this
    /// snapshot's own, as the Summary does.
    pub fn open(
        path: &Path,
        hooks: Hooks,
        definitions: Option<&[InterfaceDefinition]>,
    ) -> Result<Loaded, LoadError> {
        let snapshot = snapshot::load(path, &hooks)?;
        Loaded::analyze(snapshot, hooks, definitions)
    }

    /// Analyses a loaded snapshot. Its `node_self_size` array is moved out and turned into the
    /// shallow sizes ([`Loaded::shallow`]), so the result holds one size array, not two.
    pub fn analyze(
        mut snapshot: Snapshot,
        hooks: Hooks,
        definitions: Option<&[InterfaceDefinition]>,
    ) -> Result<Loaded, LoadError> {
        let (mut shallow, total_size) = take_self_sizes(&mut snapshot);
        class::shallow_sizes_in_place(&snapshot, &mut shallow);
        // Classes are named beside the distances, after the dominator tree: its temporaries are
        // the peak of the whole pipeline, and the class of every node need not be held beside
        // them.
        let (analysis, named) = analysis::analyze_beside(&snapshot, &shallow, &hooks, || {
            Named::new(&snapshot, definitions)
        })
        .ok_or_else(|| LoadError::new(snapshot.file_name.clone(), LoadErrorKind::Cancelled))?;
        Ok(Loaded::assemble(
            snapshot, shallow, total_size, analysis, named,
        ))
    }

    /// [`Loaded::analyze`] with the classes named by `beside` instead, which runs on a core of
    /// its own (`rayon::join`) while this one analyses: the AFTER of a comparison analyses
    /// while BEFORE loads, and the core that loaded BEFORE then names AFTER's classes and
    /// builds the Comparison's rows, filling the dominator tree's sequential tail instead of
    /// waiting for it. `beside` gets the snapshot and its shallow sizes, and returns its own
    /// result beside the classes (None: not named, which fails the analysis as cancelled).
    /// The distances are left to [`Undistanced::finish`], to run beside the caller's next step.
    pub fn analyze_named_beside<T: Send>(
        mut snapshot: Snapshot,
        hooks: Hooks,
        beside: impl FnOnce(&Snapshot, &[u32]) -> (T, Option<Named>) + Send,
    ) -> (Result<Undistanced, LoadError>, T) {
        let (mut shallow, total_size) = take_self_sizes(&mut snapshot);
        class::shallow_sizes_in_place(&snapshot, &mut shallow);
        let (snap, sizes) = (&snapshot, &shallow[..]);
        let (analysis, (other, named)) = rayon::join(
            || analysis::analyze_but_distances(snap, sizes, &hooks),
            || beside(snap, sizes),
        );
        let loaded = match (analysis, named) {
            (Some((analysis, pending)), Some(named)) => Ok(Undistanced {
                loaded: Loaded::assemble(snapshot, shallow, total_size, analysis, named),
                pending,
            }),
            _ => Err(LoadError::new(
                snapshot.file_name.clone(),
                LoadErrorKind::Cancelled,
            )),
        };
        (loaded, other)
    }

    fn assemble(
        mut snapshot: Snapshot,
        shallow: Vec<u32>,
        total_size: u64,
        analysis: Analysis,
        named: Named,
    ) -> Loaded {
        release_detachedness(&mut snapshot);
        Loaded {
            edge_count: snapshot.edge_count(),
            snapshot,
            shallow,
            classes: named.classes,
            analysis,
            scripts: named.scripts,
            total_size,
        }
    }

    /// Names classes and computes shallow sizes, without the graph analysis, then releases
    /// the edges: what remains (ids, classes, shallow sizes, edge counts, locations; `analysis`
    /// empty) is all the base snapshot of a Comparison needs, at a third of the memory.
    pub fn comparison_base(
        mut snapshot: Snapshot,
        hooks: Hooks,
        definitions: Option<&[InterfaceDefinition]>,
    ) -> Loaded {
        hooks.report("naming classes", 0.0);
        let (mut shallow, total_size) = take_self_sizes(&mut snapshot);
        let (_, classes) = rayon::join(
            || class::shallow_sizes_in_place(&snapshot, &mut shallow),
            || class::classify(&snapshot, definitions),
        );
        let edge_count = snapshot.edge_count();
        snapshot.release_edges();
        release_detachedness(&mut snapshot);
        Loaded {
            snapshot,
            shallow,
            classes,
            analysis: Analysis::default(),
            scripts: ScriptNames::default(),
            total_size,
            edge_count,
        }
    }

    /// The Summary view rows, their classes' locations resolved.
    pub fn summary(&self) -> Vec<SummaryRow> {
        let mut rows = summary::summarize(
            &self.snapshot,
            &self.classes,
            &self.shallow,
            Some(&self.analysis.view()),
        );
        for row in &mut rows {
            row.location = self.scripts.class_location(&self.snapshot, &row.class_key);
        }
        rows
    }

    /// Frees the edges and the retainer index, which the Summary's rows do not read: a caller
    /// that only summarizes (`heapdiff summary`) lets them go before the rows' dominator tree
    /// is built, so that the rows add nothing to the analysis' memory peak.
    pub fn release_graph(&mut self) {
        self.snapshot.release_edges();
        self.analysis.release_retainers();
    }

    /// What the loader read differently from a plain V8 snapshot (runtime quirks it corrected
    /// or kept as DevTools keeps them), one sentence each, naming the file; shown on stderr, in
    /// every JSON output and in the window.
    pub fn warnings(&self) -> &[String] {
        &self.snapshot.warnings
    }

    /// Sum of all self sizes, as DevTools' `totalSize`.
    pub fn total_size(&self) -> u64 {
        self.total_size
    }

    /// Edges in the file (also for a [`Loaded::comparison_base`], whose edges are released).
    pub fn edge_count(&self) -> usize {
        self.edge_count
    }
}

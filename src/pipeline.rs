//! One way in for every front end: the CLI, the window, the benchmarks and the tests open and
//! compare snapshots through these functions, so the window's speed and memory are the ones the
//! benchmarks measure.
//!
//! ```text
//! open_one(FILE)              load → analyse                      → Loaded (Summary, Retainers)
//! open_pair(BEFORE, AFTER[, FINAL])
//!   AFTER:  load → analyse, but the distances ────────────────────────┐
//!             └ beside: definitions → BEFORE load → classify          │
//!                       → AFTER's classes → the Comparison's rows ────┤
//!   FINAL:  load → analyse (beside both) ─────────────────────────────┤
//!                 AFTER's distances ∥ dominator-tree walk of the rows ┴→ Opened
//!   Opened ─ compare (leak groups ∥ merged paths) → Compared
//! ```
//!
//! Each side reports its own progress ([`PairHooks`]); one cancel flag stops them all.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use crate::diff::{self, Comparison};
use crate::loaded::{Loaded, Named, Undistanced};
use crate::snapshot::{self, LoadError, LoadErrorKind};
use crate::task::{Hooks, Progress};

/// Which snapshot of a comparison something belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Side {
    Before,
    After,
    Final,
}

impl Side {
    pub fn label(self) -> &'static str {
        match self {
            Side::Before => "before",
            Side::After => "after",
            Side::Final => "final",
        }
    }
}

/// The files of a comparison.
#[derive(Clone, Copy, Debug)]
pub struct PairPaths<'a> {
    pub before: &'a Path,
    pub after: &'a Path,
    pub final_: Option<&'a Path>,
}

/// Progress per side and one cancel flag for all of them.
#[derive(Default, Clone, Copy)]
pub struct PairHooks<'a> {
    pub progress: Option<&'a (dyn Fn(Side, Progress) + Sync)>,
    pub cancel: Option<&'a AtomicBool>,
}

/// The snapshots of a comparison, opened: AFTER (and FINAL) analysed, BEFORE a
/// [`Loaded::comparison_base`] (ids, classes and shallow sizes; its graph released).
pub struct Opened {
    pub before: Loaded,
    pub after: Loaded,
    pub final_: Option<Loaded>,
    /// The Comparison's rows, built while AFTER was analysed, and the walk of AFTER's
    /// dominator tree from their new objects, done beside AFTER's distances
    /// ([`Opened::compare`] finishes the Comparison).
    pub walked: diff::Walked,
}

impl Opened {
    /// The pair's Comparison.
    pub fn compare(self) -> Compared {
        let comparison = diff::finish(&self.before, &self.after, self.final_.as_ref(), self.walked);
        Compared {
            before: self.before,
            after: self.after,
            final_: self.final_,
            comparison,
        }
    }
}

/// An opened pair and its comparison: everything a report, the CLI or the window shows.
pub struct Compared {
    pub before: Loaded,
    pub after: Loaded,
    pub final_: Option<Loaded>,
    pub comparison: Comparison,
}

/// Loads and analyses one snapshot, inferring its own interface definitions (as the Summary
/// does).
pub fn open_one(path: &Path, hooks: Hooks) -> Result<Loaded, LoadError> {
    Loaded::open(path, hooks, None)
}

/// Loads AFTER, then BEFORE classified with AFTER's interface definitions (DevTools'
/// `aggregatesForDiff(target.interfaceDefinitions())`), and FINAL.
///
/// AFTER analyses on one core while the other infers AFTER's interface definitions, loads and
/// classifies BEFORE, then names AFTER's classes (see [`Loaded::analyze_named_beside`]): the
/// analysis' sequential phases (the dominator tree, the distance BFS) leave a core free, and
/// naming needs only the file. BEFORE is never analysed — a Comparison reads only its ids,
/// classes and shallow sizes — and its edges are released once it is classified, so the pair's
/// peak is AFTER's analysis plus BEFORE's nodes. FINAL (rarely given) loads and analyses beside
/// the pair.
pub fn open_pair(paths: PairPaths, hooks: PairHooks) -> Result<Opened, LoadError> {
    let on = |side: Side| {
        move |p: Progress| {
            if let Some(progress) = hooks.progress {
                progress(side, p);
            }
        }
    };
    let (before_progress, after_progress, final_progress) =
        (on(Side::Before), on(Side::After), on(Side::Final));
    let before_hooks = hooks.side(&before_progress);
    let after_hooks = hooks.side(&after_progress);
    let final_hooks = hooks.side(&final_progress);
    let pair = || -> Result<(Loaded, Undistanced, diff::Rows), LoadError> {
        let after_snapshot = snapshot::load(paths.after, &after_hooks)?;
        let (after, before) =
            Loaded::analyze_named_beside(after_snapshot, after_hooks, |after, shallow| {
                let definitions = snapshot::class::infer_interface_definitions(after);
                let before = match snapshot::load(paths.before, &before_hooks) {
                    Ok(b) => Loaded::comparison_base(b, before_hooks, Some(&definitions)),
                    Err(e) => return (Err(e), None),
                };
                // AFTER's classes, then the Comparison's rows: neither needs AFTER's analysis.
                if before_hooks.is_cancelled() {
                    return (Ok((before, None)), None);
                }
                let named = Named::new(after, Some(&definitions));
                let after = diff::Counted {
                    snapshot: after,
                    shallow,
                    classes: &named.classes,
                    scripts: &named.scripts,
                };
                let rows = diff::rows(before.counted(), after);
                (Ok((before, Some(rows))), Some(named))
            });
        match (after, before) {
            (Ok(after), Ok((before, Some(rows)))) => Ok((before, after, rows)),
            (after, before) => Err(first_failure([after.err(), before.err()])),
        }
    };
    let (pair, final_) = rayon::join(pair, || {
        paths.final_.map(|f| Loaded::open(f, final_hooks, None))
    });
    match (pair, final_.transpose()) {
        (Ok((before, after, rows)), Ok(final_)) => {
            // AFTER's distances (one sequential BFS) and the walk of its dominator tree (which
            // needs FINAL, when given, and not the distances) on one core each, unless the new
            // objects are most of AFTER (the walk's tables are then as large as the BFS's).
            let side_by_side = rows.new_objects_are_few(after.node_count());
            let (after, walked) = after.finish(&after_hooks, side_by_side, |after| {
                diff::walk(&before, after, final_.as_ref(), rows)
            })?;
            Ok(Opened {
                before,
                after,
                final_,
                walked,
            })
        }
        (pair, final_) => Err(first_failure([pair.err(), final_.err()])),
    }
}

impl<'a> PairHooks<'a> {
    /// The hooks of one side: its own progress, the shared cancel flag.
    fn side(&self, progress: &'a (dyn Fn(Progress) + Sync)) -> Hooks<'a> {
        Hooks {
            progress: self.progress.is_some().then_some(progress),
            cancel: self.cancel,
        }
    }
}

/// The error to report when several sides stopped: a file that failed, not one that was
/// cancelled because another failed.
fn first_failure<const N: usize>(errors: [Option<LoadError>; N]) -> LoadError {
    let mut cancelled = None;
    for e in errors.into_iter().flatten() {
        if !e.is_cancelled() {
            return e;
        }
        cancelled.get_or_insert(e);
    }
    cancelled.unwrap_or_else(|| LoadError::new(String::new(), LoadErrorKind::Cancelled))
}

/// BEFORE of an opened pair, loaded again and analysed (with AFTER's interface definitions, so
/// its classes stay those of the Comparison): what the window needs for the retainers of
/// deleted objects, done once the Comparison is on screen.
pub fn open_base(before: &Path, after: &Loaded, hooks: Hooks) -> Result<Loaded, LoadError> {
    Loaded::open(before, hooks, Some(&after.classes.definitions))
}

/// Opens a pair and compares it: what `heapdiff diff` and the window's comparison do.
pub fn compare_files(paths: PairPaths, hooks: PairHooks) -> Result<Compared, LoadError> {
    let opened = open_pair(paths, hooks)?;
    let after_hooks = Hooks {
        progress: None,
        cancel: hooks.cancel,
    };
    if after_hooks.is_cancelled() {
        return Err(LoadError::new(
            opened.after.snapshot.file_name.clone(),
            LoadErrorKind::Cancelled,
        ));
    }
    if let Some(progress) = hooks.progress {
        progress(
            Side::After,
            Progress {
                phase: "comparing",
                fraction: 0.0,
            },
        );
    }
    Ok(opened.compare())
}

//! Loading, as background tasks: one file (its Summary), a pair through the pipeline (the
//! Comparison exactly as `heapdiff diff` computes it, with the same memory peak), or a findings
//! file. Once the Comparison is on screen, a second task loads BEFORE again and analyses it
//! ([`analyse_before`]): only the retainers of deleted objects need it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diff::Comparison;
use crate::format::file_label;
use crate::pipeline::{self, PairHooks, PairPaths, Side};
use crate::task::Progress;

use super::model::{Content, FindingsView, LoadedFile, Pair, Summary};
use super::outcome::Outcome;
use super::tasks::TaskContext;

/// What to load.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Single(PathBuf),
    Pair {
        before: PathBuf,
        after: PathBuf,
        final_: Option<PathBuf>,
    },
}

impl Request {
    /// The files, as the status line names them.
    pub fn label(&self) -> String {
        match self {
            Request::Single(p) => file_label(p),
            Request::Pair { before, after, .. } => {
                format!("{} / {}", file_label(before), file_label(after))
            }
        }
    }

    /// One progress line per file (indexed by [`line_of`] for a pair).
    pub fn lines(&self) -> Vec<String> {
        match self {
            Request::Single(path) => vec![file_label(path)],
            Request::Pair {
                before,
                after,
                final_,
            } => {
                let mut lines = vec![
                    format!("{}: {}", Side::Before.label(), file_label(before)),
                    format!("{}: {}", Side::After.label(), file_label(after)),
                ];
                if let Some(f) = final_ {
                    lines.push(format!("{}: {}", Side::Final.label(), file_label(f)));
                }
                lines
            }
        }
    }

    /// Loads what the request names. Runs on a task.
    pub fn run(&self, ctx: &TaskContext) -> Outcome {
        let content = match self {
            Request::Single(path) if is_findings_file(path) => reopen(path, ctx),
            Request::Single(path) => single(path, ctx),
            Request::Pair {
                before,
                after,
                final_,
            } => pair(before, after, final_.as_deref(), ctx),
        };
        content.map_or_else(Outcome::Failed, Outcome::Loaded)
    }
}

/// The progress line of a side of a pair.
fn line_of(side: Side) -> usize {
    match side {
        Side::Before => 0,
        Side::After => 1,
        Side::Final => 2,
    }
}

fn reopen(path: &Path, ctx: &TaskContext) -> Result<Content, String> {
    ctx.report(0, "reading findings", 0.0);
    let findings = crate::report::findings::read(path).map_err(|e| e.to_string())?;
    let view = FindingsView::new(path.to_path_buf(), findings);
    ctx.report(0, "done", 1.0);
    Ok(Content::Findings(Box::new(view)))
}

fn single(path: &Path, ctx: &TaskContext) -> Result<Content, String> {
    let loaded = ctx
        .with_hooks(0, |hooks| pipeline::open_one(path, hooks))
        .map_err(|e| e.to_string())?;
    ctx.report(0, "indexing classes", 0.95);
    let file = Arc::new(LoadedFile::new(path.to_path_buf(), loaded));
    Ok(Content::Single(Box::new(Summary::new(file))))
}

/// The pipeline's comparison (a progress line per file), indexed for the views. BEFORE stays
/// a comparison base: [`analyse_before`] follows once the table is on screen.
fn pair(
    before: &Path,
    after: &Path,
    final_: Option<&Path>,
    ctx: &TaskContext,
) -> Result<Content, String> {
    let report = |side: Side, p: Progress| ctx.report(line_of(side), p.phase, p.fraction);
    let hooks = PairHooks {
        progress: Some(&report),
        cancel: Some(ctx.cancel_flag()),
    };
    let paths = PairPaths {
        before,
        after,
        final_,
    };
    let compared = pipeline::compare_files(paths, hooks).map_err(|e| e.to_string())?;
    if ctx.is_cancelled() {
        return Err("cancelled".into());
    }
    ctx.report(line_of(Side::After), "indexing the comparison", 0.95);
    let file = |path: &Path, loaded| Arc::new(LoadedFile::new(path.to_path_buf(), loaded));
    let final_ = final_.zip(compared.final_).map(|(p, l)| file(p, l));
    let pair = Pair::new(
        file(before, compared.before),
        file(after, compared.after),
        final_,
        Arc::new(compared.comparison),
    );
    Ok(Content::Pair(Box::new(pair)))
}

/// BEFORE of an open pair loaded again and analysed (with AFTER's interface definitions, so
/// its classes stay the Comparison's), and its deleted objects sorted by retained size. Runs
/// on a task while the Comparison is on screen.
pub fn analyse_before(
    path: &Path,
    after: &LoadedFile,
    comparison: &Comparison,
    ctx: &TaskContext,
) -> Outcome {
    let loaded = match ctx.with_hooks(0, |hooks| pipeline::open_base(path, &after.loaded, hooks)) {
        Ok(loaded) => loaded,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    ctx.report(0, "sorting deleted objects", 0.95);
    let deleted = Pair::deleted_by_retained(&loaded, comparison);
    // The comparison was computed against BEFORE unanalysed: the holders' retained size before
    // is known only now.
    let mut holders: Vec<Option<crate::report::Holder>> =
        comparison.leaks.iter().map(|g| g.holder.clone()).collect();
    crate::diff::leaks::fill_holder_growth(&loaded, holders.iter_mut().flatten());
    Outcome::BeforeAnalysed {
        before: Arc::new(LoadedFile::new(path.to_path_buf(), loaded)),
        deleted: Arc::new(deleted),
        holders,
    }
}

/// Whether a file is a findings file rather than a snapshot: by its name, or by its first bytes
/// (a findings file starts with its `"format"` marker; a snapshot with `"snapshot"` or gzip).
fn is_findings_file(path: &Path) -> bool {
    if file_label(path).ends_with(".heapdiff.json") {
        return true;
    }
    let mut head = [0u8; 256];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    let head = String::from_utf8_lossy(&head[..n]);
    head.trim_start().starts_with('{') && head.contains(crate::report::FORMAT)
}

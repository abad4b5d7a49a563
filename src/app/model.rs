//! What is open in the window: one snapshot's Summary, a Comparison of a pair, or a findings
//! file reopened without its snapshots. Built on workers (every index here is O(nodes) or a
//! sort), then only read by the UI thread.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use crate::analysis::summary::{self, SummaryRow};
use crate::diff::Comparison;
use crate::loaded::Loaded;
use crate::pipeline::Side;
use crate::report::{ClassRow, Findings};

use super::charts::ChartData;
use super::leaks_view::LeakList;

/// One snapshot as the pipeline opened it: analysed, or (BEFORE of a fresh Comparison) a
/// comparison base with ids, classes and shallow sizes only.
pub struct LoadedFile {
    pub path: PathBuf,
    pub loaded: Loaded,
}

impl LoadedFile {
    pub fn new(path: PathBuf, loaded: Loaded) -> LoadedFile {
        LoadedFile { path, loaded }
    }

    pub fn file_name(&self) -> &str {
        &self.loaded.snapshot.file_name
    }

    /// The node's display name, as DevTools' `name()`.
    pub fn node_name(&self, node: u32) -> String {
        let dom = self.loaded.classes.dom();
        crate::snapshot::class::display_name(&self.loaded.snapshot, dom, node).into_owned()
    }
}

/// One snapshot's Summary: its rows and the objects of every class.
pub struct Summary {
    pub file: Arc<LoadedFile>,
    pub rows: Vec<SummaryRow>,
    /// The objects of each class key (shallow size > 0, as the Summary counts them), biggest
    /// retained size first, so selecting a class costs nothing.
    pub objects: Arc<NodeGroups>,
    /// Class key → group in `objects`.
    group_of_key: HashMap<String, u32>,
    pub charts: ChartData,
}

impl Summary {
    /// Indexes an analysed snapshot for the Summary view. O(nodes); runs on a worker.
    pub fn new(file: Arc<LoadedFile>) -> Summary {
        let loaded = &file.loaded;
        let rows = loaded.summary();
        let classes = &loaded.classes;
        let mut group_of_key: HashMap<String, u32> = HashMap::new();
        // Several internal classes may share one public key; they share a group.
        let group_of_class: Vec<u32> = classes
            .keys
            .iter()
            .map(|key| {
                let next = group_of_key.len() as u32;
                *group_of_key.entry(key.clone()).or_insert(next)
            })
            .collect();
        let retained = &loaded.analysis.retained_size;
        let objects = NodeGroups::build(
            loaded.snapshot.node_count(),
            group_of_key.len(),
            |node| {
                let i = node as usize;
                if loaded.shallow.get(i).is_some_and(|&s| s > 0) {
                    let class = classes.class_of.get(i)?;
                    group_of_class.get(class as usize).copied()
                } else {
                    None
                }
            },
            |n| retained.of(n),
        );
        let charts = ChartData::summary(&rows);
        Summary {
            rows,
            objects: Arc::new(objects),
            group_of_key,
            charts,
            file,
        }
    }

    /// The objects of a class, biggest retained size first.
    pub fn objects_of(&self, class_key: &str) -> ObjectList {
        match self.group_of_key.get(class_key) {
            Some(&group) => ObjectList::new(Side::After, self.objects.clone(), group as usize),
            None => ObjectList::empty(Side::After),
        }
    }
}

/// One Comparison row: the report's row and its rank among the suspects (0 = most likely leak).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub class: ClassRow,
    pub suspect: Option<u32>,
}

/// Where BEFORE's analysis (for the deleted objects' retainers) stands.
#[derive(Clone, Debug, PartialEq)]
pub enum BeforeState {
    /// A background task loads and analyses it again; deleted objects are listed by shallow
    /// size until then.
    Analysing,
    Analysed,
    Cancelled,
    Failed(String),
}

/// A live Comparison of two (or three) snapshots.
pub struct Pair {
    /// A comparison base until [`BeforeState::Analysed`], then the analysed snapshot.
    pub before: Arc<LoadedFile>,
    pub after: Arc<LoadedFile>,
    pub final_: Option<Arc<LoadedFile>>,
    pub comparison: Arc<Comparison>,
    /// One per `comparison.classes` entry, same order.
    pub rows: Vec<Row>,
    /// Per row, its new objects (after snapshot), biggest retained size first.
    pub added: Arc<NodeGroups>,
    /// Per row, its deleted objects (before snapshot), biggest shallow size first until BEFORE
    /// is analysed, then biggest retained size first.
    pub deleted: Arc<NodeGroups>,
    pub before_state: BeforeState,
    row_of_key: HashMap<String, usize>,
    pub charts: ChartData,
    /// The leak groups, for the Leaks view.
    pub leaks: LeakList,
    /// AFTER's Summary, shown instead when nothing changed (no Comparison rows).
    pub after_summary: Option<Box<Summary>>,
}

impl Pair {
    /// Indexes a fresh Comparison (BEFORE a comparison base) for the views; runs on a worker.
    pub fn new(
        before: Arc<LoadedFile>,
        after: Arc<LoadedFile>,
        final_: Option<Arc<LoadedFile>>,
        comparison: Arc<Comparison>,
    ) -> Pair {
        let mut rank = vec![None; comparison.classes.len()];
        for (i, s) in comparison.suspects.iter().enumerate() {
            if let Some(r) = rank.get_mut(s.row) {
                *r = Some(i as u32);
            }
        }
        let rows: Vec<Row> = comparison
            .classes
            .iter()
            .zip(rank)
            .map(|(c, suspect)| Row {
                class: ClassRow::of(c),
                suspect,
            })
            .collect();
        let ((added, deleted), composition) = rayon::join(
            || {
                let retained = &after.loaded.analysis.retained_size;
                let shallow = &before.loaded.shallow;
                rayon::join(
                    || {
                        NodeGroups::from_lists(
                            comparison.classes.iter().map(|c| c.added.as_slice()),
                            |n| retained.of(n),
                        )
                    },
                    || {
                        NodeGroups::from_lists(
                            comparison.classes.iter().map(|c| c.deleted.as_slice()),
                            |n| shallow.get(n as usize).map_or(0, |&s| u64::from(s)),
                        )
                    },
                )
            },
            // The composition chart needs only counts and self sizes: the Summary without the
            // retained sizes (which would walk AFTER's dominator tree again).
            || rayon::join(|| self_sizes(&before.loaded), || self_sizes(&after.loaded)),
        );
        let row_of_key = key_index(&rows);
        let charts = ChartData::comparison(&rows, Some((&composition.0, &composition.1)));
        let leaks = LeakList::live(&comparison, &after.loaded);
        let after_summary = rows
            .is_empty()
            .then(|| Box::new(Summary::new(after.clone())));
        Pair {
            before,
            after,
            final_,
            comparison,
            rows,
            added: Arc::new(added),
            deleted: Arc::new(deleted),
            before_state: BeforeState::Analysing,
            row_of_key,
            charts,
            leaks,
            after_summary,
        }
    }

    pub fn row_of(&self, class_key: &str) -> Option<usize> {
        self.row_of_key.get(class_key).copied()
    }

    /// The deleted objects of every row, biggest retained size first: what
    /// [`Pair::before_analysed`] takes. O(deleted objects); runs on a worker.
    pub fn deleted_by_retained(before: &Loaded, comparison: &Comparison) -> NodeGroups {
        let retained = &before.analysis.retained_size;
        NodeGroups::from_lists(
            comparison.classes.iter().map(|c| c.deleted.as_slice()),
            |n| retained.of(n),
        )
    }

    /// Swaps in BEFORE analysed (the same file, so the same node ordinals).
    pub fn before_analysed(&mut self, before: Arc<LoadedFile>, deleted: Arc<NodeGroups>) {
        self.before = before;
        self.deleted = deleted;
        self.before_state = BeforeState::Analysed;
    }
}

/// Counts and self sizes per class, without analysis.
fn self_sizes(loaded: &Loaded) -> Vec<SummaryRow> {
    summary::summarize(&loaded.snapshot, &loaded.classes, &loaded.shallow, None)
}

fn key_index(rows: &[Row]) -> HashMap<String, usize> {
    let mut index = HashMap::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        index.entry(row.class.class_key.clone()).or_insert(i);
    }
    index
}

/// A comparison reopened from a findings file (`.heapdiff.json`): the rows, the suspects and
/// their merged paths, without the snapshots (so no objects and no live retainer trees).
pub struct FindingsView {
    pub path: PathBuf,
    pub findings: Arc<Findings>,
    pub rows: Vec<Row>,
    pub charts: ChartData,
    pub leaks: LeakList,
}

impl FindingsView {
    pub fn new(path: PathBuf, findings: Findings) -> FindingsView {
        let rank: HashMap<&str, u32> = findings
            .suspects
            .iter()
            .enumerate()
            .rev()
            .map(|(i, s)| (s.class_key.as_str(), i as u32))
            .collect();
        let rows: Vec<Row> = findings
            .classes
            .iter()
            .map(|c| Row {
                class: c.clone(),
                suspect: rank.get(c.class_key.as_str()).copied(),
            })
            .collect();
        let charts = ChartData::comparison(&rows, None);
        let leaks = LeakList::reopened(&findings);
        FindingsView {
            path,
            findings: Arc::new(findings),
            rows,
            charts,
            leaks,
        }
    }

    pub fn file_name(&self) -> String {
        crate::format::file_label(&self.path)
    }

    /// The suspect entry of a class, with its merged paths.
    pub fn suspect(&self, class_key: &str) -> Option<&crate::report::SuspectRow> {
        self.findings
            .suspects
            .iter()
            .find(|s| s.class_key == class_key)
    }
}

pub enum Content {
    Start,
    Single(Box<Summary>),
    Pair(Box<Pair>),
    Findings(Box<FindingsView>),
}

impl Content {
    /// The Comparison rows, when a comparison (live or reopened) with rows is open.
    pub fn compare_rows(&self) -> Option<&[Row]> {
        match self {
            Content::Pair(pair) if !pair.rows.is_empty() => Some(&pair.rows),
            Content::Findings(view) => Some(&view.rows),
            _ => None,
        }
    }

    /// The Summary on screen: one snapshot's, or AFTER's when a pair has no Comparison rows.
    pub fn summary(&self) -> Option<&Summary> {
        match self {
            Content::Single(summary) => Some(summary),
            Content::Pair(pair) => pair.after_summary.as_deref(),
            Content::Start | Content::Findings(_) => None,
        }
    }

    /// The runtime quirks the engine named for what is open (see `snapshot::Snapshot::warnings`
    /// and `diff::Comparison::warnings`).
    pub fn warnings(&self) -> &[String] {
        match self {
            Content::Start => &[],
            Content::Single(summary) => summary.file.loaded.warnings(),
            Content::Pair(pair) => &pair.comparison.warnings,
            Content::Findings(view) => &view.findings.warnings,
        }
    }

    /// Memory outside the V8 heap (the header's `extra_native_bytes`, Node 24+): one snapshot's,
    /// or a comparison's (before, after); None when no file says.
    pub fn native_bytes(&self) -> Option<(Option<u64>, u64)> {
        match self {
            Content::Start => None,
            Content::Single(summary) => summary
                .file
                .loaded
                .snapshot
                .extra_native_bytes
                .map(|n| (None, n)),
            Content::Pair(pair) => {
                let (b, a) = (
                    pair.before.loaded.snapshot.extra_native_bytes,
                    pair.after.loaded.snapshot.extra_native_bytes,
                );
                a.map(|a| (b, a))
            }
            Content::Findings(view) => view
                .findings
                .after
                .extra_native_bytes
                .map(|a| (view.findings.before.extra_native_bytes, a)),
        }
    }

    /// The leak groups of the open comparison (live or reopened).
    pub fn leaks(&self) -> Option<&LeakList> {
        match self {
            Content::Pair(pair) if !pair.rows.is_empty() => Some(&pair.leaks),
            Content::Findings(view) => Some(&view.leaks),
            _ => None,
        }
    }

    /// The file an object of `side` lives in.
    pub fn file(&self, side: Side) -> Option<&Arc<LoadedFile>> {
        match (self, side) {
            (Content::Single(summary), _) => Some(&summary.file),
            (Content::Pair(pair), Side::Before) => Some(&pair.before),
            (Content::Pair(pair), Side::After) => Some(&pair.after),
            (Content::Pair(pair), Side::Final) => pair.final_.as_ref(),
            (Content::Start | Content::Findings(_), _) => None,
        }
    }
}

/// One group of a [`NodeGroups`]: a view, not a copy, so selecting a class of millions of
/// objects costs nothing on the UI thread.
#[derive(Clone)]
pub struct ObjectList {
    pub side: Side,
    groups: Option<Arc<NodeGroups>>,
    group: usize,
}

impl Default for ObjectList {
    fn default() -> ObjectList {
        ObjectList::empty(Side::After)
    }
}

impl ObjectList {
    pub fn new(side: Side, groups: Arc<NodeGroups>, group: usize) -> ObjectList {
        ObjectList {
            side,
            groups: Some(groups),
            group,
        }
    }

    pub fn empty(side: Side) -> ObjectList {
        ObjectList {
            side,
            groups: None,
            group: 0,
        }
    }

    pub fn nodes(&self) -> &[u32] {
        self.groups.as_ref().map_or(&[], |g| g.group(self.group))
    }

    pub fn len(&self) -> usize {
        self.nodes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes().is_empty()
    }

    pub fn get(&self, i: usize) -> Option<(Side, u32)> {
        self.nodes().get(i).map(|&n| (self.side, n))
    }
}

/// Node ordinals in groups, laid out as a CSR (like the engine's edges): group `g` is
/// `nodes[offsets[g]..offsets[g + 1]]`. Each group is sorted by a size, biggest first (ties by
/// ordinal). Built once on a worker.
#[derive(Default)]
pub struct NodeGroups {
    offsets: Vec<usize>,
    nodes: Vec<u32>,
}

impl NodeGroups {
    pub fn group(&self, g: usize) -> &[u32] {
        match (self.offsets.get(g), self.offsets.get(g + 1)) {
            (Some(&start), Some(&end)) => self.nodes.get(start..end).unwrap_or(&[]),
            _ => &[],
        }
    }

    pub fn group_count(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Groups the nodes `0..node_count` by `group_of` (None leaves a node out): a counting
    /// sort, O(nodes), then each group sorted by `size` in parallel.
    pub fn build(
        node_count: usize,
        group_count: usize,
        group_of: impl Fn(u32) -> Option<u32>,
        size: impl Fn(u32) -> u64 + Sync,
    ) -> NodeGroups {
        let mut offsets = vec![0usize; group_count + 1];
        for node in 0..node_count as u32 {
            if let Some(g) = group_of(node)
                && let Some(count) = offsets.get_mut(g as usize + 1)
            {
                *count += 1;
            }
        }
        for g in 0..group_count {
            offsets[g + 1] += offsets[g];
        }
        let mut next = offsets.clone();
        let mut nodes = vec![0u32; offsets[group_count]];
        for node in 0..node_count as u32 {
            if let Some(g) = group_of(node)
                && let Some(slot) = next.get_mut(g as usize)
                && let Some(out) = nodes.get_mut(*slot)
            {
                *out = node;
                *slot += 1;
            }
        }
        let mut groups = NodeGroups { offsets, nodes };
        groups.sort_biggest_first(size);
        groups
    }

    /// Groups given lists (e.g. each Comparison row's new objects), each sorted by `size`.
    pub fn from_lists<'a>(
        lists: impl Iterator<Item = &'a [u32]>,
        size: impl Fn(u32) -> u64 + Sync,
    ) -> NodeGroups {
        let mut offsets = vec![0usize];
        let mut nodes = Vec::new();
        for list in lists {
            nodes.extend_from_slice(list);
            offsets.push(nodes.len());
        }
        let mut groups = NodeGroups { offsets, nodes };
        groups.sort_biggest_first(size);
        groups
    }

    fn sort_biggest_first(&mut self, size: impl Fn(u32) -> u64 + Sync) {
        let mut chunks: Vec<&mut [u32]> = Vec::with_capacity(self.group_count());
        let mut rest: &mut [u32] = &mut self.nodes;
        for w in self.offsets.windows(2) {
            let (chunk, tail) = rest.split_at_mut(w[1] - w[0]);
            chunks.push(chunk);
            rest = tail;
        }
        chunks.into_par_iter().for_each(|chunk| {
            chunk.sort_by(|&a, &b| size(b).cmp(&size(a)).then(a.cmp(&b)));
        });
    }
}

//! What the window holds: persisted [`Settings`] (sort, filters, theme, recent files) and the
//! runtime state (loaded snapshots, the class table's visible order, the selection). Loaded
//! snapshots never go into the settings.

use eframe::egui;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use serde::{Deserialize, Serialize};

use crate::analysis::RetainedSizes;
use crate::analysis::summary::SummaryRow;
use crate::diff::{ClassDiff, Comparison};
use crate::loaded::Loaded;
use crate::report::Findings;

use super::charts::ChartData;

/// Recent files kept in the settings.
const MAX_RECENT: usize = 10;

/// Which snapshot an object belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Tab {
    #[default]
    Table,
    Charts,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Theme {
    #[default]
    System,
    Dark,
    Light,
}

impl Theme {
    pub fn preference(self) -> egui::ThemePreference {
        match self {
            Theme::System => egui::ThemePreference::System,
            Theme::Dark => egui::ThemePreference::Dark,
            Theme::Light => egui::ThemePreference::Light,
        }
    }
}

/// Table columns: the Summary's and the Comparison's, named as DevTools names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Column {
    Constructor,
    Distance,
    Count,
    ShallowSize,
    RetainedSize,
    New,
    Deleted,
    Delta,
    AllocSize,
    FreedSize,
    SizeDelta,
    RetainedByNew,
    HeapPercent,
}

impl Column {
    pub const SUMMARY: [Column; 5] = [
        Column::Constructor,
        Column::Distance,
        Column::Count,
        Column::ShallowSize,
        Column::RetainedSize,
    ];
    pub const COMPARISON: [Column; 9] = [
        Column::Constructor,
        Column::New,
        Column::Deleted,
        Column::Delta,
        Column::AllocSize,
        Column::FreedSize,
        Column::SizeDelta,
        Column::RetainedByNew,
        Column::HeapPercent,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Column::Constructor => "Constructor",
            Column::Distance => "Distance",
            Column::Count => "Count",
            Column::ShallowSize => "Shallow size",
            Column::RetainedSize => "Retained size",
            Column::New => "# New",
            Column::Deleted => "# Deleted",
            Column::Delta => "# Delta",
            Column::AllocSize => "Alloc. Size",
            Column::FreedSize => "Freed Size",
            Column::SizeDelta => "Size Delta",
            Column::RetainedByNew => "Retained by new",
            Column::HeapPercent => "% of heap",
        }
    }

    /// Names sort ascending on the first click, numbers descending (biggest first).
    pub fn descending_first(self) -> bool {
        self != Column::Constructor
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sort {
    pub column: Column,
    pub descending: bool,
}

/// Saved with eframe's storage between runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub summary_sort: Sort,
    pub comparison_sort: Sort,
    pub filter: String,
    pub hide_internals: bool,
    pub suspects_first: bool,
    pub show_weak: bool,
    pub theme: Theme,
    pub recent: Vec<PathBuf>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            summary_sort: Sort {
                column: Column::RetainedSize,
                descending: true,
            },
            comparison_sort: Sort {
                column: Column::SizeDelta,
                descending: true,
            },
            filter: String::new(),
            hide_internals: false,
            suspects_first: true,
            show_weak: false,
            theme: Theme::System,
            recent: Vec::new(),
        }
    }
}

impl Settings {
    pub fn remember(&mut self, path: &Path) {
        self.recent.retain(|p| p != path);
        self.recent.insert(0, path.to_path_buf());
        self.recent.truncate(MAX_RECENT);
    }
}

/// One snapshot, loaded and analysed on a worker, with its Summary rows.
pub struct LoadedFile {
    pub path: PathBuf,
    pub loaded: Loaded,
    pub summary: Vec<SummaryRow>,
    /// The objects of each class key (shallow size > 0, as the Summary counts them), biggest
    /// retained size first; built on the worker so selecting a class costs nothing.
    pub objects: Arc<NodeGroups>,
    /// Class key → group in `objects`.
    pub group_of_key: HashMap<String, u32>,
    pub charts: ChartData,
}

impl LoadedFile {
    /// Indexes an analysed snapshot for the views. O(nodes); runs on the worker.
    pub fn new(path: PathBuf, loaded: Loaded) -> LoadedFile {
        let summary = loaded.summary();
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
            &loaded.analysis.retained_size,
        );
        let charts = ChartData::summary(&summary);
        LoadedFile {
            path,
            loaded,
            summary,
            objects: Arc::new(objects),
            group_of_key,
            charts,
        }
    }

    /// The objects of a class, biggest retained size first.
    pub fn objects_of(&self, class_key: &str, side: Side) -> ObjectList {
        match self.group_of_key.get(class_key) {
            Some(&group) => ObjectList::new(side, self.objects.clone(), group as usize),
            None => ObjectList::empty(side),
        }
    }

    pub fn file_name(&self) -> &str {
        &self.loaded.snapshot.file_name
    }

    /// The node's display name, as DevTools' `name()`.
    pub fn node_name(&self, node: u32) -> String {
        let dom = self.dom_state();
        crate::snapshot::class::display_name(&self.loaded.snapshot, dom, node).into_owned()
    }

    pub fn dom_state(&self) -> Option<&[u8]> {
        let dom = &self.loaded.classes.dom_state;
        (!dom.is_empty()).then_some(dom.as_slice())
    }
}

/// One Comparison row, as the table shows it (filled from the diff's Comparison).
#[derive(Clone, Debug, PartialEq)]
pub struct CompareRow {
    pub class_key: String,
    pub name: String,
    pub new_count: u64,
    pub deleted_count: u64,
    pub delta_count: i64,
    pub alloc_size: u64,
    pub freed_size: u64,
    pub size_delta: i64,
    pub retained_by_new: u64,
    /// Share of the after heap retained by the new objects, in percent.
    pub heap_percent: f64,
    /// Rank among the diff's suspects (0 = most likely leak).
    pub suspect: Option<u32>,
}

impl CompareRow {
    pub fn from_diff(row: &ClassDiff, suspect: Option<u32>) -> CompareRow {
        CompareRow::from_report(&crate::report::ClassRow::of(row), suspect)
    }

    /// A row of a reopened findings file.
    pub fn from_report(row: &crate::report::ClassRow, suspect: Option<u32>) -> CompareRow {
        CompareRow {
            class_key: row.class_key.clone(),
            name: row.name.clone(),
            new_count: row.added_count,
            deleted_count: row.removed_count,
            delta_count: row.count_delta,
            alloc_size: row.added_size,
            freed_size: row.removed_size,
            size_delta: row.size_delta,
            retained_by_new: row.added_retained_size,
            heap_percent: row.after_share * 100.0,
            suspect,
        }
    }
}

pub struct Pair {
    pub before: Arc<LoadedFile>,
    pub after: Arc<LoadedFile>,
    pub final_: Option<Arc<LoadedFile>>,
    pub comparison: Arc<Comparison>,
    /// One per `comparison.classes` entry, same order.
    pub rows: Vec<CompareRow>,
    /// Per row, its new objects (after snapshot), biggest retained size first.
    pub added: Arc<NodeGroups>,
    /// Per row, its deleted objects (before snapshot), biggest retained size first.
    pub deleted: Arc<NodeGroups>,
    /// Class key → row.
    pub row_of_key: HashMap<String, usize>,
    pub charts: ChartData,
}

impl Pair {
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
        let rows: Vec<CompareRow> = comparison
            .classes
            .iter()
            .zip(rank)
            .map(|(c, r)| CompareRow::from_diff(c, r))
            .collect();
        let added = NodeGroups::from_lists(
            comparison.classes.iter().map(|c| c.added.as_slice()),
            &after.loaded.analysis.retained_size,
        );
        let deleted = NodeGroups::from_lists(
            comparison.classes.iter().map(|c| c.deleted.as_slice()),
            &before.loaded.analysis.retained_size,
        );
        let row_of_key = key_index(&rows);
        let charts = ChartData::comparison(&rows, Some((&before.summary, &after.summary)));
        Pair {
            before,
            after,
            final_,
            comparison,
            rows,
            added: Arc::new(added),
            deleted: Arc::new(deleted),
            row_of_key,
            charts,
        }
    }

    pub fn row_of(&self, class_key: &str) -> Option<usize> {
        self.row_of_key.get(class_key).copied()
    }
}

fn key_index(rows: &[CompareRow]) -> HashMap<String, usize> {
    let mut index = HashMap::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        index.entry(row.class_key.clone()).or_insert(i);
    }
    index
}

/// A comparison reopened from a findings file (`.heapdiff.json`): the rows, the suspects and
/// their merged paths, without the snapshots (so no objects and no live retainer trees).
pub struct FindingsView {
    pub path: PathBuf,
    pub findings: Arc<Findings>,
    pub rows: Vec<CompareRow>,
    pub row_of_key: HashMap<String, usize>,
    pub charts: ChartData,
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
        let rows: Vec<CompareRow> = findings
            .classes
            .iter()
            .map(|c| CompareRow::from_report(c, rank.get(c.class_key.as_str()).copied()))
            .collect();
        let row_of_key = key_index(&rows);
        let charts = ChartData::comparison(&rows, None);
        FindingsView {
            path,
            findings: Arc::new(findings),
            rows,
            row_of_key,
            charts,
        }
    }

    pub fn file_name(&self) -> String {
        super::jobs::file_label(&self.path)
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
    Single(Arc<LoadedFile>),
    Pair(Box<Pair>),
    Findings(Box<FindingsView>),
}

impl Content {
    /// The Comparison rows, when a comparison (live or reopened) with rows is open.
    pub fn compare_rows(&self) -> Option<&[CompareRow]> {
        match self {
            Content::Pair(pair) if !pair.rows.is_empty() => Some(&pair.rows),
            Content::Findings(view) => Some(&view.rows),
            _ => None,
        }
    }
}

/// V8's internal classes, hidden by the "Hide V8 internals" toggle.
pub fn is_v8_internal(name: &str) -> bool {
    const INTERNAL: [&str; 9] = [
        "(compiled code)",
        "(system)",
        "(object shape)",
        "(hidden)",
        "(synthetic)",
        "(code)",
        "(GC roots)",
        "(Internalized strings)",
        "(Handle scope)",
    ];
    INTERNAL.contains(&name) || name.starts_with("system / ")
}

/// The rows the class table shows, in order: indexes into the Summary or Comparison rows.
#[derive(Default)]
pub struct VisibleRows {
    pub rows: Vec<u32>,
}

impl VisibleRows {
    /// Recomputes filter and order; runs on a change, never per frame.
    pub fn refresh(&mut self, content: &Content, settings: &Settings) {
        self.rows.clear();
        let needle = settings.filter.to_lowercase();
        let keep = |name: &str| {
            (!settings.hide_internals || !is_v8_internal(name))
                && (needle.is_empty() || name.to_lowercase().contains(&needle))
        };
        match content {
            Content::Start => {}
            Content::Single(file) => {
                let rows = &file.summary;
                self.rows = (0..rows.len() as u32)
                    .filter(|&i| keep(&rows[i as usize].name))
                    .collect();
                let sort = settings.summary_sort;
                self.rows.sort_by(|&a, &b| {
                    let (a, b) = (&rows[a as usize], &rows[b as usize]);
                    let ordering = match sort.column {
                        Column::Constructor => a.name.cmp(&b.name),
                        Column::Distance => a.distance.cmp(&b.distance),
                        Column::Count => a.count.cmp(&b.count),
                        Column::ShallowSize => a.self_size.cmp(&b.self_size),
                        _ => a.retained_size.cmp(&b.retained_size),
                    };
                    if sort.descending {
                        ordering.reverse()
                    } else {
                        ordering
                    }
                });
            }
            Content::Pair(_) | Content::Findings(_) if content.compare_rows().is_some() => {
                let rows = content.compare_rows().unwrap_or_default();
                self.rows = (0..rows.len() as u32)
                    .filter(|&i| keep(&rows[i as usize].name))
                    .collect();
                let sort = settings.comparison_sort;
                self.rows.sort_by(|&a, &b| {
                    let (a, b) = (&rows[a as usize], &rows[b as usize]);
                    // Suspects first, in the diff's rank order.
                    let suspects = if settings.suspects_first {
                        match (a.suspect, b.suspect) {
                            (Some(x), Some(y)) => x.cmp(&y),
                            (Some(_), None) => std::cmp::Ordering::Less,
                            (None, Some(_)) => std::cmp::Ordering::Greater,
                            (None, None) => std::cmp::Ordering::Equal,
                        }
                    } else {
                        std::cmp::Ordering::Equal
                    };
                    let ordering = match sort.column {
                        Column::Constructor => a.name.cmp(&b.name),
                        Column::New => a.new_count.cmp(&b.new_count),
                        Column::Deleted => a.deleted_count.cmp(&b.deleted_count),
                        Column::Delta => a.delta_count.cmp(&b.delta_count),
                        Column::AllocSize => a.alloc_size.cmp(&b.alloc_size),
                        Column::FreedSize => a.freed_size.cmp(&b.freed_size),
                        Column::RetainedByNew => a.retained_by_new.cmp(&b.retained_by_new),
                        Column::HeapPercent => a.heap_percent.total_cmp(&b.heap_percent),
                        _ => a.size_delta.cmp(&b.size_delta),
                    };
                    suspects.then(if sort.descending {
                        ordering.reverse()
                    } else {
                        ordering
                    })
                });
            }
            // A pair without Comparison rows shows the after snapshot's Summary.
            Content::Pair(pair) => {
                let single = Content::Single(pair.after.clone());
                self.refresh(&single, settings);
            }
            Content::Findings(_) => {}
        }
    }
}

/// The objects of the selected class.
#[derive(Default)]
pub struct Instances {
    pub class_key: String,
    /// New objects in a Comparison (after snapshot), all objects in a Summary.
    pub new: ObjectList,
    /// Deleted objects in a Comparison (before snapshot).
    pub deleted: ObjectList,
}

impl Instances {
    pub fn len(&self) -> usize {
        self.new.len() + self.deleted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many of the rows are new (listed first).
    pub fn new_count(&self) -> usize {
        self.new.len()
    }

    /// Row `i`: new objects first, then deleted ones.
    pub fn get(&self, i: usize) -> Option<(Side, u32)> {
        if i < self.new.len() {
            self.new.get(i)
        } else {
            self.deleted.get(i - self.new.len())
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
/// `nodes[offsets[g]..offsets[g + 1]]`. Each group is sorted by retained size, biggest first
/// (ties by ordinal). Built once on a worker.
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
    /// sort, O(nodes), then each group sorted in parallel.
    pub fn build(
        node_count: usize,
        group_count: usize,
        group_of: impl Fn(u32) -> Option<u32>,
        retained: &RetainedSizes,
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
        groups.sort_by_retained(retained);
        groups
    }

    /// Groups given lists (e.g. each Comparison row's new objects).
    pub fn from_lists<'a>(
        lists: impl Iterator<Item = &'a [u32]>,
        retained: &RetainedSizes,
    ) -> NodeGroups {
        let mut offsets = vec![0usize];
        let mut nodes = Vec::new();
        for list in lists {
            nodes.extend_from_slice(list);
            offsets.push(nodes.len());
        }
        let mut groups = NodeGroups { offsets, nodes };
        groups.sort_by_retained(retained);
        groups
    }

    fn sort_by_retained(&mut self, retained: &RetainedSizes) {
        let mut chunks: Vec<&mut [u32]> = Vec::with_capacity(self.group_count());
        let mut rest: &mut [u32] = &mut self.nodes;
        for w in self.offsets.windows(2) {
            let (chunk, tail) = rest.split_at_mut(w[1] - w[0]);
            chunks.push(chunk);
            rest = tail;
        }
        let size = |n: u32| retained.of(n);
        chunks.into_par_iter().for_each(|chunk| {
            chunk.sort_by(|&a, &b| size(b).cmp(&size(a)).then(a.cmp(&b)));
        });
    }
}

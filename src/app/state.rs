//! What the window holds: persisted [`Settings`] (sort, filters, theme, recent files) and the
//! runtime state (loaded snapshots, the class table's visible order, the selection). Loaded
//! snapshots never go into the settings.

use eframe::egui;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::diff::{ClassDiff, Comparison};
use crate::loaded::Loaded;
use crate::summary::ClassRow;

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
    pub summary: Vec<ClassRow>,
}

impl LoadedFile {
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
        let rows = comparison
            .classes
            .iter()
            .zip(rank)
            .map(|(c, r)| CompareRow::from_diff(c, r))
            .collect();
        Pair {
            before,
            after,
            final_,
            comparison,
            rows,
        }
    }

    pub fn row_of(&self, class_key: &str) -> Option<usize> {
        self.rows.iter().position(|r| r.class_key == class_key)
    }
}

pub enum Content {
    Start,
    Single(Arc<LoadedFile>),
    Pair(Box<Pair>),
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
            Content::Pair(pair) if !pair.rows.is_empty() => {
                let rows = &pair.rows;
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
        }
    }
}

/// The objects of the selected class.
#[derive(Default)]
pub struct Instances {
    pub class_key: String,
    /// (side, node ordinal), sorted by retained size, biggest first.
    pub objects: Vec<(Side, u32)>,
    /// How many of `objects` are new (the rest are deleted) in a Comparison.
    pub new_count: usize,
}

//! The retainers of the selected object as an expandable tree down to the GC roots.
//!
//! The tree is an arena of rows expanded lazily, one level per click (no recursion over the
//! graph): a row lists its node's retainers in DevTools' pane order
//! ([`paths::sorted_retainers`]), weak edges appended when the toggle is on. A retainer that is
//! the selected object or one of the row's ancestors is marked as a cycle and not expanded. The
//! shortest path to a GC root is expanded when the tree opens and highlighted.

use eframe::egui;
use std::sync::Arc;

use egui::{Color32, RichText};

use crate::analysis::paths;
use crate::diff::MergedPath;
use crate::format;
use crate::snapshot::EdgeKind;

use super::command::Command;
use super::state::{LoadedFile, Side};

/// Rows listed per node before "… more" (DevTools' first page is 25; we show more because
/// scrolling is cheap here).
const PER_NODE: usize = 100;

pub struct TreeRow {
    pub edge: u32,
    /// The retainer (edge source).
    pub node: u32,
    pub parent: Option<usize>,
    pub depth: u16,
    pub cycled: bool,
    pub weak: bool,
    pub on_shortest_path: bool,
    /// Arena indexes of the retainers, once expanded.
    pub children: Option<Vec<usize>>,
    pub expanded: bool,
    /// Retainers not listed (beyond [`PER_NODE`]).
    pub hidden: usize,
}

pub struct RetainerTree {
    pub side: Side,
    pub file: Arc<LoadedFile>,
    /// The selected object.
    pub node: u32,
    pub rows: Vec<TreeRow>,
    pub top: Vec<usize>,
    pub top_hidden: usize,
    /// Rows in display order (recomputed after each expand/collapse).
    pub visible: Vec<usize>,
    pub show_weak: bool,
}

impl RetainerTree {
    pub fn new(side: Side, file: Arc<LoadedFile>, node: u32, show_weak: bool) -> RetainerTree {
        let mut tree = RetainerTree {
            side,
            file,
            node,
            rows: Vec::new(),
            top: Vec::new(),
            top_hidden: 0,
            visible: Vec::new(),
            show_weak,
        };
        let (top, hidden) = tree.list(node, None, 0);
        tree.top = top;
        tree.top_hidden = hidden;
        tree.expand_shortest_path();
        tree.refresh_visible();
        tree
    }

    /// Lists the retainers of `node` as new rows under `parent`.
    fn list(&mut self, node: u32, parent: Option<usize>, depth: u16) -> (Vec<usize>, usize) {
        let file = self.file.clone();
        let snap = &file.loaded.snapshot;
        let analysis = &file.loaded.analysis;
        if node as usize >= snap.node_count() {
            return (Vec::new(), 0);
        }
        let name = |n: u32| file.node_name(n);
        let mut edges: Vec<(u32, u32, bool)> = paths::sorted_retainers(snap, analysis, node, &name)
            .into_iter()
            .map(|(e, s)| (e, s, false))
            .collect();
        if self.show_weak {
            for edge in analysis.retaining_edges(snap, node) {
                let source = analysis.edge_source(snap, edge);
                if snap.edge_kind(edge) == EdgeKind::Weak && source != snap.root {
                    edges.push((edge, source, true));
                }
            }
        }
        let total = edges.len();
        let mut ids = Vec::with_capacity(total.min(PER_NODE));
        for (edge, source, weak) in edges.into_iter().take(PER_NODE) {
            let cycled = source == self.node || self.has_ancestor(parent, source);
            ids.push(self.rows.len());
            self.rows.push(TreeRow {
                edge,
                node: source,
                parent,
                depth,
                cycled,
                weak,
                on_shortest_path: false,
                children: None,
                expanded: false,
                hidden: 0,
            });
        }
        (ids, total.saturating_sub(PER_NODE))
    }

    /// Whether `node` is the retainer of `row` or of one of its ancestors.
    fn has_ancestor(&self, mut row: Option<usize>, node: u32) -> bool {
        while let Some(i) = row {
            if self.rows[i].node == node {
                return true;
            }
            row = self.rows[i].parent;
        }
        false
    }

    pub fn toggle(&mut self, row: usize) {
        let Some(r) = self.rows.get(row) else { return };
        if r.cycled {
            return;
        }
        if r.expanded {
            self.rows[row].expanded = false;
        } else {
            if self.rows[row].children.is_none() {
                let (node, depth) = (r.node, r.depth);
                let (children, hidden) = self.list(node, Some(row), depth.saturating_add(1));
                self.rows[row].children = Some(children);
                self.rows[row].hidden = hidden;
            }
            self.rows[row].expanded = true;
        }
        self.refresh_visible();
    }

    /// Opens the rows along the shortest path to a GC root and marks them.
    fn expand_shortest_path(&mut self) {
        let file = self.file.clone();
        let name = |n: u32| file.node_name(n);
        let path = paths::shortest_path_to_root(
            &file.loaded.snapshot,
            &file.loaded.analysis,
            self.node,
            &name,
        );
        let mut level: Vec<usize> = self.top.clone();
        for (i, &(edge, source)) in path.iter().enumerate() {
            let Some(&row) = level
                .iter()
                .find(|&&r| self.rows[r].edge == edge && self.rows[r].node == source)
            else {
                break;
            };
            self.rows[row].on_shortest_path = true;
            if i + 1 < path.len() {
                self.toggle(row);
                level = self.rows[row].children.clone().unwrap_or_default();
            }
        }
    }

    fn refresh_visible(&mut self) {
        self.visible.clear();
        let mut stack: Vec<usize> = self.top.iter().rev().copied().collect();
        while let Some(i) = stack.pop() {
            self.visible.push(i);
            let row = &self.rows[i];
            if row.expanded
                && let Some(children) = &row.children
            {
                stack.extend(children.iter().rev());
            }
        }
    }

    /// Edge name, edge type, class, id and distance of a row, as plain text.
    pub fn row_text(&self, row: &TreeRow) -> (String, String, String) {
        let snap = &self.file.loaded.snapshot;
        let edge_name = format::one_line(&paths::edge_display_name(snap, row.edge)).into_owned();
        let edge_type = snap
            .meta
            .edge_type_name(snap.edge_type(row.edge))
            .to_string();
        let class = format::one_line(self.file.loaded.classes.name_of(row.node)).into_owned();
        (edge_name, edge_type, class)
    }
}

/// Draws the tree; clicks become commands.
pub fn show(ui: &mut egui::Ui, tree: &RetainerTree, out: &mut Vec<Command>) {
    let file = &tree.file;
    let snap = &file.loaded.snapshot;
    let node = tree.node;
    let id = snap.node_id.get(node as usize).copied().unwrap_or(0);
    ui.horizontal(|ui| {
        ui.strong(format!(
            "Retainers of {} @{id} ({})",
            format::one_line(file.loaded.classes.name_of(node)),
            tree.side.label()
        ));
        let mut weak = tree.show_weak;
        if ui.checkbox(&mut weak, "Show weak edges").changed() {
            out.push(Command::ToggleWeakEdges);
        }
    });
    if tree.visible.is_empty() {
        ui.label("No retainers: the object is a root or unreachable.");
        return;
    }
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    let path_color = if ui.visuals().dark_mode {
        Color32::from_rgb(255, 200, 90)
    } else {
        Color32::from_rgb(170, 90, 0)
    };
    egui::ScrollArea::both()
        .id_salt("retainer_tree")
        .auto_shrink([false, false])
        .show_rows(ui, row_height, tree.visible.len(), |ui, range| {
            for &i in &tree.visible[range] {
                let row = &tree.rows[i];
                let (edge_name, edge_type, class) = tree.row_text(row);
                let distance = file
                    .loaded
                    .analysis
                    .distance
                    .get(row.node as usize)
                    .copied()
                    .unwrap_or(0);
                let object_id = snap.node_id.get(row.node as usize).copied().unwrap_or(0);
                ui.horizontal(|ui| {
                    ui.add_space(f32::from(row.depth) * 16.0);
                    let (rect, response) = ui.allocate_exact_size(
                        egui::vec2(14.0, 14.0),
                        if row.cycled {
                            egui::Sense::hover()
                        } else {
                            egui::Sense::click()
                        },
                    );
                    if row.cycled {
                        response.on_hover_text("Cycle: this object is already above; not expanded");
                    } else {
                        let openness = if row.expanded { 1.0 } else { 0.0 };
                        let icon = response.clone().with_new_rect(rect);
                        egui::collapsing_header::paint_default_icon(ui, openness, &icon);
                        if response.clicked() {
                            out.push(Command::ToggleRetainerRow(i));
                        }
                    }
                    let mut name = RichText::new(edge_name).monospace();
                    if row.on_shortest_path {
                        name = name.color(path_color).strong();
                    }
                    ui.label(name);
                    ui.weak(format!("({edge_type})"));
                    ui.label("in");
                    if ui
                        .link(format!("{class} @{object_id}"))
                        .on_hover_text("Select this object")
                        .clicked()
                    {
                        out.push(Command::SelectObject(tree.side, row.node));
                    }
                    ui.weak(format!("distance {distance}"));
                    if row.weak {
                        ui.weak("weak");
                    }
                    if row.cycled {
                        ui.weak("(cycle)");
                    }
                    if row.expanded && row.hidden > 0 {
                        ui.weak(format!("… {} more", format::thousands(row.hidden as u64)));
                    }
                });
            }
        });
    if tree.top_hidden > 0 {
        ui.weak(format!(
            "… {} more retainers",
            format::thousands(tree.top_hidden as u64)
        ));
    }
}

/// The merged retainer paths of the selected class's new objects, from the diff.
pub struct MergedPaths {
    pub class_key: String,
    /// `None` while a worker computes them.
    pub paths: Option<Vec<MergedPath>>,
    /// Whether the snapshot is loaded (a reopened findings file has paths but no objects, so
    /// a path cannot select one).
    pub live: bool,
}

/// One line per path shape: "×1,000 (2.6 MiB): context in onConfigChange <- [] in Array …";
/// clicking a path selects one of its objects.
pub fn merged_paths(ui: &mut egui::Ui, merged: &MergedPaths, out: &mut Vec<Command>) {
    egui::CollapsingHeader::new("Merged retainer paths of the new objects")
        .id_salt("merged_paths")
        .default_open(true)
        .show(ui, |ui| {
            let Some(paths) = &merged.paths else {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.weak("grouping retainer paths…");
                });
                return;
            };
            if paths.is_empty() {
                ui.weak(if merged.live {
                    "No new objects of this class."
                } else {
                    "A findings file stores the merged paths of suspects only."
                });
                return;
            }
            egui::ScrollArea::vertical()
                .id_salt("merged_paths_scroll")
                .max_height(140.0)
                .show(ui, |ui| {
                    for path in paths {
                        ui.horizontal_wrapped(|ui| {
                            let count = RichText::new(format!("×{}", path.count)).strong();
                            if !merged.live {
                                ui.label(count);
                            } else if ui
                                .link(count)
                                .on_hover_text("Select one of these objects")
                                .clicked()
                            {
                                out.push(Command::SelectObject(Side::After, path.example));
                            }
                            ui.weak(format!("({})", format::bytes(path.retained_size)));
                            if path.steps.is_empty() {
                                ui.weak("no path to a GC root");
                            }
                            for (i, step) in path.steps.iter().enumerate() {
                                if i > 0 {
                                    ui.weak("<-");
                                }
                                ui.label(
                                    RichText::new(format::one_line(&step.edge_name)).monospace(),
                                );
                                ui.weak(format!("in {}", format::one_line(&step.class_name)));
                            }
                        });
                    }
                });
        });
}

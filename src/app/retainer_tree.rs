//! The retainers of the selected object as an expandable tree down to the GC roots.
//!
//! The tree is an arena of rows expanded lazily, one level per click (no recursion over the
//! graph): a row lists its node's retainers in DevTools' pane order
//! ([`paths::sorted_retainers`]), weak edges appended when the toggle is on. A retainer that is
//! the selected object or one of the row's ancestors is marked as a cycle and not expanded. The
//! shortest path to a GC root is expanded when the tree opens and highlighted.
//!
//! Listing a node's retainers sorts all of them by display name (a hub has millions), so it
//! never runs on the UI thread: the tree is built by a background task ([`RetainerTree::build`])
//! and a row is listed by another ([`Listing::run`]); until then the row shows a spinner.

use eframe::egui;
use std::sync::Arc;

use egui::{Color32, RichText};

use crate::analysis::allocation::{self, AllocationFrame};
use crate::analysis::paths;
use crate::format;
use crate::pipeline::Side;
use crate::snapshot::EdgeKind;

use super::command::Command;
use super::model::LoadedFile;
use super::source;

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
    /// Arena indexes of the retainers, once listed.
    pub children: Option<Vec<usize>>,
    pub expanded: bool,
    /// A task is listing this row's retainers.
    pub listing: bool,
    /// Retainers not listed (beyond [`PER_NODE`]).
    pub hidden: usize,
}

pub struct RetainerTree {
    /// Tells this tree's listings from those of a tree it replaced.
    pub id: u64,
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
    /// Where the selected object was allocated (snapshots with allocation traces), innermost
    /// frame first; empty otherwise.
    pub allocation: Vec<AllocationFrame>,
}

/// The retainers of one row still to be listed, as a task takes them.
pub struct Listing {
    pub tree: u64,
    pub row: usize,
    file: Arc<LoadedFile>,
    node: u32,
    /// The row's node, its ancestors' and the selected object: retainers among them are cycles.
    ancestors: Vec<u32>,
    show_weak: bool,
}

/// Rows listed by a task, not yet in the arena.
pub struct Listed {
    rows: Vec<TreeRow>,
    hidden: usize,
}

impl Listing {
    /// Lists the row's retainers. Runs on a worker.
    pub fn run(&self) -> Listed {
        retainer_rows(&self.file, self.node, &self.ancestors, self.show_weak)
    }
}

impl RetainerTree {
    /// Lists the selected object's retainers and expands the shortest path to a GC root. Runs
    /// on a worker; None once `cancelled` says so.
    pub fn build(
        id: u64,
        side: Side,
        file: Arc<LoadedFile>,
        node: u32,
        show_weak: bool,
        cancelled: &dyn Fn() -> bool,
    ) -> Option<RetainerTree> {
        let top = retainer_rows(&file, node, &[node], show_weak);
        let allocation =
            allocation::allocation_stack(&file.loaded.snapshot, &file.loaded.scripts, node);
        let mut tree = RetainerTree {
            id,
            side,
            file,
            node,
            rows: Vec::new(),
            top: Vec::new(),
            top_hidden: top.hidden,
            visible: Vec::new(),
            show_weak,
            allocation,
        };
        tree.top = tree.attach(None, top.rows);
        tree.expand_shortest_path(cancelled)?;
        tree.refresh_visible();
        Some(tree)
    }

    /// Puts listed rows into the arena under `parent`.
    fn attach(&mut self, parent: Option<usize>, rows: Vec<TreeRow>) -> Vec<usize> {
        let depth = parent
            .and_then(|p| self.rows.get(p))
            .map_or(0, |p| p.depth.saturating_add(1));
        let first = self.rows.len();
        self.rows.extend(rows.into_iter().map(|mut row| {
            row.parent = parent;
            row.depth = depth;
            row
        }));
        (first..self.rows.len()).collect()
    }

    /// The retainers of `row` to list on a task, or None when a click is answered at once
    /// (collapsed, re-opened, a cycle, already being listed).
    pub fn toggle(&mut self, row: usize) -> Option<Listing> {
        let r = self.rows.get_mut(row)?;
        if r.cycled || r.listing {
            return None;
        }
        if r.expanded || r.children.is_some() {
            r.expanded = !r.expanded;
            self.refresh_visible();
            return None;
        }
        r.listing = true;
        let node = r.node;
        Some(Listing {
            tree: self.id,
            row,
            file: self.file.clone(),
            node,
            ancestors: self.ancestors(row),
            show_weak: self.show_weak,
        })
    }

    /// A task's listing of `row` arrived: the row opens.
    pub fn listed(&mut self, row: usize, listed: Listed) {
        let Some(r) = self.rows.get_mut(row) else {
            return;
        };
        r.listing = false;
        if r.children.is_some() {
            return;
        }
        r.hidden = listed.hidden;
        let children = self.attach(Some(row), listed.rows);
        self.rows[row].children = Some(children);
        self.rows[row].expanded = true;
        self.refresh_visible();
    }

    /// A task listing `row` stopped without an answer: the row can be clicked again.
    pub fn listing_failed(&mut self, row: usize) {
        if let Some(r) = self.rows.get_mut(row) {
            r.listing = false;
        }
    }

    /// The nodes of `row` and its ancestors, and the selected object.
    fn ancestors(&self, row: usize) -> Vec<u32> {
        let mut nodes = vec![self.node];
        let mut at = Some(row);
        while let Some(i) = at {
            let Some(r) = self.rows.get(i) else { break };
            nodes.push(r.node);
            at = r.parent;
        }
        nodes
    }

    /// Opens the rows along the shortest path to a GC root and marks them (on the worker that
    /// builds the tree, so each level is listed at once).
    fn expand_shortest_path(&mut self, cancelled: &dyn Fn() -> bool) -> Option<()> {
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
            if cancelled() {
                return None;
            }
            let Some(&row) = level
                .iter()
                .find(|&&r| self.rows[r].edge == edge && self.rows[r].node == source)
            else {
                break;
            };
            self.rows[row].on_shortest_path = true;
            if i + 1 < path.len() && !self.rows[row].cycled {
                let listed = retainer_rows(&file, source, &self.ancestors(row), self.show_weak);
                self.listed(row, listed);
                level = self.rows[row].children.clone().unwrap_or_default();
            }
        }
        Some(())
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

/// The retainers of `node` in pane order, the first [`PER_NODE`] as rows (parent and depth set
/// when attached); `ancestors` are the nodes a retainer is a cycle through.
fn retainer_rows(file: &LoadedFile, node: u32, ancestors: &[u32], show_weak: bool) -> Listed {
    let snap = &file.loaded.snapshot;
    let analysis = &file.loaded.analysis;
    if node as usize >= snap.node_count() {
        return Listed {
            rows: Vec::new(),
            hidden: 0,
        };
    }
    let name = |n: u32| file.node_name(n);
    let mut edges: Vec<(u32, u32, bool)> = paths::sorted_retainers(snap, analysis, node, &name)
        .into_iter()
        .map(|(e, s)| (e, s, false))
        .collect();
    if show_weak {
        for edge in analysis.retaining_edges(snap, node) {
            let source = analysis.edge_source(snap, edge);
            if snap.edge_kind(edge) == EdgeKind::Weak && source != snap.root {
                edges.push((edge, source, true));
            }
        }
    }
    let total = edges.len();
    let rows = edges
        .into_iter()
        .take(PER_NODE)
        .map(|(edge, source, weak)| TreeRow {
            edge,
            node: source,
            parent: None,
            depth: 0,
            cycled: ancestors.contains(&source),
            weak,
            on_shortest_path: false,
            children: None,
            expanded: false,
            listing: false,
            hidden: 0,
        })
        .collect();
    Listed {
        rows,
        hidden: total.saturating_sub(PER_NODE),
    }
}

/// What the retainer pane holds.
#[derive(Default)]
pub enum TreePane {
    /// No object selected.
    #[default]
    Empty,
    /// A task lists the selected object's retainers.
    Building {
        side: Side,
        node: u32,
    },
    /// The object is in BEFORE, whose analysis has not arrived (or stopped).
    WaitingForBefore {
        node: u32,
    },
    Ready(RetainerTree),
}

impl TreePane {
    pub fn tree(&self) -> Option<&RetainerTree> {
        match self {
            TreePane::Ready(tree) => Some(tree),
            _ => None,
        }
    }

    pub fn tree_mut(&mut self) -> Option<&mut RetainerTree> {
        match self {
            TreePane::Ready(tree) => Some(tree),
            _ => None,
        }
    }
}

/// Draws the pane: the tree, or a spinner while it is built, or `waiting` (why a deleted
/// object's retainers are not there yet; with a spinner while they are `coming`).
pub fn pane(
    ui: &mut egui::Ui,
    pane: &TreePane,
    file: Option<&LoadedFile>,
    show_weak: bool,
    waiting: &str,
    coming: bool,
    out: &mut Vec<Command>,
) {
    match pane {
        TreePane::Empty => {
            ui.weak("Select an object to see what keeps it alive.");
        }
        TreePane::Building { side, node } => {
            if let Some(file) = file {
                header(ui, file, *node, *side, show_weak, out);
            }
            ui.horizontal(|ui| {
                ui.spinner();
                ui.weak("listing retainers…");
            });
        }
        TreePane::WaitingForBefore { node } => {
            if let Some(file) = file {
                header(ui, file, *node, Side::Before, show_weak, out);
            }
            ui.horizontal(|ui| {
                if coming {
                    ui.spinner();
                }
                ui.weak(waiting);
            });
        }
        TreePane::Ready(tree) => show(ui, tree, out),
    }
}

fn header(
    ui: &mut egui::Ui,
    file: &LoadedFile,
    node: u32,
    side: Side,
    show_weak: bool,
    out: &mut Vec<Command>,
) {
    let id = file
        .loaded
        .snapshot
        .node_id
        .get(node as usize)
        .copied()
        .unwrap_or(0);
    ui.horizontal(|ui| {
        ui.strong(format!(
            "Retainers of {} @{id} ({})",
            format::one_line(file.loaded.classes.name_of(node)),
            side.label()
        ));
        let mut weak = show_weak;
        if ui.checkbox(&mut weak, "Show weak edges").changed() {
            out.push(Command::ToggleWeakEdges);
        }
    });
}

/// Draws the tree; clicks become commands.
fn show(ui: &mut egui::Ui, tree: &RetainerTree, out: &mut Vec<Command>) {
    let file = &tree.file;
    header(ui, file, tree.node, tree.side, tree.show_weak, out);
    // DevTools' "Allocation stack", under the tree: room kept for it below the rows.
    let stack_height = if tree.allocation.is_empty() {
        0.0
    } else {
        let line = ui.text_style_height(&egui::TextStyle::Monospace) + 2.0;
        (line * (tree.allocation.len() as f32 + 1.5)).min(ui.available_height() * 0.4)
    };
    if tree.visible.is_empty() {
        ui.label("No retainers: the object is a root or unreachable.");
    } else {
        rows(ui, tree, stack_height, out);
    }
    if !tree.allocation.is_empty() {
        allocation_stack(ui, &tree.allocation);
    }
}

/// The selected object's allocation stack, innermost frame first.
fn allocation_stack(ui: &mut egui::Ui, frames: &[AllocationFrame]) {
    ui.separator();
    ui.strong("Allocation stack");
    egui::ScrollArea::vertical()
        .id_salt("allocation_stack")
        .auto_shrink([false, true])
        .show(ui, |ui| {
            for frame in frames {
                ui.horizontal(|ui| {
                    let function = if frame.function.is_empty() {
                        "(anonymous)"
                    } else {
                        &frame.function
                    };
                    ui.monospace(format::one_line(function));
                    let place = allocation::frame_location(frame);
                    if !place.is_empty() {
                        ui.weak(format::one_line(&place))
                            .on_hover_text(format::one_line(&frame.script));
                    }
                });
            }
        });
}

/// The tree's rows, leaving `below` points of height for what follows.
fn rows(ui: &mut egui::Ui, tree: &RetainerTree, below: f32, out: &mut Vec<Command>) {
    let file = &tree.file;
    let snap = &file.loaded.snapshot;
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    let path_color = if ui.visuals().dark_mode {
        Color32::from_rgb(255, 200, 90)
    } else {
        Color32::from_rgb(170, 90, 0)
    };
    egui::ScrollArea::both()
        .id_salt("retainer_tree")
        .auto_shrink([false, false])
        .max_height((ui.available_height() - below).max(row_height * 3.0))
        .show_rows(ui, row_height, tree.visible.len(), |ui, range| {
            for &i in &tree.visible[range] {
                let row = &tree.rows[i];
                let (edge_name, edge_type, class) = tree.row_text(row);
                // As DevTools' Retainers view shows it (unreachable retainers sort last).
                let distance = paths::distance_for_retainers_view(
                    file.loaded
                        .analysis
                        .distance
                        .get(row.node as usize)
                        .copied()
                        .unwrap_or(0),
                );
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
                    // Closures say where they were created.
                    if let Some(located) = source::of_node(&file.loaded, row.node) {
                        located.show(ui);
                    }
                    if row.weak {
                        ui.weak("weak");
                    }
                    if row.cycled {
                        ui.weak("(cycle)");
                    }
                    if row.expanded && row.hidden > 0 {
                        ui.weak(format!("… {} more", format::thousands(row.hidden as u64)));
                    }
                    if row.listing {
                        ui.spinner();
                        ui.weak("listing retainers…");
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

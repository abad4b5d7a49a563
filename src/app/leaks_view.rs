//! The Leaks view, the first thing a comparison shows: one card per leak group (the engine's
//! `diff::leaks`; a findings file's `leaks`), likely ones first, the others behind a fold and
//! dimmer. Selecting a card shows its path from the holder to the GC roots drawn as a tree, how
//! the holder grew, what the group is made of (a class there jumps to its Comparison row) and
//! its objects (one selects its retainer tree, as in the Classes tab).
//!
//! Everything drawn here was computed by the engine on a worker; a frame formats the visible
//! rows only (objects and composition are virtualised).

use std::sync::Arc;

use eframe::egui;

use egui::{RichText, Sense, TextStyle};

use crate::diff::Comparison;
use crate::format;
use crate::loaded::Loaded;
use crate::pipeline::Side;
use crate::report::{self, Findings, Holder, Leak};

use super::command::Command;
use super::leak_widgets::{badge, composition_bar, composition_table, path_tree, sentence};
use super::model::{Content, NodeGroups, ObjectList};
use super::selection::Instances;
use super::settings::Tab;
use super::source::{self, SourceSnippet};
use super::{HeapdiffApp, retainer_tree};

/// The leak groups of the open comparison, as the view shows them. Built on the worker that
/// loads the comparison (or reopens the findings file).
#[derive(Default)]
pub struct LeakList {
    /// The reported form (strings redacted as in a report), which a findings file holds too.
    pub leaks: Vec<Leak>,
    /// Per group, its entries (after-snapshot ordinals), biggest retained size first; `None`
    /// for a reopened findings file, which has no objects.
    pub entries: Option<Arc<NodeGroups>>,
    /// Per group, its largest entry (after-snapshot ordinal); empty when reopened.
    pub examples: Vec<u32>,
}

impl LeakList {
    /// The groups of a live comparison.
    pub fn live(comparison: &Comparison, after: &Loaded) -> LeakList {
        let groups = &comparison.leaks;
        let retained = &after.analysis.retained_size;
        LeakList {
            leaks: report::leaks(comparison, after, report::ReportOptions::default()),
            entries: Some(Arc::new(NodeGroups::from_lists(
                groups.iter().map(|g| g.entries.as_slice()),
                |n| retained.of(n),
            ))),
            examples: groups.iter().map(|g| g.example).collect(),
        }
    }

    /// The groups of a reopened findings file.
    pub fn reopened(findings: &Findings) -> LeakList {
        LeakList {
            leaks: findings.leaks.clone(),
            entries: None,
            examples: Vec::new(),
        }
    }

    /// Takes in the holders' growth once BEFORE is analysed (their retained size before).
    pub fn set_holders(&mut self, holders: Vec<Option<Holder>>) {
        for (leak, holder) in self.leaks.iter_mut().zip(holders) {
            leak.holder = holder;
        }
    }

    /// The objects of group `i` (empty when reopened).
    pub fn objects(&self, i: usize) -> ObjectList {
        match &self.entries {
            Some(groups) => ObjectList::new(Side::After, groups.clone(), i),
            None => ObjectList::empty(Side::After),
        }
    }

    fn likely_count(&self) -> usize {
        self.leaks.iter().filter(|l| l.likely).count()
    }
}

/// How the holder grew, as the reports say it: `Array @86059 `bus._events.config`: 203 →
/// 1,203 elements; retains 0.5 → 2.8 MiB`.
pub fn holder_growth(leak: &Leak) -> Option<String> {
    let holder = leak.holder.as_ref()?;
    Some(report::text::holder_line(
        holder,
        &leak.expression,
        &|s: &str| format::one_line(s).into_owned(),
    ))
}

impl HeapdiffApp {
    /// Selects a leak group: its objects are listed and the largest is selected (its retainer
    /// tree built by a task), its entry's source shown when the snapshot has it.
    pub(super) fn select_leak(&mut self, i: usize) {
        let Some(list) = self.content.leaks() else {
            return;
        };
        let Some(leak) = list.leaks.get(i) else {
            return;
        };
        let objects = list.objects(i);
        let example = list.examples.get(i).copied();
        let source = match (&self.content, example) {
            (Content::Pair(pair), Some(node)) => {
                let after = &pair.after.loaded;
                let raw = after
                    .snapshot
                    .location(node)
                    .or_else(|| source::class_key_location(&leak.entry.class_key));
                raw.and_then(|raw| SourceSnippet::of(after, raw, entry_name(leak)))
            }
            _ => None,
        };
        self.selection.leak = Some(i);
        self.selection.leak_objects = Instances {
            class_key: String::new(),
            new: objects,
            deleted: ObjectList::empty(Side::After),
        };
        self.selection.source = source;
        if let Some(node) = example {
            self.select_object(Side::After, node);
        }
    }

    /// Shows a class's row in the Classes tab, selected (a composition row was clicked). The
    /// filter is cleared when it hides the row.
    pub(super) fn show_class(&mut self, key: String) {
        let Some(rows) = self.content.compare_rows() else {
            return;
        };
        let Some(row) = rows.iter().position(|r| r.class.class_key == key) else {
            self.status = Some(format!("No Comparison row for {key}"));
            return;
        };
        let shown = |app: &HeapdiffApp| app.visible.rows.iter().any(|&r| r as usize == row);
        if !shown(self) {
            self.settings.filter.clear();
            self.visible.refresh(&self.content, &self.settings);
        }
        if !shown(self) {
            self.settings.hide_internals = false;
            self.visible.refresh(&self.content, &self.settings);
        }
        self.tab = Tab::Table;
        self.select_class(key);
        self.scroll_to_selected = true;
    }

    /// The Leaks tab: the cards on the left, the selected group on the right; its objects and
    /// the selected object's retainers across the bottom, and its entry's source under them.
    pub(super) fn leaks_tab(&self, ui: &mut egui::Ui, out: &mut Vec<Command>) {
        let Some(list) = self.content.leaks() else {
            return;
        };
        if list.leaks.is_empty() {
            ui.add_space(8.0);
            ui.label("No leak groups: nothing new in after is retained by old objects.");
            return;
        }
        let selected = self.selection.leak.filter(|&i| i < list.leaks.len());
        if selected.is_some() {
            if let Some(snippet) = &self.selection.source {
                egui::Panel::bottom("leak_source")
                    .resizable(false)
                    .show(ui, |ui| source::show(ui, snippet));
            }
            egui::Panel::bottom("leak_objects")
                .resizable(true)
                .default_size(ui.available_height() * 0.4)
                .show(ui, |ui| self.leak_objects(ui, list, out));
        }
        egui::Panel::left("leak_cards")
            .resizable(true)
            .default_size(ui.available_width() * 0.34)
            .min_size(240.0)
            .show(ui, |ui| cards(ui, list, self.selection.leak, out));
        let Some((i, leak)) = selected.and_then(|i| list.leaks.get(i).map(|l| (i, l))) else {
            ui.weak(if list.likely_count() == 0 {
                "heapdiff judges none of these groups a leak. Select one to see what it holds."
            } else {
                "Select a group to see its path, its holder and its objects."
            });
            return;
        };
        self.leak_details(ui, i, leak, out);
    }

    /// The selected group: its sentence and holder, its path as a tree beside its composition.
    fn leak_details(&self, ui: &mut egui::Ui, i: usize, leak: &Leak, out: &mut Vec<Command>) {
        ui.horizontal_wrapped(|ui| {
            badge(ui, leak.likely);
            ui.strong(format!("Group {}", i + 1));
            ui.label(format!(
                "· {} entries · {} new objects · keeps {} alive",
                format::thousands(leak.roots),
                format::thousands(leak.new_count),
                format::bytes(leak.retained_size)
            ));
        });
        ui.add(egui::Label::new(sentence(ui, &leak.sentence, true)));
        ui.add_space(2.0);
        match holder_growth(leak) {
            Some(growth) => {
                let note = leak
                    .holder
                    .as_ref()
                    .filter(|h| h.retained_before.is_none())
                    .map(|_| self.before_retained_note());
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new("Holder").strong());
                    ui.add(egui::Label::new(sentence(ui, &growth, false)));
                    if let Some(note) = note {
                        ui.weak(note);
                    }
                });
            }
            None => {
                ui.weak("No single old object holds these entries: a GC root does.");
            }
        }
        // Where they were allocated (tracked snapshots) and what a leaked closure's context
        // holds, as the reports say it.
        if let Some(site) = &leak.allocation_site {
            ui.add(egui::Label::new(sentence(
                ui,
                &report::text::site_line(site),
                false,
            )));
        }
        if let Some(line) = report::text::context_line(&leak.context_variables) {
            ui.add(egui::Label::new(sentence(ui, &line, false)));
        }
        ui.separator();
        // Columns reach to the bottom of the window whatever the panels below take: their
        // contents are bounded by the height left here, less each column's title.
        let title = ui.text_style_height(&TextStyle::Body) + ui.spacing().item_spacing.y;
        let height = (ui.available_height() - title).max(0.0);
        ui.columns(2, |columns| {
            columns[0].strong("Path from the holder to the GC roots");
            egui::ScrollArea::both()
                .id_salt(("leak_path", i))
                .max_height(height)
                .auto_shrink([false, false])
                .show(&mut columns[0], |ui| path_tree(ui, leak));
            columns[1].strong("What it is made of");
            composition_table(&mut columns[1], &leak.composition, height, out);
        });
    }

    /// Why a holder's retained size before is missing.
    fn before_retained_note(&self) -> &'static str {
        match &self.content {
            Content::Pair(pair) => match pair.before_state {
                super::model::BeforeState::Analysing => {
                    "(its size before comes once before is analysed)"
                }
                _ => "(before was not analysed)",
            },
            _ => "",
        }
    }

    /// The group's objects (left) and the selected object's retainers (right).
    fn leak_objects(&self, ui: &mut egui::Ui, list: &LeakList, out: &mut Vec<Command>) {
        if let Content::Findings(view) = &self.content {
            ui.weak(format!(
                "This comparison was reopened from {} without the snapshots. The group's \
                 objects and their retainer trees need them: open {} and {}.",
                view.file_name(),
                view.findings.before.file,
                view.findings.after.file
            ));
            return;
        }
        if list.entries.is_none() {
            return;
        }
        egui::Panel::left("leak_instances")
            .resizable(true)
            .default_size(ui.available_width() * 0.5)
            .show(ui, |ui| {
                let file_of = |side: Side| self.content.file(side);
                super::instances::show(
                    ui,
                    &self.selection.leak_objects,
                    &file_of,
                    self.selection.object,
                    out,
                );
            });
        let file = self
            .selection
            .object
            .and_then(|(side, _)| self.content.file(side));
        retainer_tree::pane(
            ui,
            &self.selection.tree,
            file.map(|f| &**f),
            self.settings.show_weak,
            "",
            false,
            out,
        );
    }
}

fn entry_name(leak: &Leak) -> String {
    let e = &leak.entry;
    if e.name != e.class_name && !e.name.is_empty() {
        e.name.clone()
    } else {
        format!("class {}", e.class_name)
    }
}

/// The card list: likely groups, then the others under a fold (open when none is likely).
fn cards(ui: &mut egui::Ui, list: &LeakList, selected: Option<usize>, out: &mut Vec<Command>) {
    let likely = list.likely_count();
    let others = list.leaks.len() - likely;
    ui.horizontal(|ui| {
        ui.strong(match likely {
            0 => "No likely leak".to_string(),
            1 => "1 likely leak".to_string(),
            n => format!("{n} likely leaks"),
        });
        ui.weak(format!(
            "· {} other group{}",
            format::thousands(others as u64),
            if others == 1 { "" } else { "s" }
        ));
    });
    egui::ScrollArea::vertical()
        .id_salt("leak_cards_scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for (i, leak) in list.leaks.iter().enumerate().filter(|(_, l)| l.likely) {
                card(ui, i, leak, selected == Some(i), out);
            }
            if others == 0 {
                return;
            }
            ui.add_space(4.0);
            egui::CollapsingHeader::new(format!(
                "Other groups of new objects ({})",
                format::thousands(others as u64)
            ))
            .id_salt("leak_others")
            .default_open(likely == 0)
            .show(ui, |ui| {
                ui.weak(
                    "New objects that heapdiff does not judge a leak: churn, caches filled \
                         once, V8's own bookkeeping.",
                );
                ui.multiply_opacity(0.7);
                for (i, leak) in list.leaks.iter().enumerate().filter(|(_, l)| !l.likely) {
                    card(ui, i, leak, selected == Some(i), out);
                }
            });
        });
}

/// One card: its sentence, size and composition bar; a click anywhere selects the group.
fn card(ui: &mut egui::Ui, i: usize, leak: &Leak, selected: bool, out: &mut Vec<Command>) {
    let visuals = ui.visuals();
    let stroke = if selected {
        visuals.selection.stroke
    } else {
        visuals.widgets.noninteractive.bg_stroke
    };
    let fill = if selected {
        visuals.selection.bg_fill.gamma_multiply(0.35)
    } else {
        visuals.faint_bg_color
    };
    let frame = egui::Frame::group(ui.style())
        .fill(fill)
        .stroke(stroke)
        .inner_margin(8.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                badge(ui, leak.likely);
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.strong(format::bytes(leak.retained_size));
                });
            });
            ui.add(egui::Label::new(sentence(ui, &leak.sentence, false)).selectable(false));
            ui.add_space(4.0);
            composition_bar(ui, &leak.composition);
        });
    let response = ui
        .interact(
            frame.response.rect,
            ui.scope_id().with(("leak_card", i)),
            Sense::click(),
        )
        .on_hover_cursor(egui::CursorIcon::PointingHand);
    response.widget_info(|| {
        egui::WidgetInfo::selected(
            egui::Role::Button,
            true,
            selected,
            format!("Leak group {}", i + 1),
        )
    });
    if response.clicked() {
        out.push(Command::SelectLeak(i));
    }
    ui.add_space(6.0);
}

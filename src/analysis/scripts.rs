//! Which file a location is in: the snapshot's `locations` carry a script *id*, and the snapshot
//! itself names the script. A closure's `shared` edge leads to its SharedFunctionInfo, whose
//! `script_or_debug_info` (V8 ≥ 9; `script` before) edge leads to the Script, a node named
//! after the script (`/srv/app/server.js`, `node:internal/timers`, a page's URL) that holds its
//! `source`. Every location of one script shares its id, so one closure per script names all of
//! them (object classes are located at their constructor, itself a closure).

use std::collections::HashMap;

use crate::snapshot::{EdgeKind, Location, NodeKind, Snapshot};

/// A location as people read it: the script's name, line and column counted from 1.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct SourceLocation {
    /// The script's name as the snapshot records it; empty when it has none (an `eval`, or a
    /// snapshot without the script).
    pub script: String,
    pub line: u32,
    pub column: u32,
}

impl SourceLocation {
    /// `server.js:39:26`: the script's file name (not its directories), line and column;
    /// Node's own modules keep their `node:` name.
    pub fn short(&self) -> String {
        let name = file_name(&self.script);
        if name.is_empty() {
            format!("<anonymous>:{}:{}", self.line, self.column)
        } else {
            format!("{name}:{}:{}", self.line, self.column)
        }
    }
}

/// A script's file name without its directories; Node's own modules keep their `node:` name.
pub fn file_name(script: &str) -> &str {
    if script.starts_with("node:") {
        script
    } else {
        script
            .rsplit(['/', '\\'])
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or(script)
    }
}

impl std::fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.short())
    }
}

/// Per script id, its Script node.
#[derive(Debug, Default)]
pub struct ScriptNames {
    script_node: HashMap<u32, u32>,
}

impl ScriptNames {
    /// Finds the Script node of every script id the locations use. O(locations), plus a few
    /// edges per script. Where the file names the Script node itself (`script_object_index`,
    /// Chromium 150+ and Deno) that node is used; other ids go through their closures.
    pub fn new(snap: &Snapshot) -> ScriptNames {
        let mut script_node: HashMap<u32, u32> = snap
            .script_objects
            .iter()
            .filter(|&&(_, node)| is_script(snap, node))
            .copied()
            .collect();
        // Ids tried without success, so a script whose closures all lack the edge costs one
        // attempt per closure at most once each.
        let mut failures: HashMap<u32, u32> = HashMap::new();
        for location in snap.locations.iter() {
            if script_node.contains_key(&location.script_id) {
                continue;
            }
            if snap.node_kind(location.node) != NodeKind::Closure {
                continue;
            }
            let tried = failures.entry(location.script_id).or_insert(0);
            // Closures of one script are all alike; after a few that lead nowhere, the rest
            // will not either.
            if *tried >= 8 {
                continue;
            }
            match script_of_closure(snap, location.node) {
                Some(script) => {
                    script_node.insert(location.script_id, script);
                }
                None => *tried += 1,
            }
        }
        ScriptNames { script_node }
    }

    /// The Script node of a script id, if the snapshot names it.
    pub fn script_node(&self, script_id: u32) -> Option<u32> {
        self.script_node.get(&script_id).copied()
    }

    /// The script's name, empty when unknown.
    pub fn name<'a>(&self, snap: &'a Snapshot, script_id: u32) -> &'a str {
        self.script_node(script_id)
            .map_or("", |node| script_name(snap.node_name(node)))
    }

    /// A raw (0-based) location as people read it.
    pub fn resolve(&self, snap: &Snapshot, location: Location) -> SourceLocation {
        SourceLocation {
            script: self.name(snap, location.script_id).to_string(),
            line: location.line.saturating_add(1),
            column: location.column.saturating_add(1),
        }
    }

    /// The location of `node`, resolved.
    pub fn location_of(&self, snap: &Snapshot, node: u32) -> Option<SourceLocation> {
        snap.location(node).map(|l| self.resolve(snap, l))
    }

    /// A class key's location (DevTools' `"scriptId,line,column,Name"`), resolved; `None` for
    /// keys without one (`",Name"`).
    pub fn class_location(&self, snap: &Snapshot, class_key: &str) -> Option<SourceLocation> {
        let mut fields = class_key.splitn(4, ',');
        let (script, line, column) = (fields.next()?, fields.next()?, fields.next()?);
        fields.next()?;
        let location = Location {
            node: 0,
            script_id: script.parse().ok()?,
            line: line.parse().ok()?,
            column: column.parse().ok()?,
        };
        Some(self.resolve(snap, location))
    }

    /// The source text of a script, when the snapshot holds it (the Script's `source` edge).
    pub fn source<'a>(&self, snap: &'a Snapshot, script_id: u32) -> Option<&'a str> {
        let script = self.script_node(script_id)?;
        let source = named_edge_target(snap, script, "source")?;
        snap.node_kind(source)
            .is_string()
            .then(|| snap.node_name(source))
    }
}

/// closure → `shared` → `script_or_debug_info` (or `script`) → the Script node.
fn script_of_closure(snap: &Snapshot, closure: u32) -> Option<u32> {
    let shared = named_edge_target(snap, closure, "shared")?;
    let script = named_edge_target(snap, shared, "script_or_debug_info")
        .or_else(|| named_edge_target(snap, shared, "script"))?;
    is_script(snap, script).then_some(script)
}

/// Whether `node` looks like a Script: a SharedFunctionInfo without a script points at
/// `undefined` or debug info instead; the Script itself is a code-type node carrying the
/// script's name.
fn is_script(snap: &Snapshot, node: u32) -> bool {
    if node as usize >= snap.node_count() {
        return false;
    }
    let name = script_name(snap.node_name(node));
    !name.is_empty() && !name.starts_with("system / ") && !name.starts_with('(')
}

/// Chromium names a Script node `system / Script / <url>` (`system / Script` when it has
/// none); Node names it by its file.
fn script_name(node_name: &str) -> &str {
    node_name.strip_prefix(CHROMIUM_SCRIPT).unwrap_or(node_name)
}

const CHROMIUM_SCRIPT: &str = "system / Script / ";

/// The target of `node`'s first internal or property edge called `name`.
fn named_edge_target(snap: &Snapshot, node: u32, name: &str) -> Option<u32> {
    if node as usize >= snap.node_count() {
        return None;
    }
    snap.edges(node).find_map(|e| {
        let kind = snap.edge_kind(e);
        (matches!(kind, EdgeKind::Internal | EdgeKind::Property)
            && snap.strings.get(snap.edge_name_index(e)) == name)
            .then(|| snap.edge_to[e as usize])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_drop_directories() {
        let l = SourceLocation {
            script: "/srv/app/ssr-di-leak.js".into(),
            line: 39,
            column: 26,
        };
        assert_eq!(l.short(), "ssr-di-leak.js:39:26");
        let internal = SourceLocation {
            script: "node:internal/timers".into(),
            line: 1,
            column: 2,
        };
        assert_eq!(internal.short(), "node:internal/timers:1:2");
        let none = SourceLocation {
            script: String::new(),
            line: 3,
            column: 4,
        };
        assert_eq!(none.short(), "<anonymous>:3:4");
    }
}

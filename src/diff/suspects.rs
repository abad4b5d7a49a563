//! Leak suspects (draft).

use serde::Serialize;

use super::ClassDiff;
use super::dominance::{OWNER_ROOT, TOP_OF_CLASS};
use super::paths::{MergedPath, PathIndex};
use crate::analysis::NO_DISTANCE;
use crate::loaded::Loaded;
use crate::snapshot::NodeKind;

/// How application-like a class is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// V8 and embedder internals: code, shapes, hidden/system objects, synthetic roots,
    /// strings, numbers, internal arrays.
    Internal,
    /// Generic JavaScript containers and closures: `Object`, `Array`, `Map`, `Function`, …
    Generic,
    /// Everything a program defines or a page builds: constructors, plain-object shapes,
    /// typed arrays, DOM and other embedder objects.
    Application,
}

impl Tier {
    pub fn rank(self) -> u8 {
        self as u8
    }
}

const GENERIC: &[&str] = &[
    "Object",
    "Array",
    "Function",
    "Map",
    "Set",
    "WeakMap",
    "WeakSet",
    "WeakRef",
    "Promise",
    "ArrayBuffer",
    "SharedArrayBuffer",
    "DataView",
    "Arguments",
    "Error",
    "Symbol",
    "Boolean",
    "Number",
    "String",
    "Date",
    "RegExp",
    "FinalizationRegistry",
];

/// The tier of a row, from the kind and name of its new (or, failing that, deleted) objects.
pub fn tier(after: &Loaded, row: &ClassDiff) -> Tier {
    let Some(&node) = row.added.first() else {
        return Tier::Internal;
    };
    let snap = &after.snapshot;
    let name = row.name.strip_prefix("Detached ").unwrap_or(&row.name);
    match snap.node_kind(node) {
        NodeKind::Object => {
            if GENERIC.contains(&name) || name.starts_with('(') || name.starts_with("system / ") {
                Tier::Generic
            } else {
                Tier::Application
            }
        }
        NodeKind::Closure | NodeKind::RegExp => Tier::Generic,
        NodeKind::Native | NodeKind::WasmObject | NodeKind::Other => {
            if name.starts_with("system / ") || name.starts_with('(') {
                Tier::Internal
            } else {
                Tier::Application
            }
        }
        _ => Tier::Internal,
    }
}

/// A likely leak.
#[derive(Clone, Debug, Serialize)]
pub struct Suspect {
    pub class_key: String,
    pub name: String,
    pub added_count: u64,
    pub added_retained_size: u64,
    pub paths: Vec<MergedPath>,
    #[serde(skip)]
    pub row: usize,
    #[serde(skip)]
    pub removed_count: u64,
    #[serde(skip)]
    pub owner_roots: u64,
    #[serde(skip)]
    pub tier: Tier,
    #[serde(skip)]
    pub score: f64,
}

pub(crate) fn rank(
    _before: &Loaded,
    after: &Loaded,
    classes: &[ClassDiff],
    tiers: &[Tier],
    candidates: &[Vec<u32>],
    flags: &[u8],
) -> Vec<Suspect> {
    let mut index = PathIndex::new(after);
    let mut out = Vec::new();
    for (row, c) in classes.iter().enumerate() {
        let nodes: Vec<u32> = candidates[row]
            .iter()
            .copied()
            .filter(|&n| after.analysis.distance[n as usize] != NO_DISTANCE)
            .collect();
        if nodes.len() < 20 {
            continue;
        }
        let owner_roots = nodes
            .iter()
            .filter(|&&n| flags[n as usize] & OWNER_ROOT != 0)
            .count() as u64;
        let retained = nodes
            .iter()
            .filter(|&&n| flags[n as usize] & TOP_OF_CLASS != 0)
            .map(|&n| after.analysis.retained_size[n as usize])
            .sum();
        let mut paths = index.merge(&nodes, &|n| flags[n as usize] & TOP_OF_CLASS != 0);
        let npaths = paths.len();
        paths.truncate(3);
        let sys = nodes
            .iter()
            .filter(|&&n| after.analysis.distance[n as usize] >= 100_000_000)
            .count();
        eprintln!(
            "{:>40} {:?} add={} del={} roots={} ret={} npaths={} top={} sys={}",
            c.name,
            tiers[row],
            candidates[row].len(),
            c.removed_count,
            owner_roots,
            retained,
            npaths,
            paths.first().map_or(0, |p| p.count),
            sys
        );
        out.push(Suspect {
            class_key: c.class_key.clone(),
            name: c.name.clone(),
            added_count: candidates[row].len() as u64,
            added_retained_size: retained,
            paths,
            row,
            removed_count: c.removed_count,
            owner_roots,
            tier: tiers[row],
            score: 0.0,
        });
    }
    out
}

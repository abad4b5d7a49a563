//! What teammates receive: one findings model, rendered as Markdown, HTML or a findings file.
//!
//! Reports never contain string *contents* from the heap unless asked (`include_strings`): a
//! snapshot holds tokens, passwords and customer data. Class names, property names and source
//! locations are kept — they are code, and they are what a reader needs.

pub mod findings;
pub mod html;
pub mod markdown;
pub mod retainers;
pub mod text;

use serde::{Deserialize, Serialize};

use crate::analysis::allocation::AllocationSite;
use crate::analysis::scripts::SourceLocation;
use crate::diff::Comparison;
use crate::loaded::Loaded;
use crate::snapshot::class;

/// Marker and version of the findings schema; bump `VERSION` on any incompatible change.
/// Version 2 added `leaks`, `location` objects and folded path steps (`repeat`); version 1
/// files still open (without leak groups).
pub const FORMAT: &str = "heapdiff-findings";
pub const VERSION: u32 = 2;
pub const OLDEST_VERSION: u32 = 1;

/// One snapshot file as a report describes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileInfo {
    pub file: String,
    pub node_count: u64,
    pub edge_count: u64,
    pub total_size: u64,
    /// Bytes on disk.
    #[serde(default)]
    pub bytes: u64,
    /// Modification time of the file, RFC 3339 (UTC), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// Memory outside the V8 heap the embedder reported (the header's `extra_native_bytes`,
    /// Node 24+), when the file has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_native_bytes: Option<u64>,
}

/// The Comparison's totals, as the diff engine computes them.
pub use crate::diff::Totals;

/// One Comparison row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassRow {
    pub class_key: String,
    pub name: String,
    pub added_count: u64,
    pub removed_count: u64,
    pub count_delta: i64,
    pub added_size: u64,
    pub removed_size: u64,
    pub size_delta: i64,
    pub added_retained_size: u64,
    /// `added_retained_size` as a fraction of the after heap.
    #[serde(default)]
    pub after_share: f64,
    /// Where the class is defined (its constructor), when it has a location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
}

impl ClassRow {
    /// The reported numbers of a Comparison row.
    pub fn of(c: &crate::diff::ClassDiff) -> ClassRow {
        ClassRow {
            class_key: c.class_key.clone(),
            name: c.name.clone(),
            added_count: c.added_count,
            removed_count: c.removed_count,
            count_delta: c.count_delta,
            added_size: c.added_size,
            removed_size: c.removed_size,
            size_delta: c.size_delta,
            added_retained_size: c.added_retained_size,
            after_share: c.after_share,
            location: c.location.clone(),
        }
    }
}

/// One step of a retaining path, chains folded (`repeat`).
pub use crate::diff::PathStep as Step;
pub use crate::diff::leaks::{EntryInfo, GroupPath, Holder, Part};

/// Objects that share one shortest retaining path shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Path {
    pub count: u64,
    pub retained_size: u64,
    /// From the object outwards to a GC root.
    pub steps: Vec<Step>,
    /// One object on this path: its id and display name (string contents redacted unless the
    /// report was made with `include_strings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<Example>,
}

impl Path {
    /// The reported form of a merged path of `after`'s objects.
    pub fn of(p: &crate::diff::MergedPath, after: &Loaded, options: ReportOptions) -> Path {
        Path {
            count: p.count,
            retained_size: p.retained_size,
            steps: p.steps.clone(),
            example: Some(example(after, p.example, options)),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    pub id: u32,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuspectRow {
    pub class_key: String,
    pub name: String,
    pub added_count: u64,
    pub added_retained_size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
    pub paths: Vec<Path>,
}

/// One leak group (see `diff::leaks`): what a finding says, without the snapshots.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Leak {
    pub likely: bool,
    pub roots: u64,
    pub new_count: u64,
    pub retained_size: u64,
    pub sentence: String,
    #[serde(default)]
    pub headline: String,
    #[serde(default)]
    pub expression: String,
    pub entry: EntryInfo,
    pub holder: Option<Holder>,
    pub composition: Vec<Part>,
    pub path: GroupPath,
    pub example: Example,
    /// Where most of the group's entries were allocated (snapshots with allocation traces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation_site: Option<AllocationSite>,
    /// When the example entry is a closure: the variables its Context holds, and (Chromium
    /// 156+) which no live function uses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context_variables: Vec<retainers::ContextVariable>,
}

impl Leak {
    /// The reported form of a leak group of `after`'s objects; `contexts` (when any example is a
    /// closure) gives its closure's context variables.
    pub fn of(
        g: &crate::diff::LeakGroup,
        after: &Loaded,
        contexts: Option<&crate::analysis::contexts::ContextAnalysis>,
        options: ReportOptions,
    ) -> Leak {
        Leak {
            likely: g.likely,
            roots: g.roots,
            new_count: g.new_count,
            retained_size: g.retained_size,
            sentence: g.sentence.clone(),
            headline: g.headline.clone(),
            expression: g.expression.clone(),
            entry: g.entry.clone(),
            holder: g.holder.clone(),
            composition: g.composition.clone(),
            path: g.path.clone(),
            example: example(after, g.example, options),
            allocation_site: g.allocation_site.clone(),
            context_variables: contexts
                .map(|c| retainers::context_variables(after, c, g.example))
                .unwrap_or_default(),
        }
    }
}

/// The reported form of a comparison's leak groups (what the findings and the window's Leaks
/// view show).
pub fn leaks(comparison: &Comparison, after: &Loaded, options: ReportOptions) -> Vec<Leak> {
    // Made once, and only when an example is a closure or a Context.
    let contexts = comparison
        .leaks
        .iter()
        .any(|g| crate::analysis::contexts::context_of(&after.snapshot, g.example).is_some())
        .then(|| crate::analysis::contexts::ContextAnalysis::new(&after.snapshot));
    comparison
        .leaks
        .iter()
        .map(|g| Leak::of(g, after, contexts.as_ref(), options))
        .collect()
}

/// Everything a report shows, and what `heapdiff diff --format json` prints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Findings {
    pub format: String,
    pub version: u32,
    pub generator: String,
    /// Whether string contents were included (`--include-strings`).
    pub strings_included: bool,
    pub before: FileInfo,
    pub after: FileInfo,
    #[serde(rename = "final", default, skip_serializing_if = "Option::is_none")]
    pub final_: Option<FileInfo>,
    /// What the reader must know before trusting the numbers: runtime quirks of the files and
    /// the Comparison's own (ids that do not carry over), one sentence each. Empty in files
    /// written before heapdiff named them.
    #[serde(default)]
    pub warnings: Vec<String>,
    pub totals: Totals,
    /// One finding per leak, likely ones first.
    #[serde(default)]
    pub leaks: Vec<Leak>,
    pub classes: Vec<ClassRow>,
    pub suspects: Vec<SuspectRow>,
}

/// Options that change what a report may contain.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReportOptions {
    pub include_strings: bool,
}

/// Describes one loaded file.
pub fn file_info(loaded: &Loaded) -> FileInfo {
    let s = &loaded.snapshot;
    let modified = s.modified.map(rfc3339);
    FileInfo {
        file: s.file_name.clone(),
        node_count: s.node_count() as u64,
        edge_count: loaded.edge_count() as u64,
        total_size: loaded.total_size(),
        bytes: s.file_bytes,
        modified,
        extra_native_bytes: s.extra_native_bytes,
    }
}

/// Builds the findings of a comparison of `before`, `after` and (three-snapshot mode) `final_`.
pub fn build(
    comparison: &Comparison,
    before: &Loaded,
    after: &Loaded,
    final_: Option<&Loaded>,
    options: ReportOptions,
) -> Findings {
    let classes = comparison.classes.iter().map(ClassRow::of).collect();
    let suspects = comparison
        .suspects
        .iter()
        .map(|s| SuspectRow {
            class_key: s.class_key.clone(),
            name: s.name.clone(),
            added_count: s.added_count,
            added_retained_size: s.added_retained_size,
            location: comparison
                .classes
                .get(s.row)
                .and_then(|c| c.location.clone()),
            paths: s
                .paths
                .iter()
                .map(|p| Path::of(p, after, options))
                .collect(),
        })
        .collect();
    let leaks = leaks(comparison, after, options);
    Findings {
        format: FORMAT.to_string(),
        version: VERSION,
        generator: format!("heapdiff {}", env!("CARGO_PKG_VERSION")),
        strings_included: options.include_strings,
        before: file_info(before),
        after: file_info(after),
        final_: final_.map(file_info),
        warnings: comparison.warnings.clone(),
        totals: comparison.totals,
        leaks,
        classes,
        suspects,
    }
}

/// An object's id and display name, with the contents of string nodes redacted.
fn example(after: &Loaded, node: u32, options: ReportOptions) -> Example {
    let s = &after.snapshot;
    let dom = after.classes.dom();
    let name = if s.node_kind(node).is_string() && !options.include_strings {
        redacted(s.node_name(node))
    } else {
        class::display_name(s, dom, node).into_owned()
    };
    Example {
        id: s.node_id[node as usize],
        name,
    }
}

/// The totals in one line: `31,992 new, 847 deleted (+31,145); 2.7 MiB allocated, 121.2 KiB
/// freed (+2.6 MiB)` — the same words in the terminal, Markdown and HTML; with `; outside the
/// V8 heap +1.2 MiB` when both files report memory outside the V8 heap.
pub fn change_line(t: &Totals) -> String {
    use crate::format;
    let mut line = format!(
        "{} new, {} deleted ({}); {} allocated, {} freed ({})",
        format::thousands(t.added_count),
        format::thousands(t.removed_count),
        format::signed_thousands(t.count_delta),
        format::bytes(t.added_size),
        format::bytes(t.removed_size),
        format::signed_bytes(t.size_delta)
    );
    if let Some(native) = t.extra_native_bytes_delta {
        line.push_str(&format!(
            "; outside the V8 heap {}",
            format::signed_bytes(native)
        ));
    }
    line
}

/// What stands in for a string's contents: its length only.
pub fn redacted(s: &str) -> String {
    format!("<redacted string, {} chars>", s.chars().count())
}

/// Formats a time as RFC 3339 in UTC without pulling in a date crate.
fn rfc3339(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm), valid for the whole proleptic Gregorian range.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000);
        assert_eq!(rfc3339(t), "2026-11-18T11:06:40Z");
        assert_eq!(rfc3339(std::time::UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }
}
